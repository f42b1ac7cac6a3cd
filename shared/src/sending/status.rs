//! The status resource of a send, `GET /connections/{id}/sends/{key}` (also the body of the 202
//! that accepts it).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::IdempotencyKey;
use crate::store::sends::{SendRecord, SendStatus};

/// `{key, status, id?, internet_message_id, conversation_id?, error?, attempts, created_at,
/// updated_at}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendStatusView {
    /// The send's idempotency key: the client's, or the one the connector made.
    pub key: String,
    pub status: SendStatus,
    /// The sent message's immutable id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The `Message-ID` the message has (fixed before anything is created, so it is known from
    /// the start and matches the recipients' copies).
    pub internet_message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// A failed send's problem (`type`, `title`, `status`, `detail`, `field`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
    /// How many times a worker took the send.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SendStatusView {
    pub fn of(key: &IdempotencyKey, record: &SendRecord) -> Self {
        let sent = record
            .response
            .as_ref()
            .filter(|_| record.status == SendStatus::Sent);
        let field = |name: &str| {
            sent.and_then(|r| r.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        Self {
            key: key.as_str().to_owned(),
            status: record.status,
            id: field("id").filter(|id| !id.is_empty()),
            internet_message_id: field("internet_message_id")
                .unwrap_or_else(|| record.progress.internet_message_id.clone()),
            conversation_id: field("conversation_id")
                .or_else(|| record.progress.conversation_id.clone()),
            error: record
                .error
                .clone()
                .filter(|_| record.status == SendStatus::Failed),
            attempts: record.attempts,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}
