//! Names of resources: unique within their folder and kind (when not empty), held as claims so
//! that the uniqueness holds under concurrency and across replicas.

use super::claims;
use crate::error::{Error, ResourceKind, Result};
use crate::store::{Claim, Tx};

/// Claims `name` in the folder for `owner`; empty names are not unique.
pub(super) fn claim_name(tx: &mut dyn Tx, kind: ResourceKind, folder_id: &str, name: &str, owner: &str) -> Result<()> {
    if name.is_empty() {
        return Ok(());
    }
    let scope = claims::names(scope_name(kind), folder_id);
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
    Ok(tx.release(&claims::names(scope_name(kind), folder_id), name)?)
}

/// The stored name of each kind's name scope. Fixed here, never derived from an error's display
/// text: stores already hold these spellings (they were the lowercased display names), and a
/// reworded message must not orphan them.
fn scope_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Instance => "instance",
        ResourceKind::Network => "network",
        ResourceKind::Subnet => "subnet",
        ResourceKind::Operation => "operation",
        ResourceKind::Address => "address",
        ResourceKind::SecurityGroup => "security group",
        ResourceKind::ApiEndpoint => "api endpoint",
        ResourceKind::Vpc => "vpc",
        ResourceKind::NatGateway => "gateway",
        ResourceKind::TransitSubnet => "transitsubnet",
        ResourceKind::TransitIp => "transitip",
        ResourceKind::DnatRule => "dnatrule",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored spellings are the ones earlier releases derived from the display names, so
    /// names claimed by those releases are still found. If a display name is reworded this test
    /// fails: keep `scope_name` as it is and compare that kind with its old spelling here.
    #[test]
    fn scope_names_keep_the_spelling_earlier_releases_stored() {
        for kind in [
            ResourceKind::Instance,
            ResourceKind::Network,
            ResourceKind::Subnet,
            ResourceKind::Operation,
            ResourceKind::Address,
            ResourceKind::SecurityGroup,
            ResourceKind::ApiEndpoint,
            ResourceKind::Vpc,
            ResourceKind::NatGateway,
            ResourceKind::TransitSubnet,
            ResourceKind::TransitIp,
            ResourceKind::DnatRule,
        ] {
            assert_eq!(scope_name(kind), kind.to_string().to_lowercase(), "{kind:?}");
        }
    }
}
