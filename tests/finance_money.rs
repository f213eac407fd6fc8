//! The right amount to the right party: each way an invoice once got paid wrongly, tried
//! with real Peppol shapes and hostile input (foreign sellers, prepayments, currencies,
//! broken totals, other suppliers' orders, sloppy debts answers, attests over several
//! invoices), end to end through the library and the `paraaf finance run` command.

mod support;

use paraaf_runtime::finance::debts::{Debts, DebtsAnswer, FileDebts};
use paraaf_runtime::finance::{self, orders, ubl};
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn hasselt() -> paraaf_compiler::compile::CompiledProject {
    let loaded = paraaf_compiler::load::load(&support::root().join("examples/hasselt")).unwrap();
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap()
}

const KBO: &str = "0123456749";

/// A valid invoice of 1,000 EUR + 21% for order `po`.
fn invoice(number: &str, po: &str) -> String {
    ubl::write(
        number,
        false,
        KBO,
        "Bouw NV",
        "2026-10-01",
        Some(po),
        d("1000.00"),
        d("21"),
    )
}

fn parse(xml: &str) -> Result<ubl::Invoice, String> {
    ubl::parse("t.xml", xml.as_bytes()).map_err(|e| e.to_string())
}

/// Debts answers from memory.
struct Answers(Vec<(&'static str, Result<DebtsAnswer, String>)>);
impl Debts for Answers {
    fn check(&self, kbo: &str, _date: &str) -> Result<(DebtsAnswer, String), String> {
        match self.0.iter().find(|(k, _)| *k == kbo) {
            Some((_, Ok(a))) => Ok((a.clone(), "{}".into())),
            Some((_, Err(e))) => Err(e.clone()),
            None => Ok((DebtsAnswer::default(), "{}".into())),
        }
    }
    fn describe(&self, kbo: &str, date: &str) -> String {
        format!("memory {kbo} {date}")
    }
}

fn orders_csv(rows: &str) -> Vec<orders::PurchaseOrder> {
    orders::read_csv(
        "o.csv",
        &format!("reference,supplier,amount,date,dienst,category\n{rows}"),
    )
    .unwrap()
}

#[test]
fn sellers_are_identified_by_scheme() {
    // A Swedish seller whose id has 10 digits is not a Belgian enterprise.
    let se = invoice("S1", "BB-1")
        .replace(
            &format!("<cbc:EndpointID schemeID=\"0208\">{KBO}</cbc:EndpointID>"),
            "<cbc:EndpointID schemeID=\"0007\">5567891234</cbc:EndpointID>",
        )
        .replace(
            &format!("<cbc:CompanyID>{KBO}</cbc:CompanyID>"),
            "<cbc:CompanyID>SE556789123401</cbc:CompanyID>",
        );
    let i = parse(&se).unwrap();
    assert!(!i.belgian);
    assert_eq!(i.supplier, "SE556789123401");
    // A Belgian VAT number (9925) gives the enterprise number.
    let vat = invoice("V1", "BB-1").replace(
        &format!("<cbc:EndpointID schemeID=\"0208\">{KBO}</cbc:EndpointID>"),
        &format!("<cbc:EndpointID schemeID=\"9925\">BE{KBO}</cbc:EndpointID>"),
    );
    let i = parse(&vat).unwrap();
    assert!(i.belgian && i.supplier == KBO);
    // A foreign contractor doing works: never paid unchecked, a person decides.
    let project = hasselt();
    let pos = orders_csv(
        "BB-1,SE556789123401,1000.00,2026-09-01,gebouwen,works\nBB-2,SE556789123401,1000.00,2026-09-01,gebouwen,supplies\n",
    );
    let works = parse(&se).unwrap();
    let supplies = parse(
        &se.replace("BB-1", "BB-2")
            .replace("<cbc:ID>S1</cbc:ID>", "<cbc:ID>S2</cbc:ID>"),
    )
    .unwrap();
    let invoices = vec![works, supplies];
    let matches = finance::match_invoices(&project, &invoices, &pos, d("2"));
    assert!(
        matches
            .iter()
            .all(|m| m.purchase_order.is_some() && m.queue.is_none()),
        "{matches:#?}"
    );
    let pay = finance::propose_payments(
        &project,
        &invoices,
        &matches,
        &pos,
        &Answers(vec![]),
        "2026-11-23",
    );
    assert!(
        pay[0]
            .blocked
            .as_ref()
            .unwrap()
            .contains("no Belgian enterprise number")
    );
    assert_eq!(pay[0].to_supplier, d("0"));
    assert!(pay[1].blocked.is_none() && pay[1].to_supplier == d("1210.00"));
}

#[test]
fn the_payable_amount_is_paid() {
    // 1,000 prepaid and 0.01 rounding: what is due is 1,210 − 1,000 + 0.01.
    let xml = invoice("P1", "BB-1")
        .replace(
            "<cbc:PayableAmount currencyID=\"EUR\">1210.00</cbc:PayableAmount>",
            "<cbc:PrepaidAmount currencyID=\"EUR\">1000.00</cbc:PrepaidAmount><cbc:PayableRoundingAmount currencyID=\"EUR\">0.01</cbc:PayableRoundingAmount><cbc:PayableAmount currencyID=\"EUR\">210.01</cbc:PayableAmount>",
        );
    let i = parse(&xml).unwrap();
    assert_eq!(
        (i.amount, i.amount_incl_vat, i.prepaid),
        (d("210.01"), d("1210.00"), d("1000.00"))
    );
    let project = hasselt();
    let pos = orders_csv(&format!(
        "BB-1,{KBO},1000.00,2026-09-01,gebouwen,supplies\n"
    ));
    let invoices = vec![i];
    let m = finance::match_invoices(&project, &invoices, &pos, d("2"));
    let p = finance::propose_payments(
        &project,
        &invoices,
        &m,
        &pos,
        &Answers(vec![]),
        "2026-11-23",
    );
    assert_eq!(p[0].to_supplier, d("210.01"));
    // A payable amount that does not add up is rejected, naming the rule.
    let wrong = xml.replace(">210.01<", ">1210.00<");
    assert!(
        parse(&wrong).unwrap_err().contains("BR-CO-16"),
        "{}",
        parse(&wrong).unwrap_err()
    );
}

#[test]
fn totals_amounts_and_dates_are_validated() {
    let ok = invoice("T1", "BB-1");
    let cases: Vec<(String, &str)> = vec![
        (ok.replace("<cbc:TaxInclusiveAmount currencyID=\"EUR\">1210.00", "<cbc:TaxInclusiveAmount currencyID=\"EUR\">900.00"), "BR-CO-15"),
        (ok.replace("<cbc:LineExtensionAmount currencyID=\"EUR\">1000.00</cbc:LineExtensionAmount>\n", "<cbc:LineExtensionAmount currencyID=\"EUR\">999.00</cbc:LineExtensionAmount>\n"), "BR-CO-10"),
        (ok.replace("  <cac:LegalMonetaryTotal>", "  <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID=\"EUR\">1.00</cbc:PayableAmount></cac:LegalMonetaryTotal>\n  <cac:LegalMonetaryTotal>"), "appears more than once"),
        (ok.replace(">1210.00</cbc:PayableAmount>", ">12<!-- c -->10.00</cbc:PayableAmount>"), "plain text"),
        (ok.replace(">1210.00</cbc:PayableAmount>", ">1210.000</cbc:PayableAmount>"), "more than two decimals"),
        (ok.replace("<cbc:IssueDate>2026-10-01", "<cbc:IssueDate>31/12/2026"), "not a date"),
        (ok.replace("currencyID=\"EUR\">1210.00</cbc:PayableAmount>", "currencyID=\"USD\">1210.00</cbc:PayableAmount>"), "in USD"),
        (ok.replace(">1210.00</cbc:PayableAmount>", ">1e3</cbc:PayableAmount>"), "not an amount"),
    ];
    for (xml, why) in cases {
        let err = parse(&xml).expect_err(why);
        assert!(err.contains(why), "{why}: {err}");
    }
    // Another currency is not paid as euro: a person converts it.
    let nok = ok.replace("\"EUR\"", "\"NOK\"").replace(">EUR<", ">NOK<");
    let i = parse(&nok).unwrap();
    let project = hasselt();
    let pos = orders_csv(&format!(
        "BB-1,{KBO},1000.00,2026-09-01,gebouwen,supplies\n"
    ));
    let m = finance::match_invoices(&project, &[i], &pos, d("2"));
    assert!(m[0].queue.as_ref().unwrap().1.contains("in NOK"), "{m:?}");
}

#[test]
fn a_20000_deep_file_is_rejected_by_name() {
    let deep = format!("<a>{}{}</a>", "<b>".repeat(20_000), "</b>".repeat(20_000));
    let err = ubl::parse("deep.xml", deep.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("deep.xml: (file): elements are nested more than"),
        "{err}"
    );
}

#[test]
fn matching_cannot_be_fooled() {
    let project = hasselt();
    // Another supplier's supplies order, quoted by a contractor with debts: not linked.
    let pos = orders_csv("BB-9,0999999990,1000.00,2026-09-01,gebouwen,supplies\n");
    let invoices = vec![parse(&invoice("X1", "BB-9")).unwrap()];
    let m = finance::match_invoices(&project, &invoices, &pos, d("2"));
    assert!(
        m[0].purchase_order.is_none() && m[0].start.is_none(),
        "{m:?}"
    );
    assert!(m[0].queue.is_some(), "{m:?}");
    // Duplicate references and empty categories are refused at import, with lines;
    // a category in capitals means the same (`Works` is works).
    let errs = orders::read_csv("o.csv", &format!("reference,supplier,amount,date,dienst,category\nBB-1,{KBO},1.00,2026-09-01,a,works\nBB-1,{KBO},2.00,2026-09-01,a,supplies\nBB-2,{KBO},2.00,2026-09-01,a,\n")).unwrap_err();
    assert!(
        errs[0].contains("o.csv:3: the reference `BB-1` is used twice (first on line 2)"),
        "{errs:?}"
    );
    assert!(
        errs[1].contains("o.csv:4: the category is empty"),
        "{errs:?}"
    );
    let pos = orders_csv(&format!("BB-1,{KBO},1000.00,2026-09-01,gebouwen,Works\n"));
    assert_eq!(pos[0].category, "works");
}

#[test]
fn debts_answers_are_strict() {
    for body in [
        "[]",
        "{}",
        r#"{"error":"down"}"#,
        r#"{"socialDebt":"0","taxDebt":"0","selfEmployedDebt":"0"}"#,
        r#"{"social_debt":"-5","tax_debt":"0","self_employed_debt":"0"}"#,
    ] {
        let parsed: Result<DebtsAnswer, _> = serde_json::from_str(body);
        assert!(
            parsed.is_err() || parsed.unwrap().validate().is_err(),
            "{body} was accepted"
        );
    }
    let dir = support::tempdir("debts-files");
    for (name, text, why) in [
        (
            "typo.json",
            format!(
                r#"{{"date":"2026-11-23","suppliers":{{"{KBO}":{{"socail_debt":"1.00","tax_debt":"0","self_employed_debt":"0"}}}}}}"#
            ),
            "unknown field `socail_debt`",
        ),
        (
            "be.json",
            format!(
                r#"{{"date":"2026-11-23","suppliers":{{"BE{KBO}":{{"social_debt":"1.00","tax_debt":"0","self_employed_debt":"0"}}}}}}"#
            ),
            "is not an enterprise number",
        ),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        let err = FileDebts::open(&p).err().expect(name);
        assert!(err.contains(why), "{name}: {err}");
    }
}

#[test]
fn an_attest_caps_per_supplier_and_day_across_invoices() {
    let project = hasselt();
    let pos = orders_csv(&format!(
        "BB-1,{KBO},1000.00,2026-09-01,gebouwen,works\nBB-2,{KBO},1000.00,2026-09-01,gebouwen,works\n"
    ));
    let invoices = vec![
        parse(&invoice("A1", "BB-1")).unwrap(),
        parse(&invoice("A2", "BB-2")).unwrap(),
    ];
    let m = finance::match_invoices(&project, &invoices, &pos, d("2"));
    let answers = Answers(vec![(
        KBO,
        Ok(DebtsAnswer {
            social_debt: d("5000.00"),
            social_attest: Some(d("150.00")),
            ..DebtsAnswer::default()
        }),
    )]);
    let p = finance::propose_payments(&project, &invoices, &m, &pos, &answers, "2026-11-23");
    let rsz: Decimal = p.iter().filter_map(|x| x.withheld.get("rsz")).sum();
    assert_eq!(rsz, d("150.00"), "{p:#?}");
    assert_eq!(p[0].withheld.get("rsz"), Some(&d("150.00")));
    assert_eq!(p[1].to_supplier, d("1210.00"));
}

#[test]
fn runs_are_idempotent_and_outputs_safe() {
    let dir = support::tempdir("finance-runs");
    let inv = dir.join("inv");
    std::fs::create_dir_all(&inv).unwrap();
    let orders = dir.join("orders.csv");
    let data = support::root().join("examples/hasselt/data");
    std::fs::copy(data.join("orders.csv"), &orders).unwrap();
    let first = std::fs::read_dir(data.join("invoices"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let xml = std::fs::read_to_string(&first).unwrap();
    // A hostile invoice number for spreadsheets, in an upper-case `.XML` file.
    let number = xml
        .split("<cbc:ID>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        inv.join("A.XML"),
        xml.replacen(
            &format!("<cbc:ID>{number}</cbc:ID>"),
            "<cbc:ID>=HYPERLINK(\"x\",\"y\"),1</cbc:ID>",
            1,
        ),
    )
    .unwrap();
    std::fs::write(inv.join("b.xml"), &xml).unwrap();
    // The same file twice in one folder: imported once (the copy never takes over).
    std::fs::write(inv.join("c.xml"), &xml).unwrap();
    // A malformed file and a foreign seller in the same batch: one outcome each.
    std::fs::write(
        inv.join("d.xml"),
        "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"><broken",
    )
    .unwrap();
    let foreign = invoice("SE-1", "BB-NONE")
        .replace(
            &format!("<cbc:EndpointID schemeID=\"0208\">{KBO}</cbc:EndpointID>"),
            "<cbc:EndpointID schemeID=\"0007\">SE556789123401</cbc:EndpointID>",
        )
        .replace(
            &format!("<cbc:CompanyID>{KBO}</cbc:CompanyID>"),
            "<cbc:CompanyID>SE556789123401</cbc:CompanyID>",
        );
    std::fs::write(inv.join("e.xml"), foreign).unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args([
                "finance",
                "run",
                "examples/hasselt",
                "--invoices",
                inv.to_str().unwrap(),
                "--orders",
                orders.to_str().unwrap(),
                "-o",
                dir.join("out").to_str().unwrap(),
                "--as",
                "tom-bollen",
                "--db",
                dir.join("f.db").to_str().unwrap(),
            ])
            .current_dir(support::root())
            .env("PARAAF_NOW", "2026-11-23")
            .output()
            .unwrap()
    };
    let deploy = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args([
            "deploy",
            "examples/hasselt",
            "--db",
            dir.join("f.db").to_str().unwrap(),
        ])
        .current_dir(support::root())
        .output()
        .unwrap();
    assert!(
        deploy.status.success(),
        "{}",
        String::from_utf8_lossy(&deploy.stderr)
    );
    let o = run();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.starts_with("5 files: "), "{out}");
    assert!(out.contains(", 1 rejected, 1 already imported"), "{out}");
    let matches = std::fs::read_to_string(dir.join("out/matches.json")).unwrap();
    assert!(
        matches.contains("\"file\": \"e.xml\""),
        "the foreign invoice has an outcome"
    );
    assert!(
        std::fs::read_to_string(dir.join("out/rejected.txt"))
            .unwrap()
            .starts_with("d.xml: (file): not well-formed XML")
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr)
            .matches("already imported")
            .count(),
        1
    );
    // Approve both, pay: the hostile number is neutralised in the CSV.
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(args)
            .args(["--db", dir.join("f.db").to_str().unwrap()])
            .current_dir(support::root())
            .env("PARAAF_NOW", "2026-11-23")
            .output()
            .unwrap()
    };
    // Both documents started (their ids are random: read from the database).
    let docs: Vec<String> = paraaf_runtime::store::Store::open(&dir.join("f.db"))
        .unwrap()
        .load()
        .unwrap()
        .documents
        .keys()
        .cloned()
        .collect();
    assert_eq!(docs.len(), 2, "{docs:?}");
    for doc in &docs {
        support::approve(cli, doc, "tom-bollen");
    }
    let o = cli(&[
        "finance",
        "pay",
        "examples/hasselt",
        "--debts-file",
        "examples/hasselt/data/debts.json",
        "--date",
        "2026-11-23",
        "-o",
        dir.join("out").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(dir.join("out/proposal.csv")).unwrap();
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"x\"\",\"\"y\"\"),1\""),
        "{csv}"
    );
    // The same folder again: nothing new is imported.
    let o = run();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    assert_eq!(err.matches("already imported").count(), 4, "{err}");
}

