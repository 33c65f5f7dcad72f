//! `azsnap history`: a series of snapshots written with known changes between them — a state change, a grant gone
//! and back, a grant missing where its part was denied — must come out as exactly those events, in collection
//! order whatever the file names.

use std::path::Path;

use azsnap::exit_code;
use azsnap::model::{Grant, GrantState, Part, PartStatus, Relation, Timestamp};
use azsnap::store::{Batch, NewSnapshot, SnapshotWriter};
use serde_json::{Value, json};

use crate::common::{TestEnv, sample};

/// The parts every sample snapshot records, complete unless named in `not_complete`.
const PARTS: &[&str] = &[
    "users",
    "groups",
    "group_owners",
    "directory_roles",
    "directory_role_pim",
    "app_role_assignments",
    "service_principal_owners",
    "delegated_grants",
    "azure_role_assignments",
];

fn write(path: &Path, day: u32, batch: &Batch, denied: &[&str]) {
    write_at(path, &sample::new_snapshot(), &format!("2026-11-{day:02}T07:00"), batch, denied);
}

/// Writes `batch` as a sealed snapshot of `new`'s tenant collected from `started` (`YYYY-MM-DDTHH:MM`) for five
/// minutes, with the parts in `denied` denied and the others complete.
pub(crate) fn write_at(path: &Path, new: &NewSnapshot, started: &str, batch: &Batch, denied: &[&str]) {
    let mut new = new.clone();
    new.started_at = format!("{started}:00Z").parse().unwrap();
    let finished = new.started_at.as_datetime() + chrono::Duration::minutes(5);
    let mut w = SnapshotWriter::create(path, &new, false).unwrap();
    w.write(batch).unwrap();
    for name in PARTS {
        let status = if denied.contains(name) { PartStatus::Denied } else { PartStatus::Complete };
        w.set_part(&Part { name: (*name).to_owned(), status, detail: None, objects: 1 }).unwrap();
    }
    w.finish(finished.to_rfc3339().parse::<Timestamp>().unwrap(), true).unwrap();
}

pub(crate) fn is_alice_admin(g: &Grant) -> bool {
    g.principal_id == sample::guid(1) && g.relation == Relation::DirectoryRole
}

pub(crate) fn is_identity_owner(g: &Grant) -> bool {
    g.principal_id == sample::guid(5) && g.relation == Relation::AzureRole
}

pub(crate) fn is_alice_member(g: &Grant) -> bool {
    g.principal_id == sample::guid(1) && g.relation == Relation::Member
}

/// Four snapshots, named so that name order is not time order:
/// 0 `c.db` the sample; 1 `a.db` Alice's eligible Global Administrator activated (eligible → active);
/// 2 `d.db` the managed identity's Owner gone, and Alice's membership missing with `groups` denied;
/// 3 `b.db` both back, `groups` complete.
fn series(env: &TestEnv) {
    let base = sample::batch();
    write(&env.path("c.db"), 1, &base, &[]);
    let mut activated = base.clone();
    for g in activated.grants.iter_mut().filter(|g| is_alice_admin(g)) {
        g.state = GrantState::Active;
        g.end_at = None;
    }
    write(&env.path("a.db"), 2, &activated, &[]);
    let mut gaps = activated.clone();
    gaps.grants.retain(|g| !is_identity_owner(g) && !is_alice_member(g));
    write(&env.path("d.db"), 3, &gaps, &["groups"]);
    write(&env.path("b.db"), 4, &activated, &[]);
}

fn history(env: &TestEnv, args: &[&str]) -> Value {
    let run = env.run(&[&["history"], args, &["--format", "json"]].concat());
    run.expect_code(exit_code::SUCCESS);
    run.json()
}

fn grant<'a>(report: &'a Value, principal: &str, relation: &str) -> &'a Value {
    report["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["principal_id"] == principal && g["relation"] == relation)
        .unwrap_or_else(|| panic!("no {relation} grant of {principal} in {report}"))
}

fn events(g: &Value) -> Vec<(u64, String, String, String)> {
    g["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            (e["snapshot"].as_u64().unwrap(), s("change"), s("from"), s("to"))
        })
        .collect()
}

