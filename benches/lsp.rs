//! `cargo bench --bench lsp`: what typing feels like in `paraaf lsp`. On the Aalst
//! example, on generated projects of 200 and 1,000 flow files and on the Aalst flows
//! against a generated city of 50,000 people: keystroke → completion answer (after
//! `sign `, where every signer of the city matches), and keystroke → the diagnostics
//! that reflect it, p50 and p99, next to a cold `paraaf check` process of the same
//! project in the same run.

#[path = "../tests/support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{LspClient, uri};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

struct Figures {
    completion: (Duration, Duration),
    diagnostics: (Duration, Duration),
    cold: Duration,
}

fn measure(root: &Path, file: &Path, runs: usize) -> Figures {
    let bin = env!("CARGO_BIN_EXE_paraaf");
    let mut cold: Vec<Duration> = (0..3)
        .map(|_| {
            let t = Instant::now();
            let o = std::process::Command::new(bin)
                .args(["check", root.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
            t.elapsed()
        })
        .collect();
    let mut c = LspClient::start(bin);
    c.initialize(root);
    let u = uri(file);
    let text = std::fs::read_to_string(file).unwrap();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": u, "languageId": "paraaf", "version": 1, "text": text}}),
    );
    c.diagnostics_where(&u, |d| d.is_empty());
    // Keystroke → completion: type one character into a step, ask for completion there.
    let at = text.find("sign ").unwrap() + 5;
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut completion = Vec::new();
    let mut version = 2;
    for i in 0..runs {
        let typed = format!("{}{}{}", &text[..at], &"d"[..(i % 2)], &text[at..]);
        let start = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": u, "version": version}, "contentChanges": [{"text": typed}]}),
        );
        version += 1;
        let r = c.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": u}, "position": {"line": line, "character": col + (i % 2)}}),
        );
        completion.push(start.elapsed());
        assert!(r["result"]["items"].is_array(), "{r}");
    }
    // Keystroke → diagnostics: alternate a typo and its fix; wait for the list that
    // reflects each.
    let typo = text.replacen("sign ", "sign x", 1);
    let mut diagnostics = Vec::new();
    for v in 0..runs {
        let (t, want_errors) = if v % 2 == 0 {
            (&typo, true)
        } else {
            (&text, false)
        };
        let start = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": u, "version": version}, "contentChanges": [{"text": t}]}),
        );
        version += 1;
        c.diagnostics_where(&u, |d| d.is_empty() != want_errors);
        diagnostics.push(start.elapsed());
    }
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    let _ = c.child.wait();
    Figures {
        completion: (pct(&mut completion, 0.5), pct(&mut completion, 0.99)),
        diagnostics: (pct(&mut diagnostics, 0.5), pct(&mut diagnostics, 0.99)),
        cold: pct(&mut cold, 0.5),
    }
}

fn generated(files: usize, aalst: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paraaf-bench-{files}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("flows")).unwrap();
    std::fs::copy(aalst.join("org.toml"), dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("paraaf.toml"), "organogram = \"org.toml\"\n").unwrap();
    for i in 0..files {
        std::fs::write(
            dir.join(format!("flows/f{i:04}.paraaf")),
            format!(
                "document d{i} {{\n  dienst: unit\n  bedrag: money?\n}}\n\nflow f{i} for d{i} {{\n  visible to uploader, signers\n  step paraaf : sign diensthoofd of document.dienst\n  step visum : sign financieel-directeur when bedrag != none and bedrag >= {} EUR\n  step handtekening : all {{\n    sign burgemeester\n    sign algemeen-directeur\n  }}\n}}\n",
                1000 + i
            ),
        )
        .unwrap();
    }
    dir
}

/// The Aalst project with its organogram grown to `people` people (the generated ones
/// are administrative staff of the population service, each with an HR key).
fn city(people: usize, aalst: &Path) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("paraaf-bench-city-{people}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(aalst, &dir);
    let mut org = std::fs::read_to_string(aalst.join("org.toml")).unwrap();
    let have = org.matches("[[people]]").count();
    for i in have..people {
        org.push_str(&format!(
            "\n[[people]]\nid = \"medewerker-{i:05}\"\nname = \"Medewerker {i:05}\"\nemail = \"medewerker.{i:05}@aalst.be\"\nkey = \"G{i:05}\"\n\n[[people.positions]]\nfunction = \"administratief-medewerker\"\nunit = \"bevolking\"\n"
        ));
    }
    std::fs::write(dir.join("org.toml"), org).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn main() {
    let aalst = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aalst");
    let runs: usize = std::env::var("PARAAF_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let mut rows = vec![(
        "examples/aalst (10 files)".to_string(),
        measure(&aalst, &aalst.join("flows/college.paraaf"), runs),
    )];
    for n in [200, 1000] {
        let dir = generated(n, &aalst);
        rows.push((
            format!("generated, {n} flow files"),
            measure(&dir, &dir.join(format!("flows/f{:04}.paraaf", n / 2)), runs),
        ));
    }
    let big = city(50_000, &aalst);
    rows.push((
        "aalst flows, 50,000 people".to_string(),
        measure(&big, &big.join("flows/college.paraaf"), runs),
    ));
    println!(
        "typing in paraaf lsp ({runs} keystrokes each), next to a cold `paraaf check` process:"
    );
    println!(
        "  {:<28} {:>22} {:>22} {:>12}",
        "project", "completion p50 / p99", "diagnostics p50 / p99", "cold check"
    );
    for (name, f) in rows {
        println!(
            "  {:<28} {:>10.1?} / {:>9.1?} {:>10.1?} / {:>9.1?} {:>12.1?}",
            name, f.completion.0, f.completion.1, f.diagnostics.0, f.diagnostics.1, f.cold
        );
    }
}
