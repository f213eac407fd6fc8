//! One document: its content (the PDF inline), fields, route with who signed for whom,
//! comments and its history from the audit log — all only when `may_see` allows, and a
//! 404 exactly like a missing document otherwise (also for the content's own URL).

use super::{name_of, on_state, role_of};
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
    /// The seal's line with its download link (when sealed and readable), else empty.
    sealed: String,
    /// Completed and readable, its seal still to be made.
    seal_waits: bool,
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

/// A field's value as shown: the name of an organogram id (a unit, a person), an
/// amount of money in euro for a `money` field, or the text.
fn shown(s: &RtState, tr: Tr, d: &Document, field: &str, v: &serde_json::Value) -> String {
    let ty = s.deployment(d.version).and_then(|dep| {
        dep.project
            .documents
            .iter()
            .find(|k| k.name == d.kind)?
            .fields
            .iter()
            .find(|f| f.name == field)
            .map(|f| f.ty.clone())
    });
    let text = match v {
        serde_json::Value::String(t) => t.clone(),
        other => other.to_string(),
    };
    if ty.as_deref() == Some("money")
        && let Some(m) = crate::format::money(&text, tr.0)
    {
        return m;
    }
    name_of(s, &text)
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

/// A reason the runtime wrote in English into the log (ids and all): shown as it is in
/// English, and in another language as what `key` says in that language.
fn recorded(tr: Tr, reason: &str, key: &str) -> String {
    if tr.0 == crate::i18n::Lang::En {
        reason.to_string()
    } else {
        tr.t(key)
    }
}

/// Why a task moved, as a message key: the manual queue, else a change of the organogram.
fn moved_key(reason: &str) -> &'static str {
    if reason.starts_with("assigned from the manual queue") {
        "reason-moved-queue"
    } else {
        "reason-moved-organogram"
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
            &[
                ("names", &names(s, assignees)),
                ("reason", &recorded(tr, reason, moved_key(reason))),
            ],
        ),
        Event::Escalated { to, .. } => tr.with("ev-escalated", &[("names", &names(s, to))]),
        Event::EscalationUnreached { reason, .. } => tr.with(
            "ev-escalation-waits",
            &[(
                "reason",
                &recorded(tr, reason, "reason-escalation-unreached"),
            )],
        ),
        Event::Reminded { .. } => tr.t("ev-reminded"),
        Event::TasksCancelled { .. } => tr.t("ev-cancelled"),
        Event::DocumentCompleted { .. } => tr.t("ev-completed"),
        Event::DocumentReturned { .. } => tr.t("ev-returned"),
        Event::DocumentStopped { .. } => tr.t("ev-stopped"),
        Event::ShieldRefused { reason, .. } => tr.with(
            "ev-shield",
            &[("reason", &recorded(tr, reason, "reason-shield"))],
        ),
        Event::FilesHandedOver {
            from, to, fields, ..
        } => tr.with(
            "ev-handed-over",
            &[
                ("from", &n(from)),
                ("to", &n(to)),
                ("fields", &fields.join(", ")),
            ],
        ),
        Event::DocumentSealed { code, .. } => tr.with("ev-sealed", &[("code", code)]),
        Event::InvoiceImported { .. } => tr.t("ev-invoice-imported"),
        Event::InvoiceDecided { by, reason, .. } => {
            tr.with("ev-invoice-decided", &[("by", &n(by)), ("reason", reason)])
        }
        // Events without a document never reach a document's history; should one be
        // added without words here, it reads as a change, never as ids or field dumps.
        _ => tr.t("ev-other"),
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
                    format!("{}: {what}", role_of(s, &t.spec.role))
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
        tr.with("task-asks-you", &[("role", &role_of(s, &t.spec.role))])
    } else {
        tr.with(
            "task-asks-you-for",
            &[
                ("role", &role_of(s, &t.spec.role)),
                ("name", &names(s, &t.spec.holders)),
            ],
        )
    })
}

