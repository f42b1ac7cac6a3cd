//! The token service: a valid access token for a connection, refreshed when needed.
//!
//! - Cached: while the stored access token has more than [`EXPIRY_MARGIN`] left it is returned
//!   without calling the identity platform.
//! - One refresh at a time: a caller that needs a refresh first takes a short lease on the token
//!   item (a conditional write on the version it read). Concurrent callers that lose the lease wait
//!   for the new version instead of refreshing too, so N concurrent callers cause one token request.
//! - Rotation is atomic: the new set (with the rotated refresh token) replaces the old one only at
//!   the version that was read, so a stale writer can never overwrite a newer refresh token.
//! - `invalid_grant` and friends mark the connection `reauth_required` once (a conditional status
//!   change; only the caller that flips it publishes `connection.reauth_required`); transient
//!   failures are retried by the identity client and never change the status.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::app::Connector;
use crate::crypto::{CryptoError, Keyring};
use crate::domain::ConnectionId;
use crate::identity::{TokenError, TokenResponse};
use crate::store::{StoreError, StoredTokens};

/// An access token this close to expiry is refreshed first.
pub const EXPIRY_MARGIN: chrono::Duration = chrono::Duration::minutes(5);
/// How long a refresh lease lasts; a crashed holder delays others by at most this much.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(15);
const WAIT_STEP: Duration = Duration::from_millis(100);

/// The delegated scopes the connector asks for, exactly.
pub const SCOPES: [&str; 8] = [
    "openid",
    "email",
    "offline_access",
    "User.Read",
    "Mail.Read",
    "Mail.ReadWrite",
    "Mail.Send",
    "Calendars.ReadWrite",
];

