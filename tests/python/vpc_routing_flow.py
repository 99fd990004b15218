"""The yandex Terraform provider's VPC sequences with the official SDK's stubs (metadata and
response types checked as the Go SDK v2 does).

Usage: vpc_routing_flow.py <host:port> <admin IAM token> <IAM token of a caller limited to FOLDER>

gateway → route table (a bad prefix refused) → subnet with route_table_id → ListRouteTables →
route table delete refused while used; the default security group present on a new network, its
rules replaced by Update, a rule's description changed by UpdateRule, the group gone with its
network; an internal address reserved, listed by subnet, refused twice and freed; CIDR blocks
added and removed; a move across folders, refused for a caller limited to one folder.
"""
import sys

import grpc
from google.protobuf import empty_pb2, field_mask_pb2
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from yandex.cloud.vpc.v1 import address_pb2, gateway_pb2, network_pb2, route_table_pb2, security_group_pb2, subnet_pb2
from yandex.cloud.vpc.v1 import address_service_pb2 as asvc
from yandex.cloud.vpc.v1 import gateway_service_pb2 as gsvc
from yandex.cloud.vpc.v1 import network_service_pb2 as nsvc
from yandex.cloud.vpc.v1 import route_table_service_pb2 as rsvc
from yandex.cloud.vpc.v1 import security_group_service_pb2 as sgsvc
from yandex.cloud.vpc.v1 import subnet_service_pb2 as ssvc
from yandex.cloud.vpc.v1.address_service_pb2_grpc import AddressServiceStub
from yandex.cloud.vpc.v1.gateway_service_pb2_grpc import GatewayServiceStub
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub
from yandex.cloud.vpc.v1.route_table_service_pb2_grpc import RouteTableServiceStub
from yandex.cloud.vpc.v1.security_group_service_pb2_grpc import SecurityGroupServiceStub
from yandex.cloud.vpc.v1.subnet_service_pb2_grpc import SubnetServiceStub

from operations import check, refused, wait  # a sibling module: what every flow shares

FOLDER = "b1groutefolder00000"


class Bearer(grpc.UnaryUnaryClientInterceptor):
    """Sends an IAM token with every call, as the SDK's credentials do."""

    def __init__(self, token):
        self.token = token

    def intercept_unary_unary(self, continuation, details, request):
        metadata = list(details.metadata or []) + [("authorization", f"Bearer {self.token}")]
        return continuation(_Details(details, metadata), request)


class _Details(grpc.ClientCallDetails):
    def __init__(self, details, metadata):
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = getattr(details, "wait_for_ready", None)
        self.compression = getattr(details, "compression", None)


