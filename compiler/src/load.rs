//! The only place the compiler reads files: `paraaf.toml`, the organogram and the
//! `.paraaf` sources, into a fresh [`Database`].

use crate::db::{Database, OrgSource, Project, SourceFile};
use crate::diagnostics::{Code, Diagnostic, Span};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// File name of the project configuration.
pub const CONFIG_FILE: &str = "paraaf.toml";

/// `paraaf.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Project name (informational).
    #[serde(default)]
    pub name: Option<String>,
    /// Path of the organogram TOML, relative to the project root.
    pub organogram: String,
    /// Folders or files with flows, relative to the root. Default: every `.paraaf` below the root.
    #[serde(default)]
    pub include: Vec<String>,
    /// The purchase categories purchase orders may carry (finance); a purchase order with
    /// another category is refused at import. Empty: any category.
    #[serde(default)]
    pub purchase_categories: Vec<String>,
    /// The names people read for the document kinds (`besluit = "Collegebesluit"`): the
    /// web app and mails show these instead of the kind's name in the language.
    #[serde(default)]
    pub kinds: std::collections::BTreeMap<String, String>,
}

/// Why a project could not be loaded. Displayed as one line.
#[derive(Debug)]
pub enum LoadError {
    /// The path does not exist.
    NotFound(PathBuf),
    /// No `paraaf.toml` here or above.
    NoConfig(PathBuf),
    /// A file could not be read.
    Read(PathBuf, std::io::Error),
    /// `paraaf.toml` is invalid.
    BadConfig(PathBuf, String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound(p) => write!(f, "{} does not exist", p.display()),
            LoadError::NoConfig(p) => write!(
                f,
                "no {CONFIG_FILE} in {} or any folder above it (a project needs one naming its organogram)",
                p.display()
            ),
            LoadError::Read(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            LoadError::BadConfig(p, e) => {
                write!(f, "{} is not a valid project file: {e}", p.display())
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// A project read from disk into a database.
pub struct LoadedProject {
    /// Folder holding `paraaf.toml`.
    pub root: PathBuf,
    /// The database with all inputs set.
    pub db: Database,
    /// The project input.
    pub project: Project,
    /// `purchase_categories` of `paraaf.toml`.
    pub purchase_categories: Vec<String>,
    /// The files and folders `include` names, absolute; empty: every `.paraaf` below
    /// the root.
    pub include: Vec<PathBuf>,
    /// `[kinds]` of `paraaf.toml`: kind name → the name people read.
    pub kind_titles: std::collections::BTreeMap<String, String>,
}

impl LoadedProject {
    /// The compiled project with the titles of `[kinds]` (what `compile` writes and
    /// `deploy` deploys), or `None` when the project has errors.
    pub fn compiled(&self) -> Option<crate::compile::CompiledProject> {
        crate::db::compiled(&self.db, self.project)
            .clone()
            .map(|p| crate::compile::with_titles(p, &self.kind_titles))
    }
}

impl LoadedProject {
    /// Replaces the text of files (by project-relative name) and, if given, of the
    /// organogram: to check a change before writing it (`org migrate --apply`).
    pub fn set_texts(&mut self, files: &[(String, String)], org: Option<String>) {
        use salsa::Setter;
        for f in self.project.files(&self.db).clone() {
            if let Some((_, text)) = files.iter().find(|(n, _)| n == f.name(&self.db)) {
                f.set_text(&mut self.db).to(text.clone());
            }
        }
        if let Some(text) = org {
            self.project.org(&self.db).set_text(&mut self.db).to(text);
        }
    }

    /// Text of a file by its project-relative name (for rendering diagnostics).
    pub fn source(&self, name: &str) -> Option<&str> {
        if self.project.org(&self.db).name(&self.db) == name {
            return Some(self.project.org(&self.db).text(&self.db));
        }
        self.project
            .files(&self.db)
            .iter()
            .find(|f| f.name(&self.db) == name)
            .map(|f| f.text(&self.db).as_str())
    }
}

/// Reads a text file as office software saves it (UTF-8, a BOM, UTF-16, Windows-1252).
/// The largest source or organogram file read (a flow file is kilobytes; a larger one is
/// an export or a mistake, and reading it whole would exhaust memory).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

fn read(path: &Path) -> Result<String, LoadError> {
    read_text(path).map_err(|e| LoadError::Read(path.to_path_buf(), e))
}

/// Reads a source or organogram file as text: only a regular file (never a FIFO, a
/// device or `/dev/zero` behind a symlink, which would block or never end) of at most
/// [`MAX_FILE_BYTES`].
pub fn read_text(path: &Path) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other(
            "not a regular file (a pipe, a device or a folder)",
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "{} MB is larger than the {} MB a Paraaf file may be",
            meta.len() / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    use std::io::Read;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(
            "the file grew past the size limit while it was read",
        ));
    }
    Ok(crate::encoding::decode(&bytes).0)
}

/// Finds the project of `path` (a project folder or a single `.paraaf` file) and loads it.
/// A single file is checked on its own, against its project's organogram.
pub fn load(path: &Path) -> Result<LoadedProject, LoadError> {
    if !path.exists() {
        return Err(LoadError::NotFound(path.to_path_buf()));
    }
    let single = path.is_file().then(|| path.to_path_buf());
    let start = if path.is_file() {
        path.parent().unwrap_or(Path::new("."))
    } else {
        path
    };
    let start = if start.as_os_str().is_empty() {
        Path::new(".")
    } else {
        start
    };
    let root = start
        .ancestors()
        .find(|d| d.join(CONFIG_FILE).is_file())
        .ok_or_else(|| LoadError::NoConfig(start.to_path_buf()))?
        .to_path_buf();
    // A write of the project's files that a killed process left half done is finished
    // (or undone) before anything is read.
    if let Some(done) =
        finish_interrupted_write(&root).map_err(|e| LoadError::Read(root.join(WRITE_JOURNAL), e))?
    {
        eprintln!("{}: {done}", root.display());
    }
    let config_path = root.join(CONFIG_FILE);
    let config: ProjectConfig = toml::from_str(&read(&config_path)?)
        .map_err(|e| LoadError::BadConfig(config_path.clone(), e.message().to_string()))?;
    let org_path = root.join(&config.organogram);
    let org_text = read(&org_path)?;
    let mut paths = match &single {
        Some(file) => vec![file.clone()],
        None if config.include.is_empty() => collect(&root)?,
        None => {
            let mut v = Vec::new();
            for inc in &config.include {
                let p = normalize(&root.join(inc));
                if p.is_file() {
                    v.push(p);
                } else if p.is_dir() {
                    v.extend(collect(&p)?);
                } else {
                    return Err(LoadError::BadConfig(
                        config_path.clone(),
                        format!("`include` names {inc}, which does not exist"),
                    ));
                }
            }
            v
        }
    };
    paths.sort();
    paths.dedup();
    let db = Database::default();
    let mut files = Vec::new();
    for p in paths {
        let text = read(&p)?;
        files.push(SourceFile::new(&db, name_in_project(&root, &p), text));
    }
    let org = OrgSource::new(&db, name_in_project(&root, &org_path), org_text);
    let project = Project::new(&db, files, org);
    let include = config
        .include
        .iter()
        .map(|i| normalize(&root.join(i)))
        .collect();
    Ok(LoadedProject {
        root,
        db,
        project,
        purchase_categories: config
            .purchase_categories
            .iter()
            .map(|c| c.trim().to_lowercase())
            .collect(),
        include,
        kind_titles: config
            .kinds
            .iter()
            .map(|(k, v)| (k.clone(), v.trim().to_string()))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
    })
}

/// The warning a file in no project gets (P0024), at its first character.
pub fn not_in_project(name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::NotInProject,
        Span::new(name, 0..0),
        "this file is in no Paraaf project (no paraaf.toml in its folder or above): it is checked on its own, without an organogram",
    )
    .with_help("open the folder that holds the project's paraaf.toml, or add a paraaf.toml next to the file naming the organogram (`organogram = \"org.toml\"`)")
}

/// Loads a `.paraaf` file that is in no project: the file alone, against an empty
/// organogram (every organogram name is then unknown), and the P0024 warning.
pub fn load_loose(path: &Path) -> Result<(LoadedProject, Diagnostic), LoadError> {
    let text = read(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let db = Database::default();
    let file = SourceFile::new(&db, name.clone(), text);
    let org = OrgSource::new(&db, "(no organogram)".to_string(), String::new());
    let project = Project::new(&db, vec![file], org);
    let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    Ok((
        LoadedProject {
            root,
            db,
            project,
            purchase_categories: Vec::new(),
            include: Vec::new(),
            kind_titles: Default::default(),
        },
        not_in_project(&name),
    ))
}

/// Every `.paraaf` file below `dir`, skipping hidden folders and `target`.
fn collect(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| LoadError::Read(d.clone(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| LoadError::Read(d.clone(), e))?;
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            // The entry's own type: a symlinked folder is not followed (a link to `..`
            // would walk the tree again, two of them without end), and only regular files
            // (or links to one) are flow files, never a pipe or a device.
            let Ok(ty) = entry.file_type() else { continue };
            if ty.is_dir() {
                // A folder with its own paraaf.toml is another project (a file belongs
                // to the nearest one above it, as in the language server).
                if !name.starts_with('.') && name != "target" && !p.join(CONFIG_FILE).is_file() {
                    stack.push(p);
                }
            } else if name.ends_with(".paraaf") && p.metadata().is_ok_and(|m| m.is_file()) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// `path` relative to `root`, with forward slashes.
/// A file's name in the project: its path relative to `root` with `/` between parts,
/// `../` for a file an `include` reaches outside the root; the absolute path (with `/`)
/// only when the two share no ancestor (another drive).
pub fn name_in_project(root: &Path, path: &Path) -> String {
    let (root, path) = (normalize(root), normalize(path));
    let parts = |p: &Path| -> Vec<String> {
        p.components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect()
    };
    let (r, p) = (parts(&root), parts(&path));
    let common = r.iter().zip(&p).take_while(|(a, b)| a == b).count();
    if common == 0 && path.is_absolute() {
        let s = path.to_string_lossy().replace('\\', "/");
        return s;
    }
    let mut out: Vec<String> = vec!["..".to_string(); r.len() - common];
    out.extend(p[common..].iter().cloned());
    out.join("/")
}

/// `path` with `.` and `..` resolved lexically (`/a/b/../c` is `/a/c`), without asking
/// the file system: the one spelling of a file that `include = ["../gedeeld"]` reaches,
/// so the language server and the checker name it as the editor does.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            // `..` removes the last name; at the start of a relative path it stays
            // (`../../x` keeps both), and above the root there is nothing (`/..` is `/`).
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod names {
    use super::*;

    #[test]
    fn a_file_has_one_name_wherever_include_reaches_it() {
        let root = Path::new("/stad/aalst");
        let cases = [
            ("/stad/aalst/flows/a.paraaf", "flows/a.paraaf"),
            ("/stad/aalst/../gedeeld/b.paraaf", "../gedeeld/b.paraaf"),
            ("/stad/aalst/./flows/../flows/c.paraaf", "flows/c.paraaf"),
            ("/elders/d.paraaf", "../../elders/d.paraaf"),
        ];
        for (path, name) in cases {
            assert_eq!(name_in_project(root, Path::new(path)), name, "{path}");
        }
        assert_eq!(
            normalize(Path::new("/stad/aalst/../gedeeld/./b.paraaf")),
            Path::new("/stad/gedeeld/b.paraaf")
        );
        // A relative path keeps every leading `..` (it once dropped the second one).
        for (path, want) in [
            ("../../examples/aalst", "../../examples/aalst"),
            ("../../examples/aalst/flows", "../../examples/aalst/flows"),
            ("../a/../../b", "../../b"),
            ("./../x/./y/..", "../x"),
            ("a/../..", ".."),
            ("/..", "/"),
            ("/a/../../b", "/b"),
        ] {
            assert_eq!(normalize(Path::new(path)), Path::new(want), "{path}");
        }
    }
}

// Writing several files of a project all or none (`paraaf org migrate --apply`).
//
// Every new text goes to a temporary file next to its target (synced), while a journal in
// the project root says `prepared`. Once every temporary file is on disk the journal is
// replaced by one that says `committed` — the commit point — and the temporary files are
// renamed over their targets; then the journal is removed. A process killed before the
// commit point leaves the old files (the next load removes the temporary files); killed
// after it, the next load renames what is left, so the project is never half of one and
// half of the other once it is read. The writer holds a lock on `paraaf.toml` throughout,
// and a load only finishes a journal nobody holds.

/// The journal of a write in progress, in the project root.
pub const WRITE_JOURNAL: &str = ".paraaf-write.journal";

/// Suffix of the temporary file next to each file being written.
const WRITE_TMP: &str = ".paraaf-write.tmp";

#[derive(serde::Serialize, Deserialize)]
struct Journal {
    /// Past the commit point: every temporary file is complete.
    committed: bool,
    /// The files, by project-relative name (`../gedeeld/x.paraaf` for an include outside).
    files: Vec<String>,
}

/// Writes `files` (project-relative name, text) into the project at `root`: all of them,
/// or — when writing fails or the process dies before the commit point — none (see above).
pub fn write_all_or_none(root: &Path, files: &[(String, String)]) -> std::io::Result<()> {
    use std::io::Write;
    let lock = lock_project(root)?;
    lock.lock()?;
    finish_locked(root)?;
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    write_journal(root, false, &names)?;
    let prepared = (|| -> std::io::Result<()> {
        for (i, (name, text)) in files.iter().enumerate() {
            crash_point("write", i);
            let mut f = std::fs::File::create(tmp_of(&root.join(name)))?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        for d in folders(root, &names) {
            sync_folder(&d)?;
        }
        crash_point("commit", 0);
        write_journal(root, true, &names)
    })();
    if let Err(e) = prepared {
        roll_back(root, &names);
        return Err(e);
    }
    roll_forward(root, &names)
}

/// Finishes a write that a killed process left (see [`write_all_or_none`]): completes it
/// past the commit point, removes its temporary files before. Returns what it did, in
/// words; `None` when there was nothing to finish or another process is writing now.
pub fn finish_interrupted_write(root: &Path) -> std::io::Result<Option<String>> {
    if !root.join(WRITE_JOURNAL).exists() {
        return Ok(None);
    }
    let lock = lock_project(root)?;
    match lock.try_lock() {
        Ok(()) => finish_locked(root),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

fn finish_locked(root: &Path) -> std::io::Result<Option<String>> {
    let text = match std::fs::read_to_string(root.join(WRITE_JOURNAL)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let journal: Journal = serde_json::from_str(&text).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{WRITE_JOURNAL} is not a write journal ({e})"),
        )
    })?;
    let list = journal.files.join(", ");
    if journal.committed {
        roll_forward(root, &journal.files)?;
        Ok(Some(format!(
            "an interrupted `paraaf org migrate --apply` was completed ({list} written)"
        )))
    } else {
        roll_back(root, &journal.files);
        Ok(Some(format!(
            "an interrupted `paraaf org migrate --apply` was rolled back (nothing of it was written: {list} as before)"
        )))
    }
}

/// `paraaf.toml`, opened to be locked: the lock of a write of the project's files.
fn lock_project(root: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(root.join(CONFIG_FILE))
}

fn tmp_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(WRITE_TMP);
    PathBuf::from(p)
}

fn folders(root: &Path, names: &[String]) -> std::collections::BTreeSet<PathBuf> {
    names
        .iter()
        .filter_map(|n| root.join(n).parent().map(Path::to_path_buf))
        .chain([root.to_path_buf()])
        .collect()
}

/// Makes a folder's entries (a new or renamed file) durable.
fn sync_folder(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn write_journal(root: &Path, committed: bool, files: &[String]) -> std::io::Result<()> {
    use std::io::Write;
    let text = serde_json::to_string(&Journal {
        committed,
        files: files.to_vec(),
    })
    .map_err(std::io::Error::other)?;
    let path = root.join(WRITE_JOURNAL);
    let tmp = tmp_of(&path);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    sync_folder(root)
}

/// Past the commit point: every temporary file over its target (one renamed already is
/// gone), then the journal removed.
fn roll_forward(root: &Path, names: &[String]) -> std::io::Result<()> {
    for (i, name) in names.iter().enumerate() {
        crash_point("rename", i);
        let target = root.join(name);
        match std::fs::rename(tmp_of(&target), &target) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            r => r?,
        }
    }
    for d in folders(root, names) {
        sync_folder(&d)?;
    }
    std::fs::remove_file(root.join(WRITE_JOURNAL))?;
    sync_folder(root)
}

/// Before the commit point: the temporary files and the journal removed; the targets were
/// never touched.
fn roll_back(root: &Path, names: &[String]) {
    for name in names {
        let _ = std::fs::remove_file(tmp_of(&root.join(name)));
    }
    let _ = std::fs::remove_file(tmp_of(&root.join(WRITE_JOURNAL)));
    let _ = std::fs::remove_file(root.join(WRITE_JOURNAL));
    let _ = sync_folder(root);
}

/// In debug builds, `PARAAF_CRASH_AT=STAGE:N` (`write:N`, `commit:0`, `rename:N`) ends the
/// process there at once, as `kill -9` would: the tests of an interrupted write.
fn crash_point(stage: &str, i: usize) {
    #[cfg(debug_assertions)]
    if std::env::var("PARAAF_CRASH_AT").is_ok_and(|v| v == format!("{stage}:{i}")) {
        std::process::exit(137);
    }
    #[cfg(not(debug_assertions))]
    let _ = (stage, i);
}
