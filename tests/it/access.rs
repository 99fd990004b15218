//! Drop-in for official clients: the official Python SDK over TLS with endpoint discovery and an
//! OAuth token; authentication, folder tenancy (gRPC and REST), IAM tokens, development mode, and
//! idempotency keys (sequential, concurrent, reused for another request).

use std::sync::Arc;

use netplane::proto::yandex::cloud::endpoint::ListApiEndpointsRequest;
use netplane::proto::yandex::cloud::endpoint::api_endpoint_service_client::ApiEndpointServiceClient;
use netplane::proto::yandex::cloud::iam::v1::iam_token_service_client::IamTokenServiceClient;
use netplane::proto::yandex::cloud::iam::v1::{CreateIamTokenRequest, RevokeIamTokenRequest, create_iam_token_request::Identity};
use netplane::proto::yandex::cloud::operation::GetOperationRequest;
use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use tonic::Code;

use crate::fixtures::{FOLDER, response};
use crate::harness::{Clients, Server, data_dir, run_python};

const PRINCIPALS: &str = r#"{"principals": [
    {"subject": "alice", "folders": ["folder-a"], "oauth_tokens": ["oauth-alice"],
     "iam_tokens": ["t-alice", {"token": "t-expired", "expires_at": "2020-01-01T00:00:00Z"}]},
    {"subject": "bob", "folders": ["folder-b"], "iam_tokens": ["t-bob"]},
    {"subject": "admin", "folders": ["*"], "iam_tokens": ["t-admin"]}
]}"#;

