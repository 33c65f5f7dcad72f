//! Microsoft Graph (`/v1.0` and `/beta`): the router over the handlers.
//!
//! Inside, one way: [`common`] and [`role_state`] → the handlers [`directory`], [`apps`], [`roles`], [`pim`],
//! [`writes`], [`objects`], [`delta`], [`audit`] → this router. `$batch` is not here: the emulator hands its items back to itself.

mod apps;
mod audit;
mod common;
mod delta;
mod directory;
mod expand;
mod objects;
mod pim;
mod policies;
mod role_state;
mod roles;
mod writes;

use std::sync::RwLock;

use crate::auth::Caller;
use crate::http::{ApiRequest, ApiResponse, graph_error};
use crate::tenant::ObjectKind;
use crate::world::World;
use common::{Answer, existing, object_id, perms, require};

/// Answers a Graph request other than `$batch`; `rest` is the path after the version segment.
pub(crate) fn handle(
    world: &RwLock<World>,
    delta_max_age: u64,
    caller: &Caller,
    req: &ApiRequest,
    rest: &[&str],
) -> ApiResponse {
    let result = match req.method.as_str() {
        "GET" => get(&World::read(world), caller, req, rest, delta_max_age),
        "POST" if rest == ["directoryObjects", "getByIds"] => directory::get_by_ids(&World::read(world), caller, req),
        _ => {
            let mut world = World::write(world);
            objects::handle(&mut world, caller, req, rest)
                .unwrap_or_else(|| writes::handle(&mut world, caller, req, rest))
        }
    };
    result.unwrap_or_else(|e| e)
}

fn get(world: &World, caller: &Caller, req: &ApiRequest, rest: &[&str], delta_max_age: u64) -> Answer {
    match rest {
        ["organization"] => directory::organization(world, caller, req),
        ["auditLogs", "directoryAudits"] => audit::directory_audits(world, caller, req),
        ["users"] => directory::users(world, caller, req),
        [kind @ ("users" | "groups" | "servicePrincipals"), "delta"] => {
            delta::handle(world, caller, req, kind, delta_max_age)
        }
        ["users", id] => directory::single(world, caller, req, id, ObjectKind::User),
        ["directoryObjects", id] => directory::directory_object(world, caller, req, id),
        ["users", id, "manager"] => directory::manager(world, caller, req, id, false),
        ["users", id, "directReports"] => directory::manager(world, caller, req, id, true),
        ["policies", policy] => policies::policy(world, caller, req, policy),
        ["domains"] => policies::domains(world, caller, req, None),
        ["domains", name] => policies::domains(world, caller, req, Some(name)),
        ["users", id, "mailboxSettings"] => directory::mailbox(world, caller, req, id, false),
        ["users", id, "mailboxSettings", "userPurpose"] => directory::mailbox(world, caller, req, id, true),
        ["users", id, "appRoleAssignments"] | ["groups", id, "appRoleAssignments"] => {
            require(caller, perms::APP_ROLE_ASSIGNMENTS)?;
            let id = object_id(id)?;
            apps::app_role_assignments(world, req, |a| a.principal_id == id)
        }
        ["users", id, rel @ ("memberOf" | "transitiveMemberOf")] => {
            require(caller, perms::USERS)?;
            require(caller, perms::GROUPS)?;
            directory::member_of(world, req, id, ObjectKind::User, *rel == "transitiveMemberOf")
        }
        ["servicePrincipals", id, "transitiveMemberOf"] => {
            require(caller, perms::GROUPS)?;
            directory::member_of(world, req, id, ObjectKind::ServicePrincipal, true)
        }
        ["groups"] => directory::groups(world, caller, req),
        ["groups", id] => directory::single(world, caller, req, id, ObjectKind::Group),
        ["groups", id, rel @ ("members" | "owners" | "transitiveMembers"), cast @ ..] if cast.len() <= 1 => {
            require(caller, perms::GROUPS)?;
            directory::group_links(world, req, id, rel, cast.first().copied())
        }
        ["servicePrincipals"] => apps::service_principals(world, caller, req),
        [sp] if sp.starts_with("servicePrincipals(") => {
            let id = apps::sp_by_key(world, sp)?;
            directory::single(world, caller, req, &id, ObjectKind::ServicePrincipal)
        }
        ["servicePrincipals", id] => directory::single(world, caller, req, id, ObjectKind::ServicePrincipal),
        ["servicePrincipals", id, "appRoleAssignedTo"] => {
            require(caller, perms::APP_ROLE_ASSIGNMENTS)?;
            let id = existing(world, id, ObjectKind::ServicePrincipal)?;
            apps::app_role_assignments(world, req, |a| a.resource_id == id)
        }
        ["servicePrincipals", id, "appRoleAssignments"] => {
            require(caller, perms::APP_ROLE_ASSIGNMENTS)?;
            let id = existing(world, id, ObjectKind::ServicePrincipal)?;
            apps::app_role_assignments(world, req, |a| a.principal_id == id)
        }
        ["servicePrincipals", id, "owners"] => {
            require(caller, perms::APPS)?;
            let id = existing(world, id, ObjectKind::ServicePrincipal)?;
            let owners = world.objects.get(&id).map(|(_, i)| world.tenant.service_principals[*i].owners.clone());
            directory::list_objects(world, req, "directoryObjects", &owners.unwrap_or_default(), None)
        }
        ["applications"] => apps::applications(world, caller, req),
        ["applications", id] => directory::single(world, caller, req, id, ObjectKind::Application),
        ["applications", id, "owners"] => {
            require(caller, perms::APPS)?;
            let id = existing(world, id, ObjectKind::Application)?;
            let owners = world.objects.get(&id).map(|(_, i)| world.tenant.applications[*i].owners.clone());
            directory::list_objects(world, req, "directoryObjects", &owners.unwrap_or_default(), None)
        }
        ["oauth2PermissionGrants"] => apps::oauth2_grants(world, caller, req),
        [
            "roleManagement",
            "directory",
            kind
            @ ("roleEligibilitySchedules" | "roleEligibilityScheduleInstances" | "roleAssignmentScheduleInstances"),
        ] => pim::directory(world, caller, req, kind),
        ["identityGovernance", "privilegedAccess", "group", which] => pim::group(world, caller, req, which),
        ["directoryRoles", ..]
        | ["directoryRoleTemplates", ..]
        | ["roleManagement", ..]
        | ["identityGovernance", ..] => roles::get(world, caller, req, rest),
        [first, ..] if first.starts_with("directoryRoles(") => roles::get(world, caller, req, rest),
        _ => Err(graph_error(
            400,
            "BadRequest",
            &format!("Resource not found for the segment '{}'.", rest.first().copied().unwrap_or_default()),
        )),
    }
}
