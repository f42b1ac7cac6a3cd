//! Hostile input against the real stack (moto + the Graph simulator): a received message far larger
//! than anything the connector can store or publish, delta links that point at another host, and
//! message or event ids made to change the Graph path they are put in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_eventbridge::operation::put_events::PutEventsInput;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_types::config_bag::ConfigBag;
use m365_connector::domain::{ConnectionId, Folder};
use m365_connector::events::EventPublisher;
use m365_connector::graph::messages::DeltaError;
use m365_connector::graph::GraphError;
use m365_connector::queue::SyncJob;
use m365_connector::sync::{self, Outcome};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{body, unique, Harness};
use crate::sync::{deliver, harness_with_webhook, receive, stored_messages, ALICE};

/// PutEvents' limit on the entries of one request (source, detail-type and detail in UTF-8):
/// "The total entry size must be less than 256KB",
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
const PUT_EVENTS_LIMIT: usize = 256 * 1024;

/// Records the entry size of every PutEvents request the connector makes, measured as AWS does.
#[derive(Debug, Clone, Default)]
struct PutEventsSizes(Arc<Mutex<Vec<usize>>>);

impl Intercept for PutEventsSizes {
    fn name(&self) -> &'static str {
        "PutEventsSizes"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(input) = context.input().downcast_ref::<PutEventsInput>() {
            let size = input
                .entries()
                .iter()
                .map(|e| {
                    e.source().map_or(0, str::len)
                        + e.detail_type().map_or(0, str::len)
                        + e.detail().map_or(0, str::len)
                        + e.resources().iter().map(String::len).sum::<usize>()
                        + if e.time().is_some() { 14 } else { 0 }
                })
                .sum();
            self.0.lock().unwrap().push(size);
        }
        Ok(())
    }
}

/// Publishes the harness connector's events through a client that measures every request.
async fn measure_put_events(h: &mut Harness) -> PutEventsSizes {
    let sizes = PutEventsSizes::default();
    let config = m365_connector::aws::sdk_config_from_env().await;
    let client = aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::config::Builder::from(&config)
            .interceptor(sizes.clone())
            .build(),
    );
    h.connector.events = EventPublisher::new(client, &h.connector.config.event_bus_name);
    sizes
}

/// Connects alice and runs the queued `connected` job once through the mail-sync function;
/// returns the connection id and how many jobs the function reported failed.
async fn connect_and_run_once(h: &Harness) -> (String, usize) {
    let landing = h.connect(&unique("user"), ALICE).await;
    assert_eq!(landing["status"], "active");
    let records = receive(h).await;
    assert_eq!(records.len(), 1, "the connected job");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let response = mail_sync::process(&h.connector, records, deadline).await;
    (
        landing["connection_id"].clone(),
        response.batch_item_failures.len(),
    )
}

async fn catch_up(h: &Harness, id: &str) -> Result<Outcome, sync::SyncError> {
    let job = SyncJob::CatchUp {
        connection_id: ConnectionId::parse(id).unwrap(),
    };
    sync::run(
        &h.connector,
        &job,
        tokio::time::Instant::now() + Duration::from_secs(120),
    )
    .await
}

