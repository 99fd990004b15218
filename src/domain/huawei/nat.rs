//! Private NAT gateways, transit subnets and transit IPs. A gateway has one downlink VPC (a subnet
//! it takes an address in); a transit subnet is built on a VPC subnet and takes its CIDR; transit
//! IPs are addresses of a transit subnet. A frozen gateway refuses every change (NAT.1208).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::listing::Listable;
use super::{Status, check_description, check_name, check_uuid, required};
use crate::domain::clock::Timestamp;
use crate::error::Error;

pub use super::tags::Tag;
use super::tags::{NAT_TAGS, tagged};

/// One gateway size, as `GET /v3/{project_id}/private-nat/specs` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NatSpec {
    pub name: &'static str,
    pub code: &'static str,
    pub cbc_code: &'static str,
    /// SNAT and DNAT rules together.
    pub rule_max: u32,
    pub sess_max: u32,
    pub bps_max: u32,
    pub pps_max: u32,
    pub qps_max: u32,
}

/// Huawei's published sizes (Extra-large's `qps_max` is cut off in every copy: netplane's choice).
pub const NAT_SPECS: [NatSpec; 4] = [
    NatSpec {
        name: "Small",
        code: "1",
        cbc_code: "privatenat_small",
        rule_max: 20,
        sess_max: 2000,
        bps_max: 233,
        pps_max: 20000,
        qps_max: 6000,
    },
    NatSpec {
        name: "Medium",
        code: "2",
        cbc_code: "privatenat_medium",
        rule_max: 50,
        sess_max: 5000,
        bps_max: 584,
        pps_max: 50000,
        qps_max: 9000,
    },
    NatSpec {
        name: "Large",
        code: "3",
        cbc_code: "privatenat_large",
        rule_max: 200,
        sess_max: 20000,
        bps_max: 2336,
        pps_max: 200000,
        qps_max: 10000,
    },
    NatSpec {
        name: "Extra-large",
        code: "4",
        cbc_code: "privatenat_xlarge",
        rule_max: 500,
        sess_max: 50000,
        bps_max: 5840,
        pps_max: 500000,
        qps_max: 10000,
    },
];

/// Gateway sizes, as the API spells them.
pub const SPECS: [&str; 4] = ["Small", "Medium", "Large", "Extra-large"];

/// How many rules (SNAT and DNAT together) a gateway of a spec may hold.
pub fn rule_max(spec: &str) -> u32 {
    NAT_SPECS.iter().find(|s| s.name == spec).map_or(NAT_SPECS[0].rule_max, |s| s.rule_max)
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DownlinkVpc {
    pub vpc_id: String,
    pub virsubnet_id: String,
    /// The gateway's own address in the subnet.
    pub ngport_ip_address: Ipv4Addr,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Gateway {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub spec: String,
    pub status: Status,
    pub downlink_vpcs: Vec<DownlinkVpc>,
    pub tags: Vec<Tag>,
    pub enterprise_project_id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A downlink subnet as a create-gateway request names it.
#[derive(Clone, Debug, Default)]
pub struct DownlinkSpec {
    pub virsubnet_id: Option<String>,
    pub ngport_ip_address: Option<String>,
}

/// What create-gateway and update-gateway requests give.
#[derive(Clone, Debug, Default)]
pub struct GatewaySpec {
    pub name: Option<String>,
    pub description: Option<String>,
    pub spec: Option<String>,
    pub downlink_vpcs: Vec<DownlinkSpec>,
    pub tags: Vec<Tag>,
    pub enterprise_project_id: Option<String>,
}

fn check_spec(spec: &str) -> Result<(), Error> {
    if SPECS.contains(&spec) {
        Ok(())
    } else {
        Err(Error::invalid("gateway.spec", format!("must be one of {}, not {spec:?}", SPECS.join(", "))))
    }
}

/// An optional IPv4 address field.
pub fn parse_address(field: &str, text: Option<&str>) -> Result<Option<Ipv4Addr>, Error> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| Error::invalid(field, format!("{t:?} is not an IPv4 address"))),
    }
}

