//! Runtime scenarios on the Aalst example, end to end through the `paraaf` command.

mod support;

use support::City;

const NOW: &str = "2026-11-23";

fn submit_besluit(city: &City, uploader: &str, bedrag: &str) -> String {
    let content = city.content.to_str().unwrap().to_string();
    city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "besluit",
            "--as",
            uploader,
            "--field",
            "dienst=bevolking",
            "--field",
            "bron=notula",
            "--field",
            "titel=Aankoop laptops",
            "--field",
            &format!("bedrag={bedrag}"),
            "--content",
            &content,
        ],
        NOW,
    )
}

#[test]
fn college_decision_needs_the_visum_above_8500_eur_only() {
    let city = City::aalst("visum");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let diensthoofd = city.function("diensthoofd", Some("bevolking"));
    let fd = city.function("financieel-directeur", None);
    let burgemeester = city.mandate("burgemeester");
    let ad = city.function("algemeen-directeur", None);

    let big = submit_besluit(&city, &uploader, "9000");
    city.ok(&["doc", "sign", &big, "--as", &diensthoofd], NOW);
    assert!(
        city.ok(&["inbox", &fd], NOW).contains(&big),
        "above 8 500 EUR the financial director gives the visum"
    );

    let small = submit_besluit(&city, &uploader, "8499.99");
    city.ok(&["doc", "sign", &small, "--as", &diensthoofd], NOW);
    assert!(
        !city.ok(&["inbox", &fd], NOW).contains(&small),
        "below 8 500 EUR no visum"
    );
    assert!(city.ok(&["inbox", &burgemeester], NOW).contains(&small));
    city.ok(&["doc", "sign", &small, "--as", &burgemeester], NOW);
    city.ok(&["doc", "sign", &small, "--as", &ad], NOW);
    assert_eq!(city.status(&small, &uploader), "completed");
}

#[test]
fn burgemeester_on_holiday_the_substitute_signs_for_him() {
    let city = City::aalst("holiday");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let burgemeester = city.mandate("burgemeester");
    let substitute = city.mandate("schepen-financien");
    let doc = submit_besluit(&city, &uploader, "100");
    city.ok(
        &[
            "doc",
            "sign",
            &doc,
            "--as",
            &city.function("diensthoofd", Some("bevolking")),
        ],
        NOW,
    );
    let absence = city.ok(
        &[
            "absence",
            "add",
            &burgemeester,
            "--from",
            "2026-11-20",
            "--to",
            "2026-12-10",
        ],
        NOW,
    );
    assert!(!city.ok(&["inbox", &burgemeester], NOW).contains(&doc));
    assert!(
        city.ok(&["inbox", &substitute], NOW)
            .contains(&format!("(for {burgemeester})"))
    );
    // The absence is withdrawn before signing: the task goes back.
    city.ok(&["absence", "withdraw", &absence], NOW);
    assert!(city.ok(&["inbox", &burgemeester], NOW).contains(&doc));
    assert!(!city.ok(&["inbox", &substitute], NOW).contains(&doc));
    // Away again; the substitute signs, and the log says for whom.
    city.ok(
        &[
            "absence",
            "add",
            &burgemeester,
            "--from",
            "2026-11-20",
            "--to",
            "2026-12-10",
        ],
        NOW,
    );
    city.ok(&["doc", "sign", &doc, "--as", &substitute], NOW);
    let shown = city.ok(&["doc", "show", &doc, "--as", &uploader], NOW);
    assert!(
        shown.contains(&format!("{substitute} for {burgemeester}")),
        "{shown}"
    );
}

#[test]
fn performance_review_is_invisible_to_colleagues() {
    let city = City::aalst("review");
    let staff = city.staff("bevolking", "diensthoofd");
    let (reviewed, colleague) = (&staff[1], &staff[2]);
    let head = city.function("diensthoofd", Some("bevolking"));
    let content = city.content.to_str().unwrap();
    let doc = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "evaluatie",
            "--as",
            &head,
            "--field",
            "dienst=bevolking",
            "--field",
            &format!("medewerker={reviewed}"),
            "--content",
            content,
        ],
        NOW,
    );
    city.ok(&["doc", "sign", &doc, "--as", &head], NOW);
    assert!(city.ok(&["inbox", reviewed], NOW).contains(&doc));
    assert_eq!(
        city.refused(&["doc", "show", &doc, "--as", colleague], NOW),
        "error: no such document"
    );
    assert!(!city.ok(&["log", "--as", colleague], NOW).contains(&doc));
    city.ok(&["doc", "sign", &doc, "--as", reviewed], NOW);
    assert_eq!(city.status(&doc, reviewed), "completed");
}