#[tokio::test]
async fn sync_stores_a_message_with_thousands_of_recipients_reduced_and_the_folder_moves_on() {
    let mut h = harness_with_webhook().await;
    let sizes = measure_put_events(&mut h).await;
    // 4,000 To and 1,000 Cc addresses with 200-character display names (multi-byte, so bytes
    // and characters differ) and a 30 KB subject: about 2.4 MB of recipients.
    let name = |i: usize| format!("{i:04} {}", "é".repeat(195));
    let to: Vec<Value> = (0..4000)
        .map(|i| json!({"address": format!("to{i}@crowd.example"), "name": name(i)}))
        .chain([json!({"address": ALICE, "name": "Alice"})])
        .collect();
    let cc: Vec<Value> = (0..1000)
        .map(|i| json!({"address": format!("cc{i}@crowd.example"), "name": name(i)}))
        .collect();
    deliver(&h, ALICE, "before@ext.example", "before the flood").await;
    h.control(
        Method::POST,
        &format!("/_sim/mailboxes/{ALICE}/messages"),
        Some(
            json!({"from": {"address": "flood@ext.example", "name": "F".repeat(5000)},
                    "subject": "S".repeat(30 * 1024), "body": "hello", "to": to, "cc": cc}),
        ),
    )
    .await;
    deliver(&h, ALICE, "after@ext.example", "after the flood").await;

    let (id, failed) = connect_and_run_once(&h).await;
    assert_eq!(failed, 0, "the backfill must not fail on one message");

    let messages = stored_messages(&h, &id, &[]).await;
    assert_eq!(
        messages.len(),
        3,
        "{:?}",
        messages.iter().map(|m| &m["subject"]).collect::<Vec<_>>()
    );
    for subject in ["before the flood", "after the flood"] {
        let m = messages.iter().find(|m| m["subject"] == subject).unwrap();
        assert_eq!(m["truncated"], false, "{m}");
        assert_eq!(m["to_count"], 1);
        let message_id = m["id"].as_str().unwrap();
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
        assert_eq!(
            body(response).await["body"]["content"],
            format!("body of {subject}")
        );
    }
    let flood = messages
        .iter()
        .find(|m| m["from"]["address"] == "flood@ext.example")
        .expect("the hostile message is stored");
    assert_eq!(flood["truncated"], true);
    assert_eq!(flood["to_count"], 4001);
    assert_eq!(flood["cc_count"], 1000);
    let to = flood["to"].as_array().unwrap();
    let cc = flood["cc"].as_array().unwrap();
    assert!(
        !to.is_empty() && to.len() < 4001 && cc.len() < 1000,
        "{} {}",
        to.len(),
        cc.len()
    );
    assert!(to
        .iter()
        .chain(cc)
        .all(|r| r["name"].as_str().unwrap().chars().count() < 200));
    assert!(flood["subject"].as_str().unwrap().len() < 30 * 1024);
    assert!(flood["from"]["name"].as_str().unwrap().len() < 5000);
    // Reading it through the API works too (the body live from Graph).
    let flood_id = flood["id"].as_str().unwrap();
    let response = crate::helpers::call::connections(
        &h.connector,
        h.api(
            "GET",
            &format!("/connections/{id}/messages/{flood_id}"),
            &[],
            None,
        ),
    )
    .await;
    assert_eq!(response.status(), 200);
    let full = body(response).await;
    assert_eq!(
        (full["truncated"].clone(), full["to_count"].clone()),
        (json!(true), json!(4001))
    );

    // Events: one per message, the hostile one reduced the same way, no request over the limit.
    let events = h.events().await;
    let created: Vec<&Value> = events
        .iter()
        .filter(|e| e["detail-type"] == "message.created")
        .collect();
    assert_eq!(created.len(), 3);
    let flood_event = created
        .iter()
        .find(|e| e["detail"]["message"]["id"] == flood_id)
        .unwrap();
    assert_eq!(flood_event["detail"]["message"]["truncated"], true);
    assert_eq!(flood_event["detail"]["message"]["to_count"], 4001);
    let sizes = sizes.0.lock().unwrap().clone();
    assert!(!sizes.is_empty());
    assert!(sizes.iter().all(|s| *s < PUT_EVENTS_LIMIT), "{sizes:?}");

    // The cursor moved past the page: the next round fetches nothing new.
    let outcome = catch_up(&h, &id).await.unwrap();
    let Outcome::Done(stats) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (
            stats.created,
            stats.updated,
            stats.deleted,
            stats.quarantined
        ),
        (0, 0, 0, 0),
        "{stats:?}"
    );
}

/// A TCP listener standing in for another host: counts the connections it gets and whether any
/// carried a bearer token, and answers each with an empty delta page.
struct ForeignHost {
    origin: String,
    connections: Arc<AtomicUsize>,
    bearer_seen: Arc<AtomicUsize>,
}

async fn foreign_host() -> ForeignHost {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let bearer_seen = Arc::new(AtomicUsize::new(0));
    let (c, b, o) = (connections.clone(), bearer_seen.clone(), origin.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0u8; 16 * 1024];
            let n = socket.read(&mut buf).await.unwrap_or(0);
            if String::from_utf8_lossy(&buf[..n])
                .to_ascii_lowercase()
                .contains("authorization: bearer")
            {
                b.fetch_add(1, Ordering::SeqCst);
            }
            let page =
                json!({"value": [], "@odata.deltaLink": format!("{o}/v1.0/stolen?$deltatoken=x")})
                    .to_string();
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    ForeignHost {
        origin,
        connections,
        bearer_seen,
    }
}