impl GatewaySpec {
    /// Checks a create request; returns the downlink subnet id and requested address.
    pub fn check_create(&self) -> Result<(String, Option<Ipv4Addr>), Error> {
        check_name("gateway.name", required("gateway.name", self.name.as_deref())?)?;
        check_description("gateway.description", self.description.as_deref().unwrap_or(""))?;
        check_spec(self.spec.as_deref().unwrap_or("Small"))?;
        let [downlink] = self.downlink_vpcs.as_slice() else {
            return Err(Error::invalid("gateway.downlink_vpcs", "must name exactly one downlink subnet"));
        };
        let subnet_id = required("gateway.downlink_vpcs[0].virsubnet_id", downlink.virsubnet_id.as_deref())?;
        check_uuid("gateway.downlink_vpcs[0].virsubnet_id", subnet_id)?;
        let address = parse_address("gateway.downlink_vpcs[0].ngport_ip_address", downlink.ngport_ip_address.as_deref())?;
        NAT_TAGS.check_set(&self.tags)?;
        Ok((subnet_id.to_string(), address))
    }
}

impl Gateway {
    pub fn create(id: String, project_id: &str, spec: &GatewaySpec, downlink: DownlinkVpc, now: Timestamp) -> Gateway {
        Gateway {
            id,
            project_id: project_id.to_string(),
            name: spec.name.clone().unwrap_or_default(),
            description: spec.description.clone().unwrap_or_default(),
            spec: spec.spec.clone().unwrap_or_else(|| "Small".into()),
            status: Status::Active,
            downlink_vpcs: vec![downlink],
            tags: spec.tags.clone(),
            enterprise_project_id: spec.enterprise_project_id.clone().unwrap_or_else(|| "0".into()),
            created_at: now,
            updated_at: now,
        }
    }

    /// Changes are refused while the gateway is frozen.
    pub fn check_changeable(&self) -> Result<(), Error> {
        if self.status == Status::Frozen { Err(Error::GatewayFrozen(self.id.clone())) } else { Ok(()) }
    }

    /// Applies an update (name, description, spec).
    pub fn update(&mut self, spec: &GatewaySpec, now: Timestamp) -> Result<(), Error> {
        self.check_changeable()?;
        if let Some(name) = &spec.name {
            check_name("gateway.name", name)?;
        }
        if let Some(description) = &spec.description {
            check_description("gateway.description", description)?;
        }
        if let Some(s) = &spec.spec {
            check_spec(s)?;
            if *s == self.spec {
                return Err(Error::GatewaySpecUnchanged { id: self.id.clone(), spec: s.clone() });
            }
        }
        if let Some(name) = &spec.name {
            self.name = name.clone();
        }
        if let Some(description) = &spec.description {
            self.description = description.clone();
        }
        if let Some(s) = &spec.spec {
            self.spec = s.clone();
        }
        self.updated_at = now;
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransitSubnet {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub virsubnet_project_id: String,
    pub vpc_id: String,
    pub virsubnet_id: String,
    pub cidr: Ipv4Net,
    pub status: Status,
    /// Transit IPs allocated in it.
    pub ip_count: u32,
    pub tags: Vec<Tag>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Default)]
pub struct TransitSubnetSpec {
    pub name: Option<String>,
    pub description: Option<String>,
    pub virsubnet_id: Option<String>,
    pub virsubnet_project_id: Option<String>,
    pub tags: Vec<Tag>,
}

impl TransitSubnetSpec {
    /// Checks a create request; returns the VPC subnet it is built on.
    pub fn check_create(&self, project_id: &str) -> Result<String, Error> {
        self.check_update()?;
        let subnet_id = required("transit_subnet.virsubnet_id", self.virsubnet_id.as_deref())?;
        check_uuid("transit_subnet.virsubnet_id", subnet_id)?;
        if let Some(other) = self.virsubnet_project_id.as_deref().filter(|p| !p.is_empty() && *p != project_id) {
            return Err(Error::invalid(
                "transit_subnet.virsubnet_project_id",
                format!("subnets of other projects ({other}) cannot be used"),
            ));
        }
        NAT_TAGS.check_set(&self.tags)?;
        Ok(subnet_id.to_string())
    }

