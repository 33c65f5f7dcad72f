//! Graph writes used by `apply`: group member and owner `$ref` add/remove, app role assignment grant/revoke,
//! directory role assignment add/remove, PIM for groups schedule requests (`adminAssign`, `adminRemove`). Each
//! records a directory audit entry and answers with the real success code, and with the real "already
//! exists", "not found", on-premises-synced and dynamic-group errors. Writes change the served state.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::graph::common::{Answer, not_found, object_id, require, require_p2};
use crate::http::{ApiRequest, ApiResponse, graph_error};
use crate::model::Guid;
use crate::tenant::{AppRoleAssignment, DirectoryRoleAssignment, GroupSchedule, ObjectKind};
use crate::world::{World, activity};

const GROUP_WRITE: &[&str] = &["GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"];
const APP_ROLE_WRITE: &[&str] = &["AppRoleAssignment.ReadWrite.All"];
const ROLE_WRITE: &[&str] = &["RoleManagement.ReadWrite.Directory"];
const GROUP_ELIGIBILITY_WRITE: &[&str] = &["PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup"];
const GROUP_ASSIGNMENT_WRITE: &[&str] = &["PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup"];

fn bad_request(message: &str) -> ApiResponse {
    graph_error(400, "Request_BadRequest", message)
}

/// Answers a Graph write; `rest` is the path after the version segment.
pub(crate) fn handle(world: &mut World, caller: &Caller, req: &ApiRequest, rest: &[&str]) -> Answer {
    match (req.method.as_str(), rest) {
        ("POST", ["groups", g, rel @ ("members" | "owners"), "$ref"]) => add_link(world, caller, req, g, rel),
        ("DELETE", ["groups", g, rel @ ("members" | "owners"), m, "$ref"]) => remove_link(world, caller, g, rel, m),
        ("DELETE", ["groups", _, "members" | "owners", _]) => Err(graph_error(
            405,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target. Use /$ref to remove a link.",
        )),
        ("POST", ["servicePrincipals", res, "appRoleAssignedTo"]) => {
            grant_app_role(world, caller, req, Some(res), None)
        }
        ("POST", [kind @ ("users" | "groups" | "servicePrincipals"), p, "appRoleAssignments"]) => {
            let _ = kind;
            grant_app_role(world, caller, req, None, Some(p))
        }
        ("DELETE", ["servicePrincipals", res, "appRoleAssignedTo", id]) => {
            revoke_app_role(world, caller, id, |a| a.resource_id.as_str() == *res)
        }
        ("DELETE", ["users" | "groups" | "servicePrincipals", p, "appRoleAssignments", id]) => {
            revoke_app_role(world, caller, id, |a| a.principal_id.as_str() == *p)
        }
        ("POST", ["roleManagement", "directory", "roleAssignments"]) => add_role_assignment(world, caller, req),
        ("DELETE", ["roleManagement", "directory", "roleAssignments", id]) => remove_role_assignment(world, caller, id),
        (
            "POST",
            [
                "identityGovernance",
                "privilegedAccess",
                "group",
                which @ ("eligibilityScheduleRequests" | "assignmentScheduleRequests"),
            ],
        ) => group_schedule_request(world, caller, req, *which == "eligibilityScheduleRequests"),
        _ => Err(graph_error(
            405,
            "Request_BadRequest",
            &format!("The request method '{}' is not supported for this resource.", req.method),
        )),
    }
}

fn group_index(world: &World, raw: &str) -> Result<usize, ApiResponse> {
    let id = object_id(raw)?;
    match world.objects.get(&id) {
        Some((ObjectKind::Group, i)) => Ok(*i),
        _ => Err(not_found(raw)),
    }
}

/// Checks that a group's links may be written: permissions, role-assignable, on-premises, dynamic.
fn writable_group(world: &World, caller: &Caller, gi: usize, rel: &str) -> Result<(), ApiResponse> {
    require(caller, GROUP_WRITE)?;
    let g = &world.tenant.groups[gi];
    if g.props.get("isAssignableToRole") == Some(&json!(true)) {
        require(caller, ROLE_WRITE)?;
    }
    if g.props.get("onPremisesSyncEnabled") == Some(&json!(true)) {
        return Err(bad_request(
            "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects \
             currently undergoing migration.",
        ));
    }
    let dynamic = g
        .props
        .get("groupTypes")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|x| x.as_str() == Some("DynamicMembership")));
    if dynamic && rel == "members" {
        return Err(bad_request(
            "Insufficient privileges to complete the operation. Members of a group with dynamic membership are \
             managed by its membership rule.",
        ));
    }
    Ok(())
}

