//! `azsnap apply` against the emulator, whose writes change its state: a reverted drift collects back to the
//! baseline; a second run changes nothing; dry runs change nothing; the tenant, confirmation and lockout guards
//! hold; the emulator's real refusals (synced and dynamic groups) fail the action with exit 7.

use std::collections::BTreeMap;

use azsnap::exit_code;
use serde_json::{Value, json};

use crate::analyze::diff::mutate;
use crate::collect::collect;
use crate::common::emulator::{Emu, GRAPH_SCOPE};
use crate::common::{Run, Sheet, TestEnv};

const WRITER: &str = "a1b2c3d4-0000-4000-8000-000000000002";
const WRITER_SECRET: &str = "contoso-writer-secret";

fn apply(env: &TestEnv, emu: &Emu, plan: &str, extra: &[&str]) -> Run {
    let mut args = vec!["apply", plan, "--endpoint", emu.base.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    env.run_with_env(
        &args,
        &[
            ("AZURE_TENANT_ID", emu.tenant.as_str()),
            ("AZURE_CLIENT_ID", WRITER),
            ("AZURE_CLIENT_SECRET", WRITER_SECRET),
        ],
    )
}

fn writes(emu: &Emu) -> Vec<String> {
    let t = emu.token(WRITER, WRITER_SECRET, GRAPH_SCOPE).body["access_token"].as_str().unwrap().to_owned();
    let stats = emu.get("/_emulator/stats", &t).body;
    stats["write_log"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned()).collect()
}

fn statuses(run: &Run) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for o in run.json().as_array().unwrap() {
        *out.entry(o["status"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    out
}

/// `before.db`, the drift [`mutate`] makes, `after.db` (each collected with `collect_args`), and `p.json`: the plan
/// that reverts it.
fn drift_and_revert_plan(env: &TestEnv, emu: &Emu, collect_args: &[&str]) {
    collect(env, emu, "before.db", collect_args).expect_code(exit_code::SUCCESS);
    mutate(emu);
    collect(env, emu, "after.db", collect_args).expect_code(exit_code::SUCCESS);
    env.run(&["plan", "revert", "--baseline", "before.db", "--current", "after.db", "-o", "p.json"])
        .expect_code(exit_code::SUCCESS);
}

fn plan_json(env: &TestEnv, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(env.path(name)).unwrap()).unwrap()
}

#[test]
fn revert_applied_collects_back_to_the_baseline_and_a_second_run_changes_nothing() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    drift_and_revert_plan(&env, &emu, &["--mailbox-settings"]);
    let actions = plan_json(&env, "p.json")["actions"].as_array().unwrap().len();
    assert_eq!(actions, 4, "three additions to remove, one removal to restore");

    let before = writes(&emu).len();
    let dry = apply(&env, &emu, "p.json", &["--dry-run"]);
    dry.expect_code(exit_code::SUCCESS);
    assert_eq!(statuses(&dry), BTreeMap::from([("would_do".to_owned(), actions)]));
    assert_eq!(writes(&emu).len(), before, "a dry run wrote");
    assert!(!env.path("p.json.journal").exists(), "a dry run journaled");

    let run = apply(&env, &emu, "p.json", &["--yes"]);
    run.expect_code(exit_code::SUCCESS);
    assert_eq!(statuses(&run), BTreeMap::from([("done".to_owned(), actions)]));
    let log = writes(&emu);
    assert_eq!(log.len(), before + actions, "{log:#?}");

    collect(&env, &emu, "again.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
    let drift = env.run(&["diff", "before.db", "again.db", "--format", "json"]).json();
    assert_eq!(drift["summary"]["grants"], json!({"added": 0, "removed": 0, "changed": 0}), "{drift:#}");

    // Again: the journal knows every action is done; nothing is written.
    let again = apply(&env, &emu, "p.json", &["--yes"]);
    again.expect_code(exit_code::SUCCESS);
    assert_eq!(statuses(&again), BTreeMap::from([("skipped".to_owned(), actions)]));
    assert!(again.stdout.contains("by an earlier run"));
    // Without the journal, the live state says the same.
    std::fs::remove_file(env.path("p.json.journal")).unwrap();
    let live = apply(&env, &emu, "p.json", &["--yes"]);
    live.expect_code(exit_code::SUCCESS);
    assert_eq!(statuses(&live), BTreeMap::from([("skipped".to_owned(), actions)]));
    assert_eq!(writes(&emu).len(), before + actions, "a second run wrote");
}

/// A plan with one hand-written action (as `plan show --format json` would print it), valid for contoso.
fn one_action(env: &TestEnv, name: &str, action: Value) {
    let plan = json!({
        "kind": "azsnap-plan", "plan_version": 1, "tool_version": "test", "created_at": "2026-11-26T08:00:00Z",
        "tenant_id": "7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f",
        "source": {"command": "test", "snapshots": [], "options": {}},
        "actions": [action],
    });
    std::fs::write(env.path(name), serde_json::to_string_pretty(&plan).unwrap()).unwrap();
}

/// A role removal: (id, name, kind) of the principal and the target, (id, name) of the role.
fn role_removal(
    id: &str,
    operation: &str,
    principal: (&str, &str, &str),
    target: (&str, &str, &str),
    role: (&str, &str),
    scope: &str,
) -> Value {
    let relation = if operation.starts_with("azure") { "azure_role" } else { "directory_role" };
    json!({"id": id, "operation": operation,
           "principal": {"id": principal.0, "name": principal.1, "kind": principal.2},
           "target": {"id": target.0, "name": target.1, "kind": target.2},
           "role": {"id": role.0, "name": role.1, "kind": relation},
           "scope": scope, "reason": "test", "expects": "present", "privileged": true})
}

fn member_add(id: &str, user: &str, group: &str) -> Value {
    json!({"id": id, "operation": "group_member_add",
           "principal": {"id": user, "name": "u", "kind": "user"},
           "target": {"id": group, "name": "g", "kind": "group"},
           "reason": "test", "expects": "absent", "privileged": false})
}

/// `p.json`: one action adding Bob Builder to Storage Readers.
fn bob_into_storage_readers(env: &TestEnv) {
    one_action(
        env,
        "p.json",
        member_add("a-1", "10000000-0000-4000-8000-000000000002", "20000000-0000-4000-8000-000000000008"),
    );
}

#[test]
fn the_services_refusals_fail_the_action_with_exit_7() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    let user = "10000000-0000-4000-8000-000000000006";
    for (name, group, says) in [
        ("synced.json", "20000000-0000-4000-8000-000000000006", "on-premises"),
        ("dynamic.json", "20000000-0000-4000-8000-000000000005", "dynamic"),
    ] {
        one_action(&env, name, member_add("a-1", user, group));
        let run = apply(&env, &emu, name, &["--yes"]);
        run.expect_code(exit_code::APPLY_FAILED);
        let out = run.json();
        assert_eq!(out[0]["status"], "failed");
        assert!(out[0]["detail"].as_str().unwrap().to_lowercase().contains(says), "{}", out[0]["detail"]);
        assert!(run.stderr.contains("1 actions were not applied: a-1"), "{}", run.stderr);
    }
}

#[test]
fn lockout_guard_keeps_the_last_global_administrator_and_the_own_access() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    let alice = "10000000-0000-4000-8000-000000000001";
    one_action(
        &env,
        "ga.json",
        role_removal(
            "a-ga",
            "directory_role_remove",
            (alice, "Alice Admin", "user"),
            ("7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f", "Contoso", "tenant"),
            ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator"),
            "/",
        ),
    );
    let before = writes(&emu).len();
    let run = apply(&env, &emu, "ga.json", &["--yes"]);
    run.expect_code(exit_code::APPLY_FAILED);
    assert_eq!(run.json()[0]["status"], "refused");
    assert!(run.json()[0]["detail"].as_str().unwrap().contains("last active Global Administrator"));
    // GUIDs are case-insensitive: the same plan in upper case (role, principal, tenant) is the same removal.
    let upper = std::fs::read_to_string(env.path("ga.json"))
        .unwrap()
        .replace("62e90394-69f5-4237-9190-012177145e10", "62E90394-69F5-4237-9190-012177145E10");
    let upper = upper.replace(alice, &alice.to_uppercase()).replace(&emu.tenant, &emu.tenant.to_uppercase());
    std::fs::write(env.path("ga-upper.json"), upper).unwrap();
    for extra in [&["--dry-run"][..], &["--yes"]] {
        let run = apply(&env, &emu, "ga-upper.json", extra);
        run.expect_code(exit_code::APPLY_FAILED);
        assert_eq!(run.json()[0]["status"], "refused", "{}", run.stdout);
    }
    assert_eq!(writes(&emu).len(), before, "a refused removal wrote");
    let root = "/providers/microsoft.management/managementgroups/7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f";
    one_action(
        &env,
        "own.json",
        role_removal(
            "a-own",
            "azure_role_delete",
            ("30000000-0000-4000-8000-000000000002", "azsnap writer", "service_principal"),
            (root, "Tenant Root Group", "management_group"),
            ("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator"),
            root,
        ),
    );
    let run = apply(&env, &emu, "own.json", &["--yes"]);
    run.expect_code(exit_code::APPLY_FAILED);
    assert!(run.json()[0]["detail"].as_str().unwrap().contains("own access"), "{}", run.stdout);
    // Forced, the Global Administrator goes.
    let run = apply(&env, &emu, "ga.json", &["--yes", "--force-lockout-risk"]);
    run.expect_code(exit_code::SUCCESS);
    assert_eq!(run.json()[0]["status"], "done");
    assert_eq!(writes(&emu).len(), before + 1);
}

