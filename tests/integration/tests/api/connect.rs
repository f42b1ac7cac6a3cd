//! Connecting mailboxes end to end: the app's API, the simulator's sign-in page submitted as a
//! browser would, the OAuth callback, DynamoDB (moto), EventBridge and SQS.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use m365_connector::domain::ConnectionId;
use m365_connector::store::{keys, ConsentStatus};
use serde_json::{json, Value};

use crate::helpers::{
    api_request, body, location, query_of, unique, Harness, MAILBOXES, PUBLIC_BASE, RETURN_URL,
};

#[tokio::test]
async fn a_user_connects_through_the_browser_flow_and_lands_with_an_active_connection() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let user = unique("recruiter");

    let landing = h.connect(&user, "alice@contoso.example").await;

    assert_eq!(landing["status"], "active");
    let id = &landing["connection_id"];
    let c = h.get_connection(id).await;
    assert_eq!(c["user_id"], user.as_str());
    assert_eq!(c["email"], "alice@contoso.example");
    assert_eq!(c["tenant_id"], graph_sim::CONTOSO_TENANT_ID);
    assert_eq!(c["status"], "active");
    assert_eq!(
        c["capabilities"],
        json!(["mail_read", "mail_send", "calendar"])
    );
    for scope in [
        "Mail.Read",
        "Mail.ReadWrite",
        "Mail.Send",
        "Calendars.ReadWrite",
        "User.Read",
    ] {
        assert!(
            c["scopes"].as_array().unwrap().iter().any(|s| s == scope),
            "{scope} in {c}"
        );
    }
    let text = c.to_string();
    assert!(
        !text.contains("token") && !text.contains("ms_user_id"),
        "no token material: {text}"
    );

    // Tokens are in DynamoDB as ciphertext only.
    let raw = h
        .stack
        .aws
        .dynamodb
        .get_item()
        .table_name(&h.stack.config.table_name)
        .key(keys::PK, AttributeValue::S(format!("CONN#{id}")))
        .key(keys::SK, AttributeValue::S(keys::TOKENS.into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("token item");
    let dump = format!("{raw:?}");
    assert!(
        !dump.contains("access_token") && !dump.contains("refresh_token"),
        "{dump}"
    );

    let events = h.events().await;
    let connected: Vec<_> = events
        .iter()
        .filter(|e| e["detail-type"] == "connection.connected")
        .collect();
    assert_eq!(connected.len(), 1);
    assert_eq!(connected[0]["detail"]["connection"]["id"], id.as_str());
    let jobs = h.sync_jobs().await;
    assert_eq!(
        jobs,
        vec![json!({"kind": "connected", "connection_id": id})]
    );
}

#[tokio::test]
async fn reconnecting_the_same_mailbox_keeps_the_connection_id() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let user = unique("recruiter");
    let first = h.connect(&user, "bob@contoso.example").await;
    let second = h.connect(&user, "bob@contoso.example").await;
    assert_eq!(first["connection_id"], second["connection_id"]);
    let list = crate::helpers::call::connections(
        &h.connector,
        h.api("GET", "/connections", &[("user_id", &user)], None),
    )
    .await;
    assert_eq!(body(list).await["connections"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_mailbox_on_premises_becomes_unsupported_not_a_crash() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let landing = h
        .connect(&unique("recruiter"), "dave@contoso.example")
        .await;
    assert_eq!(landing["status"], "unsupported_mailbox");
    let c = h.get_connection(&landing["connection_id"]).await;
    assert!(
        c["last_error"].as_str().unwrap().contains("on premises"),
        "{c}"
    );
    assert!(
        h.sync_jobs().await.is_empty(),
        "nothing to sync for an unsupported mailbox"
    );
}

#[tokio::test]
async fn a_user_who_cancels_returns_with_access_denied() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let authorize = h
        .start_connect(&unique("recruiter"), "carol@contoso.example")
        .await;
    let back = h
        .consent(&authorize, "carol@contoso.example", "cancel", None)
        .await;
    let landing = query_of(&h.callback(&back).await);
    assert_eq!(landing["error"], "access_denied");
    assert!(!landing.contains_key("connection_id"));
}

#[tokio::test]
async fn a_connection_without_mail_send_is_connected_but_cannot_send() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let authorize = h
        .start_connect(&unique("recruiter"), "carol@contoso.example")
        .await;
    let granted = [
        "User.Read",
        "Mail.Read",
        "Mail.ReadWrite",
        "Calendars.ReadWrite",
    ];
    let back = h
        .consent(
            &authorize,
            "carol@contoso.example",
            "accept",
            Some(&granted),
        )
        .await;
    let landing = query_of(&h.callback(&back).await);
    let c = h.get_connection(&landing["connection_id"]).await;
    assert_eq!(c["status"], "active");
    assert_eq!(c["capabilities"], json!(["mail_read", "calendar"]));
}

