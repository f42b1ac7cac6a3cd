//! Calendar sync: `calendarView/delta` over a window around now, diffed against the stored
//! instances exactly as mail pages are ([`super::plan`]): one event per real change, with ids
//! stable across retries, duplicated notifications and restarted rounds.
//!
//! - Unknown id -> `calendar_event.created`; known id with another version -> `updated`;
//!   `@removed` of a stored, live instance -> `deleted` (the record stays, flagged).
//! - For an event the connector booked ([`booked_by_connector`]), the change is also told in the
//!   recruiting app's terms: an attendee's `responseStatus` changed -> `interview.response_changed`
//!   (one per attendee whose answer changed), start or end moved -> `interview.rescheduled`,
//!   cancelled or removed -> `interview.cancelled`.
//!
//! The window is fixed by the first request of a round and kept in Graph's tokens, so a cursor
//! keeps covering the window it was started with until it is restarted (410, or a new
//! connection).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use crate::domain::ConnectionId;
use crate::graph::calendar::{DateTimeTimeZone, EventChange, GraphCalendarEvent};
use crate::store::calendar::{AttendeeRecord, CalendarEventRecord, ProposedTime};
use crate::store::messages::Address;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarChange {
    Created,
    Updated,
    Deleted,
}

impl CalendarChange {
    pub fn detail_type(self) -> &'static str {
        match self {
            Self::Created => "calendar_event.created",
            Self::Updated => "calendar_event.updated",
            Self::Deleted => "calendar_event.deleted",
        }
    }
}

/// One instance to write, with what was stored before (to tell what changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedEvent {
    pub kind: CalendarChange,
    pub record: CalendarEventRecord,
    pub previous: Option<CalendarEventRecord>,
}

/// Whether a `transactionId` is one the connector sets: the bookings of the scheduling API and
/// of scheduling links are UUIDs in the version-5 layout derived from SHA-256
/// (`scheduling::service::transaction_id`). Outlook sets none; another app could in principle
/// send the same layout, which is why the record keeps the `transactionId` itself too.
pub fn booked_by_connector(transaction_id: Option<&str>) -> bool {
    transaction_id
        .and_then(|t| uuid::Uuid::parse_str(t).ok())
        .is_some_and(|u| u.get_version_num() == 5)
}

/// A Graph `dateTimeTimeZone` as an instant (the sync asks for UTC; a named zone is honoured).
fn instant(t: &DateTimeTimeZone) -> DateTime<Utc> {
    let naive =
        NaiveDateTime::parse_from_str(&t.date_time, "%Y-%m-%dT%H:%M:%S%.f").unwrap_or_default();
    match t.time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) if !t.time_zone.eq_ignore_ascii_case("UTC") => naive
            .and_local_timezone(tz)
            .earliest()
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|| naive.and_utc()),
        _ => naive.and_utc(),
    }
}

