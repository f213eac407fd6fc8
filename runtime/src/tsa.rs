//! RFC 3161 time stamps: ask a time-stamp authority (TSA) to stamp a SHA-256 digest, and
//! verify a stamp later against the TSA certificates the city trusts.
//!
//! Two users: the audit anchor (`anchor.rs`, the checkpoint head stamped outside the
//! machine) and sealed PDFs (#28, PAdES B-T signature time stamps). The public API is
//! meant for both: [`request`] returns a [`Token`] (its DER bytes with [`Token::der`], to
//! store or embed), and [`Token::verify`] checks it against a digest and a [`Trust`]
//! and returns the [`TimeInfo`] it vouches for.
//!
//! What [`Token::verify`] checks: a CMS SignedData holding a TSTInfo; the message imprint
//! is SHA-256 of exactly the given digest; one signer, whose certificate is in the token,
//! has the critical `timeStamping` extended key usage, is named by the ESS
//! signing-certificate attribute and was valid at the stamped time; the content-type and
//! message-digest attributes match the TSTInfo; the signature over the signed attributes
//! (RSA PKCS#1 v1.5, ECDSA P-256 or P-384) verifies with that certificate's key; and the
//! certificate chains (through certificates in the token) to one of the trust anchors,
//! each link's signature verified and each certificate valid at the stamped time.
//! Revocation (CRL, OCSP) is not checked.

use chrono::{DateTime, Utc};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{Int, OctetString};
use der::oid::ObjectIdentifier;
use der::{Any, Decode, Encode, Sequence};
use sha2::Digest;
use std::fmt;
use std::io::Read;
use std::time::Duration;
use x509_cert::Certificate;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_CERT: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const SIGNING_CERT_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// How long one request to a TSA may take (connect and answer).
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from a TSA (a token with its chain is a few kilobytes).
const MAX_RESPONSE: u64 = 1 << 20;
/// How many certificates a chain may climb before an anchor.
const MAX_CHAIN: usize = 8;

/// Why a time stamp could not be obtained or does not hold. The message says what an
/// administrator can check; [`TsaError::is_unreachable`] tells a TSA that is down (try
/// again later) from an answer that is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsaError {
    /// The TSA could not be reached or answered with an HTTP error.
    Unreachable(String),
    /// The TSA answered, but refused to stamp (its status and text).
    Refused(String),
    /// The answer or token is not a well-formed RFC 3161 structure.
    Malformed(String),
    /// The token is well-formed but does not vouch for this digest (imprint, nonce,
    /// attributes or signature do not match).
    Mismatch(String),
    /// The signer is not trusted: no chain to an anchor, wrong key usage, expired.
    Untrusted(String),
}

impl TsaError {
    /// True when the TSA was not reached: the caller should try again later.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, TsaError::Unreachable(_))
    }
}

impl fmt::Display for TsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TsaError::Unreachable(m) => write!(f, "time-stamp authority not reachable: {m}"),
            TsaError::Refused(m) => write!(f, "time-stamp authority refused: {m}"),
            TsaError::Malformed(m) => write!(f, "time stamp is malformed: {m}"),
            TsaError::Mismatch(m) => write!(f, "time stamp does not match: {m}"),
            TsaError::Untrusted(m) => write!(f, "time stamp is not trusted: {m}"),
        }
    }
}

impl std::error::Error for TsaError {}

fn malformed(what: &str) -> impl Fn(der::Error) -> TsaError + '_ {
    move |e| TsaError::Malformed(format!("{what}: {e}"))
}

/// The certificates a city trusts to sign time stamps: root (or TSA) certificates,
/// usually from a PEM file named in the configuration.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    anchors: Vec<Certificate>,
}

impl Trust {
    /// Trust anchors from PEM text holding one or more `CERTIFICATE` blocks.
    pub fn from_pem(pem: &[u8]) -> Result<Trust, TsaError> {
        let anchors = Certificate::load_pem_chain(pem)
            .map_err(|e| TsaError::Malformed(format!("trust anchors (PEM): {e}")))?;
        if anchors.is_empty() {
            return Err(TsaError::Malformed(
                "trust anchors (PEM): no certificate in the file".into(),
            ));
        }
        Ok(Trust { anchors })
    }

