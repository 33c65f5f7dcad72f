//! `azsnap plan`: plans built offline match what they are built from (the diff, the unused-roles findings, the
//! review decisions), are valid against their JSON Schema's rules, and bad plans or sheets are refused clearly.

use std::collections::BTreeSet;

use azsnap::exit_code;
use azsnap::plan::{Operation, Plan};
use serde_json::Value;

use crate::common::{Sheet, TestEnv};

/// The demo's baseline and changed snapshots, in `tour/`.
fn demo(env: &TestEnv) {
    env.run(&["demo", "--dir", "tour"]).expect_code(exit_code::SUCCESS);
}

fn plan(env: &TestEnv, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(env.path(name)).unwrap()).unwrap()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[test]
fn revert_removes_exactly_the_grants_added_since_the_baseline() {
    let env = TestEnv::new();
    demo(&env);
    env.run(&["plan", "revert", "--baseline", "tour/baseline.db", "--current", "tour/current.db", "-o", "p.json"])
        .expect_code(exit_code::SUCCESS);
    let p = plan(&env, "p.json");
    let report = env.run(&["diff", "tour/baseline.db", "tour/current.db", "--format", "json"]).json();
    let added: BTreeSet<(String, String, String, String)> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "grant" && i["change"] == "added")
        .map(|i| {
            let g = &i["grant"];
            (s(&g["principal_id"]), s(&g["relation"]), s(&g["target_id"]), s(&g["role_id"]))
        })
        .collect();
    assert_eq!(added.len(), 3);
    let planned: BTreeSet<(String, String, String, String)> = p["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let op: Operation = serde_json::from_value(a["operation"].clone()).unwrap();
            assert!(op.removes(), "{a}");
            assert_eq!(a["expects"], "present");
            (s(&a["principal"]["id"]), op.relation().to_string(), s(&a["target"]["id"]), s(&a["role"]["id"]))
        })
        .collect();
    assert_eq!(planned, added);
    assert_eq!(p["tenant_id"], report["old"]["tenant_id"]);
    let fingerprints: Vec<String> =
        p["source"]["snapshots"].as_array().unwrap().iter().map(|x| s(&x["fingerprint"])).collect();
    assert_eq!(fingerprints, vec![s(&report["old"]["fingerprint"]), s(&report["new"]["fingerprint"])]);
    // The Azure removal carries the scope it was assigned at and the assignment id seen in the snapshot.
    let owner = p["actions"].as_array().unwrap().iter().find(|a| a["operation"] == "azure_role_delete").unwrap();
    assert_eq!(owner["scope"], owner["target"]["id"]);
    assert!(owner["assignment_id"].as_str().is_some_and(|id| !id.is_empty()));
    // Rebuilding gives the same actions with the same ids.
    env.run(&[
        "plan",
        "revert",
        "--baseline",
        "tour/baseline.db",
        "--current",
        "tour/current.db",
        "-o",
        "p.json",
        "--force",
    ])
    .expect_code(exit_code::SUCCESS);
    assert_eq!(plan(&env, "p.json")["actions"], p["actions"]);
    // No drift, no actions.
    env.run(&["plan", "revert", "--baseline", "tour/current.db", "--current", "tour/current.db", "-o", "none.json"])
        .expect_code(exit_code::SUCCESS);
    assert_eq!(plan(&env, "none.json")["actions"], serde_json::json!([]));
}

