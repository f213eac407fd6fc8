//! A folder included by two projects (#31): `include = ["../gedeeld"]` in both. The
//! file belongs to both: one merged list of diagnostics, each labelled with the
//! projects that report it; references and rename reach every project that includes it,
//! and `paraaf check` of each project agrees after the rename.

#[path = "support/lsp_client.rs"]
mod lsp_client;
mod support;

use lsp_client::{LspClient, uri};
use serde_json::{Value, json};
use std::path::Path;

const SHARED: &str = "document regiobesluit {\n  dienst: unit\n}\n\nflow regio for regiobesluit {\n  visible to uploader, group regio-team\n  step a : sign burgemeester\n}\n";

fn project(stad: &Path, name: &str) {
    let dir = stad.join(name);
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    std::fs::write(
        dir.join("paraaf.toml"),
        "organogram = \"org.toml\"\ninclude = [\"flows\", \"../gedeeld\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("flows/team.paraaf"),
        "group regio-team = people(burgemeester)\n",
    )
    .unwrap();
}

fn pos(text: &str, needle: &str, skip: usize) -> Value {
    let at = text.find(needle).unwrap() + skip;
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col})
}

#[test]
fn a_file_included_by_two_projects_belongs_to_both() {
    let stad = support::tempdir("lsp-shared").join("stad");
    project(&stad, "aalst");
    project(&stad, "dendermonde");
    std::fs::create_dir_all(stad.join("gedeeld")).unwrap();
    let shared = stad.join("gedeeld/regio.paraaf");
    std::fs::write(&shared, SHARED).unwrap();
    let mut c = LspClient::start(env!("CARGO_BIN_EXE_paraaf"));
    c.initialize(&stad);
    let u = uri(&shared);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": u, "languageId": "paraaf", "version": 1, "text": SHARED}}),
    );
    c.diagnostics_where(&u, |d| d.is_empty());
    // A typo in the shared file: both projects report it, once, labelled with both.
    let typo = SHARED.replace("sign burgemeester", "sign burgmeester");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": [{"text": typo}]}),
    );
    let d = c.diagnostics_where(&u, |d| !d.is_empty());
    assert_eq!(d.len(), 1, "{d:?}");
    let message = d[0]["message"].as_str().unwrap();
    assert!(
        message.contains("in projects aalst, dendermonde")
            || message.contains("in projects dendermonde, aalst"),
        "{message}"
    );
    // Only one project has the problem: labelled with that one. Dendermonde's group
    // goes (its `team.paraaf` emptied on disk).
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 3}, "contentChanges": [{"text": SHARED}]}),
    );
    c.diagnostics_where(&u, |d| d.is_empty());
    let team2 = stad.join("dendermonde/flows/team.paraaf");
    std::fs::write(&team2, "").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&team2), "type": 2}]}),
    );
    let d = c.diagnostics_where(&u, |d| !d.is_empty());
    assert_eq!(d.len(), 1, "{d:?}");
    let message = d[0]["message"].as_str().unwrap();
    assert!(message.ends_with("in project dendermonde"), "{message}");
    std::fs::write(&team2, "group regio-team = people(burgemeester)\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&team2), "type": 2}]}),
    );
    c.diagnostics_where(&u, |d| d.is_empty());
    // References of the group from the shared file: both projects' definitions.
    let at = pos(SHARED, "group regio-team", 8);
    let r = c.request(
        "textDocument/references",
        json!({"textDocument": {"uri": u}, "position": at, "context": {"includeDeclaration": true}}),
    );
    let uris: Vec<&str> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["uri"].as_str().unwrap())
        .collect();
    for want in [
        uri(&stad.join("aalst/flows/team.paraaf")),
        uri(&team2),
        u.clone(),
    ] {
        assert!(uris.contains(&want.as_str()), "{want}: {uris:?}");
    }
    // Rename it there: every project's definition and the shared use, each once.
    let r = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": u}, "position": at, "newName": "regioteam"}),
    );
    let changes = r["result"]["changes"].as_object().expect("an edit");
    assert_eq!(changes.len(), 3, "{r}");
    for (file, edits) in changes {
        assert_eq!(edits.as_array().unwrap().len(), 1, "{file}: {edits}");
    }
    // Written as the editor would, both projects check clean.
    for p in [
        stad.join("aalst/flows/team.paraaf"),
        team2.clone(),
        shared.clone(),
    ] {
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, t.replace("regio-team", "regioteam")).unwrap();
    }
    for name in ["aalst", "dendermonde"] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(["check", stad.join(name).to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
}
