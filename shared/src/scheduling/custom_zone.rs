//! Graph's `customTimeZone`: a zone described only by Windows-style rules (`bias`,
//! `standardOffset`, `daylightOffset`), as getSchedule reports the working hours of mailboxes
//! whose zone was set as a custom one ("Customized Time Zone" in Microsoft's own getSchedule
//! sample). [`CustomZone`] places local times of such a zone on the UTC line, DST included, and
//! [`HoursZone`] lets working hours be in either kind of zone.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;

/// One yearly change (Windows `SYSTEMTIME` in its "day-in-month" form): the `occurrence`-th
/// (1-4, 5 = last) `weekday` of `month`, at local wall-clock `time` as read before the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub month: u32,
    pub occurrence: u32,
    pub weekday: Weekday,
    pub time: NaiveTime,
}

impl Transition {
    /// The local date and time of the change in `year`.
    fn local_in(&self, year: i32) -> Option<NaiveDateTime> {
        let first = NaiveDate::from_ymd_opt(year, self.month, 1)?;
        let shift = (7 + self.weekday.num_days_from_monday() as i64
            - first.weekday().num_days_from_monday() as i64)
            % 7;
        let mut day = first + Duration::days(shift + 7 * (self.occurrence.clamp(1, 5) as i64 - 1));
        // Occurrence 5 means the last one: step back into the month.
        while day.month() != self.month {
            day -= Duration::days(7);
        }
        Some(day.and_time(self.time))
    }
}

/// A rule-based zone: UTC = local + `bias` minutes in standard time, + `bias + daylight_bias` in
/// daylight time. `daylight` is `None` for a zone without DST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomZone {
    pub bias_minutes: i32,
    pub daylight: Option<Daylight>,
}

/// The DST part of a [`CustomZone`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Daylight {
    /// Into daylight time (Graph `daylightOffset`).
    pub start: Transition,
    /// Back to standard time (Graph `standardOffset`).
    pub end: Transition,
    /// Minutes added to `bias` in daylight time (usually -60).
    pub bias_minutes: i32,
}

impl CustomZone {
    fn standard_offset(&self) -> Duration {
        Duration::minutes(-i64::from(self.bias_minutes))
    }

    /// Local minus UTC at `t`.
    pub fn offset_at(&self, t: DateTime<Utc>) -> Duration {
        let standard = self.standard_offset();
        let Some(d) = self.daylight else {
            return standard;
        };
        let daylight = standard - Duration::minutes(i64::from(d.bias_minutes));
        let year = (t.naive_utc() + standard).year();
        let (Some(start), Some(end)) = (d.start.local_in(year), d.end.local_in(year)) else {
            return standard;
        };
        // The start is read in standard time, the end in daylight time.
        let start = start - standard;
        let end = end - daylight;
        let now = t.naive_utc();
        let in_daylight = if start < end {
            start <= now && now < end
        } else {
            // Southern hemisphere: daylight time spans the turn of the year.
            now >= start || now < end
        };
        if in_daylight {
            daylight
        } else {
            standard
        }
    }

    /// The local wall-clock time of an instant.
    pub fn to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        t.naive_utc() + self.offset_at(t)
    }

    /// The instants a local wall-clock time denotes: one, two (the repeated hour when clocks go
    /// back) or none (the hour skipped when clocks go forward).
    pub fn from_local(&self, local: NaiveDateTime) -> LocalResult<DateTime<Utc>> {
        let standard = self.standard_offset();
        let mut offsets = vec![standard];
        if let Some(d) = self.daylight {
            offsets.push(standard - Duration::minutes(i64::from(d.bias_minutes)));
        }
        let mut found: Vec<DateTime<Utc>> = offsets
            .into_iter()
            .map(|o| Utc.from_utc_datetime(&(local - o)))
            .filter(|t| self.to_local(*t) == local)
            .collect();
        found.sort();
        found.dedup();
        match found.as_slice() {
            [] => LocalResult::None,
            [one] => LocalResult::Single(*one),
            [early, late, ..] => LocalResult::Ambiguous(*early, *late),
        }
    }
}

