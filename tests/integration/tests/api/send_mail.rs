//! Sending mail as the user (issues 6 and 14), against the simulator and moto: a send is accepted
//! at once (202 and a status resource) and done by the send worker, which the tests run over the
//! harness's own send queue as the SQS event source would. Delivery, replies in the thread,
//! attachments of every size class arriving byte-identical, exactly-once sending across injected
//! crashes, duplicate requests and duplicate jobs, refusals ending `failed` at once, transient
//! failures retried within a bound, and the documented errors.

use integration_tests::Wired as _;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use m365_connector::graph::GraphPolicy;
use m365_connector::sending::{Crash, SendSettings, Step, StepHook};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{body, Harness};

const ALICE: &str = "alice@contoso.example";
const BOB: &str = "bob@contoso.example";

/// API Gateway's HTTP API gives up on an integration after 30 s (its quota "Maximum integration
/// timeout", not adjustable).
const GATEWAY_TIMEOUT: Duration = Duration::from_secs(30);

fn settings() -> SendSettings {
    SendSettings {
        lease: chrono::Duration::seconds(1),
        retry: GraphPolicy::sending()
            .max_attempts(4)
            .wait_budget(Duration::from_secs(3))
            .base_delay(Duration::from_millis(20)),
        max_attempts: 3,
        backoff: Duration::from_millis(500),
        ..SendSettings::default()
    }
}

/// Shared with every module that signs in a seeded mailbox (see the helper's comment).
use crate::helpers::MAILBOXES;

async fn connected(h: &Harness, login: &str) -> String {
    let q = h.connect(&crate::helpers::unique("user"), login).await;
    assert_eq!(q["status"], "active", "{q:?}");
    q["connection_id"].clone()
}

/// A key unique to this harness and safe in a URL path (connections outlive a test run).
fn scoped(h: &Harness, key: &str) -> String {
    let port = h
        .sim
        .base_url()
        .rsplit(':')
        .next()
        .unwrap_or("0")
        .to_owned();
    format!("{port}-{key}")
}

/// `POST path` as the app sends it; the answer's status, `Location` and body.
async fn accept(
    h: &Harness,
    path: &str,
    key: Option<&str>,
    payload: Value,
) -> (u16, Option<String>, Value) {
    let mut request = h.api("POST", path, &[], Some(payload));
    if let Some(key) = key {
        request
            .headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
    }
    let response = crate::helpers::call::send_mail(&h.connector, request).await;
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), location, body(response).await)
}

/// `GET /connections/{id}/sends/{key}`.
async fn send_status(h: &Harness, connection: &str, key: &str) -> (u16, Value) {
    let path = format!("/connections/{connection}/sends/{key}");
    let response =
        crate::helpers::call::send_mail(&h.connector, h.api("GET", &path, &[], None)).await;
    (response.status().as_u16(), body(response).await)
}

