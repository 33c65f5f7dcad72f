//! `azsnap diff`: exactly the mutations made through the emulator's write API, nothing else; no drift between
//! two collections of an unchanged tenant; exit codes for CI; formats; refusals.

use std::collections::BTreeSet;

use azsnap::exit_code;
use serde_json::json;

use crate::collect::collect;
use crate::common::TestEnv;
use crate::common::emulator::{ARM_SCOPE, Emu, GRAPH_SCOPE};

const WRITER: &str = "a1b2c3d4-0000-4000-8000-000000000002";
const ERIN: &str = "10000000-0000-4000-8000-000000000005";
const BOB: &str = "10000000-0000-4000-8000-000000000002";
const TIER0: &str = "20000000-0000-4000-8000-000000000007";
const PLATFORM: &str = "20000000-0000-4000-8000-000000000002";
const PAYROLL: &str = "30000000-0000-4000-8000-000000000003";
const SUB2: &str = "50000000-0000-4000-8000-000000000002";
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

fn token(emu: &Emu, scope: &str) -> String {
    emu.token(WRITER, "contoso-writer-secret", scope).body["access_token"].as_str().unwrap().to_owned()
}

/// Makes the demo's changes: a guest into a privileged group, an Owner on a subscription, a room mailbox given an
/// app role, and one removal. Returns the grants (principal|relation|target|role|scope) expected as added/removed.
pub(crate) fn mutate(emu: &Emu) -> (BTreeSet<String>, BTreeSet<String>) {
    let g = token(emu, GRAPH_SCOPE);
    let a = token(emu, ARM_SCOPE);
    let link = |id: &str| json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")});
    assert_eq!(emu.post_json(&format!("/v1.0/groups/{TIER0}/members/$ref"), &g, &link(ERIN)).status, 204);
    assert_eq!(emu.delete(&format!("/v1.0/groups/{PLATFORM}/members/{BOB}/$ref"), &g).status, 204);
    let role = "90000000-0000-4000-8000-000000000001";
    let r = emu.post_json(
        &format!("/v1.0/servicePrincipals/{PAYROLL}/appRoleAssignedTo"),
        &g,
        &json!({"principalId": "10000000-0000-4000-8000-000000000009", "resourceId": PAYROLL, "appRoleId": role}),
    );
    assert_eq!(r.status, 201);
    let put = emu.put_json(
        &format!("/subscriptions/{SUB2}/providers/Microsoft.Authorization/roleAssignments/0f0f0f0f-0000-4000-8000-000000000001?api-version=2022-04-01"),
        &a,
        &json!({"properties": {"roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"), "principalId": ERIN, "principalType": "User"}}),
    );
    assert_eq!(put.status, 201);
    let added = BTreeSet::from([
        format!("{ERIN}|member|{TIER0}||"),
        format!("10000000-0000-4000-8000-000000000009|app_role|{PAYROLL}|{role}|"),
        format!("{ERIN}|azure_role|/subscriptions/{SUB2}|{OWNER}|/subscriptions/{SUB2}"),
    ]);
    let removed = BTreeSet::from([format!("{BOB}|member|{PLATFORM}||")]);
    (added, removed)
}

