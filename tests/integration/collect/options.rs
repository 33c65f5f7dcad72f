//! Each connector option changes exactly what it says.

use azsnap::exit_code;
use azsnap::mock::{EmulatorOptions, License};

use super::expected::{expected_grants, snapshot_grants};
use super::{collect, column, contoso_with};
use crate::common::TestEnv;
use crate::common::emulator::{Emu, contoso_json};

const AD_FINANCE: &str = "20000000-0000-4000-8000-000000000006";
const CAROL: &str = "10000000-0000-4000-8000-000000000003";
const ALL_STAFF: &str = "20000000-0000-4000-8000-000000000001";

fn part(env: &TestEnv, db: &str, name: &str) -> String {
    env.run(&["info", db, "--format", "json"]).json()["parts"][name].as_str().unwrap_or("(absent)").to_owned()
}

#[test]
fn mailbox_settings_only_when_asked() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "a.db", &[]).expect_code(exit_code::SUCCESS);
    assert!(
        column(&env.path("a.db"), "SELECT mailbox_purpose FROM principals WHERE kind = 'user'")
            .iter()
            .all(String::is_empty)
    );
    assert!(part(&env, "a.db", "mailbox_settings").starts_with("skipped"));
    collect(&env, &emu, "b.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
    let purposes = column(&env.path("b.db"), "SELECT mailbox_purpose FROM principals WHERE kind = 'user' ORDER BY id");
    assert!(
        purposes.contains(&"none".to_owned()) && purposes.contains(&"room".to_owned()),
        "users without a mailbox are kept: {purposes:?}"
    );
    assert_eq!(purposes.len(), contoso_json()["users"].as_array().unwrap().len());
}

#[test]
fn skip_ad_groups_drops_synced_groups_but_keeps_synced_users() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "s.db", &["--skip-ad-groups"]).expect_code(exit_code::SUCCESS);
    let path = env.path("s.db");
    assert!(column(&path, &format!("SELECT id FROM principals WHERE id = '{AD_FINANCE}'")).is_empty());
    assert!(
        column(
            &path,
            &format!("SELECT 1 FROM grants WHERE principal_id = '{AD_FINANCE}' OR target_id = '{AD_FINANCE}'")
        )
        .is_empty()
    );
    assert_eq!(column(&path, &format!("SELECT on_premises_sync FROM principals WHERE id = '{CAROL}'")), vec!["1"]);
    assert_eq!(
        column(&path, &format!("SELECT 1 FROM grants WHERE principal_id = '{CAROL}' AND target_id = '{ALL_STAFF}'"))
            .len(),
        1
    );
    // Nothing else changes.
    let now = azsnap::clock::now().to_string();
    let want: std::collections::BTreeSet<String> =
        expected_grants(&contoso_json(), &now).into_iter().filter(|g| !g.contains(AD_FINANCE)).collect();
    assert_eq!(snapshot_grants(&path), want);
}

#[test]
fn skip_unused_roles_keeps_exactly_the_used_ones() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "u.db", &["--skip-unused-roles"]).expect_code(exit_code::SUCCESS);
    let path = env.path("u.db");
    let names = column(&path, "SELECT name FROM role_definitions");
    assert!(names.contains(&"Storage Auditor".to_owned()) && !names.contains(&"Legacy VM Operator".to_owned()));
    let unused = column(
        &path,
        "SELECT d.name FROM role_definitions d WHERE NOT EXISTS (SELECT 1 FROM grants g WHERE g.role_id = d.id)",
    );
    assert!(unused.is_empty(), "{unused:?}");
    assert!(
        names.contains(&"Global Administrator".to_owned()) && names.contains(&"Security Administrator".to_owned()),
        "eligible-only roles count as used"
    );
}

#[test]
fn skip_containers_lists_none() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "k.db", &["--skip-containers"]).expect_code(exit_code::SUCCESS);
    assert!(column(&env.path("k.db"), "SELECT id FROM resources WHERE kind = 'container'").is_empty());
    assert_eq!(part(&env, "k.db", "containers"), "skipped: option --skip-containers");
    let kept = column(&env.path("k.db"), "SELECT kind FROM resources WHERE id LIKE '%/containers/logs'");
    assert_eq!(kept, vec!["other"], "an assignment on a container still names its scope");
}

