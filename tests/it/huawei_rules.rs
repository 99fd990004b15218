//! The rules of the private NAT API over HTTP: DNAT field rules and the conflicts between rules
//! (also when created at once), frozen gateways, what may not be deleted while in use, addresses
//! from the subnet allocator, VPC v1 validation, and list paging and filters.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::harness::{Server, data_dir, sqlite_store};
use crate::hw::{Hw, PROJECT, tcp};

#[tokio::test]
async fn dnat_rules_enforce_the_api_rules_and_refusals_change_nothing() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let t = hw.topology(3, 24).await;
    let tip = t.transit_ip_id.clone();
    let nic = "dae9393a-b536-491c-a5a2-72edc1104707";

    // Field rules.
    hw.dnat(&t, &tip, json!({"private_ip_address": "10.3.1.5", "network_interface_id": nic})).await.expect(400, "NAT.1311");
    hw.dnat(&t, &tip, json!({})).await.expect(400, "NAT.1311");
    hw.dnat(&t, &tip, json!({"private_ip_address": "10.3.1.5", "protocol": "any", "transit_service_port": "80"}))
        .await
        .expect(400, "NAT.1306");
    hw.dnat(&t, &tip, tcp("10.3.1.5", 0, 80)).await.expect(400, "NAT.0002");
    hw.dnat(
        &t,
        &tip,
        json!({"private_ip_address": "10.3.1.5", "protocol": "tcp", "internal_service_port": "80", "transit_service_port": "65536"}),
    )
    .await
    .expect(400, "NAT.0002");
    hw.dnat(&t, &tip, json!({"private_ip_address": "10.3.1.5", "protocol": "icmp"})).await.expect(400, "NAT.0002");
    hw.dnat(&t, &tip, json!({"private_ip_address": "10.3.1.5", "description": "x".repeat(256)})).await.expect(400, "NAT.0002");
    hw.dnat(&t, &tip, json!({"private_ip_address": "10.3.1.5", "description": "<script>"})).await.expect(400, "NAT.0002");
    hw.dnat(&t, &tip, json!({"private_ip_address": "10.3.1.500"})).await.expect(400, "NAT.0002");
    hw.post(&hw.nat("dnat-rules"), json!({"dnat_rule": {"gateway_id": t.gateway_id, "private_ip_address": "10.3.1.5"}}))
        .await
        .expect(400, "NAT.0002");
    hw.post(&hw.nat("dnat-rules"), json!({"dnat_rule": {"transit_ip_id": tip, "private_ip_address": "10.3.1.5"}}))
        .await
        .expect(400, "NAT.0002");
    hw.dnat(&t, "5c9d1b4e-0000-4000-8000-000000000001", json!({"private_ip_address": "10.3.1.5"})).await.expect(404, "NAT.1002");
    let missing_gateway = json!({"dnat_rule": {"gateway_id": "5c9d1b4e-0000-4000-8000-000000000002", "transit_ip_id": tip, "private_ip_address": "10.3.1.5"}});
    hw.post(&hw.nat("dnat-rules"), missing_gateway).await.expect(404, "NAT.1002");
    assert_eq!(hw.get(&hw.nat("dnat-rules")).await.body["page_info"]["current_count"], 0, "no refused rule was created");

    // Ports per protocol: tcp and udp share a port number; one rule per protocol and port.
    let web = hw.dnat(&t, &tip, tcp("10.3.1.5", 80, 80)).await;
    web.expect(201, "");
    hw.dnat(
        &t,
        &tip,
        json!({"private_ip_address": "10.3.1.6", "protocol": "udp", "internal_service_port": "80", "transit_service_port": "80"}),
    )
    .await
    .expect(201, "");
    hw.dnat(&t, &tip, tcp("10.3.1.7", 80, 80)).await.expect(409, "NAT.1309");
    hw.dnat(&t, &tip, tcp("10.3.1.5", 80, 81)).await.expect(409, "NAT.1307");
    hw.dnat(&t, &tip, json!({"private_ip_address": "10.3.1.8"})).await.expect(409, "NAT.1305");

    // A whole-IP rule on a second transit IP keeps tcp/udp rules off it.
    let second = hw.transit_ip(&t, None).await;
    let tip2 = second.id("transit_ip");
    let port = hw.port(&t.downlink_subnet_id, None).await;
    port.expect(201, "");
    hw.dnat(&t, &tip2, json!({"network_interface_id": port.id("port")})).await.expect(201, "");
    hw.dnat(&t, &tip2, tcp("10.3.1.9", 22, 22)).await.expect(409, "NAT.1310");

    // An update into a conflict is refused and leaves the rule as it was.
    let web_id = web.id("dnat_rule");
    let before = hw.get(&hw.nat(&format!("dnat-rules/{web_id}"))).await.body;
    hw.put(&hw.nat(&format!("dnat-rules/{web_id}")), json!({"dnat_rule": {"transit_ip_id": tip2}})).await.expect(409, "NAT.1310");
    hw.put(&hw.nat(&format!("dnat-rules/{web_id}")), json!({"dnat_rule": {"protocol": "any"}})).await.expect(400, "NAT.1306");
    hw.put(&hw.nat(&format!("dnat-rules/{web_id}")), json!({"dnat_rule": {"gateway_id": tip2}})).await.expect(400, "NAT.0002");
    assert_eq!(hw.get(&hw.nat(&format!("dnat-rules/{web_id}"))).await.body["dnat_rule"], before["dnat_rule"]);
    hw.dnat(&t, &tip, tcp("10.3.1.7", 80, 80)).await.expect(409, "NAT.1309");

    // In use: a gateway with rules, a transit IP with rules, a transit subnet with IPs, subnets with addresses.
    hw.delete(&hw.nat(&format!("gateways/{}", t.gateway_id))).await.expect(400, "NAT.1202");
    hw.delete(&hw.nat(&format!("transit-ips/{tip}"))).await.expect(409, "NAT.1409");
    hw.delete(&hw.nat(&format!("transit-subnets/{}", t.transit_subnet_id))).await.expect(400, "NAT.0002");
    hw.delete(&hw.vpc(&format!("vpcs/{}/subnets/{}", t.vpc_id, t.downlink_subnet_id))).await.expect(409, "VPC.0206");
    hw.delete(&hw.vpc(&format!("vpcs/{}", t.vpc_id))).await.expect(409, "VPC.0104");

    // A transit IP serves one gateway: another gateway's rule is refused.
    let other = hw
        .post(&hw.nat("gateways"), json!({"gateway": {"name": "other", "downlink_vpcs": [{"virsubnet_id": t.downlink_subnet_id}]}}))
        .await;
    let other_gateway = other.id("gateway");
    let foreign = json!({"dnat_rule": {"gateway_id": other_gateway, "transit_ip_id": tip, "private_ip_address": "10.3.1.20", "protocol": "tcp", "internal_service_port": "443", "transit_service_port": "443"}});
    hw.post(&hw.nat("dnat-rules"), foreign).await.expect(409, "NAT.1305");

    // Deleting a rule frees its port.
    hw.delete(&hw.nat(&format!("dnat-rules/{web_id}"))).await;
    hw.dnat(&t, &tip, tcp("10.3.1.7", 80, 80)).await.expect(201, "");
}

