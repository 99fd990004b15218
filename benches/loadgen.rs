//! The load generator: starts the release `netplane` (pinned to one core, itself on the other),
//! prepares stopped instances, and drives the networking workload at several concurrencies over
//! gRPC and REST, plus a read-only mix; and the same generator against a bare tonic server in the
//! same run, before netplane's rows and again after them, for the ceiling (each row is set against
//! the mean of the two). Prints calls/s, latency percentiles, server CPU per call and peak RSS.
//!
//! `cargo bench --bench loadgen -- [--store sqlite|sqlite-direct|memory] [--seconds 5] [--concurrency 1,16,64]
//! [--workloads floor,mixed,read,create,rest] [--instructions]`
//!
//! With `--instructions` netplane runs under valgrind's callgrind (about fifty times slower) and
//! each of its rows also says how many instructions the server executed per call: a figure that
//! does not move with the machine's speed, for changes too small to see in calls per second.

use std::future::Future;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::compute::v1::instance_service_client::InstanceServiceClient;
use netplane::proto::yandex::cloud::operation::operation_service_client::OperationServiceClient;
use netplane::proto::yandex::cloud::operation::{GetOperationRequest, Operation};
use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use netplane::proto::yandex::cloud::vpc::v1::network_service_client::NetworkServiceClient;
use netplane::proto::yandex::cloud::vpc::v1::security_group_service_client::SecurityGroupServiceClient;
use netplane::proto::yandex::cloud::vpc::v1::subnet_service_client::SubnetServiceClient;
use prost::Message;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

#[path = "common/process.rs"]
mod process;

use process::{Process, callgrind, pinned};

const FOLDER: &str = "b1gbenchfolder000000";
const ZONE: &str = "ru-central1-a";

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Options {
    store: String,
    seconds: u64,
    concurrency: Vec<usize>,
    /// With `--scale N`: the scale figures over N instances instead of the workloads.
    scale: Option<usize>,
    /// `--workloads floor,mixed,read,create,rest`: the rows to run (all by default; a subset for profiling).
    workloads: Vec<String>,
    /// With `--soak MINUTES`: the mixed workload at the highest concurrency for that long, a row a
    /// minute (resident memory, store file and WAL sizes) instead of the table.
    soak: Option<u64>,
    /// `--retention DURATION`: the server's `--operation-retention` (its default otherwise).
    retention: Option<String>,
    /// `--instructions`: netplane under callgrind, and the instructions per call of each row.
    instructions: bool,
}

impl Options {
    fn runs(&self, workload: &str) -> bool {
        self.workloads.iter().any(|w| w == workload)
    }
}

fn options() -> Options {
    let all = ["floor", "mixed", "read", "create", "rest"].map(String::from).to_vec();
    let mut o = Options {
        store: "sqlite".into(),
        seconds: 5,
        concurrency: vec![1, 16, 64],
        scale: None,
        workloads: all,
        soak: None,
        retention: None,
        instructions: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--store" => o.store = value,
            "--seconds" => o.seconds = value.parse().expect("--seconds N"),
            "--concurrency" => o.concurrency = value.split(',').map(|c| c.parse().expect("--concurrency 1,16,64")).collect(),
            "--scale" => o.scale = Some(value.parse().expect("--scale N")),
            "--workloads" => o.workloads = value.split(',').map(String::from).collect(),
            "--soak" => o.soak = Some(value.parse().expect("--soak MINUTES")),
            "--retention" => o.retention = Some(value),
            "--instructions" => {
                o.instructions = true;
                i += 1;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

/// One measured run: every call's latency in microseconds.
struct Figures {
    label: String,
    concurrency: usize,
    calls: usize,
    seconds: f64,
    latencies: Vec<u32>,
    cpu_per_call_us: f64,
    /// Of `cpu_per_call_us`, the kernel's (system time).
    system_per_call_us: f64,
    peak_rss_mib: f64,
    /// Jobs per group commit of the default store's log writer over the row, when it has one.
    jobs_per_log_commit: Option<f64>,
    /// Instructions the server executed per call, when it runs under callgrind.
    instructions_per_call: Option<f64>,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.calls as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(i).copied().unwrap_or(0) as f64 / 1000.0
    }

    fn print(&self, ceiling: Option<f64>) {
        let ratio = ceiling.map_or(String::from("-"), |c| format!("{:.0}%", 100.0 * self.rate() / c));
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.1} | {} | {} |",
            self.label,
            self.concurrency,
            self.rate(),
            self.percentile(0.5),
            self.percentile(0.99),
            self.percentile(0.999),
            self.cpu_per_call_us,
            self.system_per_call_us,
            self.peak_rss_mib,
            ratio,
            self.jobs_per_log_commit.map_or(String::from("-"), |jobs| format!("{jobs:.1}"))
        );
    }
}

