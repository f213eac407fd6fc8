//! End-to-end protocol tests: spawn `paraaf lsp`, speak JSON-RPC over stdio against a copy
//! of the Aalst example.

#[path = "support/lsp_client.rs"]
mod lsp_client;
mod support;

use lsp_client::{LspClient, uri};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn aalst(name: &str) -> PathBuf {
    let dir = support::tempdir(name).join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    dir
}

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

fn open(c: &mut LspClient, path: &Path) -> String {
    let u = uri(path);
    let text = std::fs::read_to_string(path).unwrap();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": u, "languageId": "paraaf", "version": 1, "text": text}}),
    );
    u
}

fn change(c: &mut LspClient, u: &str, version: i64, text: &str) {
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": version}, "contentChanges": [{"text": text}]}),
    );
}

/// Line and character of the first occurrence of `needle` (plus `skip` characters).
fn pos(text: &str, needle: &str, skip: usize) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not found"))
        + skip;
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col})
}

fn at(u: &str, p: Value) -> Value {
    json!({"textDocument": {"uri": u}, "position": p})
}

#[test]
fn editing_session() {
    let root = aalst("lsp-session");
    let mut c = start(&root);
    let college = root.join("flows/college.paraaf");
    let u = open(&mut c, &college);
    assert!(c.diagnostics_where(&u, |d| d.is_empty()).is_empty());
    let text = std::fs::read_to_string(&college).unwrap();

    // A typo appears as P0003 with the same span and help as `paraaf check`.
    let typo = text.replace("sign financieel-directeur", "sign financieel-directuer");
    change(&mut c, &u, 2, &typo);
    let diags = c.diagnostics_where(&u, |d| !d.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0]["code"], "P0003");
    assert_eq!(
        diags[0]["range"]["start"],
        pos(&typo, "financieel-directuer", 0)
    );
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("help: did you mean `financieel-directeur`?")
    );

    // The quick fix replaces it.
    let actions = c.request("textDocument/codeAction", json!({"textDocument": {"uri": u}, "range": diags[0]["range"], "context": {"diagnostics": diags}}));
    let action = &actions["result"][0];
    assert_eq!(action["title"], "Replace with `financieel-directeur`");
    assert_eq!(
        action["edit"]["changes"][&u][0]["newText"],
        "financieel-directeur"
    );

    // Syntax errors mid-edit: diagnostics, no crash; then back to clean.
    let broken = typo.replacen("step visum :", "step visum ", 1);
    change(&mut c, &u, 3, &broken);
    let d = c.diagnostics_where(&u, |d| d.iter().any(|x| x["code"] == "P0001"));
    assert!(d.iter().any(|x| x["code"] == "P0001"));
    // A burst of changes: the last one wins.
    for v in 4..40 {
        change(&mut c, &u, v, &format!("{text}\n// edit {v}\n"));
    }
    change(&mut c, &u, 40, &text);
    c.diagnostics_where(&u, |d| d.is_empty());

    // Hover: an organogram function shows holders and substitutes; a field its type.
    let h = c.request(
        "textDocument/hover",
        at(&u, pos(&text, "sign financieel-directeur", 6)),
    );
    let value = h["result"]["contents"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        value.contains("**Financieel Directeur** (`financieel-directeur`) — function"),
        "{value}"
    );
    assert!(value.contains("Holders today:"), "{value}");
    assert!(
        value.contains("Substitutes of `financieel-directeur`: `adjunct-financieel-directeur`"),
        "{value}"
    );
    // A word in a comment is no name, whatever it spells ("Council decisions are signed
    // by the chair…": `signed` is no keyword; "College" is a comment word): nothing.
    let commented = format!("// financieel-directeur \"burgemeester\"\n{text}");
    change(&mut c, &u, 41, &commented);
    for needle in ["// financieel-directeur", "\"burgemeester"] {
        for method in ["textDocument/hover", "textDocument/definition"] {
            let r = c.request(method, at(&u, pos(&commented, needle, 4)));
            assert!(r["result"].is_null(), "{method} at {needle}: {r}");
        }
    }
    change(&mut c, &u, 42, &text);
    let h = c.request("textDocument/hover", at(&u, pos(&text, "when bedrag", 6)));
    assert_eq!(
        h["result"]["contents"]["value"],
        "**bedrag**: `money?` — field of document kind `besluit`"
    );
    let h = c.request(
        "textDocument/hover",
        at(&u, pos(&text, "collegebesluit", 2)),
    );
    assert!(
        h["result"]["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("**flow collegebesluit** for `besluit`")
    );

    // Definition: into the organogram, and to the document kind.
    let d = c.request(
        "textDocument/definition",
        at(&u, pos(&text, "sign burgemeester", 7)),
    );
    assert_eq!(d["result"]["uri"], uri(&root.join("org.toml")));
    let d = c.request(
        "textDocument/definition",
        at(&u, pos(&text, "for besluit", 5)),
    );
    assert_eq!(
        d["result"]["uri"],
        uri(&root.join("flows/documents.paraaf"))
    );

    // References and rename of a project name across files.
    let refs = c.request("textDocument/references", json!({"textDocument": {"uri": u}, "position": pos(&text, "for besluit", 5), "context": {"includeDeclaration": true}}));
    let files: std::collections::BTreeSet<&str> = refs["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["uri"].as_str().unwrap())
        .collect();
    assert!(files.len() >= 2, "{refs}");
    let r = c.request("textDocument/rename", json!({"textDocument": {"uri": u}, "position": pos(&text, "for besluit", 5), "newName": "collegebeslissing"}));
    let changes = r["result"]["changes"].as_object().unwrap();
    assert!(
        changes.contains_key(&uri(&root.join("flows/documents.paraaf")))
            && changes.contains_key(&u)
    );
    let r = c.request("textDocument/rename", json!({"textDocument": {"uri": u}, "position": pos(&text, "sign burgemeester", 7), "newName": "x"}));
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("comes from the organogram"),
        "{r}"
    );

    // Completion: signers after `sign`, fields after `document.`.
    let edited = text.replace(
        "step paraaf : sign diensthoofd of document.dienst",
        "step paraaf : sign fin",
    );
    change(&mut c, &u, 41, &edited);
    let comp = c.request(
        "textDocument/completion",
        at(&u, pos(&edited, "sign fin", 8)),
    );
    let labels: Vec<&str> = comp["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"financieel-directeur") && !labels.contains(&"sociale-zaken"),
        "units are not signers"
    );
    let edited = text.replace("unit document.dienst", "unit document.");
    change(&mut c, &u, 42, &edited);
    let comp = c.request(
        "textDocument/completion",
        at(&u, pos(&edited, "unit document.", 14)),
    );
    let labels: Vec<&str> = comp["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["dienst", "bedrag", "bron", "titel"]);
    change(&mut c, &u, 43, &text);

    // Outline, semantic tokens, formatting.
    let s = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": u}}),
    );
    let names: Vec<&str> = s["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["flow collegebesluit", "flow raadsbesluit-tekenen"]);
    assert_eq!(s["result"][0]["children"][1]["name"], "step visum");
    let t = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": u}}),
    );
    assert!(t["result"]["data"].as_array().unwrap().len() > 100);
    let f = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": u}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(f["result"], json!([]), "example files are formatted");
    change(
        &mut c,
        &u,
        44,
        &text.replace("  step paraaf", "      step   paraaf"),
    );
    let f = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": u}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(f["result"][0]["newText"], text);

    let s = c.request("shutdown", json!(null));
    assert!(s.get("error").is_none());
    c.notify("exit", json!(null));
    let status = c.child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn organogram_changes_refresh_diagnostics() {
    let root = aalst("lsp-org");
    let mut c = start(&root);
    let u = open(&mut c, &root.join("flows/college.paraaf"));
    c.diagnostics_where(&u, |d| d.is_empty());
    // The financial director leaves: the function has no holder any more.
    let org_path = root.join("org.toml");
    let org = std::fs::read_to_string(&org_path).unwrap();
    std::fs::write(
        &org_path,
        org.replace(
            "function = \"financieel-directeur\"",
            "function = \"beleidsmedewerker\"",
        ),
    )
    .unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&org_path), "type": 2}]}),
    );
    let d = c.diagnostics_where(&u, |d| !d.is_empty());
    assert_eq!(d[0]["code"], "P0017");
    assert_eq!(d[0]["severity"], 2);
}

