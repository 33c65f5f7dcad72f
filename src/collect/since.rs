//! Incremental collection (`collect --since PREV`): the parts that have a change signal read only what changed and
//! take the rest from PREV; every other part is read in full (docs/collect.md lists which is which and why).
//!
//! - Users: the `users/delta` link PREV ended with names the users created, changed or deleted since; those are
//!   read again (20 to a `$batch`), the others are PREV's rows. A full collection starts its users part by asking
//!   for the current link (`$deltatoken=latest`), so the next `--since` has one.
//! - Groups: the `groups/delta` link PREV's groups stream ended with names the groups created, changed or deleted,
//!   with their member changes; changed groups are read again, member changes applied to PREV's memberships. A
//!   group where PREV's membership row was overwritten by a PIM assignment has its members read again in full.
//!   Owners and PIM for groups have no change signal and are read in full.
//! - Mailbox purposes (`--mailbox-settings`): read again for the users read again; the others keep PREV's (no
//!   delta tracks mailbox settings).
//! - Sign-in activity: users whose last interactive or non-interactive sign-in is at or after PREV's start are read
//!   again (`$filter` on `signInActivity`); every other user keeps PREV's values.
//!
//! A delta token the service no longer honours (410 `syncStateNotFound`) or a PREV without one makes the part a
//! full read, and the part's detail says so.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::azure::{ApiError, Service};
use crate::collect::batch;
use crate::collect::parse::{self, GROUP_SELECT, USER_SELECT};
use crate::collect::{Ctx, Since};
use crate::model::{Grant, Guid, Principal, Relation};
use crate::store::SignIn;

/// The part names delta links are stored under.
pub(super) const USERS: &str = "users";
pub(super) const GROUPS: &str = "groups";

