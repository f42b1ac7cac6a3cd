//! Behaviour tests of the public API.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use crate::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    utc(2026, 2, 20, 12, 0)
}

fn tz(name: &str) -> GraphTimeZone {
    GraphTimeZone::parse(name).unwrap()
}

fn dtz(date_time: &str, zone: &str) -> Value {
    json!({ "dateTime": date_time, "timeZone": zone })
}

fn event_body(subject: &str, start: &str, end: &str, zone: &str) -> Value {
    json!({
        "subject": subject,
        "start": dtz(start, zone),
        "end": dtz(end, zone),
    })
}

fn create(cal: &mut Calendar, body: Value) -> String {
    cal.create_event_from_json(&body, now())
        .unwrap()
        .event
        .id
        .clone()
}

fn weekly_body(start: &str, end: &str, zone: &str, days: &[&str], range: Value) -> Value {
    json!({
        "subject": "Weekly sync",
        "start": dtz(start, zone),
        "end": dtz(end, zone),
        "recurrence": {
            "pattern": { "type": "weekly", "interval": 1, "daysOfWeek": days },
            "range": range,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------------------------

#[test]
fn windows_iana_table_round_trips() {
    assert!(WINDOWS_ZONES.len() >= 40, "{} zones", WINDOWS_ZONES.len());
    for z in WINDOWS_ZONES {
        assert!(z.iana.parse::<Tz>().is_ok(), "{} is not in tzdata", z.iana);
        for alias in z.aliases {
            assert!(
                alias.parse::<Tz>().is_ok(),
                "alias {alias} is not in tzdata"
            );
            assert_eq!(iana_to_windows(alias), Some(z.windows), "alias {alias}");
        }
        assert_eq!(windows_to_iana(z.windows), Some(z.iana));
        assert_eq!(iana_to_windows(z.iana), Some(z.windows), "{}", z.iana);
        assert_eq!(
            windows_to_iana(&z.windows.to_ascii_uppercase()),
            Some(z.iana),
            "Windows ids match case-insensitively"
        );
        let parsed = tz(z.windows);
        assert_eq!(parsed.name(), z.windows);
        assert_eq!(parsed.windows_name(), Some(z.windows));
        assert_eq!(tz(z.iana).windows_name(), Some(z.windows));
    }
    // No Windows id or IANA name appears twice.
    let mut windows_seen = std::collections::HashSet::new();
    let mut iana_seen = std::collections::HashSet::new();
    for z in WINDOWS_ZONES {
        assert!(windows_seen.insert(z.windows), "duplicate {}", z.windows);
        for name in std::iter::once(&z.iana).chain(z.aliases.iter()) {
            assert!(iana_seen.insert(*name), "duplicate {name}");
        }
    }
}

#[test]
fn common_windows_zones_map_to_expected_iana() {
    let cases = [
        ("UTC", "Etc/UTC"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("GMT Standard Time", "Europe/London"),
        ("Romance Standard Time", "Europe/Paris"),
        ("Central Europe Standard Time", "Europe/Budapest"),
        ("Central European Standard Time", "Europe/Warsaw"),
        ("E. Europe Standard Time", "Europe/Chisinau"),
        ("Eastern Standard Time", "America/New_York"),
        ("Central Standard Time", "America/Chicago"),
        ("Mountain Standard Time", "America/Denver"),
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("India Standard Time", "Asia/Kolkata"),
        ("China Standard Time", "Asia/Shanghai"),
        ("Tokyo Standard Time", "Asia/Tokyo"),
        ("AUS Eastern Standard Time", "Australia/Sydney"),
        ("Singapore Standard Time", "Asia/Singapore"),
    ];
    for (windows, iana) in cases {
        assert_eq!(windows_to_iana(windows), Some(iana), "{windows}");
        assert_eq!(iana_to_windows(iana), Some(windows), "{iana}");
    }
    let aliases = [
        ("Asia/Calcutta", "India Standard Time"),
        ("Europe/Amsterdam", "W. Europe Standard Time"),
        ("America/Toronto", "Eastern Standard Time"),
        ("Asia/Hong_Kong", "China Standard Time"),
        ("Europe/Kiev", "FLE Standard Time"),
        ("Etc/GMT", "UTC"),
    ];
    for (iana, windows) in aliases {
        assert_eq!(iana_to_windows(iana), Some(windows), "{iana}");
    }
    assert_eq!(windows_to_iana("Greenwich Mean Time"), None);
    assert_eq!(iana_to_windows("Mars/Olympus_Mons"), None);
}

#[test]
fn zone_parsing_accepts_windows_and_iana_and_rejects_others() {
    let ok = [
        (
            "w. europe standard time",
            "W. Europe Standard Time",
            "Europe/Berlin",
        ),
        (
            "  Eastern Standard Time ",
            "Eastern Standard Time",
            "America/New_York",
        ),
        ("Europe/Berlin", "Europe/Berlin", "Europe/Berlin"),
        ("Asia/Kolkata", "Asia/Kolkata", "Asia/Kolkata"),
        ("UTC", "UTC", "Etc/UTC"),
        ("tzone://Microsoft/Utc", "UTC", "UTC"),
    ];
    for (input, name, iana) in ok {
        let z = tz(input);
        assert_eq!(z.name(), name, "{input}");
        assert_eq!(z.iana_name(), iana, "{input}");
    }
    for bad in [
        "Greenwich Mean Time",
        "",
        "Europe/Atlantis",
        "europe/berlin",
        "+02:00",
    ] {
        let err = GraphTimeZone::parse(bad).unwrap_err();
        assert_eq!(err, CalendarError::InvalidTimeZone(bad.to_string()));
        assert_eq!(err.status(), 400);
        assert_eq!(err.code(), "TimeZoneNotSupportedException");
        assert!(
            err.message().contains(&format!("'{bad}'")),
            "{}",
            err.message()
        );
    }
}

#[test]
fn local_times_convert_with_the_right_offsets() {
    // (zone, local time, expected UTC)
    let cases = [
        (
            "W. Europe Standard Time",
            "2026-01-15T10:00:00",
            utc(2026, 1, 15, 9, 0),
        ),
        (
            "W. Europe Standard Time",
            "2026-07-15T10:00:00",
            utc(2026, 7, 15, 8, 0),
        ),
        (
            "Eastern Standard Time",
            "2026-01-15T10:00:00",
            utc(2026, 1, 15, 15, 0),
        ),
        (
            "Eastern Standard Time",
            "2026-07-15T10:00:00",
            utc(2026, 7, 15, 14, 0),
        ),
        (
            "India Standard Time",
            "2026-01-15T10:00:00",
            utc(2026, 1, 15, 4, 30),
        ),
        (
            "India Standard Time",
            "2026-07-15T10:00:00",
            utc(2026, 7, 15, 4, 30),
        ),
        (
            "AUS Eastern Standard Time",
            "2026-01-15T10:00:00",
            utc(2026, 1, 14, 23, 0),
        ),
        (
            "Pacific Standard Time",
            "2026-03-08T01:30:00",
            utc(2026, 3, 8, 9, 30),
        ),
        // In the spring-forward gap: moved forward (02:30 -> 03:30 EDT).
        (
            "Eastern Standard Time",
            "2026-03-08T02:30:00",
            utc(2026, 3, 8, 7, 30),
        ),
        // Ambiguous (clocks go back): the earlier instant (EDT).
        (
            "Eastern Standard Time",
            "2026-11-01T01:30:00",
            utc(2026, 11, 1, 5, 30),
        ),
        (
            "Europe/Berlin",
            "2026-03-29T02:30:00",
            utc(2026, 3, 29, 1, 30),
        ),
    ];
    for (zone, local, expected) in cases {
        let (instant, z) = DateTimeTimeZone {
            date_time: local.to_string(),
            time_zone: Some(zone.to_string()),
        }
        .resolve()
        .unwrap();
        assert_eq!(instant, expected, "{local} {zone}");
        assert_eq!(z.name(), zone.trim());
    }
}

#[test]
fn date_time_time_zone_parsing_and_rendering() {
    let cases = [
        (
            dtz("2026-03-02T10:00:00.0000000", "UTC"),
            utc(2026, 3, 2, 10, 0),
        ),
        (dtz("2026-03-02T10:00", "UTC"), utc(2026, 3, 2, 10, 0)),
        (
            json!({"dateTime": "2026-03-02T10:00:00"}),
            utc(2026, 3, 2, 10, 0),
        ),
        // An explicit offset wins over timeZone.
        (
            dtz("2026-03-02T10:00:00Z", "Pacific Standard Time"),
            utc(2026, 3, 2, 10, 0),
        ),
        (
            dtz("2026-03-02T10:00:00+01:00", "UTC"),
            utc(2026, 3, 2, 9, 0),
        ),
    ];
    for (value, expected) in cases {
        let d = DateTimeTimeZone::from_json(&value, "start").unwrap();
        assert_eq!(d.resolve().unwrap().0, expected, "{value}");
    }
    for bad in [
        dtz("2026-03-02", "UTC"),
        dtz("yesterday", "UTC"),
        json!({"timeZone": "UTC"}),
        json!("2026-03-02T10:00:00"),
        json!({"dateTime": 5, "timeZone": "UTC"}),
    ] {
        let err = DateTimeTimeZone::from_json(&bad, "start").and_then(|d| d.resolve().map(|_| d));
        assert!(
            matches!(err, Err(CalendarError::InvalidRequest(_))),
            "{bad}"
        );
    }
    let rendered =
        DateTimeTimeZone::from_instant(utc(2026, 3, 2, 9, 0), &tz("India Standard Time"));
    assert_eq!(
        serde_json::to_value(&rendered).unwrap(),
        json!({"dateTime": "2026-03-02T14:30:00.0000000", "timeZone": "India Standard Time"})
    );
    assert_eq!(
        format_graph_instant(utc(2026, 3, 2, 9, 0) + chrono::Duration::microseconds(561_970)),
        "2026-03-02T09:00:00.5619700Z"
    );
}

#[test]
fn prefer_header_outlook_timezone() {
    let cases: [(&str, Option<&str>); 5] = [
        (
            r#"outlook.timezone="Pacific Standard Time""#,
            Some("Pacific Standard Time"),
        ),
        (
            r#"odata.maxpagesize=10, outlook.timezone="Europe/Berlin""#,
            Some("Europe/Berlin"),
        ),
        ("outlook.timezone=UTC", Some("UTC")),
        (r#"IdType="ImmutableId""#, None),
        ("", None),
    ];
    for (header, expected) in cases {
        let got = prefer_outlook_timezone(header).map(|r| r.unwrap().name().to_string());
        assert_eq!(got.as_deref(), expected, "{header}");
    }
    let bad = prefer_outlook_timezone(r#"outlook.timezone="Mars Standard Time""#).unwrap();
    assert!(matches!(bad, Err(CalendarError::InvalidTimeZone(_))));
}

// ---------------------------------------------------------------------------------------------
// Recurrence
// ---------------------------------------------------------------------------------------------

/// (zone, first local start, end, weekday, expected UTC starts of the first 4 occurrences)
#[test]
fn weekly_recurrence_keeps_local_time_across_dst() {
    let cases = [
        // EU: clocks go forward on 2026-03-29; 10:00 Berlin is 09:00Z before, 08:00Z after.
        (
            "W. Europe Standard Time",
            "2026-03-16T10:00:00",
            "2026-03-16T11:00:00",
            "monday",
            [
                utc(2026, 3, 16, 9, 0),
                utc(2026, 3, 23, 9, 0),
                utc(2026, 3, 30, 8, 0),
                utc(2026, 4, 6, 8, 0),
            ],
        ),
        (
            "Europe/Berlin",
            "2026-03-22T10:00:00",
            "2026-03-22T11:00:00",
            "sunday",
            [
                utc(2026, 3, 22, 9, 0),
                utc(2026, 3, 29, 8, 0), // the day of the change itself
                utc(2026, 4, 5, 8, 0),
                utc(2026, 4, 12, 8, 0),
            ],
        ),
        // US: clocks go forward on 2026-03-08; 09:00 New York is 14:00Z before, 13:00Z after.
        (
            "Eastern Standard Time",
            "2026-03-02T09:00:00",
            "2026-03-02T10:00:00",
            "friday",
            [
                utc(2026, 3, 6, 14, 0),
                utc(2026, 3, 13, 13, 0),
                utc(2026, 3, 20, 13, 0),
                utc(2026, 3, 27, 13, 0),
            ],
        ),
        (
            "America/Los_Angeles",
            "2026-03-01T08:30:00",
            "2026-03-01T09:30:00",
            "sunday",
            [
                utc(2026, 3, 1, 16, 30),
                utc(2026, 3, 8, 15, 30),
                utc(2026, 3, 15, 15, 30),
                utc(2026, 3, 22, 15, 30),
            ],
        ),
        // No DST in India: fixed offset.
        (
            "India Standard Time",
            "2026-03-02T15:00:00",
            "2026-03-02T16:00:00",
            "monday",
            [
                utc(2026, 3, 2, 9, 30),
                utc(2026, 3, 9, 9, 30),
                utc(2026, 3, 16, 9, 30),
                utc(2026, 3, 23, 9, 30),
            ],
        ),
    ];
    for (zone, start, end, day, expected) in cases {
        let mut cal = Calendar::new("alice@contoso.example", "Alice");
        let id = create(
            &mut cal,
            weekly_body(
                start,
                end,
                zone,
                &[day],
                json!({"type": "noEnd", "startDate": &start[..10]}),
            ),
        );
        let occ = cal
            .get(&id)
            .unwrap()
            .occurrences(utc(2026, 2, 1, 0, 0), utc(2026, 4, 13, 0, 0));
        let starts: Vec<_> = occ.iter().take(4).map(|o| o.start).collect();
        assert_eq!(starts, expected, "{zone} {day}");
        let local = tz(zone);
        for o in &occ {
            assert_eq!(o.end - o.start, chrono::Duration::hours(1));
            assert_eq!(
                local.to_local(o.start).time(),
                chrono::NaiveDateTime::parse_from_str(start, "%Y-%m-%dT%H:%M:%S")
                    .unwrap()
                    .time(),
                "{zone}: every occurrence at the same local time"
            );
        }
    }
}

#[test]
fn berlin_meeting_seen_from_new_york_shifts_between_the_two_dst_changes() {
    let mut alice = Calendar::new("alice@contoso.example", "Alice");
    create(
        &mut alice,
        weekly_body(
            "2026-03-02T10:00:00",
            "2026-03-02T11:00:00",
            "W. Europe Standard Time",
            &["monday"],
            json!({"type": "numbered", "numberOfOccurrences": 5, "startDate": "2026-03-02"}),
        ),
    );
    let hours = WorkingHours::weekdays_nine_to_five("W. Europe Standard Time").unwrap();
    let req = ScheduleRequest::from_json(&json!({
        "schedules": ["alice@contoso.example"],
        "startTime": dtz("2026-03-01T00:00:00", "Eastern Standard Time"),
        "endTime": dtz("2026-04-30T00:00:00", "Eastern Standard Time"),
        "availabilityViewInterval": 1440,
    }))
    .unwrap();
    let out = get_schedule(&req, &tz("Eastern Standard Time"), |_| {
        ScheduleTarget::Known {
            calendar: &alice,
            working_hours: &hours,
        }
    })
    .unwrap();
    let starts: Vec<_> = out[0]
        .schedule_items
        .iter()
        .map(|i| i.start.date_time.as_str())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-03-02T04:00:00.0000000", // CET / EST: 6 h apart
            "2026-03-09T05:00:00.0000000", // CET / EDT: 5 h apart
            "2026-03-16T05:00:00.0000000",
            "2026-03-23T05:00:00.0000000",
            "2026-03-30T04:00:00.0000000", // CEST / EDT: 6 h apart again
        ]
    );
    assert!(out[0]
        .schedule_items
        .iter()
        .all(|i| i.start.time_zone.as_deref() == Some("Eastern Standard Time")));
}

#[test]
fn recurrence_ranges_intervals_and_first_day_of_week() {
    let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    // (pattern, range, expected local dates within March-April 2026)
    let cases = [
        (
            json!({"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]}),
            json!({"type": "endDate", "startDate": "2026-03-02", "endDate": "2026-03-11"}),
            vec![d(3, 2), d(3, 4), d(3, 9), d(3, 11)],
        ),
        (
            json!({"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]}),
            json!({"type": "numbered", "numberOfOccurrences": 3, "startDate": "2026-03-02"}),
            vec![d(3, 3), d(3, 10), d(3, 17)],
        ),
        (
            json!({"type": "weekly", "interval": 2, "daysOfWeek": ["sunday", "monday"], "firstDayOfWeek": "sunday"}),
            json!({"type": "endDate", "startDate": "2026-03-01", "endDate": "2026-03-20"}),
            vec![d(3, 1), d(3, 2), d(3, 15), d(3, 16)],
        ),
        (
            json!({"type": "weekly", "interval": 2, "daysOfWeek": ["sunday", "monday"], "firstDayOfWeek": "monday"}),
            json!({"type": "endDate", "startDate": "2026-03-01", "endDate": "2026-03-20"}),
            vec![d(3, 1), d(3, 9), d(3, 15)],
        ),
        (
            json!({"type": "daily", "interval": 3}),
            json!({"type": "numbered", "numberOfOccurrences": 4, "startDate": "2026-03-30"}),
            vec![d(3, 30), d(4, 2), d(4, 5), d(4, 8)],
        ),
    ];
    for (pattern, range, expected) in cases {
        let r = Recurrence::from_json(
            &json!({"pattern": pattern, "range": range}),
            &tz("UTC"),
            d(3, 1),
        )
        .unwrap();
        assert_eq!(r.dates_until(d(4, 30)), expected, "{pattern} {range}");
    }
}

#[test]
fn recurrence_json_round_trips_and_defaults() {
    let mut cal = Calendar::new("alice@contoso.example", "Alice");
    // No startDate and no recurrenceTimeZone: both come from the event start.
    let id = create(
        &mut cal,
        weekly_body(
            "2026-03-03T09:00:00",
            "2026-03-03T09:30:00",
            "Europe/Berlin",
            &["Tuesday"],
            json!({"type": "endDate", "endDate": "2026-06-30"}),
        ),
    );
    let e = cal.get(&id).unwrap();
    let j = e.to_graph_json(&GraphTimeZone::utc());
    assert_eq!(j["type"], "seriesMaster");
    assert_eq!(
        j["recurrence"],
        json!({
            "pattern": {"type": "weekly", "interval": 1, "month": 0, "dayOfMonth": 0,
                        "daysOfWeek": ["tuesday"], "firstDayOfWeek": "sunday", "index": "first"},
            "range": {"type": "endDate", "startDate": "2026-03-03", "endDate": "2026-06-30",
                      "recurrenceTimeZone": "W. Europe Standard Time", "numberOfOccurrences": 0}
        })
    );
    // Feeding the rendered recurrence back gives the same model.
    let again =
        Recurrence::from_json(&j["recurrence"], &tz("Europe/Berlin"), NaiveDate::MIN).unwrap();
    assert_eq!(
        Some(again.pattern),
        e.recurrence.as_ref().map(|r| r.pattern.clone())
    );
    assert_eq!(
        again.range.start_date,
        e.recurrence.as_ref().unwrap().range.start_date
    );
    assert_eq!(again.range.end, e.recurrence.as_ref().unwrap().range.end);
}

#[test]
fn invalid_recurrences_are_rejected() {
    let cases = [
        json!({"pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday"]}, "range": {"type": "noEnd"}}),
        json!({"pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 0}, "range": {"type": "noEnd"}}),
        json!({"pattern": {"type": "weekly", "interval": 1}, "range": {"type": "noEnd"}}),
        json!({"pattern": {"type": "weekly", "interval": 0, "daysOfWeek": ["monday"]}, "range": {"type": "noEnd"}}),
        json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["funday"]}, "range": {"type": "noEnd"}}),
        json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}, "range": {"type": "numbered", "numberOfOccurrences": 0}}),
        json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}, "range": {"type": "endDate"}}),
        json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}, "range": {"type": "endDate", "startDate": "2026-03-10", "endDate": "2026-03-01"}}),
        json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}, "range": {"type": "sometimes"}}),
        json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}}),
        json!("weekly"),
    ];
    for rec in cases {
        let mut body = event_body("x", "2026-03-02T10:00:00", "2026-03-02T11:00:00", "UTC");
        body["recurrence"] = rec.clone();
        let err = NewEvent::from_json(&body).unwrap_err();
        assert!(
            matches!(err, CalendarError::InvalidRequest(_)),
            "{rec}: {err:?}"
        );
        assert_eq!(err.code(), "ErrorInvalidRequest");
    }
    let mut body = event_body("x", "2026-03-02T10:00:00", "2026-03-02T11:00:00", "UTC");
    body["recurrence"] = json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                               "range": {"type": "noEnd", "recurrenceTimeZone": "Nowhere Standard Time"}});
    assert!(matches!(
        NewEvent::from_json(&body),
        Err(CalendarError::InvalidTimeZone(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

#[test]
fn created_event_has_graph_shape() {
    let mut cal = Calendar::new("alice@contoso.example", "Alice Example");
    let body = json!({
        "subject": "Interview: Jane Doe",
        "body": {"contentType": "HTML", "content": "<html><head><style>p{}</style></head><body><p>Hello&nbsp;<b>Jane</b></p></body></html>"},
        "start": dtz("2026-03-02T10:00:00", "W. Europe Standard Time"),
        "end": dtz("2026-03-02T11:00:00", "W. Europe Standard Time"),
        "location": {"displayName": "Room 1"},
        "attendees": [
            {"emailAddress": {"address": "bob@contoso.example", "name": "Bob"}, "type": "required"},
            {"emailAddress": {"address": "carol@contoso.example"}, "type": "Optional"},
            {"emailAddress": {"address": "BOB@contoso.example"}, "type": "optional"}
        ],
        "isOnlineMeeting": true,
        "onlineMeetingProvider": "teamsForBusiness",
        "transactionId": "7E163156-7762-4BEB-A1C6-729EA81755A7",
        "someUnknownProperty": 1
    });
    let created = cal.create_event_from_json(&body, now()).unwrap();
    assert!(created.created);
    let e = created.event;
    let j = e.to_graph_json(&GraphTimeZone::utc());

    // Every property of the Graph sample (POST /me/calendars/{id}/events, outlook-mocks.json).
    let sample_keys = [
        "@odata.etag",
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "changeKey",
        "categories",
        "originalStartTimeZone",
        "originalEndTimeZone",
        "iCalUId",
        "reminderMinutesBeforeStart",
        "isReminderOn",
        "hasAttachments",
        "hideAttendees",
        "subject",
        "bodyPreview",
        "importance",
        "sensitivity",
        "isAllDay",
        "isCancelled",
        "isDraft",
        "isOrganizer",
        "responseRequested",
        "seriesMasterId",
        "transactionId",
        "showAs",
        "type",
        "webLink",
        "onlineMeetingUrl",
        "isOnlineMeeting",
        "onlineMeetingProvider",
        "onlineMeeting",
        "recurrence",
        "responseStatus",
        "body",
        "start",
        "end",
        "location",
        "locations",
        "attendees",
        "organizer",
        "allowNewTimeProposals",
        "occurrenceId",
    ];
    for key in sample_keys {
        assert!(j.get(key).is_some(), "missing {key}");
    }
    assert_eq!(j["@odata.etag"], format!("W/\"{}\"", e.change_key));
    assert_eq!(j["subject"], "Interview: Jane Doe");
    assert_eq!(j["bodyPreview"], "Hello Jane");
    assert_eq!(j["body"]["contentType"], "html");
    assert_eq!(
        j["start"],
        json!({"dateTime": "2026-03-02T09:00:00.0000000", "timeZone": "UTC"})
    );
    assert_eq!(
        j["end"],
        json!({"dateTime": "2026-03-02T10:00:00.0000000", "timeZone": "UTC"})
    );
    assert_eq!(j["originalStartTimeZone"], "W. Europe Standard Time");
    assert_eq!(j["showAs"], "busy");
    assert_eq!(j["type"], "singleInstance");
    assert_eq!(j["isOrganizer"], true);
    assert_eq!(j["isCancelled"], false);
    assert_eq!(j["responseStatus"]["response"], "organizer");
    assert_eq!(j["transactionId"], "7E163156-7762-4BEB-A1C6-729EA81755A7");
    assert_eq!(j["location"]["displayName"], "Room 1");
    assert_eq!(j["locations"].as_array().unwrap().len(), 1);
    assert_eq!(
        j["organizer"],
        json!({"emailAddress": {"name": "Alice Example", "address": "alice@contoso.example"}})
    );
    assert_eq!(
        j["attendees"],
        json!([
            {"type": "required", "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
             "emailAddress": {"name": "Bob", "address": "bob@contoso.example"}},
            {"type": "optional", "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
             "emailAddress": {"name": "carol@contoso.example", "address": "carol@contoso.example"}}
        ])
    );
    assert_eq!(j["onlineMeetingProvider"], "teamsForBusiness");
    let join = j["onlineMeeting"]["joinUrl"].as_str().unwrap();
    assert!(
        join.starts_with("https://teams.microsoft.com/l/meetup-join/19%3ameeting_"),
        "{join}"
    );
    assert!(j["id"].as_str().unwrap().starts_with("AAMkA"));
    assert!(j["webLink"]
        .as_str()
        .unwrap()
        .starts_with("https://outlook.office365.com/owa/?itemid=AAMkA"));
    assert!(!j["webLink"]
        .as_str()
        .unwrap()
        .contains('='.to_string().repeat(2).as_str()));
    assert_eq!(j["createdDateTime"], "2026-02-20T12:00:00.0000000Z");
    assert!(j["iCalUId"]
        .as_str()
        .unwrap()
        .starts_with("040000008200E00074C5B7101A82E008"));
}

#[test]
fn event_start_end_render_in_the_requested_zone() {
    let mut cal = Calendar::new("alice@contoso.example", "Alice");
    let id = create(
        &mut cal,
        event_body(
            "x",
            "2026-07-01T10:00:00",
            "2026-07-01T11:30:00",
            "Europe/Berlin",
        ),
    );
    let e = cal.get(&id).unwrap();
    let cases = [
        (
            "UTC",
            "2026-07-01T08:00:00.0000000",
            "2026-07-01T09:30:00.0000000",
        ),
        (
            "Pacific Standard Time",
            "2026-07-01T01:00:00.0000000",
            "2026-07-01T02:30:00.0000000",
        ),
        (
            "Eastern Standard Time",
            "2026-07-01T04:00:00.0000000",
            "2026-07-01T05:30:00.0000000",
        ),
        (
            "India Standard Time",
            "2026-07-01T13:30:00.0000000",
            "2026-07-01T15:00:00.0000000",
        ),
        (
            "Asia/Tokyo",
            "2026-07-01T17:00:00.0000000",
            "2026-07-01T18:30:00.0000000",
        ),
        (
            "Europe/Berlin",
            "2026-07-01T10:00:00.0000000",
            "2026-07-01T11:30:00.0000000",
        ),
    ];
    for (zone, start, end) in cases {
        let j = e.to_graph_json(&tz(zone));
        assert_eq!(
            j["start"],
            json!({"dateTime": start, "timeZone": zone}),
            "{zone}"
        );
        assert_eq!(
            j["end"],
            json!({"dateTime": end, "timeZone": zone}),
            "{zone}"
        );
    }
    // An IANA input zone is reported by its Windows id.
    assert_eq!(
        e.to_graph_json(&GraphTimeZone::utc())["originalStartTimeZone"],
        "W. Europe Standard Time"
    );
}

#[test]
fn create_validation_errors() {
    let ok = event_body("x", "2026-03-02T10:00:00", "2026-03-02T11:00:00", "UTC");
    let with = |key: &str, value: Value| {
        let mut b = ok.clone();
        b[key] = value;
        b
    };
    let without = |key: &str| {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(key);
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            event_body("x", "2026-03-02T11:00:00", "2026-03-02T10:00:00", "UTC"),
            "ErrorPropertyValidationFailure",
        ),
        (
            json!({"start": dtz("2026-03-02T10:00:00", "W. Europe Standard Time"),
                   "end": dtz("2026-03-02T08:30:00", "UTC")}),
            "ErrorPropertyValidationFailure",
        ),
        (
            with("start", dtz("2026-03-02T10:00:00", "Greenwich Mean Time")),
            "TimeZoneNotSupportedException",
        ),
        (
            with("end", dtz("2026-03-02T11:00:00", "Mars/Base")),
            "TimeZoneNotSupportedException",
        ),
        (
            with("start", dtz("not a date", "UTC")),
            "ErrorInvalidRequest",
        ),
        (without("start"), "ErrorInvalidRequest"),
        (without("end"), "ErrorInvalidRequest"),
        (with("subject", json!(5)), "ErrorInvalidRequest"),
        (with("showAs", json!("sleeping")), "ErrorInvalidRequest"),
        (
            with("attendees", json!({"emailAddress": {"address": "a@b.c"}})),
            "ErrorInvalidRequest",
        ),
        (
            with(
                "attendees",
                json!([{"emailAddress": {"name": "No Address"}}]),
            ),
            "ErrorInvalidRequest",
        ),
        (
            with("attendees", json!([{"emailAddress": {"address": "bob"}}])),
            "ErrorInvalidRequest",
        ),
        (
            with(
                "attendees",
                json!([{"emailAddress": {"address": "b@c.d"}, "type": "vip"}]),
            ),
            "ErrorInvalidRequest",
        ),
        (with("isOnlineMeeting", json!("yes")), "ErrorInvalidRequest"),
        (json!([1, 2]), "ErrorInvalidRequest"),
    ];
    for (body, code) in cases {
        let err = NewEvent::from_json(&body).unwrap_err();
        assert_eq!(err.code(), code, "{body}: {err:?}");
        assert_eq!(err.status(), 400);
    }
    // Zero-length events are allowed (Outlook has them); PascalCase names bind too.
    assert!(NewEvent::from_json(&event_body(
        "x",
        "2026-03-02T10:00:00",
        "2026-03-02T10:00:00",
        "UTC"
    ))
    .is_ok());
    let pascal = json!({"Subject": "P", "Start": dtz("2026-03-02T10:00:00", "UTC"),
                        "End": dtz("2026-03-02T11:00:00", "UTC"), "ShowAs": "Tentative"});
    let parsed = NewEvent::from_json(&pascal).unwrap();
    assert_eq!(parsed.subject, "P");
    assert_eq!(parsed.show_as, FreeBusyStatus::Tentative);
}

#[test]
fn transaction_id_deduplicates_per_calendar() {
    let mut alice = Calendar::new("alice@contoso.example", "Alice");
    let mut bob = Calendar::new("bob@contoso.example", "Bob");
    let mut body = event_body(
        "Interview",
        "2026-03-02T10:00:00",
        "2026-03-02T11:00:00",
        "UTC",
    );
    body["transactionId"] = json!("tx-1");

    let first = alice.create_event_from_json(&body, now()).unwrap();
    assert!(first.created);
    let (first_id, first_key) = (first.event.id.clone(), first.event.change_key.clone());

    // A retry, even with a different body, returns the first event untouched.
    let mut retry = body.clone();
    retry["subject"] = json!("Interview (retry)");
    let second = alice
        .create_event_from_json(&retry, now() + chrono::Duration::seconds(5))
        .unwrap();
    assert!(!second.created);
    assert_eq!(second.event.id, first_id);
    assert_eq!(second.event.subject, "Interview");
    assert_eq!(second.event.change_key, first_key);
    assert_eq!(alice.len(), 1);
    assert_eq!(alice.find_by_transaction_id("tx-1").unwrap().id, first_id);

    // Another transactionId, or none, creates.
    body["transactionId"] = json!("tx-2");
    assert!(alice.create_event_from_json(&body, now()).unwrap().created);
    body.as_object_mut().unwrap().remove("transactionId");
    assert!(alice.create_event_from_json(&body, now()).unwrap().created);
    assert!(alice.create_event_from_json(&body, now()).unwrap().created);
    assert_eq!(alice.len(), 4);

    // The same transactionId in another mailbox is another event.
    body["transactionId"] = json!("tx-1");
    let other = bob.create_event_from_json(&body, now()).unwrap();
    assert!(other.created);
    assert_ne!(other.event.id, first_id);

    // Without transactionId set, the property is null in the JSON.
    let plain = alice
        .events()
        .last()
        .unwrap()
        .to_graph_json(&GraphTimeZone::utc());
    assert_eq!(plain["transactionId"], Value::Null);
    // Ids are unique within the calendar.
    let ids: std::collections::HashSet<_> = alice.events().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), 4);
}

#[test]
fn online_meeting_rules() {
    // (isOnlineMeeting, provider, expected provider, join url?)
    let cases = [
        (
            Some(true),
            Some("teamsForBusiness"),
            "teamsForBusiness",
            true,
        ),
        (Some(true), None, "teamsForBusiness", true),
        (
            Some(true),
            Some("skypeForBusiness"),
            "skypeForBusiness",
            false,
        ),
        (Some(false), None, "unknown", false),
        (None, None, "unknown", false),
    ];
    for (on, provider, expected, join) in cases {
        let mut body = event_body("x", "2026-03-02T10:00:00", "2026-03-02T11:00:00", "UTC");
        if let Some(on) = on {
            body["isOnlineMeeting"] = json!(on);
        }
        if let Some(p) = provider {
            body["onlineMeetingProvider"] = json!(p);
        }
        let mut cal = Calendar::new("alice@contoso.example", "Alice");
        let j = cal
            .create_event_from_json(&body, now())
            .unwrap()
            .event
            .to_graph_json(&GraphTimeZone::utc());
        assert_eq!(j["onlineMeetingProvider"], expected, "{on:?} {provider:?}");
        assert_eq!(
            j["onlineMeeting"]["joinUrl"].is_string(),
            join,
            "{on:?} {provider:?}"
        );
    }
}

#[test]
fn patch_updates_only_what_is_sent() {
    let mut cal = Calendar::new("alice@contoso.example", "Alice");
    let mut body = event_body(
        "Interview",
        "2026-03-02T10:00:00",
        "2026-03-02T11:00:00",
        "UTC",
    );
    body["attendees"] = json!([{"emailAddress": {"address": "bob@contoso.example"}}]);
    body["location"] = json!({"displayName": "Room 1"});
    body["transactionId"] = json!("tx");
    let id = create(&mut cal, body);
    cal.record_attendee_response(
        &cal.get(&id).unwrap().ical_uid.clone(),
        "bob@contoso.example",
        ResponseType::Accepted,
        now(),
    )
    .unwrap();
    let before = cal.get(&id).unwrap().clone();

    let later = now() + chrono::Duration::minutes(5);
    let e = cal
        .update_event_from_json(
            &id,
            &json!({
                "subject": "Interview (moved)",
                "start": dtz("2026-03-02T14:00:00", "Eastern Standard Time"),
                "end": dtz("2026-03-02T15:00:00", "Eastern Standard Time"),
                "attendees": [
                    {"emailAddress": {"address": "BOB@contoso.example"}, "type": "required"},
                    {"emailAddress": {"address": "carol@contoso.example"}, "type": "optional"}
                ],
                "location": {"displayName": "Room 2"},
                "body": {"contentType": "text", "content": "New agenda"},
                "transactionId": "tx"
            }),
            later,
        )
        .unwrap();
    assert_eq!(e.subject, "Interview (moved)");
    assert_eq!(e.start, utc(2026, 3, 2, 19, 0));
    assert_eq!(e.end, utc(2026, 3, 2, 20, 0));
    assert_eq!(e.start_time_zone.name(), "Eastern Standard Time");
    assert_eq!(e.location.as_ref().unwrap().display_name, "Room 2");
    assert_eq!(e.body.preview(), "New agenda");
    assert_eq!(e.attendees.len(), 2);
    assert_eq!(
        e.attendees[0].status.response,
        ResponseType::Accepted,
        "kept bob's answer"
    );
    assert_eq!(e.attendees[1].status.response, ResponseType::None);
    assert_eq!(e.attendees[1].attendee_type, AttendeeType::Optional);
    assert_ne!(e.change_key, before.change_key);
    assert_eq!(e.last_modified_date_time, later);
    assert_eq!(e.created_date_time, before.created_date_time);
    assert_eq!(e.id, before.id);
    assert_eq!(e.ical_uid, before.ical_uid);
    assert_eq!(e.show_as, before.show_as);

    // Only the subject.
    let key = e.change_key.clone();
    let e = cal
        .update_event_from_json(&id, &json!({"subject": "S"}), later)
        .unwrap();
    assert_eq!(e.subject, "S");
    assert_eq!(e.start, utc(2026, 3, 2, 19, 0));
    assert_eq!(e.location.as_ref().unwrap().display_name, "Room 2");
    assert_ne!(e.change_key, key);

    // Clearing the location.
    let e = cal
        .update_event_from_json(&id, &json!({"location": null}), later)
        .unwrap();
    assert_eq!(e.location, None);

    // Turning it into a Teams meeting adds a join URL; it stays stable on later edits.
    let join = cal
        .update_event_from_json(&id, &json!({"isOnlineMeeting": true}), later)
        .unwrap()
        .online_meeting
        .clone()
        .unwrap()
        .join_url;
    let e = cal
        .update_event_from_json(&id, &json!({"showAs": "oof"}), later)
        .unwrap();
    assert_eq!(e.online_meeting.as_ref().unwrap().join_url, join);
    assert_eq!(e.show_as, FreeBusyStatus::Oof);
}

#[test]
fn patch_errors_leave_the_event_unchanged() {
    let mut cal = Calendar::new("alice@contoso.example", "Alice");
    let mut body = event_body(
        "Interview",
        "2026-03-02T10:00:00",
        "2026-03-02T11:00:00",
        "UTC",
    );
    body["transactionId"] = json!("tx");
    let id = create(&mut cal, body);
    let before = cal.get(&id).unwrap().clone();
    let cases: [(&str, Value, &str); 7] = [
        (
            id.as_str(),
            json!({"subject": "x", "end": dtz("2026-03-02T09:00:00", "UTC")}),
            "ErrorPropertyValidationFailure",
        ),
        (
            id.as_str(),
            json!({"start": dtz("2026-03-02T12:00:00", "UTC")}),
            "ErrorPropertyValidationFailure",
        ),
        (
            id.as_str(),
            json!({"start": dtz("2026-03-02T10:00:00", "Nowhere")}),
            "TimeZoneNotSupportedException",
        ),
        (
            id.as_str(),
            json!({"transactionId": "other"}),
            "ErrorInvalidRequest",
        ),
        (
            id.as_str(),
            json!({"subject": ["x"]}),
            "ErrorInvalidRequest",
        ),
        (
            id.as_str(),
            json!({"recurrence": {"pattern": {"type": "yearly"}, "range": {"type": "noEnd"}}}),
            "ErrorInvalidRequest",
        ),
        ("AAMkAnope", json!({"subject": "x"}), "ErrorItemNotFound"),
    ];
    for (target, patch, code) in cases {
        let err = cal
            .update_event_from_json(target, &patch, now())
            .unwrap_err();
        assert_eq!(err.code(), code, "{patch}");
        assert_eq!(
            cal.get(&id).unwrap(),
            &before,
            "{patch} must not change the event"
        );
    }
    assert_eq!(
        cal.update_event_from_json("AAMkAnope", &json!({}), now())
            .unwrap_err()
            .status(),
        404
    );
}

#[test]
fn patch_recurrence_add_move_remove() {
    let mut cal = Calendar::new("alice@contoso.example", "Alice");
    let id = create(
        &mut cal,
        event_body(
            "x",
            "2026-03-02T10:00:00",
            "2026-03-02T11:00:00",
            "Europe/Berlin",
        ),
    );
    let window = (utc(2026, 3, 1, 0, 0), utc(2026, 3, 31, 0, 0));
    assert_eq!(
        cal.get(&id).unwrap().occurrences(window.0, window.1).len(),
        1
    );
    cal.update_event_from_json(
        &id,
        &json!({"recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                               "range": {"type": "noEnd", "startDate": "2026-03-02"}}}),
        now(),
    )
    .unwrap();
    assert_eq!(
        cal.get(&id).unwrap().occurrences(window.0, window.1).len(),
        5
    );
    // Moving the series start moves the range start.
    let e = cal
        .update_event_from_json(
            &id,
            &json!({"start": dtz("2026-03-16T10:00:00", "Europe/Berlin"),
                    "end": dtz("2026-03-16T11:00:00", "Europe/Berlin")}),
            now(),
        )
        .unwrap();
    assert_eq!(
        e.recurrence.as_ref().unwrap().range.start_date,
        NaiveDate::from_ymd_opt(2026, 3, 16).unwrap()
    );
    assert_eq!(e.occurrences(window.0, window.1).len(), 3);
    let e = cal
        .update_event_from_json(&id, &json!({"recurrence": null}), now())
        .unwrap();
    assert!(e.recurrence.is_none());
    assert_eq!(e.occurrences(window.0, window.1).len(), 1);
}

#[test]
fn delete_cancel_and_attendee_copies() {
    let t0 = now();
    let mut alice = Calendar::new("alice@contoso.example", "Alice");
    let mut bob = Calendar::new("bob@contoso.example", "Bob");
    let mut body = event_body(
        "Interview",
        "2026-03-02T10:00:00",
        "2026-03-02T11:00:00",
        "UTC",
    );
    body["attendees"] = json!([{"emailAddress": {"address": "bob@contoso.example"}}]);
    let id = create(&mut alice, body);
    let organizer_event = alice.get(&id).unwrap().clone();

    // The invitation: a tentative, not-responded copy with the same iCalUId.
    let copy = bob.deliver_invitation(&organizer_event, t0).clone();
    assert_ne!(copy.id, organizer_event.id);
    assert_eq!(copy.ical_uid, organizer_event.ical_uid);
    assert!(!copy.is_organizer);
    assert_eq!(copy.show_as, FreeBusyStatus::Tentative);
    assert_eq!(copy.response_status.response, ResponseType::NotResponded);
    assert_eq!(copy.organizer.address, "alice@contoso.example");
    assert!(copy.involves("alice@contoso.example") && copy.involves("BOB@contoso.example"));
    // Delivering again (an update) does not duplicate.
    bob.deliver_invitation(&organizer_event, t0);
    assert_eq!(bob.len(), 1);

    // Bob accepts: busy; Alice records it.
    let uid = bob.respond(&copy.id, ResponseType::Accepted, t0).unwrap();
    assert_eq!(bob.get(&copy.id).unwrap().show_as, FreeBusyStatus::Busy);
    let e = alice
        .record_attendee_response(&uid, "bob@contoso.example", ResponseType::Accepted, t0)
        .unwrap();
    assert_eq!(e.attendees[0].status.response, ResponseType::Accepted);
    assert!(alice
        .record_attendee_response(&uid, "eve@contoso.example", ResponseType::Accepted, t0)
        .is_none());

    // Only the organizer can cancel; an attendee gets NotOrganizer.
    let err = bob.cancel_event(&copy.id).unwrap_err();
    assert_eq!(err, CalendarError::NotOrganizer);
    assert_eq!(err.status(), 400);
    assert_eq!(
        bob.respond(&copy.id, ResponseType::Organizer, t0)
            .unwrap_err()
            .code(),
        "ErrorInvalidRequest"
    );
    assert_eq!(
        alice
            .respond(&id, ResponseType::Accepted, t0)
            .unwrap_err()
            .code(),
        "ErrorInvalidRequest"
    );

    // The organizer cancels: gone from her calendar, cancelled in Bob's.
    let cancelled = alice.cancel_event(&id).unwrap();
    assert!(alice.get(&id).is_none());
    let c = bob.deliver_cancellation(&cancelled.ical_uid, t0).unwrap();
    assert!(c.is_cancelled);
    assert_eq!(c.subject, "Canceled: Interview");
    assert_eq!(c.to_graph_json(&GraphTimeZone::utc())["isCancelled"], true);
    // Idempotent.
    assert_eq!(
        bob.deliver_cancellation(&cancelled.ical_uid, t0)
            .unwrap()
            .subject,
        "Canceled: Interview"
    );
    assert!(bob.deliver_cancellation("no-such-uid", t0).is_none());

    // Delete and not-found.
    assert_eq!(bob.delete_event(&copy.id).unwrap().id, copy.id);
    assert!(bob.is_empty());
    assert_eq!(
        bob.delete_event(&copy.id).unwrap_err(),
        CalendarError::ItemNotFound(copy.id.clone())
    );
    let err = alice.cancel_event(&id).unwrap_err();
    assert_eq!(err, CalendarError::ItemNotFound(id.clone()));
    assert_eq!(err.code(), "ErrorItemNotFound");
    assert_eq!(err.status(), 404);

    // Declining removes the copy.
    let mut carol = Calendar::new("carol@contoso.example", "Carol");
    let c = carol.deliver_invitation(&organizer_event, t0).id.clone();
    carol.respond(&c, ResponseType::Declined, t0).unwrap();
    assert!(carol.is_empty());
}

// ---------------------------------------------------------------------------------------------
// getSchedule
// ---------------------------------------------------------------------------------------------

fn schedule_req(
    schedules: &[&str],
    start: &str,
    end: &str,
    zone: &str,
    interval: i64,
) -> ScheduleRequest {
    ScheduleRequest::from_json(&json!({
        "schedules": schedules,
        "startTime": dtz(start, zone),
        "endTime": dtz(end, zone),
        "availabilityViewInterval": interval,
    }))
    .unwrap()
}

fn busy_day() -> Calendar {
    let mut bob = Calendar::new("bob@contoso.example", "Bob");
    let ev = |subject: &str, s: &str, e: &str, show_as: &str| {
        let mut b = event_body(
            subject,
            &format!("2026-03-10T{s}:00"),
            &format!("2026-03-10T{e}:00"),
            "Eastern Standard Time",
        );
        b["showAs"] = json!(show_as);
        b["location"] = json!({"displayName": format!("{subject} room")});
        b
    };
    create(&mut bob, ev("Busy", "10:00", "11:00", "busy"));
    create(&mut bob, ev("Maybe", "10:30", "12:00", "tentative"));
    create(&mut bob, ev("Away", "13:00", "13:15", "oof"));
    create(&mut bob, ev("Remote", "14:00", "15:00", "workingElsewhere"));
    create(&mut bob, ev("Free", "15:00", "16:00", "free"));
    let mut private = ev("Secret", "08:00", "08:30", "busy");
    private["sensitivity"] = json!("private");
    create(&mut bob, private);
    // A meeting Alice organised and then cancelled: Bob's copy stays, cancelled.
    let mut alice = Calendar::new("alice@contoso.example", "Alice");
    let mut meeting = ev("Cancelled", "16:00", "17:00", "busy");
    meeting["attendees"] = json!([{"emailAddress": {"address": "bob@contoso.example"}}]);
    let id = create(&mut alice, meeting);
    let copy = bob
        .deliver_invitation(alice.get(&id).unwrap(), now())
        .id
        .clone();
    bob.respond(&copy, ResponseType::Accepted, now()).unwrap();
    let cancelled = alice.cancel_event(&id).unwrap();
    assert!(
        bob.deliver_cancellation(&cancelled.ical_uid, now())
            .unwrap()
            .is_cancelled
    );
    bob
}

#[test]
fn availability_view_digits_priorities_and_items() {
    let bob = busy_day();
    let hours = WorkingHours::weekdays_nine_to_five("America/New_York").unwrap();
    let req = schedule_req(
        &["bob@contoso.example"],
        "2026-03-10T09:00:00",
        "2026-03-10T17:00:00",
        "Eastern Standard Time",
        30,
    );
    let out = get_schedule(&req, &tz("Eastern Standard Time"), |_| {
        ScheduleTarget::Known {
            calendar: &bob,
            working_hours: &hours,
        }
    })
    .unwrap();
    assert_eq!(out.len(), 1);
    let s = &out[0];
    assert_eq!(s.schedule_id, "bob@contoso.example");
    //                       9   10  11  12  13  14  15  16
    assert_eq!(s.availability_view, "0022110030440000");
    assert_eq!(s.availability_view.len(), 16);
    assert!(s.error.is_none());

    // Items: blocking, non-cancelled, in window, sorted, rendered in the output zone.
    let items: Vec<_> = s
        .schedule_items
        .iter()
        .map(|i| {
            (
                i.subject.as_deref().unwrap(),
                i.status,
                i.start.date_time.as_str(),
                i.end.date_time.as_str(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            (
                "Busy",
                FreeBusyStatus::Busy,
                "2026-03-10T10:00:00.0000000",
                "2026-03-10T11:00:00.0000000"
            ),
            (
                "Maybe",
                FreeBusyStatus::Tentative,
                "2026-03-10T10:30:00.0000000",
                "2026-03-10T12:00:00.0000000"
            ),
            (
                "Away",
                FreeBusyStatus::Oof,
                "2026-03-10T13:00:00.0000000",
                "2026-03-10T13:15:00.0000000"
            ),
            (
                "Remote",
                FreeBusyStatus::WorkingElsewhere,
                "2026-03-10T14:00:00.0000000",
                "2026-03-10T15:00:00.0000000"
            ),
        ]
    );
    let j = serde_json::to_value(&s.schedule_items[0]).unwrap();
    assert_eq!(
        j,
        json!({"isPrivate": false, "status": "busy", "subject": "Busy", "location": "Busy room",
               "start": {"dateTime": "2026-03-10T10:00:00.0000000", "timeZone": "Eastern Standard Time"},
               "end": {"dateTime": "2026-03-10T11:00:00.0000000", "timeZone": "Eastern Standard Time"}})
    );
    assert_eq!(
        s.working_hours.as_ref().unwrap(),
        &json!({"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "09:00:00.0000000", "endTime": "17:00:00.0000000",
                "timeZone": {"name": "Eastern Standard Time"}})
    );

    // Widening the window brings in the private 08:00 item, without subject or location.
    let req = schedule_req(
        &["bob@contoso.example"],
        "2026-03-10T08:00:00",
        "2026-03-10T09:00:00",
        "Eastern Standard Time",
        15,
    );
    let out = get_schedule(&req, &GraphTimeZone::utc(), |_| ScheduleTarget::Known {
        calendar: &bob,
        working_hours: &hours,
    })
    .unwrap();
    assert_eq!(out[0].availability_view, "2200");
    let private = serde_json::to_value(&out[0].schedule_items[0]).unwrap();
    assert_eq!(
        private,
        json!({"isPrivate": true, "status": "busy",
               "start": {"dateTime": "2026-03-10T12:00:00.0000000", "timeZone": "UTC"},
               "end": {"dateTime": "2026-03-10T12:30:00.0000000", "timeZone": "UTC"}})
    );
}

#[test]
fn availability_view_length_follows_window_and_interval() {
    let cal = Calendar::new("alice@contoso.example", "Alice");
    let hours = WorkingHours::weekdays_nine_to_five("W. Europe Standard Time").unwrap();
    // (start, end, interval, digits)
    let cases = [
        ("2026-03-10T09:00:00", "2026-03-10T17:00:00", 30, 16),
        ("2026-03-10T09:00:00", "2026-03-10T10:05:00", 30, 3),
        ("2026-03-10T09:00:00", "2026-03-10T09:05:00", 5, 1),
        ("2026-03-10T00:00:00", "2026-03-13T00:00:00", 1440, 3),
        ("2026-03-01T00:00:00", "2026-05-01T23:59:00", 1440, 62),
        ("2026-03-10T09:00:00", "2026-03-10T10:00:00", 7, 9),
    ];
    for (start, end, interval, digits) in cases {
        let req = schedule_req(&["alice@contoso.example"], start, end, "UTC", interval);
        let out = get_schedule(&req, &GraphTimeZone::utc(), |_| ScheduleTarget::Known {
            calendar: &cal,
            working_hours: &hours,
        })
        .unwrap();
        assert_eq!(
            out[0].availability_view,
            "0".repeat(digits),
            "{start}..{end}/{interval}"
        );
        assert!(out[0].schedule_items.is_empty());
    }
}

#[test]
fn recurring_events_expand_into_free_busy() {
    let mut alice = Calendar::new("alice@contoso.example", "Alice");
    create(
        &mut alice,
        weekly_body(
            "2026-03-23T10:00:00",
            "2026-03-23T11:00:00",
            "W. Europe Standard Time",
            &["monday", "wednesday"],
            json!({"type": "endDate", "startDate": "2026-03-23", "endDate": "2026-04-01"}),
        ),
    );
    let hours = WorkingHours::weekdays_nine_to_five("W. Europe Standard Time").unwrap();
    // Hourly digits over two UTC days around the EU change, Mon 23 and Mon 30 March.
    for (day, busy_hour_utc) in [("2026-03-23", 9usize), ("2026-03-30", 8usize)] {
        let req = schedule_req(
            &["alice@contoso.example"],
            &format!("{day}T00:00:00"),
            &format!("{day}T23:59:00"),
            "UTC",
            60,
        );
        let out = get_schedule(&req, &tz("Europe/Berlin"), |_| ScheduleTarget::Known {
            calendar: &alice,
            working_hours: &hours,
        })
        .unwrap();
        let view = &out[0].availability_view;
        assert_eq!(view.len(), 24);
        let expected: String = (0..24)
            .map(|h| if h == busy_hour_utc { '2' } else { '0' })
            .collect();
        assert_eq!(view, &expected, "{day}");
        assert_eq!(out[0].schedule_items.len(), 1);
        assert_eq!(
            out[0].schedule_items[0].start.date_time,
            format!("{day}T10:00:00.0000000")
        );
        assert_eq!(
            out[0].schedule_items[0].start.time_zone.as_deref(),
            Some("Europe/Berlin")
        );
    }
    // The whole series inside a 3-week window: Mon 23, Wed 25, Mon 30, Wed 1 April (endDate inclusive).
    let req = schedule_req(
        &["alice@contoso.example"],
        "2026-03-20T00:00:00",
        "2026-04-10T00:00:00",
        "UTC",
        1440,
    );
    let out = get_schedule(&req, &GraphTimeZone::utc(), |_| ScheduleTarget::Known {
        calendar: &alice,
        working_hours: &hours,
    })
    .unwrap();
    let starts: Vec<_> = out[0]
        .schedule_items
        .iter()
        .map(|i| i.start.date_time.clone())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-03-23T09:00:00.0000000",
            "2026-03-25T09:00:00.0000000",
            "2026-03-30T08:00:00.0000000",
            "2026-04-01T08:00:00.0000000",
        ]
    );
    assert_eq!(out[0].availability_view, "000202000020200000000");
}

#[test]
fn error_entries_for_unknown_and_on_premises_addresses() {
    let alice = Calendar::new("alice@contoso.example", "Alice");
    let carol = Calendar::new("carol@contoso.example", "Carol");
    let alice_hours = WorkingHours::weekdays_nine_to_five("W. Europe Standard Time").unwrap();
    let carol_hours = WorkingHours::weekdays_nine_to_five("Asia/Kolkata").unwrap();
    let req = schedule_req(
        &[
            "alice@contoso.example",
            "nobody@elsewhere.example",
            "dave@contoso.example",
            "Carol@Contoso.example",
        ],
        "2026-03-10T09:00:00",
        "2026-03-10T10:00:00",
        "UTC",
        30,
    );
    let mut asked = Vec::new();
    let out = get_schedule(&req, &GraphTimeZone::utc(), |addr| {
        asked.push(addr.to_string());
        match addr.to_ascii_lowercase().as_str() {
            "alice@contoso.example" => ScheduleTarget::Known {
                calendar: &alice,
                working_hours: &alice_hours,
            },
            "carol@contoso.example" => ScheduleTarget::Known {
                calendar: &carol,
                working_hours: &carol_hours,
            },
            "dave@contoso.example" => ScheduleTarget::OnPremises,
            _ => ScheduleTarget::Unknown,
        }
    })
    .unwrap();
    assert_eq!(asked, req.schedules);
    let ids: Vec<_> = out.iter().map(|s| s.schedule_id.as_str()).collect();
    assert_eq!(
        ids,
        req.schedules.iter().map(String::as_str).collect::<Vec<_>>()
    );

    assert_eq!(out[0].availability_view, "00");
    assert_eq!(
        out[0].working_hours.as_ref().unwrap()["timeZone"]["name"],
        "W. Europe Standard Time"
    );
    assert_eq!(
        out[3].working_hours.as_ref().unwrap()["timeZone"]["name"],
        "India Standard Time"
    );

    let body = schedule_response(&out);
    assert_eq!(
        body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)"
    );
    let unknown = &body["value"][1];
    assert_eq!(unknown["scheduleId"], "nobody@elsewhere.example");
    assert_eq!(unknown["error"]["responseCode"], "5009");
    assert!(unknown["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nobody@elsewhere.example"));
    // Exchange Online sends only scheduleId and error for such an entry.
    assert!(unknown.get("availabilityView").is_none());
    assert!(unknown.get("scheduleItems").is_none());
    assert!(unknown.get("workingHours").is_none());
    let onprem = &body["value"][2];
    assert_eq!(
        onprem["error"]["responseCode"],
        "MailboxNotEnabledForRESTAPI"
    );
    assert!(onprem["error"]["message"].is_string());
    // Known entries carry no error key at all.
    assert!(body["value"][0].get("error").is_none());
    let keys: Vec<_> = body["value"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    for key in [
        "scheduleId",
        "availabilityView",
        "scheduleItems",
        "workingHours",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key}");
    }
}

#[test]
fn get_schedule_validation_errors() {
    let cal = Calendar::new("alice@contoso.example", "Alice");
    let hours = WorkingHours::weekdays_nine_to_five("UTC").unwrap();
    let twenty: Vec<String> = (0..20).map(|i| format!("u{i}@contoso.example")).collect();
    let twenty_one: Vec<String> = (0..21).map(|i| format!("u{i}@contoso.example")).collect();
    let req =
        |schedules: &[String], start: &str, end: &str, zone: &str, interval: i64| ScheduleRequest {
            schedules: schedules.to_vec(),
            start_time: DateTimeTimeZone {
                date_time: start.into(),
                time_zone: Some(zone.into()),
            },
            end_time: DateTimeTimeZone {
                date_time: end.into(),
                time_zone: Some(zone.into()),
            },
            availability_view_interval: interval,
        };
    let one = vec!["alice@contoso.example".to_string()];
    let cases: Vec<(ScheduleRequest, Option<&str>)> = vec![
        (
            req(
                &twenty,
                "2026-03-10T09:00:00",
                "2026-03-10T10:00:00",
                "UTC",
                30,
            ),
            None,
        ),
        (
            req(
                &twenty_one,
                "2026-03-10T09:00:00",
                "2026-03-10T10:00:00",
                "UTC",
                30,
            ),
            Some("ErrorInvalidRequest"),
        ),
        (
            req(&[], "2026-03-10T09:00:00", "2026-03-10T10:00:00", "UTC", 30),
            Some("ErrorInvalidRequest"),
        ),
        (
            req(
                &one,
                "2026-03-01T00:00:00",
                "2026-05-01T23:59:00",
                "UTC",
                30,
            ),
            None,
        ),
        (
            req(
                &one,
                "2026-03-01T00:00:00",
                "2026-05-02T00:00:00",
                "UTC",
                30,
            ),
            Some("ErrorInvalidTimeInterval"),
        ),
        (
            req(
                &one,
                "2026-03-10T10:00:00",
                "2026-03-10T09:00:00",
                "UTC",
                30,
            ),
            Some("ErrorInvalidTimeInterval"),
        ),
        (
            req(
                &one,
                "2026-03-10T10:00:00",
                "2026-03-10T10:00:00",
                "UTC",
                30,
            ),
            Some("ErrorInvalidTimeInterval"),
        ),
        (
            req(&one, "2026-03-10T09:00:00", "2026-03-10T10:00:00", "UTC", 4),
            Some("ErrorInvalidMergedFreeBusyInterval"),
        ),
        (
            req(&one, "2026-03-10T09:00:00", "2026-03-10T10:00:00", "UTC", 5),
            None,
        ),
        (
            req(
                &one,
                "2026-03-10T00:00:00",
                "2026-03-12T00:00:00",
                "UTC",
                1440,
            ),
            None,
        ),
        (
            req(
                &one,
                "2026-03-10T00:00:00",
                "2026-03-12T00:00:00",
                "UTC",
                1441,
            ),
            Some("ErrorInvalidMergedFreeBusyInterval"),
        ),
        (
            req(
                &one,
                "2026-03-10T09:00:00",
                "2026-03-10T10:00:00",
                "UTC",
                90,
            ),
            Some("ErrorInvalidMergedFreeBusyInterval"),
        ),
        (
            req(
                &one,
                "2026-03-10T09:00:00",
                "2026-03-10T10:00:00",
                "Nowhere Standard Time",
                30,
            ),
            Some("TimeZoneNotSupportedException"),
        ),
        (
            req(&one, "tomorrow", "2026-03-10T10:00:00", "UTC", 30),
            Some("ErrorInvalidRequest"),
        ),
    ];
    for (r, expected) in cases {
        let result = get_schedule(&r, &GraphTimeZone::utc(), |_| ScheduleTarget::Known {
            calendar: &cal,
            working_hours: &hours,
        });
        match expected {
            None => assert_eq!(result.unwrap().len(), r.schedules.len(), "{r:?}"),
            Some(code) => {
                let err = result.unwrap_err();
                assert_eq!(err.code(), code, "{r:?}");
                assert_eq!(err.status(), 400);
            }
        }
    }
}

#[test]
fn schedule_request_body_parsing() {
    // Names bind case-insensitively; the interval defaults to 30.
    let r = ScheduleRequest::from_json(&json!({
        "Schedules": ["a@contoso.example"],
        "StartTime": dtz("2019-03-15T09:00:00", "Pacific Standard Time"),
        "EndTime": dtz("2019-03-15T18:00:00", "Pacific Standard Time"),
    }))
    .unwrap();
    assert_eq!(r.schedules, ["a@contoso.example"]);
    assert_eq!(r.availability_view_interval, 30);
    assert_eq!(validate_schedule_request(&r).unwrap().slots, 18);
    for bad in [
        json!({"startTime": dtz("2019-03-15T09:00:00", "UTC"), "endTime": dtz("2019-03-15T18:00:00", "UTC")}),
        json!({"schedules": "a@b.c", "startTime": dtz("2019-03-15T09:00:00", "UTC"), "endTime": dtz("2019-03-15T18:00:00", "UTC")}),
        json!({"schedules": [1], "startTime": dtz("2019-03-15T09:00:00", "UTC"), "endTime": dtz("2019-03-15T18:00:00", "UTC")}),
        json!({"schedules": ["a@b.c"], "endTime": dtz("2019-03-15T18:00:00", "UTC")}),
        json!({"schedules": ["a@b.c"], "startTime": dtz("2019-03-15T09:00:00", "UTC"), "endTime": dtz("2019-03-15T18:00:00", "UTC"), "availabilityViewInterval": "30"}),
        json!(null),
    ] {
        assert_eq!(
            ScheduleRequest::from_json(&bad).unwrap_err().code(),
            "ErrorInvalidRequest",
            "{bad}"
        );
    }
}

#[test]
fn working_hours_json_and_membership() {
    let cases = [
        (
            "W. Europe Standard Time",
            "W. Europe Standard Time",
            "Europe/Berlin",
        ),
        (
            "America/New_York",
            "Eastern Standard Time",
            "America/New_York",
        ),
        ("India Standard Time", "India Standard Time", "Asia/Kolkata"),
        ("Asia/Calcutta", "India Standard Time", "Asia/Calcutta"),
    ];
    for (zone, windows, iana) in cases {
        let h = WorkingHours::weekdays_nine_to_five(zone).unwrap();
        assert_eq!(
            h.to_graph_json()["timeZone"],
            json!({"name": windows}),
            "{zone}"
        );
        assert_eq!(h.time_zone.iana_name(), iana);
    }
    let berlin = WorkingHours::weekdays_nine_to_five("W. Europe Standard Time").unwrap();
    assert!(berlin.contains(utc(2026, 3, 27, 8, 0))); // Fri 09:00 CET
    assert!(!berlin.contains(utc(2026, 3, 30, 6, 30))); // Mon 08:30 CEST
    assert!(berlin.contains(utc(2026, 3, 30, 7, 0))); // Mon 09:00 CEST
    assert!(!berlin.contains(utc(2026, 3, 28, 10, 0))); // Saturday
    assert!(!berlin.contains(utc(2026, 3, 27, 16, 0))); // Fri 17:00 CET, end exclusive
    let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let custom = WorkingHours::new(
        &[chrono::Weekday::Sat],
        t(8, 30),
        t(12, 0),
        "Tokyo Standard Time",
    )
    .unwrap();
    assert_eq!(
        custom.to_graph_json(),
        json!({"daysOfWeek": ["saturday"], "startTime": "08:30:00.0000000", "endTime": "12:00:00.0000000",
               "timeZone": {"name": "Tokyo Standard Time"}})
    );
    assert!(WorkingHours::new(&[], t(9, 0), t(17, 0), "UTC").is_err());
    assert!(WorkingHours::new(&[chrono::Weekday::Mon], t(17, 0), t(9, 0), "UTC").is_err());
    assert!(matches!(
        WorkingHours::weekdays_nine_to_five("Atlantis Standard Time"),
        Err(CalendarError::InvalidTimeZone(_))
    ));
}

#[test]
fn occurrences_list_and_resolve() {
    let mut cal = Calendar::new("alice@contoso.example", "Alice");
    let single = create(
        &mut cal,
        event_body(
            "One-off",
            "2026-03-24T12:00:00",
            "2026-03-24T12:30:00",
            "UTC",
        ),
    );
    let series = create(
        &mut cal,
        weekly_body(
            "2026-03-23T10:00:00",
            "2026-03-23T11:00:00",
            "Europe/Berlin",
            &["monday"],
            json!({"type": "numbered", "numberOfOccurrences": 2}),
        ),
    );
    let occ = cal.occurrences(utc(2026, 3, 1, 0, 0), utc(2026, 4, 30, 0, 0));
    let listed: Vec<_> = occ
        .iter()
        .map(|o| (o.event.subject.as_str(), o.start))
        .collect();
    assert_eq!(
        listed,
        [
            ("Weekly sync", utc(2026, 3, 23, 9, 0)),
            ("One-off", utc(2026, 3, 24, 12, 0)),
            ("Weekly sync", utc(2026, 3, 30, 8, 0)),
        ]
    );
    let j = occ[2].to_graph_json(&tz("Europe/Berlin"));
    assert_eq!(j["type"], "occurrence");
    assert_eq!(j["seriesMasterId"], json!(series));
    assert_eq!(j["start"]["dateTime"], "2026-03-30T10:00:00.0000000");
    assert_eq!(j["recurrence"], Value::Null);
    let id = occ[2].id();
    assert_eq!(id, format!("{series}.20260330T080000Z"));
    assert_eq!(
        cal.get_occurrence(&id).unwrap().start,
        utc(2026, 3, 30, 8, 0)
    );
    assert!(cal
        .get_occurrence(&format!("{series}.20260331T080000Z"))
        .is_none());
    assert_eq!(occ[1].id(), single);
    assert_eq!(
        occ[1].to_graph_json(&GraphTimeZone::utc())["type"],
        "singleInstance"
    );
    assert_eq!(
        cal.get_occurrence(&single).unwrap().event.subject,
        "One-off"
    );
    assert!(cal.get_occurrence("nope").is_none());
}

#[test]
fn custom_time_zones_carry_windows_style_rules_like_microsofts_sample() {
    // The getSchedule sample in the Graph reference (calendar-getschedule.md): Pacific time.
    assert_eq!(
        custom_time_zone_json("America/Los_Angeles".parse().unwrap(), 2019),
        json!({"@odata.type": "#microsoft.graph.customTimeZone", "bias": 480,
               "name": "Customized Time Zone",
               "standardOffset": {"time": "02:00:00.0000000", "dayOccurrence": 1,
                                  "dayOfWeek": "sunday", "month": 11, "year": 0},
               "daylightOffset": {"daylightBias": -60, "time": "02:00:00.0000000",
                                  "dayOccurrence": 2, "dayOfWeek": "sunday", "month": 3, "year": 0}})
    );
    // Last Sunday of the month is occurrence 5, as in Windows' SYSTEMTIME rules.
    let berlin = custom_time_zone_json("Europe/Berlin".parse().unwrap(), 2026);
    assert_eq!(berlin["bias"], -60);
    assert_eq!(
        berlin["standardOffset"],
        json!({"time": "03:00:00.0000000", "dayOccurrence": 5, "dayOfWeek": "sunday", "month": 10, "year": 0})
    );
    assert_eq!(berlin["daylightOffset"]["dayOccurrence"], 5);
    assert_eq!(berlin["daylightOffset"]["month"], 3);
    let kolkata = custom_time_zone_json("Asia/Kolkata".parse().unwrap(), 2026);
    assert_eq!(kolkata["bias"], -330);
    assert_eq!(kolkata["standardOffset"]["month"], 0);
    assert_eq!(kolkata["daylightOffset"]["daylightBias"], 0);

    let hours = WorkingHours::weekdays_nine_to_five("Pacific Standard Time")
        .unwrap()
        .with_custom_time_zone();
    let at = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    assert_eq!(hours.to_graph_json_at(at)["timeZone"]["bias"], 480);
    assert_eq!(hours.to_graph_json_at(at)["startTime"], "09:00:00.0000000");
}

#[test]
fn an_organiser_without_teams_gets_a_plain_event_and_no_join_url() {
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    let mut frank = Calendar::new("frank@contoso.example", "Frank").without_teams();
    assert!(!frank.can_host_teams_meetings());
    let created = frank
        .create_event_from_json(
            &json!({"subject": "Interview",
                "start": {"dateTime": "2026-03-02T10:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2026-03-02T11:00:00", "timeZone": "UTC"},
                "isOnlineMeeting": true, "onlineMeetingProvider": "teamsForBusiness"}),
            now,
        )
        .unwrap();
    let body = created.event.to_graph_json(&GraphTimeZone::utc());
    assert_eq!(body["isOnlineMeeting"], false);
    assert_eq!(body["onlineMeetingProvider"], "unknown");
    assert!(body["onlineMeeting"].is_null());
    let id = created.event.id.clone();
    let patched = frank
        .update_event_from_json(&id, &json!({"isOnlineMeeting": true}), now)
        .unwrap();
    assert!(!patched.is_online_meeting && patched.online_meeting.is_none());
}

#[test]
fn a_monthly_series_skips_months_without_its_day() {
    let mut cal = Calendar::new("alice@contoso.example", "Alice");
    let mut body = event_body(
        "Monthly",
        "2026-01-31T09:00:00",
        "2026-01-31T10:00:00",
        "UTC",
    );
    body["recurrence"] = json!({"pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
        "range": {"type": "numbered", "numberOfOccurrences": 4}});
    create(&mut cal, body);
    let days: Vec<String> = cal
        .occurrences(utc(2026, 1, 1, 0, 0), utc(2027, 1, 1, 0, 0))
        .iter()
        .map(|o| o.start.format("%m-%d").to_string())
        .collect();
    assert_eq!(days, ["01-31", "03-31", "05-31", "07-31"]);
}

#[test]
fn a_moved_occurrence_becomes_an_exception_and_a_cancelled_one_leaves_the_view() {
    let mut cal = Calendar::new("alice@contoso.example", "Alice");
    let mut body = event_body(
        "Weekly",
        "2026-03-02T09:00:00",
        "2026-03-02T10:00:00",
        "UTC",
    );
    body["recurrence"] = json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "numbered", "numberOfOccurrences": 3}});
    let id = create(&mut cal, body);
    let window = (utc(2026, 3, 1, 0, 0), utc(2026, 4, 1, 0, 0));
    let second = cal.occurrences(window.0, window.1)[1].id();
    let third = cal.occurrences(window.0, window.1)[2].id();
    cal.change_occurrence(
        &second,
        Some((utc(2026, 3, 10, 15, 0), utc(2026, 3, 10, 16, 0))),
        now(),
    )
    .unwrap();
    cal.change_occurrence(&third, None, now()).unwrap();
    let view = cal.occurrences(window.0, window.1);
    assert_eq!(view.len(), 2);
    let moved = view[1].to_graph_json(&GraphTimeZone::utc());
    assert_eq!(
        moved["id"],
        second.as_str(),
        "an exception keeps its occurrence id"
    );
    assert_eq!(moved["type"], "exception");
    assert_eq!(moved["seriesMasterId"], id.as_str());
    assert_eq!(moved["start"]["dateTime"], "2026-03-10T15:00:00.0000000");
    assert_eq!(
        view[0].to_graph_json(&GraphTimeZone::utc())["type"],
        "occurrence"
    );
    assert!(cal.get_occurrence(&third).is_none());
    assert!(matches!(
        cal.change_occurrence(&format!("{id}.20260303T090000Z"), None, now()),
        Err(CalendarError::ItemNotFound(_))
    ));
}

#[test]
fn an_all_day_event_must_span_midnights_and_says_so() {
    let mut cal = Calendar::new("alice@contoso.example", "Alice");
    let mut body = event_body(
        "Offsite",
        "2026-03-02T00:00:00",
        "2026-03-03T00:00:00",
        "Europe/Berlin",
    );
    body["isAllDay"] = json!(true);
    let id = create(&mut cal, body.clone());
    assert_eq!(
        cal.get(&id).unwrap().to_graph_json(&GraphTimeZone::utc())["isAllDay"],
        true
    );
    body["start"] = dtz("2026-03-02T09:00:00", "Europe/Berlin");
    assert!(matches!(
        NewEvent::from_json(&body),
        Err(CalendarError::InvalidRequest(_))
    ));
}