/// A file deleted on disk (`workspace/didChangeWatchedFiles`, type 3) leaves the project:
/// the duplicate flow it defined no longer clashes, and its own diagnostics are cleared.
#[test]
fn a_deleted_file_leaves_the_project() {
    let root = aalst("lsp-deleted");
    let mut c = start(&root);
    let college = root.join("flows/college.paraaf");
    let u = open(&mut c, &college);
    c.diagnostics_where(&u, |d| d.is_empty());
    // A copy of the file on disk: every flow in it is defined twice.
    let copy = root.join("flows/college-kopie.paraaf");
    std::fs::copy(&college, &copy).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&copy), "type": 1}]}),
    );
    let cu = uri(&copy);
    let d = c.diagnostics_where(&cu, |d| !d.is_empty());
    assert!(
        d.iter().all(|x| x["severity"] == 1) && d.len() >= 2,
        "every flow of the copy is a duplicate: {d:#?}"
    );
    std::fs::remove_file(&copy).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&copy), "type": 3}]}),
    );
    // Its diagnostics are cleared, and the project is clean again.
    assert!(c.diagnostics_where(&cu, |d| d.is_empty()).is_empty());
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": u}}),
    );
    assert!(r["result"].is_array(), "{r}");
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["check", root.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(cli.status.success());
}

