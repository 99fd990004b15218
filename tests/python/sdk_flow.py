"""The official yandexcloud SDK's generated stubs, over a plaintext channel, against netplane.

Usage: sdk_flow.py <host:port>

Creates a network, a subnet and an instance, waits on each operation, and checks the Instance
read back against the fields of the seed document's schema.
"""
import sys
import time

import grpc
from google.protobuf import empty_pb2
from yandex.cloud.compute.v1 import instance_pb2
from yandex.cloud.compute.v1 import instance_service_pb2 as isvc
from yandex.cloud.compute.v1.instance_service_pb2_grpc import InstanceServiceStub
from yandex.cloud.operation import operation_service_pb2 as osvc
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub
from yandex.cloud.vpc.v1 import network_pb2, subnet_pb2
from yandex.cloud.vpc.v1 import network_service_pb2 as nsvc
from yandex.cloud.vpc.v1 import subnet_service_pb2 as ssvc
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub
from yandex.cloud.vpc.v1.subnet_service_pb2_grpc import SubnetServiceStub

FOLDER = "b1gsdkfolder0000000"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def wait(ops, op, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not op.done:
        check(time.monotonic() < deadline, f"operation {op.id} not done in time")
        time.sleep(0.01)
        op = ops.Get(osvc.GetOperationRequest(operation_id=op.id))
    check(op.WhichOneof("result") == "response", f"operation {op.id} failed: {op.error}")
    return op


def main():
    channel = grpc.insecure_channel(sys.argv[1])
    ops = OperationServiceStub(channel)
    networks, subnets, instances = NetworkServiceStub(channel), SubnetServiceStub(channel), InstanceServiceStub(channel)

    op, call = networks.Create.with_call(
        nsvc.CreateNetworkRequest(folder_id=FOLDER, name="sdk-net"), metadata=[("x-request-id", "sdk-req-1")]
    )
    headers = dict(call.initial_metadata())
    check(headers.get("x-request-id") == "sdk-req-1", f"x-request-id not echoed: {headers}")
    check(headers.get("x-server-request-id"), "no x-server-request-id")
    meta = nsvc.CreateNetworkMetadata()
    check(op.metadata.Unpack(meta), f"metadata is {op.metadata.type_url}")
    network = network_pb2.Network()
    wait(ops, op).response.Unpack(network)
    check(network.id == meta.network_id and network.name == "sdk-net", str(network))

    op = subnets.Create(
        ssvc.CreateSubnetRequest(folder_id=FOLDER, network_id=network.id, zone_id="ru-central1-a", v4_cidr_blocks=["192.168.10.0/24"])
    )
    subnet = subnet_pb2.Subnet()
    wait(ops, op).response.Unpack(subnet)
    check(list(subnet.v4_cidr_blocks) == ["192.168.10.0/24"], str(subnet))

    op = instances.Create(
        isvc.CreateInstanceRequest(
            folder_id=FOLDER,
            name="sdk-vm",
            zone_id="ru-central1-a",
            platform_id="standard-v3",
            resources_spec=isvc.ResourcesSpec(memory=2 * 2**30, cores=2, core_fraction=20),
            boot_disk_spec=isvc.AttachedDiskSpec(
                auto_delete=True, disk_spec=isvc.AttachedDiskSpec.DiskSpec(size=20 * 2**30, image_id="fd85u0rct32prepgjlv0")
            ),
            network_interface_specs=[
                isvc.NetworkInterfaceSpec(
                    subnet_id=subnet.id,
                    primary_v4_address_spec=isvc.PrimaryAddressSpec(
                        address="192.168.10.20",
                        one_to_one_nat_spec=isvc.OneToOneNatSpec(ip_version=instance_pb2.IPV4),
                        dns_record_specs=[isvc.DnsRecordSpec(fqdn="sdk-vm.internal.", ttl=300, ptr=True)],
                    ),
                )
            ],
        )
    )
    check(op.metadata.Is(isvc.CreateInstanceMetadata.DESCRIPTOR), op.metadata.type_url)
    instance = instance_pb2.Instance()
    wait(ops, op).response.Unpack(instance)

    got = instances.Get(isvc.GetInstanceRequest(instance_id=instance.id))
    check(got == instance, "Get returns what the operation returned")
    check(got.status == instance_pb2.Instance.RUNNING, f"status {got.status}")
    check(got.folder_id == FOLDER and got.zone_id == "ru-central1-a" and got.platform_id == "standard-v3", str(got))
    check(got.created_at.seconds > 0, "created_at")
    check(got.resources.memory == 2 * 2**30 and got.resources.cores == 2 and got.resources.core_fraction == 20, str(got.resources))
    check(got.boot_disk.auto_delete and got.boot_disk.disk_id, str(got.boot_disk))
    check(got.fqdn == f"{got.id}.auto.internal", got.fqdn)
    nic = got.network_interfaces[0]
    check(nic.index == "0" and nic.subnet_id == subnet.id and len(nic.mac_address) == 17, str(nic))
    check(nic.primary_v4_address.address == "192.168.10.20", str(nic))
    check(nic.primary_v4_address.one_to_one_nat.address, "NAT address")
    check(nic.primary_v4_address.one_to_one_nat.ip_version == instance_pb2.IPV4, "NAT ip version")
    record = nic.primary_v4_address.dns_records[0]
    check((record.fqdn, record.ttl, record.ptr) == ("sdk-vm.internal.", 300, True), str(record))

    op = instances.Stop(isvc.StopInstanceRequest(instance_id=instance.id))
    wait(ops, op).response.Unpack(empty_pb2.Empty())
    listed = instances.List(isvc.ListInstancesRequest(folder_id=FOLDER, filter='status = "STOPPED"'))
    check([i.id for i in listed.instances] == [instance.id], str(listed))

    try:
        instances.Get(isvc.GetInstanceRequest(instance_id="fhmmissing0000000000"))
        raise AssertionError("expected NOT_FOUND")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.NOT_FOUND, str(e))
    print("sdk flow: OK")


if __name__ == "__main__":
    main()
