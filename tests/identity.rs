//! A person is their HR key, over time (issue #24), through the binary: a namesake is
//! never taken for someone else (by `org import`, `org diff`, `org migrate --plan` or
//! `org deploy`), an id is never given to another person, a plan never maps a person
//! onto someone else, a person who left is asked for nothing (the manual queue takes
//! the task and `paraaf queue assign` gives it out within the shield), and a person
//! under a new id (a marriage) keeps their own files.

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
    // A token goes to the id the person has now, not to the old one.
    let (code, out) = paraaf(
        &dir,
        &["admin", "token", "add", "jan-cools", "--tokens", "t.toml"],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("`jan-cools` is `jan-cools-peeters` now")
            && out.contains("give the token to `jan-cools-peeters`"),
        "{out}"
    );
    ok(
        &dir,
        &[
            "admin",
            "token",
            "add",
            "jan-cools-peeters",
            "--tokens",
            "t.toml",
        ],
    );
}

/// A project compiled against another organogram than the one in force changes the
/// organogram (#24, item 5): `paraaf deploy` runs `org deploy`'s checks and moves and
/// reports them (a dry run first), or refuses, naming the commands to run first.
#[test]
fn a_redeploy_with_another_organogram_is_an_organogram_change() {
    let dir = aalst("redeploy");
    ok(&dir, &["deploy", "."]);
    let social = doc_id(&ok(
        &dir,
        &[
            "doc",
            "submit",
            "--kind",
            "sociaal-dossier",
            "--as",
            "koen-dubois",
            "--content",
            "f.pdf",
            "--field",
            "team=inkomen",
            "--field",
            "dossiernummer=D1",
        ],
    ));
    let discipline = doc_id(&ok(
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
    ));
    assert!(ok(&dir, &["inbox", "dirk-claes"]).contains(&social));
    // The teamcoach who signs the social file leaves and a newcomer takes the post; the
    // project is compiled again.
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    let org = org.replace(
        "id = \"dirk-claes\"\nname = \"Dirk Claes\"\nemail = \"dirk.claes@aalst.be\"\nkey = \"P10101\"",
        "id = \"nina-nieuw\"\nname = \"Nina Nieuw\"\nemail = \"nina.nieuw@aalst.be\"\nkey = \"P99001\"",
    );
    std::fs::write(dir.join("org.toml"), org).unwrap();
    let dry = ok(&dir, &["deploy", ".", "--dry-run"]);
    assert!(
        dry.contains("would put in force organogram version 1")
            && dry.contains(&format!("move: {social}"))
            && dry.contains("dirk-claes")
            && dry.contains("would deploy version 2"),
        "{dry}"
    );
    assert!(ok(&dir, &["inbox", "dirk-claes"]).contains(&social));
    let out = ok(&dir, &["deploy", "."]);
    assert!(
        out.contains("put in force organogram version 1")
            && out.contains(&format!("move: {social}"))
            && out.contains("deployed version 2"),
        "{out}"
    );
    assert!(ok(&dir, &["inbox", "nina-nieuw"]).contains(&social));
    // The employee named in the discipline file leaves: `org deploy` would want a plan
    // or --force, so the redeploy is refused and names the commands.
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("org.toml"), org_without(&org, "jan-yilmaz")).unwrap();
    let (code, out) = paraaf(&dir, &["deploy", "."]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("nothing was deployed")
            && out.contains(&discipline)
            && out.contains("paraaf org deploy")
            && out.contains("org.toml --dry-run"),
        "{out}"
    );
    let log = ok(&dir, &["audit", "verify"]);
    assert!(!log.contains("FAILED"), "{log}");
    let show = ok(&dir, &["doc", "show", &discipline, "--as", "tom-nowak"]);
    assert!(show.contains(&discipline), "{show}");
}

/// `paraaf why` states the reason the decision used (#24, item 9): the person of an
/// `allow` field is let past the shield by the exception, named (not "inside the
/// group"); someone taken off a task by an organogram change was asked before, with
/// the recorded reason (not "never asked").
#[test]
fn why_names_the_exception_and_who_was_asked_before() {
    let dir = aalst("why");
    ok(&dir, &["deploy", "."]);
    let discipline = doc_id(&ok(
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
    ));
    let out = ok(&dir, &["why", &discipline, "--as", "jan-yilmaz"]);
    assert!(
        out.contains("jan-yilmaz is not in the group `tucht`")
            && out.contains("the exception `allow medewerker` lets them past the shield"),
        "{out}"
    );
    assert!(!out.contains("is inside the group"), "{out}");
    let out = ok(&dir, &["why", &discipline, "--as", "tom-nowak"]);
    assert!(
        out.contains("tom-nowak is inside the group `tucht`"),
        "{out}"
    );
    assert!(!out.contains("exception"), "{out}");

    let decision = doc_id(&ok(
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
    ));
    let out = ok(&dir, &["why", &decision, "--as", "dirk-lambert"]);
    assert!(
        out.contains("asked now: dirk-lambert holds diensthoofd of bevolking"),
        "{out}"
    );
    // The head of Bevolking moves to the archive: taken off the task, still here.
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    let at = org.find("id = \"dirk-lambert\"").unwrap();
    let unit = at + org[at..].find("unit = \"bevolking\"").unwrap();
    let moved = format!(
        "{}unit = \"archief\"{}",
        &org[..unit],
        &org[unit + "unit = \"bevolking\"".len()..]
    );
    std::fs::write(dir.join("moved.toml"), moved).unwrap();
    ok(&dir, &["org", "deploy", "moved.toml", "--force"]);
    let out = ok(&dir, &["why", &decision, "--as", "dirk-lambert"]);
    assert!(
        out.contains(&format!("dirk-lambert may not see {decision}")),
        "{out}"
    );
    assert!(!out.contains("never asked"), "{out}");
    assert!(
        out.contains("dirk-lambert was asked before:")
            && out.contains("task t-1, and was taken off it: organogram version 1: diensthoofd of bevolking is now held by nobody (was dirk-lambert)"),
        "{out}"
    );
    // Someone never asked is told nothing of the sort.
    let out = ok(&dir, &["why", &decision, "--as", "yasmine-peeters"]);
    assert!(!out.contains("was asked"), "{out}");
}