fn keys(report: &serde_json::Value, change: &str) -> BTreeSet<String> {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["change"] == change && i["kind"] == "grant")
        .map(|i| i["key"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn diff_reports_exactly_the_mutations() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "before.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
    let (added, removed) = mutate(&emu);
    collect(&env, &emu, "after.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);

    let run = env.run(&["diff", "before.db", "after.db", "--format", "json"]);
    run.expect_code(exit_code::SUCCESS);
    let report = run.json();
    assert_eq!(keys(&report, "added"), added);
    assert_eq!(keys(&report, "removed"), removed);
    assert_eq!(report["summary"]["added"], 3);
    assert_eq!(report["summary"]["removed"], 1);
    assert_eq!(report["summary"]["changed"], 0, "{}", report["items"]);
    assert_eq!(report["items"].as_array().unwrap().len(), 4, "nothing but the mutations");
    let privileged: BTreeSet<&str> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["privileged"] == true)
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert!(
        privileged.iter().any(|k| k.contains(TIER0)),
        "membership of a group holding a privileged role is privileged"
    );
    assert!(privileged.iter().any(|k| k.contains(OWNER)), "Owner is privileged");
    assert!(privileged.iter().any(|k| k.contains(PLATFORM)), "Platform Engineers hold Contributor on a subscription");
    assert_eq!(report["summary"]["privileged"], 3, "the room's app role is not privileged");

    for (fail_on, code) in [
        ("none", exit_code::SUCCESS),
        ("any", exit_code::FINDINGS),
        ("grants", exit_code::FINDINGS),
        ("privileged", exit_code::FINDINGS),
    ] {
        env.run(&["diff", "before.db", "after.db", "--fail-on", fail_on]).expect_code(code);
    }
    let md = env.run(&["diff", "before.db", "after.db", "--format", "markdown"]);
    assert!(md.stdout.starts_with("### Access drift"), "{}", md.stdout);
    assert!(
        md.stdout.contains(
            "| added | grant | yes | Erin Guest (user, erin_fabrikam.com#EXT#@contoso.onmicrosoft.com) member of Tier0 Admins |"
        ),
        "{}",
        md.stdout
    );
    // Counts per category first, then a section per category.
    let counts = md.stdout.find("| category | added | removed | changed | privileged |").expect("the counts");
    let groups = md.stdout.find("| groups | 1 | 1 | 0 | 2 |").expect("the groups' counts");
    let section = md.stdout.find("#### groups (2)").expect("the groups' section");
    assert!(counts < groups && groups < section, "{}", md.stdout);
    let csv = env.run(&["diff", "before.db", "after.db", "--format", "csv"]);
    assert_eq!(csv.stdout.lines().count(), 5, "header and four rows:\n{}", csv.stdout);

    // Accepted changes can be ignored, e.g. for a CI baseline.
    std::fs::write(env.path("accepted.txt"), format!("# known\nprincipal {ERIN}\ntarget {PLATFORM}\n")).unwrap();
    let run = env.run(&[
        "diff",
        "before.db",
        "after.db",
        "--format",
        "json",
        "--ignore",
        "accepted.txt",
        "--fail-on",
        "privileged",
    ]);
    run.expect_code(exit_code::SUCCESS);
    let summary = run.json()["summary"].clone();
    assert_eq!(summary["ignored"], 3, "Erin's two grants and the Platform Engineers removal");
    assert_eq!(summary["added"], 1);
    assert_eq!(summary["privileged"], 0);
}

#[test]
fn unchanged_tenant_has_no_drift() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "a.db", &[]).expect_code(exit_code::SUCCESS);
    collect(&env, &emu, "b.db", &[]).expect_code(exit_code::SUCCESS);
    let run = env.run(&["diff", "a.db", "b.db", "--fail-on", "any"]);
    run.expect_code(exit_code::SUCCESS);
    assert!(run.stdout.contains("0 added, 0 removed, 0 changed"), "{}", run.stdout);
}

#[test]
fn recreated_assignment_is_not_drift_and_a_disabled_account_is_a_change() {
    use crate::common::sample;
    use azsnap::model::Grant;
    let env = TestEnv::new();
    let mut before = sample::batch();
    sample::write(&env.path("a.db"), &before);
    // The same Azure assignment under a new id, one user disabled, one eligibility made active.
    let rbac: &mut Grant =
        before.grants.iter_mut().find(|g| g.source_id.as_deref().is_some_and(|s| s.ends_with("/x"))).unwrap();
    rbac.source_id = Some("/new-id".to_owned());
    before.principals[0].account_enabled = Some(false);
    let eligible = before.grants.iter_mut().find(|g| g.state == azsnap::model::GrantState::Eligible).unwrap();
    eligible.state = azsnap::model::GrantState::Active;
    let membership = before.grants.iter_mut().find(|g| g.relation == azsnap::model::Relation::Member).unwrap();
    membership.end_at = Some("2027-06-30T00:00:00Z".parse().unwrap());
    sample::write(&env.path("b.db"), &before);
    let report = env.run(&["diff", "a.db", "b.db", "--format", "json"]).json();
    assert_eq!(report["summary"]["added"], 0);
    assert_eq!(report["summary"]["removed"], 0);
    assert_eq!(report["summary"]["changed"], 3, "{}", report["items"]);
    let fields: BTreeSet<String> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            i["fields"].as_array().unwrap().iter().map(|f| {
                format!(
                    "{}:{}→{}",
                    f["field"].as_str().unwrap(),
                    f["old"].as_str().unwrap_or("-"),
                    f["new"].as_str().unwrap_or("-")
                )
            })
        })
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from([
            "accountEnabled:1→0".to_owned(),
            "state:eligible→active".to_owned(),
            "endAt:-→2027-06-30T00:00:00Z".to_owned()
        ])
    );
}

