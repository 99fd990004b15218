//! Scripted faults (`/_netplane/faults`): a rule names a method (a gRPC full method such as
//! `yandex.cloud.compute.v1.InstanceService/AttachNetworkInterface`, or a Huawei API name such as
//! `CreatePrivateDnat`), optionally fields the request must have (paths into the request as
//! canonical JSON), how many matches to let through first (`after`) and how many to act on
//! (`times`), and one action. Deterministic: the same calls meet the same fate every run.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::validate::{to_lower_camel_case, to_snake_case};
use crate::error::{Code, Error};

/// What a rule does to a call it acts on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultAction {
    /// The call fails at once. Huawei calls answer `status` and `error_code` (by default the code's
    /// HTTP status and `NETPLANE.FAULT`).
    Error { code: Code, message: String, status: Option<u16>, error_code: Option<String> },
    /// The call is accepted; its operation then finishes with this error.
    OperationError { code: Code, message: String },
    /// The call is accepted; its operation stays pending while the rule exists.
    Stall,
    /// The call is answered after this long.
    Delay(Duration),
}

impl FaultAction {
    /// Whether the action acts on an operation (and so needs a method that starts one).
    pub fn needs_operation(&self) -> bool {
        matches!(self, FaultAction::OperationError { .. } | FaultAction::Stall)
    }

    /// The error a failing call answers with.
    pub fn error(code: Code, message: &str) -> Error {
        Error::Injected { code, message: message.to_string() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    pub id: String,
    pub method: String,
    /// Request field path (`a.b.0.c`, snake_case or lowerCamelCase) → the value it must have.
    pub matches: BTreeMap<String, Value>,
    pub after: u64,
    pub times: Option<u64>,
    pub action: FaultAction,
    /// Calls that matched so far.
    pub hits: u64,
    /// Calls it acted on so far.
    pub applied: u64,
}

/// A rule as `POST /_netplane/faults` takes it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub method: Option<String>,
    #[serde(rename = "match", default)]
    pub matches: BTreeMap<String, Value>,
    pub after: Option<u64>,
    pub times: Option<u64>,
    pub error: Option<ErrorSpec>,
    pub operation_error: Option<ErrorSpec>,
    pub stall: Option<bool>,
    pub delay: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    pub code: Option<String>,
    pub message: Option<String>,
    pub status: Option<u16>,
    pub error_code: Option<String>,
}

fn code(field: &str, spec: &ErrorSpec) -> Result<(Code, String), Error> {
    let name =
        spec.code.as_deref().ok_or_else(|| Error::invalid(format!("{field}.code"), "is required (a gRPC code name, e.g. UNAVAILABLE)"))?;
    let code = Code::from_name(name).ok_or_else(|| {
        Error::invalid(format!("{field}.code"), format!("{name:?} is not a gRPC code name (e.g. NOT_FOUND, UNAVAILABLE)"))
    })?;
    Ok((code, spec.message.clone().unwrap_or_else(|| format!("injected by netplane fault rule ({name})"))))
}

impl RuleSpec {
    /// The rule, checked; `known` says whether a method exists and whether it starts an operation.
    pub fn into_rule(self, id: String, known: impl Fn(&str) -> Option<bool>) -> Result<FaultRule, Error> {
        let method = self.method.filter(|m| !m.is_empty()).ok_or_else(|| Error::invalid("method", "is required"))?;
        let starts_operation = known(&method).ok_or_else(|| {
            Error::invalid("method", format!("{method:?} is neither a served gRPC method (package.Service/Method) nor a Huawei API name"))
        })?;
        let mut actions = Vec::new();
        if let Some(error) = &self.error {
            let (code, message) = code("error", error)?;
            if let Some(status) = error.status.filter(|s| !(400..=599).contains(s)) {
                return Err(Error::invalid("error.status", format!("{status} is not an HTTP error status")));
            }
            actions.push(FaultAction::Error { code, message, status: error.status, error_code: error.error_code.clone() });
        }
        if let Some(error) = &self.operation_error {
            let (code, message) = code("operation_error", error)?;
            actions.push(FaultAction::OperationError { code, message });
        }
        match self.stall {
            Some(true) => actions.push(FaultAction::Stall),
            Some(false) => return Err(Error::invalid("stall", "must be true when given")),
            None => {}
        }
        if let Some(delay) = &self.delay {
            let d = humantime::parse_duration(delay).map_err(|e| Error::invalid("delay", format!("{delay:?}: {e}")))?;
            if d > Duration::from_secs(600) {
                return Err(Error::invalid("delay", "must be at most 10 minutes"));
            }
            actions.push(FaultAction::Delay(d));
        }
        let action = match actions.len() {
            1 => actions.remove(0),
            0 => return Err(Error::invalid("action", "give one of error, operation_error, stall, delay")),
            _ => return Err(Error::invalid("action", "give only one of error, operation_error, stall, delay")),
        };
        if action.needs_operation() && !starts_operation {
            return Err(Error::invalid("method", format!("{method} starts no operation, so operation_error and stall cannot apply")));
        }
        if self.times == Some(0) {
            return Err(Error::invalid("times", "must be at least 1 (leave it out for no limit)"));
        }
        Ok(FaultRule { id, method, matches: self.matches, after: self.after.unwrap_or(0), times: self.times, action, hits: 0, applied: 0 })
    }
}

impl FaultRule {
    /// Whether `request` (the call's canonical JSON) has every field the rule names.
    pub fn matches(&self, method: &str, request: &Value) -> bool {
        self.method == method
            && self.matches.iter().all(|(path, expected)| lookup(request, path).is_some_and(|actual| same(actual, expected)))
    }