#[test]
fn revoke_unused_follows_the_unused_roles_findings() {
    let env = TestEnv::new();
    demo(&env);
    env.run(&["plan", "revoke-unused", "tour/current.db", "-o", "u.json"]).expect_code(exit_code::SUCCESS);
    let p = plan(&env, "u.json");
    let findings = env.run(&["unused-roles", "tour/current.db", "--format", "json"]).json();
    let active: BTreeSet<(String, String)> = findings["stale_assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["state"] == "active")
        .map(|a| (s(&a["principal_id"]), s(&a["role_id"])))
        .collect();
    let planned: BTreeSet<(String, String)> =
        p["actions"].as_array().unwrap().iter().map(|a| (s(&a["principal"]["id"]), s(&a["role"]["id"]))).collect();
    assert!(!planned.is_empty());
    assert_eq!(planned, active);
    // Non-human only: the room mailbox's app roles stay, the deleted principal's (unknown, not human) too.
    env.run(&["plan", "revoke-unused", "tour/current.db", "--non-human-only", "-o", "nh.json"])
        .expect_code(exit_code::SUCCESS);
    let nh = plan(&env, "nh.json");
    let nh_principals: BTreeSet<String> =
        nh["actions"].as_array().unwrap().iter().map(|a| s(&a["principal"]["id"])).collect();
    let humans: BTreeSet<String> = env
        .run(&["identities", "tour/current.db", "--format", "json"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["human"] == true)
        .map(|i| s(&i["id"]))
        .collect();
    assert!(nh_principals.is_disjoint(&humans));
    assert!(nh_principals.contains("10000000-0000-4000-8000-000000000008"), "the room mailbox is non-human");
}

#[test]
fn from_review_plans_the_revoke_decisions_and_nothing_else() {
    let env = TestEnv::new();
    demo(&env);
    env.run(&["review", "tour/current.db", "-o", "r.csv", "--effective"]).expect_code(exit_code::SUCCESS);
    let text = std::fs::read_to_string(env.path("r.csv")).unwrap();
    let mut sheet = Sheet::read(&env.path("r.csv"));
    let mut want = BTreeSet::new();
    sheet.decide(|cell| {
        let direct_ga = cell("role") == "Global Administrator" && cell("via").is_empty();
        let via_storage = cell("principal") == "Erin Guest" && cell("via") == "Storage Readers";
        if direct_ga || via_storage {
            let target = if via_storage { cell("via_group_id") } else { cell("target_id") };
            want.insert((cell("principal_id"), target));
            "Revoke".to_owned()
        } else if cell("principal") == "Bob Builder" {
            " keep ".to_owned()
        } else {
            String::new()
        }
    });
    sheet.fill("comment", "no longer needed");
    sheet.fill("reviewer", "rita@contoso.com");
    sheet.write(&env.path("r.csv"));
    env.run(&["plan", "from-review", "r.csv", "--snapshot", "tour/current.db", "-o", "p.json"])
        .expect_code(exit_code::SUCCESS);
    let p = plan(&env, "p.json");
    // The reviewer's comment is the reason; who reviewed is recorded with each action.
    for a in p["actions"].as_array().unwrap() {
        assert!(
            s(&a["reason"]).starts_with("review decision: revoke") && s(&a["reason"]).ends_with(": no longer needed")
        );
        assert_eq!(a["reviewed_by"], "rita@contoso.com");
    }
    let got: BTreeSet<(String, String)> =
        p["actions"].as_array().unwrap().iter().map(|a| (s(&a["principal"]["id"]), s(&a["target"]["id"]))).collect();
    assert_eq!(got, want);
    assert!(p["actions"].as_array().unwrap().iter().all(|a| a["operation"] != "group_member_add"));
    assert_eq!(p["source"]["review"]["file"], "r.csv");

    // A decision that is neither keep nor revoke names its row.
    let fingerprint =
        crate::collect::column(&env.path("tour/current.db"), "SELECT value FROM meta WHERE key = 'fingerprint'");
    let tail = format!(",,,,{}\r\n", fingerprint[0]);
    let bad = text.replacen(&tail, &format!(",maybe,,,{}\r\n", fingerprint[0]), 1);
    std::fs::write(env.path("bad.csv"), &bad).unwrap();
    let run = env.run(&["plan", "from-review", "bad.csv", "--snapshot", "tour/current.db", "-o", "x.json"]);
    run.expect_code(exit_code::BAD_INPUT);
    let line = run.expect_one_line_error();
    assert!(line.contains("bad.csv: row 2: decision \"maybe\""), "{line}");
    // A sheet from another snapshot: Erin's Tier0 Admins membership (added by the demo) is not in the baseline.
    sheet.decide(|cell| {
        let erin_tier0 = cell("principal") == "Erin Guest"
            && cell("relation") == "member"
            && cell("target") == "Tier0 Admins"
            && cell("via").is_empty();
        if erin_tier0 { "revoke".to_owned() } else { String::new() }
    });
    sheet.write(&env.path("other.csv"));
    env.run(&["plan", "from-review", "other.csv", "--snapshot", "tour/current.db", "-o", "ok.json"])
        .expect_code(exit_code::SUCCESS);
    assert_eq!(plan(&env, "ok.json")["actions"].as_array().unwrap().len(), 1);
    // The same sheet saved with CR-only line ends (older spreadsheet programs) plans the same.
    let cr = std::fs::read_to_string(env.path("other.csv")).unwrap().replace("\r\n", "\r");
    std::fs::write(env.path("cr.csv"), cr).unwrap();
    env.run(&["plan", "from-review", "cr.csv", "--snapshot", "tour/current.db", "-o", "cr.json"])
        .expect_code(exit_code::SUCCESS);
    assert_eq!(plan(&env, "cr.json")["actions"], plan(&env, "ok.json")["actions"]);
    // A sheet made from another snapshot is refused before its rows are looked at.
    let run = env.run(&["plan", "from-review", "other.csv", "--snapshot", "tour/baseline.db", "-o", "x.json"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(
        run.stderr.contains("row 2: made from snapshot") && run.stderr.contains("tour/baseline.db"),
        "{}",
        run.stderr
    );
    // And so is a sheet without the fingerprint column.
    let cut: String = text.lines().map(|l| l.rsplit_once(',').unwrap().0.to_owned() + "\r\n").collect();
    std::fs::write(env.path("old.csv"), cut).unwrap();
    let run = env.run(&["plan", "from-review", "old.csv", "--snapshot", "tour/current.db", "-o", "x.json"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.stderr.contains("no `snapshot_fingerprint` column"), "{}", run.stderr);
    // Not a sheet at all.
    std::fs::write(env.path("notes.csv"), "a,b\n1,2\n").unwrap();
    let run = env.run(&["plan", "from-review", "notes.csv", "--snapshot", "tour/current.db", "-o", "x.json"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.stderr.contains("no `principal_id` column"), "{}", run.stderr);
    assert!(!env.path("x.json").exists());
}

#[test]
fn show_renders_and_bad_plans_are_refused_naming_the_problem() {
    let env = TestEnv::new();
    demo(&env);
    env.run(&["plan", "revert", "--baseline", "tour/baseline.db", "--current", "tour/current.db", "-o", "p.json"])
        .expect_code(exit_code::SUCCESS);
    let shown = env.run(&["plan", "show", "p.json"]);
    shown.expect_code(exit_code::SUCCESS);
    assert!(
        shown
            .stdout
            .contains("remove Erin Guest (erin_fabrikam.com#EXT#@contoso.onmicrosoft.com) from group Tier0 Admins"),
        "{}",
        shown.stdout
    );
    let json = env.run(&["plan", "show", "p.json", "--format", "json"]).json();
    assert_eq!(json, plan(&env, "p.json"));

    let good = std::fs::read_to_string(env.path("p.json")).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "version.json",
            good.replace("\"plan_version\": 1", "\"plan_version\": 2"),
            "plan version 2 is not one this build reads",
        ),
        ("op.json", good.replacen("\"group_member_remove\"", "\"group_delete\"", 1), "unknown variant `group_delete`"),
        ("kind.json", good.replace("azsnap-plan", "something-else"), "not a plan"),
        ("trunc.json", good[..good.len() / 2].to_owned(), "invalid JSON"),
        (
            "tenant.json",
            good.replacen("7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f", "contoso", 1),
            "tenant_id \"contoso\" is not a GUID",
        ),
        (
            "scope.json",
            good.replacen("\"scope\": \"/subscriptions/", "\"scope\": \"/subscriptions/../", 1),
            "is not an ARM scope",
        ),
        (
            "expects.json",
            good.replacen("\"expects\": \"present\"", "\"expects\": \"absent\"", 1),
            "expects \"present\"",
        ),
        ("extra.json", good.replacen("\"reason\":", "\"force\": true, \"reason\":", 1), "unknown field `force`"),
    ];
    for (name, text, says) in cases {
        assert_ne!(text, good, "{name}: the edit did not apply");
        std::fs::write(env.path(name), text).unwrap();
        let run = env.run(&["plan", "show", name]);
        run.expect_code(exit_code::BAD_INPUT);
        let line = run.expect_one_line_error();
        assert!(line.contains(name) && line.contains(says), "{name}: {line}");
    }
}

#[test]
fn the_committed_schema_is_the_one_the_code_reads() {
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/plan.schema.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(committed, Plan::schema(), "regenerate: azsnap plan schema > docs/plan.schema.json");
    let ops: BTreeSet<String> = committed["$defs"]["Operation"]["oneOf"]
        .as_array()
        .map(|v| v.iter().filter_map(|o| o["const"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let all: BTreeSet<String> = Operation::ALL.iter().map(|o| o.as_str().to_owned()).collect();
    assert_eq!(ops, all);
}

#[test]
fn revert_does_not_plan_restores_to_deleted_principals() {
    use azsnap::mock::EmulatorOptions;
    const BOB: &str = "10000000-0000-4000-8000-000000000002";
    let env = TestEnv::new();
    let before = crate::common::emulator::Emu::contoso();
    crate::collect::collect(&env, &before, "a.db", &[]).expect_code(exit_code::SUCCESS);
    // The same tenant after Bob's account was deleted: gone from the directory and from every list that named him.
    let after = crate::collect::contoso_with(
        |t| {
            fn forget(v: &mut Value) {
                match v {
                    Value::Array(items) => {
                        items.retain(|i| {
                            i.as_str() != Some(BOB)
                                && i["id"] != BOB
                                && i["principalId"] != BOB
                                && i["principal_id"] != BOB
                        });
                        items.iter_mut().for_each(forget);
                    }
                    Value::Object(map) => map.values_mut().for_each(forget),
                    _ => {}
                }
            }
            let mut v = serde_json::to_value(&*t).unwrap();
            forget(&mut v);
            *t = serde_json::from_value(v).unwrap();
        },
        EmulatorOptions::default(),
    );
    crate::collect::collect(&env, &after, "b.db", &[]).expect_code(exit_code::SUCCESS);
    env.run(&["plan", "revert", "--baseline", "a.db", "--current", "b.db", "-o", "p.json"])
        .expect_code(exit_code::SUCCESS);
    let p = plan(&env, "p.json");
    let actions = p["actions"].as_array().unwrap();
    assert!(!actions.iter().any(|a| a.to_string().contains(BOB)), "no restore to a deleted principal: {actions:#?}");
    let not_planned = p["not_planned"].as_array().unwrap();
    let bobs: Vec<&Value> = not_planned.iter().filter(|n| n["what"].as_str().unwrap().contains("Bob")).collect();
    assert!(
        bobs.iter().any(|n| n["reason"] == "the principal is not in the current snapshot: a restore would fail"),
        "{not_planned:#?}"
    );
}
