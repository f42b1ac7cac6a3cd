//! Scheduling against the Graph simulator: free/busy in the requested zone, meeting times across
//! the 2026 DST changes, booking with a Teams link exactly once, reschedule and cancel for
//! everyone, getSchedule chunking and concurrency, throttling, and the sample events.

use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{body, stack, unique, Harness, MAILBOXES};

const ALICE: &str = "alice@contoso.example";
const BOB: &str = "bob@contoso.example";
const CAROL: &str = "carol@contoso.example";
const DAVE: &str = "dave@contoso.example";
const ADMIN: &str = "admin@contoso.example";
/// Seeded without a Teams licence: online meetings are not created for him.
const FRANK: &str = "frank@contoso.example";
/// Seeded with working hours in a `customTimeZone` (US Pacific rules, as in Microsoft's sample).
const GRACE: &str = "grace@contoso.example";

/// A harness with alice connected; the guard keeps other tests from signing in meanwhile.
async fn connected() -> (tokio::sync::MutexGuard<'static, ()>, Harness, String) {
    let turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let landing = h.connect(&unique("recruiter"), ALICE).await;
    assert_eq!(landing["status"], "active", "{landing:?}");
    let id = landing["connection_id"].clone();
    (turn, h, id)
}

async fn call(
    h: &Harness,
    method: &str,
    path: &str,
    payload: Option<Value>,
    key: Option<&str>,
) -> (u16, Value, lambda_http::Response<lambda_http::Body>) {
    let mut request = h.api(method, path, &[], payload);
    if let Some(key) = key {
        request
            .headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
    }
    let response = crate::helpers::call::scheduling(&h.connector, request).await;
    let status = response.status().as_u16();
    let raw = response.body().as_ref().to_vec();
    let value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    (status, value, response)
}

async fn sim_event(h: &Harness, owner: &str, event: Value) -> Value {
    h.control(
        Method::POST,
        &format!("/_sim/mailboxes/{owner}/events"),
        Some(event),
    )
    .await
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// UTC offsets of the three seeded zones in 2026, written out from the published DST rules so
/// the check does not reuse the code under test: US DST from 2026-03-08 07:00Z, EU DST from
/// 2026-03-29 01:00Z, India none.
fn offset_hours(zone: &str, t: DateTime<Utc>) -> f64 {
    match zone {
        "Europe/Berlin" if t >= at("2026-03-29T01:00:00Z") => 2.0,
        "Europe/Berlin" => 1.0,
        "America/New_York" if t >= at("2026-03-08T07:00:00Z") => -4.0,
        "America/New_York" => -5.0,
        "Asia/Kolkata" => 5.5,
        "America/Los_Angeles" if t >= at("2026-03-08T10:00:00Z") => -7.0,
        "America/Los_Angeles" => -8.0,
        other => panic!("no offset table for {other}"),
    }
}

fn zone_of(address: &str) -> &'static str {
    match address {
        ALICE | ADMIN => "Europe/Berlin",
        BOB => "America/New_York",
        CAROL => "Asia/Kolkata",
        GRACE => "America/Los_Angeles",
        other => panic!("{other}"),
    }
}

/// Mon-Fri 09:00-17:00 local (the simulator's working hours), on one local day.
fn inside_working_hours(address: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    let zone = zone_of(address);
    let local = |t: DateTime<Utc>| t + Duration::minutes((offset_hours(zone, t) * 60.0) as i64);
    let (s, e) = (local(start).naive_utc(), local(end).naive_utc());
    let weekday = !matches!(s.weekday(), Weekday::Sat | Weekday::Sun);
    let minutes = |t: chrono::NaiveDateTime| t.hour() * 60 + t.minute();
    weekday && s.date() == e.date() && minutes(s) >= 9 * 60 && minutes(e) <= 17 * 60
}

