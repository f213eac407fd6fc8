//! `finance pay` as a service: payments proposed for the imported invoices whose
//! approval flow is complete (credit notes set off, the withholdings the project's
//! `payment.scheduled` rules demand, checked against the debts on the payment date),
//! recorded in the log, then written as `proposal.csv`, `proposal.json` and, with the
//! city's accounts, the SEPA file `pain.001.xml`.

use super::AppError;
use super::files::ensure_writable;
use super::lost_runs::{self, Settlement};
use super::pay_files;
use crate::Runtime;
use crate::engine::{RuntimeError, State, Status, TaskStatus};
use crate::finance::debts::{Debts, FileDebts, HttpDebts};
use crate::finance::{self, imports, orders, sepa, ubl};
use chrono::{DateTime, NaiveDate, Utc};
use paraaf_model::CompiledProject;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the debts on the payment date come from.
pub enum DebtsSource {
    /// A local JSON file.
    File(PathBuf),
    /// The debts service (GET {url}/debts/{kbo}?date=...).
    Url {
        /// Its base URL.
        url: String,
        /// Timeout per request.
        timeout: Duration,
        /// Retries after a failed request.
        retries: u32,
    },
}

/// A supplier's new account, confirmed by a person with the supplier.
#[derive(Clone, Debug)]
pub struct ConfirmedAccount {
    /// The supplier's KBO number, as written (trimmed when used).
    pub kbo: String,
    /// The account, as written.
    pub iban: String,
}

impl std::str::FromStr for ConfirmedAccount {
    type Err = String;

    /// `KBO=IBAN`.
    fn from_str(s: &str) -> Result<ConfirmedAccount, String> {
        let (kbo, iban) = s
            .split_once('=')
            .ok_or_else(|| format!("--confirm-account {s}: write KBO=IBAN"))?;
        Ok(ConfirmedAccount {
            kbo: kbo.to_string(),
            iban: iban.to_string(),
        })
    }
}

/// Everything checked before the database is opened: the debts source, the accounts
/// and the output folder.
pub struct Prepared<'a> {
    compiled: &'a CompiledProject,
    debts: Box<dyn Debts>,
    agencies: Vec<String>,
    accounts: Option<sepa::Accounts>,
    output: PathBuf,
}

/// Opens the debts source and the accounts file (`accounts`: the city's and the
/// agencies' bank accounts) and proves `output` writable; nothing is recorded yet.
pub fn prepare<'a>(
    compiled: &'a CompiledProject,
    debts: DebtsSource,
    accounts: Option<&Path>,
    output: &Path,
) -> Result<Prepared<'a>, AppError> {
    let debts: Box<dyn Debts> = match debts {
        DebtsSource::File(f) => Box::new(FileDebts::open(&f)?),
        DebtsSource::Url {
            url,
            timeout,
            retries,
        } => Box::new(HttpDebts::new(url, timeout, retries)),
    };
    let agencies: Vec<String> = compiled.agencies.iter().map(|a| a.name.clone()).collect();
    // Every account is checked before anything is recorded.
    let accounts = accounts
        .map(|f| sepa::Accounts::open(f, &agencies))
        .transpose()?;
    ensure_writable(output)?;
    Ok(Prepared {
        compiled,
        debts,
        agencies,
        accounts,
        output: output.to_path_buf(),
    })
}

/// The SEPA credit-transfer file written.
#[derive(Clone, Debug, Serialize)]
pub struct SepaFile {
    /// Where.
    pub path: PathBuf,
    /// Transfers in it.
    pub transfers: usize,
    /// Their total, in EUR.
    pub total: Decimal,
    /// Invoices without an IBAN: paid by hand.
    pub by_hand: Vec<String>,
}