#[tokio::test]
async fn a_frozen_gateway_refuses_changes_until_thawed() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let t = hw.topology(4, 24).await;
    let rule = hw.dnat(&t, &t.transit_ip_id, tcp("10.4.1.5", 80, 80)).await;
    let rule_path = hw.nat(&format!("dnat-rules/{}", rule.id("dnat_rule")));
    let status = format!("/netplane/huawei/{PROJECT}/gateways/{}/status", t.gateway_id);
    let frozen = hw.put(&status, json!({"status": "FROZEN"})).await;
    assert_eq!(frozen.body["gateway"]["status"], "FROZEN");
    hw.dnat(&t, &t.transit_ip_id, tcp("10.4.1.6", 81, 81)).await.expect(400, "NAT.1208");
    hw.put(&rule_path, json!({"dnat_rule": {"description": "x"}})).await.expect(400, "NAT.1208");
    hw.delete(&rule_path).await.expect(400, "NAT.1208");
    hw.put(&hw.nat(&format!("gateways/{}", t.gateway_id)), json!({"gateway": {"name": "x"}})).await.expect(400, "NAT.1208");
    hw.delete(&hw.nat(&format!("gateways/{}", t.gateway_id))).await.expect(400, "NAT.1208");
    hw.put(&status, json!({"status": "MELTED"})).await.expect(400, "NAT.0002");
    hw.put(&status, json!({"status": "ACTIVE"})).await;
    hw.delete(&rule_path).await;
    hw.delete(&hw.nat(&format!("gateways/{}", t.gateway_id))).await;
    hw.get(&hw.nat(&format!("gateways/{}", t.gateway_id))).await.expect(404, "NAT.1002");
}

