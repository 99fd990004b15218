//! JSON ⇄ protobuf in the canonical proto3 mapping (lowerCamelCase names, int64 as strings, enums
//! by name, RFC 3339 timestamps, `Any` with `@type`): the request message from body, query string
//! and path variables; the response and error bodies from the gRPC answer.

use prost::Message;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, SerializeOptions};
use serde::de::DeserializeSeed;
use serde_json::{Map, Value};

use super::render::{self, OPERATION};
use super::routes::{BodyMapping, Route};
use super::template::PathVars;
use crate::api::answer::TypedAnswer;
use crate::error::Error;
use crate::proto::json as typed_json;

/// The wire bytes of the request message of `route`, built from the three places REST puts
/// fields; any field that is unknown, malformed or of the wrong type is an INVALID_ARGUMENT naming
/// it. Read into the typed message where it takes the JSON (the cheaper way), else through
/// the descriptors, whose refusal names the field.
pub fn request_encoded(route: &Route, path_vars: &PathVars, query: &str, body: &[u8]) -> Result<Vec<u8>, Error> {
    let json = request_json(route, path_vars, query, body)?;
    if let Some(bytes) = typed_json::encode_from_json(route.input.full_name(), &json) {
        return Ok(bytes);
    }
    Ok(decode(&route.input, json)?.encode_to_vec())
}

/// The request of `route` as one JSON object: the body, query parameters and path variables put
/// in their fields (each checked against the descriptors on its way in).
pub(super) fn request_json(route: &Route, path_vars: &PathVars, query: &str, body: &[u8]) -> Result<Value, Error> {
    let mut request = match &route.body {
        BodyMapping::Whole => body_object(body)?,
        BodyMapping::None => {
            if !is_empty_body(body) {
                return Err(Error::invalid(
                    "body",
                    format!("{} {} takes no body; send its fields as query parameters", route.http_method, route.grpc_path),
                ));
            }
            Map::new()
        }
        BodyMapping::Field(field) => {
            let mut request = Map::new();
            let path = field_path(&route.input, field).map_err(|e| Error::invalid(field.as_str(), e))?;
            let value = if is_empty_body(body) { Value::Object(Map::new()) } else { parse_json(body)? };
            set(&mut request, &path, value);
            request
        }
    };
    if !query.is_empty() {
        if route.body == BodyMapping::Whole {
            return Err(Error::invalid("query", "this method takes its fields from the JSON body, not from query parameters"));
        }
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let path = field_path(&route.input, &name).map_err(|e| Error::invalid(name.as_ref(), e))?;
            let value = scalar(&path, &value).map_err(|e| Error::invalid(name.as_ref(), e))?;
            push(&mut request, &path, value);
        }
    }
    // Path variables come last: they name the resource, and the body cannot redirect the call.
    for (name, value) in path_vars {
        let path = field_path(&route.input, name).map_err(|e| Error::Internal(format!("http rule of {}: {e}", route.grpc_path)))?;
        let value = scalar(&path, value).map_err(|e| Error::invalid(name.as_str(), e))?;
        set(&mut request, &path, value);
    }
    Ok(Value::Object(request))
}

/// The canonical JSON of the message `descriptor` encoded in `bytes`, pretty-printed: written
/// from the typed message where there is one (a fraction of the work of walking descriptors,
/// BENCHMARKS.md), else, or if that fails, from the dynamic one, whose errors say what is wrong.
pub fn render_encoded(descriptor: &MessageDescriptor, bytes: &[u8]) -> Result<Vec<u8>, Error> {
    if let Some(rendered) = render::typed(descriptor.full_name(), bytes) {
        return Ok(rendered);
    }
    let message = DynamicMessage::decode(descriptor.clone(), bytes)
        .map_err(|e| Error::Internal(format!("decoding {}: {e}", descriptor.full_name())))?;
    render(&message)
}

/// The canonical JSON of the answer a handler handed over typed, which is the message
/// `descriptor`: written from it where the typed mapping can, else from its wire bytes as
/// `render_encoded` writes them.
pub fn render_answer(descriptor: &MessageDescriptor, answer: &TypedAnswer) -> Result<Vec<u8>, Error> {
    match render::answer(descriptor.full_name(), answer) {
        Some(rendered) => Ok(rendered),
        None => render_encoded(descriptor, &answer.encode()),
    }
}

