//! The seal's CMS SignedData (RFC 5652) as PAdES baseline wants it (ETSI EN 319 142-1):
//! detached, SHA-256, the signed attributes content-type, message-digest and
//! signing-certificate-v2 (no signing-time: the time is the PDF's `/M` and the time
//! stamp's), and for B-T the signature time stamp (RFC 3161) as an unsigned attribute.

use crate::SealError;
use crate::keys::SealKey;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{OctetString, SetOfVec};
use der::oid::ObjectIdentifier;
use der::{Any, Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;

pub(crate) const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(crate) const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const RSA_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub(crate) const RSA_SHA384: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
pub(crate) const RSA_SHA512: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
pub(crate) const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const SIGNED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const CONTENT_TYPE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub(crate) const MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub(crate) const SIGNING_CERT_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub(crate) const SIGNATURE_TIME_STAMP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// `ESSCertIDv2` (RFC 5035): the signer's certificate by its SHA-256 (the default hash
/// algorithm, so not written) and issuer and serial.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct EssCertIdV2 {
    pub cert_hash: OctetString,
    pub issuer_serial: Option<IssuerSerial>,
}

/// `IssuerSerial` (RFC 5035).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial: SerialNumber,
}

/// `SigningCertificateV2` (RFC 5035), without policies.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

fn der_err(what: &'static str) -> impl Fn(der::Error) -> SealError {
    move |e| SealError::Cms(format!("{what}: {e}"))
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, SealError> {
    let mut values = SetOfVec::new();
    values.insert(value).map_err(der_err("attribute value"))?;
    Ok(Attribute { oid, values })
}

fn any_of<T: Encode>(value: &T) -> Result<Any, SealError> {
    let der = value.to_der().map_err(der_err("encode attribute"))?;
    Any::from_der(&der).map_err(der_err("attribute as any"))
}

/// The signed attributes over a document digest, for the certificate `cert`.
pub(crate) fn signed_attributes(
    digest: &[u8; 32],
    cert: &Certificate,
) -> Result<SetOfVec<Attribute>, SealError> {
    let cert_der = cert.to_der().map_err(der_err("certificate"))?;
    let signing_cert = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(&cert_der).to_vec())
                .map_err(der_err("certificate hash"))?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    cert.tbs_certificate.issuer.clone(),
                )],
                serial: cert.tbs_certificate.serial_number.clone(),
            }),
        }],
    };
    let mut attrs = SetOfVec::new();
    attrs
        .insert(attribute(CONTENT_TYPE, any_of(&DATA)?)?)
        .map_err(der_err("content type"))?;
    attrs
        .insert(attribute(
            MESSAGE_DIGEST,
            any_of(&OctetString::new(digest.to_vec()).map_err(der_err("digest"))?)?,
        )?)
        .map_err(der_err("message digest"))?;
    attrs
        .insert(attribute(SIGNING_CERT_V2, any_of(&signing_cert)?)?)
        .map_err(der_err("signing certificate"))?;
    Ok(attrs)
}

/// Given the seal's signature value, an RFC 3161 `TimeStampToken` (DER) over it.
pub(crate) type Stamp<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, SealError>;

/// A detached CMS SignedData (DER) over the bytes whose SHA-256 is `digest`, signed by
/// `key`; with `stamp` (given the signature value, returns an RFC 3161
/// `TimeStampToken`'s DER) a signature time stamp is added (B-T).
pub(crate) fn sign_detached(
    digest: &[u8; 32],
    key: &dyn SealKey,
    stamp: Option<Stamp<'_>>,
) -> Result<Vec<u8>, SealError> {
    let chain = key.chain();
    let cert = chain
        .first()
        .ok_or_else(|| SealError::Key("the seal key has no certificate".into()))?;
    let attrs = signed_attributes(digest, cert)?;
    let to_sign = attrs.to_der().map_err(der_err("signed attributes"))?;
    let signature = key.sign_sha256(&to_sign)?;
    let unsigned_attrs = match stamp {
        None => None,
        Some(stamp) => {
            let token = stamp(&signature)?;
            let token = Any::from_der(&token).map_err(der_err("time stamp token"))?;
            let mut set = SetOfVec::new();
            set.insert(attribute(SIGNATURE_TIME_STAMP, token)?)
                .map_err(der_err("time stamp attribute"))?;
            Some(set)
        }
    };
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: AlgorithmIdentifierOwned {
            oid: SHA256,
            parameters: None,
        },
        signed_attrs: Some(attrs),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: RSA_SHA256,
            parameters: Some(Any::null()),
        },
        signature: OctetString::new(signature).map_err(der_err("signature"))?,
        unsigned_attrs,
    };
    let mut digests = SetOfVec::new();
    digests
        .insert(AlgorithmIdentifierOwned {
            oid: SHA256,
            parameters: None,
        })
        .map_err(der_err("digest algorithms"))?;
    let mut certs = SetOfVec::new();
    for c in chain {
        certs
            .insert(CertificateChoices::Certificate(c.clone()))
            .map_err(der_err("certificates"))?;
    }
    let mut signers = SetOfVec::new();
    signers.insert(signer).map_err(der_err("signer"))?;
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: digests,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(certs)),
        crls: None,
        signer_infos: SignerInfos(signers),
    };
    let info = ContentInfo {
        content_type: SIGNED_DATA,
        content: any_of(&signed)?,
    };
    info.to_der().map_err(der_err("content info"))
}
