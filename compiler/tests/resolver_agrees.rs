//! The resolver the editor features ask (`resolve::names`) and the checker decide what a
//! name denotes in the same way. An independent oracle: every name occurrence the
//! resolver gives a meaning in the examples is replaced by an unknown word, one at a
//! time; the checker must then report an error at exactly that place (so it relied on
//! the same name there). And no name the checker reports unknown has a meaning in the
//! resolver.

mod common;

use paraaf_compiler::db::{file_diagnostics, index, organogram, parse};
use paraaf_compiler::diagnostics::Severity;
use paraaf_compiler::resolve::names;
use salsa::Setter;

fn agree(project_dir: &str) -> usize {
    let loaded = paraaf_compiler::load::load(&common::root().join(project_dir)).unwrap();
    let mut db = loaded.db;
    let project = loaded.project;
    let mut checked = 0;
    for file in project.files(&db).clone() {
        let text = file.text(&db).clone();
        let refs = {
            let org = &organogram(&db, project.org(&db)).org;
            names(&parse(&db, file).ast, index(&db, project), org)
        };
        // Unknown to the checker ⇒ no meaning in the resolver.
        for d in file_diagnostics(&db, project, file) {
            if d.code.as_str() == "P0003" {
                assert!(
                    !refs.iter().any(|r| r.span == d.span.range),
                    "{}: the checker calls {:?} unknown, the resolver says {:?}",
                    file.name(&db),
                    &text[d.span.range.clone()],
                    refs.iter().find(|r| r.span == d.span.range)
                );
            }
        }
        for r in refs.iter().filter(|r| !r.definition) {
            let mutated = format!("{}zzonbekend{}", &text[..r.span.start], &text[r.span.end..]);
            file.set_text(&mut db).to(mutated);
            let diags = file_diagnostics(&db, project, file);
            assert!(
                diags
                    .iter()
                    .any(|d| d.severity == Severity::Error && d.span.range.start == r.span.start),
                "{}: `{}` at {:?} means {:?} to the resolver, but the checker does not miss it when it is gone: {diags:#?}",
                file.name(&db),
                &text[r.span.clone()],
                r.span,
                r.meaning
            );
            checked += 1;
        }
        file.set_text(&mut db).to(text);
    }
    checked
}

#[test]
fn the_checker_relies_on_every_name_the_resolver_resolves() {
    let n = agree("examples/aalst") + agree("examples/hasselt");
    eprintln!("{n} name occurrences checked");
    assert!(n > 100, "only {n} names");
}
