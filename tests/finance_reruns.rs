//! Repeated runs, order and dates must not change what is paid (the outside attacker's
//! findings 03, 04, 07, 12 and 16 of #27), through the binary on the Hasselt example: a
//! second `finance pay` leaves the first run's files alone, a payment date before today,
//! on a closed bank day or before the approval pays nothing, a credit note is set off
//! whatever its file is called, and a negative prepaid amount is never paid. After a
//! restore gave up a pay run (finding 01), its invoices are paid once: its folder is
//! refused and its invoices wait until a person settles the run with the bank's word.
//! Until then its payments count as made (attack 5): an invoice of it imported again under
//! another spelling waits, its account is the supplier's known one and its withholdings
//! count against the day's attest; a credit note for an invoice it was confirmed to have
//! paid waits in the manual queue.

mod support;

use paraaf_runtime::finance::ubl;
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::process::Output;
use std::str::FromStr;

const KBO: &str = "0123456749";

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A city on the Hasselt example: a database, an invoices folder and one order.
struct City {
    dir: PathBuf,
}

impl City {
    fn new(name: &str) -> City {
        let dir = support::tempdir(name);
        std::fs::create_dir_all(dir.join("inv")).unwrap();
        std::fs::write(
            dir.join("orders.csv"),
            format!(
                "reference,supplier,amount,date,dienst,category\nBB-1,{KBO},1000.00,2026-09-01,gebouwen,supplies\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("debts.json"),
            format!(
                r#"{{"date":"2026-11-23","suppliers":{{"{KBO}":{{"social_debt":"0","tax_debt":"0","self_employed_debt":"0"}}}}}}"#
            ),
        )
        .unwrap();
        let c = City { dir };
        let o = c.run(&["deploy", "examples/hasselt"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        c
    }

    /// The binary at `now`.
    fn run_at(&self, now: &str, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(args)
            .env("PARAAF_DB", self.dir.join("city.db"))
            .env("PARAAF_NOW", now)
            .current_dir(support::root())
            .output()
            .unwrap()
    }

    /// The binary on 2026-11-23 (a Monday).
    fn run(&self, args: &[&str]) -> Output {
        self.run_at("2026-11-23", args)
    }

    /// `finance run` of the invoices folder, then every approval flow signed.
    fn import_and_approve(&self) -> String {
        let o = self.run(&[
            "finance",
            "run",
            "examples/hasselt",
            "--invoices",
            self.dir.join("inv").to_str().unwrap(),
            "--orders",
            self.dir.join("orders.csv").to_str().unwrap(),
            "-o",
            self.dir.join("run").to_str().unwrap(),
            "--as",
            "tom-bollen",
        ]);
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let pending = self.pay_at("2026-11-23", "2026-11-23");
        for doc in pending
            .0
            .lines()
            .filter_map(|l| l.strip_prefix("pending: "))
            .filter_map(|l| l.split(' ').next())
        {
            support::approve(|a| self.run(a), doc, "tom-bollen");
        }
        out
    }

    /// `finance pay --date date` at `now` into `out/`: (stdout, stderr, success).
    fn pay_at(&self, now: &str, date: &str) -> (String, String, bool) {
        let o = self.run_at(
            now,
            &[
                "finance",
                "pay",
                "examples/hasselt",
                "--debts-file",
                self.dir.join("debts.json").to_str().unwrap(),
                "--date",
                date,
                "-o",
                self.dir.join("out").to_str().unwrap(),
            ],
        );
        (
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
            o.status.success(),
        )
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.join(file)).unwrap_or_default()
    }
}

/// An invoice of `excl` + 21% on order BB-1.
fn invoice(number: &str, excl: &str) -> String {
    ubl::write(
        number,
        false,
        KBO,
        "Bouw NV",
        "2026-10-01",
        Some("BB-1"),
        d(excl),
        d("21"),
    )
}

/// A credit note of `excl` + 21% naming invoice `of`.
fn credit_note(number: &str, of: &str, excl: &str) -> String {
    ubl::write(
        number,
        true,
        KBO,
        "Bouw NV",
        "2026-10-05",
        Some("BB-1"),
        d(excl),
        d("21"),
    )
    .replace(
        "</cbc:DocumentCurrencyCode>",
        &format!(
            "</cbc:DocumentCurrencyCode><cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{of}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>"
        ),
    )
}

/// Finding 07: the same `finance pay` again proposes nothing and writes nothing; the first
/// run's proposal is still there. A later run with something new writes beside it.
#[test]
fn a_second_run_never_replaces_the_first_runs_files() {
    let city = City::new("finance-rerun-files");
    std::fs::write(city.dir.join("inv/r1.xml"), invoice("R-1", "1000.00")).unwrap();
    city.import_and_approve();
    let (out, err, ok) = city.pay_at("2026-11-23", "2026-11-23");
    assert!(ok && out.contains("1 payments proposed"), "{out}{err}");
    let first = city.read("out/proposal.csv");
    assert!(first.contains("\nR-1,"), "{first}");
    let (out, err, ok) = city.pay_at("2026-11-23", "2026-11-23");
    assert!(ok && out.contains("0 payments proposed"), "{out}{err}");
    assert!(
        out.contains("nothing to propose on 2026-11-23: no files written"),
        "{out}"
    );
    assert_eq!(city.read("out/proposal.csv"), first);
    assert!(!city.dir.join("out/proposal-2.csv").exists());
    // Another invoice approved later that day: its proposal is beside the first.
    std::fs::write(city.dir.join("inv/r2.xml"), invoice("R-2", "10.00")).unwrap();
    city.import_and_approve();
    let (out, err, ok) = city.pay_at("2026-11-23", "2026-11-23");
    assert!(ok && out.contains("1 payments proposed"), "{out}{err}");
    assert!(out.contains("proposal-2.csv"), "{out}");
    assert_eq!(city.read("out/proposal.csv"), first);
    let second = city.read("out/proposal-2.csv");
    assert!(
        second.contains("\nR-2,") && !second.contains("R-1"),
        "{second}"
    );
}

/// Finding 12 and its siblings: a payment date before today, on a weekend or a TARGET2
/// closing day is refused with the reason and records nothing; a date before the
/// approval (the clock set back) pays nothing.
#[test]
fn the_payment_date_is_a_bank_day_from_today_on_and_never_before_the_log() {
    let city = City::new("finance-rerun-dates");
    std::fs::write(city.dir.join("inv/t1.xml"), invoice("T-1", "1000.00")).unwrap();
    city.import_and_approve();
    for (date, why) in [
        ("2026-11-20", "is before today (2026-11-23)"),
        (
            "2026-11-28",
            "is a weekend day: banks execute the transfers on 2026-11-30",
        ),
        ("2026-12-25", "is Christmas (TARGET2 closed)"),
    ] {
        let (out, err, ok) = city.pay_at("2026-11-23", date);
        assert!(!ok, "{date}: {out}");
        assert!(
            err.contains(why) && err.contains("nothing was recorded"),
            "{err}"
        );
    }
    // The clock set back before the approval (a host clock, --now or PARAAF_NOW behind
    // the log): refused, nothing recorded, whatever the payment date.
    for date in ["2026-11-20", "2026-11-23"] {
        let (out, err, ok) = city.pay_at("2026-11-20", date);
        assert!(!ok, "{date}: {out}");
        assert!(
            err.contains(
                "the runtime's clock (2026-11-20T09:00:00Z) is before the log's newest event"
            ) && err.contains("2026-11-23T09:00:00Z or later")
                && err.contains("nothing was recorded"),
            "{err}"
        );
    }
    // Nothing of the above was recorded: today it is proposed, once.
    let (out, err, ok) = city.pay_at("2026-11-23", "2026-11-23");
    assert!(ok && out.contains("1 payments proposed"), "{out}{err}");
}

/// Finding 04: a credit note in the same run as its invoice is set off whether its file
/// sorts before or after the invoice's.
#[test]
fn a_credit_note_is_set_off_whatever_its_file_is_called() {
    for name in ["a-credit.xml", "z-credit.xml"] {
        let city = City::new(&format!("finance-rerun-credit-{name}"));
        std::fs::write(
            city.dir.join("inv/m-invoice.xml"),
            invoice("C-1", "1000.00"),
        )
        .unwrap();
        std::fs::write(
            city.dir.join("inv").join(name),
            credit_note("CN-1", "C-1", "100.00"),
        )
        .unwrap();
        let out = city.import_and_approve();
        assert!(
            out.contains("1 credit notes matched to their invoice"),
            "{name}: {out}"
        );
        let (out, err, ok) = city.pay_at("2026-11-23", "2026-11-23");
        assert!(ok && out.contains("1 payments proposed"), "{out}{err}");
        let proposal: serde_json::Value =
            serde_json::from_str(&city.read("out/proposal.json")).unwrap();
        assert_eq!(proposal[0]["amount"], "1089.00", "{name}: {proposal}");
        assert_eq!(proposal[0]["set_off"], serde_json::json!(["CN-1"]));
    }
}

/// Finding 16: a negative PrepaidAmount (BR-CO-16 holds, but more is due than the total
/// incl. VAT) is rejected by name, never paid.
#[test]
fn a_negative_prepaid_amount_is_rejected() {
    let xml = invoice("P-1", "1000.00").replace(
        r#"<cbc:PayableAmount currencyID="EUR">1210.00</cbc:PayableAmount>"#,
        r#"<cbc:PrepaidAmount currencyID="EUR">-500.00</cbc:PrepaidAmount><cbc:PayableAmount currencyID="EUR">1710.00</cbc:PayableAmount>"#,
    );
    assert!(xml.contains("-500.00"), "{xml}");
    let e = ubl::parse("p1.xml", xml.as_bytes()).unwrap_err();
    assert_eq!(e.element, "cac:LegalMonetaryTotal/cbc:PrepaidAmount", "{e}");
    assert!(
        e.message
            .contains("more than the total incl. VAT (1210.00); a person checks it"),
        "{e}"
    );
    // A prepaid amount of zero or more is an ordinary invoice.
    let ok = invoice("P-2", "1000.00").replace(
        r#"<cbc:PayableAmount currencyID="EUR">1210.00</cbc:PayableAmount>"#,
        r#"<cbc:PrepaidAmount currencyID="EUR">210.00</cbc:PrepaidAmount><cbc:PayableAmount currencyID="EUR">1000.00</cbc:PayableAmount>"#,
    );
    assert_eq!(
        ubl::parse("p2.xml", ok.as_bytes()).unwrap().amount,
        d("1000.00")
    );
}

impl City {
    /// `finance pay` on 2026-11-23 into `folder` with `extra` options: (stdout, stderr,
    /// exit code).
    fn pay_into(&self, folder: &str, extra: &[&str]) -> (String, String, i32) {
        let debts = self.dir.join("debts.json");
        let out = self.dir.join(folder);
        let mut args = vec![
            "finance",
            "pay",
            "examples/hasselt",
            "--debts-file",
            debts.to_str().unwrap(),
            "--date",
            "2026-11-23",
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = self.run(&args);
        (
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
            o.status.code().unwrap_or(-1),
        )
    }

    /// An approved invoice L-1, a backup before its payment, the payment into `out/`, then
    /// the backup restored (the payment's events are gone): the run's id.
    fn paid_then_restored(&self) -> String {
        std::fs::write(self.dir.join("inv/l1.xml"), invoice("L-1", "1000.00")).unwrap();
        self.import_and_approve();
        let backup = self.dir.join("nightly.db");
        let o = self.run(&["admin", "backup", backup.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (out, err, code) = self.pay_into("out", &[]);
        assert!(
            code == 0 && out.contains("1 payments proposed"),
            "{out}{err}"
        );
        let proposal: serde_json::Value =
            serde_json::from_str(&self.read("out/proposal.json")).unwrap();
        let run = proposal[0]["run"].as_str().unwrap().to_string();
        let o = self.run(&["admin", "restore", backup.to_str().unwrap()]);
        let said = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            said.contains(&format!("pay run {run} was among the events given up"))
                && said.contains("L-1"),
            "{said}"
        );
        run
    }
}

/// #27 (attack finding 01), the same folder: after a restore gave up a pay run, the next
/// run into its folder sees the run's files, refuses (exit 2, naming the run, the files
/// and the invoice) and writes nothing; settled as paid, the invoice is never proposed
/// again, in that folder or another.
#[test]
fn a_restore_never_pays_a_run_in_its_folder_again() {
    let city = City::new("finance-rerun-restore-folder");
    let run = city.paid_then_restored();
    let first = city.read("out/proposal.csv");
    let (out, err, code) = city.pay_into("out", &[]);
    assert_eq!(code, 2, "{out}{err}");
    for needle in [
        run.as_str(),
        "proposal.json",
        "L-1 (0123456749, 1210.00 EUR)",
        "check with the bank",
        "--lost-run RUN=paid",
        "help: ",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert_eq!(
        std::fs::read_dir(city.dir.join("out")).unwrap().count(),
        2,
        "nothing written beside the first run's files"
    );
    assert!(!city.dir.join("out/proposal-2.json").exists());
    let (out, err, code) = city.pay_into("out", &["--lost-run", &format!("{run}=paid")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("recorded: pay run {run} paid its 1 invoice(s)")),
        "{out}"
    );
    assert!(out.contains("0 payments proposed"), "{out}");
    assert!(!city.dir.join("out/proposal-2.json").exists());
    assert_eq!(city.read("out/proposal.csv"), first);
    for folder in ["out", "elsewhere"] {
        let (out, err, code) = city.pay_into(folder, &[]);
        assert!(
            code == 0 && out.contains("0 payments proposed") && !out.contains("L-1"),
            "{folder}: {out}{err}"
        );
    }
    // Settled once: the same word again is refused by name.
    let (_, err, code) = city.pay_into("out", &["--lost-run", &format!("{run}=unpaid")]);
    assert_eq!(code, 2, "{err}");
}

/// #27, another folder: the restore recorded the run it gave up, so its invoice waits
/// (listed) wherever the next run writes; settled as unpaid, it is proposed once.
#[test]
fn a_restore_records_the_runs_it_gave_up_for_every_folder() {
    let city = City::new("finance-rerun-restore-elsewhere");
    let run = city.paid_then_restored();
    let (out, err, code) = city.pay_into("elsewhere", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 payments proposed"), "{out}");
    assert!(
        out.contains(&format!(
            "L-1 (Bouw NV): proposed for payment on 2026-11-23 by pay run {run}, which the log no longer holds"
        )) && out.contains(&format!("--lost-run {run}=paid or {run}=unpaid")),
        "{out}"
    );
    assert!(!city.dir.join("elsewhere/proposal.json").exists());
    // The bank did not execute it: proposed once more, then never again, by a run of
    // its own (attack finding 10: it reused the lost run's id and SEPA message id).
    let (out, err, code) = city.pay_into("elsewhere", &["--lost-run", &format!("{run}=unpaid")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 payments proposed"), "{out}");
    let proposal: serde_json::Value =
        serde_json::from_str(&city.read("elsewhere/proposal.json")).unwrap();
    let again_run = proposal[0]["run"].as_str().unwrap();
    // The run id is the SEPA file's message id (tests/finance_sepa.rs).
    assert_ne!(again_run, run);
    let again = city.read("elsewhere/proposal.csv");
    assert!(again.contains("\nL-1,"), "{again}");
    for folder in ["elsewhere", "third"] {
        let (out, err, code) = city.pay_into(folder, &[]);
        assert!(
            code == 0 && out.contains("0 payments proposed"),
            "{folder}: {out}{err}"
        );
    }
    // The first run's folder: its file is settled, the new run's payment is in the log.
    let (out, err, code) = city.pay_into("out", &[]);
    assert!(
        code == 0 && out.contains("0 payments proposed"),
        "{out}{err}"
    );
}

/// #27: an invoice imported after the backup is gone with the run that paid it; settled
/// as paid, it is recorded paid when it is imported again, and never proposed.
#[test]
fn an_invoice_a_lost_run_paid_is_paid_when_imported_again() {
    paid_by_a_lost_run_then_imported_as("finance-rerun-restore-reimport", "L-1");
}

/// The same invoice imported again with its number spelled otherwise (`l 1` for `L-1`) is
/// the same invoice (`finance::imports::normalise_number`, as everywhere in finance): a
/// lost run confirmed paid has paid it too.
#[test]
fn an_invoice_a_lost_run_paid_is_paid_when_imported_again_spelled_otherwise() {
    paid_by_a_lost_run_then_imported_as("finance-rerun-restore-respelled", "l 1");
}

/// L-1 paid by a run a restore gave up, the run settled as paid, then L-1 imported again
/// as `number` and approved: no run proposes it, in the run's folder or another.
fn paid_by_a_lost_run_then_imported_as(name: &str, number: &str) {
    let city = City::new(name);
    let backup = city.dir.join("before.db");
    let o = city.run(&["admin", "backup", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(city.dir.join("inv/l1.xml"), invoice("L-1", "1000.00")).unwrap();
    city.import_and_approve();
    let (out, err, code) = city.pay_into("out", &[]);
    assert!(
        code == 0 && out.contains("1 payments proposed"),
        "{out}{err}"
    );
    let proposal: serde_json::Value =
        serde_json::from_str(&city.read("out/proposal.json")).unwrap();
    let run = proposal[0]["run"].as_str().unwrap().to_string();
    let o = city.run(&["admin", "restore", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (out, err, code) = city.pay_into("out", &["--lost-run", &format!("{run}=paid")]);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(city.dir.join("inv/l1.xml"), invoice(number, "1000.00")).unwrap();
    city.import_and_approve();
    for folder in ["out", "elsewhere"] {
        let (out, err, code) = city.pay_into(folder, &[]);
        assert!(
            code == 0
                && out.contains("0 payments proposed")
                && !out.contains("L-1")
                && !out.contains(number),
            "{folder}: {out}{err}"
        );
    }
}

/// `invoice` on order `order`, asking to be paid on `iban`.
fn invoice_on(number: &str, excl: &str, order: &str, iban: &str) -> String {
    invoice(number, excl)
        .replace(
            "<cbc:ID>BB-1</cbc:ID>",
            &format!("<cbc:ID>{order}</cbc:ID>"),
        )
        .replace(
            "</cac:AccountingSupplierParty>",
            &format!(
                "</cac:AccountingSupplierParty><cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cac:PayeeFinancialAccount><cbc:ID>{iban}</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>"
            ),
        )
}

const IBAN_A: &str = "BE71096123456769";
const IBAN_B: &str = "BE68539007547034";

impl City {
    /// `inv/l1.xml` (written by the caller) imported and approved, a backup, its payment
    /// into `lost/` (run R), then the backup restored: R's id. The restore records R as
    /// lost (`out/`, where `import_and_approve` looks for what waits, stays free).
    fn lost_run_of_approved(&self) -> String {
        self.import_and_approve();
        let backup = self.dir.join("nightly.db");
        let o = self.run(&["admin", "backup", backup.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (out, err, code) = self.pay_into("lost", &[]);
        assert!(
            code == 0 && out.contains("1 payments proposed"),
            "{out}{err}"
        );
        let proposal: serde_json::Value =
            serde_json::from_str(&self.read("lost/proposal.json")).unwrap();
        let o = self.run(&["admin", "restore", backup.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        proposal[0]["run"].as_str().unwrap().to_string()
    }

    /// The payments proposed (not blocked) in `folder/proposal.json`.
    fn proposed(&self, folder: &str) -> Vec<serde_json::Value> {
        let text = self.read(&format!("{folder}/proposal.json"));
        let all: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
        all.into_iter().filter(|p| p["blocked"].is_null()).collect()
    }
}

/// Attack 5, finding 08: a backup before the import, L-1 imported, approved and paid by
/// run R, the backup restored (the import and R are gone), then L-1 imported again with
/// its number spelled `l1`: it is the same invoice, so it waits for R's settlement in
/// every folder and is not proposed.
#[test]
fn an_invoice_of_an_unsettled_lost_run_imported_again_spelled_otherwise_waits() {
    let city = City::new("finance-rerun-lost-respelled-waits");
    let backup = city.dir.join("before.db");
    let o = city.run(&["admin", "backup", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(city.dir.join("inv/l1.xml"), invoice("L-1", "1000.00")).unwrap();
    city.import_and_approve();
    let (out, err, code) = city.pay_into("out", &[]);
    assert!(
        code == 0 && out.contains("1 payments proposed"),
        "{out}{err}"
    );
    let run = city.proposed("out")[0]["run"].as_str().unwrap().to_string();
    let o = city.run(&["admin", "restore", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(city.dir.join("inv/l1.xml"), invoice("l1", "1000.00")).unwrap();
    city.import_and_approve();
    let (out, err, code) = city.pay_into("elsewhere", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 payments proposed"), "{out}");
    assert!(
        out.contains(&format!(
            "l1 (Bouw NV): proposed for payment on 2026-11-23 by pay run {run}"
        )),
        "{out}"
    );
    assert!(city.proposed("elsewhere").is_empty());
}

/// Attack 5, finding 11: the supplier was paid on account A by run R, which a restore
/// gave up; until R is settled, A is the supplier's known account: an invoice asking for
/// account B is blocked (a person confirms the new account), naming R.
#[test]
fn a_lost_runs_account_is_the_account_the_supplier_was_paid_on() {
    let city = City::new("finance-rerun-lost-account");
    std::fs::write(
        city.dir.join("inv/l1.xml"),
        invoice_on("L-1", "1000.00", "BB-1", IBAN_A),
    )
    .unwrap();
    let run = city.lost_run_of_approved();
    std::fs::write(
        city.dir.join("inv/l2.xml"),
        invoice_on("L-2", "100.00", "BB-1", IBAN_B),
    )
    .unwrap();
    city.import_and_approve();
    let (out, err, code) = city.pay_into("elsewhere", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(city.proposed("elsewhere").is_empty(), "{out}");
    let csv = city.read("elsewhere/proposal.csv");
    assert!(
        csv.contains(&format!(
            "the IBAN changed: Bouw NV was paid on {IBAN_A} (on 2026-11-23, by pay run {run}, which the log no longer holds), this invoice asks for {IBAN_B}"
        )),
        "{csv}"
    );
    // A person confirms the new account: then it is paid.
    let confirm = format!("{KBO}={IBAN_B}");
    let (out, err, code) = city.pay_into("third", &["--confirm-account", &confirm]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(city.proposed("third").len(), 1, "{out}");
}

/// Attack 5, finding 12: run R withheld the whole social attest (150.00) from the
/// supplier on 2026-11-23 and a restore gave it up; a second run that day withholds
/// nothing more, as after a run the log holds.
#[test]
fn a_lost_runs_withholding_counts_against_the_days_attest() {
    let city = City::new("finance-rerun-lost-attest");
    let orders = city.dir.join("orders.csv");
    let mut text = std::fs::read_to_string(&orders).unwrap();
    text.push_str(&format!("BB-2,{KBO},5000.00,2026-09-01,gebouwen,works\n"));
    std::fs::write(&orders, text).unwrap();
    std::fs::write(
        city.dir.join("debts.json"),
        format!(
            r#"{{"date":"2026-11-23","suppliers":{{"{KBO}":{{"social_debt":"5000.00","tax_debt":"0","self_employed_debt":"0","social_attest":"150.00"}}}}}}"#
        ),
    )
    .unwrap();
    std::fs::write(
        city.dir.join("inv/l1.xml"),
        invoice_on("L-1", "1000.00", "BB-2", IBAN_A),
    )
    .unwrap();
    city.lost_run_of_approved();
    let withheld = |folder: &str| -> Decimal {
        city.proposed(folder)
            .iter()
            .flat_map(|p| {
                p["withheld"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(_, v)| d(v.as_str().unwrap_or("0")))
                    .collect::<Vec<_>>()
            })
            .sum()
    };
    assert_eq!(withheld("lost"), d("150.00"));
    std::fs::write(
        city.dir.join("inv/l2.xml"),
        invoice_on("L-2", "2000.00", "BB-2", IBAN_A),
    )
    .unwrap();
    city.import_and_approve();
    let (out, err, code) = city.pay_into("elsewhere", &[]);
    assert_eq!(code, 0, "{out}{err}");
    let proposed = city.proposed("elsewhere");
    assert_eq!(proposed.len(), 1, "{out}");
    assert_eq!(proposed[0]["invoice"], "L-2");
    assert_eq!(withheld("elsewhere"), d("0"), "{out}");
}

/// Attack 5, finding 13: a credit note for L-1 arrives while L-1 waits on lost run R
/// (matched: set off when L-1 is paid); a person then settles R as paid, so L-1 is never
/// proposed again: the credit note waits in the manual queue for a person to reclaim it.
#[test]
fn a_credit_note_for_an_invoice_a_lost_run_paid_waits_in_the_manual_queue() {
    let city = City::new("finance-rerun-lost-credit");
    std::fs::write(city.dir.join("inv/l1.xml"), invoice("L-1", "1000.00")).unwrap();
    let run = city.lost_run_of_approved();
    std::fs::write(
        city.dir.join("inv/c1.xml"),
        credit_note("C-1", "L-1", "100.00"),
    )
    .unwrap();
    let out = city.import_and_approve();
    assert!(out.contains("1 credit notes matched"), "{out}");
    let queue = |city: &City| {
        let o = city.run(&["queue", "list"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    assert!(!queue(&city).contains("C-1"), "{}", queue(&city));
    let (out, err, code) = city.pay_into("elsewhere", &["--lost-run", &format!("{run}=paid")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 payments proposed"), "{out}");
    let listed = queue(&city);
    assert!(
        listed.contains(&format!(
            "credit note C-1 is for invoice L-1, paid on 2026-11-23 by pay run {run} without it: a person reclaims 121.00 EUR"
        )),
        "{listed}"
    );
}