    /// Counts one matching call; the action if this one is to be acted on (past `after`, within `times`).
    pub fn hit(&mut self) -> Option<FaultAction> {
        self.hits += 1;
        let due = self.hits > self.after && self.times.is_none_or(|times| self.applied < times);
        if due {
            self.applied += 1;
        }
        due.then(|| self.action.clone())
    }
}

/// The value at a dotted path; each object key may be written in snake_case or lowerCamelCase.
fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |at, segment| match at {
        Value::Object(map) => {
            map.get(segment).or_else(|| map.get(&to_lower_camel_case(segment))).or_else(|| map.get(&to_snake_case(segment)))
        }
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Equal as JSON, or as text (`"8080"` matches 8080; proto JSON writes 64-bit numbers as strings).
fn same(actual: &Value, expected: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    actual == expected || matches!((text(actual), text(expected)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ATTACH: &str = "yandex.cloud.compute.v1.InstanceService/AttachNetworkInterface";

    fn known(method: &str) -> Option<bool> {
        match method {
            ATTACH => Some(true),
            "yandex.cloud.compute.v1.InstanceService/Get" | "CreatePrivateDnat" => Some(false),
            _ => None,
        }
    }

    fn spec(value: Value) -> RuleSpec {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_rule_has_a_known_method_and_exactly_one_fitting_action() {
        let rule =
            spec(json!({"method": ATTACH, "error": {"code": "UNAVAILABLE"}, "after": 1, "times": 2})).into_rule("r".into(), known).unwrap();
        assert!(matches!(rule.action, FaultAction::Error { code: Code::Unavailable, .. }));
        let refused = |v: Value| spec(v).into_rule("r".into(), known).unwrap_err().violations()[0].field.clone();
        assert_eq!(refused(json!({"method": "nope/Nope", "stall": true})), "method");
        assert_eq!(refused(json!({"method": ATTACH})), "action");
        assert_eq!(refused(json!({"method": ATTACH, "stall": true, "delay": "1s"})), "action");
        assert_eq!(refused(json!({"method": ATTACH, "error": {"code": "BROKEN"}})), "error.code");
        assert_eq!(refused(json!({"method": "CreatePrivateDnat", "stall": true})), "method");
        assert_eq!(refused(json!({"method": ATTACH, "delay": "soon"})), "delay");
        assert_eq!(refused(json!({"method": ATTACH, "stall": true, "times": 0})), "times");
        assert!(serde_json::from_value::<RuleSpec>(json!({"method": ATTACH, "colour": 1})).is_err());
    }

    #[test]
    fn after_skips_and_times_bounds() {
        let mut rule = spec(json!({"method": ATTACH, "stall": true, "after": 2, "times": 1})).into_rule("r".into(), known).unwrap();
        let fates: Vec<bool> = (0..5).map(|_| rule.hit().is_some()).collect();
        assert_eq!(fates, [false, false, true, false, false]);
        assert_eq!((rule.hits, rule.applied), (5, 1));
        let mut always = spec(json!({"method": ATTACH, "stall": true})).into_rule("r".into(), known).unwrap();
        assert!((0..3).all(|_| always.hit().is_some()));
    }

    #[test]
    fn fields_match_in_either_spelling_and_as_text() {
        let rule = spec(json!({"method": ATTACH, "stall": true, "match": {"instance_id": "i1", "network_interface_spec.subnet_id": "s1"}}))
            .into_rule("r".into(), known)
            .unwrap();
        let request = json!({"instanceId": "i1", "networkInterfaceSpec": {"subnetId": "s1"}});
        assert!(rule.matches(ATTACH, &request));
        assert!(!rule.matches(ATTACH, &json!({"instanceId": "i2", "networkInterfaceSpec": {"subnetId": "s1"}})));
        assert!(!rule.matches("yandex.cloud.compute.v1.InstanceService/Get", &request));
        let ports = spec(
            json!({"method": "CreatePrivateDnat", "delay": "1ms", "match": {"dnat_rule.transit_service_port": 8080, "tags.0.key": "k"}}),
        )
        .into_rule("r".into(), known)
        .unwrap();
        assert!(ports.matches("CreatePrivateDnat", &json!({"dnat_rule": {"transit_service_port": "8080"}, "tags": [{"key": "k"}]})));
        assert!(!ports.matches("CreatePrivateDnat", &json!({"dnat_rule": {}})));
    }
}
