//! `cargo bench --bench lsp`: time from `didChange` to `publishDiagnostics` in `paraaf lsp`
//! on the Aalst example and on a generated project of 200 flow files, next to the time of
//! a cold `paraaf check` of the same project in the same run.

#[path = "../tests/support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{LspClient, uri};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn measure(root: &Path, file: &Path, runs: usize) -> (Duration, Duration) {
    let bin = env!("CARGO_BIN_EXE_paraaf");
    let cold: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let o = std::process::Command::new(bin)
                .args(["check", root.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(o.status.success());
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
    let typo = text.replacen("sign ", "sign x", 1);
    let mut times = Vec::new();
    for v in 0..runs {
        let (t, want_errors) = if v % 2 == 0 {
            (&typo, true)
        } else {
            (&text, false)
        };
        let start = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": u, "version": v + 2}, "contentChanges": [{"text": t}]}),
        );
        c.diagnostics_where(&u, |d| d.is_empty() != want_errors);
        times.push(start.elapsed());
    }
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    let _ = c.child.wait();
    (median(times), median(cold))
}

fn main() {
    let aalst = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aalst");
    let (edit, cold) = measure(&aalst, &aalst.join("flows/college.paraaf"), 41);

    let dir = std::env::temp_dir().join(format!("paraaf-bench-200-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("flows")).unwrap();
    std::fs::copy(aalst.join("org.toml"), dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("paraaf.toml"), "organogram = \"org.toml\"\n").unwrap();
    for i in 0..200 {
        std::fs::write(
            dir.join(format!("flows/f{i:03}.paraaf")),
            format!(
                "document d{i} {{\n  dienst: unit\n  bedrag: money?\n}}\n\nflow f{i} for d{i} {{\n  visible to uploader, signers\n  step paraaf : sign diensthoofd of document.dienst\n  step visum : sign financieel-directeur when bedrag != none and bedrag >= {} EUR\n  step handtekening : all {{\n    sign burgemeester\n    sign algemeen-directeur\n  }}\n}}\n",
                1000 + i
            ),
        )
        .unwrap();
    }
    let (edit200, cold200) = measure(&dir, &dir.join("flows/f100.paraaf"), 41);
    println!("didChange → publishDiagnostics (median), next to a cold `paraaf check` process:");
    println!(
        "  examples/aalst (10 files, 342 people)   {:>10.2?}   cold check {:>10.2?}",
        edit, cold
    );
    println!(
        "  generated, 200 flow files              {:>10.2?}   cold check {:>10.2?}",
        edit200, cold200
    );
}
