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
