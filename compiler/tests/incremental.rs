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
