//! Huawei tags (private NAT's tag API and VPC v2.0's), VPC v3 create, delete and secondary CIDRs,
//! and VPC v1 ports as DNAT backends, over HTTP as a client sends them.

use serde_json::{Value, json};

use crate::harness::Server;
use crate::hw::{Hw, PROJECT};

const OTHER_PROJECT: &str = "fedcba9876543210fedcba9876543210";

fn tag_keys(body: &Value) -> Vec<(String, String)> {
    body["tags"].as_array().unwrap().iter().map(|t| (t["key"].as_str().unwrap().into(), t["value"].as_str().unwrap().into())).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn nat_tags_are_added_replaced_deleted_listed_and_searched() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let t = hw.topology(6, 24).await;
    let gateways = format!("/v3/{PROJECT}/private-nat-gateways");
    let tags = format!("{gateways}/{}/tags", t.gateway_id);

    // Tags given at create time come back on the gateway and from the tag API.
    let tagged = hw
        .post(
            &hw.nat("gateways"),
            json!({"gateway": {"name": "tagged", "downlink_vpcs": [{"virsubnet_id": t.downlink_subnet_id}], "tags": [{"key": "env", "value": "prod"}]}}),
        )
        .await;
    tagged.expect(201, "");
    let tagged_id = tagged.id("gateway");
    assert_eq!(tag_keys(&tagged.body["gateway"]), pairs(&[("env", "prod")]));
    let shown = hw.get(&format!("{gateways}/{tagged_id}/tags")).await;
    shown.expect(200, "");
    assert_eq!(tag_keys(&shown.body), pairs(&[("env", "prod")]));
    assert!(shown.body["request_id"].is_string(), "{}", shown.body);

    // One tag at a time: an existing key is overwritten; a key with a slash, a space and a
    // non-ASCII letter is deleted by its percent-encoded form.
    hw.post(&tags, json!({"tag": {"key": "a b/ç", "value": "1"}})).await.expect(204, "");
    hw.post(&tags, json!({"tag": {"key": "a b/ç", "value": "2"}})).await.expect(204, "");
    assert_eq!(tag_keys(&hw.get(&tags).await.body), pairs(&[("a b/ç", "2")]));
    hw.delete(&format!("{tags}/a%20b%2F%C3%A7")).await.expect(204, "");
    hw.delete(&format!("{tags}/a%20b%2F%C3%A7")).await.expect(404, "NAT.1002");
    hw.post(&tags, json!({"tag": {"key": "", "value": "x"}})).await.expect(400, "NAT.1015");
    hw.post(&tags, json!({"tag": {"key": "k".repeat(129)}})).await.expect(400, "NAT.1015");
    hw.post(&tags, json!({"tag": {"key": "k", "value": "v".repeat(256)}})).await.expect(400, "NAT.1015");

    // Terraform's update: delete every old tag (a tag without a value is sent without `value`),
    // then create every new one.
    let action = format!("{tags}/action");
    hw.post(&action, json!({"action": "create", "tags": [{"key": "old", "value": "1"}, {"key": "bare", "value": ""}]}))
        .await
        .expect(204, "");
    hw.post(&action, json!({"action": "delete", "tags": [{"key": "old", "value": "1"}, {"key": "bare"}, {"key": "never-there"}]}))
        .await
        .expect(204, "");
    hw.post(&action, json!({"action": "create", "tags": [{"key": "env", "value": "dev"}, {"key": "team", "value": "net"}]}))
        .await
        .expect(204, "");
    assert_eq!(tag_keys(&hw.get(&tags).await.body), pairs(&[("env", "dev"), ("team", "net")]));

    // Refusals change nothing.
    hw.post(&action, json!({"action": "create", "tags": [{"key": "x", "value": "1"}, {"key": "x", "value": "2"}]}))
        .await
        .expect(400, "NAT.1015");
    let many: Vec<Value> = (0..19).map(|i| json!({"key": format!("k{i}"), "value": ""})).collect();
    hw.post(&action, json!({"action": "create", "tags": many})).await.expect(400, "NAT.1016");
    hw.post(&action, json!({"action": "replace", "tags": [{"key": "x"}]})).await.expect(400, "NAT.1015");
    hw.post(&action, json!({"action": "delete", "tags": [{"key": ""}]})).await.expect(400, "NAT.1015");
    assert_eq!(tag_keys(&hw.get(&tags).await.body), pairs(&[("env", "dev"), ("team", "net")]));

    // A key named "action" has its own path's DELETE.
    hw.post(&tags, json!({"tag": {"key": "action", "value": "x"}})).await.expect(204, "");
    hw.delete(&action).await.expect(204, "");
    assert_eq!(tag_keys(&hw.get(&tags).await.body).len(), 2);

    // The project's keys with their values.
    let project = hw.get(&format!("{gateways}/tags")).await;
    project.expect(200, "");
    assert_eq!(project.body["tags"], json!([{"key": "env", "values": ["dev", "prod"]}, {"key": "team", "values": ["net"]}]));

    // Search by tags: offset and limit are strings on private NAT.
    let search = format!("{gateways}/resource_instances/action");
    let found =
        hw.post(&search, json!({"action": "filter", "offset": "0", "limit": "10", "tags": [{"key": "env", "values": ["prod"]}]})).await;
    found.expect(200, "");
    assert_eq!(found.body["total_count"], 1);
    assert_eq!(found.body["resources"][0]["resource_id"], tagged_id.as_str());
    assert_eq!(found.body["resources"][0]["resource_name"], "tagged");
    assert_eq!(found.body["resources"][0]["tags"], json!([{"key": "env", "value": "prod"}]));
    let both = hw.post(&search, json!({"action": "filter", "tags": [{"key": "env", "values": []}]})).await;
    assert_eq!(both.body["total_count"], 2);
    let page = hw.post(&search, json!({"action": "filter", "offset": "1", "limit": "1", "tags": [{"key": "env", "values": []}]})).await;
    assert_eq!((page.body["total_count"].as_u64(), page.body["resources"].as_array().unwrap().len()), (Some(2), 1));
    let not = hw.post(&search, json!({"action": "count", "not_tags": [{"key": "team", "values": []}]})).await;
    assert_eq!(not.body, json!({"total_count": 1, "request_id": not.body["request_id"]}));
    let named = hw.post(&search, json!({"action": "count", "matches": [{"key": "resource_name", "value": "TAGG"}]})).await;
    assert_eq!(named.body["total_count"], 1);
    hw.post(&search, json!({"action": "filter", "limit": 10})).await.expect(400, "NAT.1015");
    hw.post(&search, json!({"action": "filter", "limit": "0"})).await.expect(400, "NAT.1015");
    hw.post(&search, json!({"action": "list"})).await.expect(400, "NAT.1015");

    // Transit IPs and transit subnets have the same API.
    let ip_tags = format!("/v3/{PROJECT}/transit-ips/{}/tags", t.transit_ip_id);
    hw.post(&format!("{ip_tags}/action"), json!({"action": "create", "tags": [{"key": "role", "value": "edge"}]})).await.expect(204, "");
    assert_eq!(
        tag_keys(&hw.get(&hw.nat(&format!("transit-ips/{}", t.transit_ip_id))).await.body["transit_ip"]),
        pairs(&[("role", "edge")])
    );
    let subnet_tags = format!("/v3/{PROJECT}/transit-subnets/{}/tags", t.transit_subnet_id);
    hw.post(&subnet_tags, json!({"tag": {"key": "role", "value": "transit"}})).await.expect(204, "");
    let by_role = hw
        .post(
            &format!("/v3/{PROJECT}/transit-subnets/resource_instances/action"),
            json!({"action": "count", "tags_any": [{"key": "role", "values": ["transit"]}]}),
        )
        .await;
    assert_eq!(by_role.body["total_count"], 1);

    // Another project's resources are missing; so are unknown ones.
    let other = Hw::new(&server.rest, OTHER_PROJECT, None);
    other.get(&format!("/v3/{OTHER_PROJECT}/private-nat-gateways/{}/tags", t.gateway_id)).await.expect(404, "NAT.1002");
    hw.get(&format!("{gateways}/5c9d1b4e-0000-4000-8000-000000000001/tags")).await.expect(404, "NAT.1002");
    assert_eq!(other.get(&format!("/v3/{OTHER_PROJECT}/private-nat-gateways/tags")).await.body["tags"], json!([]));
}