#[test]
fn skip_p2_makes_no_pim_calls_and_says_so() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "p.db", &["--skip-p2"]).expect_code(exit_code::SUCCESS);
    assert!(column(&env.path("p.db"), "SELECT 1 FROM grants WHERE state = 'eligible'").is_empty());
    for p in ["directory_role_pim", "group_pim", "azure_pim"] {
        assert_eq!(part(&env, "p.db", p), "skipped: option --skip-p2");
    }
}

#[test]
fn licenses_free_p1_p2() {
    let env = TestEnv::new();
    for (license, sign_ins, pim) in [
        (License::Free, "unavailable: license", "unavailable: license"),
        (License::P1, "complete", "unavailable: license"),
        (License::P2, "complete", "complete"),
    ] {
        let emu = Emu::with(EmulatorOptions { license: Some(license), ..EmulatorOptions::default() });
        let db = format!("{license:?}.db");
        let run = collect(&env, &emu, &db, &[]);
        run.expect_code(exit_code::SUCCESS);
        assert_eq!(part(&env, &db, "sign_in_activity"), sign_ins, "{license:?}");
        for p in ["directory_role_pim", "group_pim", "azure_pim"] {
            assert_eq!(part(&env, &db, p), pim, "{license:?} {p}");
        }
        if license == License::Free {
            assert!(run.stderr.contains("warning: part sign_in_activity unavailable: license"), "{}", run.stderr);
            assert_eq!(
                env.run(&["info", &db, "--format", "json"]).json()["complete"],
                true,
                "a license gap is not an incomplete snapshot"
            );
        }
    }
}

#[test]
fn missing_permission_is_denied_partial_and_exit_6() {
    let emu =
        contoso_with(|t| t.apps[0].graph_permissions.retain(|p| p != "AuditLog.Read.All"), EmulatorOptions::default());
    let env = TestEnv::new();
    let run = collect(&env, &emu, "d.db", &[]);
    run.expect_code(exit_code::INCOMPLETE);
    assert!(run.stderr.contains("partial") && run.stderr.contains("sign_in_activity"), "{}", run.stderr);
    assert_eq!(part(&env, "d.db", "sign_in_activity"), "denied: missing permission AuditLog.Read.All");
    let info = env.run(&["info", "d.db", "--format", "json"]).json();
    assert_eq!(info["complete"], false);
    assert_eq!(info["counts"]["users"], contoso_json()["users"].as_array().unwrap().len(), "the rest was collected");
}

#[test]
fn external_identities_come_from_the_other_snapshot() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "idp.db", &[]).expect_code(exit_code::SUCCESS);
    collect(&env, &emu, "x.db", &["--external-identities", "idp.db"]).expect_code(exit_code::SUCCESS);
    let path = env.path("x.db");
    let origins = column(
        &path,
        "SELECT DISTINCT kind || ':' || origin FROM principals WHERE kind IN ('user', 'group') ORDER BY 1",
    );
    assert_eq!(origins, vec!["group:external", "user:external"]);
    assert_eq!(part(&env, "x.db", "users"), "skipped: option --external-identities");
    // Grants collected here link to those principals by object id.
    let linked = column(
        &path,
        "SELECT count(*) FROM grants g JOIN principals p ON p.id = g.principal_id WHERE p.origin = 'external' AND g.relation = 'azure_role'",
    );
    assert!(linked[0].parse::<u32>().unwrap() > 0);
    let now = azsnap::clock::now().to_string();
    assert_eq!(
        snapshot_grants(&path),
        expected_grants(&contoso_json(), &now),
        "same access, principals from elsewhere"
    );
    let options = env.run(&["info", "x.db", "--format", "json"]).json()["options"]["external_identities"].clone();
    assert!(options.as_str().unwrap().contains("idp.db"), "{options}");
}

