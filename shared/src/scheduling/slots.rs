//! Slot computation: pure, no I/O, from free/busy data to ranked meeting times.
//!
//! Rules (each one a decision made explicit):
//! - A required attendee whose calendar could not be read (`unknown`, `unsupported`) makes every
//!   time unconfirmable: no slots, and a `reason` naming them. Never treated as free.
//! - Blocking statuses: `busy`, `oof`, `unknown` items and, unless `treat_tentative_as_busy` is
//!   false, `tentative`. `working_elsewhere` does **not** block: the person is working, just not at
//!   their usual place, and the meeting is online by default. `free` items never block.
//! - Buffers keep a gap around existing meetings: a slot `[s, e)` must not overlap any blocking
//!   item widened to `[item.start - buffer_after, item.end + buffer_before)`. Buffers need not lie
//!   inside working hours.
//! - Working hours are expanded per local day in the attendee's **own** zone, so "09:00-17:00
//!   New York" is 14:00-22:00 UTC before 2026-03-08 and 13:00-21:00 UTC after. The zone may be a
//!   tz database one or a custom one Graph describes by bias and DST rules (`customTimeZone`). A slot must lie
//!   wholly inside one working-hours span of every required attendee. An attendee without
//!   working-hours data is not constrained by them. Local times that do not exist (DST gap) move
//!   to the first valid instant after; ambiguous ones (DST fall-back) are resolved to the
//!   narrower span (later start, earlier end), so a slot is never outside working hours.
//! - Start times are aligned to `granularity` in the **requested** zone (minutes since local
//!   midnight divisible by the granularity), at or after `now + min_notice`.
//! - Ranking: more free optional attendees first, then earlier. Optional attendees never remove a
//!   slot.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;
use serde::Serialize;

use super::custom_zone::HoursZone;
use crate::domain::EmailAddress;

/// Graph's `freeBusyStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FreeBusyStatus {
    Free,
    Tentative,
    Busy,
    Oof,
    WorkingElsewhere,
    Unknown,
}

impl FreeBusyStatus {
    /// Reads Graph's spelling, case-insensitively (docs show both `busy` and `Busy`).
    pub fn from_graph(raw: &str) -> Self {
        match raw.to_ascii_lowercase().as_str() {
            "free" => Self::Free,
            "tentative" => Self::Tentative,
            "busy" => Self::Busy,
            "oof" => Self::Oof,
            "workingelsewhere" => Self::WorkingElsewhere,
            _ => Self::Unknown,
        }
    }

    fn blocks(self, treat_tentative_as_busy: bool) -> bool {
        match self {
            Self::Busy | Self::Oof | Self::Unknown => true,
            Self::Tentative => treat_tentative_as_busy,
            Self::Free | Self::WorkingElsewhere => false,
        }
    }
}

/// One busy period of an attendee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BusyItem {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: FreeBusyStatus,
}

/// An attendee's working hours, in their own zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    pub days: Vec<Weekday>,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub zone: HoursZone,
}

/// Whether Graph could read an attendee's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleStatus {
    Ok,
    /// Graph does not know the address.
    Unknown,
    /// The mailbox exists but Graph cannot serve it (on premises).
    Unsupported,
}

/// What is known of one attendee's calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub address: EmailAddress,
    pub status: ScheduleStatus,
    pub busy: Vec<BusyItem>,
    pub working_hours: Option<WorkingHours>,
}

/// The constraints of one meeting-times query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRules {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub zone: Tz,
    pub duration: Duration,
    pub granularity: Duration,
    pub buffer_before: Duration,
    pub buffer_after: Duration,
    pub min_notice: Duration,
    pub now: DateTime<Utc>,
    pub within_working_hours: bool,
    pub treat_tentative_as_busy: bool,
    pub max_results: usize,
}

/// One proposed meeting time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub optional_free: Vec<EmailAddress>,
}

/// The ranked slots, and why there are none when the list is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotOutcome {
    pub slots: Vec<Slot>,
    pub reason: Option<String>,
}

type Span = (DateTime<Utc>, DateTime<Utc>);

