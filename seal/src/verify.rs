//! Verifying a sealed PDF, as `paraaf verify` and the public `/verify` page do: the seal
//! (the signature whose byte range ends at the end of the file) must cover every byte
//! but its own `/Contents`; its CMS must hold the digest of those bytes, a signature
//! that verifies with the signer's certificate, the signing-certificate-v2 attribute
//! naming that certificate, and a chain to a trusted certificate (every issuer a CA,
//! the seal's certificate meant for signatures, all valid at the time stamp's time)
//! that no CRL (in the file's DSS, or fetched) lists as revoked before that time; its
//! time stamp (when a checker is given) must vouch for the signature value. After the
//! seal only validation data and document time stamps may follow (B-LT, B-LTA); each
//! document time stamp must cover the file up to its own update.

use crate::cms::{MESSAGE_DIGEST, SIGNATURE_TIME_STAMP, SIGNED_DATA, SIGNING_CERT_V2};
use crate::cms::{SHA256, SigningCertificateV2};
use crate::revocation::{Crl, Fetch, crl_urls};
use crate::trust::{self, Anchors};
use chrono::{DateTime, Utc};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::OctetString;
use der::{Decode, Encode, Reader, SliceReader};
use lopdf::{Document, Object};
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

/// Checks an RFC 3161 time-stamp token (DER) against the digest it must stamp and the
/// TSAs the verifier trusts; returns the time it vouches for. The runtime's RFC 3161
/// client implements it.
pub trait TimestampCheck {
    /// Verifies `token` over `digest` (the SHA-256 of the seal's signature value).
    fn check(&self, token: &[u8], digest: &[u8; 32]) -> Result<DateTime<Utc>, String>;
}

/// What verification found. [`Report::valid`] is the verdict; `problems` says why not,
/// in words an administrator or a citizen can act on.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// SHA-256 (hex) of the whole file.
    pub sha256: String,
    /// The seal covers every byte of the file but its own signature value.
    pub intact: bool,
    /// The signature verifies with the signer's certificate over that digest.
    pub signature_ok: bool,
    /// The chain to a trusted certificate (subjects from the seal to the anchor).
    pub chain: Option<Vec<String>>,
    /// The time the time stamp vouches for, when it was checked and holds.
    pub timestamp: Option<DateTime<Utc>>,
    /// Whether the seal carries a time stamp at all.
    pub timestamped: bool,
    /// The seal's certificate subject.
    pub signer: Option<String>,
    /// The verification code the seal names.
    pub code: Option<String>,
    /// The signing time the PDF states (`/M`).
    pub signed_at: Option<String>,
    /// The PAdES baseline level the file reaches (`B-B`, `B-T`, `B-LT`, `B-LTA`), when
    /// the seal is valid.
    pub level: Option<String>,
    /// The times the document time stamps after the seal vouch for (B-LTA), when
    /// checked.
    pub archive_timestamps: Vec<DateTime<Utc>>,
    /// How the status of each certificate of the chain was found (which CRL), or that it
    /// could not be.
    pub revocation: Vec<String>,
    /// Why the file is not valid (empty when it is).
    pub problems: Vec<String>,
}

impl Report {
    /// Valid: intact, signed, trusted and (when time stamps are checked) time-stamped.
    pub fn valid(&self) -> bool {
        self.problems.is_empty() && self.intact && self.signature_ok && self.chain.is_some()
    }
}

/// Where the seal is: its byte range and its CMS.
struct Found {
    range: [usize; 4],
    end: usize,
    contents: Vec<u8>,
    code: Option<String>,
    signed_at: Option<String>,
}

fn text_of(o: &Object) -> Option<String> {
    match o {
        Object::String(b, _) => Some(b.iter().map(|c| *c as char).collect()),
        _ => None,
    }
}

/// The seal: of the signature dictionaries that are not document time stamps, the one
/// whose byte range ends last.
fn find_seal(bytes: &[u8]) -> Result<Found, String> {
    let doc = Document::load_mem(bytes).map_err(|e| format!("not a readable PDF ({e})"))?;
    let mut best: Option<Found> = None;
    for obj in doc.objects.values() {
        let Ok(dict) = obj.as_dict() else { continue };
        let (Ok(Object::Array(range)), Ok(Object::String(contents, _))) =
            (dict.get(b"ByteRange"), dict.get(b"Contents"))
        else {
            continue;
        };
        if matches!(dict.get(b"Type"), Ok(Object::Name(n)) if n == b"DocTimeStamp") {
            continue;
        }
        let nums: Vec<usize> = range
            .iter()
            .filter_map(|n| n.as_i64().ok())
            .filter_map(|n| usize::try_from(n).ok())
            .collect();
        let [a, b, c, d] = nums[..] else { continue };
        let Some(end) = c.checked_add(d).filter(|e| *e <= bytes.len()) else {
            continue;
        };
        if best.as_ref().is_some_and(|f| f.end >= end) {
            continue;
        }
        best = Some(Found {
            range: [a, b, c, d],
            end,
            contents: contents.clone(),
            code: dict
                .get(b"Reason")
                .ok()
                .and_then(text_of)
                .and_then(|r| r.strip_prefix("Verificatiecode ").map(str::to_string)),
            signed_at: dict.get(b"M").ok().and_then(text_of),
        });
    }
    best.ok_or_else(|| "the file carries no seal".into())
}

