//! Graph calendar calls: `getSchedule` and the organiser's events (create with `transactionId`,
//! update, cancel). Throttling and passing outages are retried under [`GraphPolicy::interactive`]
//! (4 attempts within 8 s, honouring `Retry-After`); past the budget the error is returned with its
//! `retry_after` so the API can answer 503 with the same hint.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{GraphClient, GraphError, GraphPolicy};
use crate::domain::GraphId;

/// Graph `dateTimeTimeZone`: a wall-clock time and the zone it is in (Windows or IANA name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateTimeTimeZone {
    pub date_time: String,
    pub time_zone: String,
}

/// Graph `scheduleItem` (only what the connector uses; subjects are not read).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleItem {
    pub status: String,
    pub start: DateTimeTimeZone,
    pub end: DateTimeTimeZone,
}

/// Graph `workingHours`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphWorkingHours {
    #[serde(default)]
    pub days_of_week: Vec<String>,
    pub start_time: String,
    pub end_time: String,
    pub time_zone: Option<GraphZone>,
}

/// `workingHours.timeZone`: a named zone (`timeZoneBase`), or a `customTimeZone` with a
/// free-text name ("Customized Time Zone") and Windows-style rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphZone {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub name: Option<String>,
    /// Minutes to add to local standard time to get UTC (`customTimeZone`).
    pub bias: Option<i32>,
    /// When daylight time ends (`customTimeZone`).
    pub standard_offset: Option<GraphZoneOffset>,
    /// When daylight time starts, and its `daylightBias` (`customTimeZone`).
    pub daylight_offset: Option<GraphZoneOffset>,
}

/// Graph `standardTimeZoneOffset` / `daylightTimeZoneOffset`: the `dayOccurrence`-th (5 = last)
/// `dayOfWeek` of `month` at `time`; `month` 0 means no such change.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphZoneOffset {
    pub time: Option<String>,
    pub day_occurrence: Option<u32>,
    pub day_of_week: Option<String>,
    pub month: Option<u32>,
    pub year: Option<i32>,
    pub daylight_bias: Option<i32>,
}

/// Graph `freeBusyError`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FreeBusyError {
    pub response_code: Option<String>,
}

/// Graph `scheduleInformation`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleInformation {
    pub schedule_id: String,
    #[serde(default)]
    pub availability_view: String,
    #[serde(default)]
    pub schedule_items: Vec<ScheduleItem>,
    pub working_hours: Option<GraphWorkingHours>,
    pub error: Option<FreeBusyError>,
}

#[derive(Deserialize)]
struct ScheduleCollection {
    value: Vec<ScheduleInformation>,
}

/// One `getSchedule` request: at most 20 addresses and a window under Graph's limit.
#[derive(Debug, Clone)]
pub struct ScheduleQuery<'a> {
    pub schedules: &'a [String],
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub interval_minutes: i64,
    /// Zone of the times in the response (`Prefer: outlook.timezone`): a Windows id.
    pub output_zone: &'a str,
}

/// The parts of a created or updated event the API returns.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphEvent {
    pub id: String,
    pub web_link: Option<String>,
    #[serde(rename = "iCalUId")]
    pub ical_uid: Option<String>,
    /// Whether Exchange made it an online meeting: `false` when asked for but the organiser
    /// cannot host one (no Teams licence or policy), with `onlineMeetingProvider` `unknown`.
    pub is_online_meeting: Option<bool>,
    pub online_meeting_provider: Option<String>,
    pub online_meeting: Option<OnlineMeeting>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnlineMeeting {
    pub join_url: Option<String>,
}

fn graph_time(t: DateTime<Utc>) -> DateTimeTimeZone {
    DateTimeTimeZone {
        date_time: t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        time_zone: "UTC".into(),
    }
}

impl GraphClient {
    /// Sends a request built by `build` under [`GraphPolicy::interactive`]: throttling (429)
    /// and passing outages (5xx, transport) are retried while the attempts and the wait budget
    /// last, honouring `Retry-After`; past that the error is returned with its hint.
    pub(crate) async fn send_retrying<F>(&self, build: F) -> Result<reqwest::Response, GraphError>
    where
        F: Fn() -> reqwest::RequestBuilder,
    {
        GraphPolicy::interactive()
            .run(|| async {
                let response = build().send().await.map_err(GraphError::transport)?;
                if response.status().is_success() {
                    Ok(response)
                } else {
                    Err(Self::error(response).await)
                }
            })
            .await
    }

