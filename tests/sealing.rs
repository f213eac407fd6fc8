//! Sealed PDFs end to end through the `paraaf` command (#28): an Aalst college decision
//! completes, its seal waits while the TSA is down (the document stays completed), is
//! made once the TSA is back, is exported only to people who may see the document, and
//! `paraaf verify` and pyHanko (outside Paraaf) both judge it VALID, and a copy with
//! one flipped byte INVALID.

#[path = "tsa/local_tsa.rs"]
mod local_tsa;
mod support;

use local_tsa::LocalTsa;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{City, root};

const NOW: &str = "2026-11-23";

/// The test PKI (tests/seal/pki.sh) and a seal configuration using the local TSA;
/// returns (config, trust bundle).
fn configure(city: &City, tsa: &LocalTsa) -> (PathBuf, PathBuf) {
    let pki = city.dir.join("pki");
    let ok = Command::new("bash")
        .arg(root().join("tests/seal/pki.sh"))
        .arg(&pki)
        .status()
        .unwrap();
    assert!(ok.success(), "tests/seal/pki.sh (openssl) failed");
    let trust = pki.join("trust.pem");
    let mut bundle = std::fs::read(pki.join("root.pem")).unwrap();
    bundle.extend(std::fs::read(tsa.ca()).unwrap());
    std::fs::write(&trust, bundle).unwrap();
    std::fs::write(pki.join("password"), "test\n").unwrap();
    let config = pki.join("seal.toml");
    std::fs::write(
        &config,
        format!(
            "[seal]\ncity = \"Stad Aalst\"\npkcs12 = \"seal.p12\"\npassword_file = \"password\"\ntsa_url = \"{}\"\ntrust = \"trust.pem\"\nverify_url = \"https://paraaf.aalst.be/verify\"\n",
            tsa.url("/")
        ),
    )
    .unwrap();
    (config, trust)
}

/// A real college decision PDF (reportlab, tests/seal/make_pdfs.py) as the content.
fn decision_pdf(city: &City) {
    let dir = city.dir.join("pdfs");
    let out = Command::new("python3")
        .arg(root().join("tests/seal/make_pdfs.py"))
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make_pdfs.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::copy(dir.join("decision.pdf"), &city.content).unwrap();
}

fn pyhanko(trust: &Path, pdf: &Path) -> (bool, String) {
    let out = Command::new("python3")
        .arg(root().join("tests/seal/validate.py"))
        .arg(trust)
        .arg(pdf)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !text.contains("ModuleNotFoundError"),
        "pyHanko is missing (pip install pyhanko pyhanko-certvalidator): {text}"
    );
    (out.status.success() && text.contains(": VALID"), text)
}

