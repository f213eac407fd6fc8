//! Signing, refusing, commenting and bulk signing: each a form that first shows a
//! confirmation, then runs the same command as the JSON API through the writer (with an
//! idempotency key per confirmation, so a double click signs once).

use super::document::my_task;
use super::on_state;
use crate::WebState;
use crate::auth::{Me, form_ok};
use crate::i18n::Tr;
use crate::render::{Page, forbidden_form, not_found, refused, template};
use crate::session::random_token;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use paraaf_runtime::api::{Answer, Command, Write};
use paraaf_runtime::engine::{Emitter, RuntimeError};
use paraaf_runtime::visibility::may_see;
use serde::Deserialize;

/// The confirmation of an action: the question, details, and the form that does it.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    /// Frame.
    pub page: Page,
    /// "Wilt u … ondertekenen?"
    pub question: String,
    /// What else to know (for whom one signs, the reason).
    pub details: Vec<String>,
    /// Where the confirmed form goes.
    pub action: String,
    /// The form's fields, carried over.
    pub hidden: Vec<(String, String)>,
    /// Back without doing anything.
    pub cancel: String,
    /// Idempotency key of this confirmation.
    pub idem: String,
}

impl ConfirmPage {
    /// A confirmation for `me`.
    pub fn new(me: &Me, question: String, action: String, cancel: String) -> ConfirmPage {
        ConfirmPage {
            page: Page::new(
                me.lang,
                Some(me),
                Tr(me.lang).t("confirm-title"),
                "",
                &action,
            ),
            question,
            details: Vec::new(),
            action,
            hidden: Vec::new(),
            cancel,
            idem: random_token(),
        }
    }
}

/// A form of an action.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActForm {
    csrf: String,
    confirm: String,
    idem: String,
    reason: String,
    text: String,
    doc: Vec<String>,
}

/// Runs `command` for `me` through the writer; a refused command becomes its error page.
pub async fn run(
    st: &WebState,
    me: &Me,
    idem: &str,
    what: &str,
    command: Command,
) -> Result<Answer, Response> {
    let idempotency = (!idem.is_empty() && idem.len() <= 128).then(|| {
        (
            idem.to_string(),
            paraaf_runtime::sha256_hex(format!("web {what}").as_bytes()),
        )
    });
    let a = st
        .writer
        .write(Write {
            person: me.person.clone(),
            idempotency,
            command,
        })
        .await;
    if (200..300).contains(&a.status) {
        Ok(a)
    } else {
        Err(refused(me, a.status, &a.body))
    }
}

/// Most documents signed in one go.
pub const MAX_BULK: usize = 500;

/// The title of `id` after the person acted on it (they may see it).
fn title_of(st: &WebState, id: &str) -> String {
    st.writer
        .committed()
        .documents
        .get(id)
        .map_or_else(|| shown_id(id), |d| d.title.clone())
}

/// An id from a form, as it may be shown back: only id characters, at most 40.
fn shown_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect()
}

/// A reason or comment as typed, checked before the confirmation (with the runtime's
/// own rule, in the interface language): line breaks as LF, trimmed.
#[allow(clippy::result_large_err)] // the error is the page to show, built once
fn typed(me: &Me, text: &str, missing: &str) -> Result<String, Response> {
    let tr = Tr(me.lang);
    let text = text.replace("\r\n", "\n").trim().to_string();
    let problem = |key: &str| {
        refused(
            me,
            422,
            &serde_json::json!({"detail": tr.with(key, &[("max", &paraaf_runtime::engine::text::MAX_NOTE.to_string())])})
                .to_string(),
        )
    };
    if text.is_empty() {
        return Err(problem(missing));
    }
    if text.chars().count() > paraaf_runtime::engine::text::MAX_NOTE {
        return Err(problem("note-too-long"));
    }
    if paraaf_runtime::engine::text::check_note("", &text).is_err() {
        return Err(problem("note-characters"));
    }
    Ok(text)
}

/// After an action: the message for the next page (kept in the session), and there.
pub fn done_then(st: &WebState, me: &Me, message: String, to: &str) -> Response {
    st.sessions.set_flash(&me.sid, message);
    Redirect::to(to).into_response()
}

fn ok() -> Answer {
    Answer {
        status: 200,
        body: "{}".into(),
    }
}