/// Verifies `bytes`: the seal's coverage, its CMS signature, its chain to `anchors`,
/// revocation from the file's DSS and, with `tsa`, its time stamps. A file that is not
/// a sealed PDF gives a report with problems, never a panic.
pub fn verify(bytes: &[u8], anchors: &Anchors, tsa: Option<&dyn TimestampCheck>) -> Report {
    verify_with(bytes, anchors, tsa, None)
}

/// As [`verify`]; with `fetch`, the CRL of a certificate whose status the file does not
/// hold is fetched from its distribution point.
pub fn verify_with(
    bytes: &[u8],
    anchors: &Anchors,
    tsa: Option<&dyn TimestampCheck>,
    fetch: Option<&dyn Fetch>,
) -> Report {
    let mut report = Report {
        sha256: hex::encode(Sha256::digest(bytes)),
        intact: false,
        signature_ok: false,
        chain: None,
        timestamp: None,
        timestamped: false,
        signer: None,
        code: None,
        signed_at: None,
        level: None,
        archive_timestamps: Vec::new(),
        revocation: Vec::new(),
        problems: Vec::new(),
    };
    let found = match find_seal(bytes) {
        Ok(f) => f,
        Err(e) => {
            report.problems.push(e);
            return report;
        }
    };
    report.code = found.code.clone();
    report.signed_at = found.signed_at.clone();
    let after = if found.end == bytes.len() {
        Ok(None)
    } else {
        crate::updates::after_seal(bytes, found.end).map(Some)
    };
    match (&check_coverage(&bytes[..found.end], &found), &after) {
        (Err(e), _) | (_, Err(e)) => report.problems.push(e.clone()),
        _ => report.intact = true,
    }
    let (dss_certs, dss_crls) = crate::updates::dss(bytes);
    let dss_certs: Vec<Certificate> = dss_certs
        .iter()
        .filter_map(|d| Certificate::from_der(d).ok())
        .collect();
    let crls: Vec<Crl> = dss_crls
        .iter()
        .filter_map(|d| Crl::from_der(d).ok())
        .collect();
    let ctx = Context {
        anchors,
        tsa,
        fetch,
        dss_certs: &dss_certs,
        crls: &crls,
    };
    if let Err(e) = check_cms(&bytes[..found.end], &found, &ctx, &mut report) {
        report.problems.push(e);
    }
    if let Ok(Some(after)) = &after {
        for stamp in &after.stamps {
            match check_doc_stamp(bytes, stamp, tsa) {
                Ok(Some(t)) => report.archive_timestamps.push(t),
                Ok(None) => {}
                Err(e) => report.problems.push(e),
            }
        }
    }
    if report.valid() {
        let lt = !crls.is_empty() && report.revocation.iter().all(|r| !r.contains("not checked"));
        let stamped = matches!(&after, Ok(Some(a)) if !a.stamps.is_empty());
        report.level = Some(
            match (report.timestamped, lt, stamped) {
                (false, _, _) => "B-B",
                (true, false, _) => "B-T",
                (true, true, false) => "B-LT",
                (true, true, true) => "B-LTA",
            }
            .to_string(),
        );
    }
    report
}

/// What the CMS check needs besides the file.
struct Context<'a> {
    anchors: &'a Anchors,
    tsa: Option<&'a dyn TimestampCheck>,
    fetch: Option<&'a dyn Fetch>,
    dss_certs: &'a [Certificate],
    crls: &'a [Crl],
}

