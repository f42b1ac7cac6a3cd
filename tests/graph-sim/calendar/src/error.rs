//! Typed errors, each knowing the Graph HTTP status, `error.code` and `error.message` it maps to.

use std::fmt;

/// Everything the calendar model can refuse. The server turns one into a Graph error body with
/// [`CalendarError::status`], [`CalendarError::code`] and [`CalendarError::message`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalendarError {
    /// Malformed or semantically invalid request body (wrong JSON types, a bad `dateTime`,
    /// unsupported recurrence, changing `transactionId`...). 400 `ErrorInvalidRequest`.
    InvalidRequest(String),
    /// A `timeZone` (or `Prefer: outlook.timezone`) that is neither a known Windows id nor an IANA
    /// name. 400 `TimeZoneNotSupportedException`, Graph's code for this on event and calendar
    /// calls.
    InvalidTimeZone(String),
    /// An event whose end is not after its start. 400 `ErrorPropertyValidationFailure`, as Graph
    /// answers.
    EndBeforeStart,
    /// No event with this id in the calendar. 404 `ErrorItemNotFound`.
    ItemNotFound(String),
    /// `cancel` on an event the mailbox does not organise. 400 `ErrorInvalidRequest`.
    NotOrganizer,
    /// getSchedule with more than 20 schedules (or none). 400 `ErrorInvalidRequest`.
    TooManySchedules(usize),
    /// getSchedule window empty, reversed, or not under 62 days. 400 `ErrorInvalidTimeInterval`.
    InvalidTimeWindow,
    /// getSchedule `availabilityViewInterval` outside 5..=1440 minutes or longer than the window.
    /// 400 `ErrorInvalidMergedFreeBusyInterval`.
    InvalidAvailabilityViewInterval(i64),
}

impl CalendarError {
    /// HTTP status of the Graph response.
    pub fn status(&self) -> u16 {
        match self {
            CalendarError::ItemNotFound(_) => 404,
            _ => 400,
        }
    }

    /// Graph `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::InvalidRequest(_)
            | CalendarError::NotOrganizer
            | CalendarError::TooManySchedules(_) => "ErrorInvalidRequest",
            CalendarError::InvalidTimeZone(_) => "TimeZoneNotSupportedException",
            CalendarError::EndBeforeStart => "ErrorPropertyValidationFailure",
            CalendarError::ItemNotFound(_) => "ErrorItemNotFound",
            CalendarError::InvalidTimeWindow => "ErrorInvalidTimeInterval",
            CalendarError::InvalidAvailabilityViewInterval(_) => {
                "ErrorInvalidMergedFreeBusyInterval"
            }
        }
    }

    /// Graph `error.message`.
    pub fn message(&self) -> String {
        match self {
            CalendarError::InvalidRequest(m) => m.clone(),
            CalendarError::InvalidTimeZone(name) => format!(
                "A valid TimeZone value must be specified. The following TimeZone value is not supported: '{name}'."
            ),
            CalendarError::EndBeforeStart => "At least one property failed validation.".to_string(),
            CalendarError::ItemNotFound(_) => {
                "The specified object was not found in the store.".to_string()
            }
            CalendarError::NotOrganizer => {
                "Your request can't be completed. You need to be an organizer to cancel a meeting."
                    .to_string()
            }
            CalendarError::TooManySchedules(n) => format!(
                "The number of schedules ({n}) is not valid. Specify between 1 and 20 schedules."
            ),
            CalendarError::InvalidTimeWindow => {
                "The time duration specified for FreeBusyViewOptions.TimeWindow is invalid."
                    .to_string()
            }
            CalendarError::InvalidAvailabilityViewInterval(_) => "The specified merged free/busy interval is not valid. Specify an interval that is less than the free/busy time window and between 5 and 1440 minutes.".to_string(),
        }
    }
}

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for CalendarError {}
