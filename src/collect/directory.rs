//! Directory parts: users, sign-in activity, mailbox purposes, groups with their members (one delta stream),
//! group owners, and PIM for groups.

use std::collections::HashSet;

use serde_json::Value;

use crate::azure::{ApiError, Service};
use crate::collect::batch;
use crate::collect::parse::{self, GROUP_SELECT, USER_SELECT};
use crate::collect::{Ctx, Finished, PartResult, audit, conclude, since, skipped};
use crate::model::{Grant, GrantState, Guid, Origin, Relation};
use crate::store::Batch;

/// Users, then (with `--mailbox-settings`) each user's mailbox purpose.
pub(super) async fn users_and_mailboxes(ctx: Ctx) -> Vec<Finished> {
    if let Some(ext) = &ctx.options.external {
        let mut batch =
            Batch { principals: ext.principals.clone(), grants: ext.memberships.clone(), ..Batch::default() };
        for p in &mut batch.principals {
            p.origin = Origin::External;
        }
        let n = batch.principals.len() as u64;
        ctx.sink.send(batch).await;
        return vec![
            conclude("external_identities", "-", Ok(n)),
            skipped("users", "--external-identities"),
            skipped("mailbox_settings", "--external-identities"),
        ];
    }
    if let Some(users) = ctx.left_out("users") {
        let mailboxes = ctx.left_out("mailbox_settings").unwrap_or_else(|| skipped("mailbox_settings", "--skip-parts"));
        return vec![users, mailboxes];
    }
    let mut ids: Vec<Guid> = Vec::new();
    // Mailbox purposes taken from the previous snapshot (`--since`), for users not read again.
    let mut carried: Vec<(Guid, String)> = Vec::new();
    let keep_ids = ctx.options.mailbox_settings;
    let (result, detail) = match &ctx.options.since {
        Some(since) => match ctx.part("users", since::users(&ctx, since)).await {
            Ok(since::Users::Changed { fresh, replaced, removed, link }) => {
                ctx.keep_delta_link(since::USERS, link);
                let detail =
                    format!("incremental: {} changed, {removed} removed since the previous snapshot", fresh.len());
                let kept: Vec<&crate::model::Principal> =
                    since.users.iter().filter(|p| !replaced.contains(&p.id)).collect();
                let fresh_ids: Vec<Guid> = fresh.iter().map(|p| p.id.clone()).collect();
                // Mailbox purposes: PREV's for the users kept, when PREV has them all.
                match since.mailboxes.as_ref().filter(|_| keep_ids) {
                    Some(previous) => {
                        carried = previous.iter().filter(|(id, _)| !replaced.contains(id)).cloned().collect();
                        ids = fresh_ids;
                    }
                    None if keep_ids => ids = kept.iter().map(|p| p.id.clone()).chain(fresh_ids).collect(),
                    None => {}
                }
                let n = (kept.len() + fresh.len()) as u64;
                ctx.sink
                    .send_all(kept.into_iter().cloned().chain(fresh), |principals| Batch {
                        principals,
                        ..Batch::default()
                    })
                    .await;
                (Ok(n), Some(detail))
            }
            Ok(since::Users::Full(why)) => (full_users(&ctx, keep_ids, &mut ids).await, Some(why.to_owned())),
            Err(e) => (Err(e), None),
        },
        None => (full_users(&ctx, keep_ids, &mut ids).await, None),
    };
    let users_ok = result.is_ok();
    let mut users = conclude("users", "User.Read.All", result);
    if users_ok {
        users.part.detail = detail;
    }
    let mut out = vec![users];
    if !ctx.options.mailbox_settings {
        out.push(skipped("mailbox_settings", "--mailbox-settings not given"));
    } else if let Some(s) = ctx.left_out("mailbox_settings") {
        out.push(s);
    } else if users_ok {
        let read = ctx.part("mailbox_settings", mailboxes(&ctx, ids, carried)).await;
        out.push(conclude("mailbox_settings", "MailboxSettings.Read", read));
    } else {
        out.push(conclude(
            "mailbox_settings",
            "User.Read.All",
            Err(ApiError::Status {
                service: "graph",
                status: 0,
                code: "NoUsers".to_owned(),
                message: "users could not be read".to_owned(),
                url: String::new(),
            }),
        ));
    }
    out
}

