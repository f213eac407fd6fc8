//! Server-side rendering time of the web app's inbox and document pages with 10,000
//! documents over the Aalst organogram (342 people), next to the JSON API's time for the
//! same data in the same run (`GET /inbox`, `GET /documents/{id}`). In process (no
//! network): what is measured is routing, the session, `may_see`, the page and its
//! reads of the history and content. `cargo bench -p paraaf-web --bench pages`.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use chrono::Utc;
use paraaf_runtime::Runtime;
use paraaf_runtime::api::Writer;
use paraaf_runtime::engine::{Emitter, RuntimeError, Submission};
use paraaf_runtime::workdays::Calendar;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const DOCS: usize = 10_000;
const RUNS: usize = 400;

fn submission(i: usize, sha: &str) -> (Submission, bool) {
    let (kind, fields, paraafed): (&str, Vec<(&str, String)>, bool) = match i % 10 {
        0..=5 => (
            "besluit",
            vec![
                ("dienst", "bevolking".into()),
                ("bron", "notula".into()),
                ("titel", format!("Besluit {i}")),
                ("bedrag", format!("{}", 100 + (i * 37) % 20_000)),
            ],
            i.is_multiple_of(2),
        ),
        6 => (
            "evaluatie",
            vec![
                ("dienst", "bevolking".into()),
                ("medewerker", "jan-cools".into()),
            ],
            false,
        ),
        7 => (
            "sociaal-dossier",
            vec![
                ("team", "inkomen".into()),
                ("dossiernummer", format!("SD-{i}")),
            ],
            false,
        ),
        8 => (
            "vergunning",
            vec![
                ("soort", "omgevingsvergunning".into()),
                ("dossiernummer", format!("OMV-{i}")),
            ],
            false,
        ),
        _ => (
            "attest",
            vec![("soort", "woonst".into()), ("aanvrager", "burger".into())],
            false,
        ),
    };
    let uploader = match kind {
        "evaluatie" => "dirk-lambert",
        "sociaal-dossier" => "dirk-claes",
        "vergunning" => "jan-van-hecke",
        _ => "jan-cools",
    };
    (
        Submission {
            kind: kind.into(),
            uploader: uploader.into(),
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                .collect(),
            content_sha256: sha.into(),
            title: format!("{kind} {i}"),
            flow: None,
        },
        paraafed,
    )
}

fn seed(db: &Path) -> Runtime {
    let mut rt = Runtime::open(db, Calendar::default()).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    let project = paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap();
    let now = Utc::now();
    rt.execute(now, |e| e.deploy(project)).unwrap();
    let pdf = paraaf_web::demo::pdf("Besluit", "Voorbeeld");
    // Each uploader sent the PDF (content is shown only through its uploader's documents).
    let mut sha = String::new();
    for uploader in ["dirk-lambert", "dirk-claes", "jan-van-hecke", "jan-cools"] {
        sha = paraaf_runtime::contents::put(db, uploader, "application/pdf", &pdf).unwrap();
    }
    for chunk in (0..DOCS).collect::<Vec<_>>().chunks(500) {
        let items: Vec<paraaf_runtime::runtime::BatchItem<()>> = chunk
            .iter()
            .map(|&i| {
                let (sub, paraafed) = submission(i, &sha);
                Box::new(move |e: &mut Emitter| {
                    let r = (|| {
                        let id = e.submit(sub)?;
                        if paraafed {
                            e.sign(&id, "dirk-lambert")?;
                        }
                        Ok::<(), RuntimeError>(())
                    })();
                    (r, None)
                }) as paraaf_runtime::runtime::BatchItem<()>
            })
            .collect();
        for r in rt.execute_batch(now, items) {
            r.unwrap();
        }
    }
    rt
}

async fn call(app: &Router, req: Request<Body>) -> (u16, Vec<axum::http::HeaderValue>, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    let body = axum::body::to_bytes(res.into_body(), 64 << 20)
        .await
        .unwrap();
    (status, cookies, String::from_utf8_lossy(&body).into_owned())
}

fn cookie(values: &[axum::http::HeaderValue], name: &str) -> String {
    values
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
        .unwrap()
}

