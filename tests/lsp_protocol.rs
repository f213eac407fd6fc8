//! The language server as a hostile or careless client meets it: broken framing, bad
//! JSON, `$/` requests, `exit` without `shutdown`, huge conditions; and the repository
//! opened at its root, with several projects, loose files and paths with spaces, `é`
//! and emoji.

#[path = "support/lsp_client.rs"]
mod lsp_client;
mod support;

use lsp_client::{LspClient, uri};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn start(root: &Path) -> LspClient {
    let mut c = LspClient::start(env!("CARGO_BIN_EXE_paraaf"));
    let init = c.initialize(root);
    assert!(
        init["result"]["capabilities"]["hoverProvider"]
            .as_bool()
            .unwrap()
    );
    c
}

fn symbols(c: &mut LspClient, u: &str) -> Value {
    c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": u}}),
    )
}

fn open(c: &mut LspClient, path: &Path) -> String {
    let u = uri(path);
    let text = std::fs::read_to_string(path).unwrap();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": u, "languageId": "paraaf", "version": 1, "text": text}}),
    );
    u
}

fn aalst(name: &str) -> PathBuf {
    let dir = support::tempdir(name).join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    dir
}

#[test]
fn framing_errors_resynchronise() {
    let root = aalst("lsp-framing");
    let mut c = start(&root);
    let u = open(&mut c, &root.join("flows/college.paraaf"));
    // A header block without Content-Length, one with a length that is not a number, a
    // length too short and one too long: every later request is still answered.
    c.write_unframed(b"Content-Type: application/vscode-jsonrpc\r\n\r\n{\"jsonrpc\":\"2.0\"}");
    c.write_unframed(b"Content-Length: many\r\n\r\n{}");
    let short = br#"{"jsonrpc":"2.0","id":900,"method":"shutdown"}"#;
    c.write_unframed(format!("Content-Length: {}\r\n\r\n", short.len() - 10).as_bytes());
    c.write_unframed(short);
    let probe = br#"{"jsonrpc":"2.0","method":"$/paraaf/ping"}"#;
    c.write_unframed(format!("Content-Length: {}\r\n\r\n", probe.len() + 40).as_bytes());
    c.write_unframed(probe);
    for i in 0..30 {
        let r = symbols(&mut c, &u);
        assert!(
            r["result"].as_array().is_some_and(|a| !a.is_empty()),
            "request {i}: {r}"
        );
    }
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert_eq!(c.child.wait().unwrap().code(), Some(0));
}

/// A Content-Length far beyond the body that came: the next message is not swallowed
/// (60 MB announced, 50 bytes sent, then a request), and a body that never completes is
/// dropped after a few seconds instead of stalling every later request.
#[test]
fn an_overlong_length_does_not_stall_the_server() {
    let root = aalst("lsp-overlong");
    let mut c = start(&root);
    let u = open(&mut c, &root.join("flows/college.paraaf"));
    let body = br#"{"jsonrpc":"2.0","method":"$/paraaf/ping"}"#;
    c.write_unframed(b"Content-Length: 60000000\r\n\r\n");
    c.write_unframed(body);
    let r = symbols(&mut c, &u);
    assert!(r["result"].as_array().is_some_and(|a| !a.is_empty()), "{r}");
    // Now the short body is the last thing sent: the server waits, then lets it go.
    c.write_unframed(b"Content-Length: 60000000\r\n\r\n");
    c.write_unframed(body);
    std::thread::sleep(std::time::Duration::from_secs(6));
    let r = symbols(&mut c, &u);
    assert!(r["result"].as_array().is_some_and(|a| !a.is_empty()), "{r}");
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert_eq!(c.child.wait().unwrap().code(), Some(0));
}

