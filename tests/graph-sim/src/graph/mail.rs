//! Mail: folders, messages, delta, sending (sendMail, drafts, replies, forwards), delivery
//! between seeded mailboxes, attachments and upload sessions.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{authenticate, max_page_size, Caller, MAIL_READ, MAIL_SEND, MAIL_WRITE};
use crate::directory::{self, MailboxKind};
use crate::mailbox::{new_item_id, ts, AttachmentInput, Mailbox, Message, MessageInput, Recipient};
use crate::notify::{self, Change, ResourceKind};
use crate::respond::{empty, json_status, GraphError, GraphResult};
use crate::state::{random_token, DeltaState, State as SimState, UploadSession};
use crate::SimRef;

pub const DEFAULT_PAGE_SIZE: usize = 10;
pub const MAX_ATTACHMENT_SIZE: usize = 150 * 1024 * 1024;
/// Graph refuses upload sessions for smaller attachments ("Attach large files to Outlook
/// messages": 3 MB, read as 3,000,000 bytes; a measurement puts Graph's floor at 2 MiB).
pub const MIN_UPLOAD_SESSION_SIZE: usize = 3_000_000;

pub fn routes() -> Router<SimRef> {
    Router::new()
        .route("/v1.0/me/mailFolders", get(list_folders))
        .route("/v1.0/me/mailFolders/{fid}", get(get_folder))
        .route(
            "/v1.0/me/mailFolders/{fid}/messages",
            get(list_folder_messages).post(create_in_folder),
        )
        .route("/v1.0/me/mailFolders/{fid}/messages/delta", get(delta))
        // Microsoft's SDKs call functions with OData's call syntax; Graph binds both.
        .route("/v1.0/me/mailFolders/{fid}/messages/delta()", get(delta))
        .route("/v1.0/me/messages", get(list_messages).post(create_draft))
        .route(
            "/v1.0/me/messages/{id}",
            get(get_message).patch(patch_message).delete(delete_message),
        )
        .route("/v1.0/me/messages/{id}/{action}", post(message_action))
        .route(
            "/v1.0/me/messages/{id}/attachments",
            get(list_attachments).post(add_attachment),
        )
        .route(
            "/v1.0/me/messages/{id}/attachments/createUploadSession",
            post(create_upload_session),
        )
        .route(
            "/v1.0/me/messages/{id}/attachments/{aid}",
            get(get_attachment).delete(delete_attachment),
        )
        .route("/v1.0/me/sendMail", post(send_mail))
        .route("/_upload/{token}", put(upload_chunk).delete(cancel_upload))
}

type Q = Query<HashMap<String, String>>;

fn select_of(q: &HashMap<String, String>) -> Option<Vec<String>> {
    q.get("$select").map(|s| {
        s.split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect()
    })
}

fn parse_json<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> Result<T, GraphError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "RequestBodyRead",
            format!("Invalid request body: {e}"),
        )
    })
}

/// Action parameters as Graph binds them: the CSDL spells them in PascalCase (`Message`,
/// `SaveToSentItems`, `Comment`, `ToRecipients`, `DestinationId`, `SendResponse`, ...) and
/// Microsoft's SDKs send that spelling; the docs use camelCase. Top-level names are bound with
/// their first letter lowered; a camelCase name wins over its PascalCase twin.
pub(crate) fn bind_action_parameters(v: Value) -> Value {
    let Value::Object(map) = v else { return v };
    let mut out = serde_json::Map::with_capacity(map.len());
    let mut pascal = Vec::new();
    for (k, v) in map {
        let mut chars = k.chars();
        match chars.next() {
            Some(c) if c.is_ascii_uppercase() => {
                pascal.push((format!("{}{}", c.to_ascii_lowercase(), chars.as_str()), v))
            }
            _ => {
                out.insert(k, v);
            }
        }
    }
    for (k, v) in pascal {
        out.entry(k).or_insert(v);
    }
    Value::Object(out)
}

/// An action's body, with its parameters bound as Graph binds them.
fn parse_action<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> Result<T, GraphError> {
    let v: Value = parse_json(body)?;
    if v.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(bind_action_parameters(v)).map_err(|e| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "RequestBodyRead",
            format!("Invalid request body: {e}"),
        )
    })
}

/// An action segment, bare (`send`) or namespace-qualified (`microsoft.graph.send`).
pub(crate) fn action_name(segment: &str) -> &str {
    segment.strip_prefix("microsoft.graph.").unwrap_or(segment)
}

/// Run `f` on the caller's mailbox, then dispatch any notifications it queued.
fn with_mailbox<T>(
    sim: &SimRef,
    caller: &Caller,
    f: impl FnOnce(&mut SimState, DateTime<Utc>) -> Result<T, GraphError>,
) -> Result<T, GraphError> {
    caller.require_mailbox()?;
    let now = sim.now();
    let out = {
        let mut st = sim.st();
        if !st.mailboxes.contains_key(caller.user.id) {
            return Err(GraphError::mailbox_not_enabled());
        }
        f(&mut st, now)
    };
    notify::dispatch(sim);
    out
}

fn mb<'a>(st: &'a mut SimState, caller: &Caller) -> &'a mut Mailbox {
    st.mailboxes
        .get_mut(caller.user.id)
        .expect("checked mailbox")
}

/// A mailbox over its quota can neither save nor send: 403 `ErrorQuotaExceeded`.
fn check_not_full(mbx: &Mailbox) -> Result<(), GraphError> {
    if mbx.sending.full {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "ErrorQuotaExceeded",
            "Mailbox has exceeded maximum mailbox size.",
        ));
    }
    Ok(())
}

/// The size Exchange measures against the mailbox's `MaxSendSize` (body plus attachments).
fn message_size(m: &Message) -> usize {
    m.body.len() + m.attachments.iter().map(|a| a.content.len()).sum::<usize>()
}

