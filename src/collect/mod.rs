//! `collect`: reads a tenant from Graph and ARM into one snapshot.
//!
//! Parts (users, groups, roles, apps, Azure, …) run concurrently and stream their pages as batches to one writer
//! thread. A part the tenant is not licensed for, or the credentials may not read, is recorded as such and the
//! others go on; a part that runs out of retries or hits a limit is recorded `failed` and the others are kept (a
//! partial snapshot); bad credentials stop everything before a file is created; only when no part gets through at
//! all is the run abandoned without leaving a file at the final name.

mod apps;
mod arm;
mod audit;
mod batch;
mod directory;
mod parse;
pub mod progress;
mod roles;
pub mod select;
mod since;
mod sink;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinSet;

use crate::azure::credential::TokenFailure;
use crate::azure::{ApiError, AzureClient, Service};
use crate::model::{Grant, Guid, Part, PartStatus, Principal, RequestStats, Resource, ResourceKind, Timestamp};
use crate::store::{Batch, Consolidate, NewSnapshot, SnapshotWriter, StoreError};

pub use audit::carried_grants;
pub use sink::Sink;

/// What to collect, mirroring the command line.
#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    pub mailbox_settings: bool,
    pub skip_ad_groups: bool,
    pub skip_unused_roles: bool,
    pub skip_containers: bool,
    pub skip_p2: bool,
    /// Requests in flight at once, per service.
    pub concurrency: usize,
    /// Principals (and their memberships) taken from another snapshot instead of the directory.
    pub external: Option<External>,
    /// Parts left out (`--parts`, `--skip-parts`, `--skip-sign-in-activity`), each with the option that says so.
    pub skip_parts: std::collections::BTreeMap<&'static str, String>,
    /// The key the snapshot's seal is signed with (`--signing-key`).
    pub signing_key: Option<std::sync::Arc<crate::signing::SigningKey>>,
    /// The snapshot an incremental collection starts from (`--since`).
    pub since: Option<Since>,
}

/// What an incremental collection (`--since PREV`) takes from the previous snapshot.
#[derive(Debug, Clone)]
pub struct Since {
    /// PREV's path and fingerprint, for messages.
    pub source: String,
    pub tenant_id: Guid,
    /// When PREV's collection started: sign-ins at or after it are read again.
    pub started_at: Timestamp,
    /// PREV's users as the users part read them (no sign-in activity, no mailbox purpose).
    pub users: Vec<Principal>,
    /// PREV's sign-in activity, when its part was complete.
    pub sign_ins: Option<Vec<crate::store::SignIn>>,
    /// PREV's mailbox purposes (user, purpose), when its part was complete.
    pub mailboxes: Option<Vec<(Guid, String)>>,
    /// The users delta link PREV ended with, when its users part was complete.
    pub users_link: Option<String>,
    /// PREV's file, from which its memberships are streamed.
    pub path: PathBuf,
    /// PREV's groups, when its groups part was complete.
    pub groups: Vec<Principal>,
    /// The groups delta link PREV ended with, when its groups part was complete.
    pub groups_link: Option<String>,
    /// PREV's collected principals (not the placeholders its grants named): an object not among them is new.
    pub collected: std::collections::HashSet<Guid>,
    /// PREV's rows of the parts the audit log carries (group owners, PIM for groups, app role assignments, service
    /// principal owners), by part name, for the parts PREV has complete.
    pub grants: std::collections::BTreeMap<&'static str, Vec<Grant>>,
}

/// The parts an incremental collection carries from PREV by the audit log, and the rows of PREV each keeps.
pub const CARRIED_PARTS: &[&str] = &["app_role_assignments", "group_owners", "group_pim", "service_principal_owners"];

/// Identities taken from another snapshot (`--external-identities`).
#[derive(Debug, Clone, Default)]
pub struct External {
    pub source: String,
    pub principals: Vec<Principal>,
    pub memberships: Vec<Grant>,
}

/// A finished collection.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub path: PathBuf,
    pub fingerprint: String,
    pub complete: bool,
    pub parts: Vec<Part>,
    pub stats: Vec<RequestStats>,
    pub rows: u64,
    pub tenant_id: String,
}

/// Why a collection produced no snapshot.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("authentication failed: {0:?}")]
    Auth(TokenFailure),
    #[error("{0}")]
    Unavailable(ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `--since` names a snapshot of another tenant.
    #[error("{0}")]
    Since(String),
}

