//! Deleting a connection (`DELETE /connections/{id}`): the request marks the connection `deleting`
//! and answers 202; a purge job in the connection's queue group removes every item, the Graph
//! subscriptions and the staged uploads, resumes itself when its time runs out, and publishes
//! `connection.deleted` through the outbox. The proof is a scan of the whole (private) table.

use integration_tests::Wired as _;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use futures::stream::{self, StreamExt, TryStreamExt};
use m365_connector::domain::ConnectionId;
use m365_connector::store::messages::{message_writes, MessageRecord};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{body, unique, Harness};
use crate::sync::{
    connect_and_sync, deliver, harness_with_webhook, harness_with_webhook_on, receive, run_worker,
    work_until, ALICE,
};

/// Messages in the mailbox the purge has to remove.
const MAILBOX_SIZE: usize = 50_000;

async fn call(h: &Harness, method: &str, path: &str) -> (u16, Value) {
    let response =
        crate::helpers::call::connections(&h.connector, h.api(method, path, &[], None)).await;
    (response.status().as_u16(), body(response).await)
}

/// Stores `count` synced messages of connection `id` straight through the store's batch writer
/// (one BatchWriteItem per 25 items, 8 calls in flight): every 25th has two more counterparts on
/// `cc`, which the counterpart index keeps as items of their own. Returns the items written.
async fn fill(h: &Harness, id: &ConnectionId, count: usize) -> usize {
    let started = Instant::now();
    let received = chrono::Utc::now() - chrono::Duration::days(30);
    let writes: Vec<_> = (0..count)
        .flat_map(|i| {
            let cc = if i % 25 == 0 {
                json!([{"address": format!("cc{}@external.example", i % 7)},
                       {"address": format!("cc{}@partner.example", i % 11)}])
            } else {
                json!([])
            };
            let record: MessageRecord = serde_json::from_value(json!({
                "id": format!("AAMkFILL{i:06}"),
                "connection_id": id.as_str(),
                "folder": if i % 5 == 0 { "sentitems" } else { "inbox" },
                "subject": format!("filled {i}"),
                "from": {"address": format!("sender{}@external.example", i % 97)},
                "to": [{"address": ALICE}],
                "cc": cc,
                "sent_at": null,
                "received_at": (received + chrono::Duration::seconds(i as i64)).to_rfc3339(),
                "conversation_id": format!("conv-{}", i / 3),
                "internet_message_id": format!("<fill-{i}@external.example>"),
                "preview": "a few words of the message",
                "has_attachments": false,
                "is_read": i % 2 == 0,
                "web_link": null,
                "deleted": false,
                "etag": "e1",
            }))
            .unwrap();
            message_writes(&record, ALICE, None).unwrap()
        })
        .collect();
    let items = writes.len();
    let chunks: Vec<Vec<_>> = writes.chunks(1_000).map(<[_]>::to_vec).collect();
    stream::iter(chunks)
        .map(|chunk| h.connector.store.write_batch(chunk))
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    println!(
        "filled {count} messages ({items} items) in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    items
}

/// A staged upload of the connection: its record and its object in the uploads bucket.
async fn stage_upload(h: &Harness, id: &ConnectionId) -> String {
    let bucket = h
        .connector
        .config
        .uploads_bucket
        .clone()
        .expect("UPLOADS_BUCKET (run through make)");
    let upload_id = unique("upload");
    let key = m365_connector::store::keys::upload_object_key(id, &upload_id);
    h.connector
        .s3()
        .expect("every client in tests")
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .body(b"%PDF-1.7 a staged attachment".to_vec().into())
        .send()
        .await
        .unwrap();
    let now = chrono::Utc::now();
    h.connector
        .store
        .put_upload(&m365_connector::store::uploads::UploadRecord {
            upload_id,
            connection_id: id.clone(),
            s3_key: key,
            name: "cv.pdf".into(),
            content_type: "application/pdf".into(),
            size: 28,
            created_at: now,
            expires_at: now + chrono::Duration::days(1),
        })
        .await
        .unwrap();
    bucket
}

/// Objects left in the uploads bucket under the connection's prefix.
async fn objects_of(h: &Harness, bucket: &str, id: &ConnectionId) -> usize {
    let prefix = m365_connector::store::keys::upload_object_key(id, "");
    h.connector
        .s3()
        .expect("every client in tests")
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap()
        .key_count
        .unwrap_or(0) as usize
}

/// Every item of the whole (private) table that names the connection anywhere: in a key, an index
/// key, or any string attribute (a record's `connection_id`, an outbox entry's detail, ...).
pub async fn items_naming(h: &Harness, id: &str) -> Vec<String> {
    fn names(value: &AttributeValue, id: &str) -> bool {
        match value {
            AttributeValue::S(s) => s.contains(id),
            AttributeValue::L(l) => l.iter().any(|v| names(v, id)),
            AttributeValue::M(m) => m.values().any(|v| names(v, id)),
            _ => false,
        }
    }
    let mut found = Vec::new();
    let mut start = None;
    loop {
        let page = h
            .stack
            .aws
            .dynamodb
            .scan()
            .table_name(&h.connector.config.table_name)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            if item.values().any(|v| names(v, id)) {
                let key = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
                found.push(format!("{:?} / {:?}", key("pk"), key("sk")));
            }
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return found;
        }
    }
}

