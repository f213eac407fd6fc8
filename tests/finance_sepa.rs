//! The SEPA credit-transfer file of `finance pay --accounts` (pain.001.001.09): the
//! supplier's part to the invoice's IBAN with its structured communication, each withheld
//! amount to its agency with its reference, amounts adding up to the proposal; IBANs and
//! structured communications checked; a changed IBAN waits for a person. The end-to-end
//! test leaves its file in `target/finance-sepa/` for `.ci/run` to validate against the
//! official XSD.

mod support;

use paraaf_runtime::finance::sepa;
use paraaf_runtime::finance::ubl;
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::process::Output;
use std::str::FromStr;

const KBO: &str = "0123456749";

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn ibans_bics_and_structured_communications_are_checked() {
    for ok in [
        "BE68539007547034",
        "GB82WEST12345698765432",
        "BE97001234567890",
    ] {
        assert!(sepa::iban_valid(ok), "{ok}");
    }
    for bad in [
        "BE68539007547035",    // one digit off
        "BE6853900754703",     // too short for Belgium
        "be68539007547034",    // not normalised
        "BE68 5390 0754 7034", // spaces
        "BE00001234567890",    // 00 ≡ 97 (mod 97), but never issued
        "XX",
        "",
    ] {
        assert!(!sepa::iban_valid(bad), "{bad}");
    }
    assert_eq!(
        sepa::normalise_iban("be68 5390 0754 7034"),
        "BE68539007547034"
    );
    assert!(sepa::bic_valid("GEBABEBB") && sepa::bic_valid("GEBABEBB36A"));
    assert!(!sepa::bic_valid("GEBA BEBB") && !sepa::bic_valid("GEBABE"));
    // 1234567890 mod 97 = 2: +++123/4567/89002+++.
    assert_eq!(
        sepa::structured_communication("+++123/4567/89002+++"),
        Some(Ok("123456789002".into()))
    );
    assert_eq!(
        sepa::structured_communication("***123/4567/89002***"),
        Some(Ok("123456789002".into()))
    );
    assert!(matches!(
        sepa::structured_communication("+++123/4567/89003+++"),
        Some(Err(e)) if e.contains("check digits")
    ));
    // A multiple of 97 has check digits 97: 0000000097 → 97.
    assert_eq!(
        sepa::structured_communication("+++000/0000/09797+++"),
        Some(Ok("000000009797".into()))
    );
    assert_eq!(sepa::structured_communication("Factuur F1"), None);
}

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
                "reference,supplier,amount,date,dienst,category\nBB-1,{KBO},1000.00,2026-09-01,gebouwen,works\nBB-2,{KBO},1000.00,2026-09-01,gebouwen,works\nBB-3,{KBO},1000.00,2026-09-01,gebouwen,works\n"
            ),
        )
        .unwrap();
        // RSZ and tax debts: 35% and 15% withheld.
        std::fs::write(
            dir.join("debts.json"),
            format!(
                r#"{{"date":"2026-11-23","suppliers":{{"{KBO}":{{"social_debt":"5000","tax_debt":"100","self_employed_debt":"0"}}}}}}"#
            ),
        )
        .unwrap();
        let c = City { dir };
        assert!(c.run(&["deploy", "examples/hasselt"]).status.success());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_at("2026-11-23", args)
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

    fn import(&self) {
        let o = self.run(&[
            "finance",
            "run",
            "examples/hasselt",
            "--invoices",
            self.dir.join("inv").to_str().unwrap(),
            "--orders",
            self.dir.join("orders.csv").to_str().unwrap(),
            "-o",
            self.dir.join("out").to_str().unwrap(),
            "--as",
            "tom-bollen",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    fn pay(&self, extra: &[&str]) -> String {
        let mut args = vec![
            "finance",
            "pay",
            "examples/hasselt",
            "--debts-file",
            self.dir
                .join("debts.json")
                .to_str()
                .unwrap()
                .to_string()
                .leak(),
            "--date",
            "2026-11-23",
            "--accounts",
            "examples/hasselt/data/accounts.json",
            "-o",
            self.dir.join("out").to_str().unwrap().to_string().leak(),
        ];
        args.extend_from_slice(extra);
        let o = self.run(&args);
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    }

    /// Approves every pending invoice.
    fn approve_all(&self) {
        let paid = self.pay(&[]);
        for doc in paid
            .lines()
            .filter_map(|l| l.strip_prefix("pending: "))
            .filter_map(|l| l.split(' ').next())
        {
            support::approve(|a| self.run(a), doc, "tom-bollen");
        }
    }
}

/// An invoice on `po` paying to `iban` with reference `payment_id`.
fn invoice(number: &str, po: &str, iban: &str, payment_id: &str) -> String {
    ubl::write(
        number,
        false,
        KBO,
        "Bouw &amp; Zonen NV",
        "2026-10-01",
        Some(po),
        d("1000.00"),
        d("21"),
    )
    .replace(
        "<cac:TaxTotal>",
        &format!(
            "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cbc:PaymentID>{payment_id}</cbc:PaymentID><cac:PayeeFinancialAccount><cbc:ID>{iban}</cbc:ID><cac:FinancialInstitutionBranch><cbc:ID>GEBABEBB</cbc:ID></cac:FinancialInstitutionBranch></cac:PayeeFinancialAccount></cac:PaymentMeans><cac:TaxTotal>"
        ),
    )
}

/// The amounts of the file's transfers, and its control sum.
fn amounts(xml: &str) -> (Vec<Decimal>, Decimal) {
    let tx = xml
        .split("<InstdAmt Ccy=\"EUR\">")
        .skip(1)
        .map(|s| d(s.split('<').next().unwrap()))
        .collect();
    let sum = d(xml
        .split("<CtrlSum>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap());
    (tx, sum)
}

/// The end-to-end ids of the file's transfers, in order.
fn end_to_end_ids(xml: &str) -> Vec<String> {
    xml.split("<EndToEndId>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect()
}

/// The file's message id.
fn msg_id(xml: &str) -> String {
    xml.split("<MsgId>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string()
}

#[test]
fn finance_pay_writes_a_sepa_file_that_adds_up() {
    let city = City::new("finance-sepa");
    city.invoice_files(&[(
        "s1.xml",
        invoice("S-1", "BB-1", "BE68 5390 0754 7034", "+++123/4567/89002+++"),
    )]);
    city.import();
    city.approve_all();
    let out = city.pay(&[]);
    assert!(out.contains("1 payments proposed"), "{out}");
    assert!(
        out.contains("pain.001.xml: 3 transfers, 1210.00 EUR"),
        "{out}"
    );
    let xml = std::fs::read_to_string(city.dir.join("out/pain.001.xml")).unwrap();
    // 1210.00 = 710.00 to the supplier + 150.00 (15%) to FOD + 350.00 (35%) to the RSZ.
    let (tx, sum) = amounts(&xml);
    assert_eq!(tx, [d("710.00"), d("150.00"), d("350.00")], "{xml}");
    assert_eq!(sum, d("1210.00"));
    let proposal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(city.dir.join("out/proposal.json")).unwrap())
            .unwrap();
    let p = &proposal[0];
    let proposed = d(p["to_supplier"].as_str().unwrap())
        + p["withheld"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| d(v.as_str().unwrap()))
            .sum::<Decimal>();
    assert_eq!(sum, proposed, "the file adds up to the proposal");
    // The message is named after the run the proposal records (the name the operator
    // checks with the bank); each transfer has its own end-to-end id, also in the proposal.
    let run = p["run"].as_str().unwrap();
    assert!(
        xml.contains(&format!("<MsgId>{run}</MsgId>"))
            && xml.contains(&format!("<PmtInfId>{run}-1</PmtInfId>")),
        "{xml}"
    );
    let tail = run.strip_prefix("PARAAF-").unwrap();
    let ids = end_to_end_ids(&xml);
    assert_eq!(ids, [1, 2, 3].map(|n| format!("{tail}-{n}")), "{xml}");
    assert_eq!(p["end_to_end"], serde_json::json!(ids));
    // The invoice number stays where the supplier sees it, beside the structured reference.
    assert!(
        xml.contains("<AddtlRmtInf>Factuur S-1</AddtlRmtInf>"),
        "{xml}"
    );
    // The supplier's transfer: its IBAN and BIC, the structured communication (BBA).
    assert!(xml.contains("<IBAN>BE68539007547034</IBAN>"), "{xml}");
    assert!(xml.contains("<Ref>123456789002</Ref>") && xml.contains("<Issr>BBA</Issr>"));
    // `&` is outside the SEPA character set.
    assert!(xml.contains("<Nm>Bouw Zonen NV</Nm>"), "{xml}");
    // The withheld amounts to the agencies, with their references and the supplier's KBO.
    assert!(xml.contains("<IBAN>BE36679999999999</IBAN>"));
    assert!(xml.contains("<Ustrd>Inhouding art. 30bis RSZ-wet KBO 0123456749 factuur S-1</Ustrd>"));
    assert!(xml.contains("<Ustrd>Inhouding art. 403 WIB92 KBO 0123456749 factuur S-1</Ustrd>"));
    assert!(xml.contains("<ReqdExctnDt><Dt>2026-11-23</Dt></ReqdExctnDt>"));
    // For .ci/run: validated against the official pain.001.001.09 XSD.
    let keep = support::root().join("target/finance-sepa");
    std::fs::create_dir_all(&keep).unwrap();
    std::fs::write(keep.join("pain.001.xml"), &xml).unwrap();
}

#[test]
fn a_changed_iban_or_a_bad_reference_waits_for_a_person() {
    let city = City::new("finance-sepa-fraud");
    // S-1 is paid on BE68 5390 0754 7034.
    city.invoice_files(&[(
        "s1.xml",
        invoice("S-1", "BB-1", "BE68539007547034", "Factuur S-1"),
    )]);
    city.import();
    city.approve_all();
    assert!(city.pay(&[]).contains("1 payments proposed"));
    city.invoice_files(&[
        // Another account than the one S-1 was paid on.
        (
            "s2.xml",
            invoice("S-2", "BB-2", "BE97001234567890", "Factuur S-2"),
        ),
        // A broken structured communication.
        (
            "s3.xml",
            invoice("S-3", "BB-3", "BE68539007547034", "+++123/4567/89003+++"),
        ),
    ]);
    city.import();
    city.approve_all();
    let out = city.pay(&[]);
    assert!(out.contains("0 payments proposed"), "{out}");
    // The first run's files stay; this run's proposal is beside them.
    let csv = std::fs::read_to_string(city.dir.join("out/proposal-2.csv")).unwrap();
    let line = |n: &str| {
        csv.lines()
            .find(|l| l.starts_with(n))
            .unwrap_or_else(|| panic!("{n}: {csv}"))
            .to_string()
    };
    assert!(
        line("S-2,").contains("the IBAN changed")
            && line("S-2,").contains("BE68539007547034")
            && line("S-2,").contains("BE97001234567890"),
        "{csv}"
    );
    assert!(line("S-3,").contains("fails its check digits"), "{csv}");
    // Nothing is transferred: no SEPA file (an empty one fails the XSD), and the first
    // run's, with S-1, is left as it was.
    assert!(out.contains("no transfers: no SEPA file written"), "{out}");
    assert!(!city.dir.join("out/pain.001-2.xml").exists());
    let xml = std::fs::read_to_string(city.dir.join("out/pain.001.xml")).unwrap();
    assert!(
        xml.contains("Factuur S-1") && !xml.contains("S-2") && !xml.contains("S-3"),
        "{xml}"
    );
    // Run again: still blocked, until a person confirms the new account.
    let out = city.pay(&[]);
    assert!(out.contains("0 payments proposed"), "{out}");
    let out = city.pay(&["--confirm-account", &format!("{KBO}=BE97 0012 3456 7890")]);
    assert!(out.contains("1 payments proposed"), "{out}");
    // A confirmation that is no IBAN is refused before anything is recorded.
    let o = city.run(&[
        "finance",
        "pay",
        "examples/hasselt",
        "--debts-file",
        city.dir.join("debts.json").to_str().unwrap(),
        "--date",
        "2026-11-23",
        "--confirm-account",
        &format!("{KBO}=BE00001234567890"),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("fails its check digits"));
    // A confirmation no payment of the run goes to (attack 5, finding 04: given on a day
    // nothing was due) is refused, not forgotten after an exit 0.
    let o = city.run(&[
        "finance",
        "pay",
        "examples/hasselt",
        "--debts-file",
        city.dir.join("debts.json").to_str().unwrap(),
        "--date",
        "2026-11-23",
        "--confirm-account",
        &format!("{KBO}=BE71 0961 2345 6769"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no payment of this run") && err.contains("BE71 0961 2345 6769"),
        "{err}"
    );
}

impl City {
    fn invoice_files(&self, files: &[(&str, String)]) {
        for (name, xml) in files {
            std::fs::write(self.dir.join("inv").join(name), xml).unwrap();
        }
    }
}

/// Attack finding 03/10: no two transfers share an end-to-end id, in one file or across
/// runs, and no two runs share a message id (it was the bare invoice number and a digest
/// of the content); each is at most 35 characters of the SEPA character set.
#[test]
fn every_transfer_and_every_run_has_its_own_identifiers() {
    let city = City::new("finance-sepa-ids");
    city.invoice_files(&[
        (
            "s1.xml",
            invoice("S-1", "BB-1", "BE68539007547034", "Factuur S-1"),
        ),
        (
            "s2.xml",
            invoice("S-2", "BB-2", "BE68539007547034", "Factuur S-2"),
        ),
    ]);
    city.import();
    city.approve_all();
    assert!(city.pay(&[]).contains("2 payments proposed"));
    city.invoice_files(&[("s3.xml", invoice("S-3", "BB-3", "BE68539007547034", "S-3"))]);
    city.import();
    city.approve_all();
    assert!(city.pay(&[]).contains("1 payments proposed"));
    let first = std::fs::read_to_string(city.dir.join("out/pain.001.xml")).unwrap();
    let second = std::fs::read_to_string(city.dir.join("out/pain.001-2.xml")).unwrap();
    assert_ne!(msg_id(&first), msg_id(&second));
    let ids: Vec<String> = end_to_end_ids(&first)
        .into_iter()
        .chain(end_to_end_ids(&second))
        .collect();
    assert_eq!(ids.len(), 9, "3 transfers per payment: {ids:?}");
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    for id in ids.iter().chain([&msg_id(&first), &msg_id(&second)]) {
        assert!(
            id.len() <= 35 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{id}"
        );
    }
    for n in ["S-1", "S-2"] {
        assert!(
            first.contains(&format!("<Ustrd>Factuur {n}</Ustrd>")),
            "{first}"
        );
    }
}

/// Attack finding 06: a debts statement dated after the runtime's today (made before the
/// day it claims to state) is not used: the payment is blocked with the date the
/// statement must carry, and on that day, with that day's statement, it is withheld from.
#[test]
fn a_debts_statement_dated_after_today_is_not_used() {
    let city = City::new("finance-sepa-later-statement");
    city.invoice_files(&[("s1.xml", invoice("S-1", "BB-1", "BE68539007547034", "S-1"))]);
    city.import();
    city.approve_all();
    let later = city.dir.join("debts-later.json");
    std::fs::write(
        &later,
        format!(
            r#"{{"date":"2026-11-30","suppliers":{{"{KBO}":{{"social_debt":"5000","tax_debt":"0","self_employed_debt":"0"}}}}}}"#
        ),
    )
    .unwrap();
    let pay_at = |now: &str, out: &str| {
        let o = city.run_at(
            now,
            &[
                "finance",
                "pay",
                "examples/hasselt",
                "--debts-file",
                later.to_str().unwrap(),
                "--date",
                "2026-11-30",
                "-o",
                city.dir.join(out).to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let out = pay_at("2026-11-23", "early");
    assert!(
        out.contains("0 payments proposed") && out.contains("1 blocked"),
        "{out}"
    );
    let csv = std::fs::read_to_string(city.dir.join("early/proposal.csv")).unwrap();
    assert!(
        csv.contains("is dated 2026-11-30, after today (2026-11-23)")
            && csv.contains("with a statement dated 2026-11-30"),
        "{csv}"
    );
    let out = pay_at("2026-11-30", "on-the-day");
    assert!(
        out.contains("1 payments proposed") && out.contains("350.00 EUR withheld"),
        "{out}"
    );
}
