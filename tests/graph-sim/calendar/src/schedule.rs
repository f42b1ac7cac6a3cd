//! Working hours and `POST /me/calendar/getSchedule`.

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc, Weekday};
use serde::Serialize;
use serde_json::{json, Value};

use crate::calendar::Calendar;
use crate::error::CalendarError;
use crate::event::{FreeBusyStatus, Sensitivity};
use crate::json::{field, opt_i64};
use crate::recurrence::weekday_name;
use crate::tz::{custom_time_zone_json, DateTimeTimeZone, GraphTimeZone};

/// Most schedules one getSchedule request may ask for.
pub const MAX_SCHEDULES: usize = 20;
/// The window must be shorter than this many days.
pub const MAX_WINDOW_DAYS: i64 = 62;
/// `error.responseCode` of an address Exchange cannot resolve (not in the directory).
pub const RECIPIENT_NOT_RESOLVED: &str = "5009";
/// Default `availabilityViewInterval` in minutes.
pub const DEFAULT_INTERVAL_MINUTES: i64 = 30;

/// A mailbox's working hours (Outlook "work time" settings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingHours {
    /// Working days.
    pub days_of_week: Vec<Weekday>,
    /// Local start of the working day.
    pub start_time: NaiveTime,
    /// Local end of the working day.
    pub end_time: NaiveTime,
    /// The mailbox time zone (reported by its Windows id).
    pub time_zone: GraphTimeZone,
    /// Report the zone to getSchedule as a `customTimeZone` (bias and transition rules, name
    /// "Customized Time Zone") instead of its Windows id, as Exchange does for mailboxes whose
    /// zone was set as a custom one (Microsoft's own getSchedule sample returns one).
    pub custom_time_zone: bool,
}

impl WorkingHours {
    /// Working hours on `days` from `start` to `end` local time in `zone` (Windows id or IANA
    /// name). Errors: [`CalendarError::InvalidTimeZone`]; [`CalendarError::InvalidRequest`] when
    /// `end` is not after `start` or `days` is empty.
    pub fn new(
        days: &[Weekday],
        start: NaiveTime,
        end: NaiveTime,
        zone: &str,
    ) -> Result<Self, CalendarError> {
        if end <= start || days.is_empty() {
            return Err(CalendarError::InvalidRequest(
                "Working hours need at least one day and an end after the start.".to_string(),
            ));
        }
        Ok(WorkingHours {
            days_of_week: days.to_vec(),
            start_time: start,
            end_time: end,
            time_zone: GraphTimeZone::parse(zone)?,
            custom_time_zone: false,
        })
    }

    /// The same hours, reported to getSchedule as a `customTimeZone`.
    pub fn with_custom_time_zone(mut self) -> Self {
        self.custom_time_zone = true;
        self
    }

    /// Monday to Friday, 09:00-17:00 in `zone`.
    pub fn weekdays_nine_to_five(zone: &str) -> Result<Self, CalendarError> {
        WorkingHours::new(
            &[
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"),
            NaiveTime::from_hms_opt(17, 0, 0).expect("valid time"),
            zone,
        )
    }

    /// The Windows zone id Graph reports (falls back to the configured name for zones outside
    /// the table).
    pub fn windows_time_zone(&self) -> &str {
        self.time_zone
            .windows_name()
            .unwrap_or(self.time_zone.name())
    }

    /// Whether `instant` falls inside working hours.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        let local = self.time_zone.to_local(instant);
        self.days_of_week.contains(&local.weekday())
            && local.time() >= self.start_time
            && local.time() < self.end_time
    }

    /// Graph `workingHours` JSON: `daysOfWeek`, `startTime`/`endTime` as `HH:MM:SS.0000000`,
    /// `timeZone: {name: <Windows id>}`.
    pub fn to_graph_json(&self) -> Value {
        json!({
            "daysOfWeek": self.days_of_week.iter().map(|d| weekday_name(*d)).collect::<Vec<_>>(),
            "startTime": format!("{}.0000000", self.start_time.format("%H:%M:%S")),
            "endTime": format!("{}.0000000", self.end_time.format("%H:%M:%S")),
            "timeZone": { "name": self.windows_time_zone() },
        })
    }

    /// [`WorkingHours::to_graph_json`] as getSchedule reports it at `at`: a zone flagged
    /// [`WorkingHours::custom_time_zone`] is a `customTimeZone` with the rules in force in
    /// `at`'s year ([`custom_time_zone_json`]).
    pub fn to_graph_json_at(&self, at: DateTime<Utc>) -> Value {
        let mut v = self.to_graph_json();
        if self.custom_time_zone {
            v["timeZone"] = custom_time_zone_json(self.time_zone.tz(), at.year());
        }
        v
    }
}