/// A server with the principals above (and any further flags).
fn server_with_principals(operations: &str, extra: &[&str]) -> Server {
    let dir = data_dir();
    let file = dir.path().join("principals.json");
    std::fs::write(&file, PRINCIPALS).unwrap();
    let mut args = vec!["--principals", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let args: Vec<String> = args.into_iter().map(String::from).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start_with_args(dir.clone(), "memory", operations, &args)
}

fn as_user<T>(message: T, token: Option<&str>) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    if let Some(token) = token {
        req.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    req
}

fn create_network(folder: &str, name: &str) -> vpb::CreateNetworkRequest {
    vpb::CreateNetworkRequest { folder_id: folder.into(), name: name.into(), ..Default::default() }
}

async fn network_as(c: &Clients, token: &str, folder: &str, name: &str) -> (vpb::Network, String) {
    let op = c.networks.clone().create(as_user(create_network(folder, name), Some(token))).await.expect("create").into_inner();
    assert!(op.done, "inline operations");
    (response(&op, "yandex.cloud.vpc.v1.Network"), op.created_by)
}

#[tokio::test]
async fn official_sdk_over_tls_with_endpoint_discovery() {
    let dir = data_dir();
    let tls_dir = dir.path().join("tls");
    let file = dir.path().join("principals.json");
    std::fs::write(&file, PRINCIPALS).unwrap();
    let args =
        ["--principals", file.to_str().unwrap(), "--tls", "auto", "--tls-dir", tls_dir.to_str().unwrap(), "--tls-listen", "127.0.0.1:0"];
    let server = Server::start_with_args(Arc::clone(&dir), "memory", "inline", &args);
    let endpoint = server.tls.clone().expect("TLS listener");
    let ca = tls_dir.join("ca.pem");
    let script = tokio::task::spawn_blocking(move || {
        run_python("sdk_discovery_flow.py", &[&endpoint, ca.to_str().unwrap(), "oauth-alice", "folder-a", "alice"])
    });
    let out = script.await.expect("sdk flow");
    assert!(out.starts_with("ok "), "{out}");

    // Discovery answers the TLS address for every service the SDK asks for.
    let c = server.clients().await;
    let listed = ApiEndpointServiceClient::new(server.channel().await).list(ListApiEndpointsRequest::default()).await.unwrap().into_inner();
    for id in ["compute", "vpc", "operation", "iam", "endpoint", "resource-manager"] {
        let found = listed.endpoints.iter().find(|e| e.id == id).unwrap_or_else(|| panic!("no endpoint {id}"));
        assert_eq!(Some(&found.address), server.tls.as_ref());
    }
    // The plaintext listener serves the same state.
    let list = vpb::ListNetworksRequest { folder_id: "folder-a".into(), ..Default::default() };
    assert_eq!(c.networks.clone().list(as_user(list, Some("t-alice"))).await.unwrap().into_inner().networks.len(), 1);
}

#[tokio::test]
async fn tokens_are_checked_and_folders_kept_apart() {
    let server = server_with_principals("inline", &[]);
    let c = server.clients().await;
    let list_a = || vpb::ListNetworksRequest { folder_id: "folder-a".into(), ..Default::default() };

    for (token, why) in [(None, "no IAM token"), (Some("t-nobody"), "unknown IAM token"), (Some("t-expired"), "expired")] {
        let e = c.networks.clone().list(as_user(list_a(), token)).await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{token:?}: {e:?}");
        assert!(e.message().contains(why), "{token:?}: {}", e.message());
    }

    let (network, created_by) = network_as(&c, "t-alice", "folder-a", "alice-net").await;
    assert_eq!(created_by, "alice");
    let e = c.networks.clone().create(as_user(create_network("folder-a", "bob-net"), Some("t-bob"))).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let e = c.networks.clone().list(as_user(list_a(), Some("t-bob"))).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let get = || vpb::GetNetworkRequest { network_id: network.id.clone() };
    let e = c.networks.clone().get(as_user(get(), Some("t-bob"))).await.unwrap_err();
    assert_eq!((e.code(), e.message()), (Code::NotFound, format!("Network {} not found", network.id).as_str()), "no hint that it exists");
    let e =
        c.networks.clone().delete(as_user(vpb::DeleteNetworkRequest { network_id: network.id.clone() }, Some("t-bob"))).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let ops = vpb::ListNetworkOperationsRequest { network_id: network.id.clone(), ..Default::default() };
    let op_id = c.networks.clone().list_operations(as_user(ops, Some("t-alice"))).await.unwrap().into_inner().operations[0].id.clone();
    let e = c.operations.clone().get(as_user(GetOperationRequest { operation_id: op_id.clone() }, Some("t-bob"))).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    // The owner and an all-folders principal still see everything, untouched.
    assert_eq!(c.networks.clone().get(as_user(get(), Some("t-alice"))).await.unwrap().into_inner().name, "alice-net");
    assert_eq!(c.networks.clone().get(as_user(get(), Some("t-admin"))).await.unwrap().into_inner().name, "alice-net");
    c.operations
        .clone()
        .get(as_user(GetOperationRequest { operation_id: op_id }, Some("t-admin")))
        .await
        .expect("admin sees the operation");

    // A lookup by value finds only the caller's folders.
    let reserve = vpb::CreateAddressRequest {
        folder_id: "folder-a".into(),
        address_spec: Some(vpb::create_address_request::AddressSpec::ExternalIpv4AddressSpec(vpb::ExternalIpv4AddressSpec {
            zone_id: crate::fixtures::ZONE.into(),
            ..Default::default()
        })),
        ..Default::default()
    };
    let op = c.addresses().create(as_user(reserve, Some("t-alice"))).await.unwrap().into_inner();
    let address: vpb::Address = response(&op, "yandex.cloud.vpc.v1.Address");
    let ip = match &address.address {
        Some(vpb::address::Address::ExternalIpv4Address(a)) => a.address.clone(),
        other => panic!("{other:?}"),
    };
    let by_value = || vpb::GetAddressByValueRequest {
        address: Some(vpb::get_address_by_value_request::Address::ExternalIpv4Address(ip.clone())),
        ..Default::default()
    };
    assert_eq!(c.addresses().get_by_value(as_user(by_value(), Some("t-alice"))).await.unwrap().into_inner().id, address.id);
    let e = c.addresses().get_by_value(as_user(by_value(), Some("t-bob"))).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    // The same rules over REST.
    let http = reqwest::Client::new();
    let url = format!("{}/vpc/v1/networks/{}", server.rest, network.id);
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["code"], 16);
    let res = http.get(&url).bearer_auth("t-bob").send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = http.get(&url).bearer_auth("t-alice").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = http.get(format!("{}/vpc/v1/networks?folderId=folder-a", server.rest)).bearer_auth("t-bob").send().await.unwrap();
    assert_eq!(res.status(), 403);

    // Discovery and token exchange need no token.
    ApiEndpointServiceClient::new(server.channel().await)
        .list(ListApiEndpointsRequest::default())
        .await
        .expect("discovery without a token");
}

