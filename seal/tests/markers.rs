//! Signature blocks at template markers (#28): a template made by reportlab with
//! `{{paraaf:handtekening:STEP}}` markers is sealed; pikepdf (outside Paraaf,
//! tests/seal/text_positions.py) finds each signed step's block drawn at its marker's
//! place, the marker of a step nobody signed left alone, and pyHanko judges the seal
//! VALID.

mod support;

use chrono::Utc;
use paraaf_seal::{Pkcs12Key, seal};
use std::process::Command;
use support::*;

/// (page, x, y, text) of every string pikepdf finds.
fn positions(pdf: &std::path::Path) -> Vec<(u64, f64, f64, String)> {
    let out = Command::new("python3")
        .arg(repo().join("tests/seal/text_positions.py"))
        .arg(pdf)
        .output()
        .expect("python3 runs tests/seal/text_positions.py");
    assert!(
        out.status.success(),
        "text_positions.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Vec<&str> = l.splitn(4, '\t').collect();
            (
                v[0].parse().unwrap(),
                v[1].parse().unwrap(),
                v[2].parse().unwrap(),
                v[3].to_string(),
            )
        })
        .collect()
}

fn at(found: &[(u64, f64, f64, String)], page: u64, x: f64, y: f64, text: &str) -> bool {
    found.iter().any(|(p, fx, fy, t)| {
        *p == page && (fx - x).abs() < 0.5 && (fy - y).abs() < 0.5 && t == text
    })
}

#[test]
fn each_signed_step_is_drawn_at_its_marker() {
    let dir = temp("markers");
    pki(&dir);
    pdfs(&dir);
    let key = Pkcs12Key::from_file(&dir.join("seal.p12"), "test").unwrap();
    let tsa = OpensslTsa {
        dir: dir.clone(),
        down: false,
    };
    let original = std::fs::read(dir.join("markers.pdf")).unwrap();
    let ev = evidence("K7QF-3M9X-T2PA");
    let sealed = seal(&original, &ev, &key, Some(&tsa), Utc::now()).unwrap();
    assert_eq!(&sealed[..original.len()], &original[..]);
    let path = dir.join("markers-sealed.pdf");
    std::fs::write(&path, &sealed).unwrap();
    let found = positions(&path);

    // visum (Dirk Lambert) at (72, 300) on page 1: the marker sits under a cm.
    assert!(
        at(&found, 1, 72.0, 300.0, "Getekend door Dirk Lambert"),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(p, x, y, t)| *p == 1
            && (x - 72.0).abs() < 0.5
            && *y < 300.0
            && t == "algemeen directeur van Stad Aalst"),
        "{found:?}"
    );
    // handtekening (a substitute for the mayor) at (320, 180) on page 2.
    assert!(
        at(
            &found,
            2,
            320.0,
            180.0,
            "Getekend door Zoë Van den Broeck voor Christoph D'Haese"
        ),
        "{found:?}"
    );
    // Nobody signs `onbekend`: no block there, the marker stays.
    assert!(at(
        &found,
        2,
        72.0,
        100.0,
        "{{paraaf:handtekening:onbekend}}"
    ));
    assert!(
        !found.iter().any(|(p, x, y, t)| *p == 2
            && (x - 72.0).abs() < 0.5
            && (y - 100.0).abs() < 0.5
            && t.starts_with("Getekend")),
        "{found:?}"
    );
    // A document without markers gets no block on its own pages.
    let plain = seal(
        &std::fs::read(dir.join("decision.pdf")).unwrap(),
        &ev,
        &key,
        Some(&tsa),
        Utc::now(),
    )
    .unwrap();
    let plain_path = dir.join("decision-sealed.pdf");
    std::fs::write(&plain_path, &plain).unwrap();
    assert!(
        !positions(&plain_path)
            .iter()
            .any(|(p, _, _, t)| *p <= 2 && t.starts_with("Getekend door"))
    );
    assert!(
        pyhanko_valid(&dir.join("root.pem"), &path),
        "pyHanko says not VALID"
    );
}
