//! One document: its content (the PDF inline), fields, route with who signed for whom,
//! comments and its history from the audit log — all only when `may_see` allows, and a
//! 404 exactly like a missing document otherwise (also for the content's own URL).

use super::{name_of, on_state};
use crate::WebState;
use crate::auth::Me;
use crate::i18n::Tr;
use crate::render::{Page, not_found, template};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use paraaf_runtime::engine::{Document, Event, State as RtState, TaskStatus};
use paraaf_runtime::visibility::may_see;
use std::path::Path as FsPath;

/// A step of the route as shown.
pub struct StepView {
    name: String,
    lines: Vec<String>,
}

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage {
    page: Page,
    id: String,
    title: String,
    kind: String,
    status: String,
    status_label: String,
    uploader: String,
    has_content: bool,
    content_title: String,
    no_content: String,
    fields: Vec<(String, String)>,
    steps: Vec<StepView>,
    comments: Vec<(String, String)>,
    history: Vec<(String, String, String)>,
    my_task: Option<String>,
}

fn names(s: &RtState, ids: &[String]) -> String {
    ids.iter()
        .map(|p| name_of(s, p))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A field's value as shown: the name of an organogram id, or the text.
fn shown(s: &RtState, v: &serde_json::Value) -> String {
    match v.as_str() {
        Some(t) => {
            let name = name_of(s, t);
            if name != t {
                format!("{name} ({t})")
            } else {
                t.to_string()
            }
        }
        None => v.to_string(),
    }
}

/// A logged time (RFC 3339, UTC) as a clock in Brussels shows it: `02/12/2026 10:34`.
pub fn local_time(at: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(t) => t
            .with_timezone(&chrono_tz::Europe::Brussels)
            .format("%d/%m/%Y %H:%M")
            .to_string(),
        Err(_) => at.to_string(),
    }
}

/// A reason the runtime records in English words, in the interface language.
fn reason_text(tr: Tr, r: &str) -> String {
    match r {
        "absence" => tr.t("reason-absence"),
        "absence withdrawn" => tr.t("reason-absence-withdrawn"),
        other => other.to_string(),
    }
}

/// One event of the document's history, in words.
fn event_text(s: &RtState, tr: Tr, e: &Event) -> String {
    let n = |p: &str| name_of(s, p);
    match e {
        Event::DocumentSubmitted { uploader, .. } => {
            tr.with("ev-submitted", &[("by", &n(uploader))])
        }
        Event::StepOpened { name, tasks, .. } => {
            let who: Vec<String> = tasks
                .iter()
                .flat_map(|t| t.assignees.iter().map(|a| n(a)))
                .collect();
            tr.with("ev-step", &[("name", name), ("names", &who.join(", "))])
        }
        Event::StepSkipped { name, .. } => tr.with("ev-skipped", &[("name", name)]),
        Event::Signed {
            by,
            for_whom: Some(f),
            ..
        } => tr.with("ev-signed-for", &[("by", &n(by)), ("for", &n(f))]),
        Event::Signed { by, .. } => tr.with("ev-signed", &[("by", &n(by))]),
        Event::Refused { by, reason, .. } => {
            tr.with("ev-refused", &[("by", &n(by)), ("reason", reason)])
        }
        Event::Commented { by, .. } => tr.with("ev-commented", &[("by", &n(by))]),
        Event::TaskReassigned {
            assignees, reason, ..
        } => tr.with(
            "ev-reassigned",
            &[
                ("names", &names(s, assignees)),
                ("reason", &reason_text(tr, reason)),
            ],
        ),
        Event::TaskMoved {
            assignees, reason, ..
        } => tr.with(
            "ev-moved",
            &[("names", &names(s, assignees)), ("reason", reason)],
        ),
        Event::Escalated { to, .. } => tr.with("ev-escalated", &[("names", &names(s, to))]),
        Event::EscalationUnreached { reason, .. } => {
            tr.with("ev-escalation-waits", &[("reason", reason)])
        }
        Event::Reminded { .. } => tr.t("ev-reminded"),
        Event::TasksCancelled { .. } => tr.t("ev-cancelled"),
        Event::DocumentCompleted { .. } => tr.t("ev-completed"),
        Event::DocumentReturned { .. } => tr.t("ev-returned"),
        Event::DocumentStopped { .. } => tr.t("ev-stopped"),
        Event::ShieldRefused { reason, .. } => tr.with("ev-shield", &[("reason", reason)]),
        other => tr.with(
            "ev-other",
            &[(
                "what",
                &format!("{other:?}").chars().take(80).collect::<String>(),
            )],
        ),
    }
}

/// The route: every step reached, with its tasks and who signed for whom.
fn steps(s: &RtState, tr: Tr, d: &Document, skipped: &[String]) -> Vec<StepView> {
    let flow = s.deployment(d.version).and_then(|dep| dep.flow(&d.flow));
    let mut out = Vec::new();
    let count = flow.map_or(0, |f| f.steps.len());
    for i in 0..count.max(d.tasks.iter().map(|t| t.step + 1).max().unwrap_or(0)) {
        let name = flow
            .and_then(|f| f.steps.get(i))
            .map_or(format!("{}", i + 1), |st| st.name.clone());
        let tasks: Vec<_> = d.tasks.iter().filter(|t| t.step == i).collect();
        let lines: Vec<String> = if tasks.is_empty() {
            if skipped.contains(&name) {
                vec![tr.t("step-skipped")]
            } else {
                continue;
            }
        } else {
            tasks
                .iter()
                .map(|t| {
                    let what = match (&t.status, &t.decided_by) {
                        (TaskStatus::Signed, Some((by, Some(f)))) => tr.with(
                            "task-signed-for",
                            &[("by", &name_of(s, by)), ("for", &name_of(s, f))],
                        ),
                        (TaskStatus::Signed, Some((by, None))) => {
                            tr.with("task-signed", &[("by", &name_of(s, by))])
                        }
                        (TaskStatus::Refused, Some((by, _))) => {
                            tr.with("task-refused", &[("by", &name_of(s, by))])
                        }
                        (TaskStatus::Cancelled, _) => tr.t("task-cancelled"),
                        _ => tr.with("task-open", &[("names", &names(s, &t.spec.assignees))]),
                    };
                    format!("{}: {what}", t.spec.role)
                })
                .collect()
        };
        out.push(StepView { name, lines });
    }
    out
}

