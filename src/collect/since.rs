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

use std::collections::BTreeSet;

use serde_json::Value;

use crate::azure::{ApiError, Service};
use crate::collect::batch;
use crate::collect::parse::{self, USER_SELECT};
use crate::collect::{Ctx, Since};
use crate::model::{Guid, Principal};
use crate::store::SignIn;

/// The part name delta links are stored under for users.
pub(super) const USERS: &str = "users";

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
fn continue_from(ctx: &Ctx, link: &str) -> Option<String> {
    let stored = url::Url::parse(link).ok()?;
    let token = stored.query_pairs().find(|(k, _)| k.eq_ignore_ascii_case("$deltatoken"))?.1.into_owned();
    let mut url = url::Url::parse(&ctx.graph("/v1.0/users/delta")).ok()?;
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
    let Some(url) = since.users_link.as_deref().and_then(|l| continue_from(ctx, l)) else {
        return Ok(Users::Full("full read: the previous snapshot has no users delta link"));
    };
    let mut changed: BTreeSet<Guid> = BTreeSet::new();
    let mut removed: BTreeSet<Guid> = BTreeSet::new();
    let last = ctx
        .client
        .pages(Service::Graph, &url, &[], |items| {
            for item in &items {
                let Some(id) = parse::guid(item, "id") else { continue };
                if item.get("@removed").is_some() {
                    changed.remove(&id);
                    removed.insert(id);
                } else {
                    changed.insert(id);
                }
            }
            Ok(())
        })
        .await;
    let last = match last {
        Ok(v) => v,
        Err(e) if e.status() == Some(410) => {
            return Ok(Users::Full("full read: the service no longer honours the delta token (410)"));
        }
        Err(e) => return Err(e),
    };
    let link = last["@odata.deltaLink"]
        .as_str()
        .ok_or_else(|| ApiError::Json {
            url: url.clone(),
            message: "the delta round ended without a deltaLink".to_owned(),
        })?
        .to_owned();
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
    let ids: Vec<&Guid> = ids.iter().collect();
    let urls: Vec<String> = ids.iter().map(|id| format!("/users/{id}?$select={USER_SELECT}")).collect();
    let mut fresh = Vec::with_capacity(ids.len());
    let mut failure = None;
    batch::get_all(&ctx.client, urls, ctx.concurrency(), |i, answer| {
        match answer.status {
            200 => fresh.extend(parse::user(&answer.body)),
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