#[tokio::test]
async fn addresses_come_from_the_subnet_allocator() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    // 10.5.2.0/29: .0 network, .1 gateway, .2 reserved, .7 broadcast: .3 to .6 can be handed out.
    let t = hw.topology(5, 29).await;
    let first = hw.get(&hw.nat(&format!("transit-ips/{}", t.transit_ip_id))).await;
    assert_eq!(first.body["transit_ip"]["ip_address"], "10.5.2.3");
    hw.transit_ip(&t, Some("10.5.2.3")).await.expect(400, "NAT.1405");
    hw.transit_ip(&t, Some("10.5.3.3")).await.expect(400, "NAT.1405");
    hw.transit_ip(&t, Some("10.5.2.1")).await.expect(400, "NAT.1405");
    let chosen = hw.transit_ip(&t, Some("10.5.2.6")).await;
    chosen.expect(201, "");
    let next: Vec<String> = {
        let mut v = vec![];
        for _ in 0..2 {
            let ip = hw.transit_ip(&t, None).await;
            v.push(ip.body["transit_ip"]["ip_address"].as_str().unwrap().to_string());
        }
        v
    };
    assert_eq!(next, ["10.5.2.4", "10.5.2.5"], "lowest free first");
    hw.transit_ip(&t, None).await.expect(400, "NAT.1404");
    hw.delete(&hw.nat(&format!("transit-ips/{}", t.transit_ip_id))).await;
    let again = hw.transit_ip(&t, None).await;
    assert_eq!(again.body["transit_ip"]["ip_address"], "10.5.2.3", "a freed address is handed out again");
    let ts = hw.get(&hw.nat(&format!("transit-subnets/{}", t.transit_subnet_id))).await;
    assert_eq!(ts.body["transit_subnet"]["ip_count"], 4);
    // A gateway asking for an address already taken in its subnet is refused.
    let taken =
        json!({"gateway": {"name": "g2", "downlink_vpcs": [{"virsubnet_id": t.downlink_subnet_id, "ngport_ip_address": "10.5.1.3"}]}});
    hw.post(&hw.nat("gateways"), taken).await.expect(400, "NAT.1405");
}

#[tokio::test]
async fn vpc_v1_validates_and_nat_refuses_unknown_subnets() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let vpc = hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "v", "cidr": "10.6.0.0/16"}})).await;
    let vpc_id = vpc.id("vpc");
    let subnet = |cidr: &str, gateway: &str| json!({"subnet": {"name": "s", "cidr": cidr, "gateway_ip": gateway, "vpc_id": vpc_id}});
    hw.post(&hw.vpc("subnets"), subnet("10.7.0.0/24", "10.7.0.1")).await.expect(400, "VPC.0201");
    hw.post(&hw.vpc("subnets"), subnet("10.6.1.0/24", "10.6.2.1")).await.expect(400, "VPC.0201");
    hw.post(&hw.vpc("subnets"), subnet("10.6.1.5/24", "10.6.1.1")).await.expect(400, "VPC.0201");
    hw.post(&hw.vpc("subnets"), subnet("10.6.1.0/24", "10.6.1.1")).await.expect(200, "");
    hw.post(&hw.vpc("subnets"), subnet("10.6.1.128/25", "10.6.1.129")).await.expect(400, "VPC.0201");
    let orphan =
        json!({"subnet": {"name": "s", "cidr": "10.6.3.0/24", "gateway_ip": "10.6.3.1", "vpc_id": "5c9d1b4e-0000-4000-8000-000000000003"}});
    hw.post(&hw.vpc("subnets"), orphan).await.expect(404, "VPC.0003");
    hw.get(&hw.vpc("subnets/5c9d1b4e-0000-4000-8000-000000000004")).await.expect(404, "VPC.0202");

    let unknown = "5c9d1b4e-0000-4000-8000-000000000005";
    hw.post(&hw.nat("gateways"), json!({"gateway": {"name": "g", "downlink_vpcs": [{"virsubnet_id": unknown}]}}))
        .await
        .expect(404, "NAT.1002");
    hw.post(&hw.nat("transit-subnets"), json!({"transit_subnet": {"virsubnet_id": unknown}})).await.expect(404, "NAT.1002");
    hw.post(&hw.nat("transit-ips"), json!({"transit_ip": {"virsubnet_id": unknown}})).await.expect(404, "NAT.1002");
    hw.post(&hw.nat("gateways"), json!({"gateway": {"name": "g", "downlink_vpcs": []}})).await.expect(400, "NAT.0002");
    assert_eq!(hw.get(&hw.nat("gateways")).await.body["page_info"]["current_count"], 0);
}

