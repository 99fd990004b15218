//! Huawei VPCs and subnets, one resource seen through VPC v1 and v3. A VPC's primary CIDR is
//! private (RFC 1918, prefix up to /24); up to five secondary (`extend_cidrs`) blocks may be added,
//! outside the reserved ones. A subnet's CIDR lies in one of its VPC's blocks, does not overlap its
//! siblings and has a gateway address inside it.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::listing::Listable;
use super::tags::{Tag, VPC_TAGS, tagged};
use super::{check_description, check_name};
use crate::domain::clock::Timestamp;
use crate::domain::subnet::overlaps;
use crate::error::Error;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vpc {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub cidr: Ipv4Net,
    pub enterprise_project_id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Secondary CIDR blocks (VPC v3), in the order they were added.
    #[serde(default)]
    pub extend_cidrs: Vec<Ipv4Net>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Subnet {
    pub id: String,
    pub project_id: String,
    pub vpc_id: String,
    pub name: String,
    pub description: String,
    pub cidr: Ipv4Net,
    pub gateway_ip: Ipv4Addr,
    pub dhcp_enable: bool,
    pub primary_dns: String,
    pub secondary_dns: String,
    pub availability_zone: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The DNS servers handed out (`dnsList`): the primary and secondary, and any others given.
    #[serde(default)]
    pub dns_list: Vec<String>,
    /// The Neutron subnet inside this (Neutron network) subnet: ports' `fixed_ips` name it. Rows
    /// of releases before it was separate have none, and answer with the subnet id, as they did.
    #[serde(default)]
    pub neutron_subnet_id: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// The CIDR a VPC gets when the request names none.
pub const DEFAULT_VPC_CIDR: &str = "192.168.0.0/16";

/// Secondary CIDR blocks a VPC may have.
pub const MAX_EXTEND_CIDRS: usize = 5;

/// Blocks no secondary CIDR may overlap (Huawei's SDK list).
const RESERVED_BLOCKS: [&str; 9] = [
    "100.64.0.0/10",
    "214.0.0.0/7",
    "198.18.0.0/15",
    "169.254.0.0/16",
    "0.0.0.0/8",
    "127.0.0.0/8",
    "240.0.0.0/4",
    "172.31.0.0/16",
    "192.168.0.0/16",
];

/// Private ranges that cannot be a secondary CIDR as a whole (a part of them can).
const WHOLE_RANGES: [&str; 2] = ["10.0.0.0/8", "172.16.0.0/12"];

/// The private ranges a VPC may use and the longest prefix it may have.
const PRIVATE_RANGES: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
const LONGEST_VPC_PREFIX: u8 = 24;
const LONGEST_SUBNET_PREFIX: u8 = 29;

/// A VPC's CIDR: canonical, private, at most a /24.
fn vpc_cidr(text: &str) -> Result<Ipv4Net, Error> {
    let cidr = parse_cidr("vpc.cidr", text)?;
    let private = PRIVATE_RANGES.iter().filter_map(|r| r.parse::<Ipv4Net>().ok()).any(|range| range.contains(&cidr));
    if !private || cidr.prefix_len() > LONGEST_VPC_PREFIX {
        return Err(Error::invalid(
            "vpc.cidr",
            format!("{cidr} must lie in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 with a prefix of at most /{LONGEST_VPC_PREFIX}"),
        ));
    }
    Ok(cidr)
}

/// A CIDR in canonical form (`10.0.0.0/16`, not `10.0.0.1/16`).
fn parse_cidr(field: &str, text: &str) -> Result<Ipv4Net, Error> {
    let net: Ipv4Net = text.parse().map_err(|_| Error::invalid(field, format!("{text:?} is not an IPv4 CIDR block")))?;
    if net.network() != net.addr() {
        return Err(Error::invalid(field, format!("{text:?} is not canonical; did you mean {}?", net.trunc())));
    }
    Ok(net)
}

/// What a create-VPC request gives.
#[derive(Clone, Debug, Default)]
pub struct VpcSpec {
    pub name: Option<String>,
    pub description: Option<String>,
    pub cidr: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub tags: Vec<Tag>,
}

/// A secondary CIDR as given: canonical IPv4 (VPC.9911), the longest prefix a VPC may have.
fn extend_cidr(text: &str) -> Result<Ipv4Net, Error> {
    let cidr: Ipv4Net = text.parse().map_err(|_| Error::ExtendCidrInvalid(text.to_string()))?;
    if cidr.network() != cidr.addr() || cidr.prefix_len() > LONGEST_VPC_PREFIX {
        return Err(Error::ExtendCidrInvalid(text.to_string()));
    }
    Ok(cidr)
}

impl Vpc {
    /// The primary CIDR and the secondary ones.
    pub fn cidrs(&self) -> Vec<Ipv4Net> {
        std::iter::once(self.cidr).chain(self.extend_cidrs.iter().copied()).collect()
    }

    /// `PUT /v3/{project_id}/vpc/vpcs/{id}/add-extend-cidr`: each block canonical, outside the
    /// reserved blocks and apart from the VPC's blocks and the others given; five at most.
    pub fn add_extend_cidrs(&mut self, texts: &[String], now: Timestamp) -> Result<(), Error> {
        if texts.is_empty() {
            return Err(Error::ExtendCidrInvalid(String::new()));
        }
        let mut next = self.extend_cidrs.clone();
        for text in texts {
            let cidr = extend_cidr(text)?;
            let reserved = RESERVED_BLOCKS.iter().filter_map(|b| b.parse::<Ipv4Net>().ok()).find(|b| overlaps(b, &cidr));
            let whole = WHOLE_RANGES.iter().filter_map(|b| b.parse::<Ipv4Net>().ok()).find(|b| *b == cidr);
            if let Some(block) = reserved.or(whole) {
                return Err(Error::ExtendCidrReserved { cidr: cidr.to_string(), reserved: block.to_string() });
            }
            if let Some(other) = std::iter::once(self.cidr).chain(next.iter().copied()).find(|c| overlaps(c, &cidr)) {
                return Err(Error::ExtendCidrOverlaps { cidr: cidr.to_string(), other: other.to_string() });
            }
            next.push(cidr);
        }
        if next.len() > MAX_EXTEND_CIDRS {
            return Err(Error::TooManyExtendCidrs { vpc_id: self.id.clone(), limit: MAX_EXTEND_CIDRS });
        }
        self.extend_cidrs = next;
        self.updated_at = now;
        Ok(())
    }

    /// `PUT …/remove-extend-cidr`: each block must be a secondary CIDR of the VPC holding no subnet.
    pub fn remove_extend_cidrs(&mut self, texts: &[String], subnets: &[Subnet], now: Timestamp) -> Result<(), Error> {
        if texts.is_empty() {
            return Err(Error::ExtendCidrInvalid(String::new()));
        }
        let mut next = self.extend_cidrs.clone();
        for text in texts {
            let cidr = extend_cidr(text)?;
            let Some(at) = next.iter().position(|c| *c == cidr) else {
                return Err(Error::ExtendCidrNotFound { vpc_id: self.id.clone(), cidr: cidr.to_string() });
            };
            if let Some(subnet) = subnets.iter().find(|s| cidr.contains(&s.cidr)) {
                return Err(Error::ExtendCidrHasSubnets { cidr: cidr.to_string(), subnet_id: subnet.id.clone() });
            }
            next.remove(at);
        }
        self.extend_cidrs = next;
        self.updated_at = now;
        Ok(())
    }

    /// `PUT /v1/{project_id}/vpcs/{id}`: name, description and CIDR (which must still hold every
    /// subnet of the VPC, `subnets`).
    pub fn update(&mut self, spec: &VpcSpec, subnets: &[Subnet], now: Timestamp) -> Result<(), Error> {
        if let Some(name) = spec.name.as_deref().filter(|n| !n.is_empty()) {
            check_name("vpc.name", name)?;
        }
        if let Some(description) = &spec.description {
            check_description("vpc.description", description)?;
        }
        let cidr = spec.cidr.as_deref().map(vpc_cidr).transpose()?;
        if let Some(cidr) = cidr
            && let Some(other) = self.extend_cidrs.iter().find(|c| overlaps(c, &cidr))
        {
            return Err(Error::invalid("vpc.cidr", format!("{cidr} overlaps the secondary CIDR block {other}")));
        }
        let held = |blocks: &[Ipv4Net], s: &Subnet| blocks.iter().any(|b| b.contains(&s.cidr));
        if let Some(cidr) = cidr
            && let Some(outside) = subnets.iter().find(|s| !cidr.contains(&s.cidr) && !held(&self.extend_cidrs, s))
        {
            return Err(Error::VpcCidrExcludesSubnet {
                vpc_id: self.id.clone(),
                cidr: cidr.to_string(),
                subnet_cidr: outside.cidr.to_string(),
            });
        }
        if let Some(name) = &spec.name {
            self.name = name.clone();
        }
        if let Some(description) = &spec.description {
            self.description = description.clone();
        }
        if let Some(cidr) = cidr {
            self.cidr = cidr;
        }
        self.updated_at = now;
        Ok(())
    }

    pub fn create(id: String, project_id: &str, spec: &VpcSpec, now: Timestamp) -> Result<Vpc, Error> {
        let name = spec.name.clone().unwrap_or_default();
        if !name.is_empty() {
            check_name("vpc.name", &name)?;
        }
        let description = spec.description.clone().unwrap_or_default();
        check_description("vpc.description", &description)?;
        let cidr = vpc_cidr(spec.cidr.as_deref().unwrap_or(DEFAULT_VPC_CIDR))?;
        Ok(Vpc {
            id,
            project_id: project_id.to_string(),
            name,
            description,
            cidr,
            enterprise_project_id: spec.enterprise_project_id.clone().unwrap_or_else(|| "0".into()),
            created_at: now,
            updated_at: now,
            extend_cidrs: Vec::new(),
            tags: spec.tags.clone(),
        })
    }
}

/// What a create-subnet request gives.
#[derive(Clone, Debug, Default)]
pub struct SubnetSpec {
    pub name: Option<String>,
    pub description: Option<String>,
    pub cidr: Option<String>,
    pub vpc_id: Option<String>,
    pub gateway_ip: Option<String>,
    pub dhcp_enable: Option<bool>,
    pub primary_dns: Option<String>,
    pub secondary_dns: Option<String>,
    pub dns_list: Option<Vec<String>>,
    pub availability_zone: Option<String>,
    pub tags: Vec<Tag>,
}

impl Subnet {
    /// `PUT /v1/{project_id}/vpcs/{vpc_id}/subnets/{id}`: the name (required), description, DHCP
    /// switch and DNS servers; the CIDR, gateway, VPC and zone stay.
    pub fn update(&mut self, spec: &SubnetSpec, now: Timestamp) -> Result<(), Error> {
        let name = super::required("subnet.name", spec.name.as_deref())?;
        check_name("subnet.name", name)?;
        if let Some(description) = &spec.description {
            check_description("subnet.description", description)?;
        }
        for (field, dns) in [("subnet.primary_dns", &spec.primary_dns), ("subnet.secondary_dns", &spec.secondary_dns)] {
            if let Some(dns) = dns.as_deref().filter(|d| !d.is_empty()) {
                dns.parse::<Ipv4Addr>().map_err(|_| Error::invalid(field, format!("{dns:?} is not an IPv4 address")))?;
            }
        }
        let primary = spec.primary_dns.clone().unwrap_or_else(|| self.primary_dns.clone());
        let secondary = spec.secondary_dns.clone().unwrap_or_else(|| self.secondary_dns.clone());
        if !primary.is_empty() && primary == secondary {
            return Err(Error::invalid("subnet.secondary_dns", "must differ from primary_dns"));
        }
        let named = SubnetSpec {
            primary_dns: Some(primary.clone()),
            secondary_dns: Some(secondary.clone()),
            dns_list: spec.dns_list.clone(),
            ..Default::default()
        };
        let dns_list = if spec.dns_list.is_some() || spec.primary_dns.is_some() || spec.secondary_dns.is_some() {
            Some(dns_list(&named)?)
        } else {
            None
        };
        self.name = name.to_string();
        if let Some(description) = &spec.description {
            self.description = description.clone();
        }
        if let Some(dhcp) = spec.dhcp_enable {
            self.dhcp_enable = dhcp;
        }
        self.primary_dns = primary;
        self.secondary_dns = secondary;
        if let Some(list) = dns_list {
            self.dns_list = list;
        }
        self.updated_at = now;
        Ok(())
    }

    /// The Neutron subnet id (the subnet's own id for rows from before it was separate).
    pub fn neutron_subnet_id(&self) -> &str {
        if self.neutron_subnet_id.is_empty() { &self.id } else { &self.neutron_subnet_id }
    }

    /// A subnet of `vpc`; `siblings` are the VPC's other subnets.
    pub fn create(
        id: String,
        neutron_subnet_id: String,
        vpc: &Vpc,
        spec: &SubnetSpec,
        siblings: &[Subnet],
        now: Timestamp,
    ) -> Result<Subnet, Error> {
        let name = super::required("subnet.name", spec.name.as_deref())?;
        check_name("subnet.name", name)?;
        let description = spec.description.clone().unwrap_or_default();
        check_description("subnet.description", &description)?;
        let cidr = parse_cidr("subnet.cidr", super::required("subnet.cidr", spec.cidr.as_deref())?)?;
        if !vpc.cidrs().iter().any(|block| block.contains(&cidr)) || cidr.prefix_len() > LONGEST_SUBNET_PREFIX {
            let blocks: Vec<String> = vpc.cidrs().iter().map(ToString::to_string).collect();
            return Err(Error::invalid(
                "subnet.cidr",
                format!(
                    "{cidr} must lie in a CIDR block of the VPC ({}) with a prefix of at most /{LONGEST_SUBNET_PREFIX}",
                    blocks.join(", ")
                ),
            ));
        }
        if let Some(other) = siblings.iter().find(|s| overlaps(&s.cidr, &cidr)) {
            return Err(Error::invalid("subnet.cidr", format!("{cidr} overlaps {} of subnet {}", other.cidr, other.id)));
        }
        let gateway_text = super::required("subnet.gateway_ip", spec.gateway_ip.as_deref())?;
        let gateway_ip: Ipv4Addr =
            gateway_text.parse().map_err(|_| Error::invalid("subnet.gateway_ip", format!("{gateway_text:?} is not an IPv4 address")))?;
        if !cidr.contains(&gateway_ip) || gateway_ip == cidr.network() || gateway_ip == cidr.broadcast() {
            return Err(Error::invalid("subnet.gateway_ip", format!("{gateway_ip} must be a host address of {cidr}")));
        }
        for (field, dns) in [("subnet.primary_dns", &spec.primary_dns), ("subnet.secondary_dns", &spec.secondary_dns)] {
            if let Some(dns) = dns.as_deref().filter(|d| !d.is_empty()) {
                dns.parse::<Ipv4Addr>().map_err(|_| Error::invalid(field, format!("{dns:?} is not an IPv4 address")))?;
            }
        }
        let dns_list = dns_list(spec)?;
        Ok(Subnet {
            id,
            project_id: vpc.project_id.clone(),
            vpc_id: vpc.id.clone(),
            name: name.to_string(),
            description,
            cidr,
            gateway_ip,
            dhcp_enable: spec.dhcp_enable.unwrap_or(true),
            primary_dns: spec.primary_dns.clone().unwrap_or_default(),
            secondary_dns: spec.secondary_dns.clone().unwrap_or_default(),
            availability_zone: spec.availability_zone.clone().unwrap_or_default(),
            created_at: now,
            updated_at: now,
            dns_list,
            neutron_subnet_id,
            tags: spec.tags.clone(),
        })
    }
}

/// The subnet's `dnsList`: as given (IPv4 addresses, including the primary and secondary DNS
/// when those are given too), or the primary and secondary.
fn dns_list(spec: &SubnetSpec) -> Result<Vec<String>, Error> {
    let named: Vec<String> = [&spec.primary_dns, &spec.secondary_dns].into_iter().flatten().filter(|d| !d.is_empty()).cloned().collect();
    let Some(list) = &spec.dns_list else { return Ok(named) };
    for (i, dns) in list.iter().enumerate() {
        dns.parse::<Ipv4Addr>().map_err(|_| Error::invalid(format!("subnet.dnsList[{i}]"), format!("{dns:?} is not an IPv4 address")))?;
    }
    if let Some(missing) = named.iter().find(|d| !list.contains(d)) {
        return Err(Error::invalid("subnet.dnsList", format!("must include the primary and secondary DNS; {missing} is missing")));
    }
    Ok(list.clone())
}

tagged!(VPC_TAGS: Vpc => |v| v.name.clone(), Subnet => |s| s.name.clone());

/// VPC v1 lists filter on `id` and `enterprise_project_id`.
impl Listable for Vpc {
    const FILTERS: &'static [&'static str] = &["id", "enterprise_project_id"];

    fn field(&self, name: &str) -> String {
        match name {
            "id" => self.id.clone(),
            "enterprise_project_id" => self.enterprise_project_id.clone(),
            _ => String::new(),
        }
    }
}

/// Subnet lists filter on `vpc_id`.
impl Listable for Subnet {
    const FILTERS: &'static [&'static str] = &["vpc_id"];

    fn field(&self, name: &str) -> String {
        if name == "vpc_id" { self.vpc_id.clone() } else { String::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vpc(cidr: &str) -> Result<Vpc, Error> {
        Vpc::create("v".into(), "p", &VpcSpec { name: Some("vpc-1".into()), cidr: Some(cidr.into()), ..Default::default() }, Timestamp(0))
    }

    fn subnet(vpc: &Vpc, cidr: &str, gateway: &str, siblings: &[Subnet]) -> Result<Subnet, Error> {
        let spec = SubnetSpec { name: Some("s".into()), cidr: Some(cidr.into()), gateway_ip: Some(gateway.into()), ..Default::default() };
        Subnet::create("s".into(), "n".into(), vpc, &spec, siblings, Timestamp(0))
    }

    #[test]
    fn dns_list_includes_the_named_servers() {
        let vpc = vpc("10.0.0.0/16").unwrap();
        let spec = |primary: Option<&str>, list: Option<Vec<&str>>| SubnetSpec {
            name: Some("s".into()),
            cidr: Some("10.0.1.0/24".into()),
            gateway_ip: Some("10.0.1.1".into()),
            primary_dns: primary.map(String::from),
            dns_list: list.map(|l| l.into_iter().map(String::from).collect()),
            ..Default::default()
        };
        let made = |s: SubnetSpec| Subnet::create("s".into(), "n".into(), &vpc, &s, &[], Timestamp(0));
        assert_eq!(made(spec(Some("100.125.1.250"), None)).unwrap().dns_list, ["100.125.1.250"]);
        assert_eq!(made(spec(Some("100.125.1.250"), Some(vec!["100.125.1.250", "8.8.8.8"]))).unwrap().dns_list.len(), 2);
        assert!(made(spec(Some("100.125.1.250"), Some(vec!["8.8.8.8"]))).is_err());
        assert!(made(spec(None, Some(vec!["dns.example"]))).is_err());
        assert_eq!(made(spec(None, None)).unwrap().neutron_subnet_id(), "n");
    }

    #[test]
    fn vpc_cidrs_are_private_canonical_and_not_too_small() {
        assert!(vpc("10.0.0.0/16").is_ok());
        assert!(vpc("192.168.0.0/24").is_ok());
        for bad in ["8.8.0.0/16", "10.0.0.0/25", "10.0.0.1/16", "nope", "0.0.0.0/0"] {
            assert_eq!(vpc(bad).unwrap_err().violations()[0].field, "vpc.cidr", "{bad}");
        }
        let default = Vpc::create("v".into(), "p", &VpcSpec::default(), Timestamp(0)).unwrap();
        assert_eq!(default.cidr.to_string(), DEFAULT_VPC_CIDR);
    }

    #[test]
    fn subnets_lie_in_their_vpc_apart_from_siblings_with_a_host_gateway() {
        let v = vpc("10.0.0.0/16").unwrap();
        let first = subnet(&v, "10.0.1.0/24", "10.0.1.1", &[]).unwrap();
        assert_eq!(first.vpc_id, "v");
        let field = |r: Result<Subnet, Error>| r.unwrap_err().violations()[0].field.clone();
        assert_eq!(field(subnet(&v, "10.1.0.0/24", "10.1.0.1", &[])), "subnet.cidr");
        assert_eq!(field(subnet(&v, "10.0.0.0/30", "10.0.0.1", &[])), "subnet.cidr");
        assert_eq!(field(subnet(&v, "10.0.1.128/25", "10.0.1.129", std::slice::from_ref(&first))), "subnet.cidr");
        assert_eq!(field(subnet(&v, "10.0.2.0/24", "10.0.3.1", &[])), "subnet.gateway_ip");
        assert_eq!(field(subnet(&v, "10.0.2.0/24", "10.0.2.0", &[])), "subnet.gateway_ip");
        assert_eq!(field(subnet(&v, "10.0.2.0/24", "10.0.2.255", &[])), "subnet.gateway_ip");
        assert_eq!(field(subnet(&v, "10.0.2.0/24", "x", &[])), "subnet.gateway_ip");
        assert!(subnet(&v, "10.0.2.0/24", "10.0.2.1", std::slice::from_ref(&first)).is_ok());
    }

    #[test]
    fn secondary_cidrs_are_free_blocks_outside_the_reserved_ones() {
        let mut v = vpc("10.0.0.0/16").unwrap();
        let add = |v: &mut Vpc, cidrs: &[&str]| v.add_extend_cidrs(&cidrs.iter().map(|c| c.to_string()).collect::<Vec<_>>(), Timestamp(1));
        add(&mut v, &["23.8.0.0/16", "10.1.0.0/16"]).unwrap();
        assert_eq!(v.cidrs().len(), 3);
        assert!(matches!(add(&mut v, &["10.0.128.0/17"]), Err(Error::ExtendCidrOverlaps { .. })));
        assert!(matches!(add(&mut v, &["23.8.1.0/24"]), Err(Error::ExtendCidrOverlaps { .. })));
        assert!(matches!(add(&mut v, &["30.0.0.0/16", "30.0.0.0/16"]), Err(Error::ExtendCidrOverlaps { .. })));
        assert_eq!(v.extend_cidrs.len(), 2, "a refused add changes nothing");
        for reserved in ["100.64.0.0/16", "192.168.1.0/24", "10.0.0.0/8", "172.16.0.0/12", "127.0.0.0/16"] {
            assert!(matches!(add(&mut v, &[reserved]), Err(Error::ExtendCidrReserved { .. })), "{reserved}");
        }
        for bad in ["23.9.0.1/16", "nope", "40.0.0.0/25"] {
            assert!(matches!(add(&mut v, &[bad]), Err(Error::ExtendCidrInvalid(_))), "{bad}");
        }
        add(&mut v, &["40.0.0.0/16", "41.0.0.0/16", "42.0.0.0/16"]).unwrap();
        assert!(matches!(add(&mut v, &["43.0.0.0/16"]), Err(Error::TooManyExtendCidrs { limit: 5, .. })));

        let inside = subnet(&v, "23.8.1.0/24", "23.8.1.1", &[]).unwrap();
        let remove = |v: &mut Vpc, cidr: &str, subnets: &[Subnet]| v.remove_extend_cidrs(&[cidr.to_string()], subnets, Timestamp(2));
        assert!(matches!(remove(&mut v, "23.8.0.0/16", std::slice::from_ref(&inside)), Err(Error::ExtendCidrHasSubnets { .. })));
        assert!(matches!(remove(&mut v, "50.0.0.0/16", &[]), Err(Error::ExtendCidrNotFound { .. })));
        remove(&mut v, "23.8.0.0/16", &[]).unwrap();
        assert_eq!(v.extend_cidrs.len(), 4);
        assert!(subnet(&v, "23.8.1.0/24", "23.8.1.1", &[]).is_err(), "the block is gone");
    }

    #[test]
    fn a_new_primary_cidr_keeps_subnets_of_secondary_blocks() {
        let mut v = vpc("10.0.0.0/16").unwrap();
        v.add_extend_cidrs(&["23.8.0.0/16".to_string()], Timestamp(1)).unwrap();
        let inside = subnet(&v, "23.8.1.0/24", "23.8.1.1", &[]).unwrap();
        let spec = |cidr: &str| VpcSpec { cidr: Some(cidr.into()), ..Default::default() };
        v.update(&spec("10.1.0.0/16"), std::slice::from_ref(&inside), Timestamp(2)).unwrap();
        assert_eq!(v.cidr.to_string(), "10.1.0.0/16");
    }
}