#[test]
fn wrong_tenant_unconfirmed_and_malformed_plans_are_refused_before_any_write() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    bob_into_storage_readers(&env);
    let before = writes(&emu).len();
    // Not a terminal and no --yes: nothing to ask, so nothing is done.
    let run = apply(&env, &emu, "p.json", &[]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.contains("pass --yes"), "{}", run.stderr);
    // A plan for another tenant.
    let text = std::fs::read_to_string(env.path("p.json")).unwrap();
    std::fs::write(
        env.path("other.json"),
        text.replace("7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f", "11111111-2222-4333-8444-555555555555"),
    )
    .unwrap();
    let run = apply(&env, &emu, "other.json", &["--yes"]);
    run.expect_code(exit_code::AUTH);
    assert!(run.stderr.contains("the plan is for tenant 11111111-2222-4333-8444-555555555555"), "{}", run.stderr);
    // Malformed and unknown operations.
    std::fs::write(env.path("bad.json"), text.replace("group_member_add", "group_delete")).unwrap();
    apply(&env, &emu, "bad.json", &["--yes"]).expect_code(exit_code::BAD_INPUT);
    std::fs::write(env.path("eligible.json"), text.replace("\"plan_version\": 1", "\"plan_version\": 9")).unwrap();
    apply(&env, &emu, "eligible.json", &["--yes"]).expect_code(exit_code::BAD_INPUT);
    assert_eq!(writes(&emu).len(), before, "a refused plan wrote");
    let run = apply(&env, &emu, "p.json", &["--yes"]);
    run.expect_code(exit_code::SUCCESS);
    assert!(!run.stdout.contains(WRITER_SECRET) && !run.stderr.contains(WRITER_SECRET));
    let journal = std::fs::read(env.path("p.json.journal")).unwrap();
    assert!(!String::from_utf8_lossy(&journal).contains(WRITER_SECRET), "the journal holds the secret");
}