#[test]
fn a_completed_college_decision_is_sealed_verified_and_valid_for_pyhanko() {
    let city = City::aalst("sealing");
    let tsa = LocalTsa::start("rsa", "sha256");
    let (config, trust) = configure(&city, &tsa);
    let config = config.to_str().unwrap();
    decision_pdf(&city);

    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let diensthoofd = city.function("diensthoofd", Some("bevolking"));
    let burgemeester = city.mandate("burgemeester");
    let ad = city.function("algemeen-directeur", None);
    let doc = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Verkeersreglement Kerkstraat",
            "bedrag=1200",
        ],
        NOW,
    );
    assert!(
        city.ok(&["seal", "--list"], NOW)
            .contains("No document waits")
    );
    city.ok(&["doc", "sign", &doc, "--as", &diensthoofd], NOW);
    city.ok(&["doc", "sign", &doc, "--as", &burgemeester], NOW);
    city.ok(&["doc", "sign", &doc, "--as", &ad], NOW);
    assert_eq!(city.status(&doc, &uploader), "completed");
    assert!(city.ok(&["seal", "--list"], NOW).contains(&doc));

    // The TSA is down: no seal, the document stays completed and waiting.
    tsa.get("/down");
    let o = city.run(&["seal", "--config", config], NOW);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("waits for its seal"));
    assert_eq!(city.status(&doc, &uploader), "completed");
    assert!(city.ok(&["seal", "--list"], NOW).contains(&doc));

    // Back up: sealed, once.
    tsa.get("/up");
    let out = city.ok(&["seal", "--config", config], NOW);
    assert!(
        out.contains(&format!("{doc}: sealed, verification code")),
        "{out}"
    );
    let code = out.rsplit(' ').next().unwrap().to_string();
    assert!(paraaf_seal::normalise_code(&code).is_some(), "{code}");
    assert!(
        city.ok(&["seal", "--config", config], NOW)
            .contains("No document waits")
    );
    assert!(
        city.ok(&["seal", "--list"], NOW)
            .contains("No document waits")
    );

    // Exported through may_see: the mayor gets it; an outsider gets what a missing
    // document gives.
    let pdf = city.dir.join("sealed.pdf");
    let p = pdf.to_str().unwrap();
    city.ok(
        &["seal", "--export", &doc, "--as", &burgemeester, "--out", p],
        NOW,
    );
    let outsider = city.staff("sport", "diensthoofd")[0].clone();
    let o = city.run(
        &[
            "seal",
            "--export",
            &doc,
            "--as",
            &outsider,
            "--out",
            "/dev/null",
        ],
        NOW,
    );
    assert_eq!(o.status.code(), Some(1));
    let o2 = city.run(
        &[
            "seal",
            "--export",
            "d-nosuchdocument",
            "--as",
            &outsider,
            "--out",
            "/dev/null",
        ],
        NOW,
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).replace(&doc, "D"),
        String::from_utf8_lossy(&o2.stderr).replace("d-nosuchdocument", "D")
    );

    // The sealed file starts with the original, byte for byte.
    let sealed = std::fs::read(&pdf).unwrap();
    let original = std::fs::read(&city.content).unwrap();
    assert_eq!(&sealed[..original.len()], &original[..]);
    if let Ok(dir) = std::env::var("PARAAF_SEAL_OUT") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&pdf, Path::new(&dir).join("college-decision-sealed.pdf")).unwrap();
        std::fs::copy(&trust, Path::new(&dir).join("trust.pem")).unwrap();
    }

    // paraaf verify: valid, time-stamped, and the log records this very file.
    let t = trust.to_str().unwrap();
    let db = city.db.to_str().unwrap();
    let out = city.ok(&["verify", p, "--trust", t, "--db", db], NOW);
    assert!(out.contains(": VALID"), "{out}");
    assert!(out.contains("time stamp: 20"), "{out}");
    assert!(out.contains(&format!("verification code: {code}")), "{out}");
    assert!(
        out.contains(&format!("the sealed PDF of document {doc}")),
        "{out}"
    );
    let (valid, report) = pyhanko(&trust, &pdf);
    assert!(valid, "pyHanko: {report}");

    // One flipped byte in the original decision (its compressed page content): INVALID
    // for both.
    let mut bad = sealed.clone();
    bad[original.len() / 2] ^= 0x01;
    let bad_path = city.dir.join("flipped.pdf");
    std::fs::write(&bad_path, &bad).unwrap();
    let b = bad_path.to_str().unwrap();
    let o = city.run(&["verify", b, "--trust", t], NOW);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("INVALID"));
    let (valid, report) = pyhanko(&trust, &bad_path);
    assert!(!valid, "pyHanko accepted a flipped byte: {report}");
    // And the log does not know the flipped file.
    let o = city.run(&["verify", b, "--trust", t, "--db", db], NOW);
    assert!(String::from_utf8_lossy(&o.stdout).contains("the log records no seal"));

    // Trusting only another root: not trusted.
    let o = city.run(
        &[
            "verify",
            p,
            "--trust",
            tsa.dir.join("other-ca.pem").to_str().unwrap(),
        ],
        NOW,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("not trusted"));
}

