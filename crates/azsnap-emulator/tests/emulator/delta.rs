//! Delta queries: a full first round ending in a deltaLink, then only what changed, with removed members marked.

use std::collections::BTreeSet;

use azsnap_emulator::EmulatorOptions;
use serde_json::{Value, json};

use crate::common::emulator::{Emu, GRAPH_SCOPE, contoso_json};

const PAGE2: &[(&str, &str)] = &[("Prefer", "odata.maxpagesize=2")];

/// Walks a delta round; returns its items and the deltaLink it ended with.
fn round(emu: &Emu, start: &str, t: &str) -> (Vec<Value>, String) {
    let mut items = Vec::new();
    let mut next = start.to_owned();
    loop {
        let r = emu.get_with(&next, t, PAGE2);
        assert_eq!(r.status, 200, "{next}: {:?}", r.body);
        items.extend(r.body["value"].as_array().unwrap().iter().cloned());
        if let Some(n) = r.body["@odata.nextLink"].as_str() {
            assert!(r.body.get("@odata.deltaLink").is_none());
            next = n.to_owned();
        } else {
            return (items, r.body["@odata.deltaLink"].as_str().expect("a round ends with a deltaLink").to_owned());
        }
    }
}

#[test]
fn first_round_is_everything_then_nothing_until_a_change() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let (users, link) = round(&emu, "/v1.0/users/delta?$select=displayName,accountEnabled", &t);
    let file = contoso_json();
    let want: Vec<&str> = file["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(users.iter().map(|u| u["id"].as_str().unwrap()).collect::<Vec<_>>(), want);
    assert!(link.contains("$deltatoken="));
    let (again, _) = round(&emu, &link, &t);
    assert!(again.is_empty(), "nothing changed: {again:?}");
}

#[test]
fn group_member_changes_come_back_as_members_delta() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let (groups, link) = round(&emu, "/v1.0/groups/delta?$select=displayName,groupTypes,members", &t);
    let file = contoso_json();
    for (served, truth) in groups.iter().zip(file["groups"].as_array().unwrap()) {
        let got: Vec<&str> =
            served["members@delta"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
        let want: Vec<&str> = truth["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
        assert_eq!(got, want, "{}", truth["displayName"]);
    }

    let w = emu.token("a1b2c3d4-0000-4000-8000-000000000002", "contoso-writer-secret", GRAPH_SCOPE);
    let w = w.body["access_token"].as_str().unwrap().to_owned();
    let g2 = "20000000-0000-4000-8000-000000000002";
    let erin = "10000000-0000-4000-8000-000000000005";
    let bob = "10000000-0000-4000-8000-000000000002";
    let add = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{erin}")});
    assert_eq!(emu.post_json(&format!("/v1.0/groups/{g2}/members/$ref"), &w, &add).status, 204);
    assert_eq!(emu.delete(&format!("/v1.0/groups/{g2}/members/{bob}/$ref"), &w).status, 204);

    let (changed, next) = round(&emu, &link, &t);
    assert_eq!(changed.len(), 1, "only the changed group: {changed:?}");
    assert_eq!(changed[0]["id"], g2);
    let deltas: BTreeSet<(String, bool)> = changed[0]["members@delta"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap().to_owned(), m.get("@removed").is_some()))
        .collect();
    assert_eq!(deltas, BTreeSet::from([(erin.to_owned(), false), (bob.to_owned(), true)]));
    let (after, _) = round(&emu, &next, &t);
    assert!(after.is_empty(), "changes are reported once");
}

#[test]
fn expired_delta_tokens_answer_410() {
    let emu = Emu::with(EmulatorOptions { delta_token_max_age_secs: 0, ..EmulatorOptions::default() });
    let t = emu.reader(GRAPH_SCOPE);
    let (_, link) = round(&emu, "/v1.0/users/delta?$select=displayName", &t);
    let r = emu.get(&link, &t);
    assert_eq!((r.status, r.code()), (410, "syncStateNotFound"));
    let forged = emu.get("/v1.0/users/delta?$deltatoken=bm90LWEtdG9rZW4", &t);
    assert_eq!(forged.status, 400);
    let filtered = emu.get("/v1.0/users/delta?$filter=displayName eq 'x'", &t);
    assert_eq!((filtered.status, filtered.code()), (400, "Request_UnsupportedQuery"));
}

