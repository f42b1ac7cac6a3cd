//! The scheduling-link use cases. API side: [`create`], [`get`], [`patch`], [`delete`]. Page
//! side (the token is the credential): [`open`], [`offered_slots`], [`book`], [`reschedule`],
//! [`cancel`], [`ensure_event`].

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::model::{BookingRecord, Link, LinkSpec, LinkStatus, LinkToken};
use super::pools::{fairness_window, lease_buckets, pick_members};
use crate::app::Connector;
use crate::domain::{ConnectionId, EmailAddress, GraphId, ParseError};
use crate::graph::GraphError;
use crate::outbox::{self, OutboxEntry};
use crate::scheduling::service::{
    calendar_access, read_schedules, EventView, OnlineMeetingState, SchedulingError,
};
use crate::scheduling::slots::{find_slots, Availability, BusyItem, FreeBusyStatus, SlotRules};
use crate::store::links::{bookings_per_interviewer, Lease, LeaseChanges, LinkWriteLost};
use crate::store::StoreError;
use crate::tokens::with_access_token;

/// Most slots the page offers at once (it must stay one small HTML response).
pub const MAX_OFFERED_SLOTS: usize = 300;
/// Booking attempts per link per minute, and per client IP per minute.
pub const BOOKINGS_PER_LINK_PER_MINUTE: u32 = 30;
pub const BOOKINGS_PER_IP_PER_MINUTE: u32 = 20;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Unknown link, or a token that is not the link's: the same answer for both.
    #[error("no such scheduling link")]
    NotFound,
    /// The link cannot do this in its state (booked, expired, cancelled; or not booked yet).
    #[error("the scheduling link is {0:?}")]
    NotOpen(LinkStatus),
    #[error("the link is not booked")]
    NotBooked,
    /// Another booking took an interviewer for an overlapping time first, or Graph now shows
    /// someone busy.
    #[error("this time was just taken")]
    SlotTaken,
    #[error("the time is not one this link offers")]
    SlotNotOffered,
    #[error("too many booking attempts; try again in a minute")]
    RateLimited,
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error(transparent)]
    Scheduling(#[from] SchedulingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::tokens::TokenServiceError> for LinkError {
    fn from(e: crate::tokens::TokenServiceError) -> Self {
        Self::Scheduling(e.into())
    }
}

impl crate::graph::GraphCause for LinkError {
    fn graph(&self) -> Option<&GraphError> {
        match self {
            Self::Scheduling(e) => e.graph(),
            _ => None,
        }
    }
}