/// Sends a raw HTTP/1.1 request; returns (status, head, body bytes).
fn raw(addr: &str, head: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut req = format!(
        "{head}\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, resp[split + 4..].to_vec())
}

fn upload(addr: &str, pdf: &[u8]) -> (u16, String) {
    let mut body = b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n".to_vec();
    body.extend_from_slice(pdf);
    body.extend_from_slice(b"\r\n--XYZ--\r\n");
    let (status, _, body) = raw(
        addr,
        "POST /verify HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XYZ",
        &body,
    );
    (status, String::from_utf8_lossy(&body).to_string())
}

#[test]
fn the_server_seals_at_start_up_and_serves_the_sealed_pdf_and_the_public_verify_page() {
    let city = City::aalst("sealing-serve");
    let tsa = LocalTsa::start("rsa", "sha256");
    let (config, _trust) = configure(&city, &tsa);
    decision_pdf(&city);
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let diensthoofd = city.function("diensthoofd", Some("bevolking"));
    let burgemeester = city.mandate("burgemeester");
    let ad = city.function("algemeen-directeur", None);
    let outsider = city.staff("sport", "diensthoofd")[0].clone();
    let doc = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Verkeersreglement Kerkstraat",
            "bedrag=1200",
        ],
        NOW,
    );
    for who in [&diensthoofd, &burgemeester, &ad] {
        city.ok(&["doc", "sign", &doc, "--as", who], NOW);
    }
    // Completed before the server ran: sealed at its start-up.
    let server = support::Server::start_env(
        &city.db,
        &[
            (burgemeester.as_str(), "tok-mayor-0123456789"),
            (outsider.as_str(), "tok-outsider-0123456789"),
        ],
        "",
        &[("PARAAF_SEAL_CONFIG", config.as_os_str())],
        &city.dir,
    );
    let get = |path: &str, token: &str| {
        raw(
            &server.addr,
            &format!("GET {path} HTTP/1.1\r\nAuthorization: Bearer {token}"),
            b"",
        )
    };
    let mut sealed = None;
    for _ in 0..150 {
        let (status, head, body) = get(&format!("/documents/{doc}/sealed"), "tok-mayor-0123456789");
        if status == 200 {
            assert!(
                head.to_lowercase()
                    .contains("content-type: application/pdf"),
                "{head}"
            );
            sealed = Some(body);
            break;
        }
        assert_eq!(status, 404);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let sealed = sealed.expect("the server sealed the completed document at start-up");
    let original = std::fs::read(&city.content).unwrap();
    assert_eq!(&sealed[..original.len()], &original[..]);

    // An outsider: the same 404 as a missing document.
    let (s1, _, b1) = get(
        &format!("/documents/{doc}/sealed"),
        "tok-outsider-0123456789",
    );
    let (s2, _, b2) = get(
        "/documents/d-nosuchdocument/sealed",
        "tok-outsider-0123456789",
    );
    assert_eq!((s1, s2), (404, 404));
    assert_eq!(
        String::from_utf8_lossy(&b1).replace(&doc, "D"),
        String::from_utf8_lossy(&b2).replace("d-nosuchdocument", "D")
    );

    // The public page: by code (no token), unknown code, upload, a flipped byte.
    let code = String::from_utf8_lossy(
        &city
            .ok(&["doc", "show", &doc, "--as", &burgemeester, "--json"], NOW)
            .into_bytes(),
    )
    .to_string();
    let code: serde_json::Value = serde_json::from_str(&code).unwrap();
    let code = code["sealed"]["code"]
        .as_str()
        .expect("doc show has the seal")
        .to_string();
    let (status, _, page) = raw(
        &server.addr,
        &format!("GET /verify?code={} HTTP/1.1", code.to_lowercase()),
        b"",
    );
    let page = String::from_utf8_lossy(&page);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Geldig"), "{page}");
    assert!(!page.contains(&doc), "the page names no document id");
    let (status, _, page) = raw(
        &server.addr,
        "GET /verify?code=AAAA-BBBB-CCCC HTTP/1.1",
        b"",
    );
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&page).contains("Onbekende code"));
    let (status, page) = upload(&server.addr, &sealed);
    assert_eq!(status, 200);
    assert!(
        page.contains("Geldig") && page.contains("precies het bestand"),
        "{page}"
    );
    let mut bad = sealed.clone();
    bad[original.len() / 2] ^= 0x01;
    let (status, page) = upload(&server.addr, &bad);
    assert_eq!(status, 200);
    assert!(
        page.contains("Ongeldig") && page.contains("geen bestand met deze inhoud"),
        "{page}"
    );
    let (status, page) = upload(&server.addr, b"not a pdf at all");
    assert_eq!(status, 200);
    assert!(page.contains("Ongeldig"), "{page}");
}