/// What `finance pay` did.
#[derive(Clone, Debug, Serialize)]
pub struct PayReport {
    /// Every payment checked, blocked ones included (`blocked` says why).
    pub payments: Vec<finance::Payment>,
    /// Invoices not paid yet, each with the document, the step it waits for or why not.
    pub pending: Vec<String>,
    /// The SEPA file, when the accounts were given and something is transferred.
    pub sepa: Option<SepaFile>,
    /// `proposal.csv` (or `proposal-N.csv` beside an earlier run's), when a payment was
    /// checked.
    pub proposal_csv: Option<PathBuf>,
    /// `proposal.json` (or `proposal-N.json`), likewise.
    pub proposal_json: Option<PathBuf>,
    /// This run's id (in each proposal it recorded), when it proposed a payment.
    pub run: Option<String>,
    /// What else the operator should know: no SEPA file without transfers, no files
    /// without payments, an interrupted run's files completed.
    pub notes: Vec<String>,
}

impl PayReport {
    /// Payments proposed (not blocked).
    pub fn proposed(&self) -> usize {
        self.payments.len() - self.blocked()
    }

    /// Payments blocked.
    pub fn blocked(&self) -> usize {
        self.payments.iter().filter(|p| p.blocked.is_some()).count()
    }

    /// Everything withheld, in EUR.
    pub fn withheld(&self) -> Decimal {
        self.payments.iter().flat_map(|p| p.withheld.values()).sum()
    }
}

/// The invoices ready to pay, gathered from the state.
#[derive(Default)]
struct Ready {
    ids: Vec<String>,
    invoices: Vec<ubl::Invoice>,
    orders: Vec<orders::PurchaseOrder>,
    matches: Vec<finance::MatchOutcome>,
    pending: Vec<String>,
    /// Per invoice, the credit notes set off in its payment (id, note).
    set_off: Vec<Vec<(String, ubl::Invoice)>>,
}