#[tokio::test]
async fn vpc_and_subnet_tags_use_the_v2_0_api_and_its_bounds() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    // VPC v1 create takes tags inline as "key*value".
    let vpc = hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "tagged", "cidr": "10.7.0.0/16", "tags": ["env*prod"]}})).await;
    vpc.expect(200, "");
    let vpc_id = vpc.id("vpc");
    let tags = format!("/v2.0/{PROJECT}/vpcs/{vpc_id}/tags");
    let shown = hw.get(&tags).await;
    shown.expect(200, "");
    assert_eq!(shown.body, json!({"tags": [{"key": "env", "value": "prod"}]}), "VPC bodies carry no request_id");
    hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "bad", "tags": ["no-star"]}})).await.expect(400, "VPC.1801");

    // Terraform's sequence after create, and the v3 view of the same tags.
    hw.post(&format!("{tags}/action"), json!({"action": "create", "tags": [{"key": "team", "value": "net"}]})).await.expect(204, "");
    let v3 = hw.get(&format!("/v3/{PROJECT}/vpc/vpcs/{vpc_id}")).await;
    assert_eq!(tag_keys(&v3.body["vpc"]), pairs(&[("env", "prod"), ("team", "net")]));

    // VPC's bounds: keys up to 36 characters, values up to 43; errors in VPC's shape.
    let long = hw.post(&tags, json!({"tag": {"key": "k".repeat(37), "value": ""}})).await;
    long.expect(400, "VPC.1801");
    assert!(long.body["message"].is_string(), "{}", long.body);
    hw.post(&tags, json!({"tag": {"key": "k", "value": "v".repeat(44)}})).await.expect(400, "VPC.1801");
    hw.delete(&format!("{tags}/nope")).await.expect(404, "VPC.0202");
    hw.delete(&format!("{tags}/team")).await.expect(204, "");

    // Subnets too.
    let subnet = hw
        .post(
            &hw.vpc("subnets"),
            json!({"subnet": {"name": "s", "cidr": "10.7.1.0/24", "gateway_ip": "10.7.1.1", "vpc_id": vpc_id, "tags": ["tier*web"]}}),
        )
        .await;
    subnet.expect(200, "");
    let subnet_tags = format!("/v2.0/{PROJECT}/subnets/{}/tags", subnet.id("subnet"));
    assert_eq!(tag_keys(&hw.get(&subnet_tags).await.body), pairs(&[("tier", "web")]));
    hw.post(&format!("{subnet_tags}/action"), json!({"action": "delete", "tags": [{"key": "tier", "value": "web"}]})).await.expect(204, "");
    assert_eq!(tag_keys(&hw.get(&subnet_tags).await.body), vec![]);

    // Search: offset and limit are integers on VPC; the project's keys.
    let search = format!("/v2.0/{PROJECT}/vpcs/resource_instances/action");
    let found = hw.post(&search, json!({"action": "filter", "offset": 0, "limit": 10, "tags": [{"key": "env", "values": ["prod"]}]})).await;
    found.expect(200, "");
    assert_eq!(found.body["total_count"], 1);
    assert_eq!(found.body["resources"][0]["resource_id"], vpc_id.as_str());
    hw.post(&search, json!({"action": "filter", "limit": "10"})).await.expect(400, "VPC.1801");
    let eleven: Vec<Value> = (0..11).map(|i| json!({"key": format!("k{i}"), "values": []})).collect();
    hw.post(&search, json!({"action": "count", "tags": eleven})).await.expect(400, "VPC.1801");
    assert_eq!(hw.get(&format!("/v2.0/{PROJECT}/vpcs/tags")).await.body, json!({"tags": [{"key": "env", "values": ["prod"]}]}));
}

