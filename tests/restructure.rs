//! Four restructures of the Aalst organogram, each as a pair (examples/aalst/org.toml and
//! the organogram after, made here from it): `paraaf org diff` (snapshot), the proposed
//! `migration.toml` (snapshot), `paraaf org migrate --apply` with zero edits to the flow
//! files, the rewritten flows (snapshot of the changed lines) and a clean check.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

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

fn paraaf(dir: &Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// The unit block `[[units]]` with this id, whole.
fn unit_block(org: &str, id: &str) -> String {
    let start = org.find(&format!("[[units]]\nid = \"{id}\"\n")).unwrap();
    let end = org[start + 9..]
        .find("\n[[")
        .map_or(org.len(), |e| start + 9 + e + 1);
    org[start..end].to_string()
}

fn restructure(name: &str, change: impl Fn(&str) -> String) {
    let dir = support::tempdir(&format!("restructure-{name}")).join("aalst");
    copy_dir(&support::root().join("examples/aalst"), &dir);
    let old = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    let new = change(&old);
    assert_ne!(old, new, "{name}: the change changes nothing");
    std::fs::write(dir.join("new-org.toml"), &new).unwrap();
    std::fs::write(
        support::root().join(format!("tests/data/restructure/{name}.toml")),
        &new,
    )
    .ok();
    let before: Vec<(PathBuf, String)> = std::fs::read_dir(dir.join("flows"))
        .unwrap()
        .flatten()
        .map(|e| (e.path(), std::fs::read_to_string(e.path()).unwrap()))
        .collect();

    let (code, diff) = paraaf(
        &dir,
        &["org", "diff", "org.toml", "new-org.toml", "--project", "."],
    );
    assert_eq!(code, 0, "{diff}");
    insta::assert_snapshot!(format!("{name}_diff"), diff);
    let (code, json) = paraaf(
        &dir,
        &[
            "org",
            "diff",
            "org.toml",
            "new-org.toml",
            "--project",
            ".",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["renamed"].is_array() && v["affected"].is_array());

    let (code, out) = paraaf(&dir, &["org", "migrate", "--plan", "new-org.toml", "."]);
    assert_eq!(code, 0, "{out}");
    let plan = std::fs::read_to_string(dir.join("migration.toml")).unwrap();
    insta::assert_snapshot!(format!("{name}_plan"), plan);
    assert!(
        !plan.contains("= \"\""),
        "{name}: the plan leaves a name open:\n{plan}"
    );

    let (code, out) = paraaf(&dir, &["org", "migrate", "--apply", "."]);
    assert_eq!(code, 0, "{name}: {out}");
    assert!(out.contains("checks clean"), "{out}");
    let (code, out) = paraaf(&dir, &["check", "."]);
    assert_eq!(code, 0, "{name}: {out}");
    // Only organogram names changed, in place: the changed lines, old → new.
    let mut changes = String::new();
    for (path, old_text) in before {
        let new_text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(old_text.lines().count(), new_text.lines().count());
        for (i, (a, b)) in old_text.lines().zip(new_text.lines()).enumerate() {
            if a != b {
                changes.push_str(&format!(
                    "{}:{}\n- {a}\n+ {b}\n",
                    path.file_name().unwrap().to_string_lossy(),
                    i + 1
                ));
            }
        }
    }
    insta::assert_snapshot!(format!("{name}_rewritten"), changes);
}

#[test]
fn merge_two_services() {
    // Bevolking and Burgerlijke Stand become one service, Loket Burgerzaken.
    restructure("merge", |org| {
        let civil = unit_block(org, "burgerlijke-stand");
        org.replace(&civil, "")
            .replace(
                "id = \"bevolking\"\nname = \"Bevolking\"",
                "id = \"loket\"\nname = \"Loket Burgerzaken\"",
            )
            .replace("unit = \"bevolking\"", "unit = \"loket\"")
            .replace("unit = \"burgerlijke-stand\"", "unit = \"loket\"")
    });
}

#[test]
fn split_a_department() {
    // Burgerzaken splits: Burgerzaken Loketten keeps the head and Bevolking; Burgerlijke
    // Stand moves to a new department, Burgerzaken Registratie.
    restructure("split", |org| {
        let mut org = org
            .replace(
                "id = \"burgerzaken\"\nname = \"Burgerzaken\"",
                "id = \"burgerzaken-loketten\"\nname = \"Burgerzaken Loketten\"",
            )
            .replace(
                "parent = \"burgerzaken\"",
                "parent = \"burgerzaken-loketten\"",
            )
            .replace("unit = \"burgerzaken\"", "unit = \"burgerzaken-loketten\"");
        let civil = unit_block(&org, "burgerlijke-stand");
        org = org.replace(
            &civil,
            &civil.replace(
                "parent = \"burgerzaken-loketten\"",
                "parent = \"burgerzaken-registratie\"",
            ),
        );
        org.replacen(
            "[[units]]",
            "[[units]]\nid = \"burgerzaken-registratie\"\nname = \"Burgerzaken Registratie\"\nkind = \"department\"\n\n[[units]]",
            1,
        )
    });
}

#[test]
fn rename_a_function() {
    // `diensthoofd` is called `hoofd-van-dienst` from now on.
    restructure("rename-function", |org| {
        org.replace("id = \"diensthoofd\"", "id = \"hoofd-van-dienst\"")
            .replace(
                "function = \"diensthoofd\"",
                "function = \"hoofd-van-dienst\"",
            )
    });
}

#[test]
fn a_head_of_service_leaves() {
    // The head of Bevolking leaves; a newcomer takes the function.
    restructure("leaver", |org| {
        let head_at = org
            .find("function = \"diensthoofd\"\nunit = \"bevolking\"")
            .unwrap();
        let person_at = org[..head_at].rfind("[[people]]").unwrap();
        let block_end = org[person_at + 10..]
            .find("[[people]]")
            .map_or(org.len(), |e| person_at + 10 + e);
        let block = &org[person_at..block_end];
        let newcomer = "[[people]]\nid = \"sara-nieuwe\"\nname = \"Sara Nieuwe\"\nemail = \"sara.nieuwe@aalst.be\"\n\n[[people.positions]]\nfunction = \"diensthoofd\"\nunit = \"bevolking\"\n\n";
        org.replace(block, newcomer)
    });
}
