//! What every Graph handler shares: the permissions each area needs, Graph's errors, `$select` checks and
//! projection, and lists of already-rendered items.

use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::directory::Shape;
use crate::http::{ApiRequest, ApiResponse, graph_error};
use crate::model::Guid;
use crate::odata::{Collection, ListQuery, page};
use crate::tenant::{License, ObjectKind};
use crate::world::World;

/// Application permissions that allow reading each area (any one suffices).
pub(crate) mod perms {
    pub(crate) const ORGANIZATION: &[&str] =
        &["Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
    pub(crate) const USERS: &[&str] =
        &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
    pub(crate) const SIGN_INS: &[&str] = &["AuditLog.Read.All"];
    pub(crate) const MAILBOX: &[&str] = &["MailboxSettings.Read", "MailboxSettings.ReadWrite"];
    pub(crate) const GROUPS: &[&str] = &[
        "GroupMember.Read.All",
        "GroupMember.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub(crate) const APPS: &[&str] =
        &["Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
    pub(crate) const APP_ROLE_ASSIGNMENTS: &[&str] = &[
        "Application.Read.All",
        "Application.ReadWrite.All",
        "AppRoleAssignment.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub(crate) const GRANTS: &[&str] = &[
        "DelegatedPermissionGrant.Read.All",
        "DelegatedPermissionGrant.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub(crate) const ROLES: &[&str] = &[
        "RoleManagement.Read.Directory",
        "RoleManagement.Read.All",
        "RoleManagement.ReadWrite.Directory",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub(crate) const ROLE_ELIGIBILITY: &[&str] = &[
        "RoleEligibilitySchedule.Read.Directory",
        "RoleEligibilitySchedule.ReadWrite.Directory",
        "RoleManagement.Read.Directory",
        "RoleManagement.Read.All",
        "RoleManagement.ReadWrite.Directory",
    ];
    pub(crate) const ROLE_ASSIGNMENT_SCHEDULES: &[&str] = &[
        "RoleAssignmentSchedule.Read.Directory",
        "RoleAssignmentSchedule.ReadWrite.Directory",
        "RoleManagement.Read.Directory",
        "RoleManagement.Read.All",
        "RoleManagement.ReadWrite.Directory",
    ];
    pub(crate) const GROUP_ELIGIBILITY: &[&str] = &[
        "PrivilegedEligibilitySchedule.Read.AzureADGroup",
        "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",
        "PrivilegedAccess.Read.AzureADGroup",
        "PrivilegedAccess.ReadWrite.AzureADGroup",
    ];
    pub(crate) const GROUP_ASSIGNMENT_SCHEDULES: &[&str] = &[
        "PrivilegedAssignmentSchedule.Read.AzureADGroup",
        "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",
        "PrivilegedAccess.Read.AzureADGroup",
        "PrivilegedAccess.ReadWrite.AzureADGroup",
    ];
    pub(crate) const DIRECTORY: &[&str] = &["Directory.Read.All", "Directory.ReadWrite.All"];
}

pub(crate) type Answer = Result<ApiResponse, ApiResponse>;

/// 403 unless the caller holds one of `perms`.
pub(crate) fn require(caller: &Caller, perms: &[&str]) -> Result<(), ApiResponse> {
    if caller.has_any(perms) {
        Ok(())
    } else {
        Err(graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."))
    }
}

/// 400 `AadPremiumLicenseRequired` unless the tenant has Entra ID P2.
pub(crate) fn require_p2(world: &World) -> Result<(), ApiResponse> {
    if world.license == License::P2 {
        Ok(())
    } else {
        Err(graph_error(
            400,
            "AadPremiumLicenseRequired",
            "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.",
        ))
    }
}

pub(crate) fn not_found(id: &str) -> ApiResponse {
    graph_error(
        404,
        "Request_ResourceNotFound",
        &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
    )
}

pub(crate) fn bad_request(message: &str) -> ApiResponse {
    graph_error(400, "Request_BadRequest", message)
}

/// Parses an object id from a path segment; a malformed one is Graph's 400.
pub(crate) fn object_id(raw: &str) -> Result<Guid, ApiResponse> {
    raw.parse().map_err(|_| bad_request(&format!("Invalid object identifier '{raw}'.")))
}

pub(crate) fn existing(world: &World, raw: &str, kind: ObjectKind) -> Result<Guid, ApiResponse> {
    let id = object_id(raw)?;
    match world.objects.get(&id) {
        Some((k, _)) if *k == kind => Ok(id),
        _ => Err(not_found(raw)),
    }
}

/// The `$select` list of a single-object read, checked against `shape`; navigation properties may be named and are
/// left out (only `$expand` brings them).
pub(crate) fn select_list(
    req: &ApiRequest,
    shape: &Shape,
    navigation: &[&str],
) -> Result<Option<Vec<String>>, ApiResponse> {
    let Some(s) = req.param("$select") else { return Ok(None) };
    s.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty() && !navigation.iter().any(|n| n.eq_ignore_ascii_case(f)))
        .map(|f| {
            shape.selectable.iter().find(|k| k.eq_ignore_ascii_case(f)).map(|k| (*k).to_owned()).ok_or_else(|| {
                bad_request(&format!("Could not find a property named '{f}' on type '{}'.", &shape.odata_type[1..]))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// An app role assignment as Graph renders it, with its principal's and resource's display names.
pub(crate) fn assignment_json(world: &World, a: &crate::tenant::AppRoleAssignment) -> Map<String, Value> {
    let name = |id: &Guid| world.object(id).map(|o| o.get("displayName")).unwrap_or(Value::Null);
    let principal_type = world.objects.get(&a.principal_id).map_or("ServicePrincipal", |(k, _)| k.principal_type());
    crate::json::as_object(json!({
        "id": a.id,
        "deletedDateTime": null,
        "appRoleId": a.app_role_id.as_str(),
        "createdDateTime": a.created_date_time,
        "principalDisplayName": name(&a.principal_id),
        "principalId": a.principal_id.as_str(),
        "principalType": principal_type,
        "resourceDisplayName": name(&a.resource_id),
        "resourceId": a.resource_id.as_str(),
    }))
}

/// Keeps `id` and the selected fields of a rendered object (all of them without `$select`).
pub(crate) fn project(full: Map<String, Value>, select: Option<&[String]>) -> Map<String, Value> {
    match select {
        None => full,
        Some(fields) => full.into_iter().filter(|(k, _)| k == "id" || fields.iter().any(|f| f == k)).collect(),
    }
}

/// A list of already-rendered items with `$select`, `$filter` (on `filterable`), `$top` and paging.
pub(crate) fn simple_list(
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
        expandable: &[],
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