/// What `me` is asked to do on `d`, if anything.
pub fn my_task(s: &RtState, tr: Tr, d: &Document, person: &str) -> Option<String> {
    let t = d.task_for(person)?;
    Some(if t.spec.holders.iter().any(|h| h == person) {
        tr.with("task-asks-you", &[("role", &t.spec.role)])
    } else {
        tr.with(
            "task-asks-you-for",
            &[("role", &t.spec.role), ("name", &names(s, &t.spec.holders))],
        )
    })
}

/// Builds the page of document `id` for `me`, with the message of the last action.
pub fn render(s: &RtState, db: &FsPath, me: &Me, id: &str, flash: Option<String>) -> Response {
    if !may_see(s, &me.person, id) {
        return not_found(me.lang, Some(me));
    }
    let Some(d) = s.documents.get(id) else {
        return not_found(me.lang, Some(me));
    };
    let tr = Tr(me.lang);
    let history = paraaf_runtime::store::read_events(db, &d.events).unwrap_or_default();
    let skipped: Vec<String> = history
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::StepSkipped { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    // Shown only when `me` may read it through this document (see `contents::for_reader`).
    let has_content = paraaf_runtime::contents::readable(s, db, &me.person, d).unwrap_or(false);
    let mut page = Page::new(
        me.lang,
        Some(me),
        d.title.clone(),
        "",
        &format!("/app/documents/{id}"),
    );
    page.flash = flash;
    let view = DocumentPage {
        id: d.id.clone(),
        title: d.title.clone(),
        kind: d.kind.clone(),
        status: d.status.as_str().to_string(),
        status_label: tr.t(&format!("status-{}", d.status.as_str())),
        uploader: name_of(s, &d.uploader),
        has_content,
        content_title: tr.with("doc-content-frame", &[("title", &d.title)]),
        no_content: tr.with("doc-no-content", &[("sha", &d.content_sha256)]),
        fields: d
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), shown(s, v)))
            .collect(),
        steps: steps(s, tr, d, &skipped),
        comments: d
            .comments
            .iter()
            .map(|(who, text)| (name_of(s, who), text.clone()))
            .collect(),
        history: history
            .iter()
            .filter(|(_, _, e)| !matches!(e, Event::SnapshotTaken { .. }))
            .map(|(_, at, e)| {
                let shown = local_time(at);
                (at.clone(), shown, event_text(s, tr, e))
            })
            .collect(),
        my_task: my_task(s, tr, d, &me.person),
        page,
    };
    template(200, &view)
}

/// `GET /app/documents/{id}`.
pub async fn page(State(st): State<WebState>, me: Me, Path(id): Path<String>) -> Response {
    let db = st.config.db.clone();
    let flash = st.sessions.take_flash(&me.sid);
    on_state(&st, move |s| render(s, &db, &me, &id, flash)).await
}

/// `GET /app/documents/{id}/content`: the PDF, shown inside the app's page only; read
/// through the document, as `contents::for_reader` allows (404 otherwise, as for a
/// missing document).
pub async fn content(State(st): State<WebState>, me: Me, Path(id): Path<String>) -> Response {
    let db = st.config.db.clone();
    on_state(&st, move |s| {
        if !may_see(s, &me.person, &id) {
            return not_found(me.lang, Some(&me));
        }
        let Some(d) = s.documents.get(&id) else {
            return not_found(me.lang, Some(&me));
        };
        match paraaf_runtime::contents::for_reader(s, &db, &me.person, &id) {
            Ok(Some((media_type, body))) => (
                [
                    (header::CONTENT_TYPE, media_type),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("inline; filename=\"{}.pdf\"", d.id),
                    ),
                    (
                        header::CONTENT_SECURITY_POLICY,
                        crate::security::CONTENT_CSP.to_string(),
                    ),
                    (header::X_FRAME_OPTIONS, "SAMEORIGIN".to_string()),
                ],
                body,
            )
                .into_response(),
            Ok(None) => not_found(me.lang, Some(&me)),
            Err(e) => {
                tracing::error!(doc = %d.id, error = %e, "content refused");
                crate::render::error(
                    me.lang,
                    Some(&me),
                    500,
                    Tr(me.lang).with("error-content-tampered", &[("sha", &d.content_sha256)]),
                )
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_shown_in_brussels() {
        assert_eq!(
            super::local_time("2026-12-02T09:30:00Z"),
            "02/12/2026 10:30"
        );
        assert_eq!(
            super::local_time("2026-07-01T09:30:00.123456Z"),
            "01/07/2026 11:30"
        );
        assert_eq!(super::local_time("not a time"), "not a time");
    }
}
