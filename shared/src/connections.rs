//! Connection use cases: listing (this issue), connecting and disconnecting (later ones).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{AppUserId, Capability, Connection, ConnectionStatus, PageLimit};
use crate::http::ApiError;
use crate::store::{Page, Store};

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

/// Lists connections newest first, optionally those of one app user.
#[tracing::instrument(skip_all, fields(filtered = user.is_some(), limit = limit.get()))]
pub async fn list(
    store: &Store,
    user: Option<&AppUserId>,
    limit: PageLimit,
    cursor: Option<&str>,
) -> Result<ConnectionList, ApiError> {
    let Page { items, next_cursor } = store.list_connections(user, limit, cursor).await??;
    tracing::info!(
        count = items.len(),
        more = next_cursor.is_some(),
        "listed connections"
    );
    Ok(ConnectionList {
        connections: items.into_iter().map(Into::into).collect(),
        next_cursor,
    })
}
