//! Claim scopes and owners. A claim is a unique `(scope, key)` held by an owner; `ClaimScope` is
//! the only place a scope's stored name is decided. Those names are in every store ever written,
//! so they are fixed here (the test below pins each one), never derived from display text.

use std::fmt;

use crate::error::ResourceKind;

/// Every kind of claim, with what its keys are and who owns them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimScope<'a> {
    /// Internal IPv4 addresses of a subnet (Yandex or Huawei); key: the address; owner: its user.
    SubnetIps(&'a str),
    /// Public (one-to-one NAT) IPv4 addresses; key: the address.
    PublicIps,
    /// An address scope's low-water mark: one claim, key "", owner `ALLOCATOR`, the address in
    /// `detail`. Every address below it is taken.
    LowWaterMark(&'a ClaimScope<'a>),
    /// Network interface indexes of an instance; key: the index.
    InstanceNics(&'a str),
    /// MAC addresses of network interfaces; key: the MAC address.
    Macs,
    /// Resource names of one kind within a folder; key: the name.
    Names(ResourceKind, &'a str),
    /// The one user of a static VPC address; key `ADDRESS_USER_KEY`, owner: the instance.
    AddressUser(&'a str),
    /// The one instance using a disk; key `DISK_USER_KEY`, owner: the instance.
    DiskUser(&'a str),
    /// The subnets a route table is linked to; key: the subnet id, owner: the subnet.
    RouteTableUsers(&'a str),
    /// The route tables routing through a gateway; key: the route table id, owner: the table.
    GatewayUsers(&'a str),
    /// The interfaces using a security group; key `<instance id>/<interface index>`.
    SecurityGroupUsers(&'a str),
    /// Idempotency keys; key `<subject>\n<method>\n<key>`, owner: the operation id, `detail` the
    /// request's fingerprint, `expires_at` when the key is forgotten.
    Idempotency,
    /// Issued IAM tokens; key: the token, owner: its subject, `expires_at` its expiry.
    IamTokens,
    /// The transit subnet built on a Huawei VPC subnet (one at most); key: the VPC subnet id.
    TransitSubnets,
    /// How a transit IP is used; key "". Owner `DNAT_PORTS` while DNAT rules forward single ports,
    /// `any:<rule id>` while one DNAT rule forwards the whole address (protocol any), or
    /// `snat:<rule id>` while an SNAT rule uses it (the stored name keeps its DNAT spelling).
    DnatMode(&'a str),
    /// Transit ports of a transit IP; key `<protocol>/<port>`, owner: the rule.
    DnatPorts(&'a str),
    /// What a gateway's SNAT rules take traffic from; key `subnet:<id>` or `cidr:<cidr>`, owner:
    /// the rule.
    SnatSources(&'a str),
    /// Backends of a gateway's DNAT rules; key `<backend>/<protocol>/<port>`, owner: the rule.
    DnatBackends(&'a str),
    /// The DNAT rules forwarding to a Huawei port; key and owner: the rule.
    PortUsers(&'a str),
}

impl ClaimScope<'_> {
    /// The scope's name in the claims table. Put together by hand: a call names several scopes,
    /// and `write!` through the formatting machinery cost about 800 instructions a name (callgrind),
    /// several times what copying the pieces does.
    pub fn stored(&self) -> String {
        let mut name = String::with_capacity(48);
        self.push_stored(&mut name);
        name
    }

    fn push_stored(&self, name: &mut String) {
        let (before, id, after): (&str, &str, &str) = match self {
            ClaimScope::SubnetIps(subnet_id) => ("subnet/", subnet_id, "/ip"),
            ClaimScope::PublicIps => (PUBLIC_IPS, "", ""),
            ClaimScope::LowWaterMark(scope) => {
                scope.push_stored(name);
                ("", "", "#lowest")
            }
            ClaimScope::InstanceNics(instance_id) => ("instance/", instance_id, "/nic"),
            ClaimScope::Macs => ("mac", "", ""),
            ClaimScope::Names(kind, folder_id) => {
                name.push_str("name/");
                name.push_str(name_scope(*kind));
                ("/", folder_id, "")
            }
            ClaimScope::AddressUser(address_id) => ("address/", address_id, "/user"),
            ClaimScope::DiskUser(disk_id) => ("disk/", disk_id, "/user"),
            ClaimScope::RouteTableUsers(route_table_id) => ("route-table/", route_table_id, "/subnets"),
            ClaimScope::GatewayUsers(gateway_id) => ("gateway/", gateway_id, "/route-tables"),
            ClaimScope::SecurityGroupUsers(group_id) => ("security-group/", group_id, "/users"),
            ClaimScope::Idempotency => ("idempotency", "", ""),
            ClaimScope::IamTokens => ("iam/tokens", "", ""),
            ClaimScope::TransitSubnets => ("nat/transit-subnets", "", ""),
            ClaimScope::DnatMode(transit_ip_id) => ("dnat/", transit_ip_id, "/mode"),
            ClaimScope::DnatPorts(transit_ip_id) => ("dnat/", transit_ip_id, "/ports"),
            ClaimScope::DnatBackends(gateway_id) => ("dnat/", gateway_id, "/backends"),
            ClaimScope::SnatSources(gateway_id) => ("snat/", gateway_id, "/sources"),
            ClaimScope::PortUsers(port_id) => ("port/", port_id, "/users"),
        };
        name.push_str(before);
        name.push_str(id);
        name.push_str(after);
    }
}

impl fmt::Display for ClaimScope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stored())
    }
}

const PUBLIC_IPS: &str = "public/ip";

/// The stored name of each kind's name scope. Stores already hold these spellings (earlier
/// releases derived them from the display names), so a reworded message must not change them.
fn name_scope(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Instance => "instance",
        ResourceKind::Network => "network",
        ResourceKind::Subnet => "subnet",
        ResourceKind::Operation => "operation",
        ResourceKind::Address => "address",
        ResourceKind::SecurityGroup => "security group",
        ResourceKind::Disk => "disk",
        ResourceKind::Image => "image",
        ResourceKind::Snapshot => "snapshot",
        ResourceKind::Zone => "zone",
        ResourceKind::DiskType => "disk type",
        ResourceKind::RouteTable => "route table",
        ResourceKind::EgressGateway => "egress gateway",
        ResourceKind::ApiEndpoint => "api endpoint",
        ResourceKind::Vpc => "vpc",
        ResourceKind::NatGateway => "gateway",
        ResourceKind::TransitSubnet => "transitsubnet",
        ResourceKind::TransitIp => "transitip",
        ResourceKind::DnatRule => "dnatrule",
        ResourceKind::SnatRule => "snatrule",
        ResourceKind::Port => "port",
        ResourceKind::FaultRule => "fault rule",
    }
}

/// Whether a stored scope's keys are IPv4 addresses handed out lowest first (and so whether it
/// has a low-water mark).
pub fn is_address_scope(scope: &str) -> bool {
    scope == PUBLIC_IPS || (scope.starts_with("subnet/") && scope.ends_with("/ip"))
}

/// The low-water mark's scope of a stored address scope.
pub fn low_water_mark(address_scope: &str) -> String {
    [address_scope, "#lowest"].concat()
}

/// The owner of every low-water mark: the allocator itself.
pub const ALLOCATOR: &str = "netplane.allocator";

pub const ADDRESS_USER_KEY: &str = "user";
pub const DISK_USER_KEY: &str = "user";

pub const DNAT_PORTS: &str = "ports";
pub const DNAT_ANY_PREFIX: &str = "any:";
/// The `DnatMode` owner while an SNAT rule uses the transit IP: `snat:<rule id>` (SNAT and DNAT
/// never share a transit IP).
pub const SNAT_PREFIX: &str = "snat:";

/// Owners are `<referrer type>:<id>`, the form `ListUsedAddresses` reports.
pub fn owner(referrer_type: &str, id: &str) -> String {
    [referrer_type, ":", id].concat()
}

pub const INSTANCE: &str = "compute.instance";
pub const NETWORK: &str = "vpc.network";
pub const SUBNET: &str = "vpc.subnet";
pub const ADDRESS: &str = "vpc.address";
pub const SECURITY_GROUP: &str = "vpc.securityGroup";
pub const DISK: &str = "compute.disk";
pub const ROUTE_TABLE: &str = "vpc.routeTable";
pub const GATEWAY: &str = "vpc.gateway";
pub const IMAGE: &str = "compute.image";
pub const HUAWEI_SUBNET_GATEWAY: &str = "huawei.subnetGateway";
pub const NAT_GATEWAY: &str = "nat.gateway";
pub const TRANSIT_IP: &str = "nat.transitIp";
pub const HUAWEI_PORT: &str = "vpc.port";

/// Splits an owner back into `(referrer type, id)`.
pub fn parse_owner(owner: &str) -> (&str, &str) {
    owner.split_once(':').unwrap_or(("", owner))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each scope's stored name, as every store so far holds it.
    #[test]
    fn stored_names_are_fixed() {
        let subnet = ClaimScope::SubnetIps("e9b1");
        let cases = [
            (subnet, "subnet/e9b1/ip"),
            (ClaimScope::PublicIps, "public/ip"),
            (ClaimScope::LowWaterMark(&subnet), "subnet/e9b1/ip#lowest"),
            (ClaimScope::LowWaterMark(&ClaimScope::PublicIps), "public/ip#lowest"),
            (ClaimScope::InstanceNics("fhm1"), "instance/fhm1/nic"),
            (ClaimScope::Macs, "mac"),
            (ClaimScope::Names(ResourceKind::Instance, "b1g"), "name/instance/b1g"),
            (ClaimScope::Names(ResourceKind::Network, "b1g"), "name/network/b1g"),
            (ClaimScope::Names(ResourceKind::Subnet, "b1g"), "name/subnet/b1g"),
            (ClaimScope::Names(ResourceKind::Address, "b1g"), "name/address/b1g"),
            (ClaimScope::Names(ResourceKind::SecurityGroup, "b1g"), "name/security group/b1g"),
            (ClaimScope::Names(ResourceKind::Disk, "b1g"), "name/disk/b1g"),
            (ClaimScope::Names(ResourceKind::Image, "b1g"), "name/image/b1g"),
            (ClaimScope::DiskUser("fhm1"), "disk/fhm1/user"),
            (ClaimScope::RouteTableUsers("enprt"), "route-table/enprt/subnets"),
            (ClaimScope::GatewayUsers("enpgw"), "gateway/enpgw/route-tables"),
            (ClaimScope::Names(ResourceKind::RouteTable, "b1g"), "name/route table/b1g"),
            (ClaimScope::Names(ResourceKind::EgressGateway, "b1g"), "name/egress gateway/b1g"),
            (ClaimScope::SnatSources("g"), "snat/g/sources"),
            (ClaimScope::PortUsers("p"), "port/p/users"),
            (ClaimScope::Names(ResourceKind::Port, "p"), "name/port/p"),
            (ClaimScope::Names(ResourceKind::Vpc, "p"), "name/vpc/p"),
            (ClaimScope::Names(ResourceKind::NatGateway, "p"), "name/gateway/p"),
            (ClaimScope::Names(ResourceKind::TransitSubnet, "p"), "name/transitsubnet/p"),
            (ClaimScope::Names(ResourceKind::TransitIp, "p"), "name/transitip/p"),
            (ClaimScope::Names(ResourceKind::DnatRule, "p"), "name/dnatrule/p"),
            (ClaimScope::AddressUser("e9ba"), "address/e9ba/user"),
            (ClaimScope::SecurityGroupUsers("enpg"), "security-group/enpg/users"),
            (ClaimScope::Idempotency, "idempotency"),
            (ClaimScope::IamTokens, "iam/tokens"),
            (ClaimScope::TransitSubnets, "nat/transit-subnets"),
            (ClaimScope::DnatMode("t1"), "dnat/t1/mode"),
            (ClaimScope::DnatPorts("t1"), "dnat/t1/ports"),
            (ClaimScope::DnatBackends("g1"), "dnat/g1/backends"),
        ];
        for (scope, stored) in cases {
            assert_eq!(scope.stored(), stored, "{scope:?}");
        }
        assert!(is_address_scope(&subnet.stored()) && is_address_scope("public/ip"));
        assert!(!is_address_scope(&ClaimScope::LowWaterMark(&subnet).stored()));
        assert_eq!(low_water_mark("public/ip"), ClaimScope::LowWaterMark(&ClaimScope::PublicIps).stored());
    }

    #[test]
    fn owners_round_trip() {
        assert_eq!(parse_owner(&owner(INSTANCE, "fhm1")), (INSTANCE, "fhm1"));
        assert_eq!(parse_owner("bare"), ("", "bare"));
    }
}
