//! `azsnap mock serve --tls` driven by Microsoft's own Python packages (MSAL, azure-identity, the management
//! clients and the Graph SDK), unmodified, through `tests/interop/sdk_clients.py`; what they list is checked
//! against the tenant file. The packages come from `.ci/run`'s venv (`AZSNAP_PYTHON`); without them the test says
//! so and skips.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use azsnap::exit_code;
use serde_json::Value;

use crate::common::TestEnv;
use crate::common::emulator::{contoso_json, contoso_path};

const PACKAGES: &str = "import msal, azure.identity, azure.mgmt.resource.resources, azure.mgmt.resource.subscriptions, \
                        azure.mgmt.authorization, azure.mgmt.storage, msgraph";

/// A `mock serve` process, killed when dropped.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(env: &TestEnv, extra: &[&str]) -> Served {
    let tenant = contoso_path();
    let mut args = vec!["mock", "serve", "--port", "0", "--tenant", tenant.to_str().unwrap()];
    args.extend_from_slice(extra);
    let mut child = env.command(&args, &[]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_owned();
    Served { child, base }
}

/// The strings at `key` of every item of the tenant file's `list`, sorted.
fn tenant_strings(tenant: &Value, list: &str, key: &str) -> Vec<String> {
    let mut out: Vec<String> =
        tenant[list].as_array().unwrap().iter().map(|i| i[key].as_str().unwrap().to_owned()).collect();
    out.sort();
    out
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

/// The scopes at and above subscription `sub` in the tenant file: its management groups up to the root, lower
/// case, for the assignments ARM lists there.
fn scopes_above(tenant: &Value, sub: &str) -> Vec<String> {
    let mut out = Vec::new();
    let start = tenant["subscriptions"].as_array().unwrap().iter().find(|s| s["subscriptionId"] == sub).unwrap();
    let mut mg = start["managementGroup"].as_str().or(tenant["tenant"]["id"].as_str()).map(str::to_owned);
    while let Some(name) = mg {
        out.push(format!("/providers/microsoft.management/managementgroups/{}", name.to_ascii_lowercase()));
        let group = tenant["managementGroups"].as_array().unwrap().iter().find(|m| m["name"] == name.as_str());
        mg = group.and_then(|g| g["parent"].as_str()).map(str::to_owned);
    }
    out.push("/".to_owned());
    out
}

#[test]
fn microsofts_python_clients_list_the_tenant_over_tls() {
    let python = std::env::var("AZSNAP_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let have = Command::new(&python).args(["-c", PACKAGES]).output();
    if !have.is_ok_and(|o| o.status.success()) {
        crate::common::notice(&format!(
            "Azure SDK check skipped: {python} lacks msal, azure-identity, azure-mgmt-* or msgraph-sdk (.ci/run \
             installs them)"
        ));
        return;
    }
    let env = TestEnv::new();
    let ca = env.path("ca.pem");
    let served = serve(&env, &["--tls", "--tls-ca-file", ca.to_str().unwrap()]);
    assert!(served.base.starts_with("https://127.0.0.1:"), "{}", served.base);
    let tenant = contoso_json();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/sdk_clients.py");
    let app = &tenant["apps"][0];
    let out = Command::new(&python)
        .arg(&script)
        .args([&served.base, tenant["tenant"]["id"].as_str().unwrap(), app["clientId"].as_str().unwrap()])
        .env("AZSNAP_SDK_SECRET", app["secret"].as_str().unwrap())
        .env("SSL_CERT_FILE", &ca)
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the SDK clients failed:\n{stderr}");
    assert!(!stderr.contains(app["secret"].as_str().unwrap()), "the secret leaked");
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();

    assert_eq!(got["msal_token_parts"], serde_json::json!({"graph": 3, "arm": 3}));
    // Graph, through msgraph-sdk's own paging.
    let g = &got["graph"];
    assert_eq!(strings(&g["users"]), tenant_strings(&tenant, "users", "id"));
    assert_eq!(strings(&g["user_principal_names"]), tenant_strings(&tenant, "users", "userPrincipalName"));
    assert_eq!(strings(&g["groups"]), tenant_strings(&tenant, "groups", "id"));
    assert_eq!(strings(&g["service_principals"]), tenant_strings(&tenant, "servicePrincipals", "id"));
    for group in tenant["groups"].as_array().unwrap() {
        let mut want = strings(&group["members"]);
        want.sort();
        assert_eq!(strings(&g["members"][group["id"].as_str().unwrap()]), want, "members of {}", group["id"]);
    }
    check_arm(&got, &tenant);
}

/// What the management clients listed, against the tenant file.
fn check_arm(got: &Value, tenant: &Value) {
    let subs: Vec<String> =
        got["subscriptions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        subs.iter().cloned().collect::<BTreeSet<_>>(),
        tenant_strings(tenant, "subscriptions", "subscriptionId").into_iter().collect()
    );
    let rgs: BTreeSet<(String, String)> = got["resource_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["subscription"].as_str().unwrap().to_owned(), r["name"].as_str().unwrap().to_owned()))
        .collect();
    let want_rgs: BTreeSet<(String, String)> = tenant["resourceGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["subscriptionId"].as_str().unwrap().to_owned(), r["name"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(rgs, want_rgs);
    let mut accounts: Vec<String> =
        got["storage_accounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_owned()).collect();
    accounts.sort();
    assert_eq!(accounts, tenant_strings(tenant, "storageAccounts", "name"));
    let builtin: BTreeSet<String> = azsnap_emulator::builtin::AZURE_ROLES.iter().map(|r| r.1.to_owned()).collect();
    assert_eq!(strings(&got["root_role_definitions"]).into_iter().collect::<BTreeSet<_>>(), builtin);
    for sub in &subs {
        let above = scopes_above(tenant, sub);
        let here = format!("/subscriptions/{sub}");
        let listed = |scope: &str| {
            let s = scope.to_ascii_lowercase();
            s.starts_with(&here) || above.contains(&s)
        };
        let mut want: Vec<String> = tenant["roleAssignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| listed(a["scope"].as_str().unwrap()))
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect();
        want.sort();
        let assignments = got["role_assignments"][sub].as_array().unwrap();
        let ids: Vec<String> = assignments.iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids, want, "role assignments at {sub}");
        for a in assignments {
            let role = a["role"].as_str().unwrap();
            assert!(role.starts_with(&format!("{here}/providers/Microsoft.Authorization/roleDefinitions/")), "{role}");
        }
        let mut definitions = builtin.clone();
        for d in tenant["roleDefinitions"].as_array().unwrap() {
            if strings(&d["assignableScopes"])
                .iter()
                .any(|s| listed(s) && !s.to_ascii_lowercase().starts_with(&format!("{here}/")))
            {
                definitions.insert(d["roleName"].as_str().unwrap().to_owned());
            }
        }
        assert_eq!(strings(&got["role_definitions"][sub]).into_iter().collect::<BTreeSet<_>>(), definitions, "{sub}");
        let regions = strings(&got["locations"][sub]);
        for rg in tenant["resourceGroups"].as_array().unwrap() {
            assert!(regions.iter().any(|r| rg["location"] == r.as_str()), "{sub} lacks {}", rg["location"]);
        }
    }
}

#[test]
fn serve_tls_writes_its_authority_and_refuses_bad_certificates() {
    let env = TestEnv::new();
    let ca = env.path("authority.pem");
    let served = serve(&env, &["--tls", "--tls-ca-file", ca.to_str().unwrap()]);
    assert!(served.base.starts_with("https://"), "{}", served.base);
    let pem = std::fs::read_to_string(&ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----") && !pem.contains("PRIVATE KEY"), "{pem}");
    drop(served);
    // A certificate that is not PEM, or a key without its certificate, is a one-line usage error.
    std::fs::write(env.path("cert.pem"), "not a certificate").unwrap();
    std::fs::write(env.path("key.pem"), "not a key").unwrap();
    let run = env.run(&["mock", "serve", "--tls-cert", "cert.pem", "--tls-key", "key.pem"]);
    run.expect_code(exit_code::USAGE);
    let line = run.expect_one_line_error();
    assert!(line.contains("not PEM") || line.contains("holds no certificate"), "{line}");
    let run = env.run(&["mock", "serve", "--tls-key", "key.pem"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.contains("--tls-cert"), "{}", run.stderr);
}

#[test]
fn azsnap_collects_over_https_from_the_tls_emulator_when_it_trusts_the_authority() {
    let env = TestEnv::new();
    let ca = env.path("ca.pem");
    let served = serve(&env, &["--tls", "--tls-ca-file", ca.to_str().unwrap(), "--throttle", "off"]);
    let tenant = contoso_json();
    let app = &tenant["apps"][0];
    let creds = [
        ("AZURE_TENANT_ID", tenant["tenant"]["id"].as_str().unwrap()),
        ("AZURE_CLIENT_ID", app["clientId"].as_str().unwrap()),
        ("AZURE_CLIENT_SECRET", app["secret"].as_str().unwrap()),
    ];
    let mut trusting = creds.to_vec();
    trusting.push(("SSL_CERT_FILE", ca.to_str().unwrap()));
    let run = env.run_with_env(&["collect", "--endpoint", &served.base, "-o", "tls.db"], &trusting);
    run.expect_code(exit_code::SUCCESS);
    assert!(run.stderr.contains(", complete"), "{}", run.stderr);
    let users = crate::common::emulator::contoso_json()["users"].as_array().unwrap().len();
    let collected = crate::collect::column(&env.path("tls.db"), "SELECT count(*) FROM principals WHERE kind = 'user'");
    assert_eq!(collected, [users.to_string()]);
    // Without the authority, the certificate is not trusted: the collection fails and writes nothing.
    let run = env.run_with_env(&["collect", "--endpoint", &served.base, "-o", "untrusted.db"], &creds);
    run.expect_code(exit_code::API_FAILURE);
    assert!(!env.path("untrusted.db").exists());
}
