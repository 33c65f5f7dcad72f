//! `azsnap collect` against the emulator: the snapshot holds exactly the tenant file's truth (one expected model,
//! computed from the file), each option changes exactly what it says, faults do not change the result, and
//! failures give the documented exit codes without leaving a file.

mod expected;
mod options;
mod progress;
mod resilience;
mod since;

use azsnap::mock::{EmulatorOptions, TenantFile};

use crate::common::emulator::{Emu, contoso_path};
use crate::common::{Run, TestEnv};

pub(crate) const READER: &str = "a1b2c3d4-0000-4000-8000-000000000001";
pub(crate) const SECRET: &str = "contoso-reader-secret";

/// The reader's credentials for the served tenant.
pub(crate) fn creds(emu: &Emu) -> Vec<(&'static str, String)> {
    vec![
        ("AZURE_TENANT_ID", emu.tenant.clone()),
        ("AZURE_CLIENT_ID", READER.to_owned()),
        ("AZURE_CLIENT_SECRET", SECRET.to_owned()),
    ]
}

/// Runs `azsnap collect --endpoint EMU -o NAME EXTRA…` in `env` with the reader's credentials.
pub(crate) fn collect(env: &TestEnv, emu: &Emu, name: &str, extra: &[&str]) -> Run {
    let vars = creds(emu);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut args = vec!["collect", "--endpoint", emu.base.as_str(), "-o", name];
    args.extend_from_slice(extra);
    env.run_with_env(&args, &vars)
}

pub(crate) fn contoso_with(edit: impl FnOnce(&mut TenantFile), options: EmulatorOptions) -> Emu {
    let mut t = crate::common::emulator::tenant_file(&contoso_path());
    edit(&mut t);
    Emu::serve(t, options)
}

/// Runs SQL returning one text column against a snapshot.
pub(crate) fn column(path: &std::path::Path, sql: &str) -> Vec<String> {
    let snap = azsnap::store::Snapshot::open(path).unwrap();
    let mut stmt = snap.connection().prepare(sql).unwrap();
    stmt.query_map([], |r| r.get::<_, rusqlite::types::Value>(0))
        .unwrap()
        .map(|r| match r.unwrap() {
            rusqlite::types::Value::Null => String::new(),
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Real(f) => f.to_string(),
            rusqlite::types::Value::Text(t) => t,
            rusqlite::types::Value::Blob(_) => "<blob>".to_owned(),
        })
        .collect()
}