/// Busy intervals of a mailbox from the simulator's control API (occurrences expanded, UTC).
async fn busy_of(
    h: &Harness,
    address: &str,
    from: &str,
    to: &str,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let events = h
        .control(
            Method::GET,
            &format!("/_sim/mailboxes/{address}/events?startDateTime={from}&endDateTime={to}"),
            None,
        )
        .await;
    events["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["isCancelled"] != true && e["showAs"] != "free")
        .map(|e| {
            let t = |v: &Value| at(&format!("{}Z", &v["dateTime"].as_str().unwrap()[..19]));
            (t(&e["start"]), t(&e["end"]))
        })
        .collect()
}

fn slot_times(v: &Value) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    v["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                at(s["start"].as_str().unwrap()),
                at(s["end"].as_str().unwrap()),
            )
        })
        .collect()
}

#[tokio::test]
async fn free_busy_returns_real_busy_times_in_the_requested_zone_and_never_calls_an_unreadable_calendar_free(
) {
    let (_turn, h, id) = connected().await;
    sim_event(
        &h,
        BOB,
        json!({"subject": "1:1", "showAs": "busy",
        "start": {"dateTime": "2026-03-10T10:00:00", "timeZone": "Eastern Standard Time"},
        "end": {"dateTime": "2026-03-10T11:00:00", "timeZone": "Eastern Standard Time"}}),
    )
    .await;
    sim_event(
        &h,
        ALICE,
        json!({"subject": "Maybe", "showAs": "tentative",
        "start": {"dateTime": "2026-03-10T09:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-03-10T09:30:00", "timeZone": "Europe/Berlin"}}),
    )
    .await;
    sim_event(
        &h,
        CAROL,
        json!({"subject": "Leave", "showAs": "oof",
        "start": {"dateTime": "2026-03-11T14:00:00", "timeZone": "India Standard Time"},
        "end": {"dateTime": "2026-03-11T15:00:00", "timeZone": "India Standard Time"}}),
    )
    .await;

    let (status, v, _) = call(
        &h,
        "POST",
        &format!("/connections/{id}/free-busy"),
        Some(json!({
        "attendees": [ALICE, "Bob@Contoso.example", CAROL, DAVE, "nobody@contoso.example"],
        "start": "2026-03-09T00:00:00-04:00", "end": "2026-03-13T00:00:00-04:00",
        "time_zone": "America/New_York", "interval_minutes": 60})),
        None,
    )
    .await;

    assert_eq!(status, 200, "{v}");
    assert_eq!(v["time_zone"], "America/New_York");
    let a = &v["attendees"];
    assert_eq!(a[0]["status"], "ok");
    assert_eq!(
        a[0]["busy"],
        json!([{"start": "2026-03-10T04:00:00-04:00", "end": "2026-03-10T04:30:00-04:00", "status": "tentative"}])
    );
    assert_eq!(a[0]["working_hours"]["time_zone"], "Europe/Berlin");
    assert_eq!(a[0]["working_hours"]["start"], "09:00");
    assert_eq!(a[1]["address"], BOB);
    assert_eq!(
        a[1]["busy"],
        json!([{"start": "2026-03-10T10:00:00-04:00", "end": "2026-03-10T11:00:00-04:00", "status": "busy"}])
    );
    assert_eq!(a[1]["working_hours"]["time_zone"], "America/New_York");
    assert_eq!(
        a[2]["busy"],
        json!([{"start": "2026-03-11T04:30:00-04:00", "end": "2026-03-11T05:30:00-04:00", "status": "oof"}])
    );
    assert_eq!(a[2]["working_hours"]["time_zone"], "Asia/Kolkata");
    assert_eq!(a[1]["availability_view"].as_str().unwrap().len(), 4 * 24);
    assert_eq!(
        &a[1]["availability_view"].as_str().unwrap()[24 + 10..24 + 11],
        "2"
    );
    assert_eq!(a[3]["status"], "unsupported");
    assert_eq!(a[4]["status"], "unknown");
    for unreadable in [&a[3], &a[4]] {
        assert!(unreadable["availability_view"].is_null() && unreadable["busy"] == json!([]));
    }
}

