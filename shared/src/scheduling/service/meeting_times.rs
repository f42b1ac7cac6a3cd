//! Meeting times: slots where every required attendee is free, ranked by free optional ones.

use super::*;

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
    calendar_access(c, id).await?;
    let everyone: Vec<EmailAddress> = q.required.iter().chain(&q.optional).cloned().collect();
    // Busy items just outside the window still matter through the buffers.
    let margin = q.buffer_before.max(q.buffer_after);
    // Slots come from the busy items; the view's interval only has to be one Graph accepts for
    // this window: at most the window (which is at least the 5-minute shortest meeting).
    let interval = Duration::minutes(60).min(q.window.duration() + margin * 2);
    let everyone = &everyone;
    let schedules = with_access_token(c, id, |token| async move {
        read_schedules(
            c,
            &token,
            everyone,
            q.window.start - margin,
            q.window.end + margin,
            interval,
            q.zone,
        )
        .await
    })
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