/// The test PKI's services (tests/seal/pki_server.py: the root's CRL and a TSA on
/// 127.0.0.1), killed when dropped.
struct PkiServer {
    child: std::process::Child,
    port: u16,
}

impl PkiServer {
    fn start(dir: &Path) -> PkiServer {
        use std::io::BufRead;
        std::fs::create_dir_all(dir).unwrap();
        let mut child = Command::new("python3")
            .arg(root().join("tests/seal/pki_server.py"))
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs tests/seal/pki_server.py");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("pki_server.py printed its port");
        PkiServer { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many times the CRL was served.
    fn crls_served(&self) -> usize {
        let (_, _, body) = raw(
            &format!("127.0.0.1:{}", self.port),
            "GET /count HTTP/1.1",
            b"",
        );
        String::from_utf8_lossy(&body).trim().parse().unwrap()
    }
}

impl Drop for PkiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn with_revocation_configured_the_seal_is_b_lta_and_valid_offline_for_verify_and_pyhanko() {
    let city = City::aalst("sealing-lta");
    let pki = city.dir.join("pki");
    let server = PkiServer::start(&pki);
    let ok = Command::new("bash")
        .arg(root().join("tests/seal/pki.sh"))
        .arg(&pki)
        .arg(server.url())
        .status()
        .unwrap();
    assert!(ok.success(), "tests/seal/pki.sh (openssl) failed");
    std::fs::write(pki.join("password"), "test\n").unwrap();
    let config = |p12: &str| {
        let path = pki.join(format!("{p12}.toml"));
        std::fs::write(
            &path,
            format!(
                "[seal]\ncity = \"Stad Aalst\"\npkcs12 = \"{p12}.p12\"\npassword_file = \"password\"\ntsa_url = \"{}/tsa\"\ntrust = \"root.pem\"\n\n[seal.revocation]\nenabled = true\narchive_timestamp = true\n",
                server.url()
            ),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let (good, revoked) = (config("seal"), config("seal-revoked"));
    decision_pdf(&city);
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let diensthoofd = city.function("diensthoofd", Some("bevolking"));
    let burgemeester = city.mandate("burgemeester");
    let ad = city.function("algemeen-directeur", None);
    let doc = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Verkeersreglement Kerkstraat",
            "bedrag=1200",
        ],
        NOW,
    );
    for who in [&diensthoofd, &burgemeester, &ad] {
        city.ok(&["doc", "sign", &doc, "--as", who], NOW);
    }

    // A seal certificate the CA revoked: no seal, the document waits.
    let o = city.run(&["seal", "--config", &revoked], NOW);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("waits for its seal") && out.contains("is revoked"),
        "{out}"
    );
    assert!(city.ok(&["seal", "--list"], NOW).contains(&doc));

    // The valid one: Paraaf fetched the CRL while sealing.
    let before = server.crls_served();
    let out = city.ok(&["seal", "--config", &good], NOW);
    assert!(out.contains(&format!("{doc}: sealed")), "{out}");
    assert!(
        server.crls_served() > before,
        "Paraaf did not fetch the CRL"
    );
    let pdf = city.dir.join("sealed-lta.pdf");
    let p = pdf.to_str().unwrap();
    city.ok(
        &["seal", "--export", &doc, "--as", &burgemeester, "--out", p],
        NOW,
    );

    // The CA's services are gone: everything needed is in the file.
    drop(server);
    let trust = pki.join("root.pem");
    let t = trust.to_str().unwrap();
    for extra in [&["--offline"][..], &[]] {
        let mut args = vec!["verify", p, "--trust", t];
        args.extend_from_slice(extra);
        let out = city.ok(&args, NOW);
        assert!(out.contains(": VALID"), "{out}");
        assert!(out.contains("PAdES level: B-LTA"), "{out}");
        assert!(out.contains("document time stamp: 20"), "{out}");
        assert!(
            out.contains("revocation: CN=Stad Aalst (elektronisch zegel)")
                && out.contains("not revoked"),
            "{out}"
        );
    }
    let o = Command::new("python3")
        .arg(root().join("tests/seal/validate.py"))
        .arg(&trust)
        .arg(&pdf)
        .arg("--lta")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && report.contains(": VALID (PAdES B-LTA)"),
        "pyHanko: {report}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    if let Ok(dir) = std::env::var("PARAAF_SEAL_OUT") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&pdf, Path::new(&dir).join("college-decision-lta.pdf")).unwrap();
        std::fs::copy(&trust, Path::new(&dir).join("trust-lta.pem")).unwrap();
    }
}

