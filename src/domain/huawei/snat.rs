//! SNAT rules of a private NAT gateway: traffic from a VPC subnet of the gateway's VPC, or from a
//! CIDR, leaves through one transit IP. The field rules are here; which rules may coexist (one per
//! subnet or CIDR on a gateway, a transit IP used by SNAT or DNAT, not both) rests on claims.

use ipnet::Ipv4Net;

use super::listing::Listable;
use super::{Status, check_description, check_uuid, required};
use crate::domain::clock::Timestamp;
use crate::error::Error;

/// A transit IP the rule uses, with its address (answered and filtered on).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransitIpAssociation {
    pub transit_ip_id: String,
    pub transit_ip_address: String,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnatRule {
    pub id: String,
    pub project_id: String,
    pub gateway_id: String,
    /// Exactly one of `cidr` and `virsubnet_id` is set; the other is empty, as answered.
    pub cidr: String,
    pub virsubnet_id: String,
    pub description: String,
    pub transit_ips: Vec<TransitIpAssociation>,
    pub enterprise_project_id: String,
    pub status: Status,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The create and update options as sent (update takes only `description` and `transit_ip_ids`).
#[derive(Clone, Debug, Default)]
pub struct SnatSpec {
    pub gateway_id: Option<String>,
    pub cidr: Option<String>,
    pub virsubnet_id: Option<String>,
    pub description: Option<String>,
    pub transit_ip_ids: Option<Vec<String>>,
}

/// The one transit IP a rule may use (Huawei: "cannot exceed 1").
fn transit_ip_id(ids: Option<&Vec<String>>) -> Result<String, Error> {
    let ids = ids.filter(|ids| !ids.is_empty()).ok_or_else(|| Error::invalid("snat_rule.transit_ip_ids", "is required"))?;
    if ids.len() > 1 {
        return Err(Error::SnatTooManyTransitIps(ids.len()));
    }
    let id = &ids[0];
    if check_uuid("snat_rule.transit_ip_ids", id).is_err() {
        return Err(Error::SnatTransitIpNotUuid(id.clone()));
    }
    Ok(id.clone())
}

impl SnatRule {
    /// A new rule from `spec`, its transit IP's address not yet known (`transit_ip_address`
    /// is filled by the caller from the transit IP).
    pub fn create(id: String, project_id: &str, spec: &SnatSpec, now: Timestamp) -> Result<(SnatRule, String), Error> {
        let gateway_id = required("snat_rule.gateway_id", spec.gateway_id.as_deref())?;
        check_uuid("snat_rule.gateway_id", gateway_id)?;
        let (cidr, virsubnet_id) =
            match (spec.cidr.as_deref().filter(|c| !c.is_empty()), spec.virsubnet_id.as_deref().filter(|v| !v.is_empty())) {
                (Some(cidr), None) => {
                    let net: Ipv4Net = cidr.parse().map_err(|_| Error::SnatCidrMalformed(cidr.to_string()))?;
                    if net != net.trunc() {
                        return Err(Error::SnatCidrMalformed(cidr.to_string()));
                    }
                    (net.to_string(), String::new())
                }
                (None, Some(subnet)) => {
                    check_uuid("snat_rule.virsubnet_id", subnet)?;
                    (String::new(), subnet.to_string())
                }
                _ => return Err(Error::SnatSourceNotOne),
            };
        let description = spec.description.clone().unwrap_or_default();
        check_description("snat_rule.description", &description)?;
        let transit_ip_id = transit_ip_id(spec.transit_ip_ids.as_ref())?;
        let rule = SnatRule {
            id,
            project_id: project_id.to_string(),
            gateway_id: gateway_id.to_string(),
            cidr,
            virsubnet_id,
            description,
            transit_ips: vec![],
            enterprise_project_id: "0".into(),
            status: Status::Active,
            created_at: now,
            updated_at: now,
        };
        Ok((rule, transit_ip_id))
    }

    /// The rule after an update: description and transit IP only; `gateway_id`, `cidr` and
    /// `virsubnet_id` cannot change. Answers the transit IP the rule will use.
    pub fn updated(&self, spec: &SnatSpec, now: Timestamp) -> Result<(SnatRule, String), Error> {
        for (field, given) in
            [("snat_rule.gateway_id", &spec.gateway_id), ("snat_rule.cidr", &spec.cidr), ("snat_rule.virsubnet_id", &spec.virsubnet_id)]
        {
            if given.is_some() {
                return Err(Error::invalid(field, "cannot be changed"));
            }
        }
        let mut next = self.clone();
        if let Some(description) = &spec.description {
            check_description("snat_rule.description", description)?;
            next.description = description.clone();
        }
        let transit_ip_id = match &spec.transit_ip_ids {
            Some(_) => transit_ip_id(spec.transit_ip_ids.as_ref())?,
            None => self.transit_ip_id().to_string(),
        };
        next.updated_at = now;
        Ok((next, transit_ip_id))
    }

    pub fn transit_ip_id(&self) -> &str {
        self.transit_ips.first().map_or("", |t| t.transit_ip_id.as_str())
    }

    /// What the rule takes its traffic from, as a claim key unique per gateway.
    pub fn source_key(&self) -> String {
        if self.virsubnet_id.is_empty() { format!("cidr:{}", self.cidr) } else { format!("subnet:{}", self.virsubnet_id) }
    }
}

impl Listable for SnatRule {
    const FILTERS: &'static [&'static str] =
        &["id", "description", "gateway_id", "cidr", "virsubnet_id", "transit_ip_id", "transit_ip_address", "enterprise_project_id"];

    fn field(&self, name: &str) -> String {
        match name {
            "id" => self.id.clone(),
            "description" => self.description.clone(),
            "gateway_id" => self.gateway_id.clone(),
            "cidr" => self.cidr.clone(),
            "virsubnet_id" => self.virsubnet_id.clone(),
            "transit_ip_id" => self.transit_ip_id().to_string(),
            "transit_ip_address" => self.transit_ips.first().map(|t| t.transit_ip_address.clone()).unwrap_or_default(),
            "enterprise_project_id" => self.enterprise_project_id.clone(),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: &str = "0a4f4d5e-0000-4000-8000-000000000001";
    const T: &str = "0a4f4d5e-0000-4000-8000-000000000002";
    const S: &str = "0a4f4d5e-0000-4000-8000-000000000003";

    fn spec(cidr: Option<&str>, subnet: Option<&str>, tips: Vec<&str>) -> SnatSpec {
        SnatSpec {
            gateway_id: Some(G.into()),
            cidr: cidr.map(String::from),
            virsubnet_id: subnet.map(String::from),
            description: None,
            transit_ip_ids: Some(tips.into_iter().map(String::from).collect()),
        }
    }

    #[test]
    fn a_rule_has_one_source_and_one_transit_ip() {
        let make = |s: SnatSpec| SnatRule::create("r".into(), "p", &s, Timestamp(0));
        let (rule, tip) = make(spec(Some("10.1.0.0/24"), None, vec![T])).unwrap();
        assert_eq!((rule.cidr.as_str(), rule.virsubnet_id.as_str(), tip.as_str()), ("10.1.0.0/24", "", T));
        assert_eq!(rule.source_key(), "cidr:10.1.0.0/24");
        assert_eq!(make(spec(None, Some(S), vec![T])).unwrap().0.source_key(), format!("subnet:{S}"));
        assert!(matches!(make(spec(Some("10.1.0.0/24"), Some(S), vec![T])), Err(Error::SnatSourceNotOne)));
        assert!(matches!(make(spec(None, None, vec![T])), Err(Error::SnatSourceNotOne)));
        assert!(matches!(make(spec(Some("10.1.0.1/24"), None, vec![T])), Err(Error::SnatCidrMalformed(_))));
        assert!(matches!(make(spec(Some("10.1.0.0/24"), None, vec![T, T])), Err(Error::SnatTooManyTransitIps(2))));
        assert!(matches!(make(spec(Some("10.1.0.0/24"), None, vec!["nope"])), Err(Error::SnatTransitIpNotUuid(_))));
        let (rule, _) = make(spec(Some("10.1.0.0/24"), None, vec![T])).unwrap();
        let moved = SnatSpec { cidr: Some("10.2.0.0/24".into()), ..Default::default() };
        assert!(rule.updated(&moved, Timestamp(1)).is_err(), "the source cannot change");
    }
}