    pub fn check_update(&self) -> Result<(), Error> {
        if let Some(name) = self.name.as_deref() {
            check_name("transit_subnet.name", name)?;
        }
        check_description("transit_subnet.description", self.description.as_deref().unwrap_or(""))
    }
}

impl TransitSubnet {
    pub fn update(&mut self, spec: &TransitSubnetSpec, now: Timestamp) -> Result<(), Error> {
        spec.check_update()?;
        if let Some(name) = &spec.name {
            self.name = name.clone();
        }
        if let Some(description) = &spec.description {
            self.description = description.clone();
        }
        self.updated_at = now;
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransitIp {
    pub id: String,
    pub project_id: String,
    pub transit_subnet_id: String,
    /// The VPC subnet of its transit subnet.
    pub virsubnet_id: String,
    pub ip_address: Ipv4Addr,
    /// The port the address is bound to.
    pub network_interface_id: String,
    /// The gateway whose DNAT rules use it; empty while no rule does.
    pub gateway_id: String,
    pub tags: Vec<Tag>,
    pub enterprise_project_id: String,
    pub status: Status,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Default)]
pub struct TransitIpSpec {
    /// The transit subnet (or the VPC subnet it is built on).
    pub virsubnet_id: Option<String>,
    pub ip_address: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub tags: Vec<Tag>,
}

impl TransitIpSpec {
    /// Checks a create request; returns the subnet id and the requested address.
    pub fn check(&self) -> Result<(String, Option<Ipv4Addr>), Error> {
        let subnet_id = required("transit_ip.virsubnet_id", self.virsubnet_id.as_deref())?;
        check_uuid("transit_ip.virsubnet_id", subnet_id)?;
        let address = parse_address("transit_ip.ip_address", self.ip_address.as_deref())?;
        NAT_TAGS.check_set(&self.tags)?;
        Ok((subnet_id.to_string(), address))
    }
}

// A transit IP has no name: its address stands in for one.
tagged!(NAT_TAGS: Gateway => |g| g.name.clone(), TransitSubnet => |t| t.name.clone(), TransitIp => |t| t.ip_address.to_string());

impl Listable for Gateway {
    const FILTERS: &'static [&'static str] =
        &["id", "name", "description", "spec", "status", "vpc_id", "virsubnet_id", "enterprise_project_id"];

    fn field(&self, name: &str) -> String {
        let downlink = self.downlink_vpcs.first();
        match name {
            "id" => self.id.clone(),
            "name" => self.name.clone(),
            "description" => self.description.clone(),
            "spec" => self.spec.clone(),
            "status" => self.status.as_str().to_string(),
            "vpc_id" => downlink.map(|d| d.vpc_id.clone()).unwrap_or_default(),
            "virsubnet_id" => downlink.map(|d| d.virsubnet_id.clone()).unwrap_or_default(),
            "enterprise_project_id" => self.enterprise_project_id.clone(),
            _ => String::new(),
        }
    }
}

impl Listable for TransitSubnet {
    const FILTERS: &'static [&'static str] = &["id", "name", "description", "virsubnet_project_id", "vpc_id", "virsubnet_id", "status"];

    fn field(&self, name: &str) -> String {
        match name {
            "id" => self.id.clone(),
            "name" => self.name.clone(),
            "description" => self.description.clone(),
            "virsubnet_project_id" => self.virsubnet_project_id.clone(),
            "vpc_id" => self.vpc_id.clone(),
            "virsubnet_id" => self.virsubnet_id.clone(),
            "status" => self.status.as_str().to_string(),
            _ => String::new(),
        }
    }
}

