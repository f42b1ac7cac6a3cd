//! Benchmarks (print figures, assert no times): free/busy fan-out and slot computation. Run with
//! `make bench-scheduling` (`cargo test -p integration-tests --test api bench_scheduling --
//! --ignored --nocapture` against the local stack).

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveTime, Utc, Weekday};
use m365_connector::domain::EmailAddress;
use m365_connector::scheduling::slots::{
    find_slots, Availability, BusyItem, FreeBusyStatus, ScheduleStatus, SlotRules, WorkingHours,
};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{unique, Harness, MAILBOXES};

const RUNS: usize = 10;
const LATENCY_MS: u64 = 100;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn free_busy(h: &Harness, id: &str, attendees: &[String]) -> Duration {
    let request = h.api(
        "POST",
        &format!("/connections/{id}/free-busy"),
        &[],
        Some(
            json!({"attendees": attendees, "start": "2026-03-09T00:00:00Z",
                    "end": "2026-03-23T00:00:00Z", "time_zone": "Europe/Berlin"}),
        ),
    );
    let started = Instant::now();
    let response = scheduling::handle(&h.connector, request).await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), 200);
    elapsed
}

#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_scheduling_free_busy_for_45_attendees_against_one_getschedule() {
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let id = h.connect(&unique("bench"), "alice@contoso.example").await["connection_id"].clone();
    let mut many: Vec<String> = ["alice", "bob", "carol"]
        .iter()
        .map(|u| format!("{u}@contoso.example"))
        .collect();
    many.extend((0..42).map(|i| format!("candidate{i}@fabrikam.example")));
    let one = vec!["bob@contoso.example".to_string()];
    // Warm the token and secret caches first.
    free_busy(&h, &id, &one).await;
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "latency", "ms": LATENCY_MS, "path": "/v1.0/me/calendar/getSchedule"})),
    )
    .await;

    let mut one_call = Vec::new();
    let mut fan_out = Vec::new();
    for _ in 0..RUNS {
        one_call.push(free_busy(&h, &id, &one).await);
        fan_out.push(free_busy(&h, &id, &many).await);
    }
    let (one_call, fan_out) = (median(one_call), median(fan_out));
    println!("\nfree/busy, 14 days, Graph latency {LATENCY_MS} ms per getSchedule (median of {RUNS}, debug build):");
    println!("  1 attendee  (1 getSchedule call):  {one_call:?}");
    println!("  45 attendees (3 getSchedule calls): {fan_out:?}");
    println!(
        "  ratio 45 attendees / one call: {:.2}; 45 attendees / {LATENCY_MS} ms: {:.2}",
        fan_out.as_secs_f64() / one_call.as_secs_f64(),
        fan_out.as_secs_f64() / (LATENCY_MS as f64 / 1000.0)
    );
}

/// A deterministic pseudo-random sequence (no dependency, same calendars every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn bench_scheduling_slot_computation_for_100_attendees_over_14_days_at_5_minutes() {
    let zones = [
        chrono_tz::Europe::Berlin,
        chrono_tz::Europe::London,
        chrono_tz::America::New_York,
        chrono_tz::Asia::Kolkata,
    ];
    let start: DateTime<Utc> = "2026-03-02T00:00:00Z".parse().unwrap();
    let mut rng = Lcg(42);
    let people: Vec<Availability> = (0..100)
        .map(|i| Availability {
            address: EmailAddress::parse("attendees", &format!("p{i}@contoso.example")).unwrap(),
            status: ScheduleStatus::Ok,
            // The five required attendees work in Berlin, the optional ones anywhere.
            working_hours: Some(WorkingHours {
                days: vec![
                    Weekday::Mon,
                    Weekday::Tue,
                    Weekday::Wed,
                    Weekday::Thu,
                    Weekday::Fri,
                ],
                start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
                zone: if i < 5 {
                    zones[0]
                } else {
                    zones[i % zones.len()]
                }
                .into(),
            }),
            busy: (0..40)
                .map(|_| {
                    let at = start + chrono::Duration::minutes(rng.next(14 * 24 * 12) as i64 * 5);
                    BusyItem {
                        start: at,
                        end: at + chrono::Duration::minutes(15 + rng.next(8) as i64 * 15),
                        status: if rng.next(4) == 0 {
                            FreeBusyStatus::Tentative
                        } else {
                            FreeBusyStatus::Busy
                        },
                    }
                })
                .collect(),
        })
        .collect();
    let (required, optional) = people.split_at(5);
    let rules = SlotRules {
        start,
        end: start + chrono::Duration::days(14),
        zone: chrono_tz::Europe::Berlin,
        duration: chrono::Duration::minutes(45),
        granularity: chrono::Duration::minutes(5),
        buffer_before: chrono::Duration::minutes(10),
        buffer_after: chrono::Duration::minutes(10),
        min_notice: chrono::Duration::zero(),
        now: start,
        within_working_hours: true,
        treat_tentative_as_busy: true,
        max_results: 100,
    };
    let outcome = find_slots(required, optional, &rules);
    let runs = 50;
    let started = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(find_slots(required, optional, &rules));
    }
    let per_call = started.elapsed() / runs;
    println!(
        "\nslot computation: 5 required + 95 optional attendees (40 busy items each, 4 zones), 14 days, \
         5-minute granularity, 45 min, buffers 10/10: {per_call:?} per call ({} slots; {} cargo profile)",
        outcome.slots.len(),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
}

