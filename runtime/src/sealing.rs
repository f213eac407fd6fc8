//! Sealing completed documents (#28): when a document's flow completes, the server makes
//! its sealed PDF (the original bytes, an evidence page, the verification code on every
//! page, and the city's PAdES seal, time-stamped by the configured TSA; `paraaf-seal`),
//! stores it as content of the document, then records `document_sealed`. A seal that
//! cannot be made (the TSA is down) leaves the document completed and waiting
//! ([`State::waiting_for_seal`]); inside `serve` the scheduler tries again at start-up,
//! after completions and after a back-off on the server's clock
//! (`crate::schedule::seals`), so no seal is lost.
//!
//! The configuration is a TOML file (`serve --seal-config`, `paraaf seal --config`, or
//! `PARAAF_SEAL_CONFIG`); see `docs/sealing.md`.

pub mod names;
pub mod page;
pub mod revocation;

use crate::engine::{Document, RuntimeError, State};
use crate::reads::Reads;
use crate::tsa;
use chrono::{DateTime, Utc};
use paraaf_seal::verify::TimestampCheck;
use paraaf_seal::{Evidence, Pkcs12Key, SealKey, SignatureLine, Timestamper};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Who owns the sealed PDFs in content storage (not a person: the server made them).
pub const SEAL_OWNER: &str = "paraaf:seal";

/// The `[seal]` table of the seal configuration file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SealToml {
    seal: SealSection,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SealSection {
    /// The city as the evidence page names it (`Stad Aalst`).
    city: String,
    /// A PKCS#12 file with the seal's key and certificate chain.
    pkcs12: Option<PathBuf>,
    /// The file holding the PKCS#12 password (first line).
    password_file: Option<PathBuf>,
    /// The RFC 3161 time-stamp authority (PAdES B-T); without it seals are B-B.
    tsa_url: Option<String>,
    /// PEM certificates trusted for the seal's chain and the TSA (verification).
    trust: Option<PathBuf>,
    /// The public verification page printed on every page.
    verify_url: Option<String>,
    /// The seal's key on a PKCS#11 token (an HSM) instead of a PKCS#12 file.
    pkcs11: Option<Pkcs11Section>,
    /// Long-term validation data (B-LT) and the document time stamp (B-LTA).
    revocation: Option<revocation::RevocationSection>,
}

/// `[seal.pkcs11]`: the token that holds the seal's key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pkcs11Section {
    /// The PKCS#11 module (`/usr/lib/softhsm/libsofthsm2.so`, the HSM vendor's `.so`).
    module: PathBuf,
    /// The token's label.
    token: String,
    /// The private key's label on the token.
    key_label: String,
    /// The file holding the user PIN (first line).
    pin_file: PathBuf,
    /// PEM file: the seal's certificate, then its issuers.
    chain: PathBuf,
}

/// How the server seals: the key, the TSA, what it trusts, the words on the page.
pub struct SealConfig {
    /// The city as the evidence page names it.
    pub city: String,
    /// The seal's key.
    pub key: Arc<dyn SealKey>,
    /// The TSA's URL (B-T), if any.
    pub tsa_url: Option<String>,
    /// Trusted roots (the seal's chain and the TSA's), for stamps and verification.
    pub trust_pem: Option<Vec<u8>>,
    /// The public verification page.
    pub verify_url: Option<String>,
    /// Long-term validation (B-LT, B-LTA), when configured and enabled.
    pub revocation: Option<revocation::RevocationSection>,
}

