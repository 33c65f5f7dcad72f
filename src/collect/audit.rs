//! The change signal for the parts no delta query covers — group owners, PIM for groups, app role assignments and
//! service principal owners — in an incremental collection (`collect --since PREV`).
//!
//! The directory audit log (`auditLogs/directoryAudits`) has an entry for every change to them, naming the objects
//! it touched. It is read once, from a margin before PREV started (entries reach the log late); every object named
//! by an entry that can change these parts is read again, with the objects PREV did not have (created since) and
//! every object on which a named principal held something in PREV (a deleted user takes its grants along). The
//! other objects keep PREV's rows. When the log cannot be read (permission, license, retention) or PREV lacks the
//! part, the part is read in full and says why.

use std::collections::HashSet;

use crate::azure::{AzureClient, Service};
use crate::collect::parse;
use crate::collect::{Ctx, Finished, PartResult, Since, conclude};
use crate::model::{Grant, Guid, PartStatus, Timestamp};
use crate::store::Batch;

/// How long before PREV's start the log is read from: entries reach it up to this late.
pub(super) const MARGIN_MINUTES: i64 = 15;

/// How far back the log reaches on every licence (Microsoft Entra ID Free keeps 7 days).
pub(super) const RETENTION_DAYS: i64 = 7;

/// Activities (by Core Directory) that cannot change an owner, an app role assignment or a PIM for groups
/// schedule: the bulk of a tenant's churn, skipped so that they cost no reads.
const NO_EFFECT: &[&str] = &[
    "Update user",
    "Update group",
    "Update service principal",
    "Update application",
    "Add member to group",
    "Remove member from group",
    "Add member to role",
    "Remove member from role",
];

/// What the audit log says changed since PREV: the objects named by entries that can change the carried parts.
#[derive(Debug)]
pub(crate) struct Changes {
    named: HashSet<Guid>,
    /// When this run started: a kept row that has ended by then is dropped, as the service no longer lists it.
    at: Timestamp,
}

/// The audit log since a margin before PREV started, or why it cannot serve (the carried parts are then read in
/// full).
pub(super) async fn changes(client: &AzureClient, since: &Since, now: &Timestamp) -> Result<Changes, String> {
    let from = Timestamp::from(since.started_at.as_datetime() - chrono::Duration::minutes(MARGIN_MINUTES));
    if now.days_since(&from) >= RETENTION_DAYS {
        return Err(format!("full read: the previous snapshot is older than the audit log's {RETENTION_DAYS} days"));
    }
    let url = client
        .url(Service::Graph, &format!("/v1.0/auditLogs/directoryAudits?$filter=activityDateTime ge {from}&$top=999"));
    let mut changes = Changes { named: HashSet::new(), at: *now };
    let read = client
        .pages(Service::Graph, &url, &[], |items| {
            for entry in &items {
                let by_core = parse::text(entry, "loggedByService").as_deref() == Some("Core Directory");
                let activity = parse::text(entry, "activityDisplayName").unwrap_or_default();
                if by_core && NO_EFFECT.contains(&activity.as_str()) {
                    continue;
                }
                for target in entry["targetResources"].as_array().into_iter().flatten() {
                    changes.named.extend(parse::guid(target, "id"));
                }
            }
            Ok(())
        })
        .await;
    match read {
        Ok(_) => Ok(changes),
        Err(e) if e.is_license() => Err("full read: the audit log needs a licence this tenant lacks".to_owned()),
        Err(e) if e.is_denied() => {
            Err("full read: the audit log is not readable (needs AuditLog.Read.All and Directory.Read.All)".to_owned())
        }
        Err(e) => Err(format!("full read: the audit log could not be read ({e})")),
    }
}

/// PREV's rows of each part the audit log can carry, for the parts PREV has complete, each as that part reads it
/// (a row two parts wrote, such as an owner PIM for groups made active, is split back into each part's share).
pub fn carried_grants(
    snap: &crate::store::Snapshot,
    parts: &[crate::model::Part],
) -> Result<std::collections::BTreeMap<&'static str, Vec<Grant>>, crate::store::StoreError> {
    use crate::model::{GrantState, PrincipalKind, Relation};
    let apps = [PrincipalKind::ServicePrincipal, PrincipalKind::ManagedIdentity];
    let mut out = std::collections::BTreeMap::new();
    for &part in super::CARRIED_PARTS {
        if !parts.iter().any(|p| p.name == part && p.status == PartStatus::Complete) {
            continue;
        }
        let rows = match part {
            "app_role_assignments" => snap.grants_on(&[Relation::AppRole], &apps)?,
            "service_principal_owners" => {
                snap.grants_on(&[Relation::Owner], &apps)?.into_iter().filter_map(as_listed).collect()
            }
            "group_owners" => {
                snap.grants_on(&[Relation::Owner], &[PrincipalKind::Group])?.into_iter().filter_map(as_listed).collect()
            }
            // PIM for groups: what is eligible, and what an assignment schedule made active, without the principal
            // type (which only a listing of members or owners gives).
            // (Streamed: the member rows of groups are mostly memberships, which are not kept here.)
            _ => {
                let mut rows = Vec::new();
                snap.each_grant_on(&[Relation::Member, Relation::Owner], &[PrincipalKind::Group], |mut g| {
                    if g.state == GrantState::Eligible || g.source_id.is_some() {
                        g.principal_type = None;
                        rows.push(g);
                    }
                })?;
                rows
            }
        };
        out.insert(part, rows);
    }
    Ok(out)
}

