//! Conformance with Microsoft's own example payloads (`../shared/reference`): for each example answering a request
//! the emulator serves, the emulator's answer has every field the example shows, with the same JSON type and
//! nesting, in the same envelope. Values may differ. Skipped, with a notice, when the reference corpus is absent.

use std::path::PathBuf;

use azsnap_emulator::EmulatorOptions;
use serde_json::Value;

use crate::common::emulator::{ARM_SCOPE, Emu, GRAPH_SCOPE, READER, READER_SECRET};

fn reference_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference");
    if dir.join("INDEX.md").exists() {
        Some(dir)
    } else {
        crate::common::notice(&format!(
            "{} is absent; conformance with Microsoft's examples not checked",
            dir.display()
        ));
        None
    }
}

/// Reads an example, tolerating the trailing commas of the `.jsonc` files.
fn load(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut cleaned = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut in_string = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            cleaned.push(c);
            if c == '\\' {
                if let Some(n) = chars.get(i + 1) {
                    cleaned.push(*n);
                }
                i += 2;
                continue;
            }
            if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            cleaned.push(c);
        } else if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if !matches!(next, Some('}') | Some(']')) {
                cleaned.push(c);
            }
        } else {
            cleaned.push(c);
        }
        i += 1;
    }
    serde_json::from_str(&cleaned).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Keys whose values are free-form maps (user data, not schema): only their type is compared.
const FREE_FORM: &[&str] = &["tags"];
/// Keys that only appear when there is a next page.
const PAGING: &[&str] = &["@odata.nextLink", "nextLink"];

