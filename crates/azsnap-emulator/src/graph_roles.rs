//! Graph role management: directory roles (legacy), role templates, `roleManagement/directory` definitions,
//! assignments and PIM schedules, and PIM for groups. PIM answers `AadPremiumLicenseRequired` without P2.

use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::builtin;
use crate::graph::{not_found, object, object_id, perms, project, require, require_p2};
use crate::http::{ApiRequest, ApiResponse, graph_error};
use crate::model::Guid;
use crate::odata::{Collection, ListQuery, page};
use crate::state::World;
use crate::tenant::DirectoryRoleSchedule;

type Answer = Result<ApiResponse, ApiResponse>;

/// A role definition as `roleManagement/directory/roleDefinitions` shows it.
fn definitions(world: &World) -> Vec<Map<String, Value>> {
    let mut out: Vec<Map<String, Value>> = builtin::DIRECTORY_ROLES
        .iter()
        .map(|(id, name, description)| {
            obj(json!({
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

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Whether a schedule is in force now (started, not ended). Times compare as canonical RFC 3339 text.
fn in_force(start: &Option<String>, end: &Option<String>) -> bool {
    let now = crate::clock::now();
    let parse = |s: &Option<String>| s.as_deref().and_then(|t| t.parse::<crate::model::Timestamp>().ok());
    parse(start).is_none_or(|s| s <= now) && parse(end).is_none_or(|e| e > now)
}

/// The stable id of the activated `directoryRole` object for a template.
fn directory_role_id(template: &str) -> String {
    Guid::derived(&format!("directoryRole:{template}")).to_string()
}

/// Active assignments: permanent ones plus activations in force.
fn active_assignments(world: &World) -> Vec<Map<String, Value>> {
    let t = &world.tenant;
    let mut out: Vec<Map<String, Value>> = t
        .directory_role_assignments
        .iter()
        .map(|a| {
            obj(json!({
                "id": a.id,
                "principalId": a.principal_id.as_str(),
                "roleDefinitionId": a.role_definition_id.as_str(),
                "directoryScopeId": a.directory_scope_id,
                "resourceScope": a.directory_scope_id,
                "appScopeId": null,
            }))
        })
        .collect();
    for a in t.directory_role_activations.iter().filter(|a| in_force(&a.start_date_time, &a.end_date_time)) {
        out.push(obj(json!({
            "id": a.id,
            "principalId": a.principal_id.as_str(),
            "roleDefinitionId": a.role_definition_id.as_str(),
            "directoryScopeId": a.directory_scope_id,
            "resourceScope": a.directory_scope_id,
            "appScopeId": null,
        })));
    }
    out
}

pub fn get(world: &World, caller: &Caller, req: &ApiRequest, rest: &[&str]) -> Answer {
    match rest {
        ["directoryRoleTemplates"] => {
            require(caller, perms::ROLES)?;
            let items: Vec<Map<String, Value>> = definitions(world)
                .into_iter()
                .filter(|d| d.get("isBuiltIn") == Some(&json!(true)))
                .map(|d| {
                    obj(json!({
                        "id": d["id"], "deletedDateTime": null, "description": d["description"], "displayName": d["displayName"],
                    }))
                })
                .collect();
            simple_list(
                req,
                "directoryRoleTemplates",
                &["id", "deletedDateTime", "description", "displayName"],
                &[],
                items,
            )
        }
        ["directoryRoles"] => {
            require(caller, perms::ROLES)?;
            simple_list(
                req,
                "directoryRoles",
                &["id", "deletedDateTime", "description", "displayName", "roleTemplateId"],
                &["roleTemplateId", "displayName"],
                activated_roles(world),
            )
        }
        ["directoryRoles", key, "members"] => {
            require(caller, perms::ROLES)?;
            let template = activated_roles(world)
                .into_iter()
                .find(|r| r.get("id").and_then(Value::as_str) == Some(key))
                .and_then(|r| r.get("roleTemplateId").and_then(Value::as_str).map(str::to_owned))
                .ok_or_else(|| not_found(key))?;
            role_members(world, req, &template)
        }
        [first, "members"] if first.starts_with("directoryRoles(roleTemplateId='") => {
            require(caller, perms::ROLES)?;
            let template =
                first.trim_start_matches("directoryRoles(roleTemplateId='").trim_end_matches("')").to_owned();
            let template = object_id(&template)?.to_string();
            if !activated_roles(world)
                .iter()
                .any(|r| r.get("roleTemplateId").and_then(Value::as_str) == Some(&template))
            {
                return Err(not_found(&template));
            }
            role_members(world, req, &template)
        }
        ["roleManagement", "directory", "roleDefinitions"] => {
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
        ["roleManagement", "directory", "roleDefinitions", id] => {
            require(caller, perms::ROLES)?;
            let found = definitions(world).into_iter().find(|d| d.get("id").and_then(Value::as_str) == Some(id));
            found.map(|d| ApiResponse::ok(Value::Object(d))).ok_or_else(|| not_found(id))
        }
        ["roleManagement", "directory", "roleAssignments"] => {
            require(caller, perms::ROLES)?;
            simple_list(
                req,
                "roleManagement/directory/roleAssignments",
                &["id", "principalId", "roleDefinitionId", "directoryScopeId", "resourceScope", "appScopeId"],
                &["principalId", "roleDefinitionId", "directoryScopeId"],
                active_assignments(world),
            )
        }
        ["roleManagement", "directory", "roleEligibilitySchedules"] => {
            require(caller, perms::ROLE_ELIGIBILITY)?;
            require_p2(world)?;
            let items = world.tenant.directory_role_eligibilities.iter().map(eligibility_schedule).collect();
            simple_list(
                req,
                "roleManagement/directory/roleEligibilitySchedules",
                ELIGIBILITY_SCHEDULE_FIELDS,
                &["principalId", "roleDefinitionId"],
                items,
            )
        }
        ["roleManagement", "directory", "roleEligibilityScheduleInstances"] => {
            require(caller, perms::ROLE_ELIGIBILITY)?;
            require_p2(world)?;
            let items = world
                .tenant
                .directory_role_eligibilities
                .iter()
                .filter(|e| in_force(&e.start_date_time, &e.end_date_time))
                .map(|e| {
                    obj(json!({
                        "id": format!("{}-e", e.id),
                        "principalId": e.principal_id.as_str(),
                        "roleDefinitionId": e.role_definition_id.as_str(),
                        "directoryScopeId": e.directory_scope_id,
                        "appScopeId": null,
                        "startDateTime": e.start_date_time,
                        "endDateTime": e.end_date_time,
                        "memberType": e.member_type,
                        "roleEligibilityScheduleId": e.id,
                    }))
                })
                .collect();
            simple_list(
                req,
                "roleManagement/directory/roleEligibilityScheduleInstances",
                &[
                    "id",
                    "principalId",
                    "roleDefinitionId",
                    "directoryScopeId",
                    "appScopeId",
                    "startDateTime",
                    "endDateTime",
                    "memberType",
                    "roleEligibilityScheduleId",
                ],
                &["principalId", "roleDefinitionId"],
                items,
            )
        }
        ["roleManagement", "directory", "roleAssignmentScheduleInstances"] => {
            require(caller, perms::ROLE_ASSIGNMENT_SCHEDULES)?;
            require_p2(world)?;
            let t = &world.tenant;
            let mut items: Vec<Map<String, Value>> = t
                .directory_role_assignments
                .iter()
                .map(|a| {
                    obj(json!({
                        "id": a.id, "principalId": a.principal_id.as_str(), "roleDefinitionId": a.role_definition_id.as_str(),
                        "directoryScopeId": a.directory_scope_id, "appScopeId": null, "startDateTime": null, "endDateTime": null,
                        "assignmentType": "Assigned", "memberType": "Direct", "roleAssignmentOriginId": a.id,
                        "roleAssignmentScheduleId": a.id,
                    }))
                })
                .collect();
            items.extend(
                t.directory_role_activations
                    .iter()
                    .filter(|a| in_force(&a.start_date_time, &a.end_date_time))
                    .map(activation_instance),
            );
            simple_list(
                req,
                "roleManagement/directory/roleAssignmentScheduleInstances",
                &[
                    "id",
                    "principalId",
                    "roleDefinitionId",
                    "directoryScopeId",
                    "appScopeId",
                    "startDateTime",
                    "endDateTime",
                    "assignmentType",
                    "memberType",
                    "roleAssignmentOriginId",
                    "roleAssignmentScheduleId",
                ],
                &["principalId", "roleDefinitionId"],
                items,
            )
        }
        [
            "identityGovernance",
            "privilegedAccess",
            "group",
            which @ ("eligibilityScheduleInstances" | "assignmentScheduleInstances"),
        ] => {
            let eligible = *which == "eligibilityScheduleInstances";
            require(caller, if eligible { perms::GROUP_ELIGIBILITY } else { perms::GROUP_ASSIGNMENT_SCHEDULES })?;
            require_p2(world)?;
            let filtered = req.param("$filter").is_some_and(|f| {
                let f = f.to_ascii_lowercase();
                f.contains("groupid eq") || f.contains("principalid eq")
            });
            if !filtered {
                return Err(graph_error(
                    400,
                    "Request_BadRequest",
                    "A $filter on groupId or principalId is required for this resource.",
                ));
            }
            let source = if eligible { &world.tenant.group_eligibilities } else { &world.tenant.group_assignments };
            let items = source
                .iter()
                .filter(|s| in_force(&s.start_date_time, &s.end_date_time))
                .map(|s| {
                    let mut m = obj(json!({
                        "id": format!("{}_{}_{}", s.group_id, s.access_id, s.id),
                        "startDateTime": s.start_date_time,
                        "endDateTime": s.end_date_time,
                        "accessId": s.access_id,
                        "principalId": s.principal_id.as_str(),
                        "groupId": s.group_id.as_str(),
                        "memberType": s.member_type,
                    }));
                    if !eligible {
                        m.insert("assignmentType".to_owned(), json!("assigned"));
                    }
                    m
                })
                .collect();
            let context = format!("identityGovernance/privilegedAccess/group/{which}");
            simple_list(
                req,
                &context,
                &[
                    "id",
                    "startDateTime",
                    "endDateTime",
                    "accessId",
                    "principalId",
                    "groupId",
                    "memberType",
                    "assignmentType",
                ],
                &["groupId", "principalId", "accessId"],
                items,
            )
        }
        _ => Err(graph_error(
            400,
            "BadRequest",
            &format!("Resource not found for the segment '{}'.", rest.last().copied().unwrap_or_default()),
        )),
    }
}

const ELIGIBILITY_SCHEDULE_FIELDS: &[&str] = &[
    "id",
    "principalId",
    "roleDefinitionId",
    "directoryScopeId",
    "appScopeId",
    "createdUsing",
    "createdDateTime",
    "modifiedDateTime",
    "status",
    "memberType",
    "scheduleInfo",
];

fn eligibility_schedule(e: &DirectoryRoleSchedule) -> Map<String, Value> {
    let expiration = match &e.end_date_time {
        Some(end) => json!({"type": "afterDateTime", "endDateTime": end, "duration": null}),
        None => json!({"type": "noExpiration", "endDateTime": null, "duration": null}),
    };
    obj(json!({
        "id": e.id,
        "principalId": e.principal_id.as_str(),
        "roleDefinitionId": e.role_definition_id.as_str(),
        "directoryScopeId": e.directory_scope_id,
        "appScopeId": null,
        "createdUsing": e.id,
        "createdDateTime": e.start_date_time,
        "modifiedDateTime": null,
        "status": "Provisioned",
        "memberType": e.member_type,
        "scheduleInfo": {"startDateTime": e.start_date_time, "recurrence": null, "expiration": expiration},
    }))
}

fn activation_instance(a: &DirectoryRoleSchedule) -> Map<String, Value> {
    obj(json!({
        "id": a.id, "principalId": a.principal_id.as_str(), "roleDefinitionId": a.role_definition_id.as_str(),
        "directoryScopeId": a.directory_scope_id, "appScopeId": null, "startDateTime": a.start_date_time,
        "endDateTime": a.end_date_time, "assignmentType": a.assignment_type.clone().unwrap_or_else(|| "Activated".to_owned()),
        "memberType": a.member_type, "roleAssignmentOriginId": a.id, "roleAssignmentScheduleId": a.id,
    }))
}

/// Roles with at least one active tenant-wide assignment appear as activated `directoryRoles`.
fn activated_roles(world: &World) -> Vec<Map<String, Value>> {
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
            obj(json!({
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
pub fn roles_held(world: &World, principal: &Guid) -> Vec<Map<String, Value>> {
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
        ids.iter().filter_map(|id| object(world, id)).map(|o| o.render(None, true)).collect();
    simple_list(req, "directoryObjects", &["id", "displayName", "userPrincipalName", "appId"], &[], items)
}

/// A list of already-rendered items with `$select`, `$filter` (on `filterable`), `$top` and paging.
fn simple_list(
    req: &ApiRequest,
    context: &str,
    selectable: &[&str],
    filterable: &[&str],
    items: Vec<Map<String, Value>>,
) -> Answer {
    let c = Collection {
        context,
        type_name: "microsoft.graph.entity",
        selectable,
        filterable,
        advanced_filter: &[],
        max_top: 999,
        count_needs_eventual: false,
    };
    let q = ListQuery::parse(req, &c)?;
    Ok(page(
        req,
        &q,
        context,
        items.into_iter(),
        |m, p| m.get(p).cloned().unwrap_or(Value::Null),
        |m, sel| project(m.clone(), sel),
    ))
}
