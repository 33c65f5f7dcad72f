//! Directory roles: definitions, active assignments (with their PIM time bounds when the tenant has P2), and
//! PIM-eligible assignments.

use std::collections::HashMap;

use crate::azure::{ApiError, Service};
use crate::collect::parse;
use crate::collect::{Ctx, Finished, PartResult, conclude, skipped};
use crate::model::{Grant, GrantState, Relation, RoleDefinition, RoleKind};
use crate::store::Batch;

pub(super) async fn directory_roles(ctx: Ctx) -> Vec<Finished> {
    if let Some(roles) = ctx.left_out("directory_roles") {
        let pim = ctx.left_out("directory_role_pim").unwrap_or_else(|| skipped("directory_role_pim", "--skip-parts"));
        return vec![roles, pim];
    }
    let mut out = Vec::new();
    // Time bounds of active assignments come from PIM; without P2 every active assignment is permanent.
    let (schedules, pim) = if ctx.options.skip_p2 {
        (HashMap::new(), None)
    } else {
        match active_schedules(&ctx).await {
            Ok(s) => (s, Some(Ok(()))),
            Err(e) => (HashMap::new(), Some(Err(e))),
        }
    };
    let read = ctx.part("directory_roles", definitions_and_assignments(&ctx, &schedules)).await;
    out.push(conclude("directory_roles", "RoleManagement.Read.Directory", read));
    out.push(match pim {
        _ if ctx.leaves_out("directory_role_pim") => {
            ctx.left_out("directory_role_pim").unwrap_or_else(|| skipped("directory_role_pim", "--skip-parts"))
        }
        None => skipped("directory_role_pim", "--skip-p2"),
        Some(Err(e)) => conclude("directory_role_pim", "RoleEligibilitySchedule.Read.Directory", Err(e)),
        Some(Ok(())) => {
            let read = ctx.part("directory_role_pim", eligible(&ctx)).await;
            conclude("directory_role_pim", "RoleEligibilitySchedule.Read.Directory", read)
        }
    });
    out
}

/// `(principal, role, scope)` → (assignment type, member type, start, end) of active schedule instances.
type Schedules = HashMap<
    (String, String, String),
    (Option<String>, Option<String>, Option<crate::model::Timestamp>, Option<crate::model::Timestamp>),
>;

async fn active_schedules(ctx: &Ctx) -> Result<Schedules, ApiError> {
    let url = ctx.graph("/v1.0/roleManagement/directory/roleAssignmentScheduleInstances?$top=999");
    let mut out = HashMap::new();
    ctx.client
        .pages(Service::Graph, &url, &[], |items| {
            for s in &items {
                let key = (
                    parse::text(s, "principalId").unwrap_or_default().to_ascii_lowercase(),
                    parse::text(s, "roleDefinitionId").unwrap_or_default().to_ascii_lowercase(),
                    parse::text(s, "directoryScopeId").unwrap_or_else(|| "/".to_owned()),
                );
                out.insert(
                    key,
                    (
                        parse::text(s, "assignmentType"),
                        parse::text(s, "memberType"),
                        parse::time(s, "startDateTime"),
                        parse::time(s, "endDateTime"),
                    ),
                );
            }
            Ok(())
        })
        .await?;
    Ok(out)
}

