//! A realistic test set with known ground truth: purchase orders, UBL invoices (typos in
//! references, missing references, split deliveries, credit notes, duplicates, invoices
//! without an order) and a debts file.

use super::ubl;
use rust_decimal::Decimal;
use std::fmt::Write;

/// A deterministic xorshift generator (no dependency for test data).
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// In `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The date of the generated debts statement (pay on this date).
pub const DEBTS_DATE: &str = "2026-11-23";

/// The generated set, as file contents.
pub struct Generated {
    /// `orders.csv`.
    pub orders_csv: String,
    /// `(file name, XML)`.
    pub invoices: Vec<(String, String)>,
    /// `truth.csv`: invoice file, expected purchase order or `manual`.
    pub truth_csv: String,
    /// `debts.json`: the debts statement of [`DEBTS_DATE`], naming every supplier.
    pub debts_json: String,
}

const UNITS: &[&str] = &[
    "boekhouding",
    "aankoop",
    "openbaar-domein",
    "gebouwen",
    "schoonmaak",
    "cultuur",
];
const CATEGORIES: &[&str] = &[
    "works", "works", "guarding", "cleaning", "supplies", "services",
];

fn kbo(i: u64) -> String {
    // Belgian enterprise numbers: 10 digits, the last two a mod-97 check.
    let base = 40_000_000 + i * 7919 % 9_999_999;
    format!("{base:08}{:02}", 97 - base % 97)
}

