//! Graph reads against the contoso tenant file: paging, `$select`, `$filter`, licenses, mailboxes, permissions.

use std::collections::{BTreeSet, HashSet};

use azsnap_emulator::{EmulatorOptions, License};
use serde_json::Value;

use crate::common::emulator::{Emu, GRAPH_SCOPE, contoso_json, contoso_path};

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

fn file_ids(section: &str) -> Vec<String> {
    contoso_json()[section].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

const EVENTUAL: &[(&str, &str)] = &[("ConsistencyLevel", "eventual")];

#[test]
fn paging_returns_every_object_exactly_once_for_any_page_size() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    for (path, section) in
        [("/v1.0/users", "users"), ("/v1.0/groups", "groups"), ("/v1.0/servicePrincipals", "servicePrincipals")]
    {
        for top in [1, 2, 999] {
            let walked = ids(&emu.walk(&format!("{path}?$top={top}"), &t, &[]));
            assert_eq!(walked, file_ids(section), "{path} with $top={top}");
        }
    }
    // Default page size is 100: one page for contoso, no nextLink.
    let r = emu.get("/v1.0/users", &t);
    assert!(r.body.get("@odata.nextLink").is_none());
}

#[test]
fn members_owners_and_transitive_members_match_the_file() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let file = contoso_json();
    let groups = file["groups"].as_array().unwrap();
    let strings = |v: &Value| v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_owned()).collect::<Vec<_>>();
    for g in groups {
        let id = g["id"].as_str().unwrap();
        for top in [1, 999] {
            assert_eq!(
                ids(&emu.walk(&format!("/v1.0/groups/{id}/members?$top={top}"), &t, &[])),
                strings(&g["members"])
            );
            assert_eq!(ids(&emu.walk(&format!("/v1.0/groups/{id}/owners?$top={top}"), &t, &[])), strings(&g["owners"]));
        }
        // The closure computed here from the file, not by the emulator.
        let mut expected = BTreeSet::new();
        let mut stack = strings(&g["members"]);
        while let Some(m) = stack.pop() {
            if expected.insert(m.clone())
                && let Some(nested) = groups.iter().find(|x| x["id"] == m.as_str())
            {
                stack.extend(strings(&nested["members"]));
            }
        }
        let walked: Vec<String> = ids(&emu.walk(&format!("/v1.0/groups/{id}/transitiveMembers?$top=2"), &t, &[]));
        let unique: BTreeSet<String> = walked.iter().cloned().collect();
        assert_eq!(unique.len(), walked.len(), "each transitive member once");
        assert_eq!(unique, expected, "transitive members of {id}");
    }
}

#[test]
fn casts_return_one_type_without_odata_type() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let g2 = "20000000-0000-4000-8000-000000000002";
    let mixed = emu.get(&format!("/v1.0/groups/{g2}/members"), &t);
    assert!(mixed.body["value"].as_array().unwrap().iter().all(|m| m["@odata.type"].is_string()));
    let users = emu.walk(&format!("/v1.0/groups/{g2}/members/microsoft.graph.user"), &t, &[]);
    assert_eq!(ids(&users), vec!["10000000-0000-4000-8000-000000000002", "10000000-0000-4000-8000-000000000015"]);
    assert!(users.iter().all(|u| u.get("@odata.type").is_none()));
    let groups = emu.walk(&format!("/v1.0/groups/{g2}/transitiveMembers/microsoft.graph.group"), &t, &[]);
    assert_eq!(ids(&groups).into_iter().collect::<HashSet<_>>().len(), 2);
}

#[test]
fn select_returns_only_what_was_asked_plus_id() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let r = emu.get("/v1.0/users?$select=displayName,accountEnabled", &t);
    for u in r.body["value"].as_array().unwrap() {
        let keys: BTreeSet<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["id", "displayName", "accountEnabled"]));
    }
    let r = emu.get("/v1.0/users?$select=displayName,favouriteColour", &t);
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    // Without $select: the default property set, nothing more.
    let r = emu.get("/v1.0/users?$top=1", &t);
    let u = &r.body["value"][0];
    assert!(u.get("businessPhones").is_some() && u.get("accountEnabled").is_none(), "{u}");
}

