//! Incremental collection (`collect --since PREV`): the parts that have a change signal read only what changed and
//! take the rest from PREV; every other part is read in full (docs/collect.md lists which is which and why).
//!
//! - Users: the `users/delta` link PREV ended with names the users created, changed or deleted since; those are
//!   read again (20 to a `$batch`), the others are PREV's rows. A full collection starts its users part by asking
//!   for the current link (`$deltatoken=latest`), so the next `--since` has one.
//! - Mailbox purposes (`--mailbox-settings`): read again for the users read again; the others keep PREV's (no
//!   delta tracks mailbox settings).
//! - Sign-in activity: users whose last interactive or non-interactive sign-in is at or after PREV's start are read
//!   again (`$filter` on `signInActivity`); every other user keeps PREV's values.
//!
//! A delta token the service no longer honours (410 `syncStateNotFound`) or a PREV without one makes the part a
//! full read, and the part's detail says so.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use crate::azure::{ApiError, Service};
use crate::collect::batch;
use crate::collect::parse::{self, GROUP_SELECT, USER_SELECT};
use crate::collect::{Ctx, Since};
use crate::model::{Grant, Guid, Principal, PrincipalKind, Relation};
use crate::store::{Batch, SignIn};

/// The part names delta links are stored under.
pub(super) const USERS: &str = "users";
pub(super) const GROUPS: &str = "groups";

/// What the users part does in an incremental collection.
pub(super) enum Users {
    /// The users read again (created or changed); PREV's users not to keep (changed or removed); how many were
    /// removed; and the link to ask from next time. PREV's other users are kept as they are.
    Changed { fresh: Vec<Principal>, replaced: BTreeSet<Guid>, removed: usize, link: String },
    /// A full read, and why.
    Full(&'static str),
}

/// The `{collection}/delta` URL that continues from `link` on the configured endpoint. Only the token is taken from
/// the stored link: the request goes to the endpoint this run was given, never to a host a file names.
fn continue_from(ctx: &Ctx, collection: &str, link: &str) -> Option<String> {
    let stored = url::Url::parse(link).ok()?;
    let token = stored.query_pairs().find(|(k, _)| k.eq_ignore_ascii_case("$deltatoken"))?.1.into_owned();
    let mut url = url::Url::parse(&ctx.graph(&format!("/v1.0/{collection}/delta"))).ok()?;
    url.query_pairs_mut().append_pair("$deltatoken", &token);
    Some(url.to_string())
}

/// The current users delta link ("sync from now"), asked for before a full read so no change is missed; `None`
/// when the service gives none (the next `--since` then reads users in full).
pub(super) async fn latest_users_link(ctx: &Ctx) -> Option<String> {
    let url = ctx.graph(&format!("/v1.0/users/delta?$select={USER_SELECT}&$deltatoken=latest"));
    let page = ctx.client.get(Service::Graph, &url, &[]).await.ok()?;
    page["@odata.deltaLink"].as_str().map(str::to_owned)
}

/// The users part of an incremental collection.
pub(super) async fn users(ctx: &Ctx, since: &Since) -> Result<Users, ApiError> {
    let Some(url) = since.users_link.as_deref().and_then(|l| continue_from(ctx, "users", l)) else {
        return Ok(Users::Full("full read: the previous snapshot has no users delta link"));
    };
    let mut named = Named::default();
    let mut removed: BTreeSet<Guid> = BTreeSet::new();
    let Some(link) = delta_round(ctx, &url, |items| {
        for item in &items {
            let Some(id) = parse::guid(item, "id") else { continue };
            if item.get("@removed").is_some() {
                named.gone(&id);
                removed.insert(id);
            } else {
                removed.remove(&id);
                named.changed(id, item, USER_SELECT, parse::user);
            }
        }
    })
    .await?
    else {
        return Ok(Users::Full(EXPIRED));
    };
    let fresh = named.complete(ctx, "users", USER_SELECT, parse::user, &mut removed).await?;
    let n = removed.len();
    let mut replaced: BTreeSet<Guid> = fresh.iter().map(|p| p.id.clone()).collect();
    replaced.append(&mut removed);
    Ok(Users::Changed { fresh, replaced, removed: n, link })
}

/// The objects a delta round names as created or changed. Delta gives an updated object with "at least the
/// properties that have been updated" (Microsoft's delta query overview), so an item with every selected property
/// is taken as read, and the others are read again.
#[derive(Default)]
struct Named {
    read: std::collections::BTreeMap<Guid, Principal>,
    partial: BTreeSet<Guid>,
}

impl Named {
    /// The object `id`, named by `item`: read when the item has every property of `select` (a later item for the
    /// same object in the round, such as more of a group's members, does not undo that), else to read again.
    fn changed(&mut self, id: Guid, item: &Value, select: &str, parse: fn(&Value) -> Option<Principal>) {
        let whole = select.split(',').all(|property| item.get(property).is_some());
        match parse(item).filter(|_| whole) {
            Some(p) => {
                self.partial.remove(&id);
                self.read.insert(id, p);
            }
            None if !self.read.contains_key(&id) => {
                self.partial.insert(id);
            }
            None => {}
        }
    }

