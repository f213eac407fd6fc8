//! `paraaf finance ...`: invoice matching, withholding check, payment proposal.

use super::runtime_args::RuntimeArgs;
use paraaf_runtime::engine::{RuntimeError, Submission};
use paraaf_runtime::finance::debts::{Debts, FileDebts, HttpDebts};
use paraaf_runtime::finance::{self, imports, orders, ubl};
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Finance subcommands.
#[derive(clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Import UBL invoices and purchase orders, match them with the project's rules and
    /// start the approval flows. Every file ends matched, in the manual queue (with the
    /// reason) or rejected (with file, element and reason); importing the same invoice
    /// again does nothing. Payments come later, from `paraaf finance pay`, once approved.
    ///
    /// Example: paraaf finance run examples/hasselt --invoices examples/hasselt/data/invoices
    ///          --orders examples/hasselt/data/orders.csv --as tom-bollen -o proposal
    Run {
        /// Project folder (its rules decide matching and withholding).
        project: PathBuf,
        /// Folder with UBL 2.1 / Peppol BIS 3.0 invoices and credit notes (*.xml).
        #[arg(long)]
        invoices: PathBuf,
        /// Purchase orders: CSV with reference,supplier,amount,date,dienst,category, or a
        /// .json array of objects with those fields.
        #[arg(long)]
        orders: PathBuf,
        /// Tolerance for partial and over-invoicing, in percent.
        #[arg(long, default_value = "2")]
        tolerance: Decimal,
        /// Folder for matches.json and rejected.txt.
        #[arg(short, long, default_value = "proposal")]
        output: PathBuf,
        /// Start the approval flows in the runtime database as this person.
        #[arg(long = "as")]
        person: Option<String>,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Propose payments for the imported invoices whose approval flow is complete: the
    /// withholdings the project's `payment.scheduled` rules demand, checked against the
    /// debts on the payment date. Invoices still being approved are listed with the step
    /// they wait for. Every check and proposal is recorded in the audit log; an invoice
    /// is proposed once.
    ///
    /// Example: paraaf finance pay examples/hasselt --date 2026-11-23
    ///          --debts-file examples/hasselt/data/debts.json -o proposal
    Pay {
        /// Project folder (its rules decide withholding).
        project: PathBuf,
        /// Payment date: the debts check runs on this date.
        #[arg(long)]
        date: chrono::NaiveDate,
        /// Debts from a local JSON file.
        #[arg(long, conflicts_with = "debts_url")]
        debts_file: Option<PathBuf>,
        /// Debts service base URL (GET {url}/debts/{kbo}?date=...).
        #[arg(long)]
        debts_url: Option<String>,
        /// Timeout per debts request, in seconds.
        #[arg(long, default_value_t = 5)]
        timeout: u64,
        /// Retries after a failed debts request.
        #[arg(long, default_value_t = 2)]
        retries: u32,
        /// Folder for proposal.csv and proposal.json (and pain.001.xml with --accounts).
        #[arg(short, long, default_value = "proposal")]
        output: PathBuf,
        /// The city's and the agencies' bank accounts (JSON: `debtor` and `agencies`, each
        /// with name, iban, bic; agencies with the reference of their transfers): then a
        /// SEPA credit-transfer file pain.001.xml (ISO 20022 pain.001.001.09) is written
        /// for the proposed payments: the supplier's part to the invoice's IBAN, each
        /// withheld amount to its agency.
        #[arg(long)]
        accounts: Option<PathBuf>,
        /// A supplier's new account, confirmed by a person with the supplier:
        /// `KBO=IBAN` (repeatable). Without it, an invoice asking for another account
        /// than the supplier was paid on before is blocked.
        #[arg(long = "confirm-account", value_name = "KBO=IBAN")]
        confirm_account: Vec<String>,
        #[command(flatten)]
        rt: RuntimeArgs,
    },
    /// Generate a realistic test set with known ground truth.
    Generate {
        /// Output folder (orders.csv, invoices/, truth.csv, debts.json).
        #[arg(short, long)]
        output: PathBuf,
        /// Number of purchase orders.
        #[arg(long, default_value_t = 1500)]
        orders: usize,
        /// Number of invoices.
        #[arg(long, default_value_t = 2000)]
        invoices: usize,
        /// Seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

/// `paraaf finance pay`: proposals for approved invoices, recorded, then written.
#[allow(clippy::too_many_arguments)]
fn pay(
    project: PathBuf,
    date: chrono::NaiveDate,
    debts_file: Option<PathBuf>,
    debts_url: Option<String>,
    timeout: u64,
    retries: u32,
    output: PathBuf,
    accounts: Option<PathBuf>,
    confirm_account: Vec<String>,
    rt: RuntimeArgs,
) -> Result<ExitCode, String> {
    use paraaf_runtime::engine::{Status, TaskStatus};
    let loaded = paraaf_compiler::load::load(&project).map_err(|e| e.to_string())?;
    let Some(compiled) = paraaf_compiler::db::compiled(&loaded.db, loaded.project).clone() else {
        eprintln!(
            "error: the project has errors; run `paraaf check {}`",
            project.display()
        );
        return Ok(ExitCode::from(1));
    };
    let debts: Box<dyn Debts> = match (debts_file, debts_url) {
        (Some(f), _) => Box::new(FileDebts::open(&f)?),
        (None, Some(url)) => Box::new(HttpDebts::new(
            url,
            std::time::Duration::from_secs(timeout),
            retries,
        )),
        (None, None) => return Err(
            "give --debts-file or --debts-url: payments are never proposed without the debts check"
                .into(),
        ),
    };
    let agencies: Vec<String> = compiled.agencies.iter().map(|a| a.name.clone()).collect();
    // Every account is checked before anything is recorded.
    let accounts = accounts
        .map(|f| finance::sepa::Accounts::open(&f, &agencies))
        .transpose()?;
    ensure_writable(&output)?;
    let mut runtime = rt.open()?;
    let state = runtime.state();
    let mut ids = Vec::new();
    let mut invoices = Vec::new();
    let mut orders = Vec::new();
    let mut matches = Vec::new();
    let mut pending = Vec::new();
    // Credit notes waiting for their invoice's payment, by the invoice's id.
    let mut credit_notes: std::collections::BTreeMap<String, Vec<(String, ubl::Invoice)>> =
        Default::default();
    for (id, imported) in state.invoices.iter().filter(|(_, i)| i.paid.is_none()) {
        if let Ok(record) = serde_json::from_value::<imports::Imported>(imported.invoice.clone())
            && let Some(invoice) = record.credit_for
        {
            credit_notes
                .entry(invoice)
                .or_default()
                .push((id.clone(), record.invoice));
        }
    }
    let mut set_off: Vec<Vec<(String, ubl::Invoice)>> = Vec::new();
    for (id, imported) in state.invoices.iter().filter(|(_, i)| i.paid.is_none()) {
        let Some(doc) = imported.doc.as_ref().and_then(|d| state.documents.get(d)) else {
            continue;
        };
        let record: imports::Imported =
            serde_json::from_value(imported.invoice.clone()).map_err(|e| e.to_string())?;
        let inv = record.invoice;
        match doc.status {
            // A flag (over- or partial invoicing) stops the payment until a person
            // decided on it: the approval document must have shown it to the approver.
            Status::Completed => {
                if let Some(flag) = record
                    .flags
                    .iter()
                    .find(|f| !doc.fields.values().any(|v| v.as_str() == Some(f.as_str())))
                {
                    pending.push(format!(
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
                pending.push(format!(
                    "{} {} ({}): waits for {step}",
                    doc.id, inv.number, inv.supplier_name
                ));
                continue;
            }
            other => {
                pending.push(format!(
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
        let po: orders::PurchaseOrder = serde_json::from_value(order).map_err(|e| e.to_string())?;
        matches.push(finance::MatchOutcome {
            invoice: inv.number.clone(),
            file: inv.file.clone(),
            purchase_order: Some(po.reference.clone()),
            ..Default::default()
        });
        // The credit notes for this invoice are set off in its payment.
        let credits = credit_notes.remove(id).unwrap_or_default();
        let notes: Vec<ubl::Invoice> = credits.iter().map(|(_, c)| c.clone()).collect();
        ids.push(id.clone());
        invoices.push(finance::set_off(&inv, &notes));
        set_off.push(credits);
        orders.push(po);
    }
    let day = date.format("%Y-%m-%d").to_string();
    // What earlier runs of the same day withheld counts against an attest's cap.
    let mut earlier = finance::Withheld::new();
    for i in state.invoices.values() {
        let Some((d, p)) = &i.paid else { continue };
        if *d != date {
            continue;
        }
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
                .entry((supplier.to_string(), day.clone(), agency.clone()))
                .or_default() += amount;
        }
    }
    // The account each supplier was last paid on: another one waits for a person.
    let mut known = finance::KnownAccounts::new();
    let mut paid: Vec<(&chrono::NaiveDate, &serde_json::Value)> = state
        .invoices
        .values()
        .filter_map(|i| i.paid.as_ref().map(|(d, p)| (d, p)))
        .collect();
    paid.sort_by_key(|(d, _)| **d);
    for (d, p) in paid {
        if let (Some(s), Some(iban)) = (
            p.get("supplier").and_then(|v| v.as_str()),
            p.get("iban").and_then(|v| v.as_str()),
        ) {
            known.insert(s.to_string(), (iban.to_string(), d.to_string()));
        }
    }
    for c in &confirm_account {
        let Some((kbo, iban)) = c.split_once('=') else {
            return Err(format!("--confirm-account {c}: write KBO=IBAN"));
        };
        let iban = finance::sepa::normalise_iban(iban);
        if !finance::sepa::iban_valid(&iban) {
            return Err(format!(
                "--confirm-account {c}: `{iban}` fails its check digits"
            ));
        }
        known.insert(
            kbo.trim().to_string(),
            (iban, format!("{day}, confirmed by a person")),
        );
    }
    let mut payments = finance::propose_payments_known(
        &compiled,
        &invoices,
        &matches,
        &orders,
        debts.as_ref(),
        &day,
        earlier,
        &mut known,
    );
    for (p, credits) in payments.iter_mut().zip(&set_off) {
        p.set_off = credits.iter().map(|(_, c)| c.number.clone()).collect();
    }
    runtime
        .execute(rt.now(), |e| {
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
                    let proposal = serde_json::to_value(p).map_err(|err| {
                        paraaf_runtime::engine::RuntimeError::Invalid(err.to_string())
                    })?;
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
                        serde_json::json!({"set_off_against": p.invoice, "invoice_id": id}),
                    )?;
                }
            }
            Ok(())
        })
        .map_err(|e| {
            format!(
                "recording the payments: {}",
                crate::cli::runtime_args::fail(e)
            )
        })?;
    if let Some(accounts) = &accounts {
        let (transfers, by_hand) = finance::sepa::transfers(&payments, accounts);
        let created = rt.now().format("%Y-%m-%dT%H:%M:%S").to_string();
        write_atomic(
            &output.join("pain.001.xml"),
            &finance::sepa::pain001(&accounts.debtor, &day, &created, &transfers),
        )?;
        let total: Decimal = transfers.iter().map(|t| t.amount).sum();
        println!(
            "wrote {}: {} transfers, {total} EUR",
            output.join("pain.001.xml").display(),
            transfers.len()
        );
        for i in by_hand {
            println!("not in the SEPA file: {i} has no IBAN on the invoice; pay it by hand");
        }
    }
    write_atomic(
        &output.join("proposal.csv"),
        &proposal_csv(&agencies, &payments)?,
    )?;
    write_atomic(
        &output.join("proposal.json"),
        &serde_json::to_string_pretty(&payments).map_err(|e| e.to_string())?,
    )?;
    for p in &pending {
        println!("pending: {p}");
    }
    let blocked = payments.iter().filter(|p| p.blocked.is_some()).count();
    let withheld: Decimal = payments.iter().flat_map(|p| p.withheld.values()).sum();
    println!(
        "{} payments proposed for approved invoices: {withheld} EUR withheld, {blocked} blocked; {} invoices wait for approval",
        payments.len() - blocked,
        pending.len()
    );
    println!("wrote {}", output.join("proposal.csv").display());
    Ok(ExitCode::SUCCESS)
}

/// Progress on standard error for a long step (`len` 0: a spinner), only on a terminal:
/// a log or a pipe gets only the summary lines.
fn progress(len: u64, what: &'static str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = if len == 0 {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::new(len)
    };
    let style = if len == 0 {
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
    } else {
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta} left)")
    };
    if let Ok(style) = style {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what);
    if len == 0 {
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    bar
}

/// The proposal for the accounting package, through a CSV writer.
fn proposal_csv(agencies: &[String], payments: &[finance::Payment]) -> Result<String, String> {
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
    w.write_record(&header).map_err(|e| e.to_string())?;
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
        w.write_record(&row).map_err(|e| e.to_string())?;
    }
    String::from_utf8(w.into_inner().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
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

/// Creates `dir` and proves it writable, before anything is committed.
fn ensure_writable(dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let probe = dir.join(".paraaf-write-test");
    std::fs::write(&probe, b"").map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Writes through a temporary file and a rename: a reader sees the old file or the new one.
fn write_atomic(path: &std::path::Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn write(path: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn run(cmd: Command) -> Result<ExitCode, String> {
    match cmd {
        Command::Generate {
            output,
            orders,
            invoices,
            seed,
        } => {
            let g = finance::generate::generate(orders, invoices, seed);
            std::fs::create_dir_all(output.join("invoices"))
                .map_err(|e| format!("cannot create {}: {e}", output.display()))?;
            write(&output.join("orders.csv"), &g.orders_csv)?;
            write(&output.join("truth.csv"), &g.truth_csv)?;
            write(&output.join("debts.json"), &g.debts_json)?;
            for (name, xml) in &g.invoices {
                write(&output.join("invoices").join(name), xml)?;
            }
            println!(
                "generated {} invoices and {} purchase orders in {}",
                g.invoices.len(),
                orders,
                output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Pay {
            project,
            date,
            debts_file,
            debts_url,
            timeout,
            retries,
            output,
            accounts,
            confirm_account,
            rt,
        } => pay(
            project,
            date,
            debts_file,
            debts_url,
            timeout,
            retries,
            output,
            accounts,
            confirm_account,
            rt,
        ),
        Command::Run {
            project,
            invoices,
            orders,
            tolerance,
            output,
            person,
            rt,
        } => {
            let loaded = paraaf_compiler::load::load(&project).map_err(|e| e.to_string())?;
            let Some(compiled) = paraaf_compiler::db::compiled(&loaded.db, loaded.project).clone()
            else {
                eprintln!(
                    "error: the project has errors; run `paraaf check {}`",
                    project.display()
                );
                return Ok(ExitCode::from(1));
            };
            // Every file ends in one state: rejected here (with file, element and reason),
            // or matched / manual queue below. One bad file never blocks the others.
            let mut files: Vec<PathBuf> = std::fs::read_dir(&invoices)
                .map_err(|e| format!("cannot read {}: {e}", invoices.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")))
                .collect();
            files.sort();
            let mut parsed = Vec::new();
            let mut rejected: Vec<String> = Vec::new();
            let bar = progress(files.len() as u64, "reading invoices");
            for f in &files {
                bar.inc(1);
                let name = f
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                match std::fs::read(f) {
                    Ok(bytes) => match ubl::parse(&name, &bytes) {
                        Ok(i) => parsed.push((i, paraaf_runtime::sha256_hex(&bytes))),
                        Err(e) => rejected.push(e.to_string()),
                    },
                    Err(e) => rejected.push(format!("{name}: (file): cannot read: {e}")),
                }
            }
            bar.finish_and_clear();
            let orders_text = std::fs::read_to_string(&orders)
                .map_err(|e| format!("cannot read {}: {e}", orders.display()))?;
            let read = if orders.extension().is_some_and(|e| e == "json") {
                orders::read_json_with
            } else {
                orders::read_csv_with
            };
            // Purchase orders are one export: a bad row stops the run (nothing imported).
            let pos = match read(
                &orders.display().to_string(),
                &orders_text,
                &loaded.purchase_categories,
            ) {
                Ok(p) => p,
                Err(errors) => {
                    for e in &errors {
                        eprintln!("error: {e}");
                    }
                    eprintln!(
                        "error: {} bad purchase-order row(s); nothing was imported",
                        errors.len()
                    );
                    return Ok(ExitCode::from(1));
                }
            };
            // The output folder must be writable before anything is committed.
            ensure_writable(&output)?;

            let mut runtime = rt.open()?;
            // One invoice is one invoice: seller, number without case or separators,
            // issue date and type. The same file again is not imported again; another
            // document under the same key goes to the manual queue with both named.
            let history = imports::History::of(runtime.state());
            let mut keys = history.clone();
            let mut fresh = Vec::new();
            let mut conflicts: Vec<(ubl::Invoice, String, String)> = Vec::new();
            let mut again = Vec::new();
            for (inv, sha) in parsed {
                match imports::seen(&keys, &inv, &sha) {
                    imports::Seen::Again => again.push(inv),
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
                            imports::Seen::Conflict(why) => conflicts.push((inv, sha, why)),
                            _ => fresh.push((inv, sha)),
                        }
                    }
                }
            }
            let invoices: Vec<ubl::Invoice> = fresh.iter().map(|(i, _)| i.clone()).collect();
            let spinner = progress(0, "matching to purchase orders");
            let mut matches =
                finance::match_invoices_after(&compiled, &invoices, &pos, tolerance, &history);
            spinner.finish_and_clear();
            let bar = progress(matches.len() as u64, "starting approval flows");
            let kinds: std::collections::BTreeMap<String, String> = compiled
                .flows
                .iter()
                .map(|f| (f.name.clone(), f.document.clone()))
                .collect();
            let by_reference: std::collections::BTreeMap<&str, &orders::PurchaseOrder> =
                pos.iter().map(|o| (o.reference.as_str(), o)).collect();
            let now = rt.now();
            // One transaction: each invoice and its approval flow (with `--as`).
            let mut started = 0;
            let mut not_started: Vec<String> = Vec::new();
            runtime
                .execute(now, |e| {
                    let invalid = |err: serde_json::Error| RuntimeError::Invalid(err.to_string());
                    for (m, (inv, sha)) in matches.iter().zip(&fresh) {
                        bar.inc(1);
                        let mut doc = None;
                        if let (Some(person), Some((flow, fields)), None) =
                            (&person, &m.start, &m.queue)
                        {
                            let sub = Submission {
                                kind: kinds.get(flow).cloned().unwrap_or_default(),
                                uploader: person.clone(),
                                fields: fields.clone(),
                                content_sha256: imports::identity(inv, None),
                                title: format!("Factuur {} ({})", inv.number, inv.supplier_name),
                                flow: Some(flow.clone()),
                            };
                            // A submission the runtime refuses leaves this invoice without
                            // a flow (a person starts it), never the others.
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
                            .and_then(|r| by_reference.get(r))
                            .and_then(|o| serde_json::to_value(o).ok());
                        let record = imports::Imported {
                            invoice: inv.clone(),
                            content_sha256: sha.clone(),
                            flags: m.flags.clone(),
                            queue: m.queue.clone(),
                            credit_for: m.credits.as_ref().map(|(_, id)| id.clone()),
                        };
                        let record = serde_json::to_value(&record).map_err(invalid)?;
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
                .map_err(|e| {
                    format!(
                        "importing the invoices: {}",
                        crate::cli::runtime_args::fail(e)
                    )
                })?;
            bar.finish_and_clear();
            matches.extend(conflicts.iter().map(|(inv, _, why)| finance::MatchOutcome {
                invoice: inv.number.clone(),
                file: inv.file.clone(),
                queue: Some(("manuele-koppeling".into(), why.clone())),
                ..Default::default()
            }));
            write_atomic(
                &output.join("matches.json"),
                &serde_json::to_string_pretty(&matches).map_err(|e| e.to_string())?,
            )?;
            write_atomic(
                &output.join("rejected.txt"),
                &rejected
                    .iter()
                    .map(|r| format!("{r}\n"))
                    .collect::<String>(),
            )?;
            for r in &rejected {
                eprintln!("rejected: {r}");
            }
            for r in &not_started {
                eprintln!("no approval flow started: {r}");
            }
            for i in &again {
                eprintln!(
                    "already imported: {} ({} {}, {})",
                    i.file, i.supplier, i.number, i.issue_date
                );
            }
            for (_, _, why) in &conflicts {
                eprintln!("manual queue: {why}");
            }
            let matched = matches
                .iter()
                .filter(|m| m.purchase_order.is_some() && m.queue.is_none())
                .count();
            let manual = matches.iter().filter(|m| m.queue.is_some()).count();
            let flagged = matches.iter().filter(|m| !m.flags.is_empty()).count();
            let credits = matches.iter().filter(|m| m.credits.is_some()).count();
            println!(
                "{} files: {matched} matched, {manual} to the manual queue, {} rejected, {} already imported, {flagged} flagged",
                files.len(),
                rejected.len(),
                again.len()
            );
            if credits > 0 {
                println!(
                    "{credits} credit notes matched to their invoice: set off when it is paid"
                );
            }
            println!(
                "{started} approval flows started; pay the approved invoices with `paraaf finance pay`"
            );
            println!("wrote {}", output.join("matches.json").display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
