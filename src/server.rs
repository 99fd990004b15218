//! Assembles and runs the server: one listening address serving the APIs over gRPC, gRPC-Web and
//! REST/JSON (or REST on an address of its own), server reflection (v1 and v1alpha, for old
//! grpcurl), gRPC health, per-call request ids, and a graceful shutdown that lets in-flight calls
//! finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tonic_reflection::pb::v1::server_reflection_server::ServerReflectionServer as ReflectionV1;
use tonic_reflection::pb::v1alpha::server_reflection_server::ServerReflectionServer as ReflectionV1Alpha;
use tonic_web::GrpcWebLayer;
use tower::ServiceBuilder;

use crate::api::admin::{AdminRest, AdminState};
use crate::api::body::BodyReader;
use crate::api::calls::{CallLayer, Journal};
use crate::api::front::Mode;
use crate::api::grpc::{
    AddressApi, CompleteStatusLayer, DiskApi, DiskTypeApi, EndpointApi, GatewayApi, GrpcServices, IamApi, ImageApi, InstanceApi, Lazy,
    NetworkApi, OperationApi, Reflection, RouteTableApi, SecurityGroupApi, SubnetApi, ZoneApi,
};
use crate::api::guard::{Guard, GuardLayer};
use crate::api::huawei::{HuaweiAuth, HuaweiRest};
use crate::api::request_id::RequestIdLayer;
use crate::api::rest::{Gateway, RestLayer};
use crate::config::{ServeArgs, Switch, TlsMode};
use crate::domain::clock::SystemClock;
use crate::domain::principals::Principals;
use crate::error::{Error, Result};
use crate::listener::{self, Limits};
use crate::proto::yandex::cloud::compute::v1::disk_service_server::DiskServiceServer;
use crate::proto::yandex::cloud::compute::v1::disk_type_service_server::DiskTypeServiceServer;
use crate::proto::yandex::cloud::compute::v1::image_service_server::ImageServiceServer;
use crate::proto::yandex::cloud::compute::v1::instance_service_server::InstanceServiceServer;
use crate::proto::yandex::cloud::compute::v1::zone_service_server::ZoneServiceServer;
use crate::proto::yandex::cloud::endpoint::api_endpoint_service_server::ApiEndpointServiceServer;
use crate::proto::yandex::cloud::iam::v1::iam_token_service_server::IamTokenServiceServer;
use crate::proto::yandex::cloud::operation::operation_service_server::OperationServiceServer;
use crate::proto::yandex::cloud::vpc::v1::address_service_server::AddressServiceServer;
use crate::proto::yandex::cloud::vpc::v1::gateway_service_server::GatewayServiceServer;
use crate::proto::yandex::cloud::vpc::v1::network_service_server::NetworkServiceServer;
use crate::proto::yandex::cloud::vpc::v1::route_table_service_server::RouteTableServiceServer;
use crate::proto::yandex::cloud::vpc::v1::security_group_service_server::SecurityGroupServiceServer;
use crate::proto::yandex::cloud::vpc::v1::subnet_service_server::SubnetServiceServer;
use crate::service::iam::Iam;
use crate::service::retention::Retention;
use crate::service::{Services, Settings};
use crate::store::Store;
use crate::tls;

/// The gRPC services netplane serves, by full name (health reports each).
pub const SERVICES: &[&str] = &[
    "yandex.cloud.compute.v1.InstanceService",
    "yandex.cloud.compute.v1.DiskService",
    "yandex.cloud.compute.v1.ImageService",
    "yandex.cloud.compute.v1.ZoneService",
    "yandex.cloud.compute.v1.DiskTypeService",
    "yandex.cloud.operation.OperationService",
    "yandex.cloud.vpc.v1.NetworkService",
    "yandex.cloud.vpc.v1.SubnetService",
    "yandex.cloud.vpc.v1.AddressService",
    "yandex.cloud.vpc.v1.SecurityGroupService",
    "yandex.cloud.vpc.v1.RouteTableService",
    "yandex.cloud.vpc.v1.GatewayService",
    "yandex.cloud.endpoint.ApiEndpointService",
    "yandex.cloud.iam.v1.IamTokenService",
];

