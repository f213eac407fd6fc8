//! What an administrator or the calendar decided about a task is not undone or outlived
//! by a later change of people (attack findings 01 and 11, #24 and #26), through the
//! binary: a task assigned from the manual queue, or handed over by a plan's
//! `[reassign]`, stands through ticks, absences and unrelated HR exports until its person
//! leaves the organogram or the shield; an escalation that reached the substitute of an
//! absent holder goes to the holder when the absence ends.

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
    let dir = support::tempdir(&format!("assignments-{name}")).join("aalst");
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

/// Writes `people.csv` with each `(from, to)` line replaced as `NAME.csv`, and imports
/// it against the organogram `previous` as `NAME.toml`.
fn export(dir: &Path, name: &str, previous: &str, edits: &[(&str, &str)]) {
    let mut csv = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    for (from, to) in edits {
        assert!(csv.contains(from), "no line {from}");
        csv = csv.replace(from, to);
    }
    std::fs::write(dir.join(format!("{name}.csv")), csv).unwrap();
    ok(
        dir,
        &[
            "org",
            "import",
            &format!("{name}.csv"),
            "-o",
            &format!("{name}.toml"),
            "--city",
            "Aalst",
            "--previous",
            previous,
        ],
    );
}

fn inbox_has(dir: &Path, person: &str, doc: &str) -> bool {
    ok(dir, &["inbox", person]).contains(doc)
}

const COACH: &str =
    "P10101,,Dirk Claes,dirk.claes@aalst.be,Samenleving,Sociale Zaken,Inkomen,Teamcoach,";
const COACH_IN_SPORT: &str =
    "P10101,,Dirk Claes,dirk.claes@aalst.be,Samenleving,Sport,,Beleidsmedewerker,";
const HILDE: &str = "P10002,,Hilde Baert,";
const HILDE_MARRIED: &str = "P10002,,Hilde Smet,";
const LUC: &str =
    "P10096,,Luc Claes,luc.claes@aalst.be,Samenleving,Sociale Zaken,,Sociaal Consulent,";
const LUC_IN_SPORT: &str =
    "P10096,,Luc Claes,luc.claes@aalst.be,Samenleving,Sport,,Beleidsmedewerker,";

/// A task assigned from the manual queue stands: through a tick, an absence and an
/// unrelated HR export (which needs no --force for it); beside the new holder when the
/// role is held again (the deployment says so); and only until its person leaves the
/// shielded group.
#[test]
fn a_queue_assignment_stands_until_its_person_leaves_the_group() {
    let dir = aalst("queue");
    ok(&dir, &["deploy", "."]);
    let s = doc_id(&ok(
        &dir,
        &[
            "doc",
            "submit",
            "--kind",
            "sociaal-dossier",
            "--as",
            "mohamed-wouters",
            "--content",
            "f.pdf",
            "--field",
            "team=inkomen",
            "--field",
            "dossiernummer=SD-1",
            "--title",
            "Dossier A",
        ],
    ));
    // The team coach moves to Sport: the task waits in the manual queue.
    export(&dir, "o1", "org.toml", &[(COACH, COACH_IN_SPORT)]);
    ok(&dir, &["org", "deploy", "o1.toml", "--force"]);
    assert!(ok(&dir, &["queue", "list"]).contains(&s));
    ok(
        &dir,
        &[
            "queue",
            "assign",
            &s,
            "--to",
            "luc-claes",
            "--reason",
            "acting team coach while the post is vacant",
        ],
    );
    assert!(inbox_has(&dir, "luc-claes", &s));
    // Time passes and someone is away: the assignment stands.
    ok(&dir, &["tick"]);
    ok(
        &dir,
        &[
            "absence",
            "add",
            "jan-cools",
            "--from",
            "2030-01-01",
            "--to",
            "2030-01-02",
        ],
    );
    assert!(
        inbox_has(&dir, "luc-claes", &s),
        "after a tick and an absence"
    );
    // An unrelated HR export (a marriage elsewhere): deployed without --force, and the
    // assignment stands.
    export(
        &dir,
        "o2",
        "o1.toml",
        &[(COACH, COACH_IN_SPORT), (HILDE, HILDE_MARRIED)],
    );
    let out = ok(&dir, &["org", "deploy", "o2.toml"]);
    assert!(!out.contains(&s), "nothing moves: {out}");
    assert!(
        inbox_has(&dir, "luc-claes", &s),
        "after an unrelated export"
    );
    let why = ok(&dir, &["why", &s, "--as", "luc-claes"]);
    assert!(
        why.contains("an administrator assigned the task to luc-claes"),
        "{why}"
    );
    // The coach is back: both are asked, and the deployment says the assignee keeps it.
    export(&dir, "o3", "o2.toml", &[(HILDE, HILDE_MARRIED)]);
    let out = ok(&dir, &["org", "deploy", "o3.toml"]);
    assert!(
        out.contains(&s) && out.contains("luc-claes keeps it (assigned by an administrator)"),
        "{out}"
    );
    assert!(inbox_has(&dir, "dirk-claes", &s) && inbox_has(&dir, "luc-claes", &s));
    // The assignee moves out of the social service: the file leaves him, and the
    // deployment names the move.
    export(
        &dir,
        "o4",
        "o3.toml",
        &[(HILDE, HILDE_MARRIED), (LUC, LUC_IN_SPORT)],
    );
    let out = ok(&dir, &["org", "deploy", "o4.toml"]);
    assert!(out.contains(&s) && out.contains("luc-claes"), "{out}");
    assert!(!inbox_has(&dir, "luc-claes", &s));
    assert!(inbox_has(&dir, "dirk-claes", &s));
    let (code, shown) = paraaf(&dir, &["doc", "show", &s, "--as", "luc-claes"]);
    assert_ne!(code, 0, "{shown}");
}

