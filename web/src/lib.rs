//! The signers' web app, served by `paraaf serve` under `/app`: sign-in (the city's
//! OpenID Connect provider, or a development login for the examples), the inbox, a
//! document with its content, route, comments and history, signing and refusing with a
//! confirmation, bulk signing, absences, and the documents one uploaded or may see.
//!
//! Server-rendered HTML (askama templates, Dutch first through Fluent), a little
//! JavaScript for "select all" only. No second authorization path: every page reads the
//! committed state through `may_see` and the inbox of the runtime, and every action is
//! the same `Emitter` command the JSON API runs, through the same writer.
#![forbid(unsafe_code)]

mod auth;
pub mod demo;
mod format;
mod i18n;
mod oidc;
mod origin;
mod pages;
mod render;
mod security;
mod session;

pub use i18n::{Lang, Tr};
pub use oidc::{Identity, OidcConfig};

use axum::Router;
use axum::routing::{get, post};
use paraaf_runtime::api::Writer;
use paraaf_runtime::workdays::Calendar;
use std::sync::Arc;
use std::time::Duration;

/// How the web app signs people in and where it finds content.
pub struct WebConfig {
    /// Offer the development login (pick any person of the organogram). Examples only.
    pub dev_login: bool,
    /// The city's identity provider, if any.
    pub oidc: Option<OidcConfig>,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends after this long in all.
    pub session_max: Duration,
    /// Send cookies with `Secure` (on; browsers accept it on `http://localhost` too).
    pub secure_cookies: bool,
    /// The city's store (documents' content and history are read from it, beside the
    /// writer): a SQLite file's path or a city on PostgreSQL.
    pub db: paraaf_runtime::reads::Reads,
    /// Workdays, for the deadlines shown in the inbox.
    pub calendar: Calendar,
    /// The addresses people open the app at (`https://paraaf.aalst.be`,
    /// `http://127.0.0.1:8080`): requests to any other host name are refused (421) and
    /// forms must come from one of them. Empty: any host (only behind a proxy that checks).
    pub origins: Vec<String>,
}

/// Shared by the pages.
#[derive(Clone)]
pub struct WebState {
    writer: Writer,
    config: Arc<WebConfig>,
    sessions: Arc<session::Sessions>,
    oidc: Option<Arc<oidc::Oidc>>,
}

/// The web app's routes (merge them into the API router). Discovers the identity
/// provider first (blocking), so a wrong issuer fails at start, not at the first
/// sign-in.
pub fn router(writer: Writer, config: WebConfig) -> Result<Router, String> {
    let oidc = match &config.oidc {
        Some(c) => Some(Arc::new(oidc::Oidc::discover(c.clone())?)),
        None => None,
    };
    if oidc.is_none() && !config.dev_login {
        return Err("the web app needs a way to sign in: --oidc-issuer (with \
            --oidc-client-id and --oidc-client-secret-file) or --dev-login"
            .into());
    }
    let state = WebState {
        writer,
        sessions: Arc::new(session::Sessions::shared(
            config.session_idle,
            config.session_max,
            config.db.clone(),
        )),
        config: Arc::new(config),
        oidc,
    };
    Ok(Router::new()
        .route("/", get(|| async { axum::response::Redirect::to("/app") }))
        .route("/app", get(pages::inbox::page))
        .route(
            "/app/",
            get(|| async { axum::response::Redirect::to("/app") }),
        )
        .route(
            "/app/login",
            get(pages::login::page).post(pages::login::dev_login),
        )
        .route("/app/auth/oidc", get(pages::login::oidc_start))
        .route("/app/auth/callback", get(pages::login::oidc_callback))
        .route("/app/logout", post(pages::login::logout))
        .route("/app/lang/{code}", get(pages::login::language))
        .route("/app/documents", get(pages::documents::page))
        .route("/app/documents/{id}", get(pages::document::page))
        .route("/app/documents/{id}/content", get(pages::document::content))
        .route("/app/documents/{id}/sealed", get(pages::sealed::download))
        .route("/app/documents/{id}/sign", post(pages::actions::sign))
        .route("/app/documents/{id}/refuse", post(pages::actions::refuse))
        .route("/app/documents/{id}/comment", post(pages::actions::comment))
        .route("/app/bulk-sign", post(pages::actions::bulk_sign))
        .route(
            "/app/absences",
            get(pages::absences::page).post(pages::absences::add),
        )
        .route(
            "/app/absences/{id}/withdraw",
            post(pages::absences::withdraw),
        )
        .route(
            "/app/settings",
            get(pages::settings::page).post(pages::settings::save),
        )
        .route("/app/static/app.css", get(pages::assets::css))
        .route("/app/static/app.js", get(pages::assets::js))
        .route("/app/{*rest}", get(pages::not_found).post(pages::not_found))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::hosts,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state))
}