#[tokio::test]
async fn vpc_v3_creates_deletes_and_changes_secondary_cidrs() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let vpcs = format!("/v3/{PROJECT}/vpc/vpcs");
    let body = json!({"vpc": {"name": "v3", "cidr": "10.8.0.0/16", "tags": [{"key": "env", "value": "prod"}]}});

    let mut dry = body.clone();
    dry["dry_run"] = json!(true);
    let checked = hw.post(&vpcs, dry).await;
    checked.expect(202, "SYS.0202");
    assert!(hw.get(&hw.vpc("vpcs")).await.body["vpcs"].as_array().unwrap().is_empty(), "a dry run creates nothing");
    hw.post(&vpcs, json!({"vpc": {"cidr": "8.8.0.0/16"}, "dry_run": true})).await.expect(400, "VPC.0101");

    let created = hw.post(&vpcs, body).await;
    created.expect(201, "");
    let id = created.id("vpc");
    assert_eq!(created.body["vpc"]["status"], "ACTIVE");
    assert_eq!(tag_keys(&created.body["vpc"]), pairs(&[("env", "prod")]));
    assert!(created.body["request_id"].is_string());
    hw.get(&hw.vpc(&format!("vpcs/{id}"))).await.expect(200, "");

    // Secondary CIDRs: added in one call, checked, seen by both views; subnets may use them.
    let add = format!("{vpcs}/{id}/add-extend-cidr");
    let remove = format!("{vpcs}/{id}/remove-extend-cidr");
    hw.put(&add, json!({"vpc": {"extend_cidrs": ["23.8.0.0/16"]}, "dry_run": true})).await.expect(202, "SYS.0202");
    assert_eq!(hw.get(&format!("{vpcs}/{id}")).await.body["vpc"]["extend_cidrs"], json!([]));
    let added = hw.put(&add, json!({"vpc": {"extend_cidrs": ["23.8.0.0/16", "10.9.0.0/16"]}})).await;
    added.expect(200, "");
    assert_eq!(added.body["vpc"]["extend_cidrs"], json!(["23.8.0.0/16", "10.9.0.0/16"]));
    hw.put(&add, json!({"vpc": {"extend_cidrs": ["23.8.128.0/17"]}})).await.expect(409, "VPC.9914");
    hw.put(&add, json!({"vpc": {"extend_cidrs": ["10.8.0.0/24"]}})).await.expect(409, "VPC.9914");
    hw.put(&add, json!({"vpc": {"extend_cidrs": ["100.64.0.0/16"]}})).await.expect(400, "VPC.9916");
    hw.put(&add, json!({"vpc": {"extend_cidrs": ["23.9.0.1/16"]}})).await.expect(400, "VPC.9911");
    hw.put(&add, json!({"vpc": {"extend_cidrs": ["30.0.0.0/16", "31.0.0.0/16", "32.0.0.0/16", "33.0.0.0/16"]}}))
        .await
        .expect(400, "VPC.9912");
    hw.put(&remove, json!({"vpc": {"extend_cidrs": ["50.0.0.0/16"]}})).await.expect(404, "VPC.9915");
    let subnet =
        hw.post(&hw.vpc("subnets"), json!({"subnet": {"name": "s", "cidr": "23.8.1.0/24", "gateway_ip": "23.8.1.1", "vpc_id": id}})).await;
    subnet.expect(200, "");
    hw.put(&remove, json!({"vpc": {"extend_cidrs": ["23.8.0.0/16"]}})).await.expect(400, "VPC.0117");
    assert_eq!(hw.get(&format!("{vpcs}/{id}")).await.body["vpc"]["extend_cidrs"], json!(["23.8.0.0/16", "10.9.0.0/16"]));

    // Delete: refused while subnets remain, then 204 and gone from both views.
    hw.delete(&format!("{vpcs}/{id}")).await.expect(409, "VPC.0104");
    hw.delete(&hw.vpc(&format!("vpcs/{id}/subnets/{}", subnet.id("subnet")))).await.expect(204, "");
    let removed = hw.put(&remove, json!({"vpc": {"extend_cidrs": ["23.8.0.0/16"]}})).await;
    removed.expect(200, "");
    assert_eq!(removed.body["vpc"]["extend_cidrs"], json!(["10.9.0.0/16"]));
    hw.delete(&format!("{vpcs}/{id}")).await.expect(204, "");
    hw.get(&format!("{vpcs}/{id}")).await.expect(404, "VPC.0003");
    hw.get(&hw.vpc(&format!("vpcs/{id}"))).await.expect(404, "VPC.0003");
}

