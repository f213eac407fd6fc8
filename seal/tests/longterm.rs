//! PAdES B-LT and B-LTA (#28): the seal's validation data (its chain and the TSA's,
//! the root's CRL) in a DSS after the seal, then a document time stamp over the whole
//! file; pyHanko validates the result long-term from the file alone. A revoked seal
//! certificate or a CRL that cannot be had fail the seal.

mod support;

use chrono::Utc;
use paraaf_seal::trust::Anchors;
use paraaf_seal::verify::{verify, verify_with};
use paraaf_seal::{LongTerm, Pkcs12Key, SealError, seal, seal_with};
use std::sync::atomic::{AtomicUsize, Ordering};
use support::*;

/// Nothing listens here: the CRL is "fetched" from the PKI's folder ([`FileFetch`]),
/// and pyHanko, validating offline, could not fetch it anyway.
const BASE: &str = "http://127.0.0.1:9/pki";

#[test]
fn a_b_lta_seal_carries_its_validation_data_and_pyhanko_validates_it_offline() {
    let dir = temp("lta");
    pki_at(&dir, BASE);
    pdfs(&dir);
    let key = Pkcs12Key::from_file(&dir.join("seal.p12"), "test").unwrap();
    let tsa = OpensslTsa {
        dir: dir.clone(),
        down: false,
    };
    let fetch = FileFetch {
        dir: dir.clone(),
        down: false,
        fetched: AtomicUsize::new(0),
    };
    let lt = LongTerm {
        fetch: &fetch,
        crl_urls: &[],
        archive_timestamp: true,
    };
    let original = std::fs::read(dir.join("decision.pdf")).unwrap();
    let sealed = seal_with(
        &original,
        &evidence("K7QF-3M9X-T2PA"),
        &key,
        Some(&tsa),
        Some(&lt),
        Utc::now(),
    )
    .unwrap();
    assert_eq!(&sealed[..original.len()], &original[..]);
    assert!(
        fetch.fetched.load(Ordering::SeqCst) >= 1,
        "the CRL was fetched"
    );
    let path = dir.join("decision-lta.pdf");
    std::fs::write(&path, &sealed).unwrap();
    assert!(
        pyhanko_lta_valid(&dir.join("root.pem"), &path),
        "pyHanko does not validate the B-LTA seal"
    );
    let anchors = Anchors::from_pem_file(&dir.join("root.pem")).unwrap();
    let report = verify(&sealed, &anchors, Some(&tsa));
    assert!(report.valid(), "{report:?}");
    assert_eq!(report.level.as_deref(), Some("B-LTA"), "{report:?}");
    assert_eq!(report.archive_timestamps.len(), 1, "{report:?}");
    assert!(
        report
            .revocation
            .iter()
            .any(|r| r.contains("Stad Aalst (elektronisch zegel)")
                && r.contains("not revoked")
                && r.contains("in the file")),
        "{report:?}"
    );

    // Anything else appended after the seal (here: a catalog entry) is a change.
    let prev = lopdf::Document::load_mem(&sealed).unwrap();
    let root = prev.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let mut doc = lopdf::IncrementalDocument::create_from(sealed.clone(), prev);
    doc.opt_clone_object_to_new_document(root).unwrap();
    doc.new_document
        .get_dictionary_mut(root)
        .unwrap()
        .set("Lang", lopdf::Object::string_literal("en"));
    let mut changed = Vec::new();
    doc.save_to(&mut changed).unwrap();
    let report = verify(&changed, &anchors, Some(&tsa));
    assert!(!report.valid(), "{report:?}");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("changed after it was sealed")),
        "{report:?}"
    );
    let changed_path = dir.join("decision-lta-changed.pdf");
    std::fs::write(&changed_path, &changed).unwrap();
    assert!(!pyhanko_lta_valid(&dir.join("root.pem"), &changed_path));

    // B-LT without the document time stamp: a DSS, but not LTA for pyHanko.
    let lt = LongTerm {
        archive_timestamp: false,
        ..lt
    };
    let b_lt = seal_with(
        &original,
        &evidence("K7QF-3M9X-T2PA"),
        &key,
        Some(&tsa),
        Some(&lt),
        Utc::now(),
    )
    .unwrap();
    let path = dir.join("decision-lt.pdf");
    std::fs::write(&path, &b_lt).unwrap();
    assert!(b_lt.windows(4).any(|w| w == b"/DSS"));
    assert!(!pyhanko_lta_valid(&dir.join("root.pem"), &path));
    let report = verify(&b_lt, &anchors, Some(&tsa));
    assert!(report.valid(), "{report:?}");
    assert_eq!(report.level.as_deref(), Some("B-LT"), "{report:?}");
}