impl SealConfig {
    /// Reads the seal configuration file at `path` (paths in it are relative to it).
    pub fn load(path: &Path) -> Result<SealConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the seal configuration {}: {e}", path.display()))?;
        let t: SealToml = toml::from_str(&text)
            .map_err(|e| format!("the seal configuration {}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rel = |p: &Path| base.join(p);
        let s = t.seal;
        let first_line = |f: &Path, what: &str| {
            std::fs::read_to_string(rel(f))
                .map(|t| t.lines().next().unwrap_or("").to_string())
                .map_err(|e| format!("cannot read the seal's {what} file: {e}"))
        };
        let key: Arc<dyn SealKey> = match (&s.pkcs12, &s.pkcs11) {
            (Some(p12), None) => {
                let password = match &s.password_file {
                    Some(f) => first_line(f, "password")?,
                    None => String::new(),
                };
                Arc::new(Pkcs12Key::from_file(&rel(p12), &password).map_err(|e| e.to_string())?)
            }
            (None, Some(t)) => {
                let pin = first_line(&t.pin_file, "PIN")?;
                let chain = std::fs::read(rel(&t.chain))
                    .map_err(|e| format!("cannot read the seal's certificate chain: {e}"))?;
                Arc::new(
                    paraaf_seal::Pkcs11Key::open(&t.module, &t.token, &t.key_label, &pin, &chain)
                        .map_err(|e| e.to_string())?,
                )
            }
            _ => {
                return Err(format!(
                    "the seal configuration {} must name one key: `pkcs12 = \"seal.p12\"` with `password_file`, or a `[seal.pkcs11]` table",
                    path.display()
                ));
            }
        };
        let trust_pem = match &s.trust {
            Some(f) => Some(
                std::fs::read(rel(f))
                    .map_err(|e| format!("cannot read the trusted certificates: {e}"))?,
            ),
            None => None,
        };
        Ok(SealConfig {
            city: s.city,
            key,
            tsa_url: s.tsa_url,
            trust_pem,
            verify_url: s.verify_url,
            revocation: s.revocation.filter(|r| r.enabled),
        })
    }

    /// The configuration named by `PARAAF_SEAL_CONFIG`, if set.
    pub fn from_env() -> Result<Option<SealConfig>, String> {
        match std::env::var_os("PARAAF_SEAL_CONFIG") {
            Some(p) if !p.is_empty() => SealConfig::load(Path::new(&p)).map(Some),
            _ => Ok(None),
        }
    }
}

/// The configured TSA, through the runtime's RFC 3161 client (`tsa.rs`): the token is
/// checked against the trusted roots before it goes into a seal.
pub struct TsaClient {
    /// The TSA's URL.
    pub url: String,
    /// The TSAs trusted (when configured, a token that does not verify is refused).
    pub trust: Option<tsa::Trust>,
}

impl Timestamper for TsaClient {
    fn stamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, String> {
        let token = tsa::request(&self.url, digest).map_err(|e| e.to_string())?;
        if let Some(trust) = &self.trust {
            token.verify(digest, trust).map_err(|e| e.to_string())?;
        }
        Ok(token.der().to_vec())
    }
}

/// Checks a seal's time stamp with the runtime's RFC 3161 client against `trust`.
pub struct TsaCheck(pub tsa::Trust);

impl TimestampCheck for TsaCheck {
    fn check(&self, token: &[u8], digest: &[u8; 32]) -> Result<DateTime<Utc>, String> {
        let token = tsa::Token::from_der(token).map_err(|e| e.to_string())?;
        token
            .verify(digest, &self.0)
            .map(|t| t.time)
            .map_err(|e| e.to_string())
    }
}

/// A person's name as the organogram in force at event `seq` gave it (else as today's
/// does, else the id).
fn name_at(history: &names::OrgHistory, state: &State, seq: u64, id: &str) -> String {
    match history.at(seq) {
        Some(org) if org.is_person(id) => org.name(id).to_string(),
        _ => state
            .current()
            .map_or(id.to_string(), |(_, d)| d.org.name(id).to_string()),
    }
}

/// A role's label as the organogram in force at event `seq` named it.
fn role_at(history: &names::OrgHistory, state: &State, seq: u64, role: &str) -> String {
    match history.at(seq) {
        Some(org) => org.role_name(role),
        None => state
            .current()
            .map_or(role.to_string(), |(_, d)| d.org.role_name(role)),
    }
}

/// What the evidence page of `d` states: the signatures from its log (who, for whom, in
/// which role and step, when, each named as the organogram in force when it was made:
/// [`names::OrgHistory`]), its flow and version, and the hash of the event that
/// completed it. The events are verified up to `trust` (see [`crate::trusted_history`]):
/// a signature rewritten under the server is never sealed.
pub fn evidence(
    state: &State,
    db: &Reads,
    trust: &crate::trusted_history::Trust,
    d: &Document,
    city: &str,
    code: &str,
    verify_url: Option<&str>,
) -> Result<Evidence, RuntimeError> {
    use crate::engine::Event;
    let events = crate::trusted_history::read_events(db, &d.events, trust)?;
    let history = names::OrgHistory::load(db, d.events.last().copied().unwrap_or(0), trust)?;
    let flow = state
        .deployment(d.version)
        .and_then(|dep| dep.flow(&d.flow));
    let mut signatures = Vec::new();
    let mut completed = None;
    // The uploader as the submission names them (the fold follows later renames).
    let submitter = events
        .iter()
        .find_map(|(_, _, e)| match e {
            Event::DocumentSubmitted { uploader, .. } => Some(uploader.clone()),
            _ => None,
        })
        .unwrap_or_else(|| d.uploader.clone());
    for (seq, at, event) in &events {
        let at: DateTime<Utc> = at.parse().unwrap_or(d.submitted_at);
        match event {
            Event::Signed {
                task, by, for_whom, ..
            } => {
                let t = d.tasks.iter().find(|t| &t.spec.id == task);
                let step = t
                    .and_then(|t| flow.and_then(|f| f.steps.get(t.step)))
                    .map_or_else(|| "?".to_string(), |s| s.name.clone());
                signatures.push(SignatureLine {
                    step,
                    signer: name_at(&history, state, *seq, by),
                    for_whom: for_whom.as_ref().map(|f| name_at(&history, state, *seq, f)),
                    role: t.map_or_else(String::new, |t| {
                        role_at(&history, state, *seq, &t.spec.role)
                    }),
                    at,
                });
            }
            Event::DocumentCompleted { .. } => completed = Some((*seq, at)),
            _ => {}
        }
    }
    let (seq, completed_at) = completed
        .ok_or_else(|| RuntimeError::Invalid(format!("document {} has not completed", d.id)))?;
    let log_sha256 = db.event_hash(seq)?.unwrap_or_default();
    Ok(Evidence {
        city: city.to_string(),
        title: d.title.clone(),
        document: d.id.clone(),
        kind: d.kind.clone(),
        flow: d.flow.clone(),
        version: d.version,
        rule: None,
        submitted_by: name_at(
            &history,
            state,
            d.events.first().copied().unwrap_or(0),
            &submitter,
        ),
        submitted_at: d.submitted_at,
        completed_at,
        signatures,
        document_sha256: d.content_sha256.clone(),
        log_seq: seq,
        log_sha256,
        code: code.to_string(),
        verify_url: verify_url.map(str::to_string),
    })
}

/// A new verification code (60 random bits).
pub fn new_code() -> Result<String, RuntimeError> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes)
        .map_err(|e| RuntimeError::Storage(format!("no random source for a code: {e}")))?;
    Ok(paraaf_seal::code_from(&bytes))
}

