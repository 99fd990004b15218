//! `google.api.http` path templates: parsing (`/v1/things/{thing_id}:verb`) and matching a request
//! path against one, yielding the path variables. Pure; the route table builds on it.

use percent_encoding::percent_decode_str;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{field}` or `{field=*}`: one path segment into the (dotted) request field.
    Variable(String),
    /// `{field=**}`: the rest of the path, slashes included.
    Rest(String),
    /// `*`: any one segment, bound to nothing.
    Any,
}

/// One parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
    verb: Option<String>,
}

/// The path variables a match binds: (dotted request field, decoded value).
pub type PathVars = Vec<(String, String)>;

/// How specific a match is: a template with a verb beats one without (so `/x/{id}:start` wins over
/// `/x/{id}` for `/x/1:start`), then more literal segments win.
pub type Specificity = (bool, usize);

impl Template {
    pub fn parse(template: &str) -> Result<Template, String> {
        let bad = |why: &str| format!("path template {template:?}: {why}");
        let path = template.strip_prefix('/').ok_or_else(|| bad("must start with '/'"))?;
        // The verb is a ':' after the last '/' and outside braces.
        let last = path.rfind('/').map_or(0, |i| i + 1);
        let tail = &path[last..];
        let verb_at = tail.rfind(':').filter(|&i| !tail[i..].contains('}')).map(|i| last + i);
        let (path, verb) = match verb_at {
            Some(i) => (&path[..i], Some(path[i + 1..].to_string())),
            None => (path, None),
        };
        if verb.as_deref() == Some("") {
            return Err(bad("empty verb"));
        }
        let mut segments = Vec::new();
        for part in path.split('/') {
            let segment = match part {
                "" => return Err(bad("empty segment")),
                "*" => Segment::Any,
                "**" => return Err(bad("'**' outside a variable is not supported")),
                _ if part.starts_with('{') => {
                    let inner = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')).ok_or_else(|| bad("unclosed variable"))?;
                    match inner.split_once('=') {
                        None | Some((_, "*")) => Segment::Variable(inner.split('=').next().unwrap_or(inner).to_string()),
                        Some((field, "**")) => Segment::Rest(field.to_string()),
                        Some(_) => return Err(bad("only {field}, {field=*} and {field=**} variables are supported")),
                    }
                }
                _ if part.contains(['{', '}']) => return Err(bad("a variable must be a whole segment")),
                _ => Segment::Literal(part.to_string()),
            };
            segments.push(segment);
        }
        if segments.iter().take(segments.len().saturating_sub(1)).any(|s| matches!(s, Segment::Rest(_))) {
            return Err(bad("{field=**} must be the last segment"));
        }
        Ok(Template { segments, verb })
    }

    /// A path this template matches, with every variable set to `value` (for tests).
    #[cfg(test)]
    pub fn example(&self, value: &str) -> String {
        let segments: Vec<&str> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(literal) => literal.as_str(),
                Segment::Variable(_) | Segment::Rest(_) | Segment::Any => value,
            })
            .collect();
        let verb = self.verb.as_ref().map(|v| format!(":{v}")).unwrap_or_default();
        format!("/{}{verb}", segments.join("/"))
    }

    pub fn specificity(&self) -> Specificity {
        (self.verb.is_some(), self.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count())
    }

    /// The custom verb after the last segment (`attachNetworkInterface`), if any.
    pub fn verb(&self) -> Option<&str> {
        self.verb.as_deref()
    }

    /// The literal segments the template begins with, at most `limit` of them: the key the
    /// route table files it under.
    pub fn leading_literals(&self, limit: usize) -> Vec<&str> {
        self.segments
            .iter()
            .take(limit)
            .map_while(|s| match s {
                Segment::Literal(literal) => Some(literal.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Whether `path` fits the template, without allocating (a lookup asks several templates).
    pub fn fits(&self, path: &str) -> bool {
        self.walk(path, |_, part| percent_decode_str(part).decode_utf8().ok().map(drop)).is_some()
    }

    /// The variables bound by `path` (percent-encoded, as in the request line), or `None` when
    /// the path does not fit the template.
    pub fn matches(&self, path: &str) -> Option<PathVars> {
        let mut bound = Vec::new();
        self.walk(path, |field, part| {
            bound.push((field.to_string(), decode(part)?));
            Some(())
        })?;
        Some(bound)
    }

    /// Matches `path` segment by segment, handing each variable's field and raw value to `bind`;
    /// `None` when the path does not fit or `bind` refuses a value.
    fn walk(&self, path: &str, mut bind: impl FnMut(&str, &str) -> Option<()>) -> Option<()> {
        let mut path = path.strip_prefix('/')?;
        if let Some(verb) = &self.verb {
            let last = path.rfind('/').map_or(0, |i| i + 1);
            let colon = path[last..].rfind(':').map(|i| last + i)?;
            if path[colon + 1..] != *verb {
                return None;
            }
            path = &path[..colon];
        }
        // What is left of the path after the segments matched so far; `None` once none is.
        let mut remaining = Some(path);
        for segment in &self.segments {
            if let Segment::Rest(field) = segment {
                return bind(field, remaining.take()?);
            }
            let part = match remaining?.split_once('/') {
                Some((part, rest)) => {
                    remaining = Some(rest);
                    part
                }
                None => remaining.take()?,
            };
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Variable(field) if !part.is_empty() => bind(field, part)?,
                Segment::Any if !part.is_empty() => {}
                _ => return None,
            }
        }
        remaining.is_none().then_some(())
    }
}

fn decode(part: &str) -> Option<String> {
    percent_decode_str(part).decode_utf8().ok().map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(template: &str, path: &str) -> Option<Vec<(String, String)>> {
        Template::parse(template).unwrap().matches(path)
    }

    fn pair(field: &str, value: &str) -> Vec<(String, String)> {
        vec![(field.to_string(), value.to_string())]
    }

    #[test]
    fn binds_variables_and_checks_literals() {
        assert_eq!(vars("/compute/v1/instances/{instance_id}", "/compute/v1/instances/fhm1"), Some(pair("instance_id", "fhm1")));
        assert_eq!(vars("/compute/v1/instances/{instance_id}", "/compute/v1/instances"), None);
        assert_eq!(vars("/compute/v1/instances/{instance_id}", "/compute/v1/instances/fhm1/x"), None);
        assert_eq!(vars("/compute/v1/instances/{instance_id}", "/compute/v1/instances/"), None);
        assert_eq!(vars("/compute/v1/instances", "/compute/v1/instances"), Some(vec![]));
        assert_eq!(vars("/compute/v1/instances", "/compute/v2/instances"), None);
    }

    #[test]
    fn verbs_after_a_colon_or_a_slash_are_told_apart() {
        let colon = "/compute/v1/instances/{instance_id}:attachNetworkInterface";
        assert_eq!(vars(colon, "/compute/v1/instances/fhm1:attachNetworkInterface"), Some(pair("instance_id", "fhm1")));
        assert_eq!(vars(colon, "/compute/v1/instances/fhm1/attachNetworkInterface"), None);
        assert_eq!(vars(colon, "/compute/v1/instances/fhm1:detachNetworkInterface"), None);
        assert_eq!(vars(colon, "/compute/v1/instances/fhm1"), None);
        let slash = "/compute/v1/instances/{instance_id}/addOneToOneNat";
        assert_eq!(vars(slash, "/compute/v1/instances/fhm1/addOneToOneNat"), Some(pair("instance_id", "fhm1")));
        assert_eq!(vars(slash, "/compute/v1/instances/fhm1:addOneToOneNat"), None);
        assert_eq!(vars("/vpc/v1/addresses:byValue", "/vpc/v1/addresses:byValue"), Some(vec![]));
        assert_eq!(vars("/vpc/v1/addresses:byValue", "/vpc/v1/addresses"), None);
        assert_eq!(
            vars("/vpc/v1/subnets/{subnet_id}:add-cidr-blocks", "/vpc/v1/subnets/e9b:add-cidr-blocks"),
            Some(pair("subnet_id", "e9b"))
        );
    }

    #[test]
    fn a_verb_template_is_more_specific_than_a_bare_variable() {
        let verb = Template::parse("/compute/v1/instances/{instance_id}:start").unwrap();
        let bare = Template::parse("/compute/v1/instances/{instance_id}").unwrap();
        // Both fit (the bare one would take "fhm1:start" as the id); the verb one must win.
        assert!(verb.matches("/compute/v1/instances/fhm1:start").is_some());
        assert!(bare.matches("/compute/v1/instances/fhm1:start").is_some());
        assert!(verb.specificity() > bare.specificity());
    }

    #[test]
    fn variables_are_percent_decoded() {
        assert_eq!(vars("/operations/{operation_id}", "/operations/a%20b"), Some(pair("operation_id", "a b")));
        assert_eq!(vars("/operations/{operation_id}", "/operations/%FF"), None);
    }

    #[test]
    fn wildcards_and_rest_variables() {
        assert_eq!(vars("/v1/{name=**}", "/v1/a/b/c"), Some(pair("name", "a/b/c")));
        assert_eq!(vars("/v1/{name=**}", "/v1"), None);
        assert_eq!(vars("/v1/*/x/{id=*}", "/v1/any/x/7"), Some(pair("id", "7")));
    }

    #[test]
    fn malformed_templates_are_refused() {
        for bad in ["v1/x", "/v1//x", "/v1/{x", "/v1/a{x}", "/v1/{x=a/*}", "/v1/{x=**}/y", "/v1/x:", "/v1/**"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }
}
