//! The scheduling use cases: free/busy, meeting times, book, reschedule, cancel. Each checks the
//! connection (exists, active, calendar capability), gets a token, talks to Graph, and shapes
//! the answer; `crate::failures` maps its errors to HTTP answers.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use futures::StreamExt;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
use crate::graph::calendar::{GraphEvent, ScheduleInformation, ScheduleQuery};
use crate::graph::{GraphError, MAILBOX_NOT_ENABLED};
use crate::store::{IdempotencyStart, StoreError};
use crate::tokens::TokenServiceError;

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

/// An active connection with calendar access, and a token for it.
async fn calendar_token(c: &Connector, id: &ConnectionId) -> Result<SecretString, SchedulingError> {
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
    Ok(crate::tokens::access_token(c, id).await?)
}

// ---------------------------------------------------------------------------------------------
// Free/busy

/// One attendee's free/busy, as read from Graph and mapped to UTC instants and IANA zones.
#[derive(Debug, Clone)]
pub struct AttendeeSchedule {
    pub availability: Availability,
    /// One digit per interval (Graph's `availabilityView`), `None` when unreadable.
    pub availability_view: Option<String>,
}

/// Splits `[start, end)` into windows of at most [`MAX_CALL_WINDOW`], each a whole number of
/// intervals long so that the availability views concatenate.
pub fn time_chunks(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    interval: Duration,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let per_chunk = interval * (MAX_CALL_WINDOW.num_minutes() / interval.num_minutes()) as i32;
    let mut out = Vec::new();
    let mut cursor = start;
    while cursor < end {
        let next = (cursor + per_chunk).min(end);
        out.push((cursor, next));
        cursor = next;
    }
    out
}

/// A Graph wall-clock time in a Graph-named zone as an instant. Ambiguous and non-existent
/// times (DST changes) resolve so that a busy item can only grow, never shrink: a start takes the
/// earlier reading (or the last valid minute before a gap), an end the later one (or the first
/// valid minute after a gap).
fn graph_instant(date_time: &str, zone: &str, is_end: bool) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(date_time, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    let tz = zone_from_graph(zone)?.tz();
    let step = if is_end {
        Duration::minutes(1)
    } else {
        Duration::minutes(-1)
    };
    let mut probe = naive;
    // DST gaps are at most a few hours.
    for _ in 0..=(4 * 60) {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(early, late) => {
                return Some(if is_end { late } else { early }.with_timezone(&Utc))
            }
            LocalResult::None => probe += step,
        }
    }
    None
}

fn weekday(raw: &str) -> Option<Weekday> {
    raw.parse().ok()
}

fn time_of_day(raw: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(raw, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(raw, "%H:%M"))
        .ok()
}

/// Working hours with a zone we can place; a custom zone Graph only describes by its bias rules
/// is not modelled, and such an attendee is then not constrained by working hours (logged).
fn working_hours(info: &ScheduleInformation) -> Option<WorkingHours> {
    let hours = info.working_hours.as_ref()?;
    let zone_name = hours.time_zone.as_ref()?.name.as_deref()?;
    let Some(zone) = zone_from_graph(zone_name) else {
        tracing::warn!(
            zone = zone_name,
            "working hours in an unknown zone are ignored"
        );
        return None;
    };
    Some(WorkingHours {
        days: hours
            .days_of_week
            .iter()
            .filter_map(|d| weekday(d))
            .collect(),
        start: time_of_day(&hours.start_time)?,
        end: time_of_day(&hours.end_time)?,
        zone: zone.tz(),
    })
}

fn schedule_status(info: &ScheduleInformation) -> ScheduleStatus {
    match info.error.as_ref().and_then(|e| e.response_code.as_deref()) {
        None if info.error.is_none() => ScheduleStatus::Ok,
        Some(MAILBOX_NOT_ENABLED) => ScheduleStatus::Unsupported,
        // ErrorMailRecipientNotFound and anything else Graph could not answer for.
        _ => ScheduleStatus::Unknown,
    }
}

