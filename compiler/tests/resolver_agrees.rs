//! The semantic model (`db::semantic`, which the editor features and `resolve::names`
//! read) records what the checker relied on. An independent oracle: every name
//! occurrence the model resolves in the examples (built-in words and fields of built-in
//! records included) is replaced by an unknown word, one at a time; the checker must
//! then report an error at exactly that place (so it relied on that name there). And no
//! name the checker reports unknown has a meaning in the model. The agreement of hover,
//! definition and the compiled model with it is `lsp/src/semantic_agrees.rs`.

mod common;

use paraaf_compiler::db::{file_diagnostics, semantic};
use paraaf_compiler::diagnostics::Severity;
use salsa::Setter;

fn agree(project_dir: &str) -> usize {
    let loaded = paraaf_compiler::load::load(&common::root().join(project_dir)).unwrap();
    let mut db = loaded.db;
    let project = loaded.project;
    let mut checked = 0;
    for file in project.files(&db).clone() {
        let text = file.text(&db).clone();
        let refs: Vec<_> = semantic(&db, project, file).resolved().cloned().collect();
        // Unknown to the checker ⇒ no meaning in the resolver.
        for d in file_diagnostics(&db, project, file) {
            if d.code.as_str() == "P0003" {
                assert!(
                    !refs.iter().any(|r| r.span == d.span.range),
                    "{}: the checker calls {:?} unknown, the model says {:?}",
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
                "{}: `{}` at {:?} means {:?} to the model, but the checker does not miss it when it is gone: {diags:#?}",
                file.name(&db),
                &text[r.span.clone()],
                r.span,
                r.entity
            );
            checked += 1;
        }
        file.set_text(&mut db).to(text);
    }
    checked
}

#[test]
fn the_checker_relies_on_every_name_the_semantic_model_resolves() {
    let n = agree("examples/aalst") + agree("examples/hasselt");
    eprintln!("{n} name occurrences checked");
    assert!(n > 100, "only {n} names");
}
