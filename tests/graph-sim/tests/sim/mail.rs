use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn send_mail_delivers_to_seeded_inboxes_and_sent_items() {
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    let resp = t
        .graph(Method::POST, "/me/sendMail", &alice.access)
        .json(&json!({"message": {"subject": "Interview", "body": {"contentType": "Text", "content": "Hi Bob"},
            "toRecipients": [{"emailAddress": {"address": "bob@contoso.example"}}],
            "ccRecipients": [{"emailAddress": {"address": "carol@contoso.example"}}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    assert!(resp.text().await.unwrap().is_empty());
    t.submitted().await;
    let bob: Value = t
        .control(
            Method::GET,
            "/mailboxes/bob@contoso.example/messages?folder=inbox",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bob["value"][0]["subject"], "Interview");
    assert_eq!(
        bob["value"][0]["from"]["emailAddress"]["address"],
        "alice@contoso.example"
    );
    assert_eq!(bob["value"][0]["isRead"], false);
    let carol: Value = t
        .control(
            Method::GET,
            "/mailboxes/carol@contoso.example/messages?folder=inbox",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(carol["value"].as_array().unwrap().len(), 1);
    let sent: Value = t
        .control(
            Method::GET,
            "/mailboxes/alice@contoso.example/messages?folder=sentitems",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        sent["value"][0]["internetMessageId"],
        bob["value"][0]["internetMessageId"]
    );
}

#[tokio::test]
async fn send_mail_without_mail_send_scope_is_forbidden() {
    let t = spawn_sim().await;
    let alice = t
        .sign_in_with(
            "alice@contoso.example",
            ALL_SCOPES,
            Some(&["User.Read", "Mail.Read", "Mail.ReadWrite"]),
        )
        .await;
    let resp = t.graph(Method::POST, "/me/sendMail", &alice.access)
        .json(&json!({"message": {"subject": "x", "toRecipients": [{"emailAddress": {"address": "bob@contoso.example"}}]}}))
        .send().await.unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn draft_then_send_keeps_the_immutable_id_and_reply_threads_the_conversation() {
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    let draft: Value = t
        .graph(Method::POST, "/me/messages", &alice.access)
        .header("Prefer", "IdType=\"ImmutableId\"")
        .json(&json!({"subject": "Offer", "toRecipients": [{"emailAddress": {"address": "bob@contoso.example"}}]}))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(draft["isDraft"], true);
    let id = draft["id"].as_str().unwrap();
    let send = t
        .graph(
            Method::POST,
            &format!("/me/messages/{id}/send"),
            &alice.access,
        )
        .header("Prefer", "IdType=\"ImmutableId\"")
        .header("content-length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(send.status(), 202);
    t.submitted().await;
    let sent: Value = t
        .graph(Method::GET, &format!("/me/messages/{id}"), &alice.access)
        .header("Prefer", "IdType=\"ImmutableId\"")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["isDraft"], false);

    let bob = t.sign_in("bob@contoso.example").await;
    let inbox: Value = t
        .graph(Method::GET, "/me/mailFolders/inbox/messages", &bob.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mid = inbox["value"][0]["id"].as_str().unwrap();
    let reply: Value = t
        .graph(
            Method::POST,
            &format!("/me/messages/{mid}/createReply"),
            &bob.access,
        )
        .json(&json!({"comment": "Thanks!"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["subject"], "RE: Offer");
    assert_eq!(reply["conversationId"], inbox["value"][0]["conversationId"]);
    assert_eq!(
        reply["toRecipients"][0]["emailAddress"]["address"],
        "alice@contoso.example"
    );
}

#[tokio::test]
async fn delta_pages_then_reports_changes_and_removals_and_expired_tokens_give_410() {
    let t = spawn_sim().await;
    for i in 0..3 {
        t.control(Method::POST, "/mailboxes/alice@contoso.example/messages", Some(json!({"from": "cand@external.example", "subject": format!("m{i}"), "body": "hello"}))).await;
    }
    let alice = t.sign_in("alice@contoso.example").await;
    let p1: Value = t
        .graph(
            Method::GET,
            "/me/mailFolders/inbox/messages/delta?$select=subject",
            &alice.access,
        )
        .header("Prefer", "odata.maxpagesize=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p1["value"].as_array().unwrap().len(), 2);
    assert!(p1["value"][0].get("body").is_none(), "$select applies");
    let next = p1["@odata.nextLink"].as_str().unwrap();
    let p2: Value = t
        .http
        .get(next)
        .bearer_auth(&alice.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p2["value"].as_array().unwrap().len(), 1);
    let delta_link = p2["@odata.deltaLink"].as_str().unwrap().to_string();

    let first_id = p1["value"][0]["id"].as_str().unwrap();
    t.control(
        Method::DELETE,
        &format!("/mailboxes/alice@contoso.example/messages/{first_id}"),
        None,
    )
    .await;
    t.control(
        Method::POST,
        "/mailboxes/alice@contoso.example/messages",
        Some(json!({"from": "x@external.example", "subject": "new"})),
    )
    .await;
    let round: Value = t
        .http
        .get(&delta_link)
        .bearer_auth(&alice.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let vals = round["value"].as_array().unwrap();
    assert_eq!(vals.len(), 2);
    assert!(vals
        .iter()
        .any(|v| v["@removed"]["reason"] == "deleted" && v["id"] == first_id));
    assert!(vals.iter().any(|v| v["subject"] == "new"));

    t.control(
        Method::POST,
        "/users/alice@contoso.example/expire-delta-tokens",
        None,
    )
    .await;
    let gone = t
        .http
        .get(round["@odata.deltaLink"].as_str().unwrap())
        .bearer_auth(&alice.access)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 410);
    assert!(gone.headers().contains_key("location"));
    let e: Value = gone.json().await.unwrap();
    assert_eq!(e["error"]["code"], "syncStateNotFound");
}

#[tokio::test]
async fn bodies_over_4_mb_are_rejected_with_413() {
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    let big = "a".repeat(4 * 1024 * 1024 + 10);
    let resp = t.graph(Method::POST, "/me/sendMail", &alice.access)
        .json(&json!({"message": {"subject": "big", "body": {"content": big}, "toRecipients": [{"emailAddress": {"address": "bob@contoso.example"}}]}}))
        .send().await.unwrap();
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn upload_session_accepts_sequential_ranges_and_attaches_the_file() {
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    let draft: Value = t
        .graph(Method::POST, "/me/messages", &alice.access)
        .json(&json!({"subject": "cv"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = draft["id"].as_str().unwrap();
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    let session: Value = t.graph(Method::POST, &format!("/me/messages/{id}/attachments/createUploadSession"), &alice.access)
        .json(&json!({"AttachmentItem": {"attachmentType": "file", "name": "cv.pdf", "size": data.len()}}))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(session["nextExpectedRanges"][0], "0-");
    let upload = session["uploadUrl"].as_str().unwrap();
    let chunk = 3 * 1024 * 1024;
    let first = t
        .http
        .put(upload)
        .header(
            "content-range",
            format!("bytes 0-{}/{}", chunk - 1, data.len()),
        )
        .body(data[..chunk].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let v: Value = first.json().await.unwrap();
    assert_eq!(v["nextExpectedRanges"][0], format!("{chunk}-"));
    let wrong = t
        .http
        .put(upload)
        .header("content-range", format!("bytes 0-9/{}", data.len()))
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 416);
    let last = t
        .http
        .put(upload)
        .header(
            "content-range",
            format!("bytes {chunk}-{}/{}", data.len() - 1, data.len()),
        )
        .body(data[chunk..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), 201);
    assert!(last.headers().contains_key("location"));
    let atts: Value = t
        .graph(
            Method::GET,
            &format!("/me/messages/{id}/attachments"),
            &alice.access,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(atts["value"][0]["size"], data.len() as i64);
}

#[tokio::test]
async fn users_path_aliases_me_and_other_users_are_denied() {
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    let me = t
        .graph(
            Method::GET,
            "/users/alice@contoso.example/mailFolders/inbox",
            &alice.access,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let other = t
        .graph(
            Method::GET,
            "/users/bob@contoso.example/mailFolders/inbox",
            &alice.access,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
}

#[tokio::test]
async fn a_draft_keeps_a_client_internet_message_id_and_sent_items_can_be_filtered_by_it() {
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    let imid = "<it's-ours@connector.example>";
    for subject in ["other", "ours"] {
        let mut message = json!({"subject": subject,
            "toRecipients": [{"emailAddress": {"address": "bob@contoso.example"}}],
            "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt",
                "contentType": "text/plain", "contentBytes": "aGVsbG8="}]});
        if subject == "ours" {
            message["internetMessageId"] = json!(imid);
        }
        let draft: Value = t
            .graph(Method::POST, "/me/messages", &alice.access)
            .json(&message)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = draft["id"].as_str().unwrap();
        let sent = t
            .graph(
                Method::POST,
                &format!("/me/messages/{id}/send"),
                &alice.access,
            )
            .header("content-length", "0")
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 202);
    }
    t.submitted().await;

    let filter = format!("internetMessageId eq '{}'", imid.replace('\'', "''"));
    let found: Value = t
        .graph(
            Method::GET,
            "/me/mailFolders/sentitems/messages",
            &alice.access,
        )
        .query(&[
            ("$filter", filter.as_str()),
            ("$select", "id,internetMessageId"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let found = found["value"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["internetMessageId"], imid);
    let none: Value = t
        .graph(
            Method::GET,
            "/me/mailFolders/drafts/messages",
            &alice.access,
        )
        .query(&[("$filter", filter.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["value"].as_array().unwrap().len(), 0);

    // The control listing names each attachment's SHA-256 instead of its bytes.
    let inbox: Value = t
        .control(
            Method::GET,
            "/mailboxes/bob@contoso.example/messages?folder=inbox",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let attachment = &inbox["value"][0]["attachments"][0];
    assert_eq!(
        attachment["sha256"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert!(attachment.get("contentBytes").is_none());
}

#[tokio::test]
async fn an_inbound_message_with_thousands_of_recipients_and_a_huge_subject_is_delivered_as_sent() {
    // The 500-recipient limit is Exchange Online's for sending; the To and Cc headers of mail
    // from another system can name any number of addresses, and Graph returns them all.
    let t = spawn_sim().await;
    let alice = t.sign_in("alice@contoso.example").await;
    let to: Vec<Value> = (0..5000)
        .map(|i| json!({"address": format!("r{i}@crowd.example"), "name": format!("{i:04}{}", "n".repeat(196))}))
        .collect();
    let subject = "S".repeat(30 * 1024);
    let r = t
        .control(
            Method::POST,
            "/mailboxes/alice@contoso.example/messages",
            Some(json!({"from": "x@ext.example", "subject": subject, "to": to, "cc": to[..10]})),
        )
        .await;
    assert_eq!(r.status(), 201);
    let page: Value = t
        .graph(
            Method::GET,
            "/me/mailFolders/inbox/messages/delta?$select=subject,toRecipients,ccRecipients",
            &alice.access,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let m = &page["value"][0];
    assert_eq!(m["toRecipients"].as_array().unwrap().len(), 5000);
    assert_eq!(m["ccRecipients"].as_array().unwrap().len(), 10);
    assert_eq!(
        m["toRecipients"][4999]["emailAddress"]["name"]
            .as_str()
            .unwrap()
            .len(),
        200
    );
    assert_eq!(m["subject"].as_str().unwrap().len(), 30 * 1024);
}
