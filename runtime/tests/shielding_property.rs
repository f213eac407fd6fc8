//! Property: generated programs over the Aalst organogram — a shielded kind with refined or
//! unrefined fields, one or two flows, signers, audiences, escalations and substitutes
//! drawn from inside and outside the group — are checked. Whenever `paraaf check`
//! accepts one, the compiled project must pass deploy's verification, and simulated
//! documents (values typed inside and outside the group, absences, escalations,
//! signatures) are never assigned or shown to anyone outside the group, and the runtime's
//! guard never has to step in. Whatever the checker says, the project deployed without
//! verification still never leaks (the runtime's own line of defence). The oracle of who
//! is inside is computed from the organogram snapshot by the test itself.

mod support;

use paraaf_compiler::db::{Database, compiled, project_diagnostics};
use proptest::prelude::*;
use std::collections::BTreeSet;
use support::{World, people_in, units_below};

const INSIDE_UPLOADER: &str = "mohamed-wouters";
const OUTSIDER: &str = "ruben-van-damme";

/// Signers, from inside and outside the social service, fixed and field-based.
const SIGNERS: &[&str] = &[
    "diensthoofd of sociale-zaken",
    "teamcoach of inkomen",
    "teamcoach of schuldbemiddeling",
    "teamcoach of document.team",
    "diensthoofd of document.team",
    "behandelaar",
    "mohamed-wouters",
    "burgemeester",
    "algemeen-directeur",
    "teamcoach of stedenbouw",
    "diensthoofd of personeel",
    "hans-de-backer",
];

const AUDIENCES: &[&str] = &[
    "group sociale-zaken",
    "unit inkomen",
    "unit document.team",
    "teamcoach of inkomen",
    "behandelaar",
    "burgemeester",
    "unit stedenbouw",
    "group breed",
];

/// Substitute declarations: per holder, one inside and one outside choice.
const SUBSTITUTES: &[(&str, [&str; 2])] = &[
    (
        "teamcoach of inkomen",
        ["diensthoofd of sociale-zaken", "burgemeester"],
    ),
    (
        "diensthoofd of sociale-zaken",
        ["teamcoach of schuldbemiddeling", "algemeen-directeur"],
    ),
    (
        "teamcoach of schuldbemiddeling",
        ["teamcoach of inkomen", "teamcoach of stedenbouw"],
    ),
    ("dirk-claes", ["mohamed-wouters", "hans-de-backer"]),
];

const TEAM_REFINEMENTS: &[&str] = &[
    "",
    " in sociale-zaken",
    " in inkomen",
    " in stedenbouw",
    " in samenleving",
];
const PERSON_REFINEMENTS: &[&str] = &["", " in sociale-zaken", " in breed"];

#[derive(Clone, Debug)]
struct Program {
    with_mayor: bool,
    team: usize,
    person: usize,
    flows: Vec<(Vec<usize>, Vec<usize>, Option<usize>)>,
    substitutes: Vec<(usize, usize)>,
}

impl Program {
    fn source(&self) -> String {
        let mut s = format!(
            "document sociaal-dossier shielded by sociale-zaken {{\n  team: unit{}\n  behandelaar: person{}\n  dossiernummer: text\n}}\n",
            TEAM_REFINEMENTS[self.team], PERSON_REFINEMENTS[self.person]
        );
        s += &format!(
            "group sociale-zaken = unit sociale-zaken{} shielded\n",
            if self.with_mayor {
                " + burgemeester"
            } else {
                ""
            }
        );
        s += "group breed = unit samenleving + burgemeester\n";
        for (i, (steps, visible, escalate)) in self.flows.iter().enumerate() {
            let when = match (self.flows.len(), i) {
                (1, _) => String::new(),
                (_, 0) => " when dossiernummer != \"SPOED\"".into(),
                _ => " when dossiernummer == \"SPOED\"".into(),
            };
            s += &format!("flow f{i} for sociaal-dossier{when} {{\n");
            if !visible.is_empty() {
                let v: Vec<&str> = visible.iter().map(|a| AUDIENCES[*a]).collect();
                s += &format!("  visible to uploader, signers, {}\n", v.join(", "));
            }
            for (j, sg) in steps.iter().enumerate() {
                s += &format!("  step s{j} : sign {}\n", SIGNERS[*sg]);
            }
            if let Some(e) = escalate {
                s += &format!(
                    "  deadline 2 workdays remind, 4 workdays escalate to {}\n",
                    SIGNERS[*e]
                );
            }
            s += "}\n";
        }
        for (h, choice) in &self.substitutes {
            let (holder, subs) = SUBSTITUTES[*h];
            s += &format!("substitutes {holder} = {}\n", subs[*choice]);
        }
        s
    }
}