#[test]
fn errors_are_answered_per_the_spec() {
    let root = aalst("lsp-errors");
    let mut c = start(&root);
    // Not JSON, with a correct length: -32700 with a null id.
    c.send_raw(b"{not json");
    let r = c
        .wait_for(|v| v["error"]["code"] == -32700)
        .expect("a parse error reply");
    assert_eq!(r["id"], Value::Null);
    // JSON but no JSON-RPC: -32600.
    c.send_raw(br#"{"id": 7, "hello": "world"}"#);
    let r = c
        .wait_for(|v| v["error"]["code"] == -32600)
        .expect("invalid request");
    assert_eq!(r["id"], 7);
    c.send_raw(b"[1,2,3]");
    assert!(c.wait_for(|v| v["error"]["code"] == -32600).is_some());
    // A request to a `$/` method: -32601 with its id.
    let r = c.request("$/paraaf/whatever", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    // An unknown method: -32601.
    let r = c.request("paraaf/unknown", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    // `$/` notifications are ignored, and the server still answers.
    c.notify("$/setTrace", json!({"value": "off"}));
    let r = c.request("textDocument/hover", json!({"textDocument": {"uri": uri(&root.join("flows/college.paraaf"))}, "position": {"line": 0, "character": 0}}));
    assert!(r.get("error").is_none(), "{r}");
    // `exit` without `shutdown`: exit code 1.
    c.notify("exit", json!(null));
    assert_eq!(c.child.wait().unwrap().code(), Some(1));
}

#[test]
fn huge_and_deep_conditions_do_not_crash_the_server() {
    let root = aalst("lsp-huge");
    let mut c = start(&root);
    let path = root.join("flows/huge.paraaf");
    let terms: Vec<String> = (0..2_000).map(|i| format!("bedrag >= {i} EUR")).collect();
    let long = format!(
        "flow huge for besluit when {} {{\n  step a : sign burgemeester\n}}\n",
        terms.join(" and ")
    );
    std::fs::write(&path, &long).unwrap();
    let u = open(&mut c, &path);
    let d = c.diagnostics_where(&u, |_| true);
    let _ = d;
    let r = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": u}}),
    );
    assert!(r.get("result").is_some(), "{r}");
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": u}, "position": {"line": 0, "character": 30000}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    // 20,000 nested brackets.
    let deep = format!(
        "flow deep for besluit when {}bedrag >= 1 EUR{} {{\n  step a : sign burgemeester\n}}\n",
        "(".repeat(20_000),
        ")".repeat(20_000)
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": [{"text": deep}]}),
    );
    let d = c.diagnostics_where(&u, |d| d.iter().any(|x| x["code"] == "P0002"));
    assert!(!d.is_empty());
    let r = symbols(&mut c, &u);
    assert!(r.get("result").is_some(), "{r}");
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert_eq!(c.child.wait().unwrap().code(), Some(0));
}

/// Thousands of errors on one long line (with no-break spaces, so not ASCII): the list
/// is capped with a note, and typing elsewhere is still answered at once (converting
/// positions was quadratic in the line and held the database, so edits and completion
/// waited behind it).
#[test]
fn many_errors_on_one_long_line_do_not_hold_up_typing() {
    let root = aalst("lsp-long-line");
    let mut c = start(&root);
    let path = root.join("flows/lang.paraaf");
    let terms: Vec<String> = (0..3_000)
        .map(|i| format!("onbekend{i} >= 1\u{a0}000 EUR"))
        .collect();
    let long = format!(
        "flow lang for besluit when {} {{\n  step a : sign burgemeester\n}}\n",
        terms.join(" and ")
    );
    std::fs::write(&path, &long).unwrap();
    let u = open(&mut c, &path);
    let d = c.diagnostics_where(&u, |d| d.len() > 1);
    assert_eq!(d.len(), 501, "capped at 500 and a note");
    let note = d[500]["message"].as_str().unwrap();
    let more: usize = note.split(' ').next().unwrap().parse().unwrap();
    assert!(more >= 2500 && note.contains("more problems"), "{note}");
    // Each shown error about a name sits at that name's UTF-16 column on line 0.
    let mut checked = 0;
    for x in &d[..500] {
        let m = x["message"].as_str().unwrap();
        let Some(name) = m.split('`').nth(1).filter(|n| n.starts_with("onbekend")) else {
            continue;
        };
        let at = long.find(&format!("{name} ")).unwrap();
        let col: usize = long[..at].chars().map(char::len_utf16).sum();
        assert_eq!(
            x["range"]["start"],
            json!({"line": 0, "character": col}),
            "{m}"
        );
        checked += 1;
    }
    assert!(checked >= 490, "{checked}");
    // An edit below the long line, then completion there: answered while the
    // diagnostics of the edit are computed.
    let edited = long.replace("sign burgemeester", "sign ");
    let started = std::time::Instant::now();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": u}, "position": {"line": 1, "character": 14}}),
    );
    assert!(r["result"]["items"].is_array(), "{r}");
    // A liveness bound, not a benchmark (`cargo bench --bench lsp` measures): before,
    // this waited for the whole conversion, tens of seconds in a debug build.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert_eq!(c.child.wait().unwrap().code(), Some(0));
}

/// A file below the project but outside its `include` (a draft copy of a flow file) is
/// not merged into the project, as `paraaf check` leaves it out: it is told why, and the
/// project gets no duplicate errors from it.
#[test]
fn a_file_outside_include_stays_out_of_the_project() {
    let root = aalst("lsp-include");
    let mut c = start(&root);
    let social = root.join("flows/social.paraaf");
    let su = open(&mut c, &social);
    assert!(c.diagnostics_where(&su, |d| d.is_empty()).is_empty());
    let draft = root.join("ontwerp-social.paraaf");
    std::fs::copy(&social, &draft).unwrap();
    let du = open(&mut c, &draft);
    let d = c.diagnostics_where(&du, |d| !d.is_empty());
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("`include` leaves it out"),
        "{d:#?}"
    );
    // The project's own file stays clean (no "defined twice").
    std::thread::sleep(std::time::Duration::from_millis(400));
    let _ = symbols(&mut c, &su);
    let seen = c.published_until(&[]);
    if let Some(list) = seen.get(&su) {
        assert!(list.is_empty(), "{list:#?}");
    }
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["check", root.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stdout)
    );
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert_eq!(c.child.wait().unwrap().code(), Some(0));
}

