//! Behind a mesh: on SIGTERM, health turns NOT_SERVING at once (gRPC `Health.Watch` and `Check`),
//! calls are still served for `--drain-delay`, and then the process drains and exits 0.

use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::fixtures::FOLDER;
use crate::harness::{Server, data_dir};

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
