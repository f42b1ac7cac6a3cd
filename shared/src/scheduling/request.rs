//! Request bodies of the scheduling routes, and the types they parse into. Every check names the
//! request field at fault (400 `field`), and nothing downstream re-checks a raw string.

use std::collections::HashSet;

use chrono::{DateTime, Duration, FixedOffset, Months, Utc};
use serde::Deserialize;

use super::zones::IanaZone;
use crate::domain::{EmailAddress, GraphId, ParseError};

/// Most attendees one request may name (required and optional together).
pub const MAX_ATTENDEES: usize = 100;
/// Graph's `availabilityViewInterval` bounds (minutes).
pub const INTERVAL_MINUTES: std::ops::RangeInclusive<i64> = 5..=1440;
pub const DEFAULT_INTERVAL_MINUTES: i64 = 30;
pub const DEFAULT_GRANULARITY_MINUTES: i64 = 15;
pub const DEFAULT_MAX_RESULTS: usize = 20;
/// Longest buffer or notice we accept: one week, in minutes.
const MAX_OFFSET_MINUTES: i64 = 7 * 24 * 60;

/// Parses a list of 1..=`max` addresses without duplicates (case-insensitive); `seen` spans
/// several lists so an address cannot be both required and optional.
pub(crate) fn addresses(
    field: &'static str,
    raw: &[String],
    min: usize,
    max: usize,
    seen: &mut HashSet<EmailAddress>,
) -> Result<Vec<EmailAddress>, ParseError> {
    if raw.len() < min || raw.len() > max {
        return Err(ParseError::new(
            field,
            format!("must name {min} to {max} attendees (got {})", raw.len()),
        ));
    }
    raw.iter()
        .map(|a| {
            // Exchange compares addresses case-insensitively, so do we.
            let address = EmailAddress::parse(field, a)?.to_lowercase();
            if !seen.insert(address.clone()) {
                return Err(ParseError::new(
                    field,
                    format!("{address} is listed more than once"),
                ));
            }
            Ok(address)
        })
        .collect()
}

/// An RFC 3339 timestamp with an explicit offset (`Z` or `+01:00`); a bare local time is
/// ambiguous and rejected.
pub fn instant(field: &'static str, raw: &str) -> Result<DateTime<Utc>, ParseError> {
    DateTime::<FixedOffset>::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ParseError::new(
                field,
                "must be an RFC 3339 date-time with an offset, e.g. 2026-03-09T09:00:00+01:00",
            )
        })
}

/// A non-empty window of at most one year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl TimeWindow {
    pub fn parse(start: &str, end: &str) -> Result<Self, ParseError> {
        let start = instant("start", start)?;
        let end = instant("end", end)?;
        if start >= end {
            return Err(ParseError::new("end", "must be after start"));
        }
        if start
            .checked_add_months(Months::new(12))
            .is_none_or(|limit| end > limit)
        {
            return Err(ParseError::new(
                "end",
                "the window must be at most one year long",
            ));
        }
        Ok(Self { start, end })
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}

pub(crate) fn minutes(
    field: &'static str,
    raw: Option<i64>,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Duration, ParseError> {
    let value = raw.unwrap_or(default);
    if !range.contains(&value) {
        return Err(ParseError::new(
            field,
            format!("must be {} to {} minutes", range.start(), range.end()),
        ));
    }
    Ok(Duration::minutes(value))
}

/// `POST /connections/{id}/free-busy` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeBusyBody {
    pub attendees: Vec<String>,
    pub start: String,
    pub end: String,
    pub time_zone: String,
    pub interval_minutes: Option<i64>,
}

/// A checked free/busy query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeBusyQuery {
    pub attendees: Vec<EmailAddress>,
    pub window: TimeWindow,
    pub zone: IanaZone,
    pub interval: Duration,
}

impl TryFrom<FreeBusyBody> for FreeBusyQuery {
    type Error = ParseError;
    fn try_from(b: FreeBusyBody) -> Result<Self, ParseError> {
        let attendees = addresses(
            "attendees",
            &b.attendees,
            1,
            MAX_ATTENDEES,
            &mut HashSet::new(),
        )?;
        let window = TimeWindow::parse(&b.start, &b.end)?;
        let zone = IanaZone::parse("time_zone", &b.time_zone)?;
        let interval = minutes(
            "interval_minutes",
            b.interval_minutes,
            DEFAULT_INTERVAL_MINUTES,
            INTERVAL_MINUTES,
        )?;
        // Graph refuses an availability view interval longer than the window
        // (`ErrorInvalidMergedFreeBusyInterval`): the client's to fix, not our 500.
        if interval > window.duration() {
            return Err(ParseError::new(
                "interval_minutes",
                "must not be longer than the window from start to end",
            ));
        }
        Ok(Self {
            attendees,
            window,
            zone,
            interval,
        })
    }
}