#[test]
fn different_tenants_are_refused_unless_allowed() {
    use crate::common::sample;
    let env = TestEnv::new();
    sample::write_sample(&env.path("a.db"));
    let mut other = sample::new_snapshot();
    other.tenant_id = "00000000-0000-4000-8000-0000000000aa".parse().unwrap();
    let mut w = azsnap::store::SnapshotWriter::create(&env.path("b.db"), &other, false).unwrap();
    w.write(&sample::batch()).unwrap();
    w.finish("2026-11-26T07:05:00Z".parse().unwrap(), true).unwrap();
    let run = env.run(&["diff", "a.db", "b.db"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.stderr.contains("cannot be compared"), "{}", run.stderr);
    env.run(&["diff", "a.db", "b.db", "--allow-tenant-mismatch"]).expect_code(exit_code::SUCCESS);
    env.run(&["diff", "a.db", "missing.db"]).expect_code(exit_code::BAD_INPUT);
    std::fs::write(env.path("bad-ignore.txt"), "everyone *\n").unwrap();
    env.run(&["diff", "a.db", "a.db", "--ignore", "bad-ignore.txt"]).expect_code(exit_code::BAD_INPUT);
}

#[test]
fn the_demo_runs_offline_and_shows_its_three_changes() {
    let env = TestEnv::new();
    let run = env.run(&["demo", "--dir", "tour"]);
    run.expect_code(exit_code::SUCCESS);
    assert!(run.stdout.contains("3 added, 0 removed, 0 changed (2 privileged"), "{}", run.stdout);
    for file in ["baseline.db", "current.db", "diff.md"] {
        assert!(env.path("tour").join(file).exists(), "{file} missing");
    }
    env.run(&["verify", "tour/current.db"]).expect_code(exit_code::SUCCESS);
    let report = env.run(&["diff", "tour/baseline.db", "tour/current.db", "--format", "json"]).json();
    assert_eq!(report["summary"]["added"], 3);
}

/// `a.db` of Contoso, then the demo's changes ([`mutate`]), then `b.db` (collected with `b_options`).
fn drifted(b_options: &[&str]) -> TestEnv {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "a.db", &[]).expect_code(exit_code::SUCCESS);
    mutate(&emu);
    collect(&env, &emu, "b.db", b_options).expect_code(exit_code::SUCCESS);
    env
}

fn diff_json(env: &TestEnv, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["diff", "a.db", "b.db", "--format", "json"];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    (run.code, serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout)))
}

