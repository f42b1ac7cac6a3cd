//! One mailbox's calendar: create (with `transactionId` deduplication), update, delete, cancel,
//! attendee copies of meetings, and occurrence views.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::CalendarError;
use crate::event::{
    Attendee, EmailAddress, Event, EventPatch, FreeBusyStatus, NewEvent, Occurrence,
    OnlineMeetingInfo, OnlineMeetingProvider, ResponseStatus, ResponseType,
};
use crate::ids;
use crate::recurrence::Recurrence;

/// Result of [`Calendar::create_event`].
#[derive(Clone, Copy, Debug)]
pub struct Created<'a> {
    /// The new event, or the existing one with the same `transactionId`.
    pub event: &'a Event,
    /// False when the `transactionId` matched an existing event (nothing was created: send no
    /// invitations or notifications again).
    pub created: bool,
}

/// The calendar of one mailbox.
#[derive(Clone, Debug)]
pub struct Calendar {
    owner: EmailAddress,
    events: Vec<Event>,
    next_seq: u64,
    /// Whether the owner can host Teams meetings (a Teams licence and a meeting policy that
    /// allows it). Without, Exchange creates the event as a plain one: `isOnlineMeeting` false,
    /// `onlineMeetingProvider` `unknown`, no `onlineMeeting`.
    teams: bool,
}

impl Calendar {
    /// An empty calendar for `owner_address` (the organizer of events created in it).
    pub fn new(owner_address: &str, owner_name: &str) -> Self {
        Calendar {
            owner: EmailAddress::new(owner_address, owner_name),
            events: Vec::new(),
            next_seq: 1,
            teams: true,
        }
    }

    /// A calendar whose owner cannot host Teams meetings (no licence or policy): online
    /// meetings asked for are not created, and Graph still answers 201.
    pub fn without_teams(mut self) -> Self {
        self.teams = false;
        self
    }

    /// Whether the owner can host Teams meetings.
    pub fn can_host_teams_meetings(&self) -> bool {
        self.teams
    }

    /// The online-meeting fields Exchange stores for a request: unchanged when the owner can
    /// host it, a plain event when a Teams meeting cannot be created.
    fn online_fields(
        &self,
        on: bool,
        provider: OnlineMeetingProvider,
    ) -> (bool, OnlineMeetingProvider) {
        if on && provider == OnlineMeetingProvider::TeamsForBusiness && !self.teams {
            (false, OnlineMeetingProvider::Unknown)
        } else {
            (on, provider)
        }
    }

    /// The mailbox owner.
    pub fn owner(&self) -> &EmailAddress {
        &self.owner
    }

    /// All events, in creation order.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the calendar has no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The event with this id.
    pub fn get(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }

