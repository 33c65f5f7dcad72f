//! Azure Resource Manager: management groups and the hierarchy, subscriptions (every state), resource groups,
//! storage accounts and blob containers, user-assigned identities, role definitions, role assignments at every
//! scope (each once, at the scope where it is made) and Azure PIM eligibility.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::azure::{ApiError, Service};
use crate::collect::parse::{self, arm_parent};
use crate::collect::{Ctx, Finished, conclude, skipped};
use crate::model::{ArmId, GrantState, ResourceKind};
use crate::store::Batch;

const MG_API: &str = "api-version=2021-04-01";
const AUTHZ_API: &str = "api-version=2022-04-01";
const PIM_API: &str = "api-version=2020-10-01";

/// A part's running total across scopes: objects written and the first error met.
#[derive(Default)]
struct Tally {
    n: u64,
    err: Option<ApiError>,
}

impl Tally {
    fn add(&mut self, r: Result<u64, ApiError>) {
        match r {
            Ok(n) => self.n += n,
            Err(e) => {
                // A denial or failure outranks a license gap seen elsewhere.
                if self.err.as_ref().is_none_or(|prev| prev.is_license() && !e.is_license()) {
                    self.err = Some(e);
                }
            }
        }
    }

    fn finish(self, name: &str, permission: &str) -> Finished {
        conclude(
            name,
            permission,
            match self.err {
                Some(e) => Err(e),
                None => Ok(self.n),
            },
        )
    }
}

/// What every scope's lists share: ids already written, so inherited assignments and built-in roles appear once.
#[derive(Default)]
struct Seen {
    assignments: HashSet<String>,
    roles: HashSet<String>,
}

pub(super) async fn azure(ctx: Ctx) -> Vec<Finished> {
    let mut out = Vec::new();
    // The hierarchy and the subscriptions are read together; subscriptions get their parents once both are in.
    let ((mgs, parents, mg_part), (mut sub_rows, sub_part)) = tokio::join!(
        async {
            match ctx.left_out("management_groups") {
                Some(s) => (Vec::new(), HashMap::new(), s),
                None => {
                    let (mgs, parents, r) = management_groups(&ctx).await;
                    (mgs, parents, conclude("management_groups", "Management Group Reader at the tenant root group", r))
                }
            }
        },
        async {
            match ctx.left_out("subscriptions") {
                Some(s) => (Vec::new(), s),
                None => {
                    let (rows, r) = subscriptions(&ctx).await;
                    (rows, conclude("subscriptions", "Reader on the subscriptions", r))
                }
            }
        }
    );
    out.push(mg_part);
    for r in &mut sub_rows {
        r.parent_id = parents.get(&r.id).cloned();
    }
    let subs: Vec<String> =
        sub_rows.iter().filter_map(|r| r.subscription_id.as_ref().map(ToString::to_string)).collect();
    ctx.sink.send(Batch { resources: sub_rows, ..Batch::default() }).await;
    out.push(sub_part);

    let seen = Arc::new(Mutex::new(Seen::default()));
    // Management-group scopes: assignments and custom roles made there, even where no subscription is below.
    // Every list at every scope runs at once (the client's concurrency budget paces them): management-group
    // scopes for assignments and custom roles made there, then everything in each subscription.
    let mut tasks = Tasks::new();
    for mg in &mgs {
        spawn_management_group(&mut tasks, &ctx, &seen, mg);
    }
    for sub in &subs {
        spawn_subscription(&mut tasks, &ctx, &seen, sub);
    }
    let mut tallies = tallies(tasks).await;
    let mut take = |name: &'static str, permission: &str| match ctx.left_out(name) {
        Some(s) => s,
        None => tallies.remove(name).unwrap_or_default().finish(name, permission),
    };
    out.push(take("resource_groups", "Reader on the subscriptions"));
    out.push(take("storage_accounts", "Reader on the subscriptions"));
    out.push(if ctx.options.skip_containers {
        skipped("containers", "--skip-containers")
    } else {
        take("containers", "Reader on the storage accounts")
    });
    out.push(take("user_assigned_identities", "Reader on the subscriptions"));
    out.push(take("azure_role_definitions", "Microsoft.Authorization/roleDefinitions/read"));
    out.push(take("azure_role_assignments", "Microsoft.Authorization/roleAssignments/read"));
    out.push(if ctx.options.skip_p2 {
        skipped("azure_pim", "--skip-p2")
    } else {
        take("azure_pim", "Microsoft.Authorization/roleAssignments/read")
    });
    out
}

