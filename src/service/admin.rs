//! The emulator's own controls (`/_netplane/…`, netplane's CLI): reset, state export and import,
//! the seed at start, and stepping operations by hand. Each change is one transaction, so it is
//! safe while calls run: a call sees the state before it or after it, never half of it.

use std::collections::BTreeMap;

use super::AdminArea;
use super::state::{self, Counts, Snapshot};
use crate::error::{Code, Error, Result};
use crate::ops::{Operation, runner};
use crate::store::Kind;

impl AdminArea {
    /// Removes every resource, operation and claim (issued tokens and idempotency keys are claims);
    /// or, given a folder or Huawei project id, that one's.
    pub async fn reset(&self, scope: Option<String>) -> Result<Counts> {
        let counts = self.store.write(move |tx| state::clear(tx, scope.as_deref())).await?;
        tracing::info!(?counts, "state reset");
        Ok(counts)
    }

    pub async fn export_state(&self) -> Result<Snapshot> {
        self.store.read(state::export).await
    }

    /// Replaces the state with `snapshot`, checked whole first: a bad document changes nothing.
    pub async fn import_state(&self, snapshot: Snapshot) -> Result<Counts> {
        let checked = std::sync::Arc::new(state::check(&snapshot)?);
        let written = checked.counts();
        let removed = self.store.write(move |tx| state::replace(tx, &checked)).await?;
        tracing::info!(?removed, ?written, "state imported");
        // Pending operations of the document fall due under this process's progression.
        self.runner.wake();
        Ok(written)
    }

    /// Loads `snapshot` if the store holds no resource and no operation; `None` when it did.
    pub async fn seed(&self, snapshot: Snapshot) -> Result<Option<Counts>> {
        let checked = std::sync::Arc::new(state::check(&snapshot)?);
        let written = checked.counts();
        let seeded = self
            .store
            .write(move |tx| {
                for kind in Kind::ALL {
                    let mut query = crate::store::Query::new(kind);
                    query.limit = 1;
                    if !tx.list(&query)?.is_empty() {
                        return Ok(false);
                    }
                }
                if !tx.all_operations()?.is_empty() {
                    return Ok(false);
                }
                state::replace(tx, &checked)?;
                Ok(true)
            })
            .await?;
        if seeded {
            self.runner.wake();
        }
        Ok(seeded.then_some(written))
    }

    /// Operations not done yet, earliest due first.
    pub async fn pending_operations(&self) -> Result<Vec<Operation>> {
        self.store.read(|tx| tx.pending_operations()?.iter().map(Operation::from_row).collect()).await
    }

    /// How many operations are pending, and how many resources of each kind there are.
    pub async fn counts(&self) -> Result<(usize, Vec<(&'static str, usize)>)> {
        self.store
            .read(|tx| {
                let pending = tx.pending_operations()?.len();
                let mut kinds = Vec::with_capacity(Kind::ALL.len());
                for kind in Kind::ALL {
                    kinds.push((kind.as_str(), tx.list(&crate::store::Query::new(kind))?.len()));
                }
                Ok((pending, kinds))
            })
            .await
    }

    /// Every folder and Huawei project that holds resources, with how many of each kind: what
    /// the console lists to choose from.
    pub async fn scopes(&self) -> Result<Vec<ScopeCounts>> {
        self.store
            .read(|tx| {
                let mut scopes: BTreeMap<(bool, String), BTreeMap<&'static str, usize>> = BTreeMap::new();
                for kind in Kind::ALL {
                    for record in tx.list(&crate::store::Query::new(kind))? {
                        *scopes.entry((kind.is_huawei(), record.folder_id)).or_default().entry(kind.as_str()).or_default() += 1;
                    }
                }
                Ok(scopes.into_iter().map(|((huawei, id), counts)| ScopeCounts { huawei, id, counts }).collect())
            })
            .await
    }

    /// The latest `limit` operations, newest first.
    pub async fn latest_operations(&self, limit: usize) -> Result<Vec<Operation>> {
        self.store.read(move |tx| tx.all_operations()?.iter().rev().take(limit).map(Operation::from_row).collect()).await
    }

    /// Completes a pending operation now (as its progression would have).
    pub async fn complete_operation(&self, id: &str) -> Result<Operation> {
        self.pending(id).await?;
        self.runner.complete(id).await
    }

    /// Finishes a pending operation with an error, giving back what its call reserved.
    pub async fn fail_operation(&self, id: &str, code: Code, message: String) -> Result<Operation> {
        self.pending(id).await?;
        self.runner.fail(id, Error::Injected { code, message }).await
    }

    async fn pending(&self, id: &str) -> Result<()> {
        let op_id = id.to_string();
        let op = self.store.read(move |tx| runner::load(tx, &op_id)).await?;
        if op.done { Err(Error::OperationNotPending(op.id)) } else { Ok(()) }
    }
}

/// A folder (or, `huawei`, a project) and how many resources of each kind it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeCounts {
    pub huawei: bool,
    pub id: String,
    pub counts: BTreeMap<&'static str, usize>,
}
