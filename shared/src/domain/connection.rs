//! The connection model: one connected mailbox, its status and capabilities.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AppUserId, ConnectionId};

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Active,
    ReauthRequired,
    UnsupportedMailbox,
    /// `DELETE /connections/{id}` accepted it: nothing syncs or sends any more, and the purge job
    /// is removing everything it owns; then the record goes too.
    Deleting,
}

/// What a connection's granted scopes allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    MailRead,
    MailSend,
    Calendar,
}

/// One connected Microsoft 365 mailbox, owned by one app user. Holds no token material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub id: ConnectionId,
    pub user_id: AppUserId,
    /// Microsoft Entra tenant id (GUID).
    pub tenant_id: String,
    /// The user's object id in that tenant (`oid`).
    pub ms_user_id: String,
    pub email: String,
    pub display_name: String,
    pub status: ConnectionStatus,
    pub capabilities: Vec<Capability>,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_capabilities_serialise_in_snake_case() {
        assert_eq!(
            serde_json::to_value(ConnectionStatus::ReauthRequired).unwrap(),
            "reauth_required"
        );
        assert_eq!(
            serde_json::to_value(ConnectionStatus::UnsupportedMailbox).unwrap(),
            "unsupported_mailbox"
        );
        assert_eq!(
            serde_json::to_value(ConnectionStatus::Deleting).unwrap(),
            "deleting"
        );
        assert_eq!(
            serde_json::to_value(Capability::MailSend).unwrap(),
            "mail_send"
        );
    }
}
