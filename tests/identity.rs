//! A person is their HR key, over time (issue #24), through the binary: a namesake is
//! never taken for someone else (by `org import`, `org diff`, `org migrate --plan` or
//! `org deploy`), an id is never given to another person, a plan never maps a person
//! onto someone else, a person who left is asked for nothing (the manual queue takes
//! the task and `paraaf queue assign` gives it out within the shield), and a person
//! under a new id (a marriage) keeps their own files.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn paraaf(dir: &Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_paraaf"))
        .args(args)
        .current_dir(dir)
        .env("PARAAF_DB", dir.join("city.db"))
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

fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out) = paraaf(dir, args);
    assert_eq!(code, 0, "paraaf {}: {out}", args.join(" "));
    out
}

fn aalst(name: &str) -> PathBuf {
    let dir = support::tempdir(&format!("identity-{name}")).join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    std::fs::write(dir.join("f.pdf"), "%PDF-1.4 dossier").unwrap();
    dir
}

/// The document id a `doc submit` printed.
fn doc_id(out: &str) -> String {
    out.split_whitespace()
        .find(|w| w.starts_with("d-"))
        .unwrap_or_else(|| panic!("no document id in {out}"))
        .trim_end_matches([':', ','])
        .to_string()
}

/// The rows of people.csv without the person called `name`.
fn without(csv: &str, name: &str) -> String {
    csv.lines()
        .filter(|l| !l.contains(&format!(",{name},")))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The organogram with the `[[people]]` block of `id` taken out.
fn org_without(org: &str, id: &str) -> String {
    let start = org.find(&format!("[[people]]\nid = \"{id}\"\n")).unwrap();
    let end = org[start + 10..]
        .find("\n[[people]]\n")
        .map_or(org.len(), |e| start + 10 + e + 1);
    format!("{}{}", &org[..start], &org[end..])
}

const NEWCOMER: &str =
    "P99001,,Jan Cools,jan.cools@mobiliteit.example,Ruimte,Mobiliteit,,Beleidsmedewerker,\n";

#[test]
fn a_namesake_gets_a_new_id_and_is_never_taken_for_the_first() {
    let dir = aalst("namesake");
    let csv = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    // A different Jan Cools joins: his own id, and the first keeps his.
    std::fs::write(dir.join("join.csv"), format!("{csv}{NEWCOMER}")).unwrap();
    ok(
        &dir,
        &[
            "org",
            "import",
            "join.csv",
            "-o",
            "joined.toml",
            "--previous",
            "org.toml",
        ],
    );
    let joined = std::fs::read_to_string(dir.join("joined.toml")).unwrap();
    assert!(joined.contains("id = \"jan-cools-2\"\nname = \"Jan Cools\"\nemail = \"jan.cools@mobiliteit.example\"\nkey = \"P99001\""), "{joined}");
    assert!(joined.contains(
        "id = \"jan-cools\"\nname = \"Jan Cools\"\nemail = \"jan.cools@aalst.be\"\nkey = \"P10234\""
    ));
    // org diff and the plan never take one for the other.
    let diff = ok(
        &dir,
        &["org", "diff", "org.toml", "join.csv", "--project", "."],
    );
    assert!(
        diff.contains("0 renamed") && !diff.contains("renamed  person"),
        "{diff}"
    );
    let plan = ok(&dir, &["org", "migrate", "--plan", "joined.toml", "."]);
    let plan_text = std::fs::read_to_string(dir.join("migration.toml")).unwrap_or(plan);
    assert!(
        !plan_text.contains("\"jan-cools\" = \"jan-cools-2\""),
        "{plan_text}"
    );

    // The first Jan Cools leaves and another one joins the same month: the newcomer
    // still gets another id, and the first one's id is kept under [retired].
    std::fs::write(
        dir.join("swap.csv"),
        format!("{}{NEWCOMER}", without(&csv, "Jan Cools")),
    )
    .unwrap();
    ok(
        &dir,
        &[
            "org",
            "import",
            "swap.csv",
            "-o",
            "swapped.toml",
            "--previous",
            "org.toml",
        ],
    );
    let swapped = std::fs::read_to_string(dir.join("swapped.toml")).unwrap();
    assert!(swapped.contains("id = \"jan-cools-2\""), "{swapped}");
    assert!(!swapped.contains("id = \"jan-cools\"\n"));
    assert!(
        swapped.contains("[retired]\njan-cools = \"P10234\""),
        "{swapped}"
    );
    // Imported again later against that organogram, nobody ever gets `jan-cools`.
    ok(
        &dir,
        &[
            "org",
            "import",
            "swap.csv",
            "-o",
            "again.toml",
            "--previous",
            "swapped.toml",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("again.toml")).unwrap(),
        swapped
    );
    // An organogram edited by hand to give `jan-cools` to the newcomer is refused by
    // the loader (the id is retired) ...
    let reused = swapped.replace("id = \"jan-cools-2\"", "id = \"jan-cools\"");
    std::fs::write(dir.join("reused.toml"), &reused).unwrap();
    let (code, out) = paraaf(&dir, &["org", "diff", "org.toml", "reused.toml"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("belonged to someone who left"), "{out}");
}

#[test]
fn org_deploy_never_gives_an_id_to_another_person() {
    let dir = aalst("reuse");
    ok(&dir, &["deploy", "."]);
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    let first = ok(
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
            "medewerker=jan-cools",
        ],
    );
    let d = doc_id(&first);
    // Another Jan Cools under the first one's id, [retired] left out of the file: the
    // runtime remembers whose id it is.
    let other = org.replace(
        "id = \"jan-cools\"\nname = \"Jan Cools\"\nemail = \"jan.cools@aalst.be\"\nkey = \"P10234\"",
        "id = \"jan-cools\"\nname = \"Jan Cools\"\nemail = \"jan.cools@mobiliteit.example\"\nkey = \"P99001\"",
    );
    assert_ne!(other, org);
    std::fs::write(dir.join("other.toml"), &other).unwrap();
    let (code, out) = paraaf(&dir, &["org", "deploy", "other.toml", "--force"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("has the id of another person"), "{out}");
    // org diff says so too, instead of "holders changed".
    let diff = ok(&dir, &["org", "diff", "org.toml", "other.toml"]);
    assert!(diff.contains("REUSED   person    jan-cools"), "{diff}");
    // Nothing changed: the file is still tom-nowak's to sign.
    let show = ok(&dir, &["doc", "show", &d, "--as", "tom-nowak"]);
    assert!(show.contains("tom-nowak"), "{show}");
}

#[test]
fn a_plan_never_maps_a_person_onto_someone_else() {
    let dir = aalst("plan-person");
    ok(&dir, &["deploy", "."]);
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("left.toml"), org_without(&org, "jan-cools")).unwrap();
    ok(&dir, &["org", "migrate", "--plan", "left.toml", "."]);
    // The documented step "name its replacement", filled in with a colleague.
    let plan = std::fs::read_to_string(dir.join("migration.toml")).unwrap();
    assert!(!plan.contains("\"jan-cools\" = \"jan-cools"), "{plan}");
    let plan = plan.replacen(
        "[rename]\n",
        "[rename]\n\"jan-cools\" = \"hans-willems\"\n",
        1,
    );
    std::fs::write(dir.join("migration.toml"), plan).unwrap();
    let (code, out) = paraaf(
        &dir,
        &[
            "org",
            "deploy",
            "left.toml",
            "--plan",
            "migration.toml",
            "--force",
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("is another person than"), "{out}");
    let (code, out) = paraaf(&dir, &["org", "migrate", "--apply", "."]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("is another person than"), "{out}");
}

#[test]
fn a_leaver_named_in_a_person_field_is_asked_for_nothing() {
    let dir = aalst("leaver");
    ok(&dir, &["deploy", "."]);
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
    let d = doc_id(&out);
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("left.toml"), org_without(&org, "jan-yilmaz")).unwrap();
    // Refused without --force (the file names him), then forced.
    let (code, out) = paraaf(&dir, &["org", "deploy", "left.toml"]);
    assert_ne!(code, 0, "{out}");
    ok(&dir, &["org", "deploy", "left.toml", "--force"]);
    ok(&dir, &["doc", "sign", &d, "--as", "tom-nowak"]);
    ok(&dir, &["doc", "sign", &d, "--as", "hans-de-backer"]);
    // The receipt step names him: it waits in the manual queue, not in his inbox.
    let inbox = ok(&dir, &["inbox", "jan-yilmaz"]);
    assert!(!inbox.contains(&d), "{inbox}");
    let (code, out) = paraaf(&dir, &["doc", "sign", &d, "--as", "jan-yilmaz"]);
    assert_ne!(code, 0, "{out}");
    let (code, out) = paraaf(&dir, &["doc", "show", &d, "--as", "jan-yilmaz"]);
    assert_ne!(code, 0, "{out}");
    let queue = ok(&dir, &["queue", "list"]);
    assert!(
        queue.contains(&d) && queue.contains("jan-yilmaz is no longer in the organogram"),
        "{queue}"
    );
    // Given out within the shield only, with a reason, recorded.
    let (code, out) = paraaf(
        &dir,
        &[
            "queue",
            "assign",
            &d,
            "--to",
            "ruben-van-damme",
            "--reason",
            "the mayor signs receipt",
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("outside the shielded group"), "{out}");
    let (code, out) = paraaf(
        &dir,
        &["queue", "assign", &d, "--to", "tom-nowak", "--reason", "x"],
    );
    assert_ne!(code, 0, "{out}");
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
    assert_eq!(
        ok(&dir, &["queue", "list"]).trim(),
        "The manual queue is empty."
    );
    let log = ok(&dir, &["doc", "show", &d, "--as", "tom-nowak"]);
    assert!(log.contains("tom-nowak"), "{log}");
    ok(&dir, &["doc", "sign", &d, "--as", "tom-nowak"]);
}

#[test]
fn a_person_under_a_new_id_keeps_their_files_and_the_old_id_keeps_nothing() {
    let dir = aalst("marriage");
    ok(&dir, &["deploy", "."]);
    let out = ok(
        &dir,
        &[
            "doc",
            "submit",
            "--kind",
            "besluit",
            "--as",
            "jan-cools",
            "--content",
            "f.pdf",
            "--field",
            "dienst=bevolking",
            "--field",
            "bron=notula",
            "--field",
            "titel=Aankoop laptops",
            "--field",
            "bedrag=9000",
        ],
    );
    let d = doc_id(&out);
    // Jan Cools marries and HR changes his name; the administrator gives him a new id
    // (the same key): org deploy finds the rename by the key alone.
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    let married = org.replace(
        "id = \"jan-cools\"\nname = \"Jan Cools\"",
        "id = \"jan-cools-peeters\"\nname = \"Jan Cools-Peeters\"",
    );
    std::fs::write(dir.join("married.toml"), &married).unwrap();
    ok(&dir, &["org", "deploy", "married.toml", "--force"]);
    let show = ok(&dir, &["doc", "show", &d, "--as", "jan-cools-peeters"]);
    assert!(show.contains(&d), "{show}");
    let (code, out) = paraaf(&dir, &["doc", "show", &d, "--as", "jan-cools"]);
    assert_ne!(code, 0, "the old id still reads the file: {out}");
}