/// Accepts a send, runs the worker, and answers the send's final status.
async fn send(h: &Harness, path: &str, key: Option<&str>, payload: Value) -> Value {
    let (status, _, accepted) = accept(h, path, key, payload).await;
    assert_eq!(status, 202, "{accepted}");
    h.run_send_jobs(&settings()).await;
    let connection = path.split('/').nth(2).unwrap();
    let (status, done) = send_status(h, connection, accepted["key"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{done}");
    done
}

/// Waits (polling) until the simulated Exchange has submitted every message it accepted: it
/// sends asynchronously, after `/send` answered.
async fn submitted(h: &Harness) {
    for _ in 0..400 {
        let s = h.control(Method::GET, "/_sim/settings", None).await;
        if s["pendingSubmissions"] == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the simulator still has submissions pending");
}

/// Raises the mailbox's send size limit to Exchange Online's largest (150 MB).
async fn allow_150_mb(h: &Harness, address: &str) {
    h.control(
        Method::PUT,
        &format!("/_sim/mailboxes/{address}/sending"),
        Some(json!({"maxSendSize": 150 * 1024 * 1024})),
    )
    .await;
}

/// A folder's messages once every accepted message has been submitted.
async fn folder(h: &Harness, address: &str, folder: &str) -> Vec<Value> {
    submitted(h).await;
    h.control(
        Method::GET,
        &format!("/_sim/mailboxes/{address}/messages?folder={folder}"),
        None,
    )
    .await["value"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn with_subject<'a>(messages: &'a [Value], subject: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .filter(|m| m["subject"] == subject)
        .collect()
}

fn message(subject: &str) -> Value {
    json!({
        "to": [{"address": BOB, "name": "Bob"}, {"address": "candidate@external.example"}],
        "subject": subject,
        "body": {"content_type": "html", "content": "<p>Does Tuesday 10:00 suit you?</p>"},
        "headers": {"X-Candidate-Id": "c-42", "X-Req-Id": "r-7"},
    })
}

fn bytes_of(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn posts_ending_with(requests: &[Value], suffix: &str) -> usize {
    requests
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with(suffix))
        .count()
}

async fn upload(h: &Harness, connection: &str, name: &str, data: Vec<u8>) -> String {
    let created = crate::helpers::call::send_mail(
        &h.connector,
        h.api(
            "POST",
            &format!("/connections/{connection}/uploads"),
            &[],
            Some(json!({"name": name, "content_type": "application/pdf", "size": data.len()})),
        ),
    )
    .await;
    assert_eq!(created.status(), 201);
    let created = body(created).await;
    let mut put = h.browser.put(created["upload_url"].as_str().unwrap());
    for (k, v) in created["upload_headers"].as_object().unwrap() {
        put = put.header(k, v.as_str().unwrap());
    }
    let response = put.body(data).send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    created["upload_id"].as_str().unwrap().to_owned()
}

/// Crashes the send once, after the given step.
struct CrashOnce {
    at: Step,
    armed: AtomicBool,
}

impl StepHook for CrashOnce {
    fn after(&self, step: Step) -> Result<(), Crash> {
        if step == self.at && self.armed.swap(false, Ordering::SeqCst) {
            return Err(Crash(step));
        }
        Ok(())
    }
}

fn crashing_after(step: Step, base: SendSettings) -> SendSettings {
    SendSettings {
        hook: Some(Arc::new(CrashOnce {
            at: step,
            armed: AtomicBool::new(true),
        })),
        ..base
    }
}

#[tokio::test]
async fn a_message_reaches_the_recipient_and_sent_items_once_and_a_reply_stays_in_the_thread() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let bob = connected(&h, BOB).await;

    let sent = send(
        &h,
        &format!("/connections/{alice}/messages"),
        Some(&scoped(&h, "first")),
        message("Interview"),
    )
    .await;

    assert_eq!(sent["status"], "sent", "{sent}");
    assert_eq!(sent["attempts"], 1);
    let inbox = folder(&h, BOB, "inbox").await;
    let in_bob = with_subject(&inbox, "Interview");
    assert_eq!(in_bob.len(), 1);
    let got = in_bob[0];
    assert_eq!(got["internetMessageId"], sent["internet_message_id"]);
    assert_eq!(
        got["body"]["content"],
        "<p>Does Tuesday 10:00 suit you?</p>"
    );
    let to: Vec<&str> = got["toRecipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["emailAddress"]["address"].as_str().unwrap())
        .collect();
    assert_eq!(to, [BOB, "candidate@external.example"]);
    let headers = got["internetMessageHeaders"].as_array().unwrap();
    assert!(headers.contains(&json!({"name": "X-Candidate-Id", "value": "c-42"})));
    assert!(headers.contains(&json!({"name": "X-Req-Id", "value": "r-7"})));
    let sent_items = folder(&h, ALICE, "sentitems").await;
    let filed = with_subject(&sent_items, "Interview");
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0]["immutableId"], sent["id"]);
    assert!(folder(&h, ALICE, "drafts").await.is_empty());

    // Bob replies to the copy in his Inbox; it lands in Alice's Inbox in the same conversation.
    let reply = send(
        &h,
        &format!(
            "/connections/{bob}/messages/{}/reply",
            got["immutableId"].as_str().unwrap()
        ),
        Some(&scoped(&h, "reply-1")),
        json!({"reply_all": false, "body": {"content_type": "text", "content": "Tuesday works."}}),
    )
    .await;
    assert_eq!(reply["status"], "sent", "{reply}");
    let alice_inbox = folder(&h, ALICE, "inbox").await;
    let replies = with_subject(&alice_inbox, "RE: Interview");
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["conversationId"], got["conversationId"]);
    assert_eq!(reply["conversation_id"], got["conversationId"]);
}

#[tokio::test]
async fn twenty_concurrent_requests_with_one_key_send_one_message() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");
    let key = scoped(&h, "burst");
    h.control(Method::DELETE, "/_sim/requests", None).await;

    let answers =
        futures::future::join_all((0..20).map(|_| accept(&h, &path, Some(&key), message("Burst"))))
            .await;

    for (status, location, body) in &answers {
        assert_eq!(*status, 202, "{body}");
        assert_eq!(body["key"], key.as_str());
        assert_eq!(location, &answers[0].1);
    }
    // Every request of a still-queued send queues its job again: the worker gets duplicates.
    h.run_send_jobs(&settings()).await;
    let (_, done) = send_status(&h, &alice, &key).await;
    assert_eq!(done["status"], "sent", "{done}");
    assert_eq!(
        with_subject(&folder(&h, BOB, "inbox").await, "Burst").len(),
        1
    );
    assert_eq!(
        with_subject(&folder(&h, ALICE, "sentitems").await, "Burst").len(),
        1
    );
    let requests = h.sim_requests("/v1.0/me/").await;
    assert_eq!(posts_ending_with(&requests, "/send"), 1);
}

