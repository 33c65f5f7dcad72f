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
    /// `integer`, `real` or `text` (`-- param: days integer = 90`); `None`: numbers bind as numbers.
    pub kind: Option<ParamKind>,
}

/// The type a parameter's values are checked against and bound as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Integer,
    Real,
    Text,
}

impl ParamKind {
    fn parse(word: &str) -> Option<ParamKind> {
        match word {
            "integer" => Some(ParamKind::Integer),
            "real" => Some(ParamKind::Real),
            "text" => Some(ParamKind::Text),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ParamKind::Integer => "an integer",
            ParamKind::Real => "a number",
            ParamKind::Text => "text",
        }
    }
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

/// The `-- param: NAME [integer|real|text] = DEFAULT` declarations of a query's header.
pub fn params(sql: &str) -> Vec<Param> {
    header(sql)
        .filter_map(|l| l.strip_prefix("param:"))
        .filter_map(|p| p.split_once('='))
        .map(|(n, d)| {
            let mut words = n.split_whitespace();
            let name = words.next().unwrap_or_default().to_owned();
            let kind = words.next().and_then(ParamKind::parse);
            Param { name, default: d.trim().to_owned(), kind }
        })
        .collect()
}

/// A value for a parameter of `kind` (`None`: a number when it reads as one, else text), or why it is not one.
pub fn typed_value(name: &str, text: &str, kind: Option<ParamKind>) -> Result<Sql, String> {
    let wrong = |k: ParamKind| format!("`{name}` takes {}, not `{text}`", k.name());
    match kind {
        None => Ok(bind_value(text)),
        Some(ParamKind::Text) => Ok(Sql::Text(text.to_owned())),
        Some(ParamKind::Integer) => text.trim().parse::<i64>().map(Sql::Integer).map_err(|_| wrong(ParamKind::Integer)),
        Some(ParamKind::Real) => match text.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Sql::Real(f)),
            _ => Err(wrong(ParamKind::Real)),
        },
    }
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
        let name = name.split_once(':').map_or(name.as_str(), |(n, _)| n);
        if !wanted.iter().any(|w| w == name) {
            let known = if wanted.is_empty() { "none".to_owned() } else { wanted.join(", ") };
            return Err(QueryError::Usage(format!("the query has no parameter `{name}` (it takes: {known})")));
        }
    }
    let as_of = snap.meta()?.finished_at.unwrap_or_default();
    for (i, name) in wanted.iter().enumerate() {
        let kind = declared.iter().find(|p| &p.name == name).and_then(|p| p.kind);
        // `--param name:text=0123` binds as text whatever the declaration.
        let given_value = given.iter().rev().find_map(|(n, v)| match n.split_once(':') {
            Some((n, forced)) if n == name => Some((Some(forced), v)),
            None if n == name => Some((None, v)),
            _ => None,
        });
        let value = if let Some((forced, v)) = given_value {
            let kind = match forced {
                Some(word) => Some(ParamKind::parse(word).ok_or_else(|| {
                    QueryError::Usage(format!("--param {name}:{word}: the type is integer, real or text"))
                })?),
                None => kind,
            };
            typed_value(name, v, kind).map_err(QueryError::Usage)?
        } else if let Some(p) = declared.iter().find(|p| &p.name == name) {
            typed_value(name, &p.default, p.kind).map_err(QueryError::Sql)?
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
        let sql = "-- Line one\n-- line two.\n-- param: days integer = 90\n-- param: x=a b\nSELECT 1 -- not header\n";
        assert_eq!(description(sql), "Line one line two.");
        assert_eq!(
            params(sql),
            vec![
                Param { name: "days".into(), default: "90".into(), kind: Some(ParamKind::Integer) },
                Param { name: "x".into(), default: "a b".into(), kind: None }
            ]
        );
    }

    #[test]
    fn declared_types_are_checked_and_text_keeps_its_zeros() {
        assert_eq!(typed_value("days", "30", Some(ParamKind::Integer)), Ok(Sql::Integer(30)));
        assert_eq!(
            typed_value("days", "abc", Some(ParamKind::Integer)).unwrap_err(),
            "`days` takes an integer, not `abc`"
        );
        assert_eq!(typed_value("pat", "0123", Some(ParamKind::Text)), Ok(Sql::Text("0123".into())));
        assert_eq!(typed_value("pat", "0123", None), Ok(Sql::Integer(123)), "undeclared: numbers bind as numbers");
        assert!(typed_value("ratio", "inf", Some(ParamKind::Real)).is_err());
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
