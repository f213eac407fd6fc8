//! My settings: how I am told by e-mail of new tasks, reminders and returned documents
//! (a daily digest, a mail per event, or none). The choice is an event, written through
//! the writer like every action, after a confirmation.

use super::actions::{ConfirmPage, done_then, run};
use crate::WebState;
use crate::auth::{Me, form_ok};
use crate::i18n::Tr;
use crate::render::{Page, forbidden_form, refused, template};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum_extra::extract::Form;
use paraaf_runtime::api::Answer;
use paraaf_runtime::engine::NotifyMode;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    page: Page,
    /// (value, label, chosen) per choice.
    choices: Vec<(&'static str, String, bool)>,
}

/// The choices, in the order shown, with their message keys.
const CHOICES: [(&str, NotifyMode, &str); 3] = [
    ("digest", NotifyMode::Digest, "settings-digest"),
    ("immediate", NotifyMode::Immediate, "settings-immediate"),
    ("nothing", NotifyMode::Nothing, "settings-nothing"),
];

/// `GET /app/settings`.
pub async fn page(State(st): State<WebState>, me: Me) -> Response {
    let flash = st.sessions.take_flash(&me.sid);
    let tr = Tr(me.lang);
    let mode = st
        .writer
        .committed()
        .notify
        .get(&me.person)
        .copied()
        .unwrap_or_default();
    let mut page = Page::new(
        me.lang,
        Some(&me),
        tr.t("settings-title"),
        "settings",
        "/app/settings",
    );
    page.flash = flash;
    let view = SettingsPage {
        page,
        choices: CHOICES
            .iter()
            .map(|(value, m, key)| (*value, tr.t(key), *m == mode))
            .collect(),
    };
    template(200, &view)
}

/// The settings form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    csrf: String,
    confirm: String,
    idem: String,
    mail: String,
}

/// `POST /app/settings`: confirm, then record the choice.
pub async fn save(
    State(st): State<WebState>,
    me: Me,
    method: Method,
    headers: HeaderMap,
    Form(f): Form<SettingsForm>,
) -> Response {
    if !form_ok(&st, &me, &method, &headers, &f.csrf) {
        return forbidden_form(&me);
    }
    let tr = Tr(me.lang);
    let Some((value, mode, key)) = CHOICES.iter().find(|(v, _, _)| *v == f.mail) else {
        return refused(
            &me,
            422,
            &serde_json::json!({"detail": tr.t("settings-invalid")}).to_string(),
        );
    };
    if f.confirm != "yes" {
        let mut c = ConfirmPage::new(
            &me,
            tr.with("settings-confirm", &[("choice", &tr.t(key))]),
            "/app/settings".into(),
            "/app/settings".into(),
        );
        c.hidden.push(("mail".into(), value.to_string()));
        return template(200, &c);
    }
    let who = me.person.clone();
    let mode = *mode;
    match run(
        &st,
        &me,
        &f.idem,
        &format!("settings mail {value}"),
        Box::new(move |em| {
            em.choose_notifications(&who, mode)?;
            Ok(Answer {
                status: 200,
                body: "{}".into(),
            })
        }),
    )
    .await
    {
        Ok(_) => done_then(&st, &me, tr.t("settings-done"), "/app/settings"),
        Err(page) => page,
    }
}
