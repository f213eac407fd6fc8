//! The outline of a file (`textDocument/documentSymbol`), bounded like completion: at
//! most [`MAX_SYMBOLS`] entries, so a 2 MB file of thousands of flows answers in bounded
//! time and size. The protocol has no `isIncomplete` for symbols: when entries are left
//! out, a last entry says how many definitions (and fields and steps) are not shown.

use crate::features::ctx;
use crate::lines::LineIndex;
use crate::workspace::Workspace;
use paraaf_compiler::syntax::ast::Item;
use std::ops::Range;
use std::path::Path;
use tower_lsp_server::ls_types as lsp;

/// The most entries (definitions and their fields and steps) one outline carries.
pub const MAX_SYMBOLS: usize = 2000;

/// The outline of a file: its definitions in order, with a document's fields and a flow's
/// steps as children: at most [`MAX_SYMBOLS`] entries in all, then (when some did not
/// fit) one entry saying how many were left out.
pub fn symbols(ws: &Workspace, path: &Path) -> Vec<lsp::DocumentSymbol> {
    let Some(c) = ctx(ws, path) else {
        return Vec::new();
    };
    let lines = LineIndex::new(&c.text);
    let mut budget = MAX_SYMBOLS;
    let mut out = Vec::new();
    // What did not fit: definitions, fields and steps, and where the first of them is.
    let (mut items_left, mut children_left, mut first_left) = (0, 0, None);
    for item in &c.ast.items {
        if first_left.is_none() {
            let (name, kind, span, sel, children) = describe(item);
            // A definition is shown whole or not at all; only a first one with more
            // children than the cap (a document of 5,000 fields) is cut.
            if children.len() < budget || out.is_empty() {
                let total = children.len();
                let kept: Vec<lsp::DocumentSymbol> = children
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, (name, kind, span, sel))| {
                        if i + 1 < budget {
                            Some(symbol(&lines, name, kind, &span, &sel, Vec::new()))
                        } else {
                            first_left.get_or_insert(span.start);
                            None
                        }
                    })
                    .collect();
                children_left += total - kept.len();
                budget -= 1 + kept.len();
                out.push(symbol(&lines, name, kind, span, sel, kept));
                continue;
            }
        }
        // Past the cap: only counted.
        items_left += 1;
        first_left.get_or_insert(item_span(item).start);
    }
    if let Some(at) = first_left {
        out.push(left_out(&lines, at, items_left, children_left));
    }
    out
}

/// An item's own entry and its children's `(name, kind, span, selection)`.
type Described<'a> = (
    String,
    lsp::SymbolKind,
    &'a Range<usize>,
    &'a Range<usize>,
    Vec<(String, lsp::SymbolKind, Range<usize>, Range<usize>)>,
);

fn describe(item: &Item) -> Described<'_> {
    match item {
        Item::Document(d) => (
            format!("document {}", d.name.text),
            lsp::SymbolKind::STRUCT,
            &d.span,
            &d.name.span,
            d.fields
                .iter()
                .map(|f| {
                    let s = f.name.span.clone();
                    (f.name.text.clone(), lsp::SymbolKind::FIELD, s.clone(), s)
                })
                .collect(),
        ),
        Item::Flow(f) => (
            format!("flow {}", f.name.text),
            lsp::SymbolKind::FUNCTION,
            &f.span,
            &f.name.span,
            f.steps
                .iter()
                .map(|s| {
                    (
                        format!("step {}", s.name.text),
                        lsp::SymbolKind::METHOD,
                        s.span.clone(),
                        s.name.span.clone(),
                    )
                })
                .collect(),
        ),
        Item::Rule(r) => (
            format!("rule {}", r.name.text),
            lsp::SymbolKind::EVENT,
            &r.span,
            &r.name.span,
            Vec::new(),
        ),
        Item::Group(g) => (
            format!("group {}", g.name.text),
            lsp::SymbolKind::ENUM,
            &g.span,
            &g.name.span,
            Vec::new(),
        ),
        Item::Agency(a) => (
            format!("agency {}", a.name.text),
            lsp::SymbolKind::CONSTANT,
            &a.span,
            &a.name.span,
            Vec::new(),
        ),
        Item::Substitutes(s) => (
            format!("substitutes {}", s.holder.name.text),
            lsp::SymbolKind::PROPERTY,
            &s.span,
            &s.holder.span,
            Vec::new(),
        ),
    }
}

fn item_span(item: &Item) -> &Range<usize> {
    match item {
        Item::Document(d) => &d.span,
        Item::Flow(f) => &f.span,
        Item::Rule(r) => &r.span,
        Item::Group(g) => &g.span,
        Item::Agency(a) => &a.span,
        Item::Substitutes(s) => &s.span,
    }
}

/// The last entry of a capped outline, at the first entry left out.
fn left_out(lines: &LineIndex, at: usize, items: usize, children: usize) -> lsp::DocumentSymbol {
    let what = match (items, children) {
        (0, c) => format!("{c} more fields and steps"),
        (i, 0) => format!("{i} more definitions"),
        (i, c) => format!("{i} more definitions and {c} fields and steps"),
    };
    symbol(
        lines,
        format!("… {what} not shown (an outline shows at most {MAX_SYMBOLS} entries)"),
        lsp::SymbolKind::NAMESPACE,
        &(at..at),
        &(at..at),
        Vec::new(),
    )
}

#[allow(deprecated)] // `deprecated` is a field the protocol type still has
fn symbol(
    lines: &LineIndex,
    name: String,
    kind: lsp::SymbolKind,
    range: &Range<usize>,
    sel: &Range<usize>,
    children: Vec<lsp::DocumentSymbol>,
) -> lsp::DocumentSymbol {
    lsp::DocumentSymbol {
        name,
        detail: None,
        kind,
        tags: None,
        deprecated: None,
        range: lines.range(range),
        selection_range: lines.range(sel),
        children: (!children.is_empty()).then_some(children),
    }
}
