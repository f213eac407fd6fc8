//! `GET /documents/{id}/sealed`: a completed document's sealed PDF (#28), to whom may
//! read its content (`may_see`, through `sealing::sealed_for_reader`); 404 otherwise,
//! exactly as for a missing document or one not sealed yet.

use super::{AppState, caller, error_answer, respond, unauthorized};
use crate::engine::RuntimeError;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The sealed PDF of a document: only to whom may see the document and read its content.
#[utoipa::path(get, path = "/documents/{id}/sealed", params(("id" = String, Path, description = "Document id")),
    responses((status = 200, description = "The sealed PDF (`application/pdf`): the document as submitted, its evidence page and the city's PAdES seal"), (status = 404, body = super::Problem, content_type = "application/problem+json")))]
pub(super) async fn sealed_document(
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
    let doc = id.clone();
    let read = tokio::task::spawn_blocking(move || {
        crate::sealing::sealed_for_reader(&s, &db, &person, &doc)
    })
    .await
    .unwrap_or_else(|_| Err(RuntimeError::Storage("a read failed".into())));
    match read {
        Ok(Some(body)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{id}-verzegeld.pdf\""),
                ),
            ],
            body,
        )
            .into_response(),
        Ok(None) => respond(error_answer(&RuntimeError::NotFound)),
        Err(e) => respond(error_answer(&e)),
    }
}
