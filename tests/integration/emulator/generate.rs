//! `azsnap mock generate`: deterministic, valid, servable synthetic tenants.

use azsnap::exit_code;
use azsnap::mock::EmulatorOptions;

use crate::common::TestEnv;
use crate::common::emulator::{ARM_SCOPE, Emu, GRAPH_SCOPE};

#[test]
fn generated_tenants_are_reproducible_and_served() {
    let env = TestEnv::new();
    let args = [
        "mock",
        "generate",
        "--size",
        "s",
        "--users",
        "300",
        "--groups",
        "30",
        "--apps",
        "5",
        "--subscriptions",
        "2",
        "--seed",
        "3",
    ];
    let first = env.run(&[&args[..], &["-o", "a.json"]].concat());
    first.expect_code(exit_code::SUCCESS);
    assert!(first.stdout.starts_with("tenant 7e7e0003-"), "{}", first.stdout);
    // `azsnap emulator …` is the same command by its other name.
    let other_name: Vec<&str> = std::iter::once("emulator").chain(args[1..].iter().copied()).collect();
    env.run(&[&other_name[..], &["-o", "b.json"]].concat()).expect_code(exit_code::SUCCESS);
    let a = std::fs::read(env.path("a.json")).unwrap();
    assert_eq!(a, std::fs::read(env.path("b.json")).unwrap(), "same seed, same tenant");
    assert!(!env.path("a.json.partial").exists());

    let tenant = crate::common::emulator::tenant_file(&env.path("a.json"));
    assert_eq!(tenant.users.len(), 300);
    let ids: Vec<String> = tenant.users.iter().map(|u| u.id.to_string()).collect();
    let emu = Emu::serve(tenant, EmulatorOptions::default());
    let t = emu.reader(GRAPH_SCOPE);
    let served: Vec<String> =
        emu.walk("/v1.0/users?$top=999", &t, &[]).iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(served, ids);
    let arm = emu.reader(ARM_SCOPE);
    assert_eq!(
        emu.walk("/subscriptions?api-version=2022-12-01", &arm, &[]).len(),
        2,
        "the reader sees every subscription"
    );
}

#[test]
fn unknown_size_is_a_usage_error() {
    let env = TestEnv::new();
    let run = env.run(&["mock", "generate", "--size", "huge", "-o", "x.json"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.expect_one_line_error().contains("unknown size 'huge'"));
}
