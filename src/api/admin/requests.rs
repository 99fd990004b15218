//! `GET /_netplane/requests`: the request journal (`?method=…&code=…&request_id=…&limit=…&since=<request id>`), each
//! call with its request as JSON, credentials redacted; and `GET /metrics`, the Prometheus text.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use prost_reflect::DynamicMessage;
use serde_json::{Value, json};

use super::{AdminState, answer, fail};
use crate::api::calls::{CallRecord, JournalFilter, MAX_KEPT_BYTES, RawRequest};
use crate::api::framing;
use crate::error::{Code, Error};

/// What a journal list answers when no `limit` is given.
const DEFAULT_LIMIT: usize = 100;

/// Object keys whose values are credentials (any case, anywhere in the name).
const SECRET_WORDS: [&str; 7] = ["token", "secret", "password", "jwt", "private_key", "signature", "access_key"];

pub async fn list(State(state): State<AdminState>, RawQuery(query): RawQuery) -> Response {
    let result = (|| {
        let (mut filter, mut since, mut limit) = (JournalFilter::default(), None, DEFAULT_LIMIT);
        for (key, value) in form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
            let given = Some(value.clone().into_owned()).filter(|v| !v.is_empty());
            match key.as_ref() {
                "method" => filter.method = given,
                "code" => filter.code = given,
                "request_id" => filter.request_id = given,
                "since" => since = given,
                "limit" => limit = value.parse().map_err(|_| Error::invalid("limit", format!("{value:?} is not a count")))?,
                other => {
                    return Err(Error::invalid(other, "unknown parameter; the journal takes method, code, request_id, limit and since"));
                }
            }
        }
        let records = state.journal.read(&filter, since.as_deref(), limit);
        Ok(json!({"requests": records.iter().map(render).collect::<Vec<_>>()}))
    })();
    answer(StatusCode::OK, result)
}

fn render(record: &CallRecord) -> Value {
    let time = humantime::format_rfc3339_micros(record.time).to_string();
    json!({
        "time": time,
        "protocol": record.protocol,
        "method": record.method,
        "http_method": record.http_method,
        "path": record.path,
        "subject": record.subject,
        "http_status": record.http_status,
        "grpc_code": record.grpc_code.map(|c| if c == 0 { "OK" } else { Code::from_number(c).name() }),
        "code": record.code_name(),
        "duration_ms": record.duration_us as f64 / 1000.0,
        "request_id": record.request_id,
        "operation_id": record.operation_id,
        "request": record.request.as_ref().map(request_json).map(redact),
    })
}

/// A request as canonical JSON: a gRPC message through its descriptor, a JSON body as it is.
fn request_json(raw: &RawRequest) -> Value {
    match raw {
        RawRequest::Grpc { path, message } => {
            let descriptor = path
                .strip_prefix('/')
                .and_then(|p| p.split_once('/'))
                .and_then(|(service, method)| {
                    crate::api::rest::descriptor_pool().get_service_by_name(service)?.methods().find(|m| m.name() == method)
                })
                .map(|m| m.input());
            descriptor
                .and_then(|d| DynamicMessage::decode(d, framing::unary(message).unwrap_or(message)).ok())
                .and_then(|m| m.serialize_with_options(serde_json::value::Serializer, &prost_reflect::SerializeOptions::new()).ok())
                .unwrap_or(Value::Null)
        }
        RawRequest::Json(bytes) => {
            serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
        }
        RawRequest::Omitted(size) => {
            json!({"omitted": format!("{size} bytes: the journal keeps requests of up to {MAX_KEPT_BYTES} bytes")})
        }
    }
}

/// The value with every credential replaced.
pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, v)| {
                    let lower = key.to_ascii_lowercase();
                    let secret = SECRET_WORDS.iter().any(|w| lower.contains(w) || lower.replace('_', "").contains(&w.replace('_', "")));
                    (key, if secret { Value::String("[REDACTED]".into()) } else { redact(v) })
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AdminState>) -> Response {
    match state.admin.counts().await {
        Ok((pending, kinds)) => {
            let text = crate::metrics::metrics().render(pending, &kinds);
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
        }
        Err(e) => fail(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_at_any_depth() {
        let request = json!({
            "yandexPassportOauthToken": "y0_secret",
            "jwt": "a.b.c",
            "auth": {"access_key": "AK", "secretKey": "SK", "user": "alice"},
            "items": [{"iam_token": "t1", "name": "keep"}],
            "name": "net",
        });
        let redacted = redact(request);
        assert_eq!(redacted["yandexPassportOauthToken"], "[REDACTED]");
        assert_eq!(redacted["jwt"], "[REDACTED]");
        assert_eq!(redacted["auth"]["access_key"], "[REDACTED]");
        assert_eq!(redacted["auth"]["secretKey"], "[REDACTED]");
        assert_eq!(redacted["auth"]["user"], "alice");
        assert_eq!(redacted["items"][0]["iam_token"], "[REDACTED]");
        assert_eq!((redacted["items"][0]["name"].as_str(), redacted["name"].as_str()), (Some("keep"), Some("net")));
    }
}
