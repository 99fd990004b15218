//! Disk use cases: creating disks (empty, from an image, from a snapshot id), growing, renaming and
//! deleting them, and the steps instances share when they create, attach, detach and drop disks.

use std::collections::HashMap;
use std::sync::Arc;

use super::DiskArea;
use super::claims::{ClaimScope, DISK_USER_KEY};
use super::images;
use super::lifecycle;
use super::listing::{self, ListOrdered};
use super::paging::Page;
use crate::domain::clock::Timestamp;
use crate::domain::disk::{Disk, DiskPatch, DiskSource, DiskStatus, size_violation};
use crate::domain::disk_type::DiskType;
use crate::domain::ids::IdKind;
use crate::domain::instance::Instance;
use crate::error::{Error, ResourceKind, Result};
use crate::ops::{Action, DiskAction, Metadata, Operation, Response};
use crate::store::{Claim, Store, Tx, TxExt};

/// A new disk's own settings, as `DiskService.Create` and an instance's `disk_spec` give them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDisk {
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub type_id: String,
    /// `None`: the source's minimum disk size (a boot disk from an image may leave it unset).
    pub size: Option<i64>,
    pub block_size: i64,
    pub source: DiskSource,
    pub placement_group_id: String,
    /// The request field the size came from, for the violation that refuses it.
    pub size_field: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateDisk {
    pub folder_id: String,
    pub zone_id: String,
    pub disk: NewDisk,
}

pub(super) fn load(tx: &mut dyn Tx, id: &str) -> Result<Disk> {
    lifecycle::load(tx, id)
}

/// A new disk row (CREATING) of `spec`, its source and size checked and its name claimed; not yet
/// stored. Unknown images and snapshots are NOT_FOUND, as on the real cloud (netplane has no
/// snapshots, so every snapshot id is unknown).
pub(super) fn new_disk(
    tx: &mut dyn Tx,
    catalog: &Store,
    id: &str,
    folder_id: &str,
    zone_id: &str,
    spec: &NewDisk,
    now: Timestamp,
) -> Result<Disk> {
    let disk_type = DiskType::find(&spec.type_id).ok_or_else(|| Error::not_found(ResourceKind::DiskType, &spec.type_id))?;
    let (min_size, product_ids) = match &spec.source {
        DiskSource::Empty => (0, vec![]),
        DiskSource::Image(image_id) => {
            let image = images::find(tx, catalog, image_id)?;
            (image.min_disk_size, image.product_ids)
        }
        DiskSource::Snapshot(snapshot_id) => return Err(Error::not_found(ResourceKind::Snapshot, snapshot_id)),
    };
    let size = spec.size.unwrap_or(min_size);
    if let Some(v) = size_violation(&spec.size_field, disk_type, size, spec.block_size, min_size) {
        return Err(Error::InvalidArgument(vec![v]));
    }
    lifecycle::claim_own_name::<Disk>(tx, id, folder_id, &spec.name)?;
    Ok(Disk {
        id: id.to_string(),
        folder_id: folder_id.to_string(),
        created_at: now,
        name: spec.name.clone(),
        description: spec.description.clone(),
        labels: spec.labels.clone(),
        type_id: spec.type_id.clone(),
        zone_id: zone_id.to_string(),
        size,
        block_size: spec.block_size,
        product_ids,
        status: DiskStatus::Creating,
        source: spec.source.clone(),
        instance_id: None,
        placement_group_id: spec.placement_group_id.clone(),
        placement_group_partition: 0,
    })
}

/// Gives `disk` to `instance`: claimed (so two instances racing for one disk cannot both have
/// it, on any replica) and recorded in the disk's row (which the caller stores). The caller has
/// checked an existing disk with `Disk::check_attachable`.
pub(super) fn take_for(tx: &mut dyn Tx, disk: &mut Disk, instance: &Instance) -> Result<()> {
    let owner = lifecycle::owner::<Instance>(&instance.id);
    if let Err(holder) = tx.claim(&Claim::new(ClaimScope::DiskUser(&disk.id).stored(), DISK_USER_KEY, &owner))? {
        let (_, user) = super::claims::parse_owner(&holder);
        return Err(Error::DiskAttached { disk_id: disk.id.clone(), instance_id: user.to_string() });
    }
    disk.instance_id = Some(instance.id.clone());
    Ok(())
}

/// Takes `disk_id` back from its instance: the claim released and the row's user cleared. A disk
/// without a row (instances created before netplane had disks) only loses its claim.
pub(super) fn give_back(tx: &mut dyn Tx, disk_id: &str) -> Result<()> {
    tx.release(&ClaimScope::DiskUser(disk_id).stored(), DISK_USER_KEY)?;
    if let Some(mut disk) = tx.load::<Disk>(disk_id)? {
        disk.instance_id = None;
        tx.save(&disk)?;
    }
    Ok(())
}

