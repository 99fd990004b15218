//! Route tables: static routes of one network, each to a destination prefix through one next hop
//! (an address inside the private ranges, or a gateway for the default route only).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::clock::Timestamp;
use crate::error::FieldViolation;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NextHop {
    Address(Ipv4Addr),
    Gateway(String),
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StaticRoute {
    pub destination_prefix: Ipv4Net,
    pub next_hop: NextHop,
    pub labels: HashMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RouteTable {
    pub id: String,
    pub folder_id: String,
    pub created_at: Timestamp,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub network_id: String,
    pub static_routes: Vec<StaticRoute>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RouteTablePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub labels: Option<HashMap<String, String>>,
    /// Replaces the whole list (empty clears it).
    pub static_routes: Option<Vec<StaticRoute>>,
}

/// The ranges a next-hop address must fall in (RFC 1918).
const PRIVATE: &str = "[10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]";

impl RouteTable {
    pub fn apply(&mut self, p: &RouteTablePatch) {
        if let Some(v) = &p.name {
            self.name = v.clone();
        }
        if let Some(v) = &p.description {
            self.description = v.clone();
        }
        if let Some(v) = &p.labels {
            self.labels = v.clone();
        }
        if let Some(v) = &p.static_routes {
            self.static_routes = v.clone();
        }
    }

    /// The gateways the table's routes go through.
    pub fn gateway_ids(&self) -> impl Iterator<Item = &str> {
        gateway_ids(&self.static_routes)
    }
}

pub fn gateway_ids(routes: &[StaticRoute]) -> impl Iterator<Item = &str> {
    routes.iter().filter_map(|r| match &r.next_hop {
        NextHop::Gateway(id) => Some(id.as_str()),
        NextHop::Address(_) => None,
    })
}

/// What is wrong with `routes` (reported under `field`): link-local destinations, next-hop
/// addresses outside the private ranges, gateways on anything but the default route, and two
/// routes to one prefix.
pub fn route_violations(field: &str, routes: &[StaticRoute]) -> Vec<FieldViolation> {
    let link_local: Ipv4Net = Ipv4Net::new(Ipv4Addr::new(169, 254, 0, 0), 16).unwrap_or_default();
    let mut out = Vec::new();
    for (i, route) in routes.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let prefix = route.destination_prefix;
        if link_local.contains(&prefix) {
            out.push(FieldViolation::new(format!("{at}.destination_prefix"), format!("link-local prefix {prefix} cannot be routed")));
        }
        match &route.next_hop {
            NextHop::Address(ip) if !ip.is_private() => out.push(FieldViolation::new(
                format!("{at}.next_hop_address"),
                format!("Illegal argument {ip} value does not belong to allowed range {PRIVATE}"),
            )),
            NextHop::Gateway(_) if prefix.prefix_len() != 0 => {
                out.push(FieldViolation::new(format!("{at}.gateway_id"), "a gateway is the next hop of destination 0.0.0.0/0 only"))
            }
            _ => {}
        }
        if routes[..i].iter().any(|r| r.destination_prefix == prefix) {
            out.push(FieldViolation::new(
                format!("{at}.destination_prefix"),
                format!("another route of the table already goes to {prefix}"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(prefix: &str, hop: NextHop) -> StaticRoute {
        StaticRoute { destination_prefix: prefix.parse().unwrap(), next_hop: hop, labels: HashMap::new() }
    }

    #[test]
    fn routes_are_checked_as_the_cloud_checks_them() {
        let ok =
            [route("0.0.0.0/0", NextHop::Gateway("enpgw".into())), route("10.10.0.0/16", NextHop::Address("10.0.0.5".parse().unwrap()))];
        assert!(route_violations("static_routes", &ok).is_empty());
        let bad = [
            route("169.254.1.0/24", NextHop::Address("10.0.0.5".parse().unwrap())),
            route("10.20.0.0/16", NextHop::Address("8.8.8.8".parse().unwrap())),
            route("10.30.0.0/16", NextHop::Gateway("enpgw".into())),
            route("10.20.0.0/16", NextHop::Address("10.0.0.6".parse().unwrap())),
        ];
        let fields: Vec<String> = route_violations("static_routes", &bad).into_iter().map(|v| v.field).collect();
        assert_eq!(
            fields,
            [
                "static_routes[0].destination_prefix",
                "static_routes[1].next_hop_address",
                "static_routes[2].gateway_id",
                "static_routes[3].destination_prefix"
            ]
        );
        assert!(route_violations("r", &bad)[1].description.contains("does not belong to allowed range"));
    }
}
