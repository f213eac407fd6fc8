//! All documents I may see (the default), or those I uploaded, with their status,
//! searched and paged.

use super::{on_state, page_number};
use crate::WebState;
use crate::auth::Me;
use crate::i18n::Tr;
use crate::render::{Page, template};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use paraaf_runtime::visibility::may_see;
use serde::Deserialize;

/// Documents per page.
pub const PER_PAGE: usize = 25;

/// A row.
pub struct Row {
    id: String,
    title: String,
    kind: String,
    status: String,
    status_label: String,
    submitted: String,
}

#[derive(Template)]
#[template(path = "documents.html")]
struct DocumentsPage {
    page: Page,
    scope: String,
    q: String,
    count_label: String,
    rows: Vec<Row>,
    pages: usize,
    page_label: String,
    prev: Option<String>,
    next: Option<String>,
}

/// `?scope=mine|visible&q=…&page=N`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DocumentsQuery {
    scope: String,
    q: String,
    page: Option<String>,
}

/// `GET /app/documents`.
pub async fn page(State(st): State<WebState>, me: Me, Query(q): Query<DocumentsQuery>) -> Response {
    on_state(&st, move |s| {
        let tr = Tr(me.lang);
        // What the person may see (their tasks, what they signed or follow) first:
        // "submitted by me" is empty for most signers (the mayor submits nothing).
        let scope = if q.scope == "mine" { "mine" } else { "visible" };
        let needle = q.q.to_lowercase();
        let mut docs: Vec<&paraaf_runtime::engine::Document> = s
            .documents
            .values()
            .filter(|d| scope == "visible" || d.uploader == me.person)
            .filter(|d| may_see(s, &me.person, &d.id))
            .filter(|d| {
                needle.is_empty()
                    || d.title.to_lowercase().contains(&needle)
                    || d.kind.contains(&needle)
                    || d.id.contains(&needle)
            })
            .map(|d| d.as_ref())
            .collect();
        docs.sort_by(|a, b| b.submitted_at.cmp(&a.submitted_at).then(a.id.cmp(&b.id)));
        let total = docs.len();
        let pages = total.div_ceil(PER_PAGE).max(1);
        let p = page_number(q.page.as_deref()).min(pages);
        let link = |n: usize| {
            format!(
                "/app/documents?scope={scope}&q={}&page={n}",
                crate::render::encode(&q.q)
            )
        };
        let rows = docs
            .into_iter()
            .skip((p - 1) * PER_PAGE)
            .take(PER_PAGE)
            .map(|d| Row {
                id: d.id.clone(),
                title: d.title.clone(),
                kind: super::kind_of(s, d.version, &d.kind),
                status: d.status.as_str().into(),
                status_label: tr.t(&format!("status-{}", d.status.as_str())),
                submitted: super::inbox::brussels_day(d.submitted_at),
            })
            .collect();
        let view = DocumentsPage {
            page: Page::new(
                me.lang,
                Some(&me),
                tr.t("documents-title"),
                "documents",
                "/app/documents",
            ),
            scope: scope.into(),
            q: q.q.clone(),
            count_label: tr.count("documents-count", total),
            rows,
            pages,
            page_label: tr.with(
                "page-of",
                &[("page", &p.to_string()), ("pages", &pages.to_string())],
            ),
            prev: (p > 1).then(|| link(p - 1)),
            next: (p < pages).then(|| link(p + 1)),
        };
        template(200, &view)
    })
    .await
}
