//! The sync queue at scale, on a FIFO queue with the template's dead-letter redrive
//! (`maxReceiveCount` 5, visibility 960 s): Graph trouble and jobs that waited behind a failed one
//! never dead-letter a job; a `connected` job that did dead-letter still ends with subscriptions
//! after the periodic sync; an orphan subscription record is dropped, not renewed forever; the
//! redrive command moves dead-lettered jobs back.

use integration_tests::Wired as _;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsMessage;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use m365_connector::app::Connector;
use m365_connector::domain::ConnectionId;
use m365_connector::queue::SyncQueue;
use m365_connector::store::{client_state_hash, SubscriptionRecord};
use m365_connector::sync::renewal;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{unique, Harness};
use crate::sync::{
    connect_and_sync, deliver, private_table, queue_depth, receive, run_worker,
    start_webhook_server, stored_messages, ALICE,
};

/// The template's redrive policy and visibility timeout.
const MAX_RECEIVE_COUNT: u32 = 5;
const VISIBILITY_TIMEOUT: u32 = 960;

/// A harness on a private table whose sync queue has a dead-letter queue as in template.yaml, and
/// whose subscriptions point at an in-process webhook server feeding that queue. Returns the
/// dead-letter queue's URL.
async fn harness_with_dead_letter_queue() -> (Harness, String) {
    let mut h = Harness::start().await;
    private_table(&mut h, None).await;
    let sqs = h.stack.aws.sqs();
    let fifo = |name: String| {
        sqs.create_queue()
            .queue_name(format!("{name}.fifo"))
            .attributes(QueueAttributeName::FifoQueue, "true")
    };
    let dlq = fifo(unique("dlq")).send().await.unwrap().queue_url.unwrap();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    let queue = fifo(unique("sync"))
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            VISIBILITY_TIMEOUT.to_string(),
        )
        .attributes(
            QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT})
                .to_string(),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    h.sync_queue = queue.clone();
    h.connector.config.sync_queue_url = queue.clone();
    h.connector.queue = SyncQueue::new(sqs.clone(), &queue);
    let webhook = Arc::new(Connector::new(h.connector.config.clone(), &h.stack.aws));
    let base = start_webhook_server(webhook).await;
    h.connector.config.graph_notification_url =
        Some(url::Url::parse(&format!("{base}/webhooks/graph/notifications")).unwrap());
    h.connector.config.graph_lifecycle_url =
        Some(url::Url::parse(&format!("{base}/webhooks/graph/lifecycle")).unwrap());
    (h, dlq)
}

