//! Benchmark (prints figures, asserts no times): what one forged 1 MB POST to the public
//! notification URL costs the shared table. Run with `make bench-forged-webhook`
//! (`cargo test -p integration-tests --test api bench_forged_webhook -- --ignored --nocapture`
//! against a private local stack).
//!
//! Side by side in one run: the handler as it is, and the lookup the handler made before
//! subscription ids were validated and capped (every distinct id of the body, 100 per
//! BatchGetItem, one call after the other), replayed with the same client against the same
//! table. AWS calls are counted and timed client-side by the SDK interceptor.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use integration_tests::Meter;
use m365_connector::store::keys;

use crate::helpers::Harness;
use crate::webhook::{aws_calls, dynamodb_calls, forged_flood, post, NOTIFICATIONS};

const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The distinct subscription ids a body names, in order of first appearance.
fn distinct_ids(body: &str) -> Vec<String> {
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
    let mut seen = BTreeSet::new();
    parsed["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["subscriptionId"].as_str())
        .filter(|id| seen.insert(id.to_string()))
        .map(str::to_owned)
        .collect()
}

/// One row: (status, DynamoDB calls, handler time), median time of `RUNS`.
async fn handler(h: &Harness, meter: &Meter, body: &str) -> (u16, u32, Duration) {
    let mut times = Vec::new();
    let mut last = (0, 0);
    for _ in 0..RUNS {
        meter.reset();
        let started = Instant::now();
        let response = post(h, NOTIFICATIONS, body).await;
        times.push(started.elapsed());
        last = (
            response.status().as_u16(),
            dynamodb_calls(meter, "BatchGetItem"),
        );
        assert_eq!(
            aws_calls(meter, "dynamodb", None),
            last.1,
            "only BatchGetItem"
        );
    }
    (last.0, last.1, median(times))
}

/// The lookup the handler made before: every distinct id, 100 keys per BatchGetItem, in turn.
async fn unvalidated_lookup(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    meter: &Meter,
    ids: &[String],
) -> (u32, Duration) {
    let mut times = Vec::new();
    for _ in 0..RUNS {
        meter.reset();
        let started = Instant::now();
        for chunk in ids.chunks(100) {
            let request_keys = chunk
                .iter()
                .map(|id| {
                    HashMap::from([
                        (
                            keys::PK.to_owned(),
                            AttributeValue::S(keys::subscription_pk(id)),
                        ),
                        (keys::SK.to_owned(), AttributeValue::S(keys::META.into())),
                    ])
                })
                .collect();
            let request = KeysAndAttributes::builder()
                .set_keys(Some(request_keys))
                .build()
                .unwrap();
            let answer = client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .unwrap();
            assert!(answer
                .unprocessed_keys
                .unwrap_or_default()
                .values()
                .all(|k| k.keys.is_empty()));
        }
        times.push(started.elapsed());
    }
    (dynamodb_calls(meter, "BatchGetItem"), median(times))
}

#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_forged_webhook_posts() {
    let meter = Meter::default();
    let h = Harness::start_metered(&meter).await;
    let client = integration_tests::metered_clients(
        &m365_connector::aws::sdk_config_from_env().await,
        &meter,
    )
    .dynamodb;
    let table = h.connector.config.table_name.clone();

    let tenant = uuid::Uuid::new_v4().to_string();
    let cases = [
        (
            "ids that are not GUIDs",
            forged_flood(|n| format!("{n:x}"), "t", None),
        ),
        (
            "GUID-shaped subscription and tenant ids",
            forged_flood(|_| uuid::Uuid::new_v4().to_string(), &tenant, None),
        ),
    ];
    println!();
    println!(
        "one forged POST of {} bytes at most, median of {RUNS} runs (debug build, moto on loopback)",
        1024 * 1024
    );
    println!("| forged body | items | distinct ids | path | status | DynamoDB calls | time |");
    println!("|---|---|---|---|---|---|---|");
    for (what, (body, items)) in &cases {
        let ids = distinct_ids(body);
        let (calls_before, time_before) = unvalidated_lookup(&client, &table, &meter, &ids).await;
        println!(
            "| {what} | {items} | {} | before: every distinct id looked up, in turn | 202 | {calls_before} BatchGetItem | {:.1} ms |",
            ids.len(),
            time_before.as_secs_f64() * 1000.0
        );
        let (status, calls, time) = handler(&h, &meter, body).await;
        println!(
            "| {what} | {items} | {} | now: `graph_webhook::handle` | {status} | {calls} BatchGetItem | {:.1} ms |",
            ids.len(),
            time.as_secs_f64() * 1000.0
        );
    }
}
