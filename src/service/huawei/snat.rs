//! SNAT rules. What may coexist rests on claims, so it holds under concurrent requests and across
//! replicas: one rule per source (subnet or CIDR) on a gateway (`SnatSources`), and a transit IP
//! used by one SNAT rule or by DNAT rules, never both (`DnatMode`, owner `snat:<rule id>`).

use super::nat::{gateway_in, transit_ip_in};
use super::vpc::subnet_in;
use super::{load_in, rule_count};
use crate::domain::huawei::nat::{Gateway, TransitIp, rule_max};
use crate::domain::huawei::snat::{SnatRule, SnatSpec, TransitIpAssociation};
use crate::error::{Error, Result};
use crate::service::HuaweiArea;
use crate::service::claims::{ClaimScope, DNAT_ANY_PREFIX, SNAT_PREFIX};
use crate::store::{Claim, Tx, TxExt};

fn rule_in(tx: &mut dyn Tx, project_id: &str, id: &str) -> Result<SnatRule> {
    load_in::<SnatRule>(tx, project_id, id)
}

/// The VPC a gateway serves.
fn gateway_vpc(gateway: &Gateway) -> &str {
    gateway.downlink_vpcs.first().map_or("", |d| d.vpc_id.as_str())
}

/// Takes the transit IP for `rule` (on `gateway`), or fails with the conflict Huawei reports.
fn take_transit_ip(tx: &mut dyn Tx, rule: &SnatRule, gateway: &Gateway, transit_ip: &mut TransitIp) -> Result<()> {
    if !transit_ip.gateway_id.is_empty() && transit_ip.gateway_id != rule.gateway_id {
        return Err(Error::TransitIpOfAnotherGateway { transit_ip_id: transit_ip.id.clone(), gateway_id: transit_ip.gateway_id.clone() });
    }
    let transit_vpc = subnet_in(tx, &rule.project_id, &transit_ip.virsubnet_id)?.vpc_id;
    if transit_vpc == gateway_vpc(gateway) {
        return Err(Error::TransitIpInGatewayVpc { transit_ip_id: transit_ip.id.clone(), gateway_id: gateway.id.clone() });
    }
    let mode = ClaimScope::DnatMode(&transit_ip.id).stored();
    if let Err(holder) = tx.claim(&Claim::new(&mode, "", format!("{SNAT_PREFIX}{}", rule.id)))? {
        return Err(match holder.strip_prefix(SNAT_PREFIX) {
            Some(rule_id) => Error::TransitIpUsedBySnat { transit_ip_id: transit_ip.id.clone(), rule_id: rule_id.to_string() },
            None => Error::TransitIpTaken {
                transit_ip_id: transit_ip.id.clone(),
                rule_id: holder.strip_prefix(DNAT_ANY_PREFIX).unwrap_or_default().to_string(),
            },
        });
    }
    if transit_ip.gateway_id.is_empty() {
        transit_ip.gateway_id = rule.gateway_id.clone();
        tx.save(&*transit_ip)?;
    }
    Ok(())
}

/// Gives back the transit IP `rule` holds; it leaves its gateway.
fn give_back_transit_ip(tx: &mut dyn Tx, rule: &SnatRule) -> Result<()> {
    let id = rule.transit_ip_id().to_string();
    tx.release(&ClaimScope::DnatMode(&id).stored(), "")?;
    if let Some(mut transit_ip) = tx.load::<TransitIp>(&id)? {
        transit_ip.gateway_id.clear();
        tx.save(&transit_ip)?;
    }
    Ok(())
}

impl HuaweiArea {
    pub async fn nat_create_snat_rule(&self, project_id: &str, spec: SnatSpec) -> Result<SnatRule> {
        let (project_id, id, now) = (project_id.to_string(), self.ids.uuid(), self.clock.now());
        self.store
            .write(move |tx| {
                let (mut rule, transit_ip_id) = SnatRule::create(id.clone(), &project_id, &spec, now)?;
                let gateway = gateway_in(tx, &project_id, &rule.gateway_id)?;
                gateway.check_changeable()?;
                rule.enterprise_project_id = gateway.enterprise_project_id.clone();
                if !rule.virsubnet_id.is_empty() && subnet_in(tx, &project_id, &rule.virsubnet_id)?.vpc_id != gateway_vpc(&gateway) {
                    return Err(Error::SnatSubnetOutsideGatewayVpc {
                        subnet_id: rule.virsubnet_id.clone(),
                        gateway_id: gateway.id.clone(),
                    });
                }
                let limit = rule_max(&gateway.spec);
                if rule_count(tx, &gateway.id)? >= limit as usize {
                    return Err(Error::RuleLimit { gateway_id: gateway.id.clone(), limit });
                }
                let sources = ClaimScope::SnatSources(&gateway.id).stored();
                if let Err(rule_id) = tx.claim(&Claim::new(&sources, rule.source_key(), &rule.id))? {
                    return Err(if rule.virsubnet_id.is_empty() {
                        Error::SnatCidrTaken { cidr: rule.cidr.clone(), rule_id }
                    } else {
                        Error::SnatSubnetTaken { subnet_id: rule.virsubnet_id.clone(), rule_id }
                    });
                }
                let mut transit_ip = transit_ip_in(tx, &project_id, &transit_ip_id)?;
                take_transit_ip(tx, &rule, &gateway, &mut transit_ip)?;
                rule.transit_ips = vec![TransitIpAssociation { transit_ip_id, transit_ip_address: transit_ip.ip_address.to_string() }];
                tx.create(&rule)?;
                Ok(rule)
            })
            .await
    }

    pub async fn nat_update_snat_rule(&self, project_id: &str, id: &str, spec: SnatSpec) -> Result<SnatRule> {
        let (project_id, id, now) = (project_id.to_string(), id.to_string(), self.clock.now());
        self.store
            .write(move |tx| {
                let rule = rule_in(tx, &project_id, &id)?;
                let (mut next, transit_ip_id) = rule.updated(&spec, now)?;
                let gateway = gateway_in(tx, &project_id, &rule.gateway_id)?;
                gateway.check_changeable()?;
                if transit_ip_id != rule.transit_ip_id() {
                    give_back_transit_ip(tx, &rule)?;
                    let mut transit_ip = transit_ip_in(tx, &project_id, &transit_ip_id)?;
                    take_transit_ip(tx, &next, &gateway, &mut transit_ip)?;
                    next.transit_ips = vec![TransitIpAssociation { transit_ip_id, transit_ip_address: transit_ip.ip_address.to_string() }];
                }
                tx.save(&next)?;
                Ok(next)
            })
            .await
    }

    pub async fn nat_delete_snat_rule(&self, project_id: &str, id: &str) -> Result<()> {
        let (project_id, id) = (project_id.to_string(), id.to_string());
        self.store
            .write(move |tx| {
                let rule = rule_in(tx, &project_id, &id)?;
                gateway_in(tx, &project_id, &rule.gateway_id)?.check_changeable()?;
                give_back_transit_ip(tx, &rule)?;
                tx.release(&ClaimScope::SnatSources(&rule.gateway_id).stored(), &rule.source_key())?;
                tx.remove::<SnatRule>(&id)?;
                Ok(())
            })
            .await
    }
}
