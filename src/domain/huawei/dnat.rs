//! DNAT rules of a private NAT gateway: a transit IP (and port, per protocol) forwarded to a
//! backend, either a network interface or a private IP address. The field rules are here; which
//! rules may coexist is decided by the keys below, which the store holds unique.

use std::net::Ipv4Addr;

use super::listing::Listable;
use super::{Status, check_description, check_uuid, required};
use crate::domain::clock::Timestamp;
use crate::error::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Protocol {
    Tcp,
    Udp,
    /// Every protocol and port: the whole transit IP.
    Any,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Any => "any",
        }
    }

    /// `tcp`, `udp` or `any` in any case, or their protocol numbers 6, 17 and 0.
    fn parse(text: &str) -> Result<Protocol, Error> {
        match text.to_ascii_lowercase().as_str() {
            "tcp" | "6" => Ok(Protocol::Tcp),
            "udp" | "17" => Ok(Protocol::Udp),
            "any" | "0" => Ok(Protocol::Any),
            _ => Err(Error::invalid("dnat_rule.protocol", format!("must be tcp, udp or any, not {text:?}"))),
        }
    }
}

/// The kind of backend, as `type` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BackendType {
    Compute,
    Customize,
    Vip,
}

impl BackendType {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendType::Compute => "COMPUTE",
            BackendType::Customize => "CUSTOMIZE",
            BackendType::Vip => "VIP",
        }
    }
}

