//! The control API under `/_sim/`: seed and inspect mailboxes, inject faults, fire lifecycle
//! events, revoke grants, expire tokens, rotate keys, move the clock, read the logs.

// Lookup helpers return the ready error response; boxing it would only add noise to test code.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::directory::{self, MailboxKind, User, TENANTS, USERS};
use crate::faults::{Fault, FaultSpec};
use crate::mailbox::{Message, MessageInput, Recipient};
use crate::notify::{self, NotifySettings};
use crate::SimRef;

pub fn routes() -> Router<SimRef> {
    Router::new()
        .route("/_sim/directory", get(directory_info))
        .route(
            "/_sim/mailboxes/{address}/messages",
            post(inbound).get(list_messages),
        )
        .route(
            "/_sim/mailboxes/{address}/messages/{id}",
            delete(delete_message).patch(patch_message),
        )
        .route(
            "/_sim/mailboxes/{address}/messages/{id}/move",
            post(move_message),
        )
        .route(
            "/_sim/mailboxes/{address}/events",
            get(list_events).post(create_event),
        )
        .route(
            "/_sim/mailboxes/{address}/events/{id}",
            delete(delete_event),
        )
        .route(
            "/_sim/mailboxes/{address}/events/{id}/respond",
            post(respond_to_event),
        )
        .route(
            "/_sim/mailboxes/{address}/occurrences/{id}",
            post(change_occurrence),
        )
        .route(
            "/_sim/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route("/_sim/faults/{id}", delete(remove_fault))
        .route("/_sim/subscriptions", get(list_subscriptions))
        .route("/_sim/subscriptions/{id}/lifecycle", post(fire_lifecycle))
        .route("/_sim/users/{address}/revoke", post(revoke))
        .route(
            "/_sim/users/{address}/expire-delta-tokens",
            post(expire_delta),
        )
        .route(
            "/_sim/users/{address}/expire-access-tokens",
            post(expire_access),
        )
        .route(
            "/_sim/tenants/{domain}/admin-consent",
            delete(reset_admin_consent),
        )
        .route(
            "/_sim/tenants/{domain}/user-consent",
            axum::routing::put(put_user_consent),
        )
        .route("/_sim/keys/rotate", post(rotate_keys))
        .route("/_sim/clock", get(clock))
        .route("/_sim/clock/advance", post(advance_clock))
        .route("/_sim/requests", get(requests).delete(clear_requests))
        .route("/_sim/issued-secrets", get(issued_secrets))
        .route(
            "/_sim/notifications",
            get(notifications).delete(clear_notifications),
        )
        .route("/_sim/settings", get(get_settings).put(put_settings))
        .route(
            "/_sim/mailboxes/{address}/sending",
            get(get_sending).put(put_sending),
        )
}

fn err(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

fn seeded_user(address: &str) -> Result<&'static User, Response> {
    directory::user(address)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("no seeded user '{address}'")))
}

fn online_user(address: &str) -> Result<&'static User, Response> {
    let u = seeded_user(address)?;
    if u.mailbox != MailboxKind::Online {
        return Err(err(
            StatusCode::CONFLICT,
            format!("'{address}' has no Exchange Online mailbox"),
        ));
    }
    Ok(u)
}

