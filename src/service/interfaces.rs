//! Network plumbing of existing instances: attach and detach interfaces, one-to-one NAT, interface
//! updates. Every call is checked and everything the new interface needs is claimed when it is
//! accepted; the operation then swaps the interface in (`InterfaceAction::Change`).

use std::net::Ipv4Addr;

use super::claims::{self, INSTANCE};
use super::interface_claims::{self, claim_all, claims_given_up, interface_claims};
use super::lifecycle;
use super::plumbing::{self, InterfaceSpec, NatSpec};

use super::ComputeArea;
use crate::domain::ids::IdKind;
use crate::domain::instance::{DnsRecord, Instance, NetworkInterface, Transition};
use crate::error::{Error, Result};
use crate::ops::{Action, ClaimKey, InterfaceAction, Metadata, Operation, Response};
use crate::store::{Tx, TxExt};

fn load(tx: &mut dyn Tx, id: &str) -> Result<Instance> {
    super::lifecycle::load(tx, id)
}

/// The action that turns `before` into `after` on `instance` (whose status `begin` already moved).
fn change(
    instance: &Instance,
    from: crate::domain::instance::Status,
    index: &str,
    before: Option<&NetworkInterface>,
    after: Option<NetworkInterface>,
) -> Action {
    let (release_on_apply, release_on_undo) = claims_given_up(&instance.id, before, after.as_ref());
    Action::Interface(InterfaceAction::Change {
        instance_id: instance.id.clone(),
        from,
        index: index.to_string(),
        after,
        release_on_apply,
        release_on_undo,
    })
}

/// A requested change of an interface, already checked field by field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceUpdate {
    pub subnet_id: Option<String>,
    /// A new internal address. Without one, a subnet change allocates one from the new subnet.
    pub address: Option<Ipv4Addr>,
    pub dns_records: Option<Vec<DnsRecord>>,
    pub security_group_ids: Option<Vec<String>>,
}

impl InterfaceUpdate {
    fn needs_stopped(&self) -> bool {
        self.subnet_id.is_some() || self.address.is_some()
    }
}

