//! Azure Resource Manager: tenants, subscriptions, management groups, resource groups, storage, user-assigned
//! identities, locations, role definitions, role assignments (with ARM's scope semantics), PIM schedule instances
//! and Resource Graph queries.
//!
//! Every request needs `api-version`. Reads are authorised the way ARM does it: the caller (or a group it is in)
//! needs a role assignment at or above the scope whose actions allow the read.
//!
//! Inside, one way: [`rbac`] (scopes and access) → [`render`] (JSON, pages) → the handlers [`resources`],
//! [`authorization`], [`resource_graph`], [`writes`] → this router.

mod authorization;
mod rbac;
mod render;
mod resource_graph;
mod resources;
mod writes;

use crate::auth::Caller;
use crate::http::{ApiRequest, ApiResponse, arm_error};
use crate::options::EmulatorOptions;
use crate::world::World;

use rbac::{Answer, Ctx};
use writes::WritePlan;

const AUTHZ: &str = "/providers/microsoft.authorization/";

/// Answers an ARM request.
pub(crate) fn handle(world: &World, opts: &EmulatorOptions, caller: &Caller, req: &ApiRequest) -> ApiResponse {
    match route(world, opts, caller, req) {
        Ok(r) | Err(r) => r,
    }
}

fn route(world: &World, opts: &EmulatorOptions, caller: &Caller, req: &ApiRequest) -> Answer {
    check_api_version(req)?;
    let path = req.path.trim_end_matches('/');
    let lower = path.to_ascii_lowercase();
    let ctx = Ctx { world, opts, caller, req };
    if let Some(at) = lower.rfind(AUTHZ) {
        let scope = if at == 0 { "/" } else { &path[..at] };
        let rest: Vec<&str> = path[at + AUTHZ.len()..].split('/').collect();
        return ctx.authorization(scope, &rest);
    }
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let lsegs: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lsegs.iter().map(String::as_str).collect();
    let posted_read = matches!(
        l.as_slice(),
        ["providers", "microsoft.management", "getentities"] | ["providers", "microsoft.resourcegraph", "resources"]
    );
    if req.method != "GET" && !(req.method == "POST" && posted_read) {
        return Err(arm_error(
            405,
            "MethodNotAllowed",
            &format!("The HTTP method '{}' is not supported here.", req.method),
        ));
    }
    match l.as_slice() {
        ["tenants"] => ctx.tenants(),
        ["subscriptions"] => ctx.subscriptions(),
        ["subscriptions", _] => ctx.subscription(segs[1]),
        ["subscriptions", _, "locations"] => ctx.locations(segs[1]),
        ["subscriptions", _, "resourcegroups"] => ctx.resource_groups(segs[1]),
        ["subscriptions", _, "resourcegroups", _] => ctx.resource_group(segs[1], segs[3]),
        ["subscriptions", _, "providers", "microsoft.storage", "storageaccounts"] => ctx.storage_accounts(segs[1]),
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.storage",
            "storageaccounts",
            _,
            "blobservices",
            "default",
            "containers",
        ] => ctx.containers(segs[1], segs[3], segs[7]),
        ["subscriptions", _, "providers", "microsoft.managedidentity", "userassignedidentities"] => {
            ctx.identities(segs[1])
        }
        ["providers", "microsoft.management", "managementgroups"] => ctx.management_groups(),
        ["providers", "microsoft.management", "managementgroups", _] => ctx.management_group(segs[3]),
        ["providers", "microsoft.management", "managementgroups", _, "descendants"] => ctx.descendants(segs[3]),
        ["providers", "microsoft.management", "getentities"] => ctx.entities(),
        ["providers", "microsoft.resourcegraph", "resources"] => ctx.resource_graph(),
        _ => Err(arm_error(
            400,
            "InvalidResourceType",
            &format!("The resource type could not be found for the path '{path}'."),
        )),
    }
}

fn check_api_version(req: &ApiRequest) -> Result<(), ApiResponse> {
    let Some(v) = req.param("api-version") else {
        return Err(arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let date = v.strip_suffix("-preview").unwrap_or(v);
    let ok = date.len() == 10
        && date.char_indices().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
    if ok {
        Ok(())
    } else {
        Err(arm_error(
            400,
            "InvalidApiVersionParameter",
            &format!("The api-version '{v}' is invalid. The supported versions are dates, e.g. '2022-04-01'."),
        ))
    }
}

/// Answers an ARM write (`PUT` or `DELETE` of a role assignment).
pub(crate) fn handle_write(
    world: &mut World,
    opts: &EmulatorOptions,
    caller: &Caller,
    req: &ApiRequest,
) -> ApiResponse {
    let plan = {
        let ctx = Ctx { world, opts, caller, req };
        check_api_version(req).and_then(|()| ctx.plan_write())
    };
    match plan {
        Ok(WritePlan::Create(a, status)) => {
            let body = Ctx { world, opts, caller, req }.assignment_json(&a, None);
            world.tenant.role_assignments.retain(|x| x.name != a.name);
            world.tenant.role_assignments.push(a);
            ApiResponse::json(status, body)
        }
        Ok(WritePlan::Delete(i)) => {
            let removed = world.tenant.role_assignments.remove(i);
            ApiResponse::ok(Ctx { world, opts, caller, req }.assignment_json(&removed, None))
        }
        Ok(WritePlan::Respond(r)) | Err(r) => r,
    }
}