pub use progress::Progress;

/// Everything a part needs.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub client: Arc<AzureClient>,
    pub sink: Sink,
    pub tenant_id: Guid,
    pub options: Arc<CollectOptions>,
    /// Counters for a progress display, when one is shown.
    pub progress: Option<Arc<Progress>>,
    /// The delta links parts ended with, written to the snapshot once every part is done.
    pub delta_links: Arc<std::sync::Mutex<Vec<(String, String)>>>,
    /// In an incremental collection, what the audit log says changed since PREV, or why it cannot say.
    pub changes: Option<Arc<Result<audit::Changes, String>>>,
}

impl Ctx {
    /// `Some(skipped part)` when an option leaves `name` out.
    pub(crate) fn left_out(&self, name: &str) -> Option<Finished> {
        self.options.skip_parts.get(name).map(|option| skipped(name, option))
    }

    /// Whether an option leaves `name` out.
    pub(crate) fn leaves_out(&self, name: &str) -> bool {
        self.options.skip_parts.contains_key(name)
    }

    /// The part `name` as skipped when an option leaves it out, else as `run` concludes it.
    pub(crate) async fn unless_left_out(
        &self,
        name: &str,
        run: impl std::future::Future<Output = Finished>,
    ) -> Finished {
        match self.left_out(name) {
            Some(skipped) => skipped,
            None => run.await,
        }
    }

    /// Runs `fut` as part `name`, for the progress display.
    pub(crate) async fn part<T>(&self, name: &str, fut: impl std::future::Future<Output = T>) -> T {
        progress::part(self.progress.as_ref(), name, fut).await
    }

    /// Keeps the delta link part `part` ended with, for the snapshot.
    pub(crate) fn keep_delta_link(&self, part: &str, link: String) {
        if let Ok(mut links) = self.delta_links.lock() {
            links.retain(|(p, _)| p != part);
            links.push((part.to_owned(), link));
        }
    }

    pub(crate) fn concurrency(&self) -> usize {
        self.options.concurrency.max(1)
    }

    pub(crate) fn graph(&self, path: &str) -> String {
        self.client.url(Service::Graph, path)
    }

    pub(crate) fn arm(&self, path: &str) -> String {
        self.client.url(Service::Arm, path)
    }

    /// Pages through `url`, turns each page into a batch with `rows`, and sends it to the writer. Returns the
    /// number of rows written.
    pub(crate) async fn stream(
        &self,
        service: Service,
        url: &str,
        mut rows: impl FnMut(Vec<Value>) -> Batch,
    ) -> Result<u64, ApiError> {
        let mut pager = self.client.pager(service, url, &[]);
        let mut n = 0;
        while let Some(items) = pager.next().await? {
            let batch = rows(items);
            n += batch.len() as u64;
            self.sink.send(batch).await;
        }
        Ok(n)
    }
}

/// A part's result before it becomes a [`Part`]: objects written, or the error that stopped it.
pub(crate) type PartResult = Result<u64, ApiError>;

/// One finished part, and the error that makes the whole run fail, if any.
pub(crate) struct Finished {
    part: Part,
    fatal: Option<ApiError>,
}

/// Turns a part's result into its recorded status. `permission` names what a 403 means is missing.
pub(crate) fn conclude(name: &str, permission: &str, result: PartResult) -> Finished {
    let part = |status, detail: Option<String>, objects| Part { name: name.to_owned(), status, detail, objects };
    match result {
        Ok(n) => Finished { part: part(PartStatus::Complete, None, n), fatal: None },
        Err(e) if e.is_license() => {
            Finished { part: part(PartStatus::Unavailable, Some("license".to_owned()), 0), fatal: None }
        }
        Err(e) if e.is_denied() => Finished {
            part: part(PartStatus::Denied, Some(format!("missing permission {permission}")), 0),
            fatal: None,
        },
        Err(e) if e.is_unavailable() => {
            Finished { part: part(PartStatus::Failed, Some(e.to_string()), 0), fatal: Some(e) }
        }
        Err(e) => Finished { part: part(PartStatus::Failed, Some(e.to_string()), 0), fatal: None },
    }
}

fn unreachable_error() -> ApiError {
    ApiError::Transport { service: "collector", message: "no part could be collected".to_owned() }
}

