//! A redeploy is an organogram change too (#24, item 5): random sequences of project
//! deploys compiled against changed organograms, `org deploy`s of those organograms (the
//! same one again too), submissions and signatures, on a real database. A deploy whose
//! organogram differs from the one in force goes through `org deploy`'s checks and moves
//! or is refused, recording nothing, with the command to run first.
//!
//! After every step an oracle written here — who is in the organogram in force and who
//! is inside each shielded group, computed from the organogram's TOML, never from the
//! runtime's index — checks: no document disappears; every document is visible to
//! someone allowed; nobody outside a shielded kind's group sees it or is asked to sign
//! it; nobody who left is asked to sign anything. At the end of each case the log
//! verifies (`audit verify`: the chain, and no deployed version breaks its shielding)
//! and a fresh fold of the database gives the same documents.
//!
//! Mutation check (by hand, restored): `Emitter::deploy_reported` without its call of
//! `redeploy_organogram` (a project's organogram silently in force, as before) fails —
//! a teamcoach who left through a redeploy is still asked to sign a social file.

mod stores;
mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use paraaf_compiler::compile::CompiledProject;
use paraaf_compiler::db::{Database, compiled};
use paraaf_compiler::org::{Organogram, Position, load_toml};
use paraaf_runtime::Runtime;
use paraaf_runtime::backend::StoreAddress;
use paraaf_runtime::engine::{RuntimeError, Status, Submission, TaskStatus};
use paraaf_runtime::visibility::may_see;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use stores::{Stores, each_store};

fn aalst() -> PathBuf {
    support::aalst_dir()
}

fn flows() -> Vec<(String, String)> {
    support::aalst_flows()
}

/// The `[[people]]` block of `id` (start, end) in an organogram's TOML.
fn block(org: &str, id: &str) -> (usize, usize) {
    let start = org
        .find(&format!("[[people]]\nid = \"{id}\"\n"))
        .unwrap_or_else(|| panic!("{id} in org.toml"));
    let end = org[start + 10..]
        .find("\n[[people]]\n")
        .map_or(org.len(), |e| start + 10 + e + 1);
    (start, end)
}

fn without(org: &str, id: &str) -> String {
    let (s, e) = block(org, id);
    format!("{}{}", &org[..s], &org[e..])
}

fn moved(org: &str, id: &str, from: &str, to: &str) -> String {
    let (s, e) = block(org, id);
    let inner = org[s..e].replace(&format!("unit = \"{from}\""), &format!("unit = \"{to}\""));
    format!("{}{inner}{}", &org[..s], &org[e..])
}

const UPLOADER_SOCIAL: &str = "koen-dubois";
const TEAMCOACH: &str = "dirk-claes";
const EMPLOYEE: &str = "bart-verhoeven";
const HR_HEAD: &str = "tom-nowak";

/// The organograms tried: as is, a newcomer in the social service, two people moving
/// out of it, the teamcoach who signs social files leaving, and an employee named in
/// person fields leaving.
fn variants() -> Vec<(&'static str, String)> {
    let base = std::fs::read_to_string(aalst().join("org.toml")).expect("org.toml");
    let join = format!(
        "{base}\n[[people]]\nid = \"nina-nieuw\"\nname = \"Nina Nieuw\"\nemail = \"nina.nieuw@aalst.be\"\nkey = \"P99001\"\n\n[[people.positions]]\nfunction = \"maatschappelijk-werker\"\nunit = \"inkomen\"\n"
    );
    let out = moved(
        &moved(&base, "griet-de-cock", "sociale-zaken", "cultuur"),
        UPLOADER_SOCIAL,
        "sociale-zaken",
        "cultuur",
    );
    vec![
        ("as is", base.clone()),
        ("a newcomer in inkomen", join),
        ("two move out of the social service", out),
        ("the teamcoach of inkomen left", without(&base, TEAMCOACH)),
        ("the employee named in files left", without(&base, EMPLOYEE)),
    ]
}

/// One organogram variant: its TOML read by the compiler, and the project compiled
/// against it.
struct Variant {
    name: &'static str,
    org: Organogram,
    project: CompiledProject,
}

