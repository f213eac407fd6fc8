//! One project: a salsa database with the project's inputs. Edits set inputs; every
//! answer comes from the compiler's queries. Owned by one thread, so edits apply in order;
//! a clone (sharing the database) computes diagnostics on another thread and is
//! cancelled by the next edit. `projects.rs` holds one of these per `paraaf.toml`.

use crate::lines::LineIndex;
use paraaf_compiler::db::{Database, OrgSource, Project, SourceFile, project_diagnostics};
use paraaf_compiler::diagnostics::Severity;
use salsa::Setter;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tower_lsp_server::ls_types::{self as lsp, Uri};

/// One project being edited (or one loose file).
#[derive(Clone)]
pub struct Workspace {
    /// The database.
    pub db: Database,
    /// The project input, once a file was opened.
    pub project: Option<Project>,
    /// Project root.
    pub root: PathBuf,
    /// Absolute path → source input.
    pub files: BTreeMap<PathBuf, SourceFile>,
    /// Why the project could not be loaded, or that a loose file is in none (shown as a
    /// diagnostic at the top of each of its files).
    pub problem: Option<String>,
    /// The files and folders `paraaf.toml`'s `include` names, absolute; empty: all.
    pub include: Vec<PathBuf>,
    /// Inputs of files that left the project, emptied, by path: salsa never frees an
    /// input, so a file that comes back takes its old one (opening and closing an
    /// unsaved 2 MB buffer over and over grew the server without end).
    retired: BTreeMap<PathBuf, SourceFile>,
}

impl Workspace {
    /// Loads the project whose `paraaf.toml` is in `root`. A project that cannot be
    /// read still serves its files (against an empty organogram) and says why.
    pub fn load(root: &Path) -> Workspace {
        match paraaf_compiler::load::load(root) {
            Ok(loaded) => {
                let mut files = BTreeMap::new();
                for f in loaded.project.files(&loaded.db).iter() {
                    files.insert(
                        paraaf_compiler::load::normalize(&loaded.root.join(f.name(&loaded.db))),
                        *f,
                    );
                }
                Workspace {
                    root: loaded.root,
                    project: Some(loaded.project),
                    db: loaded.db,
                    files,
                    problem: None,
                    include: loaded.include,
                    retired: BTreeMap::new(),
                }
            }
            Err(e) => Workspace::empty(
                root,
                Some(format!(
                    "this project cannot be read: {e}\nhelp: correct paraaf.toml; until then the file is checked on its own, without an organogram"
                )),
            ),
        }
    }

    /// A workspace for a file in no project: checked on its own against an empty
    /// organogram, with a diagnostic that says so.
    pub fn loose(file: &Path) -> Workspace {
        Workspace::empty(
            file.parent().unwrap_or(Path::new(".")),
            Some({
                // The same words as `paraaf check FILE`.
                let d = paraaf_compiler::load::not_in_project("");
                format!("{}\nhelp: {}", d.message, d.help.unwrap_or_default())
            }),
        )
    }

    fn empty(root: &Path, problem: Option<String>) -> Workspace {
        let db = Database::default();
        let org = OrgSource::new(&db, "(no organogram)".to_string(), String::new());
        let project = Some(Project::new(&db, Vec::new(), org));
        Workspace {
            db,
            project,
            root: root.to_path_buf(),
            files: BTreeMap::new(),
            problem,
            include: Vec::new(),
            retired: BTreeMap::new(),
        }
    }

    /// Whether a `.paraaf` file at `path` is in the project by `paraaf.toml`'s `include`
    /// (as `paraaf check` reads it).
    pub fn includes(&self, path: &Path) -> bool {
        self.include.is_empty() || self.include.iter().any(|i| path.starts_with(i))
    }

    /// A file below a project that its `include` leaves out: checked on its own, and
    /// told why.
    pub fn excluded(file: &Path, root: &Path) -> Workspace {
        Workspace::empty(
            file.parent().unwrap_or(Path::new(".")),
            Some(format!(
                "this file is not in the project of {}: its paraaf.toml `include` leaves it out, so `paraaf check` skips it; it is checked on its own, without an organogram\nhelp: add its folder to `include` in paraaf.toml, or move the file into an included folder",
                root.join(paraaf_compiler::load::CONFIG_FILE).display()
            )),
        )
    }