/// What the server knows about one requested address.
#[derive(Clone, Copy, Debug)]
pub enum ScheduleTarget<'a> {
    /// An Exchange Online mailbox in the directory.
    Known {
        /// Its calendar.
        calendar: &'a Calendar,
        /// Its working hours.
        working_hours: &'a WorkingHours,
    },
    /// Not in the directory: an `error` entry with `responseCode` `5009`
    /// ([`RECIPIENT_NOT_RESOLVED`]).
    Unknown,
    /// A mailbox hosted on premises (hybrid): an `error` entry with
    /// `MailboxNotEnabledForRESTAPI`.
    OnPremises,
}

/// A validated getSchedule request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleRequest {
    /// `schedules`: SMTP addresses, as given.
    pub schedules: Vec<String>,
    /// `startTime`.
    pub start_time: DateTimeTimeZone,
    /// `endTime`.
    pub end_time: DateTimeTimeZone,
    /// `availabilityViewInterval` in minutes (default 30).
    pub availability_view_interval: i64,
}

impl ScheduleRequest {
    /// Reads the body (`Schedules`/`schedules` etc.: names are case-insensitive). Only shape is
    /// checked here; limits are checked by [`get_schedule`].
    pub fn from_json(body: &Value) -> Result<Self, CalendarError> {
        let obj = body.as_object().ok_or_else(|| {
            CalendarError::InvalidRequest("The request body must be a JSON object.".to_string())
        })?;
        let schedules = match field(obj, "schedules") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        CalendarError::InvalidRequest(
                            "'schedules' must be an array of SMTP addresses.".to_string(),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => {
                return Err(CalendarError::InvalidRequest(
                    "'schedules' is required and must be an array.".to_string(),
                ))
            }
        };
        let dtz = |key: &str| -> Result<DateTimeTimeZone, CalendarError> {
            let v = field(obj, key)
                .ok_or_else(|| CalendarError::InvalidRequest(format!("'{key}' is required.")))?;
            DateTimeTimeZone::from_json(v, key)
        };
        Ok(ScheduleRequest {
            schedules,
            start_time: dtz("startTime")?,
            end_time: dtz("endTime")?,
            availability_view_interval: opt_i64(
                obj,
                "availabilityViewInterval",
                "availabilityViewInterval",
            )?
            .unwrap_or(DEFAULT_INTERVAL_MINUTES),
        })
    }
}

/// Graph `scheduleItem`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleItem {
    /// `isPrivate` (sensitivity private; subject and location are then withheld).
    pub is_private: bool,
    /// `status`.
    pub status: FreeBusyStatus,
    /// `subject`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `location` (display name; "" when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `start` in the output zone.
    pub start: DateTimeTimeZone,
    /// `end` in the output zone.
    pub end: DateTimeTimeZone,
}

/// Graph `freeBusyError`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FreeBusyError {
    /// `message`.
    pub message: String,
    /// `responseCode`.
    pub response_code: String,
}

/// Graph `scheduleInformation`: one entry of the response `value[]`. An error entry is
/// serialised as Exchange Online sends it: `scheduleId` and `error` only.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleInformation {
    /// `scheduleId`: the address as requested.
    pub schedule_id: String,
    /// `availabilityView`: one digit per interval ("" for an error entry).
    pub availability_view: String,
    /// `scheduleItems`.
    pub schedule_items: Vec<ScheduleItem>,
    /// `workingHours` (absent for an error entry).
    pub working_hours: Option<Value>,
    /// `error` (only for an unknown or on-premises address).
    pub error: Option<FreeBusyError>,
}

impl Serialize for ScheduleInformation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("scheduleId", &self.schedule_id)?;
        if let Some(error) = &self.error {
            m.serialize_entry("error", error)?;
        } else {
            m.serialize_entry("availabilityView", &self.availability_view)?;
            m.serialize_entry("scheduleItems", &self.schedule_items)?;
            if let Some(hours) = &self.working_hours {
                m.serialize_entry("workingHours", hours)?;
            }
        }
        m.end()
    }
}

/// The checked window of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduleWindow {
    /// Window start.
    pub start: DateTime<Utc>,
    /// Window end.
    pub end: DateTime<Utc>,
    /// Interval length.
    pub interval: Duration,
    /// Number of `availabilityView` digits (the window divided by the interval, rounded up).
    pub slots: usize,
}