const WRITER: &str = "a1b2c3d4-0000-4000-8000-000000000002";
const WRITER_SECRET: &str = "contoso-writer-secret";
const BOB: &str = "10000000-0000-4000-8000-000000000002";
const CAROL_SYNCED: &str = "10000000-0000-4000-8000-000000000003";
const ALL_STAFF: &str = "20000000-0000-4000-8000-000000000001";

/// Contoso whose writer may also change users, delete groups and create service principals, with one application
/// that has no service principal yet.
fn lifecycle_emulator() -> (Emu, String, String) {
    let mut tenant = crate::common::emulator::tenant_file(&crate::common::emulator::contoso_path());
    tenant.apps[1]
        .graph_permissions
        .extend(["User.ReadWrite.All", "Group.ReadWrite.All", "Application.ReadWrite.All"].map(str::to_owned));
    let app: azsnap_emulator::tenant::Application = serde_json::from_value(json!({
        "id": "40000000-0000-4000-8000-0000000000aa",
        "appId": "40000000-0000-4000-8000-0000000000ab",
        "displayName": "Expense Reports",
    }))
    .unwrap();
    tenant.applications.push(app);
    let emu = Emu::serve(tenant, EmulatorOptions::default());
    let reader = emu.reader(GRAPH_SCOPE);
    let r = emu.token(WRITER, WRITER_SECRET, GRAPH_SCOPE);
    let writer = r.body["access_token"].as_str().unwrap().to_owned();
    (emu, reader, writer)
}

fn patch(emu: &Emu, path: &str, token: &str, body: &Value) -> crate::common::emulator::Reply {
    emu.send_json(reqwest::Method::PATCH, path, token, body)
}

#[test]
fn patched_users_come_back_in_the_next_user_delta() {
    let (emu, reader, writer) = lifecycle_emulator();
    let (_, link) = round(&emu, "/v1.0/users/delta?$select=displayName,accountEnabled", &reader);
    let r = patch(&emu, &format!("/v1.0/users/{BOB}"), &writer, &json!({"accountEnabled": false}));
    assert_eq!(r.status, 204, "{:?}", r.body);
    let (changed, _) = round(&emu, &link, &reader);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!((changed[0]["id"].as_str(), changed[0]["accountEnabled"].as_bool()), (Some(BOB), Some(false)));
    assert_eq!(emu.get(&format!("/v1.0/users/{BOB}?$select=accountEnabled"), &reader).body["accountEnabled"], false);
    // Refused: a synced user's properties, an unknown or read-only property, a caller without the permission.
    for (user, body, status) in [
        (CAROL_SYNCED, json!({"accountEnabled": false}), 400),
        (BOB, json!({"notAProperty": 1}), 400),
        (BOB, json!({"createdDateTime": "2020-01-01T00:00:00Z"}), 400),
    ] {
        assert_eq!(patch(&emu, &format!("/v1.0/users/{user}"), &writer, &body).status, status, "{body}");
    }
    assert_eq!(patch(&emu, &format!("/v1.0/users/{BOB}"), &reader, &json!({"accountEnabled": true})).status, 403);
}

#[test]
fn deleted_users_and_groups_are_removed_in_delta_with_the_memberships_they_ended() {
    let (emu, reader, writer) = lifecycle_emulator();
    let (_, users_link) = round(&emu, "/v1.0/users/delta?$select=displayName", &reader);
    let (_, groups_link) = round(&emu, "/v1.0/groups/delta?$select=displayName,members", &reader);
    let file = contoso_json();
    let groups_with_bob: BTreeSet<&str> = file["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["members"].as_array().unwrap().iter().any(|m| m == BOB))
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert!(!groups_with_bob.is_empty());
    assert_eq!(emu.delete(&format!("/v1.0/users/{BOB}"), &writer).status, 204);
    assert_eq!(emu.delete(&format!("/v1.0/groups/{ALL_STAFF}"), &writer).status, 204);
    assert_eq!(emu.delete(&format!("/v1.0/users/{BOB}"), &writer).status, 404, "gone");
    assert_eq!(emu.get(&format!("/v1.0/users/{BOB}"), &reader).status, 404);
    let (users, _) = round(&emu, &users_link, &reader);
    assert_eq!(users, vec![json!({"id": BOB, "@removed": {"reason": "changed"}})]);
    let (groups, _) = round(&emu, &groups_link, &reader);
    let removed_group = groups.iter().find(|g| g["id"] == ALL_STAFF).unwrap();
    assert_eq!(removed_group["@removed"]["reason"], "changed");
    // Every other group Bob was in shows him leaving.
    for g in groups_with_bob.iter().filter(|g| **g != ALL_STAFF) {
        let entry = groups.iter().find(|e| e["id"] == *g).unwrap_or_else(|| panic!("{g} not in the delta"));
        let left: Vec<&Value> = entry["members@delta"].as_array().unwrap().iter().filter(|m| m["id"] == BOB).collect();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["@removed"]["reason"], "deleted");
        let members = emu.walk(&format!("/v1.0/groups/{g}/members?$select=id"), &reader, &[]);
        assert!(members.iter().all(|m| m["id"] != BOB));
    }
    // Links to the deleted objects went with them.
    let assignments = emu.walk(&format!("/v1.0/users/{BOB}/appRoleAssignments"), &reader, &[]);
    assert!(assignments.is_empty());
    assert_eq!(emu.delete(&format!("/v1.0/groups/{ALL_STAFF}"), &reader).status, 403, "needs Group.ReadWrite.All");
}

