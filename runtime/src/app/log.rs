//! `paraaf log` as a service: the audit log as far as a person may see it (documents
//! they may see, their own absences, payments of invoices whose approval document they
//! may see), and every deployment. Entries are numbered 1, 2, 3, … in the order shown,
//! never by the log's global sequence: gaps in that would tell how many hidden events
//! happened in between.

use crate::Runtime;
use crate::engine::{Event, RuntimeError, ShieldWidened};
use crate::visibility::may_see;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// One entry shown.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// Its number among the entries shown to this reader (1, 2, 3, …).
    pub n: u64,
    /// When it was recorded.
    pub at: String,
    /// What happened.
    pub what: What,
}

/// What an entry records.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum What {
    /// A project version deployed.
    ProjectDeployed {
        /// Its version.
        version: u32,
        /// The SHA-256 of its compiled JSON.
        sha256: String,
    },
    /// An organogram version deployed, with the plan's renames and widened shields.
    OrganogramDeployed {
        /// Its version.
        version: u32,
        /// The SHA-256 of its JSON.
        sha256: String,
        /// Old id → new id.
        renames: BTreeMap<String, String>,
        /// Shielded groups widened, with the administrator's reason.
        shields_widened: Vec<ShieldWidened>,
    },
    /// Any other event, as logged (JSON).
    Event {
        /// The event's JSON as the log holds it.
        body: String,
    },
}

/// The log as `person` may see it, from `since` on (`None`: all of it). Only verified
/// history is shown: [`Runtime::history`] checks the events from the head the open
/// verified back to `since` (hash, link and the signed checkpoints), also before the
/// newest snapshot, so the cost is the range shown, not the whole log.
pub fn for_person(
    runtime: &Runtime,
    person: &str,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<Entry>, RuntimeError> {
    let state = runtime.state();
    let mut out = Vec::new();
    for (_, at, body) in runtime.history(since)? {
        let Ok(event) = serde_json::from_str::<Event>(&body) else {
            continue;
        };
        let what = match event {
            Event::ProjectDeployed {
                version, sha256, ..
            } => Some(What::ProjectDeployed { version, sha256 }),
            Event::OrganogramDeployed {
                version,
                sha256,
                renames,
                shields_widened,
                ..
            } => Some(What::OrganogramDeployed {
                version,
                sha256,
                renames,
                shields_widened,
            }),
            event => {
                let visible = match &event {
                    Event::AbsenceAdded { person: p, .. } => p == person,
                    Event::AbsenceWithdrawn { id, .. } => {
                        state.absences.get(id).is_none_or(|a| a.person == person)
                    }
                    // Finance: a debts check or payment is visible to whoever may see the
                    // invoice's approval document (the ordering service, the accounting
                    // unit).
                    Event::PaymentProposed { id, .. } => state
                        .invoices
                        .get(id)
                        .and_then(|i| i.doc.as_deref())
                        .is_some_and(|d| may_see(state, person, d)),
                    // A decision between documents under one invoice: to whoever may see
                    // the approval document of one of them.
                    Event::InvoiceDecided {
                        chosen,
                        not_payable,
                        ..
                    } => std::iter::once(chosen)
                        .chain(not_payable)
                        .filter_map(|id| state.invoices.get(id))
                        .filter_map(|i| i.doc.as_deref())
                        .any(|d| may_see(state, person, d)),
                    Event::DebtsChecked { invoice, .. } => state.invoices.values().any(|i| {
                        i.invoice.get("number").and_then(|n| n.as_str()) == Some(invoice.as_str())
                            && i.doc.as_deref().is_some_and(|d| may_see(state, person, d))
                    }),
                    other => other.doc().is_some_and(|d| may_see(state, person, d)),
                };
                visible.then_some(What::Event { body })
            }
        };
        if let Some(what) = what {
            out.push(Entry {
                n: out.len() as u64 + 1,
                at,
                what,
            });
        }
    }
    Ok(out)
}
