//! What access checks need to know about a target before a call runs: the folder a resource (or
//! an operation's resource) lives in, and who started an operation.

use super::Core;
use crate::error::{ResourceKind, Result};
use crate::ops::Operation;
use crate::store::Kind;

/// Where an operation belongs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationOwner {
    /// The folder of the operation's resource, while the resource exists.
    pub folder_id: Option<String>,
    pub created_by: String,
}

impl Core {
    /// The folder of a Yandex resource, or `None` if there is no such resource (or the kind has
    /// no folder).
    pub async fn folder_of(&self, kind: ResourceKind, id: &str) -> Result<Option<String>> {
        let Some(kind) = Kind::of_yandex(kind) else { return Ok(None) };
        let id = id.to_string();
        self.store.lookup(move |tx| Ok(tx.get(kind, &id)?.map(|r| r.folder_id))).await
    }

    /// The owner of an operation, or `None` if there is no such operation.
    pub async fn operation_owner(&self, id: &str) -> Result<Option<OperationOwner>> {
        let id = id.to_string();
        self.store
            .read(move |tx| {
                let Some(row) = tx.get_operation(&id)? else { return Ok(None) };
                let created_by = Operation::from_row(&row)?.created_by;
                let mut folder_id = None;
                for kind in Kind::YANDEX {
                    if let Some(record) = tx.get(kind, &row.resource_id)? {
                        folder_id = Some(record.folder_id);
                        break;
                    }
                }
                Ok(Some(OperationOwner { folder_id, created_by }))
            })
            .await
    }
}
