//! The REST route table, read from the `google.api.http` options of the served gRPC methods in our
//! one descriptor set: no route is written by hand, so REST can never drift from the contract.

use foldhash::{HashMap, HashMapExt};

use http::Method;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor};

#[cfg(test)]
use super::template::Specificity;
use super::template::{PathVars, Template};
use crate::proto::google::api::{HttpRule, http_rule::Pattern};

/// Where the HTTP body goes in the request message (`HttpRule.body`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyMapping {
    /// No body: every field not in the path comes from the query string.
    None,
    /// `body: "*"`: the body is the request message; the path fills in the rest.
    Whole,
    /// `body: "field"`: the body is that field; the query string fills in the rest.
    Field(String),
}

/// One HTTP binding of one gRPC method.
#[derive(Clone, Debug)]
pub struct Route {
    pub http_method: Method,
    pub template: Template,
    pub body: BodyMapping,
    /// The gRPC path the call is forwarded to: `/<package>.<Service>/<Method>`.
    pub grpc_path: String,
    /// The same as the forwarded call's URI, parsed once: a clone shares its bytes, where parsing
    /// the path for every call cost about 1,300 instructions.
    pub grpc_uri: http::Uri,
    pub input: MessageDescriptor,
    pub output: MessageDescriptor,
}

/// What a request line resolves to.
#[derive(Debug)]
pub enum Lookup<'a> {
    Found(&'a Route, PathVars),
    /// The path exists, but not for this HTTP method; these are the methods it has.
    WrongMethod(Vec<Method>),
    NotFound,
}

/// How many leading literal segments of a template file it in the table: enough to tell the
/// collections of one API apart (`compute/v1/instances`), so a lookup tries a handful of
/// templates instead of every one.
const KEY_SEGMENTS: usize = 3;

#[derive(Debug)]
pub struct RouteTable {
    routes: Vec<Route>,
    /// The routes a path may fit, by its template's leading literals (at most `KEY_SEGMENTS`,
    /// joined by '/'): a template that fits a path begins with that path's first segments.
    /// Hashed with foldhash (as the verbs below): every REST call probes it, and it is a fixed set
    /// that a caller can only look up.
    by_prefix: HashMap<String, Filed>,
}

/// The routes a path filed under one prefix may fit: those filed under it and under every
/// shorter prefix of it, so that one probe (the path's longest filed prefix) finds them all.
/// Those without a verb are apart from those with one (a path ending in
/// `:attachNetworkInterface` can only fit a template with that verb, or none). Each list is most
/// specific first, in table order among equals, so a lookup stops at the first fitting
/// specificity instead of trying every template.
#[derive(Debug, Default)]
struct Filed {
    plain: Vec<usize>,
    by_verb: HashMap<String, Vec<usize>>,
}

impl RouteTable {
    /// The routes of every method of `services` (full names) that carries a `google.api.http`
    /// option. A rule we cannot serve is a startup error, never a silently missing route.
    pub fn from_descriptors(pool: &DescriptorPool, services: &[&str]) -> Result<RouteTable, String> {
        let http = pool.get_extension_by_name("google.api.http").ok_or("the descriptor set lacks google.api.http")?;
        let mut routes = Vec::new();
        for name in services {
            let service = pool.get_service_by_name(name).ok_or_else(|| format!("service {name} is not in the descriptor set"))?;
            for method in service.methods() {
                let options = method.options();
                if !options.has_extension(&http) {
                    continue;
                }
                let rule = options.get_extension(&http).as_message().map(DynamicMessage::transcode_to::<HttpRule>);
                let rule = rule.ok_or("google.api.http is not a message")?.map_err(|e| format!("{}: {e}", method.full_name()))?;
                for binding in std::iter::once(&rule).chain(&rule.additional_bindings) {
                    routes.push(route(&method, binding)?);
                }
            }
        }
        let by_prefix = file_by_prefix(&routes);
        Ok(RouteTable { routes, by_prefix })
    }