    /// Trust anchors from a PEM file.
    pub fn from_pem_file(path: &std::path::Path) -> Result<Trust, TsaError> {
        let pem = std::fs::read(path).map_err(|e| {
            TsaError::Malformed(format!("cannot read trust anchors {}: {e}", path.display()))
        })?;
        Trust::from_pem(&pem)
    }

    /// How many anchors are trusted.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// True when no anchor is trusted (then nothing verifies).
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

/// What a verified time stamp vouches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeInfo {
    /// When the TSA saw the digest (genTime).
    pub time: DateTime<Utc>,
    /// The TSA's serial number of this stamp, in hex.
    pub serial: String,
    /// The TSA's policy under which it stamped.
    pub policy: String,
    /// The signing certificate's subject (who stamped), e.g. `CN=Paraaf test TSA`.
    pub tsa: String,
}

/// An RFC 3161 TimeStampToken (a CMS ContentInfo), kept as the DER bytes the TSA sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    der: Vec<u8>,
}

/// The parts of a token that verification reads.
struct Parsed {
    signed: SignedData,
    tst_der: Vec<u8>,
    tst: TstInfo,
}

impl Token {
    /// A token from its DER bytes (as stored or embedded); checks only that it parses.
    pub fn from_der(der: &[u8]) -> Result<Token, TsaError> {
        let token = Token { der: der.to_vec() };
        token.parse()?;
        Ok(token)
    }

    /// The token's DER bytes: store these, or embed them (e.g. as the unsigned
    /// `signatureTimeStampToken` attribute of a PAdES signature).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    fn parse(&self) -> Result<Parsed, TsaError> {
        let info = ContentInfo::from_der(&self.der).map_err(malformed("token"))?;
        if info.content_type != SIGNED_DATA {
            return Err(TsaError::Malformed(format!(
                "token is not signed data ({})",
                info.content_type
            )));
        }
        let signed = info
            .content
            .decode_as::<SignedData>()
            .map_err(malformed("signed data"))?;
        let encap = &signed.encap_content_info;
        if encap.econtent_type != TST_INFO {
            return Err(TsaError::Malformed(format!(
                "signed content is not a TSTInfo ({})",
                encap.econtent_type
            )));
        }
        let content = encap
            .econtent
            .as_ref()
            .ok_or_else(|| TsaError::Malformed("token has no TSTInfo".into()))?;
        let tst_der = content
            .decode_as::<OctetString>()
            .map_err(malformed("TSTInfo"))?
            .into_bytes();
        let tst = TstInfo::from_der(&tst_der).map_err(malformed("TSTInfo"))?;
        Ok(Parsed {
            signed,
            tst_der,
            tst,
        })
    }

    /// The time the token states, without verifying anything (for display of stored
    /// tokens; use [`Token::verify`] before relying on it).
    pub fn claimed_time(&self) -> Result<DateTime<Utc>, TsaError> {
        Ok(gen_time(&self.parse()?.tst))
    }

    /// Verifies that this token stamps exactly `digest` (SHA-256 of the stamped data),
    /// signed by a TSA that chains to `trust`; returns what it vouches for. See the
    /// module documentation for every check.
    pub fn verify(&self, digest: &[u8; 32], trust: &Trust) -> Result<TimeInfo, TsaError> {
        let Parsed {
            signed,
            tst_der,
            tst,
        } = self.parse()?;
        check_imprint(&tst.message_imprint, digest)?;
        let time = gen_time(&tst);
        let certs: Vec<Certificate> = signed
            .certificates
            .iter()
            .flat_map(|set| set.0.iter())
            .filter_map(|c| match c {
                CertificateChoices::Certificate(c) => Some(c.clone()),
                CertificateChoices::Other(_) => None,
            })
            .collect();
        let [signer] = signed.signer_infos.0.as_slice() else {
            return Err(TsaError::Malformed(format!(
                "a time stamp has one signer, this one has {}",
                signed.signer_infos.0.len()
            )));
        };
        let cert = certs
            .iter()
            .find(|c| names_signer(c, &signer.sid))
            .ok_or_else(|| {
                TsaError::Untrusted("the TSA's certificate is not in the token".into())
            })?;
        check_signed_attributes(signer, &tst_der, cert)?;
        let attrs = signer
            .signed_attrs
            .as_ref()
            .ok_or_else(|| TsaError::Malformed("the signer has no signed attributes".into()))?
            .to_der()
            .map_err(malformed("signed attributes"))?;
        let hash = signer_hash(signer)?;
        verify_signature(
            &cert.tbs_certificate.subject_public_key_info,
            hash,
            &attrs,
            signer.signature.as_bytes(),
        )
        .map_err(|e| TsaError::Mismatch(format!("the TSA's signature does not verify: {e}")))?;
        check_time_stamping(cert)?;
        check_chain(cert, &certs, trust, time)?;
        Ok(TimeInfo {
            time,
            serial: hex::encode(tst.serial_number.as_bytes()),
            policy: tst.policy.to_string(),
            tsa: cert.tbs_certificate.subject.to_string(),
        })
    }
}

