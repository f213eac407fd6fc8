//! The web app from the outside, in process: who may open which page (a matrix over
//! every person of the Aalst example and every demo document, against `may_see` and
//! against a small table written here), forms without the session's token or from
//! another site, session expiry, cookies and security headers, bulk signing, the
//! language switch.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use paraaf_runtime::Runtime;
use paraaf_runtime::api::Writer;
use paraaf_runtime::visibility::may_see;
use paraaf_runtime::workdays::Calendar;
use std::path::PathBuf;
use std::time::Duration;
use tower::ServiceExt;

struct App {
    router: Router,
    writer: Writer,
    /// The demo's documents in the order it submits them: `ids[0]` is what the tests
    /// call `d-1` (ids are random; see `App::demo`).
    ids: Vec<String>,
    _dir: tempfile::TempDir,
}

impl App {
    /// The id of the demo's n-th document, written `d-n` in these tests.
    fn id(&self, name: &str) -> String {
        self.demo(name)
    }

    /// `text` with every `d-n` of the demo's documents (n from 1 to 16) replaced by that
    /// document's id; other numbers (`d-99999`, a missing document) stay.
    fn demo(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("d-") {
            let (before, after) = rest.split_at(at);
            out.push_str(before);
            let digits = after[2..].bytes().take_while(u8::is_ascii_digit).count();
            let n: usize = after[2..2 + digits].parse().unwrap_or(0);
            let standalone = !out.ends_with(|c: char| c.is_ascii_alphanumeric())
                && !after[2 + digits..].starts_with(|c: char| c.is_ascii_alphanumeric());
            match self.ids.get(n.wrapping_sub(1)) {
                Some(id) if standalone && digits > 0 => out.push_str(id),
                _ => out.push_str(&after[..2 + digits]),
            }
            rest = &after[2 + digits..];
        }
        out.push_str(rest);
        out
    }
}

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst")
}

fn app(idle: Duration) -> App {
    app_with(idle, Vec::new())
}

fn app_with(idle: Duration, origins: Vec<String>) -> App {
    app_at(idle, origins, Box::new(chrono::Utc::now))
}