    /// The routes whose templates may fit `path`, most specific first: those filed under its
    /// longest filed prefix (the last segment taken without a `:verb`), with the path's verb
    /// first, then without a verb.
    fn candidates(&self, path: &str) -> impl Iterator<Item = &Route> {
        let path = path.strip_prefix('/').unwrap_or(path);
        let last = path.rfind('/').map_or(0, |i| i + 1);
        let (stem, verb) = match path[last..].rfind(':') {
            Some(colon) => (&path[..last + colon], Some(&path[last + colon + 1..])),
            None => (path, None),
        };
        let mut ends = [0; KEY_SEGMENTS + 1];
        let (mut at, mut probed) = (0, 1);
        for (part, end) in stem.split('/').take(KEY_SEGMENTS).zip(&mut ends[1..]) {
            *end = at + part.len();
            at += part.len() + 1;
            probed += 1;
        }
        let filed = ends[..probed].iter().rev().find_map(|&end| self.by_prefix.get(&stem[..end]));
        let with_verb = filed.and_then(|filed| filed.by_verb.get(verb?)).map_or(&[][..], Vec::as_slice);
        let plain = filed.map_or(&[][..], |filed| filed.plain.as_slice());
        with_verb.iter().chain(plain).map(|&i| &self.routes[i])
    }

    #[cfg(test)]
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// One path and method for every route (for tests).
    #[cfg(test)]
    pub fn examples(&self) -> Vec<(Method, String)> {
        self.routes.iter().map(|r| (r.http_method.clone(), r.template.example("fhm0example"))).collect()
    }

    /// The most specific template that fits `path` decides; if it is bound to other HTTP methods
    /// only, the answer is "wrong method" (so `GET /x/{id}:start` is a 405, not a lookup of the
    /// id `"{id}:start"`).
    pub fn lookup(&self, method: &Method, path: &str) -> Lookup<'_> {
        let mut best = None;
        let mut allowed = Vec::new();
        for route in self.candidates(path) {
            let specificity = route.template.specificity();
            if best.is_some_and(|best| specificity < best) {
                break;
            }
            if route.http_method == *method {
                if let Some(vars) = route.template.matches(path) {
                    return Lookup::Found(route, vars);
                }
                continue;
            }
            if route.template.fits(path) {
                best = Some(specificity);
                if !allowed.contains(&route.http_method) {
                    allowed.push(route.http_method.clone());
                }
            }
        }
        if best.is_some() { Lookup::WrongMethod(allowed) } else { Lookup::NotFound }
    }
}

/// Files every route under its template's leading literals, then gives each prefix the routes of
/// its shorter prefixes too, each list most specific first (`Filed`).
fn file_by_prefix(routes: &[Route]) -> HashMap<String, Filed> {
    let mut own: HashMap<String, Filed> = HashMap::new();
    for (i, route) in routes.iter().enumerate() {
        let filed = own.entry(route.template.leading_literals(KEY_SEGMENTS).join("/")).or_default();
        match route.template.verb() {
            Some(verb) => filed.by_verb.entry(verb.to_string()).or_default().push(i),
            None => filed.plain.push(i),
        }
    }
    let is_prefix = |shorter: &str, key: &str| {
        shorter.is_empty() || shorter == key || key.strip_prefix(shorter).is_some_and(|rest| rest.starts_with('/'))
    };
    let most_specific_first = |indexes: &mut Vec<usize>| {
        indexes.sort_by_key(|&i| (std::cmp::Reverse(routes[i].template.specificity()), i));
        indexes.dedup();
    };
    let mut merged = HashMap::new();
    for key in own.keys() {
        let mut filed = Filed::default();
        for theirs in own.iter().filter(|(shorter, _)| is_prefix(shorter, key)).map(|(_, theirs)| theirs) {
            filed.plain.extend(&theirs.plain);
            for (verb, indexes) in &theirs.by_verb {
                filed.by_verb.entry(verb.clone()).or_default().extend(indexes);
            }
        }
        most_specific_first(&mut filed.plain);
        filed.by_verb.values_mut().for_each(most_specific_first);
        merged.insert(key.clone(), filed);
    }
    merged
}