/// `admin token add` gives tokens to people in the organogram in force only (#24): not
/// to someone who left, nor to an id nobody has, nor before anything is deployed.
#[test]
fn no_token_for_someone_who_left() {
    let dir = aalst("token");
    let (code, out) = paraaf(
        &dir,
        &["admin", "token", "add", "jan-yilmaz", "--tokens", "t.toml"],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("there is no database"), "{out}");
    ok(&dir, &["deploy", "."]);
    ok(
        &dir,
        &["admin", "token", "add", "jan-yilmaz", "--tokens", "t.toml"],
    );
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("left.toml"), org_without(&org, "jan-yilmaz")).unwrap();
    ok(&dir, &["org", "deploy", "left.toml"]);
    let before = std::fs::read_to_string(dir.join("t.toml")).unwrap();
    let (code, out) = paraaf(
        &dir,
        &["admin", "token", "add", "jan-yilmaz", "--tokens", "t.toml"],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(
            "`jan-yilmaz` is not in the organogram in force (organogram version 1): they left"
        ),
        "{out}"
    );
    let (code, out) = paraaf(
        &dir,
        &["admin", "token", "add", "nobody-here", "--tokens", "t.toml"],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("is not a person in the organogram in force"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("t.toml")).unwrap(), before);
    let token = ok(
        &dir,
        &["admin", "token", "add", "tom-nowak", "--tokens", "t.toml"],
    );
    assert!(token.contains("pf_"), "{token}");
}

/// The plan for `left.toml` (an organogram without `jan-cools`) with a `[reassign]`
/// section of `lines`, written as `migration.toml`.
fn reassign_plan(dir: &Path, lines: &str) {
    ok(dir, &["org", "migrate", "--plan", "left.toml", "."]);
    let plan = std::fs::read_to_string(dir.join("migration.toml")).unwrap();
    std::fs::write(
        dir.join("migration.toml"),
        format!("{plan}\n[reassign]\n{lines}"),
    )
    .unwrap();
}

const HANDOVER: &str =
    "reason = \"Tom Nowak neemt de dossiers van Jan Cools over (collegebesluit 2026-12-01)\"";