/// `dnsList`, the wire name the SDK and Terraform send, is taken and answered; the Neutron subnet
/// id is the subnet's own; a gateway cannot be "changed" to the spec it has.
#[tokio::test]
async fn subnets_take_dns_lists_and_gateways_refuse_their_own_spec() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let vpc_id = hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "v", "cidr": "10.9.0.0/16"}})).await.id("vpc");
    let subnet = |cidr: &str, gateway: &str, dns: Value| json!({"subnet": {"name": "s", "cidr": cidr, "gateway_ip": gateway, "vpc_id": vpc_id, "primary_dns": "100.125.1.250", "dnsList": dns}});
    hw.post(&hw.vpc("subnets"), subnet("10.9.2.0/24", "10.9.2.1", json!(["8.8.8.8"]))).await.expect(400, "VPC.0201");
    let made = hw.post(&hw.vpc("subnets"), subnet("10.9.1.0/24", "10.9.1.1", json!(["100.125.1.250", "100.125.129.250"]))).await;
    made.expect(200, "");
    let id = made.id("subnet");
    let read = hw.get(&hw.vpc(&format!("subnets/{id}"))).await.body["subnet"].clone();
    assert_eq!(read["dnsList"], json!(["100.125.1.250", "100.125.129.250"]), "{read}");
    assert_eq!(read["neutron_network_id"], json!(id));
    assert!(read["neutron_subnet_id"].as_str().is_some_and(|n| !n.is_empty() && n != id), "{read}");

    let gateway = hw.post(&hw.nat("gateways"), json!({"gateway": {"name": "g", "downlink_vpcs": [{"virsubnet_id": id}]}})).await;
    let gateway_id = gateway.id("gateway");
    hw.put(&hw.nat(&format!("gateways/{gateway_id}")), json!({"gateway": {"spec": "Small"}})).await.expect(400, "NAT.1206");
    hw.put(&hw.nat(&format!("gateways/{gateway_id}")), json!({"gateway": {"spec": "Medium"}})).await.expect(200, "");
}

