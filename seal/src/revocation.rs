//! Revocation data (RFC 5280 CRLs) for PAdES B-LT and for verification: where a
//! certificate's CRL is published, fetching it through the [`Fetch`] trait (the runtime's
//! HTTP client; this crate does no network IO), checking the CRL's signature by the
//! certificate's issuer, and whether it lists the certificate.

use crate::SealError;
use crate::trust::{self, signed_by, subject};
use chrono::{DateTime, Utc};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::{Decode, Encode};
use std::collections::BTreeMap;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};

/// Fetches revocation data over the network (HTTP GET of a CRL distribution point).
/// The runtime implements it with its HTTP client; tests with the test PKI's server.
pub trait Fetch: Send + Sync {
    /// The body at `url` (a DER CRL), or why there is none.
    fn get(&self, url: &str) -> Result<Vec<u8>, String>;
}

/// The HTTP(S) URLs of the CRL distribution points `cert` names.
pub fn crl_urls(cert: &Certificate) -> Vec<String> {
    let Ok(Some((_, points))) = cert.tbs_certificate.get::<CrlDistributionPoints>() else {
        return Vec::new();
    };
    let mut urls = Vec::new();
    for p in points.0 {
        if let Some(DistributionPointName::FullName(names)) = p.distribution_point {
            for n in names {
                if let GeneralName::UniformResourceIdentifier(uri) = n {
                    let uri = uri.as_str().to_string();
                    if uri.starts_with("http://") || uri.starts_with("https://") {
                        urls.push(uri);
                    }
                }
            }
        }
    }
    urls
}

/// Whether `cert` is self-issued and self-signed (a root: its status is not asked).
pub fn self_signed(cert: &Certificate) -> bool {
    cert.tbs_certificate.subject == cert.tbs_certificate.issuer && signed_by(cert, cert).is_ok()
}

/// A CRL read from DER.
#[derive(Clone, Debug)]
pub struct Crl {
    /// The DER bytes (what goes into the DSS).
    pub der: Vec<u8>,
    /// The parsed list.
    pub list: CertificateList,
}

impl Crl {
    /// Parses a DER CRL.
    pub fn from_der(der: &[u8]) -> Result<Crl, String> {
        let list = CertificateList::from_der(der)
            .map_err(|e| format!("not a DER certificate revocation list ({e})"))?;
        Ok(Crl {
            der: der.to_vec(),
            list,
        })
    }

    /// Whether `issuer` issued and signed this CRL.
    pub fn signed_by(&self, issuer: &Certificate) -> Result<(), String> {
        if self.list.tbs_cert_list.issuer != issuer.tbs_certificate.subject {
            return Err(format!(
                "the CRL is issued by {}",
                self.list.tbs_cert_list.issuer
            ));
        }
        let tbs = self
            .list
            .tbs_cert_list
            .to_der()
            .map_err(|e| e.to_string())?;
        let sig = self
            .list
            .signature
            .as_bytes()
            .ok_or("the CRL's signature is not whole bytes")?;
        let key = trust::rsa_key(issuer)?;
        trust::verify_rsa(&key, &self.list.signature_algorithm.oid, &tbs, sig)
            .map_err(|_| format!("the CRL of {} does not verify", subject(issuer)))
    }

    /// When the CRL was issued.
    pub fn this_update(&self) -> DateTime<Utc> {
        trust::time(&self.list.tbs_cert_list.this_update)
    }

    /// Whether this CRL (of `cert`'s issuer) lists `cert`: when it was revoked.
    pub fn revoked(&self, cert: &Certificate) -> Option<DateTime<Utc>> {
        if self.list.tbs_cert_list.issuer != cert.tbs_certificate.issuer {
            return None;
        }
        self.list
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .find(|r| r.serial_number == cert.tbs_certificate.serial_number)
            .map(|r| trust::time(&r.revocation_date))
    }
}

/// The validation data of a seal: certificates and CRLs, as the DSS holds them.
#[derive(Clone, Debug, Default)]
pub struct ValidationData {
    /// Every certificate of the seal's chain and of its time stamps' chains.
    pub certs: Vec<Certificate>,
    /// The CRLs that give the status of each of them but the roots.
    pub crls: Vec<Crl>,
}

