"""The whole private NAT lifecycle through the official Huawei Cloud SDKs, unmodified, with AK/SK
credentials: VPC and subnets (huaweicloudsdkvpc), gateway, transit subnet, transit IP and DNAT
rule (huaweicloudsdknat); show, list with filters, update, delete; a 404 as the SDK's own
exception; and a wrong secret key refused. Prints the shown DNAT rule as JSON on success.

usage: huawei_sdk_flow.py <endpoint> <project_id> <access key> <secret key>
"""

import json
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdknat.v2 import (
    CreatePrivateSnatOption,
    CreatePrivateSnatOptionBody,
    CreatePrivateSnatRequest,
    DeletePrivateSnatRequest,
    ListPrivateSnatsRequest,
    ShowPrivateSnatRequest,
    UpdatePrivateSnatOption,
    UpdatePrivateSnatOptionBody,
    UpdatePrivateSnatRequest,
    ListSpecsRequest,
    CreatePrivateDnatOption,
    CreatePrivateDnatRequest,
    CreatePrivateDnatOptionBody,
    CreatePrivateNatOption,
    CreatePrivateNatRequest,
    CreatePrivateNatRequestBody,
    CreatTransitIpOption,
    CreateTransitIpRequest,
    CreateTransitIpRequestBody,
    CreateTransitSubnetOption,
    CreateTransitSubnetRequest,
    CreateTransitSubnetRequestBody,
    DeletePrivateDnatRequest,
    DeletePrivateNatRequest,
    DeleteTransitIpRequest,
    DeleteTransitSubnetRequest,
    DownlinkVpcOption,
    ListPrivateDnatsRequest,
    NatClient,
    ShowPrivateDnatRequest,
    UpdatePrivateDnatOption,
    UpdatePrivateDnatRequest,
    UpdatePrivateDnatRequestBody,
)
from huaweicloudsdkvpc.v2 import (
    UpdateSubnetOption,
    UpdateSubnetRequest,
    UpdateSubnetRequestBody,
    UpdateVpcOption,
    UpdateVpcRequest,
    UpdateVpcRequestBody,
    CreateSubnetOption,
    CreateSubnetRequest,
    CreateSubnetRequestBody,
    CreateVpcOption,
    CreateVpcRequest,
    CreateVpcRequestBody,
    DeleteSubnetRequest,
    DeleteVpcRequest,
    ListSubnetsRequest,
    ShowSubnetRequest,
    VpcClient,
)
from huaweicloudsdkvpc.v3 import ListVpcsRequest as ListVpcsV3Request
from huaweicloudsdkvpc.v3 import ShowVpcRequest as ShowVpcV3Request
from huaweicloudsdkvpc.v3 import VpcClient as VpcV3Client

endpoint, project, ak, sk = sys.argv[1:5]


def client(cls, secret=sk):
    config = HttpConfig.get_default_config()
    return cls.new_builder().with_http_config(config).with_credentials(BasicCredentials(ak, secret, project)).with_endpoints([endpoint]).build()


vpc_client = client(VpcClient)
nat = client(NatClient)

vpc = vpc_client.create_vpc(CreateVpcRequest(CreateVpcRequestBody(CreateVpcOption(name="vpc-nat", cidr="10.20.0.0/16")))).vpc
assert vpc.cidr == "10.20.0.0/16", vpc


def subnet(name, cidr, gateway):
    option = CreateSubnetOption(name=name, cidr=cidr, gateway_ip=gateway, vpc_id=vpc.id)
    return vpc_client.create_subnet(CreateSubnetRequest(CreateSubnetRequestBody(option))).subnet


# The SDK sends `dnsList` (Terraform always sets it) and reads it back, with a separate Neutron subnet id.
named = vpc_client.create_subnet(CreateSubnetRequest(CreateSubnetRequestBody(CreateSubnetOption(
    name="dns", cidr="10.20.9.0/24", gateway_ip="10.20.9.1", vpc_id=vpc.id,
    primary_dns="100.125.1.250", dns_list=["100.125.1.250", "100.125.129.250"])))).subnet
shown_dns = vpc_client.show_subnet(ShowSubnetRequest(subnet_id=named.id)).subnet
assert shown_dns.dns_list == ["100.125.1.250", "100.125.129.250"], shown_dns
assert shown_dns.neutron_subnet_id and shown_dns.neutron_subnet_id != named.id, shown_dns

