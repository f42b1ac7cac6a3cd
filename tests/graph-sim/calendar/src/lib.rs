//! Calendar model of the Graph simulator: events, weekly recurrence, working hours, time zones
//! and `getSchedule`, with Graph v1.0 JSON in and out. Pure: no I/O, no clock (every mutating
//! call takes `now`), no randomness (ids are derived from the mailbox and a counter).
//!
//! # Wiring into HTTP routes
//!
//! Keep one [`Calendar`] and one [`WorkingHours`] per Exchange Online mailbox.
//!
//! | Route | Call | Success |
//! |---|---|---|
//! | `POST /me/events` | [`Calendar::create_event_from_json`] -> [`Created`]; if `created`, for each attendee with a seeded mailbox [`Calendar::deliver_invitation`] | 201 + [`Event::to_graph_json`] |
//! | `GET /me/events/{id}` | [`Calendar::get`] (`None` -> [`CalendarError::ItemNotFound`]) | 200 |
//! | `PATCH /me/events/{id}` | [`Calendar::update_event_from_json`]; re-[`Calendar::deliver_invitation`] to attendees | 200 |
//! | `DELETE /me/events/{id}` | [`Calendar::delete_event`]; if it was organised with attendees, [`Calendar::deliver_cancellation`] on theirs | 204 |
//! | `POST /me/events/{id}/cancel` | [`Calendar::cancel_event`] then [`Calendar::deliver_cancellation`] on each attendee | 202 |
//! | `POST /me/events/{id}/accept` etc. | [`Calendar::respond`] then [`Calendar::record_attendee_response`] on the organizer | 202 |
//! | `POST /me/calendar/getSchedule` | [`ScheduleRequest::from_json`], [`get_schedule`] with a resolver returning [`ScheduleTarget`], [`schedule_response`] | 200 |
//! | `GET /me/calendarView`, `GET /_sim/mailboxes/{a}/events` | [`Calendar::events`] / [`Calendar::occurrences`] + [`Occurrence::to_graph_json`]; [`Calendar::get_occurrence`] resolves an [`Occurrence::id`] | 200 |
//!
//! Response times: parse `Prefer` with [`prefer_outlook_timezone`] (`None` -> [`GraphTimeZone::utc`];
//! `Some(Err(_))` -> the error) and pass the zone to [`Event::to_graph_json`] / [`get_schedule`].
//! The server adds `@odata.context` to event bodies (it names the user).
//!
//! Errors: every fallible call returns [`CalendarError`]; answer with
//! [`CalendarError::status`], `{"error": {"code": `[`CalendarError::code`]`, "message": `[`CalendarError::message`]`, "innerError": ...}}`:
//!
//! | Variant | Status | `error.code` |
//! |---|---|---|
//! | `InvalidRequest` (bad JSON shape/types, bad dateTime, unsupported recurrence, changed transactionId) | 400 | `ErrorInvalidRequest` |
//! | `InvalidTimeZone` (unknown Windows/IANA name) | 400 | `TimeZoneNotSupportedException` |
//! | `EndBeforeStart` | 400 | `ErrorPropertyValidationFailure` |
//! | `ItemNotFound` | 404 | `ErrorItemNotFound` |
//! | `NotOrganizer` (cancel by an attendee) | 400 | `ErrorInvalidRequest` |
//! | `TooManySchedules` (0 or > 20) | 400 | `ErrorInvalidRequest` |
//! | `InvalidTimeWindow` (end <= start, >= 62 days) | 400 | `ErrorInvalidTimeInterval` |
//! | `InvalidAvailabilityViewInterval` (not 5-1440, or longer than the window) | 400 | `ErrorInvalidMergedFreeBusyInterval` |
//!
//! # Model
//!
//! - Start/end are stored as UTC instants plus the zone the client used
//!   (`originalStartTimeZone`, reported by Windows id). Input zones may be Windows ids
//!   (case-insensitive) or IANA names; [`WINDOWS_ZONES`] is the Windows <-> IANA table.
//! - Recurrence: `weekly` (interval, daysOfWeek, firstDayOfWeek) and `daily`, ranges `endDate`,
//!   `noEnd`, `numbered`; expanded in `recurrenceTimeZone` (default: the start zone), so a
//!   10:00 Europe/Berlin meeting stays at 10:00 local across DST. Other pattern types are
//!   refused with `ErrorInvalidRequest`.
//! - `transactionId`: a second create with the same id on the same calendar returns the
//!   existing event (`created: false`) and changes nothing.
//! - `isOnlineMeeting` with `teamsForBusiness` (the default provider when `isOnlineMeeting` is
//!   true) gets an `onlineMeeting.joinUrl`.
//! - Meetings: the organizer's event and the attendees' copies share `iCalUId`. A copy starts
//!   `notResponded` and `tentative` (Exchange's placeholder), becomes `busy` on accept, and
//!   `isCancelled` with a "Canceled: " subject on cancellation.
//! - getSchedule: digits `0` free, `1` tentative, `2` busy, `3` oof, `4` workingElsewhere; an
//!   interval shows the highest-priority status overlapping it (oof > busy > tentative >
//!   workingElsewhere > free). Cancelled, `free` and `unknown` events neither block nor appear
//!   in `scheduleItems`. Private events appear with `isPrivate: true` and no subject/location.
//!   Unknown addresses get `error.responseCode` `5009` ("Unable to resolve e-mail address ... to an
//!   Active Directory object."), on-premises ones `MailboxNotEnabledForRESTAPI`;
//!   `workingHours.timeZone.name` is a Windows id, or a `customTimeZone` (bias and transition
//!   rules) for [`WorkingHours::with_custom_time_zone`].
//! - A calendar [`Calendar::without_teams`] (owner without a Teams licence or meeting policy)
//!   creates requested Teams meetings as plain events: `isOnlineMeeting` false,
//!   `onlineMeetingProvider` `unknown`, no `onlineMeeting`.
//!
//! # Example
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use graph_sim_calendar::*;
//! use serde_json::json;
//!
//! let now = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
//! let mut alice = Calendar::new("alice@contoso.example", "Alice");
//! let hours = WorkingHours::weekdays_nine_to_five("W. Europe Standard Time").unwrap();
//! let created = alice.create_event_from_json(&json!({
//!     "subject": "Interview",
//!     "start": {"dateTime": "2026-03-02T10:00:00", "timeZone": "Europe/Berlin"},
//!     "end": {"dateTime": "2026-03-02T11:00:00", "timeZone": "Europe/Berlin"},
//!     "isOnlineMeeting": true, "onlineMeetingProvider": "teamsForBusiness",
//!     "transactionId": "7E163156-7762-4BEB-A1C6-729EA81755A7"
//! }), now).unwrap();
//! assert!(created.created);
//! let body = created.event.to_graph_json(&GraphTimeZone::parse("Pacific Standard Time").unwrap());
//! assert_eq!(body["start"]["dateTime"], "2026-03-02T01:00:00.0000000");
//! assert!(body["onlineMeeting"]["joinUrl"].as_str().unwrap().starts_with("https://teams.microsoft.com/"));
//!
//! let req = ScheduleRequest::from_json(&json!({
//!     "schedules": ["alice@contoso.example", "nobody@contoso.example"],
//!     "startTime": {"dateTime": "2026-03-02T09:00:00", "timeZone": "UTC"},
//!     "endTime": {"dateTime": "2026-03-02T11:00:00", "timeZone": "UTC"},
//!     "availabilityViewInterval": 30
//! })).unwrap();
//! let value = get_schedule(&req, &GraphTimeZone::utc(), |addr| {
//!     if addr == "alice@contoso.example" {
//!         ScheduleTarget::Known { calendar: &alice, working_hours: &hours }
//!     } else {
//!         ScheduleTarget::Unknown
//!     }
//! }).unwrap();
//! assert_eq!(value[0].availability_view, "2200"); // 10:00-11:00 Berlin = 09:00-10:00 UTC
//! assert_eq!(value[1].error.as_ref().unwrap().response_code, "5009");
//! ```