#[tokio::test]
async fn free_busy_rejects_windows_zone_names_and_bad_windows_naming_the_field() {
    let (_turn, h, id) = connected().await;
    let base = json!({"attendees": [BOB], "start": "2026-03-09T00:00:00Z", "end": "2026-03-10T00:00:00Z", "time_zone": "UTC"});
    for (field, key, value) in [
        ("time_zone", "time_zone", json!("Eastern Standard Time")),
        ("end", "end", json!("2026-03-08T00:00:00Z")),
        ("end", "end", json!("2027-03-10T00:00:00Z")),
        ("interval_minutes", "interval_minutes", json!(2000)),
        (
            "attendees",
            "attendees",
            json!([BOB, "BOB@contoso.example"]),
        ),
    ] {
        let mut payload = base.clone();
        payload[key] = value;
        let (status, v, _) = call(
            &h,
            "POST",
            &format!("/connections/{id}/free-busy"),
            Some(payload),
            None,
        )
        .await;
        assert_eq!((status, v["field"].as_str()), (400, Some(field)), "{v}");
    }
}

async fn meeting_times(
    h: &Harness,
    id: &str,
    required: &[&str],
    optional: &[&str],
    start: &str,
    end: &str,
) -> Value {
    let (status, v, _) = call(
        h,
        "POST",
        &format!("/connections/{id}/meeting-times"),
        Some(json!({
        "required": required, "optional": optional, "duration_minutes": 45,
        "start": start, "end": end, "time_zone": "Europe/Berlin", "max_results": 100})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

#[tokio::test]
async fn meeting_times_across_both_dst_changes_respect_each_attendees_own_working_hours_and_busy_time(
) {
    let (_turn, h, id) = connected().await;
    // Alice's weekly team meeting, Tue and Thu 15:00-16:00 Berlin time, through April.
    sim_event(&h, ALICE, json!({"subject": "Team", "showAs": "busy",
        "start": {"dateTime": "2026-03-03T15:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-03-03T16:00:00", "timeZone": "W. Europe Standard Time"},
        "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday", "thursday"]},
                       "range": {"type": "endDate", "startDate": "2026-03-03", "endDate": "2026-04-30"}}})).await;
    sim_event(
        &h,
        BOB,
        json!({"subject": "Hiring sync", "showAs": "busy",
        "start": {"dateTime": "2026-03-25T09:00:00", "timeZone": "Eastern Standard Time"},
        "end": {"dateTime": "2026-03-25T10:00:00", "timeZone": "Eastern Standard Time"}}),
    )
    .await;

    // Two weeks across the US change (2026-03-08), two across the EU change (2026-03-29).
    for (start, end) in [
        ("2026-03-02T00:00:00+01:00", "2026-03-16T00:00:00+01:00"),
        ("2026-03-23T00:00:00+01:00", "2026-04-06T00:00:00+02:00"),
    ] {
        let mut calendars = Vec::new();
        for address in [ALICE, BOB, CAROL] {
            calendars.push((
                address,
                busy_of(&h, address, &start[..19], &end[..19]).await,
            ));
        }
        for required in [&[ALICE, BOB][..], &[ALICE, CAROL][..]] {
            let v = meeting_times(&h, &id, required, &[], start, end).await;
            let slots = slot_times(&v);
            assert!(!slots.is_empty(), "{required:?} {start}: {v}");
            assert!(v.get("reason").is_none());
            for (s, e) in &slots {
                assert_eq!(*e - *s, Duration::minutes(45));
                for address in required {
                    assert!(
                        inside_working_hours(address, *s, *e),
                        "{s}..{e} outside {address}'s hours"
                    );
                    let (_, items) = calendars.iter().find(|(a, _)| a == address).unwrap();
                    for (bs, be) in items {
                        assert!(
                            e <= bs || s >= be,
                            "{s}..{e} overlaps {address}'s {bs}..{be}"
                        );
                    }
                }
            }
            if required == [ALICE, BOB] && start.starts_with("2026-03-02") {
                // Before 2026-03-08 New York starts at 14:00Z; after, at 13:00Z.
                assert!(slots
                    .iter()
                    .all(|(s, _)| *s >= at("2026-03-09T00:00:00Z") || s.hour() >= 14));
                assert!(
                    slots.iter().any(|(s, _)| *s == at("2026-03-10T13:00:00Z")),
                    "{v}"
                );
                // The recurring meeting (14:00-15:00Z on Tuesdays in March) is never offered.
                assert!(!slots.iter().any(
                    |(s, e)| *s < at("2026-03-10T15:00:00Z") && *e > at("2026-03-10T14:00:00Z")
                ));
            }
            if required == [ALICE, BOB] && start.starts_with("2026-03-23") {
                // Before 2026-03-29 Berlin ends at 16:00Z; after, at 15:00Z.
                assert!(
                    slots.iter().any(|(_, e)| *e == at("2026-03-23T16:00:00Z")),
                    "{v}"
                );
                assert!(slots
                    .iter()
                    .filter(|(s, _)| *s >= at("2026-03-30T00:00:00Z"))
                    .all(|(_, e)| e.hour() < 15 || (e.hour() == 15 && e.minute() == 0)));
                assert!(slots.iter().any(|(s, _)| *s >= at("2026-03-30T00:00:00Z")));
            }
        }
        let v = meeting_times(&h, &id, &[ALICE, BOB, CAROL], &[], start, end).await;
        assert_eq!(v["slots"], json!([]));
        assert!(
            v["reason"]
                .as_str()
                .unwrap()
                .contains("share no working hours"),
            "{v}"
        );
    }
}