/// A document time stamp: covers the file up to the end of its update but its token,
/// and (with `tsa`) the token vouches for that digest; returns its time.
fn check_doc_stamp(
    bytes: &[u8],
    stamp: &crate::updates::DocStamp,
    tsa: Option<&dyn TimestampCheck>,
) -> Result<Option<DateTime<Utc>>, String> {
    let f = Found {
        range: stamp.range,
        end: stamp.revision_end,
        contents: stamp.contents.clone(),
        code: None,
        signed_at: None,
    };
    let [a, b, c, d] = stamp.range;
    if c.checked_add(d) != Some(stamp.revision_end) {
        return Err("a document time stamp does not cover its own update".into());
    }
    check_coverage(&bytes[..stamp.revision_end], &f)
        .map_err(|e| format!("a document time stamp: {e}"))?;
    let Some(tsa) = tsa else { return Ok(None) };
    let mut h = Sha256::new();
    h.update(&bytes[a..a + b]);
    h.update(&bytes[c..c + d]);
    let digest: [u8; 32] = h.finalize().into();
    let mut reader = SliceReader::new(&stamp.contents).map_err(bad("document time stamp"))?;
    let info = ContentInfo::decode(&mut reader).map_err(bad("document time stamp"))?;
    let token = info.to_der().map_err(bad("document time stamp"))?;
    tsa.check(&token, &digest)
        .map(Some)
        .map_err(|e| format!("a document time stamp does not hold: {e}"))
}

/// Checks the status of every certificate of `path` (leaf first, anchor last) but the
/// anchor: the CRL of its issuer from the file's DSS, else fetched; revoked at or before
/// `at` is a problem.
fn check_revocation(
    path: &[Certificate],
    at: DateTime<Utc>,
    ctx: &Context<'_>,
    report: &mut Report,
) {
    for pair in path.windows(2) {
        let (cert, issuer) = (&pair[0], &pair[1]);
        let mut crl = ctx
            .crls
            .iter()
            .find(|c| {
                c.signed_by(issuer).is_ok()
                    && c.list.tbs_cert_list.issuer == cert.tbs_certificate.issuer
            })
            .cloned();
        let mut source = "in the file";
        if crl.is_none()
            && let Some(fetch) = ctx.fetch
        {
            for url in crl_urls(cert) {
                if let Ok(c) = fetch.get(&url).and_then(|b| Crl::from_der(&b))
                    && c.signed_by(issuer).is_ok()
                {
                    crl = Some(c);
                    source = "fetched";
                    break;
                }
            }
        }
        let who = trust::subject(cert);
        let Some(crl) = crl else {
            report.revocation.push(format!(
                "{who}: not checked (no CRL of its issuer in the file)"
            ));
            continue;
        };
        let issued = crl.this_update().format("%Y-%m-%d %H:%M:%S UTC");
        match crl.revoked(cert) {
            Some(when) if when <= at => report.problems.push(format!(
                "{who} was revoked on {} (CRL of {issued}, {source}), before the seal's time {}",
                when.format("%Y-%m-%d %H:%M:%S UTC"),
                at.format("%Y-%m-%d %H:%M:%S UTC")
            )),
            Some(when) => report.revocation.push(format!(
                "{who}: revoked on {}, after the seal's time (CRL of {issued}, {source})",
                when.format("%Y-%m-%d %H:%M:%S UTC")
            )),
            None => report
                .revocation
                .push(format!("{who}: not revoked (CRL of {issued}, {source})")),
        }
    }
}

/// The byte range starts at 0 and leaves out exactly the `<…>` of `/Contents`.
fn check_coverage(bytes: &[u8], f: &Found) -> Result<(), String> {
    let [a, b, c, d] = f.range;
    if a != 0 || b >= c || c + d != bytes.len() {
        return Err("the seal's byte range does not cover the whole file".into());
    }
    let gap = &bytes[b..c];
    let ok = gap.len() >= 2
        && gap[0] == b'<'
        && gap[gap.len() - 1] == b'>'
        && gap[1..gap.len() - 1].iter().all(u8::is_ascii_hexdigit)
        && (gap.len() - 2) / 2 == f.contents.len();
    if !ok {
        return Err("the part of the file the seal leaves out is not only its signature".into());
    }
    Ok(())
}

fn bad(what: &'static str) -> impl Fn(der::Error) -> String {
    move |e| format!("the seal's signature is malformed ({what}: {e})")
}

