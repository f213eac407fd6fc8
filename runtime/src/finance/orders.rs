//! Purchase orders from the accounting package's CSV export.

use rust_decimal::Decimal;
use std::str::FromStr;

/// A purchase order (bestelbon).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PurchaseOrder {
    /// Order reference.
    pub reference: String,
    /// Supplier enterprise number (KBO), digits only.
    pub supplier: String,
    /// Amount excluding VAT.
    pub amount: Decimal,
    /// Order date.
    pub date: String,
    /// Ordering service (unit id).
    pub dienst: String,
    /// Purchase category (decides the withholding obligation).
    pub category: String,
}

/// Reads `reference,supplier,amount,date,dienst,category`. Every bad row is reported with
/// its line number; nothing is returned unless all rows are good.
pub fn read_csv(name: &str, text: &str) -> Result<Vec<PurchaseOrder>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map(|h| h.iter().map(str::to_lowercase).collect())
        .unwrap_or_default();
    let cols = [
        "reference",
        "supplier",
        "amount",
        "date",
        "dienst",
        "category",
    ];
    let idx: Vec<Option<usize>> = cols
        .iter()
        .map(|c| header.iter().position(|h| h == c))
        .collect();
    if idx.iter().any(Option::is_none) {
        return Err(vec![format!(
            "{name}:1: the header must have the columns {}",
            cols.join(", ")
        )]);
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for rec in reader.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("{name}: {e}"));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: usize| idx[i].and_then(|j| rec.get(j)).unwrap_or("").to_string();
        let supplier: String = get(1).chars().filter(char::is_ascii_digit).collect();
        let amount = Decimal::from_str(&get(2));
        let date = get(3);
        if get(0).is_empty() {
            errors.push(format!("{name}:{line}: the reference is empty"));
        } else if supplier.len() != 10 {
            errors.push(format!(
                "{name}:{line}: `{}` is not an enterprise number",
                get(1)
            ));
        } else if amount.is_err() {
            errors.push(format!("{name}:{line}: `{}` is not an amount", get(2)));
        } else if !paraaf_compiler::syntax::valid_date(&date) {
            errors.push(format!(
                "{name}:{line}: `{date}` is not a date (YYYY-MM-DD)"
            ));
        } else {
            out.push(PurchaseOrder {
                reference: get(0),
                supplier,
                amount: amount.unwrap_or_default(),
                date,
                dienst: get(4),
                category: get(5),
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
