//! `patternedRecurrence`: weekly (and daily) patterns with `endDate`, `noEnd` and `numbered`
//! ranges, expanded in the recurrence time zone so occurrences keep their local wall-clock time
//! across DST changes.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use serde_json::{json, Map, Value};

use crate::error::CalendarError;
use crate::json::{field, opt_i64, opt_str};
use crate::tz::GraphTimeZone;

/// Upper bound on generated occurrences per expansion (a safety net for `noEnd` series).
const MAX_OCCURRENCES: usize = 10_000;

/// Graph `recurrencePatternType` values this model expands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternType {
    /// Every `interval` days.
    Daily,
    /// Every `interval` weeks on `daysOfWeek`.
    Weekly,
    /// Every `interval` months on `dayOfMonth` (a month without that day is skipped, as
    /// Exchange does for e.g. the 31st).
    AbsoluteMonthly,
}

/// `recurrence.pattern`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecurrencePattern {
    /// `type`.
    pub pattern_type: PatternType,
    /// `interval` (>= 1).
    pub interval: u32,
    /// `daysOfWeek` (weekly: at least one).
    pub days_of_week: Vec<Weekday>,
    /// `firstDayOfWeek` (default sunday): where a week starts when counting `interval` weeks.
    pub first_day_of_week: Weekday,
    /// `dayOfMonth` (absoluteMonthly: 1-31; else 0).
    pub day_of_month: u32,
}

/// How a series ends (`recurrence.range.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeEnd {
    /// `endDate`: last possible occurrence date (inclusive, local date).
    EndDate(NaiveDate),
    /// `noEnd`.
    NoEnd,
    /// `numbered`: `numberOfOccurrences`.
    Numbered(u32),
}

/// `recurrence.range`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecurrenceRange {
    /// `startDate` (local date in `recurrence_time_zone`).
    pub start_date: NaiveDate,
    /// `type` with its `endDate` / `numberOfOccurrences`.
    pub end: RangeEnd,
    /// `recurrenceTimeZone`; defaults to the event's start time zone.
    pub recurrence_time_zone: GraphTimeZone,
}

/// Graph `patternedRecurrence`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recurrence {
    /// The pattern.
    pub pattern: RecurrencePattern,
    /// The range.
    pub range: RecurrenceRange,
}

/// Graph's lower-case day name.
pub fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

/// Parses a Graph `dayOfWeek` (case-insensitive).
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
    .into_iter()
    .find(|d| weekday_name(*d).eq_ignore_ascii_case(s.trim()))
}

fn bad(msg: &str) -> CalendarError {
    CalendarError::InvalidRequest(msg.to_string())
}

