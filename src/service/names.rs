//! Names of resources: unique within their folder and kind (when not empty), held as claims so
//! that the uniqueness holds under concurrency and across replicas.

use super::claims::ClaimScope;
use crate::error::{Error, ResourceKind, Result};
use crate::store::{Claim, Tx};

/// Claims `name` in the folder for `owner`; empty names are not unique.
pub(super) fn claim_name(tx: &mut dyn Tx, kind: ResourceKind, folder_id: &str, name: &str, owner: &str) -> Result<()> {
    if name.is_empty() {
        return Ok(());
    }
    let scope = ClaimScope::Names(kind, folder_id).stored();
    match tx.claim(&Claim::new(scope, name, owner))? {
        Ok(()) => Ok(()),
        Err(_) => Err(Error::NameTaken { kind, name: name.to_string(), folder_id: folder_id.to_string() }),
    }
}

/// Claims `new_name` when it differs from `current`; returns the current name, which the
/// operation gives back when it completes (or `None` when the name stays).
pub(super) fn rename(
    tx: &mut dyn Tx,
    kind: ResourceKind,
    folder_id: &str,
    current: &str,
    new_name: Option<&String>,
    owner: &str,
) -> Result<Option<String>> {
    match new_name.filter(|n| n.as_str() != current) {
        Some(name) => {
            claim_name(tx, kind, folder_id, name, owner)?;
            Ok(Some(current.to_string()))
        }
        None => Ok(None),
    }
}

pub(super) fn release_name(tx: &mut dyn Tx, kind: ResourceKind, folder_id: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Ok(());
    }
    Ok(tx.release(&ClaimScope::Names(kind, folder_id).stored(), name)?)
}