/// The unpaid invoices whose flow completed (with their order and credit notes), and
/// why each other one is not paid (also: `date` before its issue date or its approval).
fn ready(state: &State, date: NaiveDate) -> Result<Ready, AppError> {
    let invalid = |e: serde_json::Error| AppError::Input(e.to_string());
    let mut r = Ready::default();
    // Credit notes waiting for their invoice's payment, by the invoice's id.
    let mut credit_notes: BTreeMap<String, Vec<(String, ubl::Invoice)>> = BTreeMap::new();
    for (id, imported) in state.invoices.iter().filter(|(_, i)| i.paid.is_none()) {
        if let Ok(record) = serde_json::from_value::<imports::Imported>(imported.invoice.clone())
            && let Some(invoice) = record.credit_for
        {
            // Its invoice declared not payable: set off against the one a person chose.
            let invoice = state
                .invoices
                .get(&invoice)
                .and_then(|i| i.decided.as_ref())
                .map_or(invoice, |d| d.chosen.clone());
            credit_notes
                .entry(invoice)
                .or_default()
                .push((id.clone(), record.invoice));
        }
    }
    // Documents under one invoice identity a person has not chosen between yet.
    let conflicts = imports::open_conflicts(state);
    for (id, imported) in state.invoices.iter().filter(|(_, i)| i.paid.is_none()) {
        let Some(doc) = imported.doc.as_ref().and_then(|d| state.documents.get(d)) else {
            continue;
        };
        let record: imports::Imported =
            serde_json::from_value(imported.invoice.clone()).map_err(invalid)?;
        let inv = record.invoice;
        if let Some(d) = imported.decided.as_ref().filter(|d| d.chosen != *id) {
            let chosen = state
                .invoices
                .get(&d.chosen)
                .and_then(|i| i.invoice.get("file"))
                .and_then(|f| f.as_str())
                .unwrap_or(&d.chosen);
            r.pending.push(format!(
                "{} {} ({}): not payable: {} decided on {} that {chosen} is the invoice ({})",
                doc.id,
                inv.number,
                inv.supplier_name,
                d.by,
                crate::clock::date(d.at),
                d.reason
            ));
            continue;
        }
        if let Some(copies) = conflicts.get(&imports::key(&inv)) {
            let files: Vec<String> = copies
                .iter()
                .map(|(_, c)| format!("{} ({} EUR due)", c.file, c.amount))
                .collect();
            r.pending.push(format!(
                "{} {} ({}): another document under the same invoice waits in the manual queue ({}): nothing under it is paid until a person decides which one is the invoice (`paraaf queue decide {} --invoice FILE --as PERSON --reason \"…\"`)",
                doc.id,
                inv.number,
                inv.supplier_name,
                files.join(", "),
                copies[0].1.file
            ));
            continue;
        }
        // A pay run the log no longer holds proposed it: blocked until a person settles
        // that run with the bank's word.
        if let Some(lost) = state
            .lost_payments
            .get(&crate::engine::lost_key(&inv.supplier, &inv.number))
            .filter(|e| !e.confirmed_paid)
        {
            r.pending.push(format!(
                "{} {} ({}): proposed for payment on {} by pay run {}, which the log no longer holds ({}): not paid until a person checks with the bank and passes --lost-run {}=paid or {}=unpaid",
                doc.id,
                inv.number,
                inv.supplier_name,
                lost.payment.date,
                lost.payment.run,
                lost.payment.source,
                lost.payment.run,
                lost.payment.run
            ));
            continue;
        }
        match doc.status {
            // A flag (over- or partial invoicing) stops the payment until a person
            // decided on it: the approval document must have shown it to the approver.
            Status::Completed => {
                // Never paid before it was issued or approved (the last step opened).
                let issued = inv.issue_date.parse::<NaiveDate>().ok();
                let approved = doc
                    .tasks
                    .iter()
                    .map(|t| crate::clock::date(t.opened_at))
                    .max();
                if let Some(before) = [issued, approved].into_iter().flatten().find(|d| *d > date) {
                    r.pending.push(format!(
                        "{} {} ({}): issued or approved on {before}, after the payment date {date}: not paid",
                        doc.id, inv.number, inv.supplier_name
                    ));
                    continue;
                }
                if let Some(flag) = record
                    .flags
                    .iter()
                    .find(|f| !doc.fields.values().any(|v| v.as_str() == Some(f.as_str())))
                {
                    r.pending.push(format!(
                        "{} {} ({}): flagged ({flag}), but its approval document does not show it: not paid; a person decides (give the document a field the rule fills with invoice.flag)",
                        doc.id, inv.number, inv.supplier_name
                    ));
                    continue;
                }
            }
            Status::InProgress => {
                let step = doc
                    .tasks
                    .iter()
                    .filter(|t| t.status == TaskStatus::Open)
                    .map(|t| t.spec.role.clone())
                    .collect::<Vec<_>>()
                    .join(", ");
                r.pending.push(format!(
                    "{} {} ({}): waits for {step}",
                    doc.id, inv.number, inv.supplier_name
                ));
                continue;
            }
            other => {
                r.pending.push(format!(
                    "{} {} ({}): {} — not paid",
                    doc.id,
                    inv.number,
                    inv.supplier_name,
                    other.as_str()
                ));
                continue;
            }
        }
        let Some(order) = imported.order.clone() else {
            continue;
        };
        let po: orders::PurchaseOrder = serde_json::from_value(order).map_err(invalid)?;
        r.matches.push(finance::MatchOutcome {
            invoice: inv.number.clone(),
            file: inv.file.clone(),
            purchase_order: Some(po.reference.clone()),
            ..Default::default()
        });
        // The credit notes for this invoice are set off in its payment.
        let credits = credit_notes.remove(id).unwrap_or_default();
        let notes: Vec<ubl::Invoice> = credits.iter().map(|(_, c)| c.clone()).collect();
        r.ids.push(id.clone());
        r.invoices.push(finance::set_off(&inv, &notes));
        r.set_off.push(credits);
        r.orders.push(po);
    }
    Ok(r)
}

/// What earlier runs of the same day withheld, also a pay run a restore gave up and no
/// person settled unpaid ([`State::payments`]): it counts against an attest's cap.
fn withheld_earlier(state: &State, date: NaiveDate, day: &str) -> finance::Withheld {
    let mut earlier = finance::Withheld::new();
    for made in state.payments() {
        if made.date != date {
            continue;
        }
        let p = made.proposal;
        let supplier = p
            .get("supplier")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        for (agency, v) in p
            .get("withheld")
            .and_then(|w| w.as_object())
            .into_iter()
            .flatten()
        {
            let amount = v
                .as_str()
                .and_then(|t| t.parse::<Decimal>().ok())
                .unwrap_or_default();
            *earlier
                .entry((supplier.to_string(), day.to_string(), agency.clone()))
                .or_default() += amount;
        }
    }
    earlier
}