#[tokio::test]
async fn lists_page_by_marker_and_filter_by_repeated_keys() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let t = hw.topology(8, 24).await;
    let mut created = BTreeSet::new();
    for port in 1..=5u16 {
        created.insert(hw.dnat(&t, &t.transit_ip_id, tcp(&format!("10.8.1.{port}"), port, port)).await.id("dnat_rule"));
    }
    let list = hw.nat("dnat-rules");
    let (mut seen, mut marker, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let path = match &marker {
            Some(m) => format!("{list}?limit=2&marker={m}"),
            None => format!("{list}?limit=2"),
        };
        let page = hw.get(&path).await;
        pages += 1;
        let ids: Vec<String> = page.body["dnat_rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
        assert_eq!(page.body["page_info"]["current_count"], ids.len());
        seen.extend(ids);
        match page.body["page_info"]["next_marker"].as_str() {
            Some(next) => marker = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!((pages, seen.iter().cloned().collect::<BTreeSet<_>>()), (3, created.clone()));
    let sorted: Vec<String> = created.iter().cloned().collect();
    let back = hw.get(&format!("{list}?limit=2&page_reverse=true&marker={}", sorted[4])).await;
    let ids: Vec<&str> = back.body["dnat_rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [sorted[2].as_str(), sorted[3].as_str()]);
    assert_eq!(back.body["page_info"]["previous_marker"], sorted[2].as_str());

    let filtered = hw.get(&format!("{list}?transit_service_port=1&transit_service_port=3&protocol=tcp")).await;
    assert_eq!(filtered.body["page_info"]["current_count"], 2);
    let by_gateway = hw.get(&format!("{list}?gateway_id={}&type=CUSTOMIZE", t.gateway_id)).await;
    assert_eq!(by_gateway.body["page_info"]["current_count"], 5);
    assert_eq!(hw.get(&format!("{list}?protocol=udp")).await.body["page_info"]["current_count"], 0);
    for bad in ["limit=0", "limit=2001", "limit=x", "page_reverse=maybe", "colour=red"] {
        hw.get(&format!("{list}?{bad}")).await.expect(400, "NAT.0002");
    }
    let eleven = (0..11).map(|i| format!("id=x{i}")).collect::<Vec<_>>().join("&");
    hw.get(&format!("{list}?{eleven}")).await.expect(400, "NAT.0002");
}

#[tokio::test]
async fn conflicting_dnat_rules_created_at_once_exactly_one_wins() {
    let dir = data_dir();
    let server = Server::start_with(dir.clone(), &sqlite_store(&dir), "inline");
    let hw = std::sync::Arc::new(Hw::new(&server.rest, PROJECT, None));
    let t = hw.topology(9, 24).await;

    // Twelve rules for one transit port, each to another backend.
    let attempts = (0..12u16).map(|i| {
        let (hw, t) = (hw.clone(), t.clone());
        tokio::spawn(async move { hw.dnat(&t, &t.transit_ip_id, tcp(&format!("10.9.1.{}", 10 + i), 80, 443)).await })
    });
    let answers: Vec<_> = futures_join(attempts).await;
    let statuses: Vec<(u16, String)> = answers.iter().map(|a| (a.status, a.code().to_string())).collect();
    assert_eq!(statuses.iter().filter(|(s, _)| *s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|(s, c)| *s == 201 || (*s == 409 && c == "NAT.1309")), "{statuses:?}");

    // Whole-IP and single-port rules on a fresh transit IP at once: either the one `any` rule or
    // only tcp rules (distinct ports) are left.
    let tip = hw.transit_ip(&t, None).await.id("transit_ip");
    let mixed = (0..12u16).map(|i| {
        let (hw, t, tip) = (hw.clone(), t.clone(), tip.clone());
        tokio::spawn(async move {
            let backend = format!("10.9.1.{}", 100 + i);
            let fields = if i % 2 == 0 { json!({"private_ip_address": backend}) } else { tcp(&backend, 1000 + i, 1000 + i) };
            hw.dnat(&t, &tip, fields).await
        })
    });
    let answers = futures_join(mixed).await;
    assert!(answers.iter().all(|a| a.status == 201 || (a.status == 409 && ["NAT.1305", "NAT.1310"].contains(&a.code()))), "{answers:?}");
    let left = hw.get(&format!("{}?transit_ip_id={tip}", hw.nat("dnat-rules"))).await;
    let protocols: Vec<&str> = left.body["dnat_rules"].as_array().unwrap().iter().map(|r| r["protocol"].as_str().unwrap()).collect();
    let created = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(protocols.len(), created, "every acknowledged rule is stored, and only those");
    assert!(protocols == ["any"] || (!protocols.is_empty() && protocols.iter().all(|p| *p == "tcp")), "{protocols:?}");
}

async fn futures_join<T: Send + 'static>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.expect("task"));
    }
    out
}

/// A Small gateway holds 20 rules; a larger spec more; a smaller spec than its rules need is
/// refused. Specs list Huawei's sizes without a `request_id`.
#[tokio::test]
async fn rule_max_bounds_a_gateways_rules() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let specs = hw.get(&hw.nat("specs")).await.body;
    assert_eq!(specs["specs"][0]["rule_max"], 20, "{specs}");
    assert!(specs.get("request_id").is_none(), "{specs}");
    hw.get(&format!("{}?limit=1", hw.nat("specs"))).await.expect(400, "NAT.0002");

    let t = hw.topology(11, 24).await;
    for port in 1..=20u16 {
        hw.dnat(&t, &t.transit_ip_id, tcp("10.11.1.9", port, port)).await.expect(201, "");
    }
    hw.dnat(&t, &t.transit_ip_id, tcp("10.11.1.9", 21, 21)).await.expect(400, "NAT.1207");
    let gateway = hw.nat(&format!("gateways/{}", t.gateway_id));
    hw.put(&gateway, json!({"gateway": {"spec": "Medium"}})).await.expect(200, "");
    hw.dnat(&t, &t.transit_ip_id, tcp("10.11.1.9", 21, 21)).await.expect(201, "");
    hw.put(&gateway, json!({"gateway": {"spec": "Small"}})).await.expect(400, "NAT.1207");
    assert_eq!(hw.get(&gateway).await.body["gateway"]["spec"], "Medium", "the refused downgrade changed nothing");
}

