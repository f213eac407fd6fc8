//! Deciding a conflict of the manual queue: another document arrived under an imported
//! invoice's identity (seller, number without case or separators, issue date, type), so
//! nothing under it is paid until a person names the document that is the invoice. The
//! others are recorded as not payable (`invoice_decided`, with who and why); a chosen
//! document that waited in the queue is matched to the purchase order with the rules in
//! force and its approval flow started.

use super::AppError;
use crate::Runtime;
use crate::engine::{Rematched, RuntimeError, State, Submission};
use crate::finance::imports::{self, Imported};
use crate::finance::{self, orders::PurchaseOrder};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeSet;

/// A person's decision.
#[derive(Clone, Debug)]
pub struct Decision<'a> {
    /// The queue item: a document of the conflict, by file name or the first characters
    /// of its id (at least 6).
    pub item: &'a str,
    /// The document that is the invoice, likewise (among the conflict's documents).
    pub invoice: &'a str,
    /// Who decides (a person in the organogram in force; also starts the approval flow).
    pub by: &'a str,
    /// Why (at least two words; recorded).
    pub reason: &'a str,
    /// Percent of partial and over-invoicing, as `finance run --tolerance`.
    pub tolerance: Decimal,
}

/// One document of a decided conflict.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Doc {
    /// Its id in the log.
    pub id: String,
    /// The file it came in.
    pub file: String,
    /// Its number as written.
    pub number: String,
    /// What it asks, VAT included.
    pub amount: Decimal,
}

/// What the decision recorded.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Decided {
    /// The supplier's name.
    pub supplier_name: String,
    /// The invoice.
    pub chosen: Doc,
    /// The documents recorded as not payable.
    pub not_payable: Vec<Doc>,
    /// The approval flow of the chosen document, when it has one.
    pub doc: Option<String>,
    /// Why the chosen document still waits in the manual queue, if it does.
    pub queue: Option<(String, String)>,
    /// The approval flows of documents declared not payable that were stopped.
    pub stopped: Vec<String>,
}

struct Entry {
    id: String,
    record: Imported,
    doc: Option<String>,
    order: Option<serde_json::Value>,
    paid: Option<chrono::NaiveDate>,
    /// An earlier decision declared it not payable.
    void: bool,
}

impl Entry {
    fn named(&self, name: &str) -> bool {
        self.record.invoice.file == name || (name.len() >= 6 && self.id.starts_with(name))
    }

    fn doc(&self) -> Doc {
        Doc {
            id: self.id.clone(),
            file: self.record.invoice.file.clone(),
            number: self.record.invoice.number.clone(),
            amount: self.record.invoice.amount,
        }
    }

    fn line(&self) -> String {
        let i = &self.record.invoice;
        format!(
            "{} {} {} ({}, {} EUR due)",
            &self.id[..self.id.len().min(12)],
            i.file,
            i.number,
            i.supplier_name,
            i.amount
        )
    }
}

fn entries(state: &State) -> Vec<Entry> {
    state
        .invoices
        .iter()
        .filter_map(|(id, i)| {
            Some(Entry {
                id: id.clone(),
                record: serde_json::from_value(i.invoice.clone()).ok()?,
                doc: i.doc.clone(),
                order: i.order.clone(),
                paid: i.paid.as_ref().map(|(d, _)| *d),
                void: i.not_payable(id),
            })
        })
        .collect()
}

fn one<'e>(found: Vec<&'e Entry>, none: String, what: &str) -> Result<&'e Entry, AppError> {
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(AppError::Input(none)),
        many => Err(AppError::Input(format!(
            "several documents are {what}; name one by the first characters of its id: {}",
            many.iter().map(|e| e.line()).collect::<Vec<_>>().join("; ")
        ))),
    }
}

