//! Purchase orders from the accounting package's CSV export.

use rust_decimal::Decimal;
use std::str::FromStr;

/// A purchase order (bestelbon).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// Orders by their reference as invoice numbers are compared
/// ([`super::imports::normalise_number`]: `BB-1`, `bb 1` and `BB1` are one order), so
/// an order re-exported with another spelling is the order earlier runs billed. An
/// export holds each reference once ([`read_csv`]); should a list hold two spellings of
/// one, the first counts.
pub fn by_reference(
    orders: &[PurchaseOrder],
) -> std::collections::BTreeMap<String, &PurchaseOrder> {
    let mut out = std::collections::BTreeMap::new();
    for o in orders {
        out.entry(super::imports::normalise_number(&o.reference))
            .or_insert(o);
    }
    out
}

/// Reads `reference,supplier,amount,date,dienst,category`. Every bad row is reported with
/// its line number; nothing is returned unless all rows are good.
pub fn read_csv(name: &str, text: &str) -> Result<Vec<PurchaseOrder>, Vec<String>> {
    read_csv_with(name, text, &[])
}

/// Like [`read_csv`], refusing a category outside `categories` (lower case) unless empty.
pub fn read_csv_with(
    name: &str,
    text: &str,
    categories: &[String],
) -> Result<Vec<PurchaseOrder>, Vec<String>> {
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
    let mut first_line: std::collections::BTreeMap<String, (u64, String)> = Default::default();
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
        // A Belgian enterprise number (dots and `BE` allowed), or a foreign id as the
        // invoice carries it (`SE5567891234`), never digits stripped out of it.
        let raw_supplier = get(1);
        let kbo: String = raw_supplier.chars().filter(char::is_ascii_digit).collect();
        let belgian_form = raw_supplier
            .trim_start_matches("BE")
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ' ');
        let foreign = raw_supplier.len() >= 4
            && raw_supplier.chars().take(2).all(|c| c.is_ascii_uppercase())
            && !raw_supplier.starts_with("BE")
            && raw_supplier.chars().all(|c| c.is_ascii_alphanumeric());
        let supplier = if foreign {
            raw_supplier.clone()
        } else {
            kbo.clone()
        };
        let amount = Decimal::from_str(&get(2));
        let date = get(3);
        let category = get(5).to_lowercase();
        let reference = get(0);
        // One order, however the export spells its reference: compared as invoice
        // numbers are (`BB-1`, `bb 1` and `BB1` are one order).
        let same = super::imports::normalise_number(&reference);
        if reference.is_empty() {
            errors.push(format!("{name}:{line}: the reference is empty"));
        } else if let Some((first, spelled)) = first_line.get(&same) {
            let there = if *spelled == reference {
                String::new()
            } else {
                format!(
                    ", spelled `{spelled}` there: references are compared without case or separators"
                )
            };
            errors.push(format!(
                "{name}:{line}: the reference `{reference}` is used twice (first on line {first}){there}; an invoice quoting it would match either"
            ));
        } else if !foreign && (kbo.len() != 10 || !belgian_form) {
            errors.push(format!(
                "{name}:{line}: `{}` is not an enterprise number",
                get(1)
            ));
        } else if amount.is_err() {
            errors.push(format!("{name}:{line}: `{}` is not an amount", get(2)));
        } else if !paraaf_model::valid_date(&date) {
            errors.push(format!(
                "{name}:{line}: `{date}` is not a date (YYYY-MM-DD)"
            ));
        } else if category.is_empty() {
            errors.push(format!(
                "{name}:{line}: the category is empty; it decides the withholding obligation (e.g. `works`, `supplies`)"
            ));
        } else if !categories.is_empty() && !categories.contains(&category) {
            errors.push(format!(
                "{name}:{line}: `{category}` is not a purchase category of this project (purchase_categories in paraaf.toml: {})",
                categories.join(", ")
            ));
        } else {
            first_line.insert(same, (line, reference.clone()));
            out.push(PurchaseOrder {
                reference,
                supplier,
                amount: amount.unwrap_or_default(),
                date,
                dienst: get(4),
                category,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Reads the JSON export: an array of objects with the same fields as the CSV columns
/// (`amount` as a string or a number). Bad entries are reported by index.
pub fn read_json(name: &str, text: &str) -> Result<Vec<PurchaseOrder>, Vec<String>> {
    read_json_with(name, text, &[])
}

/// Like [`read_json`], with the project's purchase categories.
pub fn read_json_with(
    name: &str,
    text: &str,
    categories: &[String],
) -> Result<Vec<PurchaseOrder>, Vec<String>> {
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(text)
        .map_err(|e| vec![format!("{name}: not a JSON array of purchase orders: {e}")])?;
    let mut csv = String::from("reference,supplier,amount,date,dienst,category\n");
    for row in &rows {
        let field = |k: &str| match row.get(k) {
            Some(serde_json::Value::String(s)) => s.replace(['"', ','], " "),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            field("reference"),
            field("supplier"),
            field("amount"),
            field("date"),
            field("dienst"),
            field("category")
        ));
    }
    // The same validation as the CSV; line N+1 of the CSV is entry N of the array.
    read_csv_with(name, &csv, categories).map_err(|errs| {
        errs.into_iter()
            .map(|e| {
                match e
                    .strip_prefix(&format!("{name}:"))
                    .and_then(|r| r.split_once(':'))
                {
                    Some((line, msg)) => match line.parse::<usize>() {
                        Ok(l) if l >= 2 => format!("{name}: entry {}:{msg}", l - 2),
                        _ => e.clone(),
                    },
                    None => e,
                }
            })
            .collect()
    })
}
