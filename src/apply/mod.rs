//! Executing a plan against the live APIs: for each action, read the live state first; report what is already
//! done as skipped; guard against locking the tenant out; act; journal the outcome before the next action.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::azure::AzureClient;
use crate::azure::client::Service;
use crate::azure::error::ApiError;
use crate::azure::items::is_graph_key;
use crate::model::{Guid, Relation};
use crate::plan::{Action, Operation, Plan};
use crate::store::{Journal, StoreError};

/// The Global Administrator role definition (template) id.
mod guard;

pub use guard::groups_of;
use guard::lockout;

pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";

/// ARM API version of role assignments.
const RBAC_API: &str = "2022-04-01";

/// How to run a plan.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Read live state and say what each action would do; change nothing, journal nothing.
    pub dry_run: bool,
    /// Allow actions the lockout guard would refuse.
    pub force_lockout_risk: bool,
}

/// What happened to one action.
pub use crate::model::ActionStatus as Status;

/// One action's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub action_id: String,
    pub status: Status,
    pub detail: String,
    /// The service's id of the write request (`request-id` / `x-ms-request-id`), when one was sent and answered.
    pub request_id: Option<String>,
    /// The host the write went to.
    pub host: Option<String>,
}

/// Who runs this apply and on whose approval: recorded with every attempt in the journal.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    pub run_id: String,
    /// The SHA-256 of the plan file's bytes: the journal's key for the plan.
    pub plan_sha256: String,
    pub actor_tid: String,
    pub actor_oid: String,
    pub actor_appid: Option<String>,
    /// `plan sign`'s approver (`principals (SHA256:…)`), when `--require-signature` checked one.
    pub approved_by: Option<String>,
}

/// Why applying stopped altogether.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Api(ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who is applying: (tenant id, object id, application id) from a Graph token (`tid`, `oid`, and `appid` or
/// `azp`; the application id only when it is a GUID).
pub async fn identity(client: &AzureClient) -> Result<(String, String, Option<String>), ApiError> {
    let claims = crate::azure::credential::token_claims(&client.token(Service::Graph).await?);
    let app = ["appid", "azp"]
        .iter()
        .find_map(|k| claims[*k].as_str().and_then(|v| v.parse::<Guid>().ok()))
        .map(|g| g.to_string());
    let guid = |k: &str| {
        let v = claims[k].as_str().unwrap_or_default();
        v.parse::<Guid>()
            .map(|g| g.to_string())
            .map_err(|_| untrusted(Service::Graph, format!("the access token's `{k}` claim {v:?} is not a GUID")))
    };
    Ok((guid("tid")?, guid("oid")?, app))
}

fn untrusted(service: Service, message: String) -> ApiError {
    ApiError::Untrusted { service: service.name(), message }
}

/// The name (GUID) of an Azure role assignment whose live `id` is exactly `{scope}/providers/
/// Microsoft.Authorization/roleAssignments/{guid}` at the action's own scope; anything else is not acted on.
fn assignment_guid(id: &str, scope: &str) -> Option<String> {
    let base = if scope == "/" { "" } else { scope };
    let lower = id.to_ascii_lowercase();
    let name = lower.strip_prefix(base)?.strip_prefix("/providers/microsoft.authorization/roleassignments/")?;
    name.parse::<Guid>().ok().map(|g| g.to_string())
}

/// Walks a paged list and returns what `pick` returns for the first item it accepts.
async fn find(
    client: &AzureClient,
    service: Service,
    path: &str,
    pick: impl Fn(&Value) -> Option<String>,
) -> Result<Option<String>, ApiError> {
    let mut found = None;
    client
        .pages(service, &client.url(service, path), &[], |items| {
            if found.is_none() {
                found = items.iter().find_map(&pick);
            }
            Ok(())
        })
        .await?;
    Ok(found)
}

