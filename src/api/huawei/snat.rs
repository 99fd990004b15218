//! `/v3/{project_id}/private-nat/snat-rules`: create (201), update and delete (204); show and
//! list are `resource`'s. Bodies are wrapped in `snat_rule`; the transit IPs come back only as
//! `transit_ip_associations`.

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::reply::{Ctx, parse_body};
use super::resource::Wire;
use crate::domain::huawei::format_time;
use crate::domain::huawei::snat::{SnatRule, SnatSpec};
use crate::service::HuaweiArea;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnatBody {
    snat_rule: SnatOption,
}

/// The create and update options (update takes only `description` and `transit_ip_ids`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnatOption {
    gateway_id: Option<String>,
    cidr: Option<String>,
    virsubnet_id: Option<String>,
    description: Option<String>,
    transit_ip_ids: Option<Vec<String>>,
}

impl From<SnatOption> for SnatSpec {
    fn from(o: SnatOption) -> SnatSpec {
        SnatSpec {
            gateway_id: o.gateway_id,
            cidr: o.cidr,
            virsubnet_id: o.virsubnet_id,
            description: o.description,
            transit_ip_ids: o.transit_ip_ids,
        }
    }
}

impl Wire for SnatRule {
    const KEY: &'static str = "snat_rule";
    const LIST_KEY: &'static str = "snat_rules";
    fn render(&self) -> Value {
        render(self)
    }
}

/// `PrivateSnat`: the unused one of `cidr` and `virsubnet_id` is an empty string.
fn render(r: &SnatRule) -> Value {
    json!({
        "id": r.id,
        "project_id": r.project_id,
        "gateway_id": r.gateway_id,
        "cidr": r.cidr,
        "virsubnet_id": r.virsubnet_id,
        "description": r.description,
        "transit_ip_associations": r.transit_ips.iter().map(|t| json!({
            "transit_ip_id": t.transit_ip_id, "transit_ip_address": t.transit_ip_address,
        })).collect::<Vec<_>>(),
        "created_at": format_time(r.created_at),
        "updated_at": format_time(r.updated_at),
        "enterprise_project_id": r.enterprise_project_id,
        "status": r.status.as_str(),
    })
}

pub async fn create(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let result = async { s.nat_create_snat_rule(&ctx.project_id, parse_body::<SnatBody>(&body)?.snat_rule.into()).await };
    ctx.answer(StatusCode::CREATED, "snat_rule", result.await, render)
}

pub async fn update(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let result = async { s.nat_update_snat_rule(&ctx.project_id, &id, parse_body::<SnatBody>(&body)?.snat_rule.into()).await };
    ctx.answer(StatusCode::OK, "snat_rule", result.await, render)
}

pub async fn delete(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, Path((_, id)): Path<(String, String)>) -> Response {
    ctx.answer_delete(s.nat_delete_snat_rule(&ctx.project_id, &id).await)
}