#[derive(Debug, thiserror::Error)]
pub enum TokenServiceError {
    #[error("connection has no stored tokens")]
    NoTokens,
    #[error("the connection must be reconnected: {reason}")]
    ReauthRequired { reason: String },
    #[error("the identity platform is temporarily unavailable")]
    Transient(#[source] TokenError),
    #[error("token refresh was rejected")]
    Rejected(#[source] TokenError),
    #[error("stored tokens could not be decrypted")]
    Crypto(#[source] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("timed out waiting for a concurrent refresh")]
    LeaseTimeout,
    #[error("token set does not serialise")]
    Encode(#[source] serde_json::Error),
    #[error("a secret could not be read")]
    Secret(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What is encrypted into [`StoredTokens::ciphertext`].
#[derive(Serialize, Deserialize)]
struct TokenPlaintext {
    access_token: String,
    refresh_token: Option<String>,
    scopes: Vec<String>,
}

/// Encrypts a fresh token response for `id` at `version`.
pub fn seal(
    keyring: &Keyring,
    id: &ConnectionId,
    tokens: &TokenResponse,
    previous_refresh: Option<&str>,
    version: u64,
    now: DateTime<Utc>,
) -> Result<StoredTokens, TokenServiceError> {
    let plain = TokenPlaintext {
        access_token: tokens.access_token.expose_secret().to_owned(),
        // Microsoft does not always return a new refresh token; keep the old one then.
        refresh_token: tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .or_else(|| previous_refresh.map(str::to_owned)),
        scopes: tokens.scopes.clone(),
    };
    let bytes = serde_json::to_vec(&plain).map_err(TokenServiceError::Encode)?;
    let ciphertext = keyring
        .encrypt(id.as_str(), &bytes)
        .map_err(TokenServiceError::Crypto)?;
    let lifetime = chrono::Duration::seconds(i64::try_from(tokens.expires_in).unwrap_or(3600));
    Ok(StoredTokens {
        ciphertext,
        version,
        access_expires_at: now + lifetime,
        lease_until: None,
    })
}

fn open(
    keyring: &Keyring,
    id: &ConnectionId,
    stored: &StoredTokens,
) -> Result<TokenPlaintext, TokenServiceError> {
    let bytes = keyring
        .decrypt(id.as_str(), &stored.ciphertext)
        .map_err(TokenServiceError::Crypto)?;
    serde_json::from_slice(&bytes).map_err(TokenServiceError::Encode)
}

/// Returns a valid access token for the connection, refreshing (at most once across concurrent
/// callers) when the stored one is about to expire.
pub async fn access_token(
    c: &Connector,
    id: &ConnectionId,
) -> Result<SecretString, TokenServiceError> {
    current_token(c, id, None).await
}

/// A new access token after Graph refused `rejected` with 401 before its stated expiry (Microsoft
/// revokes tokens early: continuous access evaluation, password resets, clock skew). The stored
/// token is refreshed unless another caller already replaced it, so concurrent callers that saw
/// the same 401 still cause one refresh.
pub async fn access_token_after_rejection(
    c: &Connector,
    id: &ConnectionId,
    rejected: &SecretString,
) -> Result<SecretString, TokenServiceError> {
    current_token(c, id, Some(rejected)).await
}

/// Runs a Graph call with the connection's access token; when Graph refuses the token (401)
/// before its stated expiry, runs it once more with a new one (refreshed once across concurrent
/// callers). A refresh the identity platform rejects moves the connection to `reauth_required`,
/// as every refresh does. `call` must be safe to repeat (it failed the first time).
pub async fn with_access_token<T, E, F, Fut>(
    c: &Connector,
    id: &ConnectionId,
    call: F,
) -> Result<T, E>
where
    F: Fn(SecretString) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: crate::graph::GraphCause + From<TokenServiceError>,
{
    let token = access_token(c, id).await?;
    match call(token.clone()).await {
        Err(e) if is_rejected_token(&e) => {
            tracing::info!("Graph refused the access token; refreshing it and calling again");
            let fresh = access_token_after_rejection(c, id, &token).await?;
            call(fresh).await
        }
        other => other,
    }
}

fn is_rejected_token<E: crate::graph::GraphCause>(e: &E) -> bool {
    matches!(
        e.graph(),
        Some(crate::graph::GraphError::Api { status: 401, .. })
    )
}

async fn current_token(
    c: &Connector,
    id: &ConnectionId,
    rejected: Option<&SecretString>,
) -> Result<SecretString, TokenServiceError> {
    let store = &c.store;
    let keyring = c
        .keyring()
        .await
        .map_err(|e| TokenServiceError::Secret(Box::new(e)))?;
    let deadline =
        tokio::time::Instant::now() + LEASE.to_std().unwrap_or(Duration::from_secs(15)) * 2;
    loop {
        let now = Utc::now();
        let stored = store
            .get_tokens(id)
            .await?
            .ok_or(TokenServiceError::NoTokens)?;
        if stored.access_expires_at - EXPIRY_MARGIN > now {
            let token = open(&keyring, id, &stored)?.access_token;
            if rejected.is_none_or(|r| r.expose_secret() != token) {
                return Ok(SecretString::from(token));
            }
        }
        let lease_free = stored
            .lease_until
            .is_none_or(|until| until <= now.timestamp_millis());
        if lease_free
            && store
                .acquire_token_lease(id, stored.version, now, now + LEASE)
                .await?
        {
            return refresh(c, &keyring, id, &stored).await;
        }
        // Someone else is refreshing: wait for their new version rather than refreshing twice.
        if tokio::time::Instant::now() >= deadline {
            return Err(TokenServiceError::LeaseTimeout);
        }
        tokio::time::sleep(WAIT_STEP).await;
    }
}

#[tracing::instrument(skip_all, fields(connection_id = %id, version = stored.version))]
async fn refresh(
    c: &Connector,
    keyring: &Keyring,
    id: &ConnectionId,
    stored: &StoredTokens,
) -> Result<SecretString, TokenServiceError> {
    let store = &c.store;
    let plain = open(keyring, id, stored)?;
    let Some(refresh_token) = plain.refresh_token.as_deref() else {
        refresh_failed("reauth_required");
        return Err(flag_reauth(
            c,
            id,
            "no refresh token was issued (offline_access not granted)",
        )
        .await);
    };
    let scopes: Vec<&str> = SCOPES
        .iter()
        .copied()
        .filter(|s| *s != "openid" && *s != "email")
        .collect();
    let credentials = c
        .credentials()
        .await
        .map_err(|e| TokenServiceError::Secret(Box::new(e)))?;
    match c
        .identity
        .refresh(
            &credentials,
            &SecretString::from(refresh_token.to_owned()),
            &scopes,
        )
        .await
    {
        Ok(response) => {
            let now = Utc::now();
            let next = seal(
                keyring,
                id,
                &response,
                Some(refresh_token),
                stored.version + 1,
                now,
            )?;
            store.put_tokens(id, &next, Some(stored.version)).await?;
            tracing::info!(expires_at = %next.access_expires_at, "access token refreshed");
            Ok(response.access_token)
        }
        Err(e) if e.needs_reauth() => {
            refresh_failed("reauth_required");
            let reason = format!("refresh token rejected ({})", e);
            Err(flag_reauth(c, id, &reason).await)
        }
        Err(e) => {
            // Let the next caller try at once instead of waiting out the lease.
            let _ = store.release_token_lease(id, stored.version).await;
            refresh_failed(if e.is_transient() {
                "transient"
            } else {
                "rejected"
            });
            if e.is_transient() {
                tracing::warn!(error = %e, "token refresh failed transiently");
                Err(TokenServiceError::Transient(e))
            } else {
                Err(TokenServiceError::Rejected(e))
            }
        }
    }
}

/// Counts a failed refresh (the `TokenRefreshFailures` metric) with why it failed: the user must
/// reconnect (`reauth_required`), the identity platform failed for now (`transient`), or it
/// refused the request for another reason, such as the app's own credentials (`rejected`).
fn refresh_failed(reason: &'static str) {
    crate::metrics::emit(
        &[(crate::metrics::Metric::TokenRefreshFailures, 1)],
        &[("reason", reason)],
    );
}

/// Marks the connection `reauth_required` (once) and returns the error to report.
async fn flag_reauth(c: &Connector, id: &ConnectionId, reason: &str) -> TokenServiceError {
    match c.store.mark_reauth_required(id, reason, Utc::now()).await {
        Ok(true) => {
            tracing::warn!(connection_id = %id, "connection needs re-authentication");
            let detail = serde_json::json!({
                "event_id": format!("connection.reauth_required:{id}:{}", Utc::now().timestamp_millis()),
                "connection_id": id,
                "reason": reason,
            });
            if let Err(e) = c
                .events
                .publish("connection.reauth_required", &detail)
                .await
            {
                tracing::error!(connection_id = %id, error = %crate::http::chain(&e), "could not publish reauth event");
            }
        }
        Ok(false) => {}
        Err(e) => {
            tracing::error!(connection_id = %id, error = %crate::http::chain(&e), "could not flag connection")
        }
    }
    TokenServiceError::ReauthRequired {
        reason: reason.to_owned(),
    }
}
