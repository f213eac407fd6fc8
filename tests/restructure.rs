//! Four restructures of the Aalst organogram, each as a pair (examples/aalst/org.toml and
//! the organogram after, made here from it): `paraaf org diff` (snapshot), the proposed
//! `migration.toml` (snapshot), `paraaf org migrate --apply` with zero edits to the flow
//! files, the rewritten flows (snapshot of the changed lines) and a clean check.

mod support;

use std::path::{Path, PathBuf};

fn paraaf(dir: &Path, args: &[&str]) -> (i32, String) {
    support::paraaf_env(dir, args, &[])
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
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    let old = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    let new = change(&old);
    assert_ne!(old, new, "{name}: the change changes nothing");
    std::fs::write(dir.join("new-org.toml"), &new).unwrap();
    // The pair is kept as a fixture (the runtime tests read it).
    let fixture = support::root().join(format!("tests/data/restructure/{name}.toml"));
    match std::fs::read_to_string(&fixture) {
        Ok(kept) => assert_eq!(
            kept,
            new,
            "{}: regenerate it (delete it and run again)",
            fixture.display()
        ),
        Err(_) => std::fs::write(&fixture, &new).unwrap(),
    }
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
    // The hash of the organogram the plan was made against, which is not the point here.
    let shown: String = plan
        .lines()
        .map(|l| {
            if l.starts_with("made_against = \"") && l.len() == 81 {
                "made_against = \"[sha256]\"\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    insta::assert_snapshot!(format!("{name}_plan"), shown);
    assert!(
        !plan.contains("= \"\""),
        "{name}: the plan leaves a name open:\n{plan}"
    );

    let (code, out) = paraaf(&dir, &["org", "migrate", "--apply", "."]);
    assert_eq!(code, 0, "{name}: {out}");
    assert!(out.contains("checks clean"), "{out}");
    let (code, out) = paraaf(&dir, &["check", "."]);
    assert_eq!(code, 0, "{name}: {out}");
    // Still the formatter's fixed point.
    let (code, out) = paraaf(&dir, &["fmt", "--check", "flows"]);
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

/// The organogram after a restructure, as the test above made it.
fn new_org(name: &str) -> PathBuf {
    support::root().join(format!("tests/data/restructure/{name}.toml"))
}

/// A plan written by hand for the Aalst database: bound, as `org migrate --plan` binds
/// it, to the project and the organogram in force (version 0, the example's).
fn aalst_plan(city: &support::City, body: &str) -> String {
    format!(
        "project = \"aalst\"\ncity = \"Aalst\"\nmade_against = \"{}\"\n{body}",
        paraaf_runtime::engine::OrgInForce::sha256_of(&city.org)
    )
}

#[test]
fn documents_in_flight_move_to_the_new_signers() {
    let city = support::City::aalst("restructure-runtime");
    let now = "2026-11-23";
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let head = city.function("diensthoofd", Some("bevolking"));
    assert_eq!(head, "dirk-lambert");
    let doc = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Aankoop stoelen",
            "bedrag=100",
        ],
        now,
    );
    assert!(city.ok(&["inbox", "dirk-lambert"], now).contains(&doc));
    let events = city.events();

    // The head of Bevolking leaves. A dry run lists the move and changes nothing.
    let org = new_org("leaver");
    let out = city.ok(&["org", "deploy", org.to_str().unwrap(), "--dry-run"], now);
    assert!(out.contains(&format!("move: {doc} ")), "{out}");
    assert!(out.contains("dirk-lambert → sara-nieuwe"), "{out}");
    assert!(
        out.contains("would deploy organogram version 1: 1 task moved"),
        "{out}"
    );
    assert_eq!(city.events(), events, "a dry run records nothing");

    // For real: one audited move, the newcomer signs.
    let out = city.ok(&["org", "deploy", org.to_str().unwrap()], now);
    assert!(
        out.contains("deployed organogram version 1: 1 task moved"),
        "{out}"
    );
    assert!(!city.ok(&["inbox", "dirk-lambert"], now).contains(&doc));
    assert!(city.ok(&["inbox", "sara-nieuwe"], now).contains(&doc));
    let log = city.ok(&["log", "--as", "sara-nieuwe"], now);
    assert!(log.contains("organogram version 1 deployed"), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("\"task_moved\"") && l.contains("organogram version 1")),
        "{log}"
    );
    city.ok(&["doc", "sign", &doc, "--as", "sara-nieuwe"], now);
    // Whoever left can no longer act or see.
    assert!(
        !city
            .run(&["doc", "sign", &doc, "--as", "dirk-lambert"], now)
            .status
            .success()
    );
    assert!(city.ok(&["audit", "verify"], now).starts_with("ok:"));
}

/// The split fixture in the runtime: a certificate escalated to the head of Burgerzaken,
/// which becomes Burgerzaken Loketten. Without the plan the deploy is refused (the
/// deployed flow names `burgerzaken`); with it the escalation stays with the same head,
/// now of the renamed department, who signs it; a certificate in flight at the
/// population service keeps its signers.
#[test]
fn a_split_department_keeps_its_escalations() {
    let city = support::City::aalst("restructure-split-runtime");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let submit = |who: &str, now: &str| {
        city.submit(
            "attest",
            who,
            &["soort=gezinssamenstelling", "aanvrager=Jan Janssens"],
            now,
        )
    };
    let escalated = submit(&uploader, "2026-11-23");
    let later = "2026-11-26";
    city.ok(&["tick"], later);
    let fresh = submit(&uploader, later);
    let head = city.function("departementshoofd", Some("burgerzaken"));
    assert!(city.ok(&["inbox", &head], later).contains(&escalated));
    let before_fresh = city.ok(&["doc", "show", &fresh, "--as", &uploader], later);

    let org = new_org("split");
    let refused = city.run(&["org", "deploy", org.to_str().unwrap()], later);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(err.contains("burgerzaken"), "{err}");

    // The plan `org migrate --plan` writes for this change.
    let project = city.dir.join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &project);
    std::fs::copy(&org, project.join("new-org.toml")).unwrap();
    let new = project.join("new-org.toml");
    city.ok(
        &[
            "org",
            "migrate",
            "--plan",
            new.to_str().unwrap(),
            project.to_str().unwrap(),
        ],
        later,
    );
    let plan = project.join("migration.toml");
    let diff = city.ok(
        &[
            "org",
            "diff",
            "@current",
            org.to_str().unwrap(),
            "--tasks",
            "--plan",
            plan.to_str().unwrap(),
        ],
        later,
    );
    assert!(diff.contains("0 without a signer"), "{diff}");
    let out = city.ok(
        &[
            "org",
            "deploy",
            org.to_str().unwrap(),
            "--plan",
            plan.to_str().unwrap(),
        ],
        later,
    );
    assert!(!out.contains("manual queue"), "{out}");
    assert!(
        city.ok(&["inbox", &head], later).contains(&escalated),
        "{out}"
    );
    let after_fresh = city.ok(&["doc", "show", &fresh, "--as", &uploader], later);
    let signers = |s: &str| {
        s.lines()
            .filter(|l| l.contains("open"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(signers(&before_fresh).len(), 2, "{before_fresh}");
    assert_eq!(signers(&after_fresh), signers(&before_fresh));
    city.ok(&["doc", "sign", &escalated, "--as", &head], later);
    assert!(city.ok(&["audit", "verify"], later).starts_with("ok:"));
}

#[test]
fn a_renamed_function_needs_the_plan_or_is_refused() {
    let city = support::City::aalst("restructure-rename-runtime");
    let now = "2026-11-23";
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let doc = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Aankoop",
            "bedrag=9000",
        ],
        now,
    );
    let org = new_org("rename-function");
    // Without the plan the deployed flows name a function that no longer exists.
    let o = city.run(&["org", "deploy", org.to_str().unwrap()], now);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("function `diensthoofd`") && err.contains("nothing was deployed"),
        "{err}"
    );
    // With the plan: deployed, nothing moves (the same people hold the renamed function),
    // and the document goes on through the renamed function.
    let plan = city.dir.join("migration.toml");
    std::fs::write(
        &plan,
        aalst_plan(
            &city,
            "organogram = \"new.toml\"\n[rename]\n\"diensthoofd\" = \"hoofd-van-dienst\"\n",
        ),
    )
    .unwrap();
    let out = city.ok(
        &[
            "org",
            "deploy",
            org.to_str().unwrap(),
            "--plan",
            plan.to_str().unwrap(),
        ],
        now,
    );
    assert!(out.contains("0 tasks moved"), "{out}");
    assert!(city.ok(&["inbox", "dirk-lambert"], now).contains(&doc));
    city.ok(&["doc", "sign", &doc, "--as", "dirk-lambert"], now);
    // A new document routes through the renamed function too.
    let doc2 = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Tweede",
            "bedrag=10",
        ],
        now,
    );
    assert!(city.ok(&["inbox", "dirk-lambert"], now).contains(&doc2));
}

