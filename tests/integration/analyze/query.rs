//! `azsnap query`: every named query is registered and runs on a real snapshot; answers match the tenant file;
//! parameters bind; writes, unknown names and bad SQL are refused with the documented exit codes.

use std::collections::BTreeSet;

use azsnap::analyze::query::NAMED;
use azsnap::exit_code;
use serde_json::Value;

use super::snap_arg;
use crate::common::TestEnv;
use crate::common::emulator::contoso_json;

fn query(args: &[&str]) -> Value {
    let env = TestEnv::new();
    let mut all = vec!["query", snap_arg()];
    all.extend_from_slice(args);
    let run = env.run(&[&all[..], &["--format", "json"]].concat());
    run.expect_code(exit_code::SUCCESS);
    run.json()
}

fn column(v: &Value, name: &str) -> BTreeSet<String> {
    v.as_array().unwrap().iter().map(|r| r[name].as_str().unwrap_or_default().to_owned()).collect()
}

#[test]
fn every_file_under_queries_named_is_registered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/named");
    let files: BTreeSet<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let registered: BTreeSet<String> = NAMED.iter().map(|q| format!("{}.sql", q.name)).collect();
    assert_eq!(files, registered, "queries/named and analyze::query::NAMED differ");
}

#[test]
fn every_named_query_runs_and_is_listed() {
    let env = TestEnv::new();
    let list = env.run(&["query", "--list", "--format", "json"]);
    list.expect_code(exit_code::SUCCESS);
    let listed = column(&list.json(), "name");
    assert_eq!(listed, NAMED.iter().map(|q| q.name.to_owned()).collect());
    for q in NAMED {
        let run = env.run(&["query", snap_arg(), q.name, "--format", "csv"]);
        run.expect_code(exit_code::SUCCESS);
        assert!(run.stdout.lines().next().is_some_and(|h| h.contains(',')), "{}: no header", q.name);
    }
}

#[test]
fn guests_with_access_are_the_tenant_files_guests() {
    let tenant = contoso_json();
    let guests: BTreeSet<String> = tenant["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["userType"] == "Guest")
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    let found = column(&query(&["guests-with-access"]), "principal_id");
    assert!(!found.is_empty());
    assert!(found.is_subset(&guests), "non-guests listed: {:?}", found.difference(&guests));
}

#[test]
fn disabled_with_access_lists_only_disabled_accounts() {
    let tenant = contoso_json();
    let disabled: BTreeSet<String> = tenant["users"]
        .as_array()
        .unwrap()
        .iter()
        .chain(tenant["servicePrincipals"].as_array().unwrap())
        .filter(|u| u["accountEnabled"] == false)
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    let found = column(&query(&["disabled-with-access"]), "principal_id");
    assert!(!found.is_empty());
    assert!(found.is_subset(&disabled), "{found:?} vs {disabled:?}");
}

#[test]
fn subscription_owners_include_inherited_management_group_owners() {
    let rows = query(&["subscription-owners"]);
    let alice_on: BTreeSet<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["principal"] == "Alice Admin" && r["role"] == "Owner")
        .map(|r| r["subscription"].as_str().unwrap().to_owned())
        .collect();
    // Alice is Owner on mg-platform; mg-prod (Contoso Production) and Contoso Platform sit below it, Legacy not.
    assert_eq!(alice_on, BTreeSet::from(["Contoso Platform".to_owned(), "Contoso Production".to_owned()]));
    assert!(rows.as_array().unwrap().iter().any(|r| r["how"].as_str().unwrap().starts_with("inherited from ")));
}

#[test]
fn parameters_bind_as_numbers_and_change_the_answer() {
    // With days = 0 every eligibility is listed; with a horizon of one day, none in contoso ends that soon.
    let all = query(&["eligible-assignments"]).as_array().unwrap().len();
    let tenant = contoso_json();
    let eligible = ["directoryRoleEligibilities", "groupEligibilities", "roleEligibilities"]
        .iter()
        .map(|k| tenant[*k].as_array().unwrap().len())
        .sum::<usize>();
    assert_eq!(all, eligible);
    assert_eq!(query(&["eligible-assignments", "--param", "days=1"]).as_array().unwrap().len(), 0);
    let later = query(&["eligible-assignments", "--param", "days=100000"]).as_array().unwrap().len();
    assert!(later > 0 && later < all, "dated eligibilities only: {later} of {all}");
}