#[test]
fn social_service_file_stays_in_its_group() {
    let city = City::aalst("social");
    let worker = city.staff("inkomen", "teamcoach")[0].clone();
    let coach = city.function("teamcoach", Some("inkomen"));
    let head = city.function("diensthoofd", Some("sociale-zaken"));
    let colleague = city.staff("schuldbemiddeling", "teamcoach")[0].clone();
    let ad = city.function("algemeen-directeur", None);
    let burgemeester = city.mandate("burgemeester");
    let content = city.content.to_str().unwrap();
    let doc = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "sociaal-dossier",
            "--as",
            &worker,
            "--field",
            "team=inkomen",
            "--field",
            "dossiernummer=LL-2026-0042",
            "--content",
            content,
        ],
        NOW,
    );
    // The group (everyone in Sociale Zaken) sees it; the algemeen directeur does not.
    city.ok(&["doc", "show", &doc, "--as", &colleague], NOW);
    for outsider in [&ad, &burgemeester] {
        assert_eq!(
            city.refused(&["doc", "show", &doc, "--as", outsider], NOW),
            "error: no such document"
        );
        assert_eq!(
            city.refused(&["doc", "sign", &doc, "--as", outsider], NOW),
            "error: no such document"
        );
    }
    city.ok(&["doc", "sign", &doc, "--as", &coach], NOW);
    city.ok(&["doc", "sign", &doc, "--as", &head], NOW);
    assert_eq!(city.status(&doc, &worker), "completed");
}

#[test]
fn refused_documents_go_back() {
    let city = City::aalst("refuse");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let head = city.function("diensthoofd", Some("bevolking"));
    let doc = submit_besluit(&city, &uploader, "100");
    assert_eq!(
        city.refused(
            &["doc", "refuse", &doc, "--as", &head, "--reason", " "],
            NOW
        ),
        "error: a refusal needs a reason"
    );
    city.ok(
        &[
            "doc",
            "refuse",
            &doc,
            "--as",
            &head,
            "--reason",
            "Bedrag klopt niet",
        ],
        NOW,
    );
    assert_eq!(city.status(&doc, &uploader), "returned");
    assert!(
        city.ok(&["log", "--as", &uploader], NOW)
            .contains("Bedrag klopt niet")
    );

    // A permit refused at the signature goes back to the advice step.
    let coach = city.function("teamcoach", Some("stedenbouw"));
    let omgeving = city.function("diensthoofd", Some("omgeving"));
    let schepen = city.mandate("schepen-ruimtelijke-ordening");
    let content = city.content.to_str().unwrap();
    let permit = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "vergunning",
            "--as",
            &uploader,
            "--field",
            "soort=omgevingsvergunning",
            "--field",
            "dossiernummer=OMV-1",
            "--content",
            content,
        ],
        NOW,
    );
    city.ok(&["doc", "sign", &permit, "--as", &coach], NOW);
    city.ok(&["doc", "sign", &permit, "--as", &omgeving], NOW);
    city.ok(
        &[
            "doc",
            "refuse",
            &permit,
            "--as",
            &schepen,
            "--reason",
            "Advies ontbreekt",
        ],
        NOW,
    );
    assert_eq!(city.status(&permit, &uploader), "in_progress");
    assert!(
        city.ok(&["inbox", &coach], NOW).contains(&permit),
        "back to the advice step"
    );
    assert!(
        !city
            .ok(&["inbox", &city.function("algemeen-directeur", None)], NOW)
            .contains(&permit),
        "the parallel task was cancelled"
    );
}

