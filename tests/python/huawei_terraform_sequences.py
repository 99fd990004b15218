"""The huaweicloud Terraform provider's call sequences, resource by resource, through the official
Huawei Cloud SDKs (AK/SK, v2 and v3 clients): create → read → update (tags replaced the provider's
way: delete every old tag, then create every new one) → read → delete → read 404, for VPC, subnet,
private NAT gateway, transit subnet, transit IP, DNAT rule (on a port, ports as "0" strings) and
SNAT rule, with the v3 VPC read and the specs list. Prints "ok" on success.

usage: huawei_terraform_sequences.py <endpoint> <project_id> <access key> <secret key>
"""

import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
import huaweicloudsdknat.v2 as nat_api
import huaweicloudsdkvpc.v2 as vpc_api
import huaweicloudsdkvpc.v3 as vpc_v3_api

endpoint, project, ak, sk = sys.argv[1:5]


def client(cls):
    return cls.new_builder().with_http_config(HttpConfig.get_default_config()).with_credentials(
        BasicCredentials(ak, sk, project)).with_endpoints([endpoint]).build()


vpc, v3, nat = client(vpc_api.VpcClient), client(vpc_v3_api.VpcClient), client(nat_api.NatClient)


def gone(read):
    """The provider's CheckDeleted: a 404 on read means the resource left."""
    try:
        read()
    except ClientRequestException as e:
        assert e.status_code == 404, (e.status_code, e.error_code, e.error_msg)
        return
    raise AssertionError("still there after delete")


def pairs(tags):
    return sorted((t.key, t.value) for t in tags)


def replace_tags(batch, old, new):
    """utils.UpdateResourceTags: delete all old tags, then create all new ones (each skipped if empty)."""
    if old:
        batch("delete", old)
    if new:
        batch("create", new)


# huaweicloud_vpc: create (v1, 200), poll until OK, tags, secondary CIDR; read v1 + v2.0 tags + v3.
v = vpc.create_vpc(vpc_api.CreateVpcRequest(vpc_api.CreateVpcRequestBody(vpc_api.CreateVpcOption(name="tf-vpc", cidr="10.40.0.0/16")))).vpc
assert vpc.show_vpc(vpc_api.ShowVpcRequest(vpc_id=v.id)).vpc.status == "OK"
vpc_tags = lambda action, tags: (vpc.batch_create_vpc_tags if action == "create" else vpc.batch_delete_vpc_tags)(
    (vpc_api.BatchCreateVpcTagsRequest if action == "create" else vpc_api.BatchDeleteVpcTagsRequest)(
        v.id, (vpc_api.BatchCreateVpcTagsRequestBody if action == "create" else vpc_api.BatchDeleteVpcTagsRequestBody)(
            action=action, tags=[vpc_api.ResourceTag(key=k, value=x) for k, x in tags])))
vpc_tags("create", [("env", "test"), ("owner", "a")])
v3.add_vpc_extend_cidr(vpc_v3_api.AddVpcExtendCidrRequest(vpc_id=v.id, body=vpc_v3_api.AddVpcExtendCidrRequestBody(
    vpc=vpc_v3_api.AddExtendCidrOption(extend_cidrs=["23.40.0.0/16"]))))
assert pairs(vpc.show_vpc_tags(vpc_api.ShowVpcTagsRequest(vpc_id=v.id)).tags) == [("env", "test"), ("owner", "a")]
assert v3.show_vpc(vpc_v3_api.ShowVpcRequest(vpc_id=v.id)).vpc.extend_cidrs == ["23.40.0.0/16"]
# Update: name, cidr (always), description; tags replaced; secondary CIDRs: remove dropped, add new.
vpc.update_vpc(vpc_api.UpdateVpcRequest(vpc_id=v.id, body=vpc_api.UpdateVpcRequestBody(
    vpc_api.UpdateVpcOption(name="tf-vpc-2", cidr="10.40.0.0/16", description=""))))
replace_tags(vpc_tags, [("env", "test"), ("owner", "a")], [("env", "prod")])
v3.remove_vpc_extend_cidr(vpc_v3_api.RemoveVpcExtendCidrRequest(vpc_id=v.id, body=vpc_v3_api.RemoveVpcExtendCidrRequestBody(
    vpc=vpc_v3_api.RemoveExtendCidrOption(extend_cidrs=["23.40.0.0/16"]))))
