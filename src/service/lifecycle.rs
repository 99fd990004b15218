//! The steps every Yandex resource's operations share, written once: loading one by id (NOT_FOUND
//! naming its kind), the owner its claims are held by, claiming and renaming its name, finishing
//! and undoing an update's rename, and removing it with every claim it holds. A resource kind joins
//! by implementing `Lifecycle`.

use super::claims::{self, ADDRESS, DISK, GATEWAY, IMAGE, INSTANCE, NETWORK, ROUTE_TABLE, SECURITY_GROUP, SUBNET};
use super::names::{claim_name, release_name, rename};
use super::plumbing;
use crate::domain::instance::{Status, Transition};
use crate::domain::{
    address::Address, disk::Disk, gateway::Gateway, image::Image, instance::Instance, network::Network, route_table::RouteTable,
    security_group::SecurityGroup, subnet::Subnet,
};
use crate::error::{Error, ResourceKind, Result};
use crate::store::{Resource, Tx, TxExt};

/// A resource with a folder, a unique name and claims held in its name.
pub(super) trait Lifecycle: Resource {
    /// How errors name the kind.
    const ERROR_KIND: ResourceKind;
    /// The referrer type in its claims' owner (`claims::owner`).
    const REFERRER: &'static str;
    fn folder_id(&self) -> &str;
    fn name(&self) -> &str;
    fn set_folder_id(&mut self, folder_id: &str);
}

/// The owner of the claims a resource holds.
pub(super) fn owner<T: Lifecycle>(id: &str) -> String {
    claims::owner(T::REFERRER, id)
}

pub(super) fn load<T: Lifecycle>(tx: &mut dyn Tx, id: &str) -> Result<T> {
    tx.load::<T>(id)?.ok_or_else(|| Error::not_found(T::ERROR_KIND, id))
}

/// `load`, sharing the value the row holds: for a read that only renders it.
pub(super) fn load_shared<T: Lifecycle>(tx: &mut dyn Tx, id: &str) -> Result<std::sync::Arc<T>> {
    tx.load_shared::<T>(id)?.ok_or_else(|| Error::not_found(T::ERROR_KIND, id))
}

/// Changes a resource and saves it, answering it shared (an operation's response): in place when
/// this transaction saved it already (`TxExt::change`), as an inline operation's acceptance did.
pub(super) fn change<T: Lifecycle>(tx: &mut dyn Tx, id: &str, f: impl FnOnce(&mut T)) -> Result<std::sync::Arc<T>> {
    tx.change::<T>(id, f)?.ok_or_else(|| Error::not_found(T::ERROR_KIND, id))
}

/// Claims a new resource's name in its folder.
pub(super) fn claim_own_name<T: Lifecycle>(tx: &mut dyn Tx, id: &str, folder_id: &str, name: &str) -> Result<()> {
    claim_name(tx, T::ERROR_KIND, folder_id, name, &owner::<T>(id))
}

/// On accepting an update: claims `new_name` when it differs, and returns the name the update
/// gives back when it completes (`None`: the name stays).
pub(super) fn claim_rename<T: Lifecycle>(tx: &mut dyn Tx, resource: &T, new_name: Option<&String>) -> Result<Option<String>> {
    rename(tx, T::ERROR_KIND, resource.folder_id(), resource.name(), new_name, &owner::<T>(resource.id()))
}

/// Completes an update: `change` applied and the old name given back if renamed. The caller saves
/// the result (an instance is saved shared with its operation's response).
pub(super) fn finish_update<T: Lifecycle>(
    tx: &mut dyn Tx,
    id: &str,
    released_name: &Option<String>,
    change: impl FnOnce(&mut T),
) -> Result<T> {
    let mut resource = load::<T>(tx, id)?;
    change(&mut resource);
    if let Some(old) = released_name {
        release_name(tx, T::ERROR_KIND, resource.folder_id(), old)?;
    }
    Ok(resource)
}

