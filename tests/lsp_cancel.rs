//! Cancellation and big inputs in the language server (#31): requests run on snapshots
//! side by side, `$/cancelRequest` answers `RequestCancelled` (-32800) at once and stops
//! the work, an edit cancels what was computed for the old text, incremental changes
//! apply in order, semantic tokens can be asked for the visible range only, and the
//! outline of a big file is capped.

#[path = "support/lsp_client.rs"]
mod lsp_client;
mod support;

use lsp_client::{LspClient, uri};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn start(name: &str) -> (LspClient, std::path::PathBuf) {
    let root = support::tempdir(name).join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &root);
    let mut c = LspClient::start(env!("CARGO_BIN_EXE_paraaf"));
    c.initialize(&root);
    (c, root)
}

/// A flow file of about `kb` kilobytes: many small flows.
fn big_text(kb: usize) -> String {
    let mut out = String::new();
    let mut i = 0;
    while out.len() < kb * 1024 {
        out.push_str(&format!(
            "flow groot{i} for besluit when bedrag != none and bedrag >= {i} EUR {{\n  visible to uploader, signers, unit document.dienst\n  step paraaf : sign diensthoofd of document.dienst\n  step handtekening : sign burgemeester\n}}\n"
        ));
        i += 1;
    }
    out
}

/// CPU seconds (user and system) the server process has used so far.
fn cpu_seconds(c: &LspClient) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", c.child.id())).unwrap();
    // Fields after the command name (which is in parentheses): utime is the 12th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn send_request(c: &mut LspClient, id: i64, method: &str, params: Value) {
    c.send_raw(
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
            .to_string()
            .as_bytes(),
    );
}

/// Ten semantic-token requests on a 2 MB file, each cancelled at once: every one is
/// answered, with `RequestCancelled` for those still running, and a hover sent after
/// them is not held up by the cancelled work.
#[test]
fn cancelled_requests_answer_at_once() {
    let (mut c, root) = start("lsp-cancel");
    let path = root.join("flows/groot.paraaf");
    let text = big_text(2048);
    std::fs::write(&path, &text).unwrap();
    let u = uri(&path);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": u, "languageId": "paraaf", "version": 1, "text": text}}),
    );
    c.diagnostics_where(&u, |_| true);
    // What one colouring of the file costs the server, warm (the parse is cached).
    let tokens = json!({"textDocument": {"uri": u}});
    let _ = c.request("textDocument/semanticTokens/full", tokens.clone());
    let cpu0 = cpu_seconds(&c);
    let one = Instant::now();
    let _ = c.request("textDocument/semanticTokens/full", tokens.clone());
    let (single_cpu, single_wall) = (cpu_seconds(&c) - cpu0, one.elapsed());
    let cpu_before = cpu_seconds(&c);
    let started = Instant::now();
    let ids: Vec<i64> = (0..10).map(|i| 10_000 + i).collect();
    for id in &ids {
        send_request(
            &mut c,
            *id,
            "textDocument/semanticTokens/full",
            json!({"textDocument": {"uri": u}}),
        );
        // Cancelled while it runs (a tenth into its work), not before it starts.
        std::thread::sleep((single_wall / 10).max(Duration::from_millis(20)));
        c.notify("$/cancelRequest", json!({"id": id}));
    }
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&root.join("flows/college.paraaf"))}, "position": {"line": 3, "character": 22}}),
    );
    assert!(hover.get("error").is_none(), "{hover}");
    let mut cancelled = 0;
    for id in &ids {
        let r = c
            .wait_for(|v| v["id"] == *id)
            .unwrap_or_else(|| panic!("no answer to {id}"));
        if r["error"]["code"] == -32800 {
            cancelled += 1;
        }
    }
    assert!(cancelled >= 8, "only {cancelled} of 10 were cancelled");
    // The cancelled work stopped: after it would have finished, the server spent less
    // than four colourings' CPU on ten of them (5 to 10 when cancelling only
    // dropped the answer).
    std::thread::sleep(single_wall * 3 + Duration::from_millis(500));
    let spent = cpu_seconds(&c) - cpu_before;
    eprintln!("ten cancelled: {spent:.2} s CPU; one colouring: {single_cpu:.2} s CPU");
    assert!(
        spent < single_cpu * 4.0 + 0.05,
        "ten cancelled requests cost {spent:.2} s of CPU, one costs {single_cpu:.2} s ({single_wall:?})"
    );
    // A liveness bound, not a benchmark: all of it in a debug build.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
}

