//! A person's choice of how they are told by mail (digest, immediate or nothing): an
//! event like every other change, so the outbox derived at each commit follows it.

use super::{Emitter, Event, RuntimeError};
use crate::engine::NotifyMode;

impl Emitter<'_> {
    /// Records `person`'s choice; nothing when it is already theirs. Someone not in the
    /// organogram in force chooses nothing.
    pub fn choose_notifications(
        &mut self,
        person: &str,
        mode: NotifyMode,
    ) -> Result<(), RuntimeError> {
        if self.state.has_left(person) {
            return Err(RuntimeError::Forbidden(format!(
                "{person} is not in the organogram in force"
            )));
        }
        if self.state.notify.get(person).copied().unwrap_or_default() == mode {
            return Ok(());
        }
        self.emit(Event::NotificationsChosen {
            person: person.to_string(),
            mode,
        });
        Ok(())
    }
}
