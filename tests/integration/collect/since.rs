//! `collect --since PREV`: after every kind of change the write endpoints can make, singly and together, and with
//! faults injected, an incremental snapshot has exactly the fingerprint of a full collection of the same state.

use azsnap::exit_code;
use azsnap::mock::faults::FaultRates;
use azsnap::mock::{EmulatorOptions, TenantFile};
use serde_json::{Value, json};

use crate::collect::{collect, contoso_with};
use crate::common::TestEnv;
use crate::common::emulator::Emu;

const WRITER: &str = "a1b2c3d4-0000-4000-8000-000000000002";
const WRITER_SECRET: &str = "contoso-writer-secret";
const GRAPH: &str = "https://graph.microsoft.com/.default";
const ARM: &str = "https://management.azure.com/.default";
const BOB: &str = "10000000-0000-4000-8000-000000000002";
const ERIN: &str = "10000000-0000-4000-8000-000000000005";
const ROOM: &str = "10000000-0000-4000-8000-000000000009";
const G2: &str = "20000000-0000-4000-8000-000000000002";
const TIER0: &str = "20000000-0000-4000-8000-000000000007";
const ALICE: &str = "10000000-0000-4000-8000-000000000001";
/// Eligible for membership of Tier0 Admins, through PIM for groups.
const TIER0_ELIGIBLE: &str = "10000000-0000-4000-8000-000000000014";
const ALL_STAFF: &str = "20000000-0000-4000-8000-000000000001";
const PAYROLL: &str = "30000000-0000-4000-8000-000000000003";
const SUB1: &str = "50000000-0000-4000-8000-000000000001";
const NEW_APP: &str = "40000000-0000-4000-8000-0000000000ab";

/// Contoso whose writer may make every kind of change, whose reader may read the audit log, with one application
/// that has no service principal yet.
fn tenant(t: &mut TenantFile) {
    t.apps[0].graph_permissions.push("Directory.Read.All".to_owned());
    t.apps[1].graph_permissions.extend(
        [
            "User.ReadWrite.All",
            "Group.ReadWrite.All",
            "Application.ReadWrite.All",
            "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",
            "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",
        ]
        .map(str::to_owned),
    );
    t.applications.push(
        serde_json::from_value(
            json!({"id": "40000000-0000-4000-8000-0000000000aa", "appId": NEW_APP, "displayName": "Expense Reports"}),
        )
        .unwrap(),
    );
}

fn token(emu: &Emu, scope: &str) -> String {
    emu.token(WRITER, WRITER_SECRET, scope).body["access_token"].as_str().unwrap().to_owned()
}

fn link(id: &str) -> Value {
    json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")})
}

/// A write (or read) by the writer, sent again while the emulator answers with an injected 429 or 503.
fn send(emu: &Emu, method: reqwest::Method, path: &str, scope: &str, body: &Value) -> crate::common::emulator::Reply {
    let t = token(emu, scope);
    loop {
        let r = emu.send_json(method.clone(), path, &t, body);
        if !matches!(r.status, 429 | 503) {
            return r;
        }
    }
}

fn graph(emu: &Emu, method: reqwest::Method, path: &str, body: Value) -> u16 {
    send(emu, method, path, GRAPH, &body).status
}

/// One kind of change, made through the emulator's write endpoints; each asserts it took effect.
type Change = fn(&Emu);

use reqwest::Method;

