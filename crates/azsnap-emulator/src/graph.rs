//! Microsoft Graph (`/v1.0` and `/beta`): routing, permissions, license gates, and the directory reads.
//!
//! Role management and PIM live in `graph_roles`; this file owns users, groups, members, service principals,
//! applications, app role assignments, delegated grants and `directoryObjects`.

use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::directory::{self, DirectoryObject, Shape};
use crate::graph_roles;
use crate::http::{ApiRequest, ApiResponse, graph_error};
use crate::model::Guid;
use crate::odata::{Collection, ListQuery, page};
use crate::state::{Emulator, World};
use crate::tenant::{License, ObjectKind};

/// Application permissions that allow reading each area (any one suffices).
pub mod perms {
    pub const ORGANIZATION: &[&str] =
        &["Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
    pub const USERS: &[&str] =
        &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
    pub const SIGN_INS: &[&str] = &["AuditLog.Read.All"];
    pub const MAILBOX: &[&str] = &["MailboxSettings.Read", "MailboxSettings.ReadWrite"];
    pub const GROUPS: &[&str] = &[
        "GroupMember.Read.All",
        "GroupMember.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub const APPS: &[&str] =
        &["Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
    pub const APP_ROLE_ASSIGNMENTS: &[&str] = &[
        "Application.Read.All",
        "Application.ReadWrite.All",
        "AppRoleAssignment.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub const GRANTS: &[&str] = &[
        "DelegatedPermissionGrant.Read.All",
        "DelegatedPermissionGrant.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub const ROLES: &[&str] = &[
        "RoleManagement.Read.Directory",
        "RoleManagement.Read.All",
        "RoleManagement.ReadWrite.Directory",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub const ROLE_ELIGIBILITY: &[&str] = &[
        "RoleEligibilitySchedule.Read.Directory",
        "RoleEligibilitySchedule.ReadWrite.Directory",
        "RoleManagement.Read.Directory",
        "RoleManagement.Read.All",
        "RoleManagement.ReadWrite.Directory",
    ];
    pub const ROLE_ASSIGNMENT_SCHEDULES: &[&str] = &[
        "RoleAssignmentSchedule.Read.Directory",
        "RoleAssignmentSchedule.ReadWrite.Directory",
        "RoleManagement.Read.Directory",
        "RoleManagement.Read.All",
        "RoleManagement.ReadWrite.Directory",
    ];
    pub const GROUP_ELIGIBILITY: &[&str] = &[
        "PrivilegedEligibilitySchedule.Read.AzureADGroup",
        "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",
        "PrivilegedAccess.Read.AzureADGroup",
        "PrivilegedAccess.ReadWrite.AzureADGroup",
    ];
    pub const GROUP_ASSIGNMENT_SCHEDULES: &[&str] = &[
        "PrivilegedAssignmentSchedule.Read.AzureADGroup",
        "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",
        "PrivilegedAccess.Read.AzureADGroup",
        "PrivilegedAccess.ReadWrite.AzureADGroup",
    ];
    pub const DIRECTORY: &[&str] = &["Directory.Read.All", "Directory.ReadWrite.All"];
}

/// 403 unless the caller holds one of `perms`.
pub fn require(caller: &Caller, perms: &[&str]) -> Result<(), ApiResponse> {
    if caller.has_any(perms) {
        Ok(())
    } else {
        Err(graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."))
    }
}

/// 400 `AadPremiumLicenseRequired` unless the tenant has Entra ID P2.
pub fn require_p2(world: &World) -> Result<(), ApiResponse> {
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

pub fn not_found(id: &str) -> ApiResponse {
    graph_error(
        404,
        "Request_ResourceNotFound",
        &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
    )
}

fn bad_request(message: &str) -> ApiResponse {
    graph_error(400, "Request_BadRequest", message)
}

/// Answers a Graph request; `rest` is the path after the version segment.
pub fn handle(emu: &Emulator, caller: &Caller, req: &ApiRequest, rest: &[&str]) -> ApiResponse {
    if req.method == "POST" && rest == ["$batch"] {
        let version = req.path.trim_start_matches('/').split('/').next().unwrap_or("v1.0");
        return crate::batch::handle(emu, req, version);
    }
    let result = match req.method.as_str() {
        "GET" => get(&emu.read(), caller, req, rest, Some(emu.options.delta_token_max_age_secs)),
        "POST" if rest == ["directoryObjects", "getByIds"] => get_by_ids(&emu.read(), caller, req),
        _ => crate::graph_write::handle(&mut emu.write(), caller, req, rest),
    };
    result.unwrap_or_else(|e| e)
}

type Answer = Result<ApiResponse, ApiResponse>;

fn get(world: &World, caller: &Caller, req: &ApiRequest, rest: &[&str], delta_max_age: Option<u64>) -> Answer {
    match rest {
        ["organization"] => organization(world, caller, req),
        ["users"] => users(world, caller, req),
        [kind @ ("users" | "groups"), "delta"] => {
            crate::delta::handle(world, caller, req, kind, delta_max_age.unwrap_or(7 * 24 * 3600))
        }
        ["users", id] => single(world, caller, req, id, ObjectKind::User),
        ["users", id, "mailboxSettings"] => mailbox(world, caller, req, id, false),
        ["users", id, "mailboxSettings", "userPurpose"] => mailbox(world, caller, req, id, true),
        ["users", id, "appRoleAssignments"] | ["groups", id, "appRoleAssignments"] => {
            require(caller, perms::APP_ROLE_ASSIGNMENTS)?;
            let id = object_id(id)?;
            app_role_assignments(world, req, |a| a.principal_id == id)
        }
        ["users", id, rel @ ("memberOf" | "transitiveMemberOf")] => {
            require(caller, perms::USERS)?;
            require(caller, perms::GROUPS)?;
            member_of(world, req, id, ObjectKind::User, *rel == "transitiveMemberOf")
        }
        ["servicePrincipals", id, "transitiveMemberOf"] => {
            require(caller, perms::GROUPS)?;
            member_of(world, req, id, ObjectKind::ServicePrincipal, true)
        }
        ["groups"] => groups(world, caller, req),
        ["groups", id] => single(world, caller, req, id, ObjectKind::Group),
        ["groups", id, rel @ ("members" | "owners" | "transitiveMembers"), cast @ ..] if cast.len() <= 1 => {
            require(caller, perms::GROUPS)?;
            group_links(world, req, id, rel, cast.first().copied())
        }
        ["servicePrincipals"] => service_principals(world, caller, req),
        [sp] if sp.starts_with("servicePrincipals(") => {
            let id = sp_by_key(world, sp)?;
            single(world, caller, req, &id, ObjectKind::ServicePrincipal)
        }
        ["servicePrincipals", id] => single(world, caller, req, id, ObjectKind::ServicePrincipal),
        ["servicePrincipals", id, "appRoleAssignedTo"] => {
            require(caller, perms::APP_ROLE_ASSIGNMENTS)?;
            let id = existing(world, id, ObjectKind::ServicePrincipal)?;
            app_role_assignments(world, req, |a| a.resource_id == id)
        }
        ["servicePrincipals", id, "appRoleAssignments"] => {
            require(caller, perms::APP_ROLE_ASSIGNMENTS)?;
            let id = existing(world, id, ObjectKind::ServicePrincipal)?;
            app_role_assignments(world, req, |a| a.principal_id == id)
        }
        ["servicePrincipals", id, "owners"] => {
            require(caller, perms::APPS)?;
            let id = existing(world, id, ObjectKind::ServicePrincipal)?;
            let owners = world.objects.get(&id).map(|(_, i)| world.tenant.service_principals[*i].owners.clone());
            list_objects(world, req, "directoryObjects", &owners.unwrap_or_default(), None)
        }
        ["applications"] => applications(world, caller, req),
        ["applications", id] => single(world, caller, req, id, ObjectKind::Application),
        ["applications", id, "owners"] => {
            require(caller, perms::APPS)?;
            let id = existing(world, id, ObjectKind::Application)?;
            let owners = world.objects.get(&id).map(|(_, i)| world.tenant.applications[*i].owners.clone());
            list_objects(world, req, "directoryObjects", &owners.unwrap_or_default(), None)
        }
        ["oauth2PermissionGrants"] => oauth2_grants(world, caller, req),
        ["directoryRoles", ..]
        | ["directoryRoleTemplates", ..]
        | ["roleManagement", ..]
        | ["identityGovernance", ..] => graph_roles::get(world, caller, req, rest),
        [first, ..] if first.starts_with("directoryRoles(") => graph_roles::get(world, caller, req, rest),
        _ => Err(graph_error(
            400,
            "BadRequest",
            &format!("Resource not found for the segment '{}'.", rest.first().copied().unwrap_or_default()),
        )),
    }
}

/// Parses an object id from a path segment; a malformed one is Graph's 400.
pub fn object_id(raw: &str) -> Result<Guid, ApiResponse> {
    raw.parse().map_err(|_| bad_request(&format!("Invalid object identifier '{raw}'.")))
}

fn existing(world: &World, raw: &str, kind: ObjectKind) -> Result<Guid, ApiResponse> {
    let id = object_id(raw)?;
    match world.objects.get(&id) {
        Some((k, _)) if *k == kind => Ok(id),
        _ => Err(not_found(raw)),
    }
}

fn sp_by_key(world: &World, segment: &str) -> Result<String, ApiResponse> {
    let key = segment
        .strip_prefix("servicePrincipals(appId='")
        .and_then(|s| s.strip_suffix("')"))
        .ok_or_else(|| bad_request(&format!("Invalid key segment '{segment}'.")))?;
    let app_id = object_id(key)?;
    world
        .tenant
        .service_principals
        .iter()
        .find(|s| s.app_id == app_id)
        .map(|s| s.id.to_string())
        .ok_or_else(|| not_found(key))
}

/// Renders the object `id` of `kind` (`GET /users/{id}` and the like).
fn single(world: &World, caller: &Caller, req: &ApiRequest, raw: &str, kind: ObjectKind) -> Answer {
    let needed = match kind {
        ObjectKind::User => perms::USERS,
        ObjectKind::Group => perms::GROUPS,
        ObjectKind::ServicePrincipal | ObjectKind::Application => perms::APPS,
    };
    require(caller, needed)?;
    let id = existing(world, raw, kind)?;
    let obj = object(world, &id).ok_or_else(|| not_found(raw))?;
    let select = select_list(req, obj.shape())?;
    let mut body = obj.render(select.as_deref(), false);
    let context = match kind {
        ObjectKind::User => "users",
        ObjectKind::Group => "groups",
        ObjectKind::ServicePrincipal => "servicePrincipals",
        ObjectKind::Application => "applications",
    };
    body.insert("@odata.context".to_owned(), json!(format!("{}$metadata#{context}/$entity", req.metadata_base())));
    Ok(ApiResponse::ok(Value::Object(body)))
}

fn select_list(req: &ApiRequest, shape: &Shape) -> Result<Option<Vec<String>>, ApiResponse> {
    let Some(s) = req.param("$select") else { return Ok(None) };
    s.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| {
            shape.selectable.iter().find(|k| k.eq_ignore_ascii_case(f)).map(|k| (*k).to_owned()).ok_or_else(|| {
                bad_request(&format!("Could not find a property named '{f}' on type '{}'.", &shape.odata_type[1..]))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The directory object `id`, whatever its kind.
pub fn object<'w>(world: &'w World, id: &Guid) -> Option<&'w dyn DirectoryObject> {
    let (kind, i) = world.objects.get(id)?;
    let t = &world.tenant;
    Some(match kind {
        ObjectKind::User => &t.users[*i] as &dyn DirectoryObject,
        ObjectKind::Group => &t.groups[*i],
        ObjectKind::ServicePrincipal => &t.service_principals[*i],
        ObjectKind::Application => &t.applications[*i],
    })
}

fn organization(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::ORGANIZATION)?;
    let t = &world.tenant.tenant;
    let plans: Vec<Value> = match world.license {
        License::Free => vec![],
        License::P1 => vec![plan("AADPremiumService", "41781fb2-bc02-4b7c-bd55-b576c07bb09d")],
        License::P2 => vec![
            plan("AADPremiumService", "41781fb2-bc02-4b7c-bd55-b576c07bb09d"),
            plan("AADPremiumService", "eec0eb4f-6444-4f95-aba0-50c24d67f998"),
        ],
    };
    let label = t.domain.split('.').next().unwrap_or(&t.domain);
    let provisioned: Vec<Value> = plans
        .iter()
        .map(|p| json!({"capabilityStatus": "Enabled", "provisioningStatus": "Success", "service": p["service"]}))
        .collect();
    let org = json!({
        "id": t.id.as_str(),
        "deletedDateTime": null,
        "businessPhones": t.business_phones,
        "city": null,
        "country": null,
        "countryLetterCode": t.country_letter_code,
        "createdDateTime": t.created_date_time,
        "defaultUsageLocation": t.country_letter_code,
        "isMultipleDataLocationsForServicesEnabled": null,
        "partnerTenantType": null,
        "directorySizeQuota": {"used": world.objects.len(), "total": 300_000},
        "displayName": t.display_name,
        "marketingNotificationEmails": [],
        "onPremisesLastSyncDateTime": null,
        "onPremisesSyncEnabled": world.tenant.users.iter().any(|u| u.props.get("onPremisesSyncEnabled") == Some(&json!(true))).then_some(true),
        "postalCode": null,
        "preferredLanguage": "en",
        "securityComplianceNotificationMails": [],
        "securityComplianceNotificationPhones": [],
        "state": null,
        "street": null,
        "technicalNotificationMails": [format!("admin@{}", t.domain)],
        "tenantType": "AAD",
        "assignedPlans": plans,
        "privacyProfile": {"contactEmail": "", "statementUrl": ""},
        "provisionedPlans": provisioned,
        "verifiedDomains": [
            {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": false, "name": t.domain, "type": "Managed"},
            {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": false, "isInitial": true, "name": format!("{label}.onmicrosoft.com"), "type": "Managed"}
        ],
    });
    Ok(ApiResponse::ok(json!({
        "@odata.context": format!("{}$metadata#organization", req.metadata_base()),
        "value": [org],
    })))
}

fn plan(service: &str, id: &str) -> Value {
    json!({"assignedDateTime": "2024-01-01T00:00:00Z", "capabilityStatus": "Enabled", "service": service, "servicePlanId": id})
}

fn users(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::USERS)?;
    let c = Collection {
        context: "users",
        type_name: "microsoft.graph.user",
        selectable: directory::USER.selectable,
        filterable: &[
            "id",
            "userType",
            "accountEnabled",
            "onPremisesSyncEnabled",
            "userPrincipalName",
            "mail",
            "displayName",
            "creationType",
        ],
        advanced_filter: &["onPremisesSyncEnabled"],
        max_top: 999,
        count_needs_eventual: true,
    };
    let q = ListQuery::parse(req, &c)?;
    if q.select.as_ref().is_some_and(|s| s.iter().any(|f| f == "signInActivity")) {
        require(caller, perms::SIGN_INS)?;
        if world.license == License::Free {
            return Err(graph_error(
                403,
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
            ));
        }
    }
    Ok(page(req, &q, "users", world.tenant.users.iter(), |u, p| u.get(p), |u, s| u.render(s, false)))
}

fn groups(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::GROUPS)?;
    let c = Collection {
        context: "groups",
        type_name: "microsoft.graph.group",
        selectable: directory::GROUP.selectable,
        filterable: &[
            "id",
            "displayName",
            "groupTypes",
            "securityEnabled",
            "mailEnabled",
            "onPremisesSyncEnabled",
            "isAssignableToRole",
        ],
        advanced_filter: &["onPremisesSyncEnabled"],
        max_top: 999,
        count_needs_eventual: true,
    };
    let q = ListQuery::parse(req, &c)?;
    Ok(page(req, &q, "groups", world.tenant.groups.iter(), |g, p| g.get(p), |g, s| g.render(s, false)))
}

fn service_principals(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::APPS)?;
    let c = Collection {
        context: "servicePrincipals",
        type_name: "microsoft.graph.servicePrincipal",
        selectable: directory::SERVICE_PRINCIPAL.selectable,
        filterable: &["id", "appId", "servicePrincipalType", "accountEnabled", "displayName", "appOwnerOrganizationId"],
        advanced_filter: &[],
        max_top: 999,
        count_needs_eventual: true,
    };
    let q = ListQuery::parse(req, &c)?;
    Ok(page(
        req,
        &q,
        "servicePrincipals",
        world.tenant.service_principals.iter(),
        |s, p| s.get(p),
        |s, sel| s.render(sel, false),
    ))
}

fn applications(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::APPS)?;
    let c = Collection {
        context: "applications",
        type_name: "microsoft.graph.application",
        selectable: directory::APPLICATION.selectable,
        filterable: &["id", "appId", "displayName"],
        advanced_filter: &[],
        max_top: 999,
        count_needs_eventual: true,
    };
    let q = ListQuery::parse(req, &c)?;
    Ok(page(req, &q, "applications", world.tenant.applications.iter(), |a, p| a.get(p), |a, s| a.render(s, false)))
}

fn mailbox(world: &World, caller: &Caller, req: &ApiRequest, raw: &str, purpose_only: bool) -> Answer {
    require(caller, perms::MAILBOX)?;
    let user = match object_id(raw).ok().and_then(|id| world.objects.get(&id).copied()) {
        Some((ObjectKind::User, i)) => &world.tenant.users[i],
        _ => {
            // By UPN as well as by id.
            world
                .tenant
                .users
                .iter()
                .find(|u| {
                    u.props
                        .get("userPrincipalName")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(raw))
                })
                .ok_or_else(|| {
                    graph_error(404, "ErrorInvalidUser", &format!("The requested user '{raw}' is invalid."))
                })?
        }
    };
    let Some(purpose) = &user.mailbox else {
        return Err(graph_error(
            404,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        ));
    };
    if purpose_only {
        return Ok(ApiResponse::ok(json!({
            "@odata.context": format!("{}$metadata#users('{}')/mailboxSettings/userPurpose", req.metadata_base(), user.id),
            "value": purpose,
        })));
    }
    let all = json!({
        "archiveFolder": "AAMkAGI2TGuLAAA=",
        "timeZone": "UTC",
        "automaticRepliesSetting": {
            "status": "disabled",
            "externalAudience": "all",
            "scheduledStartDateTime": {"dateTime": "2026-01-01T00:00:00.0000000", "timeZone": "UTC"},
            "scheduledEndDateTime": {"dateTime": "2026-01-02T00:00:00.0000000", "timeZone": "UTC"},
            "internalReplyMessage": "",
            "externalReplyMessage": ""
        },
        "language": {"locale": "en-US", "displayName": "English (United States)"},
        "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": {"name": "UTC"}
        },
        "dateFormat": "M/d/yyyy",
        "timeFormat": "h:mm tt",
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        "userPurpose": purpose,
    });
    let mut body = Map::new();
    body.insert(
        "@odata.context".to_owned(),
        json!(format!("{}$metadata#users('{}')/mailboxSettings", req.metadata_base(), user.id)),
    );
    let Value::Object(all) = all else { return Ok(ApiResponse::ok(Value::Object(body))) };
    match req.param("$select") {
        Some(sel) => {
            for f in sel.split(',').map(str::trim) {
                match all.get(f) {
                    Some(v) => {
                        body.insert(f.to_owned(), v.clone());
                    }
                    None => {
                        return Err(bad_request(&format!(
                            "Could not find a property named '{f}' on type 'microsoft.graph.mailboxSettings'."
                        )));
                    }
                }
            }
        }
        None => body.extend(all),
    }
    Ok(ApiResponse::ok(Value::Object(body)))
}

/// The union of member types' selectable properties.
fn member_selectable() -> Vec<&'static str> {
    let mut all: Vec<&str> = directory::USER
        .selectable
        .iter()
        .chain(directory::GROUP.selectable)
        .chain(directory::SERVICE_PRINCIPAL.selectable)
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

fn group_links(world: &World, req: &ApiRequest, raw: &str, rel: &str, cast: Option<&str>) -> Answer {
    let id = existing(world, raw, ObjectKind::Group)?;
    let group = world.objects.get(&id).map(|(_, i)| &world.tenant.groups[*i]).ok_or_else(|| not_found(raw))?;
    let ids: Vec<Guid> = match rel {
        "members" => group.members.clone(),
        "owners" => group.owners.clone(),
        _ => transitive_members(world, &id),
    };
    let cast = match cast {
        None => None,
        Some("microsoft.graph.user") => Some(ObjectKind::User),
        Some("microsoft.graph.group") => Some(ObjectKind::Group),
        Some("microsoft.graph.servicePrincipal") => Some(ObjectKind::ServicePrincipal),
        Some(other) => return Err(bad_request(&format!("Invalid cast segment '{other}'."))),
    };
    list_objects(world, req, "directoryObjects", &ids, cast)
}

/// `GET /users/{id}/memberOf`: the groups a user is directly in, and the directory roles it holds tenant-wide;
/// `transitiveMemberOf` (users, service principals): every group above it through nested groups, each once.
fn member_of(world: &World, req: &ApiRequest, raw: &str, kind: ObjectKind, transitive: bool) -> Answer {
    let id = existing(world, raw, kind)?;
    let mut groups: Vec<Guid> = world.member_of.get(&id).cloned().unwrap_or_default();
    if transitive {
        let mut seen: std::collections::HashSet<Guid> = groups.iter().cloned().collect();
        let mut next = 0;
        while next < groups.len() {
            for up in world.member_of.get(&groups[next]).into_iter().flatten() {
                if seen.insert(up.clone()) {
                    groups.push(up.clone());
                }
            }
            next += 1;
        }
    }
    let mut items: Vec<Map<String, Value>> =
        groups.iter().filter_map(|g| object(world, g)).map(|g| g.render(None, true)).collect();
    items.extend(crate::graph_roles::roles_held(world, &id));
    let c = Collection {
        context: "directoryObjects",
        type_name: "microsoft.graph.directoryObject",
        selectable: &[
            "id",
            "displayName",
            "description",
            "roleTemplateId",
            "deletedDateTime",
            "securityEnabled",
            "groupTypes",
        ],
        filterable: &[],
        advanced_filter: &[],
        max_top: 999,
        count_needs_eventual: true,
    };
    let q = ListQuery::parse(req, &c)?;
    Ok(page(
        req,
        &q,
        "directoryObjects",
        items.into_iter(),
        |m, p| m.get(p).cloned().unwrap_or(Value::Null),
        |m, sel| {
            let keep_type = m.get("@odata.type").cloned();
            let mut out = project(m.clone(), sel);
            if let Some(t) = keep_type {
                out.insert("@odata.type".to_owned(), t);
            }
            out
        },
    ))
}

/// Every object below `group` through nested groups, nested groups included, each once.
pub fn transitive_members(world: &World, group: &Guid) -> Vec<Guid> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut stack = vec![group.clone()];
    while let Some(g) = stack.pop() {
        let Some((ObjectKind::Group, i)) = world.objects.get(&g) else { continue };
        for m in &world.tenant.groups[*i].members {
            if seen.insert(m.clone()) {
                out.push(m.clone());
                stack.push(m.clone());
            }
        }
    }
    out
}

/// A page of directory objects named by id, of any kind (or one kind, for an OData cast).
fn list_objects(world: &World, req: &ApiRequest, context: &str, ids: &[Guid], cast: Option<ObjectKind>) -> Answer {
    let selectable = member_selectable();
    let c = Collection {
        context,
        type_name: "microsoft.graph.directoryObject",
        selectable: &selectable,
        filterable: &[
            "id",
            "displayName",
            "servicePrincipalType",
            "accountEnabled",
            "userType",
            "onPremisesSyncEnabled",
        ],
        advanced_filter: &["onPremisesSyncEnabled"],
        max_top: 999,
        count_needs_eventual: true,
    };
    let q = ListQuery::parse(req, &c)?;
    let context = match cast {
        Some(ObjectKind::User) => "users",
        Some(ObjectKind::Group) => "groups",
        Some(ObjectKind::ServicePrincipal) => "servicePrincipals",
        _ => context,
    };
    let items = ids.iter().filter_map(|id| {
        let (kind, _) = world.objects.get(id)?;
        if cast.is_some_and(|c| c != *kind) {
            return None;
        }
        object(world, id)
    });
    let typed = cast.is_none();
    Ok(page(
        req,
        &q,
        context,
        items,
        |o, p| o.get(p),
        |o, sel| {
            match sel {
                // In a mixed collection, a selected property the object's type lacks is left out.
                Some(fields) => {
                    let own: Vec<String> =
                        fields.iter().filter(|f| o.shape().selectable.contains(&f.as_str())).cloned().collect();
                    o.render(Some(&own), typed)
                }
                None => o.render(None, typed),
            }
        },
    ))
}

fn app_role_assignments(
    world: &World,
    req: &ApiRequest,
    keep: impl Fn(&crate::tenant::AppRoleAssignment) -> bool,
) -> Answer {
    const FIELDS: &[&str] = &[
        "id",
        "deletedDateTime",
        "appRoleId",
        "createdDateTime",
        "principalDisplayName",
        "principalId",
        "principalType",
        "resourceDisplayName",
        "resourceId",
    ];
    let c = Collection {
        context: "appRoleAssignments",
        type_name: "microsoft.graph.appRoleAssignment",
        selectable: FIELDS,
        filterable: &["principalId", "resourceId", "appRoleId"],
        advanced_filter: &[],
        max_top: 999,
        count_needs_eventual: false,
    };
    let q = ListQuery::parse(req, &c)?;
    let render_one = |a: &crate::tenant::AppRoleAssignment| -> Map<String, Value> {
        let name = |id: &Guid| object(world, id).map(|o| o.get("displayName")).unwrap_or(Value::Null);
        let principal_type = match world.objects.get(&a.principal_id).map(|(k, _)| *k) {
            Some(ObjectKind::User) => "User",
            Some(ObjectKind::Group) => "Group",
            _ => "ServicePrincipal",
        };
        let v = json!({
            "id": a.id,
            "deletedDateTime": null,
            "appRoleId": a.app_role_id.as_str(),
            "createdDateTime": a.created_date_time,
            "principalDisplayName": name(&a.principal_id),
            "principalId": a.principal_id.as_str(),
            "principalType": principal_type,
            "resourceDisplayName": name(&a.resource_id),
            "resourceId": a.resource_id.as_str(),
        });
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    };
    let items = world.tenant.app_role_assignments.iter().filter(|a| keep(a));
    Ok(page(
        req,
        &q,
        "appRoleAssignments",
        items,
        |a, p| render_one(a).remove(p).unwrap_or(Value::Null),
        |a, sel| project(render_one(a), sel),
    ))
}

/// Keeps `id` and the selected fields of a rendered object (all of them without `$select`).
pub fn project(full: Map<String, Value>, select: Option<&[String]>) -> Map<String, Value> {
    match select {
        None => full,
        Some(fields) => full.into_iter().filter(|(k, _)| k == "id" || fields.iter().any(|f| f == k)).collect(),
    }
}

fn oauth2_grants(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::GRANTS)?;
    const FIELDS: &[&str] = &["id", "clientId", "consentType", "principalId", "resourceId", "scope"];
    let c = Collection {
        context: "oauth2PermissionGrants",
        type_name: "microsoft.graph.oAuth2PermissionGrant",
        selectable: FIELDS,
        filterable: &["clientId", "resourceId", "consentType", "principalId"],
        advanced_filter: &[],
        max_top: 999,
        count_needs_eventual: false,
    };
    let q = ListQuery::parse(req, &c)?;
    let tenant_id = world.tenant.tenant.id.clone();
    let render_one = |g: &crate::tenant::OAuth2PermissionGrant| -> Map<String, Value> {
        let v = json!({
            "@odata.id": format!("{}/v2/{tenant_id}/oauth2PermissionGrants/{}", req.base_url, g.id),
            "clientId": g.client_id.as_str(),
            "consentType": g.consent_type,
            "id": g.id,
            "principalId": g.principal_id.as_ref().map(Guid::as_str),
            "resourceId": g.resource_id.as_str(),
            "scope": g.scope,
        });
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    };
    Ok(page(
        req,
        &q,
        "oauth2PermissionGrants",
        world.tenant.oauth2_permission_grants.iter(),
        |g, p| render_one(g).remove(p).unwrap_or(Value::Null),
        |g, sel| project(render_one(g), sel),
    ))
}

fn get_by_ids(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::DIRECTORY)?;
    let body = req.json_body().ok_or_else(|| bad_request("The request body is not valid JSON."))?;
    let Some(ids) = body.get("ids").and_then(Value::as_array) else {
        return Err(bad_request("The 'ids' parameter is required."));
    };
    if ids.len() > 1000 {
        return Err(bad_request("Too many ids: at most 1000 are allowed."));
    }
    let mut value = Vec::new();
    for raw in ids {
        let Some(raw) = raw.as_str() else { return Err(bad_request("Every id must be a string.")) };
        let id = object_id(raw)?;
        if let Some(o) = object(world, &id) {
            value.push(Value::Object(o.render(None, true)));
        }
    }
    Ok(ApiResponse::ok(json!({
        "@odata.context": format!("{}$metadata#directoryObjects", req.metadata_base()),
        "value": value,
    })))
}
