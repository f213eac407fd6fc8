//! `paraaf deploy` refuses a version that widens the shield of a kind shielded in the
//! deployed version unless `--widen-reason` says why, decided on what the kind admits
//! (as `paraaf diff --fail-on shielded-widened` decides it), never on group names: the
//! kind's group widened (the outside tester's finding 5), the kind pointed at a new
//! (renamed) or another existing group that admits more people (attack 4, finding 02),
//! an `allow` exception added (finding 04) or widened, the shield dropped (refused
//! whatever the reason). Renaming a group with the same members, narrowing and a new
//! shielded kind deploy without a reason.

mod support;

use std::path::PathBuf;

/// The Aalst example copied into a fresh folder, with its own database.
struct Project {
    dir: PathBuf,
}

impl Project {
    /// A copy of examples/aalst, `files` (path, text) added, deployed as version 1.
    fn deployed(name: &str, files: &[(&str, &str)]) -> Project {
        let dir = support::tempdir(name).join("aalst");
        support::copy_dir(&support::root().join("examples/aalst"), &dir);
        let p = Project { dir };
        for (file, text) in files {
            p.write(file, text);
        }
        let (code, out) = p.paraaf(&["deploy", "."]);
        assert_eq!(code, 0, "{out}");
        p
    }

    fn paraaf(&self, args: &[&str]) -> (i32, String) {
        let db = self.dir.join("city.db");
        support::paraaf_env(&self.dir, args, &[("PARAAF_DB", db.to_str().unwrap())])
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn write(&self, file: &str, text: &str) {
        std::fs::write(self.path(file), text).unwrap();
    }

    /// Replaces `from` (which must be there) by `to` in `file`.
    fn edit(&self, file: &str, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.path(file)).unwrap();
        assert!(text.contains(from), "the example changed: {file}: {text}");
        self.write(file, &text.replace(from, to));
    }