/// A message over the mailbox's `MaxSendSize`: 413 `ErrorMessageSizeExceeded`.
fn check_send_size(mbx: &Mailbox, size: usize) -> Result<(), GraphError> {
    if size > mbx.sending.max_send_size {
        return Err(GraphError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "ErrorMessageSizeExceeded",
            "The message exceeds the maximum supported size.",
        ));
    }
    Ok(())
}

/// What Exchange checks before it accepts a message for submission.
fn check_can_send(mbx: &Mailbox, m: &Message) -> Result<(), GraphError> {
    if let Some(code) = &mbx.sending.send_blocked {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            code,
            if code == "ErrorSendAsDenied" {
                "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account."
            } else {
                "Message submission is blocked for this mailbox."
            },
        ));
    }
    check_not_full(mbx)?;
    check_send_size(mbx, message_size(m))
}

fn change(mb: &Mailbox, idx: usize, change_type: &'static str) -> Change {
    let m = &mb.messages[idx];
    Change {
        user_id: mb.user_id.clone(),
        kind: ResourceKind::Messages,
        change_type,
        id: m.id.clone(),
        immutable_id: m.immutable_id.clone(),
        folder_id: Some(m.folder_id.clone()),
        etag: Some(m.etag()),
    }
}

fn removed(user_id: &str, m: &Message) -> Change {
    Change {
        user_id: user_id.to_string(),
        kind: ResourceKind::Messages,
        change_type: "deleted",
        id: m.id.clone(),
        immutable_id: m.immutable_id.clone(),
        folder_id: Some(m.folder_id.clone()),
        etag: None,
    }
}

/// Insert `m` into `user_id`'s mailbox and queue its `created` notification.
pub fn insert_message(st: &mut SimState, user_id: &str, m: Message) -> Option<(String, String)> {
    let mb = st.mailboxes.get_mut(user_id)?;
    let idx = mb.insert(m);
    let c = change(mb, idx, "created");
    let ids = (
        mb.messages[idx].id.clone(),
        mb.messages[idx].internet_message_id.clone(),
    );
    st.outbox.push(c);
    Some(ids)
}

/// Move message `idx` of `user_id`'s mailbox to `folder_id`, queueing deleted + created.
pub fn move_message(
    st: &mut SimState,
    user_id: &str,
    idx: usize,
    folder_id: &str,
    now: DateTime<Utc>,
) -> Option<usize> {
    let mb = st.mailboxes.get_mut(user_id)?;
    let old = mb.messages[idx].clone();
    let new_idx = mb.move_to(idx, folder_id, now);
    let created = change(mb, new_idx, "created");
    st.outbox.push(removed(user_id, &old));
    st.outbox.push(created);
    Some(new_idx)
}

/// Deliver a sent message: recipients with Exchange Online mailboxes get a copy in their
/// Inbox. Bcc is hidden from recipients.
pub fn deliver_to_recipients(st: &mut SimState, sent: &Message, now: DateTime<Utc>) {
    let mut seen: Vec<String> = Vec::new();
    for r in sent.to.iter().chain(&sent.cc).chain(&sent.bcc) {
        let Some(u) = directory::user(&r.email_address.address) else {
            continue;
        };
        if u.mailbox != MailboxKind::Online || seen.iter().any(|s| s == u.id) {
            continue;
        }
        seen.push(u.id.to_string());
        let Some(mbox) = st.mailboxes.get(u.id) else {
            continue;
        };
        let mut copy = sent.clone();
        copy.id = new_item_id("AAMkAGI2");
        copy.immutable_id = new_item_id("AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A");
        copy.folder_id = mbox.folder_id("inbox");
        copy.is_read = false;
        copy.is_draft = false;
        copy.bcc = Vec::new();
        copy.received = now;
        copy.created = now;
        copy.modified = now;
        copy.change_key = crate::mailbox::new_change_key();
        for a in copy.attachments.iter_mut() {
            a.id = new_item_id("AAMkAGI2AtT");
        }
        insert_message(st, u.id, copy);
    }
}

fn finalise_for_send(
    m: &mut Message,
    sender: &Recipient,
    now: DateTime<Utc>,
) -> Result<(), GraphError> {
    if m.to.is_empty() && m.cc.is_empty() && m.bcc.is_empty() {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidRecipients",
            "At least one recipient isn't valid., A message can't be sent because it contains no recipients.",
        ));
    }
    m.from = Some(sender.clone());
    m.sender = Some(sender.clone());
    m.is_draft = false;
    m.is_read = true;
    m.sent = Some(now);
    m.received = now;
    Ok(())
}

fn me_recipient(caller: &Caller) -> Recipient {
    Recipient::new(caller.user.upn, Some(caller.user.display_name))
}

fn message_response(sim: &SimRef, status: StatusCode, m: &Message, caller: &Caller) -> Response {
    let mut v = m.to_json(caller.immutable, None);
    if let Some(o) = v.as_object_mut() {
        let mut with_ctx = serde_json::Map::new();
        with_ctx.insert(
            "@odata.context".into(),
            json!(format!(
                "{}/v1.0/$metadata#users('{}')/messages/$entity",
                sim.base_url, caller.user.id
            )),
        );
        with_ctx.extend(o.clone());
        v = Value::Object(with_ctx);
    }
    json_status(status, v)
}

async fn list_folders(State(sim): State<SimRef>, headers: HeaderMap) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_READ)?;
    let value = with_mailbox(&sim, &caller, |st, _| {
        let mb = mb(st, &caller);
        Ok(mb
            .folders
            .iter()
            .map(|f| mb.folder_json(f))
            .collect::<Vec<_>>())
    })?;
    Ok(axum::Json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/mailFolders", sim.base_url, caller.user.id),
        "value": value,
    }))
    .into_response())
}

