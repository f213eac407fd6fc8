//! Who is asking: the session behind the cookie, the interface language, and the checks
//! every form submission passes (the session's form token, the same site).

use crate::WebState;
use crate::i18n::Lang;
use crate::origin::{safe_back, same_site};
use crate::session::{LANG_COOKIE, NEXT_COOKIE, NoSession, cookie_name, same_secret};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

/// The signed-in person.
#[derive(Clone, Debug)]
pub struct Me {
    /// Organogram id.
    pub person: String,
    /// Display name.
    pub name: String,
    /// The session's form token.
    pub csrf: String,
    /// Interface language.
    pub lang: Lang,
    /// The session cookie's value (for the session's messages).
    pub sid: String,
}

/// The interface language: the `paraaf_lang` cookie, else Dutch.
#[derive(Clone, Copy, Debug)]
pub struct UiLang(pub Lang);

/// The interface language of a request (its cookie, else Dutch).
pub fn lang_of(headers: &HeaderMap) -> Lang {
    CookieJar::from_headers(headers)
        .get(LANG_COOKIE)
        .and_then(|c| Lang::from_code(c.value()))
        .unwrap_or_default()
}

impl<S: Send + Sync> FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<UiLang, Self::Rejection> {
        Ok(UiLang(lang_of(&parts.headers)))
    }
}

/// Off to the sign-in page; a page asked for by GET (a link to a document) is kept in a
/// short-lived cookie, and the sign-in goes there afterwards (see
/// `pages::login::signed_in`; only a path of the app, never another site).
fn to_login(parts: &Parts, state: &WebState, to: &'static str) -> Response {
    let asked = parts
        .uri
        .path_and_query()
        .map_or("/app", |p| p.as_str())
        .to_string();
    let keep = parts.method == Method::GET && asked != "/app" && safe_back(&asked);
    if !keep {
        return Redirect::to(to).into_response();
    }
    let c = Cookie::build((NEXT_COOKIE, asked))
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .path("/app")
        .max_age(time::Duration::minutes(15))
        .build();
    (CookieJar::new().add(c), Redirect::to(to)).into_response()
}

impl FromRequestParts<WebState> for Me {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Me, Response> {
        let lang = lang_of(&parts.headers);
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(cookie) = jar.get(cookie_name(state.config.secure_cookies)) else {
            return Err(to_login(parts, state, "/app/login"));
        };
        match state.sessions.get(cookie.value()) {
            Ok(s) => {
                let committed = state.writer.committed();
                // Someone who left is signed out at the `org deploy` that removes them; a
                // renamed person goes on under their new id.
                let Some(person) = committed.person_now(&s.person) else {
                    return Err(to_login(parts, state, "/app/login"));
                };
                let name = committed
                    .current()
                    .map_or(person.clone(), |(_, d)| d.org.name(&person).to_string());
                Ok(Me {
                    person,
                    name,
                    csrf: s.csrf,
                    lang,
                    sid: cookie.value().to_string(),
                })
            }
            Err(NoSession::Expired) => Err(to_login(parts, state, "/app/login?expired=1")),
            Err(NoSession::Missing) => Err(to_login(parts, state, "/app/login")),
        }
    }
}

/// Whether a form submission may act for `me`: it carries the session's form token and
/// comes from this site.
pub fn form_ok(st: &WebState, me: &Me, method: &Method, headers: &HeaderMap, token: &str) -> bool {
    same_secret(&me.csrf, token) && same_site(method, headers, &st.config.origins)
}
