//! Sign-in (the city's identity provider, or the development login), sign-out and the
//! language switch.

use crate::WebState;
use crate::auth::{Me, UiLang};
use crate::i18n::{Lang, Tr};
use crate::origin::{safe_back, same_site};
use crate::render::{Page, error, forbidden_form, template};
use crate::session::{
    LANG_COOKIE, LOGIN_COOKIE, NEXT_COOKIE, OIDC_COOKIE, cookie_name, same_secret,
};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    dev: bool,
    oidc: bool,
    people: Vec<(String, String)>,
    message: Option<String>,
    login_token: String,
}

/// `?expired=1`, `?bye=1`, `?error=…` on the sign-in page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    expired: Option<String>,
    bye: Option<String>,
    error: Option<String>,
}

fn cookie(st: &WebState, name: &'static str, value: String, path: &'static str) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .secure(st.config.secure_cookies)
        .same_site(SameSite::Lax)
        .path(path)
        .build()
}

fn removal(name: &'static str, path: &'static str) -> Cookie<'static> {
    // A browser ignores a `__Host-` cookie (its removal too) that is not Secure.
    Cookie::build((name, ""))
        .path(path)
        .secure(name.starts_with("__Host-"))
        .build()
}

/// `GET /app/login`.
pub async fn page(
    State(st): State<WebState>,
    UiLang(lang): UiLang,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Response {
    if let Some(c) = jar.get(cookie_name(st.config.secure_cookies))
        && st.sessions.get(c.value()).is_ok()
    {
        return Redirect::to("/app").into_response();
    }
    let tr = Tr(lang);
    let message = if q.expired.is_some() {
        Some(tr.t("login-expired"))
    } else if q.bye.is_some() {
        Some(tr.t("login-bye"))
    } else {
        // A code, never text from the address bar (a link could put any words there).
        q.error.map(|code| {
            let reason = match code.as_str() {
                "unknown" => tr.t("login-unknown"),
                _ => tr.t("login-provider"),
            };
            tr.with("login-failed", &[("reason", &reason)])
        })
    };
    let people = if st.config.dev_login {
        let s = st.writer.committed();
        let mut people: Vec<(String, String)> = s
            .current()
            .map(|(_, d)| {
                d.org
                    .people()
                    .map(|p| (p.to_string(), d.org.name(p).to_string()))
                    .collect()
            })
            .unwrap_or_default();
        people.sort_by(|a, b| a.1.cmp(&b.1));
        people
    } else {
        Vec::new()
    };
    let token = st.sessions.issue_login_token();
    let view = LoginPage {
        page: Page::new(lang, None, tr.t("login-title"), "", "/app/login"),
        dev: st.config.dev_login,
        oidc: st.oidc.is_some(),
        people,
        message,
        login_token: token.clone(),
    };
    let jar = jar.add(cookie(&st, LOGIN_COOKIE, token, "/app/login"));
    (jar, template(200, &view)).into_response()
}

/// The development login's form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DevLogin {
    csrf: String,
    person: String,
}

/// Starts the session and goes to the page asked for before signing in (the
/// `paraaf_next` cookie, when it names a page of the app), else the inbox.
fn signed_in(st: &WebState, jar: CookieJar, person: &str) -> Response {
    let id = st.sessions.create(person);
    tracing::info!(person, "signed in");
    let next = jar
        .get(NEXT_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|n| safe_back(n))
        .unwrap_or_else(|| "/app".to_string());
    let jar = jar
        .add(cookie(st, cookie_name(st.config.secure_cookies), id, "/"))
        .remove(removal(LOGIN_COOKIE, "/app/login"))
        .remove(removal(OIDC_COOKIE, "/app/auth"))
        .remove(removal(NEXT_COOKIE, "/app"));
    (jar, Redirect::to(&next)).into_response()
}

/// `POST /app/login`: the development login (when enabled).
pub async fn dev_login(
    State(st): State<WebState>,
    UiLang(lang): UiLang,
    method: Method,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<DevLogin>,
) -> Response {
    if !st.config.dev_login {
        return crate::render::not_found(lang, None);
    }
    // From this site, with the token of a sign-in page this server handed to this browser
    // (used up here).
    let token_ok = same_site(&method, &headers, &st.config.origins)
        && jar
            .get(LOGIN_COOKIE)
            .is_some_and(|c| same_secret(c.value(), &f.csrf))
        && st.sessions.take_login_token(&f.csrf);
    if !token_ok {
        return error(lang, None, 403, Tr(lang).t("error-csrf"));
    }
    let known = st
        .writer
        .committed()
        .current()
        .is_some_and(|(_, d)| d.org.is_person(&f.person));
    if !known {
        tracing::warn!(person = %f.person.chars().take(100).collect::<String>(), "development login as nobody");
        return Redirect::to("/app/login?error=unknown").into_response();
    }
    signed_in(&st, jar, &f.person)
}

