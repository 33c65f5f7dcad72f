//! `azsnap diff OLD NEW`: drift between two snapshots, as a table, JSON, CSV or Markdown, with exit codes for CI.

use std::path::PathBuf;

use crate::analyze::diff::{Change, DiffReport, Ignore, Item, diff, tenant_mismatch};
use crate::analyze::privileged::Privileged;
use crate::cli::{CliError, Ui};
use crate::exit_code;
use crate::report::drift::{describe, details};
use crate::report::{Table, write_json};
use crate::store::Snapshot;

/// Which drift makes `diff` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Never (report only).
    None,
    /// Any difference.
    Any,
    /// Any grant added, removed or changed.
    Grants,
    /// Any change to privileged access (privileged roles, and groups that hold them).
    Privileged,
    /// Anything that could not be compared (a part incomplete in either snapshot, or collected with other options).
    Incomplete,
}

/// How `diff` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
    Csv,
    Markdown,
    /// SARIF 2.1.0, for GitHub code scanning: one result per item, privileged as `error`.
    Sarif,
    /// JUnit XML: one test case per compared part, failed with its items.
    Junit,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier snapshot (the baseline).
    pub old: PathBuf,
    /// The later snapshot.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: DiffFormat,
    /// Exit 1 when drift of this kind exists (several: `--fail-on privileged,incomplete`).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "none")]
    pub fail_on: Vec<FailOn>,
    /// File of known, accepted changes to leave out: one rule a line, `principal=ID relation=member target="Name"
    /// until=DATE reason="…"` (docs/diff-format.md).
    #[arg(long, value_name = "FILE")]
    pub ignore: Option<PathBuf>,
    /// Compare snapshots of different tenants.
    #[arg(long)]
    pub allow_tenant_mismatch: bool,
}

/// The items for a job summary: counts per category (the part that produced them) first, then one section per
/// category, privileged items first within it.
fn write_markdown_items(out: &mut dyn std::io::Write, report: &DiffReport) -> std::io::Result<()> {
    if report.items.is_empty() {
        return Ok(());
    }
    let mut parts: Vec<&str> = report.items.iter().map(|i| i.part.as_str()).collect();
    parts.sort_unstable();
    parts.dedup();
    let count = |part: &str, f: &dyn Fn(&Item) -> bool| report.items.iter().filter(|i| i.part == part && f(i)).count();
    let mut counts = Table::new(["category", "added", "removed", "changed", "privileged"]);
    for part in &parts {
        counts.push([
            (*part).to_owned(),
            count(part, &|i| i.change == Change::Added).to_string(),
            count(part, &|i| i.change == Change::Removed).to_string(),
            count(part, &|i| i.change == Change::Changed).to_string(),
            count(part, &|i| i.privileged).to_string(),
        ]);
    }
    writeln!(out)?;
    counts.write_markdown(out)?;
    for part in &parts {
        let mut items: Vec<&Item> = report.items.iter().filter(|i| i.part == *part).collect();
        items.sort_by_key(|i| !i.privileged);
        writeln!(out)?;
        writeln!(out, "#### {part} ({})", items.len())?;
        writeln!(out)?;
        rows(items.into_iter()).write_markdown(out)?;
    }
    Ok(())
}

/// The CSV form: the table's columns, then the ids behind its names (a spreadsheet filters on them).
fn csv_table(report: &DiffReport) -> Table {
    let mut t = Table::new([
        "change",
        "kind",
        "privileged",
        "what",
        "details",
        "principal_id",
        "target_id",
        "role_id",
        "scope",
        "key",
    ]);
    for i in &report.items {
        let g = i.grant.as_ref();
        let id = |f: fn(&crate::analyze::diff::GrantView) -> &String| g.map(|g| f(g).clone()).unwrap_or_default();
        let ids = [id(|g| &g.principal_id), id(|g| &g.target_id), id(|g| &g.role_id), id(|g| &g.scope), i.key.clone()];
        t.push(cells(i).into_iter().chain(ids));
    }
    t
}

pub(super) fn table(report: &DiffReport) -> Table {
    rows(report.items.iter())
}

fn rows<'a>(items: impl Iterator<Item = &'a Item>) -> Table {
    let mut t = Table::new(["change", "kind", "privileged", "what", "details"]);
    for i in items {
        t.push(cells(i));
    }
    t
}

/// An item's cells in the human columns: change, kind, privileged, what, details.
fn cells(i: &Item) -> [String; 5] {
    [
        i.change.to_string(),
        i.kind.to_string(),
        if i.privileged { "yes".to_owned() } else { String::new() },
        describe(i),
        details(i),
    ]
}

pub(super) fn summary_line(r: &DiffReport) -> String {
    let s = &r.summary;
    format!(
        "{} added, {} removed, {} changed ({} privileged; grants: {} added, {} removed, {} changed){}",
        s.added,
        s.removed,
        s.changed,
        s.privileged,
        s.grants.added,
        s.grants.removed,
        s.grants.changed,
        if s.ignored > 0 { format!("; {} ignored", s.ignored) } else { String::new() }
    )
}

/// The parts not compared, one line each: `group_pim: unavailable (license) in NEW (3 differences left out)`.
pub(super) fn not_compared_lines(r: &DiffReport) -> Vec<String> {
    r.not_compared
        .iter()
        .map(|n| match n.items {
            0 => format!("{}: {}", n.part, n.reason),
            1 => format!("{}: {} (1 difference left out)", n.part, n.reason),
            k => format!("{}: {} ({k} differences left out)", n.part, n.reason),
        })
        .collect()
}