fn startup(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("{what}: {e}"))
}

/// Serves until `shutdown` resolves.
pub async fn serve(args: ServeArgs, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
    let started = std::time::Instant::now();
    // Opening may block on the network (PostgreSQL), so not on the runtime's threads.
    let (spec, synchronous) = (args.store.clone(), args.sqlite_synchronous);
    let store = tokio::task::spawn_blocking(move || Store::open_with(&spec, synchronous)).await.map_err(|e| startup("store", e))??;
    let services = Services::new(store.clone(), Settings { progression: args.operations, public_pool: args.public_pool });
    // Networks from releases before default security groups get theirs.
    let upgraded = services.vpc.add_missing_default_security_groups().await?;
    if upgraded > 0 {
        tracing::info!(networks = upgraded, "gave networks made by an earlier release their default security groups");
    }

    let (stop_runner, runner_stopped) = watch::channel(false);
    let runner = tokio::spawn(services.runner().run(runner_stopped.clone()));
    let cap = store.keeps_state_in_memory().then_some(args.operation_cap);
    let retention = Retention { age: args.operation_retention, cap };
    tokio::spawn(services.core.clone().prune_in_background(retention, runner_stopped));

    // Reflection is built on its first call: an idle server need not hold its indexes.
    let reflection_v1 = Lazy::new(|| Reflection::served().map(ReflectionV1::new));
    let reflection_v1alpha = Lazy::new(|| Reflection::served().map(ReflectionV1Alpha::new));
    let (health, health_service) = tonic_health::server::health_reporter();
    for name in SERVICES {
        health.set_service_status(*name, tonic_health::ServingStatus::Serving).await;
    }

    match services.core.load_faults().await? {
        0 => {}
        n => tracing::info!(rules = n, "fault rules loaded from the store"),
    }
    if let Some(path) = &args.seed {
        let snapshot = crate::state_cli::read_snapshot(path)?;
        match services.admin.seed(snapshot).await? {
            Some(counts) => tracing::info!(seed = %path.display(), ?counts, "the store was empty: loaded the seed"),
            None => tracing::info!(seed = %path.display(), "the store holds state already: the seed is not loaded"),
        }
    }

    let principals = principals(&args)?;
    let bodies = BodyReader::new(args.max_body_memory.as_u64().try_into().unwrap_or(usize::MAX), args.request_body_timeout);
    let huawei = HuaweiRest::new(services.huawei.clone(), HuaweiAuth::new(principals.clone(), Arc::new(SystemClock)), bodies.clone());
    let iam = Iam::new(principals.clone(), store.clone(), Arc::new(SystemClock), args.iam_token_lifetime);
    let (stopping, stopping_seen) = watch::channel(false);
    let journal = Arc::new(Journal::new(args.journal_size));
    let admin = (args.admin == Switch::On).then(|| {
        AdminRest::new(AdminState {
            admin: services.admin.clone(),
            iam: iam.clone(),
            principals: principals.clone(),
            started,
            stopping: stopping_seen,
            store: store.describe(),
            known_method: Arc::new(known_method),
            journal: journal.clone(),
        })
    });
    let tls = server_tls(&args)?;

    let listener = bind(args.listen).await?;
    let address = local_address(&listener)?;
    let rest_listener = match args.rest_listen {
        Some(rest) => Some(bind(rest).await?),
        None => None,
    };
    let tls_listener = match &tls {
        Some(_) => Some(bind(args.tls_listen).await?),
        None => None,
    };
    let advertised = match (&args.advertise, &tls_listener) {
        (Some(given), _) => given.clone(),
        (None, Some(l)) => dialable(local_address(l)?),
        (None, None) => dialable(address),
    };

    let gateway = Arc::new(Gateway::new(SERVICES, bodies.clone()));
    let guard = Guard::new(SERVICES, iam.clone(), services.core.clone(), bodies).map_err(|e| startup("guard", e))?;
    let routes = GrpcServices::default()
        .with(InstanceServiceServer::new(InstanceApi::new(services.compute.clone())))
        .with(DiskServiceServer::new(DiskApi::new(services.disks.clone())))
        .with(ImageServiceServer::new(ImageApi::new(services.images.clone())))
        .with(ZoneServiceServer::new(ZoneApi))
        .with(DiskTypeServiceServer::new(DiskTypeApi))
        .with(OperationServiceServer::new(OperationApi::new(services.operations.clone())))
        .with(NetworkServiceServer::new(NetworkApi::new(services.vpc.clone(), services.security_groups.clone(), services.routing.clone())))
        .with(RouteTableServiceServer::new(RouteTableApi::new(services.routing.clone())))
        .with(GatewayServiceServer::new(GatewayApi::new(services.routing.clone())))
        .with(SubnetServiceServer::new(SubnetApi::new(services.vpc.clone())))
        .with(AddressServiceServer::new(AddressApi::new(services.addresses.clone())))
        .with(SecurityGroupServiceServer::new(SecurityGroupApi::new(services.security_groups.clone())))
        .with(ApiEndpointServiceServer::new(EndpointApi::new(advertised.clone())))
        .with(IamTokenServiceServer::new(IamApi::new(iam.clone())))
        .with(health_service)
        .with(reflection_v1)
        .with(reflection_v1alpha);
    let guard = GuardLayer::new(guard);

    tracing::info!(
        %address,
        store = %store.describe(),
        operations = ?args.operations,
        %advertised,
        development_mode = iam.development_mode(),
        startup_ms = started.elapsed().as_millis() as u64,
        "netplane listening on {address}"
    );

    // The drain is bounded: a client (or mesh) that keeps an idle connection open past the grace
    // period must not keep the process alive.
    let (draining, drain_started) = watch::channel(false);
    let drain_delay = args.drain_delay;
    tokio::spawn(async move {
        shutdown.await;
        let _ = stopping.send(true);
        // Health turns NOT_SERVING first, so that health-checking proxies stop sending new calls
        // here, while the listeners stay open for `drain_delay` for those already on their way.
        for name in std::iter::once("").chain(SERVICES.iter().copied()) {
            health.set_service_status(name, tonic_health::ServingStatus::NotServing).await;
        }
        if !drain_delay.is_zero() {
            tracing::info!(?drain_delay, "shutting down: health reports NOT_SERVING; still serving for the drain delay");
            tokio::time::sleep(drain_delay).await;
        }
        tracing::info!("shutting down: finishing in-flight calls");
        let _ = draining.send(true);
    });
    let main_mode = if rest_listener.is_some() { Mode::GrpcOnly } else { Mode::Shared };
    let limits = Arc::new(Limits::from_args(&args));
    let serving = Serving { limits: limits.clone(), slots: listener::connection_slots(&limits), drain: drain_started.clone() };
    let stack = |mode| Stack {
        routes: routes.clone(),
        calls: CallLayer::new(journal.clone(), mode),
        rest: RestLayer::new(gateway.clone(), huawei.clone(), admin.clone(), mode),
        guard: guard.clone(),
    };
    let main = serving.listen(listener, None, stack(main_mode));
    let rest = optional(rest_listener.map(|l| serving.listen(l, None, stack(Mode::RestOnly))));
    let secure = optional(tls_listener.zip(tls).map(|(l, tls)| {
        if let Some(ca) = &tls.ca_path {
            tracing::info!(ca = %ca.display(), "clients verify the TLS listener with this CA");
        }
        serving.listen(l, Some(tls.acceptor), stack(main_mode))
    }));
    let grace = args.shutdown_grace;
    let mut drain = drain_started;
    let deadline = async move {
        let _ = drain.wait_for(|started| *started).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        _ = async { tokio::join!(main, rest, secure) } => {}
        _ = deadline => {
            tracing::warn!(grace = ?grace, "connections still open after the shutdown grace period; stopping anyway");
        }
    };

    let _ = stop_runner.send(true);
    let _ = runner.await;
    tracing::info!("netplane stopped");
    Ok(())
}