#[test]
fn robust_against_bad_clients() {
    let root = aalst("lsp-robust");
    let mut c = LspClient::start(env!("CARGO_BIN_EXE_paraaf"));
    // A request before initialize is refused, not fatal.
    let r = c.request(
        "textDocument/hover",
        at("file:///nowhere.paraaf", json!({"line": 0, "character": 0})),
    );
    assert!(r.get("error").is_some(), "{r}");
    c.initialize(&root);
    // Garbage and malformed requests.
    c.send_raw(b"{not json at all");
    c.send_raw(
        br#"{"jsonrpc":"2.0","id":99,"method":"textDocument/hover","params":{"nonsense":true}}"#,
    );
    // Changes to a file that was never opened, and a position past the end.
    let ghost = uri(&root.join("flows/ghost.paraaf"));
    change(&mut c, &ghost, 1, "flow x for y {");
    let college = root.join("flows/college.paraaf");
    let u = open(&mut c, &college);
    let h = c.request(
        "textDocument/hover",
        at(&u, json!({"line": 9999, "character": 9999})),
    );
    assert!(h.get("error").is_none());
    // Still alive and answering.
    let s = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": u}}),
    );
    assert!(s["result"].as_array().is_some());
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    assert!(c.child.wait().unwrap().success());
}