fn gen_time(tst: &TstInfo) -> DateTime<Utc> {
    let d = tst.gen_time.to_unix_duration();
    DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos()).unwrap_or_default()
}

fn check_imprint(imprint: &MessageImprint, digest: &[u8; 32]) -> Result<(), TsaError> {
    if imprint.hash_algorithm.oid != SHA256 {
        return Err(TsaError::Mismatch(format!(
            "the stamp is over another hash ({}), not SHA-256",
            imprint.hash_algorithm.oid
        )));
    }
    if imprint.hashed_message.as_bytes() != digest {
        return Err(TsaError::Mismatch(format!(
            "the stamp is for {}, not for {}",
            hex::encode(imprint.hashed_message.as_bytes()),
            hex::encode(digest)
        )));
    }
    Ok(())
}

fn names_signer(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(is) => {
            cert.tbs_certificate.issuer == is.issuer
                && cert.tbs_certificate.serial_number == is.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            cert.tbs_certificate.extensions.iter().flatten().any(|e| {
                e.extn_id == ObjectIdentifier::new_unwrap("2.5.29.14")
                    && OctetString::from_der(e.extn_value.as_bytes())
                        .is_ok_and(|v| v.as_bytes() == ski.0.as_bytes())
            })
        }
    }
}

/// ESSCertID (RFC 2634): the SHA-1 of the signing certificate.
#[derive(Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    _issuer_serial: Option<Any>,
}

/// SigningCertificate (RFC 2634).
#[derive(Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    _policies: Option<Any>,
}

/// ESSCertIDv2 (RFC 5035): the hash (SHA-256 unless named) of the signing certificate.
#[derive(Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    _issuer_serial: Option<Any>,
}

/// SigningCertificateV2 (RFC 5035).
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    _policies: Option<Any>,
}

