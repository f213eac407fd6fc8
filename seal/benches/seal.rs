//! `cargo bench -p paraaf-seal --bench seal`: sealing one document (incremental update,
//! evidence page, code stamps, CMS with an RSA-2048 signature), next to a bare SHA-256 of
//! the same PDF measured in the same run, for PDFs made by other tools (a two-page
//! decision, a 140 kB scanned page, a 60-page text PDF). Also B-T with the time stamp of
//! `openssl ts -reply` run as a process (a real TSA adds its network round trip instead),
//! and B-LTA: B-T, the CRL read from the test PKI's folder (a real CRL adds its download),
//! the DSS update and the document time stamp (a second `openssl ts`).
//! Needs openssl, python3 with reportlab and pikepdf (as the tests).

#[path = "../tests/support/mod.rs"]
mod support;

use chrono::Utc;
use paraaf_seal::{LongTerm, Pkcs12Key, Timestamper, seal, seal_with};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use support::*;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let dir = temp("bench");
    pki_at(&dir, "http://127.0.0.1:9/pki");
    pdfs(&dir);
    let key = Pkcs12Key::from_file(&dir.join("seal.p12"), "test").unwrap();
    let tsa = OpensslTsa {
        dir: dir.clone(),
        down: false,
    };
    let long: String = (1..=3000)
        .map(|i| format!("Artikel {i}: het college beslist zoals hieronder beschreven.\n"))
        .collect();
    let text = paraaf_seal::text_pdf("Reglement", &long).unwrap();
    std::fs::write(dir.join("text60.pdf"), &text).unwrap();
    println!(
        "{:<14} {:>9} {:>14} {:>16} {:>8} {:>16} {:>16}",
        "PDF", "size", "SHA-256 (base)", "seal B-B", "ratio", "seal B-T (openssl)", "seal B-LTA"
    );
    let fetch = FileFetch {
        dir: dir.clone(),
        down: false,
        fetched: Default::default(),
    };
    let lt = LongTerm {
        fetch: &fetch,
        crl_urls: &[],
        archive_timestamp: true,
    };
    for name in ["decision", "scanned", "text60"] {
        let pdf = std::fs::read(dir.join(format!("{name}.pdf"))).unwrap();
        let ev = evidence("K7QF-3M9X-T2PA");
        let sha = time(200, || {
            std::hint::black_box(Sha256::digest(&pdf));
        });
        let bb = time(30, || {
            std::hint::black_box(seal(&pdf, &ev, &key, None, Utc::now()).unwrap());
        });
        let bt = time(5, || {
            std::hint::black_box(
                seal(&pdf, &ev, &key, Some(&tsa as &dyn Timestamper), Utc::now()).unwrap(),
            );
        });
        let lta = time(5, || {
            std::hint::black_box(
                seal_with(
                    &pdf,
                    &ev,
                    &key,
                    Some(&tsa as &dyn Timestamper),
                    Some(&lt),
                    Utc::now(),
                )
                .unwrap(),
            );
        });
        println!(
            "{:<14} {:>7} kB {:>11.3} ms {:>13.2} ms {:>7.0}x {:>13.1} ms {:>13.1} ms",
            name,
            pdf.len() / 1024,
            sha.as_secs_f64() * 1e3,
            bb.as_secs_f64() * 1e3,
            bb.as_secs_f64() / sha.as_secs_f64(),
            bt.as_secs_f64() * 1e3,
            lta.as_secs_f64() * 1e3
        );
    }
}
