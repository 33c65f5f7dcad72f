//! Reading the small input files azsnap is given (plans, review sheets, ignore files, tenant files, SQL, secrets):
//! regular files only — a FIFO or device would hang or never end — and no larger than a limit, so a wrong path
//! is one clear error instead of a hang or an exhausted memory.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Why an input file cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {why}", .path.display())]
pub struct FileError {
    pub path: PathBuf,
    pub why: String,
}

const MIB: u64 = 1 << 20;

/// The bytes of the regular file at `path`, if it holds at most `limit` bytes.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let fail = |why: String| FileError { path: path.to_owned(), why };
    let meta = std::fs::metadata(path).map_err(|e| {
        fail(if e.kind() == std::io::ErrorKind::NotFound {
            "no such file".to_owned()
        } else {
            format!("cannot read: {e}")
        })
    })?;
    if meta.is_dir() {
        return Err(fail("is a directory, not a file".to_owned()));
    }
    if !meta.is_file() {
        return Err(fail("not a regular file (a FIFO, socket or device); give a file".to_owned()));
    }
    let too_large = || fail(format!("larger than the {} MiB azsnap reads from such a file", limit.div_ceil(MIB)));
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    std::fs::File::open(path)
        .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes))
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read`] as UTF-8 text, without a leading byte-order mark.
pub fn read_text(path: &Path, limit: u64) -> Result<String, FileError> {
    let bytes = read(path, limit)?;
    let text = String::from_utf8(bytes).map_err(|e| FileError {
        path: path.to_owned(),
        why: format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()),
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// Limits of the inputs (bytes).
pub mod limit {
    pub const PLAN: u64 = 256 << 20;
    pub const REVIEW_SHEET: u64 = 4 << 30;
    pub const IGNORE: u64 = 4 << 20;
    pub const SQL: u64 = 4 << 20;
    pub const SECRET: u64 = 64 << 10;
    pub const TENANT: u64 = 16 << 30;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_regular_utf8_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok");
        std::fs::write(&ok, "\u{feff}hello").unwrap();
        assert_eq!(read_text(&ok, 100).unwrap(), "hello");
        assert!(read_text(&ok, 3).unwrap_err().why.contains("larger than"));
        assert!(read_text(dir.path(), 100).unwrap_err().why.contains("directory"));
        assert!(read_text(&dir.path().join("none"), 100).unwrap_err().why.contains("no such file"));
        let bad = dir.path().join("bad");
        std::fs::write(&bad, [b'a', 0xff, 0xfe]).unwrap();
        assert!(read_text(&bad, 100).unwrap_err().why.contains("not UTF-8"));
        #[cfg(unix)]
        assert!(read_text(Path::new("/dev/zero"), 100).unwrap_err().why.contains("not a regular file"));
    }
}