/// The content-type, message-digest and signing-certificate attributes.
fn check_signed_attributes(
    signer: &SignerInfo,
    tst_der: &[u8],
    cert: &Certificate,
) -> Result<(), TsaError> {
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| TsaError::Malformed("the signer has no signed attributes".into()))?;
    let single = |oid: ObjectIdentifier| -> Option<&Any> {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| match a.values.as_slice() {
                [v] => Some(v),
                _ => None,
            })
    };
    let content_type = single(CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| TsaError::Malformed("no content-type attribute".into()))?;
    if content_type != TST_INFO {
        return Err(TsaError::Mismatch(format!(
            "the signed content type is {content_type}, not TSTInfo"
        )));
    }
    let digest = single(MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or_else(|| TsaError::Malformed("no message-digest attribute".into()))?;
    if digest.as_bytes() != signer_hash(signer)?.digest(tst_der) {
        return Err(TsaError::Mismatch(
            "the signed digest is not that of the TSTInfo (the stamp was altered)".into(),
        ));
    }
    let cert_der = cert.to_der().map_err(malformed("certificate"))?;
    let named = if let Some(v) = single(SIGNING_CERT_V2) {
        let sc = v
            .decode_as::<SigningCertificateV2>()
            .map_err(malformed("signing-certificate-v2 attribute"))?;
        let first = sc
            .certs
            .first()
            .ok_or_else(|| TsaError::Malformed("empty signing-certificate-v2".into()))?;
        let hash = match &first.hash_algorithm {
            None => Hash::Sha256,
            Some(a) => Hash::from_oid(&a.oid)?,
        };
        first.cert_hash.as_bytes() == hash.digest(&cert_der)
    } else if let Some(v) = single(SIGNING_CERT) {
        let sc = v
            .decode_as::<SigningCertificate>()
            .map_err(malformed("signing-certificate attribute"))?;
        let first = sc
            .certs
            .first()
            .ok_or_else(|| TsaError::Malformed("empty signing-certificate".into()))?;
        use sha1::Digest as _;
        first.cert_hash.as_bytes() == sha1::Sha1::digest(&cert_der).as_slice()
    } else {
        return Err(TsaError::Malformed(
            "no signing-certificate attribute (RFC 3161 requires one)".into(),
        ));
    };
    if !named {
        return Err(TsaError::Mismatch(
            "the signing-certificate attribute names another certificate".into(),
        ));
    }
    Ok(())
}

/// A digest algorithm of a signature.
#[derive(Clone, Copy, Debug)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: &ObjectIdentifier) -> Result<Hash, TsaError> {
        match *oid {
            SHA256 => Ok(Hash::Sha256),
            SHA384 => Ok(Hash::Sha384),
            SHA512 => Ok(Hash::Sha512),
            other => Err(TsaError::Malformed(format!(
                "unsupported digest algorithm {other}"
            ))),
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

fn signer_hash(signer: &SignerInfo) -> Result<Hash, TsaError> {
    Hash::from_oid(&signer.digest_alg.oid)
}

/// The digest of a certificate signature algorithm (`sha256WithRSAEncryption`, ...).
fn signature_hash(alg: &ObjectIdentifier) -> Result<Hash, TsaError> {
    match *alg {
        RSA_SHA256 | ECDSA_SHA256 => Ok(Hash::Sha256),
        RSA_SHA384 | ECDSA_SHA384 => Ok(Hash::Sha384),
        RSA_SHA512 | ECDSA_SHA512 => Ok(Hash::Sha512),
        other => Err(TsaError::Untrusted(format!(
            "unsupported signature algorithm {other}"
        ))),
    }
}

/// Verifies `signature` over `message` with the key in `spki` (RSA PKCS#1 v1.5, ECDSA
/// P-256 or P-384), the message hashed with `hash`.
fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    hash: Hash,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let key = spki.subject_public_key.raw_bytes();
    let prehash = hash.digest(message);
    match spki.algorithm.oid {
        RSA => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            let key = rsa::RsaPublicKey::from_pkcs1_der(key).map_err(|e| e.to_string())?;
            let scheme = match hash {
                Hash::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                Hash::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                Hash::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
            };
            key.verify(scheme, &prehash, signature)
                .map_err(|e| e.to_string())
        }
        EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(P256) => {
                    use p256::ecdsa::signature::hazmat::PrehashVerifier;
                    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                        .map_err(|e| e.to_string())?;
                    let sig =
                        p256::ecdsa::Signature::from_der(signature).map_err(|e| e.to_string())?;
                    key.verify_prehash(&prehash, &sig)
                        .map_err(|e| e.to_string())
                }
                Some(P384) => {
                    use p384::ecdsa::signature::hazmat::PrehashVerifier;
                    let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(key)
                        .map_err(|e| e.to_string())?;
                    let sig =
                        p384::ecdsa::Signature::from_der(signature).map_err(|e| e.to_string())?;
                    key.verify_prehash(&prehash, &sig)
                        .map_err(|e| e.to_string())
                }
                other => Err(format!("unsupported elliptic curve {other:?}")),
            }
        }
        other => Err(format!("unsupported key algorithm {other}")),
    }
}

