//! Fixture-driven tests: every file of `examples/broken/` (snapshot of SOURCE and the
//! rendered diagnostics), the compiled examples, and the diagnostic docs.

mod common;

use common::root;
use paraaf_compiler::db::{compiled, project_diagnostics};
use paraaf_compiler::diagnostics::{Code, render_text};
use paraaf_compiler::load::load;

/// The code a broken example is named after (`P0003-unknown-name.paraaf` → P0003).
fn code_of(path: &std::path::Path) -> Code {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    Code::parse(&name[..5]).unwrap_or_else(|| panic!("{name} is not named after a code"))
}

#[test]
fn broken_examples() {
    insta::glob!("../../examples/broken", "*.paraaf", |path| {
        let project = load(path).expect("loads");
        let diags = project_diagnostics(&project.db, project.project);
        let code = code_of(path);
        assert!(!diags.is_empty(), "{} emits nothing", path.display());
        assert!(
            diags.iter().all(|d| d.code == code),
            "{} must emit only {code}: {diags:#?}",
            path.display()
        );
        let source = std::fs::read_to_string(path).unwrap();
        let rendered = render_text(diags, |f| project.source(f), false);
        insta::assert_snapshot!(format!("SOURCE\n{source}\nDIAGNOSTICS\n{rendered}"));
    });
}

#[test]
fn broken_organogram() {
    let project = load(&root().join("examples/broken/P0022-organogram")).expect("loads");
    let diags = project_diagnostics(&project.db, project.project);
    assert!(diags.iter().all(|d| d.code == Code::OrganogramError) && !diags.is_empty());
    insta::assert_snapshot!(render_text(diags, |f| project.source(f), false));
}

#[test]
fn every_code_has_a_broken_example() {
    for code in Code::ALL {
        if *code == Code::NotInProject {
            // Its example must lie outside every project.
            assert!(root().join("examples/loose/notitie.paraaf").is_file());
            continue;
        }
        let found = std::fs::read_dir(root().join("examples/broken"))
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with(code.as_str()));
        assert!(found, "no example in examples/broken/ for {code}");
    }
}

#[test]
fn clean_examples_compile() {
    for name in ["aalst", "hasselt"] {
        let project = load(&root().join("examples").join(name)).expect("loads");
        let diags = project_diagnostics(&project.db, project.project);
        assert!(
            diags.is_empty(),
            "examples/{name} is not clean:\n{}",
            render_text(diags, |f| project.source(f), false)
        );
        let out = compiled(&project.db, project.project)
            .as_ref()
            .expect("compiles");
        let json = serde_json::to_string_pretty(out).unwrap();
        // The runtime reads it back.
        let back: paraaf_compiler::compile::CompiledProject = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, out);
        insta::assert_snapshot!(format!("compiled_{name}"), json);
    }
}

/// Every documented example emits exactly its code, and the page shows what the
/// checker really says. Regenerate with `python3 docs/diagnostics/update.py`.
#[test]
fn docs_match_checker() {
    for code in Code::ALL {
        let doc = code.doc();
        assert!(
            doc.starts_with(&format!("# {code}: ")),
            "docs/diagnostics/{code}.md has no title"
        );
        for section in ["## What it means", "## Example", "## How to fix it"] {
            assert!(
                doc.contains(section),
                "docs/diagnostics/{code}.md lacks {section}"
            );
        }
        let example = doc.split("```").nth(1).expect("example block");
        let example = example.split_once('\n').map_or("", |(_, rest)| rest);
        let dir = root().join("examples/broken");
        if *code == Code::NotInProject {
            // A file outside every project (examples/ has no paraaf.toml).
            let path = root().join("examples/loose/notitie.paraaf");
            assert_eq!(
                example,
                std::fs::read_to_string(&path).unwrap(),
                "P0024 example"
            );
            let (project, warning) = paraaf_compiler::load::load_loose(&path).unwrap();
            let mut diags = vec![warning];
            diags.extend(
                project_diagnostics(&project.db, project.project)
                    .iter()
                    .cloned(),
            );
            assert_eq!(
                diags.iter().map(|d| d.code).collect::<Vec<_>>(),
                vec![Code::NotInProject],
                "the P0024 example emits exactly P0024"
            );
            let rendered = render_text(&diags, |f| project.source(f), false);
            let shown = doc
                .split("```text\n")
                .nth(1)
                .and_then(|s| s.split("\n```").next())
                .unwrap_or("");
            assert_eq!(
                shown.trim_end(),
                rendered.trim_end(),
                "docs/diagnostics/P0024.md is stale"
            );
            continue;
        }
        let path = if *code == Code::OrganogramError {
            dir.join("P0022-organogram/org.toml")
        } else {
            std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(code.as_str())
                })
                .unwrap()
        };
        assert_eq!(
            example,
            std::fs::read_to_string(&path).unwrap(),
            "docs/diagnostics/{code}.md: example differs from {}",
            path.display()
        );
        let project = load(if *code == Code::OrganogramError {
            path.parent().unwrap()
        } else {
            &path
        })
        .unwrap();
        let rendered = render_text(
            project_diagnostics(&project.db, project.project),
            |f| project.source(f),
            false,
        );
        let shown = doc
            .split("```text\n")
            .nth(1)
            .and_then(|s| s.split("\n```").next())
            .unwrap_or("");
        assert_eq!(
            shown.trim_end(),
            rendered.trim_end(),
            "docs/diagnostics/{code}.md is stale: run python3 docs/diagnostics/update.py"
        );
    }
}
