//! DNAT rules. Which rules may coexist rests on claims, so it holds under concurrent requests:
//! a transit IP is used either port by port (tcp/udp rules, one per protocol and transit port)
//! or whole (one `any` rule); a gateway forwards to one backend, protocol and internal port once;
//! and a transit IP serves the rules of one gateway at a time. A rule naming a port
//! (`network_interface_id`) takes the port's address and type, and holds the port (`PortUsers`).

use super::nat::{gateway_in, transit_ip_in};
use super::port::port_in;
use super::vpc::subnet_in;
use crate::domain::huawei::dnat::{Backend, DnatRule, DnatSpec};
use crate::domain::huawei::nat::{Gateway, TransitIp, rule_max};
use crate::error::{Error, Result};
use crate::service::HuaweiArea;
use crate::service::claims::{ClaimScope, DNAT_ANY_PREFIX, DNAT_PORTS, SNAT_PREFIX};
use crate::store::{Claim, Tx, TxExt};

fn rule_in(tx: &mut dyn Tx, project_id: &str, id: &str) -> Result<DnatRule> {
    super::load_in::<DnatRule>(tx, project_id, id)
}

/// Some rule that uses a transit IP, for error messages.
fn a_rule_using(tx: &mut dyn Tx, transit_ip_id: &str) -> Result<String> {
    let mode = tx.holder(&ClaimScope::DnatMode(transit_ip_id).stored(), "")?.unwrap_or_default();
    if let Some(rule) = mode.strip_prefix(DNAT_ANY_PREFIX) {
        return Ok(rule.to_string());
    }
    Ok(tx.claims_in(&ClaimScope::DnatPorts(transit_ip_id).stored())?.into_iter().next().map(|c| c.owner).unwrap_or_default())
}

/// The rule with the port it names resolved: a port of the project in the gateway's VPC, whose
/// address and type the rule reports.
fn resolve_port(tx: &mut dyn Tx, project_id: &str, gateway: &Gateway, rule: DnatRule) -> Result<DnatRule> {
    let Backend::Interface(port_id) = &rule.backend else { return Ok(rule) };
    let port = port_in(tx, project_id, port_id)?;
    let vpc_id = subnet_in(tx, project_id, &port.network_id)?.vpc_id;
    if gateway.downlink_vpcs.iter().all(|d| d.vpc_id != vpc_id) {
        return Err(Error::PortNotInGatewayVpc { port_id: port.id.clone(), gateway_id: gateway.id.clone() });
    }
    let backend = Backend::Port { id: port.id.clone(), address: port.ip_address, backend_type: port.backend_type() };
    Ok(DnatRule { backend, ..rule })
}

/// Takes everything `rule` needs, or fails with the conflict Huawei reports for it.
fn claim_rule(tx: &mut dyn Tx, rule: &DnatRule, transit_ip: &mut TransitIp) -> Result<()> {
    if !transit_ip.gateway_id.is_empty() && transit_ip.gateway_id != rule.gateway_id {
        let rule_id = a_rule_using(tx, &transit_ip.id)?;
        return Err(Error::TransitIpTaken { transit_ip_id: transit_ip.id.clone(), rule_id });
    }
    let mode_scope = ClaimScope::DnatMode(&rule.transit_ip_id).stored();
    match rule.transit_port_key() {
        None => {
            if let Err(holder) = tx.claim(&Claim::new(&mode_scope, "", format!("{DNAT_ANY_PREFIX}{}", rule.id)))? {
                if let Some(rule_id) = holder.strip_prefix(SNAT_PREFIX) {
                    return Err(Error::TransitIpUsedBySnat { transit_ip_id: rule.transit_ip_id.clone(), rule_id: rule_id.to_string() });
                }
                let rule_id = a_rule_using(tx, &rule.transit_ip_id)?;
                return Err(Error::TransitIpTaken { transit_ip_id: rule.transit_ip_id.clone(), rule_id });
            }
        }
        Some(key) => {
            if let Err(holder) = tx.claim(&Claim::new(&mode_scope, "", DNAT_PORTS))? {
                if let Some(rule_id) = holder.strip_prefix(SNAT_PREFIX) {
                    return Err(Error::TransitIpUsedBySnat { transit_ip_id: rule.transit_ip_id.clone(), rule_id: rule_id.to_string() });
                }
                let rule_id = holder.strip_prefix(DNAT_ANY_PREFIX).unwrap_or(&holder).to_string();
                return Err(Error::DnatWholeIpTaken { transit_ip_id: rule.transit_ip_id.clone(), rule_id });
            }
            if let Err(rule_id) = tx.claim(&Claim::new(ClaimScope::DnatPorts(&rule.transit_ip_id).stored(), &key, &rule.id))? {
                return Err(Error::DnatPortInUse {
                    transit_ip_id: rule.transit_ip_id.clone(),
                    protocol: rule.protocol.as_str().to_string(),
                    port: rule.transit_service_port.to_string(),
                    rule_id,
                });
            }
        }
    }
    if let Err(rule_id) = tx.claim(&Claim::new(ClaimScope::DnatBackends(&rule.gateway_id).stored(), rule.backend_key(), &rule.id))? {
        return Err(Error::DnatBackendInUse { rule_id });
    }
    if let Backend::Port { id, .. } = &rule.backend {
        tx.claim(&Claim::new(ClaimScope::PortUsers(id).stored(), &rule.id, &rule.id))?
            .map_err(|holder| Error::Internal(format!("rule {} already holds port {id} for {holder}", rule.id)))?;
    }
    if transit_ip.gateway_id.is_empty() {
        transit_ip.gateway_id = rule.gateway_id.clone();
        tx.save(&*transit_ip)?;
    }
    Ok(())
}