/// The warning when the snapshots were collected with different options.
pub(super) fn options_warning(r: &DiffReport) -> Option<String> {
    if r.options_differ.is_empty() {
        return None;
    }
    let each: Vec<String> =
        r.options_differ.iter().map(|o| format!("{} (OLD {}, NEW {})", o.option, o.old, o.new)).collect();
    Some(format!(
        "warning: the snapshots were collected with different options: {}; only what both hold is compared",
        each.join(", ")
    ))
}

/// Reads `--ignore FILE` (none: no rules). A missing, unreadable or malformed file is bad input (exit 3).
pub(super) fn read_ignore(path: Option<&std::path::Path>) -> Result<Ignore, CliError> {
    let Some(path) = path else { return Ok(Ignore::default()) };
    let text = crate::files::read_text(path, crate::files::limit::IGNORE)
        .map_err(|e| CliError::bad_input(format!("cannot read the ignore file {e}")))?;
    Ignore::parse(&text).map_err(|e| CliError::bad_input(format!("{}: {e}", path.display())))
}

/// The parts compared: complete in both snapshots and not left out (JUnit's test cases).
fn compared_parts(old: &[crate::model::Part], new: &[crate::model::Part], report: &DiffReport) -> Vec<String> {
    use crate::model::PartStatus;
    let complete = |parts: &[crate::model::Part], name: &str| {
        parts.iter().any(|p| p.name == name && p.status == PartStatus::Complete)
    };
    let mut names: Vec<String> = old
        .iter()
        .map(|p| p.name.clone())
        .filter(|n| complete(old, n) && complete(new, n))
        .filter(|n| !report.not_compared.iter().any(|c| c.part == *n))
        .collect();
    for item in &report.items {
        if !names.contains(&item.part) {
            names.push(item.part.clone());
        }
    }
    names.sort();
    names
}

/// Notes on stderr for the rules that did not apply: stale baselines are a classic blind spot.
pub(super) fn note_rules(rules: &[crate::analyze::diff::RuleUse], ui: &mut Ui) {
    for r in rules {
        match r.status {
            "unmatched" => {
                ui.note(&format!("note: ignore rule at line {} matched nothing (stale?): {}", r.line, r.rule))
            }
            "expired" => ui.note(&format!(
                "warning: ignore rule at line {} expired on {}; not applied: {}",
                r.line,
                r.until.as_deref().unwrap_or("?"),
                r.rule
            )),
            _ => {}
        }
    }
}

pub(super) fn run(args: &DiffArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let ignore = read_ignore(args.ignore.as_deref())?;
    let old = Snapshot::open(&args.old)?;
    let new = Snapshot::open(&args.new)?;
    if let Some((a, b)) = tenant_mismatch(&old, &new)?
        && !args.allow_tenant_mismatch
    {
        return Err(CliError::bad_input(format!(
            "{} is of tenant {a} and {} of tenant {b}; they cannot be compared",
            args.old.display(),
            args.new.display()
        ))
        .with_hint("pass --allow-tenant-mismatch to compare them anyway"));
    }
    let new_parts = new.parts()?;
    drop(new);
    let report = diff(&old, &args.new, &Privileged::builtin(), &ignore).map_err(|e| match (e, &args.ignore) {
        (crate::analyze::diff::IgnoreError::Rule { line, message }, Some(path)) => {
            CliError::bad_input(format!("{}: line {line}: {message}", path.display()))
        }
        (e, _) => e.into(),
    })?;
    note_rules(&report.ignore_rules, ui);
    match args.format {
        DiffFormat::Json => write_json(ui.out(), &report)?,
        DiffFormat::Csv => csv_table(&report).write_csv(ui.out())?,
        DiffFormat::Sarif => {
            let artifact = args.new.to_string_lossy();
            write_json(ui.out(), &crate::report::drift::sarif(&report, &artifact, describe))?;
        }
        DiffFormat::Junit => {
            let parts = compared_parts(&old.parts()?, &new_parts, &report);
            let xml = crate::report::drift::junit(&report, &parts, describe)?;
            ui.out().write_all(&xml)?;
        }
        DiffFormat::Table => {
            if !report.items.is_empty() {
                let style = ui.table_style();
                table(&report).write_text(ui.out(), style)?;
            }
            writeln!(ui.out(), "{}", summary_line(&report))?;
            let lines = not_compared_lines(&report);
            if !lines.is_empty() {
                writeln!(ui.out(), "not compared:")?;
                for l in lines {
                    writeln!(ui.out(), "  {l}")?;
                }
            }
        }
        DiffFormat::Markdown => {
            let out = ui.out();
            writeln!(out, "### Access drift: {} → {}", report.old.path, report.new.path)?;
            writeln!(out)?;
            writeln!(out, "{}", summary_line(&report))?;
            if let Some(w) = options_warning(&report) {
                writeln!(out)?;
                writeln!(out, "> {}", crate::model::text::printable(&w))?;
            }
            write_markdown_items(out, &report)?;
            let lines = not_compared_lines(&report);
            if !lines.is_empty() {
                writeln!(out)?;
                writeln!(out, "#### Not compared")?;
                writeln!(out)?;
                for l in lines {
                    writeln!(out, "- {}", crate::model::text::printable(&l))?;
                }
            }
        }
    }
    if let Some(w) = options_warning(&report) {
        ui.note(&w);
    }
    let s = &report.summary;
    let drift = args.fail_on.iter().any(|f| match f {
        FailOn::None => false,
        FailOn::Any => s.added + s.removed + s.changed > 0,
        FailOn::Grants => report.grants_changed(),
        FailOn::Privileged => s.privileged > 0,
        FailOn::Incomplete => !report.not_compared.is_empty(),
    });
    Ok(if drift { exit_code::FINDINGS } else { exit_code::SUCCESS })
}