/// Runs `concurrency` workers, each repeating `step(worker)` (which returns how many calls it made
/// and records their latencies) until the time is up.
async fn drive<F, Fut>(label: &str, server: &Process, concurrency: usize, seconds: u64, step: F) -> Figures
where
    F: Fn(usize, Arc<std::sync::Mutex<Vec<u32>>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<usize, Error>> + Send,
{
    let step = Arc::new(step);
    let log_before = log_commits(server).await;
    if server.callgrind {
        callgrind::zero(server.child.id());
    }
    let (cpu_before, system_before) = (server.cpu_seconds(), server.system_seconds());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let step = step.clone();
            tokio::spawn(async move {
                let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
                let mut calls = 0;
                while Instant::now() < deadline {
                    calls += step(w, latencies.clone()).await.expect("workload call");
                }
                let latencies = std::mem::take(&mut *latencies.lock().unwrap());
                (calls, latencies)
            })
        })
        .collect();
    let mut calls = 0;
    let mut latencies = Vec::new();
    for worker in workers {
        let (c, l) = worker.await.expect("worker");
        calls += c;
        latencies.extend(l);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let instructions_per_call = server.callgrind.then(|| callgrind::instructions(server.child.id()) as f64 / calls.max(1) as f64);
    let (cpu, system) = (server.cpu_seconds() - cpu_before, server.system_seconds() - system_before);
    let jobs_per_log_commit = match (log_before, log_commits(server).await) {
        (Some((jobs_before, groups_before)), Some((jobs, groups))) if groups > groups_before => {
            Some((jobs - jobs_before) / (groups - groups_before))
        }
        _ => None,
    };
    Figures {
        label: label.to_string(),
        concurrency,
        calls,
        seconds,
        latencies,
        cpu_per_call_us: cpu * 1e6 / calls.max(1) as f64,
        system_per_call_us: system * 1e6 / calls.max(1) as f64,
        peak_rss_mib: server.peak_rss_mib(),
        jobs_per_log_commit,
        instructions_per_call,
    }
}

/// The jobs and the group commits of the default store's log writer so far, from the server's
/// `/metrics` (`None` for a server without one, such as the bare tonic server or another store).
/// Bounded in time: a run once waited a quarter of an hour here with one HTTP/1.1 connection
/// open to the bare server (HTTP/2 only; 79 bytes sent, 49 received) and no call made.
async fn log_commits(server: &Process) -> Option<(f64, f64)> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().ok()?;
    let text = client.get(format!("http://{}/metrics", server.addr)).send().await.ok()?.error_for_status().ok()?.text().await.ok()?;
    let value = |series: &str| text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse::<f64>().ok());
    Some((value("netplane_store_commit_group_jobs_sum{writer=\"log\"}")?, value("netplane_store_commit_group_jobs_count{writer=\"log\"}")?))
}

/// Times one call into `latencies`.
async fn timed<T, E: Into<Error>>(latencies: &std::sync::Mutex<Vec<u32>>, call: impl Future<Output = Result<T, E>>) -> Result<T, Error> {
    let started = Instant::now();
    let out = call.await.map_err(Into::into)?;
    latencies.lock().unwrap().push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
    Ok(out)
}

/// What the read row keeps of a Get's `Instance`: its id (field 1); the rest is skipped unread.
#[derive(Clone, PartialEq, prost::Message)]
struct InstanceId {
    #[prost(string, tag = "1")]
    id: String,
}

/// What the read row keeps of a `ListInstancesResponse`: each instance's bytes (field 1), not
/// decoded, and the next page's token (field 2).
#[derive(Clone, PartialEq, prost::Message)]
struct InstancesPage {
    #[prost(bytes = "bytes", repeated, tag = "1")]
    instances: Vec<bytes::Bytes>,
    #[prost(string, tag = "2")]
    next_page_token: String,
}

/// The read row's client: the same calls as `InstanceServiceClient`'s, answers read as
/// `InstanceId` and `InstancesPage`. Decoding every instance of a page (about twenty allocations
/// each) kept the generator's core 90-93% busy while the server's was 66-77%: the row measured
/// the generator.
#[derive(Clone)]
struct LightReads(tonic::client::Grpc<Channel>);