impl ComputeArea {
    pub async fn attach_network_interface(&self, instance_id: &str, spec: InterfaceSpec) -> Result<Operation> {
        let (id, ids, pool) = (instance_id.to_string(), self.ids.clone(), self.settings.public_pool);
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            let mut instance = load(tx, &id)?;
            let from = lifecycle::begin(tx, &mut instance, Transition::ChangeStopped, "AttachNetworkInterface")?;
            // The interface joins the instance when the operation completes (`change`).
            let nic = plumbing::new_interface(tx, &*ids, pool, &instance, &spec, "")?;
            let index = nic.index.clone();
            let action = change(&instance, from, &index, None, Some(nic));
            tx.save_owned(instance)?;
            Ok((Metadata::AttachNetworkInterface { instance_id: id.clone(), network_interface_index: index }, action))
        })
        .await
    }

    pub async fn detach_network_interface(&self, instance_id: &str, index: &str) -> Result<Operation> {
        let (id, index) = (instance_id.to_string(), index.to_string());
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            let mut instance = load(tx, &id)?;
            let before = instance.check_detachable(&index)?.clone();
            let from = lifecycle::begin(tx, &mut instance, Transition::ChangeStopped, "DetachNetworkInterface")?;
            let action = change(&instance, from, &index, Some(&before), None);
            tx.save_owned(instance)?;
            Ok((Metadata::DetachNetworkInterface { instance_id: id.clone(), network_interface_index: index.clone() }, action))
        })
        .await
    }

    pub async fn add_one_to_one_nat(&self, instance_id: &str, index: &str, internal_address: &str, spec: NatSpec) -> Result<Operation> {
        let (id, index, internal, pool) =
            (instance_id.to_string(), index.to_string(), internal_address.to_string(), self.settings.public_pool);
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            let mut instance = load(tx, &id)?;
            let before = instance.find_interface(&index, &internal)?.clone();
            if before.nat().is_some() {
                return Err(Error::NatAlreadyConfigured { instance_id: id.clone(), index: before.index.clone() });
            }
            let from = lifecycle::begin(tx, &mut instance, Transition::Change, "AddOneToOneNat")?;
            let running = from == crate::domain::instance::Status::Running;
            let nat = plumbing::new_nat(tx, pool, &instance, running, &spec)?;
            let after = before.with_nat(&id, nat)?;
            let action = change(&instance, from, &before.index, Some(&before), Some(after));
            tx.save_owned(instance)?;
            Ok((Metadata::AddOneToOneNat { instance_id: id.clone() }, action))
        })
        .await
    }

    pub async fn remove_one_to_one_nat(&self, instance_id: &str, index: &str, internal_address: &str) -> Result<Operation> {
        let (id, index, internal) = (instance_id.to_string(), index.to_string(), internal_address.to_string());
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            let mut instance = load(tx, &id)?;
            let before = instance.find_interface(&index, &internal)?.clone();
            let after = before.without_nat(&id)?;
            let from = lifecycle::begin(tx, &mut instance, Transition::Change, "RemoveOneToOneNat")?;
            let action = change(&instance, from, &before.index, Some(&before), Some(after));
            tx.save_owned(instance)?;
            Ok((Metadata::RemoveOneToOneNat { instance_id: id.clone() }, action))
        })
        .await
    }

    pub async fn update_network_interface(&self, instance_id: &str, index: &str, update: InterfaceUpdate) -> Result<Operation> {
        let (id, index) = (instance_id.to_string(), index.to_string());
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            let mut instance = load(tx, &id)?;
            let before = instance.find_interface(&index, "")?.clone();
            let transition = if update.needs_stopped() { Transition::ChangeStopped } else { Transition::Change };
            let from = lifecycle::begin(tx, &mut instance, transition, "UpdateNetworkInterface")?;
            let owner = claims::owner(INSTANCE, &id);
            let mut after = before.clone();
            if let Some(groups) = &update.security_group_ids {
                after.security_group_ids = groups.clone();
            }
            let primary = after.primary_v4_address.get_or_insert_with(Default::default);
            if let Some(records) = &update.dns_records {
                primary.dns_records = records.clone();
            }
            if update.needs_stopped() {
                let subnet_id = update.subnet_id.clone().unwrap_or_else(|| before.subnet_id.clone());
                let subnet = plumbing::visible_subnet(tx, &subnet_id, &instance.folder_id)?;
                instance.check_subnet_zone(&subnet)?;
                let requested = update.address;
                let old = before.primary_v4_address.as_ref().map(|p| p.address.clone()).unwrap_or_default();
                let keeps_address = subnet.id == before.subnet_id && requested.is_none_or(|a| a.to_string() == old);
                if !keeps_address {
                    let address = plumbing::allocate_internal(tx, &subnet, requested, &owner, "primary_v4_address_spec.address")?;
                    primary.address = address.to_string();
                    // The interface now holds its address itself, not through an internal Address.
                    primary.address_id.clear();
                }
                after.subnet_id = subnet.id;
            }
            interface_claims::check_security_groups(tx, &instance.folder_id, &after)?;
            claim_all(tx, &interface_claims(&id, &after), &owner)?;
            let action = change(&instance, from, &index, Some(&before), Some(after));
            tx.save_owned(instance)?;
            Ok((Metadata::UpdateNetworkInterface { instance_id: id.clone(), network_interface_index: index.clone() }, action))
        })
        .await
    }
}

fn release(tx: &mut dyn Tx, keys: &[ClaimKey]) -> Result<()> {
    for (scope, key) in keys {
        plumbing::release_claim(tx, scope, key)?;
    }
    Ok(())
}

/// Completes an interface change. Applied inline, it changes the instance its acceptance saved in
/// the same transaction, without a copy (`lifecycle::change`).
pub(super) fn apply(tx: &mut dyn Tx, action: InterfaceAction) -> Result<Response> {
    let InterfaceAction::Change { instance_id, from, index, after, release_on_apply, .. } = action;
    release(tx, &release_on_apply)?;
    let instance = lifecycle::change(tx, &instance_id, |instance: &mut Instance| {
        instance.replace_interface(&index, after);
        instance.finish(Transition::Change, from);
    })?;
    Ok(Response::Instance(instance))
}

/// Gives back what accepting an interface change claimed.
pub(super) fn undo(tx: &mut dyn Tx, action: &InterfaceAction) -> Result<()> {
    let InterfaceAction::Change { instance_id, from, release_on_undo, .. } = action;
    release(tx, release_on_undo)?;
    if let Some(mut instance) = tx.load::<Instance>(instance_id)? {
        instance.undo(*from);
        tx.save(&instance)?;
    }
    Ok(())
}
