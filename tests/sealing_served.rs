//! Sealing inside the running server (#28 items 4 and 5): a seal that fails while the
//! time-stamp authority is down leaves the document completed and waiting, and the
//! server's scheduler seals it once the TSA is back, on the server's clock (a test clock
//! moved forward), once, also across a restart; the sealed PDF goes back to the source
//! system through the webhook outbox (in the commit of `document_sealed`), a shielded
//! file's as a bare notice; and the public `/verify` page is limited per address.

#[path = "tsa/local_tsa.rs"]
mod local_tsa;
mod support;

use base64::Engine;
use local_tsa::LocalTsa;
use paraaf_runtime::sender::{HookTarget, SenderConfig, round};
use paraaf_runtime::store::outbox::Outbox;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{City, root};

const T0: &str = "2026-11-23T09:00:00Z";

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
            "[seal]\ncity = \"Stad Aalst\"\npkcs12 = \"seal.p12\"\npassword_file = \"password\"\ntsa_url = \"{}\"\ntrust = \"trust.pem\"\n",
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

/// A college decision of `uploader`, signed by all three signers: completed.
fn completed_decision(city: &City, uploader: &str, title: &str) -> String {
    let doc = city.submit(
        "besluit",
        uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            &format!("titel={title}"),
            "bedrag=1200",
        ],
        T0,
    );
    let doc = doc.lines().next().unwrap().trim().to_string();
    for who in [
        city.function("diensthoofd", Some("bevolking")),
        city.mandate("burgemeester"),
        city.function("algemeen-directeur", None),
    ] {
        city.ok(&["doc", "sign", &doc, "--as", &who], T0);
    }
    assert_eq!(city.status(&doc, uploader), "completed");
    doc
}

/// How many `document_sealed` events the log holds for `doc`.
fn seals_of(city: &City, doc: &str) -> u32 {
    rusqlite::Connection::open(&city.db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM events WHERE instr(body, '\"document_sealed\"') > 0 AND instr(body, ?1) > 0",
            [format!("\"{doc}\"")],
            |r| r.get(0),
        )
        .unwrap()
}

/// A `paraaf serve` with the seal configuration and a test clock.
struct Served {
    child: Child,
    addr: String,
}

const CLOCK_TOKEN: &str = "test-clock-token-0123456789";

/// The monitoring token (reads `/health`'s counts).
const MONITORING: &str = "monitoring-token-0123456789";

