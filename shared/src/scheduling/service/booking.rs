//! Booking (idempotent by `Idempotency-Key`, through Graph's `transactionId`), rescheduling and
//! cancelling meetings.

use super::*;

/// Whether the meeting got its online (Teams) meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineMeetingState {
    /// Exchange created it: `join_url` is the link.
    Created,
    /// Asked for, but Exchange made a plain meeting (Graph still answers 201, with
    /// `isOnlineMeeting: false`): the organiser cannot host Teams meetings (no Teams licence, or
    /// a policy or the calendar's `allowedOnlineMeetingProviders` rules it out). The invitations
    /// went out without a link.
    Unavailable,
    /// Not asked for.
    NotRequested,
}

/// `201` body of a booking and `200` body of a reschedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub id: String,
    pub web_link: Option<String>,
    pub join_url: Option<String>,
    pub ical_uid: Option<String>,
    /// Never a silent `join_url: null`: `unavailable` when an online meeting was asked for and
    /// not created. (Absent only in booking answers stored before this field existed.)
    #[serde(default)]
    pub online_meeting: Option<OnlineMeetingState>,
}

impl EventView {
    /// The view of an event Graph returned; `requested` is whether an online meeting was asked
    /// for (a reschedule asks for whatever the event already is).
    pub fn of(e: GraphEvent, requested: bool) -> Self {
        let join_url = e.online_meeting.and_then(|m| m.join_url);
        let online_meeting = match (&join_url, requested) {
            (Some(_), _) => OnlineMeetingState::Created,
            (None, true) => OnlineMeetingState::Unavailable,
            (None, false) => OnlineMeetingState::NotRequested,
        };
        Self {
            id: e.id,
            web_link: e.web_link,
            join_url,
            ical_uid: e.ical_uid,
            online_meeting: Some(online_meeting),
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
    calendar_access(c, id).await?;
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
    // A retry after a refused token is safe: Graph's transactionId returns the first event.
    let event = &event;
    let graph_event = with_access_token(c, id, |token| async move {
        Ok::<_, SchedulingError>(c.graph.create_event(&token, event).await?)
    })
    .await?;
    let created = EventView::of(graph_event, booking.online_meeting);
    if created.online_meeting == Some(OnlineMeetingState::Unavailable) {
        tracing::warn!(
            transaction_id = %transaction,
            "meeting booked without its Teams link: the organiser cannot host online meetings"
        );
    }
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
    calendar_access(c, id).await?;
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
    let patch = &patch;
    let updated = with_access_token(c, id, |token| async move {
        c.graph
            .update_event(&token, event_id, patch)
            .await
            .map_err(|e| not_found_as_event(e, event_id.as_str()))
    })
    .await?;
    let requested = updated.is_online_meeting == Some(true);
    Ok(EventView::of(updated, requested))
}

/// Cancels a booked meeting for everyone, with an optional message to the attendees.
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn cancel(
    c: &Connector,
    id: &ConnectionId,
    event_id: &GraphId,
    comment: Option<&str>,
) -> Result<(), SchedulingError> {
    calendar_access(c, id).await?;
    with_access_token(c, id, |token| async move {
        c.graph
            .cancel_event(&token, event_id, comment)
            .await
            .map_err(|e| not_found_as_event(e, event_id.as_str()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_event(body: serde_json::Value) -> GraphEvent {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn a_teams_meeting_graph_did_not_create_is_reported_unavailable_not_a_silent_null() {
        // Graph's 201 for an organiser who cannot host Teams meetings.
        let plain = serde_json::json!({"id": "AAMk1", "webLink": "https://outlook.office365.com/x",
            "iCalUId": "040000", "isOnlineMeeting": false, "onlineMeetingProvider": "unknown",
            "onlineMeeting": null});
        let view = EventView::of(graph_event(plain.clone()), true);
        assert_eq!(view.join_url, None);
        assert_eq!(view.online_meeting, Some(OnlineMeetingState::Unavailable));
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["online_meeting"], "unavailable");
        assert_eq!(
            EventView::of(graph_event(plain), false).online_meeting,
            Some(OnlineMeetingState::NotRequested)
        );
        let teams = serde_json::json!({"id": "AAMk2", "isOnlineMeeting": true,
            "onlineMeetingProvider": "teamsForBusiness",
            "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/1"}});
        assert_eq!(
            EventView::of(graph_event(teams), true).online_meeting,
            Some(OnlineMeetingState::Created)
        );
        // A booking answer stored before the field existed still replays.
        let old: EventView = serde_json::from_value(serde_json::json!({"id": "AAMk3",
            "web_link": null, "join_url": null, "ical_uid": null}))
        .unwrap();
        assert_eq!(old.online_meeting, None);
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
}