impl LightReads {
    async fn call<Q: Message + 'static, A: Message + Default + 'static>(&mut self, path: &'static str, request: Q) -> Result<A, Error> {
        self.0.ready().await.map_err(|e| format!("not ready: {e}"))?;
        let codec = tonic_prost::ProstCodec::<Q, A>::default();
        Ok(self.0.unary(tonic::Request::new(request), http::uri::PathAndQuery::from_static(path), codec).await?.into_inner())
    }

    async fn get(&mut self, request: cpb::GetInstanceRequest) -> Result<InstanceId, Error> {
        let instance: InstanceId = self.call("/yandex.cloud.compute.v1.InstanceService/Get", request).await?;
        if instance.id.is_empty() {
            return Err("a Get answered no instance".into());
        }
        Ok(instance)
    }

    async fn list(&mut self, request: cpb::ListInstancesRequest) -> Result<InstancesPage, Error> {
        let page: InstancesPage = self.call("/yandex.cloud.compute.v1.InstanceService/List", request).await?;
        if page.instances.is_empty() {
            return Err("a List answered an empty page".into());
        }
        Ok(page)
    }
}

#[derive(Clone)]
struct Clients {
    instances: InstanceServiceClient<Channel>,
    operations: OperationServiceClient<Channel>,
}

/// What the workload works on: stopped instances, a second subnet and a security group.
struct Fixture {
    instances: Vec<String>,
    subnet: String,
    group: String,
}

async fn wait(c: &mut OperationServiceClient<Channel>, op: Operation) -> Result<Operation, Error> {
    let mut op = op;
    while !op.done {
        op = c.get(GetOperationRequest { operation_id: op.id.clone() }).await?.into_inner();
    }
    Ok(op)
}

fn response_id(op: &Operation) -> String {
    use netplane::proto::yandex::cloud::operation::operation::Result as R;
    match &op.result {
        Some(R::Response(any)) => vpb::Network::decode(any.value.as_slice()).map(|n| n.id).unwrap_or_default(),
        other => panic!("operation failed: {other:?}"),
    }
}

async fn prepare(channel: Channel, count: usize) -> Result<Fixture, Error> {
    let mut ops = OperationServiceClient::new(channel.clone());
    let mut networks = NetworkServiceClient::new(channel.clone());
    let mut subnets = SubnetServiceClient::new(channel.clone());
    let mut instances = InstanceServiceClient::new(channel.clone());
    let network = networks
        .create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: "bench".into(), ..Default::default() })
        .await?
        .into_inner();
    let network_id = response_id(&wait(&mut ops, network).await?);
    let mut subnet_ids = Vec::new();
    for cidr in ["10.0.0.0/16", "10.1.0.0/16"] {
        let req = vpb::CreateSubnetRequest {
            folder_id: FOLDER.into(),
            network_id: network_id.clone(),
            zone_id: ZONE.into(),
            v4_cidr_blocks: vec![cidr.into()],
            ..Default::default()
        };
        subnet_ids.push(response_id(&wait(&mut ops, subnets.create(req).await?.into_inner()).await?));
    }
    let group = SecurityGroupServiceClient::new(channel.clone())
        .create(vpb::CreateSecurityGroupRequest { folder_id: FOLDER.into(), network_id, ..Default::default() })
        .await?
        .into_inner();
    let group = response_id(&wait(&mut ops, group).await?);
    let mut ids = Vec::new();
    for i in 0..count {
        let req = instance_request(i, &subnet_ids[0]);
        let id = response_id(&wait(&mut ops, instances.create(req).await?.into_inner()).await?);
        wait(&mut ops, instances.stop(cpb::StopInstanceRequest { instance_id: id.clone() }).await?.into_inner()).await?;
        ids.push(id);
    }
    Ok(Fixture { instances: ids, subnet: subnet_ids[1].clone(), group })
}