#[test]
fn deadlines_remind_then_escalate_on_workdays() {
    let city = City::aalst("deadline");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let dept_head = city.function("departementshoofd", Some("burgerzaken"));
    let content = city.content.to_str().unwrap();
    // Friday 10 July 2026: the remind deadline is 1 workday, escalation 2 workdays. The
    // weekend and the holidays of 11 July (Saturday anyway) do not count: Monday 13 is the
    // first workday, Tuesday 14 the second.
    let friday = "2026-07-10T10:00:00Z";
    let doc = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "attest",
            "--as",
            &uploader,
            "--field",
            "soort=gezinssamenstelling",
            "--field",
            "aanvrager=Jan Janssens",
            "--content",
            content,
        ],
        friday,
    );
    assert_eq!(
        city.ok(&["tick"], "2026-07-12T12:00:00Z"),
        "",
        "nothing is due on Sunday"
    );
    let monday = city.ok(&["tick"], "2026-07-13T10:00:00Z");
    assert!(
        monday.contains("\"reminded\"") && !monday.contains("escalated"),
        "{monday}"
    );
    assert!(
        !city
            .ok(&["inbox", &dept_head], "2026-07-13T10:00:00Z")
            .contains(&doc)
    );
    let tuesday = city.ok(&["tick"], "2026-07-14T10:00:00Z");
    assert!(tuesday.contains("\"escalated\""), "{tuesday}");
    assert!(
        city.ok(&["inbox", &dept_head], "2026-07-14T10:00:00Z")
            .contains(&doc)
    );
    city.ok(
        &["doc", "sign", &doc, "--as", &dept_head],
        "2026-07-14T11:00:00Z",
    );
    assert_eq!(city.status(&doc, &uploader), "completed");
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let city = City::aalst("bad");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let head = city.function("diensthoofd", Some("bevolking"));
    let doc = submit_besluit(&city, &uploader, "100");
    let before = city.events();
    let content = city.content.to_str().unwrap();
    let submit = |extra: &[&str]| {
        let mut args = vec![
            "doc",
            "submit",
            "--as",
            uploader.as_str(),
            "--content",
            content,
        ];
        args.extend_from_slice(extra);
        city.refused(&args, NOW)
    };
    assert!(submit(&["--kind", "memo"]).contains("unknown document kind `memo`"));
    assert!(
        submit(&[
            "--kind",
            "besluit",
            "--field",
            "dienst=bevolking",
            "--field",
            "bron=notula"
        ])
        .contains("the required field `titel` (text) is missing")
    );
    assert!(
        submit(&[
            "--kind",
            "besluit",
            "--field",
            "dienst=bevolking",
            "--field",
            "bron=x",
            "--field",
            "titel=t",
            "--field",
            "bedrag=veel"
        ])
        .contains("field `bedrag`: `veel` is not an amount")
    );
    assert!(
        submit(&[
            "--kind",
            "besluit",
            "--field",
            "dienst=nergens",
            "--field",
            "bron=x",
            "--field",
            "titel=t"
        ])
        .contains("`nergens` is not a unit")
    );
    assert!(
        submit(&["--kind", "besluit", "--field", "kleur=rood"])
            .contains("a besluit has no field `kleur`")
    );
    // A sign by someone who may see the document but has no task: forbidden.
    let colleague = city.staff("bevolking", "diensthoofd")[1].clone();
    assert!(
        city.refused(&["doc", "sign", &doc, "--as", &colleague], NOW)
            .contains("has no open task")
    );
    city.ok(&["doc", "sign", &doc, "--as", &head], NOW);
    let after_sign = city.events();
    // A second sign by the same person.
    assert!(
        city.refused(&["doc", "sign", &doc, "--as", &head], NOW)
            .contains("has no open task")
    );
    assert_eq!(city.events(), after_sign);
    assert_eq!(
        after_sign,
        before + 3,
        "signed, visum step skipped (100 EUR), signature step opened"
    );
}

