//! Writing a service's output files: a folder proven writable before anything is
//! committed, and files replaced atomically.

use super::AppError;
use std::path::Path;

/// Creates `dir` and proves it writable, before anything is committed.
pub fn ensure_writable(dir: &Path) -> Result<(), AppError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::Input(format!("cannot create {}: {e}", dir.display())))?;
    let probe = dir.join(".paraaf-write-test");
    std::fs::write(&probe, b"")
        .map_err(|e| AppError::Input(format!("cannot write in {}: {e}", dir.display())))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Writes through a temporary file and a rename: a reader sees the old file or the new one.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), AppError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .map_err(|e| AppError::Input(format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| AppError::Input(format!("cannot write {}: {e}", path.display())))
}