/// `POST /connections/{id}/meeting-times` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingTimesBody {
    pub required: Vec<String>,
    #[serde(default)]
    pub optional: Vec<String>,
    pub duration_minutes: i64,
    pub start: String,
    pub end: String,
    pub time_zone: String,
    pub granularity_minutes: Option<i64>,
    pub buffer_before_minutes: Option<i64>,
    pub buffer_after_minutes: Option<i64>,
    pub min_notice_minutes: Option<i64>,
    pub within_working_hours: Option<bool>,
    pub treat_tentative_as_busy: Option<bool>,
    pub max_results: Option<usize>,
}

/// A checked meeting-times query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingQuery {
    pub required: Vec<EmailAddress>,
    pub optional: Vec<EmailAddress>,
    pub duration: Duration,
    pub window: TimeWindow,
    pub zone: IanaZone,
    pub granularity: Duration,
    pub buffer_before: Duration,
    pub buffer_after: Duration,
    /// Slots start at least this long after now; `None`: the window alone bounds them.
    pub min_notice: Option<Duration>,
    pub within_working_hours: bool,
    pub treat_tentative_as_busy: bool,
    pub max_results: usize,
}

impl TryFrom<MeetingTimesBody> for MeetingQuery {
    type Error = ParseError;
    fn try_from(b: MeetingTimesBody) -> Result<Self, ParseError> {
        let mut seen = HashSet::new();
        let required = addresses("required", &b.required, 1, MAX_ATTENDEES, &mut seen)?;
        let optional = addresses(
            "optional",
            &b.optional,
            0,
            MAX_ATTENDEES - required.len(),
            &mut seen,
        )?;
        let window = TimeWindow::parse(&b.start, &b.end)?;
        let duration = minutes("duration_minutes", Some(b.duration_minutes), 0, 5..=1440)?;
        if duration > window.duration() {
            return Err(ParseError::new(
                "duration_minutes",
                "is longer than the window",
            ));
        }
        let max_results = b.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
        if !(1..=100).contains(&max_results) {
            return Err(ParseError::new("max_results", "must be 1 to 100"));
        }
        Ok(Self {
            required,
            optional,
            duration,
            window,
            zone: IanaZone::parse("time_zone", &b.time_zone)?,
            granularity: minutes(
                "granularity_minutes",
                b.granularity_minutes,
                DEFAULT_GRANULARITY_MINUTES,
                INTERVAL_MINUTES,
            )?,
            buffer_before: minutes(
                "buffer_before_minutes",
                b.buffer_before_minutes,
                0,
                0..=MAX_OFFSET_MINUTES,
            )?,
            buffer_after: minutes(
                "buffer_after_minutes",
                b.buffer_after_minutes,
                0,
                0..=MAX_OFFSET_MINUTES,
            )?,
            min_notice: b
                .min_notice_minutes
                .map(|m| minutes("min_notice_minutes", Some(m), 0, 0..=MAX_OFFSET_MINUTES))
                .transpose()?,
            within_working_hours: b.within_working_hours.unwrap_or(true),
            treat_tentative_as_busy: b.treat_tentative_as_busy.unwrap_or(true),
            max_results,
        })
    }
}

/// How an attendee is invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendeeType {
    Required,
    Optional,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendeeBody {
    pub address: String,
    #[serde(rename = "type", default = "required")]
    pub kind: AttendeeType,
}

fn required() -> AttendeeType {
    AttendeeType::Required
}

/// An invited attendee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitee {
    pub address: EmailAddress,
    pub kind: AttendeeType,
}

fn invitees(raw: &[AttendeeBody]) -> Result<Vec<Invitee>, ParseError> {
    let addresses_raw: Vec<String> = raw.iter().map(|a| a.address.clone()).collect();
    let parsed = addresses(
        "attendees",
        &addresses_raw,
        1,
        MAX_ATTENDEES,
        &mut HashSet::new(),
    )?;
    Ok(parsed
        .into_iter()
        .zip(raw)
        .map(|(address, a)| Invitee {
            address,
            kind: a.kind,
        })
        .collect())
}

fn subject(raw: &str) -> Result<String, ParseError> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > 255 {
        return Err(ParseError::new("subject", "must be 1 to 255 characters"));
    }
    Ok(s.to_owned())
}

/// `POST /connections/{id}/events` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingBody {
    pub subject: String,
    pub body: Option<String>,
    pub start: String,
    pub end: String,
    pub time_zone: String,
    pub attendees: Vec<AttendeeBody>,
    pub location: Option<String>,
    pub online_meeting: Option<bool>,
}