/// Snapshots of replies (paths redacted): what an editor receives.
#[test]
fn reply_snapshots() {
    let root = aalst("lsp-snap");
    let mut c = start(&root);
    let college = root.join("flows/college.paraaf");
    let u = open(&mut c, &college);
    c.diagnostics_where(&u, |d| d.is_empty());
    let text = std::fs::read_to_string(&college).unwrap();
    let typo = text.replace("sign burgemeester", "sign burgemeestr");
    change(&mut c, &u, 2, &typo);
    let diags = c.diagnostics_where(&u, |d| !d.is_empty());
    change(&mut c, &u, 3, &text);
    c.diagnostics_where(&u, |d| d.is_empty());
    let replies = json!({
        "diagnostics": diags,
        "hover_financieel_directeur": c.request("textDocument/hover", at(&u, pos(&text, "sign financieel-directeur", 6)))["result"],
        "hover_field": c.request("textDocument/hover", at(&u, pos(&text, "when bedrag", 6)))["result"],
        "definition_burgemeester": c.request("textDocument/definition", at(&u, pos(&text, "sign burgemeester", 7)))["result"],
        "symbols": c.request("textDocument/documentSymbol", json!({"textDocument": {"uri": u}}))["result"],
    });
    let pretty = serde_json::to_string_pretty(&replies)
        .unwrap()
        .replace(&uri(&root), "file://<root>");
    insta::assert_snapshot!(pretty);
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
    let _ = c.child.wait();
}

