//! `paraaf finance ...`: invoice matching, withholding check, payment proposal.

use super::runtime_args::{RuntimeArgs, fail_app};
use paraaf_runtime::app::AppError;
use paraaf_runtime::app::finance_run;
use paraaf_runtime::finance;
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
    /// Example: paraaf finance pay examples/hasselt --date $(date +%F)
    ///          --debts-file debts-today.json -o proposal
    Pay {
        /// Project folder (its rules decide withholding).
        project: PathBuf,
        /// Payment date: today or later (Brussels, on the runtime's clock) and a bank day;
        /// the debts check runs on this date and the bank executes the transfers on it.
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
        /// Folder for proposal.csv and proposal.json (and pain.001.xml with --accounts);
        /// an earlier run's files there are never replaced: this run's are then named
        /// proposal-2.csv, pain.001-2.xml, ...
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
        /// A pay run the log no longer holds (a restore gave it up; `finance pay` and
        /// `admin restore` name it), settled by a person with the bank: `RUN=paid` (its
        /// invoices are recorded as paid and never proposed again) or `RUN=unpaid` (they
        /// are proposed once more). Repeatable. Until then a folder holding the run's files
        /// is refused and its invoices wait.
        #[arg(long = "lost-run", value_name = "RUN=paid|unpaid")]
        lost_run: Vec<String>,
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
    lost_run: Vec<String>,
    rt: RuntimeArgs,
) -> Result<ExitCode, String> {
    use paraaf_runtime::app::finance_pay::{self, ConfirmedAccount, DebtsSource};
    use paraaf_runtime::app::lost_runs::Settlement;
    let loaded = paraaf_compiler::load::load(&project).map_err(|e| e.to_string())?;
    let Some(compiled) = paraaf_compiler::db::compiled(&loaded.db, loaded.project).clone() else {
        eprintln!(
            "error: the project has errors; run `paraaf check {}`",
            project.display()
        );
        return Ok(ExitCode::from(1));
    };
    let debts = match (debts_file, debts_url) {
        (Some(f), _) => DebtsSource::File(f),
        (None, Some(url)) => DebtsSource::Url {
            url,
            timeout: std::time::Duration::from_secs(timeout),
            retries,
        },
        (None, None) => return Err(
            "give --debts-file or --debts-url: payments are never proposed without the debts check"
                .into(),
        ),
    };
    let prepared =
        finance_pay::prepare(&compiled, debts, accounts.as_deref(), &output).map_err(fail_app)?;
    let confirmed = confirm_account
        .iter()
        .map(|c| c.parse::<ConfirmedAccount>())
        .collect::<Result<Vec<_>, _>>()?;
    let settled = lost_run
        .iter()
        .map(|s| s.parse::<Settlement>())
        .collect::<Result<Vec<_>, _>>()?;
    let mut runtime = rt.open()?;
    let report = prepared
        .pay(&mut runtime, date, &confirmed, &settled, rt.now())
        .map_err(fail_app)?;
    if let Some(sepa) = &report.sepa {
        println!(
            "wrote {}: {} transfers, {} EUR",
            sepa.path.display(),
            sepa.transfers,
            sepa.total
        );
        for i in &sepa.by_hand {
            println!("not in the SEPA file: {i} has no IBAN on the invoice; pay it by hand");
        }
    }
    for p in &report.pending {
        println!("pending: {p}");
    }
    for n in &report.notes {
        println!("{n}");
    }
    println!(
        "{} payments proposed for approved invoices: {} EUR withheld, {} blocked; {} invoices wait for approval",
        report.proposed(),
        report.withheld(),
        report.blocked(),
        report.pending.len()
    );
    if let Some(csv) = &report.proposal_csv {
        println!("wrote {}", csv.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Progress on standard error for a long step (length 0: a spinner), only on a terminal:
/// a log or a pipe gets only the summary lines.
#[derive(Default)]
struct Bar(Option<indicatif::ProgressBar>);

impl finance_run::Progress for Bar {
    fn begin(&mut self, what: &'static str, len: u64) {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return;
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
        self.0 = Some(bar);
    }

    fn advance(&mut self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    fn end(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
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
            lost_run,
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
            lost_run,
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
            use finance_run::RunInput;
            let loaded = paraaf_compiler::load::load(&project).map_err(|e| e.to_string())?;
            let Some(compiled) = paraaf_compiler::db::compiled(&loaded.db, loaded.project).clone()
            else {
                eprintln!(
                    "error: the project has errors; run `paraaf check {}`",
                    project.display()
                );
                return Ok(ExitCode::from(1));
            };
            let mut bar = Bar::default();
            let input = RunInput {
                invoices: &invoices,
                orders: &orders,
                categories: &loaded.purchase_categories,
                output: &output,
            };
            let read = match finance_run::read(&input, &mut bar) {
                Ok(read) => read,
                // Purchase orders are one export: a bad row stops the run.
                Err(AppError::Rows(errors)) => {
                    for e in &errors {
                        eprintln!("error: {e}");
                    }
                    eprintln!(
                        "error: {} bad purchase-order row(s); nothing was imported",
                        errors.len()
                    );
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(fail_app(e)),
            };
            let mut runtime = rt.open()?;
            let report = read
                .import(
                    &mut runtime,
                    &compiled,
                    tolerance,
                    person.as_deref(),
                    rt.now(),
                    &mut bar,
                )
                .map_err(fail_app)?;
            for r in &report.rejected {
                eprintln!("rejected: {r}");
            }
            for r in &report.not_started {
                eprintln!("no approval flow started: {r}");
            }
            for i in &report.again {
                eprintln!(
                    "already imported: {} ({} {}, {})",
                    i.file, i.supplier, i.number, i.issue_date
                );
            }
            for why in &report.conflicts {
                eprintln!("manual queue: {why}");
            }
            println!(
                "{} files: {} matched, {} to the manual queue, {} rejected, {} already imported, {} flagged",
                report.files,
                report.matched(),
                report.manual(),
                report.rejected.len(),
                report.again.len(),
                report.flagged()
            );
            let credits = report.credits();
            if credits > 0 {
                println!(
                    "{credits} credit notes matched to their invoice: set off when it is paid"
                );
            }
            println!(
                "{} approval flows started; pay the approved invoices with `paraaf finance pay`",
                report.started
            );
            println!("wrote {}", report.matches_json.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
