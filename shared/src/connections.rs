//! Connection use cases after connecting: list, get, delete (connecting itself is `connect`).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::Connector;
use crate::domain::ParseError;
use crate::domain::{
    AppUserId, Capability, Connection, ConnectionId, ConnectionStatus, PageLimit, TenantAccess,
};
use crate::events::PublishError;
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
    #[error("publishing connection.deleted failed")]
    Publish(#[source] PublishError),
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
        let capabilities = access.restrict(&c.capabilities);
        Self {
            capabilities,
            ..Self::from(c)
        }
    }
}

/// The connection with the capabilities its granted scopes give, whatever its tenant's level.
impl From<Connection> for ConnectionView {
    fn from(c: Connection) -> Self {
        Self {
            id: c.id.to_string(),
            user_id: c.user_id.as_str().to_owned(),
            tenant_id: c.tenant_id,
            email: c.email,
            display_name: c.display_name,
            status: c.status,
            capabilities: c.capabilities,
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

/// `DELETE /connections/{id}`: removes the Graph subscriptions (best effort, retried), then every
/// stored item, then announces it. Deleting a connection that does not exist is also a success,
/// so a client may retry freely.
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn delete(c: &Connector, id: &ConnectionId) -> Result<bool, ConnectionsError> {
    let Some(connection) = c.store.get_connection(id).await? else {
        return Ok(false);
    };
    let subscriptions = c.store.connection_subscription_ids(id).await?;
    if !subscriptions.is_empty() {
        match crate::tokens::access_token(c, id).await {
            Ok(token) => {
                let policy = crate::graph::GraphPolicy::cleanup();
                for sub in &subscriptions {
                    let deleted = match crate::graph::graph_id(sub) {
                        Ok(sub) => {
                            policy
                                .run(|| c.graph.delete_subscription(&token, &sub))
                                .await
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = deleted {
                        // It expires on its own within three days; notifications for it
                        // will find no subscription record and be dropped.
                        tracing::warn!(subscription_id = %sub, error = %e, "could not delete subscription");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "no token to delete subscriptions with; they will expire")
            }
        }
    }
    let removed = c.store.delete_connection_data(&connection).await?;
    let detail = serde_json::json!({
        "event_id": format!("connection.deleted:{id}"),
        "connection_id": id,
        "user_id": connection.user_id,
    });
    c.events
        .publish("connection.deleted", &detail)
        .await
        .map_err(ConnectionsError::Publish)?;
    tracing::info!(items = removed, "connection deleted");
    Ok(true)
}