/// A disk the instance's create made is ready once the instance is.
pub(super) fn make_ready(tx: &mut dyn Tx, disk_id: &str) -> Result<()> {
    if let Some(mut disk) = tx.load::<Disk>(disk_id)?
        && disk.status == DiskStatus::Creating
    {
        disk.status = DiskStatus::Ready;
        tx.save(&disk)?;
    }
    Ok(())
}

/// Undoes what an instance's create did to `disk_id`: a disk it made goes, one it took is given
/// back.
pub(super) fn undo_for_instance(tx: &mut dyn Tx, disk_id: &str) -> Result<()> {
    match tx.load::<Disk>(disk_id)? {
        Some(disk) if disk.status == DiskStatus::Creating => remove(tx, disk_id),
        _ => give_back(tx, disk_id),
    }
}

/// Removes a disk with its claims.
pub(super) fn remove(tx: &mut dyn Tx, disk_id: &str) -> Result<()> {
    tx.release(&ClaimScope::DiskUser(disk_id).stored(), DISK_USER_KEY)?;
    lifecycle::remove::<Disk>(tx, disk_id)
}

impl DiskArea {
    pub async fn create_disk(&self, cmd: CreateDisk) -> Result<Operation> {
        let id = self.ids.id(IdKind::Disk, &cmd.zone_id);
        let catalog = self.catalog.clone();
        self.start_operation(IdKind::ComputeOperation, &cmd.zone_id.clone(), move |tx, now| {
            let disk = new_disk(tx, &catalog, &id, &cmd.folder_id, &cmd.zone_id, &cmd.disk, now)?;
            tx.create(&disk)?;
            Ok((Metadata::CreateDisk { disk_id: id.clone() }, Action::Disk(DiskAction::Create { disk_id: id.clone() })))
        })
        .await
    }

    pub async fn get_disk(&self, id: &str) -> Result<Disk> {
        let id = id.to_string();
        self.store.lookup(move |tx| load(tx, &id)).await
    }

    pub async fn list_disks(&self, cmd: ListOrdered) -> Result<Page<Arc<Disk>>> {
        listing::ordered_page(&self.store, "disks", cmd).await
    }

    pub async fn update_disk(&self, id: &str, patch: DiskPatch) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            let disk = load(tx, &id)?;
            if let Some(size) = patch.size {
                disk.check_resize(size)?;
            }
            let released_name = lifecycle::claim_rename(tx, &disk, patch.name.as_ref())?;
            Ok((
                Metadata::UpdateDisk { disk_id: id.clone() },
                Action::Disk(DiskAction::Update { disk_id: id.clone(), patch: patch.clone(), released_name }),
            ))
        })
        .await
    }

    /// Refused while the disk is attached: synchronously, with no operation, as on the real cloud.
    pub async fn delete_disk(&self, id: &str) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            load(tx, &id)?.check_deletable()?;
            Ok((Metadata::DeleteDisk { disk_id: id.clone() }, Action::Disk(DiskAction::Delete { disk_id: id.clone() })))
        })
        .await
    }

    pub async fn list_disk_operations(&self, id: &str, page_size: usize, page_token: &str) -> Result<Page<Operation>> {
        self.resource_operations::<Disk>(ResourceKind::Disk, id, page_size, page_token).await
    }
}

pub(super) fn apply(tx: &mut dyn Tx, action: &DiskAction) -> Result<Response> {
    let disk = match action {
        DiskAction::Create { disk_id } => {
            let mut d = load(tx, disk_id)?;
            d.status = DiskStatus::Ready;
            d
        }
        DiskAction::Update { disk_id, patch, released_name } => {
            lifecycle::finish_update(tx, disk_id, released_name, |d: &mut Disk| d.apply(patch))?
        }
        DiskAction::Delete { disk_id } => {
            // Attached since the call was accepted: still refused.
            load(tx, disk_id)?.check_deletable()?;
            remove(tx, disk_id)?;
            return Ok(Response::Empty);
        }
    };
    tx.save(&disk)?;
    Ok(Response::Disk(disk))
}

pub(super) fn undo(tx: &mut dyn Tx, action: &DiskAction) -> Result<()> {
    match action {
        DiskAction::Create { disk_id } => remove(tx, disk_id),
        DiskAction::Update { disk_id, patch, released_name } => {
            lifecycle::undo_rename::<Disk>(tx, disk_id, patch.name.as_ref(), released_name)
        }
        DiskAction::Delete { .. } => Ok(()),
    }
}