#[tokio::test]
async fn erin_needs_admin_consent_first_then_connects() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let user = unique("recruiter");
    let authorize = h.start_connect(&user, "erin@fabrikam.example").await;
    // Entra's "Need admin approval" page; the user returns without granting consent.
    let page = approval_page(&h, &authorize, "erin@fabrikam.example").await;
    let back = return_from(&h, &page).await;
    let landing = query_of(&h.callback(&back).await);
    assert_eq!(landing["error"], "admin_consent_required", "{landing:?}");

    let request = h.api(
        "POST",
        "/admin-consents",
        &[],
        Some(json!({"tenant": graph_sim::FABRIKAM_TENANT_ID, "return_url": RETURN_URL})),
    );
    let response = crate::helpers::call::connections(&h.connector, request).await;
    assert_eq!(response.status(), 201);
    let consent_url = body(response).await["consent_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let back = h
        .consent(&consent_url, "admin@fabrikam.example", "accept", None)
        .await;
    assert!(
        back.starts_with(&format!("{PUBLIC_BASE}/oauth/admin-consent/callback")),
        "{back}"
    );
    let params: Vec<(String, String)> = query_of(&back).into_iter().collect();
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let response = crate::helpers::call::oauth(
        &h.connector,
        api_request("GET", "/oauth/admin-consent/callback", &params, None, false),
    )
    .await;
    let landing = query_of(&location(&response));
    assert_eq!(landing["admin_consent"], "granted");
    assert_eq!(landing["tenant"], graph_sim::FABRIKAM_TENANT_ID);
    let recorded = h
        .connector
        .store
        .tenant_consent(graph_sim::FABRIKAM_TENANT_ID)
        .await
        .unwrap()
        .expect("the consent is recorded");
    assert_eq!(recorded.status, ConsentStatus::Granted);

    let landing = h.connect(&user, "erin@fabrikam.example").await;
    assert_eq!(landing["status"], "active");
}

#[tokio::test]
async fn replayed_unknown_and_tampered_states_are_rejected_and_write_nothing() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let user = unique("recruiter");
    let authorize = h.start_connect(&user, "alice@contoso.example").await;
    let back = h
        .consent(&authorize, "alice@contoso.example", "accept", None)
        .await;
    let params = query_of(&back);
    let code = params["code"].as_str();
    let state = params["state"].as_str();

    let cookies = h.cookies();
    for bad_state in [format!("{state}x"), unique("state"), String::new()] {
        let q = [("code", code), ("state", bad_state.as_str())];
        let mut request = api_request("GET", "/oauth/callback", &q, None, false);
        request
            .headers_mut()
            .insert("cookie", cookies.parse().unwrap());
        let response = crate::helpers::call::oauth(&h.connector, request).await;
        assert_eq!(response.status(), 400, "state {bad_state:?}");
        // A person's browser gets a page, not a JSON document.
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let page = String::from_utf8(response.body().to_vec()).unwrap();
        assert!(page.contains("connect your mailbox again"), "{page}");
    }
    let listed = crate::helpers::call::connections(
        &h.connector,
        h.api("GET", "/connections", &[("user_id", &user)], None),
    )
    .await;
    assert_eq!(
        body(listed).await["connections"],
        json!([]),
        "nothing written"
    );

    // The genuine callback works once; its replay is rejected.
    let first = h.callback_with(&back, Some(&cookies)).await;
    assert_eq!(first.status(), 302);
    let replay = h.callback_with(&back, Some(&cookies)).await;
    assert_eq!(replay.status(), 400);
}