/// Rows in an apply journal (0 while it does not exist yet or is being created).
#[expect(clippy::disallowed_methods, reason = "the test reads the journal another process is writing")]
fn journaled(path: &std::path::Path) -> i64 {
    if !path.exists() {
        return 0;
    }
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT count(*) FROM attempts", [], |r| r.get(0)))
        .unwrap_or(0)
}

fn writer_vars(emu: &Emu) -> Vec<(&'static str, String)> {
    vec![
        ("AZURE_TENANT_ID", emu.tenant.clone()),
        ("AZURE_CLIENT_ID", WRITER.to_owned()),
        ("AZURE_CLIENT_SECRET", WRITER_SECRET.to_owned()),
    ]
}

#[test]
fn an_apply_killed_midway_resumes_and_does_each_action_once() {
    // Every answer takes 150 ms, so an action (a read and a write) takes at least 300 ms: the kill below lands
    // after the first write and long before the last.
    let emu = Emu::with(azsnap::mock::EmulatorOptions { latency_ms: 150, ..Default::default() });
    let env = TestEnv::new();
    drift_and_revert_plan(&env, &emu, &[]);
    let actions = plan_json(&env, "p.json")["actions"].as_array().unwrap().len();
    let before = writes(&emu).len();
    let vars = writer_vars(&emu);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut child = env
        .command(&["apply", "p.json", "--endpoint", emu.base.as_str(), "--yes"], &vars)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (bounded) until the journal records the first action, then kill the process as a crash or a cancelled
    // CI job would. The next write is at least two answers (300 ms) away.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while journaled(&env.path("p.json.journal")) == 0 {
        assert!(std::time::Instant::now() < deadline, "apply journaled nothing");
        assert!(child.try_wait().unwrap().is_none(), "apply ended before its first action was journaled");
        std::thread::yield_now();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = writes(&emu).len() - before;
    assert!(partial >= 1 && partial < actions, "the kill did not land midway: {partial} of {actions} writes");

    let run = apply(&env, &emu, "p.json", &["--yes"]);
    run.expect_code(exit_code::SUCCESS);
    let st = statuses(&run);
    assert_eq!(st.get("done").copied().unwrap_or(0) + st.get("skipped").copied().unwrap_or(0), actions, "{st:?}");
    assert_eq!(st.get("done").copied().unwrap_or(0), actions - partial, "{}", run.stdout);
    // Each action's write happened exactly once over both runs.
    let log = writes(&emu);
    assert_eq!(log.len() - before, actions, "{log:#?}");
    let mut distinct = log[before..].to_vec();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), actions, "a write was repeated: {log:#?}");
}

