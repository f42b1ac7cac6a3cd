//! Mail sync end to end against the local stack: the Graph simulator posts real notifications to
//! an in-process HTTP server that hands them to the graph-webhook function; a worker drains the
//! test's FIFO sync queue into the mail-sync function; the store, the EventBridge capture and the
//! read API are checked.

use integration_tests::Wired as _;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use m365_connector::app::Connector;
use m365_connector::domain::ConnectionId;
use m365_connector::queue::SyncJob;
use m365_connector::sync::{self, Outcome};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{body, Harness};

pub const ALICE: &str = "alice@contoso.example";
pub const BOB: &str = "bob@contoso.example";

/// Starts an HTTP server on 127.0.0.1 that turns every request into an API Gateway request for
/// the graph-webhook function; returns its base URL.
pub async fn start_webhook_server(connector: Arc<Connector>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let connector = connector.clone();
        async move {
            let (parts, body) = request.into_parts();
            let bytes = axum::body::to_bytes(body, 4 * 1024 * 1024)
                .await
                .unwrap_or_default();
            let path = parts.uri.path().to_owned();
            let raw_query = parts.uri.query().unwrap_or("").to_owned();
            let event = json!({
                "version": "2.0",
                "routeKey": format!("POST {path}"),
                "rawPath": path,
                "rawQueryString": raw_query,
                "headers": {"host": "127.0.0.1", "content-type": "application/json"},
                "requestContext": {
                    "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1",
                    "http": {"method": parts.method.as_str(), "path": path, "protocol": "HTTP/1.1",
                             "sourceIp": "127.0.0.1", "userAgent": "graph-sim"},
                    "requestId": "r", "routeKey": format!("POST {path}"), "stage": "$default",
                    "time": "27/Nov/2026:16:40:00 +0000", "timeEpoch": 1795797600000u64
                },
                "body": String::from_utf8_lossy(&bytes),
                "isBase64Encoded": false
            });
            let request = lambda_http::request::from_str(&event.to_string()).unwrap();
            let response = crate::helpers::call::graph_webhook(&connector, request).await;
            let (parts, body) = response.into_parts();
            axum::response::Response::from_parts(parts, axum::body::Body::from(body.to_vec()))
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// A table of this test's own with the template's key schema: the simulator's seeded mailboxes
/// have fixed ids, so on the shared table a connect would "reconnect" another test's connection.
pub async fn private_table(h: &mut Harness, meter: Option<&integration_tests::Meter>) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let name = crate::helpers::unique("sync");
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    let gsi = |n: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(n)
            .key_schema(key(&format!("{n}pk"), KeyType::Hash))
            .key_schema(key(&format!("{n}sk"), KeyType::Range))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .unwrap()
    };
    let mut create = h
        .stack
        .aws
        .dynamodb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(gsi("gsi1"))
        .global_secondary_indexes(gsi("gsi2"));
    for attribute in ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"] {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        );
    }
    create.send().await.unwrap();
    h.connector.config.table_name = name.clone();
    let client = match meter {
        Some(meter) => {
            integration_tests::metered_clients(
                &m365_connector::aws::sdk_config_from_env().await,
                meter,
            )
            .dynamodb
        }
        None => h.stack.aws.dynamodb.clone(),
    };
    h.connector.store = m365_connector::store::Store::new(client, &name);
}

/// A harness with a private table whose subscriptions point at an in-process webhook server.
pub async fn harness_with_webhook() -> Harness {
    harness_with_webhook_on(None).await
}

/// [`harness_with_webhook`], optionally with every AWS call of the connector metered.
pub async fn harness_with_webhook_on(meter: Option<&integration_tests::Meter>) -> Harness {
    let mut h = match meter {
        Some(meter) => Harness::start_metered(meter).await,
        None => Harness::start().await,
    };
    private_table(&mut h, meter).await;
    let webhook_connector = Arc::new(Connector::new(h.connector.config.clone(), &h.stack.aws));
    let base = start_webhook_server(webhook_connector).await;
    h.connector.config.graph_notification_url =
        Some(url::Url::parse(&format!("{base}/webhooks/graph/notifications")).unwrap());
    h.connector.config.graph_lifecycle_url =
        Some(url::Url::parse(&format!("{base}/webhooks/graph/lifecycle")).unwrap());
    h
}