#[tokio::test]
async fn iam_tokens_are_issued_for_oauth_tokens_and_revoked() {
    let server = server_with_principals("inline", &[]);
    let c = server.clients().await;
    let mut iam = IamTokenServiceClient::new(server.channel().await);
    let oauth = |t: &str| CreateIamTokenRequest { identity: Some(Identity::YandexPassportOauthToken(t.into())) };
    let e = iam.create(oauth("oauth-unknown")).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    let e = iam.create(CreateIamTokenRequest { identity: None }).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);

    let issued = iam.create(oauth("oauth-alice")).await.unwrap().into_inner();
    let expires = issued.expires_at.expect("expires_at").seconds;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now + 11 * 3600..=now + 12 * 3600 + 60).contains(&expires), "12 hours by default");
    let (_, created_by) = network_as(&c, &issued.iam_token, "folder-a", "with-issued").await;
    assert_eq!(created_by, "alice");

    let revoked = iam.revoke(RevokeIamTokenRequest { iam_token: issued.iam_token.clone() }).await.unwrap().into_inner();
    assert_eq!(revoked.subject_id, "alice");
    let e = c.networks.clone().create(as_user(create_network("folder-a", "after-revoke"), Some(&issued.iam_token))).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn development_mode_accepts_any_caller() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let (_, created_by) = network_as(&c, "anything", "any-folder", "dev-net").await;
    assert_eq!(created_by, "netplane-dev");
    let op = c.networks.clone().create(create_network("other-folder", "no-token")).await.expect("no token needed").into_inner();
    assert_eq!(op.created_by, "netplane-dev");
}

fn with_key<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut().insert("idempotency-key", key.parse().unwrap());
    req
}

async fn network_count(c: &Clients) -> usize {
    let list = vpb::ListNetworksRequest { folder_id: FOLDER.into(), ..Default::default() };
    c.networks.clone().list(list).await.unwrap().into_inner().networks.len()
}

