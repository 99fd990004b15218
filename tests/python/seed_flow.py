"""The seed documents' flow with the official yandexcloud SDK's generated stubs (plaintext).

Usage: seed_flow.py <host:port>

Stop an instance, AttachNetworkInterface (seed 001/002), AddOneToOneNat with a reserved static
address (seed 000), then InstanceService.Get; checks the Operation (metadata type URL and fields,
done, response unpacked as Instance) and the new interface: MAC, address, NAT address, DNS records.
"""
import sys
import time

import grpc
from yandex.cloud.compute.v1 import instance_pb2
from yandex.cloud.compute.v1 import instance_service_pb2 as isvc
from yandex.cloud.compute.v1.instance_service_pb2_grpc import InstanceServiceStub
from yandex.cloud.operation import operation_service_pb2 as osvc
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub
from yandex.cloud.vpc.v1 import address_pb2, network_pb2, security_group_pb2, subnet_pb2
from yandex.cloud.vpc.v1 import address_service_pb2 as asvc
from yandex.cloud.vpc.v1 import network_service_pb2 as nsvc
from yandex.cloud.vpc.v1 import security_group_service_pb2 as gsvc
from yandex.cloud.vpc.v1 import subnet_service_pb2 as ssvc
from yandex.cloud.vpc.v1.address_service_pb2_grpc import AddressServiceStub
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub
from yandex.cloud.vpc.v1.security_group_service_pb2_grpc import SecurityGroupServiceStub
from yandex.cloud.vpc.v1.subnet_service_pb2_grpc import SubnetServiceStub

FOLDER = "b1gseedfolder000000"
ZONE = "ru-central1-a"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def wait(ops, op):
    deadline = time.monotonic() + 10
    while not op.done:
        check(time.monotonic() < deadline, f"operation {op.id} not done in time")
        time.sleep(0.01)
        op = ops.Get(osvc.GetOperationRequest(operation_id=op.id))
    check(op.WhichOneof("result") == "response", f"operation {op.id} failed: {op.error}")
    return op


def result(ops, op, message):
    out = message()
    check(wait(ops, op).response.Unpack(out), f"response of {op.id} is not {message.DESCRIPTOR.full_name}")
    return out


def main():
    ch = grpc.insecure_channel(sys.argv[1])
    ops, instances = OperationServiceStub(ch), InstanceServiceStub(ch)
    net = result(ops, NetworkServiceStub(ch).Create(nsvc.CreateNetworkRequest(folder_id=FOLDER, name="seed-net")), network_pb2.Network)
    subnets = SubnetServiceStub(ch)
    first = result(ops, subnets.Create(ssvc.CreateSubnetRequest(folder_id=FOLDER, network_id=net.id, zone_id=ZONE, v4_cidr_blocks=["10.10.0.0/24"])), subnet_pb2.Subnet)
    second = result(ops, subnets.Create(ssvc.CreateSubnetRequest(folder_id=FOLDER, network_id=net.id, zone_id=ZONE, v4_cidr_blocks=["10.20.0.0/24"])), subnet_pb2.Subnet)
    group = result(ops, SecurityGroupServiceStub(ch).Create(gsvc.CreateSecurityGroupRequest(folder_id=FOLDER, name="seed-sg", network_id=net.id)), security_group_pb2.SecurityGroup)
    static = result(
        ops,
        AddressServiceStub(ch).Create(
            asvc.CreateAddressRequest(folder_id=FOLDER, external_ipv4_address_spec=asvc.ExternalIpv4AddressSpec(zone_id=ZONE))
        ),
        address_pb2.Address,
    )
    vm = result(
        ops,
        instances.Create(
            isvc.CreateInstanceRequest(
                folder_id=FOLDER, name="seed-vm", zone_id=ZONE, platform_id="standard-v3",
                resources_spec=isvc.ResourcesSpec(memory=2 * 2**30, cores=2),
                boot_disk_spec=isvc.AttachedDiskSpec(disk_spec=isvc.AttachedDiskSpec.DiskSpec(size=10 * 2**30, image_id="fd85u0rct32prepgjlv0")),
                network_interface_specs=[isvc.NetworkInterfaceSpec(subnet_id=first.id)],
            )
        ),
        instance_pb2.Instance,
    )
    wait(ops, instances.Stop(isvc.StopInstanceRequest(instance_id=vm.id)))

    op = instances.AttachNetworkInterface(
        isvc.AttachInstanceNetworkInterfaceRequest(
            instance_id=vm.id,
            network_interface_index="1",
            subnet_id=second.id,
            primary_v4_address_spec=isvc.PrimaryAddressSpec(
                address="10.20.0.15",
                dns_record_specs=[isvc.DnsRecordSpec(fqdn="seed-vm-eth1.", ttl=300, ptr=True)],
            ),
            security_group_ids=[group.id],
        )
    )
    check(op.metadata.type_url == "type.googleapis.com/yandex.cloud.compute.v1.AttachInstanceNetworkInterfaceMetadata", op.metadata.type_url)
    meta = isvc.AttachInstanceNetworkInterfaceMetadata()
    op.metadata.Unpack(meta)
    check((meta.instance_id, meta.network_interface_index) == (vm.id, "1"), str(meta))
    done = wait(ops, op)
    check(done.done and done.response.type_url == "type.googleapis.com/yandex.cloud.compute.v1.Instance", str(done))
    attached = instance_pb2.Instance()
    done.response.Unpack(attached)
    nic = [n for n in attached.network_interfaces if n.index == "1"][0]
    check(len(nic.mac_address) == 17 and nic.mac_address != attached.network_interfaces[0].mac_address, nic.mac_address)
    check(nic.subnet_id == second.id and list(nic.security_group_ids) == [group.id], str(nic))
    check(nic.primary_v4_address.address == "10.20.0.15", str(nic))
    record = nic.primary_v4_address.dns_records[0]
    check((record.fqdn, record.ttl, record.ptr) == ("seed-vm-eth1.", 300, True), str(record))

    public = static.external_ipv4_address.address
    op = instances.AddOneToOneNat(
        isvc.AddInstanceOneToOneNatRequest(
            instance_id=vm.id, network_interface_index="1",
            one_to_one_nat_spec=isvc.OneToOneNatSpec(ip_version=instance_pb2.IPV4, address=public),
        )
    )
    check(op.metadata.type_url == "type.googleapis.com/yandex.cloud.compute.v1.AddInstanceOneToOneNatMetadata", op.metadata.type_url)
    with_nat = result(ops, op, instance_pb2.Instance)
    got = instances.Get(isvc.GetInstanceRequest(instance_id=vm.id))
    check(got == with_nat, "Get shows what the operation returned")
    nat = [n for n in got.network_interfaces if n.index == "1"][0].primary_v4_address.one_to_one_nat
    check(nat.address == public and nat.ip_version == instance_pb2.IPV4, str(nat))
    check(got.status == instance_pb2.Instance.STOPPED, str(got.status))

    try:
        instances.AttachNetworkInterface(
            isvc.AttachInstanceNetworkInterfaceRequest(instance_id=vm.id, network_interface_index="1", subnet_id=second.id, security_group_ids=[group.id])
        )
        raise AssertionError("a taken index must be refused")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.ALREADY_EXISTS, f"{e.code()}: {e.details()}")
    print("seed flow: OK")


if __name__ == "__main__":
    main()
