//! Every sample event in events/ parses as an API Gateway HTTP API request, and the handler
//! answers it as its name says: `*-success` 2xx, `*-missing-auth` / `*-unknown-key` 401,
//! `*-bad-*` 400, `*-not-found` 404.

use std::path::{Path, PathBuf};

use crate::helpers::stack;

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn expected_status(name: &str) -> u16 {
    if name.ends_with("-success") {
        200
    } else if name.ends_with("-not-found") {
        404
    } else if name.ends_with("-missing-auth") || name.ends_with("-unknown-key") {
        401
    } else if name.contains("-bad-") {
        400
    } else {
        panic!("event {name}: its name does not say what it expects")
    }
}

fn event_files(function: &str) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(events_dir().join(function))
        .unwrap_or_else(|e| panic!("events/{function}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Functions fed by SQS or a schedule: their samples are checked by their own tests below.
const NON_HTTP_FUNCTIONS: [&str; 3] = ["mail-sync", "send-worker", "subscription-renewal"];

#[test]
fn every_event_file_parses_as_an_http_api_request() {
    let mut count = 0;
    for dir in std::fs::read_dir(events_dir()).unwrap() {
        let dir = dir.unwrap().path();
        if NON_HTTP_FUNCTIONS.contains(&dir.file_name().unwrap().to_string_lossy().as_ref()) {
            continue;
        }
        for (name, body) in event_files(&dir.file_name().unwrap().to_string_lossy()) {
            let request = lambda_http::request::from_str(&body)
                .unwrap_or_else(|e| panic!("{}/{name}: {e}", dir.display()));
            assert!(request.uri().path().starts_with('/'), "{name}");
            expected_status(&name);
            carries_its_route_as_api_gateway_would(&name, &body);
            count += 1;
        }
    }
    assert!(count >= 6, "found only {count} event files");
}

/// `routeKey` (top level and in the request context) is the request's method and the template.yaml
/// route its path matches, and `pathParameters` are that route's parameters (absent when none).
fn carries_its_route_as_api_gateway_would(name: &str, body: &str) {
    let event: serde_json::Value = serde_json::from_str(body).unwrap();
    let method = event["requestContext"]["http"]["method"].as_str().unwrap();
    let path = event["rawPath"].as_str().unwrap();
    let (template, params) = crate::helpers::route_of(path)
        .unwrap_or_else(|| panic!("{name}: no template.yaml route for {path}"));
    let route_key = format!("{method} {template}");
    assert_eq!(event["routeKey"], route_key, "{name}");
    assert_eq!(event["requestContext"]["routeKey"], route_key, "{name}");
    if params.is_empty() {
        assert!(event.get("pathParameters").is_none(), "{name}");
    } else {
        assert_eq!(event["pathParameters"], serde_json::json!(params), "{name}");
    }
}

#[tokio::test]
async fn the_connections_handler_answers_each_sample_event_as_named() {
    let stack = stack().await;
    let state = m365_connector::app::Connector::new(stack.config.clone(), &stack.aws);
    for (name, body) in event_files("connections") {
        let request = lambda_http::request::from_str(&body).unwrap();
        let response = crate::helpers::call::connections(&state, request).await;
        let status = response.status().as_u16();
        let expected = expected_status(&name);
        if expected == 200 {
            assert!((200..300).contains(&status), "{name}: {status}");
            if status == 204 {
                continue;
            }
        } else {
            assert_eq!(status, expected, "{name}");
        }
        let content_type = response.headers()["content-type"].to_str().unwrap();
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        if expected == 200 {
            assert_eq!(content_type, "application/json", "{name}");
            assert!(body.is_object(), "{name}: {body}");
        } else {
            assert_eq!(content_type, "application/problem+json", "{name}");
            assert_eq!(body["status"], status, "{name}");
            assert!(
                body["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{name}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn the_oauth_handler_rejects_each_sample_callback_as_named() {
    let stack = stack().await;
    let connector = m365_connector::app::Connector::new(stack.config.clone(), &stack.aws);
    for (name, body) in event_files("oauth") {
        let response =
            crate::helpers::call::oauth(&connector, lambda_http::request::from_str(&body).unwrap())
                .await;
        assert_eq!(response.status().as_u16(), expected_status(&name), "{name}");
        // These routes answer a person's browser: a page, not a JSON document.
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8",
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_user_without_connections_gets_an_empty_list() {
    let stack = stack().await;
    let state = m365_connector::app::Connector::new(stack.config.clone(), &stack.aws);
    let (_, body) = event_files("connections")
        .into_iter()
        .find(|(n, _)| n == "list-by-user-success")
        .unwrap();
    let user = crate::helpers::unique("nobody");
    let body = body.replace("recruiter-42", &user);

    let response =
        crate::helpers::call::connections(&state, lambda_http::request::from_str(&body).unwrap())
            .await;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"connections": [], "next_cursor": null})
    );
}

#[tokio::test]
async fn the_graph_webhook_handler_answers_each_sample_event_as_named() {
    let stack = stack().await;
    let connector = m365_connector::app::Connector::new(stack.config.clone(), &stack.aws);
    for (name, body) in event_files("graph-webhook") {
        let response = crate::helpers::call::graph_webhook(
            &connector,
            lambda_http::request::from_str(&body).unwrap(),
        )
        .await;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        if expected_status(&name) == 200 {
            assert!((200..300).contains(&status), "{name}: {status}");
            if name.contains("validation") {
                // The sample token, '+' decoded as a space (rawQueryString, WHATWG form rules).
                let text = std::str::from_utf8(response.body().as_ref()).unwrap();
                assert!(
                    text.starts_with("Validation: Testing client"),
                    "{name}: {text}"
                );
                assert_eq!(content_type.as_deref(), Some("text/plain; charset=utf-8"));
            } else {
                assert_eq!(status, 202, "{name}");
            }
        } else {
            assert_eq!(status, expected_status(&name), "{name}");
            assert_eq!(content_type.as_deref(), Some("application/problem+json"));
        }
    }
}

#[test]
fn the_docs_handler_answers_each_sample_event_as_named() {
    let files = event_files("docs");
    assert_eq!(files.len(), 3);
    for (name, body) in files {
        let response = crate::helpers::call::docs(lambda_http::request::from_str(&body).unwrap());
        assert_eq!(response.status().as_u16(), expected_status(&name), "{name}");
    }
}

#[tokio::test]
async fn mail_sync_samples_are_sqs_batches_of_sync_jobs_and_a_bad_body_is_reported_failed() {
    use aws_lambda_events::event::sqs::SqsEvent;
    let files = event_files("mail-sync");
    assert!(!files.is_empty());
    for (name, body) in &files {
        let event: SqsEvent =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("mail-sync/{name}: {e}"));
        for record in &event.records {
            let parsed = serde_json::from_str::<m365_connector::queue::SyncJob>(
                record.body.as_deref().unwrap(),
            );
            assert_eq!(parsed.is_ok(), !name.starts_with("bad-"), "{name}");
            assert!(record.attributes.contains_key("MessageGroupId"), "{name}");
        }
    }
    let (_, bad) = files.iter().find(|(n, _)| n == "bad-body").unwrap();
    let event: SqsEvent = serde_json::from_str(bad).unwrap();
    let stack = stack().await;
    let connector = m365_connector::app::Connector::new(stack.config.clone(), &stack.aws);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let response = mail_sync::process(&connector, event.records.clone(), deadline).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec![event.records[0].message_id.clone().unwrap()]);
}

#[tokio::test]
async fn send_worker_samples_are_send_jobs_a_bad_body_is_reported_failed_and_an_unknown_send_dropped(
) {
    use aws_lambda_events::event::sqs::SqsEvent;
    let files = event_files("send-worker");
    assert!(files.len() >= 2);
    let stack = stack().await;
    let connector = m365_connector::app::Connector::new(stack.config.clone(), &stack.aws);
    let settings = m365_connector::sending::SendSettings::default();
    for (name, body) in &files {
        let event: SqsEvent =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("send-worker/{name}: {e}"));
        for record in &event.records {
            let parsed = serde_json::from_str::<m365_connector::sending::SendJob>(
                record.body.as_deref().unwrap(),
            );
            assert_eq!(parsed.is_ok(), !name.starts_with("bad-"), "{name}");
        }
        let response = send_worker::process(&connector, &settings, event.records.clone()).await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        if name.starts_with("bad-") {
            assert_eq!(
                failed,
                vec![event.records[0].message_id.clone().unwrap()],
                "{name}"
            );
        } else {
            // No record of that send: nothing is sent and the job is not retried.
            assert!(failed.is_empty(), "{name}");
        }
    }
}

#[test]
fn the_subscription_renewal_sample_is_a_scheduled_event_with_a_time() {
    use aws_lambda_events::event::eventbridge::EventBridgeEvent;
    for (name, body) in event_files("subscription-renewal") {
        let event: EventBridgeEvent<serde_json::Value> = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("subscription-renewal/{name}: {e}"));
        assert_eq!(event.detail_type, "Scheduled Event");
        assert!(event.time.is_some(), "{name}");
    }
}
