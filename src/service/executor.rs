//! The runner's view of the services: hands each group of actions to the module that owns it.
//! Both this match and each module's match over its own group name every variant, so an action
//! added without a home does not compile.

use ipnet::Ipv4Net;

use super::{addresses, compute, disks, images, interfaces, moves, routing, security_groups, vpc};
use crate::domain::clock::Timestamp;
use crate::error::Result;
use crate::ops::{Action, Executor, Response};
use crate::store::Tx;

pub struct ServiceExecutor {
    pub public_pool: Ipv4Net,
}

impl Executor for ServiceExecutor {
    fn apply(&self, tx: &mut dyn Tx, action: Action, _now: Timestamp) -> Result<Response> {
        match action {
            // By value: the interface it holds moves into the instance.
            Action::Interface(a) => interfaces::apply(tx, a),
            Action::Instance(a) => compute::apply(tx, self.public_pool, &a),
            Action::Network(a) => vpc::apply_network(tx, &a),
            Action::Subnet(a) => vpc::apply_subnet(tx, &a),
            Action::Address(a) => addresses::apply(tx, &a),
            Action::SecurityGroup(a) => security_groups::apply(tx, &a),
            Action::Disk(a) => disks::apply(tx, &a),
            Action::Image(a) => images::apply(tx, &a),
            Action::RouteTable(a) => routing::apply_route_table(tx, &a),
            Action::Gateway(a) => routing::apply_gateway(tx, &a),
            Action::Move(a) => moves::apply(tx, &a),
        }
    }

    fn undo(&self, tx: &mut dyn Tx, action: &Action, _now: Timestamp) -> Result<()> {
        match action {
            Action::Interface(a) => interfaces::undo(tx, a),
            Action::Instance(a) => compute::undo(tx, a),
            Action::Network(a) => vpc::undo_network(tx, a),
            Action::Subnet(a) => vpc::undo_subnet(tx, a),
            Action::Address(a) => addresses::undo(tx, a),
            Action::SecurityGroup(a) => security_groups::undo(tx, a),
            Action::Disk(a) => disks::undo(tx, a),
            Action::Image(a) => images::undo(tx, a),
            Action::RouteTable(a) => routing::undo_route_table(tx, a),
            Action::Gateway(a) => routing::undo_gateway(tx, a),
            Action::Move(a) => moves::undo(tx, a),
        }
    }
}
