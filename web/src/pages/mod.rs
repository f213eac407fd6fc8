//! The pages, one module each; every one reads the committed state through `may_see`
//! (or the runtime's inbox, which asks it) and acts through the writer.

pub mod absences;
pub mod actions;
pub mod assets;
pub mod document;
pub mod documents;
pub mod inbox;
pub mod login;
pub mod sealed;
pub mod settings;

use crate::WebState;
use crate::auth::UiLang;
use axum::response::Response;
use paraaf_runtime::engine::State;

/// Runs `f` against the latest committed state on the blocking pool (as the JSON API's
/// reads do): never on the writer thread, never uncommitted.
pub async fn on_state(
    st: &WebState,
    f: impl FnOnce(&State) -> Response + Send + 'static,
) -> Response {
    let state = st.writer.committed();
    tokio::task::spawn_blocking(move || f(&state))
        .await
        .unwrap_or_else(|_| {
            crate::render::html(500, "<!doctype html><title>500</title><p>500".into())
        })
}

/// Any other path under `/app`: "Pagina niet gevonden" (not the document message).
pub async fn not_found(UiLang(lang): UiLang) -> Response {
    crate::render::no_such_page(lang, None)
}

/// The name of an organogram id today (the id itself when unknown).
pub fn name_of(s: &State, id: &str) -> String {
    s.current()
        .map_or(id.to_string(), |(_, d)| d.org.name(id).to_string())
}

/// A role as the organogram names it today ("Diensthoofd Bevolking", "Burgemeester"),
/// not its ids (`diensthoofd of bevolking`).
pub fn role_of(s: &State, role: &str) -> String {
    s.current()
        .map_or(role.to_string(), |(_, d)| d.org.role_name(role))
}

/// The name people read for a document kind ("Collegebesluit", from `[kinds]` of the
/// project), in the version the document was submitted under, else today's; the kind's
/// own name when the project gives none.
pub fn kind_of(s: &State, version: u32, kind: &str) -> String {
    let title = |dep: &paraaf_runtime::engine::Deployment| {
        dep.project
            .documents
            .iter()
            .find(|k| k.name == kind)
            .and_then(|k| k.title.clone())
    };
    s.deployment(version)
        .and_then(title)
        .or_else(|| s.current().and_then(|(_, d)| title(d)))
        .unwrap_or_else(|| kind.to_string())
}

/// A page number from the query string (1 when missing or not a number).
pub fn page_number(text: Option<&str>) -> usize {
    text.and_then(|t| t.parse::<usize>().ok())
        .filter(|p| (1..=1_000_000).contains(p))
        .unwrap_or(1)
}
