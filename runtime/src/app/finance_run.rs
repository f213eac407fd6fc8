//! `finance run` as a service: UBL invoices and purchase orders read, matched with the
//! project's rules, each invoice recorded (`invoice_imported`, once) and, as a person,
//! its approval flow started; `matches.json` and `rejected.txt` written. Every file
//! ends matched, in the manual queue (with the reason) or rejected (with file, element
//! and reason); one bad file never blocks the others.

use super::AppError;
use super::files::{ensure_writable, write_atomic};
use crate::Runtime;
use crate::engine::{RuntimeError, Submission};
use crate::finance::{self, imports, orders, ubl};
use chrono::{DateTime, Utc};
use paraaf_model::CompiledProject;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Progress of a long step, for a front end that shows it (a bar on a terminal).
pub trait Progress: Send {
    /// A step of `len` items begins (`len` 0: unknown).
    fn begin(&mut self, what: &'static str, len: u64);
    /// One item of the step is done.
    fn advance(&mut self);
    /// The step is over.
    fn end(&mut self);
}

/// No progress shown.
pub struct Quiet;

impl Progress for Quiet {
    fn begin(&mut self, _: &'static str, _: u64) {}
    fn advance(&mut self) {}
    fn end(&mut self) {}
}

/// What `finance run` reads.
pub struct RunInput<'a> {
    /// The folder of UBL 2.1 / Peppol BIS 3.0 invoices and credit notes (*.xml).
    pub invoices: &'a Path,
    /// The purchase orders: CSV, or a `.json` array.
    pub orders: &'a Path,
    /// The project's purchase categories (`paraaf.toml`).
    pub categories: &'a [String],
    /// Where `matches.json` and `rejected.txt` go.
    pub output: &'a Path,
}

/// The files read and checked, before the database is opened.
pub struct Read {
    /// Every invoice file found (sorted).
    files: Vec<PathBuf>,
    /// Parsed invoices with the SHA-256 of their file.
    parsed: Vec<(ubl::Invoice, String)>,
    /// Files refused: file, element and reason.
    rejected: Vec<String>,
    orders: Vec<orders::PurchaseOrder>,
    output: PathBuf,
}

/// Reads the invoices (a bad file is rejected, not fatal) and the purchase orders (one
/// export: a bad row stops the run, [`AppError::Rows`]), and proves the output folder
/// writable. Nothing is recorded.
pub fn read(input: &RunInput<'_>, progress: &mut dyn Progress) -> Result<Read, AppError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(input.invoices)
        .map_err(|e| AppError::Input(format!("cannot read {}: {e}", input.invoices.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")))
        .collect();
    files.sort();
    let mut parsed = Vec::new();
    let mut rejected: Vec<String> = Vec::new();
    progress.begin("reading invoices", files.len() as u64);
    for f in &files {
        progress.advance();
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match std::fs::read(f) {
            Ok(bytes) => match ubl::parse(&name, &bytes) {
                Ok(i) => parsed.push((i, crate::sha256_hex(&bytes))),
                Err(e) => rejected.push(e.to_string()),
            },
            Err(e) => rejected.push(format!("{name}: (file): cannot read: {e}")),
        }
    }
    progress.end();
    let text = std::fs::read_to_string(input.orders)
        .map_err(|e| AppError::Input(format!("cannot read {}: {e}", input.orders.display())))?;
    let read = if input.orders.extension().is_some_and(|e| e == "json") {
        orders::read_json_with
    } else {
        orders::read_csv_with
    };
    let orders = read(&input.orders.display().to_string(), &text, input.categories)
        .map_err(AppError::Rows)?;
    // The output folder must be writable before anything is committed.
    ensure_writable(input.output)?;
    Ok(Read {
        files,
        parsed,
        rejected,
        orders,
        output: input.output.to_path_buf(),
    })
}

/// What `finance run` did.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// Invoice files found.
    pub files: usize,
    /// Every invoice considered, as matched (conflicts with an earlier document last).
    pub matches: Vec<finance::MatchOutcome>,
    /// Files refused: file, element and reason.
    pub rejected: Vec<String>,
    /// Invoices whose approval flow the runtime refused to start, with why.
    pub not_started: Vec<String>,
    /// Files imported before (nothing done).
    pub again: Vec<ubl::Invoice>,
    /// Why each other document under an imported invoice's key went to the manual queue.
    pub conflicts: Vec<String>,
    /// Approval flows started.
    pub started: usize,
    /// `matches.json`.
    pub matches_json: PathBuf,
}

impl RunReport {
    /// Invoices matched to a purchase order (not queued).
    pub fn matched(&self) -> usize {
        self.matches
            .iter()
            .filter(|m| m.purchase_order.is_some() && m.queue.is_none())
            .count()
    }

    /// Invoices in the manual queue.
    pub fn manual(&self) -> usize {
        self.matches.iter().filter(|m| m.queue.is_some()).count()
    }

    /// Invoices flagged (over- or partial invoicing).
    pub fn flagged(&self) -> usize {
        self.matches.iter().filter(|m| !m.flags.is_empty()).count()
    }

    /// Credit notes matched to their invoice.
    pub fn credits(&self) -> usize {
        self.matches.iter().filter(|m| m.credits.is_some()).count()
    }
}

/// The invoices of this run, told apart from what earlier runs imported.
struct Sorted {
    fresh: Vec<(ubl::Invoice, String)>,
    conflicts: Vec<(ubl::Invoice, String, String)>,
    again: Vec<ubl::Invoice>,
}

/// One invoice is one invoice: seller, number without case or separators, issue date
/// and type. The same file again is not imported again; another document under the
/// same key goes to the manual queue with both named.
fn sort(history: &imports::History, parsed: Vec<(ubl::Invoice, String)>) -> Sorted {
    let mut keys = history.clone();
    let mut s = Sorted {
        fresh: Vec::new(),
        conflicts: Vec::new(),
        again: Vec::new(),
    };
    for (inv, sha) in parsed {
        match imports::seen(&keys, &inv, &sha) {
            imports::Seen::Again => s.again.push(inv),
            seen => {
                let record = imports::Imported {
                    invoice: inv.clone(),
                    content_sha256: sha.clone(),
                    flags: Vec::new(),
                    queue: None,
                    credit_for: None,
                };
                keys.add(&record, None);
                match seen {
                    imports::Seen::Conflict(why) => s.conflicts.push((inv, sha, why)),
                    _ => s.fresh.push((inv, sha)),
                }
            }
        }
    }
    s
}

impl Read {
    /// Matches the invoices with `compiled`'s rules (`tolerance`: percent for partial and
    /// over-invoicing) and records them at `now` in one transaction, each with its
    /// approval flow started as `person` (when given); then writes the files.
    pub fn import(
        self,
        runtime: &mut Runtime,
        compiled: &CompiledProject,
        tolerance: Decimal,
        person: Option<&str>,
        now: DateTime<Utc>,
        progress: &mut dyn Progress,
    ) -> Result<RunReport, AppError> {
        let history = imports::History::of(runtime.state());
        let Sorted {
            fresh,
            conflicts,
            again,
        } = sort(&history, self.parsed);
        let invoices: Vec<ubl::Invoice> = fresh.iter().map(|(i, _)| i.clone()).collect();
        progress.begin("matching to purchase orders", 0);
        let mut matches =
            finance::match_invoices_after(compiled, &invoices, &self.orders, tolerance, &history);
        progress.end();
        let kinds: BTreeMap<String, String> = compiled
            .flows
            .iter()
            .map(|f| (f.name.clone(), f.document.clone()))
            .collect();
        let by_reference = orders::by_reference(&self.orders);
        progress.begin("starting approval flows", matches.len() as u64);
        // One transaction: each invoice and its approval flow (with a person).
        let mut started = 0;
        let mut not_started: Vec<String> = Vec::new();
        let mut docs: Vec<Option<String>> = Vec::new();
        runtime
            .execute(now, |e| {
                let invalid = |err: serde_json::Error| RuntimeError::Invalid(err.to_string());
                docs.clear();
                for (m, (inv, sha)) in matches.iter().zip(&fresh) {
                    progress.advance();
                    let mut doc = None;
                    if let (Some(person), Some((flow, fields)), None) = (person, &m.start, &m.queue)
                    {
                        let sub = Submission {
                            kind: kinds.get(flow).cloned().unwrap_or_default(),
                            uploader: person.to_string(),
                            fields: fields.clone(),
                            content_sha256: imports::identity(inv, None),
                            title: format!("Factuur {} ({})", inv.number, inv.supplier_name),
                            flow: Some(flow.clone()),
                        };
                        // A submission the runtime refuses leaves this invoice without a
                        // flow (a person starts it), never the others.
                        match e.submit(sub) {
                            Ok(d) => {
                                doc = Some(d);
                                started += 1;
                            }
                            Err(why) => not_started.push(format!("{}: {why}", inv.file)),
                        }
                    }
                    let order = m
                        .purchase_order
                        .as_deref()
                        .filter(|_| m.queue.is_none())
                        .and_then(|r| by_reference.get(&imports::normalise_number(r)))
                        .and_then(|o| serde_json::to_value(o).ok());
                    let record = imports::Imported {
                        invoice: inv.clone(),
                        content_sha256: sha.clone(),
                        flags: m.flags.clone(),
                        queue: m.queue.clone(),
                        credit_for: m.credits.as_ref().map(|(_, id)| id.clone()),
                    };
                    let record = serde_json::to_value(&record).map_err(invalid)?;
                    docs.push(doc.clone());
                    e.import_invoice(&imports::identity(inv, None), doc, record, order);
                }
                for (inv, sha, why) in &conflicts {
                    let record = imports::Imported {
                        invoice: inv.clone(),
                        content_sha256: sha.clone(),
                        flags: Vec::new(),
                        queue: Some(("manuele-koppeling".into(), why.clone())),
                        credit_for: None,
                    };
                    let record = serde_json::to_value(&record).map_err(invalid)?;
                    e.import_invoice(&imports::identity(inv, Some(sha)), None, record, None);
                }
                Ok(())
            })
            .map_err(AppError::runtime("importing the invoices"))?;
        progress.end();
        for (m, doc) in matches.iter_mut().zip(docs) {
            m.doc = doc;
        }
        matches.extend(conflicts.iter().map(|(inv, _, why)| finance::MatchOutcome {
            invoice: inv.number.clone(),
            file: inv.file.clone(),
            queue: Some(("manuele-koppeling".into(), why.clone())),
            ..Default::default()
        }));
        let matches_json = self.output.join("matches.json");
        write_atomic(
            &matches_json,
            &serde_json::to_string_pretty(&matches).map_err(|e| e.to_string())?,
        )?;
        write_atomic(
            &self.output.join("rejected.txt"),
            &self
                .rejected
                .iter()
                .map(|r| format!("{r}\n"))
                .collect::<String>(),
        )?;
        Ok(RunReport {
            files: self.files.len(),
            matches,
            rejected: self.rejected,
            not_started,
            again,
            conflicts: conflicts.into_iter().map(|(_, _, why)| why).collect(),
            started,
            matches_json,
        })
    }
}