# Updates through the SDK: the VPC answers itself, the subnet only its id and status.
renamed = vpc_client.update_vpc(UpdateVpcRequest(vpc_id=vpc.id, body=UpdateVpcRequestBody(UpdateVpcOption(name="vpc-nat-2")))).vpc
assert renamed.name == "vpc-nat-2" and renamed.cidr == "10.20.0.0/16", renamed
touched = vpc_client.update_subnet(UpdateSubnetRequest(vpc_id=vpc.id, subnet_id=named.id, body=UpdateSubnetRequestBody(
    UpdateSubnetOption(name="dns-2", dhcp_enable=True)))).subnet
assert touched.id == named.id, touched
vpc_client.delete_subnet(DeleteSubnetRequest(vpc_id=vpc.id, subnet_id=named.id))

downlink = subnet("downlink", "10.20.1.0/24", "10.20.1.1")

# The same VPC through v3, as Terraform reads it on every refresh.
v3 = client(VpcV3Client)
seen = v3.show_vpc(ShowVpcV3Request(vpc_id=vpc.id)).vpc
assert (seen.id, seen.status, seen.cidr, seen.project_id) == (vpc.id, "ACTIVE", "10.20.0.0/16", project), seen
assert {r.resource_type: r.resource_count for r in seen.cloud_resources}["virsubnet"] == 1, seen.cloud_resources
assert [v.id for v in v3.list_vpcs(ListVpcsV3Request(id=[vpc.id])).vpcs] == [vpc.id]
transit_cidr = subnet("transit", "10.20.2.0/24", "10.20.2.1")
assert vpc_client.show_subnet(ShowSubnetRequest(subnet_id=downlink.id)).subnet.cidr == "10.20.1.0/24"
listed = vpc_client.list_subnets(ListSubnetsRequest(vpc_id=vpc.id)).subnets
assert sorted(s.id for s in listed) == sorted([downlink.id, transit_cidr.id]), listed

specs = {s.name: s for s in nat.list_specs(ListSpecsRequest()).specs}
assert (specs["Small"].code, specs["Small"].rule_max, specs["Large"].cbc_code) == ("1", 20, "privatenat_large"), specs

gateway = nat.create_private_nat(
    CreatePrivateNatRequest(CreatePrivateNatRequestBody(CreatePrivateNatOption(
        name="private-nat", spec="Small", downlink_vpcs=[DownlinkVpcOption(virsubnet_id=downlink.id)])))
).gateway
assert gateway.status == "ACTIVE" and gateway.downlink_vpcs[0].vpc_id == vpc.id, gateway

transit_subnet = nat.create_transit_subnet(
    CreateTransitSubnetRequest(CreateTransitSubnetRequestBody(CreateTransitSubnetOption(name="transit", virsubnet_id=transit_cidr.id)))
).transit_subnet
assert transit_subnet.cidr == "10.20.2.0/24", transit_subnet

transit_ip = nat.create_transit_ip(
    CreateTransitIpRequest(CreateTransitIpRequestBody(CreatTransitIpOption(virsubnet_id=transit_subnet.id)))
).transit_ip
assert transit_ip.ip_address.startswith("10.20.2."), transit_ip

rule = nat.create_private_dnat(CreatePrivateDnatRequest(CreatePrivateDnatOptionBody(CreatePrivateDnatOption(
    description="web", transit_ip_id=transit_ip.id, gateway_id=gateway.id, private_ip_address="10.20.1.72",
    protocol="tcp", internal_service_port="80", transit_service_port="8080")))).dnat_rule
assert rule.status == "ACTIVE", rule

shown = nat.show_private_dnat(ShowPrivateDnatRequest(dnat_rule_id=rule.id))
assert shown.dnat_rule.id == rule.id and shown.request_id, shown
assert (shown.dnat_rule.protocol, shown.dnat_rule.transit_service_port, shown.dnat_rule.type) == ("tcp", "8080", "CUSTOMIZE"), shown

found = nat.list_private_dnats(ListPrivateDnatsRequest(gateway_id=[gateway.id], protocol=["tcp", "udp"], limit=10))
assert [r.id for r in found.dnat_rules] == [rule.id] and found.page_info.current_count == 1, found
assert nat.list_private_dnats(ListPrivateDnatsRequest(protocol=["udp"])).dnat_rules == [], "the udp filter matches nothing"

updated = nat.update_private_dnat(UpdatePrivateDnatRequest(dnat_rule_id=rule.id, body=UpdatePrivateDnatRequestBody(
    UpdatePrivateDnatOption(description="web, moved", transit_service_port="9090")))).dnat_rule
assert (updated.description, updated.transit_service_port) == ("web, moved", "9090"), updated

nat.delete_private_dnat(DeletePrivateDnatRequest(dnat_rule_id=rule.id))
try:
    nat.show_private_dnat(ShowPrivateDnatRequest(dnat_rule_id=rule.id))
    raise AssertionError("a deleted rule is still shown")