#[test]
fn documents_keep_their_flow_version() {
    let city = City::aalst("versions");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let doc = submit_besluit(&city, &uploader, "100");
    // Version 2: the visum threshold drops to 50 EUR.
    let compiled = city.ok(&["compile", "examples/aalst"], NOW);
    let v2 = compiled.replace("\"money\": \"8500\"", "\"money\": \"50\"");
    assert_ne!(v2, compiled);
    let file = city.dir.join("v2.json");
    std::fs::write(&file, v2).unwrap();
    assert!(
        city.ok(&["deploy", file.to_str().unwrap()], NOW)
            .contains("version 2")
    );
    let newer = submit_besluit(&city, &uploader, "100");
    let fd = city.function("financieel-directeur", None);
    let head = city.function("diensthoofd", Some("bevolking"));
    city.ok(&["doc", "sign", &doc, "--as", &head], NOW);
    city.ok(&["doc", "sign", &newer, "--as", &head], NOW);
    let inbox = city.ok(&["inbox", &fd], NOW);
    assert!(
        inbox.contains(&newer) && !inbox.contains(&format!("{doc}\t")),
        "{inbox}"
    );
}

#[test]
fn audit_trail_detects_tampering_and_projections_rebuild() {
    let city = City::aalst("audit");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    for _ in 0..3 {
        submit_besluit(&city, &uploader, "100");
    }
    assert!(
        city.ok(&["audit", "verify"], NOW)
            .starts_with("ok: 7 events")
    );

    let store = paraaf_runtime::store::Store::open(&city.db).unwrap();
    let stored = store.projection_rows().unwrap();
    drop(store);
    assert!(
        city.ok(&["admin", "rebuild"], NOW)
            .contains("rebuilt 3 documents")
    );
    let store = paraaf_runtime::store::Store::open(&city.db).unwrap();
    assert_eq!(
        store.projection_rows().unwrap(),
        stored,
        "projections rebuilt from the log equal the stored ones"
    );

    // Edit one event: verify names it.
    store
        .connection()
        .execute(
            "UPDATE events SET body = replace(body, 'Aankoop', 'Verkoop') WHERE seq = 4",
            [],
        )
        .unwrap();
    let o = city.run(&["audit", "verify"], NOW);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "FAILED: event 4 was altered: its content does not match its hash"
    );
    store
        .connection()
        .execute(
            "UPDATE events SET body = replace(body, 'Verkoop', 'Aankoop') WHERE seq = 4",
            [],
        )
        .unwrap();
    // Delete the last event: the chain alone cannot tell (tests/tamper_evidence.rs: the
    // signed checkpoints can).
    store
        .connection()
        .execute("DELETE FROM events WHERE seq = 7", [])
        .unwrap();
    assert!(
        city.ok(&["audit", "verify"], NOW)
            .starts_with("ok: 6 events")
    );
    // Delete one in the middle.
    store
        .connection()
        .execute("DELETE FROM events WHERE seq = 2", [])
        .unwrap();
    let o = city.run(&["audit", "verify"], NOW);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "FAILED: event 2 is missing (the next one is 3)"
    );
}

#[test]
fn city_holidays_push_deadlines() {
    let city = City::aalst("holidays");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let holidays = city.dir.join("holidays.txt");
    std::fs::write(
        &holidays,
        "# Aalst carnival Tuesday (example)\n2026-11-24\n",
    )
    .unwrap();
    let h = holidays.to_str().unwrap();
    let content = city.content.to_str().unwrap();
    let doc = city.ok(
        &[
            "doc",
            "submit",
            "--kind",
            "attest",
            "--as",
            &uploader,
            "--field",
            "soort=gezinssamenstelling",
            "--field",
            "aanvrager=X",
            "--content",
            content,
        ],
        "2026-11-23T10:00:00Z",
    );
    assert_eq!(
        city.ok(&["tick", "--holidays", h], "2026-11-24T11:00:00Z"),
        "",
        "the city's day off does not count"
    );
    assert!(
        city.ok(&["tick", "--holidays", h], "2026-11-25T11:00:00Z")
            .contains("\"reminded\"")
    );
    let _ = doc;
    std::fs::write(&holidays, "2026-13-01\n").unwrap();
    let o = city.run(&["tick", "--holidays", h], NOW);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("holidays.txt:1: `2026-13-01` is not a date")
    );
}

