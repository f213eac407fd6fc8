//! The HTTP JSON API (`paraaf serve`): a bearer token per person, idempotency keys on
//! writes, paging on lists, an OpenAPI document, and 404 for every document the caller
//! may not see (exactly as for one that does not exist).

pub mod ahead;
pub mod malformed;
mod sealed;
mod webhooks;
mod writer;

pub use webhooks::{WebhookSource, sign as sign_webhook};

pub use writer::{Answer, Command, PROBLEMS, Write, Writer, error_answer, problem};

use crate::engine::{RuntimeError, Submission};
use crate::visibility::may_see;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Shared by all handlers.
#[derive(Clone)]
pub struct AppState {
    writer: Writer,
    /// The store, where submitted content is kept (`None`: only hashes are recorded).
    contents: Option<crate::reads::Reads>,
    /// Stores submissions' content ahead of their commands (with `contents` on SQLite;
    /// on PostgreSQL content is written in the transaction of its events).
    content_writer: Option<crate::store::content_writer::ContentWriter>,
    tokens: Arc<BTreeMap<String, String>>,
    /// SHA-256 hashes of the monitoring tokens (`[monitoring]` in the tokens file): they
    /// read `/health`'s counts and nothing else; a person's token never does.
    monitoring: Arc<std::collections::BTreeSet<String>>,
    webhooks: Arc<BTreeMap<String, WebhookSource>>,
}

/// Body of `POST /documents`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// Document kind, e.g. `besluit`.
    pub kind: String,
    /// Field values; amounts as strings (`"8500.00"`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, Value>,
    /// Title shown in inboxes.
    #[serde(default)]
    pub title: String,
    /// The content as text (its SHA-256 is recorded, the text kept for the web app); or
    /// give `content_base64` or `content_sha256`.
    #[serde(default)]
    pub content: Option<String>,
    /// The content (a PDF) in base64: its SHA-256 is recorded and the PDF kept, so the
    /// signers' web app shows it.
    #[serde(default)]
    pub content_base64: Option<String>,
    /// SHA-256 (hex) of content: with `content` or `content_base64`, checked against
    /// it; alone, it references content the caller uploaded themselves before (with an
    /// earlier submission). A hash alone never grants anything: content someone else
    /// uploaded, or none, is refused alike (422).
    #[serde(default)]
    pub content_sha256: Option<String>,
}

/// Body of `POST /documents/{id}/sign`: nothing, or an empty JSON object.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {}

/// Body of `POST /documents/{id}/refuse`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseRequest {
    /// Why.
    pub reason: String,
}

/// Body of `POST /documents/{id}/comment`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    /// The comment.
    pub text: String,
}

/// Paging of lists.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Page number, from 1.
    pub page: Option<usize>,
    /// Items per page (1–200, default 50).
    pub per_page: Option<usize>,
    /// Search: only documents whose title, kind or id contains this text (case-insensitive).
    pub q: Option<String>,
}

/// One document in a list.
#[derive(Serialize, ToSchema)]
pub struct DocumentSummary {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: String,
    /// `in_progress`, `completed`, `returned`, `stopped`.
    pub status: String,
    /// The role in which the caller must sign (inbox only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Whom the caller signs for, as a substitute (inbox only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
}

/// A page of documents.
#[derive(Serialize, ToSchema)]
pub struct DocumentList {
    /// The items.
    pub items: Vec<DocumentSummary>,
    /// This page.
    pub page: usize,
    /// Page size.
    pub per_page: usize,
    /// Items in all pages.
    pub total: usize,
    /// The next page, if any.
    pub next_page: Option<usize>,
}

/// Answer to a write.
#[derive(Serialize, ToSchema)]
pub struct WriteResult {
    /// Document id.
    pub id: String,
    /// Its status after the write.
    pub status: String,
}

