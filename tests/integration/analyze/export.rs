//! `azsnap export`: one file per table plus the effective-access view, a manifest whose hashes and row counts
//! match the files, Parquet types that read back as timestamps/booleans/integers in polars (always) and in
//! pyarrow and DuckDB (when Python has them; `.ci/run` installs them), and output written whole or not at all.

use std::collections::BTreeMap;
use std::path::Path;

use azsnap::analyze::export::TABLES;
use azsnap::exit_code;
use polars::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{contoso_snapshot, snap_arg};
use crate::collect::column;
use crate::common::TestEnv;

fn export(env: &TestEnv, dir: &str, format: &str) -> Value {
    env.run(&["export", snap_arg(), "-o", dir, "--format", format]).expect_code(exit_code::SUCCESS);
    serde_json::from_str(&std::fs::read_to_string(env.path(dir).join("manifest.json")).unwrap()).unwrap()
}

fn sha256(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn manifest_names_the_snapshot_and_hashes_every_file() {
    let env = TestEnv::new();
    for format in ["csv", "json", "parquet"] {
        let manifest = export(&env, format, format);
        let fingerprint = column(contoso_snapshot(), "SELECT value FROM meta WHERE key = 'fingerprint'");
        assert_eq!(manifest["snapshot"]["fingerprint"], fingerprint[0].as_str());
        assert_eq!(manifest["snapshot"]["fingerprint_verified"], true);
        assert_eq!(manifest["snapshot"]["tenant_id"], "7c1f3d2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f");
        assert_eq!(manifest["tool_version"], env!("CARGO_PKG_VERSION"));
        let files = manifest["files"].as_array().unwrap();
        let tables: Vec<&str> = files.iter().map(|f| f["table"].as_str().unwrap()).collect();
        assert_eq!(tables, TABLES);
        let mut on_disk: Vec<String> = std::fs::read_dir(env.path(format))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = files.iter().map(|f| f["file"].as_str().unwrap().to_owned()).collect();
        let others = manifest["other_files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned());
        listed.extend(others);
        listed.extend(["manifest.json".to_owned(), "SHA256SUMS".to_owned()]);
        listed.sort();
        assert_eq!(on_disk, listed, "{format}: files on disk and in the manifest differ");
        assert_eq!(manifest["snapshot"]["verified"], true);
        assert_eq!(manifest["allow_unverified"], false);
        // SHA256SUMS: every other file, sorted, in `sha256sum`'s format.
        let sums = std::fs::read_to_string(env.path(format).join("SHA256SUMS")).unwrap();
        let summed: Vec<&str> = sums.lines().map(|l| l.split_once("  ").unwrap().1).collect();
        let expected: Vec<&str> = on_disk.iter().map(String::as_str).filter(|n| *n != "SHA256SUMS").collect();
        assert_eq!(summed, expected);
        for line in sums.lines() {
            let (sha, name) = line.split_once("  ").unwrap();
            assert_eq!(sha, sha256(&env.path(format).join(name)), "{name}");
        }
        for f in files {
            let path = env.path(format).join(f["file"].as_str().unwrap());
            assert_eq!(f["sha256"], sha256(&path).as_str(), "{path:?}");
            assert_eq!(f["bytes"], std::fs::metadata(&path).unwrap().len());
            let table = f["table"].as_str().unwrap();
            if table != "effective_access" {
                let n = column(contoso_snapshot(), &format!("SELECT count(*) FROM {table}"));
                assert_eq!(f["rows"].to_string(), n[0], "{format} {table}");
            }
        }
    }
    // JSON files are arrays of row objects with as many rows as the manifest says.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("json/manifest.json")).unwrap()).unwrap();
    for f in manifest["files"].as_array().unwrap() {
        let rows: Value =
            serde_json::from_str(&std::fs::read_to_string(env.path("json").join(f["file"].as_str().unwrap())).unwrap())
                .unwrap();
        assert_eq!(rows.as_array().unwrap().len() as u64, f["rows"].as_u64().unwrap());
    }
}

#[test]
fn parquet_reads_back_in_polars_with_its_types() {
    let env = TestEnv::new();
    export(&env, "p", "parquet");
    let read = |t: &str| {
        ParquetReader::new(std::fs::File::open(env.path("p").join(format!("{t}.parquet"))).unwrap()).finish().unwrap()
    };
    let utc = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    let principals = read("principals");
    assert_eq!(principals.column("account_enabled").unwrap().dtype(), &DataType::Boolean);
    assert_eq!(principals.column("created_at").unwrap().dtype(), &utc);
    assert_eq!(principals.column("last_sign_in").unwrap().dtype(), &utc);
    assert_eq!(principals.column("id").unwrap().dtype(), &DataType::String);
    let grants = read("grants");
    assert_eq!(grants.column("start_at").unwrap().dtype(), &utc);
    assert_eq!(read("parts").column("objects").unwrap().dtype(), &DataType::Int64);
    assert_eq!(read("role_definitions").column("builtin").unwrap().dtype(), &DataType::Boolean);
    let effective = read("effective_access");
    assert_eq!(effective.column("privileged").unwrap().dtype(), &DataType::Boolean);
    // Values survive: the number of disabled accounts matches the snapshot.
    let enabled = principals.column("account_enabled").unwrap().bool().unwrap().clone();
    let disabled = enabled.len() - enabled.null_count() - enabled.sum().unwrap_or(0) as usize;
    let want = column(contoso_snapshot(), "SELECT count(*) FROM principals WHERE account_enabled = 0");
    assert_eq!(disabled.to_string(), want[0]);
}

#[test]
fn parquet_types_in_pyarrow_and_duckdb() {
    let python = std::env::var("AZSNAP_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let have = std::process::Command::new(&python).args(["-c", "import pyarrow, duckdb"]).output();
    if !have.is_ok_and(|o| o.status.success()) {
        crate::common::notice(&format!(
            "pyarrow/DuckDB check skipped: {python} lacks pyarrow or duckdb (.ci/run installs them)"
        ));
        return;
    }
    let env = TestEnv::new();
    export(&env, "p", "parquet");
    let script = r#"
import json, sys, pyarrow.parquet as pq, duckdb
d = sys.argv[1]
t = pq.read_table(f"{d}/principals.parquet").schema
g = pq.read_table(f"{d}/grants.parquet").schema
out = {
  "pyarrow": {"account_enabled": str(t.field("account_enabled").type), "created_at": str(t.field("created_at").type),
              "start_at": str(g.field("start_at").type)},
  "duckdb": dict(duckdb.sql(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{d}/principals.parquet') "
                            "WHERE column_name IN ('account_enabled', 'created_at', 'id')").fetchall()),
  "disabled": duckdb.sql(f"SELECT count(*) FROM '{d}/principals.parquet' WHERE NOT account_enabled").fetchall()[0][0],
}
print(json.dumps(out))
"#;
    let out =
        std::process::Command::new(&python).args(["-c", script, env.path("p").to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["pyarrow"]["account_enabled"], "bool");
    assert_eq!(got["pyarrow"]["created_at"], "timestamp[us, tz=UTC]");
    assert_eq!(got["pyarrow"]["start_at"], "timestamp[us, tz=UTC]");
    let duck: BTreeMap<String, String> = serde_json::from_value(got["duckdb"].clone()).unwrap();
    assert_eq!(duck["account_enabled"], "BOOLEAN");
    assert_eq!(duck["created_at"], "TIMESTAMP WITH TIME ZONE");
    assert_eq!(duck["id"], "VARCHAR");
    let want = column(contoso_snapshot(), "SELECT count(*) FROM principals WHERE account_enabled = 0");
    assert_eq!(got["disabled"].to_string(), want[0]);
}

#[test]
fn a_non_empty_directory_is_refused_and_force_replaces_only_an_export() {
    let env = TestEnv::new();
    std::fs::create_dir(env.path("mine")).unwrap();
    std::fs::write(env.path("mine/notes.txt"), "keep me").unwrap();
    let run = env.run(&["export", snap_arg(), "-o", "mine"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.starts_with("error: mine: directory is not empty\nhint: "), "{}", run.stderr);
    let run = env.run(&["export", snap_arg(), "-o", "mine", "--force"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.starts_with("error: mine: it is not an azsnap export"), "{}", run.stderr);
    // A directory that merely holds a manifest.json is the user's, not an export: nothing in it is touched.
    std::fs::write(env.path("mine/manifest.json"), r#"{"name": "my project"}"#).unwrap();
    let run = env.run(&["export", snap_arg(), "-o", "mine", "--force"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.contains("its manifest.json has another kind"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(env.path("mine/notes.txt")).unwrap(), "keep me");
    assert_eq!(std::fs::read_to_string(env.path("mine/manifest.json")).unwrap(), r#"{"name": "my project"}"#);
    // An earlier export that someone added a file to: not replaced, the added file kept.
    export(&env, "added", "csv");
    std::fs::write(env.path("added/auditor-notes.txt"), "mine").unwrap();
    let run = env.run(&["export", snap_arg(), "-o", "added", "--force"]);
    run.expect_code(exit_code::USAGE);
    assert!(run.stderr.contains("auditor-notes.txt"), "{}", run.stderr);
    assert!(env.path("added/auditor-notes.txt").exists() && env.path("added/grants.csv").exists());
    export(&env, "out", "csv");
    let run = env.run(&["export", snap_arg(), "-o", "out", "--format", "json"]);
    run.expect_code(exit_code::USAGE);
    env.run(&["export", snap_arg(), "-o", "out", "--format", "json", "--force"]).expect_code(exit_code::SUCCESS);
    assert!(env.path("out/grants.json").exists() && !env.path("out/grants.csv").exists());
    let run = env.run(&["export", "not-a-snapshot.db", "-o", "x"]);
    run.expect_code(exit_code::BAD_INPUT);
    let names: Vec<String> =
        std::fs::read_dir(env.root()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")) && !names.contains(&"x".to_owned()), "{names:?}");
    assert!(names.iter().all(|n| !n.starts_with('.')), "a staging directory was left behind: {names:?}");
}
