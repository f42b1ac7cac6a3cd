//! A transactional outbox for what must follow a change: the event announcing it and the sync
//! job it starts. The entries are written in the same DynamoDB transaction as the change, then
//! delivered at once; whatever could not be delivered then (EventBridge or SQS failing) stays in
//! the table and is delivered by the next [`drain`] (run by the scheduled function). So an event
//! or a first sync is never lost, and never blocks the change it follows.
//!
//! Delivery is at least once: an entry delivered just before its deletion failed is delivered
//! again. Events carry a stable `event_id` for consumers to deduplicate, and sync jobs a stable
//! SQS deduplication id (a redelivery within SQS's five-minute window is dropped; a later one is
//! a harmless extra sync).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::Connector;
use crate::events::PublishError;
use crate::queue::{EnqueueError, SyncJob};
use crate::store::StoreError;

/// What an entry delivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxMessage {
    /// An EventBridge event.
    Event {
        detail_type: String,
        /// The event's detail, as JSON text (stored as a string, not a DynamoDB map, so that
        /// it comes back exactly as written).
        detail: String,
    },
    /// A job on the sync queue.
    Sync { job: SyncJob, dedup_id: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub message: OutboxMessage,
}

impl OutboxEntry {
    pub fn event(detail_type: &str, detail: &serde_json::Value, now: DateTime<Utc>) -> Self {
        Self::new(
            OutboxMessage::Event {
                detail_type: detail_type.to_owned(),
                detail: detail.to_string(),
            },
            now,
        )
    }

    pub fn sync(job: SyncJob, dedup_id: String, now: DateTime<Utc>) -> Self {
        Self::new(OutboxMessage::Sync { job, dedup_id }, now)
    }

    fn new(message: OutboxMessage, now: DateTime<Utc>) -> Self {
        Self {
            id: uuid::Uuid::new_v4().simple().to_string(),
            created_at: now,
            message,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("publishing an outbox event failed")]
    Publish(#[source] PublishError),
    #[error("queueing an outbox sync job failed")]
    Enqueue(#[source] EnqueueError),
    #[error("the outbox entry's event detail is not JSON")]
    Corrupt(#[source] serde_json::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Delivers entries in order and deletes each once delivered. Stops at the first failure: what
/// is left stays for [`drain`].
pub async fn deliver(c: &Connector, entries: &[OutboxEntry]) -> Result<usize, OutboxError> {
    let mut delivered = 0;
    for entry in entries {
        match &entry.message {
            OutboxMessage::Event {
                detail_type,
                detail,
            } => {
                let detail: serde_json::Value =
                    serde_json::from_str(detail).map_err(OutboxError::Corrupt)?;
                c.events
                    .publish(detail_type, &detail)
                    .await
                    .map_err(OutboxError::Publish)?;
            }
            OutboxMessage::Sync { job, dedup_id } => c
                .queue
                .enqueue(job, dedup_id)
                .await
                .map_err(OutboxError::Enqueue)?,
        }
        c.store.delete_outbox_entry(entry).await?;
        delivered += 1;
    }
    Ok(delivered)
}

/// Entries younger than this are left to the request that wrote them (it delivers right after
/// its transaction), so a drain does not race it and deliver everything twice.
pub const DRAIN_GRACE: chrono::Duration = chrono::Duration::seconds(60);

/// Entries read per drain round.
const DRAIN_PAGE: i32 = 100;

/// What a drain did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Drained {
    pub delivered: usize,
    /// Entries still waiting (their delivery failed again; the next drain retries).
    pub left: usize,
}

/// Delivers every entry older than [`DRAIN_GRACE`]. A failing entry is left for the next drain
/// and does not hold up the others (each connection's entries are independent).
#[tracing::instrument(skip_all)]
pub async fn drain(c: &Connector, now: DateTime<Utc>) -> Result<Drained, OutboxError> {
    let mut report = Drained::default();
    let entries = c.store.outbox_before(now - DRAIN_GRACE, DRAIN_PAGE).await?;
    for entry in &entries {
        match deliver(c, std::slice::from_ref(entry)).await {
            Ok(n) => report.delivered += n,
            Err(OutboxError::Store(e)) => return Err(OutboxError::Store(e)),
            Err(e) => {
                tracing::warn!(error = %crate::http::chain(&e), entry_id = %entry.id, "outbox entry not delivered; left for the next drain");
                report.left += 1;
            }
        }
    }
    if report.delivered + report.left > 0 {
        tracing::info!(
            delivered = report.delivered,
            left = report.left,
            "outbox drained"
        );
    }
    Ok(report)
}