/// A folder `include` reaches outside the project (`include = ["flows", "../gedeeld"]`):
/// its files are the project's under the one spelling the editor uses (no `..`, no
/// `file:////`), get no "not in a project" diagnostic, and `paraaf check` agrees.
#[test]
fn a_folder_included_from_outside_is_the_projects() {
    let top = support::tempdir("lsp-outside");
    let root = top.join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &root);
    let shared = top.join("gedeeld");
    std::fs::create_dir_all(&shared).unwrap();
    // A broken flow (an unknown signer): its error must show on the shared file itself.
    std::fs::write(
        shared.join("gemeenschappelijk.paraaf"),
        "flow gedeeld-besluit for besluit {\n  step akkoord : sign bestaat-niet\n}\n",
    )
    .unwrap();
    let config = root.join("paraaf.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "include = [\"flows\"]",
            "include = [\"flows\", \"../gedeeld\"]",
        ),
    )
    .unwrap();
    let mut c = start(&root);
    let su = open(&mut c, &shared.join("gemeenschappelijk.paraaf"));
    assert!(!su.contains("..") && !su.starts_with("file:////"), "{su}");
    let d = c.diagnostics_where(&su, |d| !d.is_empty());
    assert!(
        d.iter().all(|x| {
            let m = x["message"].as_str().unwrap_or("");
            !m.contains("not in") && !m.contains("leaves it out")
        }) && d
            .iter()
            .any(|x| x["message"].as_str().unwrap_or("").contains("bestaat-niet")),
        "{d:#?}"
    );
    std::thread::sleep(std::time::Duration::from_millis(400));
    let seen = c.published_until(&[]);
    for uri in seen.keys() {
        assert!(
            !uri.contains("/../") && !uri.starts_with("file:////"),
            "a malformed URI: {uri}"
        );
    }
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["check", "--color", "never", root.to_str().unwrap()])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&cli.stdout);
    assert!(
        out.contains("../gedeeld/gemeenschappelijk.paraaf") && out.contains("bestaat-niet"),
        "{out}"
    );
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert_eq!(c.child.wait().unwrap().code(), Some(0));
}

