//! `azsnap identities` and `azsnap unused-roles` on the contoso snapshot: classes and findings the tenant file
//! implies.

use std::collections::BTreeMap;

use azsnap::exit_code;
use azsnap::mock::{EmulatorOptions, License};

use crate::collect::collect;
use crate::common::TestEnv;
use crate::common::emulator::{Emu, contoso_json};

fn snapshot(env: &TestEnv, license: License) {
    let emu = Emu::with(EmulatorOptions { license: Some(license), ..EmulatorOptions::default() });
    collect(env, &emu, "c.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
}

#[test]
fn every_principal_gets_the_class_its_facts_say() {
    let env = TestEnv::new();
    snapshot(&env, License::P2);
    let run = env.run(&["identities", "c.db", "--format", "json"]);
    run.expect_code(exit_code::SUCCESS);
    let classes: BTreeMap<String, String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap().to_owned(), i["class"].as_str().unwrap().to_owned()))
        .collect();
    for u in contoso_json()["users"].as_array().unwrap() {
        let want = if u["userType"] == "Guest" {
            "guest"
        } else {
            match u["mailbox"].as_str() {
                Some("shared") => "shared mailbox",
                Some("room") => "room",
                Some("equipment") => "equipment",
                Some("linked") => "linked mailbox",
                Some("others") => "other mailbox",
                Some("user") => "human member",
                _ => "no mailbox",
            }
        };
        assert_eq!(classes[u["id"].as_str().unwrap()], want, "{}", u["displayName"]);
    }
    assert_eq!(classes["30000000-0000-4000-8000-000000000005"], "Microsoft first-party");
    assert_eq!(classes["30000000-0000-4000-8000-000000000006"], "managed identity (system-assigned)");
    assert_eq!(classes["30000000-0000-4000-8000-000000000007"], "managed identity (user-assigned)");
    assert_eq!(classes["30000000-0000-4000-8000-000000000008"], "external application");
    assert_eq!(classes["99999999-0000-4000-8000-000000000001"], "unknown");
}

#[test]
fn non_human_identities_with_access_privileged_first() {
    let env = TestEnv::new();
    snapshot(&env, License::P2);
    let list = env.run(&["identities", "c.db", "--non-human", "--format", "json"]).json();
    let items = list.as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Conf Room Adams"), "a room holding an app role is listed: {names:?}");
    assert!(
        names.contains(&"uami-deploy"),
        "the managed identity reaches a container directly and a storage account through its group"
    );
    assert!(!names.contains(&"Alice Admin") && !names.contains(&"Erin Guest"), "people are not listed");
    assert!(!names.contains(&"Support Desk"), "a shared mailbox without access is not listed");
    let privileged: Vec<u64> = items.iter().map(|i| i["privileged_access"].as_u64().unwrap()).collect();
    assert!(privileged.windows(2).all(|w| w[0] >= w[1]), "privileged first: {privileged:?}");
    let uami = items.iter().find(|i| i["name"] == "uami-deploy").unwrap();
    assert_eq!(uami["access"], 3, "its membership of Storage Readers, its Azure role, and the group's Azure role");
}

#[test]
fn unused_roles_and_stale_assignments() {
    let env = TestEnv::new();
    snapshot(&env, License::P2);
    let report = env.run(&["unused-roles", "c.db", "--format", "json"]).json();
    let unused: Vec<&str> =
        report["unused_roles"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(unused.contains(&"Legacy VM Operator") && !unused.contains(&"Storage Auditor"), "{unused:?}");
    assert!(!unused.contains(&"Privileged Role Administrator"), "an eligible-only role is in use");
    let stale: BTreeMap<&str, &str> = report["stale_assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["principal_name"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(stale.get("Conf Room Adams"), Some(&"disabled"));
    assert_eq!(stale.get("99999999-0000-4000-8000-000000000001"), Some(&"principal no longer exists"));

    // Without sign-in data the report says what it could not know.
    let env = TestEnv::new();
    snapshot(&env, License::Free);
    let report = env.run(&["unused-roles", "c.db", "--format", "json"]).json();
    let limits = report["limits"].as_array().unwrap();
    assert!(
        limits.iter().any(|l| l.as_str().unwrap().contains("sign-in activity not collected (unavailable: license)")),
        "{limits:?}"
    );
    let table = env.run(&["unused-roles", "c.db"]);
    assert!(table.stdout.contains("note: sign-in activity not collected"), "{}", table.stdout);
}

#[test]
fn unused_roles_put_custom_and_app_roles_first_and_list_disabled_members_of_groups_with_access() {
    use azsnap::mock::EmulatorOptions;
    const DAVE: &str = "10000000-0000-4000-8000-000000000004";
    // Dave's account is disabled; he is still in Platform Engineers, who hold Contributor on a subscription.
    let emu = crate::collect::contoso_with(
        |t| {
            let platform =
                t.groups.iter_mut().find(|g| g.id.to_string() == "20000000-0000-4000-8000-000000000002").unwrap();
            platform.members.push(DAVE.parse().unwrap());
        },
        EmulatorOptions::default(),
    );
    let env = TestEnv::new();
    crate::collect::collect(&env, &emu, "c.db", &[]).expect_code(exit_code::SUCCESS);
    let report = env.run(&["unused-roles", "c.db", "--format", "json"]).json();
    let roles = report["unused_roles"].as_array().unwrap();
    assert!(roles.iter().all(|r| r["builtin"] == false), "built-in roles only with --builtin: {roles:#?}");
    let left_out = report["builtin_left_out"].as_u64().unwrap();
    assert!(left_out > 0);
    let all = env.run(&["unused-roles", "c.db", "--format", "json", "--builtin"]).json();
    let all = all["unused_roles"].as_array().unwrap();
    assert_eq!(all.len() as u64, roles.len() as u64 + left_out);
    // Custom roles, then application roles, then built-in ones.
    let rank = |r: &serde_json::Value| (r["builtin"] == true, r["kind"] == "app");
    let ranks: Vec<(bool, bool)> = all.iter().map(rank).collect();
    let mut sorted = ranks.clone();
    sorted.sort();
    assert_eq!(ranks, sorted);
    let table = env.run(&["unused-roles", "c.db"]);
    assert!(table.stdout.contains("built-in ones with --builtin"), "{}", table.stdout);

    let dave: Vec<&serde_json::Value> =
        report["stale_assignments"].as_array().unwrap().iter().filter(|s| s["principal_id"] == DAVE).collect();
    assert!(
        dave.iter().any(|s| s["relation"] == "member"
            && s["target_name"] == "Platform Engineers"
            && s["reason"] == "disabled"),
        "{dave:#?}"
    );
    assert!(
        dave.iter().any(|s| s["relation"] == "member" && s["target_name"] == "All Staff"),
        "All Staff holds an app role (Payroll's default access): {dave:#?}"
    );
}