except ClientRequestException as e:
    assert (e.status_code, e.error_code) == (404, "NAT.1002"), (e.status_code, e.error_code, e.error_msg)

# An id with a slash and a space: the SDK encodes it into one path segment and signs the path
# split at the slash; the signature holds, and the rule is simply not found.
try:
    nat.show_private_dnat(ShowPrivateDnatRequest(dnat_rule_id="a b/c"))
    raise AssertionError("a rule with a made-up id was shown")
except ClientRequestException as e:
    assert (e.status_code, e.error_code) == (404, "NAT.1002"), (e.status_code, e.error_code, e.error_msg)

try:
    client(NatClient, secret="not-the-secret").show_private_dnat(ShowPrivateDnatRequest(dnat_rule_id=rule.id))
    raise AssertionError("a wrong secret key was accepted")
except ClientRequestException as e:
    assert (e.status_code, e.error_code) == (401, "APIGW.0301"), (e.status_code, e.error_code, e.error_msg)

# SNAT from the downlink subnet through a transit IP of another VPC (the gateway's own VPC cannot
# carry it), as the provider's snat_rule resource does: create, read, list by CIDR-less filters,
# update, delete.
far = vpc_client.create_vpc(CreateVpcRequest(CreateVpcRequestBody(CreateVpcOption(name="vpc-far", cidr="10.21.0.0/16")))).vpc
far_subnet = vpc_client.create_subnet(CreateSubnetRequest(CreateSubnetRequestBody(CreateSubnetOption(
    name="far", cidr="10.21.2.0/24", gateway_ip="10.21.2.1", vpc_id=far.id)))).subnet
far_transit = nat.create_transit_subnet(
    CreateTransitSubnetRequest(CreateTransitSubnetRequestBody(CreateTransitSubnetOption(name="far", virsubnet_id=far_subnet.id)))
).transit_subnet
far_ip = nat.create_transit_ip(CreateTransitIpRequest(CreateTransitIpRequestBody(CreatTransitIpOption(virsubnet_id=far_transit.id)))).transit_ip
snat = nat.create_private_snat(CreatePrivateSnatRequest(CreatePrivateSnatOptionBody(CreatePrivateSnatOption(
    gateway_id=gateway.id, virsubnet_id=downlink.id, transit_ip_ids=[far_ip.id], description="egress")))).snat_rule
assert snat.cidr == "" and snat.transit_ip_associations[0].transit_ip_address == far_ip.ip_address, snat
assert nat.show_private_snat(ShowPrivateSnatRequest(snat_rule_id=snat.id)).snat_rule.virsubnet_id == downlink.id
listed_snat = nat.list_private_snats(ListPrivateSnatsRequest(gateway_id=[gateway.id], transit_ip_id=[far_ip.id])).snat_rules
assert [r.id for r in listed_snat] == [snat.id], listed_snat
changed = nat.update_private_snat(UpdatePrivateSnatRequest(snat_rule_id=snat.id, body=UpdatePrivateSnatOptionBody(
    UpdatePrivateSnatOption(description="egress, renamed")))).snat_rule
assert changed.description == "egress, renamed", changed
try:
    nat.create_private_snat(CreatePrivateSnatRequest(CreatePrivateSnatOptionBody(CreatePrivateSnatOption(
        gateway_id=gateway.id, virsubnet_id=downlink.id, transit_ip_ids=[far_ip.id]))))
    raise AssertionError("a second SNAT rule for the subnet was accepted")
except ClientRequestException as e:
    assert (e.status_code, e.error_code) == (409, "NAT.1503"), (e.status_code, e.error_code, e.error_msg)
nat.delete_private_snat(DeletePrivateSnatRequest(snat_rule_id=snat.id))
nat.delete_transit_ip(DeleteTransitIpRequest(transit_ip_id=far_ip.id))
nat.delete_transit_subnet(DeleteTransitSubnetRequest(transit_subnet_id=far_transit.id))
vpc_client.delete_subnet(DeleteSubnetRequest(vpc_id=far.id, subnet_id=far_subnet.id))

nat.delete_transit_ip(DeleteTransitIpRequest(transit_ip_id=transit_ip.id))
nat.delete_transit_subnet(DeleteTransitSubnetRequest(transit_subnet_id=transit_subnet.id))
nat.delete_private_nat(DeletePrivateNatRequest(gateway_id=gateway.id))
for s in (downlink, transit_cidr):
    vpc_client.delete_subnet(DeleteSubnetRequest(vpc_id=vpc.id, subnet_id=s.id))
vpc_client.delete_vpc(DeleteVpcRequest(vpc_id=vpc.id))

print(json.dumps(shown.to_dict()["dnat_rule"], default=str))
