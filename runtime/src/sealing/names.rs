//! The organogram in force at each moment of the log, for the evidence page (#28,
//! attack finding 06): a signature is named as the organogram named its signer and role
//! when it was made, not as the organogram names them when the seal is made (a leaver
//! would be a bare id, a person who took another name would show under a name they did
//! not have when signing). The fold keeps only the organogram in force; the log keeps
//! every one, in its `project_deployed` and `organogram_deployed` events, which are read
//! (verified up to the writer's trust, `trusted_history::read_events`) when a seal is made.

use crate::engine::{Event, RuntimeError};
use crate::reads::Reads;
use paraaf_model::OrgIndex;
use std::sync::Arc;

/// Every organogram that came into force, with the sequence number of its event.
pub struct OrgHistory {
    versions: Vec<(u64, Arc<OrgIndex>)>,
}

impl OrgHistory {
    /// Reads the deployment events of the log at `db` (up to event `until`), each
    /// verified up to `trust` ([`crate::trusted_history`]).
    pub fn load(
        db: &Reads,
        until: u64,
        trust: &crate::trusted_history::Trust,
    ) -> Result<OrgHistory, RuntimeError> {
        let seqs = db.deployment_seqs(until)?;
        let mut versions = Vec::new();
        for (seq, _, event) in crate::trusted_history::read_events(db, &seqs, trust)? {
            let org = match &event {
                Event::ProjectDeployed { project, .. } => &project.organogram,
                Event::OrganogramDeployed { organogram, .. } => organogram.as_ref(),
                _ => continue,
            };
            versions.push((seq, Arc::new(OrgIndex::new(org))));
        }
        Ok(OrgHistory { versions })
    }

    /// The organogram in force when event `seq` was made (the last deployed before it).
    pub fn at(&self, seq: u64) -> Option<&OrgIndex> {
        let i = self.versions.partition_point(|(s, _)| *s < seq);
        i.checked_sub(1).map(|i| self.versions[i].1.as_ref())
    }
}