impl Served {
    fn start(city: &City, seal_config: &Path, tokens: &[(&str, &str)], now: &str) -> Served {
        let config = city.dir.join("serve.toml");
        let mut text = String::from("[tokens]\n");
        for (p, t) in tokens {
            text.push_str(&format!("{p} = \"{t}\"\n"));
        }
        text.push_str(&format!(
            "[monitoring]\nzabbix = \"sha256:{}\"\n",
            paraaf_runtime::sha256_hex(MONITORING.as_bytes())
        ));
        std::fs::write(&config, text).unwrap();
        let token_file = city.dir.join("clock.token");
        std::fs::write(&token_file, CLOCK_TOKEN).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(["serve", "--addr", "127.0.0.1:0", "--tokens"])
            .arg(&config)
            .arg("--test-clock-token-file")
            .arg(&token_file)
            .arg("--seal-config")
            .arg(seal_config)
            .env("PARAAF_DB", &city.db)
            .env("PARAAF_NOW", now)
            .env("PARAAF_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected: {line}"))
            .to_string();
        Served { child, addr }
    }

    /// One request; (status, head in lower case, body bytes).
    fn http(&self, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
        http(&self.addr, method, path, token, "application/json", body)
    }

    /// Moves the server's clock; returns once its scheduler caught up with it.
    fn set_clock(&self, now: &str) {
        let (status, _, body) = self.http(
            "POST",
            "/test/clock",
            CLOCK_TOKEN,
            format!(r#"{{"now":"{now}"}}"#).as_bytes(),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }

    /// How many completed documents wait for their seal, as `/health` tells monitoring.
    fn seals_waiting(&self) -> u64 {
        let (status, _, body) = self.http("GET", "/health", MONITORING, b"");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        v["seals_waiting"].as_u64().expect("seals_waiting")
    }

    /// The document as `token`'s person sees it through the API.
    fn document(&self, doc: &str, token: &str) -> serde_json::Value {
        let (status, _, body) = self.http("GET", &format!("/documents/{doc}"), token, b"");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !token.is_empty() {
        req.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    // Written beside the read: a server refusing a large body answers (and closes)
    // before it is all written.
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(&bytes);
    });
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let _ = writer.join();
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an answer");
    let head = String::from_utf8_lossy(&resp[..split]).to_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, resp[split + 4..].to_vec())
}

#[test]
fn a_seal_the_tsa_refused_waits_and_the_scheduler_seals_it_once_when_the_tsa_is_back() {
    let city = City::aalst("sealing-scheduled");
    let tsa = LocalTsa::start("rsa", "sha256");
    let (config, _) = configure(&city, &tsa);
    decision_pdf(&city);
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let mayor = city.mandate("burgemeester");
    let ad = city.function("algemeen-directeur", None);
    // One completed while the server was stopped, one completes while it runs.
    let before = completed_decision(&city, &uploader, "Verkeersreglement Kerkstraat");
    let during = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Aankoop laptops",
            "bedrag=900",
        ],
        T0,
    );
    let during = during.lines().next().unwrap().trim().to_string();
    for who in [
        city.function("diensthoofd", Some("bevolking")),
        mayor.clone(),
    ] {
        city.ok(&["doc", "sign", &during, "--as", &who], T0);
    }

    tsa.get("/down");
    let tokens = [
        (mayor.as_str(), "tok-mayor-0123456789"),
        (ad.as_str(), "tok-ad-0123456789"),
    ];
    let server = Served::start(&city, &config, &tokens, T0);
    // The start-up attempt failed: completed, and the API says the seal is still to come.
    server.set_clock("2026-11-23T09:00:01Z");
    let (status, _, body) = server.http(
        "POST",
        &format!("/documents/{during}/sign"),
        "tok-ad-0123456789",
        b"",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    server.set_clock("2026-11-23T09:00:02Z");
    for doc in [&before, &during] {
        let d = server.document(doc, "tok-mayor-0123456789");
        assert_eq!(d["status"], "completed", "{d}");
        assert!(d["sealed"].is_null(), "{d}");
        let (status, _, _) = server.http(
            "GET",
            &format!("/documents/{doc}/sealed"),
            "tok-mayor-0123456789",
            b"",
        );
        assert_eq!(status, 404, "not sealed yet");
        assert_eq!(seals_of(&city, doc), 0);
    }
    assert_eq!(server.seals_waiting(), 2);

    // The TSA is back; the back-off (a minute after the first failure) has not passed.
    tsa.get("/up");
    server.set_clock("2026-11-23T09:00:30Z");
    assert!(server.document(&before, "tok-mayor-0123456789")["sealed"].is_null());
    assert!(server.document(&during, "tok-mayor-0123456789")["sealed"].is_null());
    // A minute later on the server's clock: both sealed, by the scheduler.
    server.set_clock("2026-11-23T09:01:30Z");
    let mut pdfs = BTreeMap::new();
    for doc in [&before, &during] {
        let d = server.document(doc, "tok-mayor-0123456789");
        assert!(d["sealed"]["code"].is_string(), "{d}");
        let (status, head, pdf) = server.http(
            "GET",
            &format!("/documents/{doc}/sealed"),
            "tok-mayor-0123456789",
            b"",
        );
        assert_eq!(status, 200);
        assert!(head.contains("content-type: application/pdf"), "{head}");
        assert!(pdf.starts_with(b"%PDF"));
        assert_eq!(seals_of(&city, doc), 1);
        pdfs.insert(doc.clone(), pdf);
    }
    assert_eq!(server.seals_waiting(), 0);
    // Time goes on, and the server restarts: nothing is sealed twice.
    server.set_clock("2026-11-23T12:00:00Z");
    drop(server);
    let server = Served::start(&city, &config, &tokens, "2026-11-23T12:00:00Z");
    server.set_clock("2026-11-24T09:00:00Z");
    for doc in [&before, &during] {
        assert_eq!(seals_of(&city, doc), 1, "one document_sealed for {doc}");
        let (status, _, pdf) = server.http(
            "GET",
            &format!("/documents/{doc}/sealed"),
            "tok-mayor-0123456789",
            b"",
        );
        assert_eq!((status, &pdf), (200, &pdfs[doc]));
    }
    assert!(
        city.ok(&["seal", "--list"], "2026-11-24")
            .contains("No document waits")
    );
}

