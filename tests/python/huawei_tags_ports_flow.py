"""Tags, VPC v3 and ports through the official Huawei Cloud SDKs, unmodified, with AK/SK credentials:
private NAT gateway tags (batch create, one tag whose key has a space, a slash and a non-ASCII
letter — signed as the SDK signs encoded paths —, show, delete, project list, search by tags);
VPC v2.0 tags; VPC v3 create (with tags), secondary CIDRs added and removed, delete; a port as a
DNAT rule's backend. Prints "ok" on success.

usage: huawei_tags_ports_flow.py <endpoint> <project_id> <access key> <secret key>
"""

import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdknat.v2 import (
    BatchCreateDeletePrivateNatTagsRequest,
    BatchOperateResourceTagsRequestBody,
    CreatePrivateDnatOption,
    CreatePrivateDnatOptionBody,
    CreatePrivateDnatRequest,
    CreatePrivateNatOption,
    CreatePrivateNatRequest,
    CreatePrivateNatRequestBody,
    CreatePrivateNatTagRequest,
    CreateResourceTagRequestBody,
    CreatTransitIpOption,
    CreateTransitIpRequest,
    CreateTransitIpRequestBody,
    CreateTransitSubnetOption,
    CreateTransitSubnetRequest,
    CreateTransitSubnetRequestBody,
    DeletePrivateDnatRequest,
    DeletePrivateNatTagRequest,
    DownlinkVpcOption,
    ListPrivateNatTagsRequest,
    ListPrivateNatsByTagsRequest,
    ListTagResourceInstancesRequestBody,
    NatClient,
    ShowPrivateNatTagsRequest,
    Tags,
)
from huaweicloudsdknat.v2 import Tag as NatTag
from huaweicloudsdkvpc.v2 import (
    BatchCreateVpcTagsRequest,
    BatchCreateVpcTagsRequestBody,
    CreatePortOption,
    CreatePortRequest,
    CreatePortRequestBody,
    CreateSubnetOption,
    CreateSubnetRequest,
    CreateSubnetRequestBody,
    DeletePortRequest,
    DeleteSubnetRequest,
    ListPortsRequest,
    ResourceTag as VpcTag,
    ShowPortRequest,
    ShowVpcTagsRequest,
    VpcClient,
)
from huaweicloudsdkvpc.v3 import (
    AddExtendCidrOption,
    AddVpcExtendCidrRequest,
    AddVpcExtendCidrRequestBody,
    CreateVpcOption,
    CreateVpcRequest,
    CreateVpcRequestBody,
    ListVpcsRequest,
    RemoveExtendCidrOption,
    RemoveVpcExtendCidrRequest,
    RemoveVpcExtendCidrRequestBody,
    ResourceTag as V3Tag,
    ShowVpcRequest,
)
from huaweicloudsdkvpc.v3 import VpcClient as VpcV3Client

endpoint, project, ak, sk = sys.argv[1:5]


def client(cls):
    config = HttpConfig.get_default_config()
    return cls.new_builder().with_http_config(config).with_credentials(BasicCredentials(ak, sk, project)).with_endpoints([endpoint]).build()


def refused(call, status, code):
    try:
        call()
    except ClientRequestException as e:
        assert (e.status_code, e.error_code) == (status, code), (e.status_code, e.error_code, e.error_msg)
        return
    raise AssertionError(f"accepted; expected {status} {code}")


vpc_v1, v3, nat = client(VpcClient), client(VpcV3Client), client(NatClient)

# VPC v3: a dry run creates nothing; a create with tags; secondary CIDRs, as Terraform sends them.
dry = v3.create_vpc(CreateVpcRequest(CreateVpcRequestBody(vpc=CreateVpcOption(name="dry", cidr="10.30.0.0/16"), dry_run=True)))
assert dry.status_code == 202 and not getattr(dry, "vpc", None), dry
# The SDK's create response models only the dry run's body (request_id, error_code, error_msg), so
# the new VPC is found by name, as an SDK user has to.
created = v3.create_vpc(CreateVpcRequest(CreateVpcRequestBody(vpc=CreateVpcOption(
    name="tagged", cidr="10.30.0.0/16", tags=[V3Tag(key="env", value="prod")]))))
assert created.status_code == 201 and created.request_id, created
[vpc] = v3.list_vpcs(ListVpcsRequest(name=["tagged"])).vpcs
assert [(t.key, t.value) for t in vpc.tags] == [("env", "prod")], vpc
grown = v3.add_vpc_extend_cidr(AddVpcExtendCidrRequest(vpc_id=vpc.id, body=AddVpcExtendCidrRequestBody(
    vpc=AddExtendCidrOption(extend_cidrs=["23.8.0.0/16"])))).vpc
assert grown.extend_cidrs == ["23.8.0.0/16"], grown
refused(lambda: v3.add_vpc_extend_cidr(AddVpcExtendCidrRequest(vpc_id=vpc.id, body=AddVpcExtendCidrRequestBody(
    vpc=AddExtendCidrOption(extend_cidrs=["100.64.0.0/16"])))), 400, "VPC.9916")

