//! The graph-webhook function against the local stack: real subscription records in DynamoDB
//! (moto), a FIFO sync queue of the test's own, requests shaped as API Gateway (payload 2.0)
//! delivers them.

use integration_tests::Wired as _;

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use m365_connector::domain::ConnectionId;
use m365_connector::store::{client_state_hash, SubscriptionRecord};
use serde_json::{json, Value};

use crate::helpers::{unique, Harness};
use integration_tests::Meter;

pub(crate) const NOTIFICATIONS: &str = "/webhooks/graph/notifications";
const LIFECYCLE: &str = "/webhooks/graph/lifecycle";

/// An API Gateway HTTP API (payload 2.0) POST, parsed the way the Lambda runtime parses it.
pub fn webhook_request(path: &str, raw_query: &str, body: Option<&str>) -> lambda_http::Request {
    let mut event = json!({
        "version": "2.0",
        "routeKey": format!("POST {path}"),
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": {"host": "api.example", "content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "api.example",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "52.159.23.209", "userAgent": "Microsoft-Graph-ChangeTracking/1.0"},
            "requestId": "r", "routeKey": format!("POST {path}"), "stage": "$default",
            "time": "27/Nov/2026:16:40:00 +0000", "timeEpoch": 1795797600000u64
        },
        "isBase64Encoded": false
    });
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

/// A subscription of `connection` in `tenant`, stored as the mail-sync function stores it.
async fn subscribe(
    h: &Harness,
    connection: &ConnectionId,
    tenant: &str,
    client_state: &str,
) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    h.stack
        .store
        .put_subscription(&SubscriptionRecord {
            id: id.clone(),
            connection_id: connection.clone(),
            tenant_id: tenant.into(),
            folder: "inbox".into(),
            resource: "me/mailFolders('inbox')/messages".into(),
            client_state_hash: client_state_hash(client_state),
            expires_at: Utc::now() + Duration::days(3),
        })
        .await
        .unwrap();
    id
}

fn change(subscription: &str, client_state: &str, tenant: &str, message: &str) -> Value {
    json!({
        "id": unique("n"),
        "subscriptionId": subscription,
        "subscriptionExpirationDateTime": "2026-12-01T18:23:45.935Z",
        "clientState": client_state,
        "changeType": "created",
        "resource": format!("Users/u/Messages/{message}"),
        "tenantId": tenant,
        "resourceData": {"@odata.type": "#Microsoft.Graph.Message", "id": message}
    })
}

fn batch(items: &[Value]) -> String {
    json!({ "value": items }).to_string()
}

pub(crate) async fn post(
    h: &Harness,
    path: &str,
    body: &str,
) -> lambda_http::Response<lambda_http::Body> {
    crate::helpers::call::graph_webhook(&h.connector, webhook_request(path, "", Some(body))).await
}

