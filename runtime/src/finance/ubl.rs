//! UBL 2.1 / Peppol BIS Billing 3.0 invoices and credit notes. Elements are matched by
//! namespace URI and local name (prefixes are arbitrary); a DOCTYPE is refused and the
//! size is capped before parsing.

use rust_decimal::Decimal;
use std::str::FromStr;

const CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
const INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";

/// Largest file accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// An invoice line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    /// Line id.
    pub id: String,
    /// Amount excluding VAT (negative on credit notes).
    pub amount: Decimal,
    /// Order line reference (BT-132), if any.
    pub order_line: Option<String>,
}

/// An incoming invoice or credit note.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Invoice {
    /// Source file name.
    pub file: String,
    /// Invoice number (BT-1).
    pub number: String,
    /// Credit note (amounts are negative).
    pub credit_note: bool,
    /// Supplier enterprise number (KBO), digits only.
    pub supplier: String,
    /// Supplier name.
    pub supplier_name: String,
    /// Supplier VAT number.
    pub supplier_vat: Option<String>,
    /// Issue date.
    pub issue_date: String,
    /// Due date.
    pub due_date: Option<String>,
    /// Order reference (BT-13).
    pub order_reference: Option<String>,
    /// Buyer reference (BT-10).
    pub buyer_reference: Option<String>,
    /// Currency.
    pub currency: String,
    /// Total excluding VAT (BT-109).
    pub amount_excl_vat: Decimal,
    /// Total including VAT (BT-112).
    pub amount: Decimal,
    /// Lines.
    pub lines: Vec<Line>,
}

/// Why a file could not be read; names the file and the element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UblError {
    /// File.
    pub file: String,
    /// Element (path) concerned.
    pub element: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for UblError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.element, self.message)
    }
}

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

fn child<'a, 'i>(n: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| {
        c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
    })
}

fn path<'a, 'i>(n: Node<'a, 'i>, steps: &[(&str, &str)]) -> Option<Node<'a, 'i>> {
    steps
        .iter()
        .try_fold(n, |cur, (ns, name)| child(cur, ns, name))
}