def main():
    raw = grpc.insecure_channel(sys.argv[1])
    channel = grpc.intercept_channel(raw, Bearer(sys.argv[2]))
    limited = grpc.intercept_channel(raw, Bearer(sys.argv[3]))
    ops = OperationServiceStub(channel)
    networks, subnets = NetworkServiceStub(channel), SubnetServiceStub(channel)
    gateways, tables, groups = GatewayServiceStub(channel), RouteTableServiceStub(channel), SecurityGroupServiceStub(channel)

    # yandex_vpc_network: its default security group comes with it.
    meta, network = wait(ops, networks.Create(nsvc.CreateNetworkRequest(folder_id=FOLDER, name="tf-net")), nsvc.CreateNetworkMetadata, network_pb2.Network)
    network = networks.Get(nsvc.GetNetworkRequest(network_id=meta.network_id))
    check(network.default_security_group_id, "no default security group")
    default = groups.Get(sgsvc.GetSecurityGroupRequest(security_group_id=network.default_security_group_id))
    check(default.default_for_network and default.network_id == network.id, str(default))
    check(sorted(r.direction for r in default.rules) == [security_group_pb2.SecurityGroupRule.INGRESS, security_group_pb2.SecurityGroupRule.EGRESS], str(default))
    refused(lambda: groups.Delete(sgsvc.DeleteSecurityGroupRequest(security_group_id=default.id)), grpc.StatusCode.FAILED_PRECONDITION)

    # yandex_vpc_default_security_group: Update with labels, description and the full rule list.
    ssh = sgsvc.SecurityGroupRuleSpec(
        direction=security_group_pb2.SecurityGroupRule.INGRESS,
        ports=security_group_pb2.PortRange(from_port=22, to_port=22),
        protocol_name="TCP",
        cidr_blocks=security_group_pb2.CidrBlocks(v4_cidr_blocks=["10.0.0.0/8"]),
        description="ssh",
    )
    update = sgsvc.UpdateSecurityGroupRequest(
        security_group_id=default.id,
        update_mask=field_mask_pb2.FieldMask(paths=["labels", "description", "rule_specs"]),
        labels={},
        description="managed",
        rule_specs=[ssh],
    )
    _, default = wait(ops, groups.Update(update), sgsvc.UpdateSecurityGroupMetadata, security_group_pb2.SecurityGroup)
    check([(r.description, r.ports.from_port) for r in default.rules] == [("ssh", 22)], str(default.rules))

    # yandex_vpc_security_group_rule: UpdateRule changes the description only.
    rule_update = sgsvc.UpdateSecurityGroupRuleRequest(
        security_group_id=default.id, rule_id=default.rules[0].id, update_mask=field_mask_pb2.FieldMask(paths=["description"]), description="ssh from the office"
    )
    meta, rule = wait(ops, groups.UpdateRule(rule_update), sgsvc.UpdateSecurityGroupRuleMetadata, security_group_pb2.SecurityGroupRule)
    check(meta.rule_id == rule.id and rule.description == "ssh from the office" and rule.ports.to_port == 22, str(rule))

    # yandex_vpc_gateway: shared_egress_gateway always present.
    create = gsvc.CreateGatewayRequest(folder_id=FOLDER, name="egress", shared_egress_gateway_spec=gsvc.SharedEgressGatewaySpec())
    meta, gateway = wait(ops, gateways.Create(create), gsvc.CreateGatewayMetadata, gateway_pb2.Gateway)
    check(gateway.id == meta.gateway_id and gateway.HasField("shared_egress_gateway"), str(gateway))

    # yandex_vpc_route_table: a bad prefix and a public next hop are refused, then the real one.
    route = lambda prefix, **hop: route_table_pb2.StaticRoute(destination_prefix=prefix, **hop)
    bad = rsvc.CreateRouteTableRequest(folder_id=FOLDER, network_id=network.id, static_routes=[route("10.0.0.0/33", next_hop_address="10.0.0.5")])
    refused(lambda: tables.Create(bad), grpc.StatusCode.INVALID_ARGUMENT, "static_routes[0].destination_prefix")
    public_hop = rsvc.CreateRouteTableRequest(folder_id=FOLDER, network_id=network.id, static_routes=[route("10.1.0.0/16", next_hop_address="8.8.8.8")])
    refused(lambda: tables.Create(public_hop), grpc.StatusCode.INVALID_ARGUMENT, "does not belong to allowed range")
    create = rsvc.CreateRouteTableRequest(
        folder_id=FOLDER, name="egress-rt", network_id=network.id, static_routes=[route("0.0.0.0/0", gateway_id=gateway.id)]
    )
    meta, table = wait(ops, tables.Create(create), rsvc.CreateRouteTableMetadata, route_table_pb2.RouteTable)
    check(table.static_routes[0].gateway_id == gateway.id, str(table))
    refused(lambda: gateways.Delete(gsvc.DeleteGatewayRequest(gateway_id=gateway.id)), grpc.StatusCode.FAILED_PRECONDITION)

    # yandex_vpc_subnet with route_table_id.
    create = ssvc.CreateSubnetRequest(
        folder_id=FOLDER,
        network_id=network.id,
        zone_id="ru-central1-a",
        v4_cidr_blocks=["10.40.0.0/24"],
        route_table_id=table.id,
        dhcp_options=subnet_pb2.DhcpOptions(domain_name="corp.internal", domain_name_servers=["10.40.0.2"], ntp_servers=["10.40.0.3"]),
    )
    _, subnet = wait(ops, subnets.Create(create), ssvc.CreateSubnetMetadata, subnet_pb2.Subnet)
    check(subnet.route_table_id == table.id, str(subnet))
    read = subnets.Get(ssvc.GetSubnetRequest(subnet_id=subnet.id))
    check(read.dhcp_options.domain_name == "corp.internal" and list(read.dhcp_options.ntp_servers) == ["10.40.0.3"], str(read))
    listed = networks.ListRouteTables(nsvc.ListNetworkRouteTablesRequest(network_id=network.id)).route_tables
    check([t.id for t in listed] == [table.id], str(listed))
    refused(lambda: tables.Delete(rsvc.DeleteRouteTableRequest(route_table_id=table.id)), grpc.StatusCode.FAILED_PRECONDITION)

    # Unlink (route_table_id "" with its mask), then the table and the gateway can go.
    unlink = ssvc.UpdateSubnetRequest(subnet_id=subnet.id, update_mask=field_mask_pb2.FieldMask(paths=["route_table_id"]), route_table_id="")
    _, subnet = wait(ops, subnets.Update(unlink), ssvc.UpdateSubnetMetadata, subnet_pb2.Subnet)
    check(subnet.route_table_id == "", str(subnet))
    wait(ops, tables.Delete(rsvc.DeleteRouteTableRequest(route_table_id=table.id)), rsvc.DeleteRouteTableMetadata, empty_pb2.Empty)
    wait(ops, gateways.Delete(gsvc.DeleteGatewayRequest(gateway_id=gateway.id)), gsvc.DeleteGatewayMetadata, empty_pb2.Empty)

    # yandex_vpc_address with an internal spec: reserved, listed by subnet, refused twice, freed.
    addresses = AddressServiceStub(channel)
    spec = asvc.InternalIpv4AddressSpec(address="10.40.0.50", subnet_id=subnet.id)
    reserve = lambda name: asvc.CreateAddressRequest(folder_id=FOLDER, name=name, internal_ipv4_address_spec=spec)
    meta, internal = wait(ops, addresses.Create(reserve("db")), asvc.CreateAddressMetadata, address_pb2.Address)
    check(internal.type == address_pb2.Address.INTERNAL and internal.internal_ipv4_address.subnet_id == subnet.id, str(internal))
    check(internal.internal_ipv4_address.address == "10.40.0.50" and not internal.used, str(internal))
    refused(lambda: addresses.Create(reserve("db-again")), grpc.StatusCode.ALREADY_EXISTS)
    listed = addresses.ListBySubnet(asvc.ListAddressesBySubnetRequest(subnet_id=subnet.id)).addresses
    check([a.id for a in listed] == [internal.id], str(listed))
    by_value = addresses.GetByValue(asvc.GetAddressByValueRequest(internal_ipv4_address="10.40.0.50", subnet_id=subnet.id))
    check(by_value.id == internal.id, str(by_value))
    wait(ops, addresses.Delete(asvc.DeleteAddressRequest(address_id=internal.id)), asvc.DeleteAddressMetadata, empty_pb2.Empty)
    check(not addresses.ListBySubnet(asvc.ListAddressesBySubnetRequest(subnet_id=subnet.id)).addresses, "the address was not freed")
    _, again = wait(ops, addresses.Create(reserve("db")), asvc.CreateAddressMetadata, address_pb2.Address)
    check(again.internal_ipv4_address.address == "10.40.0.50", "the freed address is not reserved again")
    wait(ops, addresses.Delete(asvc.DeleteAddressRequest(address_id=again.id)), asvc.DeleteAddressMetadata, empty_pb2.Empty)

    # CIDR blocks added and removed (both answer UpdateSubnetMetadata and the Subnet).
    add = ssvc.AddSubnetCidrBlocksRequest(subnet_id=subnet.id, v4_cidr_blocks=["10.41.0.0/24"])
    _, subnet = wait(ops, subnets.AddCidrBlocks(add), ssvc.UpdateSubnetMetadata, subnet_pb2.Subnet)
    check(list(subnet.v4_cidr_blocks) == ["10.40.0.0/24", "10.41.0.0/24"], str(subnet))
    overlapping = ssvc.AddSubnetCidrBlocksRequest(subnet_id=subnet.id, v4_cidr_blocks=["10.41.0.128/25"])
    refused(lambda: subnets.AddCidrBlocks(overlapping), grpc.StatusCode.INVALID_ARGUMENT)
    remove = ssvc.RemoveSubnetCidrBlocksRequest(subnet_id=subnet.id, v4_cidr_blocks=["10.40.0.0/24"])
    _, subnet = wait(ops, subnets.RemoveCidrBlocks(remove), ssvc.UpdateSubnetMetadata, subnet_pb2.Subnet)
    check(list(subnet.v4_cidr_blocks) == ["10.41.0.0/24"], str(subnet))

    # A subnet moved to another folder (MoveSubnetMetadata, the Subnet in its new folder).
    move = ssvc.MoveSubnetRequest(subnet_id=subnet.id, destination_folder_id="b1groutefolder00001")
    refused(lambda: SubnetServiceStub(limited).Move(move), grpc.StatusCode.PERMISSION_DENIED)
    meta, subnet = wait(ops, subnets.Move(move), ssvc.MoveSubnetMetadata, subnet_pb2.Subnet)
    check(meta.subnet_id == subnet.id and subnet.folder_id == "b1groutefolder00001", str(subnet))

    # Everything goes; the default group with its network.
    wait(ops, subnets.Delete(ssvc.DeleteSubnetRequest(subnet_id=subnet.id)), ssvc.DeleteSubnetMetadata, empty_pb2.Empty)
    wait(ops, networks.Delete(nsvc.DeleteNetworkRequest(network_id=network.id)), nsvc.DeleteNetworkMetadata, empty_pb2.Empty)
    refused(lambda: groups.Get(sgsvc.GetSecurityGroupRequest(security_group_id=default.id)), grpc.StatusCode.NOT_FOUND)
    print("vpc routing flow: OK")


if __name__ == "__main__":
    main()
