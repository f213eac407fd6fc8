//! The shielding suite: every route by which a shielded document could leave its group,
//! tried as a hostile or careless administrator would, and the legal near-misses that
//! must check clean. Organogram: `examples/broken/org.toml` (the social service
//! `sociale-zaken` holds Ann Lenaerts, diensthoofd, and Youssef Amrani, teamcoach of its
//! team `inkomen`; everyone else is outside).

mod common;

use common::check_diagnostics;
use paraaf_compiler::compile::model::{self, OrgIndex, shield::verify};
use paraaf_compiler::db::{Database, compiled, project_diagnostics};

// ------------------------------------------------------------------ signers

#[test]
fn unit_from_a_document_field_is_refused_unless_refined() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { team: unit  nummer: text }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  step voorstel : sign teamcoach of document.team
//                     ^^^^^^^^^^^^^^^^^^^^^^^^^^ error[P0011]
  step beslissing : sign diensthoofd of sociale-zaken
  deadline 3 workdays remind, 5 workdays escalate to diensthoofd of document.team
//                                                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error[P0011]
}
"#,
    );
}

#[test]
fn refined_unit_field_inside_the_group_is_clean() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { team: unit in sociale-zaken  nummer: text }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  visible to uploader, signers, group sociale-zaken, unit document.team
  step voorstel : sign teamcoach of document.team
  step beslissing : sign diensthoofd of sociale-zaken
  deadline 3 workdays remind, 5 workdays escalate to diensthoofd of document.team
}
"#,
    );
}

#[test]
fn refinement_to_a_unit_outside_the_group_is_refused() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { team: unit in financien }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  visible to unit document.team
//                ^^^^^^^^^^^^^ error[P0011]
  step voorstel : sign teamcoach of document.team
//                     ^^^^^^^^^^^^^^^^^^^^^^^^^^ error[P0011]
}
"#,
    );
}

#[test]
fn person_field_signer_is_refused_unless_refined_or_allowed() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { behandelaar: person  nummer: text }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  step voorstel : sign behandelaar
//                     ^^^^^^^^^^^ error[P0011]
}
"#,
    );
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { behandelaar: person in sociale-zaken }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  visible to behandelaar
  step voorstel : sign behandelaar
}
"#,
    );
}

#[test]
fn person_refined_to_a_wider_group_is_refused() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { behandelaar: person in samenleving-en-college }
group sociale-zaken = unit sociale-zaken shielded
group samenleving-en-college = unit samenleving + burgemeester
flow beslissing for dossier {
  step voorstel : sign behandelaar
//                     ^^^^^^^^^^^ error[P0011]
}
"#,
    );
}

#[test]
fn the_exception_names_the_employee_concerned() {
    check_diagnostics(
        r#"
document tuchtdossier shielded by tucht allow medewerker { medewerker: person }
group tucht = people(diensthoofd of sociale-zaken, algemeen-directeur) shielded
flow tuchtprocedure for tuchtdossier {
  visible to medewerker
  step beslissing : sign algemeen-directeur
  step ontvangst : sign medewerker
}
"#,
    );
    // Without `allow`, the same flow leaks to whoever the uploader names.
    check_diagnostics(
        r#"
document tuchtdossier shielded by tucht { medewerker: person }
group tucht = people(diensthoofd of sociale-zaken, algemeen-directeur) shielded
flow tuchtprocedure for tuchtdossier {
  step beslissing : sign algemeen-directeur
  step ontvangst : sign medewerker
//                      ^^^^^^^^^^ error[P0011]
}
"#,
    );
}

#[test]
fn the_exception_must_be_a_person_field() {
    check_diagnostics(
        r#"
document tuchtdossier shielded by tucht allow nummer { nummer: text }
//                                            ^^^^^^ error[P0005]
group tucht = people(algemeen-directeur) shielded
flow tuchtprocedure for tuchtdossier {
  step beslissing : sign algemeen-directeur
}
"#,
    );
    check_diagnostics(
        r#"
document tuchtdossier shielded by tucht allow medewerkr { medewerker: person }
//                                            ^^^^^^^^^ error[P0003]
group tucht = people(algemeen-directeur) shielded
flow tuchtprocedure for tuchtdossier {
  step beslissing : sign algemeen-directeur
}
"#,
    );
}

