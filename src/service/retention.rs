//! Bounded growth: done operations older than the retention (and, on the memory store, those
//! beyond the count cap) and expired claims (idempotency keys, issued IAM tokens) are pruned in
//! the background, a few hundred rows per transaction, so that no call waits behind one long
//! transaction. An idempotency key whose operation was pruned starts a new one (`idempotency.rs`).

use std::time::Duration;

use tokio::sync::watch;

use super::Core;
use crate::error::Result;

/// How long done operations are kept, and how many at most (`None`: no count cap).
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    pub age: Duration,
    pub cap: Option<usize>,
}

/// Rows one pruning transaction removes at most.
const BATCH: usize = 500;
/// The longest wait between two prunings: each is one indexed query when nothing is due, so the
/// memory store's cap is kept within seconds.
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// What one pruning removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub operations: usize,
    pub claims: usize,
}

impl Core {
    /// Prunes once, in batches, until nothing more is due.
    pub async fn prune(&self, retention: Retention) -> Result<Pruned> {
        let mut pruned = Pruned::default();
        let age = i64::try_from(retention.age.as_micros()).unwrap_or(i64::MAX);
        loop {
            let cutoff = self.clock.now().0.saturating_sub(age);
            // Found in a read transaction, removed in a short write one: writers never wait on the
            // search.
            let ids = self.store.read(move |tx| Ok(tx.done_operations_before(cutoff, BATCH)?)).await?;
            let removed = self.delete_operations(ids).await?;
            pruned.operations += removed;
            if removed < BATCH {
                break;
            }
        }
        if let Some(cap) = retention.cap {
            loop {
                let ids = self
                    .store
                    .read(move |tx| {
                        let excess = tx.count_done_operations()?.saturating_sub(cap);
                        Ok(tx.done_operations_before(i64::MAX, excess.min(BATCH))?)
                    })
                    .await?;
                let removed = self.delete_operations(ids).await?;
                pruned.operations += removed;
                if removed < BATCH {
                    break;
                }
            }
        }
        loop {
            let now = self.clock.now().0;
            let removed = self
                .store
                .write(move |tx| {
                    let expired = tx.expired_claims(now, BATCH)?;
                    for (scope, key) in &expired {
                        tx.release(scope, key)?;
                    }
                    Ok(expired.len())
                })
                .await?;
            pruned.claims += removed;
            if removed < BATCH {
                break;
            }
        }
        Ok(pruned)
    }

    /// Deletes these operations (done ones never change again, so the ids read stay valid).
    async fn delete_operations(&self, ids: Vec<String>) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ids = std::sync::Arc::new(ids);
        self.store
            .write(move |tx| {
                for id in ids.iter() {
                    tx.delete_operation(id)?;
                }
                Ok(ids.len())
            })
            .await
    }

    /// Prunes now and then until `shutdown` turns true: every quarter of the retention, at most
    /// `LONGEST_PAUSE` apart.
    pub async fn prune_in_background(self, retention: Retention, mut shutdown: watch::Receiver<bool>) {
        let pause = (retention.age / 4).clamp(Duration::from_millis(100), LONGEST_PAUSE);
        loop {
            match self.prune(retention).await {
                Ok(Pruned { operations: 0, claims: 0 }) => {}
                Ok(pruned) => tracing::debug!(?pruned, "pruned done operations and expired claims"),
                Err(e) => tracing::warn!(error = %e, "pruning failed; will try again"),
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