/// Text cut to [`super::bounds::MAX_TEXT_BYTES`] at a character boundary, so one odd event
/// cannot grow an item past DynamoDB's limit.
fn bounded(text: &str) -> String {
    let mut end = text.len().min(super::bounds::MAX_TEXT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Maps a Graph event instance to the stored record (no body: Graph is not even asked for it).
pub fn to_record(e: &GraphCalendarEvent, connection_id: &ConnectionId) -> CalendarEventRecord {
    let attendees = e
        .attendees
        .iter()
        .filter_map(|a| {
            Some(AttendeeRecord {
                name: a.email_address.name.clone().filter(|n| !n.is_empty()),
                address: a.email_address.address.clone()?.to_ascii_lowercase(),
                kind: a.kind.clone().unwrap_or_else(|| "required".into()),
                response: a
                    .status
                    .as_ref()
                    .and_then(|s| s.response.clone())
                    .unwrap_or_else(|| "none".into()),
                proposed_new_time: a.proposed_new_time.as_ref().map(|p| ProposedTime {
                    start: instant(&p.start),
                    end: instant(&p.end),
                }),
            })
        })
        .take(super::bounds::MAX_RECIPIENTS)
        .collect();
    CalendarEventRecord {
        id: e.id.clone(),
        connection_id: connection_id.clone(),
        subject: bounded(e.subject.as_deref().unwrap_or_default()),
        start: instant(&e.start),
        end: instant(&e.end),
        time_zone: e.start.time_zone.clone(),
        is_all_day: e.is_all_day.unwrap_or(false),
        organizer: e.organizer.as_ref().and_then(|o| {
            Some(Address {
                name: o.email_address.name.clone().filter(|n| !n.is_empty()),
                address: o.email_address.address.clone()?,
            })
        }),
        attendees,
        is_cancelled: e.is_cancelled.unwrap_or(false),
        is_online_meeting: e.is_online_meeting.unwrap_or(false),
        join_url: e.online_meeting.as_ref().and_then(|m| m.join_url.clone()),
        location: e
            .location
            .as_ref()
            .and_then(|l| l.display_name.clone())
            .filter(|l| !l.is_empty()),
        ical_uid: e.ical_uid.clone(),
        series_master_id: e.series_master_id.clone(),
        kind: e.kind.clone().unwrap_or_else(|| "singleInstance".into()),
        booked_by_connector: booked_by_connector(e.transaction_id.as_deref()),
        transaction_id: e.transaction_id.clone(),
        web_link: e.web_link.clone(),
        deleted: false,
        etag: e.version(),
    }
}

/// Diffs one calendar delta page against the stored instances it names.
pub fn plan_calendar_page(
    connection_id: &ConnectionId,
    changes: &[EventChange],
    stored: &HashMap<String, CalendarEventRecord>,
) -> Vec<PlannedEvent> {
    let mut order: Vec<String> = Vec::new();
    let mut planned: HashMap<String, PlannedEvent> = HashMap::new();
    for change in changes {
        let id = match change {
            EventChange::Upsert(e) => e.id.as_str(),
            EventChange::Removed { id } => id.as_str(),
        };
        let original = stored.get(id).cloned();
        let before = planned
            .get(id)
            .map(|p| p.record.clone())
            .or_else(|| original.clone());
        let write = match change {
            EventChange::Upsert(e) => {
                let record = to_record(e, connection_id);
                match &before {
                    None => Some((CalendarChange::Created, record)),
                    Some(b) if b.etag == record.etag && !b.deleted => None,
                    Some(_) => Some((CalendarChange::Updated, record)),
                }
            }
            EventChange::Removed { .. } => match &before {
                Some(b) if !b.deleted => {
                    let mut record = b.clone();
                    record.deleted = true;
                    Some((CalendarChange::Deleted, record))
                }
                _ => None,
            },
        };
        let Some((kind, record)) = write else {
            continue;
        };
        let kind = match planned.get(id).map(|p| p.kind) {
            Some(CalendarChange::Created) if kind == CalendarChange::Updated => {
                CalendarChange::Created
            }
            _ => kind,
        };
        if !planned.contains_key(id) {
            order.push(id.to_owned());
        }
        planned.insert(
            id.to_owned(),
            PlannedEvent {
                kind,
                record,
                previous: original,
            },
        );
    }
    order
        .into_iter()
        .filter_map(|id| planned.remove(&id))
        .collect()
}

/// The event's public view: metadata only (`etag` is internal).
pub fn view(r: &CalendarEventRecord) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.remove("etag");
    }
    v
}

impl PlannedEvent {
    fn ids(&self) -> (&ConnectionId, &str, &str) {
        (
            &self.record.connection_id,
            &self.record.id,
            &self.record.etag,
        )
    }

    /// Stable across retries: created and deleted once per instance, updated once per version.
    pub fn event_id(&self) -> String {
        let (c, e, v) = self.ids();
        match self.kind {
            CalendarChange::Created => format!("calendar_event.created:{c}:{e}"),
            CalendarChange::Deleted => format!("calendar_event.deleted:{c}:{e}"),
            CalendarChange::Updated => format!("calendar_event.updated:{c}:{e}:{v}"),
        }
    }