/// The live state of what an action is about: `Some(id)` when present (the assignment id, or the member id for
/// links), `None` when absent.
async fn live(client: &AzureClient, a: &Action) -> Result<Option<String>, ApiError> {
    let p = a.principal.id.as_str();
    let t = a.target.id.as_str();
    let role = a.role.as_ref().map_or("", |r| r.id.as_str());
    let scope = a.scope.as_deref().unwrap_or("/");
    let same = |v: &Value, want: &str| v.as_str().is_some_and(|x| x.eq_ignore_ascii_case(want));
    let id = |i: &Value| i["id"].as_str().map(str::to_owned);
    let found = match a.operation.relation() {
        rel @ (Relation::Member | Relation::Owner) => {
            let path = format!("/v1.0/groups/{t}/{rel}s?$select=id&$top=999");
            return find(client, Service::Graph, &path, |i| same(&i["id"], p).then(|| p.to_owned())).await;
        }
        Relation::AppRole => {
            let path = format!("/v1.0/servicePrincipals/{t}/appRoleAssignedTo?$top=999");
            find(client, Service::Graph, &path, |i| {
                (same(&i["principalId"], p) && same(&i["appRoleId"], role) && same(&i["resourceId"], t))
                    .then(|| id(i))
                    .flatten()
            })
            .await?
        }
        Relation::DirectoryRole => {
            let path = format!("/v1.0/roleManagement/directory/roleAssignments?$filter=principalId%20eq%20'{p}'");
            find(client, Service::Graph, &path, |i| {
                (same(&i["principalId"], p)
                    && same(&i["roleDefinitionId"], role)
                    && i["directoryScopeId"].as_str().unwrap_or("/") == scope)
                    .then(|| id(i))
                    .flatten()
            })
            .await?
        }
        _ => {
            let base = if scope == "/" { "" } else { scope };
            let path = format!(
                "{base}/providers/Microsoft.Authorization/roleAssignments?api-version={RBAC_API}&$filter=principalId%20eq%20'{p}'"
            );
            let found = find(client, Service::Arm, &path, |i| {
                let props = &i["properties"];
                let at = props["scope"].as_str().unwrap_or_default().to_ascii_lowercase();
                let def = props["roleDefinitionId"].as_str().unwrap_or_default().to_ascii_lowercase();
                (same(&props["principalId"], p) && at == scope && def.rsplit('/').next() == Some(role))
                    .then(|| id(i))
                    .flatten()
            })
            .await?;
            return match found {
                None => Ok(None),
                Some(live) => assignment_guid(&live, scope).map(Some).ok_or_else(|| {
                    untrusted(Service::Arm, format!("role assignment id {live:?} is not an assignment at {scope}"))
                }),
            };
        }
    };
    match found {
        Some(key) if !is_graph_key(&key) => {
            Err(untrusted(service_of(a), format!("assignment id {key:?} is not a key azsnap puts into a URL")))
        }
        other => Ok(other),
    }
}

/// Who is applying: its object id and the groups it is in.
#[derive(Debug, Clone, Default)]
pub struct Applier {
    pub id: String,
    pub groups: std::collections::HashSet<String>,
}

/// A deterministic GUID for a new Azure role assignment, so a re-run PUTs the same name (idempotent).
fn assignment_name(plan_sha: &str, action_id: &str) -> String {
    Guid::derived(&format!("{plan_sha}/{action_id}")).to_string()
}

fn principal_type(kind: &str) -> Option<&'static str> {
    match kind {
        "user" => Some("User"),
        "group" => Some("Group"),
        "service_principal" | "managed_identity" => Some("ServicePrincipal"),
        _ => None,
    }
}

/// Executes one action whose live state was `present`. `Ok(None)` = done, `Ok(Some(why))` = the API said it was
/// already done.
/// What a write did.
enum Written {
    /// Done; the service's request id, when it gave one.
    Done { request_id: Option<String> },
    /// The service said it was already so ("already exists", 404 on a delete).
    Already(String),
}