#[test]
fn top_limits_are_enforced() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    for bad in ["0", "1000", "x"] {
        assert_eq!(emu.get(&format!("/v1.0/users?$top={bad}"), &t).status, 400, "$top={bad}");
    }
    assert_eq!(emu.get("/v1.0/users?$select=signInActivity&$top=600", &t).status, 400);
    assert_eq!(emu.get("/v1.0/users?$select=signInActivity&$top=500", &t).status, 200);
    let r = emu.get("/v1.0/users?$skiptoken=forged", &t);
    assert_eq!(r.status, 400);
}

#[test]
fn sign_in_activity_needs_a_premium_license() {
    let free = Emu::with(EmulatorOptions { license: Some(License::Free), ..EmulatorOptions::default() });
    let t = free.reader(GRAPH_SCOPE);
    let r = free.get("/v1.0/users?$select=id,signInActivity", &t);
    assert_eq!((r.status, r.code()), (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant"));
    assert_eq!(free.get("/v1.0/users?$select=id,displayName", &t).status, 200, "other users reads still work");

    let p1 = Emu::with(EmulatorOptions { license: Some(License::P1), ..EmulatorOptions::default() });
    let t = p1.reader(GRAPH_SCOPE);
    let users = p1.walk("/v1.0/users?$select=id,signInActivity&$top=500", &t, &[]);
    let file = contoso_json();
    for (served, truth) in users.iter().zip(file["users"].as_array().unwrap()) {
        let want = truth["signInActivity"]["lastSignInDateTime"].clone();
        assert_eq!(served["signInActivity"]["lastSignInDateTime"], want, "{}", truth["id"]);
    }
}

#[test]
fn pim_needs_p2() {
    let p1 = Emu::with(EmulatorOptions { license: Some(License::P1), ..EmulatorOptions::default() });
    let t = p1.reader(GRAPH_SCOPE);
    let g7 = "20000000-0000-4000-8000-000000000007";
    for path in [
        "/v1.0/roleManagement/directory/roleEligibilitySchedules".to_owned(),
        "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances".to_owned(),
        "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances".to_owned(),
        format!(
            "/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=groupId eq '{g7}'"
        ),
    ] {
        let r = p1.get(&path, &t);
        assert_eq!((r.status, r.code()), (400, "AadPremiumLicenseRequired"), "{path}");
    }
    assert_eq!(p1.get("/v1.0/roleManagement/directory/roleAssignments", &t).status, 200, "active roles need no P2");

    let p2 = Emu::contoso();
    let t = p2.reader(GRAPH_SCOPE);
    let file = contoso_json();
    let eligible = p2.walk("/v1.0/roleManagement/directory/roleEligibilityScheduleInstances", &t, &[]);
    let want: BTreeSet<String> = file["directoryRoleEligibilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e["principalId"].as_str().unwrap(), e["roleDefinitionId"].as_str().unwrap()))
        .collect();
    let got: BTreeSet<String> = eligible
        .iter()
        .map(|e| format!("{}:{}", e["principalId"].as_str().unwrap(), e["roleDefinitionId"].as_str().unwrap()))
        .collect();
    assert_eq!(got, want);
    let r = p2.get("/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances", &t);
    assert_eq!(r.status, 400, "the groupId/principalId filter is required");
    let items = p2.walk(
        &format!(
            "/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=groupId eq '{g7}'"
        ),
        &t,
        &[],
    );
    let access: BTreeSet<&str> = items.iter().map(|i| i["accessId"].as_str().unwrap()).collect();
    assert_eq!(access, BTreeSet::from(["member", "owner"]));
}

#[test]
fn mailbox_purpose_or_404_for_every_user() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    for u in contoso_json()["users"].as_array().unwrap() {
        let id = u["id"].as_str().unwrap();
        let r = emu.get(&format!("/v1.0/users/{id}/mailboxSettings/userPurpose"), &t);
        match u["mailbox"].as_str() {
            Some(purpose) => {
                assert_eq!(r.status, 200, "{id}");
                assert_eq!(r.body["value"], purpose);
                let all = emu.get(&format!("/v1.0/users/{id}/mailboxSettings?$select=userPurpose"), &t);
                assert_eq!(all.body["userPurpose"], purpose);
            }
            None => assert_eq!((r.status, r.code()), (404, "MailboxNotEnabledForRESTAPI"), "{id}"),
        }
    }
}

#[test]
fn advanced_queries_need_consistency_level_and_count() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let path = "/v1.0/users?$filter=onPremisesSyncEnabled eq true&$count=true";
    let r = emu.get(path, &t);
    assert_eq!((r.status, r.code()), (400, "Request_UnsupportedQuery"));
    let r = emu.get("/v1.0/users?$filter=onPremisesSyncEnabled eq true", &t);
    assert_eq!(r.status, 400, "header alone is not enough without $count");
    let r = emu.get_with(path, &t, EVENTUAL);
    assert_eq!(r.status, 200);
    let want: Vec<String> = contoso_json()["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["onPremisesSyncEnabled"] == true)
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids(r.body["value"].as_array().unwrap()), want);
    assert_eq!(r.body["@odata.count"], want.len());
    let r = emu.get_with("/v1.0/groups?$filter=onPremisesSyncEnabled ne true&$count=true", &t, EVENTUAL);
    assert_eq!(r.body["@odata.count"].as_u64(), Some(file_ids("groups").len() as u64 - 1));
    assert_eq!(
        emu.get("/v1.0/users?$count=true", &t).status,
        400,
        "$count needs ConsistencyLevel on directory objects"
    );
}

#[test]
fn simple_filters_and_unsupported_queries() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let mis = emu.walk("/v1.0/servicePrincipals?$filter=servicePrincipalType eq 'ManagedIdentity'", &t, &[]);
    assert_eq!(ids(&mis), vec!["30000000-0000-4000-8000-000000000006", "30000000-0000-4000-8000-000000000007"]);
    let m365 = emu.walk("/v1.0/groups?$filter=groupTypes/any(c:c eq 'Unified')", &t, &[]);
    assert_eq!(ids(&m365), vec!["20000000-0000-4000-8000-000000000001"]);
    for bad in [
        "/v1.0/users?$orderby=displayName",
        "/v1.0/users?$search=\"displayName:a\"",
        "/v1.0/users?$filter=startswith(displayName,'A')",
        "/v1.0/users?$filter=jobTitle eq 'x'",
    ] {
        let r = emu.get(bad, &t);
        assert_eq!((r.status, r.code()), (400, "Request_UnsupportedQuery"), "{bad}");
    }
    assert_eq!(emu.get("/v1.0/users?unknownParam=1", &t).status, 200, "parameters without $ are ignored");
    let r = emu.get("/v1.0/users/not-a-guid", &t);
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    let r = emu.get("/v1.0/users/10000000-0000-4000-8000-000000009999", &t);
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));
}