/// `GET /app/auth/oidc`: off to the identity provider.
pub async fn oidc_start(
    State(st): State<WebState>,
    UiLang(lang): UiLang,
    jar: CookieJar,
) -> Response {
    let Some(oidc) = st.oidc.clone() else {
        return crate::render::not_found(lang, None);
    };
    match oidc.start() {
        Ok(start) => {
            st.sessions
                .start_pending(&start.state, start.nonce, start.verifier);
            let c = Cookie::build((OIDC_COOKIE, start.state))
                .http_only(true)
                .secure(st.config.secure_cookies)
                .same_site(SameSite::Lax)
                .path("/app/auth")
                .max_age(time::Duration::minutes(10))
                .build();
            (jar.add(c), Redirect::to(&start.url)).into_response()
        }
        Err(e) => error(lang, None, 502, e),
    }
}

/// The provider's answer.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /app/auth/callback`: back from the identity provider.
pub async fn oidc_callback(
    State(st): State<WebState>,
    UiLang(lang): UiLang,
    jar: CookieJar,
    Query(cb): Query<Callback>,
) -> Response {
    let Some(oidc) = st.oidc.clone() else {
        return crate::render::not_found(lang, None);
    };
    let fail = |reason: String| {
        tracing::warn!(%reason, "sign-in through the identity provider failed");
        Redirect::to("/app/login?error=failed").into_response()
    };
    if let Some(e) = cb.error {
        return fail(format!("{e} {}", cb.error_description.unwrap_or_default()));
    }
    let (Some(code), Some(state)) = (cb.code, cb.state) else {
        return fail("the provider sent no code".into());
    };
    // The state must be the one this browser started with, and still pending.
    let bound = jar
        .get(OIDC_COOKIE)
        .is_some_and(|c| same_secret(c.value(), &state));
    let Some(pending) = bound.then(|| st.sessions.take_pending(&state)).flatten() else {
        return fail("this sign-in was not started here or took too long".into());
    };
    let finished = tokio::task::spawn_blocking(move || {
        let id = oidc.finish(&code, &pending.nonce, &pending.verifier)?;
        Ok::<_, String>((id, oidc.claim().to_string()))
    })
    .await
    .unwrap_or_else(|_| Err("the sign-in failed".into()));
    let (identity, claim) = match finished {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let s = st.writer.committed();
    let Some((_, dep)) = s.current() else {
        return fail("no project is deployed".into());
    };
    let (value, person) = match claim.as_str() {
        "sub" => (
            identity.subject.clone(),
            dep.org
                .is_person(&identity.subject)
                .then(|| identity.subject.clone()),
        ),
        "preferred_username" => {
            let v = identity.preferred_username.clone().unwrap_or_default();
            (v.clone(), dep.org.is_person(&v).then_some(v))
        }
        _ => {
            let v = identity.email.clone().unwrap_or_default();
            (v.clone(), dep.org.person_by_email(&v).map(str::to_string))
        }
    };
    match person {
        Some(p) => signed_in(&st, jar, &p),
        None => {
            tracing::warn!(%claim, %value, "signed in at the provider, but nobody in the organogram");
            Redirect::to("/app/login?error=unknown").into_response()
        }
    }
}

/// The sign-out form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Logout {
    csrf: String,
}

/// `POST /app/logout`.
pub async fn logout(
    State(st): State<WebState>,
    me: Me,
    method: Method,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<Logout>,
) -> Response {
    if !crate::auth::form_ok(&st, &me, &method, &headers, &f.csrf) {
        return forbidden_form(&me);
    }
    if let Some(c) = jar.get(cookie_name(st.config.secure_cookies)) {
        st.sessions.remove(c.value());
    }
    tracing::info!(person = %me.person, "signed out");
    let jar = jar.remove(removal(cookie_name(st.config.secure_cookies), "/"));
    (jar, Redirect::to("/app/login?bye=1")).into_response()
}

/// `?back=/app/…` of the language switch.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Back {
    back: String,
}

/// `GET /app/lang/{code}`: switches the language and goes back (only to a page of the
/// app: never an open redirect).
pub async fn language(
    State(st): State<WebState>,
    Path(code): Path<String>,
    jar: CookieJar,
    Query(b): Query<Back>,
) -> Response {
    let lang = Lang::from_code(&code).unwrap_or_default();
    let back = if safe_back(&b.back) {
        b.back
    } else {
        "/app".to_string()
    };
    let c = Cookie::build((LANG_COOKIE, lang.code().to_string()))
        .http_only(true)
        .secure(st.config.secure_cookies)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time::Duration::days(365))
        .build();
    (jar.add(c), Redirect::to(&back)).into_response()
}