/// Undoes an update's rename: gives back the new name claimed when it was accepted.
pub(super) fn undo_rename<T: Lifecycle>(
    tx: &mut dyn Tx,
    id: &str,
    new_name: Option<&String>,
    released_name: &Option<String>,
) -> Result<()> {
    if released_name.is_none() {
        return Ok(());
    }
    if let (Some(new), Some(resource)) = (new_name, tx.load::<T>(id)?) {
        release_name(tx, T::ERROR_KIND, resource.folder_id(), new)?;
    }
    Ok(())
}

/// Removes the resource and gives back every claim it holds (its name, addresses, indexes): the
/// end of a delete and the undo of a create. A resource already gone is not an error.
pub(super) fn remove<T: Lifecycle>(tx: &mut dyn Tx, id: &str) -> Result<()> {
    plumbing::release_all(tx, &owner::<T>(id))?;
    tx.remove::<T>(id)?;
    Ok(())
}

/// On accepting a move: claims the resource's name in `destination` and gives back its folder.
pub(super) fn claim_destination<T: Lifecycle>(tx: &mut dyn Tx, id: &str, destination: &str) -> Result<String> {
    let resource = load::<T>(tx, id)?;
    claim_name(tx, T::ERROR_KIND, destination, resource.name(), &owner::<T>(id))?;
    Ok(resource.folder_id().to_string())
}

/// Completes a move: the name given back in the old folder, the resource in the new one.
pub(super) fn finish_move<T: Lifecycle>(tx: &mut dyn Tx, id: &str, destination: &str) -> Result<T> {
    let mut resource = load::<T>(tx, id)?;
    if resource.folder_id() == destination {
        // A move to its own folder changes nothing (and must keep the name it holds there).
        return Ok(resource);
    }
    release_name(tx, T::ERROR_KIND, resource.folder_id(), resource.name())?;
    resource.set_folder_id(destination);
    tx.save(&resource)?;
    Ok(resource)
}

/// Undoes a move's name claim in `destination`.
pub(super) fn undo_move<T: Lifecycle>(tx: &mut dyn Tx, id: &str, destination: &str) -> Result<()> {
    match tx.load::<T>(id)? {
        Some(resource) if resource.folder_id() != destination => release_name(tx, T::ERROR_KIND, destination, resource.name()),
        _ => Ok(()),
    }
}

/// Starts an instance's transition. Refused while another operation runs on the instance with
/// `ConflictingOperation` naming it (the message Terraform waits out and retries), otherwise
/// with the instance's status.
pub(super) fn begin(tx: &mut dyn Tx, instance: &mut Instance, transition: Transition, action: &str) -> Result<Status> {
    instance.begin(transition, action).or_else(|refused| {
        let pending = tx.operations_of(&instance.id, None, 16)?.into_iter().find(|op| !op.done);
        Err(pending.map_or(refused, |op| Error::ConflictingOperation(op.id)))
    })
}

macro_rules! lifecycle {
    ($type:ty, $kind:ident, $referrer:expr) => {
        impl Lifecycle for $type {
            const ERROR_KIND: ResourceKind = ResourceKind::$kind;
            const REFERRER: &'static str = $referrer;
            fn folder_id(&self) -> &str {
                &self.folder_id
            }
            fn name(&self) -> &str {
                &self.name
            }
            fn set_folder_id(&mut self, folder_id: &str) {
                self.folder_id = folder_id.to_string();
            }
        }
    };
}

lifecycle!(Instance, Instance, INSTANCE);
lifecycle!(Network, Network, NETWORK);
lifecycle!(Subnet, Subnet, SUBNET);
lifecycle!(Address, Address, ADDRESS);
lifecycle!(SecurityGroup, SecurityGroup, SECURITY_GROUP);
lifecycle!(Disk, Disk, DISK);
lifecycle!(Image, Image, IMAGE);
lifecycle!(RouteTable, RouteTable, ROUTE_TABLE);
lifecycle!(Gateway, EgressGateway, GATEWAY);
