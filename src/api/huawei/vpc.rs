//! Huawei VPCs and subnets: VPC v1 (`/v1/{project_id}/vpcs`, `/v1/{project_id}/subnets`: create,
//! show, list, update, delete; creates answer 200 as VPC v1 does, lists take `limit` and `marker`
//! and have no `page_info`) and VPC v3's view of the same VPCs (`/v3/{project_id}/vpc/vpcs`: create,
//! show, list, update, delete, secondary CIDRs, with `dry_run` where Huawei documents it).

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::reply::{Ctx, parse_body, query_pairs};
use super::resource::Wire;
use crate::domain::huawei::format_time;
use crate::domain::huawei::listing::ListRequest;
use crate::domain::huawei::tags::{Tag, parse_inline};
use crate::domain::huawei::vpc::{Subnet, SubnetSpec, Vpc, VpcSpec};
use crate::service::HuaweiArea;
use crate::service::huawei::vpc::V3_FILTERS;

impl Wire for Vpc {
    const KEY: &'static str = "vpc";
    const LIST_KEY: &'static str = "vpcs";
    fn render(&self) -> Value {
        render_vpc(self)
    }
}

fn render_vpc(v: &Vpc) -> Value {
    json!({
        "id": v.id,
        "name": v.name,
        "cidr": v.cidr.to_string(),
        "description": v.description,
        "routes": [],
        "status": "OK",
        "enterprise_project_id": v.enterprise_project_id,
        "tenant_id": v.project_id,
        "created_at": format_time(v.created_at),
        "updated_at": format_time(v.updated_at),
    })
}

/// The v3 view of the same VPC: `status` ACTIVE, `project_id`, `extend_cidrs`, `tags` and its
/// `cloud_resources` (route tables and subnets).
fn render_vpc_v3((v, subnets): &(Vpc, usize)) -> Value {
    json!({
        "id": v.id,
        "name": v.name,
        "description": v.description,
        "cidr": v.cidr.to_string(),
        "extend_cidrs": v.extend_cidrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "status": "ACTIVE",
        "project_id": v.project_id,
        "enterprise_project_id": v.enterprise_project_id,
        "created_at": format_time(v.created_at),
        "updated_at": format_time(v.updated_at),
        "cloud_resources": [
            {"resource_type": "routetable", "resource_count": 1},
            {"resource_type": "virsubnet", "resource_count": subnets},
        ],
        "tags": v.tags.iter().map(|t| json!({"key": t.key, "value": t.value})).collect::<Vec<_>>(),
        "block_service_endpoint_states": "off",
        "enable_network_address_usage_metrics": false,
    })
}

/// `GET /v3/{project_id}/vpc/vpcs/{id}`.
pub async fn show_vpc_v3(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, Path((_, id)): Path<(String, String)>) -> Response {
    ctx.answer(StatusCode::OK, "vpc", s.huawei_vpc_with_subnets(&ctx.project_id, &id).await, render_vpc_v3)
}

