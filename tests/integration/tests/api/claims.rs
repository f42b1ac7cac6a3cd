//! The connect flow's defences (issue: a forwarded sign-in must not hijack a mailbox): the
//! browser binding, the app's claim, ownership that never moves silently, results that cannot
//! be forged, and failures after the state is consumed that leave a retry working.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use m365_connector::app::Connector;
use m365_connector::connect::claim::{claim, ClaimRequest};
use m365_connector::connect::result::RESULT_LIFETIME;
use m365_connector::outbox;
use m365_connector::store::keys;
use serde_json::json;

use crate::helpers::{body, location, query_of, unique, Harness, MAILBOXES, RETURN_URL};

const CAROL: &str = "carol@contoso.example";
const ALICE: &str = "alice@contoso.example";

impl Harness {
    /// A sign-in of `login` started by `user` and completed in the default browser; returns
    /// the app's landing query (with `result` when it succeeded).
    pub(crate) async fn signed_in(
        &self,
        user: &str,
        login: &str,
        transfer: bool,
    ) -> std::collections::HashMap<String, String> {
        let start = self.start_url(user, login, transfer).await;
        let authorize = self.follow_start(&start).await;
        let back = self.consent(&authorize, login, "accept", None).await;
        let landing = location(&self.callback_with(&back, Some(&self.cookies())).await);
        assert!(landing.starts_with(RETURN_URL), "{landing}");
        query_of(&landing)
    }

    /// The same connector with its configuration changed (a dependency made to fail).
    pub(crate) fn connector_with(
        &self,
        change: impl FnOnce(&mut m365_connector::config::Config),
    ) -> Connector {
        let mut config = self.connector.config.clone();
        change(&mut config);
        Connector::new(config, &self.stack.aws)
    }

