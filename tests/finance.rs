//! Finance automation: UBL import, matching quality on a generated set with known truth,
//! the withholding check against a fake debts service, and the Hasselt example end to end.

mod support;

use paraaf_runtime::finance::debts::{Debts, HttpDebts};
use paraaf_runtime::finance::{self, generate, orders, ubl};
use rust_decimal::Decimal;
use std::io::{Read, Write};
use std::str::FromStr;

fn hasselt() -> paraaf_compiler::compile::CompiledProject {
    let loaded = paraaf_compiler::load::load(&support::root().join("examples/hasselt")).unwrap();
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn matching_precision_and_recall_on_a_generated_set() {
    let project = hasselt();
    let g = generate::generate(1500, 2000, 11);
    assert_eq!(g.invoices.len(), 2000);
    let invoices: Vec<ubl::Invoice> = g
        .invoices
        .iter()
        .map(|(n, x)| ubl::parse(n, x.as_bytes()).unwrap())
        .collect();
    let pos = orders::read_csv("orders.csv", &g.orders_csv).unwrap();
    let truth: std::collections::BTreeMap<&str, &str> = g
        .truth_csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .collect();
    let matches = finance::match_invoices(&project, &invoices, &pos, d("2"));
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for m in &matches {
        let expected = truth[m.file.as_str()];
        let got = if m.queue.is_none() {
            m.purchase_order.as_deref()
        } else {
            None
        };
        match got {
            Some(po) if po == expected => tp += 1,
            Some(_) => fp += 1,
            None => {}
        }
        if expected != "manual" && got != Some(expected) {
            fn_ += 1;
        }
        if expected == "manual" {
            assert!(
                m.queue.is_some(),
                "{} should go to the manual queue",
                m.file
            );
        }
    }
    let precision = tp as f64 / (tp + fp) as f64;
    let recall = tp as f64 / (tp + fn_) as f64;
    eprintln!(
        "matching: precision {precision:.4}, recall {recall:.4} ({tp} right, {fp} wrong, {fn_} missed)"
    );
    // Never a wrong link, whatever the set holds (foreign sellers, prepayments, NOK,
    // other companies quoting an order).
    assert_eq!(fp, 0, "precision {precision}");
    assert!(recall >= 0.97, "recall {recall}");
    assert!(invoices.iter().filter(|i| !i.belgian).count() > 10);
    assert!(invoices.iter().any(|i| i.prepaid > Decimal::ZERO));
    assert!(invoices.iter().any(|i| i.currency == "NOK"));
    // Every manual item says why; over-invoicing is flagged.
    assert!(
        matches
            .iter()
            .filter_map(|m| m.queue.as_ref())
            .all(|(q, reason)| q == "manuele-koppeling" && !reason.is_empty())
    );
    assert!(
        matches
            .iter()
            .any(|m| m.flags.iter().any(|f| f.starts_with("over-invoiced")))
    );
    assert!(
        matches
            .iter()
            .any(|m| m.flags.iter().any(|f| f.starts_with("partial")))
    );
}

#[test]
fn purchase_orders_from_csv_or_json() {
    let csv = "reference,supplier,amount,date,dienst,category\nBB-1,0123456749,100.50,2026-09-01,gebouwen,works\n";
    let json = r#"[{"reference":"BB-1","supplier":"0123456749","amount":"100.50","date":"2026-09-01","dienst":"gebouwen","category":"works"}]"#;
    assert_eq!(
        orders::read_csv("o.csv", csv).unwrap(),
        orders::read_json("o.json", json).unwrap()
    );
    let bad = r#"[{"reference":"BB-1","supplier":"0123456749","amount":"100.50","date":"2026-09-01","dienst":"x","category":"y"},{"reference":"BB-2","supplier":"12","amount":1,"date":"2026-09-01"}]"#;
    assert_eq!(
        orders::read_json("o.json", bad).unwrap_err(),
        ["o.json: entry 1: `12` is not an enterprise number"]
    );
    assert_eq!(
        orders::read_csv(
            "o.csv",
            "reference,supplier,amount,date,dienst,category\nBB-1,0123456749,veel,2026-09-01,x,y\n"
        )
        .unwrap_err(),
        ["o.csv:2: `veel` is not an amount"]
    );
}

#[test]
fn ubl_is_read_by_namespace_and_refuses_bad_input() {
    // Other prefixes, same namespaces: same invoice.
    let xml = ubl::write(
        "F1",
        false,
        "0123456749",
        "Bouw NV",
        "2026-10-01",
        Some("BB-1"),
        d("1000.00"),
        d("21"),
    );
    let renamed = xml
        .replace("cac:", "a:")
        .replace("xmlns:cac", "xmlns:a")
        .replace("cbc:", "b:")
        .replace("xmlns:cbc", "xmlns:b");
    let a = ubl::parse("a.xml", xml.as_bytes()).unwrap();
    let b = ubl::parse("a.xml", renamed.as_bytes()).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        (a.amount_excl_vat, a.amount, a.order_reference.as_deref()),
        (d("1000.00"), d("1210.00"), Some("BB-1"))
    );
    let credit = ubl::parse(
        "c.xml",
        ubl::write(
            "C1",
            true,
            "0123456749",
            "Bouw NV",
            "2026-10-01",
            Some("BB-1"),
            d("50"),
            d("21"),
        )
        .as_bytes(),
    )
    .unwrap();
    assert!(credit.credit_note && credit.amount_excl_vat == d("-50"));
    // A DOCTYPE is refused (no entity expansion), and errors name file and element.
    let doctype = xml.replacen(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]>",
        1,
    );
    assert!(
        ubl::parse("evil.xml", doctype.as_bytes())
            .unwrap_err()
            .to_string()
            .starts_with("evil.xml: (file): not well-formed XML")
    );
    let no_total = xml.replace(
        "<cbc:TaxExclusiveAmount currencyID=\"EUR\">1000.00</cbc:TaxExclusiveAmount>",
        "",
    );
    assert_eq!(
        ubl::parse("t.xml", no_total.as_bytes())
            .unwrap_err()
            .to_string(),
        "t.xml: cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount: missing"
    );
    let bad_kbo = xml
        .replace("0123456749</cbc:CompanyID>", "12</cbc:CompanyID>")
        .replace("0123456749</cbc:EndpointID>", "12</cbc:EndpointID>");
    assert!(
        ubl::parse("k.xml", bad_kbo.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("`12` is not a Belgian enterprise number")
    );
}

