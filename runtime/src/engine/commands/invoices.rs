//! A person's decision between documents recorded under one invoice identity: which one
//! is the invoice. The others are not payable, and their approval flows, if still in
//! progress, are stopped so nobody approves what will not be paid.

use super::{Emitter, Event, RuntimeError};
use crate::engine::Rematched;
use crate::engine::state::{Status, TaskStatus};

impl Emitter<'_> {
    /// Checks a decision before anything is emitted (the chosen document's approval flow
    /// is started before the decision is recorded, in the same commit): refused when `by`
    /// is not in the organogram in force, the reason is not at least two words, a
    /// document is unknown or named twice, or a document declared not payable was
    /// already proposed for payment.
    pub fn check_invoice_decision(
        &self,
        chosen: &str,
        not_payable: &[String],
        by: &str,
        reason: &str,
    ) -> Result<(), RuntimeError> {
        let reason = reason.trim();
        if reason.split_whitespace().count() < 2 {
            return Err(RuntimeError::Invalid(
                "say why this document is the invoice (`--reason \"the supplier confirmed the correction\"`); the reason is recorded".into(),
            ));
        }
        super::super::text::check_note("the reason", reason)?;
        if self.state.has_left(by)
            || !self
                .state
                .current()
                .is_some_and(|(_, dep)| dep.org.is_person(by))
        {
            return Err(RuntimeError::Invalid(format!(
                "`{by}` is not a person in the organogram in force"
            )));
        }
        if !self.state.invoices.contains_key(chosen) {
            return Err(RuntimeError::Invalid(format!(
                "no imported invoice `{chosen}`"
            )));
        }
        for (n, id) in not_payable.iter().enumerate() {
            let Some(i) = self.state.invoices.get(id) else {
                return Err(RuntimeError::Invalid(format!("no imported invoice `{id}`")));
            };
            if id == chosen || not_payable[..n].contains(id) {
                return Err(RuntimeError::Invalid(format!(
                    "invoice `{id}` is named twice in one decision"
                )));
            }
            if let Some((date, _)) = &i.paid {
                return Err(RuntimeError::Conflict(format!(
                    "invoice `{id}` was proposed for payment on {date}: it cannot be declared not payable"
                )));
            }
        }
        Ok(())
    }

    /// Records that `by` decided, for `reason`, that document `chosen` is the invoice and
    /// the documents `not_payable` are not ([`Self::check_invoice_decision`] first); their
    /// approval flows in progress are stopped. `matched` is what matching `chosen` gave
    /// when it waited in the manual queue.
    pub fn decide_invoice(
        &mut self,
        chosen: &str,
        not_payable: &[String],
        by: &str,
        reason: &str,
        matched: Option<Rematched>,
    ) -> Result<(), RuntimeError> {
        self.check_invoice_decision(chosen, not_payable, by, reason)?;
        let mut stop = Vec::new();
        for id in not_payable {
            if let Some(d) = self
                .state
                .invoices
                .get(id)
                .and_then(|i| i.doc.as_ref())
                .and_then(|d| self.state.documents.get(d))
                && d.status == Status::InProgress
            {
                let open: Vec<String> = d
                    .tasks
                    .iter()
                    .filter(|t| t.status == TaskStatus::Open)
                    .map(|t| t.spec.id.clone())
                    .collect();
                stop.push((d.id.clone(), open));
            }
        }
        self.emit(Event::InvoiceDecided {
            chosen: chosen.into(),
            not_payable: not_payable.to_vec(),
            by: by.into(),
            reason: reason.trim().into(),
            matched,
        });
        for (doc, tasks) in stop {
            if !tasks.is_empty() {
                self.emit(Event::TasksCancelled {
                    doc: doc.clone(),
                    tasks,
                });
            }
            self.emit(Event::DocumentStopped { doc });
        }
        Ok(())
    }
}
