//! A small HTTP client for the Huawei APIs (X-Auth-Token, or no credential in development mode)
//! and a fixture that builds the resources a DNAT rule needs, the way a client would.

use reqwest::Method;
use serde_json::{Value, json};

pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";

#[derive(Clone)]
pub struct Hw {
    pub base: String,
    pub project: String,
    pub token: Option<String>,
    http: reqwest::Client,
}

/// An answer: status, `X-Request-Id`, JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub request_id: String,
    pub body: Value,
}

impl Answer {
    /// The Huawei error code of an error answer (`error_code`, or VPC's `code`).
    pub fn code(&self) -> &str {
        self.body.get("error_code").or_else(|| self.body.get("code")).and_then(Value::as_str).unwrap_or("")
    }

    pub fn id(&self, key: &str) -> String {
        self.body[key]["id"].as_str().unwrap_or_else(|| panic!("no {key}.id in {}", self.body)).to_string()
    }

    #[track_caller]
    pub fn expect(&self, status: u16, code: &str) -> &Self {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.body);
        self
    }
}

impl Hw {
    pub fn new(base: &str, project: &str, token: Option<&str>) -> Hw {
        Hw { base: base.to_string(), project: project.to_string(), token: token.map(String::from), http: reqwest::Client::new() }
    }

    pub fn nat(&self, rest: &str) -> String {
        format!("/v3/{}/private-nat/{rest}", self.project)
    }

    pub fn vpc(&self, rest: &str) -> String {
        format!("/v1/{}/{rest}", self.project)
    }

    pub async fn raw(&self, method: Method, path: &str, body: Option<String>, headers: &[(&str, &str)]) -> Answer {
        self.try_raw(method, path, body, headers).await.expect("send")
    }

    /// `raw` that returns the transport error (a server that is gone) instead of panicking.
    pub async fn try_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, reqwest::Error> {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).header("content-type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("x-auth-token", token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let request_id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = response.text().await?;
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")) };
        Ok(Answer { status, request_id, body })
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.raw(method, path, body.map(|b| b.to_string()), &[]).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// A VPC 10.<n>.0.0/16 with a downlink subnet 10.<n>.1.0/24 and a transit subnet built on
    /// 10.<n>.2.0/<transit_prefix>, a gateway and a transit IP.
    pub async fn topology(&self, n: u8, transit_prefix: u8) -> Topology {
        let vpc = self.post(&self.vpc("vpcs"), json!({"vpc": {"name": format!("vpc-{n}"), "cidr": format!("10.{n}.0.0/16")}})).await;
        assert_eq!(vpc.status, 200, "{}", vpc.body);
        let vpc_id = vpc.id("vpc");
        let subnet = |name: &str, cidr: String, gateway: String| json!({"subnet": {"name": name, "cidr": cidr, "gateway_ip": gateway, "vpc_id": vpc_id}});
        let downlink = self.post(&self.vpc("subnets"), subnet("downlink", format!("10.{n}.1.0/24"), format!("10.{n}.1.1"))).await;
        assert_eq!(downlink.status, 200, "{}", downlink.body);
        let transit =
            self.post(&self.vpc("subnets"), subnet("transit", format!("10.{n}.2.0/{transit_prefix}"), format!("10.{n}.2.1"))).await;
        assert_eq!(transit.status, 200, "{}", transit.body);
        let gateway = self
            .post(&self.nat("gateways"), json!({"gateway": {"name": "nat", "downlink_vpcs": [{"virsubnet_id": downlink.id("subnet")}]}}))
            .await;
        assert_eq!(gateway.status, 201, "{}", gateway.body);
        let transit_subnet =
            self.post(&self.nat("transit-subnets"), json!({"transit_subnet": {"name": "ts", "virsubnet_id": transit.id("subnet")}})).await;
        assert_eq!(transit_subnet.status, 201, "{}", transit_subnet.body);
        let topology = Topology {
            vpc_id: vpc_id.clone(),
            downlink_subnet_id: downlink.id("subnet"),
            transit_vpc_subnet_id: transit.id("subnet"),
            gateway_id: gateway.id("gateway"),
            transit_subnet_id: transit_subnet.id("transit_subnet"),
            transit_ip_id: String::new(),
        };
        let ip = self.transit_ip(&topology, None).await;
        assert_eq!(ip.status, 201, "{}", ip.body);
        Topology { transit_ip_id: ip.id("transit_ip"), ..topology }
    }

    pub async fn transit_ip(&self, t: &Topology, address: Option<&str>) -> Answer {
        let mut option = json!({"virsubnet_id": t.transit_subnet_id});
        if let Some(address) = address {
            option["ip_address"] = json!(address);
        }
        self.post(&self.nat("transit-ips"), json!({ "transit_ip": option })).await
    }

    /// A port in a VPC v1 subnet, its address the subnet's next free one unless given.
    pub async fn port(&self, subnet_id: &str, ip: Option<&str>) -> Answer {
        let mut port = json!({"network_id": subnet_id});
        if let Some(ip) = ip {
            port["fixed_ips"] = json!([{"ip_address": ip}]);
        }
        self.post(&self.vpc("ports"), json!({ "port": port })).await
    }

    /// Creates a DNAT rule on the topology's gateway with the given fields added.
    pub async fn dnat(&self, t: &Topology, transit_ip_id: &str, fields: Value) -> Answer {
        self.try_dnat(t, transit_ip_id, fields).await.expect("send")
    }

    pub async fn try_dnat(&self, t: &Topology, transit_ip_id: &str, fields: Value) -> Result<Answer, reqwest::Error> {
        let mut rule = json!({"gateway_id": t.gateway_id, "transit_ip_id": transit_ip_id});
        for (k, v) in fields.as_object().expect("fields").iter() {
            rule[k] = v.clone();
        }
        self.try_raw(Method::POST, &self.nat("dnat-rules"), Some(json!({ "dnat_rule": rule }).to_string()), &[]).await
    }
}

#[derive(Clone, Debug)]
pub struct Topology {
    pub vpc_id: String,
    pub downlink_subnet_id: String,
    pub transit_vpc_subnet_id: String,
    pub gateway_id: String,
    pub transit_subnet_id: String,
    pub transit_ip_id: String,
}

/// A tcp rule to `ip`, internal port `internal`, transit port `transit`.
pub fn tcp(ip: &str, internal: u16, transit: u16) -> Value {
    json!({"private_ip_address": ip, "protocol": "tcp", "internal_service_port": internal.to_string(), "transit_service_port": transit.to_string()})
}
