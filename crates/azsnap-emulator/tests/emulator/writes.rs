//! The write endpoints `apply` uses: real success codes, real "already"/"not found" answers, refusals, and state
//! that later reads see.

use serde_json::json;

use crate::common::emulator::{ARM_SCOPE, Emu, GRAPH_SCOPE};

const WRITER: &str = "a1b2c3d4-0000-4000-8000-000000000002";
const WRITER_SECRET: &str = "contoso-writer-secret";
const ERIN: &str = "10000000-0000-4000-8000-000000000005";
const G2: &str = "20000000-0000-4000-8000-000000000002";
const PAYROLL: &str = "30000000-0000-4000-8000-000000000003";
const SUB1: &str = "50000000-0000-4000-8000-000000000001";
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

fn writer(emu: &Emu, scope: &str) -> String {
    let r = emu.token(WRITER, WRITER_SECRET, scope);
    assert_eq!(r.status, 200);
    r.body["access_token"].as_str().unwrap().to_owned()
}

fn member_ids(emu: &Emu, t: &str, group: &str) -> Vec<String> {
    emu.walk(&format!("/v1.0/groups/{group}/members"), t, &[])
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

fn link(id: &str) -> serde_json::Value {
    json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")})
}

#[test]
fn group_membership_add_and_remove() {
    let emu = Emu::contoso();
    let t = writer(&emu, GRAPH_SCOPE);
    let r = emu.post_json(&format!("/v1.0/groups/{G2}/members/$ref"), &t, &link(ERIN));
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert!(member_ids(&emu, &t, G2).contains(&ERIN.to_owned()), "the write is visible to reads");
    let again = emu.post_json(&format!("/v1.0/groups/{G2}/members/$ref"), &t, &link(ERIN));
    assert_eq!((again.status, again.code()), (400, "Request_BadRequest"));
    assert!(again.body["error"]["message"].as_str().unwrap().contains("already exist"));

    let no_ref = emu.delete(&format!("/v1.0/groups/{G2}/members/{ERIN}"), &t);
    assert_eq!(no_ref.status, 405, "removal without /$ref targets the object, not the link");
    assert_eq!(emu.delete(&format!("/v1.0/groups/{G2}/members/{ERIN}/$ref"), &t).status, 204);
    assert!(!member_ids(&emu, &t, G2).contains(&ERIN.to_owned()));
    let gone = emu.delete(&format!("/v1.0/groups/{G2}/members/{ERIN}/$ref"), &t);
    assert_eq!((gone.status, gone.code()), (404, "Request_ResourceNotFound"));

    let unknown =
        emu.post_json(&format!("/v1.0/groups/{G2}/owners/$ref"), &t, &link("10000000-0000-4000-8000-000000009999"));
    assert_eq!(unknown.status, 404);
    assert_eq!(emu.post_json(&format!("/v1.0/groups/{G2}/owners/$ref"), &t, &link(ERIN)).status, 204);

    let stats = emu.get("/_emulator/stats", &t).body;
    let log: Vec<&str> = stats["write_log"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(log.len(), 7, "{log:?}");
    assert_eq!(stats["writes"], 3, "add, remove, owner add changed state; the rest did not");

    let before: Vec<String> = crate::common::emulator::contoso_json()["groups"][1]["owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(emu.post_json("/_emulator/reset", &t, &json!({})).status, 200);
    let owners: Vec<String> = emu
        .walk(&format!("/v1.0/groups/{G2}/owners"), &t, &[])
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(owners, before, "reset restores the tenant as served at start");
    assert_eq!(emu.get("/_emulator/stats", &t).body["writes"], 0);
    let state = emu.get("/_emulator/tenant", &t).body;
    assert_eq!(state["groups"][1]["owners"], json!(before), "the state endpoint speaks the tenant-file format");
}

#[test]
fn synced_dynamic_and_unpermitted_membership_writes_are_refused() {
    let emu = Emu::contoso();
    let t = writer(&emu, GRAPH_SCOPE);
    let synced = emu.post_json("/v1.0/groups/20000000-0000-4000-8000-000000000006/members/$ref", &t, &link(ERIN));
    assert_eq!(synced.status, 400);
    assert!(synced.body["error"]["message"].as_str().unwrap().contains("on-premises mastered"));
    let dynamic = emu.post_json("/v1.0/groups/20000000-0000-4000-8000-000000000005/members/$ref", &t, &link(ERIN));
    assert_eq!(dynamic.status, 400);
    let reader = emu.reader(GRAPH_SCOPE);
    let denied = emu.post_json(&format!("/v1.0/groups/{G2}/members/$ref"), &reader, &link(ERIN));
    assert_eq!((denied.status, denied.code()), (403, "Authorization_RequestDenied"));
    // The role-assignable group takes the write: the writer also holds RoleManagement.ReadWrite.Directory.
    let tier0 = emu.post_json("/v1.0/groups/20000000-0000-4000-8000-000000000007/members/$ref", &t, &link(ERIN));
    assert_eq!(tier0.status, 204);
}

#[test]
fn app_role_grant_and_revoke() {
    let emu = Emu::contoso();
    let t = writer(&emu, GRAPH_SCOPE);
    let room = "10000000-0000-4000-8000-000000000009";
    let admin_role = "90000000-0000-4000-8000-000000000002";
    let body = json!({"principalId": room, "resourceId": PAYROLL, "appRoleId": admin_role});
    let r = emu.post_json(&format!("/v1.0/servicePrincipals/{PAYROLL}/appRoleAssignedTo"), &t, &body);
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["principalType"], "User");
    let listed = emu.walk(&format!("/v1.0/servicePrincipals/{PAYROLL}/appRoleAssignedTo"), &t, &[]);
    assert!(listed.iter().any(|a| a["id"] == id.as_str()));
    let dup = emu.post_json(&format!("/v1.0/servicePrincipals/{PAYROLL}/appRoleAssignedTo"), &t, &body);
    assert_eq!(dup.status, 400);
    assert!(dup.body["error"]["message"].as_str().unwrap().contains("already exists"));
    let bad = json!({"principalId": room, "resourceId": PAYROLL, "appRoleId": "90000000-0000-4000-8000-0000000000ff"});
    let r = emu.post_json(&format!("/v1.0/servicePrincipals/{PAYROLL}/appRoleAssignedTo"), &t, &bad);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("was not found on application"));
    assert_eq!(emu.delete(&format!("/v1.0/servicePrincipals/{PAYROLL}/appRoleAssignedTo/{id}"), &t).status, 204);
    assert_eq!(emu.delete(&format!("/v1.0/servicePrincipals/{PAYROLL}/appRoleAssignedTo/{id}"), &t).status, 404);
}

#[test]
fn directory_role_assignment_add_and_remove() {
    let emu = Emu::contoso();
    let t = writer(&emu, GRAPH_SCOPE);
    let body = json!({
        "@odata.type": "#microsoft.graph.unifiedRoleAssignment",
        "roleDefinitionId": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "principalId": ERIN,
        "directoryScopeId": "/",
    });
    let r = emu.post_json("/v1.0/roleManagement/directory/roleAssignments", &t, &body);
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let dup = emu.post_json("/v1.0/roleManagement/directory/roleAssignments", &t, &body);
    assert_eq!(dup.status, 400);
    assert!(dup.body["error"]["message"].as_str().unwrap().contains("conflicting object"));
    let not_role_assignable =
        json!({"roleDefinitionId": "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "principalId": G2, "directoryScopeId": "/"});
    assert_eq!(emu.post_json("/v1.0/roleManagement/directory/roleAssignments", &t, &not_role_assignable).status, 400);
    assert_eq!(emu.delete(&format!("/v1.0/roleManagement/directory/roleAssignments/{id}"), &t).status, 204);
    assert_eq!(emu.delete(&format!("/v1.0/roleManagement/directory/roleAssignments/{id}"), &t).status, 404);
}

#[test]
fn azure_role_assignment_put_and_delete() {
    let emu = Emu::contoso();
    let t = writer(&emu, ARM_SCOPE);
    let name = "0a0b0c0d-0000-4000-8000-000000000001";
    let url = format!(
        "/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"
    );
    let body = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"),
        "principalId": ERIN, "principalType": "User"}});
    let r = emu.put_json(&url, &t, &body);
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["properties"]["scope"], format!("/subscriptions/{SUB1}"));
    assert_eq!(emu.put_json(&url, &t, &body).status, 200, "re-PUT of the same assignment");
    let other_name = url.replace("000000000001?", "000000000002?");
    let r = emu.put_json(&other_name, &t, &body);
    assert_eq!((r.status, r.code()), (409, "RoleAssignmentExists"));
    let changed = json!({"properties": {"roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"), "principalId": ERIN}});
    assert_eq!(emu.put_json(&url, &t, &changed).code(), "RoleAssignmentUpdateNotPermitted");
    let ghost = json!({"properties": {"roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"), "principalId": "99999999-0000-4000-8000-00000000beef"}});
    assert_eq!(emu.put_json(&other_name, &t, &ghost).code(), "PrincipalNotFound");
    let reader = emu.reader(ARM_SCOPE);
    assert_eq!(emu.put_json(&other_name, &reader, &body).code(), "AuthorizationFailed");

    let listed = emu.walk(&format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId eq '{ERIN}'"), &t, &[]);
    assert!(listed.iter().any(|a| a["name"] == name));
    let del = emu.delete(&url, &t);
    assert_eq!(del.status, 200);
    assert_eq!(del.body["name"], name);
    assert_eq!(emu.delete(&url, &t).status, 204, "deleting what is gone is a no-op");
}