#[tokio::test]
async fn optional_attendees_change_only_the_ranking() {
    let (_turn, h, id) = connected().await;
    sim_event(
        &h,
        ADMIN,
        json!({"subject": "Busy afternoon", "showAs": "busy",
        "start": {"dateTime": "2026-03-02T14:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-03-02T17:00:00", "timeZone": "Europe/Berlin"}}),
    )
    .await;
    let (start, end) = ("2026-03-02T00:00:00+01:00", "2026-03-05T00:00:00+01:00");

    let without = meeting_times(&h, &id, &[ALICE, BOB], &[], start, end).await;
    let with = meeting_times(&h, &id, &[ALICE, BOB], &[ADMIN], start, end).await;

    let (mut a, mut b) = (slot_times(&without), slot_times(&with));
    assert_ne!(a, b, "the order changes");
    assert_eq!(with["slots"][0]["optional_free"], json!([ADMIN]));
    assert_eq!(with["slots"][0]["required_free"], json!([ALICE, BOB]));
    a.sort();
    b.sort();
    assert_eq!(a, b, "the same slots");
}

#[tokio::test]
async fn booking_creates_one_teams_meeting_with_invitations_and_a_retry_creates_nothing_new() {
    let (_turn, h, id) = connected().await;
    let booking = json!({"subject": "Interview: Jane Doe", "body": "Technical round",
        "start": "2026-03-10T14:00:00+01:00", "end": "2026-03-10T14:45:00+01:00", "time_zone": "Europe/Berlin",
        "attendees": [{"address": BOB, "type": "required"}, {"address": CAROL, "type": "optional"}]});
    let path = format!("/connections/{id}/events");
    // Keys are per connection, and a reconnected mailbox keeps its connection id across runs.
    let key = unique("interview-jane");

    let (status, first, _) = call(&h, "POST", &path, Some(booking.clone()), Some(&key)).await;
    assert_eq!(status, 201, "{first}");
    assert!(
        first["join_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://")),
        "{first}"
    );
    assert!(first["web_link"].is_string() && first["ical_uid"].is_string());
    assert_eq!(first["online_meeting"], "created", "{first}");
    let (status, again, _) = call(&h, "POST", &path, Some(booking.clone()), Some(&key)).await;
    assert_eq!(status, 201);
    assert_eq!(again, first);

    let alice = h
        .control(
            Method::GET,
            &format!("/_sim/mailboxes/{ALICE}/events"),
            None,
        )
        .await;
    let mine: Vec<&Value> = alice["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"] == "Interview: Jane Doe")
        .collect();
    assert_eq!(mine.len(), 1, "one event, never a second");
    assert_eq!(mine[0]["isOnlineMeeting"], true);
    assert_eq!(
        mine[0]["start"]["dateTime"].as_str().unwrap()[..19],
        *"2026-03-10T13:00:00"
    );
    for invitee in [BOB, CAROL] {
        let theirs = h
            .control(
                Method::GET,
                &format!("/_sim/mailboxes/{invitee}/events"),
                None,
            )
            .await;
        let copies: Vec<&Value> = theirs["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["iCalUId"] == first["ical_uid"])
            .collect();
        assert_eq!(copies.len(), 1, "{invitee}");
    }

    let mut changed = booking.clone();
    changed["subject"] = json!("Another interview");
    let (status, v, _) = call(&h, "POST", &path, Some(changed), Some(&key)).await;
    assert_eq!(status, 422, "a reused key with another body: {v}");
    let (status, v, _) = call(&h, "POST", &path, Some(booking), None).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (400, Some("Idempotency-Key"))
    );
}

