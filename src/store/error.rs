//! Errors reading or writing snapshot files. Each names the file; messages read well after "failed to …".

use std::path::PathBuf;

/// What went wrong with a snapshot file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: no such file")]
    NotFound { path: PathBuf },
    #[error("{path}: is a directory, not a snapshot file")]
    NotAFile { path: PathBuf },
    #[error("{path}: not an azsnap snapshot (the file is empty)")]
    Empty { path: PathBuf },
    #[error("{path}: not an azsnap snapshot (not an SQLite database)")]
    NotSqlite { path: PathBuf },
    #[error("{path}: not an azsnap snapshot ({why})")]
    NotSnapshot { path: PathBuf, why: String },
    #[error("{path}: snapshot is truncated ({actual} bytes, its header says {expected})")]
    Truncated { path: PathBuf, actual: u64, expected: u64 },
    #[error("{path}: snapshot is corrupt ({detail})")]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "{path}: snapshot format {found} is newer than this azsnap reads ({supported}.x); upgrade azsnap to read it"
    )]
    TooNew { path: PathBuf, found: String, supported: u32 },
    #[error("{path}: snapshot format {found} is older than this azsnap reads ({supported}.x)")]
    TooOld { path: PathBuf, found: String, supported: u32 },
    #[error("{path}: already exists (choose another name, or allow overwriting)")]
    Exists { path: PathBuf },
    #[error("{path}: cannot write snapshot: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: SQLite error while writing: {source}")]
    WriteSql { path: PathBuf, source: rusqlite::Error },
    #[error(transparent)]
    Partial(#[from] crate::store::exclusive::PartialError),
    #[error("{path}: in use by another azsnap {what} (it is locked); wait for it to finish")]
    InUse { path: PathBuf, what: &'static str },
}

impl StoreError {
    /// Whether the error is about the input file (exit 3) rather than about writing one (exit 2).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            StoreError::Exists { .. }
                | StoreError::Write { .. }
                | StoreError::WriteSql { .. }
                | StoreError::Partial(_)
                | StoreError::InUse { .. }
        )
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, err: rusqlite::Error) -> Self {
        let detail = match &err {
            rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
            other => other.to_string(),
        };
        StoreError::Corrupt { path: path.into(), detail }
    }
}