async fn get_folder(
    State(sim): State<SimRef>,
    Path(fid): Path<String>,
    headers: HeaderMap,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_READ)?;
    let mut v = with_mailbox(&sim, &caller, |st, _| {
        let mb = mb(st, &caller);
        let f = mb.folder(&fid).ok_or_else(GraphError::not_found)?;
        Ok(mb.folder_json(f))
    })?;
    v["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users('{}')/mailFolders/$entity",
        sim.base_url, caller.user.id
    ));
    Ok(axum::Json(v).into_response())
}

fn list(
    sim: &SimRef,
    caller: &Caller,
    fid: Option<&str>,
    q: &HashMap<String, String>,
    path: &str,
) -> GraphResult {
    caller.require_any(MAIL_READ)?;
    let top: usize = q
        .get("$top")
        .and_then(|t| t.parse().ok())
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, 1000);
    let skip: usize = q.get("$skip").and_then(|t| t.parse().ok()).unwrap_or(0);
    let select = select_of(q);
    let wanted_imid = q.get("$filter").and_then(|f| internet_message_id_filter(f));
    let (value, more) = with_mailbox(sim, caller, |st, _| {
        let mb = mb(st, caller);
        let folder = match fid {
            Some(f) => Some(mb.folder(f).ok_or_else(GraphError::not_found)?.id.clone()),
            None => None,
        };
        let mut msgs: Vec<&Message> = mb
            .messages
            .iter()
            .filter(|m| folder.as_ref().is_none_or(|f| &m.folder_id == f))
            .filter(|m| {
                wanted_imid
                    .as_ref()
                    .is_none_or(|w| &m.internet_message_id == w)
            })
            .collect();
        msgs.sort_by_key(|m| std::cmp::Reverse(m.received));
        let more = msgs.len() > skip + top;
        Ok((
            msgs.into_iter()
                .skip(skip)
                .take(top)
                .map(|m| m.to_json(caller.immutable, select.as_deref()))
                .collect::<Vec<_>>(),
            more,
        ))
    })?;
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/messages", sim.base_url, caller.user.id),
        "value": value,
    });
    if more {
        let mut next = url::Url::parse(&format!("{}{path}", sim.base_url)).expect("url");
        {
            let mut qp = next.query_pairs_mut();
            if let Some(s) = q.get("$select") {
                qp.append_pair("$select", s);
            }
            qp.append_pair("$top", &top.to_string());
            qp.append_pair("$skip", &(skip + top).to_string());
        }
        body["@odata.nextLink"] = json!(next.to_string());
    }
    Ok(axum::Json(body).into_response())
}

/// The one `$filter` form the simulator evaluates: `internetMessageId eq '<id>'` (an OData
/// string literal, `''` escaping a quote). Other filters are ignored, as before.
fn internet_message_id_filter(filter: &str) -> Option<String> {
    let f = filter.trim();
    let (property, rest) = f.split_once(char::is_whitespace)?;
    if !property.eq_ignore_ascii_case("internetMessageId") {
        return None;
    }
    let rest = rest.trim_start();
    let literal = rest
        .strip_prefix("eq")
        .or_else(|| rest.strip_prefix("EQ"))?
        .trim();
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

async fn list_messages(State(sim): State<SimRef>, headers: HeaderMap, Query(q): Q) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    list(&sim, &caller, None, &q, "/v1.0/me/messages")
}

async fn list_folder_messages(
    State(sim): State<SimRef>,
    Path(fid): Path<String>,
    headers: HeaderMap,
    Query(q): Q,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    list(
        &sim,
        &caller,
        Some(&fid),
        &q,
        &format!("/v1.0/me/mailFolders/{fid}/messages"),
    )
}

async fn get_message(
    State(sim): State<SimRef>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Q,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_READ)?;
    let select = select_of(&q);
    let v = with_mailbox(&sim, &caller, |st, _| {
        let mb = mb(st, &caller);
        let idx = mb.find(&id).ok_or_else(GraphError::not_found)?;
        Ok(mb.messages[idx].to_json(caller.immutable, select.as_deref()))
    })?;
    let mut out = serde_json::Map::new();
    out.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#users('{}')/messages/$entity",
            sim.base_url, caller.user.id
        )),
    );
    out.extend(v.as_object().cloned().unwrap_or_default());
    Ok(axum::Json(Value::Object(out)).into_response())
}

fn create(sim: &SimRef, caller: &Caller, fid: &str, body: &[u8]) -> GraphResult {
    caller.require_any(MAIL_WRITE)?;
    let input: MessageInput = parse_json(body)?;
    let m = with_mailbox(sim, caller, |st, now| {
        check_not_full(mb(st, caller))?;
        let folder = mb(st, caller)
            .folder(fid)
            .ok_or_else(GraphError::not_found)?
            .id
            .clone();
        let mut m = Message::from_input(input, &folder, now).map_err(GraphError::bad_request)?;
        if m.from.is_none() {
            m.from = Some(me_recipient(caller));
        }
        let (id, _) = insert_message(st, caller.user.id, m).expect("mailbox");
        let mb = mb(st, caller);
        Ok(mb.messages[mb.find(&id).expect("inserted")].clone())
    })?;
    Ok(message_response(sim, StatusCode::CREATED, &m, caller))
}

async fn create_draft(
    State(sim): State<SimRef>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    create(&sim, &caller, "drafts", &body)
}

async fn create_in_folder(
    State(sim): State<SimRef>,
    Path(fid): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    create(&sim, &caller, &fid, &body)
}

