//! Directory roles as they stand: role definitions (built-in and custom), the assignments in force (permanent ones
//! and PIM activations not yet ended), and the roles activated as `directoryRole` objects.

use serde_json::{Map, Value, json};

use crate::builtin;
use crate::json::as_object;
use crate::model::Guid;
use crate::world::World;

/// A role definition as `roleManagement/directory/roleDefinitions` shows it.
pub(crate) fn definitions(world: &World) -> Vec<Map<String, Value>> {
    let mut out: Vec<Map<String, Value>> = builtin::DIRECTORY_ROLES
        .iter()
        .map(|(id, name, description)| {
            as_object(json!({
                "id": id,
                "description": description,
                "displayName": name,
                "isBuiltIn": true,
                "isEnabled": true,
                "resourceScopes": ["/"],
                "templateId": id,
                "version": "1",
                "rolePermissions": [{"allowedResourceActions": ["microsoft.directory/*"], "condition": null}],
                "inheritsPermissionsFrom": [],
            }))
        })
        .collect();
    for custom in &world.tenant.directory_role_definitions {
        let mut d = custom.clone();
        for (k, v) in [
            ("description", Value::Null),
            ("isBuiltIn", json!(false)),
            ("isEnabled", json!(true)),
            ("resourceScopes", json!(["/"])),
            ("templateId", custom.get("id").cloned().unwrap_or(Value::Null)),
            ("version", Value::Null),
            ("rolePermissions", json!([])),
            ("inheritsPermissionsFrom", json!([])),
        ] {
            d.entry(k.to_owned()).or_insert(v);
        }
        out.push(d);
    }
    out
}

/// Whether a schedule is in force now (started, not ended). Times compare as canonical RFC 3339 text.
pub(crate) fn in_force(start: &Option<String>, end: &Option<String>) -> bool {
    let now = crate::clock::now();
    let parse = |s: &Option<String>| s.as_deref().and_then(|t| t.parse::<crate::model::Timestamp>().ok());
    parse(start).is_none_or(|s| s <= now) && parse(end).is_none_or(|e| e > now)
}

/// The stable id of the activated `directoryRole` object for a template.
pub(crate) fn directory_role_id(template: &str) -> String {
    Guid::derived(&format!("directoryRole:{template}")).to_string()
}

/// Active assignments: permanent ones plus activations in force.
pub(crate) fn active_assignments(world: &World) -> Vec<Map<String, Value>> {
    let t = &world.tenant;
    let assignment = |id: &str, principal: &Guid, role: &Guid, scope: &str| {
        as_object(json!({
            "id": id,
            "principalId": principal.as_str(),
            "roleDefinitionId": role.as_str(),
            "directoryScopeId": scope,
            "resourceScope": scope,
            "appScopeId": null,
        }))
    };
    let permanent = t
        .directory_role_assignments
        .iter()
        .map(|a| assignment(&a.id, &a.principal_id, &a.role_definition_id, &a.directory_scope_id));
    let activated = t
        .directory_role_activations
        .iter()
        .filter(|a| in_force(&a.start_date_time, &a.end_date_time))
        .map(|a| assignment(&a.id, &a.principal_id, &a.role_definition_id, &a.directory_scope_id));
    permanent.chain(activated).collect()
}

/// Roles with at least one active tenant-wide assignment appear as activated `directoryRoles`.
pub(crate) fn activated_roles(world: &World) -> Vec<Map<String, Value>> {
    let active = active_assignments(world);
    definitions(world)
        .into_iter()
        .filter(|d| {
            let id = d.get("id").and_then(Value::as_str);
            active.iter().any(|a| {
                a.get("roleDefinitionId").and_then(Value::as_str) == id
                    && a.get("directoryScopeId") == Some(&json!("/"))
            })
        })
        .map(|d| {
            let template = d.get("templateId").and_then(Value::as_str).unwrap_or_default().to_owned();
            as_object(json!({
                "id": directory_role_id(&template),
                "deletedDateTime": null,
                "description": d["description"],
                "displayName": d["displayName"],
                "roleTemplateId": template,
            }))
        })
        .collect()
}

/// The activated directory roles `principal` holds tenant-wide, as `memberOf` lists them.
pub(crate) fn roles_held(world: &World, principal: &Guid) -> Vec<Map<String, Value>> {
    let held: Vec<String> = active_assignments(world)
        .iter()
        .filter(|a| {
            a.get("principalId").and_then(Value::as_str) == Some(principal.as_str())
                && a.get("directoryScopeId") == Some(&json!("/"))
        })
        .filter_map(|a| a.get("roleDefinitionId").and_then(Value::as_str).map(str::to_owned))
        .collect();
    activated_roles(world)
        .into_iter()
        .filter(|r| r.get("roleTemplateId").and_then(Value::as_str).is_some_and(|t| held.iter().any(|h| h == t)))
        .map(|mut r| {
            r.insert("@odata.type".to_owned(), json!("#microsoft.graph.directoryRole"));
            r
        })
        .collect()
}