fn prepare() -> Vec<Variant> {
    let flows = flows();
    let files: Vec<(&str, &str)> = flows
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    variants()
        .into_iter()
        .map(|(name, toml)| {
            let (org, diags) = load_toml("org.toml", &toml);
            assert!(diags.is_empty(), "{name}: {diags:?}");
            let (db, p) = Database::from_texts(("org.toml", &toml), &files);
            let project = compiled(&db, p)
                .clone()
                .unwrap_or_else(|| panic!("aalst compiles against `{name}`"));
            Variant { name, org, project }
        })
        .collect()
}

/// Who may hold or see a document of `kind` with `fields` under `org`, by the oracle:
/// everyone in the organogram; for `sociaal-dossier` only the people of the social
/// service (units below it too); for `tuchtdossier` only the four positions of `tucht`
/// and the employee the file names.
fn allowed(org: &Organogram, kind: &str, fields: &BTreeMap<String, Value>) -> BTreeSet<String> {
    let parent: BTreeMap<&str, Option<&str>> = org
        .units
        .iter()
        .map(|u| (u.id.as_str(), u.parent.as_deref()))
        .collect();
    fn below<'a>(parent: &BTreeMap<&'a str, Option<&'a str>>, mut u: &'a str, root: &str) -> bool {
        loop {
            if u == root {
                return true;
            }
            match parent.get(u).copied().flatten() {
                Some(p) => u = p,
                None => return false,
            }
        }
    }
    let tucht = |f: &str, u: &str| {
        matches!(
            (f, u),
            ("diensthoofd", "personeel") | ("departementshoofd", "organisatie")
        ) || f == "algemeen-directeur"
            || f == "adjunct-algemeen-directeur"
    };
    org.people
        .iter()
        .filter(|p| match kind {
            "sociaal-dossier" => p.positions.iter().any(
                |x| matches!(x, Position::Function { unit, .. } if below(&parent, unit, "sociale-zaken")),
            ),
            "tuchtdossier" => {
                fields.get("medewerker").and_then(Value::as_str) == Some(p.id.as_str())
                    || p.positions.iter().any(|x| match x {
                        Position::Function { function, unit } => tucht(function, unit),
                        Position::Mandate(m) => tucht(m, ""),
                    })
            }
            _ => true,
        })
        .map(|p| p.id.clone())
        .collect()
}