/// One action on one document: its confirmation, its command, what is said after.
struct DocAction {
    /// `sign`, `refuse`, `comment`: the path, and the scope of the idempotency key.
    verb: &'static str,
    /// Only for someone with an open task on the document (sign, refuse).
    needs_task: bool,
    /// The confirmation's question (a message with `title`).
    question: &'static str,
    /// More lines on the confirmation.
    details: Vec<String>,
    /// The form's fields carried over to the confirmed form.
    hidden: Vec<(String, String)>,
    /// The message after it (with `title`).
    done: &'static str,
    /// Back to the document after it (else to the inbox).
    back_to_document: bool,
}

/// Shows the confirmation of `action` on document `id`, or (confirmed) runs `command`
/// for `me` through the writer and says what was done.
async fn doc_action(
    st: WebState,
    me: Me,
    id: String,
    f: &ActForm,
    action: DocAction,
    command: impl FnOnce(&mut Emitter, &str, &str) -> Result<(), RuntimeError> + Send + 'static,
) -> Response {
    if f.confirm != "yes" {
        return on_state(&st, move |s| {
            let tr = Tr(me.lang);
            let Some(d) = s.documents.get(&id).filter(|_| may_see(s, &me.person, &id)) else {
                return not_found(me.lang, Some(&me));
            };
            let task = my_task(s, tr, d, &me.person);
            if action.needs_task && task.is_none() {
                let detail = serde_json::json!({"detail": tr.t("no-task")}).to_string();
                return refused(&me, 409, &detail);
            }
            let mut c = ConfirmPage::new(
                &me,
                tr.with(action.question, &[("title", &d.title)]),
                format!("/app/documents/{id}/{}", action.verb),
                format!("/app/documents/{id}"),
            );
            if action.needs_task {
                c.details.extend(task);
            }
            c.details.extend(action.details);
            c.hidden.extend(action.hidden);
            template(200, &c)
        })
        .await;
    }
    let (doc, who) = (id.clone(), me.person.clone());
    let scope = format!("{} {id}", action.verb);
    let done = run(
        &st,
        &me,
        &f.idem,
        &scope,
        Box::new(move |em| {
            command(em, &doc, &who)?;
            Ok(ok())
        }),
    )
    .await;
    match done {
        Ok(_) => {
            let title = title_of(&st, &id);
            let message = Tr(me.lang).with(action.done, &[("title", &title)]);
            let to = if action.back_to_document {
                format!("/app/documents/{}", crate::render::encode(&id))
            } else {
                "/app".to_string()
            };
            done_then(&st, &me, message, &to)
        }
        Err(page) => page,
    }
}

/// `POST /app/documents/{id}/sign`.
pub async fn sign(
    State(st): State<WebState>,
    me: Me,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    Form(f): Form<ActForm>,
) -> Response {
    if !form_ok(&st, &me, &method, &headers, &f.csrf) {
        return forbidden_form(&me);
    }
    let action = DocAction {
        verb: "sign",
        needs_task: true,
        question: "confirm-sign",
        details: Vec::new(),
        hidden: Vec::new(),
        done: "done-signed",
        back_to_document: false,
    };
    doc_action(st, me, id, &f, action, |em, doc, who| em.sign(doc, who)).await
}

/// `POST /app/documents/{id}/refuse` (with `reason`).
pub async fn refuse(
    State(st): State<WebState>,
    me: Me,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    Form(f): Form<ActForm>,
) -> Response {
    if !form_ok(&st, &me, &method, &headers, &f.csrf) {
        return forbidden_form(&me);
    }
    let reason = match typed(&me, &f.reason, "reason-missing") {
        Ok(r) => r,
        Err(page) => return page,
    };
    let action = DocAction {
        verb: "refuse",
        needs_task: true,
        question: "confirm-refuse",
        details: vec![Tr(me.lang).with("confirm-reason", &[("reason", &reason)])],
        hidden: vec![("reason".into(), reason.clone())],
        done: "done-refused",
        back_to_document: false,
    };
    doc_action(st, me, id, &f, action, move |em, doc, who| {
        em.refuse(doc, who, &reason)
    })
    .await
}

