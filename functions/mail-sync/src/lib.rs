//! The `mail-sync` function: consumes the per-mailbox sync queue (SQS FIFO, message group = the
//! connection) and runs each job through the sync engine.
//!
//! - Partial batch failure: only failed jobs are reported (`batchItemFailures`); the rest are
//!   deleted by Lambda. Jobs of one mailbox run in order; after one fails, the later jobs of that
//!   mailbox in the batch are reported failed unrun, so FIFO order holds across the retry.
//! - Throttling: a job that ends in "retry after N s" has its visibility timeout set to N before it
//!   is reported, so SQS redelivers it then (never a hot loop). Other failures back off
//!   exponentially by receive count. The queue's redrive policy moves a job to the DLQ after 5.
//! - Catch-ups coalesce: every job in a batch was enqueued before the batch was received, so one
//!   completed delta round covers all later `CatchUp`s of that mailbox in the batch.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;
use m365_connector::app::Connector;
use m365_connector::queue::SyncJob;
use m365_connector::sync::{self, Outcome};
use tokio::time::Instant;

/// Backoff of a job that failed for a reason other than throttling: 30 s, 60 s, ... up to 15 min.
fn failure_backoff(receive_count: u32) -> Duration {
    let exp = receive_count.saturating_sub(1).min(5);
    Duration::from_secs((30u64 << exp).min(900))
}

/// Handles one batch delivered by the SQS event source mapping.
pub async fn handle(c: &Connector, event: LambdaEvent<SqsEvent>) -> SqsBatchResponse {
    let remaining_ms = event
        .context
        .deadline
        .saturating_sub(now_epoch_ms())
        .min(15 * 60 * 1000);
    let deadline = Instant::now() + Duration::from_millis(remaining_ms);
    process(c, event.payload.records, deadline).await
}

fn now_epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs a batch of queue messages; `deadline` bounds the whole invocation.
pub async fn process(
    c: &Connector,
    records: Vec<SqsMessage>,
    deadline: Instant,
) -> SqsBatchResponse {
    // Group by mailbox, keeping queue order inside each group.
    let mut groups: BTreeMap<String, Vec<SqsMessage>> = BTreeMap::new();
    for record in records {
        let group = record
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_else(|| record.message_id.clone().unwrap_or_default());
        groups.entry(group).or_default().push(record);
    }
    let results =
        futures::future::join_all(groups.into_values().map(|g| run_group(c, g, deadline))).await;
    let mut response = SqsBatchResponse::default();
    for failed in results.into_iter().flatten() {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = failed;
        response.batch_item_failures.push(failure);
    }
    response
}

/// Runs one mailbox's jobs in order; returns the message ids to report failed.
async fn run_group(c: &Connector, records: Vec<SqsMessage>, deadline: Instant) -> Vec<String> {
    let mut failed = Vec::new();
    let mut caught_up = false;
    let mut records = records.into_iter();
    while let Some(record) = records.next() {
        let message_id = record.message_id.clone().unwrap_or_default();
        let receive_count = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(1);
        let job = match record.body.as_deref().map(serde_json::from_str::<SyncJob>) {
            Some(Ok(job)) => job,
            other => {
                // Never succeeds on retry; the redrive policy parks it in the DLQ for a person.
                let error = other.and_then(Result::err).map(|e| e.to_string());
                tracing::error!(%message_id, ?error, "sync job body is not a job");
                failed.push(message_id);
                continue;
            }
        };
        let outcome = if caught_up && matches!(job, SyncJob::CatchUp { .. }) {
            Ok(Outcome::Skipped(
                "covered by a catch-up earlier in this batch",
            ))
        } else {
            sync::run(c, &job, deadline).await
        };
        let delay = match &outcome {
            Ok(Outcome::Done(stats) | Outcome::Resumed(stats)) => {
                tracing::info!(%message_id, ?stats, "sync job done");
                caught_up |= !matches!(job, SyncJob::Renew { .. }) || stats.pages > 0;
                None
            }
            Ok(Outcome::Skipped(reason)) => {
                tracing::info!(%message_id, reason, "sync job skipped");
                None
            }
            Ok(Outcome::RetryAfter(delay)) => Some(*delay),
            Err(e) => {
                tracing::error!(%message_id, error = %m365_connector::http::chain(e), "sync job failed");
                Some(failure_backoff(receive_count))
            }
        };
        if let Some(delay) = delay {
            if let Some(handle) = record.receipt_handle.as_deref() {
                if let Err(e) = c.queue.retry_after(handle, delay).await {
                    // The message still comes back after the queue's own visibility timeout.
                    tracing::warn!(%message_id, error = %m365_connector::http::chain(&e), "could not delay the retry");
                }
            }
            failed.push(message_id);
            // Later jobs of this mailbox wait for the failed one (FIFO order).
            failed.extend(records.by_ref().filter_map(|r| r.message_id));
            break;
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_backoff_grows_and_is_capped() {
        assert_eq!(failure_backoff(1), Duration::from_secs(30));
        assert_eq!(failure_backoff(2), Duration::from_secs(60));
        assert_eq!(failure_backoff(9), Duration::from_secs(900));
    }
}