/// A group named like a unit (`group sociale-zaken = unit sociale-zaken`): hover,
/// definition, references and rename of the group hit the group only, never the unit —
/// the language server asks the one resolver what each name denotes.
#[test]
fn a_group_named_like_a_unit_is_the_group_only() {
    let root = aalst("lsp-group-unit");
    let social = root.join("flows/social.paraaf");
    let documents = root.join("flows/documents.paraaf");
    let mut c = start(&root);
    let u = open(&mut c, &social);
    let text = std::fs::read_to_string(&social).unwrap();
    let docs_text = std::fs::read_to_string(&documents).unwrap();
    let on_group = pos(&text, "signers, group sociale-zaken", 17);

    let h = c.request("textDocument/hover", at(&u, on_group.clone()));
    let value = h["result"]["contents"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        value.starts_with("**group sociale-zaken** (shielded)"),
        "{value}"
    );
    assert!(value.contains("Shields: `sociaal-dossier`"), "{value}");

    let d = c.request("textDocument/definition", at(&u, on_group.clone()));
    assert_eq!(d["result"]["uri"], uri(&social));
    assert_eq!(
        d["result"]["range"]["start"],
        pos(&text, "sociale-zaken =", 0)
    );

    // The kind's hover shows its shield and the visible exception.
    let du = open(&mut c, &documents);
    let h = c.request(
        "textDocument/hover",
        at(&du, pos(&docs_text, "document tuchtdossier", 10)),
    );
    let value = h["result"]["contents"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(value.contains("Shielded by group `tucht`"), "{value}");
    assert!(
        value.contains("**Exception**: the person in the field `medewerker`"),
        "{value}"
    );

    // The unit in the same file keeps its own meaning.
    let on_unit = pos(&text, "unit sociale-zaken", 6);
    let d = c.request("textDocument/definition", at(&u, on_unit));
    assert_eq!(d["result"]["uri"], uri(&root.join("org.toml")));

    let r = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": u}, "position": on_group, "newName": "sociaal-afgeschermd"}),
    );
    let changes = r["result"]["changes"].as_object().expect("edits");
    let edits_in = |file: &Path| -> Vec<Value> {
        changes
            .get(&uri(file))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    // social.paraaf: the definition and `visible to group …`; not `unit sociale-zaken`,
    // not `diensthoofd of sociale-zaken`.
    let social_edits = edits_in(&social);
    assert_eq!(social_edits.len(), 2, "{social_edits:#?}");
    for e in &social_edits {
        assert_ne!(e["range"]["start"], pos(&text, "unit sociale-zaken", 5));
    }
    // documents.paraaf: `shielded by sociale-zaken` is the group; `unit in sociale-zaken`
    // is the unit.
    let doc_edits = edits_in(&documents);
    assert_eq!(doc_edits.len(), 1, "{doc_edits:#?}");
    assert_eq!(
        doc_edits[0]["range"]["start"],
        pos(&docs_text, "shielded by sociale-zaken", 12)
    );

    // References to the group: its two uses and, with includeDeclaration, its definition.
    let refs = |c: &mut LspClient, decl: bool| -> usize {
        let r = c.request(
            "textDocument/references",
            json!({"textDocument": {"uri": u}, "position": on_group, "context": {"includeDeclaration": decl}}),
        );
        r["result"].as_array().map_or(0, Vec::len)
    };
    let with = refs(&mut c, true);
    let without = refs(&mut c, false);
    assert_eq!(
        with,
        without + 1,
        "the declaration is included only when asked"
    );
    assert_eq!(without, 2, "two uses of the group, none of the unit");

    // A rename onto a name that is taken is refused with the reason.
    let discipline = root.join("flows/discipline.paraaf");
    let dtext = std::fs::read_to_string(&discipline).unwrap();
    let dis = open(&mut c, &discipline);
    let on_tucht = pos(&dtext, "group tucht", 7);
    for (new, why) in [
        ("sociale-zaken", "already a group"),
        ("burgemeester", "of the organogram"),
        ("sociaal-dossier", "already a document kind"),
        // A field name (P0023 after the rename): `team` is a field of sociaal-dossier.
        ("team", "already a field of `sociaal-dossier`"),
    ] {
        let r = c.request(
            "textDocument/rename",
            json!({"textDocument": {"uri": dis}, "position": on_tucht, "newName": new}),
        );
        let msg = r["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(msg.contains(why), "{new}: {r}");
    }

    // Semantic tokens colour the group as a project name and the unit as an organogram
    // name, though both are spelled `sociale-zaken`.
    let t = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": u}}),
    );
    let data: Vec<u64> = t["result"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let mut line = 0;
    let mut col = 0;
    let mut kinds = std::collections::BTreeMap::new();
    for t in data.chunks(5) {
        if t[0] > 0 {
            line += t[0];
            col = t[1];
        } else {
            col += t[1];
        }
        kinds.insert((line, col), t[3]);
    }
    let key = |p: Value| {
        (
            p["line"].as_u64().unwrap(),
            p["character"].as_u64().unwrap(),
        )
    };
    assert_eq!(
        kinds[&key(pos(&text, "signers, group sociale-zaken", 15))],
        5
    );
    assert_eq!(kinds[&key(pos(&text, "unit sociale-zaken", 5))], 4);
}

/// Completion stays quiet in comments and strings, offers the flow's steps after `back to
/// step`, and hover on `teamcoach of stedenbouw` names the unit and its holders only.
#[test]
fn editor_details() {
    let root = aalst("lsp-details");
    let permits = root.join("flows/permits.paraaf");
    let mut c = start(&root);
    let u = open(&mut c, &permits);
    let text = std::fs::read_to_string(&permits).unwrap();
    let h = c.request(
        "textDocument/hover",
        at(&u, pos(&text, "teamcoach of stedenbouw", 3)),
    );
    let value = h["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(value.contains("teamcoach of stedenbouw"), "{value}");
    // Half-typed `back to step `: the steps of this flow.
    let typed = text.replacen("back to step advies", "back to step ", 1);
    change(&mut c, &u, 2, &typed);
    let r = c.request(
        "textDocument/completion",
        at(&u, pos(&typed, "back to step ", 13)),
    );
    let labels: Vec<&str> = r["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(labels.contains(&"advies"), "{labels:?}");
    assert!(!labels.contains(&"document"), "steps only: {labels:?}");
    // In a comment and in a string: nothing.
    let commented = format!("// sign \n{typed}\nagency x \"sign \"\n");
    change(&mut c, &u, 3, &commented);
    for (needle, skip) in [("// sign ", 8), ("\"sign ", 6)] {
        let r = c.request(
            "textDocument/completion",
            at(&u, pos(&commented, needle, skip)),
        );
        assert!(
            r["result"]["items"].as_array().is_none_or(|a| a.is_empty()),
            "{needle}: {r}"
        );
    }
    // A quick fix is computed from the current text: after an edit above the typo, the
    // fix still replaces exactly the misspelt word.
    let typo = text.replacen(
        "sign teamcoach of stedenbouw",
        "sign teamcoah of stedenbouw",
        1,
    );
    change(&mut c, &u, 4, &typo);
    let shifted = format!("// een regel erbij\n{typo}");
    change(&mut c, &u, 5, &shifted);
    let p = pos(&shifted, "teamcoah", 2);
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": u}, "range": {"start": p, "end": p}, "context": {"diagnostics": []}}),
    );
    let edit = &r["result"][0]["edit"]["changes"][&u][0];
    assert_eq!(edit["newText"], "teamcoach", "{r}");
    assert_eq!(edit["range"]["start"], pos(&shifted, "teamcoah", 0), "{r}");
}

/// A folder deleted on disk (editors send one event for it) takes its files out of the
/// project at once, and their diagnostics are cleared.
#[test]
fn a_deleted_folder_leaves_the_project() {
    let root = aalst("lsp-deleted-folder");
    let mut c = start(&root);
    let extra = root.join("flows/extra");
    std::fs::create_dir_all(&extra).unwrap();
    let copy = extra.join("college-kopie.paraaf");
    std::fs::copy(root.join("flows/college.paraaf"), &copy).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&copy), "type": 1}]}),
    );
    let cu = uri(&copy);
    c.diagnostics_where(&cu, |d| !d.is_empty());
    std::fs::remove_dir_all(&extra).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&extra), "type": 3}]}),
    );
    assert!(c.diagnostics_where(&cu, |d| d.is_empty()).is_empty());
    // The project answers as `paraaf check` does: clean, the duplicates went with the
    // folder.
    let college = uri(&root.join("flows/college.paraaf"));
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": college}}),
    );
    assert!(r["result"].is_array(), "{r}");
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["check", root.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(cli.status.success());
}

