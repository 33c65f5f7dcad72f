//! The expected model: what a snapshot of a tenant file must hold, computed from the file alone, and the test that
//! the contoso snapshot holds exactly that.

use std::collections::BTreeSet;

use azsnap::exit_code;
use serde_json::Value;

use super::{collect, column};
use crate::common::TestEnv;
use crate::common::emulator::{Emu, contoso_json};

/// Built-in role ids the emulator serves (directory, Azure), counted from the library's own table.
fn builtin_counts() -> (usize, usize) {
    (azsnap::mock::builtin::DIRECTORY_ROLES.len(), azsnap::mock::builtin::AZURE_ROLES.len())
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_ascii_lowercase()
}

fn arr(v: &Value) -> &Vec<Value> {
    static EMPTY: Vec<Value> = Vec::new();
    v.as_array().unwrap_or(&EMPTY)
}

/// One row per grant: principal | relation | target | role | scope | state.
pub(super) fn expected_grants(t: &Value, now: &str) -> BTreeSet<String> {
    let tenant = s(&t["tenant"]["id"]);
    let mut out = BTreeSet::new();
    let mut add = |p: &str, rel: &str, target: &str, role: &str, scope: &str, state: &str| {
        out.insert(format!("{p}|{rel}|{target}|{role}|{scope}|{state}"));
    };
    let in_force =
        |start: &Value, end: &Value| start.as_str().is_none_or(|x| x <= now) && end.as_str().is_none_or(|x| x > now);
    for g in arr(&t["groups"]) {
        for m in arr(&g["members"]) {
            add(&s(m), "member", &s(&g["id"]), "", "", "active");
        }
        for o in arr(&g["owners"]) {
            add(&s(o), "owner", &s(&g["id"]), "", "", "active");
        }
    }
    for sp in arr(&t["servicePrincipals"]) {
        for o in arr(&sp["owners"]) {
            add(&s(o), "owner", &s(&sp["id"]), "", "", "active");
        }
    }
    for a in arr(&t["appRoleAssignments"]) {
        add(&s(&a["principalId"]), "app_role", &s(&a["resourceId"]), &s(&a["appRoleId"]), "", "active");
    }
    for d in arr(&t["oauth2PermissionGrants"]) {
        let mut scopes: Vec<&str> = d["scope"].as_str().unwrap().split_whitespace().collect();
        scopes.sort_unstable();
        let scope =
            if d["consentType"] == "Principal" { format!("/users/{}", s(&d["principalId"])) } else { "/".to_owned() };
        add(&s(&d["clientId"]), "delegated", &s(&d["resourceId"]), &scopes.join(" "), &scope, "active");
    }
    for a in arr(&t["directoryRoleAssignments"]) {
        add(
            &s(&a["principalId"]),
            "directory_role",
            &tenant,
            &s(&a["roleDefinitionId"]),
            a["directoryScopeId"].as_str().unwrap(),
            "active",
        );
    }
    for a in arr(&t["directoryRoleActivations"]).iter().filter(|a| in_force(&a["startDateTime"], &a["endDateTime"])) {
        add(
            &s(&a["principalId"]),
            "directory_role",
            &tenant,
            &s(&a["roleDefinitionId"]),
            a["directoryScopeId"].as_str().unwrap(),
            "active",
        );
    }
    for a in arr(&t["directoryRoleEligibilities"]).iter().filter(|a| in_force(&a["startDateTime"], &a["endDateTime"])) {
        add(
            &s(&a["principalId"]),
            "directory_role",
            &tenant,
            &s(&a["roleDefinitionId"]),
            a["directoryScopeId"].as_str().unwrap(),
            "eligible",
        );
    }
    for (key, state) in [("groupEligibilities", "eligible"), ("groupAssignments", "active")] {
        for a in arr(&t[key]).iter().filter(|a| in_force(&a["startDateTime"], &a["endDateTime"])) {
            add(&s(&a["principalId"]), a["accessId"].as_str().unwrap(), &s(&a["groupId"]), "", "", state);
        }
    }
    for (key, state) in [("roleAssignments", "active"), ("roleEligibilities", "eligible")] {
        for a in arr(&t[key]) {
            let scope = s(&a["scope"]);
            add(&s(&a["principalId"]), "azure_role", &scope, &s(&a["roleDefinitionId"]), &scope, state);
        }
    }
    out
}

