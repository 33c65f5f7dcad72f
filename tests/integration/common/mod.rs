//! Test helpers: `TestEnv` runs the real binary in a temp dir with a fixed clock; `sample` writes small snapshots
//! through the store writer.

pub(crate) mod emulator;
pub(crate) mod hostile;
pub(crate) mod sample;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixed "now" every command under test sees.
pub(crate) const NOW: &str = "2026-11-26T08:00:00Z";

/// A temp directory and a way to run `azsnap` in it with a clean environment.
pub(crate) struct TestEnv {
    dir: tempfile::TempDir,
}

/// What a finished command left behind.
#[derive(Debug)]
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub(crate) fn expect_code(&self, code: u8) -> &Self {
        assert_eq!(
            self.code,
            i32::from(code),
            "unexpected exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that stderr is exactly one `error: …` line and nothing of a panic or backtrace.
    #[track_caller]
    pub(crate) fn expect_one_line_error(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "expected one line on stderr, got:\n{}", self.stderr);
        assert!(lines[0].starts_with("error: "), "not an error line: {}", lines[0]);
        for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
            assert!(!self.stderr.contains(bad), "stderr mentions {bad}: {}", self.stderr);
        }
        lines[0]
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl TestEnv {
    /// `azsnap ARGS` ready to run or spawn, with the clean environment [`TestEnv::run`] uses.
    pub(crate) fn command(&self, args: &[&str], vars: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_azsnap"));
        cmd.args(args)
            .env_clear()
            .env("AZSNAP_NOW", NOW)
            .envs(vars.iter().copied())
            .env("HOME", self.dir.path())
            .current_dir(self.dir.path());
        cmd
    }

    pub(crate) fn new() -> Self {
        TestEnv { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `azsnap ARGS` with no inherited environment, the fixed clock, and the temp dir as working directory.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[])
    }

    /// Like [`TestEnv::run`], with extra environment variables.
    pub(crate) fn run_with_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let out = self.command(args, vars).output().expect("run azsnap");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A review sheet as `azsnap review` writes it, to fill in decisions (the contoso data has no quoted cells).
pub(crate) struct Sheet {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Sheet {
    pub(crate) fn read(path: &Path) -> Sheet {
        let text = std::fs::read_to_string(path).expect("review sheet");
        let mut lines = text.lines().map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>());
        let header = lines.next().expect("header");
        Sheet { header, rows: lines.collect() }
    }

    /// The index of column `name`.
    pub(crate) fn col(&self, name: &str) -> usize {
        self.header.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    /// Sets every row's `decision` to what `decide` says for it (given a cell getter).
    pub(crate) fn decide(&mut self, mut decide: impl FnMut(&dyn Fn(&str) -> String) -> String) {
        let at = self.col("decision");
        let header = self.header.clone();
        for row in &mut self.rows {
            let cell = |name: &str| row[header.iter().position(|c| c == name).expect("column")].clone();
            let d = decide(&cell);
            row[at] = d;
        }
    }

    /// Sets column `name` of every row to `value`.
    pub(crate) fn fill(&mut self, name: &str, value: &str) {
        let at = self.col(name);
        for row in &mut self.rows {
            row[at] = value.to_owned();
        }
    }

    pub(crate) fn write(&self, path: &Path) {
        let lines: Vec<String> = std::iter::once(&self.header).chain(&self.rows).map(|r| r.join(",")).collect();
        std::fs::write(path, lines.join("\r\n")).expect("write sheet");
    }
}

/// Says why a test skipped, past the test harness's capture.
pub(crate) use azsnap_emulator_harness::notice;
