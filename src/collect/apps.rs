//! Applications: service principals (enterprise apps, Microsoft first-party apps, managed identities) with the
//! app roles they define, app role assignments on each, their owners, and delegated permission grants.

use crate::azure::Service;
use crate::collect::parse::{self, SP_SELECT};
use crate::collect::{Ctx, Finished, PartResult, audit, batch, conclude, directory, skipped};
use crate::model::{Grant, Guid, Relation, RoleDefinition, RoleKind};
use crate::store::Batch;

pub(super) async fn service_principals_and_assignments(ctx: Ctx) -> Vec<Finished> {
    const DEPENDENT: [&str; 2] = ["app_role_assignments", "service_principal_owners"];
    if let Some(listed) = ctx.left_out("service_principals") {
        let rest = DEPENDENT.map(|p| ctx.left_out(p).unwrap_or_else(|| skipped(p, "--skip-parts")));
        return std::iter::once(listed).chain(rest).collect();
    }
    let mut ids: Vec<Guid> = Vec::new();
    let listed = ctx.part("service_principals", list(&ctx, &mut ids)).await;
    let ok = listed.is_ok();
    let mut out = vec![conclude("service_principals", "Application.Read.All", listed)];
    if ok {
        let (assigned, owned) = tokio::join!(
            ctx.unless_left_out(
                DEPENDENT[0],
                audit::part(&ctx, DEPENDENT[0], "Application.Read.All", &ids, async |r: audit::Read| {
                    assignments(&ctx, &r.ids, &r.carried).await
                })
            ),
            ctx.unless_left_out(
                DEPENDENT[1],
                directory::owners_part(&ctx, DEPENDENT[1], "Application.Read.All", &ids, "servicePrincipals")
            )
        );
        out.push(assigned);
        out.push(owned);
    }
    out
}

async fn list(ctx: &Ctx, ids: &mut Vec<Guid>) -> PartResult {
    let url = ctx.graph(&format!("/v1.0/servicePrincipals?$select={SP_SELECT}&$top=999"));
    ctx.stream(Service::Graph, &url, |items| {
        let mut batch = Batch::default();
        for item in &items {
            let Some((p, roles)) = parse::service_principal(item) else { continue };
            ids.push(p.id.clone());
            batch.principals.push(p);
            batch.role_definitions.extend(roles);
        }
        batch
    })
    .await
}

/// Who holds app roles on each service principal in `ids` (`appRoleAssignedTo`), through `$batch`; `carried` are
/// the assignments kept from a previous snapshot, already sent.
async fn assignments(ctx: &Ctx, ids: &[Guid], carried: &[Grant]) -> PartResult {
    let urls: Vec<String> =
        ids.iter().map(|id| format!("/servicePrincipals/{id}/appRoleAssignedTo?$top=999")).collect();
    let mut grants = Vec::new();
    let mut more = Vec::new();
    let mut failure = None;
    batch::get_all(&ctx.client, urls, ctx.concurrency(), |i, answer| {
        match answer.status {
            200 => {
                grants.extend(answer.body["value"].as_array().into_iter().flatten().filter_map(assignment));
                if let Some(next) = answer.body["@odata.nextLink"].as_str() {
                    more.push(next.to_owned());
                }
            }
            404 => {}
            _ => failure = Some(answer.error(&format!("servicePrincipals/{}/appRoleAssignedTo", ids[i]))),
        }
        Ok(())
    })
    .await?;
    if let Some(e) = failure {
        return Err(e);
    }
    for next in more {
        ctx.client
            .pages(Service::Graph, &next, &[], |items| {
                grants.extend(items.iter().filter_map(assignment));
                Ok(())
            })
            .await?;
    }
    // Assignments of the all-zero "default access" role name a role no app lists: describe it.
    let defaults: Vec<RoleDefinition> = grants
        .iter()
        .chain(carried)
        .filter(|g| g.role_id == Guid::nil().as_str())
        .map(|g| {
            let mut d = RoleDefinition::new(RoleKind::App, g.target_id.clone(), Guid::nil());
            d.name = Some("Default Access".to_owned());
            d.description = Some("Access to the application without a specific app role".to_owned());
            d.builtin = Some(true);
            d
        })
        .collect();
    let n = grants.len() as u64;
    ctx.sink.send_all(grants, |grants| Batch { grants, ..Batch::default() }).await;
    ctx.sink.send(Batch { role_definitions: defaults, ..Batch::default() }).await;
    Ok(n)
}

fn assignment(a: &serde_json::Value) -> Option<Grant> {
    let mut g =
        Grant::new(parse::guid(a, "principalId")?, Relation::AppRole, parse::guid(a, "resourceId")?.to_string());
    g.principal_type = parse::text(a, "principalType");
    g.role_id = parse::guid(a, "appRoleId")?.to_string();
    g.created_at = parse::time(a, "createdDateTime");
    g.source_id = parse::text(a, "id");
    Some(g)
}

/// Delegated permission grants: the client app holds the scopes on the resource, for everyone (`/`) or one user.
pub(super) async fn delegated_grants(ctx: Ctx) -> Vec<Finished> {
    if let Some(s) = ctx.left_out("delegated_grants") {
        return vec![s];
    }
    let url = ctx.graph("/v1.0/oauth2PermissionGrants?$top=999");
    let result = ctx
        .part(
            "delegated_grants",
            ctx.stream(Service::Graph, &url, |items| {
                let grants = items
                    .iter()
                    .filter_map(|d| {
                        let mut g = Grant::new(
                            parse::guid(d, "clientId")?,
                            Relation::Delegated,
                            parse::guid(d, "resourceId")?.to_string(),
                        );
                        let mut scopes: Vec<&str> =
                            d["scope"].as_str().unwrap_or_default().split_whitespace().collect();
                        scopes.sort_unstable();
                        scopes.dedup();
                        g.role_id = scopes.join(" ");
                        g.scope = match (parse::text(d, "consentType").as_deref(), parse::guid(d, "principalId")) {
                            (Some("Principal"), Some(user)) => format!("/users/{user}"),
                            _ => "/".to_owned(),
                        };
                        g.principal_type = Some("ServicePrincipal".to_owned());
                        g.source_id = parse::text(d, "id");
                        Some(g)
                    })
                    .collect();
                Batch { grants, ..Batch::default() }
            }),
        )
        .await;
    vec![conclude("delegated_grants", "DelegatedPermissionGrant.Read.All", result)]
}
