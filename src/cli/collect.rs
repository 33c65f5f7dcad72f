//! `azsnap collect`: capture a snapshot from Graph and ARM. Resolves the command line (endpoints, credentials,
//! options), runs the collector, reports parts and exits with the documented code.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;

use crate::azure::credential::TokenFailure;
use crate::cli::azure_args::AzureArgs;
use crate::cli::progress::{Display, Totals};
use crate::cli::{CliError, Ui};
use crate::collect::{CollectError, CollectOptions, External};
use crate::exit_code;
use crate::model::PartStatus;
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// Where to write the snapshot (written as OUTPUT.partial, renamed when complete).
    #[arg(short, long, value_name = "SNAP.db")]
    pub output: PathBuf,
    /// Replace OUTPUT if it exists (it stays in place until the new snapshot is complete).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub azure: AzureArgs,
    /// Read every user's mailbox purpose (shared, room, equipment, …) through `$batch`.
    #[arg(long)]
    pub mailbox_settings: bool,
    /// Leave out groups synced from on-premises AD, and their memberships.
    #[arg(long)]
    pub skip_ad_groups: bool,
    /// Leave out role definitions that no assignment (active or eligible, any scope) uses.
    #[arg(long)]
    pub skip_unused_roles: bool,
    /// Do not list blob containers.
    #[arg(long)]
    pub skip_containers: bool,
    /// Take users and groups (with memberships) from another snapshot, a shared identity source.
    #[arg(long, value_name = "OTHER.db")]
    pub external_identities: Option<PathBuf>,
    /// Make no PIM / Entra ID P2 calls at all.
    #[arg(long)]
    pub skip_p2: bool,
    /// Requests in flight at once, per service.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,
    /// Do not read sign-in activity (its throttling tier sets the pace on large tenants).
    #[arg(long)]
    pub skip_sign_in_activity: bool,
    /// Read only these parts (comma-separated names, as `info` shows them), and the parts they need.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub parts: Option<Vec<String>>,
    /// Leave out these parts (comma-separated), and the parts that need them.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub skip_parts: Vec<String>,
    #[command(flatten)]
    pub signing: crate::cli::keys::SigningKeyArg,
    /// Start from this earlier snapshot of the same tenant, collected with the same options: parts with a change
    /// signal (users, sign-in activity) read only what changed since; the result is a complete snapshot
    /// (docs/collect.md).
    #[arg(long, value_name = "PREV.db")]
    pub since: Option<PathBuf>,
}

/// The recorded options that change what a collection holds; `--since` needs PREV to have the same.
const DATA_OPTIONS: &[&str] = &[
    "mailbox_settings",
    "skip_ad_groups",
    "skip_unused_roles",
    "skip_containers",
    "skip_p2",
    "external_identities",
    "skip_sign_in_activity",
    "parts",
    "skip_parts",
];

/// What `--since PREV` starts from, once PREV is known to be a snapshot collected with the same options.
fn load_since(path: &std::path::Path, recorded: &serde_json::Value) -> Result<crate::collect::Since, CliError> {
    let snap = Snapshot::open(path)?;
    let meta = snap.meta()?;
    let bad = |why: String| CliError::new(exit_code::BAD_INPUT, format!("{}: {why}", path.display()));
    for key in DATA_OPTIONS {
        let (then, now) = (&meta.options[key], &recorded[key]);
        // An option added since PREV was written is absent there: read as its default (off, none, empty).
        let is_default = |v: &serde_json::Value| v.is_null() || v == &json!(false) || v == &json!([]);
        let same = then == now || (then.is_null() && is_default(now));
        if !same {
            return Err(bad(format!(
                "it was collected with {key} = {then}, this run has {now}; --since needs the same options"
            )));
        }
    }
    let tenant_id =
        meta.tenant_id.as_deref().and_then(|t| t.parse().ok()).ok_or_else(|| bad("it names no tenant".to_owned()))?;
    let started_at = meta
        .started_at
        .as_deref()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| bad("it has no start time".to_owned()))?;
    let complete = |name: &str, parts: &[crate::model::Part]| {
        parts.iter().any(|p| p.name == name && p.status == PartStatus::Complete)
    };
    let parts = snap.parts()?;
    let users_complete = complete("users", &parts);
    let mut mailboxes = Vec::new();
    let principals: Vec<_> =
        snap.principals()?.into_iter().filter(|p| p.origin == crate::model::Origin::Collected).collect();
    let collected = principals.iter().map(|p| p.id.clone()).collect();
    let (mut users, mut groups) = (Vec::new(), Vec::new());
    for mut p in principals {
        match p.kind {
            crate::model::PrincipalKind::User => {
                if let Some(purpose) = p.mailbox_purpose.take() {
                    mailboxes.push((p.id.clone(), purpose));
                }
                users.push(p);
            }
            crate::model::PrincipalKind::Group => groups.push(p),
            _ => {}
        }
    }
    let groups_complete = complete("groups", &parts);
    let fingerprint = snap.stored_fingerprint()?.unwrap_or_default();
    Ok(crate::collect::Since {
        source: format!("{} ({fingerprint})", path.display()),
        tenant_id,
        started_at,
        users,
        sign_ins: if complete("sign_in_activity", &parts) { Some(snap.sign_ins()?) } else { None },
        mailboxes: complete("mailbox_settings", &parts).then_some(mailboxes),
        users_link: if users_complete { snap.delta_link("users")? } else { None },
        path: path.to_owned(),
        groups: if groups_complete { groups } else { Vec::new() },
        groups_link: if groups_complete { snap.delta_link("groups")? } else { None },
        collected,
        grants: crate::collect::carried_grants(&snap, &parts)?,
    })
}