/// Every place where `ours` lacks a field of `example`, or has it with another JSON type.
fn shape_diff(example: &Value, ours: &Value, path: &str, out: &mut Vec<String>) {
    match (example, ours) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(e), Value::Object(o)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match o.get(k) {
                    Some(ov) if ev.is_object() && FREE_FORM.contains(&k.as_str()) => {
                        if !ov.is_object() && !ov.is_null() {
                            out.push(format!("{p}: not an object"));
                        }
                    }
                    Some(ov) => shape_diff(ev, ov, &p, out),
                    None if PAGING.contains(&k.as_str()) => {}
                    None => out.push(format!("{p}: missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(o)) => {
            // The example's first element against whichever of ours is closest (fewest differences).
            if let Some(first) = e.first() {
                if o.is_empty() {
                    out.push(format!("{path}[]: ours is empty, cannot compare element shape"));
                    return;
                }
                let best = o
                    .iter()
                    .map(|item| {
                        let mut d = Vec::new();
                        shape_diff(first, item, &format!("{path}[]"), &mut d);
                        d
                    })
                    .min_by_key(Vec::len)
                    .unwrap_or_default();
                out.extend(best);
            }
        }
        (e, o) if std::mem::discriminant(e) == std::mem::discriminant(o) => {}
        (e, o) => out.push(format!("{path}: example is {}, ours is {}", kind(e), kind(o))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

const SUB1: &str = "50000000-0000-4000-8000-000000000001";
const SUB2: &str = "50000000-0000-4000-8000-000000000002";

/// (example file under reference/, request path, token scope, fields to ignore because the example is known wrong).
fn graph_cases() -> Vec<(&'static str, String, &'static [&'static str])> {
    let g2 = "20000000-0000-4000-8000-000000000002";
    let g7 = "20000000-0000-4000-8000-000000000007";
    let alice = "10000000-0000-4000-8000-000000000001";
    let payroll = "30000000-0000-4000-8000-000000000003";
    vec![
        ("graph-docs/v1.0/user-list.get_users_2.response.json", "/v1.0/users".into(), &[]),
        ("graph-docs/v1.0/user-list.get_users_signin_last_time.response.json", "/v1.0/users?$select=displayName,userPrincipalName,signInActivity".into(), &[]),
        ("graph-docs/v1.0/user-get-mailboxsettings.get_mailboxsettings_4.response.json", format!("/v1.0/users/{alice}/mailboxSettings/userPurpose"), &[]),
        // This doc revision shows userPurpose as an object; the live service returns a string (see INDEX.md).
        ("graph-docs/v1.0/user-get-mailboxsettings.get_mailboxsettings_1.response.json", format!("/v1.0/users/{alice}/mailboxSettings"), &["$.userPurpose"]),
        ("graph-docs/v1.0/group-list.get_groups.response.json", "/v1.0/groups".into(), &[]),
        ("graph-docs/v1.0/group-list-transitivemembers.get_group_transitivemembers.response.json", format!("/v1.0/groups/{g2}/transitiveMembers"), &[]),
        ("graph-docs/beta/group-list-members.get_group_members.response.json", format!("/beta/groups/{g2}/members"), &[]),
        ("graph-docs/v1.0/serviceprincipal-list.list_serviceprincipal.response.json", "/v1.0/servicePrincipals".into(), &[]),
        ("graph-docs/v1.0/serviceprincipal-list-approleassignedto.serviceprincipal_get_approleassignedto.response.json", format!("/v1.0/servicePrincipals/{payroll}/appRoleAssignedTo"), &[]),
        ("graph-docs/v1.0/rbacapplication-list-roleassignments.get_roleAssignments_2.response.json", format!("/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{alice}'"), &[]),
        ("graph-docs/v1.0/rbacapplication-list-roleeligibilityschedules.list_unifiedroleeligibilityschedule.response.json", "/v1.0/roleManagement/directory/roleEligibilitySchedules".into(), &[]),
        ("graph-docs/v1.0/rbacapplication-list-roleeligibilityscheduleinstances.list_unifiedroleeligibilityscheduleinstance.response.json", "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances".into(), &[]),
        ("graph-docs/v1.0/rbacapplication-list-roleassignmentscheduleinstances.list_unifiedroleassignmentscheduleinstance.response.json", "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances".into(), &[]),
        ("graph-docs/v1.0/privilegedaccessgroup-list-eligibilityscheduleinstances.list_privilegedaccessgroupeligibilityscheduleinstance.response.jsonc", format!("/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=groupId eq '{g7}'"), &[]),
        ("graph-docs/v1.0/oauth2permissiongrant-list.list_oauth2permissiongrants.response.json", "/v1.0/oauth2PermissionGrants".into(), &[]),
        ("graph-docs/v1.0/organization-list.get_organization_2.response.json", "/v1.0/organization".into(), &[]),
        ("graph-docs/v1.0/serviceprincipal-get.get_serviceprincipal_select.response.json", "/v1.0/servicePrincipals/30000000-0000-4000-8000-000000000005?$select=id,appId,displayName,appRoles,oauth2PermissionScopes".into(), &[]),
    ]
}

fn arm_cases() -> Vec<(&'static str, String)> {
    let spec = "azure-rest-api-specs/specification";
    let authz = format!("{spec}/authorization/resource-manager/Microsoft.Authorization");
    let grace = "10000000-0000-4000-8000-000000000012";
    let bob = "10000000-0000-4000-8000-000000000002";
    vec![
        (Box::leak(format!("{authz}/stable/2022-04-01/examples/RoleAssignments_ListForScope.json").into_boxed_str()), format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01")),
        (Box::leak(format!("{authz}/stable/2022-04-01/examples/RoleAssignments_ListForResourceGroup.json").into_boxed_str()), format!("/subscriptions/{SUB1}/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01")),
        (Box::leak(format!("{authz}/stable/2020-10-01/examples/GetRoleEligibilityScheduleInstancesByScope.json").into_boxed_str()), format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances?$filter=assignedTo('{grace}')&api-version=2020-10-01")),
        (Box::leak(format!("{authz}/stable/2020-10-01/examples/GetRoleAssignmentScheduleInstancesByScope.json").into_boxed_str()), format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleAssignmentScheduleInstances?$filter=assignedTo('{bob}')&api-version=2020-10-01")),
        (Box::leak(format!("{authz}/preview/2018-01-01-preview/examples/GetRoleDefinitionAtScope.json").into_boxed_str()), format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01")),
        (Box::leak(format!("{spec}/resources/resource-manager/Microsoft.Resources/stable/2022-12-01/examples/GetSubscriptions.json").into_boxed_str()), "/subscriptions?api-version=2022-12-01".into()),
        (Box::leak(format!("{spec}/resources/resource-manager/Microsoft.Resources/resources/examples/2025-04-01/ResourceGroups_Get.json").into_boxed_str()), format!("/subscriptions/{SUB1}/resourcegroups/rg-data?api-version=2025-04-01")),
        (Box::leak(format!("{spec}/storage/resource-manager/Microsoft.Storage/stable/2023-05-01/examples/BlobContainersList.json").into_boxed_str()), format!("/subscriptions/{SUB1}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stcontosodata/blobServices/default/containers?api-version=2023-05-01")),
        (Box::leak(format!("{spec}/storage/resource-manager/Microsoft.Storage/stable/2023-05-01/examples/StorageAccountList.json").into_boxed_str()), format!("/subscriptions/{SUB1}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01")),
        (Box::leak(format!("{spec}/msi/resource-manager/Microsoft.ManagedIdentity/stable/2023-01-31/examples/IdentityListBySubscription.json").into_boxed_str()), format!("/subscriptions/{SUB2}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31")),
    ]
}

fn check(problems: &mut Vec<String>, file: &str, example: &Value, ours: &Value, ignore: &[&str]) {
    let mut diff = Vec::new();
    shape_diff(example, ours, "$", &mut diff);
    diff.retain(|d| !ignore.iter().any(|i| d.starts_with(i)));
    problems.extend(diff.into_iter().map(|d| format!("{file}: {d}")));
}

#[test]
fn graph_answers_have_the_shape_of_microsofts_examples() {
    let Some(dir) = reference_dir() else { return };
    let emu = Emu::with(EmulatorOptions { arm_page_size: 1, ..EmulatorOptions::default() });
    let t = emu.reader(GRAPH_SCOPE);
    let mut problems = Vec::new();
    for (file, path, ignore) in graph_cases() {
        let example = load(&dir.join(file));
        let r = emu.get(&path, &t);
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        check(&mut problems, file, &example, &r.body, ignore);
    }
    assert!(problems.is_empty(), "shape differences:\n{}", problems.join("\n"));
}

#[test]
fn arm_answers_have_the_shape_of_microsofts_examples() {
    let Some(dir) = reference_dir() else { return };
    let emu = Emu::contoso();
    let t = emu.reader(ARM_SCOPE);
    let mut problems = Vec::new();
    for (file, path) in arm_cases() {
        let example = load(&dir.join(file));
        let body = &example["responses"]["200"]["body"];
        let r = emu.get(&path, &t);
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        check(&mut problems, file, body, &r.body, &[]);
    }
    assert!(problems.is_empty(), "shape differences:\n{}", problems.join("\n"));
}

#[test]
fn token_answers_have_the_shape_of_microsofts_examples() {
    let Some(dir) = reference_dir() else { return };
    let emu = Emu::contoso();
    let mut problems = Vec::new();
    let ok = load(&dir.join("entra-docs/identity-platform/v2-oauth2-client-creds-grant-flow.success-response.json"));
    check(&mut problems, "success-response", &ok, &emu.token(READER, READER_SECRET, GRAPH_SCOPE).body, &[]);
    let err = load(&dir.join("entra-docs/identity-platform/v2-oauth2-client-creds-grant-flow.error-response.json"));
    let bad = emu.token(READER, READER_SECRET, "https://foo.microsoft.com/.default");
    assert_eq!(bad.status, 400);
    check(&mut problems, "error-response", &err, &bad.body, &[]);
    assert!(problems.is_empty(), "shape differences:\n{}", problems.join("\n"));
}

#[test]
fn batch_answers_have_the_shape_of_microsofts_example() {
    let Some(dir) = reference_dir() else { return };
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    // Microsoft's own request is accepted as a batch; its /me items fail on their own, as app-only calls do.
    let request = load(&dir.join("graph-docs/concepts/json-batching.example-request.json"));
    let r = emu.post_json("/v1.0/$batch", &t, &request);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["responses"].as_array().map(Vec::len), Some(5));

    let example = load(&dir.join("graph-docs/concepts/json-batching.example-response.json"));
    let ours = serde_json::json!({"requests": [
        {"id": "1", "method": "GET", "url": "/users/10000000-0000-4000-8000-000000000001/memberOf"},
        {"id": "2", "method": "GET", "url": "/users/10000000-0000-4000-8000-000000000006/mailboxSettings/userPurpose"},
        {"id": "3", "method": "DELETE", "url": "/groups/20000000-0000-4000-8000-000000000002/members/10000000-0000-4000-8000-000000000002/$ref"},
    ]});
    let r = emu.post_json("/v1.0/$batch", &t, &ours);
    let mut problems = Vec::new();
    check(&mut problems, "json-batching.example-response.json", &example, &r.body, &[]);
    assert!(problems.is_empty(), "shape differences:\n{}", problems.join("\n"));
}

#[test]
fn delta_answers_have_the_shape_of_microsofts_examples() {
    let Some(dir) = reference_dir() else { return };
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let one = &[("Prefer", "odata.maxpagesize=1")];
    let mut problems = Vec::new();
    let first = emu.get_with(
        "/v1.0/groups/delta?$select=createdDateTime,description,displayName,groupTypes,mail,members",
        &t,
        one,
    );
    assert!(first.body["@odata.nextLink"].is_string());
    check(
        &mut problems,
        "group-delta",
        &load(&dir.join("graph-docs/v1.0/group-delta.group_delta.response.json")),
        &first.body,
        &[],
    );
    let last = emu.get("/v1.0/groups/delta?$select=displayName,description", &t);
    let final_page = load(&dir.join("graph-docs/concepts/delta-query-groups.final-nextlink-response.json"));
    assert!(last.body["@odata.deltaLink"].is_string());
    check(&mut problems, "final-nextlink", &final_page, &last.body, &[]);
    let link = last.body["@odata.deltaLink"].as_str().unwrap().to_owned();
    let link_with_members =
        emu.get("/v1.0/groups/delta?$select=displayName,description,members", &t).body["@odata.deltaLink"]
            .as_str()
            .unwrap()
            .to_owned();
    let w =
        emu.token("a1b2c3d4-0000-4000-8000-000000000002", "contoso-writer-secret", GRAPH_SCOPE).body["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
    let g4 = "20000000-0000-4000-8000-000000000004";
    emu.delete(&format!("/v1.0/groups/{g4}/members/10000000-0000-4000-8000-000000000014/$ref"), &w);
    let add = serde_json::json!({"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/10000000-0000-4000-8000-000000000005"});
    emu.post_json(&format!("/v1.0/groups/{g4}/members/$ref"), &w, &add);
    let changes = emu.get(&link_with_members, &t);
    let example = load(&dir.join("graph-docs/concepts/delta-query-groups.deltalink-response-with-changes.json"));
    check(&mut problems, "deltalink-response-with-changes", &example, &changes.body, &[]);
    assert!(emu.get(&link, &t).body["value"].as_array().is_some());
    assert!(problems.is_empty(), "shape differences:\n{}", problems.join("\n"));
}
