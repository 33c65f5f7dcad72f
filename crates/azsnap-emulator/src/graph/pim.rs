//! Graph PIM reads: directory role eligibility schedules and instances, assignment schedule instances, and PIM for
//! groups. Each answers `AadPremiumLicenseRequired` without Entra ID P2.

use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::graph::common::{Answer, perms, require, require_p2, simple_list};
use crate::graph::role_state::in_force;
use crate::http::{ApiRequest, graph_error};
use crate::json::as_object;
use crate::tenant::DirectoryRoleSchedule;
use crate::world::World;

/// `roleManagement/directory/{kind}` for the schedule kinds.
pub(crate) fn directory(world: &World, caller: &Caller, req: &ApiRequest, kind: &str) -> Answer {
    match kind {
        "roleEligibilitySchedules" => eligibility_schedules(world, caller, req),
        "roleEligibilityScheduleInstances" => eligibility_instances(world, caller, req),
        "roleAssignmentScheduleInstances" => assignment_instances(world, caller, req),
        _ => Err(graph_error(400, "BadRequest", &format!("Resource not found for the segment '{kind}'."))),
    }
}

/// `identityGovernance/privilegedAccess/group/{which}`: eligibility or assignment schedule instances of groups.
pub(crate) fn group(world: &World, caller: &Caller, req: &ApiRequest, which: &str) -> Answer {
    if !matches!(which, "eligibilityScheduleInstances" | "assignmentScheduleInstances") {
        return Err(graph_error(400, "BadRequest", &format!("Resource not found for the segment '{which}'.")));
    }
    let eligible = which == "eligibilityScheduleInstances";
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
            let mut m = as_object(json!({
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
        &["id", "startDateTime", "endDateTime", "accessId", "principalId", "groupId", "memberType", "assignmentType"],
        &["groupId", "principalId", "accessId"],
        items,
    )
}

/// Eligibility schedules.
fn eligibility_schedules(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
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

/// Eligibility schedule instances in force.
fn eligibility_instances(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::ROLE_ELIGIBILITY)?;
    require_p2(world)?;
    let items = world
        .tenant
        .directory_role_eligibilities
        .iter()
        .filter(|e| in_force(&e.start_date_time, &e.end_date_time))
        .map(|e| {
            as_object(json!({
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

/// Assignment schedule instances: permanent assignments and activations in force.
fn assignment_instances(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::ROLE_ASSIGNMENT_SCHEDULES)?;
    require_p2(world)?;
    let t = &world.tenant;
    let mut items: Vec<Map<String, Value>> = t
        .directory_role_assignments
        .iter()
        .map(|a| {
            as_object(json!({
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
    as_object(json!({
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
    as_object(json!({
        "id": a.id, "principalId": a.principal_id.as_str(), "roleDefinitionId": a.role_definition_id.as_str(),
        "directoryScopeId": a.directory_scope_id, "appScopeId": null, "startDateTime": a.start_date_time,
        "endDateTime": a.end_date_time, "assignmentType": a.assignment_type.clone().unwrap_or_else(|| "Activated".to_owned()),
        "memberType": a.member_type, "roleAssignmentOriginId": a.id, "roleAssignmentScheduleId": a.id,
    }))
}
