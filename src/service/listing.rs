//! Lists: the cursor of a row in the order in force, a folder-scoped list request, and one page of
//! rows read by keyset (`after` the last cursor, one more than the page to know whether another
//! follows).

use std::sync::Arc;

use super::paging::{self, ListScope, Page};
use crate::domain::filter::{Condition, Order};
use crate::error::Result;
use crate::store::{Cursor, Query, Record, Resource, Store, Tx};

/// A folder-scoped list request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListInFolder {
    pub folder_id: String,
    pub page_size: usize,
    pub page_token: String,
    pub conditions: Vec<Condition>,
}

/// A folder-scoped list request with a chosen order (instances, disks, images).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOrdered {
    pub folder_id: String,
    pub page_size: usize,
    pub page_token: String,
    pub conditions: Vec<Condition>,
    pub order: Order,
}

/// One page of `R` in `cmd`'s folder and order, from `store`, sharing the values the rows hold
/// (the page is only rendered); page tokens are bound to `what`, the folder, the filter and the
/// order.
pub(super) async fn ordered_page<R: Resource>(store: &Store, what: &str, cmd: ListOrdered) -> Result<Page<Arc<R>>> {
    let scope = ListScope::new(what, &[&cmd.folder_id, &format!("{:?}", cmd.conditions), &format!("{:?}", cmd.order)]);
    let after = paging::decode::<Cursor>(&cmd.page_token, &scope)?;
    store
        .read(move |tx| {
            let query = Query {
                folder_id: Some(cmd.folder_id.clone()),
                conditions: cmd.conditions.clone(),
                order: cmd.order,
                after: after.clone(),
                limit: cmd.page_size + 1,
                ..Query::new(R::KIND)
            };
            // The rows are lent, not copied: the page keeps each value's shared handle.
            paging::page_lent(
                cmd.page_size,
                &scope,
                cursor(cmd.order),
                |row| R::shared_from_record(row),
                |each| Ok(tx.list_each(&query, each)?),
            )
        })
        .await
}

/// One page of `kind` in a folder, in id order; page tokens are bound to the kind, folder and filter.
pub(super) async fn folder_page<R: Resource + Send + 'static>(
    store: &Store,
    kind: crate::store::Kind,
    cmd: ListInFolder,
) -> Result<Page<R>> {
    let scope = ListScope::new(&format!("{kind:?}"), &[&cmd.folder_id, &format!("{:?}", cmd.conditions)]);
    let after = paging::decode::<Cursor>(&cmd.page_token, &scope)?;
    store
        .read(move |tx| {
            let query = Query { folder_id: Some(cmd.folder_id.clone()), conditions: cmd.conditions.clone(), ..Query::new(kind) };
            list_page(tx, query, cmd.page_size, after.clone(), &scope)
        })
        .await
}

/// Cursor of a row for the list order in force.
pub(super) fn cursor(order: Order) -> impl Fn(&Record) -> Cursor {
    move |r| Cursor { value: r.sort_value(order.column), id: r.id.clone() }
}

pub(super) fn list_page<R: Resource + Send + 'static>(
    tx: &mut dyn Tx,
    mut query: Query,
    page_size: usize,
    after: Option<Cursor>,
    scope: &ListScope,
) -> Result<Page<R>> {
    query.order = Order::default();
    query.after = after;
    query.limit = page_size + 1;
    let rows = tx.list(&query)?;
    paging::page(rows, page_size, scope, cursor(query.order), |r| R::from_record(&r))
}