/// The account each supplier was last paid on, also by a pay run a restore gave up and
/// no person settled unpaid ([`State::payments`]; another account waits for a person),
/// and the accounts a person confirmed.
fn known_accounts(
    state: &State,
    day: &str,
    confirmed: &[ConfirmedAccount],
) -> Result<finance::KnownAccounts, AppError> {
    let mut known = finance::KnownAccounts::new();
    let mut paid: Vec<crate::engine::Made<'_>> = state.payments().collect();
    paid.sort_by_key(|m| m.date);
    for m in paid {
        if let (Some(s), Some(iban)) = (
            m.proposal.get("supplier").and_then(|v| v.as_str()),
            m.proposal.get("iban").and_then(|v| v.as_str()),
        ) {
            let when = match m.lost {
                None => m.date.to_string(),
                Some(l) => format!(
                    "{}, by pay run {}, which the log no longer holds",
                    m.date, l.run
                ),
            };
            known.insert(s.to_string(), (iban.to_string(), when));
        }
    }
    for c in confirmed {
        let iban = sepa::normalise_iban(&c.iban);
        if !sepa::iban_valid(&iban) {
            return Err(AppError::Input(format!(
                "--confirm-account {}={}: `{iban}` fails its check digits",
                c.kbo, c.iban
            )));
        }
        known.insert(
            c.kbo.trim().to_string(),
            (iban, format!("{day}, confirmed by a person")),
        );
    }
    Ok(known)
}

/// Refuses a run that would drop a person's confirmation: a confirmed account is
/// remembered only through the payment that uses it (the proposal records the account),
/// so one no payment of this run goes to would be forgotten after an exit 0 (found by an
/// outside attacker: confirmed on a day nothing was due, the next invoice on the new
/// account was blocked again).
fn unused_confirmations(
    confirmed: &[ConfirmedAccount],
    payments: &[finance::Payment],
    day: &str,
) -> Result<(), AppError> {
    for c in confirmed {
        let iban = sepa::normalise_iban(&c.iban);
        let used = payments.iter().any(|p| {
            p.blocked.is_none()
                && p.supplier.trim() == c.kbo.trim()
                && p.iban.as_deref().map(sepa::normalise_iban).as_deref() == Some(iban.as_str())
        });
        if !used {
            return Err(AppError::Input(format!(
                "--confirm-account {}={}: no payment of this run on {day} goes to that account, and a confirmation is remembered only with the payment that uses it: nothing was proposed; pass it on the run that pays the supplier's invoice on that account",
                c.kbo, c.iban
            )));
        }
    }
    Ok(())
}

/// A new pay run's id, `PARAAF-<date>-<16 hex>`: the digest of the time, the invoices,
/// the log's last event and 16 random bytes, so no two runs share it (not a run a
/// restore gave up and `--lost-run RUN=unpaid` proposes again, nor a run of another
/// database). It is recorded in each of the run's proposals and is the SEPA file's
/// message id.
fn run_id(day: &str, now: DateTime<Utc>, ids: &[String], seq: u64) -> Result<String, AppError> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random)
        .map_err(|e| AppError::Input(format!("no random source for the run id: {e}")))?;
    let digest = crate::sha256_hex(
        format!(
            "{}|{}|{seq}|{}",
            now.to_rfc3339(),
            ids.join(","),
            crate::sha256_hex(&random)
        )
        .as_bytes(),
    );
    Ok(format!("PARAAF-{}-{}", day.replace('-', ""), &digest[..16]))
}

/// Whether run `run` recorded a proposal (the log says whether an interrupted run's
/// files hold anything).
fn committed(state: &State, run: &str) -> bool {
    state.invoices.values().any(|i| {
        i.paid
            .as_ref()
            .is_some_and(|(_, p)| p.get("run").and_then(|r| r.as_str()) == Some(run))
    })
}

