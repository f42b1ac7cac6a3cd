//! Benchmarks (print figures, assert no times): the backfill of 5,000 messages in one folder, and
//! of a mailbox with 10 years of mail with and without the delta `$filter` on the look-back
//! window. Run with `make bench-sync`.
//!
//! Graph requests come from the simulator's request log, AWS calls from the SDK interceptor on
//! every client of the connector (including the private table's).

use integration_tests::Wired as _;

use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use m365_connector::queue::SyncJob;
use m365_connector::sync::{self, Outcome, RunOptions, Stats};
use reqwest::Method;

use crate::sync::{harness_with_webhook_on, ALICE, BOB};

const MESSAGES: usize = 5_000;

/// The sync harness with every AWS client metered, publishing to a bus without rules: moto
/// delivers each event through the test's capture rule to SQS synchronously (~90 ms per event),
/// which would measure moto, not the connector.
pub(crate) async fn metered_harness(meter: &integration_tests::Meter) -> crate::helpers::Harness {
    let mut h = harness_with_webhook_on(Some(meter)).await;
    let bus = crate::helpers::unique("bench-bus");
    h.stack
        .aws
        .eventbridge()
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .unwrap();
    let clients = integration_tests::metered_clients(
        &m365_connector::aws::sdk_config_from_env().await,
        meter,
    );
    h.connector.events = m365_connector::events::EventPublisher::new(clients.eventbridge, &bus);
    h
}

