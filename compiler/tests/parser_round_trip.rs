//! The parser against the printer: every `.paraaf` file of the repository, every source
//! written in a test, generated programs and inputs broken by deleting or duplicating
//! tokens parse to a tree that prints and parses back to the same tree (spans aside).
//! Until #29 item 5 this file compared the hand-written parser with the pest parser it
//! replaced: identical trees and diagnostics on the same inputs, except where pest's
//! answer came from a matching quirk (see `words_are_whole` below).

mod common;

use paraaf_compiler::diagnostics::Code;
use paraaf_compiler::syntax::ast::{
    ActionKind, Audience, Expr, ExprKind, GroupMembers, Item, LetValue, LogicOp, SourceAst,
    StepBody, Stmt,
};
use paraaf_compiler::syntax::parse::tokens::tokens;
use paraaf_compiler::syntax::{parse, print};

/// Every `.paraaf` file under the repository (target and hidden directories skipped).
fn files() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            if p.is_dir() {
                walk(&p, out);
            } else if name.ends_with(".paraaf") {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.push((
                    p.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(&common::root(), &mut out);
    out.sort();
    out
}

/// The raw strings (`r#"…"#`) of the test files: the sources the tests check.
fn test_sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in ["compiler/tests", "tests", "lsp/tests"] {
        let Ok(entries) = std::fs::read_dir(common::root().join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            for (k, part) in text.split("r#\"").skip(1).enumerate() {
                if let Some(end) = part.find("\"#") {
                    out.push((format!("{}#{k}", p.display()), part[..end].to_string()));
                }
            }
        }
    }
    out
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// A random program of the language (valid syntax; names need not resolve).
fn program(rng: &mut Rng) -> String {
    let names = ["a", "b-c", "dossier", "bedrag", "x_1", "uploaders", "unitx"];
    let mut out = String::new();
    for _ in 0..1 + rng.below(5) {
        let n = rng.pick(&names);
        match rng.below(6) {
            0 => {
                out.push_str(&format!("document {n} "));
                if rng.below(3) == 0 {
                    out.push_str("shielded by g allow f ");
                }
                out.push_str("{\n");
                for _ in 0..rng.below(4) {
                    let ty = rng.pick(&["text", "money", "unit", "person?", "unit in x"]);
                    out.push_str(&format!(
                        "  {}: {ty}{}\n",
                        rng.pick(&names),
                        rng.pick(&["", ","])
                    ));
                }
                out.push_str("}\n");
            }
            1 => out.push_str(&format!("substitutes {n} of a.b = c, d\n")),
            2 => {
                let term = rng.pick(&["unit u", "people(a, b of c,)", "x", "people(q)"]);
                out.push_str(&format!(
                    "group {n} = {term} + y{}\n",
                    rng.pick(&["", " shielded"])
                ));
            }
            3 => out.push_str(&format!("agency {n} \"t \\\"q\\\" \\u{{e9}}\"\n")),
            4 => {
                out.push_str(&format!("flow {n} for d when {} {{\n", expr(rng, 3)));
                out.push_str("  visible to uploader, signers, group g, unit a.b, x of y\n");
                out.push_str(&format!("  step s : sign a when {}\n", expr(rng, 2)));
                out.push_str("  step t : any { sign a sign b of c } when x\n");
                out.push_str(rng.pick(&[
                    "  on refused -> back to uploader\n",
                    "  on refused -> back to step s\n",
                    "  on refused -> stop\n",
                ]));
                out.push_str("  deadline 5 workdays remind, 2 days escalate to a\n}\n");
            }
            _ => {
                out.push_str(&format!(
                    "rule {n} on e.received when {} {{\n",
                    expr(rng, 3)
                ));
                for _ in 0..rng.below(5) {
                    out.push_str(&stmt(rng, 2));
                }
                out.push_str("}\n");
            }
        }
    }
    out
}

fn stmt(rng: &mut Rng, depth: usize) -> String {
    match rng.below(if depth == 0 { 6 } else { 8 }) {
        0 => format!("  let v = {};\n", expr(rng, 2)),
        1 => "  let m = match r by e.kbo\n".into(),
        2 => "  let c = check debts(e.kbo) on e.date\n".into(),
        3 => "  queue q reason \"r\"\n".into(),
        4 => format!(
            "  start f with a = {}, b = 1\n  link e.a to x.b\n",
            expr(rng, 1)
        ),
        5 => format!(
            "  withhold {} capped by 5 EUR to ag\n  notify a of b \"m\"\n",
            expr(rng, 1)
        ),
        _ => format!(
            "  if {} {{\n{}  }} else if x {{ queue q reason \"a\" }} else {{\n{}  }}\n",
            expr(rng, 2),
            stmt(rng, depth - 1),
            stmt(rng, depth - 1)
        ),
    }
}

fn expr(rng: &mut Rng, depth: usize) -> String {
    let leaf = [
        "e.bedrag",
        "document.x",
        "8 500 EUR",
        "1234.56 EUR",
        "8.500 EUR",
        "5 workdays",
        "3 day",
        "2%",
        "150%",
        "2026-07-01",
        "2026-02-30",
        "42",
        "3.25",
        "\"s\"",
        "true",
        "false",
        "none",
        "f(a)",
        "len(a.b, 2)",
        "99999999999999999999999999999999",
    ];
    if depth == 0 {
        return rng.pick(&leaf).to_string();
    }
    let (a, b) = (expr(rng, depth - 1), expr(rng, depth - 1));
    // A comparison, a list and `% of` take values: a compound operand is bracketed.
    let (pa, pb) = (format!("({a})"), format!("({b})"));
    match rng.below(9) {
        0 => format!("{a} and {b}"),
        1 => format!("{a} or {b}"),
        2 => format!("not {a}"),
        3 => format!("({a})"),
        4 => format!(
            "{pa} {} {pb}",
            rng.pick(&["==", "!=", "<", "<=", ">", ">=", "~="])
        ),
        5 => format!("{pa} ~= {pb} within {}", rng.pick(&["1%", "5 EUR"])),
        6 => format!("{pa} in [{pb}, 1,]"),
        7 => format!("5% of {pa}"),
        _ => rng.pick(&leaf).to_string(),
    }
}

/// Deletes or duplicates a random token of `src`.
fn mutate(rng: &mut Rng, src: &str) -> String {
    let toks = tokens(src);
    if toks.is_empty() {
        return src.to_string();
    }
    let t = &toks[rng.below(toks.len())];
    match rng.below(3) {
        0 => format!("{}{}", &src[..t.span.start], &src[t.span.end..]),
        1 => format!(
            "{} {}{}",
            &src[..t.span.end],
            &src[t.span.clone()],
            &src[t.span.end..]
        ),
        _ => {
            let other = &toks[rng.below(toks.len())];
            format!(
                "{}{} {}",
                &src[..t.span.start],
                &src[other.span.clone()],
                &src[t.span.start..]
            )
        }
    }
}

/// The operands of a chain of `op` (`a or b or c`), however it is bracketed.
fn chain(e: Expr, op: LogicOp, out: &mut Vec<Expr>) {
    match e.kind {
        ExprKind::Logic(o, a, b) if o == op => {
            chain(*a, op, out);
            chain(*b, op, out);
        }
        _ => out.push(e),
    }
}

/// `e` with every `and`/`or` chain as one left-leaning chain: `and` and `or` associate,
/// and the printer brackets a chain as it likes.
fn canonical(e: &mut Expr) {
    let kind = std::mem::replace(
        &mut e.kind,
        ExprKind::Literal(paraaf_compiler::syntax::ast::Literal::None),
    );
    e.kind = match kind {
        ExprKind::Logic(op, a, b) => {
            let mut parts = Vec::new();
            chain(*a, op, &mut parts);
            chain(*b, op, &mut parts);
            parts.iter_mut().for_each(canonical);
            let mut it = parts.into_iter();
            let first = it.next().expect("two operands");
            let whole = it.fold(first, |acc, p| Expr {
                span: 0..0,
                kind: ExprKind::Logic(op, Box::new(acc), Box::new(p)),
            });
            whole.kind
        }
        mut other => {
            match &mut other {
                ExprKind::Not(x) | ExprKind::PercentOf(_, x) => canonical(x),
                ExprKind::Compare {
                    lhs, rhs, within, ..
                } => {
                    canonical(lhs);
                    canonical(rhs);
                    within.iter_mut().for_each(|w| canonical(w));
                }
                ExprKind::In(x, list) => {
                    canonical(x);
                    list.iter_mut().for_each(canonical);
                }
                ExprKind::Call(_, args) => args.iter_mut().for_each(canonical),
                _ => {}
            }
            other
        }
    };
}

fn canonical_stmts(stmts: &mut [Stmt]) {
    for s in stmts {
        match s {
            Stmt::Let { value, .. } => match value {
                LetValue::Match { by, .. } => canonical(by),
                LetValue::CheckDebts { kbo, on, .. } => {
                    canonical(kbo);
                    canonical(on);
                }
                LetValue::Expr(e) => canonical(e),
            },
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                canonical(cond);
                canonical_stmts(then);
                canonical_stmts(otherwise);
            }
            Stmt::Action(a) => match &mut a.kind {
                ActionKind::Start { args, .. } => args.iter_mut().for_each(|(_, e)| canonical(e)),
                ActionKind::Withhold { amount, cap, .. } => {
                    canonical(amount);
                    cap.iter_mut().for_each(canonical);
                }
                _ => {}
            },
        }
    }
}

/// `{:?}` of a tree without its spans (`12..34`) and with `and`/`or` chains in one
/// form: what the printer keeps.
fn shape(ast: &SourceAst) -> String {
    let mut ast = ast.clone();
    for item in &mut ast.items {
        match item {
            Item::Flow(f) => {
                f.when.iter_mut().for_each(canonical);
                for s in &mut f.steps {
                    match &mut s.body {
                        StepBody::Sign(c) => c.when.iter_mut().for_each(canonical),
                        StepBody::Parallel { signs, when, .. } => {
                            when.iter_mut().for_each(canonical);
                            for c in signs {
                                c.when.iter_mut().for_each(canonical);
                            }
                        }
                    }
                }
            }
            Item::Rule(r) => {
                r.when.iter_mut().for_each(canonical);
                canonical_stmts(&mut r.body);
            }
            _ => {}
        }
    }
    let text = format!("{ast:?}");
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let digits =
            |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
        let d = digits(i);
        if d > i && text[d..].starts_with("..") && digits(d + 2) > d + 2 {
            i = digits(d + 2);
            continue;
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

/// Every input: the repository's files, the tests' sources, generated programs and
/// broken versions of all of them.
fn inputs() -> Vec<(String, String)> {
    let mut inputs = files();
    inputs.extend(test_sources());
    let seeds: Vec<String> = inputs.iter().map(|(_, s)| s.clone()).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let generated: Vec<String> = (0..2000).map(|_| program(&mut rng)).collect();
    for (k, g) in generated.iter().enumerate() {
        inputs.push((format!("generated {k}"), g.clone()));
    }
    for k in 0..3000 {
        let base = if k % 2 == 0 {
            &seeds[rng.below(seeds.len())]
        } else {
            &generated[rng.below(generated.len())]
        };
        let mut m = mutate(&mut rng, base);
        if rng.below(3) == 0 {
            m = mutate(&mut rng, &m);
        }
        inputs.push((format!("mutated {k}"), m));
    }
    inputs
}

#[test]
fn print_then_parse_gives_the_same_tree() {
    let mut failures = Vec::new();
    let mut items = 0;
    for (name, src) in inputs() {
        let first = parse("f.paraaf", &src);
        items += first.ast.items.len();
        let printed = print(&first.ast);
        let second = parse("f.paraaf", &printed);
        let syntax = |p: &paraaf_compiler::syntax::Parsed| {
            p.diagnostics
                .iter()
                .filter(|d| d.code == Code::SyntaxError || d.code == Code::TooDeep)
                .count()
        };
        if shape(&first.ast) != shape(&second.ast) || syntax(&second) > 0 {
            failures.push(format!("== {name}\n{src}\n---- printed:\n{printed}"));
        }
        // A generated program is valid syntax: nothing in it is a syntax error.
        if name.starts_with("generated") && syntax(&first) > 0 {
            failures.push(format!("== {name}\n{src}\n{:#?}", first.diagnostics));
        }
    }
    assert!(items > 5_000, "the inputs hold items: {items}");
    assert!(
        failures.is_empty(),
        "{} inputs:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A broken item hides nothing else: each item of a generated program still parses
/// when another item before it lost a token.
#[test]
fn a_broken_item_hides_no_other() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..300 {
        let good = program(&mut rng);
        let n = parse("f.paraaf", &good).ast.items.len();
        let broken = format!("flow f for d {{\n  step : sign\n}}\n{good}");
        let parsed = parse("f.paraaf", &broken);
        assert_eq!(parsed.ast.items.len(), n, "{broken}");
        assert_eq!(
            parsed
                .diagnostics
                .iter()
                .filter(|d| d.code == Code::SyntaxError)
                .count(),
            1,
            "{broken}"
        );
    }
}

/// Words are whole words: pest matched the start of `units` as `unit` (and `uploaders`
/// as `uploader`), so `group g = units` was the unit `s`. The hand-written parser reads
/// `units` as the name it is.
#[test]
fn words_are_whole() {
    let parsed = parse(
        "f.paraaf",
        "group g = units\nflow f for d {\n  visible to uploaders\n  step s : sign a\n}\n",
    );
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let [Item::Group(g), Item::Flow(f)] = parsed.ast.items.as_slice() else {
        panic!("{:?}", parsed.ast)
    };
    assert!(matches!(&g.members, GroupMembers::People(p) if p[0].name.text == "units"));
    assert!(matches!(&f.visible[0], Audience::Signer(s) if s.name.text == "uploaders"));
}