/// The zone working hours are in: a tz database zone or a custom, rule-based one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoursZone {
    Named(Tz),
    Custom(CustomZone),
}

impl From<Tz> for HoursZone {
    fn from(tz: Tz) -> Self {
        Self::Named(tz)
    }
}

impl HoursZone {
    pub fn to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Self::Named(tz) => t.with_timezone(tz).naive_local(),
            Self::Custom(z) => z.to_local(t),
        }
    }

    pub fn from_local(&self, local: NaiveDateTime) -> LocalResult<DateTime<Utc>> {
        match self {
            Self::Named(tz) => tz
                .from_local_datetime(&local)
                .map(|t| t.with_timezone(&Utc)),
            Self::Custom(z) => z.from_local(local),
        }
    }

    /// The IANA name, or "Customized Time Zone" (Graph's name for a rule-based zone).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Named(tz) => tz.name(),
            Self::Custom(_) => "Customized Time Zone",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// The zone of Microsoft's getSchedule sample: bias 480, DST from the 2nd Sunday of March
    /// to the 1st Sunday of November at 02:00 (US Pacific).
    fn pacific() -> CustomZone {
        let two = NaiveTime::from_hms_opt(2, 0, 0).unwrap();
        CustomZone {
            bias_minutes: 480,
            daylight: Some(Daylight {
                start: Transition {
                    month: 3,
                    occurrence: 2,
                    weekday: Weekday::Sun,
                    time: two,
                },
                end: Transition {
                    month: 11,
                    occurrence: 1,
                    weekday: Weekday::Sun,
                    time: two,
                },
                bias_minutes: -60,
            }),
        }
    }

    #[test]
    fn a_custom_zone_agrees_with_the_tz_database_through_a_whole_year() {
        let z = pacific();
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        let mut t = utc("2026-01-01T00:00:00Z");
        while t < utc("2027-01-01T00:00:00Z") {
            assert_eq!(z.to_local(t), t.with_timezone(&la).naive_local(), "{t}");
            t += Duration::minutes(30);
        }
    }

    #[test]
    fn skipped_and_repeated_local_times_are_reported_as_such() {
        let z = HoursZone::Custom(pacific());
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
        assert_eq!(z.from_local(at("2026-03-08T02:30")), LocalResult::None);
        assert_eq!(
            z.from_local(at("2026-11-01T01:30")),
            LocalResult::Ambiguous(utc("2026-11-01T08:30:00Z"), utc("2026-11-01T09:30:00Z"))
        );
        assert_eq!(
            z.from_local(at("2026-07-01T09:00")).single(),
            Some(utc("2026-07-01T16:00:00Z"))
        );
    }

    #[test]
    fn southern_hemisphere_rules_span_the_turn_of_the_year() {
        // Sydney's rules: daylight time from October to April.
        let z = CustomZone {
            bias_minutes: -600,
            daylight: Some(Daylight {
                start: Transition {
                    month: 10,
                    occurrence: 1,
                    weekday: Weekday::Sun,
                    time: NaiveTime::from_hms_opt(2, 0, 0).unwrap(),
                },
                end: Transition {
                    month: 4,
                    occurrence: 1,
                    weekday: Weekday::Sun,
                    time: NaiveTime::from_hms_opt(3, 0, 0).unwrap(),
                },
                bias_minutes: -60,
            }),
        };
        let sydney: Tz = "Australia/Sydney".parse().unwrap();
        for s in [
            "2026-01-15T00:00:00Z",
            "2026-06-15T00:00:00Z",
            "2026-12-15T00:00:00Z",
        ] {
            let t = utc(s);
            assert_eq!(z.to_local(t), t.with_timezone(&sydney).naive_local(), "{s}");
        }
    }
}
