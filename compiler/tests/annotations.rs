//! Data-driven checker tests: each case is Paraaf source annotated with the expected
//! diagnostics, in the style of rust-analyzer's `check_diagnostics`:
//!
//! ```text
//! step visum : sign financieel-directuer
//! //                ^^^^^^^^^^^^^^^^^^^^ error[P0003]
//! ```
//! The carets mark the primary span on the line above. Annotations are comments, so the
//! source is checked as written. Every diagnostic must be annotated, and vice versa.

mod common;

use common::check_diagnostics;

#[test]
fn clean_flow_has_no_diagnostics() {
    check_diagnostics(
        r#"
document besluit {
  dienst: unit
  bedrag: money?
}
flow collegebesluit for besluit {
  visible to uploader, signers
  step paraaf : sign diensthoofd of document.dienst
  step visum : sign financieel-directeur when bedrag != none and bedrag >= 8 500 EUR
  step handtekening : all {
    sign burgemeester
    sign algemeen-directeur
  }
  deadline 5 workdays remind, 10 workdays escalate to algemeen-directeur
}
"#,
    );
}

#[test]
fn unknown_function_is_suggested() {
    check_diagnostics(
        r#"
document besluit { titel: text }
flow collegebesluit for besluit {
  step visum : sign financieel-directuer
//                  ^^^^^^^^^^^^^^^^^^^^ error[P0003]
}
"#,
    );
    let d = common::diagnostics(
        "document b { t: text }\nflow f for b { step s : sign financieel-directuer }",
    );
    assert_eq!(
        d[0].help.as_deref(),
        Some("did you mean `financieel-directeur`?")
    );
    assert_eq!(
        d[0].fix.as_ref().map(|f| f.replacement.as_str()),
        Some("financieel-directeur")
    );
}

#[test]
fn money_compared_with_number() {
    check_diagnostics(
        r#"
document besluit { bedrag: money }
flow collegebesluit for besluit {
  step visum : sign financieel-directeur when bedrag >= 8500
//                                            ^^^^^^^^^^^^^^ error[P0007]
}
"#,
    );
}

#[test]
fn text_compared_with_unit() {
    check_diagnostics(
        r#"
document besluit { dienst: unit }
flow collegebesluit for besluit when dienst == "boekhouding" {
//                                   ^^^^^^^^^^^^^^^^^^^^^^^ error[P0007]
  step visum : sign financieel-directeur
}
"#,
    );
}

#[test]
fn optional_is_narrowed_by_a_check() {
    check_diagnostics(
        r#"
document besluit { bedrag: money? }
flow a for besluit when bedrag == none or bedrag < 100 EUR {
  step s : sign burgemeester
}
flow b for besluit when bedrag != none and bedrag >= 100 EUR {
  // The flow's own condition proves `bedrag` present inside the flow.
  step s : sign burgemeester when bedrag > 1 000 EUR
}
"#,
    );
    check_diagnostics(
        r#"
document besluit { bedrag: money? }
flow c for besluit when bedrag == none {
  step s : sign burgemeester when bedrag > 1 000 EUR
//                                ^^^^^^ error[P0008]
}
"#,
    );
}

#[test]
fn substitution_cycle_and_self_substitute() {
    check_diagnostics(
        r#"
substitutes burgemeester = schepen-financien
//          ^^^^^^^^^^^^ error[P0009]
substitutes schepen-financien = burgemeester
substitutes financieel-directeur = katrien-moors
//                                 ^^^^^^^^^^^^^ error[P0010]
"#,
    );
}

#[test]
fn shielded_document_to_outside_signer() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { nummer: text }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  visible to uploader, signers, group sociale-zaken, unit boekhouding
//                                                        ^^^^^^^^^^^ error[P0011]
  step voorstel : sign teamcoach of inkomen
  step beslissing : sign diensthoofd of sociale-zaken
  step handtekening : sign burgemeester
//                         ^^^^^^^^^^^^ error[P0011]
}
"#,
    );
}

#[test]
fn shielded_document_to_outside_substitute() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { nummer: text }
group sociale-zaken = unit sociale-zaken shielded
substitutes diensthoofd of sociale-zaken = diensthoofd of boekhouding
flow beslissing for dossier {
  visible to uploader, signers, group sociale-zaken
  step beslissing : sign diensthoofd of sociale-zaken
//                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error[P0011]
}
"#,
    );
}

#[test]
fn contradictory_and_tautological_conditions() {
    check_diagnostics(
        r#"
document besluit { bedrag: money  bron: text }
flow f for besluit {
  step a : sign burgemeester when bedrag > 5 000 EUR and bedrag <= 5 000 EUR
//                                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error[P0012]
  step b : sign burgemeester when bron == "notula" and bron == "eagle"
//                                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error[P0012]
  step c : sign burgemeester when not (bedrag < 1 EUR and bedrag >= 1 EUR)
//                                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning[P0013]
  step d : sign burgemeester when bron in ["notula", "eagle"] and bron != "notula"
}
"#,
    );
}

#[test]
fn overlapping_and_disjoint_flows() {
    check_diagnostics(
        r#"
document besluit { bedrag: money  bron: text }
flow a for besluit when bron == "notula" {
  step s : sign burgemeester
}
flow b for besluit when bron != "notula" and bedrag < 1 000 EUR {
  step s : sign burgemeester
}
flow c for besluit when bron == "eagle" {
//   ^ error[P0014]
  step s : sign burgemeester
}
"#,
    );
}

#[test]
fn rules_check_events_fields_and_agencies() {
    check_diagnostics(
        r#"
agency rsz "RSZ"
document factuur { dienst: unit  bedrag: money }
flow goedkeuring for factuur { step s : sign diensthoofd of document.dienst }
rule koppelen on invoice.received {
  let po = match purchase_order by reference == invoice.number
  if po.found {
    start goedkeuring with dienst = po.dienst, bedrag = invoice.amount, nummer = invoice.numbr
//                                                                      ^^^^^^ error[P0006]
//                                                                                       ^^^^^ error[P0006]
  }
}
rule betalen on payment.scheduled {
  let debt = check debts(payment.supplier) on payment.date
  let ongebruikt = payment.amount
//    ^^^^^^^^^^ warning[P0016]
  if debt.social { withhold 35% of payment.amount_excl_vat capped by debt.social_attest to rsz }
  if debt.tax { withhold 15% of payment.amount_excl_vat to fod }
//                                                         ^^^ error[P0003]
  if debt.tax { withhold payment.date to rsz }
//                       ^^^^^^^^^^^^ error[P0007]
}
"#,
    );
}

#[test]
fn wrong_kinds_and_vacancies() {
    check_diagnostics(
        r#"
document d { medewerker: person  titel: text }
flow f for d {
  step a : sign boekhouding
//              ^^^^^^^^^^^ error[P0005]
  step b : sign burgemeester of boekhouding
//                              ^^^^^^^^^^^ error[P0005]
  step c : sign titel
//              ^^^^^ error[P0005]
  step d : sign medewerker
  step e : sign preventieadviseur
//              ^^^^^^^^^^^^^^^^^ warning[P0017]
  step f : sign diensthoofd of inkomen
//              ^^^^^^^^^^^^^^^^^^^^^^ warning[P0018]
}
"#,
    );
}

#[test]
fn syntax_errors_do_not_hide_other_items() {
    check_diagnostics(
        r#"
document d { titel: text }
flow broken for d {
  step a sign burgemeester
//       ^^^^ error[P0001]
}
flow f for d when titel == "x" {
  step a : sign burgemeestr
//              ^^^^^^^^^^^ error[P0003]
}
"#,
    );
}