#[test]
fn a_revoked_seal_certificate_or_an_unreachable_crl_fails_the_seal() {
    let dir = temp("revoked");
    pki_at(&dir, BASE);
    pdfs(&dir);
    let tsa = OpensslTsa {
        dir: dir.clone(),
        down: false,
    };
    let original = std::fs::read(dir.join("form.pdf")).unwrap();
    let fetch = FileFetch {
        dir: dir.clone(),
        down: false,
        fetched: AtomicUsize::new(0),
    };
    let lt = LongTerm {
        fetch: &fetch,
        crl_urls: &[],
        archive_timestamp: true,
    };
    let revoked = Pkcs12Key::from_file(&dir.join("seal-revoked.p12"), "test").unwrap();
    let err = seal_with(
        &original,
        &evidence("K7QF-3M9X-T2PA"),
        &revoked,
        Some(&tsa),
        Some(&lt),
        Utc::now(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, SealError::Revocation(m) if m.contains("is revoked")),
        "{err}"
    );

    let down = FileFetch {
        dir: dir.clone(),
        down: true,
        fetched: AtomicUsize::new(0),
    };
    let lt = LongTerm {
        fetch: &down,
        crl_urls: &[],
        archive_timestamp: true,
    };
    let key = Pkcs12Key::from_file(&dir.join("seal.p12"), "test").unwrap();
    let err = seal_with(
        &original,
        &evidence("K7QF-3M9X-T2PA"),
        &key,
        Some(&tsa),
        Some(&lt),
        Utc::now(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, SealError::Revocation(m) if m.contains("unreachable")),
        "{err}"
    );
}

#[test]
fn verify_refuses_a_revoked_seal_certificate_and_an_issuer_that_is_not_a_ca() {
    let dir = temp("verify-revoked");
    pki_at(&dir, BASE);
    pdfs(&dir);
    let tsa = OpensslTsa {
        dir: dir.clone(),
        down: false,
    };
    let anchors = Anchors::from_pem_file(&dir.join("root.pem")).unwrap();
    let original = std::fs::read(dir.join("decision.pdf")).unwrap();
    let fetch = FileFetch {
        dir: dir.clone(),
        down: false,
        fetched: AtomicUsize::new(0),
    };

    // Sealed (B-T) with the certificate the root's CRL revokes: the fetched CRL says so.
    let revoked = Pkcs12Key::from_file(&dir.join("seal-revoked.p12"), "test").unwrap();
    let sealed = seal(
        &original,
        &evidence("K7QF-3M9X-T2PA"),
        &revoked,
        Some(&tsa),
        Utc::now(),
    )
    .unwrap();
    let report = verify_with(&sealed, &anchors, Some(&tsa), Some(&fetch));
    assert!(!report.valid(), "{report:?}");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("ingetrokken zegel") && p.contains("was revoked on")),
        "{report:?}"
    );
    assert_eq!(fetch.fetched.load(Ordering::SeqCst), 1);
    // Without revocation data it cannot know: valid, but it says the status was not checked.
    let report = verify(&sealed, &anchors, Some(&tsa));
    assert!(report.valid(), "{report:?}");
    assert!(
        report.revocation.iter().any(|r| r.contains("not checked")),
        "{report:?}"
    );
    assert_eq!(report.level.as_deref(), Some("B-T"));

    // A seal certificate issued by an "intermediate" whose basicConstraints say CA:false.
    let badchain = Pkcs12Key::from_file(&dir.join("seal-badchain.p12"), "test").unwrap();
    let sealed = seal(
        &original,
        &evidence("K7QF-3M9X-T2PA"),
        &badchain,
        Some(&tsa),
        Utc::now(),
    )
    .unwrap();
    let report = verify(&sealed, &anchors, Some(&tsa));
    assert!(!report.valid(), "{report:?}");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("Not A CA") && p.contains("is not a CA")),
        "{report:?}"
    );
    let path = dir.join("badchain.pdf");
    std::fs::write(&path, &sealed).unwrap();
    assert!(
        !pyhanko_valid(&dir.join("root.pem"), &path),
        "pyHanko trusts a chain through a non-CA"
    );
}
