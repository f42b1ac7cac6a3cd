//! The scheduling use cases: free/busy, meeting times, book, reschedule, cancel. Each checks the
//! connection (exists, active, calendar capability), gets a token, talks to Graph, and shapes
//! the answer; `crate::failures` maps its errors to HTTP answers.
//!
//! - [`schedules`]: reading getSchedule (chunked, concurrent) into instants and IANA zones.
//! - [`free_busy`], [`meeting_times`]: the two read use cases.
//! - [`booking`]: book (idempotent), reschedule, cancel.

mod booking;
mod free_busy;
mod meeting_times;
mod schedules;

pub use booking::{book, cancel, reschedule, transaction_id, EventView, OnlineMeetingState};
pub use free_busy::{free_busy, AttendeeView, BusyView, FreeBusyView, WorkingHoursView};
pub use meeting_times::{meeting_times, MeetingTimesView, SlotView};
pub use schedules::{read_schedules, time_chunks, AttendeeSchedule};

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use futures::StreamExt;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::custom_zone::{CustomZone, Daylight, HoursZone, Transition};
use super::request::{
    AttendeeType, Booking, FreeBusyQuery, Invitee, MeetingQuery, Reschedule, TimeWindow,
};
use super::slots::{
    find_slots, Availability, BusyItem, FreeBusyStatus, ScheduleStatus, SlotRules, WorkingHours,
};
use super::zones::{zone_from_graph, IanaZone};
use crate::app::Connector;
use crate::domain::{
    Capability, ConnectionId, ConnectionStatus, EmailAddress, GraphId, IdempotencyKey,
};
use crate::graph::calendar::{
    GraphEvent, GraphZone, GraphZoneOffset, ScheduleInformation, ScheduleQuery,
};
use crate::graph::{GraphError, MAILBOX_NOT_ENABLED};
use crate::store::{IdempotencyStart, StoreError};
use crate::tokens::{with_access_token, TokenServiceError};

/// Graph's limit of addresses per getSchedule request.
pub const SCHEDULES_PER_CALL: usize = 20;
/// Longest window of one getSchedule request: under the stricter documented limit of 42 days.
pub const MAX_CALL_WINDOW: Duration = Duration::days(41);
/// Most getSchedule calls in flight for one request: Outlook allows 4 concurrent requests per
/// app and mailbox.
pub const MAX_CONCURRENT_CALLS: usize = 4;
/// How long a booking's idempotency record lives.
const IDEMPOTENCY_TTL: Duration = Duration::hours(24);

#[derive(Debug, thiserror::Error)]
pub enum SchedulingError {
    #[error("no connection {0}")]
    ConnectionNotFound(ConnectionId),
    #[error("the connection is {0:?}, not active")]
    NotActive(ConnectionStatus),
    #[error("the connection was not granted calendar access (Calendars.ReadWrite)")]
    NoCalendarCapability,
    #[error("the connected mailbox is not served by Exchange Online (on premises or inactive)")]
    UnsupportedMailbox(#[source] GraphError),
    #[error("no event {0} in the connected calendar")]
    EventNotFound(String),
    #[error("the Idempotency-Key was already used for a different booking")]
    KeyReused,
    #[error("Microsoft Graph is throttling or unavailable")]
    Unavailable(#[source] GraphError),
    #[error("Microsoft Graph call failed")]
    Graph(#[source] GraphError),
    #[error(transparent)]
    Token(#[from] TokenServiceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored booking response is unreadable")]
    Corrupt(#[source] serde_json::Error),
}

impl From<GraphError> for SchedulingError {
    fn from(e: GraphError) -> Self {
        match &e {
            GraphError::Api { code, .. } if code == MAILBOX_NOT_ENABLED => {
                Self::UnsupportedMailbox(e)
            }
            _ if e.is_transient() => Self::Unavailable(e),
            _ => Self::Graph(e),
        }
    }
}

/// Checks the connection exists, is active and has calendar access.
pub(crate) async fn calendar_access(
    c: &Connector,
    id: &ConnectionId,
) -> Result<(), SchedulingError> {
    let connection = c
        .store
        .get_connection(id)
        .await?
        .ok_or_else(|| SchedulingError::ConnectionNotFound(id.clone()))?;
    if connection.status != ConnectionStatus::Active {
        return Err(SchedulingError::NotActive(connection.status));
    }
    if !connection.capabilities.contains(&Capability::Calendar) {
        return Err(SchedulingError::NoCalendarCapability);
    }
    Ok(())
}

impl crate::graph::GraphCause for SchedulingError {
    fn graph(&self) -> Option<&GraphError> {
        match self {
            Self::Graph(e) | Self::Unavailable(e) | Self::UnsupportedMailbox(e) => Some(e),
            _ => None,
        }
    }
}

/// A UTC instant as wall-clock time in `zone`, as the answers show it.
pub(super) fn local(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone).to_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphError;
    use crate::http::ApiError;
    #[test]
    fn scheduling_errors_map_to_the_documented_statuses() {
        let throttled = GraphError::Api {
            status: 429,
            code: "TooManyRequests".into(),
            retry_after: Some(std::time::Duration::from_secs(7)),
        };
        let api: ApiError = SchedulingError::from(throttled).into();
        assert!(matches!(
            api,
            ApiError::Unavailable {
                retry_after_secs: 7,
                ..
            }
        ));
        let on_prem = GraphError::Api {
            status: 404,
            code: MAILBOX_NOT_ENABLED.into(),
            retry_after: None,
        };
        assert_eq!(ApiError::from(SchedulingError::from(on_prem)).status(), 409);
        assert_eq!(
            ApiError::from(SchedulingError::NoCalendarCapability).status(),
            403
        );
        assert_eq!(
            ApiError::from(SchedulingError::NotActive(ConnectionStatus::ReauthRequired)).status(),
            409
        );
        assert_eq!(ApiError::from(SchedulingError::KeyReused).status(), 422);
    }
}
