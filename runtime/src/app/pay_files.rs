//! The files of one `finance pay` run. The log is the truth and the files are its view:
//! they are written and synced under temporary names before the proposals are committed
//! (a full disk records nothing), renamed after, and never replace an earlier run's files
//! (a second run into the same folder gets `proposal-2.csv`, …). A run stopped between
//! its commit and its renames is completed by the next run into the same folder: the
//! log says whether it committed.

use super::AppError;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The names of a run's files in its folder.
#[derive(Clone, Debug)]
pub struct Names {
    /// `proposal.csv` (or `proposal-N.csv`).
    pub csv: PathBuf,
    /// `proposal.json` (or `proposal-N.json`).
    pub json: PathBuf,
    /// `pain.001.xml` (or `pain.001-N.xml`).
    pub pain: PathBuf,
}

/// The first free set of names in `dir`: an earlier run's files are never replaced.
pub fn names(dir: &Path) -> Names {
    let at = |n: u32| {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        Names {
            csv: dir.join(format!("proposal{suffix}.csv")),
            json: dir.join(format!("proposal{suffix}.json")),
            pain: dir.join(format!("pain.001{suffix}.xml")),
        }
    };
    (1..)
        .map(at)
        .find(|n| !(n.csv.exists() || n.json.exists() || n.pain.exists()))
        .unwrap_or_else(|| at(1))
}

/// Files written and synced under temporary names, not yet visible under their own.
#[must_use = "publish the files after the commit, or discard them"]
pub struct Staged {
    files: Vec<(PathBuf, PathBuf)>,
}

/// The temporary name of `target` for run `run`: `.RUN.NAME.partial` beside it.
fn partial(run: &str, target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{run}.{name}.partial"))
}

fn write_synced(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Flushes the folder's entries (the renames in it) to the disk; a file system that
/// cannot sync a folder has nothing to flush.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes each `(target, text)` under its temporary name for run `run` and syncs it. On
/// a failure (a full disk) the ones written are removed and nothing is visible.
pub fn stage(run: &str, files: &[(PathBuf, String)]) -> Result<Staged, AppError> {
    let mut staged = Staged { files: Vec::new() };
    for (target, text) in files {
        let tmp = partial(run, target);
        if let Err(e) = write_synced(&tmp, text) {
            let _ = std::fs::remove_file(&tmp);
            staged.discard();
            return Err(AppError::Input(format!(
                "cannot write {}: {e}; nothing was recorded",
                target.display()
            )));
        }
        staged.files.push((tmp, target.clone()));
    }
    Ok(staged)
}

impl Staged {
    /// Gives the files their names (after the commit).
    pub fn publish(self) -> Result<(), AppError> {
        for (tmp, target) in &self.files {
            std::fs::rename(tmp, target).map_err(|e| {
                AppError::Input(format!(
                    "the payments are recorded, but {} could not be renamed to {}: {e}; the next `finance pay` into this folder completes it",
                    tmp.display(),
                    target.display()
                ))
            })?;
        }
        if let Some(dir) = self.files.first().and_then(|(_, t)| t.parent()) {
            sync_dir(dir);
        }
        Ok(())
    }

    /// Removes the files (the commit failed: they hold nothing recorded).
    pub fn discard(self) {
        for (tmp, _) in &self.files {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Completes or removes what an interrupted run left in `dir`: the files of a run the
/// log holds (`committed(run)`) get their names (a free one, if another run took it
/// meanwhile), the files of a run that never committed are removed. Returns what was
/// done, one line per file.
pub fn recover(dir: &Path, committed: impl Fn(&str) -> bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut left: Vec<(PathBuf, String, String)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            let inner = name.strip_prefix('.')?.strip_suffix(".partial")?;
            let (run, target) = inner.split_once('.')?;
            run.starts_with("PARAAF-")
                .then(|| (p.clone(), run.to_string(), target.to_string()))
        })
        .collect();
    left.sort();
    let mut done = Vec::new();
    for (tmp, run, target) in left {
        if !committed(&run) {
            if std::fs::remove_file(&tmp).is_ok() {
                done.push(format!(
                    "removed {}: its run was never recorded",
                    tmp.display()
                ));
            }
            continue;
        }
        let mut to = dir.join(&target);
        if to.exists() {
            let names = names(dir);
            to = [names.csv, names.json, names.pain]
                .into_iter()
                .find(|n| n.extension() == to.extension())
                .unwrap_or(to);
        }
        match std::fs::rename(&tmp, &to) {
            Ok(()) => done.push(format!(
                "completed {} of run {run}, recorded before it was interrupted",
                to.display()
            )),
            Err(e) => done.push(format!(
                "cannot complete {} of run {run}: {e}",
                to.display()
            )),
        }
    }
    sync_dir(dir);
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh folder of this test process.
    fn folder(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("paraaf-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn names_never_replace_an_earlier_runs_files() {
        let dir = folder("names");
        assert!(names(&dir).csv.ends_with("proposal.csv"));
        std::fs::write(dir.join("pain.001.xml"), "x").unwrap();
        let n = names(&dir);
        assert!(n.csv.ends_with("proposal-2.csv"), "{n:?}");
        assert!(n.pain.ends_with("pain.001-2.xml"), "{n:?}");
    }

    #[test]
    fn an_interrupted_run_is_completed_or_removed_by_what_the_log_says() {
        let dir = folder("recover");
        let csv = dir.join("proposal.csv");
        let staged = stage("PARAAF-20261207-aa", &[(csv.clone(), "recorded".into())]).unwrap();
        let other = dir.join("proposal.json");
        let never = stage("PARAAF-20261207-bb", &[(other.clone(), "not".into())]).unwrap();
        assert!(!csv.exists() && !other.exists());
        // Killed here: neither was published.
        let _unpublished = (staged, never);
        let done = recover(&dir, |run| run == "PARAAF-20261207-aa");
        assert_eq!(std::fs::read_to_string(&csv).unwrap(), "recorded");
        assert!(!other.exists(), "{done:?}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "{done:?}");
    }

    #[test]
    fn a_write_that_fails_leaves_nothing_behind() {
        let dir = folder("full");
        let fine = dir.join("proposal.csv");
        let missing = dir.join("gone").join("pain.001.xml");
        let Err(e) = stage(
            "PARAAF-20261207-cc",
            &[(fine, "a".into()), (missing, "b".into())],
        ) else {
            panic!("a write into a missing folder succeeded");
        };
        assert!(e.to_string().contains("nothing was recorded"), "{e}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }
}