/// Receives up to 10 jobs from the test's sync queue as the SQS event source would deliver them.
pub async fn receive(h: &Harness) -> Vec<aws_lambda_events::event::sqs::SqsMessage> {
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
    out.messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
            record.message_id = m.message_id.clone();
            record.receipt_handle = m.receipt_handle.clone();
            record.body = m.body.clone();
            record.attributes = m
                .attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect();
            record
        })
        .collect()
}

/// Messages in a queue of the test's, visible or in flight.
pub async fn queue_depth(h: &Harness, url: &str) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attrs = h
        .stack
        .aws
        .sqs()
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    [
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .map(|a| {
        attrs
            .get(a)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    })
    .sum()
}

/// The worker: feeds the queue to the mail-sync handler (deleting what it did not report
/// failed) until the queue stays empty for `quiet`. Returns how many jobs ran and failed.
pub async fn run_worker(h: &Harness, quiet: Duration) -> (usize, usize) {
    let (mut ran, mut failed) = (0, 0);
    let mut idle_since = tokio::time::Instant::now();
    loop {
        let records = receive(h).await;
        if records.is_empty() {
            if queue_depth(h, &h.sync_queue).await == 0 && idle_since.elapsed() >= quiet {
                return (ran, failed);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let handles: Vec<(String, String)> = records
            .iter()
            .map(|r| {
                (
                    r.message_id.clone().unwrap(),
                    r.receipt_handle.clone().unwrap(),
                )
            })
            .collect();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        let response = mail_sync::process(&h.connector, records, deadline).await;
        let failures: HashSet<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        ran += handles.len();
        failed += failures.len();
        for (id, handle) in handles {
            if !failures.contains(&id) {
                h.stack
                    .aws
                    .sqs()
                    .delete_message()
                    .queue_url(&h.sync_queue)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .unwrap();
            }
        }
        idle_since = tokio::time::Instant::now();
    }
}

/// Connects `login` and runs the sync queue dry; returns the connection id.
pub async fn connect_and_sync(h: &Harness, login: &str) -> String {
    let landing = h.connect(&crate::helpers::unique("user"), login).await;
    assert_eq!(landing["status"], "active");
    run_worker(h, Duration::from_millis(300)).await;
    landing["connection_id"].clone()
}

pub async fn deliver(h: &Harness, mailbox: &str, from: &str, subject: &str) -> Value {
    h.control(
        Method::POST,
        &format!("/_sim/mailboxes/{mailbox}/messages"),
        Some(json!({"from": from, "subject": subject, "body": format!("body of {subject}")})),
    )
    .await
}

/// Every stored message of a connection, through the read API (all pages).
pub async fn stored_messages(h: &Harness, id: &str, query: &[(&str, &str)]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q: Vec<(&str, &str)> = query.to_vec();
        q.push(("limit", "100"));
        if let Some(c) = cursor.as_deref() {
            q.push(("cursor", c));
        }
        let response = crate::helpers::call::connections(
            &h.connector,
            h.api("GET", &format!("/connections/{id}/messages"), &q, None),
        )
        .await;
        assert_eq!(response.status(), 200);
        let page = body(response).await;
        out.extend(page["messages"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["detail-type"] == kind).collect()
}

async fn sim_subscriptions(h: &Harness) -> Vec<Value> {
    h.control(Method::GET, "/_sim/subscriptions", None).await["value"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn connecting_a_mailbox_subscribes_both_folders_and_its_calendar_and_backfills_its_mail() {
    let h = harness_with_webhook().await;
    for i in 0..3 {
        deliver(&h, ALICE, "x@ext.example", &format!("hello {i}")).await;
    }
    deliver(&h, ALICE, "y@ext.example", "from y").await;

    let id = connect_and_sync(&h, ALICE).await;

    let subs = sim_subscriptions(&h).await;
    let mut resources: Vec<String> = subs
        .iter()
        .map(|s| s["resource"].as_str().unwrap().to_owned())
        .collect();
    resources.sort();
    assert_eq!(
        resources,
        [
            "me/events",
            "me/mailFolders('inbox')/messages",
            "me/mailFolders('sentitems')/messages"
        ]
    );
    let connection_id = ConnectionId::parse(&id).unwrap();
    let records = h
        .connector
        .store
        .connection_subscriptions(&connection_id)
        .await
        .unwrap();
    assert_eq!(records.len(), 3);
    assert!(records
        .iter()
        .all(|r| subs.iter().any(|s| s["id"] == r.id.as_str())));

    let messages = stored_messages(&h, &id, &[]).await;
    assert_eq!(messages.len(), 4);
    let received: Vec<&str> = messages
        .iter()
        .map(|m| m["received_at"].as_str().unwrap())
        .collect();
    assert!(received.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(messages
        .iter()
        .all(|m| m["folder"] == "inbox" && m["deleted"] == false && m.get("body").is_none()));
    let from_x = stored_messages(&h, &id, &[("with", "X@ext.example")]).await;
    assert_eq!(from_x.len(), 3);
    assert!(from_x
        .iter()
        .all(|m| m["from"]["address"] == "x@ext.example"));

    let events = h.events().await;
    let created = of_type(&events, "message.created");
    assert_eq!(created.len(), 4);
    assert!(created
        .iter()
        .all(|e| e["detail"]["message"].get("body").is_none()
            && e["detail"]["event_id"]
                .as_str()
                .unwrap()
                .starts_with("message.created:")));

    let from_y = messages.iter().find(|m| m["subject"] == "from y").unwrap();
    let message_id = from_y["id"].as_str().unwrap();
    let response = crate::helpers::call::connections(
        &h.connector,
        h.api(
            "GET",
            &format!("/connections/{id}/messages/{message_id}"),
            &[],
            None,
        ),
    )
    .await;
    assert_eq!(response.status(), 200);
    let full = body(response).await;
    assert_eq!(full["body"]["content"], "body of from y");
    assert_eq!(full["subject"], "from y");
}

#[tokio::test]
async fn reading_unknown_messages_or_connections_is_a_404_and_bad_queries_a_400() {
    let h = harness_with_webhook().await;
    let id = connect_and_sync(&h, ALICE).await;
    let get = |path: String, q: Vec<(&'static str, &'static str)>| {
        crate::helpers::call::connections(&h.connector, h.api("GET", &path, &q, None))
    };
    let missing = get(format!("/connections/{id}/messages/AAMkNOPE"), vec![]).await;
    assert_eq!(missing.status(), 404);
    let other = ConnectionId::new_random();
    assert_eq!(
        get(format!("/connections/{other}/messages"), vec![])
            .await
            .status(),
        404
    );
    let bad = get(
        format!("/connections/{id}/messages"),
        vec![("folder", "drafts")],
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(body(bad).await["field"], "folder");
}

#[tokio::test]
async fn an_expired_delta_token_restarts_the_folder_without_duplicates_and_catches_deletions() {
    let h = harness_with_webhook().await;
    let first = deliver(&h, ALICE, "x@ext.example", "one").await;
    deliver(&h, ALICE, "x@ext.example", "two").await;
    let id = connect_and_sync(&h, ALICE).await;
    h.events().await;

    // The token dies; meanwhile a message arrives and another is deleted.
    h.control(
        Method::POST,
        &format!("/_sim/users/{ALICE}/expire-delta-tokens"),
        None,
    )
    .await;
    h.control(
        Method::PUT,
        "/_sim/settings",
        Some(json!({"notifications": {"maxRetries": 0}})),
    )
    .await;
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "dropNotifications"})),
    )
    .await;
    deliver(&h, ALICE, "x@ext.example", "three").await;
    h.control(
        Method::DELETE,
        &format!(
            "/_sim/mailboxes/{ALICE}/messages/{}",
            first["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    h.control(Method::DELETE, "/_sim/faults", None).await;

    let job = SyncJob::CatchUp {
        connection_id: ConnectionId::parse(&id).unwrap(),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let outcome = sync::run(&h.connector, &job, deadline).await.unwrap();
    let Outcome::Done(stats) = outcome else {
        panic!("{outcome:?}")
    };
    // Both folders and the calendar: the simulator expires every delta token of the user.
    assert_eq!(stats.restarted_folders, 3, "{stats:?}");

    let messages = stored_messages(&h, &id, &[]).await;
    assert_eq!(messages.len(), 3, "no duplicates");
    let by_subject: HashMap<&str, &Value> = messages
        .iter()
        .map(|m| (m["subject"].as_str().unwrap(), m))
        .collect();
    assert_eq!(by_subject["one"]["deleted"], true);
    assert_eq!(by_subject["two"]["deleted"], false);
    assert_eq!(by_subject["three"]["deleted"], false);
    let events = h.events().await;
    assert_eq!(of_type(&events, "message.created").len(), 1);
    assert_eq!(of_type(&events, "message.deleted").len(), 1);
}

#[tokio::test]
async fn throttling_ends_the_job_with_retry_after_and_delays_its_redelivery() {
    let h = harness_with_webhook().await;
    let id = connect_and_sync(&h, ALICE).await;
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "throttle", "path": "/v1.0/me/mailFolders", "retryAfter": 30})),
    )
    .await;
    let connection_id = ConnectionId::parse(&id).unwrap();
    let job = SyncJob::CatchUp {
        connection_id: connection_id.clone(),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    assert_eq!(
        sync::run(&h.connector, &job, deadline).await.unwrap(),
        Outcome::RetryAfter(Duration::from_secs(30))
    );

    // Through the function: reported failed, and invisible for the Retry-After.
    h.connector
        .queue
        .enqueue(&job, "throttled-1")
        .await
        .unwrap();
    let records = receive(&h).await;
    assert_eq!(records.len(), 1);
    let response = mail_sync::process(&h.connector, records, deadline).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert!(
        receive(&h).await.is_empty(),
        "delayed, not redelivered at once"
    );
    h.control(Method::DELETE, "/_sim/faults", None).await;
}

#[tokio::test]
async fn a_mailbox_that_needs_reconnecting_is_not_synced() {
    let h = harness_with_webhook().await;
    let id = connect_and_sync(&h, ALICE).await;
    let connection_id = ConnectionId::parse(&id).unwrap();
    h.connector
        .store
        .mark_reauth_required(&connection_id, "test", chrono::Utc::now())
        .await
        .unwrap();
    let before = h.sim_requests("/v1.0/me/mailFolders").await.len();
    let job = SyncJob::CatchUp { connection_id };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    assert!(matches!(
        sync::run(&h.connector, &job, deadline).await.unwrap(),
        Outcome::Skipped(_)
    ));
    assert_eq!(h.sim_requests("/v1.0/me/mailFolders").await.len(), before);
}

#[tokio::test]
async fn an_access_token_graph_revokes_early_is_refreshed_once_and_the_job_completes() {
    let h = harness_with_webhook().await;
    let id = connect_and_sync(&h, ALICE).await;
    deliver(&h, ALICE, "early@external.example", "after revocation").await;
    // Microsoft may refuse a token before its stated expiry (continuous access evaluation).
    h.control(
        Method::POST,
        &format!("/_sim/users/{ALICE}/expire-access-tokens"),
        None,
    )
    .await;
    let tokens_before = h
        .sim_requests("/organizations/oauth2/v2.0/token")
        .await
        .len();
    let job = SyncJob::CatchUp {
        connection_id: ConnectionId::parse(&id).unwrap(),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let outcome = sync::run(&h.connector, &job, deadline).await.unwrap();
    assert!(matches!(outcome, Outcome::Done(_)), "{outcome:?}");
    assert_eq!(
        h.sim_requests("/organizations/oauth2/v2.0/token")
            .await
            .len(),
        tokens_before + 1,
        "one refresh"
    );
    let stored = stored_messages(&h, &id, &[]).await;
    assert!(stored.iter().any(|m| m["subject"] == "after revocation"));
}

/// The worker for the end-to-end test: runs until `done` is set and the queue has been quiet
/// for `quiet`.
pub async fn work_until(h: &Harness, done: &std::sync::atomic::AtomicBool, quiet: Duration) {
    while !done.load(std::sync::atomic::Ordering::SeqCst) {
        run_worker(h, Duration::from_millis(200)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    run_worker(h, quiet).await;
}

/// What the simulator holds: (folder, immutable id) -> (subject, from address).
async fn sim_mailbox(h: &Harness, mailbox: &str) -> HashMap<(String, String), (String, String)> {
    let mut out = HashMap::new();
    for folder in ["inbox", "sentitems"] {
        let listing = h
            .control(
                Method::GET,
                &format!("/_sim/mailboxes/{mailbox}/messages?folder={folder}"),
                None,
            )
            .await;
        for m in listing["value"].as_array().unwrap() {
            out.insert(
                (
                    folder.to_owned(),
                    m["immutableId"].as_str().unwrap().to_owned(),
                ),
                (
                    m["subject"].as_str().unwrap_or("").to_owned(),
                    m["from"]["emailAddress"]["address"]
                        .as_str()
                        .unwrap_or("")
                        .to_ascii_lowercase(),
                ),
            );
        }
    }
    out
}

#[tokio::test]
async fn two_mailboxes_under_lossy_duplicated_reordered_throttled_notifications_end_with_every_message_once(
) {
    let h = harness_with_webhook().await;
    let alice = connect_and_sync(&h, ALICE).await;
    let bob = connect_and_sync(&h, BOB).await;
    h.events().await;

    let hooks = "/webhooks/graph/notifications";
    for fault in [
        json!({"kind": "duplicateNotifications", "rate": 0.2, "path": hooks}),
        json!({"kind": "dropNotifications", "rate": 0.1, "path": hooks}),
        json!({"kind": "reorderNotifications", "path": hooks}),
        json!({"kind": "throttle", "rate": 0.1, "retryAfter": 1}),
    ] {
        h.control(Method::POST, "/_sim/faults", Some(fault)).await;
    }

    let done = std::sync::atomic::AtomicBool::new(false);
    let traffic = async {
        for i in 0..200 {
            let mailbox = if i % 2 == 0 { ALICE } else { BOB };
            let sender = format!("sender{}@external{}.example", i % 7, i % 3);
            deliver(&h, mailbox, &sender, &format!("inbound {i}")).await;
            if i == 60 {
                let subs = sim_subscriptions(&h).await;
                let of = |user: &str| {
                    subs.iter()
                        .find(|s| {
                            s["userId"].as_str().is_some_and(|u| u.starts_with(user))
                                && s["resource"].as_str().unwrap().contains("inbox")
                        })
                        .unwrap()["id"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                };
                let (a, b) = (of("a11ce"), of("b0b"));
                h.control(
                    Method::POST,
                    &format!("/_sim/subscriptions/{a}/lifecycle"),
                    Some(json!({"event": "missed"})),
                )
                .await;
                h.control(
                    Method::POST,
                    &format!("/_sim/subscriptions/{b}/lifecycle"),
                    Some(json!({"event": "subscriptionRemoved"})),
                )
                .await;
            }
        }
        let token = m365_connector::tokens::access_token(
            &h.connector,
            &ConnectionId::parse(&alice).unwrap(),
        )
        .await
        .unwrap();
        for i in 0..10 {
            let mail = json!({"message": {
                "subject": format!("from alice {i}"),
                "body": {"contentType": "Text", "content": "hi bob"},
                "toRecipients": [{"emailAddress": {"address": BOB}}]
            }});
            // The throttle fault applies to us too: honour it like any client.
            loop {
                let response = h
                    .browser
                    .post(format!("{}/v1.0/me/sendMail", h.sim.base_url()))
                    .bearer_auth(secrecy::ExposeSecret::expose_secret(&token))
                    .json(&mail)
                    .send()
                    .await
                    .unwrap();
                if response.status() == 202 {
                    break;
                }
                assert_eq!(response.status(), 429);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        // Deletions: five of alice's inbound messages go away, once they have been synced (a
        // message created and deleted between two delta rounds is never reported at all, so on
        // a slow machine the test would otherwise depend on timing).
        let listing = h
            .control(
                Method::GET,
                &format!("/_sim/mailboxes/{ALICE}/messages?folder=inbox"),
                None,
            )
            .await;
        let doomed: Vec<&Value> = listing["value"]
            .as_array()
            .unwrap()
            .iter()
            .take(5)
            .collect();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let stored: HashSet<String> = stored_messages(&h, &alice, &[])
                .await
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned())
                .collect();
            if doomed
                .iter()
                .all(|m| stored.contains(m["immutableId"].as_str().unwrap()))
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the messages to delete were never synced"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for m in doomed {
            h.control(
                Method::DELETE,
                &format!(
                    "/_sim/mailboxes/{ALICE}/messages/{}",
                    m["id"].as_str().unwrap()
                ),
                None,
            )
            .await;
        }
        // Let Graph's notification retries run out before the worker may stop.
        tokio::time::sleep(Duration::from_secs(3)).await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    tokio::join!(traffic, work_until(&h, &done, Duration::from_secs(2)));

    // One catch-up pass (the periodic safety net) with the faults gone.
    h.control(Method::DELETE, "/_sim/faults", None).await;
    for id in [&alice, &bob] {
        let job = SyncJob::CatchUp {
            connection_id: ConnectionId::parse(id).unwrap(),
        };
        h.connector
            .queue
            .enqueue(&job, &crate::helpers::unique("final"))
            .await
            .unwrap();
    }
    run_worker(&h, Duration::from_millis(500)).await;

    let subs = sim_subscriptions(&h).await;
    assert_eq!(subs.len(), 6, "the removed subscription was recreated");

    let mut created_expected = 0;
    for (login, id) in [(ALICE, &alice), (BOB, &bob)] {
        let truth = sim_mailbox(&h, login).await;
        let stored = stored_messages(&h, id, &[]).await;
        let ids: HashSet<&str> = stored.iter().map(|m| m["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), stored.len(), "{login}: every message once");
        let live: HashMap<(String, String), (String, String)> = stored
            .iter()
            .filter(|m| m["deleted"] == false)
            .map(|m| {
                (
                    (
                        m["folder"].as_str().unwrap().to_owned(),
                        m["id"].as_str().unwrap().to_owned(),
                    ),
                    (
                        m["subject"].as_str().unwrap().to_owned(),
                        m["from"]["address"].as_str().unwrap_or("").to_owned(),
                    ),
                )
            })
            .collect();
        assert_eq!(live, truth, "{login}: stored live messages = the mailbox");
        let deleted = stored.iter().filter(|m| m["deleted"] == true).count();
        assert_eq!(deleted, if login == ALICE { 5 } else { 0 }, "{login}");
        created_expected += stored.len();
    }
    let alice_sent = stored_messages(&h, &alice, &[("folder", "sentitems")]).await;
    assert_eq!(alice_sent.len(), 10);
    let bob_from_alice = stored_messages(&h, &bob, &[("with", ALICE)]).await;
    assert_eq!(bob_from_alice.len(), 10);

    let events = h.events().await;
    let created = of_type(&events, "message.created");
    let distinct: HashSet<&str> = created
        .iter()
        .map(|e| e["detail"]["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        created.len(),
        created_expected,
        "one message.created per message"
    );
    assert_eq!(distinct.len(), created_expected);
    assert_eq!(of_type(&events, "message.deleted").len(), 5);
}

#[tokio::test]
async fn subscriptions_are_created_for_the_longest_lifetime_graph_allows_and_over_long_is_refused()
{
    let h = harness_with_webhook().await;
    let id = connect_and_sync(&h, ALICE).await;
    let sim_now = chrono::DateTime::parse_from_rfc3339(
        h.control(Method::GET, "/_sim/clock", None).await["now"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let subs = sim_subscriptions(&h).await;
    assert_eq!(subs.len(), 3, "inbox, sent items and events");
    for s in &subs {
        let expires =
            chrono::DateTime::parse_from_rfc3339(s["expirationDateTime"].as_str().unwrap())
                .unwrap();
        let lifetime = (expires - sim_now).num_minutes();
        // 10,080 minutes (Outlook messages and events without resource data), less the connector's minute
        // of clock-skew margin and the test's own run time.
        assert!(
            (10_070..=10_080).contains(&lifetime),
            "lifetime {lifetime} min: {s}"
        );
    }
    // The simulator, like Graph, refuses an expiry past the maximum instead of capping it.
    let token =
        m365_connector::tokens::access_token(&h.connector, &ConnectionId::parse(&id).unwrap())
            .await
            .unwrap();
    let refused = h
        .connector
        .graph
        .renew_subscription(
            &token,
            &m365_connector::graph::graph_id(subs[0]["id"].as_str().unwrap()).unwrap(),
            chrono::Utc::now() + chrono::Duration::minutes(10_081),
        )
        .await;
    assert!(
        matches!(&refused, Err(m365_connector::graph::GraphError::Api { status: 400, code, .. }) if code == "ExtensionError"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_backfill_reads_pages_for_the_look_back_window_only() {
    let mut h = harness_with_webhook().await;
    h.connector.config.sync_page_size = 5;
    let now = chrono::Utc::now();
    // 60 messages from 2 to 9 years ago, 12 from the last 300 days.
    for i in 0..72i64 {
        let received = if i < 60 {
            now - chrono::Duration::days(730 + i * 40)
        } else {
            now - chrono::Duration::days((i - 60) * 25)
        };
        h.control(
            Method::POST,
            &format!("/_sim/mailboxes/{ALICE}/messages"),
            Some(
                json!({"from": "old@ext.example", "subject": format!("mail {i}"),
                        "receivedDateTime": received.to_rfc3339()}),
            ),
        )
        .await;
    }
    h.control(Method::DELETE, "/_sim/requests", None).await;
    let id = connect_and_sync(&h, ALICE).await;

    let inbox_delta = h
        .sim_requests("/v1.0/me/mailFolders/inbox/messages/delta")
        .await
        .len();
    // 12 messages in pages of 5: 3 pages (the whole folder would be 15).
    assert!(inbox_delta <= 4, "{inbox_delta} inbox delta requests");
    let stored = stored_messages(&h, &id, &[("folder", "inbox")]).await;
    assert_eq!(stored.len(), 12, "{stored:?}");
}

#[tokio::test]
async fn a_message_moved_away_and_back_between_two_rounds_stays_visible() {
    let h = harness_with_webhook().await;
    let delivered = deliver(&h, ALICE, "x@ext.example", "filed and unfiled").await;
    deliver(&h, ALICE, "x@ext.example", "left alone").await;
    let id = connect_and_sync(&h, ALICE).await;
    let subjects = |messages: &[Value]| {
        // The live (not deleted) messages' subjects.
        let mut s: Vec<String> = messages
            .iter()
            .filter(|m| m["deleted"] == false)
            .map(|m| m["subject"].as_str().unwrap().to_owned())
            .collect();
        s.sort();
        s
    };
    assert_eq!(
        subjects(&stored_messages(&h, &id, &[("folder", "inbox")]).await),
        ["filed and unfiled", "left alone"]
    );

    // Filed into Archive and moved back before the next delta round (undo, a rule, a phone).
    let immutable = delivered["immutableId"].as_str().unwrap();
    for folder in ["archive", "inbox"] {
        h.control(
            Method::POST,
            &format!("/_sim/mailboxes/{ALICE}/messages/{immutable}/move"),
            Some(json!({"folder": folder})),
        )
        .await;
    }
    run_worker(&h, Duration::from_millis(300)).await;
    // The periodic catch-up, too.
    let job = SyncJob::CatchUp {
        connection_id: ConnectionId::parse(&id).unwrap(),
    };
    let outcome = sync::run(
        &h.connector,
        &job,
        tokio::time::Instant::now() + Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert!(matches!(outcome, Outcome::Done(_)), "{outcome:?}");

    assert_eq!(
        subjects(&stored_messages(&h, &id, &[("folder", "inbox")]).await),
        ["filed and unfiled", "left alone"]
    );
}
