//! Use cases: one async function per API method, typed protocol-free commands in, domain values
//! out. Each opens one transaction, applies domain rules, reserves what must not be taken twice and
//! records the operation; the runner later applies the operation's action through `Executor`.

mod access;
pub mod addresses;
mod admin;
pub mod caller;
mod claims;
pub mod compute;
pub mod disks;
mod executor;
pub mod faults;
pub mod huawei;
pub mod iam;
mod idempotency;
pub mod images;
mod interface_claims;
pub mod interfaces;
mod lifecycle;
pub mod listing;
mod moves;
mod names;
pub mod operations;
pub(crate) mod paging;
pub mod plumbing;
pub mod retention;
pub mod routing;
pub mod security_groups;
pub mod state;
pub mod vpc;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ipnet::Ipv4Net;

pub use access::OperationOwner;
pub use admin::ScopeCounts;
pub use paging::Page;

use crate::domain::clock::{Clock, SystemClock, Timestamp};
use crate::domain::ids::{IdGenerator, IdKind, TimeOrderedIds};
use crate::error::Result;
use crate::ops::{Action, Metadata, Operation, OperationFault, Progression, Runner};
use crate::service::caller::Caller;
use crate::store::{Store, Tx};

/// Settings the use cases depend on.
#[derive(Clone, Debug)]
pub struct Settings {
    pub progression: Progression,
    /// Where ephemeral one-to-one NAT addresses come from.
    pub public_pool: Ipv4Net,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            progression: Progression::default(),
            // RFC 2544's benchmarking range: never routed on the internet, so a fake public
            // address can never be mistaken for a real one.
            public_pool: Ipv4Net::new(std::net::Ipv4Addr::new(198, 18, 0, 0), 15).unwrap_or_default(),
        }
    }
}

/// The shared core every area's facade works over: store, clock, ids, the operation runner and
/// settings. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    store: Store,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    runner: Arc<Runner>,
    settings: Settings,
    /// The public image catalog (`images::catalog`), read-only.
    catalog: Store,
    /// The in-process copy of the fault rules (`faults.rs`).
    faults: Arc<faults::FaultBook>,
}

