//! Robust intake of UBL invoices (#27): schemes read strictly (ten digits are a Belgian
//! enterprise number only under a Belgian scheme, or as a `BE` VAT number, and with a
//! valid mod-97 check), no panic on any amount (extreme values in every amount, through
//! the library and the binary: one bad file never stops the batch), elements allowed once
//! refused twice, VAT category O accepted, and the official negative correction invoice
//! handled as a credit note.

mod support;

use paraaf_runtime::finance::ubl;
use rust_decimal::Decimal;
use std::str::FromStr;

const KBO: &str = "0123456749";

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn invoice(number: &str) -> String {
    ubl::write(
        number,
        false,
        KBO,
        "Bouw NV",
        "2026-10-01",
        Some("BB-1"),
        d("1000.00"),
        d("21"),
    )
}

fn parse(xml: &str) -> Result<ubl::Invoice, String> {
    ubl::parse("t.xml", xml.as_bytes()).map_err(|e| e.to_string())
}

#[test]
fn ten_digits_are_belgian_only_under_a_belgian_scheme_with_a_valid_check() {
    // A Polish seller: its NIP (10 digits, starting with 1) without a scheme.
    let polish = invoice("PL1")
        .replace(
            &format!("<cbc:EndpointID schemeID=\"0208\">{KBO}</cbc:EndpointID>"),
            "<cbc:EndpointID schemeID=\"9945\">PL1234563218</cbc:EndpointID>",
        )
        .replace(
            &format!("<cbc:CompanyID>{KBO}</cbc:CompanyID>"),
            "<cbc:CompanyID>1234563218</cbc:CompanyID>",
        );
    let i = parse(&polish).unwrap();
    assert!(!i.belgian, "{}", i.supplier);
    assert_ne!(i.supplier, "1234563218");
    // Without a scheme, even a valid enterprise number's digits alone are not read as one.
    let bare = invoice("B1").replace(
        &format!("<cbc:EndpointID schemeID=\"0208\">{KBO}</cbc:EndpointID>"),
        "<cbc:EndpointID schemeID=\"0088\">5790000435968</cbc:EndpointID>",
    );
    assert!(!parse(&bare).unwrap().belgian);
    // A `BE` VAT number without a scheme is, when its check holds.
    let vat = bare.replace(
        &format!("<cbc:CompanyID>{KBO}</cbc:CompanyID>"),
        &format!("<cbc:CompanyID>BE{KBO}</cbc:CompanyID>"),
    );
    let i = parse(&vat).unwrap();
    assert!(i.belgian && i.supplier == KBO);
    // Under scheme 0208, ten digits whose check fails are refused by name.
    let bad = invoice("K1").replace(
        &format!("schemeID=\"0208\">{KBO}<"),
        "schemeID=\"0208\">0123456789<",
    );
    let err = parse(&bad).unwrap_err();
    assert!(
        err.contains("0123456789") && err.contains("mod 97"),
        "{err}"
    );
    assert!(ubl::kbo_check(KBO) && !ubl::kbo_check("0123456789") && !ubl::kbo_check("12"));
}

