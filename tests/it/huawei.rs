//! Huawei private NAT v3 and VPC v1 over HTTP: the seed request with `X-Auth-Token` against a rule
//! netplane created (and after a restart), a round trip through every endpoint, Huawei's error
//! shapes, authentication (tokens, AK/SK, projects, development mode), and the official
//! `huaweicloudsdknat`/`huaweicloudsdkvpc` SDKs running the whole lifecycle.

use serde_json::{Value, json};

use crate::harness::{Server, data_dir, run_python, sqlite_store};
use crate::hw::{Hw, PROJECT, tcp};

const OTHER_PROJECT: &str = "fedcba9876543210fedcba9876543210";

const PRINCIPALS: &str = r#"{"principals": [
    {"subject": "alice", "projects": ["0123456789abcdef0123456789abcdef"], "auth_tokens": ["hw-alice"],
     "access_keys": [{"access_key": "AKALICE", "secret_key": "SKALICE"}]},
    {"subject": "bob", "projects": ["fedcba9876543210fedcba9876543210"], "auth_tokens": ["hw-bob"]}
]}"#;

fn server_with_principals(store: Option<&str>) -> Server {
    let dir = data_dir();
    let file = dir.path().join("principals.json");
    std::fs::write(&file, PRINCIPALS).unwrap();
    let store = store.map(String::from).unwrap_or_else(|| sqlite_store(&dir));
    Server::start_with_args(dir.clone(), &store, "inline", &["--principals", file.to_str().unwrap()])
}

/// The seed's `PrivateDnat` fields, in the seed's order.
const SEED_FIELDS: [&str; 15] = [
    "id",
    "project_id",
    "description",
    "gateway_id",
    "transit_ip_id",
    "enterprise_project_id",
    "network_interface_id",
    "type",
    "protocol",
    "internal_service_port",
    "transit_service_port",
    "private_ip_address",
    "created_at",
    "updated_at",
    "status",
];

fn is_huawei_time(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 19 && s.as_bytes()[10] == b'T' && humantime::parse_rfc3339(&format!("{s}Z")).is_ok()
}

#[tokio::test]
async fn the_seed_request_shows_a_rule_netplane_created_also_after_a_restart() {
    let dir = data_dir();
    let file = dir.path().join("principals.json");
    std::fs::write(&file, PRINCIPALS).unwrap();
    let args = ["--principals", file.to_str().unwrap()];
    let server = Server::start_with_args(dir.clone(), &sqlite_store(&dir), "inline", &args);
    let hw = Hw::new(&server.rest, PROJECT, Some("hw-alice"));
    let t = hw.topology(1, 24).await;
    let created = hw.dnat(&t, &t.transit_ip_id, json!({"description": "aa", "private_ip_address": "10.1.1.72"})).await;
    created.expect(201, "");
    let id = created.id("dnat_rule");

    // GET /v3/{project_id}/private-nat/dnat-rules/{dnat_rule_id} with X-Auth-Token, as in the seed.
    let shown = hw.get(&hw.nat(&format!("dnat-rules/{id}"))).await;
    shown.expect(200, "");
    let keys: Vec<&str> = shown.body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["dnat_rule", "request_id"]);
    assert_eq!(shown.body["request_id"], shown.request_id, "the body's request_id is the X-Request-Id header");
    assert!(shown.request_id.len() == 32 && shown.request_id.chars().all(|c| c.is_ascii_hexdigit()), "{}", shown.request_id);
    let rule = shown.body["dnat_rule"].as_object().unwrap();
    assert_eq!(rule.keys().map(String::as_str).collect::<Vec<_>>(), SEED_FIELDS);
    assert!(rule.values().all(Value::is_string), "every field is a string, ports included: {rule:?}");
    let field = |k: &str| rule[k].as_str().unwrap().to_string();
    assert_eq!(
        [field("id"), field("project_id"), field("description"), field("gateway_id"), field("transit_ip_id")],
        [id.clone(), PROJECT.to_string(), "aa".into(), t.gateway_id.clone(), t.transit_ip_id.clone()]
    );
    assert_eq!(
        [field("type"), field("protocol"), field("internal_service_port"), field("transit_service_port")],
        ["CUSTOMIZE", "any", "0", "0"]
    );
    assert_eq!((field("private_ip_address"), field("status")), ("10.1.1.72".into(), "ACTIVE".into()));
    assert!(is_huawei_time(&rule["created_at"]) && is_huawei_time(&rule["updated_at"]), "{rule:?}");

    server.crash().await;
    let server = Server::start_with_args(dir.clone(), &sqlite_store(&dir), "inline", &args);
    let hw = Hw::new(&server.rest, PROJECT, Some("hw-alice"));
    let again = hw.get(&hw.nat(&format!("dnat-rules/{id}"))).await;
    assert_eq!(again.body["dnat_rule"], shown.body["dnat_rule"], "the acknowledged rule survives a crash");
    let taken = hw.dnat(&t, &t.transit_ip_id, json!({"private_ip_address": "10.1.1.73"})).await;
    taken.expect(409, "NAT.1305");
}