/// Shielding end to end through the command: values outside a refined field and
/// outsiders submitting are refused with the reason; outsiders cannot see a social file;
/// a hand-edited compiled project that routes it to the mayor is not deployed.
#[test]
fn shielded_files_stay_in_their_group() {
    let city = City::aalst("shielding");
    let content = city.content.to_str().unwrap().to_string();
    let head = city.function("diensthoofd", Some("sociale-zaken"));
    let coach = city.function("teamcoach", Some("inkomen"));
    let mayor = city.mandate("burgemeester");
    let submit = |who: &str, team: &str| {
        city.run(
            &[
                "doc",
                "submit",
                "--kind",
                "sociaal-dossier",
                "--as",
                who,
                "--field",
                &format!("team={team}"),
                "--field",
                "dossiernummer=LL-1",
                "--content",
                &content,
            ],
            NOW,
        )
    };
    let o = submit(&head, "stedenbouw");
    assert_ne!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("only units in `sociale-zaken` are accepted"),
        "{err}"
    );
    let o = submit(&mayor, "inkomen");
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("only its members may submit"));
    let o = submit(&head, "inkomen");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(city.ok(&["inbox", &coach], NOW).contains(&doc));
    assert!(!city.ok(&["inbox", &mayor], NOW).contains(&doc));
    let o = city.run(&["doc", "show", &doc, "--as", &mayor], NOW);
    assert!(!o.status.success());
    assert!(!String::from_utf8_lossy(&o.stdout).contains("LL-1"));

    // A compiled project edited by hand to route the social flow to the mayor.
    let compiled = city.ok(&["compile", "examples/aalst"], NOW);
    let mut p: serde_json::Value = serde_json::from_str(&compiled).unwrap();
    for f in p["flows"].as_array_mut().unwrap() {
        if f["document"] == "sociaal-dossier" {
            f["steps"][0]["signatures"][0]["signer"] =
                serde_json::json!({"kind": "mandate", "id": "burgemeester"});
        }
    }
    let file = city.dir.join("edited.json");
    std::fs::write(&file, p.to_string()).unwrap();
    let o = city.run(&["deploy", file.to_str().unwrap()], NOW);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("is outside the group `sociale-zaken` that shields `sociaal-dossier`"),
        "{out}"
    );
    assert!(city.ok(&["audit", "verify"], NOW).starts_with("ok"));
}

/// Without `--title`, the `titel` field names the document in inboxes.
#[test]
fn the_titel_field_is_the_title() {
    let city = City::aalst("titel");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let doc = submit_besluit(&city, &uploader, "100");
    let head = city.function("diensthoofd", Some("bevolking"));
    let inbox = city.ok(&["inbox", &head], NOW);
    assert!(
        inbox
            .lines()
            .any(|l| l.contains(&doc) && l.contains("Aankoop laptops")),
        "{inbox}"
    );
}

/// `admin backup` copies a database in use; the copy restores by using it as `--db`.
#[test]
fn backup_and_restore() {
    let city = City::aalst("backup");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    let doc = submit_besluit(&city, &uploader, "100");
    let copy = city.dir.join("copy.db");
    let out = city.ok(&["admin", "backup", copy.to_str().unwrap()], NOW);
    assert!(
        out.starts_with("backed up ") && out.contains("verified"),
        "{out}"
    );
    // A second backup onto the same file is refused.
    assert!(
        !city
            .run(&["admin", "backup", copy.to_str().unwrap()], NOW)
            .status
            .success()
    );
    let restored = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_paraaf"))
            .args(args)
            .env("PARAAF_DB", &copy)
            .env("PARAAF_NOW", NOW)
            .current_dir(support::root())
            .output()
            .unwrap()
    };
    let show = restored(&["doc", "show", &doc, "--as", &uploader]);
    assert!(
        show.status.success() && String::from_utf8_lossy(&show.stdout).contains("Aankoop laptops")
    );
    assert!(String::from_utf8_lossy(&restored(&["audit", "verify"]).stdout).starts_with("ok:"));
}

