//! The List `filter` and `order_by` languages: `<field> <op> <value>` joined by `AND`, with
//! operators `=`, `!=`, `IN`, `NOT IN` and quoted values; `order_by` is `<field> [asc|desc]`.
//! Fields are matched against what each List method allows and come out as store columns.

use std::time::UNIX_EPOCH;

/// The indexed columns a List can filter or order on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Column {
    Id,
    Name,
    CreatedAt,
    Status,
    ZoneId,
    PlatformId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Op {
    Eq,
    Ne,
    In,
    NotIn,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Condition {
    pub column: Column,
    pub op: Op,
    /// Values as stored: `created_at` is converted to microseconds since the epoch.
    pub values: Vec<String>,
}

impl Condition {
    pub fn matches(&self, value: &str) -> bool {
        let hit = self.values.iter().any(|v| v == value);
        match self.op {
            Op::Eq | Op::In => hit,
            Op::Ne | Op::NotIn => !hit,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    pub column: Column,
    pub descending: bool,
}

impl Default for Order {
    fn default() -> Self {
        Order { column: Column::Id, descending: false }
    }
}

/// Which field names a List method accepts (snake_case and lowerCamelCase both work).
pub type Allowed = &'static [(&'static str, Column)];

pub const INSTANCE_FIELDS: Allowed = &[
    ("id", Column::Id),
    ("name", Column::Name),
    ("created_at", Column::CreatedAt),
    ("createdAt", Column::CreatedAt),
    ("status", Column::Status),
    ("zone_id", Column::ZoneId),
    ("zoneId", Column::ZoneId),
    ("platform_id", Column::PlatformId),
    ("platformId", Column::PlatformId),
];

pub const DISK_FIELDS: Allowed = &[
    ("id", Column::Id),
    ("name", Column::Name),
    ("created_at", Column::CreatedAt),
    ("createdAt", Column::CreatedAt),
    ("status", Column::Status),
    ("zone_id", Column::ZoneId),
    ("zoneId", Column::ZoneId),
];

/// Image lists filter on `name` (as the API documents) and order by these.
pub const IMAGE_ORDER_FIELDS: Allowed =
    &[("id", Column::Id), ("name", Column::Name), ("created_at", Column::CreatedAt), ("createdAt", Column::CreatedAt)];

/// VPC lists accept `name` only.
pub const NAME_ONLY: Allowed = &[("name", Column::Name)];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Eq,
    Ne,
    LParen,
    RParen,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '=' => {
                chars.next();
                out.push(Token::Eq);
            }
            '!' => {
                chars.next();
                if chars.next() != Some('=') {
                    return Err("expected \"!=\"".into());
                }
                out.push(Token::Ne);
            }
            '(' | ')' | ',' => {
                chars.next();
                out.push(match c {
                    '(' => Token::LParen,
                    ')' => Token::RParen,
                    _ => Token::Comma,
                });
            }
            '"' | '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated string".into()),
                        Some('\\') => s.extend(chars.next()),
                        Some(ch) if ch == c => break,
                        Some(ch) => s.push(ch),
                    }
                }
                out.push(Token::Str(s));
            }
            c if c.is_alphanumeric() || c == '_' || c == '.' => {
                let mut s = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_alphanumeric() || ch == '_' || ch == '.' || ch == '-' {
                        s.push(ch);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token::Word(s));
            }
            other => return Err(format!("unexpected character '{other}'")),
        }
    }
    Ok(out)
}

fn column(name: &str, allowed: Allowed) -> Result<Column, String> {
    allowed.iter().find(|(n, _)| *n == name).map(|(_, c)| *c).ok_or_else(|| {
        let names: Vec<_> = allowed.iter().map(|(n, _)| *n).collect();
        format!("unknown field \"{name}\"; allowed: {}", names.join(", "))
    })
}

fn is_keyword(t: Option<&Token>, kw: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
}

fn stored_value(column: Column, value: String) -> Result<String, String> {
    if column != Column::CreatedAt {
        return Ok(value);
    }
    let t = humantime::parse_rfc3339_weak(&value).map_err(|e| format!("\"{value}\" is not an RFC 3339 time: {e}"))?;
    let micros = t.duration_since(UNIX_EPOCH).map_err(|_| format!("\"{value}\" is before 1970"))?.as_micros();
    Ok(micros.to_string())
}