/// Every error: an RFC 9457 problem document, `application/problem+json`.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// The kind of problem: `/problems/CODE` (a description is served there).
    #[serde(rename = "type")]
    pub kind: String,
    /// Fixed per kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// The kind for programs: `invalid`, `bad_request`, `not_found`, `forbidden`,
    /// `conflict`, `unauthorized`, `webhook_signature`, `too_large`,
    /// `unsupported_media_type`, `method_not_allowed`, `storage`, `tampered`.
    pub code: String,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Paraaf runtime API", description = "Submit and sign documents of a city's signing flows."),
    paths(submit, list_documents, show_document, document_content, sealed::sealed_document, sign, refuse, comment, inbox, webhooks::receive, health, describe_problem),
    components(schemas(SubmitRequest, SignRequest, RefuseRequest, CommentRequest, DocumentSummary, DocumentList, WriteResult, Problem)),
    modifiers(&BearerAuth, &ErrorResponses)
)]
struct ApiDoc;

/// Every error status the server answers, each as a problem document; listed on every
/// operation of the OpenAPI document (a test checks that each status it provokes is).
pub const ERROR_STATUSES: &[(u16, &str)] = &[
    (
        400,
        "A query string, header or path that cannot be read, or a header that must be given once given twice (`bad_request`)",
    ),
    (
        401,
        "No valid bearer token (`unauthorized`), or a webhook whose signature does not match (`webhook_signature`)",
    ),
    (403, "Not allowed, for example not your task (`forbidden`)"),
    (
        404,
        "No such document, or one the caller may not see: the two answer alike (`not_found`)",
    ),
    (
        405,
        "Method not allowed on this path (`method_not_allowed`)",
    ),
    (
        408,
        "The request, body included, did not arrive within the server's time limit (`timeout`)",
    ),
    (409, "Conflicts with the document's state (`conflict`)"),
    (413, "The body is larger than the limit (`too_large`)"),
    (
        415,
        "The body is not of a type this path reads (`unsupported_media_type`)",
    ),
    (
        422,
        "The body, a paging parameter or a header value is not valid, or the Idempotency-Key was used before for another request (`invalid`)",
    ),
    (
        503,
        "The writer stopped, the database failed, or the log does not match its signed checkpoints (`storage`, `tampered`)",
    ),
];

struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                for (status, description) in ERROR_STATUSES {
                    let entry = op
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(*description)
                                .content("application/problem+json", problem())
                                .build()
                                .into()
                        });
                    // A status an operation names itself gets the same description.
                    if let utoipa::openapi::RefOr::T(r) = entry
                        && r.description.is_empty()
                    {
                        r.description = (*description).to_string();
                    }
                }
            }
        }
    }
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// The OpenAPI document of the API (JSON).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

/// The router. `tokens` maps bearer tokens to person ids; submitted content is kept in
/// the store `contents` (a [`crate::reads::Reads`] or a SQLite file's path; when given)
/// for the web app to show. No monitoring
/// tokens: see [`monitored_router`].
pub fn router(
    writer: Writer,
    tokens: BTreeMap<String, String>,
    webhooks: BTreeMap<String, WebhookSource>,
    contents: Option<impl Into<crate::reads::Reads>>,
) -> Router {
    monitored_router(
        writer,
        tokens,
        Default::default(),
        webhooks,
        contents.map(Into::into),
    )
}