fn add_link(world: &mut World, caller: &Caller, req: &ApiRequest, g: &str, rel: &str) -> Answer {
    let gi = group_index(world, g)?;
    writable_group(world, caller, gi, rel)?;
    let body = req.json_body().ok_or_else(|| bad_request("Invalid request body: expected JSON with '@odata.id'."))?;
    let reference = body.get("@odata.id").and_then(Value::as_str).ok_or_else(|| {
        bad_request("The request body must contain '@odata.id', a link to the directory object to add.")
    })?;
    let raw = reference.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    let member = object_id(raw)?;
    match world.objects.get(&member) {
        Some((ObjectKind::Application, _)) | None => return Err(not_found(raw)),
        Some(_) => {}
    }
    let group = &world.tenant.groups[gi];
    let links = if rel == "members" { &group.members } else { &group.owners };
    if links.contains(&member) {
        return Err(bad_request(&format!(
            "One or more added object references already exist for the following modified properties: '{rel}'."
        )));
    }
    let group = group.id.clone();
    if rel == "members" {
        if member == group {
            return Err(bad_request("A group cannot be a member of itself."));
        }
        world.add_member(gi, member.clone());
        world.audit(&caller.app_id, activity::ADD_MEMBER, &[&group, &member]);
    } else {
        world.tenant.groups[gi].owners.push(member.clone());
        world.audit(&caller.app_id, activity::ADD_OWNER, &[&group, &member]);
    }
    Ok(ApiResponse::empty(204))
}

fn remove_link(world: &mut World, caller: &Caller, g: &str, rel: &str, m: &str) -> Answer {
    let gi = group_index(world, g)?;
    writable_group(world, caller, gi, rel)?;
    let member = object_id(m)?;
    let group = &world.tenant.groups[gi];
    let links = if rel == "members" { &group.members } else { &group.owners };
    if !links.contains(&member) {
        return Err(not_found(m));
    }
    let group = group.id.clone();
    if rel == "members" {
        world.remove_member(gi, &member);
        world.audit(&caller.app_id, activity::REMOVE_MEMBER, &[&group, &member]);
    } else {
        world.tenant.groups[gi].owners.retain(|o| *o != member);
        world.audit(&caller.app_id, activity::REMOVE_OWNER, &[&group, &member]);
    }
    Ok(ApiResponse::empty(204))
}

fn guid_field(body: &Value, field: &str) -> Result<Guid, ApiResponse> {
    let raw = body.get(field).and_then(Value::as_str).ok_or_else(|| bad_request(&format!("'{field}' is required.")))?;
    object_id(raw)
}

fn grant_app_role(
    world: &mut World,
    caller: &Caller,
    req: &ApiRequest,
    res: Option<&str>,
    principal: Option<&str>,
) -> Answer {
    require(caller, APP_ROLE_WRITE)?;
    let body = req.json_body().ok_or_else(|| bad_request("Invalid request body."))?;
    let principal_id = guid_field(&body, "principalId")?;
    let resource_id = guid_field(&body, "resourceId")?;
    let app_role_id = guid_field(&body, "appRoleId")?;
    if let Some(res) = res
        && object_id(res)? != resource_id
    {
        return Err(bad_request("The resourceId in the body does not match the service principal in the URL."));
    }
    if let Some(p) = principal
        && object_id(p)? != principal_id
    {
        return Err(bad_request("The principalId in the body does not match the principal in the URL."));
    }
    let principal_kind = match world.objects.get(&principal_id) {
        Some((ObjectKind::Application, _)) | None => return Err(not_found(principal_id.as_str())),
        Some((k, _)) => *k,
    };
    let resource = match world.objects.get(&resource_id) {
        Some((ObjectKind::ServicePrincipal, i)) => &world.tenant.service_principals[*i],
        _ => return Err(not_found(resource_id.as_str())),
    };
    if app_role_id != Guid::nil() {
        let role = resource
            .props
            .get("appRoles")
            .and_then(Value::as_array)
            .and_then(|roles| roles.iter().find(|r| r["id"].as_str() == Some(app_role_id.as_str())));
        let Some(role) = role else {
            return Err(bad_request("Permission being assigned was not found on application."));
        };
        let wanted = if principal_kind == ObjectKind::ServicePrincipal { "Application" } else { "User" };
        let allowed =
            role["allowedMemberTypes"].as_array().is_some_and(|t| t.iter().any(|x| x.as_str() == Some(wanted)));
        if !allowed {
            return Err(bad_request(&format!("The app role cannot be assigned to a principal of type '{wanted}'.")));
        }
    }
    let exists = world
        .tenant
        .app_role_assignments
        .iter()
        .any(|a| a.principal_id == principal_id && a.resource_id == resource_id && a.app_role_id == app_role_id);
    if exists {
        return Err(bad_request("Permission being assigned already exists on the object."));
    }
    let id = B64.encode(world.mint("appRoleAssignment"));
    let created = crate::clock::now().to_string();
    let principal_type = principal_kind.principal_type();
    let name = |w: &World, id: &Guid| w.object(id).map(|o| o.get("displayName")).unwrap_or(Value::Null);
    let body = json!({
        "@odata.context": format!("{}$metadata#appRoleAssignments/$entity", req.metadata_base()),
        "id": id,
        "deletedDateTime": null,
        "appRoleId": app_role_id.as_str(),
        "createdDateTime": created,
        "principalDisplayName": name(world, &principal_id),
        "principalId": principal_id.as_str(),
        "principalType": principal_type,
        "resourceDisplayName": name(world, &resource_id),
        "resourceId": resource_id.as_str(),
    });
    world.audit(&caller.app_id, activity::ADD_APP_ROLE, &[&resource_id, &principal_id]);
    world.tenant.app_role_assignments.push(AppRoleAssignment {
        id,
        app_role_id,
        principal_id,
        resource_id,
        created_date_time: Some(created),
    });
    Ok(ApiResponse::json(201, body))
}

