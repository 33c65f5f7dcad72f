//! Graph role management: directory roles (legacy) and their members, role templates, and
//! `roleManagement/directory` definitions and assignments.

use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::graph::common::{Answer, not_found, object_id, perms, require, simple_list};
use crate::graph::role_state::{activated_roles, active_assignments, definitions};
use crate::http::{ApiRequest, ApiResponse, graph_error};
use crate::json::as_object;
use crate::model::Guid;
use crate::world::World;

/// Answers a role-management read (`directoryRoles…`, `directoryRoleTemplates`, `roleManagement/directory/…`).
pub(crate) fn get(world: &World, caller: &Caller, req: &ApiRequest, rest: &[&str]) -> Answer {
    match rest {
        ["directoryRoleTemplates"] => templates(world, caller, req),
        ["directoryRoles"] => directory_roles(world, caller, req),
        ["directoryRoles", key, "members"] => members_by_id(world, caller, req, key),
        [first, "members"] if first.starts_with("directoryRoles(roleTemplateId='") => {
            members_by_template(world, caller, req, first)
        }
        ["roleManagement", "directory", "roleDefinitions"] => role_definitions(world, caller, req),
        ["roleManagement", "directory", "roleDefinitions", id] => role_definition(world, caller, id),
        ["roleManagement", "directory", "roleAssignments"] => role_assignments(world, caller, req),
        _ => Err(graph_error(
            400,
            "BadRequest",
            &format!("Resource not found for the segment '{}'.", rest.last().copied().unwrap_or_default()),
        )),
    }
}

/// Built-in role templates.
fn templates(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::ROLES)?;
    let items: Vec<Map<String, Value>> = definitions(world)
        .into_iter()
        .filter(|d| d.get("isBuiltIn") == Some(&json!(true)))
        .map(|d| {
            as_object(json!({
                "id": d["id"], "deletedDateTime": null, "description": d["description"], "displayName": d["displayName"],
            }))
        })
        .collect();
    simple_list(req, "directoryRoleTemplates", &["id", "deletedDateTime", "description", "displayName"], &[], items)
}

/// Roles activated as `directoryRole` objects.
fn directory_roles(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::ROLES)?;
    simple_list(
        req,
        "directoryRoles",
        &["id", "deletedDateTime", "description", "displayName", "roleTemplateId"],
        &["roleTemplateId", "displayName"],
        activated_roles(world),
    )
}

/// Members of an activated role, by its object id.
fn members_by_id(world: &World, caller: &Caller, req: &ApiRequest, key: &str) -> Answer {
    require(caller, perms::ROLES)?;
    let template = activated_roles(world)
        .into_iter()
        .find(|r| r.get("id").and_then(Value::as_str) == Some(key))
        .and_then(|r| r.get("roleTemplateId").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| not_found(key))?;
    role_members(world, req, &template)
}

/// Members of an activated role, by its template id (`directoryRoles(roleTemplateId=…)`).
fn members_by_template(world: &World, caller: &Caller, req: &ApiRequest, first: &str) -> Answer {
    require(caller, perms::ROLES)?;
    let template = first.trim_start_matches("directoryRoles(roleTemplateId='").trim_end_matches("')").to_owned();
    let template = object_id(&template)?.to_string();
    if !activated_roles(world).iter().any(|r| r.get("roleTemplateId").and_then(Value::as_str) == Some(&template)) {
        return Err(not_found(&template));
    }
    role_members(world, req, &template)
}

/// Every role definition, built-in and custom.
fn role_definitions(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::ROLES)?;
    simple_list(
        req,
        "roleManagement/directory/roleDefinitions",
        &[
            "id",
            "description",
            "displayName",
            "isBuiltIn",
            "isEnabled",
            "resourceScopes",
            "templateId",
            "version",
            "rolePermissions",
            "inheritsPermissionsFrom",
        ],
        &["displayName", "isBuiltIn", "id", "templateId"],
        definitions(world),
    )
}

/// One role definition.
fn role_definition(world: &World, caller: &Caller, id: &str) -> Answer {
    require(caller, perms::ROLES)?;
    let found = definitions(world).into_iter().find(|d| d.get("id").and_then(Value::as_str) == Some(id));
    found.map(|d| ApiResponse::ok(Value::Object(d))).ok_or_else(|| not_found(id))
}

/// Active role assignments: permanent ones and PIM activations in force.
fn role_assignments(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::ROLES)?;
    simple_list(
        req,
        "roleManagement/directory/roleAssignments",
        &["id", "principalId", "roleDefinitionId", "directoryScopeId", "resourceScope", "appScopeId"],
        &["principalId", "roleDefinitionId", "directoryScopeId"],
        active_assignments(world),
    )
}

fn role_members(world: &World, req: &ApiRequest, template: &str) -> Answer {
    let ids: Vec<Guid> = active_assignments(world)
        .iter()
        .filter(|a| {
            a.get("roleDefinitionId").and_then(Value::as_str) == Some(template)
                && a.get("directoryScopeId") == Some(&json!("/"))
        })
        .filter_map(|a| a.get("principalId").and_then(Value::as_str).and_then(|s| s.parse().ok()))
        .collect();
    let items: Vec<Map<String, Value>> =
        ids.iter().filter_map(|id| world.object(id)).map(|o| o.render(None, true)).collect();
    simple_list(req, "directoryObjects", &["id", "displayName", "userPrincipalName", "appId"], &[], items)
}