fn text(n: Option<Node>) -> Option<String> {
    n.and_then(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Parses one UBL document.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Invoice, UblError> {
    let err = |element: &str, message: String| UblError {
        file: file.to_string(),
        element: element.to_string(),
        message,
    };
    if bytes.len() > MAX_BYTES {
        return Err(err(
            "(file)",
            format!("larger than {} MB", MAX_BYTES / 1024 / 1024),
        ));
    }
    let text_in =
        std::str::from_utf8(bytes).map_err(|e| err("(file)", format!("not UTF-8: {e}")))?;
    let doc = roxmltree::Document::parse_with_options(
        text_in,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: 1_000_000,
        },
    )
    .map_err(|e| err("(file)", format!("not well-formed XML: {e}")))?;
    let root = doc.root_element();
    let credit_note = match (root.tag_name().namespace(), root.tag_name().name()) {
        (Some(INVOICE), "Invoice") => false,
        (Some(CREDIT_NOTE), "CreditNote") => true,
        (ns, name) => {
            return Err(err(
                name,
                format!(
                    "not a UBL Invoice or CreditNote (namespace {})",
                    ns.unwrap_or("none")
                ),
            ));
        }
    };
    let sign = if credit_note {
        Decimal::NEGATIVE_ONE
    } else {
        Decimal::ONE
    };
    let required =
        |n: Option<Node>, element: &str| text(n).ok_or_else(|| err(element, "missing".into()));
    let amount = |n: Option<Node>, element: &str| -> Result<Decimal, UblError> {
        let t = required(n, element)?;
        Decimal::from_str(&t).map_err(|_| err(element, format!("`{t}` is not an amount")))
    };
    let party = path(root, &[(CAC, "AccountingSupplierParty"), (CAC, "Party")])
        .ok_or_else(|| err("cac:AccountingSupplierParty/cac:Party", "missing".into()))?;
    let kbo_raw = text(path(
        party,
        &[(CAC, "PartyLegalEntity"), (CBC, "CompanyID")],
    ))
    .or_else(|| text(child(party, CBC, "EndpointID")))
    .ok_or_else(|| {
        err(
            "cac:PartyLegalEntity/cbc:CompanyID",
            "the supplier's enterprise number is missing".into(),
        )
    })?;
    let supplier: String = kbo_raw.chars().filter(char::is_ascii_digit).collect();
    if supplier.len() != 10 {
        return Err(err(
            "cac:PartyLegalEntity/cbc:CompanyID",
            format!("`{kbo_raw}` is not a Belgian enterprise number (10 digits)"),
        ));
    }
    let totals = child(root, CAC, "LegalMonetaryTotal")
        .ok_or_else(|| err("cac:LegalMonetaryTotal", "missing".into()))?;
    let line_name = if credit_note {
        "CreditNoteLine"
    } else {
        "InvoiceLine"
    };
    let mut lines = Vec::new();
    for l in root.children().filter(|c| {
        c.is_element() && c.tag_name().name() == line_name && c.tag_name().namespace() == Some(CAC)
    }) {
        let id = required(child(l, CBC, "ID"), &format!("cac:{line_name}/cbc:ID"))?;
        let amt = amount(
            child(l, CBC, "LineExtensionAmount"),
            &format!("cac:{line_name}[{id}]/cbc:LineExtensionAmount"),
        )?;
        lines.push(Line {
            id,
            amount: amt * sign,
            order_line: text(path(l, &[(CAC, "OrderLineReference"), (CBC, "LineID")])),
        });
    }
    let party_name = text(path(
        party,
        &[(CAC, "PartyLegalEntity"), (CBC, "RegistrationName")],
    ))
    .or_else(|| text(path(party, &[(CAC, "PartyName"), (CBC, "Name")])))
    .unwrap_or_default();
    Ok(Invoice {
        file: file.to_string(),
        number: required(child(root, CBC, "ID"), "cbc:ID")?,
        credit_note,
        supplier,
        supplier_name: party_name,
        supplier_vat: text(path(party, &[(CAC, "PartyTaxScheme"), (CBC, "CompanyID")])),
        issue_date: required(child(root, CBC, "IssueDate"), "cbc:IssueDate")?,
        due_date: text(child(root, CBC, "DueDate")),
        order_reference: text(path(root, &[(CAC, "OrderReference"), (CBC, "ID")])),
        buyer_reference: text(child(root, CBC, "BuyerReference")),
        currency: text(child(root, CBC, "DocumentCurrencyCode")).unwrap_or_else(|| "EUR".into()),
        amount_excl_vat: amount(
            child(totals, CBC, "TaxExclusiveAmount"),
            "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount",
        )? * sign,
        amount: amount(
            child(totals, CBC, "TaxInclusiveAmount"),
            "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
        )? * sign,
        lines,
    })
}

/// Writes a minimal Peppol BIS 3.0 invoice (for the generator and tests).
#[allow(clippy::too_many_arguments)]
pub fn write(
    number: &str,
    credit_note: bool,
    supplier_kbo: &str,
    supplier_name: &str,
    issue_date: &str,
    order_ref: Option<&str>,
    excl: Decimal,
    vat_rate: Decimal,
) -> String {
    let (root, ns, line) = if credit_note {
        ("CreditNote", CREDIT_NOTE, "CreditNoteLine")
    } else {
        ("Invoice", INVOICE, "InvoiceLine")
    };
    let vat = (excl * vat_rate / Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let order = order_ref
        .map(|r| format!("\n  <cac:OrderReference><cbc:ID>{r}</cbc:ID></cac:OrderReference>"))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="{ns}" xmlns:cac="{CAC}" xmlns:cbc="{CBC}">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issue_date}</cbc:IssueDate>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>{order}
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="0208">{supplier_kbo}</cbc:EndpointID>
    <cac:PartyLegalEntity><cbc:RegistrationName>{supplier_name}</cbc:RegistrationName><cbc:CompanyID>{supplier_kbo}</cbc:CompanyID></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">{excl}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">{excl}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">{incl}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">{incl}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:{line}><cbc:ID>1</cbc:ID><cbc:LineExtensionAmount currencyID="EUR">{excl}</cbc:LineExtensionAmount></cac:{line}>
</{root}>
"#,
        incl = excl + vat
    )
}
