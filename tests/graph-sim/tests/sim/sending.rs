//! Sending as Exchange Online does it: the upload-session floor, asynchronous submission, the
//! mailbox's send size limit, a full mailbox and a mailbox blocked from sending.

use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_sim, TestSim};

const ALICE: &str = "alice@contoso.example";
const BOB: &str = "bob@contoso.example";

async fn draft(t: &TestSim, access: &str, subject: &str) -> String {
    let d: Value = t
        .graph(Method::POST, "/me/messages", access)
        .header("Prefer", "IdType=\"ImmutableId\"")
        .json(&json!({"subject": subject, "toRecipients": [{"emailAddress": {"address": BOB}}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    d["id"].as_str().unwrap().to_owned()
}

async fn send(t: &TestSim, access: &str, id: &str) -> reqwest::Response {
    t.graph(Method::POST, &format!("/me/messages/{id}/send"), access)
        .header("Prefer", "IdType=\"ImmutableId\"")
        .header("content-length", "0")
        .send()
        .await
        .unwrap()
}

async fn subjects(t: &TestSim, address: &str, folder: &str) -> Vec<String> {
    let v: Value = t
        .control(
            Method::GET,
            &format!("/mailboxes/{address}/messages?folder={folder}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn error_of(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    (status, v["error"]["code"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn upload_sessions_are_refused_under_three_megabytes() {
    let t = spawn_sim().await;
    let alice = t.sign_in(ALICE).await;
    let id = draft(&t, &alice.access, "cv").await;
    let session = |size: usize| {
        t.graph(
            Method::POST,
            &format!("/me/messages/{id}/attachments/createUploadSession"),
            &alice.access,
        )
        .json(
            &json!({"AttachmentItem": {"attachmentType": "file", "name": "cv.pdf", "size": size}}),
        )
        .send()
    };
    let small = session(200 * 1024).await.unwrap();
    assert_eq!(
        error_of(small).await,
        (
            400,
            "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize".into()
        )
    );
    assert_eq!(session(2_999_999).await.unwrap().status(), 400);
    assert_eq!(session(3_000_000).await.unwrap().status(), 201);
}

#[tokio::test]
async fn a_sent_draft_stays_in_drafts_until_transport_submits_it() {
    let t = spawn_sim().await;
    let s: Value = t
        .control(Method::GET, "/settings", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["submission"]["delayMs"], 1000, "on by default");
    t.control(
        Method::PUT,
        "/settings",
        Some(json!({"submission": {"delayMs": 3000}})),
    )
    .await;
    let alice = t.sign_in(ALICE).await;
    let id = draft(&t, &alice.access, "Async").await;

    assert_eq!(send(&t, &alice.access, &id).await.status(), 202);
    let pending: Value = t
        .graph(Method::GET, &format!("/me/messages/{id}"), &alice.access)
        .header("Prefer", "IdType=\"ImmutableId\"")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        pending["isDraft"], true,
        "still a draft right after the 202"
    );
    assert_eq!(subjects(&t, ALICE, "drafts").await, ["Async"]);
    assert!(subjects(&t, BOB, "inbox").await.is_empty());

    // A second `/send` while transport has the first is accepted: the simulator assumes the
    // worst (Exchange's behaviour is not documented) and the message goes out twice.
    assert_eq!(send(&t, &alice.access, &id).await.status(), 202);
    t.submitted().await;
    assert_eq!(subjects(&t, ALICE, "sentitems").await, ["Async"]);
    assert!(subjects(&t, ALICE, "drafts").await.is_empty());
    assert_eq!(subjects(&t, BOB, "inbox").await, ["Async", "Async"]);
}

#[tokio::test]
async fn a_draft_marked_delete_after_submit_is_delivered_and_then_deleted_not_filed() {
    let t = spawn_sim().await;
    let alice = t.sign_in(ALICE).await;
    let d: Value = t
        .graph(Method::POST, "/me/messages", &alice.access)
        .header("Prefer", "IdType=\"ImmutableId\"")
        .json(&json!({
            "subject": "Unfiled",
            "toRecipients": [{"emailAddress": {"address": BOB}}],
            "singleValueExtendedProperties": [{"id": "Boolean 0x0E01", "value": "true"}],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = d["id"].as_str().unwrap();

    assert_eq!(send(&t, &alice.access, id).await.status(), 202);
    assert_eq!(subjects(&t, ALICE, "drafts").await, ["Unfiled"]);
    t.submitted().await;

    assert_eq!(subjects(&t, BOB, "inbox").await, ["Unfiled"]);
    assert!(subjects(&t, ALICE, "drafts").await.is_empty());
    assert!(subjects(&t, ALICE, "sentitems").await.is_empty());
    let gone = t
        .graph(Method::GET, &format!("/me/messages/{id}"), &alice.access)
        .header("Prefer", "IdType=\"ImmutableId\"")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn the_mailbox_send_size_limit_is_35_mb_by_default_and_settable() {
    let t = spawn_sim().await;
    let alice = t.sign_in(ALICE).await;
    let policy: Value = t
        .control(Method::GET, &format!("/mailboxes/{ALICE}/sending"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(policy["maxSendSize"], 35 * 1024 * 1024);
    t.control(
        Method::PUT,
        &format!("/mailboxes/{ALICE}/sending"),
        Some(json!({"maxSendSize": 5_000_000})),
    )
    .await;
    let id = draft(&t, &alice.access, "Big").await;
    let chunk = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 2_900_000]);
    let attach = || {
        t.graph(
            Method::POST,
            &format!("/me/messages/{id}/attachments"),
            &alice.access,
        )
        .json(&json!({"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.bin", "contentBytes": chunk}))
        .send()
    };
    assert_eq!(attach().await.unwrap().status(), 201);
    assert_eq!(
        error_of(attach().await.unwrap()).await,
        (413, "ErrorMessageSizeExceeded".into())
    );
    let over = t
        .control(
            Method::PUT,
            &format!("/mailboxes/{ALICE}/sending"),
            Some(json!({"maxSendSize": 200 * 1024 * 1024})),
        )
        .await;
    assert_eq!(over.status(), 400, "150 MB is Exchange's largest");
}

#[tokio::test]
async fn a_full_or_blocked_mailbox_cannot_send() {
    let t = spawn_sim().await;
    let alice = t.sign_in(ALICE).await;
    let id = draft(&t, &alice.access, "Blocked").await;
    t.control(
        Method::PUT,
        &format!("/mailboxes/{ALICE}/sending"),
        Some(json!({"sendBlocked": "ErrorMessageSubmissionBlocked"})),
    )
    .await;
    assert_eq!(
        error_of(send(&t, &alice.access, &id).await).await,
        (403, "ErrorMessageSubmissionBlocked".into())
    );
    t.control(
        Method::PUT,
        &format!("/mailboxes/{ALICE}/sending"),
        Some(json!({"full": true})),
    )
    .await;
    assert_eq!(
        error_of(send(&t, &alice.access, &id).await).await,
        (403, "ErrorQuotaExceeded".into())
    );
    let create = t
        .graph(Method::POST, "/me/messages", &alice.access)
        .json(&json!({"subject": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(create).await, (403, "ErrorQuotaExceeded".into()));
    t.control(
        Method::PUT,
        &format!("/mailboxes/{ALICE}/sending"),
        Some(json!({})),
    )
    .await;
    assert_eq!(send(&t, &alice.access, &id).await.status(), 202);
    t.submitted().await;
    assert_eq!(subjects(&t, BOB, "inbox").await, ["Blocked"]);
}
