//! Sealed PDFs (#28): the city's electronic seal over a completed document as a PAdES
//! baseline signature (ETSI EN 319 142-1: B-B, B-T with an RFC 3161 signature time
//! stamp, B-LT with the validation data in a DSS, B-LTA with a document time stamp over
//! it), added by incremental update together with an evidence page and the
//! verification code on every page; and its verification.
//!
//! - [`seal`], [`seal_with`]: the sealed bytes of a PDF ([`pdf`] builds the update,
//!   [`cms`] the signature, [`archive`] the DSS and the document time stamp,
//!   [`revocation`] the CRLs).
//! - [`keys`]: where the seal's key lives ([`keys::SealKey`]: PKCS#12 file, PKCS#11
//!   token).
//! - [`verify`]: what `paraaf verify` and the public `/verify` page check.
//! - [`evidence`]: what the evidence page states.
#![forbid(unsafe_code)]

pub mod archive;
pub mod cms;
pub mod evidence;
pub mod keys;
pub mod markers;
pub mod pdf;
pub mod pkcs11;
pub mod revocation;
mod text;
pub mod trust;
mod unicode_font;
mod updates;
pub mod verify;

pub use evidence::{Evidence, SignatureLine};
pub use keys::{Pkcs12Key, SealKey};
pub use pkcs11::Pkcs11Key;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fmt;

/// Why a PDF could not be sealed. The message says what an administrator can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError {
    /// The PDF cannot be read or updated (damaged, encrypted, no pages).
    Pdf(String),
    /// The seal's key or certificate cannot be used.
    Key(String),
    /// Building the CMS signature failed.
    Cms(String),
    /// The time-stamp authority did not give a stamp (down, refused, wrong answer): the
    /// document stays waiting for its seal and is tried again.
    Timestamp(String),
    /// The signature needs more room than was reserved (bytes needed).
    TooLarge(usize),
    /// The validation data for B-LT cannot be had (a CRL unreachable or not verifying),
    /// or it says a certificate is revoked.
    Revocation(String),
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::Pdf(m) => write!(f, "the PDF cannot be sealed: {m}"),
            SealError::Key(m) => write!(f, "the seal key: {m}"),
            SealError::Cms(m) => write!(f, "the seal's signature: {m}"),
            SealError::Timestamp(m) => write!(f, "no time stamp for the seal: {m}"),
            SealError::TooLarge(n) => write!(f, "the seal's signature needs {n} bytes"),
            SealError::Revocation(m) => write!(f, "revocation data for the seal: {m}"),
        }
    }
}

impl std::error::Error for SealError {}

/// A time-stamp authority (RFC 3161): given the SHA-256 of the seal's signature value,
/// returns a `TimeStampToken` (the DER of its ContentInfo). The runtime's RFC 3161
/// client implements it.
pub trait Timestamper: Send + Sync {
    /// Stamps `digest`; an error leaves the document waiting for its seal.
    fn stamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, String>;
}

/// How much room the signature gets in the first attempt: the chain, an RSA signature,
/// the attributes and a time stamp with its TSA chain fit in it with room to spare.
const FIRST_RESERVE: usize = 24 * 1024;

/// Seals `original`: appends the evidence page(s), the code on every page and the
/// city's seal signed by `key` at `at`, time-stamped by `tsa` when given (PAdES B-T,
/// else B-B). Returns the sealed file; its first `original.len()` bytes are `original`.
pub fn seal(
    original: &[u8],
    evidence: &Evidence,
    key: &dyn SealKey,
    tsa: Option<&dyn Timestamper>,
    at: DateTime<Utc>,
) -> Result<Vec<u8>, SealError> {
    seal_with(original, evidence, key, tsa, None, at)
}

/// Long-term validation (PAdES B-LT, B-LTA): where revocation data comes from and
/// whether a document time stamp closes the file.
pub struct LongTerm<'a> {
    /// Fetches the CRLs of the seal's and the TSA's certificates.
    pub fetch: &'a dyn revocation::Fetch,
    /// CRL URLs to use instead of the certificates' distribution points (empty: theirs).
    pub crl_urls: &'a [String],
    /// Add a document time stamp after the DSS (B-LTA; needs the TSA).
    pub archive_timestamp: bool,
}