/// Every user, read in full; the users delta link for the next `--since` is asked for first, so no change made
/// during the read is missed.
async fn full_users(ctx: &Ctx, keep_ids: bool, ids: &mut Vec<Guid>) -> PartResult {
    let latest = since::latest_users_link(ctx).await;
    let url = ctx.graph(&format!("/v1.0/users?$select={USER_SELECT}&$top=999"));
    let read = ctx
        .part(
            "users",
            ctx.stream(Service::Graph, &url, |items| {
                let principals: Vec<_> = items.iter().filter_map(parse::user).collect();
                if keep_ids {
                    ids.extend(principals.iter().map(|p| p.id.clone()));
                }
                Batch { principals, ..Batch::default() }
            }),
        )
        .await;
    if read.is_ok()
        && let Some(link) = latest
    {
        ctx.keep_delta_link(since::USERS, link);
    }
    read
}

/// The mailbox purpose of each user in `ids` through `$batch`, and the `carried` purposes as they are; users
/// without a mailbox are kept, with purpose `none`.
async fn mailboxes(ctx: &Ctx, ids: Vec<Guid>, carried: Vec<(Guid, String)>) -> PartResult {
    let urls: Vec<String> = ids.iter().map(|id| format!("/users/{id}/mailboxSettings/userPurpose")).collect();
    let mut found: Vec<(Guid, String)> = Vec::with_capacity(ids.len() + carried.len());
    let mut denied = None;
    batch::get_all(&ctx.client, urls, ctx.concurrency(), |i, answer| {
        let purpose = match answer.status {
            200 => answer.body["value"]
                .as_str()
                .or_else(|| answer.body["value"]["value"].as_str())
                .map(|p| match p {
                    "user" | "linked" | "shared" | "room" | "equipment" | "others" => p.to_owned(),
                    _ => "unknown".to_owned(),
                })
                .unwrap_or_else(|| "unknown".to_owned()),
            404 => "none".to_owned(),
            403 if answer.body["error"]["code"] == "ErrorAccessDenied" => "unknown".to_owned(),
            403 => {
                denied = Some(answer.body["error"]["code"].as_str().unwrap_or("Forbidden").to_owned());
                "unknown".to_owned()
            }
            _ => "unknown".to_owned(),
        };
        found.push((ids[i].clone(), purpose));
        Ok(())
    })
    .await?;
    if let Some(code) = denied.filter(|_| found.iter().all(|(_, p)| p == "unknown")) {
        return Err(ApiError::Status {
            service: "graph",
            status: 403,
            code,
            message: "mailbox settings denied".to_owned(),
            url: String::new(),
        });
    }
    found.extend(carried);
    let n = found.len() as u64;
    for chunk in found.chunks(2_000) {
        ctx.sink.send(Batch { mailboxes: chunk.to_vec(), ..Batch::default() }).await;
    }
    Ok(n)
}

/// Sign-in activity, read apart from users: it has its own (much tighter) throttling tier and license.
pub(super) async fn sign_ins(ctx: Ctx) -> Vec<Finished> {
    if ctx.options.external.is_some() {
        return vec![skipped("sign_in_activity", "--external-identities")];
    }
    if let Some(s) = ctx.left_out("sign_in_activity") {
        return vec![s];
    }
    if let Some(since) = &ctx.options.since
        && let Some(previous) = &since.sign_ins
    {
        let read = ctx.part("sign_in_activity", since::sign_ins(&ctx, previous, &since.started_at)).await;
        let mut done = conclude("sign_in_activity", "AuditLog.Read.All", read);
        if done.part.status == crate::model::PartStatus::Complete {
            done.part.detail = Some("incremental: users who signed in since the previous snapshot".to_owned());
        }
        return vec![done];
    }
    let url = ctx.graph("/v1.0/users?$select=id,signInActivity&$top=500");
    let result = ctx
        .part(
            "sign_in_activity",
            ctx.stream(Service::Graph, &url, |items| Batch {
                sign_ins: items.iter().filter_map(since::sign_in).collect(),
                ..Batch::default()
            }),
        )
        .await;
    vec![conclude("sign_in_activity", "AuditLog.Read.All", result)]
}