fn deleted_events<'a>(events: &'a [Value], id: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["detail-type"] == "connection.deleted" && e["detail"]["connection_id"] == id)
        .collect()
}

#[tokio::test]
async fn deleting_a_mailbox_of_50000_messages_while_a_sync_races_it_leaves_no_item_behind() {
    let mut h = harness_with_webhook().await;
    deliver(&h, ALICE, "before@external.example", "synced before").await;
    let id = connect_and_sync(&h, ALICE).await;
    let connection_id = ConnectionId::parse(&id).unwrap();
    assert_eq!(h.sim_subscriptions_of(ALICE).await, 3);
    let filled = fill(&h, &connection_id, MAILBOX_SIZE).await;
    let bucket = stage_upload(&h, &connection_id).await;
    assert!(items_naming(&h, &id).await.len() > filled);
    assert_eq!(objects_of(&h, &bucket, &connection_id).await, 1);
    h.events().await;

    // A catch-up with work to do is running when the DELETE arrives: 24 messages Graph did not
    // announce, read 2 per page, each page 300 ms late.
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "dropNotifications"})),
    )
    .await;
    for i in 0..24 {
        deliver(
            &h,
            ALICE,
            "late@external.example",
            &format!("unannounced {i}"),
        )
        .await;
    }
    h.control(Method::DELETE, "/_sim/faults", None).await;
    h.connector.config.sync_page_size = 2;
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "latency", "ms": 300, "path": "/v1.0/me/mailFolders"})),
    )
    .await;
    h.connector
        .queue
        .enqueue(
            &m365_connector::queue::SyncJob::CatchUp {
                connection_id: connection_id.clone(),
            },
            &unique("racing"),
        )
        .await
        .unwrap();

    let done = std::sync::atomic::AtomicBool::new(false);
    let client = async {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let asked = Instant::now();
        let (status, deleting) = call(&h, "DELETE", &format!("/connections/{id}")).await;
        let answered = asked.elapsed();
        assert_eq!(status, 202, "{deleting}");
        assert_eq!(deleting["status"], "deleting", "{deleting}");
        assert!(
            answered < Duration::from_secs(5),
            "the DELETE only marks: {answered:?}"
        );
        println!("DELETE answered 202 in {answered:?}");
        let (status, view) = call(&h, "GET", &format!("/connections/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(view["status"], "deleting", "{view}");
        let (status, again) = call(&h, "DELETE", &format!("/connections/{id}")).await;
        assert_eq!(status, 202, "deleting again is accepted again: {again}");
        // Mail keeps arriving while the purge runs: its notifications enqueue catch-ups behind
        // the purge, which must write nothing.
        for i in 0..5 {
            deliver(&h, ALICE, "during@external.example", &format!("during {i}")).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(600);
        while call(&h, "GET", &format!("/connections/{id}")).await.0 != 404 {
            assert!(Instant::now() < deadline, "the purge never finished");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        // Notifications Graph was still retrying, and a renewal of a subscription record.
        tokio::time::sleep(Duration::from_secs(3)).await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    tokio::join!(client, work_until(&h, &done, Duration::from_secs(2)));
    h.control(Method::DELETE, "/_sim/faults", None).await;

    let left = items_naming(&h, &id).await;
    assert!(
        left.is_empty(),
        "{} items of the connection remain: {:?}",
        left.len(),
        &left[..left.len().min(10)]
    );
    assert_eq!(objects_of(&h, &bucket, &connection_id).await, 0);
    assert_eq!(h.sim_subscriptions_of(ALICE).await, 0);
    let (status, _) = call(&h, "GET", &format!("/connections/{id}/messages")).await;
    assert_eq!(status, 404);
    let (status, _) = call(&h, "DELETE", &format!("/connections/{id}")).await;
    assert_eq!(status, 204, "gone: deleting again is a no-op");
    let events = h.events().await;
    let deleted = deleted_events(&events, &id);
    assert_eq!(deleted.len(), 1, "{events:?}");
    let not_revoked = deleted[0]["detail"]["not_revoked"].as_array().unwrap();
    assert!(
        not_revoked.iter().any(|n| n["what"] == "refresh_token"),
        "{not_revoked:?}"
    );
}

#[tokio::test]
async fn a_purge_that_runs_out_of_time_continues_in_a_new_job_until_nothing_is_left() {
    let h = harness_with_webhook().await;
    let id = connect_and_sync(&h, ALICE).await;
    let connection_id = ConnectionId::parse(&id).unwrap();
    fill(&h, &connection_id, 3_000).await;
    let (status, _) = call(&h, "DELETE", &format!("/connections/{id}")).await;
    assert_eq!(status, 202);

    // An invocation with barely more than the sync engine's safety margin left: one page.
    let records = receive(&h).await;
    assert_eq!(records.len(), 1, "the purge job");
    let short = tokio::time::Instant::now()
        + m365_connector::sync::DEADLINE_MARGIN
        + Duration::from_millis(500);
    let response = mail_sync::process(&h.connector, records.clone(), short).await;
    assert!(response.batch_item_failures.is_empty());
    for r in &records {
        h.stack
            .aws
            .sqs()
            .delete_message()
            .queue_url(&h.sync_queue)
            .receipt_handle(r.receipt_handle.clone().unwrap())
            .send()
            .await
            .unwrap();
    }
    let (status, view) = call(&h, "GET", &format!("/connections/{id}")).await;
    assert_eq!((status, view["status"].as_str()), (200, Some("deleting")));
    let left = items_naming(&h, &id).await.len();
    assert!(left > 0, "part of the mailbox is still there");
    assert_eq!(h.sim_subscriptions_of(ALICE).await, 0, "revoked first");
    let queued = receive(&h).await;
    assert_eq!(queued.len(), 1, "the purge enqueued its continuation");
    assert!(queued[0].body.as_deref().unwrap().contains("purge"));
    h.stack
        .aws
        .sqs()
        .change_message_visibility()
        .queue_url(&h.sync_queue)
        .receipt_handle(queued[0].receipt_handle.clone().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();

    run_worker(&h, Duration::from_millis(500)).await;
    assert_eq!(call(&h, "GET", &format!("/connections/{id}")).await.0, 404);
    assert_eq!(items_naming(&h, &id).await, Vec::<String>::new());
    assert_eq!(deleted_events(&h.events().await, &id).len(), 1);
}

#[tokio::test]
async fn connection_deleted_is_not_lost_when_its_first_publish_fails() {
    let mut h = harness_with_webhook().await;
    let id = connect_and_sync(&h, ALICE).await;
    h.events().await;
    let bus = h.connector.config.event_bus_name.clone();
    // EventBridge refuses every event (a bus that does not exist).
    h.connector.events =
        m365_connector::events::EventPublisher::new(h.stack.aws.eventbridge.clone(), "no-such-bus");

    let (status, _) = call(&h, "DELETE", &format!("/connections/{id}")).await;
    assert_eq!(status, 202);
    run_worker(&h, Duration::from_millis(500)).await;
    assert_eq!(call(&h, "GET", &format!("/connections/{id}")).await.0, 404);
    assert!(deleted_events(&h.events().await, &id).is_empty());
    let waiting = h
        .connector
        .store
        .outbox_before(chrono::Utc::now() + chrono::Duration::minutes(1), 100)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1, "{waiting:?}");

    // EventBridge is back: the scheduled drain delivers it.
    h.connector.events =
        m365_connector::events::EventPublisher::new(h.stack.aws.eventbridge.clone(), &bus);
    let drained = m365_connector::outbox::drain(
        &h.connector,
        chrono::Utc::now() + chrono::Duration::minutes(2),
    )
    .await
    .unwrap();
    assert_eq!(drained.delivered, 1);
    assert_eq!(deleted_events(&h.events().await, &id).len(), 1);
    assert!(items_naming(&h, &id).await.is_empty());
}

/// `make bench-delete`: the purge of a 50,000-message mailbox, timed and its AWS calls counted.
#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_delete_of_a_50000_message_mailbox() {
    let meter = integration_tests::Meter::default();
    let h = harness_with_webhook_on(Some(&meter)).await;
    let id = connect_and_sync(&h, ALICE).await;
    let connection_id = ConnectionId::parse(&id).unwrap();
    let items = fill(&h, &connection_id, MAILBOX_SIZE).await;
    let total = items_naming(&h, &id).await.len();
    meter.reset();

    let started = Instant::now();
    let (status, _) = call(&h, "DELETE", &format!("/connections/{id}")).await;
    let answered = started.elapsed();
    assert_eq!(status, 202);
    let delete_calls = meter.snapshot();
    meter.reset();
    let purge_started = Instant::now();
    let (runs, _) = run_worker(&h, Duration::from_millis(200)).await;
    let purged = purge_started.elapsed();
    assert_eq!(call(&h, "GET", &format!("/connections/{id}")).await.0, 404);
    assert!(items_naming(&h, &id).await.is_empty());
    let calls = meter.snapshot();
    type Tally = std::collections::BTreeMap<(String, String), integration_tests::Usage>;
    // Calls to `service` (all operations, or those named), as the SDK names them.
    let count = |tally: &Tally, service: &str, ops: &[&str]| {
        tally
            .iter()
            .filter(|((s, o), _)| {
                s.eq_ignore_ascii_case(service) && (ops.is_empty() || ops.contains(&o.as_str()))
            })
            .map(|(_, u)| u.calls)
            .sum::<u32>()
    };
    let list = |tally: &Tally, service: &str| {
        tally
            .iter()
            .filter(|((s, _), _)| s.eq_ignore_ascii_case(service))
            .map(|((_, o), u)| format!("{o} {}", u.calls))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("| what | figure |");
    println!("|---|---|");
    println!(
        "| items of the connection | {total} ({MAILBOX_SIZE} messages; {items} message and counterpart items) |"
    );
    println!(
        "| DELETE answered 202 | {:.1} ms: DynamoDB {} ({}), SQS {} |",
        answered.as_secs_f64() * 1000.0,
        count(&delete_calls, "dynamodb", &[]),
        list(&delete_calls, "dynamodb"),
        count(&delete_calls, "sqs", &[]),
    );
    println!(
        "| purge, wall time ({runs} job runs) | {:.1} s ({:.0} items per second) |",
        purged.as_secs_f64(),
        total as f64 / purged.as_secs_f64()
    );
    println!(
        "| purge, DynamoDB calls | {} ({}) |",
        count(&calls, "dynamodb", &[]),
        list(&calls, "dynamodb")
    );
    println!(
        "| purge, BatchWriteItem calls per 25 items | {:.2} |",
        f64::from(count(&calls, "dynamodb", &["BatchWriteItem"])) / (total as f64 / 25.0)
    );
    println!(
        "| purge, other calls | S3 {} ({}), SQS {} ({}), EventBridge {} |",
        count(&calls, "s3", &[]),
        list(&calls, "s3"),
        count(&calls, "sqs", &[]),
        list(&calls, "sqs"),
        count(&calls, "eventbridge", &[]),
    );
    for ((service, op), usage) in &calls {
        println!("  {service}.{op}: {} calls, {:?}", usage.calls, usage.time);
    }
}