/// Every HR key of the variants: a person a variant leaves out and a later one has
/// again is the same person coming back, which the administrator confirms (`org deploy
/// --returning KEY`; unconfirmed, a leaver's key is refused).
fn returning(vs: &[Variant]) -> BTreeSet<String> {
    vs.iter()
        .flat_map(|v| v.project.organogram.people.iter())
        .filter_map(|p| p.key.clone())
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Step {
    /// `paraaf deploy` of the project compiled against variant N.
    Deploy(usize),
    /// `paraaf org deploy` of variant N, without a plan.
    OrgDeploy(usize),
    /// A social file, a discipline file and a performance review.
    Submit,
    /// The first assignee of every open task signs.
    Sign,
}

struct Case {
    rt: Runtime,
    db: StoreAddress,
    now: DateTime<Utc>,
    /// The variant in force, by the test's own account.
    in_force: usize,
    docs: BTreeSet<String>,
    counts: BTreeMap<&'static str, usize>,
}

impl Case {
    fn run<T: Send>(
        &mut self,
        f: impl FnOnce(&mut paraaf_runtime::engine::Emitter) -> Result<T, RuntimeError> + Send,
    ) -> Result<T, RuntimeError> {
        self.now += Duration::minutes(7);
        self.rt.execute(self.now, f)
    }

    fn step(&mut self, step: Step, vs: &[Variant]) {
        let before = self.rt.state().last_seq;
        match step {
            Step::Deploy(i) => {
                let changes = i != self.in_force;
                let back = returning(vs);
                match self.run(|e| {
                    e.returning = back;
                    e.deploy_reported(vs[i].project.clone())
                }) {
                    Ok(d) => {
                        assert_eq!(d.organogram.is_some(), changes, "{step:?}");
                        self.in_force = i;
                        *self
                            .counts
                            .entry(if changes {
                                "redeploy changing the organogram"
                            } else {
                                "redeploy"
                            })
                            .or_default() += 1;
                    }
                    Err(RuntimeError::Conflict(_)) => {
                        *self
                            .counts
                            .entry("redeploy of the current version")
                            .or_default() += 1
                    }
                    Err(e) => {
                        assert!(
                            changes,
                            "{step:?}: refused without an organogram change: {e}"
                        );
                        let msg = e.to_string();
                        assert!(
                            msg.contains("paraaf org deploy")
                                && msg.contains("nothing was deployed"),
                            "{msg}"
                        );
                        assert_eq!(
                            self.rt.state().last_seq,
                            before,
                            "a refusal recorded something"
                        );
                        *self.counts.entry("redeploy refused").or_default() += 1;
                    }
                }
            }
            Step::OrgDeploy(i) => {
                let org = vs[i].project.organogram.clone();
                let back = returning(vs);
                match self.run(|e| {
                    e.returning = back;
                    e.deploy_organogram(org, BTreeMap::new(), BTreeMap::new(), false)
                }) {
                    Ok(r) => {
                        assert_eq!(r.unchanged, i == self.in_force, "{step:?}");
                        self.in_force = i;
                        *self.counts.entry("org deploy").or_default() += 1;
                    }
                    Err(e) => {
                        assert_eq!(self.rt.state().last_seq, before, "{e}");
                        *self.counts.entry("org deploy refused").or_default() += 1;
                    }
                }
            }
            Step::Submit => {
                let team = [("team", "inkomen"), ("dossiernummer", "D1")];
                let subs = [
                    ("sociaal-dossier", UPLOADER_SOCIAL, &team[..]),
                    ("tuchtdossier", HR_HEAD, &[("medewerker", EMPLOYEE)][..]),
                    (
                        "evaluatie",
                        HR_HEAD,
                        &[("dienst", "inkomen"), ("medewerker", EMPLOYEE)][..],
                    ),
                ];
                for (kind, uploader, fields) in subs {
                    let sub = Submission {
                        kind: kind.into(),
                        uploader: uploader.into(),
                        fields: fields
                            .iter()
                            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                            .collect(),
                        content_sha256: "c".repeat(64),
                        title: String::new(),
                        flow: None,
                    };
                    match self.run(|e| e.submit(sub)) {
                        Ok(id) => {
                            self.docs.insert(id);
                            *self.counts.entry("submitted").or_default() += 1;
                        }
                        // The uploader or the employee left in the variant in force.
                        Err(_) => *self.counts.entry("submission refused").or_default() += 1,
                    }
                }
            }
            Step::Sign => {
                let open: Vec<(String, String)> = self
                    .rt
                    .state()
                    .documents
                    .values()
                    .filter(|d| d.status == Status::InProgress)
                    .filter_map(|d| {
                        let t = d.tasks.iter().find(|t| t.status == TaskStatus::Open)?;
                        Some((d.id.clone(), t.spec.assignees.first()?.clone()))
                    })
                    .collect();
                for (doc, who) in open {
                    if self.run(|e| e.sign(&doc, &who)).is_ok() {
                        *self.counts.entry("signed").or_default() += 1;
                    }
                }
            }
        }
        self.check(&format!("after {step:?}"), vs);
    }

    /// The oracle, after every step.
    fn check(&self, when: &str, vs: &[Variant]) {
        let v = &vs[self.in_force];
        let state = self.rt.state();
        let here: BTreeSet<&str> = v.org.people.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            state.organogram.as_ref().map(|o| &*o.organogram),
            Some(&v.project.organogram),
            "{when}: the organogram in force is not `{}`",
            v.name
        );
        for (i, d) in state.deployments.iter().enumerate() {
            assert!(
                d.broken.is_empty(),
                "{when}: version {} breaks its shielding: {:?}",
                i + 1,
                d.broken
            );
        }
        for id in &self.docs {
            let d = state
                .documents
                .get(id)
                .unwrap_or_else(|| panic!("{when}: {id} disappeared"));
            let ok = allowed(&v.org, &d.kind, &d.fields);
            let seers: Vec<&str> = here
                .iter()
                .copied()
                .filter(|p| may_see(state, p, id))
                .collect();
            assert!(
                seers.iter().any(|p| ok.contains(*p)),
                "{when}: nobody allowed may see {id} ({}) under `{}`",
                d.kind,
                v.name
            );
            if d.kind != "evaluatie" {
                for p in &seers {
                    assert!(
                        ok.contains(*p),
                        "{when}: {p} may see {id} ({}) under `{}`, outside its group",
                        d.kind,
                        v.name
                    );
                }
            }
            if d.status != Status::InProgress {
                continue;
            }
            for t in d.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
                for a in &t.spec.assignees {
                    assert!(
                        here.contains(a.as_str()),
                        "{when}: {a}, who is not in `{}`, is asked to sign {id} ({})",
                        v.name,
                        d.kind
                    );
                    assert!(
                        ok.contains(a),
                        "{when}: {a} is asked to sign {id} ({}) outside its group",
                        d.kind
                    );
                }
            }
        }
    }
}

