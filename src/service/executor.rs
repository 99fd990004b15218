//! The runner's view of the services: dispatches an action to the module that owns it.

use ipnet::Ipv4Net;

use super::{addresses, compute, interfaces, security_groups, vpc};
use crate::domain::clock::Timestamp;
use crate::error::Result;
use crate::ops::{Action, Executor, Response};
use crate::store::Tx;

pub struct ServiceExecutor {
    pub public_pool: Ipv4Net,
}

impl Executor for ServiceExecutor {
    fn apply(&self, tx: &mut dyn Tx, action: &Action, _now: Timestamp) -> Result<Response> {
        match action {
            Action::ChangeInterface { .. } => interfaces::apply(tx, action),
            a if compute::owns(a) => compute::apply(tx, self.public_pool, a),
            a if addresses::owns(a) => addresses::apply(tx, a),
            a if security_groups::owns(a) => security_groups::apply(tx, a),
            a => vpc::apply(tx, a),
        }
    }

    fn undo(&self, tx: &mut dyn Tx, action: &Action, _now: Timestamp) -> Result<()> {
        match action {
            Action::ChangeInterface { .. } => interfaces::undo(tx, action),
            a if compute::owns(a) => compute::undo(tx, a),
            a if addresses::owns(a) => addresses::undo(tx, a),
            a if security_groups::owns(a) => security_groups::undo(tx, a),
            a => vpc::undo(tx, a),
        }
    }
}
