//! The salsa database re-runs only what an edit affects: what the language server relies on.

mod common;

use paraaf_compiler::db::{Database, parse, project_diagnostics};
use salsa::Setter;

#[test]
fn editing_one_file_reparses_only_that_file() {
    let org = common::broken_org();
    let a = "document d { titel: text }\nflow f for d { step s : sign burgemeester }\n";
    let b = "document e { titel: text }\nflow g for e { step s : sign burgemeestr }\n";
    let (mut db, project) =
        Database::from_texts(("org.toml", &org), &[("a.paraaf", a), ("b.paraaf", b)]);
    assert_eq!(project_diagnostics(&db, project).len(), 1);
    let files = project.files(&db).clone();
    let parsed_a = parse(&db, files[0]) as *const _;
    files[1]
        .set_text(&mut db)
        .to(b.replace("burgemeestr", "burgemeester"));
    assert!(project_diagnostics(&db, project).is_empty());
    // The unchanged file's parse result is the same memoised value, not a new one.
    assert!(std::ptr::eq(parse(&db, files[0]), parsed_a));
}

/// Typing inside a flow of one file runs no check of the other files: their
/// diagnostics are the memoised values (the index they read holds no flow bodies).
#[test]
fn editing_a_flow_body_rechecks_only_its_file() {
    use paraaf_compiler::db::file_diagnostics;
    let org = common::broken_org();
    let a = "document d { titel: text }\ndocument e { titel: text }\ndocument k { titel: text }\nflow f for d { step s : sign burgemeestr }\n";
    let b = "flow g for e { step s : sign burgemeester }\nflow h for k { step s : sign burgemeester }\n";
    let (mut db, project) =
        Database::from_texts(("org.toml", &org), &[("a.paraaf", a), ("b.paraaf", b)]);
    let all = project_diagnostics(&db, project);
    assert_eq!(all.len(), 1, "{all:#?}");
    let files = project.files(&db).clone();
    let checked_a = file_diagnostics(&db, project, files[0]) as *const _;
    let checked_b = file_diagnostics(&db, project, files[1]) as *const _;
    // An edit in b's first flow that moves its second one and adds an error.
    files[1].set_text(&mut db).to(b.replace(
        "step s : sign burgemeester }\nflow h",
        "step s : sign burgemeester\n  step t : sign schepn }\nflow h",
    ));
    assert_eq!(project_diagnostics(&db, project).len(), 2);
    assert!(std::ptr::eq(
        file_diagnostics(&db, project, files[0]),
        checked_a
    ));
    assert!(!std::ptr::eq(
        file_diagnostics(&db, project, files[1]),
        checked_b
    ));
    // A document kind changed is read by every file: both are checked again.
    let checked_a = file_diagnostics(&db, project, files[0]) as *const _;
    files[0]
        .set_text(&mut db)
        .to(a.replace("titel: text", "titel: text, bedrag: money"));
    let _ = project_diagnostics(&db, project);
    assert!(!std::ptr::eq(
        file_diagnostics(&db, project, files[0]),
        checked_a
    ));
}

/// The semantic model follows the same firewall: typing inside a flow of one file
/// re-runs `semantic` for that file only, and the other file's model is the memoised one.
#[test]
fn editing_a_flow_body_recomputes_the_semantic_model_of_its_file_only() {
    use paraaf_compiler::db::semantic;
    use paraaf_compiler::semantic::Entity;
    let org = common::broken_org();
    let a = "document d { titel: text }\ndocument e { titel: text }\nflow f for d { step s : sign burgemeester }\n";
    let b = "flow g for e { step s : sign burgemeester }\n";
    let (mut db, project) =
        Database::from_texts(("org.toml", &org), &[("a.paraaf", a), ("b.paraaf", b)]);
    let files = project.files(&db).clone();
    let model_a = semantic(&db, project, files[0]) as *const _;
    let model_b = semantic(&db, project, files[1]) as *const _;
    let at = b.find("burgemeester").unwrap();
    assert!(matches!(
        semantic(&db, project, files[1]).at(at).map(|o| &o.entity),
        Some(Entity::Role { id, .. }) if id == "burgemeester"
    ));
    files[1].set_text(&mut db).to(b.replace(
        "sign burgemeester",
        "sign burgemeester\n  step t : sign schepn",
    ));
    assert!(std::ptr::eq(semantic(&db, project, files[0]), model_a));
    assert!(!std::ptr::eq(semantic(&db, project, files[1]), model_b));
    let text = files[1].text(&db).clone();
    let typo = text.find("schepn").unwrap();
    assert!(matches!(
        semantic(&db, project, files[1]).at(typo).map(|o| &o.entity),
        Some(Entity::Unresolved { reason }) if reason.contains("schepn")
    ));
}
