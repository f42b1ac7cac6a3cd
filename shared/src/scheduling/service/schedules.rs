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
/// intervals long so that the availability views concatenate. A tail shorter than one interval
/// joins the window before it: Graph refuses a window shorter than its interval
/// (`ErrorInvalidMergedFreeBusyInterval`), and the joined window, a day at most over
/// `MAX_CALL_WINDOW`, stays under Graph's 42 days. (A whole window shorter than the interval is
/// the caller's to refuse or avoid.)
pub fn time_chunks(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    interval: Duration,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let per_chunk = interval * (MAX_CALL_WINDOW.num_minutes() / interval.num_minutes()) as i32;
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut cursor = start;
    while cursor < end {
        let next = (cursor + per_chunk).min(end);
        match out.last_mut() {
            Some(last) if next - cursor < interval => last.1 = next,
            _ => out.push((cursor, next)),
        }
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

/// A `customTimeZone` as rules: `bias`, and DST when both offsets name a month and the
/// daylight bias is not 0. `None` when the rules are unreadable.
fn custom_zone(zone: &GraphZone) -> Option<CustomZone> {
    let bias_minutes = zone.bias?;
    let transition = |o: &GraphZoneOffset| -> Option<Transition> {
        Some(Transition {
            month: o.month.filter(|m| (1..=12).contains(m))?,
            occurrence: o.day_occurrence.filter(|d| (1..=5).contains(d))?,
            weekday: weekday(o.day_of_week.as_deref()?)?,
            time: time_of_day(o.time.as_deref().unwrap_or("00:00:00"))?,
        })
    };
    let daylight = match (&zone.daylight_offset, &zone.standard_offset) {
        (Some(d), Some(s)) if d.month.unwrap_or(0) != 0 && d.daylight_bias.unwrap_or(0) != 0 => {
            Some(Daylight {
                start: transition(d)?,
                end: transition(s)?,
                bias_minutes: d.daylight_bias?,
            })
        }
        _ => None,
    };
    Some(CustomZone {
        bias_minutes,
        daylight,
    })
}

/// The zone of working hours: a Windows or IANA name, or a `customTimeZone` (bias and DST rules,
/// as in Microsoft's getSchedule sample). Anything else is logged and the attendee is then not
/// constrained by working hours.
fn hours_zone(zone: &GraphZone) -> Option<HoursZone> {
    let custom = zone
        .odata_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("#microsoft.graph.customTimeZone"));
    if custom || zone.bias.is_some() {
        let rules = custom_zone(zone);
        if rules.is_none() {
            tracing::warn!("working hours in an unreadable custom zone are ignored");
        }
        return rules.map(HoursZone::Custom);
    }
    let name = zone.name.as_deref()?;
    let Some(named) = zone_from_graph(name) else {
        tracing::warn!(zone = name, "working hours in an unknown zone are ignored");
        return None;
    };
    Some(HoursZone::Named(named.tz()))
}

fn working_hours(info: &ScheduleInformation) -> Option<WorkingHours> {
    let hours = info.working_hours.as_ref()?;
    let zone = hours_zone(hours.time_zone.as_ref()?)?;
    Some(WorkingHours {
        days: hours
            .days_of_week
            .iter()
            .filter_map(|d| weekday(d))
            .collect(),
        start: time_of_day(&hours.start_time)?,
        end: time_of_day(&hours.end_time)?,
        zone,
    })
}

/// `error.responseCode` Exchange Online gives an address it cannot resolve ("Unable to resolve
/// e-mail address ... to an Active Directory object.", microsoft-graph-docs#11225).
pub const RECIPIENT_NOT_RESOLVED: &str = "5009";

/// What an entry's `error` says, from its `responseCode` only (messages are free text and
/// localised): an on-premises mailbox is `unsupported`; an unresolvable address
/// ([`RECIPIENT_NOT_RESOLVED`], `ErrorMailRecipientNotFound`) and any other failure `unknown`.
fn schedule_status(info: &ScheduleInformation) -> ScheduleStatus {
    let Some(error) = &info.error else {
        return ScheduleStatus::Ok;
    };
    match error.response_code.as_deref() {
        Some(MAILBOX_NOT_ENABLED) => ScheduleStatus::Unsupported,
        Some(RECIPIENT_NOT_RESOLVED | "ErrorMailRecipientNotFound") => ScheduleStatus::Unknown,
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

    fn entry(v: serde_json::Value) -> ScheduleInformation {
        serde_json::from_value(v).unwrap()
    }

    /// The second entry of Microsoft's getSchedule sample (calendar-getschedule.md).
    fn megan() -> ScheduleInformation {
        entry(
            serde_json::json!({"scheduleId": "meganb@contoso.com", "availabilityView": "200220010",
            "scheduleItems": [], "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000",
                "timeZone": {"@odata.type": "#microsoft.graph.customTimeZone", "bias": 480,
                    "name": "Customized Time Zone",
                    "standardOffset": {"time": "02:00:00.0000000", "dayOccurrence": 1,
                        "dayOfWeek": "sunday", "month": 11, "year": 0},
                    "daylightOffset": {"daylightBias": -60, "time": "02:00:00.0000000",
                        "dayOccurrence": 2, "dayOfWeek": "sunday", "month": 3, "year": 0}}}}),
        )
    }

    #[test]
    fn custom_time_zone_working_hours_from_microsofts_sample_are_kept_and_follow_dst() {
        let hours = working_hours(&megan()).expect("custom-zone working hours are kept");
        assert!(matches!(hours.zone, HoursZone::Custom(_)));
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // Friday 2019-03-08 (PST, UTC-8) and Monday 2019-03-11 (PDT, UTC-7).
        let spans = crate::scheduling::slots::working_spans(
            &hours,
            utc("2019-03-08T00:00:00Z"),
            utc("2019-03-12T00:00:00Z"),
        );
        assert_eq!(
            spans,
            vec![
                // The end of Thursday's hours (17:00 PST).
                (utc("2019-03-08T00:00:00Z"), utc("2019-03-08T01:00:00Z")),
                (utc("2019-03-08T16:00:00Z"), utc("2019-03-09T01:00:00Z")),
                (utc("2019-03-11T15:00:00Z"), utc("2019-03-12T00:00:00Z")),
            ]
        );
    }

    #[test]
    fn error_entries_are_told_apart_by_response_code_not_message() {
        let err = |code: &str, message: &str| {
            entry(serde_json::json!({"scheduleId": "x@contoso.com",
                "error": {"message": message, "responseCode": code}}))
        };
        let unresolved = err(
            "5009",
            "Unable to resolve e-mail address x@contoso.com to an Active Directory object.",
        );
        assert_eq!(schedule_status(&unresolved), ScheduleStatus::Unknown);
        let on_prem = err(
            MAILBOX_NOT_ENABLED,
            "REST API is not yet supported for this mailbox.",
        );
        assert_eq!(schedule_status(&on_prem), ScheduleStatus::Unsupported);
        assert_eq!(schedule_status(&megan()), ScheduleStatus::Ok);
    }

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
    fn a_tail_shorter_than_an_interval_joins_the_window_before_it() {
        let start = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let end = start + MAX_CALL_WINDOW + Duration::minutes(10);
        let chunks = time_chunks(start, end, Duration::minutes(60));
        assert_eq!(chunks, vec![(start, end)]);
        assert!(end - start < Duration::days(42));
        // A tail of a whole interval or more stays a window of its own.
        let end = start + MAX_CALL_WINDOW + Duration::minutes(60);
        assert_eq!(time_chunks(start, end, Duration::minutes(60)).len(), 2);
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