/// As [`seal`]; with `long_term`, the validation data of the seal's chain and of its
/// time stamp's TSA (certificates, CRLs) follow in a DSS (B-LT), then, with a TSA and
/// `archive_timestamp`, a document time stamp over the whole file (B-LTA). A revoked
/// certificate or unreachable revocation data fail the seal.
pub fn seal_with(
    original: &[u8],
    evidence: &Evidence,
    key: &dyn SealKey,
    tsa: Option<&dyn Timestamper>,
    long_term: Option<&LongTerm<'_>>,
    at: DateTime<Utc>,
) -> Result<Vec<u8>, SealError> {
    if let Some(lt) = long_term {
        // The seal certificate's status first: a revoked seal is never made.
        revocation::gather(key.chain(), lt.fetch, lt.crl_urls)?;
    }
    let mut reserve = FIRST_RESERVE;
    let (sealed, cms) = loop {
        let prepared = pdf::prepare(original, evidence, at, reserve)?;
        let mut hasher = Sha256::new();
        for part in prepared.signed_parts() {
            hasher.update(part);
        }
        let digest: [u8; 32] = hasher.finalize().into();
        let stamp = tsa.map(|t| {
            move |signature: &[u8]| -> Result<Vec<u8>, SealError> {
                let d: [u8; 32] = Sha256::digest(signature).into();
                t.stamp(&d).map_err(SealError::Timestamp)
            }
        });
        let cms = cms::sign_detached(&digest, key, stamp.as_ref().map(|s| s as cms::Stamp<'_>))?;
        match prepared.fill(&cms) {
            Err(SealError::TooLarge(n)) if reserve < n + 1024 && n < 1024 * 1024 => {
                reserve = n + 4096;
            }
            Err(e) => return Err(e),
            Ok(bytes) => break (bytes, cms),
        }
    };
    let Some(lt) = long_term else {
        return Ok(sealed);
    };
    let mut certs = key.chain().to_vec();
    certs.extend(revocation::timestamp_certs(&cms));
    let data = revocation::gather(&certs, lt.fetch, lt.crl_urls)?;
    let with_dss = archive::append_dss(sealed, &data)?;
    match tsa {
        Some(tsa) if lt.archive_timestamp => archive::append_doc_timestamp(with_dss, tsa),
        _ => Ok(with_dss),
    }
}

/// A verification code: 12 characters from an alphabet without look-alikes (no 0/O,
/// 1/I/L), in three groups (`K7QF-3M9X-T2PA`), from 12 random bytes the caller draws
/// (60 bits: guessing one is hopeless).
pub fn code_from(random: &[u8; 12]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let chars: Vec<char> = random
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!(
        "{}-{}-{}",
        chars[..4].iter().collect::<String>(),
        chars[4..8].iter().collect::<String>(),
        chars[8..].iter().collect::<String>()
    )
}

/// A code as someone typed it, normalised (upper case, dashes and spaces placed where
/// they belong), or `None` when it cannot be a code.
pub fn normalise_code(typed: &str) -> Option<String> {
    const ALPHABET: &str = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let chars: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.chars().count() != 12 || !chars.chars().all(|c| ALPHABET.contains(c)) {
        return None;
    }
    Some(format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..]))
}

