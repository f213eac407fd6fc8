//! Writes on a read server: every request that may change something (any method but
//! `GET`, `HEAD` and `OPTIONS`: the API's commands, webhooks, the web app's forms), and
//! the whole web app (`/app`: its sessions live in the writer's memory), goes to the
//! city's writer as it came (method, path, query, headers with `Authorization`,
//! `Idempotency-Key` and cookies, body), and its answer comes back as the writer gave
//! it. The writer tells in [`SEQ_HEADER`] the last event it had committed when it
//! answered; the read server answers only once it folded that far, so whoever wrote
//! through it reads their write on it at once.
//!
//! With no writer reachable the answer is 503 `storage`: nothing was recorded when the
//! request could not be sent; when it was sent but no answer came, the writer may have
//! recorded it, so the caller is told to send it again with the same `Idempotency-Key`
//! (done once, however often it is sent).

use crate::api::{Answer, Writer, problem};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::io::Read as _;
use std::time::Duration;

/// The response header in which the writer names the last event committed when it
/// answered a write.
pub const SEQ_HEADER: &str = "paraaf-committed-seq";
/// The request header a read server adds to what it forwards (a server that is not the
/// writer any more answers such a request 503 instead of forwarding it on).
pub const FORWARDED_HEADER: &str = "paraaf-forwarded-by";
/// The largest body forwarded (the API refuses larger ones itself).
const MAX_BODY: usize = 64 * 1024 * 1024;
/// How long a forwarded write may take at the writer.
const WRITER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a read server waits to fold the writer's answer before answering anyway.
const FOLD_WAIT: Duration = Duration::from_secs(5);

/// Headers that belong to one connection, not to the request: never passed on. `Host`
/// is passed on: the writer serves the same public address as the read server (the web
/// app refuses other host names and forms from other origins).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The middleware of a server that may be a read server: see the module's text. On the
/// writer, writes run here and their answers carry [`SEQ_HEADER`]. The web app (`/app`)
/// is forwarded whole, its pages too: its sessions live in the writer's memory.
pub async fn forward_writes(
    State(writer): State<Writer>,
    request: Request,
    next: Next,
) -> Response {
    let reads = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    // A read server cut off from the log serves nothing from a state it cannot keep
    // current (`/health` says why; the problem kinds stay readable).
    if !writer.is_leading()
        && let Some((code, why)) = writer.condition()
        && code == "degraded"
        && !is_status(request.uri().path())
    {
        return answer(problem(503, "storage", &why));
    }
    if reads && !is_web_app(request.uri().path()) {
        return next.run(request).await;
    }
    if writer.is_leading() {
        if reads {
            return next.run(request).await;
        }
        let mut response = next.run(request).await;
        let seq = writer.committed().last_seq;
        response
            .headers_mut()
            .insert(SEQ_HEADER, HeaderValue::from(seq));
        return response;
    }
    if request.headers().contains_key(FORWARDED_HEADER) {
        return answer(problem(
            503,
            "storage",
            "this server is no longer the city's writer: nothing was recorded; send the request again",
        ));
    }
    let Some(to) = writer.writer_address() else {
        return answer(problem(
            503,
            "storage",
            "the city's writer cannot be reached (none is running, or one is taking over): nothing was recorded; send the request again in a few seconds",
        ));
    };
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return answer(problem(
                413,
                "too_large",
                "the request body is too large or did not arrive",
            ));
        }
    };
    let url = format!(
        "{}{}",
        to.trim_end_matches('/'),
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let method = parts.method.to_string();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()) && *name != header::CONTENT_LENGTH)
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    let sent = tokio::task::spawn_blocking(move || send(&method, &url, headers, &body))
        .await
        .unwrap_or_else(|e| Err(Unanswered::NotSent(e.to_string())));
    let response = match sent {
        Ok(r) => r,
        Err(Unanswered::NotSent(why)) => {
            return answer(problem(
                503,
                "storage",
                &format!(
                    "the city's writer at {to} cannot be reached ({why}): nothing was recorded; send the request again in a few seconds"
                ),
            ));
        }
        Err(Unanswered::NoAnswer(why)) => {
            return answer(problem(
                503,
                "storage",
                &format!(
                    "the city's writer at {to} took the request but did not answer ({why}): it may have been recorded; send it again with the same Idempotency-Key, which records it once"
                ),
            ));
        }
    };
    if let Some(seq) = response
        .headers()
        .get(SEQ_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        let mut commits = writer.commits();
        let _ = tokio::time::timeout(FOLD_WAIT, commits.wait_for(|last| *last >= seq)).await;
    }
    response
}

/// Whether `path` is the web app's, served by the writer only (a session made there is
/// known there).
fn is_web_app(path: &str) -> bool {
    path == "/app" || path.starts_with("/app/")
}

/// Whether `path` tells about the server itself (answered also while it cannot read
/// the log).
fn is_status(path: &str) -> bool {
    path == "/health" || path == "/problems" || path.starts_with("/problems/")
}

/// Why a forwarded request has no answer.
enum Unanswered {
    /// It never reached the writer: nothing was recorded.
    NotSent(String),
    /// It was sent, but no answer came back: it may have been recorded.
    NoAnswer(String),
}

/// Sends the request to the writer and reads its answer whole (blocking: run on the
/// blocking pool).
fn send(
    method: &str,
    url: &str,
    headers: Vec<(String, String)>,
    body: &Bytes,
) -> Result<Response, Unanswered> {
    // No cookie store (ureq's `cookies` feature is off): each request carries only the
    // caller's own cookies, passed on as headers.
    let agent = ureq::AgentBuilder::new()
        .timeout(WRITER_TIMEOUT)
        .redirects(0)
        .build();
    let mut request = agent
        .request(method, url)
        .set(FORWARDED_HEADER, "read-server");
    for (name, value) in &headers {
        request = request.set(name, value);
    }
    let response = match request.send_bytes(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(t)) => {
            let why = t.to_string();
            // Refused or unresolved: the request never left.
            return Err(match t.kind() {
                ureq::ErrorKind::ConnectionFailed
                | ureq::ErrorKind::Dns
                | ureq::ErrorKind::InvalidUrl
                | ureq::ErrorKind::UnknownScheme => Unanswered::NotSent(why),
                _ => Unanswered::NoAnswer(why),
            });
        }
    };
    let status = StatusCode::from_u16(response.status()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = Response::builder().status(status);
    for name in response.headers_names() {
        if HOP_BY_HOP.contains(&name.as_str()) || name == "content-length" {
            continue;
        }
        let Ok(name) = HeaderName::try_from(name.as_str()) else {
            continue;
        };
        for value in response.all(name.as_str()) {
            if let Ok(v) = HeaderValue::from_str(value) {
                out = out.header(name.clone(), v);
            }
        }
    }
    let mut bytes = Vec::new();
    response
        .into_reader()
        .take(MAX_BODY as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| Unanswered::NoAnswer(e.to_string()))?;
    out.body(Body::from(bytes))
        .map_err(|e| Unanswered::NoAnswer(e.to_string()))
}

fn answer(a: Answer) -> Response {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        a.body,
    )
        .into_response()
}