fn revoke_app_role(world: &mut World, caller: &Caller, id: &str, owner: impl Fn(&AppRoleAssignment) -> bool) -> Answer {
    require(caller, APP_ROLE_WRITE)?;
    let Some(i) = world.tenant.app_role_assignments.iter().position(|a| a.id == id && owner(a)) else {
        return Err(not_found(id));
    };
    let gone = world.tenant.app_role_assignments.remove(i);
    world.audit(&caller.app_id, activity::REMOVE_APP_ROLE, &[&gone.resource_id, &gone.principal_id]);
    Ok(ApiResponse::empty(204))
}

fn add_role_assignment(world: &mut World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, ROLE_WRITE)?;
    let body = req.json_body().ok_or_else(|| bad_request("Invalid request body."))?;
    let principal_id = guid_field(&body, "principalId")?;
    let role_raw = body
        .get("roleDefinitionId")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_request("'roleDefinitionId' is required."))?;
    let scope = body.get("directoryScopeId").and_then(Value::as_str).unwrap_or("/").to_owned();
    let role_id = object_id(role_raw)?;
    let known_role = crate::builtin::DIRECTORY_ROLES.iter().any(|r| r.0 == role_id.as_str())
        || world
            .tenant
            .directory_role_definitions
            .iter()
            .any(|d| d.get("id").and_then(Value::as_str) == Some(role_id.as_str()));
    if !known_role {
        return Err(not_found(role_raw));
    }
    match world.objects.get(&principal_id) {
        Some((ObjectKind::Group, i)) => {
            if world.tenant.groups[*i].props.get("isAssignableToRole") != Some(&json!(true)) {
                return Err(bad_request("Only groups with isAssignableToRole set to true can be assigned to a role."));
            }
        }
        Some((ObjectKind::User | ObjectKind::ServicePrincipal, _)) => {}
        _ => return Err(not_found(principal_id.as_str())),
    }
    let exists =
        world.tenant.directory_role_assignments.iter().any(|a| {
            a.principal_id == principal_id && a.role_definition_id == role_id && a.directory_scope_id == scope
        });
    if exists {
        return Err(bad_request(
            "A conflicting object with one or more of the specified property values is present in the directory.",
        ));
    }
    let id = format!("{}-1", B64.encode(world.mint("roleAssignment")));
    world.audit(&caller.app_id, activity::ADD_ROLE_MEMBER, &[&principal_id]);
    world.tenant.directory_role_assignments.push(DirectoryRoleAssignment {
        id: id.clone(),
        principal_id: principal_id.clone(),
        role_definition_id: role_id.clone(),
        directory_scope_id: scope.clone(),
    });
    Ok(ApiResponse::json(
        201,
        json!({
            "@odata.context": format!("{}$metadata#roleManagement/directory/roleAssignments/$entity", req.metadata_base()),
            "id": id,
            "principalId": principal_id.as_str(),
            "roleDefinitionId": role_id.as_str(),
            "directoryScopeId": scope,
            "resourceScope": scope,
            "appScopeId": null,
        }),
    ))
}

