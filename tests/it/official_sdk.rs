//! The official Python SDK (`yandexcloud`): its descriptors must equal ours, and its generated
//! stubs must work against the server unchanged.

use crate::harness::{Server, run_python};

#[test]
fn our_contract_equals_the_official_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("netplane.fds");
    std::fs::write(&path, netplane::proto::FILE_DESCRIPTOR_SET).unwrap();
    let out = run_python("contract_parity.py", &[path.to_str().unwrap()]);
    assert!(out.contains("contract parity: OK"), "{out}");
}

#[test]
fn official_stubs_create_network_subnet_and_instance() {
    let server = Server::start("delay=20ms");
    let out = run_python("sdk_flow.py", &[&server.addr]);
    assert!(out.contains("sdk flow: OK"), "{out}");
}

#[test]
fn official_stubs_run_the_seed_flow() {
    let server = Server::start("delay=20ms");
    let out = run_python("seed_flow.py", &[&server.addr]);
    assert!(out.contains("seed flow: OK"), "{out}");
}

/// A descriptor set as raw bytes per file, so that nothing of a file is decoded and re-encoded.
#[derive(Clone, PartialEq, prost::Message)]
struct RawDescriptorSet {
    #[prost(bytes = "vec", repeated, tag = "1")]
    file: Vec<Vec<u8>>,
}

/// What reflection serves (v1 and v1alpha alike) is the contract itself, options included: every
/// file a client gets for the services equals the official descriptors (the same check as the
/// embedded set) and is byte for byte the file build.rs encoded.
#[tokio::test]
async fn reflection_serves_the_official_contract_with_its_options() {
    use prost::Message;
    use tokio_stream::StreamExt;
    use tonic_reflection::pb::{v1, v1alpha};

    let server = Server::start("inline");
    let yandex: Vec<&str> = netplane::server::SERVICES.to_vec();
    let ask = |symbol: &str| v1::ServerReflectionRequest {
        message_request: Some(v1::server_reflection_request::MessageRequest::FileContainingSymbol(symbol.to_string())),
        ..Default::default()
    };
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(server.channel().await);
    let mut answers =
        client.server_reflection_info(tokio_stream::iter(yandex.iter().map(|s| ask(s)).collect::<Vec<_>>())).await.unwrap().into_inner();
    let mut served: Vec<Vec<u8>> = Vec::new();
    while let Some(answer) = answers.next().await {
        match answer.unwrap().message_response {
            Some(v1::server_reflection_response::MessageResponse::FileDescriptorResponse(files)) => {
                for file in files.file_descriptor_proto {
                    if !served.contains(&file) {
                        served.push(file);
                    }
                }
            }
            other => panic!("v1 answered {other:?}"),
        }
    }

    // Byte for byte what was built.
    let built = RawDescriptorSet::decode(netplane::proto::FILE_DESCRIPTOR_SET).unwrap().file;
    for file in &served {
        assert!(built.contains(file), "reflection served a file that is not the one built");
    }
    let name = |bytes: &[u8]| prost_types::FileDescriptorProto::decode(bytes).unwrap().name().to_string();
    let names: Vec<String> = served.iter().map(|f| name(f)).collect();
    assert!(names.contains(&"yandex/cloud/compute/v1/instance_service.proto".to_string()), "{names:?}");
    assert!(names.contains(&"google/api/http.proto".to_string()), "dependencies come along: {names:?}");

    // The same files over v1alpha.
    let alpha = v1alpha::ServerReflectionRequest {
        message_request: Some(v1alpha::server_reflection_request::MessageRequest::FileByFilename(
            "yandex/cloud/compute/v1/instance_service.proto".into(),
        )),
        ..Default::default()
    };
    let mut client = v1alpha::server_reflection_client::ServerReflectionClient::new(server.channel().await);
    let mut answers = client.server_reflection_info(tokio_stream::iter([alpha])).await.unwrap().into_inner();
    match answers.next().await.unwrap().unwrap().message_response {
        Some(v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(files)) => {
            assert!(files.file_descriptor_proto.iter().all(|f| served.contains(f)));
        }
        other => panic!("v1alpha answered {other:?}"),
    }

    // And equal to the official contract, method options included.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reflected.fds");
    std::fs::write(&path, RawDescriptorSet { file: served }.encode_to_vec()).unwrap();
    let out = run_python("contract_parity.py", &[path.to_str().unwrap()]);
    assert!(out.contains("contract parity: OK"), "{out}");
}

#[test]
fn official_stubs_run_the_terraform_disk_and_image_sequence() {
    let server = Server::start("delay=20ms");
    let out = run_python("disk_image_flow.py", &[&server.addr]);
    assert!(out.contains("disk image flow: OK"), "{out}");
}

/// With principals: an admin of every folder, and a caller limited to the flow's folder.
#[test]
fn official_stubs_run_the_terraform_vpc_routing_sequences() {
    let dir = crate::harness::data_dir();
    let file = dir.path().join("principals.json");
    let principals = r#"{"principals": [
        {"subject": "admin", "folders": ["*"], "iam_tokens": ["t-admin"]},
        {"subject": "limited", "folders": ["b1groutefolder00000"], "iam_tokens": ["t-limited"]}
    ]}"#;
    std::fs::write(&file, principals).unwrap();
    let server = Server::start_with_args(dir.clone(), "memory", "delay=20ms", &["--principals", file.to_str().unwrap()]);
    let out = run_python("vpc_routing_flow.py", &[&server.addr, "t-admin", "t-limited"]);
    assert!(out.contains("vpc routing flow: OK"), "{out}");
}