    /// Every bus event of this change: the `calendar_event.*` one, then the `interview.*` ones
    /// for an event the connector booked.
    pub fn events(&self) -> Vec<(&'static str, serde_json::Value)> {
        let (c, e, v) = self.ids();
        let mut out = vec![(
            self.kind.detail_type(),
            serde_json::json!({
                "event_id": self.event_id(),
                "connection_id": c,
                "change": self.kind,
                "calendar_event": view(&self.record),
            }),
        )];
        let booked = self.record.booked_by_connector
            || self
                .previous
                .as_ref()
                .is_some_and(|p| p.booked_by_connector);
        let Some(before) = self.previous.as_ref().filter(|_| booked) else {
            return out;
        };
        let interview = |kind: &'static str, id: String, extra: serde_json::Value| {
            let mut detail = serde_json::json!({
                "event_id": id,
                "connection_id": c,
                "calendar_event_id": e,
                "transaction_id": self.record.transaction_id,
                "ical_uid": self.record.ical_uid,
                "subject": self.record.subject,
            });
            if let (Some(d), Some(x)) = (detail.as_object_mut(), extra.as_object()) {
                d.extend(x.clone());
            }
            (kind, detail)
        };
        let cancelled_now = self.record.deleted || self.record.is_cancelled;
        let cancelled_before = before.deleted || before.is_cancelled;
        if cancelled_now && !cancelled_before {
            out.push(interview(
                "interview.cancelled",
                format!("interview.cancelled:{c}:{e}"),
                serde_json::json!({}),
            ));
            return out;
        }
        if self.kind != CalendarChange::Updated {
            return out;
        }
        if before.start != self.record.start || before.end != self.record.end {
            out.push(interview(
                "interview.rescheduled",
                format!("interview.rescheduled:{c}:{e}:{v}"),
                serde_json::json!({
                    "old": {"start": before.start, "end": before.end},
                    "new": {"start": self.record.start, "end": self.record.end},
                }),
            ));
        }
        for a in &self.record.attendees {
            let old = before
                .attendees
                .iter()
                .find(|b| b.address == a.address)
                .map(|b| b.response.as_str())
                .unwrap_or("none");
            if old != a.response {
                out.push(interview(
                    "interview.response_changed",
                    format!(
                        "interview.response_changed:{c}:{e}:{}:{}:{v}",
                        a.address, a.response
                    ),
                    serde_json::json!({
                        "attendee": {"name": a.name, "address": a.address},
                        "old_response": old,
                        "new_response": a.response,
                        "proposed_new_time": a.proposed_new_time,
                    }),
                ));
            }
        }
        out
    }
}

use super::{FolderEnd, Mailbox, Stats, SyncError, DEADLINE_MARGIN};
use crate::domain::{Capability, ConnectionStatus};
use crate::graph::messages::{DeltaError, DeltaNext};
use crate::graph::GraphClient;
use crate::store::calendar::{calendar_event_write, CalendarWindow, CALENDAR};
use crate::store::messages::cursor_write;
use tokio::time::Instant;

/// How far the wanted window may move past the cursor's before a new sequence starts over the
/// current one: a day, so a mailbox re-reads its window at most daily (21 Graph requests for
/// 2,000 instances) and the far end is never more than a day short.
pub const ROLL_AFTER: chrono::Duration = chrono::Duration::days(1);

/// Vanished instances handled per step of a sweep: one BatchGetItem (100 keys).
const SWEEP_CHUNK: usize = 100;

