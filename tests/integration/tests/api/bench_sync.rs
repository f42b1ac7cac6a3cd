//! Benchmark (prints figures, asserts no times): the backfill of 5,000 messages in one folder.
//! Run with `make bench-sync`.
//!
//! Graph requests come from the simulator's request log, AWS calls from the SDK interceptor on
//! every client of the connector (including the private table's).

use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use m365_connector::queue::SyncJob;
use m365_connector::sync::{self, Outcome};
use reqwest::Method;

use crate::sync::{harness_with_webhook_on, ALICE};

const MESSAGES: usize = 5_000;

#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_sync_backfill_of_5000_messages() {
    let meter = integration_tests::Meter::default();
    let mut h = harness_with_webhook_on(Some(&meter)).await;
    // Events go to a bus without rules: moto delivers each event through the test's capture rule
    // to SQS synchronously (~90 ms per event), which would measure moto, not the connector.
    let bus = crate::helpers::unique("bench-bus");
    h.stack
        .aws
        .eventbridge
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .unwrap();
    let clients = integration_tests::metered_clients(&aws_config::load_from_env().await, &meter);
    h.connector.events = m365_connector::events::EventPublisher::new(clients.eventbridge, &bus);

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

    h.control(Method::DELETE, "/_sim/requests", None).await;
    meter.reset();
    let started = Instant::now();
    let outcome = sync::run(
        &h.connector,
        &job,
        tokio::time::Instant::now() + Duration::from_secs(900),
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();
    let Outcome::Done(stats) = outcome else {
        panic!("{outcome:?}")
    };
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
