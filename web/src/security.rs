//! Security headers on every page, and the checks every form submission passes: the
//! session's form token (CSRF) and, when the browser says where the form came from, the
//! same origin.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
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

/// Whether a state-changing request comes from this site: refused when the browser
/// says it was sent from another site (`Sec-Fetch-Site`) or names another `Origin`.
pub fn same_site(method: &Method, headers: &HeaderMap) -> bool {
    if method == Method::GET || method == Method::HEAD {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some("null"), _) => false,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let post = Method::POST;
        assert!(same_site(
            &post,
            &h(&[
                ("host", "paraaf.aalst.be"),
                ("origin", "https://paraaf.aalst.be")
            ])
        ));
        assert!(!same_site(
            &post,
            &h(&[
                ("host", "paraaf.aalst.be"),
                ("origin", "https://evil.example")
            ])
        ));
        assert!(!same_site(&post, &h(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_site(&post, &h(&[("origin", "null"), ("host", "x")])));
        assert!(same_site(&post, &h(&[])));
        assert!(same_site(
            &Method::GET,
            &h(&[("sec-fetch-site", "cross-site")])
        ));
    }
}