    /// The `shields_widened` of the newest `project_deployed` event.
    fn last_widened(&self) -> serde_json::Value {
        let db = rusqlite::Connection::open(self.dir.join("city.db")).unwrap();
        let body: String = db
            .query_row(
                "SELECT body FROM events WHERE body LIKE '%\"project_deployed\"%' ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let event: serde_json::Value = serde_json::from_str(&body).unwrap();
        event["shields_widened"].clone()
    }

    /// Whether the log holds a `project_deployed` event of `version`.
    fn has_version(&self, version: u32) -> bool {
        let db = rusqlite::Connection::open(self.dir.join("city.db")).unwrap();
        db.query_row(
            "SELECT count(*) FROM events WHERE body LIKE '%\"project_deployed\"%' AND body LIKE ?1",
            [format!("%\"version\":{version},%")],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            > 0
    }

    /// The current version is refused without a reason, with a reason that says nothing
    /// and as a dry run, each time naming `kind` and saying every string of `says`;
    /// nothing is deployed.
    fn refused_without_reason(&self, kind: &str, says: &[&str]) {
        for args in [
            &["deploy", "."][..],
            &["deploy", ".", "--dry-run"][..],
            &["deploy", ".", "--widen-reason", "ok"][..],
        ] {
            let (code, out) = self.paraaf(args);
            assert_ne!(code, 0, "{args:?}: {out}");
            assert!(
                out.contains(&format!("the shielded `{kind}`"))
                    && out.contains("who may not see its files now would")
                    && out.contains("--widen-reason \"...\""),
                "{args:?}: {out}"
            );
            for s in says {
                assert!(out.contains(s), "{args:?}: no {s:?} in {out}");
            }
        }
    }

    /// The current version deploys with `reason`, says so, and records `kind`, its
    /// `group`, the reason and `admits` among whom it admits in the log.
    fn deploys_with_reason(&self, kind: &str, group: &str, admits: &str) -> serde_json::Value {
        let reason = "College van 1 december 2026: beslist na advies van de DPO";
        let (code, out) = self.paraaf(&["deploy", ".", "--widen-reason", reason]);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains(&format!("shield widened: the shielded `{kind}`")) && out.contains(reason),
            "{out}"
        );
        let widened = self.last_widened();
        let w = &widened[0];
        assert_eq!(w["kind"], kind, "{widened}");
        assert_eq!(w["group"], group, "{widened}");
        assert_eq!(w["reason"], reason, "{widened}");
        assert!(
            w["admits"].as_array().unwrap().iter().any(|p| p == admits),
            "{admits} not in {widened}"
        );
        widened
    }

    /// The current version deploys without a reason, recording no widening.
    fn deploys_without_reason(&self) -> String {
        let (code, out) = self.paraaf(&["deploy", "."]);
        assert_eq!(code, 0, "{out}");
        assert!(!out.contains("shield widened"), "{out}");
        assert!(self.last_widened().is_null(), "{}", self.last_widened());
        out
    }
}

const SOCIAL: &str = "flows/social.paraaf";
const DOCUMENTS: &str = "flows/documents.paraaf";
const NARROW: &str = "group sociale-zaken = unit sociale-zaken shielded";
const WIDE: &str = "group sociale-zaken = unit samenleving shielded";
const SHIELDED_BY: &str = "document sociaal-dossier shielded by sociale-zaken {";

/// The social service's flow with its group renamed to `group`, defined as `definition`.
fn social_flow(group: &str, definition: &str) -> String {
    format!(
        "group {group} = {definition} shielded\n\n\
         flow sociaal-dossier-beslissing for sociaal-dossier {{\n  \
         visible to uploader, signers, group {group}\n  \
         step voorstel : sign teamcoach of inkomen\n  \
         step beslissing : sign diensthoofd of sociale-zaken\n  \
         on refused -> back to step voorstel\n  \
         deadline 3 workdays remind, 5 workdays escalate to diensthoofd of sociale-zaken\n}}\n"
    )
}

/// `sociaal-dossier` pointed at the group `group`, defined in the social flow's file
/// as `definition` (when given; else defined elsewhere).
fn point_social_at(p: &Project, group: &str, definition: Option<&str>) {
    let flow = social_flow(group, definition.unwrap_or("unit samenleving"));
    let flow = match definition {
        Some(_) => flow,
        None => flow.split_once("\n\n").unwrap().1.to_string(),
    };
    p.write(SOCIAL, &flow);
    p.edit(
        DOCUMENTS,
        SHIELDED_BY,
        &format!("document sociaal-dossier shielded by {group} {{"),
    );
}

#[test]
fn a_wider_shielded_group_needs_a_reason_and_is_logged() {
    let p = Project::deployed("deploy-widening-group", &[]);
    p.edit(SOCIAL, NARROW, WIDE);
    // Named, not by id: the head of Samenleving is among those shown or counted.
    p.refused_without_reason("sociaal-dossier", &["(group `sociale-zaken`)", " more"]);
    assert!(!p.has_version(2));
    p.deploys_with_reason("sociaal-dossier", "sociale-zaken", "fatima-van-damme");
    // Back to the narrower group: reported, not refused.
    p.edit(SOCIAL, WIDE, NARROW);
    let out = p.deploys_without_reason();
    assert!(
        out.contains("shield narrowed: the shielded `sociaal-dossier` (group `sociale-zaken`)")
            && out.contains("no longer see its files"),
        "{out}"
    );
}

#[test]
fn a_kind_pointed_at_a_renamed_wider_group_needs_a_reason() {
    let p = Project::deployed("deploy-widening-renamed", &[]);
    point_social_at(&p, "samenleving-breed", Some("unit samenleving"));
    p.refused_without_reason(
        "sociaal-dossier",
        &[
            "(group `samenleving-breed`)",
            "An Van den Broeck",
            "Samenleving",
        ],
    );
    assert!(!p.has_version(2));
    // hilde-peeters, head of Sport, never in Sociale Zaken (finding 02).
    p.deploys_with_reason("sociaal-dossier", "samenleving-breed", "hilde-peeters");
    // Back to the social service under its old name: a narrowing, reported.
    p.write(SOCIAL, &social_flow("sociale-zaken", "unit sociale-zaken"));
    p.edit(
        DOCUMENTS,
        "document sociaal-dossier shielded by samenleving-breed {",
        SHIELDED_BY,
    );
    let out = p.deploys_without_reason();
    assert!(
        out.contains("shield narrowed: the shielded `sociaal-dossier` (group `sociale-zaken`)")
            && out.contains("An Van den Broeck"),
        "{out}"
    );
}

#[test]
fn a_kind_pointed_at_another_existing_wider_group_needs_a_reason() {
    // Version 1 has a second shielded group, Samenleving, for a kind of its own.
    let extra = "group samenleving-breed = unit samenleving shielded\n\n\
                 document geheim shielded by samenleving-breed {\n  team: unit in samenleving\n}\n\n\
                 flow geheim-tekenen for geheim {\n  \
                 visible to uploader, signers, group samenleving-breed\n  \
                 step beslissing : sign diensthoofd of sociale-zaken\n}\n";
    let p = Project::deployed("deploy-widening-other", &[("flows/extra.paraaf", extra)]);
    point_social_at(&p, "samenleving-breed", None);
    p.refused_without_reason("sociaal-dossier", &["(group `samenleving-breed`)"]);
    p.deploys_with_reason("sociaal-dossier", "samenleving-breed", "hilde-peeters");
}

#[test]
fn an_allow_exception_added_needs_a_reason() {
    let p = Project::deployed("deploy-widening-allow", &[]);
    p.edit(
        DOCUMENTS,
        "document sociaal-dossier shielded by sociale-zaken {\n  team: unit in sociale-zaken\n",
        "document sociaal-dossier shielded by sociale-zaken allow betrokkene {\n  team: unit in sociale-zaken\n  betrokkene: person\n",
    );
    p.edit(
        SOCIAL,
        "visible to uploader, signers, group sociale-zaken",
        "visible to uploader, signers, group sociale-zaken, betrokkene",
    );
    p.refused_without_reason(
        "sociaal-dossier",
        &["the person an uploader names in `betrokkene` may read it"],
    );
    let widened = p.deploys_with_reason("sociaal-dossier", "sociale-zaken", "hilde-peeters");
    assert_eq!(widened[0]["allow"], "betrokkene", "{widened}");
}

#[test]
fn narrowing_an_allow_exception_passes_and_widening_it_needs_a_reason() {
    let p = Project::deployed("deploy-widening-allow-refined", &[]);
    let anyone = "allow medewerker {\n  medewerker: person\n}\n";
    let staff = "allow medewerker {\n  medewerker: person in personeelsdienst\n}\n\ngroup personeelsdienst = unit personeel\n";
    // Narrowed: only staff of personeel may be the employee concerned.
    p.edit(DOCUMENTS, anyone, staff);
    p.deploys_without_reason();
    // Widened back to anyone.
    p.edit(DOCUMENTS, staff, anyone);
    p.refused_without_reason("tuchtdossier", &["(group `tucht`)"]);
    p.deploys_with_reason("tuchtdossier", "tucht", "hilde-peeters");
}

#[test]
fn a_dropped_shield_is_refused_whatever_the_reason() {
    let p = Project::deployed("deploy-widening-dropped", &[]);
    p.edit(DOCUMENTS, SHIELDED_BY, "document sociaal-dossier {");
    p.edit(SOCIAL, NARROW, "group sociale-zaken = unit sociale-zaken");
    for args in [
        &["deploy", "."][..],
        &[
            "deploy",
            ".",
            "--widen-reason",
            "College van 1 december 2026: niet meer afgeschermd",
        ][..],
    ] {
        let (code, out) = p.paraaf(args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(out.contains("may not drop that shield"), "{args:?}: {out}");
    }
    assert!(!p.has_version(2));
}

#[test]
fn a_renamed_group_with_the_same_people_needs_no_reason() {
    let p = Project::deployed("deploy-widening-same", &[]);
    point_social_at(&p, "sociale-dienst", Some("unit sociale-zaken"));
    p.deploys_without_reason();
    assert!(p.has_version(2));
}

#[test]
fn a_new_shielded_kind_needs_no_reason() {
    let p = Project::deployed("deploy-widening-new-kind", &[]);
    p.write(
        "flows/extra.paraaf",
        "document geheim shielded by sociale-zaken {\n  team: unit in sociale-zaken\n}\n\n\
         flow geheim-tekenen for geheim {\n  \
         visible to uploader, signers, group sociale-zaken\n  \
         step beslissing : sign diensthoofd of sociale-zaken\n}\n",
    );
    p.deploys_without_reason();
    assert!(p.has_version(2));
}
