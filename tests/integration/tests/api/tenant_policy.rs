//! A tenant's access policy (`/tenants/{tenant}/policy`) against moto and the simulator: the
//! default, bad input, `view_only` refusing sends through every connection of the tenant and
//! hiding `mail_send`, `send_and_view` restoring it, `off` disconnecting the tenant's connections
//! exactly as `DELETE /connections/{id}` does (marked `deleting`, purged by the sync queue's purge
//! jobs) and refusing new ones, and the events.
//!
//! Each test has a table of its own (`sync::private_table`): a tenant's policy is one item per
//! tenant, and switching the seeded tenant contoso off on the shared table would disconnect every
//! other test's contoso connections.

use std::time::Duration;

use lambda_http::{Body, Response};
use m365_connector::domain::{AppUserId, TenantAccess, TenantId};
use m365_connector::sending::SendSettings;
use m365_connector::store::TenantPolicyRecord;
use m365_connector::tenants::{self, TenantPolicyError};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{body, connection_for, unique, Harness};
use crate::sync::{connect_and_sync, deliver, harness_with_webhook, private_table};

const ALICE: &str = "alice@contoso.example";
const BOB: &str = "bob@contoso.example";
const ERIN: &str = "erin@fabrikam.example";
const CONTOSO: &str = graph_sim::CONTOSO_TENANT_ID;
const FABRIKAM: &str = graph_sim::FABRIKAM_TENANT_ID;
const TENANT_POLICY_PROBLEM: &str = "urn:m365-connector:problem:tenant-policy";

fn tenant(id: &str) -> TenantId {
    TenantId::parse("tenant", id).unwrap()
}

/// A harness on a table of its own, where fabrikam (whose users may not consent by default)
/// lets erin connect by herself.
async fn harness() -> Harness {
    let mut h = Harness::start().await;
    private_table(&mut h, None).await;
    h.user_consent("fabrikam.example", "allowed").await;
    h
}

async fn call(h: &Harness, request: lambda_http::Request) -> (u16, Value) {
    let response = crate::helpers::call::connections(&h.connector, request).await;
    (response.status().as_u16(), body(response).await)
}

async fn get_policy(h: &Harness, tenant: &str) -> (u16, Value) {
    call(
        h,
        h.api("GET", &format!("/tenants/{tenant}/policy"), &[], None),
    )
    .await
}

async fn put_policy(h: &Harness, tenant: &str, body: Value) -> (u16, Value) {
    call(
        h,
        h.api("PUT", &format!("/tenants/{tenant}/policy"), &[], Some(body)),
    )
    .await
}

/// `PUT` with `access`, which must succeed.
async fn set(h: &Harness, tenant: &str, access: &str) -> Value {
    let (status, policy) = put_policy(h, tenant, json!({"access": access})).await;
    assert_eq!(status, 200, "{policy}");
    policy
}

async fn connect(h: &Harness, login: &str) -> String {
    let landing = h.connect(&unique("recruiter"), login).await;
    assert_eq!(landing["status"], "active", "{landing:?}");
    landing["connection_id"].clone()
}

async fn send(h: &Harness, id: &str, subject: &str, key: &str) -> Response<Body> {
    let mut request = h.api(
        "POST",
        &format!("/connections/{id}/messages"),
        &[],
        Some(json!({
            "to": [{"address": "candidate@external.example"}],
            "subject": subject,
            "body": {"content_type": "text", "content": "Are you free on Tuesday?"},
        })),
    );
    request
        .headers_mut()
        .insert("idempotency-key", key.parse().unwrap());
    let response = crate::helpers::call::send_mail(&h.connector, request).await;
    if response.status() == 202 {
        // Accepted: the worker sends it.
        h.run_send_jobs(&SendSettings::default()).await;
    }
    response
}