    /// The event with this `iCalUId` (an attendee's copy of a meeting, or the organizer's event).
    pub fn find_by_ical_uid(&self, ical_uid: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.ical_uid == ical_uid)
    }

    /// The event created with this `transactionId`.
    pub fn find_by_transaction_id(&self, transaction_id: &str) -> Option<&Event> {
        self.events
            .iter()
            .find(|e| e.transaction_id.as_deref() == Some(transaction_id))
    }

    fn index(&self, id: &str) -> Result<usize, CalendarError> {
        self.events
            .iter()
            .position(|e| e.id == id)
            .ok_or_else(|| CalendarError::ItemNotFound(id.to_string()))
    }

    fn allocate(&mut self) -> (String, u64) {
        let seq = self.next_seq;
        self.next_seq += 1;
        (ids::event_id(&self.owner.address, seq), seq)
    }

    /// Creates an event organised by the owner. If an event with the same `transactionId`
    /// exists, returns it unchanged with `created: false` (Graph's retry deduplication; the body
    /// of the retry is not compared).
    pub fn create_event(&mut self, new: NewEvent, now: DateTime<Utc>) -> Created<'_> {
        if let Some(tx) = &new.transaction_id {
            if let Some(i) = self
                .events
                .iter()
                .position(|e| e.transaction_id.as_deref() == Some(tx.as_str()))
            {
                return Created {
                    event: &self.events[i],
                    created: false,
                };
            }
        }
        let (id, seq) = self.allocate();
        let (is_online_meeting, online_meeting_provider) =
            self.online_fields(new.is_online_meeting, new.online_meeting_provider);
        let online_meeting = online_meeting_for(&id, is_online_meeting, online_meeting_provider);
        let event = Event {
            change_key: ids::change_key(&id, 1),
            version: 1,
            ical_uid: ids::ical_uid(&self.owner.address, seq),
            created_date_time: now,
            last_modified_date_time: now,
            subject: new.subject,
            body: new.body,
            start: new.start.instant,
            end: new.end.instant,
            start_time_zone: new.start.zone,
            end_time_zone: new.end.zone,
            show_as: new.show_as,
            sensitivity: new.sensitivity,
            importance: new.importance,
            is_cancelled: false,
            is_organizer: true,
            response_status: ResponseStatus::new(ResponseType::Organizer),
            organizer: self.owner.clone(),
            attendees: new.attendees,
            location: new.location,
            is_online_meeting,
            online_meeting_provider,
            online_meeting,
            transaction_id: new.transaction_id,
            recurrence: new.recurrence,
            allow_new_time_proposals: new.allow_new_time_proposals,
            categories: new.categories,
            is_reminder_on: new.is_reminder_on,
            reminder_minutes_before_start: new.reminder_minutes_before_start,
            is_all_day: new.is_all_day,
            exceptions: Vec::new(),
            id,
        };
        self.events.push(event);
        Created {
            event: self.events.last().expect("just pushed"),
            created: true,
        }
    }

    /// [`NewEvent::from_json`] then [`Calendar::create_event`].
    pub fn create_event_from_json(
        &mut self,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Result<Created<'_>, CalendarError> {
        let new = NewEvent::from_json(body)?;
        Ok(self.create_event(new, now))
    }

    /// Applies a partial update. Atomic: on error nothing changes.
    ///
    /// Errors: [`CalendarError::ItemNotFound`]; [`CalendarError::EndBeforeStart`] when the
    /// patched end is before the patched start; [`CalendarError::InvalidRequest`] for a changed
    /// `transactionId` or a bad recurrence; [`CalendarError::InvalidTimeZone`].
    pub fn update_event(
        &mut self,
        id: &str,
        patch: EventPatch,
        now: DateTime<Utc>,
    ) -> Result<&Event, CalendarError> {
        let i = self.index(id)?;
        let mut e = self.events[i].clone();
        if let Some(tx) = &patch.transaction_id {
            if e.transaction_id.as_deref() != Some(tx.as_str()) {
                return Err(CalendarError::InvalidRequest(
                    "The transactionId of an event cannot be changed.".to_string(),
                ));
            }
        }
        let times_changed = patch.start.is_some() || patch.end.is_some();
        if let Some(s) = patch.start {
            e.start = s.instant;
            e.start_time_zone = s.zone;
        }
        if let Some(end) = patch.end {
            e.end = end.instant;
            e.end_time_zone = end.zone;
        }
        if e.end < e.start {
            return Err(CalendarError::EndBeforeStart);
        }
        let start_local_date = e.start_time_zone.to_local(e.start).date();
        match patch.recurrence {
            None => {
                // A moved series keeps its pattern and starts on the new start date.
                if let (true, Some(r)) = (times_changed, e.recurrence.as_mut()) {
                    r.range.start_date = r.range.recurrence_time_zone.to_local(e.start).date();
                    if let crate::recurrence::RangeEnd::EndDate(end) = r.range.end {
                        if end < r.range.start_date {
                            return Err(CalendarError::InvalidRequest(
                                "The recurrence end date is before the new start.".to_string(),
                            ));
                        }
                    }
                }
            }
            Some(Value::Null) => e.recurrence = None,
            Some(v) => {
                e.recurrence = Some(Recurrence::from_json(
                    &v,
                    &e.start_time_zone,
                    start_local_date,
                )?)
            }
        }
        if let Some(v) = patch.subject {
            e.subject = v;
        }
        if let Some(v) = patch.body {
            e.body = v;
        }
        if let Some(new_attendees) = patch.attendees {
            // Keep the recorded responses of attendees who stay.
            e.attendees = new_attendees
                .into_iter()
                .map(|mut a| {
                    if let Some(old) = e
                        .attendees
                        .iter()
                        .find(|o| o.email_address.is(&a.email_address.address))
                    {
                        a.status = old.status.clone();
                    }
                    a
                })
                .collect();
        }
        if let Some(v) = patch.location {
            e.location = v;
        }
        if let Some(v) = patch.show_as {
            e.show_as = v;
        }
        if let Some(v) = patch.sensitivity {
            e.sensitivity = v;
        }
        if let Some(v) = patch.importance {
            e.importance = v;
        }
        if let Some(v) = patch.categories {
            e.categories = v;
        }
        if let Some(v) = patch.is_reminder_on {
            e.is_reminder_on = v;
        }
        if let Some(v) = patch.reminder_minutes_before_start {
            e.reminder_minutes_before_start = v;
        }
        if let Some(v) = patch.allow_new_time_proposals {
            e.allow_new_time_proposals = v;
        }
        if patch.is_online_meeting.is_some() || patch.online_meeting_provider.is_some() {
            let on = patch.is_online_meeting.unwrap_or(e.is_online_meeting);
            let provider = match (patch.online_meeting_provider, on) {
                (Some(p), _) => p,
                (None, true) if e.online_meeting_provider == OnlineMeetingProvider::Unknown => {
                    OnlineMeetingProvider::TeamsForBusiness
                }
                (None, _) => e.online_meeting_provider,
            };
            let (on, provider) = self.online_fields(on, provider);
            e.is_online_meeting = on;
            e.online_meeting_provider = provider;
            // An existing join URL survives as long as the meeting stays a Teams meeting.
            e.online_meeting = match (&e.online_meeting, online_meeting_for(&e.id, on, provider)) {
                (Some(existing), Some(_)) => Some(existing.clone()),
                (_, fresh) => fresh,
            };
        }
        touch(&mut e, now);
        self.events[i] = e;
        Ok(&self.events[i])
    }

    /// [`EventPatch::from_json`] then [`Calendar::update_event`].
    pub fn update_event_from_json(
        &mut self,
        id: &str,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Result<&Event, CalendarError> {
        let patch = EventPatch::from_json(body)?;
        self.update_event(id, patch, now)
    }

    /// Removes an event and returns it. When the owner organises a meeting with attendees, Graph
    /// sends them a cancellation: the server should call [`Calendar::deliver_cancellation`] on
    /// each attendee's calendar with the returned event's `ical_uid`.
    pub fn delete_event(&mut self, id: &str) -> Result<Event, CalendarError> {
        let i = self.index(id)?;
        Ok(self.events.remove(i))
    }

    /// `POST /me/events/{id}/cancel`: only the organizer may cancel; the event leaves the
    /// organizer's calendar (Graph moves it to Deleted Items) and is returned so the server can
    /// [`Calendar::deliver_cancellation`] to each attendee (their copies become `isCancelled`).
    ///
    /// Errors: [`CalendarError::ItemNotFound`], [`CalendarError::NotOrganizer`].
    pub fn cancel_event(&mut self, id: &str) -> Result<Event, CalendarError> {
        let i = self.index(id)?;
        if !self.events[i].is_organizer {
            return Err(CalendarError::NotOrganizer);
        }
        Ok(self.events.remove(i))
    }

    /// Puts (or refreshes) the owner's copy of a meeting organised elsewhere, matched by
    /// `iCalUId`: not the organizer, `responseStatus` `notResponded`, shown `tentative` until
    /// answered (`free` stays free). A refreshed copy whose times changed goes back to
    /// `notResponded`/`tentative`. Returns the copy.
    pub fn deliver_invitation(&mut self, organizer_event: &Event, now: DateTime<Utc>) -> &Event {
        let intended = if organizer_event.show_as == FreeBusyStatus::Free {
            FreeBusyStatus::Free
        } else {
            FreeBusyStatus::Tentative
        };
        if let Some(i) = self
            .events
            .iter()
            .position(|e| e.ical_uid == organizer_event.ical_uid)
        {
            if self.events[i].is_organizer {
                // The owner organises this meeting: their own event is the source of truth.
                return &self.events[i];
            }
            let mut e = self.events[i].clone();
            let times_changed = e.start != organizer_event.start
                || e.end != organizer_event.end
                || e.recurrence != organizer_event.recurrence
                || e.exceptions != organizer_event.exceptions;
            copy_meeting_fields(&mut e, organizer_event);
            if times_changed {
                e.response_status = ResponseStatus::new(ResponseType::NotResponded);
                e.show_as = intended;
            }
            touch(&mut e, now);
            self.events[i] = e;
            return &self.events[i];
        }
        let (id, _) = self.allocate();
        let mut e = organizer_event.clone();
        e.change_key = ids::change_key(&id, 1);
        e.version = 1;
        e.id = id;
        e.created_date_time = now;
        e.last_modified_date_time = now;
        e.is_organizer = false;
        e.is_cancelled = false;
        e.transaction_id = None;
        e.response_status = ResponseStatus::new(ResponseType::NotResponded);
        e.show_as = intended;
        self.events.push(e);
        self.events.last().expect("just pushed")
    }

    /// Marks the owner's copy of a meeting cancelled (`isCancelled`, subject prefixed
    /// "Canceled: " as Exchange does); it no longer blocks free/busy. Returns the copy, or `None`
    /// when the owner has none.
    pub fn deliver_cancellation(&mut self, ical_uid: &str, now: DateTime<Utc>) -> Option<&Event> {
        let i = self
            .events
            .iter()
            .position(|e| e.ical_uid == ical_uid && !e.is_organizer)?;
        let e = &mut self.events[i];
        if !e.is_cancelled {
            e.is_cancelled = true;
            if !e.subject.starts_with("Canceled: ") {
                e.subject = format!("Canceled: {}", e.subject);
            }
            touch(e, now);
        }
        Some(&self.events[i])
    }

    /// The owner answers a meeting invitation (`accept`, `tentativelyAccept`, `decline`):
    /// accepted -> `busy`, tentatively accepted -> `tentative`, declined -> the copy is removed
    /// (Exchange moves it to Deleted Items). Returns the event's `iCalUId` so the server can
    /// [`Calendar::record_attendee_response`] in the organizer's calendar.
    ///
    /// Errors: [`CalendarError::ItemNotFound`]; [`CalendarError::InvalidRequest`] when the owner
    /// organises the event or `response` is not one of the three answers.
    pub fn respond(
        &mut self,
        id: &str,
        response: ResponseType,
        now: DateTime<Utc>,
    ) -> Result<String, CalendarError> {
        let i = self.index(id)?;
        if self.events[i].is_organizer {
            return Err(CalendarError::InvalidRequest(
                "Your request can't be completed. You can't respond to a meeting you organized."
                    .to_string(),
            ));
        }
        let uid = self.events[i].ical_uid.clone();
        match response {
            ResponseType::Declined => {
                self.events.remove(i);
            }
            ResponseType::Accepted | ResponseType::TentativelyAccepted => {
                let e = &mut self.events[i];
                e.response_status = ResponseStatus {
                    response,
                    time: Some(now),
                };
                if e.show_as != FreeBusyStatus::Free {
                    e.show_as = if response == ResponseType::Accepted {
                        FreeBusyStatus::Busy
                    } else {
                        FreeBusyStatus::Tentative
                    };
                }
                touch(e, now);
            }
            _ => {
                return Err(CalendarError::InvalidRequest(format!(
                    "'{response}' is not a meeting response."
                )))
            }
        }
        Ok(uid)
    }

    /// Records an attendee's answer on the organizer's event (`attendees[].status`). Returns the
    /// event, or `None` if no organised event has this `iCalUId` or the address is not invited.
    pub fn record_attendee_response(
        &mut self,
        ical_uid: &str,
        attendee: &str,
        response: ResponseType,
        now: DateTime<Utc>,
    ) -> Option<&Event> {
        let i = self
            .events
            .iter()
            .position(|e| e.ical_uid == ical_uid && e.is_organizer)?;
        let e = &mut self.events[i];
        let a: &mut Attendee = e
            .attendees
            .iter_mut()
            .find(|a| a.email_address.is(attendee))?;
        a.status = ResponseStatus {
            response,
            time: Some(now),
        };
        touch(e, now);
        Some(&self.events[i])
    }

    /// Records the new time an attendee proposed with their answer on the organizer's event (the
    /// answer itself is [`Calendar::record_attendee_response`]); `None` clears an earlier one.
    pub fn record_proposed_time(
        &mut self,
        ical_uid: &str,
        attendee: &str,
        proposed: Option<(DateTime<Utc>, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> Option<&Event> {
        let i = self
            .events
            .iter()
            .position(|e| e.ical_uid == ical_uid && e.is_organizer)?;
        let e = &mut self.events[i];
        let a = e
            .attendees
            .iter_mut()
            .find(|a| a.email_address.is(attendee))?;
        if a.proposed_new_time != proposed {
            a.proposed_new_time = proposed;
            touch(e, now);
        }
        Some(&self.events[i])
    }

    /// Resolves an [`Occurrence::id`] (or a plain event id) back to the occurrence.
    pub fn get_occurrence(&self, id: &str) -> Option<Occurrence<'_>> {
        let Some((master_id, stamp)) = id.split_once('.') else {
            let e = self.get(id)?;
            return Some(Occurrence {
                event: e,
                start: e.start,
                end: e.end,
                original_start: e.start,
            });
        };
        let e = self.get(master_id)?;
        let start = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
            .ok()?
            .and_utc();
        if let Some(x) = e.exceptions.iter().find(|x| x.original_start == start) {
            return (!x.cancelled).then_some(Occurrence {
                event: e,
                start: x.start,
                end: x.end,
                original_start: start,
            });
        }
        e.occurrences(start, start + chrono::Duration::seconds(1))
            .into_iter()
            .find(|o| o.original_start == start)
    }

    /// Changes one occurrence of a series on its own, as Outlook's "this occurrence" does:
    /// `Some((start, end))` moves it (it becomes an `exception`), `None` cancels it (it leaves
    /// calendar views). The rest of the series is untouched. Returns the series master.
    ///
    /// Errors: [`CalendarError::ItemNotFound`] when the id names no occurrence of a series;
    /// [`CalendarError::EndBeforeStart`].
    pub fn change_occurrence(
        &mut self,
        occurrence_id: &str,
        to: Option<(DateTime<Utc>, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> Result<&Event, CalendarError> {
        let missing = || CalendarError::ItemNotFound(occurrence_id.to_string());
        let (master_id, stamp) = occurrence_id.split_once('.').ok_or_else(missing)?;
        let original = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
            .map_err(|_| missing())?
            .and_utc();
        let i = self.index(master_id)?;
        let e = &self.events[i];
        let exists = e.recurrence.as_ref().is_some_and(|r| {
            let t = r.range.recurrence_time_zone.to_local(e.start).time();
            r.occurrences(
                t,
                e.duration(),
                original,
                original + chrono::Duration::seconds(1),
            )
            .iter()
            .any(|(s, _)| *s == original)
        });
        if !exists {
            return Err(missing());
        }
        if let Some((s, end)) = to {
            if end < s {
                return Err(CalendarError::EndBeforeStart);
            }
        }
        let duration = e.duration();
        let e = &mut self.events[i];
        let at = e
            .exceptions
            .iter()
            .position(|x| x.original_start == original);
        let x = match at {
            Some(p) => &mut e.exceptions[p],
            None => {
                e.exceptions.push(crate::event::OccurrenceException {
                    original_start: original,
                    start: original,
                    end: original + duration,
                    cancelled: false,
                    version: 0,
                });
                e.exceptions.last_mut().expect("just pushed")
            }
        };
        match to {
            Some((s, end)) => (x.start, x.end) = (s, end),
            None => x.cancelled = true,
        }
        x.version += 1;
        e.last_modified_date_time = now.max(e.created_date_time);
        Ok(&self.events[i])
    }

    /// Every occurrence overlapping `[start, end)`, recurring events expanded, sorted by start
    /// (cancelled events included; check `occurrence.event.is_cancelled`).
    pub fn occurrences(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Occurrence<'_>> {
        let mut out: Vec<Occurrence<'_>> = self
            .events
            .iter()
            .flat_map(|e| e.occurrences(start, end))
            .collect();
        out.sort_by(|a, b| a.start.cmp(&b.start).then(a.end.cmp(&b.end)));
        out
    }
}

fn online_meeting_for(
    id: &str,
    on: bool,
    provider: OnlineMeetingProvider,
) -> Option<OnlineMeetingInfo> {
    (on && provider == OnlineMeetingProvider::TeamsForBusiness)
        .then(|| OnlineMeetingInfo::teams(id))
}

fn touch(e: &mut Event, now: DateTime<Utc>) {
    e.version += 1;
    e.change_key = ids::change_key(&e.id, e.version);
    e.last_modified_date_time = now.max(e.created_date_time);
}

fn copy_meeting_fields(copy: &mut Event, from: &Event) {
    copy.subject = from.subject.clone();
    copy.body = from.body.clone();
    copy.start = from.start;
    copy.end = from.end;
    copy.start_time_zone = from.start_time_zone.clone();
    copy.end_time_zone = from.end_time_zone.clone();
    copy.sensitivity = from.sensitivity;
    copy.importance = from.importance;
    copy.organizer = from.organizer.clone();
    copy.attendees = from.attendees.clone();
    copy.location = from.location.clone();
    copy.is_online_meeting = from.is_online_meeting;
    copy.online_meeting_provider = from.online_meeting_provider;
    copy.online_meeting = from.online_meeting.clone();
    copy.recurrence = from.recurrence.clone();
    copy.exceptions = from.exceptions.clone();
    copy.is_all_day = from.is_all_day;
    copy.allow_new_time_proposals = from.allow_new_time_proposals;
}