/// The repository opened at its root: each project is checked against its own
/// organogram, loose files are told they are in none, and URIs survive spaces, `é` and
/// emoji in folder names.
#[test]
fn the_repository_root_holds_several_projects() {
    let top = support::tempdir("lsp-workspace").join("Stad Aalst é🙂");
    for name in ["aalst", "hasselt", "broken", "loose"] {
        support::copy_dir(
            &support::root().join("examples").join(name),
            &top.join("examples").join(name),
        );
    }
    let mut c = start(&top);
    // Without opening anything: each project's diagnostics arrive, at well-formed URIs.
    let social = uri(&top.join("examples/aalst/flows/social.paraaf"));
    let broken_path = top.join("examples/broken/P0003-unknown-name.paraaf");
    let broken = uri(&broken_path);
    let hasselt = uri(&top.join("examples/hasselt/rules/withholding.paraaf"));
    let all = c.published_until(&[social.clone(), broken.clone(), hasselt.clone()]);
    assert!(
        all[&social].is_empty(),
        "Aalst is clean on its own: {:?}",
        all[&social]
    );
    assert!(
        all[&broken].iter().any(|x| x["code"] == "P0003"),
        "{:?}",
        all[&broken]
    );
    assert!(
        all[&hasselt].iter().all(|x| x["severity"] != 1),
        "Hasselt has no errors"
    );
    for u in all.keys() {
        assert!(
            u.starts_with("file:///") && !u.starts_with("file:////"),
            "{u}"
        );
        let path = url_path(u);
        assert!(path.exists(), "{u} names no file");
    }
    // No diagnostic of one project lands in another (each file once, as its own
    // project's `paraaf check` says).
    assert!(
        all.keys().all(|u| !u.contains("/examples/loose/")),
        "loose files only when open"
    );
    // Opening a broken file does not leak into Aalst.
    open(&mut c, &broken_path);
    // Longer than the debounce: whatever the open changes is published by then.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let _ = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": broken}}),
    );
    let after = c.published_until(&[]);
    assert!(after.get(&social).is_none_or(|d| d.is_empty()), "{after:?}");
    // A loose file: P0024 while open.
    let loose = top.join("examples/loose/notitie.paraaf");
    let u = open(&mut c, &loose);
    let d = c.diagnostics_where(&u, |d| !d.is_empty());
    assert_eq!(d[0]["code"], "P0024", "{d:?}");
    // Hover and definition work in the emoji folder.
    let college = top.join("examples/aalst/flows/college.paraaf");
    let cu = open(&mut c, &college);
    let text = std::fs::read_to_string(&college).unwrap();
    let at = text.find("burgemeester").unwrap();
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": cu}, "position": {"line": line, "character": col + 2}}),
    );
    let target = r["result"]["uri"].as_str().unwrap_or("");
    assert!(target.contains("%C3%A9") || target.contains('é'), "{r}");
    // A new workspace folder is picked up; a removed one is cleared.
    let extra = support::tempdir("lsp-workspace-extra").join("hasselt 2");
    support::copy_dir(&support::root().join("examples/hasselt"), &extra);
    c.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [{"uri": uri(&extra), "name": "extra"}], "removed": []}}),
    );
    let file = std::fs::read_dir(extra.join("rules"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "paraaf"))
        .unwrap();
    c.diagnostics_where(&uri(&file), |_| true);
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert_eq!(c.child.wait().unwrap().code(), Some(0));
}

