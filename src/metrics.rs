//! The process's metrics, in the Prometheus text format (`GET /metrics`), kept with
//! `prometheus-client`: calls by protocol, method and code with latency by method; operations
//! started and finished; store transaction latency and retries; jobs per group commit of each
//! SQLite writer; build info; and, read at scrape time, pending operations and resources by kind.
//! One registry per process, as Prometheus clients keep it: recording is a few atomic adds, so the
//! layers that record need no handle.

use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use parking_lot::RwLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    protocol: &'static str,
    method: &'static str,
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransactionLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriterLabels {
    writer: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    call_seconds: Family<MethodLabels, Histogram>,
    /// The series a call records, found in the families once per set of labels (see `call`).
    call_series: RwLock<foldhash::HashMap<LabelAddresses, (Counter, Histogram)>>,
    operations_started: Counter,
    operations_finished: Family<ResultLabels, Counter>,
    operations_ok: OnceLock<Counter>,
    operations_failed: OnceLock<Counter>,
    operations_pending: Gauge,
    transaction_seconds: Family<TransactionLabels, Histogram>,
    write_seconds: OnceLock<Histogram>,
    read_seconds: OnceLock<Histogram>,
    transaction_retries: Counter,
    commit_groups: Family<WriterLabels, Histogram>,
    resources: Family<KindLabels, Gauge>,
}

/// A call's labels by where their text is and how long it is. Every label is a `&'static str`, so
/// the set of these is as bounded as the labels' texts; two addresses of the same text are two
/// keys for the one series the family holds for that text.
type LabelAddresses = [usize; 6];

fn addresses(protocol: &'static str, method: &'static str, code: &'static str) -> LabelAddresses {
    [protocol.as_ptr() as usize, protocol.len(), method.as_ptr() as usize, method.len(), code.as_ptr() as usize, code.len()]
}

/// The series of `family` for `labels`, looked up the first time only: a family hashes its labels
/// with SipHash on every lookup, about 300 instructions for a method's name.
fn series<'a, S, M, C>(slot: &'a OnceLock<M>, family: &Family<S, M, C>, labels: S) -> &'a M
where
    S: Clone + std::hash::Hash + Eq,
    M: Clone,
    C: prometheus_client::metrics::family::MetricConstructor<M>,
{
    slot.get_or_init(|| family.get_or_create(&labels).clone())
}

/// 1 to 64 jobs, doubling (a writer's groups hold at most 64).
fn group_buckets() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 7))
}

/// 50 µs to about 1.6 s, doubling.
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("netplane");
    let calls = Family::<CallLabels, Counter>::default();
    registry.register("calls", "API calls answered, by protocol, method and code (gRPC code, or HTTP status for Huawei)", calls.clone());
    let call_seconds = Family::<MethodLabels, Histogram>::new_with_constructor(latency_buckets as fn() -> Histogram);
    registry.register("call_duration_seconds", "Time from a request's arrival to its last response byte, by method", call_seconds.clone());
    let operations_started = Counter::default();
    registry.register("operations_started", "Operations accepted", operations_started.clone());
    let operations_finished = Family::<ResultLabels, Counter>::default();
    registry.register("operations_finished", "Operations done, by result (ok or error)", operations_finished.clone());
    let operations_pending = Gauge::default();
    registry.register("operations_pending", "Operations not done yet (read at scrape time)", operations_pending.clone());
    let transaction_seconds = Family::<TransactionLabels, Histogram>::new_with_constructor(latency_buckets as fn() -> Histogram);
    registry.register("store_transaction_duration_seconds", "Store transactions, by kind (read or write)", transaction_seconds.clone());
    let transaction_retries = Counter::default();
    registry.register(
        "store_transaction_retries",
        "Store transactions run again after a conflict (PostgreSQL)",
        transaction_retries.clone(),
    );
    let commit_groups = Family::<WriterLabels, Histogram>::new_with_constructor(group_buckets as fn() -> Histogram);
    registry.register(
        "store_commit_group_jobs",
        "Jobs (calls' transactions, log appends and trims, folds) committed together by one SQLite writer, by writer (store or log)",
        commit_groups.clone(),
    );
    let resources = Family::<KindLabels, Gauge>::default();
    registry.register("resources", "Stored resources by kind (read at scrape time)", resources.clone());
    let build = Family::<BuildLabels, Gauge>::default();
    build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION") }).set(1);
    registry.register("build_info", "The running build", build);
    Metrics {
        registry,
        calls,
        call_seconds,
        call_series: RwLock::new(foldhash::HashMap::default()),
        operations_started,
        operations_finished,
        operations_ok: OnceLock::new(),
        operations_failed: OnceLock::new(),
        operations_pending,
        transaction_seconds,
        write_seconds: OnceLock::new(),
        read_seconds: OnceLock::new(),
        transaction_retries,
        commit_groups,
        resources,
    }
});

