//! The directory audit log, `GET /auditLogs/directoryAudits`: one entry per change the write endpoints made, in the
//! shape Microsoft documents (`activityDateTime`, `activityDisplayName`, `category`, `loggedByService`,
//! `operationType`, `initiatedBy`, `targetResources`), newest first, `$filter` on `activityDateTime` (`ge`, `le`),
//! `loggedByService`, `category`, `activityDisplayName` and `id`, `$top` up to 999. Needs `AuditLog.Read.All` and
//! `Directory.Read.All`, as the service documents; the identity reports throttling tier applies.

use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::graph::common::{Answer, perms, require, simple_list};
use crate::http::ApiRequest;
use crate::json::as_object;
use crate::world::{Audit, World};

/// `GET /auditLogs/directoryAudits`.
pub(crate) fn directory_audits(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::SIGN_INS)?;
    require(caller, perms::DIRECTORY)?;
    let items = world.audits.iter().rev().map(|a| render(world, a)).collect();
    simple_list(
        req,
        "auditLogs/directoryAudits",
        &[
            "id",
            "category",
            "correlationId",
            "result",
            "resultReason",
            "activityDisplayName",
            "activityDateTime",
            "loggedByService",
            "operationType",
            "initiatedBy",
            "targetResources",
            "additionalDetails",
        ],
        &["activityDateTime", "loggedByService", "category", "activityDisplayName", "id", "correlationId"],
        items,
    )
}

fn render(world: &World, a: &Audit) -> Map<String, Value> {
    let app = world.tenant.apps.iter().find(|x| x.client_id.as_str() == a.app_id);
    let name = app.map(|x| json!(x.display_name)).unwrap_or(Value::Null);
    let targets: Vec<Value> = a
        .targets
        .iter()
        .map(|t| {
            json!({
                "id": t.id.as_str(),
                "displayName": t.display_name,
                "type": t.kind,
                "userPrincipalName": t.user_principal_name,
                "groupType": null,
                "modifiedProperties": [],
            })
        })
        .collect();
    as_object(json!({
        "id": a.id.as_str(),
        "category": a.category,
        "correlationId": a.id.as_str(),
        "result": "success",
        "resultReason": "",
        "activityDisplayName": a.activity,
        "activityDateTime": a.at,
        "loggedByService": a.service,
        "operationType": a.operation,
        "initiatedBy": {
            "user": null,
            "app": {
                "appId": a.app_id,
                "displayName": name,
                "servicePrincipalId": app.map(|x| x.service_principal_id.as_str()),
                "servicePrincipalName": null,
            },
        },
        "targetResources": targets,
        "additionalDetails": [],
    }))
}
