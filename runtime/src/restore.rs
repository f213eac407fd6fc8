//! Restoring a database from a backup (`paraaf admin restore`) without breaking its
//! signed checkpoints: the backup must be a prefix of the signed history, and a signed
//! restore record tells every later check (and auditor) which events were given up.

use crate::checkpoint::{self, Checkpoint, Key};
use crate::engine::RuntimeError;
use crate::store::Store;
use std::path::{Path, PathBuf};

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// Events in the restored log (the backup's head).
    pub events: u64,
    /// Its head hash.
    pub head: String,
    /// The last event of the log it replaced (or of the signed history, if later):
    /// events `events + 1..=replaced` are gone.
    pub replaced: u64,
    /// The signed checkpoints the backup was checked against.
    pub checked_against: usize,
    /// Where the restore record was signed into, when there is a key.
    pub recorded_in: Option<PathBuf>,
    /// The payment proposals the given-up events held (read from the replaced database
    /// before it was replaced): their pay runs' files may be at the bank. Record them in
    /// the restored log with [`crate::app::lost_runs::record_restore`].
    pub lost_payments: Vec<crate::engine::LostPayment>,
    /// The organogram and project versions the given-up events put in force (read from
    /// the replaced database): put them in force again on the restored log with
    /// [`crate::app::lost_deployments::reapply`], or people HR removed come back.
    pub lost_deployments: crate::app::lost_deployments::LostDeployments,
    /// Why the replaced database's events could not be read (then `lost_payments` is
    /// empty, and only the pay runs' files tell what they paid).
    pub unread: Option<String>,
    /// Where the replaced database was kept until the restore is finished
    /// ([`finish`]): while it is there, the restore counts as interrupted.
    pub kept: Option<PathBuf>,
}

/// Where a restore keeps the database it replaces, next to the database's real path,
/// until the given-up events' organogram versions and pay runs are on the restored log
/// ([`finish`]). While it exists the restore was interrupted (a crash, `kill -9`): the
/// database is opened by nothing but the restore run again, which reads what was given
/// up from here (the database itself is the backup by then).
pub fn kept_path(db: &Path) -> PathBuf {
    crate::beside(db, ".before-restore")
}

/// Why `db` may not be opened: a restore of it did not finish (see [`kept_path`]).
pub fn interrupted(db: &Path) -> Option<String> {
    let kept = kept_path(db);
    kept.exists().then(|| {
        format!(
            "a restore of this database did not finish ({} holds the database it replaced): run the same `paraaf admin restore BACKUP` again to finish it; until then the events it gave up (HR's decisions, pay runs) are not on the restored log",
            kept.display()
        )
    })
}

