//! Crash safety on each durable backend: a bounded loop drives load, kills the server with SIGKILL
//! at a random moment, restarts it on the same store and checks every invariant:
//! - every operation id a client was given resolves, and finishes (none lost, none stuck);
//! - every resource whose creation was acknowledged exists (networks, Huawei DNAT rules);
//! - no address is given twice, and every address marked used belongs to an interface;
//! - no instance is left UPDATING.
//!
//! The moments are random; the seed is printed, and `NETPLANE_CRASH_SEED` replays one.

use std::collections::BTreeSet;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::operation::operation::Result as Outcome;
use netplane::proto::yandex::cloud::operation::{GetOperationRequest, Operation};
use netplane::proto::yandex::cloud::vpc::v1 as vpb;

use crate::fixtures::*;
use crate::harness::{Clients, Server, data_dir, postgres_database, sqlite_store};
use crate::hw::{Hw, PROJECT, Topology, tcp};

const ROUNDS: usize = 6;
const WORKERS: usize = 4;

/// What clients were told: the acknowledgements the invariants are checked against.
#[derive(Clone, Default)]
struct Ledger {
    operations: Vec<Operation>,
    /// DNAT rules answered 201.
    rules: Vec<String>,
}

/// A small deterministic generator (xorshift), seeded at random unless a seed is given.
struct Moments(u64);

impl Moments {
    fn new() -> Moments {
        let seed = std::env::var("NETPLANE_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| RandomState::new().build_hasher().finish() | 1);
        println!("crash loop seed: {seed} (NETPLANE_CRASH_SEED={seed} replays it)");
        Moments(seed)
    }

    /// A duration between `low` and `high` milliseconds.
    fn between(&mut self, low: u64, high: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(low + self.0 % (high - low))
    }
}

struct World {
    instances: StoppedInstances,
    topology: Topology,
}

async fn world(server: &Server) -> World {
    let instances = stopped_instances(&server.clients().await, "worker", "10.60.0.0/16", WORKERS).await;
    let hw = Hw::new(&server.rest, PROJECT, None);
    let topology = hw.topology(61, 24).await;
    // The largest spec, so that the gateway holds as many rules as the loop makes (500).
    hw.put(&hw.nat(&format!("gateways/{}", topology.gateway_id)), serde_json::json!({"gateway": {"spec": "Extra-large"}}))
        .await
        .expect(200, "");
    World { instances, topology }
}

/// Attaches interface 1 (an address from the subnet and a one-to-one NAT address from the pool)
/// and detaches it again, over and over, waiting for each operation; stops at the first error
/// (the server is gone).
async fn cycle_interface(c: Clients, w: Arc<World>, vm: String, ledger: Arc<Mutex<Ledger>>) {
    let mut api = c.instances.clone();
    loop {
        let Ok(got) = api.get(cpb::GetInstanceRequest { instance_id: vm.clone(), ..Default::default() }).await else { return };
        let attached = got.into_inner().network_interfaces.iter().any(|n| n.index == "1");
        let accepted = if attached {
            api.detach_network_interface(cpb::DetachInstanceNetworkInterfaceRequest {
                instance_id: vm.clone(),
                network_interface_index: "1".into(),
            })
            .await
        } else {
            api.attach_network_interface(cpb::AttachInstanceNetworkInterfaceRequest {
                instance_id: vm.clone(),
                network_interface_index: "1".into(),
                subnet_id: w.instances.subnet_id.clone(),
                primary_v4_address_spec: Some(cpb::PrimaryAddressSpec {
                    one_to_one_nat_spec: Some(cpb::OneToOneNatSpec { ip_version: cpb::IpVersion::Ipv4 as i32, ..Default::default() }),
                    ..Default::default()
                }),
                security_group_ids: vec![w.instances.security_group_id.clone()],
            })
            .await
        };
        let Ok(op) = accepted else { return };
        let op = op.into_inner();
        ledger.lock().unwrap().operations.push(op.clone());
        loop {
            match c.operations.clone().get(GetOperationRequest { operation_id: op.id.clone() }).await {
                Ok(got) if got.get_ref().done => break,
                Ok(_) => tokio::time::sleep(Duration::from_millis(2)).await,
                Err(_) => return,
            }
        }
    }
}

/// Creates networks without waiting for their operations.
async fn create_networks(c: Clients, round: usize, ledger: Arc<Mutex<Ledger>>) {
    for n in 0.. {
        let request = vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: format!("r{round}-{n}"), ..Default::default() };
        let Ok(op) = c.networks.clone().create(request).await else { return };
        ledger.lock().unwrap().operations.push(op.into_inner());
    }
}

/// Creates DNAT rules, each on a transit port of its own.
async fn create_rules(hw: Hw, w: Arc<World>, round: usize, ledger: Arc<Mutex<Ledger>>) {
    for n in 0..1000u16 {
        let port = 1 + u16::try_from(round).unwrap_or(0) * 1000 + n;
        let Ok(answer) = hw.try_dnat(&w.topology, &w.topology.transit_ip_id, tcp("10.61.1.10", port, port)).await else { return };
        if answer.status == 400 && answer.code() == "NAT.1207" {
            return; // the gateway holds its spec's most rules
        }
        assert_eq!(answer.status, 201, "{}", answer.body);
        ledger.lock().unwrap().rules.push(answer.id("dnat_rule"));
    }
}

