//! Instance use cases: what each InstanceService method checks when it is called, and what its
//! operation does when it completes (`apply`) or is rolled back (`undo`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ipnet::Ipv4Net;

use super::ComputeArea;
use super::disks::{self, NewDisk};
use super::lifecycle;
use super::listing::{self, ListOrdered};
use super::paging::Page;
use super::plumbing::{self, InterfaceSpec, saved};
use crate::domain::clock::Timestamp;
use crate::domain::ids::{IdGenerator, IdKind};
use crate::domain::instance::{AttachedDisk, DiskMode, Instance, InstancePatch, Resources, Status, Transition};
use crate::error::{Error, ResourceKind, Result};
use crate::ops::{Action, InstanceAction, Metadata, Operation, Response};
use crate::store::{Store, Tx, TxExt};

/// A disk to attach: an existing one, or a new one made for the instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskSpec {
    pub mode: DiskMode,
    /// Empty: the disk's id.
    pub device_name: String,
    pub auto_delete: bool,
    pub disk: InstanceDisk,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstanceDisk {
    Existing(String),
    New(NewDisk),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateInstance {
    pub folder_id: String,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub zone_id: String,
    pub platform_id: String,
    pub resources: Resources,
    pub metadata: HashMap<String, String>,
    pub boot_disk: DiskSpec,
    pub secondary_disks: Vec<DiskSpec>,
    pub interfaces: Vec<InterfaceSpec>,
    pub hostname: String,
    pub service_account_id: String,
    pub settings: BTreeMap<String, Vec<u8>>,
}

fn load(tx: &mut dyn Tx, id: &str) -> Result<Instance> {
    lifecycle::load(tx, id)
}

/// The disk `spec` names, given to `instance`: an existing one checked and taken, or a new one
/// created (CREATING until the operation completes). The instance itself is not changed.
fn take_disk(
    tx: &mut dyn Tx,
    catalog: &Store,
    ids: &dyn IdGenerator,
    instance: &Instance,
    spec: &DiskSpec,
    now: Timestamp,
) -> Result<AttachedDisk> {
    let disk_id = match &spec.disk {
        InstanceDisk::Existing(disk_id) => {
            let mut disk = disks::load(tx, disk_id)?;
            disk.check_attachable(&instance.id, &instance.zone_id)?;
            disks::take_for(tx, &mut disk, instance)?;
            tx.save(&disk)?;
            disk.id
        }
        InstanceDisk::New(new) => {
            let id = ids.id(IdKind::Disk, &instance.zone_id);
            let mut disk = disks::new_disk(tx, catalog, &id, &instance.folder_id, &instance.zone_id, new, now)?;
            disks::take_for(tx, &mut disk, instance)?;
            tx.create(&disk)?;
            disk.id
        }
    };
    let device_name = if spec.device_name.is_empty() { disk_id.clone() } else { spec.device_name.clone() };
    Ok(AttachedDisk { mode: spec.mode, device_name, auto_delete: spec.auto_delete, disk_id })
}

impl ComputeArea {
    pub async fn create_instance(&self, cmd: CreateInstance) -> Result<Operation> {
        let id = self.ids.id(IdKind::Instance, &cmd.zone_id);
        let (ids, pool, catalog) = (self.ids.clone(), self.settings.public_pool, self.catalog.clone());
        self.start_operation(IdKind::ComputeOperation, &cmd.zone_id.clone(), move |tx, now| {
            lifecycle::claim_own_name::<Instance>(tx, &id, &cmd.folder_id, &cmd.name)?;
            let mut instance = Instance {
                id: id.clone(),
                folder_id: cmd.folder_id.clone(),
                created_at: now,
                name: cmd.name.clone(),
                description: cmd.description.clone(),
                labels: cmd.labels.clone(),
                zone_id: cmd.zone_id.clone(),
                platform_id: cmd.platform_id.clone(),
                resources: cmd.resources.clone(),
                status: Status::Provisioning,
                metadata: cmd.metadata.clone(),
                boot_disk: None,
                secondary_disks: Vec::new(),
                network_interfaces: Vec::new(),
                hostname: cmd.hostname.clone(),
                service_account_id: cmd.service_account_id.clone(),
                settings: cmd.settings.clone(),
            };
            instance.boot_disk = Some(take_disk(tx, &catalog, &*ids, &instance, &cmd.boot_disk, now)?);
            for spec in &cmd.secondary_disks {
                let disk = take_disk(tx, &catalog, &*ids, &instance, spec, now)?;
                instance.attach_disk(disk)?;
            }
            for (i, spec) in cmd.interfaces.iter().enumerate() {
                plumbing::add_interface(tx, &*ids, pool, &mut instance, spec, &format!("network_interface_specs[{i}]"))?;
            }
            tx.create(&instance)?;
            Ok((Metadata::CreateInstance { instance_id: id.clone() }, Action::Instance(InstanceAction::Create { instance_id: id.clone() })))
        })
        .await
    }

    /// The instance as its row holds it (shared, not copied: a Get only renders it).
    pub async fn get_instance(&self, id: &str) -> Result<Arc<Instance>> {
        let id = id.to_string();
        self.store.lookup(move |tx| lifecycle::load_shared(tx, &id)).await
    }

    pub async fn list_instances(&self, cmd: ListOrdered) -> Result<Page<Arc<Instance>>> {
        listing::ordered_page(&self.store, "instances", cmd).await
    }

    pub async fn update_instance(&self, id: &str, patch: InstancePatch) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            let mut instance = load(tx, &id)?;
            let transition = if patch.needs_stopped() { Transition::ChangeStopped } else { Transition::Change };
            let from = lifecycle::begin(tx, &mut instance, transition, "Update")?;
            tx.save(&instance)?;
            let released_name = lifecycle::claim_rename(tx, &instance, patch.name.as_ref())?;
            Ok((
                Metadata::UpdateInstance { instance_id: id.clone() },
                Action::Instance(InstanceAction::Update { instance_id: id.clone(), from, patch: Box::new(patch.clone()), released_name }),
            ))
        })
        .await
    }

    pub async fn update_instance_metadata(&self, id: &str, delete: Vec<String>, upsert: BTreeMap<String, String>) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            let mut instance = load(tx, &id)?;
            let from = lifecycle::begin(tx, &mut instance, Transition::Change, "UpdateMetadata")?;
            tx.save_owned(instance)?;
            Ok((
                Metadata::UpdateInstanceMetadata { instance_id: id.clone() },
                Action::Instance(InstanceAction::UpdateMetadata {
                    instance_id: id.clone(),
                    from,
                    delete: delete.clone(),
                    upsert: upsert.clone(),
                }),
            ))
        })
        .await
    }

    /// Stop, Start, Restart and Delete: a status transition now, the rest when the operation runs.
    pub async fn transition_instance(&self, id: &str, transition: Transition) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            let mut instance = load(tx, &id)?;
            let instance_id = id.clone();
            type Finish = fn(String, Status) -> InstanceAction;
            let (name, metadata, action): (&str, Metadata, Finish) = match transition {
                Transition::Stop => ("Stop", Metadata::StopInstance { instance_id: id.clone() }, |instance_id, from| {
                    InstanceAction::Stop { instance_id, from }
                }),
                Transition::Start => ("Start", Metadata::StartInstance { instance_id: id.clone() }, |instance_id, from| {
                    InstanceAction::Start { instance_id, from }
                }),
                Transition::Restart => ("Restart", Metadata::RestartInstance { instance_id: id.clone() }, |instance_id, from| {
                    InstanceAction::Restart { instance_id, from }
                }),
                Transition::Delete => ("Delete", Metadata::DeleteInstance { instance_id: id.clone() }, |instance_id, from| {
                    InstanceAction::Delete { instance_id, from }
                }),
                Transition::Change | Transition::ChangeStopped => {
                    return Err(Error::Internal("transition_instance takes Stop, Start, Restart or Delete".into()));
                }
            };
            let from = lifecycle::begin(tx, &mut instance, transition, name)?;
            tx.save_owned(instance)?;
            let action = Action::Instance(action(instance_id, from));
            Ok((metadata, action))
        })
        .await
    }

    pub async fn attach_disk(&self, id: &str, spec: DiskSpec) -> Result<Operation> {
        let id = id.to_string();
        let (ids, catalog) = (self.ids.clone(), self.catalog.clone());
        self.start_operation(IdKind::ComputeOperation, "", move |tx, now| {
            let mut instance = load(tx, &id)?;
            let from = lifecycle::begin(tx, &mut instance, Transition::Change, "AttachDisk")?;
            if let InstanceDisk::Existing(disk_id) = &spec.disk {
                // Checked before the disk is taken, so that a refusal names this instance's rule.
                let device_name = if spec.device_name.is_empty() { disk_id.clone() } else { spec.device_name.clone() };
                instance.check_disk_attachable(&AttachedDisk {
                    mode: spec.mode,
                    device_name,
                    auto_delete: spec.auto_delete,
                    disk_id: disk_id.clone(),
                })?;
            }
            let disk = take_disk(tx, &catalog, &*ids, &instance, &spec, now)?;
            instance.check_disk_attachable(&disk)?;
            tx.save_owned(instance)?;
            Ok((
                Metadata::AttachDisk { instance_id: id.clone(), disk_id: disk.disk_id.clone() },
                Action::Instance(InstanceAction::AttachDisk { instance_id: id.clone(), from, disk }),
            ))
        })
        .await
    }

    /// Detaches the secondary disk named by id or, when `disk_id` is empty, by device name.
    pub async fn detach_disk(&self, id: &str, disk_id: &str, device_name: &str) -> Result<Operation> {
        let (id, disk_id, device_name) = (id.to_string(), disk_id.to_string(), device_name.to_string());
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            let mut instance = load(tx, &id)?;
            let from = lifecycle::begin(tx, &mut instance, Transition::Change, "DetachDisk")?;
            let disk_id = instance.find_detachable_disk(&disk_id, &device_name)?.disk_id.clone();
            tx.save_owned(instance)?;
            Ok((
                Metadata::DetachDisk { instance_id: id.clone(), disk_id: disk_id.clone() },
                Action::Instance(InstanceAction::DetachDisk { instance_id: id.clone(), from, disk_id }),
            ))
        })
        .await
    }

    pub async fn list_instance_operations(&self, id: &str, page_size: usize, page_token: &str) -> Result<Page<Operation>> {
        self.resource_operations::<Instance>(ResourceKind::Instance, id, page_size, page_token).await
    }
}

