//! Assembles and runs the server: one listening address serving the APIs over gRPC, gRPC-Web and
//! REST/JSON (or REST on an address of its own), server reflection (v1 and v1alpha, for old
//! grpcurl), gRPC health, per-call request ids, and a graceful shutdown that lets in-flight calls
//! finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_web::GrpcWebLayer;

use crate::api::grpc::{AddressApi, InstanceApi, NetworkApi, OperationApi, SecurityGroupApi, SubnetApi};
use crate::api::request_id::RequestIdLayer;
use crate::api::rest::{Gateway, Mode, RestLayer, descriptor_pool};
use crate::config::ServeArgs;
use crate::error::{Error, Result};
use crate::proto::FILE_DESCRIPTOR_SET;
use crate::proto::yandex::cloud::compute::v1::instance_service_server::InstanceServiceServer;
use crate::proto::yandex::cloud::operation::operation_service_server::OperationServiceServer;
use crate::proto::yandex::cloud::vpc::v1::address_service_server::AddressServiceServer;
use crate::proto::yandex::cloud::vpc::v1::network_service_server::NetworkServiceServer;
use crate::proto::yandex::cloud::vpc::v1::security_group_service_server::SecurityGroupServiceServer;
use crate::proto::yandex::cloud::vpc::v1::subnet_service_server::SubnetServiceServer;
use crate::service::{Services, Settings};
use crate::store::Store;

/// The gRPC services netplane serves, by full name (health reports each).
pub const SERVICES: &[&str] = &[
    "yandex.cloud.compute.v1.InstanceService",
    "yandex.cloud.operation.OperationService",
    "yandex.cloud.vpc.v1.NetworkService",
    "yandex.cloud.vpc.v1.SubnetService",
    "yandex.cloud.vpc.v1.AddressService",
    "yandex.cloud.vpc.v1.SecurityGroupService",
];

fn startup(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("{what}: {e}"))
}

/// Serves until `shutdown` resolves.
pub async fn serve(args: ServeArgs, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
    let started = std::time::Instant::now();
    let store = Store::open(&args.store)?;
    let services = Services::new(store.clone(), Settings { progression: args.operations, public_pool: args.public_pool });

    let (stop_runner, runner_stopped) = watch::channel(false);
    let runner = tokio::spawn(services.runner().run(runner_stopped));

    let reflection_v1 = reflection().build_v1().map_err(|e| startup("reflection", e))?;
    let reflection_v1alpha = reflection().build_v1alpha().map_err(|e| startup("reflection", e))?;
    let (health, health_service) = tonic_health::server::health_reporter();
    for name in SERVICES {
        health.set_service_status(*name, tonic_health::ServingStatus::Serving).await;
    }

    let gateway = Arc::new(Gateway::new(descriptor_pool().clone(), SERVICES).map_err(|e| startup("REST routes", e))?);
    let routes = Routes::new(InstanceServiceServer::new(InstanceApi::new(services.clone())))
        .add_service(OperationServiceServer::new(OperationApi::new(services.clone())))
        .add_service(NetworkServiceServer::new(NetworkApi::new(services.clone())))
        .add_service(SubnetServiceServer::new(SubnetApi::new(services.clone())))
        .add_service(AddressServiceServer::new(AddressApi::new(services.clone())))
        .add_service(SecurityGroupServiceServer::new(SecurityGroupApi::new(services.clone())))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);

    let listener = bind(args.listen).await?;
    let address = local_address(&listener)?;
    let rest_listener = match args.rest_listen {
        Some(rest) => Some(bind(rest).await?),
        None => None,
    };
    tracing::info!(
        %address,
        store = %store.describe(),
        operations = ?args.operations,
        rest_routes = gateway.routes(),
        startup_ms = started.elapsed().as_millis() as u64,
        "netplane listening on {address}"
    );

    // The drain is bounded: a client (or mesh) that keeps an idle connection open past the grace
    // period must not keep the process alive.
    let (draining, drain_started) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight calls");
        let _ = draining.send(true);
    });
    let main_mode = if rest_listener.is_some() { Mode::GrpcOnly } else { Mode::Shared };
    let main = listen(listener, routes.clone(), RestLayer::new(gateway.clone(), main_mode), drain_started.clone());
    let rest_drain = drain_started.clone();
    let rest = async move {
        let Some(listener) = rest_listener else { return Ok(()) };
        let address = local_address(&listener)?;
        tracing::info!(%address, "netplane REST listening on {address}");
        listen(listener, routes, RestLayer::new(gateway, Mode::RestOnly), rest_drain).await
    };
    let grace = args.shutdown_grace;
    let mut drain = drain_started;
    let deadline = async move {
        let _ = drain.wait_for(|started| *started).await;
        tokio::time::sleep(grace).await;
    };
    let result = tokio::select! {
        (main, rest) = async { tokio::join!(main, rest) } => main.and(rest),
        _ = deadline => {
            tracing::warn!(grace = ?grace, "connections still open after the shutdown grace period; stopping anyway");
            Ok(())
        }
    };

    let _ = stop_runner.send(true);
    let _ = runner.await;
    tracing::info!("netplane stopped");
    result
}

async fn bind(address: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(address).await.map_err(|e| startup(&format!("cannot listen on {address}"), e))
}

fn local_address(listener: &TcpListener) -> Result<SocketAddr> {
    listener.local_addr().map_err(|e| startup("listener address", e))
}

/// Serves `routes` on `listener` until the drain starts. HTTP/1.1 is accepted beside HTTP/2 for
/// REST and gRPC-Web; the REST layer decides by content type (or `mode`) which protocol a request
/// speaks.
async fn listen(listener: TcpListener, routes: Routes, rest: RestLayer, mut drain_started: watch::Receiver<bool>) -> Result<()> {
    Server::builder()
        .accept_http1(true)
        .layer(RequestIdLayer)
        .layer(rest)
        .layer(GrpcWebLayer::new())
        .add_routes(routes)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move {
            let _ = drain_started.wait_for(|started| *started).await;
        })
        .await
        .map_err(|e| startup("server", e))
}

/// Reflection over everything served: our one descriptor set, health and reflection itself.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
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
