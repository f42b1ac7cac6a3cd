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

#[derive(Debug, Clone, Deserialize)]
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
