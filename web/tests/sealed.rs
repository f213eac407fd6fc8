//! The sealed PDF in the web app and the JSON API (#28 item 4), in process: the demo's
//! documents signed to completion and sealed (the test PKI of tests/seal/pki.sh, PAdES
//! B-B), then a signer who may see a document gets the download link on its page and a
//! PDF that verifies, and whoever may not see it gets exactly what a missing document
//! gives (404), on the web page and on `GET /documents/{id}/sealed`.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use paraaf_runtime::Runtime;
use paraaf_runtime::api::Writer;
use paraaf_runtime::engine::{Status, TaskStatus};
use paraaf_runtime::visibility::may_see;
use paraaf_runtime::workdays::Calendar;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tower::ServiceExt;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The test PKI and a seal configuration without a TSA; returns (config, root.pem).
fn seal_config(dir: &Path) -> (PathBuf, PathBuf) {
    let pki = dir.join("pki");
    let ok = std::process::Command::new("bash")
        .arg(root().join("tests/seal/pki.sh"))
        .arg(&pki)
        .status()
        .unwrap();
    assert!(ok.success(), "tests/seal/pki.sh (openssl) failed");
    std::fs::write(pki.join("password"), "test\n").unwrap();
    let config = pki.join("seal.toml");
    std::fs::write(
        &config,
        "[seal]\ncity = \"Stad Aalst\"\npkcs12 = \"seal.p12\"\npassword_file = \"password\"\n",
    )
    .unwrap();
    (config, pki.join("root.pem"))
}

