//! Huawei Cloud use cases: VPC v1 VPCs and subnets, and private NAT gateways, transit subnets,
//! transit IPs and DNAT rules. They are synchronous on the real cloud (no operations), so each is
//! one transaction. Every resource belongs to a project: a resource of another project is
//! answered exactly like a missing one.

pub mod dnat;
pub mod nat;
pub mod vpc;

use crate::domain::huawei::listing::ListRequest;
use crate::error::{Error, ResourceKind, Result};
use crate::store::{Query, Resource, Tx, TxExt};

/// The resource, if it exists in `project_id`.
pub(super) fn load_in<R: Resource>(
    tx: &mut dyn Tx,
    kind: ResourceKind,
    project_id: &str,
    id: &str,
    project_of: impl Fn(&R) -> &str,
) -> Result<R> {
    tx.load::<R>(id)?.filter(|r| project_of(r) == project_id).ok_or_else(|| Error::not_found(kind, id))
}

/// Every resource of a kind in a project (lists filter and page them).
fn all_in<R: Resource>(tx: &mut dyn Tx, project_id: &str) -> Result<Vec<R>> {
    let mut query = Query::new(R::KIND);
    query.folder_id = Some(project_id.to_string());
    tx.find::<R>(&query)
}

/// Resources whose parent column is `parent_id`.
fn children<R: Resource>(tx: &mut dyn Tx, parent_id: &str) -> Result<Vec<R>> {
    let mut query = Query::new(R::KIND);
    query.parent_id = Some(parent_id.to_string());
    tx.find::<R>(&query)
}

/// One page of a list, with where its neighbours start.
pub type Listed<T> = (Vec<T>, crate::domain::huawei::listing::PageInfo);

/// Filters and pages `items` as `request` asks; `field` reads an item's value of a filter.
fn listed<T>(request: &ListRequest, items: Vec<T>, field: impl Fn(&T, &str) -> String, id: impl Fn(&T) -> &str) -> Listed<T> {
    let kept: Vec<T> = items.into_iter().filter(|item| request.matches(|name| field(item, name))).collect();
    request.page(kept, id)
}