/// Completes an instance action.
pub(super) fn apply(tx: &mut dyn Tx, pool: Ipv4Net, action: &InstanceAction) -> Result<Response> {
    match action {
        InstanceAction::Create { instance_id } => {
            let mut i = load(tx, instance_id)?;
            i.provisioned();
            for d in i.disks() {
                disks::make_ready(tx, &d.disk_id)?;
            }
            saved(tx, i)
        }
        InstanceAction::Update { instance_id, from, patch, released_name } => {
            let i = lifecycle::finish_update(tx, instance_id, released_name, |i: &mut Instance| {
                i.finish(Transition::Change, *from);
                i.apply(patch);
            })?;
            saved(tx, i)
        }
        InstanceAction::UpdateMetadata { instance_id, from, delete, upsert } => {
            let i = lifecycle::change(tx, instance_id, |i: &mut Instance| {
                i.finish(Transition::Change, *from);
                i.update_metadata(delete, upsert);
            })?;
            Ok(Response::Instance(i))
        }
        InstanceAction::Stop { instance_id, from } => {
            let mut i = load(tx, instance_id)?;
            i.finish(Transition::Stop, *from);
            plumbing::release_ephemeral_nat(tx, &mut i)?;
            tx.save(&i)?;
            Ok(Response::Empty)
        }
        InstanceAction::Start { instance_id, from } => {
            let mut i = load(tx, instance_id)?;
            i.finish(Transition::Start, *from);
            plumbing::assign_ephemeral_nat(tx, pool, &mut i)?;
            saved(tx, i)
        }
        InstanceAction::Restart { instance_id, from } => {
            lifecycle::change(tx, instance_id, |i: &mut Instance| i.finish(Transition::Restart, *from))?;
            Ok(Response::Empty)
        }
        InstanceAction::Delete { instance_id, .. } => {
            // Auto-delete disks go with the instance; the others stay, detached.
            for d in load(tx, instance_id)?.disks() {
                if d.auto_delete { disks::remove(tx, &d.disk_id)? } else { disks::give_back(tx, &d.disk_id)? }
            }
            lifecycle::remove::<Instance>(tx, instance_id)?;
            Ok(Response::Empty)
        }
        InstanceAction::AttachDisk { instance_id, from, disk } => {
            let mut i = load(tx, instance_id)?;
            i.finish(Transition::Change, *from);
            i.attach_disk(disk.clone())?;
            disks::make_ready(tx, &disk.disk_id)?;
            saved(tx, i)
        }
        InstanceAction::DetachDisk { instance_id, from, disk_id } => {
            disks::give_back(tx, disk_id)?;
            let i = lifecycle::change(tx, instance_id, |i: &mut Instance| {
                i.finish(Transition::Change, *from);
                i.detach_disk(disk_id);
            })?;
            Ok(Response::Instance(i))
        }
    }
}

