//! `azsnap report`: the HTML evidence report of a collected snapshot, with a baseline and a series. Its figures
//! must be the ones the other commands give for the same files; a real browser must load it with no request
//! beyond the file itself and no console error, and print one section per page; names from the tenant must stay
//! text; unverified input is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use azsnap::exit_code;
use serde_json::Value;

use crate::collect::collect;
use crate::common::emulator::Emu;
use crate::common::{Sheet, TestEnv, notice, sample};

/// Two collections of contoso (before and after the diff tests' mutations) in `series/`, named in collection order
/// (the test clock gives both one time), and the report of the
/// second with the first as baseline and both as the series.
struct Fixture {
    env: TestEnv,
    html: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let env = TestEnv::new();
        std::fs::create_dir(env.path("series")).unwrap();
        let emu = Emu::contoso();
        collect(&env, &emu, "series/1-before.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
        crate::analyze::diff::mutate(&emu);
        collect(&env, &emu, "series/2-after.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
        env.run(&[
            "report",
            "series/2-after.db",
            "--baseline",
            "series/1-before.db",
            "--history",
            "series",
            "-o",
            "report.html",
        ])
        .expect_code(exit_code::SUCCESS);
        let html = std::fs::read_to_string(env.path("report.html")).unwrap();
        Fixture { env, html }
    })
}

/// The `data-metric` figures of a page, by name.
fn metrics(html: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for piece in html.split("data-metric=\"").skip(1) {
        let (name, rest) = piece.split_once('"').unwrap();
        let value = rest.split_once('>').unwrap().1.split('<').next().unwrap();
        out.insert(name.to_owned(), value.to_owned());
    }
    out
}

/// The `data-series="name"` values of the history table, in snapshot order.
fn series(html: &str, name: &str) -> Vec<u64> {
    let tag = format!("data-series=\"{name}\">");
    html.split(&tag).skip(1).map(|p| p.split('<').next().unwrap().parse().unwrap()).collect()
}

fn json(env: &TestEnv, args: &[&str]) -> Value {
    let run = env.run(args);
    run.expect_code(exit_code::SUCCESS);
    run.json()
}

fn n(v: &Value) -> String {
    v.as_u64().map_or_else(|| v.to_string(), |n| n.to_string())
}

#[test]
fn the_figures_on_the_page_are_what_the_other_commands_say() {
    let Fixture { env, html } = fixture();
    let m = metrics(html);
    let info = json(env, &["info", "series/2-after.db", "--format", "json"]);
    let c = &info["counts"];
    for kind in ["users", "groups", "service_principals", "managed_identities", "subscriptions", "containers", "grants"]
    {
        assert_eq!(m[&format!("count-{}", kind.replace('_', "-"))], n(&c[kind]), "{kind}");
    }
    assert_eq!(m["fingerprint"], info["fingerprint"].as_str().unwrap());
    assert_eq!(m["parts"], info["parts"].as_object().unwrap().len().to_string());
    let diff = json(env, &["diff", "series/1-before.db", "series/2-after.db", "--format", "json"]);
    for f in ["added", "removed", "changed", "privileged"] {
        assert_eq!(m[&format!("drift-{f}")], n(&diff["summary"][f]), "drift {f}");
    }
    assert_ne!(m["drift-added"], "0", "the mutations are drift");
    let non_human = json(env, &["identities", "series/2-after.db", "--non-human", "--format", "json"]);
    assert_eq!(m["non-human-with-access"], non_human.as_array().unwrap().len().to_string());
    let unused = json(env, &["unused-roles", "series/2-after.db", "--format", "json"]);
    assert_eq!(m["stale-assignments"], unused["stale_assignments"].as_array().unwrap().len().to_string());
    assert_eq!(m["unused-custom-roles"], unused["unused_roles"].as_array().unwrap().len().to_string());
    // Privileged holders: the effective review sheet's privileged rows, groups aside.
    env.run(&["review", "series/2-after.db", "--effective", "-o", "sheet.csv"]).expect_code(exit_code::SUCCESS);
    let sheet = Sheet::read(&env.path("sheet.csv"));
    let rows: Vec<&Vec<String>> =
        sheet.rows.iter().filter(|r| r[sheet.col("privileged")] == "yes" && r[sheet.col("class")] != "group").collect();
    let holders: BTreeSet<&str> = rows.iter().map(|r| r[sheet.col("principal_id")].as_str()).collect();
    assert_eq!(m["privileged-holders"], holders.len().to_string());
    assert_eq!(m["privileged-grants"], rows.len().to_string());
    assert!(holders.len() > 3, "{holders:?}");
    assert_eq!(m["history-snapshots"], "2");
}