    /// How many items of a key prefix the table holds for this pk.
    async fn items_with_pk(&self, pk: &str) -> usize {
        self.stack
            .aws
            .dynamodb
            .query()
            .table_name(&self.stack.config.table_name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
            .send()
            .await
            .unwrap()
            .count() as usize
    }

    pub(crate) async fn claim_status(&self, result: &str, user: &str) -> (u16, serde_json::Value) {
        let response = self.claim(result, user).await;
        let status = response.status().as_u16();
        (status, body(response).await)
    }
}

async fn result_id_pk(h: &Harness, code: &str) -> String {
    let ring = h.connector.keyring().await.unwrap();
    let opened =
        m365_connector::connect::result::ResultCode::open(&ring, code, Utc::now()).unwrap();
    keys::connect_result_pk(&opened.id)
}

#[tokio::test]
async fn a_callback_without_its_browser_cookie_or_with_another_flows_is_a_page_and_spends_the_state(
) {
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let user = unique("recruiter");
    let first = h.start_url(&user, CAROL, false).await;
    let authorize = h.follow_start(&first).await;
    let back = h.consent(&authorize, CAROL, "accept", None).await;
    // A second sign-in in the same browser: its cookie is no key to the first.
    let second = h.start_url(&user, CAROL, false).await;
    let other_cookie = crate::helpers::cookie_pair(
        h.open_start(&second).await.headers()["set-cookie"]
            .to_str()
            .unwrap(),
    );

    for cookies in [
        None,
        Some(other_cookie.as_str()),
        Some("m365c_signin_0000000000000000=forged"),
    ] {
        let response = h.callback_with(&back, cookies).await;
        assert_eq!(response.status(), 400, "{cookies:?}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
    // The state was spent by the first refusal: the right cookie now finds nothing either,
    // so the code cannot be replayed from the browser that started the sign-in.
    let late = h.callback_with(&back, Some(&h.cookies())).await;
    assert_eq!(late.status(), 400);
    let list = crate::helpers::call::connections(
        &h.connector,
        h.api("GET", "/connections", &[("user_id", &user)], None),
    )
    .await;
    assert_eq!(body(list).await["connections"], json!([]), "nothing stored");
}

#[tokio::test]
async fn a_start_url_works_once_and_sets_a_bound_cookie() {
    let h = Harness::start().await;
    let start = h.start_url(&unique("recruiter"), CAROL, false).await;
    let opened = h.open_start(&start).await;
    assert_eq!(opened.status(), 302);
    assert!(location(&opened).contains("/oauth2/v2.0/authorize"));
    assert!(
        location(&opened).contains("prompt=select_account"),
        "the default prompt"
    );
    let cookie = opened.headers()["set-cookie"].to_str().unwrap();
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/oauth/callback",
        "Max-Age=600",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let again = h.open_start(&start).await;
    assert_eq!(again.status(), 400, "single use");
    assert_eq!(again.headers()["content-type"], "text/html; charset=utf-8");
}

#[tokio::test]
async fn a_claim_by_another_app_user_is_refused_and_discards_the_result() {
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let (starter, other) = (unique("recruiter-m"), unique("recruiter-v"));
    let landing = h.signed_in(&starter, CAROL, true).await;
    let result = &landing["result"];
    assert!(
        !landing.contains_key("connection_id"),
        "the redirect names no connection"
    );

    let (status, problem) = h.claim_status(result, &other).await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(
        problem["type"],
        "urn:m365-connector:problem:claim-forbidden"
    );
    // Dropped: not even the right user can use it now, and nothing was attached to anyone.
    let (status, problem) = h.claim_status(result, &starter).await;
    assert_eq!(status, 410, "{problem}");
    for user in [&starter, &other] {
        let list = crate::helpers::call::connections(
            &h.connector,
            h.api("GET", "/connections", &[("user_id", user)], None),
        )
        .await;
        assert_eq!(body(list).await["connections"], json!([]));
    }
}

#[tokio::test]
async fn tampered_expired_and_replayed_results_are_refused() {
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let user = unique("recruiter");
    let result = h.signed_in(&user, CAROL, true).await["result"].clone();
    let pk = result_id_pk(&h, &result).await;

    // Tampered: one character changed, or not a code at all.
    let mut bytes = result.clone().into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    for bad in [
        String::from_utf8(bytes).unwrap(),
        "bm90LWEtY29kZQ".to_owned(),
    ] {
        let (status, problem) = h.claim_status(&bad, &user).await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(problem["field"], "result");
    }
    // Expired: the same code presented after its lifetime.
    let late = Utc::now() + RESULT_LIFETIME + Duration::seconds(5);
    let expired = claim(
        &h.connector,
        ClaimRequest {
            result: result.clone(),
            user_id: user.clone(),
        },
        late,
    )
    .await
    .unwrap_err();
    assert_eq!(m365_connector::http::ApiError::from(expired).status(), 410);
    assert_eq!(
        h.items_with_pk(&pk).await,
        1,
        "an expired presentation of a valid code does not need the store"
    );

    // Genuine: works once; the replay is gone.
    let (status, claimed) = h.claim_status(&result, &user).await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["connection"]["user_id"], user.as_str());
    assert_eq!(h.items_with_pk(&pk).await, 0, "the result is consumed");
    let (status, _) = h.claim_status(&result, &user).await;
    assert_eq!(status, 410);
}

#[tokio::test]
async fn an_unclaimed_result_expires_and_leaves_nothing_behind() {
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let user = unique("recruiter");
    let result = h.signed_in(&user, CAROL, true).await["result"].clone();
    let pk = result_id_pk(&h, &result).await;
    // Stored with its tokens (sealed), under DynamoDB's TTL for the sweep.
    let item = h
        .stack
        .aws
        .dynamodb
        .get_item()
        .table_name(&h.stack.config.table_name)
        .key(keys::PK, AttributeValue::S(pk.clone()))
        .key(keys::SK, AttributeValue::S(keys::META.into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let ttl: i64 = item[keys::TTL].as_n().unwrap().parse().unwrap();
    assert!((ttl - (Utc::now() + RESULT_LIFETIME).timestamp()).abs() < 60);
    assert!(!format!("{item:?}").contains("eyJ"), "no token in clear");

    // Presented late, the code is refused; the scheduled sweep then deletes the record, tokens
    // and all, rather than leaving it to DynamoDB's TTL (days).
    let late = Utc::now() + RESULT_LIFETIME + Duration::minutes(1);
    let err = claim(
        &h.connector,
        ClaimRequest {
            result,
            user_id: user.clone(),
        },
        late,
    )
    .await
    .unwrap_err();
    assert_eq!(m365_connector::http::ApiError::from(err).status(), 410);
    assert_eq!(h.items_with_pk(&pk).await, 1);
    let swept = m365_connector::connect::claim::sweep_expired(&h.connector, late)
        .await
        .unwrap();
    assert!(swept >= 1);
    assert_eq!(h.items_with_pk(&pk).await, 0, "nothing left");
    let list = crate::helpers::call::connections(
        &h.connector,
        h.api("GET", "/connections", &[("user_id", &user)], None),
    )
    .await;
    assert_eq!(body(list).await["connections"], json!([]));
}

#[tokio::test]
async fn a_mailbox_owned_by_another_app_user_moves_only_on_an_explicit_transfer() {
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let (owner, newcomer) = (unique("recruiter-owner"), unique("recruiter-new"));
    let connected = h.connect(&owner, ALICE).await;
    let id = connected["connection_id"].clone();
    h.events().await;
    h.sync_jobs().await;

    // Without a transfer: refused at the callback, nothing stored, the owner keeps it.
    let landing = h.signed_in(&newcomer, ALICE, false).await;
    assert_eq!(
        landing["error"], "mailbox_connected_elsewhere",
        "{landing:?}"
    );
    assert_eq!(landing["retryable"], "false");
    assert!(!landing.contains_key("result"));
    assert_eq!(h.get_connection(&id).await["user_id"], owner.as_str());
    assert!(
        h.events().await.is_empty(),
        "no event for a refused sign-in"
    );

    // With one: moved on the claim, same connection, an event naming both owners.
    let landing = h.signed_in(&newcomer, ALICE, true).await;
    let (status, claimed) = h.claim_status(&landing["result"], &newcomer).await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["connection"]["id"], id.as_str());
    assert_eq!(claimed["transferred_from"], owner.as_str());
    assert_eq!(h.get_connection(&id).await["user_id"], newcomer.as_str());
    let events = h.events().await;
    let moved: Vec<_> = events
        .iter()
        .filter(|e| e["detail-type"] == "connection.transferred")
        .collect();
    assert_eq!(moved.len(), 1, "{events:?}");
    assert_eq!(moved[0]["detail"]["from_user_id"], owner.as_str());
    assert_eq!(moved[0]["detail"]["to_user_id"], newcomer.as_str());
    assert_eq!(moved[0]["detail"]["connection"]["id"], id.as_str());
    let list = crate::helpers::call::connections(
        &h.connector,
        h.api("GET", "/connections", &[("user_id", &owner)], None),
    )
    .await;
    assert_eq!(
        body(list).await["connections"],
        json!([]),
        "listed under the new owner only"
    );
}

#[tokio::test]
async fn failures_after_the_state_is_consumed_land_on_the_app_and_a_retry_succeeds() {
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let user = unique("recruiter");

    // Graph fails while identifying the mailbox: back to the app, retryable; a new sign-in works.
    h.control(
        reqwest::Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "unavailable", "path": "/v1.0/me", "retryAfter": 0, "count": 1})),
    )
    .await;
    let landing = h.signed_in(&user, CAROL, true).await;
    assert_eq!(landing["error"], "graph_unavailable", "{landing:?}");
    assert_eq!(landing["retryable"], "true");
    h.control(reqwest::Method::DELETE, "/_sim/faults", None)
        .await;