# VPC v2.0 tags on the same VPC, seen by v3 too.
vpc_v1.batch_create_vpc_tags(BatchCreateVpcTagsRequest(vpc_id=vpc.id, body=BatchCreateVpcTagsRequestBody(
    action="create", tags=[VpcTag(key="team", value="net")])))
assert sorted((t.key, t.value) for t in vpc_v1.show_vpc_tags(ShowVpcTagsRequest(vpc_id=vpc.id)).tags) == [("env", "prod"), ("team", "net")]
assert len(v3.show_vpc(ShowVpcRequest(vpc_id=vpc.id)).vpc.tags) == 2

subnet = vpc_v1.create_subnet(CreateSubnetRequest(CreateSubnetRequestBody(CreateSubnetOption(
    name="downlink", cidr="10.30.1.0/24", gateway_ip="10.30.1.1", vpc_id=vpc.id)))).subnet
gateway = nat.create_private_nat(CreatePrivateNatRequest(CreatePrivateNatRequestBody(CreatePrivateNatOption(
    name="tagged-nat", downlink_vpcs=[DownlinkVpcOption(virsubnet_id=subnet.id)], tags=[NatTag(key="env", value="prod")])))).gateway

# Gateway tags: Terraform's batch, one tag with a key that needs percent-encoding, search.
nat.batch_create_delete_private_nat_tags(BatchCreateDeletePrivateNatTagsRequest(resource_id=gateway.id, body=BatchOperateResourceTagsRequestBody(
    action="create", tags=[NatTag(key="team", value="net")])))
nat.create_private_nat_tag(CreatePrivateNatTagRequest(resource_id=gateway.id, body=CreateResourceTagRequestBody(tag=NatTag(key="a b/ç", value="x"))))
keys = sorted(t.key for t in nat.show_private_nat_tags(ShowPrivateNatTagsRequest(resource_id=gateway.id)).tags)
assert keys == ["a b/ç", "env", "team"], keys
nat.delete_private_nat_tag(DeletePrivateNatTagRequest(resource_id=gateway.id, key="a b/ç"))
refused(lambda: nat.delete_private_nat_tag(DeletePrivateNatTagRequest(resource_id=gateway.id, key="a b/ç")), 404, "NAT.1002")
project_tags = {t.key: t.values for t in nat.list_private_nat_tags(ListPrivateNatTagsRequest()).tags}
assert project_tags == {"env": ["prod"], "team": ["net"]}, project_tags
found = nat.list_private_nats_by_tags(ListPrivateNatsByTagsRequest(body=ListTagResourceInstancesRequestBody(
    action="filter", offset="0", limit="10", tags=[Tags(key="team", values=["net"])])))
assert found.total_count == 1 and found.resources[0].resource_id == gateway.id, found

# A port in the downlink subnet backs a DNAT rule: its address and type come from the port.
port = vpc_v1.create_port(CreatePortRequest(CreatePortRequestBody(CreatePortOption(network_id=subnet.id, name="backend")))).port
assert port.fixed_ips[0].subnet_id == subnet.neutron_subnet_id and port.status == "DOWN", port
assert vpc_v1.show_port(ShowPortRequest(port_id=port.id)).port.mac_address == port.mac_address
assert [p.id for p in vpc_v1.list_ports(ListPortsRequest(network_id=subnet.id)).ports] == [port.id]
far = vpc_v1.create_subnet(CreateSubnetRequest(CreateSubnetRequestBody(CreateSubnetOption(
    name="transit", cidr="23.8.1.0/24", gateway_ip="23.8.1.1", vpc_id=vpc.id)))).subnet
transit_subnet = nat.create_transit_subnet(CreateTransitSubnetRequest(CreateTransitSubnetRequestBody(
    CreateTransitSubnetOption(name="transit", virsubnet_id=far.id)))).transit_subnet
transit_ip = nat.create_transit_ip(CreateTransitIpRequest(CreateTransitIpRequestBody(CreatTransitIpOption(virsubnet_id=transit_subnet.id)))).transit_ip
rule = nat.create_private_dnat(CreatePrivateDnatRequest(CreatePrivateDnatOptionBody(CreatePrivateDnatOption(
    transit_ip_id=transit_ip.id, gateway_id=gateway.id, network_interface_id=port.id)))).dnat_rule
assert (rule.private_ip_address, rule.type) == (port.fixed_ips[0].ip_address, "COMPUTE"), rule
refused(lambda: vpc_v1.delete_port(DeletePortRequest(port_id=port.id)), 400, "VPC.0101")
nat.delete_private_dnat(DeletePrivateDnatRequest(dnat_rule_id=rule.id))
vpc_v1.delete_port(DeletePortRequest(port_id=port.id))

# The secondary CIDR holds a subnet: removing it is refused until the subnet is gone (the transit
# subnet and IP first).
remove = RemoveVpcExtendCidrRequest(vpc_id=vpc.id, body=RemoveVpcExtendCidrRequestBody(vpc=RemoveExtendCidrOption(extend_cidrs=["23.8.0.0/16"])))
refused(lambda: v3.remove_vpc_extend_cidr(remove), 400, "VPC.0117")
print("ok")
