//! What every Huawei handler shares: the call's context (API, project, request id), reading JSON
//! bodies and query strings, and writing answers and errors in Huawei's shapes. NAT answers carry
//! `request_id` in the body; every answer carries `X-Request-Id`.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, HuaweiApi, TransportError};

/// One Huawei call, as the authentication layer admitted it.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub api: HuaweiApi,
    pub project_id: String,
    pub request_id: String,
}

impl Ctx {
    /// The answer to a successful call: `body` (a JSON object) with `request_id` added on NAT.
    pub fn ok(&self, status: StatusCode, body: Value) -> Response {
        let body = match (self.api, body) {
            (HuaweiApi::PrivateNat | HuaweiApi::VpcV3, Value::Object(mut object)) => {
                object.insert("request_id".into(), Value::String(self.request_id.clone()));
                Value::Object(object)
            }
            (_, body) => body,
        };
        self.respond(status, Some(body))
    }

    /// A successful answer exactly as `body` is (a few documented bodies carry no `request_id`).
    pub fn ok_as_is(&self, status: StatusCode, body: Value) -> Response {
        self.respond(status, Some(body))
    }

    /// 204 without a body.
    pub fn no_content(&self) -> Response {
        self.respond(StatusCode::NO_CONTENT, None)
    }

    /// An error in the API's shape: `{"error_code", "error_msg", "request_id"}` on NAT,
    /// `{"code", "message"}` on VPC.
    pub fn fail(&self, error: &Error) -> Response {
        let answer = error.huawei(self.api);
        if answer.status >= 500 {
            tracing::error!(error = %error, code = answer.code, request_id = %self.request_id, "Huawei call failed");
        } else {
            tracing::debug!(error = %error, code = answer.code, "Huawei call refused");
        }
        self.fail_as(answer.status, answer.code, &answer.message)
    }

    /// An error answer with the given status, vendor code and message (a fault rule's).
    pub fn fail_as(&self, status: u16, code: &str, message: &str) -> Response {
        let mut body = Map::new();
        match self.api {
            HuaweiApi::PrivateNat | HuaweiApi::VpcV3 => {
                body.insert("error_code".into(), code.into());
                body.insert("error_msg".into(), message.into());
                body.insert("request_id".into(), self.request_id.clone().into());
            }
            HuaweiApi::Vpc => {
                body.insert("code".into(), code.into());
                body.insert("message".into(), message.into());
            }
        }
        self.respond(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Some(Value::Object(body)))
    }

    /// Either answer.
    pub fn reply(&self, status: StatusCode, result: Result<Value, Error>) -> Response {
        match result {
            Ok(body) => self.ok(status, body),
            Err(e) => self.fail(&e),
        }
    }

    /// A resource answer: `{key: render(value)}`.
    pub fn answer<T>(&self, status: StatusCode, key: &str, result: Result<T, Error>, render: impl Fn(&T) -> Value) -> Response {
        self.reply(status, result.map(|v| serde_json::json!({ key: render(&v) })))
    }

    /// A list answer: `{key: [...], "page_info": {...}}`.
    pub fn answer_list<T>(
        &self,
        key: &str,
        result: Result<crate::service::huawei::Listed<T>, Error>,
        render: impl Fn(&T) -> Value,
    ) -> Response {
        self.reply(
            StatusCode::OK,
            result
                .map(|(items, page_info)| serde_json::json!({ key: items.iter().map(render).collect::<Vec<_>>(), "page_info": page_info })),
        )
    }

    /// A delete answer: 204, or the error.
    pub fn answer_delete(&self, result: Result<(), Error>) -> Response {
        match result {
            Ok(()) => self.no_content(),
            Err(e) => self.fail(&e),
        }
    }

    fn respond(&self, status: StatusCode, body: Option<Value>) -> Response {
        let mut response = match body {
            Some(body) => {
                let mut r = Response::new(Body::from(body.to_string()));
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
                r
            }
            None => Response::new(Body::empty()),
        };
        *response.status_mut() = status;
        if let Ok(id) = HeaderValue::from_str(&self.request_id) {
            response.headers_mut().insert("x-request-id", id);
        }
        response
    }
}

/// A JSON request body: syntax errors are `MalformedJson` (NAT.1010), well-formed JSON of the
/// wrong shape names the offending field (NAT.0002).
pub fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, Error> {
    // Before the typed parse, which would name only the object holding a repeated key.
    if let Some(key) = crate::api::json_keys::first_duplicate_key(body) {
        return Err(Error::invalid(key, "the field is given more than once"));
    }
    let mut json = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize::<_, T>(&mut json).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return TransportError::MalformedJson(inner.to_string()).into();
        }
        let path = e.path().to_string();
        Error::invalid(if path == "." { "body".to_string() } else { path }, inner.to_string())
    })?;
    json.end().map_err(|e| Error::from(TransportError::MalformedJson(e.to_string())))?;
    Ok(value)
}

/// The query string as decoded pairs, in order.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes()).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wrapped {
        #[allow(dead_code)]
        rule: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[allow(dead_code)]
        port: Option<String>,
    }

    #[test]
    fn syntax_errors_are_malformed_json_and_shape_errors_name_the_field() {
        assert!(matches!(
            parse_body::<Wrapped>(&Bytes::from_static(b"{\"rule\": ")),
            Err(Error::Transport(TransportError::MalformedJson(_)))
        ));
        assert!(matches!(parse_body::<Wrapped>(&Bytes::from_static(b"")), Err(Error::Transport(TransportError::MalformedJson(_)))));
        assert!(matches!(
            parse_body::<Wrapped>(&Bytes::from_static(b"{\"rule\": {}} x")),
            Err(Error::Transport(TransportError::MalformedJson(_)))
        ));
        let wrong = parse_body::<Wrapped>(&Bytes::from_static(b"{\"rule\": {\"port\": 80}}")).unwrap_err();
        assert_eq!(wrong.violations()[0].field, "rule.port");
        let unknown = parse_body::<Wrapped>(&Bytes::from_static(b"{\"rule\": {\"colour\": \"red\"}}")).unwrap_err();
        assert_eq!(unknown.violations()[0].field, "rule.colour");
        let missing = parse_body::<Wrapped>(&Bytes::from_static(b"{}")).unwrap_err();
        assert_eq!(missing.violations()[0].field, "body");
        assert!(parse_body::<Wrapped>(&Bytes::from_static(b"{\"rule\": {}}")).is_ok());
    }

    #[test]
    fn query_pairs_keep_repeats_in_order() {
        assert_eq!(
            query_pairs(Some("a=1&a=2&b=x%20y")),
            vec![("a".into(), "1".into()), ("a".into(), "2".into()), ("b".into(), "x y".into())]
        );
        assert!(query_pairs(None).is_empty());
    }
}