/// Ends a restore once what it gave up is on the restored log: the replaced database
/// stays as `DB.replaced-TIMESTAMP` (evidence of the events given up), no longer
/// blocking the database.
pub fn finish(
    db: &Path,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<PathBuf>, RuntimeError> {
    let kept = kept_path(db);
    if !kept.exists() {
        return Ok(None);
    }
    let to = crate::beside(db, &format!(".replaced-{}", at.format("%Y%m%dT%H%M%S")));
    for ext in [".contents", ""] {
        let from = PathBuf::from(format!("{}{ext}", kept.display()));
        if from.exists() {
            std::fs::rename(&from, format!("{}{ext}", to.display()))
                .map_err(|e| RuntimeError::Storage(format!("{}: {e}", from.display())))?;
        }
    }
    sync_dir(&kept);
    Ok(Some(to))
}

/// Syncs the folder that holds `path` (a rename in it is durable afterwards).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

impl Restored {
    /// The events given up, `8–12` (empty when none were).
    pub fn given_up(&self) -> String {
        if self.replaced > self.events {
            format!("{}–{}", self.events + 1, self.replaced)
        } else {
            String::new()
        }
    }
}

/// Replaces the database `db` with the copy `backup` (SQLite's backup API, so the
/// database's own journal stays consistent), as its one writer. With a key, the backup
/// is first checked against every signed checkpoint of `file` up to its head (a backup
/// that is not the signed history's start is refused as tampered), then a signed restore
/// record is appended, so the shorter log opens again and the lost events stay on record.
pub fn restore(
    backup: &Path,
    db: &Path,
    keyed: Option<(&Key, &Path)>,
) -> Result<Restored, RuntimeError> {
    let _lock = crate::runtime::take_lock(
        db,
        &format!("`paraaf admin restore` (process {})", std::process::id()),
    )?;
    if !backup.is_file() {
        return Err(RuntimeError::Invalid(format!(
            "{} is not a file",
            backup.display()
        )));
    }
    if let Some((Key::Public(_), _)) = keyed {
        return Err(RuntimeError::Invalid(
            "a restore signs a record of what it gives up: it needs the signing key, not only the public key".into(),
        ));
    }
    let source = Store::open(backup)?;
    let (events, _) = source.head()?;
    let mut chain = match keyed {
        Some((key, file)) => checkpoint::read_chain(file, key).map_err(RuntimeError::Tampered)?,
        None => checkpoint::Chain::default(),
    };
    let signed = std::mem::take(&mut chain.list);
    let covering = Checkpoint::cut(&signed, events);
    let verified = source.verify(&covering).map_err(|why| {
        RuntimeError::Tampered(format!(
            "the backup {} is not the signed log: {why}",
            backup.display()
        ))
    })?;
    // A restore that did not finish: what it gave up is in the database it kept (the
    // database itself is the backup by then). Else the database to be replaced is kept
    // first, synced and renamed into place, before anything is overwritten.
    let kept = kept_path(db);
    let resumed = kept.exists();
    if !resumed && db.exists() {
        let store = Store::open(db)?;
        if store.head()?.0 > events {
            let tmp = PathBuf::from(format!("{}.tmp", kept.display()));
            let _ = std::fs::remove_file(&tmp);
            store.backup_to(&tmp)?;
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(|e| RuntimeError::Storage(format!("{}: {e}", tmp.display())))?;
            let tmp_contents = PathBuf::from(format!("{}.contents", tmp.display()));
            if tmp_contents.exists() {
                std::fs::rename(&tmp_contents, format!("{}.contents", kept.display()))
                    .map_err(|e| RuntimeError::Storage(e.to_string()))?;
            }
            std::fs::rename(&tmp, &kept).map_err(|e| RuntimeError::Storage(e.to_string()))?;
            sync_dir(&kept);
        }
    }
    let from = if kept.exists() {
        kept.clone()
    } else {
        db.to_path_buf()
    };
    let replaced_log = from.exists().then(|| Store::open(&from));
    let current = replaced_log
        .as_ref()
        .and_then(|s| s.as_ref().ok())
        .and_then(|s| s.head().ok())
        .map_or(0, |h| h.0);
    let replaced = current.max(
        signed
            .last()
            .map_or(0, |c| c.restored_over.unwrap_or(c.seq)),
    );
    // A restore run again after it signed its record (killed before it finished): the
    // record stands, it is not signed twice.
    let signed_already = resumed
        && signed.last().is_some_and(|c| {
            c.restored_over == Some(replaced) && c.seq == events && c.head == verified.head
        });
    // The pay runs among the events given up: read before the database is replaced.
    let source_line = format!(
        "the restore of {} gave up events {}–{replaced}",
        backup.display(),
        events + 1
    );
    let mut lost_deployments = crate::app::lost_deployments::LostDeployments::default();
    let (lost_payments, unread) = match &replaced_log {
        Some(Ok(store)) if current > events => {
            match crate::app::lost_runs::lost_in(store, events, &source_line).and_then(|lost| {
                // With a key, only what the signed checkpoints vouch for is put in force
                // again: an event no line signs (or a log that no longer matches them)
                // may be an insider's, appended without the key.
                let vouched = match keyed {
                    None => u64::MAX,
                    Some(_) => {
                        let cut = Checkpoint::cut(&signed, current);
                        match store.verify(&cut) {
                            Ok(_) => cut
                                .iter()
                                .filter(|c| c.restored_over.is_none())
                                .map(|c| c.seq)
                                .max()
                                .unwrap_or(0),
                            Err(_) => events,
                        }
                    }
                };
                lost_deployments = crate::app::lost_deployments::lost_in(store, events, vouched)?;
                Ok(lost)
            }) {
                Ok(lost) => (lost, None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            }
        }
        Some(Err(e)) => (Vec::new(), Some(e.to_string())),
        None if replaced > events => (
            Vec::new(),
            Some(format!("there was no database at {}", db.display())),
        ),
        _ => (Vec::new(), None),
    };
    drop(replaced_log);
    source.backup_to(db)?;
    let mut recorded_in = None;
    if let Some((key, file)) = keyed
        && replaced > events
        && !signed_already
    {
        let mut record = Checkpoint::restore(events, verified.head.clone(), replaced);
        checkpoint::append_signed(file, &mut chain, &mut record, key)
            .map_err(RuntimeError::Storage)?;
        recorded_in = Some(file.to_path_buf());
    }
    Ok(Restored {
        events,
        head: verified.head,
        replaced,
        checked_against: covering.len(),
        recorded_in,
        lost_payments,
        lost_deployments,
        unread,
        kept: kept.exists().then_some(kept),
    })
}