/// `201` body of a created link. The URL carries the link's only credential: it is shown here,
/// once, and never stored.
#[derive(Debug, Serialize)]
pub struct CreatedLink {
    pub id: String,
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// A link as the API shows it.
#[derive(Debug, Serialize)]
pub struct LinkView {
    pub id: String,
    pub status: LinkStatus,
    #[serde(flatten)]
    pub spec: LinkSpec,
    pub booking: Option<BookingRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl LinkView {
    fn of(link: Link, now: DateTime<Utc>) -> Self {
        Self {
            id: link.id.clone(),
            status: link.status(now),
            spec: link.spec,
            booking: link.booking,
            created_at: link.created_at,
            updated_at: link.updated_at,
        }
    }
}

/// A time the page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferedSlot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A link opened by its token, with what the page shows of the organiser.
#[derive(Debug, Clone)]
pub struct PageLink {
    pub link: Link,
    pub organiser_name: String,
    pub organiser_email: String,
}

/// What the candidate submitted.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    pub start: DateTime<Utc>,
    pub name: String,
    pub email: EmailAddress,
    /// The zone the candidate was shown (IANA), kept for their confirmation.
    pub time_zone: String,
}

// ------------------------------------------------------------------ API side

/// Creates a link on the organiser's connection; `base` is the public base URL of the page.
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn create(
    c: &Connector,
    id: &ConnectionId,
    spec: LinkSpec,
    base: &url::Url,
    now: DateTime<Utc>,
) -> Result<CreatedLink, LinkError> {
    calendar_access(c, id).await?;
    let link_id = uuid::Uuid::new_v4().to_string();
    let token = LinkToken::generate(&link_id);
    let link = Link {
        id: link_id.clone(),
        connection_id: id.as_str().to_owned(),
        token_hash: token.secret_hash(),
        spec,
        stored_status: LinkStatus::Open,
        booking: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    c.store.create_link(&link).await?;
    tracing::info!(link_id = %link_id, "scheduling link created");
    let url = page_url(base, &token, "");
    Ok(CreatedLink {
        id: link_id,
        url,
        expires_at: link.spec.expires_at,
    })
}

/// The page's URL for `token` (`suffix` e.g. `/manage`).
pub fn page_url(base: &url::Url, token: &LinkToken, suffix: &str) -> String {
    format!(
        "{}/s/{}{suffix}",
        base.as_str().trim_end_matches('/'),
        token.expose()
    )
}

/// A link of connection `id` (another connection's link is not found, like an unknown one).
async fn owned(c: &Connector, id: &ConnectionId, link_id: &str) -> Result<Link, LinkError> {
    if uuid::Uuid::parse_str(link_id).is_err() {
        return Err(LinkError::NotFound);
    }
    match c.store.get_link(link_id).await? {
        Some(link) if link.connection_id == id.as_str() => Ok(link),
        _ => Err(LinkError::NotFound),
    }
}

pub async fn get(
    c: &Connector,
    id: &ConnectionId,
    link_id: &str,
    now: DateTime<Utc>,
) -> Result<LinkView, LinkError> {
    Ok(LinkView::of(owned(c, id, link_id).await?, now))
}

/// Changes an open link's wording, candidate or expiry.
#[tracing::instrument(skip_all, fields(connection_id = %id, link_id))]
pub async fn patch(
    c: &Connector,
    id: &ConnectionId,
    link_id: &str,
    change: super::LinkPatchBody,
    now: DateTime<Utc>,
) -> Result<LinkView, LinkError> {
    let link = owned(c, id, link_id).await?;
    let status = link.status(now);
    if status != LinkStatus::Open {
        return Err(LinkError::NotOpen(status));
    }
    let mut next = link.clone();
    next.spec.patch(change, now)?;
    next.version += 1;
    next.updated_at = now;
    write(c, &next, link.version, no_leases(), None)
        .await?
        .map_err(|_| LinkError::NotOpen(LinkStatus::Booked))?;
    Ok(LinkView::of(next, now))
}

/// Cancels a link; a booked one's interview is cancelled for everyone too.
#[tracing::instrument(skip_all, fields(connection_id = %id, link_id))]
pub async fn delete(
    c: &Connector,
    id: &ConnectionId,
    link_id: &str,
    now: DateTime<Utc>,
) -> Result<(), LinkError> {
    let link = owned(c, id, link_id).await?;
    match link.stored_status {
        LinkStatus::Cancelled | LinkStatus::Expired => Ok(()),
        LinkStatus::Booked => {
            cancel_booked(
                c,
                link,
                "The interview was cancelled by the organiser.",
                now,
            )
            .await
        }
        LinkStatus::Open => {
            let mut next = link.clone();
            next.stored_status = LinkStatus::Cancelled;
            next.version += 1;
            next.updated_at = now;
            write(c, &next, link.version, no_leases(), None)
                .await?
                .map_err(|_| LinkError::NotOpen(LinkStatus::Booked))
        }
    }
}

// ------------------------------------------------------------------ page side

/// The link `raw` names, if `raw` is its token. Expired and used links are returned too: the
/// page tells the candidate what happened to them.
pub async fn open(c: &Connector, token: &LinkToken) -> Result<PageLink, LinkError> {
    let link = c
        .store
        .get_link(&token.link_id)
        .await?
        .filter(|l| l.admits(token))
        .ok_or(LinkError::NotFound)?;
    let connection = link.connection()?;
    let organiser = c.store.get_connection(&connection).await?;
    let (organiser_name, organiser_email) = organiser
        .map(|o| (o.display_name, o.email))
        .unwrap_or_default();
    Ok(PageLink {
        link,
        organiser_name,
        organiser_email,
    })
}

fn rules(spec: &LinkSpec, from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> SlotRules {
    SlotRules {
        start: from.max(spec.window_start),
        end: to.min(spec.window_end),
        zone: spec.zone().tz(),
        duration: spec.duration(),
        granularity: Duration::minutes(spec.granularity_minutes),
        buffer_before: Duration::minutes(spec.buffer_before_minutes),
        buffer_after: Duration::minutes(spec.buffer_after_minutes),
        min_notice: Duration::minutes(spec.min_notice_minutes),
        now,
        within_working_hours: true,
        treat_tentative_as_busy: true,
        max_results: usize::MAX,
    }
}

/// Every interviewer's availability over `[from, to)` (widened by the buffers): Graph's
/// free/busy, plus the leases other bookings hold (a booking Graph does not show yet still
/// blocks). `own` is a booking being rescheduled: its leases and its event do not block.
async fn panel(
    c: &Connector,
    link: &Link,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    own: Option<&BookingRecord>,
) -> Result<Vec<Availability>, LinkError> {
    let spec = &link.spec;
    let margin = Duration::minutes(spec.buffer_before_minutes.max(spec.buffer_after_minutes));
    let (from, to) = (from - margin, to + margin);
    let everyone: Vec<EmailAddress> = spec
        .interviewers()
        .iter()
        .map(|a| EmailAddress::parse("interviewers", a))
        .collect::<Result<_, _>>()?;
    let connection = link.connection()?;
    let zone = spec.zone();
    let everyone_ref = &everyone;
    let schedules = with_access_token(c, &connection, |token| async move {
        read_schedules(
            c,
            &token,
            everyone_ref,
            from,
            to,
            Duration::minutes(30),
            zone,
        )
        .await
    })
    .await?;
    let mut out = Vec::with_capacity(schedules.len());
    for s in schedules {
        let mut a = s.availability;
        if let Some(own) = own {
            // The interview being moved shows in Graph as busy: it is the one that moves.
            a.busy
                .retain(|b| !(b.start == own.start && b.end == own.end));
        }
        let bucket = Duration::minutes(super::LEASE_BUCKET_MINUTES);
        let leases = c
            .store
            .leases_of(a.address.as_str(), from - bucket, to)
            .await?;
        let mut held: HashSet<(DateTime<Utc>, DateTime<Utc>)> = HashSet::new();
        for l in leases {
            if own.is_some_and(|o| o.booking_id == l.booking_id) {
                continue;
            }
            held.insert((l.slot_start, l.slot_end));
        }
        a.busy.extend(held.into_iter().map(|(start, end)| BusyItem {
            start,
            end,
            status: FreeBusyStatus::Busy,
        }));
        a.busy.sort_by_key(|b| (b.start, b.end));
        out.push(a);
    }
    Ok(out)
}

/// Slots in `[from, to)` where every required interviewer and `pick` members of every pool are
/// free, in time order, with the members free for each.
fn bookable(
    spec: &LinkSpec,
    availability: &[Availability],
    rules: &SlotRules,
) -> Vec<(OfferedSlot, HashSet<String>)> {
    let (required, members) = availability.split_at(spec.required.len());
    let outcome = find_slots(required, members, rules);
    let mut slots: Vec<(OfferedSlot, HashSet<String>)> = outcome
        .slots
        .into_iter()
        .filter_map(|s| {
            let free: HashSet<String> = s
                .optional_free
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect();
            let pools_ok = spec
                .pools
                .iter()
                .all(|p| p.members.iter().filter(|m| free.contains(*m)).count() >= p.pick);
            pools_ok.then_some((
                OfferedSlot {
                    start: s.start,
                    end: s.end,
                },
                free,
            ))
        })
        .collect();
    slots.sort_by_key(|(s, _)| s.start);
    slots
}

/// The slots the page offers now, in time order, at most `max_slots_per_day` per day of the
/// organiser's zone and [`MAX_OFFERED_SLOTS`] in all. `own` excludes the booking being moved.
pub async fn offered_slots(
    c: &Connector,
    link: &Link,
    own: Option<&BookingRecord>,
    now: DateTime<Utc>,
) -> Result<Vec<OfferedSlot>, LinkError> {
    let spec = &link.spec;
    let from = spec
        .window_start
        .max(now + Duration::minutes(spec.min_notice_minutes));
    if from + spec.duration() > spec.window_end {
        return Ok(Vec::new());
    }
    let availability = panel(c, link, from, spec.window_end, own).await?;
    let rules = rules(spec, from, spec.window_end, now);
    let zone = spec.zone().tz();
    let mut per_day: HashMap<chrono::NaiveDate, u32> = HashMap::new();
    let mut out = Vec::new();
    for (slot, _) in bookable(spec, &availability, &rules) {
        if own.is_some_and(|o| o.start == slot.start) {
            continue;
        }
        let day = slot.start.with_timezone(&zone).date_naive();
        let count = per_day.entry(day).or_default();
        if spec.max_slots_per_day.is_some_and(|max| *count >= max) {
            continue;
        }
        *count += 1;
        out.push(slot);
        if out.len() == MAX_OFFERED_SLOTS {
            break;
        }
    }
    Ok(out)
}

/// Re-checks one slot against Graph and the leases, and picks the pool members for it.
async fn recheck(
    c: &Connector,
    link: &Link,
    start: DateTime<Utc>,
    own: Option<&BookingRecord>,
    now: DateTime<Utc>,
) -> Result<(OfferedSlot, Vec<String>), LinkError> {
    let spec = &link.spec;
    let end = start + spec.duration();
    if start < spec.window_start || end > spec.window_end {
        return Err(LinkError::SlotNotOffered);
    }
    let availability = panel(c, link, start, end, own).await?;
    let rules = rules(spec, start, end, now);
    let Some((slot, free)) = bookable(spec, &availability, &rules)
        .into_iter()
        .find(|(s, _)| s.start == start)
    else {
        // Not aligned or too soon is "not offered"; otherwise someone became busy.
        let aligned = bookable_ignoring_busy(spec, &rules, start);
        return Err(if aligned {
            LinkError::SlotTaken
        } else {
            LinkError::SlotNotOffered
        });
    };
    // Fairness: interviews each pool member has through the connector in the surrounding week.
    let (week_from, week_to) = fairness_window(start);
    let mut week: Vec<Lease> = Vec::new();
    for member in spec.pools.iter().flat_map(|p| &p.members) {
        let leases = c.store.leases_of(member, week_from, week_to).await?;
        week.extend(
            leases
                .into_iter()
                .filter(|l| own.is_none_or(|o| o.booking_id != l.booking_id)),
        );
    }
    let counts = bookings_per_interviewer(&week);
    let picked = pick_members(&spec.pools, &free, &counts).ok_or(LinkError::SlotTaken)?;
    let mut interviewers = spec.required.clone();
    interviewers.extend(picked);
    Ok((slot, interviewers))
}

/// Whether `start` would be offered if nobody were busy (aligned, in the window, after notice).
fn bookable_ignoring_busy(spec: &LinkSpec, rules: &SlotRules, start: DateTime<Utc>) -> bool {
    let free: Vec<Availability> = spec
        .interviewers()
        .iter()
        .filter_map(|a| EmailAddress::parse("interviewers", a).ok())
        .map(|address| Availability {
            address,
            status: crate::scheduling::slots::ScheduleStatus::Ok,
            busy: Vec::new(),
            working_hours: None,
        })
        .collect();
    bookable(spec, &free, rules)
        .iter()
        .any(|(s, _)| s.start == start)
}

fn leases_for(link: &Link, booking: &BookingRecord) -> Vec<Lease> {
    let buckets = lease_buckets(booking.start, booking.end);
    booking
        .interviewers
        .iter()
        .flat_map(|address| {
            buckets.iter().map(move |bucket| Lease {
                address: address.clone(),
                bucket: *bucket,
                booking_id: booking.booking_id.clone(),
                link_id: link.id.clone(),
                slot_start: booking.start,
                slot_end: booking.end,
            })
        })
        .collect()
}

fn no_leases() -> LeaseChanges<'static> {
    LeaseChanges {
        take: &[],
        release: &[],
        previous_booking: None,
    }
}

async fn write(
    c: &Connector,
    link: &Link,
    expected: u64,
    leases: LeaseChanges<'_>,
    outbox_entry: Option<&OutboxEntry>,
) -> Result<Result<(), LinkWriteLost>, LinkError> {
    Ok(c.store
        .write_link(link, expected, leases, outbox_entry)
        .await?)
}

/// Delivers an outbox entry just written; a failure leaves it for the scheduled drain.
async fn announce(c: &Connector, entry: &OutboxEntry) {
    if let Err(e) = outbox::deliver(c, std::slice::from_ref(entry)).await {
        tracing::warn!(error = %crate::http::chain(&e), "event left in the outbox for the next drain");
    }
}

fn event_detail(link: &Link, booking: &BookingRecord) -> serde_json::Value {
    serde_json::json!({
        "event_id": uuid::Uuid::new_v4().to_string(),
        "link_id": link.id,
        "connection_id": link.connection_id,
        "graph_event_id": booking.event_id,
        "start": booking.start,
        "end": booking.end,
        "interviewers": booking.interviewers,
        "candidate": {"name": booking.candidate_name, "email": booking.candidate_email},
        "join_url": booking.join_url,
        "online_meeting": booking.online_meeting,
    })
}

/// The Graph `transactionId` of a booking: stable per booking, so a retry after a lost answer
/// or a crash returns the event created the first time.
fn transaction_id(link: &Link, booking: &BookingRecord) -> String {
    let digest = Sha256::new()
        .chain_update(b"m365-connector/scheduling-link\n")
        .chain_update(link.id.as_bytes())
        .chain_update(b"\n")
        .chain_update(booking.booking_id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

fn event_time(t: DateTime<Utc>, link: &Link) -> serde_json::Value {
    let zone = link.spec.zone();
    serde_json::json!({
        "dateTime": t.with_timezone(&zone.tz()).format("%Y-%m-%dT%H:%M:%S").to_string(),
        "timeZone": zone.windows_id().unwrap_or(zone.name()),
    })
}

fn attendees(booking: &BookingRecord) -> serde_json::Value {
    let mut list: Vec<serde_json::Value> = booking
        .interviewers
        .iter()
        .map(|a| serde_json::json!({"emailAddress": {"address": a}, "type": "required"}))
        .collect();
    list.push(serde_json::json!({
        "emailAddress": {"address": booking.candidate_email, "name": booking.candidate_name},
        "type": "required",
    }));
    list.into()
}

/// Creates the booked interview in the organiser's calendar (idempotent by `transactionId`).
async fn create_event(
    c: &Connector,
    link: &Link,
    booking: &BookingRecord,
) -> Result<EventView, LinkError> {
    let spec = &link.spec;
    let mut event = serde_json::json!({
        "subject": spec.title,
        "attendees": attendees(booking),
        "transactionId": transaction_id(link, booking),
        "isOnlineMeeting": spec.online_meeting,
        "start": event_time(booking.start, link),
        "end": event_time(booking.end, link),
    });
    if spec.online_meeting {
        event["onlineMeetingProvider"] = "teamsForBusiness".into();
    }
    if let Some(d) = &spec.description {
        event["body"] = serde_json::json!({"contentType": "text", "content": d});
    }
    if let Some(l) = &spec.location {
        event["location"] = serde_json::json!({"displayName": l});
    }
    let connection = link.connection()?;
    let event = &event;
    let created = with_access_token(c, &connection, |token| async move {
        c.graph
            .create_event(&token, event)
            .await
            .map_err(|e| LinkError::Scheduling(e.into()))
    })
    .await?;
    Ok(EventView::of(created, spec.online_meeting))
}

fn with_event(mut booking: BookingRecord, event: EventView) -> BookingRecord {
    booking.event_id = Some(event.id);
    booking.join_url = event.join_url;
    booking.online_meeting = event.online_meeting;
    booking
}

/// Rate limits of the booking routes: per link and per client IP.
async fn admit(
    c: &Connector,
    link: &Link,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), LinkError> {
    let per_link = c
        .store
        .rate_limit_hit("link", &link.id, BOOKINGS_PER_LINK_PER_MINUTE, now)
        .await?;
    let per_ip = match ip {
        Some(ip) => {
            c.store
                .rate_limit_hit("ip", ip, BOOKINGS_PER_IP_PER_MINUTE, now)
                .await?
        }
        None => true,
    };
    if per_link && per_ip {
        Ok(())
    } else {
        Err(LinkError::RateLimited)
    }
}

/// Books `request.start` on an open link: re-check, take the link and the leases in one
/// transaction, create the event, record it (with the `scheduling_link.booked` event).
#[tracing::instrument(skip_all, fields(link_id = %page.link.id))]
pub async fn book(
    c: &Connector,
    page: &PageLink,
    request: &BookingRequest,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Link, LinkError> {
    let link = &page.link;
    let status = link.status(now);
    if status != LinkStatus::Open {
        return Err(LinkError::NotOpen(status));
    }
    admit(c, link, ip, now).await?;
    let (slot, interviewers) = recheck(c, link, request.start, None, now).await?;
    let booking = BookingRecord {
        booking_id: uuid::Uuid::new_v4().to_string(),
        start: slot.start,
        end: slot.end,
        interviewers,
        candidate_name: request.name.clone(),
        candidate_email: request.email.as_str().to_owned(),
        candidate_time_zone: request.time_zone.clone(),
        event_id: None,
        join_url: None,
        online_meeting: None,
        booked_at: now,
    };
    let mut taken = link.clone();
    // Links are single-use (parsing refuses others for now): the link is the booking.
    taken.stored_status = LinkStatus::Booked;
    taken.booking = Some(booking.clone());
    taken.version += 1;
    taken.updated_at = now;
    let leases = leases_for(link, &booking);
    let changes = LeaseChanges {
        take: &leases,
        release: &[],
        previous_booking: None,
    };
    match write(c, &taken, link.version, changes, None).await? {
        Ok(()) => {}
        Err(LinkWriteLost::LinkChanged) => {
            // Another booking of this link won; say what the link now is.
            let now_status = c
                .store
                .get_link(&link.id)
                .await?
                .map_or(LinkStatus::Cancelled, |l| l.status(now));
            return Err(if now_status == LinkStatus::Open {
                LinkError::SlotTaken
            } else {
                LinkError::NotOpen(now_status)
            });
        }
        Err(LinkWriteLost::SlotTaken) => return Err(LinkError::SlotTaken),
    }
    tracing::info!(
        interviewers = booking.interviewers.len(),
        "slot taken; creating the event"
    );
    match create_event(c, &taken, &booking).await {
        Ok(event) => finish(c, taken, booking, event, "scheduling_link.booked", now).await,
        Err(e) => {
            // Nothing was created (or a retry with the same transactionId finds it): give the
            // slot and the link back so the candidate can try again.
            let mut back = taken.clone();
            back.stored_status = LinkStatus::Open;
            back.booking = None;
            back.version += 1;
            let changes = LeaseChanges {
                take: &[],
                release: &leases,
                previous_booking: Some(&booking.booking_id),
            };
            if let Err(undo) = write(c, &back, taken.version, changes, None).await {
                tracing::error!(error = %crate::http::chain(&undo), "could not give a failed booking's slot back");
            }
            Err(e)
        }
    }
}

/// Records the created event on the link, with its announcement, and delivers that.
async fn finish(
    c: &Connector,
    taken: Link,
    booking: BookingRecord,
    event: EventView,
    detail_type: &str,
    now: DateTime<Utc>,
) -> Result<Link, LinkError> {
    let mut done = taken.clone();
    let booking = with_event(booking, event);
    if booking.online_meeting == Some(OnlineMeetingState::Unavailable) {
        tracing::warn!(
            "interview booked without its Teams link: the organiser cannot host online meetings"
        );
    }
    done.booking = Some(booking.clone());
    done.version += 1;
    done.updated_at = now;
    let entry = OutboxEntry::event(detail_type, &event_detail(&done, &booking), now);
    match write(c, &done, taken.version, no_leases(), Some(&entry)).await? {
        Ok(()) => announce(c, &entry).await,
        // Changed meanwhile (cancelled at once, say): the newer state stands.
        Err(lost) => tracing::warn!(?lost, "the link changed before its event was recorded"),
    }
    tracing::info!(detail_type, "scheduling link event recorded");
    Ok(done)
}

/// A booked link whose event was never recorded (the function stopped between taking the slot
/// and Graph's answer): creates it now, idempotently, and records it.
pub async fn ensure_event(
    c: &Connector,
    page: PageLink,
    now: DateTime<Utc>,
) -> Result<PageLink, LinkError> {
    let Some(booking) = page.link.booking.clone() else {
        return Ok(page);
    };
    if booking.event_id.is_some() || now - booking.booked_at < Duration::seconds(30) {
        return Ok(page);
    }
    let event = create_event(c, &page.link, &booking).await?;
    let link = finish(
        c,
        page.link.clone(),
        booking,
        event,
        "scheduling_link.booked",
        now,
    )
    .await?;
    Ok(PageLink { link, ..page })
}

/// Moves a booked interview to `start` (same rules as booking).
#[tracing::instrument(skip_all, fields(link_id = %page.link.id))]
pub async fn reschedule(
    c: &Connector,
    page: &PageLink,
    start: DateTime<Utc>,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Link, LinkError> {
    let link = &page.link;
    let (Some(old), LinkStatus::Booked) = (&link.booking, link.stored_status) else {
        return Err(LinkError::NotBooked);
    };
    let Some(event_id) = old.event_id.clone() else {
        return Err(LinkError::NotBooked);
    };
    admit(c, link, ip, now).await?;
    let (slot, interviewers) = recheck(c, link, start, Some(old), now).await?;
    let moved = BookingRecord {
        booking_id: uuid::Uuid::new_v4().to_string(),
        start: slot.start,
        end: slot.end,
        interviewers,
        booked_at: now,
        ..old.clone()
    };
    let mut next = link.clone();
    next.booking = Some(moved.clone());
    next.version += 1;
    next.updated_at = now;
    let (take, release) = (leases_for(link, &moved), leases_for(link, old));
    let changes = LeaseChanges {
        take: &take,
        release: &release,
        previous_booking: Some(&old.booking_id),
    };
    match write(c, &next, link.version, changes, None).await? {
        Ok(()) => {}
        Err(LinkWriteLost::LinkChanged) => return Err(LinkError::NotOpen(LinkStatus::Booked)),
        Err(LinkWriteLost::SlotTaken) => return Err(LinkError::SlotTaken),
    }
    let patch = serde_json::json!({
        "start": event_time(moved.start, link),
        "end": event_time(moved.end, link),
        "attendees": attendees(&moved),
    });
    let graph_id = GraphId::parse("event_id", &event_id)?;
    let (patch, graph_id) = (&patch, &graph_id);
    let connection = link.connection()?;
    let updated = with_access_token(c, &connection, |token| async move {
        c.graph
            .update_event(&token, graph_id, patch)
            .await
            .map_err(|e| LinkError::Scheduling(e.into()))
    })
    .await;
    match updated {
        Ok(event) => {
            let view = EventView::of(event, link.spec.online_meeting);
            finish(c, next, moved, view, "scheduling_link.rescheduled", now).await
        }
        Err(e) => {
            // The event did not move: put the old slot's leases back.
            let mut back = next.clone();
            back.booking = Some(old.clone());
            back.version += 1;
            let changes = LeaseChanges {
                take: &release,
                release: &take,
                previous_booking: Some(&moved.booking_id),
            };
            if let Err(undo) = write(c, &back, next.version, changes, None).await {
                tracing::error!(error = %crate::http::chain(&undo), "could not restore a failed reschedule");
            }
            Err(e)
        }
    }
}

/// Cancels a booked interview from the manage page, with the candidate's comment.
pub async fn cancel(
    c: &Connector,
    page: &PageLink,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<(), LinkError> {
    if page.link.stored_status != LinkStatus::Booked {
        return Err(LinkError::NotBooked);
    }
    cancel_booked(c, page.link.clone(), comment, now).await
}

async fn cancel_booked(
    c: &Connector,
    link: Link,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<(), LinkError> {
    let Some(booking) = link.booking.clone() else {
        return Err(LinkError::NotBooked);
    };
    if let Some(event_id) = &booking.event_id {
        let graph_id = GraphId::parse("event_id", event_id)?;
        let graph_id = &graph_id;
        let connection = link.connection()?;
        let result = with_access_token(c, &connection, |token| async move {
            c.graph
                .cancel_event(&token, graph_id, Some(comment))
                .await
                .map_err(|e| LinkError::Scheduling(e.into()))
        })
        .await;
        match result {
            Ok(()) => {}
            // Already gone (cancelled before, or deleted in Outlook): nothing left to cancel.
            Err(LinkError::Scheduling(SchedulingError::Graph(GraphError::Api {
                status: 404,
                ..
            }))) => {}
            Err(e) => return Err(e),
        }
    }
    let mut next = link.clone();
    next.stored_status = LinkStatus::Cancelled;
    next.version += 1;
    next.updated_at = now;
    let leases = leases_for(&link, &booking);
    let changes = LeaseChanges {
        take: &[],
        release: &leases,
        previous_booking: Some(&booking.booking_id),
    };
    let entry = OutboxEntry::event(
        "scheduling_link.cancelled",
        &event_detail(&next, &booking),
        now,
    );
    match write(c, &next, link.version, changes, Some(&entry)).await? {
        Ok(()) => announce(c, &entry).await,
        Err(_) => return Err(LinkError::NotOpen(LinkStatus::Cancelled)),
    }
    tracing::info!(link_id = %link.id, "scheduled interview cancelled");
    Ok(())
}
