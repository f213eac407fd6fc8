//! The salsa database: inputs (file texts, organogram text) and the tracked queries of
//! the pipeline. The CLI and the language server hold this same database type; an edit
//! re-runs only the queries whose inputs changed.

use crate::check;
use crate::compile::{self, CompiledProject};
use crate::diagnostics::{self, Code, Diagnostic};
use crate::org::{self, Organogram};
use crate::resolve::Index;
use crate::semantic::Semantic;
use crate::syntax::{self, Parsed};

/// One `.paraaf` file.
#[salsa::input]
pub struct SourceFile {
    /// Project-relative name, used in diagnostics.
    #[returns(ref)]
    pub name: String,
    /// Current text (the editor's buffer or the file on disk).
    #[returns(ref)]
    pub text: String,
}

/// The organogram file.
#[salsa::input]
pub struct OrgSource {
    /// Project-relative name.
    #[returns(ref)]
    pub name: String,
    /// TOML text.
    #[returns(ref)]
    pub text: String,
}

/// A project: its files and its organogram.
#[salsa::input]
pub struct Project {
    /// The `.paraaf` files, in a stable order.
    #[returns(ref)]
    pub files: Vec<SourceFile>,
    /// The organogram.
    pub org: OrgSource,
}

/// The database trait queries take.
#[salsa::db]
pub trait Db: salsa::Database {}

/// The one database implementation, shared by the CLI and the language server.
#[salsa::db]
#[derive(Default, Clone)]
pub struct Database {
    storage: salsa::Storage<Self>,
}

#[salsa::db]
impl salsa::Database for Database {}

#[salsa::db]
impl Db for Database {}

/// The organogram with the problems found loading it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, salsa::Update)]
pub struct LoadedOrg {
    /// What could be loaded.
    pub org: Organogram,
    /// `P0022` diagnostics.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one file.
#[salsa::tracked(returns(ref))]
pub fn parse(db: &dyn Db, file: SourceFile) -> Parsed {
    syntax::parse(file.name(db), file.text(db))
}

/// Loads the organogram.
#[salsa::tracked(returns(ref))]
pub fn organogram(db: &dyn Db, org: OrgSource) -> LoadedOrg {
    let (org_model, diagnostics) = org::load_toml(org.name(db), org.text(db));
    LoadedOrg {
        org: org_model,
        diagnostics,
    }
}

/// All definitions of the project.
#[salsa::tracked(returns(ref))]
pub fn index(db: &dyn Db, project: Project) -> Index {
    let mut index = Index::default();
    for file in project.files(db) {
        index.add_file(file.name(db), &parse(db, *file).ast);
    }
    index
}

/// What one file's definitions tell the checks of other files: document kinds, groups
/// and substitute declarations whole (their fields, shields and members are checked
/// against, and diagnostics point at them), flows as name and kind, rules and agencies as names. No flow or rule
/// body is in it, so typing inside one leaves every file's signature equal to the last:
/// salsa keeps the other files' diagnostics without running their checks again.
#[salsa::tracked(returns(ref))]
pub fn file_signature(db: &dyn Db, file: SourceFile) -> Index {
    let mut index = Index::default();
    index.add_file(file.name(db), &parse(db, file).ast);
    let bare = |n: &crate::syntax::ast::Name| crate::syntax::ast::Name {
        text: n.text.clone(),
        span: 0..0,
    };
    for list in index.flows.values_mut() {
        for f in list {
            f.def = crate::syntax::ast::FlowDef {
                name: bare(&f.def.name),
                kind: bare(&f.def.kind),
                when: None,
                visible: Vec::new(),
                steps: Vec::new(),
                on_refused: None,
                deadline: None,
                span: 0..0,
            };
        }
    }
    for list in index.rules.values_mut() {
        for r in list {
            r.def = crate::syntax::ast::RuleDef {
                name: bare(&r.def.name),
                event: bare(&r.def.event),
                when: None,
                body: Vec::new(),
                span: 0..0,
            };
        }
    }
    for list in index.agencies.values_mut() {
        for a in list {
            a.def.name = bare(&a.def.name);
            a.def.span = 0..0;
        }
    }
    index
}

/// The signatures of every file of the project (see [`file_signature`]): what a file's
/// checks read of the others. Equal after an edit inside a flow or rule body, so the
/// checks of the other files are not run again.
#[salsa::tracked(returns(ref))]
pub fn signatures(db: &dyn Db, project: Project) -> Index {
    let mut index = Index::default();
    for file in project.files(db) {
        index.merge(file_signature(db, *file).clone());
    }
    index
}

/// One file checked: its diagnostics and its semantic model, from one run of the checker
/// (the checker records what each name denotes as it resolves it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CheckedFile {
    /// Syntax, names, types, signers, shielding, conditions.
    pub diagnostics: Vec<Diagnostic>,
    /// Every name occurrence and what it denotes.
    pub semantic: Semantic,
}

