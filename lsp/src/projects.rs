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
    /// The editor's workspace folders.
    folders: std::collections::BTreeSet<PathBuf>,
    /// The version of each file open in the editor, as of the text set here (published
    /// with its diagnostics, so the editor can drop lists for older text).
    pub versions: BTreeMap<PathBuf, i32>,
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
        self.folders.insert(folder.to_path_buf());
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

    /// Forgets what only `folder` (a workspace folder that was removed) brought: the
    /// projects below it, the project it lies in when no other folder reaches it, and
    /// loose files in it — except what is open in the editor (`open`), which stays
    /// until closed. Returns the files whose diagnostics must be cleared.
    pub fn remove_folder(
        &mut self,
        folder: &Path,
        open: &std::collections::BTreeSet<PathBuf>,
    ) -> Vec<PathBuf> {
        self.folders.remove(folder);
        let reached = |root: &Path, folders: &std::collections::BTreeSet<PathBuf>| {
            folders
                .iter()
                .any(|f| root.starts_with(f) || f.starts_with(root))
        };
        let gone: Vec<PathBuf> = self
            .projects
            .iter()
            .filter(|(r, ws)| {
                (r.starts_with(folder) || folder.starts_with(r))
                    && !reached(r, &self.folders)
                    && !ws.files.keys().any(|f| open.contains(f))
            })
            .map(|(r, _)| r.clone())
            .collect();
        let mut files = Vec::new();
        for root in gone {
            if let Some(ws) = self.projects.remove(&root) {
                files.extend(ws.files.keys().cloned());
            }
        }
        files.extend(self.drop_loose_below(folder, open));
        files
    }

    /// Drops the loose files at or below `dir` that are not open; returns them.
    fn drop_loose_below(
        &mut self,
        dir: &Path,
        open: &std::collections::BTreeSet<PathBuf>,
    ) -> Vec<PathBuf> {
        let loose: Vec<PathBuf> = self
            .loose
            .keys()
            .filter(|f| f.starts_with(dir) && !open.contains(*f))
            .cloned()
            .collect();
        for f in &loose {
            self.loose.remove(f);
        }
        loose
    }

    /// `path` was deleted on disk: a file, or a whole folder (editors send one event for
    /// a folder). Every file at or below it that is not open in the editor leaves its
    /// project, projects whose root was inside are forgotten, loose files there are
    /// dropped; returns the files whose diagnostics must be cleared.
    pub fn path_deleted(
        &mut self,
        path: &Path,
        open: &std::collections::BTreeSet<PathBuf>,
    ) -> Vec<PathBuf> {
        let mut gone = Vec::new();
        let roots: Vec<PathBuf> = self
            .projects
            .keys()
            .filter(|r| r.starts_with(path))
            .cloned()
            .collect();
        for root in roots {
            if let Some(ws) = self.projects.remove(&root) {
                let buffers = ws.open_buffers(open);
                gone.extend(ws.files.keys().filter(|p| !open.contains(*p)).cloned());
                // The editor's buffers stay: they move to the nearest project left.
                for (p, text) in buffers {
                    self.for_path_mut(&p).set_text(&p, text);
                }
            }
        }
        for ws in self.projects.values_mut() {
            let inside: Vec<PathBuf> = ws
                .files
                .keys()
                .filter(|f| f.starts_with(path) && !open.contains(*f))
                .cloned()
                .collect();
            for f in inside {
                ws.close(&f);
                gone.push(f);
            }
        }
        gone.extend(self.drop_loose_below(path, open));
        gone.push(path.to_path_buf());
        gone.sort();
        gone.dedup();
        gone
    }

    /// The root of the project that holds `path` through its `include` from outside its
    /// folder (`include = ["../gedeeld"]`).
    fn included_from_outside(&self, path: &Path) -> Option<PathBuf> {
        self.projects
            .iter()
            .find(|(root, ws)| !path.starts_with(root) && ws.files.contains_key(path))
            .map(|(root, _)| root.clone())
    }

    /// The workspace `path` belongs to, loading its project (or making a loose one).
    pub fn for_path_mut(&mut self, path: &Path) -> &mut Workspace {
        if let Some(root) = self.included_from_outside(path) {
            self.loose.remove(path);
            return self.projects.get_mut(&root).expect("just found");
        }
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
        if let Some(root) = self.included_from_outside(path) {
            return self.projects.get(&root);
        }
        self.projects.get(&root_of(path)?)
    }

    /// A `paraaf.toml` changed, appeared or went away: reload that project. The files
    /// open in the editor (`open`) keep their buffers and go at once to where the new
    /// configuration puts them (the project, another project, loose), not at the next
    /// keystroke. Returns the files whose diagnostics must be cleared.
    pub fn config_changed(
        &mut self,
        config: &Path,
        open: &std::collections::BTreeSet<PathBuf>,
    ) -> Vec<PathBuf> {
        let Some(root) = config.parent() else {
            return Vec::new();
        };
        let old = self.projects.remove(root);
        // The editor's buffers below this root, wherever they were.
        let mut buffers: Vec<(PathBuf, String)> = Vec::new();
        if let Some(ws) = &old {
            buffers.extend(ws.open_buffers(open));
        }
        let loose: Vec<PathBuf> = self
            .loose
            .keys()
            .filter(|p| p.starts_with(root) && open.contains(*p))
            .cloned()
            .collect();
        for p in loose {
            if let Some(ws) = self.loose.remove(&p)
                && let Some(f) = ws.files.get(&p)
            {
                buffers.push((p.clone(), f.text(&ws.db).clone()));
            }
        }
        let mut cleared: Vec<PathBuf> = old
            .map(|w| w.files.into_keys().filter(|p| !open.contains(p)).collect())
            .unwrap_or_default();
        if config.is_file() {
            let ws = Workspace::load(root);
            cleared.retain(|f| !ws.files.contains_key(f));
            self.projects.insert(root.to_path_buf(), ws);
        }
        for (p, text) in buffers {
            self.for_path_mut(&p).set_text(&p, text);
        }
        cleared.sort();
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