#[test]
fn app_role_assignments_roles_and_grants_match_the_file() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let file = contoso_json();
    let payroll = "30000000-0000-4000-8000-000000000003";
    let want: Vec<String> = file["appRoleAssignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["resourceId"] == payroll)
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids(&emu.walk(&format!("/v1.0/servicePrincipals/{payroll}/appRoleAssignedTo?$top=2"), &t, &[])), want);
    let by_app_id = emu.get("/v1.0/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')", &t);
    assert_eq!(by_app_id.body["displayName"], "Microsoft Graph");

    let alice = "10000000-0000-4000-8000-000000000001";
    let r =
        emu.walk(&format!("/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{alice}'"), &t, &[]);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["roleDefinitionId"], "62e90394-69f5-4237-9190-012177145e10");
    let roles = emu.walk("/v1.0/directoryRoles", &t, &[]);
    let templates: BTreeSet<&str> = roles.iter().map(|r| r["roleTemplateId"].as_str().unwrap()).collect();
    assert!(templates.contains("62e90394-69f5-4237-9190-012177145e10"));
    assert!(!templates.contains("e8611ab8-c189-46e8-94e1-60213ab1f814"), "eligible-only roles are not activated");
    let members =
        emu.walk("/v1.0/directoryRoles(roleTemplateId='62e90394-69f5-4237-9190-012177145e10')/members", &t, &[]);
    assert_eq!(ids(&members), vec![alice]);

    let grants = emu.walk("/v1.0/oauth2PermissionGrants", &t, &[]);
    assert_eq!(ids(&grants), file_ids("oauth2PermissionGrants"));
    assert_eq!(grants[1]["scope"], " Mail.Read User.Read ", "scopes are served verbatim, spaces included");
}