#[tokio::test]
async fn every_endpoint_round_trips() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let t = hw.topology(2, 24).await;

    // VPC v1: show and list.
    hw.get(&hw.vpc(&format!("vpcs/{}", t.vpc_id))).await.expect(200, "");
    let vpcs = hw.get(&hw.vpc("vpcs")).await;
    assert_eq!(vpcs.body["vpcs"].as_array().unwrap().len(), 1);
    assert!(vpcs.body.get("request_id").is_none(), "VPC v1 bodies carry no request_id");
    let subnet = hw.get(&hw.vpc(&format!("subnets/{}", t.downlink_subnet_id))).await;
    assert_eq!(
        (subnet.body["subnet"]["cidr"].as_str(), subnet.body["subnet"]["gateway_ip"].as_str()),
        (Some("10.2.1.0/24"), Some("10.2.1.1"))
    );
    let in_vpc = hw.get(&format!("{}?vpc_id={}", hw.vpc("subnets"), t.vpc_id)).await;
    assert_eq!(in_vpc.body["subnets"].as_array().unwrap().len(), 2);

    // Gateways.
    let gateway = hw.get(&hw.nat(&format!("gateways/{}", t.gateway_id))).await;
    gateway.expect(200, "");
    assert_eq!(
        gateway.body["gateway"]["downlink_vpcs"][0]["ngport_ip_address"], "10.2.1.3",
        "the lowest free address of the downlink subnet"
    );
    assert_eq!(gateway.body["gateway"]["downlink_vpcs"][0]["vpc_id"], json!(t.vpc_id));
    let renamed = hw.put(&hw.nat(&format!("gateways/{}", t.gateway_id)), json!({"gateway": {"name": "renamed", "spec": "Medium"}})).await;
    renamed.expect(200, "");
    assert_eq!((renamed.body["gateway"]["name"].as_str(), renamed.body["gateway"]["rule_max"].as_u64()), (Some("renamed"), Some(50)));
    let gateways = hw.get(&format!("{}?name=renamed", hw.nat("gateways"))).await;
    assert_eq!(gateways.body["page_info"]["current_count"], 1);

    // Transit subnets.
    let ts = hw.get(&hw.nat(&format!("transit-subnets/{}", t.transit_subnet_id))).await;
    assert_eq!(
        (ts.body["transit_subnet"]["cidr"].as_str(), ts.body["transit_subnet"]["ip_count"].as_u64()),
        (Some("10.2.2.0/24"), Some(1))
    );
    let updated =
        hw.put(&hw.nat(&format!("transit-subnets/{}", t.transit_subnet_id)), json!({"transit_subnet": {"description": "d"}})).await;
    assert_eq!(updated.body["transit_subnet"]["description"], "d");
    let listed = hw.get(&format!("{}?virsubnet_id={}", hw.nat("transit-subnets"), t.transit_vpc_subnet_id)).await;
    assert_eq!(listed.body["transit_subnets"].as_array().unwrap().len(), 1);

    // Transit IPs (no update).
    let ip = hw.get(&hw.nat(&format!("transit-ips/{}", t.transit_ip_id))).await;
    assert_eq!(ip.body["transit_ip"]["ip_address"], "10.2.2.3");
    hw.put(&hw.nat(&format!("transit-ips/{}", t.transit_ip_id)), json!({})).await.expect(404, "APIGW.0101");
    let ips = hw.get(&format!("{}?transit_subnet_id={}", hw.nat("transit-ips"), t.transit_subnet_id)).await;
    assert_eq!(ips.body["transit_ips"].as_array().unwrap().len(), 1);

    // DNAT rules.
    let rule = hw.dnat(&t, &t.transit_ip_id, tcp("10.2.1.10", 80, 8080)).await;
    rule.expect(201, "");
    let id = rule.id("dnat_rule");
    let bound = hw.get(&hw.nat(&format!("transit-ips/{}", t.transit_ip_id))).await;
    assert_eq!(bound.body["transit_ip"]["gateway_id"], json!(t.gateway_id), "a transit IP joins the gateway of its rules");
    let moved =
        hw.put(&hw.nat(&format!("dnat-rules/{id}")), json!({"dnat_rule": {"transit_service_port": "9090", "description": "moved"}})).await;
    moved.expect(200, "");
    assert_eq!(
        (moved.body["dnat_rule"]["transit_service_port"].as_str(), moved.body["dnat_rule"]["internal_service_port"].as_str()),
        (Some("9090"), Some("80"))
    );
    let rules = hw.get(&hw.nat("dnat-rules")).await;
    assert_eq!(rules.body["dnat_rules"][0]["description"], "moved");

    // No SNAT rules yet: an empty list.
    assert_eq!(hw.get(&hw.nat("snat-rules")).await.body["snat_rules"], json!([]));

    // Deletes answer 204 without a body, in dependency order.
    for path in [
        hw.nat(&format!("dnat-rules/{id}")),
        hw.nat(&format!("transit-ips/{}", t.transit_ip_id)),
        hw.nat(&format!("transit-subnets/{}", t.transit_subnet_id)),
        hw.nat(&format!("gateways/{}", t.gateway_id)),
        hw.vpc(&format!("vpcs/{}/subnets/{}", t.vpc_id, t.downlink_subnet_id)),
        hw.vpc(&format!("vpcs/{}/subnets/{}", t.vpc_id, t.transit_vpc_subnet_id)),
        hw.vpc(&format!("vpcs/{}", t.vpc_id)),
    ] {
        let deleted = hw.delete(&path).await;
        assert_eq!((deleted.status, &deleted.body), (204, &Value::Null), "{path}");
    }
    hw.get(&hw.vpc(&format!("vpcs/{}", t.vpc_id))).await.expect(404, "VPC.0003");
    let gone = hw.get(&hw.nat(&format!("dnat-rules/{id}"))).await;
    gone.expect(404, "NAT.1002");
    assert_eq!(gone.body["error_msg"], format!("DnatRule {id} could not be found."));
}