/// Signs the college decision `doc` to completion (diensthoofd, mayor, general director).
fn complete(city: &City, doc: &str) {
    for who in [
        city.function("diensthoofd", Some("bevolking")),
        city.mandate("burgemeester"),
        city.function("algemeen-directeur", None),
    ] {
        city.ok(&["doc", "sign", doc, "--as", &who], NOW);
    }
}

/// The texts a PDF shows with `Tj` (its streams inflated), one a line.
fn shown_text(pdf: &Path) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import re,sys,zlib\nd=open(sys.argv[1],'rb').read()\n\
             for m in re.finditer(rb'stream\\r?\\n(.*?)endstream',d,re.S):\n\
             \x20   s=m.group(1)\n\
             \x20   try: s=zlib.decompress(s)\n\
             \x20   except Exception: pass\n\
             \x20   for t in re.findall(rb'\\(((?:[^()\\\\]|\\\\.)*)\\)\\s*Tj',s): print(t.decode('latin-1'))\n",
        )
        .arg(pdf)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Attack finding 05: a seal `paraaf verify` would call INVALID (a seal certificate that
/// does not chain to the configured trust, or whose chain runs through a non-CA) is not
/// recorded: the command says why and exits 1, the document keeps waiting, nothing is
/// stored, and once the configuration is right the same document is sealed VALID.
#[test]
fn a_seal_that_does_not_verify_is_not_recorded_and_the_document_keeps_waiting() {
    let city = City::aalst("sealing-unverified");
    let tsa = LocalTsa::start("rsa", "sha256");
    let (config, trust) = configure(&city, &tsa);
    decision_pdf(&city);
    let pki = config.parent().unwrap().to_path_buf();
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let doc = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Besluit",
            "bedrag=100",
        ],
        NOW,
    );
    complete(&city, &doc);
    let base = std::fs::read_to_string(&config).unwrap();
    // Trusting another root (and the TSA): the seal certificate does not chain to it.
    let mut other = std::fs::read(pki.join("other-root.pem")).unwrap();
    other.extend(std::fs::read(tsa.ca()).unwrap());
    std::fs::write(pki.join("other-trust.pem"), other).unwrap();
    let untrusted = pki.join("untrusted.toml");
    std::fs::write(&untrusted, base.replace("trust.pem", "other-trust.pem")).unwrap();
    let badchain = pki.join("badchain.toml");
    std::fs::write(&badchain, base.replace("seal.p12", "seal-badchain.p12")).unwrap();
    let contents_before = city.events();
    for (cfg, why) in [(&untrusted, "not trusted"), (&badchain, "not trusted")] {
        let o = city.run(&["seal", "--config", cfg.to_str().unwrap()], NOW);
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(
            out.contains("does not verify, so it is not recorded"),
            "{out}"
        );
        assert!(out.contains(why), "{out}");
        assert!(city.ok(&["seal", "--list"], NOW).contains(&doc));
    }
    assert_eq!(city.events(), contents_before, "nothing was recorded");
    let conn = rusqlite::Connection::open(&city.db).unwrap();
    let owned: i64 = conn
        .query_row(
            "SELECT count(*) FROM content_owners WHERE person = 'paraaf:seal'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(owned, 0, "an unverified seal was stored");
    // The configuration put right: sealed, VALID.
    let out = city.ok(&["seal", "--config", config.to_str().unwrap()], NOW);
    assert!(out.contains(&format!("{doc}: sealed")), "{out}");
    let pdf = city.dir.join("sealed.pdf");
    let p = pdf.to_str().unwrap();
    city.ok(
        &["seal", "--export", &doc, "--as", &uploader, "--out", p],
        NOW,
    );
    let out = city.ok(&["verify", p, "--trust", trust.to_str().unwrap()], NOW);
    assert!(out.contains(": VALID"), "{out}");
}

