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
/// The wait after a pruning that found something to remove. Under load the cap is passed again
/// within moments: at 10,000 writes a second, five seconds let 50,000 operations past a cap of
/// 100,000, which the resident memory then had to hold (the soak's plateau); a quarter second lets
/// 2,500 past, pruned in smaller turns.
const BUSY_PAUSE: Duration = Duration::from_millis(250);

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
    /// `LONGEST_PAUSE` apart, and sooner while each pruning finds something (`next_pause`).
    pub async fn prune_in_background(self, retention: Retention, mut shutdown: watch::Receiver<bool>) {
        let idle = (retention.age / 4).clamp(Duration::from_millis(100), LONGEST_PAUSE);
        loop {
            let outcome = self.prune(retention).await;
            match &outcome {
                Ok(Pruned { operations: 0, claims: 0 }) => {}
                Ok(pruned) => tracing::debug!(?pruned, "pruned done operations and expired claims"),
                Err(e) => tracing::warn!(error = %e, "pruning failed; will try again"),
            }
            let pause = next_pause(outcome.as_ref().ok(), idle);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// How long to wait before the next pruning: `BUSY_PAUSE` after one that removed something
/// (more is likely due soon), else `idle`.
fn next_pause(last: Option<&Pruned>, idle: Duration) -> Duration {
    match last {
        Some(Pruned { operations: 0, claims: 0 }) | None => idle,
        Some(_) => BUSY_PAUSE.min(idle),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prunes_again_soon_while_it_finds_rows_and_at_the_idle_pace_otherwise() {
        let idle = LONGEST_PAUSE;
        assert_eq!(next_pause(Some(&Pruned { operations: 500, claims: 0 }), idle), BUSY_PAUSE);
        assert_eq!(next_pause(Some(&Pruned { operations: 0, claims: 3 }), idle), BUSY_PAUSE);
        assert_eq!(next_pause(Some(&Pruned::default()), idle), idle);
        assert_eq!(next_pause(None, idle), idle, "a failed pruning is tried again at the idle pace");
        let short = Duration::from_millis(100);
        assert_eq!(next_pause(Some(&Pruned { operations: 1, claims: 0 }), short), short, "never slower than the idle pace");
    }
}