fn add_member(emu: &Emu) {
    assert_eq!(graph(emu, Method::POST, &format!("/v1.0/groups/{G2}/members/$ref"), link(ERIN)), 204);
}
fn remove_member(emu: &Emu) {
    assert_eq!(graph(emu, Method::DELETE, &format!("/v1.0/groups/{ALL_STAFF}/members/{BOB}/$ref"), Value::Null), 204);
}
fn add_owner(emu: &Emu) {
    assert_eq!(graph(emu, Method::POST, &format!("/v1.0/groups/{G2}/owners/$ref"), link(ERIN)), 204);
}
fn remove_owner(emu: &Emu) {
    assert_eq!(graph(emu, Method::DELETE, &format!("/v1.0/groups/{TIER0}/owners/{ALICE}/$ref"), Value::Null), 204);
}
/// A PIM for groups request (`eligibilityScheduleRequests` or `assignmentScheduleRequests`).
fn pim(emu: &Emu, requests: &str, action: &str, principal: &str, group: &str) {
    let mut body = json!({"accessId": "member", "principalId": principal, "groupId": group, "action": action});
    if action == "adminAssign" {
        body["scheduleInfo"] = json!({"expiration": {"type": "noExpiration"}});
    }
    let path = format!("/v1.0/identityGovernance/privilegedAccess/group/{requests}");
    assert_eq!(graph(emu, Method::POST, &path, body), 201, "{requests} {action}");
}
fn pim_eligibility_added(emu: &Emu) {
    pim(emu, "eligibilityScheduleRequests", "adminAssign", ERIN, G2);
}
fn pim_eligibility_removed(emu: &Emu) {
    pim(emu, "eligibilityScheduleRequests", "adminRemove", TIER0_ELIGIBLE, TIER0);
}
fn pim_assignment_added(emu: &Emu) {
    pim(emu, "assignmentScheduleRequests", "adminAssign", ERIN, TIER0);
}
fn grant_app_role(emu: &Emu) {
    let body = json!({"principalId": ROOM, "resourceId": PAYROLL, "appRoleId": "90000000-0000-4000-8000-000000000002"});
    assert_eq!(graph(emu, Method::POST, &format!("/v1.0/servicePrincipals/{PAYROLL}/appRoleAssignedTo"), body), 201);
}
fn revoke_app_role(emu: &Emu) {
    let listed =
        send(emu, Method::GET, &format!("/v1.0/servicePrincipals/{PAYROLL}/appRoleAssignedTo"), GRAPH, &Value::Null);
    let id = listed.body["value"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1.0/servicePrincipals/{PAYROLL}/appRoleAssignedTo/{id}");
    assert_eq!(graph(emu, Method::DELETE, &path, Value::Null), 204);
}
fn add_directory_role(emu: &Emu) {
    let body = json!({"roleDefinitionId": "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "principalId": ERIN, "directoryScopeId": "/"});
    assert_eq!(graph(emu, Method::POST, "/v1.0/roleManagement/directory/roleAssignments", body), 201);
}
fn create_azure_role(emu: &Emu) {
    let url = format!(
        "/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleAssignments/0a0b0c0d-0000-4000-8000-000000000001?api-version=2022-04-01"
    );
    let body = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"),
        "principalId": ERIN, "principalType": "User"}});
    assert_eq!(send(emu, Method::PUT, &url, ARM, &body).status, 201);
}
fn delete_azure_role(emu: &Emu) {
    let url = format!(
        "/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleAssignments/70000000-0000-4000-8000-000000000005?api-version=2022-04-01"
    );
    assert_eq!(send(emu, Method::DELETE, &url, ARM, &Value::Null).status, 200);
}
fn disable_user(emu: &Emu) {
    assert_eq!(graph(emu, Method::PATCH, &format!("/v1.0/users/{BOB}"), json!({"accountEnabled": false})), 204);
}
fn delete_user(emu: &Emu) {
    assert_eq!(graph(emu, Method::DELETE, &format!("/v1.0/users/{BOB}"), Value::Null), 204);
}
fn delete_group(emu: &Emu) {
    assert_eq!(graph(emu, Method::DELETE, &format!("/v1.0/groups/{G2}"), Value::Null), 204);
}
fn add_service_principal(emu: &Emu) {
    assert_eq!(graph(emu, Method::POST, "/v1.0/servicePrincipals", json!({"appId": NEW_APP})), 201);
}

const CHANGES: &[(&str, Change)] = &[
    ("membership added", add_member),
    ("membership removed", remove_member),
    ("owner added", add_owner),
    ("owner removed", remove_owner),
    ("PIM eligibility added", pim_eligibility_added),
    ("PIM eligibility removed", pim_eligibility_removed),
    ("PIM assignment added", pim_assignment_added),
    ("app role granted", grant_app_role),
    ("app role revoked", revoke_app_role),
    ("directory role assigned", add_directory_role),
    ("Azure role created", create_azure_role),
    ("Azure role deleted", delete_azure_role),
    ("user disabled", disable_user),
    ("user deleted", delete_user),
    ("group deleted", delete_group),
    ("service principal added", add_service_principal),
];

