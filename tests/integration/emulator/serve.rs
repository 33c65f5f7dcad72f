//! `azsnap mock serve` as a process: the first stdout line, curl-like walks over HTTP, a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use azsnap::exit_code;

use crate::common::TestEnv;

#[test]
fn serve_prints_its_address_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_azsnap"))
        .args(["mock", "serve", "--port", "0", "--tenant"])
        .arg(crate::common::emulator::contoso_path())
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let status =
        rt.block_on(async { client.get(format!("{base}/_emulator/stats")).send().await.unwrap().status().as_u16() });
    assert_eq!(status, 200);

    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(i32::from(exit_code::SUCCESS)), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn serve_refuses_a_bad_tenant_file() {
    let env = TestEnv::new();
    std::fs::write(env.path("t.json"), r#"{"tenant": {"id": "not-a-guid"}}"#).unwrap();
    let run = env.run(&["mock", "serve", "--tenant", "t.json"]);
    run.expect_code(exit_code::BAD_INPUT);
    let line = run.expect_one_line_error();
    assert!(line.contains("t.json") && line.contains("not a valid tenant file"), "{line}");
}

#[test]
fn serve_without_a_tenant_file_serves_the_bundled_contoso() {
    // From an empty directory: no fixtures to read, the tenant is built into the binary.
    let env = TestEnv::new();
    let mut child = env.command(&["mock", "serve", "--port", "0"], &[]).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_owned();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let tenant = crate::common::emulator::contoso_json()["tenant"]["id"].as_str().unwrap().to_owned();
    let status = rt.block_on(async {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", "a1b2c3d4-0000-4000-8000-000000000001"),
            ("client_secret", "contoso-reader-secret"),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        client
            .post(format!("{base}/{tenant}/oauth2/v2.0/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, 200, "the bundled tenant's reader got no token");
}

#[test]
fn idle_and_excess_connections_are_closed_and_everyone_else_is_served() {
    use std::io::Read;
    let emu = crate::common::emulator::Emu::with(azsnap::mock::EmulatorOptions {
        max_connections: 4,
        idle_timeout_secs: 1,
        ..Default::default()
    });
    let addr = emu.base.trim_start_matches("http://").to_owned();
    // Connections that never send a byte: the first four wait out the idle timeout, the rest are closed at once.
    let mut idle: Vec<std::net::TcpStream> = (0..12).map(|_| std::net::TcpStream::connect(&addr).unwrap()).collect();
    for (i, conn) in idle.iter_mut().enumerate() {
        conn.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 16];
        match conn.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("idle connection {i} was not closed: {other:?}"),
        }
    }
    let token = emu.reader(crate::common::emulator::GRAPH_SCOPE);
    assert_eq!(emu.get("/v1.0/organization", &token).status, 200);
}

#[test]
fn a_deeply_nested_filter_is_a_400_and_the_emulator_lives_on() {
    let emu = crate::common::emulator::Emu::contoso();
    let token = emu.reader(crate::common::emulator::GRAPH_SCOPE);
    let deep = format!("{}accountEnabled eq true{}", "(".repeat(3_000), ")".repeat(3_000));
    let r = emu.get(&format!("/v1.0/users?$filter={}", percent(&deep)), &token);
    assert_eq!((r.status, r.code()), (400, "Request_UnsupportedQuery"), "{:?}", r.body);
    assert_eq!(emu.get("/v1.0/organization", &token).status, 200);
}

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[test]
fn serve_names_the_tenant_it_serves_on_stderr() {
    let env = TestEnv::new();
    let mut child = env
        .command(&["mock", "serve", "--port", "0", "--generate", "s", "--seed", "3"], &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut note = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut note).unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "stdout keeps its one line: {line:?}");
    let expected = azsnap::mock::generate::generate(&azsnap::mock::generate::Sizes::preset("s").unwrap(), 3);
    assert!(note.starts_with(&format!("serving tenant {} (", expected.tenant.id)), "{note}");
}