/// VPC and subnet updates: what may change, and the documented refusals, which change nothing.
#[tokio::test]
async fn vpcs_and_subnets_update_as_documented() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let vpc_id = hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "v", "cidr": "10.12.0.0/16"}})).await.id("vpc");
    let other_vpc = hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "w", "cidr": "10.13.0.0/16"}})).await.id("vpc");
    let subnet = json!({"subnet": {"name": "s", "cidr": "10.12.1.0/24", "gateway_ip": "10.12.1.1", "vpc_id": vpc_id}});
    let subnet_id = hw.post(&hw.vpc("subnets"), subnet).await.id("subnet");
    let vpc = hw.vpc(&format!("vpcs/{vpc_id}"));

    let renamed =
        hw.put(&vpc, json!({"vpc": {"name": "v2", "description": "d", "cidr": "10.12.0.0/20", "enhanced_local_route": true}})).await;
    renamed.expect(200, "");
    assert_eq!((renamed.body["vpc"]["name"].as_str(), renamed.body["vpc"]["cidr"].as_str()), (Some("v2"), Some("10.12.0.0/20")));
    hw.put(&vpc, json!({"vpc": {"cidr": "10.12.8.0/21"}})).await.expect(400, "VPC.0117");
    hw.put(&vpc, json!({"vpc": {"cidr": "8.8.0.0/16"}})).await.expect(400, "VPC.0101");
    hw.put(&vpc, json!({"vpc": {"routes": [{"destination": "0.0.0.0/0", "nexthop": "10.12.1.9"}]}})).await.expect(400, "VPC.0101");
    assert_eq!(hw.get(&vpc).await.body["vpc"]["cidr"], "10.12.0.0/20", "refusals changed nothing");

    let in_vpc = hw.vpc(&format!("vpcs/{vpc_id}/subnets/{subnet_id}"));
    let updated = hw.put(&in_vpc, json!({"subnet": {"name": "s2", "dhcp_enable": true, "primary_dns": "100.125.1.250"}})).await;
    updated.expect(200, "");
    assert_eq!(updated.body, json!({"subnet": {"id": subnet_id, "status": "ACTIVE"}}));
    let read = hw.get(&hw.vpc(&format!("subnets/{subnet_id}"))).await.body["subnet"].clone();
    assert_eq!((read["name"].as_str(), read["dnsList"].clone()), (Some("s2"), json!(["100.125.1.250"])));
    hw.put(&in_vpc, json!({"subnet": {"dhcp_enable": true}})).await.expect(400, "VPC.0201");
    hw.put(&in_vpc, json!({"subnet": {"name": "s3", "secondary_dns": "100.125.1.250"}})).await.expect(400, "VPC.0201");
    hw.put(&hw.vpc(&format!("vpcs/{other_vpc}/subnets/{subnet_id}")), json!({"subnet": {"name": "s3"}})).await.expect(400, "VPC.0207");
    assert_eq!(hw.get(&hw.vpc(&format!("subnets/{subnet_id}"))).await.body["subnet"]["name"], "s2");
}