#[tokio::test]
async fn a_failed_code_exchange_redirects_with_an_error_and_writes_nothing() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let user = unique("recruiter");
    let authorize = h.start_connect(&user, "alice@contoso.example").await;
    let back = h
        .consent(&authorize, "alice@contoso.example", "accept", None)
        .await;
    let params = query_of(&back);
    let tampered = format!("{}x", params["code"]);
    let q = [
        ("code", tampered.as_str()),
        ("state", params["state"].as_str()),
    ];
    let mut request = api_request("GET", "/oauth/callback", &q, None, false);
    request
        .headers_mut()
        .insert("cookie", h.cookies().parse().unwrap());
    let response = crate::helpers::call::oauth(&h.connector, request).await;
    let landing = query_of(&location(&response));
    assert_eq!(landing["error"], "token_exchange_failed");
    let list = crate::helpers::call::connections(
        &h.connector,
        h.api("GET", "/connections", &[("user_id", &user)], None),
    )
    .await;
    assert_eq!(body(list).await["connections"], json!([]));
    assert!(h.events().await.is_empty());
}

#[tokio::test]
async fn bad_input_to_the_api_is_a_clear_4xx() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let unknown = format!("/connections/{}", ConnectionId::new_random());
    /// (method, path, body, expected status, field named in the problem)
    type Case<'a> = (&'a str, &'a str, Option<Value>, u16, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/connections",
            Some(json!({"user_id": "u", "return_url": "https://evil.example/x"})),
            400,
            Some("return_url"),
        ),
        (
            "POST",
            "/connections",
            Some(json!({"user_id": "", "return_url": RETURN_URL})),
            400,
            Some("user_id"),
        ),
        (
            "POST",
            "/connections",
            Some(json!({"user_id": "x".repeat(500), "return_url": RETURN_URL})),
            400,
            Some("user_id"),
        ),
        (
            "POST",
            "/connections",
            Some(json!({"user_id": "u", "return_url": RETURN_URL, "prompt": "always"})),
            400,
            Some("prompt"),
        ),
        (
            "POST",
            "/connections",
            Some(json!({"user_id": "u"})),
            400,
            None,
        ),
        (
            "POST",
            "/connections",
            Some(json!({"user_id": "u", "return_url": RETURN_URL, "extra": 1})),
            400,
            None,
        ),
        (
            "POST",
            "/admin-consents",
            Some(json!({"tenant": "contoso", "return_url": RETURN_URL})),
            400,
            Some("tenant"),
        ),
        (
            "POST",
            "/connections",
            Some(
                json!({"user_id": "u", "return_url": RETURN_URL, "login_hint": "a".repeat(70000)}),
            ),
            413,
            None,
        ),
        (
            "GET",
            "/connections/not-a-uuid",
            None,
            400,
            Some("connection_id"),
        ),
        ("GET", &unknown, None, 404, None),
        ("PUT", "/connections", None, 405, None),
    ];
    for (method, path, payload, status, field) in cases {
        let response = crate::helpers::call::connections(
            &h.connector,
            h.api(method, path, &[], payload.clone()),
        )
        .await;
        assert_eq!(response.status(), status, "{method} {path} {payload:?}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let b = body(response).await;
        if let Some(field) = field {
            assert_eq!(b["field"], field, "{b}");
        }
    }
    // Malformed JSON.
    let mut request = h.api("POST", "/connections", &[], None);
    *request.body_mut() = lambda_http::Body::from("{not json");
    request
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    assert_eq!(
        crate::helpers::call::connections(&h.connector, request)
            .await
            .status(),
        400
    );
    // No API key.
    let anonymous = api_request("POST", "/connections", &[], Some(json!({})), false);
    assert_eq!(
        crate::helpers::call::connections(&h.connector, anonymous)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn deleting_a_connection_answers_202_then_forgets_everything_and_is_idempotent() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let landing = h
        .connect(&unique("recruiter"), "alice@contoso.example")
        .await;
    let id = landing["connection_id"].clone();
    h.events().await;
    // Not this test's subject: the first sync (its subscriptions could not be validated here).
    h.sync_jobs().await;
    let delete = || {
        crate::helpers::call::connections(
            &h.connector,
            h.api("DELETE", &format!("/connections/{id}"), &[], None),
        )
    };
    let get = || {
        crate::helpers::call::connections(
            &h.connector,
            h.api("GET", &format!("/connections/{id}"), &[], None),
        )
    };

    let response = delete().await;
    assert_eq!(response.status(), 202);
    assert_eq!(body(response).await["status"], "deleting");
    let response = get().await;
    assert_eq!(response.status(), 200);
    assert_eq!(body(response).await["status"], "deleting");
    assert_eq!(delete().await.status(), 202, "repeated while deleting");
    let jobs = h.sync_jobs().await;
    assert!(
        !jobs.is_empty() && jobs.iter().all(|j| j["kind"] == "purge"),
        "{jobs:?}"
    );
    for job in &jobs {
        h.connector
            .queue
            .enqueue(
                &serde_json::from_value(job.clone()).unwrap(),
                &unique("again"),
            )
            .await
            .unwrap();
    }
    crate::sync::run_worker(&h, std::time::Duration::from_millis(300)).await;

    let items = h
        .stack
        .aws
        .dynamodb
        .query()
        .table_name(&h.stack.config.table_name)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("CONN#{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(items.count, 0, "no item of the connection remains");
    let claim = h
        .connector
        .store
        .find_connection_by_mailbox(
            graph_sim::CONTOSO_TENANT_ID,
            "a11ce000-0000-4000-8000-00000000a11c",
        )
        .await
        .unwrap();
    assert_eq!(claim, None);
    let events = h.events().await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e["detail-type"] == "connection.deleted")
            .count(),
        1
    );

    assert_eq!(get().await.status(), 404);
    assert_eq!(delete().await.status(), 204, "gone (or never known): 204");
    let unknown = ConnectionId::new_random();
    let response = crate::helpers::call::connections(
        &h.connector,
        h.api("DELETE", &format!("/connections/{unknown}"), &[], None),
    )
    .await;
    assert_eq!(response.status(), 204);
}