#[test]
fn the_charts_plot_what_history_says_for_each_snapshot() {
    let Fixture { env, html } = fixture();
    let history = json(env, &["history", "series", "--privileged", "--all", "--format", "json"]);
    let snapshots = history["snapshots"].as_array().unwrap().len();
    let mut holders = vec![BTreeSet::new(); snapshots];
    let mut grants = vec![0u64; snapshots];
    for g in history["grants"].as_array().unwrap().iter().filter(|g| g["principal_kind"] != "group") {
        for run in g["seen_in"].as_array().unwrap() {
            for i in run[0].as_u64().unwrap()..=run[1].as_u64().unwrap() {
                holders[i as usize].insert(g["principal_id"].as_str().unwrap().to_owned());
                grants[i as usize] += 1;
            }
        }
    }
    let holders: Vec<u64> = holders.iter().map(|h| h.len() as u64).collect();
    assert_eq!(series(html, "holders"), holders);
    assert_eq!(series(html, "privileged"), grants);
    assert_ne!(holders[0], holders[1], "Bob left Platform Engineers, Erin joined Tier0 Admins");
    let all: Vec<u64> = ["1-before", "2-after"]
        .iter()
        .map(|s| {
            json(env, &["info", &format!("series/{s}.db"), "--format", "json"])["counts"]["grants"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(series(html, "grants"), all);
}

/// Debian's `chromium` and a Python to drive it with, when both are there (`.ci/run` installs Chromium).
fn browser() -> Option<(String, String)> {
    let ok = |cmd: &str, arg: &str| std::process::Command::new(cmd).arg(arg).output().is_ok_and(|o| o.status.success());
    let python = std::env::var("AZSNAP_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    if !ok("chromium", "--version") {
        notice("the browser test skipped: Debian's chromium is not installed (.ci/run installs it)");
        return None;
    }
    if !ok(&python, "--version") {
        notice(&format!("the browser test skipped: no {python} to drive Chromium with"));
        return None;
    }
    Some(("chromium".to_owned(), python))
}

/// Loads `page` in headless Chromium; what the browser saw (tests/browser/load_page.py).
fn load(page: &Path, screenshot: &Path) -> Option<Value> {
    let (chromium, python) = browser()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/load_page.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(chromium)
        .arg(page)
        .arg(screenshot)
        .output()
        .expect("run the browser script");
    assert!(out.status.success(), "the browser script failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).expect("the browser script prints JSON"))
}

/// Nothing but the page itself was requested, and nothing went wrong on it.
fn assert_quiet(seen: &Value) {
    let requests: Vec<&str> = seen["requests"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert_eq!(requests, [seen["url"].as_str().unwrap()], "the page asked for more than itself");
    assert_eq!(seen["console"], Value::Array(vec![]), "console messages");
    assert_eq!(seen["exceptions"], Value::Array(vec![]), "uncaught exceptions");
    let problems: Vec<&Value> =
        seen["log"].as_array().unwrap().iter().filter(|l| l["level"] == "error" || l["level"] == "warning").collect();
    assert!(problems.is_empty(), "browser log: {problems:?}");
}

#[test]
fn a_real_browser_loads_it_offline_and_prints_one_section_a_page() {
    let Fixture { env, html } = fixture();
    let shot = env.path("report.png");
    let Some(seen) = load(&env.path("report.html"), &shot) else { return };
    assert_quiet(&seen);
    let screen = &seen["screen"];
    // The browser reads the figures the markup holds.
    let shown: BTreeMap<String, String> = serde_json::from_value(screen["metrics"].clone()).unwrap();
    assert_eq!(shown, metrics(html));
    let sections: Vec<&str> = screen["sections"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(sections, ["snapshot", "completeness", "privileged", "drift", "non-human", "unused", "history"]);
    assert!(screen["svgs"].as_u64().unwrap() >= 3, "graphs and charts are drawn: {screen}");
    let breaks = seen["print_breaks"].as_array().unwrap();
    assert!(breaks.iter().all(|b| b == "page"), "each section starts a printed page: {breaks:?}");
    assert!(screen["breaks"].as_array().unwrap().iter().all(|b| b == "auto"), "on screen they flow");
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000, "a screenshot was taken");
}

#[test]
fn names_from_the_tenant_stay_text_even_in_a_browser() {
    let env = TestEnv::new();
    let mut batch = sample::batch();
    let hostile =
        "<img src=\"https://evil.example/x.png\" onerror=\"console.error(1)\"><script>console.error(2)</script>";
    for p in batch.principals.iter_mut().filter(|p| p.display_name.is_some()) {
        p.display_name = Some(format!("{}{hostile}", p.display_name.clone().unwrap_or_default()));
    }
    sample::write(&env.path("s.db"), &batch);
    env.run(&["report", "s.db", "-o", "s.html"]).expect_code(exit_code::SUCCESS);
    let html = std::fs::read_to_string(env.path("s.html")).unwrap();
    assert!(!html.contains("<img") && !html.contains("<script"), "markup from the tenant got through");
    assert!(html.contains("Alice&lt;img src=&quot;https://evil.example/x.png&quot;"));
    if let Some(seen) = load(&env.path("s.html"), &env.path("s.png")) {
        assert_quiet(&seen);
    }
}

#[test]
fn unverified_or_mismatched_input_is_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    sample::write_sample(&env.path("a.db"));
    std::fs::copy(env.path("a.db"), env.path("edited.db")).unwrap();
    crate::bad_input::sql(
        &env.path("edited.db"),
        "UPDATE principals SET display_name = 'Mallory' WHERE display_name = 'Alice'",
    );
    let run = env.run(&["report", "edited.db", "-o", "r.html"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.stderr.starts_with("error: edited.db: ") && !run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!env.path("r.html").exists());
    // Asked to, it writes the report, and says at the top that the snapshot does not verify.
    env.run(&["report", "edited.db", "-o", "r.html", "--allow-unverified"]).expect_code(exit_code::SUCCESS);
    let html = std::fs::read_to_string(env.path("r.html")).unwrap();
    assert!(html.contains("class=\"alert\">This snapshot does not verify"), "no warning on the page");
    // An existing file is kept without --force.
    let run = env.run(&["report", "a.db", "-o", "r.html"]);
    run.expect_code(exit_code::USAGE);
    assert_eq!(std::fs::read_to_string(env.path("r.html")).unwrap(), html);
    // A baseline or a series of another tenant is refused.
    let mut other = sample::new_snapshot();
    other.tenant_id = "99999999-1111-4111-8111-111111111111".parse().unwrap();
    let mut w = azsnap::store::SnapshotWriter::create(&env.path("other.db"), &other, false).unwrap();
    w.write(&sample::batch()).unwrap();
    w.finish("2026-11-20T00:00:00Z".parse().unwrap(), true).unwrap();
    for args in [&["--baseline", "other.db"][..], &["--history", "a.db", "other.db"][..]] {
        let run = env.run(&[&["report", "a.db", "-o", "x.html"], args].concat());
        run.expect_code(exit_code::BAD_INPUT);
        assert!(run.stderr.starts_with("error: ") && run.stderr.contains("tenant"), "{}", run.stderr);
        assert!(!env.path("x.html").exists());
    }
}