/// [`router`] with `monitoring`: the SHA-256 hashes of the tokens that read `/health`'s
/// counts (events, versions) and why writes are refused. They act as nobody: every
/// other route answers them 401.
pub fn monitored_router(
    writer: Writer,
    tokens: BTreeMap<String, String>,
    monitoring: std::collections::BTreeSet<String>,
    webhooks: BTreeMap<String, WebhookSource>,
    contents: Option<crate::reads::Reads>,
) -> Router {
    Router::new()
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], openapi_json()) }),
        )
        .route("/documents", post(submit).get(list_documents))
        .route("/documents/{id}", get(show_document))
        .route("/documents/{id}/content", get(document_content))
        .route("/documents/{id}/sealed", get(sealed::sealed_document))
        .route("/documents/{id}/sign", post(sign))
        .route("/documents/{id}/refuse", post(refuse))
        .route("/documents/{id}/comment", post(comment))
        .route("/inbox", get(inbox))
        .route("/webhooks/{source}", post(webhooks::receive))
        .route("/problems/{code}", get(describe_problem))
        .route("/health", get(health))
        .fallback(|| async { respond(problem(404, "not_found", "no such resource")) })
        .layer(axum::middleware::from_fn(headers_once))
        .with_state(AppState {
            writer,
            content_writer: contents
                .as_ref()
                .and_then(|c| c.file())
                .map(crate::store::content_writer::ContentWriter::start),
            contents,
            tokens: Arc::new(tokens),
            monitoring: Arc::new(monitoring),
            webhooks: Arc::new(webhooks),
        })
        .layer(axum::middleware::map_response(problems_everywhere))
        .layer(axum::middleware::map_response(no_store))
        // One structured log line per request (method, path, status, latency); never
        // the headers, so tokens stay out of the logs.
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(
                    tower_http::trace::DefaultMakeSpan::new().level(tracing::Level::INFO),
                )
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                ),
        )
}

fn respond(a: Answer) -> Response {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = if status.is_client_error() || status.is_server_error() {
        "application/problem+json"
    } else {
        "application/json"
    };
    (status, [(header::CONTENT_TYPE, kind)], a.body).into_response()
}

fn unauthorized() -> Response {
    let mut r = respond(problem(
        401,
        "unauthorized",
        "a valid bearer token is required (Authorization: Bearer …)",
    ));
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    r
}

/// Headers that decide who acts and whether a request repeats an earlier one: given
/// twice, which one counts would depend on the software in between, so such a request
/// is refused (400) instead of taking the first.
pub const SINGLE_HEADERS: &[&str] = &[
    "authorization",
    "idempotency-key",
    "webhook-id",
    "webhook-timestamp",
];

async fn headers_once(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    for name in SINGLE_HEADERS {
        if request.headers().get_all(*name).iter().nth(1).is_some() {
            return respond(problem(
                400,
                "bad_request",
                &format!("the `{name}` header is given more than once; send it once"),
            ));
        }
    }
    next.run(request).await
}

/// Answers may hold shielded documents: never kept in a cache, never sniffed as
/// another type.
async fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.entry(header::CACHE_CONTROL)
        .or_insert(header::HeaderValue::from_static("no-store"));
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(header::HeaderValue::from_static("nosniff"));
    response
}

/// Turns every error that did not come from a handler (a query string or path that does
/// not parse, a body over the limit, an unknown route or method) into a problem document,
/// keeping its status; the framework's text becomes the `detail`.
async fn problems_everywhere(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let code = match status.as_u16() {
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "timeout",
        413 => "too_large",
        415 => "unsupported_media_type",
        401 => "unauthorized",
        422 => "invalid",
        s if s >= 500 => "storage",
        _ => "bad_request",
    };
    let detail = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text.trim().to_string()
    };
    let mut r = respond(problem(status.as_u16(), code, &detail));
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            r.headers_mut().insert(name.clone(), value.clone());
        }
    }
    r
}

/// `GET /health`: 200 while the writer runs, 503 once it stopped or while it refuses
/// writes (`"status":"degraded"` when checkpoints cannot be written, `"tampered"` when
/// the log changed under it). No token needed, and then it tells nothing but that. Counts
/// (the committed head, the deployed versions, the tasks and invoices waiting in the
/// manual queue, the completed documents waiting for their seal) and why writes are
/// refused (the reason names event numbers) only for a monitoring token (`[monitoring]`
/// in the tokens file, `paraaf admin token add NAME --monitoring`): never for a person's
/// token, since the number of events grows with every action, also on documents that
/// person may not see.
/// While the checkpoint head cannot be anchored (the TSA or the witness out of reach;
/// writes go on), it answers 200 with `"status":"degraded","anchor":"pending"` (and, with
/// any valid token, why).
#[utoipa::path(get, path = "/health", security(()),
    responses((status = 200, description = "`{\"status\":\"ok\"}` while the writer runs; with a monitoring token also `\"events\":N,\"versions\":V,\"queued\":{\"tasks\":T,\"invoices\":I},\"seals_waiting\":W`")))]
