//! The progress display, on a real terminal (a pseudo-terminal from util-linux `script`): drawn on one, with the
//! running parts by name, and cleared before the summary; never drawn when standard error is not a terminal.

use std::process::Command;

use azsnap::mock::EmulatorOptions;

use super::{collect, contoso_with, creds};
use crate::common::TestEnv;

/// Runs `collect` under `script`, whose pseudo-terminal is the command's stdout and stderr; `None` when `script`
/// cannot run here.
fn collect_on_a_terminal(env: &TestEnv, emu: &crate::common::emulator::Emu) -> Option<(i32, String)> {
    let bin = env!("CARGO_BIN_EXE_azsnap");
    let line = format!("'{bin}' collect --endpoint {} -o t.db", emu.base);
    let mut cmd = Command::new("script");
    cmd.args(["-qfec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "xterm")
        .env("HOME", env.path(""))
        .current_dir(env.path(""));
    for (k, v) in creds(emu) {
        cmd.env(k, v);
    }
    let out = cmd.output().ok()?;
    Some((out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned()))
}

#[test]
fn a_terminal_sees_the_running_parts_and_then_the_summary() {
    // Latency, so the run lasts long enough to be drawn a few times.
    let emu = contoso_with(|_| {}, EmulatorOptions { latency_ms: 150, ..EmulatorOptions::default() });
    let env = TestEnv::new();
    let Some((code, screen)) = collect_on_a_terminal(&env, &emu) else {
        crate::common::notice("progress test skipped: util-linux `script` is not available");
        return;
    };
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("collecting"), "no progress drawn: {screen}");
    assert!(screen.contains("parts done,") && screen.contains("running"), "{screen}");
    assert!(
        ["groups", "service_principals", "azure_role_assignments"].iter().any(|p| screen.contains(p)),
        "running parts by name: {screen}"
    );
    let summary = screen.rfind("collected tenant").expect("the summary");
    assert!(screen.rfind("parts done,").unwrap() < summary, "the display comes before the summary, not after");
    assert!(env.path("t.db").exists());
}

#[test]
fn nothing_is_drawn_off_a_terminal() {
    let emu = contoso_with(|_| {}, EmulatorOptions::default());
    let env = TestEnv::new();
    let run = collect(&env, &emu, "t.db", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("collecting") && !run.stderr.contains('\r'), "{}", run.stderr);
    assert!(run.stderr.contains("collected tenant"), "{}", run.stderr);
}
