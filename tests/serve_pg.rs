//! `paraaf serve --db postgres://… --city NAME` end to end, against a real cluster
//! (`pg_support` starts one): two cities on one database, each served by its own
//! process; a submission with its PDF signed through its flow over the API; the content
//! served to a signer and answered 404 to an outsider and by the other city's server; the
//! web app's development login and the document's page and content; the completion's
//! webhook sent through the outbox to a listener of the test; the sealer sealing the
//! completed document (its sealed PDF to a signer, in the source's webhook, 404 to an
//! outsider; the `/verify` page); all of it again after a
//! restart; a token added for a person of the city; and `audit verify` afterwards.

#[path = "../runtime/tests/pg_support/mod.rs"]
mod pg_support;
mod support;

use paraaf_runtime::pg_store::schema;
use pg_support::{APP, Cluster};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use support::{City, root};

const NOW: &str = "2026-11-24T10:00:00Z";
const SECRET: &str = "notula-shared-secret-0123456789";

fn token(person: &str) -> String {
    format!("token-{person}-0123456789")
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// `paraaf ARGS` on city `city` at `url`.
fn paraaf(url: &str, city: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(args)
        .env("PARAAF_DB", url)
        .env("PARAAF_CITY", city)
        .env("PARAAF_NOW", NOW)
        .current_dir(root())
        .output()
        .unwrap()
}

/// An HTTP listener that answers 200 to every request and keeps the bodies.
struct Hooks {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Hooks {
    fn start() -> Hooks {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut length = 0;
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
                let _ = reader.read_exact(&mut body);
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Hooks { url, bodies }
    }

    /// Waits (up to 20 s) for a body containing `word`.
    fn wait_for(&self, word: &str) -> String {
        for _ in 0..200 {
            if let Some(b) = self
                .bodies
                .lock()
                .unwrap()
                .iter()
                .find(|b| b.contains(word))
            {
                return b.clone();
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("no webhook with {word}: {:?}", self.bodies.lock().unwrap());
    }
}

/// A `paraaf serve` of one city, with the web app's development login.
struct Served {
    child: Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `paraaf serve` for `city` at `url`: a token for every person of `people`, the
/// webhook source `notula` submitting as `source` and told at `notify`.
fn serve(
    url: &str,
    city: &str,
    dir: &std::path::Path,
    people: &[String],
    source: &str,
    notify: &str,
) -> Served {
    serve_with(url, city, dir, people, source, notify, &[]).0
}

/// [`serve`] with more arguments; also what it printed before listening.
fn serve_with(
    url: &str,
    city: &str,
    dir: &std::path::Path,
    people: &[String],
    source: &str,
    notify: &str,
    more: &[&str],
) -> (Served, String) {
    let mut text = String::from("[tokens]\n");
    for p in people {
        // Kept as hashes, as `paraaf admin token add` writes them.
        let hash = paraaf_runtime::sha256_hex(token(p).as_bytes());
        text.push_str(&format!("{p} = \"sha256:{hash}\"\n"));
    }
    text.push_str(&format!(
        "\n[webhooks.notula]\nsecret = \"{SECRET}\"\nas = \"{source}\"\nnotify_url = \"{notify}\"\n"
    ));
    let tokens = dir.join(format!("tokens-{city}.toml"));
    std::fs::write(&tokens, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["serve", "--addr", "127.0.0.1:0", "--dev-login", "--tokens"])
        .arg(&tokens)
        .args(["--outbox-backoff-ms", "200"])
        .args(more)
        .env("PARAAF_DB", url)
        .env("PARAAF_CITY", city)
        .env("PARAAF_NOW", NOW)
        .env("PARAAF_LOG", "warn")
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut before = String::new();
    let addr = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "serve stopped: {before}"
        );
        match line.trim().strip_prefix("listening on http://") {
            Some(addr) => break addr.to_string(),
            None => before.push_str(&line),
        }
    };
    // The rest of its output is read on, so that the server never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (Served { child, addr }, before)
}

impl Served {
    /// A request with `headers` (each `Name: value`); status, head, body.
    fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[String],
        body: &[u8],
    ) -> (u16, String, Vec<u8>) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for h in headers {
            req.push_str(h);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).unwrap();
        let split = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(resp.len());
        // The head as sent (a cookie's value keeps its case).
        let head = String::from_utf8_lossy(&resp[..split]).into_owned();
        let body = resp.get(split + 4..).unwrap_or_default().to_vec();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        // Chunked bodies (the pages) are read as text with their chunk lines: enough to
        // find words in them.
        (status, head, body)
    }

    /// A JSON API call as `person`.
    fn api(&self, method: &str, path: &str, person: &str, body: Option<&str>) -> (u16, String) {
        let (status, _, body) = self.raw(
            method,
            path,
            &[
                format!("Authorization: Bearer {}", token(person)),
                "Content-Type: application/json".into(),
            ],
            body.unwrap_or("").as_bytes(),
        );
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Signs in to the web app as `person` (development login): the session cookie.
    fn login(&self, person: &str) -> String {
        let (status, head, body) = self.raw("GET", "/app/login", &[], b"");
        assert_eq!(status, 200, "{head}");
        let page = String::from_utf8_lossy(&body);
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("no form token: {page}"))
            .to_string();
        let origin = format!("http://{}", self.addr);
        let form = format!("csrf={csrf}&person={person}");
        let (status, head, _) = self.raw(
            "POST",
            "/app/login",
            &[
                "Content-Type: application/x-www-form-urlencoded".into(),
                format!("Cookie: paraaf_login={csrf}"),
                format!("Origin: {origin}"),
            ],
            form.as_bytes(),
        );
        assert_eq!(status, 303, "{head}");
        head.lines()
            .filter(|l| l.to_lowercase().starts_with("set-cookie: "))
            .map(|l| &l["set-cookie: ".len()..])
            .find(|c| c.contains("paraaf_session="))
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("no session cookie: {head}"))
            .to_string()
    }
}

