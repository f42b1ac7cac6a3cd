//! `/v1.0/subscriptions`: create (with the validation handshake), get, list, renew, delete,
//! reauthorize.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::{authenticate, Caller, CAL_READ, MAIL_READ};
use crate::notify::{self, ResourceKind, Subscription};
use crate::respond::{empty, json_status, GraphError, GraphResult};
use crate::SimRef;

/// Outlook message/event subscriptions without resource data live at most 10,080 minutes
/// (change-notifications-subscription-lifetime.md, ms.date 11/07/2024).
pub const MAX_LIFETIME_MINUTES: i64 = 10_080;
/// With resource data (rich notifications) the limit is 1,440 minutes.
pub const MAX_LIFETIME_WITH_RESOURCE_DATA_MINUTES: i64 = 1_440;
pub const MAX_PER_MAILBOX: usize = 1000;
pub const MAX_CLIENT_STATE: usize = 128;

pub fn routes() -> Router<SimRef> {
    Router::new()
        .route("/v1.0/subscriptions", post(create).get(list))
        .route(
            "/v1.0/subscriptions/{id}",
            get(get_one).patch(renew).delete(remove),
        )
        .route("/v1.0/subscriptions/{id}/reauthorize", post(reauthorize))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    change_type: Option<String>,
    notification_url: Option<String>,
    lifecycle_notification_url: Option<String>,
    resource: Option<String>,
    expiration_date_time: Option<String>,
    client_state: Option<String>,
    latest_supported_tls_version: Option<String>,
    include_resource_data: Option<bool>,
}

fn invalid(msg: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "InvalidRequest", msg)
}

/// Parse a subscription resource into (kind, well-known-or-id folder) for the caller.
pub fn parse_resource(
    raw: &str,
    caller: &Caller,
) -> Result<(ResourceKind, Option<String>), GraphError> {
    let path = raw.split('?').next().unwrap_or("").trim_matches('/');
    let segs: Vec<String> = path.split('/').map(|s| s.to_string()).collect();
    let rest: &[String] = match segs.first().map(|s| s.to_ascii_lowercase()) {
        Some(s) if s == "me" => &segs[1..],
        Some(s) if s == "users" && segs.len() > 1 => {
            let who = segs[1].trim_start_matches("('").trim_end_matches("')");
            match crate::directory::user(who) {
                Some(u) if u.id == caller.user.id => {}
                _ => return Err(GraphError::access_denied()),
            }
            &segs[2..]
        }
        Some(s) if s.starts_with("users(") => {
            let who = s.trim_start_matches("users('").trim_end_matches("')");
            match crate::directory::user(who) {
                Some(u) if u.id == caller.user.id => {}
                _ => return Err(GraphError::access_denied()),
            }
            &segs[1..]
        }
        _ => return Err(invalid(format!("Resource '{raw}' is not supported."))),
    };
    let lower: Vec<String> = rest.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    match l.as_slice() {
        ["messages"] => Ok((ResourceKind::Messages, None)),
        ["events"] | ["calendar", "events"] => Ok((ResourceKind::Events, None)),
        [folder, "messages"] if folder.starts_with("mailfolders('") => {
            let f = rest[0]
                .split_once("('")
                .map(|x| x.1)
                .unwrap_or("")
                .trim_end_matches("')");
            Ok((ResourceKind::Messages, Some(f.to_string())))
        }
        ["mailfolders", _, "messages"] => Ok((ResourceKind::Messages, Some(rest[1].clone()))),
        _ => Err(invalid(format!("Resource '{raw}' is not supported."))),
    }
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, GraphError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| invalid(format!("Invalid expirationDateTime '{s}'.")))
}

fn check_url(u: &str) -> Result<(), GraphError> {
    let parsed =
        url::Url::parse(u).map_err(|_| invalid(format!("Invalid notification URL '{u}'.")))?;
    let loopback = matches!(
        parsed.host_str(),
        Some("127.0.0.1") | Some("localhost") | Some("[::1]")
    );
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid("The Url scheme must be https (plain http is accepted only for loopback addresses by the simulator).")),
    }
}

/// Graph rejects an expiry beyond the resource's maximum instead of capping it
/// (`ExtensionError`, microsoft-graph-docs-contrib#7726).
fn checked_expiry(
    sim: &SimRef,
    requested: DateTime<Utc>,
    with_resource_data: bool,
) -> Result<DateTime<Utc>, GraphError> {
    let now = sim.now();
    if requested <= now {
        return Err(invalid(
            "Subscription expiration can only be in the future.",
        ));
    }
    let max = if with_resource_data {
        MAX_LIFETIME_WITH_RESOURCE_DATA_MINUTES
    } else {
        MAX_LIFETIME_MINUTES
    };
    if requested > now + chrono::Duration::minutes(max) {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ExtensionError",
            format!("Subscription expiration can only be {max} minutes in the future."),
        ));
    }
    Ok(requested)
}

fn owned(sim: &SimRef, caller: &Caller, id: &str) -> Result<Subscription, GraphError> {
    let now = sim.now();
    let st = sim.st();
    st.subscriptions
        .iter()
        .find(|s| s.id == id && s.user_id == caller.user.id && s.expiration > now)
        .cloned()
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("The object was not found. Subscription '{id}'"),
            )
        })
}

fn require_read(caller: &Caller, kind: ResourceKind) -> Result<(), GraphError> {
    caller.require_any(match kind {
        ResourceKind::Messages => MAIL_READ,
        ResourceKind::Events => CAL_READ,
    })
}

