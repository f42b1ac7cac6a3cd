//! The send queue (SQS, standard): one job per accepted send, naming the send by its connection
//! and the SHA-256 of its key (the key itself, like the message, never leaves the API function
//! and the bucket). Ordering does not matter and duplicates are harmless (one worker at a time
//! takes a send; a finished one is not sent again), so the queue is a standard one.

use serde::{Deserialize, Serialize};

use crate::domain::ConnectionId;

/// Work for the send worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendJob {
    pub connection_id: ConnectionId,
    /// SHA-256 (hex) of the send's idempotency key.
    pub send: String,
}

impl SendJob {
    /// Whether `send` is a key digest (64 hex digits), as every job the API queues has.
    pub fn is_well_formed(&self) -> bool {
        self.send.len() == 64 && self.send.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("SQS call failed")]
    Sqs(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("send job does not serialise")]
    Encode(#[source] serde_json::Error),
}

#[derive(Clone, Debug)]
pub struct SendQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SendQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub async fn enqueue(&self, job: &SendJob) -> Result<(), EnqueueError> {
        let body = serde_json::to_string(job).map_err(EnqueueError::Encode)?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| EnqueueError::Sqs(Box::new(e)))?;
        Ok(())
    }

    /// Makes a received job visible again only after `delay` (whole seconds, at least one, at
    /// most SQS's 12 hours).
    pub async fn retry_after(
        &self,
        receipt_handle: &str,
        delay: std::time::Duration,
    ) -> Result<(), EnqueueError> {
        let seconds =
            i32::try_from(delay.as_secs_f64().ceil().clamp(1.0, 43_200.0) as u64).unwrap_or(43_200);
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| EnqueueError::Sqs(Box::new(e)))?;
        Ok(())
    }
}