async fn execute(client: &AzureClient, a: &Action, present: Option<&str>, plan_sha: &str) -> Result<Written, ApiError> {
    use reqwest::Method;
    let p = a.principal.id.as_str();
    let t = a.target.id.as_str();
    let role = a.role.as_ref().map_or("", |r| r.id.as_str());
    let graph = |path: String| client.url(Service::Graph, &path);
    let link = json!({"@odata.id": graph(format!("/v1.0/directoryObjects/{p}"))});
    let (method, url, body) = match a.operation {
        Operation::GroupMemberAdd => (Method::POST, graph(format!("/v1.0/groups/{t}/members/$ref")), Some(link)),
        Operation::GroupOwnerAdd => (Method::POST, graph(format!("/v1.0/groups/{t}/owners/$ref")), Some(link)),
        Operation::GroupMemberRemove => (Method::DELETE, graph(format!("/v1.0/groups/{t}/members/{p}/$ref")), None),
        Operation::GroupOwnerRemove => (Method::DELETE, graph(format!("/v1.0/groups/{t}/owners/{p}/$ref")), None),
        Operation::AppRoleAssign => (
            Method::POST,
            graph(format!("/v1.0/servicePrincipals/{t}/appRoleAssignedTo")),
            Some(json!({"principalId": p, "resourceId": t, "appRoleId": role})),
        ),
        Operation::AppRoleRevoke => {
            let id = present.unwrap_or_default();
            (Method::DELETE, graph(format!("/v1.0/servicePrincipals/{t}/appRoleAssignedTo/{id}")), None)
        }
        Operation::DirectoryRoleAdd => (
            Method::POST,
            graph("/v1.0/roleManagement/directory/roleAssignments".to_owned()),
            Some(json!({
                "@odata.type": "#microsoft.graph.unifiedRoleAssignment",
                "roleDefinitionId": role,
                "principalId": p,
                "directoryScopeId": a.scope.as_deref().unwrap_or("/"),
            })),
        ),
        Operation::DirectoryRoleRemove => {
            let id = present.unwrap_or_default();
            (Method::DELETE, graph(format!("/v1.0/roleManagement/directory/roleAssignments/{id}")), None)
        }
        Operation::AzureRoleCreate => {
            let scope = a.scope.as_deref().unwrap_or("/");
            let base = if scope == "/" { "" } else { scope };
            let definition_scope = scope
                .strip_prefix("/subscriptions/")
                .and_then(|rest| rest.split('/').next())
                .map(|s| format!("/subscriptions/{s}"))
                .unwrap_or_default();
            let mut props = json!({
                "roleDefinitionId": format!("{definition_scope}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
                "principalId": p,
            });
            if let Some(kind) = principal_type(&a.principal.kind) {
                props["principalType"] = json!(kind);
            }
            let name = assignment_name(plan_sha, &a.id);
            let path =
                format!("{base}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version={RBAC_API}");
            (Method::PUT, client.url(Service::Arm, &path), Some(json!({"properties": props})))
        }
        Operation::AzureRoleDelete => {
            // `present` is the assignment's GUID, checked to be at this scope; the URL is built from the plan's scope.
            let scope = a.scope.as_deref().unwrap_or("/");
            let base = if scope == "/" { "" } else { scope };
            let name = present.unwrap_or_default();
            let path =
                format!("{base}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version={RBAC_API}");
            (Method::DELETE, client.url(Service::Arm, &path), None)
        }
    };
    match client.send(service_of(a), method, &url, &[], body.as_ref()).await {
        Ok(reply) => match written_elsewhere(a, &reply.body) {
            Some(why) => Err(untrusted(service_of(a), why)),
            None => Ok(Written::Done { request_id: reply.request_id }),
        },
        Err(e) if already(&e, a.operation) => Ok(Written::Already(e.to_string())),
        Err(e) => Err(e),
    }
}

/// Why the object a create answered with is not the one the action names, if it is not. Answers without a body
/// (`$ref` links, deletes) have nothing to compare.
fn written_elsewhere(a: &Action, body: &Value) -> Option<String> {
    let p = a.principal.id.as_str();
    let role = a.role.as_ref().map_or("", |r| r.id.as_str());
    let (fields, object): (Vec<(&str, &str)>, &Value) = match a.operation {
        Operation::AppRoleAssign => {
            (vec![("principalId", p), ("appRoleId", role), ("resourceId", a.target.id.as_str())], body)
        }
        Operation::DirectoryRoleAdd => (vec![("principalId", p), ("roleDefinitionId", role)], body),
        Operation::AzureRoleCreate => (vec![("principalId", p)], &body["properties"]),
        _ => return None,
    };
    if !object.is_object() {
        return None;
    }
    fields.into_iter().find_map(|(k, want)| {
        let got = object[k].as_str().unwrap_or_default();
        (!got.eq_ignore_ascii_case(want))
            .then(|| format!("the service answered that it wrote {k} {got:?}, not {want:?}"))
    })
}

fn service_of(a: &Action) -> Service {
    if a.operation.relation() == Relation::AzureRole { Service::Arm } else { Service::Graph }
}

/// The real "already exists" / "not found" answers that mean the action is already done.
fn already(e: &ApiError, op: Operation) -> bool {
    let (Some(status), Some(code)) = (e.status(), e.code()) else { return false };
    let message = e.to_string();
    if op.removes() {
        status == 404
    } else {
        (status == 400
            && code == "Request_BadRequest"
            && (message.contains("already exist") || message.contains("conflicting object")))
            || (status == 409 && code == "RoleAssignmentExists")
    }
}

/// Runs every action of `plan` in order. `done_before` are the journal's outcomes from earlier runs of this
/// plan; `report` sees each outcome as it happens. Stops early only on failures that concern every action
/// (authentication, a broken journal).
pub async fn apply(
    client: &AzureClient,
    plan: &Plan,
    journal: Option<&Journal>,
    options: &Options,
    me: &Applier,
    run: &RunInfo,
    mut report: impl FnMut(&Action, &Outcome),
) -> Result<Vec<Outcome>, ApplyError> {
    let plan_sha = run.plan_sha256.as_str();
    let earlier: HashMap<String, (Status, String)> = match journal {
        Some(j) => j.outcomes(plan_sha)?,
        None => HashMap::new(),
    };
    let mut outcomes = Vec::with_capacity(plan.actions.len());
    for a in &plan.actions {
        let outcome = match earlier.get(&a.id) {
            Some((status, detail)) if status.settled() => Outcome {
                action_id: a.id.clone(),
                status: Status::Skipped,
                detail: format!("already {status} by an earlier run ({detail})"),
                request_id: None,
                host: None,
            },
            _ => run_one(client, a, plan_sha, options, me).await.map_err(ApplyError::Api)?,
        };
        if let Some(j) = journal
            && !options.dry_run
            && matches!(outcome.status, Status::Done | Status::Skipped | Status::Failed | Status::Refused)
        {
            j.record(&crate::store::Attempt {
                run_id: run.run_id.clone(),
                plan_sha256: plan_sha.to_owned(),
                action_id: a.id.clone(),
                operation: a.operation.to_string(),
                status: outcome.status,
                detail: outcome.detail.clone(),
                at: crate::clock::now().to_string(),
                actor_tid: Some(run.actor_tid.clone()),
                actor_oid: Some(run.actor_oid.clone()),
                actor_appid: run.actor_appid.clone(),
                request_id: outcome.request_id.clone(),
                host: outcome.host.clone(),
                approved_by: run.approved_by.clone(),
                reviewed_by: a.reviewed_by.clone(),
                ..Default::default()
            })?;
        }
        report(a, &outcome);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// One action; `Err` only for authentication failures (which stop the run).
async fn run_one(
    client: &AzureClient,
    a: &Action,
    plan_sha: &str,
    options: &Options,
    me: &Applier,
) -> Result<Outcome, ApiError> {
    let out =
        |status, detail: String| Ok(Outcome { action_id: a.id.clone(), status, detail, request_id: None, host: None });
    let fail = |e: ApiError| -> Result<Outcome, ApiError> {
        if matches!(e, ApiError::Auth(_)) { Err(e) } else { out(Status::Failed, e.to_string()) }
    };
    let present = match live(client, a).await {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if a.operation.removes() != present.is_some() {
        let state = if present.is_some() { "present" } else { "absent" };
        return out(Status::Skipped, format!("already {state}"));
    }
    if !options.force_lockout_risk {
        match lockout(client, a, me).await {
            Ok(Some(why)) => return out(Status::Refused, format!("{why}; pass --force-lockout-risk to do it anyway")),
            Ok(None) => {}
            Err(e) => return fail(e),
        }
    }
    if options.dry_run {
        return out(Status::WouldDo, format!("would {}", a.describe()));
    }
    let host = url::Url::parse(&client.url(service_of(a), "/")).ok().and_then(|u| u.host_str().map(str::to_owned));
    let sent = |o: Result<Outcome, ApiError>, request_id: Option<String>| {
        o.map(|o| Outcome { request_id, host: host.clone(), ..o })
    };
    match execute(client, a, present.as_deref(), plan_sha).await {
        Ok(Written::Done { request_id }) => sent(out(Status::Done, a.describe()), request_id),
        Ok(Written::Already(answer)) => {
            sent(out(Status::Skipped, format!("the service says it is already done: {answer}")), None)
        }
        Err(e) => sent(fail(e), None),
    }
}