#[tokio::test]
async fn ports_take_addresses_from_the_subnet_and_back_dnat_rules() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let t = hw.topology(9, 24).await;
    let subnet = hw.get(&hw.vpc(&format!("subnets/{}", t.downlink_subnet_id))).await.body["subnet"].clone();
    let gateway = hw.get(&hw.nat(&format!("gateways/{}", t.gateway_id))).await.body["gateway"].clone();

    // Create: the next free address (the gateway already has one), 201, Neutron's shape.
    let port = hw.port(&t.downlink_subnet_id, None).await;
    port.expect(201, "");
    let p = &port.body["port"];
    let address = p["fixed_ips"][0]["ip_address"].as_str().unwrap().to_string();
    assert_ne!(address, gateway["downlink_vpcs"][0]["ngport_ip_address"].as_str().unwrap());
    assert_eq!(p["fixed_ips"][0]["subnet_id"], subnet["neutron_subnet_id"]);
    assert_eq!(
        (p["network_id"].as_str(), p["status"].as_str(), p["device_owner"].as_str()),
        (Some(t.downlink_subnet_id.as_str()), Some("DOWN"), Some(""))
    );
    assert!(p["mac_address"].as_str().unwrap().starts_with("fa:16:3e:"), "{p}");
    let port_id = port.id("port");
    hw.get(&hw.vpc(&format!("ports/{port_id}"))).await.expect(200, "");

    // An address asked for; taken addresses, foreign Neutron subnets and owners are refused.
    let vip = hw
        .post(
            &hw.vpc("ports"),
            json!({"port": {"network_id": t.downlink_subnet_id, "device_owner": "neutron:VIP_PORT", "fixed_ips": [{"subnet_id": subnet["neutron_subnet_id"], "ip_address": "10.9.1.50"}]}}),
        )
        .await;
    vip.expect(201, "");
    assert_eq!(vip.body["port"]["fixed_ips"][0]["ip_address"], "10.9.1.50");
    assert_eq!(hw.port(&t.downlink_subnet_id, Some("10.9.1.50")).await.status, 409);
    hw.port(&t.downlink_subnet_id, Some("10.9.2.5")).await.expect(400, "VPC.0101");
    hw.post(&hw.vpc("ports"), json!({"port": {"network_id": t.downlink_subnet_id, "fixed_ips": [{"subnet_id": t.downlink_subnet_id}]}}))
        .await
        .expect(400, "VPC.0101");
    hw.post(&hw.vpc("ports"), json!({"port": {"network_id": t.downlink_subnet_id, "device_owner": "compute:az1"}}))
        .await
        .expect(400, "VPC.0101");
    hw.port("5c9d1b4e-0000-4000-8000-000000000001", None).await.expect(404, "VPC.0202");

    // List filters.
    let listed = |query: String| {
        let hw = hw.clone();
        async move { hw.get(&hw.vpc(&format!("ports?{query}"))).await.body["ports"].as_array().unwrap().len() }
    };
    assert_eq!(listed(format!("network_id={}", t.downlink_subnet_id)).await, 2);
    assert_eq!(listed("fixed_ips=ip_address%3D10.9.1.50".into()).await, 1);
    assert_eq!(listed("device_owner=neutron:VIP_PORT".into()).await, 1);

    // A DNAT rule names a port: its address and type come from the port.
    let rule = hw.dnat(&t, &t.transit_ip_id, json!({"network_interface_id": port_id})).await;
    rule.expect(201, "");
    let r = &rule.body["dnat_rule"];
    assert_eq!(
        (r["private_ip_address"].as_str(), r["type"].as_str(), r["network_interface_id"].as_str()),
        (Some(address.as_str()), Some("COMPUTE"), Some(port_id.as_str()))
    );
    let second_ip = hw.transit_ip(&t, None).await.id("transit_ip");
    let to_vip = hw.dnat(&t, &second_ip, json!({"network_interface_id": vip.id("port")})).await;
    to_vip.expect(201, "");
    assert_eq!(
        (to_vip.body["dnat_rule"]["type"].as_str(), to_vip.body["dnat_rule"]["private_ip_address"].as_str()),
        (Some("VIP"), Some("10.9.1.50"))
    );
    let third_ip = hw.transit_ip(&t, None).await.id("transit_ip");
    hw.dnat(&t, &third_ip, json!({"network_interface_id": "5c9d1b4e-0000-4000-8000-000000000001"})).await.expect(404, "NAT.1002");
    // A port of another VPC.
    let elsewhere = hw.topology(10, 24).await;
    let far = hw.port(&elsewhere.downlink_subnet_id, None).await.id("port");
    hw.dnat(&t, &third_ip, json!({"network_interface_id": far})).await.expect(409, "NAT.1304");

    // A port a rule forwards to stays; so does its subnet while the port lives.
    hw.delete(&hw.vpc(&format!("ports/{port_id}"))).await.expect(400, "VPC.0101");
    hw.get(&hw.vpc(&format!("ports/{port_id}"))).await.expect(200, "");
    hw.delete(&hw.nat(&format!("dnat-rules/{}", rule.id("dnat_rule")))).await.expect(204, "");
    hw.delete(&hw.vpc(&format!("ports/{port_id}"))).await.expect(204, "");
    hw.get(&hw.vpc(&format!("ports/{port_id}"))).await.expect(404, "VPC.0202");
    // Its address is free again: the next port takes it.
    let again = hw.port(&t.downlink_subnet_id, None).await;
    assert_eq!(again.body["port"]["fixed_ips"][0]["ip_address"].as_str(), Some(address.as_str()));
    hw.delete(&hw.vpc(&format!("ports/{far}"))).await.expect(204, "");
    assert_eq!(
        hw.delete(&hw.vpc(&format!("vpcs/{}/subnets/{}", elsewhere.vpc_id, elsewhere.downlink_subnet_id))).await.status,
        409,
        "the NAT gateway still holds an address"
    );
}
