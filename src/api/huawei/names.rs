//! Huawei API names (the SDKs' operation names, `CreatePrivateDnat`), by HTTP method and route:
//! what fault rules and the request journal call a Huawei call. VPC v3 calls whose v1 twin has the
//! same name carry a `V3` suffix; the two batch tag routes of VPC v2.0 are named by their body's
//! `action`, as the SDK's two methods are.

use http::Method;

const NAT: &str = "/v3/{project_id}/private-nat";

/// `(method, route template, name)`; templates are the router's.
const NAMES: &[(&str, &str, &str)] = &[
    ("GET", "/gateways", "ListPrivateNats"),
    ("POST", "/gateways", "CreatePrivateNat"),
    ("GET", "/gateways/{id}", "ShowPrivateNat"),
    ("PUT", "/gateways/{id}", "UpdatePrivateNat"),
    ("DELETE", "/gateways/{id}", "DeletePrivateNat"),
    ("GET", "/transit-subnets", "ListTransitSubnets"),
    ("POST", "/transit-subnets", "CreateTransitSubnet"),
    ("GET", "/transit-subnets/{id}", "ShowTransitSubnet"),
    ("PUT", "/transit-subnets/{id}", "UpdateTransitSubnet"),
    ("DELETE", "/transit-subnets/{id}", "DeleteTransitSubnet"),
    ("GET", "/transit-ips", "ListTransitIps"),
    ("POST", "/transit-ips", "CreateTransitIp"),
    ("GET", "/transit-ips/{id}", "ShowTransitIp"),
    ("DELETE", "/transit-ips/{id}", "DeleteTransitIp"),
    ("GET", "/dnat-rules", "ListPrivateDnats"),
    ("POST", "/dnat-rules", "CreatePrivateDnat"),
    ("GET", "/dnat-rules/{id}", "ShowPrivateDnat"),
    ("PUT", "/dnat-rules/{id}", "UpdatePrivateDnat"),
    ("DELETE", "/dnat-rules/{id}", "DeletePrivateDnat"),
    ("GET", "/snat-rules", "ListPrivateSnats"),
    ("POST", "/snat-rules", "CreatePrivateSnat"),
    ("GET", "/snat-rules/{id}", "ShowPrivateSnat"),
    ("PUT", "/snat-rules/{id}", "UpdatePrivateSnat"),
    ("DELETE", "/snat-rules/{id}", "DeletePrivateSnat"),
    ("GET", "/specs", "ListSpecs"),
];

/// Tag routes: the base below the project, and the SDK's words for the kind (`PrivateNat`,
/// `PrivateNats`).
const TAGGED: &[(&str, &str, &str)] = &[
    ("/v3/{project_id}/private-nat-gateways", "PrivateNat", "PrivateNats"),
    ("/v3/{project_id}/transit-ips", "TransitIp", "TransitIps"),
    ("/v3/{project_id}/transit-subnets", "TransitSubnet", "TransitSubnets"),
    ("/v2.0/{project_id}/vpcs", "Vpc", "Vpcs"),
    ("/v2.0/{project_id}/subnets", "Subnet", "Subnets"),
];

const VPC: &[(&str, &str, &str)] = &[
    ("GET", "/v1/{project_id}/vpcs", "ListVpcs"),
    ("POST", "/v1/{project_id}/vpcs", "CreateVpc"),
    ("GET", "/v1/{project_id}/vpcs/{id}", "ShowVpc"),
    ("PUT", "/v1/{project_id}/vpcs/{id}", "UpdateVpc"),
    ("DELETE", "/v1/{project_id}/vpcs/{id}", "DeleteVpc"),
    ("GET", "/v1/{project_id}/subnets", "ListSubnets"),
    ("POST", "/v1/{project_id}/subnets", "CreateSubnet"),
    ("GET", "/v1/{project_id}/subnets/{id}", "ShowSubnet"),
    ("PUT", "/v1/{project_id}/vpcs/{vpc_id}/subnets/{id}", "UpdateSubnet"),
    ("DELETE", "/v1/{project_id}/vpcs/{vpc_id}/subnets/{id}", "DeleteSubnet"),
    ("GET", "/v1/{project_id}/ports", "ListPorts"),
    ("POST", "/v1/{project_id}/ports", "CreatePort"),
    ("GET", "/v1/{project_id}/ports/{id}", "ShowPort"),
    ("DELETE", "/v1/{project_id}/ports/{id}", "DeletePort"),
    ("GET", "/v3/{project_id}/vpc/vpcs", "ListVpcsV3"),
    ("POST", "/v3/{project_id}/vpc/vpcs", "CreateVpcV3"),
    ("GET", "/v3/{project_id}/vpc/vpcs/{id}", "ShowVpcV3"),
    ("PUT", "/v3/{project_id}/vpc/vpcs/{id}", "UpdateVpcV3"),
    ("DELETE", "/v3/{project_id}/vpc/vpcs/{id}", "DeleteVpcV3"),
    ("PUT", "/v3/{project_id}/vpc/vpcs/{id}/add-extend-cidr", "AddVpcExtendCidr"),
    ("PUT", "/v3/{project_id}/vpc/vpcs/{id}/remove-extend-cidr", "RemoveVpcExtendCidr"),
];