fn external(path: &std::path::Path) -> Result<External, CliError> {
    let snap = Snapshot::open(path)?;
    let fingerprint = snap.stored_fingerprint()?.unwrap_or_default();
    Ok(External {
        source: format!("{} ({fingerprint})", path.display()),
        principals: snap
            .principals()?
            .into_iter()
            .filter(|p| matches!(p.kind, crate::model::PrincipalKind::User | crate::model::PrincipalKind::Group))
            .collect(),
        memberships: snap.group_links()?,
    })
}

pub(super) fn run(args: &CollectArgs, ui: &mut Ui) -> Result<u8, CliError> {
    if args.output.exists() && !args.force {
        return Err(CliError::usage(format!("{}: already exists", args.output.display()))
            .with_hint("pass --force to replace it, or choose another --output"));
    }
    let signing_key = args.signing.load()?.map(Arc::new);
    let client = args.azure.client(args.concurrency.max(1))?;
    let external = args.external_identities.as_deref().map(external).transpose()?;
    let mut recorded = json!({
        "mailbox_settings": args.mailbox_settings,
        "skip_ad_groups": args.skip_ad_groups,
        "skip_unused_roles": args.skip_unused_roles,
        "skip_containers": args.skip_containers,
        "skip_p2": args.skip_p2,
        "concurrency": args.concurrency,
        "credential": format!("{:?}", args.azure.credential).to_ascii_lowercase(),
        "external_identities": external.as_ref().map(|e| e.source.clone()),
        "skip_sign_in_activity": args.skip_sign_in_activity,
        "parts": args.parts,
        "skip_parts": args.skip_parts,
    });
    let since = args.since.as_deref().map(|p| load_since(p, &recorded)).transpose()?;
    if let Some(s) = &since {
        recorded["since"] = json!(s.source);
    }
    let skip_parts =
        crate::collect::select::skipped_parts(args.parts.as_deref(), &args.skip_parts, args.skip_sign_in_activity)
            .map_err(CliError::usage)?;
    let options = CollectOptions {
        skip_parts: skip_parts.clone(),
        mailbox_settings: args.mailbox_settings,
        skip_ad_groups: args.skip_ad_groups,
        skip_unused_roles: args.skip_unused_roles,
        skip_containers: args.skip_containers,
        skip_p2: args.skip_p2,
        concurrency: args.concurrency.max(1),
        external,
        signing_key,
        since,
    };
    let runtime = crate::cli::runtime()?;
    let started = crate::clock::now();
    let bars = ui.progress();
    let counters = bars.is_some().then(|| Arc::new(crate::collect::Progress::default()));
    let outcome = runtime.block_on(async {
        let display = bars.zip(counters.clone()).map(|(bars, counters)| Display::start(bars, client.clone(), counters));
        let result =
            crate::collect::collect(client.clone(), options, &args.output, args.force, started, recorded, counters)
                .await;
        if let Some(d) = display {
            d.finish().await;
        }
        result
    });
    ui.end_progress();
    let outcome = match outcome {
        Ok(o) => o,
        Err(CollectError::Auth(failure @ TokenFailure::Refused { .. })) => {
            return Err(crate::cli::azure_args::auth_error(&failure));
        }
        Err(CollectError::Auth(TokenFailure::Unreachable(m))) => {
            return Err(CliError::new(exit_code::API_FAILURE, format!("the login endpoint could not be reached: {m}")));
        }
        Err(CollectError::Unavailable(e)) => {
            return Err(CliError::new(
                exit_code::API_FAILURE,
                format!("collection abandoned, no snapshot written: {e}"),
            ));
        }
        Err(CollectError::Store(e)) => return Err(e.into()),
        Err(CollectError::Since(why)) => return Err(CliError::new(exit_code::BAD_INPUT, why)),
    };
    report(&outcome, ui)
}

/// Tells how the collection went, and exits with its code: success, or incomplete naming the parts.
fn report(outcome: &crate::collect::Outcome, ui: &mut Ui) -> Result<u8, CliError> {
    for p in outcome.parts.iter().filter(|p| p.status != PartStatus::Complete && p.status != PartStatus::Skipped) {
        ui.note(&format!("warning: part {} {}", p.name, p.describe()));
    }
    let t = Totals::of(&outcome.stats);
    ui.note(&format!(
        "collected tenant {} into {}: {} objects, {} requests ({} throttled) carrying {} $batch items ({} throttled), \
         {} token requests, {}",
        outcome.tenant_id,
        outcome.path.display(),
        outcome.rows,
        t.requests,
        t.throttled,
        t.inner,
        t.inner_throttled,
        t.login,
        if outcome.complete { "complete" } else { "partial" }
    ));
    if outcome.complete {
        Ok(exit_code::SUCCESS)
    } else {
        let missing: Vec<String> = outcome
            .parts
            .iter()
            .filter(|p| !p.status.counts_as_complete())
            .map(|p| format!("{} ({})", p.name, p.describe()))
            .collect();
        Err(CliError::new(
            exit_code::INCOMPLETE,
            format!("snapshot {} is partial: {}", outcome.path.display(), missing.join(", ")),
        ))
    }
}
