//! The per-mailbox sync queue (SQS FIFO): the message group is the connection, so one mailbox is
//! never synced by two workers at once, while different mailboxes sync in parallel.

use serde::{Deserialize, Serialize};

use crate::domain::ConnectionId;

/// A Graph lifecycle notification's event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    /// SendMessageBatch answered, but refused some entries (the others were enqueued; a retry
    /// with the same dedup ids enqueues only the missing ones).
    #[error("SQS SendMessageBatch refused {failed} of {total} entries (first code: {code})")]
    Rejected {
        failed: usize,
        total: usize,
        code: String,
    },
}

/// SendMessageBatch takes at most 10 entries per call.
pub const SEND_BATCH_MAX: usize = 10;

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

    /// Enqueues jobs with one SendMessageBatch call per [`SEND_BATCH_MAX`] entries, each with its
    /// `dedup_id` (so a retried batch within SQS's 5-minute window enqueues nothing twice). Entries
    /// of one connection keep their order (FIFO within the message group). Any refused entry makes
    /// the whole call an error: the caller retries (or lets its sender retry) and deduplication
    /// drops the entries that did get through.
    pub async fn enqueue_batch(&self, jobs: &[(SyncJob, String)]) -> Result<(), EnqueueError> {
        for chunk in jobs.chunks(SEND_BATCH_MAX) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, (job, dedup_id)) in chunk.iter().enumerate() {
                let body = serde_json::to_string(job).map_err(EnqueueError::Encode)?;
                let entry = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .message_group_id(job.connection_id().as_str())
                    .message_deduplication_id(crate::store::keys::digest(dedup_id))
                    .build()
                    .map_err(|e| EnqueueError::Send(Box::new(e)))?;
                entries.push(entry);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| EnqueueError::Send(Box::new(e)))?;
            if let Some(first) = out.failed.first() {
                return Err(EnqueueError::Rejected {
                    failed: out.failed.len(),
                    total: chunk.len(),
                    code: first.code.clone(),
                });
            }
        }
        Ok(())
    }
}

impl SyncQueue {
    /// Makes a received job visible again only after `delay` (capped at SQS's 12 hours), so a
    /// throttled or failing job is retried later instead of in a loop.
    pub async fn retry_after(
        &self,
        receipt_handle: &str,
        delay: std::time::Duration,
    ) -> Result<(), EnqueueError> {
        let seconds = i32::try_from(delay.as_secs().min(43_200)).unwrap_or(43_200);
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| EnqueueError::Send(Box::new(e)))?;
        Ok(())
    }
}