#[test]
fn no_amount_panics_and_one_bad_file_never_stops_the_batch() {
    let extremes = [
        "79228162514264337593543950335",
        "-79228162514264337593543950335",
        "7922816251426433759354395033.5",
        "999999999999.99",
        "-999999999999.99",
        "1000000000000.00",
        "0.00",
        "-0.01",
        "0.0000000000000000000000000001",
        "1E5",
        "",
    ];
    let base = invoice("X1");
    let amounts = ["1000.00", "210.00", "1210.00"];
    let mut accepted = 0;
    for value in extremes {
        for a in amounts {
            let xml = base.replace(&format!(">{a}<"), &format!(">{value}<"));
            let r = std::panic::catch_unwind(|| ubl::parse("x.xml", xml.as_bytes()));
            let r = r.unwrap_or_else(|_| panic!("{value} in place of {a} panicked"));
            accepted += usize::from(r.is_ok());
        }
        // All amounts at once.
        let mut xml = base.clone();
        for a in amounts {
            xml = xml.replace(&format!(">{a}<"), &format!(">{value}<"));
        }
        let r = std::panic::catch_unwind(|| ubl::parse("x.xml", xml.as_bytes()));
        assert!(r.is_ok(), "{value} everywhere panicked");
    }
    assert_eq!(accepted, 0, "an inconsistent amount was accepted");
    // The largest amount accepted adds up and is paid.
    let big = ubl::write(
        "BIG",
        false,
        KBO,
        "Bouw NV",
        "2026-10-01",
        Some("BB-1"),
        d("800000000000.00"),
        d("21"),
    );
    let i = parse(&big).unwrap();
    assert_eq!(i.amount, d("968000000000.00"));
    // 900,000,000,000 + 21% VAT is over the largest amount read.
    let bigger = ubl::write(
        "BIGGER",
        false,
        KBO,
        "Bouw NV",
        "2026-10-01",
        Some("BB-1"),
        d("900000000000.00"),
        d("21"),
    );
    let err = parse(&bigger).unwrap_err();
    assert!(err.contains("larger than any invoice"), "{err}");

    // Through the binary: the decimal maximum beside a good invoice.
    let dir = support::tempdir("finance-extreme");
    std::fs::create_dir_all(dir.join("inv")).unwrap();
    std::fs::write(dir.join("inv/good.xml"), invoice("G1")).unwrap();
    std::fs::write(
        dir.join("inv/max.xml"),
        invoice("M1").replace(">1210.00<", ">79228162514264337593543950335<"),
    )
    .unwrap();
    std::fs::write(
        dir.join("orders.csv"),
        format!("reference,supplier,amount,date,dienst,category\nBB-1,{KBO},1000.00,2026-09-01,gebouwen,supplies\n"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(args)
            .env("PARAAF_DB", dir.join("city.db"))
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
        dir.join("inv").to_str().unwrap(),
        "--orders",
        dir.join("orders.csv").to_str().unwrap(),
        "-o",
        dir.join("out").to_str().unwrap(),
        "--as",
        "tom-bollen",
    ]);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.starts_with("2 files: 1 matched, 0 to the manual queue, 1 rejected"),
        "{out}{err}"
    );
    assert!(
        err.contains("max.xml") && err.contains("larger than any invoice"),
        "{err}"
    );
}

#[test]
fn elements_allowed_once_are_refused_twice() {
    let ok = invoice("T1");
    for (what, xml) in [
        (
            "cbc:IssueDate",
            ok.replace(
                "<cbc:IssueDate>2026-10-01</cbc:IssueDate>",
                "<cbc:IssueDate>2026-10-01</cbc:IssueDate><cbc:IssueDate>2026-12-01</cbc:IssueDate>",
            ),
        ),
        (
            "cbc:DocumentCurrencyCode",
            ok.replace(
                "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>",
                "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode><cbc:DocumentCurrencyCode>NOK</cbc:DocumentCurrencyCode>",
            ),
        ),
        (
            "cac:OrderReference",
            ok.replace(
                "<cac:OrderReference><cbc:ID>BB-1</cbc:ID></cac:OrderReference>",
                "<cac:OrderReference><cbc:ID>BB-1</cbc:ID></cac:OrderReference><cac:OrderReference><cbc:ID>BB-2</cbc:ID></cac:OrderReference>",
            ),
        ),
        (
            "cac:LegalMonetaryTotal/cbc:PayableAmount",
            ok.replace(
                "<cbc:PayableAmount currencyID=\"EUR\">1210.00</cbc:PayableAmount>",
                "<cbc:PayableAmount currencyID=\"EUR\">1210.00</cbc:PayableAmount><cbc:PayableAmount currencyID=\"EUR\">1.00</cbc:PayableAmount>",
            ),
        ),
        (
            "cbc:EndpointID",
            ok.replace(
                &format!("<cbc:EndpointID schemeID=\"0208\">{KBO}</cbc:EndpointID>"),
                &format!("<cbc:EndpointID schemeID=\"0208\">{KBO}</cbc:EndpointID><cbc:EndpointID schemeID=\"0208\">0400003155</cbc:EndpointID>"),
            ),
        ),
        (
            "cac:AccountingSupplierParty",
            ok.replace(
                "<cac:TaxTotal>",
                "<cac:AccountingSupplierParty><cac:Party><cbc:EndpointID schemeID=\"0208\">0400003155</cbc:EndpointID></cac:Party></cac:AccountingSupplierParty><cac:TaxTotal>",
            ),
        ),
    ] {
        assert_ne!(xml, ok, "{what}: the test did not change the invoice");
        let err = parse(&xml).expect_err(what);
        assert!(
            err.contains(what) && err.contains("more than once"),
            "{what}: {err}"
        );
    }
}

