//! Every project of the editor's workspace: one [`Workspace`] (its own salsa database
//! and organogram) per `paraaf.toml`, found under the workspace folders and above each
//! opened file. A file belongs to the nearest `paraaf.toml` above it; a file with none
//! is checked on its own and told so (P0024).

use crate::workspace::Workspace;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tower_lsp_server::ls_types::{self as lsp, Uri};

/// Folders never searched for projects.
const SKIP: &[&str] = &["target", "node_modules"];
/// How deep below a workspace folder projects are looked for.
const MAX_DEPTH: usize = 8;

/// The projects (by root folder) and loose files (by path).
#[derive(Default)]
pub struct Projects {
    /// Root folder (holding `paraaf.toml`) → project.
    pub projects: BTreeMap<PathBuf, Workspace>,
    /// A file in no project → its own workspace.
    pub loose: BTreeMap<PathBuf, Workspace>,
}

/// The nearest folder at or above `path`'s folder holding a `paraaf.toml`.
pub fn root_of(path: &Path) -> Option<PathBuf> {
    path.parent()?
        .ancestors()
        .find(|d| d.join(paraaf_compiler::load::CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}

impl Projects {
    /// Loads every project below `folder` (a workspace folder).
    pub fn add_folder(&mut self, folder: &Path) {
        let mut stack = vec![(folder.to_path_buf(), 0)];
        while let Some((dir, depth)) = stack.pop() {
            if dir.join(paraaf_compiler::load::CONFIG_FILE).is_file()
                && !self.projects.contains_key(&dir)
            {
                self.projects.insert(dir.clone(), Workspace::load(&dir));
            }
            if depth >= MAX_DEPTH {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if e.file_type().is_ok_and(|t| t.is_dir())
                    && !name.starts_with('.')
                    && !SKIP.contains(&name.as_str())
                {
                    stack.push((e.path(), depth + 1));
                }
            }
        }
    }

    /// Forgets the projects below `folder` (a workspace folder was removed); returns the
    /// files whose diagnostics must be cleared.
    pub fn remove_folder(&mut self, folder: &Path) -> Vec<PathBuf> {
        let gone: Vec<PathBuf> = self
            .projects
            .keys()
            .filter(|r| r.starts_with(folder))
            .cloned()
            .collect();
        let mut files = Vec::new();
        for root in gone {
            if let Some(ws) = self.projects.remove(&root) {
                files.extend(ws.files.keys().cloned());
            }
        }
        files
    }

    /// The workspace `path` belongs to, loading its project (or making a loose one).
    pub fn for_path_mut(&mut self, path: &Path) -> &mut Workspace {
        match root_of(path) {
            Some(root) => {
                let ws = self
                    .projects
                    .entry(root.clone())
                    .or_insert_with(|| Workspace::load(&root));
                let is_source = path.extension().is_some_and(|e| e == "paraaf");
                if !is_source || ws.includes(path) {
                    self.loose.remove(path);
                    return self.projects.get_mut(&root).expect("just inserted");
                }
                self.loose
                    .entry(path.to_path_buf())
                    .or_insert_with(|| Workspace::excluded(path, &root))
            }
            None => self
                .loose
                .entry(path.to_path_buf())
                .or_insert_with(|| Workspace::loose(path)),
        }
    }

    /// The workspace `path` belongs to, if loaded.
    pub fn for_path(&self, path: &Path) -> Option<&Workspace> {
        if let Some(ws) = self.loose.get(path) {
            return Some(ws);
        }
        self.projects.get(&root_of(path)?)
    }

    /// A `paraaf.toml` changed, appeared or went away: reload that project (its files
    /// that are open in the editor, `open`, then belong to the nearest project left, or
    /// are loose).
    pub fn config_changed(
        &mut self,
        config: &Path,
        open: &std::collections::BTreeSet<PathBuf>,
    ) -> Vec<PathBuf> {
        let Some(root) = config.parent() else {
            return Vec::new();
        };
        let old = self.projects.remove(root);
        if !config.is_file()
            && let Some(ws) = &old
        {
            // Keep the editor's buffers: they move to their new home.
            let buffers: Vec<(PathBuf, String)> = ws
                .files
                .iter()
                .filter(|(p, _)| open.contains(*p))
                .map(|(p, f)| (p.clone(), f.text(&ws.db).clone()))
                .collect();
            let mut cleared: Vec<PathBuf> = ws
                .files
                .keys()
                .filter(|p| !open.contains(*p))
                .cloned()
                .collect();
            for (p, text) in buffers {
                self.for_path_mut(&p).set_text(&p, text);
            }
            cleared.sort();
            return cleared;
        }
        let mut cleared: Vec<PathBuf> = old
            .map(|w| w.files.into_keys().collect())
            .unwrap_or_default();
        if config.is_file() {
            let ws = Workspace::load(root);
            cleared.retain(|f| !ws.files.contains_key(f));
            self.projects.insert(root.to_path_buf(), ws);
        }
        cleared
    }

    /// Every workspace: projects first, then loose files.
    pub fn all(&self) -> impl Iterator<Item = &Workspace> {
        self.projects.values().chain(self.loose.values())
    }
}

/// The `file://` URI of a path, percent-encoded as editors send them (spaces, `é`, emoji).
pub fn uri_of(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

/// Diagnostics of every project and loose file.
pub fn diagnostics(workspaces: &[Workspace]) -> Vec<(Uri, Vec<lsp::Diagnostic>)> {
    workspaces.iter().flat_map(|w| w.diagnostics()).collect()
}
