//! Access tokens that Microsoft revokes before their stated expiry (continuous access evaluation,
//! a password reset, a policy): the connector refreshes once and carries on, and only a refresh
//! the identity platform rejects asks for a reconnect.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::body;
use crate::sync::{connect_and_sync, deliver, harness_with_webhook, stored_messages};

const ALICE: &str = "alice@contoso.example";

/// Alice connected and synced with one inbound message of `subject`; its connection id and the
/// stored message.
async fn connected_with_message(h: &crate::helpers::Harness, subject: &str) -> (String, Value) {
    let id = connect_and_sync(h, ALICE).await;
    deliver(h, ALICE, "early@external.example", subject).await;
    crate::sync::run_worker(h, std::time::Duration::from_millis(300)).await;
    let message = stored_messages(h, &id, &[])
        .await
        .into_iter()
        .find(|m| m["subject"] == subject)
        .expect("synced");
    (id, message)
}

#[tokio::test]
async fn reading_a_message_body_after_graph_revoked_the_token_refreshes_once_and_answers() {
    let h = harness_with_webhook().await;
    let (id, message) = connected_with_message(&h, "revoked token").await;
    h.control(
        Method::POST,
        &format!("/_sim/users/{ALICE}/expire-access-tokens"),
        None,
    )
    .await;
    let refreshes = h
        .sim_requests("/organizations/oauth2/v2.0/token")
        .await
        .len();
    let path = format!(
        "/connections/{id}/messages/{}",
        message["id"].as_str().unwrap()
    );
    let response =
        crate::helpers::call::connections(&h.connector, h.api("GET", &path, &[], None)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        body(response).await["body"]["content"],
        "body of revoked token"
    );
    assert_eq!(
        h.sim_requests("/organizations/oauth2/v2.0/token")
            .await
            .len(),
        refreshes + 1,
        "one refresh"
    );
}

#[tokio::test]
async fn a_revoked_token_whose_refresh_is_rejected_asks_for_a_reconnect() {
    let h = harness_with_webhook().await;
    let (id, message) = connected_with_message(&h, "revoked for good").await;
    for action in ["expire-access-tokens", "revoke"] {
        h.control(Method::POST, &format!("/_sim/users/{ALICE}/{action}"), None)
            .await;
    }
    let path = format!(
        "/connections/{id}/messages/{}",
        message["id"].as_str().unwrap()
    );
    let response =
        crate::helpers::call::connections(&h.connector, h.api("GET", &path, &[], None)).await;
    assert_eq!(response.status(), 409);
    assert_eq!(
        body(response).await["type"],
        "urn:m365-connector:problem:connection-not-active"
    );
    assert_eq!(h.get_connection(&id).await["status"], "reauth_required");
}

#[tokio::test]
async fn free_busy_and_booking_after_graph_revoked_the_token_refresh_once_and_answer() {
    let _turn = crate::helpers::MAILBOXES.lock().await;
    let h = crate::helpers::Harness::start().await;
    let landing = h.connect(&crate::helpers::unique("recruiter"), ALICE).await;
    let id = landing["connection_id"].clone();
    let call = |path: String, payload: serde_json::Value, key: Option<&'static str>| {
        let mut request = h.api("POST", &path, &[], Some(payload));
        if let Some(key) = key {
            request
                .headers_mut()
                .insert("idempotency-key", key.parse().unwrap());
        }
        crate::helpers::call::scheduling(&h.connector, request)
    };
    for (path, payload, key, status) in [
        (
            format!("/connections/{id}/free-busy"),
            serde_json::json!({"attendees": ["bob@contoso.example"], "start": "2026-12-07T08:00:00Z",
                               "end": "2026-12-08T08:00:00Z", "time_zone": "Europe/Berlin"}),
            None,
            200,
        ),
        (
            format!("/connections/{id}/events"),
            serde_json::json!({"subject": "Interview", "start": "2026-12-07T10:00:00+01:00",
                               "end": "2026-12-07T10:45:00+01:00", "time_zone": "Europe/Berlin",
                               "attendees": [{"address": "bob@contoso.example"}]}),
            Some("revoked-token-booking"),
            201,
        ),
    ] {
        h.control(
            Method::POST,
            &format!("/_sim/users/{ALICE}/expire-access-tokens"),
            None,
        )
        .await;
        let refreshes = h
            .sim_requests("/organizations/oauth2/v2.0/token")
            .await
            .len();
        let response = call(path.clone(), payload, key).await;
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(
            h.sim_requests("/organizations/oauth2/v2.0/token")
                .await
                .len(),
            refreshes + 1,
            "{path}: one refresh"
        );
    }
}

#[tokio::test]
async fn a_send_after_graph_revoked_the_token_refreshes_once_and_delivers_exactly_once() {
    let _turn = crate::helpers::MAILBOXES.lock().await;
    let h = crate::helpers::Harness::start().await;
    let landing = h.connect(&crate::helpers::unique("recruiter"), ALICE).await;
    let id = landing["connection_id"].clone();
    h.control(
        Method::POST,
        &format!("/_sim/users/{ALICE}/expire-access-tokens"),
        None,
    )
    .await;
    let refreshes = h
        .sim_requests("/organizations/oauth2/v2.0/token")
        .await
        .len();
    let subject = crate::helpers::unique("after revocation");
    let mut request = h.api(
        "POST",
        &format!("/connections/{id}/messages"),
        &[],
        Some(serde_json::json!({
            "to": [{"address": "bob@contoso.example"}],
            "subject": subject,
            "body": {"content_type": "text", "content": "hello"}
        })),
    );
    request.headers_mut().insert(
        "idempotency-key",
        crate::helpers::unique("revoked-send").parse().unwrap(),
    );
    let response = crate::helpers::call::send_mail(&h.connector, request).await;
    assert_eq!(response.status(), 202, "{:?}", body(response).await);
    // The send worker meets the revoked token.
    h.run_send_jobs(&m365_connector::sending::SendSettings::default())
        .await;
    assert_eq!(
        h.sim_requests("/organizations/oauth2/v2.0/token")
            .await
            .len(),
        refreshes + 1,
        "one refresh"
    );
    // Exchange submits asynchronously: count bob's copies once the submission is through.
    let mut copies = 0;
    for _ in 0..100 {
        let inbox = h
            .control(
                Method::GET,
                "/_sim/mailboxes/bob@contoso.example/messages?folder=inbox",
                None,
            )
            .await;
        copies = inbox["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["subject"] == subject.as_str())
            .count();
        let pending = h.control(Method::GET, "/_sim/settings", None).await;
        if copies > 0 && pending["pendingSubmissions"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(copies, 1, "delivered exactly once");
}