/// A seal configuration with the test PKI (tests/seal/pki.sh, openssl; no time stamp):
/// the server seals every completed document and serves `/verify`.
fn seal_config(dir: &std::path::Path) -> std::path::PathBuf {
    let pki = dir.join("pki");
    let ok = Command::new("bash")
        .arg(root().join("tests/seal/pki.sh"))
        .arg(&pki)
        .status()
        .unwrap();
    assert!(ok.success(), "tests/seal/pki.sh (openssl) failed");
    std::fs::write(pki.join("password"), "test\n").unwrap();
    let config = pki.join("seal.toml");
    std::fs::write(
        &config,
        "[seal]\ncity = \"Stad Aalst\"\npkcs12 = \"seal.p12\"\npassword_file = \"password\"\ntrust = \"root.pem\"\n",
    )
    .unwrap();
    config
}

/// The document's status as `person` reads it over the API.
fn status(s: &Served, id: &str, person: &str) -> String {
    let (code, body) = s.api("GET", &format!("/documents/{id}"), person, None);
    assert_eq!(code, 200, "{body}");
    json(&body)["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Signs `id` through its flow: whoever has it in their inbox signs, until it completes.
fn sign_through(s: &Served, id: &str, people: &[String], uploader: &str) -> Vec<String> {
    let mut signers = Vec::new();
    for _ in 0..10 {
        if status(s, id, uploader) == "completed" {
            return signers;
        }
        let next = people.iter().find(|p| {
            let (_, inbox) = s.api("GET", "/inbox", p, None);
            inbox.contains(id)
        });
        let Some(next) = next else {
            panic!("{id} waits for nobody: {}", status(s, id, uploader));
        };
        let (code, body) = s.api("POST", &format!("/documents/{id}/sign"), next, None);
        assert_eq!(code, 200, "{next}: {body}");
        signers.push(next.clone());
    }
    panic!("{id} did not complete after 10 signatures");
}

#[test]
fn serve_runs_two_cities_from_one_postgres_database() {
    let Some(pg) = Cluster::start("serve") else {
        return;
    };
    schema::migrate(&pg.owner_url(), APP).unwrap();
    let url = pg.app_url();
    // The people of the example (the organogram of both cities).
    let org = City::aalst("serve-pg-org");
    let people: Vec<String> = org.org.people.iter().map(|p| p.id.clone()).collect();
    let uploader = org.staff("bevolking", "diensthoofd")[0].clone();
    let outsider = org.function("diensthoofd", Some("sociale-zaken"));
    for city in ["aalst", "gent"] {
        let o = paraaf(&url, city, &["deploy", "examples/aalst"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let hooks = Hooks::start();
    let seal = seal_config(&org.dir);
    let sealing = ["--seal-config", seal.to_str().unwrap()];
    let aalst = serve_with(
        &url, "aalst", &org.dir, &people, &uploader, &hooks.url, &sealing,
    )
    .0;
    let gent = serve(&url, "gent", &org.dir, &people, &uploader, &hooks.url);

    // A decision with its PDF, submitted to Aalst and signed through its flow.
    let pdf = paraaf_web::demo::pdf("Aankoop printers", "voor Aalst");
    let body = serde_json::json!({
        "kind": "besluit",
        "title": "Aankoop printers",
        "content_base64": base64_of(&pdf),
        "fields": {"dienst": "bevolking", "bron": "notula", "titel": "Aankoop printers", "bedrag": "900"},
    })
    .to_string();
    let (code, answer) = aalst.api("POST", "/documents", &uploader, Some(&body));
    assert_eq!(code, 201, "{answer}");
    let id = json(&answer)["id"].as_str().unwrap().to_string();
    // A refused submission stores nothing: its content is never served.
    let refused_pdf = b"%PDF-1.4 refused".to_vec();
    let refused = serde_json::json!({
        "kind": "besluit",
        "content_base64": base64_of(&refused_pdf),
        "fields": {"bron": "x"},
    })
    .to_string();
    assert_eq!(
        aalst.api("POST", "/documents", &uploader, Some(&refused)).0,
        422
    );
    let signers = sign_through(&aalst, &id, &people, &uploader);
    assert!(!signers.is_empty());
    let signer = signers[0].clone();

    // The completion is told to the source through the outbox; the sealer seals the
    // document, and the source is sent the sealed PDF.
    let told = hooks.wait_for(&id);
    assert!(told.contains("document.completed"), "{told}");
    let sealed = json(&hooks.wait_for("document.sealed"));
    assert_eq!(sealed["data"]["document"], id.as_str(), "{sealed}");
    assert!(sealed["data"]["sealed"]["pdf"].is_string(), "{sealed}");

    let check = |aalst: &Served| {
        // The content: to a signer, byte for byte; 404 to an outsider, as for a missing
        // document; 404 from the other city's server, which has no such document.
        let content = format!("/documents/{id}/content");
        let auth = |p: &str| vec![format!("Authorization: Bearer {}", token(p))];
        let (code, _, body) = aalst.raw("GET", &content, &auth(&signer), b"");
        assert_eq!((code, body), (200, pdf.clone()));
        let hidden = aalst.api("GET", &content, &outsider, None);
        let missing = aalst.api("GET", "/documents/d-nope/content", &outsider, None);
        assert_eq!(hidden.0, 404);
        assert_eq!(hidden, missing);
        assert_eq!(gent.api("GET", &content, &signer, None).0, 404);
        assert_eq!(
            gent.api("GET", &format!("/documents/{id}"), &signer, None)
                .0,
            404
        );
        assert_eq!(status(aalst, &id, &uploader), "completed");
        // The web app: the signer signs in and reads the document's page (its history,
        // verified) and content.
        let session = aalst.login(&signer);
        let cookie = vec![format!("Cookie: {session}")];
        let (code, _, page) = aalst.raw("GET", &format!("/app/documents/{id}"), &cookie, b"");
        let page = String::from_utf8_lossy(&page).into_owned();
        assert_eq!(code, 200, "{page}");
        assert!(page.contains("Aankoop printers"), "{page}");
        assert!(
            page.contains("/content"),
            "the page offers the content: {page}"
        );
        let (code, _, body) =
            aalst.raw("GET", &format!("/app/documents/{id}/content"), &cookie, b"");
        assert_eq!((code, body), (200, pdf.clone()));
        let session = aalst.login(&outsider);
        let (code, _, _) = aalst.raw(
            "GET",
            &format!("/app/documents/{id}/content"),
            &[format!("Cookie: {session}")],
            b"",
        );
        assert_eq!(code, 404);
        // The sealed PDF: to a signer; 404 to an outsider; the public /verify page.
        let (code, _, body) = aalst.raw(
            "GET",
            &format!("/documents/{id}/sealed"),
            &auth(&signer),
            b"",
        );
        assert_eq!(code, 200);
        assert!(body.starts_with(&pdf[..8]) && body.len() > pdf.len());
        let sealed = format!("/documents/{id}/sealed");
        assert_eq!(aalst.api("GET", &sealed, &outsider, None).0, 404);
        assert_eq!(aalst.raw("GET", "/verify", &[], b"").0, 200);
        let (code, _, body) = aalst.raw("GET", "/health", &[], b"");
        assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    };
    check(&aalst);

    // A session of the web app, kept in the city's rows: it outlives the restart (and
    // a server that takes over from a writer that died knows it).
    let kept = aalst.login(&signer);
    let page = format!("/app/documents/{id}");
    assert_eq!(
        aalst.raw("GET", &page, &[format!("Cookie: {kept}")], b"").0,
        200
    );

    // A restart of Aalst's server: everything again, from the database.
    drop(aalst);
    let aalst = serve_with(
        &url, "aalst", &org.dir, &people, &uploader, &hooks.url, &sealing,
    )
    .0;
    check(&aalst);
    let (code, _, body) = aalst.raw("GET", &page, &[format!("Cookie: {kept}")], b"");
    let shown = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(code, 200, "{shown}");
    // Signed out: the stored session is gone.
    let csrf = shown
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no form token: {shown}"))
        .to_string();
    let (code, head, _) = aalst.raw(
        "POST",
        "/app/logout",
        &[
            "Content-Type: application/x-www-form-urlencoded".into(),
            format!("Cookie: {kept}"),
            format!("Origin: http://{}", aalst.addr),
        ],
        format!("csrf={csrf}").as_bytes(),
    );
    assert_eq!(code, 303, "{head}");
    assert_eq!(
        aalst.raw("GET", &page, &[format!("Cookie: {kept}")], b"").0,
        303
    );
    // Nothing is sent twice: the delivery was recorded sent before the restart.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let times = hooks
        .bodies
        .lock()
        .unwrap()
        .iter()
        .filter(|b| b.contains(&id))
        .count();
    assert_eq!(times, 2, "one completion, one seal");
    drop(aalst);
    drop(gent);

    // `--demo` seeds an empty city of the same database and serves it: its documents'
    // content is stored in the city, for those who may read it.
    let (demo, printed) = serve_with(
        &url,
        "demo",
        &org.dir,
        &people,
        &uploader,
        &hooks.url,
        &["--demo", "examples/aalst"],
    );
    let first = printed
        .lines()
        .find_map(|l| l.strip_prefix("demo document 1: "))
        .unwrap_or_else(|| panic!("no demo documents: {printed}"));
    let (doc, _) = first.split_once(' ').unwrap();
    // Whoever may see it finds its uploader, who reads its content.
    let shown = people
        .iter()
        .map(|p| demo.api("GET", &format!("/documents/{doc}"), p, None))
        .find(|(code, _)| *code == 200)
        .map(|(_, body)| json(&body))
        .expect("someone sees the demo document");
    let uploaded = shown["uploader"].as_str().unwrap().to_string();
    let (code, _, body) = demo.raw(
        "GET",
        &format!("/documents/{doc}/content"),
        &[format!("Authorization: Bearer {}", token(&uploaded))],
        b"",
    );
    assert_eq!(code, 200);
    assert!(body.starts_with(b"%PDF-"));
    drop(demo);

    // A token for a person in the organogram in force of the city (and none for someone
    // who is not in it).
    let tokens = org.dir.join("added.toml");
    let tokens = tokens.to_str().unwrap();
    let o = paraaf(
        &url,
        "aalst",
        &["admin", "token", "add", &signer, "--tokens", tokens],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = paraaf(
        &url,
        "aalst",
        &["admin", "token", "add", "niemand", "--tokens", tokens],
    );
    assert!(!o.status.success());

    // The log verifies, and the refused content was stored nowhere.
    let o = paraaf(&url, "aalst", &["audit", "verify"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut store = paraaf_runtime::pg_store::PgStore::reader(&url, "aalst").unwrap();
    let sha = paraaf_runtime::sha256_hex(&refused_pdf);
    assert_eq!(store.read_content(&sha).unwrap(), None);
    let _ = std::fs::remove_dir_all(&org.dir);
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