/// Attack finding 06: the evidence page names each signer (and the submitter) as the
/// organogram in force when they signed named them, not as the one in force when the
/// seal is made: Dirk Lambert left and Ruben Van Damme took the name Ruben Claes between
/// the signatures and the seal (the TSA was down).
#[test]
fn the_evidence_page_names_signers_as_the_organogram_did_when_they_signed() {
    let city = City::aalst("sealing-names");
    let tsa = LocalTsa::start("rsa", "sha256");
    let (config, _) = configure(&city, &tsa);
    decision_pdf(&city);
    let config = config.to_str().unwrap();
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let doc = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Besluit",
            "bedrag=100",
        ],
        NOW,
    );
    assert_eq!(
        city.function("diensthoofd", Some("bevolking")),
        "dirk-lambert"
    );
    assert_eq!(city.mandate("burgemeester"), "ruben-van-damme");
    complete(&city, &doc);
    tsa.get("/down");
    assert_eq!(
        city.run(&["seal", "--config", config], NOW).status.code(),
        Some(1)
    );
    tsa.get("/up");
    let people = std::fs::read_to_string(root().join("examples/aalst/people.csv")).unwrap();
    let changed: String = people
        .lines()
        .filter(|l| !l.contains(",,Dirk Lambert,"))
        .map(|l| l.replace(",,Ruben Van Damme,", ",,Ruben Claes,") + "\n")
        .collect();
    let csv = city.dir.join("p1.csv");
    std::fs::write(&csv, changed).unwrap();
    let org1 = city.dir.join("org1.toml");
    let previous = root().join("examples/aalst/org.toml");
    city.ok(
        &[
            "org",
            "import",
            csv.to_str().unwrap(),
            "-o",
            org1.to_str().unwrap(),
            "--city",
            "Aalst",
            "--previous",
            previous.to_str().unwrap(),
        ],
        NOW,
    );
    city.ok(&["org", "deploy", org1.to_str().unwrap(), "--force"], NOW);
    city.ok(&["seal", "--config", config], NOW);
    let pdf = city.dir.join("sealed.pdf");
    let reader = city.function("algemeen-directeur", None);
    city.ok(
        &[
            "seal",
            "--export",
            &doc,
            "--as",
            &reader,
            "--out",
            pdf.to_str().unwrap(),
        ],
        NOW,
    );
    let text = shown_text(&pdf);
    assert!(text.contains("\n1. Dirk Lambert"), "{text}");
    assert!(text.contains("\n2. Ruben Van Damme"), "{text}");
    assert!(
        !text.contains("dirk-lambert") && !text.contains("Ruben Claes"),
        "{text}"
    );
}
