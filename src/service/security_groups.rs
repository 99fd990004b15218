//! VPC security groups: lifecycle, rules, and the check that interfaces only use groups of their
//! own network. Which interfaces use a group is kept as claims, so a used group cannot be deleted.

use std::collections::HashMap;

use super::SecurityGroupArea;
use super::caller::Caller;
use super::claims::ClaimScope;
use super::lifecycle;
use super::listing::{ListInFolder, cursor};
use super::paging::{self, ListScope, Page};
use crate::domain::filter::Order;
use crate::domain::ids::IdKind;
use crate::domain::network::Network;
use crate::domain::principals::Scope;
use crate::domain::security_group::{Rule, SecurityGroup, SecurityGroupPatch, Target};
use crate::error::{Error, ResourceKind, Result};
use crate::ops::{Action, Metadata, Operation, Response, SecurityGroupAction};
use crate::store::{Cursor, Kind, Query, Resource, Tx, TxExt};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateSecurityGroup {
    pub folder_id: String,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub network_id: String,
    /// Rules without ids; ids are minted when the call is accepted.
    pub rules: Vec<Rule>,
}

fn load(tx: &mut dyn Tx, id: &str) -> Result<SecurityGroup> {
    lifecycle::load(tx, id)
}

/// Every rule of `rules` (sent as `field`) that names a security group names one that exists, in
/// a folder the caller may use (`NOT_FOUND` otherwise, as for a group that does not exist), and in
/// `network_id`.
fn check_rule_targets(tx: &mut dyn Tx, field: &str, rules: &[Rule], network_id: &str, folders: &Scope) -> Result<()> {
    for (i, rule) in rules.iter().enumerate() {
        let Target::SecurityGroup(target) = &rule.target else { continue };
        let group = tx
            .load::<SecurityGroup>(target)?
            .filter(|g| folders.allows(&g.folder_id))
            .ok_or_else(|| Error::not_found(ResourceKind::SecurityGroup, target))?;
        if group.network_id != network_id {
            return Err(Error::invalid(
                format!("{field}[{i}].security_group_id"),
                format!("security group {target} is in network {}, not in network {network_id}", group.network_id),
            ));
        }
    }
    Ok(())
}

fn with_ids(ids: &dyn crate::domain::ids::IdGenerator, rules: &[Rule]) -> Vec<Rule> {
    rules.iter().map(|r| Rule { id: ids.id(IdKind::SecurityGroup, ""), ..r.clone() }).collect()
}

impl SecurityGroupArea {
    pub async fn create_security_group(&self, cmd: CreateSecurityGroup) -> Result<Operation> {
        let id = self.ids.id(IdKind::SecurityGroup, "");
        let ids = self.ids.clone();
        let folders = Caller::current().folders;
        self.start_operation(IdKind::VpcOperation, "", move |tx, now| {
            tx.load::<Network>(&cmd.network_id)?.ok_or_else(|| Error::not_found(ResourceKind::Network, &cmd.network_id))?;
            check_rule_targets(tx, "rule_specs", &cmd.rules, &cmd.network_id, &folders)?;
            lifecycle::claim_own_name::<SecurityGroup>(tx, &id, &cmd.folder_id, &cmd.name)?;
            tx.create(&SecurityGroup {
                id: id.clone(),
                folder_id: cmd.folder_id.clone(),
                created_at: now,
                name: cmd.name.clone(),
                description: cmd.description.clone(),
                labels: cmd.labels.clone(),
                network_id: cmd.network_id.clone(),
                rules: with_ids(&*ids, &cmd.rules),
                default_for_network: false,
            })?;
            Ok((
                Metadata::CreateSecurityGroup { security_group_id: id.clone() },
                Action::SecurityGroup(SecurityGroupAction::Create { security_group_id: id.clone() }),
            ))
        })
        .await
    }

    pub async fn get_security_group(&self, id: &str) -> Result<SecurityGroup> {
        let id = id.to_string();
        self.store.lookup(move |tx| load(tx, &id)).await
    }

    /// Groups of a folder, or of a network when `network_id` is set.
    pub async fn list_security_groups(&self, cmd: ListInFolder, network_id: Option<String>) -> Result<Page<SecurityGroup>> {
        let parent = network_id.as_deref().map_or_else(|| format!("folder {}", cmd.folder_id), |n| format!("network {n}"));
        let scope = ListScope::new("security-groups", &[&parent, &format!("{:?}", cmd.conditions)]);
        let after = paging::decode::<Cursor>(&cmd.page_token, &scope)?;
        self.store
            .read(move |tx| {
                if let Some(n) = &network_id {
                    tx.load::<Network>(n)?.ok_or_else(|| Error::not_found(ResourceKind::Network, n))?;
                }
                let query = Query {
                    folder_id: network_id.is_none().then(|| cmd.folder_id.clone()),
                    parent_id: network_id.clone(),
                    conditions: cmd.conditions.clone(),
                    after: after.clone(),
                    limit: cmd.page_size + 1,
                    ..Query::new(Kind::SecurityGroup)
                };
                let rows = tx.list(&query)?;
                paging::page(rows, cmd.page_size, &scope, cursor(Order::default()), |r| SecurityGroup::from_record(&r))
            })
            .await
    }

