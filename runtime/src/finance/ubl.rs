//! UBL 2.1 / Peppol BIS Billing 3.0 invoices and credit notes. Elements are matched by
//! namespace URI and local name (prefixes are arbitrary); a DOCTYPE is refused and the
//! size is capped before parsing.

use rust_decimal::Decimal;

const CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
const INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";

/// Largest file accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// An invoice line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    /// Line id.
    pub id: String,
    /// Amount excluding VAT (negative on credit notes).
    pub amount: Decimal,
    /// Order line reference (BT-132), if any.
    pub order_line: Option<String>,
}

/// An incoming invoice or credit note.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Invoice {
    /// Source file name.
    pub file: String,
    /// Invoice number (BT-1).
    pub number: String,
    /// Credit note (amounts are negative).
    pub credit_note: bool,
    /// The supplier: its Belgian enterprise number (KBO, 10 digits) when it has one (an
    /// id with scheme 0208, or a Belgian VAT number, 9925), else its foreign id as given
    /// (`SE5567891234`); see `belgian`.
    pub supplier: String,
    /// Whether `supplier` is a Belgian enterprise number (only then is a debts check made).
    pub belgian: bool,
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
    /// Total excluding VAT (BT-109): the base of withholdings.
    pub amount_excl_vat: Decimal,
    /// What is due (BT-115, `PayableAmount` = incl. VAT − prepaid + rounding): what is paid.
    pub amount: Decimal,
    /// Total including VAT (BT-112).
    pub amount_incl_vat: Decimal,
    /// Already paid (BT-113).
    pub prepaid: Decimal,
    /// Lines.
    pub lines: Vec<Line>,
    /// The invoice a credit note corrects (BT-25, `cac:BillingReference`), if named.
    #[serde(default)]
    pub billing_reference: Option<String>,
    /// The account to pay (BT-84, `cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID`).
    #[serde(default)]
    pub iban: Option<String>,
    /// Its bank (BT-86, `cac:FinancialInstitutionBranch/cbc:ID`).
    #[serde(default)]
    pub bic: Option<String>,
    /// The payment reference (BT-83, `cbc:PaymentID`): a structured communication or text.
    #[serde(default)]
    pub payment_id: Option<String>,
    /// Who is paid when it is not the seller (BT-59, `cac:PayeeParty`: factoring).
    #[serde(default)]
    pub payee: Option<String>,
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

/// Deepest element nesting accepted; checked on the bytes before a tree is built.
pub const MAX_DEPTH: usize = 64;

/// How deep elements nest, read off the bytes (tags, comments, CDATA, PIs skipped).
fn nesting_depth(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &text[i..];
        let skip = |end: &str| rest.find(end).map_or(b.len(), |e| i + e + end.len());
        if rest.starts_with("<!--") {
            i = skip("-->");
        } else if rest.starts_with("<![CDATA[") {
            i = skip("]]>");
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            i = skip(">");
        } else if rest.starts_with("</") {
            depth = depth.saturating_sub(1);
            i = skip(">");
        } else {
            let end = skip(">");
            if !text[i..end].ends_with("/>") {
                depth += 1;
                max = max.max(depth);
            }
            i = end;
        }
    }
    max
}

/// The two parts of a Belgian enterprise number: `BE0123456789`, `0123.456.789`.
fn kbo_digits(s: &str) -> Option<String> {
    let t = s.trim();
    let t = t
        .strip_prefix("BE")
        .or_else(|| t.strip_prefix("be"))
        .unwrap_or(t);
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | ' '))
    {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 10 && kbo_check(&digits)).then_some(digits)
}

/// The check of an enterprise number: its last two digits are 97 minus the first eight
/// mod 97.
pub fn kbo_check(digits: &str) -> bool {
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (Ok(base), Ok(check)) = (digits[..8].parse::<u64>(), digits[8..].parse::<u64>()) else {
        return false;
    };
    check == 97 - base % 97
}

