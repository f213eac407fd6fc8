//! The RFC 3161 client (`paraaf_runtime::tsa`) against a local TSA started by the test
//! (`openssl ts` behind Python's http.server, no network): tokens from RSA, P-256 and
//! P-384 TSAs verify; every way a token or an answer can be wrong is refused with the
//! right kind of error.

#[path = "../../tests/tsa/local_tsa.rs"]
mod local_tsa;

use local_tsa::LocalTsa;
use paraaf_runtime::tsa::{self, Token, Trust, TsaError};
use sha2::{Digest, Sha256};

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

#[test]
fn tokens_from_rsa_and_ecdsa_tsas_verify() {
    for (key, ess) in [("rsa", "sha1"), ("ec256", "sha256"), ("ec384", "sha1")] {
        let tsa = LocalTsa::start(key, ess);
        let trust = Trust::from_pem_file(&tsa.ca()).unwrap();
        let d = digest("checkpoint 42 abc");
        let before = chrono::Utc::now() - chrono::Duration::seconds(2);
        let token = tsa::request(&tsa.url("/"), &d).unwrap();
        let info = token.verify(&d, &trust).unwrap();
        assert!(
            info.time >= before && info.time <= chrono::Utc::now() + chrono::Duration::seconds(2),
            "{key}: {info:?}"
        );
        assert!(info.tsa.contains("Paraaf test TSA"), "{key}: {info:?}");
        assert_eq!(info.policy, "1.2.3.4.1");
        assert!(!info.serial.is_empty());
        // Stored and read back: the same token verifies the same.
        let again = Token::from_der(token.der()).unwrap();
        assert_eq!(again.verify(&d, &trust).unwrap(), info);
        assert_eq!(token.claimed_time().unwrap(), info.time);
    }
}

#[test]
fn a_token_for_another_digest_an_untrusted_tsa_or_altered_bytes_is_refused() {
    let tsa = LocalTsa::start("rsa", "sha256");
    let trust = Trust::from_pem_file(&tsa.ca()).unwrap();
    let other = Trust::from_pem_file(&tsa.dir.join("other-ca.pem")).unwrap();
    let d = digest("head 1");
    let token = tsa::request(&tsa.url("/"), &d).unwrap();

    // Another digest.
    let e = token.verify(&digest("head 2"), &trust).unwrap_err();
    assert!(matches!(e, TsaError::Mismatch(_)), "{e}");
    // A root the city does not trust.
    let e = token.verify(&d, &other).unwrap_err();
    assert!(matches!(e, TsaError::Untrusted(_)), "{e}");
    // The TSA's own certificate as the only anchor is enough (a city may pin it).
    let pinned = Trust::from_pem_file(&tsa.dir.join("tsa.pem")).unwrap();
    token.verify(&d, &pinned).unwrap();

    // The stamped digest rewritten to another one inside the token: the signed
    // message-digest attribute no longer matches.
    let forged_digest = digest("head 999");
    let der = token.der();
    let at = der.windows(32).position(|w| w == d).unwrap();
    let mut forged = der.to_vec();
    forged[at..at + 32].copy_from_slice(&forged_digest);
    let e = Token::from_der(&forged)
        .unwrap()
        .verify(&forged_digest, &trust)
        .unwrap_err();
    assert!(
        matches!(e, TsaError::Mismatch(ref m) if m.contains("altered")),
        "{e}"
    );

    // The signature's last byte flipped.
    let mut flipped = der.to_vec();
    *flipped.last_mut().unwrap() ^= 1;
    let e = Token::from_der(&flipped)
        .unwrap()
        .verify(&d, &trust)
        .unwrap_err();
    assert!(
        matches!(e, TsaError::Mismatch(ref m) if m.contains("signature")),
        "{e}"
    );
}

#[test]
fn a_replayed_refused_or_missing_answer_is_told_apart() {
    let tsa = LocalTsa::start("ec256", "sha256");
    let d = digest("head 3");
    tsa::request(&tsa.url("/"), &d).unwrap();
    // The previous answer again: same digest, but another nonce.
    let e = tsa::request(&tsa.url("/replay"), &d).unwrap_err();
    assert!(
        matches!(e, TsaError::Mismatch(ref m) if m.contains("nonce")),
        "{e}"
    );
    // An old answer for another digest.
    let e = tsa::request(&tsa.url("/replay"), &digest("head 4")).unwrap_err();
    assert!(matches!(e, TsaError::Mismatch(_)), "{e}");
    let e = tsa::request(&tsa.url("/refuse"), &d).unwrap_err();
    assert!(matches!(e, TsaError::Refused(_)), "{e}");
    assert!(!e.is_unreachable());
    tsa.get("/down");
    let e = tsa::request(&tsa.url("/"), &d).unwrap_err();
    assert!(e.is_unreachable(), "{e}");
    tsa.get("/up");
    tsa::request(&tsa.url("/"), &d).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let e = tsa::request(&format!("http://127.0.0.1:{port}/"), &d).unwrap_err();
    assert!(e.is_unreachable(), "{e}");
}