async fn directory_info(State(sim): State<SimRef>) -> Response {
    let st = sim.st();
    Json(json!({
        "baseUrl": sim.base_url,
        "clientId": sim.client_id,
        "tenants": TENANTS.iter().map(|t| json!({
            "id": t.id, "domain": t.domain, "initialDomain": t.initial_domain, "displayName": t.display_name,
            "userConsent": sim_user_consent(&st, t).as_str(),
            "adminConsentWorkflow": t.admin_consent_workflow,
            "assignmentRequired": t.assignment_required,
            "adminConsentedScopes": st.admin_consents.get(t.id).map(|s| s.iter().copied().collect::<Vec<_>>()).unwrap_or_default(),
            "servicePrincipal": st.service_principals.contains(t.id),
        })).collect::<Vec<_>>(),
        "users": USERS.iter().map(|u| json!({
            "id": u.id, "tenantId": u.tenant_id, "userPrincipalName": u.upn, "displayName": u.display_name,
            "mailbox": match u.mailbox {
                MailboxKind::Online => "exchangeOnline",
                MailboxKind::NotEnabled => "notEnabled",
                MailboxKind::Unlicensed => "unlicensed",
                MailboxKind::NoExchangeTenant => "noExchangeTenant",
            },
            "isAdmin": u.is_admin, "timeZone": u.time_zone,
        })).collect::<Vec<_>>(),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InboundBody {
    from: Value,
    subject: Option<String>,
    body: Option<Value>,
    to: Option<Vec<Value>>,
    cc: Option<Vec<Value>>,
    is_read: Option<bool>,
    folder: Option<String>,
    /// When the message was received (default: now), to seed old mail.
    received_date_time: Option<DateTime<Utc>>,
}

/// A recipient from `"addr"`, `{"address","name"}` or Graph's `{"emailAddress":{...}}`.
fn recipient(v: &Value) -> Option<Recipient> {
    match v {
        Value::String(s) => Some(Recipient::new(s, None)),
        Value::Object(o) => {
            let inner = o.get("emailAddress").unwrap_or(v);
            let address = inner.get("address")?.as_str()?;
            Some(Recipient::new(
                address,
                inner.get("name").and_then(Value::as_str),
            ))
        }
        _ => None,
    }
}

async fn inbound(
    State(sim): State<SimRef>,
    Path(address): Path<String>,
    Json(b): Json<InboundBody>,
) -> Response {
    let user = match online_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Some(from) = recipient(&b.from) else {
        return err(
            StatusCode::BAD_REQUEST,
            "'from' must be an address or {address, name}",
        );
    };
    let (body_type, content) = match &b.body {
        Some(Value::String(s)) => ("text".to_string(), s.clone()),
        Some(Value::Object(o)) => (
            crate::mailbox::normalise_body_type(o.get("contentType").and_then(Value::as_str)),
            o.get("content")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        _ => ("text".to_string(), String::new()),
    };
    let now = sim.now();
    let result = {
        let mut st = sim.st();
        let mb = st.mailboxes.get(user.id).expect("online mailbox");
        let Some(folder) = mb
            .folder(b.folder.as_deref().unwrap_or("inbox"))
            .map(|f| f.id.clone())
        else {
            return err(StatusCode::BAD_REQUEST, "unknown folder");
        };
        let mut m =
            Message::from_input(MessageInput::default(), &folder, now).expect("empty input");
        m.subject = b.subject.unwrap_or_default();
        m.body_type = body_type;
        m.body = content;
        m.from = Some(from.clone());
        m.sender = Some(from);
        m.to = match &b.to {
            Some(list) => list.iter().filter_map(recipient).collect(),
            None => vec![Recipient::new(user.upn, Some(user.display_name))],
        };
        m.cc =
            b.cc.as_ref()
                .map(|l| l.iter().filter_map(recipient).collect())
                .unwrap_or_default();
        m.is_draft = false;
        m.is_read = b.is_read.unwrap_or(false);
        m.sent = Some(now);
        if let Some(t) = b.received_date_time {
            m.received = t;
            m.sent = Some(t);
        }
        crate::graph::mail_insert(&mut st, user.id, m)
    };
    notify::dispatch(&sim);
    match result {
        Some((id, imid, immutable)) => (
            StatusCode::CREATED,
            Json(json!({"id": id, "immutableId": immutable, "internetMessageId": imid})),
        )
            .into_response(),
        None => err(StatusCode::NOT_FOUND, "mailbox not found"),
    }
}

async fn list_messages(
    State(sim): State<SimRef>,
    Path(address): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let user = match online_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let st = sim.st();
    let mb = st.mailboxes.get(user.id).expect("online mailbox");
    let folder = match q.get("folder") {
        Some(f) => match mb.folder(f) {
            Some(f) => Some(f.id.clone()),
            None => return err(StatusCode::BAD_REQUEST, "unknown folder"),
        },
        None => None,
    };
    let value: Vec<Value> = mb
        .messages
        .iter()
        .filter(|m| folder.as_ref().is_none_or(|f| &m.folder_id == f))
        .map(|m| {
            let mut v = m.to_json(false, None);
            v["immutableId"] = json!(m.immutable_id);
            v["folder"] = json!(mb
                .folders
                .iter()
                .find(|f| f.id == m.folder_id)
                .map(|f| f.well_known));
            // Bytes are left out (they can be 150 MB); their SHA-256 lets a test compare them.
            v["attachments"] = Value::Array(
                m.attachments
                    .iter()
                    .map(|a| {
                        let mut j = a.to_json(false);
                        j["sha256"] = json!(hex_sha256(&a.content));
                        j
                    })
                    .collect(),
            );
            v["internetMessageHeaders"] = Value::Array(
                m.headers
                    .iter()
                    .map(|(n, val)| json!({"name": n, "value": val}))
                    .collect(),
            );
            v
        })
        .collect();
    Json(json!({"value": value})).into_response()
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn find_message(sim: &SimRef, address: &str, id: &str) -> Result<(&'static User, usize), Response> {
    let user = online_user(address)?;
    let st = sim.st();
    let idx = st
        .mailboxes
        .get(user.id)
        .and_then(|mb| mb.find(id))
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "no such message"))?;
    Ok((user, idx))
}

async fn delete_message(
    State(sim): State<SimRef>,
    Path((address, id)): Path<(String, String)>,
) -> Response {
    let (user, _) = match find_message(&sim, &address, &id) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let ok = crate::graph::mail_delete(&mut sim.st(), user.id, &id);
    notify::dispatch(&sim);
    if ok {
        StatusCode::NO_CONTENT.into_response()
    } else {
        err(StatusCode::NOT_FOUND, "no such message")
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MoveBody {
    folder: String,
}

async fn move_message(
    State(sim): State<SimRef>,
    Path((address, id)): Path<(String, String)>,
    Json(b): Json<MoveBody>,
) -> Response {
    let (user, idx) = match find_message(&sim, &address, &id) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = sim.now();
    let moved = {
        let mut st = sim.st();
        let Some(folder) = st
            .mailboxes
            .get(user.id)
            .and_then(|mb| mb.folder(&b.folder))
            .map(|f| f.id.clone())
        else {
            return err(StatusCode::BAD_REQUEST, "unknown folder");
        };
        crate::graph::mail_move(&mut st, user.id, idx, &folder, now)
    };
    notify::dispatch(&sim);
    match moved {
        Some(v) => Json(v).into_response(),
        None => err(StatusCode::NOT_FOUND, "no such message"),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchBody {
    is_read: Option<bool>,
    subject: Option<String>,
}

async fn patch_message(
    State(sim): State<SimRef>,
    Path((address, id)): Path<(String, String)>,
    Json(b): Json<PatchBody>,
) -> Response {
    let (user, idx) = match find_message(&sim, &address, &id) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = sim.now();
    let v = {
        let mut st = sim.st();
        crate::graph::mail_update(&mut st, user.id, idx, now, |m| {
            if let Some(r) = b.is_read {
                m.is_read = r;
            }
            if let Some(s) = b.subject {
                m.subject = s;
            }
        })
    };
    notify::dispatch(&sim);
    Json(v).into_response()
}

async fn list_events(
    State(sim): State<SimRef>,
    Path(address): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let user = match online_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let cal = crate::graph::calendar::parse_query_time;
    match (q.get("startDateTime"), q.get("endDateTime")) {
        (None, None) => {
            Json(json!({"value": crate::graph::calendar::events_of(&sim, user.id)})).into_response()
        }
        (Some(s), Some(e)) => match (cal(s), cal(e)) {
            (Some(s), Some(e)) => Json(json!({"value": crate::graph::calendar::occurrences_of(
                &sim,
                user.id,
                s,
                e,
                &graph_sim_calendar::GraphTimeZone::utc()
            )}))
            .into_response(),
            _ => err(StatusCode::BAD_REQUEST, "bad startDateTime/endDateTime"),
        },
        _ => err(
            StatusCode::BAD_REQUEST,
            "give both startDateTime and endDateTime, or neither",
        ),
    }
}

/// Create an event in a mailbox's calendar from a Graph-shaped body (as if its owner had
/// created it: seeded attendees get the invitation, subscriptions fire).
async fn create_event(
    State(sim): State<SimRef>,
    Path(address): Path<String>,
    Json(b): Json<Value>,
) -> Response {
    let user = match online_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let now = sim.now();
    let res = {
        let mut st = sim.st();
        crate::graph::calendar::create_in(&mut st, user.id, &b, now)
    };
    notify::dispatch(&sim);
    match res {
        Ok((ev, _)) => {
            let mut v = ev.to_graph_json(&graph_sim_calendar::GraphTimeZone::utc());
            v["owner"] = json!(user.upn);
            (StatusCode::CREATED, Json(v)).into_response()
        }
        Err(e) => err(e.status, format!("{}: {}", e.code, e.message)),
    }
}

async fn delete_event(
    State(sim): State<SimRef>,
    Path((address, id)): Path<(String, String)>,
) -> Response {
    let user = match online_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let now = sim.now();
    let res = {
        let mut st = sim.st();
        crate::graph::calendar::delete_in(&mut st, user.id, &id, now)
    };
    notify::dispatch(&sim);
    match res {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => err(StatusCode::NOT_FOUND, "no such event"),
    }
}

/// The mailbox owner answers a meeting in Outlook: `{"response": "accept" | "tentativelyAccept"
/// | "decline"}`, as `POST /me/events/{id}/{response}` would.
async fn respond_to_event(
    State(sim): State<SimRef>,
    Path((address, id)): Path<(String, String)>,
    Json(b): Json<Value>,
) -> Response {
    let user = match online_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let response = match b["response"].as_str() {
        Some("accept") => graph_sim_calendar::ResponseType::Accepted,
        Some("tentativelyAccept") => graph_sim_calendar::ResponseType::TentativelyAccepted,
        Some("decline") => graph_sim_calendar::ResponseType::Declined,
        _ => {
            return err(
                StatusCode::BAD_REQUEST,
                "response must be accept, tentativelyAccept or decline",
            )
        }
    };
    let proposed = match b.get("proposedNewTime") {
        None | Some(Value::Null) => None,
        Some(slot) => match crate::graph::calendar::proposed_slot(slot) {
            Ok(p) => Some(p),
            Err(e) => return err(e.status, e.message),
        },
    };
    let now = sim.now();
    let res = {
        let mut st = sim.st();
        crate::graph::calendar::respond_in(&mut st, user.id, user.upn, &id, response, proposed, now)
    };
    notify::dispatch(&sim);
    match res {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => err(e.status, format!("{}: {}", e.code, e.message)),
    }
}

/// The organiser changes one occurrence of a series in Outlook: `{"start", "end"}` (RFC 3339)
/// moves it, `{"cancel": true}` cancels it; the id is the occurrence's calendarView id.
async fn change_occurrence(
    State(sim): State<SimRef>,
    Path((address, id)): Path<(String, String)>,
    Json(b): Json<Value>,
) -> Response {
    let user = match online_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let time = |k: &str| {
        b[k].as_str()
            .and_then(crate::graph::calendar::parse_query_time)
    };
    let to = if b["cancel"] == true {
        None
    } else {
        match (time("start"), time("end")) {
            (Some(s), Some(e)) => Some((s, e)),
            _ => {
                return err(
                    StatusCode::BAD_REQUEST,
                    "give start and end, or cancel: true",
                )
            }
        }
    };
    let now = sim.now();
    let res = {
        let mut st = sim.st();
        crate::graph::calendar::change_occurrence_in(&mut st, user.id, &id, to, now)
    };
    notify::dispatch(&sim);
    match res {
        Ok(ev) => Json(ev.to_graph_json(&graph_sim_calendar::GraphTimeZone::utc())).into_response(),
        Err(e) => err(e.status, format!("{}: {}", e.code, e.message)),
    }
}

async fn add_fault(State(sim): State<SimRef>, Json(spec): Json<FaultSpec>) -> Response {
    if spec.kind == crate::faults::FaultKind::ForeignLink
        && !spec
            .origin
            .as_deref()
            .and_then(|o| url::Url::parse(o).ok())
            .is_some_and(|u| u.has_host())
    {
        return err(
            StatusCode::BAD_REQUEST,
            "foreignLink needs an 'origin' such as http://127.0.0.1:9",
        );
    }
    let mut st = sim.st();
    st.fault_seq += 1;
    let f = Fault::new(format!("fault-{}", st.fault_seq), spec);
    let v = serde_json::to_value(&f).unwrap_or_default();
    st.faults.push(f);
    (StatusCode::CREATED, Json(v)).into_response()
}

async fn list_faults(State(sim): State<SimRef>) -> Response {
    Json(json!({"value": sim.st().faults})).into_response()
}

async fn clear_faults(State(sim): State<SimRef>) -> Response {
    sim.st().faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn remove_fault(State(sim): State<SimRef>, Path(id): Path<String>) -> Response {
    let mut st = sim.st();
    let before = st.faults.len();
    st.faults.retain(|f| f.id != id);
    if st.faults.len() < before {
        StatusCode::NO_CONTENT.into_response()
    } else {
        err(StatusCode::NOT_FOUND, "no such fault")
    }
}

async fn list_subscriptions(State(sim): State<SimRef>) -> Response {
    let st = sim.st();
    let value: Vec<Value> = st
        .subscriptions
        .iter()
        .map(|s| {
            let mut v = s.to_json(&sim.base_url);
            v["userId"] = json!(s.user_id);
            v["needsReauthorization"] = json!(s.needs_reauth);
            v
        })
        .collect();
    Json(json!({"value": value})).into_response()
}

#[derive(Debug, Deserialize)]
struct LifecycleBody {
    event: String,
}

async fn fire_lifecycle(
    State(sim): State<SimRef>,
    Path(id): Path<String>,
    Json(b): Json<LifecycleBody>,
) -> Response {
    if !matches!(
        b.event.as_str(),
        "reauthorizationRequired" | "subscriptionRemoved" | "missed"
    ) {
        return err(
            StatusCode::BAD_REQUEST,
            "event must be reauthorizationRequired, subscriptionRemoved or missed",
        );
    }
    let sub = {
        let mut st = sim.st();
        let Some(pos) = st.subscriptions.iter().position(|s| s.id == id) else {
            return err(StatusCode::NOT_FOUND, "no such subscription");
        };
        match b.event.as_str() {
            "subscriptionRemoved" => st.subscriptions.remove(pos),
            "reauthorizationRequired" => {
                st.subscriptions[pos].needs_reauth = true;
                st.subscriptions[pos].clone()
            }
            _ => st.subscriptions[pos].clone(),
        }
    };
    let sent = notify::lifecycle(&sim, &sub, &b.event);
    (
        StatusCode::ACCEPTED,
        Json(json!({"sent": sent, "subscriptionId": sub.id, "lifecycleEvent": b.event})),
    )
        .into_response()
}

async fn revoke(State(sim): State<SimRef>, Path(address): Path<String>) -> Response {
    let user = match seeded_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut st = sim.st();
    let mut n = 0;
    for g in st
        .refresh_tokens
        .values_mut()
        .filter(|g| g.user_id == user.id && !g.revoked)
    {
        g.revoked = true;
        n += 1;
    }
    Json(json!({"revokedRefreshTokens": n})).into_response()
}

async fn expire_delta(State(sim): State<SimRef>, Path(address): Path<String>) -> Response {
    let user = match seeded_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let n = crate::graph::mail_expire_delta(&mut sim.st(), user.id);
    Json(json!({"expiredTokens": n})).into_response()
}

async fn expire_access(State(sim): State<SimRef>, Path(address): Path<String>) -> Response {
    let user = match seeded_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let past = sim.now() - chrono::Duration::seconds(1);
    let mut st = sim.st();
    let mut n = 0;
    for g in st
        .access_tokens
        .values_mut()
        .filter(|g| g.user_id == user.id && g.expires > past)
    {
        g.expires = past;
        n += 1;
    }
    Json(json!({"expiredAccessTokens": n})).into_response()
}

fn sim_user_consent(st: &crate::state::State, t: &directory::Tenant) -> directory::UserConsent {
    st.user_consent.get(t.id).copied().unwrap_or(t.user_consent)
}

/// `PUT /_sim/tenants/{domain}/user-consent` `{"userConsent": "microsoftManaged" | "allowed" |
/// "disabled"}`: what a tenant admin changes under Entra's "Consent and permissions".
async fn put_user_consent(
    State(sim): State<SimRef>,
    Path(domain): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let Some(t) = directory::tenant(&domain) else {
        return err(StatusCode::NOT_FOUND, "no such tenant");
    };
    let Some(setting) = body["userConsent"]
        .as_str()
        .and_then(directory::UserConsent::parse)
    else {
        return err(
            StatusCode::BAD_REQUEST,
            "userConsent must be microsoftManaged, allowed or disabled",
        );
    };
    sim.st().user_consent.insert(t.id.to_string(), setting);
    Json(json!({"tenant": t.id, "userConsent": setting.as_str()})).into_response()
}

async fn reset_admin_consent(State(sim): State<SimRef>, Path(domain): Path<String>) -> Response {
    match directory::tenant(&domain) {
        Some(t) => {
            sim.st().admin_consents.remove(t.id);
            StatusCode::NO_CONTENT.into_response()
        }
        None => err(StatusCode::NOT_FOUND, "no such tenant"),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RotateBody {
    keep_previous: Option<usize>,
}

async fn rotate_keys(State(sim): State<SimRef>, body: axum::body::Bytes) -> Response {
    let b: RotateBody = serde_json::from_slice(&body).unwrap_or_default();
    let key = match tokio::task::spawn_blocking(crate::keys::SigningKey::generate).await {
        Ok(k) => k,
        Err(e) => return err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let mut keys = sim.keys.lock().unwrap_or_else(|e| e.into_inner());
    keys.rotate(key, b.keep_previous.unwrap_or(1));
    Json(json!({"kid": keys.current().kid, "published": keys.keys.iter().map(|k| k.kid.clone()).collect::<Vec<_>>()})).into_response()
}

async fn clock(State(sim): State<SimRef>) -> Response {
    Json(json!({"now": crate::mailbox::ts(sim.now())})).into_response()
}

#[derive(Debug, Deserialize)]
struct AdvanceBody {
    seconds: i64,
}

async fn advance_clock(State(sim): State<SimRef>, Json(b): Json<AdvanceBody>) -> Response {
    let offset = sim.advance_clock(b.seconds);
    Json(json!({"now": crate::mailbox::ts(sim.now()), "offsetSeconds": offset})).into_response()
}

async fn requests(State(sim): State<SimRef>, Query(q): Query<HashMap<String, String>>) -> Response {
    let st = sim.st();
    let since: u64 = q.get("since").and_then(|s| s.parse().ok()).unwrap_or(0);
    let value: Vec<_> = st
        .requests
        .iter()
        .filter(|r| r.seq > since)
        .filter(|r| q.get("path").is_none_or(|p| r.path.starts_with(p.as_str())))
        .filter(|r| {
            q.get("method")
                .is_none_or(|m| r.method.eq_ignore_ascii_case(m))
        })
        .cloned()
        .collect();
    Json(json!({"count": value.len(), "value": value})).into_response()
}

/// Every credential the simulator issued or was handed, the app's client secret first: what a
/// test run checks its logs against (README of the connector, "Secrets never in logs").
async fn issued_secrets(State(sim): State<SimRef>) -> Response {
    let st = sim.st();
    let value: Vec<Value> =
        std::iter::once(json!({"kind": "client_secret", "value": sim.client_secret}))
            .chain(
                st.issued_secrets
                    .iter()
                    .map(|s| json!({"kind": s.kind, "value": s.value})),
            )
            .collect();
    Json(json!({"count": value.len(), "value": value})).into_response()
}

async fn clear_requests(State(sim): State<SimRef>) -> Response {
    sim.st().requests.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn notifications(State(sim): State<SimRef>) -> Response {
    Json(json!({"value": sim.st().deliveries})).into_response()
}

async fn clear_notifications(State(sim): State<SimRef>) -> Response {
    sim.st().deliveries.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn get_settings(State(sim): State<SimRef>) -> Response {
    let st = sim.st();
    Json(json!({
        "notifications": st.notify_settings,
        "submission": st.submission,
        "pendingSubmissions": st.pending_submissions,
    }))
    .into_response()
}

/// Each part is optional: what is left out keeps its value.
#[derive(Debug, Deserialize)]
struct SettingsBody {
    notifications: Option<NotifySettings>,
    submission: Option<crate::state::SubmissionSettings>,
}

async fn put_settings(State(sim): State<SimRef>, Json(b): Json<SettingsBody>) -> Response {
    {
        let mut st = sim.st();
        if let Some(n) = b.notifications {
            st.notify_settings = n;
        }
        if let Some(s) = b.submission {
            st.submission = s;
        }
    }
    get_settings(State(sim)).await
}

async fn get_sending(Path(address): Path<String>, State(sim): State<SimRef>) -> Response {
    let u = match online_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let st = sim.st();
    match st.mailboxes.get(u.id) {
        Some(m) => Json(json!(m.sending)).into_response(),
        None => err(StatusCode::NOT_FOUND, "no mailbox"),
    }
}

/// Sets what the mailbox may send: `{"maxSendSize", "full", "sendBlocked"}`; left-out fields
/// take their defaults.
async fn put_sending(
    Path(address): Path<String>,
    State(sim): State<SimRef>,
    Json(b): Json<crate::mailbox::SendingPolicy>,
) -> Response {
    let u = match online_user(&address) {
        Ok(u) => u,
        Err(r) => return r,
    };
    if b.max_send_size > crate::mailbox::LARGEST_MAX_SEND_SIZE {
        return err(
            StatusCode::BAD_REQUEST,
            "maxSendSize is at most 157286400 (150 MB)",
        );
    }
    if let Some(m) = sim.st().mailboxes.get_mut(u.id) {
        m.sending = b;
    }
    get_sending(Path(address), State(sim)).await
}