/// Checks a request against Graph's limits: 1-20 schedules
/// ([`CalendarError::TooManySchedules`]), known zones ([`CalendarError::InvalidTimeZone`]), a
/// window that is not empty and is shorter than 62 days ([`CalendarError::InvalidTimeWindow`]),
/// an interval of 5-1440 minutes not longer than the window
/// ([`CalendarError::InvalidAvailabilityViewInterval`]).
pub fn validate_schedule_request(req: &ScheduleRequest) -> Result<ScheduleWindow, CalendarError> {
    let n = req.schedules.len();
    if n == 0 || n > MAX_SCHEDULES {
        return Err(CalendarError::TooManySchedules(n));
    }
    let (start, _) = req.start_time.resolve()?;
    let (end, _) = req.end_time.resolve()?;
    if end <= start || end - start >= Duration::days(MAX_WINDOW_DAYS) {
        return Err(CalendarError::InvalidTimeWindow);
    }
    let minutes = req.availability_view_interval;
    if !(5..=1440).contains(&minutes) || Duration::minutes(minutes) > end - start {
        return Err(CalendarError::InvalidAvailabilityViewInterval(minutes));
    }
    let interval = Duration::minutes(minutes);
    let window_secs = (end - start).num_seconds();
    let slot_secs = interval.num_seconds();
    let slots = ((window_secs + slot_secs - 1) / slot_secs) as usize;
    Ok(ScheduleWindow {
        start,
        end,
        interval,
        slots,
    })
}

/// Answers getSchedule. Validates the request ([`validate_schedule_request`]), then asks
/// `resolve` about each address in `req.schedules` (in order) and builds one entry per address:
/// busy items from the calendar (recurring events expanded; cancelled and `free`/`unknown`
/// events ignored) with times in `output_zone`, the `availabilityView`, and the working hours;
/// or an `error` entry.
pub fn get_schedule<'a, F>(
    req: &ScheduleRequest,
    output_zone: &GraphTimeZone,
    mut resolve: F,
) -> Result<Vec<ScheduleInformation>, CalendarError>
where
    F: FnMut(&str) -> ScheduleTarget<'a>,
{
    let window = validate_schedule_request(req)?;
    Ok(req
        .schedules
        .iter()
        .map(|address| match resolve(address) {
            ScheduleTarget::Known {
                calendar,
                working_hours,
            } => schedule_for(address, calendar, working_hours, &window, output_zone),
            // As Exchange Online answers (microsoft-graph-docs#11225): a numeric Availability
            // service code, not an Exchange error name.
            ScheduleTarget::Unknown => error_entry(
                address,
                RECIPIENT_NOT_RESOLVED,
                format!(
                    "Unable to resolve e-mail address {address} to an Active Directory object."
                ),
            ),
            ScheduleTarget::OnPremises => error_entry(
                address,
                "MailboxNotEnabledForRESTAPI",
                "REST API is not yet supported for this mailbox.".to_string(),
            ),
        })
        .collect())
}

/// The whole 200 response body: `{"@odata.context": ..., "value": [...]}`.
pub fn schedule_response(entries: &[ScheduleInformation]) -> Value {
    json!({
        "@odata.context":
            "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
        "value": entries,
    })
}

fn error_entry(address: &str, code: &str, message: String) -> ScheduleInformation {
    ScheduleInformation {
        schedule_id: address.to_string(),
        availability_view: String::new(),
        schedule_items: Vec::new(),
        working_hours: None,
        error: Some(FreeBusyError {
            message,
            response_code: code.to_string(),
        }),
    }
}

fn schedule_for(
    address: &str,
    calendar: &Calendar,
    working_hours: &WorkingHours,
    window: &ScheduleWindow,
    output_zone: &GraphTimeZone,
) -> ScheduleInformation {
    let busy: Vec<_> = calendar
        .occurrences(window.start, window.end)
        .into_iter()
        .filter(|o| !o.event.is_cancelled && o.event.show_as.blocks())
        .collect();
    let view: String = (0..window.slots)
        .map(|i| {
            let slot_start = window.start + window.interval * i as i32;
            let slot_end = (slot_start + window.interval).min(window.end);
            busy.iter()
                .filter(|o| o.start < slot_end && o.end > slot_start)
                .map(|o| o.event.show_as)
                .max_by_key(|s| s.priority())
                .unwrap_or(FreeBusyStatus::Free)
                .digit()
        })
        .collect();
    let schedule_items = busy
        .iter()
        .map(|o| {
            let private = o.event.sensitivity == Sensitivity::Private;
            ScheduleItem {
                is_private: private,
                status: o.event.show_as,
                subject: (!private).then(|| o.event.subject.clone()),
                location: (!private).then(|| {
                    o.event
                        .location
                        .as_ref()
                        .map(|l| l.display_name.clone())
                        .unwrap_or_default()
                }),
                start: DateTimeTimeZone::from_instant(o.start, output_zone),
                end: DateTimeTimeZone::from_instant(o.end, output_zone),
            }
        })
        .collect();
    ScheduleInformation {
        schedule_id: address.to_string(),
        availability_view: view,
        schedule_items,
        working_hours: Some(working_hours.to_graph_json_at(window.start)),
        error: None,
    }
}
