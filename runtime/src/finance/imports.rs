//! What `finance run` keeps of every imported invoice, across runs: its identity (seller,
//! normalised number, issue date, type), the SHA-256 of its file, its flags and why it
//! waits in the manual queue. Read back from the log, it tells the next run what was
//! billed per purchase order and which documents it has seen.

use super::ubl::Invoice;
use crate::engine::State;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// An imported invoice as recorded in `invoice_imported` (the invoice's own fields, and
/// the import's beside them; records from before these fields read as empty).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Imported {
    /// The invoice as parsed.
    #[serde(flatten)]
    pub invoice: Invoice,
    /// SHA-256 of the file as received.
    #[serde(default)]
    pub content_sha256: String,
    /// Over- or partial invoicing of its order (over all runs), shown to the approver.
    #[serde(default)]
    pub flags: Vec<String>,
    /// The manual queue and why, when it waits for a person instead of a flow.
    #[serde(default)]
    pub queue: Option<(String, String)>,
    /// For a credit note: the id of the invoice it is set off against when that invoice
    /// is paid.
    #[serde(default)]
    pub credit_for: Option<String>,
}

/// An invoice number as a supplier means it: upper case, without separators
/// (`f-000001`, `F 000001` and `F000001` are one number). A number of separators only is
/// kept as written. Purchase-order references are compared the same way (`BB-1` is
/// `bb 1`: [`super::orders::by_reference`]).
pub fn normalise_number(number: &str) -> String {
    let n: String = number
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    if n.is_empty() {
        number.trim().to_string()
    } else {
        n
    }
}

/// The document type: `invoice` or `credit-note`.
pub fn kind(inv: &Invoice) -> &'static str {
    if inv.credit_note {
        "credit-note"
    } else {
        "invoice"
    }
}

/// One invoice is one invoice: seller, normalised number, issue date and type.
pub fn key(inv: &Invoice) -> String {
    format!(
        "{}|{}|{}|{}",
        inv.supplier,
        normalise_number(&inv.number),
        inv.issue_date,
        kind(inv)
    )
}

/// The id an invoice is recorded under: the SHA-256 of its key (the first document under
/// a key), or of its key and content (another document under a key already taken).
pub fn identity(inv: &Invoice, content_sha256: Option<&str>) -> String {
    let text = match content_sha256 {
        None => format!("invoice|{}", key(inv)),
        Some(h) => format!("invoice|{}|{h}", key(inv)),
    };
    crate::sha256_hex(text.as_bytes())
}

/// What earlier runs imported, as the next run needs it.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Per key: the documents seen under it (content SHA-256, empty in records from
    /// before it was kept, and the invoice as read).
    pub keys: BTreeMap<String, Vec<(String, Invoice)>>,
    /// (supplier, type, normalised number) seen: a supplier's number is unique, so one
    /// seen before with another date is a duplicate for a person, never a payment.
    pub numbers: BTreeSet<(String, String, String)>,
    /// Per purchase order (its reference normalised as numbers are, [`normalise_number`]):
    /// the amounts excl. VAT of the invoices and credit notes linked to it (credit notes
    /// count negative), however each run's export spelled the reference.
    pub billed: BTreeMap<String, Decimal>,
    /// Invoices (not credit notes, not in the manual queue) by (supplier, normalised
    /// number): their id, purchase order, and whether a payment was proposed.
    pub invoices: BTreeMap<(String, String), Invoiced>,
}

/// An imported invoice a credit note can be set off against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoiced {
    /// Its id in the log.
    pub id: String,
    /// Its number as written.
    pub number: String,
    /// Its purchase order, if matched.
    pub order: Option<String>,
    /// The date a payment was proposed, if one was.
    pub paid: Option<String>,
}

impl History {
    /// Adds one imported invoice (linked to `order`, if any).
    pub fn add(&mut self, i: &Imported, order: Option<&str>) {
        let inv = &i.invoice;
        self.keys
            .entry(key(inv))
            .or_default()
            .push((i.content_sha256.clone(), inv.clone()));
        self.numbers.insert((
            inv.supplier.clone(),
            kind(inv).to_string(),
            normalise_number(&inv.number),
        ));
        if let Some(o) = order
            && i.queue.is_none()
        {
            let sum = self.billed.entry(normalise_number(o)).or_default();
            *sum = sum.checked_add(inv.amount_excl_vat).unwrap_or(*sum);
        }
    }

    /// Everything imported into `state`'s log. A document a person declared not payable
    /// ([`crate::engine::Event::InvoiceDecided`]) is seen, but bills no order and takes
    /// no credit note.
    pub fn of(state: &State) -> History {
        History::except(state, &BTreeSet::new())
    }

    /// [`History::of`] without the documents `skip` (ids): what matching one of them
    /// again must not count.
    pub fn except(state: &State, skip: &BTreeSet<String>) -> History {
        let mut h = History::default();
        for (id, i) in state.invoices.iter().filter(|(id, _)| !skip.contains(*id)) {
            let Ok(imported) = serde_json::from_value::<Imported>(i.invoice.clone()) else {
                continue;
            };
            let void = i.not_payable(id);
            let order = i
                .order
                .as_ref()
                .filter(|_| !void)
                .and_then(|o| o.get("reference"))
                .and_then(|r| r.as_str());
            h.add(&imported, order);
            if !imported.invoice.credit_note && imported.queue.is_none() && !void {
                let number = normalise_number(&imported.invoice.number);
                h.invoices.insert(
                    (imported.invoice.supplier.clone(), number),
                    Invoiced {
                        id: id.clone(),
                        number: imported.invoice.number.clone(),
                        order: order.map(str::to_string),
                        paid: i.paid.as_ref().map(|(d, _)| d.to_string()),
                    },
                );
            }
        }
        h
    }
}

