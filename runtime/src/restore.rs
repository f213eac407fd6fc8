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
    let current = if db.exists() {
        Store::open(db).and_then(|s| s.head()).map_or(0, |h| h.0)
    } else {
        0
    };
    let replaced = current.max(signed.last().map_or(0, |c| c.seq));
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
    })
}
