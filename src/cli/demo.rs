//! `azsnap demo`: the guided offline tour. Starts the emulator in-process on the bundled contoso tenant, collects a
//! baseline, makes a few realistic changes through the emulator's write API, collects again, and shows the drift,
//! the non-human identities with access, and the unused roles. Writes its files to a directory it names.

use std::path::PathBuf;
use std::sync::Arc;

use azure_core::credentials::Secret;
use serde_json::json;

use crate::analyze::diff::{Ignore, diff};
use crate::analyze::identity::identities;
use crate::analyze::privileged::Privileged;
use crate::analyze::unused::unused;
use crate::azure::client::RetryPolicy;
use crate::azure::credential::{CredentialConfig, CredentialKind};
use crate::azure::{AzureClient, Cloud, Endpoints, Service};
use crate::cli::{CliError, Ui};
use crate::collect::CollectOptions;
use crate::exit_code;
use crate::mock::generate::{READER_CLIENT, WRITER_CLIENT};
use crate::mock::limits::Limits;
use crate::mock::{Emulator, EmulatorOptions, TenantFile};
use crate::report::Table;
use crate::store::Snapshot;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Directory for the demo's snapshots and reports (default: a new directory under the system temp dir).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

fn fail(e: impl std::fmt::Display) -> CliError {
    CliError::new(exit_code::API_FAILURE, format!("demo: {e}"))
}

fn client(base: &str, tenant: &str, client_id: &str, secret: &str) -> Result<Arc<AzureClient>, CliError> {
    let endpoints = Endpoints::new(Cloud::Public, None, Some(base)).map_err(fail)?;
    let tokens = Arc::new(crate::azure::credential::TokenStats::default());
    let credential = CredentialConfig {
        kind: CredentialKind::Secret,
        tenant_id: Some(tenant.to_owned()),
        client_id: Some(client_id.to_owned()),
        secret: Some(Secret::new(secret.to_owned())),
        federated_token_file: None,
    }
    .build(&endpoints, tokens.clone())
    .map_err(fail)?;
    Ok(Arc::new(AzureClient::new(endpoints, credential, tokens, 8, RetryPolicy::default()).map_err(fail)?))
}

/// The changes the tour makes, as (description, method, service, path, body).
fn changes() -> Vec<(&'static str, reqwest::Method, Service, &'static str, serde_json::Value)> {
    vec![
        (
            "guest Erin added to Tier0 Admins, a group holding User Administrator",
            reqwest::Method::POST,
            Service::Graph,
            "/v1.0/groups/20000000-0000-4000-8000-000000000007/members/$ref",
            json!({"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/10000000-0000-4000-8000-000000000005"}),
        ),
        (
            "Bob made Owner of the Contoso Platform subscription",
            reqwest::Method::PUT,
            Service::Arm,
            "/subscriptions/50000000-0000-4000-8000-000000000002/providers/Microsoft.Authorization/roleAssignments/d3d0d3d0-0000-4000-8000-000000000001?api-version=2022-04-01",
            json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "principalId": "10000000-0000-4000-8000-000000000002", "principalType": "User"}}),
        ),
        (
            "room mailbox Conf Room Adams given the Payroll.Admin app role",
            reqwest::Method::POST,
            Service::Graph,
            "/v1.0/servicePrincipals/30000000-0000-4000-8000-000000000003/appRoleAssignedTo",
            json!({"principalId": "10000000-0000-4000-8000-000000000008", "resourceId": "30000000-0000-4000-8000-000000000003", "appRoleId": "90000000-0000-4000-8000-000000000002"}),
        ),
    ]
}