#[tokio::test]
async fn a_worker_dying_after_any_step_leaves_exactly_one_sent_message() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");
    let big = base64::engine::general_purpose::STANDARD.encode(bytes_of(2_900_000, 7));
    for (i, step) in [Step::DraftCreated, Step::Attached, Step::Sent]
        .into_iter()
        .enumerate()
    {
        let subject = format!("Crash {step:?}");
        let mut payload = message(&subject);
        // The 2.9 MB file is added after the draft exists, so there is an attach step.
        payload["attachments"] = json!([
            {"name": "small.txt", "content_type": "text/plain", "content_base64": "aGk="},
            {"name": "big.bin", "content_type": "application/octet-stream", "content_base64": big},
        ]);
        let key = scoped(&h, &format!("crash-{i}"));
        let (status, _, _) = accept(&h, &path, Some(&key), payload.clone()).await;
        assert_eq!(status, 202);

        // The first worker dies after `step`; its job comes back (after 2 s), waits for the dead
        // worker's lease (3 s) and resumes.
        let leased = SendSettings {
            lease: chrono::Duration::seconds(3),
            ..settings()
        };
        h.run_send_jobs(&crashing_after(step, leased)).await;

        let (_, done) = send_status(&h, &alice, &key).await;
        assert_eq!(done["status"], "sent", "{step:?}: {done}");
        assert_eq!(done["attempts"], 2, "{step:?}");
        let sent = with_subject(&folder(&h, ALICE, "sentitems").await, &subject)
            .into_iter()
            .cloned()
            .collect::<Vec<_>>();
        assert_eq!(sent.len(), 1, "{step:?}");
        assert_eq!(
            sent[0]["attachments"].as_array().unwrap().len(),
            2,
            "{step:?}"
        );
        assert_eq!(
            with_subject(&folder(&h, BOB, "inbox").await, &subject).len(),
            1,
            "{step:?}"
        );
        let drafts = folder(&h, ALICE, "drafts").await;
        assert!(with_subject(&drafts, &subject).is_empty(), "{step:?}");
        let (status, _, replay) = accept(&h, &path, Some(&key), payload).await;
        assert_eq!(status, 202);
        assert_eq!(replay, done, "{step:?}: the same key answers the same send");
    }
}

#[tokio::test]
async fn a_worker_dying_right_after_send_was_accepted_is_not_sent_again_while_exchange_submits() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");
    // Exchange submits after `/send` answered; here slowly enough for the next worker to find
    // the draft still in Drafts (a second `/send` on it sends it twice in the simulator).
    h.control(
        Method::PUT,
        "/_sim/settings",
        Some(json!({"submission": {"delayMs": 3000}})),
    )
    .await;
    h.control(Method::DELETE, "/_sim/requests", None).await;
    let key = scoped(&h, "slow-exchange");
    let (status, _, _) = accept(&h, &path, Some(&key), message("Submitted slowly")).await;
    assert_eq!(status, 202);

    h.run_send_jobs(&crashing_after(Step::Sent, settings()))
        .await;

    let (_, done) = send_status(&h, &alice, &key).await;
    assert_eq!(done["status"], "sent", "{done}");
    assert_eq!(
        with_subject(&folder(&h, BOB, "inbox").await, "Submitted slowly").len(),
        1,
        "the recipient gets the message once"
    );
    assert_eq!(
        with_subject(&folder(&h, ALICE, "sentitems").await, "Submitted slowly").len(),
        1
    );
    let requests = h.sim_requests("/v1.0/me/messages/").await;
    assert_eq!(
        posts_ending_with(&requests, "/send"),
        1,
        "/send was called once"
    );
}