/// The canonical JSON of `message`, pretty-printed. An `Operation` always carries `done`, as the
/// API reference shows it, even while it is `false`.
pub fn render(message: &DynamicMessage) -> Result<Vec<u8>, Error> {
    let failed = |e: serde_json::Error| Error::Internal(format!("rendering {}: {e}", message.descriptor().full_name()));
    let mut bytes = Vec::with_capacity(1024);
    if lacks_done(message) {
        // proto3 leaves a `false` out, so this one answer is built as a tree to add it.
        let mut json = message.serialize_with_options(serde_json::value::Serializer, &SerializeOptions::new()).map_err(failed)?;
        if let Value::Object(fields) = &mut json {
            fields.entry("done").or_insert(Value::Bool(false));
        }
        serde_json::to_writer_pretty(&mut bytes, &json).map_err(failed)?;
    } else {
        // Straight into the text: a tree of `Value`s first cost more than the writing.
        message.serialize_with_options(&mut serde_json::Serializer::pretty(&mut bytes), &SerializeOptions::new()).map_err(failed)?;
    }
    bytes.push(b'\n');
    Ok(bytes)
}

/// An `Operation` whose `done` is `false`, which the canonical mapping would leave out.
fn lacks_done(message: &DynamicMessage) -> bool {
    message.descriptor().full_name() == OPERATION && message.get_field_by_name("done").is_none_or(|done| done.as_bool() != Some(true))
}

fn is_empty_body(body: &[u8]) -> bool {
    let trimmed = body.trim_ascii();
    trimmed.is_empty() || trimmed == b"{}"
}

fn parse_json(body: &[u8]) -> Result<Value, Error> {
    let value = serde_json::from_slice(body).map_err(|e| Error::invalid("body", format!("malformed JSON: {e}")))?;
    match crate::api::json_keys::first_duplicate_key(body) {
        Some(key) => Err(Error::invalid(key, "the field is given more than once")),
        None => Ok(value),
    }
}

fn body_object(body: &[u8]) -> Result<Map<String, Value>, Error> {
    if body.trim_ascii().is_empty() {
        return Ok(Map::new());
    }
    match parse_json(body)? {
        Value::Object(map) => Ok(map),
        other => Err(Error::invalid("body", format!("expected a JSON object, got {}", json_type(&other)))),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decodes the assembled JSON; a failure names the field by its JSON path.
pub(super) fn decode(descriptor: &MessageDescriptor, json: Value) -> Result<DynamicMessage, Error> {
    let mut track = serde_path_to_error::Track::new();
    let result = descriptor.clone().deserialize(serde_path_to_error::Deserializer::new(json, &mut track));
    result.map_err(|e| {
        let path = track.path().to_string();
        let field = if path == "." || path == "?" { "body".to_string() } else { path };
        Error::invalid(field, e.to_string())
    })
}

/// Resolves a dotted field path (each part by JSON or proto name) through message fields.
fn field_path(descriptor: &MessageDescriptor, dotted: &str) -> Result<Vec<FieldDescriptor>, String> {
    let mut path = Vec::new();
    let mut message = descriptor.clone();
    for (i, part) in dotted.split('.').enumerate() {
        if i > 0 {
            let parent: &FieldDescriptor = &path[i - 1];
            message = match parent.kind() {
                Kind::Message(m) if !parent.is_list() && !parent.is_map() && !is_well_known(&m) => m,
                _ => return Err(format!("{} has no field {part:?}", parent.json_name())),
            };
        }
        let field = message
            .get_field_by_json_name(part)
            .or_else(|| message.get_field_by_name(part))
            .ok_or_else(|| format!("unknown field {part:?} in {}", message.full_name()))?;
        path.push(field);
    }
    Ok(path)
}

fn is_well_known(message: &MessageDescriptor) -> bool {
    message.package_name() == "google.protobuf"
}

/// A query or path value as the JSON the field's type takes. Everything but booleans is accepted
/// as a string by the canonical mapping (numbers, enums, timestamps, field masks, wrappers).
fn scalar(path: &[FieldDescriptor], value: &str) -> Result<Value, String> {
    let field = path.last().ok_or("empty field path")?;
    if field.is_map() {
        return Err(format!("map field {} cannot be set from a query parameter", field.json_name()));
    }
    match field.kind() {
        Kind::Bool => scalar_bool(value),
        Kind::Message(m) if m.full_name() == "google.protobuf.BoolValue" => scalar_bool(value),
        Kind::Message(m) if !is_well_known(&m) => Err(format!("{} is a message; set its fields as {0}.<field>", field.json_name())),
        _ => Ok(Value::String(value.to_string())),
    }
}

fn scalar_bool(value: &str) -> Result<Value, String> {
    match value {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        _ => Err(format!("expected true or false, got {value:?}")),
    }
}

/// The object holding the last field of `path`, created on the way; any value already there
/// under the other spelling of a name is dropped, so one field is never given twice.
fn parent_object<'a>(root: &'a mut Map<String, Value>, path: &[FieldDescriptor]) -> &'a mut Map<String, Value> {
    let mut object = root;
    for field in &path[..path.len() - 1] {
        let key = claim_key(object, field);
        let slot = object.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        object = match slot {
            Value::Object(map) => map,
            _ => unreachable!("just made an object"),
        };
    }
    object
}

