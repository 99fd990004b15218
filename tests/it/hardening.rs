//! Errors that keep their format whatever the input (long values, odd paths and heads, bodies
//! tonic cannot decode, duplicate JSON keys), and the tenancy checks on what a request names
//! (security group rule targets, page tokens, public addresses, AK/SK signed headers).

use netplane::proto::google::rpc;
use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use prost::Message;
use reqwest::Method;
use serde_json::{Value, json};
use tonic::Code;

use crate::fixtures::{FOLDER, network, response, security_group};
use crate::harness::{Server, run_python};
use crate::hw::{Hw, PROJECT};

/// The details of a gRPC error, decoded.
fn details(status: &tonic::Status) -> rpc::Status {
    rpc::Status::decode(status.details()).expect("grpc-status-details-bin")
}

fn has_request_info(details: &rpc::Status) -> bool {
    details.details.iter().any(|d| d.type_url == "type.googleapis.com/google.rpc.RequestInfo")
}

/// A REST call: status and JSON body, and the body's size.
async fn rest(server: &Server, method: Method, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> (u16, Value, usize) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", server.rest)).body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body");
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, json, bytes.len())
}

#[tokio::test]
async fn long_values_make_small_errors() {
    let server = Server::start("inline");
    let c = server.clients().await;

    // gRPC: the whole status (message and details) stays far under grpc-core's 8 KiB of metadata.
    let long = "N".repeat(5000);
    let refused = c
        .networks
        .clone()
        .create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: long.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().len() < 600, "{} bytes", refused.message().len());
    assert!(refused.details().len() < 2048, "{} bytes of details", refused.details().len());
    assert!(refused.message().contains("(5000 characters)"), "{}", refused.message());

    // The official SDK (grpc-core) sees INVALID_ARGUMENT, not a metadata overflow.
    let out = run_python("long_name.py", &[&server.addr]);
    assert!(out.contains("long name: INVALID_ARGUMENT"), "{out}");

    // Many bad fields at once: the first few are detailed, and the message says how many.
    let labels = (0..200).map(|i| (format!("Bad{i}"), "v".to_string())).collect();
    let refused =
        c.networks.clone().create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), labels, ..Default::default() }).await.unwrap_err();
    assert!(refused.details().len() < 4096, "{} bytes of details", refused.details().len());
    assert!(refused.message().contains("201 field violations in all"), "{}", refused.message());

    // REST: a 3 MiB name answers a small error.
    let body = json!({"folderId": FOLDER, "name": "n".repeat(3 * 1024 * 1024)}).to_string().into_bytes();
    let (status, json, size) = rest(&server, Method::POST, "/vpc/v1/networks", &[], body).await;
    assert_eq!(status, 400, "{json}");
    assert!(size < 8192, "a {size}-byte error");

    // Huawei: the same.
    let hw = Hw::new(&server.rest, PROJECT, None);
    let answer = hw.raw(Method::POST, &hw.vpc("vpcs"), Some(json!({"vpc": {"name": "v".repeat(3 * 1024 * 1024)}}).to_string()), &[]).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.to_string().len() < 8192);
}