/// One round of the event source mapping: a batch received, handed to mail-sync, the records it
/// did not report failed deleted. Returns the batch and the records reported failed.
async fn one_batch(h: &Harness) -> (Vec<SqsMessage>, Vec<SqsMessage>) {
    let records = receive(h).await;
    if records.is_empty() {
        return (records, Vec::new());
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let response = mail_sync::process(&h.connector, records.clone(), deadline).await;
    let failed: HashSet<String> = response
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect();
    let mut failures = Vec::new();
    for record in &records {
        if failed.contains(record.message_id.as_deref().unwrap()) {
            failures.push(record.clone());
        } else {
            h.stack
                .aws
                .sqs()
                .delete_message()
                .queue_url(&h.sync_queue)
                .receipt_handle(record.receipt_handle.clone().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    (records, failures)
}

/// Makes a record visible again now, as if its retry delay had passed.
async fn expire_delay(h: &Harness, record: &SqsMessage) {
    h.stack
        .aws
        .sqs()
        .change_message_visibility()
        .queue_url(&h.sync_queue)
        .receipt_handle(record.receipt_handle.clone().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
}

/// The bodies of every job in the dead-letter queue (drained).
async fn dead_lettered(h: &Harness, dlq: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let out = h
            .stack
            .aws
            .sqs()
            .receive_message()
            .queue_url(dlq)
            .max_number_of_messages(10)
            .visibility_timeout(VISIBILITY_TIMEOUT as i32)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return bodies;
        }
        bodies.extend(messages.into_iter().filter_map(|m| m.body));
    }
}

async fn fault_hits(h: &Harness, id: &str) -> u64 {
    h.control(Method::GET, "/_sim/faults", None).await["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .map(|f| f["hits"].as_u64().unwrap())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_graph_outage_far_longer_than_five_receives_dead_letters_no_job() {
    let (h, dlq) = harness_with_dead_letter_queue().await;
    let id = connect_and_sync(&h, ALICE).await;
    let sim_now = chrono::DateTime::parse_from_rfc3339(
        h.control(Method::GET, "/_sim/clock", None).await["now"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    // Eight minutes of 503s on every mail-folder call. Microsoft asks for minutes between
    // retries in such an outage; with `Retry-After: 1` the same number of receives fits in
    // seconds.
    let outage = h
        .control(
            Method::POST,
            "/_sim/faults",
            Some(json!({
                "kind": "unavailable", "retryAfter": 1, "path": "/v1.0/me/mailFolders",
                "until": (sim_now + chrono::Duration::minutes(8)).to_rfc3339(),
            })),
        )
        .await;
    let outage = outage["id"].as_str().unwrap().to_owned();
    let during = deliver(&h, ALICE, "outage@external.example", "during the outage").await;

    // Keep the queue going until the jobs have met the outage on at least twice
    // `maxReceiveCount` runs (each run tries 4 times: 3 short waits in place).
    let started = Instant::now();
    while fault_hits(&h, &outage).await < 4 * 2 * u64::from(MAX_RECEIVE_COUNT)
        && started.elapsed() < Duration::from_secs(120)
    {
        let (records, _) = one_batch(&h).await;
        if records.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // SQS moves a message to the dead-letter queue when it would be received once more: wait
    // out the last `Retry-After`, then receive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    one_batch(&h).await;
    let hits = fault_hits(&h, &outage).await;
    println!(
        "FIGURE outage: {hits} Graph calls answered 503 over {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        queue_depth(&h, &dlq).await,
        0,
        "a job was dead-lettered by an outage ({hits} failed Graph calls)"
    );
    assert!(hits >= 40, "the outage lasted {hits} calls only");

    // Eight minutes later Graph is back: the deferred job brings the message.
    h.control(
        Method::POST,
        "/_sim/clock/advance",
        Some(json!({"seconds": 8 * 60 + 1})),
    )
    .await;
    let wanted = during["immutableId"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        one_batch(&h).await;
        let stored = stored_messages(&h, &id, &[]).await;
        if stored.iter().any(|m| m["id"] == wanted.as_str()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the message of the outage never arrived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    run_worker(&h, Duration::from_millis(500)).await;
    assert_eq!(queue_depth(&h, &dlq).await, 0);
}

#[tokio::test]
async fn jobs_that_waited_behind_a_failing_job_come_back_at_once_and_are_never_dead_lettered() {
    let (mut h, dlq) = harness_with_dead_letter_queue().await;
    // One mailbox's group: a `connected` job that fails every time (Graph cannot validate the
    // notification URL), then two catch-ups that would succeed.
    h.connector.config.graph_notification_url =
        Some(url::Url::parse("http://127.0.0.1:9/webhooks/graph/notifications").unwrap());
    let landing = h.connect(&unique("user"), ALICE).await;
    let id = ConnectionId::parse(&landing["connection_id"]).unwrap();
    for _ in 0..2 {
        let job = m365_connector::queue::SyncJob::CatchUp {
            connection_id: id.clone(),
        };
        h.connector
            .queue
            .enqueue(&job, &unique("behind"))
            .await
            .unwrap();
    }

    let mut rounds = 0;
    let started = Instant::now();
    loop {
        let (records, failures) = one_batch(&h).await;
        // Time passes for the failing job's backoff (not for anything else).
        for failed in &failures {
            if failed
                .body
                .as_deref()
                .is_some_and(|b| b.contains("\"connected\""))
            {
                expire_delay(&h, failed).await;
            }
        }
        if records.is_empty() {
            if queue_depth(&h, &dlq).await > 0 && queue_depth(&h, &h.sync_queue).await == 0 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the group stalled after {rounds} rounds: jobs behind a failed one must come back at once"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        rounds += 1;
        assert!(rounds <= 20, "never dead-lettered");
    }
    let parked = dead_lettered(&h, &dlq).await;
    assert_eq!(
        parked.len(),
        1,
        "only the failing job is dead-lettered: {parked:?}"
    );
    assert!(parked[0].contains("\"connected\""), "{parked:?}");
}

#[tokio::test]
async fn a_connected_job_dead_lettered_after_five_failures_still_ends_with_subscriptions() {
    let (mut h, dlq) = harness_with_dead_letter_queue().await;
    // Graph cannot reach the notification URL while the mailbox connects (a deployment whose
    // API was not reachable yet): creating a subscription fails validation, every time.
    let working = h.connector.config.graph_notification_url.clone();
    h.connector.config.graph_notification_url =
        Some(url::Url::parse("http://127.0.0.1:9/webhooks/graph/notifications").unwrap());
    let landing = h.connect(&unique("user"), ALICE).await;
    let id = landing["connection_id"].clone();

    let started = Instant::now();
    while queue_depth(&h, &dlq).await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "never dead-lettered"
        );
        let (records, failures) = one_batch(&h).await;
        for failed in &failures {
            expire_delay(&h, failed).await;
        }
        if records.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let parked = dead_lettered(&h, &dlq).await;
    assert_eq!(parked.len(), 1);
    assert!(parked[0].contains("\"connected\""), "{parked:?}");
    assert_eq!(h.sim_subscriptions_of(ALICE).await, 0);

    // The API is reachable again; the periodic safety net reaches this connection.
    h.connector.config.graph_notification_url = working;
    let mut at = chrono::Utc::now();
    let conn_id = ConnectionId::parse(&id).unwrap();
    while renewal::run_slot(at).0 != renewal::slot_of(&conn_id) {
        at += chrono::Duration::minutes(30);
    }
    let report = renewal::sweep(&h.connector, at, far_deadline())
        .await
        .unwrap();
    assert_eq!(report.catch_ups, 1, "{report:?}");
    run_worker(&h, Duration::from_millis(500)).await;

    // Inbox, sent items and the calendar's events.
    assert_eq!(h.sim_subscriptions_of(ALICE).await, 3);
    let records = h
        .connector
        .store
        .connection_subscriptions(&ConnectionId::parse(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(records.len(), 3);
    // And mail flows again.
    let later = deliver(&h, ALICE, "later@external.example", "after the repair").await;
    run_worker(&h, Duration::from_millis(500)).await;
    let stored = stored_messages(&h, &id, &[]).await;
    assert!(stored.iter().any(|m| m["id"] == later["immutableId"]));
}

#[tokio::test]
async fn a_subscription_record_whose_connection_is_gone_is_dropped_not_renewed_forever() {
    let (h, _dlq) = harness_with_dead_letter_queue().await;
    let now = chrono::Utc::now();
    let orphan = SubscriptionRecord {
        id: unique("sub"),
        connection_id: ConnectionId::new_random(),
        tenant_id: graph_sim::CONTOSO_TENANT_ID.into(),
        folder: "inbox".into(),
        resource: "me/mailFolders('inbox')/messages".into(),
        client_state_hash: client_state_hash("state"),
        expires_at: now + chrono::Duration::hours(2),
    };
    h.connector.store.put_subscription(&orphan).await.unwrap();

    let first = renewal::sweep(&h.connector, now, far_deadline())
        .await
        .unwrap();
    assert_eq!(first.renewals, 1);
    run_worker(&h, Duration::from_millis(300)).await;

    let found = h
        .connector
        .store
        .get_subscriptions(&[orphan.id.as_str()])
        .await
        .unwrap();
    assert!(found.is_empty(), "the orphan record is removed");
    let second = renewal::sweep(
        &h.connector,
        now + chrono::Duration::minutes(30),
        far_deadline(),
    )
    .await
    .unwrap();
    assert_eq!(second.renewals, 0);
}

#[tokio::test]
async fn the_redrive_command_moves_dead_lettered_jobs_back_in_order() {
    let (h, dlq) = harness_with_dead_letter_queue().await;
    let group = ConnectionId::new_random();
    for i in 0..3 {
        h.stack
            .aws
            .sqs()
            .send_message()
            .queue_url(&dlq)
            .message_group_id(group.as_str())
            .message_deduplication_id(unique("dead"))
            .message_body(
                json!({"kind": "catch_up", "connection_id": group.as_str(), "n": i}).to_string(),
            )
            .send()
            .await
            .unwrap();
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/stack.py"))
        .args(["redrive-dlq", "--from", &dlq, "--to", &h.sync_queue])
        .output()
        .expect("the virtualenv's python (make venv)");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("moved 3"));
    assert_eq!(queue_depth(&h, &dlq).await, 0);

    let out = h
        .stack
        .aws
        .sqs()
        .receive_message()
        .queue_url(&h.sync_queue)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let messages = out.messages.unwrap_or_default();
    let order: Vec<u64> = messages
        .iter()
        .map(|m| {
            assert_eq!(
                m.attributes.as_ref().unwrap()[&MessageSystemAttributeName::MessageGroupId],
                group.as_str()
            );
            serde_json::from_str::<serde_json::Value>(m.body().unwrap()).unwrap()["n"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(order, [0, 1, 2]);
}

fn far_deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(300)
}
