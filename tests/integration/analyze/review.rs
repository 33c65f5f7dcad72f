//! `azsnap review`: one row per grant, the columns `plan from-review` reads back, scope limits, effective rows,
//! and output written whole or not at all.

use azsnap::analyze::review::COLUMNS;
use azsnap::exit_code;

use super::{contoso_snapshot, snap_arg};
use crate::collect::column;
use crate::common::TestEnv;

fn sheet(env: &TestEnv, name: &str, extra: &[&str]) -> Vec<Vec<String>> {
    let run = env.run(&[&["review", snap_arg(), "-o", name], extra].concat());
    run.expect_code(exit_code::SUCCESS);
    let text = std::fs::read_to_string(env.path(name)).unwrap();
    text.lines().map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

fn at(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn one_row_per_grant_with_empty_decisions() {
    let env = TestEnv::new();
    let rows = sheet(&env, "r.csv", &[]);
    let header = &rows[0];
    assert_eq!(header, &COLUMNS.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>());
    let grants = column(contoso_snapshot(), "SELECT count(*) FROM grants");
    assert_eq!((rows.len() - 1).to_string(), grants[0]);
    let (decision, comment) = (at(header, "decision"), at(header, "comment"));
    assert!(rows[1..].iter().all(|r| r.len() == header.len() && r[decision].is_empty() && r[comment].is_empty()));
    // Every row names the snapshot it was made from, which `plan from-review` checks.
    let fingerprint = column(contoso_snapshot(), "SELECT value FROM meta WHERE key = 'fingerprint'");
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[at(header, "snapshot_fingerprint")] == fingerprint[0] && r[at(header, "reviewer")].is_empty())
    );
    // The room mailbox is flagged non-human, Alice's Global Administrator privileged.
    let room = rows.iter().find(|r| r[at(header, "class")] == "room").expect("room row");
    assert_eq!(room[at(header, "human")], "no");
    let ga = rows.iter().find(|r| r[at(header, "role")] == "Global Administrator").unwrap();
    assert_eq!(ga[at(header, "privileged")], "yes");
    assert_eq!(ga[at(header, "principal")], "Alice Admin");
}

#[test]
fn rows_tell_holders_and_targets_apart_and_mark_privileged_groups() {
    let env = TestEnv::new();
    let rows = sheet(&env, "r.csv", &[]);
    let h = &rows[0];
    // An Azure target by its path from the resource group down; its id alongside.
    let account = rows
        .iter()
        .find(|r| r[at(h, "target_id")].ends_with("/storageaccounts/stcontosodata"))
        .expect("a grant on the storage account");
    assert_eq!(account[at(h, "target")], "rg-data/stcontosodata");
    // Service principals and managed identities with their application id, as a user has a UPN.
    let stored = column(
        contoso_snapshot(),
        "SELECT p.id || ' ' || p.app_id FROM principals p WHERE p.app_id IS NOT NULL AND EXISTS (SELECT 1 FROM grants g WHERE g.principal_id = p.id) ORDER BY 1",
    );
    let mut seen: Vec<String> = rows[1..]
        .iter()
        .filter(|r| !r[at(h, "app_id")].is_empty())
        .map(|r| format!("{} {}", r[at(h, "principal_id")], r[at(h, "app_id")]))
        .collect();
    seen.sort();
    seen.dedup();
    assert!(!stored.is_empty());
    assert_eq!(seen, stored);
    // Membership of a group that holds a privileged role is privileged, as in `diff`, `plan` and `access`.
    let tier0 = rows
        .iter()
        .find(|r| r[at(h, "relation")] == "member" && r[at(h, "target")] == "Tier0 Admins")
        .expect("a Tier0 Admins membership");
    assert_eq!(tier0[at(h, "privileged")], "yes");
    let plain = rows
        .iter()
        .find(|r| r[at(h, "relation")] == "member" && r[at(h, "target")] == "Storage Readers")
        .expect("a Storage Readers membership");
    assert_eq!(plain[at(h, "privileged")], "no");
}

#[test]
fn scope_limits_to_the_subtree_and_effective_adds_inherited_and_nested() {
    let env = TestEnv::new();
    let rg = "/subscriptions/50000000-0000-4000-8000-000000000001/resourcegroups/rg-data";
    let plain = sheet(&env, "a.csv", &["--scope", rg]);
    let h = &plain[0];
    assert!(plain[1..].iter().all(|r| r[at(h, "target_id")].starts_with(rg)), "outside the scope: {plain:?}");
    let stored = column(
        contoso_snapshot(),
        &format!("SELECT count(*) FROM grants WHERE target_id = '{rg}' OR target_id LIKE '{rg}/%'"),
    );
    assert_eq!((plain.len() - 1).to_string(), stored[0]);
    let effective = sheet(&env, "b.csv", &["--scope", "rg-data", "--effective"]);
    assert!(effective.len() > plain.len());
    let h = &effective[0];
    // Inherited from the management group above: Alice's Owner on mg-platform.
    assert!(effective.iter().any(|r| r[at(h, "principal")] == "Alice Admin" && r[at(h, "role")] == "Owner"));
    // Nested: Erin gets the Storage Readers group's role, through that group.
    let erin = effective
        .iter()
        .find(|r| r[at(h, "principal")] == "Erin Guest" && r[at(h, "via")] == "Storage Readers")
        .expect("Erin via Storage Readers");
    assert_eq!(erin[at(h, "via_group_id")], "20000000-0000-4000-8000-000000000008");
    assert_eq!(erin[at(h, "holder_id")], "20000000-0000-4000-8000-000000000008");
}

#[test]
fn existing_output_is_kept_and_nothing_partial_is_left() {
    let env = TestEnv::new();
    std::fs::write(env.path("r.csv"), "mine").unwrap();
    let run = env.run(&["review", snap_arg(), "-o", "r.csv"]);
    run.expect_code(exit_code::USAGE);
    assert_eq!(std::fs::read_to_string(env.path("r.csv")).unwrap(), "mine");
    let run = env.run(&["review", snap_arg(), "-o", "no/such/dir/r.csv"]);
    run.expect_code(exit_code::USAGE);
    run.expect_one_line_error();
    let run = env.run(&["review", snap_arg(), "-o", "x.csv", "--scope", "nothing-like-this"]);
    run.expect_code(exit_code::USAGE);
    let left: Vec<_> = std::fs::read_dir(env.root()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("r.csv")]);
}