/// A checked booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub subject: String,
    pub body: Option<String>,
    pub window: TimeWindow,
    pub zone: IanaZone,
    pub attendees: Vec<Invitee>,
    pub location: Option<String>,
    pub online_meeting: bool,
}

/// Longest event body accepted (plain text), well inside the 64 KB request limit.
const MAX_BODY_CHARS: usize = 32_000;

impl TryFrom<BookingBody> for Booking {
    type Error = ParseError;
    fn try_from(b: BookingBody) -> Result<Self, ParseError> {
        if b.body
            .as_ref()
            .is_some_and(|s| s.chars().count() > MAX_BODY_CHARS)
        {
            return Err(ParseError::new(
                "body",
                format!("must be at most {MAX_BODY_CHARS} characters"),
            ));
        }
        if b.location.as_ref().is_some_and(|s| s.chars().count() > 255) {
            return Err(ParseError::new(
                "location",
                "must be at most 255 characters",
            ));
        }
        let window = TimeWindow::parse(&b.start, &b.end)?;
        if window.duration() > Duration::days(1) {
            return Err(ParseError::new(
                "end",
                "a meeting may last at most 24 hours",
            ));
        }
        Ok(Self {
            subject: subject(&b.subject)?,
            body: b.body,
            window,
            zone: IanaZone::parse("time_zone", &b.time_zone)?,
            attendees: invitees(&b.attendees)?,
            location: b.location.filter(|l| !l.trim().is_empty()),
            online_meeting: b.online_meeting.unwrap_or(true),
        })
    }
}

/// `PATCH /connections/{id}/events/{event_id}` body: any of time, attendees, subject.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    pub subject: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub time_zone: Option<String>,
    pub attendees: Option<Vec<AttendeeBody>>,
}

/// A checked change to a booked event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reschedule {
    pub subject: Option<String>,
    pub time: Option<(TimeWindow, IanaZone)>,
    pub attendees: Option<Vec<Invitee>>,
}

impl TryFrom<RescheduleBody> for Reschedule {
    type Error = ParseError;
    fn try_from(b: RescheduleBody) -> Result<Self, ParseError> {
        let time = match (b.start, b.end, b.time_zone) {
            (None, None, None) => None,
            (Some(start), Some(end), Some(zone)) => {
                let window = TimeWindow::parse(&start, &end)?;
                if window.duration() > Duration::days(1) {
                    return Err(ParseError::new(
                        "end",
                        "a meeting may last at most 24 hours",
                    ));
                }
                Some((window, IanaZone::parse("time_zone", &zone)?))
            }
            (None, _, _) => {
                return Err(ParseError::new(
                    "start",
                    "start, end and time_zone go together",
                ))
            }
            (_, None, _) => {
                return Err(ParseError::new(
                    "end",
                    "start, end and time_zone go together",
                ))
            }
            (_, _, None) => {
                return Err(ParseError::new(
                    "time_zone",
                    "start, end and time_zone go together",
                ))
            }
        };
        let change = Self {
            subject: b.subject.as_deref().map(subject).transpose()?,
            time,
            attendees: b.attendees.as_deref().map(invitees).transpose()?,
        };
        if change.subject.is_none() && change.time.is_none() && change.attendees.is_none() {
            return Err(ParseError::new(
                "body",
                "name at least one of subject, start/end/time_zone, attendees",
            ));
        }
        Ok(change)
    }
}

/// `DELETE /connections/{id}/events/{event_id}` optional body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    pub comment: Option<String>,
}

/// The optional message to attendees of a cancelled meeting.
pub fn cancel_comment(b: CancelBody) -> Result<Option<String>, ParseError> {
    match b.comment {
        Some(c) if c.chars().count() > 4000 => Err(ParseError::new(
            "comment",
            "must be at most 4000 characters",
        )),
        other => Ok(other.filter(|c| !c.trim().is_empty())),
    }
}