impl Recurrence {
    /// Reads `recurrence` from an event body. `start_local` is the event start as a local time in
    /// `start_zone`; they supply `range.startDate` and `recurrenceTimeZone` when absent.
    pub fn from_json(
        value: &Value,
        start_zone: &GraphTimeZone,
        start_local_date: NaiveDate,
    ) -> Result<Self, CalendarError> {
        let obj = value
            .as_object()
            .ok_or_else(|| bad("'recurrence' must be an object."))?;
        let pattern = field(obj, "pattern")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("'recurrence.pattern' is required."))?;
        let range = field(obj, "range")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("'recurrence.range' is required."))?;

        let ptype = opt_str(pattern, "type", "recurrence.pattern.type")?
            .ok_or_else(|| bad("'recurrence.pattern.type' is required."))?;
        let pattern_type = if ptype.eq_ignore_ascii_case("weekly") {
            PatternType::Weekly
        } else if ptype.eq_ignore_ascii_case("daily") {
            PatternType::Daily
        } else if ptype.eq_ignore_ascii_case("absoluteMonthly") {
            PatternType::AbsoluteMonthly
        } else {
            return Err(CalendarError::InvalidRequest(format!(
                "Recurrence pattern type '{ptype}' is not supported by the simulator (daily, weekly and absoluteMonthly are)."
            )));
        };
        let day_of_month =
            opt_i64(pattern, "dayOfMonth", "recurrence.pattern.dayOfMonth")?.unwrap_or(0);
        if pattern_type == PatternType::AbsoluteMonthly && !(1..=31).contains(&day_of_month) {
            return Err(bad(
                "'recurrence.pattern.dayOfMonth' must be between 1 and 31 for an absoluteMonthly pattern.",
            ));
        }
        let interval = opt_i64(pattern, "interval", "recurrence.pattern.interval")?.unwrap_or(1);
        if !(1..=99).contains(&interval) {
            return Err(bad(
                "'recurrence.pattern.interval' must be between 1 and 99.",
            ));
        }
        let mut days_of_week = Vec::new();
        match field(pattern, "daysOfWeek") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let d = item.as_str().and_then(parse_weekday).ok_or_else(|| {
                        bad("'recurrence.pattern.daysOfWeek' must hold day names.")
                    })?;
                    if !days_of_week.contains(&d) {
                        days_of_week.push(d);
                    }
                }
            }
            Some(_) => return Err(bad("'recurrence.pattern.daysOfWeek' must be an array.")),
        }
        if pattern_type == PatternType::Weekly && days_of_week.is_empty() {
            return Err(bad(
                "'recurrence.pattern.daysOfWeek' must name at least one day for a weekly pattern.",
            ));
        }
        let first_day_of_week = match opt_str(
            pattern,
            "firstDayOfWeek",
            "recurrence.pattern.firstDayOfWeek",
        )? {
            None => Weekday::Sun,
            Some(s) => parse_weekday(s)
                .ok_or_else(|| bad("'recurrence.pattern.firstDayOfWeek' is not a day name."))?,
        };

        let recurrence_time_zone = match opt_str(
            range,
            "recurrenceTimeZone",
            "recurrence.range.recurrenceTimeZone",
        )? {
            None | Some("") => start_zone.clone(),
            Some(name) => GraphTimeZone::parse(name)?,
        };
        let start_date = match opt_str(range, "startDate", "recurrence.range.startDate")? {
            None => start_local_date,
            Some(s) => parse_date(s, "recurrence.range.startDate")?,
        };
        let rtype = opt_str(range, "type", "recurrence.range.type")?
            .ok_or_else(|| bad("'recurrence.range.type' is required."))?;
        let end = if rtype.eq_ignore_ascii_case("noEnd") {
            RangeEnd::NoEnd
        } else if rtype.eq_ignore_ascii_case("endDate") {
            let s = opt_str(range, "endDate", "recurrence.range.endDate")?
                .ok_or_else(|| bad("'recurrence.range.endDate' is required for type endDate."))?;
            let end = parse_date(s, "recurrence.range.endDate")?;
            if end < start_date {
                return Err(bad(
                    "'recurrence.range.endDate' must not be before 'recurrence.range.startDate'.",
                ));
            }
            RangeEnd::EndDate(end)
        } else if rtype.eq_ignore_ascii_case("numbered") {
            let n = opt_i64(
                range,
                "numberOfOccurrences",
                "recurrence.range.numberOfOccurrences",
            )?
            .unwrap_or(0);
            if !(1..=999).contains(&n) {
                return Err(bad(
                    "'recurrence.range.numberOfOccurrences' must be between 1 and 999.",
                ));
            }
            RangeEnd::Numbered(n as u32)
        } else {
            return Err(CalendarError::InvalidRequest(format!(
                "Recurrence range type '{rtype}' is not valid."
            )));
        };
        Ok(Recurrence {
            pattern: RecurrencePattern {
                pattern_type,
                interval: interval as u32,
                days_of_week,
                first_day_of_week,
                day_of_month: if pattern_type == PatternType::AbsoluteMonthly {
                    day_of_month as u32
                } else {
                    0
                },
            },
            range: RecurrenceRange {
                start_date,
                end,
                recurrence_time_zone,
            },
        })
    }

    /// The Graph JSON of this recurrence.
    pub fn to_json(&self) -> Value {
        let p = &self.pattern;
        let mut pattern = Map::new();
        pattern.insert(
            "type".into(),
            json!(match p.pattern_type {
                PatternType::Daily => "daily",
                PatternType::Weekly => "weekly",
                PatternType::AbsoluteMonthly => "absoluteMonthly",
            }),
        );
        pattern.insert("interval".into(), json!(p.interval));
        pattern.insert("month".into(), json!(0));
        pattern.insert("dayOfMonth".into(), json!(p.day_of_month));
        pattern.insert(
            "daysOfWeek".into(),
            json!(p
                .days_of_week
                .iter()
                .map(|d| weekday_name(*d))
                .collect::<Vec<_>>()),
        );
        pattern.insert(
            "firstDayOfWeek".into(),
            json!(weekday_name(p.first_day_of_week)),
        );
        pattern.insert("index".into(), json!("first"));
        let r = &self.range;
        let (rtype, end_date, count) = match r.end {
            RangeEnd::EndDate(d) => ("endDate", d.to_string(), 0),
            RangeEnd::NoEnd => ("noEnd", "0001-01-01".to_string(), 0),
            RangeEnd::Numbered(n) => ("numbered", "0001-01-01".to_string(), n),
        };
        json!({
            "pattern": pattern,
            "range": {
                "type": rtype,
                "startDate": r.start_date.to_string(),
                "endDate": end_date,
                "recurrenceTimeZone": r.recurrence_time_zone.windows_name()
                    .unwrap_or(r.recurrence_time_zone.name()),
                "numberOfOccurrences": count,
            }
        })
    }

    /// Local dates of the series, in order, until `until` (inclusive) or the range ends.
    pub fn dates_until(&self, until: NaiveDate) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let start = self.range.start_date;
        let limit = match self.range.end {
            RangeEnd::EndDate(d) => d.min(until),
            _ => until,
        };
        let max_count = match self.range.end {
            RangeEnd::Numbered(n) => n as usize,
            _ => MAX_OCCURRENCES,
        };
        let interval = i64::from(self.pattern.interval.max(1));
        match self.pattern.pattern_type {
            PatternType::Daily => {
                let mut d = start;
                while d <= limit && out.len() < max_count {
                    out.push(d);
                    d += Duration::days(interval);
                }
            }
            PatternType::AbsoluteMonthly => {
                let mut months = 0u32;
                'months: loop {
                    let total = start.year() * 12 + start.month0() as i32 + months as i32;
                    let (y, m) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
                    months += self.pattern.interval.max(1);
                    let Some(first) = NaiveDate::from_ymd_opt(y, m, 1) else {
                        break;
                    };
                    if first > limit || out.len() >= max_count {
                        break 'months;
                    }
                    if let Some(d) = NaiveDate::from_ymd_opt(y, m, self.pattern.day_of_month) {
                        if d >= start && d <= limit {
                            out.push(d);
                        }
                    }
                }
            }
            PatternType::Weekly => {
                let first = self.pattern.first_day_of_week;
                let back =
                    (7 + start.weekday().num_days_from_monday() - first.num_days_from_monday()) % 7;
                let mut week_start = start - Duration::days(i64::from(back));
                let mut days: Vec<i64> = self
                    .pattern
                    .days_of_week
                    .iter()
                    .map(|d| {
                        i64::from((7 + d.num_days_from_monday() - first.num_days_from_monday()) % 7)
                    })
                    .collect();
                days.sort_unstable();
                'weeks: while week_start <= limit && out.len() < max_count {
                    for off in &days {
                        let d = week_start + Duration::days(*off);
                        if d < start {
                            continue;
                        }
                        if d > limit || out.len() >= max_count {
                            break 'weeks;
                        }
                        out.push(d);
                    }
                    week_start += Duration::weeks(interval);
                }
            }
        }
        out
    }

    /// Occurrences `(start, end)` overlapping `[window_start, window_end)`: each at
    /// `start_time` local time in the recurrence zone on a series date, lasting `duration`.
    pub fn occurrences(
        &self,
        start_time: NaiveTime,
        duration: Duration,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let zone = &self.range.recurrence_time_zone;
        // Any occurrence that overlaps the window starts on or before its local end date.
        let until = zone.to_local(window_end).date() + Duration::days(1);
        self.dates_until(until)
            .into_iter()
            .map(|d| {
                let s = zone.from_local(d.and_time(start_time));
                (s, s + duration)
            })
            .filter(|(s, e)| {
                *s < window_end && (*e > window_start || (s == e && *s >= window_start))
            })
            .collect()
    }
}

/// Parses an `Edm.Date` (`YYYY-MM-DD`).
pub fn parse_date(s: &str, what: &str) -> Result<NaiveDate, CalendarError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        CalendarError::InvalidRequest(format!("'{what}' must be a date (YYYY-MM-DD)."))
    })
}