/// Intersection of two sorted lists of disjoint half-open spans.
fn intersect(a: &[Span], b: &[Span]) -> Vec<Span> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        let start = a[i].0.max(b[j].0);
        let end = a[i].1.min(b[j].1);
        if start < end {
            out.push((start, end));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// `a` minus the union of `holes` (both sorted by start; holes may overlap each other).
fn subtract(a: &[Span], holes: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut h = 0;
    for &(start, end) in a {
        let mut cursor = start;
        while h < holes.len() && holes[h].1 <= cursor {
            h += 1;
        }
        let mut k = h;
        while k < holes.len() && holes[k].0 < end {
            if holes[k].0 > cursor {
                out.push((cursor, holes[k].0));
            }
            cursor = cursor.max(holes[k].1);
            k += 1;
        }
        if cursor < end {
            out.push((cursor, end));
        }
    }
    out
}

/// A local wall-clock time as an instant, resolved towards the inside of a span: a start
/// (`late = true`) takes the later reading of an ambiguous time and the first valid minute after
/// a DST gap; an end takes the earlier reading and the last valid minute before a gap.
fn resolve(zone: &HoursZone, local: NaiveDateTime, late: bool) -> DateTime<Utc> {
    let step = if late {
        Duration::minutes(1)
    } else {
        Duration::minutes(-1)
    };
    let mut probe = local;
    // DST gaps are at most a few hours; step minute by minute out of one.
    for _ in 0..=(4 * 60) {
        match zone.from_local(probe) {
            LocalResult::Single(t) => return t,
            LocalResult::Ambiguous(early, later) => return if late { later } else { early },
            LocalResult::None => probe += step,
        }
    }
    Utc.from_utc_datetime(&local)
}

/// Working-hours spans overlapping `[from, to)`, in UTC, sorted.
pub fn working_spans(hours: &WorkingHours, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Span> {
    let first = hours.zone.to_local(from).date() - Duration::days(1);
    let last = hours.zone.to_local(to).date() + Duration::days(1);
    let mut out: Vec<Span> = Vec::new();
    let mut day: NaiveDate = first;
    while day <= last {
        if hours.days.contains(&day.weekday()) {
            let start = resolve(&hours.zone, day.and_time(hours.start), true);
            // An end at or before the start is an overnight shift ending the next day.
            let end_day = if hours.end <= hours.start {
                day + Duration::days(1)
            } else {
                day
            };
            let end = resolve(&hours.zone, end_day.and_time(hours.end), false);
            let (start, end) = (start.max(from), end.min(to));
            if start < end {
                match out.last_mut() {
                    Some(prev) if prev.1 >= start => prev.1 = prev.1.max(end),
                    _ => out.push((start, end)),
                }
            }
        }
        day += Duration::days(1);
    }
    out
}

/// Busy items that block under `rules`, widened by the buffers, sorted by start.
fn blocked_spans(busy: &[BusyItem], rules: &SlotRules) -> Vec<Span> {
    let mut spans: Vec<Span> = busy
        .iter()
        .filter(|b| b.status.blocks(rules.treat_tentative_as_busy) && b.start < b.end)
        .map(|b| (b.start - rules.buffer_after, b.end + rules.buffer_before))
        .collect();
    spans.sort();
    spans
}

/// Where an attendee could meet within `[from, to)`: working hours (when asked and known) minus
/// blocked time.
fn open_spans(
    a: &Availability,
    rules: &SlotRules,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Span> {
    let base = match (&a.working_hours, rules.within_working_hours) {
        (Some(hours), true) => working_spans(hours, from, to),
        _ => vec![(from, to)],
    };
    subtract(&base, &blocked_spans(&a.busy, rules))
}

/// Candidate starts aligned to the granularity in the requested zone, sorted, within `[from, to)`.
fn aligned_starts(rules: &SlotRules, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let step = rules.granularity.num_minutes().max(1);
    let per_day = (24 * 60 + step - 1) / step;
    let mut day = from.with_timezone(&rules.zone).date_naive();
    let last = to.with_timezone(&rules.zone).date_naive();
    let mut out = Vec::new();
    while day <= last {
        for k in 0..per_day {
            let local = day.and_time(NaiveTime::MIN) + Duration::minutes(k * step);
            if local.date() != day {
                break;
            }
            match rules.zone.from_local_datetime(&local) {
                LocalResult::Single(t) => out.push(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(a, b) => {
                    out.push(a.with_timezone(&Utc));
                    out.push(b.with_timezone(&Utc));
                }
                LocalResult::None => {}
            }
        }
        day += Duration::days(1);
    }
    out.retain(|t| *t >= from && *t < to);
    out.sort();
    out.dedup();
    out
}

/// Whether `[s, e)` lies inside one of the sorted, disjoint `spans`.
fn fits(spans: &[Span], s: DateTime<Utc>, e: DateTime<Utc>) -> bool {
    let i = spans.partition_point(|span| span.1 < e);
    spans.get(i).is_some_and(|span| span.0 <= s && e <= span.1)
}

/// Proposes meeting times where every required attendee is free and inside working hours.
pub fn find_slots(
    required: &[Availability],
    optional: &[Availability],
    rules: &SlotRules,
) -> SlotOutcome {
    let empty = |reason: String| SlotOutcome {
        slots: Vec::new(),
        reason: Some(reason),
    };
    let unreadable: Vec<String> = required
        .iter()
        .filter(|a| a.status != ScheduleStatus::Ok)
        .map(|a| {
            let why = if a.status == ScheduleStatus::Unknown {
                "unknown to Microsoft 365"
            } else {
                "not supported (mailbox not in Exchange Online)"
            };
            format!("{} ({why})", a.address)
        })
        .collect();
    if !unreadable.is_empty() {
        return empty(format!(
            "the free/busy of required attendee(s) {} cannot be read, so no time can be confirmed free",
            unreadable.join(", ")
        ));
    }
    let from = rules.start.max(rules.now + rules.min_notice);
    let to = rules.end;
    if from + rules.duration > to {
        return empty(
            "the window ends before the minimum notice and the duration allow a meeting".into(),
        );
    }

    let long_enough = |spans: &[Span]| spans.iter().any(|(s, e)| *e - *s >= rules.duration);
    if rules.within_working_hours {
        let mut shared = vec![(from, to)];
        for a in required {
            if let Some(hours) = &a.working_hours {
                shared = intersect(&shared, &working_spans(hours, from, to));
            }
        }
        if !long_enough(&shared) {
            return empty(format!(
                "the required attendees share no working hours of {} minutes in this window",
                rules.duration.num_minutes()
            ));
        }
    }

    let mut open = vec![(from, to)];
    for a in required {
        open = intersect(&open, &open_spans(a, rules, from, to));
    }
    if !long_enough(&open) {
        return empty(format!(
            "the required attendees have no common free time of {} minutes in this window",
            rules.duration.num_minutes()
        ));
    }

    let optional_open: Vec<(&EmailAddress, Vec<Span>)> = optional
        .iter()
        .filter(|a| a.status == ScheduleStatus::Ok)
        .map(|a| (&a.address, open_spans(a, rules, from, to)))
        .collect();

    let mut slots: Vec<Slot> = aligned_starts(rules, from, to)
        .into_iter()
        .filter_map(|start| {
            let end = start + rules.duration;
            (end <= to && fits(&open, start, end)).then(|| Slot {
                start,
                end,
                optional_free: optional_open
                    .iter()
                    .filter(|(_, spans)| fits(spans, start, end))
                    .map(|(address, _)| (*address).clone())
                    .collect(),
            })
        })
        .collect();
    if slots.is_empty() {
        return empty(format!(
            "no {}-minute slot aligned to {} minutes fits the required attendees' common free time",
            rules.duration.num_minutes(),
            rules.granularity.num_minutes()
        ));
    }
    // Stable sort keeps time order within the same number of free optional attendees.
    slots.sort_by_key(|s| std::cmp::Reverse(s.optional_free.len()));
    slots.truncate(rules.max_results);
    SlotOutcome {
        slots,
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Asia::Kolkata, Europe::Berlin};

    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse("attendees", s).unwrap().to_lowercase()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn nine_to_five(zone: Tz) -> WorkingHours {
        WorkingHours {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            zone: zone.into(),
        }
    }

    fn person(a: &str, zone: Tz, busy: Vec<BusyItem>) -> Availability {
        Availability {
            address: addr(a),
            status: ScheduleStatus::Ok,
            busy,
            working_hours: Some(nine_to_five(zone)),
        }
    }

    fn busy(start: &str, end: &str, status: FreeBusyStatus) -> BusyItem {
        BusyItem {
            start: utc(start),
            end: utc(end),
            status,
        }
    }

    fn rules(start: &str, end: &str, zone: Tz) -> SlotRules {
        SlotRules {
            start: utc(start),
            end: utc(end),
            zone,
            duration: Duration::minutes(45),
            granularity: Duration::minutes(15),
            buffer_before: Duration::zero(),
            buffer_after: Duration::zero(),
            min_notice: Duration::zero(),
            now: utc("2026-01-01T00:00:00Z"),
            within_working_hours: true,
            treat_tentative_as_busy: true,
            max_results: 1000,
        }
    }

    #[test]
    fn new_york_working_hours_move_an_hour_earlier_in_utc_after_the_us_dst_change() {
        let spans = working_spans(
            &nine_to_five(New_York),
            utc("2026-03-06T00:00:00Z"),
            utc("2026-03-10T00:00:00Z"),
        );
        assert_eq!(
            spans,
            vec![
                (utc("2026-03-06T14:00:00Z"), utc("2026-03-06T22:00:00Z")),
                (utc("2026-03-09T13:00:00Z"), utc("2026-03-09T21:00:00Z")),
            ]
        );
    }

    #[test]
    fn berlin_working_hours_follow_the_eu_dst_change() {
        let spans = working_spans(
            &nine_to_five(Berlin),
            utc("2026-03-27T00:00:00Z"),
            utc("2026-03-31T00:00:00Z"),
        );
        assert_eq!(
            spans,
            vec![
                (utc("2026-03-27T08:00:00Z"), utc("2026-03-27T16:00:00Z")),
                (utc("2026-03-30T07:00:00Z"), utc("2026-03-30T15:00:00Z")),
            ]
        );
    }

    #[test]
    fn berlin_and_new_york_overlap_three_hours_normally_and_four_between_the_dst_changes() {
        // Week of 2026-03-02: Berlin 08-16Z, New York 14-22Z -> 14:00-16:00Z (2 h).
        // Between 2026-03-08 and 2026-03-29: New York 13-21Z, Berlin 08-16Z -> 13:00-16:00Z (3 h).
        let r = rules("2026-03-02T00:00:00Z", "2026-03-14T00:00:00Z", Berlin);
        let out = find_slots(
            &[
                person("a@x.example", Berlin, vec![]),
                person("b@x.example", New_York, vec![]),
            ],
            &[],
            &r,
        );
        let first_week: Vec<_> = out
            .slots
            .iter()
            .filter(|s| s.start < utc("2026-03-03T00:00:00Z"))
            .collect();
        assert_eq!(
            first_week.first().unwrap().start,
            utc("2026-03-02T14:00:00Z")
        );
        assert_eq!(first_week.last().unwrap().end, utc("2026-03-02T16:00:00Z"));
        let second_week: Vec<_> = out
            .slots
            .iter()
            .filter(|s| {
                s.start >= utc("2026-03-09T00:00:00Z") && s.start < utc("2026-03-10T00:00:00Z")
            })
            .collect();
        assert_eq!(
            second_week.first().unwrap().start,
            utc("2026-03-09T13:00:00Z")
        );
        assert_eq!(second_week.last().unwrap().end, utc("2026-03-09T16:00:00Z"));
    }

    #[test]
    fn three_zones_without_shared_hours_give_no_slots_and_say_why() {
        let r = rules("2026-03-02T00:00:00Z", "2026-03-16T00:00:00Z", Berlin);
        let out = find_slots(
            &[
                person("a@x.example", Berlin, vec![]),
                person("b@x.example", New_York, vec![]),
                person("c@x.example", Kolkata, vec![]),
            ],
            &[],
            &r,
        );
        assert!(out.slots.is_empty());
        assert!(out.reason.unwrap().contains("share no working hours"));
    }

    #[test]
    fn busy_and_tentative_block_but_working_elsewhere_does_not() {
        let mut r = rules("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", Berlin);
        r.duration = Duration::minutes(60);
        let a = person(
            "a@x.example",
            Berlin,
            vec![
                busy(
                    "2026-03-02T08:00:00Z",
                    "2026-03-02T10:00:00Z",
                    FreeBusyStatus::Busy,
                ),
                busy(
                    "2026-03-02T10:00:00Z",
                    "2026-03-02T12:00:00Z",
                    FreeBusyStatus::Tentative,
                ),
                busy(
                    "2026-03-02T12:00:00Z",
                    "2026-03-02T14:00:00Z",
                    FreeBusyStatus::WorkingElsewhere,
                ),
                busy(
                    "2026-03-02T14:00:00Z",
                    "2026-03-02T16:00:00Z",
                    FreeBusyStatus::Oof,
                ),
            ],
        );
        let out = find_slots(std::slice::from_ref(&a), &[], &r);
        assert_eq!(
            out.slots.first().unwrap().start,
            utc("2026-03-02T12:00:00Z")
        );
        assert_eq!(out.slots.last().unwrap().end, utc("2026-03-02T14:00:00Z"));

        r.treat_tentative_as_busy = false;
        let out = find_slots(&[a], &[], &r);
        assert_eq!(
            out.slots.first().unwrap().start,
            utc("2026-03-02T10:00:00Z")
        );
    }

    #[test]
    fn buffers_keep_a_gap_around_existing_meetings() {
        let mut r = rules("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", Berlin);
        r.duration = Duration::minutes(30);
        r.buffer_before = Duration::minutes(15);
        r.buffer_after = Duration::minutes(10);
        let a = person(
            "a@x.example",
            Berlin,
            vec![busy(
                "2026-03-02T10:00:00Z",
                "2026-03-02T11:00:00Z",
                FreeBusyStatus::Busy,
            )],
        );
        let out = find_slots(&[a], &[], &r);
        for s in &out.slots {
            assert!(
                s.end <= utc("2026-03-02T09:50:00Z") || s.start >= utc("2026-03-02T11:15:00Z"),
                "{s:?}"
            );
        }
        assert!(out
            .slots
            .iter()
            .any(|s| s.start == utc("2026-03-02T11:15:00Z")));
        assert!(out
            .slots
            .iter()
            .any(|s| s.end == utc("2026-03-02T09:45:00Z")));
    }

    #[test]
    fn granularity_aligns_to_the_requested_zone_and_min_notice_is_respected() {
        // Kolkata is UTC+05:30: hourly slots in Kolkata start at :30 UTC.
        let mut r = rules("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", Kolkata);
        r.granularity = Duration::minutes(60);
        r.within_working_hours = false;
        r.now = utc("2026-03-02T05:00:00Z");
        r.min_notice = Duration::minutes(120);
        let out = find_slots(&[person("a@x.example", Berlin, vec![])], &[], &r);
        assert_eq!(
            out.slots.first().unwrap().start,
            utc("2026-03-02T07:30:00Z")
        );
        assert!(out
            .slots
            .iter()
            .all(|s| s.start.with_timezone(&Kolkata).format("%M").to_string() == "00"));
    }

    #[test]
    fn optional_attendees_change_the_order_but_never_the_set() {
        let r = rules("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", Berlin);
        let required = [person("a@x.example", Berlin, vec![])];
        let optional = [person(
            "o@x.example",
            Berlin,
            vec![busy(
                "2026-03-02T08:00:00Z",
                "2026-03-02T12:00:00Z",
                FreeBusyStatus::Busy,
            )],
        )];
        let without = find_slots(&required, &[], &r);
        let with = find_slots(&required, &optional, &r);
        let mut a: Vec<_> = without.slots.iter().map(|s| s.start).collect();
        let mut b: Vec<_> = with.slots.iter().map(|s| s.start).collect();
        assert_ne!(a, b, "ranking changes");
        a.sort();
        b.sort();
        assert_eq!(a, b, "same set of slots");
        assert_eq!(with.slots[0].start, utc("2026-03-02T12:00:00Z"));
        assert_eq!(with.slots[0].optional_free, vec![addr("o@x.example")]);
    }

    #[test]
    fn an_unreadable_required_calendar_is_never_free() {
        let r = rules("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", Berlin);
        let unknown = Availability {
            address: addr("nobody@x.example"),
            status: ScheduleStatus::Unknown,
            busy: vec![],
            working_hours: None,
        };
        let out = find_slots(
            &[person("a@x.example", Berlin, vec![]), unknown.clone()],
            &[],
            &r,
        );
        assert!(out.slots.is_empty());
        assert!(out.reason.unwrap().contains("nobody@x.example"));
        let out = find_slots(&[person("a@x.example", Berlin, vec![])], &[unknown], &r);
        assert!(out.slots.iter().all(|s| s.optional_free.is_empty()));
        assert!(!out.slots.is_empty());
    }

    #[test]
    fn subtract_and_intersect_handle_overlapping_holes() {
        let t = |h: i64| utc("2026-03-02T00:00:00Z") + Duration::hours(h);
        assert_eq!(
            subtract(
                &[(t(0), t(10))],
                &[(t(1), t(3)), (t(2), t(4)), (t(9), t(12))]
            ),
            vec![(t(0), t(1)), (t(4), t(9))]
        );
        assert_eq!(
            intersect(&[(t(0), t(5)), (t(6), t(8))], &[(t(4), t(7))]),
            vec![(t(4), t(5)), (t(6), t(7))]
        );
    }

    mod properties {
        use super::*;
        use chrono::Timelike;
        use proptest::prelude::*;

        const ZONES: &[Tz] = &[
            chrono_tz::Europe::Berlin,
            chrono_tz::America::New_York,
            chrono_tz::Asia::Kolkata,
            chrono_tz::Australia::Sydney,
            chrono_tz::America::Los_Angeles,
            chrono_tz::UTC,
            chrono_tz::Asia::Kathmandu,
        ];
        const STATUSES: &[FreeBusyStatus] = &[
            FreeBusyStatus::Busy,
            FreeBusyStatus::Tentative,
            FreeBusyStatus::Oof,
            FreeBusyStatus::WorkingElsewhere,
            FreeBusyStatus::Free,
            FreeBusyStatus::Unknown,
        ];
        const DAYS: [Weekday; 7] = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];

        fn origin() -> DateTime<Utc> {
            // Two weeks spanning both 2026 DST changes in the window below.
            utc("2026-03-02T00:00:00Z")
        }

        fn attendee() -> impl Strategy<Value = Availability> {
            (
                0..ZONES.len(),
                0u32..14,
                1u32..10,
                proptest::bits::u8::between(0, 7),
                proptest::collection::vec(
                    (0i64..(35 * 24 * 60), 5i64..600, 0..STATUSES.len()),
                    0..30,
                ),
            )
                .prop_map(|(zone, start_hour, len, days, busy)| {
                    let end_hour = (start_hour + len).min(23);
                    Availability {
                        address: addr("p@x.example"),
                        status: ScheduleStatus::Ok,
                        working_hours: Some(WorkingHours {
                            days: DAYS
                                .iter()
                                .enumerate()
                                .filter(|(i, _)| days & (1 << i) != 0)
                                .map(|(_, d)| *d)
                                .collect(),
                            start: NaiveTime::from_hms_opt(start_hour, 0, 0).unwrap(),
                            end: NaiveTime::from_hms_opt(end_hour, 30, 0).unwrap(),
                            zone: ZONES[zone].into(),
                        }),
                        busy: busy
                            .into_iter()
                            .map(|(at, len, status)| BusyItem {
                                start: origin() + Duration::minutes(at),
                                end: origin() + Duration::minutes(at + len),
                                status: STATUSES[status],
                            })
                            .collect(),
                    }
                })
        }

        fn inside_working_hours(hours: &WorkingHours, s: DateTime<Utc>, e: DateTime<Utc>) -> bool {
            // Checked independently of the span expansion: by wall-clock time in the attendee's zone.
            let (ls, le) = (hours.zone.to_local(s), hours.zone.to_local(e));
            ls.date() == le.date()
                && hours.days.contains(&ls.weekday())
                && ls.time() >= hours.start
                && le.time() <= hours.end
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]
            #[test]
            fn every_slot_is_inside_working_hours_and_outside_busy_time(
                required in proptest::collection::vec(attendee(), 1..4),
                zone in 0..ZONES.len(),
                duration in 15i64..120,
                granularity in prop::sample::select(vec![5i64, 15, 30, 45, 60]),
                before in 0i64..30,
                after in 0i64..30,
                tentative in any::<bool>(),
                offset_days in 0i64..20,
            ) {
                let start = origin() + Duration::days(offset_days);
                let r = SlotRules {
                    start,
                    end: start + Duration::days(14),
                    zone: ZONES[zone],
                    duration: Duration::minutes(duration),
                    granularity: Duration::minutes(granularity),
                    buffer_before: Duration::minutes(before),
                    buffer_after: Duration::minutes(after),
                    min_notice: Duration::zero(),
                    now: origin(),
                    within_working_hours: true,
                    treat_tentative_as_busy: tentative,
                    max_results: 10_000,
                };
                let out = find_slots(&required, &[], &r);
                prop_assert_eq!(out.slots.is_empty(), out.reason.is_some());
                for slot in &out.slots {
                    prop_assert!(slot.start >= r.start && slot.end <= r.end);
                    prop_assert_eq!(slot.end - slot.start, r.duration);
                    let local = slot.start.with_timezone(&r.zone);
                    let minutes = i64::from(local.hour()) * 60 + i64::from(local.minute());
                    prop_assert_eq!(minutes % granularity, 0);
                    for a in &required {
                        let hours = a.working_hours.as_ref().unwrap();
                        prop_assert!(inside_working_hours(hours, slot.start, slot.end), "{slot:?} outside {hours:?}");
                        for b in &a.busy {
                            if b.status.blocks(tentative) {
                                prop_assert!(
                                    slot.end + r.buffer_after <= b.start || slot.start - r.buffer_before >= b.end,
                                    "{slot:?} overlaps {b:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
