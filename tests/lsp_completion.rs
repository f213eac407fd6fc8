//! Completion and hover at the edges (#31): filtered by the typed word and capped with
//! `isIncomplete`, ranked by what the position expects; a record's fields after
//! `invoice.` and `po.`; audiences after `visible to uploader, `; hovers on step names,
//! `invoice.amount` and `debt.social_attest`; "did you mean `document`".

#[path = "support/lsp_client.rs"]
mod lsp_client;
mod support;

use lsp_client::{LspClient, uri};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn project(example: &str, name: &str) -> PathBuf {
    let dir = support::tempdir(name).join(example);
    support::copy_dir(&support::root().join("examples").join(example), &dir);
    dir
}

fn start(root: &Path) -> LspClient {
    let mut c = LspClient::start(env!("CARGO_BIN_EXE_paraaf"));
    c.initialize(root);
    c
}

fn open(c: &mut LspClient, path: &Path, text: &str) -> String {
    let u = uri(path);
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

/// The position just after `needle` (its `skip`-th byte) in `text`.
fn pos(text: &str, needle: &str, skip: usize) -> Value {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle}")) + skip;
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col})
}

fn complete(c: &mut LspClient, u: &str, p: Value) -> (bool, Vec<String>) {
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": u}, "position": p}),
    );
    let list = &r["result"];
    let labels = list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a completion list: {r}"))
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect();
    (list["isIncomplete"].as_bool().unwrap(), labels)
}

fn hover(c: &mut LspClient, u: &str, p: Value) -> String {
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": u}, "position": p}),
    );
    r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// After `sign ` all 342 people and 56 functions of Aalst match: the answer carries at
/// most 50, says it is incomplete, and puts functions and mandates (what a step
/// usually names) before people. Typing narrows it; a part after a dash matches too.
#[test]
fn completion_is_filtered_capped_and_ranked() {
    let root = project("aalst", "lsp-completion-cap");
    let mut c = start(&root);
    let path = root.join("flows/college.paraaf");
    let text = std::fs::read_to_string(&path).unwrap();
    let u = open(&mut c, &path, &text);
    let typed = text.replacen("sign burgemeester", "sign ", 1);
    change(&mut c, &u, 2, &typed);
    let (incomplete, labels) = complete(&mut c, &u, pos(&typed, "    sign \n", 9));
    assert!(incomplete, "{} items", labels.len());
    assert_eq!(labels.len(), 50);
    assert!(labels.contains(&"burgemeester".to_string()), "{labels:?}");
    assert!(
        !labels.iter().any(|l| l.starts_with("jan-")),
        "functions and mandates come before people: {labels:?}"
    );
    // `sign fin`: only what matches, whole-prefix matches first, complete.
    let typed = text.replacen("sign burgemeester", "sign fin", 1);
    change(&mut c, &u, 3, &typed);
    let (incomplete, labels) = complete(&mut c, &u, pos(&typed, "sign fin", 8));
    assert!(!incomplete);
    assert_eq!(
        labels,
        [
            "financieel-analist",
            "financieel-directeur",
            "adjunct-financieel-directeur",
            "schepen-financien"
        ],
        "a whole prefix before a part's"
    );
    assert!(
        labels
            .iter()
            .all(|l| l.starts_with("fin") || l.contains("-fin")),
        "{labels:?}"
    );
    // `sign directeur`: a part after a dash.
    let typed = text.replacen("sign burgemeester", "sign directeur", 1);
    change(&mut c, &u, 4, &typed);
    let (_, labels) = complete(&mut c, &u, pos(&typed, "sign directeur", 14));
    assert!(
        labels.contains(&"financieel-directeur".to_string())
            && labels.contains(&"algemeen-directeur".to_string()),
        "{labels:?}"
    );
    // After `visible to uploader, `: the audiences, not keywords.
    let typed = text.replacen(
        "visible to uploader, signers, unit document.dienst",
        "visible to uploader, ",
        1,
    );
    change(&mut c, &u, 5, &typed);
    let (_, labels) = complete(&mut c, &u, pos(&typed, "visible to uploader, ", 21));
    assert_eq!(
        labels[..4],
        ["uploader", "signers", "group", "unit"],
        "{labels:?}"
    );
    assert!(!labels.contains(&"deadline".to_string()), "{labels:?}");
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
}