async fn patch_message(
    State(sim): State<SimRef>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_WRITE)?;
    let input: MessageInput = parse_json(&body)?;
    let m = with_mailbox(&sim, &caller, |st, now| {
        let mbx = mb(st, &caller);
        let idx = mbx.find(&id).ok_or_else(GraphError::not_found)?;
        {
            let m = &mut mbx.messages[idx];
            let draft_only = input.body.is_some()
                || input.to_recipients.is_some()
                || input.cc_recipients.is_some()
                || input.bcc_recipients.is_some();
            if draft_only && !m.is_draft {
                return Err(GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "ErrorInvalidPropertyUpdateSentMessage",
                    "Update operation is not supported for some properties of a sent message.",
                ));
            }
            if let Some(v) = input.is_read {
                m.is_read = v;
            }
            if let Some(v) = input.subject {
                m.subject = v;
            }
            if let Some(b) = input.body {
                m.body_type = crate::mailbox::normalise_body_type(b.content_type.as_deref());
                m.body = b.content.unwrap_or_default();
            }
            let n =
                |r: Vec<Recipient>| r.into_iter().map(Recipient::normalised).collect::<Vec<_>>();
            if let Some(v) = input.to_recipients {
                m.to = n(v);
            }
            if let Some(v) = input.cc_recipients {
                m.cc = n(v);
            }
            if let Some(v) = input.bcc_recipients {
                m.bcc = n(v);
            }
            if let Some(v) = input.reply_to {
                m.reply_to = n(v);
            }
            if let Some(v) = input.categories {
                m.categories = v;
            }
            if let Some(v) = input.importance {
                m.importance = v;
            }
            if let Some(f) = input.flag.and_then(|f| f.flag_status) {
                m.flag_status = f;
            }
        }
        mbx.touch(idx, now);
        let c = change(mbx, idx, "updated");
        let m = mbx.messages[idx].clone();
        st.outbox.push(c);
        Ok(m)
    })?;
    Ok(message_response(&sim, StatusCode::OK, &m, &caller))
}

async fn delete_message(
    State(sim): State<SimRef>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_WRITE)?;
    with_mailbox(&sim, &caller, |st, _| {
        let mbx = mb(st, &caller);
        let idx = mbx.find(&id).ok_or_else(GraphError::not_found)?;
        let m = mbx.remove(idx);
        st.outbox.push(removed(caller.user.id, &m));
        Ok(())
    })?;
    Ok(empty(StatusCode::NO_CONTENT))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActionBody {
    comment: Option<String>,
    message: Option<MessageInput>,
    to_recipients: Option<Vec<Recipient>>,
    destination_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendMailBody {
    message: Option<MessageInput>,
    save_to_sent_items: Option<bool>,
}

async fn send_mail(
    State(sim): State<SimRef>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_SEND)?;
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("text/plain") {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorMimeContentInvalidBase64String",
            "The simulator does not accept MIME content; send the message as JSON.",
        ));
    }
    let req: SendMailBody = parse_action(&body)?;
    let Some(input) = req.message else {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidParameter",
            "The value of the parameter 'Message' is empty.",
        ));
    };
    with_mailbox(&sim, &caller, |st, now| {
        let sent_folder = mb(st, &caller).folder_id("sentitems");
        let mut m =
            Message::from_input(input, &sent_folder, now).map_err(GraphError::bad_request)?;
        finalise_for_send(&mut m, &me_recipient(&caller), now)?;
        check_can_send(mb(st, &caller), &m)?;
        let sub = Submission::Message {
            user_id: caller.user.id.to_string(),
            message: Box::new(m),
            save: req.save_to_sent_items.unwrap_or(true),
        };
        submit_or_schedule(st, &sim, sub, now);
        Ok(())
    })?;
    Ok(empty(StatusCode::ACCEPTED))
}

/// What Exchange's transport does after `/send` or `sendMail` answered 202.
pub(crate) enum Submission {
    /// Move the draft (by immutable id) to Sent Items and deliver it.
    Draft {
        user_id: String,
        message_id: String,
        sender: Recipient,
    },
    /// `sendMail`: file the message in Sent Items (if asked) and deliver it.
    Message {
        user_id: String,
        message: Box<Message>,
        save: bool,
    },
}

/// Runs a submission now, or after the configured delay (Exchange sends asynchronously: "most
/// of the steps take place after the method response is returned").
fn submit_or_schedule(st: &mut SimState, sim: &SimRef, sub: Submission, now: DateTime<Utc>) {
    if st.submission.lose_next > 0 {
        st.submission.lose_next -= 1;
        return;
    }
    let delay = st.submission.delay_ms;
    if delay == 0 {
        submit(st, sub, now);
        return;
    }
    st.pending_submissions += 1;
    let sim = sim.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        let now = sim.now();
        {
            let mut st = sim.st();
            submit(&mut st, sub, now);
            st.pending_submissions = st.pending_submissions.saturating_sub(1);
        }
        notify::dispatch(&sim);
    });
}

fn submit(st: &mut SimState, sub: Submission, now: DateTime<Utc>) {
    match sub {
        Submission::Message {
            user_id,
            message,
            save,
        } => {
            if save {
                insert_message(st, &user_id, (*message).clone());
            }
            deliver_to_recipients(st, &message, now);
        }
        Submission::Draft {
            user_id,
            message_id,
            sender,
        } => {
            let Some(mbx) = st.mailboxes.get_mut(&user_id) else {
                return;
            };
            // Deleted before transport picked it up: nothing is sent.
            let Some(idx) = mbx.find(&message_id) else {
                return;
            };
            if !mbx.messages[idx].is_draft {
                // A second `/send` of an item already submitted. What Exchange does is not
                // documented; the simulator assumes the worst and sends it again.
                let again = mbx.messages[idx].clone();
                deliver_to_recipients(st, &again, now);
                return;
            }
            if finalise_for_send(&mut mbx.messages[idx], &sender, now).is_err() {
                return;
            }
            if mbx.messages[idx].delete_after_submit {
                // PidTagDeleteAfterSubmit: sent, then deleted; no copy in Sent Items.
                let sent = mbx.remove(idx);
                st.outbox.push(removed(&user_id, &sent));
                deliver_to_recipients(st, &sent, now);
                return;
            }
            let sent_folder = mbx.folder_id("sentitems");
            let new_idx = move_message(st, &user_id, idx, &sent_folder, now).expect("mailbox");
            let sent = st.mailboxes[&user_id].messages[new_idx].clone();
            deliver_to_recipients(st, &sent, now);
        }
    }
}