#[test]
fn service_principals_have_a_delta_that_reports_new_ones() {
    let (emu, reader, writer) = lifecycle_emulator();
    let (all, link) = round(&emu, "/v1.0/servicePrincipals/delta?$select=displayName,appId", &reader);
    assert_eq!(all.len(), contoso_json()["servicePrincipals"].as_array().unwrap().len());
    let r =
        emu.post_json("/v1.0/servicePrincipals", &writer, &json!({"appId": "40000000-0000-4000-8000-0000000000ab"}));
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["displayName"], "Expense Reports");
    let new_id = r.body["id"].as_str().unwrap().to_owned();
    let (changed, _) = round(&emu, &link, &reader);
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (changed[0]["id"].as_str(), changed[0]["appId"].as_str()),
        (Some(new_id.as_str()), Some("40000000-0000-4000-8000-0000000000ab"))
    );
    let again =
        emu.post_json("/v1.0/servicePrincipals", &writer, &json!({"appId": "40000000-0000-4000-8000-0000000000ab"}));
    assert_eq!((again.status, again.code()), (409, "Request_MultipleObjectsWithSameKeyValue"));
    let unknown =
        emu.post_json("/v1.0/servicePrincipals", &writer, &json!({"appId": "40000000-0000-4000-8000-0000000000ff"}));
    assert_eq!(unknown.status, 400);
}

#[test]
fn sign_in_activity_can_be_filtered_by_instant() {
    let emu = Emu::contoso();
    let t = emu.reader(GRAPH_SCOPE);
    let since = "2026-11-20T00:00:00Z";
    let path = format!("/v1.0/users?$select=id,signInActivity&$filter=signInActivity/lastSignInDateTime ge {since}");
    let got: BTreeSet<String> = emu.walk(&path, &t, &[]).iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect();
    let cut: azsnap_model::Timestamp = since.parse().unwrap();
    let want: BTreeSet<String> = contoso_json()["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| {
            u["signInActivity"]["lastSignInDateTime"]
                .as_str()
                .and_then(|s| s.parse::<azsnap_model::Timestamp>().ok())
                .is_some_and(|at| at >= cut)
        })
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!want.is_empty() && want.len() < contoso_json()["users"].as_array().unwrap().len());
    assert_eq!(got, want);
    // The filter is a sign-in activity request: it needs AuditLog.Read.All and a premium license.
    let free =
        Emu::with(EmulatorOptions { license: Some(azsnap_emulator::License::Free), ..EmulatorOptions::default() });
    let r = free.get(&path, &free.reader(GRAPH_SCOPE));
    assert_eq!(r.status, 403);
}

#[test]
fn deltatoken_latest_syncs_from_now_without_objects() {
    let (emu, reader, writer) = lifecycle_emulator();
    let r = emu.get("/v1.0/users/delta?$select=displayName,accountEnabled&$deltatoken=latest", &reader);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["value"], json!([]));
    let link = r.body["@odata.deltaLink"].as_str().unwrap().to_owned();
    let (nothing, link) = round(&emu, &link, &reader);
    assert!(nothing.is_empty());
    assert_eq!(patch(&emu, &format!("/v1.0/users/{BOB}"), &writer, &json!({"accountEnabled": false})).status, 204);
    let (changed, _) = round(&emu, &link, &reader);
    assert_eq!(changed, vec![json!({"id": BOB, "displayName": "Bob Builder", "accountEnabled": false})]);
}
