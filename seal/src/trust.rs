//! The certificates a verifier trusts, and the chain from a seal's certificate to one
//! of them: each link's signature (RSA PKCS#1 v1.5 with SHA-256/384/512) verified and
//! each certificate valid at the time that counts (the time stamp's, else now), every
//! issuer a CA (basicConstraints CA, keyUsage keyCertSign when present) and the seal's
//! certificate meant for signatures (keyUsage digitalSignature or nonRepudiation).
//! Revocation is checked by `verify` with [`crate::revocation`].

use crate::cms::{RSA_SHA256, RSA_SHA384, RSA_SHA512};
use chrono::{DateTime, Utc};
use der::Encode;
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

/// How many certificates a chain may climb before reaching an anchor.
const MAX_CHAIN: usize = 8;

/// Trust anchors: the root (or intermediate) certificates a verifier trusts.
#[derive(Clone, Debug, Default)]
pub struct Anchors {
    certs: Vec<Certificate>,
}

impl Anchors {
    /// Reads the PEM certificates in `pem` (one file may hold several).
    pub fn from_pem(pem: &[u8]) -> Result<Anchors, String> {
        let certs = Certificate::load_pem_chain(pem)
            .map_err(|e| format!("the trusted certificates are not PEM certificates: {e}"))?;
        if certs.is_empty() {
            return Err("the trust file holds no certificate".into());
        }
        Ok(Anchors { certs })
    }

    /// Trusts exactly `certs` (e.g. the root of a seal key's own chain).
    pub fn from_certs(certs: Vec<Certificate>) -> Anchors {
        Anchors { certs }
    }

    /// Reads a PEM file of trusted certificates.
    pub fn from_pem_file(path: &std::path::Path) -> Result<Anchors, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Anchors::from_pem(&bytes)
    }

    /// How many certificates are trusted.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}

/// The subject of a certificate as text (`CN=Stad Aalst,O=Stad Aalst,C=BE`).
pub fn subject(cert: &Certificate) -> String {
    cert.tbs_certificate.subject.to_string()
}

/// The RSA public key of `cert`.
pub(crate) fn rsa_key(cert: &Certificate) -> Result<RsaPublicKey, String> {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    RsaPublicKey::from_public_key_der(&spki)
        .map_err(|_| format!("{} does not have an RSA key", subject(cert)))
}

/// An X.509 time as UTC.
pub(crate) fn time(t: &x509_cert::time::Time) -> DateTime<Utc> {
    DateTime::from_timestamp(t.to_unix_duration().as_secs() as i64, 0).unwrap_or_default()
}

/// Whether `issuer` signed `cert`.
pub(crate) fn signed_by(cert: &Certificate, issuer: &Certificate) -> Result<(), String> {
    let spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    let key = RsaPublicKey::from_public_key_der(&spki)
        .map_err(|_| format!("{} does not have an RSA key", subject(issuer)))?;
    let tbs = cert.tbs_certificate.to_der().map_err(|e| e.to_string())?;
    let sig = cert
        .signature
        .as_bytes()
        .ok_or("the certificate's signature is not whole bytes")?;
    verify_rsa(&key, &cert.signature_algorithm.oid, &tbs, sig)
        .map_err(|_| format!("the signature on {} does not verify", subject(cert)))
}

/// Verifies an RSA PKCS#1 v1.5 signature over `data` with the hash `alg` names (the
/// signature algorithm, or plain rsaEncryption meaning SHA-256 here).
pub(crate) fn verify_rsa(
    key: &RsaPublicKey,
    alg: &der::oid::ObjectIdentifier,
    data: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    let sig = Signature::try_from(sig).map_err(|e| e.to_string())?;
    let result = if *alg == RSA_SHA384 {
        VerifyingKey::<sha2::Sha384>::new(key.clone()).verify(data, &sig)
    } else if *alg == RSA_SHA512 {
        VerifyingKey::<sha2::Sha512>::new(key.clone()).verify(data, &sig)
    } else if *alg == RSA_SHA256 || *alg == crate::cms::RSA {
        VerifyingKey::<sha2::Sha256>::new(key.clone()).verify(data, &sig)
    } else {
        return Err(format!("signature algorithm {alg} is not supported"));
    };
    result.map_err(|e| e.to_string())
}

