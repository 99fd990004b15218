//! Behind a mesh: on SIGTERM, health turns NOT_SERVING at once (gRPC `Health.Watch` and `Check`),
//! calls are still served for `--drain-delay`, and then the process drains and exits 0. Behind
//! nginx, replicas drained and restarted in turn under load lose no call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::fixtures::FOLDER;
use crate::harness::{Server, data_dir, nginx, postgres_database};

#[tokio::test]
async fn sigterm_turns_health_not_serving_and_keeps_serving_for_the_drain_delay() {
    let server = Server::start_with_args(data_dir(), "memory", "inline", &["--drain-delay", "2s", "--shutdown-grace", "5s"]);
    let mut health = HealthClient::new(server.channel().await);
    let service = "yandex.cloud.compute.v1.InstanceService";
    let mut watch = health.watch(HealthCheckRequest { service: service.into() }).await.expect("watch").into_inner();
    let status = |m: Option<HealthCheckResponse>| m.map(|m| m.status);
    assert_eq!(status(watch.message().await.expect("first status")), Some(ServingStatus::Serving as i32));

    server.terminate();
    assert_eq!(status(watch.message().await.expect("next status")), Some(ServingStatus::NotServing as i32));
    let overall = health.check(HealthCheckRequest { service: String::new() }).await.expect("check").into_inner();
    assert_eq!(overall.status, ServingStatus::NotServing as i32);

    // Still serving, on a new connection too: calls already routed here are answered.
    let c = server.clients().await;
    let request = vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: "late".into(), ..Default::default() };
    assert!(c.networks.clone().create(request).await.expect("served during the drain delay").into_inner().done);
    assert!(server.logged("still serving for the drain delay"));
    drop((watch, health, c));
    assert!(server.stop().await.success(), "after the delay it drains and exits 0");
}

/// Two replicas on one PostgreSQL database behind nginx (`grpc_pass`, keep-alive upstream
/// connections, retrying only connections that fail). Four clients create networks with
/// idempotency keys through nginx while each replica in turn is sent SIGTERM, drains, exits and is
/// started again on its address: not one call fails, and every acknowledged network exists once.
#[tokio::test]
async fn replicas_drained_in_turn_behind_nginx_lose_no_call() {
    const ROUNDS: usize = 6;
    const CLIENTS: usize = 4;
    let url = postgres_database("drain_behind_nginx");
    let start = |address: &str| Server::start_with_args(data_dir(), &url, "inline", &["--listen", address, "--shutdown-grace", "10s"]);
    // Ports the kernel chose, kept for the restarts: a port picked free beforehand can be taken by
    // another test's listener before the replica binds it.
    let mut replicas = [Some(start("127.0.0.1:0")), Some(start("127.0.0.1:0"))];
    let addresses = replicas.each_ref().map(|r| r.as_ref().expect("started").addr.clone());
    // Every replica's log, the drained ones' too: a failed call's cause is in the warnings of the
    // replica that answered it.
    let mut logs: Vec<_> = replicas.iter().flatten().map(Server::log).collect();
    let proxy = nginx(&addresses);

    let channel = tonic::transport::Channel::from_shared(format!("http://{}", proxy.addr)).unwrap().connect().await.expect("nginx");
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
            let mut networks = vpb::network_service_client::NetworkServiceClient::new(channel.clone());
            tokio::spawn(async move {
                let mut failures = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let name = format!("c{client}-{n}");
                    let mut request = tonic::Request::new(vpb::CreateNetworkRequest {
                        folder_id: FOLDER.into(),
                        name: name.clone(),
                        ..Default::default()
                    });
                    request.metadata_mut().insert("idempotency-key", format!("key-{name}").parse().unwrap());
                    match networks.create(request).await {
                        Ok(_) => {
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => failures.push(format!("{name}: {e:?}")),
                    }
                    n += 1;
                }
                failures
            })
        })
        .collect();

    // Until `more` further calls are acknowledged (10 s at most).
    let progress = |more: usize| {
        let acknowledged = acknowledged.clone();
        async move {
            let target = acknowledged.load(Ordering::Relaxed) + more;
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
            while acknowledged.load(Ordering::Relaxed) < target {
                assert!(tokio::time::Instant::now() < deadline, "the load stalled");
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    };
    progress(200).await;
    for round in 0..ROUNDS {
        let i = round % 2;
        let draining = replicas[i].take().expect("running");
        let (exited, ()) = tokio::join!(draining.stop(), progress(100));
        assert!(exited.success(), "replica {i} drained and exited 0");
        let restarted = start(&addresses[i]);
        logs.push(restarted.log());
        replicas[i] = Some(restarted);
        progress(200).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for client in clients {
        failures.extend(client.await.expect("client"));
    }
    let warnings = || -> Vec<String> {
        let lines = logs.iter().flat_map(|log| log.lock().unwrap().clone());
        lines.filter(|line| line.contains(" WARN ") || line.contains(" ERROR ")).collect()
    };
    assert!(
        failures.is_empty(),
        "{} of {} calls failed through nginx:\n{}\nnginx's error log:\n{}\nthe replicas' warnings and errors:\n{}",
        failures.len(),
        acknowledged.load(Ordering::Relaxed) + failures.len(),
        failures.join("\n"),
        proxy.error_log(),
        warnings().join("\n")
    );

    // Every acknowledged create is there, once.
    let mut networks = vpb::network_service_client::NetworkServiceClient::new(channel);
    let (mut seen, mut token) = (0, String::new());
    loop {
        let page = networks
            .list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), page_size: 1000, page_token: token, ..Default::default() })
            .await
            .expect("list")
            .into_inner();
        seen += page.networks.len();
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, acknowledged.load(Ordering::Relaxed));
}
