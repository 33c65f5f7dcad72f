//! Graph reads of applications: service principals (also by app id), app registrations, app role assignments and
//! delegated permission grants.

use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::directory;
use crate::graph::common::{Answer, assignment_json, bad_request, not_found, object_id, perms, project, require};
use crate::graph::expand::{directory_page, navigation};
use crate::http::{ApiRequest, ApiResponse};
use crate::model::Guid;
use crate::odata::{Collection, ListQuery, page};
use crate::tenant::ObjectKind;
use crate::world::World;

pub(crate) fn sp_by_key(world: &World, segment: &str) -> Result<String, ApiResponse> {
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

pub(crate) fn service_principals(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::APPS)?;
    let c = Collection {
        context: "servicePrincipals",
        type_name: "microsoft.graph.servicePrincipal",
        selectable: directory::SERVICE_PRINCIPAL.selectable,
        filterable: &["id", "appId", "servicePrincipalType", "accountEnabled", "displayName", "appOwnerOrganizationId"],
        advanced_filter: &[],
        max_top: 999,
        count_needs_eventual: true,
        expandable: navigation(ObjectKind::ServicePrincipal),
    };
    directory_page(world, req, &c, world.tenant.service_principals.iter())
}

pub(crate) fn applications(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::APPS)?;
    let c = Collection {
        context: "applications",
        type_name: "microsoft.graph.application",
        selectable: directory::APPLICATION.selectable,
        filterable: &["id", "appId", "displayName"],
        advanced_filter: &[],
        max_top: 999,
        count_needs_eventual: true,
        expandable: navigation(ObjectKind::Application),
    };
    directory_page(world, req, &c, world.tenant.applications.iter())
}

pub(crate) fn app_role_assignments(
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
        expandable: &[],
    };
    let q = ListQuery::parse(req, &c)?;
    let items = world.tenant.app_role_assignments.iter().filter(|a| keep(a));
    Ok(page(
        req,
        &q,
        "appRoleAssignments",
        items,
        |a, p| assignment_json(world, a).remove(p).unwrap_or(Value::Null),
        |a, sel| project(assignment_json(world, a), sel),
    ))
}

pub(crate) fn oauth2_grants(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
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
        expandable: &[],
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
        crate::json::as_object(v)
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