/// Every subscription the identity can see, in any state (rows without their parent yet).
async fn subscriptions(ctx: &Ctx) -> (Vec<crate::model::Resource>, Result<u64, ApiError>) {
    let mut rows = Vec::new();
    let url = ctx.arm("/subscriptions?api-version=2022-12-01");
    let result = ctx
        .client
        .pages(Service::Arm, &url, &[], |items| {
            for s in &items {
                let Some(mut r) = parse::arm_resource(s, ResourceKind::Subscription, None) else { continue };
                r.display_name = parse::text(s, "displayName");
                r.state = parse::text(s, "state");
                r.subscription_id = parse::guid(s, "subscriptionId");
                r.attrs = Some(
                    json!({"managed_by_tenants": s.get("managedByTenants"), "authorization_source": s.get("authorizationSource")})
                        .to_string(),
                );
                rows.push(r);
            }
            Ok(())
        })
        .await
        .map(|_| rows.len() as u64);
    (rows, result)
}

/// Management groups and the parent of every management group and subscription below the tenant root group.
async fn management_groups(ctx: &Ctx) -> (Vec<String>, HashMap<String, String>, Result<u64, ApiError>) {
    let mut names = Vec::new();
    let mut parents: HashMap<String, String> = HashMap::new();
    let root = ctx.tenant_id.to_string();
    let result = async {
        let list_url = ctx.arm(&format!("/providers/Microsoft.Management/managementGroups?{MG_API}"));
        let tree_url =
            ctx.arm(&format!("/providers/Microsoft.Management/managementGroups/{root}/descendants?{MG_API}"));
        let mut listed = Vec::new();
        let mut tree = Vec::new();
        let (a, b) = tokio::join!(
            ctx.client.pages(Service::Arm, &list_url, &[], |items| {
                listed.extend(items);
                Ok(())
            }),
            ctx.client.pages(Service::Arm, &tree_url, &[], |items| {
                tree.extend(items);
                Ok(())
            })
        );
        a?;
        b?;
        for d in &tree {
            let (Some(id), Some(parent)) =
                (parse::text(d, "id"), d.pointer("/properties/parent/id").and_then(Value::as_str))
            else {
                continue;
            };
            if let (Ok(id), Ok(parent)) = (id.parse::<ArmId>(), parent.parse::<ArmId>()) {
                parents.insert(id.to_string(), parent.to_string());
            }
        }
        let mut batch = Batch::default();
        for m in &listed {
            let Some(mut r) = parse::arm_resource(m, ResourceKind::ManagementGroup, None) else { continue };
            let name = parse::text(m, "name").unwrap_or_default();
            r.parent_id =
                if name.eq_ignore_ascii_case(&root) { Some(root.clone()) } else { parents.get(&r.id).cloned() };
            names.push(name);
            batch.resources.push(r);
        }
        let n = batch.resources.len() as u64;
        ctx.sink.send(batch).await;
        Ok(n)
    }
    .await;
    (names, parents, result)
}

/// The lists at one management-group scope: assignments, custom roles and (P2) eligibility made there.
fn spawn_management_group(tasks: &mut Tasks, ctx: &Ctx, seen: &Arc<Mutex<Seen>>, mg: &str) {
    let p2 = !ctx.options.skip_p2;
    let scope = format!("/providers/Microsoft.Management/managementGroups/{mg}");
    spawn(tasks, "azure_role_assignments", ctx, seen, &scope, |c, s, sc| async move {
        role_assignments(&c, &s, &sc, Some("atScope()")).await
    });
    spawn(tasks, "azure_role_definitions", ctx, seen, &scope, |c, s, sc| async move {
        role_definitions(&c, &s, &sc, Some("type eq 'CustomRole'")).await
    });
    if p2 {
        spawn(tasks, "azure_pim", ctx, seen, &scope, |c, s, sc| async move {
            eligibility(&c, &s, &sc, Some("atScope()")).await
        });
    }
}