/// A group worth asking PIM about: security, assigned membership, cloud-only.
struct GroupFacts {
    id: Guid,
    pim_capable: bool,
}

impl GroupFacts {
    fn of(p: &crate::model::Principal) -> Self {
        let dynamic = p.group_types.as_deref().is_some_and(|t| t.contains("DynamicMembership"));
        GroupFacts {
            id: p.id.clone(),
            pim_capable: p.security_enabled == Some(true) && !dynamic && p.on_premises_sync != Some(true),
        }
    }
}

/// Every group with its direct members: one `groups/delta` stream, whose delta link is kept for the next
/// `--since`.
async fn full_groups(ctx: &Ctx, facts: &mut Vec<GroupFacts>) -> PartResult {
    let mut seen: HashSet<Guid> = HashSet::new();
    let url = ctx.graph(&format!("/v1.0/groups/delta?$select={GROUP_SELECT},members"));
    let skip_ad = ctx.options.skip_ad_groups;
    let read = async {
        let mut n = 0u64;
        let mut pager = ctx.client.pager(Service::Graph, &url, &[]);
        while let Some(items) = pager.next().await? {
            let mut batch = Batch::default();
            for g in &items {
                if g.get("@removed").is_some() {
                    continue;
                }
                let Some(p) = parse::group(g) else { continue };
                if skip_ad && p.on_premises_sync == Some(true) {
                    batch.excluded.push(p.id.clone());
                    continue;
                }
                for m in g.get("members@delta").and_then(Value::as_array).into_iter().flatten() {
                    if m.get("@removed").is_none()
                        && let Some(link) = parse::link(m, Relation::Member, &p.id)
                    {
                        batch.grants.push(link);
                        // The part's objects: the groups and their membership rows.
                        n += 1;
                    }
                }
                if seen.insert(p.id.clone()) {
                    facts.push(GroupFacts::of(&p));
                    n += 1;
                }
                batch.principals.push(p);
            }
            ctx.sink.send(batch).await;
        }
        if let Some(link) = pager.last["@odata.deltaLink"].as_str() {
            ctx.keep_delta_link(since::GROUPS, link.to_owned());
        }
        Ok(n)
    };
    ctx.part("groups", read).await
}

