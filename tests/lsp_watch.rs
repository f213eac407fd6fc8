//! Watching (#31): a client that cannot register file watchers (Neovim 0.7) gets none
//! and the server polls the disk instead; diagnostics are re-sent when only the
//! document's version moved on.

#[path = "support/lsp_client.rs"]
mod lsp_client;
mod support;

use lsp_client::{LspClient, uri};
use serde_json::json;

/// No watcher registration for a client without the capability, and a typo written to
/// a closed file and to the organogram outside the editor reaches the diagnostics.
#[test]
fn a_client_that_cannot_watch_is_polled_for() {
    let root = support::tempdir("lsp-poll").join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &root);
    let mut c = LspClient::start(env!("CARGO_BIN_EXE_paraaf"));
    c.initialize_with(&root, json!({}));
    let college = root.join("flows/college.paraaf");
    let u = uri(&college);
    // Diagnostics of the whole project come first (empty for college).
    c.diagnostics_where(&u, |d| d.is_empty());
    let text = std::fs::read_to_string(&college).unwrap();
    // Let the first poll record the times, then change the file on disk.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    std::fs::write(
        &college,
        text.replacen("sign burgemeester", "sign burgmeester", 1),
    )
    .unwrap();
    let d = c.diagnostics_where(&u, |d| !d.is_empty());
    assert_eq!(d[0]["code"], "P0003", "{d:?}");
    std::fs::write(&college, &text).unwrap();
    c.diagnostics_where(&u, |d| d.is_empty());
    assert!(
        !c.server_requests
            .iter()
            .any(|n| n["method"] == "client/registerCapability"),
        "a watcher was registered with a client that cannot watch"
    );
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
}

/// A change that leaves the diagnostics as they were still publishes them, stamped with
/// the new version.
#[test]
fn diagnostics_follow_the_version() {
    let root = support::tempdir("lsp-version").join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &root);
    let mut c = LspClient::start(env!("CARGO_BIN_EXE_paraaf"));
    c.initialize(&root);
    let college = root.join("flows/college.paraaf");
    let u = uri(&college);
    let text = std::fs::read_to_string(&college).unwrap();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": u, "languageId": "paraaf", "version": 1, "text": text}}),
    );
    c.diagnostics_where(&u, |d| d.is_empty());
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": [{"text": format!("// een opmerking\n{text}")}]}),
    );
    let n = c
        .wait_for(|v| {
            v["method"] == "textDocument/publishDiagnostics"
                && v["params"]["uri"] == u
                && v["params"]["version"] == 2
        })
        .expect("the unchanged list is sent again for version 2");
    assert_eq!(n["params"]["diagnostics"], json!([]));
    // A client that can watch is asked to.
    assert!(
        c.server_requests
            .iter()
            .any(|r| r["method"] == "client/registerCapability"),
        "no watcher registered"
    );
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
}