    // The keyring (Secrets Manager) fails after the code was redeemed: the same.
    let broken = h.connector_with(|c| c.token_key_secret_id = "no-such-secret".into());
    let start = h.start_url(&user, CAROL, true).await;
    let authorize = h.follow_start(&start).await;
    let back = h.consent(&authorize, CAROL, "accept", None).await;
    let params: Vec<(String, String)> = query_of(&back).into_iter().collect();
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut request = crate::helpers::api_request("GET", "/oauth/callback", &params, None, false);
    request
        .headers_mut()
        .insert("cookie", h.cookies().parse().unwrap());
    let answer = crate::helpers::call::oauth(&broken, request).await;
    assert_eq!(
        answer.status(),
        302,
        "never an error page once the state is consumed"
    );
    let landing = query_of(&location(&answer));
    assert_eq!(landing["error"], "connector_unavailable", "{landing:?}");
    assert_eq!(landing["retryable"], "true");

    // DynamoDB fails during the claim: 503, nothing attached; the same claim then succeeds.
    let result = h.signed_in(&user, CAROL, true).await["result"].clone();
    let broken = h.connector_with(|c| c.table_name = "no-such-table".into());
    let request = h.api(
        "POST",
        "/connections/claims",
        &[],
        Some(json!({"result": result, "user_id": user})),
    );
    let answer = crate::helpers::call::connections(&broken, request).await;
    assert_eq!(answer.status(), 503);
    assert!(answer.headers().contains_key("retry-after"));

    // SQS and EventBridge fail right after the claim commits: the claim stands, the first sync
    // and the event wait in the outbox, and the scheduled drain delivers them.
    let broken = h.connector_with(|c| {
        c.sync_queue_url = format!("{}-gone", c.sync_queue_url);
        c.event_bus_name = "no-such-bus".into();
    });
    let request = h.api(
        "POST",
        "/connections/claims",
        &[],
        Some(json!({"result": result, "user_id": user})),
    );
    let answer = crate::helpers::call::connections(&broken, request).await;
    assert_eq!(answer.status(), 200);
    let id = body(answer).await["connection"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = |items: Vec<serde_json::Value>| -> usize {
        items.iter().filter(|v| v.to_string().contains(&id)).count()
    };
    assert_eq!(mine(h.sync_jobs().await), 0);
    assert_eq!(mine(h.events().await), 0);
    assert!(
        h.items_with_pk(keys::OUTBOX).await >= 2,
        "waiting in the outbox"
    );

    let drained = outbox::drain(&h.connector, Utc::now() + outbox::DRAIN_GRACE * 2)
        .await
        .unwrap();
    assert!(drained.delivered >= 2, "{drained:?}");
    assert_eq!(mine(h.sync_jobs().await), 1, "the first sync, once");
    let events = h.events().await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e["detail-type"] == "connection.connected"
                && e["detail"]["connection"]["id"] == id.as_str())
            .count(),
        1
    );
    assert_eq!(h.get_connection(&id).await["user_id"], user.as_str());
}
