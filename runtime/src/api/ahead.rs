//! A submission's content, stored ahead of its command when the engine would accept the
//! submission now ([`crate::store::content_writer`]): the content writer's sync then
//! overlaps the event writer's commits, and the command carries the row instead of the
//! bytes. A submission the engine would refuse leaves its bytes to the command, so a
//! refusal writes nothing; one refused only at the writer (the state changed in between)
//! leaves a row no event names, never served and collected after its grace period.

use super::writer::{Answer, Writer, error_answer};
use crate::contents::Staged;
use crate::engine::Submission;
use crate::store::content_writer::ContentWriter;

/// The content to push on the submission's command: stored ahead (its `row` set, its
/// bytes dropped) when the writer would accept `sub` now; else as it is, for the
/// command's own commit. An answer only when the content writer is gone.
pub async fn content_for(
    writer: &Writer,
    content: &ContentWriter,
    staged: Staged,
    sub: &Submission,
) -> Result<Staged, Answer> {
    let probe = Staged {
        body: Vec::new(),
        sha256: staged.sha256.clone(),
        media_type: staged.media_type,
        owner: staged.owner.clone(),
        row: None,
    };
    let accepted = writer.would_accept(|em| {
        em.contents.push(probe);
        em.submit(sub.clone())
    });
    if accepted.is_err() {
        return Ok(staged);
    }
    match content.store(staged).await {
        Ok(stored) => Ok(stored),
        Err((Some(staged), e)) => {
            tracing::warn!(error = %e, "content not stored ahead; the commit writes it");
            Ok(staged)
        }
        Err((None, e)) => Err(error_answer(&e)),
    }
}