v3.add_vpc_extend_cidr(vpc_v3_api.AddVpcExtendCidrRequest(vpc_id=v.id, body=vpc_v3_api.AddVpcExtendCidrRequestBody(
    vpc=vpc_v3_api.AddExtendCidrOption(extend_cidrs=["23.41.0.0/16"]))))
seen = v3.show_vpc(vpc_v3_api.ShowVpcRequest(vpc_id=v.id)).vpc
assert (seen.name, seen.extend_cidrs, pairs(seen.tags)) == ("tf-vpc-2", ["23.41.0.0/16"], [("env", "prod")]), seen

# huaweicloud_vpc_subnet: create with dnsList (from the provider's region table), ipv6_enable and
# dhcp_enable always sent; poll ACTIVE; tags; read with neutron_subnet_id; update; tags replaced.
def subnet(name, cidr, gateway):
    s = vpc.create_subnet(vpc_api.CreateSubnetRequest(vpc_api.CreateSubnetRequestBody(vpc_api.CreateSubnetOption(
        name=name, cidr=cidr, gateway_ip=gateway, vpc_id=v.id, ipv6_enable=False, dhcp_enable=True,
        dns_list=["100.125.1.250", "100.125.129.250"])))).subnet
    assert vpc.show_subnet(vpc_api.ShowSubnetRequest(subnet_id=s.id)).subnet.status == "ACTIVE"
    return s


down = subnet("tf-down", "10.40.1.0/24", "10.40.1.1")
subnet_tags = lambda action, tags: (vpc.batch_create_subnet_tags if action == "create" else vpc.batch_delete_subnet_tags)(
    (vpc_api.BatchCreateSubnetTagsRequest if action == "create" else vpc_api.BatchDeleteSubnetTagsRequest)(
        down.id, (vpc_api.BatchCreateSubnetTagsRequestBody if action == "create" else vpc_api.BatchDeleteSubnetTagsRequestBody)(
            action=action, tags=[vpc_api.ResourceTag(key=k, value=x) for k, x in tags])))
subnet_tags("create", [("tier", "web")])
read = vpc.show_subnet(vpc_api.ShowSubnetRequest(subnet_id=down.id)).subnet
assert read.dns_list == ["100.125.1.250", "100.125.129.250"] and read.neutron_subnet_id != read.id, read
vpc.update_subnet(vpc_api.UpdateSubnetRequest(vpc_id=v.id, subnet_id=down.id, body=vpc_api.UpdateSubnetRequestBody(
    vpc_api.UpdateSubnetOption(name="tf-down-2", dhcp_enable=True, description="downlink",
                               extra_dhcp_opts=[vpc_api.ExtraDhcpOption(opt_name="ntp", opt_value=None)]))))
replace_tags(subnet_tags, [("tier", "web")], [("tier", "app")])
assert pairs(vpc.show_subnet_tags(vpc_api.ShowSubnetTagsRequest(subnet_id=down.id)).tags) == [("tier", "app")]
assert vpc.show_subnet(vpc_api.ShowSubnetRequest(subnet_id=down.id)).subnet.name == "tf-down-2"
transit_vpc_subnet = subnet("tf-transit", "23.41.1.0/24", "23.41.1.1")

specs = {s.name: s.rule_max for s in nat.list_specs(nat_api.ListSpecsRequest()).specs}
assert specs["Small"] == 20, specs

# huaweicloud_nat_private_gateway: create with tags; read; update name/description/spec; tags replaced.
g = nat.create_private_nat(nat_api.CreatePrivateNatRequest(nat_api.CreatePrivateNatRequestBody(nat_api.CreatePrivateNatOption(
    name="tf-nat", downlink_vpcs=[nat_api.DownlinkVpcOption(virsubnet_id=down.id)], tags=[nat_api.Tag(key="env", value="test")])))).gateway
read = nat.show_private_nat(nat_api.ShowPrivateNatRequest(gateway_id=g.id)).gateway
assert (read.downlink_vpcs[0].virsubnet_id, read.downlink_vpcs[0].vpc_id, pairs(read.tags)) == (down.id, v.id, [("env", "test")]), read
nat.update_private_nat(nat_api.UpdatePrivateNatRequest(gateway_id=g.id, body=nat_api.UpdatePrivateNatRequestBody(
    nat_api.UpdatePrivateNatOption(name="tf-nat-2", description="", spec="Medium"))))