/// The certificates of the time-stamp tokens in the unsigned attributes of a CMS
/// SignedData (DER), e.g. the TSA of the signature time stamp.
pub fn timestamp_certs(cms_der: &[u8]) -> Vec<Certificate> {
    let Ok(info) = ContentInfo::from_der(cms_der) else {
        return Vec::new();
    };
    let Ok(signed) = info.content.decode_as::<SignedData>() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for signer in signed.signer_infos.0.iter() {
        for attr in signer.unsigned_attrs.iter().flat_map(|s| s.iter()) {
            if attr.oid != crate::cms::SIGNATURE_TIME_STAMP {
                continue;
            }
            for v in attr.values.iter() {
                if let Ok(der) = v.to_der() {
                    out.extend(signed_data_certs(&der));
                }
            }
        }
    }
    out
}

/// The certificates a CMS ContentInfo (DER) of SignedData carries.
pub fn signed_data_certs(der: &[u8]) -> Vec<Certificate> {
    let Ok(info) = ContentInfo::from_der(der) else {
        return Vec::new();
    };
    let Ok(signed) = info.content.decode_as::<SignedData>() else {
        return Vec::new();
    };
    signed
        .certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// Gathers the validation data of `certs` (the seal's chain, the TSA's chain): for each
/// certificate that is not a root, the CRL of its distribution point (or of
/// `override_urls` when given), fetched with `fetch`, signed by its issuer. A revoked
/// certificate, a CRL that cannot be had or does not verify fail the seal: the document
/// waits and is tried again.
pub fn gather(
    certs: &[Certificate],
    fetch: &dyn Fetch,
    override_urls: &[String],
) -> Result<ValidationData, SealError> {
    let mut data = ValidationData::default();
    for c in certs {
        if !data.certs.contains(c) {
            data.certs.push(c.clone());
        }
    }
    let mut fetched: BTreeMap<String, Crl> = BTreeMap::new();
    for cert in &data.certs.clone() {
        if self_signed(cert) {
            continue;
        }
        let issuer = data
            .certs
            .iter()
            .find(|i| {
                i.tbs_certificate.subject == cert.tbs_certificate.issuer
                    && signed_by(cert, i).is_ok()
            })
            .cloned()
            .ok_or_else(|| {
                SealError::Revocation(format!(
                    "the issuer of {} is not in the chain; add it to the seal's chain",
                    subject(cert)
                ))
            })?;
        let urls = if override_urls.is_empty() {
            crl_urls(cert)
        } else {
            override_urls.to_vec()
        };
        if urls.is_empty() {
            return Err(SealError::Revocation(format!(
                "{} names no CRL distribution point; set `crl_urls` in [seal.revocation]",
                subject(cert)
            )));
        }
        let mut found = None;
        let mut why = Vec::new();
        for url in &urls {
            if !fetched.contains_key(url) {
                match fetch.get(url).and_then(|b| Crl::from_der(&b)) {
                    Ok(crl) => {
                        fetched.insert(url.clone(), crl);
                    }
                    Err(e) => {
                        why.push(format!("{url}: {e}"));
                        continue;
                    }
                }
            }
            if let Some(crl) = fetched.get(url) {
                match crl.signed_by(&issuer) {
                    Ok(()) => {
                        found = Some(crl.clone());
                        break;
                    }
                    Err(e) => why.push(format!("{url}: {e}")),
                }
            }
        }
        let crl = found.ok_or_else(|| {
            SealError::Revocation(format!(
                "no CRL for {} could be had ({})",
                subject(cert),
                why.join("; ")
            ))
        })?;
        if let Some(when) = crl.revoked(cert) {
            return Err(SealError::Revocation(format!(
                "{} is revoked (since {}); the seal needs a valid certificate",
                subject(cert),
                when.format("%Y-%m-%d %H:%M:%S UTC")
            )));
        }
        if !data.crls.iter().any(|c| c.der == crl.der) {
            data.crls.push(crl);
        }
    }
    Ok(data)
}