pub(super) fn run(args: &DemoArgs, ui: &mut Ui) -> Result<u8, CliError> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir()
            .join(format!("azsnap-demo-{}", crate::clock::now().as_datetime().format("%Y%m%d-%H%M%S"))),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::usage(format!("{}: cannot create the demo directory: {e}", dir.display())))?;
    for name in ["baseline.db", "current.db"] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    let tenant = TenantFile::contoso()?;
    let tenant_id = tenant.tenant.id.to_string();
    let options =
        EmulatorOptions { throttle: Some(Limits::documented(tenant.users.len())), ..EmulatorOptions::default() };
    let runtime = crate::cli::runtime()?;
    writeln!(ui.out(), "azsnap demo: the Contoso tenant on a local emulator, files in {}", dir.display())?;
    let report = runtime.block_on(async {
        let running = crate::mock::start(Arc::new(Emulator::new(tenant, options)), 0).await.map_err(fail)?;
        let base = running.base_url();
        let reader = client(&base, &tenant_id, READER_CLIENT, "contoso-reader-secret")?;
        let collect_to = |name: &'static str| {
            let reader = reader.clone();
            let path = dir.join(name);
            async move {
                let options = CollectOptions { mailbox_settings: true, concurrency: 8, ..CollectOptions::default() };
                crate::collect::collect(
                    reader,
                    options,
                    &path,
                    true,
                    crate::clock::now(),
                    json!({"mailbox_settings": true, "demo": true}),
                    None,
                )
                .await
                .map_err(fail)
            }
        };
        let baseline = collect_to("baseline.db").await?;
        let writer = client(&base, &tenant_id, WRITER_CLIENT, "contoso-writer-secret")?;
        let mut made = Vec::new();
        for (what, method, service, path, body) in changes() {
            writer.send(service, method, &writer.url(service, path), &[], Some(&body)).await.map_err(fail)?;
            made.push(what);
        }
        let current = collect_to("current.db").await?;
        running.stop().await;
        Ok::<_, CliError>((baseline, made, current))
    });
    let (baseline, made, current) = report?;
    let out = ui.out();
    writeln!(
        out,
        "\n1. Collected a baseline: {} objects, {} requests -> baseline.db",
        baseline.rows,
        baseline.stats.iter().map(|s| s.requests).sum::<u64>()
    )?;
    writeln!(out, "2. Changed access through the Graph and ARM APIs:")?;
    for m in &made {
        writeln!(out, "   - {m}")?;
    }
    writeln!(out, "3. Collected again -> current.db (fingerprint {})", &current.fingerprint[..12])?;

    let old = Snapshot::open(&dir.join("baseline.db"))?;
    let drift = diff(&old, &dir.join("current.db"), &Privileged::builtin(), &Ignore::default())?;
    let style = ui.table_style();
    writeln!(ui.out(), "\n4. azsnap diff baseline.db current.db")?;
    super::diff::table(&drift).write_text(ui.out(), style)?;
    writeln!(ui.out(), "{}", super::diff::summary_line(&drift))?;
    let mut md = Vec::new();
    super::diff::table(&drift).write_markdown(&mut md)?;
    std::fs::write(dir.join("diff.md"), md).map_err(|e| CliError::usage(format!("cannot write diff.md: {e}")))?;

    let current_snap = Snapshot::open(&dir.join("current.db"))?;
    writeln!(ui.out(), "\n5. azsnap identities current.db --non-human")?;
    let mut t = Table::new(["name", "class", "access", "privileged", "evidence"]);
    for i in identities(&current_snap, &Privileged::builtin())?
        .into_iter()
        .filter(|i| !i.human && i.kind != "group" && i.access > 0)
    {
        t.push([i.name, i.class, i.access.to_string(), i.privileged_access.to_string(), i.evidence]);
    }
    t.write_text(ui.out(), style)?;

    writeln!(ui.out(), "\n6. azsnap unused-roles current.db")?;
    let unused = unused(&current_snap, 90, crate::clock::now())?;
    let (roles, stale) = super::unused_roles::tables(&unused);
    writeln!(ui.out(), "Role definitions nobody holds: {}", unused.unused_roles.len())?;
    roles.write_text(ui.out(), style)?;
    writeln!(ui.out(), "Assignments held by disabled, deleted or inactive principals:")?;
    stale.write_text(ui.out(), style)?;
    let d = dir.display();
    writeln!(ui.out(), "\nFiles: {d}/baseline.db, current.db, diff.md. Try:")?;
    for next in [
        format!("azsnap access {d}/current.db --principal erin@fabrikam.com"),
        format!("azsnap access {d}/current.db --resource \"Contoso Platform\""),
        format!("azsnap review {d}/current.db -o {d}/review.csv --effective"),
        format!("azsnap plan revert --baseline {d}/baseline.db --current {d}/current.db -o {d}/plan.json"),
        format!("azsnap plan show {d}/plan.json"),
    ] {
        writeln!(ui.out(), "  {next}")?;
    }
    Ok(exit_code::SUCCESS)
}