#[tokio::test]
async fn reschedule_moves_the_meeting_for_everyone_and_cancel_removes_it_for_everyone() {
    let (_turn, h, id) = connected().await;
    let (status, event, _) = call(&h, "POST", &format!("/connections/{id}/events"), Some(json!({
        "subject": "Interview", "start": "2026-03-10T14:00:00+01:00", "end": "2026-03-10T14:45:00+01:00",
        "time_zone": "Europe/Berlin", "attendees": [{"address": BOB}, {"address": CAROL}]})), Some(&unique("move-me"))).await;
    assert_eq!(status, 201, "{event}");
    let event_path = format!("/connections/{id}/events/{}", event["id"].as_str().unwrap());

    let (status, moved, _) = call(&h, "PATCH", &event_path, Some(json!({
        "start": "2026-03-11T10:00:00-04:00", "end": "2026-03-11T10:45:00-04:00", "time_zone": "America/New_York",
        "subject": "Interview (moved)"})), None).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["id"], event["id"]);
    for who in [ALICE, BOB, CAROL] {
        let busy = busy_of(&h, who, "2026-03-09T00:00:00", "2026-03-13T00:00:00").await;
        assert_eq!(
            busy,
            vec![(at("2026-03-11T14:00:00Z"), at("2026-03-11T14:45:00Z"))],
            "{who}"
        );
    }

    let (status, _, _) = call(
        &h,
        "DELETE",
        &event_path,
        Some(json!({"comment": "The role was filled."})),
        None,
    )
    .await;
    assert_eq!(status, 204);
    for who in [ALICE, BOB, CAROL] {
        assert_eq!(
            busy_of(&h, who, "2026-03-09T00:00:00", "2026-03-13T00:00:00").await,
            vec![],
            "{who}"
        );
    }
    let (status, v, _) = call(
        &h,
        "PATCH",
        &format!("/connections/{id}/events/AAMkAGnone"),
        Some(json!({"subject": "x"})),
        None,
    )
    .await;
    assert_eq!(status, 404, "{v}");
}