/// SNAT rules: sources and transit IPs as Huawei checks them, each refusal with its code, and
/// their list filters.
#[tokio::test]
async fn snat_rules_keep_one_rule_per_source_and_never_share_a_transit_ip() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let t = hw.topology(14, 24).await;
    // Transit IPs of another VPC (the gateway's own VPC cannot carry its SNAT traffic).
    let far = hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "far", "cidr": "10.15.0.0/16"}})).await.id("vpc");
    let far_subnet = hw
        .post(&hw.vpc("subnets"), json!({"subnet": {"name": "t", "cidr": "10.15.2.0/24", "gateway_ip": "10.15.2.1", "vpc_id": far}}))
        .await
        .id("subnet");
    let far_transit =
        hw.post(&hw.nat("transit-subnets"), json!({"transit_subnet": {"virsubnet_id": far_subnet}})).await.id("transit_subnet");
    let tip = |n: u8| {
        let body = json!({"transit_ip": {"virsubnet_id": far_transit, "ip_address": format!("10.15.2.{n}")}});
        let hw = &hw;
        async move { hw.post(&hw.nat("transit-ips"), body).await.id("transit_ip") }
    };
    let (a, b, c) = (tip(10).await, tip(11).await, tip(12).await);
    let rules = hw.nat("snat-rules");
    let snat = |source: Value, tips: Value| {
        let mut rule = json!({"gateway_id": t.gateway_id, "transit_ip_ids": tips});
        for (k, v) in source.as_object().unwrap() {
            rule[k] = v.clone();
        }
        json!({ "snat_rule": rule })
    };
    let by_subnet = json!({"virsubnet_id": t.downlink_subnet_id});
    let by_cidr = json!({"cidr": "172.16.0.0/24"});

    hw.post(&rules, snat(by_subnet.clone(), json!([t.transit_ip_id]))).await.expect(409, "NAT.1303");
    hw.post(&rules, snat(json!({"cidr": "172.16.0.0/24", "virsubnet_id": t.downlink_subnet_id}), json!([a]))).await.expect(400, "NAT.1501");
    hw.post(&rules, snat(json!({}), json!([a]))).await.expect(400, "NAT.1501");
    hw.post(&rules, snat(json!({"cidr": "172.16.0.1/24"}), json!([a]))).await.expect(400, "NAT.1502");
    hw.post(&rules, snat(by_cidr.clone(), json!([a, b]))).await.expect(400, "NAT.1506");
    hw.post(&rules, snat(by_cidr.clone(), json!(["not-a-uuid"]))).await.expect(400, "NAT.1507");
    hw.post(&rules, snat(json!({"virsubnet_id": far_subnet}), json!([a]))).await.expect(404, "NAT.1003");

    let first = hw.post(&rules, snat(by_subnet.clone(), json!([a]))).await;
    first.expect(201, "");
    let rule = first.body["snat_rule"].clone();
    assert_eq!((rule["cidr"].as_str(), rule["transit_ip_associations"][0]["transit_ip_address"].as_str()), (Some(""), Some("10.15.2.10")));
    hw.post(&rules, snat(by_subnet.clone(), json!([b]))).await.expect(409, "NAT.1503");
    hw.post(&rules, snat(by_cidr.clone(), json!([a]))).await.expect(409, "NAT.1308");
    hw.dnat(&t, &a, tcp("10.14.1.5", 80, 80)).await.expect(409, "NAT.1308");
    let second = hw.post(&rules, snat(by_cidr.clone(), json!([b]))).await;
    second.expect(201, "");
    hw.post(&rules, snat(by_cidr.clone(), json!([c]))).await.expect(409, "NAT.1505");

    let filtered = hw.get(&format!("{rules}?cidr=172.16.0.0%2F24&transit_ip_address=10.15.2.11")).await;
    assert_eq!(filtered.body["snat_rules"].as_array().unwrap().len(), 1, "{}", filtered.body);
    let second_id = second.id("snat_rule");
    let moved = hw.put(&format!("{rules}/{second_id}"), json!({"snat_rule": {"description": "moved", "transit_ip_ids": [c]}})).await;
    moved.expect(200, "");
    assert_eq!(moved.body["snat_rule"]["transit_ip_associations"][0]["transit_ip_id"], json!(c));
    hw.put(&format!("{rules}/{second_id}"), json!({"snat_rule": {"cidr": "172.16.1.0/24"}})).await.expect(400, "NAT.0002");
    // b is free again: DNAT may use it.
    hw.dnat(&t, &b, tcp("10.14.1.5", 80, 80)).await.expect(201, "");

    hw.delete(&hw.nat(&format!("gateways/{}", t.gateway_id))).await.expect(400, "NAT.1202");
    hw.delete(&hw.nat(&format!("transit-ips/{c}"))).await.expect(409, "NAT.1409");
    hw.delete(&format!("{rules}/{second_id}")).await.expect(204, "");
    hw.delete(&format!("{rules}/{}", first.id("snat_rule"))).await.expect(204, "");
    hw.delete(&hw.nat(&format!("transit-ips/{c}"))).await.expect(204, "");
}