#[test]
fn categories_are_a_closed_set_of_the_project() {
    let cats = vec!["works".to_string(), "supplies".to_string()];
    let errs = orders::read_csv_with(
        "o.csv",
        &format!("reference,supplier,amount,date,dienst,category\nBB-1,{KBO},1.00,2026-09-01,a,Works\nBB-2,{KBO},1.00,2026-09-01,a,werken\n"),
        &cats,
    )
    .unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("o.csv:3: `werken` is not a purchase category"),
        "{errs:?}"
    );
    let loaded = paraaf_compiler::load::load(&support::root().join("examples/hasselt")).unwrap();
    assert!(loaded.purchase_categories.contains(&"works".to_string()));
}

/// What an outside attack on the payments found (each once paid money wrongly).
#[test]
fn attacks_on_the_payment_are_refused() {
    let ok = invoice("Z1", "BB-1");
    let endpoint = format!("<cbc:EndpointID schemeID=\"0208\">{KBO}</cbc:EndpointID>");
    let cases: Vec<(String, &str)> = vec![
        // Two Belgian enterprises in one invoice: which one has the debts?
        (ok.replace(&format!("<cbc:CompanyID>{KBO}</cbc:CompanyID>"), "<cbc:CompanyID>0400003155</cbc:CompanyID>"), "two Belgian enterprises"),
        // VAT inflated to shrink the withholding base: the breakdown does not hold.
        (ok.replace(">210.00</cbc:TaxAmount><cac:TaxSubtotal>", ">11100.00</cbc:TaxAmount><cac:TaxSubtotal>").replace(">1210.00</cbc:TaxInclusiveAmount>", ">12100.00</cbc:TaxInclusiveAmount>").replace(">1210.00</cbc:PayableAmount>", ">12100.00</cbc:PayableAmount>"), "BR-CO-14"),
        // More prepaid than the total.
        (ok.replace("<cbc:PayableAmount currencyID=\"EUR\">1210.00</cbc:PayableAmount>", "<cbc:PrepaidAmount currencyID=\"EUR\">1500.00</cbc:PrepaidAmount><cbc:PayableAmount currencyID=\"EUR\">-290.00</cbc:PayableAmount>"), "below zero"),
        // A credit note's type code in an Invoice.
        (ok.replace("<cbc:IssueDate>", "<cbc:InvoiceTypeCode>381</cbc:InvoiceTypeCode><cbc:IssueDate>"), "credit note"),
        // A "rounding" of 5,000.
        (ok.replace("<cbc:PayableAmount currencyID=\"EUR\">1210.00</cbc:PayableAmount>", "<cbc:PayableRoundingAmount currencyID=\"EUR\">5000.00</cbc:PayableRoundingAmount><cbc:PayableAmount currencyID=\"EUR\">6210.00</cbc:PayableAmount>"), "rounding"),
        // Two invoice numbers.
        (ok.replace("<cbc:ID>Z1</cbc:ID>", "<cbc:ID>Z1</cbc:ID><cbc:ID>Z2</cbc:ID>"), "more than once"),
    ];
    for (xml, why) in cases {
        let err = parse(&xml).expect_err(why);
        assert!(err.contains(why), "{why}: {err}");
    }
    // A foreign endpoint with a 10-digit company id is not a Belgian enterprise number.
    let foreign = ok
        .replace(
            &endpoint,
            "<cbc:EndpointID schemeID=\"9930\">DE123456789</cbc:EndpointID>",
        )
        .replace(
            &format!("<cbc:CompanyID>{KBO}</cbc:CompanyID>"),
            "<cbc:CompanyID schemeID=\"0088\">0400003155</cbc:CompanyID>",
        );
    let i = parse(&foreign).unwrap();
    assert!(!i.belgian && i.supplier.len() != 10, "{}", i.supplier);
    // The same invoice number from the same supplier with another date: a duplicate,
    // in one batch and after an earlier import.
    let project = hasselt();
    let pos = orders_csv(&format!(
        "BB-1,{KBO},1000.00,2026-09-01,gebouwen,supplies\n"
    ));
    let a = parse(&ok).unwrap();
    let b = parse(&ok.replace("2026-10-01", "2026-10-02")).unwrap();
    let m = finance::match_invoices(&project, &[a.clone(), b.clone()], &pos, d("2"));
    assert!(m[0].queue.is_none() && m[1].queue.is_some(), "{m:?}");
    let earlier = finance::imports::History {
        numbers: [(KBO.to_string(), "invoice".to_string(), "Z1".to_string())].into(),
        ..Default::default()
    };
    let m = finance::match_invoices_after(&project, &[b], &pos, d("2"), &earlier);
    assert!(m[0].queue.is_some(), "{m:?}");
    // An attest cap already used by an earlier run of the same day.
    let pos = orders_csv(&format!("BB-1,{KBO},1000.00,2026-09-01,gebouwen,works\n"));
    let m = finance::match_invoices(&project, std::slice::from_ref(&a), &pos, d("2"));
    let answers = Answers(vec![(
        KBO,
        Ok(DebtsAnswer {
            social_debt: d("5000.00"),
            social_attest: Some(d("150.00")),
            ..DebtsAnswer::default()
        }),
    )]);
    let used = [(
        (KBO.to_string(), "2026-11-23".to_string(), "rsz".to_string()),
        d("150.00"),
    )]
    .into();
    let p = finance::propose_payments_after(&project, &[a], &m, &pos, &answers, "2026-11-23", used);
    assert_eq!(
        p[0].withheld.get("rsz").copied().unwrap_or_default(),
        d("0"),
        "{p:?}"
    );
    // Two entries for one enterprise in a debts file.
    let dir = support::tempdir("debts-dup");
    let f = dir.join("d.json");
    std::fs::write(&f, format!(r#"{{"date":"2026-11-23","suppliers":{{"{KBO}":{{"social_debt":"900.00","tax_debt":"0","self_employed_debt":"0"}},"{KBO}":{{"social_debt":"0","tax_debt":"0","self_employed_debt":"0"}}}}}}"#)).unwrap();
    assert!(
        FileDebts::open(&f)
            .err()
            .unwrap()
            .contains("more than once")
    );
}