/// Mostly signers inside the group (the first seven), sometimes outside: both the accepted
/// and the refused side of the checker are exercised.
fn signer() -> impl Strategy<Value = usize> {
    prop_oneof![6 => 0..7usize, 1 => 7..SIGNERS.len()]
}

fn audience() -> impl Strategy<Value = usize> {
    prop_oneof![6 => 0..5usize, 1 => 5..AUDIENCES.len()]
}

fn flow() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, Option<usize>)> {
    (
        prop::collection::vec(signer(), 1..4),
        prop::collection::btree_set(audience(), 0..3).prop_map(|s| s.into_iter().collect()),
        prop::option::of(signer()),
    )
}

fn program() -> impl Strategy<Value = Program> {
    (
        any::<bool>(),
        prop_oneof![1 => Just(0usize), 3 => 1..3usize, 1 => 3..TEAM_REFINEMENTS.len()],
        prop_oneof![1 => Just(0usize), 4 => Just(1usize), 1 => Just(2usize)],
        prop::collection::vec(flow(), 1..3),
        prop::collection::btree_map(
            0..SUBSTITUTES.len(),
            prop_oneof![5 => Just(0usize), 1 => Just(1usize)],
            0..3,
        )
        .prop_map(|m| m.into_iter().collect()),
    )
        .prop_map(|(with_mayor, team, person, flows, substitutes)| Program {
            with_mayor,
            team,
            person,
            flows,
            substitutes,
        })
}

fn org() -> String {
    let root =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/aalst/org.toml");
    std::fs::read_to_string(root).expect("aalst org")
}

/// Documents typed inside and outside the group, absences, escalations and signatures.
fn simulate(w: &mut World) {
    let teams = [
        "inkomen",
        "schuldbemiddeling",
        "sociale-zaken",
        "stedenbouw",
        "personeel",
    ];
    let persons = ["dirk-claes", OUTSIDER, "hans-de-backer", INSIDE_UPLOADER];
    for (i, team) in teams.iter().enumerate() {
        let nr = if i % 2 == 0 { "SPOED" } else { "A" };
        for who in [persons[i % persons.len()], persons[(i + 1) % persons.len()]] {
            w.submit(
                INSIDE_UPLOADER,
                &[("team", team), ("dossiernummer", nr), ("behandelaar", who)],
            );
        }
    }
    assert!(
        w.submit(
            OUTSIDER,
            &[
                ("team", "inkomen"),
                ("dossiernummer", "A"),
                ("behandelaar", "dirk-claes")
            ]
        )
        .is_none()
            || w.inside.contains(OUTSIDER),
        "an outsider submitted a shielded document"
    );
    for p in ["dirk-claes", "mohamed-wouters", "tom-de-smet"] {
        w.absent(p);
    }
    w.later(7);
    w.sign_all();
    w.later(7);
}

fn inside(p: &paraaf_compiler::compile::CompiledProject, with_mayor: bool) -> BTreeSet<String> {
    let mut m = people_in(p, &units_below(p, "sociale-zaken"));
    if with_mayor {
        m.extend(p.organogram.people.iter().filter(|x| {
            x.positions.iter().any(|pos| matches!(pos, paraaf_compiler::compile::model::OrgPosition::Mandate { mandate } if mandate == "burgemeester"))
        }).map(|x| x.id.clone()));
    }
    m
}

