//! The workspace: one salsa database with the project's inputs. Edits set inputs; every
//! answer comes from the compiler's queries. Owned by one thread, so edits apply in order.

use crate::lines::LineIndex;
use paraaf_compiler::db::{Database, OrgSource, Project, SourceFile, project_diagnostics};
use paraaf_compiler::diagnostics::Severity;
use salsa::Setter;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tower_lsp_server::ls_types::{self as lsp, Uri};

/// The project being edited.
pub struct Workspace {
    /// The database.
    pub db: Database,
    /// The project input, once a file was opened.
    pub project: Option<Project>,
    /// Project root.
    pub root: PathBuf,
    /// Absolute path → source input.
    pub files: BTreeMap<PathBuf, SourceFile>,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace {
            db: Database::default(),
            project: None,
            root: PathBuf::from("."),
            files: BTreeMap::new(),
        }
    }
}

impl Workspace {
    /// Loads the project that holds `path` (once).
    fn ensure_project(&mut self, path: &Path) {
        if self.project.is_some() {
            return;
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        if let Ok(loaded) = paraaf_compiler::load::load(dir) {
            self.root = loaded.root.clone();
            self.db = loaded.db;
            for f in loaded.project.files(&self.db).iter() {
                self.files.insert(self.root.join(f.name(&self.db)), *f);
            }
            self.project = Some(loaded.project);
        } else {
            // No paraaf.toml: check the file on its own against an empty organogram.
            self.root = dir.to_path_buf();
            let org = OrgSource::new(&self.db, "(no organogram)".to_string(), String::new());
            self.project = Some(Project::new(&self.db, Vec::new(), org));
        }
    }

    fn name_of(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Sets the text of a file (opening it in the project if new).
    pub fn set_text(&mut self, path: &Path, text: String) {
        self.ensure_project(path);
        let Some(project) = self.project else { return };
        if let Some(file) = self.files.get(path).copied() {
            if file.text(&self.db) != &text {
                file.set_text(&mut self.db).to(text);
            }
            return;
        }
        if path.extension().is_some_and(|e| e == "toml") {
            return;
        }
        let file = SourceFile::new(&self.db, self.name_of(path), text);
        self.files.insert(path.to_path_buf(), file);
        let mut files = project.files(&self.db).clone();
        files.push(file);
        project.set_files(&mut self.db).to(files);
    }

    /// A file was closed: fall back to its content on disk.
    pub fn close(&mut self, path: &Path) {
        if let Ok(text) = std::fs::read_to_string(path) {
            self.set_text(path, text);
        }
    }

    /// A file changed on disk (the organogram, or a file that is not open).
    pub fn changed_on_disk(&mut self, path: &Path, open: bool) {
        let Some(project) = self.project else { return };
        let org = project.org(&self.db);
        if self.root.join(org.name(&self.db)) == path {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if org.text(&self.db) != &text {
                org.set_text(&mut self.db).to(text);
            }
        } else if !open {
            self.close(path);
        }
    }

    /// Absolute path of a project-relative file name.
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.root.join(name)
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
        by_file.insert(project.org(&self.db).name(&self.db).clone(), Vec::new());
        let mut lines = BTreeMap::new();
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
        by_file
            .into_iter()
            .filter_map(|(name, diags)| Some((Uri::from_file_path(self.path_of(&name))?, diags)))
            .collect()
    }
}
