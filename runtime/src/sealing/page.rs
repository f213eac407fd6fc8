//! The public `/verify` page (#28): anyone checks a sealed PDF, by the verification code
//! printed on it or by uploading the file, without signing in. Dutch first, English
//! beside it.
//!
//! What it tells: valid or invalid and why, who sealed (the seal certificate's subject),
//! when (the time stamp), and, for an upload, whether this city's log records this very
//! file. For a code it tells only what the sealed PDF itself shows (the verdict, the
//! seal, its time and the file's SHA-256 to compare with one's copy), never a document
//! id, a status or anything about documents the visitor could not see: an unknown code
//! and any other wrong code answer alike.
//!
//! The page is public, so it is limited per client address ([`Limits`], `governor`'s
//! keyed limiter): code checks and uploads each have their own quota, and an upload
//! larger than [`MAX_UPLOAD`] is refused; both answer in Dutch (429, 413) without
//! checking anything. The address is the connection's (`ConnectInfo`, which `serve`
//! sets); behind a reverse proxy, that is the proxy's, so limit there as well.

use super::{TsaCheck, sealed_by_code};
use crate::api::Writer;
use crate::reads::Reads;
use crate::tsa;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use paraaf_seal::trust::Anchors;
use paraaf_seal::verify::{Report, TimestampCheck, verify};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

/// The largest upload checked: a sealed PDF of the largest content Paraaf accepts
/// (`contents::MAX_BYTES`) with its evidence pages and seal, and the form around it.
pub const MAX_UPLOAD: usize = crate::contents::MAX_BYTES + 1024 * 1024;

/// How often one client address may use the page.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Code checks per minute (and at most this many at once).
    pub codes_per_minute: u32,
    /// Uploads per minute (and at most this many at once): each costs a full check.
    pub uploads_per_minute: u32,
}

impl Default for Limits {
    /// 30 code checks and 6 uploads a minute per address: plenty for a person checking
    /// documents, far too few to guess codes (60 random bits) or to load the server.
    fn default() -> Limits {
        Limits {
            codes_per_minute: 30,
            uploads_per_minute: 6,
        }
    }
}