/// Where a rule forwards to: a port or an address, exactly one of them (NAT.1311).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Backend {
    /// A port as a request names it, before the service resolves it; rules stored by releases
    /// before ports existed keep it, and answer without an address as they did.
    Interface(String),
    Address(Ipv4Addr),
    /// A port of the project, with what the rule reports of it.
    Port {
        id: String,
        address: Ipv4Addr,
        backend_type: BackendType,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DnatRule {
    pub id: String,
    pub project_id: String,
    pub description: String,
    pub transit_ip_id: String,
    pub gateway_id: String,
    pub backend: Backend,
    pub protocol: Protocol,
    pub internal_service_port: u16,
    pub transit_service_port: u16,
    pub enterprise_project_id: String,
    pub status: Status,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The fields of a create or update request, as sent.
#[derive(Clone, Debug, Default)]
pub struct DnatSpec {
    pub description: Option<String>,
    pub transit_ip_id: Option<String>,
    pub gateway_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub private_ip_address: Option<String>,
    pub protocol: Option<String>,
    pub internal_service_port: Option<String>,
    pub transit_service_port: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

fn backend(spec: &DnatSpec) -> Result<Option<Backend>, Error> {
    match (given(&spec.network_interface_id), given(&spec.private_ip_address)) {
        (Some(_), Some(_)) => Err(Error::DnatBackendNotOne),
        (Some(nic), None) => {
            check_uuid("dnat_rule.network_interface_id", nic)?;
            Ok(Some(Backend::Interface(nic.to_string())))
        }
        (None, Some(ip)) => ip
            .parse()
            .map(|ip| Some(Backend::Address(ip)))
            .map_err(|_| Error::invalid("dnat_rule.private_ip_address", format!("{ip:?} is not an IPv4 address"))),
        (None, None) => Ok(None),
    }
}

fn port(field: &str, text: &str) -> Result<u16, Error> {
    text.parse::<u16>()
        .map_err(|_| Error::invalid(field, format!("must be a port number from 1 to 65535 (or 0 with protocol any), not {text:?}")))
}

/// Checks ports against the protocol: `any` takes the whole IP, so both ports are 0 (NAT.1306);
/// tcp and udp map one port to one port, 1 to 65535.
fn check_ports(protocol: Protocol, internal: u16, transit: u16) -> Result<(), Error> {
    match protocol {
        Protocol::Any if internal != 0 || transit != 0 => Err(Error::DnatAnyNeedsZeroPorts),
        Protocol::Any => Ok(()),
        _ => {
            for (field, value) in [("dnat_rule.internal_service_port", internal), ("dnat_rule.transit_service_port", transit)] {
                if value == 0 {
                    return Err(Error::invalid(field, format!("must be from 1 to 65535 with protocol {}", protocol.as_str())));
                }
            }
            Ok(())
        }
    }
}

impl DnatRule {
    /// A new rule from a create request, checked field by field.
    pub fn create(id: String, project_id: &str, spec: &DnatSpec, enterprise_project_id: &str, now: Timestamp) -> Result<DnatRule, Error> {
        let transit_ip_id = required("dnat_rule.transit_ip_id", spec.transit_ip_id.as_deref())?;
        check_uuid("dnat_rule.transit_ip_id", transit_ip_id)?;
        let gateway_id = required("dnat_rule.gateway_id", spec.gateway_id.as_deref())?;
        check_uuid("dnat_rule.gateway_id", gateway_id)?;
        let backend = backend(spec)?.ok_or(Error::DnatBackendNotOne)?;
        let description = spec.description.clone().unwrap_or_default();
        check_description("dnat_rule.description", &description)?;
        let protocol = given(&spec.protocol).map(Protocol::parse).transpose()?.unwrap_or(Protocol::Any);
        let internal = given(&spec.internal_service_port).map(|p| port("dnat_rule.internal_service_port", p)).transpose()?.unwrap_or(0);
        let transit = given(&spec.transit_service_port).map(|p| port("dnat_rule.transit_service_port", p)).transpose()?.unwrap_or(0);
        check_ports(protocol, internal, transit)?;
        Ok(DnatRule {
            id,
            project_id: project_id.to_string(),
            description,
            transit_ip_id: transit_ip_id.to_string(),
            gateway_id: gateway_id.to_string(),
            backend,
            protocol,
            internal_service_port: internal,
            transit_service_port: transit,
            enterprise_project_id: enterprise_project_id.to_string(),
            status: Status::Active,
            created_at: now,
            updated_at: now,
        })
    }

    /// The rule after an update: given fields replace the rule's, then every rule is checked again.
    /// The gateway cannot change.
    pub fn updated(&self, spec: &DnatSpec, now: Timestamp) -> Result<DnatRule, Error> {
        if given(&spec.gateway_id).is_some_and(|g| g != self.gateway_id) {
            return Err(Error::invalid("dnat_rule.gateway_id", "the gateway of a rule cannot be changed"));
        }
        let mut next = self.clone();
        if let Some(tip) = given(&spec.transit_ip_id) {
            check_uuid("dnat_rule.transit_ip_id", tip)?;
            next.transit_ip_id = tip.to_string();
        }
        if let Some(backend) = backend(spec)? {
            next.backend = backend;
        }
        if let Some(description) = &spec.description {
            check_description("dnat_rule.description", description)?;
            next.description = description.clone();
        }
        if let Some(protocol) = given(&spec.protocol) {
            next.protocol = Protocol::parse(protocol)?;
        }
        if let Some(p) = given(&spec.internal_service_port) {
            next.internal_service_port = port("dnat_rule.internal_service_port", p)?;
        }
        if let Some(p) = given(&spec.transit_service_port) {
            next.transit_service_port = port("dnat_rule.transit_service_port", p)?;
        }
        check_ports(next.protocol, next.internal_service_port, next.transit_service_port)?;
        next.updated_at = now;
        Ok(next)
    }

    pub fn backend_type(&self) -> BackendType {
        match self.backend {
            Backend::Interface(_) => BackendType::Compute,
            Backend::Address(_) => BackendType::Customize,
            Backend::Port { backend_type, .. } => backend_type,
        }
    }

    pub fn network_interface_id(&self) -> &str {
        match &self.backend {
            Backend::Interface(id) | Backend::Port { id, .. } => id,
            Backend::Address(_) => "",
        }
    }

    /// The port a rule forwards to, if it names one.
    pub fn port_id(&self) -> Option<&str> {
        match &self.backend {
            Backend::Interface(id) | Backend::Port { id, .. } => Some(id),
            Backend::Address(_) => None,
        }
    }

    pub fn private_ip_address(&self) -> String {
        match &self.backend {
            Backend::Interface(_) => String::new(),
            Backend::Address(ip) | Backend::Port { address: ip, .. } => ip.to_string(),
        }
    }

    /// The external key of a tcp/udp rule: its protocol and transit port on the transit IP
    /// (`None` for `any`, which takes the transit IP as a whole).
    pub fn transit_port_key(&self) -> Option<String> {
        (self.protocol != Protocol::Any).then(|| format!("{}/{}", self.protocol.as_str(), self.transit_service_port))
    }

    /// The internal key: one rule per backend, protocol and internal port on a gateway.
    pub fn backend_key(&self) -> String {
        let backend = match &self.backend {
            Backend::Interface(id) | Backend::Port { id, .. } => format!("nic:{id}"),
            Backend::Address(ip) => format!("ip:{ip}"),
        };
        format!("{backend}/{}/{}", self.protocol.as_str(), self.internal_service_port)
    }
}

impl Listable for DnatRule {
    const FILTERS: &'static [&'static str] = &[
        "id",
        "enterprise_project_id",
        "description",
        "gateway_id",
        "transit_ip_id",
        "network_interface_id",
        "type",
        "private_ip_address",
        "protocol",
        "internal_service_port",
        "transit_service_port",
    ];

    fn field(&self, name: &str) -> String {
        match name {
            "id" => self.id.clone(),
            "enterprise_project_id" => self.enterprise_project_id.clone(),
            "description" => self.description.clone(),
            "gateway_id" => self.gateway_id.clone(),
            "transit_ip_id" => self.transit_ip_id.clone(),
            "network_interface_id" => self.network_interface_id().to_string(),
            "type" => self.backend_type().as_str().to_string(),
            "private_ip_address" => self.private_ip_address(),
            "protocol" => self.protocol.as_str().to_string(),
            "internal_service_port" => self.internal_service_port.to_string(),
            "transit_service_port" => self.transit_service_port.to_string(),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIP: &str = "3faa719d-6d18-4ccb-a5c7-33e65a09663e";
    const GW: &str = "0adefb29-a6c2-48a5-8637-2be67fa03fec";
    const NIC: &str = "dae9393a-b536-491c-a5a2-72edc1104707";

    fn spec(protocol: Option<&str>, internal: Option<&str>, transit: Option<&str>) -> DnatSpec {
        DnatSpec {
            transit_ip_id: Some(TIP.into()),
            gateway_id: Some(GW.into()),
            private_ip_address: Some("192.168.1.72".into()),
            protocol: protocol.map(String::from),
            internal_service_port: internal.map(String::from),
            transit_service_port: transit.map(String::from),
            ..Default::default()
        }
    }

    fn create(spec: &DnatSpec) -> Result<DnatRule, Error> {
        DnatRule::create("r".into(), "p", spec, "0", Timestamp(0))
    }

    #[test]
    fn any_takes_the_whole_ip_and_needs_zero_ports() {
        let any = create(&spec(None, None, None)).unwrap();
        assert_eq!((any.protocol, any.internal_service_port, any.transit_service_port), (Protocol::Any, 0, 0));
        assert_eq!(any.transit_port_key(), None);
        assert!(create(&spec(Some("ANY"), Some("0"), Some("0"))).is_ok());
        assert_eq!(create(&spec(Some("any"), Some("80"), Some("0"))), Err(Error::DnatAnyNeedsZeroPorts));
        assert_eq!(create(&spec(Some("any"), None, Some("8080"))), Err(Error::DnatAnyNeedsZeroPorts));
    }

    #[test]
    fn tcp_and_udp_need_ports_from_1_to_65535() {
        let tcp = create(&spec(Some("tcp"), Some("80"), Some("8080"))).unwrap();
        assert_eq!(tcp.transit_port_key().as_deref(), Some("tcp/8080"));
        assert_eq!(tcp.backend_key(), "ip:192.168.1.72/tcp/80");
        assert_eq!(create(&spec(Some("17"), Some("53"), Some("53"))).unwrap().protocol, Protocol::Udp);
        let field = |s: DnatSpec| create(&s).unwrap_err().violations()[0].field.clone();
        assert_eq!(field(spec(Some("tcp"), None, Some("80"))), "dnat_rule.internal_service_port");
        assert_eq!(field(spec(Some("tcp"), Some("80"), Some("65536"))), "dnat_rule.transit_service_port");
        assert_eq!(field(spec(Some("tcp"), Some("-1"), Some("80"))), "dnat_rule.internal_service_port");
        assert_eq!(field(spec(Some("icmp"), None, None)), "dnat_rule.protocol");
    }

    #[test]
    fn exactly_one_backend() {
        let mut both = spec(None, None, None);
        both.network_interface_id = Some(NIC.into());
        assert_eq!(create(&both), Err(Error::DnatBackendNotOne));
        let mut neither = spec(None, None, None);
        neither.private_ip_address = Some(String::new());
        assert_eq!(create(&neither), Err(Error::DnatBackendNotOne));
        let nic = DnatSpec { private_ip_address: None, network_interface_id: Some(NIC.into()), ..spec(None, None, None) };
        let rule = create(&nic).unwrap();
        assert_eq!((rule.backend_type(), rule.network_interface_id(), rule.private_ip_address().as_str()), (BackendType::Compute, NIC, ""));
    }

    #[test]
    fn required_ids_and_description() {
        let field = |s: DnatSpec| create(&s).unwrap_err().violations()[0].field.clone();
        assert_eq!(field(DnatSpec { transit_ip_id: None, ..spec(None, None, None) }), "dnat_rule.transit_ip_id");
        assert_eq!(field(DnatSpec { gateway_id: Some("g".into()), ..spec(None, None, None) }), "dnat_rule.gateway_id");
        assert_eq!(field(DnatSpec { description: Some("<b>".into()), ..spec(None, None, None) }), "dnat_rule.description");
        assert_eq!(field(DnatSpec { private_ip_address: Some("1.2.3".into()), ..spec(None, None, None) }), "dnat_rule.private_ip_address");
    }

    #[test]
    fn updates_merge_then_check_every_rule_again() {
        let tcp = create(&spec(Some("tcp"), Some("80"), Some("8080"))).unwrap();
        let moved = tcp.updated(&DnatSpec { transit_service_port: Some("9090".into()), ..Default::default() }, Timestamp(5)).unwrap();
        assert_eq!((moved.transit_service_port, moved.internal_service_port, moved.updated_at), (9090, 80, Timestamp(5)));
        let to_any = DnatSpec { protocol: Some("any".into()), ..Default::default() };
        assert_eq!(tcp.updated(&to_any, Timestamp(5)), Err(Error::DnatAnyNeedsZeroPorts));
        let to_nic = tcp.updated(&DnatSpec { network_interface_id: Some(NIC.into()), ..Default::default() }, Timestamp(5)).unwrap();
        assert_eq!(to_nic.backend, Backend::Interface(NIC.into()));
        let other_gateway = DnatSpec { gateway_id: Some(TIP.into()), ..Default::default() };
        assert_eq!(tcp.updated(&other_gateway, Timestamp(5)).unwrap_err().violations()[0].field, "dnat_rule.gateway_id");
    }

    #[test]
    fn filters_read_the_wire_values() {
        let rule = create(&spec(Some("tcp"), Some("80"), Some("8080"))).unwrap();
        let wire: Vec<String> = DnatRule::FILTERS.iter().map(|f| rule.field(f)).collect();
        assert_eq!(wire, ["r", "0", "", GW, TIP, "", "CUSTOMIZE", "192.168.1.72", "tcp", "80", "8080"].map(String::from));
    }
}
