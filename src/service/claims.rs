//! Names of claim scopes and owners. A claim is a unique `(scope, key)`; these functions are the
//! only place their spelling is decided.

/// Internal IPv4 addresses of a subnet; key: the address.
pub fn subnet_ips(subnet_id: &str) -> String {
    format!("subnet/{subnet_id}/ip")
}

/// Whether a scope's keys are IPv4 addresses handed out lowest first.
pub fn is_address_scope(scope: &str) -> bool {
    scope == PUBLIC_IPS || (scope.starts_with("subnet/") && scope.ends_with("/ip"))
}

/// Where an address scope keeps its low-water mark (one claim, key "", owner: the address).
pub fn low_water_mark(scope: &str) -> String {
    format!("{scope}#lowest")
}

/// Network interface indexes of an instance; key: the index.
pub fn instance_nics(instance_id: &str) -> String {
    format!("instance/{instance_id}/nic")
}

/// Resource names within a folder; key: the name.
pub fn names(kind: &str, folder_id: &str) -> String {
    format!("name/{kind}/{folder_id}")
}

/// MAC addresses of network interfaces; key: the MAC address.
pub const MAC_ADDRESSES: &str = "mac";

/// Public (one-to-one NAT) IPv4 addresses; key: the address.
pub const PUBLIC_IPS: &str = "public/ip";

/// The one user of a static VPC address; key: `ADDRESS_USER_KEY`, owner: the instance.
pub fn address_user(address_id: &str) -> String {
    format!("address/{address_id}/user")
}

pub const ADDRESS_USER_KEY: &str = "user";

/// The interfaces using a security group; key: `<instance id>/<interface index>`.
pub fn security_group_users(security_group_id: &str) -> String {
    format!("security-group/{security_group_id}/users")
}

/// The transit subnet built on a Huawei VPC subnet (one at most); key: the VPC subnet id.
pub const TRANSIT_SUBNETS: &str = "nat/transit-subnets";

/// How a transit IP's DNAT rules use it; key "". Owner `DNAT_PORTS` while rules forward single
/// ports, or `any:<rule id>` while one rule forwards the whole address (protocol any).
pub fn dnat_mode(transit_ip_id: &str) -> String {
    format!("dnat/{transit_ip_id}/mode")
}

pub const DNAT_PORTS: &str = "ports";
pub const DNAT_ANY_PREFIX: &str = "any:";

/// Transit ports of a transit IP; key `<protocol>/<port>`, owner: the rule.
pub fn dnat_ports(transit_ip_id: &str) -> String {
    format!("dnat/{transit_ip_id}/ports")
}

/// Backends of a gateway's DNAT rules; key `<backend>/<protocol>/<port>`, owner: the rule.
pub fn dnat_backends(gateway_id: &str) -> String {
    format!("dnat/{gateway_id}/backends")
}

/// Owners are `<referrer type>:<id>`, the form `ListUsedAddresses` reports.
pub fn owner(referrer_type: &str, id: &str) -> String {
    format!("{referrer_type}:{id}")
}

pub const INSTANCE: &str = "compute.instance";
pub const NETWORK: &str = "vpc.network";
pub const SUBNET: &str = "vpc.subnet";
pub const ADDRESS: &str = "vpc.address";
pub const SECURITY_GROUP: &str = "vpc.securityGroup";
pub const HUAWEI_SUBNET_GATEWAY: &str = "huawei.subnetGateway";
pub const NAT_GATEWAY: &str = "nat.gateway";
pub const TRANSIT_IP: &str = "nat.transitIp";

/// Splits an owner back into `(referrer type, id)`.
pub fn parse_owner(owner: &str) -> (&str, &str) {
    owner.split_once(':').unwrap_or(("", owner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_round_trip() {
        assert_eq!(parse_owner(&owner(INSTANCE, "fhm1")), (INSTANCE, "fhm1"));
        assert_eq!(parse_owner("bare"), ("", "bare"));
    }
}
