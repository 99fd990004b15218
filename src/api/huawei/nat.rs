//! `/v3/{project_id}/private-nat/` gateways, transit subnets and transit IPs (transit IPs have no
//! update), and netplane's own switch for freezing a gateway.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::reply::{Ctx, parse_body};
use super::resource::Wire;
use crate::domain::huawei::nat::{
    DownlinkSpec, Gateway, GatewaySpec, NAT_SPECS, Tag, TransitIp, TransitIpSpec, TransitSubnet, TransitSubnetSpec, rule_max,
};
use crate::domain::huawei::{Status, format_time};
use crate::error::Error;
use crate::service::HuaweiArea;

type IdPath = Path<(String, String)>;

fn tags(tags: &[Tag]) -> Value {
    tags.iter().map(|t| json!({ "key": t.key, "value": t.value })).collect()
}

impl Wire for Gateway {
    const KEY: &'static str = "gateway";
    const LIST_KEY: &'static str = "gateways";
    fn render(&self) -> Value {
        render_gateway(self)
    }
}

fn render_gateway(g: &Gateway) -> Value {
    json!({
        "id": g.id,
        "project_id": g.project_id,
        "name": g.name,
        "description": g.description,
        "spec": g.spec,
        "status": g.status.as_str(),
        "created_at": format_time(g.created_at),
        "updated_at": format_time(g.updated_at),
        "downlink_vpcs": g.downlink_vpcs.iter().map(|d| json!({
            "vpc_id": d.vpc_id, "virsubnet_id": d.virsubnet_id, "ngport_ip_address": d.ngport_ip_address.to_string(),
        })).collect::<Vec<_>>(),
        "tags": tags(&g.tags),
        "enterprise_project_id": g.enterprise_project_id,
        "rule_max": rule_max(&g.spec),
        "transit_ip_pool_size_max": 1,
    })
}

impl Wire for TransitSubnet {
    const KEY: &'static str = "transit_subnet";
    const LIST_KEY: &'static str = "transit_subnets";
    fn render(&self) -> Value {
        render_transit_subnet(self)
    }
}

fn render_transit_subnet(t: &TransitSubnet) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "virsubnet_project_id": t.virsubnet_project_id,
        "project_id": t.project_id,
        "vpc_id": t.vpc_id,
        "virsubnet_id": t.virsubnet_id,
        "cidr": t.cidr.to_string(),
        "type": "VPC",
        "status": t.status.as_str(),
        "ip_count": t.ip_count,
        "created_at": format_time(t.created_at),
        "updated_at": format_time(t.updated_at),
        "tags": tags(&t.tags),
    })
}

impl Wire for TransitIp {
    const KEY: &'static str = "transit_ip";
    const LIST_KEY: &'static str = "transit_ips";
    fn render(&self) -> Value {
        render_transit_ip(self)
    }
}

