//! Microsoft Graph v1.0: token and scope checks, `/me`, and the mail, subscription and
//! calendar routes.

pub mod calendar;
mod calendar_delta;
mod mail;
mod subscriptions;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::directory::{self, MailboxKind, User};
use crate::respond::{GraphError, GraphResult};
use crate::SimRef;

pub fn routes() -> Router<SimRef> {
    Router::new()
        .route("/v1.0/me", get(me))
        .merge(mail::routes())
        .merge(subscriptions::routes())
        .merge(calendar::routes())
}

/// The caller of a Graph request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: &'static User,
    pub tenant_id: String,
    pub scopes: Vec<&'static str>,
    /// `Prefer: IdType="ImmutableId"`.
    pub immutable: bool,
}

impl Caller {
    pub fn require_any(&self, needed: &[&str]) -> Result<(), GraphError> {
        if needed.iter().any(|n| self.scopes.contains(n)) {
            Ok(())
        } else {
            Err(GraphError::access_denied())
        }
    }

    /// Mail and calendar calls need an Exchange Online mailbox.
    pub fn require_mailbox(&self) -> Result<(), GraphError> {
        match self.user.mailbox {
            MailboxKind::Online => Ok(()),
            MailboxKind::NotEnabled | MailboxKind::Unlicensed => {
                Err(GraphError::mailbox_not_enabled())
            }
            MailboxKind::NoExchangeTenant => {
                Err(GraphError::organization_not_found(self.user.tenant_id))
            }
        }
    }
}

pub const MAIL_READ: &[&str] = &["Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"];
pub const MAIL_WRITE: &[&str] = &["Mail.ReadWrite"];
pub const MAIL_SEND: &[&str] = &["Mail.Send"];
pub const CAL_READ: &[&str] = &[
    "Calendars.Read",
    "Calendars.ReadWrite",
    "Calendars.Read.Shared",
];
pub const CAL_WRITE: &[&str] = &["Calendars.ReadWrite"];

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The user id behind a valid, unexpired bearer token (for logging and concurrency limits).
pub fn bearer_user(sim: &SimRef, headers: &HeaderMap) -> Option<String> {
    let token = bearer(headers)?;
    let st = sim.st();
    let g = st.access_tokens.get(token)?;
    (g.expires > sim.now()).then(|| g.user_id.clone())
}

/// Check the bearer token: 401 `InvalidAuthenticationToken` when missing, unknown or expired.
pub fn authenticate(sim: &SimRef, headers: &HeaderMap) -> Result<Caller, GraphError> {
    let Some(token) = bearer(headers).filter(|t| !t.is_empty()) else {
        return Err(GraphError::unauthenticated("Access token is empty."));
    };
    let grant = sim.st().access_tokens.get(token).cloned();
    let Some(grant) = grant else {
        return Err(GraphError::unauthenticated(
            "IDX14100: JWT is not well formed, there are no dots (.). The token needs to be in JWS or JWE Compact Serialization Format.",
        ));
    };
    if grant.expires <= sim.now() {
        return Err(GraphError::unauthenticated(
            "Lifetime validation failed, the token is expired.",
        ));
    }
    let user = directory::user_by_id(&grant.user_id).expect("seeded user");
    let immutable = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.replace(' ', "").contains("IdType=\"ImmutableId\""));
    Ok(Caller {
        user,
        tenant_id: grant.tenant_id,
        scopes: grant.scopes,
        immutable,
    })
}

/// `Prefer: odata.maxpagesize=N`.
pub fn max_page_size(headers: &HeaderMap) -> Option<usize> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| {
            p.trim()
                .strip_prefix("odata.maxpagesize=")?
                .trim()
                .parse()
                .ok()
        })
}

async fn me(State(sim): State<SimRef>, headers: HeaderMap) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(&["User.Read", "User.ReadBasic.All"])?;
    Ok(axum::Json(user_json(&sim, caller.user)).into_response())
}

pub fn user_json(sim: &SimRef, u: &User) -> serde_json::Value {
    json!({
        "@odata.context": format!("{}/v1.0/$metadata#users/$entity", sim.base_url),
        "businessPhones": [],
        "displayName": u.display_name,
        "givenName": u.given_name,
        "jobTitle": u.job_title,
        // Only a user with a mailbox has a mail address.
        "mail": if matches!(u.mailbox, MailboxKind::Online | MailboxKind::NotEnabled) { Some(u.upn) } else { None },
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": "en-US",
        "surname": u.surname,
        "userPrincipalName": u.upn,
        "id": u.id,
    })
}

pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/v1.0") {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                uri.path().rsplit('/').next().unwrap_or("")
            ),
        )
        .into_response()
    } else {
        (StatusCode::NOT_FOUND, "Not found").into_response()
    }
}

// ---- mailbox operations for the control API (they queue notifications like Graph calls) ----

/// Insert an arriving message; returns (id, internetMessageId, immutableId).
pub fn mail_insert(
    st: &mut crate::state::State,
    user_id: &str,
    m: crate::mailbox::Message,
) -> Option<(String, String, String)> {
    let imm = m.immutable_id.clone();
    mail::insert_message(st, user_id, m).map(|(id, imid)| (id, imid, imm))
}

pub fn mail_delete(st: &mut crate::state::State, user_id: &str, id: &str) -> bool {
    let Some(mb) = st.mailboxes.get_mut(user_id) else {
        return false;
    };
    let Some(idx) = mb.find(id) else {
        return false;
    };
    let m = mb.remove(idx);
    st.outbox.push(crate::notify::Change {
        user_id: user_id.to_string(),
        kind: crate::notify::ResourceKind::Messages,
        change_type: "deleted",
        id: m.id,
        immutable_id: m.immutable_id,
        folder_id: Some(m.folder_id),
        etag: None,
    });
    true
}

pub fn mail_move(
    st: &mut crate::state::State,
    user_id: &str,
    idx: usize,
    folder_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<serde_json::Value> {
    let new_idx = mail::move_message(st, user_id, idx, folder_id, now)?;
    let m = &st.mailboxes.get(user_id)?.messages[new_idx];
    let mut v = m.to_json(false, None);
    v["immutableId"] = json!(m.immutable_id);
    Some(v)
}

pub fn mail_update(
    st: &mut crate::state::State,
    user_id: &str,
    idx: usize,
    now: chrono::DateTime<chrono::Utc>,
    f: impl FnOnce(&mut crate::mailbox::Message),
) -> serde_json::Value {
    let Some(mb) = st.mailboxes.get_mut(user_id) else {
        return serde_json::Value::Null;
    };
    f(&mut mb.messages[idx]);
    mb.touch(idx, now);
    let m = mb.messages[idx].clone();
    st.outbox.push(crate::notify::Change {
        user_id: user_id.to_string(),
        kind: crate::notify::ResourceKind::Messages,
        change_type: "updated",
        id: m.id.clone(),
        immutable_id: m.immutable_id.clone(),
        folder_id: Some(m.folder_id.clone()),
        etag: Some(m.etag()),
    });
    m.to_json(false, None)
}

pub fn mail_expire_delta(st: &mut crate::state::State, user_id: &str) -> usize {
    mail::expire_delta_tokens(st, user_id) + calendar_delta::expire_tokens(st, user_id)
}