/// The key `field` is stored under (its JSON name), moving a value given under its proto name.
fn claim_key(object: &mut Map<String, Value>, field: &FieldDescriptor) -> String {
    if field.name() != field.json_name()
        && let Some(value) = object.remove(field.name())
    {
        object.entry(field.json_name().to_string()).or_insert(value);
    }
    field.json_name().to_string()
}

fn set(root: &mut Map<String, Value>, path: &[FieldDescriptor], value: Value) {
    let Some(field) = path.last() else { return };
    let object = parent_object(root, path);
    let key = claim_key(object, field);
    object.insert(key, value);
}

/// Like `set`, but a repeated field collects every occurrence (`?ids=a&ids=b`).
fn push(root: &mut Map<String, Value>, path: &[FieldDescriptor], value: Value) {
    let Some(field) = path.last() else { return };
    if !field.is_list() {
        return set(root, path, value);
    }
    let object = parent_object(root, path);
    let key = claim_key(object, field);
    match object.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
        Value::Array(items) => items.push(value),
        slot => *slot = Value::Array(vec![value]),
    }
}

#[cfg(test)]
mod tests {
    use http::Method;
    use prost::Message;

    use super::*;
    use crate::api::answer::Packed;
    use crate::api::rest::descriptor_pool;
    use crate::api::rest::routes::{Lookup, RouteTable};
    use crate::server::SERVICES;

    fn request(method: Method, path_and_query: &str, body: &str) -> Result<Value, Error> {
        let table = RouteTable::from_descriptors(descriptor_pool(), SERVICES).unwrap();
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let Lookup::Found(route, vars) = table.lookup(&method, path) else { panic!("no route for {path}") };
        let bytes = request_encoded(route, &vars, query, body.as_bytes())?;
        Ok(serde_json::from_slice(&render_encoded(&route.input, &bytes).unwrap()).unwrap())
    }

    fn violation(e: Error) -> (String, String) {
        let v = e.violations().first().cloned().unwrap_or_else(|| panic!("{e} has no violation"));
        (v.field, v.description)
    }

