//! Reading attendees' schedules: getSchedule in chunks of 20 addresses and windows under 42
//! days, at most 4 calls in flight, mapped to UTC instants and IANA zones.

use super::*;

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

/// One busy item, ordered and deduplicated across chunks.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct BusyKey(DateTime<Utc>, DateTime<Utc>, FreeBusyStatus);

#[cfg(test)]
mod tests {
    use super::*;

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
}