/// When the assignee leaves the shielded group while nobody holds the role, the task
/// goes back to the manual queue, and the deployment says so (it needs --force).
#[test]
fn a_queue_assignment_ends_when_its_person_leaves_the_group() {
    let dir = aalst("queue-leaves");
    ok(&dir, &["deploy", "."]);
    let s = doc_id(&ok(
        &dir,
        &[
            "doc",
            "submit",
            "--kind",
            "sociaal-dossier",
            "--as",
            "mohamed-wouters",
            "--content",
            "f.pdf",
            "--field",
            "team=inkomen",
            "--field",
            "dossiernummer=SD-2",
            "--title",
            "Dossier B",
        ],
    ));
    export(&dir, "o1", "org.toml", &[(COACH, COACH_IN_SPORT)]);
    ok(&dir, &["org", "deploy", "o1.toml", "--force"]);
    ok(
        &dir,
        &[
            "queue",
            "assign",
            &s,
            "--to",
            "luc-claes",
            "--reason",
            "acting team coach while the post is vacant",
        ],
    );
    export(
        &dir,
        "o2",
        "o1.toml",
        &[(COACH, COACH_IN_SPORT), (LUC, LUC_IN_SPORT)],
    );
    let (code, out) = paraaf(&dir, &["org", "deploy", "o2.toml"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!("{s} t-1: luc-claes → nobody")),
        "{out}"
    );
    ok(&dir, &["org", "deploy", "o2.toml", "--force"]);
    assert!(!inbox_has(&dir, "luc-claes", &s));
    assert!(ok(&dir, &["queue", "list"]).contains(&s));
}

/// A plan's `[reassign]` hand-over of a role's task stands through the next tick (the
/// role is vacant after the leaver went).
#[test]
fn a_reassign_hand_over_stands_through_time() {
    let dir = aalst("reassign");
    ok(&dir, &["deploy", "."]);
    let b = doc_id(&ok(
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
            "titel=Overdracht",
            "--field",
            "bedrag=100",
        ],
    ));
    assert!(inbox_has(&dir, "dirk-lambert", &b));
    // The head of the population service leaves; his files go to a colleague.
    let csv = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    let left: String = csv
        .lines()
        .filter(|l| !l.contains(",Dirk Lambert,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("left.csv"), left).unwrap();
    ok(
        &dir,
        &[
            "org",
            "import",
            "left.csv",
            "-o",
            "left.toml",
            "--city",
            "Aalst",
            "--previous",
            "org.toml",
        ],
    );
    ok(&dir, &["org", "migrate", "--plan", "left.toml", "."]);
    let plan = std::fs::read_to_string(dir.join("migration.toml")).unwrap();
    std::fs::write(
        dir.join("migration.toml"),
        format!(
            "{plan}\n[reassign]\n\"dirk-lambert\" = {{ to = \"eline-dubois\", reason = \"acting head of the population service\" }}\n"
        ),
    )
    .unwrap();
    ok(
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
    assert!(inbox_has(&dir, "eline-dubois", &b), "handed over");
    ok(&dir, &["tick"]);
    assert!(inbox_has(&dir, "eline-dubois", &b), "after a tick");
}

/// An escalation that reached the substitute of the absent escalation target goes to
/// the target when the absence ends; the substitute loses it, and sight of the document.
#[test]
fn an_escalation_to_an_absent_target_comes_back_to_them() {
    let dir = aalst("escalation");
    ok(&dir, &["deploy", "."]);
    let at = |now: &str, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--now", now]);
        ok(&dir, &all)
    };
    let b = doc_id(&at(
        "2026-12-07T09:00:00Z",
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
            "titel=Escalatie",
            "--field",
            "bedrag=100",
        ],
    ));
    at(
        "2026-12-07T09:00:00Z",
        &[
            "absence",
            "add",
            "hans-de-backer",
            "--from",
            "2026-12-14",
            "--to",
            "2026-12-31",
        ],
    );
    let step = |now: &str| {
        at(now, &["tick"]);
        let shown = at(now, &["doc", "show", &b, "--as", "jan-cools"]);
        shown
            .lines()
            .find(|l| l.contains("step 1"))
            .unwrap_or_else(|| panic!("no step 1 in {shown}"))
            .to_string()
    };
    let during = step("2026-12-22T10:00:00Z");
    assert!(
        during.contains("hilde-baert") && !during.contains("hans-de-backer"),
        "escalated while he is away: his substitute signs: {during}"
    );
    let why = at("2026-12-22T10:00:00Z", &["why", &b, "--as", "hilde-baert"]);
    assert!(
        why.contains("substitutes for hans-de-backer (absent), to whom the task was escalated"),
        "{why}"
    );
    let after = step("2027-01-04T10:00:00Z");
    assert!(
        after.contains("hans-de-backer") && !after.contains("hilde-baert"),
        "back from his absence, the general director has the escalation: {after}"
    );
    let (code, shown) = paraaf(
        &dir,
        &[
            "doc",
            "show",
            &b,
            "--as",
            "hilde-baert",
            "--now",
            "2027-01-04T10:00:00Z",
        ],
    );
    assert_ne!(code, 0, "the substitute no longer sees it: {shown}");
}
