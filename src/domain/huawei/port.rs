//! Huawei VPC v1 ports: one IPv4 address of a subnet, bound to nothing until something uses it.
//! Private NAT's DNAT rules name one as their backend (`network_interface_id`) and take its
//! address and type from it. Users may create plain ports and virtual-IP ports
//! (`device_owner` `""` or `neutron:VIP_PORT`); the others are made by cloud services.

use std::net::Ipv4Addr;

use super::dnat::BackendType;
use super::listing::Listable;
use super::{check_name, check_uuid, required};
use crate::domain::clock::Timestamp;
use crate::error::Error;

/// The owner of a virtual-IP port.
pub const VIP_OWNER: &str = "neutron:VIP_PORT";

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Port {
    pub id: String,
    pub project_id: String,
    pub name: String,
    /// The VPC v1 subnet (Neutron network) the port is in.
    pub network_id: String,
    /// The Neutron subnet of its fixed IP.
    pub neutron_subnet_id: String,
    pub ip_address: Ipv4Addr,
    pub mac_address: String,
    pub device_owner: String,
    pub admin_state_up: bool,
    pub security_groups: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A fixed IP as a create request gives it.
#[derive(Clone, Debug, Default)]
pub struct FixedIpSpec {
    pub subnet_id: Option<String>,
    pub ip_address: Option<String>,
}

/// What a create-port request gives.
#[derive(Clone, Debug, Default)]
pub struct PortSpec {
    pub name: Option<String>,
    pub network_id: Option<String>,
    pub fixed_ips: Vec<FixedIpSpec>,
    pub device_owner: Option<String>,
    pub admin_state_up: Option<bool>,
    pub security_groups: Vec<String>,
}

/// A checked create request: the subnet, the Neutron subnet the fixed IP names (if any) and the
/// address asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortPlacement {
    pub network_id: String,
    pub neutron_subnet_id: Option<String>,
    pub ip_address: Option<Ipv4Addr>,
}

impl PortSpec {
    pub fn check(&self) -> Result<PortPlacement, Error> {
        let network_id = required("port.network_id", self.network_id.as_deref())?;
        check_uuid("port.network_id", network_id)?;
        if let Some(name) = self.name.as_deref().filter(|n| !n.is_empty()) {
            check_name("port.name", name)?;
        }
        if let Some(owner) = self.device_owner.as_deref().filter(|o| !o.is_empty() && *o != VIP_OWNER) {
            return Err(Error::invalid("port.device_owner", format!("must be \"\" or \"{VIP_OWNER}\", not {owner:?}")));
        }
        for group in &self.security_groups {
            check_uuid("port.security_groups", group)?;
        }
        let (neutron_subnet_id, ip_address) = match self.fixed_ips.as_slice() {
            [] => (None, None),
            [fixed] => {
                let address = fixed
                    .ip_address
                    .as_deref()
                    .filter(|a| !a.is_empty())
                    .map(|a| {
                        a.parse::<Ipv4Addr>()
                            .map_err(|_| Error::invalid("port.fixed_ips[0].ip_address", format!("{a:?} is not an IPv4 address")))
                    })
                    .transpose()?;
                (fixed.subnet_id.clone().filter(|s| !s.is_empty()), address)
            }
            _ => return Err(Error::invalid("port.fixed_ips", "a port has exactly one IPv4 fixed IP")),
        };
        Ok(PortPlacement { network_id: network_id.to_string(), neutron_subnet_id, ip_address })
    }
}

impl Port {
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        id: String,
        project_id: &str,
        spec: &PortSpec,
        network_id: &str,
        neutron_subnet_id: &str,
        ip_address: Ipv4Addr,
        now: Timestamp,
    ) -> Port {
        Port {
            mac_address: mac_address(&id),
            id,
            project_id: project_id.to_string(),
            name: spec.name.clone().unwrap_or_default(),
            network_id: network_id.to_string(),
            neutron_subnet_id: neutron_subnet_id.to_string(),
            ip_address,
            device_owner: spec.device_owner.clone().unwrap_or_default(),
            admin_state_up: spec.admin_state_up.unwrap_or(true),
            security_groups: spec.security_groups.clone(),
            created_at: now,
            updated_at: now,
        }
    }

    /// What a DNAT rule forwarding to this port reports as its `type`.
    pub fn backend_type(&self) -> BackendType {
        if self.device_owner == VIP_OWNER { BackendType::Vip } else { BackendType::Compute }
    }

    /// `DOWN`: no instance is ever bound to a port netplane makes.
    pub fn status(&self) -> &'static str {
        "DOWN"
    }
}

