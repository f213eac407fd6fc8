//! `paraaf queue list --json` lists what the text lists, through the same queue service
//! (`paraaf_runtime::app::queue`): here an open task nobody can be asked for (the person
//! its step names left), until `queue assign` gives it out. The invoices waiting for a
//! person are in `finance_runs.rs`.

mod support;

use std::path::{Path, PathBuf};

fn paraaf(dir: &Path, args: &[&str]) -> (i32, String) {
    let db = dir.join("city.db");
    support::paraaf_env(dir, args, &[("PARAAF_DB", db.to_str().unwrap())])
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out) = paraaf(dir, args);
    assert_eq!(code, 0, "paraaf {}: {out}", args.join(" "));
    out
}

fn aalst(name: &str) -> PathBuf {
    let dir = support::tempdir(&format!("queue-{name}")).join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    std::fs::write(dir.join("f.pdf"), "%PDF-1.4 dossier").unwrap();
    dir
}

/// The organogram with the `[[people]]` block of `id` taken out.
fn org_without(org: &str, id: &str) -> String {
    let start = org.find(&format!("[[people]]\nid = \"{id}\"\n")).unwrap();
    let end = org[start + 10..]
        .find("\n[[people]]\n")
        .map_or(org.len(), |e| start + 10 + e + 1);
    format!("{}{}", &org[..start], &org[end..])
}

/// The JSON `queue list --json` printed (standard output only).
fn listed(dir: &Path) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(["queue", "list", "--json"])
        .env("PARAAF_DB", dir.join("city.db"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_json_queue_lists_a_task_nobody_can_be_asked_for_as_the_text_does() {
    let dir = aalst("task-json");
    ok(&dir, &["deploy", "."]);
    assert_eq!(listed(&dir), serde_json::json!([]));
    let out = ok(
        &dir,
        &[
            "doc",
            "submit",
            "--kind",
            "tuchtdossier",
            "--as",
            "tom-nowak",
            "--content",
            "f.pdf",
            "--field",
            "medewerker=jan-yilmaz",
        ],
    );
    let d = out
        .split_whitespace()
        .find(|w| w.starts_with("d-"))
        .unwrap_or_else(|| panic!("no document id in {out}"))
        .trim_end_matches([':', ','])
        .to_string();
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("left.toml"), org_without(&org, "jan-yilmaz")).unwrap();
    ok(&dir, &["org", "deploy", "left.toml", "--force"]);
    ok(&dir, &["doc", "sign", &d, "--as", "tom-nowak"]);
    ok(&dir, &["doc", "sign", &d, "--as", "hans-de-backer"]);
    // The receipt step names him: one task waits, in JSON as in the text.
    let text = ok(&dir, &["queue", "list"]);
    let json = listed(&dir);
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), 1, "{json}");
    let item = &items[0];
    assert_eq!(item["item"], "task", "{item}");
    assert_eq!(item["doc"], d.as_str(), "{item}");
    assert_eq!(item["kind"], "tuchtdossier", "{item}");
    let reason = item["reason"].as_str().unwrap();
    assert!(
        reason.contains("jan-yilmaz is no longer in the organogram"),
        "{reason}"
    );
    let line = format!(
        "{} {} ({}, {}): {reason}",
        d,
        item["task"].as_str().unwrap(),
        item["title"].as_str().unwrap(),
        item["role"].as_str().unwrap()
    );
    assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    ok(
        &dir,
        &[
            "queue",
            "assign",
            &d,
            "--to",
            "tom-nowak",
            "--reason",
            "HR head confirms receipt for the leaver",
        ],
    );
    assert_eq!(listed(&dir), serde_json::json!([]));
}
