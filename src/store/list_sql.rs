//! The SQL of a resource list (`Tx::list`), written once for both SQL backends: the conditions,
//! the keyset cursor and the order, with the arguments as plain values each backend binds in its
//! own way and placeholders in its own syntax (`?` for SQLite, `$n` for PostgreSQL).

use super::{Query, SortValue};
use crate::domain::filter::{Column, Op};

/// One argument of a list statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// A list statement and its arguments, in placeholder order.
#[derive(Debug)]
pub struct ListSql {
    pub sql: String,
    pub args: Vec<Arg>,
}

/// The column that stores `c`.
pub fn column_name(c: Column) -> &'static str {
    match c {
        Column::Id => "id",
        Column::Name => "name",
        Column::CreatedAt => "created_at",
        Column::Status => "status",
        Column::ZoneId => "zone_id",
        Column::PlatformId => "platform_id",
    }
}

/// A filter value as stored: creation times are integers (microseconds), everything else text.
fn condition_value(column: Column, v: &str) -> Arg {
    match (column, v.parse::<i64>()) {
        (Column::CreatedAt, Ok(n)) => Arg::Int(n),
        _ => Arg::Text(v.to_string()),
    }
}

fn sort_value(v: &SortValue) -> Arg {
    match v {
        SortValue::Int(n) => Arg::Int(*n),
        SortValue::Text(s) => Arg::Text(s.clone()),
    }
}

/// `SELECT <columns> FROM resources<table_suffix> WHERE …` for `q`; `placeholder(n)` writes the
/// n-th placeholder (1-based).
pub fn list_sql(q: &Query, columns: &str, table_suffix: &str, placeholder: impl Fn(usize) -> String) -> ListSql {
    let mut args = vec![Arg::Text(q.kind.as_str().to_string())];
    let mut sql = format!("SELECT {columns} FROM resources{table_suffix} WHERE kind = {}", placeholder(1));
    let bind = |args: &mut Vec<Arg>, arg: Arg| {
        args.push(arg);
        placeholder(args.len())
    };
    if let Some(f) = &q.folder_id {
        sql.push_str(&format!(" AND folder_id = {}", bind(&mut args, Arg::Text(f.clone()))));
    }
    if let Some(p) = &q.parent_id {
        sql.push_str(&format!(" AND parent_id = {}", bind(&mut args, Arg::Text(p.clone()))));
    }
    for c in &q.conditions {
        let marks: Vec<String> = c.values.iter().map(|v| bind(&mut args, condition_value(c.column, v))).collect();
        let not = if matches!(c.op, Op::Ne | Op::NotIn) { "NOT " } else { "" };
        sql.push_str(&format!(" AND {} {not}IN ({})", column_name(c.column), marks.join(", ")));
    }
    let col = column_name(q.order.column);
    let (cmp, dir) = if q.order.descending { ("<", "DESC") } else { (">", "ASC") };
    if let Some(after) = &q.after {
        let (a, b) = (bind(&mut args, sort_value(&after.value)), bind(&mut args, sort_value(&after.value)));
        let id = bind(&mut args, Arg::Text(after.id.clone()));
        sql.push_str(&format!(" AND ({col} {cmp} {a} OR ({col} = {b} AND id {cmp} {id}))"));
    }
    let limit = bind(&mut args, Arg::Int(i64::try_from(q.limit).unwrap_or(i64::MAX)));
    sql.push_str(&format!(" ORDER BY {col} {dir}, id {dir} LIMIT {limit}"));
    ListSql { sql, args }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::filter::{Condition, Order};
    use crate::store::{Cursor, Kind};

    #[test]
    fn a_filtered_page_after_a_cursor() {
        let q = Query {
            folder_id: Some("f".into()),
            conditions: vec![Condition { column: Column::Name, op: Op::NotIn, values: vec!["a".into(), "b".into()] }],
            order: Order { column: Column::CreatedAt, descending: true },
            after: Some(Cursor { value: SortValue::Int(7), id: "x".into() }),
            limit: 11,
            ..Query::new(Kind::Instance)
        };
        let dollar = list_sql(&q, "id", "", |n| format!("${n}"));
        assert_eq!(
            dollar.sql,
            "SELECT id FROM resources WHERE kind = $1 AND folder_id = $2 AND name NOT IN ($3, $4) \
             AND (created_at < $5 OR (created_at = $6 AND id < $7)) ORDER BY created_at DESC, id DESC LIMIT $8"
        );
        assert_eq!(dollar.args.len(), 8);
        assert_eq!(dollar.args[7], Arg::Int(11));
        let question = list_sql(&q, "id", " INDEXED BY x", |_| "?".into());
        assert!(question.sql.starts_with("SELECT id FROM resources INDEXED BY x WHERE kind = ? AND folder_id = ?"));
        assert_eq!(question.args, dollar.args);
    }
}