/// Messages of a simulated mailbox's folder with `subject`, once Exchange submitted everything.
async fn in_folder(h: &Harness, address: &str, folder: &str, subject: &str) -> usize {
    for _ in 0..400 {
        let s = h.control(Method::GET, "/_sim/settings", None).await;
        if s["pendingSubmissions"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let messages = h
        .control(
            Method::GET,
            &format!("/_sim/mailboxes/{address}/messages?folder={folder}"),
            None,
        )
        .await;
    messages["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["subject"] == subject)
        .count()
}

fn policy_changes(events: &[Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .filter(|e| e["detail-type"] == "tenant.policy_changed")
        .map(|e| {
            let d = &e["detail"];
            (
                d["tenant"].as_str().unwrap().to_owned(),
                d["old_access"].as_str().unwrap().to_owned(),
                d["new_access"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn deleted_connections(events: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .filter(|e| e["detail-type"] == "connection.deleted")
        .map(|e| e["detail"]["connection_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Every item of the (private) table that belongs to connection `id`: its own partition, its
/// counterpart entries, its subscriptions' records (indexed under it in gsi2).
async fn items_of(h: &Harness, id: &str) -> usize {
    let mut count = 0;
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
        count += page
            .items()
            .iter()
            .filter(|item| {
                ["pk", "gsi1pk", "gsi2pk"].iter().any(|k| {
                    item.get(*k)
                        .and_then(|v| v.as_s().ok())
                        .is_some_and(|v| v.contains(id))
                })
            })
            .count();
        start = page.last_evaluated_key;
        if start.is_none() {
            return count;
        }
    }
}

#[tokio::test]
async fn a_tenant_nobody_set_is_send_and_view_and_bad_input_is_a_400_that_writes_nothing() {
    let h = harness().await;
    let fresh = uuid::Uuid::new_v4().to_string();

    let (status, policy) = get_policy(&h, &fresh).await;
    assert_eq!(status, 200);
    assert_eq!(
        policy,
        json!({"tenant": fresh, "access": "send_and_view", "updated_at": null})
    );

    for bad_tenant in ["contoso.example", "not-a-guid", "6f4d2c1a-3b5e-4c7d-8e9f"] {
        for (method, body) in [("GET", None), ("PUT", Some(json!({"access": "off"})))] {
            let (status, problem) = call(
                &h,
                h.api(method, &format!("/tenants/{bad_tenant}/policy"), &[], body),
            )
            .await;
            assert_eq!(status, 400, "{method} {bad_tenant}: {problem}");
            assert_eq!(problem["field"], "tenant", "{problem}");
            assert_eq!(
                problem["type"],
                "urn:m365-connector:problem:invalid-request"
            );
        }
    }
    let bad_bodies = [
        (json!({}), Some("access")),
        (json!({"access": "read_only"}), Some("access")),
        (json!({"access": "VIEW_ONLY"}), Some("access")),
        (json!({"access": null}), Some("access")),
        (json!({"access": 1}), None),
        (json!({"access": "off", "tenant": CONTOSO}), None),
        (json!(["off"]), None),
    ];
    for (bad, field) in bad_bodies {
        let (status, problem) = put_policy(&h, &fresh, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {problem}");
        assert_eq!(problem["field"].as_str(), field, "{bad}: {problem}");
    }
    let mut not_json = h.api("PUT", &format!("/tenants/{fresh}/policy"), &[], None);
    not_json
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    *not_json.body_mut() = Body::from("access=off");
    assert_eq!(call(&h, not_json).await.0, 400);
    let without_content_type = h.api("PUT", &format!("/tenants/{fresh}/policy"), &[], None);
    assert_eq!(call(&h, without_content_type).await.0, 400);

    assert_eq!(h.connector.store.tenant_policy(&fresh).await.unwrap(), None);
    let (_, policy) = get_policy(&h, &fresh).await;
    assert_eq!(policy["access"], "send_and_view");
    assert!(policy_changes(&h.events().await).is_empty());
}

#[tokio::test]
async fn view_only_refuses_sending_through_every_connection_of_the_tenant_until_send_and_view() {
    let h = harness().await;
    let alice = connect(&h, ALICE).await;
    let erin = connect(&h, ERIN).await;
    h.events().await;

    let policy = set(&h, CONTOSO, "view_only").await;

    assert_eq!(policy["tenant"], CONTOSO);
    assert_eq!(policy["access"], "view_only");
    assert!(policy["updated_at"].is_string(), "{policy}");
    assert!(policy.get("disconnected").is_none(), "{policy}");
    assert_eq!(get_policy(&h, CONTOSO).await.1["access"], "view_only");
    // A connection made while the tenant is view_only cannot send either.
    let bob = connect(&h, BOB).await;
    let graph_calls_before = h.sim_requests("/v1.0/me").await.len();
    for (id, who) in [(&alice, "alice"), (&bob, "bob")] {
        let response = send(&h, id, &format!("Refused {who}"), &format!("{who}-1")).await;
        assert_eq!(response.status(), 403, "{who}");
        let problem = body(response).await;
        assert_eq!(problem["type"], TENANT_POLICY_PROBLEM, "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("policy"),
            "{problem}"
        );
        let view = h.get_connection(id).await;
        assert_eq!(
            view["capabilities"],
            json!(["mail_read", "calendar"]),
            "{who}"
        );
        assert!(
            view["scopes"]
                .as_array()
                .unwrap()
                .contains(&json!("Mail.Send")),
            "the granted scopes are kept: {view}"
        );
    }
    assert_eq!(
        h.sim_requests("/v1.0/me").await.len(),
        graph_calls_before,
        "a refused send makes no Graph call: nothing is drafted or queued"
    );
    assert_eq!(in_folder(&h, ALICE, "drafts", "Refused alice").await, 0);
    assert_eq!(in_folder(&h, ALICE, "sentitems", "Refused alice").await, 0);
    let (status, list) = call(&h, h.api("GET", "/connections", &[], None)).await;
    assert_eq!(status, 200);
    for c in list["connections"].as_array().unwrap() {
        let expected = if c["tenant_id"] == CONTOSO {
            json!(["mail_read", "calendar"])
        } else {
            json!(["mail_read", "mail_send", "calendar"])
        };
        assert_eq!(c["capabilities"], expected, "{c}");
    }
    // Another tenant's connection still sends.
    let response = send(&h, &erin, "From fabrikam", "erin-1").await;
    assert_eq!(response.status(), 202);

    set(&h, CONTOSO, "send_and_view").await;

    // The key of the refused send was not spent: the retry sends.
    let response = send(&h, &alice, "Refused alice", "alice-1").await;
    assert_eq!(response.status(), 202, "{:?}", body(response).await);
    assert_eq!(in_folder(&h, ALICE, "sentitems", "Refused alice").await, 1);
    assert_eq!(
        h.get_connection(&bob).await["capabilities"],
        json!(["mail_read", "mail_send", "calendar"])
    );
    assert_eq!(
        policy_changes(&h.events().await),
        [
            (CONTOSO.into(), "send_and_view".into(), "view_only".into()),
            (CONTOSO.into(), "view_only".into(), "send_and_view".into()),
        ]
    );
}

#[tokio::test]
async fn off_disconnects_each_connection_of_the_tenant_as_delete_does_and_refuses_new_ones() {
    let h = harness_with_webhook().await;
    h.user_consent("fabrikam.example", "allowed").await;
    for (mailbox, subject) in [(ALICE, "to alice"), (BOB, "to bob"), (ERIN, "to erin")] {
        deliver(&h, mailbox, "candidate@external.example", subject).await;
    }
    let alice = connect_and_sync(&h, ALICE).await;
    let bob = connect_and_sync(&h, BOB).await;
    let erin = connect_and_sync(&h, ERIN).await;
    for id in [&alice, &bob, &erin] {
        assert!(
            items_of(&h, id).await >= 5,
            "record, tokens, cursors, a message, subscriptions"
        );
    }
    assert_eq!(h.sim_subscriptions_of(ALICE).await, 3);
    h.events().await;
    assert!(
        tenants::admits_new_connections(&h.connector.store, &tenant(CONTOSO))
            .await
            .is_ok()
    );

    // A sign-in finished just before the switch, its result not yet claimed.
    let starter = unique("recruiter");
    let pending = h.signed_in(&starter, "carol@contoso.example", true).await["result"].clone();

    let policy = set(&h, CONTOSO, "off").await;

    assert_eq!(policy["access"], "off");
    assert_eq!(policy["disconnected"], 2);
    for id in [&alice, &bob] {
        assert_eq!(h.get_connection(id).await["status"], "deleting");
    }
    // The purge jobs run on the sync queue.
    crate::sync::run_worker(&h, Duration::from_millis(300)).await;
    // The connect flow refuses the tenant: the pending result cannot be claimed (and is
    // discarded), and a new sign-in lands on the app with `tenant_access_off`.
    let (status, problem) = h.claim_status(&pending, &starter).await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["type"], TENANT_POLICY_PROBLEM);
    let landing = h
        .signed_in(&unique("recruiter"), "carol@contoso.example", true)
        .await;
    assert_eq!(landing["error"], "tenant_access_off", "{landing:?}");
    assert_eq!(landing["retryable"], "false");
    assert!(!landing.contains_key("result"));
    for (id, mailbox) in [(&alice, ALICE), (&bob, BOB)] {
        let (status, _) = call(&h, h.api("GET", &format!("/connections/{id}"), &[], None)).await;
        assert_eq!(status, 404);
        let (status, _) = call(
            &h,
            h.api("GET", &format!("/connections/{id}/messages"), &[], None),
        )
        .await;
        assert_eq!(status, 404);
        assert_eq!(
            items_of(&h, id).await,
            0,
            "no item of {mailbox}'s connection remains"
        );
        assert_eq!(h.sim_subscriptions_of(mailbox).await, 0, "{mailbox}");
        let oid = graph_sim::directory::user(mailbox).unwrap().id;
        let claim = h.connector.store.find_connection_by_mailbox(CONTOSO, oid);
        assert_eq!(claim.await.unwrap(), None, "{mailbox}");
    }
    // Fabrikam's connection is untouched.
    let view = h.get_connection(&erin).await;
    assert_eq!(
        view["capabilities"],
        json!(["mail_read", "mail_send", "calendar"])
    );
    assert_eq!(crate::sync::stored_messages(&h, &erin, &[]).await.len(), 1);
    assert_eq!(h.sim_subscriptions_of(ERIN).await, 3);
    let events = h.events().await;
    let mut expected = vec![alice.clone(), bob.clone()];
    expected.sort();
    assert_eq!(deleted_connections(&events), expected);
    assert_eq!(
        policy_changes(&events),
        [(CONTOSO.into(), "send_and_view".into(), "off".into())]
    );
    let detail = &events
        .iter()
        .find(|e| e["detail-type"] == "tenant.policy_changed")
        .unwrap()["detail"];
    assert!(detail["event_id"]
        .as_str()
        .unwrap()
        .starts_with(&format!("tenant.policy_changed:{CONTOSO}:")));

    // New connections are refused while the tenant is off, and admitted again after.
    let refused = tenants::admits_new_connections(&h.connector.store, &tenant(CONTOSO)).await;
    assert!(
        matches!(&refused, Err(TenantPolicyError::ConnectionsRefused { tenant }) if tenant == CONTOSO),
        "{refused:?}"
    );
    let answer = m365_connector::http::ApiError::from(refused.unwrap_err());
    assert_eq!(answer.status(), 403);
    assert_eq!(answer.problem().kind, TENANT_POLICY_PROBLEM);
    assert!(
        tenants::admits_new_connections(&h.connector.store, &tenant(FABRIKAM))
            .await
            .is_ok()
    );
    set(&h, CONTOSO, "view_only").await;
    assert!(
        tenants::admits_new_connections(&h.connector.store, &tenant(CONTOSO))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_off_request_that_stopped_half_way_is_finished_by_repeating_it_and_announced_once() {
    let h = harness().await;
    let alice = connect(&h, ALICE).await;
    // Not this test's subject: the first sync (no webhook here to validate subscriptions).
    h.sync_jobs().await;
    // As a request that wrote the level and then failed before disconnecting anything left it.
    let record = TenantPolicyRecord {
        tenant_id: CONTOSO.into(),
        access: TenantAccess::Off,
        previous: TenantAccess::SendAndView,
        version: 1,
        updated_at: chrono::Utc::now(),
        announced: false,
    };
    h.connector
        .store
        .put_tenant_policy(&record, None)
        .await
        .unwrap();
    // A connection that slipped in meanwhile can do nothing while the tenant is off.
    let view = h.get_connection(&alice).await;
    assert_eq!(view["capabilities"], json!([]));
    let response = send(&h, &alice, "While off", "off-1").await;
    assert_eq!(response.status(), 403);
    assert_eq!(body(response).await["type"], TENANT_POLICY_PROBLEM);
    h.events().await;

    let policy = set(&h, CONTOSO, "off").await;

    assert_eq!(policy["disconnected"], 1);
    crate::sync::run_worker(&h, Duration::from_millis(300)).await;
    let (status, _) = call(
        &h,
        h.api("GET", &format!("/connections/{alice}"), &[], None),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(items_of(&h, &alice).await, 0);
    let events = h.events().await;
    assert_eq!(deleted_connections(&events), [alice.as_str()]);
    assert_eq!(
        policy_changes(&events),
        [(CONTOSO.into(), "send_and_view".into(), "off".into())]
    );

    // A straggler (a sign-in that passed the check just before the switch) goes on the next
    // request; nothing is announced again.
    let mut straggler = connection_for(&AppUserId::parse("u-1").unwrap());
    straggler.tenant_id = CONTOSO.into();
    h.connector
        .store
        .create_connection(&straggler)
        .await
        .unwrap();
    let again = set(&h, CONTOSO, "off").await;
    assert_eq!(again["disconnected"], 1);
    crate::sync::run_worker(&h, Duration::from_millis(300)).await;
    assert_eq!(again["updated_at"], policy["updated_at"]);
    assert_eq!(
        h.connector
            .store
            .get_connection(&straggler.id)
            .await
            .unwrap(),
        None
    );
    let third = set(&h, CONTOSO, "off").await;
    assert_eq!(third["disconnected"], 0);
    let events = h.events().await;
    assert!(policy_changes(&events).is_empty(), "{events:?}");
    assert_eq!(deleted_connections(&events), [straggler.id.to_string()]);
}
