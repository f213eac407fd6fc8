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
/// says it was sent from another site (`Sec-Fetch-Site`) or names an `Origin` that is not
/// one of the app's `origins` (scheme, host and port; when none are configured, the
/// `Host` the request was sent to).
pub fn same_site(method: &Method, headers: &HeaderMap, origins: &[String]) -> bool {
    if method == Method::GET || method == Method::HEAD {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let origin = headers
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("null"));
    match origin {
        None => true,
        Some("null") => false,
        Some(o) if !origins.is_empty() => {
            let o = o.trim_end_matches('/');
            origins
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(o))
        }
        Some(o) => headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|host| {
                o.split_once("://")
                    .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
            }),
    }
}

/// The host (and port) of an origin such as `https://paraaf.aalst.be`.
pub fn authority(origin: &str) -> &str {
    origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/')
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
    fn only_the_configured_origins_may_post() {
        let post = Method::POST;
        let origins = vec![
            "http://127.0.0.1:8080".to_string(),
            "http://localhost:8080".to_string(),
        ];
        assert!(same_site(
            &post,
            &h(&[("origin", "http://127.0.0.1:8080")]),
            &origins
        ));
        assert!(same_site(
            &post,
            &h(&[("origin", "http://localhost:8080")]),
            &origins
        ));
        // Another scheme, port or host, also when the Host header says the same.
        for bad in [
            "https://127.0.0.1:8080",
            "http://127.0.0.1:8081",
            "http://evil.example",
        ] {
            let headers = h(&[("origin", bad), ("host", "evil.example")]);
            assert!(!same_site(&post, &headers, &origins), "{bad}");
        }
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let post = Method::POST;
        let any: &[String] = &[];
        let same = h(&[
            ("host", "paraaf.aalst.be"),
            ("origin", "https://paraaf.aalst.be"),
        ]);
        assert!(same_site(&post, &same, any));
        let evil = h(&[
            ("host", "paraaf.aalst.be"),
            ("origin", "https://evil.example"),
        ]);
        assert!(!same_site(&post, &evil, any));
        assert!(!same_site(
            &post,
            &h(&[("sec-fetch-site", "cross-site")]),
            any
        ));
        assert!(!same_site(
            &post,
            &h(&[("origin", "null"), ("host", "x")]),
            any
        ));
        assert!(!same_site(&post, &h(&[("origin", "https://x")]), any));
        assert!(same_site(&post, &h(&[]), any));
        assert!(same_site(
            &Method::GET,
            &h(&[("sec-fetch-site", "cross-site")]),
            any
        ));
    }
}
