//! The documents' content (the PDF a signer reads), addressed by its SHA-256: the event
//! that submits a document records the hash, the bytes live in the `contents` table of
//! the same database. Not part of the log (a PDF does not belong in a hash chain), but
//! checked against the logged hash every time it is read, so an altered file is never
//! shown as the document that was signed.

use crate::engine::RuntimeError;
use crate::store::{has_content, put_content, read_content};
use std::path::Path;

/// Largest content accepted (a scanned council decision is a few MB).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// Media types accepted: what a browser shows inline without running anything.
pub const MEDIA_TYPES: &[&str] = &["application/pdf", "text/plain"];

/// Puts `body` in the database at `db` (the schema must exist: open the runtime
/// first); returns its SHA-256. Storing the same content twice is one row.
pub fn put(db: &Path, media_type: &str, body: &[u8]) -> Result<String, RuntimeError> {
    if !MEDIA_TYPES.contains(&media_type) {
        return Err(RuntimeError::Invalid(format!(
            "content of type `{media_type}` is not accepted (only {})",
            MEDIA_TYPES.join(", ")
        )));
    }
    if body.len() > MAX_BYTES {
        return Err(RuntimeError::Invalid(format!(
            "the content is {} bytes; at most {MAX_BYTES} are accepted",
            body.len()
        )));
    }
    let sha = crate::sha256_hex(body);
    put_content(db, &sha, media_type, body)?;
    Ok(sha)
}

/// Reads content by hash through a read-only connection; `None` when it is not stored.
/// Refuses (as tampered) content whose bytes no longer match the hash.
pub fn get(db: &Path, sha256: &str) -> Result<Option<(String, Vec<u8>)>, RuntimeError> {
    let row = read_content(db, sha256)?;
    match row {
        Some((_, body)) if crate::sha256_hex(&body) != sha256 => Err(RuntimeError::Tampered(
            format!("the stored content {sha256} does not match its hash"),
        )),
        other => Ok(other),
    }
}

/// Whether content with this hash is stored (without reading it).
pub fn has(db: &Path, sha256: &str) -> Result<bool, RuntimeError> {
    has_content(db, sha256)
}

/// The media type of content the app can show: a PDF (`%PDF-`), or UTF-8 text.
pub fn media_type_of(body: &[u8]) -> Option<&'static str> {
    if body.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if std::str::from_utf8(body).is_ok() {
        Some("text/plain")
    } else {
        None
    }
}
