//! Calendar: getSchedule over control-API events, error entries, limits, booking meetings with
//! Teams links and invitations, transactionId deduplication, moving and cancelling a meeting for
//! everyone, weekly recurrence across the EU DST change, and event change notifications.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const ALICE: &str = "alice@contoso.example";
const BOB: &str = "bob@contoso.example";
const CAROL: &str = "carol@contoso.example";
const DAVE: &str = "dave@contoso.example";

async fn call(
    t: &TestSim,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    prefer: Option<&str>,
) -> (u16, Value) {
    let mut r = t.graph(method, path, token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    if let Some(p) = prefer {
        r = r.header("Prefer", p);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn dt(s: &str, zone: &str) -> Value {
    json!({"dateTime": s, "timeZone": zone})
}

fn schedule_body(schedules: &[&str], start: &str, end: &str, zone: &str, interval: i64) -> Value {
    json!({
        "schedules": schedules,
        "startTime": dt(start, zone),
        "endTime": dt(end, zone),
        "availabilityViewInterval": interval,
    })
}

async fn schedule(t: &TestSim, token: &str, body: Value, prefer: Option<&str>) -> (u16, Value) {
    call(
        t,
        Method::POST,
        "/me/calendar/getSchedule",
        token,
        Some(body),
        prefer,
    )
    .await
}

async fn sim_events(t: &TestSim, address: &str) -> Vec<Value> {
    let v: Value = t
        .control(Method::GET, &format!("/mailboxes/{address}/events"), None)
        .await
        .json()
        .await
        .unwrap();
    v["value"].as_array().unwrap().clone()
}

fn meeting(tx: &str) -> Value {
    json!({
        "subject": "Interview: Jane Doe",
        "body": {"contentType": "html", "content": "<p>Technical interview</p>"},
        "start": dt("2026-03-04T15:00:00", "W. Europe Standard Time"),
        "end": dt("2026-03-04T16:00:00", "W. Europe Standard Time"),
        "location": {"displayName": "Teams"},
        "attendees": [
            {"emailAddress": {"address": BOB, "name": "Bob Baker"}, "type": "required"},
            {"emailAddress": {"address": CAROL, "name": "Carol Chen"}, "type": "required"},
            {"emailAddress": {"address": "jane@external.example", "name": "Jane Doe"}, "type": "required"}
        ],
        "isOnlineMeeting": true,
        "onlineMeetingProvider": "teamsForBusiness",
        "transactionId": tx,
    })
}

/// getSchedule for bob and carol on 2026-03-04 (UTC day, 60-minute slots).
async fn interviewers_day(t: &TestSim, token: &str) -> Value {
    let (s, v) = schedule(
        t,
        token,
        schedule_body(
            &[BOB, CAROL],
            "2026-03-04T00:00:00",
            "2026-03-05T00:00:00",
            "UTC",
            60,
        ),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v
}

#[tokio::test]
async fn get_schedule_shows_control_api_events_in_the_requested_zone() {
    let t = spawn_sim().await;
    let alice = t.sign_in(ALICE).await;
    let created = t
        .control(
            Method::POST,
            &format!("/mailboxes/{BOB}/events"),
            Some(json!({
                "subject": "Dentist",
                "start": dt("2026-03-03T14:00:00", "Eastern Standard Time"),
                "end": dt("2026-03-03T15:00:00", "Eastern Standard Time"),
                "showAs": "oof",
                "location": {"displayName": "Downtown"},
            })),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert!(created["id"].is_string());
    // Control API answers in UTC.
    assert_eq!(created["start"]["dateTime"], "2026-03-03T19:00:00.0000000");
    assert_eq!(created["start"]["timeZone"], "UTC");
    t.control(
        Method::POST,
        &format!("/mailboxes/{BOB}/events"),
        Some(json!({
            "subject": "Focus",
            "start": dt("2026-03-03T09:00:00", "Eastern Standard Time"),
            "end": dt("2026-03-03T10:00:00", "Eastern Standard Time"),
            "showAs": "free",
        })),
    )
    .await;

    let (s, v) = schedule(
        &t,
        &alice.access,
        schedule_body(
            &[BOB],
            "2026-03-03T00:00:00",
            "2026-03-04T00:00:00",
            "Eastern Standard Time",
            60,
        ),
        Some("outlook.timezone=\"Pacific Standard Time\""),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let bob = &v["value"][0];
    assert_eq!(bob["scheduleId"], BOB);
    let view = bob["availabilityView"].as_str().unwrap();
    assert_eq!(view.len(), 24);
    assert_eq!(view, format!("{}3{}", "0".repeat(14), "0".repeat(9)));
    let items = bob["scheduleItems"].as_array().unwrap();
    assert_eq!(items.len(), 1, "free events do not appear: {items:?}");
    assert_eq!(items[0]["status"], "oof");
    assert_eq!(items[0]["subject"], "Dentist");
    assert_eq!(items[0]["location"], "Downtown");
    assert_eq!(items[0]["start"]["dateTime"], "2026-03-03T11:00:00.0000000");
    assert_eq!(items[0]["start"]["timeZone"], "Pacific Standard Time");
    assert_eq!(items[0]["end"]["dateTime"], "2026-03-03T12:00:00.0000000");
    let wh = &bob["workingHours"];
    assert_eq!(wh["timeZone"]["name"], "Eastern Standard Time");
    assert_eq!(wh["startTime"], "09:00:00.0000000");
    assert_eq!(wh["endTime"], "17:00:00.0000000");
    assert_eq!(wh["daysOfWeek"].as_array().unwrap().len(), 5);

    // The seeded working hours of alice and carol.
    let (_, v) = schedule(
        &t,
        &alice.access,
        schedule_body(
            &[ALICE, CAROL],
            "2026-03-03T00:00:00",
            "2026-03-04T00:00:00",
            "UTC",
            30,
        ),
        None,
    )
    .await;
    assert_eq!(
        v["value"][0]["workingHours"]["timeZone"]["name"],
        "W. Europe Standard Time"
    );
    assert_eq!(
        v["value"][1]["workingHours"]["timeZone"]["name"],
        "India Standard Time"
    );
    assert_eq!(v["value"][0]["availabilityView"], "0".repeat(48));

    // Deleting through the control API frees the time.
    let id = created["id"].as_str().unwrap();
    let del = t
        .control(
            Method::DELETE,
            &format!("/mailboxes/{BOB}/events/{id}"),
            None,
        )
        .await;
    assert_eq!(del.status(), 204);
    assert_eq!(sim_events(&t, BOB).await.len(), 1);
}

#[tokio::test]
async fn on_premises_and_unknown_addresses_get_error_entries() {
    let t = spawn_sim().await;
    let alice = t.sign_in(ALICE).await;
    let (s, v) = schedule(
        &t,
        &alice.access,
        schedule_body(
            &[ALICE, DAVE, "nobody@contoso.example", "x@external.example"],
            "2026-03-03T09:00:00",
            "2026-03-03T11:00:00",
            "UTC",
            30,
        ),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let value = v["value"].as_array().unwrap();
    assert_eq!(value.len(), 4);
    assert_eq!(value[0]["availabilityView"], "0000");
    assert!(value[0]["error"].is_null());
    assert_eq!(value[1]["scheduleId"], DAVE);
    assert_eq!(
        value[1]["error"]["responseCode"],
        "MailboxNotEnabledForRESTAPI"
    );
    assert!(value[1]["workingHours"].is_null());
    for entry in &value[2..] {
        // Exchange Online's shape (microsoft-graph-docs#11225): scheduleId and error only.
        assert_eq!(entry["error"]["responseCode"], "5009");
        let address = entry["scheduleId"].as_str().unwrap();
        assert_eq!(
            entry["error"]["message"],
            format!("Unable to resolve e-mail address {address} to an Active Directory object.")
        );
        assert_eq!(entry.as_object().unwrap().len(), 2, "{entry}");
    }

    // dave's own calendar calls fail like his mail calls.
    let dave = t.sign_in(DAVE).await;
    let (s, v) = schedule(
        &t,
        &dave.access,
        schedule_body(
            &[ALICE],
            "2026-03-03T09:00:00",
            "2026-03-03T11:00:00",
            "UTC",
            30,
        ),
        None,
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "MailboxNotEnabledForRESTAPI");
    for (m, p) in [
        (Method::GET, "/me/events"),
        (Method::POST, "/me/events"),
        (
            Method::GET,
            "/me/calendarView?startDateTime=2026-03-01T00:00:00Z&endDateTime=2026-03-02T00:00:00Z",
        ),
    ] {
        let (s, v) = call(&t, m, p, &dave.access, Some(meeting("d")), None).await;
        assert_eq!(s, 404, "{p}");
        assert_eq!(v["error"]["code"], "MailboxNotEnabledForRESTAPI");
    }
}

#[tokio::test]
async fn schedule_limits_and_scopes() {
    let t = spawn_sim().await;
    let alice = t.sign_in(ALICE).await;
    let many: Vec<String> = (0..21).map(|i| format!("u{i}@contoso.example")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let (s, v) = schedule(
        &t,
        &alice.access,
        schedule_body(
            &many,
            "2026-03-03T09:00:00",
            "2026-03-03T11:00:00",
            "UTC",
            30,
        ),
        None,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["code"], "ErrorInvalidRequest");
    assert!(v["error"]["innerError"]["request-id"].is_string());
    let (s, _) = schedule(
        &t,
        &alice.access,
        schedule_body(
            &many[..20],
            "2026-03-03T09:00:00",
            "2026-03-03T11:00:00",
            "UTC",
            30,
        ),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = schedule(
        &t,
        &alice.access,
        schedule_body(
            &[BOB],
            "2026-03-01T00:00:00",
            "2026-05-02T00:00:00",
            "UTC",
            30,
        ),
        None,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["code"], "ErrorInvalidTimeInterval");
    let (s, v) = schedule(
        &t,
        &alice.access,
        schedule_body(
            &[BOB],
            "2026-03-03T09:00:00",
            "2026-03-03T11:00:00",
            "UTC",
            4,
        ),
        None,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["code"], "ErrorInvalidMergedFreeBusyInterval");
    let (s, v) = schedule(
        &t,
        &alice.access,
        schedule_body(
            &[BOB],
            "2026-03-03T09:00:00",
            "2026-03-03T11:00:00",
            "UTC",
            30,
        ),
        Some("outlook.timezone=\"Mars/Olympus\""),
    )
    .await;
    assert_eq!(s, 400, "{v}");

    // Without a calendar permission: 403; a bad token: 401.
    let mail_only = t
        .sign_in_with(ALICE, ALL_SCOPES, Some(&["User.Read", "Mail.Read"]))
        .await;
    let (s, v) = call(
        &t,
        Method::POST,
        "/me/events",
        &mail_only.access,
        Some(meeting("x")),
        None,
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(v["error"]["code"], "ErrorAccessDenied");
    let (s, _) = schedule(
        &t,
        &mail_only.access,
        schedule_body(
            &[BOB],
            "2026-03-03T09:00:00",
            "2026-03-03T11:00:00",
            "UTC",
            30,
        ),
        None,
    )
    .await;
    assert_eq!(s, 403);
    let (s, v) = call(&t, Method::GET, "/me/events", "nope", None, None).await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
}

#[tokio::test]
async fn booking_a_teams_meeting_invites_seeded_attendees_and_dedupes_retries() {
    let t = spawn_sim().await;
    let alice = t.sign_in(ALICE).await;
    let tx = "7E163156-7762-4BEB-A1C6-729EA81755A7";
    let (s, ev) = call(
        &t,
        Method::POST,
        "/me/events",
        &alice.access,
        Some(meeting(tx)),
        Some("outlook.timezone=\"W. Europe Standard Time\", IdType=\"ImmutableId\""),
    )
    .await;
    assert_eq!(s, 201, "{ev}");
    let id = ev["id"].as_str().unwrap().to_string();
    assert!(ev["@odata.context"]
        .as_str()
        .unwrap()
        .contains("/events/$entity"));
    assert!(ev["onlineMeeting"]["joinUrl"]
        .as_str()
        .unwrap()
        .starts_with("https://teams.microsoft.com/l/meetup-join/"));
    assert_eq!(ev["isOrganizer"], true);
    assert_eq!(ev["transactionId"], tx);
    assert_eq!(ev["start"]["dateTime"], "2026-03-04T15:00:00.0000000");
    assert_eq!(ev["start"]["timeZone"], "W. Europe Standard Time");
    assert_eq!(ev["attendees"].as_array().unwrap().len(), 3);

    // A retry with the same transactionId returns the same event and creates nothing.
    let (s, again) = call(
        &t,
        Method::POST,
        "/me/events",
        &alice.access,
        Some(meeting(tx)),
        None,
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(again["id"], id.as_str());
    assert_eq!(sim_events(&t, ALICE).await.len(), 1);

    for who in [BOB, CAROL] {
        let evs = sim_events(&t, who).await;
        assert_eq!(evs.len(), 1, "{who}: {evs:?}");
        let copy = &evs[0];
        assert_eq!(copy["subject"], "Interview: Jane Doe");
        assert_eq!(copy["isOrganizer"], false);
        assert_eq!(copy["iCalUId"], ev["iCalUId"]);
        assert_eq!(copy["organizer"]["emailAddress"]["address"], ALICE);
        assert_eq!(copy["responseStatus"]["response"], "notResponded");
        assert_eq!(copy["start"]["dateTime"], "2026-03-04T14:00:00.0000000");
        assert_eq!(
            copy["onlineMeeting"]["joinUrl"],
            ev["onlineMeeting"]["joinUrl"]
        );
    }

    // Their free/busy: 14:00-15:00 UTC tentative (not yet answered).
    let v = interviewers_day(&t, &alice.access).await;
    let expected = format!("{}1{}", "0".repeat(14), "0".repeat(9));
    assert_eq!(v["value"][0]["availabilityView"], expected.as_str());
    assert_eq!(v["value"][1]["availabilityView"], expected.as_str());
    assert_eq!(v["value"][0]["scheduleItems"][0]["status"], "tentative");

    // Bob accepts: busy for him, recorded on alice's event.
    let bob = t.sign_in(BOB).await;
    let bob_copy = sim_events(&t, BOB).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = call(
        &t,
        Method::POST,
        &format!("/me/events/{bob_copy}/accept"),
        &bob.access,
        Some(json!({"comment": "see you", "sendResponse": true})),
        None,
    )
    .await;
    assert_eq!(s, 202);
    let v = interviewers_day(&t, &alice.access).await;
    assert_eq!(
        v["value"][0]["availabilityView"],
        format!("{}2{}", "0".repeat(14), "0".repeat(9)).as_str()
    );
    let (_, mine) = call(
        &t,
        Method::GET,
        &format!("/me/events/{id}"),
        &alice.access,
        None,
        None,
    )
    .await;
    let bob_att = mine["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["emailAddress"]["address"] == BOB)
        .unwrap();
    assert_eq!(bob_att["status"]["response"], "accepted");

    // Listing and calendarView.
    let (s, list) = call(&t, Method::GET, "/me/events", &alice.access, None, None).await;
    assert_eq!(s, 200);
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let (s, view) = call(
        &t,
        Method::GET,
        "/me/calendarView?startDateTime=2026-03-04T00:00:00Z&endDateTime=2026-03-05T00:00:00Z",
        &alice.access,
        None,
        None,
    )
    .await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["value"].as_array().unwrap().len(), 1);
    let (s, _) = call(
        &t,
        Method::GET,
        "/me/calendarView",
        &alice.access,
        None,
        None,
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn patch_moves_the_meeting_for_everyone_and_cancel_removes_it() {
    let t = spawn_sim().await;
    let alice = t.sign_in(ALICE).await;
    let (s, ev) = call(
        &t,
        Method::POST,
        "/me/events",
        &alice.access,
        Some(meeting("tx-move")),
        None,
    )
    .await;
    assert_eq!(s, 201);
    let id = ev["id"].as_str().unwrap().to_string();

    let (s, moved) = call(
        &t,
        Method::PATCH,
        &format!("/me/events/{id}"),
        &alice.access,
        Some(json!({
            "start": dt("2026-03-04T17:00:00", "W. Europe Standard Time"),
            "end": dt("2026-03-04T18:00:00", "W. Europe Standard Time"),
        })),
        None,
    )
    .await;
    assert_eq!(s, 200, "{moved}");
    assert_eq!(moved["start"]["dateTime"], "2026-03-04T16:00:00.0000000");
    assert_ne!(moved["changeKey"], ev["changeKey"]);
    for who in [BOB, CAROL] {
        let evs = sim_events(&t, who).await;
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0]["start"]["dateTime"], "2026-03-04T16:00:00.0000000");
    }
    let v = interviewers_day(&t, &alice.access).await;
    let expected = format!("{}1{}", "0".repeat(16), "0".repeat(7));
    assert_eq!(v["value"][0]["availabilityView"], expected.as_str());
    assert_eq!(v["value"][1]["availabilityView"], expected.as_str());

    let (s, v) = call(
        &t,
        Method::PATCH,
        &format!("/me/events/{id}"),
        &alice.access,
        Some(json!({"end": dt("2026-03-04T08:00:00", "UTC")})),
        None,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["code"], "ErrorPropertyValidationFailure");

    // An attendee cannot cancel.
    let bob = t.sign_in(BOB).await;
    let bob_copy = sim_events(&t, BOB).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = call(
        &t,
        Method::POST,
        &format!("/me/events/{bob_copy}/cancel"),
        &bob.access,
        Some(json!({"comment": "no"})),
        None,
    )
    .await;
    assert_eq!(s, 400);

    let (s, _) = call(
        &t,
        Method::POST,
        &format!("/me/events/{id}/cancel"),
        &alice.access,
        Some(json!({"comment": "Position filled"})),
        None,
    )
    .await;
    assert_eq!(s, 202);
    let (s, v) = call(
        &t,
        Method::GET,
        &format!("/me/events/{id}"),
        &alice.access,
        None,
        None,
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "ErrorItemNotFound");
    assert!(sim_events(&t, ALICE).await.is_empty());
    for who in [BOB, CAROL] {
        let evs = sim_events(&t, who).await;
        assert_eq!(evs[0]["isCancelled"], true);
        assert!(evs[0]["subject"]
            .as_str()
            .unwrap()
            .starts_with("Canceled: "));
    }
    let v = interviewers_day(&t, &alice.access).await;
    for e in v["value"].as_array().unwrap() {
        assert_eq!(e["availabilityView"], "0".repeat(24));
        assert!(e["scheduleItems"].as_array().unwrap().is_empty());
    }

    // DELETE of an organised meeting cancels it for the attendees too.
    let (_, ev2) = call(
        &t,
        Method::POST,
        "/me/events",
        &alice.access,
        Some(meeting("tx-delete")),
        None,
    )
    .await;
    let id2 = ev2["id"].as_str().unwrap();
    let resp = t
        .graph(Method::DELETE, &format!("/me/events/{id2}"), &alice.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let evs = sim_events(&t, CAROL).await;
    assert_eq!(evs.len(), 2);
    assert!(evs.iter().all(|e| e["isCancelled"] == true));
}

#[tokio::test]
async fn weekly_series_blocks_each_week_across_the_eu_dst_change() {
    let t = spawn_sim().await;
    let alice = t.sign_in(ALICE).await;
    let created = t
        .control(
            Method::POST,
            &format!("/mailboxes/{ALICE}/events"),
            Some(json!({
                "subject": "Weekly sync",
                "start": dt("2026-03-16T10:00:00", "W. Europe Standard Time"),
                "end": dt("2026-03-16T11:00:00", "W. Europe Standard Time"),
                "recurrence": {
                    "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                    "range": {"type": "noEnd", "startDate": "2026-03-16"}
                }
            })),
        )
        .await;
    assert_eq!(created.status(), 201);

    let (s, v) = schedule(
        &t,
        &alice.access,
        schedule_body(
            &[ALICE],
            "2026-03-16T00:00:00",
            "2026-04-13T00:00:00",
            "UTC",
            60,
        ),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let items = v["value"][0]["scheduleItems"].as_array().unwrap();
    let starts: Vec<&str> = items
        .iter()
        .map(|i| i["start"]["dateTime"].as_str().unwrap())
        .collect();
    // 10:00 Berlin: 09:00 UTC before 2026-03-29, 08:00 UTC after.
    assert_eq!(
        starts,
        vec![
            "2026-03-16T09:00:00.0000000",
            "2026-03-23T09:00:00.0000000",
            "2026-03-30T08:00:00.0000000",
            "2026-04-06T08:00:00.0000000",
        ]
    );
    let view = v["value"][0]["availabilityView"].as_str().unwrap();
    let busy: Vec<usize> = view
        .char_indices()
        .filter(|(_, c)| *c == '2')
        .map(|(i, _)| i)
        .collect();
    assert_eq!(busy, vec![9, 7 * 24 + 9, 14 * 24 + 8, 21 * 24 + 8]);

    // In Berlin time it stays at 10:00.
    let (_, v) = schedule(
        &t,
        &alice.access,
        schedule_body(
            &[ALICE],
            "2026-03-16T00:00:00",
            "2026-04-13T00:00:00",
            "UTC",
            60,
        ),
        Some("outlook.timezone=\"W. Europe Standard Time\""),
    )
    .await;
    for item in v["value"][0]["scheduleItems"].as_array().unwrap() {
        assert!(item["start"]["dateTime"]
            .as_str()
            .unwrap()
            .ends_with("T10:00:00.0000000"));
    }

    // calendarView expands the series.
    let (s, view) = call(
        &t,
        Method::GET,
        "/me/calendarView?startDateTime=2026-03-16T00:00:00Z&endDateTime=2026-04-13T00:00:00Z",
        &alice.access,
        None,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let occ = view["value"].as_array().unwrap();
    assert_eq!(occ.len(), 4);
    assert!(occ.iter().all(|o| o["type"] == "occurrence"));
    // An occurrence id resolves.
    let (s, one) = call(
        &t,
        Method::GET,
        &format!("/me/events/{}", occ[2]["id"].as_str().unwrap()),
        &alice.access,
        None,
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(one["start"]["dateTime"], "2026-03-30T08:00:00.0000000");
}

#[tokio::test]
async fn event_subscriptions_fire_for_the_changed_calendars() {
    let t = spawn_sim().await;
    let hook = spawn_hook().await;
    let alice = t.sign_in(ALICE).await;
    let bob = t.sign_in(BOB).await;
    let exp = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let mut subs = Vec::new();
    for tok in [&alice.access, &bob.access] {
        let (s, sub) = call(
            &t,
            Method::POST,
            "/subscriptions",
            tok,
            Some(
                json!({"changeType": "created,updated,deleted", "notificationUrl": hook.url,
                "resource": "me/events", "expirationDateTime": exp, "clientState": "cal"}),
            ),
            None,
        )
        .await;
        assert_eq!(s, 201, "{sub}");
        subs.push(sub["id"].as_str().unwrap().to_string());
    }
    let (_, ev) = call(
        &t,
        Method::POST,
        "/me/events",
        &alice.access,
        Some(meeting("tx-notify")),
        None,
    )
    .await;
    let items = hook.hook.wait_for_items(2).await;
    assert_eq!(items.len(), 2, "{items:?}");
    let for_alice = items
        .iter()
        .find(|i| i["subscriptionId"] == subs[0].as_str())
        .unwrap();
    assert_eq!(for_alice["changeType"], "created");
    assert_eq!(
        for_alice["resourceData"]["@odata.type"],
        "#Microsoft.Graph.Event"
    );
    assert_eq!(for_alice["resourceData"]["id"], ev["id"]);
    assert_eq!(for_alice["clientState"], "cal");
    let for_bob = items
        .iter()
        .find(|i| i["subscriptionId"] == subs[1].as_str())
        .unwrap();
    assert_eq!(for_bob["changeType"], "created");
    assert!(for_bob["resource"].as_str().unwrap().contains("/Events/"));

    let id = ev["id"].as_str().unwrap();
    let resp = t
        .graph(Method::DELETE, &format!("/me/events/{id}"), &alice.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let items = hook.hook.wait_for_items(4).await;
    assert_eq!(items.len(), 4, "{items:?}");
    let kinds: Vec<(&str, &str)> = items[2..]
        .iter()
        .map(|i| {
            (
                i["subscriptionId"].as_str().unwrap(),
                i["changeType"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(kinds.contains(&(subs[0].as_str(), "deleted")));
    assert!(kinds.contains(&(subs[1].as_str(), "updated")));
}