/// A MAC address in OpenStack's `fa:16:3e` range, fixed by the port's id.
fn mac_address(id: &str) -> String {
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let [a, b, c, ..] = hash.to_be_bytes();
    format!("fa:16:3e:{a:02x}:{b:02x}:{c:02x}")
}

impl Listable for Port {
    const FILTERS: &'static [&'static str] = &[
        "id",
        "name",
        "network_id",
        "mac_address",
        "device_id",
        "device_owner",
        "status",
        "admin_state_up",
        "security_groups",
        "fixed_ips",
        "enterprise_project_id",
        "enable_efi",
    ];

    fn field(&self, name: &str) -> String {
        match name {
            "id" => self.id.clone(),
            "name" => self.name.clone(),
            "network_id" => self.network_id.clone(),
            "mac_address" => self.mac_address.clone(),
            "device_owner" => self.device_owner.clone(),
            "status" => self.status().to_string(),
            "admin_state_up" => self.admin_state_up.to_string(),
            "enterprise_project_id" => "0".into(),
            "enable_efi" => "false".into(),
            _ => String::new(),
        }
    }

    /// `fixed_ips` values name one part of the fixed IP (`ip_address=10.0.0.5`, `subnet_id=…`), and
    /// `security_groups` one of the port's groups.
    fn filter_matches(&self, name: &str, value: &str) -> bool {
        match name {
            "fixed_ips" => match value.split_once('=') {
                Some(("ip_address", ip)) => ip == self.ip_address.to_string(),
                Some(("subnet_id", subnet)) => subnet == self.neutron_subnet_id,
                _ => false,
            },
            "security_groups" => self.security_groups.iter().any(|g| g == value),
            _ => self.field(name) == value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBNET: &str = "24dd6bf5-48f2-4915-ad0b-5bb111d39c83";

    fn spec() -> PortSpec {
        PortSpec { network_id: Some(SUBNET.into()), ..Default::default() }
    }

    #[test]
    fn a_port_needs_its_subnet_and_at_most_one_fixed_ip() {
        assert_eq!(spec().check().unwrap(), PortPlacement { network_id: SUBNET.into(), neutron_subnet_id: None, ip_address: None });
        assert!(PortSpec::default().check().is_err());
        let two = PortSpec { fixed_ips: vec![FixedIpSpec::default(), FixedIpSpec::default()], ..spec() };
        assert!(two.check().is_err());
        let at = PortSpec { fixed_ips: vec![FixedIpSpec { subnet_id: Some("n".into()), ip_address: Some("10.0.0.9".into()) }], ..spec() };
        assert_eq!(at.check().unwrap().ip_address, Some(Ipv4Addr::new(10, 0, 0, 9)));
        let bad = PortSpec { fixed_ips: vec![FixedIpSpec { subnet_id: None, ip_address: Some("10.0.0".into()) }], ..spec() };
        assert!(bad.check().is_err());
    }

    #[test]
    fn users_make_plain_and_virtual_ip_ports_only() {
        for owner in ["", VIP_OWNER] {
            assert!(PortSpec { device_owner: Some(owner.into()), ..spec() }.check().is_ok());
        }
        for owner in ["compute:cn-north-4a", "network:nat_gateway"] {
            assert!(PortSpec { device_owner: Some(owner.into()), ..spec() }.check().is_err());
        }
    }

    #[test]
    fn ports_have_stable_macs_and_a_backend_type() {
        let port = Port::create("p1".into(), "proj", &spec(), SUBNET, "n", Ipv4Addr::new(10, 0, 0, 5), Timestamp(1));
        assert_eq!(port.mac_address, mac_address("p1"));
        assert!(port.mac_address.starts_with("fa:16:3e:") && port.mac_address.len() == 17);
        assert_ne!(mac_address("p1"), mac_address("p2"));
        assert_eq!(port.backend_type(), BackendType::Compute);
        let vip = Port { device_owner: VIP_OWNER.into(), ..port.clone() };
        assert_eq!(vip.backend_type(), BackendType::Vip);
        assert!(port.filter_matches("fixed_ips", "ip_address=10.0.0.5"));
        assert!(port.filter_matches("fixed_ips", "subnet_id=n"));
        assert!(!port.filter_matches("fixed_ips", "ip_address=10.0.0.6"));
    }
}
