use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn throttle_every_nth_call_on_a_path_returns_429_with_retry_after() {
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    t.control(Method::POST, "/faults", Some(json!({"kind": "throttle", "every": 2, "retryAfter": 7, "path": "/v1.0/me/mailFolders"}))).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = t
            .graph(Method::GET, "/me/mailFolders", &alice.access)
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "7");
        }
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 429, 200, 429]);
    assert_eq!(
        t.graph(Method::GET, "/me", &alice.access)
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "other paths unaffected"
    );
    let log: Value = t
        .control(Method::GET, "/requests?path=/v1.0/me/mailFolders", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["count"], 4);
    t.control(Method::DELETE, "/faults", None).await;
    assert_eq!(
        t.graph(Method::GET, "/me/mailFolders", &alice.access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn unavailable_fault_returns_503_with_graph_error_body() {
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    t.control(
        Method::POST,
        "/faults",
        Some(json!({"kind": "unavailable", "count": 1, "retryAfter": 2})),
    )
    .await;
    let r = t
        .graph(Method::GET, "/me", &alice.access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "serviceNotAvailable");
    assert_eq!(
        t.graph(Method::GET, "/me", &alice.access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn error_fault_refuses_matching_calls_with_its_status_and_code() {
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    t.control(
        Method::POST,
        "/faults",
        Some(
            json!({"kind": "error", "status": 400, "code": "ErrorInvalidRecipients",
                    "message": "At least one recipient isn't valid.", "path": "/v1.0/me/messages/",
                    "method": "POST"}),
        ),
    )
    .await;
    let r = t
        .graph(
            Method::POST,
            "/me/messages/AAMkAGI2TG93AAA=/send",
            &alice.access,
        )
        .header("content-length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "ErrorInvalidRecipients");
    assert_eq!(e["error"]["message"], "At least one recipient isn't valid.");
    let listed = t
        .graph(Method::GET, "/me/messages", &alice.access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.status(),
        200,
        "other paths and methods are untouched"
    );
}

#[tokio::test]
async fn a_fifth_concurrent_request_for_one_mailbox_is_application_throttled() {
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    t.control(
        Method::POST,
        "/faults",
        Some(json!({"kind": "mailboxConcurrency", "limit": 4})),
    )
    .await;
    t.control(
        Method::POST,
        "/faults",
        Some(json!({"kind": "latency", "ms": 300})),
    )
    .await;
    let futures: Vec<_> = (0..5)
        .map(|_| t.graph(Method::GET, "/me", &alice.access).send())
        .collect();
    let results = futures_join(futures).await;
    let throttled: Vec<&reqwest::Response> = results.iter().filter(|r| r.status() == 429).collect();
    assert_eq!(throttled.len(), 1);
    assert_eq!(results.iter().filter(|r| r.status() == 200).count(), 4);
}

async fn futures_join(
    fs: Vec<impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static>,
) -> Vec<reqwest::Response> {
    let handles: Vec<_> = fs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().unwrap());
    }
    out
}

async fn subscribed(t: &TestSim, url: &str, lifecycle: Option<&str>) -> String {
    let alice = t.sign_in("alice@contoso.example").await;
    let mut body = json!({"changeType": "created", "notificationUrl": url, "resource": "me/messages",
        "expirationDateTime": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(), "clientState": "cs"});
    if let Some(l) = lifecycle {
        body["lifecycleNotificationUrl"] = json!(l);
    }
    let sub: Value = t
        .graph(Method::POST, "/subscriptions", &alice.access)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sub["id"].as_str().unwrap().to_string()
}

async fn deliver_inbound(t: &TestSim, subject: &str) {
    t.control(
        Method::POST,
        "/mailboxes/alice@contoso.example/messages",
        Some(json!({"from": "x@external.example", "subject": subject})),
    )
    .await;
}

#[tokio::test]
async fn duplicate_notifications_fault_posts_each_batch_twice() {
    let t = spawn_sim().await;
    let hook = spawn_hook().await;
    subscribed(&t, &hook.url, None).await;
    t.control(
        Method::POST,
        "/faults",
        Some(json!({"kind": "duplicateNotifications"})),
    )
    .await;
    deliver_inbound(&t, "dup").await;
    let items = hook.hook.wait_for_items(2).await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0], items[1]);
}

#[tokio::test]
async fn drop_notifications_fault_drops_only_the_counted_posts() {
    let t = spawn_sim().await;
    let hook = spawn_hook().await;
    subscribed(&t, &hook.url, None).await;
    t.control(
        Method::POST,
        "/faults",
        Some(json!({"kind": "dropNotifications", "count": 1})),
    )
    .await;
    deliver_inbound(&t, "lost").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(hook.hook.items().is_empty());
    deliver_inbound(&t, "kept").await;
    assert_eq!(hook.hook.wait_for_items(1).await.len(), 1);
    let log: Value = t
        .control(Method::GET, "/notifications", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(log["value"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["outcome"] == "dropped"));
}

#[tokio::test]
async fn reorder_fault_delivers_a_batch_one_by_one_in_reverse() {
    let t = spawn_sim().await;
    let hook = spawn_hook().await;
    subscribed(&t, &hook.url, None).await;
    let settings = json!({"notifications": {"batchWindowMs": 200, "timeoutMs": 3000, "retryDelayMs": 50, "maxRetries": 1, "validationTimeoutMs": 10000}});
    t.control(Method::PUT, "/settings", Some(settings)).await;
    t.control(
        Method::POST,
        "/faults",
        Some(json!({"kind": "reorderNotifications"})),
    )
    .await;
    deliver_inbound(&t, "first").await;
    deliver_inbound(&t, "second").await;
    let items = hook.hook.wait_for_items(2).await;
    assert_eq!(hook.hook.posts(), 2);
    let msgs: Value = t
        .control(
            Method::GET,
            "/mailboxes/alice@contoso.example/messages?folder=inbox",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let first_id = msgs["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subject"] == "first")
        .unwrap()["id"]
        .clone();
    assert_eq!(
        items[1]["resourceData"]["id"], first_id,
        "the earlier change arrives last"
    );
}

#[tokio::test]
async fn failing_notification_endpoint_is_retried_then_missed_is_sent() {
    let t = spawn_sim().await;
    let hook = spawn_hook().await;
    let life = spawn_hook().await;
    let id = subscribed(&t, &hook.url, Some(&life.url)).await;
    let settings = json!({"notifications": {"batchWindowMs": 10, "timeoutMs": 3000, "retryDelayMs": 20, "maxRetries": 2, "validationTimeoutMs": 10000}});
    t.control(Method::PUT, "/settings", Some(settings)).await;
    t.control(
        Method::POST,
        "/faults",
        Some(json!({"kind": "failNotifications", "path": hook.url})),
    )
    .await;
    deliver_inbound(&t, "x").await;
    let missed = life.hook.wait_for_items(1).await;
    assert_eq!(missed[0]["lifecycleEvent"], "missed");
    assert_eq!(missed[0]["subscriptionId"], id);
    let log: Value = t
        .control(Method::GET, "/notifications", None)
        .await
        .json()
        .await
        .unwrap();
    let attempts = log["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "simulatedFailure")
        .count();
    assert_eq!(attempts, 3, "first attempt plus two retries");
}

#[tokio::test]
async fn slow_notifications_fault_delays_delivery() {
    let t = spawn_sim().await;
    let hook = spawn_hook().await;
    subscribed(&t, &hook.url, None).await;
    t.control(
        Method::POST,
        "/faults",
        Some(json!({"kind": "slowNotifications", "ms": 400})),
    )
    .await;
    let started = std::time::Instant::now();
    deliver_inbound(&t, "slow").await;
    hook.hook.wait_for_items(1).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
}

#[tokio::test]
async fn foreign_link_moves_the_next_paging_link_to_another_origin_once() {
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    for subject in ["one", "two"] {
        t.control(
            Method::POST,
            "/mailboxes/alice@contoso.example/messages",
            Some(json!({"from": "x@ext.example", "subject": subject})),
        )
        .await;
    }
    let refused = t
        .control(
            Method::POST,
            "/faults",
            Some(json!({"kind": "foreignLink"})),
        )
        .await;
    assert_eq!(refused.status(), 400, "an origin is required");
    let added = t
        .control(
            Method::POST,
            "/faults",
            Some(
                json!({"kind": "foreignLink", "origin": "http://127.0.0.1:9",
                        "path": "/v1.0/me/mailFolders/inbox/messages/delta", "count": 1}),
            ),
        )
        .await;
    assert_eq!(added.status(), 201);
    let page = |link: String| {
        let request = if link.starts_with("http") {
            t.http.get(link).bearer_auth(&alice.access)
        } else {
            t.graph(Method::GET, &link, &alice.access)
        };
        async move {
            let r = request
                .header("Prefer", "odata.maxpagesize=1")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let first = page("/me/mailFolders/inbox/messages/delta".into()).await;
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.starts_with("http://127.0.0.1:9/v1.0/me/mailFolders/inbox/messages/delta?$skiptoken="),
        "{next}"
    );
    assert_eq!(
        first["value"].as_array().unwrap().len(),
        1,
        "the page itself is unchanged"
    );

    // Once only: the same link on the simulator's own origin goes on as usual.
    let own = next.replacen("http://127.0.0.1:9", &t.base, 1);
    let second = page(own).await;
    assert!(second["@odata.deltaLink"]
        .as_str()
        .unwrap()
        .starts_with(&t.base));
    let log: Value = t
        .control(
            Method::GET,
            "/requests?path=/v1.0/me/mailFolders/inbox/messages/delta",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["value"][0]["fault"], "foreignLink:fault-1");
}
