//! Benchmark (prints figures, asserts no times): the calendar backfill of 2,000 event instances
//! in the sync window. Run with `make bench-calendar`.
//!
//! The instances are ten daily series of 200 occurrences each, all inside the window (the
//! simulator stores ten events; `calendarView/delta` expands them into 2,000 instances, as Graph
//! does). Graph requests come from the simulator's request log, AWS calls from the SDK
//! interceptor on every client of the connector.

use std::time::Duration;

use chrono::Utc;
use m365_connector::queue::SyncJob;
use m365_connector::sync::RunOptions;
use reqwest::Method;

use crate::bench_sync::{metered_harness, run_measured};
use crate::sync::ALICE;

const SERIES: usize = 10;
const PER_SERIES: usize = 200;

#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_calendar_backfill_of_2000_events() {
    let meter = integration_tests::Meter::default();
    let h = metered_harness(&meter).await;

    let first = (Utc::now() - chrono::Duration::days(20)).date_naive();
    let mut series = Vec::new();
    for n in 0..SERIES {
        let at = |hour: usize| format!("{first}T{:02}:00:00", 7 + hour);
        let created = h
            .control(
                Method::POST,
                &format!("/_sim/mailboxes/{ALICE}/events"),
                Some(serde_json::json!({
                    "subject": format!("bench series {n}"),
                    "start": {"dateTime": at(n), "timeZone": "UTC"},
                    "end": {"dateTime": at(n + 1), "timeZone": "UTC"},
                    "attendees": [{"emailAddress": {"address": format!("candidate{n}@external.example")}}],
                    "recurrence": {"pattern": {"type": "daily", "interval": 1},
                        "range": {"type": "numbered", "numberOfOccurrences": PER_SERIES}}
                })),
            )
            .await;
        series.push(created["id"].as_str().unwrap().to_owned());
    }

    let landing = h.connect(&crate::helpers::unique("bench"), ALICE).await;
    let jobs = h.sync_jobs().await;
    let job: SyncJob = serde_json::from_value(jobs[0].clone()).unwrap();
    assert!(matches!(job, SyncJob::Connected { .. }), "{landing:?}");

    let (stats, elapsed) = run_measured(&h, Some(&meter), &job, RunOptions::default()).await;
    let instances = SERIES * PER_SERIES;
    assert!(stats.created >= instances, "{stats:?}");

    let graph = h.sim_requests("/v1.0").await;
    let delta = graph
        .iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/calendarView/delta"))
        .count();
    let snapshot = meter.snapshot();
    let calls = |service: &str, op: &str| {
        snapshot
            .iter()
            .filter(|((s, o), _)| s.eq_ignore_ascii_case(service) && o == op)
            .map(|(_, u)| u.calls)
            .sum::<u32>()
    };
    println!();
    println!(
        "| backfill of {instances} calendar instances (and the mailbox's mail), page size {} | value |",
        h.connector.config.sync_page_size
    );
    println!("|---|---|");
    println!("| items created (events + messages) | {} |", stats.created);
    println!(
        "| delta pages (calendar + both folders) | {} |",
        stats.pages
    );
    println!("| Graph requests, all | {} |", graph.len());
    println!("| Graph calendarView/delta requests | {delta} |");
    println!(
        "| DynamoDB write calls | BatchWriteItem {}, PutItem {} |",
        calls("dynamodb", "BatchWriteItem"),
        calls("dynamodb", "PutItem")
    );
    println!(
        "| DynamoDB read calls | BatchGetItem {}, GetItem {}, Query {} |",
        calls("dynamodb", "BatchGetItem"),
        calls("dynamodb", "GetItem"),
        calls("dynamodb", "Query")
    );
    println!(
        "| EventBridge PutEvents calls | {} |",
        calls("eventbridge", "PutEvents")
    );
    println!("| wall time | {:.2} s |", elapsed.as_secs_f64());
    println!(
        "| events published per second | {:.0} |",
        stats.created as f64 / elapsed.as_secs_f64()
    );
    for ((service, op), usage) in &snapshot {
        println!("  {service}.{op}: {} calls, {:?}", usage.calls, usage.time);
    }

    // The steady state the cost model prices (`make cost`): one catch-up job after the backfill
    // for each kind of change a notification announces, its AWS calls and Graph requests counted
    // and written as that unit of work.
    let catch_up = SyncJob::CatchUp {
        connection_id: job.connection_id().clone(),
    };
    let mut steady = Vec::new();
    for unit in [
        "sync_job_nothing_new",
        "sync_job_one_message",
        "sync_job_calendar_change",
    ] {
        match unit {
            "sync_job_one_message" => {
                crate::sync::deliver(&h, ALICE, "candidate@external.example", "one more").await;
            }
            "sync_job_calendar_change" => {
                let at = (Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%dT10:00:00");
                let until = (Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%dT11:00:00");
                let created = h
                    .control(
                        Method::POST,
                        &format!("/_sim/mailboxes/{ALICE}/events"),
                        Some(serde_json::json!({
                            "subject": "one more meeting",
                            "start": {"dateTime": at.to_string(), "timeZone": "UTC"},
                            "end": {"dateTime": until.to_string(), "timeZone": "UTC"},
                        })),
                    )
                    .await;
                series.push(created["id"].as_str().unwrap().to_owned());
            }
            _ => {}
        }
        // The change's notification reaches the test's webhook (metered too) first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (stats, _) = run_measured(&h, Some(&meter), &catch_up, RunOptions::default()).await;
        let expected = usize::from(unit != "sync_job_nothing_new");
        assert_eq!(stats.created, expected, "{unit}: {stats:?}");
        let graph_calls = h
            .sim_requests("/")
            .await
            .iter()
            .filter(|r| !r["path"].as_str().unwrap().starts_with("/_sim"))
            .count();
        let snapshot = meter.snapshot();
        integration_tests::Meter::write_calls(
            unit,
            &format!("make bench-calendar, one catch-up job after the backfill ({unit})"),
            graph_calls,
            &snapshot,
        );
        let aws: u32 = snapshot.values().map(|u| u.calls).sum();
        steady.push((unit, graph_calls, aws, snapshot));
    }
    println!();
    println!("| steady state: one catch-up job (Inbox, Sent Items, calendar) | Graph requests | AWS calls | of which |");
    println!("|---|---|---|---|");
    for (unit, graph_calls, aws, snapshot) in &steady {
        let of: Vec<String> = snapshot
            .iter()
            .map(|((s, o), u)| format!("{s}.{o} {}", u.calls))
            .collect();
        println!("| {unit} | {graph_calls} | {aws} | {} |", of.join(", "));
    }

    // Leave alice's calendar as it was for the tests that run after.
    for id in series {
        h.control(
            Method::DELETE,
            &format!("/_sim/mailboxes/{ALICE}/events/{id}"),
            None,
        )
        .await;
    }
}