#[test]
fn accepted_programs_never_leak() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let accepted = std::cell::Cell::new(0u32);
    let result = runner.run(&program(), |prog| {
        let src = prog.source();
        let org = org();
        let (db, project) = Database::from_texts(("org.toml", &org), &[("p.paraaf", &src)]);
        let errors: Vec<String> = project_diagnostics(&db, project)
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        // Compile regardless of shielding errors, for the runtime-only property.
        let loose = {
            let loose_src = src
                .replace(" shielded by sociale-zaken", "")
                .replace(" shielded\n", "\n");
            let (db2, p2) = Database::from_texts(("org.toml", &org), &[("p.paraaf", &loose_src)]);
            compiled(&db2, p2).clone().map(|mut c| {
                // Put the shield back, as a hand-edited JSON would carry it.
                for d in c
                    .documents
                    .iter_mut()
                    .filter(|d| d.name == "sociaal-dossier")
                {
                    d.shielded_by = Some(paraaf_compiler::compile::model::Shield {
                        group: "sociale-zaken".into(),
                        allow: None,
                    });
                }
                c
            })
        };
        if std::env::var("SHOW_ERRORS").is_ok() {
            eprintln!("{errors:?}");
        }
        if errors.is_empty() {
            let c = compiled(&db, project)
                .clone()
                .expect("no errors, so it compiles");
            let org_index = paraaf_runtime::org::OrgIndex::new(&c.organogram);
            let violations = paraaf_compiler::compile::shield::verify(&c, &org_index);
            prop_assert!(
                violations.is_empty(),
                "check accepted, deploy refuses: {violations:?}\n{src}"
            );
            let inside = inside(&c, prog.with_mayor);
            let mut w = World::forced(c, "sociaal-dossier", inside);
            simulate(&mut w);
            prop_assert_eq!(
                w.kept_out,
                0,
                "check accepted, yet the runtime had to keep someone out:\n{}",
                src
            );
            accepted.set(accepted.get() + 1);
        }
        if let Some(c) = loose {
            let inside = inside(&c, prog.with_mayor);
            let mut w = World::forced(c, "sociaal-dossier", inside);
            simulate(&mut w);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!(
        "{} of {cases} generated programs were accepted by the checker",
        accepted.get()
    );
    assert!(
        accepted.get() * 10 >= cases,
        "only {} of {cases} programs were accepted: the property is nearly vacuous",
        accepted.get()
    );
}

// ------------------------------------------------------------------ check ⇔ deploy (#24)

/// Shielding codes: a program whose only errors are these is lowered anyway, as a checker
/// bug or a hand-edited `.json` would deliver it, and `deploy` must refuse it. Other errors
/// (unknown names, types) leave nothing meaningful to lower.
fn shielding_only(diags: &[paraaf_compiler::diagnostics::Diagnostic]) -> bool {
    use paraaf_compiler::diagnostics::Code;
    diags
        .iter()
        .filter(|d| d.is_error())
        .all(|d| matches!(d.code, Code::ShieldedLeak | Code::AllowBeyondOwnSteps))
}

/// The project as written, lowered whatever the checker said.
fn lowered(
    db: &Database,
    project: paraaf_compiler::db::Project,
) -> paraaf_compiler::compile::CompiledProject {
    paraaf_compiler::compile::lower(
        &paraaf_compiler::db::organogram(db, project.org(db)).org,
        paraaf_compiler::db::index(db, project),
    )
}

/// Whether `paraaf deploy` takes the project (on an empty database).
fn deploy_accepts(p: paraaf_compiler::compile::CompiledProject) -> Result<(), String> {
    let mut state = paraaf_runtime::engine::State::default();
    let cal = paraaf_runtime::workdays::Calendar::default();
    paraaf_runtime::engine::Emitter::new(&mut state, &cal, support::t0())
        .deploy(p)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Check clean ⇔ deploy accepts, for one project; `None` when it has errors outside
/// shielding (not comparable). Returns whether check was clean.
fn agree(db: &Database, project: paraaf_compiler::db::Project, what: &str) -> Option<bool> {
    let diags = project_diagnostics(db, project);
    let clean = !diags.iter().any(|d| d.is_error());
    if !clean && !shielding_only(diags) {
        return None;
    }
    let deployed = deploy_accepts(lowered(db, project));
    match (clean, deployed) {
        (true, Err(why)) => panic!("check accepts, deploy refuses: {why}\n{what}"),
        (false, Ok(())) => panic!(
            "check refuses, deploy accepts:\n{}\n{what}",
            diags
                .iter()
                .map(|d| format!("{} {}", d.code, d.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        _ => Some(clean),
    }
}

#[test]
fn check_and_deploy_agree_on_the_examples() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for name in ["aalst", "hasselt"] {
        let p = paraaf_compiler::load::load(&root.join(name)).expect("loads");
        assert_eq!(agree(&p.db, p.project, name), Some(true), "{name}");
    }
    let mut refused = 0;
    for e in std::fs::read_dir(root.join("broken")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "paraaf") {
            continue;
        }
        let p = paraaf_compiler::load::load(&path).expect("loads");
        if agree(&p.db, p.project, &path.display().to_string()) == Some(false) {
            refused += 1;
        }
    }
    // P0011 and P0025 are compared; the others are no shielding matter.
    assert!(refused >= 2, "only {refused} broken examples were compared");
    // `check` accepted a notification of a record's unit that `deploy` refused (#24).
    let org = org();
    for (shielded, src) in [
        (
            true,
            "document d shielded by sociale-zaken { nr: text }\ngroup sociale-zaken = unit sociale-zaken shielded\n",
        ),
        (false, "document d { nr: text }\n"),
    ] {
        let src = format!(
            "{src}flow f for d {{ step s : sign diensthoofd of sociale-zaken }}\nrule r on decision.received {{\n  start f with nr = decision.reference\n  notify diensthoofd of decision.dienst \"nieuw\"\n}}\n"
        );
        let (db, project) = Database::from_texts(("org.toml", &org), &[("p.paraaf", &src)]);
        assert_eq!(agree(&db, project, &src), Some(!shielded), "{src}");
    }
}

#[test]
fn check_and_deploy_agree_on_generated_programs() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let org = org();
    let counts = std::cell::Cell::new((0u32, 0u32));
    let check = |src: String| {
        let (db, project) = Database::from_texts(("org.toml", &org), &[("p.paraaf", &src)]);
        if let Some(clean) = agree(&db, project, &src) {
            let (a, r) = counts.get();
            counts.set(if clean { (a + 1, r) } else { (a, r + 1) });
        }
    };
    runner
        .run(&program(), |prog| {
            check(prog.source());
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let social = counts.get();
    // A fresh runner: one that has run its cases runs no more.
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&discipline(), |src| {
            check(src);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (accepted, refused) = counts.get();
    let discipline = (accepted - social.0, refused - social.1);
    eprintln!(
        "check and deploy agreed on social files {social:?} and discipline files {discipline:?} (accepted, refused)"
    );
    for (a, r) in [social, discipline] {
        assert!(
            a * 10 >= cases && r * 10 >= cases,
            "{a} accepted, {r} refused: the comparison is nearly vacuous"
        );
    }
}

/// Discipline files with the `allow` exception: the field, a member and an outsider as
/// signers, escalation targets and audiences, and substitutes of people and roles.
fn discipline() -> impl Strategy<Value = String> {
    const SIGNERS: &[&str] = &[
        "medewerker",
        "diensthoofd of personeel",
        "algemeen-directeur",
        "burgemeester",
    ];
    const AUDIENCES: &[&str] = &[
        "group tucht",
        "medewerker",
        "algemeen-directeur",
        "burgemeester",
    ];
    const SUBSTITUTES: &[&str] = &[
        "substitutes mohamed-de-cock = hans-de-backer",
        "substitutes mohamed-de-cock = ruben-van-damme",
        "substitutes algemeen-directeur = adjunct-algemeen-directeur",
        "substitutes algemeen-directeur = burgemeester",
        "substitutes diensthoofd of personeel = departementshoofd of organisatie",
    ];
    (
        prop::collection::vec(0..SIGNERS.len(), 1..4),
        prop::collection::btree_set(0..AUDIENCES.len(), 0..3),
        prop::option::of(0..SIGNERS.len()),
        prop::collection::btree_set(0..SUBSTITUTES.len(), 0..3),
    )
        .prop_map(|(steps, visible, escalate, subs)| {
            let mut s = String::from(
                "document tuchtdossier shielded by tucht allow medewerker {\n  medewerker: person\n}\ngroup tucht = people(diensthoofd of personeel, departementshoofd of organisatie, algemeen-directeur, adjunct-algemeen-directeur) shielded\nflow tucht-f for tuchtdossier {\n",
            );
            if !visible.is_empty() {
                let v: Vec<&str> = visible.iter().map(|a| AUDIENCES[*a]).collect();
                s += &format!("  visible to uploader, signers, {}\n", v.join(", "));
            }
            for (j, sg) in steps.iter().enumerate() {
                s += &format!("  step s{j} : sign {}\n", SIGNERS[*sg]);
            }
            if let Some(e) = escalate {
                s += &format!(
                    "  deadline 2 workdays remind, 4 workdays escalate to {}\n",
                    SIGNERS[e]
                );
            }
            s += "}\n";
            for i in subs {
                s += SUBSTITUTES[i];
                s += "\n";
            }
            s
        })
}

// ------------------------------------------------------------------ any holder (#30 item 3)

/// `c`'s organogram with one newcomer per position anyone could be given: every function
/// in every unit and every mandate, each held by a person of their own who holds nothing
/// else. Group members are recomputed on it, as `org deploy` does.
fn everyone_appointed(c: &paraaf_model::CompiledProject) -> paraaf_model::CompiledProject {
    use paraaf_model::{OrgPerson, OrgPosition};
    let mut c = c.clone();
    let mut positions = Vec::new();
    for f in &c.organogram.functions {
        for u in &c.organogram.units {
            positions.push(OrgPosition::Function {
                function: f.id.clone(),
                unit: u.id.clone(),
            });
        }
    }
    for m in &c.organogram.mandates {
        positions.push(OrgPosition::Mandate {
            mandate: m.id.clone(),
        });
    }
    for (i, p) in positions.into_iter().enumerate() {
        c.organogram.people.push(OrgPerson {
            id: format!("nieuw-{i}"),
            name: format!("Nieuw {i}"),
            email: String::new(),
            key: None,
            positions: vec![p],
        });
    }
    let idx = paraaf_model::OrgIndex::new(&c.organogram);
    for g in &mut c.groups {
        g.members = paraaf_model::shield::group_members(&g.definition, &idx)
            .into_iter()
            .collect();
    }
    c
}

#[test]
fn no_warning_means_no_appointment_can_leak_and_a_warning_names_one_that_does() {
    use paraaf_compiler::diagnostics::Code;
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let (safe, warned) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    let result = runner.run(&program(), |prog| {
        let src = prog.source();
        let org = org();
        let (db, project) = Database::from_texts(("org.toml", &org), &[("p.paraaf", &src)]);
        let diags = project_diagnostics(&db, project);
        if diags.iter().any(|d| d.is_error()) {
            return Ok(());
        }
        let c = compiled(&db, project).clone().expect("no errors");
        let after = everyone_appointed(&c);
        let idx = paraaf_model::OrgIndex::new(&after.organogram);
        let violations = paraaf_model::shield::verify(&after, &idx);
        let warnings: Vec<&str> = diags
            .iter()
            .filter(|d| d.code == Code::ShieldedOnlyToday)
            .map(|d| d.message.as_str())
            .collect();
        if warnings.is_empty() {
            prop_assert!(
                violations.is_empty(),
                "no P0026, yet appointing newcomers leaks: {violations:?}\n{src}"
            );
            safe.set(safe.get() + 1);
        } else {
            prop_assert!(
                !violations.is_empty(),
                "P0026 {warnings:?}, yet no appointment leaks\n{src}"
            );
            warned.set(warned.get() + 1);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!(
        "{} programs safe for any holder, {} warned about",
        safe.get(),
        warned.get()
    );
    assert!(
        safe.get() > 0 && warned.get() > 0,
        "both sides must be exercised"
    );
}