/// A seal made and stored, not yet recorded.
#[derive(Clone, Debug)]
pub struct Made {
    /// The document.
    pub doc: String,
    /// SHA-256 of the sealed PDF (stored as content).
    pub sha256: String,
    /// Its verification code.
    pub code: String,
    /// Whether it carries a time stamp.
    pub timestamped: bool,
}

/// Makes the sealed PDF of completed document `doc` and stores it as content (owned by
/// [`SEAL_OWNER`]); the caller records it ([`crate::engine::Emitter::record_seal`]).
/// Content submitted as text is set in a PDF first.
pub fn make(
    state: &State,
    db: &Reads,
    trust: &crate::trusted_history::Trust,
    cfg: &SealConfig,
    doc: &str,
    now: DateTime<Utc>,
) -> Result<Made, String> {
    let d = state
        .documents
        .get(doc)
        .ok_or_else(|| format!("no document {doc}"))?;
    let (media, body) = db
        .read_content(&d.content_sha256)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "the content of {doc} is not stored (only its hash was recorded); nothing to seal"
            )
        })?;
    if crate::sha256_hex(&body) != d.content_sha256 {
        return Err(format!(
            "the stored content of {doc} does not match its hash: not sealed (run `paraaf audit verify`)"
        ));
    }
    let original = if media == "application/pdf" {
        body
    } else {
        paraaf_seal::text_pdf(&d.title, &String::from_utf8_lossy(&body))
            .map_err(|e| e.to_string())?
    };
    let code = loop {
        let c = new_code().map_err(|e| e.to_string())?;
        if state.sealed_with_code(&c).is_none() {
            break c;
        }
    };
    let ev = evidence(
        state,
        db,
        trust,
        d,
        &cfg.city,
        &code,
        cfg.verify_url.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    let trust = match &cfg.trust_pem {
        Some(pem) => Some(tsa::Trust::from_pem(pem).map_err(|e| e.to_string())?),
        None => None,
    };
    let client = cfg.tsa_url.as_ref().map(|url| TsaClient {
        url: url.clone(),
        trust,
    });
    let long_term = cfg.revocation.as_ref().map(|r| paraaf_seal::LongTerm {
        fetch: &revocation::HttpFetch,
        crl_urls: &r.crl_urls,
        archive_timestamp: r.archive_timestamp,
    });
    let sealed = paraaf_seal::seal_with(
        &original,
        &ev,
        cfg.key.as_ref(),
        client.as_ref().map(|c| c as &dyn Timestamper),
        long_term.as_ref(),
        now,
    )
    .map_err(|e| e.to_string())?;
    check_made(&sealed, cfg)?;
    let sha256 = crate::sha256_hex(&sealed);
    db.put_content(&sha256, "application/pdf", &sealed, SEAL_OWNER)
        .map_err(|e| e.to_string())?;
    Ok(Made {
        doc: doc.to_string(),
        sha256,
        code,
        timestamped: client.is_some(),
    })
}

