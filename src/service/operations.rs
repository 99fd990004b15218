//! OperationService use cases: reading (which, in polls mode, is what moves an operation on) and
//! cancelling; and the per-resource operation lists.

use super::paging::{self, ListScope, Page};
use super::{Core, OperationArea};
use crate::error::{Error, ResourceKind, Result};
use crate::ops::{Operation, runner};
use crate::store::{Resource, Tx, TxExt};

impl OperationArea {
    pub async fn get_operation(&self, id: &str) -> Result<Operation> {
        if !matches!(self.settings.progression, crate::ops::Progression::Polls(_)) {
            let op_id = id.to_string();
            return self.store.lookup(move |tx| runner::load(tx, &op_id)).await;
        }
        let op_id = id.to_string();
        let op = self
            .store
            .write(move |tx| {
                let mut op = runner::load(tx, &op_id)?;
                if let Some(left) = op.polls_left.filter(|_| !op.done) {
                    op.polls_left = Some(left.saturating_sub(1));
                    tx.put_operation(op.to_row()?)?;
                }
                Ok(op)
            })
            .await?;
        if !op.done && op.polls_left == Some(0) { self.runner.complete(id).await } else { Ok(op) }
    }

    pub async fn cancel_operation(&self, id: &str) -> Result<Operation> {
        self.runner.cancel(id).await
    }
}

impl Core {
    /// The operations of resource `id` (a `R`, reported as `kind` when missing), newest first.
    pub(super) async fn resource_operations<R: Resource>(
        &self,
        kind: ResourceKind,
        id: &str,
        page_size: usize,
        page_token: &str,
    ) -> Result<Page<Operation>> {
        let id = id.to_string();
        let after = paging::decode::<(i64, String)>(page_token, &operations_scope(&id))?;
        self.store
            .read(move |tx| {
                tx.load::<R>(&id)?.ok_or_else(|| Error::not_found(kind, &id))?;
                page_of(tx, &id, after.clone(), page_size)
            })
            .await
    }
}

/// A page of a resource's operations, newest first; the cursor is `(created_at, id)`.
pub(super) fn page_of(tx: &mut dyn Tx, resource_id: &str, after: Option<(i64, String)>, page_size: usize) -> Result<Page<Operation>> {
    let rows = tx.operations_of(resource_id, after.as_ref().map(|(t, id)| (*t, id.as_str())), page_size + 1)?;
    paging::page(rows, page_size, &operations_scope(resource_id), |r| (r.created_at, r.id.clone()), |r| Operation::from_row(&r))
}

/// The list of one resource's operations, which its page tokens are bound to.
pub(super) fn operations_scope(resource_id: &str) -> ListScope {
    ListScope::new("operations", &[resource_id])
}
