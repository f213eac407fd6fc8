//! The model stays plain data: `paraaf-model` depends on neither the compiler nor the
//! parser (read from `cargo metadata`), and the runtime's sources never name the
//! compiler's syntax (they take operators, durations and dates from the model).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the model crate sits in the workspace")
        .to_path_buf()
}

/// This machine's target triple, as `rustc -vV` says.
fn host() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .trim()
        .to_string()
}

/// Every package `paraaf-model` depends on, however indirectly (normal and build
/// dependencies; dev-dependencies do not ship).
fn model_dependencies() -> BTreeSet<String> {
    // For this machine's platform only: the whole graph would need the manifests of
    // crates only other platforms use (a `cargo test` here never downloads them), which
    // `--offline` cannot fetch.
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
            &host(),
            "--manifest-path",
        ])
        .arg(workspace().join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    let nodes: BTreeMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("a resolved graph")
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let root = names
        .iter()
        .find(|(_, name)| **name == "paraaf-model")
        .map(|(id, _)| *id)
        .expect("paraaf-model is a workspace member");
    let (mut seen, mut todo) = (BTreeSet::new(), vec![root]);
    while let Some(id) = todo.pop() {
        for dep in nodes[id]["deps"].as_array().into_iter().flatten() {
            let shipped = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].as_str() != Some("dev"));
            if let (true, Some(pkg)) = (shipped, dep["pkg"].as_str())
                && seen.insert(pkg)
            {
                todo.push(pkg);
            }
        }
    }
    seen.iter().map(|id| names[id].to_string()).collect()
}

#[test]
fn the_model_depends_on_neither_compiler_nor_parser() {
    let deps = model_dependencies();
    assert!(
        deps.contains("serde"),
        "the walk found the model's dependencies: {deps:?}"
    );
    for banned in ["paraaf-compiler", "pest", "pest_derive", "salsa"] {
        assert!(
            !deps.contains(banned),
            "paraaf-model depends on {banned}: {deps:?}"
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_runtime_never_names_the_compilers_syntax() {
    let mut files = Vec::new();
    rust_files(&workspace().join("runtime/src"), &mut files);
    assert!(files.len() > 10, "the runtime's sources were found");
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).expect("readable source");
            text.contains("paraaf_compiler::syntax")
                || text.contains("paraaf_compiler::{syntax")
                || text.contains("paraaf_compiler::compile::model")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "the runtime takes the compiled model from paraaf_model: {offenders:?}"
    );
}
