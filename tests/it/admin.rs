//! netplane's own endpoints with real clients: health, reset (all, a folder, a Huawei project)
//! while calls run, state export → reset → import giving back identical answers over gRPC and
//! Huawei REST, `--seed`, refused documents, fault rules of every action on gRPC, REST and Huawei
//! calls, manual operation stepping, and admin-only access with principals.

use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::operation::GetOperationRequest;
use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use reqwest::Method;
use serde_json::{Value, json};
use tonic::Code;

use crate::fixtures::{FOLDER, create_instance, instance, network, nic_with, op_error, subnet};
use crate::harness::{Server, data_dir, run_python, sqlite_store};
use crate::hw::{Hw, PROJECT};

/// A client for `/_netplane/…`.
#[derive(Clone)]
pub struct Admin {
    base: String,
    headers: Vec<(&'static str, String)>,
    http: reqwest::Client,
}

impl Admin {
    pub fn new(server: &Server) -> Admin {
        Admin { base: server.rest.clone(), headers: vec![], http: reqwest::Client::new() }
    }

    fn with(&self, name: &'static str, value: &str) -> Admin {
        Admin { headers: vec![(name, value.to_string())], ..self.clone() }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
    }

    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(method, path, body).await;
        assert!((200..300).contains(&status), "{path}: {status} {answer}");
        answer
    }

    pub async fn fault(&self, rule: Value) -> String {
        let (status, answer) = self.call(Method::POST, "/_netplane/faults", Some(rule)).await;
        assert_eq!(status, 201, "{answer}");
        answer["id"].as_str().unwrap().to_string()
    }
}

fn create_network(name: &str) -> vpb::CreateNetworkRequest {
    vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: name.into(), ..Default::default() }
}

#[tokio::test]
async fn health_answers_plain_http() {
    let server = Server::start("inline");
    let answer = Admin::new(&server).ok(Method::GET, "/_netplane/health", None).await;
    assert_eq!((answer["status"].as_str(), answer["store"].as_str()), (Some("ok"), Some("memory")), "{answer}");
    assert!(answer["version"].is_string() && answer["uptime_s"].is_u64(), "{answer}");
    let (status, missing) = Admin::new(&server).call(Method::GET, "/_netplane/nothing", None).await;
    assert_eq!((status, missing["code"].as_str()), (404, Some("NOT_FOUND")), "{missing}");
}