/// `POST /app/documents/{id}/comment` (with `text`).
pub async fn comment(
    State(st): State<WebState>,
    me: Me,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    Form(f): Form<ActForm>,
) -> Response {
    if !form_ok(&st, &me, &method, &headers, &f.csrf) {
        return forbidden_form(&me);
    }
    let text = match typed(&me, &f.text, "text-missing") {
        Ok(t) => t,
        Err(page) => return page,
    };
    let action = DocAction {
        verb: "comment",
        needs_task: false,
        question: "confirm-comment",
        details: vec![text.clone()],
        hidden: vec![("text".into(), text.clone())],
        done: "done-comment",
        back_to_document: true,
    };
    doc_action(st, me, id, &f, action, move |em, doc, who| {
        em.comment(doc, who, &text)
    })
    .await
}

/// `POST /app/bulk-sign` (with `doc` repeated): sign every selected task at once.
pub async fn bulk_sign(
    State(st): State<WebState>,
    me: Me,
    method: Method,
    headers: HeaderMap,
    Form(f): Form<ActForm>,
) -> Response {
    if !form_ok(&st, &me, &method, &headers, &f.csrf) {
        return forbidden_form(&me);
    }
    let tr = Tr(me.lang);
    let mut docs = f.doc.clone();
    docs.sort();
    docs.dedup();
    if docs.len() > MAX_BULK {
        return refused(
            &me,
            422,
            &serde_json::json!({"detail": tr.with("bulk-too-many", &[("max", &MAX_BULK.to_string())])})
                .to_string(),
        );
    }
    if docs.is_empty() {
        return refused(
            &me,
            422,
            &serde_json::json!({"detail": tr.t("bulk-none")}).to_string(),
        );
    }
    if f.confirm != "yes" {
        return on_state(&st, move |s| {
            // Only what the person may see is named; the rest is dropped silently, as
            // a guessed id must not tell whether it exists.
            let seen: Vec<&paraaf_runtime::engine::Document> = docs
                .iter()
                .filter(|id| may_see(s, &me.person, id))
                .filter_map(|id| s.documents.get(id).map(|d| d.as_ref()))
                .collect();
            if seen.is_empty() {
                return not_found(me.lang, Some(&me));
            }
            let mut c = ConfirmPage::new(
                &me,
                tr.count("confirm-bulk", seen.len()),
                "/app/bulk-sign".into(),
                "/app".into(),
            );
            for d in &seen {
                c.details.push(d.title.clone());
                c.hidden.push(("doc".into(), d.id.clone()));
            }
            template(200, &c)
        })
        .await;
    }
    let who = me.person.clone();
    let ids = docs.clone();
    let answer = run(
        &st,
        &me,
        &f.idem,
        &format!("bulk {}", docs.join(",")),
        Box::new(move |em| {
            // One commit for all; each signature is its own check (a task another signer
            // took meanwhile is reported, the others are signed).
            let mut signed = 0;
            let mut failed = Vec::new();
            for id in &ids {
                match em.sign(id, &who) {
                    Ok(()) => signed += 1,
                    Err(e) => {
                        let title = em
                            .state
                            .documents
                            .get(id)
                            .filter(|_| may_see(em.state, &who, id))
                            .map_or_else(|| shown_id(id), |d| d.title.clone());
                        // The code, not the runtime's English words: the page says
                        // it in the interface language.
                        let code = match e {
                            RuntimeError::Forbidden(_) => "forbidden",
                            RuntimeError::Conflict(_) => "conflict",
                            RuntimeError::NotFound => "not_found",
                            RuntimeError::Invalid(_) => "invalid",
                            _ => "storage",
                        };
                        failed.push((title, code));
                    }
                }
            }
            Ok(Answer {
                status: 200,
                body: serde_json::json!({"signed": signed, "failed": failed}).to_string(),
            })
        }),
    )
    .await;
    match answer {
        Ok(a) => {
            let v: serde_json::Value = serde_json::from_str(&a.body).unwrap_or_default();
            let signed = v["signed"].as_u64().unwrap_or(0) as usize;
            let failed: Vec<String> = v["failed"]
                .as_array()
                .map(|f| {
                    f.iter()
                        .map(|x| {
                            tr.with(
                                "bulk-failed",
                                &[
                                    ("title", x[0].as_str().unwrap_or("")),
                                    (
                                        "reason",
                                        &crate::render::problem_text(
                                            tr,
                                            x[1].as_str().unwrap_or(""),
                                        ),
                                    ),
                                ],
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut message = tr.count("done-bulk", signed);
            for f in failed {
                message.push(' ');
                message.push_str(&f);
            }
            done_then(&st, &me, message, "/app")
        }
        Err(page) => page,
    }
}