/// An HTTP receiver answering 200 and passing on each body.
fn receiver() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = tx.send(String::from_utf8(body).unwrap());
        }
    });
    (addr, rx)
}

/// A social file (shielded) of Bart Verhoeven, signed to completion.
fn completed_dossier(city: &City) -> String {
    let content = city.content.to_str().unwrap().to_string();
    let out = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "sociaal-dossier",
            "--as",
            "bart-verhoeven",
            "--title",
            "Leefloon Geheim",
            "--field",
            "team=inkomen",
            "--field",
            "dossiernummer=SZ-GEHEIM-42",
            "--content",
            &content,
        ],
        T0,
    );
    let doc = out.lines().next().unwrap().trim().to_string();
    for who in ["dirk-claes", "mohamed-wouters"] {
        city.ok(&["doc", "sign", &doc, "--as", who], T0);
    }
    doc
}

#[test]
fn the_source_gets_the_sealed_pdf_by_webhook_and_a_shielded_file_only_a_bare_notice() {
    let city = City::aalst("sealing-webhook");
    let tsa = LocalTsa::start("rsa", "sha256");
    let (config, trust) = configure(&city, &tsa);
    decision_pdf(&city);
    let (addr, requests) = receiver();
    let target = |source: &str| HookTarget {
        source: source.into(),
        url: format!("http://{addr}/paraaf"),
        secret: b"secret".to_vec(),
    };
    // `loket` submits as jan-cools, `notula` as bart-verhoeven.
    let hooks: BTreeMap<String, HookTarget> = [
        ("jan-cools".to_string(), target("loket")),
        ("bart-verhoeven".to_string(), target("notula")),
    ]
    .into();
    let decision = completed_decision(&city, "jan-cools", "Verkeersreglement Kerkstraat");
    let dossier = completed_dossier(&city);
    // The social file came from `notula` (its idempotency record names the document,
    // as the webhook route writes it).
    rusqlite::Connection::open(&city.db)
        .unwrap()
        .execute(
            "INSERT INTO idempotency (person, key, request_sha256, status, response) VALUES ('webhook:notula', 'msg_1', 'x', 202, ?1)",
            [format!("{{\"documents\":[\"{dossier}\"],\"queue\":[]}}")],
        )
        .unwrap();
    let out = city.ok(
        &["seal", "--config", config.to_str().unwrap()],
        "2026-11-23",
    );
    assert!(out.contains(&format!("{decision}: sealed")), "{out}");
    assert!(out.contains(&format!("{dossier}: sealed")), "{out}");

    // The webhook of each seal is in the outbox, written in the commit of its
    // document_sealed event (the same sequence number).
    let db = rusqlite::Connection::open(&city.db).unwrap();
    for doc in [&decision, &dossier] {
        let (event, item): (u64, Option<u64>) = db
            .query_row(
                "SELECT e.seq, (SELECT o.seq FROM outbox o WHERE o.channel = 'webhook' AND o.seq = e.seq)
                 FROM events e WHERE instr(e.body, '\"document_sealed\"') > 0 AND instr(e.body, ?1) > 0",
                [format!("\"{doc}\"")],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            Some(event),
            item,
            "the seal's webhook is in its event's commit"
        );
    }
    drop(db);

    let mut outbox = Outbox::open(&city.db).unwrap();
    let cfg = SenderConfig {
        db: city.db.clone().into(),
        mail: None,
        hooks,
        backoff: Duration::ZERO,
    };
    let rt = paraaf_runtime::Runtime::open(&city.db, paraaf_runtime::workdays::Calendar::default())
        .unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(T0).unwrap().to_utc();
    round(&mut outbox, &cfg, now, rt.state()).unwrap();
    let mut got: Vec<serde_json::Value> = Vec::new();
    while let Ok(body) = requests.recv_timeout(Duration::from_millis(1500)) {
        got.push(serde_json::from_str(&body).unwrap());
    }
    let sealed: Vec<&serde_json::Value> = got
        .iter()
        .filter(|b| b["type"] == "document.sealed")
        .collect();
    assert_eq!(sealed.len(), 2, "{got:#?}");

    // The decision: its sealed PDF in the body, the very file the city sealed.
    let hook = sealed
        .iter()
        .find(|b| b["data"]["document"] == decision.as_str())
        .expect("the decision's seal");
    let s = &hook["data"]["sealed"];
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(s["pdf"].as_str().expect("the PDF in the body"))
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(
        paraaf_runtime::sha256_hex(&pdf),
        s["sha256"].as_str().unwrap()
    );
    assert_eq!(s["size"].as_u64(), Some(pdf.len() as u64));
    assert_eq!(s["path"], format!("/documents/{decision}/sealed").as_str());
    assert_eq!(hook["data"]["kind"], "besluit");
    let file = city.dir.join("from-webhook.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let verified = city.ok(
        &[
            "verify",
            file.to_str().unwrap(),
            "--trust",
            trust.to_str().unwrap(),
            "--db",
            city.db.to_str().unwrap(),
        ],
        "2026-11-23",
    );
    assert!(verified.contains(": VALID"), "{verified}");
    assert!(
        verified.contains(&format!(
            "verification code: {}",
            s["code"].as_str().unwrap()
        )),
        "{verified}"
    );

    // The shielded file: a bare notice, nothing of its content, names or seal.
    let notice = sealed
        .iter()
        .find(|b| b["data"]["document"] == dossier.as_str())
        .expect("the source hears its file was sealed");
    let mut keys: Vec<&str> = notice["data"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["document", "event", "outcome"], "{notice}");
    assert_eq!(notice["data"]["outcome"], "sealed");
    let text = serde_json::to_string(notice).unwrap();
    for secret in ["SZ-GEHEIM", "Leefloon", "sociaal", "JVBER", "pdf", "sha256"] {
        assert!(!text.contains(secret), "{secret} left in {text}");
    }
}

