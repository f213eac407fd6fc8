//! Where the seal's key lives: a PKCS#12 file ([`Pkcs12Key`]) or, through the same
//! [`SealKey`] trait, a PKCS#11 token.

use crate::SealError;
use der::{Decode, Encode};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::Sha256;
use x509_cert::Certificate;

/// The city's seal key: its certificate chain and RSA PKCS#1 v1.5 signatures with
/// SHA-256.
pub trait SealKey: Send + Sync {
    /// The seal's certificate first, then the certificates up to (not necessarily
    /// including) the root.
    fn chain(&self) -> &[Certificate];
    /// Signs `data` (hashed here with SHA-256) with RSA PKCS#1 v1.5.
    fn sign_sha256(&self, data: &[u8]) -> Result<Vec<u8>, SealError>;
}

/// A seal key read from a PKCS#12 file (`.p12`/`.pfx`, as OpenSSL and certificate
/// authorities hand them out).
pub struct Pkcs12Key {
    key: SigningKey<Sha256>,
    chain: Vec<Certificate>,
}

impl Pkcs12Key {
    /// Reads the first key and its chain from PKCS#12 bytes protected by `password`.
    pub fn from_pkcs12(bytes: &[u8], password: &str) -> Result<Pkcs12Key, SealError> {
        let store = p12_keystore::KeyStore::from_pkcs12(bytes, password).map_err(|e| {
            SealError::Key(format!(
                "the PKCS#12 file cannot be read ({e}); check the file and its password"
            ))
        })?;
        let (_, entry) = store.private_key_chain().ok_or_else(|| {
            SealError::Key("the PKCS#12 file holds no private key with a certificate".into())
        })?;
        let key = RsaPrivateKey::from_pkcs8_der(entry.key()).map_err(|e| {
            SealError::Key(format!(
                "the PKCS#12 key is not an RSA key ({e}); the seal signs with RSA"
            ))
        })?;
        let mut chain = Vec::new();
        for c in entry.chain() {
            chain.push(
                Certificate::from_der(c.as_der())
                    .map_err(|e| SealError::Key(format!("a certificate in the PKCS#12: {e}")))?,
            );
        }
        order_chain(&mut chain);
        let key = Pkcs12Key {
            key: SigningKey::new(key),
            chain,
        };
        key.check_matches()?;
        Ok(key)
    }

    /// Reads a PKCS#12 file.
    pub fn from_file(path: &std::path::Path, password: &str) -> Result<Pkcs12Key, SealError> {
        let bytes = std::fs::read(path)
            .map_err(|e| SealError::Key(format!("cannot read {}: {e}", path.display())))?;
        Pkcs12Key::from_pkcs12(&bytes, password)
    }

    fn check_matches(&self) -> Result<(), SealError> {
        use rsa::pkcs8::EncodePublicKey;
        let cert = self
            .chain
            .first()
            .ok_or_else(|| SealError::Key("the PKCS#12 file holds no certificate".into()))?;
        let ours = self
            .key
            .as_ref()
            .to_public_key()
            .to_public_key_der()
            .map_err(|e| SealError::Key(e.to_string()))?;
        let theirs = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| SealError::Key(e.to_string()))?;
        if ours.as_bytes() != theirs.as_slice() {
            return Err(SealError::Key(
                "the PKCS#12 key does not belong to its first certificate".into(),
            ));
        }
        Ok(())
    }
}

/// Puts the certificate whose subject issued no other certificate in the list (the
/// leaf) first, then its issuers in order.
fn order_chain(chain: &mut Vec<Certificate>) {
    let Some(leaf) = chain.iter().position(|c| {
        !chain.iter().any(|o| {
            o.tbs_certificate.issuer == c.tbs_certificate.subject
                && o.tbs_certificate.subject != c.tbs_certificate.subject
        })
    }) else {
        return;
    };
    let mut rest: Vec<Certificate> = std::mem::take(chain);
    let mut ordered = vec![rest.remove(leaf)];
    while let Some(next) = rest
        .iter()
        .position(|c| c.tbs_certificate.subject == ordered.last().unwrap().tbs_certificate.issuer)
    {
        ordered.push(rest.remove(next));
    }
    ordered.extend(rest);
    *chain = ordered;
}

impl SealKey for Pkcs12Key {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    fn sign_sha256(&self, data: &[u8]) -> Result<Vec<u8>, SealError> {
        let sig = self
            .key
            .try_sign(data)
            .map_err(|e| SealError::Key(format!("signing failed: {e}")))?;
        Ok(sig.to_vec())
    }
}
