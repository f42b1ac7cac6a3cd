//! Calendar sync end to end against the local stack: an interview booked through the API, the
//! attendee's answer given in the simulator (as in Outlook), notifications duplicated, dropped and
//! reordered; the store, the read API and the EventBridge capture are checked.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use m365_connector::domain::ConnectionId;
use m365_connector::queue::SyncJob;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{body, unique, Harness};
use crate::sync::{connect_and_sync, harness_with_webhook, run_worker, ALICE, BOB};

const CAROL: &str = "carol@contoso.example";

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["detail-type"] == kind).collect()
}

async fn calendar_events(h: &Harness, id: &str) -> Vec<Value> {
    let start = (Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let end = (Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let response = crate::helpers::call::connections(
        &h.connector,
        h.api(
            "GET",
            &format!("/connections/{id}/calendar-events"),
            &[("start", &start), ("end", &end), ("limit", "100")],
            None,
        ),
    )
    .await;
    assert_eq!(response.status(), 200);
    body(response).await["calendar_events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn catch_up(h: &Harness, id: &str) {
    let job = SyncJob::CatchUp {
        connection_id: ConnectionId::parse(id).unwrap(),
    };
    h.connector
        .queue
        .enqueue(&job, &unique("final"))
        .await
        .unwrap();
    run_worker(h, Duration::from_millis(500)).await;
}

#[tokio::test]
async fn an_interview_declined_in_outlook_is_told_once_under_lossy_notifications() {
    let h = harness_with_webhook().await;
    let alice = connect_and_sync(&h, ALICE).await;
    let subs = h.control(Method::GET, "/_sim/subscriptions", None).await;
    assert!(
        subs["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["resource"] == "me/events"
                && s["userId"].as_str().unwrap().starts_with("a11ce")),
        "alice's events are subscribed: {subs}"
    );
    h.events().await;

    let hooks = "/webhooks/graph/notifications";
    for fault in [
        json!({"kind": "duplicateNotifications", "rate": 0.5, "path": hooks}),
        json!({"kind": "dropNotifications", "rate": 0.2, "path": hooks}),
        json!({"kind": "reorderNotifications", "path": hooks}),
    ] {
        h.control(Method::POST, "/_sim/faults", Some(fault)).await;
    }

    let subject = unique("Interview: Jane Doe");
    let start = (Utc::now() + chrono::Duration::days(3))
        .date_naive()
        .and_hms_opt(14, 0, 0)
        .unwrap()
        .and_utc();
    let booking = json!({"subject": subject, "body": "Technical round",
        "start": start.to_rfc3339(), "end": (start + chrono::Duration::minutes(45)).to_rfc3339(),
        "time_zone": "UTC", "attendees": [{"address": BOB, "type": "required"},
            {"address": CAROL, "type": "optional"}]});
    let mut request = h.api(
        "POST",
        &format!("/connections/{alice}/events"),
        &[],
        Some(booking),
    );
    request
        .headers_mut()
        .insert("idempotency-key", unique("interview").parse().unwrap());
    let response = crate::helpers::call::scheduling(&h.connector, request).await;
    assert_eq!(response.status(), 201);
    run_worker(&h, Duration::from_secs(2)).await;
    // The booking is stored before anyone answers: its notification may have been dropped, and
    // the periodic catch-up is the safety net. (Delta reports states, not steps: an answer synced
    // in the same round as the creation is part of the created event, not a change.)
    catch_up(&h, &alice).await;

    // Bob declines in Outlook: his copy goes, alice's event records the answer.
    let bobs = h
        .control(Method::GET, &format!("/_sim/mailboxes/{BOB}/events"), None)
        .await;
    let copy = bobs["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subject"] == subject.as_str())
        .expect("bob got the invitation")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    h.control(
        Method::POST,
        &format!("/_sim/mailboxes/{BOB}/events/{copy}/respond"),
        Some(json!({"response": "decline"})),
    )
    .await;
    run_worker(&h, Duration::from_secs(2)).await;
    // Carol proposes another time.
    let carols = h
        .control(
            Method::GET,
            &format!("/_sim/mailboxes/{CAROL}/events"),
            None,
        )
        .await;
    let copy = carols["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subject"] == subject.as_str())
        .expect("carol got the invitation")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let proposed = start + chrono::Duration::days(1);
    let slot = |t: chrono::DateTime<Utc>| json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"});
    h.control(
        Method::POST,
        &format!("/_sim/mailboxes/{CAROL}/events/{copy}/respond"),
        Some(json!({"response": "tentativelyAccept", "proposedNewTime": {
            "start": slot(proposed), "end": slot(proposed + chrono::Duration::minutes(45))}})),
    )
    .await;
    run_worker(&h, Duration::from_secs(2)).await;
    // Alice moves the interview in Outlook.
    let alices = h
        .control(
            Method::GET,
            &format!("/_sim/mailboxes/{ALICE}/events"),
            None,
        )
        .await;
    let booked = alices["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subject"] == subject.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token =
        m365_connector::tokens::access_token(&h.connector, &ConnectionId::parse(&alice).unwrap())
            .await
            .unwrap();
    let moved_to = start + chrono::Duration::hours(2);
    loop {
        let response = h
            .browser
            .patch(format!("{}/v1.0/me/events/{booked}", h.sim.base_url()))
            .bearer_auth(secrecy::ExposeSecret::expose_secret(&token))
            .json(&json!({"start": slot(moved_to), "end": slot(moved_to + chrono::Duration::minutes(45))}))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            break;
        }
        assert_eq!(response.status(), 429);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    run_worker(&h, Duration::from_secs(2)).await;

    // The periodic safety net with the faults gone, twice: nothing is told twice.
    h.control(Method::DELETE, "/_sim/faults", None).await;
    catch_up(&h, &alice).await;
    catch_up(&h, &alice).await;

    let stored = calendar_events(&h, &alice).await;
    let interview: Vec<&Value> = stored
        .iter()
        .filter(|e| e["subject"] == subject.as_str())
        .collect();
    assert_eq!(interview.len(), 1, "{stored:?}");
    let interview = interview[0];
    assert_eq!(interview["booked_by_connector"], true);
    assert_eq!(interview["type"], "singleInstance");
    assert!(interview.get("body").is_none());
    let bob = interview["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == BOB)
        .unwrap();
    assert_eq!(bob["response"], "declined");
    let carol = interview["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == CAROL)
        .unwrap();
    assert_eq!(carol["response"], "tentativelyAccepted");
    assert_eq!(
        carol["proposed_new_time"]["start"],
        json!(proposed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
    assert_eq!(
        interview["start"],
        json!(moved_to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
    let event_id = interview["id"].as_str().unwrap();
    let one = crate::helpers::call::connections(
        &h.connector,
        h.api(
            "GET",
            &format!("/connections/{alice}/calendar-events/{event_id}"),
            &[],
            None,
        ),
    )
    .await;
    assert_eq!(one.status(), 200);
    assert_eq!(body(one).await["subject"], subject.as_str());

    let events = h.events().await;
    let about = |kind: &str| -> Vec<Value> {
        of_type(&events, kind)
            .into_iter()
            .filter(|e| {
                e["detail"]["calendar_event"]["subject"] == subject.as_str()
                    || e["detail"]["subject"] == subject.as_str()
            })
            .cloned()
            .collect()
    };
    let distinct = |v: &[Value]| {
        v.iter()
            .map(|e| e["detail"]["event_id"].as_str().unwrap().to_owned())
            .collect::<HashSet<_>>()
            .len()
    };
    let created = about("calendar_event.created");
    assert_eq!((created.len(), distinct(&created)), (1, 1), "{created:?}");
    let responses = about("interview.response_changed");
    assert_eq!(distinct(&responses), 2, "{responses:?}");
    assert_eq!(responses.len(), 2, "each published once: {responses:?}");
    let of = |who: &str| {
        responses
            .iter()
            .find(|e| e["detail"]["attendee"]["address"] == who)
            .unwrap()["detail"]
            .clone()
    };
    assert_eq!(of(BOB)["old_response"], "none");
    assert_eq!(of(BOB)["new_response"], "declined");
    assert_eq!(of(CAROL)["new_response"], "tentativelyAccepted");
    assert!(of(CAROL)["proposed_new_time"]["start"].is_string());
    let rescheduled = about("interview.rescheduled");
    assert_eq!(rescheduled.len(), 1, "{rescheduled:?}");
    assert_eq!(
        rescheduled[0]["detail"]["new"]["start"],
        json!(moved_to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
    assert!(about("interview.cancelled").is_empty());
}

#[tokio::test]
async fn a_calendar_listing_with_a_bad_window_is_a_400_and_an_unknown_event_a_404() {
    let h = harness_with_webhook().await;
    let alice = connect_and_sync(&h, ALICE).await;
    let bad = crate::helpers::call::connections(
        &h.connector,
        h.api(
            "GET",
            &format!("/connections/{alice}/calendar-events"),
            &[
                ("start", "2026-01-02T00:00:00Z"),
                ("end", "2026-01-01T00:00:00Z"),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(bad.status(), 400);
    let unknown = crate::helpers::call::connections(
        &h.connector,
        h.api(
            "GET",
            &format!("/connections/{alice}/calendar-events/AAMkNoSuchEvent"),
            &[],
            None,
        ),
    )
    .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn an_occurrence_of_a_weekly_series_moved_in_outlook_is_stored_and_told_as_an_exception() {
    let h = harness_with_webhook().await;
    let alice = connect_and_sync(&h, ALICE).await;
    h.events().await;
    let subject = unique("Weekly sync");
    let first = (Utc::now() + chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    let day = first.format("%A").to_string().to_lowercase();
    let series = h
        .control(
            Method::POST,
            &format!("/_sim/mailboxes/{ALICE}/events"),
            Some(json!({"subject": subject,
                "start": {"dateTime": first.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"},
                "end": {"dateTime": (first + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"},
                "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [day]},
                    "range": {"type": "numbered", "numberOfOccurrences": 3}}})),
        )
        .await;
    let master = series["id"].as_str().unwrap().to_owned();
    run_worker(&h, Duration::from_secs(2)).await;
    let stored = calendar_events(&h, &alice).await;
    let ours: Vec<&Value> = stored
        .iter()
        .filter(|e| e["subject"] == subject.as_str())
        .collect();
    assert_eq!(ours.len(), 3, "every occurrence in the window: {stored:?}");
    assert!(ours
        .iter()
        .all(|e| e["type"] == "occurrence" && e["series_master_id"] == master.as_str()));

    let second = ours[1]["id"].as_str().unwrap().to_owned();
    let moved_to = first + chrono::Duration::days(8) + chrono::Duration::hours(5);
    h.control(
        Method::POST,
        &format!("/_sim/mailboxes/{ALICE}/occurrences/{second}"),
        Some(json!({"start": moved_to.to_rfc3339(),
                    "end": (moved_to + chrono::Duration::hours(1)).to_rfc3339()})),
    )
    .await;
    let third = ours[2]["id"].as_str().unwrap().to_owned();
    h.control(
        Method::POST,
        &format!("/_sim/mailboxes/{ALICE}/occurrences/{third}"),
        Some(json!({"cancel": true})),
    )
    .await;
    run_worker(&h, Duration::from_secs(2)).await;
    catch_up(&h, &alice).await;

    let stored = calendar_events(&h, &alice).await;
    let ours: Vec<&Value> = stored
        .iter()
        .filter(|e| e["subject"] == subject.as_str())
        .collect();
    assert_eq!(ours.len(), 2, "the cancelled occurrence left: {ours:?}");
    let exception = ours.iter().find(|e| e["id"] == second.as_str()).unwrap();
    assert_eq!(exception["type"], "exception");
    assert_eq!(
        exception["start"],
        json!(moved_to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
    let events = h.events().await;
    let updated: Vec<&Value> = of_type(&events, "calendar_event.updated")
        .into_iter()
        .filter(|e| e["detail"]["calendar_event"]["subject"] == subject.as_str())
        .collect();
    assert_eq!(
        updated.len(),
        1,
        "only the moved occurrence changed: {updated:?}"
    );
    assert_eq!(
        updated[0]["detail"]["calendar_event"]["id"],
        second.as_str()
    );
    let deleted: Vec<&Value> = of_type(&events, "calendar_event.deleted")
        .into_iter()
        .filter(|e| e["detail"]["calendar_event"]["subject"] == subject.as_str())
        .collect();
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["detail"]["calendar_event"]["id"], third.as_str());
}

#[tokio::test]
async fn an_expired_calendar_token_restarts_the_window_without_duplicates_and_catches_deletions() {
    let h = harness_with_webhook().await;
    let alice = connect_and_sync(&h, ALICE).await;
    let at = |days: i64| {
        (Utc::now() + chrono::Duration::days(days))
            .format("%Y-%m-%dT10:00:00")
            .to_string()
    };
    let subject = unique("Dentist");
    let mut ids = Vec::new();
    for (n, day) in [(1, 2), (2, 3)] {
        let created = h
            .control(
                Method::POST,
                &format!("/_sim/mailboxes/{ALICE}/events"),
                Some(json!({"subject": format!("{subject} {n}"),
                    "start": {"dateTime": at(day), "timeZone": "UTC"},
                    "end": {"dateTime": at(day).replace("T10", "T11"), "timeZone": "UTC"}})),
            )
            .await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    run_worker(&h, Duration::from_secs(2)).await;
    h.events().await;

    h.control(
        Method::POST,
        &format!("/_sim/users/{ALICE}/expire-delta-tokens"),
        None,
    )
    .await;
    // Deleted while the token is dead; the notification is not acted on before the catch-up.
    h.control(
        Method::DELETE,
        &format!("/_sim/mailboxes/{ALICE}/events/{}", ids[0]),
        None,
    )
    .await;
    let job = SyncJob::CatchUp {
        connection_id: ConnectionId::parse(&alice).unwrap(),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let outcome = m365_connector::sync::run(&h.connector, &job, deadline)
        .await
        .unwrap();
    let m365_connector::sync::Outcome::Done(stats) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        stats.restarted_folders, 3,
        "two folders and the calendar: {stats:?}"
    );

    let events = h.events().await;
    let ours = |kind: &str| -> Vec<Value> {
        of_type(&events, kind)
            .into_iter()
            .filter(|e| {
                e["detail"]["calendar_event"]["subject"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(subject.as_str()))
            })
            .cloned()
            .collect()
    };
    assert!(ours("calendar_event.created").is_empty(), "no duplicates");
    assert!(ours("calendar_event.updated").is_empty(), "no duplicates");
    let deleted = ours("calendar_event.deleted");
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(
        deleted[0]["detail"]["calendar_event"]["id"],
        ids[0].as_str()
    );
    let stored = calendar_events(&h, &alice).await;
    let live: Vec<&str> = stored
        .iter()
        .filter(|e| e["subject"].as_str().unwrap().starts_with(subject.as_str()))
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(live, [ids[1].as_str()]);
}

#[tokio::test]
async fn a_rolled_window_reads_the_calendar_afresh_without_duplicates_and_keeps_aged_out_events() {
    let h = harness_with_webhook().await;
    let alice = connect_and_sync(&h, ALICE).await;
    let connection_id = ConnectionId::parse(&alice).unwrap();
    let subject = unique("Planning");
    let day = (Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%dT10:00:00")
        .to_string();
    h.control(
        Method::POST,
        &format!("/_sim/mailboxes/{ALICE}/events"),
        Some(json!({"subject": subject,
            "start": {"dateTime": day, "timeZone": "UTC"},
            "end": {"dateTime": day.replace("T10", "T11"), "timeZone": "UTC"}})),
    )
    .await;
    run_worker(&h, Duration::from_secs(2)).await;
    // An instance synced long ago, now before the window: it aged out, it was not deleted.
    let mut aged = m365_connector::store::calendar::CalendarEventRecord {
        id: unique("aged"),
        connection_id: connection_id.clone(),
        subject: unique("Aged"),
        start: Utc::now() - chrono::Duration::days(90),
        end: Utc::now() - chrono::Duration::days(90) + chrono::Duration::hours(1),
        time_zone: "UTC".into(),
        is_all_day: false,
        organizer: None,
        attendees: vec![],
        is_cancelled: false,
        is_online_meeting: false,
        join_url: None,
        location: None,
        ical_uid: None,
        series_master_id: None,
        kind: "singleInstance".into(),
        transaction_id: None,
        booked_by_connector: false,
        web_link: None,
        deleted: false,
        etag: "x".into(),
    };
    aged.id = aged.id.replace('-', "");
    h.connector
        .store
        .write_batch(vec![m365_connector::store::calendar::calendar_event_write(
            &aged,
        )
        .unwrap()])
        .await
        .unwrap();
    // The cursor's window began three days ago: the window has rolled since.
    let covered = h
        .connector
        .store
        .get_calendar_window(&connection_id)
        .await
        .unwrap()
        .expect("the first round recorded its window");
    h.connector
        .store
        .put_calendar_window(
            &connection_id,
            m365_connector::store::calendar::CalendarWindow {
                start: covered.start - chrono::Duration::days(3),
                end: covered.end - chrono::Duration::days(3),
            },
        )
        .await
        .unwrap();
    h.events().await;
    h.control(Method::DELETE, "/_sim/requests", None).await;
    catch_up(&h, &alice).await;

    let requests = h.sim_requests("/v1.0/me/calendarView/delta").await;
    assert!(
        requests.iter().any(|r| r["query"]
            .as_str()
            .is_some_and(|q| q.contains("startDateTime"))),
        "a new sequence over the current window: {requests:?}"
    );
    let rolled = h
        .connector
        .store
        .get_calendar_window(&connection_id)
        .await
        .unwrap()
        .unwrap();
    assert!(rolled.start >= covered.start, "{rolled:?} {covered:?}");
    let events = h.events().await;
    let calendar: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["detail-type"]
                .as_str()
                .is_some_and(|t| t.starts_with("calendar_event."))
        })
        .collect();
    assert!(calendar.is_empty(), "nothing changed: {calendar:?}");
    let still = h
        .connector
        .store
        .get_calendar_event(&connection_id, &aged.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!still.deleted, "aged out is not deleted");
    assert_eq!(
        calendar_events(&h, &alice)
            .await
            .iter()
            .filter(|e| e["subject"] == subject.as_str())
            .count(),
        1
    );
}
