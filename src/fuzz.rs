//! The fuzz suite: property tests (stable Rust, `proptest`) that throw arbitrary and
//! half-valid input at every parser a request reaches before any rule of the cloud does — the
//! JSON transcoder, the filter language, path templates, page tokens, Huawei bodies and queries,
//! and the AK/SK headers — and check that each answers (a value or an error, never a panic) and
//! that what it accepts means what was sent. `PROPTEST_CASES` raises the number of cases for a
//! longer run.

use std::sync::LazyLock;

use proptest::prelude::*;

use crate::api::rest::descriptor_pool;
use crate::api::rest::routes::RouteTable;
use crate::api::rest::template::Template;
use crate::domain::aksk;
use crate::domain::filter::{self, INSTANCE_FIELDS};
use crate::domain::huawei::listing::ListRequest;
use crate::service::paging::{self, ListScope};
use crate::store::{Cursor, SortValue};

static ROUTES: LazyLock<(RouteTable, Vec<(http::Method, String)>)> = LazyLock::new(|| {
    let table = RouteTable::from_descriptors(descriptor_pool(), crate::server::SERVICES).expect("routes");
    let paths = table.examples();
    (table, paths)
});

/// Text that is mostly the characters parsers split on, with some that break naive slicing.
fn tricky_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('"'),
            Just('\\'),
            Just('/'),
            Just('='),
            Just('('),
            Just(')'),
            Just(','),
            Just(' '),
            Just('{'),
            Just('}'),
            Just(':'),
            Just('%'),
            Just('é'),
            Just('中'),
            Just('\u{0}'),
            any::<char>(),
            "[a-zA-Z0-9_]".prop_map(|s| s.chars().next().unwrap_or('a')),
        ],
        0..40,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// JSON-ish bytes: valid JSON values, their prefixes, and raw bytes.