/// A small deterministic generator (xorshift), one stream per seed.
struct Gen(u64);
impl Gen {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn run_case(
    stores: &Stores,
    seed: u64,
    steps: &[Step],
    vs: &[Variant],
    counts: &mut BTreeMap<&'static str, usize>,
) {
    let city = format!("case-{seed}");
    let rt = stores.runtime(&city);
    let mut case = Case {
        rt,
        db: stores.address(&city),
        now: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
        in_force: 0,
        docs: BTreeSet::new(),
        counts: BTreeMap::new(),
    };
    case.run(|e| e.deploy(vs[0].project.clone()))
        .expect("first deploy");
    for &s in steps {
        case.step(s, vs);
    }
    // `audit verify`: the chain, and every version as the replayed log folds it.
    case.rt.store().verify(&[]).expect("the chain verifies");
    let replayed = Runtime::open_store_replaying(&case.db, Default::default()).expect("replay");
    for (i, d) in replayed.state().deployments.iter().enumerate() {
        assert!(
            d.broken.is_empty(),
            "seed {seed}: replayed version {} is broken: {:?}",
            i + 1,
            d.broken
        );
    }
    let ids = |s: &paraaf_runtime::engine::State| -> Vec<(String, Status, usize)> {
        s.documents
            .values()
            .map(|d| (d.id.clone(), d.status, d.tasks.len()))
            .collect()
    };
    assert_eq!(ids(replayed.state()), ids(case.rt.state()), "seed {seed}");
    for (k, n) in case.counts {
        *counts.entry(k).or_default() += n;
    }
    drop(case.rt);
    drop(replayed);
}

/// The sequence the issue names, step by step: deploy, org deploy, a redeploy with a
/// changed organogram, and the org deploy of the same organogram again.
#[test]
fn the_named_sequence_keeps_every_document() {
    each_store("redeploy-named", the_named_sequence);
}

fn the_named_sequence(stores: &Stores) {
    let vs = prepare();
    let mut counts = BTreeMap::new();
    use Step::*;
    run_case(
        stores,
        1,
        &[
            Submit,
            OrgDeploy(1),
            Submit,
            Deploy(2),
            Sign,
            OrgDeploy(2),
            Deploy(3),
            Sign,
            Deploy(0),
            Submit,
            Deploy(4),
            OrgDeploy(4),
        ],
        &vs,
        &mut counts,
    );
    // The teamcoach left through a redeploy: it was an organogram change, and the
    // employee named in files in flight leaving is refused (the plan or --force of
    // `org deploy` decides what happens to their steps).
    assert!(
        counts
            .get("redeploy changing the organogram")
            .copied()
            .unwrap_or(0)
            >= 3,
        "{counts:?}"
    );
    assert!(
        counts.get("redeploy refused").copied().unwrap_or(0) >= 1,
        "{counts:?}"
    );
}

#[test]
fn random_sequences_of_deploys_keep_every_document_visible_and_the_log_verified() {
    each_store("redeploy-random", random_sequences);
}

fn random_sequences(stores: &Stores) {
    let vs = prepare();
    let mut counts = BTreeMap::new();
    let cases: u64 = std::env::var("PARAAF_REDEPLOY_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    for seed in 0..cases {
        let mut g = Gen(0x9E37_79B9_7F4A_7C15 ^ (seed + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let steps: Vec<Step> = (0..10)
            .map(|_| match g.below(6) {
                0 | 1 => Step::Deploy(g.below(vs.len())),
                2 => Step::OrgDeploy(g.below(vs.len())),
                3 | 4 => Step::Submit,
                _ => Step::Sign,
            })
            .collect();
        run_case(stores, 100 + seed, &steps, &vs, &mut counts);
    }
    println!("{cases} cases: {counts:?}");
    for k in [
        "redeploy changing the organogram",
        "redeploy refused",
        "submitted",
        "signed",
    ] {
        assert!(
            counts.get(k).copied().unwrap_or(0) > 0,
            "never `{k}`: {counts:?}"
        );
    }
}
