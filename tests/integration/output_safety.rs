//! Nothing of the user's is ever lost: partial files are created exclusively (never through a planted link), two
//! runs aimed at one output cannot interleave, and a failure while flushing or renaming leaves no partial file.

use azsnap::exit_code;

use crate::collect::collect;
use crate::common::emulator::Emu;
use crate::common::{TestEnv, sample};

/// `env`'s file names.
fn names(env: &TestEnv) -> Vec<String> {
    std::fs::read_dir(env.root()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

#[cfg(unix)]
#[test]
fn a_planted_partial_link_is_never_written_through() {
    let env = TestEnv::new();
    sample::write_sample(&env.path("a.db"));
    sample::write_sample(&env.path("b.db"));
    std::fs::write(env.path("victim"), "precious").unwrap();
    let cases: [(&str, Vec<&str>); 3] = [
        ("review.csv", vec!["review", "a.db", "-o", "review.csv"]),
        ("plan.json", vec!["plan", "revert", "--baseline", "a.db", "--current", "b.db", "-o", "plan.json"]),
        ("tenant.json", vec!["mock", "generate", "--users", "5", "-o", "tenant.json"]),
    ];
    for (out, args) in cases {
        std::os::unix::fs::symlink(env.path("victim"), env.path(&format!("{out}.partial"))).unwrap();
        let run = env.run(&args);
        run.expect_code(exit_code::USAGE);
        assert!(run.expect_one_line_error().contains("is not a regular file"), "{out}: {}", run.stderr);
        assert_eq!(std::fs::read_to_string(env.path("victim")).unwrap(), "precious", "{out} wrote through the link");
        assert!(!env.path(out).exists());
    }
}

#[test]
fn two_collects_to_one_output_cannot_interleave() {
    let emu = Emu::contoso();
    let env = TestEnv::new();
    // A first run is writing s.db (it holds the lock on its partial file).
    let partial = env.path("s.db.partial");
    std::fs::write(&partial, b"first run's data").unwrap();
    let held = std::fs::File::open(&partial).unwrap();
    held.lock().unwrap();
    let run = collect(&env, &emu, "s.db", &["--force"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.expect_one_line_error().contains("another azsnap run is writing it"), "{}", run.stderr);
    assert_eq!(std::fs::read(&partial).unwrap(), b"first run's data", "the second run touched the first's file");
    assert!(!env.path("s.db").exists());
    // Once the first run is gone, its partial file is stale and replaced.
    drop(held);
    collect(&env, &emu, "s.db", &[]).expect_code(exit_code::SUCCESS);
    assert!(env.path("s.db").exists() && !partial.exists());
}

#[test]
fn a_failed_rename_leaves_no_partial_file() {
    let env = TestEnv::new();
    sample::write_sample(&env.path("a.db"));
    // The output is a non-empty directory: writing succeeds, renaming over it fails.
    std::fs::create_dir(env.path("out.csv")).unwrap();
    std::fs::write(env.path("out.csv/keep"), "x").unwrap();
    let run = env.run(&["review", "a.db", "-o", "out.csv", "--force"]);
    run.expect_code(exit_code::USAGE);
    run.expect_one_line_error();
    assert!(names(&env).iter().all(|n| !n.ends_with(".partial")), "{:?}", names(&env));
    assert!(env.path("out.csv/keep").exists());
}