fn extension(cert: &Certificate, oid: ObjectIdentifier) -> Option<(bool, &[u8])> {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == oid)
        .map(|e| (e.critical, e.extn_value.as_bytes()))
}

/// RFC 3161 §2.3: the TSA's certificate has exactly one, critical, extended key usage:
/// `timeStamping`.
fn check_time_stamping(cert: &Certificate) -> Result<(), TsaError> {
    let usages = extension(cert, EXT_KEY_USAGE).and_then(|(critical, value)| {
        Vec::<ObjectIdentifier>::from_der(value)
            .ok()
            .map(|u| (critical, u))
    });
    match usages {
        Some((true, u)) if u == [TIME_STAMPING] => Ok(()),
        _ => Err(TsaError::Untrusted(format!(
            "{} is not a time-stamping certificate (critical extended key usage timeStamping)",
            cert.tbs_certificate.subject
        ))),
    }
}

fn valid_at(cert: &Certificate, time: DateTime<Utc>) -> Result<(), TsaError> {
    let v = &cert.tbs_certificate.validity;
    let secs = time.timestamp();
    let from = v.not_before.to_unix_duration().as_secs() as i64;
    let to = v.not_after.to_unix_duration().as_secs() as i64;
    if secs < from || secs > to {
        return Err(TsaError::Untrusted(format!(
            "{} was not valid at {time} (valid {} to {})",
            cert.tbs_certificate.subject, v.not_before, v.not_after
        )));
    }
    Ok(())
}

fn is_ca(cert: &Certificate) -> bool {
    #[derive(Sequence)]
    struct Basic {
        #[asn1(default = "Default::default")]
        ca: bool,
        #[asn1(optional = "true")]
        _path_len: Option<Int>,
    }
    extension(cert, BASIC_CONSTRAINTS)
        .and_then(|(_, v)| Basic::from_der(v).ok())
        .is_some_and(|b| b.ca)
}

/// True when `issuer` signed `cert`.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return false;
    }
    let (Ok(hash), Ok(tbs)) = (
        signature_hash(&cert.signature_algorithm.oid),
        cert.tbs_certificate.to_der(),
    ) else {
        return false;
    };
    let Some(sig) = cert.signature.as_bytes() else {
        return false;
    };
    verify_signature(
        &issuer.tbs_certificate.subject_public_key_info,
        hash,
        &tbs,
        sig,
    )
    .is_ok()
}

/// The signer's certificate chains to a trust anchor (itself one, or signed by one,
/// through CA certificates from the token), every certificate valid at `time`.
fn check_chain(
    signer: &Certificate,
    certs: &[Certificate],
    trust: &Trust,
    time: DateTime<Utc>,
) -> Result<(), TsaError> {
    let mut current = signer;
    for _ in 0..MAX_CHAIN {
        valid_at(current, time)?;
        if trust.anchors.iter().any(|a| a == current) {
            return Ok(());
        }
        if let Some(anchor) = trust.anchors.iter().find(|a| signed_by(current, a)) {
            return valid_at(anchor, time);
        }
        match certs
            .iter()
            .find(|c| *c != current && is_ca(c) && signed_by(current, c))
        {
            Some(next) => current = next,
            None => break,
        }
    }
    Err(TsaError::Untrusted(format!(
        "{} does not chain to a trusted certificate",
        signer.tbs_certificate.subject
    )))
}

/// A random positive 64-bit nonce, so an old answer cannot be replayed as this one.
fn nonce() -> Result<Vec<u8>, TsaError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| TsaError::Unreachable(format!("no random nonce: {e}")))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40; // positive, minimal DER
    Ok(bytes.to_vec())
}

