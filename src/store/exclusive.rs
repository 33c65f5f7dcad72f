//! Files azsnap writes under a temporary name and renames into place: created exclusively (`O_EXCL`, so never
//! through a planted link), and locked for as long as the run writes them, so two runs aimed at one output cannot
//! interleave. A partial file left by a killed run is not locked, and is replaced.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// Why a partial file could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum PartialError {
    #[error("{}: another azsnap run is writing it (its partial file {} is locked)", .target.display(), .partial.display())]
    Busy { target: PathBuf, partial: PathBuf },
    #[error("{}: exists and is not a regular file; azsnap will not write through it (remove it)", .0.display())]
    NotRegular(PathBuf),
    #[error("{}: cannot write: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// The partial files this process is writing, so an interrupted command can remove them (and only them).
static WRITING: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// A partial file this process created and is writing: listed for [`remove_interrupted`] until dropped (once
/// the file is renamed into place or removed).
#[derive(Debug)]
pub struct Writing(PathBuf);

impl Writing {
    fn new(path: PathBuf) -> Self {
        if let Ok(mut w) = WRITING.lock() {
            w.push(path.clone());
        }
        Writing(path)
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        if let Ok(mut w) = WRITING.lock()
            && let Some(i) = w.iter().position(|p| *p == self.0)
        {
            w.swap_remove(i);
        }
    }
}

/// Removes every partial file this process is writing (on Ctrl-C, before exiting), never another run's; returns
/// the outputs they were for. The list stays locked: nothing new is started after this.
pub fn remove_interrupted() -> Vec<PathBuf> {
    let Ok(w) = WRITING.lock() else { return Vec::new() };
    let mut targets = Vec::new();
    for p in w.iter() {
        if p.is_dir() {
            let _ = std::fs::remove_dir_all(p);
        } else {
            let _ = std::fs::remove_file(p);
        }
        targets.push(target_of(p));
    }
    std::mem::forget(w);
    targets
}

/// The output a partial file is for (`OUT.partial` → `OUT`).
fn target_of(partial: &Path) -> PathBuf {
    let text = partial.as_os_str().to_string_lossy();
    PathBuf::from(text.strip_suffix(".partial").unwrap_or(&text).to_owned())
}

/// Lists `path` (a directory being written, such as an export's staging directory) for [`remove_interrupted`]
/// until the returned entry is dropped.
pub fn writing(path: &Path) -> Writing {
    Writing::new(path.to_owned())
}

/// `path` with `.partial` appended to its file name.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

/// Creates the partial file of `target`, exclusively, and locks it. The returned handle holds the lock and the
/// [`Writing`] entry: keep both until the file has been renamed to `target` or removed.
pub fn create_partial(target: &Path) -> Result<(File, Writing), PartialError> {
    let partial = partial_path(target);
    let io_err = |source| PartialError::Io { path: partial.clone(), source };
    let busy = || PartialError::Busy { target: target.to_owned(), partial: partial.clone() };
    // Two rounds: a stale partial found in the first is removed, and the second creates it afresh.
    for _ in 0..2 {
        match OpenOptions::new().read(true).write(true).create_new(true).open(&partial) {
            Ok(file) => {
                return match file.try_lock() {
                    Ok(()) => Ok((file, Writing::new(partial.clone()))),
                    Err(TryLockError::WouldBlock) => Err(busy()),
                    Err(TryLockError::Error(e)) => Err(io_err(e)),
                };
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let meta = std::fs::symlink_metadata(&partial).map_err(io_err)?;
                if !meta.file_type().is_file() {
                    return Err(PartialError::NotRegular(partial.clone()));
                }
                // Opened without truncating and never written through: only to learn whether a run holds it.
                let existing = OpenOptions::new().read(true).open(&partial).map_err(io_err)?;
                match existing.try_lock() {
                    Ok(()) => {
                        std::fs::remove_file(&partial).map_err(io_err)?;
                    }
                    Err(TryLockError::WouldBlock) => return Err(busy()),
                    Err(TryLockError::Error(e)) => return Err(io_err(e)),
                }
            }
            Err(e) => return Err(io_err(e)),
        }
    }
    Err(busy())
}

/// Locks `path` (an existing file) for this process until the handle is dropped; `Ok(None)` when another process
/// holds it.
pub fn try_lock(path: &Path) -> io::Result<Option<File>> {
    let file = OpenOptions::new().read(true).open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_are_exclusive_and_stale_ones_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.db");
        let held = create_partial(&target).unwrap();
        assert!(matches!(create_partial(&target), Err(PartialError::Busy { .. })));
        drop(held);
        // Unlocked now: a stale partial of a killed run, replaced.
        std::fs::write(partial_path(&target), b"stale").unwrap();
        let (again, _writing) = create_partial(&target).unwrap();
        assert_eq!(again.metadata().unwrap().len(), 0);
        assert_eq!(target_of(&partial_path(&target)), target);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let target = dir.path().join("out.csv");
        std::os::unix::fs::symlink(&victim, partial_path(&target)).unwrap();
        assert!(matches!(create_partial(&target), Err(PartialError::NotRegular(_))));
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }
}