fn not_compared(report: &serde_json::Value) -> Vec<(String, String)> {
    report["not_compared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["part"].as_str().unwrap().to_owned(), n["reason"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn snapshots_collected_with_other_options_compare_only_what_both_hold() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "a.db", &[]).expect_code(exit_code::SUCCESS);
    let options = ["--skip-ad-groups", "--skip-unused-roles", "--skip-containers", "--skip-p2"];
    collect(&env, &emu, "b.db", &options).expect_code(exit_code::SUCCESS);
    let (code, report) = diff_json(&env, &["--fail-on", "privileged"]);
    assert_eq!(code, i32::from(exit_code::SUCCESS), "{report:#}");
    let s = &report["summary"];
    assert_eq!(
        (s["added"].as_u64(), s["removed"].as_u64(), s["changed"].as_u64()),
        (Some(0), Some(0), Some(0)),
        "{report:#}"
    );
    assert!(s["not_compared"].as_u64().unwrap() > 0, "the differences are there, left out: {s}");
    let parts = not_compared(&report);
    for (part, reason) in [
        ("group_pim", "not collected in NEW (option --skip-p2)"),
        ("containers", "not collected in NEW (option --skip-containers)"),
        ("groups", "collected with --skip-ad-groups in NEW only"),
        ("role_definitions", "collected with --skip-unused-roles in NEW only"),
    ] {
        assert!(parts.contains(&(part.to_owned(), reason.to_owned())), "{part}: {parts:?}");
    }
    let differ: Vec<&str> =
        report["options_differ"].as_array().unwrap().iter().map(|o| o["option"].as_str().unwrap()).collect();
    assert_eq!(differ, ["skip_ad_groups", "skip_containers", "skip_p2", "skip_unused_roles"]);
    // A job that wants everything compared fails; the table says what was not, the warning why.
    let run = env.run(&["diff", "a.db", "b.db", "--fail-on", "privileged,incomplete"]);
    run.expect_code(exit_code::FINDINGS);
    assert!(
        run.stdout.contains("not compared:\n") && run.stdout.contains("group_pim: not collected in NEW"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(
            "warning: the snapshots were collected with different options: skip_ad_groups (OLD false, NEW true)"
        ),
        "{}",
        run.stderr
    );
    let md = env.run(&["diff", "a.db", "b.db", "--format", "markdown"]);
    assert!(md.stdout.contains("#### Not compared") && md.stdout.contains("> warning:"), "{}", md.stdout);
}

#[test]
fn a_lapsed_licence_is_not_removed_access_and_fields_one_side_lacks_are_not_changes() {
    use azsnap::mock::EmulatorOptions;
    use azsnap::mock::tenant::License;
    let env = TestEnv::new();
    let p2 = Emu::contoso();
    collect(&env, &p2, "a.db", &[]).expect_code(exit_code::SUCCESS);
    // The same tenant a month later: P2 lapsed (every PIM list unavailable), and mailbox purposes read this time.
    let p1 = Emu::with(EmulatorOptions { license: Some(License::P1), ..EmulatorOptions::default() });
    collect(&env, &p1, "b.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
    let (code, report) = diff_json(&env, &["--fail-on", "any"]);
    assert_eq!(code, i32::from(exit_code::SUCCESS), "no drift at all: {report:#}");
    let parts = not_compared(&report);
    for part in ["group_pim", "directory_role_pim", "azure_pim"] {
        assert!(parts.iter().any(|(p, r)| p == part && r == "unavailable (license) in NEW"), "{part}: {parts:?}");
    }
    assert!(parts.iter().any(|(p, r)| p == "mailbox_settings" && r.starts_with("not collected in OLD")), "{parts:?}");
    let left_out: u64 = report["not_compared"].as_array().unwrap().iter().map(|n| n["items"].as_u64().unwrap()).sum();
    assert_eq!(report["summary"]["not_compared"].as_u64(), Some(left_out));
    assert!(left_out > 0, "eligibilities and mailbox purposes were left out, not reported: {report:#}");
    // Both complete and alike: everything compares, and nothing is missing.
    collect(&env, &p1, "a.db", &["--mailbox-settings", "--force"]).expect_code(exit_code::SUCCESS);
    let (code, report) = diff_json(&env, &["--fail-on", "incomplete"]);
    assert_eq!(code, i32::from(exit_code::SUCCESS), "{report:#}");
    assert_eq!(report["not_compared"], json!([]));
}

#[test]
fn ignore_rules_are_as_narrow_as_the_accepted_change() {
    let env = drifted(&[]);
    // A BOM, a rule by names for one of Erin's two grants, an expired one for the other, a stale one, and an ARM
    // id in another case with a trailing slash. (Tests run on 2026-11-26.)
    let rules = format!(
        "\u{feff}# accepted\n\
         principal=\"erin guest\" relation=member target=\"Tier0 Admins\" until=2027-06-30 reason=\"CHG-1\"\n\
         principal={ERIN} relation=azure_role until=2026-01-01 reason=\"temporary\"\n\
         principal=10000000-0000-4000-8000-000000000001 relation=owner # nothing like it happened\n\
         relation=member target={PLATFORM} scope=/\n\
         target=/SUBSCRIPTIONS/{}/ relation=app_role\n",
        SUB2.to_uppercase()
    );
    std::fs::write(env.path("accepted.txt"), rules).unwrap();
    let run = env.run(&["diff", "a.db", "b.db", "--format", "json", "--ignore", "accepted.txt"]);
    run.expect_code(exit_code::SUCCESS);
    let report = run.json();
    assert_eq!(report["summary"]["ignored"], 1, "only Erin's membership: {report:#}");
    let left = keys(&report, "added");
    assert!(left.iter().any(|k| k.starts_with(ERIN) && k.contains("azure_role")), "the expired rule applies no more");
    assert_eq!(keys(&report, "removed").len(), 1, "scope=/ names no membership (memberships have no scope)");
    let status: Vec<(u64, &str, u64)> = report["ignore_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["status"].as_str().unwrap(), r["matched"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        status,
        [(2, "applied", 1), (3, "expired", 0), (4, "unmatched", 0), (5, "unmatched", 0), (6, "unmatched", 0)]
    );
    assert!(run.stderr.contains("ignore rule at line 4 matched nothing (stale?)"), "{}", run.stderr);
    assert!(run.stderr.contains("ignore rule at line 3 expired on 2026-01-01; not applied"), "{}", run.stderr);

    // Ids: an ARM id in any case, with or without its trailing slash, is the same scope.
    std::fs::write(
        env.path("owner.txt"),
        format!("principal={ERIN} target=/SUBSCRIPTIONS/{}/ role={OWNER}\n", SUB2.to_uppercase()),
    )
    .unwrap();
    let run = env.run(&["diff", "a.db", "b.db", "--format", "json", "--ignore", "owner.txt"]);
    assert_eq!(run.json()["summary"]["ignored"], 1, "{}", run.stdout);

    // A name of several objects, a malformed rule, a missing file: exit 3 with the line.
    for (text, expected) in [
        (
            "# two storage accounts share it\ntarget=\"stcontosodata\"\n",
            "accepted.txt: line 2: target \"stcontosodata\" is ambiguous",
        ),
        ("principal=not-a-guid\n", "accepted.txt: line 1: principal: `not-a-guid` is not a GUID"),
        ("principal=x colour=red\n", "accepted.txt: line 1:"),
    ] {
        std::fs::write(env.path("accepted.txt"), text).unwrap();
        let run = env.run(&["diff", "a.db", "b.db", "--ignore", "accepted.txt"]);
        run.expect_code(exit_code::BAD_INPUT);
        assert!(run.stderr.contains(expected), "{text}: {}", run.stderr);
    }
    env.run(&["diff", "a.db", "b.db", "--ignore", "absent.txt"]).expect_code(exit_code::BAD_INPUT);

    // `plan revert` takes the same rules: the accepted membership is not reverted.
    std::fs::write(env.path("accepted.txt"), format!("principal={ERIN} relation=member target={TIER0}\n")).unwrap();
    env.run(&["plan", "revert", "--baseline", "a.db", "--current", "b.db", "-o", "all.json"])
        .expect_code(exit_code::SUCCESS);
    env.run(&[
        "plan",
        "revert",
        "--baseline",
        "a.db",
        "--current",
        "b.db",
        "-o",
        "some.json",
        "--ignore",
        "accepted.txt",
    ])
    .expect_code(exit_code::SUCCESS);
    let actions = |f: &str| -> Vec<String> {
        let plan: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(env.path(f)).unwrap()).unwrap();
        plan["actions"].as_array().unwrap().iter().map(|a| a.to_string()).collect()
    };
    let (all, some) = (actions("all.json"), actions("some.json"));
    assert_eq!(some.len() + 1, all.len(), "{all:#?}\n{some:#?}");
    assert!(
        all.iter().any(|a| a.contains(ERIN) && a.contains(TIER0))
            && !some.iter().any(|a| a.contains(ERIN) && a.contains(TIER0))
    );
}

#[test]
fn sarif_and_junit_carry_every_item_for_ci() {
    let env = drifted(&["--skip-p2"]);
    let items = env.run(&["diff", "a.db", "b.db", "--format", "json"]).json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 4);

    // SARIF 2.1.0: the fields the schema requires, and what code scanning needs (a file location per result).
    let run = env.run(&["diff", "a.db", "b.db", "--format", "sarif", "--fail-on", "privileged"]);
    run.expect_code(exit_code::FINDINGS);
    let sarif = run.json();
    assert_eq!(sarif["version"], "2.1.0");
    let sarif_run = &sarif["runs"][0];
    assert_eq!(sarif_run["tool"]["driver"]["name"], "azsnap");
    let results = sarif_run["results"].as_array().unwrap();
    assert_eq!(results.len(), items.len(), "one result per drift item");
    let rules: Vec<&str> =
        sarif_run["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    for (r, item) in results.iter().zip(&items) {
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()), "{r}");
        let rule = r["ruleId"].as_str().unwrap();
        assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize], rule);
        assert_eq!(r["level"], if item["privileged"] == true { "error" } else { "warning" });
        assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "b.db");
        assert_eq!(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], item["key"]);
        assert!(r["partialFingerprints"]["azsnapDrift/v1"].as_str().is_some_and(|f| f.len() == 32));
    }
    let notes = sarif_run["invocations"][0]["toolExecutionNotifications"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["message"]["text"].as_str().unwrap().starts_with("group_pim not compared")));

    // JUnit: parsed by a real XML parser (Python's), one test case per compared part, skipped ones with the reason.
    let run = env.run(&["diff", "a.db", "b.db", "--format", "junit"]);
    run.expect_code(exit_code::SUCCESS);
    std::fs::write(env.path("drift.xml"), &run.stdout).unwrap();
    let script = "import sys, xml.etree.ElementTree as ET\n\
        root = ET.parse(sys.argv[1]).getroot()\n\
        for c in root.iter('testcase'):\n\
        \x20   f, s = c.find('failure'), c.find('skipped')\n\
        \x20   print(c.get('name'), 'failed' if f is not None else 'skipped' if s is not None else 'passed', (f.get('message') if f is not None else s.get('message') if s is not None else ''))\n";
    let Ok(out) = std::process::Command::new("python3").arg("-c").arg(script).arg(env.path("drift.xml")).output()
    else {
        crate::common::notice("JUnit XML check skipped: python3 is not available");
        return;
    };
    assert!(out.status.success(), "not well-formed XML: {}\n{}", String::from_utf8_lossy(&out.stderr), run.stdout);
    let cases = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(cases.contains("groups failed 2 differences (2 privileged)"), "{cases}");
    assert!(cases.contains("azure_role_assignments failed 1 difference (1 privileged)"), "{cases}");
    assert!(cases.contains("app_role_assignments failed 1 difference (0 privileged)"), "{cases}");
    assert!(cases.contains("users passed"), "{cases}");
    assert!(cases.contains("group_pim skipped not compared: not collected in NEW (option --skip-p2)"), "{cases}");
}