/// Refuses a payment date the money cannot leave on with the debts checked that day:
/// before today (Brussels, on the runtime's clock) or a day banks execute no transfer.
fn check_date(date: NaiveDate, now: DateTime<Utc>) -> Result<(), AppError> {
    let today = crate::clock::date(now);
    if date < today {
        return Err(AppError::Input(format!(
            "--date {date} is before today ({today}): the withholding obligation is checked on the day the money leaves, and a bank executes a past date at once; pay with --date {today} or later (nothing was recorded)"
        )));
    }
    if let Some(why) = sepa::bank_closed(date) {
        return Err(AppError::Input(format!(
            "--date {date} is {why}: banks execute the transfers on {}, a day whose debts were not checked; pay with --date {} (nothing was recorded)",
            sepa::next_bank_day(date),
            sepa::next_bank_day(date)
        )));
    }
    Ok(())
}

/// Refuses a runtime clock behind the log: a pay run decided at `now`, before the newest
/// event the log holds (an approval, a sign-off, an earlier run), would record payments
/// as of a time before what they depend on (an invoice approved later paid on a day it
/// was not approved yet).
fn check_clock(runtime: &Runtime, now: DateTime<Utc>) -> Result<(), AppError> {
    let seq = runtime.state().last_seq;
    if seq == 0 {
        return Ok(());
    }
    let newest = runtime
        .store()
        .events_after(seq - 1)
        .map_err(AppError::runtime("reading the log's newest event"))?;
    let Some((seq, at)) = newest
        .into_iter()
        .next()
        .and_then(|(seq, at, _)| Some((seq, DateTime::parse_from_rfc3339(&at).ok()?)))
    else {
        return Ok(());
    };
    if now < at {
        return Err(AppError::Input(format!(
            "the runtime's clock ({}) is before the log's newest event (event {seq}, at {}): payments decided as of that time could precede the approvals they depend on; set the clock right (or --now / PARAAF_NOW to {} or later) and pay again (nothing was recorded)",
            now.format("%Y-%m-%dT%H:%M:%SZ"),
            at.to_utc().format("%Y-%m-%dT%H:%M:%SZ"),
            at.to_utc().format("%Y-%m-%dT%H:%M:%SZ"),
        )));
    }
    Ok(())
}

/// A debts source that is not asked about a day after today: the debts of a day that has
/// not come are not known yet (the check is made on the day of payment), so a payment
/// that needs the check on a later date is blocked with the reason, as one on a day
/// other than its debts file's date is. A debts file dated after today (made before the
/// day it claims to state) is never used.
struct NotAhead<'a> {
    inner: &'a dyn Debts,
    today: NaiveDate,
}

impl Debts for NotAhead<'_> {
    fn check(
        &self,
        kbo: &str,
        date: &str,
    ) -> Result<(finance::debts::DebtsAnswer, String), String> {
        let today = self.today;
        let ahead = |d: &str| d.parse::<NaiveDate>().is_ok_and(|day| day > today);
        match self.inner.stated_on() {
            Some((file, stated)) if ahead(stated) => Err(format!(
                "the debts file {file} is dated {stated}, after today ({today}): a statement cannot know the debts of a day that has not come; it must carry the day it was made, the payment date: propose this payment on {stated} with a statement dated {stated}"
            )),
            _ if ahead(date) => Err(format!(
                "the debts of {date} are not known on {today} (the check is made on the day of payment): propose this payment on {date} with that day's debts"
            )),
            _ => self.inner.check(kbo, date),
        }
    }

    fn describe(&self, kbo: &str, date: &str) -> String {
        self.inner.describe(kbo, date)
    }

    fn stated_on(&self) -> Option<(&str, &str)> {
        self.inner.stated_on()
    }
}