fn remove_role_assignment(world: &mut World, caller: &Caller, id: &str) -> Answer {
    require(caller, ROLE_WRITE)?;
    let Some(i) = world.tenant.directory_role_assignments.iter().position(|a| a.id == id) else {
        return Err(not_found(id));
    };
    let gone = world.tenant.directory_role_assignments.remove(i);
    world.audit(&caller.app_id, activity::REMOVE_ROLE_MEMBER, &[&gone.principal_id]);
    Ok(ApiResponse::empty(204))
}

/// `POST /identityGovernance/privilegedAccess/group/{eligibility|assignment}ScheduleRequests`: `adminAssign` adds
/// a schedule (`scheduleInfo.startDateTime`, `expiration.endDateTime` when given), `adminRemove` ends one; 201 with
/// the request, `status` `Provisioned`. An assignment already there is `RoleAssignmentExists`, a removal of none
/// `RoleAssignmentDoesNotExist`.
fn group_schedule_request(world: &mut World, caller: &Caller, req: &ApiRequest, eligible: bool) -> Answer {
    require(caller, if eligible { GROUP_ELIGIBILITY_WRITE } else { GROUP_ASSIGNMENT_WRITE })?;
    require_p2(world)?;
    let body = req.json_body().ok_or_else(|| bad_request("Invalid request body."))?;
    let principal_id = guid_field(&body, "principalId")?;
    let group_id = guid_field(&body, "groupId")?;
    let access_id = match body.get("accessId").and_then(Value::as_str) {
        Some(a @ ("member" | "owner")) => a.to_owned(),
        _ => return Err(bad_request("'accessId' must be 'member' or 'owner'.")),
    };
    if !matches!(world.objects.get(&group_id), Some((ObjectKind::Group, _))) {
        return Err(not_found(group_id.as_str()));
    }
    if !matches!(world.objects.get(&principal_id), Some((ObjectKind::User | ObjectKind::Group, _))) {
        return Err(not_found(principal_id.as_str()));
    }
    let existing = schedules(world, eligible)
        .iter()
        .position(|s| s.group_id == group_id && s.principal_id == principal_id && s.access_id == access_id);
    let info = &body["scheduleInfo"];
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let action = body.get("action").and_then(Value::as_str).unwrap_or_default().to_owned();
    let logged = match (action.as_str(), existing) {
        ("adminAssign", Some(_)) => {
            return Err(graph_error(400, "RoleAssignmentExists", "The Role assignment already exists."));
        }
        ("adminAssign", None) => {
            let id = B64.encode(world.mint("groupSchedule"));
            schedules(world, eligible).push(GroupSchedule {
                id,
                group_id: group_id.clone(),
                principal_id: principal_id.clone(),
                access_id: access_id.clone(),
                start_date_time: text(&info["startDateTime"]).or_else(|| Some(crate::clock::now().to_string())),
                end_date_time: text(&info["expiration"]["endDateTime"]),
                member_type: "direct".to_owned(),
            });
            if eligible { activity::PIM_GROUP_ELIGIBLE_ADD } else { activity::PIM_GROUP_ACTIVE_ADD }
        }
        ("adminRemove", Some(i)) => {
            schedules(world, eligible).remove(i);
            if eligible { activity::PIM_GROUP_ELIGIBLE_REMOVE } else { activity::PIM_GROUP_ACTIVE_REMOVE }
        }
        ("adminRemove", None) => {
            return Err(graph_error(400, "RoleAssignmentDoesNotExist", "The Role assignment does not exist."));
        }
        _ => return Err(bad_request("'action' must be 'adminAssign' or 'adminRemove'.")),
    };
    world.audit(&caller.app_id, logged, &[&group_id, &principal_id]);
    let now = crate::clock::now().to_string();
    let which = if eligible { "eligibilityScheduleRequests" } else { "assignmentScheduleRequests" };
    Ok(ApiResponse::json(
        201,
        json!({
            "@odata.context": format!("{}$metadata#identityGovernance/privilegedAccess/group/{which}/$entity", req.metadata_base()),
            "id": B64.encode(world.mint("groupScheduleRequest")),
            "status": "Provisioned",
            "action": action,
            "accessId": access_id,
            "principalId": principal_id.as_str(),
            "groupId": group_id.as_str(),
            "createdDateTime": now,
            "completedDateTime": now,
            "scheduleInfo": info,
            "justification": body.get("justification").cloned().unwrap_or(Value::Null),
        }),
    ))
}

/// PIM for groups eligibilities, or (active) assignments.
fn schedules(world: &mut World, eligible: bool) -> &mut Vec<GroupSchedule> {
    if eligible { &mut world.tenant.group_eligibilities } else { &mut world.tenant.group_assignments }
}