    /// `POST /me/calendar/getSchedule` for up to 20 addresses.
    pub async fn get_schedule(
        &self,
        token: &SecretString,
        query: &ScheduleQuery<'_>,
    ) -> Result<Vec<ScheduleInformation>, GraphError> {
        let body = serde_json::json!({
            "schedules": query.schedules,
            "startTime": graph_time(query.start),
            "endTime": graph_time(query.end),
            "availabilityViewInterval": query.interval_minutes,
        });
        let prefer = format!("outlook.timezone=\"{}\"", query.output_zone);
        let url = self.url("me/calendar/getSchedule");
        let response = self
            .send_retrying(|| {
                self.http
                    .post(&url)
                    .bearer_auth(token.expose_secret())
                    .header("Prefer", &prefer)
                    .json(&body)
            })
            .await?;
        let collection: ScheduleCollection = response.json().await.map_err(GraphError::decode)?;
        Ok(collection.value)
    }

    /// `POST /me/events`. The body carries a `transactionId`, so a retry after a lost response
    /// returns the event created the first time instead of a second one.
    pub async fn create_event(
        &self,
        token: &SecretString,
        event: &serde_json::Value,
    ) -> Result<GraphEvent, GraphError> {
        let url = self.url("me/events");
        let response = self
            .send_retrying(|| {
                self.http
                    .post(&url)
                    .bearer_auth(token.expose_secret())
                    .json(event)
            })
            .await?;
        response.json().await.map_err(GraphError::decode)
    }

    /// `PATCH /me/events/{id}` (attendees get the update from Exchange).
    pub async fn update_event(
        &self,
        token: &SecretString,
        id: &GraphId,
        patch: &serde_json::Value,
    ) -> Result<GraphEvent, GraphError> {
        let url = self.url(&format!("me/events/{}", id.segment()));
        let response = self
            .send_retrying(|| {
                self.http
                    .patch(&url)
                    .bearer_auth(token.expose_secret())
                    .json(patch)
            })
            .await?;
        response.json().await.map_err(GraphError::decode)
    }

    /// `POST /me/events/{id}/cancel` (organiser only): attendees get a cancellation, with
    /// `comment` when given.
    pub async fn cancel_event(
        &self,
        token: &SecretString,
        id: &GraphId,
        comment: Option<&str>,
    ) -> Result<(), GraphError> {
        let url = self.url(&format!("me/events/{}/cancel", id.segment()));
        let body = serde_json::json!({ "comment": comment.unwrap_or_default() });
        self.send_retrying(|| {
            self.http
                .post(&url)
                .bearer_auth(token.expose_secret())
                .json(&body)
        })
        .await?;
        Ok(())
    }
}

/// Graph `attendee`: address, `type` and `status` (`responseStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphAttendee {
    pub email_address: super::messages::EmailAddress,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub status: Option<GraphResponseStatus>,
    /// Set when a `tentativelyAccept` or `decline` came with another time.
    #[serde(default)]
    pub proposed_new_time: Option<GraphTimeSlot>,
}

/// Graph `responseStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphResponseStatus {
    #[serde(default)]
    pub response: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
}

/// Graph `timeSlot` (an attendee's `proposedNewTime`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphTimeSlot {
    pub start: DateTimeTimeZone,
    pub end: DateTimeTimeZone,
}

/// Graph `location` (only its display name).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphLocation {
    #[serde(default)]
    pub display_name: Option<String>,
}

/// An event (an instance: single, occurrence or exception) as `calendarView/delta` returns it:
/// the fields calendar sync stores, never `body` (calendarView delta takes no `$select`, so the
/// body comes over the wire and is dropped here).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphCalendarEvent {
    pub id: String,
    #[serde(rename = "@odata.etag", default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub change_key: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    pub start: DateTimeTimeZone,
    pub end: DateTimeTimeZone,
    #[serde(default)]
    pub is_all_day: Option<bool>,
    #[serde(default)]
    pub organizer: Option<super::messages::Recipient>,
    #[serde(default)]
    pub attendees: Vec<GraphAttendee>,
    #[serde(default)]
    pub is_cancelled: Option<bool>,
    #[serde(default)]
    pub is_online_meeting: Option<bool>,
    #[serde(default)]
    pub online_meeting: Option<OnlineMeeting>,
    #[serde(rename = "iCalUId", default)]
    pub ical_uid: Option<String>,
    #[serde(default)]
    pub series_master_id: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub location: Option<GraphLocation>,
    #[serde(default)]
    pub web_link: Option<String>,
}

impl GraphCalendarEvent {
    /// The version marker: `@odata.etag`, else `changeKey`, plus the instance's times (an
    /// occurrence carries its series master's etag, yet moves when the series moves).
    pub fn version(&self) -> String {
        let tag = self
            .etag
            .clone()
            .or_else(|| self.change_key.clone())
            .unwrap_or_default();
        format!("{tag}|{}|{}", self.start.date_time, self.end.date_time)
    }
}