/// Signs every open task of every demo document, as its first assignee, until nothing
/// more can be signed.
fn complete_all(rt: &mut Runtime, now: chrono::DateTime<chrono::Utc>) {
    for _ in 0..12 {
        let open: Vec<(String, String)> = rt
            .state()
            .documents
            .values()
            .filter(|d| d.status == Status::InProgress)
            .flat_map(|d| {
                d.tasks
                    .iter()
                    .filter(|t| t.status == TaskStatus::Open)
                    .filter_map(|t| t.spec.assignees.first())
                    .map(|p| (d.id.clone(), p.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut signed = false;
        for (doc, who) in open {
            signed |= rt.execute(now, |e| e.sign(&doc, &who)).is_ok();
        }
        if !signed {
            return;
        }
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn send(router: &Router, req: Request<Body>) -> Reply {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), 64 << 20)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

fn cookie_of(r: &Reply, name: &str) -> Option<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

fn csrf_in(body: &str) -> String {
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("a form with a token");
    let rest = &body[at + 19..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Signs `person` in (development login); returns the session cookie.
async fn login(web: &Router, person: &str) -> String {
    let page = send(web, Request::get("/app/login").body(Body::empty()).unwrap()).await;
    let login_cookie = cookie_of(&page, "paraaf_login").unwrap();
    let token = csrf_in(&page.text());
    let r = send(
        web,
        Request::post("/app/login")
            .header(header::COOKIE, &login_cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={token}&person={person}")))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    cookie_of(&r, "__Host-paraaf_session").expect("a session cookie")
}

async fn get(router: &Router, cookie: Option<&str>, token: Option<&str>, path: &str) -> Reply {
    let mut req = Request::get(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    send(router, req.body(Body::empty()).unwrap()).await
}

fn token_of(person: &str) -> String {
    format!("api-token-{person}-0123456789")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sealed_pdf_goes_to_whom_may_see_the_document_and_is_missing_for_anyone_else() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("web.db");
    let (config, root_pem) = seal_config(dir.path());
    let now = chrono::Utc::now();
    let mut rt = Runtime::open(&db, Calendar::default()).unwrap();
    paraaf_web::demo::seed(&mut rt, &db, &root().join("examples/aalst")).unwrap();
    complete_all(&mut rt, now);
    let cfg = paraaf_runtime::sealing::SealConfig::load(&config).unwrap();
    let sealed = paraaf_runtime::sealing::seal_pending_runtime(&mut rt, &db, &cfg, now);
    assert!(!sealed.is_empty(), "the demo completes documents");
    assert!(sealed.iter().all(|(_, r)| r.is_ok()), "{sealed:?}");
    let docs: Vec<String> = sealed.iter().map(|(d, _)| d.clone()).collect();
    let people: Vec<String> = rt
        .state()
        .organogram
        .as_ref()
        .unwrap()
        .organogram
        .people
        .iter()
        .map(|p| p.id.clone())
        .collect();
    let writer = Writer::start(rt, Box::new(chrono::Utc::now), 16);
    let web = paraaf_web::router(
        writer.clone(),
        paraaf_web::WebConfig {
            dev_login: true,
            oidc: None,
            session_idle: Duration::from_secs(600),
            session_max: Duration::from_secs(3600),
            secure_cookies: true,
            db: db.clone().into(),
            calendar: Calendar::default(),
            origins: Vec::new(),
        },
    )
    .unwrap();
    let tokens = people
        .iter()
        .map(|p| {
            (
                paraaf_runtime::sha256_hex(token_of(p).as_bytes()),
                p.clone(),
            )
        })
        .collect();
    let api = paraaf_runtime::api::router(writer.clone(), tokens, Default::default(), Some(db));
    let anchors =
        paraaf_seal::trust::Anchors::from_pem(&std::fs::read(&root_pem).unwrap()).unwrap();

    // The API, for every person and every sealed document: the PDF to whom may see it,
    // and to anyone else exactly the answer for a missing document.
    let state = writer.committed();
    let mut served = 0;
    let mut refused = 0;
    for person in &people {
        let token = token_of(person);
        let missing = get(
            &api,
            None,
            Some(&token),
            "/documents/d-nosuchdocument/sealed",
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        for doc in &docs {
            let r = get(
                &api,
                None,
                Some(&token),
                &format!("/documents/{doc}/sealed"),
            )
            .await;
            if may_see(&state, person, doc) {
                // Content the reader may not read (another's upload they only see
                // listed) stays 404; what is served is the sealed PDF.
                if r.status == StatusCode::OK {
                    assert_eq!(r.headers[header::CONTENT_TYPE], "application/pdf");
                    assert!(r.body.starts_with(b"%PDF"));
                    served += 1;
                }
            } else {
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{person} {doc}");
                assert_eq!(
                    r.text().replace(doc.as_str(), "D"),
                    missing.text().replace("d-nosuchdocument", "D"),
                    "{person} {doc}: like a missing document"
                );
                refused += 1;
            }
        }
    }
    assert!(
        served > 0 && refused > 0,
        "served {served}, refused {refused}"
    );

    // The web app: a signer of a sealed document sees the link and downloads a PDF that
    // verifies; an outsider gets the page of a missing document.
    let doc = &docs[0];
    let d = state.documents[doc].clone();
    let signer = d
        .tasks
        .iter()
        .filter_map(|t| t.decided_by.as_ref().map(|(by, _)| by.clone()))
        .find(|p| {
            let s = &state;
            may_see(s, p, doc)
        })
        .expect("a signer");
    let code = d.sealed.as_ref().unwrap().code.clone();
    let session = login(&web, &signer).await;
    let page = get(&web, Some(&session), None, &format!("/app/documents/{doc}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let link = format!("/app/documents/{doc}/sealed");
    assert!(page.text().contains(&link), "no download link on the page");
    assert!(
        page.text().contains(&code),
        "the page shows the verification code"
    );
    let pdf = get(&web, Some(&session), None, &link).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(
        pdf.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    assert!(pdf.body.starts_with(b"%PDF"));
    let report = paraaf_seal::verify::verify(&pdf.body, &anchors, None);
    assert!(
        report.intact && report.signature_ok && report.chain.is_some(),
        "{:?}",
        report.problems
    );
    assert_eq!(report.code.as_deref(), Some(code.as_str()));
    assert_eq!(report.sha256, d.sealed.as_ref().unwrap().sha256);

    let outsider = people
        .iter()
        .find(|p| !may_see(&state, p, doc))
        .expect("someone who may not see it")
        .clone();
    let session = login(&web, &outsider).await;
    let theirs = get(&web, Some(&session), None, &link).await;
    let missing = get(
        &web,
        Some(&session),
        None,
        "/app/documents/d-nosuchdocument/sealed",
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(
        theirs.text().replace(doc.as_str(), "D"),
        missing.text().replace("d-nosuchdocument", "D")
    );
    assert!(!theirs.text().contains(&code));
}
