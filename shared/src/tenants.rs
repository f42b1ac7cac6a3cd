//! Tenant access policy: what a Microsoft tenant's administrator lets the connector do with the
//! organisation's mailboxes, as in the reference product's admin settings. One level per tenant
//! ([`TenantAccess`]): `send_and_view` (the default), `view_only`, `off`.
//!
//! Where the level takes effect. The level is kept once, on the tenant's own item, and applied
//! where a capability is checked (a send, [`crate::sending`]) or shown (the connection views,
//! [`crate::connections`]), rather than copied onto each connection when it changes:
//! - a connection created later in a `view_only` tenant lacks sending with no help from the
//!   connect flow (which writes capabilities from the granted scopes, and reconnecting rewrites
//!   them: a copied restriction would be lost there);
//! - going back to `send_and_view` restores exactly what each connection's scopes grant, since
//!   the granted capabilities were never touched;
//! - the change is one conditional write, not one per connection that a failure could leave half
//!   done, and a send reads the tenant item consistently after reading its connection, so no send
//!   checked after the PUT returned is accepted.
//!
//! The price is one consistent GetItem per send and one per connection view (one BatchGetItem per
//! listed page); the item is small and read by key.
//!
//! `off` disconnects every connection of the tenant through [`crate::connections::delete`], the
//! code path of `DELETE /connections/{id}`, after the level is written: each connection is marked
//! `deleting` and its purge job queued (the purge itself runs on the sync queue, see
//! `crate::sync::purge`). A failure half-way is finished by repeating the request (every `off`
//! request marks whatever connection of the tenant is left and queues its purge again). The
//! connect flow asks [`admits_new_connections`] before creating a connection.

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::app::Connector;
use crate::connections::{self, ConnectionsError, Deletion};
use crate::domain::{ConnectionId, ParseError, TenantId};
use crate::events::PublishError;
use crate::store::{Store, StoreError, TenantPolicyRecord};

pub use crate::domain::TenantAccess;

/// The event published when a tenant's level changes.
pub const POLICY_CHANGED: &str = "tenant.policy_changed";
/// How many connections of a tenant being switched off are marked at once. Each is three DynamoDB
/// calls and one SQS call; sequentially a large tenant would outlive the function's timeout sooner
/// (a repeated request still finishes the job).
const DISCONNECT_CONCURRENCY: usize = 8;
/// How often a change is retried when another administrator's change to the same tenant won the
/// race in between reading and writing.
const WRITE_ATTEMPTS: usize = 3;

