//! Executing a plan against the live APIs: for each action, read the live state first; report what is already
//! done as skipped; guard against locking the tenant out; act; journal the outcome before the next action.

use std::collections::HashMap;

use base64::Engine;
use serde::Serialize;
use serde_json::{Value, json};

use crate::azure::AzureClient;
use crate::azure::client::Service;
use crate::azure::error::ApiError;
use crate::model::Guid;
use crate::plan::{Action, Operation, Plan};
use crate::store::{Journal, StoreError};

/// The Global Administrator role definition (template) id.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Changed the tenant.
    Done,
    /// Nothing to do: the live state already matched, or an earlier run did it.
    Skipped,
    /// Dry run: the action would change the tenant.
    WouldDo,
    /// Refused by the lockout guard.
    Refused,
    /// The API refused or failed.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Skipped => "skipped",
            Status::WouldDo => "would do",
            Status::Refused => "refused",
            Status::Failed => "failed",
        }
    }
}

/// One action's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub action_id: String,
    pub status: Status,
    pub detail: String,
}

/// Why applying stopped altogether.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Api(ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The claims of a JWT access token, read without verifying it (to learn who we are, never to trust).
pub fn token_claims(token: &str) -> Value {
    token
        .split('.')
        .nth(1)
        .and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

/// Who is applying: (tenant id, object id) from a Graph token.
pub async fn identity(client: &AzureClient) -> Result<(String, String), ApiError> {
    let claims = token_claims(&client.token(Service::Graph).await?);
    let text = |k: &str| claims[k].as_str().unwrap_or_default().to_ascii_lowercase();
    Ok((text("tid"), text("oid")))
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
    match a.operation.relation() {
        rel @ ("member" | "owner") => {
            let path = format!("/v1.0/groups/{t}/{rel}s?$select=id&$top=999");
            find(client, Service::Graph, &path, |i| same(&i["id"], p).then(|| p.to_owned())).await
        }
        "app_role" => {
            let path = format!("/v1.0/servicePrincipals/{t}/appRoleAssignedTo?$top=999");
            find(client, Service::Graph, &path, |i| {
                (same(&i["principalId"], p) && same(&i["appRoleId"], role)).then(|| id(i)).flatten()
            })
            .await
        }
        "directory_role" => {
            let path = format!("/v1.0/roleManagement/directory/roleAssignments?$filter=principalId%20eq%20'{p}'");
            find(client, Service::Graph, &path, |i| {
                (same(&i["roleDefinitionId"], role) && i["directoryScopeId"].as_str().unwrap_or("/") == scope)
                    .then(|| id(i))
                    .flatten()
            })
            .await
        }
        _ => {
            let base = if scope == "/" { "" } else { scope };
            let path = format!(
                "{base}/providers/Microsoft.Authorization/roleAssignments?api-version={RBAC_API}&$filter=principalId%20eq%20'{p}'"
            );
            find(client, Service::Arm, &path, |i| {
                let props = &i["properties"];
                let at = props["scope"].as_str().unwrap_or_default().to_ascii_lowercase();
                let def = props["roleDefinitionId"].as_str().unwrap_or_default().to_ascii_lowercase();
                (at == scope && def.rsplit('/').next() == Some(role)).then(|| id(i)).flatten()
            })
            .await
        }
    }
}

/// Live active Global Administrator assignments at the tenant scope.
async fn global_admins(client: &AzureClient) -> Result<usize, ApiError> {
    let url = client.url(
        Service::Graph,
        &format!(
            "/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId%20eq%20'{GLOBAL_ADMINISTRATOR}'"
        ),
    );
    let mut n = 0;
    client
        .pages(Service::Graph, &url, &[], |items| {
            n += items.iter().filter(|i| i["directoryScopeId"].as_str().unwrap_or("/") == "/").count();
            Ok(())
        })
        .await?;
    Ok(n)
}

/// The groups the applying identity is in, through nesting (lower-case ids). A failed read (the identity is not a
/// service principal, or may not read groups) gives none: the guard then sees only its direct access.
pub async fn groups_of(client: &AzureClient, me: &str) -> std::collections::HashSet<String> {
    let url =
        client.url(Service::Graph, &format!("/v1.0/servicePrincipals/{me}/transitiveMemberOf?$select=id&$top=999"));
    let mut out = std::collections::HashSet::new();
    let read = client
        .pages(Service::Graph, &url, &[], |items| {
            out.extend(items.iter().filter_map(|i| i["id"].as_str()).map(str::to_ascii_lowercase));
            Ok(())
        })
        .await;
    if read.is_err() { std::collections::HashSet::new() } else { out }
}

/// Who is applying: its object id and the groups it is in.
#[derive(Debug, Clone, Default)]
pub struct Applier {
    pub id: String,
    pub groups: std::collections::HashSet<String>,
}

/// Why the lockout guard refuses `a`, if it does.
async fn lockout(client: &AzureClient, a: &Action, me: &Applier) -> Result<Option<String>, ApiError> {
    if !a.operation.removes() {
        return Ok(None);
    }
    if a.principal.id.eq_ignore_ascii_case(&me.id) {
        return Ok(Some("it would remove the applying identity's own access, which apply may need to continue".into()));
    }
    if me.groups.contains(&a.principal.id.to_ascii_lowercase()) {
        return Ok(Some(format!(
            "it would remove access the applying identity holds through group {}, which apply may need to continue",
            a.principal.name
        )));
    }
    if a.operation == Operation::DirectoryRoleRemove
        && a.role.as_ref().is_some_and(|r| r.id == GLOBAL_ADMINISTRATOR)
        && a.scope.as_deref() == Some("/")
        && global_admins(client).await? <= 1
    {
        return Ok(Some("it would remove the last active Global Administrator".into()));
    }
    Ok(None)
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
async fn execute(
    client: &AzureClient,
    a: &Action,
    present: Option<&str>,
    plan_sha: &str,
) -> Result<Option<String>, ApiError> {
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
            let id = present.unwrap_or_default();
            (Method::DELETE, client.url(Service::Arm, &format!("{id}?api-version={RBAC_API}")), None)
        }
    };
    match client.send(service_of(a), method, &url, &[], body.as_ref()).await {
        Ok(_) => Ok(None),
        Err(e) if already(&e, a.operation) => Ok(Some(e.to_string())),
        Err(e) => Err(e),
    }
}