/// Whether `method` is a served gRPC method (`package.Service/Method`) or a Huawei API name, and
/// whether it starts an operation: what fault rules may name.
fn known_method(method: &str) -> Option<bool> {
    let served =
        |path: &str| SERVICES.iter().any(|s| path.strip_prefix('/').and_then(|p| p.strip_prefix(s)).is_some_and(|m| m.starts_with('/')));
    if let Some(info) = crate::proto::METHODS.iter().find(|m| m.path.strip_prefix('/') == Some(method) && served(m.path)) {
        return Some(info.starts_operation);
    }
    crate::api::huawei::names::all_names().iter().any(|n| n == method).then_some(false)
}

/// The principals file, or `None` for development mode (which the log announces).
fn principals(args: &ServeArgs) -> Result<Option<Principals>> {
    let Some(path) = &args.principals else {
        tracing::warn!(
            "no --principals: development mode, every call (Yandex and Huawei APIs) is accepted as one subject allowed every folder and project"
        );
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|e| startup(&format!("cannot read {}", path.display()), e))?;
    Principals::parse(&text).map(Some).map_err(|e| startup(&path.display().to_string(), e))
}

/// The TLS identity: given files, or the automatic local CA; `None` without TLS.
fn server_tls(args: &ServeArgs) -> Result<Option<tls::ServerTls>> {
    match (&args.tls_cert, &args.tls_key, args.tls) {
        (Some(cert), Some(key), _) => tls::from_files(cert, key).map(Some),
        (_, _, TlsMode::Auto) => tls::automatic(&args.tls_dir()).map(Some),
        _ => Ok(None),
    }
}

