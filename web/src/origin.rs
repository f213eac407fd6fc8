//! Where a request comes from and where the app may send the browser: the same-site
//! check every form submission passes, the host of a configured origin, and the app
//! paths a sign-in may return to. Shared by `auth`, `security` and the sign-in pages
//! (so none of them imports another for it).

use axum::http::{HeaderMap, Method, header};

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

/// Whether `back` is a page of the app: `/app` or below, plain path characters only
/// (no `//`, `\\`, `..`, control characters or anything a header cannot carry).
pub fn safe_back(back: &str) -> bool {
    (back == "/app" || back.starts_with("/app/") || back.starts_with("/app?"))
        && back.len() <= 512
        && !back.contains("//")
        && !back.contains("..")
        && back
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./?=&%".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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

    #[test]
    fn back_stays_in_the_app() {
        for ok in [
            "/app",
            "/app/absences",
            "/app/documents/d-1",
            "/app?kind=besluit&page=2",
        ] {
            assert!(safe_back(ok), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "/app//evil",
            "/app/../../evil",
            "/app\n",
            "/app\t/x",
            "/app\u{ff}",
            "/apple",
            "",
            "/app/\r\nSet-Cookie: x=1",
        ] {
            assert!(!safe_back(bad), "{bad:?}");
        }
    }
}