/// Builds the page of document `id` for `me`, with the message of the last action. Its
/// history is shown only as far as it verifies against `trust` (the writer's head and
/// signed checkpoints, see `paraaf_runtime::trusted_history`); otherwise a message.
pub fn render(
    s: &RtState,
    db: &paraaf_runtime::reads::Reads,
    trust: &paraaf_runtime::trusted_history::Trust,
    me: &Me,
    id: &str,
    flash: Option<String>,
) -> Response {
    if !may_see(s, &me.person, id) {
        return not_found(me.lang, Some(me));
    }
    let Some(d) = s.documents.get(id) else {
        return not_found(me.lang, Some(me));
    };
    let tr = Tr(me.lang);
    let verified = paraaf_runtime::trusted_history::read_events(db, &d.events, trust);
    let withheld = verified.is_err();
    let history = verified.unwrap_or_default();
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
        kind: super::kind_of(s, d.version, &d.kind),
        status: d.status.as_str().to_string(),
        status_label: tr.t(&format!("status-{}", d.status.as_str())),
        uploader: name_of(s, &d.uploader),
        has_content,
        content_title: tr.with("doc-content-frame", &[("title", &d.title)]),
        no_content: tr.with("doc-no-content", &[("sha", &d.content_sha256)]),
        sealed: match &d.sealed {
            Some(seal) if has_content => tr.with("doc-sealed-download", &[("code", &seal.code)]),
            _ => String::new(),
        },
        seal_waits: has_content
            && d.sealed.is_none()
            && d.status == paraaf_runtime::engine::Status::Completed,
        fields: d
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), shown(s, tr, d, k, v)))
            .collect(),
        steps: steps(s, tr, d, &skipped),
        comments: d
            .comments
            .iter()
            .map(|(who, text)| (name_of(s, who), text.clone()))
            .collect(),
        history: if withheld {
            vec![(String::new(), String::new(), tr.t("doc-history-withheld"))]
        } else {
            history
                .iter()
                .filter(|(_, _, e)| !matches!(e, Event::SnapshotTaken { .. }))
                .map(|(_, at, e)| {
                    let shown = local_time(at);
                    (at.clone(), shown, event_text(s, tr, e))
                })
                .collect()
        },
        my_task: my_task(s, tr, d, &me.person),
        page,
    };
    template(200, &view)
}