fn upload(addr: &str, pdf: &[u8]) -> (u16, String) {
    let mut body = b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n".to_vec();
    body.extend_from_slice(pdf);
    body.extend_from_slice(b"\r\n--XYZ--\r\n");
    let (status, _, body) = http(
        addr,
        "POST",
        "/verify",
        "",
        "multipart/form-data; boundary=XYZ",
        &body,
    );
    (status, String::from_utf8_lossy(&body).to_string())
}

#[test]
fn the_public_verify_page_is_limited_per_address_and_by_upload_size() {
    let city = City::aalst("sealing-verify-limits");
    let tsa = LocalTsa::start("rsa", "sha256");
    let (config, _) = configure(&city, &tsa);
    let server = Served::start(&city, &config, &[], T0);
    // Code checks: 30 a minute from one address, then 429 in Dutch.
    let mut statuses = Vec::new();
    for _ in 0..31 {
        let (status, head, body) = server.http("GET", "/verify?code=AAAA-BBBB-CCCC", "", b"");
        if status == 429 {
            assert!(head.contains("retry-after: 60"), "{head}");
            let page = String::from_utf8_lossy(&body);
            assert!(page.contains("Te veel controles"), "{page}");
            assert!(page.contains("Wacht een minuut"), "{page}");
        }
        statuses.push(status);
    }
    assert!(statuses[..30].iter().all(|s| *s == 404), "{statuses:?}");
    assert_eq!(statuses[30], 429);
    // The form itself stays.
    assert_eq!(server.http("GET", "/verify", "", b"").0, 200);
    // Uploads: six a minute. A too large one is refused without checking (it counts
    // like any other upload).
    let big = vec![b'x'; 22 * 1024 * 1024];
    let (status, page) = upload(&server.addr, &big);
    assert_eq!(status, 413, "{page}");
    assert!(page.contains("Bestand te groot"), "{page}");
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(upload(&server.addr, b"not a pdf at all").0);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 429, 429],
        "{statuses:?}"
    );
}