#[tokio::test]
async fn reset_wipes_all_one_folder_or_one_project_while_calls_run() {
    let dir = data_dir();
    let store = sqlite_store(&dir);
    let server = Server::start_with(dir, &store, "inline");
    let admin = Admin::new(&server);
    let c = server.clients().await;
    let hw = Hw::new(&server.rest, PROJECT, None);
    let net = network(&c, "kept-net").await;
    let sub = subnet(&c, &net.id, "10.60.0.0/24").await;
    let mut other = c.networks.clone();
    let other_op = other
        .create(vpb::CreateNetworkRequest { folder_id: "b1gotherfolder00000".into(), name: "other".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    c.wait(&other_op).await;
    hw.topology(61, 24).await;

    // Calls keep running while one folder is reset; each sees the state before or after.
    let writers: Vec<_> = (0..4)
        .map(|n| {
            let mut networks = c.networks.clone();
            tokio::spawn(async move {
                for i in 0..10 {
                    networks.create(create_network(&format!("busy-{n}-{i}"))).await.expect("a create during a reset");
                }
            })
        })
        .collect();
    let removed = admin.ok(Method::POST, "/_netplane/reset", Some(json!({"folder_id": FOLDER}))).await;
    for w in writers {
        w.await.unwrap();
    }
    assert!(removed["removed"]["resources"].as_u64().unwrap() >= 3, "{removed}");
    let err = c.subnets.clone().get(vpb::GetSubnetRequest { subnet_id: sub.id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    // The folder's names and addresses are free again; the other folder and project are untouched.
    let again = network(&c, "kept-net").await;
    subnet(&c, &again.id, "10.60.0.0/24").await;
    let listed = other.list(vpb::ListNetworksRequest { folder_id: "b1gotherfolder00000".into(), ..Default::default() }).await.unwrap();
    assert_eq!(listed.into_inner().networks.len(), 1);
    assert_eq!(hw.get(&hw.vpc("vpcs")).await.body["vpcs"].as_array().unwrap().len(), 1);

    // One Huawei project.
    let project = admin.ok(Method::POST, "/_netplane/reset", Some(json!({"project_id": PROJECT}))).await;
    assert!(project["removed"]["resources"].as_u64().unwrap() >= 5, "{project}");
    assert!(hw.get(&hw.vpc("vpcs")).await.body["vpcs"].as_array().unwrap().is_empty());
    hw.topology(61, 24).await;

    // Everything.
    let (status, both) = admin.call(Method::POST, "/_netplane/reset", Some(json!({"folder_id": "a", "project_id": "b"}))).await;
    assert_eq!((status, both["code"].as_str()), (400, Some("INVALID_ARGUMENT")));
    admin.ok(Method::POST, "/_netplane/reset", None).await;
    let listed = other.list(vpb::ListNetworksRequest { folder_id: "b1gotherfolder00000".into(), ..Default::default() }).await.unwrap();
    assert!(listed.into_inner().networks.is_empty());
    assert!(hw.get(&hw.vpc("vpcs")).await.body["vpcs"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn export_reset_import_gives_back_identical_answers() {
    let server = Server::start("inline");
    let admin = Admin::new(&server);
    let c = server.clients().await;
    let hw = Hw::new(&server.rest, PROJECT, None);
    let net = network(&c, "exported").await;
    let sub = subnet(&c, &net.id, "10.62.0.0/24").await;
    let vm = instance(&c, create_instance("vm", vec![nic_with(&sub.id, "10.62.0.10", true)])).await;
    let t = hw.topology(62, 24).await;
    let rule = hw.dnat(&t, &t.transit_ip_id, json!({"private_ip_address": "10.62.1.9"})).await;
    let rule_path = hw.nat(&format!("dnat-rules/{}", rule.id("dnat_rule")));

    let get_vm = |c: crate::harness::Clients, id: String| async move {
        c.instances.clone().get(cpb::GetInstanceRequest { instance_id: id, ..Default::default() }).await.unwrap().into_inner()
    };
    let before = (get_vm(c.clone(), vm.id.clone()).await, hw.get(&rule_path).await.body["dnat_rule"].clone());
    let snapshot = admin.ok(Method::GET, "/_netplane/state", None).await;
    assert_eq!((snapshot["format"].as_str(), snapshot["version"].as_u64()), (Some("netplane-state"), Some(1)));

    admin.ok(Method::POST, "/_netplane/reset", None).await;
    assert_eq!(hw.get(&rule_path).await.status, 404);

    // A bad document changes nothing and names what is wrong.
    let mut bad = snapshot.clone();
    bad["resources"][0]["body"]["id"] = json!("another-id");
    let (status, refused) = admin.call(Method::PUT, "/_netplane/state", Some(bad)).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("resources[0].body"), "{refused}");
    let (status, _) = admin
        .call(
            Method::PUT,
            "/_netplane/state",
            Some(json!({"format": "netplane-state", "version": 99, "resources": [], "operations": [], "claims": []})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(hw.get(&rule_path).await.status, 404, "refused imports changed nothing");

    let imported = admin.ok(Method::PUT, "/_netplane/state", Some(snapshot.clone())).await;
    assert_eq!(imported["imported"]["resources"].as_u64(), Some(snapshot["resources"].as_array().unwrap().len() as u64));
    let after = (get_vm(c.clone(), vm.id.clone()).await, hw.get(&rule_path).await.body["dnat_rule"].clone());
    assert_eq!(before, after);
    // The claims came back too: the instance's address is still taken, the names still held.
    let taken =
        c.subnets.clone().list_used_addresses(vpb::ListUsedAddressesRequest { subnet_id: sub.id.clone(), ..Default::default() }).await;
    assert!(taken.unwrap().into_inner().addresses.iter().any(|a| a.address == "10.62.0.10"));
    let twin = c.networks.clone().create(create_network("exported")).await;
    assert_eq!(twin.unwrap_err().code(), Code::AlreadyExists);
    assert_eq!(admin.ok(Method::GET, "/_netplane/state", None).await, snapshot, "export after import is the same document");
}

#[tokio::test]
async fn a_seed_loads_into_an_empty_store_only() {
    let first = Server::start("inline");
    let c = first.clients().await;
    network(&c, "seeded").await;
    let snapshot = Admin::new(&first).ok(Method::GET, "/_netplane/state", None).await;
    let dir = data_dir();
    let seed = dir.path().join("seed.json");
    std::fs::write(&seed, snapshot.to_string()).unwrap();
    let store = sqlite_store(&dir);
    let seeded = Server::start_with_args(dir.clone(), &store, "inline", &["--seed", seed.to_str().unwrap()]);
    assert!(seeded.logged("the store was empty: loaded the seed"));
    let c = seeded.clients().await;
    let listed = c.networks.clone().list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), ..Default::default() }).await.unwrap();
    assert_eq!(listed.into_inner().networks.len(), 1);
    network(&c, "added-later").await;
    seeded.stop().await;
    let again = Server::start_with_args(dir.clone(), &store, "inline", &["--seed", seed.to_str().unwrap()]);
    assert!(again.logged("the seed is not loaded"));
    let c = again.clients().await;
    let listed = c.networks.clone().list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), ..Default::default() }).await.unwrap();
    assert_eq!(listed.into_inner().networks.len(), 2, "the store kept its own state");
}

#[tokio::test]
async fn error_faults_hit_grpc_rest_and_huawei_calls_counting_after_and_times() {
    let server = Server::start("inline");
    let admin = Admin::new(&server);
    let c = server.clients().await;
    let create = "yandex.cloud.vpc.v1.NetworkService/Create";
    admin.fault(json!({"method": create, "match": {"name": "doomed"}, "after": 1, "times": 2, "error": {"code": "UNAVAILABLE", "message": "scripted"}})).await;

    let mut networks = c.networks.clone();
    networks.create(create_network("other")).await.expect("not matched");
    networks.create(create_network("doomed")).await.expect("the first match is let through (after: 1)");
    let status = networks.create(create_network("doomed")).await.unwrap_err();
    assert_eq!((status.code(), status.message()), (Code::Unavailable, "scripted"));
    // The REST path of the same method: the code's HTTP status and the REST error body.
    let rest = reqwest::Client::new()
        .post(format!("{}/vpc/v1/networks", server.rest))
        .body(json!({"folderId": FOLDER, "name": "doomed"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status().as_u16(), 503);
    let body: Value = rest.json().await.unwrap();
    assert_eq!((body["code"].as_u64(), body["message"].as_str()), (Some(14), Some("scripted")));
    networks.create(create_network("doomed")).await.expect_err("the name is taken by the call let through");
    let rules = admin.ok(Method::GET, "/_netplane/faults", None).await;
    assert_eq!((rules["rules"][0]["hits"].as_u64(), rules["rules"][0]["applied"].as_u64()), (Some(4), Some(2)), "{rules}");

    // A Huawei call, in Huawei's shape with the rule's status and code.
    let hw = Hw::new(&server.rest, PROJECT, None);
    admin.fault(json!({"method": "CreateVpc", "times": 1, "error": {"code": "RESOURCE_EXHAUSTED", "message": "quota", "status": 409, "error_code": "VPC.0114"}})).await;
    let refused = hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "v", "cidr": "10.63.0.0/16"}})).await;
    refused.expect(409, "VPC.0114");
    assert_eq!(refused.body["message"], "quota");
    hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "v", "cidr": "10.63.0.0/16"}})).await.expect(200, "");
    admin
        .fault(json!({"method": "ShowPrivateNat", "match": {"id": "5c9d1b4e-0000-4000-8000-000000000001"}, "error": {"code": "INTERNAL"}}))
        .await;
    hw.get(&hw.nat("gateways/5c9d1b4e-0000-4000-8000-000000000001")).await.expect(500, "NETPLANE.FAULT");
    hw.get(&hw.nat("gateways/5c9d1b4e-0000-4000-8000-000000000002")).await.expect(404, "NAT.1002");

    // Removing the rules ends them.
    let removed = admin.ok(Method::DELETE, "/_netplane/faults", None).await;
    assert_eq!(removed["removed"], 3);
    hw.get(&hw.nat("gateways/5c9d1b4e-0000-4000-8000-000000000001")).await.expect(404, "NAT.1002");

    // Rules are checked when added.
    for bad in [
        json!({"method": "nope.Service/Nope", "error": {"code": "INTERNAL"}}),
        json!({"method": "yandex.cloud.vpc.v1.NetworkService/Get", "stall": true}),
        json!({"method": "CreatePrivateDnat", "operation_error": {"code": "INTERNAL"}}),
        json!({"method": create}),
    ] {
        let (status, answer) = admin.call(Method::POST, "/_netplane/faults", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
}

#[tokio::test]
async fn operation_faults_fail_or_hold_operations_and_give_back_reservations() {
    let server = Server::start("delay=20ms");
    let admin = Admin::new(&server);
    let c = server.clients().await;
    let net = network(&c, "faulted").await;
    let sub = subnet(&c, &net.id, "10.64.0.0/24").await;
    let create = "yandex.cloud.compute.v1.InstanceService/Create";
    admin.fault(json!({"method": create, "times": 1, "operation_error": {"code": "RESOURCE_EXHAUSTED", "message": "no capacity"}})).await;

    // Accepted, then done with the error; the address and the name it reserved are free again.
    let op = c.instances.clone().create(create_instance("vm", vec![nic_with(&sub.id, "10.64.0.10", false)])).await.unwrap().into_inner();
    assert!(!op.done);
    let done = c.wait(&op).await;
    let status = op_error(&done);
    assert_eq!((status.code, status.message.as_str()), (Code::ResourceExhausted as i32, "no capacity"));
    instance(&c, create_instance("vm", vec![nic_with(&sub.id, "10.64.0.10", false)])).await;

    // Stall: pending until the rule goes, then it completes.
    let rule = admin.fault(json!({"method": "yandex.cloud.vpc.v1.NetworkService/Create", "stall": true})).await;
    let held = c.networks.clone().create(create_network("held")).await.unwrap().into_inner();
    let pending = admin.ok(Method::GET, "/_netplane/operations?pending=true", None).await;
    assert!(pending["operations"].as_array().unwrap().iter().any(|o| o["id"] == held.id.as_str()), "{pending}");
    let still = c.operations.clone().get(GetOperationRequest { operation_id: held.id.clone() }).await.unwrap().into_inner();
    assert!(!still.done);
    admin.ok(Method::DELETE, &format!("/_netplane/faults/{rule}"), None).await;
    assert!(c.wait(&held).await.done);
    let (status, _) = admin.call(Method::DELETE, &format!("/_netplane/faults/{rule}"), None).await;
    assert_eq!(status, 404);

    // A delay longer than the client waits: the client's deadline passes.
    admin.fault(json!({"method": "yandex.cloud.vpc.v1.NetworkService/Get", "times": 1, "delay": "2s"})).await;
    let mut request = tonic::Request::new(vpb::GetNetworkRequest { network_id: net.id.clone() });
    request.set_timeout(std::time::Duration::from_millis(200));
    // tonic's server ends a call past its `grpc-timeout` as CANCELLED, its client as DEADLINE_EXCEEDED.
    let late = c.networks.clone().get(request).await.unwrap_err();
    assert!(matches!(late.code(), Code::DeadlineExceeded | Code::Cancelled), "{late:?}");

    // The same actions on the REST path and on a Huawei call.
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_millis(300)).build().unwrap();
    admin.fault(json!({"method": "yandex.cloud.vpc.v1.NetworkService/Get", "times": 1, "delay": "2s"})).await;
    assert!(http.get(format!("{}/vpc/v1/networks/{}", server.rest, net.id)).send().await.unwrap_err().is_timeout());
    admin.fault(json!({"method": "ListVpcs", "times": 1, "delay": "2s"})).await;
    let huawei = format!("{}/v1/{PROJECT}/vpcs", server.rest);
    assert!(http.get(&huawei).send().await.unwrap_err().is_timeout());
    // Without the short timeout: this asks only that the fault acted once, and a loaded machine
    // can take longer than 300 ms to answer (a CI run failed here while builds shared its cores).
    assert_eq!(reqwest::get(&huawei).await.unwrap().status(), 200, "times: 1");
    admin.fault(json!({"method": "yandex.cloud.vpc.v1.NetworkService/Create", "times": 1, "operation_error": {"code": "INTERNAL", "message": "rest too"}})).await;
    let accepted: Value = reqwest::Client::new()
        .post(format!("{}/vpc/v1/networks", server.rest))
        .body(json!({"folderId": FOLDER, "name": "over-rest"}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let op_id = accepted["id"].as_str().unwrap().to_string();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let failed = loop {
        let op: Value = reqwest::get(format!("{}/operations/{op_id}", server.rest)).await.unwrap().json().await.unwrap();
        if op["done"] == true {
            break op;
        }
        assert!(tokio::time::Instant::now() < deadline, "operation {op_id} not done in time");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    assert_eq!((failed["error"]["code"].as_u64(), failed["error"]["message"].as_str()), (Some(13), Some("rest too")), "{failed}");
}

#[tokio::test]
async fn manual_operations_wait_for_a_hand_and_the_official_waiter_sees_it() {
    let dir = data_dir();
    let tls_dir = dir.path().join("tls");
    let args = ["--tls", "auto", "--tls-dir", tls_dir.to_str().unwrap(), "--tls-listen", "127.0.0.1:0"];
    let server = Server::start_with_args(dir.clone(), "memory", "manual", &args);
    let admin = Admin::new(&server);
    let c = server.clients().await;
    let op = c.networks.clone().create(create_network("stepped")).await.unwrap().into_inner();
    let pending = admin.ok(Method::GET, "/_netplane/operations?pending=true", None).await;
    assert_eq!(pending["operations"][0]["id"], op.id.as_str());
    let completed = admin.ok(Method::POST, &format!("/_netplane/operations/{}:complete", op.id), None).await;
    assert_eq!((completed["done"].as_bool(), completed["response"]["name"].as_str()), (Some(true), Some("stepped")));
    let (status, again) = admin.call(Method::POST, &format!("/_netplane/operations/{}:complete", op.id), None).await;
    assert_eq!((status, again["code"].as_str()), (400, Some("FAILED_PRECONDITION")));

    let failing = c.networks.clone().create(create_network("refused")).await.unwrap().into_inner();
    let failed = admin
        .ok(Method::POST, &format!("/_netplane/operations/{}:fail", failing.id), Some(json!({"code": "ABORTED", "message": "by hand"})))
        .await;
    assert_eq!((failed["error"]["code"].as_u64(), failed["error"]["message"].as_str()), (Some(10), Some("by hand")));
    network_free(&c, "refused").await;

    // The official SDK's waiter polls while a helper completes the operation.
    let ca = tls_dir.join("ca.pem");
    let out = run_python("admin_flow.py", &["wait-manual", server.tls.as_deref().unwrap(), ca.to_str().unwrap(), &server.rest]);
    assert!(out.contains("waited: done"), "{out}");
}

async fn network_free(c: &crate::harness::Clients, name: &str) {
    let op = c.networks.clone().create(create_network(name)).await.unwrap().into_inner();
    assert!(!op.done, "manual: pending");
}

const PRINCIPALS: &str = r#"{"principals": [
    {"subject": "root", "folders": ["*"], "iam_tokens": ["t-root"], "auth_tokens": ["hw-root"], "admin": true},
    {"subject": "user", "folders": ["*"], "iam_tokens": ["t-user"], "auth_tokens": ["hw-user"]}
]}"#;

#[tokio::test]
async fn with_principals_only_admins_may_call_and_admin_off_turns_it_all_off() {
    let dir = data_dir();
    let file = dir.path().join("principals.json");
    std::fs::write(&file, PRINCIPALS).unwrap();
    let server = Server::start_with_args(dir.clone(), "memory", "inline", &["--principals", file.to_str().unwrap()]);
    let admin = Admin::new(&server);
    let (status, _) = admin.call(Method::GET, "/_netplane/health", None).await;
    assert_eq!(status, 401);
    let (status, answer) = admin.with("authorization", "Bearer t-user").call(Method::POST, "/_netplane/reset", None).await;
    assert_eq!((status, answer["code"].as_str()), (403, Some("PERMISSION_DENIED")), "{answer}");
    let (status, _) = admin.with("x-auth-token", "hw-user").call(Method::GET, "/_netplane/state", None).await;
    assert_eq!(status, 403);
    admin.with("authorization", "Bearer t-root").ok(Method::GET, "/_netplane/health", None).await;
    admin.with("x-auth-token", "hw-root").ok(Method::GET, "/_netplane/faults", None).await;

    let off = Server::start_with_args(data_dir(), "memory", "inline", &["--admin", "off"]);
    let (status, answer) = Admin::new(&off).call(Method::GET, "/_netplane/health", None).await;
    assert_eq!((status, answer["code"].as_str()), (501, Some("UNIMPLEMENTED")), "{answer}");
}

#[tokio::test]
async fn the_official_sdk_sees_the_scripted_errors() {
    let server = Server::start("inline");
    let admin = Admin::new(&server);
    admin.fault(json!({"method": "yandex.cloud.vpc.v1.NetworkService/Create", "times": 1, "error": {"code": "RESOURCE_EXHAUSTED", "message": "quota exceeded"}})).await;
    admin.fault(json!({"method": "yandex.cloud.vpc.v1.NetworkService/Create", "match": {"name": "late"}, "operation_error": {"code": "INTERNAL", "message": "broke later"}})).await;
    let out = run_python("admin_flow.py", &["faults", &server.addr]);
    assert!(out.contains("sdk saw: RESOURCE_EXHAUSTED quota exceeded") && out.contains("operation error: broke later"), "{out}");
}

#[tokio::test]
async fn state_commands_export_and_import_a_store() {
    let dir = data_dir();
    let store = sqlite_store(&dir);
    let server = Server::start_with(dir.clone(), &store, "inline");
    network(&server.clients().await, "cli").await;
    server.stop().await;
    let exported =
        std::process::Command::new(env!("CARGO_BIN_EXE_netplane")).args(["state", "export", "--store", &store]).output().unwrap();
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let doc: Value = serde_json::from_slice(&exported.stdout).unwrap();
    assert_eq!(doc["resources"].as_array().unwrap().iter().filter(|r| r["kind"] == "network").count(), 1);
    let file = dir.path().join("snap.json");
    std::fs::write(&file, &exported.stdout).unwrap();
    let other = format!("sqlite:{}", dir.path().join("other.db").display());
    let imported = std::process::Command::new(env!("CARGO_BIN_EXE_netplane"))
        .args(["state", "import", "--store", &other, file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let restarted = Server::start_with(dir.clone(), &other, "inline");
    let listed =
        restarted.clients().await.networks.clone().list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), ..Default::default() }).await;
    assert_eq!(listed.unwrap().into_inner().networks[0].name, "cli");
}

