//! Writes handed to a backend's own writer thread instead of each taking a blocking-pool thread.
//!
//! A caller wraps its transaction closure in a `WriteJob` and awaits the reply; the writer runs
//! queued jobs one after another and answers each only once the transaction holding its changes
//! has ended. Everything queued while a group runs joins it, so a backend that pays for each
//! commit (SQLite writes its pages to the WAL) pays once for many calls, and no call ties up a
//! thread while it waits for the writer.

use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{StoreResult, Tx};
use crate::error::{Error, Result};

/// One queued write.
pub trait WriteJob: Send {
    /// Runs the transaction body. Its changes are not committed yet.
    fn run(&mut self, tx: &mut dyn Tx) -> Result<()>;
    /// Answers the caller: `Ok` only once the changes `run` made are committed.
    fn finish(self: Box<Self>, outcome: Result<()>);
    /// Whether the job runs in a savepoint of its own, so that its failure undoes it alone. A
    /// job whose failure stops the store anyway (the resident store's log) saves the two
    /// statements.
    fn own_savepoint(&self) -> bool {
        true
    }
}

/// What a writer does once per group around its jobs. The resident store's log writes a group's
/// transactions as one row (`before_commit`) and publishes them once committed (`finished`);
/// the store file's writer does nothing (`()`).
pub trait GroupEnd: Send + Sync {
    /// Runs in the group's transaction after its jobs, when some of them are to be kept. A
    /// failure rolls the whole group back.
    fn before_commit(&self, _tx: &mut dyn Tx) -> StoreResult<()> {
        Ok(())
    }
    /// Called once every job of the group has finished; `committed` says whether the group's
    /// transaction was committed.
    fn finished(&self, _committed: bool) {}
}

impl GroupEnd for () {}

/// A closure and the caller waiting for what it returns.
struct Job<F, T> {
    body: F,
    out: Option<T>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> WriteJob for Job<F, T>
where
    T: Send,
    F: FnMut(&mut dyn Tx) -> Result<T> + Send,
{
    fn run(&mut self, tx: &mut dyn Tx) -> Result<()> {
        self.out = Some((self.body)(tx)?);
        Ok(())
    }

    fn finish(self: Box<Self>, outcome: Result<()>) {
        let Job { out, reply, .. } = *self;
        let answer = outcome.and_then(|()| out.ok_or_else(|| Error::Internal("storage: transaction produced no result".into())));
        // The caller may have gone away (its request was cancelled); the write stands either way.
        let _ = reply.send(answer);
    }
}

/// The sending end of a writer thread's queue.
#[derive(Clone)]
pub struct WriteQueue(mpsc::Sender<Box<dyn WriteJob>>);

impl WriteQueue {
    /// A queue and the receiving end its writer thread drains.
    pub fn new() -> (WriteQueue, mpsc::Receiver<Box<dyn WriteJob>>) {
        let (tx, rx) = mpsc::channel();
        (WriteQueue(tx), rx)
    }

    /// Queues a job without waiting for it (its `finish` says how it ended).
    pub fn send(&self, job: Box<dyn WriteJob>) {
        if let Err(mpsc::SendError(job)) = self.0.send(job) {
            job.finish(Err(Error::Storage("the store's writer has stopped".into())));
        }
    }

    /// Queues `body` and waits until the writer has run it and ended its transaction.
    pub async fn write<T, F>(&self, body: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn WriteJob> = Box::new(Job { body, out: None, reply });
        if let Err(mpsc::SendError(job)) = self.0.send(job) {
            job.finish(Err(Error::Storage("the store's writer has stopped".into())));
        }
        answer.await.map_err(|_| Error::Storage("the store's writer stopped before answering".into()))?
    }
}