pub fn metrics() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    /// One answered call. Every label is one of a fixed set, so recording allocates nothing and the
    /// families stay bounded whatever clients send. The call's two series are found by the labels'
    /// addresses: the families' own lookups hashed every label's text with SipHash, twice a call.
    pub fn call(&self, protocol: &'static str, method: &'static str, code: &'static str, took: Duration) {
        let key = addresses(protocol, method, code);
        let record = |(count, seconds): &(Counter, Histogram)| {
            count.inc();
            seconds.observe(took.as_secs_f64());
        };
        if let Some(series) = self.call_series.read().get(&key) {
            return record(series);
        }
        let found = (
            self.calls.get_or_create(&CallLabels { protocol, method, code }).clone(),
            self.call_seconds.get_or_create(&MethodLabels { method }).clone(),
        );
        record(self.call_series.write().entry(key).or_insert(found));
    }

    pub fn operation_started(&self) {
        self.operations_started.inc();
    }

    pub fn operation_finished(&self, ok: bool) {
        let (slot, result) = if ok { (&self.operations_ok, "ok") } else { (&self.operations_failed, "error") };
        series(slot, &self.operations_finished, ResultLabels { result }).inc();
    }

    pub fn transaction(&self, write: bool, took: Duration) {
        let (slot, kind) = if write { (&self.write_seconds, "write") } else { (&self.read_seconds, "read") };
        series(slot, &self.transaction_seconds, TransactionLabels { kind }).observe(took.as_secs_f64());
    }

    pub fn transaction_retried(&self) {
        self.transaction_retries.inc();
    }

    /// One group commit of a SQLite writer (`store` for the store file's, `log` for the
    /// resident store's log file's): how many jobs it committed together, which is what a
    /// commit's cost is shared by.
    pub fn commit_group(&self, writer: &'static str, jobs: usize) {
        self.commit_groups.get_or_create(&WriterLabels { writer }).observe(jobs as f64);
    }

    /// The text exposition, with the gauges read at scrape time set first.
    pub fn render(&self, pending_operations: usize, resources: &[(&'static str, usize)]) -> String {
        self.operations_pending.set(i64::try_from(pending_operations).unwrap_or(i64::MAX));
        for (kind, count) in resources {
            self.resources.get_or_create(&KindLabels { kind }).set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_family() {
        let m = metrics();
        m.call("grpc", "yandex.cloud.vpc.v1.NetworkService/Get", "OK", Duration::from_micros(120));
        m.operation_started();
        m.operation_finished(true);
        m.transaction(true, Duration::from_micros(30));
        m.commit_group("log", 12);
        let text = m.render(3, &[("network", 2)]);
        for needle in [
            "netplane_calls_total{protocol=\"grpc\",method=\"yandex.cloud.vpc.v1.NetworkService/Get\",code=\"OK\"}",
            "netplane_call_duration_seconds_bucket{le=",
            "netplane_operations_started_total",
            "netplane_operations_finished_total{result=\"ok\"}",
            "netplane_operations_pending 3",
            "netplane_store_transaction_duration_seconds_count{kind=\"write\"}",
            "netplane_store_transaction_retries_total",
            "netplane_store_commit_group_jobs_bucket{le=\"16.0\",writer=\"log\"} 1",
            "netplane_resources{kind=\"network\"} 2",
            "netplane_build_info{version=",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }

    #[test]
    fn one_text_at_two_addresses_is_one_series() {
        let m = metrics();
        let copy: &'static str = String::from("yandex.cloud.vpc.v1.SubnetService/Move").leak();
        m.call("grpc", "yandex.cloud.vpc.v1.SubnetService/Move", "NOT_FOUND", Duration::from_micros(10));
        m.call("grpc", copy, "NOT_FOUND", Duration::from_micros(10));
        m.call("grpc", copy, "NOT_FOUND", Duration::from_micros(10));
        // The same gauges as the other test sets: the registry is the process's, and the tests run
        // at once, so a render with other values could land between its setting and its reading.
        let text = m.render(3, &[("network", 2)]);
        let series = "netplane_calls_total{protocol=\"grpc\",method=\"yandex.cloud.vpc.v1.SubnetService/Move\",code=\"NOT_FOUND\"} 3";
        assert!(text.contains(series), "{series} missing from\n{text}");
        assert_eq!(text.matches("method=\"yandex.cloud.vpc.v1.SubnetService/Move\",code=").count(), 1);
    }
}