/// Creates of SNAT rules for one subnet, all at once, on SQLite: exactly one is accepted.
#[tokio::test]
async fn racing_snat_rules_for_one_subnet_exactly_one_wins() {
    let dir = data_dir();
    let store = sqlite_store(&dir);
    let server = Server::start_with(dir, &store, "inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let t = hw.topology(16, 24).await;
    let far = hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "far", "cidr": "10.17.0.0/16"}})).await.id("vpc");
    let far_subnet = hw
        .post(&hw.vpc("subnets"), json!({"subnet": {"name": "t", "cidr": "10.17.2.0/24", "gateway_ip": "10.17.2.1", "vpc_id": far}}))
        .await
        .id("subnet");
    let far_transit =
        hw.post(&hw.nat("transit-subnets"), json!({"transit_subnet": {"virsubnet_id": far_subnet}})).await.id("transit_subnet");
    let mut tips = Vec::new();
    for n in 0..6u8 {
        let body = json!({"transit_ip": {"virsubnet_id": far_transit, "ip_address": format!("10.17.2.{}", 10 + n)}});
        tips.push(hw.post(&hw.nat("transit-ips"), body).await.id("transit_ip"));
    }
    let tasks: Vec<_> = tips
        .into_iter()
        .map(|tip| {
            let (hw, gateway, subnet) = (hw.clone(), t.gateway_id.clone(), t.downlink_subnet_id.clone());
            tokio::spawn(async move {
                let body = json!({"snat_rule": {"gateway_id": gateway, "virsubnet_id": subnet, "transit_ip_ids": [tip]}});
                hw.post(&hw.nat("snat-rules"), body).await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        match answer.status {
            201 => won += 1,
            _ => assert_eq!((answer.status, answer.code()), (409, "NAT.1503"), "{}", answer.body),
        }
    }
    assert_eq!(won, 1);
}

/// VPC v3 reads: one resource, two views; v3 answers carry `request_id` and its errors use the
/// private NAT's shape with VPC codes.
#[tokio::test]
async fn vpc_v3_shows_and_lists_the_same_vpcs() {
    let server = Server::start("inline");
    let hw = Hw::new(&server.rest, PROJECT, None);
    let first = hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "a", "cidr": "10.18.0.0/16"}})).await.id("vpc");
    let second = hw.post(&hw.vpc("vpcs"), json!({"vpc": {"name": "b", "cidr": "10.19.0.0/16"}})).await.id("vpc");
    hw.post(&hw.vpc("subnets"), json!({"subnet": {"name": "s", "cidr": "10.18.1.0/24", "gateway_ip": "10.18.1.1", "vpc_id": first}}))
        .await
        .expect(200, "");
    let v3 = |rest: &str| format!("/v3/{PROJECT}/vpc/{rest}");
    let shown = hw.get(&v3(&format!("vpcs/{first}"))).await;
    shown.expect(200, "");
    let vpc = &shown.body["vpc"];
    assert_eq!((vpc["status"].as_str(), vpc["project_id"].as_str()), (Some("ACTIVE"), Some(PROJECT)), "{vpc}");
    assert_eq!(vpc["cloud_resources"][1], json!({"resource_type": "virsubnet", "resource_count": 1}));
    assert!(shown.body["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    let listed = hw.get(&v3("vpcs?name=b")).await.body;
    assert_eq!(listed["vpcs"].as_array().unwrap().iter().map(|v| v["id"].clone()).collect::<Vec<_>>(), [json!(second)]);
    let paged = hw.get(&v3("vpcs?limit=1")).await.body;
    assert_eq!((paged["vpcs"].as_array().unwrap().len(), paged["page_info"]["current_count"].clone()), (1, json!(1)));
    // v3 updates: name and description; a dry run checks and changes nothing.
    let dry = hw.put(&v3(&format!("vpcs/{first}")), json!({"vpc": {"name": "renamed"}, "dry_run": true})).await;
    assert_eq!((dry.status, dry.code()), (202, "SYS.0202"), "{}", dry.body);
    assert_eq!(hw.get(&v3(&format!("vpcs/{first}"))).await.body["vpc"]["name"], "a");
    let renamed = hw.put(&v3(&format!("vpcs/{first}")), json!({"vpc": {"name": "renamed", "description": "d"}})).await;
    renamed.expect(200, "");
    assert_eq!((renamed.body["vpc"]["name"].as_str(), renamed.body["vpc"]["status"].as_str()), (Some("renamed"), Some("ACTIVE")));
    hw.put(&v3(&format!("vpcs/{first}")), json!({"vpc": {}})).await.expect(400, "VPC.0101");
    hw.put(&v3(&format!("vpcs/{first}")), json!({"vpc": {"cidr": "10.18.0.0/15"}})).await.expect(400, "VPC.0101");
    let missing = hw.get(&v3("vpcs/5c9d1b4e-0000-4000-8000-000000000009")).await;
    missing.expect(404, "VPC.0003");
    assert!(missing.body["error_code"].is_string() && missing.body["request_id"].is_string(), "{}", missing.body);
}