#[test]
fn a_user_file_runs_with_its_declared_defaults() {
    let env = TestEnv::new();
    std::fs::write(
        env.path("mine.sql"),
        "-- Users of a type.\n-- param: kind = user\nSELECT count(*) AS n FROM principals WHERE kind = :kind",
    )
    .unwrap();
    let run = env.run(&["query", snap_arg(), "mine.sql", "--format", "json"]);
    run.expect_code(exit_code::SUCCESS);
    let users = contoso_json()["users"].as_array().unwrap().len();
    assert_eq!(run.json()[0]["n"], users);
    let groups = env.run(&["query", snap_arg(), "mine.sql", "--param", "kind=group", "--format", "json"]);
    assert_eq!(groups.json()[0]["n"], contoso_json()["groups"].as_array().unwrap().len());
}

#[test]
fn writes_unknown_names_and_bad_sql_are_refused() {
    let env = TestEnv::new();
    let before = std::fs::read(snap_arg()).unwrap();
    for (sql, code, says) in [
        ("DELETE FROM grants", exit_code::BAD_INPUT, "read-only"),
        ("UPDATE principals SET display_name = 'x'", exit_code::BAD_INPUT, "read-only"),
        ("PRAGMA user_version = 7", exit_code::BAD_INPUT, "read-only"),
        ("SELECT 1; DROP TABLE grants", exit_code::BAD_INPUT, "more than one statement"),
        ("SELECT * FROM no_such_table", exit_code::BAD_INPUT, "no such table"),
        ("SELECT :missing", exit_code::USAGE, "--param missing="),
    ] {
        std::fs::write(env.path("q.sql"), sql).unwrap();
        let run = env.run(&["query", snap_arg(), "q.sql"]);
        run.expect_code(code);
        let line = run.expect_one_line_error();
        assert!(line.contains(says), "{sql}: {line}");
    }
    let run = env.run(&["query", snap_arg(), "no-such-query"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.contains("no query named `no-such-query`") && run.stderr.contains("--list"));
    let run = env.run(&["query", snap_arg(), "custom-roles", "--param", "nope=1"]);
    run.expect_code(exit_code::USAGE);
    let run = env.run(&["query", snap_arg(), "custom-roles", "--param", "novalue"]);
    run.expect_code(exit_code::USAGE);
    assert_eq!(std::fs::read(snap_arg()).unwrap(), before, "a refused query changed the snapshot");
}

#[test]
fn parameters_are_checked_against_their_declared_type() {
    let env = TestEnv::new();
    let run = env.run(&["query", snap_arg(), "inactive-users-with-access", "--param", "days=abc"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.contains("`days` takes an integer, not `abc`"), "{}", run.stderr);
    env.run(&["query", snap_arg(), "inactive-users-with-access", "--param", "days=30"]).expect_code(exit_code::SUCCESS);
    // A text parameter keeps its leading zero; an undeclared one can be forced to text.
    std::fs::write(env.path("pat.sql"), "-- echo\n-- param: pat text = x\nSELECT :pat AS pat, :other AS other\n")
        .unwrap();
    let run = env.run(&[
        "query",
        snap_arg(),
        "pat.sql",
        "--param",
        "pat=0123",
        "--param",
        "other:text=007",
        "--format",
        "json",
    ]);
    run.expect_code(exit_code::SUCCESS);
    assert_eq!(run.json(), serde_json::json!([{"pat": "0123", "other": "007"}]));
    let run = env.run(&["query", snap_arg(), "pat.sql", "--param", "other=007", "--format", "json"]);
    assert_eq!(run.json()[0]["other"], 7, "undeclared: a number binds as a number");
    let run = env.run(&["query", snap_arg(), "pat.sql", "--param", "other:date=1"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.contains("the type is integer, real or text"), "{}", run.stderr);
}