#[test]
fn a_fixed_signer_outside_the_group_is_refused() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { nummer: text }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  step voorstel : sign teamcoach of inkomen
  step handtekening : all {
    sign diensthoofd of sociale-zaken
    sign burgemeester
//       ^^^^^^^^^^^^ error[P0011]
  }
  step visum : sign financieel-directeur
//                  ^^^^^^^^^^^^^^^^^^^^ error[P0011]
  step coach : sign teamcoach
//                  ^^^^^^^^^ error[P0011]
}
"#,
    );
}

// ------------------------------------------------------------------ substitutes

#[test]
fn substitute_of_a_concrete_role_a_field_signer_resolves_to() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { team: unit in sociale-zaken }
group sociale-zaken = unit sociale-zaken shielded
substitutes teamcoach of inkomen = algemeen-directeur
flow beslissing for dossier {
  step voorstel : sign teamcoach of document.team
//                     ^^^^^^^^^^^^^^^^^^^^^^^^^^ error[P0011]
}
"#,
    );
}

#[test]
fn substitute_of_a_person_a_refined_person_field_resolves_to() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { behandelaar: person in sociale-zaken }
group sociale-zaken = unit sociale-zaken shielded
substitutes youssef-amrani = leen-vanhoof
flow beslissing for dossier {
  step voorstel : sign behandelaar
//                     ^^^^^^^^^^^ error[P0011]
}
"#,
    );
}

#[test]
fn substitute_inside_the_group_is_clean() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { team: unit in sociale-zaken }
group sociale-zaken = unit sociale-zaken shielded
substitutes diensthoofd of sociale-zaken = teamcoach of inkomen
flow beslissing for dossier {
  step voorstel : sign teamcoach of document.team
  step beslissing : sign diensthoofd of sociale-zaken
}
"#,
    );
}

// ------------------------------------------------------------------ audiences

#[test]
fn audiences_outside_the_group_are_refused() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { team: unit  nummer: text }
group sociale-zaken = unit sociale-zaken shielded
group financien-en-sociaal = unit sociale-zaken + unit financien
flow beslissing for dossier {
  visible to uploader, signers, group financien-en-sociaal, unit boekhouding, unit document.team, burgemeester
//                                    ^^^^^^^^^^^^^^^^^^^^ error[P0011]
//                                                               ^^^^^^^^^^^ error[P0011]
//                                                                                 ^^^^^^^^^^^^^ error[P0011]
//                                                                                                ^^^^^^^^^^^^ error[P0011]
  step beslissing : sign diensthoofd of sociale-zaken
}
"#,
    );
}

#[test]
fn audiences_inside_the_group_are_clean() {
    // Legal near-misses that an earlier version refused.
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { nummer: text }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  visible to uploader, signers, group sociale-zaken, teamcoach of inkomen, unit inkomen
  step beslissing : sign diensthoofd of sociale-zaken
}
"#,
    );
}

#[test]
fn a_group_combines_units_functions_and_people() {
    check_diagnostics(
        r#"
document dossier shielded by sociaal-comite { nummer: text }
group sociaal-comite = unit sociale-zaken + burgemeester + people(inge-moens) shielded
flow beslissing for dossier {
  step voorstel : sign diensthoofd of sociale-zaken
  step beslissing : sign burgemeester
  step schepen : sign inge-moens
  step directeur : sign algemeen-directeur
//                      ^^^^^^^^^^^^^^^^^^ error[P0011]
}
"#,
    );
}

// ------------------------------------------------------------------ the kind, not the flow