/// What the users part does in an incremental collection.
pub(super) enum Users {
    /// PREV's users with the changes applied, the users read again (created or changed), how many were removed,
    /// and the link to ask from next time.
    Changed { users: Vec<Principal>, reread: Vec<Guid>, removed: usize, link: String },
    /// A full read, and why.
    Full(&'static str),
}

/// The `users/delta` URL that continues from `link` on the configured endpoint. Only the token is taken from the
/// stored link: the request goes to the endpoint this run was given, never to a host a file names.
fn continue_from(ctx: &Ctx, link: &str, collection: &str) -> Option<String> {
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

/// Why a part is read in full when the service refuses its delta token.
const EXPIRED: &str = "full read: the service no longer honours the delta token (410)";

/// Walks one delta round from `url`, handing each entry with its id to `each`; the delta link it ends with, or
/// `None` when the service no longer honours the token (410 `syncStateNotFound`).
async fn delta_round(ctx: &Ctx, url: &str, mut each: impl FnMut(&Value, Guid)) -> Result<Option<String>, ApiError> {
    let last = ctx
        .client
        .pages(Service::Graph, url, &[], |items| {
            for item in &items {
                if let Some(id) = parse::guid(item, "id") {
                    each(item, id);
                }
            }
            Ok(())
        })
        .await;
    let last = match last {
        Ok(v) => v,
        Err(e) if e.status() == Some(410) => return Ok(None),
        Err(e) => return Err(e),
    };
    let link = last["@odata.deltaLink"].as_str().ok_or_else(|| ApiError::Json {
        url: url.to_owned(),
        message: "the delta round ended without a deltaLink".to_owned(),
    })?;
    Ok(Some(link.to_owned()))
}

/// The users part of an incremental collection.
pub(super) async fn users(ctx: &Ctx, since: &Since) -> Result<Users, ApiError> {
    let Some(url) = since.users_link.as_deref().and_then(|l| continue_from(ctx, l, "users")) else {
        return Ok(Users::Full("full read: the previous snapshot has no users delta link"));
    };
    let mut changed: BTreeSet<Guid> = BTreeSet::new();
    let mut removed: BTreeSet<Guid> = BTreeSet::new();
    let round = delta_round(ctx, &url, |item, id| {
        if item.get("@removed").is_some() {
            changed.remove(&id);
            removed.insert(id);
        } else {
            changed.insert(id);
        }
    })
    .await?;
    let Some(link) = round else { return Ok(Users::Full(EXPIRED)) };
    let fresh = reread(ctx, &changed, &mut removed).await?;
    let reread: Vec<Guid> = fresh.iter().map(|p| p.id.clone()).collect();
    let users: Vec<Principal> = since
        .users
        .iter()
        .filter(|p| !changed.contains(&p.id) && !removed.contains(&p.id))
        .cloned()
        .chain(fresh)
        .collect();
    Ok(Users::Changed { users, reread, removed: removed.len(), link })
}

/// Reads the users `ids` again, 20 to a `$batch`; one that is gone by now joins `removed`.
async fn reread(ctx: &Ctx, ids: &BTreeSet<Guid>, removed: &mut BTreeSet<Guid>) -> Result<Vec<Principal>, ApiError> {
    reread_objects(ctx, ids, removed, "users", USER_SELECT, parse::user).await
}

/// Reads the objects `ids` of `collection` again with `select`, 20 to a `$batch`; one that is gone by now joins
/// `removed`.
async fn reread_objects(
    ctx: &Ctx,
    ids: &BTreeSet<Guid>,
    removed: &mut BTreeSet<Guid>,
    collection: &str,
    select: &str,
    parse: fn(&Value) -> Option<Principal>,
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
    /// PREV's groups and direct memberships with the changes applied, and the link to ask from next time.
    Changed { groups: Vec<Principal>, memberships: Vec<Grant>, changed: usize, removed: usize, link: String },
    /// A full read, and why.
    Full(&'static str),
}

/// The groups part of an incremental collection.
pub(super) async fn groups(ctx: &Ctx, since: &Since) -> Result<Groups, ApiError> {
    if ctx.options.skip_ad_groups {
        return Ok(Groups::Full("full read: --skip-ad-groups leaves out groups the previous snapshot does not hold"));
    }
    let Some(url) = since.groups_link.as_deref().and_then(|l| continue_from(ctx, l, "groups")) else {
        return Ok(Groups::Full("full read: the previous snapshot has no groups delta link"));
    };
    let mut changed: BTreeSet<Guid> = BTreeSet::new();
    let mut removed: BTreeSet<Guid> = BTreeSet::new();
    // (group, member) → the membership, or `None` once removed, in the order the changes came.
    let mut member_changes: Vec<(Guid, Guid, Option<Grant>)> = Vec::new();
    let round = delta_round(ctx, &url, |item, group| {
        if item.get("@removed").is_some() {
            changed.remove(&group);
            removed.insert(group);
            return;
        }
        changed.insert(group.clone());
        for m in item.get("members@delta").and_then(Value::as_array).into_iter().flatten() {
            let Some(member) = parse::guid(m, "id") else { continue };
            let grant = if m.get("@removed").is_some() { None } else { parse::link(m, Relation::Member, &group) };
            member_changes.push((group.clone(), member, grant));
        }
    })
    .await?;
    let Some(link) = round else { return Ok(Groups::Full(EXPIRED)) };
    let fresh = reread_objects(ctx, &changed, &mut removed, "groups", GROUP_SELECT, parse::group).await?;
    let groups: Vec<Principal> = since
        .groups
        .iter()
        .filter(|p| !changed.contains(&p.id) && !removed.contains(&p.id))
        .cloned()
        .chain(fresh)
        .collect();
    let present: BTreeSet<&Guid> = groups.iter().map(|g| &g.id).collect();
    let mut memberships: BTreeMap<(String, Guid), Grant> =
        since.memberships.iter().map(|g| ((g.target_id.clone(), g.principal_id.clone()), g.clone())).collect();
    for (group, member, grant) in member_changes {
        let key = (group.to_string(), member);
        match grant {
            Some(g) => memberships.insert(key, g),
            None => memberships.remove(&key),
        };
    }
    // Groups whose memberships PREV cannot tell apart from PIM assignments: their members, read again.
    let mut reread_members: Vec<Guid> = since.pim_touched.iter().filter(|g| present.contains(g)).cloned().collect();
    reread_members.sort();
    memberships.retain(|(group, _), _| {
        group.parse::<Guid>().is_ok_and(|g| present.contains(&g) && !since.pim_touched.contains(&g))
    });
    let mut memberships: Vec<Grant> = memberships.into_values().collect();
    for group in &reread_members {
        let url = ctx.graph(&format!("/v1.0/groups/{group}/members?$select=id&$top=999"));
        ctx.client
            .pages(Service::Graph, &url, &[], |items| {
                memberships.extend(items.iter().filter_map(|m| parse::link(m, Relation::Member, group)));
                Ok(())
            })
            .await?;
    }
    Ok(Groups::Changed { groups, memberships, changed: changed.len(), removed: removed.len(), link })
}

/// The sign-in activity of an incremental collection: PREV's, then every user who signed in since PREV started
/// (interactively or not), read again. Returns the rows sent.
pub(super) async fn sign_ins(
    ctx: &Ctx,
    previous: &[SignIn],
    started_at: &crate::model::Timestamp,
) -> Result<u64, ApiError> {
    let mut n = 0;
    for chunk in previous.chunks(5_000) {
        n += chunk.len() as u64;
        ctx.sink.send(crate::store::Batch { sign_ins: chunk.to_vec(), ..Default::default() }).await;
    }
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