    /// Update (name, description, labels, and `rules` replacing every rule) and UpdateRules
    /// (`deleted` rule ids, `added` rules) share this.
    pub async fn update_security_group(
        &self,
        id: &str,
        mut patch: SecurityGroupPatch,
        deleted: Vec<String>,
        added: Vec<Rule>,
    ) -> Result<Operation> {
        let (id, ids) = (id.to_string(), self.ids.clone());
        let folders = Caller::current().folders;
        self.start_operation(IdKind::VpcOperation, "", move |tx, _| {
            let group = load(tx, &id)?;
            check_rule_targets(tx, "addition_rule_specs", &added, &group.network_id, &folders)?;
            if let Some(rules) = &patch.rules {
                check_rule_targets(tx, "rule_specs", rules, &group.network_id, &folders)?;
            }
            let added = with_ids(&*ids, &added);
            if !deleted.is_empty() || !added.is_empty() {
                let mut rules = group.clone();
                rules
                    .update_rules(&deleted, added.clone())
                    .map_err(|missing| Error::invalid("deletion_rule_ids", format!("rule {missing} is not in security group {id}")))?;
                patch.rules = Some(rules.rules);
            } else if let Some(rules) = &patch.rules {
                patch.rules = Some(with_ids(&*ids, rules));
            }
            let released_name = lifecycle::claim_rename(tx, &group, patch.name.as_ref())?;
            let added_rule_ids = added.iter().map(|r| r.id.clone()).collect();
            Ok((
                Metadata::UpdateSecurityGroup { security_group_id: id.clone(), added_rule_ids },
                Action::SecurityGroup(SecurityGroupAction::Update { security_group_id: id.clone(), patch: patch.clone(), released_name }),
            ))
        })
        .await
    }

    pub async fn update_security_group_rule(
        &self,
        id: &str,
        rule_id: &str,
        description: Option<String>,
        labels: Option<HashMap<String, String>>,
    ) -> Result<Operation> {
        let (id, rule_id) = (id.to_string(), rule_id.to_string());
        self.start_operation(IdKind::VpcOperation, "", move |tx, _| {
            load(tx, &id)?.update_rule(&rule_id, description.as_ref(), labels.as_ref())?;
            Ok((
                Metadata::UpdateSecurityGroupRule { security_group_id: id.clone(), rule_id: rule_id.clone() },
                Action::SecurityGroup(SecurityGroupAction::UpdateRule {
                    security_group_id: id.clone(),
                    rule_id: rule_id.clone(),
                    description: description.clone(),
                    labels: labels.clone(),
                }),
            ))
        })
        .await
    }

    pub async fn delete_security_group(&self, id: &str) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::VpcOperation, "", move |tx, _| {
            if load(tx, &id)?.default_for_network {
                return Err(Error::DefaultSecurityGroup(id.clone()));
            }
            ensure_unused(tx, &id)?;
            Ok((
                Metadata::DeleteSecurityGroup { security_group_id: id.clone() },
                Action::SecurityGroup(SecurityGroupAction::Delete { security_group_id: id.clone() }),
            ))
        })
        .await
    }

    pub async fn list_security_group_operations(&self, id: &str, page_size: usize, page_token: &str) -> Result<Page<Operation>> {
        self.resource_operations::<SecurityGroup>(ResourceKind::SecurityGroup, id, page_size, page_token).await
    }
}

fn ensure_unused(tx: &mut dyn Tx, id: &str) -> Result<()> {
    if tx.claims_in(&ClaimScope::SecurityGroupUsers(id).stored())?.is_empty() {
        Ok(())
    } else {
        Err(Error::SecurityGroupInUse(id.to_string()))
    }
}

pub(super) fn apply(tx: &mut dyn Tx, action: &SecurityGroupAction) -> Result<Response> {
    match action {
        SecurityGroupAction::Create { security_group_id } => Ok(Response::SecurityGroup(load(tx, security_group_id)?)),
        SecurityGroupAction::Update { security_group_id, patch, released_name } => {
            let g = lifecycle::finish_update(tx, security_group_id, released_name, |g: &mut SecurityGroup| g.apply(patch))?;
            tx.save(&g)?;
            Ok(Response::SecurityGroup(g))
        }
        SecurityGroupAction::Delete { security_group_id } => {
            load(tx, security_group_id)?;
            ensure_unused(tx, security_group_id)?;
            lifecycle::remove::<SecurityGroup>(tx, security_group_id)?;
            Ok(Response::Empty)
        }
        SecurityGroupAction::UpdateRule { security_group_id, rule_id, description, labels } => {
            let mut g = load(tx, security_group_id)?;
            let rule = g.update_rule(rule_id, description.as_ref(), labels.as_ref())?.clone();
            tx.save(&g)?;
            Ok(Response::SecurityGroupRule(rule))
        }
    }
}

pub(super) fn undo(tx: &mut dyn Tx, action: &SecurityGroupAction) -> Result<()> {
    match action {
        SecurityGroupAction::Create { security_group_id } => lifecycle::remove::<SecurityGroup>(tx, security_group_id),
        SecurityGroupAction::Update { security_group_id, patch, released_name } => {
            lifecycle::undo_rename::<SecurityGroup>(tx, security_group_id, patch.name.as_ref(), released_name)
        }
        SecurityGroupAction::Delete { .. } | SecurityGroupAction::UpdateRule { .. } => Ok(()),
    }
}
