//! Connection use cases after connecting: list, get, delete (connecting itself is `connect`).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::Connector;
use crate::domain::ParseError;
use crate::domain::{
    AppUserId, Capability, Connection, ConnectionId, ConnectionStatus, PageLimit, TenantAccess,
};
use crate::outbox::{self, OutboxEntry};
use crate::queue::SyncJob;
use crate::store::{Page, Store, StoreError};
use crate::tenants;

/// Why a connection use case failed; `crate::failures` decides the answers.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionsError {
    #[error("no connection {0}")]
    NotFound(ConnectionId),
    #[error("the list cursor is not valid")]
    Cursor(#[source] ParseError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A connection as the app sees it: no token material, no Microsoft internals it cannot use.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConnectionView {
    pub id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub email: String,
    pub display_name: String,
    pub status: ConnectionStatus,
    pub capabilities: Vec<Capability>,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

impl ConnectionView {
    /// The connection as the app sees it while its tenant is at `access`: capabilities the level
    /// withholds are not shown (the granted ones stay stored; see `crate::tenants`).
    pub fn under(c: Connection, access: TenantAccess) -> Self {
        let view = Self::from(c);
        Self {
            capabilities: access.restrict(&view.capabilities),
            ..view
        }
    }
}

/// The connection with the capabilities its granted scopes give, whatever its tenant's level; a
/// connection being deleted can do nothing.
impl From<Connection> for ConnectionView {
    fn from(c: Connection) -> Self {
        let capabilities = match c.status {
            ConnectionStatus::Deleting => Vec::new(),
            _ => c.capabilities,
        };
        Self {
            id: c.id.to_string(),
            user_id: c.user_id.as_str().to_owned(),
            tenant_id: c.tenant_id,
            email: c.email,
            display_name: c.display_name,
            status: c.status,
            capabilities,
            scopes: c.scopes,
            created_at: c.created_at,
            updated_at: c.updated_at,
            last_error: c.last_error,
        }
    }
}

/// The body of `GET /connections`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConnectionList {
    pub connections: Vec<ConnectionView>,
    pub next_cursor: Option<String>,
}

/// Lists connections newest first, optionally those of one app user, each with the capabilities
/// its tenant's level leaves it (the levels of the page's tenants in one eventually consistent
/// BatchGetItem: a listing may show a change up to about a second late; a send never does).
#[tracing::instrument(skip_all, fields(filtered = user.is_some(), limit = limit.get()))]
pub async fn list(
    store: &Store,
    user: Option<&AppUserId>,
    limit: PageLimit,
    cursor: Option<&str>,
) -> Result<ConnectionList, ConnectionsError> {
    let Page { items, next_cursor } = store
        .list_connections(user, limit, cursor)
        .await?
        .map_err(ConnectionsError::Cursor)?;
    let tenants: BTreeSet<String> = items
        .iter()
        .map(|c| tenants::storage_form(&c.tenant_id))
        .collect();
    let tenants: Vec<&str> = tenants.iter().map(String::as_str).collect();
    let accesses = if tenants.is_empty() {
        HashMap::new()
    } else {
        store.tenant_accesses(&tenants).await?
    };
    tracing::info!(
        count = items.len(),
        more = next_cursor.is_some(),
        "listed connections"
    );
    Ok(ConnectionList {
        connections: items
            .into_iter()
            .map(|c| {
                let access = accesses
                    .get(&tenants::storage_form(&c.tenant_id))
                    .copied()
                    .unwrap_or_default();
                ConnectionView::under(c, access)
            })
            .collect(),
        next_cursor,
    })
}

/// `GET /connections/{id}`, with the capabilities its tenant's level leaves it.
pub async fn get(c: &Connector, id: &ConnectionId) -> Result<ConnectionView, ConnectionsError> {
    let connection = c
        .store
        .get_connection(id)
        .await?
        .ok_or_else(|| ConnectionsError::NotFound(id.clone()))?;
    let access = tenants::access_of(&c.store, &connection.tenant_id).await?;
    Ok(ConnectionView::under(connection, access))
}

/// What `DELETE /connections/{id}` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// The connection is now `deleting`; its purge job is queued.
    Started(ConnectionView),
    /// It was `deleting` already; its purge job is queued again (a purge that stopped, say in
    /// the dead-letter queue, goes on).
    AlreadyDeleting(ConnectionView),
    /// No such connection (never was, or already purged).
    Gone,
}

/// `DELETE /connections/{id}`: marks the connection `deleting` and queues its purge. The purge job
/// goes into the outbox first and the mark follows, so a connection is never `deleting` without a
/// purge job on its way (an entry whose mark failed only makes a purge find nothing to do); the
/// job is then delivered at once, or by the scheduled drain. The purge (`crate::sync::purge`)
/// runs in the connection's queue group, after any sync in flight; it removes the Graph
/// subscriptions, staged uploads and every stored item, then the connection, and publishes
/// `connection.deleted`. Safe to repeat: while deleting it answers the same (and queues the purge
/// again), once gone [`Deletion::Gone`].
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn delete(c: &Connector, id: &ConnectionId) -> Result<Deletion, ConnectionsError> {
    let Some(mut connection) = c.store.get_connection(id).await? else {
        return Ok(Deletion::Gone);
    };
    let now = Utc::now();
    let purge = OutboxEntry::sync(
        SyncJob::Purge {
            connection_id: id.clone(),
        },
        format!("purge:{id}"),
        now,
    );
    c.store.put_outbox_entry(&purge).await?;
    if !c.store.mark_deleting(id, now).await? {
        c.store.delete_outbox_entry(&purge).await?;
        return Ok(Deletion::Gone);
    }
    if let Err(e) = outbox::deliver(c, std::slice::from_ref(&purge)).await {
        tracing::warn!(error = %crate::http::chain(&e), "purge job left in the outbox for the scheduled drain");
    }
    let again = connection.status == ConnectionStatus::Deleting;
    connection.status = ConnectionStatus::Deleting;
    connection.updated_at = now;
    let view = ConnectionView::from(connection);
    tracing::info!(again, "connection marked deleting; purge queued");
    Ok(if again {
        Deletion::AlreadyDeleting(view)
    } else {
        Deletion::Started(view)
    })
}