async fn health(
    State(state): State<AppState>,
    anchorer: Option<axum::Extension<crate::anchor::Anchorer>>,
    headers: HeaderMap,
) -> Response {
    if !state.writer.running() {
        return respond(problem(503, "storage", "the writer stopped"));
    }
    // Writes refused (a full disk under the checkpoint file, a log changed under the
    // writer): the status says so; only a monitoring token is told why (the reason names
    // event numbers).
    let monitor = monitoring(&state, &headers);
    if let Some((status, why)) = state.writer.condition() {
        let mut body = serde_json::json!({"status": status});
        if monitor {
            body["detail"] = serde_json::Value::from(why);
        }
        return respond(Answer {
            status: 503,
            body: body.to_string(),
        });
    }
    let mut body = if monitor {
        let s = state.writer.committed();
        // What waits for a person: the same service as `paraaf queue list`, counted.
        let queue = crate::app::queue::list(&s);
        serde_json::json!({
            "status": "ok",
            "events": s.last_seq,
            "versions": s.deployments.len(),
            "queued": {"tasks": queue.tasks.len(), "invoices": queue.invoices.len()},
            // Completed documents whose seal is still to be made (the TSA down): an
            // alert when it stays above zero.
            "seals_waiting": s.waiting_for_seal().len(),
        })
    } else {
        serde_json::json!({"status": "ok"})
    };
    // Writes go on while the TSA or the witness is out of reach; the anchor is pending
    // (retried) and the status says so.
    if let Some(axum::Extension(a)) = anchorer
        && let Some(why) = a.status().pending
    {
        body["status"] = "degraded".into();
        body["anchor"] = "pending".into();
        if monitor || caller(&state, &headers).is_some() {
            body["detail"] = why.into();
        }
    }
    respond(Answer {
        status: 200,
        body: body.to_string(),
    })
}

/// `GET /problems/{code}`: what a kind of problem means.
#[utoipa::path(get, path = "/problems/{code}", security(()),
    params(("code" = String, Path, description = "A problem document's `code`, e.g. `not_found`")),
    responses((status = 200, description = "`{\"code\":…,\"title\":…}`")))]
async fn describe_problem(Path(code): Path<String>) -> Response {
    match PROBLEMS.iter().find(|(c, _)| *c == code) {
        Some((c, title)) => respond(Answer {
            status: 200,
            body: serde_json::json!({"code": c, "title": title}).to_string(),
        }),
        None => respond(problem(404, "not_found", "no such kind of problem")),
    }
}

/// The SHA-256 of the request's bearer token (tokens are kept as hashes only, see
/// `paraaf admin token add`).
fn bearer_hash(headers: &HeaderMap) -> Option<String> {
    Some(crate::sha256_hex(bearer(headers)?.as_bytes()))
}

/// The request's bearer token.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    // The scheme is case-insensitive (RFC 9110 §11.1).
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Whether the request carries a monitoring token (not a person's).
fn monitoring(state: &AppState, headers: &HeaderMap) -> bool {
    bearer_hash(headers).is_some_and(|h| state.monitoring.contains(&h))
}

fn caller(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let token = bearer(headers)?;
    let person = state.tokens.get(&crate::sha256_hex(token.as_bytes()))?;
    // A token of someone who left stops working for good (also when their key comes
    // back: it was issued before); a renamed person's token follows them.
    state.writer.committed().token_holder(person, token)
}

/// Longest idempotency key accepted (a UUID is 36; room for a prefix).
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The request's idempotency key and the hash of what it asks; a key longer than
/// [`MAX_IDEMPOTENCY_KEY`] or with anything but visible ASCII is refused (422).
fn idempotency(
    headers: &HeaderMap,
    body: &[u8],
    path: &str,
) -> Result<Option<(String, String)>, Answer> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    if bytes.is_empty()
        || bytes.len() > MAX_IDEMPOTENCY_KEY
        || !bytes.iter().all(|b| b.is_ascii_graphic())
    {
        return Err(error_answer(&RuntimeError::Invalid(format!(
            "the Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters (a UUID, for example)"
        ))));
    }
    let key = String::from_utf8_lossy(bytes).into_owned();
    let mut req = path.as_bytes().to_vec();
    req.push(b'\n');
    req.extend_from_slice(body);
    Ok(Some((key, crate::sha256_hex(&req))))
}

