//! Security headers on every page, and the host names the app answers to (the origin
//! checks of form submissions are in `origin`).

use crate::origin::authority;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy of every page: only this server's own scripts, styles
/// and frames; nothing may frame the app.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; frame-src 'self'; object-src 'none'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

/// The policy of a document's content (a PDF): shown only inside the app's own pages.
pub const CONTENT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
    img-src 'self' data:; object-src 'self'; frame-ancestors 'self'";

/// Adds the security headers a response does not set itself.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, PAGE_CSP);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    // Pages show documents that may be shielded: never kept in a cache.
    set(header::CACHE_CONTROL, "no-store");
    set(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    res
}

/// Refuses (421) a request sent to a host name that is not the app's: a page another
/// site serves under its own name and points at this server (DNS rebinding) gets
/// nothing. With no origins configured, every host is accepted.
pub async fn hosts(
    axum::extract::State(st): axum::extract::State<crate::WebState>,
    req: Request,
    next: Next,
) -> Response {
    let origins = &st.config.origins;
    if origins.is_empty() {
        return next.run(req).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    if origins
        .iter()
        .any(|o| authority(o).eq_ignore_ascii_case(host))
    {
        return next.run(req).await;
    }
    let lang = crate::auth::lang_of(req.headers());
    crate::render::error(lang, None, 421, crate::Tr(lang).t("error-host"))
}