#[test]
fn privileged_marking_is_the_same_in_diff_plan_and_access() {
    let env = drifted(&[]);
    let tier0 = format!("{ERIN}|member|{TIER0}||");
    let report = env.run(&["diff", "a.db", "b.db", "--format", "json"]).json();
    let item = report["items"].as_array().unwrap().iter().find(|i| i["key"] == tier0.as_str()).unwrap().clone();
    assert_eq!(item["privileged"], true);
    env.run(&["plan", "revert", "--baseline", "a.db", "--current", "b.db", "-o", "p.json"])
        .expect_code(exit_code::SUCCESS);
    let plan: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(env.path("p.json")).unwrap()).unwrap();
    let action = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["principal"]["id"] == ERIN && a["target"]["id"] == TIER0)
        .unwrap()
        .clone();
    assert_eq!(action["privileged"], true, "{action:#}");
    let access = env.run(&["access", "b.db", "--principal", ERIN, "--format", "json"]).json();
    let row = access["access"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["relation"] == "member" && a["target_id"] == TIER0)
        .unwrap()
        .clone();
    assert_eq!(row["privileged"], true, "{row:#}");
}

#[test]
fn dangerous_graph_application_permissions_are_privileged() {
    use azsnap::mock::EmulatorOptions;
    const WRITER_SP: &str = "30000000-0000-4000-8000-000000000002";
    const GRAPH_SP: &str = "30000000-0000-4000-8000-000000000005";
    const ROLE_MANAGEMENT: &str = "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8";
    let env = TestEnv::new();
    // Before: the writer app without its Graph application permissions. After (the fixture as it is): granted
    // what its tokens claim, RoleManagement.ReadWrite.Directory among them — it can make anyone Global
    // Administrator.
    let before = crate::collect::contoso_with(
        |t| {
            t.app_role_assignments
                .retain(|a| !(a.principal_id.to_string() == WRITER_SP && a.resource_id.to_string() == GRAPH_SP))
        },
        EmulatorOptions::default(),
    );
    collect(&env, &before, "a.db", &[]).expect_code(exit_code::SUCCESS);
    collect(&env, &Emu::contoso(), "b.db", &[]).expect_code(exit_code::SUCCESS);
    let report = env.run(&["diff", "a.db", "b.db", "--format", "json"]).json();
    let granted: Vec<&serde_json::Value> =
        report["items"].as_array().unwrap().iter().filter(|i| i["kind"] == "grant" && i["change"] == "added").collect();
    assert_eq!(granted.len(), 3, "the writer's three Graph permissions: {report:#}");
    assert!(granted.iter().all(|g| g["privileged"] == true), "{granted:#?}");
    env.run(&["diff", "a.db", "b.db", "--fail-on", "privileged"]).expect_code(exit_code::FINDINGS);
    let access = env.run(&["access", "b.db", "--principal", WRITER_SP, "--format", "json"]).json();
    assert!(
        access["access"].as_array().unwrap().iter().any(|a| a["role_id"] == ROLE_MANAGEMENT && a["privileged"] == true),
        "{access:#}"
    );
}