/// What the page needs: the committed state, the database, the trusted roots, and the
/// limiters per client address.
#[derive(Clone)]
struct Page {
    writer: Writer,
    db: Reads,
    anchors: Arc<Anchors>,
    tsa: Arc<tsa::Trust>,
    codes: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    uploads: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

/// The `/verify` routes (GET: the form, or a code's answer; POST: an uploaded PDF),
/// trusting the roots in `trust_pem` for the seal and the time stamp, with the
/// default [`Limits`].
pub fn router(writer: Writer, db: Reads, trust_pem: &[u8]) -> Result<Router, String> {
    router_with(writer, db, trust_pem, Limits::default())
}

/// [`router`] with other limits per client address.
pub fn router_with(
    writer: Writer,
    db: Reads,
    trust_pem: &[u8],
    limits: Limits,
) -> Result<Router, String> {
    let anchors = Anchors::from_pem(trust_pem)?;
    let tsa = tsa::Trust::from_pem(trust_pem).map_err(|e| e.to_string())?;
    let limiter = |n: u32| {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Arc::new(RateLimiter::keyed(Quota::per_minute(n)))
    };
    let page = Page {
        writer,
        db,
        anchors: Arc::new(anchors),
        tsa: Arc::new(tsa),
        codes: limiter(limits.codes_per_minute),
        uploads: limiter(limits.uploads_per_minute),
    };
    Ok(Router::new()
        .route("/verify", get(by_code).post(upload))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
        .with_state(page))
}

/// The most client addresses remembered before the ones whose quota is full again are
/// forgotten (the limiter's memory stays bounded).
const MAX_ADDRESSES: usize = 10_000;

/// Whether `peer` may use `limiter` now; `None` (no address known: a test harness
/// without `ConnectInfo`) counts as one shared address.
fn allowed(limiter: &DefaultKeyedRateLimiter<IpAddr>, peer: Option<SocketAddr>) -> bool {
    if limiter.len() > MAX_ADDRESSES {
        limiter.retain_recent();
    }
    let ip = peer.map_or(IpAddr::from([0, 0, 0, 0]), |p| p.ip());
    limiter.check_key(&ip).is_ok()
}

fn too_many() -> Response {
    let mut r = html(
        StatusCode::TOO_MANY_REQUESTS,
        r#"<p class="invalid"><strong>Te veel controles</strong> <span lang="en">· too many checks</span>: vanaf dit adres werden in korte tijd te veel documenten gecontroleerd. Wacht een minuut en probeer opnieuw.</p>"#,
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
    r
}

fn too_large() -> Response {
    html(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!(
            r#"<p class="invalid"><strong>Bestand te groot</strong> <span lang="en">· file too large</span>: een verzegelde PDF van de stad is hoogstens {} MB.</p>"#,
            MAX_UPLOAD / (1024 * 1024)
        ),
    )
}

#[derive(serde::Deserialize)]
struct CodeQuery {
    code: Option<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn html(status: StatusCode, body: &str) -> Response {
    let page = format!(
        r#"<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Verzegeld document controleren · Verify a sealed document</title>
<style>body{{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
.valid{{color:#0a6b2d}}.invalid{{color:#a4161a}}label{{display:block;margin-top:1rem;font-weight:600}}
input,button{{font:inherit;margin-top:.25rem}}code{{word-break:break-all}}</style></head>
<body><main>
<h1>Verzegeld document controleren <span lang="en">· Verify a sealed document</span></h1>
{body}
<form method="get" action="/verify">
<label for="code">Verificatiecode <span lang="en">(verification code)</span></label>
<input id="code" name="code" autocomplete="off" placeholder="K7QF-3M9X-T2PA" required>
<button type="submit">Controleren <span lang="en">· Verify</span></button>
</form>
<form method="post" action="/verify" enctype="multipart/form-data">
<label for="file">Of laad de PDF op <span lang="en">(or upload the PDF)</span></label>
<input id="file" name="file" type="file" accept="application/pdf" required>
<button type="submit">Controleren <span lang="en">· Verify</span></button>
</form>
</main></body></html>"#
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

/// The verdict in words (Dutch, English beside it).
fn verdict(report: &Report, logged: Option<bool>) -> String {
    let mut out = String::new();
    if report.valid() {
        out.push_str(r#"<p class="valid"><strong>Geldig</strong> <span lang="en">· valid</span>: het elektronisch zegel is intact, vertrouwd en van een tijdstempel voorzien.</p>"#);
    } else {
        out.push_str(r#"<p class="invalid"><strong>Ongeldig</strong> <span lang="en">· invalid</span></p><ul>"#);
        for p in &report.problems {
            out.push_str(&format!("<li>{}</li>", escape(p)));
        }
        if !report.intact {
            out.push_str(
                "<li>Het bestand werd gewijzigd na het verzegelen, of draagt geen zegel.</li>",
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("<dl>");
    if let Some(s) = &report.signer {
        out.push_str(&format!(
            "<dt>Verzegeld door <span lang=\"en\">(sealed by)</span></dt><dd>{}</dd>",
            escape(s)
        ));
    }
    if let Some(t) = report.timestamp {
        out.push_str(&format!(
            "<dt>Tijdstempel <span lang=\"en\">(time stamp)</span></dt><dd>{}</dd>",
            escape(&paraaf_seal::evidence::brussels(t))
        ));
    }
    out.push_str(&format!(
        "<dt>SHA-256 van het bestand <span lang=\"en\">(of the file)</span></dt><dd><code>{}</code></dd>",
        escape(&report.sha256)
    ));
    match logged {
        Some(true) => out.push_str(
            "<dt>Register</dt><dd>Dit is precies het bestand dat de stad verzegelde.</dd>",
        ),
        Some(false) => out
            .push_str("<dt>Register</dt><dd>De stad verzegelde geen bestand met deze inhoud.</dd>"),
        None => {}
    }
    out.push_str("</dl>");
    out
}

fn check(page: &Page, bytes: &[u8]) -> Report {
    verify(
        bytes,
        &page.anchors,
        Some(&TsaCheck(page.tsa.as_ref().clone()) as &dyn TimestampCheck),
    )
}

async fn by_code(
    State(page): State<Page>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Query(q): Query<CodeQuery>,
) -> Response {
    let Some(code) = q.code.filter(|c| !c.trim().is_empty()) else {
        return html(
            StatusCode::OK,
            "<p>Geef de verificatiecode onderaan elke pagina, of laad de PDF op.</p>",
        );
    };
    if !allowed(&page.codes, peer.map(|c| c.0.0)) {
        return too_many();
    }
    let state = page.writer.committed();
    let p = page.clone();
    let found = tokio::task::spawn_blocking(move || {
        sealed_by_code(&state, &p.db, &code).map(|b| b.map(|b| check(&p, &b)))
    })
    .await;
    match found {
        Ok(Ok(Some(report))) => html(StatusCode::OK, &verdict(&report, None)),
        Ok(Ok(None)) => html(
            StatusCode::NOT_FOUND,
            r#"<p class="invalid"><strong>Onbekende code</strong> <span lang="en">· unknown code</span>: geen verzegeld document met deze verificatiecode. Controleer de code, of laad de PDF op.</p>"#,
        ),
        _ => html(
            StatusCode::SERVICE_UNAVAILABLE,
            "<p>De controle lukt nu niet; probeer later opnieuw.</p>",
        ),
    }
}

async fn upload(
    State(page): State<Page>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    mut form: Multipart,
) -> Response {
    if !allowed(&page.uploads, peer.map(|c| c.0.0)) {
        return too_many();
    }
    let mut bytes = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                match field.bytes().await {
                    Ok(b) => bytes = Some(b),
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(),
                    Err(_) => {}
                }
                break;
            }
            Ok(Some(_)) => {}
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(),
            Ok(None) | Err(_) => break,
        }
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return html(
            StatusCode::BAD_REQUEST,
            "<p>Kies een PDF-bestand om op te laden.</p>",
        );
    };
    let state = page.writer.committed();
    let p = page.clone();
    let done = tokio::task::spawn_blocking(move || {
        let report = check(&p, &bytes);
        let logged = state
            .documents
            .values()
            .any(|d| d.sealed.as_ref().is_some_and(|s| s.sha256 == report.sha256));
        (report, logged)
    })
    .await;
    match done {
        Ok((report, logged)) => html(StatusCode::OK, &verdict(&report, Some(logged))),
        Err(_) => html(
            StatusCode::SERVICE_UNAVAILABLE,
            "<p>De controle lukt nu niet; probeer later opnieuw.</p>",
        ),
    }
}
