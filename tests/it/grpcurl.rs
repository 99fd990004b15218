//! Reflection: grpcurl 1.8.6 (reflection v1alpha only) lists, describes and invokes, with `Any`
//! resolved; tonic's reflection clients ask both versions.

use std::process::Command;

use crate::harness::{Server, grpcurl};

fn run(args: &[&str]) -> String {
    let out = Command::new(grpcurl()).args(args).output().expect("run grpcurl");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "grpcurl {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn grpcurl_lists_describes_and_invokes() {
    let server = Server::start("inline");
    let addr = server.addr.as_str();
    let list = run(&["-plaintext", addr, "list"]);
    for service in [
        "yandex.cloud.compute.v1.InstanceService",
        "yandex.cloud.operation.OperationService",
        "yandex.cloud.vpc.v1.NetworkService",
        "yandex.cloud.vpc.v1.SubnetService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(list.contains(service), "{service} missing from:\n{list}");
    }
    let describe = run(&["-plaintext", addr, "describe", "yandex.cloud.compute.v1.InstanceService.AttachNetworkInterface"]);
    assert!(describe.contains("AttachInstanceNetworkInterfaceRequest"), "{describe}");
    let message = run(&["-plaintext", addr, "describe", "yandex.cloud.compute.v1.AttachInstanceNetworkInterfaceMetadata"]);
    assert!(message.contains("network_interface_index"), "{message}");

    let created =
        run(&["-plaintext", "-d", r#"{"folder_id": "f1", "name": "from-grpcurl"}"#, addr, "yandex.cloud.vpc.v1.NetworkService/Create"]);
    let op: serde_json::Value = serde_json::from_str(&created).expect("json");
    assert_eq!(op["metadata"]["@type"], "type.googleapis.com/yandex.cloud.vpc.v1.CreateNetworkMetadata");
    assert_eq!(op["response"]["@type"], "type.googleapis.com/yandex.cloud.vpc.v1.Network");
    assert_eq!(op["response"]["name"], "from-grpcurl");
    let id = op["id"].as_str().unwrap();
    let got = run(&["-plaintext", "-d", &format!(r#"{{"operation_id": "{id}"}}"#), addr, "yandex.cloud.operation.OperationService/Get"]);
    let got: serde_json::Value = serde_json::from_str(&got).expect("json");
    assert_eq!(got["done"], true);
    assert_eq!(got["metadata"]["networkId"], op["response"]["id"]);
    let health = run(&["-plaintext", addr, "grpc.health.v1.Health/Check"]);
    assert!(health.contains("SERVING"), "{health}");
}

/// Newer clients ask reflection v1, which grpcurl 1.8.6 does not: both versions list the same
/// services (each is built on its first call).
#[tokio::test]
async fn reflection_v1_and_v1alpha_list_the_same_services() {
    use tokio_stream::StreamExt;
    use tonic_reflection::pb::{v1, v1alpha};
    let server = Server::start("inline");
    let list = || v1::ServerReflectionRequest {
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(String::new())),
        ..Default::default()
    };
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(server.channel().await);
    let mut answers = client.server_reflection_info(tokio_stream::iter([list()])).await.expect("v1").into_inner();
    let Some(Ok(v1::ServerReflectionResponse {
        message_response: Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(v1_list)),
        ..
    })) = answers.next().await
    else {
        panic!("v1 did not list services")
    };
    let v1_names: Vec<String> = v1_list.service.into_iter().map(|s| s.name).collect();
    assert!(v1_names.contains(&"yandex.cloud.compute.v1.InstanceService".to_string()), "{v1_names:?}");

    let alpha = v1alpha::ServerReflectionRequest {
        message_request: Some(v1alpha::server_reflection_request::MessageRequest::ListServices(String::new())),
        ..Default::default()
    };
    let mut client = v1alpha::server_reflection_client::ServerReflectionClient::new(server.channel().await);
    let mut answers = client.server_reflection_info(tokio_stream::iter([alpha])).await.expect("v1alpha").into_inner();
    let Some(Ok(v1alpha::ServerReflectionResponse {
        message_response: Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(alpha_list)),
        ..
    })) = answers.next().await
    else {
        panic!("v1alpha did not list services")
    };
    let alpha_names: Vec<String> = alpha_list.service.into_iter().map(|s| s.name).collect();
    assert_eq!(v1_names, alpha_names);
}
