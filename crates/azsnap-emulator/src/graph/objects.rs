//! Directory object lifecycle writes: `PATCH /users/{id}` (properties such as `accountEnabled`),
//! `DELETE /users/{id}`, `DELETE /groups/{id}` and `POST /servicePrincipals` (a service principal for one of the
//! tenant's applications). Each is recorded in the change log, so delta queries report it: the object changed, or
//! `@removed` once deleted, with the memberships the deletion ended.

use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::directory::{self, DirectoryObject};
use crate::graph::common::{Answer, bad_request, existing, require};
use crate::http::{ApiRequest, ApiResponse, graph_error};
use crate::model::Guid;
use crate::tenant::{ObjectKind, ServicePrincipal};
use crate::world::{World, activity};

const USER_WRITE: &[&str] = &["User.ReadWrite.All", "Directory.ReadWrite.All"];
const GROUP_DELETE: &[&str] = &["Group.ReadWrite.All", "Directory.ReadWrite.All"];
const SP_WRITE: &[&str] = &["Application.ReadWrite.All", "Directory.ReadWrite.All"];

/// User properties the directory computes or owns; a `PATCH` may not set them.
const READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "creationType",
    "deletedDateTime",
    "signInActivity",
    "securityIdentifier",
    "onPremisesSyncEnabled",
    "onPremisesSecurityIdentifier",
    "onPremisesLastSyncDateTime",
    "onPremisesProvisioningErrors",
    "assignedPlans",
    "provisionedPlans",
    "licenseAssignmentStates",
    "identities",
];

/// Answers an object lifecycle write, or `None` when `rest` names none.
pub(crate) fn handle(world: &mut World, caller: &Caller, req: &ApiRequest, rest: &[&str]) -> Option<Answer> {
    Some(match (req.method.as_str(), rest) {
        ("PATCH", ["users", id]) => patch_user(world, caller, req, id),
        ("DELETE", ["users", id]) => delete(world, caller, id, ObjectKind::User, USER_WRITE),
        ("DELETE", ["groups", id]) => delete(world, caller, id, ObjectKind::Group, GROUP_DELETE),
        ("POST", ["servicePrincipals"]) => create_service_principal(world, caller, req),
        _ => return None,
    })
}

fn body_object(req: &ApiRequest) -> Result<Map<String, Value>, ApiResponse> {
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad_request("The request body must be a JSON object.")),
    }
}

/// `PATCH /users/{id}`: sets the given properties; 204. An on-premises-synced user's properties are mastered in
/// Active Directory and refused, as Graph does.
fn patch_user(world: &mut World, caller: &Caller, req: &ApiRequest, raw: &str) -> Answer {
    require(caller, USER_WRITE)?;
    let id = existing(world, raw, ObjectKind::User)?;
    let changes = body_object(req)?;
    for key in changes.keys() {
        let known = directory::USER.selectable.iter().any(|p| p == key);
        if !known || READ_ONLY.contains(&key.as_str()) {
            return Err(bad_request(&format!("Invalid property '{key}'.")));
        }
    }
    let i = world.objects.get(&id).map(|(_, i)| *i).ok_or_else(|| bad_request("no such user"))?;
    let user = &mut world.tenant.users[i];
    if user.props.get("onPremisesSyncEnabled") == Some(&json!(true)) {
        return Err(bad_request(
            "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects \
             currently undergoing migration.",
        ));
    }
    user.props.extend(changes);
    world.audit(&caller.app_id, activity::UPDATE_USER, &[&id]);
    world.touched(id);
    Ok(ApiResponse::empty(204))
}

/// `DELETE /users/{id}`, `DELETE /groups/{id}`: 204, and every link to the object goes with it.
fn delete(world: &mut World, caller: &Caller, raw: &str, kind: ObjectKind, needed: &[&str]) -> Answer {
    require(caller, needed)?;
    let id = existing(world, raw, kind)?;
    let logged = if kind == ObjectKind::User { activity::DELETE_USER } else { activity::DELETE_GROUP };
    world.audit(&caller.app_id, logged, &[&id]);
    world.remove_object(&id);
    Ok(ApiResponse::empty(204))
}

/// `POST /servicePrincipals` `{"appId": …}`: 201 with the new service principal of one of the tenant's
/// applications; one already there is 409.
fn create_service_principal(world: &mut World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, SP_WRITE)?;
    let body = body_object(req)?;
    let app_id: Guid = body
        .get("appId")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad_request("The request body must name an 'appId' (a GUID)."))?;
    if world.tenant.service_principals.iter().any(|s| s.app_id == app_id) {
        return Err(graph_error(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            "Another object with the same value for property servicePrincipalNames already exists.",
        ));
    }
    let app = world.tenant.applications.iter().find(|a| a.app_id == app_id).ok_or_else(|| {
        bad_request(&format!(
            "The appId '{app_id}' of the service principal does not reference a valid application object."
        ))
    })?;
    let name = app.props.get("displayName").cloned().unwrap_or(Value::Null);
    world.mint("servicePrincipal");
    let id = Guid::derived(&format!("servicePrincipal:{}:{}", world.tenant.tenant.id, world.minted));
    let mut props = crate::json::as_object(json!({
        "displayName": name,
        "appDisplayName": name,
        "accountEnabled": true,
        "servicePrincipalType": "Application",
        "appOwnerOrganizationId": world.tenant.tenant.id.as_str(),
        "servicePrincipalNames": [app_id.as_str()],
    }));
    for (k, v) in body {
        if k != "appId" && directory::SERVICE_PRINCIPAL.selectable.contains(&k.as_str()) {
            props.insert(k, v);
        }
    }
    let sp = ServicePrincipal { id: id.clone(), app_id, owners: Vec::new(), props };
    let mut rendered = sp.render(None, false);
    rendered.insert(
        "@odata.context".to_owned(),
        json!(format!("{}$metadata#servicePrincipals/$entity", req.metadata_base())),
    );
    world.tenant.service_principals.push(sp);
    world.reindex();
    world.audit(&caller.app_id, activity::ADD_SERVICE_PRINCIPAL, &[&id]);
    world.touched(id);
    Ok(ApiResponse::json(201, Value::Object(rendered)))
}