#[test]
fn review_decisions_applied_remove_those_grants_and_nothing_else() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "now.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
    env.run(&["review", "now.db", "-o", "r.csv", "--effective"]).expect_code(exit_code::SUCCESS);
    let mut sheet = Sheet::read(&env.path("r.csv"));
    let mut expected_gone = Vec::new();
    sheet.decide(|cell| {
        let direct = cell("via").is_empty() && cell("state") == "active";
        let pick = (direct && cell("principal") == "Bob Builder" && cell("role") == "Reader")
            || (cell("principal") == "Erin Guest" && cell("via") == "Storage Readers");
        if !pick {
            return "keep".to_owned();
        }
        let (relation, target, role) = if cell("via").is_empty() {
            (cell("relation"), cell("target_id"), cell("role_id"))
        } else {
            ("member".to_owned(), cell("via_group_id"), String::new())
        };
        expected_gone.push(format!("{}|{relation}|{target}|{role}", cell("principal_id")));
        "revoke".to_owned()
    });
    assert_eq!(expected_gone.len(), 2, "{expected_gone:?}");
    sheet.fill("reviewer", "rita@contoso.com");
    sheet.write(&env.path("r.csv"));
    env.run(&["plan", "from-review", "r.csv", "--snapshot", "now.db", "-o", "p.json"]).expect_code(exit_code::SUCCESS);
    apply(&env, &emu, "p.json", &["--yes"]).expect_code(exit_code::SUCCESS);
    // The journal says who decided each removal, beside who made it.
    let journal = env.run(&["apply", "p.json", "--journal-report", "--format", "json"]).json();
    let attempts = journal["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts.iter().all(|a| a["reviewed_by"] == "rita@contoso.com" && a["actor_appid"] == WRITER),
        "{journal:#}"
    );
    collect(&env, &emu, "later.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
    let drift = env.run(&["diff", "now.db", "later.db", "--format", "json"]).json();
    let mut removed: Vec<String> = drift["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["change"], "removed", "only removals expected: {i}");
            let g = &i["grant"];
            format!("{}|{}|{}|{}", s(&g["principal_id"]), s(&g["relation"]), s(&g["target_id"]), s(&g["role_id"]))
        })
        .collect();
    removed.sort();
    expected_gone.sort();
    assert_eq!(removed, expected_gone);
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[test]
fn lockout_guard_sees_access_the_applier_holds_through_a_group() {
    // The writing app is put into Storage Readers, which holds a data role on the storage account.
    let writer_sp: azsnap::model::Guid = "30000000-0000-4000-8000-000000000002".parse().unwrap();
    let emu = crate::collect::contoso_with(|t| t.groups[7].members.push(writer_sp), Default::default());
    let env = TestEnv::new();
    let account = "/subscriptions/50000000-0000-4000-8000-000000000001/resourcegroups/rg-data/providers/microsoft.storage/storageaccounts/stcontosodata";
    one_action(
        &env,
        "p.json",
        role_removal(
            "a-via",
            "azure_role_delete",
            ("20000000-0000-4000-8000-000000000008", "Storage Readers", "group"),
            (account, "stcontosodata", "storage_account"),
            ("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "Storage Blob Data Reader"),
            account,
        ),
    );
    let before = writes(&emu).len();
    let run = apply(&env, &emu, "p.json", &["--yes"]);
    run.expect_code(exit_code::APPLY_FAILED);
    let detail = run.json()[0]["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("through group Storage Readers"), "{detail}");
    assert_eq!(writes(&emu).len(), before);
    // Without the app in the group, the same action is done.
    let plain = Emu::contoso();
    let env2 = TestEnv::new();
    std::fs::copy(env.path("p.json"), env2.path("p.json")).unwrap();
    apply(&env2, &plain, "p.json", &["--yes"]).expect_code(exit_code::SUCCESS);
}

#[test]
fn a_second_apply_of_a_plan_that_is_running_is_refused() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    bob_into_storage_readers(&env);
    // A first run holds the journal (as an apply in progress does).
    std::fs::write(env.path("p.json.journal"), b"").unwrap();
    let held = std::fs::File::open(env.path("p.json.journal")).unwrap();
    held.lock().unwrap();
    let before = writes(&emu).len();
    let run = apply(&env, &emu, "p.json", &["--yes"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.expect_one_line_error().contains("in use by another azsnap apply"), "{}", run.stderr);
    assert_eq!(writes(&emu).len(), before);
    drop(held);
    apply(&env, &emu, "p.json", &["--yes"]).expect_code(exit_code::SUCCESS);
}

#[test]
fn plans_are_bound_to_what_was_reviewed_and_the_journal_keeps_every_run_with_its_actor() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    drift_and_revert_plan(&env, &emu, &[]);
    let sha = azsnap::model::sha256_hex(&std::fs::read(env.path("p.json")).unwrap());
    let shown = env.run(&["plan", "show", "p.json"]);
    assert!(shown.stdout.contains(&format!("sha256 {sha} (not signed)")), "{}", shown.stdout);
    let before = writes(&emu).len();

    // Another plan than the one reviewed: refused before any request.
    let other = apply(&env, &emu, "p.json", &["--yes", "--expect-sha256", &"0".repeat(64)]);
    other.expect_code(exit_code::BAD_INPUT);
    assert!(other.stderr.contains("it is not the plan that was reviewed"), "{}", other.stderr);
    // Four eyes: unsigned, then signed by someone the allowed-signers file does not list, then by the approver.
    for who in ["approver", "stranger"] {
        env.run(&["keygen", "-o", who, "--comment", &format!("{who}@contoso.com")]).expect_code(exit_code::SUCCESS);
    }
    let public = std::fs::read_to_string(env.path("approver.pub")).unwrap();
    std::fs::write(env.path("allowed"), format!("approver@contoso.com {public}")).unwrap();
    let gated = ["--yes", "--require-signature", "--allowed-signers", "allowed"];
    let unsigned = apply(&env, &emu, "p.json", &gated);
    unsigned.expect_code(exit_code::BAD_INPUT);
    assert!(unsigned.stderr.contains("not signed"), "{}", unsigned.stderr);
    env.run(&["plan", "sign", "p.json", "--signing-key", "stranger"]).expect_code(exit_code::SUCCESS);
    let stranger = apply(&env, &emu, "p.json", &gated);
    stranger.expect_code(exit_code::BAD_INPUT);
    assert!(stranger.stderr.contains("which allowed does not trust"), "{}", stranger.stderr);
    env.run(&["plan", "sign", "p.json", "--signing-key", "approver", "--force"]).expect_code(exit_code::SUCCESS);
    assert_eq!(writes(&emu).len(), before, "a refused apply wrote");

    let first = apply(&env, &emu, "p.json", &[&gated[..], &["--expect-sha256", &sha.to_uppercase()]].concat());
    first.expect_code(exit_code::SUCCESS);
    let second = apply(&env, &emu, "p.json", &["--yes"]);
    second.expect_code(exit_code::SUCCESS);
    assert!(statuses(&second).keys().all(|s| s == "skipped"), "{}", second.stdout);

    // Both runs' rows are there, each with who acted; the first run's `done` rows are unchanged.
    let report = env.run(&["apply", "p.json", "--journal-report", "--format", "json"]);
    report.expect_code(exit_code::SUCCESS);
    let j = report.json();
    let attempts = j["attempts"].as_array().unwrap();
    let actions = plan_json(&env, "p.json")["actions"].as_array().unwrap().len();
    assert_eq!(attempts.len(), 2 * actions, "{j:#}");
    let runs: std::collections::BTreeSet<&str> = attempts.iter().map(|a| a["run_id"].as_str().unwrap()).collect();
    assert_eq!(runs.len(), 2);
    for a in attempts {
        assert_eq!(a["actor_appid"], WRITER);
        assert_eq!(a["actor_tid"], emu.tenant.as_str());
        assert!(a["actor_oid"].as_str().is_some_and(|o| o.len() == 36), "{a}");
    }
    let (done, skipped): (Vec<&Value>, Vec<&Value>) = attempts.iter().partition(|a| a["status"] == "done");
    assert_eq!((done.len(), skipped.len()), (actions, actions));
    assert!(done.iter().all(|a| a["request_id"].as_str().is_some_and(|r| !r.is_empty())), "{done:#?}");
    assert!(done.iter().all(|a| a["approved_by"].as_str().is_some_and(|r| r.starts_with("approver@contoso.com"))));
    assert_eq!(j["seals"].as_array().unwrap().len(), 2);
    assert!(j["seals"].as_array().unwrap().iter().all(|s| s["intact"] == true));
    // The journal cannot be rewritten through SQLite's front door, and an edit behind it breaks the seal.
    let journal = env.path("p.json.journal");
    #[expect(clippy::disallowed_methods, reason = "the test edits a journal as someone with sqlite3 would")]
    let c = rusqlite::Connection::open(&journal).unwrap();
    assert!(c.execute("UPDATE attempts SET status = 'failed'", []).is_err(), "the journal took an update");
    c.execute_batch("DROP TRIGGER attempts_are_not_updated; UPDATE attempts SET actor_oid = NULL WHERE seq = 1;")
        .unwrap();
    drop(c);
    let broken = env.run(&["apply", "p.json", "--journal-report"]);
    broken.expect_code(exit_code::BAD_INPUT);
    assert!(broken.stderr.contains("are not the ones sealed"), "{}", broken.stderr);
}

#[test]
fn a_plan_from_an_old_snapshot_is_refused_with_max_age_and_warned_about_without() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    drift_and_revert_plan(&env, &emu, &[]);
    // Two weeks after the collection (the tests' clock is pinned; AZSNAP_NOW moves it).
    let later = "2026-12-10T08:00:00Z";
    let vars = [
        ("AZURE_TENANT_ID", emu.tenant.as_str()),
        ("AZURE_CLIENT_ID", WRITER),
        ("AZURE_CLIENT_SECRET", WRITER_SECRET),
        ("AZSNAP_NOW", later),
    ];
    let base = ["apply", "p.json", "--endpoint", emu.base.as_str(), "--format", "json", "--dry-run"];
    let refused = env.run_with_env(&[&base[..], &["--max-age", "7"]].concat(), &vars);
    refused.expect_code(exit_code::BAD_INPUT);
    assert!(refused.stderr.contains("more than --max-age 7"), "{}", refused.stderr);
    let warned = env.run_with_env(&base, &vars);
    warned.expect_code(exit_code::SUCCESS);
    assert!(warned.stderr.contains("warning: the plan was built from a snapshot collected"), "{}", warned.stderr);
    env.run_with_env(&[&base[..], &["--max-age", "30"]].concat(), &vars).expect_code(exit_code::SUCCESS);
}