/// One row per resource: id | kind | parent.
pub(super) fn expected_resources(t: &Value, containers: bool) -> BTreeSet<String> {
    let tenant = s(&t["tenant"]["id"]);
    let mg = |n: &str| format!("/providers/microsoft.management/managementgroups/{}", n.to_ascii_lowercase());
    let mut out = BTreeSet::new();
    out.insert(format!("{tenant}|tenant|"));
    for m in arr(&t["managementGroups"]) {
        let parent = m["parent"].as_str().map(mg).unwrap_or_else(|| tenant.clone());
        out.insert(format!("{}|management_group|{parent}", mg(m["name"].as_str().unwrap())));
    }
    for sub in arr(&t["subscriptions"]) {
        let parent = mg(sub["managementGroup"].as_str().unwrap_or(&tenant));
        out.insert(format!("/subscriptions/{}|subscription|{parent}", s(&sub["subscriptionId"])));
    }
    for rg in arr(&t["resourceGroups"]) {
        let sub = format!("/subscriptions/{}", s(&rg["subscriptionId"]));
        out.insert(format!("{sub}/resourcegroups/{}|resource_group|{sub}", s(&rg["name"])));
    }
    for a in arr(&t["storageAccounts"]) {
        let rg = format!("/subscriptions/{}/resourcegroups/{}", s(&a["subscriptionId"]), s(&a["resourceGroup"]));
        let id = format!("{rg}/providers/microsoft.storage/storageaccounts/{}", s(&a["name"]));
        out.insert(format!("{id}|storage_account|{rg}"));
        if containers {
            for c in arr(&a["containers"]) {
                out.insert(format!("{id}/blobservices/default/containers/{}|container|{id}", s(&c["name"])));
            }
        }
    }
    for i in arr(&t["userAssignedIdentities"]) {
        let rg = format!("/subscriptions/{}/resourcegroups/{}", s(&i["subscriptionId"]), s(&i["resourceGroup"]));
        out.insert(format!(
            "{rg}/providers/microsoft.managedidentity/userassignedidentities/{}|user_assigned_identity|{rg}",
            s(&i["name"])
        ));
    }
    out
}

/// One row per principal: id | kind | origin.
pub(super) fn expected_principals(t: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for u in arr(&t["users"]) {
        out.insert(format!("{}|user|collected", s(&u["id"])));
    }
    for g in arr(&t["groups"]) {
        out.insert(format!("{}|group|collected", s(&g["id"])));
    }
    for sp in arr(&t["servicePrincipals"]) {
        let kind =
            if sp["servicePrincipalType"] == "ManagedIdentity" { "managed_identity" } else { "service_principal" };
        out.insert(format!("{}|{kind}|collected", s(&sp["id"])));
    }
    // Principals only a grant names (a deleted user holding an Azure role).
    let known: BTreeSet<String> = out.iter().map(|r| r.split('|').next().unwrap().to_owned()).collect();
    for a in arr(&t["roleAssignments"]) {
        let p = s(&a["principalId"]);
        if !known.contains(&p) {
            out.insert(format!("{p}|unknown|unresolved"));
        }
    }
    out
}

pub(super) fn snapshot_grants(path: &std::path::Path) -> BTreeSet<String> {
    column(path, "SELECT principal_id || '|' || relation || '|' || target_id || '|' || role_id || '|' || scope || '|' || state FROM grants")
        .into_iter()
        .collect()
}