/// One request of each scheduling kind, metered, and written as a unit of work of the cost model
/// (`make cost`): the AWS calls the connector's SDK clients made and the requests the simulator
/// received (Graph and the identity platform).
#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_scheduling_calls_of_free_busy_a_booking_and_a_scheduling_link() {
    use crate::scheduling_links as links;

    let _turn = MAILBOXES.lock().await;
    let meter = integration_tests::Meter::default();
    let h = Harness::start_metered(&meter).await;
    let id = h.connect(&unique("bench"), "alice@contoso.example").await["connection_id"].clone();
    let bob = vec!["bob@contoso.example".to_string()];
    // Warm the token and API-key caches, as a warm sandbox has them.
    free_busy(&h, &id, &bob).await;

    let mut rows = Vec::new();
    let mut measure = |unit: &'static str, graph_calls: usize| {
        let snapshot = meter.snapshot();
        integration_tests::Meter::write_calls(
            unit,
            &format!("make bench-scheduling, one warm request ({unit})"),
            graph_calls,
            &snapshot,
        );
        let of: Vec<String> = snapshot
            .iter()
            .map(|((s, o), u)| format!("{s}.{o} {}", u.calls))
            .collect();
        rows.push(format!(
            "| {unit} | {graph_calls} | {} | {} |",
            snapshot.values().map(|u| u.calls).sum::<u32>(),
            of.join(", ")
        ));
    };
    reset(&h, &meter).await;
    free_busy(&h, &id, &bob).await;
    measure("free_busy", graph_requests(&h).await);

    reset(&h, &meter).await;
    let mut request = h.api(
        "POST",
        &format!("/connections/{id}/events"),
        &[],
        Some(
            json!({"subject": "Interview: cost model", "start": "2026-03-10T14:00:00+01:00",
            "end": "2026-03-10T14:45:00+01:00", "time_zone": "Europe/Berlin",
            "attendees": [{"address": "bob@contoso.example", "type": "required"}]}),
        ),
    );
    request
        .headers_mut()
        .insert("idempotency-key", unique("cost").parse().unwrap());
    let response = scheduling::handle(&h.connector, request).await;
    assert_eq!(response.status(), 201);
    measure("booking", graph_requests(&h).await);

    reset(&h, &meter).await;
    let (_, path) =
        links::create_link(&h, &id, links::link_body(&["alice@contoso.example"], 45)).await;
    measure("link_create", graph_requests(&h).await);

    reset(&h, &meter).await;
    let ip = "198.51.100.201";
    let page = links::open(&h, "GET", &path, &[("tz", "Asia/Kolkata")], None, ip).await;
    assert_eq!(page.status, 200);
    measure("link_page_view", graph_requests(&h).await);
    let first = links::slots(&page.html)[0].0;

    // The form's GET is another page view; the booking is the POST.
    let fields = links::fill_form(&h, &path, first, ip).await;
    reset(&h, &meter).await;
    let booked = links::submit(&h, &path, &fields, ip).await;
    assert_eq!(booked.status, 303, "{}", booked.html);
    measure("link_booking", graph_requests(&h).await);

    println!();
    println!("| one warm request | Graph requests | AWS calls | of which |");
    println!("|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}

/// Requests the simulator received outside its control routes since the last reset.
async fn graph_requests(h: &Harness) -> usize {
    h.sim_requests("/")
        .await
        .iter()
        .filter(|r| !r["path"].as_str().unwrap().starts_with("/_sim"))
        .count()
}

async fn reset(h: &Harness, meter: &integration_tests::Meter) {
    h.control(Method::DELETE, "/_sim/requests", None).await;
    meter.reset();
}