/// Generates `n_orders` purchase orders and about `n_invoices` invoices.
pub fn generate(n_orders: usize, n_invoices: usize, seed: u64) -> Generated {
    let mut rng = Rng::new(seed);
    let suppliers = (n_orders / 8).max(5) as u64;
    let mut orders_csv = String::from("reference,supplier,amount,date,dienst,category\n");
    let mut orders = Vec::new();
    for i in 0..n_orders {
        // One supplier in fifty is foreign (Peppol is EU-wide): a Swedish VAT number.
        let s_index = rng.below(suppliers);
        let supplier = if s_index % 50 == 7 {
            format!("SE{:010}01", 5_500_000_000 + s_index)
        } else {
            kbo(s_index)
        };
        let amount = Decimal::new((rng.below(4_990_000) + 10_000) as i64, 2);
        let reference = format!("BB-2026-{:05}", i + 1);
        let date = format!("2026-{:02}-{:02}", rng.below(9) + 1, rng.below(28) + 1);
        let unit = UNITS[rng.below(UNITS.len() as u64) as usize];
        let category = CATEGORIES[rng.below(CATEGORIES.len() as u64) as usize];
        let _ = writeln!(
            orders_csv,
            "{reference},{supplier},{amount},{date},{unit},{category}"
        );
        orders.push((reference, supplier, amount));
    }
    let mut invoices = Vec::new();
    let mut truth = String::from("file,expected\n");
    let vat = Decimal::from(21);
    let push =
        |invoices: &mut Vec<(String, String)>, truth: &mut String, xml: String, expected: &str| {
            // A foreign seller's ids carry a foreign scheme, never 0208.
            let xml = if xml.contains("schemeID=\"0208\">SE") {
                xml.replace("schemeID=\"0208\">SE", "schemeID=\"0007\">SE")
            } else {
                xml
            };
            let name = format!("inv-{:05}.xml", invoices.len() + 1);
            let _ = writeln!(truth, "{name},{expected}");
            invoices.push((name, xml));
        };
    let mut k = 0;
    while invoices.len() < n_invoices && k < orders.len() {
        let (reference, supplier, amount) = &orders[k];
        k += 1;
        let number = format!("F{:06}", k);
        let roll = rng.below(100);
        let name = format!("Leverancier {}", &supplier[..4]);
        let plain = |rng_number: &str, excl: Decimal| {
            ubl::write(
                rng_number,
                false,
                supplier,
                &name,
                "2026-10-01",
                Some(reference),
                excl,
                vat,
            )
        };
        if roll < 2 {
            // Partly paid in advance: what is due is the rest; matched as usual.
            let xml = plain(&number, *amount);
            let incl = xml
                .split("<cbc:PayableAmount currencyID=\"EUR\">")
                .nth(1)
                .and_then(|r| r.split('<').next())
                .and_then(|t| t.parse::<Decimal>().ok())
                .unwrap_or_default();
            let prepaid = (incl / Decimal::TEN).round_dp(2);
            let xml = xml.replace(
                &format!("<cbc:PayableAmount currencyID=\"EUR\">{incl}</cbc:PayableAmount>"),
                &format!("<cbc:PrepaidAmount currencyID=\"EUR\">{prepaid}</cbc:PrepaidAmount><cbc:PayableAmount currencyID=\"EUR\">{}</cbc:PayableAmount>", incl - prepaid),
            );
            push(&mut invoices, &mut truth, xml, reference);
        } else if roll < 4 {
            // In Norwegian crowns: a person converts it.
            let xml = plain(&number, *amount)
                .replace("\"EUR\"", "\"NOK\"")
                .replace(">EUR<", ">NOK<");
            push(&mut invoices, &mut truth, xml, "manual");
        } else if roll < 6 {
            // Another company quotes this supplier's order: never linked to it.
            let other = kbo(suppliers + 5000 + k as u64);
            let xml = ubl::write(
                &number,
                false,
                &other,
                "Andere NV",
                "2026-10-01",
                Some(reference),
                *amount,
                vat,
            );
            push(&mut invoices, &mut truth, xml, "manual");
        } else if roll < 70 {
            push(
                &mut invoices,
                &mut truth,
                ubl::write(
                    &number,
                    false,
                    supplier,
                    &name,
                    "2026-10-01",
                    Some(reference),
                    *amount,
                    vat,
                ),
                reference,
            );
        } else if roll < 78 {
            // A typo in the reference: found by supplier and amount instead.
            let typo = reference.replace("BB-2026-", "BB2026-");
            push(
                &mut invoices,
                &mut truth,
                ubl::write(
                    &number,
                    false,
                    supplier,
                    &name,
                    "2026-10-01",
                    Some(&typo),
                    *amount,
                    vat,
                ),
                reference,
            );
        } else if roll < 86 {
            // No reference at all, amount within 1%.
            let amt = (*amount * Decimal::new(1005, 3)).round_dp(2);
            push(
                &mut invoices,
                &mut truth,
                ubl::write(
                    &number,
                    false,
                    supplier,
                    &name,
                    "2026-10-01",
                    None,
                    amt,
                    vat,
                ),
                reference,
            );
        } else if roll < 92 {
            // Split delivery: two invoices with the reference.
            let half = (*amount / Decimal::TWO).round_dp(2);
            push(
                &mut invoices,
                &mut truth,
                ubl::write(
                    &format!("{number}-1"),
                    false,
                    supplier,
                    &name,
                    "2026-10-01",
                    Some(reference),
                    half,
                    vat,
                ),
                reference,
            );
            push(
                &mut invoices,
                &mut truth,
                ubl::write(
                    &format!("{number}-2"),
                    false,
                    supplier,
                    &name,
                    "2026-10-15",
                    Some(reference),
                    *amount - half,
                    vat,
                ),
                reference,
            );
        } else if roll < 95 {
            // A credit note quoting the order but naming no invoice (no BillingReference):
            // it cannot be set off by itself, a person does it.
            push(
                &mut invoices,
                &mut truth,
                ubl::write(
                    &format!("C{number}"),
                    true,
                    supplier,
                    &name,
                    "2026-10-20",
                    Some(reference),
                    Decimal::new(5000, 2),
                    vat,
                ),
                "manual",
            );
        } else if roll < 98 {
            // Sent twice: the second is a duplicate.
            let xml = ubl::write(
                &number,
                false,
                supplier,
                &name,
                "2026-10-01",
                Some(reference),
                *amount,
                vat,
            );
            push(&mut invoices, &mut truth, xml.clone(), reference);
            push(&mut invoices, &mut truth, xml, "manual");
        } else {
            // From a supplier without an order.
            let stranger = kbo(suppliers + 1000 + k as u64);
            push(
                &mut invoices,
                &mut truth,
                ubl::write(
                    &number,
                    false,
                    &stranger,
                    "Onbekend BV",
                    "2026-10-01",
                    None,
                    *amount,
                    vat,
                ),
                "manual",
            );
        }
    }
    // More invoices than orders: further partial deliveries on random orders.
    while invoices.len() < n_invoices && !orders.is_empty() {
        let (reference, supplier, amount) = &orders[rng.below(orders.len() as u64) as usize];
        let part = (*amount / Decimal::from(4)).round_dp(2);
        let number = format!("P{:06}", invoices.len() + 1);
        let name = format!("Leverancier {}", &supplier[..4]);
        push(
            &mut invoices,
            &mut truth,
            ubl::write(
                &number,
                false,
                supplier,
                &name,
                "2026-11-02",
                Some(reference),
                part,
                vat,
            ),
            reference,
        );
    }
    // The debts statement of the payment date (2026-11-23) names every supplier: most
    // without debts, every ninth with some.
    let mut debts = serde_json::Map::new();
    for s in 0..suppliers {
        debts.insert(
            kbo(s),
            serde_json::json!({
                "social_debt": "0.00",
                "tax_debt": "0.00",
                "self_employed_debt": "0.00",
            }),
        );
    }
    for s in (0..suppliers).step_by(9) {
        let social = Decimal::new((rng.below(900_000) + 1000) as i64, 2);
        let mut entry = serde_json::json!({
            "social_debt": social.to_string(),
            "tax_debt": "0.00",
            "self_employed_debt": "0.00",
        });
        if s % 2 == 0 {
            entry["tax_debt"] =
                serde_json::json!(Decimal::new((rng.below(400_000) + 1000) as i64, 2).to_string());
        }
        if s % 3 == 0 {
            entry["social_attest"] = serde_json::json!("150.00");
        }
        debts.insert(kbo(s), entry);
    }
    Generated {
        orders_csv,
        invoices,
        truth_csv: truth,
        debts_json: serde_json::to_string_pretty(&serde_json::json!({
            "date": DEBTS_DATE,
            "suppliers": serde_json::Value::Object(debts),
        }))
        .unwrap_or_default(),
    }
}