#[tokio::test]
async fn a_draft_exchange_never_submitted_is_sent_again_once_the_grace_period_is_over() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");
    // Exchange accepts the `/send` (202) but the submission never happens: the draft stays.
    h.control(
        Method::PUT,
        "/_sim/settings",
        Some(json!({"submission": {"delayMs": 0, "loseNext": 1}})),
    )
    .await;
    h.control(Method::DELETE, "/_sim/requests", None).await;
    let grace = chrono::Duration::seconds(5);
    let quick = SendSettings {
        submission_wait: Duration::from_millis(300),
        submission_grace: grace,
        ..settings()
    };
    let key = scoped(&h, "lost-submission");
    let (status, _, _) = accept(&h, &path, Some(&key), message("Lost in transport")).await;
    assert_eq!(status, 202);

    // The first worker dies after `/send`; the next finds the draft within the grace period
    // (outcome unknown: no second `/send`), the one after the period sends it.
    h.run_send_jobs(&crashing_after(Step::Sent, quick)).await;

    let (_, done) = send_status(&h, &alice, &key).await;
    assert_eq!(done["status"], "sent", "{done}");
    assert_eq!(done["attempts"], 3, "{done}");
    assert_eq!(
        with_subject(&folder(&h, BOB, "inbox").await, "Lost in transport").len(),
        1,
        "the recipient gets the message once"
    );
    let sends: Vec<chrono::DateTime<chrono::Utc>> = h
        .sim_requests("/v1.0/me/messages/")
        .await
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/send"))
        .map(|r| r["time"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        sends.len(),
        2,
        "the lost one and the one after the grace period"
    );
    assert!(sends[1] - sends[0] >= grace, "{sends:?}");
}

#[tokio::test]
async fn staged_files_under_the_upload_session_minimum_are_attached_inline() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");

    // A 200 KB CV staged through /uploads.
    let cv = bytes_of(200 * 1024, 11);
    let cv_id = upload(&h, &alice, "cv.pdf", cv.clone()).await;
    let mut payload = message("CV");
    payload["attachments"] = json!([{ "upload_id": cv_id }]);
    let done = send(&h, &path, None, payload).await;
    assert_eq!(done["status"], "sent", "{done}");
    let inbox = folder(&h, BOB, "inbox").await;
    let got = with_subject(&inbox, "CV");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["attachments"][0]["sha256"], sha(&cv));
    assert_eq!(got[0]["attachments"][0]["name"], "cv.pdf");

    // Small and large mixed: each small one in its own request under 4 MB, the large one
    // through an upload session.
    let files = [
        bytes_of(200 * 1024, 12),
        bytes_of(1024 * 1024, 13),
        bytes_of(2_999_999, 14),
        bytes_of(3_000_000, 15),
        bytes_of(5 * 1024 * 1024, 16),
    ];
    let mut ids = Vec::new();
    for (i, f) in files.iter().enumerate() {
        ids.push(upload(&h, &alice, &format!("f{i}.pdf"), f.clone()).await);
    }
    h.control(Method::DELETE, "/_sim/requests", None).await;
    let mut payload = message("Mixed");
    payload["attachments"] = ids.iter().map(|id| json!({ "upload_id": id })).collect();
    let done = send(&h, &path, None, payload).await;
    assert_eq!(done["status"], "sent", "{done}");
    let inbox = folder(&h, BOB, "inbox").await;
    let got = with_subject(&inbox, "Mixed");
    assert_eq!(got.len(), 1);
    let hashes: Vec<&str> = got[0]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["sha256"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = files.iter().map(|f| sha(f)).collect();
    assert_eq!(hashes, expected);
    let requests = h.sim_requests("/v1.0/me/messages/").await;
    assert_eq!(
        posts_ending_with(&requests, "/attachments"),
        3,
        "one request per small file"
    );
    assert_eq!(
        posts_ending_with(&requests, "/attachments/createUploadSession"),
        2
    );
    assert!(requests.iter().all(|r| r["status"].as_u64().unwrap() < 400));
}

#[tokio::test]
async fn exchange_refusals_of_a_send_end_failed_with_their_own_problems_and_are_not_retried() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");
    let sending = format!("/_sim/mailboxes/{ALICE}/sending");
    let cases = [
        (
            json!({"maxSendSize": 1_000_000}),
            413,
            "urn:m365-connector:problem:message-too-large",
        ),
        (
            json!({"full": true}),
            507,
            "urn:m365-connector:problem:mailbox-full",
        ),
        (
            json!({"sendBlocked": "ErrorMessageSubmissionBlocked"}),
            403,
            "urn:m365-connector:problem:sending-blocked",
        ),
        (
            json!({"sendBlocked": "ErrorSendAsDenied"}),
            403,
            "urn:m365-connector:problem:sending-blocked",
        ),
    ];
    let attachment = base64::engine::general_purpose::STANDARD.encode(bytes_of(1_200_000, 21));
    for (i, (policy, status, kind)) in cases.into_iter().enumerate() {
        h.control(Method::PUT, &sending, Some(policy.clone())).await;
        h.control(Method::DELETE, "/_sim/requests", None).await;
        let mut payload = message(&format!("Refused {i}"));
        payload["attachments"] = json!([{"name": "a.bin", "content_base64": attachment}]);

        let done = send(
            &h,
            &path,
            Some(&scoped(&h, &format!("refused-{i}"))),
            payload,
        )
        .await;

        assert_eq!(done["status"], "failed", "{policy}: {done}");
        assert_eq!(done["attempts"], 1, "{policy}: no retry");
        let problem = &done["error"];
        assert_eq!(problem["status"], status, "{policy}: {problem}");
        assert_eq!(problem["type"], kind, "{policy}: {problem}");
        assert!(!problem["detail"].as_str().unwrap().contains("Mail.Send"));
        assert!(done.get("id").is_none(), "{done}");
        let requests = h.sim_requests("/v1.0/me/").await;
        assert!(
            posts_ending_with(&requests, "/send") <= 1,
            "{policy}: /send not retried"
        );
        let drafts = requests
            .iter()
            .filter(|r| r["method"] == "POST" && r["path"] == "/v1.0/me/messages")
            .count();
        assert_eq!(drafts, 1, "{policy}: the draft is not retried");
    }
    h.control(Method::PUT, &sending, Some(json!({}))).await;
    assert!(with_subject(&folder(&h, BOB, "inbox").await, "Refused 0").is_empty());
}

