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
    /// For polling (a client that cannot watch files): each project file's last
    /// modification time seen, `None` when it was missing.
    mtimes: BTreeMap<PathBuf, Option<std::time::SystemTime>>,
}

/// What one poll of the disk found.
#[derive(Default)]
pub struct Polled {
    /// Files whose projects need new diagnostics.
    pub changed: Vec<PathBuf>,
    /// Files whose diagnostics must be cleared.
    pub gone: Vec<PathBuf>,
    /// A `paraaf.toml` changed: every list is computed again.
    pub reconfigured: bool,
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

    /// Polls the disk for what a watching client would report: every project's
    /// `paraaf.toml`, organogram and source files, by modification time. A file changed
    /// outside the editor is read again (unless open: the editor's buffer wins), a
    /// deleted one leaves its project, a changed `paraaf.toml` reloads the project. The
    /// first poll only records the times. New files are found when their project reloads.
    pub fn poll(&mut self, open: &std::collections::BTreeSet<PathBuf>) -> Polled {
        let mut watched: Vec<PathBuf> = Vec::new();
        for (root, ws) in &self.projects {
            watched.push(root.join(paraaf_compiler::load::CONFIG_FILE));
            if let Some(p) = ws.project {
                watched.push(ws.path_of(p.org(&ws.db).name(&ws.db)));
            }
            watched.extend(ws.files.keys().cloned());
        }
        let mut out = Polled::default();
        let first = self.mtimes.is_empty();
        let mut seen = BTreeMap::new();
        for path in watched {
            let now = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            seen.insert(path.clone(), now);
            // A file watched for the first time (a project loaded since) is only recorded.
            let moved = matches!(self.mtimes.get(&path), Some(before) if *before != now);
            if first || !moved {
                continue;
            }
            if path
                .file_name()
                .is_some_and(|n| n == paraaf_compiler::load::CONFIG_FILE)
            {
                out.gone.extend(self.config_changed(&path, open));
                out.reconfigured = true;
            } else if open.contains(&path) {
                continue;
            } else if now.is_none() {
                out.gone.extend(self.path_deleted(&path, open));
            } else {
                self.for_path_mut(&path).changed_on_disk(&path, false);
                out.changed.push(path);
            }
        }
        self.mtimes = seen;
        out
    }

    /// Every workspace that holds `path`: the one [`Projects::for_path`] answers, then
    /// every other project that includes the file (`include = ["../gedeeld"]` in two
    /// projects: the file belongs to both).
    pub fn all_for_path(&self, path: &Path) -> Vec<&Workspace> {
        let mut out: Vec<&Workspace> = self.for_path(path).into_iter().collect();
        for ws in self.projects.values() {
            if ws.files.contains_key(path) && !out.iter().any(|w| w.root == ws.root) {
                out.push(ws);
            }
        }
        out
    }

    /// Roots of the projects, other than the one `for_path_mut` gives, that hold `path`.
    fn other_holders(&mut self, path: &Path) -> (PathBuf, Vec<PathBuf>) {
        let first = self.for_path_mut(path).root.clone();
        let others = self
            .projects
            .iter()
            .filter(|(r, ws)| **r != first && ws.files.contains_key(path))
            .map(|(r, _)| r.clone())
            .collect();
        (first, others)
    }

    /// Sets the editor's text of `path` in every project that holds it.
    pub fn set_text_everywhere(&mut self, path: &Path, text: String) {
        let (_, others) = self.other_holders(path);
        for r in others {
            if let Some(ws) = self.projects.get_mut(&r) {
                ws.set_text(path, text.clone());
            }
        }
        self.for_path_mut(path).set_text(path, text);
    }

    /// The editor closed `path`: every project that holds it reads it from disk again.
    pub fn close_everywhere(&mut self, path: &Path) {
        let (_, others) = self.other_holders(path);
        for r in others {
            if let Some(ws) = self.projects.get_mut(&r) {
                ws.close(path);
            }
        }
        self.for_path_mut(path).close(path);
    }

    /// The workspaces whose diagnostics must be computed together with `chosen`: every
    /// project that shares a file with one of them (a shared file's list is merged from
    /// all its projects, so none may be left out).
    pub fn with_sharers(&self, chosen: &mut Vec<Workspace>) {
        let mut i = 0;
        while i < chosen.len() {
            let files: Vec<PathBuf> = chosen[i].files.keys().cloned().collect();
            for ws in self.projects.values() {
                if !chosen.iter().any(|c| c.root == ws.root)
                    && files.iter().any(|f| ws.files.contains_key(f))
                {
                    chosen.push(ws.clone());
                }
            }
            i += 1;
        }
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

/// One project's list for a file, with the project's name.
type Labelled = (String, Vec<lsp::Diagnostic>);

/// Diagnostics of every project and loose file. A file that several projects include
/// gets one list: each diagnostic once, labelled with the projects that report it
/// (`in projects aalst, hasselt`), so the lists no longer replace each other.
pub fn diagnostics(workspaces: &[Workspace]) -> Vec<(Uri, Vec<lsp::Diagnostic>)> {
    let mut out: Vec<(Uri, Vec<Labelled>)> = Vec::new();
    let mut at: std::collections::HashMap<Uri, usize> = std::collections::HashMap::new();
    for w in workspaces {
        let label = w
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (uri, list) in w.diagnostics() {
            let i = *at.entry(uri.clone()).or_insert_with(|| {
                out.push((uri, Vec::new()));
                out.len() - 1
            });
            out[i].1.push((label.clone(), list));
        }
    }
    out.into_iter()
        .map(|(uri, parts)| {
            if parts.len() == 1 {
                let list = parts.into_iter().next().map(|(_, l)| l).unwrap_or_default();
                return (uri, list);
            }
            let mut merged: Vec<(lsp::Diagnostic, Vec<String>)> = Vec::new();
            for (label, list) in parts {
                for d in list {
                    match merged.iter_mut().find(|(m, _)| *m == d) {
                        Some((_, labels)) => labels.push(label.clone()),
                        None => merged.push((d, vec![label.clone()])),
                    }
                }
            }
            let list = merged
                .into_iter()
                .map(|(mut d, labels)| {
                    d.message = format!(
                        "{}\nin project{} {}",
                        d.message,
                        if labels.len() > 1 { "s" } else { "" },
                        labels.join(", ")
                    );
                    d
                })
                .collect();
            (uri, list)
        })
        .collect()
}