/// One networking cycle on an instance, leaving it as it was: attach → poll → add NAT → poll →
/// get → remove NAT → poll → detach → poll. Returns the number of calls.
async fn cycle(c: &mut Clients, instance_id: &str, fixture: &Fixture, latencies: &std::sync::Mutex<Vec<u32>>) -> Result<usize, Error> {
    let mut calls = 0;
    let settle = async |c: &mut Clients, op: Operation, calls: &mut usize| -> Result<(), Error> {
        let mut op = op;
        while !op.done {
            op = timed(latencies, c.operations.get(GetOperationRequest { operation_id: op.id.clone() })).await?.into_inner();
            *calls += 1;
        }
        Ok(())
    };
    let attach = cpb::AttachInstanceNetworkInterfaceRequest {
        instance_id: instance_id.into(),
        network_interface_index: "1".into(),
        subnet_id: fixture.subnet.clone(),
        primary_v4_address_spec: Some(cpb::PrimaryAddressSpec::default()),
        security_group_ids: vec![fixture.group.clone()],
    };
    let op = timed(latencies, c.instances.attach_network_interface(attach)).await?.into_inner();
    calls += 1;
    settle(c, op, &mut calls).await?;
    let nat = cpb::AddInstanceOneToOneNatRequest {
        instance_id: instance_id.into(),
        network_interface_index: "1".into(),
        one_to_one_nat_spec: Some(cpb::OneToOneNatSpec { ip_version: cpb::IpVersion::Ipv4 as i32, ..Default::default() }),
        ..Default::default()
    };
    let op = timed(latencies, c.instances.add_one_to_one_nat(nat)).await?.into_inner();
    calls += 1;
    settle(c, op, &mut calls).await?;
    timed(latencies, c.instances.get(cpb::GetInstanceRequest { instance_id: instance_id.into(), ..Default::default() })).await?;
    calls += 1;
    let remove = cpb::RemoveInstanceOneToOneNatRequest {
        instance_id: instance_id.into(),
        network_interface_index: "1".into(),
        ..Default::default()
    };
    let op = timed(latencies, c.instances.remove_one_to_one_nat(remove)).await?.into_inner();
    calls += 1;
    settle(c, op, &mut calls).await?;
    let detach = cpb::DetachInstanceNetworkInterfaceRequest { instance_id: instance_id.into(), network_interface_index: "1".into() };
    let op = timed(latencies, c.instances.detach_network_interface(detach)).await?.into_inner();
    calls += 1;
    settle(c, op, &mut calls).await?;
    Ok(calls)
}

/// The same cycle over REST/JSON.
async fn rest_cycle(
    http: &reqwest::Client,
    base: &str,
    instance_id: &str,
    fixture: &Fixture,
    latencies: &std::sync::Mutex<Vec<u32>>,
) -> Result<usize, Error> {
    let mut calls = 0;
    let call = async |method: reqwest::Method,
                      path: String,
                      body: Option<serde_json::Value>,
                      calls: &mut usize|
           -> Result<serde_json::Value, Error> {
        let mut req = http.request(method, format!("{base}{path}"));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = timed(latencies, req.send()).await?;
        *calls += 1;
        let status = res.status();
        let json: serde_json::Value = res.json().await?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {json}").into());
        }
        Ok(json)
    };
    let steps = [
        (
            format!("/compute/v1/instances/{instance_id}:attachNetworkInterface"),
            serde_json::json!({
            "networkInterfaceIndex": "1", "subnetId": fixture.subnet, "primaryV4AddressSpec": {}, "securityGroupIds": [fixture.group]}),
        ),
        (
            format!("/compute/v1/instances/{instance_id}/addOneToOneNat"),
            serde_json::json!({
            "networkInterfaceIndex": "1", "oneToOneNatSpec": {"ipVersion": "IPV4"}}),
        ),
        (format!("/compute/v1/instances/{instance_id}/removeOneToOneNat"), serde_json::json!({"networkInterfaceIndex": "1"})),
        (format!("/compute/v1/instances/{instance_id}:detachNetworkInterface"), serde_json::json!({"networkInterfaceIndex": "1"})),
    ];
    for (i, (path, body)) in steps.into_iter().enumerate() {
        let mut op = call(reqwest::Method::POST, path, Some(body), &mut calls).await?;
        while op["done"] != true {
            op = call(reqwest::Method::GET, format!("/operations/{}", op["id"].as_str().unwrap_or_default()), None, &mut calls).await?;
        }
        if i == 1 {
            call(reqwest::Method::GET, format!("/compute/v1/instances/{instance_id}"), None, &mut calls).await?;
        }
    }
    Ok(calls)
}

async fn channel(addr: &str) -> Channel {
    Channel::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect")
}