/// Reads the free/busy of `attendees` over `[start, end)`: getSchedule in chunks of
/// [`SCHEDULES_PER_CALL`] addresses and [`MAX_CALL_WINDOW`], up to [`MAX_CONCURRENT_CALLS`] in
/// flight, merged back per attendee in the order asked.
pub async fn read_schedules(
    c: &Connector,
    token: &SecretString,
    attendees: &[EmailAddress],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    interval: Duration,
    zone: IanaZone,
) -> Result<Vec<AttendeeSchedule>, SchedulingError> {
    let output_zone = zone.windows_id().unwrap_or("UTC");
    let address_chunks: Vec<Vec<String>> = attendees
        .chunks(SCHEDULES_PER_CALL)
        .map(|chunk| chunk.iter().map(|a| a.as_str().to_owned()).collect())
        .collect();
    let windows = time_chunks(start, end, interval);
    let calls: Vec<(usize, usize)> = (0..windows.len())
        .flat_map(|w| (0..address_chunks.len()).map(move |a| (w, a)))
        .collect();
    type CallResult = ((usize, usize), Result<Vec<ScheduleInformation>, GraphError>);
    let results: Vec<CallResult> = futures::stream::iter(calls)
        .map(|(w, a)| {
            let query = ScheduleQuery {
                schedules: &address_chunks[a],
                start: windows[w].0,
                end: windows[w].1,
                interval_minutes: interval.num_minutes(),
                output_zone,
            };
            async move { ((w, a), c.graph.get_schedule(token, &query).await) }
        })
        .buffer_unordered(MAX_CONCURRENT_CALLS)
        .collect()
        .await;

    let mut by_call: HashMap<(usize, usize), Vec<ScheduleInformation>> = HashMap::new();
    for (call, result) in results {
        by_call.insert(call, result?);
    }
    let mut out = Vec::with_capacity(attendees.len());
    for (index, address) in attendees.iter().enumerate() {
        let chunk = index / SCHEDULES_PER_CALL;
        let mut status = ScheduleStatus::Ok;
        let mut view = String::new();
        let mut items = BTreeSet::new();
        let mut hours = None;
        for (w, call_window) in windows.iter().enumerate() {
            let entry = by_call.get(&(w, chunk)).and_then(|v| {
                v.iter()
                    .find(|i| i.schedule_id.eq_ignore_ascii_case(address.as_str()))
            });
            let Some(info) = entry else {
                // Graph left the address out: nothing is known, so it is not free either.
                status = ScheduleStatus::Unknown;
                break;
            };
            let entry_status = schedule_status(info);
            if entry_status != ScheduleStatus::Ok {
                status = entry_status;
                break;
            }
            view.push_str(&info.availability_view);
            if hours.is_none() {
                hours = working_hours(info);
            }
            for item in &info.schedule_items {
                let status = FreeBusyStatus::from_graph(&item.status);
                if status == FreeBusyStatus::Free {
                    continue;
                }
                let (Some(s), Some(e)) = (
                    graph_instant(&item.start.date_time, &item.start.time_zone, false),
                    graph_instant(&item.end.date_time, &item.end.time_zone, true),
                ) else {
                    // An item we cannot place must still block: widen it to the whole call window.
                    tracing::warn!(
                        "a schedule item had an unreadable time; treated as busy for its window"
                    );
                    items.insert(BusyKey(
                        call_window.0,
                        call_window.1,
                        FreeBusyStatus::Unknown,
                    ));
                    continue;
                };
                // Items that span a chunk boundary come back from both calls: the set merges them.
                items.insert(BusyKey(s, e, status));
            }
        }
        let ok = status == ScheduleStatus::Ok;
        out.push(AttendeeSchedule {
            availability: Availability {
                address: address.clone(),
                status,
                busy: if ok {
                    items
                        .into_iter()
                        .map(|BusyKey(start, end, status)| BusyItem { start, end, status })
                        .collect()
                } else {
                    Vec::new()
                },
                working_hours: if ok { hours } else { None },
            },
            availability_view: ok.then_some(view),
        });
    }
    Ok(out)
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct BusyKey(DateTime<Utc>, DateTime<Utc>, FreeBusyStatus);

fn local(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone).to_rfc3339()
}

#[derive(Debug, Serialize)]
pub struct BusyView {
    pub start: String,
    pub end: String,
    pub status: FreeBusyStatus,
}

#[derive(Debug, Serialize)]
pub struct WorkingHoursView {
    pub days: Vec<String>,
    pub start: String,
    pub end: String,
    pub time_zone: &'static str,
}

