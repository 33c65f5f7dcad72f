//! Output files written whole or not at all: `NAME.partial` first (created exclusively and locked, never through a
//! planted link), renamed to `NAME` when complete, removed if the command fails on the way — flushing and renaming
//! included.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::cli::CliError;
use crate::store::exclusive::{create_partial, partial_path};

/// A file being written. Dropping it without [`OutputFile::commit`] deletes the partial file.
pub(super) struct OutputFile {
    path: PathBuf,
    partial: PathBuf,
    writer: Option<BufWriter<File>>,
    committed: bool,
    _writing: crate::store::exclusive::Writing,
}

/// The one-line error for an output path that cannot be written.
pub(super) fn write_error(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("{}: cannot write: {e}", path.display()))
}

/// Refuses an existing output unless `force`.
pub(super) fn check_new(path: &Path, force: bool) -> Result<(), CliError> {
    if !force && path.exists() {
        return Err(CliError::usage(format!("{}: already exists", path.display()))
            .with_hint("choose another name, or pass --force to replace it"));
    }
    Ok(())
}

/// `path` with `suffix` added to its name: `plan.json` → `plan.json.sig`.
pub(super) fn beside(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    std::path::PathBuf::from(p)
}

/// Writes `bytes` to `path` whole or not at all (as `PATH.partial`, renamed when complete).
pub(super) fn write_whole(path: &Path, bytes: &[u8], force: bool) -> Result<(), CliError> {
    let mut file = OutputFile::create(path, force)?;
    file.write_all(bytes).map_err(|e| write_error(path, e))?;
    file.commit()
}

impl OutputFile {
    pub(super) fn create(path: &Path, force: bool) -> Result<Self, CliError> {
        check_new(path, force)?;
        let (file, writing) = create_partial(path).map_err(|e| CliError::usage(e.to_string()))?;
        Ok(OutputFile {
            path: path.to_owned(),
            partial: partial_path(path),
            writer: Some(BufWriter::new(file)),
            committed: false,
            _writing: writing,
        })
    }

    /// Flushes, syncs and renames the file into place. On any failure the partial file is removed (by `Drop`).
    pub(super) fn commit(mut self) -> Result<(), CliError> {
        let err = |e: io::Error| write_error(&self.path, e);
        let Some(w) = self.writer.as_mut() else { return Err(err(io::Error::other("already closed"))) };
        w.flush().map_err(err)?;
        w.get_ref().sync_all().map_err(err)?;
        std::fs::rename(&self.partial, &self.path).map_err(err)?;
        self.committed = true;
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.as_mut().map_or(Ok(0), |w| w.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.partial);
        }
        // The handle (and with it the lock) goes after the partial file is removed or renamed.
        drop(self.writer.take());
    }
}
