//! The bad-input matrix: every way a snapshot argument can be wrong gives one clear line naming the file and exit
//! 3, from every command that reads snapshots (and no output file is left behind); never a panic.

use std::path::Path;

use azsnap::exit_code;

use crate::common::{TestEnv, sample};

/// Runs SQL against a snapshot file behind the store's back, as a tamperer would.
#[expect(clippy::disallowed_methods, reason = "tests tamper with files without going through the store")]
pub(crate) fn sql(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).expect("open for tampering");
    conn.execute_batch(sql).expect("tamper");
}

/// Bytes that are neither text nor SQLite, the same on every run.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Every command that reads a snapshot, with `{}` where the snapshot goes.
const READERS: &[&[&str]] = &[
    &["info", "{}"],
    &["verify", "{}"],
    &["diff", "{}", "{}"],
    &["identities", "{}"],
    &["unused-roles", "{}"],
    &["access", "{}", "--principal", "alice@contoso.com"],
    &["query", "{}", "custom-roles"],
    &["review", "{}", "-o", "sheet.csv"],
    &["export", "{}", "-o", "bundle"],
];

/// Every reading command refuses `name` with exit 3 and one line that names it and says `want`.
#[track_caller]
fn refused(env: &TestEnv, name: &str, want: &str) {
    // A build without the `export` feature has no export to refuse with.
    for args in READERS.iter().filter(|a| cfg!(feature = "export") || a[0] != "export") {
        let args: Vec<&str> = args.iter().map(|a| if *a == "{}" { name } else { a }).collect();
        let cmd = args[0];
        let run = env.run(&args);
        run.expect_code(exit_code::BAD_INPUT);
        let line = run.expect_one_line_error();
        assert!(line.contains(name), "`{cmd}` error does not name {name}: {line}");
        assert!(line.contains(want), "`{cmd}` error for {name} does not say {want:?}: {line}");
        assert!(run.stdout.is_empty(), "`{cmd}` printed a result for a bad file: {}", run.stdout);
        for out in ["sheet.csv", "sheet.csv.partial", "bundle", "bundle.partial"] {
            assert!(!env.path(out).exists(), "`{cmd}` left {out} behind");
        }
    }
}

#[test]
fn empty_file() {
    let env = TestEnv::new();
    std::fs::write(env.path("empty.db"), b"").unwrap();
    refused(&env, "empty.db", "file is empty");
}

#[test]
fn text_file() {
    let env = TestEnv::new();
    std::fs::write(env.path("notes.db"), "principal,role\nalice,Owner\n".repeat(20)).unwrap();
    refused(&env, "notes.db", "not an SQLite database");
}

#[test]
fn random_bytes() {
    let env = TestEnv::new();
    std::fs::write(env.path("noise.db"), noise(8192)).unwrap();
    refused(&env, "noise.db", "not an SQLite database");
}

#[test]
fn truncated_snapshot() {
    let env = TestEnv::new();
    let path = env.path("cut.db");
    sample::write_sample(&path);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    refused(&env, "cut.db", "truncated");
}

#[test]
fn sqlite_file_that_is_not_a_snapshot() {
    let env = TestEnv::new();
    sql(&env.path("other.db"), "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);");
    refused(&env, "other.db", "another application");
}

#[test]
fn snapshot_without_format_version() {
    let env = TestEnv::new();
    let path = env.path("nometa.db");
    sample::write_sample(&path);
    sql(&path, "DELETE FROM meta WHERE key = 'format_version'");
    refused(&env, "nometa.db", "no format version");
}

#[test]
fn newer_major_format_version() {
    let env = TestEnv::new();
    let path = env.path("future.db");
    sample::write_sample(&path);
    sql(&path, "UPDATE meta SET value = '2.0' WHERE key = 'format_version'");
    refused(&env, "future.db", "format 2.0 is newer");
}

#[test]
fn newer_minor_format_version_is_read_with_a_warning() {
    let env = TestEnv::new();
    let path = env.path("minor.db");
    sample::write_sample(&path);
    sql(&path, "UPDATE meta SET value = '1.7' WHERE key = 'format_version'");
    let run = env.run(&["info", "minor.db"]);
    run.expect_code(exit_code::SUCCESS);
    assert!(run.stderr.contains("format 1.7"), "{}", run.stderr);
    // The data is as it was, but the version is sealed metadata: an edit of it is caught and named.
    let verify = env.run(&["verify", "minor.db"]);
    verify.expect_code(exit_code::BAD_INPUT);
    let sealed = format!(r#"meta format_version: sealed "{}", now "1.7""#, azsnap::store::FORMAT);
    assert!(verify.stderr.contains(&sealed), "{}", verify.stderr);
}

#[test]
fn path_that_does_not_exist() {
    let env = TestEnv::new();
    refused(&env, "missing.db", "no such file");
}

#[test]
fn directory_instead_of_file() {
    let env = TestEnv::new();
    std::fs::create_dir(env.path("dir.db")).unwrap();
    refused(&env, "dir.db", "is a directory");
}

#[test]
fn damaged_page_is_caught_by_verify() {
    let env = TestEnv::new();
    let path = env.path("damaged.db");
    sample::write_sample(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() >= 4 * page, "sample snapshot is smaller than expected");
    // Scribble over every page after the first two (schema and meta stay readable).
    for p in (2..bytes.len() / page).step_by(1) {
        bytes[p * page..p * page + 64].copy_from_slice(&noise(64));
    }
    std::fs::write(&path, &bytes).unwrap();
    let run = env.run(&["verify", "damaged.db"]);
    run.expect_code(exit_code::BAD_INPUT);
    let line = run.expect_one_line_error();
    assert!(line.contains("damaged.db") && line.contains("corrupt"), "{line}");
}