/// A changed `paraaf.toml` moves the files open in the editor at once (no keystroke
/// needed), with their unsaved text: out of the project when `include` leaves them out,
/// back in when it names them.
#[test]
fn a_changed_include_moves_open_files_at_once() {
    let root = aalst("lsp-include-change");
    let mut c = start(&root);
    let drafts = root.join("drafts");
    std::fs::create_dir_all(&drafts).unwrap();
    let draft = drafts.join("nieuw.paraaf");
    std::fs::write(&draft, "group proef = unit sociale-zaken\n").unwrap();
    let u = open(&mut c, &draft);
    let d = c.diagnostics_where(&u, |d| {
        d.iter().any(|x| {
            x["message"]
                .as_str()
                .unwrap_or("")
                .contains("leaves it out")
        })
    });
    assert!(!d.is_empty());
    // An unsaved edit, then the configuration names the folder.
    change(&mut c, &u, 2, "group proef = unit bestaat-niet\n");
    let config = root.join("paraaf.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("include = [\"flows\"]", "include = [\"flows\", \"drafts\"]"),
    )
    .unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&config), "type": 2}]}),
    );
    let d = c.diagnostics_where(&u, |d| {
        !d.is_empty()
            && d.iter().all(|x| {
                !x["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("leaves it out")
            })
    });
    assert!(
        d.iter()
            .any(|x| x["message"].as_str().unwrap_or("").contains("bestaat-niet")),
        "the unsaved text is checked in the project: {d:#?}"
    );
}

