//! A mutation fuzzer that runs on stable Rust: seeds are the example files; each round
//! mutates one (bytes, tokens, splices, repetitions of hostile pieces: no-break spaces,
//! BOMs, deep brackets, long chains) and runs parse, check, the printer and the formatter
//! under `catch_unwind`. `scripts/fuzz.sh SECONDS` runs it for a fixed time; a crashing
//! input is written to `compiler/tests/fuzz-regressions/`, where
//! `regressions_do_not_crash` (part of the normal test run) keeps it fixed.

mod common;

use paraaf_compiler::db::{Database, project_diagnostics};
use paraaf_compiler::syntax::{format, parse, print};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

/// Runs every pass on `src`; `Err` carries the panic message.
fn exercise(src: &str) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| {
        let org = common::broken_org();
        let (db, project) = Database::from_texts(("org.toml", &org), &[("f.paraaf", src)]);
        let diags = project_diagnostics(&db, project);
        let _ = paraaf_compiler::diagnostics::render_text(diags, |_| Some(src), false);
        let _ = paraaf_compiler::diagnostics::render_json(diags, |_| Some(src));
        let parsed = parse("f.paraaf", src);
        let _ = print(&parsed.ast);
        let once = format(src);
        assert_eq!(format(&once), once, "formatting is not a fixed point");
    }))
    .map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

fn regressions_dir() -> PathBuf {
    common::root().join("compiler/tests/fuzz-regressions")
}

#[test]
fn regressions_do_not_crash() {
    for e in std::fs::read_dir(regressions_dir()).unwrap().flatten() {
        let bytes = std::fs::read(e.path()).unwrap();
        let src = String::from_utf8_lossy(&bytes);
        if let Err(why) = exercise(&src) {
            panic!("{} crashes again: {why}", e.path().display());
        }
    }
}

/// A small deterministic generator (xorshift), so a run is reproducible from its seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "\u{a0}",
    "\u{202f}",
    "\u{feff}",
    "é",
    "ë",
    "ş",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    " and ",
    " or ",
    " not ",
    "35% of ",
    " EUR",
    "8.500 EUR",
    "8 500 EUR",
    "\"",
    "\\u{",
    "//",
    "\n",
    "\r\n",
    "when ",
    "document.",
    "of ",
    "none",
    "?",
    ":",
    ",",
    "shielded by ",
    " in ",
    " allow ",
    " + ",
    "0",
    "99999999999999999999999999999",
];

fn mutate(rng: &mut Rng, seeds: &[String]) -> String {
    let mut s: Vec<char> = seeds[rng.below(seeds.len())].chars().collect();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(s.len() + 1);
        match rng.below(6) {
            0 if !s.is_empty() => {
                let end = (at + rng.below(40)).min(s.len());
                s.drain(at.min(end)..end);
            }
            1 => {
                let piece = PIECES[rng.below(PIECES.len())];
                let times = if rng.below(10) == 0 {
                    1 + rng.below(3000)
                } else {
                    1
                };
                for _ in 0..times {
                    s.splice(at..at, piece.chars());
                }
            }
            2 => {
                let other: Vec<char> = seeds[rng.below(seeds.len())].chars().collect();
                let from = rng.below(other.len());
                let len = rng.below(200).min(other.len() - from);
                s.splice(at..at, other[from..from + len].iter().copied());
            }
            3 if !s.is_empty() => {
                let i = rng.below(s.len());
                s[i] = char::from_u32(rng.below(0x3000) as u32).unwrap_or('x');
            }
            _ => {
                let piece = PIECES[rng.below(PIECES.len())];
                s.splice(at..at, piece.chars());
            }
        }
    }
    s.into_iter().collect()
}

/// `FUZZ_SECONDS=60 cargo test -p paraaf-compiler --test fuzz -- --ignored` (see
/// scripts/fuzz.sh).
#[test]
#[ignore]
fn fuzz_for_a_while() {
    let seconds: u64 = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let seeds: Vec<String> = common::example_sources()
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(seed);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let (mut runs, mut crashes) = (0u64, Vec::new());
    while std::time::Instant::now() < deadline {
        let input = mutate(&mut rng, &seeds);
        runs += 1;
        if let Err(why) = exercise(&input) {
            let path = regressions_dir().join(format!("crash-{seed:x}-{runs}.paraaf"));
            std::fs::write(&path, &input).unwrap();
            crashes.push(format!("{}: {why}", path.display()));
        }
    }
    let _ = std::panic::take_hook();
    eprintln!("{runs} inputs in {seconds} s, {} crashes", crashes.len());
    assert!(crashes.is_empty(), "crashes:\n{}", crashes.join("\n"));
}