#[tokio::test]
async fn inline_and_uploaded_attachments_arrive_byte_identical() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    allow_150_mb(&h, ALICE).await;
    let small = bytes_of(1024, 1);
    let inline = bytes_of(2_900_000, 2);
    let ten = bytes_of(10 * 1024 * 1024, 3);
    let sixty = bytes_of(60 * 1024 * 1024, 4);
    let expected = [sha(&small), sha(&inline), sha(&ten), sha(&sixty)];
    let ten_id = upload(&h, &alice, "ten.pdf", ten).await;
    let sixty_id = upload(&h, &alice, "sixty.pdf", sixty).await;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut payload = message("Files");
    payload["attachments"] = json!([
        {"name": "small.txt", "content_type": "text/plain", "content_base64": b64(&small)},
        {"name": "inline.bin", "content_type": "application/octet-stream", "content_base64": b64(&inline)},
        {"upload_id": ten_id},
        {"upload_id": sixty_id},
    ]);

    let done = send(&h, &format!("/connections/{alice}/messages"), None, payload).await;

    assert_eq!(done["status"], "sent", "{done}");
    let inbox = folder(&h, BOB, "inbox").await;
    let got = with_subject(&inbox, "Files");
    assert_eq!(got.len(), 1);
    let hashes: Vec<&str> = got[0]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(hashes, expected);
}

#[tokio::test]
async fn transient_failures_are_retried_by_the_queue_within_a_bound_and_the_status_shows_it() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");

    // Throttling within one attempt's budget is waited out in place.
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "throttle", "path": "/v1.0/me/messages", "count": 2, "retryAfter": 1})),
    )
    .await;
    let done = send(&h, &path, None, message("Throttled")).await;
    assert_eq!(done["status"], "sent", "{done}");
    assert_eq!(done["attempts"], 1);

    // An outage longer than one attempt: the job comes back (Retry-After 1 s) and the second
    // attempt sends.
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(
            json!({"kind": "unavailable", "path": "/v1.0/me/messages", "method": "POST",
                    "count": 5, "retryAfter": 1}),
        ),
    )
    .await;
    let key = scoped(&h, "outage");
    let (status, _, accepted) = accept(&h, &path, Some(&key), message("Outage")).await;
    assert_eq!(status, 202);
    assert_eq!(accepted["status"], "queued");
    assert_eq!(accepted["attempts"], 0);
    h.run_send_jobs(&settings()).await;
    let (_, done) = send_status(&h, &alice, &key).await;
    assert_eq!(done["status"], "sent", "{done}");
    assert_eq!(done["attempts"], 2, "{done}");
    assert_eq!(
        with_subject(&folder(&h, BOB, "inbox").await, "Outage").len(),
        1
    );

    // An outage that outlasts every attempt: `failed` after `max_attempts` (3 here), with it.
    h.control(Method::DELETE, "/_sim/faults", None).await;
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(
            json!({"kind": "unavailable", "path": "/v1.0/me/messages", "method": "POST",
                    "retryAfter": 1}),
        ),
    )
    .await;
    let done = send(&h, &path, None, message("Down")).await;
    h.control(Method::DELETE, "/_sim/faults", None).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["attempts"], 3, "{done}");
    assert_eq!(
        done["error"]["type"],
        "urn:m365-connector:problem:unavailable"
    );
    assert!(with_subject(&folder(&h, BOB, "inbox").await, "Down").is_empty());
}

