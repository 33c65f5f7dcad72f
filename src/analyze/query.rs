//! Named and user SQL queries over a snapshot, read-only, with bound parameters.
//!
//! A named query is a `.sql` file under `queries/named/`, compiled into the binary and registered in [`NAMED`].
//! Its first comment lines describe it; a `-- param: NAME = DEFAULT` line declares a parameter and its default.
//! Two parameters are always available without `--param`: `:privileged_roles` (a JSON array of the privileged
//! role ids from `queries/privileged_roles.json`) and `:as_of` (when the snapshot's collection finished).

use rusqlite::types::{Value as Sql, ValueRef};
use serde_json::Value;

use crate::analyze::privileged::Privileged;
use crate::store::Snapshot;

/// One query shipped with azsnap.
#[derive(Debug, Clone, Copy)]
pub struct NamedQuery {
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! named {
    ($($name:literal),* $(,)?) => {
        &[$(NamedQuery { name: $name, sql: include_str!(concat!("../../queries/named/", $name, ".sql")) }),*]
    };
}

/// Every named query, in the order `azsnap query --list` shows them.
pub const NAMED: &[NamedQuery] = named![
    "privileged-principals",
    "subscription-owners",
    "role-assignable-groups",
    "eligible-assignments",
    "guests-with-access",
    "disabled-with-access",
    "inactive-users-with-access",
    "app-owners",
    "external-apps",
    "delegated-consents",
    "storage-access",
    "custom-roles",
];

/// A declared parameter of a named query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub default: String,
}

impl NamedQuery {
    pub fn find(name: &str) -> Option<NamedQuery> {
        NAMED.iter().copied().find(|q| q.name == name)
    }

    /// The leading comment, without `--` markers and parameter lines, joined into one paragraph.
    pub fn description(&self) -> String {
        description(self.sql)
    }

    pub fn params(&self) -> Vec<Param> {
        params(self.sql)
    }
}

fn header(sql: &str) -> impl Iterator<Item = &str> {
    sql.lines().map_while(|l| l.trim_start().strip_prefix("--")).map(str::trim)
}

pub fn description(sql: &str) -> String {
    header(sql).filter(|l| !l.starts_with("param:")).collect::<Vec<_>>().join(" ")
}

/// The `-- param: NAME = DEFAULT` declarations of a query's header.
pub fn params(sql: &str) -> Vec<Param> {
    header(sql)
        .filter_map(|l| l.strip_prefix("param:"))
        .filter_map(|p| p.split_once('='))
        .map(|(n, d)| Param { name: n.trim().to_owned(), default: d.trim().to_owned() })
        .collect()
}

/// Parameters every query may use without declaring them.
pub const AUTOMATIC: &[&str] = &["privileged_roles", "as_of"];

/// What went wrong running a query. `Usage` is the caller's command line; `Sql` is the query text.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Sql(String),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

/// A result set: column names, then rows of JSON values (integers, reals, text, null).
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl QueryResult {
    /// The rows as JSON objects keyed by column name.
    pub fn objects(&self) -> Vec<serde_json::Map<String, Value>> {
        self.rows.iter().map(|r| self.columns.iter().cloned().zip(r.iter().cloned()).collect()).collect()
    }
}

/// A `--param` value: an integer or a real when it reads as one (so `:days = 30` compares as a number), else text.
fn bind_value(text: &str) -> Sql {
    if let Ok(i) = text.parse::<i64>() {
        Sql::Integer(i)
    } else if let Ok(f) = text.parse::<f64>()
        && f.is_finite()
    {
        Sql::Real(f)
    } else {
        Sql::Text(text.to_owned())
    }
}

/// Runs one read-only statement. `given` are the `--param` pairs; `declared` the defaults of a named query.
/// Refuses more than one statement, any statement that could write, unknown parameters and missing values.
pub fn run(
    snap: &Snapshot,
    sql: &str,
    given: &[(String, String)],
    declared: &[Param],
    privileged: &Privileged,
) -> Result<QueryResult, QueryError> {
    let conn = snap.connection();
    let mut stmt = conn.prepare(sql).map_err(|e| QueryError::Sql(sql_message(&e)))?;
    if !stmt.readonly() {
        return Err(QueryError::Sql("the query would change the snapshot; queries are read-only".to_owned()));
    }
    let wanted: Vec<String> = (1..=stmt.parameter_count())
        .map(|i| stmt.parameter_name(i).map(|n| n[1..].to_owned()).ok_or(i))
        .collect::<Result<_, _>>()
        .map_err(|i| QueryError::Sql(format!("parameter {i} has no name; use :name parameters")))?;
    for (name, _) in given {
        if !wanted.contains(name) {
            let known = if wanted.is_empty() { "none".to_owned() } else { wanted.join(", ") };
            return Err(QueryError::Usage(format!("the query has no parameter `{name}` (it takes: {known})")));
        }
    }
    let as_of = snap.meta()?.finished_at.unwrap_or_default();
    for (i, name) in wanted.iter().enumerate() {
        let value = if let Some((_, v)) = given.iter().rev().find(|(n, _)| n == name) {
            bind_value(v)
        } else if let Some(p) = declared.iter().find(|p| &p.name == name) {
            bind_value(&p.default)
        } else if name == "privileged_roles" {
            Sql::Text(privileged.ids_json())
        } else if name == "as_of" {
            Sql::Text(as_of.clone())
        } else {
            return Err(QueryError::Usage(format!("the query needs a value for `{name}`: add --param {name}=VALUE")));
        };
        stmt.raw_bind_parameter(i + 1, value).map_err(|e| QueryError::Sql(sql_message(&e)))?;
    }
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(|e| QueryError::Sql(sql_message(&e)))? {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(match row.get_ref(i).map_err(|e| QueryError::Sql(sql_message(&e)))? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(v) => Value::from(v),
                ValueRef::Real(v) => Value::from(v),
                ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::from(format!("<{} bytes>", b.len())),
            });
        }
        out.push(values);
    }
    Ok(QueryResult { columns, rows: out })
}

/// SQLite's message without rusqlite's wrapping, on one line.
fn sql_message(e: &rusqlite::Error) -> String {
    let text = match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        rusqlite::Error::MultipleStatement => "the file holds more than one statement; give one SELECT".to_owned(),
        other => other.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_gives_description_and_params() {
        let sql = "-- Line one\n-- line two.\n-- param: days = 90\n-- param: x=a b\nSELECT 1 -- not header\n";
        assert_eq!(description(sql), "Line one line two.");
        assert_eq!(
            params(sql),
            vec![
                Param { name: "days".into(), default: "90".into() },
                Param { name: "x".into(), default: "a b".into() }
            ]
        );
    }

    #[test]
    fn numbers_bind_as_numbers() {
        assert_eq!(bind_value("30"), Sql::Integer(30));
        assert_eq!(bind_value("-1.5"), Sql::Real(-1.5));
        assert_eq!(bind_value("NaN"), Sql::Text("NaN".into()));
        assert_eq!(bind_value("Guest"), Sql::Text("Guest".into()));
    }

    #[test]
    fn every_named_query_is_distinct_and_described() {
        let mut names: Vec<_> = NAMED.iter().map(|q| q.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), NAMED.len());
        assert!(NAMED.len() >= 8);
        for q in NAMED {
            assert!(q.description().len() > 20, "{} needs a description", q.name);
            assert_eq!(NamedQuery::find(q.name).map(|f| f.sql), Some(q.sql));
        }
    }
}
