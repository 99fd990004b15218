//! Huawei VPC v1 ports: `/v1/{project_id}/ports` (create 201, show, list with the documented
//! filters, delete 204), in VPC v1's shapes (no `request_id`, `{"code", "message"}` errors).

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
use crate::domain::huawei::port::{FixedIpSpec, Port, PortSpec};
use crate::service::HuaweiArea;

impl Wire for Port {
    const KEY: &'static str = "port";
    const LIST_KEY: &'static str = "ports";
    fn render(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "network_id": self.network_id,
            "admin_state_up": self.admin_state_up,
            "mac_address": self.mac_address,
            "fixed_ips": [{"subnet_id": self.neutron_subnet_id, "ip_address": self.ip_address.to_string()}],
            "device_id": "",
            "device_owner": self.device_owner,
            "tenant_id": self.project_id,
            "status": self.status(),
            "security_groups": self.security_groups,
            "allowed_address_pairs": [],
            "extra_dhcp_opts": [],
            "binding:vnic_type": "normal",
            "binding:vif_details": {},
            "binding:profile": {},
            "dns_assignment": [],
            "dns_name": "",
            "instance_id": "",
            "instance_type": "",
            "port_security_enabled": true,
            "zone_id": "",
            "enable_efi": false,
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortBody {
    port: PortOption,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortOption {
    network_id: Option<String>,
    name: Option<String>,
    fixed_ips: Option<Vec<FixedIpOption>>,
    device_owner: Option<String>,
    admin_state_up: Option<bool>,
    security_groups: Option<Vec<String>>,
    allowed_address_pairs: Option<Vec<Value>>,
    extra_dhcp_opts: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixedIpOption {
    subnet_id: Option<String>,
    ip_address: Option<String>,
}

/// `POST /v1/{project_id}/ports`.
pub async fn create(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let result = async {
        let o = parse_body::<PortBody>(&body)?.port;
        if o.allowed_address_pairs.is_some_and(|p| !p.is_empty()) || o.extra_dhcp_opts.is_some_and(|d| !d.is_empty()) {
            return Err(crate::error::Error::invalid(
                "port",
                "allowed_address_pairs and extra_dhcp_opts are not supported by netplane (send them empty or not at all)",
            ));
        }
        let spec = PortSpec {
            name: o.name,
            network_id: o.network_id,
            fixed_ips: o
                .fixed_ips
                .unwrap_or_default()
                .into_iter()
                .map(|f| FixedIpSpec { subnet_id: f.subnet_id, ip_address: f.ip_address })
                .collect(),
            device_owner: o.device_owner,
            admin_state_up: o.admin_state_up,
            security_groups: o.security_groups.unwrap_or_default(),
        };
        s.huawei_create_port(&ctx.project_id, spec).await
    };
    ctx.answer(StatusCode::CREATED, "port", result.await, Port::render)
}

/// `DELETE /v1/{project_id}/ports/{id}`.
pub async fn delete(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, Path((_, id)): Path<(String, String)>) -> Response {
    ctx.answer_delete(s.huawei_delete_port(&ctx.project_id, &id).await)
}
