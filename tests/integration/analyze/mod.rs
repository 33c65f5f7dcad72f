//! The offline analyses on collected snapshots.

mod access;
pub(crate) mod diff;
#[cfg(feature = "export")]
mod export;
mod history;
#[cfg(feature = "export")]
mod lake;
mod identities;
mod query;
mod report;
mod review;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use azsnap::exit_code;

use crate::collect::collect;
use crate::common::TestEnv;
use crate::common::emulator::Emu;

/// One collection of the contoso tenant (P2, mailbox settings), shared read-only by the analysis tests.
pub(crate) fn contoso_snapshot() -> &'static Path {
    static SNAP: OnceLock<(TestEnv, PathBuf)> = OnceLock::new();
    &SNAP
        .get_or_init(|| {
            let env = TestEnv::new();
            let emu = Emu::contoso();
            collect(&env, &emu, "contoso.db", &["--mailbox-settings"]).expect_code(exit_code::SUCCESS);
            let path = env.path("contoso.db");
            (env, path)
        })
        .1
}

/// `contoso_snapshot()` as an argument.
pub(crate) fn snap_arg() -> &'static str {
    contoso_snapshot().to_str().expect("utf-8 temp path")
}