#[test]
fn why_tells_the_reasons() {
    let city = City::aalst("why");
    let uploader = city.staff("bevolking", "diensthoofd")[0].clone();
    city.ok(
        &[
            "absence",
            "add",
            "ruben-van-damme",
            "--from",
            "2026-11-01",
            "--to",
            "2026-12-31",
        ],
        NOW,
    );
    let doc = submit_besluit(&city, &uploader, "100");
    city.ok(&["doc", "sign", &doc, "--as", "dirk-lambert"], NOW);
    // The mayor is absent: his substitute is asked, and says why.
    let out = city.ok(&["why", &doc, "--as", "jan-desmet"], NOW);
    assert!(
        out.starts_with(&format!("jan-desmet may see {doc}:")),
        "{out}"
    );
    assert!(out.contains("jan-desmet is asked to sign it now"), "{out}");
    assert!(
        out.contains(&format!("jan-desmet is asked to sign {doc}:")),
        "{out}"
    );
    assert!(
        out.contains("asked now: jan-desmet substitutes for ruben-van-damme (absent)"),
        "{out}"
    );
    // The absent mayor holds the role, but is not the one asked (#24): his inbox is empty.
    let out = city.ok(&["why", &doc, "--as", "ruben-van-damme"], NOW);
    assert!(
        out.contains("ruben-van-damme holds burgemeester")
            && out.contains("but is not asked to sign it now: ruben-van-damme is away and jan-desmet signs instead")
            && out.contains(&format!("ruben-van-damme is not asked to sign {doc} now")),
        "{out}"
    );
    assert!(
        !out.contains(&format!("ruben-van-damme is asked to sign {doc}")),
        "{out}"
    );
    // A member of the service sees it through the flow's unit audience.
    let colleague = city.staff("bevolking", "diensthoofd")[1].clone();
    let out = city.ok(&["why", &doc, "--as", &colleague], NOW);
    assert!(out.contains("in the unit `bevolking`"), "{out}");
    // Someone elsewhere does not, and is told why.
    let out = city.ok(&["why", &doc, "--as", "yasmine-peeters"], NOW);
    assert!(out.contains("may not see"), "{out}");
    assert!(
        out.contains("in none of the audiences of flow `collegebesluit`"),
        "{out}"
    );
    assert!(!out.contains("was asked"), "{out}");
    // `why` is the administrator's tool on the database: it says a document is missing.
    let out = city.ok(&["why", "d-999", "--as", "hans-de-backer"], NOW);
    assert!(out.contains("there is no document d-999"), "{out}");
}

/// Attack finding 8: `paraaf log --as` numbers what it shows 1, 2, 3, …: the log's global
/// sequence, with gaps where a shielded file's events are, would tell a reader outside
/// the shield how many hidden events happened in between.
#[test]
fn log_as_a_reader_numbers_what_it_shows_without_gaps() {
    let city = City::aalst("log-numbers");
    submit_besluit(&city, "jan-cools", "100");
    city.submit(
        "sociaal-dossier",
        "bart-verhoeven",
        &["team=inkomen", "dossiernummer=SZ-1"],
        NOW,
    );
    submit_besluit(&city, "jan-cools", "200");
    let log = city.ok(&["log", "--as", "jan-cools"], NOW);
    assert!(!log.contains("sociaal-dossier"), "{log}");
    let numbers: Vec<u64> = log
        .lines()
        .filter(|l| !l.contains("\t  "))
        .map(|l| l.split('\t').next().unwrap().parse().unwrap())
        .collect();
    let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "{log}");
    assert!(
        (numbers.len() as u64) < city.events(),
        "the shielded file's events are left out: {log}"
    );
}

/// `paraaf log --since`: only the events recorded from that moment, verified over that
/// range only (`Runtime::history`); a moment after the last event shows nothing, one
/// before the first shows what `paraaf log` shows; a value that is neither a date nor
/// an RFC 3339 time is refused with an example.
#[test]
fn log_since_shows_the_range_asked() {
    let city = City::aalst("log-since");
    submit_besluit(&city, "jan-cools", "100");
    let all = city.ok(&["log", "--as", "jan-cools"], NOW);
    assert!(!all.trim().is_empty(), "{all}");
    let early = city.ok(&["log", "--as", "jan-cools", "--since", "2000-01-01"], NOW);
    assert_eq!(early, all);
    let late = city.ok(
        &[
            "log",
            "--as",
            "jan-cools",
            "--since",
            "2100-01-01T00:00:00+01:00",
        ],
        NOW,
    );
    assert!(late.trim().is_empty(), "{late}");
    let o = city.run(&["log", "--as", "jan-cools", "--since", "gisteren"], NOW);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("neither a date (2026-12-01)"), "{err}");
}
