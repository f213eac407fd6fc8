//! The seal's key on a PKCS#11 token: SoftHSM2 (Debian's `softhsm2`) plays the city's HSM.
//! The test PKI's seal key is imported into a fresh token; the PDF sealed through the token
//! is judged VALID by pyHanko and by `verify`; a wrong PIN and an unknown key label are
//! refused with a message.

mod support;

use chrono::Utc;
use paraaf_seal::trust::Anchors;
use paraaf_seal::verify::verify;
use paraaf_seal::{Pkcs11Key, seal};
use std::path::Path;
use std::process::Command;
use support::*;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

fn run(dir: &Path, program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .env("SOFTHSM2_CONF", dir.join("softhsm2.conf"))
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (apt-get install softhsm2): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_seal_made_on_a_softhsm2_token_is_valid() {
    assert!(
        Path::new(MODULE).exists(),
        "SoftHSM2 is missing: apt-get install softhsm2"
    );
    let dir = temp("pkcs11");
    pki(&dir);
    pdfs(&dir);
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    std::fs::write(
        dir.join("softhsm2.conf"),
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.join("tokens").display()
        ),
    )
    .unwrap();
    run(
        &dir,
        "openssl",
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "seal.key", "-out", "seal.pk8",
        ],
    );
    run(
        &dir,
        "softhsm2-util",
        &[
            "--init-token",
            "--free",
            "--label",
            "paraaf-seal",
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ],
    );
    run(
        &dir,
        "softhsm2-util",
        &[
            "--import",
            "seal.pk8",
            "--token",
            "paraaf-seal",
            "--label",
            "zegel",
            "--id",
            "01",
            "--pin",
            "1234",
        ],
    );
    // The module reads its configuration from the environment.
    // SAFETY: set before any thread of this test process loads the module.
    unsafe { std::env::set_var("SOFTHSM2_CONF", dir.join("softhsm2.conf")) };
    let mut chain = std::fs::read(dir.join("seal.pem")).unwrap();
    chain.extend(std::fs::read(dir.join("root.pem")).unwrap());

    let wrong_pin = Pkcs11Key::open(Path::new(MODULE), "paraaf-seal", "zegel", "0000", &chain);
    assert!(wrong_pin.err().unwrap().to_string().contains("PIN"));
    let key = Pkcs11Key::open(Path::new(MODULE), "paraaf-seal", "zegel", "1234", &chain).unwrap();
    let no_label = Pkcs11Key::open(Path::new(MODULE), "paraaf-seal", "nope", "1234", &chain);
    let no_label = no_label.err().unwrap().to_string();
    assert!(
        no_label.contains("no private key labelled `nope`"),
        "{no_label}"
    );

    let tsa = OpensslTsa {
        dir: dir.clone(),
        down: false,
    };
    let original = std::fs::read(dir.join("decision.pdf")).unwrap();
    let sealed = seal(
        &original,
        &evidence("K7QF-3M9X-T2PA"),
        &key,
        Some(&tsa),
        Utc::now(),
    )
    .unwrap();
    let anchors = Anchors::from_pem_file(&dir.join("root.pem")).unwrap();
    let report = verify(&sealed, &anchors, Some(&tsa));
    assert!(report.valid(), "{report:?}");
    let path = dir.join("hsm-sealed.pdf");
    std::fs::write(&path, &sealed).unwrap();
    assert!(
        pyhanko_valid(&dir.join("root.pem"), &path),
        "pyHanko: not VALID"
    );
}