    #[test]
    fn body_and_path_make_the_request_and_the_path_wins() {
        let body = r#"{"networkInterfaceIndex":"1","subnet_id":"e9b","instanceId":"other",
            "primaryV4AddressSpec":{"address":"10.0.0.9","oneToOneNatSpec":{"ipVersion":"IPV4","dnsRecordSpecs":[{"fqdn":"a.","ttl":300}]}}}"#;
        let json = request(Method::POST, "/compute/v1/instances/fhm1:attachNetworkInterface", body).unwrap();
        assert_eq!(json["instanceId"], "fhm1");
        assert_eq!(json["networkInterfaceIndex"], "1");
        assert_eq!(json["subnetId"], "e9b", "proto field names are accepted on input");
        assert_eq!(json["primaryV4AddressSpec"]["oneToOneNatSpec"]["ipVersion"], "IPV4");
        assert_eq!(
            json["primaryV4AddressSpec"]["oneToOneNatSpec"]["dnsRecordSpecs"][0]["ttl"], "300",
            "int64 as a number in, a string out"
        );
    }

    #[test]
    fn query_parameters_fill_get_requests() {
        let json = request(Method::GET, "/compute/v1/instances?folderId=f1&page_size=5&filter=name%3D%22a%22", "").unwrap();
        assert_eq!(
            (json["folderId"].as_str(), json["pageSize"].as_str(), json["filter"].as_str()),
            (Some("f1"), Some("5"), Some("name=\"a\""))
        );
        let json = request(Method::GET, "/vpc/v1/addresses:byValue?externalIpv4Address=198.18.0.5", "").unwrap();
        assert_eq!(json["externalIpv4Address"], "198.18.0.5", "a oneof member by query");
    }

    #[test]
    fn nested_and_repeated_query_parameters() {
        let table = RouteTable::from_descriptors(descriptor_pool(), SERVICES).unwrap();
        let Lookup::Found(route, _) = table.lookup(&Method::GET, "/compute/v1/instances") else { panic!() };
        let mut map = Map::new();
        let path = field_path(&route.input, "pageToken").unwrap();
        push(&mut map, &path, Value::String("t".into()));
        assert_eq!(map["pageToken"], "t");
        let address = descriptor_pool().get_message_by_name("yandex.cloud.compute.v1.AttachInstanceNetworkInterfaceRequest").unwrap();
        let nested = field_path(&address, "primary_v4_address_spec.address").unwrap();
        let mut map = Map::new();
        push(&mut map, &nested, Value::String("10.0.0.1".into()));
        let groups = field_path(&address, "securityGroupIds").unwrap();
        push(&mut map, &groups, Value::String("a".into()));
        push(&mut map, &groups, Value::String("b".into()));
        assert_eq!(
            Value::Object(map),
            serde_json::json!({"primaryV4AddressSpec": {"address": "10.0.0.1"}, "securityGroupIds": ["a", "b"]})
        );
    }

    #[test]
    fn bad_input_names_the_field() {
        let path = "/compute/v1/instances/fhm1:attachNetworkInterface";
        let (field, why) = violation(request(Method::POST, path, r#"{"subnetId": 5}"#).unwrap_err());
        assert_eq!(field, "subnetId");
        assert!(why.contains("invalid type"), "{why}");
        let (field, why) = violation(request(Method::POST, path, r#"{"primaryV4AddressSpec": {"adress": "x"}}"#).unwrap_err());
        assert_eq!((field.as_str(), why.as_str()), ("primaryV4AddressSpec", "unrecognized field name 'adress'"));
        let (field, why) = violation(request(Method::POST, path, r#"{"subnetId": "a""#).unwrap_err());
        assert_eq!(field, "body");
        assert!(why.starts_with("malformed JSON"), "{why}");
        let (field, _) = violation(request(Method::POST, path, "[1]").unwrap_err());
        assert_eq!(field, "body");
        let (field, _) = violation(request(Method::GET, "/compute/v1/instances?pageSize=lots", "").unwrap_err());
        assert_eq!(field, "pageSize");
        let (field, why) = violation(request(Method::GET, "/compute/v1/instances?colour=red", "").unwrap_err());
        assert_eq!(field, "colour");
        assert!(why.contains("unknown field"), "{why}");
        let (field, _) =
            violation(request(Method::POST, path, r#"{"primaryV4AddressSpec": {"oneToOneNatSpec": {"ipVersion": "IPV5"}}}"#).unwrap_err());
        assert_eq!(field, "primaryV4AddressSpec.oneToOneNatSpec.ipVersion");
        let (field, _) = violation(request(Method::GET, "/compute/v1/instances", r#"{"folderId": "x"}"#).unwrap_err());
        assert_eq!(field, "body");
        let (field, _) = violation(
            request(Method::POST, path, "{}").map(|_| ()).and_then(|_| request(Method::POST, &format!("{path}?x=1"), "{}")).unwrap_err(),
        );
        assert_eq!(field, "query");
    }

    #[test]
    fn a_done_operation_is_written_as_its_tree_would_be() {
        use crate::proto::yandex::cloud::compute::v1::Instance;
        use crate::proto::yandex::cloud::operation::{Operation, operation::Result as Outcome};
        let instance = Instance {
            id: "fhm1".into(),
            name: "a \"quoted\" name".into(),
            labels: [("k".to_string(), "v".to_string())].into(),
            created_at: Some(crate::proto::wkt::Timestamp { seconds: 1_700_000_000, nanos: 5 }),
            ..Default::default()
        };
        let op = Operation {
            id: "op1".into(),
            done: true,
            result: Some(Outcome::Response(crate::proto::wkt::Any {
                type_url: "type.googleapis.com/yandex.cloud.compute.v1.Instance".into(),
                value: instance.encode_to_vec(),
            })),
            ..Default::default()
        };
        let descriptor = descriptor_pool().get_message_by_name("yandex.cloud.operation.Operation").unwrap();
        let message = DynamicMessage::decode(descriptor.clone(), op.encode_to_vec().as_slice()).unwrap();
        let tree = message.serialize_with_options(serde_json::value::Serializer, &SerializeOptions::new()).unwrap();
        let mut expected = serde_json::to_vec_pretty(&tree).unwrap();
        expected.push(b'\n');
        assert_eq!(String::from_utf8(render(&message).unwrap()).unwrap(), String::from_utf8(expected.clone()).unwrap());
        // The typed path writes the same text: the same fields in the same order, the same layout.
        let typed = render_encoded(&descriptor, &op.encode_to_vec()).unwrap();
        assert_eq!(String::from_utf8(typed).unwrap(), String::from_utf8(expected.clone()).unwrap());
        // So does the answer a handler hands over typed.
        let answered = render_answer(&descriptor, &TypedAnswer::new(op.clone())).unwrap();
        assert_eq!(String::from_utf8(answered).unwrap(), String::from_utf8(expected.clone()).unwrap());
        // And one whose response the handler kept typed (`respond_operation`), written from that.
        let kept = TypedAnswer::new(op.clone()).with_packed(Some(Packed::new("yandex.cloud.compute.v1.Instance", instance.clone())));
        assert_eq!(String::from_utf8(render_answer(&descriptor, &kept).unwrap()).unwrap(), String::from_utf8(expected.clone()).unwrap());
        // The typed response is written only where it is the message the `Any` names: a mismatch
        // (a bug) still writes what the `Any` holds.
        let network = crate::proto::yandex::cloud::vpc::v1::Network { id: "enp1".into(), ..Default::default() };
        let mismatched = TypedAnswer::new(op.clone()).with_packed(Some(Packed::new("yandex.cloud.vpc.v1.Network", network)));
        assert_eq!(String::from_utf8(render_answer(&descriptor, &mismatched).unwrap()).unwrap(), String::from_utf8(expected).unwrap());
        // A pending one says `done: false`, before its metadata.
        let pending = Operation {
            done: false,
            metadata: Some(crate::proto::wkt::Any { type_url: "type.googleapis.com/google.protobuf.Empty".into(), value: vec![] }),
            ..op
        };
        let text = String::from_utf8(render_encoded(&descriptor, &pending.encode_to_vec()).unwrap()).unwrap();
        assert_eq!(text, String::from_utf8(render_answer(&descriptor, &TypedAnswer::new(pending)).unwrap()).unwrap());
        assert!(text.contains("\"done\": false,\n  \"metadata\": {\n    \"@type\": \"type.googleapis.com/google.protobuf.Empty\",\n    \"value\": {}\n  },\n  \"response\": {"), "{text}");
    }

    #[test]
    fn an_answer_the_typed_mapping_cannot_write_is_written_from_its_bytes() {
        use crate::proto::yandex::cloud::compute::v1::Instance;
        // An enum number the contract lacks: the generated serializer refuses it, the descriptors
        // write the number.
        let instance = Instance { id: "fhm1".into(), status: 99, ..Default::default() };
        let descriptor = descriptor_pool().get_message_by_name("yandex.cloud.compute.v1.Instance").unwrap();
        assert!(render::answer(descriptor.full_name(), &TypedAnswer::new(instance.clone())).is_none());
        let json: Value = serde_json::from_slice(&render_answer(&descriptor, &TypedAnswer::new(instance)).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"id": "fhm1", "status": 99}));
    }

    #[test]
    fn operations_always_say_whether_they_are_done() {
        let op = descriptor_pool().get_message_by_name("yandex.cloud.operation.Operation").unwrap();
        let json: Value = serde_json::from_slice(&render(&DynamicMessage::new(op)).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"done": false}));
    }
}
