//! The certificates a verifier trusts, and the chain from a seal's certificate to one
//! of them: each link's signature (RSA PKCS#1 v1.5 with SHA-256/384/512) verified and
//! each certificate valid at the time that counts (the time stamp's, else now).
//! Revocation is not checked here.

use crate::cms::{RSA_SHA256, RSA_SHA384, RSA_SHA512};
use chrono::{DateTime, Utc};
use der::Encode;
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use x509_cert::Certificate;

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

/// The chain from `leaf` to an anchor through `pool` (certificates the signature
/// carries), every link verified and every certificate valid at `at`; returns the
/// subjects from the leaf to the anchor.
pub fn chain(
    leaf: &Certificate,
    pool: &[Certificate],
    anchors: &Anchors,
    at: DateTime<Utc>,
) -> Result<Vec<String>, String> {
    let mut current = leaf.clone();
    let mut path = vec![subject(leaf)];
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
            path.push(subject(anchor));
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
        current = next.clone();
        path.push(subject(&current));
    }
    Err("the certificate chain is too long".into())
}