#[tokio::test]
async fn an_idempotency_key_acts_once() {
    let server = Server::start("delay=50ms");
    let c = server.clients().await;
    let first = c.networks.clone().create(with_key(create_network(FOLDER, "once"), "key-1")).await.unwrap().into_inner();
    assert!(!first.done);
    let again = c.networks.clone().create(with_key(create_network(FOLDER, "once"), "key-1")).await.unwrap().into_inner();
    assert_eq!(again.id, first.id, "the first operation, not a new one (nor ALREADY_EXISTS)");
    let done = c.wait(&first).await;
    let later = c.networks.clone().create(with_key(create_network(FOLDER, "once"), "key-1")).await.unwrap().into_inner();
    assert_eq!((later.id.clone(), later.done), (first.id.clone(), true), "in its current state");
    assert_eq!(later.result, done.result);
    assert_eq!(network_count(&c).await, 1);

    let e = c.networks.clone().create(with_key(create_network(FOLDER, "different"), "key-1")).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("key-1"), "{}", e.message());
    let other = c.networks.clone().create(with_key(create_network(FOLDER, "different"), "key-2")).await.unwrap().into_inner();
    assert_ne!(other.id, first.id);

    // Concurrently: one key, eight calls, one network.
    let calls = (0..8).map(|_| {
        let mut networks = c.networks.clone();
        tokio::spawn(async move { networks.create(with_key(create_network(FOLDER, "together"), "key-3")).await.map(|r| r.into_inner().id) })
    });
    let ids: Vec<String> = futures_ids(calls).await;
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    c.wait(&c.operations.clone().get(GetOperationRequest { operation_id: ids[0].clone() }).await.unwrap().into_inner()).await;
    assert_eq!(network_count(&c).await, 3);

    // Over REST the header is Idempotency-Key.
    let http = reqwest::Client::new();
    let body = serde_json::json!({"folderId": FOLDER, "name": "rest-once"});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let res =
            http.post(format!("{}/vpc/v1/networks", server.rest)).header("Idempotency-Key", "key-4").json(&body).send().await.unwrap();
        assert_eq!(res.status(), 200);
        ids.push(res.json::<serde_json::Value>().await.unwrap()["id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
}

async fn futures_ids(calls: impl Iterator<Item = tokio::task::JoinHandle<Result<String, tonic::Status>>>) -> Vec<String> {
    let mut ids = Vec::new();
    for call in calls {
        ids.push(call.await.expect("join").expect("create"));
    }
    ids
}

/// A rule may name only a security group its caller may see: a group in another folder is
/// NOT_FOUND, as if it did not exist, even when it is in the same network.
#[tokio::test]
async fn security_group_rules_cannot_name_another_folders_group() {
    let server = server_with_principals("inline", &[]);
    let c = server.clients().await;
    let (network, _) = network_as(&c, "t-alice", "folder-a", "shared").await;
    let group = |folder: &str, target: Option<&str>| vpb::CreateSecurityGroupRequest {
        folder_id: folder.into(),
        network_id: network.id.clone(),
        rule_specs: target
            .map(|t| vpb::SecurityGroupRuleSpec {
                direction: vpb::security_group_rule::Direction::Ingress as i32,
                protocol: Some(vpb::security_group_rule_spec::Protocol::ProtocolName("ANY".into())),
                target: Some(vpb::security_group_rule_spec::Target::SecurityGroupId(t.into())),
                ..Default::default()
            })
            .into_iter()
            .collect(),
        ..Default::default()
    };
    // The admin puts a group of folder b in alice's network.
    let op = c.security_groups().create(as_user(group("folder-b", None), Some("t-admin"))).await.expect("admin").into_inner();
    let hidden: vpb::SecurityGroup = response(&op, "yandex.cloud.vpc.v1.SecurityGroup");
    let refused = c.security_groups().create(as_user(group("folder-a", Some(&hidden.id)), Some("t-alice"))).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    // The admin, who sees folder b, may.
    c.security_groups().create(as_user(group("folder-a", Some(&hidden.id)), Some("t-admin"))).await.expect("visible to the admin");
}

#[tokio::test]
async fn every_caller_reads_the_public_image_folder_and_none_writes_to_it() {
    use netplane::proto::yandex::cloud::compute::v1 as cpb;
    use netplane::proto::yandex::cloud::compute::v1::disk_service_client::DiskServiceClient;
    use netplane::proto::yandex::cloud::compute::v1::image_service_client::ImageServiceClient;
    let server = server_with_principals("inline", &[]);
    let mut images = ImageServiceClient::new(server.channel().await);
    let list = cpb::ListImagesRequest { folder_id: "standard-images".into(), ..Default::default() };
    assert!(!images.list(as_user(list, Some("t-alice"))).await.unwrap().into_inner().images.is_empty());
    let family = cpb::GetImageLatestByFamilyRequest { folder_id: "standard-images".into(), family: "debian-12".into() };
    assert_eq!(images.get_latest_by_family(as_user(family, Some("t-bob"))).await.unwrap().into_inner().family, "debian-12");
    let image = cpb::GetImageRequest { image_id: "fd85u0rct32prepgjlv0".into() };
    assert!(images.get(as_user(image, Some("t-bob"))).await.is_ok());
    let disk = cpb::CreateDiskRequest {
        folder_id: "standard-images".into(),
        zone_id: "ru-central1-a".into(),
        type_id: "network-hdd".into(),
        size: 1 << 30,
        ..Default::default()
    };
    let err = DiskServiceClient::new(server.channel().await).create(as_user(disk, Some("t-alice"))).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let mine = cpb::ListImagesRequest { folder_id: "folder-b".into(), ..Default::default() };
    assert_eq!(images.list(as_user(mine, Some("t-alice"))).await.unwrap_err().code(), tonic::Code::PermissionDenied);
}

/// A move needs both folders; the network takes its subnets and default group along, and names
/// stay unique in the destination.
#[tokio::test]
async fn moves_across_folders_need_both_and_keep_names_unique() {
    let server = server_with_principals("inline", &[]);
    let c = server.clients().await;
    let (net, _) = network_as(&c, "t-admin", "folder-a", "shared-name").await;
    let sub = vpb::CreateSubnetRequest {
        folder_id: "folder-a".into(),
        network_id: net.id.clone(),
        zone_id: "ru-central1-a".into(),
        v4_cidr_blocks: vec!["10.60.0.0/24".into()],
        ..Default::default()
    };
    let op = c.subnets.clone().create(as_user(sub, Some("t-admin"))).await.unwrap().into_inner();
    let sub: vpb::Subnet = response(&op, "yandex.cloud.vpc.v1.Subnet");
    let move_to = |folder: &str| vpb::MoveNetworkRequest { network_id: net.id.clone(), destination_folder_id: folder.into() };

    // Alice may use folder-a only: not the destination.
    let err = c.networks.clone().r#move(as_user(move_to("folder-b"), Some("t-alice"))).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // A network of that name in folder-b already: refused, nothing moved.
    network_as(&c, "t-bob", "folder-b", "shared-name").await;
    let err = c.networks.clone().r#move(as_user(move_to("folder-b"), Some("t-admin"))).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let op = c.networks.clone().r#move(as_user(move_to("folder-c"), Some("t-admin"))).await.unwrap().into_inner();
    let moved: vpb::Network = response(&op, "yandex.cloud.vpc.v1.Network");
    assert_eq!(moved.folder_id, "folder-c");
    let meta: vpb::MoveNetworkMetadata = crate::fixtures::unpack(op.metadata.as_ref().unwrap(), "yandex.cloud.vpc.v1.MoveNetworkMetadata");
    assert_eq!(meta.network_id, net.id);
    let read = |id: &str| vpb::GetSubnetRequest { subnet_id: id.into() };
    assert_eq!(c.subnets.clone().get(as_user(read(&sub.id), Some("t-admin"))).await.unwrap().into_inner().folder_id, "folder-c");
    assert_eq!(c.subnets.clone().get(as_user(read(&sub.id), Some("t-alice"))).await.unwrap_err().code(), Code::NotFound);
    let group = vpb::GetSecurityGroupRequest { security_group_id: moved.default_security_group_id.clone() };
    assert_eq!(c.security_groups().get(as_user(group, Some("t-admin"))).await.unwrap().into_inner().folder_id, "folder-c");
    // The name is free again in folder-a.
    network_as(&c, "t-alice", "folder-a", "shared-name").await;
    // A move to the folder it is in changes nothing: the name stays held there.
    let op = c.networks.clone().r#move(as_user(move_to("folder-c"), Some("t-admin"))).await.unwrap().into_inner();
    assert_eq!(response::<vpb::Network>(&op, "yandex.cloud.vpc.v1.Network").folder_id, "folder-c");
    let twin = c.networks.clone().create(as_user(create_network("folder-c", "shared-name"), Some("t-admin"))).await.unwrap_err();
    assert_eq!(twin.code(), Code::AlreadyExists);
}
