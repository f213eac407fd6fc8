//! Parser properties: printing is a fixed point, and no input makes the pipeline panic.

mod common;

use paraaf_compiler::syntax::{format, parse, print};
use proptest::prelude::*;

/// parse → print → parse → print gives the same text, and the same tree shape.
#[test]
fn print_is_a_fixed_point_on_examples() {
    for (name, src) in common::example_sources() {
        let first = parse(&name, &src);
        let printed = print(&first.ast);
        let second = parse(&name, &printed);
        assert!(
            second
                .diagnostics
                .iter()
                .all(|d| first.diagnostics.iter().any(|f| f.code == d.code)),
            "{name}: printed text does not parse:\n{printed}\n{:#?}",
            second.diagnostics
        );
        assert_eq!(second.ast.items.len(), first.ast.items.len(), "{name}");
        assert_eq!(
            print(&second.ast),
            printed,
            "{name}: printing is not a fixed point"
        );
    }
}

/// Every example is formatted, and formatting keeps the tree and the comments.
#[test]
fn examples_are_formatted() {
    for (name, src) in common::example_sources() {
        assert_eq!(
            format(&src),
            src,
            "{name} is not formatted: run `paraaf fmt examples`"
        );
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let src = format!(
        "flow f for d when {}x{} {{ step s : sign a }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let parsed = parse("deep.paraaf", &src);
    assert_eq!(parsed.diagnostics[0].code.as_str(), "P0002");
    // Just under the limit still parses and checks.
    let ok = format!(
        "document d {{ x: number }}\nflow f for d when {}x > 1{} {{ step s : sign burgemeester }}",
        "(".repeat(60),
        ")".repeat(60)
    );
    let diags = common::diagnostics(&ok);
    assert!(diags.is_empty(), "{diags:#?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Arbitrary text never panics anywhere in the pipeline.
    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,200}") {
        let _ = common::diagnostics(&src);
    }

    /// Example files with a slice cut out or a character inserted never panic, and
    /// whatever parses prints to a fixed point.
    #[test]
    fn mutated_examples_never_panic(file in 0usize..64, at in any::<prop::sample::Index>(), len in 0usize..40, ch in "[ -~\\n{}()]") {
        let sources = common::example_sources();
        let (_, src) = &sources[file % sources.len()];
        let mut cut = at.index(src.len().max(1));
        while !src.is_char_boundary(cut) { cut -= 1; }
        let mut end = (cut + len).min(src.len());
        while !src.is_char_boundary(end) { end -= 1; }
        let mutated = format!("{}{}{}", &src[..cut], ch, &src[end..]);
        let _ = common::diagnostics(&mutated);
        let parsed = parse("m.paraaf", &mutated);
        let printed = print(&parsed.ast);
        prop_assert_eq!(print(&parse("m.paraaf", &printed).ast), printed.clone());
        // The formatter is a fixed point, keeps every comment, and never changes the tree.
        let formatted = format(&mutated);
        prop_assert_eq!(format(&formatted), formatted.clone());
        prop_assert_eq!(print(&parse("m.paraaf", &formatted).ast), printed, "mutated: {:?}", mutated);
        let comments = |t: &str| t.lines().filter_map(|l| l.find("//").map(|i| l[i..].trim_end().to_string())).collect::<Vec<_>>();
        if !mutated.contains('"') {
            prop_assert_eq!(comments(&formatted), comments(&mutated));
        }
    }
}