nat_batch = lambda call, request, rid: lambda action, tags: call(request(resource_id=rid, body=nat_api.BatchOperateResourceTagsRequestBody(
    action=action, tags=[nat_api.Tag(key=k, value=x) for k, x in tags])))
replace_tags(nat_batch(nat.batch_create_delete_private_nat_tags, nat_api.BatchCreateDeletePrivateNatTagsRequest, g.id), [("env", "test")], [("env", "prod")])
read = nat.show_private_nat(nat_api.ShowPrivateNatRequest(gateway_id=g.id)).gateway
assert (read.name, read.spec, pairs(read.tags)) == ("tf-nat-2", "Medium", [("env", "prod")]), read

# huaweicloud_nat_private_transit_subnet: create with tags; read; update; tags replaced.
ts = nat.create_transit_subnet(nat_api.CreateTransitSubnetRequest(nat_api.CreateTransitSubnetRequestBody(nat_api.CreateTransitSubnetOption(
    name="tf-ts", virsubnet_id=transit_vpc_subnet.id, virsubnet_project_id=project, tags=[nat_api.Tag(key="a", value="1")])))).transit_subnet
read = nat.show_transit_subnet(nat_api.ShowTransitSubnetRequest(transit_subnet_id=ts.id)).transit_subnet
assert (read.vpc_id, read.cidr, pairs(read.tags)) == (v.id, "23.41.1.0/24", [("a", "1")]), read
nat.update_transit_subnet(nat_api.UpdateTransitSubnetRequest(transit_subnet_id=ts.id, body=nat_api.UpdateTransitSubnetRequestBody(
    nat_api.UpdateTransitSubnetOption(name="tf-ts-2", description="d"))))
replace_tags(nat_batch(nat.batch_create_delete_transit_subnet_tags, nat_api.BatchCreateDeleteTransitSubnetTagsRequest, ts.id), [("a", "1")], [("b", "2")])
read = nat.show_transit_subnet(nat_api.ShowTransitSubnetRequest(transit_subnet_id=ts.id)).transit_subnet
assert (read.name, pairs(read.tags)) == ("tf-ts-2", [("b", "2")]), read

# huaweicloud_nat_private_transit_ip: create with tags; read; tags replaced (no PUT exists).
tip = nat.create_transit_ip(nat_api.CreateTransitIpRequest(nat_api.CreateTransitIpRequestBody(nat_api.CreatTransitIpOption(
    virsubnet_id=ts.id, tags=[nat_api.Tag(key="a", value="1")])))).transit_ip
replace_tags(nat_batch(nat.batch_create_delete_transit_ip_tags, nat_api.BatchCreateDeleteTransitIpTagsRequest, tip.id), [("a", "1")], [])
read = nat.show_transit_ip(nat_api.ShowTransitIpRequest(transit_ip_id=tip.id)).transit_ip
assert (read.virsubnet_id, read.tags, read.gateway_id) == (transit_vpc_subnet.id, [], ""), read

# huaweicloud_nat_private_dnat_rule on a port: ports always strings, "0" when unset; read parses them.
port = vpc.create_port(vpc_api.CreatePortRequest(vpc_api.CreatePortRequestBody(vpc_api.CreatePortOption(network_id=down.id)))).port
rule = nat.create_private_dnat(nat_api.CreatePrivateDnatRequest(nat_api.CreatePrivateDnatOptionBody(nat_api.CreatePrivateDnatOption(
    gateway_id=g.id, transit_ip_id=tip.id, network_interface_id=port.id, internal_service_port="0", transit_service_port="0")))).dnat_rule
read = nat.show_private_dnat(nat_api.ShowPrivateDnatRequest(dnat_rule_id=rule.id)).dnat_rule
assert (int(read.internal_service_port), int(read.transit_service_port), read.protocol) == (0, 0, "any"), read
assert (read.private_ip_address, read.type, read.network_interface_id) == (port.fixed_ips[0].ip_address, "COMPUTE", port.id), read
nat.update_private_dnat(nat_api.UpdatePrivateDnatRequest(dnat_rule_id=rule.id, body=nat_api.UpdatePrivateDnatRequestBody(
    nat_api.UpdatePrivateDnatOption(transit_ip_id=tip.id, internal_service_port="0", transit_service_port="0", description="tf"))))
assert nat.show_private_dnat(nat_api.ShowPrivateDnatRequest(dnat_rule_id=rule.id)).dnat_rule.description == "tf"

