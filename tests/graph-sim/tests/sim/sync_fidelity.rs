//! Mail sync as Exchange does it: delta's `$filter` on `receivedDateTime`, a message moved away
//! and back between two immutable-id rounds, OData call syntax and PascalCase action parameters,
//! and the subscription lifetime.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const ALICE: &str = "alice@contoso.example";
const BOB: &str = "bob@contoso.example";
const IMMUTABLE: &str = "IdType=\"ImmutableId\"";

async fn seed(
    t: &TestSim,
    subject: &str,
    received: Option<chrono::DateTime<chrono::Utc>>,
) -> Value {
    let mut body = json!({"from": "x@external.example", "subject": subject});
    if let Some(r) = received {
        body["receivedDateTime"] = json!(r.to_rfc3339());
    }
    t.control(
        Method::POST,
        &format!("/mailboxes/{ALICE}/messages"),
        Some(body),
    )
    .await
    .json()
    .await
    .unwrap()
}

async fn get(t: &TestSim, url: &str, token: &str, prefer: &str) -> (u16, Value) {
    let r = t
        .http
        .get(url)
        .bearer_auth(token)
        .header("Prefer", prefer)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Every page of a round: (items, deltaLink).
async fn round(t: &TestSim, first: &str, token: &str) -> (Vec<Value>, String) {
    let mut items = Vec::new();
    let mut url = first.to_owned();
    loop {
        let (status, page) =
            get(t, &url, token, &format!("odata.maxpagesize=3, {IMMUTABLE}")).await;
        assert_eq!(status, 200, "{page}");
        items.extend(page["value"].as_array().unwrap().iter().cloned());
        if let Some(next) = page["@odata.nextLink"].as_str() {
            url = next.to_owned();
        } else {
            return (items, page["@odata.deltaLink"].as_str().unwrap().to_owned());
        }
    }
}

#[tokio::test]
async fn delta_filters_on_received_date_time_for_the_whole_sequence() {
    let t = spawn_sim().await;
    let now = chrono::Utc::now();
    for i in 0..7 {
        seed(
            &t,
            &format!("old {i}"),
            Some(now - chrono::Duration::days(400 + i)),
        )
        .await;
    }
    for i in 0..4 {
        seed(
            &t,
            &format!("recent {i}"),
            Some(now - chrono::Duration::days(i)),
        )
        .await;
    }
    let alice = t.sign_in(ALICE).await;
    let since =
        (now - chrono::Duration::days(365)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let first = format!(
        "{}/v1.0/me/mailFolders/inbox/messages/delta?$select=subject&$filter=receivedDateTime%20ge%20{since}",
        t.base
    );
    let (items, delta_link) = round(&t, &first, &alice.access).await;
    let mut subjects: Vec<&str> = items
        .iter()
        .map(|v| v["subject"].as_str().unwrap())
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["recent 0", "recent 1", "recent 2", "recent 3"]);
    assert!(
        !delta_link.contains("filter"),
        "the filter lives in the token: {delta_link}"
    );

    // The next round keeps the filter: new mail is reported, newly seeded old mail is not.
    seed(&t, "new", None).await;
    seed(&t, "imported old", Some(now - chrono::Duration::days(900))).await;
    let (items, _) = round(&t, &delta_link, &alice.access).await;
    let subjects: Vec<&str> = items
        .iter()
        .map(|v| v["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["new"]);

    // Only receivedDateTime ge|gt is supported.
    let (status, e) = get(
        &t,
        &format!(
            "{}/v1.0/me/mailFolders/inbox/messages/delta?$filter=isRead%20eq%20false",
            t.base
        ),
        &alice.access,
        IMMUTABLE,
    )
    .await;
    assert_eq!(status, 400, "{e}");
}

#[tokio::test]
async fn a_message_moved_away_and_back_between_immutable_rounds_is_reported_removed_only() {
    let t = spawn_sim().await;
    let m = seed(&t, "filed and unfiled", None).await;
    seed(&t, "left alone", None).await;
    let imm = m["immutableId"].as_str().unwrap().to_owned();
    let alice = t.sign_in(ALICE).await;
    let first = format!(
        "{}/v1.0/me/mailFolders/inbox/messages/delta?$select=subject",
        t.base
    );
    let (items, delta_link) = round(&t, &first, &alice.access).await;
    assert_eq!(items.len(), 2);

    for folder in ["archive", "inbox"] {
        let r = t
            .control(
                Method::POST,
                &format!("/mailboxes/{ALICE}/messages/{imm}/move"),
                Some(json!({"folder": folder})),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let (items, delta_link) = round(&t, &delta_link, &alice.access).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], imm.as_str());
    assert_eq!(items[0]["@removed"]["reason"], "deleted");
    // ... and not again while it is unchanged, though it is in the folder.
    let (items, _) = round(&t, &delta_link, &alice.access).await;
    assert!(items.is_empty(), "{items:?}");
    let listed: Value = t
        .graph(
            Method::GET,
            "/me/mailFolders/inbox/messages?$select=id",
            &alice.access,
        )
        .header("Prefer", IMMUTABLE)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["id"] == imm.as_str()));
}

#[tokio::test]
async fn delta_answers_with_and_without_the_odata_call_parentheses() {
    let t = spawn_sim().await;
    seed(&t, "one", None).await;
    let alice = t.sign_in(ALICE).await;
    for path in [
        "/me/mailFolders/inbox/messages/delta",
        "/me/mailFolders/inbox/messages/delta()",
        "/me/mailFolders/inbox/messages/delta()?$select=subject",
    ] {
        let (status, page) = get(
            &t,
            &format!("{}/v1.0{path}", t.base),
            &alice.access,
            IMMUTABLE,
        )
        .await;
        assert_eq!(status, 200, "{path}: {page}");
        assert_eq!(page["value"].as_array().unwrap().len(), 1, "{path}");
        assert!(page["@odata.deltaLink"].is_string(), "{path}");
    }
}

#[tokio::test]
async fn actions_bind_the_metadata_pascal_case_parameter_names() {
    let t = spawn_sim().await;
    let alice = t.sign_in(ALICE).await;
    // sendMail as Microsoft's SDKs send it.
    let r = t
        .graph(Method::POST, "/me/sendMail", &alice.access)
        .json(&json!({
            "Message": {"subject": "Pascal", "body": {"contentType": "text", "content": "hi"},
                        "toRecipients": [{"emailAddress": {"address": BOB}}]},
            "SaveToSentItems": false
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    // Exchange submits asynchronously: the message arrives a moment after the 202.
    let mut delivered = false;
    for _ in 0..50 {
        let bob_inbox: Value = t
            .control(Method::GET, &format!("/mailboxes/{BOB}/messages"), None)
            .await
            .json()
            .await
            .unwrap();
        if bob_inbox["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["subject"] == "Pascal")
        {
            delivered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(delivered, "sendMail with PascalCase parameters delivered");
    let sent: Value = t
        .graph(
            Method::GET,
            "/me/mailFolders/sentitems/messages",
            &alice.access,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !sent["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["subject"] == "Pascal"),
        "SaveToSentItems: false was bound"
    );

    // move with DestinationId, createReply with Comment, forward with ToRecipients and Comment,
    // all also namespace-qualified.
    let m = seed(&t, "to move", None).await;
    let id = m["immutableId"].as_str().unwrap();
    let moved: Value = t
        .graph(
            Method::POST,
            &format!("/me/messages/{id}/move"),
            &alice.access,
        )
        .header("Prefer", IMMUTABLE)
        .json(&json!({"DestinationId": "archive"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moved["id"], id, "{moved}");
    let reply = t
        .graph(
            Method::POST,
            &format!("/me/messages/{id}/microsoft.graph.createReply"),
            &alice.access,
        )
        .json(&json!({"Comment": "pascal comment"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    let reply: Value = reply.json().await.unwrap();
    assert!(
        reply["body"]["content"]
            .as_str()
            .unwrap()
            .contains("pascal comment"),
        "{reply}"
    );
    let fwd = t
        .graph(
            Method::POST,
            &format!("/me/messages/{id}/forward"),
            &alice.access,
        )
        .json(&json!({"Comment": "fyi", "ToRecipients": [{"emailAddress": {"address": BOB}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(fwd.status(), 202);

    // getSchedule with the CSDL's names.
    let schedule = t
        .graph(Method::POST, "/me/calendar/getSchedule", &alice.access)
        .json(&json!({
            "Schedules": [BOB],
            "StartTime": {"dateTime": "2026-03-04T08:00:00", "timeZone": "UTC"},
            "EndTime": {"dateTime": "2026-03-04T18:00:00", "timeZone": "UTC"},
            "AvailabilityViewInterval": 60
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(schedule.status(), 200);
    let schedule: Value = schedule.json().await.unwrap();
    assert_eq!(schedule["value"][0]["scheduleId"], BOB, "{schedule}");
}

#[tokio::test]
async fn a_subscription_asks_up_to_10080_minutes_and_an_over_long_create_is_refused() {
    let t = spawn_sim().await;
    let hook = spawn_hook().await;
    let alice = t.sign_in(ALICE).await;
    let create = |minutes: i64, resource_data: bool| {
        let mut body = json!({"changeType": "created", "notificationUrl": hook.url,
            "resource": "me/mailFolders('Inbox')/messages", "clientState": "c",
            "expirationDateTime": (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339()});
        if resource_data {
            body["includeResourceData"] = json!(true);
        }
        t.graph(Method::POST, "/subscriptions", &alice.access)
            .json(&body)
            .send()
    };
    assert_eq!(create(10_079, false).await.unwrap().status(), 201);
    let refused = create(10_090, false).await.unwrap();
    assert_eq!(refused.status(), 400);
    let e: Value = refused.json().await.unwrap();
    assert_eq!(e["error"]["code"], "ExtensionError");
    // With resource data the limit is 1,440 minutes.
    assert_eq!(create(1_500, true).await.unwrap().status(), 400);
}