/// Largest request body read (a PDF in base64 inside JSON).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

/// The caller and the body of a write: who asks comes first, so without a valid token
/// the body is not even read (401 before any 413, 415 or 422).
async fn authorized_body(
    state: &AppState,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<(String, Bytes), Response> {
    let person = caller(state, headers).ok_or_else(unauthorized)?;
    Ok((person, read_body(headers, body).await?))
}

/// Reads a request body, only once the caller is known (a stranger's body is never
/// read, and an `Expect: 100-continue` client is answered 401 before it sends it): JSON
/// or nothing (415 for another declared type), at most [`MAX_BODY`] (413), in time
/// (408 when it trickles past the server's body timeout).
async fn read_body(headers: &HeaderMap, body: axum::body::Body) -> Result<Bytes, Response> {
    if let Some(t) = headers.get(header::CONTENT_TYPE) {
        let mime = t
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime != "application/json" && !mime.ends_with("+json") {
            return Err(respond(problem(
                415,
                "unsupported_media_type",
                "the request body must be JSON (Content-Type: application/json)",
            )));
        }
    }
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if s.is::<tower_http::timeout::TimeoutError>() {
                return respond(problem(
                    408,
                    "timeout",
                    "the request body did not arrive in time",
                ));
            }
            if s.is::<http_body_util::LengthLimitError>() {
                break;
            }
            source = s.source();
        }
        if source.is_some() {
            respond(problem(
                413,
                "too_large",
                &format!(
                    "the request body is larger than {} MB",
                    MAX_BODY / 1024 / 1024
                ),
            ))
        } else {
            respond(problem(
                400,
                "bad_request",
                "the request body could not be read",
            ))
        }
    })
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Answer> {
    serde_json::from_slice(body)
        .map_err(|e| error_answer(&RuntimeError::Invalid(format!("bad request body: {e}"))))
}

fn write_result(em: &crate::engine::Emitter, id: &str, status: u16) -> Answer {
    let s = em
        .state
        .documents
        .get(id)
        .map_or("unknown", |d| d.status.as_str());
    Answer {
        status,
        body: serde_json::to_string(&WriteResult {
            id: id.to_string(),
            status: s.to_string(),
        })
        .unwrap_or_default(),
    }
}

/// Submit a document.
#[utoipa::path(post, path = "/documents", request_body = SubmitRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key with the same body answers the first response again; with another body it is refused (422)")),
    responses((status = 201, body = WriteResult), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 415, body = Problem, content_type = "application/problem+json")))]
