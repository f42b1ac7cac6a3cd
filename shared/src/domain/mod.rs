//! Types that parse: each is built only through a constructor that rejects bad input, so code
//! downstream takes the type and never re-checks a `String`. One vocabulary for the whole crate:
//! ids ([`ids`]), tenants by id or domain ([`tenant_ref`]), email addresses ([`email`]),
//! idempotency keys ([`idempotency`]), mail folders ([`folder`]), the connection model
//! ([`connection`]) and a tenant's access level ([`tenant`]); one [`ParseError`].

pub mod connection;
pub mod email;
pub mod folder;
pub mod idempotency;
pub mod ids;
pub mod tenant;
pub mod tenant_ref;

pub use connection::{Capability, Connection, ConnectionStatus};
pub use email::EmailAddress;
pub use folder::Folder;
pub use idempotency::IdempotencyKey;
pub use ids::{AppUserId, ConnectionId, GraphId, PageLimit, PathSegment, SubscriptionId, TenantId};
pub use tenant::TenantAccess;
pub use tenant_ref::{TenantDomain, TenantRef, CONSUMERS_TENANT_ID};

/// A validation failure, naming the request field at fault (`to[1].address`, `tenant`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ParseError {
    pub field: String,
    pub reason: String,
}

impl ParseError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
