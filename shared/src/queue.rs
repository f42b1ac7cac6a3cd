//! The per-mailbox sync queue (SQS FIFO): the message group is the connection, so one mailbox is
//! never synced by two workers at once, while different mailboxes sync in parallel.

use serde::{Deserialize, Serialize};

use crate::domain::ConnectionId;

/// A Graph lifecycle notification's event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LifecycleEvent {
    ReauthorizationRequired,
    SubscriptionRemoved,
    Missed,
}

/// Work for the mail-sync function. Every job names its connection, which is the FIFO message
/// group: jobs of one mailbox run one at a time, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SyncJob {
    /// A newly connected (or reconnected) mailbox: subscribe, then backfill.
    Connected { connection_id: ConnectionId },
    /// Run the delta rounds of the mailbox's folders (after change notifications, `missed`, the
    /// periodic safety net, or a run that neared its time limit and re-enqueued itself).
    CatchUp { connection_id: ConnectionId },
    /// A lifecycle notification for one of the mailbox's subscriptions.
    Lifecycle {
        connection_id: ConnectionId,
        subscription_id: String,
        event: LifecycleEvent,
    },
    /// Renew a subscription nearing expiry (from the scheduled renewal sweep).
    Renew {
        connection_id: ConnectionId,
        subscription_id: String,
    },
}

impl SyncJob {
    pub fn connection_id(&self) -> &ConnectionId {
        match self {
            Self::Connected { connection_id }
            | Self::CatchUp { connection_id }
            | Self::Lifecycle { connection_id, .. }
            | Self::Renew { connection_id, .. } => connection_id,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("SQS SendMessage failed")]
    Send(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("sync job does not serialise")]
    Encode(#[source] serde_json::Error),
}

#[derive(Clone, Debug)]
pub struct SyncQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SyncQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// Enqueues a job; `dedup_id` makes a retried enqueue within SQS's 5-minute window a no-op.
    pub async fn enqueue(&self, job: &SyncJob, dedup_id: &str) -> Result<(), EnqueueError> {
        let body = serde_json::to_string(job).map_err(EnqueueError::Encode)?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_group_id(job.connection_id().as_str())
            .message_deduplication_id(crate::store::keys::digest(dedup_id))
            .send()
            .await
            .map_err(|e| EnqueueError::Send(Box::new(e)))?;
        Ok(())
    }
}