/// Checks a sealed PDF just made with the verifier of `paraaf verify` (attack finding
/// 05): intact, the seal certificate valid at the time stamp's time (else now) and
/// chained to the configured `trust` (without it, to the root of the key's own chain:
/// then only its validity and integrity are checked), not revoked by the CRLs in the
/// file or fetched, and the time stamp holding. A seal that would verify INVALID is
/// refused with the verifier's reasons: it is neither stored nor recorded, and the
/// document keeps waiting for its seal (the scheduler retries with back-off).
pub fn check_made(sealed: &[u8], cfg: &SealConfig) -> Result<(), String> {
    use paraaf_seal::trust::Anchors;
    let anchors = match &cfg.trust_pem {
        Some(pem) => Anchors::from_pem(pem)?,
        None => Anchors::from_certs(cfg.key.chain().last().cloned().into_iter().collect()),
    };
    let tsa = match (&cfg.trust_pem, &cfg.tsa_url) {
        (Some(pem), Some(_)) => Some(TsaCheck(
            tsa::Trust::from_pem(pem).map_err(|e| e.to_string())?,
        )),
        _ => None,
    };
    let report = paraaf_seal::verify::verify_with(
        sealed,
        &anchors,
        tsa.as_ref().map(|t| t as &dyn TimestampCheck),
        Some(&revocation::HttpFetch as &dyn paraaf_seal::revocation::Fetch),
    );
    if report.valid() {
        return Ok(());
    }
    let mut why = report.problems.join("; ");
    if why.is_empty() {
        why = "the seal does not cover the file or its signature does not verify".into();
    }
    Err(format!(
        "the seal made does not verify, so it is not recorded (renew or fix the seal certificate or `trust`, then it is made again): {why}"
    ))
}

/// The sealed PDF of `doc` as `reader` may read it: `None` (like a missing document)
/// unless they may read the document's content (`contents::readable`: `may_see` and
/// the content's ownership) and it is sealed. Refuses stored bytes that do not match
/// the recorded hash.
pub fn sealed_for_reader(
    state: &State,
    db: &Reads,
    reader: &str,
    doc: &str,
) -> Result<Option<Vec<u8>>, RuntimeError> {
    let Some(d) = state.documents.get(doc) else {
        return Ok(None);
    };
    let Some(sealed) = &d.sealed else {
        return Ok(None);
    };
    if !crate::contents::readable(state, db, reader, d)? {
        return Ok(None);
    }
    match db.read_content(&sealed.sha256)? {
        Some((_, body)) if crate::sha256_hex(&body) == sealed.sha256 => Ok(Some(body)),
        Some(_) => Err(RuntimeError::Tampered(format!(
            "the stored sealed PDF of {doc} does not match its hash"
        ))),
        None => Ok(None),
    }
}

/// The sealed PDF with verification code `code`, for the public `/verify` page: the
/// bytes anyone holding the code already holds (it is printed on them), nothing else.
pub fn sealed_by_code(
    state: &State,
    db: &Reads,
    code: &str,
) -> Result<Option<Vec<u8>>, RuntimeError> {
    let Some(code) = paraaf_seal::normalise_code(code) else {
        return Ok(None);
    };
    let Some(d) = state.sealed_with_code(&code) else {
        return Ok(None);
    };
    let Some(sealed) = &d.sealed else {
        return Ok(None);
    };
    Ok(db
        .read_content(&sealed.sha256)?
        .map(|(_, b)| b)
        .filter(|b| crate::sha256_hex(b) == sealed.sha256))
}

/// Seals every document waiting for its seal, on `rt` directly (`paraaf seal`; `db`:
/// where its store lies, a [`Reads`] or a SQLite file's path): each
/// made, stored and recorded in turn. Returns per document the code or why it waits.
pub fn seal_pending_runtime(
    rt: &mut crate::Runtime,
    db: impl Into<Reads>,
    cfg: &SealConfig,
    now: DateTime<Utc>,
) -> Vec<(String, Result<String, String>)> {
    let db = &db.into();
    let waiting: Vec<String> = rt
        .state()
        .waiting_for_seal()
        .iter()
        .map(|d| d.id.clone())
        .collect();
    let mut out = Vec::new();
    for doc in waiting {
        let made = make(rt.state(), db, &rt.history_trust(), cfg, &doc, now);
        let result = made.and_then(|m| {
            rt.execute(now, |e| {
                e.record_seal(&m.doc, &m.sha256, &m.code, m.timestamped)
            })
            .map(|()| m.code.clone())
            .map_err(|e| e.to_string())
        });
        out.push((doc, result));
    }
    out
}