fn valid_at(cert: &Certificate, at: DateTime<Utc>) -> Result<(), String> {
    let v = &cert.tbs_certificate.validity;
    let secs = at.timestamp();
    let from = v.not_before.to_unix_duration().as_secs() as i64;
    let to = v.not_after.to_unix_duration().as_secs() as i64;
    if secs < from || secs > to {
        return Err(format!(
            "{} was not valid at {} (valid {} to {})",
            subject(cert),
            at.format("%Y-%m-%d %H:%M:%S UTC"),
            v.not_before,
            v.not_after
        ));
    }
    Ok(())
}

/// Whether `cert` may issue certificates: basicConstraints with CA true and, when it
/// has a keyUsage, keyCertSign.
fn may_issue(cert: &Certificate) -> Result<(), String> {
    let ca = matches!(
        cert.tbs_certificate.get::<BasicConstraints>(),
        Ok(Some((_, bc))) if bc.ca
    );
    if !ca {
        return Err(format!(
            "{} issued a certificate but is not a CA (its basicConstraints do not say CA:true)",
            subject(cert)
        ));
    }
    if let Ok(Some((_, ku))) = cert.tbs_certificate.get::<KeyUsage>()
        && !ku.key_cert_sign()
    {
        return Err(format!(
            "{} issued a certificate but its keyUsage does not allow keyCertSign",
            subject(cert)
        ));
    }
    Ok(())
}

/// Whether the seal's certificate is meant for signatures: its keyUsage (when it has
/// one) allows digitalSignature or nonRepudiation.
pub fn signs(cert: &Certificate) -> Result<(), String> {
    match cert.tbs_certificate.get::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.digital_signature() && !ku.non_repudiation() => Err(format!(
            "the keyUsage of {} allows neither digitalSignature nor nonRepudiation",
            subject(cert)
        )),
        Err(e) => Err(format!(
            "the keyUsage of {} is malformed: {e}",
            subject(cert)
        )),
        _ => Ok(()),
    }
}

/// The chain from `leaf` to an anchor through `pool` (certificates the signature
/// carries), every link verified, every issuer a CA and every certificate valid at
/// `at`; returns the subjects from the leaf to the anchor.
pub fn chain(
    leaf: &Certificate,
    pool: &[Certificate],
    anchors: &Anchors,
    at: DateTime<Utc>,
) -> Result<Vec<String>, String> {
    chain_certs(leaf, pool, anchors, at).map(|c| c.iter().map(subject).collect())
}

/// As [`chain`], the certificates themselves (leaf first, anchor last).
pub fn chain_certs(
    leaf: &Certificate,
    pool: &[Certificate],
    anchors: &Anchors,
    at: DateTime<Utc>,
) -> Result<Vec<Certificate>, String> {
    let mut current = leaf.clone();
    let mut path = vec![leaf.clone()];
    for _ in 0..MAX_CHAIN {
        valid_at(&current, at)?;
        if anchors.certs.iter().any(|a| a == &current) {
            return Ok(path);
        }
        let issuer_name = &current.tbs_certificate.issuer;
        if let Some(anchor) = anchors
            .certs
            .iter()
            .find(|a| &a.tbs_certificate.subject == issuer_name && signed_by(&current, a).is_ok())
        {
            valid_at(anchor, at)?;
            may_issue(anchor)?;
            path.push(anchor.clone());
            return Ok(path);
        }
        let Some(next) = pool.iter().find(|c| {
            &c.tbs_certificate.subject == issuer_name
                && *c != &current
                && signed_by(&current, c).is_ok()
        }) else {
            return Err(format!(
                "{} does not chain to a trusted certificate (issuer {} unknown or its signature does not verify)",
                subject(&current),
                issuer_name
            ));
        };
        may_issue(next)?;
        current = next.clone();
        path.push(current.clone());
    }
    Err("the certificate chain is too long".into())
}