#[tokio::test]
async fn send_errors_are_the_documented_problems() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");

    // An unknown upload names the field, before anything is queued.
    let mut payload = message("Missing upload");
    payload["attachments"] = json!([{"upload_id": uuid::Uuid::new_v4().to_string()}]);
    let (status, _, problem) = accept(&h, &path, None, payload).await;
    assert_eq!(status, 400);
    assert_eq!(problem["field"], "attachments[0].upload_id");

    // More custom headers than Graph takes.
    let mut payload = message("Headers");
    payload["headers"] =
        json!({"X-A": "1", "X-B": "2", "X-C": "3", "X-D": "4", "X-E": "5", "X-F": "6"});
    let (status, _, problem) = accept(&h, &path, None, payload).await;
    assert_eq!(status, 400);
    assert_eq!(problem["field"], "headers");

    // An unknown send.
    let (status, problem) = send_status(&h, &alice, "never-sent").await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["type"], "urn:m365-connector:problem:not-found");
    assert_eq!(h.queued_send_jobs().await, 0, "nothing was queued");

    // Without the Mail.Send grant: 403 saying to reconnect.
    let authorize = h.start_connect("no-send", "carol@contoso.example").await;
    let back = h
        .consent(
            &authorize,
            "carol@contoso.example",
            "accept",
            Some(&[
                "User.Read",
                "Mail.Read",
                "Mail.ReadWrite",
                "Calendars.ReadWrite",
            ]),
        )
        .await;
    let landing = h.callback(&back).await;
    let carol = crate::helpers::query_of(&landing)["connection_id"].clone();
    let (status, _, problem) = accept(
        &h,
        &format!("/connections/{carol}/messages"),
        None,
        message("Nope"),
    )
    .await;
    assert_eq!(status, 403);
    assert!(problem["detail"].as_str().unwrap().contains("Mail.Send"));
}

#[tokio::test]
async fn the_send_mail_handler_answers_each_sample_event_as_named() {
    let stack = crate::helpers::stack().await;
    let connector = m365_connector::app::Connector::new(stack.config.clone(), &stack.aws);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/send-mail");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let expected = if name.ends_with("-not-found") {
            404
        } else if name.ends_with("-missing-auth") {
            401
        } else if name.contains("-bad-") {
            400
        } else {
            panic!("{name}: the name does not say what it expects")
        };
        let request =
            lambda_http::request::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let response = crate::helpers::call::send_mail(&connector, request).await;
        assert_eq!(response.status().as_u16(), expected, "{name}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{name}"
        );
        count += 1;
    }
    assert!(count >= 8);
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Runs the one queued send job through the worker; how long the worker took.
async fn run_one_job(h: &Harness, settings: &SendSettings) -> Duration {
    let sqs = h.stack.aws.sqs();
    let received = sqs
        .receive_message()
        .queue_url(&h.send_queue)
        .wait_time_seconds(5)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(received.len(), 1, "one job");
    let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
    record.message_id = received[0].message_id.clone();
    record.receipt_handle = received[0].receipt_handle.clone();
    record.body = received[0].body.clone();
    let started = Instant::now();
    let response = send_worker::process(&h.connector, settings, vec![record]).await;
    let took = started.elapsed();
    assert!(response.batch_item_failures.is_empty(), "the job succeeded");
    sqs.delete_message()
        .queue_url(&h.send_queue)
        .receipt_handle(received[0].receipt_handle.clone().unwrap())
        .send()
        .await
        .unwrap();
    took
}

/// `service operation xN (time)` for every AWS call the meter saw.
fn aws_calls(meter: &integration_tests::Meter) -> String {
    meter
        .snapshot()
        .into_iter()
        .map(|((svc, op), u)| format!("{svc} {op} x{} ({:?})", u.calls, u.time))
        .collect::<Vec<_>>()
        .join(", ")
}

fn spread(mut times: Vec<Duration>) -> String {
    times.sort();
    format!(
        "median {:?} (min {:?}, max {:?}, {} warm runs)",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len()
    )
}