/// Rolls back what accepting an instance action reserved: the status it left, and for a create
/// the instance with everything it claimed.
pub(super) fn undo(tx: &mut dyn Tx, action: &InstanceAction) -> Result<()> {
    let (instance_id, from) = match action {
        InstanceAction::Create { instance_id } => {
            if let Some(i) = tx.load::<Instance>(instance_id)? {
                for d in i.disks() {
                    disks::undo_for_instance(tx, &d.disk_id)?;
                }
            }
            return lifecycle::remove::<Instance>(tx, instance_id);
        }
        InstanceAction::AttachDisk { instance_id, from, disk } => {
            disks::undo_for_instance(tx, &disk.disk_id)?;
            (instance_id, from)
        }
        InstanceAction::Update { instance_id, from, patch, released_name } => {
            lifecycle::undo_rename::<Instance>(tx, instance_id, patch.name.as_ref(), released_name)?;
            (instance_id, from)
        }
        InstanceAction::UpdateMetadata { instance_id, from, .. }
        | InstanceAction::Stop { instance_id, from }
        | InstanceAction::Start { instance_id, from }
        | InstanceAction::Restart { instance_id, from }
        | InstanceAction::Delete { instance_id, from }
        | InstanceAction::DetachDisk { instance_id, from, .. } => (instance_id, from),
    };
    if let Some(mut i) = tx.load::<Instance>(instance_id)? {
        i.undo(*from);
        tx.save(&i)?;
    }
    Ok(())
}
