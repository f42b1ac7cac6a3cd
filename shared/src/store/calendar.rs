//! Synced calendar events: metadata of each instance (never its body) in the connection's
//! partition, and a window index for the listing.
//!
//! - An event item: `CONN#{id}` / `EVT#{event id}`, and in gsi1 under `EVTS#{id}` ordered by start
//!   (`{start}#{event id}`), so a window listing is one Query. Being in the connection's partition,
//!   the purge removes it with everything else of the connection.
//! - The calendar's delta cursor is the folder cursor `CURSOR#calendar` ([`CALENDAR`]).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::messages::{Address, Write};
use super::page::{decode_cursor, encode_cursor};
use super::{dynamo, from_item, item_size, keys, s, to_item, Item, Page, Store, StoreError};
use crate::domain::{ConnectionId, PageLimit, ParseError};

/// The name of the calendar among a connection's synced resources (cursor and subscription).
pub const CALENDAR: &str = "calendar";

/// The window listing finds events that started up to this long before the window: longer
/// events that overlap it are not listed (multi-day all-day events up to a month are).
pub const MAX_LISTED_SPAN: Duration = Duration::days(31);

/// A time another attendee proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedTime {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One attendee and their answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendeeRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub address: String,
    /// `required`, `optional`, `resource`.
    pub kind: String,
    /// Graph `responseType`: `none`, `organizer`, `tentativelyAccepted`, `accepted`, `declined`,
    /// `notResponded`.
    pub response: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_new_time: Option<ProposedTime>,
}

/// The stored metadata of one calendar event instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEventRecord {
    /// Graph's (immutable) id of the instance.
    pub id: String,
    pub connection_id: ConnectionId,
    pub subject: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The zone Graph gave the times in (the sync asks for UTC).
    pub time_zone: String,
    pub is_all_day: bool,
    pub organizer: Option<Address>,
    pub attendees: Vec<AttendeeRecord>,
    pub is_cancelled: bool,
    pub is_online_meeting: bool,
    pub join_url: Option<String>,
    pub location: Option<String>,
    pub ical_uid: Option<String>,
    pub series_master_id: Option<String>,
    /// Graph `type`: `singleInstance`, `occurrence`, `exception`, `seriesMaster`.
    #[serde(rename = "type")]
    pub kind: String,
    pub transaction_id: Option<String>,
    /// The connector booked it (its `transactionId` has the connector's layout).
    pub booked_by_connector: bool,
    pub web_link: Option<String>,
    /// Graph reported it removed from the window (deleted, declined, or moved out).
    pub deleted: bool,
    /// Graph's version marker when it was last written.
    pub etag: String,
}

#[derive(Serialize, Deserialize)]
struct EventItem {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    entity: String,
    #[serde(flatten)]
    record: CalendarEventRecord,
}

/// The write that stores `record`.
pub fn calendar_event_write(record: &CalendarEventRecord) -> Result<Write, StoreError> {
    let item = to_item(&EventItem {
        pk: keys::connection_pk(&record.connection_id),
        sk: keys::calendar_event_sk(&record.id),
        gsi1pk: keys::calendar_events_by_start_pk(&record.connection_id),
        gsi1sk: keys::calendar_event_order(&record.start, &record.id),
        entity: "calendar_event".into(),
        record: record.clone(),
    })?;
    let size = item_size(&item);
    if size > super::MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge { size });
    }
    Ok(Write::Put(item))
}

/// The window a calendar delta sequence covers (fixed by its first request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct WindowItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    window: CalendarWindow,
}

/// What the calendar listing asks for: events overlapping `[start, end)`.
#[derive(Debug, Clone)]
pub struct CalendarQuery<'a> {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub limit: PageLimit,
    pub cursor: Option<&'a str>,
}

/// A listing reads at most this many DynamoDB pages per request.
const MAX_QUERY_ROUNDS: usize = 10;

impl Store {
    /// The stored events among `ids`, one BatchGetItem per 100.
    pub async fn get_calendar_events(
        &self,
        id: &ConnectionId,
        ids: &[&str],
    ) -> Result<HashMap<String, CalendarEventRecord>, StoreError> {
        let mut distinct: Vec<&str> = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let keys_: Vec<Item> = distinct
            .iter()
            .map(|e| {
                HashMap::from([
                    (keys::PK.to_owned(), s(keys::connection_pk(id))),
                    (keys::SK.to_owned(), s(keys::calendar_event_sk(e))),
                ])
            })
            .collect();
        let mut found = HashMap::new();
        for item in self.batch_get(keys_).await? {
            let item: EventItem = from_item(item)?;
            found.insert(item.record.id.clone(), item.record);
        }
        Ok(found)
    }

    /// One stored event.
    pub async fn get_calendar_event(
        &self,
        id: &ConnectionId,
        event_id: &str,
    ) -> Result<Option<CalendarEventRecord>, StoreError> {
        let item = self
            .get_item(
                keys::connection_pk(id),
                keys::calendar_event_sk(event_id),
                false,
            )
            .await?;
        item.map(|i| from_item::<EventItem>(i).map(|e| e.record))
            .transpose()
    }