#[derive(Debug, Serialize)]
pub struct AttendeeView {
    pub address: EmailAddress,
    pub status: ScheduleStatus,
    pub availability_view: Option<String>,
    pub busy: Vec<BusyView>,
    pub working_hours: Option<WorkingHoursView>,
}

/// `POST /connections/{id}/free-busy` response.
#[derive(Debug, Serialize)]
pub struct FreeBusyView {
    pub time_zone: &'static str,
    pub attendees: Vec<AttendeeView>,
}

/// Free/busy of the query's attendees, with times in the requested zone.
#[tracing::instrument(skip_all, fields(connection_id = %id, attendees = q.attendees.len()))]
pub async fn free_busy(
    c: &Connector,
    id: &ConnectionId,
    q: &FreeBusyQuery,
) -> Result<FreeBusyView, SchedulingError> {
    let token = calendar_token(c, id).await?;
    let schedules = read_schedules(
        c,
        &token,
        &q.attendees,
        q.window.start,
        q.window.end,
        q.interval,
        q.zone,
    )
    .await?;
    let zone = q.zone.tz();
    Ok(FreeBusyView {
        time_zone: q.zone.name(),
        attendees: schedules
            .into_iter()
            .map(|s| AttendeeView {
                address: s.availability.address,
                status: s.availability.status,
                availability_view: s.availability_view,
                busy: s
                    .availability
                    .busy
                    .iter()
                    .map(|b| BusyView {
                        start: local(b.start, zone),
                        end: local(b.end, zone),
                        status: b.status,
                    })
                    .collect(),
                working_hours: s.availability.working_hours.map(|h| WorkingHoursView {
                    days: h
                        .days
                        .iter()
                        .map(|d| format!("{d:?}").to_ascii_lowercase())
                        .collect(),
                    start: h.start.format("%H:%M").to_string(),
                    end: h.end.format("%H:%M").to_string(),
                    time_zone: h.zone.name(),
                }),
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Meeting times

#[derive(Debug, Serialize)]
pub struct SlotView {
    pub start: String,
    pub end: String,
    /// Every required attendee (all are free in a returned slot).
    pub required_free: Vec<EmailAddress>,
    pub optional_free: Vec<EmailAddress>,
}

/// `POST /connections/{id}/meeting-times` response.
#[derive(Debug, Serialize)]
pub struct MeetingTimesView {
    pub time_zone: &'static str,
    pub slots: Vec<SlotView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Meeting times where every required attendee is free, ranked by free optional attendees.
#[tracing::instrument(skip_all, fields(connection_id = %id, required = q.required.len(), optional = q.optional.len()))]
pub async fn meeting_times(
    c: &Connector,
    id: &ConnectionId,
    q: &MeetingQuery,
    now: DateTime<Utc>,
) -> Result<MeetingTimesView, SchedulingError> {
    let token = calendar_token(c, id).await?;
    let everyone: Vec<EmailAddress> = q.required.iter().chain(&q.optional).cloned().collect();
    // Busy items just outside the window still matter through the buffers.
    let margin = q.buffer_before.max(q.buffer_after);
    let schedules = read_schedules(
        c,
        &token,
        &everyone,
        q.window.start - margin,
        q.window.end + margin,
        Duration::minutes(60),
        q.zone,
    )
    .await?;
    let (required, optional) = schedules.split_at(q.required.len());
    let availability =
        |s: &[AttendeeSchedule]| s.iter().map(|a| a.availability.clone()).collect::<Vec<_>>();
    let rules = SlotRules {
        start: q.window.start,
        end: q.window.end,
        zone: q.zone.tz(),
        duration: q.duration,
        granularity: q.granularity,
        buffer_before: q.buffer_before,
        buffer_after: q.buffer_after,
        // Without a notice the window alone bounds the slots (a client may analyse any window).
        min_notice: q.min_notice.unwrap_or(Duration::zero()),
        now: if q.min_notice.is_some() {
            now
        } else {
            DateTime::<Utc>::MIN_UTC
        },
        within_working_hours: q.within_working_hours,
        treat_tentative_as_busy: q.treat_tentative_as_busy,
        max_results: q.max_results,
    };
    let outcome = find_slots(&availability(required), &availability(optional), &rules);
    let zone = q.zone.tz();
    Ok(MeetingTimesView {
        time_zone: q.zone.name(),
        slots: outcome
            .slots
            .into_iter()
            .map(|s| SlotView {
                start: local(s.start, zone),
                end: local(s.end, zone),
                required_free: q.required.clone(),
                optional_free: s.optional_free,
            })
            .collect(),
        reason: outcome.reason,
    })
}

// ---------------------------------------------------------------------------------------------
// Booking

/// `201` body of a booking and `200` body of a reschedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub id: String,
    pub web_link: Option<String>,
    pub join_url: Option<String>,
    pub ical_uid: Option<String>,
}

impl From<GraphEvent> for EventView {
    fn from(e: GraphEvent) -> Self {
        Self {
            id: e.id,
            web_link: e.web_link,
            join_url: e.online_meeting.and_then(|m| m.join_url),
            ical_uid: e.ical_uid,
        }
    }
}

/// The Graph `transactionId` for a booking: a UUID (version 5 layout) from SHA-256 of the
/// connection id and the client's key, so the same key on the same connection always names the
/// same transaction and different connections never collide.
pub fn transaction_id(id: &ConnectionId, key: &IdempotencyKey) -> String {
    let digest = Sha256::new()
        .chain_update(b"m365-connector/booking\n")
        .chain_update(id.as_str())
        .chain_update(b"\n")
        .chain_update(key.as_str())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

/// A wall-clock time in the event's zone, named the way Exchange knows it: the organiser's
/// Outlook then shows the meeting in their zone, not in UTC.
fn event_time(t: DateTime<Utc>, zone: IanaZone) -> serde_json::Value {
    serde_json::json!({
        "dateTime": t.with_timezone(&zone.tz()).format("%Y-%m-%dT%H:%M:%S").to_string(),
        "timeZone": zone.windows_id().unwrap_or(zone.name()),
    })
}

fn graph_attendees(attendees: &[Invitee]) -> serde_json::Value {
    attendees
        .iter()
        .map(|a| {
            serde_json::json!({
                "emailAddress": {"address": a.address.as_str()},
                "type": match a.kind { AttendeeType::Required => "required", AttendeeType::Optional => "optional" },
            })
        })
        .collect()
}

fn window_fields(body: &mut serde_json::Value, window: &TimeWindow, zone: IanaZone) {
    body["start"] = event_time(window.start, zone);
    body["end"] = event_time(window.end, zone);
}

/// Books a meeting in the connected calendar; the same key returns the same event.
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn book(
    c: &Connector,
    id: &ConnectionId,
    key: &IdempotencyKey,
    booking: &Booking,
    now: DateTime<Utc>,
) -> Result<EventView, SchedulingError> {
    let token = calendar_token(c, id).await?;
    let transaction = transaction_id(id, key);
    let mut event = serde_json::json!({
        "subject": booking.subject,
        "attendees": graph_attendees(&booking.attendees),
        "transactionId": transaction,
        "isOnlineMeeting": booking.online_meeting,
    });
    window_fields(&mut event, &booking.window, booking.zone);
    if booking.online_meeting {
        event["onlineMeetingProvider"] = "teamsForBusiness".into();
    }
    if let Some(body) = &booking.body {
        event["body"] = serde_json::json!({"contentType": "text", "content": body});
    }
    if let Some(location) = &booking.location {
        event["location"] = serde_json::json!({"displayName": location});
    }
    let request_hash = hex::encode(Sha256::digest(event.to_string()));
    let record_key = crate::store::keys::booking_idempotency_key(key.as_str());
    match c
        .store
        .begin_idempotent(id, &record_key, &request_hash, now + IDEMPOTENCY_TTL, now)
        .await?
    {
        IdempotencyStart::KeyReused => return Err(SchedulingError::KeyReused),
        IdempotencyStart::Completed { response } => {
            return serde_json::from_value(response).map_err(SchedulingError::Corrupt)
        }
        // A crashed or concurrent first attempt: Graph's transactionId makes repeating it safe.
        IdempotencyStart::InProgress | IdempotencyStart::Started => {}
    }
    let created: EventView = c.graph.create_event(&token, &event).await?.into();
    let stored = serde_json::to_value(&created).map_err(SchedulingError::Corrupt)?;
    c.store
        .complete_idempotent(id, &record_key, &stored)
        .await?;
    tracing::info!(transaction_id = %transaction, "meeting booked");
    Ok(created)
}

fn not_found_as_event(e: GraphError, event_id: &str) -> SchedulingError {
    match &e {
        GraphError::Api {
            status: 404, code, ..
        } if code != MAILBOX_NOT_ENABLED => SchedulingError::EventNotFound(event_id.to_owned()),
        _ => e.into(),
    }
}

/// Moves, renames or re-invites a booked meeting; Exchange updates every attendee's copy.
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn reschedule(
    c: &Connector,
    id: &ConnectionId,
    event_id: &GraphId,
    change: &Reschedule,
) -> Result<EventView, SchedulingError> {
    let event_id = event_id.as_str();
    let token = calendar_token(c, id).await?;
    let mut patch = serde_json::json!({});
    if let Some(subject) = &change.subject {
        patch["subject"] = subject.as_str().into();
    }
    if let Some((window, zone)) = &change.time {
        window_fields(&mut patch, window, *zone);
    }
    if let Some(attendees) = &change.attendees {
        patch["attendees"] = graph_attendees(attendees);
    }
    let updated = c
        .graph
        .update_event(&token, event_id, &patch)
        .await
        .map_err(|e| not_found_as_event(e, event_id))?;
    Ok(updated.into())
}

/// Cancels a booked meeting for everyone, with an optional message to the attendees.
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn cancel(
    c: &Connector,
    id: &ConnectionId,
    event_id: &GraphId,
    comment: Option<&str>,
) -> Result<(), SchedulingError> {
    let event_id = event_id.as_str();
    let token = calendar_token(c, id).await?;
    c.graph
        .cancel_event(&token, event_id, comment)
        .await
        .map_err(|e| not_found_as_event(e, event_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ApiError;

    #[test]
    fn a_ninety_day_window_is_three_getschedule_windows_of_whole_intervals() {
        let start = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let chunks = time_chunks(start, start + Duration::days(90), Duration::minutes(30));
        assert_eq!(chunks.len(), 3);
        assert!(chunks.iter().all(|(s, e)| *e - *s <= MAX_CALL_WINDOW));
        assert_eq!(chunks[0].1, chunks[1].0);
        assert_eq!(chunks.last().unwrap().1, start + Duration::days(90));
        let odd = time_chunks(start, start + Duration::days(50), Duration::minutes(7));
        assert_eq!((odd[0].1 - odd[0].0).num_minutes() % 7, 0);
    }

    #[test]
    fn transaction_ids_are_stable_per_connection_and_key() {
        let a = ConnectionId::parse("6f9619ff-8b86-d011-b42d-00c04fc964ff").unwrap();
        let b = ConnectionId::parse("7f9619ff-8b86-d011-b42d-00c04fc964ff").unwrap();
        let k = IdempotencyKey::parse("interview-1").unwrap();
        let k2 = IdempotencyKey::parse("interview-2").unwrap();
        assert_eq!(transaction_id(&a, &k), transaction_id(&a, &k));
        assert_ne!(transaction_id(&a, &k), transaction_id(&b, &k));
        assert_ne!(transaction_id(&a, &k), transaction_id(&a, &k2));
        let parsed = uuid::Uuid::parse_str(&transaction_id(&a, &k)).unwrap();
        assert_eq!(parsed.get_version_num(), 5);
    }

    #[test]
    fn graph_times_in_windows_zones_become_instants_and_ambiguous_ones_widen() {
        let t = graph_instant(
            "2026-03-09T10:00:00.0000000",
            "Eastern Standard Time",
            false,
        )
        .unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-09T14:00:00+00:00");
        // 02:30 on 2026-10-25 happens twice in Berlin.
        let s = graph_instant("2026-10-25T02:30:00", "W. Europe Standard Time", false).unwrap();
        let e = graph_instant("2026-10-25T02:30:00", "W. Europe Standard Time", true).unwrap();
        assert_eq!(e - s, Duration::hours(1));
        // 02:30 on 2026-03-29 does not exist in Berlin: a start moves before the gap, an end after.
        let s = graph_instant("2026-03-29T02:30:00", "W. Europe Standard Time", false).unwrap();
        let e = graph_instant("2026-03-29T02:30:00", "W. Europe Standard Time", true).unwrap();
        assert_eq!(s.to_rfc3339(), "2026-03-29T00:59:00+00:00");
        assert_eq!(e.to_rfc3339(), "2026-03-29T01:00:00+00:00");
    }

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