/// Opening and closing a large unsaved buffer again and again does not grow the server.
#[test]
fn closed_buffers_are_let_go() {
    let root = aalst("lsp-big-buffer");
    let mut c = start(&root);
    let big = root.join("flows/groot.paraaf");
    let u = uri(&big);
    let text = "// een lange opmerking die het bestand groot maakt ........\n".repeat(35_000);
    assert!(text.len() > 2_000_000);
    let rss = |c: &LspClient| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", c.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap()
    };
    let cycle = |c: &mut LspClient, v: i64| {
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": u, "languageId": "paraaf", "version": v, "text": text}}),
        );
        let r = c.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": u}}),
        );
        assert!(r["result"].is_array() || r["result"].is_null(), "{r}");
        c.notify("textDocument/didClose", json!({"textDocument": {"uri": u}}));
    };
    for v in 0..5 {
        cycle(&mut c, v);
    }
    let before = rss(&c);
    for v in 5..45 {
        cycle(&mut c, v);
    }
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri(&root.join("flows/college.paraaf"))}}),
    );
    assert!(r.get("result").is_some());
    let after = rss(&c);
    assert!(
        after < before + 40_000,
        "40 more cycles of a 2 MB buffer grew the server from {before} kB to {after} kB"
    );
}

/// Diagnostics of an open file carry the version of the text they were computed on.
#[test]
fn diagnostics_name_the_version_they_are_for() {
    let root = aalst("lsp-versions");
    let mut c = start(&root);
    let path = root.join("flows/college.paraaf");
    let u = open(&mut c, &path);
    let text = std::fs::read_to_string(&path).unwrap();
    change(
        &mut c,
        &u,
        7,
        &format!("{text}\nflow kapot for bestaat-niet {{ }}\n"),
    );
    let n = c
        .wait_for(|v| {
            v["method"] == "textDocument/publishDiagnostics"
                && v["params"]["uri"] == u
                && v["params"]["diagnostics"]
                    .as_array()
                    .is_some_and(|d| !d.is_empty())
        })
        .expect("diagnostics for the broken text");
    assert_eq!(n["params"]["version"], 7, "{n}");
}

/// Names a rule binds (`let po`, the event's record `invoice`) are names too: hover,
/// definition, references and rename go by the resolver, within that rule only; a
/// new name may hold `_` as the grammar allows, but not one the rule binds already.
#[test]
fn names_bound_in_a_rule_navigate_and_rename() {
    let root = support::tempdir("lsp-locals").join("hasselt");
    support::copy_dir(&support::root().join("examples/hasselt"), &root);
    let mut c = start(&root);
    let path = root.join("rules/invoices.paraaf");
    let u = open(&mut c, &path);
    let text = std::fs::read_to_string(&path).unwrap();
    let use_at = pos(&text, "po.found", 0);
    let r = c.request("textDocument/definition", at(&u, use_at.clone()));
    let def = pos(&text, "let po", 4);
    assert_eq!(r["result"]["range"]["start"], def, "{r}");
    let r = c.request("textDocument/hover", at(&u, use_at.clone()));
    let h = r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        h.contains("bound with `let` in rule `factuur-koppelen`"),
        "{h}"
    );
    let mut p = at(&u, use_at.clone());
    p["context"] = json!({"includeDeclaration": true});
    let r = c.request("textDocument/references", p);
    let refs = r["result"].as_array().unwrap();
    assert_eq!(
        refs.len(),
        5,
        "let po, po.found, link … to po, po.dienst, po.reference: {r}"
    );
    // The event's record goes to `on invoice.received`.
    let r = c.request(
        "textDocument/definition",
        at(&u, pos(&text, "link invoice", 5)),
    );
    assert_eq!(
        r["result"]["range"]["start"],
        pos(&text, "on invoice.received", 3),
        "{r}"
    );
    // Rename: `_` is fine, a name the rule binds already is not.
    let mut p = at(&u, use_at.clone());
    p["newName"] = json!("bestelbon_po");
    let r = c.request("textDocument/rename", p);
    let edits = r["result"]["changes"][&u].as_array().unwrap();
    assert_eq!(edits.len(), 5, "{r}");
    let mut p = at(&u, use_at);
    p["newName"] = json!("guess");
    let r = c.request("textDocument/rename", p);
    let msg = r["error"]["message"].as_str().unwrap_or("").to_string();
    assert!(
        msg.contains("a name bound in rule `factuur-koppelen`"),
        "{r}"
    );
}