#[test]
fn national_cloud_scopes_are_requested() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "cn.db", &["--cloud", "china"]).expect_code(exit_code::SUCCESS);
    let info = env.run(&["info", "cn.db", "--format", "json"]).json();
    // Through one `--endpoint` the cloud is `custom`; the tokens were still asked for China's resources.
    assert_eq!(info["cloud"], "custom");
    assert_eq!(info["endpoints"]["graph_scope"], "https://microsoftgraph.chinacloudapi.cn/.default");
    assert_eq!(info["endpoints"]["arm_scope"], "https://management.chinacloudapi.cn/.default");
    let run = collect(&env, &emu, "x.db", &["--graph-domain", "graph.example.com"]);
    run.expect_code(exit_code::USAGE);
}

#[test]
fn an_endpoint_is_recorded_as_a_custom_cloud_with_the_login_base_used() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "c.db", &[]).expect_code(exit_code::SUCCESS);
    let info = env.run(&["info", "c.db", "--format", "json"]).json();
    assert_eq!(info["cloud"], "custom");
    for service in ["login", "graph", "arm"] {
        assert_eq!(info["endpoints"][service], emu.base.as_str(), "{service}: {info:#}");
    }
    assert_eq!(info["parts"]["mailbox_settings"], "skipped: option --mailbox-settings not given");
}

fn by_class(emu: &Emu) -> serde_json::Value {
    let token = emu.reader(crate::common::emulator::GRAPH_SCOPE);
    emu.get("/_emulator/stats", &token).body["by_class"].clone()
}

#[test]
fn parts_can_be_chosen_and_what_is_left_out_is_not_read() {
    // Only users and groups: no ARM request at all, everything else `skipped: option --parts`.
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "ug.db", &["--parts", "users,groups"]).expect_code(exit_code::SUCCESS);
    assert_eq!(by_class(&emu)["arm"], serde_json::Value::Null, "ARM was read: {}", by_class(&emu));
    assert_eq!(part(&env, "ug.db", "users"), "complete");
    assert_eq!(part(&env, "ug.db", "groups"), "complete");
    assert_eq!(part(&env, "ug.db", "tenant"), "complete");
    for p in ["subscriptions", "service_principals", "sign_in_activity", "group_owners"] {
        assert_eq!(part(&env, "ug.db", p), "skipped: option --parts", "{p}");
    }
    // Leaving out a part leaves out what needs it, saying why.
    let emu = Emu::contoso();
    collect(&env, &emu, "nosub.db", &["--skip-parts", "subscriptions", "--skip-sign-in-activity"])
        .expect_code(exit_code::SUCCESS);
    assert_eq!(part(&env, "nosub.db", "subscriptions"), "skipped: option --skip-parts");
    assert_eq!(part(&env, "nosub.db", "containers"), "skipped: option --skip-parts (needs storage_accounts)");
    assert_eq!(part(&env, "nosub.db", "sign_in_activity"), "skipped: option --skip-sign-in-activity");
    assert_eq!(part(&env, "nosub.db", "management_groups"), "complete");
    let signed_in = column(&env.path("nosub.db"), "SELECT count(*) FROM principals WHERE last_sign_in IS NOT NULL");
    assert_eq!(signed_in, ["0"]);
    let subs = column(&env.path("nosub.db"), "SELECT count(*) FROM resources WHERE kind = 'subscription'");
    assert_eq!(subs, ["0"]);
    // A name that is not a part is a usage error naming the parts.
    let run = collect(&env, &emu, "x.db", &["--skip-parts", "signins"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.expect_one_line_error().contains("`signins` is not a part (parts: tenant, users,"), "{}", run.stderr);
}

#[test]
fn request_stats_count_batch_items_and_token_requests_apart() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "c.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
    let served = by_class(&emu);
    let stats = env.run(&["info", "c.db", "--format", "json"]).json()["request_stats"].clone();
    let row = |service: &str| stats.as_array().unwrap().iter().find(|r| r["service"] == service).unwrap().clone();
    let graph = row("graph");
    assert_eq!(graph["inner_requests"], served["graph_batch_inner"], "{stats:#}\nserved: {served}");
    assert!(graph["inner_requests"].as_u64().unwrap() > 0);
    // The emulator's token count includes the one this test asked for to read its statistics.
    assert_eq!(row("login")["requests"].as_u64().unwrap() + 1, served["token"].as_u64().unwrap(), "{stats:#}");
    assert_eq!(row("arm")["requests"], served["arm"]);
    assert_eq!(graph["requests"], served["graph"]);
}