    /// The object `id` was deleted.
    fn gone(&mut self, id: &Guid) {
        self.read.remove(id);
        self.partial.remove(id);
    }

    /// Every object named: those read, and the others read again now (one gone by now joins `removed`).
    async fn complete(
        self,
        ctx: &Ctx,
        collection: &str,
        select: &str,
        parse: fn(&Value) -> Option<Principal>,
        removed: &mut BTreeSet<Guid>,
    ) -> Result<Vec<Principal>, ApiError> {
        let mut fresh: Vec<Principal> = self.read.into_values().collect();
        fresh.extend(reread(ctx, collection, select, parse, &self.partial, removed).await?);
        Ok(fresh)
    }
}

/// Reads the objects `ids` of `collection` again (`select`ed, 20 to a `$batch`); one that is gone by now joins
/// `removed`.
async fn reread(
    ctx: &Ctx,
    collection: &str,
    select: &str,
    parse: fn(&Value) -> Option<Principal>,
    ids: &BTreeSet<Guid>,
    removed: &mut BTreeSet<Guid>,
) -> Result<Vec<Principal>, ApiError> {
    let ids: Vec<&Guid> = ids.iter().collect();
    let urls: Vec<String> = ids.iter().map(|id| format!("/{collection}/{id}?$select={select}")).collect();
    let mut fresh = Vec::with_capacity(ids.len());
    let mut failure = None;
    batch::get_all(&ctx.client, urls, ctx.concurrency(), |i, answer| {
        match answer.status {
            200 => fresh.extend(parse(&answer.body)),
            404 => {
                removed.insert(ids[i].clone());
            }
            _ => failure = Some(answer.error("")),
        }
        Ok(())
    })
    .await?;
    match failure {
        Some(e) => Err(e),
        None => Ok(fresh),
    }
}

/// What the groups part does in an incremental collection.
pub(super) enum Groups {
    Changed(GroupChanges),
    /// A full read, and why.
    Full(&'static str),
}

/// The groups delta round since PREV, applied to PREV's groups.
pub(super) struct GroupChanges {
    /// PREV's groups with the changes applied (the changed ones read again).
    pub groups: Vec<Principal>,
    /// How many groups were read again, and how many are gone.
    pub changed: usize,
    pub removed: usize,
    /// Direct memberships added since PREV.
    pub added: Vec<Grant>,
    /// What of PREV's memberships no longer holds: (member, group) pairs removed, and groups gone.
    pub dropped: Dropped,
    /// The link to ask from next time.
    pub link: String,
}

/// PREV's memberships that no longer hold.
#[derive(Default)]
pub(super) struct Dropped {
    pub pairs: HashSet<(Guid, Guid)>,
    pub groups: HashSet<Guid>,
}

/// The groups part of an incremental collection: the `groups/delta` round (with `members@delta`) since PREV, the
/// groups it names read again. PREV's memberships are not held here: [`carry_memberships`] streams them.
pub(super) async fn groups(ctx: &Ctx, since: &Since) -> Result<Groups, ApiError> {
    if ctx.options.skip_ad_groups {
        return Ok(Groups::Full("full read: --skip-ad-groups leaves groups out by a property read from every group"));
    }
    let Some(url) = since.groups_link.as_deref().and_then(|l| continue_from(ctx, "groups", l)) else {
        return Ok(Groups::Full("full read: the previous snapshot has no groups delta link"));
    };
    let mut round = GroupRound::default();
    let Some(link) = delta_round(ctx, &url, |items| round.take(&items)).await? else {
        return Ok(Groups::Full(EXPIRED));
    };
    let GroupRound { named, mut removed, added, mut dropped } = round;
    let fresh = named.complete(ctx, "groups", GROUP_SELECT, parse::group, &mut removed).await?;
    let changed: HashSet<&Guid> = fresh.iter().map(|p| &p.id).collect();
    let mut groups: Vec<Principal> =
        since.groups.iter().filter(|p| !changed.contains(&p.id) && !removed.contains(&p.id)).cloned().collect();
    let changed = changed.len();
    groups.extend(fresh);
    let added = added.into_iter().filter(|((_, g), _)| !removed.contains(g)).map(|(_, link)| link).collect();
    dropped.groups = removed.iter().cloned().collect();
    Ok(Groups::Changed(GroupChanges { changed, removed: removed.len(), groups, added, dropped, link }))
}

/// What a `groups/delta` round since PREV says, page by page.
#[derive(Default)]
struct GroupRound {
    /// Groups created or changed (their properties, their members, or both).
    named: Named,
    /// Groups deleted.
    removed: BTreeSet<Guid>,
    /// Memberships added, by (member, group); a later removal in the same round cancels one.
    added: std::collections::BTreeMap<(Guid, Guid), Grant>,
    /// Memberships removed; a later addition in the same round cancels one.
    dropped: Dropped,
}

impl GroupRound {
    /// Takes one page's items: a group with `@removed` is gone, any other is changed, and its `members@delta`
    /// add members or (with `@removed`) take them away. A group may come back on a later page with more members.
    fn take(&mut self, items: &[Value]) {
        for item in items {
            let Some(group) = parse::guid(item, "id") else { continue };
            if item.get("@removed").is_some() {
                self.named.gone(&group);
                self.removed.insert(group);
                continue;
            }
            for m in item.get("members@delta").and_then(Value::as_array).into_iter().flatten() {
                let Some(member) = parse::guid(m, "id") else { continue };
                let pair = (member, group.clone());
                if m.get("@removed").is_some() {
                    self.added.remove(&pair);
                    self.dropped.pairs.insert(pair);
                } else if let Some(link) = parse::link(m, Relation::Member, &group) {
                    self.dropped.pairs.remove(&pair);
                    self.added.insert(pair, link);
                }
            }
            self.removed.remove(&group);
            self.named.changed(group, item, GROUP_SELECT, parse::group);
        }
    }
}

/// Why a part whose delta token the service refused is read in full.
const EXPIRED: &str = "full read: the service no longer honours the delta token (410)";

/// One delta round from `url`, each page's items to `each`: the `@odata.deltaLink` it ended with, or `None` when
/// the service no longer honours the token (410, `syncStateNotFound`).
async fn delta_round(ctx: &Ctx, url: &str, mut each: impl FnMut(Vec<Value>)) -> Result<Option<String>, ApiError> {
    let last = ctx
        .client
        .pages(Service::Graph, url, &[], |items| {
            each(items);
            Ok(())
        })
        .await;
    match last {
        Ok(last) => delta_link(&last, url).map(Some),
        Err(e) if e.status() == Some(410) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The `@odata.deltaLink` a delta round ended with.
fn delta_link(last: &Value, url: &str) -> Result<String, ApiError> {
    last["@odata.deltaLink"].as_str().map(str::to_owned).ok_or_else(|| ApiError::Json {
        url: url.to_owned(),
        message: "the delta round ended without a deltaLink".to_owned(),
    })
}

/// PREV's direct memberships of groups, less those `dropped`, sent to the writer from a thread that reads PREV
/// row by row (memory does not grow with the tenant). Returns the rows sent.
pub(super) async fn carry_memberships(ctx: &Ctx, path: std::path::PathBuf, dropped: Dropped) -> Result<u64, ApiError> {
    let sink = ctx.sink.clone();
    let read = tokio::task::spawn_blocking(move || {
        let snap = crate::store::Snapshot::open(&path)?;
        let (mut rows, mut n) = (Vec::with_capacity(super::sink::CHUNK), 0u64);
        snap.each_grant_on(&[Relation::Member], &[PrincipalKind::Group], |g| {
            let Ok(group) = g.target_id.parse::<Guid>() else { return };
            if dropped.groups.contains(&group) || dropped.pairs.contains(&(g.principal_id.clone(), group)) {
                return;
            }
            if let Some(listed) = super::audit::as_listed(g) {
                rows.push(listed);
                n += 1;
            }
            if rows.len() == super::sink::CHUNK {
                sink.blocking_send(Batch { grants: std::mem::take(&mut rows), ..Batch::default() });
            }
        })?;
        sink.blocking_send(Batch { grants: rows, ..Batch::default() });
        Ok::<u64, crate::store::StoreError>(n)
    });
    let failed = |message: String| ApiError::Transport { service: "previous snapshot", message };
    read.await.map_err(|e| failed(e.to_string()))?.map_err(|e| failed(e.to_string()))
}

/// The sign-in activity of an incremental collection: PREV's, then every user who signed in since PREV started
/// (interactively or not), read again. Returns the rows sent.
pub(super) async fn sign_ins(
    ctx: &Ctx,
    previous: &[SignIn],
    started_at: &crate::model::Timestamp,
) -> Result<u64, ApiError> {
    let mut n = 0;
    n += previous.len() as u64;
    ctx.sink.send_all(previous.iter().cloned(), |sign_ins| Batch { sign_ins, ..Batch::default() }).await;
    for property in ["lastSignInDateTime", "lastNonInteractiveSignInDateTime"] {
        let url = ctx.graph(&format!(
            "/v1.0/users?$select=id,signInActivity&$top=500&$filter=signInActivity/{property} ge {started_at}"
        ));
        n += ctx
            .stream(Service::Graph, &url, |items| crate::store::Batch {
                sign_ins: items.iter().filter_map(sign_in).collect(),
                ..Default::default()
            })
            .await?;
    }
    Ok(n)
}

/// A user's sign-in activity from a `users` item with `signInActivity` selected.
pub(super) fn sign_in(u: &Value) -> Option<SignIn> {
    let a = u.get("signInActivity").filter(|a| a.is_object());
    Some(SignIn {
        user: parse::guid(u, "id")?,
        last: a.and_then(|a| parse::time(a, "lastSignInDateTime")),
        last_non_interactive: a.and_then(|a| parse::time(a, "lastNonInteractiveSignInDateTime")),
        last_successful: a.and_then(|a| parse::time(a, "lastSuccessfulSignInDateTime")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Microsoft's example payload `name` under `../shared/reference`, or `None` (with a notice) without the corpus.
    fn example(name: &str) -> Option<Value> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference").join(name);
        match std::fs::read(&path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes).expect("a reference example is JSON")),
            Err(_) => {
                azsnap_emulator_harness::notice(&format!(
                    "{} is absent; reading Microsoft's example not checked",
                    path.display()
                ));
                None
            }
        }
    }

    fn guid(s: &str) -> Guid {
        s.parse().unwrap()
    }

    #[test]
    fn microsofts_group_delta_examples_are_read_as_changes_to_groups_and_members() {
        let Some(first) = example("graph-docs/v1.0/group-delta.group_delta.response.json") else { return };
        let Some(changes) = example("graph-docs/concepts/delta-query-groups.deltalink-response-with-changes.json")
        else {
            return;
        };
        // A first round. Microsoft's example leaves the group's id out: an item without one names nothing and is
        // passed over; with an id, the group is changed and every member listed is added.
        let mut round = GroupRound::default();
        round.take(first["value"].as_array().unwrap());
        assert!(round.named.read.is_empty() && round.named.partial.is_empty() && round.added.is_empty());
        let mut named = first["value"][0].clone();
        named["id"] = serde_json::json!("11111111-0000-4000-8000-000000000001");
        round.take(&[named.clone()]);
        assert_eq!(round.named.partial.len(), 1, "the example has not every selected property: read again");
        assert_eq!(round.added.len(), named["members@delta"].as_array().unwrap().len());
        assert!(round.dropped.pairs.is_empty() && round.removed.is_empty());

        // A later round: the member marked `@removed` leaves, the other joins. (The example's removed member has a
        // malformed id, one hex digit short: it names no object this tenant can have, and is passed over.)
        let mut round = GroupRound::default();
        round.take(changes["value"].as_array().unwrap());
        let group = guid("2e5807ce-58f3-4a94-9b37-ffff2e085957");
        assert_eq!(round.named.partial, BTreeSet::from([group.clone()]));
        let added: Vec<&(Guid, Guid)> = round.added.keys().collect();
        assert_eq!(added, [&(guid("37de1ae3-408f-4702-8636-20824abda004"), group.clone())]);
        assert_eq!(round.added.values().next().unwrap().principal_type.as_deref(), Some("User"));
        assert!(round.dropped.pairs.is_empty());

        // The same member removed on a later page cancels its addition; a group deleted is gone, not changed.
        let mut later = changes["value"][0].clone();
        later["members@delta"][1]["@removed"] = serde_json::json!({"reason": "deleted"});
        round.take(&[later, serde_json::json!({"id": group.as_str(), "@removed": {"reason": "changed"}})]);
        assert!(round.added.is_empty());
        assert_eq!(round.dropped.pairs.len(), 1);
        assert!(round.named.partial.is_empty());
        assert_eq!(round.removed, BTreeSet::from([group]));
    }

    #[test]
    fn an_item_with_every_selected_property_is_taken_as_read_and_any_other_is_read_again() {
        let id = |n: u8| guid(&format!("10000000-0000-4000-8000-0000000000{n:02x}"));
        let whole = |n: u8| {
            let mut item = serde_json::Map::new();
            for property in USER_SELECT.split(',') {
                item.insert(property.to_owned(), Value::Null);
            }
            item.insert("id".to_owned(), serde_json::json!(id(n).as_str()));
            item.insert("accountEnabled".to_owned(), serde_json::json!(false));
            Value::Object(item)
        };
        let partial = |n: u8| serde_json::json!({"id": id(n).as_str(), "accountEnabled": false});
        let mut named = Named::default();
        named.changed(id(1), &whole(1), USER_SELECT, parse::user);
        named.changed(id(2), &partial(2), USER_SELECT, parse::user);
        // Complete after partial: read. Partial after complete (more of the same round): still read.
        named.changed(id(3), &partial(3), USER_SELECT, parse::user);
        named.changed(id(3), &whole(3), USER_SELECT, parse::user);
        named.changed(id(1), &partial(1), USER_SELECT, parse::user);
        named.changed(id(4), &partial(4), USER_SELECT, parse::user);
        named.gone(&id(4));
        assert_eq!(named.read.keys().cloned().collect::<Vec<_>>(), [id(1), id(3)]);
        assert_eq!(named.read[&id(1)].account_enabled, Some(false));
        assert_eq!(named.partial, BTreeSet::from([id(2)]));
    }
}