/// The name of the call `method template` (the route the router matched); `body` decides the two
/// VPC v2.0 batch routes.
pub fn api_name(method: &Method, template: &str, body: &[u8]) -> Option<String> {
    if let Some(rest) = template.strip_prefix(NAT).filter(|rest| rest.starts_with('/')) {
        return NAMES.iter().find(|(m, t, _)| *m == method.as_str() && *t == rest).map(|(_, _, n)| n.to_string());
    }
    if let Some((_, _, name)) = VPC.iter().find(|(m, t, _)| *m == method.as_str() && *t == template) {
        return Some(name.to_string());
    }
    if template.ends_with("/gateways/{id}/status") {
        return Some("SetGatewayStatus".into());
    }
    let (base, one, many) = TAGGED.iter().find(|(base, _, _)| template.starts_with(base))?;
    let v2 = base.starts_with("/v2.0");
    let rest = &template[base.len()..];
    let name = match (method.as_str(), rest) {
        ("GET", "/{id}/tags") => format!("Show{one}Tags"),
        ("POST", "/{id}/tags") if v2 && *one == "Vpc" => "CreateVpcResourceTag".into(),
        ("POST", "/{id}/tags") => format!("Create{one}Tag"),
        ("POST", "/{id}/tags/action") if v2 => {
            let deleting = serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|b| b["action"] == "delete");
            format!("Batch{}{one}Tags", if deleting { "Delete" } else { "Create" })
        }
        ("POST", "/{id}/tags/action") => format!("BatchCreateDelete{one}Tags"),
        ("DELETE", "/{id}/tags/action" | "/{id}/tags/{key}") => format!("Delete{one}Tag"),
        ("GET", "/tags") => format!("List{one}Tags"),
        ("POST", "/resource_instances/action") => format!("List{many}ByTags"),
        _ => return None,
    };
    Some(name)
}

/// The `'static` copy of a name `api_name` gave (the set is fixed, made once), for records that
/// must not allocate per call.
pub fn interned(name: &str) -> Option<&'static str> {
    static NAMES: std::sync::LazyLock<Vec<&'static str>> =
        std::sync::LazyLock::new(|| all_names().into_iter().map(|n| &*Box::leak(n.into_boxed_str())).collect());
    NAMES.iter().find(|n| **n == name).copied()
}

/// Every name `api_name` can give (fault rules must name one).
pub fn all_names() -> Vec<String> {
    let mut names: Vec<String> = NAMES.iter().chain(VPC).map(|(_, _, n)| n.to_string()).collect();
    names.push("SetGatewayStatus".into());
    for (base, one, many) in TAGGED {
        let v2 = base.starts_with("/v2.0");
        names.push(format!("Show{one}Tags"));
        names.push(if v2 && *one == "Vpc" { "CreateVpcResourceTag".into() } else { format!("Create{one}Tag") });
        if v2 {
            names.push(format!("BatchCreate{one}Tags"));
            names.push(format!("BatchDelete{one}Tags"));
        } else {
            names.push(format!("BatchCreateDelete{one}Tags"));
        }
        names.push(format!("Delete{one}Tag"));
        names.push(format!("List{one}Tags"));
        names.push(format!("List{many}ByTags"));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_named_as_the_sdks_name_them() {
        let name = |m: Method, t: &str, body: &str| api_name(&m, t, body.as_bytes());
        assert_eq!(name(Method::POST, "/v3/{project_id}/private-nat/dnat-rules", ""), Some("CreatePrivateDnat".into()));
        assert_eq!(name(Method::GET, "/v3/{project_id}/vpc/vpcs/{id}", ""), Some("ShowVpcV3".into()));
        assert_eq!(name(Method::GET, "/v1/{project_id}/vpcs/{id}", ""), Some("ShowVpc".into()));
        assert_eq!(
            name(Method::POST, "/v3/{project_id}/private-nat-gateways/{id}/tags/action", ""),
            Some("BatchCreateDeletePrivateNatTags".into())
        );
        assert_eq!(
            name(Method::POST, "/v2.0/{project_id}/vpcs/{id}/tags/action", r#"{"action":"delete"}"#),
            Some("BatchDeleteVpcTags".into())
        );
        assert_eq!(
            name(Method::POST, "/v2.0/{project_id}/subnets/{id}/tags/action", r#"{"action":"create"}"#),
            Some("BatchCreateSubnetTags".into())
        );
        assert_eq!(name(Method::POST, "/v3/{project_id}/transit-ips/resource_instances/action", ""), Some("ListTransitIpsByTags".into()));
        assert_eq!(name(Method::PATCH, "/v3/{project_id}/private-nat/dnat-rules", ""), None);
        for n in ["CreatePrivateDnat", "ListSpecs", "BatchDeleteVpcTags", "ListPrivateNatsByTags", "CreateVpcResourceTag", "DeletePort"] {
            assert!(all_names().iter().any(|a| a == n), "{n}");
        }
    }
}
