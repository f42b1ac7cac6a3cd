//! Calendar routes, backed by the `graph-sim-calendar` model: getSchedule, events (create with
//! `transactionId` deduplication and Teams join URLs, get, list, update, delete, cancel,
//! accept/tentativelyAccept/decline) and calendarView. Meetings are delivered to the calendars
//! of seeded Exchange Online attendees; every change queues an `me/events` change notification
//! for the mailbox whose calendar changed.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDateTime, Utc};
use graph_sim_calendar::{
    get_schedule as model_get_schedule, iana_to_windows, prefer_outlook_timezone,
    schedule_response, Calendar, CalendarError, Event, GraphTimeZone, ResponseType,
    ScheduleRequest, ScheduleTarget, WorkingHours,
};
use serde_json::{json, Value};

use super::{authenticate, Caller, CAL_READ, CAL_WRITE};
use crate::directory::{self, MailboxKind, USERS};
use crate::notify::{self, Change, ResourceKind};
use crate::respond::{empty, json_status, GraphError, GraphResult};
use crate::state::State as SimState;
use crate::SimRef;

/// One mailbox's calendar and working hours.
#[derive(Debug, Clone)]
pub struct MailboxCalendar {
    pub calendar: Calendar,
    pub working_hours: WorkingHours,
}

/// Calendars of the seeded Exchange Online mailboxes (user id -> calendar).
#[derive(Debug, Default)]
pub struct CalendarState {
    pub mailboxes: HashMap<String, MailboxCalendar>,
    /// `calendarView/delta` skip and delta tokens.
    pub delta_tokens: HashMap<String, super::calendar_delta::CalendarDelta>,
}

/// Seeded organisers who cannot host Teams meetings (no Teams licence or meeting policy): an
/// event asked for with `isOnlineMeeting` is created as a plain one, still 201.
pub const WITHOUT_TEAMS: &[&str] = &["frank@contoso.example"];
/// Seeded mailboxes whose zone getSchedule reports as a `customTimeZone` (bias and transition
/// rules), as in Microsoft's getSchedule sample.
pub const CUSTOM_TIME_ZONE: &[&str] = &["grace@contoso.example"];

impl CalendarState {
    /// Every Exchange Online user gets an empty calendar and Mon-Fri 09:00-17:00 working hours
    /// in their mailbox zone (reported by its Windows id, or as a `customTimeZone` for
    /// [`CUSTOM_TIME_ZONE`]); the owners in [`WITHOUT_TEAMS`] cannot host Teams meetings.
    pub fn seeded() -> CalendarState {
        let mailboxes = USERS
            .iter()
            .filter(|u| u.mailbox == MailboxKind::Online)
            .map(|u| {
                let zone = iana_to_windows(u.time_zone).unwrap_or(u.time_zone);
                let mut working_hours =
                    WorkingHours::weekdays_nine_to_five(zone).expect("seeded zone is known");
                if CUSTOM_TIME_ZONE.contains(&u.upn) {
                    working_hours = working_hours.with_custom_time_zone();
                }
                let mut calendar = Calendar::new(u.upn, u.display_name);
                if WITHOUT_TEAMS.contains(&u.upn) {
                    calendar = calendar.without_teams();
                }
                (
                    u.id.to_string(),
                    MailboxCalendar {
                        calendar,
                        working_hours,
                    },
                )
            })
            .collect();
        CalendarState {
            mailboxes,
            delta_tokens: HashMap::new(),
        }
    }
}

pub fn routes() -> Router<SimRef> {
    Router::new()
        .route("/v1.0/me/calendar/getSchedule", post(get_schedule))
        .route("/v1.0/me/events", get(list_events).post(create_event))
        .route(
            "/v1.0/me/calendar/events",
            get(list_events).post(create_event),
        )
        .route(
            "/v1.0/me/events/{id}",
            get(get_event).patch(patch_event).delete(delete_event),
        )
        .route("/v1.0/me/events/{id}/{action}", post(event_action))
        .route(
            "/v1.0/me/calendarView/delta",
            get(super::calendar_delta::calendar_view_delta),
        )
        .route(
            "/v1.0/me/calendar/calendarView/delta",
            get(super::calendar_delta::calendar_view_delta),
        )
        .route("/v1.0/me/calendarView", get(calendar_view))
        .route("/v1.0/me/calendar/calendarView", get(calendar_view))
}

type Q = Query<HashMap<String, String>>;

pub fn cal_error(e: CalendarError) -> GraphError {
    GraphError::new(
        StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
        e.code(),
        e.message(),
    )
}

