//! The documents' content (the PDF a signer reads), addressed by its SHA-256: the event
//! that submits a document records the hash, the bytes live in the `contents` table of
//! the same database. Not part of the log (a PDF does not belong in a hash chain), but
//! checked against the logged hash every time it is read, so an altered file is never
//! shown as the document that was signed.
//!
//! Content belongs to documents, never to a hash. Who sent which bytes is recorded with
//! them (`content_owners`, [`put`]); a submission may reference content only its own
//! uploader sent ([`owned`]), and content is read only through a document ([`for_reader`]).

use crate::engine::{Document, RuntimeError, State};
use crate::store::{owns_content, put_content, read_content};
use crate::visibility::may_see;
use std::path::Path;

/// Largest content accepted (a scanned council decision is a few MB).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// Media types accepted: what a browser shows inline without running anything.
pub const MEDIA_TYPES: &[&str] = &["application/pdf", "text/plain"];

/// Puts `body` in the database at `db` (the schema must exist: open the runtime
/// first), recording that `owner` uploaded it; returns its SHA-256. Storing the same
/// content twice is one row.
pub fn put(db: &Path, owner: &str, media_type: &str, body: &[u8]) -> Result<String, RuntimeError> {
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
    put_content(db, &sha, media_type, body, owner)?;
    Ok(sha)
}

/// Reads content by hash through a read-only connection; `None` when it is not stored.
/// Refuses (as tampered) content whose bytes no longer match the hash. Private: content
/// is read through a document ([`for_reader`]), never by a hash someone gives.
fn get(db: &Path, sha256: &str) -> Result<Option<(String, Vec<u8>)>, RuntimeError> {
    let row = read_content(db, sha256)?;
    match row {
        Some((_, body)) if crate::sha256_hex(&body) != sha256 => Err(RuntimeError::Tampered(
            format!("the stored content {sha256} does not match its hash"),
        )),
        other => Ok(other),
    }
}

/// The answer to a submission that references content by its hash alone, when its
/// uploader did not send those bytes themselves: the same whether or not anyone did, so
/// it tells nothing about which content exists.
pub const NOT_YOURS: &str = "no content with this SHA-256 was uploaded by you; send the content itself (`content` or `content_base64`), not only its hash";

/// Whether `person` uploaded the content with this SHA-256 themselves (its bytes, not
/// only its hash). A submission may reference stored content only then.
pub fn owned(db: &Path, sha256: &str, person: &str) -> Result<bool, RuntimeError> {
    owns_content(db, sha256, person)
}

/// Whether `reader` may read the content of document `d` (without reading it); see
/// [`for_reader`].
pub fn readable(
    state: &State,
    db: &Path,
    reader: &str,
    d: &Document,
) -> Result<bool, RuntimeError> {
    Ok(may_see(state, reader, &d.id)
        && owns_content(db, &d.content_sha256, &d.uploader)?
        && !first_brought_in_out_of_sight(state, reader, d))
}

/// The content of document `doc` as `reader` may read it: `None` (answered exactly like
/// a missing document) unless all of these hold:
///
/// 1. `reader` may see `doc` (`may_see`; the document, never the hash, is what is read);
/// 2. `doc`'s uploader sent those bytes themselves (`content_owners`): the submit paths
///    (CLI, API, web) accept a hash only from whoever uploaded its bytes, and this checks
///    it again, so a document that references someone else's content by its hash (one
///    submitted before that check, or through a path that forgot it) shows nothing;
/// 3. no document submitted earlier with the same content, by someone else, is hidden
///    from `reader`. Ownership says the uploader *had* the bytes; this second line holds
///    even when the ownership record is wrong (older databases own content by the first
///    uploader who referenced it, which the migration can only infer): content that came
///    into the system through a document the reader may not see (a shielded file) is not
///    shown through a later copy by another uploader. The uploader's own earlier
///    documents do not count (a document sent back and submitted again with its PDF).
///    Two people who each really hold the same bytes, one behind a shield, cost the
///    later one's readers the preview; never the other way round.
///
/// Refuses (as tampered) content whose bytes no longer match the hash.
pub fn for_reader(
    state: &State,
    db: &Path,
    reader: &str,
    doc: &str,
) -> Result<Option<(String, Vec<u8>)>, RuntimeError> {
    let Some(d) = state.documents.get(doc) else {
        return Ok(None);
    };
    if !readable(state, db, reader, d)? {
        return Ok(None);
    }
    get(db, &d.content_sha256)
}

/// Whether a document with the same content as `d`, submitted before it by another
/// uploader, is hidden from `reader`.
fn first_brought_in_out_of_sight(state: &State, reader: &str, d: &Document) -> bool {
    let submitted = d.events.first().copied().unwrap_or(0);
    state.documents.values().any(|e| {
        e.content_sha256 == d.content_sha256
            && e.uploader != d.uploader
            && e.events.first().copied().unwrap_or(0) < submitted
            && !may_see(state, reader, &e.id)
    })
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