/// `tests/state/v1.json` was written by the release that introduced the state document (version
/// 1); every later release must import it and serve what it holds.
#[tokio::test]
async fn a_version_1_document_imports_and_serves() {
    let server = Server::start("inline");
    let document: Value = serde_json::from_str(include_str!("../state/v1.json")).unwrap();
    Admin::new(&server).ok(Method::PUT, "/_netplane/state", Some(document)).await;
    let c = server.clients().await;
    let vm = c.instances.clone().get(cpb::GetInstanceRequest { instance_id: "fhm0mx97wo86iwh1lpyi".into(), ..Default::default() }).await;
    let vm = vm.unwrap().into_inner();
    assert_eq!(
        (vm.name.as_str(), vm.network_interfaces[0].primary_v4_address.as_ref().unwrap().address.as_str()),
        ("fixture-vm", "10.70.0.10")
    );
    let hw = Hw::new(&server.rest, PROJECT, None);
    let rule = hw.get(&hw.nat("dnat-rules/50f68ad3-f476-4261-a7c1-095762e88bdc")).await;
    rule.expect(200, "");
    assert_eq!(rule.body["dnat_rule"]["type"], "COMPUTE");
    // Its claims hold: the instance's address is taken.
    let twin = cpb::CreateInstanceRequest {
        folder_id: "b1gstatefixture0000".into(),
        ..create_instance("twin", vec![nic_with("e9b0mx97wo7e923hszd7", "10.70.0.10", false)])
    };
    let taken = c.instances.clone().create(twin).await;
    let refused = match taken {
        Ok(op) => op_error(&c.wait(&op.into_inner()).await).code,
        Err(status) => status.code() as i32,
    };
    assert_eq!(refused, Code::AlreadyExists as i32);
}

