//! A test PKI (`tests/seal/pki.sh`: openssl), PDFs made by other tools
//! (`tests/seal/make_pdfs.py`: reportlab, pikepdf) and a time-stamp authority played by
//! `openssl ts -reply` (no network): nothing of Paraaf's own makes the certificates,
//! the inputs or the time stamps the tests check against.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use paraaf_seal::verify::TimestampCheck;
use paraaf_seal::{Evidence, SignatureLine, Timestamper};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh temporary folder for one test.
pub fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paraaf-seal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Makes the test PKI in `dir`.
pub fn pki(dir: &Path) {
    let ok = Command::new("bash")
        .arg(repo().join("tests/seal/pki.sh"))
        .arg(dir)
        .status()
        .expect("bash runs tests/seal/pki.sh (needs openssl)");
    assert!(ok.success(), "tests/seal/pki.sh failed");
}

/// Makes the PDFs of other tools in `dir`.
pub fn pdfs(dir: &Path) {
    let out = Command::new("python3")
        .arg(repo().join("tests/seal/make_pdfs.py"))
        .arg(dir)
        .output()
        .expect("python3 runs tests/seal/make_pdfs.py");
    assert!(
        out.status.success(),
        "tests/seal/make_pdfs.py failed (pip install reportlab pikepdf): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs")
}

/// The TSA of the test PKI, through `openssl ts -reply`.
pub struct OpensslTsa {
    pub dir: PathBuf,
    /// When set, the TSA is down.
    pub down: bool,
}

impl Timestamper for OpensslTsa {
    fn stamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, String> {
        if self.down {
            return Err("the TSA at http://127.0.0.1:1 is unreachable".into());
        }
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = format!(
            "{}-{}",
            hex::encode(&digest[..6]),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let q = format!("q-{id}.tsq");
        let t = format!("t-{id}.der");
        let out = openssl(
            &self.dir,
            &[
                "ts",
                "-query",
                "-digest",
                &hex::encode(digest),
                "-sha256",
                "-cert",
                "-out",
                &q,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = openssl(
            &self.dir,
            &[
                "ts",
                "-reply",
                "-config",
                "tsa.cnf",
                "-queryfile",
                &q,
                "-token_out",
                "-out",
                &t,
            ],
        );
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into());
        }
        std::fs::read(self.dir.join(&t)).map_err(|e| e.to_string())
    }
}

impl TimestampCheck for OpensslTsa {
    fn check(&self, token: &[u8], digest: &[u8; 32]) -> Result<DateTime<Utc>, String> {
        let t = format!("check-{}.der", hex::encode(&digest[..8]));
        std::fs::write(self.dir.join(&t), token).map_err(|e| e.to_string())?;
        let out = openssl(
            &self.dir,
            &[
                "ts",
                "-verify",
                "-digest",
                &hex::encode(digest),
                "-in",
                &t,
                "-token_in",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "tsa.pem",
            ],
        );
        if !out.status.success() {
            return Err(format!(
                "openssl ts -verify: {}",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        let text = openssl(
            &self.dir,
            &["ts", "-reply", "-in", &t, "-token_in", "-text"],
        );
        let text = String::from_utf8_lossy(&text.stdout).to_string();
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("Time stamp: "))
            .ok_or("no time in the token")?;
        DateTime::parse_from_str(&line.replace(" GMT", " +0000"), "%b %e %H:%M:%S %Y %z")
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| format!("{line}: {e}"))
    }
}

/// The evidence of a completed Aalst college decision.
pub fn evidence(code: &str) -> Evidence {
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    Evidence {
        city: "Stad Aalst".into(),
        title: "Collegebesluit: verkeersreglement Kerkstraat".into(),
        document: "d-7QK2M".into(),
        kind: "collegebesluit".into(),
        flow: "collegebesluit".into(),
        version: 3,
        rule: Some("notulen_naar_college".into()),
        submitted_by: "Griet Vermeulen".into(),
        submitted_at: at("2026-12-01T08:15:00Z"),
        completed_at: at("2026-12-03T16:42:10Z"),
        signatures: vec![
            SignatureLine {
                step: "visum".into(),
                signer: "Dirk Lambert".into(),
                for_whom: None,
                role: "algemeen directeur van Stad Aalst".into(),
                at: at("2026-12-02T09:01:00Z"),
            },
            SignatureLine {
                step: "handtekening".into(),
                signer: "Zoë Van den Broeck".into(),
                for_whom: Some("Christoph D'Haese".into()),
                role: "burgemeester".into(),
                at: at("2026-12-03T16:42:10Z"),
            },
        ],
        document_sha256: "ab".repeat(32),
        log_seq: 4312,
        log_sha256: "cd".repeat(32),
        code: code.into(),
        verify_url: Some("https://paraaf.aalst.be/verify".into()),
    }
}

/// Runs pyHanko on `pdf` against `root`; true when it says VALID (intact, trusted,
/// time-stamped, entire file, PAdES).
pub fn pyhanko_valid(root: &Path, pdf: &Path) -> bool {
    let out = Command::new("python3")
        .arg(repo().join("tests/seal/validate.py"))
        .arg(root)
        .arg(pdf)
        .output()
        .expect("python3 runs tests/seal/validate.py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("ModuleNotFoundError"),
        "pyHanko is missing: pip install pyhanko pyhanko-certvalidator"
    );
    eprintln!("{text}");
    out.status.success() && text.contains(": VALID")
}

/// Makes the test PKI in `dir` with every certificate naming `base`/root.crl as its CRL
/// distribution point (`tests/seal/pki.sh DIR BASE_URL`).
pub fn pki_at(dir: &Path, base: &str) {
    let ok = Command::new("bash")
        .arg(repo().join("tests/seal/pki.sh"))
        .arg(dir)
        .arg(base)
        .status()
        .expect("bash runs tests/seal/pki.sh (needs openssl)");
    assert!(ok.success(), "tests/seal/pki.sh failed");
}

/// Revocation data served from the test PKI's folder: `…/root.crl` is `dir/root.crl`
/// (what `tests/seal/pki_server.py` serves); counts the fetches. `down` fails every one.
pub struct FileFetch {
    pub dir: PathBuf,
    pub down: bool,
    pub fetched: std::sync::atomic::AtomicUsize,
}

impl paraaf_seal::revocation::Fetch for FileFetch {
    fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        if self.down {
            return Err(format!("{url} is unreachable"));
        }
        self.fetched
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = url.rsplit('/').next().unwrap_or_default();
        std::fs::read(self.dir.join(name)).map_err(|e| format!("{url}: {e}"))
    }
}

/// Runs pyHanko's long-term validation (PAdES B-LTA: the document time stamp, the DSS,
/// revocation data required, nothing fetched) on `pdf` against `root`.
pub fn pyhanko_lta_valid(root: &Path, pdf: &Path) -> bool {
    let out = Command::new("python3")
        .arg(repo().join("tests/seal/validate.py"))
        .arg(root)
        .arg(pdf)
        .arg("--lta")
        .output()
        .expect("python3 runs tests/seal/validate.py");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    out.status.success() && text.contains(": VALID")
}
