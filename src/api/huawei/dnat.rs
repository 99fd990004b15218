//! `/v3/{project_id}/private-nat/dnat-rules`: create (201), update and delete (204); show (the
//! seed) and list are `resource`'s. Bodies are wrapped in `dnat_rule`; ports are strings.

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::reply::{Ctx, parse_body};
use super::resource::Wire;
use crate::domain::huawei::dnat::{DnatRule, DnatSpec};
use crate::domain::huawei::format_time;
use crate::service::HuaweiArea;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DnatBody {
    dnat_rule: DnatOption,
}

/// The create and update options: update has no `gateway_id` (a given one must not differ).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DnatOption {
    description: Option<String>,
    transit_ip_id: Option<String>,
    gateway_id: Option<String>,
    network_interface_id: Option<String>,
    private_ip_address: Option<String>,
    protocol: Option<String>,
    internal_service_port: Option<String>,
    transit_service_port: Option<String>,
}

impl From<DnatOption> for DnatSpec {
    fn from(o: DnatOption) -> DnatSpec {
        DnatSpec {
            description: o.description,
            transit_ip_id: o.transit_ip_id,
            gateway_id: o.gateway_id,
            network_interface_id: o.network_interface_id,
            private_ip_address: o.private_ip_address,
            protocol: o.protocol,
            internal_service_port: o.internal_service_port,
            transit_service_port: o.transit_service_port,
        }
    }
}

/// `PrivateDnat`, with the fields in the order of the seed's example.
impl Wire for DnatRule {
    const KEY: &'static str = "dnat_rule";
    const LIST_KEY: &'static str = "dnat_rules";
    fn render(&self) -> Value {
        render(self)
    }
}

fn render(r: &DnatRule) -> Value {
    json!({
        "id": r.id,
        "project_id": r.project_id,
        "description": r.description,
        "gateway_id": r.gateway_id,
        "transit_ip_id": r.transit_ip_id,
        "enterprise_project_id": r.enterprise_project_id,
        "network_interface_id": r.network_interface_id(),
        "type": r.backend_type().as_str(),
        "protocol": r.protocol.as_str(),
        "internal_service_port": r.internal_service_port.to_string(),
        "transit_service_port": r.transit_service_port.to_string(),
        "private_ip_address": r.private_ip_address(),
        "created_at": format_time(r.created_at),
        "updated_at": format_time(r.updated_at),
        "status": r.status.as_str(),
    })
}

pub async fn create(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let result = async { s.nat_create_dnat_rule(&ctx.project_id, parse_body::<DnatBody>(&body)?.dnat_rule.into()).await };
    ctx.answer(StatusCode::CREATED, "dnat_rule", result.await, render)
}

pub async fn update(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let result = async { s.nat_update_dnat_rule(&ctx.project_id, &id, parse_body::<DnatBody>(&body)?.dnat_rule.into()).await };
    ctx.answer(StatusCode::OK, "dnat_rule", result.await, render)
}

pub async fn delete(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, Path((_, id)): Path<(String, String)>) -> Response {
    ctx.answer_delete(s.nat_delete_dnat_rule(&ctx.project_id, &id).await)
}