/// Makes the stored access token look expired so the next call must refresh.
async fn expire_access_token(h: &Harness, id: &ConnectionId) {
    let mut tokens = h.connector.store.get_tokens(id).await.unwrap().unwrap();
    let version = tokens.version;
    tokens.access_expires_at = Utc::now() - Duration::minutes(1);
    tokens.version += 1;
    h.connector
        .store
        .put_tokens(id, &tokens, Some(version))
        .await
        .unwrap();
}

#[tokio::test]
async fn twenty_concurrent_callers_on_an_expired_token_cause_one_token_request() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let landing = h.connect(&unique("recruiter"), "bob@contoso.example").await;
    let id = ConnectionId::parse(&landing["connection_id"]).unwrap();
    expire_access_token(&h, &id).await;
    let before = h
        .sim_requests("/organizations/oauth2/v2.0/token")
        .await
        .len();

    let calls = (0..20).map(|_| m365_connector::tokens::access_token(&h.connector, &id));
    let results = futures::future::join_all(calls).await;

    let tokens: std::collections::HashSet<String> = results
        .into_iter()
        .map(|r| secrecy::ExposeSecret::expose_secret(&r.expect("a token")).to_owned())
        .collect();
    assert_eq!(tokens.len(), 1, "everyone got the one refreshed token");
    let after = h
        .sim_requests("/organizations/oauth2/v2.0/token")
        .await
        .len();
    assert_eq!(after - before, 1, "exactly one refresh");
    let stored = h.connector.store.get_tokens(&id).await.unwrap().unwrap();
    assert!(stored.access_expires_at > Utc::now() + Duration::minutes(30));
}