#[test]
fn merged_services_take_over_the_tasks_in_flight() {
    let city = support::City::aalst("restructure-merge-runtime");
    let now = "2026-11-23";
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let doc = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Loketten",
            "bedrag=100",
        ],
        now,
    );
    // A document of Burgerlijke Stand, which no flow names by id: only its field does.
    let civil = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=burgerlijke-stand",
            "bron=notula",
            "titel=Huwelijken",
            "bedrag=100",
        ],
        now,
    );
    // The administrator's path, untouched: the project, the new export, the generated plan.
    let project = city.dir.join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &project);
    std::fs::copy(new_org("merge"), project.join("new-org.toml")).unwrap();
    let org = project.join("new-org.toml");
    city.ok(
        &[
            "org",
            "migrate",
            "--plan",
            org.to_str().unwrap(),
            project.to_str().unwrap(),
        ],
        now,
    );
    let plan = project.join("migration.toml");
    let text = std::fs::read_to_string(&plan).unwrap();
    assert!(text.contains("\"burgerlijke-stand\" = \"loket\""), "{text}");
    let dry = city.ok(
        &[
            "org",
            "deploy",
            org.to_str().unwrap(),
            "--plan",
            plan.to_str().unwrap(),
            "--dry-run",
        ],
        now,
    );
    assert!(
        dry.contains("would deploy") && !dry.contains("nobody"),
        "{dry}"
    );
    // `org diff` against the version in force lists the same open tasks.
    let diff = city.ok(
        &[
            "org",
            "diff",
            "@current",
            org.to_str().unwrap(),
            "--tasks",
            "--plan",
            plan.to_str().unwrap(),
        ],
        now,
    );
    assert!(diff.contains("2 tasks would move"), "{diff}");
    assert!(
        diff.contains(&civil) && diff.contains("nothing was changed"),
        "{diff}"
    );
    let json: serde_json::Value = serde_json::from_str(&city.ok(
        &[
            "org",
            "diff",
            "@current",
            org.to_str().unwrap(),
            "--tasks",
            "--plan",
            plan.to_str().unwrap(),
            "--format",
            "json",
        ],
        now,
    ))
    .unwrap();
    assert_eq!(
        json["open_tasks"]["moved"].as_array().unwrap().len(),
        2,
        "{json}"
    );
    let out = city.ok(
        &[
            "org",
            "deploy",
            org.to_str().unwrap(),
            "--plan",
            plan.to_str().unwrap(),
        ],
        now,
    );
    // The tasks of `diensthoofd of bevolking` and of burgerlijke stand now go to the
    // heads of the merged service: the head of Bevolking and the head of Burgerlijke Stand.
    assert!(out.contains("2 tasks moved"), "{out}");
    assert!(!out.contains("nobody"), "{out}");
    for head in ["dirk-lambert", "katrien-van-den-broeck"] {
        let inbox = city.ok(&["inbox", head], now);
        assert!(
            inbox.contains(&civil) && inbox.contains("of loket"),
            "{head}: {inbox}"
        );
    }
    // The flows rewritten by the same plan deploy on the organogram in force; a project
    // still compiled against the old organogram would put it back and is refused.
    let stale = city.run(&["deploy", "examples/aalst"], now);
    assert!(!stale.status.success());
    assert!(String::from_utf8_lossy(&stale.stderr).contains("organogram version 1 in force"));
    city.ok(
        &["org", "migrate", "--apply", project.to_str().unwrap()],
        now,
    );
    city.ok(&["deploy", project.to_str().unwrap()], now);
    assert!(city.ok(&["inbox", "dirk-lambert"], now).contains(&doc));
    assert!(
        city.ok(&["inbox", "katrien-van-den-broeck"], now)
            .contains(&doc)
    );
    // The deployed version diffs as its file does.
    let original = support::root().join("examples/aalst/org.toml");
    let from_files = city.ok(
        &[
            "org",
            "diff",
            original.to_str().unwrap(),
            org.to_str().unwrap(),
        ],
        now,
    );
    let from_db = city.ok(&["org", "diff", original.to_str().unwrap(), "@1"], now);
    let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&from_db), body(&from_files));
    assert!(from_db.contains("removed  unit"), "{from_db}");
    assert!(
        city.ok(&["org", "diff", "@1", "@current"], now)
            .contains("0 renamed, 0 removed, 0 added")
    );
    let missing = city.run(&["org", "diff", "@7", "@current"], now);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("version 7 was never deployed"));
    let log = city.ok(&["log", "--as", "katrien-van-den-broeck"], now);
    assert!(log.contains("\"task_moved\""), "{log}");
    city.ok(
        &["doc", "sign", &doc, "--as", "katrien-van-den-broeck"],
        now,
    );
}

/// Removes the `[[people]]` block of `id` from an organogram's TOML.
fn without_person(org: &str, id: &str) -> String {
    let at = org.find(&format!("id = \"{id}\"")).unwrap();
    let start = org[..at].rfind("[[people]]").unwrap();
    let end = org[at..].find("[[people]]").map_or(org.len(), |e| at + e);
    format!("{}{}", &org[..start], &org[end..])
}

