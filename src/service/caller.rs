//! Who is calling, for the length of one call: the subject (recorded as an operation's
//! `created_by`), its folders, and the idempotency key it sent. The API's guard layer sets it around the call;
//! it travels as a task-local so that every use case starting an operation gets it without each
//! handler passing it along.

use std::future::Future;

use crate::domain::principals::Scope;

/// An idempotency key as the guard saw it: the key, the method it was sent to, and a fingerprint
/// of the request so that a different request with the same key is told apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub method: String,
    pub fingerprint: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    /// The folders the caller may use; for lookups that name no folder the guard could check.
    pub folders: Scope,
    pub idempotency: Option<IdempotencyKey>,
    /// What a fault rule asked of the operation this call starts, if any.
    pub fault: Option<crate::ops::OperationFault>,
    /// Where the call's record (the request journal) learns the operation the call started.
    pub started: Option<std::sync::Arc<std::sync::OnceLock<String>>>,
}

tokio::task_local! {
    static CALLER: Caller;
}

impl Caller {
    /// The caller of the call being served; an anonymous one outside a call (runner, tests).
    pub fn current() -> Caller {
        CALLER.try_with(Clone::clone).unwrap_or_default()
    }

    /// Runs `call` as this caller.
    pub async fn scope<F: Future>(self, call: F) -> F::Output {
        CALLER.scope(self, call).await
    }
}