#[tokio::test]
async fn a_revoked_user_becomes_reauth_required_with_exactly_one_event() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let landing = h
        .connect(&unique("recruiter"), "carol@contoso.example")
        .await;
    let id = ConnectionId::parse(&landing["connection_id"]).unwrap();
    h.events().await;
    h.control(
        reqwest::Method::POST,
        "/_sim/users/carol@contoso.example/revoke",
        None,
    )
    .await;
    expire_access_token(&h, &id).await;

    for _ in 0..3 {
        let err = m365_connector::tokens::access_token(&h.connector, &id)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                m365_connector::tokens::TokenServiceError::ReauthRequired { .. }
            ),
            "{err:?}"
        );
    }

    let c = h.get_connection(id.as_str()).await;
    assert_eq!(c["status"], "reauth_required");
    assert!(c["last_error"].as_str().is_some_and(|e| !e.is_empty()));
    let events = h.events().await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e["detail-type"] == "connection.reauth_required")
            .count(),
        1,
        "{events:?}"
    );
}

#[tokio::test]
async fn a_transient_identity_outage_does_not_flip_the_status() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let landing = h
        .connect(&unique("recruiter"), "alice@contoso.example")
        .await;
    let id = ConnectionId::parse(&landing["connection_id"]).unwrap();
    expire_access_token(&h, &id).await;
    h.control(
        reqwest::Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "unavailable", "path": "/organizations/oauth2/v2.0/token", "retryAfter": 0})),
    )
    .await;

    let err = m365_connector::tokens::access_token(&h.connector, &id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, m365_connector::tokens::TokenServiceError::Transient(_)),
        "{err:?}"
    );
    assert_eq!(h.get_connection(id.as_str()).await["status"], "active");

    h.control(reqwest::Method::DELETE, "/_sim/faults", None)
        .await;
    assert!(
        m365_connector::tokens::access_token(&h.connector, &id)
            .await
            .is_ok(),
        "recovers once it is back"
    );
}

/// Signs in on the simulator's page and expects one of Entra's approval pages (not a redirect);
/// returns its HTML.
async fn approval_page(h: &Harness, authorize: &str, login: &str) -> String {
    let page = h.browser.get(authorize).send().await.unwrap();
    let html = page.text().await.unwrap();
    let flow = crate::helpers::hidden(&html, "flow").expect("flow field");
    let response = post_form(
        h,
        &html,
        &[("flow", &flow), ("login", login), ("action", "accept")],
    )
    .await;
    assert_eq!(response.status(), 200, "an Entra page, not a redirect");
    response.text().await.unwrap()
}

