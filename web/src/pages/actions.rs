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

fn ok() -> Answer {
    Answer {
        status: 200,
        body: "{}".into(),
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
    if f.confirm != "yes" {
        return on_state(&st, move |s| {
            let tr = Tr(me.lang);
            let Some(d) = s.documents.get(&id).filter(|_| may_see(s, &me.person, &id)) else {
                return not_found(me.lang, Some(&me));
            };
            let Some(task) = my_task(s, tr, d, &me.person) else {
                return refused(
                    &me,
                    409,
                    &serde_json::json!({"detail": tr.t("no-task")}).to_string(),
                );
            };
            let mut c = ConfirmPage::new(
                &me,
                tr.with("confirm-sign", &[("title", &d.title)]),
                format!("/app/documents/{id}/sign"),
                format!("/app/documents/{id}"),
            );
            c.details.push(task);
            template(200, &c)
        })
        .await;
    }
    let (doc, who) = (id.clone(), me.person.clone());
    match run(
        &st,
        &me,
        &f.idem,
        &format!("sign {id}"),
        Box::new(move |em| {
            em.sign(&doc, &who)?;
            Ok(ok())
        }),
    )
    .await
    {
        Ok(_) => {
            let title = title_of(&st, &id);
            st.sessions.set_flash(
                &me.sid,
                Tr(me.lang).with("done-signed", &[("title", &title)]),
            );
            Redirect::to("/app").into_response()
        }
        Err(page) => page,
    }
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
    let tr = Tr(me.lang);
    let reason = match typed(&me, &f.reason, "reason-missing") {
        Ok(r) => r,
        Err(page) => return page,
    };
    if f.confirm != "yes" {
        return on_state(&st, move |s| {
            let Some(d) = s.documents.get(&id).filter(|_| may_see(s, &me.person, &id)) else {
                return not_found(me.lang, Some(&me));
            };
            if my_task(s, tr, d, &me.person).is_none() {
                return refused(
                    &me,
                    409,
                    &serde_json::json!({"detail": tr.t("no-task")}).to_string(),
                );
            }
            let mut c = ConfirmPage::new(
                &me,
                tr.with("confirm-refuse", &[("title", &d.title)]),
                format!("/app/documents/{id}/refuse"),
                format!("/app/documents/{id}"),
            );
            c.details
                .push(tr.with("confirm-reason", &[("reason", &reason)]));
            c.hidden.push(("reason".into(), reason));
            template(200, &c)
        })
        .await;
    }
    let (doc, who) = (id.clone(), me.person.clone());
    match run(
        &st,
        &me,
        &f.idem,
        &format!("refuse {id}"),
        Box::new(move |em| {
            em.refuse(&doc, &who, &reason)?;
            Ok(ok())
        }),
    )
    .await
    {
        Ok(_) => {
            let title = title_of(&st, &id);
            st.sessions.set_flash(
                &me.sid,
                Tr(me.lang).with("done-refused", &[("title", &title)]),
            );
            Redirect::to("/app").into_response()
        }
        Err(page) => page,
    }
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
    let tr = Tr(me.lang);
    let text = match typed(&me, &f.text, "text-missing") {
        Ok(t) => t,
        Err(page) => return page,
    };
    if f.confirm != "yes" {
        return on_state(&st, move |s| {
            let Some(d) = s.documents.get(&id).filter(|_| may_see(s, &me.person, &id)) else {
                return not_found(me.lang, Some(&me));
            };
            let mut c = ConfirmPage::new(
                &me,
                tr.with("confirm-comment", &[("title", &d.title)]),
                format!("/app/documents/{id}/comment"),
                format!("/app/documents/{id}"),
            );
            c.details.push(text.clone());
            c.hidden.push(("text".into(), text));
            template(200, &c)
        })
        .await;
    }
    let (doc, who) = (id.clone(), me.person.clone());
    match run(
        &st,
        &me,
        &f.idem,
        &format!("comment {id}"),
        Box::new(move |em| {
            em.comment(&doc, &who, &text)?;
            Ok(ok())
        }),
    )
    .await
    {
        Ok(_) => {
            st.sessions
                .set_flash(&me.sid, Tr(me.lang).t("done-comment"));
            Redirect::to(&format!("/app/documents/{}", crate::render::encode(&id))).into_response()
        }
        Err(page) => page,
    }
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
                        failed.push((title, e.to_string()));
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
                                    ("reason", x[1].as_str().unwrap_or("")),
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
            st.sessions.set_flash(&me.sid, message);
            Redirect::to("/app").into_response()
        }
        Err(page) => page,
    }
}