/// A part left out by an option.
pub(crate) fn skipped(name: &str, option: &str) -> Finished {
    Finished {
        part: Part {
            name: name.to_owned(),
            status: PartStatus::Skipped,
            detail: Some(format!("option {option}")),
            objects: 0,
        },
        fatal: None,
    }
}

/// Reads the tenant's identity: its organization (id, name) — or, without permission for it, the token's `tid`.
async fn tenant(client: &AzureClient) -> Result<(Guid, Option<String>, Finished), CollectError> {
    let url = client.url(Service::Graph, "/v1.0/organization?$select=id,displayName");
    match client.get(Service::Graph, &url, &[]).await {
        Ok(v) => {
            let org = &v["value"][0];
            let id = parse::guid(org, "id").ok_or_else(|| {
                CollectError::Unavailable(ApiError::Json { url: url.clone(), message: "no organization id".to_owned() })
            })?;
            Ok((id, parse::text(org, "displayName"), conclude("tenant", "Organization.Read.All", Ok(1))))
        }
        Err(ApiError::Auth(f)) => Err(CollectError::Auth(f)),
        Err(e) if e.is_unavailable() => Err(CollectError::Unavailable(e)),
        Err(e) => {
            let token = client.token(Service::Graph).await.map_err(|e| match e {
                ApiError::Auth(f) => CollectError::Auth(f),
                e => CollectError::Unavailable(e),
            })?;
            // The token's `tid` claim (read, not verified: it only names the tenant when nothing else can).
            let tid = crate::azure::credential::token_claims(&token)["tid"]
                .as_str()
                .and_then(|t| t.parse::<Guid>().ok())
                .ok_or(CollectError::Unavailable(e.clone()))?;
            Ok((tid, None, conclude("tenant", "Organization.Read.All", Err(e))))
        }
    }
}

/// How many users the tenant has (`$count`, an advanced query), or `None` when Graph does not say.
async fn user_count(client: &AzureClient) -> Option<u64> {
    let url = client.url(Service::Graph, "/v1.0/users?$count=true&$top=1&$select=id");
    let page = client.get(Service::Graph, &url, &[("ConsistencyLevel", "eventual")]).await.ok()?;
    page["@odata.count"].as_u64()
}

/// What the snapshot records of the run before anything is read: tenant, cloud, endpoints, options, start.
fn snapshot_header(
    client: &AzureClient,
    tenant_id: &Guid,
    tenant_name: Option<String>,
    options: Value,
    started: Timestamp,
) -> NewSnapshot {
    NewSnapshot {
        tenant_id: tenant_id.clone(),
        tenant_name,
        cloud: client.endpoints.cloud_name(),
        endpoints: serde_json::json!({
            "login": client.endpoints.login_base(),
            "graph": client.endpoints.graph,
            "arm": client.endpoints.arm,
            "graph_scope": client.endpoints.graph_scope,
            "arm_scope": client.endpoints.arm_scope,
        }),
        options,
        started_at: started,
    }
}

/// Runs every part at once and gathers how each ended; a part whose task died is the `collector` part's failure.
async fn run_parts(ctx: Ctx, tenant_part: Finished, progress: Option<&Progress>) -> Vec<Finished> {
    let mut tasks: JoinSet<Vec<Finished>> = JoinSet::new();
    tasks.spawn(directory::users_and_mailboxes(ctx.clone()));
    tasks.spawn(directory::sign_ins(ctx.clone()));
    tasks.spawn(directory::groups_owners_and_pim(ctx.clone()));
    tasks.spawn(roles::directory_roles(ctx.clone()));
    tasks.spawn(apps::service_principals_and_assignments(ctx.clone()));
    tasks.spawn(apps::delegated_grants(ctx.clone()));
    tasks.spawn(arm::azure(ctx.clone()));
    drop(ctx);

    let mut finished = vec![tenant_part];
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(parts) => {
                if let Some(p) = progress {
                    p.parts_done.fetch_add(parts.len(), std::sync::atomic::Ordering::Relaxed);
                }
                finished.extend(parts);
            }
            Err(e) => finished.push(conclude(
                "collector",
                "-",
                Err(ApiError::Transport { service: "collector", message: e.to_string() }),
            )),
        }
    }
    finished
}