/// The DER TimeStampReq for `digest` (SHA-256) with `nonce`, asking for the TSA's
/// certificate in the answer.
fn request_der(digest: &[u8; 32], nonce: &[u8]) -> Result<Vec<u8>, TsaError> {
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: x509_cert::spki::AlgorithmIdentifier {
                oid: SHA256,
                parameters: Some(Any::null()),
            },
            hashed_message: OctetString::new(digest.as_slice()).map_err(malformed("digest"))?,
        },
        req_policy: None,
        nonce: Some(Int::new(nonce).map_err(malformed("nonce"))?),
        cert_req: true,
        extensions: None,
    };
    req.to_der().map_err(malformed("request"))
}

/// Reads a TimeStampResp: the status must grant, the token must stamp `digest` and carry
/// `nonce`. The token's signature is checked by [`Token::verify`], not here.
fn read_response(body: &[u8], digest: &[u8; 32], nonce: &[u8]) -> Result<Token, TsaError> {
    let resp = TimeStampResp::from_der(body).map_err(malformed("answer"))?;
    // PKIStatus: 0 granted, 1 granted with modifications, anything else refused.
    let status = resp.status.status;
    if status as u8 > 1 {
        let text: Vec<String> = resp
            .status
            .status_string
            .iter()
            .flatten()
            .map(|s| s.to_string())
            .collect();
        return Err(TsaError::Refused(format!("{status:?} {}", text.join("; "))));
    }
    let token = resp
        .time_stamp_token
        .ok_or_else(|| TsaError::Malformed("granted, but no token in the answer".into()))?;
    let token = Token::from_der(&token.to_der().map_err(malformed("token"))?)?;
    let tst = token.parse()?.tst;
    check_imprint(&tst.message_imprint, digest)?;
    if tst.nonce.as_ref().map(|n| n.as_bytes()) != Some(nonce) {
        return Err(TsaError::Mismatch(
            "the answer carries another nonce (an old or foreign answer)".into(),
        ));
    }
    Ok(token)
}

/// Asks the TSA at `url` to stamp `digest` (the SHA-256 of what is stamped): POSTs an
/// RFC 3161 TimeStampReq (`application/timestamp-query`, with a random nonce and the
/// certificate requested) and returns the token once its status, imprint and nonce
/// match. Call [`Token::verify`] to check the signature and the chain.
pub fn request(url: &str, digest: &[u8; 32]) -> Result<Token, TsaError> {
    let nonce = nonce()?;
    let body = request_der(digest, &nonce)?;
    let agent = ureq::AgentBuilder::new().timeout(TIMEOUT).build();
    let resp = agent
        .post(url)
        .set("Content-Type", "application/timestamp-query")
        .set("Accept", "application/timestamp-reply")
        .send_bytes(&body)
        .map_err(|e| TsaError::Unreachable(format!("{url}: {e}")))?;
    let mut answer = Vec::new();
    resp.into_reader()
        .take(MAX_RESPONSE)
        .read_to_end(&mut answer)
        .map_err(|e| TsaError::Unreachable(format!("{url}: {e}")))?;
    read_response(&answer, digest, &nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_a_sha256_imprint_with_nonce_and_cert_req() {
        let digest = [7u8; 32];
        let der = request_der(&digest, &[0x41, 1, 2, 3]).unwrap();
        let req = TimeStampReq::from_der(&der).unwrap();
        assert_eq!(req.message_imprint.hash_algorithm.oid, SHA256);
        assert_eq!(req.message_imprint.hashed_message.as_bytes(), digest);
        assert_eq!(req.nonce.unwrap().as_bytes(), [0x41, 1, 2, 3]);
        assert!(req.cert_req);
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bytes in [
            &b""[..],
            b"\x30\x03\x02\x01",
            b"not der at all",
            &[0x30; 200],
        ] {
            assert!(matches!(
                Token::from_der(bytes),
                Err(TsaError::Malformed(_))
            ));
            assert!(read_response(bytes, &[0; 32], &[1]).is_err());
        }
        assert!(Trust::from_pem(b"no certificate").is_err());
    }
}