async fn create(
    State(sim): State<SimRef>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    let b: CreateBody = serde_json::from_slice(&body).map_err(|e| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            format!("Invalid request body: {e}"),
        )
    })?;
    let resource = b.resource.ok_or_else(|| invalid("resource is required."))?;
    let (kind, folder) = parse_resource(&resource, &caller)?;
    require_read(&caller, kind)?;
    caller.require_mailbox()?;
    let change_types: Vec<String> = b
        .change_type
        .ok_or_else(|| invalid("changeType is required."))?
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    if change_types.is_empty()
        || change_types
            .iter()
            .any(|c| !matches!(c.as_str(), "created" | "updated" | "deleted"))
    {
        return Err(invalid(
            "changeType must be a comma-separated combination of created, updated, deleted.",
        ));
    }
    let url = b
        .notification_url
        .ok_or_else(|| invalid("notificationUrl is required."))?;
    check_url(&url)?;
    if let Some(l) = &b.lifecycle_notification_url {
        check_url(l)?;
    }
    if b.client_state
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CLIENT_STATE)
    {
        return Err(invalid("clientState must be at most 128 characters."));
    }
    let expiration = checked_expiry(
        &sim,
        parse_time(
            &b.expiration_date_time
                .ok_or_else(|| invalid("expirationDateTime is required."))?,
        )?,
        b.include_resource_data.unwrap_or(false),
    )?;
    let folder_id = match folder {
        Some(f) => {
            let st = sim.st();
            let mb = st
                .mailboxes
                .get(caller.user.id)
                .ok_or_else(GraphError::mailbox_not_enabled)?;
            Some(mb.folder(&f).ok_or_else(GraphError::not_found)?.id.clone())
        }
        None => None,
    };
    {
        let now = sim.now();
        let st = sim.st();
        let n = st
            .subscriptions
            .iter()
            .filter(|s| s.user_id == caller.user.id && s.expiration > now)
            .count();
        if n >= MAX_PER_MAILBOX {
            return Err(GraphError::new(StatusCode::FORBIDDEN, "ExtensionError", "Operation: Create; Exception: [The maximum number of subscriptions (1000) for this mailbox has been reached.]"));
        }
    }
    if let Err(why) = notify::validate(&sim, &url).await {
        return Err(invalid(format!("Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. ({why})")));
    }
    if let Some(l) = &b.lifecycle_notification_url {
        if let Err(why) = notify::validate(&sim, l).await {
            return Err(invalid(format!("Subscription validation request failed. Lifecycle notification endpoint must respond with 200 OK to validation request. ({why})")));
        }
    }
    let sub = Subscription {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: caller.user.id.to_string(),
        tenant_id: caller.tenant_id.clone(),
        resource,
        kind,
        folder_id,
        change_types,
        notification_url: url,
        lifecycle_url: b.lifecycle_notification_url,
        client_state: b.client_state,
        expiration,
        application_id: sim.client_id.clone(),
        immutable_ids: caller.immutable,
        latest_tls: b
            .latest_supported_tls_version
            .unwrap_or_else(|| "v1_2".into()),
        include_resource_data: b.include_resource_data.unwrap_or(false),
        needs_reauth: false,
    };
    let v = sub.to_json(&sim.base_url);
    let mut st = sim.st();
    if let Some(state) = &sub.client_state {
        st.remember_secret("client_state", state);
    }
    st.subscriptions.push(sub);
    drop(st);
    Ok(json_status(StatusCode::CREATED, v))
}

async fn list(State(sim): State<SimRef>, headers: HeaderMap) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    let now = sim.now();
    let value: Vec<_> = sim
        .st()
        .subscriptions
        .iter()
        .filter(|s| s.user_id == caller.user.id && s.expiration > now)
        .map(|s| {
            let mut v = s.to_json(&sim.base_url);
            v.as_object_mut().map(|o| o.remove("@odata.context"));
            v
        })
        .collect();
    Ok(axum::Json(json!({"@odata.context": format!("{}/v1.0/$metadata#subscriptions", sim.base_url), "value": value})).into_response())
}

async fn get_one(
    State(sim): State<SimRef>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    let s = owned(&sim, &caller, &id)?;
    Ok(axum::Json(s.to_json(&sim.base_url)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RenewBody {
    expiration_date_time: Option<String>,
    notification_url: Option<String>,
}

async fn renew(
    State(sim): State<SimRef>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    let existing = owned(&sim, &caller, &id)?;
    require_read(&caller, existing.kind)?;
    let b: RenewBody = serde_json::from_slice(&body).map_err(|e| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            format!("Invalid request body: {e}"),
        )
    })?;
    let exp = checked_expiry(
        &sim,
        parse_time(
            &b.expiration_date_time
                .ok_or_else(|| invalid("expirationDateTime is required."))?,
        )?,
        existing.include_resource_data,
    )?;
    if let Some(u) = &b.notification_url {
        check_url(u)?;
        if let Err(why) = notify::validate(&sim, u).await {
            return Err(invalid(format!(
                "Subscription validation request failed. ({why})"
            )));
        }
    }
    let mut st = sim.st();
    let s = st
        .subscriptions
        .iter_mut()
        .find(|s| s.id == id)
        .ok_or_else(GraphError::not_found)?;
    s.expiration = exp;
    s.needs_reauth = false;
    if let Some(u) = b.notification_url {
        s.notification_url = u;
    }
    Ok(axum::Json(s.to_json(&sim.base_url)).into_response())
}

async fn remove(
    State(sim): State<SimRef>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    owned(&sim, &caller, &id)?;
    sim.st().subscriptions.retain(|s| s.id != id);
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn reauthorize(
    State(sim): State<SimRef>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    let existing = owned(&sim, &caller, &id)?;
    require_read(&caller, existing.kind)?;
    if let Some(s) = sim.st().subscriptions.iter_mut().find(|s| s.id == id) {
        s.needs_reauth = false;
    }
    Ok(empty(StatusCode::NO_CONTENT))
}
