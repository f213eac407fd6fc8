//! The withholding obligation of the domain note, rule by rule, on the Hasselt example's
//! rules: one table row per case, every amount computed by hand (in the comments), and the
//! attest cap per supplier and payment day counting only payments actually proposed.

mod support;

use paraaf_runtime::finance::debts::{Debts, DebtsAnswer};
use paraaf_runtime::finance::{self, orders, ubl};
use rust_decimal::Decimal;
use std::cell::Cell;
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

/// An invoice of `excl` + 21% VAT for order `po`, `prepaid` already paid.
fn invoice(number: &str, po: &str, excl: &str, prepaid: &str) -> ubl::Invoice {
    let xml = ubl::write(
        number,
        false,
        KBO,
        "Bouw NV",
        "2026-10-01",
        Some(po),
        d(excl),
        d("21"),
    );
    let incl = {
        let i = ubl::parse("t.xml", xml.as_bytes()).unwrap();
        i.amount_incl_vat
    };
    let xml = if prepaid == "0" {
        xml
    } else {
        xml.replace(
            &format!("<cbc:PayableAmount currencyID=\"EUR\">{incl}</cbc:PayableAmount>"),
            &format!(
                "<cbc:PrepaidAmount currencyID=\"EUR\">{prepaid}</cbc:PrepaidAmount><cbc:PayableAmount currencyID=\"EUR\">{}</cbc:PayableAmount>",
                incl - d(prepaid)
            ),
        )
    };
    ubl::parse("t.xml", xml.as_bytes()).unwrap()
}

/// The same answer for every supplier.
struct Always(DebtsAnswer);
impl Debts for Always {
    fn check(&self, _: &str, _: &str) -> Result<(DebtsAnswer, String), String> {
        Ok((self.0.clone(), "{}".into()))
    }
    fn describe(&self, kbo: &str, date: &str) -> String {
        format!("memory {kbo} {date}")
    }
}

fn answer(social: &str, tax: &str, self_employed: &str) -> DebtsAnswer {
    DebtsAnswer {
        social_debt: d(social),
        tax_debt: d(tax),
        self_employed_debt: d(self_employed),
        ..DebtsAnswer::default()
    }
}

/// Pays `invoices` (all on orders of `category`) on 2026-11-23.
fn pay(invoices: &[ubl::Invoice], category: &str, debts: &dyn Debts) -> Vec<finance::Payment> {
    let project = hasselt();
    let rows: String = invoices
        .iter()
        .map(|i| {
            format!(
                "{},{KBO},1000000.00,2026-09-01,gebouwen,{category}\n",
                i.order_reference.as_deref().unwrap()
            )
        })
        .collect();
    let pos = orders::read_csv(
        "o.csv",
        &format!("reference,supplier,amount,date,dienst,category\n{rows}"),
    )
    .unwrap();
    let m = finance::match_invoices(&project, invoices, &pos, d("2"));
    assert!(m.iter().all(|m| m.queue.is_none()), "{m:#?}");
    finance::propose_payments(&project, invoices, &m, &pos, debts, "2026-11-23")
}