#[test]
fn custom_azure_roles_that_can_hand_out_access_are_privileged() {
    use azsnap::mock::EmulatorOptions;
    // Storage Auditor, made able to write role assignments: whoever holds it can make themselves Owner.
    let emu = crate::collect::contoso_with(
        |t| {
            let mut v = serde_json::to_value(&*t).unwrap();
            let role = v["roleDefinitions"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|r| r["roleName"] == "Storage Auditor")
                .unwrap();
            role["actions"].as_array_mut().unwrap().push(json!("Microsoft.Authorization/*/write"));
            *t = serde_json::from_value(v).unwrap();
        },
        EmulatorOptions::default(),
    );
    let env = TestEnv::new();
    collect(&env, &emu, "c.db", &[]).expect_code(exit_code::SUCCESS);
    let access = env.run(&["access", "c.db", "--resource", "stcontosodata", "--format", "json"]).json();
    let rows: Vec<&serde_json::Value> =
        access["access"].as_array().unwrap().iter().filter(|a| a["role"] == "Storage Auditor").collect();
    assert!(!rows.is_empty() && rows.iter().all(|a| a["privileged"] == true), "{access:#}");
}

#[test]
fn a_privileged_roles_file_adds_to_the_built_in_list_everywhere() {
    let env = TestEnv::new();
    collect(&env, &Emu::contoso(), "c.db", &[]).expect_code(exit_code::SUCCESS);
    let auditor_rows = |extra: &[&str]| -> Vec<bool> {
        let mut args = vec!["access", "c.db", "--resource", "stcontosodata", "--format", "json"];
        args.extend_from_slice(extra);
        let access = env.run(&args).json();
        access["access"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["role"] == "Storage Auditor")
            .map(|a| a["privileged"] == true)
            .collect()
    };
    assert!(auditor_rows(&[]).iter().all(|p| !p), "not privileged by default");
    std::fs::write(env.path("ours.txt"), "# our own\n60000000-0000-4000-8000-000000000001 Storage Auditor\n").unwrap();
    let marked = auditor_rows(&["--privileged-roles", "ours.txt"]);
    assert!(!marked.is_empty() && marked.iter().all(|p| *p), "{marked:?}");
    std::fs::write(env.path("bad.txt"), "Storage Auditor\n").unwrap();
    let run = env.run(&["--privileged-roles", "bad.txt", "access", "c.db", "--resource", "stcontosodata"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.stderr.contains("bad.txt: line 1: `Storage` is not a role id"), "{}", run.stderr);
}

#[test]
fn principals_of_one_name_are_told_apart_in_diff_output() {
    use azsnap::mock::EmulatorOptions;
    let twins = |joined: bool| {
        move |t: &mut azsnap::mock::TenantFile| {
            for n in 0..2 {
                let mut u = t.users[0].clone();
                u.id = format!("10000000-0000-4000-8000-00000000099{n}").parse().unwrap();
                u.props.insert("displayName".into(), "Ben Jansen".into());
                u.props.insert("userPrincipalName".into(), format!("ben.jansen{n}@contoso.com").into());
                if joined {
                    let tier0 = t.groups.iter_mut().find(|g| g.id.to_string() == TIER0).unwrap();
                    tier0.members.push(u.id.clone());
                }
                t.users.push(u);
            }
        }
    };
    let env = TestEnv::new();
    collect(&env, &crate::collect::contoso_with(twins(false), EmulatorOptions::default()), "a.db", &[])
        .expect_code(exit_code::SUCCESS);
    collect(&env, &crate::collect::contoso_with(twins(true), EmulatorOptions::default()), "b.db", &[])
        .expect_code(exit_code::SUCCESS);
    for format in ["table", "markdown", "csv"] {
        let out = env.run(&["diff", "a.db", "b.db", "--format", format]).stdout;
        for n in 0..2 {
            assert!(
                out.contains(&format!("Ben Jansen (user, ben.jansen{n}@contoso.com) member of Tier0 Admins")),
                "{format}: {out}"
            );
        }
    }
    let csv = env.run(&["diff", "a.db", "b.db", "--format", "csv"]).stdout;
    assert!(csv.lines().next().unwrap().ends_with("principal_id,target_id,role_id,scope,key"), "{csv}");
    assert!(csv.contains("10000000-0000-4000-8000-000000000990,20000000-0000-4000-8000-000000000007"), "{csv}");
    // In a plan to revert it: each removal names whom it removes, and CSV carries the ids.
    env.run(&["plan", "revert", "--baseline", "a.db", "--current", "b.db", "-o", "p.json"])
        .expect_code(exit_code::SUCCESS);
    for format in ["table", "markdown", "csv"] {
        let out = env.run(&["plan", "show", "p.json", "--format", format]).stdout;
        for n in 0..2 {
            let line = format!("remove Ben Jansen (ben.jansen{n}@contoso.com) from group Tier0 Admins");
            assert!(out.contains(&line), "{format}: {out}");
        }
    }
    let csv = env.run(&["plan", "show", "p.json", "--format", "csv"]).stdout;
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with("principal,principal_detail,principal_id,target,target_id,role,role_id,scope")
    );
    assert!(
        csv.contains("Ben Jansen,ben.jansen1@contoso.com,10000000-0000-4000-8000-000000000991,Tier0 Admins,"),
        "{csv}"
    );
    // And in `access`: who reaches the group, each with their UPN.
    let access = env.run(&["access", "b.db", "--resource", TIER0]).stdout;
    for n in 0..2 {
        assert!(access.contains(&format!("Ben Jansen (ben.jansen{n}@contoso.com)")), "{access}");
    }
}