/// Groups and their direct members (one `groups/delta` stream), then owners (`$batch`), then PIM for groups.
pub(super) async fn groups_owners_and_pim(ctx: Ctx) -> Vec<Finished> {
    if let Some(ext) = &ctx.options.external {
        let groups: Vec<Guid> = ext
            .principals
            .iter()
            .filter(|p| p.kind == crate::model::PrincipalKind::Group)
            .map(|p| p.id.clone())
            .collect();
        let mut out =
            vec![skipped("groups", "--external-identities"), skipped("group_owners", "--external-identities")];
        out.push(
            group_pim_part(&ctx, groups.into_iter().map(|id| GroupFacts { id, pim_capable: true }).collect()).await,
        );
        return out;
    }
    if let Some(groups) = ctx.left_out("groups") {
        let rest = ["group_owners", "group_pim"].map(|p| ctx.left_out(p).unwrap_or_else(|| skipped(p, "--skip-parts")));
        return std::iter::once(groups).chain(rest).collect();
    }
    let mut facts: Vec<GroupFacts> = Vec::new();
    let (result, detail) = match &ctx.options.since {
        Some(since) => match ctx.part("groups", since::groups(&ctx, since)).await {
            Ok(since::Groups::Changed(c)) => {
                ctx.keep_delta_link(since::GROUPS, c.link);
                let detail =
                    format!("incremental: {} changed, {} removed since the previous snapshot", c.changed, c.removed);
                facts = c.groups.iter().map(GroupFacts::of).collect();
                let n = (c.groups.len() + c.added.len()) as u64;
                ctx.sink.send_all(c.groups, |principals| Batch { principals, ..Batch::default() }).await;
                ctx.sink.send_all(c.added, |grants| Batch { grants, ..Batch::default() }).await;
                let carried = ctx.part("groups", since::carry_memberships(&ctx, since.path.clone(), c.dropped)).await;
                (carried.map(|m| n + m), Some(detail))
            }
            Ok(since::Groups::Full(why)) => (full_groups(&ctx, &mut facts).await, Some(why.to_owned())),
            Err(e) => (Err(e), None),
        },
        None => (full_groups(&ctx, &mut facts).await, None),
    };
    let ok = result.is_ok();
    let mut groups = conclude("groups", "GroupMember.Read.All", result);
    if ok {
        groups.part.detail = detail;
    }
    let mut out = vec![groups];
    if !ok {
        return out;
    }
    let ids: Vec<Guid> = facts.iter().map(|f| f.id.clone()).collect();
    let (owned, pim) = tokio::join!(
        ctx.unless_left_out("group_owners", owners_part(&ctx, "group_owners", "GroupMember.Read.All", &ids, "groups")),
        ctx.unless_left_out("group_pim", group_pim_part(&ctx, facts))
    );
    out.push(owned);
    out.push(pim);
    out
}

/// Part `name`: the owners of the objects `ids` of `collection` — all of them, or in an incremental collection
/// those the audit log says may have changed.
pub(super) async fn owners_part(ctx: &Ctx, name: &str, permission: &str, ids: &[Guid], collection: &str) -> Finished {
    audit::part(ctx, name, permission, ids, async |r: audit::Read| {
        if r.whole { owners(ctx, &r.ids, collection).await } else { owners_each(ctx, &r.ids, collection).await }
    })
    .await
}

/// Graph's limit on an expanded relationship: at most this many items, with no link to the rest.
const EXPAND_LIMIT: usize = 20;

/// Owners of each object in `ids`: pages of `/{collection}?$expand=owners` (100 objects a page), and for an object
/// whose expanded list may have been cut at Graph's 20, its `/{collection}/{id}/owners` through `$batch`.
pub(super) async fn owners(ctx: &Ctx, ids: &[Guid], collection: &str) -> PartResult {
    let wanted: HashSet<&Guid> = ids.iter().collect();
    let url = ctx.graph(&format!("/v1.0/{collection}?$select=id&$expand=owners($select=id)&$top=100"));
    let mut grants = Vec::new();
    let mut cut: Vec<Guid> = Vec::new();
    ctx.client
        .pages(Service::Graph, &url, &[], |items| {
            for item in &items {
                let Some(id) = parse::guid(item, "id").filter(|id| wanted.contains(id)) else { continue };
                let listed = item.get("owners").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                if listed.len() >= EXPAND_LIMIT {
                    cut.push(id);
                } else {
                    grants.extend(listed.iter().filter_map(|o| parse::link(o, Relation::Owner, &id)));
                }
            }
            Ok(())
        })
        .await?;
    let n = grants.len() as u64;
    ctx.sink.send_all(grants, |grants| Batch { grants, ..Batch::default() }).await;
    Ok(n + owners_each(ctx, &cut, collection).await?)
}