/// `GET /app/documents/{id}`.
pub async fn page(State(st): State<WebState>, me: Me, Path(id): Path<String>) -> Response {
    let db = st.config.db.clone();
    let trust = st.writer.history_trust();
    let flash = st.sessions.take_flash(&me.sid);
    on_state(&st, move |s| render(s, &db, &trust, &me, &id, flash)).await
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
                    (header::CONTENT_TYPE, with_charset(&media_type)),
                    (
                        header::CONTENT_DISPOSITION,
                        disposition(&d.title, &media_type),
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

/// The media type as sent, with `charset=utf-8` for text (the runtime keeps text as
/// UTF-8; without it a browser guesses, and guesses wrong for "é").
fn with_charset(media_type: &str) -> String {
    if media_type.starts_with("text/") && !media_type.contains("charset") {
        format!("{media_type}; charset=utf-8")
    } else {
        media_type.to_string()
    }
}

/// `inline` with a file name after the document's title and the content's extension
/// (`Aankoop laptops.pdf`): an ASCII `filename` for old clients and the title itself in
/// `filename*` (RFC 6266).
fn disposition(title: &str, media_type: &str) -> String {
    let ext = match media_type.split(';').next().unwrap_or("").trim() {
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        "text/html" => "html",
        "application/xml" | "text/xml" => "xml",
        "application/json" => "json",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        _ => "bin",
    };
    let clean: String = title
        .chars()
        .map(|c| {
            if c.is_control() || "\\/:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .take(120)
        .collect();
    let clean = clean.trim();
    let clean = if clean.is_empty() { "document" } else { clean };
    let ascii: String = clean
        .chars()
        .map(|c| if c.is_ascii() && c != '%' { c } else { '_' })
        .collect();
    let encoded = crate::render::encode(&format!("{clean}.{ext}")).replace('/', "%2F");
    format!("inline; filename=\"{ascii}.{ext}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use crate::i18n::{Lang, Tr};
    use paraaf_runtime::engine::{Event, State};

    #[test]
    fn the_runtimes_english_reasons_are_said_in_dutch() {
        let s = State::default();
        let moved = Event::TaskMoved {
            doc: "d-1".into(),
            task: "t-1".into(),
            holders: vec!["eline-dubois".into()],
            assignees: vec!["eline-dubois".into()],
            role: None,
            reason: "organogram version 2: diensthoofd of bevolking is now held by eline-dubois (was dirk-lambert)".into(),
            assigned: vec![],
        };
        let nl = super::event_text(&s, Tr(Lang::Nl), &moved);
        assert_eq!(
            nl,
            "Verplaatst naar eline-dubois (na een wijziging van het organogram)"
        );
        let en = super::event_text(&s, Tr(Lang::En), &moved);
        assert!(en.contains("is now held by eline-dubois"), "{en}");
        let queue = Event::TaskMoved {
            doc: "d-1".into(),
            task: "t-1".into(),
            holders: vec![],
            assignees: vec!["jan-cools".into()],
            role: None,
            reason: "assigned from the manual queue to jan-cools by tom-bollen: verlof".into(),
            assigned: vec!["jan-cools".into()],
        };
        assert!(
            super::event_text(&s, Tr(Lang::Nl), &queue).contains("manuele wachtrij"),
            "{}",
            super::event_text(&s, Tr(Lang::Nl), &queue)
        );
        let waits = Event::EscalationUnreached {
            doc: "d-1".into(),
            task: "t-1".into(),
            reason: "the escalation to algemeen-directeur found nobody".into(),
        };
        let nl = super::event_text(&s, Tr(Lang::Nl), &waits);
        assert!(
            nl.starts_with("Escalatie wacht: niemand heeft nu de rol"),
            "{nl}"
        );
        assert!(!nl.contains("found nobody"), "{nl}");
    }

    #[test]
    fn every_event_of_a_document_is_said_in_words_never_as_a_dump() {
        let s = State::default();
        let handed = Event::FilesHandedOver {
            doc: "d-1".into(),
            from: "jan-cools".into(),
            to: "tom-nowak".into(),
            fields: vec!["medewerker".into()],
            reason: "Tom Nowak neemt over".into(),
        };
        assert_eq!(
            super::event_text(&s, Tr(Lang::Nl), &handed),
            "Overgedragen van jan-cools aan tom-nowak (medewerker)"
        );
        assert_eq!(
            super::event_text(&s, Tr(Lang::En), &handed),
            "Handed over from jan-cools to tom-nowak (medewerker)"
        );
        let sealed = Event::DocumentSealed {
            doc: "d-1".into(),
            sha256: "ab".repeat(32),
            code: "K7QF-3M9X-T2PA".into(),
            timestamped: true,
        };
        let nl = super::event_text(&s, Tr(Lang::Nl), &sealed);
        assert!(
            nl.contains("K7QF-3M9X-T2PA") && nl.starts_with("Verzegeld"),
            "{nl}"
        );
        assert!(!nl.contains("abab"), "{nl}");
        // Whatever event reaches a history, its words never show field names or ids.
        for e in [handed, sealed] {
            for lang in [Lang::Nl, Lang::En] {
                let text = super::event_text(&s, Tr(lang), &e);
                assert!(!text.contains('{') && !text.contains("doc:"), "{text}");
            }
        }
    }

    #[test]
    fn content_is_named_after_its_title() {
        assert_eq!(
            super::disposition("Aankoop laptops", "application/pdf"),
            "inline; filename=\"Aankoop laptops.pdf\"; filename*=UTF-8''Aankoop%20laptops.pdf"
        );
        assert_eq!(
            super::disposition("Café \"Zon\"/2026", "text/plain"),
            "inline; filename=\"Caf_ _Zon__2026.txt\"; filename*=UTF-8''Caf%C3%A9%20_Zon__2026.txt"
        );
        assert_eq!(
            super::with_charset("text/plain"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(super::with_charset("application/pdf"), "application/pdf");
    }

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