/// `[reassign]` hands a leaver's files to another person at `org deploy --plan`: the
/// person fields of documents in flight and the open tasks go to the receiver, recorded
/// with the reason; the leaver's past signatures are nobody else's. The person a
/// discipline file is about (its `allow medewerker`) is never handed over: a later move
/// of the receiver out of `tucht` would otherwise let the file out with them.
#[test]
fn a_reassign_hands_a_leavers_files_over_within_the_shield() {
    let dir = aalst("reassign");
    ok(&dir, &["deploy", "."]);
    let submit = |kind: &str, by: &str, fields: &[&str]| {
        let mut args = vec![
            "doc",
            "submit",
            "--kind",
            kind,
            "--as",
            by,
            "--content",
            "f.pdf",
        ];
        for f in fields {
            args.extend(["--field", f]);
        }
        doc_id(&ok(&dir, &args))
    };
    // A file jan-cools signed (his past), one waiting for him, a discipline file on him.
    let past = submit(
        "evaluatie",
        "dirk-lambert",
        &["dienst=bevolking", "medewerker=jan-cools"],
    );
    ok(&dir, &["doc", "sign", &past, "--as", "dirk-lambert"]);
    ok(&dir, &["doc", "sign", &past, "--as", "jan-cools"]);
    let open = submit(
        "evaluatie",
        "dirk-lambert",
        &["dienst=bevolking", "medewerker=jan-cools"],
    );
    ok(&dir, &["doc", "sign", &open, "--as", "dirk-lambert"]);
    let tucht = submit("tuchtdossier", "tom-nowak", &["medewerker=jan-cools"]);
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("left.toml"), org_without(&org, "jan-cools")).unwrap();
    // The proposed plan says how, commented: nothing is handed over unless written.
    ok(&dir, &["org", "migrate", "--plan", "left.toml", "."]);
    let proposed = std::fs::read_to_string(dir.join("migration.toml")).unwrap();
    assert!(
        proposed.contains("# [reassign]\n# \"jan-cools\" = { to = \"PERSON\", reason = \"…\" }"),
        "{proposed}"
    );
    // The discipline file is about Jan Cools: its `medewerker` (the shield's `allow`
    // exception) is never handed over, to someone outside `tucht` or inside it.
    reassign_plan(
        &dir,
        &format!("\"jan-cools\" = {{ to = \"hans-willems\", {HANDOVER} }}\n"),
    );
    let dry = ok(
        &dir,
        &[
            "org",
            "deploy",
            "left.toml",
            "--plan",
            "migration.toml",
            "--dry-run",
            "--force",
        ],
    );
    assert!(
        dry.contains(&format!(
            "{tucht} (tuchtdossier): medewerker stays jan-cools, not hans-willems: it names the person the file is about"
        )) && !dry.contains(&format!("{tucht} (tuchtdossier): medewerker jan-cools →")),
        "{dry}"
    );
    let inbox = ok(&dir, &["inbox", "hans-willems"]);
    assert!(!inbox.contains(&open), "{inbox}");
    // To the HR head, inside `tucht`: the dry run shows what would move, records nothing.
    reassign_plan(
        &dir,
        &format!("\"jan-cools\" = {{ to = \"tom-nowak\", {HANDOVER} }}\n"),
    );
    // Without --force it is refused: the discipline file names someone who left, and
    // its receipt step will wait in the manual queue.
    let (code, refused) = paraaf(
        &dir,
        &[
            "org",
            "deploy",
            "left.toml",
            "--plan",
            "migration.toml",
            "--dry-run",
        ],
    );
    assert_ne!(code, 0, "{refused}");
    assert!(
        refused.contains(&format!(
            "{tucht}: field `medewerker` names person `jan-cools`, which the new organogram lacks"
        )),
        "{refused}"
    );
    let dry = ok(
        &dir,
        &[
            "org",
            "deploy",
            "left.toml",
            "--plan",
            "migration.toml",
            "--dry-run",
            "--force",
        ],
    );
    assert!(
        dry.contains(&format!(
            "handed over: {open} (evaluatie): medewerker jan-cools → tom-nowak"
        )),
        "{dry}"
    );
    assert!(
        dry.contains(&format!(
            "{tucht} (tuchtdossier): medewerker stays jan-cools, not tom-nowak"
        )),
        "{dry}"
    );
    assert!(
        !dry.contains(&past),
        "a completed file stays as it was: {dry}"
    );
    assert!(!ok(&dir, &["inbox", "tom-nowak"]).contains(&open));
    let tasks = ok(
        &dir,
        &[
            "org",
            "diff",
            "@current",
            "left.toml",
            "--tasks",
            "--plan",
            "migration.toml",
        ],
    );
    assert!(
        tasks.contains(&format!("would hand over: {open}")),
        "{tasks}"
    );
    // --apply reads [reassign] as deploy does, and installs the organogram.
    ok(&dir, &["org", "migrate", "--apply", "."]);
    let out = ok(
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
    assert!(out.contains("deployed organogram version 1"), "{out}");
    assert!(ok(&dir, &["inbox", "tom-nowak"]).contains(&open));
    let show = ok(&dir, &["doc", "show", &open, "--as", "tom-nowak"]);
    assert!(show.contains("medewerker: tom-nowak"), "{show}");
    ok(&dir, &["doc", "sign", &open, "--as", "tom-nowak"]);
    // The log keeps whose files they were, and why.
    let log = ok(&dir, &["log", "--as", "tom-nowak"]);
    assert!(
        log.contains(&format!(
            "\"type\":\"files_handed_over\",\"doc\":\"{open}\",\"from\":\"jan-cools\",\"to\":\"tom-nowak\",\"fields\":[\"medewerker\"],\"reason\":\"Tom Nowak neemt"
        )) && !log.contains(&format!("\"type\":\"files_handed_over\",\"doc\":\"{tucht}\"")),
        "{log}"
    );
    // The discipline file still names the employee it is about.
    let show = ok(&dir, &["doc", "show", &tucht, "--as", "tom-nowak"]);
    assert!(show.contains("medewerker: jan-cools"), "{show}");
    // His past signature is not handed over: the completed file is not Tom's to see.
    let (code, out) = paraaf(&dir, &["doc", "show", &past, "--as", "tom-nowak"]);
    assert_ne!(code, 0, "{out}");
    let show = ok(&dir, &["doc", "show", &past, "--as", "dirk-lambert"]);
    assert!(
        show.contains("medewerker: jan-cools") && show.contains("jan-cools"),
        "{show}"
    );
    // The same plan again hands over nothing new.
    let again = ok(
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
    assert!(again.contains("nothing was recorded"), "{again}");
    assert!(ok(&dir, &["audit", "verify"]).contains("ok"));
}

/// A leaver's open task on a shielded file goes only to someone inside its group: a
/// `[reassign]` to someone outside is refused, also with --force; inside, it is moved.
#[test]
fn a_reassign_of_a_shielded_task_goes_only_inside_the_group() {
    let dir = aalst("reassign-shielded-task");
    ok(&dir, &["deploy", "."]);
    let social = doc_id(&ok(
        &dir,
        &[
            "doc",
            "submit",
            "--kind",
            "sociaal-dossier",
            "--as",
            "koen-dubois",
            "--content",
            "f.pdf",
            "--field",
            "team=inkomen",
            "--field",
            "dossiernummer=D-1",
        ],
    ));
    assert!(ok(&dir, &["inbox", "dirk-claes"]).contains(&social));
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("left.toml"), org_without(&org, "dirk-claes")).unwrap();
    let reason = "reason = \"Waarnemend teamcoach tot de vacature ingevuld is\"";
    reassign_plan(
        &dir,
        &format!("\"dirk-claes\" = {{ to = \"hans-willems\", {reason} }}\n"),
    );
    for extra in [&["--dry-run"][..], &[][..], &["--force"][..]] {
        let mut args = vec!["org", "deploy", "left.toml", "--plan", "migration.toml"];
        args.extend(extra);
        let (code, out) = paraaf(&dir, &args);
        assert_ne!(code, 0, "{out}");
        assert!(
            out.contains(&format!(
                "{social} (sociaal-dossier): `hans-willems` is outside the shielded group"
            )),
            "{out}"
        );
    }
    assert!(!ok(&dir, &["inbox", "hans-willems"]).contains(&social));
    reassign_plan(
        &dir,
        &format!("\"dirk-claes\" = {{ to = \"mohamed-wouters\", {reason} }}\n"),
    );
    ok(
        &dir,
        &["org", "deploy", "left.toml", "--plan", "migration.toml"],
    );
    assert!(ok(&dir, &["inbox", "mohamed-wouters"]).contains(&social));
}

