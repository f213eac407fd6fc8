//! Recording a completed document's seal (#28): the sealed PDF is made outside the
//! writer (it may wait for a time-stamp authority) and stored as content first; this
//! command then records its hash and verification code, once.

use super::{Emitter, Event, RuntimeError};
use crate::engine::state::Status;

impl Emitter<'_> {
    /// Records that `doc` was sealed: its sealed PDF has SHA-256 `sha256` (stored
    /// already) and carries `code`. Refused unless the document is completed and not yet
    /// sealed (two sealers racing record one seal), or when the code is taken.
    pub fn record_seal(
        &mut self,
        doc: &str,
        sha256: &str,
        code: &str,
        timestamped: bool,
    ) -> Result<(), RuntimeError> {
        let d = self
            .state
            .documents
            .get(doc)
            .ok_or(RuntimeError::NotFound)?;
        if d.status != Status::Completed {
            return Err(RuntimeError::Invalid(format!(
                "document {doc} is not completed; only completed documents are sealed"
            )));
        }
        if d.sealed.is_some() {
            return Err(RuntimeError::Conflict(format!(
                "document {doc} is sealed already"
            )));
        }
        if self.state.sealed_with_code(code).is_some() {
            return Err(RuntimeError::Conflict(
                "this verification code is taken; seal again for a new one".into(),
            ));
        }
        self.emit(Event::DocumentSealed {
            doc: doc.into(),
            sha256: sha256.into(),
            code: code.into(),
            timestamped,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::state::{Document, State, Status};
    use crate::engine::{Emitter, RuntimeError};
    use crate::workdays::Calendar;
    use std::sync::Arc;

    fn with(docs: &[(&str, Status)]) -> State {
        let mut state = State::default();
        for (id, status) in docs {
            let d = Document {
                id: id.to_string(),
                version: 1,
                flow: "collegebesluit".into(),
                kind: "besluit".into(),
                uploader: "jan-cools".into(),
                title: "Besluit".into(),
                fields: Default::default(),
                content_sha256: "0".repeat(64),
                status: *status,
                step: 0,
                tasks: Vec::new(),
                signers: Default::default(),
                comments: Vec::new(),
                events: vec![1],
                submitted_at: chrono::DateTime::UNIX_EPOCH,
                sealed: None,
            };
            state.documents.insert(id.to_string(), Arc::new(d));
        }
        state
    }

    /// A seal is recorded once, for a completed document, with a code nobody else has;
    /// the fold keeps it and the document stops waiting.
    #[test]
    fn a_seal_is_recorded_once_for_a_completed_document_with_a_fresh_code() {
        let mut state = with(&[
            ("d-a", Status::Completed),
            ("d-b", Status::Completed),
            ("d-c", Status::InProgress),
        ]);
        let cal = Calendar::default();
        let now = chrono::Utc::now();
        assert_eq!(state.waiting_for_seal().len(), 2);
        let mut e = Emitter::new(&mut state, &cal, now);
        e.record_seal("d-a", "ab", "AAAA-BBBB-CCCC", true).unwrap();
        assert!(matches!(
            e.record_seal("d-a", "cd", "DDDD-EEEE-FFFF", true),
            Err(RuntimeError::Conflict(_))
        ));
        assert!(matches!(
            e.record_seal("d-b", "cd", "AAAA-BBBB-CCCC", true),
            Err(RuntimeError::Conflict(_))
        ));
        assert!(matches!(
            e.record_seal("d-c", "cd", "GGGG-HHHH-JJJJ", true),
            Err(RuntimeError::Invalid(_))
        ));
        assert!(matches!(
            e.record_seal("d-none", "cd", "GGGG-HHHH-JJJJ", true),
            Err(RuntimeError::NotFound)
        ));
        let ids: Vec<String> = state
            .waiting_for_seal()
            .iter()
            .map(|d| d.id.clone())
            .collect();
        assert_eq!(ids, vec!["d-b".to_string()]);
        assert_eq!(
            state
                .sealed_with_code("AAAA-BBBB-CCCC")
                .map(|d| d.id.as_str()),
            Some("d-a")
        );
        let sealed = state.documents["d-a"].sealed.clone().unwrap();
        assert_eq!((sealed.sha256.as_str(), sealed.timestamped), ("ab", true));
    }
}