/// Send draft `idx`: what Exchange checks is checked now; the move to Sent Items (keeping the
/// immutable id) and the delivery are transport's, after the submission delay.
fn send_draft(
    st: &mut SimState,
    sim: &SimRef,
    caller: &Caller,
    idx: usize,
    now: DateTime<Utc>,
) -> Result<(), GraphError> {
    let sender = me_recipient(caller);
    let mbx = mb(st, caller);
    if !mbx.messages[idx].is_draft {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidOperation",
            "Only draft messages can be sent.",
        ));
    }
    // The recipients are checked on a copy: the draft stays a draft until transport has it.
    finalise_for_send(&mut mbx.messages[idx].clone(), &sender, now)?;
    check_can_send(mbx, &mbx.messages[idx])?;
    let sub = Submission::Draft {
        user_id: caller.user.id.to_string(),
        message_id: mbx.messages[idx].immutable_id.clone(),
        sender,
    };
    submit_or_schedule(st, sim, sub, now);
    Ok(())
}

fn quote(original: &Message, comment: &str) -> String {
    format!(
        "<html><body><div>{}</div><hr><div><b>From:</b> {}<br><b>Sent:</b> {}<br><b>Subject:</b> {}</div><div>{}</div></body></html>",
        crate::respond::escape(comment),
        original.from.as_ref().map(|f| f.email_address.address.clone()).unwrap_or_default(),
        original.sent.map(ts).unwrap_or_default(),
        crate::respond::escape(&original.subject),
        if original.body_type == "html" { original.body.clone() } else { crate::respond::escape(&original.body) },
    )
}

/// Build a reply / reply-all / forward draft of message `idx`, in Drafts.
fn make_response_draft(
    st: &mut SimState,
    caller: &Caller,
    idx: usize,
    kind: &str,
    body: ActionBody,
    now: DateTime<Utc>,
) -> Result<String, GraphError> {
    let mbx = mb(st, caller);
    let orig = mbx.messages[idx].clone();
    let drafts = mbx.folder_id("drafts");
    let comment = body.comment.clone().unwrap_or_default();
    let mut input = body.message.unwrap_or_default();
    if body.comment.is_some() && input.body.is_some() {
        return Err(GraphError::bad_request(
            "Specify either 'comment' or the body property of the 'message' parameter, not both.",
        ));
    }
    let explicit_body = input.body.take();
    let extra_to = input.to_recipients.take().or(body.to_recipients);
    let extra_cc = input.cc_recipients.take();
    let mut m = Message::from_input(input, &drafts, now).map_err(GraphError::bad_request)?;
    let me = caller.user.upn;
    let not_me = |r: &&Recipient| !r.email_address.address.eq_ignore_ascii_case(me);
    let (prefix, to, cc) = match kind {
        "createReply" | "reply" => {
            let to = if orig.reply_to.is_empty() {
                orig.from.clone().into_iter().collect()
            } else {
                orig.reply_to.clone()
            };
            ("RE: ", to, Vec::new())
        }
        "createReplyAll" | "replyAll" => {
            let mut to: Vec<Recipient> = if orig.reply_to.is_empty() {
                orig.from.clone().into_iter().collect()
            } else {
                orig.reply_to.clone()
            };
            to.extend(orig.to.iter().filter(not_me).cloned());
            let cc = orig.cc.iter().filter(not_me).cloned().collect();
            ("RE: ", to, cc)
        }
        _ => ("FW: ", Vec::new(), Vec::new()),
    };
    m.subject = format!("{prefix}{}", orig.subject);
    m.to = to;
    m.cc = cc;
    if let Some(t) = extra_to {
        m.to.extend(t.into_iter().map(Recipient::normalised));
    }
    if let Some(c) = extra_cc {
        m.cc.extend(c.into_iter().map(Recipient::normalised));
    }
    m.body_type = "html".into();
    m.body = match explicit_body {
        Some(b) => b.content.unwrap_or_default(),
        None => quote(&orig, &comment),
    };
    m.conversation_id = orig.conversation_id.clone();
    m.from = Some(me_recipient(caller));
    m.headers
        .push(("In-Reply-To".into(), orig.internet_message_id.clone()));
    if kind.starts_with("create") || kind == "forward" || kind.starts_with("reply") {
        m.attachments = if kind.contains("orward") {
            orig.attachments.clone()
        } else {
            Vec::new()
        };
    }
    let (id, _) = insert_message(st, caller.user.id, m).expect("mailbox");
    Ok(id)
}

