//! `GET /app/documents/{id}/sealed`: a completed document's sealed PDF (#28), as a
//! download, to whom may read its content (`sealing::sealed_for_reader`: `may_see` and
//! the content's ownership); 404 exactly like a missing document otherwise.

use super::on_state;
use crate::WebState;
use crate::auth::Me;
use crate::i18n::Tr;
use crate::render::not_found;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// `GET /app/documents/{id}/sealed`.
pub async fn download(State(st): State<WebState>, me: Me, Path(id): Path<String>) -> Response {
    let db = st.config.db.clone();
    on_state(
        &st,
        move |s| match paraaf_runtime::sealing::sealed_for_reader(s, &db, &me.person, &id) {
            Ok(Some(body)) => (
                [
                    (header::CONTENT_TYPE, "application/pdf".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{id}-verzegeld.pdf\""),
                    ),
                    (
                        header::CONTENT_SECURITY_POLICY,
                        crate::security::CONTENT_CSP.to_string(),
                    ),
                ],
                body,
            )
                .into_response(),
            Ok(None) => not_found(me.lang, Some(&me)),
            Err(e) => {
                tracing::error!(doc = %id, error = %e, "sealed PDF refused");
                crate::render::error(
                    me.lang,
                    Some(&me),
                    500,
                    Tr(me.lang).with("error-content-tampered", &[("sha", "")]),
                )
            }
        },
    )
    .await
}