/// Runs `job` as the engine does (15 minutes to finish) after clearing the simulator's request
/// log and the meter, so both count this job alone; its stats and wall time.
pub(crate) async fn run_measured(
    h: &crate::helpers::Harness,
    meter: Option<&integration_tests::Meter>,
    job: &SyncJob,
    options: RunOptions,
) -> (Stats, Duration) {
    h.control(Method::DELETE, "/_sim/requests", None).await;
    if let Some(meter) = meter {
        meter.reset();
    }
    let started = Instant::now();
    let outcome = sync::run_with(
        &h.connector,
        job,
        tokio::time::Instant::now() + Duration::from_secs(900),
        options,
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();
    let Outcome::Done(stats) = outcome else {
        panic!("{job:?}: {outcome:?}")
    };
    (stats, elapsed)
}

#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_sync_backfill_of_5000_messages() {
    let meter = integration_tests::Meter::default();
    let h = metered_harness(&meter).await;

    // Seed before connecting: no subscription yet, so no notifications, just mail to backfill.
    let seeded = Instant::now();
    stream::iter(0..MESSAGES)
        .map(|i| {
            let h = &h;
            async move {
                h.control(
                    Method::POST,
                    &format!("/_sim/mailboxes/{ALICE}/messages"),
                    Some(serde_json::json!({
                        "from": format!("sender{}@external.example", i % 50),
                        "subject": format!("backfill {i}"),
                        "body": "x"
                    })),
                )
                .await
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    println!("seeded {MESSAGES} messages in {:?}", seeded.elapsed());

    let landing = h.connect(&crate::helpers::unique("bench"), ALICE).await;
    let jobs = h.sync_jobs().await;
    assert_eq!(jobs.len(), 1);
    let job: SyncJob = serde_json::from_value(jobs[0].clone()).unwrap();
    assert!(matches!(job, SyncJob::Connected { .. }), "{landing:?}");

    let (stats, elapsed) = run_measured(&h, Some(&meter), &job, RunOptions::default()).await;
    assert_eq!(stats.created, MESSAGES);

    let graph = h.sim_requests("/v1.0").await;
    let delta = graph
        .iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/messages/delta"))
        .count();
    let snapshot = meter.snapshot();
    let calls = |service: &str, op: &str| {
        snapshot
            .iter()
            .filter(|((s, o), _)| s.eq_ignore_ascii_case(service) && o == op)
            .map(|(_, u)| u.calls)
            .sum::<u32>()
    };
    let writes = ["BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem"]
        .iter()
        .map(|op| calls("dynamodb", op))
        .sum::<u32>();

    println!();
    println!(
        "| backfill of {MESSAGES} messages (one folder), page size {} | value |",
        h.connector.config.sync_page_size
    );
    println!("|---|---|");
    println!("| delta pages (both folders) | {} |", stats.pages);
    println!("| Graph requests, all | {} |", graph.len());
    println!("| Graph delta requests | {delta} |");
    println!(
        "| Graph other requests (2 subscriptions) | {} |",
        graph.len() - delta
    );
    println!(
        "| DynamoDB write calls | {writes} (BatchWriteItem {}, PutItem {}) |",
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
        "| messages per second | {:.0} |",
        MESSAGES as f64 / elapsed.as_secs_f64()
    );
    println!("(criteria: Graph requests <= pages + 1 per folder round; DynamoDB writes <= {MESSAGES}/25 + a few)");
    for ((service, op), usage) in &snapshot {
        println!("  {service}.{op}: {} calls, {:?}", usage.calls, usage.time);
    }
}

const TEN_YEARS: usize = 10_000;

/// One arm of the 10-year benchmark: a Connected run of `mailbox`'s connection.
struct Arm {
    stats: Stats,
    graph_requests: usize,
    delta_requests: usize,
    elapsed: Duration,
}

async fn backfill(h: &crate::helpers::Harness, mailbox: &str, options: RunOptions) -> Arm {
    h.connect(&crate::helpers::unique("bench"), mailbox).await;
    let jobs = h.sync_jobs().await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job: SyncJob = serde_json::from_value(jobs[0].clone()).unwrap();
    let (stats, elapsed) = run_measured(h, None, &job, options).await;
    let graph = h.sim_requests("/v1.0").await;
    let delta_requests = graph
        .iter()
        .filter(|r| r["path"].as_str().unwrap().contains("/messages/delta"))
        .count();
    Arm {
        stats,
        graph_requests: graph.len(),
        delta_requests,
        elapsed,
    }
}

#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_sync_backfill_of_10_years_of_mail_with_and_without_the_delta_filter() {
    let meter = integration_tests::Meter::default();
    let h = metered_harness(&meter).await;

    // The same 10 years of mail (one message every ~8.8 hours) in two mailboxes: one synced with
    // the filter, one without.
    let now = chrono::Utc::now();
    let span = chrono::Duration::days(3650);
    let seeded = Instant::now();
    stream::iter((0..TEN_YEARS).flat_map(|i| [(ALICE, i), (BOB, i)]))
        .map(|(mailbox, i)| {
            let h = &h;
            let received = now - span * i as i32 / TEN_YEARS as i32;
            async move {
                h.control(
                    Method::POST,
                    &format!("/_sim/mailboxes/{mailbox}/messages"),
                    Some(serde_json::json!({
                        "from": format!("sender{}@external.example", i % 50),
                        "subject": format!("mail {i}"),
                        "body": "x",
                        "receivedDateTime": received.to_rfc3339(),
                    })),
                )
                .await
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    println!(
        "seeded 2 x {TEN_YEARS} messages over 10 years in {:?}",
        seeded.elapsed()
    );

    let with = backfill(&h, ALICE, RunOptions { delta_filter: true }).await;
    let without = backfill(
        &h,
        BOB,
        RunOptions {
            delta_filter: false,
        },
    )
    .await;
    assert_eq!(with.stats.created, without.stats.created);

    println!();
    println!(
        "| backfill of {TEN_YEARS} messages over 10 years (Inbox), look-back {} days, page size {} | with `$filter` | without |",
        h.connector.config.sync_lookback_days, h.connector.config.sync_page_size
    );
    println!("|---|---|---|");
    println!(
        "| messages stored | {} | {} |",
        with.stats.created, without.stats.created
    );
    println!(
        "| delta pages (both folders) | {} | {} |",
        with.stats.pages, without.stats.pages
    );
    println!(
        "| Graph requests, all | {} | {} |",
        with.graph_requests, without.graph_requests
    );
    println!(
        "| Graph delta requests | {} | {} |",
        with.delta_requests, without.delta_requests
    );
    println!(
        "| wall time | {:.2} s | {:.2} s |",
        with.elapsed.as_secs_f64(),
        without.elapsed.as_secs_f64()
    );
}