fn parse_body(body: &[u8]) -> Result<Value, GraphError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "RequestBodyRead",
            format!("Invalid request body: {e}"),
        )
    })
}

/// The `Prefer: outlook.timezone` zone, UTC when absent.
fn output_zone(headers: &HeaderMap) -> Result<GraphTimeZone, GraphError> {
    let joined = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    match prefer_outlook_timezone(&joined) {
        None => Ok(GraphTimeZone::utc()),
        Some(r) => r.map_err(cal_error),
    }
}

/// Authenticate, check the scope and the mailbox.
pub(super) fn caller_for(
    sim: &SimRef,
    headers: &HeaderMap,
    write: bool,
) -> Result<Caller, GraphError> {
    let caller = authenticate(sim, headers)?;
    caller.require_any(if write { CAL_WRITE } else { CAL_READ })?;
    caller.require_mailbox()?;
    if !sim.st().calendar.mailboxes.contains_key(caller.user.id) {
        return Err(GraphError::mailbox_not_enabled());
    }
    Ok(caller)
}

fn context(sim: &SimRef, user_id: &str, tail: &str) -> String {
    format!("{}/v1.0/$metadata#users('{user_id}')/{tail}", sim.base_url)
}

fn change(user_id: &str, change_type: &'static str, e: &Event) -> Change {
    Change {
        user_id: user_id.to_string(),
        kind: ResourceKind::Events,
        change_type,
        id: e.id.clone(),
        immutable_id: e.id.clone(),
        folder_id: None,
        etag: (change_type != "deleted").then(|| e.etag()),
    }
}

/// Seeded Exchange Online mailboxes (user ids) among the event's attendees, other than `owner`.
fn seeded_attendees(ev: &Event, owner: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for a in &ev.attendees {
        if let Some(u) = directory::user(&a.email_address.address) {
            if u.mailbox == MailboxKind::Online && u.id != owner && !out.contains(&u.id) {
                out.push(u.id);
            }
        }
    }
    out
}

/// Put (or refresh) the organizer's meeting in each seeded attendee's calendar.
pub fn deliver_invitations(st: &mut SimState, owner: &str, ev: &Event, now: DateTime<Utc>) {
    for uid in seeded_attendees(ev, owner) {
        let Some(mc) = st.calendar.mailboxes.get_mut(uid) else {
            continue;
        };
        let existed = mc.calendar.find_by_ical_uid(&ev.ical_uid).is_some();
        let copy = mc.calendar.deliver_invitation(ev, now).clone();
        let kind = if existed { "updated" } else { "created" };
        st.outbox.push(change(uid, kind, &copy));
    }
}