/// Each rule of `[reassign]`, read the same by `org deploy` and `org migrate --apply`:
/// a receiver who is not in the new organogram, a hand-over to oneself, someone who
/// stays without `still_present = true`, a person also renamed, a reason that says
/// nothing; and a `[rename]` onto another person points to `[reassign]`.
#[test]
fn a_reassign_that_does_not_fit_is_refused() {
    let dir = aalst("reassign-rules");
    ok(&dir, &["deploy", "."]);
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("left.toml"), org_without(&org, "jan-cools")).unwrap();
    let cases = [
        (
            format!("\"jan-cools\" = {{ to = \"jan-yilmaz-x\", {HANDOVER} }}\n"),
            "`jan-yilmaz-x` is not a person in the new organogram",
        ),
        (
            format!("\"jan-cools\" = {{ to = \"jan-cools\", {HANDOVER} }}\n"),
            "a person cannot take over their own files",
        ),
        (
            format!("\"hans-willems\" = {{ to = \"tom-nowak\", {HANDOVER} }}\n"),
            "`hans-willems` is still in the new organogram; to hand over the files of someone who stays, say so with `still_present = true`",
        ),
        (
            "\"jan-cools\" = { to = \"tom-nowak\", reason = \"ok\" }\n".to_string(),
            "the reason \"ok\" says nothing: write in a sentence why this person takes over the files",
        ),
        (
            "\"jan-cools\" = { to = \"tom-nowak\" }\n".to_string(),
            "the reason under [reassign] is empty",
        ),
        (
            format!("\"nobody-here\" = {{ to = \"tom-nowak\", {HANDOVER} }}\n"),
            "the organogram in force has no person `nobody-here`",
        ),
    ];
    for (line, why) in &cases {
        reassign_plan(&dir, line);
        for args in [
            &[
                "org",
                "deploy",
                "left.toml",
                "--plan",
                "migration.toml",
                "--dry-run",
            ][..],
            &[
                "org",
                "deploy",
                "left.toml",
                "--plan",
                "migration.toml",
                "--force",
            ][..],
            &["org", "migrate", "--apply", "."][..],
        ] {
            let (code, out) = paraaf(&dir, args);
            assert_ne!(code, 0, "{line}: {out}");
            assert!(out.contains(why), "{line} ({}): {out}", args.join(" "));
        }
    }
    // Renamed and handed over at once: one or the other.
    reassign_plan(
        &dir,
        &format!("\"jan-cools\" = {{ to = \"tom-nowak\", {HANDOVER} }}\n"),
    );
    let plan = std::fs::read_to_string(dir.join("migration.toml")).unwrap();
    std::fs::write(
        dir.join("migration.toml"),
        plan.replacen(
            "[rename]\n",
            "[rename]\n\"jan-cools\" = \"hans-willems\"\n",
            1,
        ),
    )
    .unwrap();
    let (code, out) = paraaf(
        &dir,
        &[
            "org",
            "deploy",
            "left.toml",
            "--plan",
            "migration.toml",
            "--dry-run",
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("the plan also renames `jan-cools` under [rename]")
            && out.contains("write it under [reassign] with the reason"),
        "{out}"
    );
    // Someone who stays, said so: accepted (a dry run).
    reassign_plan(
        &dir,
        &format!("\"hans-willems\" = {{ to = \"tom-nowak\", still_present = true, {HANDOVER} }}\n"),
    );
    ok(
        &dir,
        &[
            "org",
            "deploy",
            "left.toml",
            "--plan",
            "migration.toml",
            "--dry-run",
        ],
    );
}

