//! Huawei list semantics: `limit` (1–2000), `marker` (the id the previous page ended on),
//! `page_reverse`, filters given as repeated query keys (1–10 values each, any of which matches),
//! and the `page_info` that tells a client where the neighbouring pages start. Items are ordered by
//! id, so a marker keeps its place while other items come and go.

use std::collections::BTreeMap;

use crate::error::Error;

pub const MAX_LIMIT: usize = 2000;

/// A resource a list can filter: the filters its list accepts and its value of each.
pub trait Listable {
    const FILTERS: &'static [&'static str];
    fn field(&self, name: &str) -> String;

    /// Whether the item passes one value of a filter: its field equals it, unless the kind says
    /// otherwise (a list-valued field, say).
    fn filter_matches(&self, name: &str, value: &str) -> bool {
        self.field(name) == value
    }
}
pub const MAX_FILTER_VALUES: usize = 10;

/// A list request, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListRequest {
    pub limit: usize,
    pub marker: Option<String>,
    pub page_reverse: bool,
    /// Filter name → accepted values.
    pub filters: BTreeMap<String, Vec<String>>,
}

/// Where the neighbouring pages start.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_marker: Option<String>,
    pub current_count: usize,
}

impl ListRequest {
    /// Reads the query pairs of a list call; `filters` names the filters this list accepts.
    pub fn parse(pairs: &[(String, String)], filters: &[&str]) -> Result<ListRequest, Error> {
        let mut request = ListRequest { limit: MAX_LIMIT, ..ListRequest::default() };
        for (key, value) in pairs {
            match key.as_str() {
                "limit" => {
                    request.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| Error::invalid("limit", format!("must be an integer from 1 to {MAX_LIMIT}, not {value:?}")))?;
                }
                "marker" if !value.is_empty() => request.marker = Some(value.clone()),
                "marker" => {}
                "page_reverse" => {
                    request.page_reverse = match value.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(Error::invalid("page_reverse", format!("must be true or false, not {value:?}"))),
                    }
                }
                name if filters.contains(&name) => {
                    let values = request.filters.entry(name.to_string()).or_default();
                    values.push(value.clone());
                    if values.len() > MAX_FILTER_VALUES {
                        return Err(Error::invalid(name, format!("accepts at most {MAX_FILTER_VALUES} values")));
                    }
                }
                other => {
                    return Err(Error::invalid(
                        other,
                        format!("unknown query parameter; this list accepts limit, marker, page_reverse, {}", filters.join(", ")),
                    ));
                }
            }
        }
        Ok(request)
    }

    /// Whether an item passes every filter; `field` reads the item's value of a filter.
    pub fn matches(&self, field: impl Fn(&str) -> String) -> bool {
        self.filters.iter().all(|(name, values)| {
            let value = field(name);
            values.contains(&value)
        })
    }

    /// Whether a listable item passes every filter.
    pub fn admits<T: Listable>(&self, item: &T) -> bool {
        self.filters.iter().all(|(name, values)| values.iter().any(|value| item.filter_matches(name, value)))
    }

    /// Cuts the page out of `items` (filtered, in any order) and says where its neighbours start.
    pub fn page<T>(&self, mut items: Vec<T>, id: impl Fn(&T) -> &str) -> (Vec<T>, PageInfo) {
        items.sort_by(|a, b| id(a).cmp(id(b)));
        let (start, end) = match (&self.marker, self.page_reverse) {
            (None, false) => (0, items.len().min(self.limit)),
            (Some(marker), false) => {
                let start = items.partition_point(|item| id(item) <= marker.as_str());
                (start, items.len().min(start + self.limit))
            }
            (marker, true) => {
                let end = marker.as_ref().map_or(items.len(), |m| items.partition_point(|item| id(item) < m.as_str()));
                (end.saturating_sub(self.limit), end)
            }
        };
        let more_after = end < items.len();
        let more_before = start > 0;
        let page: Vec<T> = items.drain(start..end).collect();
        let info = PageInfo {
            next_marker: page.last().filter(|_| more_after).map(|item| id(item).to_string()),
            previous_marker: page.first().filter(|_| more_before).map(|item| id(item).to_string()),
            current_count: page.len(),
        };
        (page, info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("id-{i:02}")).collect()
    }

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(ListRequest::parse(&[], &[]).unwrap().limit, 2000);
        for bad in ["0", "2001", "x", "-1"] {
            let e = ListRequest::parse(&pairs(&[("limit", bad)]), &[]).unwrap_err();
            assert_eq!(e.violations()[0].field, "limit", "{bad}");
        }
        assert!(ListRequest::parse(&pairs(&[("page_reverse", "maybe")]), &[]).is_err());
        assert!(ListRequest::parse(&pairs(&[("colour", "red")]), &["gateway_id"]).is_err());
    }

    #[test]
    fn filters_are_repeated_keys_any_of_which_matches() {
        let r = ListRequest::parse(&pairs(&[("protocol", "tcp"), ("protocol", "udp"), ("gateway_id", "g")]), &["protocol", "gateway_id"])
            .unwrap();
        let item =
            |protocol: &'static str, gateway: &'static str| move |f: &str| if f == "protocol" { protocol.into() } else { gateway.into() };
        assert!(r.matches(item("tcp", "g")));
        assert!(r.matches(item("udp", "g")));
        assert!(!r.matches(item("any", "g")));
        assert!(!r.matches(item("tcp", "h")));
        let eleven: Vec<(&str, &str)> = (0..11).map(|_| ("protocol", "tcp")).collect();
        assert!(ListRequest::parse(&pairs(&eleven), &["protocol"]).is_err());
    }

    #[test]
    fn pages_forward_and_back_by_marker() {
        let request = |marker: Option<&str>, reverse: bool| ListRequest {
            limit: 2,
            marker: marker.map(String::from),
            page_reverse: reverse,
            ..Default::default()
        };
        let (first, info) = request(None, false).page(ids(5), |s| s);
        assert_eq!(first, ["id-00", "id-01"]);
        assert_eq!(info, PageInfo { next_marker: Some("id-01".into()), previous_marker: None, current_count: 2 });
        let (second, info) = request(Some("id-01"), false).page(ids(5), |s| s);
        assert_eq!(second, ["id-02", "id-03"]);
        assert_eq!((info.next_marker.as_deref(), info.previous_marker.as_deref()), (Some("id-03"), Some("id-02")));
        let (last, info) = request(Some("id-03"), false).page(ids(5), |s| s);
        assert_eq!((last, info.next_marker, info.current_count), (vec!["id-04".to_string()], None, 1));
        let (back, info) = request(Some("id-02"), true).page(ids(5), |s| s);
        assert_eq!(back, ["id-00", "id-01"]);
        assert_eq!((info.previous_marker, info.next_marker.as_deref()), (None, Some("id-01")));
        let (tail, _) = request(None, true).page(ids(5), |s| s);
        assert_eq!(tail, ["id-03", "id-04"]);
    }

    #[test]
    fn a_marker_that_is_gone_keeps_its_place() {
        let request = ListRequest { limit: 2, marker: Some("id-015".into()), ..Default::default() };
        let (page, _) = request.page(ids(5), |s| s);
        assert_eq!(page, ["id-02", "id-03"]);
    }
}
