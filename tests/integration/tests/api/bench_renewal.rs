//! Benchmark (prints figures, asserts what was enqueued, no times): the renewal sweep over a table
//! of 100,000 connections and their 200,000 subscriptions. Run with `make bench-renewal`
//! (`BENCH_RENEWAL_CONNECTIONS=10000` for a quicker run; `BENCH_RENEWAL_TIMEOUT_S=1200` gives the
//! sweep that deadline: the local emulator reads the whole table for every Query, so at 300,000
//! items one Query takes a minute or more and the full sweep over an hour there).
//!
//! The table is private to the run and filled directly with the batch writer (the store's own
//! item mapping, `Store::write_batch`): connections created one second apart, one in 20 waiting
//! for re-authentication, each with an Inbox and a Sent Items subscription. Expiries are spread
//! evenly over Graph's renewal cycle as a running system leaves them: renewed subscriptions live 7
//! days and are renewed once inside the 24-hour margin, so one run finds the ones that entered the
//! margin in the last 30 minutes (about 1 in 288). AWS calls are counted by the SDK interceptor.

use integration_tests::Wired as _;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use m365_connector::domain::{AppUserId, Capability, Connection, ConnectionId, ConnectionStatus};
use m365_connector::store::batch::Write;
use m365_connector::store::connections::connection_item;
use m365_connector::store::subscriptions::subscription_item;
use m365_connector::store::{keys, SubscriptionRecord};
use m365_connector::sync::renewal::{self, RENEWAL_MARGIN};

use crate::helpers::Harness;
use crate::sync::private_table;

const CONNECTIONS: usize = 100_000;
/// Lambda's timeout of the subscription-renewal function (template.yaml).
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(60);