#[test]
fn the_groups_part_counts_its_groups_and_membership_rows() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "c.db", &[]).expect_code(exit_code::SUCCESS);
    let objects = env.run(&["info", "c.db", "--format", "json"]).json()["part_objects"]["groups"].clone();
    let written = column(
        &env.path("c.db"),
        "SELECT (SELECT count(*) FROM principals WHERE kind = 'group') + (SELECT count(*) FROM grants WHERE relation = 'member' AND state = 'active')",
    );
    assert_eq!(objects.to_string(), written[0]);
}

#[test]
fn throttled_batch_items_are_counted_and_paced_through() {
    // A tiny identity budget: the per-object `$batch` reads are throttled, slow down, and still all complete.
    let mut limits = azsnap::mock::limits::Limits::documented(15);
    limits.graph_ru_per_10s = 20.0;
    let emu = Emu::with(EmulatorOptions { throttle: Some(limits), ..EmulatorOptions::default() });
    let env = TestEnv::new();
    collect(&env, &emu, "c.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
    let token = emu.reader(crate::common::emulator::GRAPH_SCOPE);
    let served = emu.get("/_emulator/stats", &token).body;
    let stats = env.run(&["info", "c.db", "--format", "json"]).json()["request_stats"].clone();
    let graph = stats.as_array().unwrap().iter().find(|r| r["service"] == "graph").unwrap().clone();
    assert!(served["throttled_inner"].as_u64().unwrap() > 0, "the budget was not tight enough: {served}");
    assert_eq!(graph["inner_throttled"], served["throttled_inner"], "{stats:#}");
    assert_eq!(
        graph["throttled"].as_u64().unwrap() + graph["inner_throttled"].as_u64().unwrap(),
        served["throttled"].as_u64().unwrap()
    );
    let users =
        column(&env.path("c.db"), "SELECT count(*) FROM principals WHERE kind = 'user' AND mailbox_purpose IS NULL");
    assert_eq!(users, ["0"], "every mailbox purpose was read");
}

#[test]
fn arm_reads_are_paced_by_the_remaining_budget_arm_reports() {
    // ARM's buckets here are smaller than documented: the pacer, which starts from the documented 250, learns
    // what is left from `x-ms-ratelimit-remaining-subscription-reads` (and `-tenant-reads`) and is never refused.
    let mut limits = azsnap::mock::limits::Limits::documented(15);
    limits.arm_reads = (4.0, 25.0);
    let emu = Emu::with(EmulatorOptions { throttle: Some(limits), ..EmulatorOptions::default() });
    let env = TestEnv::new();
    collect(&env, &emu, "c.db", &[]).expect_code(exit_code::SUCCESS);
    let stats = env.run(&["info", "c.db", "--format", "json"]).json()["request_stats"].clone();
    let arm = stats.as_array().unwrap().iter().find(|r| r["service"] == "arm").unwrap().clone();
    assert!(arm["requests"].as_u64().unwrap() > 16, "more requests than the buckets hold: {arm}");
    assert_eq!(arm["throttled"], 0, "{arm}");
}

#[test]
fn owners_past_the_twenty_an_expand_shows_are_read_in_full() {
    // Owners come from `groups?$expand=owners` pages; a group with more than Graph's 20 expanded items is read again
    // on its own, so none is lost.
    let emu = contoso_with(
        |t| {
            let everyone: Vec<_> =
                t.users.iter().map(|u| u.id.clone()).chain(t.service_principals.iter().map(|s| s.id.clone())).collect();
            assert!(everyone.len() > 20);
            t.groups[1].owners = everyone;
        },
        EmulatorOptions::default(),
    );
    let env = TestEnv::new();
    collect(&env, &emu, "o.db", &[]).expect_code(exit_code::SUCCESS);
    let file = emu.get_public("/_emulator/tenant").body;
    let group = file["groups"][1]["id"].as_str().unwrap();
    let want = file["groups"][1]["owners"].as_array().unwrap().len();
    let got = column(
        &env.path("o.db"),
        &format!("SELECT count(*) FROM grants WHERE relation = 'owner' AND target_id = '{group}' AND state = 'active'"),
    );
    assert_eq!(got, [want.to_string()]);
}