#[test]
fn every_flow_of_a_shielded_kind_is_checked() {
    // A second flow for the kind, without the group: still shielded by the kind.
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { nummer: text }
group sociale-zaken = unit sociale-zaken shielded
flow gewoon for dossier when nummer != "SPOED" {
  visible to group sociale-zaken
  step beslissing : sign diensthoofd of sociale-zaken
}
flow spoed for dossier when nummer == "SPOED" {
  step beslissing : sign burgemeester
//                       ^^^^^^^^^^^^ error[P0011]
}
"#,
    );
}

#[test]
fn a_flow_in_another_file_is_checked_too() {
    let org = common::broken_org();
    let kinds = "document dossier shielded by sociale-zaken { nummer: text }\ngroup sociale-zaken = unit sociale-zaken shielded\n";
    let flow = "flow spoed for dossier {\n  step beslissing : sign burgemeester\n}\n";
    let (db, project) = Database::from_texts(
        ("org.toml", &org),
        &[("kinds.paraaf", kinds), ("spoed.paraaf", flow)],
    );
    let diags = project_diagnostics(&db, project);
    let leaks: Vec<_> = diags
        .iter()
        .filter(|d| d.code.as_str() == "P0011")
        .collect();
    assert_eq!(leaks.len(), 1, "{diags:#?}");
    assert_eq!(leaks[0].span.file, "spoed.paraaf");
    assert_eq!(&flow[leaks[0].span.range.clone()], "burgemeester");
}

#[test]
fn a_shielded_group_that_shields_no_kind_fails_closed() {
    // The old form (shielding through `visible to group`) protects nothing now: an error.
    check_diagnostics(
        r#"
document dossier { nummer: text }
group sociale-zaken = unit sociale-zaken shielded
//                                       ^^^^^^^^ error[P0011]
flow beslissing for dossier {
  visible to uploader, signers, group sociale-zaken
//                                    ^^^^^^^^^^^^^ error[P0011]
  step beslissing : sign diensthoofd of sociale-zaken
}
"#,
    );
}

#[test]
fn a_rule_that_starts_a_shielded_flow_may_not_notify_outsiders() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { nummer: text }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  step beslissing : sign diensthoofd of sociale-zaken
}
rule nieuw on decision.received {
  start beslissing with nummer = decision.reference
  notify burgemeester "nieuw sociaal dossier"
//       ^^^^^^^^^^^^ error[P0011]
  notify diensthoofd of sociale-zaken "nieuw sociaal dossier"
}
"#,
    );
}

// ------------------------------------------------------------------ names by meaning

#[test]
fn a_field_may_not_take_over_an_organogram_or_project_name() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken {
  sociale-zaken: unit
//^^^^^^^^^^^^^ error[P0023]
  beslissing: text
//^^^^^^^^^^ error[P0023]
  burgemeester: person?
//^^^^^^^^^^^^ error[P0023]
}
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  step voorstel : sign diensthoofd of sociale-zaken
}
"#,
    );
}

#[test]
fn refinements_are_resolved_in_the_right_namespace() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken {
  team: unit in sociale-zakn
//              ^^^^^^^^^^^^ error[P0003]
  behandelaar: person in inkomen
//                       ^^^^^^^ error[P0003]
  nummer: text in sociale-zaken
//                ^^^^^^^^^^^^^ error[P0005]
}
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  step voorstel : sign diensthoofd of sociale-zaken
}
"#,
    );
}

#[test]
fn an_unknown_shielding_group_is_reported() {
    check_diagnostics(
        r#"
document dossier shielded by socale-zaken { nummer: text }
//                           ^^^^^^^^^^^^ error[P0003]
group sociale-zaken = unit sociale-zaken
flow beslissing for dossier {
  visible to group sociale-zaken
  step voorstel : sign diensthoofd of sociale-zaken
}
"#,
    );
}

#[test]
fn an_optional_person_signs_only_when_present() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { behandelaar: person? in sociale-zaken }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  step a : sign behandelaar when behandelaar != none
  step b : all {
    sign behandelaar
  } when behandelaar != none
  step c : sign behandelaar