/// Runs a collection into `output`.
pub async fn collect(
    client: Arc<AzureClient>,
    options: CollectOptions,
    output: &Path,
    overwrite: bool,
    started: Timestamp,
    recorded_options: Value,
    progress: Option<Arc<Progress>>,
) -> Result<Outcome, CollectError> {
    // Both tokens first: bad credentials stop the run before anything is written.
    // The organization call needs a Graph token; the ARM token is fetched alongside.
    let (graph, arm) = tokio::join!(tenant(&client), client.token(Service::Arm));
    let (tenant_id, tenant_name, tenant_part) = graph?;
    if let Some(since) = &options.since
        && since.tenant_id != tenant_id
    {
        return Err(CollectError::Since(format!(
            "{} is a snapshot of tenant {}, not of {tenant_id}, which these credentials reach",
            since.source, since.tenant_id
        )));
    }
    arm.map_err(|e| match e {
        ApiError::Auth(f) => CollectError::Auth(f),
        e => CollectError::Unavailable(e),
    })?;
    let new = snapshot_header(&client, &tenant_id, tenant_name.clone(), recorded_options, started);
    let mut writer = SnapshotWriter::create(output, &new, overwrite)?;
    if let Some(key) = &options.signing_key {
        writer.sign_with(key.clone());
    }
    let (sink, writer_task) = sink::start(writer, progress.clone());
    let written = sink.counter();
    let mut tenant_row = Resource::new(tenant_id.to_string(), ResourceKind::Tenant);
    tenant_row.display_name = tenant_name;
    sink.send(Batch { resources: vec![tenant_row], ..Batch::default() }).await;

    let drop_unused_roles = options.skip_unused_roles;
    // The audit log is read before any part, so a change made while the parts run is read again next time.
    let changes = match &options.since {
        Some(since) => Some(Arc::new(audit::changes(&client, since, &started).await)),
        None => None,
    };
    let delta_links = Arc::new(std::sync::Mutex::new(Vec::new()));
    let ctx = Ctx {
        changes,
        delta_links: delta_links.clone(),
        client: client.clone(),
        // The only sender left: the writer finishes once every part has dropped its copy.
        sink,
        tenant_id: tenant_id.clone(),
        options: Arc::new(options),
        progress: progress.clone(),
    };
    if let Some(p) = progress.clone() {
        let _ = client.on_page.set(progress::page);
        // The totals a display shows: one request, made only when someone watches.
        let client = client.clone();
        tokio::spawn(async move {
            if let Some(n) = user_count(&client).await {
                p.users(n);
            }
        });
    }
    let finished = run_parts(ctx, tenant_part, progress.as_deref()).await;
    let mut writer = writer_task.finish().await?;
    for (part, link) in delta_links.lock().map(|l| l.clone()).unwrap_or_default() {
        writer.set_delta_link(&part, &link)?;
    }
    // One part's failure is that part's failure: a part that ran out of retries or hit a limit is recorded
    // `failed` and the rest is kept (exit 6). Only when no part got through at all — the services cannot be
    // reached — is the run abandoned without a file.
    let attempted: Vec<&Finished> =
        finished.iter().filter(|f| f.part.name != "tenant" && f.part.status != PartStatus::Skipped).collect();
    let none_got_through = attempted.iter().all(|f| !f.part.status.counts_as_complete());
    if !attempted.is_empty() && none_got_through && attempted.iter().any(|f| f.fatal.is_some()) {
        let fatal = attempted.iter().find_map(|f| f.fatal.clone()).unwrap_or_else(unreachable_error);
        // Dropping the writer removes the partial file.
        drop(writer);
        return Err(CollectError::Unavailable(fatal));
    }
    let mut parts: Vec<Part> = finished.into_iter().map(|f| f.part).collect();
    parts.sort_by(|a, b| a.name.cmp(&b.name));
    for p in &parts {
        writer.set_part(p)?;
    }
    let stats = client.stats();
    writer.set_request_stats(&stats)?;
    writer.consolidate(Consolidate { drop_unused_roles })?;
    let complete = parts.iter().all(|p| p.status.counts_as_complete());
    // The rows written, as the progress line counts them (parts' own counts include updates such as sign-in times).
    let rows: u64 = written.lock().map(|n| *n).unwrap_or(0);
    let done = writer.finish(crate::clock::now(), complete)?;
    Ok(Outcome {
        path: done.path,
        fingerprint: done.fingerprint,
        complete,
        parts,
        stats,
        rows,
        tenant_id: tenant_id.to_string(),
    })
}