# huaweicloud_nat_private_snat_rule: the transit IP must be of another VPC.
far_vpc = vpc.create_vpc(vpc_api.CreateVpcRequest(vpc_api.CreateVpcRequestBody(vpc_api.CreateVpcOption(name="tf-far", cidr="10.41.0.0/16")))).vpc
far_subnet = vpc.create_subnet(vpc_api.CreateSubnetRequest(vpc_api.CreateSubnetRequestBody(vpc_api.CreateSubnetOption(
    name="far", cidr="10.41.1.0/24", gateway_ip="10.41.1.1", vpc_id=far_vpc.id)))).subnet
far_ts = nat.create_transit_subnet(nat_api.CreateTransitSubnetRequest(nat_api.CreateTransitSubnetRequestBody(
    nat_api.CreateTransitSubnetOption(name="far", virsubnet_id=far_subnet.id)))).transit_subnet
far_ips = [nat.create_transit_ip(nat_api.CreateTransitIpRequest(nat_api.CreateTransitIpRequestBody(nat_api.CreatTransitIpOption(
    virsubnet_id=far_ts.id)))).transit_ip for _ in range(2)]
snat = nat.create_private_snat(nat_api.CreatePrivateSnatRequest(nat_api.CreatePrivateSnatOptionBody(nat_api.CreatePrivateSnatOption(
    gateway_id=g.id, transit_ip_ids=[far_ips[0].id], cidr="10.40.1.0/24")))).snat_rule
read = nat.show_private_snat(nat_api.ShowPrivateSnatRequest(snat_rule_id=snat.id)).snat_rule
assert (read.cidr, read.transit_ip_associations[0].transit_ip_id) == ("10.40.1.0/24", far_ips[0].id), read
nat.update_private_snat(nat_api.UpdatePrivateSnatRequest(snat_rule_id=snat.id, body=nat_api.UpdatePrivateSnatOptionBody(
    nat_api.UpdatePrivateSnatOption(transit_ip_ids=[far_ips[1].id], description=""))))
read = nat.show_private_snat(nat_api.ShowPrivateSnatRequest(snat_rule_id=snat.id)).snat_rule
assert read.transit_ip_associations[0].transit_ip_address == far_ips[1].ip_address, read

# Deletes in the provider's dependency order, each followed by its read's 404.
nat.delete_private_snat(nat_api.DeletePrivateSnatRequest(snat_rule_id=snat.id))
gone(lambda: nat.show_private_snat(nat_api.ShowPrivateSnatRequest(snat_rule_id=snat.id)))
nat.delete_private_dnat(nat_api.DeletePrivateDnatRequest(dnat_rule_id=rule.id))
gone(lambda: nat.show_private_dnat(nat_api.ShowPrivateDnatRequest(dnat_rule_id=rule.id)))
vpc.delete_port(vpc_api.DeletePortRequest(port_id=port.id))
for ip in [tip] + far_ips:
    nat.delete_transit_ip(nat_api.DeleteTransitIpRequest(transit_ip_id=ip.id))
    gone(lambda: nat.show_transit_ip(nat_api.ShowTransitIpRequest(transit_ip_id=ip.id)))
for t in (ts, far_ts):
    nat.delete_transit_subnet(nat_api.DeleteTransitSubnetRequest(transit_subnet_id=t.id))
    gone(lambda: nat.show_transit_subnet(nat_api.ShowTransitSubnetRequest(transit_subnet_id=t.id)))
nat.delete_private_nat(nat_api.DeletePrivateNatRequest(gateway_id=g.id))
gone(lambda: nat.show_private_nat(nat_api.ShowPrivateNatRequest(gateway_id=g.id)))
for vpc_id, s in ((v.id, down), (v.id, transit_vpc_subnet), (far_vpc.id, far_subnet)):
    vpc.delete_subnet(vpc_api.DeleteSubnetRequest(vpc_id=vpc_id, subnet_id=s.id))
    gone(lambda: vpc.show_subnet(vpc_api.ShowSubnetRequest(subnet_id=s.id)))
for vpc_id in (v.id, far_vpc.id):
    vpc.delete_vpc(vpc_api.DeleteVpcRequest(vpc_id=vpc_id))
    gone(lambda: vpc.show_vpc(vpc_api.ShowVpcRequest(vpc_id=vpc_id)))
    gone(lambda: v3.show_vpc(vpc_v3_api.ShowVpcRequest(vpc_id=vpc_id)))
print("ok")
