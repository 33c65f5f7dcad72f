//! `azsnap verify`: a sound snapshot passes; an edited or damaged one fails with exit 3.

use azsnap::exit_code;

use crate::common::{TestEnv, sample};

#[test]
fn sound_snapshot_verifies() {
    let env = TestEnv::new();
    let finished = sample::write_sample(&env.path("s.db"));
    let run = env.run(&["verify", "s.db", "--format", "json"]);
    run.expect_code(exit_code::SUCCESS);
    let j = run.json();
    assert_eq!(j["verified"], true);
    assert_eq!(j["computed_fingerprint"], finished.fingerprint.as_str());
    assert_eq!(j["stored_fingerprint"], finished.fingerprint.as_str());
    assert_eq!(j["integrity_problems"].as_array().map(Vec::len), Some(0));
}

#[test]
fn edited_row_is_caught() {
    let env = TestEnv::new();
    sample::write_sample(&env.path("s.db"));
    crate::bad_input::sql(&env.path("s.db"), "UPDATE principals SET account_enabled = 1 WHERE display_name = 'Room 1'");

    // Reading still works: the file is sound, only its data no longer matches the seal.
    env.run(&["info", "s.db"]).expect_code(exit_code::SUCCESS);
    let run = env.run(&["verify", "s.db", "--format", "json"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert_eq!(run.json()["verified"], false);
    let line = run.expect_one_line_error();
    assert!(line.contains("s.db") && line.contains("fingerprint mismatch"), "{line}");
}

#[test]
fn edited_tenant_id_is_caught() {
    let env = TestEnv::new();
    sample::write_sample(&env.path("s.db"));
    crate::bad_input::sql(
        &env.path("s.db"),
        "UPDATE meta SET value = '00000000-0000-4000-8000-000000000000' WHERE key = 'tenant_id'",
    );
    env.run(&["verify", "s.db"]).expect_code(exit_code::BAD_INPUT);
}

#[test]
fn removed_grant_is_caught() {
    let env = TestEnv::new();
    sample::write_sample(&env.path("s.db"));
    crate::bad_input::sql(&env.path("s.db"), "DELETE FROM grants WHERE relation = 'delegated'");
    let run = env.run(&["verify", "s.db"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.stdout.contains("verified"), "the table still prints: {}", run.stdout);
}
