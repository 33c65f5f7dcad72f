//! `azsnap query SNAP NAME|FILE.sql`: named or user queries, read-only.

use std::path::{Path, PathBuf};

use crate::analyze::privileged::Privileged;
use crate::analyze::query::{self, NAMED, NamedQuery, QueryError};
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::report::{Format, Table};
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["snapshot", "list"])))]
pub struct QueryArgs {
    pub snapshot: Option<PathBuf>,
    /// A query name from `azsnap query --list`, or a path to a .sql file.
    #[arg(requires = "snapshot")]
    pub query: Option<String>,
    /// List the named queries.
    #[arg(long, conflicts_with = "snapshot")]
    pub list: bool,
    /// Bind a query parameter, `name=value` (repeatable). Numbers bind as numbers.
    #[arg(long, value_name = "K=V")]
    pub param: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub(super) fn run(args: &QueryArgs, ui: &mut Ui) -> Result<u8, CliError> {
    if args.list {
        return list(args.format, ui);
    }
    let (Some(snapshot), Some(name)) = (&args.snapshot, &args.query) else {
        return Err(CliError::usage("give a snapshot and a query name or .sql file")
            .with_hint("`azsnap query --list` shows the named queries"));
    };
    let given = args
        .param
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
            _ => Err(CliError::usage(format!("--param {p:?} is not NAME=VALUE"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (sql, declared, source) = load(name)?;
    let snap = Snapshot::open(snapshot)?;
    let result = query::run(&snap, &sql, &given, &declared, &Privileged::builtin()).map_err(|e| match e {
        QueryError::Usage(m) => CliError::usage(format!("query {source}: {m}")),
        QueryError::Sql(m) => CliError::bad_input(format!("query {source}: {m}")),
        QueryError::Store(e) => e.into(),
    })?;
    let mut t = Table::new(result.columns.iter().cloned());
    for row in &result.rows {
        t.push(row.iter().map(|v| match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }));
    }
    ui.print(args.format, &t, &result.objects())?;
    Ok(exit_code::SUCCESS)
}

/// A named query, or the text of a user's `.sql` file: (sql, declared params, how to name it in errors).
fn load(name: &str) -> Result<(String, Vec<query::Param>, String), CliError> {
    if let Some(q) = NamedQuery::find(name) {
        return Ok((q.sql.to_owned(), q.params(), format!("`{name}`")));
    }
    let path = Path::new(name);
    if name.ends_with(".sql") || path.components().count() > 1 || path.exists() {
        let sql = crate::files::read_text(path, crate::files::limit::SQL)
            .map_err(|e| CliError::bad_input(format!("cannot read the query: {e}")))?;
        let declared = query::params(&sql);
        return Ok((sql, declared, path.display().to_string()));
    }
    Err(CliError::usage(format!("no query named `{name}`")).with_hint("`azsnap query --list` shows the named queries"))
}

fn list(format: Format, ui: &mut Ui) -> Result<u8, CliError> {
    let mut t = Table::new(["name", "parameters", "description"]);
    let mut json = Vec::new();
    for q in NAMED {
        let params: Vec<String> = q.params().iter().map(|p| format!("{}={}", p.name, p.default)).collect();
        t.push([q.name.to_owned(), params.join(" "), q.description()]);
        json.push(serde_json::json!({
            "name": q.name,
            "description": q.description(),
            "parameters": q.params().iter().map(|p| serde_json::json!({"name": p.name, "default": p.default})).collect::<Vec<_>>(),
        }));
    }
    ui.print(format, &t, &json)?;
    Ok(exit_code::SUCCESS)
}
