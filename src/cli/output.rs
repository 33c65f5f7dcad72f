//! Output files written whole or not at all: `NAME.partial` first, renamed to `NAME` when complete, removed if the
//! command fails on the way.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::cli::CliError;

/// A file being written. Dropping it without [`OutputFile::commit`] deletes the partial file.
pub struct OutputFile {
    path: PathBuf,
    partial: PathBuf,
    writer: Option<BufWriter<File>>,
}

/// `path` with `.partial` appended to its file name.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

/// The one-line error for an output path that cannot be written.
pub fn write_error(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("{}: cannot write: {e}", path.display()))
}

/// Refuses an existing output unless `force`.
pub fn check_new(path: &Path, force: bool) -> Result<(), CliError> {
    if !force && path.exists() {
        return Err(CliError::usage(format!("{}: already exists", path.display()))
            .with_hint("choose another name, or pass --force to replace it"));
    }
    Ok(())
}

impl OutputFile {
    pub fn create(path: &Path, force: bool) -> Result<Self, CliError> {
        check_new(path, force)?;
        let partial = partial_path(path);
        let file = File::create(&partial).map_err(|e| write_error(path, e))?;
        Ok(OutputFile { path: path.to_owned(), partial, writer: Some(BufWriter::new(file)) })
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<(), CliError> {
        let err = |e: io::Error| write_error(&self.path, e);
        if let Some(w) = self.writer.take() {
            let file = w.into_inner().map_err(|e| err(e.into_error()))?;
            file.sync_all().map_err(err)?;
        }
        std::fs::rename(&self.partial, &self.path).map_err(err)
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
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}