fn created_network(op: &Operation) -> Option<String> {
    let meta = op.metadata.as_ref()?;
    (meta.type_url == "type.googleapis.com/yandex.cloud.vpc.v1.CreateNetworkMetadata")
        .then(|| unpack::<vpb::CreateNetworkMetadata>(meta, "yandex.cloud.vpc.v1.CreateNetworkMetadata").network_id)
}

/// Every invariant, on a freshly restarted server.
async fn check(server: &Server, w: &World, ledger: &Ledger) {
    let c = server.clients().await;
    for op in &ledger.operations {
        let done = c.wait(op).await;
        assert!(matches!(done.result, Some(Outcome::Response(_))), "an acknowledged operation failed: {done:?}");
        if let Some(network_id) = created_network(op) {
            let got = c.networks.clone().get(vpb::GetNetworkRequest { network_id: network_id.clone() }).await;
            assert!(got.is_ok(), "network {network_id}, acknowledged, is lost: {got:?}");
        }
    }
    let hw = Hw::new(&server.rest, PROJECT, None);
    for rule in &ledger.rules {
        hw.get(&hw.nat(&format!("dnat-rules/{rule}"))).await.expect(200, "");
    }
    let mut private = Vec::new();
    let mut public = Vec::new();
    for vm in &w.instances.vms {
        let got = c.instances.clone().get(cpb::GetInstanceRequest { instance_id: vm.clone(), ..Default::default() }).await;
        let got = got.expect("get").into_inner();
        assert_eq!(got.status, cpb::instance::Status::Stopped as i32, "{got:?}");
        for address in got.network_interfaces.iter().filter_map(|n| n.primary_v4_address.as_ref()) {
            private.push(address.address.clone());
            public.extend(address.one_to_one_nat.as_ref().map(|nat| nat.address.clone()));
        }
    }
    let distinct = |v: &[String]| v.iter().collect::<BTreeSet<_>>().len() == v.len();
    assert!(distinct(&private), "an address given twice: {private:?}");
    assert!(distinct(&public), "a NAT address given twice: {public:?}");
    let used: BTreeSet<String> = used_addresses(&c, &w.instances.subnet_id).await.into_iter().collect();
    let held: BTreeSet<String> = private.into_iter().filter(|a| a.starts_with("10.60.")).collect();
    assert_eq!(used, held, "the subnet's used addresses are exactly its interfaces' addresses (nothing leaked)");
}

async fn crash_loop(store: &str, dir: Arc<tempfile::TempDir>) {
    let mut moments = Moments::new();
    let first = Server::start_with(dir.clone(), store, "delay=5ms");
    let w = Arc::new(world(&first).await);
    first.crash().await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut before_last_round = Ledger::default();
    for round in 0..ROUNDS {
        let server = Server::start_with(dir.clone(), store, "delay=5ms");
        // No load runs now: this is everything acknowledged so far.
        before_last_round = ledger.lock().unwrap().clone();
        check(&server, &w, &before_last_round).await;
        let c = server.clients().await;
        let mut load = tokio::task::JoinSet::new();
        for vm in &w.instances.vms {
            load.spawn(cycle_interface(c.clone(), w.clone(), vm.clone(), ledger.clone()));
        }
        load.spawn(create_networks(c.clone(), round, ledger.clone()));
        load.spawn(create_rules(Hw::new(&server.rest, PROJECT, None), w.clone(), round, ledger.clone()));
        let moment = moments.between(50, 500);
        let loaded = tokio::time::Instant::now();
        tokio::time::sleep(moment).await;
        if round + 1 == ROUNDS {
            // The last round must have driven load for the final check to mean anything; on a
            // busy machine the first answers can take longer than the moment drawn.
            let grew =
                |l: &Ledger| l.operations.len() > before_last_round.operations.len() && l.rules.len() > before_last_round.rules.len();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while !grew(&ledger.lock().unwrap()) && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        server.crash().await;
        while let Some(worker) = load.join_next().await {
            worker.expect("a load worker failed");
        }
        println!("round {round}: killed after {:?} (drawn: {moment:?})", loaded.elapsed());
    }
    let last = Server::start_with(dir, store, "delay=5ms");
    let ledger = ledger.lock().unwrap().clone();
    check(&last, &w, &ledger).await;
    println!(
        "{ROUNDS} crashes: {} operations and {} DNAT rules acknowledged, all accounted for",
        ledger.operations.len(),
        ledger.rules.len()
    );
    let grew = ledger.operations.len() > before_last_round.operations.len() && ledger.rules.len() > before_last_round.rules.len();
    assert!(grew, "the last round drove load");
    assert!(last.stop().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_on_sqlite() {
    let dir = data_dir();
    let store = sqlite_store(&dir);
    crash_loop(&store, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_on_postgres() {
    let url = postgres_database("crash_loop");
    crash_loop(&url, data_dir()).await;
}