//              ^^^^^^^^^^^ error[P0008]
}
"#,
    );
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { behandelaar: person? in sociale-zaken }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier when behandelaar != none {
  step a : sign behandelaar
}
"#,
    );
}

// ------------------------------------------------------------------ the `allow` exception (#24)

#[test]
fn the_exception_never_receives_an_escalation() {
    // Escalating to the employee concerned would hand them the late step of HR's head
    // about their own file.
    check_diagnostics(
        r#"
document tuchtdossier shielded by tucht allow medewerker { medewerker: person }
group tucht = people(diensthoofd of sociale-zaken, algemeen-directeur) shielded
flow tuchtprocedure for tuchtdossier {
  visible to uploader, signers, group tucht
  step dossier : sign diensthoofd of sociale-zaken
  step beslissing : sign algemeen-directeur
  step ontvangst : sign medewerker
  on refused -> stop
  deadline 5 workdays remind, 10 workdays escalate to medewerker
//                                                    ^^^^^^^^^^ error[P0025]
}
"#,
    );
    let d = common::diagnostics(
        "document t shielded by g allow m { m: person }\ngroup g = people(algemeen-directeur) shielded\nflow f for t { step s : sign algemeen-directeur\n deadline 1 workday remind, 2 workdays escalate to m }",
    );
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].help
            .as_deref()
            .is_some_and(|h| h.contains("inside `g`"))
    );
    // Escalating inside the group, and showing the file to the employee, are fine.
    check_diagnostics(
        r#"
document tuchtdossier shielded by tucht allow medewerker { medewerker: person }
group tucht = people(diensthoofd of sociale-zaken, algemeen-directeur) shielded
flow tuchtprocedure for tuchtdossier {
  visible to uploader, signers, group tucht, medewerker
  step dossier : sign diensthoofd of sociale-zaken
  step ontvangst : sign medewerker
  on refused -> back to step dossier
  deadline 5 workdays remind, 10 workdays escalate to algemeen-directeur
}
"#,
    );
}

#[test]
fn a_refusal_cannot_send_the_file_back_to_the_field() {
    // `on refused` goes back to the uploader (a member: outsiders cannot submit), to a
    // step, or stops; a field is no target.
    let d = common::diagnostics(
        "document t shielded by g allow m { m: person }\ngroup g = people(algemeen-directeur) shielded\nflow f for t { step s : sign algemeen-directeur\n on refused -> back to m }",
    );
    assert!(d.iter().any(|d| d.code.as_str() == "P0001"), "{d:#?}");
    check_diagnostics(
        r#"
document t shielded by g allow m { m: person }
group g = people(algemeen-directeur) shielded
flow f for t {
  step s : sign algemeen-directeur
  on refused -> back to step m
//                           ^ error[P0003]
}
"#,
    );
}

#[test]
fn person_substitutes_do_not_reach_the_exception() {
    // A person-level substitute anywhere in the project used to make every
    // `sign medewerker` step fail: the receipt is signed by the employee themself.
    check_diagnostics(
        r#"
document tuchtdossier shielded by tucht allow medewerker { medewerker: person }
group tucht = people(diensthoofd of sociale-zaken, algemeen-directeur) shielded
flow tuchtprocedure for tuchtdossier {
  visible to uploader, signers, group tucht
  step beslissing : sign algemeen-directeur
  step ontvangst : sign medewerker
  on refused -> stop
}
substitutes dries-stevens = inge-moens
substitutes sara-claes = burgemeester
"#,
    );
    // A substitute that can reach a shielded step is still checked.
    check_diagnostics(
        r#"
document tuchtdossier shielded by tucht allow medewerker { medewerker: person }
group tucht = people(diensthoofd of sociale-zaken, algemeen-directeur) shielded
flow tuchtprocedure for tuchtdossier {
  step beslissing : sign algemeen-directeur
//                       ^^^^^^^^^^^^^^^^^^ error[P0011]
  step ontvangst : sign medewerker
}
substitutes algemeen-directeur = burgemeester
"#,
    );
}

