//! The scheduler inside `paraaf serve`: time passes through the one writer. At start-up
//! and at each next due moment (an absence starting or ending at midnight in Brussels, a
//! reminder, an escalation) it runs the engine's `tick` as a write; in between it sleeps
//! until the next due moment computed from the committed state, or until a commit or the
//! clock (a test moving it) changes that moment. It never polls. With a seal
//! configuration, completed documents waiting for their seal are due work too
//! ([`seals`]: at once, then with a back-off on the same clock after a failure).

pub mod seals;

use crate::api::{Answer, Write, Writer};
use crate::clock::{self, Clock};
use crate::engine::{State, Status, TaskStatus};
use crate::workdays::Calendar;
use chrono::{DateTime, Duration, Utc};

/// Who the scheduler's writes are recorded for (no person: the idempotency table and the
/// logs name it).
pub const SCHEDULER: &str = "paraaf-scheduler";

/// The next moment something falls due in `state`, after the tick at `last_tick`: an
/// absence starting or ending (midnight in Brussels) after `last_tick`, or an open task's
/// reminder or escalation not yet done (possibly already past: then due at once). An
/// escalation that found nobody waits for a change, not for a moment; `None`: nothing is
/// ever due without a change.
pub fn next_due(state: &State, cal: &Calendar, last_tick: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut next: Option<DateTime<Utc>> = None;
    let mut consider = |t: DateTime<Utc>| {
        if next.is_none_or(|n| t < n) {
            next = Some(t);
        }
    };
    for a in state.absences.values() {
        let starts = clock::start_of(a.from);
        let ends = clock::start_of(a.to + Duration::days(1));
        for t in [starts, ends] {
            if t > last_tick {
                consider(t);
            }
        }
    }
    for doc in state.documents.values() {
        if doc.status != Status::InProgress {
            continue;
        }
        let Some(deadline) = state
            .deployment(doc.version)
            .and_then(|dep| dep.flow(&doc.flow))
            .and_then(|f| f.deadline.as_ref())
        else {
            continue;
        };
        for t in doc.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
            if !t.reminded {
                consider(cal.after(t.opened_at, &deadline.remind_after));
            }
            if let Some(esc) = &deadline.escalate
                && !t.escalated
                && t.escalation_waits.is_none()
            {
                consider(cal.after(t.opened_at, &esc.after));
            }
        }
    }
    next
}

/// Whether an overdue escalation waits for someone to hold its role: then any change
/// (an organogram deployment, an absence withdrawn) may let it through.
fn escalation_waits(state: &State) -> bool {
    state.documents.values().any(|d| {
        d.status == Status::InProgress
            && d.tasks
                .iter()
                .any(|t| t.status == TaskStatus::Open && t.escalation_waits.is_some())
    })
}

/// Runs `tick` through the writer at `clock`'s time; returns whether it committed events.
async fn tick(writer: &Writer) -> bool {
    let before = writer.committed().last_seq;
    let answer = writer
        .write(Write {
            person: SCHEDULER.into(),
            idempotency: None,
            command: Box::new(|e| {
                e.tick();
                Ok(Answer {
                    status: 200,
                    body: String::new(),
                })
            }),
        })
        .await;
    if answer.status != 200 {
        tracing::warn!(status = answer.status, body = %answer.body, "the scheduler's tick was refused");
    }
    writer.committed().last_seq != before
}

/// The running scheduler.
pub struct Scheduler {
    /// Its task.
    pub task: tokio::task::JoinHandle<()>,
    /// The clock time it has done everything due by, sent each time it goes to sleep (a
    /// test that moves the clock waits for it).
    pub settled: tokio::sync::watch::Receiver<DateTime<Utc>>,
}

/// Starts the scheduler on the current tokio runtime. It ticks at once (work that fell
/// due while the server was stopped), then at every next due moment; with `sealer`, it
/// also seals the completed documents waiting for their seal when they fall due
/// ([`seals`]). Stops when `stop` changes or the writer stops.
pub fn spawn(
    writer: Writer,
    clock: Clock,
    calendar: Calendar,
    sealer: Option<seals::Sealer>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Scheduler {
    let (settle, settled) = tokio::sync::watch::channel(DateTime::<Utc>::MIN_UTC);
    let task = tokio::spawn(async move {
        let mut commits = writer.commits();
        let mut moves = clock.moves();
        // Start-up: everything due by now.
        let mut last_tick = clock.now();
        tick(&writer).await;
        let mut seen_seq = writer.committed().last_seq;
        let mut retries = seals::Retries::default();
        loop {
            if !writer.running() || *stop.borrow() {
                return;
            }
            let state = writer.committed();
            let now = clock.now();
            let seal_next = sealer.as_ref().and_then(|_| retries.next_due(&state));
            let changed = state.last_seq != seen_seq;
            seen_seq = state.last_seq;
            let tick_next = next_due(&state, &calendar, last_tick);
            if tick_next.is_some_and(|n| n <= now) || (changed && escalation_waits(&state)) {
                last_tick = now;
                let moved = tick(&writer).await;
                seen_seq = writer.committed().last_seq;
                let still = next_due(&writer.committed(), &calendar, last_tick);
                if !moved && still.is_some_and(|n| n <= now) {
                    // Something stays due that tick does not take (should not happen):
                    // never spin on it; a change or a minute later looks again.
                    tracing::warn!(due = ?still, "due work the tick did not take; looking again in a minute");
                    tokio::select! {
                        _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                        _ = commits.changed() => {}
                        _ = moves.changed() => {}
                        _ = stop.changed() => {}
                    }
                }
                continue;
            }
            // Seals due by now, after the tick (a slow TSA does not hold up reminders and
            // escalations due at the same moment); each attempt that fails is due again
            // later, so this never spins.
            if let Some(s) = &sealer
                && seal_next.is_some_and(|n| n <= now)
            {
                seals::run_due(&writer, s, &mut retries, now).await;
                continue;
            }
            let next = match (tick_next, seal_next) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            tracing::debug!(next = ?next, "scheduler sleeps until the next due moment");
            settle.send_replace(now);
            // At most an hour at a time with the real clock, in case the system's clock
            // was set (the sleep counts monotonic time).
            let wait = next
                .and_then(|n| clock.until(n))
                .map(|d| d.min(std::time::Duration::from_secs(3600)));
            tokio::select! {
                _ = async {
                    match wait {
                        Some(d) => tokio::time::sleep(d).await,
                        None => std::future::pending::<()>().await,
                    }
                } => {}
                r = commits.changed() => if r.is_err() { return },
                _ = moves.changed() => {}
                _ = stop.changed() => {}
            }
        }
    });
    Scheduler { task, settled }
}