/// The app with the writer on `clock` (the engine's clock; the pages ask it too).
fn app_at(
    idle: Duration,
    origins: Vec<String>,
    clock: Box<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>,
) -> App {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("web.db");
    let mut rt = Runtime::open(&db, Calendar::default()).unwrap();
    assert_eq!(
        paraaf_web::demo::seed(&mut rt, &db, &project()).unwrap(),
        16
    );
    let mut docs: Vec<_> = rt.state().documents.values().cloned().collect();
    docs.sort_by_key(|d| d.events[0]);
    let ids = docs.iter().map(|d| d.id.clone()).collect();
    let writer = Writer::start(rt, clock, 16);
    let router = paraaf_web::router(
        writer.clone(),
        paraaf_web::WebConfig {
            dev_login: true,
            oidc: None,
            session_idle: idle,
            session_max: Duration::from_secs(3600),
            secure_cookies: true,
            db: db.into(),
            calendar: Calendar::default(),
            origins,
        },
    )
    .unwrap();
    App {
        router,
        writer,
        ids,
        _dir: dir,
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &App, req: Request<Body>) -> Reply {
    let (mut parts, body) = req.into_parts();
    parts.uri = app.demo(&parts.uri.to_string()).parse().unwrap();
    let req = Request::from_parts(parts, body);
    let res = app.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 10 << 20)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
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

/// A signed-in browser: its cookies and the session's form token.
struct Browser {
    cookies: String,
    csrf: String,
}

async fn login(app: &App, person: &str) -> Browser {
    let page = send(app, Request::get("/app/login").body(Body::empty()).unwrap()).await;
    let login_cookie = cookie_of(&page, "paraaf_login").unwrap();
    let token = csrf_in(&page.body);
    let r = send(
        app,
        Request::post("/app/login")
            .header(header::COOKIE, &login_cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={token}&person={person}")))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let session = cookie_of(&r, "__Host-paraaf_session").expect("a session cookie");
    let inbox = send(
        app,
        Request::get("/app")
            .header(header::COOKIE, &session)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(inbox.status, StatusCode::OK);
    Browser {
        csrf: csrf_in(&inbox.body),
        cookies: session,
    }
}

async fn get(app: &App, b: &Browser, path: &str) -> Reply {
    send(
        app,
        Request::get(path)
            .header(header::COOKIE, &b.cookies)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn post(app: &App, b: &Browser, path: &str, form: &str) -> Reply {
    send(
        app,
        Request::post(path)
            .header(header::COOKIE, &b.cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(app.demo(form)))
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_open_which_document() {
    let app = app(Duration::from_secs(600));
    let state = app.writer.committed();
    let people: Vec<String> = state
        .current()
        .unwrap()
        .1
        .org
        .people()
        .map(str::to_string)
        .collect();
    assert!(people.len() > 300);
    let docs: Vec<String> = state.documents.keys().cloned().collect();
    // An independent table: what the Aalst example promises, written out here.
    let review = &app.id("d-15"); // Evaluatiegesprek Jan Cools 2026
    let social = &app.id("d-16"); // Leefloon: dossier SD-2026-0117
    let first = &app.id("d-1");
    assert_eq!(state.documents[review].kind, "evaluatie");
    assert_eq!(state.documents[social].kind, "sociaal-dossier");
    let table: &[(&str, &str, bool)] = &[
        ("dirk-lambert", review, true),  // the evaluator
        ("jan-cools", review, false),    // the employee: only once asked to sign
        ("eline-dubois", review, false), // a colleague at bevolking
        ("ruben-van-damme", review, false),
        ("dirk-claes", social, true), // the social service's team coach
        ("mohamed-wouters", social, true),
        ("hans-de-backer", social, false), // the general director: shielded out
        ("ruben-van-damme", social, false),
        ("ruben-van-damme", first, true),
        ("jan-cools", first, true),
    ];
    for &(p, d, expected) in table {
        assert_eq!(may_see(&state, p, d), expected, "{p} on {d}");
    }
    let mut checked = 0;
    for p in &people {
        let b = login(&app, p).await;
        let missing = get(&app, &b, "/app/documents/d-99999").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        for d in &docs {
            let page = get(&app, &b, &format!("/app/documents/{d}")).await;
            let content = get(&app, &b, &format!("/app/documents/{d}/content")).await;
            if may_see(&state, p, d) {
                assert_eq!(page.status, StatusCode::OK, "{p} on {d}");
                assert_eq!(content.status, StatusCode::OK, "{p} on {d}");
                assert_eq!(content.headers[header::CONTENT_TYPE], "application/pdf");
            } else {
                // Hidden answers exactly as missing: same status, same page.
                assert_eq!(page.status, StatusCode::NOT_FOUND, "{p} on {d}");
                assert_eq!(page.body, missing.body, "{p} on {d}");
                assert_eq!(content.status, StatusCode::NOT_FOUND, "{p} on {d}");
                // Acting on it by URL is refused the same way.
                let sign = post(
                    &app,
                    &b,
                    &format!("/app/documents/{d}/sign"),
                    &format!("csrf={}", b.csrf),
                )
                .await;
                assert_eq!(sign.status, StatusCode::NOT_FOUND, "{p} signs {d}");
                let sign = post(
                    &app,
                    &b,
                    &format!("/app/documents/{d}/sign"),
                    &format!("csrf={}&confirm=yes&idem=x", b.csrf),
                )
                .await;
                assert_eq!(sign.status, StatusCode::NOT_FOUND, "{p} signs {d}");
                assert!(!sign.body.contains(&state.documents[d].title));
            }
            checked += 1;
        }
        // The inbox and the lists name only what the person may see.
        for path in ["/app", "/app/documents?scope=visible"] {
            let list = get(&app, &b, path).await;
            for d in &docs {
                let title = &state.documents[d].title;
                if !may_see(&state, p, d) {
                    assert!(
                        !list.body.contains(title.as_str()),
                        "{p} sees {title} in {path}"
                    );
                }
            }
        }
    }
    assert_eq!(checked, people.len() * docs.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_the_session_token_and_this_site() {
    let app = app(Duration::from_secs(600));
    let b = login(&app, "ruben-van-damme").await;
    let before = app.writer.committed().last_seq;
    for form in [
        "confirm=yes&idem=a",
        "csrf=forged&confirm=yes&idem=a",
        "csrf=&confirm=yes",
    ] {
        let r = post(&app, &b, "/app/documents/d-1/sign", form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{form}");
        assert!(r.body.contains("Het formulier is verlopen"), "{}", r.body);
    }
    // The right token from another site.
    let r = send(
        &app,
        Request::post("/app/documents/d-1/sign")
            .header(header::COOKIE, &b.cookies)
            .header(header::ORIGIN, "https://evil.example")
            .header(header::HOST, "paraaf.aalst.be")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={}&confirm=yes&idem=b", b.csrf)))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Another person's token does not work in this session.
    let other = login(&app, "hans-de-backer").await;
    let r = post(
        &app,
        &b,
        "/app/documents/d-1/sign",
        &format!("csrf={}&confirm=yes&idem=c", other.csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Without a session: to the sign-in page, nothing written.
    let r = send(
        &app,
        Request::post("/app/documents/d-1/sign")
            .body(Body::from("csrf=x&confirm=yes"))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/app/login");
    assert_eq!(
        app.writer.committed().last_seq,
        before,
        "nothing was written"
    );
    // The dev login form needs its own token too.
    let r = send(
        &app,
        Request::post("/app/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("csrf=x&person=ruben-van-damme"))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_with_confirmation_once_even_when_clicked_twice() {
    let app = app(Duration::from_secs(600));
    let b = login(&app, "ruben-van-damme").await;
    let confirm = post(
        &app,
        &b,
        "/app/documents/d-1/sign",
        &format!("csrf={}", b.csrf),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("ondertekenen?"), "{}", confirm.body);
    let seq = app.writer.committed().last_seq;
    assert_eq!(
        seq,
        app.writer.committed().last_seq,
        "the confirmation writes nothing"
    );
    let idem = {
        let at = confirm.body.find("name=\"idem\" value=\"").unwrap() + 19;
        confirm.body[at..at + confirm.body[at..].find('"').unwrap()].to_string()
    };
    let form = format!("csrf={}&confirm=yes&idem={idem}", b.csrf);
    let first = post(&app, &b, "/app/documents/d-1/sign", &form).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let after = app.writer.committed().last_seq;
    assert!(after > seq);
    let again = post(&app, &b, "/app/documents/d-1/sign", &form).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(
        app.writer.committed().last_seq,
        after,
        "the double click signed once"
    );
    let inbox = get(&app, &b, "/app").await;
    assert!(
        inbox
            .body
            .contains("Ondertekend: Collegebesluit: Subsidie jeugdhuis Zuidkant")
    );
    assert!(inbox.body.contains("11 taken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_signing_signs_the_selection_in_one_go() {
    let app = app(Duration::from_secs(600));
    let b = login(&app, "hans-de-backer").await;
    let docs: Vec<String> = (1..=10).map(|i| app.id(&format!("d-{i}"))).collect();
    let mut form = format!("csrf={}", b.csrf);
    for d in &docs {
        form.push_str(&format!("&doc={d}"));
    }
    // A hidden document slipped into the selection is dropped, not named.
    form.push_str("&doc=d-16");
    let confirm = post(&app, &b, "/app/bulk-sign", &form).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm
            .body
            .contains("Wilt u deze 10 documenten ondertekenen?"),
        "{}",
        confirm.body
    );
    assert!(!confirm.body.contains("Leefloon"));
    let idem = "bulk-1";
    let mut confirmed = format!("csrf={}&confirm=yes&idem={idem}", b.csrf);
    for d in &docs {
        confirmed.push_str(&format!("&doc={d}"));
    }
    let r = post(&app, &b, "/app/bulk-sign", &confirmed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers[header::LOCATION], "/app");
    let state = app.writer.committed();
    for d in &docs {
        let t = state.documents[d]
            .tasks
            .iter()
            .find(|t| t.spec.role == "algemeen-directeur")
            .unwrap();
        assert_eq!(t.decided_by, Some(("hans-de-backer".into(), None)), "{d}");
    }
    let inbox = get(&app, &b, "/app").await;
    assert!(inbox.body.contains("10 documenten ondertekend."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_and_end_at_sign_out() {
    let app = app(Duration::from_millis(700));
    let b = login(&app, "ruben-van-damme").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let r = get(&app, &b, "/app").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/app/login?expired=1");
    let page = send(
        &app,
        Request::get("/app/login?expired=1")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(page.body.contains("Uw sessie is verlopen"));

    let app = app_with_long_session();
    let b = login(&app, "ruben-van-damme").await;
    let r = post(&app, &b, "/app/logout", &format!("csrf={}", b.csrf)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/app/login?bye=1");
    let r = get(&app, &b, "/app").await;
    assert_eq!(
        r.headers[header::LOCATION],
        "/app/login",
        "the old cookie is worthless"
    );
}

fn app_with_long_session() -> App {
    app(Duration::from_secs(600))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_and_headers_are_strict() {
    let app = app(Duration::from_secs(600));
    let page = send(
        &app,
        Request::get("/app/login").body(Body::empty()).unwrap(),
    )
    .await;
    let token = csrf_in(&page.body);
    let login_cookie = cookie_of(&page, "paraaf_login").unwrap();
    let r = send(
        &app,
        Request::post("/app/login")
            .header(header::COOKIE, &login_cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={token}&person=ruben-van-damme")))
            .unwrap(),
    )
    .await;
    let set = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("__Host-paraaf_session="))
        .unwrap();
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    let b = login(&app, "ruben-van-damme").await;
    for path in [
        "/app",
        "/app/documents/d-1",
        "/app/absences",
        "/app/documents",
        "/app/login",
        "/app/nope",
    ] {
        let r = get(&app, &b, path).await;
        let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}"
        );
        assert_eq!(r.headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-store", "{path}");
        assert_eq!(
            r.headers[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{path}"
        );
    }
    let content = get(&app, &b, "/app/documents/d-1/content").await;
    assert!(
        content.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'self'")
    );
    assert!(content.body.starts_with("%PDF-1.4"));
    // The language switch only goes back into the app.
    for evil in [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "/app//evil",
    ] {
        let r = get(&app, &b, &format!("/app/lang/en?back={}", urlencode(evil))).await;
        assert_eq!(r.headers[header::LOCATION], "/app", "{evil}");
    }
    let r = get(&app, &b, "/app/lang/en?back=/app/absences").await;
    assert_eq!(r.headers[header::LOCATION], "/app/absences");
    let lang = cookie_of(&r, "paraaf_lang").unwrap();
    let english = send(
        &app,
        Request::get("/app")
            .header(header::COOKIE, format!("{}; {lang}", b.cookies))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(english.body.contains("<html lang=\"en\">") && english.body.contains("To sign"));
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absence_hands_the_tasks_to_the_substitute() {
    let app = app(Duration::from_secs(600));
    let mayor = login(&app, "ruben-van-damme").await;
    let page = get(&app, &mayor, "/app/absences").await;
    assert!(page.body.contains("Als Burgemeester:"), "{}", page.body);
    let today = paraaf_runtime::clock::date(chrono::Utc::now());
    let to = today + chrono::Duration::days(14);
    let confirm = post(
        &app,
        &mayor,
        "/app/absences",
        &format!("csrf={}&from={today}&to={to}", mayor.csrf),
    )
    .await;
    assert!(confirm.body.contains("Afwezigheid van"), "{}", confirm.body);
    let r = post(
        &app,
        &mayor,
        "/app/absences",
        &format!(
            "csrf={}&from={today}&to={to}&confirm=yes&idem=abs",
            mayor.csrf
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let sub = login(&app, "jan-desmet").await;
    let inbox = get(&app, &sub, "/app").await;
    assert!(
        inbox.body.contains("voor Ruben Van Damme"),
        "{}",
        inbox.body
    );
    let r = post(
        &app,
        &sub,
        "/app/documents/d-2/sign",
        &format!("csrf={}&confirm=yes&idem=s", sub.csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let doc = get(&app, &sub, "/app/documents/d-2").await;
    assert!(
        doc.body
            .contains("ondertekend door Jan Desmet voor Ruben Van Damme"),
        "{}",
        doc.body
    );
    // Someone else cannot withdraw the mayor's absence, not even by its id.
    let id = app
        .writer
        .committed()
        .absences
        .keys()
        .next()
        .unwrap()
        .clone();
    let r = post(
        &app,
        &sub,
        &format!("/app/absences/{id}/withdraw"),
        &format!("csrf={}&confirm=yes&idem=w", sub.csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(app.writer.committed().absences.contains_key(&id));
    let r = post(
        &app,
        &mayor,
        &format!("/app/absences/{id}/withdraw"),
        &format!("csrf={}&confirm=yes&idem=w2", mayor.csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!app.writer.committed().absences.contains_key(&id));
}

/// A PDF submitted through the JSON API is kept and shown in the web app; a content row
/// edited in the database is refused, never shown as the document that was signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_from_the_api_is_shown_and_an_edited_one_refused() {
    use base64::Engine as _;
    let app = app(Duration::from_secs(600));
    let db = app._dir.path().join("web.db");
    let token = "api-token-for-jan-cools-0123";
    let mut tokens = std::collections::BTreeMap::new();
    tokens.insert(
        paraaf_runtime::sha256_hex(token.as_bytes()),
        "jan-cools".to_string(),
    );
    let api = paraaf_runtime::api::router(
        app.writer.clone(),
        tokens,
        Default::default(),
        Some(db.clone()),
    );
    let pdf = paraaf_web::demo::pdf("Aankoop printers", "via de API");
    let body = serde_json::json!({
        "kind": "besluit",
        "title": "Aankoop printers",
        "content_base64": base64::engine::general_purpose::STANDARD.encode(&pdf),
        "fields": {"dienst": "bevolking", "bron": "notula", "titel": "Aankoop printers", "bedrag": "900"},
    });
    let submit = |body: serde_json::Value| {
        api.clone().oneshot(
            Request::post("/documents")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
    };
    let res = submit(body).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = app
        .writer
        .committed()
        .documents
        .values()
        .find(|d| d.title == "Aankoop printers")
        .unwrap()
        .id
        .clone();
    let b = login(&app, "dirk-lambert").await;
    let page = get(&app, &b, &format!("/app/documents/{id}")).await;
    assert!(
        page.body.contains("<iframe id=\"content\""),
        "{}",
        page.body
    );
    let content = send(
        &app,
        Request::get(format!("/app/documents/{id}/content"))
            .header(header::COOKIE, &b.cookies)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(content.status, StatusCode::OK);
    assert_eq!(content.body.as_bytes(), pdf.as_slice());
    assert_eq!(content.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(
        content.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("filename=\"Aankoop printers.pdf\""),
        "{:?}",
        content.headers
    );
    // Text content is sent as UTF-8 (not guessed by the browser) and named `.txt`.
    let text = "Café: één stoel — €90";
    let res = submit(serde_json::json!({
        "kind": "besluit",
        "title": "Nota stoelen",
        "content": text,
        "fields": {"dienst": "bevolking", "bron": "notula", "titel": "Nota stoelen", "bedrag": "90"},
    }))
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let nota = app
        .writer
        .committed()
        .documents
        .values()
        .find(|d| d.title == "Nota stoelen")
        .unwrap()
        .id
        .clone();
    let content = get(&app, &b, &format!("/app/documents/{nota}/content")).await;
    assert_eq!(content.status, StatusCode::OK);
    assert_eq!(content.body, text);
    assert_eq!(
        content.headers[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    assert!(
        content.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("filename=\"Nota stoelen.txt\""),
        "{:?}",
        content.headers
    );
    // Not base64, not a PDF or text, or a hash that is not the content's: refused.
    for bad in [
        serde_json::json!({"kind": "besluit", "content_base64": "%%%"}),
        serde_json::json!({"kind": "besluit", "content_base64": base64::engine::general_purpose::STANDARD.encode([0xffu8, 0xfe, 0x00, 0x81])}),
        serde_json::json!({"kind": "besluit", "content": "x", "content_sha256": "0".repeat(64)}),
        serde_json::json!({"kind": "besluit", "content_base64": ""}),
        serde_json::json!({"kind": "besluit", "title": "Evaluatie \u{202e}gnp.exe", "content": "x",
            "fields": {"dienst": "bevolking", "bron": "notula", "titel": "x"}}),
    ] {
        let res = submit(bad.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // The API's answer: kept out of caches, no global sequence numbers (their gaps would
    // tell how much happens on hidden documents), and `bearer` in any case.
    let res = api
        .clone()
        .oneshot(
            Request::get(format!("/documents/{id}"))
                .header(header::AUTHORIZATION, format!("bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["id"], id.as_str());
    assert!(v.get("events").is_none(), "{v}");
    // Someone with database access swaps the PDF.
    let sha = paraaf_runtime::sha256_hex(&pdf);
    let conn =
        rusqlite::Connection::open(paraaf_runtime::store::content_file::path_of(&db)).unwrap();
    conn.execute(
        "UPDATE contents SET body = ?1 WHERE sha256 = ?2",
        rusqlite::params![b"%PDF-1.4 forged".to_vec(), sha],
    )
    .unwrap();
    let content = get(&app, &b, &format!("/app/documents/{id}/content")).await;
    assert_eq!(content.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!content.body.contains("forged"));
    assert!(
        content
            .body
            .contains("niet meer die van het ingediende document"),
        "{}",
        content.body
    );
}

/// Found by an attack from the outside (see docs/web.md): each is a class, tested as one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_host_name_gets_nothing_and_forms_need_the_apps_origin() {
    let app = app_with(
        Duration::from_secs(600),
        vec![
            "http://127.0.0.1:8080".into(),
            "http://localhost:8080".into(),
        ],
    );
    let at = |host: &str, path: &str| {
        Request::get(path)
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap()
    };
    // DNS rebinding: a page of evil.example pointed at this server.
    for path in [
        "/app/login",
        "/app",
        "/app/documents/d-16",
        "/app/static/app.css",
    ] {
        let r = send(&app, at("evil.example", path)).await;
        assert_eq!(r.status, StatusCode::MISDIRECTED_REQUEST, "{path}");
        assert!(!r.body.contains("csrf"), "{path}");
    }
    let r = send(&app, at("127.0.0.1:8080", "/app/login")).await;
    assert_eq!(r.status, StatusCode::OK);
    let token = csrf_in(&r.body);
    let cookie = cookie_of(&r, "paraaf_login").unwrap();
    let post = |origin: &str, token: &str| {
        Request::post("/app/login")
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::ORIGIN, origin)
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={token}&person=ruben-van-damme")))
            .unwrap()
    };
    for origin in [
        "https://127.0.0.1:8080",
        "http://127.0.0.1:9999",
        "http://evil.example",
    ] {
        assert_eq!(
            send(&app, post(origin, &token)).await.status,
            StatusCode::FORBIDDEN,
            "{origin}"
        );
    }
    assert_eq!(
        send(&app, post("http://localhost:8080", &token))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The sign-in token is used up, and one the server never handed out does not work
    // even when the cookie says the same.
    assert_eq!(
        send(&app, post("http://localhost:8080", &token))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let forged = Request::post("/app/login")
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::COOKIE, "paraaf_login=x")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("csrf=x&person=hans-de-backer"))
        .unwrap();
    assert_eq!(send(&app, forged).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_substitute_who_never_acted_loses_sight_when_the_holder_returns() {
    let app = app(Duration::from_secs(600));
    let mayor = login(&app, "ruben-van-damme").await;
    let sub = login(&app, "jan-desmet").await;
    assert_eq!(
        get(&app, &sub, "/app/documents/d-5").await.status,
        StatusCode::NOT_FOUND
    );
    let today = paraaf_runtime::clock::date(chrono::Utc::now());
    post(
        &app,
        &mayor,
        "/app/absences",
        &format!(
            "csrf={}&from={today}&to={today}&confirm=yes&idem=a",
            mayor.csrf
        ),
    )
    .await;
    assert_eq!(
        get(&app, &sub, "/app/documents/d-5").await.status,
        StatusCode::OK
    );
    // He signs one of them for the mayor, and leaves the others.
    let r = post(
        &app,
        &sub,
        "/app/documents/d-6/sign",
        &format!("csrf={}&confirm=yes&idem=s", sub.csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = app
        .writer
        .committed()
        .absences
        .keys()
        .next()
        .unwrap()
        .clone();
    post(
        &app,
        &mayor,
        &format!("/app/absences/{id}/withdraw"),
        &format!("csrf={}&confirm=yes&idem=w", mayor.csrf),
    )
    .await;
    // What he only was asked to sign is hidden again; what he signed he still sees.
    let hidden = get(&app, &sub, "/app/documents/d-5").await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, &sub, "/app/documents/d-6").await.status,
        StatusCode::OK
    );
    let list = get(&app, &sub, "/app/documents?scope=visible").await;
    assert!(
        !list.body.contains(&format!("{}\"", app.id("d-5"))),
        "{}",
        list.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_people_type_is_bounded_and_shown_back_safely() {
    let app = app(Duration::from_secs(600));
    let b = login(&app, "jan-cools").await;
    let before = app.writer.committed().last_seq;
    let long = "x".repeat(4001);
    for text in [
        long.as_str(),
        "a%00b",
        "a%1B%5B31mred",
        "%E2%80%AEreversed",
        "%07bell",
    ] {
        let r = post(
            &app,
            &b,
            "/app/documents/d-14/comment",
            &format!(
                "csrf={}&confirm=yes&idem={}&text={text}",
                b.csrf,
                text.len()
            ),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            &text[..text.len().min(20)]
        );
    }
    assert_eq!(
        app.writer.committed().last_seq,
        before,
        "nothing was written"
    );
    // Markup in a comment is shown as text.
    let r = post(
        &app,
        &b,
        "/app/documents/d-14/comment",
        &format!(
            "csrf={}&confirm=yes&idem=x&text=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            b.csrf
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = get(&app, &b, "/app/documents/d-14").await;
    assert!(
        page.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || page.body.contains("&lt;script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert"));
    // The message after an action is the server's, never words from the address bar.
    assert!(page.body.contains("Uw opmerking is toegevoegd."));
    let again = get(&app, &b, "/app/documents/d-14").await;
    assert!(
        !again.body.contains("Uw opmerking is toegevoegd."),
        "shown once"
    );
    for spoof in [
        "/app?done=signed&doc=d-9",
        "/app/login?error=Bel%20de%20helpdesk%200800",
    ] {
        let r = get(&app, &b, spoof).await;
        assert!(
            !r.body.contains("Ondertekend:") && !r.body.contains("helpdesk"),
            "{spoof}"
        );
    }
    // A line break counts one character, as the browser's maxlength counts it; the limit
    // is said in Dutch at the first step, before the confirmation.
    let lines = vec!["b".repeat(399); 9].join("%0D%0A") + "%0D%0A" + &"b".repeat(400);
    let r = post(
        &app,
        &b,
        "/app/documents/d-14/comment",
        &format!("csrf={}&text={lines}", b.csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = post(
        &app,
        &b,
        "/app/documents/d-14/comment",
        &format!("csrf={}&text={lines}b", b.csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("langer dan 4000 tekens"), "{}", r.body);
    let r = post(
        &app,
        &b,
        "/app/documents/d-14/comment",
        &format!("csrf={}&text=%E2%80%8D%E2%80%8D", b.csrf),
    )
    .await;
    assert!(
        r.body.contains("tekens die niet zijn toegelaten"),
        "{}",
        r.body
    );
    // One reader cannot fill a document with comments for everyone.
    for i in 0..49 {
        let r = post(
            &app,
            &b,
            "/app/documents/d-14/comment",
            &format!("csrf={}&confirm=yes&idem=c{i}&text=nr{i}", b.csrf),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{i}");
    }
    let r = post(
        &app,
        &b,
        "/app/documents/d-14/comment",
        &format!("csrf={}&confirm=yes&idem=c50&text=te+veel", b.csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let head = login(&app, "dirk-lambert").await;
    let r = post(
        &app,
        &head,
        "/app/documents/d-14/comment",
        &format!("csrf={}&confirm=yes&idem=h&text=Akkoord", head.csrf),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "the signer can still comment"
    );
    // Odd absences and oversize selections are refused with the reason, not a 500.
    for (from, to) in [
        ("0000-01-01", "0000-12-31"),
        ("2026-01-01", "2099-01-01"),
        ("2026-05-02", "2026-05-01"),
    ] {
        let r = post(
            &app,
            &b,
            "/app/absences",
            &format!(
                "csrf={}&from={from}&to={to}&confirm=yes&idem={from}{to}",
                b.csrf
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{from} {to}");
    }
    let mut form = format!("csrf={}", b.csrf);
    for i in 0..501 {
        form.push_str(&format!("&doc=d-{i}"));
    }
    assert_eq!(
        post(&app, &b, "/app/bulk-sign", &form).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The language switch with anything a header cannot carry goes back to the inbox.
    for back in [
        "/app%0a",
        "/app%0d%0aSet-Cookie:%20x=1",
        "/app%00",
        "/app/../../evil",
        "/app%09/x",
    ] {
        let r = get(&app, &b, &format!("/app/lang/en?back={back}")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{back}");
        assert_eq!(r.headers[header::LOCATION], "/app", "{back}");
    }
}

/// Content belongs to documents, never to a hash (#24). Jan Cools, never in the social
/// service, got the SHA-256 of the social-service file's PDF from a former member. The
/// API refuses his submission by that hash as it refuses a hash nobody uploaded; and a
/// `besluit` of his that references it anyway (as one submitted before that check did)
/// shows nothing, on his web page, its content URL and the API's: only the social-service
/// file's own readers get the PDF, through that file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_is_read_through_its_document_never_by_its_hash() {
    let app = app(Duration::from_secs(600));
    let db = app._dir.path().join("web.db");
    let social = app.id("d-16");
    let sha = app.writer.committed().documents[&social]
        .content_sha256
        .clone();
    let token = "api-token-for-jan-cools-0123";
    let tokens = [(
        paraaf_runtime::sha256_hex(token.as_bytes()),
        "jan-cools".to_string(),
    )]
    .into_iter()
    .collect();
    let api = paraaf_runtime::api::router(
        app.writer.clone(),
        tokens,
        Default::default(),
        Some(db.clone()),
    );
    let call = |req: Request<Body>| {
        let api = api.clone();
        async move {
            let res = api.oneshot(req).await.unwrap();
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), 10 << 20)
                .await
                .unwrap();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let by_hash = |sha: &str| {
        Request::post("/documents")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                serde_json::json!({"kind": "besluit", "content_sha256": sha,
                    "fields": {"dienst": "bevolking", "bron": "notula", "titel": "Aankoop", "bedrag": "10"}})
                .to_string(),
            ))
            .unwrap()
    };
    let stolen = call(by_hash(&sha)).await;
    let unknown = call(by_hash(&"cd".repeat(32))).await;
    assert_eq!(stolen.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", stolen.1);
    assert_eq!(stolen, unknown);

    // A besluit that references the file's content by its hash, written past the API's
    // check (as before it existed).
    let forged = app
        .writer
        .write(paraaf_runtime::api::Write {
            person: "jan-cools".into(),
            idempotency: None,
            command: Box::new(move |em| {
                let id = em.submit(paraaf_runtime::engine::Submission {
                    kind: "besluit".into(),
                    uploader: "jan-cools".into(),
                    fields: [
                        ("dienst", "bevolking"),
                        ("bron", "notula"),
                        ("titel", "Aankoop"),
                        ("bedrag", "10"),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.into())))
                    .collect(),
                    content_sha256: sha,
                    title: "Aankoop".into(),
                    flow: None,
                })?;
                Ok(paraaf_runtime::api::Answer {
                    status: 201,
                    body: id,
                })
            }),
        })
        .await;
    assert_eq!(forged.status, 201, "{}", forged.body);
    let forged = forged.body;
    let api_content = |doc: String| {
        Request::get(format!("/documents/{doc}/content"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let check = |label: &str| {
        let label = label.to_string();
        let (api_content, call) = (&api_content, &call);
        let (app, forged, social) = (&app, &forged, &social);
        async move {
            let jan = login(app, "jan-cools").await;
            let page = get(app, &jan, &format!("/app/documents/{forged}")).await;
            assert_eq!(page.status, StatusCode::OK, "{label}");
            assert!(!page.body.contains("<iframe id=\"content\""), "{label}");
            let web = get(app, &jan, &format!("/app/documents/{forged}/content")).await;
            let missing = get(app, &jan, "/app/documents/d-zzzzzzzzzzzzzzzz/content").await;
            assert_eq!(web.status, StatusCode::NOT_FOUND, "{label}");
            assert_eq!(web.body, missing.body, "{label}");
            assert!(!web.body.contains("SD-2026-0117"), "{label}");
            let (s, body) = call(api_content(forged.clone())).await;
            let (_, missing) = call(api_content("d-zzzzzzzzzzzzzzzz".into())).await;
            assert_eq!((s, &body), (StatusCode::NOT_FOUND, &missing), "{label}");
            // Another reader of the besluit (the mayor signs it) gets nothing either.
            let mayor = login(app, "ruben-van-damme").await;
            if get(app, &mayor, &format!("/app/documents/{forged}"))
                .await
                .status
                == StatusCode::OK
            {
                let web = get(app, &mayor, &format!("/app/documents/{forged}/content")).await;
                assert_eq!(web.status, StatusCode::NOT_FOUND, "{label}");
            }
            // The file's own readers still read it, through the file.
            let coach = login(app, "dirk-claes").await;
            let own = get(app, &coach, &format!("/app/documents/{social}/content")).await;
            assert_eq!(own.status, StatusCode::OK, "{label}");
            assert!(own.body.starts_with("%PDF-"), "{label}");
        }
    };
    check("jan-cools does not own the content").await;
    // No second check with a hand-made ownership record: the ownership record is what
    // decides (a reader's own upload is always shown to them, or an answer would tell them
    // whether a hidden file holds the same bytes: attack finding 3, tests/oracles.rs), and
    // whoever can write rows into the database can read its content table as well.
}

/// Text as a page shows it: no-break spaces as spaces.
fn plain(body: &str) -> String {
    body.replace('\u{a0}', " ").replace("&#160;", " ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_follow_the_engines_clock_and_say_overdue_in_words() {
    // Today: nothing of the mayor's twelve college decisions (5 workdays) is late.
    let app = app(Duration::from_secs(600));
    let mayor = login(&app, "ruben-van-damme").await;
    let inbox = get(&app, &mayor, "/app").await;
    assert!(inbox.body.contains("12 taken"), "{}", inbox.body);
    assert!(!inbox.body.contains("(Te laat)"), "{}", inbox.body);
    let late = get(&app, &mayor, "/app?due=overdue").await;
    assert!(late.body.contains("0 taken"), "{}", late.body);
    // The same database a month later on the writer's clock (as `--now` sets it): every
    // one is overdue, in words as well as in colour, and the filter agrees.
    let month = chrono::Utc::now() + chrono::Duration::days(30);
    let app = app_at(
        Duration::from_secs(600),
        Vec::new(),
        Box::new(move || month),
    );
    let mayor = login(&app, "ruben-van-damme").await;
    let inbox = get(&app, &mayor, "/app").await;
    assert_eq!(
        inbox.body.matches("(Te laat)").count(),
        12,
        "{}",
        inbox.body
    );
    assert_eq!(inbox.body.matches("class=\"overdue\"").count(), 12);
    let late = get(&app, &mayor, "/app?due=overdue").await;
    assert!(late.body.contains("12 taken"), "{}", late.body);
    // The absences page's first possible day is the writer's day, in Brussels.
    let page = get(&app, &mayor, "/app/absences").await;
    let day = month
        .with_timezone(&chrono_tz::Europe::Brussels)
        .date_naive()
        .to_string();
    assert!(page.body.contains(&day), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_are_the_organograms_names_and_money_is_in_euro() {
    let app = app(Duration::from_secs(600));
    let head = login(&app, "dirk-lambert").await;
    let doc = plain(&get(&app, &head, "/app/documents/d-13").await.body);
    assert!(doc.contains("U tekent als Diensthoofd Bevolking"), "{doc}");
    assert!(doc.contains("€ 12 000,00"), "{doc}");
    assert!(!doc.contains(" of bevolking"), "{doc}");
    assert!(!doc.contains("bevolking)"), "{doc}");
    let inbox = get(&app, &head, "/app").await;
    assert!(
        inbox.body.contains("Diensthoofd Bevolking"),
        "{}",
        inbox.body
    );
    let director = login(&app, "hans-de-backer").await;
    let inbox = get(&app, &director, "/app").await;
    assert!(inbox.body.contains("Algemeen Directeur"), "{}", inbox.body);
    assert!(
        !inbox.body.contains(">algemeen-directeur<"),
        "{}",
        inbox.body
    );
    let mayor = login(&app, "ruben-van-damme").await;
    let page = get(&app, &mayor, "/app/absences").await;
    assert!(
        page.body.contains("Als Burgemeester: Jan Desmet"),
        "{}",
        page.body
    );
    // Kinds by the project's names (`[kinds]` of paraaf.toml), in the list, the filter
    // and the document; the filter still sends the kind.
    let inbox = get(&app, &mayor, "/app").await;
    assert!(
        inbox.body.contains(">Collegebesluit</td>"),
        "{}",
        inbox.body
    );
    assert!(!inbox.body.contains(">besluit<"), "{}", inbox.body);
    assert!(
        inbox
            .body
            .contains("<option value=\"besluit\">Collegebesluit</option>"),
        "{}",
        inbox.body
    );
    let filtered = get(&app, &mayor, "/app?kind=besluit").await;
    assert!(filtered.body.contains("12 taken"), "{}", filtered.body);
    let doc = get(&app, &mayor, "/app/documents/d-1").await;
    assert!(doc.body.contains(" · Collegebesluit · "), "{}", doc.body);
    let list = get(&app, &mayor, "/app/documents").await;
    assert!(list.body.contains(">Collegebesluit<"), "{}", list.body);
    // English: the same names, the amount written the English way.
    let r = get(&app, &head, "/app/lang/en?back=/app").await;
    let lang = cookie_of(&r, "paraaf_lang").unwrap();
    let english = send(
        &app,
        Request::get("/app/documents/d-13")
            .header(header::COOKIE, format!("{}; {lang}", head.cookies))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(english.body.contains("€12,000.00"), "{}", english.body);
    assert!(english.body.contains("You sign as Diensthoofd Bevolking"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_unknown_pages_speak_the_interface_language() {
    let app = app(Duration::from_secs(600));
    let mayor = login(&app, "ruben-van-damme").await;
    // A confirmation left open in a second tab, after the first one signed.
    let sign = |idem: &str| format!("csrf={}&confirm=yes&idem={idem}", mayor.csrf);
    let r = post(&app, &mayor, "/app/documents/d-1/sign", &sign("first")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let stale = post(&app, &mayor, "/app/documents/d-1/sign", &sign("second")).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    assert!(stale.body.contains("<html lang=\"nl\">"), "{}", stale.body);
    assert!(
        stale.body.contains("u hebt geen open taak (meer)"),
        "{}",
        stale.body
    );
    assert!(!stale.body.contains("not allowed"), "{}", stale.body);
    // Bulk: one already signed, one not; the failure in Dutch.
    let r = post(
        &app,
        &mayor,
        "/app/bulk-sign",
        &format!("csrf={}&confirm=yes&idem=b&doc=d-1&doc=d-2", mayor.csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let inbox = get(&app, &mayor, "/app").await;
    assert!(inbox.body.contains("Niet ondertekend: "), "{}", inbox.body);
    assert!(inbox.body.contains("u hebt geen open taak (meer)"));
    assert!(!inbox.body.contains("not allowed"), "{}", inbox.body);
    // A path the app does not have is not a document.
    let nope = get(&app, &mayor, "/app/nope/at/all").await;
    assert_eq!(nope.status, StatusCode::NOT_FOUND);
    assert!(nope.body.contains("Pagina niet gevonden"), "{}", nope.body);
    assert!(!nope.body.contains("Dit document bestaat niet"));
    let missing = get(&app, &mayor, "/app/documents/d-99999").await;
    assert!(missing.body.contains("Dit document bestaat niet"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_to_a_document_survives_signing_in_and_only_to_the_app() {
    let app = app(Duration::from_secs(600));
    let target = app.demo("/app/documents/d-13");
    let r = send(
        &app,
        Request::get(target.as_str()).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/app/login");
    let next = cookie_of(&r, "paraaf_next").expect("the page asked for is kept");
    let signed_in = |extra: String| {
        let app = &app;
        async move {
            let page = send(app, Request::get("/app/login").body(Body::empty()).unwrap()).await;
            let login_cookie = cookie_of(&page, "paraaf_login").unwrap();
            let token = csrf_in(&page.body);
            send(
                app,
                Request::post("/app/login")
                    .header(header::COOKIE, format!("{login_cookie}; {extra}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(format!("csrf={token}&person=dirk-lambert")))
                    .unwrap(),
            )
            .await
        }
    };
    let r = signed_in(next).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION].to_str().unwrap(), target);
    // A cookie naming another site (or anything but a page of the app) goes to the inbox.
    for evil in [
        "//evil.example/x",
        "https://evil.example",
        "/app/../../x",
        "/\\evil",
    ] {
        let r = signed_in(format!("paraaf_next={evil}")).await;
        assert_eq!(r.headers[header::LOCATION], "/app", "{evil}");
    }
    // A form post is not kept (it would run again).
    let r = send(
        &app,
        Request::post(target.as_str()).body(Body::empty()).unwrap(),
    )
    .await;
    assert!(cookie_of(&r, "paraaf_next").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_opens_on_what_one_may_see_and_content_is_named_after_its_title() {
    let app = app(Duration::from_secs(600));
    let mayor = login(&app, "ruben-van-damme").await;
    let list = get(&app, &mayor, "/app/documents").await;
    assert!(list.body.contains("Collegebesluit"), "{}", list.body);
    assert!(!list.body.contains("id=\"empty\""), "{}", list.body);
    let mine = get(&app, &mayor, "/app/documents?scope=mine").await;
    assert!(mine.body.contains("id=\"empty\""), "{}", mine.body);
    // Search by a part of the id.
    let id = app.id("d-1");
    let part = &id[2..8];
    let found = get(&app, &mayor, &format!("/app/documents?q={part}")).await;
    assert!(found.body.contains(&id), "{}", found.body);
    let head = login(&app, "dirk-lambert").await;
    let content = get(&app, &head, "/app/documents/d-13/content").await;
    assert_eq!(content.status, StatusCode::OK);
    let disposition = content.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap();
    assert!(
        disposition.contains("filename=\"Collegebesluit_ Aankoop laptops voor het onthaal.pdf\""),
        "{disposition}"
    );
}

/// My settings: how I am told by mail is a form (confirmed, with the session's token)
/// that records my choice as an event; someone else's choice is not mine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_settings_choose_how_i_am_told_by_mail() {
    use paraaf_runtime::engine::NotifyMode;
    let app = app(Duration::from_secs(600));
    let mayor = login(&app, "ruben-van-damme").await;
    let inbox = get(&app, &mayor, "/app").await;
    assert!(
        inbox.body.contains("href=\"/app/settings\""),
        "a link in the menu"
    );
    let page = get(&app, &mayor, "/app/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Eén overzicht per dag"), "{}", page.body);
    assert!(
        page.body
            .contains("id=\"mail-digest\" name=\"mail\" value=\"digest\" checked")
    );
    // Without the form token: refused, nothing recorded.
    let r = post(&app, &mayor, "/app/settings", "mail=immediate&confirm=yes").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.writer.committed().notify.is_empty());
    // Confirmed first, then recorded.
    let confirm = post(
        &app,
        &mayor,
        "/app/settings",
        &format!("csrf={}&mail=immediate", mayor.csrf),
    )
    .await;
    assert!(
        confirm.body.contains("Meteen, een e-mail per gebeurtenis"),
        "{}",
        confirm.body
    );
    assert!(app.writer.committed().notify.is_empty());
    let r = post(
        &app,
        &mayor,
        "/app/settings",
        &format!("csrf={}&mail=immediate&confirm=yes&idem=n1", mayor.csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.writer.committed().notify.get("ruben-van-damme"),
        Some(&NotifyMode::Immediate)
    );
    let page = get(&app, &mayor, "/app/settings").await;
    assert!(page.body.contains("Uw keuze is bewaard."));
    assert!(page.body.contains("value=\"immediate\" checked"));
    // Another person's choice is their own.
    let sub = login(&app, "jan-desmet").await;
    let page = get(&app, &sub, "/app/settings").await;
    assert!(page.body.contains("value=\"digest\" checked"));
    // An unknown choice is refused in words.
    let r = post(
        &app,
        &sub,
        "/app/settings",
        &format!("csrf={}&mail=sms&confirm=yes&idem=n2", sub.csrf),
    )
    .await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(
        r.body.contains("Kies een van de mogelijkheden."),
        "{}",
        r.body
    );
}