/// Checks one file against the organogram and the other files' signatures.
#[salsa::tracked(returns(ref))]
pub fn checked_file(db: &dyn Db, project: Project, file: SourceFile) -> CheckedFile {
    let parsed = parse(db, file);
    let org_source = project.org(db);
    let loaded = organogram(db, org_source);
    // The other files as far as this file's checks read them: edits inside their
    // flows and rules do not run this again.
    let idx = signatures(db, project);
    let (diags, semantic) = crate::semantic::check_file(
        &loaded.org,
        org_source.name(db),
        idx,
        file.name(db),
        &parsed.ast,
    );
    let mut diagnostics = parsed.diagnostics.clone();
    diagnostics.extend(diags);
    CheckedFile {
        diagnostics,
        semantic,
    }
}

/// Diagnostics of one file: syntax, names, types, signers, shielding, conditions.
#[salsa::tracked(returns(ref))]
pub fn file_diagnostics(db: &dyn Db, project: Project, file: SourceFile) -> Vec<Diagnostic> {
    checked_file(db, project, file).diagnostics.clone()
}

/// The semantic model of one file: every name occurrence and the entity it denotes, as
/// the checker resolved it. Re-run only when the file or what its checks read of the
/// others (their signatures, the organogram) changes.
#[salsa::tracked(returns(ref))]
pub fn semantic(db: &dyn Db, project: Project, file: SourceFile) -> Semantic {
    checked_file(db, project, file).semantic.clone()
}

/// Every diagnostic of the project, sorted, without duplicates.
#[salsa::tracked(returns(ref))]
pub fn project_diagnostics(db: &dyn Db, project: Project) -> Vec<Diagnostic> {
    let org_source = project.org(db);
    let loaded = organogram(db, org_source);
    let mut out = loaded.diagnostics.clone();
    // A broken organogram is reported once: without it every name in every flow would
    // look unknown. Until it is fixed, only the files' own syntax errors are added.
    let org_broken = out.iter().any(Diagnostic::is_error);
    for file in project.files(db) {
        let diags = file_diagnostics(db, project, *file).iter();
        if org_broken {
            out.extend(
                diags
                    .filter(|d| {
                        matches!(
                            d.code,
                            Code::SyntaxError | Code::TooDeep | Code::InvalidLiteral
                        )
                    })
                    .cloned(),
            );
        } else {
            out.extend(diags.cloned());
        }
    }
    if !org_broken {
        out.extend(check::check_project(
            &loaded.org,
            org_source.name(db),
            index(db, project),
        ));
    }
    diagnostics::sort(&mut out);
    out.dedup();
    out
}

/// The compiled project, or `None` when the project has errors.
#[salsa::tracked(returns(ref))]
pub fn compiled(db: &dyn Db, project: Project) -> Option<CompiledProject> {
    if project_diagnostics(db, project)
        .iter()
        .any(Diagnostic::is_error)
    {
        return None;
    }
    Some(compile::lower(
        &organogram(db, project.org(db)).org,
        index(db, project),
    ))
}

impl Database {
    /// A database holding one project made from texts: `(name, text)` of the organogram
    /// and of each file. Used by tests and tools that do not read a folder.
    pub fn from_texts(org: (&str, &str), files: &[(&str, &str)]) -> (Database, Project) {
        let db = Database::default();
        let files = files
            .iter()
            .map(|(n, t)| SourceFile::new(&db, n.to_string(), t.to_string()))
            .collect();
        let org = OrgSource::new(&db, org.0.to_string(), org.1.to_string());
        let project = Project::new(&db, files, org);
        (db, project)
    }
}