async fn definitions_and_assignments(ctx: &Ctx, schedules: &Schedules) -> PartResult {
    let mut n = 0u64;
    let url = ctx.graph("/v1.0/roleManagement/directory/roleDefinitions?$top=999");
    let mut role_ids = Vec::new();
    let mut pager = ctx.client.pager(Service::Graph, &url, &[]);
    while let Some(items) = pager.next().await? {
        let defs: Vec<RoleDefinition> = items
            .iter()
            .filter_map(|d| {
                let mut r = RoleDefinition::new(RoleKind::Directory, "", parse::guid(d, "id")?);
                r.name = parse::text(d, "displayName");
                r.description = parse::text(d, "description");
                r.builtin = parse::boolean(d, "isBuiltIn");
                r.enabled = parse::boolean(d, "isEnabled");
                r.permissions = parse::canonical(d.get("rolePermissions"));
                r.assignable_scopes = parse::canonical(d.get("resourceScopes"));
                Some(r)
            })
            .collect();
        role_ids.extend(defs.iter().map(|d| d.id.clone()));
        n += defs.len() as u64;
        ctx.sink.send(Batch { role_definitions: defs, ..Batch::default() }).await;
    }
    let to_grant = |a: &serde_json::Value| -> Option<Grant> {
        let mut g = Grant::new(parse::guid(a, "principalId")?, Relation::DirectoryRole, ctx.tenant_id.to_string());
        g.role_id = parse::guid(a, "roleDefinitionId")?.to_string();
        g.scope = parse::text(a, "directoryScopeId").unwrap_or_else(|| "/".to_owned());
        g.source_id = parse::text(a, "id");
        if let Some((assignment_type, member_type, start, end)) =
            schedules.get(&(g.principal_id.to_string(), g.role_id.clone(), g.scope.clone()))
        {
            g.assignment_type = assignment_type.clone();
            g.member_type = member_type.clone();
            g.start_at = *start;
            g.end_at = *end;
        }
        Some(g)
    };
    let url = ctx.graph("/v1.0/roleManagement/directory/roleAssignments?$top=999");
    let mut pager = ctx.client.pager(Service::Graph, &url, &[]);
    let first = pager.next().await;
    match first {
        Err(e) if e.status() == Some(400) => {
            // Older service versions require a filter: ask per role definition.
            for role in role_ids {
                let url = ctx.graph(&format!(
                    "/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '{role}'"
                ));
                let mut p = ctx.client.pager(Service::Graph, &url, &[]);
                while let Some(items) = p.next().await? {
                    let grants: Vec<Grant> = items.iter().filter_map(to_grant).collect();
                    n += grants.len() as u64;
                    ctx.sink.send(Batch { grants, ..Batch::default() }).await;
                }
            }
        }
        Err(e) => return Err(e),
        Ok(mut page) => {
            while let Some(items) = page {
                let grants: Vec<Grant> = items.iter().filter_map(to_grant).collect();
                n += grants.len() as u64;
                ctx.sink.send(Batch { grants, ..Batch::default() }).await;
                page = pager.next().await?;
            }
        }
    }
    Ok(n)
}

/// PIM eligibility for directory roles (direct eligibility only: eligibility through a group is the group's).
async fn eligible(ctx: &Ctx) -> PartResult {
    let url = ctx.graph("/v1.0/roleManagement/directory/roleEligibilityScheduleInstances?$top=999");
    let mut n = 0u64;
    let mut pager = ctx.client.pager(Service::Graph, &url, &[]);
    while let Some(items) = pager.next().await? {
        let grants: Vec<Grant> = items
            .iter()
            .filter(|e| parse::text(e, "memberType").is_none_or(|m| m.eq_ignore_ascii_case("Direct")))
            .filter_map(|e| {
                let mut g =
                    Grant::new(parse::guid(e, "principalId")?, Relation::DirectoryRole, ctx.tenant_id.to_string());
                g.role_id = parse::guid(e, "roleDefinitionId")?.to_string();
                g.scope = parse::text(e, "directoryScopeId").unwrap_or_else(|| "/".to_owned());
                g.state = GrantState::Eligible;
                g.start_at = parse::time(e, "startDateTime");
                g.end_at = parse::time(e, "endDateTime");
                g.member_type = parse::text(e, "memberType");
                g.source_id = parse::text(e, "roleEligibilityScheduleId").or_else(|| parse::text(e, "id"));
                Some(g)
            })
            .collect();
        n += grants.len() as u64;
        ctx.sink.send(Batch { grants, ..Batch::default() }).await;
    }
    Ok(n)
}
