//! Free/busy of up to 100 attendees in the requested zone.

use super::*;

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
    calendar_access(c, id).await?;
    let schedules = with_access_token(c, id, |token| async move {
        read_schedules(
            c,
            &token,
            &q.attendees,
            q.window.start,
            q.window.end,
            q.interval,
            q.zone,
        )
        .await
    })
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