fn route(method: &MethodDescriptor, rule: &HttpRule) -> Result<Route, String> {
    let (http_method, path) = match &rule.pattern {
        Some(Pattern::Get(p)) => (Method::GET, p),
        Some(Pattern::Post(p)) => (Method::POST, p),
        Some(Pattern::Put(p)) => (Method::PUT, p),
        Some(Pattern::Delete(p)) => (Method::DELETE, p),
        Some(Pattern::Patch(p)) => (Method::PATCH, p),
        Some(Pattern::Custom(c)) => (Method::from_bytes(c.kind.as_bytes()).map_err(|e| format!("{}: {e}", method.full_name()))?, &c.path),
        None => return Err(format!("{}: google.api.http without a pattern", method.full_name())),
    };
    if !rule.response_body.is_empty() {
        return Err(format!("{}: response_body is not supported", method.full_name()));
    }
    let body = match rule.body.as_str() {
        "" => BodyMapping::None,
        "*" => BodyMapping::Whole,
        field => BodyMapping::Field(field.to_string()),
    };
    let grpc_path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let grpc_uri = grpc_path.parse().map_err(|e| format!("{}: gRPC path {grpc_path}: {e}", method.full_name()))?;
    Ok(Route { http_method, template: Template::parse(path)?, body, grpc_path, grpc_uri, input: method.input(), output: method.output() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::rest::descriptor_pool;
    use crate::server::SERVICES;

    fn table() -> RouteTable {
        RouteTable::from_descriptors(descriptor_pool(), SERVICES).unwrap()
    }

    fn found(table: &RouteTable, method: Method, path: &str) -> (String, Vec<(String, String)>) {
        match table.lookup(&method, path) {
            Lookup::Found(route, vars) => (route.grpc_path.clone(), vars),
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    #[test]
    fn every_http_rule_of_every_served_method_becomes_a_route() {
        let pool = descriptor_pool();
        let http = pool.get_extension_by_name("google.api.http").unwrap();
        // DiskService.ListSnapshotSchedules is gRPC only: the contract gives it no rule.
        let with_rule: usize = SERVICES
            .iter()
            .map(|s| pool.get_service_by_name(s).unwrap().methods().filter(|m| m.options().has_extension(&http)).count())
            .sum();
        assert_eq!(table().routes().len(), with_rule, "every served method with an http rule has exactly one route");
        assert!(with_rule > 90, "{with_rule}");
        for route in table().routes() {
            assert_eq!(route.grpc_uri.path(), route.grpc_path, "the URI a call is forwarded with");
        }
    }

    #[test]
    fn the_seed_paths_resolve_to_their_methods() {
        let table = table();
        let id = vec![("instance_id".to_string(), "fhm1".to_string())];
        assert_eq!(
            found(&table, Method::POST, "/compute/v1/instances/fhm1:attachNetworkInterface"),
            ("/yandex.cloud.compute.v1.InstanceService/AttachNetworkInterface".into(), id.clone())
        );
        assert_eq!(
            found(&table, Method::POST, "/compute/v1/instances/fhm1/addOneToOneNat"),
            ("/yandex.cloud.compute.v1.InstanceService/AddOneToOneNat".into(), id.clone())
        );
        assert_eq!(found(&table, Method::GET, "/compute/v1/instances/fhm1"), ("/yandex.cloud.compute.v1.InstanceService/Get".into(), id));
        assert_eq!(found(&table, Method::GET, "/operations/op1").0, "/yandex.cloud.operation.OperationService/Get");
        assert_eq!(found(&table, Method::GET, "/operations/op1:cancel").0, "/yandex.cloud.operation.OperationService/Cancel");
        assert_eq!(found(&table, Method::GET, "/vpc/v1/addresses:byValue").0, "/yandex.cloud.vpc.v1.AddressService/GetByValue");
        assert_eq!(found(&table, Method::GET, "/vpc/v1/addresses").0, "/yandex.cloud.vpc.v1.AddressService/List");
    }

    /// What `lookup` answers, comparable: the route found, or the methods a path has, or nothing.
    #[derive(Debug, PartialEq)]
    enum Outcome {
        Found(String, PathVars),
        WrongMethod(Vec<String>),
        NotFound,
    }

    fn outcome(lookup: Lookup<'_>) -> Outcome {
        match lookup {
            Lookup::Found(route, vars) => Outcome::Found(route.grpc_path.clone(), vars),
            Lookup::WrongMethod(allowed) => {
                let mut allowed: Vec<String> = allowed.iter().map(Method::to_string).collect();
                allowed.sort();
                Outcome::WrongMethod(allowed)
            }
            Lookup::NotFound => Outcome::NotFound,
        }
    }

    #[test]
    fn the_prefix_index_answers_as_a_scan_of_every_route_does() {
        let table = table();
        // The rule as written: of every route whose template fits, the most specific decide (in
        // table order); the first of those bound to the method is found, else they name the methods.
        let scan = |method: &Method, path: &str| {
            let fitting: Vec<(Specificity, &Route)> =
                table.routes.iter().filter(|r| r.template.matches(path).is_some()).map(|r| (r.template.specificity(), r)).collect();
            let Some(best) = fitting.iter().map(|(s, _)| *s).max() else { return Outcome::NotFound };
            let decide: Vec<&Route> = fitting.iter().filter(|(s, _)| *s == best).map(|(_, r)| *r).collect();
            match decide.iter().find(|r| r.http_method == *method) {
                Some(route) => Outcome::Found(route.grpc_path.clone(), route.template.matches(path).unwrap()),
                None => {
                    let mut allowed: Vec<String> = decide.iter().map(|r| r.http_method.to_string()).collect();
                    allowed.sort();
                    allowed.dedup();
                    Outcome::WrongMethod(allowed)
                }
            }
        };
        let (mut found, mut wrong_method) = (0, 0);
        for (_, path) in table.examples() {
            let parent = path.rsplit_once('/').map(|(parent, _)| parent.to_string()).unwrap_or_default();
            for path in [path.clone(), format!("{path}:start"), format!("{path}/x"), format!("{path}/"), format!("{path}:"), parent] {
                for method in [Method::GET, Method::POST, Method::PATCH, Method::DELETE, Method::PUT] {
                    let answer = outcome(table.lookup(&method, &path));
                    assert_eq!(answer, scan(&method, &path), "{method} {path}");
                    found += usize::from(matches!(answer, Outcome::Found(..)));
                    wrong_method += usize::from(matches!(answer, Outcome::WrongMethod(_)));
                }
            }
        }
        assert!(found > table.routes().len() && wrong_method > table.routes().len(), "{found} found, {wrong_method} wrong method");
    }

    #[test]
    fn the_most_specific_fitting_template_decides_wherever_it_is_in_the_table() {
        let message = descriptor_pool().get_message_by_name("google.protobuf.Empty").unwrap();
        let route = |http_method: Method, template: &str| Route {
            http_method,
            template: Template::parse(template).unwrap(),
            body: BodyMapping::None,
            grpc_path: template.to_string(),
            grpc_uri: http::Uri::from_static("/"),
            input: message.clone(),
            output: message.clone(),
        };
        let routes = vec![
            route(Method::GET, "/v1/things/{thing_id}"),
            route(Method::POST, "/v1/{name=**}"),
            route(Method::GET, "/v1/things/special"),
            route(Method::DELETE, "/v1/things/special/kept"),
            route(Method::POST, "/v1/things/{thing_id}:start"),
        ];
        let table = RouteTable { by_prefix: file_by_prefix(&routes), routes };
        let found = |method: Method, path: &str| match table.lookup(&method, path) {
            Lookup::Found(route, _) => route.grpc_path.clone(),
            other => format!("{other:?}"),
        };
        assert_eq!(found(Method::GET, "/v1/things/special"), "/v1/things/special");
        assert_eq!(found(Method::GET, "/v1/things/other"), "/v1/things/{thing_id}");
        assert_eq!(found(Method::POST, "/v1/things/other:start"), "/v1/things/{thing_id}:start");
        assert_eq!(found(Method::POST, "/v1/things/x/y"), "/v1/{name=**}");
        // The more specific template answers 405 for other methods, even where a less specific one fits.
        assert_eq!(found(Method::POST, "/v1/things/special/kept"), "WrongMethod([DELETE])");
        assert_eq!(found(Method::GET, "/v1/things/other:start"), "WrongMethod([POST])");
        assert_eq!(found(Method::GET, "/v2/things"), "NotFound");
    }

    #[test]
    fn a_known_path_with_another_method_is_told_apart_from_an_unknown_path() {
        let table = table();
        match table.lookup(&Method::PUT, "/compute/v1/instances/fhm1") {
            Lookup::WrongMethod(mut allowed) => {
                allowed.sort_by_key(|m| m.to_string());
                assert_eq!(allowed, vec![Method::DELETE, Method::GET, Method::PATCH]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(table.lookup(&Method::GET, "/compute/v1/nothing"), Lookup::NotFound));
        assert!(matches!(table.lookup(&Method::GET, "/compute/v1/instances/fhm1:attachNetworkInterface"), Lookup::WrongMethod(_)));
    }
}
