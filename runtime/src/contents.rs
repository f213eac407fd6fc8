//! The documents' content (the PDF a signer reads), addressed by its SHA-256: the event
//! that submits a document records the hash, the bytes live in the content file next to
//! the database (`DB.contents`, [`crate::store::content_file`]; an older database's in its
//! `contents` table), written and synced before the event's commit. Not part of the log
//! (a PDF does not belong in a hash chain), but checked against the logged hash every
//! time it is read, so an altered file is never shown as the document that was signed.
//!
//! Content belongs to documents, never to a hash. Who sent which bytes is recorded with
//! them (`content_owners`, [`put`]); a submission may reference content only its own
//! uploader sent ([`owned`]), and content is read only through a document ([`for_reader`]).

use crate::engine::{Document, RuntimeError, State};
use crate::reads::Reads;
use crate::visibility::may_see;

/// Largest content accepted (a scanned council decision is a few MB).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// Media types accepted: what a browser shows inline without running anything.
pub const MEDIA_TYPES: &[&str] = &["application/pdf", "text/plain"];

/// Content checked and ready to be written with the commit of the command that
/// references it (push it on [`crate::engine::Emitter::contents`] before the command):
/// a refused submission writes nothing, and a commit that fails leaves bytes no event
/// refers to, never served and collected later ([`crate::store::content_file`]).
#[derive(Clone, Debug)]
pub struct Staged {
    /// SHA-256 of `body` (hex).
    pub sha256: String,
    /// One of [`MEDIA_TYPES`].
    pub media_type: &'static str,
    /// The bytes.
    pub body: Vec<u8>,
    /// Who sent them.
    pub owner: String,
    /// Where the bytes already lie in the content file, synced, when the content writer
    /// stored them ahead of the command ([`crate::store::content_writer`]); `body` is
    /// then empty and the commit only records the row. `None`: the commit writes `body`.
    pub row: Option<i64>,
}

/// Checks content sent by `owner` (a PDF or UTF-8 text, at most [`MAX_BYTES`]) and
/// stages it for the command's transaction.
pub fn stage(owner: &str, body: Vec<u8>) -> Result<Staged, RuntimeError> {
    let Some(media_type) = media_type_of(&body) else {
        return Err(RuntimeError::Invalid(
            "the content is neither a PDF nor UTF-8 text".into(),
        ));
    };
    check(media_type, &body)?;
    Ok(Staged {
        sha256: crate::sha256_hex(&body),
        media_type,
        body,
        owner: owner.to_string(),
        row: None,
    })
}

fn check(media_type: &str, body: &[u8]) -> Result<(), RuntimeError> {
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
    Ok(())
}

/// Puts `body` in the store `db` (a [`Reads`] or a SQLite file's path; the schema must
/// exist: open the runtime first) in a transaction of its own, recording that `owner` uploaded it; returns its
/// SHA-256. Storing the same content twice is one row. For content no event refers to
/// (a sealed PDF, the demo); a submission's content goes through [`stage`] instead.
pub fn put(
    db: impl Into<Reads>,
    owner: &str,
    media_type: &str,
    body: &[u8],
) -> Result<String, RuntimeError> {
    check(media_type, body)?;
    let sha = crate::sha256_hex(body);
    db.into().put_content(&sha, media_type, body, owner)?;
    Ok(sha)
}

/// Reads content by hash through a read-only connection; `None` when it is not stored.
/// Refuses (as tampered) content whose bytes no longer match the hash. Private: content
/// is read through a document ([`for_reader`]), never by a hash someone gives.
fn get(db: &Reads, sha256: &str) -> Result<Option<(String, Vec<u8>)>, RuntimeError> {
    let row = db.read_content(sha256)?;
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
pub fn owned(db: impl Into<Reads>, sha256: &str, person: &str) -> Result<bool, RuntimeError> {
    db.into().owns_content(sha256, person)
}

/// Whether a person uploaded the content with this SHA-256 themselves under one of their
/// ids (`ids`: [`State::ids_of`], so a rename keeps it theirs; see [`owned`]).
pub fn owned_by_any(
    db: impl Into<Reads>,
    sha256: &str,
    ids: &[String],
) -> Result<bool, RuntimeError> {
    let db = db.into();
    for id in ids {
        if db.owns_content(sha256, id)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `reader` may read the content of document `d` (without reading it); see
/// [`for_reader`].
pub fn readable(
    state: &State,
    db: impl Into<Reads>,
    reader: &str,
    d: &Document,
) -> Result<bool, RuntimeError> {
    Ok(may_see(state, reader, &d.id)
        && owned_by_any(db, &d.content_sha256, &state.ids_of(&d.uploader))?)
}

/// The content of document `doc` as `reader` may read it: `None` (answered exactly like
/// a missing document) unless both of these hold:
///
/// 1. `reader` may see `doc` (`may_see`; the document, never the hash, is what is read);
/// 2. `doc`'s uploader sent those bytes themselves (`content_owners`): the submit paths
///    (CLI, API, web) accept a hash only from whoever uploaded its bytes, and this checks
///    it again, so a document that references someone else's content by its hash (one
///    submitted before that check, or through a path that forgot it) shows nothing.
///
/// Nothing else counts: what other documents hold, hidden or not, never changes the
/// answer (a refusal because a hidden document holds the same bytes would tell the
/// uploader that such a document exists). Older databases own content by the uploader
/// of the first document that referenced it (the migration), so a later copy by its
/// hash alone still fails 2.
///
/// Refuses (as tampered) content whose bytes no longer match the hash.
pub fn for_reader(
    state: &State,
    db: impl Into<Reads>,
    reader: &str,
    doc: &str,
) -> Result<Option<(String, Vec<u8>)>, RuntimeError> {
    let Some(d) = state.documents.get(doc) else {
        return Ok(None);
    };
    let db = db.into();
    if !readable(state, &db, reader, d)? {
        return Ok(None);
    }
    get(&db, &d.content_sha256)
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
