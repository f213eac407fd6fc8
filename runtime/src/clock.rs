//! The one clock of a runtime: the real time, a fixed `--now`, or a test clock the tests
//! move. The engine's commands, the scheduler inside `paraaf serve`, the outbox sender
//! and the web app all ask it; dates (workdays, absences, the day a task is due) are
//! Brussels dates.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Brussels;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// The time zone of the city's dates.
pub const ZONE: chrono_tz::Tz = Brussels;

/// The clock: the real time unless it was set (`--now`, or a test moving it).
#[derive(Clone)]
pub struct Clock {
    set: Arc<RwLock<Option<DateTime<Utc>>>>,
    /// Bumped whenever the clock is set, so that a task sleeping until a due moment
    /// wakes and looks again.
    moved: Arc<watch::Sender<u64>>,
}

impl Clock {
    /// The real time.
    pub fn real() -> Clock {
        Clock::at(None)
    }

    /// Fixed at `now` when given (`--now`), else the real time.
    pub fn at(now: Option<DateTime<Utc>>) -> Clock {
        Clock {
            set: Arc::new(RwLock::new(now)),
            moved: Arc::new(watch::channel(0).0),
        }
    }

    /// The time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.set
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_else(Utc::now)
    }

    /// Whether the clock was set (it then stands still until set again).
    pub fn is_set(&self) -> bool {
        self.set.read().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Sets the clock (a test moving time on) and wakes whoever waits for a due moment.
    pub fn set(&self, now: DateTime<Utc>) {
        *self.set.write().unwrap_or_else(|p| p.into_inner()) = Some(now);
        self.moved.send_modify(|n| *n += 1);
    }

    /// A receiver that changes whenever the clock is set.
    pub fn moves(&self) -> watch::Receiver<u64> {
        self.moved.subscribe()
    }

    /// How long to wait, in real time, until the clock reads `at` (zero when it has
    /// passed). A set clock stands still: the wait is then only ended by setting it.
    pub fn until(&self, at: DateTime<Utc>) -> Option<std::time::Duration> {
        if self.is_set() {
            return (at <= self.now()).then_some(std::time::Duration::ZERO);
        }
        Some(
            (at - self.now())
                .to_std()
                .unwrap_or(std::time::Duration::ZERO),
        )
    }
}

/// The Brussels date of a moment.
pub fn date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&ZONE).date_naive()
}

/// The moment a Brussels day starts (midnight there, in UTC).
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    at_local(day, chrono::NaiveTime::MIN)
}

/// The moment `time` on the Brussels day `day` (the earlier one when the clocks go back,
/// the first moment after the gap when they go forward).
pub fn at_local(day: NaiveDate, time: chrono::NaiveTime) -> DateTime<Utc> {
    let local = day.and_time(time);
    match ZONE.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => t.to_utc(),
        chrono::LocalResult::Ambiguous(a, _) => a.to_utc(),
        // In the spring gap (02:00–03:00): an hour later is after it.
        chrono::LocalResult::None => ZONE
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.to_utc()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brussels_dates_are_not_utc_dates() {
        // 23:30 UTC on 30 June 2026 is 01:30 on 1 July in Brussels (summer time).
        let t = DateTime::parse_from_rfc3339("2026-06-30T23:30:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(date(t), NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
        let day = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert_eq!(start_of(day).to_rfc3339(), "2026-06-30T22:00:00+00:00");
        // Winter time: UTC+1.
        let day = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
        assert_eq!(start_of(day).to_rfc3339(), "2026-12-23T23:00:00+00:00");
    }

    #[test]
    fn a_set_clock_stands_still_until_set_again() {
        let t = DateTime::parse_from_rfc3339("2026-06-30T12:00:00Z")
            .unwrap()
            .to_utc();
        let c = Clock::at(Some(t));
        let moves = c.moves();
        assert_eq!(c.now(), t);
        assert_eq!(c.until(t + chrono::Duration::hours(1)), None);
        c.set(t + chrono::Duration::hours(2));
        assert!(moves.has_changed().unwrap());
        assert_eq!(
            c.until(t + chrono::Duration::hours(1)),
            Some(std::time::Duration::ZERO)
        );
    }
}