/// The largest amount read (a city's invoice never comes near; far from any overflow).
pub const MAX_AMOUNT: i64 = 999_999_999_999;

/// Elements an invoice has at most once, under the root and under the totals.
const ONCE_AT_ROOT: &[(&str, &str)] = &[
    (CBC, "ID"),
    (CBC, "IssueDate"),
    (CBC, "DueDate"),
    (CBC, "InvoiceTypeCode"),
    (CBC, "CreditNoteTypeCode"),
    (CBC, "DocumentCurrencyCode"),
    (CBC, "BuyerReference"),
    (CAC, "OrderReference"),
    (CAC, "AccountingSupplierParty"),
    (CAC, "AccountingCustomerParty"),
    (CAC, "PayeeParty"),
    (CAC, "LegalMonetaryTotal"),
];
const ONCE_IN_TOTALS: &[&str] = &[
    "LineExtensionAmount",
    "TaxExclusiveAmount",
    "TaxInclusiveAmount",
    "AllowanceTotalAmount",
    "ChargeTotalAmount",
    "PrepaidAmount",
    "PayableRoundingAmount",
    "PayableAmount",
];

/// The first element of `names` that `n` holds more than once.
fn twice<'n>(n: Node, names: impl IntoIterator<Item = (&'n str, &'n str)>) -> Option<String> {
    names.into_iter().find_map(|(ns, name)| {
        let count = n
            .children()
            .filter(|c| {
                c.is_element()
                    && c.tag_name().name() == name
                    && c.tag_name().namespace() == Some(ns)
            })
            .count();
        (count > 1).then(|| {
            let prefix = if ns == CBC { "cbc" } else { "cac" };
            format!("{prefix}:{name}")
        })
    })
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
    if nesting_depth(text_in) > MAX_DEPTH {
        return Err(err(
            "(file)",
            format!("elements are nested more than {MAX_DEPTH} deep; no invoice is"),
        ));
    }
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
    if let Some(code) = text(child(root, CBC, "InvoiceTypeCode"))
        && ["381", "396", "81", "83", "532"].contains(&code.as_str())
    {
        return Err(err(
            "cbc:InvoiceTypeCode",
            format!(
                "{code} is a credit note's type code in an Invoice: a credit note is sent as a CreditNote"
            ),
        ));
    }
    // An element allowed once, given twice, would let one reader see one and another
    // reader the other.
    if let Some(e) = twice(root, ONCE_AT_ROOT.iter().copied()) {
        return Err(err(&e, "appears more than once".into()));
    }
    for totals in root.children().filter(|c| {
        c.is_element()
            && c.tag_name().name() == "LegalMonetaryTotal"
            && c.tag_name().namespace() == Some(CAC)
    }) {
        if let Some(e) = twice(totals, ONCE_IN_TOTALS.iter().map(|n| (CBC, *n))) {
            return Err(err(
                &format!("cac:LegalMonetaryTotal/{e}"),
                "appears more than once".into(),
            ));
        }
    }
    if let Some(party) = path(root, &[(CAC, "AccountingSupplierParty"), (CAC, "Party")])
        && let Some(e) = twice(party, [(CBC, "EndpointID"), (CAC, "PartyLegalEntity")])
    {
        return Err(err(
            &format!("cac:AccountingSupplierParty/cac:Party/{e}"),
            "appears more than once".into(),
        ));
    }
    let currency = text(child(root, CBC, "DocumentCurrencyCode"))
        .ok_or_else(|| err("cbc:DocumentCurrencyCode", "missing (BR-05)".into()))?;
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(err(
            "cbc:DocumentCurrencyCode",
            format!("`{currency}` is not a currency code"),
        ));
    }
    let required =
        |n: Option<Node>, element: &str| text(n).ok_or_else(|| err(element, "missing".into()));
    // An amount: one text node (no comment or element inside), at most two decimals, in
    // the document's currency.
    let amount = |n: Option<Node>, element: &str| -> Result<Decimal, UblError> {
        let Some(node) = n else {
            return Err(err(element, "missing".into()));
        };
        if node.children().any(|c| !c.is_text()) {
            return Err(err(
                element,
                "an amount must be plain text (a comment or element inside it)".into(),
            ));
        }
        let t = required(Some(node), element)?;
        let d = Decimal::from_str_exact(&t)
            .ok()
            .filter(|_| {
                t.chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
            })
            .ok_or_else(|| err(element, format!("`{t}` is not an amount")))?;
        if d.abs() > Decimal::from(MAX_AMOUNT) {
            return Err(err(
                element,
                format!("`{t}` is larger than any invoice (at most {MAX_AMOUNT}.99)"),
            ));
        }
        if d.scale() > 2 {
            return Err(err(
                element,
                format!("`{t}` has more than two decimals (BR-DEC)"),
            ));
        }
        if let Some(c) = node.attribute("currencyID")
            && c != currency
        {
            return Err(err(
                element,
                format!("in {c}, but the invoice is in {currency} (BR-CO-xx currency)"),
            ));
        }
        Ok(d)
    };
    let opt_amount = |n: Option<Node>, element: &str| -> Result<Decimal, UblError> {
        match n {
            None => Ok(Decimal::ZERO),
            Some(_) => amount(n, element),
        }
    };
    let date = |n: Option<Node>, element: &str| -> Result<Option<String>, UblError> {
        match text(n) {
            None => Ok(None),
            Some(d) if paraaf_model::valid_date(&d) => Ok(Some(d)),
            Some(d) => Err(err(element, format!("`{d}` is not a date (YYYY-MM-DD)"))),
        }
    };
    let party = path(root, &[(CAC, "AccountingSupplierParty"), (CAC, "Party")])
        .ok_or_else(|| err("cac:AccountingSupplierParty/cac:Party", "missing".into()))?;
    // The seller's identity by scheme: 0208 is a Belgian enterprise number, 9925 a
    // Belgian VAT number; anything else is a foreign id, never turned into a KBO.
    let endpoint = child(party, CBC, "EndpointID");
    let legal = path(party, &[(CAC, "PartyLegalEntity"), (CBC, "CompanyID")]);
    let tax = path(party, &[(CAC, "PartyTaxScheme"), (CBC, "CompanyID")]);
    let mut belgian_id = None;
    let mut lookalikes = Vec::new();
    for n in [legal, endpoint, tax].into_iter().flatten() {
        let scheme = n.attribute("schemeID");
        let t = n.text().unwrap_or("").trim().to_string();
        let found = match scheme {
            Some("0208") | Some("9925") => Some(kbo_digits(&t).ok_or_else(|| {
                err(
                    &format!(
                        "cbc:{}[@schemeID={}]",
                        n.tag_name().name(),
                        scheme.unwrap_or("")
                    ),
                    format!(
                        "`{t}` is not a Belgian enterprise number (10 digits, the last two 97 minus the first eight mod 97)"
                    ),
                )
            })?),
            // Without a scheme: only a `BE` VAT number with a valid check; ten digits
            // alone (a Polish NIP, …) are a foreign id.
            None if t.starts_with("BE") || t.starts_with("be") => kbo_digits(&t),
            _ => None,
        };
        match (&belgian_id, found) {
            (None, f) => belgian_id = f,
            (Some(a), Some(b)) if *a != b => {
                return Err(err(
                    "cac:AccountingSupplierParty/cac:Party",
                    format!(
                        "the seller's ids name two Belgian enterprises ({a} and {b}): a person must say which one is paid"
                    ),
                ));
            }
            _ => {}
        }
        if scheme.is_none()
            && let Some(digits) = kbo_digits(&t)
        {
            lookalikes.push(digits);
        }
    }
    // Ten digits without a scheme that pass the check beside another Belgian id: which
    // enterprise has the debts is not clear, so a person decides.
    if let Some(a) = &belgian_id
        && let Some(b) = lookalikes.iter().find(|b| *b != a)
    {
        return Err(err(
            "cac:AccountingSupplierParty/cac:Party",
            format!(
                "the seller's ids name two Belgian enterprises ({a} and {b}): a person must say which one is paid"
            ),
        ));
    }
    let (supplier, belgian) = match belgian_id {
        Some(k) => (k, true),
        None => {
            let node = [tax, legal, endpoint]
                .into_iter()
                .flatten()
                .find(|n| text(Some(*n)).is_some())
                .ok_or_else(|| {
                    err(
                        "cac:AccountingSupplierParty/cac:Party",
                        "the seller has no id (EndpointID, CompanyID)".into(),
                    )
                })?;
            let id = text(Some(node)).unwrap_or_default();
            // A foreign id never passes for a Belgian enterprise number (10 digits).
            let foreign = if id.len() == 10 && id.chars().all(|c| c.is_ascii_digit()) {
                format!("{}:{id}", node.attribute("schemeID").unwrap_or("foreign"))
            } else {
                id
            };
            (foreign, false)
        }
    };
    let all_totals: Vec<Node> = root
        .children()
        .filter(|c| {
            c.is_element()
                && c.tag_name().name() == "LegalMonetaryTotal"
                && c.tag_name().namespace() == Some(CAC)
        })
        .collect();
    let totals = match all_totals.as_slice() {
        [one] => *one,
        [] => return Err(err("cac:LegalMonetaryTotal", "missing".into())),
        _ => {
            return Err(err(
                "cac:LegalMonetaryTotal",
                "appears more than once".into(),
            ));
        }
    };
    let line_name = if credit_note {
        "CreditNoteLine"
    } else {
        "InvoiceLine"
    };
    let mut lines = Vec::new();
    let mut line_sum = Decimal::ZERO;
    for l in root.children().filter(|c| {
        c.is_element() && c.tag_name().name() == line_name && c.tag_name().namespace() == Some(CAC)
    }) {
        let id = required(child(l, CBC, "ID"), &format!("cac:{line_name}/cbc:ID"))?;
        let amt = amount(
            child(l, CBC, "LineExtensionAmount"),
            &format!("cac:{line_name}[{id}]/cbc:LineExtensionAmount"),
        )?;
        line_sum += amt;
        lines.push(Line {
            id,
            amount: amt * sign,
            order_line: text(path(l, &[(CAC, "OrderLineReference"), (CBC, "LineID")])),
        });
    }
    let t = |name: &str| format!("cac:LegalMonetaryTotal/cbc:{name}");
    let line_total = amount(
        child(totals, CBC, "LineExtensionAmount"),
        &t("LineExtensionAmount"),
    )?;
    let allowances = opt_amount(
        child(totals, CBC, "AllowanceTotalAmount"),
        &t("AllowanceTotalAmount"),
    )?;
    let charges = opt_amount(
        child(totals, CBC, "ChargeTotalAmount"),
        &t("ChargeTotalAmount"),
    )?;
    let excl = amount(
        child(totals, CBC, "TaxExclusiveAmount"),
        &t("TaxExclusiveAmount"),
    )?;
    let incl = amount(
        child(totals, CBC, "TaxInclusiveAmount"),
        &t("TaxInclusiveAmount"),
    )?;
    let prepaid = opt_amount(child(totals, CBC, "PrepaidAmount"), &t("PrepaidAmount"))?;
    let rounding = opt_amount(
        child(totals, CBC, "PayableRoundingAmount"),
        &t("PayableRoundingAmount"),
    )?;
    let payable = amount(child(totals, CBC, "PayableAmount"), &t("PayableAmount"))?;
    // The tax total in the document currency (the one without a currency of its own).
    let tax_total = root
        .children()
        .filter(|c| {
            c.is_element()
                && c.tag_name().name() == "TaxTotal"
                && c.tag_name().namespace() == Some(CAC)
        })
        .filter_map(|c| child(c, CBC, "TaxAmount"))
        .find(|a| a.attribute("currencyID").is_none_or(|c| c == currency));
    let vat = amount(tax_total, "cac:TaxTotal/cbc:TaxAmount")?;
    // The VAT breakdown (BR-CO-18, BR-CO-14) and each category's rate (BR-S-09).
    let tax_total_node = tax_total.and_then(|a| a.parent());
    let subtotals: Vec<Node> = tax_total_node
        .map(|t| {
            t.children()
                .filter(|c| {
                    c.is_element()
                        && c.tag_name().name() == "TaxSubtotal"
                        && c.tag_name().namespace() == Some(CAC)
                })
                .collect()
        })
        .unwrap_or_default();
    if subtotals.is_empty() {
        return Err(err(
            "cac:TaxTotal/cac:TaxSubtotal",
            "BR-CO-18: the VAT breakdown is missing".into(),
        ));
    }
    let mut sub_vat = Decimal::ZERO;
    let mut sub_base = Decimal::ZERO;
    for st in &subtotals {
        let base = amount(
            child(*st, CBC, "TaxableAmount"),
            "cac:TaxSubtotal/cbc:TaxableAmount",
        )?;
        let tax = amount(
            child(*st, CBC, "TaxAmount"),
            "cac:TaxSubtotal/cbc:TaxAmount",
        )?;
        // Category O (outside the scope of VAT) has no rate and no VAT (BR-O-05, BR-O-09).
        let category = text(path(*st, &[(CAC, "TaxCategory"), (CBC, "ID")]));
        let percent = path(*st, &[(CAC, "TaxCategory"), (CBC, "Percent")]);
        let pct_text = if category.as_deref() == Some("O") && percent.is_none() {
            if !tax.is_zero() {
                return Err(err(
                    "cac:TaxSubtotal/cbc:TaxAmount",
                    format!("BR-O-09: category O (not subject to VAT) has no VAT, not {tax}"),
                ));
            }
            "0".to_string()
        } else {
            required(percent, "cac:TaxSubtotal/cac:TaxCategory/cbc:Percent")?
        };
        let pct = Decimal::from_str_exact(&pct_text)
            .ok()
            .filter(|p| *p >= Decimal::ZERO && *p <= Decimal::from(27))
            .ok_or_else(|| {
                err(
                    "cac:TaxCategory/cbc:Percent",
                    format!("`{pct_text}` is not a VAT rate of the EU (0 to 27%)"),
                )
            })?;
        let expected = (base * pct / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        if (expected - tax).abs() > Decimal::new(1, 2) {
            return Err(err(
                "cac:TaxSubtotal/cbc:TaxAmount",
                format!("BR-S-09: {pct}% of {base} is {expected}, not {tax}"),
            ));
        }
        sub_vat += tax;
        sub_base += base;
    }
    if sub_vat != vat {
        return Err(err(
            "cac:TaxTotal/cbc:TaxAmount",
            format!("BR-CO-14: the VAT total {vat} is not the sum of the breakdown ({sub_vat})"),
        ));
    }
    if sub_base != excl {
        return Err(err(
            "cac:TaxSubtotal/cbc:TaxableAmount",
            format!("the taxable amounts ({sub_base}) are not the total excl. VAT ({excl})"),
        ));
    }
    if rounding.abs() >= Decimal::ONE {
        return Err(err(
            &t("PayableRoundingAmount"),
            format!("a rounding of {rounding}: rounding is less than one euro"),
        ));
    }
    // A negative invoice (the official "negative correction invoice") takes money back:
    // it is handled as a credit note (set off against the invoice it names, or a person
    // does it), never paid.
    let correction = !credit_note && incl < Decimal::ZERO && excl <= Decimal::ZERO;
    if payable < Decimal::ZERO && !correction {
        return Err(err(
            &t("PayableAmount"),
            format!(
                "{payable}: nothing can be paid below zero (prepaid more than the total); a person checks it"
            ),
        ));
    }
    // A prepaid amount below zero is a surcharge hidden in the totals: BR-CO-16 holds,
    // but what is due exceeds the total incl. VAT. A person checks it; never paid.
    if prepaid < Decimal::ZERO && !correction {
        return Err(err(
            &t("PrepaidAmount"),
            format!(
                "{prepaid}: a prepaid amount below zero makes the amount due ({payable}) more than the total incl. VAT ({incl}); a person checks it"
            ),
        ));
    }
    // The Peppol BIS 3.0 calculation rules on the totals.
    let rules = [
        (
            "BR-CO-10",
            "the sum of the lines",
            line_total == line_sum,
            format!("{line_total} ≠ {line_sum}"),
        ),
        (
            "BR-CO-13",
            "lines − allowances + charges",
            excl == line_total - allowances + charges,
            format!("{excl} ≠ {line_total} − {allowances} + {charges}"),
        ),
        (
            "BR-CO-15",
            "excl. VAT + VAT",
            incl == excl + vat,
            format!("{incl} ≠ {excl} + {vat}"),
        ),
        (
            "BR-CO-16",
            "incl. VAT − prepaid + rounding",
            payable == incl - prepaid + rounding,
            format!("{payable} ≠ {incl} − {prepaid} + {rounding}"),
        ),
    ];
    if let Some((rule, what, _, detail)) = rules.iter().find(|r| !r.2) {
        return Err(err(
            "cac:LegalMonetaryTotal",
            format!("{rule}: the total is not {what} ({detail})"),
        ));
    }
    if (excl < Decimal::ZERO || incl < Decimal::ZERO) && !correction {
        return Err(err(
            "cac:LegalMonetaryTotal",
            if credit_note {
                "negative totals in a credit note: its amounts are written positive".into()
            } else {
                "negative VAT-exclusive total with a positive total including VAT: the totals contradict each other".into()
            },
        ));
    }
    let credit_note = credit_note || correction;
    // The first means of payment that names an account (a credit transfer).
    let means = root.children().find(|c| {
        c.is_element()
            && c.tag_name().name() == "PaymentMeans"
            && c.tag_name().namespace() == Some(CAC)
            && child(*c, CAC, "PayeeFinancialAccount").is_some()
    });
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
        belgian,
        supplier_name: party_name,
        supplier_vat: text(tax),
        issue_date: date(child(root, CBC, "IssueDate"), "cbc:IssueDate")?
            .ok_or_else(|| err("cbc:IssueDate", "missing".into()))?,
        due_date: date(child(root, CBC, "DueDate"), "cbc:DueDate")?,
        order_reference: text(path(root, &[(CAC, "OrderReference"), (CBC, "ID")])),
        buyer_reference: text(child(root, CBC, "BuyerReference")),
        currency,
        amount_excl_vat: excl * sign,
        amount: payable * sign,
        amount_incl_vat: incl * sign,
        prepaid: prepaid * sign,
        lines,
        billing_reference: text(path(
            root,
            &[
                (CAC, "BillingReference"),
                (CAC, "InvoiceDocumentReference"),
                (CBC, "ID"),
            ],
        )),
        iban: text(means.and_then(|m| path(m, &[(CAC, "PayeeFinancialAccount"), (CBC, "ID")]))),
        bic: text(means.and_then(|m| {
            path(
                m,
                &[
                    (CAC, "PayeeFinancialAccount"),
                    (CAC, "FinancialInstitutionBranch"),
                    (CBC, "ID"),
                ],
            )
        })),
        payment_id: text(means.and_then(|m| child(m, CBC, "PaymentID"))),
        payee: text(path(
            root,
            &[(CAC, "PayeeParty"), (CAC, "PartyName"), (CBC, "Name")],
        )),
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
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">{vat}</cbc:TaxAmount><cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">{excl}</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">{vat}</cbc:TaxAmount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>{vat_rate}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>
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