    /// The window the calendar's delta cursor covers, if a round was started.
    pub async fn get_calendar_window(
        &self,
        id: &ConnectionId,
    ) -> Result<Option<CalendarWindow>, StoreError> {
        let item = self
            .get_item(
                keys::connection_pk(id),
                keys::CALENDAR_WINDOW.to_owned(),
                true,
            )
            .await?;
        item.map(|i| from_item::<WindowItem>(i).map(|w| w.window))
            .transpose()
    }

    /// Records the window of a calendar delta sequence that starts from scratch.
    pub async fn put_calendar_window(
        &self,
        id: &ConnectionId,
        window: CalendarWindow,
    ) -> Result<(), StoreError> {
        let item = to_item(&WindowItem {
            pk: keys::connection_pk(id),
            sk: keys::CALENDAR_WINDOW.to_owned(),
            entity: "calendar_window".into(),
            window,
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(dynamo("PutItem"))?;
        Ok(())
    }

    /// The ids of the live stored instances overlapping `window` (after a from-scratch round,
    /// to find what vanished meanwhile). Reads the by-start index, id and times only.
    pub async fn live_calendar_event_ids(
        &self,
        id: &ConnectionId,
        window: CalendarWindow,
    ) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("#pk = :pk")
                .filter_expression("#deleted = :no")
                .projection_expression("#id, #start, #end")
                .expression_attribute_names("#pk", keys::GSI1_PK)
                .expression_attribute_names("#deleted", "deleted")
                .expression_attribute_names("#id", "id")
                .expression_attribute_names("#start", "start")
                .expression_attribute_names("#end", "end")
                .expression_attribute_values(":pk", s(keys::calendar_events_by_start_pk(id)))
                .expression_attribute_values(
                    ":no",
                    aws_sdk_dynamodb::types::AttributeValue::Bool(false),
                )
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(dynamo("Query"))?;
            #[derive(Deserialize)]
            struct Row {
                id: String,
                start: DateTime<Utc>,
                end: DateTime<Utc>,
            }
            for item in page.items.unwrap_or_default() {
                let row: Row = from_item(item)?;
                if row.start < window.end && row.end > window.start {
                    out.push(row.id);
                }
            }
            match page.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(out),
            }
        }
    }

    /// The live events overlapping a window (every occurrence of a series is its own event),
    /// ordered by start.
    pub async fn list_calendar_events(
        &self,
        id: &ConnectionId,
        q: &CalendarQuery<'_>,
    ) -> Result<Result<Page<CalendarEventRecord>, ParseError>, StoreError> {
        let pk = keys::calendar_events_by_start_pk(id);
        let mut start = match q
            .cursor
            .map(|c| decode_cursor(c, keys::GSI1_PK, &pk))
            .transpose()
        {
            Ok(start) => start,
            Err(e) => return Ok(Err(e)),
        };
        let limit = usize::from(q.limit.get());
        let lower = keys::calendar_event_order(&(q.start - MAX_LISTED_SPAN), "");
        // Every id sorts after `#`, so this bound takes each event starting before `end`.
        let upper = keys::calendar_event_order(&q.end, "");
        let mut raw: Vec<Item> = Vec::new();
        let mut next_cursor = None;
        for round in 0..MAX_QUERY_ROUNDS {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :lo AND :hi")
                .filter_expression("#end > :start AND #deleted = :no")
                .expression_attribute_names("#pk", keys::GSI1_PK)
                .expression_attribute_names("#sk", keys::GSI1_SK)
                .expression_attribute_names("#end", "end")
                .expression_attribute_names("#deleted", "deleted")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":lo", s(lower.clone()))
                .expression_attribute_values(":hi", s(upper.clone()))
                .expression_attribute_values(
                    ":start",
                    s(q.start.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                )
                .expression_attribute_values(
                    ":no",
                    aws_sdk_dynamodb::types::AttributeValue::Bool(false),
                )
                .limit(i32::try_from(limit - raw.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(dynamo("Query"))?;
            raw.extend(out.items.unwrap_or_default());
            let more = out.last_evaluated_key;
            if raw.len() >= limit {
                next_cursor = raw.last().and_then(|item| {
                    let key: Item = [keys::PK, keys::SK, keys::GSI1_PK, keys::GSI1_SK]
                        .iter()
                        .filter_map(|n| item.get(*n).map(|v| ((*n).to_owned(), v.clone())))
                        .collect();
                    more.as_ref().and(encode_cursor(&key))
                });
                break;
            }
            match more {
                None => break,
                Some(key) if round + 1 == MAX_QUERY_ROUNDS => next_cursor = encode_cursor(&key),
                Some(key) => start = Some(key),
            }
        }
        let items = raw
            .into_iter()
            .map(|i| from_item::<EventItem>(i).map(|e| e.record))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Ok(Page { items, next_cursor }))
    }
}