/// A reused HR key (the outside tester's finding 1): Bart De Smet (P10268) leaves while
/// his discipline file waits for his receipt signature; HR gives P10268 to Karim Haddad
/// (another name, another address). `org import --previous` finds the key and gives him
/// the retired id `bart-de-smet`, but `org deploy` refuses it as a probable reuse (also
/// with --force), so Karim never reads Bart's file; `--returning P10268` confirms a real
/// return.
#[test]
fn a_reused_hr_key_is_refused_unless_the_return_is_confirmed() {
    let dir = aalst("reused-key");
    ok(&dir, &["deploy", "."]);
    let t = doc_id(&ok(
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
            "--title",
            "Tucht Bart De Smet",
            "--field",
            "medewerker=bart-de-smet",
        ],
    ));
    ok(&dir, &["doc", "sign", &t, "--as", "tom-nowak"]);
    ok(&dir, &["doc", "sign", &t, "--as", "hans-de-backer"]);
    let csv = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    let left: String = csv
        .lines()
        .filter(|l| !l.starts_with("P10268,"))
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
    ok(&dir, &["org", "deploy", "left.toml", "--force"]);
    let reused: String = csv
        .lines()
        .map(|l| {
            if l.starts_with("P10268,") {
                "P10268,,Karim Haddad,karim.haddad@aalst.be,Burgerzaken,Bevolking,,Loketmedewerker Burgerzaken,\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(dir.join("reused.csv"), reused).unwrap();
    // The import already says it: the number was a leaver's, and what to do.
    let imported = ok(
        &dir,
        &[
            "org",
            "import",
            "reused.csv",
            "-o",
            "reused.toml",
            "--city",
            "Aalst",
            "--previous",
            "left.toml",
        ],
    );
    assert!(
        imported.contains(
            "Karim Haddad carries the personnel number P10268 of someone who left (`bart-de-smet`)"
        ) && imported.contains("--returning P10268"),
        "{imported}"
    );
    // Nobody else is warned about: the rest of the export keeps its numbers.
    assert_eq!(
        imported.matches("personnel number").count(),
        1,
        "{imported}"
    );
    for args in [
        &["org", "deploy", "reused.toml"][..],
        &["org", "deploy", "reused.toml", "--force"][..],
        &["org", "deploy", "reused.toml", "--dry-run"][..],
    ] {
        let (code, out) = paraaf(&dir, args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(
            out.contains("key `P10268` was Bart De Smet")
                && out.contains("now Karim Haddad")
                && out.contains("--returning"),
            "{args:?}: {out}"
        );
    }
    // Nothing was deployed: whoever holds the id now reads nothing of the file.
    let (_, shown) = paraaf(&dir, &["doc", "show", &t, "--as", "bart-de-smet"]);
    assert!(!shown.contains("Tucht"), "{shown}");
    // A confirmed return goes through.
    ok(
        &dir,
        &["org", "deploy", "reused.toml", "--returning", "P10268"],
    );
}

/// The token `admin token add` printed (its last line).
fn issued_token(out: &str) -> String {
    out.lines()
        .rev()
        .find(|l| l.starts_with("pf_"))
        .unwrap_or_else(|| panic!("no token in {out}"))
        .trim()
        .to_string()
}

/// A token of someone who left is revoked for good (attack finding 02): when their HR
/// key comes back, the token issued before they left still answers 401; `admin token
/// add` issues them a new one, which works.
#[test]
fn a_leavers_token_stays_revoked_when_they_come_back() {
    let dir = aalst("token-return");
    ok(&dir, &["deploy", "."]);
    let old = issued_token(&ok(
        &dir,
        &["admin", "token", "add", "koen-dubois", "--tokens", "t.toml"],
    ));
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("left.toml"), org_without(&org, "koen-dubois")).unwrap();
    ok(&dir, &["org", "deploy", "left.toml"]);
    let serve = |tokens: &[(&str, &str)], name: &str| {
        let at = dir.join(name);
        std::fs::create_dir_all(&at).unwrap();
        support::Server::start(&dir.join("city.db"), tokens, &at)
    };
    let inbox = |s: &support::Server, t: &str| s.call("GET", "/inbox", Some(t), None, None).0;
    let server = serve(&[("koen-dubois", &old)], "s1");
    assert_eq!(inbox(&server, &old), 401, "the token of someone who left");
    drop(server);
    // He is hired again: the same key, name and address, confirmed as a return (without
    // `--returning` it is refused like any leaver's key: see
    // `a_leavers_key_comes_back_only_when_the_return_is_confirmed`).
    ok(
        &dir,
        &["org", "deploy", "org.toml", "--returning", "P10095"],
    );
    let server = serve(&[("koen-dubois", &old)], "s2");
    assert_eq!(
        inbox(&server, &old),
        401,
        "a token issued before he left stays revoked after his return"
    );
    drop(server);
    let new = issued_token(&ok(
        &dir,
        &["admin", "token", "add", "koen-dubois", "--tokens", "t.toml"],
    ));
    assert!(new.starts_with("pf_r1_"), "{new}");
    let server = serve(&[("koen-dubois", &new)], "s3");
    assert_eq!(
        inbox(&server, &new),
        200,
        "the token issued after his return"
    );
    // Someone who never left keeps their token across the same deployments.
    drop(server);
    let tom = issued_token(&ok(
        &dir,
        &["admin", "token", "add", "tom-nowak", "--tokens", "t.toml"],
    ));
    assert!(!tom.starts_with("pf_r"), "{tom}");
    let server = serve(&[("tom-nowak", &tom)], "s4");
    assert_eq!(inbox(&server, &tom), 200);
}

/// An idempotency record follows its person across a rename (attack 3, finding 02): a
/// retry after the `org deploy` that gave the sender a new id (the same HR key, the same
/// token) answers the first response again, a different request with that key is 422,
/// and a newcomer with the old id's name (an id nobody had) gets nothing of it.
#[test]
fn an_idempotency_key_follows_its_person_across_a_rename() {
    let dir = aalst("idempotency-rename");
    ok(&dir, &["deploy", "."]);
    let jan = issued_token(&ok(
        &dir,
        &["admin", "token", "add", "jan-cools", "--tokens", "t.toml"],
    ));
    let serve = |tokens: &[(&str, &str)], name: &str| {
        let at = dir.join(name);
        std::fs::create_dir_all(&at).unwrap();
        support::Server::start(&dir.join("city.db"), tokens, &at)
    };
    let body = |bedrag: &str| {
        format!(
            r#"{{"kind":"besluit","title":"Aankoop laptops","fields":{{"dienst":"bevolking","bron":"notula","titel":"Aankoop laptops","bedrag":"{bedrag}"}},"content":"x"}}"#
        )
    };
    let key = Some("laptops-2026-12-07");
    let server = serve(&[("jan-cools", &jan)], "s1");
    let first = server.call("POST", "/documents", Some(&jan), key, Some(&body("100")));
    assert_eq!(first.0, 201, "{}", first.1);
    drop(server);
    // Jan Cools marries: HR gives him the id jan-peeters-cools (the same key P10234),
    // and a newcomer called Jan Cools joins his service in the same deployment.
    let csv = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    let married = csv.replace(
        "P10234,,Jan Cools,jan.cools@aalst.be,",
        "P10234,,Jan Peeters-Cools,jan.peeters-cools@aalst.be,",
    );
    let newcomer =
        "P99002,,Jan Cools,jan.cools.2@aalst.be,Burgerzaken,Bevolking,,Beleidsmedewerker,\n";
    std::fs::write(dir.join("hr.csv"), format!("{married}{newcomer}")).unwrap();
    ok(
        &dir,
        &[
            "org",
            "import",
            "hr.csv",
            "-o",
            "hr.toml",
            "--previous",
            "org.toml",
        ],
    );
    let org = std::fs::read_to_string(dir.join("hr.toml")).unwrap();
    assert!(
        org.contains("id = \"jan-cools-2\"\nname = \"Jan Cools\""),
        "{org}"
    );
    let org = org.replace("id = \"jan-cools\"\n", "id = \"jan-peeters-cools\"\n");
    std::fs::write(dir.join("hr.toml"), org).unwrap();
    ok(&dir, &["org", "deploy", "hr.toml", "--force"]);
    let other = issued_token(&ok(
        &dir,
        &["admin", "token", "add", "jan-cools-2", "--tokens", "t.toml"],
    ));
    let server = serve(&[("jan-cools", &jan), ("jan-cools-2", &other)], "s2");
    // The newcomer, with the same key and body, gets his own document.
    let his = server.call("POST", "/documents", Some(&other), key, Some(&body("100")));
    assert_eq!(his.0, 201, "{}", his.1);
    assert_ne!(
        his.1, first.1,
        "the newcomer was handed Jan's stored answer"
    );
    // Jan's retry answers the first response again; another request is refused.
    let retry = server.call("POST", "/documents", Some(&jan), key, Some(&body("100")));
    assert_eq!(retry, first, "the retry after the rename");
    // What he sent before the rename is still his document's content.
    let jans = doc_id(&first.1.replace('"', " "));
    let (code, content) = server.call(
        "GET",
        &format!("/documents/{jans}/content"),
        Some(&jan),
        None,
        None,
    );
    assert_eq!(
        (code, content.as_str()),
        (200, "x"),
        "the content after the rename"
    );
    let (code, out) = server.call("POST", "/documents", Some(&jan), key, Some(&body("200")));
    assert_eq!(
        code, 422,
        "a different request with the key after the rename: {out}"
    );
    let (code, list) = server.call("GET", "/documents?q=Aankoop", Some(&jan), None, None);
    assert_eq!(code, 200, "{list}");
    // Jan's document and the newcomer's, no third one.
    let id = |answer: &str| doc_id(&answer.replace('"', " "));
    assert!(
        list.contains("\"total\":2") && list.contains(&id(&first.1)) && list.contains(&id(&his.1)),
        "{list}"
    );
}

/// How a person chose to be told by mail follows them to a new id (the same HR key), in
/// the commit of the `org deploy` that gives it; a newcomer with the old id's name keeps
/// the default.
#[test]
fn a_mail_choice_follows_its_person_across_a_rename() {
    let dir = aalst("notify-rename");
    ok(&dir, &["deploy", "."]);
    ok(&dir, &["notify", "jan-cools", "--mail", "nothing"]);
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    let married = org.replace(
        "id = \"jan-cools\"\nname = \"Jan Cools\"",
        "id = \"jan-cools-peeters\"\nname = \"Jan Cools-Peeters\"",
    );
    std::fs::write(dir.join("married.toml"), &married).unwrap();
    ok(&dir, &["org", "deploy", "married.toml", "--force"]);
    let db = rusqlite::Connection::open(dir.join("city.db")).unwrap();
    let chosen: Vec<(u64, String)> = db
        .prepare(
            "SELECT seq, body FROM events WHERE body LIKE '%notifications_chosen%' ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let deployed: u64 = db
        .query_row(
            "SELECT seq FROM events WHERE body LIKE '%\"organogram_deployed\"%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(chosen.len(), 2, "{chosen:?}");
    let (seq, body) = &chosen[1];
    assert!(
        *seq > deployed && body.contains("\"jan-cools-peeters\"") && body.contains("\"nothing\""),
        "{chosen:?}"
    );
}

/// A webhook source's `as` follows its person to a new id (the same HR key), as a token
/// does: after the rename its documents are submitted as the id the person has now,
/// instead of being refused as if they had left.
#[test]
fn a_webhook_source_submits_as_its_person_after_a_rename() {
    let dir = aalst("webhook-rename");
    ok(&dir, &["deploy", "."]);
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    let married = org.replace(
        "id = \"lien-van-den-broeck\"\nname = \"Lien Van den Broeck\"",
        "id = \"lien-verbist\"\nname = \"Lien Verbist\"",
    );
    assert_ne!(married, org);
    std::fs::write(dir.join("married.toml"), &married).unwrap();
    ok(&dir, &["org", "deploy", "married.toml", "--force"]);
    let secret = "notula-shared-secret-0123456789";
    let extra =
        format!("\n[webhooks.notula]\nsecret = \"{secret}\"\nas = \"lien-van-den-broeck\"\n");
    let at = dir.join("s");
    std::fs::create_dir_all(&at).unwrap();
    let token = "lien-verbist-token-0123456789";
    let server = support::Server::start_with(
        &dir.join("city.db"),
        &[("lien-verbist", token)],
        &extra,
        &at,
    );
    let body = r#"{"event":"decision.received","data":{"title":"Aankoop zoutstrooiers","body":"college","dienst":"openbaar-domein","amount":"12000.00","reference":"CBS-2026-0412"}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let sig = paraaf_runtime::api::sign_webhook(secret.as_bytes(), "msg-1", now, body.as_bytes());
    let (status, answer) = server
        .request_with(
            "POST",
            "/webhooks/notula",
            None,
            None,
            Some(body),
            &[
                ("webhook-id", "msg-1".to_string()),
                ("webhook-timestamp", now.to_string()),
                ("webhook-signature", sig),
            ],
        )
        .unwrap();
    assert_eq!(status, 202, "{answer}");
    let id = doc_id(&answer.replace('"', " "));
    let (status, doc) = server.call("GET", &format!("/documents/{id}"), Some(token), None, None);
    assert_eq!(status, 200, "{doc}");
    drop(server);
    let db = rusqlite::Connection::open(dir.join("city.db")).unwrap();
    let submitted: String = db
        .query_row(
            "SELECT body FROM events WHERE body LIKE '%document_submitted%' AND body LIKE ?1",
            [format!("%{id}%")],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        submitted.contains("\"lien-verbist\"") && !submitted.contains("lien-van-den-broeck"),
        "{submitted}"
    );
}

/// A completed discipline file about `who`: submitted and signed by HR, signed by `who`
/// for receipt (the `allow medewerker` exception that lets them read it).
fn discipline_file(dir: &Path, who: &str) -> String {
    let title = format!("Tuchtdossier {who}");
    let d = doc_id(&ok(
        dir,
        &[
            "doc",
            "submit",
            "--kind",
            "tuchtdossier",
            "--as",
            "tom-nowak",
            "--content",
            "f.pdf",
            "--title",
            &title,
            "--field",
            &format!("medewerker={who}"),
        ],
    ));
    for p in ["tom-nowak", "hans-de-backer", who] {
        ok(dir, &["doc", "sign", &d, "--as", p]);
    }
    d
}

/// Every way `org deploy` can be asked without confirming the return is refused, naming
/// the leaver and the newcomer, when the leaver left and both ways out.
fn refused_return(dir: &Path, org: &str, key: &str, was: &str, now: &str) {
    for args in [
        &["org", "deploy", org][..],
        &["org", "deploy", org, "--force"][..],
        &["org", "deploy", org, "--dry-run"][..],
    ] {
        let (code, out) = paraaf(dir, args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(
            out.contains(&format!("key `{key}` was {was} ("))
                && out.contains("who left on ")
                && out.contains(&format!("now {now} ("))
                && out.contains(&format!("--returning {key}"))
                && out.contains("ask HR for the newcomer's own personnel number"),
            "{args:?}: {out}"
        );
    }
}

/// The class of the outside tester's findings 01 and 03 (attack 4): a leaver's HR key
/// that comes back in an export is a return only when the administrator confirms it
/// (`--returning KEY`), whatever the name and e-mail address. Jan Cools (P10234) leaves
/// after signing for receipt of his discipline file. HR gives P10234 to a namesake with
/// his own mailbox: `org import --previous` warns (the deploy refuses) and every
/// `org deploy` is refused, so the namesake never reads the file. The same name and the
/// same address are refused too (a spelling proves nothing: domain.md, "People over
/// time"); confirmed, Jan Cools is back and reads his own file again.
#[test]
fn a_leavers_key_comes_back_only_when_the_return_is_confirmed() {
    let dir = aalst("return-confirmed");
    ok(&dir, &["deploy", "."]);
    let d = discipline_file(&dir, "jan-cools");
    let csv = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    let left: String = csv
        .lines()
        .filter(|l| !l.starts_with("P10234,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("left.csv"), &left).unwrap();
    let import = |csv: &str, out: &str| {
        ok(
            &dir,
            &[
                "org",
                "import",
                csv,
                "-o",
                out,
                "--city",
                "Aalst",
                "--previous",
                "left.toml",
            ],
        )
    };
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
    ok(&dir, &["org", "deploy", "left.toml"]);
    // A namesake in Sport with his own mailbox, under the leaver's number.
    std::fs::write(
        dir.join("namesake.csv"),
        format!(
            "{left}P10234,,Jan Cools,jan.cools2@aalst.be,Samenleving,Sport,,Sportfunctionaris,\n"
        ),
    )
    .unwrap();
    let warned = import("namesake.csv", "namesake.toml");
    assert!(
        warned.contains("Jan Cools carries the personnel number P10234 of someone who left")
            && warned.contains("`org deploy` refuses it until the return is confirmed")
            && warned.contains("--returning P10234"),
        "{warned}"
    );
    refused_return(&dir, "namesake.toml", "P10234", "Jan Cools", "Jan Cools");
    let (_, shown) = paraaf(&dir, &["doc", "show", &d, "--as", "jan-cools"]);
    assert!(!shown.contains("Tuchtdossier"), "{shown}");
    // The same name and address: still only a confirmed return.
    std::fs::write(dir.join("back.csv"), &csv).unwrap();
    import("back.csv", "back.toml");
    refused_return(&dir, "back.toml", "P10234", "Jan Cools", "Jan Cools");
    let (_, shown) = paraaf(&dir, &["doc", "show", &d, "--as", "jan-cools"]);
    assert!(!shown.contains("Tuchtdossier"), "{shown}");
    // Confirmed: he is back under his id and reads his own file.
    ok(
        &dir,
        &["org", "deploy", "back.toml", "--returning", "P10234"],
    );
    let shown = ok(&dir, &["doc", "show", &d, "--as", "jan-cools"]);
    assert!(shown.contains("Tuchtdossier jan-cools"), "{shown}");
}

/// Finding 03 of attack 4: someone hired and let go through `org deploy` alone (never in
/// a deployed project's organogram) is a leaver too. Sam Nieuw (P30001) joins, signs for
/// receipt of his discipline file and leaves; HR gives P30001 to Lena Vreemd (another
/// name and address): refused, naming Sam Nieuw. With her own number from HR she joins
/// under her own id and reads nothing of Sam's file.
#[test]
fn the_key_of_someone_who_joined_and_left_by_org_deploy_alone_is_not_reused() {
    let dir = aalst("return-org-deploy-only");
    ok(&dir, &["deploy", "."]);
    let csv = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    let step = |rows: &str, name: &str, previous: &str| {
        let file = format!("{name}.csv");
        std::fs::write(dir.join(&file), format!("{csv}{rows}")).unwrap();
        let out = ok(
            &dir,
            &[
                "org",
                "import",
                &file,
                "-o",
                &format!("{name}.toml"),
                "--city",
                "Aalst",
                "--previous",
                previous,
            ],
        );
        (format!("{name}.toml"), out)
    };
    let (hired, _) = step(
        "P30001,,Sam Nieuw,sam.nieuw@aalst.be,Samenleving,Sport,,Sportfunctionaris,\n",
        "hired",
        "org.toml",
    );
    ok(&dir, &["org", "deploy", &hired]);
    let d = discipline_file(&dir, "sam-nieuw");
    let (left, _) = step("", "left", &hired);
    ok(&dir, &["org", "deploy", &left]);
    let (reused, warned) = step(
        "P30001,,Lena Vreemd,lena.vreemd@aalst.be,Samenleving,Jeugd,,Jeugdconsulent,\n",
        "reused",
        &left,
    );
    assert!(warned.contains("--returning P30001"), "{warned}");
    refused_return(&dir, &reused, "P30001", "Sam Nieuw", "Lena Vreemd");
    let (_, shown) = paraaf(&dir, &["doc", "show", &d, "--as", "sam-nieuw"]);
    assert!(!shown.contains("Tuchtdossier"), "{shown}");
    // HR gives her her own number: she joins under her own id, outside Sam's file.
    let (own, warned) = step(
        "P30002,,Lena Vreemd,lena.vreemd@aalst.be,Samenleving,Jeugd,,Jeugdconsulent,\n",
        "own",
        &left,
    );
    assert!(!warned.contains("personnel number"), "{warned}");
    ok(&dir, &["org", "deploy", &own]);
    let (_, shown) = paraaf(&dir, &["doc", "show", &d, "--as", "lena-vreemd"]);
    assert!(!shown.contains("Tuchtdossier"), "{shown}");
    let (_, shown) = paraaf(&dir, &["doc", "show", &d, "--as", "sam-nieuw"]);
    assert!(!shown.contains("Tuchtdossier"), "{shown}");
}

/// A write replayed with its Idempotency-Key after the caller lost sight of the document
/// it made (moved out of the shield) answers as a document that does not exist, as the
/// webhook path does (attack 4, finding 06's API twin): the stored answer named the
/// shielded file and its status.
#[test]
fn a_replayed_write_names_no_file_its_person_may_no_longer_see() {
    let dir = aalst("idempotency-moved-out");
    ok(&dir, &["deploy", "."]);
    let koen = issued_token(&ok(
        &dir,
        &["admin", "token", "add", "koen-dubois", "--tokens", "t.toml"],
    ));
    let serve = |name: &str| {
        let at = dir.join(name);
        std::fs::create_dir_all(&at).unwrap();
        support::Server::start(&dir.join("city.db"), &[("koen-dubois", &koen)], &at)
    };
    let body = r#"{"kind":"sociaal-dossier","title":"Leefloon Jansens","fields":{"team":"inkomen","dossiernummer":"LEEFLOON-5"},"content":"x"}"#;
    let key = Some("leefloon-5");
    let server = serve("s1");
    let first = server.call("POST", "/documents", Some(&koen), key, Some(body));
    assert_eq!(first.0, 201, "{}", first.1);
    let again = server.call("POST", "/documents", Some(&koen), key, Some(body));
    assert_eq!(again, first, "a replay while he may see it");
    drop(server);
    // Koen Dubois moves from Sociale Zaken to Sport.
    let csv = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    let moved = csv.replace(
        "P10095,,Koen Dubois,koen.dubois@aalst.be,Samenleving,Sociale Zaken,,Maatschappelijk Werker,",
        "P10095,,Koen Dubois,koen.dubois@aalst.be,Samenleving,Sport,,Sportfunctionaris,",
    );
    assert_ne!(moved, csv);
    std::fs::write(dir.join("hr.csv"), moved).unwrap();
    ok(
        &dir,
        &[
            "org",
            "import",
            "hr.csv",
            "-o",
            "hr.toml",
            "--previous",
            "org.toml",
        ],
    );
    ok(&dir, &["org", "deploy", "hr.toml", "--force"]);
    let server = serve("s2");
    let replay = server.call("POST", "/documents", Some(&koen), key, Some(body));
    let missing = server.call(
        "GET",
        "/documents/d-0000000000000000",
        Some(&koen),
        None,
        None,
    );
    assert_eq!(
        replay, missing,
        "the replay after he moved out answers other than a missing document"
    );
    assert!(!replay.1.contains("Leefloon"), "{}", replay.1);
}