async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let (person, body) = match authorized_body(&state, &headers, body).await {
        Ok(pb) => pb,
        Err(r) => return r,
    };
    let req: SubmitRequest = match parse(&body) {
        Ok(r) => r,
        Err(answer) => return respond(answer),
    };
    let idem = match idempotency(&headers, &body, "/documents") {
        Ok(i) => i,
        Err(answer) => return respond(answer),
    };
    let bytes: Option<Vec<u8>> = match (&req.content, &req.content_base64) {
        (Some(_), Some(_)) => {
            return respond(error_answer(&RuntimeError::Invalid(
                "give `content` or `content_base64`, not both".into(),
            )));
        }
        (Some(c), None) => Some(c.as_bytes().to_vec()),
        (None, Some(b)) => {
            use base64::Engine as _;
            match base64::engine::general_purpose::STANDARD.decode(b.trim()) {
                Ok(v) => Some(v),
                Err(e) => {
                    return respond(error_answer(&RuntimeError::Invalid(format!(
                        "`content_base64` is not base64: {e}"
                    ))));
                }
            }
        }
        (None, None) => None,
    };
    if bytes.as_ref().is_some_and(|b| b.is_empty()) {
        return respond(error_answer(&RuntimeError::Invalid(
            "the content is empty".into(),
        )));
    }
    let content_sha256 = match (&bytes, &req.content_sha256) {
        (Some(b), _) => crate::sha256_hex(b),
        (None, Some(h)) => h.to_lowercase(),
        (None, None) => {
            return respond(error_answer(&RuntimeError::Invalid(
                "give `content`, `content_base64` or `content_sha256`".into(),
            )));
        }
    };
    if let (Some(_), Some(h)) = (&bytes, &req.content_sha256)
        && !h.eq_ignore_ascii_case(&content_sha256)
    {
        return respond(error_answer(&RuntimeError::Invalid(
            "`content_sha256` is not the SHA-256 of the content given".into(),
        )));
    }
    // The content is checked here and written with its submission, with the caller as
    // its uploader: ahead of the command when the engine would accept it now (`ahead`),
    // else in the command's own commit, so a submission that is refused leaves nothing
    // behind. A hash alone must name content this caller uploaded: whose hash a former
    // colleague noted, or that nobody uploaded, is answered alike.
    let mut staged = None;
    match (bytes, state.contents.clone()) {
        (Some(b), Some(_)) => match crate::contents::stage(&person, b) {
            Ok(s) => staged = Some(s),
            Err(e) => return respond(error_answer(&e)),
        },
        (Some(_), None) => {}
        (None, db) => {
            let (sha, owner) = (
                content_sha256.clone(),
                state.writer.committed().ids_of(&person),
            );
            let owned = match db {
                Some(db) => tokio::task::spawn_blocking(move || {
                    crate::contents::owned_by_any(&db, &sha, &owner)
                })
                .await
                .unwrap_or_else(|_| Err(RuntimeError::Storage("a read failed".into()))),
                None => Ok(false),
            };
            match owned {
                Ok(true) => {}
                Ok(false) => {
                    return respond(error_answer(&RuntimeError::Invalid(
                        crate::contents::NOT_YOURS.into(),
                    )));
                }
                Err(e) => return respond(error_answer(&e)),
            }
        }
    }
    let sub = Submission {
        kind: req.kind,
        uploader: person.clone(),
        fields: req.fields,
        content_sha256,
        title: req.title,
        flow: None,
    };
    let staged = match (staged, &state.content_writer) {
        (Some(s), Some(content)) => {
            match ahead::content_for(&state.writer, content, s, &sub).await {
                Ok(s) => Some(s),
                Err(answer) => return respond(answer),
            }
        }
        (s, _) => s,
    };
    respond(
        state
            .writer
            .write(Write {
                person,
                idempotency: idem,
                command: Box::new(move |em| {
                    em.contents.extend(staged);
                    let id = em.submit(sub)?;
                    Ok(write_result(em, &id, 201))
                }),
            })
            .await,
    )
}

/// The paging parameters, read only after the caller is known (a stranger learns
/// nothing from how a query string is checked).
fn paging(uri: &axum::http::Uri) -> Result<Page, Answer> {
    let page = Query::<Page>::try_from_uri(uri)
        .map(|Query(p)| p)
        .map_err(|e| problem(400, "bad_request", &e.body_text()))?;
    // Out of range is refused, not silently clamped: a client asking for 500 per page
    // would otherwise take 200 for the whole list.
    if page.page == Some(0) {
        return Err(problem(422, "invalid", "`page` counts from 1"));
    }
    if page
        .per_page
        .is_some_and(|n| !(1..=MAX_PER_PAGE).contains(&n))
    {
        return Err(problem(
            422,
            "invalid",
            &format!("`per_page` must be 1 to {MAX_PER_PAGE}"),
        ));
    }
    Ok(page)
}

/// Most items per page.
pub const MAX_PER_PAGE: usize = 200;