/// Mark the attendees' copies of a meeting cancelled.
pub fn deliver_cancellations(
    st: &mut SimState,
    owner: &str,
    ev: &Event,
    only: Option<&[&'static str]>,
    now: DateTime<Utc>,
) {
    let targets = match only {
        Some(list) => list.to_vec(),
        None => seeded_attendees(ev, owner),
    };
    for uid in targets {
        let Some(mc) = st.calendar.mailboxes.get_mut(uid) else {
            continue;
        };
        if let Some(copy) = mc.calendar.deliver_cancellation(&ev.ical_uid, now).cloned() {
            st.outbox.push(change(uid, "updated", &copy));
        }
    }
}

/// Create an event organised by `user_id` (Graph and control API). Returns the event and
/// whether it is new (false for a repeated `transactionId`).
pub fn create_in(
    st: &mut SimState,
    user_id: &str,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<(Event, bool), GraphError> {
    let mc = st
        .calendar
        .mailboxes
        .get_mut(user_id)
        .ok_or_else(GraphError::mailbox_not_enabled)?;
    let created = mc
        .calendar
        .create_event_from_json(body, now)
        .map_err(cal_error)?;
    let (ev, is_new) = (created.event.clone(), created.created);
    if is_new {
        st.outbox.push(change(user_id, "created", &ev));
        deliver_invitations(st, user_id, &ev, now);
    }
    Ok((ev, is_new))
}

/// Delete an event; a meeting the owner organises is cancelled for its attendees.
pub fn delete_in(
    st: &mut SimState,
    user_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Event, GraphError> {
    let mc = st
        .calendar
        .mailboxes
        .get_mut(user_id)
        .ok_or_else(GraphError::mailbox_not_enabled)?;
    let ev = mc.calendar.delete_event(id).map_err(cal_error)?;
    st.outbox.push(change(user_id, "deleted", &ev));
    if ev.is_organizer {
        deliver_cancellations(st, user_id, &ev, None, now);
    }
    Ok(ev)
}

/// Graph JSON of every event of a user (series not expanded; times in UTC), for the control API.
pub fn events_of(sim: &SimRef, user_id: &str) -> Vec<Value> {
    let st = sim.st();
    let Some(mc) = st.calendar.mailboxes.get(user_id) else {
        return Vec::new();
    };
    mc.calendar
        .events()
        .map(|e| {
            let mut v = e.to_graph_json(&GraphTimeZone::utc());
            v["owner"] = json!(mc.calendar.owner().address);
            v
        })
        .collect()
}

/// Expanded occurrences of a user's calendar in a window (control API and calendarView).
pub fn occurrences_of(
    sim: &SimRef,
    user_id: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    zone: &GraphTimeZone,
) -> Vec<Value> {
    let st = sim.st();
    let Some(mc) = st.calendar.mailboxes.get(user_id) else {
        return Vec::new();
    };
    mc.calendar
        .occurrences(start, end)
        .iter()
        .map(|o| o.to_graph_json(zone))
        .collect()
}

/// A `startDateTime`/`endDateTime` query value: ISO 8601 with an offset, or without one (UTC).
pub fn parse_query_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .map(|n| n.and_utc())
}

fn query_ci<'a>(q: &'a HashMap<String, String>, key: &str) -> Option<&'a String> {
    q.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn window_of(q: &HashMap<String, String>) -> Result<(DateTime<Utc>, DateTime<Utc>), GraphError> {
    let missing = || {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
        )
    };
    let start = query_ci(q, "startDateTime").ok_or_else(missing)?;
    let end = query_ci(q, "endDateTime").ok_or_else(missing)?;
    let bad = |v: &str| GraphError::bad_request(format!("Invalid date/time value '{v}'."));
    let s = parse_query_time(start).ok_or_else(|| bad(start))?;
    let e = parse_query_time(end).ok_or_else(|| bad(end))?;
    Ok((s, e))
}

/// `$select`: keep `@odata.etag`, `id` and the selected properties.
fn select(v: Value, q: &HashMap<String, String>) -> Value {
    let Some(sel) = query_ci(q, "$select") else {
        return v;
    };
    let fields: Vec<&str> = sel.split(',').map(str::trim).collect();
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| k == "@odata.etag" || k == "id" || fields.iter().any(|f| f == k))
                .collect(),
        ),
        other => other,
    }
}

async fn get_schedule(
    State(sim): State<SimRef>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    caller_for(&sim, &headers, false)?;
    let zone = output_zone(&headers)?;
    let body = super::mail::bind_action_parameters(parse_body(&body)?);
    let req = ScheduleRequest::from_json(&body).map_err(cal_error)?;
    let st = sim.st();
    let cals = &st.calendar.mailboxes;
    let entries = model_get_schedule(&req, &zone, |addr| match directory::user(addr) {
        None => ScheduleTarget::Unknown,
        Some(u) if u.mailbox == MailboxKind::NotEnabled => ScheduleTarget::OnPremises,
        Some(u) => match cals.get(u.id) {
            Some(mc) => ScheduleTarget::Known {
                calendar: &mc.calendar,
                working_hours: &mc.working_hours,
            },
            None => ScheduleTarget::Unknown,
        },
    })
    .map_err(cal_error)?;
    Ok(axum::Json(schedule_response(&entries)).into_response())
}

async fn list_events(State(sim): State<SimRef>, headers: HeaderMap, Query(q): Q) -> GraphResult {
    let caller = caller_for(&sim, &headers, false)?;
    let zone = output_zone(&headers)?;
    let value: Vec<Value> = {
        let st = sim.st();
        let mc = &st.calendar.mailboxes[caller.user.id];
        mc.calendar
            .events()
            .map(|e| select(e.to_graph_json(&zone), &q))
            .collect()
    };
    Ok(axum::Json(json!({
        "@odata.context": context(&sim, caller.user.id, "events"),
        "value": value,
    }))
    .into_response())
}

