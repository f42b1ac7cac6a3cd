//! Issue 5's webhook benchmark, against the local stack (moto; run through `make bench-webhook`,
//! which starts a private stack and exports its settings).
//!
//! A webhook POST of 100 change notifications spanning 10 mailboxes goes through
//! `graph_webhook::handle`. The AWS calls it makes are counted by an SDK interceptor on the
//! DynamoDB and SQS clients (every HTTP attempt, retries included), and its time is set next to a
//! bare handler that only answers 202. Prints figures; asserts only that the handler answered.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use lambda_http::{http::StatusCode, Body, Request, Response};
use m365_connector::app::Connector;
use m365_connector::aws::AwsClients;
use m365_connector::config::Config;
use m365_connector::domain::ConnectionId;
use m365_connector::queue::SyncQueue;
use m365_connector::store::{client_state_hash, SubscriptionRecord};
use serde_json::json;

const MAILBOXES: usize = 10;
const NOTIFICATIONS: usize = 100;
/// Timed runs (`BENCH_RUNS` overrides).
fn runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Counts AWS requests sent, by `service.operation`.
#[derive(Debug, Clone, Default)]
struct CallCounter(Arc<Mutex<BTreeMap<String, usize>>>);

impl CallCounter {
    fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let key = cfg
            .load::<Metadata>()
            .map(|m| format!("{}.{}", m.service(), m.name()))
            .unwrap_or_else(|| "unknown".into());
        *self.0.lock().unwrap().entry(key).or_default() += 1;
        Ok(())
    }
}

