//! Command-line contract: usage errors, help, and commands that are not built yet.

use azsnap::exit_code;

use crate::common::TestEnv;

#[test]
fn unknown_flag_is_a_usage_error() {
    let env = TestEnv::new();
    let run = env.run(&["info", "--no-such-flag", "x.db"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.contains("--no-such-flag"), "{}", run.stderr);
}

#[test]
fn missing_argument_is_a_usage_error() {
    let env = TestEnv::new();
    env.run(&["verify"]).expect_code(exit_code::USAGE);
    env.run(&[]).expect_code(exit_code::USAGE);
}

#[test]
fn help_lists_every_command_of_the_contract() {
    let env = TestEnv::new();
    let run = env.run(&["--help"]);
    run.expect_code(exit_code::SUCCESS);
    for cmd in [
        "collect",
        "mock",
        "demo",
        "info",
        "verify",
        "diff",
        "unused-roles",
        "identities",
        "access",
        "query",
        "export",
        "review",
        "plan",
        "apply",
    ] {
        assert!(run.stdout.contains(&format!("  {cmd} ")), "{cmd} missing from help:\n{}", run.stdout);
        env.run(&[cmd, "--help"]).expect_code(exit_code::SUCCESS);
    }
}

#[test]
fn a_missing_plan_is_one_line_and_exit_3() {
    let env = TestEnv::new();
    for args in [&["plan", "show", "p.json"][..], &["apply", "p.json", "--yes"]] {
        let run = env.run(args);
        run.expect_code(exit_code::BAD_INPUT);
        assert!(run.expect_one_line_error().contains("p.json"), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?} printed a result: {}", run.stdout);
    }
}

#[test]
#[cfg(not(feature = "export"))]
fn a_build_without_export_says_so_and_writes_nothing() {
    let env = TestEnv::new();
    let run = env.run(&["export", "s.db", "-o", "bundle", "--format", "parquet"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.contains("without the `export` feature"), "{}", run.stderr);
    assert!(!env.path("bundle").exists());
}

#[test]
fn plain_http_is_refused_for_names_that_merely_start_like_loopback() {
    let env = TestEnv::new();
    for endpoint in ["http://127.evil.example", "http://localhost.evil.example:8080", "http://127.0.0.1.nip.io"] {
        let run = env.run_with_env(
            &["collect", "--endpoint", endpoint, "-o", "s.db"],
            &[
                ("AZURE_TENANT_ID", "7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f"),
                ("AZURE_CLIENT_ID", "a"),
                ("AZURE_CLIENT_SECRET", "s3cret"),
            ],
        );
        run.expect_code(exit_code::USAGE);
        let line = run.expect_one_line_error();
        assert!(line.contains("uses plain http"), "{endpoint}: {line}");
        assert!(!run.stderr.contains("s3cret"));
    }
}

#[test]
fn a_closed_output_pipe_ends_quietly_with_0_in_every_format() {
    let env = TestEnv::new();
    crate::common::sample::write_sample(&env.path("a.db"));
    for args in [
        &["info", "a.db", "--format", "json"][..],
        &["info", "a.db"],
        &["identities", "a.db", "--format", "json"],
        &["identities", "a.db", "--format", "csv"],
        &["diff", "a.db", "a.db", "--format", "json"],
        &["query", "a.db", "privileged-principals", "--format", "json"],
    ] {
        // The reading end is closed before the command starts: its first write fails with a broken pipe.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = env.command(args, &[]).stdout(writer).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}