async fn message_action(
    State(sim): State<SimRef>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    let action = action_name(&action).to_owned();
    match action.as_str() {
        "send" => {
            caller.require_any(MAIL_SEND)?;
            with_mailbox(&sim, &caller, |st, now| {
                let idx = mb(st, &caller)
                    .find(&id)
                    .ok_or_else(GraphError::not_found)?;
                send_draft(st, &sim, &caller, idx, now)
            })?;
            Ok(empty(StatusCode::ACCEPTED))
        }
        "createReply" | "createReplyAll" | "createForward" => {
            caller.require_any(MAIL_WRITE)?;
            let req: ActionBody = parse_action(&body)?;
            let m = with_mailbox(&sim, &caller, |st, now| {
                let idx = mb(st, &caller)
                    .find(&id)
                    .ok_or_else(GraphError::not_found)?;
                let new_id = make_response_draft(st, &caller, idx, &action, req, now)?;
                let mbx = mb(st, &caller);
                Ok(mbx.messages[mbx.find(&new_id).expect("draft")].clone())
            })?;
            Ok(message_response(&sim, StatusCode::CREATED, &m, &caller))
        }
        "reply" | "replyAll" | "forward" => {
            caller.require_any(MAIL_SEND)?;
            let req: ActionBody = parse_action(&body)?;
            with_mailbox(&sim, &caller, |st, now| {
                let idx = mb(st, &caller)
                    .find(&id)
                    .ok_or_else(GraphError::not_found)?;
                let new_id = make_response_draft(st, &caller, idx, &action, req, now)?;
                let new_idx = mb(st, &caller).find(&new_id).expect("draft");
                send_draft(st, &sim, &caller, new_idx, now)
            })?;
            Ok(empty(StatusCode::ACCEPTED))
        }
        "move" | "copy" => {
            caller.require_any(MAIL_WRITE)?;
            let req: ActionBody = parse_action(&body)?;
            let dest = req
                .destination_id
                .ok_or_else(|| GraphError::bad_request("destinationId is required."))?;
            let m = with_mailbox(&sim, &caller, |st, now| {
                let mbx = mb(st, &caller);
                let idx = mbx.find(&id).ok_or_else(GraphError::not_found)?;
                let folder = mbx
                    .folder(&dest)
                    .ok_or_else(GraphError::not_found)?
                    .id
                    .clone();
                let new_idx = if action == "move" {
                    move_message(st, caller.user.id, idx, &folder, now).expect("mailbox")
                } else {
                    let mut copy = mbx.messages[idx].clone();
                    copy.id = new_item_id("AAMkAGI2");
                    copy.immutable_id = new_item_id("AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A");
                    copy.folder_id = folder;
                    let (cid, _) = insert_message(st, caller.user.id, copy).expect("mailbox");
                    mb(st, &caller).find(&cid).expect("copy")
                };
                Ok(mb(st, &caller).messages[new_idx].clone())
            })?;
            Ok(message_response(&sim, StatusCode::CREATED, &m, &caller))
        }
        _ => Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Resource not found for the segment '{action}'."),
        )),
    }
}

fn attachment_ctx(sim: &SimRef, caller: &Caller, id: &str) -> String {
    format!(
        "{}/v1.0/$metadata#users('{}')/messages('{}')/attachments",
        sim.base_url, caller.user.id, id
    )
}

async fn list_attachments(
    State(sim): State<SimRef>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_READ)?;
    let value = with_mailbox(&sim, &caller, |st, _| {
        let mbx = mb(st, &caller);
        let idx = mbx.find(&id).ok_or_else(GraphError::not_found)?;
        Ok(mbx.messages[idx]
            .attachments
            .iter()
            .map(|a| a.to_json(true))
            .collect::<Vec<_>>())
    })?;
    Ok(
        axum::Json(json!({"@odata.context": attachment_ctx(&sim, &caller, &id), "value": value}))
            .into_response(),
    )
}

async fn get_attachment(
    State(sim): State<SimRef>,
    Path((id, aid)): Path<(String, String)>,
    headers: HeaderMap,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_READ)?;
    let mut v = with_mailbox(&sim, &caller, |st, _| {
        let mbx = mb(st, &caller);
        let idx = mbx.find(&id).ok_or_else(GraphError::not_found)?;
        let a = mbx.messages[idx]
            .attachments
            .iter()
            .find(|a| a.id == aid)
            .ok_or_else(GraphError::not_found)?;
        Ok(a.to_json(true))
    })?;
    v["@odata.context"] = json!(format!("{}/$entity", attachment_ctx(&sim, &caller, &id)));
    Ok(axum::Json(v).into_response())
}

async fn add_attachment(
    State(sim): State<SimRef>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_WRITE)?;
    let input: AttachmentInput = serde_json::from_slice(&body).map_err(|e| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "RequestBodyRead",
            format!("Invalid request body: {e}"),
        )
    })?;
    let mut v = with_mailbox(&sim, &caller, |st, now| {
        let a = input
            .into_attachment(now)
            .map_err(GraphError::bad_request)?;
        let json = a.to_json(true);
        let mbx = mb(st, &caller);
        check_not_full(mbx)?;
        let idx = mbx.find(&id).ok_or_else(GraphError::not_found)?;
        check_send_size(mbx, message_size(&mbx.messages[idx]) + a.content.len())?;
        mbx.messages[idx].attachments.push(a);
        mbx.touch(idx, now);
        let c = change(mbx, idx, "updated");
        st.outbox.push(c);
        Ok(json)
    })?;
    v["@odata.context"] = json!(format!("{}/$entity", attachment_ctx(&sim, &caller, &id)));
    Ok(json_status(StatusCode::CREATED, v))
}

async fn delete_attachment(
    State(sim): State<SimRef>,
    Path((id, aid)): Path<(String, String)>,
    headers: HeaderMap,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_WRITE)?;
    with_mailbox(&sim, &caller, |st, now| {
        let mbx = mb(st, &caller);
        let idx = mbx.find(&id).ok_or_else(GraphError::not_found)?;
        let before = mbx.messages[idx].attachments.len();
        mbx.messages[idx].attachments.retain(|a| a.id != aid);
        if mbx.messages[idx].attachments.len() == before {
            return Err(GraphError::not_found());
        }
        mbx.touch(idx, now);
        let c = change(mbx, idx, "updated");
        st.outbox.push(c);
        Ok(())
    })?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn create_upload_session(
    State(sim): State<SimRef>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_WRITE)?;
    let raw: Value = serde_json::from_slice(&body).map_err(|e| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "RequestBodyRead",
            format!("Invalid request body: {e}"),
        )
    })?;
    let item = raw
        .as_object()
        .and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("attachmentItem"))
                .map(|(_, v)| v.clone())
        })
        .ok_or_else(|| GraphError::bad_request("AttachmentItem is required."))?;
    let get = |k: &str| item.get(k).cloned().unwrap_or(Value::Null);
    let size = get("size")
        .as_u64()
        .ok_or_else(|| GraphError::bad_request("AttachmentItem.size is required."))?
        as usize;
    if size > MAX_ATTACHMENT_SIZE {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorAttachmentSizeLimitExceeded",
            "The attachment exceeds the maximum size of 150 MB.",
        ));
    }
    if size < MIN_UPLOAD_SESSION_SIZE {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
            "Attachment size should not be less than the minimum size of 3 MB for an upload session.",
        ));
    }
    let token = random_token(32);
    let now = sim.now();
    let expires = now + chrono::Duration::hours(6);
    with_mailbox(&sim, &caller, |st, _| {
        let mbx = mb(st, &caller);
        check_not_full(mbx)?;
        let idx = mbx.find(&id).ok_or_else(GraphError::not_found)?;
        let message_id = mbx.messages[idx].immutable_id.clone();
        st.remember_secret("upload_session_token", &token);
        st.remember_secret("upload_url", format!("{}/_upload/{token}", sim.base_url));
        st.upload_sessions.insert(
            token.clone(),
            UploadSession {
                user_id: caller.user.id.to_string(),
                message_id,
                name: get("name").as_str().unwrap_or("attachment").to_string(),
                content_type: get("contentType")
                    .as_str()
                    .unwrap_or("application/octet-stream")
                    .to_string(),
                is_inline: get("isInline").as_bool().unwrap_or(false),
                size,
                data: Vec::new(),
                expires,
            },
        );
        Ok(())
    })?;
    Ok(json_status(
        StatusCode::CREATED,
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#microsoft.graph.uploadSession", sim.base_url),
            "uploadUrl": format!("{}/_upload/{token}", sim.base_url),
            "expirationDateTime": ts(expires),
            "nextExpectedRanges": ["0-"],
        }),
    ))
}