/// A member or owner row as a listing of members or owners gives it (principal, relation, target and principal
/// type), or `None` for one only PIM for groups gave (active, with a schedule id and no principal type).
pub(super) fn as_listed(g: Grant) -> Option<Grant> {
    use crate::model::GrantState;
    if g.state != GrantState::Active || (g.principal_type.is_none() && g.source_id.is_some()) {
        return None;
    }
    let mut listed = Grant::new(g.principal_id, g.relation, g.target_id);
    listed.principal_type = g.principal_type;
    Some(listed)
}

/// What one read of a carried part is asked to do.
pub(super) struct Read {
    /// The objects to read.
    pub ids: Vec<Guid>,
    /// Whether `ids` are all of them (a full read, which may page the whole collection).
    pub whole: bool,
    /// PREV's rows kept, already sent; a part that derives more rows from its grants sees them here.
    pub carried: Vec<Grant>,
}

/// Runs part `name` over the objects `current`: in full, or — in an incremental collection whose audit log
/// serves — over the objects that changed, with PREV's rows for the rest.
pub(super) async fn part(
    ctx: &Ctx,
    name: &str,
    permission: &str,
    current: &[Guid],
    read: impl AsyncFnOnce(Read) -> PartResult,
) -> Finished {
    let whole = |carried| Read { ids: current.to_vec(), whole: true, carried };
    let (result, detail) = match plan(ctx, name, current) {
        None => (ctx.part(name, read(whole(Vec::new()))).await, None),
        Some(Err(why)) => (ctx.part(name, read(whole(Vec::new()))).await, Some(why)),
        Some(Ok((rows, ids))) => {
            let kept = rows.len() as u64;
            ctx.sink.send_all(rows.iter().cloned(), |grants| Batch { grants, ..Batch::default() }).await;
            let detail = format!(
                "incremental: {} of {} read again, per the audit log since the previous snapshot",
                ids.len(),
                current.len()
            );
            let result = ctx.part(name, read(Read { ids, whole: false, carried: rows })).await;
            (result.map(|n| n + kept), Some(detail))
        }
    };
    let mut done = conclude(name, permission, result);
    if done.part.status == PartStatus::Complete {
        done.part.detail = detail;
    }
    done
}

/// `None` outside an incremental collection; else PREV's rows to keep and the objects to read again, or why the
/// part is read in full.
fn plan(ctx: &Ctx, name: &str, current: &[Guid]) -> Option<Result<Split, String>> {
    let since = ctx.options.since.as_ref()?;
    let changes = match ctx.changes.as_deref()? {
        Ok(c) => c,
        Err(why) => return Some(Err(why.clone())),
    };
    let Some(previous) = since.grants.get(name) else {
        return Some(Err("full read: the previous snapshot does not have this part complete".to_owned()));
    };
    Some(Ok(split(previous, current, &since.collected, &changes.named, &changes.at)))
}

/// PREV's rows kept, and the objects read again.
type Split = (Vec<Grant>, Vec<Guid>);

/// Splits `previous` rows into those kept and the objects of `current` read again: the objects `named`, those
/// `known` did not have, and those on which a named principal held something. A kept row's object is still there
/// and the row has not ended by `at`.
fn split(previous: &[Grant], current: &[Guid], known: &HashSet<Guid>, named: &HashSet<Guid>, at: &Timestamp) -> Split {
    let mut again: HashSet<&str> =
        current.iter().filter(|id| named.contains(*id) || !known.contains(*id)).map(Guid::as_str).collect();
    again.extend(previous.iter().filter(|g| named.contains(&g.principal_id)).map(|g| g.target_id.as_str()));
    let present: HashSet<&str> = current.iter().map(Guid::as_str).collect();
    let kept = previous
        .iter()
        .filter(|g| present.contains(g.target_id.as_str()) && !again.contains(g.target_id.as_str()))
        .filter(|g| g.end_at.as_ref().is_none_or(|end| end > at))
        .cloned()
        .collect();
    let reread = current.iter().filter(|id| again.contains(id.as_str())).cloned().collect();
    (kept, reread)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Relation;

    fn id(n: u8) -> Guid {
        format!("00000000-0000-4000-8000-0000000000{n:02x}").parse().unwrap()
    }

    #[test]
    fn named_new_and_touched_objects_are_read_again_and_the_rest_is_kept() {
        let at: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let row = |p: u8, t: u8| Grant::new(id(p), Relation::Owner, id(t).to_string());
        let mut ended = row(1, 14);
        ended.end_at = Some("2026-05-01T00:00:00Z".parse().unwrap());
        let previous = vec![row(1, 10), row(2, 11), row(3, 12), row(1, 13), ended, row(1, 15)];
        // 10 named; 12 held by a named principal (3); 16 new; 15 gone; 11 and 13 untouched; 14's row has ended.
        let current = vec![id(10), id(11), id(12), id(13), id(14), id(16)];
        let known: HashSet<Guid> = (10..=15).map(id).collect();
        let named: HashSet<Guid> = [id(10), id(3)].into();
        let (kept, reread) = split(&previous, &current, &known, &named, &at);
        assert_eq!(reread, vec![id(10), id(12), id(16)]);
        let kept: Vec<&str> = kept.iter().map(|g| g.target_id.as_str()).collect();
        assert_eq!(kept, vec![id(11).as_str(), id(13).as_str()]);
    }
}