#[test]
fn contoso_snapshot_holds_exactly_the_tenant_file() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    let run = collect(&env, &emu, "c.db", &["--mailbox-settings"]);
    run.expect_code(exit_code::SUCCESS);
    let path = env.path("c.db");
    let t = contoso_json();
    let now = azsnap::clock::now().to_string();

    assert_eq!(snapshot_grants(&path), expected_grants(&t, &now), "grants");
    let principals: BTreeSet<String> =
        column(&path, "SELECT id || '|' || kind || '|' || origin FROM principals").into_iter().collect();
    assert_eq!(principals, expected_principals(&t), "principals");
    let resources: BTreeSet<String> =
        column(&path, "SELECT id || '|' || kind || '|' || coalesce(parent_id, '') FROM resources")
            .into_iter()
            .collect();
    assert_eq!(resources, expected_resources(&t, true), "resources");

    // Role definitions: every built-in, every custom, every app role, and default access where it is used.
    let (dir, azure) = builtin_counts();
    let app_roles: usize =
        arr(&t["servicePrincipals"]).iter().map(|sp| sp["appRoles"].as_array().map_or(0, Vec::len)).sum();
    let default_access: BTreeSet<String> = arr(&t["appRoleAssignments"])
        .iter()
        .filter(|a| a["appRoleId"] == "00000000-0000-0000-0000-000000000000")
        .map(|a| s(&a["resourceId"]))
        .collect();
    let defs = column(&path, "SELECT kind FROM role_definitions");
    assert_eq!(defs.iter().filter(|k| *k == "directory").count(), dir + arr(&t["directoryRoleDefinitions"]).len());
    assert_eq!(defs.iter().filter(|k| *k == "azure").count(), azure + arr(&t["roleDefinitions"]).len());
    assert_eq!(defs.iter().filter(|k| *k == "app").count(), app_roles + default_access.len());

    // Attributes people review: mailbox purpose (none for no mailbox), sign-ins, enabled, sync, dates.
    for u in arr(&t["users"]) {
        let id = s(&u["id"]);
        let row = column(
            &path,
            &format!(
                "SELECT coalesce(mailbox_purpose,'?') || '|' || coalesce(last_sign_in,'') || '|' || coalesce(account_enabled,'') || '|' || coalesce(on_premises_sync,'') || '|' || coalesce(user_type,'') FROM principals WHERE id = '{id}'"
            ),
        );
        let last = u["signInActivity"]["lastSignInDateTime"].as_str().unwrap_or("");
        let want = format!(
            "{}|{last}|{}|{}|{}",
            u["mailbox"].as_str().unwrap_or("none"),
            if u["accountEnabled"] == true { "1" } else { "0" },
            if u["onPremisesSyncEnabled"] == true { "1" } else { "" },
            u["userType"].as_str().unwrap_or("")
        );
        assert_eq!(row, vec![want], "user {id}");
    }
    let dates = column(
        &path,
        "SELECT coalesce(end_at,'') FROM grants WHERE relation = 'directory_role' AND state = 'eligible' ORDER BY 1",
    );
    assert!(dates.contains(&"2028-06-30T00:00:00Z".to_owned()), "eligibility end dates are kept: {dates:?}");
    let mi = column(
        &path,
        "SELECT managed_identity_type || '|' || managed_identity_resource_id FROM principals WHERE kind = 'managed_identity' ORDER BY 1",
    );
    assert_eq!(mi.len(), 2);
    assert!(mi[0].starts_with("system|/subscriptions/") && mi[1].starts_with("user|/subscriptions/"), "{mi:?}");

    let first_party =
        column(&path, "SELECT display_name FROM principals WHERE json_extract(attrs, '$.firstParty') = 1");
    assert_eq!(first_party, vec!["Microsoft Graph"], "Microsoft first-party apps are flagged");

    // The snapshot is complete and verifies; every part is recorded.
    env.run(&["verify", "c.db"]).expect_code(exit_code::SUCCESS);
    let info = env.run(&["info", "c.db", "--format", "json"]).json();
    assert_eq!(info["complete"], true);
    assert!(info["parts"].as_object().unwrap().values().all(|v| v == "complete"), "{}", info["parts"]);
    assert_eq!(info["tenant_name"], "Contoso");
    assert!(
        info["request_stats"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["service"] == "graph" && s["requests"].as_u64().unwrap() > 5)
    );
}
