//! The documents' content (the PDF a signer reads), addressed by its SHA-256: the event
//! that submits a document records the hash, the bytes live in the `contents` table of
//! the same database. Not part of the log (a PDF does not belong in a hash chain), but
//! checked against the logged hash every time it is read, so an altered file is never
//! shown as the document that was signed.

use crate::engine::RuntimeError;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
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
    let conn = Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute(
        "INSERT OR IGNORE INTO contents (sha256, media_type, body) VALUES (?1, ?2, ?3)",
        params![sha, media_type, body],
    )?;
    Ok(sha)
}

/// Reads content by hash through a read-only connection; `None` when it is not stored.
/// Refuses (as tampered) content whose bytes no longer match the hash.
pub fn get(db: &Path, sha256: &str) -> Result<Option<(String, Vec<u8>)>, RuntimeError> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let row: Option<(String, Vec<u8>)> = conn
        .query_row(
            "SELECT media_type, body FROM contents WHERE sha256 = ?1",
            [sha256],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        Some((_, body)) if crate::sha256_hex(&body) != sha256 => Err(RuntimeError::Tampered(
            format!("the stored content {sha256} does not match its hash"),
        )),
        other => Ok(other),
    }
}

/// Whether content with this hash is stored (without reading it).
pub fn has(db: &Path, sha256: &str) -> Result<bool, RuntimeError> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    Ok(conn
        .query_row("SELECT 1 FROM contents WHERE sha256 = ?1", [sha256], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
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