#[test]
fn a_rule_may_not_notify_a_unit_of_its_record_about_a_shielded_flow() {
    // `check` accepted this and `deploy` refused it: the notification depends on the
    // record's unit, which may lie anywhere.
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { nummer: text }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  step beslissing : sign diensthoofd of sociale-zaken
}
rule nieuw on decision.received {
  start beslissing with nummer = decision.reference
  notify diensthoofd of decision.dienst "nieuw sociaal dossier"
//       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ error[P0011]
}
"#,
    );
    // Without a shielded flow it is fine.
    check_diagnostics(
        r#"
document besluit { nummer: text }
flow tekenen for besluit {
  step paraaf : sign algemeen-directeur
}
rule nieuw on decision.received {
  start tekenen with nummer = decision.reference
  notify diensthoofd of decision.dienst "nieuw besluit"
}
"#,
    );
}

#[test]
fn a_let_may_not_take_over_an_organogram_or_project_name() {
    check_diagnostics(
        r#"
document besluit { nummer: text }
flow tekenen for besluit {
  step paraaf : sign algemeen-directeur
}
rule nieuw on decision.received {
  let burgemeester = decision.reference
//    ^^^^^^^^^^^^ error[P0023]
  let tekenen = burgemeester
//    ^^^^^^^ error[P0023]
  let sociale-zaken = decision.dienst
//    ^^^^^^^^^^^^^ error[P0023]
  start tekenen with nummer = tekenen
  if sociale-zaken == boekhouding {
    notify diensthoofd of sociale-zaken "nieuw besluit"
  }
}
"#,
    );
}

// ------------------------------------------------------------------ any holder (#30)

#[test]
fn a_refinement_wider_than_the_group_is_safe_only_today() {
    // `team: unit in samenleving` admits every unit below samenleving; today only the
    // teamcoach of `inkomen` (inside) exists, but HR could appoint one elsewhere.
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { team: unit in samenleving }
group sociale-zaken = unit sociale-zaken shielded
flow beslissing for dossier {
  visible to unit document.team
//                ^^^^^^^^^^^^^ warning[P0026]
  step voorstel : sign teamcoach of document.team
//                     ^^^^^^^^^^^^^^^^^^^^^^^^^^ warning[P0026]
}
"#,
    );
    let d = common::diagnostics(
        "document dossier shielded by sociale-zaken { team: unit in samenleving }\ngroup sociale-zaken = unit sociale-zaken shielded\nflow beslissing for dossier {\n  step voorstel : sign teamcoach of document.team\n}\n",
    );
    assert_eq!(d.len(), 1, "{d:#?}");
    let help = d[0].help.as_deref().unwrap_or_default();
    assert!(
        help.contains("appointing someone `teamcoach of samenleving`")
            && help.contains("`team: unit in sociale-zaken`"),
        "{help}"
    );
}

#[test]
fn roles_held_inside_by_chance_are_warned_about() {
    // Today the only teamcoaches are Youssef Amrani (inkomen, in the unit) and Sara
    // Claes (crediteuren, named): `teamcoach` anywhere, a mandate held by a named person
    // and a unit whose people happen to be named are inside only today.
    check_diagnostics(
        r#"
document dossier shielded by comite { team: unit in sociale-zaken }
group comite = unit sociale-zaken + people(dries-stevens, teamcoach of crediteuren) shielded
flow beslissing for dossier {
  visible to unit crediteuren, burgemeester
//                ^^^^^^^^^^^ warning[P0026]
//                             ^^^^^^^^^^^^ warning[P0026]
  step voorstel : sign teamcoach of document.team
  step coach : sign teamcoach
//                  ^^^^^^^^^ warning[P0026]
  step beslissing : sign burgemeester
//                       ^^^^^^^^^^^^ warning[P0026]
}
"#,
    );
}

