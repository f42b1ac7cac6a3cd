//! `GET /me/calendarView/delta`: the occurrences, exceptions and single instances of a window,
//! then only what changed since the last round (event-delta.md, "Delta query for events in a
//! calendar view").
//!
//! The window (`startDateTime`, `endDateTime`) is fixed by the first request and carried in every
//! `$skiptoken` / `$deltatoken`, as Graph does. A round compares the window's instances now with
//! what the previous round reported (id -> version): new or changed instances are returned whole,
//! vanished ones as `{"id", "@removed": {"reason": "deleted"}}`. Series masters are not returned
//! (calendarView delta expands series), only their instances, each with `seriesMasterId` and
//! `type` `occurrence` or `exception`. Expired tokens answer 410 `syncStateNotFound`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use graph_sim_calendar::GraphTimeZone;
use serde_json::{json, Value};

use super::calendar::{caller_for, occurrences_of, parse_query_time};
use super::max_page_size;
use crate::respond::{GraphError, GraphResult};
use crate::state::random_token;
use crate::SimRef;

/// Graph's default page size for event delta.
pub const DEFAULT_PAGE_SIZE: usize = 10;

/// One delta or skip token's state.
#[derive(Debug, Clone)]
pub struct CalendarDelta {
    pub user_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// What the last complete round reported: instance id -> version.
    pub reported: HashMap<String, String>,
    /// For a `$skiptoken`: the items still to send in this round, and the round's end state.
    pub pending: Option<(Vec<Value>, HashMap<String, String>)>,
    pub page_size: usize,
    pub expired: bool,
}

/// An instance's version: its etag plus its times (an occurrence shares its master's etag, but
/// moving the series moves the occurrence).
fn version(v: &Value) -> String {
    format!(
        "{}|{}|{}|{}",
        v["@odata.etag"].as_str().unwrap_or_default(),
        v["start"]["dateTime"].as_str().unwrap_or_default(),
        v["end"]["dateTime"].as_str().unwrap_or_default(),
        v["isCancelled"]
    )
}

fn sync_state_not_found() -> GraphError {
    GraphError::new(
        StatusCode::GONE,
        "syncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
    )
}

pub async fn calendar_view_delta(
    State(sim): State<SimRef>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> GraphResult {
    let caller = caller_for(&sim, &headers, false)?;
    let token = q
        .get("$deltatoken")
        .or_else(|| q.get("$skiptoken"))
        .cloned();
    let page_pref = max_page_size(&headers);
    let state = match &token {
        Some(t) => {
            let st = sim.st();
            let s = st
                .calendar
                .delta_tokens
                .get(t)
                .cloned()
                .ok_or_else(sync_state_not_found)?;
            if s.expired || s.user_id != caller.user.id {
                return Err(sync_state_not_found());
            }
            s
        }
        None => {
            let bad = || {
                GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "ErrorInvalidParameter",
                    "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
                )
            };
            let start = q.get("startDateTime").ok_or_else(bad)?;
            let end = q.get("endDateTime").ok_or_else(bad)?;
            CalendarDelta {
                user_id: caller.user.id.to_string(),
                start: parse_query_time(start).ok_or_else(bad)?,
                end: parse_query_time(end).ok_or_else(bad)?,
                reported: HashMap::new(),
                pending: None,
                page_size: DEFAULT_PAGE_SIZE,
                expired: false,
            }
        }
    };
    let page_size = page_pref.unwrap_or(state.page_size).max(1);
    let (items, round_end) = match state.pending.clone() {
        Some(p) => p,
        None => {
            let now = occurrences_of(
                &sim,
                caller.user.id,
                state.start,
                state.end,
                &GraphTimeZone::utc(),
            );
            let mut current = HashMap::new();
            let mut items = Vec::new();
            for v in now {
                let id = v["id"].as_str().unwrap_or_default().to_owned();
                let ver = version(&v);
                if state.reported.get(&id) != Some(&ver) {
                    items.push(v);
                }
                current.insert(id, ver);
            }
            let mut gone: Vec<&String> = state
                .reported
                .keys()
                .filter(|id| !current.contains_key(*id))
                .collect();
            gone.sort();
            items.extend(gone.into_iter().map(|id| {
                json!({"@odata.type": "#microsoft.graph.event", "id": id,
                       "@removed": {"reason": "deleted"}})
            }));
            (items, current)
        }
    };
    let take = page_size.min(items.len());
    let (page, rest) = items.split_at(take);
    let more = !rest.is_empty();
    let next = CalendarDelta {
        reported: if more {
            state.reported.clone()
        } else {
            round_end.clone()
        },
        pending: more.then(|| (rest.to_vec(), round_end)),
        page_size,
        ..state
    };
    let next_token = random_token(32);
    sim.st()
        .calendar
        .delta_tokens
        .insert(next_token.clone(), next);
    let link = format!(
        "{}/v1.0/me/calendarView/delta?{}={next_token}",
        sim.base_url,
        if more { "$skiptoken" } else { "$deltatoken" }
    );
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(event)", sim.base_url),
        "value": page,
    });
    body[if more {
        "@odata.nextLink"
    } else {
        "@odata.deltaLink"
    }] = json!(link);
    let mut resp = axum::Json(body).into_response();
    if let Some(n) = page_pref {
        if let Ok(h) = HeaderValue::from_str(&format!("odata.maxpagesize={n}")) {
            resp.headers_mut().insert("preference-applied", h);
        }
    }
    Ok(resp)
}

/// Expire every calendar delta and skip token of a user (control API).
pub fn expire_tokens(st: &mut crate::state::State, user_id: &str) -> usize {
    let mut n = 0;
    for s in st.calendar.delta_tokens.values_mut() {
        if s.user_id == user_id && !s.expired {
            s.expired = true;
            n += 1;
        }
    }
    n
}