impl Prepared<'_> {
    /// Proposes the payments on `date` at `now`: `date` is today or later and a bank day;
    /// the files are written (under temporary names) first, then every debts check and
    /// proposal is recorded in one transaction (an invoice is proposed once), then the
    /// files get their names, beside (never over) an earlier run's.
    ///
    /// `settled` records first what a person confirmed with the bank about pay runs the
    /// log no longer holds. A folder that still holds files of such a run is refused
    /// (nothing recorded) until it is settled; the invoices of a lost run a restore
    /// recorded wait (listed as pending).
    pub fn pay(
        self,
        runtime: &mut Runtime,
        date: NaiveDate,
        confirmed: &[ConfirmedAccount],
        settled: &[Settlement],
        now: DateTime<Utc>,
    ) -> Result<PayReport, AppError> {
        check_date(date, now)?;
        check_clock(runtime, now)?;
        let today = crate::clock::date(now);
        let debts = NotAhead {
            inner: self.debts.as_ref(),
            today,
        };
        let mut notes = lost_runs::settle(runtime, &self.output, settled, today, now)?;
        let state = runtime.state();
        notes.extend(pay_files::recover(&self.output, |run| {
            committed(state, run)
        }));
        let lost = lost_runs::in_folder(&self.output, state, today);
        if !lost.is_empty() {
            return Err(lost_runs::refusal(&self.output, &lost));
        }
        let Ready {
            ids,
            invoices,
            orders,
            matches,
            pending,
            set_off,
        } = ready(state, date)?;
        let day = date.format("%Y-%m-%d").to_string();
        let earlier = withheld_earlier(state, date, &day);
        let mut known = known_accounts(state, &day, confirmed)?;
        let mut payments = finance::propose_payments_known(
            self.compiled,
            &invoices,
            &matches,
            &orders,
            &debts,
            &day,
            earlier,
            &mut known,
        );
        for (p, credits) in payments.iter_mut().zip(&set_off) {
            p.set_off = credits.iter().map(|(_, c)| c.number.clone()).collect();
        }
        unused_confirmations(confirmed, &payments, &day)?;
        let proposes = payments.iter().any(|p| p.blocked.is_none());
        let run = proposes
            .then(|| run_id(&day, now, &ids, state.last_seq))
            .transpose()?;
        // The files first (temporary names, synced): a disk that cannot hold them
        // records nothing.
        let mut files: Vec<(PathBuf, String)> = Vec::new();
        let (mut sepa, mut proposal_csv, mut proposal_json) = (None, None, None);
        if payments.is_empty() {
            notes.push(format!(
                "nothing to propose on {day}: no files written ({} left as it was)",
                self.output.display()
            ));
        } else {
            let names = pay_files::names(&self.output);
            let mut end_to_end: BTreeMap<usize, Vec<String>> = BTreeMap::new();
            if let Some(accounts) = &self.accounts {
                let (transfers, by_hand) =
                    sepa::transfers(&payments, accounts, run.as_deref().unwrap_or_default());
                if transfers.is_empty() {
                    notes.push(
                        "no transfers: no SEPA file written (a pain.001 without a transfer is refused by the bank)"
                            .into(),
                    );
                } else {
                    let created = now.format("%Y-%m-%dT%H:%M:%S").to_string();
                    files.push((
                        names.pain.clone(),
                        sepa::pain001(
                            &accounts.debtor,
                            run.as_deref().unwrap_or_default(),
                            &day,
                            &created,
                            &transfers,
                        ),
                    ));
                }
                for t in &transfers {
                    end_to_end
                        .entry(t.payment)
                        .or_default()
                        .push(t.end_to_end.clone());
                }
                sepa = Some(SepaFile {
                    path: names.pain.clone(),
                    transfers: transfers.len(),
                    total: transfers.iter().map(|t| t.amount).sum(),
                    by_hand,
                })
                .filter(|f| f.transfers > 0);
            }
            files.push((names.csv.clone(), csv_of(&self.agencies, &payments)?));
            files.push((
                names.json.clone(),
                json_of(&payments, run.as_deref(), date, &end_to_end)?,
            ));
            (proposal_csv, proposal_json) = (Some(names.csv), Some(names.json));
        }
        let staged = pay_files::stage(run.as_deref().unwrap_or("PARAAF-blocked"), &files)?;
        let recorded = runtime.execute(now, |e| {
            for (id, p) in ids.iter().zip(&payments) {
                let withheld: Vec<String> =
                    p.withheld.iter().map(|(a, v)| format!("{a} {v}")).collect();
                for (request, hash, decision) in &p.checks {
                    let decision = format!(
                        "{decision}; withheld: {}; to the supplier: {}{}",
                        if withheld.is_empty() {
                            "nothing".to_string()
                        } else {
                            withheld.join(", ")
                        },
                        p.to_supplier,
                        p.blocked
                            .as_ref()
                            .map(|b| format!(" (blocked: {b})"))
                            .unwrap_or_default()
                    );
                    e.record_debts_check(&p.invoice, request, hash, &decision);
                }
                if p.blocked.is_none() {
                    let mut proposal = serde_json::to_value(p)
                        .map_err(|err| RuntimeError::Invalid(err.to_string()))?;
                    proposal["run"] = serde_json::json!(run);
                    e.propose_payment(id, date, proposal)?;
                }
            }
            // A credit note set off in a proposed payment is done with (once).
            for ((p, credits), id) in payments.iter().zip(&set_off).zip(&ids) {
                if p.blocked.is_some() {
                    continue;
                }
                for (note, _) in credits {
                    e.propose_payment(
                        note,
                        date,
                        serde_json::json!({"set_off_against": p.invoice, "invoice_id": id, "run": run}),
                    )?;
                }
            }
            Ok(())
        });
        if let Err(error) = recorded {
            staged.discard();
            return Err(AppError::Runtime {
                doing: "recording the payments",
                error,
            });
        }
        staged.publish()?;
        Ok(PayReport {
            payments,
            pending,
            sepa,
            proposal_csv,
            proposal_json,
            run,
            notes,
        })
    }
}

