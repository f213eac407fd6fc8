//! Workdays: weekends and a per-city list of holidays (Belgian public holidays and the
//! Flemish Community's 11 July by default).

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use std::collections::BTreeSet;

/// A city's calendar of days off.
#[derive(Clone, Debug, Default)]
pub struct Calendar {
    /// Extra days off of the city (on top of the defaults).
    pub extra: BTreeSet<NaiveDate>,
    /// Whether the Belgian defaults apply (true unless a city opts out).
    pub no_defaults: bool,
}

/// Easter Sunday (anonymous Gregorian algorithm).
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("valid Easter date")
}

/// The ten Belgian public holidays and 11 July (Flemish Community) of `year`.
pub fn belgian_holidays(year: i32) -> Vec<NaiveDate> {
    let d = |m, day| NaiveDate::from_ymd_opt(year, m, day).expect("valid date");
    let e = easter(year);
    vec![
        d(1, 1),
        e + Duration::days(1), // Easter Monday
        d(5, 1),
        e + Duration::days(39), // Ascension
        e + Duration::days(50), // Whit Monday
        d(7, 11),               // Flemish Community
        d(7, 21),
        d(8, 15),
        d(11, 1),
        d(11, 11),
        d(12, 25),
    ]
}

impl Calendar {
    /// Whether `day` is a working day.
    pub fn is_workday(&self, day: NaiveDate) -> bool {
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) || self.extra.contains(&day) {
            return false;
        }
        self.no_defaults || !belgian_holidays(day.year()).contains(&day)
    }

    /// The moment `n` workdays after `from` (same Brussels time of day, counted on
    /// Brussels dates); `n = 0` is `from`.
    pub fn add_workdays(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        n: u32,
    ) -> chrono::DateTime<chrono::Utc> {
        if n == 0 {
            return from;
        }
        let local = from.with_timezone(&crate::clock::ZONE);
        let mut day = local.date_naive();
        let mut left = n;
        while left > 0 {
            day += Duration::days(1);
            if self.is_workday(day) {
                left -= 1;
            }
        }
        crate::clock::at_local(day, local.time())
    }

    /// The moment a flow's duration (`5 workdays`, `3 days`) after `from` falls due.
    pub fn after(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        d: &paraaf_model::Duration,
    ) -> chrono::DateTime<chrono::Utc> {
        use rust_decimal::prelude::ToPrimitive;
        let n = d.amount.ceil().to_u32().unwrap_or(u32::MAX / 2);
        match d.unit {
            paraaf_model::DurationUnit::Days => from + Duration::days(n as i64),
            paraaf_model::DurationUnit::Workdays => self.add_workdays(from, n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_dates() {
        assert_eq!(easter(2024), NaiveDate::from_ymd_opt(2024, 3, 31).unwrap());
        assert_eq!(easter(2026), NaiveDate::from_ymd_opt(2026, 4, 5).unwrap());
        assert_eq!(easter(2027), NaiveDate::from_ymd_opt(2027, 3, 28).unwrap());
    }

    #[test]
    fn workdays_skip_weekends_and_holidays() {
        let cal = Calendar::default();
        // Friday 10 July 2026 + 1 workday: 11 July is a Saturday anyway, Monday 13 July.
        let fri = chrono::DateTime::parse_from_rfc3339("2026-07-10T09:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            cal.add_workdays(fri, 1).date_naive(),
            NaiveDate::from_ymd_opt(2026, 7, 13).unwrap()
        );
        // Monday 20 July 2026 + 1: 21 July is a holiday, so Wednesday 22.
        let mon = chrono::DateTime::parse_from_rfc3339("2026-07-20T09:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            cal.add_workdays(mon, 1).date_naive(),
            NaiveDate::from_ymd_opt(2026, 7, 22).unwrap()
        );
        assert!(
            !cal.is_workday(NaiveDate::from_ymd_opt(2026, 4, 6).unwrap()),
            "Easter Monday"
        );
        let mut city = Calendar::default();
        city.extra
            .insert(NaiveDate::from_ymd_opt(2026, 7, 22).unwrap());
        assert_eq!(
            city.add_workdays(mon, 1).date_naive(),
            NaiveDate::from_ymd_opt(2026, 7, 23).unwrap()
        );
    }

    #[test]
    fn workdays_count_brussels_dates() {
        let cal = Calendar::default();
        // Friday 10 July 2026, 23:30 in Brussels (21:30 UTC) + 1 workday: Monday 13 July
        // 23:30 Brussels. Counted on UTC dates it would be the same here, but at 22:30
        // UTC on Sunday 12 July (already Monday 00:30 in Brussels) the next workday is
        // Tuesday 14 July in Brussels.
        let sunday_late = chrono::DateTime::parse_from_rfc3339("2026-07-12T22:30:00Z")
            .unwrap()
            .to_utc();
        let due = cal.add_workdays(sunday_late, 1);
        assert_eq!(
            crate::clock::date(due),
            NaiveDate::from_ymd_opt(2026, 7, 14).unwrap()
        );
        assert_eq!(due.to_rfc3339(), "2026-07-13T22:30:00+00:00");
        // Over the change to winter time (25 October 2026) the Brussels hour stays.
        let fri = chrono::DateTime::parse_from_rfc3339("2026-10-23T07:00:00Z")
            .unwrap()
            .to_utc(); // 09:00 Brussels, summer time
        assert_eq!(
            cal.add_workdays(fri, 1).to_rfc3339(),
            "2026-10-26T08:00:00+00:00"
        );
    }
}