    /// Whether `path` is this project's organogram file.
    fn is_org(&self, path: &Path) -> bool {
        self.project
            .is_some_and(|p| self.root.join(p.org(&self.db).name(&self.db)) == path)
    }

    /// The text of each of this project's files that is open in the editor (`open`):
    /// the buffers to carry over when the file moves to another project.
    pub fn open_buffers(
        &self,
        open: &std::collections::BTreeSet<PathBuf>,
    ) -> Vec<(PathBuf, String)> {
        self.files
            .iter()
            .filter(|(p, _)| open.contains(*p))
            .map(|(p, f)| (p.clone(), f.text(&self.db).clone()))
            .collect()
    }

    /// A file left the project (deleted or renamed on disk).
    pub fn remove(&mut self, path: &Path) {
        let Some(project) = self.project else { return };
        if let Some(file) = self.files.remove(path) {
            let files: Vec<SourceFile> = project
                .files(&self.db)
                .iter()
                .copied()
                .filter(|f| *f != file)
                .collect();
            project.set_files(&mut self.db).to(files);
            // Its text and what was derived from it are let go: the input is emptied and
            // its per-file queries answered once more on the empty text.
            file.set_text(&mut self.db).to(String::new());
            let _ = paraaf_compiler::db::parse(&self.db, file);
            let _ = paraaf_compiler::db::file_signature(&self.db, file);
            let _ = paraaf_compiler::db::file_diagnostics(&self.db, project, file);
            self.retired.insert(path.to_path_buf(), file);
        }
    }

    fn name_of(&self, path: &Path) -> String {
        paraaf_compiler::load::name_in_project(&self.root, path)
    }

    /// Sets the text of a file (opening it in the project if new). The organogram's
    /// buffer is the organogram while it is open, saved or not.
    pub fn set_text(&mut self, path: &Path, text: String) {
        let Some(project) = self.project else { return };
        if self.is_org(path) {
            let org = project.org(&self.db);
            if org.text(&self.db) != &text {
                org.set_text(&mut self.db).to(text);
            }
            return;
        }
        if let Some(file) = self.files.get(path).copied() {
            if file.text(&self.db) != &text {
                file.set_text(&mut self.db).to(text);
            }
            return;
        }
        if path.extension().is_some_and(|e| e == "toml") {
            return;
        }
        let file = match self.retired.remove(path) {
            Some(f) => {
                f.set_text(&mut self.db).to(text);
                f
            }
            None => SourceFile::new(&self.db, self.name_of(path), text),
        };
        self.files.insert(path.to_path_buf(), file);
        let mut files = project.files(&self.db).clone();
        files.push(file);
        project.set_files(&mut self.db).to(files);
    }

    /// A file was closed: fall back to its content on disk (gone from disk: gone from
    /// the project).
    pub fn close(&mut self, path: &Path) {
        // Only a regular file of bounded size (a pipe would block the server for good).
        match paraaf_compiler::load::read_text(path) {
            Ok(text) => self.set_text(path, text),
            // A deleted organogram is an empty one (its loss shows as P0022).
            Err(_) if !path.exists() && self.is_org(path) => self.set_text(path, String::new()),
            Err(_) if !path.exists() => self.remove(path),
            Err(_) => {}
        }
    }

    /// A file changed on disk (the organogram, or a file that is not open).
    pub fn changed_on_disk(&mut self, path: &Path, open: bool) {
        if !open {
            self.close(path);
        }
    }

    /// Absolute path of a project-relative file name.
    pub fn path_of(&self, name: &str) -> PathBuf {
        paraaf_compiler::load::normalize(&self.root.join(name))
    }

    /// Text of a file by its project-relative name (sources and the organogram).
    pub fn text_of(&self, name: &str) -> Option<&str> {
        let project = self.project?;
        let org = project.org(&self.db);
        if org.name(&self.db) == name {
            return Some(org.text(&self.db));
        }
        project
            .files(&self.db)
            .iter()
            .find(|f| f.name(&self.db) == name)
            .map(|f| f.text(&self.db).as_str())
    }