/// What to do with a parsed invoice, given what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Never seen: import it.
    New,
    /// This very document was imported before (same key, same content): nothing to do.
    Again,
    /// Another document under the same key: the manual queue, with both named.
    Conflict(String),
}

/// Whether `inv` (with file hash `sha`) is new, imported before, or another document
/// under a key already taken.
pub fn seen(history: &History, inv: &Invoice, sha: &str) -> Seen {
    let Some(before) = history.keys.get(&key(inv)) else {
        return Seen::New;
    };
    // The same file, or (in a record without a hash) the same invoice from another file.
    let same = |(h, earlier): &(String, Invoice)| {
        h == sha
            || (h.is_empty()
                && *earlier
                    == Invoice {
                        file: earlier.file.clone(),
                        ..inv.clone()
                    })
    };
    if before.iter().any(same) {
        return Seen::Again;
    }
    let (_, first) = &before[0];
    let (file, number) = (&first.file, &first.number);
    Seen::Conflict(format!(
        "another document under the same invoice: {} ({}) and {file} ({number}) are both {} {} of {} dated {}, with different content ({} and {} EUR due); neither is paid until a person decides which one is the invoice: `paraaf queue decide {} --invoice FILE --as PERSON --reason \"…\"`",
        inv.file,
        inv.number,
        kind(inv),
        normalise_number(&inv.number),
        inv.supplier,
        inv.issue_date,
        inv.amount,
        first.amount,
        inv.file,
    ))
}

/// Whether the document recorded as `id` is another document under an identity an
/// earlier one took ([`Seen::Conflict`]: recorded under its key and content).
pub fn is_copy(id: &str, inv: &Invoice) -> bool {
    id != identity(inv, None)
}

/// The conflicts a person has not decided yet, per key ([`key`]): the other documents
/// under an invoice's identity that wait in the manual queue (id and invoice). While one
/// waits, no document under that identity is paid.
pub fn open_conflicts(state: &State) -> BTreeMap<String, Vec<(String, Invoice)>> {
    let mut out: BTreeMap<String, Vec<(String, Invoice)>> = BTreeMap::new();
    for (id, i) in state.invoices.iter() {
        if i.decided.is_some() || i.paid.is_some() {
            continue;
        }
        let Ok(record) = serde_json::from_value::<Imported>(i.invoice.clone()) else {
            continue;
        };
        if is_copy(id, &record.invoice) {
            out.entry(key(&record.invoice))
                .or_default()
                .push((id.clone(), record.invoice));
        }
    }
    out
}

/// One imported invoice waiting for a person.
#[derive(Clone, Debug, serde::Serialize)]
pub struct QueuedInvoice {
    /// Its id in the log (`paraaf queue decide` takes its first characters when two
    /// documents share a file name).
    pub id: String,
    /// The file it came in.
    pub file: String,
    /// Its number as written.
    pub number: String,
    /// The supplier's name.
    pub supplier_name: String,
    /// The queue.
    pub queue: String,
    /// Why it waits.
    pub reason: String,
}

/// The imported invoices in the manual queue (not proposed for payment), by file name:
/// each one the import sent there, and each credit note whose invoice was paid without
/// it ([`dropped_credit`]).
pub fn queued(state: &State) -> Vec<QueuedInvoice> {
    let mut out: Vec<QueuedInvoice> = state
        .invoices
        .iter()
        .filter(|(id, i)| i.paid.is_none() && i.doc.is_none() && !i.not_payable(id))
        .filter_map(|(id, i)| {
            let i = serde_json::from_value::<Imported>(i.invoice.clone()).ok()?;
            let (queue, reason) = i.queue.clone().or_else(|| dropped_credit(state, &i))?;
            Some(QueuedInvoice {
                id: id.clone(),
                file: i.invoice.file,
                number: i.invoice.number,
                supplier_name: i.invoice.supplier_name,
                queue,
                reason,
            })
        })
        .collect();
    out.sort_by(|a, b| a.file.cmp(&b.file).then(a.number.cmp(&b.number)));
    out
}

/// A credit note matched to its invoice (set off when that invoice is paid) whose invoice
/// was paid without it: a person confirmed that a pay run the log no longer holds paid
/// the invoice (`--lost-run RUN=paid`), so it is never proposed again. The credit would
/// be lost: it waits in the manual queue, a person reclaims it.
fn dropped_credit(state: &State, note: &Imported) -> Option<(String, String)> {
    let invoice = state.invoices.get(note.credit_for.as_deref()?)?;
    let (date, proposal) = invoice.paid.as_ref()?;
    let number = invoice
        .invoice
        .get("number")
        .and_then(|n| n.as_str())
        .unwrap_or_default();
    let run = proposal
        .get("run")
        .and_then(|r| r.as_str())
        .unwrap_or("an earlier pay run");
    Some((
        "manuele-koppeling".to_string(),
        format!(
            "credit note {} is for invoice {number}, paid on {date} by pay run {run} without it: a person reclaims {} EUR",
            note.invoice.number, -note.invoice.amount
        ),
    ))
}