/// Owners of each object in `ids` under `/{collection}/{id}/owners`, via `$batch`.
async fn owners_each(ctx: &Ctx, ids: &[Guid], collection: &str) -> PartResult {
    if ids.is_empty() {
        return Ok(0);
    }
    let urls: Vec<String> = ids.iter().map(|id| format!("/{collection}/{id}/owners?$select=id&$top=999")).collect();
    let mut grants = Vec::new();
    let mut more: Vec<(usize, String)> = Vec::new();
    let mut denied = None;
    batch::get_all(&ctx.client, urls, ctx.concurrency(), |i, answer| {
        match answer.status {
            200 => {
                for o in answer.body["value"].as_array().into_iter().flatten() {
                    if let Some(g) = parse::link(o, Relation::Owner, &ids[i]) {
                        grants.push(g);
                    }
                }
                if let Some(next) = answer.body["@odata.nextLink"].as_str() {
                    more.push((i, next.to_owned()));
                }
            }
            404 => {}
            _ => {
                denied = Some(answer.error(""));
            }
        }
        Ok(())
    })
    .await?;
    if let Some(e) = denied {
        return Err(e);
    }
    for (i, next) in more {
        ctx.client
            .pages(Service::Graph, &next, &[], |items| {
                grants.extend(items.iter().filter_map(|o| parse::link(o, Relation::Owner, &ids[i])));
                Ok(())
            })
            .await?;
    }
    let n = grants.len() as u64;
    ctx.sink.send_all(grants, |grants| Batch { grants, ..Batch::default() }).await;
    Ok(n)
}

async fn group_pim_part(ctx: &Ctx, groups: Vec<GroupFacts>) -> Finished {
    if ctx.options.skip_p2 {
        return skipped("group_pim", "--skip-p2");
    }
    let ids: Vec<Guid> = groups.into_iter().filter(|g| g.pim_capable).map(|g| g.id).collect();
    audit::part(ctx, "group_pim", "PrivilegedEligibilitySchedule.Read.AzureADGroup", &ids, async |r: audit::Read| {
        // One request first, so an unlicensed tenant or a missing permission is told apart at once — also when
        // nothing is read again.
        let Some(first) = ids.first() else { return Ok(0) };
        let probe = ctx.graph(&format!(
            "/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=groupId eq '{first}'"
        ));
        ctx.client.get(Service::Graph, &probe, &[]).await?;
        group_pim(ctx, &r.ids).await
    })
    .await
}

/// PIM for groups: eligible (and time-bound) membership and ownership of the groups `ids`, through `$batch`.
async fn group_pim(ctx: &Ctx, ids: &[Guid]) -> PartResult {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut urls = Vec::with_capacity(ids.len() * 2);
    for id in ids {
        for which in ["eligibilityScheduleInstances", "assignmentScheduleInstances"] {
            urls.push(format!("/identityGovernance/privilegedAccess/group/{which}?$filter=groupId eq '{id}'"));
        }
    }
    let mut grants = Vec::new();
    let mut failure = None;
    batch::get_all(&ctx.client, urls, ctx.concurrency(), |i, answer| {
        if answer.status != 200 {
            failure = Some(answer.error(""));
            return Ok(());
        }
        let eligible = i % 2 == 0;
        for s in answer.body["value"].as_array().into_iter().flatten() {
            if parse::text(s, "memberType").is_some_and(|m| !m.eq_ignore_ascii_case("Direct")) {
                continue;
            }
            let (Some(principal), Some(group)) = (parse::guid(s, "principalId"), parse::guid(s, "groupId")) else {
                continue;
            };
            let relation =
                if parse::text(s, "accessId").as_deref() == Some("owner") { Relation::Owner } else { Relation::Member };
            let mut g = Grant::new(principal, relation, group.to_string());
            g.state = if eligible { GrantState::Eligible } else { GrantState::Active };
            g.start_at = parse::time(s, "startDateTime");
            g.end_at = parse::time(s, "endDateTime");
            g.member_type = parse::text(s, "memberType");
            g.assignment_type = parse::text(s, "assignmentType");
            g.source_id = parse::text(s, "id");
            grants.push(g);
        }
        Ok(())
    })
    .await?;
    if let Some(e) = failure {
        return Err(e);
    }
    let n = grants.len() as u64;
    ctx.sink.send(Batch { grants, ..Batch::default() }).await;
    Ok(n)
}