async fn session(web: &Router, person: &str) -> String {
    let (_, cookies, body) =
        call(web, Request::get("/app/login").body(Body::empty()).unwrap()).await;
    let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let token = &body[at..at + body[at..].find('"').unwrap()];
    let (status, cookies2, _) = call(
        web,
        Request::post("/app/login")
            .header(header::COOKIE, cookie(&cookies, "paraaf_login"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={token}&person={person}")))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 303);
    cookie(&cookies2, "__Host-paraaf_session")
}

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (ms(v[v.len() / 2]), ms(v[v.len() * 99 / 100]))
}

async fn measure(app: &Router, make: impl Fn() -> Request<Body>, expect: &str) -> (f64, f64) {
    let (status, _, body) = call(app, make()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(expect), "{expect} not in the answer");
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        let (status, _, _) = call(app, make()).await;
        times.push(t.elapsed());
        assert_eq!(status, 200);
    }
    stats(times)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let t = Instant::now();
    let rt = seed(&db);
    let state = rt.state();
    let people = state.current().unwrap().1.org.people().count();
    println!(
        "{} documents, {people} people, seeded in {:.1} s",
        state.documents.len(),
        t.elapsed().as_secs_f64()
    );
    // The 5001st document submitted (ids are random: found by submission order).
    let mut order: Vec<_> = state.documents.values().collect();
    order.sort_by_key(|d| d.events[0]);
    let doc = order[5000].id.clone();
    let writer = Writer::start(rt, Box::new(Utc::now), 64);
    let token = "bench-token-0123456789abcdef";
    let mut tokens = BTreeMap::new();
    tokens.insert(
        paraaf_runtime::sha256_hex(token.as_bytes()),
        "ruben-van-damme".to_string(),
    );
    let api =
        paraaf_runtime::api::router(writer.clone(), tokens, BTreeMap::new(), Some(db.clone()));
    let web = paraaf_web::router(
        writer.clone(),
        paraaf_web::WebConfig {
            dev_login: true,
            oidc: None,
            session_idle: Duration::from_secs(3600),
            session_max: Duration::from_secs(36_000),
            secure_cookies: true,
            db: db.clone().into(),
            calendar: Calendar::default(),
            origins: Vec::new(),
        },
    )
    .unwrap();
    let s = session(&web, "ruben-van-damme").await;
    let inbox_len = paraaf_runtime::visibility::inbox(&writer.committed(), "ruben-van-damme").len();
    println!("the mayor's inbox: {inbox_len} tasks; {RUNS} requests each, in process");
    println!("{:<44} {:>9} {:>9}", "", "p50 ms", "p99 ms");
    let bearer = format!("Bearer {token}");
    let rows: Vec<(&str, (f64, f64))> = vec![
        (
            "web  GET /app (inbox page, 25 rows)",
            measure(
                &web,
                || {
                    Request::get("/app")
                        .header(header::COOKIE, &s)
                        .body(Body::empty())
                        .unwrap()
                },
                "taken",
            )
            .await,
        ),
        (
            "json GET /inbox (50 items)",
            measure(
                &api,
                || {
                    Request::get("/inbox")
                        .header(header::AUTHORIZATION, &bearer)
                        .body(Body::empty())
                        .unwrap()
                },
                "items",
            )
            .await,
        ),
        (
            "web  GET /app?q=… (search the inbox)",
            measure(
                &web,
                || {
                    Request::get("/app?q=besluit%2099")
                        .header(header::COOKIE, &s)
                        .body(Body::empty())
                        .unwrap()
                },
                "taken",
            )
            .await,
        ),
        (
            "web  GET /app/documents/{id} (document page, the 5001st)",
            measure(
                &web,
                || {
                    Request::get(format!("/app/documents/{doc}"))
                        .header(header::COOKIE, &s)
                        .body(Body::empty())
                        .unwrap()
                },
                "Geschiedenis",
            )
            .await,
        ),
        (
            "json GET /documents/{id} (the 5001st)",
            measure(
                &api,
                || {
                    Request::get(format!("/documents/{doc}"))
                        .header(header::AUTHORIZATION, &bearer)
                        .body(Body::empty())
                        .unwrap()
                },
                &doc,
            )
            .await,
        ),
        (
            "web  GET /app/documents?scope=visible",
            measure(
                &web,
                || {
                    Request::get("/app/documents?scope=visible")
                        .header(header::COOKIE, &s)
                        .body(Body::empty())
                        .unwrap()
                },
                "documenten",
            )
            .await,
        ),
        (
            "json GET /documents (visible, 50 items)",
            measure(
                &api,
                || {
                    Request::get("/documents")
                        .header(header::AUTHORIZATION, &bearer)
                        .body(Body::empty())
                        .unwrap()
                },
                "items",
            )
            .await,
        ),
    ];
    for (what, (p50, p99)) in rows {
        println!("{what:<44} {p50:>9.2} {p99:>9.2}");
    }
    writer.stop().await;
}