/// "Return to the application without granting consent"; returns the redirect's Location.
async fn return_from(h: &Harness, html: &str) -> String {
    let flow = crate::helpers::hidden(html, "flow").expect("flow field");
    let response = post_form(h, html, &[("flow", &flow), ("action", "return")]).await;
    assert_eq!(response.status(), 302);
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn post_form(h: &Harness, html: &str, form: &[(&str, &str)]) -> reqwest::Response {
    let start = html.find("action=\"").unwrap() + 8;
    let action = html[start..start + html[start..].find('"').unwrap()].replace("&amp;", "&");
    h.browser
        .post(action)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn under_microsofts_default_consent_policy_a_user_lands_with_admin_consent_required() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    h.user_consent("contoso.example", "microsoftManaged").await;
    let authorize = h
        .start_connect(&unique("recruiter"), "alice@contoso.example")
        .await;
    let page = approval_page(&h, &authorize, "alice@contoso.example").await;
    assert!(page.contains("AADSTS90094"));
    let back = return_from(&h, &page).await;
    let landing = query_of(&h.callback(&back).await);
    assert_eq!(landing["error"], "admin_consent_required", "{landing:?}");
    assert_eq!(landing["next"], "admin_consent");
    assert_eq!(landing["error_subcode"], "cancel");
    assert!(!landing["error_description"].is_empty());
    assert!(!landing.contains_key("connection_id"));
    assert!(h.events().await.is_empty());
}

#[tokio::test]
async fn a_user_who_declines_is_told_apart_from_a_missing_admin_approval() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let authorize = h
        .start_connect(&unique("recruiter"), "carol@contoso.example")
        .await;
    let back = h
        .consent(&authorize, "carol@contoso.example", "cancel", None)
        .await;
    let landing = query_of(&h.callback(&back).await);
    assert_eq!(landing["error"], "access_denied");
    assert_eq!(landing["next"], "retry");
    assert!(landing["error_description"].starts_with("AADSTS65004"));
}

#[tokio::test]
async fn a_user_not_assigned_to_the_app_lands_with_user_not_assigned() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let request = h.api(
        "POST",
        "/connections",
        &[],
        Some(
            json!({"user_id": unique("recruiter"), "return_url": RETURN_URL,
            "login_hint": "oscar@northwind.example", "prompt": "none"}),
        ),
    );
    let response = crate::helpers::call::connections(&h.connector, request).await;
    assert_eq!(response.status(), 201);
    let start = body(response).await["start_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let authorize = h.follow_start(&start).await;
    // Silent sign-in comes back; an interactive one ends on Entra's AADSTS50105 page.
    let back = h.browser.get(&authorize).send().await.unwrap();
    assert_eq!(back.status(), 302);
    let back = back.headers()["location"].to_str().unwrap().to_owned();
    let landing = query_of(&h.callback(&back).await);
    assert_eq!(landing["error"], "user_not_assigned", "{landing:?}");
    assert_eq!(landing["next"], "assign_user");
    assert!(landing["error_description"].starts_with("AADSTS50105"));
}

#[tokio::test]
async fn a_tenant_without_exchange_online_connects_as_unsupported_mailbox() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let landing = h
        .connect(&unique("recruiter"), "tom@tailspin.example")
        .await;
    assert_eq!(landing["status"], "unsupported_mailbox", "{landing:?}");
    let c = h.get_connection(&landing["connection_id"]).await;
    assert!(
        c["last_error"]
            .as_str()
            .unwrap()
            .contains("no Exchange Online"),
        "{c}"
    );
    assert!(h.sync_jobs().await.is_empty());
}

#[tokio::test]
async fn a_user_without_a_mailbox_licence_connects_as_unsupported_mailbox() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let landing = h.connect(&unique("recruiter"), "uma@contoso.example").await;
    assert_eq!(landing["status"], "unsupported_mailbox", "{landing:?}");
    let c = h.get_connection(&landing["connection_id"]).await;
    assert!(c["last_error"].as_str().unwrap().contains("licence"), "{c}");
    assert_eq!(c["email"], "uma@contoso.example");
}

#[tokio::test]
async fn a_graph_outage_after_sign_in_lands_on_the_return_url() {
    // Seeded mailboxes are shared by every suite on the shared table: take turns.
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let authorize = h
        .start_connect(&unique("recruiter"), "bob@contoso.example")
        .await;
    let back = h
        .consent(&authorize, "bob@contoso.example", "accept", None)
        .await;
    h.control(
        reqwest::Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "unavailable", "path": "/v1.0/me", "retryAfter": 0})),
    )
    .await;
    let landing = query_of(&h.callback(&back).await);
    assert_eq!(landing["error"], "graph_unavailable", "{landing:?}");
    assert_eq!(landing["next"], "retry");
    assert!(!landing.contains_key("connection_id"));
}