#[test]
fn roles_the_group_names_are_inside_for_any_holder() {
    check_diagnostics(
        r#"
document dossier shielded by comite { team: unit in sociale-zaken  behandelaar: person in kern }
group comite = unit sociale-zaken + burgemeester + people(teamcoach of crediteuren, algemeen-directeur) shielded
group kern = unit inkomen + people(algemeen-directeur)
flow beslissing for dossier {
  visible to uploader, signers, group kern, unit inkomen, unit document.team, burgemeester
  step voorstel : sign teamcoach of document.team
  step coach : sign teamcoach of crediteuren
  step beslissing : sign burgemeester
  step behandeling : sign behandelaar
  deadline 2 workdays remind, 4 workdays escalate to algemeen-directeur
}
substitutes burgemeester = algemeen-directeur
"#,
    );
}

#[test]
fn a_person_refined_to_a_group_that_could_grow_is_warned_about() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { behandelaar: person in kring }
group sociale-zaken = unit sociale-zaken shielded
group kring = people(teamcoach, ann-lenaerts)
flow beslissing for dossier {
  step voorstel : sign behandelaar
//                     ^^^^^^^^^^^ error[P0011]
}
"#,
    );
    // `diensthoofd` anywhere: today only Ilse Vranken (boekhouding) and Ann Lenaerts.
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { behandelaar: person in kring }
group sociale-zaken = unit sociale-zaken + people(ilse-vranken) shielded
group kring = people(diensthoofd of boekhouding, ann-lenaerts)
flow beslissing for dossier {
  visible to group kring
//                 ^^^^^ warning[P0026]
  step voorstel : sign behandelaar
//                     ^^^^^^^^^^^ warning[P0026]
}
"#,
    );
}

#[test]
fn substitutes_and_notifications_for_any_holder() {
    check_diagnostics(
        r#"
document dossier shielded by sociale-zaken { nummer: text }
group sociale-zaken = unit sociale-zaken + people(dries-stevens) shielded
substitutes diensthoofd of sociale-zaken = burgemeester
flow beslissing for dossier {
  step beslissing : sign diensthoofd of sociale-zaken
//                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning[P0026]
}
rule nieuw on decision.received {
  start beslissing with nummer = decision.reference
  notify burgemeester "nieuw sociaal dossier"
//       ^^^^^^^^^^^^ warning[P0026]
  notify diensthoofd of sociale-zaken "nieuw sociaal dossier"
}
"#,
    );
}

// ------------------------------------------------------------------ one verifier

#[test]
fn deploy_refuses_what_the_checker_refuses_about_a_shielded_group() {
    // The rule lives once, in the model's verifier: the checker reports it on the source,
    // `deploy` on a compiled project edited by hand.
    let org = common::broken_org();
    let clean = "document dossier shielded by sociale-zaken { nummer: text }\ndocument memo { nummer: text }\ngroup sociale-zaken = unit sociale-zaken shielded\nflow beslissing for dossier {\n  step beslissing : sign diensthoofd of sociale-zaken\n}\nflow tekenen for memo {\n  step paraaf : sign algemeen-directeur\n}\n";
    let (db, project) = Database::from_texts(("org.toml", &org), &[("t.paraaf", clean)]);
    let mut p = compiled(&db, project).clone().expect("checks clean");
    let idx = OrgIndex::new(&p.organogram);
    assert_eq!(verify(&p, &idx), Vec::<String>::new());
    let f = p.flows.iter_mut().find(|f| f.name == "tekenen").unwrap();
    f.visible_to.push(model::Audience::Group {
        name: "sociale-zaken".into(),
    });
    assert_eq!(
        verify(&p, &idx),
        [
            "flow `tekenen`, visible to: the group `sociale-zaken` is shielded, but `memo` is not shielded by it: its documents could reach anyone"
        ]
    );
    let shown = clean.replace(
        "flow tekenen for memo {\n",
        "flow tekenen for memo {\n  visible to group sociale-zaken\n",
    );
    let (db, project) = Database::from_texts(("org.toml", &org), &[("t.paraaf", &shown)]);
    let d = project_diagnostics(&db, project);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code.as_str(), "P0011");
    assert_eq!(&shown[d[0].span.range.clone()], "sociale-zaken");
}
