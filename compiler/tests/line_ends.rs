//! Line ends: `\n`, `\r\n` and a lone `\r` (old Mac files) read alike by the parser and
//! the checker; the formatter keeps a file's line ends and normalises spacing around
//! `:`, `,` and operators, as a fixed point.

mod common;

use paraaf_compiler::syntax::{format, parse, print};
use proptest::prelude::*;

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

fn cr(text: &str) -> String {
    text.replace('\n', "\r")
}

/// Codes and the line and column (counting any line end) of each diagnostic.
fn placed(text: &str, diags: &[paraaf_compiler::diagnostics::Diagnostic]) -> Vec<String> {
    let starts = paraaf_compiler::syntax::line_ends::line_starts(text);
    diags
        .iter()
        .map(|d| {
            let at = d.span.range.start;
            let line = starts.partition_point(|s| *s <= at);
            let col = at - starts[line - 1];
            format!("{} {}:{} {}", d.code.as_str(), line, col, d.message)
        })
        .collect()
}

/// Every example reads alike with each line end: the same tree, the same diagnostics
/// at the same lines and columns. A CR-only file was once a single comment.
#[test]
fn examples_read_alike_with_every_line_end() {
    for (name, src) in common::example_sources() {
        let lf = parse(&name, &src);
        let want_diags = placed(&src, &common::diagnostics(&src));
        assert!(
            !lf.ast.items.is_empty() || name.contains("broken"),
            "{name}"
        );
        for (end, text) in [("CRLF", crlf(&src)), ("CR", cr(&src))] {
            let other = parse(&name, &text);
            assert_eq!(print(&other.ast), print(&lf.ast), "{name} with {end}");
            assert_eq!(
                placed(&text, &common::diagnostics(&text)),
                want_diags,
                "{name} with {end}"
            );
        }
    }
}

/// The formatter writes a file back with the line end it came with, and otherwise as it
/// formats the same file with `\n`.
#[test]
fn the_formatter_keeps_line_ends() {
    for (name, src) in common::example_sources() {
        let lf = format(&src);
        assert_eq!(format(&crlf(&src)), crlf(&lf), "{name}");
        assert_eq!(format(&cr(&src)), cr(&lf), "{name}");
    }
}

const MESSY: &str = "document besluit{\n  dienst:unit\n  bedrag :  money?\n  titel:text,\n}\nflow f for besluit when bedrag!=none and bedrag>=8 500 EUR{\n  visible to uploader,signers ,  unit document.dienst\n  step a:sign diensthoofd of document.dienst\n  step  b  :all{\n    sign burgemeester\n    sign algemeen-directeur\n  }when bedrag<1 000 EUR\n  on refused->back to uploader\n  deadline 5 workdays remind,10 workdays escalate to algemeen-directeur\n}\ngroup g=unit sociale-zaken+voorzitter-bijzonder-comite\nsubstitutes burgemeester=eerste-schepen,tweede-schepen\nrule r on invoice.received when invoice.total_excl_vat>100 EUR {\n  let po=match purchase_order by po.reference==invoice.order_reference // a comment: a=b,c\n  queue q reason \"a:b , c==d\"\n}\n";

/// Spacing around `:`, `,` and operators, snapshot of the result.
#[test]
fn the_formatter_normalises_spacing() {
    let out = format(MESSY);
    insta::assert_snapshot!(out);
    assert_eq!(format(&out), out, "a fixed point");
    // Meaning kept: the same tree as the messy text.
    assert_eq!(
        print(&parse("m.paraaf", &out).ast),
        print(&parse("m.paraaf", MESSY).ast)
    );
}

/// A CRLF file formats to CRLF (shown with `␍` so the snapshot can hold it).
#[test]
fn the_formatter_writes_crlf_back() {
    let out = format(&crlf(MESSY));
    assert!(
        !out.replace("\r\n", "").contains('\n'),
        "only CRLF line ends"
    );
    insta::assert_snapshot!(out.replace('\r', "␍"));
    assert_eq!(format(&out), out);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    /// Examples with a slice cut out or a character inserted (spaces, operators, `:`,
    /// `,`, line ends of every kind): the formatter is a fixed point, keeps the tree and
    /// the line end, and each line end parses alike.
    #[test]
    fn mutated_examples_format_alike_with_every_line_end(
        file in 0usize..64,
        at in any::<prop::sample::Index>(),
        len in 0usize..40,
        ch in prop::sample::select(vec![" ", ":", ",", "=", "<", ">", "!=", "->", "+", "\n", "\r", "\r\n", "{", "}", "//"]),
    ) {
        let sources = common::example_sources();
        let (_, src) = &sources[file % sources.len()];
        let mut cut = at.index(src.len().max(1));
        while !src.is_char_boundary(cut) { cut -= 1; }
        let mut end = (cut + len).min(src.len());
        while !src.is_char_boundary(end) { end -= 1; }
        let mutated = format!("{}{}{}", &src[..cut], ch, &src[end..]);
        let tree = print(&parse("m.paraaf", &mutated).ast);
        let formatted = format(&mutated);
        prop_assert_eq!(format(&formatted), formatted.clone());
        prop_assert_eq!(print(&parse("m.paraaf", &formatted).ast), tree.clone(), "mutated: {:?}", mutated);
        // Unified to one kind of line end, each reads alike.
        let unified = paraaf_compiler::syntax::line_ends::lines(&mutated).collect::<Vec<_>>().join("\n");
        let lf = print(&parse("m.paraaf", &unified).ast);
        prop_assert_eq!(print(&parse("m.paraaf", &crlf(&unified)).ast), lf.clone());
        prop_assert_eq!(print(&parse("m.paraaf", &cr(&unified)).ast), lf);
        if unified.contains('\n') {
            prop_assert_eq!(format(&crlf(&unified)), crlf(&format(&unified)));
        }
    }
}