#[test]
fn a_journal_from_before_it_was_append_only_is_carried_over_and_honoured() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    one_action(
        &env,
        "p.json",
        member_add("a-1", "10000000-0000-4000-8000-000000000002", "20000000-0000-4000-8000-000000000008"),
    );
    let sha = azsnap::model::sha256_hex(&std::fs::read(env.path("p.json")).unwrap());
    {
        #[expect(clippy::disallowed_methods, reason = "the test writes a journal in the earlier layout")]
        let c = rusqlite::Connection::open(env.path("p.json.journal")).unwrap();
        c.execute_batch(
            "PRAGMA application_id = 1635412590;
             CREATE TABLE outcomes (plan_sha256 TEXT NOT NULL, action_id TEXT NOT NULL, status TEXT NOT NULL,
                 detail TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (plan_sha256, action_id)) STRICT;",
        )
        .unwrap();
        c.execute("INSERT INTO outcomes VALUES (?1, 'a-1', 'done', 'added earlier', '2026-11-20T08:00:00Z')", [&sha])
            .unwrap();
    }
    let before = writes(&emu).len();
    let run = apply(&env, &emu, "p.json", &["--yes"]);
    run.expect_code(exit_code::SUCCESS);
    assert_eq!(statuses(&run), BTreeMap::from([("skipped".to_owned(), 1)]));
    assert_eq!(writes(&emu).len(), before, "an action the earlier journal records as done was repeated");
    let report = env.run(&["apply", "p.json", "--journal-report", "--format", "json"]).json();
    let runs: Vec<&str> =
        report["attempts"].as_array().unwrap().iter().map(|a| a["run_id"].as_str().unwrap()).collect();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0], "earlier");
    assert_eq!(report["attempts"][0]["detail"], "added earlier");
}