#[test]
fn missing_permission_is_403_for_that_area_only() {
    let mut tenant = crate::common::emulator::tenant_file(&contoso_path());
    tenant.apps[0].graph_permissions.retain(|p| p != "User.Read.All");
    let emu = Emu::serve(tenant, EmulatorOptions::default());
    let t = emu.reader(GRAPH_SCOPE);
    let r = emu.get("/v1.0/users", &t);
    assert_eq!((r.status, r.code()), (403, "Authorization_RequestDenied"));
    assert_eq!(emu.get("/v1.0/groups", &t).status, 200);
}

#[test]
fn get_by_ids_returns_typed_objects_and_json_content_type() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let body = serde_json::json!({"ids": [
        "10000000-0000-4000-8000-000000000001",
        "20000000-0000-4000-8000-000000000007",
        "30000000-0000-4000-8000-000000000005",
        "99999999-0000-4000-8000-000000000001"
    ]});
    let r = emu.post_json("/v1.0/directoryObjects/getByIds", &t, &body);
    assert_eq!(r.status, 403, "getByIds needs Directory.Read.All, which the reader does not hold");
    let mut tenant = crate::common::emulator::tenant_file(&contoso_path());
    tenant.apps[0].graph_permissions.push("Directory.Read.All".to_owned());
    let emu = Emu::serve(tenant, EmulatorOptions::default());
    let t = emu.reader(GRAPH_SCOPE);
    let r = emu.post_json("/v1.0/directoryObjects/getByIds", &t, &body);
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    let types: Vec<&str> =
        r.body["value"].as_array().unwrap().iter().map(|o| o["@odata.type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        vec!["#microsoft.graph.user", "#microsoft.graph.group", "#microsoft.graph.servicePrincipal"],
        "unknown ids are left out"
    );
}

#[test]
fn transitive_member_of_is_the_inverse_of_transitive_members() {
    // An app in a nested group: uami-deploy's SP is in Storage Readers; put Storage Readers inside Platform Core.
    let mut tenant = crate::common::emulator::tenant_file(&contoso_path());
    let readers = "20000000-0000-4000-8000-000000000008".parse().unwrap();
    tenant.groups[2].members.push(readers);
    let emu = Emu::serve(tenant, EmulatorOptions::default());
    let t = emu.reader(GRAPH_SCOPE);
    let groups: Vec<String> =
        contoso_json()["groups"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap().to_owned()).collect();
    for (kind, id) in [
        ("servicePrincipals", "30000000-0000-4000-8000-000000000007"),
        ("users", "10000000-0000-4000-8000-000000000014"),
        ("users", "10000000-0000-4000-8000-000000000005"),
    ] {
        // Expected from the other direction: every group whose transitive members include the object.
        let expected: BTreeSet<String> = groups
            .iter()
            .filter(|g| {
                ids(&emu.walk(&format!("/v1.0/groups/{g}/transitiveMembers"), &t, &[])).contains(&id.to_owned())
            })
            .cloned()
            .collect();
        let walked = ids(&emu.walk(&format!("/v1.0/{kind}/{id}/transitiveMemberOf?$top=1"), &t, &[]));
        let got: BTreeSet<String> = walked.iter().filter(|g| groups.contains(g)).cloned().collect();
        assert!(!got.is_empty(), "{id} is in groups");
        assert_eq!(got, expected, "{kind}/{id}");
    }
    assert_eq!(
        emu.get("/v1.0/servicePrincipals/10000000-0000-4000-8000-000000000001/transitiveMemberOf", &t,).status,
        404
    );
}