impl Listable for TransitIp {
    const FILTERS: &'static [&'static str] =
        &["id", "network_interface_id", "ip_address", "gateway_id", "enterprise_project_id", "virsubnet_id", "transit_subnet_id"];

    fn field(&self, name: &str) -> String {
        match name {
            "id" => self.id.clone(),
            "network_interface_id" => self.network_interface_id.clone(),
            "ip_address" => self.ip_address.to_string(),
            "gateway_id" => self.gateway_id.clone(),
            "enterprise_project_id" => self.enterprise_project_id.clone(),
            "virsubnet_id" => self.virsubnet_id.clone(),
            "transit_subnet_id" => self.transit_subnet_id.clone(),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBNET: &str = "9e6dbb3a-1a1d-4c5e-9f59-0d3c8f1e2a10";

    fn gateway_spec(name: &str, downlinks: usize) -> GatewaySpec {
        GatewaySpec {
            name: Some(name.into()),
            downlink_vpcs: (0..downlinks).map(|_| DownlinkSpec { virsubnet_id: Some(SUBNET.into()), ngport_ip_address: None }).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_gateway_has_a_name_a_known_spec_and_one_downlink_subnet() {
        assert_eq!(gateway_spec("nat", 1).check_create().unwrap(), (SUBNET.to_string(), None));
        let field = |s: GatewaySpec| s.check_create().unwrap_err().violations()[0].field.clone();
        assert_eq!(field(gateway_spec("", 1)), "gateway.name");
        assert_eq!(field(gateway_spec("nat", 0)), "gateway.downlink_vpcs");
        assert_eq!(field(gateway_spec("nat", 2)), "gateway.downlink_vpcs");
        assert_eq!(field(GatewaySpec { spec: Some("Huge".into()), ..gateway_spec("nat", 1) }), "gateway.spec");
        let mut bad_ip = gateway_spec("nat", 1);
        bad_ip.downlink_vpcs[0].ngport_ip_address = Some("10.0.0.x".into());
        assert_eq!(field(bad_ip), "gateway.downlink_vpcs[0].ngport_ip_address");
    }

    #[test]
    fn a_frozen_gateway_refuses_updates_and_keeps_its_fields() {
        let downlink = DownlinkVpc { vpc_id: "v".into(), virsubnet_id: SUBNET.into(), ngport_ip_address: Ipv4Addr::new(10, 0, 0, 3) };
        let mut gateway = Gateway::create("g".into(), "p", &gateway_spec("nat", 1), downlink, Timestamp(1));
        gateway
            .update(&GatewaySpec { name: Some("renamed".into()), spec: Some("Large".into()), ..Default::default() }, Timestamp(2))
            .unwrap();
        assert_eq!((gateway.name.as_str(), gateway.spec.as_str(), gateway.updated_at), ("renamed", "Large", Timestamp(2)));
        gateway.status = Status::Frozen;
        let before = gateway.clone();
        assert_eq!(
            gateway.update(&GatewaySpec { name: Some("x".into()), ..Default::default() }, Timestamp(3)),
            Err(Error::GatewayFrozen("g".into()))
        );
        assert_eq!(gateway, before);
    }

    #[test]
    fn transit_subnets_and_ips_need_a_subnet_of_the_project() {
        let spec = TransitSubnetSpec { virsubnet_id: Some(SUBNET.into()), ..Default::default() };
        assert_eq!(spec.check_create("p").unwrap(), SUBNET);
        let other = TransitSubnetSpec { virsubnet_project_id: Some("q".into()), ..spec.clone() };
        assert!(other.check_create("p").is_err());
        assert!(TransitSubnetSpec::default().check_create("p").is_err());
        let ip = TransitIpSpec { virsubnet_id: Some(SUBNET.into()), ip_address: Some("10.1.0.9".into()), ..Default::default() };
        assert_eq!(ip.check().unwrap().1, Some(Ipv4Addr::new(10, 1, 0, 9)));
        assert!(TransitIpSpec { virsubnet_id: Some("short".into()), ..Default::default() }.check().is_err());
    }
}