fn parse_content_range(v: &str) -> Option<(usize, usize, usize)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    Some((
        a.trim().parse().ok()?,
        b.trim().parse().ok()?,
        total.trim().parse().ok()?,
    ))
}

async fn upload_chunk(
    State(sim): State<SimRef>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    let range = headers
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_content_range)
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "InvalidContentRange",
                "The Content-Range header is missing or malformed.",
            )
        })?;
    let (start, end, total) = range;
    let now = sim.now();
    let result = {
        let mut st = sim.st();
        let Some(s) = st.upload_sessions.get_mut(&token) else {
            return Err(GraphError::new(
                StatusCode::NOT_FOUND,
                "ItemNotFound",
                "The upload session was not found or has expired.",
            ));
        };
        if s.expires <= now {
            st.upload_sessions.remove(&token);
            return Err(GraphError::new(
                StatusCode::NOT_FOUND,
                "ItemNotFound",
                "The upload session was not found or has expired.",
            ));
        }
        if total != s.size
            || start != s.data.len()
            || end < start
            || end - start + 1 != body.len()
            || end >= total
        {
            let e = GraphError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                format!(
                    "The uploaded fragment does not match the expected range {}-.",
                    s.data.len()
                ),
            );
            return Err(e);
        }
        // Exchange refuses the bytes that take the message over the mailbox's MaxSendSize.
        let (user_id, message_id, received) =
            (s.user_id.clone(), s.message_id.clone(), s.data.len());
        let over = st.mailboxes.get(&user_id).and_then(|mbx| {
            let m = &mbx.messages[mbx.find(&message_id)?];
            check_send_size(mbx, message_size(m) + received + body.len()).err()
        });
        if let Some(e) = over {
            st.upload_sessions.remove(&token);
            return Err(e);
        }
        let s = st.upload_sessions.get_mut(&token).expect("session");
        s.data.extend_from_slice(&body);
        if s.data.len() < s.size {
            Ok((
                json!({"expirationDateTime": ts(s.expires), "nextExpectedRanges": [format!("{}-", s.data.len())]}),
                None,
            ))
        } else {
            let s = st.upload_sessions.remove(&token).expect("session");
            let att = crate::mailbox::Attachment {
                id: new_item_id("AAMkAGI2AtT"),
                name: s.name,
                content_type: s.content_type,
                content: s.data,
                is_inline: s.is_inline,
                content_id: None,
                modified: now,
            };
            let aid = att.id.clone();
            let Some(mbx) = st.mailboxes.get_mut(&s.user_id) else {
                return Err(GraphError::not_found());
            };
            let Some(idx) = mbx.find(&s.message_id) else {
                return Err(GraphError::not_found());
            };
            mbx.messages[idx].attachments.push(att);
            mbx.touch(idx, now);
            let c = change(mbx, idx, "updated");
            let mid = mbx.messages[idx].id.clone();
            st.outbox.push(c);
            Ok((
                Value::Null,
                Some(format!(
                    "{}/v1.0/Users('{}')/Messages('{mid}')/Attachments('{aid}')",
                    sim.base_url, s.user_id
                )),
            ))
        }
    };
    notify::dispatch(&sim);
    match result {
        Ok((v, None)) => Ok(json_status(StatusCode::OK, v)),
        Ok((_, Some(location))) => {
            let mut r = empty(StatusCode::CREATED);
            if let Ok(h) = HeaderValue::from_str(&location) {
                r.headers_mut().insert("location", h);
            }
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

async fn cancel_upload(State(sim): State<SimRef>, Path(token): Path<String>) -> GraphResult {
    match sim.st().upload_sessions.remove(&token) {
        Some(_) => Ok(empty(StatusCode::NO_CONTENT)),
        None => Err(GraphError::new(
            StatusCode::NOT_FOUND,
            "ItemNotFound",
            "The upload session was not found.",
        )),
    }
}

// ---- delta ----

/// The only `$filter` message delta supports: `receivedDateTime ge|gt {value}` (message-delta.md).
fn received_filter(raw: &str) -> Result<(DateTime<Utc>, bool), GraphError> {
    let unsupported = || {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidUrlQueryFilter",
            format!("The filter '{raw}' is not supported for delta; only 'receivedDateTime ge|gt {{value}}' is."),
        )
    };
    let parts: Vec<&str> = raw.split_whitespace().collect();
    let [field, op, value] = parts.as_slice() else {
        return Err(unsupported());
    };
    if !field.eq_ignore_ascii_case("receivedDateTime") {
        return Err(unsupported());
    }
    let inclusive = match op.to_ascii_lowercase().as_str() {
        "ge" => true,
        "gt" => false,
        _ => return Err(unsupported()),
    };
    let t = DateTime::parse_from_rfc3339(value.trim_matches('\''))
        .map_err(|_| unsupported())?
        .with_timezone(&Utc);
    Ok((t, inclusive))
}

fn sync_state_not_found(sim: &SimRef, fid: &str) -> GraphError {
    let _ = sim;
    let _ = fid;
    GraphError::new(
        StatusCode::GONE,
        "syncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
    )
}

async fn delta(
    State(sim): State<SimRef>,
    Path(fid): Path<String>,
    headers: HeaderMap,
    Query(q): Q,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(MAIL_READ)?;
    let token = q
        .get("$deltatoken")
        .or_else(|| q.get("$skiptoken"))
        .cloned();
    let page_pref = max_page_size(&headers);
    let base_path = format!("/v1.0/me/mailFolders/{fid}/messages/delta");
    let result = with_mailbox(&sim, &caller, |st, _| {
        let folder_id = mb(st, &caller)
            .folder(&fid)
            .ok_or_else(GraphError::not_found)?
            .id
            .clone();
        let state = match &token {
            Some(t) => {
                let s = st
                    .delta_tokens
                    .get(t)
                    .cloned()
                    .ok_or_else(|| sync_state_not_found(&sim, &fid))?;
                if s.expired || s.user_id != caller.user.id || s.folder_id != folder_id {
                    return Err(sync_state_not_found(&sim, &fid));
                }
                s
            }
            None => DeltaState {
                user_id: caller.user.id.to_string(),
                folder_id: folder_id.clone(),
                since: 0,
                pending: None,
                select: select_of(&q),
                received_from: match q.get("$filter") {
                    Some(f) => Some(received_filter(f)?),
                    None => None,
                },
                immutable: caller.immutable,
                page_size: DEFAULT_PAGE_SIZE,
                expired: false,
            },
        };
        let page_size = page_pref.unwrap_or(state.page_size).max(1);
        let immutable = state.immutable || caller.immutable;
        let mbx = mb(st, &caller);
        let (keys, round_end) = match &state.pending {
            Some((keys, end)) => (keys.clone(), *end),
            None => {
                let in_window = |m: &Message| match state.received_from {
                    Some((t, true)) => m.received >= t,
                    Some((t, false)) => m.received > t,
                    None => true,
                };
                let mut entries: Vec<(u64, String)> = mbx
                    .messages
                    .iter()
                    .filter(|m| m.folder_id == folder_id && m.seq > state.since && in_window(m))
                    .filter(|m| {
                        // Immutable ids: moved away and back between rounds reads as removed only.
                        !(immutable
                            && state.since > 0
                            && mbx.moved_away_and_back(m, &folder_id, state.since))
                    })
                    .map(|m| (m.seq, format!("m:{}", m.immutable_id)))
                    .collect();
                if state.since > 0 {
                    entries.extend(
                        mbx.tombstones
                            .iter()
                            .filter(|t| t.folder_id == folder_id && t.seq > state.since)
                            .map(|t| (t.seq, format!("r:{}|{}", t.id, t.immutable_id))),
                    );
                }
                entries.sort();
                (
                    entries.into_iter().map(|(_, k)| k).collect::<Vec<_>>(),
                    mbx.seq,
                )
            }
        };
        let (page, rest) = keys.split_at(page_size.min(keys.len()));
        let removed = |id: &str| json!({"@odata.type": "#microsoft.graph.message", "id": id, "@removed": {"reason": "deleted"}});
        let value: Vec<Value> = page
            .iter()
            .map(|k| {
                if let Some(imm) = k.strip_prefix("m:") {
                    match mbx
                        .messages
                        .iter()
                        .find(|m| m.immutable_id == imm && m.folder_id == folder_id)
                    {
                        Some(m) => m.to_json(immutable, state.select.as_deref()),
                        None => removed(imm),
                    }
                } else {
                    let (id, imm) = k[2..].split_once('|').unwrap_or((&k[2..], ""));
                    removed(if immutable { imm } else { id })
                }
            })
            .collect();
        let next_token = random_token(32);
        let next_state = DeltaState {
            since: if rest.is_empty() {
                round_end
            } else {
                state.since
            },
            pending: if rest.is_empty() {
                None
            } else {
                Some((rest.to_vec(), round_end))
            },
            page_size,
            immutable,
            ..state
        };
        let is_next = !rest.is_empty();
        st.delta_tokens.insert(next_token.clone(), next_state);
        Ok((value, is_next, next_token))
    });
    let (value, is_next, next_token) = match result {
        Ok(r) => r,
        Err(e) if e.status == StatusCode::GONE => {
            let mut r = axum::response::IntoResponse::into_response(e);
            if let Ok(h) = HeaderValue::from_str(&format!("{}{base_path}", sim.base_url)) {
                r.headers_mut().insert("location", h);
            }
            return Ok(r);
        }
        Err(e) => return Err(e),
    };
    let link = format!(
        "{}{base_path}?{}={next_token}",
        sim.base_url,
        if is_next { "$skiptoken" } else { "$deltatoken" }
    );
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(message)", sim.base_url),
        "value": value,
    });
    body[if is_next {
        "@odata.nextLink"
    } else {
        "@odata.deltaLink"
    }] = json!(link);
    let mut resp = axum::Json(body).into_response();
    if let Some(n) = page_pref {
        if let Ok(h) = HeaderValue::from_str(&format!("odata.maxpagesize={n}")) {
            resp.headers_mut().insert("preference-applied", h);
        }
    }
    Ok(resp)
}

/// Expire every delta and skip token of a user (control API).
pub fn expire_delta_tokens(st: &mut SimState, user_id: &str) -> usize {
    let mut n = 0;
    for s in st.delta_tokens.values_mut() {
        if s.user_id == user_id && !s.expired {
            s.expired = true;
            n += 1;
        }
    }
    n
}