/// `BENCH_RENEWAL_TIMEOUT_S`: the deadline the sweep is given, as Lambda's would be (unset: an
/// hour, so it finishes).
fn timeout_wanted() -> Option<Duration> {
    std::env::var("BENCH_RENEWAL_TIMEOUT_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_secs)
}

fn connections_wanted() -> usize {
    std::env::var("BENCH_RENEWAL_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CONNECTIONS)
}

/// What the seeded table holds that one run at `now` must enqueue.
struct Seeded {
    renewals_due: usize,
    catch_ups_due: usize,
}

/// Fills the harness's (private) table with `count` connections and two subscriptions each.
async fn seed(h: &Harness, count: usize, now: DateTime<Utc>) -> Seeded {
    let user = AppUserId::parse("bench-renewal").unwrap();
    let (slot, _) = renewal::run_slot(now);
    // Renewed subscriptions expire 7 days on and are renewed inside the last 24 hours: their
    // expiries spread evenly over the 6 days after now + 24 h, less the 30 minutes since the last
    // run.
    let cycle = chrono::Duration::days(6).num_seconds();
    let first_expiry = now + RENEWAL_MARGIN - chrono::Duration::minutes(30);
    let mut items = Vec::with_capacity(count * 3);
    let mut renewals_due = 0;
    let mut catch_ups_due = 0;
    for i in 0..count {
        let created = now - chrono::Duration::seconds(i as i64);
        let status = if i % 20 == 7 {
            ConnectionStatus::ReauthRequired
        } else {
            ConnectionStatus::Active
        };
        let connection = Connection {
            id: ConnectionId::new_random(),
            user_id: user.clone(),
            tenant_id: format!("00000000-0000-4000-8000-{:012}", i % 50),
            ms_user_id: uuid::Uuid::new_v4().to_string(),
            email: format!("user{i}@tenant{}.example", i % 50),
            display_name: format!("User {i}"),
            status,
            capabilities: vec![
                Capability::MailRead,
                Capability::MailSend,
                Capability::Calendar,
            ],
            scopes: vec!["Mail.Read".into(), "Mail.Send".into()],
            created_at: created,
            updated_at: created,
            last_error: None,
        };
        if status == ConnectionStatus::Active && renewal::slot_of(&connection.id) == slot {
            catch_ups_due += 1;
        }
        for (f, folder) in ["inbox", "sentitems"].into_iter().enumerate() {
            // A fixed, even spread: the (2i + f)-th of 2 x count points over the cycle.
            let offset = ((2 * i + f) as i64 * 7_919) % (2 * count as i64);
            let expires_at =
                first_expiry + chrono::Duration::seconds(offset * cycle / (2 * count as i64));
            if expires_at < now + RENEWAL_MARGIN {
                renewals_due += 1;
            }
            let record = SubscriptionRecord {
                id: uuid::Uuid::new_v4().to_string(),
                connection_id: connection.id.clone(),
                tenant_id: connection.tenant_id.clone(),
                folder: folder.into(),
                resource: format!("me/mailFolders('{folder}')/messages"),
                client_state_hash: m365_connector::store::client_state_hash("bench"),
                expires_at,
            };
            items.push(Write::Put(subscription_item(&record).unwrap()));
        }
        items.push(Write::Put(connection_item(&connection).unwrap()));
    }
    let started = Instant::now();
    let store = &h.connector.store;
    let chunks: Vec<Vec<Write>> = items.chunks(2_500).map(<[Write]>::to_vec).collect();
    let calls: usize = stream::iter(chunks)
        .map(|chunk| async move { store.write_batch(chunk).await })
        .buffer_unordered(4)
        .try_collect::<Vec<usize>>()
        .await
        .unwrap()
        .into_iter()
        .sum();
    println!(
        "seeded {count} connections + {} subscriptions with {calls} BatchWriteItem calls in {:.1} s",
        2 * count,
        started.elapsed().as_secs_f64()
    );
    Seeded {
        renewals_due,
        catch_ups_due,
    }
}

async fn queue_depth(h: &Harness) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attributes = h
        .stack
        .aws
        .sqs()
        .get_queue_attributes()
        .queue_url(&h.sync_queue)
        .attribute_names(A::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    attributes
        .get(&A::ApproximateNumberOfMessages)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_renewal_sweep_over_100000_connections() {
    let count = connections_wanted();
    let meter = integration_tests::Meter::default();
    let mut h = Harness::start_metered(&meter).await;
    private_table(&mut h, Some(&meter)).await;
    let now = Utc::now();
    let seeded = seed(&h, count, now).await;

    meter.reset();
    let started = Instant::now();
    // The sweep stops itself before the deadline it is given, as in Lambda.
    let deadline =
        tokio::time::Instant::now() + timeout_wanted().unwrap_or(Duration::from_secs(3_600));
    let report = renewal::sweep(&h.connector, now, deadline).await.unwrap();
    let elapsed = started.elapsed();
    let first_send = meter
        .first_call("sqs", "SendMessage")
        .into_iter()
        .chain(meter.first_call("sqs", "SendMessageBatch"))
        .min();
    let snapshot = meter.snapshot();
    let enqueued = queue_depth(&h).await;

    assert_eq!(enqueued, report.renewals + report.catch_ups);
    if report.complete {
        assert_eq!(report.renewals, seeded.renewals_due);
        assert_eq!(report.catch_ups, seeded.catch_ups_due);
    }

    let calls = |service: &str, op: &str| {
        snapshot
            .iter()
            .filter(|((s, o), _)| s.eq_ignore_ascii_case(service) && o == op)
            .map(|(_, u)| u.calls)
            .sum::<u32>()
    };
    let dynamodb: u32 = snapshot
        .iter()
        .filter(|((s, _), _)| s.eq_ignore_ascii_case("dynamodb"))
        .map(|(_, u)| u.calls)
        .sum();
    let sqs: u32 = snapshot
        .iter()
        .filter(|((s, _), _)| s.eq_ignore_ascii_case("sqs"))
        .map(|(_, u)| u.calls)
        .sum();
    let seconds = |d: Option<Duration>| {
        d.map(|d| format!("{:.1} s", d.as_secs_f64()))
            .unwrap_or_else(|| "never".into())
    };

    // Before: the sweep of commit 80024e7, which listed every connection (Query of the one CONNS
    // partition, 100 a page) before sending one SendMessage per job. Its calls follow from the
    // table; its times were measured by this bench on that commit (10,000 connections; at
    // 100,000 the local emulator would need hours: each Query reads the whole table).
    let before_queries = keys::SUBSCRIPTION_EXPIRY_SHARDS as usize + count.div_ceil(100);
    let before_sends = seeded.renewals_due + seeded.catch_ups_due;
    let before_time = |measured: &str| {
        if count == 10_000 {
            measured.to_owned()
        } else {
            "(measured at 10,000 only)".to_owned()
        }
    };
    println!();
    println!(
        "| one renewal sweep, {count} connections, {} subscriptions | before (80024e7) | after (this run) |",
        2 * count
    );
    println!("|---|---|---|");
    println!(
        "| wall time | {} | {:.1} s{} |",
        before_time("544.4 s"),
        elapsed.as_secs_f64(),
        if report.complete {
            ""
        } else {
            " (stopped by the deadline)"
        }
    );
    println!(
        "| first renewal enqueued after | {} | {} |",
        before_time("425.6 s, after all its Queries"),
        seconds(first_send)
    );
    println!(
        "| DynamoDB calls | {before_queries} Query ({} of them listing CONNS) | {dynamodb} (Query {}) |",
        count.div_ceil(100),
        calls("dynamodb", "Query")
    );
    println!(
        "| SQS calls | {before_sends} (SendMessage, one per job) | {sqs} (SendMessage {}, SendMessageBatch {}) |",
        calls("sqs", "SendMessage"),
        calls("sqs", "SendMessageBatch")
    );
    println!(
        "| messages enqueued | {before_sends} | {enqueued} ({} renew, {} catch_up; due: {} and {}) |",
        report.renewals, report.catch_ups, seeded.renewals_due, seeded.catch_ups_due
    );
    println!(
        "| within Lambda's {} s timeout here | no | {} |",
        LAMBDA_TIMEOUT.as_secs(),
        if elapsed <= LAMBDA_TIMEOUT {
            "yes"
        } else {
            "no"
        }
    );
    if let Some(query) = snapshot
        .iter()
        .find(|((s, o), _)| s.eq_ignore_ascii_case("dynamodb") && o == "Query")
        .map(|(_, u)| u)
    {
        println!(
            "| mean Query latency (the local emulator reads every item of the table per Query) | {:.2} s |",
            query.time.as_secs_f64() / f64::from(query.calls.max(1))
        );
    }
    for ((service, op), usage) in &snapshot {
        println!("  {service}.{op}: {} calls, {:?}", usage.calls, usage.time);
    }
}
