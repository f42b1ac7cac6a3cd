//! `POST /connections/claims`: the app redeems a sign-in's `result` in the session of whoever is
//! logged in, and only the app user who started the sign-in gets the mailbox.
//!
//! Order of checks: the code (altered or expired: refused before any lookup), the stored result
//! (used, discarded or expired: gone), the claimant (another app user: the result is discarded,
//! tokens and all, and nothing is attached), the mailbox's current owner (another app user and
//! no transfer asked: discarded, nothing changed). Then one transaction consumes the result and
//! writes the connection, its tokens and the outbox entries for its event(s) and first sync; a
//! failure before it commits leaves the result in place, so the same claim can be retried.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::result::{ResultCode, ResultCodeError};
use super::PendingConnection;
use crate::app::{Connector, SecretUseError};
use crate::connections::ConnectionView;
use crate::domain::{AppUserId, ConnectionStatus, ParseError, TenantId};
use crate::outbox::{self, OutboxEntry};
use crate::queue::SyncJob;
use crate::store::claims::Attach;
use crate::store::StoreError;
use crate::tenants::{self, TenantPolicyError};

/// `POST /connections/claims` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// The `result` the browser brought back to the app's return URL.
    pub result: String,
    /// The app user logged in where the browser landed.
    pub user_id: String,
}

/// The answer: the connection now owned by the claimant.
#[derive(Debug, Serialize)]
pub struct Claimed {
    pub connection: ConnectionView,
    /// Whether the mailbox was connected before (under this user, or moved from another).
    pub reconnected: bool,
    /// The app user the mailbox was moved from, when it was transferred.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transferred_from: Option<String>,
}

/// Why a claim was refused; `crate::failures` decides the answers.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error(transparent)]
    Code(ResultCodeError),
    #[error("the result was already claimed or discarded")]
    Gone,
    #[error("the result belongs to a sign-in started by another app user; it has been discarded")]
    WrongUser,
    #[error("the mailbox is connected under another app user and the sign-in did not ask for a transfer; the result has been discarded")]
    ConnectedElsewhere,
    /// The tenant was switched `off` since the sign-in: the result has been discarded.
    #[error(transparent)]
    TenantOff(TenantPolicyError),
    #[error("the mailbox changed while the claim was written; retry it")]
    Race(#[source] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretUseError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Claims a sign-in's result for `request.user_id`.
#[tracing::instrument(skip_all)]
pub async fn claim(
    c: &Connector,
    request: ClaimRequest,
    now: DateTime<Utc>,
) -> Result<Claimed, ClaimError> {
    let claimant = AppUserId::parse(&request.user_id)?;
    if request.result.is_empty() {
        return Err(ParseError::new("result", "must not be empty").into());
    }
    let code =
        ResultCode::open(&c.keyring().await?, &request.result, now).map_err(ClaimError::Code)?;
    let Some((pending, expires_at)) = c
        .store
        .get_connect_result::<PendingConnection>(&code.id)
        .await?
    else {
        return Err(ClaimError::Gone);
    };
    if expires_at <= now {
        c.store.drop_connect_result(&code.id).await?;
        return Err(ClaimError::Code(ResultCodeError::Expired));
    }
    if pending.user_id != claimant {
        c.store.drop_connect_result(&code.id).await?;
        tracing::warn!("a sign-in result was claimed by another app user; discarded");
        return Err(ClaimError::WrongUser);
    }
    let mut connection = pending.connection;
    let tenant = TenantId::parse("tenant_id", &connection.tenant_id)?;
    match tenants::admits_new_connections(&c.store, &tenant).await {
        Ok(()) => {}
        Err(TenantPolicyError::Store(e)) => return Err(e.into()),
        Err(refused) => {
            c.store.drop_connect_result(&code.id).await?;
            return Err(ClaimError::TenantOff(refused));
        }
    }
    let access = tenants::access_of(&c.store, &connection.tenant_id).await?;
    let existing = match c
        .store
        .find_connection_by_mailbox(&connection.tenant_id, &connection.ms_user_id)
        .await?
    {
        Some(id) => c.store.get_connection(&id).await?,
        None => None,
    };
    if let Some(existing) = &existing {
        if existing.user_id != claimant && !pending.transfer {
            c.store.drop_connect_result(&code.id).await?;
            return Err(ClaimError::ConnectedElsewhere);
        }
        if existing.id != connection.id {
            // The connection the sign-in saw was deleted and another made since: start again.
            c.store.drop_connect_result(&code.id).await?;
            return Err(ClaimError::Race(StoreError::Conflict(
                "the mailbox was reconnected meanwhile",
            )));
        }
        connection.created_at = existing.created_at;
    }
    connection.updated_at = now;
    let previous_owner = existing.as_ref().map(|e| e.user_id.clone());
    let previous_tokens = c.store.get_tokens(&connection.id).await?;
    let mut tokens = pending.tokens;
    tokens.version = previous_tokens.as_ref().map_or(0, |t| t.version) + 1;

    let view = ConnectionView::under(connection.clone(), access);
    let stamp = now.timestamp_millis();
    let mut entries = vec![OutboxEntry::event(
        "connection.connected",
        &serde_json::json!({
            "event_id": format!("connection.connected:{}:{stamp}", connection.id),
            "connection": view,
            "reconnected": existing.is_some(),
        }),
        now,
    )];
    let transferred_from = previous_owner.as_ref().filter(|o| **o != claimant).cloned();
    if let Some(from) = &transferred_from {
        entries.push(OutboxEntry::event(
            "connection.transferred",
            &serde_json::json!({
                "event_id": format!("connection.transferred:{}:{stamp}", connection.id),
                "connection": view,
                "from_user_id": from.as_str(),
                "to_user_id": claimant.as_str(),
            }),
            now,
        ));
    }
    if connection.status == ConnectionStatus::Active {
        entries.push(OutboxEntry::sync(
            SyncJob::Connected {
                connection_id: connection.id.clone(),
            },
            format!("connected:{}:{stamp}", connection.id),
            now,
        ));
    }
    c.store
        .attach_connection(Attach {
            result_id: &code.id,
            connection: &connection,
            previous_owner: previous_owner.as_ref(),
            tokens: &tokens,
            previous_token_version: previous_tokens.map(|t| t.version),
            outbox: &entries,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ClaimError::Race(e),
            other => ClaimError::Store(other),
        })?;
    tracing::info!(connection_id = %connection.id, transferred = transferred_from.is_some(), "sign-in claimed");
    // Delivered now; whatever fails stays in the outbox for the scheduled drain.
    if let Err(e) = outbox::deliver(c, &entries).await {
        tracing::warn!(error = %crate::http::chain(&e), connection_id = %connection.id, "connection event or first sync left in the outbox");
    }
    Ok(Claimed {
        connection: view,
        reconnected: existing.is_some(),
        transferred_from: transferred_from.map(|u| u.as_str().to_owned()),
    })
}

/// Deletes the results nobody claimed in time, tokens and all (DynamoDB's TTL would too, but
/// only within days). Run by the scheduled function; returns how many were deleted.
#[tracing::instrument(skip_all)]
pub async fn sweep_expired(c: &Connector, now: DateTime<Utc>) -> Result<usize, StoreError> {
    const PER_RUN: i32 = 500;
    let swept = c.store.sweep_connect_results(now, PER_RUN).await?;
    if swept > 0 {
        tracing::info!(swept, "unclaimed sign-in results deleted");
    }
    Ok(swept)
}