/// A Graph event id as it appears in our path.
pub fn event_id(raw: &str) -> Result<GraphId, ParseError> {
    GraphId::parse("event_id", raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IdempotencyKey;
    use serde_json::json;

    fn free_busy(v: serde_json::Value) -> Result<FreeBusyQuery, ParseError> {
        FreeBusyQuery::try_from(serde_json::from_value::<FreeBusyBody>(v).unwrap())
    }

    fn base() -> serde_json::Value {
        json!({"attendees": ["Alice@Contoso.example"], "start": "2026-03-02T00:00:00+01:00",
               "end": "2026-03-16T00:00:00+01:00", "time_zone": "Europe/Berlin"})
    }

    #[test]
    fn a_valid_free_busy_body_parses_with_defaults_and_lower_cased_addresses() {
        let q = free_busy(base()).unwrap();
        assert_eq!(q.attendees[0].as_str(), "alice@contoso.example");
        assert_eq!(q.interval, Duration::minutes(30));
        assert_eq!(q.window.start.to_rfc3339(), "2026-03-01T23:00:00+00:00");
        assert_eq!(q.zone.name(), "Europe/Berlin");
    }

    #[test]
    fn bad_free_busy_bodies_are_rejected_naming_the_field() {
        let many: Vec<String> = (0..101).map(|i| format!("u{i}@contoso.example")).collect();
        let cases = [
            ("start", json!({"start": "2026-03-02T00:00:00"})),
            ("start", json!({"start": "next monday"})),
            ("end", json!({"end": "2026-03-01T00:00:00+01:00"})),
            ("end", json!({"end": "2026-03-02T00:00:00+01:00"})),
            ("end", json!({"end": "2027-03-03T00:00:00+01:00"})),
            ("time_zone", json!({"time_zone": "W. Europe Standard Time"})),
            ("time_zone", json!({"time_zone": "CEST+1"})),
            ("interval_minutes", json!({"interval_minutes": 4})),
            ("interval_minutes", json!({"interval_minutes": 1441})),
            (
                "interval_minutes",
                json!({"start": "2027-01-12T08:00:00+01:00", "end": "2027-01-12T18:00:00+01:00",
                       "interval_minutes": 1439}),
            ),
            ("attendees", json!({"attendees": []})),
            ("attendees", json!({"attendees": many})),
            (
                "attendees",
                json!({"attendees": ["a@x.example", "A@X.example"]}),
            ),
            ("attendees", json!({"attendees": ["not-an-address"]})),
        ];
        for (field, patch) in cases {
            let mut body = base();
            for (k, v) in patch.as_object().unwrap() {
                body[k] = v.clone();
            }
            let e = free_busy(body.clone()).unwrap_err();
            assert_eq!(e.field, field, "{body}: {e}");
        }
    }

    #[test]
    fn a_window_of_exactly_one_year_is_accepted() {
        let mut body = base();
        body["end"] = json!("2027-03-02T00:00:00+01:00");
        assert!(free_busy(body).is_ok());
    }

    fn meeting(v: serde_json::Value) -> Result<MeetingQuery, ParseError> {
        MeetingQuery::try_from(serde_json::from_value::<MeetingTimesBody>(v).unwrap())
    }

    #[test]
    fn meeting_queries_default_and_reject_overlapping_attendee_lists() {
        let body = json!({"required": ["alice@contoso.example"], "optional": ["bob@contoso.example"],
            "duration_minutes": 45, "start": "2026-03-02T00:00:00Z", "end": "2026-03-16T00:00:00Z",
            "time_zone": "Europe/Berlin"});
        let q = meeting(body.clone()).unwrap();
        assert_eq!(q.granularity, Duration::minutes(15));
        assert!(q.within_working_hours && q.treat_tentative_as_busy);
        assert_eq!(q.max_results, DEFAULT_MAX_RESULTS);

        let mut dup = body.clone();
        dup["optional"] = json!(["ALICE@contoso.example"]);
        assert_eq!(meeting(dup).unwrap_err().field, "optional");
        for (field, key, value) in [
            ("duration_minutes", "duration_minutes", json!(0)),
            ("granularity_minutes", "granularity_minutes", json!(2)),
            ("buffer_before_minutes", "buffer_before_minutes", json!(-5)),
            ("max_results", "max_results", json!(0)),
            ("required", "required", json!([])),
        ] {
            let mut b = body.clone();
            b[key] = value;
            assert_eq!(meeting(b).unwrap_err().field, field, "{key}");
        }
    }

    #[test]
    fn reschedule_needs_a_change_and_a_complete_time() {
        let parse = |v| Reschedule::try_from(serde_json::from_value::<RescheduleBody>(v).unwrap());
        assert_eq!(parse(json!({})).unwrap_err().field, "body");
        assert_eq!(
            parse(json!({"start": "2026-03-10T10:00:00Z", "time_zone": "UTC"}))
                .unwrap_err()
                .field,
            "end"
        );
        assert!(parse(json!({"subject": "Interview (moved)"})).is_ok());
    }

    #[test]
    fn idempotency_keys_are_required_and_bounded() {
        assert!(IdempotencyKey::required(Some("booking-42")).is_ok());
        for bad in [None, Some(""), Some("tab\there"), Some(&*"k".repeat(256))] {
            assert_eq!(
                IdempotencyKey::required(bad).unwrap_err().field,
                "Idempotency-Key"
            );
        }
    }
}