async fn get_event(
    State(sim): State<SimRef>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Q,
) -> GraphResult {
    let caller = caller_for(&sim, &headers, false)?;
    let zone = output_zone(&headers)?;
    let mut v = {
        let st = sim.st();
        let mc = &st.calendar.mailboxes[caller.user.id];
        match mc.calendar.get(&id) {
            Some(e) => e.to_graph_json(&zone),
            None => mc
                .calendar
                .get_occurrence(&id)
                .map(|o| o.to_graph_json(&zone))
                .ok_or_else(GraphError::not_found)?,
        }
    };
    v = select(v, &q);
    if let Value::Object(m) = &mut v {
        let mut out = serde_json::Map::new();
        out.insert(
            "@odata.context".into(),
            json!(context(&sim, caller.user.id, "events/$entity")),
        );
        out.extend(std::mem::take(m));
        *m = out;
    }
    Ok(axum::Json(v).into_response())
}

fn with_context(sim: &SimRef, user_id: &str, ev: &Event, zone: &GraphTimeZone) -> Value {
    let mut out = serde_json::Map::new();
    out.insert(
        "@odata.context".into(),
        json!(context(sim, user_id, "events/$entity")),
    );
    if let Value::Object(m) = ev.to_graph_json(zone) {
        out.extend(m);
    }
    Value::Object(out)
}

async fn create_event(
    State(sim): State<SimRef>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = caller_for(&sim, &headers, true)?;
    let zone = output_zone(&headers)?;
    let body = parse_body(&body)?;
    let now = sim.now();
    let res = {
        let mut st = sim.st();
        create_in(&mut st, caller.user.id, &body, now)
    };
    notify::dispatch(&sim);
    let (ev, _) = res?;
    Ok(json_status(
        StatusCode::CREATED,
        with_context(&sim, caller.user.id, &ev, &zone),
    ))
}

async fn patch_event(
    State(sim): State<SimRef>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = caller_for(&sim, &headers, true)?;
    let zone = output_zone(&headers)?;
    let body = parse_body(&body)?;
    let now = sim.now();
    let uid = caller.user.id;
    let res = {
        let mut st = sim.st();
        let mc = st.calendar.mailboxes.get_mut(uid).expect("checked");
        let before = mc.calendar.get(&id).cloned();
        match mc.calendar.update_event_from_json(&id, &body, now) {
            Err(e) => Err(cal_error(e)),
            Ok(ev) => {
                let ev = ev.clone();
                st.outbox.push(change(uid, "updated", &ev));
                if ev.is_organizer {
                    // Attendees who were dropped get a cancellation; the others an update.
                    let now_invited = seeded_attendees(&ev, uid);
                    if let Some(before) = &before {
                        let dropped: Vec<&'static str> = seeded_attendees(before, uid)
                            .into_iter()
                            .filter(|u| !now_invited.contains(u))
                            .collect();
                        deliver_cancellations(&mut st, uid, &ev, Some(&dropped), now);
                    }
                    deliver_invitations(&mut st, uid, &ev, now);
                }
                Ok(ev)
            }
        }
    };
    notify::dispatch(&sim);
    let ev = res?;
    Ok(axum::Json(with_context(&sim, uid, &ev, &zone)).into_response())
}

async fn delete_event(
    State(sim): State<SimRef>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> GraphResult {
    let caller = caller_for(&sim, &headers, true)?;
    let now = sim.now();
    let res = {
        let mut st = sim.st();
        delete_in(&mut st, caller.user.id, &id, now)
    };
    notify::dispatch(&sim);
    res?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `cancel` (organizer), `accept` / `tentativelyAccept` / `decline` (attendee).
async fn event_action(
    State(sim): State<SimRef>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = caller_for(&sim, &headers, true)?;
    let body = super::mail::bind_action_parameters(parse_body(&body)?);
    let action = super::mail::action_name(&action).to_owned();
    if let Some(c) = body.get("comment") {
        if !c.is_string() && !c.is_null() {
            return Err(GraphError::bad_request("'comment' must be a string."));
        }
    }
    let now = sim.now();
    let uid = caller.user.id;
    let response = match action.as_str() {
        "cancel" => None,
        "accept" => Some(ResponseType::Accepted),
        "tentativelyAccept" => Some(ResponseType::TentativelyAccepted),
        "decline" => Some(ResponseType::Declined),
        other => {
            return Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("Resource not found for the segment '{other}'."),
            ))
        }
    };
    let res: Result<(), GraphError> = {
        let mut st = sim.st();
        match response {
            None => match st
                .calendar
                .mailboxes
                .get_mut(uid)
                .expect("checked")
                .calendar
                .cancel_event(&id)
            {
                Err(e) => Err(cal_error(e)),
                Ok(ev) => {
                    st.outbox.push(change(uid, "deleted", &ev));
                    deliver_cancellations(&mut st, uid, &ev, None, now);
                    Ok(())
                }
            },
            Some(r) => {
                let proposed = match body.get("proposedNewTime") {
                    None | Some(Value::Null) => None,
                    Some(slot) => Some(proposed_slot(slot)?),
                };
                respond_in(&mut st, uid, caller.user.upn, &id, r, proposed, now)
            }
        }
    };
    notify::dispatch(&sim);
    res?;
    Ok(empty(StatusCode::ACCEPTED))
}