fn request(body: String) -> Request {
    let path = "/webhooks/graph/notifications";
    let event = json!({
        "version": "2.0", "routeKey": format!("POST {path}"), "rawPath": path, "rawQueryString": "",
        "headers": {"host": "api.example", "content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "api.example",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "52.159.23.209", "userAgent": "Microsoft-Graph-ChangeTracking/1.0"},
            "requestId": "bench", "routeKey": format!("POST {path}"), "stage": "$default",
            "time": "27/Nov/2026:16:40:00 +0000", "timeEpoch": 1795797600000u64
        },
        "body": body, "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).expect("an HTTP API v2 event")
}

/// The baseline: a handler that answers 202 and does nothing else.
async fn bare(_request: Request) -> Response<Body> {
    m365_connector::http::empty(StatusCode::ACCEPTED)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn percentile(times: &[Duration], p: f64) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// An empty FIFO queue of the benchmark's own, created with the uncounted client; its URL is
/// remembered in `made` so that the benchmark deletes it at the end.
async fn fresh_queue(
    plain: &AwsClients,
    counted: &AwsClients,
    made: &mut Vec<String>,
) -> SyncQueue {
    let url = plain
        .sqs
        .as_ref()
        .expect("every client in benchmarks")
        .create_queue()
        .queue_name(format!(
            "bench-webhook-{}.fifo",
            uuid::Uuid::new_v4().simple()
        ))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("create a benchmark queue")
        .queue_url
        .expect("queue url");
    made.push(url.clone());
    SyncQueue::new(counted.sqs.clone(), url)
}

#[tokio::main]
async fn main() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run `make bench-webhook` (it starts a private local stack)"
    );
    let config = Config::from_env().expect("the local stack's configuration");
    let sdk = m365_connector::aws::sdk_config_from_env().await;
    let plain = AwsClients::from_config(&sdk);

    // The connector under test: its DynamoDB and SQS clients carry the counting interceptor.
    let counter = CallCounter::default();
    let mut counted = plain.clone();
    counted.dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(counter.clone())
            .build(),
    );
    counted.sqs = Some(aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&sdk)
            .interceptor(counter.clone())
            .build(),
    ));
    let mut connector = Connector::new(config, &counted);
    // Queues of the benchmark's own, so it leaves the stack's queue as it found it.
    let mut made = Vec::new();
    connector.queue = fresh_queue(&plain, &counted, &mut made).await;

    // 10 mailboxes, each with an Inbox and a Sent Items subscription.
    let tenant = uuid::Uuid::new_v4().to_string();
    let mut subscriptions = Vec::new();
    for m in 0..MAILBOXES {
        let connection = ConnectionId::new_random();
        for folder in ["inbox", "sentitems"] {
            let id = uuid::Uuid::new_v4().to_string();
            let state = format!("state-{m}-{folder}");
            connector
                .store
                .put_subscription(&SubscriptionRecord {
                    id: id.clone(),
                    connection_id: connection.clone(),
                    tenant_id: tenant.clone(),
                    folder: folder.into(),
                    resource: format!("me/mailFolders('{folder}')/messages"),
                    client_state_hash: client_state_hash(&state),
                    expires_at: chrono::Utc::now() + chrono::Duration::days(3),
                })
                .await
                .expect("put a subscription");
            subscriptions.push((id, state));
        }
    }
    // Distinct batches (new message ids each), so SQS deduplication never short-cuts a run.
    let batch = |run: usize| -> String {
        let items: Vec<_> = (0..NOTIFICATIONS)
            .map(|n| {
                let (sub, state) = &subscriptions[n % subscriptions.len()];
                let message = format!("AAMkAG-{run}-{n}");
                json!({
                    "id": format!("n-{run}-{n}"), "subscriptionId": sub, "clientState": state,
                    "tenantId": tenant, "changeType": "created",
                    "subscriptionExpirationDateTime": "2026-12-01T18:23:45.935Z",
                    "resource": format!("Users/u/Messages/{message}"),
                    "resourceData": {"@odata.type": "#Microsoft.Graph.Message", "id": message}
                })
            })
            .collect();
        json!({ "value": items }).to_string()
    };

    // One counted POST.
    counter.take();
    let response = graph_webhook::handle(&connector, request(batch(0))).await;
    assert_eq!(response.status(), 202, "the handler accepts the batch");
    let calls = counter.take();
    let count = |service: &str| -> usize {
        calls
            .iter()
            .filter(|(k, _)| k.starts_with(service))
            .map(|(_, n)| n)
            .sum()
    };
    println!("graph-webhook benchmark: one POST of {NOTIFICATIONS} change notifications spanning {MAILBOXES} mailboxes (local stack: moto)");
    for (call, n) in &calls {
        println!("  AWS call      {call:<32} {n}");
    }
    println!("  DynamoDB read calls per POST   {}", count("DynamoDB"));
    println!("  SQS send calls per POST        {}", count("SQS"));
    let runs = runs();

    // Where the time goes: the two AWS calls on their own.
    let ids: Vec<&str> = subscriptions.iter().map(|(id, _)| id.as_str()).collect();
    let mut lookup_times = Vec::new();
    let mut send_times = Vec::new();
    for i in 0..5 {
        let start = Instant::now();
        connector
            .store
            .get_subscriptions(&ids)
            .await
            .expect("lookup");
        lookup_times.push(start.elapsed());
        let jobs: Vec<_> = (0..MAILBOXES)
            .map(|_| {
                let connection_id = ConnectionId::new_random();
                let dedup = format!("probe-{i}-{connection_id}");
                (
                    m365_connector::queue::SyncJob::CatchUp { connection_id },
                    dedup,
                )
            })
            .collect();
        let start = Instant::now();
        connector.queue.enqueue_batch(&jobs).await.expect("send");
        send_times.push(start.elapsed());
        connector.queue = fresh_queue(&plain, &counted, &mut made).await;
    }
    let body = batch(9999);
    let start = Instant::now();
    m365_connector::webhook::parse_batch(body.as_bytes()).expect("parse");
    println!(
        "  parsing the 100-item body      {:>10.3?}",
        start.elapsed()
    );
    counter.take();
    println!(
        "  BatchGetItem (20 keys) alone   median {:>10.3?}",
        median(lookup_times)
    );
    println!(
        "  SendMessageBatch (10) alone    median {:>10.3?}",
        median(send_times)
    );

    // Warm-up, then timed runs of both handlers on the same requests.
    let requests: Vec<String> = (1..=runs + 10).map(batch).collect();
    let mut handler_times = Vec::with_capacity(runs);
    let mut bare_times = Vec::with_capacity(runs);
    for (i, body) in requests.into_iter().enumerate() {
        let (a, b) = (request(body.clone()), request(body));
        // moto's FIFO send slows down as the queue grows (real SQS does not): each run gets an
        // empty queue, made outside the timing.
        connector.queue = fresh_queue(&plain, &counted, &mut made).await;
        let start = Instant::now();
        let response = graph_webhook::handle(&connector, a).await;
        let handler = start.elapsed();
        assert_eq!(response.status(), 202);
        let start = Instant::now();
        let response = bare(b).await;
        let baseline = start.elapsed();
        assert_eq!(response.status(), 202);
        if i >= 10 {
            handler_times.push(handler);
            bare_times.push(baseline);
        }
    }
    let timed_calls = counter.take();

    for url in made {
        plain
            .sqs
            .as_ref()
            .expect("every client in benchmarks")
            .delete_queue()
            .queue_url(url)
            .send()
            .await
            .expect("delete a benchmark queue");
    }

    let handler_median = median(handler_times.clone());
    let bare_median = median(bare_times.clone());
    println!(
        "  AWS calls over the {runs} timed + 10 warm-up POSTs: {:?}",
        timed_calls
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect::<Vec<_>>()
    );
    println!(
        "  handler time   median {:>10.3?}  p90 {:>10.3?}",
        handler_median,
        percentile(&handler_times, 0.9)
    );
    println!(
        "  bare 202       median {:>10.3?}  p90 {:>10.3?}",
        bare_median,
        percentile(&bare_times, 0.9)
    );
    println!(
        "  ratio (median handler / median bare)   {:.0}x",
        handler_median.as_secs_f64() / bare_median.as_secs_f64().max(1e-9)
    );
}