#[test]
fn one_row_per_rule_with_amounts_computed_by_hand() {
    // (case, category, excl. VAT, prepaid, social, tax, self-employed debt,
    //  rsz, fod-financien, rsvz, to the supplier)
    #[rustfmt::skip]
    let table = [
        // 35% of 1000.00 = 350.00 to the RSZ; 1210.00 − 350.00 = 860.00.
        ("social debt, works", "works", "1000.00", "0", "5000", "0", "0", "350.00", "0", "0", "860.00"),
        // 15% of 1000.00 = 150.00 to FOD Financiën; 1210.00 − 150.00.
        ("tax debt, works", "works", "1000.00", "0", "0", "100", "0", "0", "150.00", "0", "1060.00"),
        // Both: 350.00 + 150.00; 1210.00 − 500.00.
        ("both debts", "works", "1000.00", "0", "5000", "100", "0", "350.00", "150.00", "0", "710.00"),
        // Cleaning of buildings is works on immovable property: 35% of 1000.00.
        ("cleaning is works", "cleaning", "1000.00", "0", "5000", "0", "0", "350.00", "0", "0", "860.00"),
        ("cleaning, tax", "cleaning", "1000.00", "0", "0", "1", "0", "0", "150.00", "0", "1060.00"),
        ("guarding", "guarding", "1000.00", "0", "0", "100", "0", "0", "150.00", "0", "1060.00"),
        ("meat", "meat", "1000.00", "0", "5000", "0", "0", "350.00", "0", "0", "860.00"),
        // Supplies and services: no obligation, whatever the debts.
        ("supplies", "supplies", "1000.00", "0", "5000", "100", "3000", "0", "0", "0", "1210.00"),
        ("services", "services", "1000.00", "0", "5000", "0", "0", "0", "0", "0", "1210.00"),
        // Cents: VAT 21% of 1234.56 = 259.2576 → 259.26, incl. 1493.82;
        // 35% = 432.096 → 432.10; 1493.82 − 432.10 = 1061.72.
        ("rounding to the cent", "works", "1234.56", "0", "1", "0", "0", "432.10", "0", "0", "1061.72"),
        // RSVZ: 15% of 1000.00 when the self-employed debt is over 2,500 and nothing else.
        ("self-employed, works", "works", "1000.00", "0", "0", "0", "3000", "0", "0", "150.00", "1060.00"),
        ("self-employed, cleaning", "cleaning", "1000.00", "0", "0", "0", "2500.01", "0", "0", "150.00", "1060.00"),
        // Not over 2,500.00: nothing.
        ("self-employed at 2,500", "works", "1000.00", "0", "0", "0", "2500.00", "0", "0", "0", "1210.00"),
        // Not in guarding (construction and cleaning only).
        ("self-employed, guarding", "guarding", "1000.00", "0", "0", "0", "3000", "0", "0", "0", "1210.00"),
        // With RSZ or tax debts the RSVZ withholding does not apply: 35% / 15% only.
        ("self-employed and RSZ", "works", "1000.00", "0", "5000", "0", "3000", "350.00", "0", "0", "860.00"),
        ("self-employed and tax", "cleaning", "1000.00", "0", "0", "10", "3000", "0", "150.00", "0", "1060.00"),
        // Prepaid 605.00 of 1210.00: 605.00 due now, of which excl. VAT
        // 1000.00 × 605.00 ÷ 1210.00 = 500.00; 35% = 175.00; 605.00 − 175.00 = 430.00.
        ("half prepaid", "works", "1000.00", "605.00", "5000", "0", "0", "175.00", "0", "0", "430.00"),
        // Prepaid 1000.00: 210.00 due, excl. VAT 1000 × 210 ÷ 1210 = 173.553… → 173.55;
        // 35% = 60.7425 → 60.74, 15% = 26.0325 → 26.03; 210.00 − 86.77 = 123.23.
        ("mostly prepaid", "works", "1000.00", "1000.00", "5000", "100", "0", "60.74", "26.03", "0", "123.23"),
    ];
    let mut wrong = Vec::new();
    for (case, category, excl, prepaid, social, tax, se, rsz, fod, rsvz, supplier) in table {
        let inv = invoice("F1", "BB-1", excl, prepaid);
        let p = &pay(&[inv], category, &Always(answer(social, tax, se)))[0];
        let got = |a: &str| p.withheld.get(a).copied().unwrap_or_default();
        let ok = p.blocked.is_none()
            && got("rsz") == d(rsz)
            && got("fod-financien") == d(fod)
            && got("rsvz") == d(rsvz)
            && p.to_supplier == d(supplier)
            && p.to_supplier + p.withheld.values().sum::<Decimal>() == p.amount;
        if !ok {
            wrong.push(format!(
                "{case}: rsz {} fod {} rsvz {} supplier {} blocked {:?}",
                got("rsz"),
                got("fod-financien"),
                got("rsvz"),
                p.to_supplier,
                p.blocked
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn an_attest_caps_the_day_across_invoices() {
    // Attest of 500.00 on a social debt: 350.00 from the first, the remaining 150.00 from
    // the second, nothing from the third.
    let debts = Always(DebtsAnswer {
        social_debt: d("9000"),
        social_attest: Some(d("500.00")),
        ..DebtsAnswer::default()
    });
    let invoices = [
        invoice("A1", "BB-1", "1000.00", "0"),
        invoice("A2", "BB-2", "1000.00", "0"),
        invoice("A3", "BB-3", "1000.00", "0"),
    ];
    let p = pay(&invoices, "works", &debts);
    let rsz: Vec<Decimal> = p
        .iter()
        .map(|x| x.withheld.get("rsz").copied().unwrap_or_default())
        .collect();
    assert_eq!(rsz, [d("350.00"), d("150.00"), d("0")], "{p:#?}");
    assert_eq!(p[2].to_supplier, d("1210.00"));
}

/// Answers `first` the first time, fails on the second call, then answers `first` again:
/// a service that fails in the middle of one invoice's checks.
struct FailsOnce {
    first: DebtsAnswer,
    calls: Cell<u32>,
}
impl Debts for FailsOnce {
    fn check(&self, _: &str, _: &str) -> Result<(DebtsAnswer, String), String> {
        self.calls.set(self.calls.get() + 1);
        if self.calls.get() == 2 {
            Err("the debts service answered HTTP 503".into())
        } else {
            Ok((self.first.clone(), "{}".into()))
        }
    }
    fn describe(&self, kbo: &str, date: &str) -> String {
        format!("memory {kbo} {date}")
    }
}

#[test]
fn a_blocked_payment_uses_none_of_the_attest() {
    // The first invoice withholds 350.00 under the 400.00 attest in the first rule, then
    // is blocked by the second check: it is not paid, so the second invoice still has the
    // whole 400.00: 35% of 1000.00 = 350.00 (not the 50.00 left before the fix).
    let debts = FailsOnce {
        first: DebtsAnswer {
            social_debt: d("9000"),
            social_attest: Some(d("400.00")),
            ..DebtsAnswer::default()
        },
        calls: Cell::new(0),
    };
    let invoices = [
        invoice("B1", "BB-1", "1000.00", "0"),
        invoice("B2", "BB-2", "1000.00", "0"),
    ];
    let p = pay(&invoices, "works", &debts);
    assert!(p[0].blocked.is_some() && p[0].withheld.is_empty(), "{p:#?}");
    assert_eq!(p[0].to_supplier, d("0"));
    assert_eq!(p[1].withheld.get("rsz"), Some(&d("350.00")), "{p:#?}");
    assert_eq!(p[1].to_supplier, d("860.00"));
}

#[test]
fn the_base_is_what_is_paid_now_not_the_whole_invoice() {
    // The reproduction of the issue: 10,000.00 + 21% with 11,000.00 prepaid. Before, the
    // base was the whole 10,000.00 (3,500.00 > 1,100.00 due): blocked, and its 3,500.00
    // used the attest up for the next invoice. Now: 1,100.00 due, excl. VAT
    // 10,000 × 1,100 ÷ 12,100 = 909.0909… → 909.09; 35% = 318.1815 → 318.18.
    let debts = Always(DebtsAnswer {
        social_debt: d("9000"),
        social_attest: Some(d("1000.00")),
        ..DebtsAnswer::default()
    });
    let invoices = [
        invoice("C1", "BB-1", "10000.00", "11000.00"),
        invoice("C2", "BB-2", "2000.00", "0"),
    ];
    let p = pay(&invoices, "works", &debts);
    assert_eq!(p[0].amount_excl_vat, d("909.09"));
    assert_eq!(p[0].withheld.get("rsz"), Some(&d("318.18")), "{p:#?}");
    assert_eq!(p[0].to_supplier, d("781.82"));
    // The attest's remaining 681.82 caps the second (35% of 2,000.00 would be 700.00).
    assert_eq!(p[1].withheld.get("rsz"), Some(&d("681.82")), "{p:#?}");
    assert_eq!(p[1].to_supplier, d("2420.00") - d("681.82"));
}
