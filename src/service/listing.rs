//! Lists: the cursor of a row in the order in force, a folder-scoped list request, and one page of
//! rows read by keyset (`after` the last cursor, one more than the page to know whether another
//! follows).

use super::paging::{self, ListScope, Page};
use crate::domain::filter::{Condition, Order};
use crate::error::Result;
use crate::store::{Cursor, Query, Record, Resource, Tx};

/// A folder-scoped list request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListInFolder {
    pub folder_id: String,
    pub page_size: usize,
    pub page_token: String,
    pub conditions: Vec<Condition>,
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
