//! OperationService: progression modes, cancel with rollback, errors.

use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::operation::{CancelOperationRequest, GetOperationRequest};
use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use tonic::Code;

use crate::fixtures::*;
use crate::harness::Server;

#[tokio::test]
async fn inline_operations_are_done_when_returned() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let op =
        c.networks.clone().create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), ..Default::default() }).await.unwrap().into_inner();
    assert!(op.done);
    let net: vpb::Network = response(&op, "yandex.cloud.vpc.v1.Network");
    assert_eq!(net.name, "");
    assert!(op.created_at.is_some() && op.modified_at.is_some());
}

#[tokio::test]
async fn cancel_rolls_back_and_done_operations_cannot_be_cancelled() {
    let server = Server::start("polls=2");
    let c = server.clients().await;
    let net = network(&c, "n").await;
    let sub = subnet(&c, &net.id, "10.0.0.0/24").await;
    let op = c.instances.clone().create(create_instance("vm", vec![nic_with(&sub.id, "10.0.0.7", true)])).await.unwrap().into_inner();
    assert_eq!(used_addresses(&c, &sub.id).await, ["10.0.0.7"], "the address is reserved while the operation runs");

    let cancelled = c.operations.clone().cancel(CancelOperationRequest { operation_id: op.id.clone() }).await.unwrap().into_inner();
    assert!(cancelled.done);
    let error = op_error(&cancelled);
    assert_eq!(error.code, Code::Cancelled as i32);
    let again = c.operations.clone().get(GetOperationRequest { operation_id: op.id.clone() }).await.unwrap().into_inner();
    assert_eq!(again, cancelled, "the cancelled state is stored");
    assert!(used_addresses(&c, &sub.id).await.is_empty(), "cancel gives the address back");
    let meta: cpb::CreateInstanceMetadata = unpack(op.metadata.as_ref().unwrap(), "yandex.cloud.compute.v1.CreateInstanceMetadata");
    let gone = c.instances.clone().get(cpb::GetInstanceRequest { instance_id: meta.instance_id, ..Default::default() }).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);

    let err = c.operations.clone().cancel(CancelOperationRequest { operation_id: op.id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c.operations.clone().get(GetOperationRequest { operation_id: "nope".into() }).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = c.operations.clone().get(GetOperationRequest { operation_id: String::new() }).await.unwrap_err();
    assert_eq!(violations(&err), ["operation_id"]);

    // Cancelling a stop puts the instance back to RUNNING.
    let vm = instance(&c, create_instance("vm2", vec![nic(&sub.id)])).await;
    let stop = c.instances.clone().stop(cpb::StopInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    c.operations.clone().cancel(CancelOperationRequest { operation_id: stop.id.clone() }).await.unwrap();
    let back =
        c.instances.clone().get(cpb::GetInstanceRequest { instance_id: vm.id.clone(), ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(back.status, cpb::instance::Status::Running as i32);
}

#[tokio::test]
async fn a_failing_operation_records_the_error_and_rolls_back() {
    // Delete of a network is accepted while it is empty; a subnet created before the operation
    // runs makes it fail when applied, which must leave the network in place.
    let server = Server::start("polls=2");
    let c = server.clients().await;
    let op = c
        .networks
        .clone()
        .create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: "n".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let net: vpb::Network = response(&c.wait(&op).await, "yandex.cloud.vpc.v1.Network");
    let delete = c.networks.clone().delete(vpb::DeleteNetworkRequest { network_id: net.id.clone() }).await.unwrap().into_inner();
    subnet(&c, &net.id, "10.0.0.0/24").await;
    let failed = c.wait(&delete).await;
    let error = op_error(&failed);
    assert_eq!(error.code, Code::FailedPrecondition as i32);
    assert!(error.message.contains("subnets"), "{}", error.message);
    c.networks.clone().get(vpb::GetNetworkRequest { network_id: net.id.clone() }).await.expect("network still there");
}
