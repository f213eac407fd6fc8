//! `cargo bench -p paraaf-compiler`: time of checking the Aalst example, printed next to
//! a baseline measured in the same run (bare TOML parse of the organogram and reading the
//! files), and of an incremental re-check after editing one file.

mod support;

use paraaf_compiler::db::{Database, project_diagnostics};
use paraaf_compiler::load::load;
use salsa::Setter;
use std::path::Path;
use support::median;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst");
    let runs = 31;

    let baseline = median(
        || {
            let org = std::fs::read_to_string(root.join("org.toml")).unwrap();
            let v: toml::Value = toml::from_str(&org).unwrap();
            for e in std::fs::read_dir(root.join("flows")).unwrap() {
                std::hint::black_box(std::fs::read_to_string(e.unwrap().path()).unwrap());
            }
            std::hint::black_box(v);
        },
        runs,
    );
    let cold = median(
        || {
            let p = load(&root).unwrap();
            assert!(project_diagnostics(&p.db, p.project).is_empty());
        },
        runs,
    );

    // Incremental: edit one file, re-check (what the language server does per keystroke).
    // (Take the database out rather than clone it: salsa waits for every clone to be
    // dropped before it applies an input change.)
    let loaded = load(&root).unwrap();
    let (mut db, project) = (loaded.db, loaded.project);
    project_diagnostics(&db, project);
    let file = project.files(&db)[0];
    let text = file.text(&db).clone();
    let mut edit = |prefix: &str, suffix: &str| {
        let mut flip = false;
        median(
            || {
                flip = !flip;
                let new = if flip {
                    format!("{prefix}{text}{suffix}")
                } else {
                    text.clone()
                };
                file.set_text(&mut db).to(new);
                std::hint::black_box(project_diagnostics(&db, project).len());
            },
            runs,
        )
    };
    // A comment appended at the end: the tree is unchanged, salsa stops after parsing.
    let incremental = edit("", "\n// edited\n");
    // A line inserted at the top: every span of the file moves, every check re-runs.
    let shifting = edit("// edited\n", "");

    // A generated project of 200 flow files against the Aalst organogram.
    let org = std::fs::read_to_string(root.join("org.toml")).unwrap();
    let files: Vec<(String, String)> = (0..200)
        .map(|i| {
            (
                format!("f{i}.paraaf"),
                format!(
                    "document d{i} {{\n  dienst: unit\n  bedrag: money?\n}}\n\
                     flow f{i} for d{i} {{\n  visible to uploader, signers\n  step paraaf : sign diensthoofd of document.dienst\n  \
                     step visum : sign financieel-directeur when bedrag != none and bedrag >= {} EUR\n  \
                     step handtekening : all {{\n    sign burgemeester\n    sign algemeen-directeur\n  }}\n}}\n",
                    1000 + i
                ),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let big = median(
        || {
            let (db, project) = Database::from_texts(("org.toml", &org), &refs);
            assert!(project_diagnostics(&db, project).is_empty());
        },
        11,
    );

    println!("paraaf check examples/aalst (10 files, 342 people), median of {runs} runs:");
    println!(
        "  baseline: read files + bare TOML parse of org.toml  {:>10.2?}",
        baseline
    );
    println!(
        "  load + parse + resolve + check (cold)              {:>10.2?}  ({:.1}x baseline)",
        cold,
        cold.as_secs_f64() / baseline.as_secs_f64()
    );
    println!(
        "  re-check after appending a comment to one file     {:>10.2?}",
        incremental
    );
    println!(
        "  re-check after inserting a line atop one file      {:>10.2?}",
        shifting
    );
    println!(
        "  generated project, 200 flow files (cold)           {:>10.2?}",
        big
    );
}
