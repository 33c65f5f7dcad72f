//! Hostile files: read-only commands write nothing beside a snapshot and are not fooled by stray SQLite side
//! files; FIFOs, devices, directories, huge or non-UTF-8 files given as inputs are one clear error, exit 3.

use azsnap::exit_code;

use crate::common::{TestEnv, sample};

fn side_files(env: &TestEnv) -> Vec<String> {
    std::fs::read_dir(env.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-shm") || n.ends_with("-wal") || n.ends_with("-journal"))
        .collect()
}

#[test]
fn read_only_commands_write_nothing_beside_a_snapshot() {
    let env = TestEnv::new();
    sample::write_sample(&env.path("a.db"));
    sample::write_sample(&env.path("b.db"));
    // A WAL-mode copy: readers must not create its -shm/-wal either.
    std::fs::copy(env.path("a.db"), env.path("w.db")).unwrap();
    {
        #[expect(clippy::disallowed_methods, reason = "the test turns a copy into a WAL-mode file")]
        let c = rusqlite::Connection::open(env.path("w.db")).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
    }
    for n in side_files(&env) {
        std::fs::remove_file(env.path(&n)).unwrap();
    }
    let commands: [&[&str]; 8] = [
        &["info", "a.db"],
        &["verify", "a.db"],
        &["diff", "a.db", "b.db"],
        &["identities", "a.db"],
        &["unused-roles", "a.db"],
        &["query", "a.db", "privileged-principals"],
        &["info", "w.db"],
        &["verify", "w.db"],
    ];
    for args in commands {
        env.run(args).expect_code(exit_code::SUCCESS);
        assert_eq!(side_files(&env), Vec::<String>::new(), "{args:?} wrote beside the snapshot");
    }
    // A stray hot journal beside a snapshot is not part of it.
    std::fs::write(env.path("a.db-journal"), vec![0xab; 4096]).unwrap();
    let run = env.run(&["verify", "a.db"]);
    run.expect_code(exit_code::SUCCESS);
}

#[cfg(unix)]
fn mkfifo(env: &TestEnv, name: &str) -> String {
    let status = std::process::Command::new("mkfifo").arg(env.path(name)).status().unwrap();
    assert!(status.success());
    name.to_owned()
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_given_as_inputs_are_refused() {
    let env = TestEnv::new();
    sample::write_sample(&env.path("a.db"));
    let fifo = mkfifo(&env, "fifo");
    let commands: [&[&str]; 7] = [
        &["info", &fifo],
        &["plan", "show", &fifo],
        &["apply", &fifo, "--yes", "--endpoint", "http://127.0.0.1:9"],
        &["plan", "from-review", &fifo, "--snapshot", "a.db", "-o", "p.json"],
        &["diff", "a.db", "a.db", "--ignore", &fifo],
        &["diff", "a.db", "a.db", "--ignore", "/dev/zero"],
        &["mock", "serve", "--tenant", &fifo, "--port", "0"],
    ];
    for args in commands {
        let run = env.run(args);
        run.expect_code(exit_code::BAD_INPUT);
        let line = run.expect_one_line_error();
        assert!(line.contains("not a regular file"), "{args:?}: {line}");
    }
}

#[test]
fn ignore_files_that_cannot_be_read_are_bad_input() {
    let env = TestEnv::new();
    sample::write_sample(&env.path("a.db"));
    std::fs::write(env.path("latin1.txt"), [b'#', b' ', 0xe9, b'\n']).unwrap();
    std::fs::create_dir(env.path("dir")).unwrap();
    std::fs::write(env.path("big.txt"), vec![b'#'; 5 << 20]).unwrap();
    for (file, says) in [
        ("latin1.txt", "not UTF-8"),
        ("dir", "is a directory"),
        ("missing.txt", "no such file"),
        ("big.txt", "larger than"),
    ] {
        let run = env.run(&["diff", "a.db", "a.db", "--ignore", file]);
        run.expect_code(exit_code::BAD_INPUT);
        assert!(run.expect_one_line_error().contains(says), "{file}: {}", run.stderr);
    }
}

/// The sample tenant with Alice's name replaced by `name`.
fn named(env: &TestEnv, file: &str, name: &str) {
    let mut b = sample::batch();
    b.principals[0].display_name = Some(name.to_owned());
    sample::write(&env.path(file), &b);
}

#[test]
#[cfg(feature = "export")]
fn exported_csv_cells_cannot_run_as_formulas() {
    let env = TestEnv::new();
    named(&env, "a.db", "=cmd|' /C calc'!A0");
    env.run(&["export", "a.db", "-o", "csv", "--format", "csv"]).expect_code(exit_code::SUCCESS);
    let principals = std::fs::read_to_string(env.path("csv/principals.csv")).unwrap();
    assert!(principals.contains("'=cmd|' /C calc'!A0"), "{principals}");
    assert!(!principals.lines().any(|l| l.split(',').any(|c| c.trim_matches('"').starts_with('='))), "{principals}");
    // Parquet and JSON keep the value as it is.
    env.run(&["export", "a.db", "-o", "json", "--format", "json"]).expect_code(exit_code::SUCCESS);
    let json = std::fs::read_to_string(env.path("json/principals.json")).unwrap();
    assert!(json.contains(r#""=cmd|' /C calc'!A0""#), "{json}");
}

#[test]
fn names_with_control_characters_cannot_forge_table_rows_or_escape_codes() {
    let env = TestEnv::new();
    named(&env, "a.db", "Mallory\u{1b}[2J\r\n| fake | row |\u{7}");
    for format in ["table", "markdown"] {
        let run = env.run(&["identities", "a.db", "--format", format]);
        run.expect_code(exit_code::SUCCESS);
        assert!(!run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}') && !run.stdout.contains('\r'));
        assert!(run.stdout.contains("Mallory\\u{1b}[2J\\r\\n"), "{format}: {}", run.stdout);
        assert!(!run.stdout.lines().any(|l| l.trim_start().starts_with("| fake")), "{format}: {}", run.stdout);
    }
    // JSON keeps the value, escaped by JSON.
    let run = env.run(&["identities", "a.db", "--format", "json"]);
    assert!(run.stdout.contains("Mallory\\u001b[2J\\r\\n| fake | row |\\u0007"), "{}", run.stdout);
    // Error lines too.
    let run = env.run(&["access", "a.db", "--principal", "Eve\u{1b}[31m\nerror: forged"]);
    assert!(!run.stderr.contains('\u{1b}') && run.stderr.lines().count() <= 2, "{}", run.stderr);
}

#[test]
fn a_huge_name_is_cut_in_tables() {
    let env = TestEnv::new();
    named(&env, "a.db", &"A".repeat(5_000_000));
    let run = env.run(&["identities", "a.db", "--format", "table"]);
    run.expect_code(exit_code::SUCCESS);
    assert!(run.stdout.len() < 100_000, "{} bytes", run.stdout.len());
    assert!(run.stdout.contains("more characters)"));
    let run = env.run(&["identities", "a.db", "--format", "csv"]);
    assert!(run.stdout.contains(&"A".repeat(5_000_000)), "CSV keeps the value whole");
}

#[cfg(unix)]
#[test]
fn an_unreadable_ignore_file_is_bad_input() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    sample::write_sample(&env.path("a.db"));
    std::fs::write(env.path("secret.txt"), "# rules\n").unwrap();
    std::fs::set_permissions(env.path("secret.txt"), std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(env.path("secret.txt")).is_ok() {
        crate::common::notice("the tests may read any file (root); an unreadable ignore file cannot be made here");
        return;
    }
    let run = env.run(&["diff", "a.db", "a.db", "--ignore", "secret.txt"]);
    run.expect_code(exit_code::BAD_INPUT);
    assert!(run.expect_one_line_error().contains("cannot read"), "{}", run.stderr);
}
