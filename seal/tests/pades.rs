//! Sealing PDFs of other tools and checking the result with pyHanko and with
//! `verify`: valid when intact, invalid after one flipped byte, untrusted under another
//! root, the original bytes untouched.

mod support;

use chrono::Utc;
use paraaf_seal::trust::Anchors;
use paraaf_seal::verify::verify;
use paraaf_seal::{Pkcs12Key, seal};
use support::*;

#[test]
fn sealed_pdfs_of_other_tools_are_valid_for_pyhanko_and_verify() {
    let dir = temp("tools");
    pki(&dir);
    pdfs(&dir);
    let key = Pkcs12Key::from_file(&dir.join("seal.p12"), "test").unwrap();
    let tsa = OpensslTsa {
        dir: dir.clone(),
        down: false,
    };
    let anchors = Anchors::from_pem_file(&dir.join("root.pem")).unwrap();
    let other = Anchors::from_pem_file(&dir.join("other-root.pem")).unwrap();
    for name in ["decision", "scanned", "pdfa", "form"] {
        let original = std::fs::read(dir.join(format!("{name}.pdf"))).unwrap();
        let sealed = seal(
            &original,
            &evidence("K7QF-3M9X-T2PA"),
            &key,
            Some(&tsa),
            Utc::now(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            &sealed[..original.len()],
            &original[..],
            "{name}: original bytes changed"
        );
        let path = dir.join(format!("{name}-sealed.pdf"));
        std::fs::write(&path, &sealed).unwrap();

        let report = verify(&sealed, &anchors, Some(&tsa));
        assert!(report.valid(), "{name}: {report:?}");
        assert_eq!(report.code.as_deref(), Some("K7QF-3M9X-T2PA"));
        assert!(report.timestamp.is_some(), "{name}: no time stamp checked");
        assert!(
            pyhanko_valid(&dir.join("root.pem"), &path),
            "{name}: pyHanko says not VALID"
        );

        // Another root: the seal is intact but not trusted.
        let untrusted = verify(&sealed, &other, Some(&tsa));
        assert!(
            !untrusted.valid() && untrusted.intact && untrusted.chain.is_none(),
            "{name}"
        );
    }
}

#[test]
fn one_flipped_byte_anywhere_makes_the_seal_invalid() {
    let dir = temp("flip");
    pki(&dir);
    pdfs(&dir);
    let key = Pkcs12Key::from_file(&dir.join("seal.p12"), "test").unwrap();
    let tsa = OpensslTsa {
        dir: dir.clone(),
        down: false,
    };
    let anchors = Anchors::from_pem_file(&dir.join("root.pem")).unwrap();
    let original = std::fs::read(dir.join("decision.pdf")).unwrap();
    let sealed = seal(
        &original,
        &evidence("K7QF-3M9X-T2PA"),
        &key,
        Some(&tsa),
        Utc::now(),
    )
    .unwrap();
    assert!(verify(&sealed, &anchors, Some(&tsa)).valid());

    // In the original page text, in the evidence page, in the signature value and its
    // padding, in the last byte: every one is refused.
    let text = sealed
        .windows(9)
        .position(|w| w == b"Overweging")
        .unwrap_or(original.len() / 2);
    let evidence_at = sealed.windows(6).position(|w| w == b"Zegel ").unwrap();
    let contents = sealed.windows(10).position(|w| w == b"/Contents<").unwrap() + 12;
    let padding = sealed[contents..].iter().position(|b| *b == b'>').unwrap() + contents - 4;
    for at in [
        text + 2,
        evidence_at + 2,
        contents + 40,
        padding,
        sealed.len() - 3,
    ] {
        let mut bad = sealed.clone();
        bad[at] ^= 0x01;
        let report = verify(&bad, &anchors, Some(&tsa));
        assert!(!report.valid(), "a flipped byte at {at} passed: {report:?}");
        let path = dir.join(format!("flipped-{at}.pdf"));
        std::fs::write(&path, &bad).unwrap();
        if at == text + 2 {
            assert!(
                !pyhanko_valid(&dir.join("root.pem"), &path),
                "pyHanko accepted a flipped byte"
            );
        }
    }

    // Something appended after the seal: no seal covers the end.
    let mut appended = sealed.clone();
    appended.extend_from_slice(b"\n% appended\n");
    let report = verify(&appended, &anchors, Some(&tsa));
    assert!(!report.valid());
    assert!(
        report.problems[0].contains("changed after it was sealed"),
        "{:?}",
        report.problems
    );
}

#[test]
fn a_tsa_that_is_down_fails_the_seal_and_no_tsa_gives_b_b() {
    let dir = temp("down");
    pki(&dir);
    pdfs(&dir);
    let key = Pkcs12Key::from_file(&dir.join("seal.p12"), "test").unwrap();
    let down = OpensslTsa {
        dir: dir.clone(),
        down: true,
    };
    let original = std::fs::read(dir.join("form.pdf")).unwrap();
    let err = seal(
        &original,
        &evidence("K7QF-3M9X-T2PA"),
        &key,
        Some(&down),
        Utc::now(),
    )
    .unwrap_err();
    assert!(matches!(err, paraaf_seal::SealError::Timestamp(_)), "{err}");

    let anchors = Anchors::from_pem_file(&dir.join("root.pem")).unwrap();
    let b_b = seal(
        &original,
        &evidence("K7QF-3M9X-T2PA"),
        &key,
        None,
        Utc::now(),
    )
    .unwrap();
    let report = verify(&b_b, &anchors, None);
    assert!(report.valid() && !report.timestamped, "{report:?}");
    // A verifier that checks time stamps refuses a seal without one.
    let up = OpensslTsa {
        dir: dir.clone(),
        down: false,
    };
    assert!(!verify(&b_b, &anchors, Some(&up)).valid());
}

#[test]
fn wrong_inputs_give_errors_not_panics() {
    let dir = temp("wrong");
    pki(&dir);
    let key = Pkcs12Key::from_file(&dir.join("seal.p12"), "test").unwrap();
    assert!(Pkcs12Key::from_file(&dir.join("seal.p12"), "wrong").is_err());
    assert!(
        seal(
            b"not a pdf",
            &evidence("K7QF-3M9X-T2PA"),
            &key,
            None,
            Utc::now()
        )
        .is_err()
    );
    let anchors = Anchors::from_pem_file(&dir.join("root.pem")).unwrap();
    for junk in [
        &b""[..],
        b"%PDF-1.7\n",
        b"%PDF-1.4\n1 0 obj <</ByteRange [0 5 6 7] /Contents <00>>> endobj",
    ] {
        assert!(!verify(junk, &anchors, None).valid());
    }
}

#[test]
fn a_document_submitted_as_text_is_set_in_a_pdf_and_sealed() {
    let dir = temp("text");
    pki(&dir);
    let key = Pkcs12Key::from_file(&dir.join("seal.p12"), "test").unwrap();
    let tsa = OpensslTsa {
        dir: dir.clone(),
        down: false,
    };
    let body: String = (1..=150)
        .map(|i| format!("Artikel {i}: de schepen van Financiën beslist — € 1.200.\n"))
        .collect();
    let pdf = paraaf_seal::text_pdf("Collegebesluit", &body).unwrap();
    let sealed = seal(
        &pdf,
        &evidence("K7QF-3M9X-T2PA"),
        &key,
        Some(&tsa),
        Utc::now(),
    )
    .unwrap();
    let anchors = Anchors::from_pem_file(&dir.join("root.pem")).unwrap();
    assert!(verify(&sealed, &anchors, Some(&tsa)).valid());
    let path = dir.join("text-sealed.pdf");
    std::fs::write(&path, &sealed).unwrap();
    assert!(pyhanko_valid(&dir.join("root.pem"), &path));
}
