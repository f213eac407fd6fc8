//! The inbox: my open tasks, including those I hold as a substitute ("voor …"), with
//! filters by kind, service, deadline and text, and paging. Built from the runtime's
//! `inbox`, which asks `may_see` for every document.

use super::{kind_of, name_of, on_state, page_number, role_of};
use crate::WebState;
use crate::auth::Me;
use crate::i18n::Tr;
use crate::render::{Page, template};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use paraaf_runtime::engine::{State as RtState, TaskStatus};
use paraaf_runtime::visibility::inbox;
use paraaf_runtime::workdays::Calendar;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Tasks per page.
pub const PER_PAGE: usize = 25;

/// One row of the inbox.
pub struct Row {
    id: String,
    title: String,
    kind: String,
    role: String,
    on_behalf: Option<String>,
    due: String,
    /// "Te laat" when the deadline has passed (said in words, not only in colour).
    overdue: Option<String>,
    select_label: String,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    page: Page,
    /// (kind, the name people read, selected)
    kinds: Vec<(String, String, bool)>,
    units: Vec<(String, String, bool)>,
    due: String,
    q: String,
    count_label: String,
    rows: Vec<Row>,
    pages: usize,
    page_label: String,
    prev: Option<String>,
    next: Option<String>,
}

/// Filters and paging.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct InboxQuery {
    /// Only this kind.
    pub kind: String,
    /// Only documents of this service (a unit in one of their fields).
    pub unit: String,
    /// `overdue` or `week`.
    pub due: String,
    /// Text in the title, kind or id.
    pub q: String,
    /// Page number.
    pub page: Option<String>,
}

fn due_of(
    s: &RtState,
    cal: &Calendar,
    doc: &paraaf_runtime::engine::Document,
    person: &str,
) -> Option<DateTime<Utc>> {
    let deadline = s
        .deployment(doc.version)?
        .flow(&doc.flow)?
        .deadline
        .as_ref()?;
    let task = doc
        .tasks
        .iter()
        .find(|t| t.status == TaskStatus::Open && t.spec.assignees.iter().any(|a| a == person))?;
    Some(cal.after(task.opened_at, &deadline.remind_after))
}

/// A moment as the day it is in Brussels: `03/12/2026`.
pub fn brussels_day(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Brussels)
        .format("%d/%m/%Y")
        .to_string()
}

fn link(q: &InboxQuery, page: usize) -> String {
    let mut parts = vec![];
    for (k, v) in [
        ("kind", &q.kind),
        ("unit", &q.unit),
        ("due", &q.due),
        ("q", &q.q),
    ] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", crate::render::encode(v)));
        }
    }
    parts.push(format!("page={page}"));
    format!("/app?{}", parts.join("&"))
}

/// Builds the inbox page of `me`, with the message of the last action.
pub fn render(
    s: &RtState,
    cal: &Calendar,
    now: DateTime<Utc>,
    me: &Me,
    q: &InboxQuery,
    flash: Option<String>,
) -> Response {
    let tr = Tr(me.lang);
    let org = s.current().map(|(_, d)| d.org.clone());
    let is_unit = |v: &str| org.as_ref().is_some_and(|o| o.is_unit(v));
    let items = inbox(s, &me.person);
    let mut kinds = BTreeSet::new();
    let mut units = BTreeMap::new();
    let needle = q.q.to_lowercase();
    let mut rows = Vec::new();
    let mut order = Vec::new();
    for i in &items {
        let d = i.doc;
        kinds.insert((d.kind.clone(), kind_of(s, d.version, &d.kind)));
        let doc_units: Vec<&str> = d
            .fields
            .values()
            .filter_map(|v| v.as_str())
            .filter(|v| is_unit(v))
            .collect();
        for u in &doc_units {
            units.entry(u.to_string()).or_insert_with(|| name_of(s, u));
        }
        let due = due_of(s, cal, d, &me.person);
        let keep = (q.kind.is_empty() || d.kind == q.kind)
            && (q.unit.is_empty() || doc_units.contains(&q.unit.as_str()))
            && match q.due.as_str() {
                "overdue" => due.is_some_and(|t| t < now),
                "week" => due.is_some_and(|t| t < now + chrono::Duration::days(7)),
                _ => true,
            }
            && (needle.is_empty()
                || d.title.to_lowercase().contains(&needle)
                || d.kind.contains(&needle)
                || kind_of(s, d.version, &d.kind)
                    .to_lowercase()
                    .contains(&needle)
                || d.id.contains(&needle));
        if !keep {
            continue;
        }
        let on_behalf = i.on_behalf_of.as_ref().map(|holders| {
            let names: Vec<String> = holders.split(", ").map(|h| name_of(s, h)).collect();
            tr.with("on-behalf", &[("name", &names.join(", "))])
        });
        order.push((due.is_none(), due, d.submitted_at, d.id.len(), d.id.clone()));
        rows.push(Row {
            id: d.id.clone(),
            select_label: tr.with("select-doc", &[("title", &d.title)]),
            title: d.title.clone(),
            kind: kind_of(s, d.version, &d.kind),
            role: role_of(s, i.role),
            on_behalf,
            due: due.map_or("—".into(), brussels_day),
            overdue: due.is_some_and(|t| t < now).then(|| tr.t("due-overdue")),
        });
    }
    // Soonest deadline first, then in the order they were submitted.
    let mut keyed: Vec<_> = order.into_iter().zip(rows).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let rows: Vec<Row> = keyed.into_iter().map(|(_, r)| r).collect();
    let total = rows.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let p = page_number(q.page.as_deref()).min(pages);
    let rows: Vec<Row> = rows
        .into_iter()
        .skip((p - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    let mut page = Page::new(me.lang, Some(me), tr.t("inbox-title"), "inbox", "/app");
    page.flash = flash;
    let view = InboxPage {
        page,
        kinds: kinds
            .into_iter()
            .map(|(k, name)| {
                let selected = k == q.kind;
                (k, name, selected)
            })
            .collect(),
        units: units
            .into_iter()
            .map(|(id, name)| (id.clone(), name, id == q.unit))
            .collect(),
        due: q.due.clone(),
        q: q.q.clone(),
        count_label: tr.count("inbox-count", total),
        rows,
        pages,
        page_label: tr.with(
            "page-of",
            &[("page", &p.to_string()), ("pages", &pages.to_string())],
        ),
        prev: (p > 1).then(|| link(q, p - 1)),
        next: (p < pages).then(|| link(q, p + 1)),
    };
    template(200, &view)
}

/// `GET /app`: deadlines on the writer's clock (the engine's, `--now` included).
pub async fn page(State(st): State<WebState>, me: Me, Query(q): Query<InboxQuery>) -> Response {
    let cal = st.config.calendar.clone();
    let flash = st.sessions.take_flash(&me.sid);
    let now = st.writer.now();
    on_state(&st, move |s| render(s, &cal, now, &me, &q, flash)).await
}