/// After `invoice.` and `po.` in a rule: the record's fields, never keywords; hover on
/// `invoice.amount` and `debt.social_attest` names the field's type.
#[test]
fn records_complete_and_hover_their_fields() {
    let root = project("hasselt", "lsp-completion-records");
    let mut c = start(&root);
    let path = root.join("rules/invoices.paraaf");
    let text = std::fs::read_to_string(&path).unwrap();
    let u = open(&mut c, &path, &text);
    let typed = text.replacen("if po.found {", "if po. {", 1);
    change(&mut c, &u, 2, &typed);
    let (_, labels) = complete(&mut c, &u, pos(&typed, "if po. {", 6));
    for want in ["found", "ambiguous", "reference", "dienst"] {
        assert!(labels.contains(&want.to_string()), "{want}: {labels:?}");
    }
    assert!(!labels.contains(&"document".to_string()), "{labels:?}");
    let typed = text.replacen("bedrag = invoice.amount,", "bedrag = invoice.am,", 1);
    change(&mut c, &u, 3, &typed);
    let (_, labels) = complete(&mut c, &u, pos(&typed, "invoice.am,", 10));
    assert_eq!(labels[..2], ["amount", "amount_excl_vat"], "{labels:?}");
    change(&mut c, &u, 4, &text);
    let h = hover(&mut c, &u, pos(&text, "invoice.amount,", 10));
    assert!(h.contains("invoice.amount") && h.contains("`money`"), "{h}");
    let w = root.join("rules/withholding.paraaf");
    let wt = std::fs::read_to_string(&w).unwrap();
    let wu = open(&mut c, &w, &wt);
    let h = hover(&mut c, &wu, pos(&wt, "debt.social_attest", 8));
    assert!(
        h.contains("debt.social_attest") && h.contains("`money?`") && h.contains("debts"),
        "{h}"
    );
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
}

/// Hover on a step's name (where it is defined and after `back to step`), and
/// `doucment.dienst` gets "did you mean `document`?", `uploadr` "did you mean
/// `uploader`?" and a step named `sign` a syntax error on the word that says so.
#[test]
fn steps_hover_and_document_is_suggested() {
    let root = project("aalst", "lsp-completion-steps");
    let mut c = start(&root);
    let path = root.join("flows/college.paraaf");
    let text = std::fs::read_to_string(&path).unwrap();
    let u = open(&mut c, &path, &text);
    let h = hover(&mut c, &u, pos(&text, "step paraaf", 6));
    assert!(
        h.contains("step paraaf") && h.contains("step 1 of") && h.contains("sign `diensthoofd`"),
        "{h}"
    );
    let h = hover(&mut c, &u, pos(&text, "step visum", 6));
    assert!(h.contains("when `bedrag != none"), "{h}");
    let typo = text.replacen("of document.dienst", "of doucment.dienst", 1);
    change(&mut c, &u, 2, &typo);
    let d = c.diagnostics_where(&u, |d| !d.is_empty());
    assert!(
        d.iter().any(|d| d["message"]
            .as_str()
            .unwrap_or("")
            .contains("did you mean `document`")),
        "{d:?}"
    );
    // Other words of the language: a misspelled audience word, and a keyword as a name.
    let typo = text
        .replacen("visible to uploader,", "visible to uploadr,", 1)
        .replacen(
            "step handtekening : all {\n    sign voorzitter-gemeenteraad",
            "step sign : all {\n    sign voorzitter-gemeenteraad",
            1,
        );
    change(&mut c, &u, 3, &typo);
    let d = c.diagnostics_where(&u, |d| d.iter().any(|d| d["code"] == "P0001"));
    assert!(
        d.iter().any(|d| d["code"] == "P0003"
            && d["message"]
                .as_str()
                .unwrap_or("")
                .contains("did you mean `uploader`")),
        "{d:?}"
    );
    let kw = d
        .iter()
        .find(|d| d["code"] == "P0001")
        .unwrap_or_else(|| panic!("{d:?}"));
    let message = kw["message"].as_str().unwrap();
    assert!(
        message.contains("`sign` is a word of the language, not a name")
            && message.contains("did you mean `sign-1`?"),
        "{kw}"
    );
    let line = typo
        .lines()
        .position(|l| l.contains("step sign :"))
        .unwrap();
    assert_eq!(kw["range"]["start"]["line"], line, "{kw}");
    assert_eq!(kw["range"]["start"]["character"], 7, "{kw}");
    let _ = c.request("shutdown", json!(null));
    c.notify("exit", json!(null));
}