fn render_transit_ip(t: &TransitIp) -> Value {
    json!({
        "id": t.id,
        "project_id": t.project_id,
        "network_interface_id": t.network_interface_id,
        "ip_address": t.ip_address.to_string(),
        "created_at": format_time(t.created_at),
        "updated_at": format_time(t.updated_at),
        "virsubnet_id": t.virsubnet_id,
        "tags": tags(&t.tags),
        "gateway_id": t.gateway_id,
        "enterprise_project_id": t.enterprise_project_id,
        "status": t.status.as_str(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagOption {
    key: String,
    #[serde(default)]
    value: String,
}

fn tag_list(tags: Option<Vec<TagOption>>) -> Vec<Tag> {
    tags.unwrap_or_default().into_iter().map(|t| Tag { key: t.key, value: t.value }).collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayBody {
    gateway: GatewayOption,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayOption {
    name: Option<String>,
    description: Option<String>,
    spec: Option<String>,
    downlink_vpcs: Option<Vec<DownlinkOption>>,
    tags: Option<Vec<TagOption>>,
    enterprise_project_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DownlinkOption {
    virsubnet_id: Option<String>,
    ngport_ip_address: Option<String>,
}

impl From<GatewayOption> for GatewaySpec {
    fn from(o: GatewayOption) -> GatewaySpec {
        GatewaySpec {
            name: o.name,
            description: o.description,
            spec: o.spec,
            downlink_vpcs: o
                .downlink_vpcs
                .unwrap_or_default()
                .into_iter()
                .map(|d| DownlinkSpec { virsubnet_id: d.virsubnet_id, ngport_ip_address: d.ngport_ip_address })
                .collect(),
            tags: tag_list(o.tags),
            enterprise_project_id: o.enterprise_project_id,
        }
    }
}

pub async fn create_gateway(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let result = async { s.nat_create_gateway(&ctx.project_id, parse_body::<GatewayBody>(&body)?.gateway.into()).await };
    ctx.answer(StatusCode::CREATED, "gateway", result.await, render_gateway)
}

pub async fn update_gateway(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, Path((_, id)): IdPath, body: Bytes) -> Response {
    let result = async {
        let option = parse_body::<GatewayBody>(&body)?.gateway;
        if option.downlink_vpcs.is_some() || option.tags.is_some() || option.enterprise_project_id.is_some() {
            return Err(Error::invalid("gateway", "an update may change name, description and spec only"));
        }
        s.nat_update_gateway(&ctx.project_id, &id, option.into()).await
    };
    ctx.answer(StatusCode::OK, "gateway", result.await, render_gateway)
}

pub async fn delete_gateway(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, Path((_, id)): IdPath) -> Response {
    ctx.answer_delete(s.nat_delete_gateway(&ctx.project_id, &id).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
}

/// `PUT /netplane/huawei/{project_id}/gateways/{gateway_id}/status` `{"status": "FROZEN"}`: what
/// a billing event does to a real gateway, so clients can be tested against NAT.1208.
pub async fn set_gateway_status(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): IdPath,
    body: Bytes,
) -> Response {
    let result = async {
        let status = match parse_body::<StatusBody>(&body)?.status.as_str() {
            "ACTIVE" => Status::Active,
            "FROZEN" => Status::Frozen,
            "INACTIVE" => Status::Inactive,
            other => return Err(Error::invalid("status", format!("must be ACTIVE, FROZEN or INACTIVE, not {other:?}"))),
        };
        s.nat_set_gateway_status(&ctx.project_id, &id, status).await
    };
    ctx.answer(StatusCode::OK, "gateway", result.await, render_gateway)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitSubnetBody {
    transit_subnet: TransitSubnetOption,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitSubnetOption {
    name: Option<String>,
    description: Option<String>,
    virsubnet_id: Option<String>,
    virsubnet_project_id: Option<String>,
    tags: Option<Vec<TagOption>>,
}

impl From<TransitSubnetOption> for TransitSubnetSpec {
    fn from(o: TransitSubnetOption) -> TransitSubnetSpec {
        TransitSubnetSpec {
            name: o.name,
            description: o.description,
            virsubnet_id: o.virsubnet_id,
            virsubnet_project_id: o.virsubnet_project_id,
            tags: tag_list(o.tags),
        }
    }
}

pub async fn create_transit_subnet(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let result =
        async { s.nat_create_transit_subnet(&ctx.project_id, parse_body::<TransitSubnetBody>(&body)?.transit_subnet.into()).await };
    ctx.answer(StatusCode::CREATED, "transit_subnet", result.await, render_transit_subnet)
}

pub async fn update_transit_subnet(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): IdPath,
    body: Bytes,
) -> Response {
    let result = async {
        let option = parse_body::<TransitSubnetBody>(&body)?.transit_subnet;
        if option.virsubnet_id.is_some() || option.virsubnet_project_id.is_some() || option.tags.is_some() {
            return Err(Error::invalid("transit_subnet", "an update may change name and description only"));
        }
        s.nat_update_transit_subnet(&ctx.project_id, &id, option.into()).await
    };
    ctx.answer(StatusCode::OK, "transit_subnet", result.await, render_transit_subnet)
}

pub async fn delete_transit_subnet(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, Path((_, id)): IdPath) -> Response {
    ctx.answer_delete(s.nat_delete_transit_subnet(&ctx.project_id, &id).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitIpBody {
    transit_ip: TransitIpOption,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitIpOption {
    virsubnet_id: Option<String>,
    ip_address: Option<String>,
    enterprise_project_id: Option<String>,
    tags: Option<Vec<TagOption>>,
}

pub async fn create_transit_ip(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let result = async {
        let o = parse_body::<TransitIpBody>(&body)?.transit_ip;
        let spec = TransitIpSpec {
            virsubnet_id: o.virsubnet_id,
            ip_address: o.ip_address,
            enterprise_project_id: o.enterprise_project_id,
            tags: tag_list(o.tags),
        };
        s.nat_create_transit_ip(&ctx.project_id, spec).await
    };
    ctx.answer(StatusCode::CREATED, "transit_ip", result.await, render_transit_ip)
}

pub async fn delete_transit_ip(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, Path((_, id)): IdPath) -> Response {
    ctx.answer_delete(s.nat_delete_transit_ip(&ctx.project_id, &id).await)
}

/// `GET /v3/{project_id}/private-nat/specs`: the gateway sizes and their limits. Takes no query;
/// its documented body has no `request_id`.
pub async fn list_specs(Extension(ctx): Extension<Ctx>, RawQuery(query): RawQuery) -> Response {
    if let Some(name) = super::reply::query_pairs(query.as_deref()).into_iter().map(|(k, _)| k).next() {
        return ctx.fail(&Error::invalid(name, "specs take no query parameters"));
    }
    let specs: Vec<Value> = NAT_SPECS
        .iter()
        .map(|s| {
            json!({
                "name": s.name, "code": s.code, "cbc_code": s.cbc_code, "rule_max": s.rule_max,
                "sess_max": s.sess_max, "bps_max": s.bps_max, "pps_max": s.pps_max, "qps_max": s.qps_max,
            })
        })
        .collect();
    ctx.ok_as_is(StatusCode::OK, json!({ "specs": specs }))
}