mod calendar;
mod error;
mod event;
mod ids;
mod json;
mod recurrence;
mod schedule;
mod tz;

pub use calendar::{Calendar, Created};
pub use error::CalendarError;
pub use event::{
    Attendee, AttendeeType, BodyType, EmailAddress, Event, EventPatch, FreeBusyStatus, Importance,
    ItemBody, Location, NewEvent, Occurrence, OccurrenceException, OnlineMeetingInfo,
    OnlineMeetingProvider, ResponseStatus, ResponseType, Sensitivity, ZonedInstant,
};
pub use recurrence::{
    parse_date, parse_weekday, weekday_name, PatternType, RangeEnd, Recurrence, RecurrencePattern,
    RecurrenceRange,
};
pub use schedule::{
    get_schedule, schedule_response, validate_schedule_request, FreeBusyError, ScheduleInformation,
    ScheduleItem, ScheduleRequest, ScheduleTarget, ScheduleWindow, WorkingHours,
    DEFAULT_INTERVAL_MINUTES, MAX_SCHEDULES, MAX_WINDOW_DAYS, RECIPIENT_NOT_RESOLVED,
};
pub use tz::{
    custom_time_zone_json, format_graph_instant, format_graph_local, iana_to_windows,
    prefer_outlook_timezone, windows_to_iana, DateTimeTimeZone, GraphTimeZone, WindowsZone,
    WINDOWS_ZONES,
};

#[cfg(test)]
mod tests;