/// `serve --config` alone: the file's listen address and store are used.
#[tokio::test]
async fn a_config_file_sets_the_listen_address_and_the_store() {
    let dir = data_dir();
    let db = dir.path().join("from-config.db");
    let file = dir.path().join("netplane.toml");
    // Another loopback host than the default's, on a port the kernel picks: a port chosen free
    // beforehand could be taken by another test before the server binds it.
    std::fs::write(&file, format!("listen = \"127.0.0.2:0\"\nstore = \"sqlite:{}\"\noperations = \"inline\"\n", db.display())).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_netplane"))
        .args(["serve", "--config", file.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let started = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout).lines().map_while(Result::ok).find(|l| l.contains("netplane listening on"))
    });
    let line = started.join().unwrap().expect("the server started");
    let address = line.split("netplane listening on ").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("an address");
    assert!(address.starts_with("127.0.0.2:"), "{line}");
    let health: Value = reqwest::get(format!("http://{address}/_netplane/health")).await.unwrap().json().await.unwrap();
    assert_eq!(health["store"].as_str().unwrap(), format!("sqlite:{}", db.display()));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(db.exists());

    // An unknown key stops start-up, naming it.
    std::fs::write(&file, "lisen = \"127.0.0.1:1\"\n").unwrap();
    let refused =
        std::process::Command::new(env!("CARGO_BIN_EXE_netplane")).args(["serve", "--config", file.to_str().unwrap()]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unknown key \"lisen\""), "{}", String::from_utf8_lossy(&refused.stderr));
}