/// A `proposedNewTime` parameter (`timeSlot`: `start`/`end` as `dateTimeTimeZone`).
pub fn proposed_slot(v: &Value) -> Result<(DateTime<Utc>, DateTime<Utc>), GraphError> {
    let at = |key: &str| {
        let t = &v[key];
        let zone =
            graph_sim_calendar::GraphTimeZone::parse(t["timeZone"].as_str().unwrap_or("UTC"))
                .map_err(cal_error)?;
        let local = t["dateTime"]
            .as_str()
            .and_then(parse_query_time)
            .ok_or_else(|| {
                GraphError::bad_request(format!(
                    "'proposedNewTime.{key}' is not a dateTimeTimeZone."
                ))
            })?;
        Ok::<_, GraphError>(zone.from_local(local.naive_utc()))
    };
    let (start, end) = (at("start")?, at("end")?);
    if end <= start {
        return Err(GraphError::bad_request(
            "'proposedNewTime.end' must be after its start.",
        ));
    }
    Ok((start, end))
}

/// One occurrence of `uid`'s series moved (`Some`) or cancelled (`None`), as Outlook's "this
/// occurrence": the series master's attendees get the change in their copies.
pub fn change_occurrence_in(
    st: &mut SimState,
    uid: &str,
    occurrence_id: &str,
    to: Option<(DateTime<Utc>, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Result<Event, GraphError> {
    let mc = st
        .calendar
        .mailboxes
        .get_mut(uid)
        .ok_or_else(GraphError::mailbox_not_enabled)?;
    let master = mc
        .calendar
        .change_occurrence(occurrence_id, to, now)
        .map_err(cal_error)?
        .clone();
    st.outbox.push(change(uid, "updated", &master));
    if master.is_organizer {
        deliver_invitations(st, uid, &master, now);
    }
    Ok(master)
}

/// An attendee (`uid`, address `me`) answers a meeting: their copy changes (a decline removes
/// it) and the organizer's event records the answer, each with its change notification.
pub fn respond_in(
    st: &mut SimState,
    uid: &str,
    me: &str,
    id: &str,
    r: ResponseType,
    proposed: Option<(DateTime<Utc>, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Result<(), GraphError> {
    let mc = st
        .calendar
        .mailboxes
        .get_mut(uid)
        .ok_or_else(GraphError::mailbox_not_enabled)?;
    let before = mc.calendar.get(id).cloned();
    let ical_uid = mc.calendar.respond(id, r, now).map_err(cal_error)?;
    match mc.calendar.get(id).cloned() {
        Some(ev) => st.outbox.push(change(uid, "updated", &ev)),
        None => {
            if let Some(b) = &before {
                st.outbox.push(change(uid, "deleted", b));
            }
        }
    }
    // Record the answer on the organizer's event.
    if let Some(org) = before
        .as_ref()
        .and_then(|b| directory::user(&b.organizer.address))
    {
        if let Some(omc) = st.calendar.mailboxes.get_mut(org.id) {
            let recorded = omc
                .calendar
                .record_attendee_response(&ical_uid, me, r, now)
                .is_some();
            if let Some(oev) = recorded
                .then(|| {
                    omc.calendar
                        .record_proposed_time(&ical_uid, me, proposed, now)
                })
                .flatten()
                .cloned()
            {
                st.outbox.push(change(org.id, "updated", &oev));
            }
        }
    }
    Ok(())
}

async fn calendar_view(State(sim): State<SimRef>, headers: HeaderMap, Query(q): Q) -> GraphResult {
    let caller = caller_for(&sim, &headers, false)?;
    let zone = output_zone(&headers)?;
    let (start, end) = window_of(&q)?;
    let value: Vec<Value> = occurrences_of(&sim, caller.user.id, start, end, &zone)
        .into_iter()
        .map(|v| select(v, &q))
        .collect();
    Ok(axum::Json(json!({
        "@odata.context": context(&sim, caller.user.id, "calendarView"),
        "value": value,
    }))
    .into_response())
}
