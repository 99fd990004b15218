//! The operation runner: completes pending operations when they fall due, woken when new work
//! arrives instead of polling (in this process directly; from other replicas through the store).
//! An operation is applied in the transaction that takes it (`take_pending_operation`) and marks it
//! done, so a Get in polls mode, an inline call and the runners of every replica can never apply an
//! action twice, and a crash in between leaves it pending for the next runner.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::{Action, Operation, OperationFault, Progression, Response, Schedule};
use crate::domain::clock::{Clock, Timestamp};
use crate::error::{Error, Result};
use crate::store::{Store, Tx};

/// Applies and undoes actions; implemented by the service layer.
pub trait Executor: Send + Sync + 'static {
    /// Performs the action, taking it (a done operation keeps none, so what it holds moves into
    /// the resources). If it fails, the store rolls back everything it wrote.
    fn apply(&self, tx: &mut dyn Tx, action: Action, now: Timestamp) -> Result<Response>;
    /// Gives back what the accepting call reserved (after a failure, or on cancel).
    fn undo(&self, tx: &mut dyn Tx, action: &Action, now: Timestamp) -> Result<()>;
}

/// When to look again at a due operation another runner holds (if that runner's replica died with
/// it, the store has released it by then, or will after the backend's lease) or that the store
/// failed to complete.
const LOOK_AGAIN_MS: u64 = 1000;

/// How long an idle runner sleeps when nothing is due: wake-ups (in process, or from other
/// replicas through the store) start it sooner; this only bounds how late an operation whose
/// wake-up was lost (a replica's listener reconnecting) is run.
const IDLE_LOOK: Duration = Duration::from_secs(60);

pub struct Runner {
    store: Store,
    executor: Arc<dyn Executor>,
    clock: Arc<dyn Clock>,
    progression: Progression,
    wake: Notify,
}

pub fn load(tx: &mut dyn Tx, id: &str) -> Result<Operation> {
    let row = tx.get_operation(id)?.ok_or_else(|| Error::not_found(crate::error::ResourceKind::Operation, id))?;
    Operation::from_row(&row)
}

/// The pending operation `id`, held by this transaction; `None` if it is done, gone or held by
/// another runner.
fn take(tx: &mut dyn Tx, id: &str) -> Result<Option<Operation>> {
    tx.take_pending_operation(id)?.map(|row| Operation::from_row(&row)).transpose()
}

impl Runner {
    pub fn new(store: Store, executor: Arc<dyn Executor>, clock: Arc<dyn Clock>, progression: Progression) -> Self {
        Runner { store, executor, clock, progression, wake: Notify::new() }
    }

    /// At start-up: operations a previous process left pending, possibly under another
    /// progression, are rescheduled under the current one, so none is left stuck.
    pub async fn recover(&self) -> Result<usize> {
        let (clock, progression) = (self.clock.clone(), self.progression);
        self.store
            .write(move |tx| {
                let now = clock.now();
                let mut rescheduled = 0;
                for row in tx.pending_operations()? {
                    let mut op = Operation::from_row(&row)?;
                    let before = Schedule { due_at: op.due_at, polls_left: op.polls_left };
                    let after = progression.reschedule(now, before);
                    if after != before {
                        op.due_at = after.due_at;
                        op.polls_left = after.polls_left;
                        tx.put_operation(op.to_row()?)?;
                        rescheduled += 1;
                    }
                }
                Ok(rescheduled)
            })
            .await
    }

    /// Tells the runner that new work may be due.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Applies a pending operation's action inside the caller's transaction and finishes it (the
    /// inline fast path). On error nothing is finished; the caller drops the transaction.
    pub fn apply(&self, tx: &mut dyn Tx, op: &mut Operation, now: Timestamp) -> Result<()> {
        if op.done {
            return Ok(());
        }
        // Taken, not cloned: `finish` clears it anyway, and on an error the caller drops `op`.
        let Some(action) = op.action.take() else { return Ok(()) };
        let response = self.executor.apply(tx, action, now)?;
        op.finish(Ok(response), now);
        Ok(())
    }

    /// Completes operation `id` now, if it is still pending, and returns it. It comes back pending
    /// only when another transaction (another replica's runner) holds it and will finish it.
    pub async fn complete(&self, id: &str) -> Result<Operation> {
        let (executor, clock, op_id) = (self.executor.clone(), self.clock.clone(), id.to_string());
        let applied = self
            .store
            .write(move |tx| {
                let Some(mut op) = take(tx, &op_id)? else {
                    return Ok((load(tx, &op_id)?, false));
                };
                let Some(action) = op.action.take() else {
                    return Ok((op, false));
                };
                let now = clock.now();
                if let Some(OperationFault::Fail(cause)) = op.fault.clone() {
                    executor.undo(tx, &action, now)?;
                    op.finish(Err(cause), now);
                } else {
                    let response = executor.apply(tx, action, now)?;
                    op.finish(Ok(response), now);
                }
                tx.put_operation(op.to_row()?)?;
                Ok((op, true))
            })
            .await;
        match applied {
            Ok((op, applied)) => {
                if applied {
                    tracing::debug!(operation_id = %op.id, "operation done");
                    crate::metrics::metrics().operation_finished(matches!(op.result, Some(Ok(_))));
                }
                Ok(op)
            }
            // The store failed, not the action: the operation stays pending for another try.
            Err(e @ Error::Storage(_)) => Err(e),
            // Nothing of the failed attempt was written; now give back what the call reserved
            // and record the failure, in one transaction.
            Err(cause) => self.settle(id, cause).await,
        }
    }

