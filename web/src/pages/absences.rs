//! My absences: add or withdraw one (with a confirmation), and who takes over meanwhile
//! (the substitutes the flows declare for the roles I hold).

use super::actions::{ConfirmPage, done_then, run};
use super::{name_of, on_state, role_of};
use crate::WebState;
use crate::auth::{Me, form_ok};
use crate::i18n::Tr;
use crate::render::{Page, forbidden_form, refused, template};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum_extra::extract::Form;
use chrono::NaiveDate;
use paraaf_runtime::api::Answer;
use paraaf_runtime::engine::RuntimeError;
use paraaf_runtime::visibility::takes_over;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "absences.html")]
struct AbsencesPage {
    page: Page,
    absences: Vec<(String, String)>,
    takes_over: Vec<String>,
    today: String,
}

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// `GET /app/absences`.
pub async fn page(State(st): State<WebState>, me: Me) -> Response {
    let flash = st.sessions.take_flash(&me.sid);
    let now = st.writer.now();
    on_state(&st, move |s| {
        let tr = Tr(me.lang);
        let mut absences: Vec<(&String, &paraaf_runtime::engine::Absence)> = s
            .absences
            .iter()
            .filter(|(_, a)| a.person == me.person)
            .collect();
        absences.sort_by_key(|(_, a)| a.from);
        let over = takes_over(s, &me.person)
            .into_iter()
            .map(|(role, people)| {
                let role = role_of(s, &role);
                if people.is_empty() {
                    tr.with("takes-over-nobody", &[("role", &role)])
                } else {
                    let names: Vec<String> = people.iter().map(|p| name_of(s, p)).collect();
                    tr.with(
                        "takes-over",
                        &[("role", &role), ("names", &names.join(", "))],
                    )
                }
            })
            .collect();
        let mut page = Page::new(
            me.lang,
            Some(&me),
            tr.t("absences-title"),
            "absences",
            "/app/absences",
        );
        page.flash = flash;
        let view = AbsencesPage {
            page,
            absences: absences
                .into_iter()
                .map(|(id, a)| {
                    (
                        id.clone(),
                        tr.with(
                            "absence-period",
                            &[("from", &day(a.from)), ("to", &day(a.to))],
                        ),
                    )
                })
                .collect(),
            takes_over: over,
            today: now
                .with_timezone(&chrono_tz::Europe::Brussels)
                .date_naive()
                .to_string(),
        };
        template(200, &view)
    })
    .await
}

/// The absence form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AbsenceForm {
    csrf: String,
    confirm: String,
    idem: String,
    from: String,
    to: String,
}

/// `POST /app/absences`.
pub async fn add(
    State(st): State<WebState>,
    me: Me,
    method: Method,
    headers: HeaderMap,
    Form(f): Form<AbsenceForm>,
) -> Response {
    if !form_ok(&st, &me, &method, &headers, &f.csrf) {
        return forbidden_form(&me);
    }
    let tr = Tr(me.lang);
    let (Ok(from), Ok(to)) = (
        NaiveDate::parse_from_str(f.from.trim(), "%Y-%m-%d"),
        NaiveDate::parse_from_str(f.to.trim(), "%Y-%m-%d"),
    ) else {
        return refused(
            &me,
            422,
            &serde_json::json!({"detail": tr.t("dates-invalid")}).to_string(),
        );
    };
    use chrono::Datelike;
    if !(2000..=2100).contains(&from.year())
        || !(2000..=2100).contains(&to.year())
        || (to - from).num_days() >= 731
    {
        return refused(
            &me,
            422,
            &serde_json::json!({"detail": tr.t("dates-range")}).to_string(),
        );
    }
    if to < from {
        return refused(
            &me,
            422,
            &serde_json::json!({"detail": tr.t("dates-order")}).to_string(),
        );
    }
    if f.confirm != "yes" {
        let mut c = ConfirmPage::new(
            &me,
            tr.with("confirm-absence", &[("from", &day(from)), ("to", &day(to))]),
            "/app/absences".into(),
            "/app/absences".into(),
        );
        c.hidden.push(("from".into(), from.to_string()));
        c.hidden.push(("to".into(), to.to_string()));
        return template(200, &c);
    }
    let who = me.person.clone();
    match run(
        &st,
        &me,
        &f.idem,
        &format!("absence {from} {to}"),
        Box::new(move |em| {
            em.add_absence(&who, from, to)?;
            Ok(Answer {
                status: 200,
                body: "{}".into(),
            })
        }),
    )
    .await
    {
        Ok(_) => done_then(&st, &me, tr.t("done-absence"), "/app/absences"),
        Err(page) => page,
    }
}

/// `POST /app/absences/{id}/withdraw`: only one's own absence.
pub async fn withdraw(
    State(st): State<WebState>,
    me: Me,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    Form(f): Form<AbsenceForm>,
) -> Response {
    if !form_ok(&st, &me, &method, &headers, &f.csrf) {
        return forbidden_form(&me);
    }
    let tr = Tr(me.lang);
    if f.confirm != "yes" {
        let s = st.writer.committed();
        let Some(a) = s.absences.get(&id).filter(|a| a.person == me.person) else {
            return crate::render::not_found(me.lang, Some(&me));
        };
        let c = ConfirmPage::new(
            &me,
            tr.with(
                "confirm-withdraw",
                &[("from", &day(a.from)), ("to", &day(a.to))],
            ),
            format!("/app/absences/{id}/withdraw"),
            "/app/absences".into(),
        );
        return template(200, &c);
    }
    let who = me.person.clone();
    let absence = id.clone();
    match run(
        &st,
        &me,
        &f.idem,
        &format!("withdraw {id}"),
        Box::new(move |em| {
            // Someone else's absence is as unknown as a missing one.
            if em
                .state
                .absences
                .get(&absence)
                .is_none_or(|a| a.person != who)
            {
                return Err(RuntimeError::NotFound);
            }
            em.withdraw_absence(&absence)?;
            Ok(Answer {
                status: 200,
                body: "{}".into(),
            })
        }),
    )
    .await
    {
        Ok(_) => done_then(&st, &me, tr.t("done-withdrawn"), "/app/absences"),
        Err(page) => page,
    }
}