async fn bind(address: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(address).await.map_err(|e| startup(&format!("cannot listen on {address}"), e))
}

fn local_address(listener: &TcpListener) -> Result<SocketAddr> {
    listener.local_addr().map_err(|e| startup("listener address", e))
}

/// What every listener serves: the services behind the guard, gRPC-Web and REST layers.
struct Stack {
    routes: GrpcServices,
    calls: CallLayer,
    rest: RestLayer,
    guard: GuardLayer,
}

impl Stack {
    /// The layers in the order a request meets them: request ids, the call's record (metrics and
    /// journal), REST (which calls back into gRPC in process), gRPC-Web, the guard, the completion
    /// of tonic's own errors, the services.
    fn service(self) -> listener::Stack {
        let layered = ServiceBuilder::new()
            .layer(RequestIdLayer)
            .layer(self.calls)
            .layer(self.rest)
            .layer(GrpcWebLayer::new())
            .layer(self.guard)
            .layer(CompleteStatusLayer)
            .service(self.routes);
        listener::Stack::new(layered)
    }
}

/// What the listeners share: the limits, the connection slots and the drain signal.
struct Serving {
    limits: Arc<Limits>,
    slots: Arc<Semaphore>,
    drain: watch::Receiver<bool>,
}

impl Serving {
    /// Serves `stack` on `listener` (with TLS when configured) until the drain has ended every
    /// connection. HTTP/1.1 is accepted beside HTTP/2 for REST and gRPC-Web; the REST layer decides
    /// by content type (or its mode) which protocol a request speaks.
    async fn listen(&self, listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>, stack: Stack) {
        if let Ok(address) = listener.local_addr() {
            if tls.is_some() {
                tracing::info!(%address, "netplane TLS listening on {address}");
            }
            if stack.rest.mode() == Mode::RestOnly {
                tracing::info!(%address, "netplane REST listening on {address}");
            }
        }
        listener::serve(listener, tls, stack.service(), self.limits.clone(), self.slots.clone(), self.drain.clone()).await
    }
}

/// The address clients should dial for a listener: `localhost` for an unspecified IP.
fn dialable(address: SocketAddr) -> String {
    if address.ip().is_unspecified() { format!("localhost:{}", address.port()) } else { address.to_string() }
}

/// Serves a listener that may not be configured.
async fn optional(serving: Option<impl Future<Output = ()>>) {
    if let Some(serving) = serving {
        serving.await
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
