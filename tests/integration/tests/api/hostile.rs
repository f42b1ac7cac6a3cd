//! Hostile input against the real stack (moto + the Graph simulator): delta links that point at
//! another host, and message or event ids made to change the Graph path they are put in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use m365_connector::domain::{ConnectionId, Folder};
use m365_connector::graph::messages::DeltaError;
use m365_connector::graph::GraphError;
use m365_connector::queue::SyncJob;
use m365_connector::sync::{self, Outcome};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{unique, Harness};
use crate::sync::{deliver, harness_with_webhook, stored_messages, ALICE};

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
    let send_settings = m365_connector::sending::SendSettings::default();
    for raw in hostile {
        let event_path = format!("/connections/{id}/events/{raw}");
        let patched = scheduling::handle(
            &h.connector,
            h.api("PATCH", &event_path, &[], Some(json!({"subject": "moved"}))),
        )
        .await;
        let cancelled = scheduling::handle(
            &h.connector,
            h.api("DELETE", &event_path, &[], Some(json!({"comment": "bye"}))),
        )
        .await;
        let read = connections::handle(
            &h.connector,
            h.api(
                "GET",
                &format!("/connections/{id}/messages/{raw}"),
                &[],
                None,
            ),
        )
        .await;
        let replied = send_mail::handle(
            &h.connector,
            &send_settings,
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
