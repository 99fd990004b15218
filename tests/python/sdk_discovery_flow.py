"""The official yandexcloud SDK, unmodified and configured as for the real cloud, against netplane:
TLS, endpoint discovery, an OAuth token exchanged for an IAM token through IamTokenService, and the
SDK's own operation waiter for every long-running call.

Usage: sdk_discovery_flow.py <host:port> <ca.pem> <oauth token> <folder id> <expected subject>

Creates a network, two subnets, a security group and an instance, stops it, attaches a second
interface, reserves an address, adds one-to-one NAT with it and reads the instance back.
"""
import sys

import yandexcloud
from yandex.cloud.compute.v1 import instance_pb2
from yandex.cloud.compute.v1 import instance_service_pb2 as isvc
from yandex.cloud.compute.v1.instance_service_pb2_grpc import InstanceServiceStub
from yandex.cloud.vpc.v1 import address_pb2, network_pb2, security_group_pb2, subnet_pb2
from yandex.cloud.vpc.v1 import address_service_pb2 as asvc
from yandex.cloud.vpc.v1 import network_service_pb2 as nsvc
from yandex.cloud.vpc.v1 import security_group_service_pb2 as sgsvc
from yandex.cloud.vpc.v1 import subnet_service_pb2 as ssvc
from yandex.cloud.vpc.v1.address_service_pb2_grpc import AddressServiceStub
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub
from yandex.cloud.vpc.v1.security_group_service_pb2_grpc import SecurityGroupServiceStub
from yandex.cloud.vpc.v1.subnet_service_pb2_grpc import SubnetServiceStub

ZONE = "ru-central1-a"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    endpoint, ca, oauth, folder, subject = sys.argv[1:6]
    with open(ca, "rb") as f:
        sdk = yandexcloud.SDK(token=oauth, endpoint=endpoint, root_certificates=f.read())

    def run(request, service, method, response_type, meta_type):
        result = sdk.create_operation_and_get_result(
            request, service=service, method_name=method, response_type=response_type, meta_type=meta_type, timeout=30
        )
        check(result.operation.created_by == subject, f"created_by {result.operation.created_by!r}, expected {subject!r}")
        return result.response

    network = run(nsvc.CreateNetworkRequest(folder_id=folder, name="sdk-tls-net"), NetworkServiceStub, "Create",
                  network_pb2.Network, nsvc.CreateNetworkMetadata)

    def subnet(cidr):
        request = ssvc.CreateSubnetRequest(folder_id=folder, network_id=network.id, zone_id=ZONE, v4_cidr_blocks=[cidr])
        return run(request, SubnetServiceStub, "Create", subnet_pb2.Subnet, ssvc.CreateSubnetMetadata)

    first, second = subnet("10.60.0.0/24"), subnet("10.61.0.0/24")
    group = run(sgsvc.CreateSecurityGroupRequest(folder_id=folder, network_id=network.id, name="sdk-sg"),
                SecurityGroupServiceStub, "Create", security_group_pb2.SecurityGroup, sgsvc.CreateSecurityGroupMetadata)
    create = isvc.CreateInstanceRequest(
        folder_id=folder, name="sdk-tls-vm", zone_id=ZONE, platform_id="standard-v3",
        resources_spec=isvc.ResourcesSpec(memory=2 << 30, cores=2),
        boot_disk_spec=isvc.AttachedDiskSpec(disk_spec=isvc.AttachedDiskSpec.DiskSpec(size=10 << 30, image_id="fd85u0rct32prepgjlv0")),
        network_interface_specs=[isvc.NetworkInterfaceSpec(subnet_id=first.id, primary_v4_address_spec=isvc.PrimaryAddressSpec())],
    )
    instance = run(create, InstanceServiceStub, "Create", instance_pb2.Instance, isvc.CreateInstanceMetadata)
    check(instance.status == instance_pb2.Instance.RUNNING, f"status {instance.status}")
    run(isvc.StopInstanceRequest(instance_id=instance.id), InstanceServiceStub, "Stop", None, isvc.StopInstanceMetadata)
    attach = isvc.AttachInstanceNetworkInterfaceRequest(
        instance_id=instance.id, network_interface_index="1", subnet_id=second.id,
        primary_v4_address_spec=isvc.PrimaryAddressSpec(address="10.61.0.10"), security_group_ids=[group.id],
    )
    run(attach, InstanceServiceStub, "AttachNetworkInterface", instance_pb2.Instance, isvc.AttachInstanceNetworkInterfaceMetadata)
    address = run(asvc.CreateAddressRequest(folder_id=folder, external_ipv4_address_spec=asvc.ExternalIpv4AddressSpec(zone_id=ZONE)),
                  AddressServiceStub, "Create", address_pb2.Address, asvc.CreateAddressMetadata)
    nat = isvc.AddInstanceOneToOneNatRequest(
        instance_id=instance.id, network_interface_index="1", internal_address="10.61.0.10",
        one_to_one_nat_spec=isvc.OneToOneNatSpec(ip_version=instance_pb2.IPV4, address=address.external_ipv4_address.address),
    )
    run(nat, InstanceServiceStub, "AddOneToOneNat", instance_pb2.Instance, isvc.AddInstanceOneToOneNatMetadata)

    got = sdk.client(InstanceServiceStub).Get(isvc.GetInstanceRequest(instance_id=instance.id))
    check(got.status == instance_pb2.Instance.STOPPED, f"status {got.status}")
    nic = got.network_interfaces[1]
    check(nic.index == "1" and nic.subnet_id == second.id, f"interface {nic}")
    check(nic.primary_v4_address.address == "10.61.0.10", f"address {nic.primary_v4_address}")
    check(nic.primary_v4_address.one_to_one_nat.address == address.external_ipv4_address.address, f"nat {nic}")
    check(list(nic.security_group_ids) == [group.id], f"groups {nic.security_group_ids}")
    print("ok", instance.id)


if __name__ == "__main__":
    main()