    /// LSP range of a span, indexing each file's lines once per `lines` cache.
    fn range<'a>(
        &'a self,
        lines: &mut BTreeMap<String, LineIndex<'a>>,
        span: &paraaf_compiler::diagnostics::Span,
    ) -> Option<lsp::Range> {
        if !lines.contains_key(&span.file) {
            lines.insert(span.file.clone(), LineIndex::new(self.text_of(&span.file)?));
        }
        Some(lines[&span.file].range(&span.range))
    }

    fn location_in<'a>(
        &'a self,
        lines: &mut BTreeMap<String, LineIndex<'a>>,
        span: &paraaf_compiler::diagnostics::Span,
    ) -> Option<lsp::Location> {
        let range = self.range(lines, span)?;
        Some(lsp::Location::new(
            Uri::from_file_path(self.path_of(&span.file))?,
            range,
        ))
    }

    /// LSP location of a span.
    pub fn location(&self, span: &paraaf_compiler::diagnostics::Span) -> Option<lsp::Location> {
        self.location_in(&mut BTreeMap::new(), span)
    }

    /// Diagnostics of every project file (empty lists clear old ones), as `paraaf check`
    /// reports them: same codes, spans, help and related locations.
    pub fn diagnostics(&self) -> Vec<(Uri, Vec<lsp::Diagnostic>)> {
        let Some(project) = self.project else {
            return Vec::new();
        };
        let mut by_file: BTreeMap<String, Vec<lsp::Diagnostic>> = BTreeMap::new();
        for f in project.files(&self.db) {
            by_file.insert(f.name(&self.db).clone(), Vec::new());
        }
        let org_name = project.org(&self.db).name(&self.db).clone();
        if self.problem.is_none() || self.root.join(&org_name).is_file() {
            // A loose file's "(no organogram)" is no file: nothing is published for it.
            by_file.insert(org_name, Vec::new());
        }
        let mut lines = BTreeMap::new();
        if let Some(problem) = &self.problem {
            for list in by_file.values_mut() {
                list.push(lsp::Diagnostic {
                    range: lsp::Range::default(),
                    severity: Some(lsp::DiagnosticSeverity::WARNING),
                    code: Some(lsp::NumberOrString::String(
                        paraaf_compiler::diagnostics::Code::NotInProject.to_string(),
                    )),
                    source: Some("paraaf".into()),
                    message: problem.clone(),
                    ..Default::default()
                });
            }
        }
        for d in project_diagnostics(&self.db, project) {
            let Some(range) = self.range(&mut lines, &d.span) else {
                continue;
            };
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let related: Vec<lsp::DiagnosticRelatedInformation> = d
                .labels
                .iter()
                .filter_map(|l| {
                    Some(lsp::DiagnosticRelatedInformation {
                        location: self.location_in(&mut lines, &l.span)?,
                        message: l.message.clone(),
                    })
                })
                .collect();
            by_file.entry(d.span.file.clone()).or_default().push(lsp::Diagnostic {
                range,
                severity: Some(match d.severity {
                    Severity::Error => lsp::DiagnosticSeverity::ERROR,
                    Severity::Warning => lsp::DiagnosticSeverity::WARNING,
                }),
                code: Some(lsp::NumberOrString::String(d.code.to_string())),
                source: Some("paraaf".into()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                data: d.fix.as_ref().map(|f| serde_json::json!({ "replacement": f.replacement, "start": f.span.range.start, "end": f.span.range.end })),
                ..Default::default()
            });
        }
        for list in by_file.values_mut() {
            cap(list);
        }
        by_file
            .into_iter()
            .filter_map(|(name, diags)| Some((Uri::from_file_path(self.path_of(&name))?, diags)))
            .collect()
    }
}

/// Most diagnostics published for one file: an editor slows down on tens of thousands,
/// and nobody reads past the first screens.
pub const MAX_DIAGNOSTICS_PER_FILE: usize = 500;

/// Keeps the first [`MAX_DIAGNOSTICS_PER_FILE`] diagnostics of a file and says how many
/// more `paraaf check` shows.
fn cap(list: &mut Vec<lsp::Diagnostic>) {
    if list.len() <= MAX_DIAGNOSTICS_PER_FILE {
        return;
    }
    let more = list.len() - MAX_DIAGNOSTICS_PER_FILE;
    list.truncate(MAX_DIAGNOSTICS_PER_FILE);
    list.push(lsp::Diagnostic {
        range: lsp::Range::default(),
        severity: Some(lsp::DiagnosticSeverity::INFORMATION),
        source: Some("paraaf".into()),
        message: format!(
            "{more} more problems in this file are not shown here; `paraaf check` lists them all"
        ),
        ..Default::default()
    });
}
