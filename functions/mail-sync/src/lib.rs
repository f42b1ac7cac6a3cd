//! The `mail-sync` function: consumes the per-mailbox sync queue (SQS FIFO, message group = the
//! connection) and runs each job through the sync engine.
//!
//! - Partial batch failure: only jobs that go back to the queue are reported
//!   (`batchItemFailures`); Lambda deletes the rest. Jobs of one mailbox run in order; once one
//!   goes back, the later jobs of that mailbox in the batch go back unrun, so FIFO order holds.
//! - What goes back how is `m365_connector::queue::disposition`: a job's own failure is delayed
//!   (exponential backoff) and counted by SQS towards the dead-letter queue; Graph throttling or
//!   an outage, a job set aside until later and a job that waited behind another are delayed on
//!   their first receive and otherwise sent again as fresh messages, so they never spend the
//!   receive count that dead-letters.
//! - Catch-ups coalesce: every job in a batch was enqueued before the batch was received, so one
//!   completed delta round covers all later `CatchUp`s of that mailbox in the batch.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::Utc;
use lambda_runtime::LambdaEvent;
use m365_connector::app::Connector;
use m365_connector::http::chain;
use m365_connector::queue::{self, Disposition, QueuedJob, Return, SyncJob};
use m365_connector::sync::{self, Outcome};
use tokio::time::Instant;

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

/// A received record that goes back to the queue, and how.
struct Back {
    record: SqsMessage,
    disposition: Disposition,
}

/// Runs one mailbox's jobs in order; returns the message ids to report failed.
async fn run_group(c: &Connector, records: Vec<SqsMessage>, deadline: Instant) -> Vec<String> {
    let mut caught_up = false;
    // Set once a job of the group goes back (the later ones go back unrun behind it): when that
    // job may run again, if it was sent again.
    let mut stopped: Option<Option<chrono::DateTime<Utc>>> = None;
    let mut back = Vec::new();
    for record in records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let receive_count = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(1);
        let queued = record
            .body
            .as_deref()
            .map(serde_json::from_str::<QueuedJob>);
        let queued = match queued {
            Some(Ok(queued)) => Some(queued),
            other => {
                // Never succeeds on retry; the redrive policy parks it in the DLQ for a person.
                let error = other.and_then(Result::err).map(|e| e.to_string());
                tracing::error!(%message_id, ?error, "sync job body is not a job");
                None
            }
        };
        let now = Utc::now();
        let why = match (stopped, &queued) {
            (Some(head_until), _) => Some(Return::Behind { head_until }),
            (None, None) => Some(Return::Failed(queue::failure_backoff(receive_count))),
            (None, Some(queued)) => match queued.not_before.filter(|at| *at > now) {
                Some(at) => Some(Return::NotDue(at)),
                None => {
                    run_one(
                        c,
                        &queued.job,
                        &message_id,
                        receive_count,
                        &mut caught_up,
                        deadline,
                    )
                    .await
                }
            },
        };
        let Some(why) = why else { continue };
        let disposition = queue::disposition(why, receive_count, queued.as_ref(), now);
        if stopped.is_none() {
            stopped = Some(match &disposition {
                Disposition::Resend(copy) => copy.not_before.or(Some(now)),
                Disposition::Delay(_) => None,
            });
        }
        back.push(Back {
            record,
            disposition,
        });
    }
    send_back(c, back).await
}

/// Runs one job; `None` when it is done with, else why it goes back to the queue.
async fn run_one(
    c: &Connector,
    job: &SyncJob,
    message_id: &str,
    receive_count: u32,
    caught_up: &mut bool,
    deadline: Instant,
) -> Option<Return> {
    let outcome = if *caught_up && matches!(job, SyncJob::CatchUp { .. }) {
        Ok(Outcome::Skipped(
            "covered by a catch-up earlier in this batch",
        ))
    } else {
        sync::run(c, job, deadline).await
    };
    match outcome {
        Ok(Outcome::Done(stats) | Outcome::Resumed(stats)) => {
            tracing::info!(%message_id, ?stats, "sync job done");
            *caught_up |= matches!(
                job,
                SyncJob::Connected { .. }
                    | SyncJob::CatchUp { .. }
                    | SyncJob::Lifecycle { .. }
                    | SyncJob::Periodic { .. }
            ) || stats.pages > 0;
            None
        }
        Ok(Outcome::Skipped(reason)) => {
            tracing::info!(%message_id, reason, "sync job skipped");
            None
        }
        Ok(Outcome::RetryAfter(delay)) => {
            tracing::info!(%message_id, delay_s = delay.as_secs(), "Graph is throttling or down; the job waits");
            Some(Return::Throttled(delay))
        }
        Err(e) => {
            tracing::error!(%message_id, error = %chain(&e), "sync job failed");
            Some(Return::Failed(queue::failure_backoff(receive_count)))
        }
    }
}

/// Applies the dispositions: fresh copies first (in order, one SendMessageBatch), then the
/// visibility of every record reported failed. A copy SQS would not take falls back to a delay,
/// so nothing is lost. Returns the ids to report failed.
async fn send_back(c: &Connector, back: Vec<Back>) -> Vec<String> {
    let copies: Vec<(QueuedJob, String)> = back
        .iter()
        .filter_map(|b| match &b.disposition {
            Disposition::Resend(copy) => Some((
                copy.clone(),
                format!(
                    "resend:{}",
                    b.record.message_id.as_deref().unwrap_or_default()
                ),
            )),
            Disposition::Delay(_) => None,
        })
        .collect();
    let resent = copies.is_empty()
        || match c.queue.resend(&copies).await {
            Ok(()) => {
                tracing::info!(
                    jobs = copies.len(),
                    "jobs sent again to wait without spending their receive count"
                );
                true
            }
            Err(e) => {
                tracing::warn!(error = %chain(&e), "could not send jobs again; they are delayed instead");
                false
            }
        };
    let now = Utc::now();
    let mut failed = Vec::new();
    for b in back {
        let delay = match b.disposition {
            Disposition::Resend(_) if resent => continue,
            Disposition::Resend(copy) => copy
                .not_before
                .and_then(|at| (at - now).to_std().ok())
                .unwrap_or(Duration::ZERO),
            Disposition::Delay(delay) => delay,
        };
        let message_id = b.record.message_id.clone().unwrap_or_default();
        if let Some(handle) = b.record.receipt_handle.as_deref() {
            if let Err(e) = c.queue.retry_after(handle, delay).await {
                // The message still comes back after the queue's own visibility timeout.
                tracing::warn!(%message_id, error = %chain(&e), "could not delay the retry");
            }
        }
        failed.push(message_id);
    }
    failed
}
