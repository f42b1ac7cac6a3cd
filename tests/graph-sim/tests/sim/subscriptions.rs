use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

fn in_an_hour() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()
}

async fn subscribe(
    t: &TestSim,
    token: &str,
    url: &str,
    lifecycle: Option<&str>,
    resource: &str,
) -> reqwest::Response {
    let mut body = json!({"changeType": "created,updated,deleted", "notificationUrl": url, "resource": resource,
        "expirationDateTime": in_an_hour(), "clientState": "secret-state"});
    if let Some(l) = lifecycle {
        body["lifecycleNotificationUrl"] = json!(l);
    }
    t.graph(Method::POST, "/subscriptions", token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn create_validates_the_endpoint_and_a_failed_handshake_creates_nothing() {
    let t = spawn_sim().await;
    let hook = spawn_hook().await;
    let alice = t.sign_in("alice@contoso.example").await;
    *hook.hook.validation_status.lock().unwrap() = Some(500);
    let resp = subscribe(
        &t,
        &alice.access,
        &hook.url,
        None,
        "me/mailFolders('Inbox')/messages",
    )
    .await;
    assert_eq!(resp.status(), 400);
    let list: Value = t
        .graph(Method::GET, "/subscriptions", &alice.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list["value"].as_array().unwrap().is_empty());

    *hook.hook.validation_status.lock().unwrap() = None;
    let resp = subscribe(
        &t,
        &alice.access,
        &hook.url,
        None,
        "me/mailFolders('Inbox')/messages",
    )
    .await;
    assert_eq!(resp.status(), 201);
    let sub: Value = resp.json().await.unwrap();
    assert_eq!(sub["clientState"], "secret-state");
    let exp =
        chrono::DateTime::parse_from_rfc3339(sub["expirationDateTime"].as_str().unwrap()).unwrap();
    assert!(exp > chrono::Utc::now());

    // Graph rejects an expiry past the Outlook maximum (10,080 minutes without resource data)
    // instead of capping it.
    let sid = sub["id"].as_str().unwrap().to_owned();
    let renew = |when: chrono::DateTime<chrono::Utc>| {
        t.graph(
            Method::PATCH,
            &format!("/subscriptions/{sid}"),
            &alice.access,
        )
        .json(&json!({"expirationDateTime": when.to_rfc3339()}))
        .send()
    };
    let too_long = renew(chrono::Utc::now() + chrono::Duration::minutes(10_081))
        .await
        .unwrap();
    assert_eq!(too_long.status(), 400);
    let err: Value = too_long.json().await.unwrap();
    assert_eq!(err["error"]["code"], "ExtensionError");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("10080 minutes"));
    let longest = chrono::Utc::now() + chrono::Duration::minutes(10_079);
    let renewed: Value = renew(longest).await.unwrap().json().await.unwrap();
    let kept =
        chrono::DateTime::parse_from_rfc3339(renewed["expirationDateTime"].as_str().unwrap())
            .unwrap();
    assert!(
        (kept.timestamp() - longest.timestamp()).abs() <= 1,
        "the longest allowed expiry is kept as asked: {renewed}"
    );

    let https_only = t.graph(Method::POST, "/subscriptions", &alice.access)
        .json(&json!({"changeType": "created", "notificationUrl": "http://example.com/hook", "resource": "me/messages", "expirationDateTime": in_an_hour()}))
        .send().await.unwrap();
    assert_eq!(https_only.status(), 400);
}

#[tokio::test]
async fn notifications_for_two_subscriptions_on_one_url_arrive_batched_in_the_documented_shape() {
    let t = spawn_sim().await;
    let hook = spawn_hook().await;
    let alice = t.sign_in("alice@contoso.example").await;
    let bob = t.sign_in("bob@contoso.example").await;
    let sa: Value = subscribe(&t, &alice.access, &hook.url, None, "me/messages")
        .await
        .json()
        .await
        .unwrap();
    let sb: Value = subscribe(
        &t,
        &bob.access,
        &hook.url,
        None,
        "me/mailFolders('inbox')/messages",
    )
    .await
    .json()
    .await
    .unwrap();
    t.graph(Method::POST, "/me/sendMail", &alice.access)
        .json(&json!({"message": {"subject": "hi", "toRecipients": [{"emailAddress": {"address": "bob@contoso.example"}}]}}))
        .send().await.unwrap();
    let items = hook.hook.wait_for_items(2).await;
    assert_eq!(items.len(), 2);
    assert_eq!(hook.hook.posts(), 1, "one POST carries both subscriptions");
    let ids: Vec<&str> = items
        .iter()
        .map(|i| i["subscriptionId"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&sa["id"].as_str().unwrap()) && ids.contains(&sb["id"].as_str().unwrap()));
    let i = &items[0];
    assert_eq!(i["changeType"], "created");
    assert_eq!(i["clientState"], "secret-state");
    assert_eq!(i["tenantId"], graph_sim::CONTOSO_TENANT_ID);
    assert_eq!(i["resourceData"]["@odata.type"], "#Microsoft.Graph.Message");
    for k in ["@odata.id", "@odata.etag", "id"] {
        assert!(i["resourceData"][k].is_string(), "{k}");
    }
}

#[tokio::test]
async fn lifecycle_events_reach_the_lifecycle_url_and_reauthorization_pauses_delivery() {
    let t = spawn_sim().await;
    let hook = spawn_hook().await;
    let life = spawn_hook().await;
    let alice = t.sign_in("alice@contoso.example").await;
    let sub: Value = subscribe(&t, &alice.access, &hook.url, Some(&life.url), "me/messages")
        .await
        .json()
        .await
        .unwrap();
    let id = sub["id"].as_str().unwrap();
    t.control(
        Method::POST,
        &format!("/subscriptions/{id}/lifecycle"),
        Some(json!({"event": "reauthorizationRequired"})),
    )
    .await;
    let items = life.hook.wait_for_items(1).await;
    assert_eq!(items[0]["lifecycleEvent"], "reauthorizationRequired");
    assert_eq!(items[0]["subscriptionId"], id);

    t.control(
        Method::POST,
        "/mailboxes/alice@contoso.example/messages",
        Some(json!({"from": "a@external.example", "subject": "paused"})),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(hook.hook.items().is_empty(), "paused until reauthorized");
    let r = t
        .graph(
            Method::POST,
            &format!("/subscriptions/{id}/reauthorize"),
            &alice.access,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    t.control(
        Method::POST,
        "/mailboxes/alice@contoso.example/messages",
        Some(json!({"from": "a@external.example", "subject": "resumed"})),
    )
    .await;
    assert_eq!(hook.hook.wait_for_items(1).await.len(), 1);

    t.control(
        Method::POST,
        &format!("/subscriptions/{id}/lifecycle"),
        Some(json!({"event": "subscriptionRemoved"})),
    )
    .await;
    let got = t
        .graph(Method::GET, &format!("/subscriptions/{id}"), &alice.access)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 404);
}

#[tokio::test]
async fn a_subscriptions_client_state_is_listed_among_the_secrets_for_log_checks() {
    let t = spawn_sim().await;
    let hook = spawn_hook().await;
    let alice = t.sign_in("alice@contoso.example").await;
    let created = subscribe(
        &t,
        &alice.access,
        &hook.url,
        None,
        "me/mailFolders('Inbox')/messages",
    )
    .await;
    assert_eq!(created.status(), 201);

    let listed: Value = t
        .control(Method::GET, "/issued-secrets", None)
        .await
        .json()
        .await
        .unwrap();

    assert!(
        listed["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "client_state" && s["value"] == "secret-state"),
        "{listed}"
    );
}