/// A PDF of plain text (a document submitted as text rather than a PDF), so that it
/// can be sealed like any other: A4 pages, the title on the first, each line in
/// Helvetica when WinAnsiEncoding shows all of it, else in an embedded Unicode font
/// (`unicode_font`; an error when none is installed, so nothing is set as `?`). The
/// submitted text itself, byte for byte, is embedded as the attached file
/// `origineel.txt` (PDF/A-3 style: `/EmbeddedFiles` and the catalog's `/AF`, relation
/// `Source`), so the SHA-256 on the evidence page can be recomputed from the PDF.
pub fn text_pdf(title: &str, body: &str) -> Result<Vec<u8>, SealError> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Dictionary, Document, Object, Stream, StringFormat};
    let mut lines: Vec<(bool, String)> = vec![(true, title.to_string()), (false, String::new())];
    for l in body.lines() {
        lines.extend(text::wrap(l, 95).into_iter().map(|t| (false, t)));
    }
    let mut unicode = if lines.iter().all(|(_, t)| unicode_font::win_ansi_shows(t)) {
        None
    } else {
        Some(unicode_font::UnicodeFont::load().map_err(SealError::Pdf)?)
    };
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let regular = doc.add_object(Object::Dictionary(text::font("Helvetica")));
    let bold = doc.add_object(Object::Dictionary(text::font("Helvetica-Bold")));
    let mut page_ops = Vec::new();
    for chunk in lines.chunks(60) {
        let mut ops: Vec<Operation> = Vec::new();
        let mut y = 790.0;
        for (is_bold, t) in chunk {
            match &mut unicode {
                Some(u) if !unicode_font::win_ansi_shows(t) => {
                    ops.extend(u.show(10.0, 50.0, y, t));
                }
                _ => {
                    let font = if *is_bold { text::BOLD } else { text::REGULAR };
                    ops.extend(text::show(font, 10.0, 50.0, y, t));
                }
            }
            y -= 12.5;
        }
        page_ops.push(ops);
    }
    let mut fonts = Dictionary::new();
    fonts.set(text::REGULAR, Object::Reference(regular));
    fonts.set(text::BOLD, Object::Reference(bold));
    if let Some(u) = &unicode {
        let id = u.embed(&mut doc).map_err(SealError::Pdf)?;
        fonts.set(unicode_font::UNICODE, Object::Reference(id));
    }
    let mut kids = Vec::new();
    for ops in page_ops {
        let content = Content { operations: ops }
            .encode()
            .map_err(|e| SealError::Pdf(e.to_string()))?;
        let content_id = doc.add_object(Stream::new(Dictionary::new(), content));
        let mut resources = Dictionary::new();
        resources.set("Font", Object::Dictionary(fonts.clone()));
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Parent", Object::Reference(pages_id));
        page.set("MediaBox", vec![0.into(), 0.into(), 595.into(), 842.into()]);
        page.set("Resources", resources);
        page.set("Contents", Object::Reference(content_id));
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let mut pages = Dictionary::new();
    pages.set("Type", Object::Name(b"Pages".to_vec()));
    pages.set("Count", kids.len() as i64);
    pages.set("Kids", kids);
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    // The submitted text, byte for byte, as an attached file.
    let mut params = Dictionary::new();
    params.set("Size", body.len() as i64);
    let mut ef_dict = Dictionary::new();
    ef_dict.set("Type", Object::Name(b"EmbeddedFile".to_vec()));
    ef_dict.set("Subtype", Object::Name(b"text/plain".to_vec()));
    ef_dict.set("Params", params);
    let ef = doc.add_object(Stream::new(ef_dict, body.as_bytes().to_vec()));
    let mut ef_ref = Dictionary::new();
    ef_ref.set("F", Object::Reference(ef));
    ef_ref.set("UF", Object::Reference(ef));
    let mut spec = Dictionary::new();
    spec.set("Type", Object::Name(b"Filespec".to_vec()));
    spec.set("F", Object::string_literal("origineel.txt"));
    spec.set(
        "UF",
        Object::String(b"origineel.txt".to_vec(), StringFormat::Literal),
    );
    spec.set("EF", ef_ref);
    spec.set("AFRelationship", Object::Name(b"Source".to_vec()));
    spec.set(
        "Desc",
        Object::string_literal("De ingediende tekst / the submitted text (UTF-8)"),
    );
    let spec_id = doc.add_object(spec);
    let mut files = Dictionary::new();
    files.set(
        "Names",
        vec![
            Object::string_literal("origineel.txt"),
            Object::Reference(spec_id),
        ],
    );
    let mut names = Dictionary::new();
    names.set("EmbeddedFiles", files);
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    catalog.set("Names", names);
    catalog.set("AF", vec![Object::Reference(spec_id)]);
    let catalog_id = doc.add_object(catalog);
    doc.trailer.set("Root", Object::Reference(catalog_id));
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| SealError::Pdf(e.to_string()))?;
    Ok(out)
}