#[tokio::test]
async fn errors_have_huaweis_shape_and_request_ids() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let malformed =
        hw.raw(reqwest::Method::POST, &hw.nat("dnat-rules"), Some("{\"dnat_rule\": ".into()), &[("x-request-id", "my-request-1")]).await;
    malformed.expect(400, "NAT.1010");
    assert_eq!((malformed.request_id.as_str(), malformed.body["request_id"].as_str()), ("my-request-1", Some("my-request-1")));
    let keys: Vec<&String> = malformed.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error_code", "error_msg", "request_id"]);
    let wrong_type = hw.post(&hw.nat("dnat-rules"), json!({"dnat_rule": {"internal_service_port": 80}})).await;
    wrong_type.expect(400, "NAT.0002");
    assert!(wrong_type.body["error_msg"].as_str().unwrap().contains("dnat_rule.internal_service_port"), "{}", wrong_type.body);
    hw.post(&hw.nat("dnat-rules"), json!({"dnat_rule": {"colour": "red"}})).await.expect(400, "NAT.0002");
    hw.get(&format!("/v3/{PROJECT}/private-nat/nothing-here")).await.expect(404, "APIGW.0101");
    // Huawei paths netplane does not route are refused in Huawei's shape too, not Yandex's.
    hw.get(&format!("/v2.0/{PROJECT}/networks/5c9d1b4e-0000-4000-8000-000000000001")).await.expect(404, "APIGW.0101");
    let vpc_error = hw.post(&hw.vpc("vpcs"), json!({"vpc": {"cidr": "8.8.8.0/24"}})).await;
    vpc_error.expect(400, "VPC.0101");
    assert!(vpc_error.body["message"].as_str().unwrap().contains("vpc.cidr"));
    let too_large = hw.raw(reqwest::Method::POST, &hw.nat("gateways"), Some("x".repeat(5 * 1024 * 1024)), &[]).await;
    too_large.expect(413, "APIGW.0201");
    assert!(hw.get(&hw.nat("gateways")).await.body["gateways"].as_array().unwrap().is_empty(), "nothing was created");
}

