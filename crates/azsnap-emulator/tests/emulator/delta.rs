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
