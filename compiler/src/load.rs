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
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
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
    }
}