#[tokio::test]
async fn credentials_map_to_projects_and_other_projects_see_nothing() {
    let server = server_with_principals(Some("memory"));
    let alice = Hw::new(&server.rest, PROJECT, Some("hw-alice"));
    let vpc = alice.post(&alice.vpc("vpcs"), json!({"vpc": {"name": "a", "cidr": "10.9.0.0/16"}})).await;
    vpc.expect(200, "");
    let vpc_id = vpc.id("vpc");

    let anonymous = Hw::new(&server.rest, PROJECT, None);
    anonymous.get(&anonymous.vpc("vpcs")).await.expect(401, "APIGW.0301");
    anonymous.get(&anonymous.nat("dnat-rules")).await.expect(401, "APIGW.0301");
    Hw::new(&server.rest, PROJECT, Some("forged")).get(&alice.nat("gateways")).await.expect(401, "APIGW.0301");

    // Bob's token is valid, but for his own project only.
    let bob_in_alices = Hw::new(&server.rest, PROJECT, Some("hw-bob"));
    bob_in_alices.get(&bob_in_alices.vpc(&format!("vpcs/{vpc_id}"))).await.expect(403, "APIGW.0302");
    bob_in_alices.delete(&bob_in_alices.vpc(&format!("vpcs/{vpc_id}"))).await.expect(403, "APIGW.0302");
    let bob = Hw::new(&server.rest, OTHER_PROJECT, Some("hw-bob"));
    bob.get(&bob.vpc(&format!("vpcs/{vpc_id}"))).await.expect(404, "VPC.0003");
    assert!(bob.get(&bob.vpc("vpcs")).await.body["vpcs"].as_array().unwrap().is_empty());
    alice.get(&alice.vpc(&format!("vpcs/{vpc_id}"))).await.expect(200, "");

    // AK/SK, signed as the SDK signs: accepted; any change after signing is refused.
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let date = now.replace(['-', ':'], "");
    let path = alice.vpc(&format!("vpcs/{vpc_id}"));
    let host = server.rest.trim_start_matches("http://").to_string();
    let signed = |method: &str, path: &str, body: &str, date: &str, project: &str| {
        let headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("host".to_string(), host.clone()),
            ("x-project-id".to_string(), project.to_string()),
            ("x-sdk-date".to_string(), date.to_string()),
        ];
        let names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
        let request = netplane::domain::aksk::Request { method, path, query: "", headers: &headers, body: body.as_bytes() };
        let signature = netplane::domain::aksk::sign("SKALICE", &request, &names, date).unwrap();
        format!("SDK-HMAC-SHA256 Access=AKALICE, SignedHeaders={}, Signature={signature}", names.join(";"))
    };
    let keyed = Hw::new(&server.rest, PROJECT, None);
    let call = |method: reqwest::Method, path: String, body: &'static str, authorization: String, date: String, project: &'static str| {
        let keyed = &keyed;
        async move {
            let headers = [("authorization", authorization.as_str()), ("x-sdk-date", date.as_str()), ("x-project-id", project)];
            keyed.raw(method, &path, (!body.is_empty()).then(|| body.to_string()), &headers).await
        }
    };
    call(reqwest::Method::GET, path.clone(), "", signed("GET", &path, "", &date, PROJECT), date.clone(), PROJECT).await.expect(200, "");
    let create = alice.vpc("vpcs");
    let body = r#"{"vpc": {"name": "signed"}}"#;
    call(reqwest::Method::POST, create.clone(), body, signed("POST", &create, body, &date, PROJECT), date.clone(), PROJECT)
        .await
        .expect(200, "");
    let tampered = call(
        reqwest::Method::POST,
        create.clone(),
        r#"{"vpc": {"name": "tampered"}}"#,
        signed("POST", &create, body, &date, PROJECT),
        date.clone(),
        PROJECT,
    )
    .await;
    tampered.expect(401, "APIGW.0301");
    assert!(tampered.body["message"].as_str().unwrap().contains("verify aksk signature fail"), "{}", tampered.body);
    // A signature that does not sign the host, which the SDKs always sign.
    let hostless = signed("GET", &path, "", &date, PROJECT).replace("host;", "");
    let refused = call(reqwest::Method::GET, path.clone(), "", hostless, date.clone(), PROJECT).await;
    refused.expect(401, "APIGW.0301");
    assert!(refused.body["message"].as_str().unwrap().contains("host"), "{}", refused.body);
    let stale = "20200101T000000Z".to_string();
    call(reqwest::Method::GET, path.clone(), "", signed("GET", &path, "", &stale, PROJECT), stale, PROJECT).await.expect(401, "APIGW.0301");
    let mismatch =
        call(reqwest::Method::GET, path.clone(), "", signed("GET", &path, "", &date, OTHER_PROJECT), date.clone(), OTHER_PROJECT).await;
    mismatch.expect(401, "APIGW.0301");
    let names: Vec<String> = alice.get(&alice.vpc("vpcs")).await.body["vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 2, "the tampered create did not happen: {names:?}");
    assert!(names.contains(&"signed".to_string()) && !names.contains(&"tampered".to_string()));
}