fn page_of(items: Vec<DocumentSummary>, page: &Page) -> Answer {
    let per_page = page.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
    let p = page.page.unwrap_or(1).max(1);
    let total = items.len();
    let slice: Vec<DocumentSummary> = items
        .into_iter()
        .skip((p - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let next_page = (p.saturating_mul(per_page) < total).then_some(p.saturating_add(1));
    Answer {
        status: 200,
        body: serde_json::to_string(&DocumentList {
            items: slice,
            page: p,
            per_page,
            total,
            next_page,
        })
        .unwrap_or_default(),
    }
}

/// Documents the caller may see, optionally searched with `q`.
#[utoipa::path(get, path = "/documents", params(Page), responses((status = 200, body = DocumentList), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn list_documents(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let Some(person) = caller(&state, &headers) else {
        return unauthorized();
    };
    let page = match paging(&uri) {
        Ok(p) => p,
        Err(answer) => return respond(answer),
    };
    respond(
        state
            .writer
            .read(move |s| {
                let q = page.q.as_deref().unwrap_or("").to_lowercase();
                let matches = |d: &&Arc<crate::engine::Document>| {
                    q.is_empty()
                        || d.title.to_lowercase().contains(&q)
                        || d.kind.contains(&q)
                        || d.id.contains(&q)
                };
                let items = s
                    .documents
                    .values()
                    .filter(|d| may_see(s, &person, &d.id))
                    .filter(matches)
                    .map(|d| DocumentSummary {
                        id: d.id.clone(),
                        title: d.title.clone(),
                        kind: d.kind.clone(),
                        status: d.status.as_str().into(),
                        role: None,
                        on_behalf_of: None,
                    })
                    .collect();
                page_of(items, &page)
            })
            .await,
    )
}

