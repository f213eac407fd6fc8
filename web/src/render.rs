//! What every page shares (the header: who is signed in, the menu, the language switch,
//! a message after an action) and the HTML responses, including the error pages.

use crate::auth::Me;
use crate::i18n::{Lang, Tr};
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The frame of a page.
pub struct Page {
    /// `nl` / `en`.
    pub lang: &'static str,
    /// Messages in that language.
    pub tr: Tr,
    /// The page's title.
    pub title: String,
    /// "Aangemeld als …" when someone is signed in.
    pub signed_in: Option<String>,
    /// The session's form token.
    pub csrf: String,
    /// Which menu item is current.
    pub nav: &'static str,
    /// A message about the last action.
    pub flash: Option<String>,
    /// This page's path (the language switch comes back here), URL-encoded.
    pub here: String,
}

impl Page {
    /// The frame for `me` (or nobody, on the sign-in page).
    pub fn new(lang: Lang, me: Option<&Me>, title: String, nav: &'static str, here: &str) -> Page {
        let tr = Tr(lang);
        Page {
            lang: lang.code(),
            tr,
            title,
            signed_in: me.map(|m| tr.with("signed-in-as", &[("name", &m.name)])),
            csrf: me.map(|m| m.csrf.clone()).unwrap_or_default(),
            nav,
            flash: None,
            here: encode(here),
        }
    }
}

/// Percent-encodes a path for a query parameter.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An HTML response.
pub fn html(status: u16, body: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Renders a template (a template that fails to render is a 500, never a panic).
pub fn template(status: u16, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            html(500, "<!doctype html><title>500</title><p>500".into())
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Page,
    message: String,
}

/// The error page: the status and a message an office worker understands.
pub fn error(lang: Lang, me: Option<&Me>, status: u16, message: String) -> Response {
    let tr = Tr(lang);
    let title = match status {
        404 => tr
            .t("error-404")
            .split(',')
            .next()
            .unwrap_or("404")
            .to_string(),
        _ => tr.t("error-title"),
    };
    let page = Page::new(lang, me, title, "", "/app");
    template(status, &ErrorPage { page, message })
}

/// 404 for a path the app does not have ("Pagina niet gevonden").
pub fn no_such_page(lang: Lang, me: Option<&Me>) -> Response {
    let tr = Tr(lang);
    let page = Page::new(lang, me, tr.t("error-404-page-title"), "", "/app");
    template(
        404,
        &ErrorPage {
            page,
            message: tr.t("error-404-page"),
        },
    )
}

/// 404 for a document `me` may not see, exactly as for one that does not exist.
pub fn not_found(lang: Lang, me: Option<&Me>) -> Response {
    error(lang, me, 404, Tr(lang).t("error-404"))
}

/// 403 for a form without the session's token or from another site.
pub fn forbidden_form(me: &Me) -> Response {
    error(me.lang, Some(me), 403, Tr(me.lang).t("error-csrf"))
}

/// The error page for a refused command: the API's problem document (with its `code`)
/// or the web app's own message (a `detail` already in the interface language). The
/// runtime's details are English: in another language the page says what the code
/// means instead.
pub fn refused(me: &Me, status: u16, body: &str) -> Response {
    let tr = Tr(me.lang);
    let v = serde_json::from_str::<serde_json::Value>(body).unwrap_or_default();
    let english = v["detail"].as_str().unwrap_or_default().to_string();
    let detail = match v["code"].as_str() {
        Some(code) if me.lang != Lang::En => problem_text(tr, code),
        _ => english,
    };
    let message = match status {
        404 => tr.t("error-404"),
        403 => tr.with("error-403", &[("detail", &detail)]),
        409 => tr.with("error-409", &[("detail", &detail)]),
        400 | 422 => tr.with("error-400", &[("detail", &detail)]),
        _ => tr.with("error-500", &[("detail", &detail)]),
    };
    error(me.lang, Some(me), status, message)
}

/// What a problem code of the runtime means, in the interface language.
pub fn problem_text(tr: Tr, code: &str) -> String {
    match code {
        "forbidden" | "conflict" | "invalid" | "not_found" | "storage" | "tampered" => {
            tr.t(&format!("problem-{code}"))
        }
        _ => tr.t("problem-other"),
    }
}