fn service_of(a: &Action) -> Service {
    if a.operation.relation() == "azure_role" { Service::Arm } else { Service::Graph }
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
    plan_sha: &str,
    journal: Option<&Journal>,
    options: &Options,
    me: &Applier,
    mut report: impl FnMut(&Action, &Outcome),
) -> Result<Vec<Outcome>, ApplyError> {
    let earlier: HashMap<String, (String, String)> = match journal {
        Some(j) => j.outcomes(plan_sha)?,
        None => HashMap::new(),
    };
    let mut outcomes = Vec::with_capacity(plan.actions.len());
    for a in &plan.actions {
        let outcome = match earlier.get(&a.id) {
            Some((status, detail)) if status == "done" || status == "skipped" => Outcome {
                action_id: a.id.clone(),
                status: Status::Skipped,
                detail: format!("already {status} by an earlier run ({detail})"),
            },
            _ => run_one(client, a, plan_sha, options, me).await.map_err(ApplyError::Api)?,
        };
        if let Some(j) = journal
            && !options.dry_run
            && matches!(outcome.status, Status::Done | Status::Skipped | Status::Failed | Status::Refused)
        {
            let at = crate::clock::now().to_string();
            j.record(plan_sha, &a.id, outcome.status.as_str(), &outcome.detail, &at)?;
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
    let out = |status, detail: String| Ok(Outcome { action_id: a.id.clone(), status, detail });
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
    match execute(client, a, present.as_deref(), plan_sha).await {
        Ok(None) => out(Status::Done, a.describe()),
        Ok(Some(answer)) => out(Status::Skipped, format!("the service says it is already done: {answer}")),
        Err(e) => fail(e),
    }
}