/// One document, if the caller may see it (404 otherwise, also when it does not exist).
#[utoipa::path(get, path = "/documents/{id}", params(("id" = String, Path, description = "Document id")),
    responses((status = 200, description = "The document with its tasks and comments"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn show_document(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(person) = caller(&state, &headers) else {
        return unauthorized();
    };
    respond(
        state
            .writer
            .read(move |s| {
                if !may_see(s, &person, &id) {
                    return error_answer(&RuntimeError::NotFound);
                }
                // Without the log's sequence numbers: they are global, so their gaps
                // would tell a reader how much happens on documents they may not see.
                let mut v = serde_json::to_value(&*s.documents[&id]).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.remove("events");
                }
                Answer {
                    status: 200,
                    body: v.to_string(),
                }
            })
            .await,
    )
}

/// The content of a document (its PDF or text): only to whom may see the document, and
/// only when the document's uploader sent those bytes themselves; 404 otherwise, exactly
/// as for a missing document.
#[utoipa::path(get, path = "/documents/{id}/content", params(("id" = String, Path, description = "Document id")),
    responses((status = 200, description = "The content, `application/pdf` or `text/plain`"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn document_content(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(person) = caller(&state, &headers) else {
        return unauthorized();
    };
    let Some(db) = state.contents.clone() else {
        return respond(error_answer(&RuntimeError::NotFound));
    };
    let s = state.writer.committed();
    let read =
        tokio::task::spawn_blocking(move || crate::contents::for_reader(&s, &db, &person, &id))
            .await
            .unwrap_or_else(|_| Err(RuntimeError::Storage("a read failed".into())));
    match read {
        Ok(Some((media_type, body))) => (
            StatusCode::OK,
            [
                // Text is kept as UTF-8: said so, so no client guesses another charset.
                (
                    header::CONTENT_TYPE,
                    if media_type.starts_with("text/") && !media_type.contains("charset") {
                        format!("{media_type}; charset=utf-8")
                    } else {
                        media_type
                    },
                ),
                (header::CONTENT_DISPOSITION, "attachment".to_string()),
            ],
            body,
        )
            .into_response(),
        Ok(None) => respond(error_answer(&RuntimeError::NotFound)),
        Err(e) => respond(error_answer(&e)),
    }
}

/// A write on a document by `person` (the caller, already known: the body was read
/// after the token was checked).
async fn act(
    state: AppState,
    person: String,
    headers: HeaderMap,
    body: Bytes,
    id: String,
    path: &str,
    f: impl FnOnce(&mut crate::engine::Emitter, &str, &str) -> Result<(), RuntimeError> + Send + 'static,
) -> Response {
    let idem = match idempotency(&headers, &body, &format!("/documents/{id}/{path}")) {
        Ok(i) => i,
        Err(answer) => return respond(answer),
    };
    let who = person.clone();
    respond(
        state
            .writer
            .write(Write {
                person,
                idempotency: idem,
                command: Box::new(move |em| {
                    f(em, &id, &who)?;
                    Ok(write_result(em, &id, 200))
                }),
            })
            .await,
    )
}

/// Sign the caller's open task.
#[utoipa::path(post, path = "/documents/{id}/sign", request_body(content = Option<SignRequest>, description = "Nothing, or `{}`"), params(("id" = String, Path, description = "Document id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key with the same body answers the first response again; with another body it is refused (422)")),
    responses((status = 200, body = WriteResult), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 415, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn sign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Body,
) -> Response {
    let (person, body) = match authorized_body(&state, &headers, body).await {
        Ok(pb) => pb,
        Err(r) => return r,
    };
    // Nothing, or `{}`: anything else is a mistake of the caller's (a field this API
    // does not have, text that is not JSON), not silently ignored.
    if !body.trim_ascii().is_empty()
        && let Err(answer) = parse::<SignRequest>(&body)
    {
        return respond(answer);
    }
    act(state, person, headers, body, id, "sign", |em, id, who| {
        em.sign(id, who)
    })
    .await
}

/// Refuse the caller's open task, with a reason.
#[utoipa::path(post, path = "/documents/{id}/refuse", request_body = RefuseRequest, params(("id" = String, Path, description = "Document id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key with the same body answers the first response again; with another body it is refused (422)")),
    responses((status = 200, body = WriteResult), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 415, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn refuse(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Body,
) -> Response {
    let (person, body) = match authorized_body(&state, &headers, body).await {
        Ok(pb) => pb,
        Err(r) => return r,
    };
    let req: RefuseRequest = match parse(&body) {
        Ok(r) => r,
        Err(answer) => return respond(answer),
    };
    act(
        state,
        person,
        headers,
        body,
        id,
        "refuse",
        move |em, id, who| em.refuse(id, who, &req.reason),
    )
    .await
}

/// Comment on a document.
#[utoipa::path(post, path = "/documents/{id}/comment", request_body = CommentRequest, params(("id" = String, Path, description = "Document id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key with the same body answers the first response again; with another body it is refused (422)")),
    responses((status = 200, body = WriteResult), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 415, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn comment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Body,
) -> Response {
    let (person, body) = match authorized_body(&state, &headers, body).await {
        Ok(pb) => pb,
        Err(r) => return r,
    };
    let req: CommentRequest = match parse(&body) {
        Ok(r) => r,
        Err(answer) => return respond(answer),
    };
    act(
        state,
        person,
        headers,
        body,
        id,
        "comment",
        move |em, id, who| em.comment(id, who, &req.text),
    )
    .await
}

/// The caller's open tasks.
#[utoipa::path(get, path = "/inbox", params(Page), responses((status = 200, body = DocumentList), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn inbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let Some(person) = caller(&state, &headers) else {
        return unauthorized();
    };
    let page = match paging(&uri) {
        Ok(p) => p,
        Err(answer) => return respond(answer),
    };
    respond(
        state
            .writer
            .read(move |s| {
                let items = crate::visibility::inbox(s, &person)
                    .into_iter()
                    .map(|i| DocumentSummary {
                        id: i.doc.id.clone(),
                        title: i.doc.title.clone(),
                        kind: i.doc.kind.clone(),
                        status: i.doc.status.as_str().into(),
                        role: Some(i.role.to_string()),
                        on_behalf_of: i.on_behalf_of,
                    })
                    .collect();
                page_of(items, &page)
            })
            .await,
    )
}
