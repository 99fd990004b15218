//! REST/JSON against the real server: the seed documents' calls sent with curl exactly as
//! documented, a round trip for every served service, every error class (status, body, headers),
//! gRPC-Web on the same port, and REST on an address of its own.

use std::process::Command;
use std::time::Duration;

use prost::Message;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::{FOLDER, ZONE};
use crate::harness::Server;

/// One REST answer.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    json: Value,
}

struct Rest {
    base: String,
    http: reqwest::Client,
}

impl Rest {
    fn new(server: &Server) -> Rest {
        Rest { base: server.rest.clone(), http: reqwest::Client::new() }
    }

    async fn send_raw(&self, method: Method, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).header("content-type", "application/json").body(body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.expect("REST call");
        let (status, headers) = (res.status(), res.headers().clone());
        let bytes = res.bytes().await.expect("body");
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        Reply { status, headers, json }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.send_raw(method, path, &[], body.map(|b| b.to_string().into_bytes()).unwrap_or_default()).await
    }

    /// A call that must succeed.
    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let reply = self.send(method.clone(), path, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{method} {path}: {:#}", reply.json);
        reply.json
    }

    /// Polls `GET /operations/{id}` until the operation is done (10 s at most).
    async fn wait(&self, op: &Value) -> Value {
        let id = op["id"].as_str().expect("operation id");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.ok(Method::GET, &format!("/operations/{id}"), None).await;
            if got["done"] == true {
                return got;
            }
            assert!(tokio::time::Instant::now() < deadline, "operation {id} not done in time: {got:#}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Starts a long-running call and returns the finished operation's response.
    async fn done(&self, method: Method, path: &str, body: Value) -> Value {
        let op = self.ok(method, path, Some(body)).await;
        let done = self.wait(&op).await;
        assert!(done.get("error").is_none(), "{path}: {done:#}");
        done["response"].clone()
    }
}

/// `curl` exactly as a user types it: method, URL, JSON body; the status and the parsed body.
fn curl(base: &str, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-X", method, &format!("{base}{path}"), "-H", "Content-Type: application/json", "-w", "\n%{http_code}"]);
    if let Some(body) = body {
        cmd.args(["-d", body]);
    }
    let out = cmd.output().expect("curl (the tests need curl on PATH)");
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let (json, status) = text.trim_end().rsplit_once('\n').expect("body and status");
    (status.parse().expect("status"), serde_json::from_str(json).unwrap_or_else(|e| panic!("{path}: {e}: {json}")))
}

fn curl_ok(base: &str, method: &str, path: &str, body: Option<&str>) -> Value {
    let (status, json) = curl(base, method, path, body);
    assert_eq!(status, 200, "{method} {path}: {json:#}");
    json
}

fn curl_wait(base: &str, op: &Value) -> Value {
    let id = op["id"].as_str().expect("operation id");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = curl_ok(base, "GET", &format!("/operations/{id}"), None);
        if got["done"] == true {
            assert!(got.get("error").is_none(), "{got:#}");
            return got;
        }
        assert!(std::time::Instant::now() < deadline, "operation {id} not done in time");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The fields of an Operation as the API reference names them.
const OPERATION_FIELDS: [&str; 9] = ["id", "description", "createdAt", "createdBy", "modifiedAt", "done", "metadata", "error", "response"];

fn assert_operation_shape(op: &Value) {
    let fields = op.as_object().expect("operation object");
    for key in fields.keys() {
        assert!(OPERATION_FIELDS.contains(&key.as_str()), "undocumented operation field {key}: {op:#}");
    }
    for key in ["id", "description", "createdAt", "modifiedAt", "done", "metadata"] {
        assert!(fields.contains_key(key), "operation lacks {key}: {op:#}");
    }
    assert!(op["createdAt"].as_str().unwrap().ends_with('Z'), "RFC 3339 UTC timestamps");
}

fn instance_body(name: &str, subnet_id: &str) -> String {
    json!({
        "folderId": FOLDER,
        "name": name,
        "zoneId": ZONE,
        "platformId": "standard-v3",
        "resourcesSpec": {"memory": "2147483648", "cores": "2"},
        "bootDiskSpec": {"autoDelete": true, "diskSpec": {"size": "10737418240", "imageId": "fd85u0rct32prepgjlv0"}},
        "networkInterfaceSpecs": [{"subnetId": subnet_id, "primaryV4AddressSpec": {}}]
    })
    .to_string()
}

/// The seed documents' flow over REST with curl: network, subnets, instance, stop,
/// `:attachNetworkInterface`, poll, `/addOneToOneNat`, poll, get — JSON checked field by field.
#[tokio::test]
async fn seed_flow_with_curl() {
    let server = Server::start("delay=20ms");
    let base = server.rest.clone();
    tokio::task::spawn_blocking(move || {
        let b = base.as_str();
        let net = curl_ok(b, "POST", "/vpc/v1/networks", Some(&json!({"folderId": FOLDER, "name": "seed-net"}).to_string()));
        assert_operation_shape(&net);
        assert_eq!(net["metadata"]["@type"], "type.googleapis.com/yandex.cloud.vpc.v1.CreateNetworkMetadata");
        let network_id = curl_wait(b, &net)["response"]["id"].as_str().unwrap().to_string();
        let subnet = |cidr: &str| {
            let body = json!({"folderId": FOLDER, "networkId": network_id, "zoneId": ZONE, "v4CidrBlocks": [cidr]}).to_string();
            let op = curl_ok(b, "POST", "/vpc/v1/subnets", Some(&body));
            curl_wait(b, &op)["response"]["id"].as_str().unwrap().to_string()
        };
        let (first, second) = (subnet("10.1.0.0/24"), subnet("10.2.0.0/24"));
        let group = json!({"folderId": FOLDER, "networkId": network_id, "name": "seed-sg"}).to_string();
        let group = curl_ok(b, "POST", "/vpc/v1/securityGroups", Some(&group));
        let group_id = curl_wait(b, &group)["response"]["id"].as_str().unwrap().to_string();
        let created = curl_ok(b, "POST", "/compute/v1/instances", Some(&instance_body("seed-vm", &first)));
        let instance = curl_wait(b, &created)["response"].clone();
        assert_eq!(instance["status"], "RUNNING");
        let id = instance["id"].as_str().unwrap().to_string();
        let stop = curl_ok(b, "POST", &format!("/compute/v1/instances/{id}:stop"), None);
        curl_wait(b, &stop);

        // 001: POST /compute/v1/instances/{instanceId}:attachNetworkInterface
        let attach = json!({
            "networkInterfaceIndex": "1",
            "subnetId": second,
            "primaryV4AddressSpec": {"address": "10.2.0.10"},
            "securityGroupIds": [group_id]
        });
        let op = curl_ok(b, "POST", &format!("/compute/v1/instances/{id}:attachNetworkInterface"), Some(&attach.to_string()));
        assert_operation_shape(&op);
        assert_eq!(op["done"], false);
        assert_eq!(
            op["metadata"],
            json!({"@type": "type.googleapis.com/yandex.cloud.compute.v1.AttachInstanceNetworkInterfaceMetadata", "instanceId": id, "networkInterfaceIndex": "1"})
        );
        let done = curl_wait(b, &op);
        assert_operation_shape(&done);
        assert_eq!(done["response"]["@type"], "type.googleapis.com/yandex.cloud.compute.v1.Instance");
        assert_eq!(done["response"]["networkInterfaces"][1]["subnetId"], second.as_str());

        // 000: POST /compute/v1/instances/{instanceId}/addOneToOneNat, with a reserved address.
        let reserve = json!({"folderId": FOLDER, "externalIpv4AddressSpec": {"zoneId": ZONE}}).to_string();
        let reserved = curl_wait(b, &curl_ok(b, "POST", "/vpc/v1/addresses", Some(&reserve)))["response"].clone();
        let public = reserved["externalIpv4Address"]["address"].as_str().expect("reserved address").to_string();
        let nat = json!({
            "networkInterfaceIndex": "1",
            "internalAddress": "10.2.0.10",
            "oneToOneNatSpec": {"ipVersion": "IPV4", "address": public}
        });
        let op = curl_ok(b, "POST", &format!("/compute/v1/instances/{id}/addOneToOneNat"), Some(&nat.to_string()));
        assert_eq!(op["metadata"]["@type"], "type.googleapis.com/yandex.cloud.compute.v1.AddInstanceOneToOneNatMetadata");
        assert_eq!(op["metadata"]["instanceId"], id.as_str());
        curl_wait(b, &op);

        let got = curl_ok(b, "GET", &format!("/compute/v1/instances/{id}"), None);
        assert_eq!(got["id"], id.as_str());
        assert_eq!(got["status"], "STOPPED");
        assert_eq!(got["folderId"], FOLDER);
        assert_eq!(got["zoneId"], ZONE);
        assert_eq!(got["resources"]["memory"], "2147483648", "int64 is a string");
        let nic = &got["networkInterfaces"][1];
        assert_eq!(nic["index"], "1");
        assert_eq!(nic["subnetId"], second.as_str());
        assert!(nic["macAddress"].as_str().is_some_and(|m| m.len() == 17), "{nic:#}");
        assert_eq!(nic["primaryV4Address"]["address"], "10.2.0.10");
        assert_eq!(nic["securityGroupIds"], json!([group_id]));
        assert_eq!(nic["primaryV4Address"]["oneToOneNat"], json!({"address": public, "ipVersion": "IPV4"}));
        assert_eq!(got["networkInterfaces"][0]["index"], "0");
        let used = curl_ok(b, "GET", &format!("/vpc/v1/addresses/{}", reserved["id"].as_str().unwrap()), None);
        assert_eq!(used["used"], true);
        let start = curl_ok(b, "POST", &format!("/compute/v1/instances/{id}:start"), None);
        assert_eq!(curl_wait(b, &start)["response"]["status"], "RUNNING");
    })
    .await
    .expect("seed flow");
}

/// At least one method of every served service, over REST.
#[tokio::test]
async fn every_service_answers_over_rest() {
    let server = Server::start("inline");
    let rest = Rest::new(&server);
    // NetworkService: create, get, update (field mask as a string), list its subnets.
    let network = rest.done(Method::POST, "/vpc/v1/networks", json!({"folderId": FOLDER, "name": "n1", "labels": {"team": "a"}})).await;
    let nid = network["id"].as_str().unwrap();
    assert_eq!(rest.ok(Method::GET, &format!("/vpc/v1/networks/{nid}"), None).await["labels"], json!({"team": "a"}));
    let renamed = rest.done(Method::PATCH, &format!("/vpc/v1/networks/{nid}"), json!({"updateMask": "name", "name": "n2"})).await;
    assert_eq!(renamed["name"], "n2");
    // SubnetService: create, list used addresses.
    let subnet = rest
        .done(
            Method::POST,
            "/vpc/v1/subnets",
            json!({"folderId": FOLDER, "networkId": nid, "zoneId": ZONE, "v4CidrBlocks": ["10.9.0.0/24"]}),
        )
        .await;
    let sid = subnet["id"].as_str().unwrap();
    let listed = rest.ok(Method::GET, &format!("/vpc/v1/networks/{nid}/subnets"), None).await;
    assert_eq!(listed["subnets"][0]["id"], sid);
    // InstanceService: create, list with a filter in the query, list its operations.
    let vm: Value = serde_json::from_str(&instance_body("vm-1", sid)).unwrap();
    let vm = rest.done(Method::POST, "/compute/v1/instances", vm).await;
    let filtered =
        rest.ok(Method::GET, &format!("/compute/v1/instances?folderId={FOLDER}&filter=name%3D%22vm-1%22&pageSize=10"), None).await;
    assert_eq!(filtered["instances"].as_array().map(Vec::len), Some(1));
    assert_eq!(filtered["instances"][0]["id"], vm["id"]);
    let none = rest.ok(Method::GET, &format!("/compute/v1/instances?folderId={FOLDER}&filter=name%3D%22other%22"), None).await;
    assert_eq!(none, json!({}), "an empty list is an empty object in the canonical mapping");
    let ops = rest.ok(Method::GET, &format!("/compute/v1/instances/{}/operations", vm["id"].as_str().unwrap()), None).await;
    assert_eq!(ops["operations"][0]["metadata"]["@type"], "type.googleapis.com/yandex.cloud.compute.v1.CreateInstanceMetadata");
    let used = rest.ok(Method::GET, &format!("/vpc/v1/subnets/{sid}/addresses"), None).await;
    assert_eq!(used["addresses"].as_array().map(Vec::len), Some(1), "{used:#}");
    // AddressService: reserve, then find by value through a query parameter.
    let address =
        rest.done(Method::POST, "/vpc/v1/addresses", json!({"folderId": FOLDER, "externalIpv4AddressSpec": {"zoneId": ZONE}})).await;
    let value = address["externalIpv4Address"]["address"].as_str().unwrap();
    let found = rest.ok(Method::GET, &format!("/vpc/v1/addresses:byValue?externalIpv4Address={value}"), None).await;
    assert_eq!((found["id"].clone(), found["reserved"].clone()), (address["id"].clone(), json!(true)));
    // SecurityGroupService: create with a rule (enum by name, int64 ports as numbers), get.
    let rule = json!({"direction": "INGRESS", "protocolName": "TCP", "ports": {"fromPort": 22, "toPort": 22}, "cidrBlocks": {"v4CidrBlocks": ["0.0.0.0/0"]}});
    let group = rest.done(Method::POST, "/vpc/v1/securityGroups", json!({"folderId": FOLDER, "networkId": nid, "ruleSpecs": [rule]})).await;
    let got = rest.ok(Method::GET, &format!("/vpc/v1/securityGroups/{}", group["id"].as_str().unwrap()), None).await;
    assert_eq!(got["rules"][0]["direction"], "INGRESS");
    assert_eq!(got["rules"][0]["ports"], json!({"fromPort": "22", "toPort": "22"}));
    // OperationService: cancelling a finished operation is refused with FAILED_PRECONDITION.
    let op = rest.ok(Method::POST, "/vpc/v1/networks", Some(json!({"folderId": FOLDER, "name": "n3"}))).await;
    let cancel = rest.send(Method::GET, &format!("/operations/{}:cancel", op["id"].as_str().unwrap()), None).await;
    assert_eq!((cancel.status, cancel.json["code"].clone()), (StatusCode::BAD_REQUEST, json!(9)), "{:#}", cancel.json);
}

/// A pending operation cancelled over REST ends done with a CANCELLED error.
#[tokio::test]
async fn operations_can_be_cancelled_over_rest() {
    let server = Server::start("polls=1000");
    let rest = Rest::new(&server);
    let op = rest.ok(Method::POST, "/vpc/v1/networks", Some(json!({"folderId": FOLDER, "name": "slow"}))).await;
    assert_eq!(op["done"], false);
    let cancelled = rest.ok(Method::GET, &format!("/operations/{}:cancel", op["id"].as_str().unwrap()), None).await;
    assert_eq!((cancelled["done"].clone(), cancelled["error"]["code"].clone()), (json!(true), json!(1)), "{cancelled:#}");
    assert!(rest.ok(Method::GET, &format!("/vpc/v1/networks?folderId={FOLDER}"), None).await.get("networks").is_none());
}

fn assert_error(reply: &Reply, status: StatusCode, code: i64) {
    assert_eq!(reply.status, status, "{:#}", reply.json);
    assert_eq!(reply.json["code"], code, "{:#}", reply.json);
    assert!(reply.json["message"].as_str().is_some_and(|m| !m.is_empty()), "{:#}", reply.json);
    assert_eq!(reply.headers["content-type"], "application/json");
    let request_id = reply.headers["x-request-id"].to_str().unwrap();
    assert!(!request_id.is_empty());
    let info = reply.json["details"].as_array().and_then(|d| d.iter().find(|d| d["@type"] == "type.googleapis.com/google.rpc.RequestInfo"));
    assert_eq!(info.map(|i| i["requestId"].clone()), Some(json!(request_id)), "{:#}", reply.json);
}

fn violation_fields(reply: &Reply) -> Vec<String> {
    let details = reply.json["details"].as_array().cloned().unwrap_or_default();
    let bad = details.iter().find(|d| d["@type"] == "type.googleapis.com/google.rpc.BadRequest").cloned().unwrap_or_default();
    bad["fieldViolations"].as_array().into_iter().flatten().map(|v| v["field"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn every_error_is_json_with_its_status() {
    let server = Server::start("inline");
    let rest = Rest::new(&server);
    let attach = "/compute/v1/instances/fhmnothing:attachNetworkInterface";

    // The service's own errors: NOT_FOUND carries the caller's request id back.
    let reply = rest.send_raw(Method::GET, "/compute/v1/instances/fhmnothing", &[("X-Request-Id", "req-42")], vec![]).await;
    assert_error(&reply, StatusCode::NOT_FOUND, 5);
    assert_eq!(reply.headers["x-request-id"], "req-42");
    assert!(reply.headers.contains_key("x-server-request-id") && reply.headers.contains_key("x-server-trace-id"));
    let reply = rest.send(Method::POST, "/vpc/v1/networks", Some(json!({"folderId": FOLDER, "name": "Bad Name!"}))).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 3);
    assert_eq!(violation_fields(&reply), vec!["name"]);
    let reply = rest
        .send(Method::POST, attach, Some(json!({"subnetId": "e9bnothing", "networkInterfaceIndex": "1", "securityGroupIds": ["enpsg"]})))
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, 5);

    // Transcoding errors: malformed JSON, unknown field, wrong type, each naming the field.
    let reply = rest.send_raw(Method::POST, attach, &[], b"{\"subnetId\": ".to_vec()).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 3);
    assert_eq!(violation_fields(&reply), vec!["body"]);
    let reply = rest.send(Method::POST, attach, Some(json!({"primaryV4AddressSpec": {"adress": "10.0.0.1"}}))).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 3);
    assert!(reply.json["message"].as_str().unwrap().contains("adress"), "{:#}", reply.json);
    let reply = rest.send(Method::POST, attach, Some(json!({"securityGroupIds": "sg1"}))).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 3);
    assert_eq!(violation_fields(&reply), vec!["securityGroupIds"]);
    let reply = rest.send(Method::GET, "/compute/v1/instances?pageSize=many", None).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, 3);
    assert_eq!(violation_fields(&reply), vec!["pageSize"]);

    // Routing errors: unknown path, wrong method (with Allow), oversized body.
    let reply = rest.send(Method::GET, "/compute/v2/instances", None).await;
    assert_error(&reply, StatusCode::NOT_FOUND, 5);
    let reply = rest.send(Method::PUT, "/compute/v1/instances/fhm1", None).await;
    assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, 12);
    assert_eq!(reply.headers["allow"], "GET, PATCH, DELETE");
    let reply = rest.send(Method::GET, attach, None).await;
    assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, 12);
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(netplane::api::body::MAX_MESSAGE_BYTES));
    let reply = rest.send_raw(Method::POST, "/vpc/v1/networks", &[], huge.into_bytes()).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, 8);

    // A method netplane does not implement: 501.
    let reply = rest.send(Method::POST, "/compute/v1/instances/fhm1:attachFilesystem", Some(json!({}))).await;
    assert_eq!((reply.status, reply.json["code"].clone()), (StatusCode::NOT_IMPLEMENTED, json!(12)), "{:#}", reply.json);
    assert!(reply.json["message"].as_str().unwrap().contains("AttachFilesystem"));

    // Nothing was created by any of it.
    assert_eq!(rest.ok(Method::GET, &format!("/vpc/v1/networks?folderId={FOLDER}"), None).await, json!({}));
}