/// Why a tenant policy use case failed; `crate::failures` decides the answers.
#[derive(Debug, thiserror::Error)]
pub enum TenantPolicyError {
    #[error(transparent)]
    Invalid(#[from] ParseError),
    /// The tenant is `off`: it admits no connection.
    #[error("tenant {tenant} is switched off by its access policy: it admits no connections")]
    ConnectionsRefused { tenant: String },
    #[error("the tenant's policy kept changing concurrently")]
    Concurrent(#[source] StoreError),
    #[error("disconnecting connection {id} of a tenant switched off failed")]
    Disconnect {
        id: ConnectionId,
        #[source]
        source: ConnectionsError,
    },
    #[error("publishing {POLICY_CHANGED} failed")]
    Publish(#[source] PublishError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `PUT /tenants/{tenant}/policy` body: a JSON object with `access` and nothing else.
#[derive(Debug, Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct PolicyRequest {
    access: Option<String>,
}

/// The fields of [`PolicyRequest`]. Read through an object first because serde would also fill a
/// struct from a JSON array (`["off"]`), which is not a body this route takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFields {
    access: Option<String>,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for PolicyRequest {
    type Error = serde_json::Error;

    fn try_from(object: serde_json::Map<String, serde_json::Value>) -> Result<Self, Self::Error> {
        let fields: PolicyFields = serde_json::from_value(serde_json::Value::Object(object))?;
        Ok(Self {
            access: fields.access,
        })
    }
}

impl PolicyRequest {
    /// The level asked for.
    pub fn parse(&self) -> Result<TenantAccess, ParseError> {
        let raw = self
            .access
            .as_deref()
            .ok_or_else(|| ParseError::new("access", "is required"))?;
        TenantAccess::parse("access", raw)
    }
}

/// A tenant's policy as the API answers it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TenantPolicy {
    pub tenant: String,
    pub access: TenantAccess,
    /// When the level was last set; `null` for a tenant at the default that nobody set.
    pub updated_at: Option<DateTime<Utc>>,
    /// How many connections this request started disconnecting (`off` only): marked `deleting`,
    /// their purge queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disconnected: Option<usize>,
}

impl TenantPolicy {
    fn of(tenant: &TenantId, record: Option<&TenantPolicyRecord>) -> Self {
        Self {
            tenant: tenant.as_str().to_owned(),
            access: record.map(|r| r.access).unwrap_or_default(),
            updated_at: record.map(|r| r.updated_at),
            disconnected: None,
        }
    }
}

/// The level a connection's tenant is at, for the send check and the views. `tenant_id` is as
/// stored on the connection (Microsoft's `tid`, a lower-case GUID).
pub async fn access_of(store: &Store, tenant_id: &str) -> Result<TenantAccess, StoreError> {
    Ok(store
        .tenant_policy(&storage_form(tenant_id))
        .await?
        .map(|r| r.access)
        .unwrap_or_default())
}

/// A tenant id in the form its policy is keyed by ([`TenantId`]'s), whatever case it came in.
pub(crate) fn storage_form(tenant_id: &str) -> String {
    TenantId::parse("tenant_id", tenant_id)
        .map(TenantId::into_string)
        .unwrap_or_else(|_| tenant_id.to_owned())
}

/// Whether a tenant admits a new connection: `Ok` unless its level is `off`, then
/// [`TenantPolicyError::ConnectionsRefused`] (a 403 `tenant-policy` problem through
/// `crate::failures`). The connect flow calls it once it knows the signing-in user's tenant (the
/// id_token's `tid`) and before it creates or updates the connection; reconnecting an existing
/// mailbox is refused the same way, since an `off` tenant keeps none.
///
/// A sign-in that passed this check just before an administrator switched the tenant off can
/// still create its connection after the purge listed the tenant's connections; such a connection
/// has no capabilities ([`TenantAccess::permits`]) and the next `off` request removes it.
#[tracing::instrument(skip_all, fields(tenant = %tenant.as_str()))]
pub async fn admits_new_connections(
    store: &Store,
    tenant: &TenantId,
) -> Result<(), TenantPolicyError> {
    match store
        .tenant_policy(tenant.as_str())
        .await?
        .map(|r| r.access)
    {
        Some(TenantAccess::Off) => {
            tracing::info!("tenant is off: connection refused");
            Err(TenantPolicyError::ConnectionsRefused {
                tenant: tenant.as_str().to_owned(),
            })
        }
        _ => Ok(()),
    }
}

/// `GET /tenants/{tenant}/policy`: the tenant's level, the default when none was set.
pub async fn get_policy(store: &Store, tenant: &TenantId) -> Result<TenantPolicy, StoreError> {
    let record = store.tenant_policy(tenant.as_str()).await?;
    Ok(TenantPolicy::of(tenant, record.as_ref()))
}

/// `PUT /tenants/{tenant}/policy`: sets the level, then (for `off`) disconnects every connection
/// of the tenant, then publishes `tenant.policy_changed` if this level is a change not yet
/// announced. Repeating the request is safe and finishes whatever an earlier one left undone.
#[tracing::instrument(skip_all, fields(tenant = %tenant.as_str(), access = access.as_str()))]
pub async fn set_policy(
    c: &Connector,
    tenant: &TenantId,
    access: TenantAccess,
) -> Result<TenantPolicy, TenantPolicyError> {
    let record = write(&c.store, tenant, access, Utc::now()).await?;
    let disconnected = match access {
        TenantAccess::Off => Some(disconnect_all(c, tenant).await?),
        _ => None,
    };
    // After the marks: a consumer told a tenant is off can rely on its connections being
    // `deleting`, syncing and sending nothing (each announced by its own connection.deleted once
    // purged).
    if !record.announced {
        let detail = serde_json::json!({
            "event_id": format!("{POLICY_CHANGED}:{}:{}", tenant.as_str(), record.version),
            "tenant": tenant.as_str(),
            "old_access": record.previous,
            "new_access": record.access,
            "updated_at": record.updated_at,
        });
        c.events
            .publish(POLICY_CHANGED, &detail)
            .await
            .map_err(TenantPolicyError::Publish)?;
        c.store
            .mark_tenant_policy_announced(tenant.as_str(), record.version)
            .await?;
    }
    tracing::info!(
        old = record.previous.as_str(),
        disconnected,
        "tenant policy set"
    );
    Ok(TenantPolicy {
        disconnected,
        ..TenantPolicy::of(tenant, Some(&record))
    })
}

/// Writes the level unless the tenant is already at it; returns the record in force. Setting the
/// default on a tenant that never had a level records it without a change to announce.
async fn write(
    store: &Store,
    tenant: &TenantId,
    access: TenantAccess,
    now: DateTime<Utc>,
) -> Result<TenantPolicyRecord, TenantPolicyError> {
    let mut lost = None;
    for _ in 0..WRITE_ATTEMPTS {
        let current = store.tenant_policy(tenant.as_str()).await?;
        if let Some(current) = current.as_ref().filter(|r| r.access == access) {
            return Ok(current.clone());
        }
        let previous = current.as_ref().map(|r| r.access).unwrap_or_default();
        let record = TenantPolicyRecord {
            tenant_id: tenant.as_str().to_owned(),
            access,
            previous,
            version: current.as_ref().map_or(1, |r| r.version + 1),
            updated_at: now,
            announced: previous == access,
        };
        match store
            .put_tenant_policy(&record, current.map(|r| r.version))
            .await
        {
            Ok(()) => return Ok(record),
            Err(e @ StoreError::Conflict(_)) => lost = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(TenantPolicyError::Concurrent(lost.unwrap_or(
        StoreError::Conflict("the tenant's policy changed since it was read"),
    )))
}

/// Disconnects every connection of the tenant exactly as `DELETE /connections/{id}` does;
/// returns how many this call marked `deleting` (those already being deleted get their purge
/// queued again but are not counted). Stops at the first failure (the rest wait for the repeated
/// request).
async fn disconnect_all(c: &Connector, tenant: &TenantId) -> Result<usize, TenantPolicyError> {
    let ids = c.store.tenant_connection_ids(tenant.as_str()).await?;
    tracing::info!(
        connections = ids.len(),
        "disconnecting the tenant's connections"
    );
    let deleted: Vec<Deletion> = stream::iter(ids)
        .map(|id| async move {
            connections::delete(c, &id)
                .await
                .map_err(|source| TenantPolicyError::Disconnect { id, source })
        })
        .buffer_unordered(DISCONNECT_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(deleted
        .iter()
        .filter(|d| matches!(d, Deletion::Started(_)))
        .count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_request_names_the_access_field_when_it_is_missing_or_unknown() {
        let parse = |body: &str| {
            serde_json::from_str::<PolicyRequest>(body)
                .map_err(|e| e.to_string())
                .and_then(|r| r.parse().map_err(|e| e.to_string()))
        };
        assert_eq!(
            parse(r#"{"access": "view_only"}"#),
            Ok(TenantAccess::ViewOnly)
        );
        assert_eq!(parse(r#"{"access": "off"}"#), Ok(TenantAccess::Off));
        assert!(parse("{}").unwrap_err().starts_with("access: is required"));
        assert!(parse(r#"{"access": "readonly"}"#)
            .unwrap_err()
            .starts_with("access: must be one of"));
        assert!(parse(r#"{"access": "off", "tenant": "x"}"#).is_err());
        assert!(parse(r#"{"access": 1}"#).is_err());
        assert!(parse(r#"["off"]"#).is_err());
        assert!(parse(r#""off""#).is_err());
    }

    #[test]
    fn a_tenant_never_set_answers_the_default_without_a_time() {
        let tenant = TenantId::parse("tenant", "72F988BF-86F1-41AF-91AB-2D7CD011DB47").unwrap();
        let policy = TenantPolicy::of(&tenant, None);
        assert_eq!(
            serde_json::to_value(&policy).unwrap(),
            serde_json::json!({
                "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                "access": "send_and_view",
                "updated_at": null,
            })
        );
        assert_eq!(
            storage_form("72F988BF-86F1-41AF-91AB-2D7CD011DB47"),
            tenant.as_str()
        );
    }
}