/// Every message on the test's sync queue as (message group, job), drained.
async fn queued(h: &Harness) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    loop {
        let received = h
            .stack
            .aws
            .sqs()
            .receive_message()
            .queue_url(&h.sync_queue)
            .max_number_of_messages(10)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId,
            )
            .send()
            .await
            .unwrap();
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return out;
        }
        for m in messages {
            let group = m.attributes().unwrap()
                [&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId]
                .clone();
            out.push((group, serde_json::from_str(m.body().unwrap()).unwrap()));
            h.stack
                .aws
                .sqs()
                .delete_message()
                .queue_url(&h.sync_queue)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn forged_notifications_enqueue_nothing_and_still_get_202() {
    let h = Harness::start().await;
    let tenant = uuid::Uuid::new_v4().to_string();
    let other_tenant = uuid::Uuid::new_v4().to_string();
    let connection = ConnectionId::new_random();
    let sub = subscribe(&h, &connection, &tenant, "the-real-state").await;

    let response = post(
        &h,
        NOTIFICATIONS,
        &batch(&[
            change(&sub, "a-guessed-state", &tenant, "m1"),
            change(
                &uuid::Uuid::new_v4().to_string(),
                "the-real-state",
                &tenant,
                "m2",
            ),
            change(&sub, "the-real-state", &other_tenant, "m3"),
        ]),
    )
    .await;

    assert_eq!(response.status(), 202);
    assert!(response.body().is_empty());
    assert!(queued(&h).await.is_empty());
}

#[tokio::test]
async fn a_batch_with_forged_items_emits_the_forged_item_metric_without_their_secrets() {
    let h = Harness::start().await;
    let tenant = uuid::Uuid::new_v4().to_string();
    let connection = ConnectionId::new_random();
    let sub = subscribe(&h, &connection, &tenant, "the-real-state").await;
    let body = batch(&[
        change(&sub, "the-real-state", &tenant, "m1"),
        change(&sub, "a-guessed-state", &tenant, "m2"),
        change(
            &uuid::Uuid::new_v4().to_string(),
            "another-guess",
            &tenant,
            "m3",
        ),
    ]);

    let (response, lines) = m365_connector::metrics::capture(post(&h, NOTIFICATIONS, &body)).await;

    assert_eq!(response.status(), 202);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line: Value = serde_json::from_str(&lines[0]).unwrap();
    let directive = &line["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "M365Connector");
    assert_eq!(directive["Dimensions"], json!([["Stack"]]));
    let names: Vec<&str> = directive["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["NotificationItems", "ForgedNotificationItems"]);
    assert_eq!(line["NotificationItems"], 3);
    assert_eq!(line["ForgedNotificationItems"], 2);
    assert_eq!(line["level"], "WARN");
    for secret in [
        "the-real-state",
        "a-guessed-state",
        "another-guess",
        sub.as_str(),
        &tenant,
    ] {
        assert!(!lines[0].contains(secret), "{secret} in {}", lines[0]);
    }
}

#[tokio::test]
async fn notifications_for_three_mailboxes_enqueue_one_catch_up_per_mailbox_in_its_group() {
    let h = Harness::start().await;
    let tenant = uuid::Uuid::new_v4().to_string();
    let mut items = Vec::new();
    let mut connections = Vec::new();
    for n in 0..3 {
        let connection = ConnectionId::new_random();
        let inbox = subscribe(&h, &connection, &tenant, &format!("inbox-{n}")).await;
        let sent = subscribe(&h, &connection, &tenant, &format!("sent-{n}")).await;
        for m in 0..3 {
            items.push(change(
                &inbox,
                &format!("inbox-{n}"),
                &tenant,
                &format!("i{n}{m}"),
            ));
            items.push(change(
                &sent,
                &format!("sent-{n}"),
                &tenant,
                &format!("s{n}{m}"),
            ));
        }
        connections.push(connection);
    }
    // A forged item in the same batch changes nothing for the genuine ones.
    items.push(change(&uuid::Uuid::new_v4().to_string(), "x", &tenant, "f"));

    let response = post(&h, NOTIFICATIONS, &batch(&items)).await;

    assert_eq!(response.status(), 202);
    let jobs: BTreeMap<String, Value> = queued(&h).await.into_iter().collect();
    let expected: BTreeMap<String, Value> = connections
        .iter()
        .map(|c| {
            (
                c.to_string(),
                json!({"kind": "catch_up", "connection_id": c.to_string()}),
            )
        })
        .collect();
    assert_eq!(jobs, expected);
}

#[tokio::test]
async fn a_duplicated_item_and_a_retried_batch_enqueue_one_job() {
    let h = Harness::start().await;
    let tenant = uuid::Uuid::new_v4().to_string();
    let connection = ConnectionId::new_random();
    let sub = subscribe(&h, &connection, &tenant, "state").await;
    let item = change(&sub, "state", &tenant, "m1");
    let body = batch(&[item.clone(), item]);

    assert_eq!(post(&h, NOTIFICATIONS, &body).await.status(), 202);
    // Graph retries a batch it got no timely 2xx for: SQS deduplication absorbs it.
    assert_eq!(post(&h, NOTIFICATIONS, &body).await.status(), 202);

    let jobs = queued(&h).await;
    assert_eq!(
        jobs,
        vec![(
            connection.to_string(),
            json!({"kind": "catch_up", "connection_id": connection.to_string()})
        )]
    );
}

#[tokio::test]
async fn lifecycle_notifications_enqueue_one_job_per_subscription_and_event() {
    let h = Harness::start().await;
    let tenant = uuid::Uuid::new_v4().to_string();
    let connection = ConnectionId::new_random();
    let sub = subscribe(&h, &connection, &tenant, "state").await;
    let lifecycle = |event: &str| {
        json!({"subscriptionId": sub, "subscriptionExpirationDateTime": "2026-12-01T18:23:45.935Z",
               "tenantId": tenant, "clientState": "state", "lifecycleEvent": event})
    };
    let body = batch(&[
        lifecycle("subscriptionRemoved"),
        lifecycle("missed"),
        lifecycle("missed"),
        lifecycle("reauthorizationRequired"),
    ]);

    let response = post(&h, LIFECYCLE, &body).await;

    assert_eq!(response.status(), 202);
    let jobs = queued(&h).await;
    assert!(jobs.iter().all(|(g, _)| g == connection.as_str()));
    let mut events: Vec<String> = jobs
        .iter()
        .map(|(_, j)| {
            assert_eq!(j["kind"], "lifecycle");
            assert_eq!(j["subscription_id"], sub.as_str());
            j["event"].as_str().unwrap().to_owned()
        })
        .collect();
    events.sort();
    assert_eq!(
        events,
        ["missed", "reauthorizationRequired", "subscriptionRemoved"]
    );
}

#[tokio::test]
async fn a_validation_request_gets_the_exact_decoded_token_back_as_plain_text() {
    let h = Harness::start().await;
    let tokens = [
        "Validation: Testing client application reachability for subscription Request-Id: 5a6f1c2e",
        "<script>alert(1)</script>",
        "a&b=c",
        "1+1=2",
        "100%",
        "%41 literally",
        "ünïcødé ✓",
    ];
    for token in tokens {
        // Graph form-encodes the token ('+' for space); percent-encoding ('%20') decodes the same.
        let form: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        let percent = form.replace('+', "%20");
        for path in [NOTIFICATIONS, LIFECYCLE] {
            for query in [
                format!("validationToken={form}"),
                format!("validationToken={percent}"),
            ] {
                let response = crate::helpers::call::graph_webhook(
                    &h.connector,
                    webhook_request(path, &query, None),
                )
                .await;

                assert_eq!(response.status(), 200, "{query}");
                assert_eq!(
                    response.headers()["content-type"],
                    "text/plain; charset=utf-8"
                );
                assert_eq!(response.headers()["x-content-type-options"], "nosniff");
                assert_eq!(
                    std::str::from_utf8(response.body().as_ref()).unwrap(),
                    token,
                    "{query}"
                );
            }
        }
    }
    assert!(queued(&h).await.is_empty());
}

#[tokio::test]
async fn an_overlong_validation_token_is_a_400_naming_the_field() {
    let h = Harness::start().await;
    let query = format!("validationToken={}", "x".repeat(1025));

    let response = crate::helpers::call::graph_webhook(
        &h.connector,
        webhook_request(NOTIFICATIONS, &query, None),
    )
    .await;

    assert_eq!(response.status(), 400);
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(body["field"], "validationToken");
}

#[tokio::test]
async fn a_malformed_batch_is_a_400_and_an_oversized_one_a_413() {
    let h = Harness::start().await;
    for body in ["", "not json", "{\"values\": []}", "{\"value\": 3}"] {
        let response = post(&h, NOTIFICATIONS, body).await;
        assert_eq!(response.status(), 400, "{body:?}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let padding = "x".repeat(1024 * 1024);
    let oversized = format!("{{\"value\": [], \"padding\": \"{padding}\"}}");
    assert_eq!(post(&h, NOTIFICATIONS, &oversized).await.status(), 413);
    assert!(queued(&h).await.is_empty());
}

#[tokio::test]
async fn other_paths_and_methods_are_refused() {
    let h = Harness::start().await;
    let response = crate::helpers::call::graph_webhook(
        &h.connector,
        webhook_request("/webhooks/other", "", None),
    )
    .await;
    assert_eq!(response.status(), 404);
    let mut request = webhook_request(NOTIFICATIONS, "validationToken=x", None);
    *request.method_mut() = lambda_http::http::Method::GET;
    assert_eq!(
        crate::helpers::call::graph_webhook(&h.connector, request)
            .await
            .status(),
        405
    );
}

#[tokio::test]
async fn a_failed_enqueue_is_a_503_so_that_graph_retries() {
    let h = Harness::start().await;
    let tenant = uuid::Uuid::new_v4().to_string();
    let connection = ConnectionId::new_random();
    let sub = subscribe(&h, &connection, &tenant, "state").await;
    let mut config = h.connector.config.clone();
    config.sync_queue_url = format!("{}/does-not-exist.fifo", {
        let url = &h.sync_queue;
        &url[..url.rfind('/').unwrap()]
    });
    let broken = m365_connector::app::Connector::new(config, &h.stack.aws);
    let body = batch(&[change(&sub, "state", &tenant, "m1")]);

    let response = crate::helpers::call::graph_webhook(
        &broken,
        webhook_request(NOTIFICATIONS, "", Some(&body)),
    )
    .await;

    assert_eq!(response.status(), 503);
    let raw = String::from_utf8(response.body().as_ref().to_vec()).unwrap();
    assert!(!raw.contains("does-not-exist"), "{raw}");
}

/// The largest body the webhook takes: 1 MiB.
const MAX_BODY: usize = 1024 * 1024;

/// What an attacker posts: as many minimal items of `tenant` as fit in 1 MB, the n-th naming
/// subscription `id(n)`, with `genuine` (if any) in the middle. Returns the body and its number
/// of items.
pub(crate) fn forged_flood(
    id: impl Fn(usize) -> String,
    tenant: &str,
    genuine: Option<&Value>,
) -> (String, usize) {
    let genuine = genuine.map(Value::to_string).unwrap_or_default();
    let mut items: Vec<String> = Vec::new();
    let mut size = "{\"value\":[]}".len() + genuine.len() + 1;
    for n in 0.. {
        let item = format!(
            r#"{{"subscriptionId":"{}","clientState":"x","tenantId":"{tenant}","changeType":"u"}}"#,
            id(n)
        );
        if size + item.len() + 1 > MAX_BODY {
            break;
        }
        size += item.len() + 1;
        items.push(item);
    }
    if !genuine.is_empty() {
        items.insert(items.len() / 2, genuine);
    }
    let count = items.len();
    (format!("{{\"value\":[{}]}}", items.join(",")), count)
}

/// Calls counted by `meter` to `service` (as the SDK spells it, in any case), of `operation` or
/// of every operation.
pub(crate) fn aws_calls(meter: &Meter, service: &str, operation: Option<&str>) -> u32 {
    meter
        .snapshot()
        .iter()
        .filter(|((s, op), _)| {
            s.eq_ignore_ascii_case(service) && operation.is_none_or(|wanted| op == wanted)
        })
        .map(|(_, usage)| usage.calls)
        .sum()
}

/// Calls of one DynamoDB operation counted by `meter`.
pub(crate) fn dynamodb_calls(meter: &Meter, operation: &str) -> u32 {
    aws_calls(meter, "dynamodb", Some(operation))
}

#[tokio::test]
async fn a_forged_megabyte_of_ids_that_are_not_graph_subscription_ids_costs_no_dynamodb_call() {
    let meter = Meter::default();
    let h = Harness::start_metered(&meter).await;
    // The body of the issue: ~14,000 items, each with its own short id.
    let (body, items) = forged_flood(|n| format!("{n:x}"), "t", None);
    assert!(items > 13_500, "{items} items");
    meter.reset();

    let response = post(&h, NOTIFICATIONS, &body).await;

    assert_eq!(response.status(), 202);
    assert_eq!(
        aws_calls(&meter, "dynamodb", None),
        0,
        "{:?}",
        meter.snapshot()
    );
    assert_eq!(aws_calls(&meter, "sqs", None), 0);
}

#[tokio::test]
async fn a_forged_megabyte_of_guid_shaped_ids_costs_at_most_ten_batch_gets() {
    let meter = Meter::default();
    let h = Harness::start_metered(&meter).await;
    // Every field that is checked before the lookup is shaped as Graph's.
    let tenant = uuid::Uuid::new_v4().to_string();
    let (body, items) = forged_flood(|_| uuid::Uuid::new_v4().to_string(), &tenant, None);
    assert!(items > 6_000, "{items} items");
    meter.reset();

    let response = post(&h, NOTIFICATIONS, &body).await;

    assert_eq!(response.status(), 202);
    // At most 1,000 distinct subscription ids are looked up per POST: 10 BatchGetItem of 100.
    let calls = dynamodb_calls(&meter, "BatchGetItem");
    assert!(calls <= 10, "{calls} BatchGetItem calls");
    assert_eq!(aws_calls(&meter, "dynamodb", None), calls);
    assert_eq!(aws_calls(&meter, "sqs", None), 0);
}

#[tokio::test]
async fn a_genuine_notification_inside_a_forged_flood_is_still_processed_for_one_lookup() {
    let meter = Meter::default();
    let h = Harness::start_metered(&meter).await;
    let tenant = uuid::Uuid::new_v4().to_string();
    let connection = ConnectionId::new_random();
    let sub = subscribe(&h, &connection, &tenant, "the-real-state").await;
    let genuine = change(&sub, "the-real-state", &tenant, "m1");
    let (body, items) = forged_flood(|n| format!("forged-{n}"), &tenant, Some(&genuine));
    assert!(items > 8_000, "{items} items");
    meter.reset();

    for path in [NOTIFICATIONS, LIFECYCLE] {
        assert_eq!(post(&h, path, &body).await.status(), 202, "{path}");
    }

    // One BatchGetItem per POST: the forged ids never reach DynamoDB.
    assert_eq!(dynamodb_calls(&meter, "BatchGetItem"), 2);
    let jobs = queued(&h).await;
    assert_eq!(
        jobs,
        vec![(
            connection.to_string(),
            json!({"kind": "catch_up", "connection_id": connection.to_string()})
        )]
    );
}
