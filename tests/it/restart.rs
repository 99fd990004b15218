//! Durability: state and pending operations survive a restart, graceful or a crash (SIGKILL).

use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::vpc::v1 as vpb;

use crate::fixtures::*;
use crate::harness::{Server, data_dir, sqlite_store};

#[tokio::test]
async fn state_and_pending_operations_survive_restarts() {
    let dir = data_dir();
    let store = sqlite_store(&dir);

    let first = Server::start_with(dir.clone(), &store, "inline");
    let c = first.clients().await;
    let net = network(&c, "durable").await;
    let sub = subnet(&c, &net.id, "10.5.0.0/24").await;
    let vm = instance(&c, create_instance("keeper", vec![nic_with(&sub.id, "10.5.0.10", true)])).await;
    assert_eq!(first.stop().await.code(), Some(0), "graceful shutdown exits 0");

    // polls=1000 keeps the stop pending; then the process is killed. This one syncs every commit.
    let second = Server::start_with_args(dir.clone(), &store, "polls=1000", &["--sqlite-synchronous", "full"]);
    let c = second.clients().await;
    let pending_stop = c.instances.clone().stop(cpb::StopInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    assert!(!pending_stop.done);
    second.crash().await;

    // The next process finishes the acknowledged stop under its own progression, the file served
    // straight from SQLite (as releases before the resident store); the one after reads back
    // what it wrote.
    let third = Server::start_with(dir.clone(), &store.replacen("sqlite:", "sqlite-direct:", 1), "delay=10ms");
    let c = third.clients().await;
    assert_eq!(c.networks.clone().get(vpb::GetNetworkRequest { network_id: net.id.clone() }).await.unwrap().into_inner(), net);
    assert_eq!(c.subnets.clone().get(vpb::GetSubnetRequest { subnet_id: sub.id.clone() }).await.unwrap().into_inner(), sub);
    let _: () = response(&c.wait(&pending_stop).await, "google.protobuf.Empty");
    let stopped =
        c.instances.clone().get(cpb::GetInstanceRequest { instance_id: vm.id.clone(), ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(stopped.status, cpb::instance::Status::Stopped as i32);
    assert_eq!(used_addresses(&c, &sub.id).await, ["10.5.0.10"]);

    // A start accepted just before a graceful stop is finished, by this process or the next.
    let start = c.instances.clone().start(cpb::StartInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    assert_eq!(third.stop().await.code(), Some(0));
    let fourth = Server::start_with(dir.clone(), &store, "inline");
    let c = fourth.clients().await;
    let started: cpb::Instance = response(&c.wait(&start).await, "yandex.cloud.compute.v1.Instance");
    assert_eq!(started.status, cpb::instance::Status::Running as i32);
    let err = c.instances.clone().create(create_instance("other", vec![nic_with(&sub.id, "10.5.0.10", false)])).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::AlreadyExists, "the address is still held");
}
