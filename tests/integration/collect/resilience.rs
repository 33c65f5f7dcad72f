//! Faults, bad credentials, unreachable services and interruptions: the documented exit codes, no file left at the
//! final name, and no secret in any output.

use std::process::{Command, Stdio};

use azsnap::exit_code;
use azsnap::mock::EmulatorOptions;

use super::{SECRET, collect, creds};
use crate::common::TestEnv;
use crate::common::emulator::{Emu, GRAPH_SCOPE};

#[test]
fn faults_do_not_change_the_snapshot() {
    let env = TestEnv::new();
    let clean = Emu::contoso();
    collect(&env, &clean, "clean.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
    let faulty = Emu::with(EmulatorOptions {
        faults: "5xx=0.06,429=0.04,429-no-retry-after=0.04,reset=0.03".parse().unwrap(),
        seed: 11,
        ..EmulatorOptions::default()
    });
    collect(&env, &faulty, "faulty.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
    let t = faulty.reader(GRAPH_SCOPE);
    let stats = faulty.get("/_emulator/stats", &t).body;
    assert!(stats["faults"].as_u64().unwrap() >= 3, "faults were injected: {stats}");
    let fp = |db: &str| env.run(&["info", db, "--format", "json"]).json()["fingerprint"].as_str().unwrap().to_owned();
    assert_eq!(fp("clean.db"), fp("faulty.db"));
    let retried = env.run(&["info", "faulty.db", "--format", "json"]).json()["request_stats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["retried"].as_u64().unwrap())
        .sum::<u64>();
    assert!(retried >= 3, "the snapshot records the retries");
}

#[test]
fn bad_secret_exits_4_with_the_aadsts_code_and_no_file() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    let run = env.run_with_env(
        &["collect", "--endpoint", &emu.base, "-o", "c.db"],
        &[
            ("AZURE_TENANT_ID", &emu.tenant),
            ("AZURE_CLIENT_ID", super::READER),
            ("AZURE_CLIENT_SECRET", "not-the-secret"),
        ],
    );
    run.expect_code(exit_code::AUTH);
    assert!(run.stderr.contains("AADSTS7000215"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-the-secret") && !run.stdout.contains("not-the-secret"), "the secret leaked");
    assert!(std::fs::read_dir(env.root()).unwrap().next().is_none(), "no file written");
}

/// The identity platform's refusals read cleanly: the code and first sentence, the trace id on its own line,
/// nothing of the credential library's parsing, no literal `\r\n` — in collect and in apply.
#[test]
fn refusals_print_their_first_sentence_and_trace_id() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    let unknown_app = "a1b2c3d4-0000-4000-8000-0000000000ff";
    let other_tenant = "11111111-2222-4333-8444-555555555555";
    for (tenant, client, code) in [
        (emu.tenant.as_str(), super::READER, "AADSTS7000215: Invalid client secret provided."),
        (emu.tenant.as_str(), unknown_app, "AADSTS700016: Application with identifier"),
        (other_tenant, super::READER, "AADSTS90002: Tenant"),
    ] {
        let vars = [("AZURE_TENANT_ID", tenant), ("AZURE_CLIENT_ID", client), ("AZURE_CLIENT_SECRET", "wrong")];
        let plan = serde_json::json!({
            "kind": "azsnap-plan", "plan_version": 1, "tool_version": "t", "created_at": "2026-11-26T08:00:00Z",
            "tenant_id": tenant, "source": {"command": "test", "snapshots": [], "options": {}}, "actions": [],
        });
        std::fs::write(env.path("p.json"), plan.to_string()).unwrap();
        for args in [
            &["collect", "--endpoint", emu.base.as_str(), "-o", "c.db"][..],
            &["apply", "p.json", "--endpoint", emu.base.as_str(), "--yes"],
        ] {
            let run = env.run_with_env(args, &vars);
            run.expect_code(exit_code::AUTH);
            let lines: Vec<&str> = run.stderr.lines().collect();
            assert!(lines[0].starts_with(&format!("error: authentication failed: {code}")), "{}", run.stderr);
            assert!(lines[1].starts_with("trace id: ") && lines[2].starts_with("hint: "), "{}", run.stderr);
            for bad in ["\\r\\n", "expected a borrowed string", "line 1 column", "Correlation ID"] {
                assert!(!run.stderr.contains(bad), "{bad}: {}", run.stderr);
            }
        }
    }
}

#[test]
fn missing_credentials_exit_4() {
    let env = TestEnv::new();
    let run = env.run(&["collect", "--endpoint", "http://127.0.0.1:9", "-o", "c.db"]);
    run.expect_code(exit_code::AUTH);
    assert!(run.expect_one_line_error().contains("no credentials"));
}

#[test]
fn unreachable_endpoint_exits_5_with_no_file() {
    let env = TestEnv::new();
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let run = env.run_with_env(
        &["collect", "--endpoint", &endpoint, "-o", "c.db"],
        &[
            ("AZURE_TENANT_ID", "7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f"),
            ("AZURE_CLIENT_ID", super::READER),
            ("AZURE_CLIENT_SECRET", SECRET),
        ],
    );
    run.expect_code(exit_code::API_FAILURE);
    assert!(!env.path("c.db").exists());
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let env = TestEnv::new();
    let run = env.run(&["collect", "--endpoint", "http://proxy.example:8080", "-o", "c.db"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.expect_one_line_error().contains("only loopback"));
}

#[test]
fn existing_output_needs_force() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    collect(&env, &emu, "c.db", &[]).expect_code(exit_code::SUCCESS);
    collect(&env, &emu, "c.db", &[]).expect_code(exit_code::USAGE);
    collect(&env, &emu, "c.db", &["--force"]).expect_code(exit_code::SUCCESS);
}

#[test]
fn killed_mid_run_leaves_no_file_at_the_final_name() {
    let emu = Emu::with(EmulatorOptions { latency_ms: 150, ..EmulatorOptions::default() });
    let env = TestEnv::new();
    let vars = creds(&emu);
    let mut child = Command::new(env!("CARGO_BIN_EXE_azsnap"))
        .args(["collect", "--endpoint", &emu.base, "-o", "k.db", "--concurrency", "1"])
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(env.root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the collection is under way (its partial file exists), then kill it hard.
    let partial = env.path("k.db.partial");
    while !partial.exists() {
        assert!(child.try_wait().unwrap().is_none(), "collect ended before it could be interrupted");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!env.path("k.db").exists(), "an interrupted collection must not leave a snapshot");
}

#[test]
fn the_secret_never_reaches_the_snapshot() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    let run = collect(&env, &emu, "c.db", &[]);
    run.expect_code(exit_code::SUCCESS);
    let bytes = std::fs::read(env.path("c.db")).unwrap();
    let needle = SECRET.as_bytes();
    assert!(!bytes.windows(needle.len()).any(|w| w == needle), "the secret is in the snapshot");
    assert!(!run.stderr.contains(SECRET) && !run.stdout.contains(SECRET));
}

#[test]
fn tokens_that_expire_mid_run_are_renewed() {
    // Every token lives one second; with latency the run takes longer than that.
    let emu = Emu::with(EmulatorOptions { token_lifetime_secs: 1, latency_ms: 60, ..EmulatorOptions::default() });
    let env = TestEnv::new();
    collect(&env, &emu, "t.db", &["--concurrency", "2"]).expect_code(exit_code::SUCCESS);
    let t = emu.reader(GRAPH_SCOPE);
    let tokens = emu.get("/_emulator/stats", &t).body["by_class"]["token"].as_u64().unwrap();
    assert!(tokens > 3, "tokens were fetched again as they expired ({tokens})");
}

#[test]
fn workload_identity_federation_authenticates_without_a_secret() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    std::fs::write(env.path("federated-token"), "contoso-ci-federated-token\n").unwrap();
    let token_file = env.path("federated-token").display().to_string();
    let run = env.run_with_env(
        &["collect", "--endpoint", &emu.base, "-o", "w.db"],
        &[
            ("AZURE_TENANT_ID", &emu.tenant),
            ("AZURE_CLIENT_ID", super::READER),
            ("AZURE_FEDERATED_TOKEN_FILE", &token_file),
        ],
    );
    run.expect_code(exit_code::SUCCESS);
    let info = env.run(&["info", "w.db", "--format", "json"]).json();
    assert_eq!(info["options"]["credential"], "auto");
    std::fs::write(env.path("federated-token"), "someone-else").unwrap();
    let run = env.run_with_env(
        &["collect", "--endpoint", &emu.base, "-o", "w2.db"],
        &[
            ("AZURE_TENANT_ID", &emu.tenant),
            ("AZURE_CLIENT_ID", super::READER),
            ("AZURE_FEDERATED_TOKEN_FILE", &token_file),
        ],
    );
    run.expect_code(exit_code::AUTH);
    assert!(run.stderr.contains("AADSTS70021"), "{}", run.stderr);
}

#[test]
fn managed_identity_credential_runs_against_the_emulator() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    let endpoint = format!("{}/msi/token", emu.base);
    let run = env.run_with_env(
        &["collect", "--endpoint", &emu.base, "--credential", "managed-identity", "-o", "mi.db"],
        &[("IDENTITY_ENDPOINT", &endpoint), ("IDENTITY_HEADER", "opaque")],
    );
    run.expect_code(exit_code::SUCCESS);
    assert_eq!(env.run(&["info", "mi.db", "--format", "json"]).json()["tenant_id"], emu.tenant.as_str());
}

#[test]
fn ctrl_c_removes_the_partial_file_and_says_so() {
    let emu = Emu::with(EmulatorOptions { latency_ms: 300, ..EmulatorOptions::default() });
    let env = TestEnv::new();
    let vars = super::creds(&emu);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let child = env
        .command(&["collect", "--endpoint", &emu.base, "-o", "s.db"], &vars)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (bounded) until the snapshot is being written, then interrupt it.
    let partial = env.path("s.db.partial");
    let mut polls = 0;
    while !partial.exists() {
        polls += 1;
        assert!(polls < 3_000, "the collection never started writing");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(i32::from(exit_code::INTERRUPTED)), "{stderr}");
    assert_eq!(stderr.trim_end(), "interrupted; nothing written at s.db");
    assert!(!partial.exists() && !env.path("s.db").exists(), "a file was left behind");
}