#[tokio::test]
async fn forty_five_attendees_take_three_concurrent_getschedule_calls_and_ninety_days_take_three_windows(
) {
    let (_turn, h, id) = connected().await;
    let mut attendees = vec![ALICE.to_string(), BOB.to_string(), CAROL.to_string()];
    attendees.extend((0..42).map(|i| format!("candidate{i}@fabrikam.example")));
    h.control(Method::DELETE, "/_sim/requests", None).await;
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "latency", "ms": 500, "path": "/v1.0/me/calendar/getSchedule"})),
    )
    .await;

    let started = Instant::now();
    let (status, v, _) = call(&h, "POST", &format!("/connections/{id}/free-busy"), Some(json!({
        "attendees": attendees, "start": "2026-03-09T00:00:00Z", "end": "2026-03-10T00:00:00Z", "time_zone": "UTC"})), None).await;
    let elapsed = started.elapsed().as_millis() as u64;

    assert_eq!(status, 200, "{v}");
    assert_eq!(v["attendees"].as_array().unwrap().len(), 45);
    assert_eq!(v["attendees"][44]["status"], "unknown");
    let calls = h.sim_requests("/v1.0/me/calendar/getSchedule").await;
    assert_eq!(calls.len(), 3);
    let total: u64 = calls
        .iter()
        .map(|c| c["durationMs"].as_u64().unwrap())
        .sum();
    assert!(calls
        .iter()
        .all(|c| c["durationMs"].as_u64().unwrap() >= 500));
    // Three 500 ms calls finished in well under their summed time: they overlapped.
    assert!(
        elapsed < total,
        "elapsed {elapsed} ms, calls {total} ms in sum"
    );

    h.control(Method::DELETE, "/_sim/faults", None).await;
    h.control(Method::DELETE, "/_sim/requests", None).await;
    let (status, v, _) = call(&h, "POST", &format!("/connections/{id}/free-busy"), Some(json!({
        "attendees": [ALICE], "start": "2026-03-01T00:00:00Z", "end": "2026-05-30T00:00:00Z", "time_zone": "UTC"})), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        h.sim_requests("/v1.0/me/calendar/getSchedule").await.len(),
        3
    );
    assert_eq!(
        v["attendees"][0]["availability_view"]
            .as_str()
            .unwrap()
            .len(),
        90 * 48
    );
}

#[tokio::test]
async fn throttling_is_retried_within_the_budget_then_answered_503_with_retry_after() {
    let (_turn, h, id) = connected().await;
    let payload = json!({"attendees": [BOB], "start": "2026-03-09T00:00:00Z", "end": "2026-03-10T00:00:00Z", "time_zone": "UTC"});
    let path = format!("/connections/{id}/free-busy");
    h.control(Method::POST, "/_sim/faults", Some(json!({"kind": "throttle", "retryAfter": 1, "count": 1, "path": "/v1.0/me/calendar/getSchedule"}))).await;
    let (status, v, _) = call(&h, "POST", &path, Some(payload.clone()), None).await;
    assert_eq!(
        status, 200,
        "one throttled call is retried after Retry-After: {v}"
    );

    h.control(
        Method::POST,
        "/_sim/faults",
        Some(
            json!({"kind": "throttle", "retryAfter": 30, "path": "/v1.0/me/calendar/getSchedule"}),
        ),
    )
    .await;
    let (status, _, response) = call(&h, "POST", &path, Some(payload), None).await;
    assert_eq!(status, 503);
    assert_eq!(response.headers()["retry-after"], "30");
}

#[tokio::test]
async fn a_connection_without_calendar_consent_is_refused_with_403() {
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let authorize = h.start_connect(&unique("recruiter"), BOB).await;
    let back = h
        .consent(
            &authorize,
            BOB,
            "accept",
            Some(&["User.Read", "Mail.Read", "Mail.ReadWrite", "Mail.Send"]),
        )
        .await;
    let landing = h.callback(&back).await;
    let id = crate::helpers::query_of(&landing)["connection_id"].clone();
    let (status, v, _) = call(&h, "POST", &format!("/connections/{id}/free-busy"), Some(json!({
        "attendees": [ALICE], "start": "2026-03-09T00:00:00Z", "end": "2026-03-10T00:00:00Z", "time_zone": "UTC"})), None).await;
    assert_eq!(status, 403, "{v}");
}

#[tokio::test]
async fn the_scheduling_handler_answers_each_sample_event_as_named() {
    let stack = stack().await;
    let connector = m365_connector::app::Connector::new(stack.config.clone(), &stack.aws);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/scheduling");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let expected = if name.ends_with("-not-found") {
            404
        } else if name.ends_with("-missing-auth") {
            401
        } else if name.contains("-bad-") {
            400
        } else {
            panic!("{name}: the name does not say what it expects")
        };
        let request =
            lambda_http::request::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let response = crate::helpers::call::scheduling(&connector, request).await;
        assert_eq!(response.status().as_u16(), expected, "{name}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{name}"
        );
        let problem = body(response).await;
        if expected == 400 {
            assert!(problem["field"].is_string(), "{name}: {problem}");
        }
        count += 1;
    }
    assert!(count >= 10);
}