#[test]
fn vat_category_o_is_accepted() {
    // As the official Peppol example (vat-category-O.xml): no rate, no VAT.
    let xml = invoice("O1")
        .replace(
            "<cbc:TaxAmount currencyID=\"EUR\">210.00</cbc:TaxAmount>",
            "<cbc:TaxAmount currencyID=\"EUR\">0.00</cbc:TaxAmount>",
        )
        .replace(
            "<cbc:ID>S</cbc:ID><cbc:Percent>21</cbc:Percent>",
            "<cbc:ID>O</cbc:ID><cbc:TaxExemptionReason>Not subject to VAT</cbc:TaxExemptionReason>",
        )
        .replace(">1210.00<", ">1000.00<");
    let i = parse(&xml).unwrap();
    assert_eq!((i.amount, i.amount_excl_vat), (d("1000.00"), d("1000.00")));
    // Category O with VAT is not category O.
    let err = parse(&xml.replace(
        "<cbc:TaxAmount currencyID=\"EUR\">0.00</cbc:TaxAmount><cac:TaxCategory>",
        "<cbc:TaxAmount currencyID=\"EUR\">5.00</cbc:TaxAmount><cac:TaxCategory>",
    ))
    .unwrap_err();
    assert!(err.contains("BR-O-09"), "{err}");
}

/// The totals of the official Peppol example base-negative-inv-correction.xml: two lines
/// (−2800 and 1500), a charge of −25, 25% VAT, a BillingReference.
const CORRECTION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">
  <cbc:ID>Correction1</cbc:ID>
  <cbc:IssueDate>2017-11-13</cbc:IssueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>Snippet1</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="0208">0123456749</cbc:EndpointID>
    <cac:PartyLegalEntity><cbc:RegistrationName>SupplierOfficialName Ltd</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="EUR">-331.25</cbc:TaxAmount>
    <cac:TaxSubtotal>
      <cbc:TaxableAmount currencyID="EUR">-1325</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">-331.25</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25.0</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory>
    </cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">-1300</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">-1325</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">-1656.25</cbc:TaxInclusiveAmount>
    <cbc:ChargeTotalAmount currencyID="EUR">-25</cbc:ChargeTotalAmount>
    <cbc:PayableAmount currencyID="EUR">-1656.25</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:LineExtensionAmount currencyID="EUR">-2800</cbc:LineExtensionAmount></cac:InvoiceLine>
  <cac:InvoiceLine><cbc:ID>2</cbc:ID><cbc:LineExtensionAmount currencyID="EUR">1500</cbc:LineExtensionAmount></cac:InvoiceLine>
</Invoice>
"#;

#[test]
fn the_negative_correction_invoice_is_handled_as_a_credit_note() {
    // Before: refused as "nothing can be paid below zero (prepaid more than the total)".
    let i = parse(CORRECTION).unwrap();
    assert!(i.credit_note);
    assert_eq!(i.amount, d("-1656.25"));
    assert_eq!(i.amount_excl_vat, d("-1325"));
    assert_eq!(i.billing_reference.as_deref(), Some("Snippet1"));
    // A positive invoice prepaid beyond its total is still refused with its own reason.
    let over = invoice("P1").replace(
        "<cbc:PayableAmount currencyID=\"EUR\">1210.00</cbc:PayableAmount>",
        "<cbc:PrepaidAmount currencyID=\"EUR\">1500.00</cbc:PrepaidAmount><cbc:PayableAmount currencyID=\"EUR\">-290.00</cbc:PayableAmount>",
    );
    assert!(
        parse(&over)
            .unwrap_err()
            .contains("prepaid more than the total")
    );
}
