//! The runner's view of the services: dispatches an action to the module that owns it.

use std::sync::Arc;

use ipnet::Ipv4Net;

use super::{compute, vpc};
use crate::domain::clock::Timestamp;
use crate::domain::ids::IdGenerator;
use crate::error::Result;
use crate::ops::{Action, Executor, Response};
use crate::store::Tx;

pub struct ServiceExecutor {
    #[allow(dead_code)]
    pub ids: Arc<dyn IdGenerator>,
    pub public_pool: Ipv4Net,
}

impl Executor for ServiceExecutor {
    fn apply(&self, tx: &mut dyn Tx, action: &Action, _now: Timestamp) -> Result<Response> {
        if compute::owns(action) { compute::apply(tx, self.public_pool, action) } else { vpc::apply(tx, action) }
    }

    fn undo(&self, tx: &mut dyn Tx, action: &Action, _now: Timestamp) -> Result<()> {
        if compute::owns(action) { compute::undo(tx, action) } else { vpc::undo(tx, action) }
    }
}