/// The path of a `file://` URI (percent-decoded).
fn url_path(u: &str) -> PathBuf {
    let raw = u.strip_prefix("file://").unwrap().as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 2 < raw.len() {
            let h = std::str::from_utf8(&raw[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(h, 16).unwrap());
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    PathBuf::from(String::from_utf8(out).unwrap())
}

/// What an attack pass found (each once a hang, a spin or a wrong edit), as tests.
#[test]
fn attack_findings_stay_fixed() {
    let root = aalst("lsp-attack");
    let mut c = start(&root);
    // A float id and one beyond 64 bits: -32600, and the server keeps answering.
    c.send_raw(br#"{"jsonrpc":"2.0","id":1.5,"method":"textDocument/hover","params":{}}"#);
    assert!(c.wait_for(|v| v["error"]["code"] == -32600).is_some());
    c.send_raw(br#"{"jsonrpc":"2.0","id":99999999999999999999999,"method":"x","params":{}}"#);
    assert!(c.wait_for(|v| v["error"]["code"] == -32600).is_some());
    let social = root.join("flows/social.paraaf");
    let su = open(&mut c, &social);
    let text = std::fs::read_to_string(&social).unwrap();
    assert!(symbols(&mut c, &su)["result"].is_array());
    // A step may not take the name of another step of its flow.
    let at = text.find("step voorstel").unwrap() + 5;
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    let r = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": su}, "position": {"line": line, "character": col}, "newName": "beslissing"}),
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("already a step"),
        "{r}"
    );
    // Deep `all {` nesting: formatting answers at once (nothing to do) and the server
    // goes on.
    let nested = root.join("flows/zz-nested.paraaf");
    let deep = format!(
        "flow x for besluit {{\n  step s : {}sign burgemeester\n{}}}\n",
        "all {\n".repeat(6000),
        "}\n".repeat(6000)
    );
    std::fs::write(&nested, &deep).unwrap();
    let nu = open(&mut c, &nested);
    let r = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": nu}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    assert!(symbols(&mut c, &su)["result"].is_array());
    // A loose file: diagnostics for it only, never for its "(no organogram)".
    let loose_dir = support::tempdir("lsp-attack-loose");
    let loose = loose_dir.join("notitie.paraaf");
    std::fs::copy(
        support::root().join("examples/loose/notitie.paraaf"),
        &loose,
    )
    .unwrap();
    let lu = open(&mut c, &loose);
    c.diagnostics_where(&lu, |d| !d.is_empty());
    std::thread::sleep(std::time::Duration::from_millis(400));
    let _ = symbols(&mut c, &lu);
    let seen = c.published_until(&[]);
    assert!(seen.keys().all(|u| !u.contains("organogram")), "{seen:?}");
    // The editor goes away without `exit`: the process ends with 1, and quickly.
    drop(c.take_stdin());
    let t = std::time::Instant::now();
    let status = c.child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn exit_without_shutdown_after_the_project_loaded() {
    let root = aalst("lsp-late-exit");
    let mut c = start(&root);
    let u = open(&mut c, &root.join("flows/college.paraaf"));
    c.diagnostics_where(&u, |_| true);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    c.notify("exit", json!(null));
    assert_eq!(c.child.wait().unwrap().code(), Some(1));
}

/// The editor that started the server dies without `shutdown` or closing the pipe (a
/// crash that leaves the pipe to another process): the server notices through the
/// initialize request's processId and exits with 1 instead of living on.
#[test]
fn the_server_exits_when_its_editor_is_gone() {
    let root = aalst("lsp-parent");
    let mut editor = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let mut c = LspClient::start(env!("CARGO_BIN_EXE_paraaf"));
    let r = c.request(
        "initialize",
        json!({"processId": editor.id(), "rootUri": uri(&root), "capabilities": {}}),
    );
    assert!(r["result"]["capabilities"].is_object(), "{r}");
    c.notify("initialized", json!({}));
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(
        c.child.try_wait().unwrap().is_none(),
        "alive while the editor is"
    );
    editor.kill().unwrap();
    editor.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let code = loop {
        if let Some(s) = c.child.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 10 s after the editor died"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(code, Some(1));
}

/// A URI with `..` names the file it reaches (no second copy, no P0004), and a CR-only
/// file (an old Mac export) is read line by line: its diagnostics come at their lines,
/// where it was once one comment with none (#31).
#[test]
fn dotted_uris_and_cr_line_ends() {
    let root = aalst("lsp-dotted-cr");
    let mut c = start(&root);
    let college = root.join("flows/college.paraaf");
    let text = std::fs::read_to_string(&college).unwrap();
    let dotted = format!("{}/flows/../flows/./college.paraaf", uri(&root));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": dotted, "languageId": "paraaf", "version": 1, "text": text}}),
    );
    let all = c.published_until(&[uri(&college)]);
    let d = &all[&uri(&college)];
    assert!(d.is_empty(), "a second copy of college.paraaf: {d:?}");
    assert!(
        all.keys().all(|u| !u.contains("..")),
        "published under a dotted URI: {:?}",
        all.keys()
    );
    // A CR-only file with a comment on its first line and a typo on line 4.
    let old = root.join("flows/oud.paraaf");
    let src = "// exported from an old Mac\rflow oud for besluit {\r  visible to uploader, signers\r  step a : sign burgmeester\r}\r";
    std::fs::write(&old, src).unwrap();
    let u = open(&mut c, &old);
    let d = c.diagnostics_where(&u, |d| d.iter().any(|d| d["code"] == "P0003"));
    let typo = d.iter().find(|d| d["code"] == "P0003").unwrap();
    assert_eq!(
        typo["range"]["start"],
        json!({"line": 3, "character": 16}),
        "{d:?}"
    );
    // Hover on `besluit` (line 1) answers the document kind.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": u}, "position": {"line": 1, "character": 16}}),
    );
    assert!(
        r["result"]["contents"]["value"]
            .as_str()
            .is_some_and(|v| v.contains("document besluit")),
        "{r}"
    );
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
}

/// Big messages (#31): a 30 MB message is read in linear time (it took 16.5 s and
/// nothing else was read meanwhile); one over the 64 MiB limit is refused with an
/// error and skipped whole — a `Content-Length:` inside its body is not read as the
/// next message, and the request after it is answered.
#[test]
fn big_messages_are_read_linearly_and_refused_over_the_limit() {
    let root = aalst("lsp-big-messages");
    let mut c = start(&root);
    let u = open(&mut c, &root.join("flows/college.paraaf"));
    let started = std::time::Instant::now();
    let filler = "a".repeat(30 * 1024 * 1024);
    c.send_raw(
        json!({"jsonrpc": "2.0", "method": "$/paraaf/big", "params": {"x": filler}})
            .to_string()
            .as_bytes(),
    );
    let r = symbols(&mut c, &u);
    assert!(r["result"].as_array().is_some_and(|a| !a.is_empty()), "{r}");
    // A liveness bound (debug build), not a benchmark.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    // 65 MiB announced and sent, holding a whole message in its text.
    let inner =
        br#"{"jsonrpc":"2.0","id":4242,"method":"textDocument/documentSymbol","params":{}}"#;
    let mut body = format!("{{\"x\":\"Content-Length: {}\r\n\r\n", inner.len()).into_bytes();
    body.extend_from_slice(inner);
    body.resize(65 * 1024 * 1024, b'a');
    c.write_unframed(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    c.write_unframed(&body);
    let refused = c
        .wait_for(|v| v["error"]["code"] == -32600)
        .expect("the big message is refused");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("64 MiB")),
        "{refused}"
    );
    let r = symbols(&mut c, &u);
    assert!(r["result"].as_array().is_some_and(|a| !a.is_empty()), "{r}");
    // Everything the server sent before answering `shutdown` is collected by then.
    let _ = c.request("shutdown", json!(null));
    assert!(
        !c.notifications.iter().any(|v| v["id"] == 4242),
        "text inside the refused body was read as a message"
    );
    c.notify("exit", json!(null));
}