/// `GET /v3/{project_id}/vpc/vpcs` with `limit`, `marker` and the v3 filters.
pub async fn list_vpcs_v3(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, RawQuery(query): RawQuery) -> Response {
    let result = async {
        let request = ListRequest::parse(&query_pairs(query.as_deref()), V3_FILTERS)?;
        s.huawei_list_vpcs_v3(&ctx.project_id, request).await
    };
    ctx.answer_list("vpcs", result.await, render_vpc_v3)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VpcV3UpdateBody {
    vpc: VpcV3UpdateOption,
    dry_run: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VpcV3UpdateOption {
    name: Option<String>,
    description: Option<String>,
}

/// What a v3 call with `dry_run` answers once its checks pass: 202 `SYS.0202`.
fn dry_run_passed(ctx: &Ctx) -> Response {
    ctx.ok(StatusCode::ACCEPTED, json!({"error_msg": "Request validation has been passed with dry run...", "error_code": "SYS.0202"}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VpcV3CreateBody {
    vpc: VpcV3CreateOption,
    dry_run: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VpcV3CreateOption {
    cidr: Option<String>,
    name: Option<String>,
    description: Option<String>,
    enterprise_project_id: Option<String>,
    tags: Option<Vec<KeyValue>>,
    #[allow(dead_code)]
    block_service_endpoint_states: Option<String>,
    #[allow(dead_code)]
    enable_network_address_usage_metrics: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: String,
}

/// `POST /v3/{project_id}/vpc/vpcs`: 201 with the v3 VPC; with `dry_run` only the checks.
pub async fn create_vpc_v3(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let body = match parse_body::<VpcV3CreateBody>(&body) {
        Ok(body) => body,
        Err(e) => return ctx.fail(&e),
    };
    let dry_run = body.dry_run.unwrap_or(false);
    let o = body.vpc;
    let spec = VpcSpec {
        name: o.name,
        description: o.description,
        cidr: o.cidr,
        enterprise_project_id: o.enterprise_project_id,
        tags: o.tags.unwrap_or_default().into_iter().map(|t| Tag::new(t.key, t.value)).collect(),
    };
    match s.huawei_create_vpc_checked(&ctx.project_id, spec, dry_run).await {
        Ok(_) if dry_run => dry_run_passed(&ctx),
        result => ctx.answer(StatusCode::CREATED, "vpc", result.map(|vpc| (vpc, 0)), render_vpc_v3),
    }
}

/// `DELETE /v3/{project_id}/vpc/vpcs/{id}`: 204, refused while the VPC has subnets.
pub async fn delete_vpc_v3(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, Path((_, id)): Path<(String, String)>) -> Response {
    ctx.answer_delete(s.huawei_delete_vpc(&ctx.project_id, &id).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendCidrBody {
    vpc: ExtendCidrOption,
    dry_run: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendCidrOption {
    extend_cidrs: Vec<String>,
}

async fn change_extend_cidrs(s: HuaweiArea, ctx: Ctx, id: String, body: Bytes, add: bool) -> Response {
    let body = match parse_body::<ExtendCidrBody>(&body) {
        Ok(body) => body,
        Err(e) => return ctx.fail(&e),
    };
    let dry_run = body.dry_run.unwrap_or(false);
    match s.huawei_change_extend_cidrs(&ctx.project_id, &id, body.vpc.extend_cidrs, add, dry_run).await {
        Ok(_) if dry_run => dry_run_passed(&ctx),
        result => ctx.answer(StatusCode::OK, "vpc", result, render_vpc_v3),
    }
}

/// `PUT /v3/{project_id}/vpc/vpcs/{id}/add-extend-cidr` `{"vpc": {"extend_cidrs": [...]}}`.
pub async fn add_extend_cidr(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    change_extend_cidrs(s, ctx, id, body, true).await
}

/// `PUT /v3/{project_id}/vpc/vpcs/{id}/remove-extend-cidr`.
pub async fn remove_extend_cidr(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    change_extend_cidrs(s, ctx, id, body, false).await
}

/// `PUT /v3/{project_id}/vpc/vpcs/{id}`: name and description (at least one). With `dry_run`
/// the checks alone: 202 `SYS.0202`, nothing changed.
pub async fn update_vpc_v3(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let parsed = parse_body::<VpcV3UpdateBody>(&body).and_then(|b| {
        if b.vpc.name.is_none() && b.vpc.description.is_none() {
            return Err(crate::error::Error::invalid("vpc", "name or description is required"));
        }
        Ok(b)
    });
    let body = match parsed {
        Ok(body) => body,
        Err(e) => return ctx.fail(&e),
    };
    let dry_run = body.dry_run.unwrap_or(false);
    let spec = VpcSpec { name: body.vpc.name, description: body.vpc.description, ..Default::default() };
    let result = s.huawei_update_vpc_checked(&ctx.project_id, &id, spec, dry_run).await;
    match result {
        Ok(_) if dry_run => dry_run_passed(&ctx),
        result => ctx.answer(StatusCode::OK, "vpc", result, render_vpc_v3),
    }
}

impl Wire for Subnet {
    const KEY: &'static str = "subnet";
    const LIST_KEY: &'static str = "subnets";
    fn render(&self) -> Value {
        render_subnet(self)
    }
}

fn render_subnet(s: &Subnet) -> Value {
    // Rows from before `dnsList` was stored: the primary and secondary DNS, as answered then.
    let dns: Vec<&String> = if s.dns_list.is_empty() {
        [&s.primary_dns, &s.secondary_dns].into_iter().filter(|d| !d.is_empty()).collect()
    } else {
        s.dns_list.iter().collect()
    };
    json!({
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "cidr": s.cidr.to_string(),
        "gateway_ip": s.gateway_ip.to_string(),
        "ipv6_enable": false,
        "dhcp_enable": s.dhcp_enable,
        "primary_dns": s.primary_dns,
        "secondary_dns": s.secondary_dns,
        "dnsList": dns,
        "availability_zone": s.availability_zone,
        "vpc_id": s.vpc_id,
        "status": "ACTIVE",
        "neutron_network_id": s.id,
        "neutron_subnet_id": s.neutron_subnet_id(),
        "tenant_id": s.project_id,
        "created_at": format_time(s.created_at),
        "updated_at": format_time(s.updated_at),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VpcBody {
    vpc: VpcOption,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VpcOption {
    name: Option<String>,
    description: Option<String>,
    cidr: Option<String>,
    enterprise_project_id: Option<String>,
    /// `"key*value"` strings.
    tags: Option<Vec<String>>,
    #[allow(dead_code)]
    block_service_endpoint_states: Option<String>,
    #[allow(dead_code)]
    enable_network_address_usage_metrics: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubnetBody {
    subnet: SubnetOption,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubnetOption {
    name: Option<String>,
    description: Option<String>,
    cidr: Option<String>,
    vpc_id: Option<String>,
    gateway_ip: Option<String>,
    dhcp_enable: Option<bool>,
    primary_dns: Option<String>,
    secondary_dns: Option<String>,
    availability_zone: Option<String>,
    ipv6_enable: Option<bool>,
    /// The SDK's and Terraform's wire name.
    #[serde(rename = "dnsList")]
    dns_list: Option<Vec<String>>,
    #[allow(dead_code)]
    extra_dhcp_opts: Option<Vec<Value>>,
    /// `"key*value"` strings.
    tags: Option<Vec<String>>,
    #[allow(dead_code)]
    enable_network_address_usage_metrics: Option<bool>,
}

pub async fn create_vpc(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let result = async {
        let o = parse_body::<VpcBody>(&body)?.vpc;
        let tags = parse_inline(&o.tags.unwrap_or_default())?;
        let spec = VpcSpec { name: o.name, description: o.description, cidr: o.cidr, enterprise_project_id: o.enterprise_project_id, tags };
        s.huawei_create_vpc(&ctx.project_id, spec).await
    };
    ctx.answer(StatusCode::OK, "vpc", result.await, render_vpc)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VpcUpdateBody {
    vpc: VpcUpdateOption,
}

/// What `PUT /v1/{project_id}/vpcs/{id}` takes (Terraform's `enhanced_local_route` and the Go
/// SDK's `enable_shared_snat` are accepted and ignored, as Huawei's own SDK model has neither).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VpcUpdateOption {
    name: Option<String>,
    description: Option<String>,
    cidr: Option<String>,
    routes: Option<Vec<Value>>,
    #[allow(dead_code)]
    enable_network_address_usage_metrics: Option<bool>,
    #[allow(dead_code)]
    enhanced_local_route: Option<bool>,
    #[allow(dead_code)]
    enable_shared_snat: Option<bool>,
}

pub async fn update_vpc(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let result = async {
        let o = parse_body::<VpcUpdateBody>(&body)?.vpc;
        if o.routes.as_ref().is_some_and(|r| !r.is_empty()) {
            return Err(crate::error::Error::invalid("vpc.routes", "VPC routes are not supported by netplane"));
        }
        let spec = VpcSpec { name: o.name, description: o.description, cidr: o.cidr, ..Default::default() };
        s.huawei_update_vpc(&ctx.project_id, &id, spec).await
    };
    ctx.answer(StatusCode::OK, "vpc", result.await, render_vpc)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubnetUpdateBody {
    subnet: SubnetUpdateOption,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubnetUpdateOption {
    name: Option<String>,
    description: Option<String>,
    ipv6_enable: Option<bool>,
    dhcp_enable: Option<bool>,
    primary_dns: Option<String>,
    secondary_dns: Option<String>,
    #[serde(rename = "dnsList")]
    dns_list: Option<Vec<String>>,
    #[allow(dead_code)]
    extra_dhcp_opts: Option<Vec<Value>>,
    #[allow(dead_code)]
    enable_network_address_usage_metrics: Option<bool>,
}

/// Answers only the subnet's id and status, as Huawei documents.
pub async fn update_subnet(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, vpc_id, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let result = async {
        let o = parse_body::<SubnetUpdateBody>(&body)?.subnet;
        if o.ipv6_enable == Some(true) {
            return Err(crate::error::Error::invalid("subnet.ipv6_enable", "IPv6 subnets are not supported by netplane"));
        }
        let spec = SubnetSpec {
            name: o.name,
            description: o.description,
            dhcp_enable: o.dhcp_enable,
            primary_dns: o.primary_dns,
            secondary_dns: o.secondary_dns,
            dns_list: o.dns_list,
            ..Default::default()
        };
        s.huawei_update_subnet(&ctx.project_id, &vpc_id, &id, spec).await
    };
    ctx.answer(StatusCode::OK, "subnet", result.await, |s: &Subnet| json!({"id": s.id, "status": "ACTIVE"}))
}

pub async fn delete_vpc(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, Path((_, id)): Path<(String, String)>) -> Response {
    ctx.answer_delete(s.huawei_delete_vpc(&ctx.project_id, &id).await)
}

pub async fn create_subnet(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let result = async {
        let o = parse_body::<SubnetBody>(&body)?.subnet;
        if o.ipv6_enable == Some(true) {
            return Err(crate::error::Error::invalid("subnet.ipv6_enable", "IPv6 subnets are not supported by netplane"));
        }
        let spec = SubnetSpec {
            name: o.name,
            description: o.description,
            cidr: o.cidr,
            vpc_id: o.vpc_id,
            gateway_ip: o.gateway_ip,
            dhcp_enable: o.dhcp_enable,
            primary_dns: o.primary_dns,
            secondary_dns: o.secondary_dns,
            dns_list: o.dns_list,
            availability_zone: o.availability_zone,
            tags: parse_inline(&o.tags.unwrap_or_default())?,
        };
        s.huawei_create_subnet(&ctx.project_id, spec).await
    };
    ctx.answer(StatusCode::OK, "subnet", result.await, render_subnet)
}

pub async fn delete_subnet(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, vpc_id, id)): Path<(String, String, String)>,
) -> Response {
    ctx.answer_delete(s.huawei_delete_subnet(&ctx.project_id, &vpc_id, &id).await)
}
