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
    let replaced_log = db.exists().then(|| Store::open(db));
    let current = replaced_log
        .as_ref()
        .and_then(|s| s.as_ref().ok())
        .and_then(|s| s.head().ok())
        .map_or(0, |h| h.0);
    let replaced = current.max(signed.last().map_or(0, |c| c.seq));
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
                lost_deployments = crate::app::lost_deployments::lost_in(store, events)?;
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
    })
}
