//! The `if` limit counts what the syntax tree nests: chains of `else if` and `if`s
//! inside branches, with comments and strings that say `else if` in the way.

use super::*;
use crate::diagnostics::Code;
use crate::syntax::ast::{Item, Stmt};

fn depth(stmts: &[Stmt]) -> usize {
    stmts
        .iter()
        .map(|s| match s {
            Stmt::If {
                then, otherwise, ..
            } => 1 + depth(then).max(depth(otherwise)),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

/// A rule body of `if` chains: `chain[i]` branches at level `i`, the next level
/// inside the then-block of branch `inner[i]` (or in the final `else` when it is past
/// the end), with comments and strings that say `else if` in the way.
fn program(chains: &[usize], inner: &[usize]) -> String {
    fn level(chains: &[usize], inner: &[usize], out: &mut String) {
        let Some((&n, rest)) = chains.split_first() else {
            out.push_str("queue q reason \"else if { }\"\n");
            return;
        };
        let at = inner.first().copied().unwrap_or(0);
        for b in 0..n {
            if b > 0 {
                out.push_str("} // else if\nelse ");
            }
            out.push_str(&format!("if e.x == \"{{ else if {b}\" {{\n"));
            if b == at {
                level(rest, inner.get(1..).unwrap_or(&[]), out);
            } else {
                out.push_str("queue q reason \"r\"\n");
            }
        }
        if at >= n {
            out.push_str("} else {\n");
            level(rest, inner.get(1..).unwrap_or(&[]), out);
        }
        out.push_str("}\n");
    }
    let mut out = String::from("rule r on e.x {\n");
    level(chains, inner, &mut out);
    out.push_str("if e.x == \"after\" { queue q reason \"r\" }\n}\n");
    out
}

fn expected_depth(chains: &[usize], inner: &[usize]) -> usize {
    let (mut base, mut expected) = (0, 1);
    for (&n, &at) in chains.iter().zip(inner) {
        expected = expected.max(base + n);
        base += if at >= n { n } else { at + 1 };
    }
    expected
}

#[test]
fn the_limit_counts_what_the_tree_nests() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let mut refused = 0;
    for _ in 0..300 {
        let levels = 1 + next(5);
        let chains: Vec<usize> = (0..levels).map(|_| 1 + next(90)).collect();
        let inner: Vec<usize> = chains.iter().map(|&n| next(n + 1)).collect();
        let text = program(&chains, &inner);
        let parsed = parse("r.paraaf", &text);
        let expected = expected_depth(&chains, &inner);
        if expected > MAX_IFS {
            assert_eq!(parsed.diagnostics.len(), 1, "{:?}", parsed.diagnostics);
            assert_eq!(parsed.diagnostics[0].code, Code::TooDeep);
            refused += 1;
        } else {
            assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
            let Some(Item::Rule(r)) = parsed.ast.items.first() else {
                panic!("no rule:\n{text}")
            };
            assert_eq!(depth(&r.body), expected, "{chains:?} {inner:?}");
        }
    }
    assert!(
        (20..280).contains(&refused),
        "both sides of the limit: {refused}"
    );
}