#[tokio::test]
async fn every_layer_answers_in_the_dialect_of_its_api() {
    let server = Server::start("inline");
    let c = server.clients().await;

    // A URL and headers past the limits: refused as JSON on REST, Huawei JSON on Huawei paths,
    // a status on gRPC.
    let long_query = format!("/vpc/v1/networks?folderId={FOLDER}&filter={}", "a".repeat(20 * 1024));
    let (status, json, _) = rest(&server, Method::GET, &long_query, &[], vec![]).await;
    assert_eq!((status, json["code"].as_i64()), (414, Some(3)), "{json}");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let answer = hw.get(&format!("{}?name={}", hw.nat("gateways"), "a".repeat(20 * 1024))).await;
    answer.expect(414, "NETPLANE.0414");
    let many: Vec<(&str, String)> = (0..150).map(|i| ("x-extra", format!("{i}"))).collect();
    let (status, json, _) = rest(&server, Method::GET, &format!("/vpc/v1/networks?folderId={FOLDER}"), &many, vec![]).await;
    assert_eq!((status, json["code"].as_i64()), (431, Some(3)), "{json}");
    let mut request = tonic::Request::new(vpb::ListNetworksRequest { folder_id: FOLDER.into(), ..Default::default() });
    for i in 0..150 {
        request
            .metadata_mut()
            .append(format!("x-extra-{i}").as_str().parse::<tonic::metadata::MetadataKey<_>>().unwrap(), "v".parse().unwrap());
    }
    let refused = c.networks.clone().list(request).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(has_request_info(&details(&refused)));

    // A message that does not decode: INVALID_ARGUMENT with a BadRequest and the request id
    // (here over gRPC-Web, as a browser would send it).
    let garbage = [0u8, 0, 0, 0, 3, 0xff, 0xff, 0xff];
    let response = reqwest::Client::new()
        .post(format!("http://{}/yandex.cloud.vpc.v1.NetworkService/Get", server.addr))
        .header("content-type", "application/grpc-web+proto")
        .body(garbage.to_vec())
        .send()
        .await
        .unwrap();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    let trailers = String::from_utf8_lossy(&body).to_ascii_lowercase();
    let status = headers.get("grpc-status").map(|v| v.to_str().unwrap().to_string());
    assert!(status.as_deref() == Some("3") || trailers.contains("grpc-status:3"), "{headers:?} {trailers}");
    assert!(headers.contains_key("grpc-status-details-bin") || trailers.contains("grpc-status-details-bin"), "{headers:?} {trailers}");

    // UNIMPLEMENTED names the method and carries the request id, over gRPC and REST.
    let refused = c
        .instances
        .clone()
        .attach_filesystem(cpb::AttachInstanceFilesystemRequest { instance_id: "fhm1".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unimplemented);
    assert!(has_request_info(&details(&refused)), "{refused:?}");
    let (status, json, _) = rest(&server, Method::POST, "/compute/v1/instances/fhm1:attachFilesystem", &[], b"{}".to_vec()).await;
    assert_eq!(status, 501);
    let infos: Vec<&Value> =
        json["details"].as_array().unwrap().iter().filter(|d| d["@type"] == "type.googleapis.com/google.rpc.RequestInfo").collect();
    assert_eq!(infos.len(), 1, "{json}");
}

#[tokio::test]
async fn duplicate_json_keys_are_refused_naming_the_key() {
    let server = Server::start("inline");
    let body = format!(r#"{{"folderId": "{FOLDER}", "name": "a", "folderId": "b1gother"}}"#).into_bytes();
    let (status, json, _) = rest(&server, Method::POST, "/vpc/v1/networks", &[], body).await;
    assert_eq!(status, 400, "{json}");
    assert!(json.to_string().contains("folderId"), "{json}");

    let hw = Hw::new(&server.rest, PROJECT, None);
    let answer = hw.raw(Method::POST, &hw.vpc("vpcs"), Some(r#"{"vpc": {"name": "a", "name": "b"}}"#.into()), &[]).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.to_string().contains("vpc.name"), "{}", answer.body);
    // Nothing was created by either.
    let (_, json, _) = rest(&server, Method::GET, &format!("/vpc/v1/networks?folderId={FOLDER}"), &[], vec![]).await;
    assert_eq!(json, json!({}));
    assert_eq!(hw.get(&hw.vpc("vpcs")).await.body, json!({"vpcs": []}));
}

#[tokio::test]
async fn page_tokens_work_only_for_the_list_that_issued_them() {
    let server = Server::start("inline");
    let c = server.clients().await;
    for name in ["a1", "a2", "a3"] {
        network(&c, name).await;
    }
    let list = |folder: &str, filter: &str, token: &str| vpb::ListNetworksRequest {
        folder_id: folder.into(),
        page_size: 1,
        page_token: token.into(),
        filter: filter.into(),
    };
    let mut networks = c.networks.clone();
    let first = networks.list(list(FOLDER, "", "")).await.unwrap().into_inner();
    assert!(!first.next_page_token.is_empty());
    let token = first.next_page_token;
    networks.list(list(FOLDER, "", &token)).await.expect("the list that issued it");
    for (folder, filter) in [("b1gotherfolder", ""), (FOLDER, "name=\"a2\"")] {
        let refused = networks.list(list(folder, filter, &token)).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{folder} {filter}");
        assert!(refused.message().contains("another list"), "{}", refused.message());
    }
    // Nor does a network's list take an instance list's token.
    let refused = c
        .instances
        .clone()
        .list(cpb::ListInstancesRequest { folder_id: FOLDER.into(), page_token: token.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn security_group_rules_name_existing_groups_of_their_network() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let net = network(&c, "net").await;
    let other = network(&c, "other").await;
    let same_network = security_group(&c, &net.id, "peer").await;
    let elsewhere = security_group(&c, &other.id, "elsewhere").await;
    let rule = |target: &str| vpb::SecurityGroupRuleSpec {
        direction: vpb::security_group_rule::Direction::Ingress as i32,
        protocol: Some(vpb::security_group_rule_spec::Protocol::ProtocolName("ANY".into())),
        target: Some(vpb::security_group_rule_spec::Target::SecurityGroupId(target.into())),
        ..Default::default()
    };
    let create = |target: &str| vpb::CreateSecurityGroupRequest {
        folder_id: FOLDER.into(),
        network_id: net.id.clone(),
        rule_specs: vec![rule(target)],
        ..Default::default()
    };
    let mut groups = c.security_groups();
    let missing = groups.create(create("zzz")).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    let foreign = groups.create(create(&elsewhere.id)).await.unwrap_err();
    assert_eq!(foreign.code(), Code::InvalidArgument, "{foreign:?}");
    assert!(foreign.message().contains("rule_specs[0].security_group_id"), "{}", foreign.message());
    let op = groups.create(create(&same_network.id)).await.expect("a group of the same network").into_inner();
    let created: vpb::SecurityGroup = response(&c.wait(&op).await, "yandex.cloud.vpc.v1.SecurityGroup");
    assert_eq!(created.rules.len(), 1);
    // UpdateRules checks the rules it adds the same way, and changes nothing when refused.
    let refused = groups
        .update_rules(vpb::UpdateSecurityGroupRulesRequest {
            security_group_id: created.id.clone(),
            addition_rule_specs: vec![rule("zzz")],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    let now = groups.get(vpb::GetSecurityGroupRequest { security_group_id: created.id.clone() }).await.unwrap().into_inner();
    assert_eq!(now.rules, created.rules);
}

#[tokio::test]
async fn a_taken_public_address_is_refused_like_any_unavailable_one() {
    let server = Server::start("inline");
    let mut addresses = server.clients().await.addresses();
    let create = |folder: &str, address: &str| vpb::CreateAddressRequest {
        folder_id: folder.into(),
        address_spec: Some(vpb::create_address_request::AddressSpec::ExternalIpv4AddressSpec(vpb::ExternalIpv4AddressSpec {
            address: address.into(),
            zone_id: "ru-central1-a".into(),
            ..Default::default()
        })),
        ..Default::default()
    };
    addresses.create(create("b1gfolder-a", "198.18.0.77")).await.expect("reserved by folder a");
    let taken = addresses.create(create("b1gfolder-b", "198.18.0.77")).await.unwrap_err();
    let outside = addresses.create(create("b1gfolder-b", "203.0.113.5")).await.unwrap_err();
    assert_eq!((taken.code(), outside.code()), (Code::InvalidArgument, Code::InvalidArgument));
    let shape = |s: &tonic::Status| s.message().replace("198.18.0.77", "IP").replace("203.0.113.5", "IP");
    assert_eq!(shape(&taken), shape(&outside), "nothing tells a taken address from one that cannot be had");
}

/// An HTTP/1.1 request whose body stops short of its `Content-Length`: the raw answer.
async fn stalled_body(server: &Server, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"a\"");
    tcp.write_all(head.as_bytes()).await.unwrap();
    // The server closes the connection after its answer: the rest of the body will never come.
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), tcp.read_to_end(&mut answer)).await.expect("answered and closed");
    String::from_utf8_lossy(&answer).to_string()
}

#[tokio::test]
async fn stalled_bodies_and_large_heads_answer_in_each_dialect() {
    let server = Server::start_with_args(crate::harness::data_dir(), "memory", "inline", &["--request-body-timeout", "1s"]);
    let yandex = stalled_body(&server, "/vpc/v1/networks").await;
    assert!(yandex.starts_with("HTTP/1.1 408"), "{yandex}");
    assert!(yandex.contains("\"code\": 4") && yandex.contains("not received within"), "{yandex}");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let huawei = stalled_body(&server, &hw.vpc("vpcs")).await;
    assert!(huawei.starts_with("HTTP/1.1 408") && huawei.contains("NETPLANE.0408"), "{huawei}");
    let many: Vec<(&str, &str)> = vec![("x-extra", "v"); 150];
    hw.raw(Method::GET, &hw.nat("gateways"), None, &many).await.expect(431, "NETPLANE.0431");
}