#[test]
fn each_change_is_one_event_at_the_snapshot_it_happened_in() {
    let env = TestEnv::new();
    series(&env);
    let dir = env.root().to_str().unwrap();
    let all = history(&env, &[dir, "--all"]);
    let order: Vec<&str> = all["snapshots"].as_array().unwrap().iter().map(|s| s["path"].as_str().unwrap()).collect();
    let names: Vec<&str> = order.iter().map(|p| Path::new(p).file_name().unwrap().to_str().unwrap()).collect();
    assert_eq!(names, ["c.db", "a.db", "d.db", "b.db"]);
    assert_eq!(all["snapshots"][2]["not_known"], json!(["groups"]));

    let alice = sample::guid(1).to_string();
    let admin = grant(&all, &alice, "directory_role");
    let ev = |a: &str, b: &str, c: &str, n| (n, a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(events(admin), [ev("appeared", "absent", "eligible", 0), ev("state_changed", "eligible", "active", 1)]);
    assert_eq!(admin["state"], "active");
    assert_eq!(admin["role"], "Global Administrator");
    assert_eq!(admin["seen_in"], json!([[0, 3]]));

    let owner = grant(&all, &sample::guid(5).to_string(), "azure_role");
    assert_eq!(
        events(owner),
        [
            ev("appeared", "absent", "active", 0),
            ev("disappeared", "active", "absent", 2),
            ev("appeared", "absent", "active", 3)
        ]
    );
    assert_eq!(owner["seen_in"], json!([[0, 1], [3, 3]]));
    assert_eq!(owner["role"], "Owner");

    // Missing where `groups` was denied: not known there, never gone.
    let member = grant(&all, &alice, "member");
    assert_eq!(events(member), [ev("appeared", "absent", "active", 0)]);
    assert_eq!(member["not_known_in"], json!([2]));
    assert_eq!(member["seen_in"], json!([[0, 3]]));
    assert_eq!(member["state"], "active");
    assert_eq!(all["grants"].as_array().unwrap().len(), sample::batch().grants.len());

    // Without --all, only what changed; the rest is counted.
    let changed = history(&env, &[dir]);
    let listed: Vec<&str> =
        changed["grants"].as_array().unwrap().iter().map(|g| g["relation"].as_str().unwrap()).collect();
    assert_eq!(listed.len(), 2, "{changed}");
    assert!(listed.contains(&"directory_role") && listed.contains(&"azure_role"), "{listed:?}");
    assert_eq!(changed["unchanged"], sample::batch().grants.len() - 2);
}

#[test]
fn filters_follow_one_principal_one_role_or_privileged_access() {
    let env = TestEnv::new();
    series(&env);
    let dir = env.root().to_str().unwrap();
    let relations = |v: &Value| -> Vec<String> {
        let mut r: Vec<String> =
            v["grants"].as_array().unwrap().iter().map(|g| g["relation"].as_str().unwrap().to_owned()).collect();
        r.sort();
        r
    };
    let alice = history(&env, &[dir, "--all", "--principal", "alice@contoso.com"]);
    assert_eq!(relations(&alice), ["directory_role", "member"]);
    let owners = history(&env, &[dir, "--all", "--role", "owner"]);
    assert_eq!(relations(&owners), ["azure_role", "azure_role"]);
    assert!(owners["grants"].as_array().unwrap().iter().all(|g| g["role"] == "Owner"));
    // Global Administrator (held by Admins and by Alice), Owner (twice), and the membership and ownership of
    // Admins, a group holding Global Administrator.
    let privileged = history(&env, &[dir, "--all", "--privileged"]);
    assert_eq!(
        relations(&privileged),
        ["azure_role", "azure_role", "directory_role", "directory_role", "member", "owner"]
    );
    assert!(privileged["grants"].as_array().unwrap().iter().all(|g| g["privileged"] == true));
    // A resource: the grants on it and below it.
    let sub = "/subscriptions/11111111-1111-4111-8111-111111111111";
    assert_eq!(
        relations(&history(&env, &[dir, "--all", "--resource", &format!("{sub}/resourceGroups/rg1")])),
        ["azure_role"]
    );
    assert_eq!(relations(&history(&env, &[dir, "--all", "--resource", sub])), ["azure_role", "azure_role"]);
}

#[test]
fn snapshots_of_two_tenants_or_a_changed_one_are_refused() {
    let env = TestEnv::new();
    series(&env);
    let mut other = sample::new_snapshot();
    other.tenant_id = "99999999-9999-4999-8999-999999999999".parse().unwrap();
    let mut w = SnapshotWriter::create(&env.path("other.db"), &other, false).unwrap();
    w.write(&sample::batch()).unwrap();
    w.finish("2026-11-05T07:00:00Z".parse::<Timestamp>().unwrap(), true).unwrap();
    let run = env.run(&["history", env.root().to_str().unwrap()]);
    run.expect_code(exit_code::BAD_INPUT);
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: ") && first.contains("2 tenants"), "{}", run.stderr);
    assert!(run.stderr.contains("other.db"), "the hints name a file of each tenant: {}", run.stderr);
    std::fs::remove_file(env.path("other.db")).unwrap();

    // A grant changed in a file after it was written: the data no longer matches its fingerprint.
    crate::bad_input::sql(&env.path("d.db"), "DELETE FROM grants WHERE relation = 'delegated'");
    let run = env.run(&["history", env.root().to_str().unwrap()]);
    run.expect_code(exit_code::BAD_INPUT);
    let error = run.stderr.lines().next().unwrap_or_default();
    assert!(error.contains("d.db") && error.contains("fingerprint"), "{}", run.stderr);
    // --no-verify checks the seal only, which does not cover data rows: the series is read.
    env.run(&["history", env.root().to_str().unwrap(), "--no-verify"]).expect_code(exit_code::SUCCESS);
}