/// Everything listed in one subscription.
fn spawn_subscription(tasks: &mut Tasks, ctx: &Ctx, seen: &Arc<Mutex<Seen>>, sub: &str) {
    let p2 = !ctx.options.skip_p2;
    let scope = format!("/subscriptions/{sub}");
    spawn(tasks, "resource_groups", ctx, seen, &scope, |c, _, sc| async move {
        let path = format!("{sc}/resourcegroups?api-version=2021-04-01");
        simple_list(&c, &path, ResourceKind::ResourceGroup, |_| Some(sc.to_ascii_lowercase()), |_| None).await
    });
    if !ctx.leaves_out("storage_accounts") {
        let (c, sc) = (ctx.clone(), scope.clone());
        tasks.spawn(async move { c.part("storage_accounts", storage(&c, &sc)).await });
    }
    spawn(tasks, "user_assigned_identities", ctx, seen, &scope, |c, _, sc| async move {
        let path = format!("{sc}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31");
        simple_list(&c, &path, ResourceKind::UserAssignedIdentity, arm_parent, |i| {
            Some(json!({"principal_id": i.pointer("/properties/principalId"), "client_id": i.pointer("/properties/clientId")}).to_string())
        })
        .await
    });
    spawn(tasks, "azure_role_definitions", ctx, seen, &scope, |c, s, sc| async move {
        role_definitions(&c, &s, &sc, None).await
    });
    spawn(tasks, "azure_role_assignments", ctx, seen, &scope, |c, s, sc| async move {
        role_assignments(&c, &s, &sc, None).await
    });
    if p2 {
        spawn(tasks, "azure_pim", ctx, seen, &scope, |c, s, sc| async move { eligibility(&c, &s, &sc, None).await });
    }
}

/// Waits for every list and adds up what each part read; a task that died counts against `subscriptions`.
async fn tallies(mut tasks: Tasks) -> HashMap<&'static str, Tally> {
    let mut tallies: HashMap<&'static str, Tally> = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(results) => {
                for (name, r) in results {
                    tallies.entry(name).or_default().add(r);
                }
            }
            Err(e) => tallies
                .entry("subscriptions")
                .or_default()
                .add(Err(ApiError::Transport { service: "arm", message: e.to_string() })),
        }
    }
    tallies
}