/// Benchmark (prints figures, asserts no times): `make bench-send`. The API function's part
/// (accepting a send) and the worker's (sending it) are measured apart.
#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_send_mail() {
    let _turn = MAILBOXES.lock().await;
    let meter = integration_tests::Meter::default();
    let h = Harness::start_metered(&meter).await;
    let alice = connected(&h, ALICE).await;
    allow_150_mb(&h, ALICE).await;
    let s = SendSettings::default();
    let path = format!("/connections/{alice}/messages");
    let one_mb = base64::engine::general_purpose::STANDARD.encode(bytes_of(1024 * 1024, 9));
    for (label, attach) in [("plain send", false), ("send with a 1 MB attachment", true)] {
        let (mut accepting, mut sending) = (Vec::new(), Vec::new());
        let (mut accept_calls, mut worker_calls, mut graph) = (String::new(), String::new(), 0);
        for run in 0..11 {
            let mut payload = message(&format!("{label} {run}"));
            if attach {
                payload["attachments"] = json!([{"name": "a.bin", "content_base64": one_mb}]);
            }
            h.control(Method::DELETE, "/_sim/requests", None).await;
            meter.reset();
            let started = Instant::now();
            let key = scoped(&h, &format!("bench-{run}-{}", attach as u8));
            let (status, _, _) = accept(&h, &path, Some(&key), payload).await;
            let took = started.elapsed();
            assert_eq!(status, 202);
            accept_calls = aws_calls(&meter);
            if !attach {
                let unit = "make bench-send, plain send, accept";
                integration_tests::Meter::write_calls("send_accept", unit, 0, &meter.snapshot());
            }
            meter.reset();
            let worked = run_one_job(&h, &s).await;
            worker_calls = aws_calls(&meter);
            graph = h.sim_requests("/v1.0").await.len();
            if !attach {
                let unit = "make bench-send, plain send, the worker's job";
                integration_tests::Meter::write_calls(
                    "send_worker",
                    unit,
                    graph,
                    &meter.snapshot(),
                );
            }
            if run > 0 {
                accepting.push(took);
                sending.push(worked);
            }
        }
        println!("{label}:");
        println!("  accept (send-mail, 202): {}", spread(accepting));
        println!("    AWS calls: {accept_calls}");
        println!("  send (send-worker, one job): {}", spread(sending));
        println!("    Graph calls {graph}; AWS calls: {worker_calls}");
    }

    let sixty = bytes_of(60 * 1024 * 1024, 5);
    let upload_id = upload(&h, &alice, "sixty.bin", sixty).await;
    let mut payload = message("bench upload");
    payload["attachments"] = json!([{ "upload_id": upload_id }]);
    let started = Instant::now();
    let (status, _, _) = accept(&h, &path, None, payload).await;
    assert_eq!(status, 202);
    let accepted_in = started.elapsed();
    // Peak RSS from here on (Linux: writing 5 to clear_refs resets VmHWM).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = vm_hwm_kib();
    let took = run_one_job(&h, &s).await;
    let after = vm_hwm_kib();
    let puts = h.sim_requests("/_upload").await.len();
    println!(
        "upload-session path, 60 MiB from S3 (moto) to the simulator: accepted in {accepted_in:?}; the worker took {:?}, {:.1} MB/s, {puts} chunk PUTs of {} KiB",
        took,
        60.0 * 1.048_576 / took.as_secs_f64(),
        s.chunk_size / 1024
    );
    println!(
        "peak RSS of the whole test process (in-process simulator, which keeps the 60 MiB it receives, included): {} MiB before, {} MiB peak during the send (HWM reset: {reset})",
        before / 1024,
        after / 1024
    );
}
// ---- Sends answer 202 with a status resource and complete in the background (issue 14).

#[tokio::test]
async fn a_send_slower_than_the_gateway_limit_is_accepted_at_once_and_delivered_once_later() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");
    let file = bytes_of(10 * 1024 * 1024, 31);
    let upload_id = upload(&h, &alice, "portfolio.pdf", file.clone()).await;
    // Each of the four upload-session PUTs of the 10 MiB file takes 8.5 s: the send takes
    // longer than the gateway waits.
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "latency", "path": "/_upload/", "ms": 8500})),
    )
    .await;
    let mut payload = message("Portfolio");
    payload["attachments"] = json!([{ "upload_id": upload_id }]);

    let started = std::time::Instant::now();
    let (status, location, accepted) = accept(&h, &path, None, payload).await;
    let answered_in = started.elapsed();

    assert_eq!(status, 202, "{accepted}");
    assert!(
        answered_in < GATEWAY_TIMEOUT,
        "answered in {answered_in:?}, past the gateway's 30 s"
    );
    assert_eq!(accepted["status"], "queued", "{accepted}");
    let key = accepted["key"]
        .as_str()
        .expect("a generated key")
        .to_owned();
    let location = location.expect("Location of the status resource");
    assert!(
        location.ends_with(&format!("/connections/{alice}/sends/{key}")),
        "{location}"
    );
    let worked = h.run_send_jobs(&settings()).await;
    assert!(worked > GATEWAY_TIMEOUT, "the send itself took {worked:?}");
    let (status, done) = send_status(&h, &alice, &key).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "sent", "{done}");
    let inbox = folder(&h, BOB, "inbox").await;
    let got = with_subject(&inbox, "Portfolio");
    assert_eq!(got.len(), 1, "delivered once");
    assert_eq!(got[0]["internetMessageId"], done["internet_message_id"]);
    assert_eq!(got[0]["attachments"][0]["sha256"], sha(&file));
}