#[tokio::test]
async fn development_mode_accepts_every_caller_and_says_so() {
    let server = Server::start("inline");
    assert!(server.logged("development mode"), "the log says the server is open");
    // Any credential, any project of Huawei's form.
    let hw = Hw::new(&server.rest, "00000000000000000000000000000abc", Some("whatever"));
    hw.get(&hw.nat("gateways")).await.expect(200, "");
    // A path Huawei would not route is refused in its dialect, whoever asks: a project id not of
    // Huawei's form, or a segment that is not UTF-8 (which would otherwise collapse into U+FFFD).
    let not_a_project = Hw::new(&server.rest, "any-project", Some("whatever"));
    not_a_project.get(&not_a_project.nat("gateways")).await.expect(400, "NAT.0002");
    not_a_project.get(&not_a_project.vpc("vpcs")).await.expect(400, "VPC.0101");
    for undecodable in [hw.nat("gateways/%ff"), hw.nat("dnat-rules/%c3%28"), "/v1/%ff/vpcs".to_string()] {
        let answer = hw.get(&undecodable).await;
        assert_eq!(answer.status, 400, "{undecodable}: {:?}", answer.body);
        assert!(answer.code().starts_with("NAT.") || answer.code().starts_with("VPC."), "{undecodable}: {:?}", answer.body);
    }
}

#[tokio::test]
async fn official_huawei_sdks_run_the_whole_lifecycle() {
    let server = server_with_principals(None);
    let shown = run_python("huawei_sdk_flow.py", &[&server.rest, PROJECT, "AKALICE", "SKALICE"]);
    let rule: Value = serde_json::from_str(shown.trim()).expect("the script prints the shown rule");
    assert_eq!(
        (rule["protocol"].as_str(), rule["transit_service_port"].as_str(), rule["project_id"].as_str()),
        (Some("tcp"), Some("8080"), Some(PROJECT))
    );
}

#[tokio::test]
async fn official_huawei_sdks_drive_tags_vpc_v3_and_ports() {
    let server = server_with_principals(None);
    assert_eq!(run_python("huawei_tags_ports_flow.py", &[&server.rest, PROJECT, "AKALICE", "SKALICE"]).trim(), "ok");
}

#[tokio::test]
async fn official_huawei_sdks_run_the_terraform_providers_sequences() {
    let server = server_with_principals(None);
    assert_eq!(run_python("huawei_terraform_sequences.py", &[&server.rest, PROJECT, "AKALICE", "SKALICE"]).trim(), "ok");
}