/// Incremental changes (ranges) apply in order; an edit that arrives while a request
/// for the old text runs cancels it (or it was done first); the range request colours
/// only what is asked for.
#[test]
fn incremental_edits_and_ranged_tokens() {
    let (mut c, root) = start("lsp-incremental");
    let path = root.join("flows/college.paraaf");
    let text = std::fs::read_to_string(&path).unwrap();
    let u = uri(&path);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": u, "languageId": "paraaf", "version": 1, "text": text}}),
    );
    c.diagnostics_where(&u, |d| d.is_empty());
    // `sign burgemeester` on line 6 (0-based) becomes `sign burgemeestr`, then a
    // second change inserts a comment line above it: two ranges in one notification.
    let line = text
        .lines()
        .position(|l| l.contains("sign burgemeester"))
        .unwrap();
    let col = text
        .lines()
        .nth(line)
        .unwrap()
        .find("burgemeester")
        .unwrap()
        + 10;
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + 1}}, "text": ""},
            {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// nieuw\n"}
        ]}),
    );
    let d = c.diagnostics_where(&u, |d| !d.is_empty());
    assert_eq!(d[0]["code"], "P0003", "{d:?}");
    assert_eq!(d[0]["range"]["start"]["line"], line + 1, "{d:?}");
    assert!(
        d[0]["message"].as_str().unwrap().contains("burgemeestr"),
        "{d:?}"
    );
    // Ranged semantic tokens: only line 1 and 2, fewer than the whole file's.
    let full = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": u}}),
    );
    let ranged = c.request(
        "textDocument/semanticTokens/range",
        json!({"textDocument": {"uri": u}, "range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}}),
    );
    let n = |v: &Value| v["result"]["data"].as_array().map_or(0, Vec::len) / 5;
    assert!(
        n(&ranged) > 0 && n(&ranged) < n(&full),
        "{} of {}",
        n(&ranged),
        n(&full)
    );
    assert_eq!(
        ranged["result"]["data"][0], 1,
        "first token on line 1: {ranged}"
    );
    // A request on a 2 MB file, then an edit at once: cancelled or already answered,
    // never an answer for a text that is gone after the edit was applied.
    let big = root.join("flows/groot.paraaf");
    let bt = big_text(2048);
    std::fs::write(&big, &bt).unwrap();
    let bu = uri(&big);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": bu, "languageId": "paraaf", "version": 1, "text": bt}}),
    );
    send_request(
        &mut c,
        77_000,
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": bu}}),
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": bu, "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// x\n"}]}),
    );
    let r = c.wait_for(|v| v["id"] == 77_000).expect("an answer");
    assert!(
        r["error"]["code"] == -32800 || r["result"]["data"].is_array(),
        "{r}"
    );
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
}

/// All entries of an outline, children included.
fn count_symbols(list: &Value) -> usize {
    list.as_array().map_or(0, |a| {
        a.iter()
            .map(|s| 1 + count_symbols(&s["children"]))
            .sum::<usize>()
    })
}

/// The outline of a 2 MB file (about 10,000 flows, 30,000 entries) answered 9.7 MB: it is
/// capped at 2,000 entries and one last entry that says how many definitions are left
/// out, placed at the first of them. A small file's outline is whole, without that entry.
#[test]
fn the_outline_of_a_big_file_is_capped() {
    let (mut c, root) = start("lsp-outline-cap");
    let path = root.join("flows/groot.paraaf");
    let text = big_text(2048);
    let flows = text.matches("\nflow ").count() + 1;
    std::fs::write(&path, &text).unwrap();
    let u = uri(&path);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": u, "languageId": "paraaf", "version": 1, "text": text}}),
    );
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": u}}),
    );
    let list = &r["result"];
    let entries = count_symbols(list);
    assert!(
        entries <= 2001 && entries > 1900,
        "{entries} entries for {flows} flows"
    );
    let size = list.to_string().len();
    assert!(size < 1024 * 1024, "{size} bytes");
    let items = list.as_array().unwrap();
    // Every flow shown whole (its two steps), in the file's order.
    assert_eq!(items[0]["name"], "flow groot0");
    assert_eq!(items[1]["name"], "flow groot1");
    assert_eq!(items[0]["children"].as_array().unwrap().len(), 2);
    let shown = items.len() - 1;
    let last = items.last().unwrap();
    let name = last["name"].as_str().unwrap();
    assert!(
        name.contains(&format!("{} more definitions", flows - shown)),
        "{name}"
    );
    assert!(name.contains("at most 2000 entries"), "{name}");
    // At the first flow left out (each flow is 5 lines).
    assert_eq!(
        last["range"]["start"]["line"],
        shown * 5,
        "{last} after {shown} flows"
    );
    // A small file: every definition, no summary.
    let college = root.join("flows/college.paraaf");
    let cu = uri(&college);
    let ct = std::fs::read_to_string(&college).unwrap();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": cu, "languageId": "paraaf", "version": 1, "text": ct}}),
    );
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": cu}}),
    );
    let names: Vec<&str> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let defs = ct
        .lines()
        .filter(|l| {
            [
                "document ",
                "flow ",
                "group ",
                "rule ",
                "agency ",
                "substitutes ",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
        .count();
    assert_eq!(names.len(), defs, "{names:?}");
    assert!(!names.iter().any(|n| n.contains("not shown")), "{names:?}");
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
}