/// Gives back what `claim_rule` took; the transit IP leaves its gateway with its last rule.
fn release_rule(tx: &mut dyn Tx, rule: &DnatRule) -> Result<()> {
    let mode_scope = ClaimScope::DnatMode(&rule.transit_ip_id).stored();
    if let Some(key) = rule.transit_port_key() {
        let ports = ClaimScope::DnatPorts(&rule.transit_ip_id).stored();
        tx.release(&ports, &key)?;
        if tx.claims_in(&ports)?.is_empty() {
            tx.release(&mode_scope, "")?;
        }
    } else {
        tx.release(&mode_scope, "")?;
    }
    tx.release(&ClaimScope::DnatBackends(&rule.gateway_id).stored(), &rule.backend_key())?;
    if let Some(port_id) = rule.port_id() {
        tx.release(&ClaimScope::PortUsers(port_id).stored(), &rule.id)?;
    }
    if !tx.is_held(&mode_scope, "")?
        && let Some(mut transit_ip) = tx.load::<TransitIp>(&rule.transit_ip_id)?
    {
        transit_ip.gateway_id.clear();
        tx.save(&transit_ip)?;
    }
    Ok(())
}

impl HuaweiArea {
    pub async fn nat_create_dnat_rule(&self, project_id: &str, spec: DnatSpec) -> Result<DnatRule> {
        let (project_id, id, now) = (project_id.to_string(), self.ids.uuid(), self.clock.now());
        self.store
            .write(move |tx| {
                let draft = DnatRule::create(id.clone(), &project_id, &spec, "0", now)?;
                let gateway = gateway_in(tx, &project_id, &draft.gateway_id)?;
                gateway.check_changeable()?;
                let limit = rule_max(&gateway.spec);
                if super::rule_count(tx, &gateway.id)? >= limit as usize {
                    return Err(Error::RuleLimit { gateway_id: gateway.id.clone(), limit });
                }
                let rule = DnatRule { enterprise_project_id: gateway.enterprise_project_id.clone(), ..draft };
                let rule = resolve_port(tx, &project_id, &gateway, rule)?;
                let mut transit_ip = transit_ip_in(tx, &project_id, &rule.transit_ip_id)?;
                claim_rule(tx, &rule, &mut transit_ip)?;
                tx.create(&rule)?;
                Ok(rule)
            })
            .await
    }

    pub async fn nat_update_dnat_rule(&self, project_id: &str, id: &str, spec: DnatSpec) -> Result<DnatRule> {
        let (project_id, id, now) = (project_id.to_string(), id.to_string(), self.clock.now());
        self.store
            .write(move |tx| {
                let rule = rule_in(tx, &project_id, &id)?;
                let next = rule.updated(&spec, now)?;
                let gateway = gateway_in(tx, &project_id, &rule.gateway_id)?;
                gateway.check_changeable()?;
                // Only a newly named port is looked up: rules from before ports keep theirs.
                let next = if next.backend == rule.backend { next } else { resolve_port(tx, &project_id, &gateway, next)? };
                release_rule(tx, &rule)?;
                let mut transit_ip = transit_ip_in(tx, &project_id, &next.transit_ip_id)?;
                claim_rule(tx, &next, &mut transit_ip)?;
                tx.save(&next)?;
                Ok(next)
            })
            .await
    }

    pub async fn nat_delete_dnat_rule(&self, project_id: &str, id: &str) -> Result<()> {
        let (project_id, id) = (project_id.to_string(), id.to_string());
        self.store
            .write(move |tx| {
                let rule = rule_in(tx, &project_id, &id)?;
                gateway_in(tx, &project_id, &rule.gateway_id)?.check_changeable()?;
                release_rule(tx, &rule)?;
                tx.remove::<DnatRule>(&rule.id)?;
                Ok(())
            })
            .await
    }
}