/// A fake debts service: answers per path, or hangs, or fails.
fn fake_debts(behaviour: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 2048];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let (status, body) = match behaviour {
                "timeout" => {
                    std::thread::sleep(std::time::Duration::from_secs(3));
                    ("200 OK", "{}".to_string())
                }
                "500" => ("500 Internal Server Error", "oops".to_string()),
                _ if req.contains("/debts/0123456749?date=2026-11-23") => (
                    "200 OK",
                    r#"{"kbo":"0123456749","date":"2026-11-23","social_debt":"5000.00","tax_debt":"100.00","self_employed_debt":"0.00","tax_attest":"40.00"}"#
                        .to_string(),
                ),
                _ => (
                    "200 OK",
                    r#"{"social_debt":"0.00","tax_debt":"0.00","self_employed_debt":"0.00"}"#
                        .to_string(),
                ),
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn withholding_against_a_fake_debts_service() {
    let project = hasselt();
    let pos = orders::read_csv("o.csv", "reference,supplier,amount,date,dienst,category\nBB-1,0123456749,10000.00,2026-09-01,gebouwen,works\nBB-2,0123456749,999.99,2026-09-01,gebouwen,supplies\n").unwrap();
    let invoices = vec![
        ubl::parse(
            "1.xml",
            ubl::write(
                "F1",
                false,
                "0123456749",
                "Bouw NV",
                "2026-10-01",
                Some("BB-1"),
                d("10000.00"),
                d("21"),
            )
            .as_bytes(),
        )
        .unwrap(),
        ubl::parse(
            "2.xml",
            ubl::write(
                "F2",
                false,
                "0123456749",
                "Bouw NV",
                "2026-10-01",
                Some("BB-2"),
                d("999.99"),
                d("21"),
            )
            .as_bytes(),
        )
        .unwrap(),
    ];
    let matches = finance::match_invoices(&project, &invoices, &pos, d("2"));
    let service = HttpDebts::new(fake_debts("ok"), std::time::Duration::from_secs(2), 1);
    let payments =
        finance::propose_payments(&project, &invoices, &matches, &pos, &service, "2026-11-23");
    // Works: 35% social (no attest: no cap) and 15% tax capped by the 40 EUR attest.
    assert_eq!(payments[0].withheld.get("rsz"), Some(&d("3500.00")));
    assert_eq!(payments[0].withheld.get("fod-financien"), Some(&d("40.00")));
    assert_eq!(payments[0].to_supplier, d("12100.00") - d("3540.00"));
    assert!(
        payments[0].checks[0]
            .0
            .contains("/debts/0123456749?date=2026-11-23")
    );
    assert_eq!(
        payments[0].checks[0].1.len(),
        64,
        "the response is hashed for the audit log"
    );
    // Supplies are outside the obligation: paid in full, no check made.
    assert!(payments[1].withheld.is_empty() && payments[1].checks.is_empty());
    assert_eq!(payments[1].to_supplier, d("1209.99"));
    // 35% to the cent, half away from zero.
    assert_eq!(
        finance::cents(d("999.99") * d("35") / d("100")),
        d("350.00")
    );
    assert_eq!(finance::cents(d("0.125")), d("0.13"));

    // HTTPS endpoints are supported (a closed port here: blocked, with the reason).
    let https = HttpDebts::new(
        "https://127.0.0.1:9",
        std::time::Duration::from_millis(500),
        0,
    );
    let reason = https.check("0123456749", "2026-11-23").unwrap_err();
    assert!(
        reason.starts_with("the debts service cannot be reached") && !reason.contains("scheme"),
        "{reason}"
    );

    for behaviour in ["timeout", "500"] {
        let service = HttpDebts::new(
            fake_debts(behaviour),
            std::time::Duration::from_millis(500),
            1,
        );
        let started = std::time::Instant::now();
        let payments =
            finance::propose_payments(&project, &invoices, &matches, &pos, &service, "2026-11-23");
        let reason = payments[0]
            .blocked
            .as_deref()
            .unwrap_or_else(|| panic!("{behaviour}: must block"));
        assert!(
            reason.starts_with("payment blocked: the debts service"),
            "{reason}"
        );
        assert!(reason.ends_with("(after 2 attempts)"), "{reason}");
        assert_eq!(
            payments[0].to_supplier,
            Decimal::ZERO,
            "never pays out in full by default"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let _ = service.describe("x", "y");
    }
}

#[test]
fn hasselt_end_to_end() {
    let city_dir = support::tempdir("finance");
    let db = city_dir.join("hasselt.db");
    let out = city_dir.join("proposal");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(args)
            .env("PARAAF_DB", &db)
            .env("PARAAF_NOW", "2026-11-23")
            .current_dir(support::root())
            .output()
            .unwrap()
    };
    assert!(run(&["deploy", "examples/hasselt"]).status.success());
    let o = run(&[
        "finance",
        "run",
        "examples/hasselt",
        "--invoices",
        "examples/hasselt/data/invoices",
        "--orders",
        "examples/hasselt/data/orders.csv",
        "-o",
        out.to_str().unwrap(),
        "--as",
        "tom-bollen",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.starts_with("60 files: "), "{stdout}");
    let pay = || {
        run(&[
            "finance",
            "pay",
            "examples/hasselt",
            "--debts-file",
            "examples/hasselt/data/debts.json",
            "--date",
            "2026-11-23",
            "-o",
            out.to_str().unwrap(),
        ])
    };
    // Nothing is paid before the ordering service approved it.
    let o = pay();
    let paid = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{paid}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        paid.contains("0 payments proposed for approved invoices"),
        "{paid}"
    );
    // Document ids are random: the first one pending of an order for works (so a debts
    // check is made), as the output names it.
    let works: Vec<String> = std::fs::read_to_string("examples/hasselt/data/orders.csv")
        .or_else(|_| {
            std::fs::read_to_string(support::root().join("examples/hasselt/data/orders.csv"))
        })
        .unwrap()
        .lines()
        .filter(|l| l.ends_with(",works"))
        .filter_map(|l| l.split(',').next().map(str::to_string))
        .collect();
    let matches: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("matches.json")).unwrap()).unwrap();
    let for_works: Vec<&str> = matches
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["purchase_order"]
                .as_str()
                .is_some_and(|p| works.iter().any(|w| w == p))
        })
        .filter_map(|m| m["invoice"].as_str())
        .collect();
    let first = paid
        .lines()
        .filter_map(|l| l.strip_prefix("pending: "))
        .find(|l| for_works.iter().any(|n| l.split(' ').nth(1) == Some(n)))
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("nothing pending: {paid}"))
        .to_string();
    assert!(first.starts_with("d-"), "{paid}");
    // Approve one invoice (every open task of that document), then it is proposed, once.
    let signer = support::approve(run, &first, "tom-bollen");
    let o = pay();
    let paid = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        paid.contains("1 payments proposed for approved invoices"),
        "{paid}"
    );
    let csv = std::fs::read_to_string(out.join("proposal.csv")).unwrap();
    assert!(csv.starts_with("invoice,supplier,supplier_name,amount,amount_excl_vat,to_supplier,fod-financien,rsvz,rsz,blocked\n"));
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let o = pay();
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 payments proposed"));
    // The signer (who may see the invoice) reads the debts check and the payment in the
    // log; someone who may not see it reads neither.
    let log = String::from_utf8_lossy(&run(&["log", "--as", &signer]).stdout).to_string();
    assert!(
        log.contains("\"type\":\"debts_checked\"") && log.contains("\"type\":\"payment_proposed\""),
        "{log}"
    );
    assert!(log.contains("withheld: "), "{log}");
    // Approval flows started for the ordering services; debts checks are in the audit log.
    let inbox = String::from_utf8_lossy(&run(&["inbox", "ilse-vranken"]).stdout).to_string();
    let log = paraaf_runtime::store::Store::open(&db)
        .unwrap()
        .events()
        .unwrap();
    assert!(
        log.iter()
            .any(|(_, _, body)| body.contains("\"type\":\"debts_checked\""))
    );
    assert!(
        log.iter()
            .any(|(_, _, body)| body.contains("\"flow\":\"factuur-goedkeuring\"")),
        "{inbox}"
    );
    assert!(String::from_utf8_lossy(&run(&["audit", "verify"]).stdout).starts_with("ok:"));

    // A malformed invoice is rejected on its own, naming file and element.
    let bad = city_dir.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("a.xml"),
        "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"/>",
    )
    .unwrap();
    let o = run(&[
        "finance",
        "run",
        "examples/hasselt",
        "--invoices",
        bad.to_str().unwrap(),
        "--orders",
        "examples/hasselt/data/orders.csv",
        "-o",
        city_dir.join("nothing").to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("rejected: a.xml: cbc:DocumentCurrencyCode: missing")
    );
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .starts_with("1 files: 0 matched, 0 to the manual queue, 1 rejected")
    );
}