/// gRPC-Web (as browsers and some proxies speak it) on the same port as gRPC and REST.
#[tokio::test]
async fn grpc_web_shares_the_port() {
    use netplane::proto::yandex::cloud::compute::v1 as cpb;
    use netplane::proto::yandex::cloud::vpc::v1 as vpb;
    let server = Server::start("inline");
    let rest = Rest::new(&server);
    rest.done(Method::POST, "/vpc/v1/networks", json!({"folderId": FOLDER, "name": "web"})).await;

    // A unary gRPC-Web call: its answer message, after checking the frames around it.
    let grpc_web = |path: &'static str, request: Vec<u8>| {
        let url = format!("{}{path}", server.rest);
        async move {
            let mut frame = vec![0u8];
            frame.extend_from_slice(&(request.len() as u32).to_be_bytes());
            frame.extend_from_slice(&request);
            let res = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/grpc-web+proto")
                .header("x-grpc-web", "1")
                .body(frame)
                .send()
                .await
                .expect("grpc-web call");
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()["content-type"], "application/grpc-web+proto");
            let body = res.bytes().await.unwrap();
            assert_eq!(body[0], 0, "a data frame first");
            let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
            let trailers = &body[5 + len..];
            assert_eq!(trailers[0], 0x80, "then the trailer frame");
            assert!(String::from_utf8_lossy(&trailers[5..]).contains("grpc-status:0"), "{:?}", String::from_utf8_lossy(trailers));
            body.slice(5..5 + len)
        }
    };
    let request = vpb::ListNetworksRequest { folder_id: FOLDER.into(), ..Default::default() }.encode_to_vec();
    let listed = vpb::ListNetworksResponse::decode(grpc_web("/yandex.cloud.vpc.v1.NetworkService/List", request).await)
        .expect("ListNetworksResponse");
    assert_eq!(listed.networks.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), vec!["web"]);

    // Instances are answered from their encodings made before (`api::grpc::encoded`): the same
    // frames, and the instance as gRPC answers it.
    let c = server.clients().await;
    let subnet = crate::fixtures::subnet(&c, &listed.networks[0].id, "10.1.0.0/24").await;
    let vm = crate::fixtures::instance(&c, crate::fixtures::create_instance("vm", vec![crate::fixtures::nic(&subnet.id)])).await;
    for _ in 0..2 {
        let request = cpb::GetInstanceRequest { instance_id: vm.id.clone(), ..Default::default() }.encode_to_vec();
        let got = cpb::Instance::decode(grpc_web("/yandex.cloud.compute.v1.InstanceService/Get", request).await).expect("Instance");
        assert_eq!(got, vm);
        let request = cpb::ListInstancesRequest { folder_id: FOLDER.into(), ..Default::default() }.encode_to_vec();
        let listed =
            cpb::ListInstancesResponse::decode(grpc_web("/yandex.cloud.compute.v1.InstanceService/List", request).await).expect("List");
        assert_eq!(listed.instances, std::slice::from_ref(&vm));
    }
}

/// `--rest-listen`: REST on its own address, gRPC alone on `--listen`.
#[tokio::test]
async fn rest_on_its_own_address() {
    let server = Server::start_split("inline");
    assert_ne!(server.rest, format!("http://{}", server.addr));
    let rest = Rest::new(&server);
    let network = rest.done(Method::POST, "/vpc/v1/networks", json!({"folderId": FOLDER, "name": "split"})).await;
    let c = server.clients().await;
    let got = c
        .networks
        .clone()
        .get(netplane::proto::yandex::cloud::vpc::v1::GetNetworkRequest { network_id: network["id"].as_str().unwrap().into() })
        .await
        .expect("gRPC on --listen")
        .into_inner();
    assert_eq!(got.name, "split");
    let on_grpc_port = reqwest::get(format!("http://{}/vpc/v1/networks?folderId={FOLDER}", server.addr)).await.expect("HTTP call");
    assert_ne!(on_grpc_port.status(), StatusCode::OK, "REST is not served on the gRPC address");
}
