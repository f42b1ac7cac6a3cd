//! The `send-worker` function: consumes the send queue (SQS, standard; one job per accepted
//! send) and runs each job's attempt ([`m365_connector::sending::run_job`]).
//!
//! - Partial batch failure: a job to try again is reported in `batchItemFailures` after its
//!   visibility timeout was set to the attempt's backoff (or Graph's `Retry-After`), so SQS
//!   delivers it again then; everything else is deleted by Lambda.
//! - A body that is not a send job never succeeds: it is reported failed until the redrive
//!   policy moves it to the dead-letter queue.
//! - The template gives the event source a batch of one (a send may stream 150 MB); a larger
//!   batch runs its jobs concurrently.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use m365_connector::app::Connector;
use m365_connector::sending::{self, JobOutcome, SendJob, SendSettings};

/// Handles one batch delivered by the SQS event source mapping.
pub async fn handle(c: &Connector, settings: &SendSettings, event: SqsEvent) -> SqsBatchResponse {
    process(c, settings, event.records).await
}

/// Runs a batch of queue messages; reports the ones to deliver again.
pub async fn process(
    c: &Connector,
    settings: &SendSettings,
    records: Vec<SqsMessage>,
) -> SqsBatchResponse {
    let results =
        futures::future::join_all(records.into_iter().map(|r| run_record(c, settings, r))).await;
    let mut response = SqsBatchResponse::default();
    for failed in results.into_iter().flatten() {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = failed;
        response.batch_item_failures.push(failure);
    }
    response
}

/// Runs one job; the message id when it is to be delivered again.
async fn run_record(c: &Connector, settings: &SendSettings, record: SqsMessage) -> Option<String> {
    let message_id = record.message_id.clone().unwrap_or_default();
    let job = match record.body.as_deref().map(serde_json::from_str::<SendJob>) {
        Some(Ok(job)) if job.is_well_formed() => job,
        other => {
            let error = other.and_then(Result::err).map(|e| e.to_string());
            tracing::error!(%message_id, ?error, "the message is not a send job");
            return Some(message_id);
        }
    };
    match sending::run_job(c, settings, &job).await {
        JobOutcome::Done => None,
        JobOutcome::Crashed => Some(message_id),
        JobOutcome::RetryAfter(delay) => {
            let queue = c.send_queue.as_ref();
            if let (Some(queue), Some(handle)) = (queue, record.receipt_handle.as_deref()) {
                if let Err(e) = queue.retry_after(handle, delay).await {
                    // It still comes back, after the queue's own visibility timeout.
                    tracing::warn!(%message_id, error = %m365_connector::http::chain(&e), "could not delay the retry");
                }
            }
            Some(message_id)
        }
    }
}