/// The ceiling: tonic serving only the health service, no layers, answering `Check`.
async fn bare_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    println!("bare listening on {}", listener.local_addr().expect("addr"));
    let (_, health) = tonic_health::server::health_reporter();
    tonic::transport::Server::builder()
        .add_service(health)
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
        .await
        .expect("bare server");
}

fn main() {
    let runtime = |threads| tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build().expect("runtime");
    if std::env::args().any(|a| a == "--bare-server") {
        return runtime(2).block_on(bare_server());
    }
    // The generator on core 1; each server on core 0.
    let _ = Command::new("taskset").args(["-p", "-c", "1", &std::process::id().to_string()]).stdout(Stdio::null()).status();
    let o = options();
    match (o.scale, o.soak) {
        (Some(n), _) => runtime(1).block_on(scale(o.store.clone(), n)),
        (None, Some(minutes)) => runtime(1).block_on(soak(o, minutes)),
        (None, None) => runtime(1).block_on(run(o)),
    }
}

/// The server's log filter: the level it runs at unless told otherwise (info), so that the figures
/// are those of the server as started; `NETPLANE_BENCH_LOG` sets another (until the twenty-fourth
/// session the rows ran at `warn`, which hid a line per write and a span per call).
fn server_log_filter() -> String {
    std::env::var("NETPLANE_BENCH_LOG").unwrap_or_else(|_| "info".into())
}

fn netplane_command(store: &str) -> Command {
    serving(pinned(std::path::Path::new(env!("CARGO_BIN_EXE_netplane")), "0"), store)
}

/// `command` (netplane, or valgrind running it) told to serve `store` on an ephemeral port with
/// operations inline, at the benchmark's log filter: every row and soak starts the server so.
fn serving(mut command: Command, store: &str) -> Command {
    command.args(["serve", "--listen", "127.0.0.1:0", "--store", store, "--operations", "inline"]).env("RUST_LOG", server_log_filter());
    command
}

fn instance_request(i: usize, subnet_id: &str) -> cpb::CreateInstanceRequest {
    cpb::CreateInstanceRequest {
        folder_id: FOLDER.into(),
        name: format!("bench-{i}"),
        zone_id: ZONE.into(),
        platform_id: "standard-v3".into(),
        resources_spec: Some(cpb::ResourcesSpec { memory: 2 << 30, cores: 2, core_fraction: 100, gpus: 0 }),
        // A boot disk made from a public image in the same operation (a disk id must name a disk).
        boot_disk_spec: Some(cpb::AttachedDiskSpec {
            auto_delete: true,
            disk: Some(cpb::attached_disk_spec::Disk::DiskSpec(cpb::attached_disk_spec::DiskSpec {
                size: 10 << 30,
                source: Some(cpb::attached_disk_spec::disk_spec::Source::ImageId("fd85u0rct32prepgjlv0".into())),
                ..Default::default()
            })),
            ..Default::default()
        }),
        network_interface_specs: vec![cpb::NetworkInterfaceSpec { subnet_id: subnet_id.into(), ..Default::default() }],
        ..Default::default()
    }
}

/// Milliseconds of each call of `calls` runs of `call`, sorted.
async fn sample<Fut: Future<Output = Result<(), Error>>>(calls: usize, mut call: impl FnMut() -> Fut) -> Vec<f64> {
    let mut ms = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        call().await.expect("call");
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    ms
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0)
}

/// The `--store` of a `--store` name: `memory`, `sqlite` (the resident default) or
/// `sqlite-direct` (served from the file, as before it), the last two in a file at `path`.
fn store_spec(name: &str, path: &std::path::Path) -> String {
    match name {
        "memory" => "memory".to_string(),
        "sqlite-direct" => format!("sqlite-direct:{}", path.display()),
        _ => format!("sqlite:{}", path.display()),
    }
}