impl Mailbox<'_> {
    /// Whether the connection's calendar is synced (it granted the calendar scopes).
    pub(super) fn syncs_calendar(&self) -> bool {
        self.connection.capabilities.contains(&Capability::Calendar)
    }

    /// A `calendarView/delta` round from the stored cursor, page by page as a mail folder's:
    /// diff, publish, then write the page's instances with the link that fetched it.
    pub(super) async fn sync_calendar(&self) -> Result<(FolderEnd, Stats), SyncError> {
        let id = &self.connection.id;
        let store = &self.c.store;
        let now = Utc::now();
        let window = CalendarWindow {
            start: now - chrono::Duration::days(self.c.config.calendar_past_days.into()),
            end: now + chrono::Duration::days(self.c.config.calendar_future_days.into()),
        };
        let initial = GraphClient::initial_calendar_delta_link(window.start, window.end);
        let (mut saved_link, covered) = tokio::try_join!(
            store.get_cursor(id, CALENDAR),
            store.get_calendar_window(id)
        )?;
        let mut stats = Stats::default();
        // Ids seen since a from-scratch round began, to find what vanished meanwhile.
        let mut restart_seen: Option<std::collections::HashSet<String>> = None;
        // The window rolls: once the cursor's window began more than ROLL_AFTER before the one
        // wanted now (or is unknown), a new sequence starts over the current window.
        let rolls =
            saved_link.is_some() && covered.is_none_or(|w| window.start - w.start > ROLL_AFTER);
        let mut link = match saved_link.clone() {
            Some(l) if !rolls => l,
            _ => {
                if rolls {
                    tracing::info!("the calendar window rolled forward; a new delta sequence");
                    restart_seen = Some(std::collections::HashSet::new());
                }
                store.put_calendar_window(id, window).await?;
                saved_link = None;
                initial.clone()
            }
        };
        loop {
            let page = match self
                .graph(|| {
                    self.c.graph.calendar_delta_page(
                        &self.token,
                        &link,
                        self.c.config.sync_page_size,
                    )
                })
                .await
            {
                Ok(page) => page,
                Err(DeltaError::SyncStateLost(e)) if restart_seen.is_none() => {
                    tracing::warn!(error = %e, "calendar delta token expired; resyncing the window");
                    stats.restarted_folders += 1;
                    restart_seen = Some(std::collections::HashSet::new());
                    store.put_calendar_window(id, window).await?;
                    link = initial.clone();
                    continue;
                }
                Err(e) => return Err(SyncError::Delta(e)),
            };
            stats.pages += 1;
            if let Some(seen) = restart_seen.as_mut() {
                for change in &page.changes {
                    if let EventChange::Upsert(e) = change {
                        seen.insert(e.id.clone());
                    }
                }
            }
            let ids: Vec<&str> = page
                .changes
                .iter()
                .map(|ch| match ch {
                    EventChange::Upsert(e) => e.id.as_str(),
                    EventChange::Removed { id } => id.as_str(),
                })
                .collect();
            let (stored, status) = tokio::try_join!(
                async {
                    if ids.is_empty() {
                        Ok(HashMap::new())
                    } else {
                        store.get_calendar_events(id, &ids).await
                    }
                },
                store.connection_status(id),
            )?;
            if status != Some(ConnectionStatus::Active) {
                return Ok((FolderEnd::NotLive, stats));
            }
            let planned = plan_calendar_page(id, &page.changes, &stored);
            let cursor = (saved_link.as_deref() != Some(link.as_str())).then(|| link.clone());
            self.apply_calendar(&planned, cursor.as_deref()).await?;
            for p in &planned {
                match p.kind {
                    CalendarChange::Created => stats.created += 1,
                    CalendarChange::Updated => stats.updated += 1,
                    CalendarChange::Deleted => stats.deleted += 1,
                }
            }
            if cursor.is_some() {
                saved_link = cursor;
            }
            match page.next {
                DeltaNext::DeltaLink(delta) => {
                    if let Some(seen) = restart_seen.take() {
                        self.sweep_vanished_events(&seen, window, &mut stats)
                            .await?;
                    }
                    store.put_cursor(id, CALENDAR, &delta, Utc::now()).await?;
                    return Ok((FolderEnd::Complete, stats));
                }
                DeltaNext::NextLink(next) => {
                    if Instant::now() + DEADLINE_MARGIN >= self.deadline {
                        if restart_seen.is_some() {
                            tracing::warn!("calendar resync spans runs; vanished events are found at the next restart");
                        }
                        store.put_cursor(id, CALENDAR, &next, Utc::now()).await?;
                        return Ok((FolderEnd::OutOfTime, stats));
                    }
                    link = next;
                }
            }
        }
    }

    /// After a from-scratch round: every live stored instance inside `window` the round did not
    /// return was deleted meanwhile; each is marked deleted, with its event, exactly as an
    /// `@removed` would have done. Instances outside the window (aged out as it rolled) are left
    /// as they are: they were not deleted.
    async fn sweep_vanished_events(
        &self,
        seen: &std::collections::HashSet<String>,
        window: CalendarWindow,
        stats: &mut Stats,
    ) -> Result<(), SyncError> {
        let id = &self.connection.id;
        let gone: Vec<EventChange> = self
            .c
            .store
            .live_calendar_event_ids(id, window)
            .await?
            .into_iter()
            .filter(|e| !seen.contains(e))
            .map(|id| EventChange::Removed { id })
            .collect();
        for chunk in gone.chunks(SWEEP_CHUNK) {
            let ids: Vec<&str> = chunk
                .iter()
                .filter_map(|c| match c {
                    EventChange::Removed { id } => Some(id.as_str()),
                    EventChange::Upsert(_) => None,
                })
                .collect();
            let stored = self.c.store.get_calendar_events(id, &ids).await?;
            let planned = plan_calendar_page(id, chunk, &stored);
            self.apply_calendar(&planned, None).await?;
            stats.deleted += planned.len();
        }
        Ok(())
    }

    /// Builds the writes (an instance that cannot be stored fails before anything is
    /// published), publishes the page's events, then writes the instances and the cursor.
    async fn apply_calendar(
        &self,
        planned: &[PlannedEvent],
        cursor: Option<&str>,
    ) -> Result<(), SyncError> {
        let mut writes = Vec::with_capacity(planned.len() + 1);
        if let Some(link) = cursor {
            writes.push(cursor_write(
                &self.connection.id,
                CALENDAR,
                link,
                Utc::now(),
            )?);
        }
        for p in planned {
            writes.push(calendar_event_write(&p.record)?);
        }
        let events: Vec<(&str, serde_json::Value)> =
            planned.iter().flat_map(PlannedEvent::events).collect();
        if !events.is_empty() {
            self.c
                .events
                .publish_batch(&events)
                .await
                .map_err(SyncError::Publish)?;
        }
        if !writes.is_empty() {
            self.c.store.write_batch(writes).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IdempotencyKey;
    use serde_json::json;

    fn conn() -> ConnectionId {
        ConnectionId::parse("6f9619ff-8b86-d011-b42d-00c04fc964ff").unwrap()
    }

    fn booked_tx() -> String {
        crate::scheduling::service::transaction_id(
            &conn(),
            &IdempotencyKey::parse("interview-1").unwrap(),
        )
    }

    fn event(etag: &str, start: &str, bob: &str, tx: Option<&str>) -> EventChange {
        EventChange::Upsert(Box::new(
            serde_json::from_value(json!({
                "@odata.etag": etag, "id": "e1", "subject": "Interview",
                "start": {"dateTime": format!("2026-03-02T{start}:00.0000000"), "timeZone": "UTC"},
                "end": {"dateTime": "2026-03-02T18:00:00.0000000", "timeZone": "UTC"},
                "type": "singleInstance", "transactionId": tx,
                "attendees": [{"type": "required", "emailAddress": {"address": "Bob@Contoso.example"},
                               "status": {"response": bob}}]
            }))
            .unwrap(),
        ))
    }

    fn stored(plan: &[PlannedEvent]) -> HashMap<String, CalendarEventRecord> {
        plan.iter()
            .map(|p| (p.record.id.clone(), p.record.clone()))
            .collect()
    }

    fn kinds(plan: &[PlannedEvent]) -> Vec<&'static str> {
        plan.iter()
            .flat_map(|p| p.events())
            .map(|(k, _)| k)
            .collect()
    }

    #[test]
    fn the_connectors_own_transaction_ids_mark_an_event_booked_and_others_do_not() {
        assert!(booked_by_connector(Some(&booked_tx())));
        assert!(!booked_by_connector(Some(
            "7E163156-7762-4BEB-A1C6-729EA81755A7"
        )));
        assert!(!booked_by_connector(Some("not a uuid")));
        assert!(!booked_by_connector(None));
    }

    #[test]
    fn replaying_a_page_changes_nothing_and_publishes_nothing() {
        let tx = booked_tx();
        let page = [event("W/\"1\"", "09:00", "none", Some(&tx))];
        let first = plan_calendar_page(&conn(), &page, &HashMap::new());
        assert_eq!(kinds(&first), ["calendar_event.created"]);
        assert!(plan_calendar_page(&conn(), &page, &stored(&first)).is_empty());
    }

    #[test]
    fn an_attendees_new_answer_on_a_booked_event_is_told_once_with_old_and_new() {
        let tx = booked_tx();
        let first = plan_calendar_page(
            &conn(),
            &[event("W/\"1\"", "09:00", "none", Some(&tx))],
            &HashMap::new(),
        );
        let page = [event("W/\"2\"", "09:00", "declined", Some(&tx))];
        let plan = plan_calendar_page(&conn(), &page, &stored(&first));
        let events = plan[0].events();
        assert_eq!(
            events.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            ["calendar_event.updated", "interview.response_changed"]
        );
        let detail = &events[1].1;
        assert_eq!(detail["attendee"]["address"], "bob@contoso.example");
        assert_eq!(
            (&detail["old_response"], &detail["new_response"]),
            (&json!("none"), &json!("declined"))
        );
        // The same change seen again (a restarted round) has the same ids.
        let again = plan_calendar_page(&conn(), &page, &stored(&first));
        assert_eq!(again[0].events()[1].1["event_id"], detail["event_id"]);
    }

    #[test]
    fn a_moved_booked_event_is_rescheduled_and_a_removed_one_cancelled() {
        let tx = booked_tx();
        let first = plan_calendar_page(
            &conn(),
            &[event("W/\"1\"", "09:00", "accepted", Some(&tx))],
            &HashMap::new(),
        );
        let moved = plan_calendar_page(
            &conn(),
            &[event("W/\"2\"", "11:00", "accepted", Some(&tx))],
            &stored(&first),
        );
        assert_eq!(
            kinds(&moved),
            ["calendar_event.updated", "interview.rescheduled"]
        );
        let removed = plan_calendar_page(
            &conn(),
            &[EventChange::Removed { id: "e1".into() }],
            &stored(&moved),
        );
        assert_eq!(
            kinds(&removed),
            ["calendar_event.deleted", "interview.cancelled"]
        );
        assert!(removed[0].record.deleted);
    }

    #[test]
    fn events_the_connector_did_not_book_get_no_interview_events() {
        let first = plan_calendar_page(
            &conn(),
            &[event("W/\"1\"", "09:00", "none", None)],
            &HashMap::new(),
        );
        let plan = plan_calendar_page(
            &conn(),
            &[event("W/\"2\"", "10:00", "declined", None)],
            &stored(&first),
        );
        assert_eq!(kinds(&plan), ["calendar_event.updated"]);
    }

    #[test]
    fn event_details_carry_metadata_but_never_a_body_or_etag() {
        let plan = plan_calendar_page(
            &conn(),
            &[event("W/\"1\"", "09:00", "none", None)],
            &HashMap::new(),
        );
        let (_, detail) = &plan[0].events()[0];
        assert!(detail["calendar_event"].get("body").is_none());
        assert!(detail["calendar_event"].get("etag").is_none());
        assert_eq!(detail["calendar_event"]["start"], "2026-03-02T09:00:00Z");
        assert_eq!(
            detail["event_id"],
            format!("calendar_event.created:{}:e1", conn())
        );
    }
}