    /// Cancels a pending operation: undoes its reservations and finishes it with CANCELLED.
    pub async fn cancel(&self, id: &str) -> Result<Operation> {
        let (executor, clock, op_id) = (self.executor.clone(), self.clock.clone(), id.to_string());
        self.store
            .write(move |tx| {
                let mut op = load(tx, &op_id)?;
                let Some(action) = op.action.clone().filter(|_| !op.done) else {
                    return Err(Error::OperationAlreadyDone(op.id.clone()));
                };
                let now = clock.now();
                executor.undo(tx, &action, now)?;
                op.finish(Err(Error::Cancelled(op.id.clone())), now);
                tx.put_operation(op.to_row()?)?;
                Ok(op)
            })
            .await
            .inspect(|_| crate::metrics::metrics().operation_finished(false))
    }

    /// Fails a pending operation now with `cause`, giving back what its call reserved (`:fail`).
    pub async fn fail(&self, id: &str, cause: Error) -> Result<Operation> {
        self.settle(id, cause).await
    }

    /// Lets the operations a fault rule held go on, under the current progression.
    pub async fn release_held(&self, rule_id: &str) -> Result<usize> {
        let (clock, progression, rule) = (self.clock.clone(), self.progression, rule_id.to_string());
        let released = self
            .store
            .write(move |tx| {
                let now = clock.now();
                let mut released = 0;
                for row in tx.pending_operations()? {
                    let mut op = Operation::from_row(&row)?;
                    if op.fault != Some(OperationFault::Hold(rule.clone())) {
                        continue;
                    }
                    op.fault = None;
                    // Held past its time: due now (a manual progression keeps it pending still).
                    let schedule = progression.reschedule(now, Schedule { due_at: Some(now), polls_left: None });
                    op.due_at = schedule.due_at;
                    op.polls_left = schedule.polls_left;
                    tx.put_operation(op.to_row()?)?;
                    released += 1;
                }
                Ok(released)
            })
            .await?;
        self.wake();
        Ok(released)
    }

    async fn settle(&self, id: &str, cause: Error) -> Result<Operation> {
        let (executor, clock, op_id) = (self.executor.clone(), self.clock.clone(), id.to_string());
        let settled = self
            .store
            .write(move |tx| {
                let Some(mut op) = take(tx, &op_id)? else {
                    return Ok((load(tx, &op_id)?, false));
                };
                let Some(action) = op.action.clone() else {
                    return Ok((op, false));
                };
                let now = clock.now();
                executor.undo(tx, &action, now)?;
                op.finish(Err(cause.clone()), now);
                tx.put_operation(op.to_row()?)?;
                Ok((op, true))
            })
            .await;
        match settled {
            Ok((op, finished)) => {
                if finished {
                    crate::metrics::metrics().operation_finished(false);
                }
                Ok(op)
            }
            Err(e) => Err(e),
        }
    }

    /// Completes due operations until `shutdown` turns true. Operations still pending then stay in
    /// the store and are finished by the next start.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        // Other replicas' new operations wake this runner too. The listener holds the runner
        // weakly, so it ends with it.
        let runner: Weak<Runner> = Arc::downgrade(&self);
        self.store.watch_operations(Box::new(move || runner.upgrade().map(|r| r.wake()).is_some()));
        match self.recover().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(operations = n, "rescheduled operations left pending by a previous run"),
            Err(e) => tracing::error!(error = %e, "could not reschedule pending operations"),
        }
        loop {
            let next = match self.run_due().await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "operation runner could not read pending operations");
                    Some(self.clock.now().plus_millis(1000))
                }
            };
            let sleep = match next {
                Some(at) => Duration::from_micros(u64::try_from(at.0 - self.clock.now().0).unwrap_or(0)),
                None => IDLE_LOOK,
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// Completes every operation due now; returns when the next one falls due.
    async fn run_due(self: &Arc<Self>) -> Result<Option<Timestamp>> {
        let pending = self.store.read(|tx| Ok(tx.pending_operations()?)).await?;
        let now = self.clock.now();
        let mut next = None;
        let mut running = JoinSet::new();
        let earliest = |next: Option<Timestamp>, at: Timestamp| Some(next.map_or(at, |n| n.min(at)));
        for row in pending {
            match row.due_at.map(Timestamp) {
                Some(due) if due <= now => {
                    let runner = self.clone();
                    running.spawn(async move {
                        // Whether to look again: another runner holds it, or the store failed.
                        match runner.complete(&row.id).await {
                            Ok(op) => !op.done,
                            Err(e) => {
                                tracing::error!(operation_id = %row.id, error = %e, "could not complete operation; will try again");
                                true
                            }
                        }
                    });
                }
                Some(due) => next = earliest(next, due),
                None => {}
            }
        }
        while let Some(joined) = running.join_next().await {
            if joined.unwrap_or(false) {
                next = earliest(next, self.clock.now().plus_millis(LOOK_AGAIN_MS));
            }
        }
        Ok(next)
    }
}