#[tokio::test]
async fn the_journal_records_calls_without_credentials_and_metrics_parse() {
    let dir = data_dir();
    let file = dir.path().join("principals.json");
    std::fs::write(
        &file,
        r#"{"principals": [{"subject": "root", "folders": ["*"], "projects": ["*"], "iam_tokens": ["t-root-secret"], "oauth_tokens": ["oauth-secret"],
            "access_keys": [{"access_key": "AKROOT", "secret_key": "SKROOT-secret"}], "admin": true}]}"#,
    )
    .unwrap();
    let server = Server::start_with_args(dir.clone(), "memory", "inline", &["--principals", file.to_str().unwrap()]);
    let admin = Admin::new(&server).with("authorization", "Bearer t-root-secret");
    let c = server.clients().await;
    let mut networks = c.networks.clone();
    let mut create = tonic::Request::new(create_network("journaled"));
    create.metadata_mut().insert("authorization", "Bearer t-root-secret".parse().unwrap());
    create.metadata_mut().insert("x-request-id", "journal-1".parse().unwrap());
    let op = networks.create(create).await.unwrap().into_inner();
    let exchange = reqwest::Client::new()
        .post(format!("{}/iam/v1/tokens", server.rest))
        .body(json!({"yandexPassportOauthToken": "oauth-secret"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(exchange.status(), 200);
    let python = crate::harness::run_python("huawei_sdk_flow.py", &[&server.rest, PROJECT, "AKROOT", "SKROOT-secret"]);
    assert!(!python.is_empty());

    // A request over 64 KiB is journaled by its size only.
    let big = Hw::new(&server.rest, PROJECT, Some("unused"));
    let huge = big
        .raw(
            Method::POST,
            &big.vpc("vpcs"),
            Some(json!({"vpc": {"description": "x".repeat(100_000)}}).to_string()),
            &[("authorization", "nope")],
        )
        .await;
    assert_eq!(huge.status, 401);
    let journal = admin.ok(Method::GET, "/_netplane/requests?limit=1000", None).await;
    let last = journal["requests"].as_array().unwrap().last().unwrap().clone();
    assert!(last["request"]["omitted"].as_str().is_some_and(|o| o.starts_with("100")), "{last}");
    let text = journal.to_string();
    for secret in ["t-root-secret", "oauth-secret", "SKROOT-secret"] {
        assert!(!text.contains(secret), "{secret} is in the journal");
    }
    let calls = journal["requests"].as_array().unwrap();
    let first = calls.iter().find(|r| r["request_id"] == "journal-1").expect("the gRPC call");
    assert_eq!(
        (first["protocol"].as_str(), first["method"].as_str(), first["grpc_code"].as_str(), first["subject"].as_str()),
        (Some("grpc"), Some("yandex.cloud.vpc.v1.NetworkService/Create"), Some("OK"), Some("root"))
    );
    assert_eq!((first["operation_id"].as_str(), first["request"]["name"].as_str()), (Some(op.id.as_str()), Some("journaled")));
    assert!(calls.iter().any(|r| r["method"] == "yandex.cloud.iam.v1.IamTokenService/Create" && r["request"].is_null()));
    let huawei: Vec<&Value> = calls.iter().filter(|r| r["protocol"] == "huawei").collect();
    assert!(huawei.iter().any(|r| r["method"] == "CreatePrivateDnat" && r["http_status"] == 201), "{huawei:?}");
    assert!(huawei.iter().any(|r| r["http_status"] == 401 && r["subject"] == ""), "the wrong secret key's call");
    // Filtered by method, and read on after a request id.
    let only = admin.ok(Method::GET, "/_netplane/requests?method=CreatePrivateDnat", None).await;
    assert!(only["requests"].as_array().unwrap().iter().all(|r| r["method"] == "CreatePrivateDnat"));
    let after = admin.ok(Method::GET, "/_netplane/requests?since=journal-1&limit=1000", None).await;
    assert_eq!(
        after["requests"].as_array().unwrap().len(),
        calls.iter().position(|r| r["request_id"] == "journal-1").map(|at| calls.len() - at - 1).unwrap()
    );

    // The metrics, parsed by the Prometheus project's own parser (the scrape needs an admin too).
    let (status, _) = Admin::new(&server).call(Method::GET, "/metrics", None).await;
    assert_eq!(status, 401);
    let dev = Server::start("inline");
    network(&dev.clients().await, "counted").await;
    // A made-up path is counted as `unknown`, so clients cannot grow the metrics without bound.
    assert_eq!(reqwest::get(format!("{}/vpc/v1/made-up-path-1234", dev.rest)).await.unwrap().status(), 404);
    let samples = crate::harness::run_python("metrics_parse.py", &[&dev.rest]);
    let value = |series: &str| sample(&samples, series);
    assert_eq!(
        value("netplane_calls_total{code=\"OK\",method=\"yandex.cloud.vpc.v1.NetworkService/Create\",protocol=\"grpc\"}"),
        Some(1.0),
        "{samples}"
    );
    assert_eq!(value("netplane_operations_started_total{}"), Some(1.0));
    assert_eq!(value("netplane_operations_finished_total{result=\"ok\"}"), Some(1.0));
    assert_eq!(value("netplane_resources{kind=\"network\"}"), Some(1.0));
    assert_eq!(value("netplane_operations_pending{}"), Some(0.0));
    assert!(value("netplane_store_transaction_duration_seconds_count{kind=\"write\"}").is_some_and(|n| n >= 1.0));
    assert!(!samples.contains("made-up-path-1234") && samples.contains("method=\"unknown\""), "{samples}");
    for family in ["netplane_build_info{version=", "netplane_call_duration_seconds_bucket{"] {
        assert!(samples.contains(family), "{family} not in\n{samples}");
    }
    // The memory store has no SQLite writer; the default store's log writer counts the jobs of
    // each group commit, and a create is at least one job.
    assert!(!samples.contains("netplane_store_commit_group_jobs_count{writer="), "{samples}");
    let dir = data_dir();
    let durable = Server::start_with(dir.clone(), &sqlite_store(&dir), "inline");
    network(&durable.clients().await, "logged").await;
    let samples = crate::harness::run_python("metrics_parse.py", &[&durable.rest]);
    assert!(sample(&samples, "netplane_store_commit_group_jobs_sum{writer=\"log\"}").is_some_and(|jobs| jobs >= 1.0), "{samples}");
}

/// The value of `series` in the parsed samples `metrics_parse.py` prints, one `series value` a line.
fn sample(samples: &str, series: &str) -> Option<f64> {
    samples.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse::<f64>().ok())
}

/// Health turns 503 `draining` as soon as a shutdown begins (during `--drain-delay` calls are
/// still served).
#[tokio::test]
async fn health_says_draining_once_a_shutdown_begins() {
    let server = Server::start_with_args(data_dir(), "memory", "inline", &["--drain-delay", "5s"]);
    let admin = Admin::new(&server);
    admin.ok(Method::GET, "/_netplane/health", None).await;
    server.terminate();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(4);
    loop {
        let (status, answer) = admin.call(Method::GET, "/_netplane/health", None).await;
        if status == 503 {
            assert_eq!(answer["status"], "draining");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "health never said draining");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// A rule added through one replica acts on calls to the other (each reads new rules within a
/// quarter of a second), and `times` is counted once across both.
#[tokio::test]
async fn fault_rules_reach_every_replica_on_one_postgres() {
    let url = crate::harness::postgres_database("replica_faults");
    let (a, b) = (Server::start_with(data_dir(), &url, "inline"), Server::start_with(data_dir(), &url, "inline"));
    Admin::new(&a)
        .fault(json!({"method": "yandex.cloud.vpc.v1.NetworkService/Create", "match": {"name": "shared"}, "times": 1, "error": {"code": "ABORTED"}}))
        .await;
    let mut networks = b.clients().await.networks.clone();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match networks.create(create_network("shared")).await {
            Err(status) => {
                assert_eq!(status.code(), Code::Aborted);
                break;
            }
            Ok(op) => {
                // Not seen yet: undo and try again.
                let done = b.clients().await.wait(&op.into_inner()).await;
                let id = crate::fixtures::response::<vpb::Network>(&done, "yandex.cloud.vpc.v1.Network").id;
                let deleted = networks.delete(vpb::DeleteNetworkRequest { network_id: id }).await.unwrap().into_inner();
                b.clients().await.wait(&deleted).await;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "replica b never applied the rule");
    }
    // Applied once in all: both replicas now let the call through.
    a.clients().await.networks.clone().create(create_network("shared")).await.expect("times: 1 is spent");
    let rules = Admin::new(&b).ok(Method::GET, "/_netplane/faults", None).await;
    assert_eq!(rules["rules"][0]["applied"], 1);
}

/// Done operations are pruned after `--operation-retention` (and beyond `--operation-cap` on the
/// stores that keep their state in memory); pending ones stay.
#[tokio::test]
async fn done_operations_are_pruned_after_the_retention_and_beyond_the_cap() {
    let server = Server::start_with_args(data_dir(), "memory", "inline", &["--operation-retention", "300ms"]);
    let c = server.clients().await;
    let op = c.networks.clone().create(create_network("pruned")).await.unwrap().into_inner();
    assert!(op.done);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match c.operations.clone().get(GetOperationRequest { operation_id: op.id.clone() }).await {
            Err(status) if status.code() == Code::NotFound => break,
            _ => {}
        }
        assert!(tokio::time::Instant::now() < deadline, "operation {} never pruned", op.id);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The resource stays; only the record of the operation went.
    let listed = c.networks.clone().list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), ..Default::default() }).await.unwrap();
    assert_eq!(listed.into_inner().networks.len(), 1);

    // The cap holds on the stores whose state is in memory: `memory` and the default `sqlite:`.
    let dir = data_dir();
    let store = sqlite_store(&dir);
    for store in ["memory", store.as_str()] {
        cap_keeps_the_newest_three(Server::start_with_args(dir.clone(), store, "inline", &["--operation-cap", "3"])).await;
    }
}

async fn cap_keeps_the_newest_three(capped: Server) {
    let c = capped.clients().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(c.networks.clone().create(create_network(&format!("n{i}"))).await.unwrap().into_inner().id);
    }
    let admin = Admin::new(&capped);
    // Pruning runs at least every 5 s.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let kept = admin.ok(Method::GET, "/_netplane/operations", None).await;
        let kept: Vec<String> = kept["operations"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_string()).collect();
        if kept.len() == 3 {
            let newest: Vec<String> = ids[3..].iter().rev().cloned().collect();
            assert_eq!(kept, newest, "the newest three stay");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the cap never applied: {kept:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