/// What snapshot `name` says of how its part `part` was read (empty when it says nothing).
fn detail(env: &TestEnv, name: &str, part: &str) -> String {
    let snap = azsnap::store::Snapshot::open(&env.path(name)).unwrap();
    let p = snap.parts().unwrap().into_iter().find(|p| p.name == part).unwrap();
    p.detail.unwrap_or_default()
}

fn fingerprint(env: &TestEnv, name: &str) -> String {
    let snap = azsnap::store::Snapshot::open(&env.path(name)).unwrap();
    snap.stored_fingerprint().unwrap().unwrap()
}

/// A full collection of `emu` into `full`, then an incremental one from `prev` into `incremental`: same
/// fingerprint, and the incremental run's users and groups parts say they were incremental.
fn same_as_full(env: &TestEnv, emu: &Emu, prev: &str, tag: &str, extra: &[&str]) {
    same_fingerprint(env, emu, prev, tag, extra);
    for part in ["users", "groups"] {
        let d = detail(env, &format!("{tag}-since.db"), part);
        assert!(d.starts_with("incremental"), "{tag}: {part}: {d}");
    }
}

/// A full collection of `emu` into `full`, then an incremental one from `prev` into `incremental`: same fingerprint.
fn same_fingerprint(env: &TestEnv, emu: &Emu, prev: &str, tag: &str, extra: &[&str]) {
    let (full, incremental) = (format!("{tag}-full.db"), format!("{tag}-since.db"));
    collect(env, emu, &full, extra).expect_code(exit_code::SUCCESS);
    let mut args = vec!["--since", prev];
    args.extend_from_slice(extra);
    collect(env, emu, &incremental, &args).expect_code(exit_code::SUCCESS);
    assert_eq!(fingerprint(env, &incremental), fingerprint(env, &full), "{tag}: --since differs from a full read");
}