/// The scale figures: start-up empty and with `n` instances, RSS, and filtered lists over them.
async fn scale(store: String, n: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_spec(&store, &dir.path().join("scale.db"));
    let started = Instant::now();
    let server = Process::start(netplane_command(&store), "netplane listening on ");
    let ch = channel(&server.addr).await;
    let mut instances = InstanceServiceClient::new(ch.clone());
    instances.list(cpb::ListInstancesRequest { folder_id: FOLDER.into(), ..Default::default() }).await.expect("first call");
    let empty_start = started.elapsed();
    // Idle: after the first call has been answered, with nothing in flight.
    let (empty_rss, empty_peak) = (server.rss_mib(), server.peak_rss_mib());

    // Subnets of /16 hold 65,532 instances each.
    let mut ops = OperationServiceClient::new(ch.clone());
    let network = NetworkServiceClient::new(ch.clone())
        .create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: "scale".into(), ..Default::default() })
        .await
        .expect("network")
        .into_inner();
    let network_id = response_id(&wait(&mut ops, network).await.expect("network"));
    let mut subnets = Vec::new();
    for k in 0..n.div_ceil(60_000) {
        let req = vpb::CreateSubnetRequest {
            folder_id: FOLDER.into(),
            network_id: network_id.clone(),
            zone_id: ZONE.into(),
            v4_cidr_blocks: vec![format!("10.{k}.0.0/16")],
            ..Default::default()
        };
        let op = SubnetServiceClient::new(ch.clone()).create(req).await.expect("subnet").into_inner();
        subnets.push(response_id(&wait(&mut ops, op).await.expect("subnet")));
    }
    let subnets = Arc::new(subnets);
    let creating = Instant::now();
    let workers: Vec<_> = (0..32)
        .map(|w| {
            let (mut instances, subnets) = (instances.clone(), subnets.clone());
            tokio::spawn(async move {
                for i in (w..n).step_by(32) {
                    instances.create(instance_request(i, &subnets[i / 60_000])).await.expect("create");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("creator");
    }
    let create_rate = n as f64 / creating.elapsed().as_secs_f64();
    let loaded_rss = server.peak_rss_mib();

    let list = |filter: &'static str| {
        let instances = instances.clone();
        move || {
            let mut instances = instances.clone();
            async move {
                let req =
                    cpb::ListInstancesRequest { folder_id: FOLDER.into(), page_size: 100, filter: filter.into(), ..Default::default() };
                instances.list(req).await?;
                Ok(())
            }
        }
    };
    let selective = sample(200, list("name=\"bench-4242\"")).await;
    let broad = sample(50, list("status=\"RUNNING\"")).await;
    let unfiltered = sample(50, list("")).await;
    drop(server);

    println!("\nstore: {store}, {n} instances (created at {create_rate:.0}/s by 32 clients)\n");
    println!("| figure | value |");
    println!("|---|---|");
    println!("| start-up to first served call, empty store | {:.0} ms |", empty_start.as_secs_f64() * 1000.0);
    println!("| RSS idle after start and a first call, empty (peak during start-up) | {empty_rss:.1} MiB ({empty_peak:.1}) |");
    println!("| peak RSS with {n} instances | {loaded_rss:.1} MiB |");
    for (name, ms) in
        [("filter `name=\"bench-4242\"`", &selective), ("filter `status=\"RUNNING\"` (matches all)", &broad), ("no filter", &unfiltered)]
    {
        println!("| List, page of 100, {name}: p50 / p99 | {:.2} / {:.2} ms |", pct(ms, 0.5), pct(ms, 0.99));
    }
    if store.starts_with("sqlite") {
        let started = Instant::now();
        let server = Process::start(netplane_command(&store), "netplane listening on ");
        let mut instances = InstanceServiceClient::new(channel(&server.addr).await);
        instances
            .list(cpb::ListInstancesRequest { folder_id: FOLDER.into(), page_size: 1, ..Default::default() })
            .await
            .expect("first call");
        println!("| start-up to first served call, {n} instances | {:.0} ms |", started.elapsed().as_secs_f64() * 1000.0);
        println!("| RSS idle after that start and a first call (peak) | {:.1} MiB ({:.1}) |", server.rss_mib(), server.peak_rss_mib());
    }
}

/// Empty unary calls (`grpc.health.v1.Health/Check`) to `server` over `channel`.
async fn health_checks(label: &str, server: &Process, channel: &Channel, concurrency: usize, seconds: u64) -> Figures {
    let health = HealthClient::new(channel.clone());
    drive(label, server, concurrency, seconds, move |_, lat| {
        let mut health = health.clone();
        async move {
            timed(&lat, health.check(HealthCheckRequest { service: String::new() })).await?;
            Ok(1)
        }
    })
    .await
}

/// A row done, said on stderr as it ends (the table comes once the bare server is measured again):
/// a profiler started after the bare server's first line sees only netplane's rows.
fn measured(row: &Figures) {
    eprintln!("measured: {} at {} in flight, {:.0} calls/s", row.label, row.concurrency, row.rate());
}

/// The size of a file in MiB (0 when it is not there).
fn file_mib(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / (1024.0 * 1024.0))
}

/// `--soak MINUTES`: the mixed gRPC workload at full load, one row a minute, so that growth shows:
/// calls/s and p99 of the minute, the server's resident set now, and on SQLite the database file,
/// its WAL and the resident store's log file. Operations pile up at full load; `--retention`
/// shortens how long done ones are kept.
async fn soak(o: Options, minutes: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("soak.db");
    let store = store_spec(&o.store, &db);
    let mut command = netplane_command(&store);
    command.args(["--journal-size", "1000"]);
    if let Some(retention) = &o.retention {
        command.args(["--operation-retention", retention]);
    }
    let server = Process::start(command, "netplane listening on ");
    let concurrency = o.concurrency.iter().copied().max().unwrap_or(16);
    let ch = channel(&server.addr).await;
    let fixture = Arc::new(prepare(ch.clone(), concurrency).await.expect("prepare"));
    let clients = Clients { instances: InstanceServiceClient::new(ch.clone()), operations: OperationServiceClient::new(ch.clone()) };
    let retention = o.retention.as_deref().unwrap_or("7days (the default)");
    println!("\nsoak: store {}, mixed gRPC, {concurrency} in flight, {minutes} min, operation retention {retention}\n", o.store);
    println!("| minute | calls/s | p99 ms | RSS MiB | RSS vs minute 1 | store file MiB | WAL MiB | log file and its WAL MiB |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut first = None;
    for minute in 1..=minutes {
        let (cl, fx) = (clients.clone(), fixture.clone());
        let figures = drive("soak", &server, concurrency, 60, move |w, lat| {
            let (mut cl, fx) = (cl.clone(), fx.clone());
            async move { cycle(&mut cl, &fx.instances[w], &fx, &lat).await }
        })
        .await;
        let rss = server.rss_mib();
        let base = *first.get_or_insert(rss);
        let wal = dir.path().join("soak.db-wal");
        // The resident store's log file (`store::log_file`), absent on the other stores.
        let log = file_mib(&dir.path().join("soak.db-changes")) + file_mib(&dir.path().join("soak.db-changes-wal"));
        println!(
            "| {minute} | {:.0} | {:.2} | {rss:.1} | {:+.0}% | {:.1} | {:.1} | {log:.1} |",
            figures.rate(),
            figures.percentile(0.99),
            100.0 * (rss - base) / base,
            file_mib(&db),
            file_mib(&wal)
        );
    }
}

async fn run(o: Options) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_spec(&o.store, &dir.path().join("bench.db"));
    let netplane = env!("CARGO_BIN_EXE_netplane");
    let command = if o.instructions {
        // Counting stays off until the first row: start-up and the fixtures are not measured.
        let mut valgrind = pinned(std::path::Path::new("valgrind"), "0");
        let out = dir.path().join("callgrind.out");
        valgrind.args(["--tool=callgrind", "--instr-atstart=no", &format!("--callgrind-out-file={}", out.display()), netplane]);
        valgrind
    } else {
        pinned(std::path::Path::new(netplane), "0")
    };
    let mut server = Process::start(serving(command, &store), "netplane listening on ");
    server.callgrind = o.instructions;
    let max = o.concurrency.iter().copied().max().unwrap_or(1);
    let ch = channel(&server.addr).await;
    let fixture = Arc::new(prepare(ch.clone(), max).await.expect("prepare"));
    let clients = Clients { instances: InstanceServiceClient::new(ch.clone()), operations: OperationServiceClient::new(ch.clone()) };

    let mut bare_command = pinned(&std::env::current_exe().expect("exe"), "0");
    bare_command.arg("--bare-server");
    let bare = Process::start(bare_command, "bare listening on ");
    let bare_channel = channel(&bare.addr).await;
    // The ceiling is measured before netplane's rows and again after them: on a shared machine
    // the core's speed drifts within a run, and each row is set against the mean of the two.
    let bare_rows = |label: &'static str| {
        let (bare, bare_channel, concurrency, seconds) = (&bare, &bare_channel, o.concurrency.clone(), o.seconds);
        async move {
            let mut rows = Vec::new();
            for c in concurrency {
                let row = health_checks(label, bare, bare_channel, c, seconds).await;
                measured(&row);
                rows.push(row);
            }
            rows
        }
    };
    let ceilings_before = bare_rows("bare tonic (health Check)").await;
    let mut rows = Vec::new();
    for &c in &o.concurrency {
        // The same empty call as the ceiling, through netplane's own server and layers: what any
        // call costs here before it reaches a use case.
        if o.runs("floor") {
            let floor = health_checks("netplane health Check (its floor)", &server, &ch, c, o.seconds).await;
            measured(&floor);
            rows.push(floor);
        }
        if o.runs("mixed") {
            let (cl, fx) = (clients.clone(), fixture.clone());
            let mixed = drive("mixed gRPC", &server, c, o.seconds, move |w, lat| {
                let (mut cl, fx) = (cl.clone(), fx.clone());
                async move { cycle(&mut cl, &fx.instances[w], &fx, &lat).await }
            })
            .await;
            measured(&mixed);
            rows.push(mixed);
        }
        // Mixed REST right after mixed gRPC, on the store as that row left it. After the create
        // row it ran on a store just grown by tens of thousands of networks and their operations
        // (pruned meanwhile), so its share of mixed gRPC measured that state as much as the
        // gateway.
        if o.runs("rest") {
            let (http, base, fx) = (reqwest::Client::new(), format!("http://{}", server.addr), fixture.clone());
            let rest = drive("mixed REST", &server, c, o.seconds, move |w, lat| {
                let (http, base, fx) = (http.clone(), base.clone(), fx.clone());
                async move { rest_cycle(&http, &base, &fx.instances[w], &fx, &lat).await }
            })
            .await;
            measured(&rest);
            rows.push(rest);
        }
        if o.runs("read") {
            let (reads, fx) = (LightReads(tonic::client::Grpc::new(ch.clone())), fixture.clone());
            let read = drive("read gRPC (Get, List)", &server, c, o.seconds, move |w, lat| {
                let (mut reads, fx) = (reads.clone(), fx.clone());
                async move {
                    let get = cpb::GetInstanceRequest { instance_id: fx.instances[w].clone(), ..Default::default() };
                    timed(&lat, reads.get(get)).await?;
                    let list = cpb::ListInstancesRequest { folder_id: FOLDER.into(), page_size: 10, ..Default::default() };
                    timed(&lat, reads.list(list)).await?;
                    Ok(2)
                }
            })
            .await;
            measured(&read);
            rows.push(read);
        }
        if o.runs("create") {
            // A durable create: each call makes a new network (and its default security group),
            // answered with the done operation.
            let (networks, made) = (NetworkServiceClient::new(ch.clone()), Arc::new(std::sync::atomic::AtomicU64::new(0)));
            let create = drive("durable create (NetworkService.Create)", &server, c, o.seconds, move |_, lat| {
                let (mut networks, made) = (networks.clone(), made.clone());
                async move {
                    let n = made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let request =
                        vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: format!("made-{c}-{n}"), ..Default::default() };
                    let op = timed(&lat, networks.create(request)).await?.into_inner();
                    if !op.done {
                        return Err("a create not done inline".into());
                    }
                    Ok(1)
                }
            })
            .await;
            measured(&create);
            rows.push(create);
        }
    }
    let ceilings_after = bare_rows("bare tonic, again after netplane's rows").await;
    drop(bare);

    println!("\nstore: {}, operations: inline, {} s per row, server and generator pinned to separate cores\n", o.store, o.seconds);
    println!(
        "| workload | in flight | calls/s | p50 ms | p99 ms | p99.9 ms | server CPU µs/call | of it system µs | peak RSS MiB | of bare | jobs per log commit |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for figures in &ceilings_before {
        figures.print(None);
    }
    for figures in &rows {
        let at = |ceilings: &[Figures]| ceilings.iter().find(|f| f.concurrency == figures.concurrency).map(Figures::rate);
        let ceiling = at(&ceilings_before).zip(at(&ceilings_after)).map(|(before, after)| (before + after) / 2.0);
        figures.print(ceiling);
    }
    for figures in &ceilings_after {
        figures.print(None);
    }
    if o.instructions {
        println!("\nnetplane under callgrind: instructions it executed per call, over each row\n");
        println!("| workload | in flight | calls | instructions per call |");
        println!("|---|---|---|---|");
        for figures in rows.iter().filter(|f| f.instructions_per_call.is_some()) {
            let per_call = figures.instructions_per_call.unwrap_or_default();
            println!("| {} | {} | {} | {:.0} |", figures.label, figures.concurrency, figures.calls, per_call);
        }
    }
}
