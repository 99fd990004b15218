//! grpcurl 1.8.6 (reflection v1alpha only) lists, describes and invokes, with `Any` resolved.

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