/// `proposal.json`: the payments, each proposed one with its run and payment date (so a
/// later run into the same folder knows whether the log holds it) and the end-to-end ids
/// of its transfers in the SEPA file (`end_to_end`, the supplier's first).
fn json_of(
    payments: &[finance::Payment],
    run: Option<&str>,
    date: NaiveDate,
    end_to_end: &BTreeMap<usize, Vec<String>>,
) -> Result<String, AppError> {
    let mut list = Vec::with_capacity(payments.len());
    for (i, p) in payments.iter().enumerate() {
        let mut v = serde_json::to_value(p).map_err(|e| e.to_string())?;
        if let (Some(o), Some(run), None) = (v.as_object_mut(), run, &p.blocked) {
            o.insert("run".into(), serde_json::json!(run));
            o.insert("date".into(), serde_json::json!(date));
            if let Some(ids) = end_to_end.get(&i) {
                o.insert("end_to_end".into(), serde_json::json!(ids));
            }
        }
        list.push(v);
    }
    serde_json::to_string_pretty(&list).map_err(|e| AppError::Input(e.to_string()))
}

/// The proposal for the accounting package, through a CSV writer.
fn csv_of(agencies: &[String], payments: &[finance::Payment]) -> Result<String, AppError> {
    let fail = |e: &dyn std::fmt::Display| AppError::Input(e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "invoice",
        "supplier",
        "supplier_name",
        "amount",
        "amount_excl_vat",
        "to_supplier",
    ];
    header.extend(agencies.iter().map(String::as_str));
    header.push("blocked");
    w.write_record(&header).map_err(|e| fail(&e))?;
    for p in payments {
        let mut row = vec![
            safe_cell(&p.invoice),
            safe_cell(&p.supplier),
            safe_cell(&p.supplier_name),
            p.amount.to_string(),
            p.amount_excl_vat.to_string(),
            p.to_supplier.to_string(),
        ];
        row.extend(
            agencies
                .iter()
                .map(|a| p.withheld.get(a).copied().unwrap_or_default().to_string()),
        );
        row.push(safe_cell(p.blocked.as_deref().unwrap_or("")));
        w.write_record(&row).map_err(|e| fail(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| fail(&e))?;
    String::from_utf8(bytes).map_err(|e| fail(&e))
}

/// A spreadsheet cell that a spreadsheet will not run: `=`, `+`, `-`, `@` (and tab or
/// carriage return) at the start are neutralised with a leading apostrophe.
fn safe_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("Bouw NV"), "Bouw NV");
    }

    #[test]
    fn a_confirmed_account_is_kbo_equals_iban() {
        let c: ConfirmedAccount = " 0123456749=BE68 5390 0754 7034".parse().unwrap();
        assert_eq!(
            (c.kbo.trim(), c.iban.as_str()),
            ("0123456749", "BE68 5390 0754 7034")
        );
        let err = "0123456749".parse::<ConfirmedAccount>().unwrap_err();
        assert!(err.contains("write KBO=IBAN"), "{err}");
    }
}