/// Records `d` at `now`: the document it names is the invoice, the other documents under
/// its identity are not payable (their flows in progress stopped); a chosen document
/// that waited in the queue is matched and its approval flow started as `d.by`.
pub fn decide(
    runtime: &mut Runtime,
    now: DateTime<Utc>,
    d: &Decision<'_>,
) -> Result<Decided, AppError> {
    let state = runtime.state();
    let all = entries(state);
    let open = imports::open_conflicts(state);
    // The queue item: a document of an undecided conflict.
    let item = one(
        all.iter()
            .filter(|e| open.contains_key(&imports::key(&e.record.invoice)) && e.named(d.item))
            .collect(),
        format!(
            "no document called `{}` waits in the manual queue for a decision between documents under one invoice (`paraaf queue list` lists them)",
            d.item
        ),
        &format!("called `{}` in the manual queue", d.item),
    )?;
    let key = imports::key(&item.record.invoice);
    let group: Vec<&Entry> = all
        .iter()
        .filter(|e| imports::key(&e.record.invoice) == key)
        .collect();
    let listed = group
        .iter()
        .map(|e| e.line())
        .collect::<Vec<_>>()
        .join("; ");
    let chosen = one(
        group
            .iter()
            .copied()
            .filter(|e| e.named(d.invoice))
            .collect(),
        format!(
            "`{}` is none of the documents under this invoice: {listed}",
            d.invoice
        ),
        &format!("called `{}` under this invoice", d.invoice),
    )?;
    if let Some(paid) = group.iter().find(|e| e.id != chosen.id && e.paid.is_some()) {
        return Err(AppError::Input(format!(
            "{} ({}) was proposed for payment on {}: it is the invoice that was paid, so choose it (`--invoice {}`) and settle any difference with the supplier",
            paid.record.invoice.file,
            paid.record.invoice.number,
            paid.paid.map(|p| p.to_string()).unwrap_or_default(),
            paid.record.invoice.file
        )));
    }
    let others: Vec<&Entry> = group
        .iter()
        .copied()
        .filter(|e| e.id != chosen.id)
        .collect();
    // The chosen document waited in the queue as another document, or an earlier
    // decision stopped its flow: match it now, to its purchase order or the one another
    // document of the conflict was matched to, counting what every other invoice billed
    // on that order, and start its approval flow.
    let stopped_before = chosen.void
        && chosen
            .doc
            .as_ref()
            .and_then(|doc| state.documents.get(doc))
            .is_some_and(|doc| doc.status == crate::engine::Status::Stopped);
    let waited = chosen.doc.is_none() && imports::is_copy(&chosen.id, &chosen.record.invoice);
    let matched = if waited || stopped_before {
        let compiled = state
            .current()
            .map(|(_, dep)| dep.compiled.clone())
            .ok_or_else(|| AppError::Input("no project is deployed".into()))?;
        let orders: Vec<PurchaseOrder> = std::iter::once(chosen)
            .chain(others.iter().copied())
            .filter_map(|e| e.order.clone())
            .filter_map(|o| serde_json::from_value(o).ok())
            .take(1)
            .collect();
        let skip: BTreeSet<String> = group.iter().map(|e| e.id.clone()).collect();
        let history = imports::History::except(state, &skip);
        let inv = chosen.record.invoice.clone();
        let outcome = finance::match_invoices_after(
            &compiled,
            std::slice::from_ref(&inv),
            &orders,
            d.tolerance,
            &history,
        )
        .pop()
        .unwrap_or_default();
        Some((inv, outcome, orders, compiled))
    } else {
        None
    };
    let kinds: std::collections::BTreeMap<String, String> = matched
        .as_ref()
        .map(|(_, _, _, c)| {
            c.flows
                .iter()
                .map(|f| (f.name.clone(), f.document.clone()))
                .collect()
        })
        .unwrap_or_default();
    let not_payable: Vec<String> = others.iter().map(|e| e.id.clone()).collect();
    let stopped: Vec<String> = others
        .iter()
        .filter_map(|e| e.doc.as_ref())
        .filter(|doc| {
            state
                .documents
                .get(*doc)
                .is_some_and(|d| d.status == crate::engine::Status::InProgress)
        })
        .cloned()
        .collect();
    let mut result = Decided {
        supplier_name: chosen.record.invoice.supplier_name.clone(),
        chosen: chosen.doc(),
        not_payable: others.iter().map(|e| e.doc()).collect(),
        doc: chosen.doc.clone(),
        queue: None,
        stopped,
    };
    let chosen_id = chosen.id.clone();
    let mut rematched = None;
    runtime
        .execute(now, |e| {
            rematched = None;
            e.check_invoice_decision(&chosen_id, &not_payable, d.by, d.reason)?;
            if let Some((inv, outcome, orders, _)) = &matched {
                let mut doc = None;
                if let (Some((flow, fields)), None) = (&outcome.start, &outcome.queue) {
                    let sub = Submission {
                        kind: kinds.get(flow).cloned().unwrap_or_default(),
                        uploader: d.by.to_string(),
                        fields: fields.clone(),
                        content_sha256: chosen_id.clone(),
                        title: format!("Factuur {} ({})", inv.number, inv.supplier_name),
                        flow: Some(flow.clone()),
                    };
                    doc = Some(e.submit(sub)?);
                }
                let order = outcome
                    .purchase_order
                    .as_deref()
                    .filter(|_| outcome.queue.is_none())
                    .and_then(|r| {
                        orders.iter().find(|o| {
                            imports::normalise_number(&o.reference) == imports::normalise_number(r)
                        })
                    })
                    .and_then(|o| serde_json::to_value(o).ok());
                rematched = Some(Rematched {
                    doc,
                    order,
                    queue: outcome.queue.clone(),
                    flags: outcome.flags.clone(),
                });
            }
            e.decide_invoice(&chosen_id, &not_payable, d.by, d.reason, rematched.clone())
        })
        .map_err(|error: RuntimeError| AppError::Runtime {
            doing: "recording the decision",
            error,
        })?;
    if let Some(m) = rematched {
        result.doc = m.doc;
        result.queue = m.queue;
    }
    Ok(result)
}