/// An escalated task keeps whom it was escalated to across an organogram change, and
/// loses them once they leave: nobody who left the city signs it again (also not after a
/// later absence re-routes it).
#[test]
fn escalations_survive_an_organogram_change_until_the_person_leaves() {
    let city = support::City::aalst("restructure-escalated");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let doc = city.submit(
        "attest",
        &uploader,
        &["soort=gezinssamenstelling", "aanvrager=Jan Janssens"],
        "2026-11-23",
    );
    // Two workdays later nobody signed: escalated to the head of the department.
    let later = "2026-11-26";
    city.ok(&["tick"], later);
    let escalated_to = city.function("departementshoofd", Some("burgerzaken"));
    assert!(city.ok(&["inbox", &escalated_to], later).contains(&doc));

    // The head of Bevolking leaves (the leaver fixture): the holders change, the
    // escalation stays.
    let out = city.ok(
        &["org", "deploy", new_org("leaver").to_str().unwrap()],
        later,
    );
    assert!(out.contains(&format!("{doc} ")), "{out}");
    assert!(
        city.ok(&["inbox", &escalated_to], later).contains(&doc),
        "{out}"
    );
    assert!(city.ok(&["inbox", "sara-nieuwe"], later).contains(&doc));
    assert!(
        !city
            .run(&["doc", "sign", &doc, "--as", "dirk-lambert"], later)
            .status
            .success()
    );

    // Now the person it was escalated to leaves too.
    let next = city.dir.join("without-escalation-target.toml");
    let text = std::fs::read_to_string(new_org("leaver")).unwrap();
    std::fs::write(&next, without_person(&text, &escalated_to)).unwrap();
    let out = city.ok(&["org", "deploy", next.to_str().unwrap()], later);
    // Both signatures of the `any` step had been escalated to them.
    assert!(out.contains("2 tasks moved"), "{out}");
    assert!(
        out.contains(&format!("{escalated_to} no longer asked")),
        "{out}"
    );
    let log = city.ok(&["log", "--as", "sara-nieuwe"], later);
    assert!(log.contains("organogram version 2"), "{log}");
    // A later absence re-routes every open task: the one who left does not come back.
    city.ok(
        &[
            "absence",
            "add",
            "sara-nieuwe",
            "--from",
            "2026-11-26",
            "--to",
            "2026-11-30",
        ],
        later,
    );
    let show = city.ok(&["doc", "show", &doc, "--as", &uploader], later);
    assert!(!show.contains(&escalated_to), "{show}");
    let o = city.run(&["doc", "sign", &doc, "--as", &escalated_to], later);
    assert!(
        !o.status.success(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// Shielding across organogram changes: a change that would take a shielded kind's
/// signers out of its group is refused, `--force` included; a signer who moves out of
/// the group loses the file in flight, which waits in the manual queue (with `--force`,
/// after the deploy listed it) and is seen by nobody outside.
#[test]
fn organogram_changes_never_leave_a_shielded_group() {
    let city = support::City::aalst("restructure-shield");
    let now = "2026-11-23";
    let worker = city.staff("sociale-zaken", "maatschappelijk-werker")[0].clone();
    let coach = city.function("teamcoach", Some("inkomen"));
    assert_eq!(coach, "dirk-claes");
    let doc = city.submit(
        "sociaal-dossier",
        &worker,
        &["team=inkomen", "dossiernummer=LL-2026-0042"],
        now,
    );
    let org = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();

    // Team Inkomen moves under Bevolking: the flow's signer leaves the group.
    let moved_team = city.dir.join("inkomen-moved.toml");
    std::fs::write(
        &moved_team,
        org.replacen(
            "id = \"inkomen\"\nname = \"Inkomen\"\nkind = \"team\"\nparent = \"sociale-zaken\"",
            "id = \"inkomen\"\nname = \"Inkomen\"\nkind = \"team\"\nparent = \"bevolking\"",
            1,
        ),
    )
    .unwrap();
    for extra in [None, Some("--force")] {
        let mut args = vec!["org", "deploy", moved_team.to_str().unwrap()];
        args.extend(extra);
        let o = city.run(&args, now);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert!(
            err.contains("breaks the shielding") && err.contains("nothing was deployed"),
            "{err}"
        );
    }

    // The team coach moves to Bevolking: nobody holds the step now.
    let moved_person = city.dir.join("coach-moved.toml");
    let at = org.find("id = \"dirk-claes\"").unwrap();
    let mut text = org.clone();
    text.replace_range(
        at..,
        &org[at..].replacen(
            "function = \"teamcoach\"\nunit = \"inkomen\"",
            "function = \"teamcoach\"\nunit = \"bevolking\"",
            1,
        ),
    );
    std::fs::write(&moved_person, &text).unwrap();
    let o = city.run(&["org", "deploy", moved_person.to_str().unwrap()], now);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("without a signer") && err.contains(&doc),
        "{err}"
    );
    let out = city.ok(
        &["org", "deploy", moved_person.to_str().unwrap(), "--force"],
        now,
    );
    assert!(out.contains("without a signer (manual queue)"), "{out}");
    // The coach who left the group neither sees nor signs the file; it waits, with the
    // reason, for someone inside.
    assert_eq!(
        city.refused(&["doc", "show", &doc, "--as", &coach], now),
        "error: no such document"
    );
    assert!(!city.ok(&["inbox", &coach], now).contains(&doc));
    let show = city.ok(&["doc", "show", &doc, "--as", &worker], now);
    assert!(
        show.contains("manual queue") || show.contains("nobody"),
        "{show}"
    );
}

/// The deploy check covers every place a flow names the organogram, not only step
/// signers: an escalation target, a group and a substitute rule here.
#[test]
fn every_use_of_a_renamed_function_is_checked() {
    let city = support::City::aalst("restructure-every-use");
    let org = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    let renamed = city.dir.join("adjunct.toml");
    std::fs::write(
        &renamed,
        org.replace("\"adjunct-algemeen-directeur\"", "\"adjunct-directeur\""),
    )
    .unwrap();
    let o = city.run(&["org", "deploy", renamed.to_str().unwrap()], "2026-11-23");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    for place in [
        "escalates to function `adjunct-algemeen-directeur`",
        "group `tucht` holds function `adjunct-algemeen-directeur`",
        "a substitute rule names function `adjunct-algemeen-directeur`",
    ] {
        assert!(err.contains(place), "{place}: {err}");
    }
}

/// A plan that leaves a name out: `migrate --apply` checks the result first, lists the
/// errors and writes nothing; `--force` writes it and says what is left.
#[test]
fn an_incomplete_plan_writes_nothing() {
    let dir = support::tempdir("restructure-incomplete").join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    std::fs::copy(new_org("rename-function"), dir.join("new-org.toml")).unwrap();
    let (code, out) = paraaf(&dir, &["org", "migrate", "--plan", "new-org.toml", "."]);
    assert_eq!(code, 0, "{out}");
    let plan = dir.join("migration.toml");
    let text = std::fs::read_to_string(&plan).unwrap();
    std::fs::write(
        &plan,
        text.lines()
            .filter(|l| !l.starts_with("\"diensthoofd\""))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let snapshot = |d: &Path| -> Vec<(PathBuf, String)> {
        let mut v: Vec<(PathBuf, String)> = std::fs::read_dir(d.join("flows"))
            .unwrap()
            .flatten()
            .map(|e| (e.path(), std::fs::read_to_string(e.path()).unwrap()))
            .collect();
        v.push((
            d.join("org.toml"),
            std::fs::read_to_string(d.join("org.toml")).unwrap(),
        ));
        v.sort();
        v
    };
    let before = snapshot(&dir);
    let (code, out) = paraaf(&dir, &["org", "migrate", "--apply", "."]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("diensthoofd") && out.contains("nothing was written"),
        "{out}"
    );
    assert_eq!(snapshot(&dir), before, "nothing changed");
    let (code, out) = paraaf(&dir, &["org", "migrate", "--apply", "--force", "."]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("installed new-org.toml") && out.contains("left: fix them by hand"),
        "{out}"
    );
    assert_ne!(snapshot(&dir), before);
}

/// A person who only gets a new id (the plan renames them) keeps their absence under
/// it: the old absence is withdrawn with the reason and the same days are recorded for
/// the new id; substitutes still stand in.
#[test]
fn an_absence_follows_a_renamed_person() {
    let city = support::City::aalst("restructure-absence-rename");
    let now = "2026-11-23";
    let mayor = city.mandate("burgemeester");
    let a = city.ok(
        &[
            "absence",
            "add",
            &mayor,
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-27",
        ],
        now,
    );
    assert!(a.contains("a-1"), "{a}");
    let renamed = format!("{mayor}-2");
    let org = city.dir.join("renamed-mayor.toml");
    let text = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    std::fs::write(
        &org,
        text.replace(&format!("id = \"{mayor}\""), &format!("id = \"{renamed}\"")),
    )
    .unwrap();
    let plan = city.dir.join("migration.toml");
    std::fs::write(
        &plan,
        aalst_plan(
            &city,
            &format!(
                "organogram = \"renamed-mayor.toml\"\n\n[rename]\n\"{mayor}\" = \"{renamed}\"\n"
            ),
        ),
    )
    .unwrap();
    let out = city.ok(
        &[
            "org",
            "deploy",
            org.to_str().unwrap(),
            "--plan",
            plan.to_str().unwrap(),
        ],
        now,
    );
    assert!(
        out.contains(&format!(
            "absence moved: a-1 of {mayor} is a-2 of {renamed}"
        )),
        "{out}"
    );
    assert!(!out.contains("absence ended"), "{out}");
    let log = city.ok(&["log", "--as", &renamed], now);
    assert!(log.contains(&format!("{mayor} is now {renamed}")), "{log}");
    assert!(
        !city
            .run(&["absence", "withdraw", "a-1"], now)
            .status
            .success()
    );
    city.ok(&["absence", "withdraw", "a-2"], now);
}

/// A plan line must rename an id that is gone to one that is there: renaming the
/// personnel service (still in the organogram) to communication would hand its
/// discipline files to another service. Such plans, and ones naming unknown ids, are
/// refused and nothing changes.
#[test]
fn a_plan_may_not_rename_what_still_exists() {
    let city = support::City::aalst("restructure-bad-plan");
    let now = "2026-11-23";
    let org = support::root().join("examples/aalst/org.toml");
    let events = city.events();
    for (line, why) in [
        ("\"personeel\" = \"communicatie\"", "still has `personeel`"),
        ("\"zzz\" = \"communicatie\"", "has no `zzz`"),
        ("\"burgerzaken\" = \"zzz\"", "still has `burgerzaken`"),
    ] {
        let plan = city.dir.join("bad-plan.toml");
        std::fs::write(
            &plan,
            aalst_plan(
                &city,
                &format!("organogram = \"org.toml\"\n\n[rename]\n{line}\n"),
            ),
        )
        .unwrap();
        for dry in [true, false] {
            let mut args = vec![
                "org",
                "deploy",
                org.to_str().unwrap(),
                "--plan",
                plan.to_str().unwrap(),
            ];
            if dry {
                args.push("--dry-run");
            }
            let o = city.run(&args, now);
            let err = String::from_utf8_lossy(&o.stderr).to_string();
            assert!(!o.status.success(), "{line}: {err}");
            assert!(
                err.contains(why) && err.contains("nothing was deployed"),
                "{line}: {err}"
            );
        }
    }
    assert_eq!(city.events(), events);
}

/// A task that signs by a person field (`sign medewerker`) follows the person: renamed
/// by the plan, the field and the task move to the new id; gone from the organogram,
/// the deploy is refused (the task would have nobody) unless --force, which queues it.
#[test]
fn a_person_field_follows_the_person() {
    let city = support::City::aalst("restructure-person-field");
    let now = "2026-11-23";
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let worker = city.staff("bevolking", "diensthoofd")[1].clone();
    let doc = city.submit(
        "evaluatie",
        &uploader,
        &["dienst=bevolking", &format!("medewerker={worker}")],
        now,
    );
    let head = city.function("diensthoofd", Some("bevolking"));
    city.ok(&["doc", "sign", &doc, "--as", &head], now);
    assert!(city.ok(&["inbox", &worker], now).contains(&doc));
    let text = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    // Gone: refused, then forced into the manual queue.
    let gone = city.dir.join("without-worker.toml");
    std::fs::write(&gone, without_person(&text, &worker)).unwrap();
    let o = city.run(&["org", "deploy", gone.to_str().unwrap(), "--dry-run"], now);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains(&format!("field `medewerker` names person `{worker}`")),
        "{err}"
    );
    // Renamed: the task goes to the new id.
    let renamed = format!("{worker}-2");
    let org = city.dir.join("renamed-worker.toml");
    std::fs::write(
        &org,
        text.replace(
            &format!("id = \"{worker}\""),
            &format!("id = \"{renamed}\""),
        ),
    )
    .unwrap();
    let plan = city.dir.join("plan.toml");
    std::fs::write(
        &plan,
        aalst_plan(
            &city,
            &format!(
                "organogram = \"renamed-worker.toml\"\n\n[rename]\n\"{worker}\" = \"{renamed}\"\n"
            ),
        ),
    )
    .unwrap();
    let out = city.ok(
        &[
            "org",
            "deploy",
            org.to_str().unwrap(),
            "--plan",
            plan.to_str().unwrap(),
        ],
        now,
    );
    // The same person under a new id: the task goes with them (the fold carries it),
    // only its label is new.
    assert!(out.contains(&format!("{worker} is now {renamed}")), "{out}");
    assert!(city.ok(&["inbox", &renamed], now).contains(&doc), "{out}");
    city.ok(&["doc", "sign", &doc, "--as", &renamed], now);
}

/// Sociale Zaken merged into Zorg: the new organogram with `sociale-zaken` gone, its teams
/// and people under Zorg.
fn social_merged_into_care(org: &str) -> String {
    org.replace(&unit_block(org, "sociale-zaken"), "")
        .replace("parent = \"sociale-zaken\"", "parent = \"zorg\"")
        .replace("unit = \"sociale-zaken\"", "unit = \"zorg\"")
}

/// A plan that maps a shielded group's unit onto a larger one lets more people see its
/// files: `migrate --plan` leaves the consent open, `--apply` and `org deploy` refuse it
/// (also with --force) until the plan gives the reason, and the audit log records it.
#[test]
fn a_plan_that_widens_a_shield_needs_a_reason() {
    let city = support::City::aalst("restructure-widen");
    let now = "2026-11-23";
    let worker = city.staff("sociale-zaken", "maatschappelijk-werker")[0].clone();
    let doc = city.submit(
        "sociaal-dossier",
        &worker,
        &["team=inkomen", "dossiernummer=LL-2026-0042"],
        now,
    );
    let care = city.staff("zorg", "diensthoofd")[0].clone();
    let project = city.dir.join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &project);
    let org = std::fs::read_to_string(project.join("org.toml")).unwrap();
    std::fs::write(project.join("new-org.toml"), social_merged_into_care(&org)).unwrap();
    let new_org = project.join("new-org.toml");
    let p = project.to_str().unwrap();
    let out = city.ok(
        &["org", "migrate", "--plan", new_org.to_str().unwrap(), p],
        now,
    );
    assert!(out.contains("would admit more people"), "{out}");
    let plan_path = project.join("migration.toml");
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    assert!(plan.contains("\"sociale-zaken\" = \"zorg\""), "{plan}");
    assert!(plan.contains("[widen]\n\"sociale-zaken\" = \"\""), "{plan}");
    assert!(plan.contains(&care), "the newcomers are named:\n{plan}");

    let flows_before = std::fs::read_to_string(project.join("flows/social.paraaf")).unwrap();
    for extra in [None, Some("--force")] {
        let mut args = vec!["org", "migrate", "--apply", p];
        args.extend(extra);
        let o = city.run(&args, now);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {out}");
        assert!(
            out.contains("shielded group `sociale-zaken` would admit")
                && out.contains(&care)
                && out.contains("nothing was written"),
            "{out}"
        );
        assert_eq!(
            std::fs::read_to_string(project.join("flows/social.paraaf")).unwrap(),
            flows_before
        );
    }
    // The running city refuses the same plan, also with --force, and changes nothing.
    let events = city.events();
    for extra in [None, Some("--force")] {
        let mut args = vec![
            "org",
            "deploy",
            new_org.to_str().unwrap(),
            "--plan",
            plan_path.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = city.run(&args, now);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert!(
            err.contains("widens the shielded group `sociale-zaken`") && err.contains(&care),
            "{err}"
        );
    }
    assert_eq!(city.events(), events);
    assert_eq!(
        city.refused(&["doc", "show", &doc, "--as", &care], now),
        "error: no such document"
    );

    // A reason that says nothing is no reason: refused by both, with what to write.
    for placeholder in [
        "x",
        "ok",
        "todo",
        "-",
        "reden",
        "  ",
        "ok ok ok",
        "zie later",
    ] {
        std::fs::write(
            &plan_path,
            plan.replace(
                "[widen]\n\"sociale-zaken\" = \"\"",
                &format!("[widen]\n\"sociale-zaken\" = \"{placeholder}\""),
            ),
        )
        .unwrap();
        let o = city.run(&["org", "migrate", "--apply", p], now);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{placeholder:?}: {out}");
        assert!(
            out.contains("nothing was written")
                && (out.contains("says nothing") || out.contains("is empty")),
            "{placeholder:?}: {out}"
        );
        let o = city.run(
            &[
                "org",
                "deploy",
                new_org.to_str().unwrap(),
                "--plan",
                plan_path.to_str().unwrap(),
            ],
            now,
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{placeholder:?}");
        assert!(
            err.contains("widens the shielded group `sociale-zaken`")
                && (err.contains("says nothing") || err.contains("is empty")),
            "{placeholder:?}: {err}"
        );
    }
    assert_eq!(city.events(), events);
    assert_eq!(
        std::fs::read_to_string(project.join("flows/social.paraaf")).unwrap(),
        flows_before
    );

    // With the reason, both go ahead; the audit log keeps who was admitted and why.
    std::fs::write(
        &plan_path,
        plan.replace(
            "[widen]\n\"sociale-zaken\" = \"\"",
            "[widen]\n\"sociale-zaken\" = \"Zorg en Sociale Zaken zijn één dienst (collegebesluit 2026-11-20)\"",
        ),
    )
    .unwrap();
    let out = city.ok(&["org", "migrate", "--apply", p], now);
    assert!(
        out.contains("checks clean") && out.contains("note: shielded group"),
        "{out}"
    );
    assert!(
        std::fs::read_to_string(project.join("flows/social.paraaf"))
            .unwrap()
            .contains("group sociale-zaken = unit zorg shielded")
    );
    let out = city.ok(
        &[
            "org",
            "deploy",
            new_org.to_str().unwrap(),
            "--plan",
            plan_path.to_str().unwrap(),
        ],
        now,
    );
    assert!(
        out.contains("shield widened: `sociale-zaken` admits"),
        "{out}"
    );
    let log = city.ok(&["log", "--as", &worker], now);
    assert!(
        log.contains("shielded group sociale-zaken widened to admit")
            && log.contains(&care)
            && log.contains("collegebesluit 2026-11-20"),
        "{log}"
    );
    // Zorg is inside the shield now, as consented.
    assert!(
        city.ok(&["doc", "show", &doc, "--as", &care], now)
            .contains(&doc)
    );
}

/// An escalation to a role nobody holds is not lost: it is recorded once with the
/// reason, shown on the document, the task stays with its signers, and it escalates at
/// the first tick after someone holds the role again.
#[test]
fn an_escalation_to_a_vacant_role_waits_for_a_holder() {
    let city = support::City::aalst("restructure-vacant-escalation");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let head = city.function("departementshoofd", Some("burgerzaken"));
    let doc = city.submit(
        "attest",
        &uploader,
        &["soort=gezinssamenstelling", "aanvrager=Jan Janssens"],
        "2026-11-23",
    );
    let now = "2026-11-24";
    let org = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    let vacant = city.dir.join("vacant.toml");
    std::fs::write(&vacant, without_person(&org, &head)).unwrap();
    city.ok(&["org", "deploy", vacant.to_str().unwrap()], now);

    let later = "2026-11-26";
    city.ok(&["tick"], later);
    let show = city.ok(&["doc", "show", &doc, "--as", &uploader], later);
    assert!(
        show.contains(
            "escalation waits: the escalation to departementshoofd of burgerzaken found nobody"
        ) && show.contains("nobody holds"),
        "{show}"
    );
    let events = city.events();
    city.ok(&["tick"], "2026-11-27");
    assert_eq!(city.events(), events, "said once, not at every tick");
    // The signers keep the task meanwhile.
    let signer = city.function("diensthoofd", Some("bevolking"));
    assert!(city.ok(&["inbox", &signer], later).contains(&doc));

    // The head is back (a return the administrator confirms by their HR key): the next
    // tick escalates to them.
    let block = &org[org.find(&format!("id = \"{head}\"")).unwrap()..];
    let key = block["key = \"".len() + block.find("key = \"").unwrap()..]
        .split('"')
        .next()
        .unwrap();
    let back = support::root().join("examples/aalst/org.toml");
    city.ok(
        &["org", "deploy", back.to_str().unwrap(), "--returning", key],
        "2026-11-27",
    );
    city.ok(&["tick"], "2026-11-27");
    assert!(city.ok(&["inbox", &head], "2026-11-27").contains(&doc));
    let show = city.ok(&["doc", "show", &doc, "--as", &uploader], "2026-11-27");
    assert!(!show.contains("escalation waits"), "{show}");
}

/// The Aalst organogram with `diensthoofd` renamed `hoofd-van-dienst` (as
/// `rename_a_function`), written to `path`.
fn write_renamed_function(path: &Path) -> PathBuf {
    let org = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    std::fs::write(
        path,
        org.replace("id = \"diensthoofd\"", "id = \"hoofd-van-dienst\"")
            .replace(
                "function = \"diensthoofd\"",
                "function = \"hoofd-van-dienst\"",
            ),
    )
    .unwrap();
    path.to_path_buf()
}

/// Every file below `dir` (relative path → bytes).
fn files_below(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// A plan is made for one project and the organogram it had then: Hasselt refuses
/// Aalst's plan (it installed Aalst's organogram into Hasselt, which then checked clean),
/// Aalst refuses its own plan once its organogram changed, a hand-written absolute path
/// or a plan that names no project; the new organogram is named relative to the project,
/// so the plan still holds when the folder moves; applied twice, nothing happens.
#[test]
fn a_plan_is_bound_to_its_project_and_organogram() {
    let dir = support::tempdir("restructure-bound");
    support::copy_dir(&support::root().join("examples/aalst"), &dir.join("aalst"));
    support::copy_dir(
        &support::root().join("examples/hasselt"),
        &dir.join("hasselt"),
    );
    std::fs::create_dir_all(dir.join("gedeeld")).unwrap();
    std::fs::copy(new_org("merge"), dir.join("gedeeld/new-org.toml")).unwrap();
    let (code, out) = paraaf(
        &dir,
        &["org", "migrate", "--plan", "gedeeld/new-org.toml", "aalst"],
    );
    assert_eq!(code, 0, "{out}");
    let plan_path = dir.join("aalst/migration.toml");
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    assert!(
        plan.contains("organogram = \"../gedeeld/new-org.toml\"\n")
            && plan.contains("project = \"aalst\"\n")
            && plan.contains("city = \"Aalst\"\n")
            && plan.contains("made_against = \""),
        "{plan}"
    );
    assert!(!plan.contains(dir.to_str().unwrap()), "{plan}");

    // Hasselt refuses it, named with --file or as its own migration.toml.
    let hasselt = files_below(&dir.join("hasselt"));
    let (code, out) = paraaf(
        &dir,
        &[
            "org",
            "migrate",
            "--apply",
            "hasselt",
            "--file",
            "aalst/migration.toml",
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("made for project `aalst` (Aalst), not for `hasselt` (Hasselt)")
            && out.contains("paraaf org migrate --plan")
            && out.contains("nothing was written"),
        "{out}"
    );
    assert_eq!(files_below(&dir.join("hasselt")), hasselt);
    std::fs::copy(&plan_path, dir.join("hasselt/migration.toml")).unwrap();
    let (code, out) = paraaf(&dir, &["org", "migrate", "--apply", "hasselt"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("made for project `aalst`"), "{out}");
    let (code, out) = paraaf(&dir, &["check", "hasselt"]);
    assert_eq!(code, 0, "{out}");

    // Aalst's organogram changed after the plan was made: the plan is stale.
    let aalst = files_below(&dir.join("aalst"));
    let org = std::fs::read_to_string(dir.join("aalst/org.toml")).unwrap();
    std::fs::write(
        dir.join("aalst/org.toml"),
        org.replace("name = \"Bevolking\"", "name = \"Dienst Bevolking\""),
    )
    .unwrap();
    let (code, out) = paraaf(&dir, &["org", "migrate", "--apply", "aalst"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("made against another organogram")
            && out.contains("paraaf org migrate --plan"),
        "{out}"
    );
    std::fs::write(dir.join("aalst/org.toml"), &org).unwrap();
    assert_eq!(files_below(&dir.join("aalst")), aalst);

    // An absolute path, and a plan that does not say what it was made for.
    let absolute = dir.join("gedeeld/new-org.toml");
    for (text, why) in [
        (
            plan.replace(
                "\"../gedeeld/new-org.toml\"",
                &format!("{:?}", absolute.to_str().unwrap()),
            ),
            "is an absolute path",
        ),
        (
            plan.lines()
                .filter(|l| !l.starts_with("made_against") && !l.starts_with("city"))
                .collect::<Vec<_>>()
                .join("\n"),
            "does not say which project and organogram",
        ),
    ] {
        std::fs::write(&plan_path, text).unwrap();
        let (code, out) = paraaf(&dir, &["org", "migrate", "--apply", "aalst"]);
        assert_ne!(code, 0, "{out}");
        assert!(out.contains(why), "{out}");
    }
    std::fs::write(&plan_path, &plan).unwrap();
    assert_eq!(files_below(&dir.join("aalst")), aalst);

    // The folder moves (another checkout): the plan still names the same organogram.
    let moved = support::tempdir("restructure-bound-moved");
    std::fs::remove_dir_all(&moved).unwrap();
    std::fs::rename(&dir, &moved).unwrap();
    let (code, out) = paraaf(&moved, &["org", "migrate", "--apply", "aalst"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checks clean"), "{out}");
    assert_eq!(
        std::fs::read_to_string(moved.join("aalst/org.toml")).unwrap(),
        std::fs::read_to_string(new_org("merge")).unwrap()
    );
    let applied = files_below(&moved.join("aalst"));
    let (code, out) = paraaf(&moved, &["org", "migrate", "--apply", "aalst"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("applied already"), "{out}");
    assert_eq!(files_below(&moved.join("aalst")), applied);
}

/// `org deploy --plan` takes only a plan of this city made against the organogram in
/// force; the same organogram and plan twice record one version (the second says so);
/// `paraaf log` shows the renames a version was deployed with.
#[test]
fn org_deploy_takes_a_current_plan_of_this_city_once() {
    let city = support::City::aalst("restructure-deploy-bound");
    let now = "2026-11-23";
    // Hasselt's plan (for its own organogram, unchanged).
    let hasselt = city.dir.join("hasselt");
    support::copy_dir(&support::root().join("examples/hasselt"), &hasselt);
    let h = hasselt.to_str().unwrap();
    city.ok(
        &["org", "migrate", "--plan", &format!("{h}/org.toml"), h],
        now,
    );
    // Aalst's plans: the function renamed, and (made at the same time) the leaver.
    let aalst = city.dir.join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &aalst);
    let a = aalst.to_str().unwrap();
    let renamed = write_renamed_function(&city.dir.join("renamed-function.toml"));
    let leaver = city.dir.join("leaver.toml");
    let org = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    let head = city.function("diensthoofd", Some("bevolking"));
    std::fs::write(&leaver, without_person(&org, &head)).unwrap();
    let rename_plan = aalst.join("rename.toml");
    let leaver_plan = aalst.join("leaver.toml");
    for (org, plan) in [(&renamed, &rename_plan), (&leaver, &leaver_plan)] {
        city.ok(
            &[
                "org",
                "migrate",
                "--plan",
                org.to_str().unwrap(),
                a,
                "--file",
                plan.to_str().unwrap(),
            ],
            now,
        );
    }
    let events = city.events();
    let deploy = |org: &Path, plan: &Path| {
        city.run(
            &[
                "org",
                "deploy",
                org.to_str().unwrap(),
                "--plan",
                plan.to_str().unwrap(),
            ],
            now,
        )
    };
    let o = deploy(&renamed, &hasselt.join("migration.toml"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("made for project `hasselt` (Hasselt)")
            && err.contains("paraaf org migrate --plan")
            && err.contains("nothing was deployed"),
        "{err}"
    );
    assert_eq!(city.events(), events);

    let o = deploy(&renamed, &rename_plan);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("deployed organogram version 1"), "{out}");
    let events = city.events();
    // Twice: nothing recorded, and said so (with or without the plan).
    let o = deploy(&renamed, &rename_plan);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("organogram version 1 in force is this organogram already")
            && out.contains("nothing was recorded"),
        "{out}"
    );
    let out = city.ok(&["org", "deploy", renamed.to_str().unwrap()], now);
    assert!(out.contains("nothing was recorded"), "{out}");
    assert_eq!(city.events(), events);
    let log = city.ok(&["log", "--as", "dirk-lambert"], now);
    assert!(
        log.contains("organogram version 1 deployed")
            && log.contains("renamed diensthoofd → hoofd-van-dienst")
            && !log.contains("organogram version 2"),
        "{log}"
    );

    // The leaver's plan was made against version 0: stale now.
    let o = deploy(&leaver, &leaver_plan);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("made against another organogram")
            && err.contains("paraaf org migrate --plan")
            && err.contains("organogram version 1 is in force"),
        "{err}"
    );
    assert_eq!(city.events(), events);
}

/// `--apply` writes every file or none: killed while the new files are written, the
/// project stays as it was (the next command removes what was left); failing to write
/// one, nothing changes; killed between the renames that install them, the next command
/// completes the migration.
#[test]
fn an_interrupted_apply_leaves_all_files_or_none() {
    let dir = support::tempdir("restructure-atomic").join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    let renamed = write_renamed_function(&dir.join("new-org.toml"));
    let (code, out) = paraaf(&dir, &["org", "migrate", "--plan", "new-org.toml", "."]);
    assert_eq!(code, 0, "{out}");
    let before = files_below(&dir);
    let apply = ["org", "migrate", "--apply", "."];

    let (code, out) = support::paraaf_env(&dir, &apply, &[("PARAAF_CRASH_AT", "write:2")]);
    assert_eq!(code, 137, "{out}");
    assert_ne!(
        files_below(&dir),
        before,
        "the crash left its temporary files"
    );
    let (code, out) = paraaf(&dir, &["check", "."]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rolled back"), "{out}");
    assert_eq!(files_below(&dir), before);

    // A file that cannot be written (a folder where its temporary file goes).
    let blocker = dir.join("org.toml.paraaf-write.tmp");
    std::fs::create_dir(&blocker).unwrap();
    let (code, out) = paraaf(&dir, &apply);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("cannot write the migration"), "{out}");
    std::fs::remove_dir(&blocker).unwrap();
    assert_eq!(files_below(&dir), before);

    // Killed after the commit point, between two renames: half the files are new until
    // the next command, which completes the migration.
    let (code, out) = support::paraaf_env(&dir, &apply, &[("PARAAF_CRASH_AT", "rename:1")]);
    assert_eq!(code, 137, "{out}");
    let (code, out) = paraaf(&dir, &["check", "."]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("completed"), "{out}");
    let after = files_below(&dir);
    assert_eq!(
        after[Path::new("org.toml")],
        std::fs::read(&renamed).unwrap()
    );
    assert!(
        after
            .keys()
            .all(|p| !p.to_string_lossy().contains("paraaf-write")),
        "{:?}",
        after.keys()
    );
    let changed = after
        .iter()
        .filter(|(p, text)| before.get(*p) != Some(*text))
        .count();
    assert!(changed > 2, "{changed} files changed");
    let (code, out) = paraaf(&dir, &["org", "migrate", "--apply", "."]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("applied already"), "{out}");
}

/// A task moved by an organogram change while its holder is absent: the reason names the
/// holder who is away and the substitute who signs now (not only the one who left).
#[test]
fn a_substitute_move_names_the_absent_holder_and_the_substitute() {
    let city = support::City::aalst("restructure-substitute-reason");
    let now = "2026-11-23";
    let mayor = city.mandate("burgemeester");
    let first = city.mandate("schepen-financien");
    let second = city.mandate("schepen-burgerzaken");
    assert_ne!(first, second);
    city.ok(
        &[
            "absence",
            "add",
            &mayor,
            "--from",
            now,
            "--to",
            "2026-12-04",
        ],
        now,
    );
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let doc = city.submit(
        "besluit",
        &uploader,
        &[
            "dienst=bevolking",
            "bron=notula",
            "titel=Aankoop stoelen",
            "bedrag=100",
        ],
        now,
    );
    city.ok(&["doc", "sign", &doc, "--as", "dirk-lambert"], now);
    assert!(city.ok(&["inbox", &first], now).contains(&doc));
    // The first substitute leaves.
    let next = city.dir.join("without-first-substitute.toml");
    let text = std::fs::read_to_string(support::root().join("examples/aalst/org.toml")).unwrap();
    std::fs::write(&next, without_person(&text, &first)).unwrap();
    let out = city.ok(&["org", "deploy", next.to_str().unwrap()], now);
    let reason = format!(
        "{first} no longer asked; burgemeester is held by {mayor}, who is absent: {second} substitutes"
    );
    assert!(
        out.lines().any(|l| l.contains(&doc)
            && l.contains(&format!("{first} → {second}"))
            && l.contains(&reason)),
        "{out}"
    );
    assert!(city.ok(&["inbox", &second], now).contains(&doc));
    let log = city.ok(&["log", "--as", &second], now);
    assert!(
        log.lines()
            .any(|l| l.contains("\"task_moved\"") && l.contains(&reason)),
        "{log}"
    );
}

/// Sociale Zaken split in two (#24, item 6): Welzijn keeps six of its eight members (the
/// diff takes it for a rename, 75% the same members), and the new service Schuldhulp
/// takes two of them and the team Schuldbemiddeling. The shielded group loses them all:
/// `org diff --project`, `org migrate --plan` (a commented section with the choice) and
/// `org deploy --dry-run` (the files in flight each loses, their own uploads apart) say so.
fn social_split(org: &str) -> String {
    let moved = |org: &str, id: &str| {
        let start = org.find(&format!("[[people]]\nid = \"{id}\"\n")).unwrap();
        let end = org[start + 10..]
            .find("\n[[people]]\n")
            .map_or(org.len(), |e| start + 10 + e + 1);
        let block = org[start..end].replace("unit = \"sociale-zaken\"", "unit = \"schuldhulp\"");
        format!("{}{block}{}", &org[..start], &org[end..])
    };
    let org = moved(&moved(org, "koen-dubois"), "griet-de-cock");
    let org = org
        .replace(
            "[[units]]\nid = \"sociale-zaken\"\nname = \"Sociale Zaken\"",
            "[[units]]\nid = \"schuldhulp\"\nname = \"Schuldhulp\"\nkind = \"service\"\nparent = \"samenleving\"\n\n[[units]]\nid = \"welzijn\"\nname = \"Welzijn\"",
        )
        .replace(
            "id = \"schuldbemiddeling\"\nname = \"Schuldbemiddeling\"\nkind = \"team\"\nparent = \"sociale-zaken\"",
            "id = \"schuldbemiddeling\"\nname = \"Schuldbemiddeling\"\nkind = \"team\"\nparent = \"schuldhulp\"",
        );
    org.replace("parent = \"sociale-zaken\"", "parent = \"welzijn\"")
        .replace("unit = \"sociale-zaken\"", "unit = \"welzijn\"")
}

#[test]
fn splitting_the_shielded_service_says_who_leaves_it_and_what_they_lose() {
    let dir = support::tempdir("restructure-social-split").join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    std::fs::write(dir.join("f.pdf"), "%PDF-1.4 dossier").unwrap();
    let org = std::fs::read_to_string(dir.join("org.toml")).unwrap();
    std::fs::write(dir.join("split.toml"), social_split(&org)).unwrap();
    let ok = |args: &[&str]| {
        let (code, out) = paraaf(&dir, args);
        assert_eq!(code, 0, "paraaf {}: {out}", args.join(" "));
        out
    };
    let submit = |who: &str| {
        let out = ok(&[
            "doc",
            "submit",
            "--kind",
            "sociaal-dossier",
            "--as",
            who,
            "--content",
            "f.pdf",
            "--field",
            "team=inkomen",
            "--field",
            "dossiernummer=D1",
            "--db",
            "city.db",
        ]);
        out.split_whitespace()
            .find(|w| w.starts_with("d-"))
            .unwrap()
            .trim_end_matches([':', ','])
            .to_string()
    };
    ok(&["deploy", ".", "--db", "city.db"]);
    let own = submit("koen-dubois");
    let other = submit("dirk-claes");

    let diff = ok(&["org", "diff", "org.toml", "split.toml", "--project", "."]);
    assert!(
        diff.contains("renamed  unit      sociale-zaken → welzijn"),
        "{diff}"
    );
    let shield = diff
        .lines()
        .find(|l| l.contains("SHIELD") && l.contains("sociale-zaken no longer admits"))
        .unwrap_or_else(|| panic!("the diff says nothing of the people leaving: {diff}"));
    assert!(
        shield.contains("koen-dubois") && shield.contains("griet-de-cock"),
        "{shield}"
    );
    assert!(!shield.contains("dirk-claes"), "{shield}");

    ok(&["org", "migrate", "--plan", "split.toml", "."]);
    let plan = std::fs::read_to_string(dir.join("migration.toml")).unwrap();
    assert!(
        plan.contains("# Shielded groups this change keeps people out of")
            && plan.contains("#   `sociale-zaken` loses")
            && plan.contains("koen-dubois")
            && plan.contains("To accept it, leave this as it is. To keep someone inside"),
        "{plan}"
    );

    let dry = ok(&[
        "org",
        "deploy",
        "split.toml",
        "--plan",
        "migration.toml",
        "--dry-run",
        "--db",
        "city.db",
    ]);
    let koen = dry
        .lines()
        .find(|l| l.starts_with("shield narrowed: koen-dubois"))
        .unwrap_or_else(|| panic!("no files listed for koen-dubois: {dry}"));
    assert!(
        koen.contains("2 files in flight")
            && koen.contains(&other)
            && koen.contains(&format!("their own upload: {own}")),
        "{koen}"
    );
    assert!(
        dry.contains("shield narrowed: `sociale-zaken` keeps out"),
        "{dry}"
    );
    // The dry run changed nothing: koen still sees his file.
    let show = ok(&[
        "doc",
        "show",
        &own,
        "--as",
        "koen-dubois",
        "--db",
        "city.db",
    ]);
    assert!(show.contains(&own), "{show}");
    // The same through `org diff --tasks`.
    let tasks = ok(&[
        "org",
        "diff",
        "@current",
        "split.toml",
        "--tasks",
        "--plan",
        "migration.toml",
        "--db",
        "city.db",
    ]);
    assert!(
        tasks.contains("shield would narrow: koen-dubois no longer sees 2 files"),
        "{tasks}"
    );
}

/// The Aalst project with the organogram after restructure `name` beside it and its plan
/// proposed (`org migrate --plan`).
fn planned(name: &str) -> PathBuf {
    let dir = support::tempdir(&format!("restructure-scenarios-{name}")).join("aalst");
    support::copy_dir(&support::root().join("examples/aalst"), &dir);
    std::fs::copy(new_org(name), dir.join("new-org.toml")).unwrap();
    let (code, out) = paraaf(&dir, &["org", "migrate", "--plan", "new-org.toml", "."]);
    assert_eq!(code, 0, "{out}");
    dir
}

/// The migrated project at `dir` with its scenario file as it was before (as `--apply`
/// left it before it rewrote scenarios): `paraaf test` fails there.
fn fails_with_old_scenarios(dir: &Path, old: &str) -> String {
    let copy = dir.with_file_name("old-scenarios");
    support::copy_dir(dir, &copy);
    std::fs::write(copy.join("tests/scenarios.toml"), old).unwrap();
    let (code, out) = paraaf(&copy, &["test", "."]);
    assert_eq!(code, 1, "{out}");
    out
}

/// `org migrate --apply` rewrites the scenario files with the plan it applies to the
/// flows: a merged service's documents name the new service (each line reported, the
/// rest of the file byte for byte); the scenarios that fail afterwards fail on what the
/// merge really changes (two heads of service now), which --apply names.
#[test]
fn migrate_rewrites_the_scenarios_of_a_merge() {
    let dir = planned("merge");
    let before = std::fs::read_to_string(dir.join("tests/scenarios.toml")).unwrap();
    let (code, out) = paraaf(&dir, &["org", "migrate", "--apply", "."]);
    assert_eq!(code, 0, "{out}");
    let after = std::fs::read_to_string(dir.join("tests/scenarios.toml")).unwrap();
    // Only the unit in the `dienst` fields: the scenario named "attest: wie van
    // bevolking eerst kan" keeps its words, comments and layout stay.
    assert_eq!(
        after,
        before.replace("dienst = \"bevolking\"", "dienst = \"loket\""),
    );
    assert!(out.contains("rewrote tests/scenarios.toml\n"), "{out}");
    assert_eq!(
        out.matches("\n    - fields = { dienst = \"bevolking\"")
            .count(),
        before.matches("dienst = \"bevolking\"").count(),
        "{out}"
    );
    assert!(
        out.contains("tests/scenarios.toml:9\n    - fields = { dienst = \"bevolking\", bron = \"notula\", titel = \"Aankoop stoelen\", bedrag = \"8499.99\" }\n    + fields = { dienst = \"loket\", bron = \"notula\", titel = \"Aankoop stoelen\", bedrag = \"8499.99\" }"),
        "{out}"
    );
    // What is left is what the merge changes beyond names: the merged service has two
    // heads (Bevolking's and Burgerlijke Stand's), and both are asked; --apply says so.
    assert!(
        out.contains("10 scenarios fail against the new organogram")
            && out.contains("tests/scenarios.toml: bestelbon onder 30 000 EUR: route: expected [\"paraaf: dirk-lambert\", \"aankoop: yasmine-peeters\"] actual [\"paraaf: dirk-lambert, katrien-van-den-broeck\", \"aankoop: yasmine-peeters\"]"),
        "{out}"
    );
    let (code, out) = paraaf(&dir, &["test", "."]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("6 passed, 10 failed"), "{out}");
    assert!(!out.contains("is not a unit"), "{out}");
    let second_head = out
        .lines()
        .filter(|l| l.trim_start().starts_with("actual") && l.contains("katrien-van-den-broeck"))
        .count();
    assert_eq!(
        second_head, 10,
        "each failure is the second head asked:\n{out}"
    );
    // With the scenarios as they were, they fail on the name instead.
    let old = fails_with_old_scenarios(&dir, &before);
    assert_eq!(
        old.matches("field `dienst`: `bevolking` is not a unit in the organogram")
            .count(),
        9,
        "{old}"
    );
}

/// A head of service leaves and a newcomer takes the function: with the hand-over in the
/// plan's [reassign], `org migrate --apply` puts the newcomer where the scenarios named
/// the leaver (uploader, route, may_see), and `paraaf test` is green again; without it,
/// --apply says which lines still name the leaver.
#[test]
fn migrate_maps_a_leaver_in_the_scenarios_to_who_takes_over() {
    let dir = planned("leaver");
    let unplanned = dir.with_file_name("unplanned");
    support::copy_dir(&dir, &unplanned);
    let (code, out) = paraaf(&unplanned, &["org", "migrate", "--apply", "."]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "note: tests/scenarios.toml:10 names `dirk-lambert`, who is not in the new organogram"
        ),
        "{out}"
    );
    assert!(!out.contains("rewrote tests/scenarios.toml"), "{out}");

    let plan = std::fs::read_to_string(dir.join("migration.toml")).unwrap();
    std::fs::write(
        dir.join("migration.toml"),
        format!(
            "{plan}\n[reassign]\n\"dirk-lambert\" = {{ to = \"sara-nieuwe\", reason = \"Sara Nieuwe volgt Dirk Lambert op als diensthoofd Bevolking, besluit van het college van 1 december\" }}\n"
        ),
    )
    .unwrap();
    let before = std::fs::read_to_string(dir.join("tests/scenarios.toml")).unwrap();
    let (code, out) = paraaf(&dir, &["org", "migrate", "--apply", "."]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("names `dirk-lambert`"), "{out}");
    assert!(!out.contains("fail against the new organogram"), "{out}");
    let after = std::fs::read_to_string(dir.join("tests/scenarios.toml")).unwrap();
    assert_eq!(
        after,
        before
            .replace("\"dirk-lambert\"", "\"sara-nieuwe\"")
            .replace(": dirk-lambert", ": sara-nieuwe")
            .replace(", dirk-lambert", ", sara-nieuwe")
    );
    let lines = after
        .lines()
        .zip(before.lines())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(out.matches("\n    + ").count(), lines, "{out}");
    let (code, out) = paraaf(&dir, &["test", "."]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("16 passed, 0 failed"), "{out}");
    let old = fails_with_old_scenarios(&dir, &before);
    assert!(old.contains("6 passed, 10 failed"), "{old}");
}