/// Declares an area's facade: its use cases are `impl` blocks on it in the area's files, and it
/// reaches the core's fields and helpers through `Deref`.
macro_rules! facade {
    ($(#[doc = $doc:literal])* $name:ident) => {
        $(#[doc = $doc])*
        #[derive(Clone)]
        pub struct $name(Core);

        impl std::ops::Deref for $name {
            type Target = Core;
            fn deref(&self) -> &Core {
                &self.0
            }
        }
    };
}

facade!(
    /// InstanceService: instances (`compute.rs`) and their network interfaces (`interfaces.rs`).
    ComputeArea
);
facade!(
    /// DiskService (`disks.rs`).
    DiskArea
);
facade!(
    /// ImageService (`images.rs`): the public catalog and users' images.
    ImageArea
);
facade!(
    /// NetworkService and SubnetService (`vpc.rs`).
    VpcArea
);
facade!(
    /// RouteTableService and GatewayService (`routing.rs`).
    RoutingArea
);
facade!(
    /// AddressService (`addresses.rs`).
    AddressArea
);
facade!(
    /// SecurityGroupService (`security_groups.rs`).
    SecurityGroupArea
);
facade!(
    /// OperationService (`operations.rs`).
    OperationArea
);
facade!(
    /// Huawei VPC and private NAT (`huawei/`).
    HuaweiArea
);
facade!(
    /// The emulator's own controls (`admin.rs`, `state.rs`).
    AdminArea
);

/// Every area's facade, over one core.
#[derive(Clone)]
pub struct Services {
    pub core: Core,
    pub compute: ComputeArea,
    pub disks: DiskArea,
    pub images: ImageArea,
    pub vpc: VpcArea,
    pub routing: RoutingArea,
    pub addresses: AddressArea,
    pub security_groups: SecurityGroupArea,
    pub operations: OperationArea,
    pub huawei: HuaweiArea,
    pub admin: AdminArea,
}

impl Services {
    pub fn new(store: Store, settings: Settings) -> Self {
        Self::with(store, settings, Arc::new(SystemClock), Arc::new(TimeOrderedIds))
    }

    /// With an injected clock and id generator (deterministic tests).
    pub fn with(store: Store, settings: Settings, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self {
        let executor = Arc::new(executor::ServiceExecutor { public_pool: settings.public_pool });
        let runner = Arc::new(Runner::new(store.clone(), executor, clock.clone(), settings.progression));
        // A memory store cannot fail to open or take the catalog's rows.
        let catalog = images::catalog().expect("the public image catalog builds in memory");
        let faults = Arc::new(faults::FaultBook::new(&store));
        let core = Core { store, clock, ids, runner, settings, catalog, faults };
        Services {
            compute: ComputeArea(core.clone()),
            disks: DiskArea(core.clone()),
            images: ImageArea(core.clone()),
            vpc: VpcArea(core.clone()),
            routing: RoutingArea(core.clone()),
            addresses: AddressArea(core.clone()),
            security_groups: SecurityGroupArea(core.clone()),
            operations: OperationArea(core.clone()),
            huawei: HuaweiArea(core.clone()),
            admin: AdminArea(core.clone()),
            core,
        }
    }

    pub fn runner(&self) -> Arc<Runner> {
        self.core.runner.clone()
    }

    pub fn store(&self) -> &Store {
        &self.core.store
    }
}

impl Core {
    /// Runs `accept` in one transaction with the operation it starts, then lets the operation
    /// progress as configured. The caller's subject becomes `created_by`; a repeated idempotency
    /// key returns the operation it started the first time, in its current state, without running
    /// `accept` again (checked in the same transaction, so concurrent repeats act once).
    async fn start_operation<F>(&self, kind: IdKind, zone_id: &str, mut accept: F) -> Result<Operation>
    where
        F: FnMut(&mut dyn Tx, Timestamp) -> Result<(Metadata, Action)> + Send + 'static,
    {
        let id = self.ids.id(kind, zone_id);
        let (clock, progression, runner) = (self.clock.clone(), self.settings.progression, self.runner.clone());
        let caller = Caller::current();
        let started = caller.started.clone();
        // Inline operations are applied in the transaction that accepts them (one commit, not
        // two). If applying fails, that transaction is dropped and the call takes the two-step
        // path, which records the failure and gives back what was reserved.
        let apply_failed = Arc::new(AtomicBool::new(false));
        let fault = caller.fault.clone();
        let held = matches!(fault, Some(OperationFault::Hold(_)));
        let mut apply_now = progression == Progression::Inline && fault.is_none();
        let attempt = {
            let apply_failed = apply_failed.clone();
            move |tx: &mut dyn Tx, apply_now: bool| -> Result<(Operation, bool)> {
                let now = clock.now();
                if let Some(key) = &caller.idempotency
                    && let Some(first) = idempotency::earlier(tx, &caller.subject, key, now)?
                {
                    return Ok((first, true));
                }
                let (metadata, action) = accept(tx, now)?;
                let schedule = if held { Progression::Manual.schedule(now) } else { progression.schedule(now) };
                let mut op = Operation {
                    id: id.clone(),
                    description: metadata.description().to_string(),
                    created_at: now,
                    created_by: caller.subject.clone(),
                    modified_at: now,
                    done: false,
                    metadata,
                    result: None,
                    action: Some(action),
                    due_at: schedule.due_at,
                    polls_left: schedule.polls_left,
                    fault: fault.clone(),
                };
                if apply_now && let Err(e) = runner.apply(tx, &mut op, now) {
                    apply_failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                tx.put_operation(op.to_row()?)?;
                if let Some(key) = &caller.idempotency {
                    idempotency::record(tx, &caller.subject, key, &op.id, now)?;
                }
                Ok((op, false))
            }
        };
        let attempt = Arc::new(parking_lot::Mutex::new(attempt));
        let (op, again) = loop {
            let (attempt, apply) = (attempt.clone(), apply_now);
            match self.store.write(move |tx| (*attempt.lock())(tx, apply)).await {
                Err(_) if apply_now && apply_failed.swap(false, Ordering::Relaxed) => apply_now = false,
                other => break other?,
            }
        };
        if again {
            if let Some(slot) = &started {
                let _ = slot.set(op.id.clone());
            }
            tracing::debug!(operation_id = %op.id, "idempotent repeat: answering the operation the key started");
            return Ok(op);
        }
        // Debug, as every per-call line: at info a line per write cost a system call and a tenth of
        // the call's instructions (BENCHMARKS.md, "The default log level").
        tracing::debug!(operation_id = %op.id, description = %op.description, resource_id = %op.metadata.resource_id(), "operation accepted");
        crate::metrics::metrics().operation_started();
        if op.done {
            crate::metrics::metrics().operation_finished(matches!(op.result, Some(Ok(_))));
        }
        if let Some(slot) = &started {
            let _ = slot.set(op.id.clone());
        }
        match progression {
            _ if held => Ok(op),
            Progression::Inline if op.done => Ok(op),
            Progression::Inline => self.runner.complete(&op.id).await,
            Progression::Delay(_) => {
                self.runner.wake();
                Ok(op)
            }
            Progression::Polls(_) | Progression::Manual => Ok(op),
        }
    }
}
