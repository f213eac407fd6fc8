//! Mid-edit: a file with a syntax error in one item still answers hover and
//! go-to-definition on the names of its other items, from the tree the parser recovered
//! and the semantic model built on it.

use crate::features::{definition, hover};
use crate::lines::LineIndex;
use crate::workspace::Workspace;
use paraaf_compiler::diagnostics::Code;
use std::path::Path;
use tower_lsp_server::ls_types as lsp;

#[test]
fn a_broken_item_leaves_the_others_navigable() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let path = root.join("flows/college.paraaf");
    let text = std::fs::read_to_string(&path).unwrap();
    // The first flow loses the signer of a step, as while typing.
    let broken = text.replacen(
        "step paraaf : sign diensthoofd of document.dienst",
        "step paraaf : sign",
        1,
    );
    assert_ne!(broken, text);
    let parsed = paraaf_compiler::syntax::parse("college.paraaf", &broken);
    assert!(
        parsed
            .diagnostics
            .iter()
            .any(|d| d.code == Code::SyntaxError),
        "{:?}",
        parsed.diagnostics
    );
    let mut ws = Workspace::load(&root);
    ws.set_text(&path, broken.clone());
    let lines = LineIndex::new(&broken);
    let at = |needle: &str| lines.position(broken.find(needle).unwrap() + 1);

    // A function in the next flow: hover says what the organogram holds.
    let h = hover(&ws, &path, at("voorzitter-gemeenteraad")).expect("hover");
    let lsp::HoverContents::Markup(m) = h.contents else {
        panic!("markdown hover")
    };
    assert!(m.value.contains("`voorzitter-gemeenteraad`"), "{}", m.value);

    // The document kind of the next flow: definition goes to its `document` item.
    let d = definition(&ws, &path, at("raadsbesluit {")).expect("definition");
    assert!(d.uri.as_str().ends_with("documents.paraaf"), "{d:?}");
    let docs = std::fs::read_to_string(root.join("flows/documents.paraaf")).unwrap();
    let want = LineIndex::new(&docs).position(docs.find("document raadsbesluit").unwrap() + 9);
    assert_eq!(d.range.start, want);
}