#[test]
fn writes_are_in_the_directory_audit_log_and_pim_for_groups_requests_change_schedules() {
    let emu = Emu::contoso();
    let reader = emu.reader(GRAPH_SCOPE);
    let audits = "/v1.0/auditLogs/directoryAudits";
    let denied = emu.get(audits, &reader);
    assert_eq!(denied.status, 403, "the audit log needs Directory.Read.All beside AuditLog.Read.All");

    let mut tenant = crate::common::emulator::tenant_file(&crate::common::emulator::contoso_path());
    tenant.apps[0].graph_permissions.push("Directory.Read.All".to_owned());
    tenant.apps[1].graph_permissions.push("PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup".to_owned());
    let emu = Emu::serve(tenant, azsnap_emulator::EmulatorOptions::default());
    let reader = emu.reader(GRAPH_SCOPE);
    let t = writer(&emu, GRAPH_SCOPE);
    assert!(emu.get(audits, &reader).body["value"].as_array().unwrap().is_empty(), "nothing written yet");
    assert_eq!(emu.post_json(&format!("/v1.0/groups/{G2}/members/$ref"), &t, &link(ERIN)).status, 204);
    let requests = "/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleRequests";
    let assign = json!({"accessId": "member", "principalId": ERIN, "groupId": G2, "action": "adminAssign",
        "scheduleInfo": {"expiration": {"type": "noExpiration"}}, "justification": "on call"});
    let r = emu.post_json(requests, &t, &assign);
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["status"], "Provisioned");
    let again = emu.post_json(requests, &t, &assign);
    assert_eq!((again.status, again.code()), (400, "RoleAssignmentExists"));
    let instances = format!(
        "/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=groupId eq '{G2}'"
    );
    let eligible = |emu: &Emu| {
        emu.get(&instances, &reader).body["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["principalId"] == ERIN && s["accessId"] == "member")
    };
    assert!(eligible(&emu), "the new eligibility is an instance now");

    let log = emu.get(audits, &reader).body;
    let entries = log["value"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "one entry per change, refusals not logged: {log}");
    let newest = &entries[0];
    assert_eq!(newest["loggedByService"], "PIM", "newest first");
    assert_eq!(newest["category"], "GroupManagement");
    assert_eq!(newest["result"], "success");
    assert_eq!(newest["initiatedBy"]["app"]["appId"], WRITER);
    let targets: Vec<(&str, &str)> = newest["targetResources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["type"].as_str().unwrap()))
        .collect();
    assert_eq!(targets, [(G2, "Group"), (ERIN, "User")]);
    assert_eq!(entries[1]["activityDisplayName"], "Add member to group");
    assert!(newest["activityDateTime"].as_str().unwrap().parse::<azsnap_model::Timestamp>().is_ok());

    let pim = emu.get(&format!("{audits}?$filter=loggedByService eq 'PIM'"), &reader).body;
    assert_eq!(pim["value"].as_array().unwrap().len(), 1, "{pim}");
    let later = emu.get(&format!("{audits}?$filter=activityDateTime ge 2999-01-01T00:00:00Z"), &reader).body;
    assert!(later["value"].as_array().unwrap().is_empty(), "{later}");
    let since = emu.get(&format!("{audits}?$filter=activityDateTime ge 2000-01-01T00:00:00Z&$top=1"), &reader).body;
    assert_eq!(since["value"].as_array().unwrap().len(), 1);
    assert!(since["@odata.nextLink"].is_string(), "pages of $top");

    let remove = json!({"accessId": "member", "principalId": ERIN, "groupId": G2, "action": "adminRemove"});
    assert_eq!(emu.post_json(requests, &t, &remove).status, 201);
    assert!(!eligible(&emu), "removed");
    let none = emu.post_json(requests, &t, &remove);
    assert_eq!((none.status, none.code()), (400, "RoleAssignmentDoesNotExist"));
    let active = "/v1.0/identityGovernance/privilegedAccess/group/assignmentScheduleRequests";
    assert_eq!(emu.post_json(active, &t, &assign).status, 403, "assignments need their own permission");

    // The log is part of the tenant's state: exported and served again, its history is still there.
    let state = serde_json::from_value(emu.get_public("/_emulator/tenant").body).unwrap();
    let again = Emu::serve(state, azsnap_emulator::EmulatorOptions::default());
    let (then, now) = (emu.get(audits, &reader).body, again.get(audits, &again.reader(GRAPH_SCOPE)).body);
    assert_eq!(now["value"].as_array().map(Vec::len), Some(3), "{now}");
    assert_eq!(now["value"], then["value"]);
}
