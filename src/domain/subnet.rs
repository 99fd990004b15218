//! VPC subnets and their CIDR blocks.

use std::collections::HashMap;

use ipnet::Ipv4Net;

use super::clock::Timestamp;
use crate::error::{Error, FieldViolation};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DhcpOptions {
    pub domain_name_servers: Vec<String>,
    pub domain_name: String,
    pub ntp_servers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Subnet {
    pub id: String,
    pub folder_id: String,
    pub created_at: Timestamp,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub network_id: String,
    pub zone_id: String,
    pub v4_cidr_blocks: Vec<Ipv4Net>,
    pub route_table_id: String,
    pub dhcp_options: Option<DhcpOptions>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubnetPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub labels: Option<HashMap<String, String>>,
    pub route_table_id: Option<String>,
    pub dhcp_options: Option<Option<DhcpOptions>>,
}

impl Subnet {
    pub fn apply(&mut self, patch: &SubnetPatch) {
        if let Some(v) = &patch.name {
            self.name = v.clone();
        }
        if let Some(v) = &patch.description {
            self.description = v.clone();
        }
        if let Some(v) = &patch.labels {
            self.labels = v.clone();
        }
        if let Some(v) = &patch.route_table_id {
            self.route_table_id = v.clone();
        }
        if let Some(v) = &patch.dhcp_options {
            self.dhcp_options = v.clone();
        }
    }
}

/// Smallest and largest prefix a subnet block may have: /28 leaves room for a few hosts next to
/// the four reserved addresses; /16 is the largest block Yandex Cloud accepts.
pub const MIN_PREFIX: u8 = 16;
pub const MAX_PREFIX: u8 = 28;

/// Parses and checks `v4_cidr_blocks`: each a canonical IPv4 CIDR in a private range, /16 to /28,
/// and no two overlapping.
pub fn parse_cidr_blocks(field: &str, blocks: &[String]) -> Result<Vec<Ipv4Net>, Error> {
    let mut violations = Vec::new();
    let mut parsed: Vec<Ipv4Net> = Vec::new();
    if blocks.is_empty() {
        violations.push(FieldViolation::new(field, "at least one CIDR block is required"));
    }
    for (i, text) in blocks.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let Ok(net) = text.parse::<Ipv4Net>() else {
            violations.push(FieldViolation::new(f, format!("\"{text}\" is not an IPv4 CIDR block such as 10.0.0.0/24")));
            continue;
        };
        if net.network() != net.addr() {
            violations.push(FieldViolation::new(f, format!("\"{text}\" has host bits set; did you mean {}?", net.trunc())));
            continue;
        }
        if !(MIN_PREFIX..=MAX_PREFIX).contains(&net.prefix_len()) {
            violations.push(FieldViolation::new(f, format!("prefix length must be between /{MIN_PREFIX} and /{MAX_PREFIX}")));
            continue;
        }
        if !net.addr().is_private() {
            violations.push(FieldViolation::new(f, "must lie in a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)"));
            continue;
        }
        if let Some(other) = parsed.iter().find(|o| overlaps(o, &net)) {
            violations.push(FieldViolation::new(f, format!("overlaps {other}")));
            continue;
        }
        parsed.push(net);
    }
    if violations.is_empty() { Ok(parsed) } else { Err(Error::InvalidArgument(violations)) }
}

/// AddCidrBlocks and RemoveCidrBlocks: the subnet's blocks after the change. Added blocks must
/// not overlap the subnet's own; removed ones must be the subnet's, and one block must remain.
pub fn changed_blocks(current: &[Ipv4Net], add: &[Ipv4Net], remove: &[Ipv4Net]) -> Result<Vec<Ipv4Net>, Error> {
    let mut blocks = current.to_vec();
    for (i, block) in add.iter().enumerate() {
        if let Some(own) = blocks.iter().find(|b| overlaps(b, block)) {
            return Err(Error::invalid(format!("v4_cidr_blocks[{i}]"), format!("{block} overlaps the subnet's block {own}")));
        }
        blocks.push(*block);
    }
    for (i, block) in remove.iter().enumerate() {
        if !blocks.contains(block) {
            return Err(Error::invalid(format!("v4_cidr_blocks[{i}]"), format!("{block} is not a block of the subnet")));
        }
        blocks.retain(|b| b != block);
    }
    if blocks.is_empty() {
        return Err(Error::invalid("v4_cidr_blocks", "a subnet keeps at least one CIDR block"));
    }
    Ok(blocks)
}

pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Refuses blocks that overlap a block of another subnet of the same network.
pub fn check_no_overlap(network_id: &str, blocks: &[Ipv4Net], others: &[Subnet]) -> Result<(), Error> {
    for block in blocks {
        for other in others {
            if let Some(o) = other.v4_cidr_blocks.iter().find(|o| overlaps(o, block)) {
                return Err(Error::CidrOverlap {
                    cidr: block.to_string(),
                    other: o.to_string(),
                    subnet_id: other.id.clone(),
                    network_id: network_id.to_string(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_added_without_overlap_and_removed_only_when_the_subnets() {
        let net = |s: &str| s.parse::<Ipv4Net>().unwrap();
        let current = [net("10.1.0.0/24")];
        assert_eq!(changed_blocks(&current, &[net("10.2.0.0/24")], &[]).unwrap(), [net("10.1.0.0/24"), net("10.2.0.0/24")]);
        assert!(changed_blocks(&current, &[net("10.1.0.128/25")], &[]).is_err());
        assert!(changed_blocks(&current, &[], &[net("10.9.0.0/24")]).is_err());
        assert!(changed_blocks(&current, &[], &[net("10.1.0.0/24")]).is_err(), "the last block stays");
        assert_eq!(changed_blocks(&[net("10.1.0.0/24"), net("10.2.0.0/24")], &[], &[net("10.1.0.0/24")]).unwrap(), [net("10.2.0.0/24")]);
    }

    fn blocks(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn accepts_private_canonical_blocks() {
        let got = parse_cidr_blocks("v4_cidr_blocks", &blocks(&["10.0.0.0/24", "192.168.1.0/28"])).unwrap();
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn refuses_each_bad_block_with_its_index() {
        let err = parse_cidr_blocks(
            "v4_cidr_blocks",
            &blocks(&["10.0.0.1/24", "8.8.8.0/24", "10.0.0.0/8", "nonsense", "10.1.0.0/24", "10.1.0.0/25"]),
        )
        .unwrap_err();
        let fields: Vec<_> = err.violations().iter().map(|v| v.field.clone()).collect();
        assert_eq!(fields, ["v4_cidr_blocks[0]", "v4_cidr_blocks[1]", "v4_cidr_blocks[2]", "v4_cidr_blocks[3]", "v4_cidr_blocks[5]"]);
        assert!(err.to_string().contains("did you mean 10.0.0.0/24"));
    }

    #[test]
    fn requires_a_block() {
        assert!(parse_cidr_blocks("v4_cidr_blocks", &[]).is_err());
    }

    #[test]
    fn overlap_with_a_sibling_subnet_is_refused() {
        let sibling = Subnet {
            id: "e9b1".into(),
            folder_id: "f".into(),
            created_at: Timestamp(0),
            name: String::new(),
            description: String::new(),
            labels: HashMap::new(),
            network_id: "enp1".into(),
            zone_id: "ru-central1-a".into(),
            v4_cidr_blocks: vec!["10.0.0.0/16".parse().unwrap()],
            route_table_id: String::new(),
            dhcp_options: None,
        };
        let err = check_no_overlap("enp1", &["10.0.3.0/24".parse().unwrap()], std::slice::from_ref(&sibling)).unwrap_err();
        assert!(matches!(err, Error::CidrOverlap { .. }));
        assert!(check_no_overlap("enp1", &["10.1.0.0/24".parse().unwrap()], &[sibling]).is_ok());
    }
}