#[tokio::test]
async fn sync_never_follows_a_delta_link_to_another_origin() {
    let mut h = harness_with_webhook().await;
    h.connector.config.sync_page_size = 1;
    let foreign = foreign_host().await;
    deliver(&h, ALICE, "x@ext.example", "one").await;
    deliver(&h, ALICE, "x@ext.example", "two").await;
    let landing = h.connect(&unique("user"), ALICE).await;
    let id = landing["connection_id"].clone();
    h.sync_jobs().await;
    let inbox_delta = "/v1.0/me/mailFolders/inbox/messages/delta";

    // The first page's nextLink points at another host (same path, same token).
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "foreignLink", "origin": foreign.origin, "path": inbox_delta, "count": 1})),
    )
    .await;
    h.control(Method::DELETE, "/_sim/requests", None).await;
    let outcome = catch_up(&h, &id).await;
    assert!(
        matches!(
            outcome,
            Err(sync::SyncError::Delta(DeltaError::Graph(
                GraphError::ForeignLink { .. }
            )))
        ),
        "{outcome:?}"
    );
    assert_eq!(
        foreign.connections.load(Ordering::SeqCst),
        0,
        "nothing reached the foreign host"
    );
    assert_eq!(foreign.bearer_seen.load(Ordering::SeqCst), 0);
    assert_eq!(h.sim_requests(inbox_delta).await.len(), 1, "not retried");
    let connection_id = ConnectionId::parse(&id).unwrap();
    let cursor = h
        .connector
        .store
        .get_cursor(&connection_id, Folder::Inbox.as_str())
        .await
        .unwrap();
    assert!(
        cursor
            .as_deref()
            .is_none_or(|c| !c.contains(&foreign.origin)),
        "{cursor:?}"
    );

    // The next run starts again from the last good link and completes.
    let outcome = catch_up(&h, &id).await.unwrap();
    assert!(matches!(outcome, Outcome::Done(_)), "{outcome:?}");
    let mut subjects: Vec<String> = stored_messages(&h, &id, &[])
        .await
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["one", "two"]);

    // A round's deltaLink to another host is never stored as the cursor either.
    h.connector.config.sync_page_size = 99;
    deliver(&h, ALICE, "x@ext.example", "three").await;
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "foreignLink", "origin": foreign.origin, "path": inbox_delta, "count": 1})),
    )
    .await;
    let outcome = catch_up(&h, &id).await;
    assert!(
        matches!(
            outcome,
            Err(sync::SyncError::Delta(DeltaError::Graph(
                GraphError::ForeignLink { .. }
            )))
        ),
        "{outcome:?}"
    );
    let cursor = h
        .connector
        .store
        .get_cursor(&connection_id, Folder::Inbox.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(!cursor.contains(&foreign.origin), "{cursor}");
    assert!(matches!(catch_up(&h, &id).await.unwrap(), Outcome::Done(_)));
    assert_eq!(foreign.connections.load(Ordering::SeqCst), 0);
    h.control(Method::DELETE, "/_sim/faults", None).await;
}

#[tokio::test]
async fn hostile_message_and_event_ids_never_change_the_graph_path() {
    let h = harness_with_webhook().await;
    let landing = h.connect(&unique("user"), ALICE).await;
    let id = landing["connection_id"].clone();
    h.sync_jobs().await;
    h.control(Method::DELETE, "/_sim/requests", None).await;

    // As they arrive in the API's path, percent-encoded where a client would have to.
    let hostile = [
        "..",
        ".",
        "%2E%2E",
        "%2e",
        "..%2F..%2Fusers",
        "a%2Fb",
        "a%3Fb",
        "a%23b",
        "%252E%252E",
        "a%20b",
        "..%5C..",
        "%2E%2E%2Fcancel",
    ];
    for raw in hostile {
        let event_path = format!("/connections/{id}/events/{raw}");
        let patched = crate::helpers::call::scheduling(
            &h.connector,
            h.api("PATCH", &event_path, &[], Some(json!({"subject": "moved"}))),
        )
        .await;
        let cancelled = crate::helpers::call::scheduling(
            &h.connector,
            h.api("DELETE", &event_path, &[], Some(json!({"comment": "bye"}))),
        )
        .await;
        let read = crate::helpers::call::connections(
            &h.connector,
            h.api(
                "GET",
                &format!("/connections/{id}/messages/{raw}"),
                &[],
                None,
            ),
        )
        .await;
        let replied = crate::helpers::call::send_mail(
            &h.connector,
            h.api(
                "POST",
                &format!("/connections/{id}/messages/{raw}/reply"),
                &[],
                Some(json!({"body": {"content_type": "text", "content": "hi"}})),
            ),
        )
        .await;
        for (what, status) in [
            ("PATCH event", patched.status()),
            ("DELETE event", cancelled.status()),
            ("GET message", read.status()),
            ("reply", replied.status()),
        ] {
            assert!(
                status == 400 || status == 404,
                "{what} with id {raw:?}: {status}"
            );
        }
    }
    // Whatever reached Graph stayed on the resource it was meant for: one id segment under
    // me/events or me/messages, never a parent, another user or another action.
    for r in h.sim_requests("/v1.0").await {
        let path = r["path"].as_str().unwrap();
        let segments: Vec<&str> = path.trim_start_matches("/v1.0/").split('/').collect();
        let ok = match segments.as_slice() {
            ["me", "events", id] | ["me", "messages", id] => !matches!(*id, "." | ".."),
            ["me", "events", id, "cancel"] | ["me", "messages", id, "createReply"] => {
                !matches!(*id, "." | "..")
            }
            _ => false,
        };
        assert!(ok, "{} {path}", r["method"]);
    }
}