fn check_cms(
    bytes: &[u8],
    f: &Found,
    ctx: &Context<'_>,
    report: &mut Report,
) -> Result<(), String> {
    let (anchors, tsa) = (ctx.anchors, ctx.tsa);
    let mut reader = SliceReader::new(&f.contents).map_err(bad("contents"))?;
    let info = ContentInfo::decode(&mut reader).map_err(bad("content info"))?;
    let used = f.contents.len() - usize::try_from(reader.remaining_len()).unwrap_or(0);
    if f.contents[used..].iter().any(|b| *b != 0) {
        report.intact = false;
        return Err("the seal's signature value was changed after sealing (bytes after it)".into());
    }
    if info.content_type != SIGNED_DATA {
        return Err("the seal is not a CMS SignedData".into());
    }
    let signed: SignedData = info.content.decode_as().map_err(bad("signed data"))?;
    let mut certs: Vec<Certificate> = signed
        .certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let signers: Vec<_> = signed.signer_infos.0.iter().collect();
    let [signer] = signers.as_slice() else {
        return Err(format!("the seal has {} signers, not one", signers.len()));
    };
    if signer.digest_alg.oid != SHA256 {
        return Err("the seal's digest is not SHA-256".into());
    }
    let SignerIdentifier::IssuerAndSerialNumber(id) = &signer.sid else {
        return Err("the seal names its certificate by key identifier, not supported".into());
    };
    let cert = certs
        .iter()
        .find(|c| {
            c.tbs_certificate.issuer == id.issuer
                && c.tbs_certificate.serial_number == id.serial_number
        })
        .ok_or("the seal's certificate is not in the signature")?;
    let cert = cert.clone();
    let cert = &cert;
    certs.extend(ctx.dss_certs.iter().cloned());
    report.signer = Some(trust::subject(cert));
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or("the seal has no signed attributes")?;

    // The digest of the covered bytes.
    let [a, b, c, d] = f.range;
    let mut h = Sha256::new();
    h.update(&bytes[a..a + b]);
    h.update(&bytes[c..c + d]);
    let digest = h.finalize();
    let md = attrs
        .iter()
        .find(|at| at.oid == MESSAGE_DIGEST)
        .and_then(|at| at.values.get(0))
        .ok_or("the seal has no message digest")?;
    let md: OctetString = md.decode_as().map_err(bad("message digest"))?;
    if md.as_bytes() != digest.as_slice() {
        report.intact = false;
        return Err(
            "the file's content does not match the seal: it was changed after sealing".into(),
        );
    }

    // signing-certificate-v2 names this certificate.
    let sc = attrs
        .iter()
        .find(|at| at.oid == SIGNING_CERT_V2)
        .and_then(|at| at.values.get(0))
        .ok_or("the seal has no signing-certificate-v2 attribute (required by PAdES)")?;
    let sc: SigningCertificateV2 = sc.decode_as().map_err(bad("signing certificate"))?;
    let cert_hash = Sha256::digest(cert.to_der().map_err(bad("certificate"))?);
    if sc.certs.first().map(|c| c.cert_hash.as_bytes()) != Some(cert_hash.as_slice()) {
        return Err("the seal's signing-certificate attribute names another certificate".into());
    }

    // The signature over the signed attributes.
    let signed_der = attrs.to_der().map_err(bad("signed attributes"))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(bad("public key"))?;
    let key = RsaPublicKey::from_public_key_der(&spki)
        .map_err(|_| "the seal's certificate does not have an RSA key".to_string())?;
    trust::verify_rsa(
        &key,
        &signer.signature_algorithm.oid,
        &signed_der,
        signer.signature.as_bytes(),
    )
    .map_err(|_| "the seal's signature does not verify: the seal was altered".to_string())?;
    report.signature_ok = true;

    // The time stamp over the signature value.
    let token = signer
        .unsigned_attrs
        .iter()
        .flat_map(|s| s.iter())
        .find(|at| at.oid == SIGNATURE_TIME_STAMP)
        .and_then(|at| at.values.get(0))
        .map(|v| v.to_der())
        .transpose()
        .map_err(bad("time stamp"))?;
    report.timestamped = token.is_some();
    let mut at = Utc::now();
    match (token, tsa) {
        (Some(token), Some(tsa)) => {
            let d: [u8; 32] = Sha256::digest(signer.signature.as_bytes()).into();
            match tsa.check(&token, &d) {
                Ok(t) => {
                    report.timestamp = Some(t);
                    at = t;
                }
                Err(e) => report
                    .problems
                    .push(format!("the seal's time stamp does not hold: {e}")),
            }
        }
        (None, Some(_)) => report
            .problems
            .push("the seal has no time stamp (PAdES B-T requires one)".into()),
        _ => {}
    }
    if let Err(e) = trust::signs(cert) {
        report
            .problems
            .push(format!("the seal's certificate is not for seals: {e}"));
    }
    match trust::chain_certs(cert, &certs, anchors, at) {
        Ok(path) => {
            report.chain = Some(path.iter().map(trust::subject).collect());
            check_revocation(&path, at, ctx, report);
        }
        Err(e) => report
            .problems
            .push(format!("the seal is not trusted: {e}")),
    }
    Ok(())
}