/// Parses a filter; an empty filter has no conditions.
pub fn parse_filter(text: &str, allowed: Allowed) -> Result<Vec<Condition>, String> {
    let tokens = tokenize(text)?;
    let mut it = tokens.into_iter().peekable();
    let mut conditions = Vec::new();
    while it.peek().is_some() {
        if !conditions.is_empty() {
            if !is_keyword(it.peek(), "AND") {
                return Err("conditions must be joined by AND".into());
            }
            it.next();
        }
        let Some(Token::Word(field)) = it.next() else {
            return Err("expected a field name".into());
        };
        let column = column(&field, allowed)?;
        let op = match it.next() {
            Some(Token::Eq) => Op::Eq,
            Some(Token::Ne) => Op::Ne,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IN") => Op::In,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("NOT") => {
                if !is_keyword(it.next().as_ref(), "IN") {
                    return Err("expected IN after NOT".into());
                }
                Op::NotIn
            }
            _ => return Err(format!("expected =, !=, IN or NOT IN after \"{field}\"")),
        };
        let values = match op {
            Op::Eq | Op::Ne => match it.next() {
                Some(Token::Str(s)) => vec![s],
                _ => return Err(format!("expected a quoted value after \"{field}\"")),
            },
            Op::In | Op::NotIn => {
                if it.next() != Some(Token::LParen) {
                    return Err("expected ( after IN".into());
                }
                let mut values = Vec::new();
                loop {
                    match it.next() {
                        Some(Token::Str(s)) => values.push(s),
                        _ => return Err("expected a quoted value in the IN list".into()),
                    }
                    match it.next() {
                        Some(Token::Comma) => continue,
                        Some(Token::RParen) => break,
                        _ => return Err("expected , or ) in the IN list".into()),
                    }
                }
                values
            }
        };
        let values = values.into_iter().map(|v| stored_value(column, v)).collect::<Result<_, _>>()?;
        conditions.push(Condition { column, op, values });
    }
    Ok(conditions)
}

/// Parses `order_by`; empty means by id, ascending.
pub fn parse_order_by(text: &str, allowed: Allowed) -> Result<Order, String> {
    let mut words = text.split_whitespace();
    let Some(field) = words.next() else {
        return Ok(Order::default());
    };
    let column = column(field, allowed)?;
    let descending = match words.next() {
        None => false,
        Some(w) if w.eq_ignore_ascii_case("asc") => false,
        Some(w) if w.eq_ignore_ascii_case("desc") => true,
        Some(w) => return Err(format!("expected asc or desc, got \"{w}\"")),
    };
    if words.next().is_some() {
        return Err("order_by takes one field".into());
    }
    Ok(Order { column, descending })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_joined_conditions() {
        let c = parse_filter(r#"name = "web""#, INSTANCE_FIELDS).unwrap();
        assert_eq!(c, [Condition { column: Column::Name, op: Op::Eq, values: vec!["web".into()] }]);
        let c = parse_filter(r#"status IN ("RUNNING", 'STOPPED') and zoneId != "ru-central1-b""#, INSTANCE_FIELDS).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].op, Op::In);
        assert_eq!(c[0].values, ["RUNNING", "STOPPED"]);
        assert_eq!(c[1], Condition { column: Column::ZoneId, op: Op::Ne, values: vec!["ru-central1-b".into()] });
        let c = parse_filter(r#"name NOT IN ("a")"#, INSTANCE_FIELDS).unwrap();
        assert_eq!(c[0].op, Op::NotIn);
        assert!(parse_filter("  ", INSTANCE_FIELDS).unwrap().is_empty());
    }

    #[test]
    fn created_at_becomes_micros() {
        let c = parse_filter(r#"created_at = "1970-01-01T00:00:01Z""#, INSTANCE_FIELDS).unwrap();
        assert_eq!(c[0].values, ["1000000"]);
    }

    #[test]
    fn bad_filters_say_why() {
        for (text, want) in [
            (r#"color = "red""#, "unknown field"),
            ("name = web", "quoted value"),
            (r#"name ~ "x""#, "unexpected character"),
            (r#"name = "x" OR name = "y""#, "joined by AND"),
            (r#"name IN "x""#, "expected ("),
            (r#"name = "x"#, "unterminated"),
            (r#"name NOT "x""#, "IN after NOT"),
        ] {
            let err = parse_filter(text, INSTANCE_FIELDS).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        assert!(parse_filter(r#"status = "RUNNING""#, NAME_ONLY).is_err());
    }

    #[test]
    fn matching() {
        let c = Condition { column: Column::Name, op: Op::NotIn, values: vec!["a".into(), "b".into()] };
        assert!(c.matches("c"));
        assert!(!c.matches("a"));
    }

    #[test]
    fn order_by() {
        assert_eq!(parse_order_by("", INSTANCE_FIELDS).unwrap(), Order::default());
        assert_eq!(parse_order_by("createdAt desc", INSTANCE_FIELDS).unwrap(), Order { column: Column::CreatedAt, descending: true });
        assert_eq!(parse_order_by("name", INSTANCE_FIELDS).unwrap(), Order { column: Column::Name, descending: false });
        assert!(parse_order_by("name sideways", INSTANCE_FIELDS).is_err());
        assert!(parse_order_by("color", INSTANCE_FIELDS).is_err());
    }
}