#[tokio::test]
async fn a_teams_meeting_the_organiser_cannot_host_is_booked_and_reported_unavailable() {
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let landing = h.connect(&unique("recruiter"), FRANK).await;
    assert_eq!(landing["status"], "active", "{landing:?}");
    let id = &landing["connection_id"];
    let booking = json!({"subject": "Interview: John Roe",
        "start": "2026-03-11T10:00:00+01:00", "end": "2026-03-11T10:45:00+01:00", "time_zone": "Europe/Berlin",
        "attendees": [{"address": BOB, "type": "required"}]});
    let path = format!("/connections/{id}/events");
    let key = unique("interview-john");
    let (status, v, _) = call(&h, "POST", &path, Some(booking.clone()), Some(&key)).await;
    // Graph answers 201 with a plain meeting; the answer says so instead of a bare null link.
    assert_eq!(status, 201, "{v}");
    assert!(v["id"].is_string(), "{v}");
    assert!(v["join_url"].is_null(), "{v}");
    assert_eq!(v["online_meeting"], "unavailable", "{v}");
    let (status, again, _) = call(&h, "POST", &path, Some(booking), Some(&key)).await;
    assert_eq!((status, &again), (201, &v));

    // Without asking for one, nothing is missing.
    let plain = json!({"subject": "Debrief", "online_meeting": false,
        "start": "2026-03-11T12:00:00+01:00", "end": "2026-03-11T12:30:00+01:00", "time_zone": "Europe/Berlin",
        "attendees": [{"address": BOB, "type": "required"}]});
    let (status, v, _) = call(&h, "POST", &path, Some(plain), Some(&unique("debrief"))).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["online_meeting"], "not_requested", "{v}");
}

#[tokio::test]
async fn meeting_times_honour_working_hours_given_in_a_custom_time_zone() {
    let (_turn, h, id) = connected().await;
    // Grace's working hours come back as a customTimeZone (bias 480 and US DST rules).
    let (status, v, _) = call(
        &h,
        "POST",
        &format!("/connections/{id}/free-busy"),
        Some(
            json!({"attendees": [GRACE], "start": "2026-03-09T00:00:00Z",
            "end": "2026-03-10T00:00:00Z", "time_zone": "UTC"}),
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let hours = &v["attendees"][0]["working_hours"];
    assert_eq!(hours["start"], "09:00", "{v}");
    assert_eq!(hours["time_zone"], "Customized Time Zone", "{v}");

    // New York and Pacific hours overlap 12:00-17:00 New York time, on both sides of the US
    // change (2026-03-08); every slot must lie inside Grace's own 09:00-17:00.
    let (start, end) = ("2026-03-05T00:00:00+01:00", "2026-03-12T00:00:00+01:00");
    let v = meeting_times(&h, &id, &[BOB, GRACE], &[], start, end).await;
    let slots = slot_times(&v);
    assert!(!slots.is_empty(), "{v}");
    for (s, e) in &slots {
        for address in [BOB, GRACE] {
            assert!(
                inside_working_hours(address, *s, *e),
                "{s}-{e} is outside {address}'s working hours: {v}"
            );
        }
    }
    // 09:00 Pacific is 17:00Z before the change and 16:00Z after it: both are offered.
    assert!(
        slots.contains(&(at("2026-03-06T17:00:00Z"), at("2026-03-06T17:45:00Z"))),
        "{v}"
    );
    assert!(
        slots.contains(&(at("2026-03-10T16:00:00Z"), at("2026-03-10T16:45:00Z"))),
        "{v}"
    );

    // Berlin and Pacific working days never overlap: no slot at 02:00 in Los Angeles.
    let v = meeting_times(&h, &id, &[ALICE, GRACE], &[], start, end).await;
    assert!(slot_times(&v).is_empty(), "{v}");
    assert!(
        v["reason"]
            .as_str()
            .is_some_and(|r| r.contains("share no working hours")),
        "{v}"
    );
}
