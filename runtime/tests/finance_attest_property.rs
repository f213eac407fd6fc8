//! Model-based property over a payment day (#27): invoices of one supplier with a social
//! debt and an attest, some prepaid, some blocked when the debts service fails in the
//! middle of their checks, paid in two `finance pay` runs of the same day. The model: each
//! payment actually proposed withholds 35% of its amount excl. VAT paid now, capped by
//! what is left of the attest; a blocked one pays and withholds nothing and uses none of
//! it; every proposal adds up to the amount due.

use paraaf_runtime::finance::debts::{Debts, DebtsAnswer};
use paraaf_runtime::finance::{self, cents, orders, ubl};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::cell::Cell;

const KBO: &str = "0123456749";

fn project() -> paraaf_compiler::compile::CompiledProject {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hasselt");
    let loaded = paraaf_compiler::load::load(&root).unwrap();
    paraaf_compiler::db::compiled(&loaded.db, loaded.project)
        .clone()
        .unwrap()
}

/// A social debt with an attest; the calls in `fail` (counted from 1) fail.
struct Service {
    attest: Decimal,
    fail: Vec<u32>,
    calls: Cell<u32>,
}

impl Debts for Service {
    fn check(&self, _: &str, _: &str) -> Result<(DebtsAnswer, String), String> {
        self.calls.set(self.calls.get() + 1);
        if self.fail.contains(&self.calls.get()) {
            return Err("the debts service answered HTTP 503".into());
        }
        Ok((
            DebtsAnswer {
                social_debt: Decimal::from(100_000),
                social_attest: Some(self.attest),
                ..DebtsAnswer::default()
            },
            "{}".into(),
        ))
    }
    fn describe(&self, kbo: &str, date: &str) -> String {
        format!("memory {kbo} {date}")
    }
}

/// An invoice of `excl_cents` + 21%, with `prepaid_part` (0, 1 or 2) quarters prepaid.
fn invoice(i: usize, excl_cents: i64, prepaid_part: i64) -> ubl::Invoice {
    let excl = Decimal::new(excl_cents, 2);
    let xml = ubl::write(
        &format!("F{i}"),
        false,
        KBO,
        "Bouw NV",
        "2026-10-01",
        Some(&format!("BB-{i}")),
        excl,
        Decimal::from(21),
    );
    let first = ubl::parse("t.xml", xml.as_bytes()).unwrap();
    let prepaid = cents(first.amount_incl_vat * Decimal::from(prepaid_part) / Decimal::from(4));
    let xml = if prepaid.is_zero() {
        xml
    } else {
        xml.replace(
            &format!("<cbc:PayableAmount currencyID=\"EUR\">{}</cbc:PayableAmount>", first.amount),
            &format!(
                "<cbc:PrepaidAmount currencyID=\"EUR\">{prepaid}</cbc:PrepaidAmount><cbc:PayableAmount currencyID=\"EUR\">{}</cbc:PayableAmount>",
                first.amount_incl_vat - prepaid
            ),
        )
    };
    ubl::parse("t.xml", xml.as_bytes()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn the_attest_is_used_by_proposed_payments_only(
        invoices in prop::collection::vec((1i64..2_000_000, 0i64..3), 1..10),
        attest_cents in 0i64..600_000,
        fail in prop::collection::vec(1u32..20, 0..4),
        split in 0usize..10,
    ) {
        let project = project();
        let attest = Decimal::new(attest_cents, 2);
        let all: Vec<ubl::Invoice> = invoices
            .iter()
            .enumerate()
            .map(|(i, (c, p))| invoice(i, *c, *p))
            .collect();
        let rows: String = (0..all.len())
            .map(|i| format!("BB-{i},{KBO},100000.00,2026-09-01,gebouwen,works\n"))
            .collect();
        let pos = orders::read_csv(
            "o.csv",
            &format!("reference,supplier,amount,date,dienst,category\n{rows}"),
        )
        .unwrap();
        let service = Service { attest, fail, calls: Cell::new(0) };
        // Two runs of the same day: the second knows what the first withheld.
        let split = split.min(all.len());
        let mut left = attest;
        let mut withheld_today = finance::Withheld::new();
        for part in [&all[..split], &all[split..]] {
            let m = finance::match_invoices(&project, part, &pos, Decimal::TWO);
            let p = finance::propose_payments_after(
                &project, part, &m, &pos, &service, "2026-11-23", withheld_today.clone(),
            );
            prop_assert_eq!(p.len(), part.len());
            for (pay, inv) in p.iter().zip(part) {
                let rsz = pay.withheld.get("rsz").copied().unwrap_or_default();
                if pay.blocked.is_some() {
                    prop_assert!(pay.withheld.is_empty() && pay.to_supplier.is_zero());
                    continue;
                }
                // The model: 35% of what is paid now excl. VAT, capped by what is left.
                let base = finance::excl_vat_paid_now(inv);
                prop_assert_eq!(pay.amount_excl_vat, base);
                let expected = cents((base * Decimal::from(35) / Decimal::ONE_HUNDRED).min(left));
                prop_assert_eq!(rsz, expected, "{:?}", pay);
                left -= rsz;
                prop_assert_eq!(pay.to_supplier + rsz, inv.amount);
                *withheld_today
                    .entry((KBO.to_string(), "2026-11-23".to_string(), "rsz".to_string()))
                    .or_default() += rsz;
            }
        }
        let total: Decimal = withheld_today.values().sum();
        prop_assert!(total <= attest, "{} withheld under an attest of {}", total, attest);
    }
}
