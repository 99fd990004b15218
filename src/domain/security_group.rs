//! VPC security groups and their rules, with the rule checks of the contract.

use std::collections::HashMap;

use ipnet::IpNet;

use super::clock::Timestamp;
use crate::error::{Error, FieldViolation};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Direction {
    Ingress,
    Egress,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Target {
    Cidr { v4: Vec<String>, v6: Vec<String> },
    SecurityGroup(String),
    Predefined(String),
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub direction: Direction,
    /// Inclusive port range; `None`: all ports.
    pub ports: Option<(i64, i64)>,
    pub protocol_name: String,
    pub protocol_number: i64,
    pub target: Target,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub folder_id: String,
    pub created_at: Timestamp,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub network_id: String,
    pub rules: Vec<Rule>,
    pub default_for_network: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SecurityGroupPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub labels: Option<HashMap<String, String>>,
    /// Replaces every rule.
    pub rules: Option<Vec<Rule>>,
}

impl SecurityGroup {
    /// UpdateRule: the rule's description and labels (`None` keeps one); the rest of a rule
    /// changes only by replacing it.
    pub fn update_rule(
        &mut self,
        rule_id: &str,
        description: Option<&String>,
        labels: Option<&HashMap<String, String>>,
    ) -> Result<&Rule, Error> {
        let group_id = self.id.clone();
        let rule = self
            .rules
            .iter_mut()
            .find(|r| r.id == rule_id)
            .ok_or_else(|| Error::invalid("rule_id", format!("rule {rule_id} is not in security group {group_id}")))?;
        if let Some(d) = description {
            rule.description = d.clone();
        }
        if let Some(l) = labels {
            rule.labels = l.clone();
        }
        Ok(rule)
    }
}

/// The group Yandex Cloud makes with every network: all traffic allowed both ways. `rule_ids`
/// name its ingress and egress rules.
pub fn default_for_network(id: &str, folder_id: &str, network_id: &str, created_at: Timestamp, rule_ids: [String; 2]) -> SecurityGroup {
    let [ingress, egress] = rule_ids;
    let rule = |id: String, direction| Rule {
        id,
        description: String::new(),
        labels: HashMap::new(),
        direction,
        ports: None,
        protocol_name: "ANY".into(),
        protocol_number: -1,
        target: Target::Cidr { v4: vec!["0.0.0.0/0".into()], v6: vec![] },
    };
    SecurityGroup {
        id: id.to_string(),
        folder_id: folder_id.to_string(),
        created_at,
        name: format!("default-sg-{network_id}"),
        description: "Default security group for network".into(),
        labels: HashMap::new(),
        network_id: network_id.to_string(),
        rules: vec![rule(ingress, Direction::Ingress), rule(egress, Direction::Egress)],
        default_for_network: true,
    }
}

/// The protocol names a rule may use, with their IANA numbers.
pub const PROTOCOLS: &[(&str, i64)] = &[("ANY", -1), ("TCP", 6), ("UDP", 17), ("ICMP", 1), ("IPV6_ICMP", 58)];

/// The predefined targets Yandex Cloud knows.
pub const PREDEFINED_TARGETS: &[&str] = &["self_security_group", "loadbalancer_healthchecks"];

/// Checks one rule as the contract and the real API do, reporting every problem under `field`.
pub fn check_rule(field: &str, rule: &Rule, out: &mut Vec<FieldViolation>) {
    if let Some((from, to)) = rule.ports {
        if !(0..=65535).contains(&from) || !(0..=65535).contains(&to) {
            out.push(FieldViolation::new(format!("{field}.ports"), "ports must be between 0 and 65535"));
        } else if from > to {
            out.push(FieldViolation::new(format!("{field}.ports"), format!("from_port {from} is greater than to_port {to}")));
        }
    }
    if !rule.protocol_name.is_empty() && !PROTOCOLS.iter().any(|(n, _)| n.eq_ignore_ascii_case(&rule.protocol_name)) {
        let names: Vec<_> = PROTOCOLS.iter().map(|(n, _)| *n).collect();
        out.push(FieldViolation::new(format!("{field}.protocol_name"), format!("unknown protocol; use one of {}", names.join(", "))));
    }
    if !(-1..=255).contains(&rule.protocol_number) {
        out.push(FieldViolation::new(format!("{field}.protocol_number"), "must be between 0 and 255"));
    }
    let portless = ["ICMP", "IPV6_ICMP"].iter().any(|p| p.eq_ignore_ascii_case(&rule.protocol_name));
    if portless && rule.ports.is_some() {
        out.push(FieldViolation::new(format!("{field}.ports"), "ICMP rules take no ports"));
    }
    match &rule.target {
        Target::Cidr { v4, v6 } => {
            if v4.is_empty() && v6.is_empty() {
                out.push(FieldViolation::new(format!("{field}.cidr_blocks"), "at least one CIDR block is required"));
            }
            for (i, c) in v4.iter().enumerate() {
                if !matches!(c.parse::<IpNet>(), Ok(IpNet::V4(n)) if n.trunc() == n) {
                    out.push(FieldViolation::new(
                        format!("{field}.cidr_blocks.v4_cidr_blocks[{i}]"),
                        format!("\"{c}\" is not an IPv4 CIDR block"),
                    ));
                }
            }
            for (i, c) in v6.iter().enumerate() {
                if !matches!(c.parse::<IpNet>(), Ok(IpNet::V6(n)) if n.trunc() == n) {
                    out.push(FieldViolation::new(
                        format!("{field}.cidr_blocks.v6_cidr_blocks[{i}]"),
                        format!("\"{c}\" is not an IPv6 CIDR block"),
                    ));
                }
            }
        }
        Target::SecurityGroup(id) if id.is_empty() => {
            out.push(FieldViolation::new(format!("{field}.security_group_id"), "required field is empty"));
        }
        Target::Predefined(t) if !PREDEFINED_TARGETS.contains(&t.as_str()) => {
            out.push(FieldViolation::new(format!("{field}.predefined_target"), format!("use one of {}", PREDEFINED_TARGETS.join(", "))));
        }
        _ => {}
    }
}

impl SecurityGroup {
    pub fn apply(&mut self, p: &SecurityGroupPatch) {
        if let Some(v) = &p.name {
            self.name = v.clone();
        }
        if let Some(v) = &p.description {
            self.description = v.clone();
        }
        if let Some(v) = &p.labels {
            self.labels = v.clone();
        }
        if let Some(v) = &p.rules {
            self.rules = v.clone();
        }
    }

    /// UpdateRules: drops `deleted` rule ids (all must exist), then appends `added`.
    pub fn update_rules(&mut self, deleted: &[String], added: Vec<Rule>) -> Result<(), String> {
        if let Some(missing) = deleted.iter().find(|id| !self.rules.iter().any(|r| &r.id == *id)) {
            return Err(missing.clone());
        }
        self.rules.retain(|r| !deleted.contains(&r.id));
        self.rules.extend(added);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(ports: Option<(i64, i64)>, protocol: &str, target: Target) -> Rule {
        Rule {
            id: "r".into(),
            description: String::new(),
            labels: HashMap::new(),
            direction: Direction::Ingress,
            ports,
            protocol_name: protocol.into(),
            protocol_number: 0,
            target,
        }
    }

    fn problems(r: &Rule) -> Vec<String> {
        let mut out = vec![];
        check_rule("rule", r, &mut out);
        out.into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn good_rules_pass() {
        let cidr = Target::Cidr { v4: vec!["0.0.0.0/0".into()], v6: vec![] };
        assert!(problems(&rule(Some((22, 22)), "TCP", cidr.clone())).is_empty());
        assert!(problems(&rule(None, "ANY", Target::Predefined("self_security_group".into()))).is_empty());
        assert!(problems(&rule(None, "icmp", cidr)).is_empty());
    }

    #[test]
    fn bad_rules_name_each_problem() {
        assert_eq!(
            problems(&rule(Some((80, 22)), "TCP", Target::Cidr { v4: vec!["10.0.0.1/8".into()], v6: vec![] })),
            ["rule.ports", "rule.cidr_blocks.v4_cidr_blocks[0]"]
        );
        assert_eq!(
            problems(&rule(Some((1, 70000)), "GRE?", Target::Cidr { v4: vec![], v6: vec![] })),
            ["rule.ports", "rule.protocol_name", "rule.cidr_blocks"]
        );
        assert_eq!(problems(&rule(Some((1, 2)), "ICMP", Target::Predefined("everyone".into()))), ["rule.ports", "rule.predefined_target"]);
    }

    #[test]
    fn update_rules_needs_existing_ids() {
        let mut sg = SecurityGroup {
            id: "sg".into(),
            folder_id: "f".into(),
            created_at: Timestamp(0),
            name: String::new(),
            description: String::new(),
            labels: HashMap::new(),
            network_id: "n".into(),
            rules: vec![rule(None, "ANY", Target::Predefined("self_security_group".into()))],
            default_for_network: false,
        };
        assert_eq!(sg.update_rules(&["nope".into()], vec![]), Err("nope".to_string()));
        let mut added = rule(None, "TCP", Target::SecurityGroup("other".into()));
        added.id = "r2".into();
        sg.update_rules(&["r".into()], vec![added]).unwrap();
        assert_eq!(sg.rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r2"]);
    }
}