#[test]
fn every_kind_of_change_singly_gives_the_full_collections_fingerprint() {
    let env = TestEnv::new();
    for (i, (what, change)) in CHANGES.iter().enumerate() {
        let emu = contoso_with(tenant, EmulatorOptions::default());
        let prev = format!("prev-{i}.db");
        collect(&env, &emu, &prev, &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
        change(&emu);
        same_as_full(&env, &emu, &prev, &format!("{i}-{}", what.replace(' ', "-")), &["--mailbox-settings"]);
        // Nothing was missed: the change is in the data (the full snapshot differs from before it).
        assert_ne!(
            fingerprint(&env, &prev),
            fingerprint(&env, &format!("{i}-{}-full.db", what.replace(' ', "-"))),
            "{what}"
        );
    }
}

#[test]
fn all_changes_together_and_in_a_chain_give_the_full_collections_fingerprint() {
    let env = TestEnv::new();
    let emu = contoso_with(tenant, EmulatorOptions::default());
    collect(&env, &emu, "prev.db", &[]).expect_code(exit_code::SUCCESS);
    // Half the changes, an incremental snapshot; the other half, an incremental snapshot from that one.
    let (first, second) = CHANGES.split_at(CHANGES.len() / 2);
    for (_, change) in first {
        change(&emu);
    }
    same_as_full(&env, &emu, "prev.db", "first", &[]);
    for (_, change) in second {
        change(&emu);
    }
    same_as_full(&env, &emu, "first-since.db", "second", &[]);
    // And nothing changed at all: still the same.
    same_as_full(&env, &emu, "second-since.db", "unchanged", &[]);
}

#[test]
fn with_faults_injected_the_incremental_snapshot_is_still_the_full_one() {
    let env = TestEnv::new();
    let faults: FaultRates = "5xx=0.05,429=0.05".parse().unwrap();
    let faulty = contoso_with(tenant, EmulatorOptions { faults, seed: 7, ..EmulatorOptions::default() });
    collect(&env, &faulty, "prev.db", &[]).expect_code(exit_code::SUCCESS);
    for (_, change) in CHANGES {
        change(&faulty);
    }
    same_as_full(&env, &faulty, "prev.db", "faulty", &[]);
    // A delta link is only good where it was issued: another emulator with the same state answers 410, and the
    // users part is read in full, with the same result.
    let state: TenantFile = serde_json::from_value(faulty.get_public("/_emulator/tenant").body).unwrap();
    let other = Emu::serve(state, EmulatorOptions::default());
    collect(&env, &other, "other-full.db", &[]).expect_code(exit_code::SUCCESS);
    collect(&env, &other, "other-since.db", &["--since", "prev.db"]).expect_code(exit_code::SUCCESS);
    assert_eq!(fingerprint(&env, "other-since.db"), fingerprint(&env, "other-full.db"));
    for part in ["users", "groups"] {
        let d = detail(&env, "other-since.db", part);
        assert!(d.contains("410"), "{part}: {d}");
    }
}

#[test]
fn an_expired_delta_token_falls_back_to_a_full_read_of_users() {
    let env = TestEnv::new();
    let emu = contoso_with(tenant, EmulatorOptions { delta_token_max_age_secs: 0, ..EmulatorOptions::default() });
    collect(&env, &emu, "prev.db", &[]).expect_code(exit_code::SUCCESS);
    disable_user(&emu);
    same_fingerprint(&env, &emu, "prev.db", "expired", &[]);
    let users = detail(&env, "expired-since.db", "users");
    assert!(users.contains("410"), "{users}");
}

#[test]
fn since_refuses_another_tenant_or_other_options_with_exit_3() {
    let env = TestEnv::new();
    let emu = contoso_with(tenant, EmulatorOptions::default());
    collect(&env, &emu, "prev.db", &[]).expect_code(exit_code::SUCCESS);
    let run = collect(&env, &emu, "other.db", &["--since", "prev.db", "--skip-containers"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.expect_one_line_error().contains("skip_containers"), "{}", run.stderr);
    assert!(!env.path("other.db").exists());
    let generated = Emu::serve(
        azsnap::mock::generate::generate(&azsnap::mock::generate::Sizes::preset("s").unwrap(), 5),
        EmulatorOptions::default(),
    );
    let run = collect(&env, &generated, "elsewhere.db", &["--since", "prev.db"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.stderr.contains("is a snapshot of tenant"), "{}", run.stderr);
    assert!(!env.path("elsewhere.db").exists());
    // A PREV that is missing or not a snapshot: one line, exit 3, nothing written.
    std::fs::write(env.path("notes.db"), "not a snapshot").unwrap();
    for prev in ["missing.db", "notes.db"] {
        let run = collect(&env, &emu, "none.db", &["--since", prev]);
        run.expect_code(exit_code::BAD_INPUT);
        assert!(run.expect_one_line_error().contains(prev), "{}", run.stderr);
        assert!(!env.path("none.db").exists());
    }
    // The delta link is stored, never printed.
    let info = env.run(&["info", "prev.db"]);
    assert!(!info.stdout.contains("deltatoken"), "{}", info.stdout);
}

#[test]
fn mailbox_purposes_and_sign_ins_are_read_again_only_for_what_changed() {
    let env = TestEnv::new();
    let emu = contoso_with(tenant, EmulatorOptions::default());
    collect(&env, &emu, "prev.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
    disable_user(&emu);
    same_as_full(&env, &emu, "prev.db", "mailboxes", &["--mailbox-settings"]);
    let graph_items = |name: &str| {
        let snap = azsnap::store::Snapshot::open(&env.path(name)).unwrap();
        let stats = snap.request_stats().unwrap();
        stats.iter().find(|s| s.service == "graph").map(|s| s.inner_requests).unwrap()
    };
    // Only the changed user's mailbox is read one by one: the user itself comes whole in the delta round, and an
    // update of a user changes no owner, app role or PIM schedule.
    let (full, since) = (graph_items("mailboxes-full.db"), graph_items("mailboxes-since.db"));
    assert_eq!(since, 1, "full {full}, since {since}");
    let sign_ins = detail(&env, "mailboxes-since.db", "sign_in_activity");
    assert!(sign_ins.starts_with("incremental"), "{sign_ins}");
}

#[test]
fn owners_app_roles_and_pim_schedules_are_read_again_only_for_what_the_audit_log_names() {
    let env = TestEnv::new();
    let emu = contoso_with(tenant, EmulatorOptions::default());
    collect(&env, &emu, "prev.db", &[]).expect_code(exit_code::SUCCESS);
    add_owner(&emu);
    grant_app_role(&emu);
    pim_eligibility_added(&emu);
    same_as_full(&env, &emu, "prev.db", "named", &[]);
    for part in ["group_owners", "group_pim", "app_role_assignments"] {
        let d = detail(&env, "named-since.db", part);
        assert!(d.starts_with("incremental: 1 of "), "{part}: {d}");
    }
    // A user who held something, deleted: what they held is read again too.
    delete_user(&emu);
    same_as_full(&env, &emu, "named-since.db", "deleted", &[]);
    let d = detail(&env, "deleted-since.db", "app_role_assignments");
    assert!(!d.starts_with("incremental: 0 of "), "{d}");
}

#[test]
fn without_the_audit_log_the_parts_it_would_carry_are_read_in_full() {
    let env = TestEnv::new();
    // The reader as shipped: no Directory.Read.All, which the audit log needs.
    let emu = contoso_with(
        |t| {
            tenant(t);
            t.apps[0].graph_permissions.retain(|p| p != "Directory.Read.All");
        },
        EmulatorOptions::default(),
    );
    collect(&env, &emu, "prev.db", &[]).expect_code(exit_code::SUCCESS);
    add_owner(&emu);
    pim_eligibility_removed(&emu);
    same_as_full(&env, &emu, "prev.db", "denied", &[]);
    for part in azsnap::collect::CARRIED_PARTS {
        let d = detail(&env, "denied-since.db", part);
        assert!(d.contains("Directory.Read.All"), "{part}: {d}");
    }
    // A previous snapshot whose PIM part was denied: in the next, that part is read in full, the others carried.
    let no_pim = contoso_with(
        |t| {
            tenant(t);
            t.apps[0].graph_permissions.retain(|p| !p.starts_with("PrivilegedEligibilitySchedule"));
        },
        EmulatorOptions::default(),
    );
    collect(&env, &no_pim, "no-pim.db", &[]).expect_code(exit_code::INCOMPLETE);
    add_owner(&no_pim);
    let mut state: TenantFile = serde_json::from_value(no_pim.get_public("/_emulator/tenant").body).unwrap();
    state.apps[0].graph_permissions.push("PrivilegedEligibilitySchedule.Read.AzureADGroup".to_owned());
    let granted = Emu::serve(state, EmulatorOptions::default());
    // (Another emulator: the users delta link is refused there, and users are read in full.)
    same_fingerprint(&env, &granted, "no-pim.db", "granted", &[]);
    let d = detail(&env, "granted-since.db", "group_pim");
    assert!(d.contains("does not have this part complete"), "{d}");
    let d = detail(&env, "granted-since.db", "group_owners");
    assert!(d.starts_with("incremental: 1 of "), "{d}");
}

#[test]
fn with_ad_groups_left_out_groups_are_read_in_full_and_the_result_is_the_same() {
    let env = TestEnv::new();
    let emu = contoso_with(tenant, EmulatorOptions::default());
    collect(&env, &emu, "prev.db", &["--skip-ad-groups"]).expect_code(exit_code::SUCCESS);
    add_member(&emu);
    delete_group(&emu);
    same_fingerprint(&env, &emu, "prev.db", "ad", &["--skip-ad-groups"]);
    let d = detail(&env, "ad-since.db", "groups");
    assert!(d.contains("--skip-ad-groups"), "{d}");
    assert!(detail(&env, "ad-since.db", "users").starts_with("incremental"));
}