fn json_bytes() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        tricky_text().prop_map(serde_json::Value::from),
    ];
    let value = leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::vec(("[a-zA-Z_]{1,12}", inner), 0..5)
                .prop_map(|pairs| serde_json::Value::Object(pairs.into_iter().collect())),
        ]
    });
    prop_oneof![
        value.clone().prop_map(|v| v.to_string().into_bytes()),
        (value, any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let text = v.to_string().into_bytes();
            let end = cut.index(text.len() + 1);
            text[..end].to_vec()
        }),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every REST route takes any body and query: a message or an error.
    #[test]
    fn the_json_transcoder_answers_any_body_and_query(route in any::<prop::sample::Index>(), body in json_bytes(), query in tricky_text()) {
        let (table, paths) = &*ROUTES;
        let (method, path) = route.get(paths);
        if let crate::api::rest::routes::Lookup::Found(route, vars) = table.lookup(method, path) {
            let query: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
            let _ = crate::api::rest::json::request_encoded(route, &vars, &format!("q={query}"), &body);
            let _ = crate::api::rest::json::request_encoded(route, &vars, "", &body);
        }
    }

    /// Any path is routed or refused; a route's own example path is routed to it.
    #[test]
    fn routes_and_templates_answer_any_path(path in tricky_text(), template in tricky_text()) {
        let (table, _) = &*ROUTES;
        let _ = table.lookup(&http::Method::GET, &format!("/{path}"));
        let _ = table.lookup(&http::Method::POST, &path);
        if let Ok(template) = Template::parse(&template) {
            let _ = template.matches(&path);
        }
    }

    /// Arbitrary filters and orders parse or are refused; well-formed ones mean what they say.
    #[test]
    fn the_filter_language_answers_any_text(text in tricky_text(), names in proptest::collection::vec("[a-z0-9-]{0,12}", 1..4)) {
        let _ = filter::parse_filter(&text, INSTANCE_FIELDS);
        let _ = filter::parse_order_by(&text, INSTANCE_FIELDS);
        let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        let text = format!("name IN ({}) AND zoneId != {}", quoted.join(", "), quoted[0]);
        let conditions = filter::parse_filter(&text, INSTANCE_FIELDS).map_err(TestCaseError::fail)?;
        prop_assert_eq!(conditions.len(), 2);
        prop_assert_eq!(&conditions[0].values, &names);
    }

    /// A page token decodes only as issued, for the list that issued it.
    #[test]
    fn page_tokens_decode_only_as_issued(garbage in tricky_text(), id in "[a-z0-9]{1,20}", value in any::<i64>(), folder in "[a-z0-9-]{1,20}") {
        let scope = ListScope::new("instances", &[&folder]);
        let _ = paging::decode::<Cursor>(&garbage, &scope);
        let cursor = Cursor { value: SortValue::Int(value), id };
        let token = paging::encode(&cursor, &scope);
        prop_assert!(token.len() <= 100, "{} characters", token.len());
        prop_assert_eq!(paging::decode::<Cursor>(&token, &scope).map_err(|e| TestCaseError::fail(e.to_string()))?, Some(cursor));
        let other = ListScope::new("instances", &[&format!("{folder}x")]);
        prop_assert!(paging::decode::<Cursor>(&token, &other).is_err());
    }

    /// Huawei bodies and list queries: a value or an error.
    #[test]
    fn huawei_bodies_and_queries_answer_anything(body in json_bytes(), pairs in proptest::collection::vec((tricky_text(), tricky_text()), 0..6)) {
        let _ = crate::api::huawei::reply::parse_body::<serde_json::Value>(&bytes::Bytes::from(body.clone()));
        let _ = crate::api::huawei::reply::parse_body::<HuaweiShape>(&bytes::Bytes::from(body));
        let _ = ListRequest::parse(&pairs, &["id", "name", "status", "description"]);
        let query: String = pairs.iter().map(|(k, v)| format!("{k}={v}&")).collect();
        let _ = ListRequest::parse(&crate::api::huawei::reply::query_pairs(Some(&query)), &["id", "name"]);
    }

    /// AK/SK headers, dates and canonical requests: a value or a refusal.
    #[test]
    fn aksk_headers_answer_anything(
        authorization in tricky_text(),
        date in tricky_text(),
        names in proptest::collection::vec(tricky_text(), 0..5),
        path in tricky_text(),
    ) {
        let _ = aksk::parse_authorization(&authorization);
        let _ = aksk::parse_authorization(&format!("SDK-HMAC-SHA256 {authorization}"));
        let _ = aksk::parse_sdk_date(&date);
        let headers: Vec<(String, String)> = names.iter().map(|n| (n.clone(), date.clone())).collect();
        let request = aksk::Request { method: "GET", path: &path, query: &authorization, headers: &headers, body: date.as_bytes() };
        let _ = aksk::canonical_request(&request, &names);
    }

    /// Dates of the byte length and shape the parser expects (`T` at byte 8, `Z` at byte 15) but
    /// with multi-byte characters in the fields are refused, not sliced through a character.
    #[test]
    fn sdk_dates_of_the_right_shape_never_split_a_character(
        day in proptest::collection::vec(prop_oneof![Just("1"), Just("é")], 8),
        time in proptest::collection::vec(prop_oneof![Just("2"), Just("é")], 6),
    ) {
        let fill = |parts: &[&str], bytes: usize| {
            let mut field = String::new();
            for part in parts {
                if field.len() + part.len() <= bytes {
                    field.push_str(part);
                }
            }
            while field.len() < bytes {
                field.push('0');
            }
            field
        };
        let date = format!("{}T{}Z", fill(&day, 8), fill(&time, 6));
        prop_assert_eq!(date.len(), 16);
        let parsed = aksk::parse_sdk_date(&date);
        prop_assert_eq!(parsed.is_ok(), date.is_ascii() && humantime::parse_rfc3339(&format!("{}-{}-{}T{}:{}:{}Z", &date[0..4], &date[4..6], &date[6..8], &date[9..11], &date[11..13], &date[13..15])).is_ok());
    }
}

/// The shape of a Huawei create body, for the typed parse.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct HuaweiShape {
    rule: HuaweiRule,
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct HuaweiRule {
    name: String,
    port: u16,
    tags: Vec<String>,
}