/// Running lists, each answering for the parts it read.
type Tasks = JoinSet<Vec<(&'static str, Result<u64, ApiError>)>>;

/// Starts one list at `scope` as part `name`.
fn spawn<F, Fut>(tasks: &mut Tasks, name: &'static str, ctx: &Ctx, seen: &Arc<Mutex<Seen>>, scope: &str, job: F)
where
    F: FnOnce(Ctx, Arc<Mutex<Seen>>, String) -> Fut,
    Fut: std::future::Future<Output = Result<u64, ApiError>> + Send + 'static,
{
    if ctx.leaves_out(name) {
        return;
    }
    let fut = job(ctx.clone(), seen.clone(), scope.to_owned());
    let progress = ctx.progress.clone();
    tasks.spawn(async move { vec![(name, crate::collect::progress::part(progress.as_ref(), name, fut).await)] });
}

/// Storage accounts of a subscription, then the blob containers of each, all at once: results for the parts
/// `storage_accounts` and `containers`.
async fn storage(ctx: &Ctx, sub_scope: &str) -> Vec<(&'static str, Result<u64, ApiError>)> {
    let mut accounts = Vec::new();
    let url = ctx.arm(&format!("{sub_scope}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01"));
    let n = ctx
        .stream(Service::Arm, &url, |items| {
            let mut batch = Batch::default();
            for a in &items {
                let Some(mut r) = parse::arm_resource(a, ResourceKind::StorageAccount, None) else { continue };
                r.parent_id = arm_parent(&r.id);
                let p = &a["properties"];
                r.attrs = Some(json!({
                    "kind": a.get("kind"), "sku": a.pointer("/sku/name"), "allow_blob_public_access": p.get("allowBlobPublicAccess"),
                    "allow_shared_key_access": p.get("allowSharedKeyAccess"), "public_network_access": p.get("publicNetworkAccess"),
                    "minimum_tls_version": p.get("minimumTlsVersion"), "https_only": p.get("supportsHttpsTrafficOnly"),
                    "network_default_action": p.pointer("/networkAcls/defaultAction"), "identity_type": a.pointer("/identity/type"),
                    "identity_principal_id": a.pointer("/identity/principalId"),
                }).to_string());
                if a.get("kind").and_then(Value::as_str) != Some("FileStorage")
                    && let Some(arm) = &r.arm_id
                {
                    accounts.push((arm.clone(), r.id.clone()));
                }
                batch.resources.push(r);
            }
            batch
        })
        .await;
    let n = match n {
        Ok(n) => n,
        Err(e) => return vec![("storage_accounts", Err(e))],
    };
    if ctx.options.skip_containers || ctx.leaves_out("containers") {
        return vec![("storage_accounts", Ok(n))];
    }
    let mut lists = JoinSet::new();
    for (arm, id) in accounts {
        let ctx = ctx.clone();
        lists.spawn(async move {
            let path = format!("{arm}/blobServices/default/containers?api-version=2023-05-01");
            simple_list(&ctx, &path, ResourceKind::Container, |_| Some(id.clone()), |c| {
                let p = &c["properties"];
                Some(json!({"public_access": p.get("publicAccess"), "has_immutability_policy": p.get("hasImmutabilityPolicy"), "has_legal_hold": p.get("hasLegalHold")}).to_string())
            })
            .await
        });
    }
    let mut containers = Ok(0);
    while let Some(done) = lists.join_next().await {
        let r = done.map_err(|e| ApiError::Transport { service: "arm", message: e.to_string() }).and_then(|r| r);
        containers = match (containers, r) {
            (Ok(a), Ok(b)) => Ok(a + b),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
    }
    vec![("storage_accounts", Ok(n)), ("containers", containers)]
}

/// Lists ARM resources at `path` as `kind`, with a parent and kind-specific attributes from the given functions.
async fn simple_list(
    ctx: &Ctx,
    path: &str,
    kind: ResourceKind,
    parent: impl Fn(&str) -> Option<String>,
    attrs: impl Fn(&Value) -> Option<String>,
) -> Result<u64, ApiError> {
    ctx.stream(Service::Arm, &ctx.arm(path), |items| {
        let resources = items
            .iter()
            .filter_map(|v| {
                let mut r = parse::arm_resource(v, kind, None)?;
                r.parent_id = parent(&r.id);
                r.attrs = attrs(v);
                Some(r)
            })
            .collect();
        Batch { resources, ..Batch::default() }
    })
    .await
}

fn with_filter(path: String, filter: Option<&str>) -> String {
    match filter {
        Some(f) => {
            format!("{path}&$filter={}", percent_encoding::utf8_percent_encode(f, percent_encoding::NON_ALPHANUMERIC))
        }
        None => path,
    }
}

async fn role_assignments(
    ctx: &Ctx,
    seen: &Arc<Mutex<Seen>>,
    scope: &str,
    filter: Option<&str>,
) -> Result<u64, ApiError> {
    let url =
        ctx.arm(&with_filter(format!("{scope}/providers/Microsoft.Authorization/roleAssignments?{AUTHZ_API}"), filter));
    ctx.stream(Service::Arm, &url, |items| {
        let mut s = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let grants = items
            .iter()
            .filter_map(|a| parse::azure_grant(a, GrantState::Active))
            .filter(|g| g.source_id.as_ref().is_none_or(|id| s.assignments.insert(id.clone())))
            .collect();
        Batch { grants, ..Batch::default() }
    })
    .await
}

async fn role_definitions(
    ctx: &Ctx,
    seen: &Arc<Mutex<Seen>>,
    scope: &str,
    filter: Option<&str>,
) -> Result<u64, ApiError> {
    let url =
        ctx.arm(&with_filter(format!("{scope}/providers/Microsoft.Authorization/roleDefinitions?{AUTHZ_API}"), filter));
    ctx.stream(Service::Arm, &url, |items| {
        let mut s = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let role_definitions = items
            .iter()
            .filter_map(parse::azure_role_definition)
            .filter(|d| s.roles.insert(d.id.to_string()))
            .collect();
        Batch { role_definitions, ..Batch::default() }
    })
    .await
}

async fn eligibility(ctx: &Ctx, seen: &Arc<Mutex<Seen>>, scope: &str, filter: Option<&str>) -> Result<u64, ApiError> {
    let url = ctx.arm(&with_filter(
        format!("{scope}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances?{PIM_API}"),
        filter,
    ));
    ctx.stream(Service::Arm, &url, |items| {
        let mut s = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let grants = items
            .iter()
            .filter(|e| {
                e.pointer("/properties/memberType")
                    .and_then(Value::as_str)
                    .is_none_or(|m| m.eq_ignore_ascii_case("Direct"))
            })
            .filter_map(|e| parse::azure_grant(e, GrantState::Eligible))
            .filter(|g| g.source_id.as_ref().is_none_or(|id| s.assignments.insert(format!("eligible:{id}"))))
            .collect();
        Batch { grants, ..Batch::default() }
    })
    .await
}