#[tokio::test]
async fn a_retried_post_with_the_same_key_returns_the_same_status_resource_and_sends_once() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");
    let key = scoped(&h, "same");

    let (status, location, first) = accept(&h, &path, Some(&key), message("Same")).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["key"], key.as_str());
    let location = location.expect("Location");
    let (status, again_location, again) = accept(&h, &path, Some(&key), message("Same")).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again_location.as_deref(), Some(location.as_str()));
    assert_eq!(again["key"], first["key"]);
    assert_eq!(again["created_at"], first["created_at"]);
    h.run_send_jobs(&settings()).await;
    let (status, _, after) = accept(&h, &path, Some(&key), message("Same")).await;

    assert_eq!(status, 202);
    assert_eq!(after["status"], "sent", "{after}");
    let (_, polled) = send_status(&h, &alice, &key).await;
    assert_eq!(polled, after);
    let (status, _, changed) = accept(&h, &path, Some(&key), message("Other")).await;
    assert_eq!(status, 422, "{changed}");
    assert_eq!(
        with_subject(&folder(&h, BOB, "inbox").await, "Same").len(),
        1
    );
}

#[tokio::test]
async fn a_deterministic_graph_refusal_of_send_ends_failed_at_once_with_the_problem() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");
    // Exchange refuses the recipients when the draft is sent: a 400 no retry changes.
    h.control(
        Method::POST,
        "/_sim/faults",
        Some(
            json!({"kind": "error", "status": 400, "code": "ErrorInvalidRecipients",
                    "message": "At least one recipient isn't valid.",
                    "path": "/v1.0/me/messages/", "method": "POST"}),
        ),
    )
    .await;
    h.control(Method::DELETE, "/_sim/requests", None).await;

    let (status, _, accepted) =
        accept(&h, &path, Some(&scoped(&h, "refused")), message("Refused")).await;
    assert_eq!(status, 202, "{accepted}");
    h.run_send_jobs(&settings()).await;

    let key = accepted["key"].as_str().unwrap_or_default().to_owned();
    let (status, failed) = send_status(&h, &alice, &key).await;
    assert_eq!(status, 200, "{failed}");
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(
        failed["error"]["type"],
        "urn:m365-connector:problem:invalid-request"
    );
    assert_eq!(failed["error"]["status"], 400);
    assert_eq!(failed["error"]["field"], "to");
    assert_eq!(failed["attempts"], 1, "no retry");
    let requests = h.sim_requests("/v1.0/me/").await;
    assert_eq!(posts_ending_with(&requests, "/send"), 1, "/send once");
    assert!(with_subject(&folder(&h, BOB, "inbox").await, "Refused").is_empty());
}

#[tokio::test]
async fn without_a_sent_items_copy_a_worker_that_dies_after_send_was_accepted_sends_once() {
    let h = Harness::start().await;
    let _turn = MAILBOXES.lock().await;
    let alice = connected(&h, ALICE).await;
    let path = format!("/connections/{alice}/messages");
    // Exchange submits 3 s after `/send` answered: the resumed worker first finds the draft
    // still in Drafts, then nowhere (deleted after submission, no Sent Items copy).
    h.control(
        Method::PUT,
        "/_sim/settings",
        Some(json!({"submission": {"delayMs": 3000}})),
    )
    .await;
    h.control(Method::DELETE, "/_sim/requests", None).await;
    let mut payload = message("Unfiled");
    payload["save_to_sent_items"] = json!(false);

    let (status, _, accepted) = accept(&h, &path, Some(&scoped(&h, "unfiled")), payload).await;
    assert_eq!(status, 202, "{accepted}");
    // The worker dies right after Exchange accepted `/send`; the job comes back to a new one.
    h.run_send_jobs(&crashing_after(Step::Sent, settings()))
        .await;

    let key = accepted["key"].as_str().unwrap_or_default().to_owned();
    let (_, done) = send_status(&h, &alice, &key).await;
    assert_eq!(done["status"], "sent", "{done}");
    assert!(done["attempts"].as_u64().unwrap() >= 2, "{done}");
    assert_eq!(
        with_subject(&folder(&h, BOB, "inbox").await, "Unfiled").len(),
        1,
        "the recipient gets it once"
    );
    assert!(with_subject(&folder(&h, ALICE, "sentitems").await, "Unfiled").is_empty());
    assert!(with_subject(&folder(&h, ALICE, "drafts").await, "Unfiled").is_empty());
    let requests = h.sim_requests("/v1.0/me/").await;
    assert_eq!(posts_ending_with(&requests, "/send"), 1, "/send once");
}