/// One entry of a calendar delta page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventChange {
    Upsert(Box<GraphCalendarEvent>),
    /// The instance left the window, was deleted, or (for the attendee) was declined.
    Removed {
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDeltaPage {
    pub changes: Vec<EventChange>,
    pub next: super::messages::DeltaNext,
}

fn parse_calendar_page(
    raw: super::messages::RawPage,
) -> Result<CalendarDeltaPage, super::messages::DeltaError> {
    use super::messages::{DeltaError, DeltaNext};
    let next = match (raw.next_link, raw.delta_link) {
        (Some(next), _) => DeltaNext::NextLink(next),
        (None, Some(delta)) => DeltaNext::DeltaLink(delta),
        (None, None) => return Err(DeltaError::NoLink),
    };
    let mut changes = Vec::with_capacity(raw.value.len());
    for item in raw.value {
        if item.get("@removed").is_some() {
            if let Some(id) = item.get("id").and_then(|v| v.as_str()) {
                changes.push(EventChange::Removed { id: id.to_owned() });
            }
            continue;
        }
        match serde_json::from_value::<GraphCalendarEvent>(item) {
            Ok(e) => changes.push(EventChange::Upsert(Box::new(e))),
            // One odd item must not stall the calendar.
            Err(e) => tracing::warn!(error = %e, "skipping a delta item that is not an event"),
        }
    }
    Ok(CalendarDeltaPage { changes, next })
}

impl GraphClient {
    /// The first link of a fresh `calendarView/delta` round over `[start, end)`. Graph keeps the
    /// window in its tokens, so every later round covers the same window: a new window (the
    /// calendar window rolls forward) is a new round from scratch.
    pub fn initial_calendar_delta_link(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
        let t = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        format!(
            "me/calendarView/delta?startDateTime={}&endDateTime={}",
            t(start),
            t(end)
        )
    }

    /// Fetches one calendar delta page (`link` as [`Self::delta_page`] takes it), times in UTC.
    pub async fn calendar_delta_page(
        &self,
        token: &SecretString,
        link: &str,
        page_size: u16,
    ) -> Result<CalendarDeltaPage, super::messages::DeltaError> {
        use super::messages::{is_sync_state_lost, DeltaError, IMMUTABLE_ID};
        let url = self.follow(link)?;
        let response = self
            .http
            .get(url)
            .bearer_auth(token.expose_secret())
            .header("Prefer", format!("odata.maxpagesize={page_size}"))
            .header("Prefer", IMMUTABLE_ID)
            .header("Prefer", "outlook.timezone=\"UTC\"")
            .send()
            .await
            .map_err(GraphError::transport)?;
        if !response.status().is_success() {
            let e = Self::error(response).await;
            return Err(if is_sync_state_lost(&e) {
                DeltaError::SyncStateLost(e)
            } else {
                DeltaError::Graph(e)
            });
        }
        let raw: super::messages::RawPage = response.json().await.map_err(GraphError::decode)?;
        let page = parse_calendar_page(raw)?;
        self.follow(page.next.link())?;
        Ok(page)
    }
}

#[cfg(test)]
mod delta_tests {
    use super::*;
    use crate::graph::messages::DeltaNext;
    use serde_json::json;

    #[test]
    fn a_calendar_page_reads_instances_attendee_answers_and_removals() {
        let raw = serde_json::from_value(json!({
            "value": [
                {"@odata.etag": "W/\"2\"", "id": "o1", "subject": "Interview",
                 "start": {"dateTime": "2026-03-02T09:00:00.0000000", "timeZone": "UTC"},
                 "end": {"dateTime": "2026-03-02T10:00:00.0000000", "timeZone": "UTC"},
                 "type": "exception", "seriesMasterId": "m1", "transactionId": "t",
                 "attendees": [{"type": "required",
                    "emailAddress": {"address": "bob@contoso.example"},
                    "status": {"response": "declined", "time": "2026-03-01T00:00:00Z"}}]},
                {"id": "gone", "@removed": {"reason": "deleted"}}
            ],
            "@odata.deltaLink": "https://g/d?$deltatoken=x"
        }))
        .unwrap();
        let page = parse_calendar_page(raw).unwrap();
        assert_eq!(
            page.next,
            DeltaNext::DeltaLink("https://g/d?$deltatoken=x".into())
        );
        let EventChange::Upsert(e) = &page.changes[0] else {
            panic!("upsert")
        };
        assert_eq!(e.kind.as_deref(), Some("exception"));
        assert_eq!(
            e.attendees[0].status.as_ref().unwrap().response.as_deref(),
            Some("declined")
        );
        assert_eq!(page.changes[1], EventChange::Removed { id: "gone".into() });
    }
}
