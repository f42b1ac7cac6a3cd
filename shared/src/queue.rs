//! The per-mailbox sync queue (SQS FIFO): the message group is the connection, so one mailbox is
//! never synced by two workers at once, while different mailboxes sync in parallel.
//!
//! What happens to a job that goes back to the queue ([`disposition`]). SQS counts every receive
//! of a message, and the redrive policy dead-letters it after `maxReceiveCount` (5) receives,
//! whatever the reason it came back. So only a job's own failures are left to that count:
//!
//! - A job that failed: its visibility is set to [`failure_backoff`] and it is reported failed;
//!   the fifth such receive dead-letters it.
//! - A job Graph throttled (or that met a Graph or identity-platform outage), a job set aside
//!   until later, a job that did not run because an earlier job of its mailbox stopped the batch:
//!   on its first receive it is delayed the same way (visibility), and when it has been received
//!   before ([`RESEND_AT`]) it is sent again as a fresh message (receive count 0) carrying the
//!   time before which it must not run ([`QueuedJob::not_before`]), and the received copy is
//!   deleted. FIFO queues take no per-message `DelaySeconds`, hence the visibility timeout and the
//!   `not_before` in the body. A job sent again goes behind the mailbox's later jobs; every job
//!   re-reads what it needs (and a connection's status), so none depends on that order.
//! - A job keeps being set aside for Graph at most [`MAX_DEFERRALS`] times, waiting longer each
//!   time ([`deferral_delay`]); after that Graph's refusals count as failures, so a mailbox Graph
//!   never serves again ends in the dead-letter queue rather than circling forever.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aws::Unwired;
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
    /// The periodic safety net (the renewal sweep, every 3 hours per mailbox): subscribe every
    /// folder that has no subscription (a `Connected` job that never succeeded leaves none), then
    /// catch up.
    Periodic { connection_id: ConnectionId },
    /// Remove everything a connection marked `deleting` owns, then the connection
    /// (`crate::sync::purge`). In the connection's group, so it runs after the jobs before it.
    Purge { connection_id: ConnectionId },
}

impl SyncJob {
    pub fn connection_id(&self) -> &ConnectionId {
        match self {
            Self::Connected { connection_id }
            | Self::CatchUp { connection_id }
            | Self::Lifecycle { connection_id, .. }
            | Self::Renew { connection_id, .. }
            | Self::Periodic { connection_id }
            | Self::Purge { connection_id } => connection_id,
        }
    }

    /// The subscription the job is about, if it names one.
    pub fn subscription_id(&self) -> Option<&str> {
        match self {
            Self::Lifecycle {
                subscription_id, ..
            }
            | Self::Renew {
                subscription_id, ..
            } => Some(subscription_id),
            _ => None,
        }
    }
}

/// A job as a queue message carries it: the job, and once it has been set aside, when it may run
/// and how often that happened. A message of a bare [`SyncJob`] (what producers send) reads as a
/// job never set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedJob {
    #[serde(flatten)]
    pub job: SyncJob,
    /// Not to be run before this time (set when the job was sent again to wait).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<DateTime<Utc>>,
    /// How often Graph trouble set the job aside by sending it again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deferrals: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl From<SyncJob> for QueuedJob {
    fn from(job: SyncJob) -> Self {
        Self {
            job,
            not_before: None,
            deferrals: 0,
        }
    }
}

/// A received job whose receive count is at least this is sent again instead of being delayed,
/// unless it failed by itself: at most one receive of a job is spent on anything but its own
/// failures, so a job gets at least four attempts of its own before the fifth receive
/// dead-letters it.
pub const RESEND_AT: u32 = 2;
/// How often a job is set aside for Graph trouble before Graph's refusals count as failures.
pub const MAX_DEFERRALS: u32 = 100;
/// The longest a job is set aside at once.
pub const MAX_DEFERRAL: Duration = Duration::from_secs(15 * 60);

/// Why a received job goes back to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    /// It failed by itself: retry after this backoff.
    Failed(Duration),
    /// Graph (or the identity platform) is throttling or down: Graph's `Retry-After`, or the
    /// engine's guess.
    Throttled(Duration),
    /// It was set aside until [`QueuedJob::not_before`], which is not reached.
    NotDue(DateTime<Utc>),
    /// It did not run: an earlier job of its mailbox in the same batch went back to the queue
    /// (FIFO order). `head_until` is when that job may run again, if it was sent again.
    Behind { head_until: Option<DateTime<Utc>> },
}

/// What to do with a job that goes back to the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Set its visibility timeout to this and report it failed (SQS counts the receive).
    Delay(Duration),
    /// Send this fresh copy (receive count 0) and delete the received one.
    Resend(QueuedJob),
}

/// The backoff of a job that failed by itself: 30 s, 60 s, ... up to 15 minutes.
pub fn failure_backoff(receive_count: u32) -> Duration {
    let exp = receive_count.saturating_sub(1).min(5);
    Duration::from_secs((30u64 << exp).min(900))
}

/// How long a job Graph turned away waits: Graph's hint (always honoured), and after the first
/// few deferrals at least 30 s doubling per deferral, up to [`MAX_DEFERRAL`] (a long outage is
/// not polled every few seconds).
pub fn deferral_delay(hint: Duration, deferrals: u32) -> Duration {
    let floor = match deferrals.checked_sub(3) {
        None => Duration::ZERO,
        Some(n) => Duration::from_secs(30u64 << n.min(10)),
    };
    hint.max(floor.min(MAX_DEFERRAL))
}

/// Decides what happens to a received job that goes back to the queue (see the module docs).
/// `job` is `None` for a message that is not a job at all: it can only be delayed.
pub fn disposition(
    why: Return,
    receive_count: u32,
    job: Option<&QueuedJob>,
    now: DateTime<Utc>,
) -> Disposition {
    let Some(job) = job else {
        return Disposition::Delay(match why {
            Return::Failed(backoff) => backoff,
            _ => Duration::ZERO,
        });
    };
    let resend = |not_before: Option<DateTime<Utc>>, deferrals: u32| {
        Disposition::Resend(QueuedJob {
            job: job.job.clone(),
            not_before,
            deferrals,
        })
    };
    let until = |at: DateTime<Utc>| (at - now).to_std().unwrap_or(Duration::ZERO);
    match why {
        Return::Failed(backoff) => Disposition::Delay(backoff),
        Return::Throttled(hint) => {
            let delay = deferral_delay(hint, job.deferrals);
            if receive_count < RESEND_AT || job.deferrals >= MAX_DEFERRALS {
                Disposition::Delay(delay)
            } else {
                let delay = chrono::Duration::from_std(delay).unwrap_or_default();
                resend(Some(now + delay), job.deferrals + 1)
            }
        }
        Return::NotDue(at) if receive_count < RESEND_AT => Disposition::Delay(until(at)),
        Return::NotDue(at) => resend(Some(at), job.deferrals),
        Return::Behind {
            head_until: Some(head),
        } => resend(
            Some(job.not_before.map_or(head, |own| own.max(head))),
            job.deferrals,
        ),
        Return::Behind { head_until: None } if receive_count < RESEND_AT => {
            Disposition::Delay(Duration::ZERO)
        }
        Return::Behind { head_until: None } => resend(job.not_before, job.deferrals),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error(transparent)]
    Unwired(#[from] Unwired),
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
    /// `None` in a function built without SQS: every call fails with [`EnqueueError::Unwired`].
    client: Option<aws_sdk_sqs::Client>,
    url: String,
}

impl SyncQueue {
    pub fn new(client: impl Into<Option<aws_sdk_sqs::Client>>, url: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            url: url.into(),
        }
    }

    fn client(&self) -> Result<&aws_sdk_sqs::Client, Unwired> {
        self.client.as_ref().ok_or(Unwired("SQS"))
    }

    /// Enqueues a job; `dedup_id` makes a retried enqueue within SQS's 5-minute window a no-op.
    pub async fn enqueue(&self, job: &SyncJob, dedup_id: &str) -> Result<(), EnqueueError> {
        let body = serde_json::to_string(job).map_err(EnqueueError::Encode)?;
        self.client()?
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
        let entries = jobs
            .iter()
            .map(|(job, dedup)| Ok((serde_json::to_string(job)?, job.connection_id(), dedup)))
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(EnqueueError::Encode)?;
        self.send_batch(&entries).await
    }

    /// Sends fresh copies of received jobs (see [`Disposition::Resend`]), in order.
    pub async fn resend(&self, jobs: &[(QueuedJob, String)]) -> Result<(), EnqueueError> {
        let entries = jobs
            .iter()
            .map(|(queued, dedup)| {
                Ok((
                    serde_json::to_string(queued)?,
                    queued.job.connection_id(),
                    dedup,
                ))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(EnqueueError::Encode)?;
        self.send_batch(&entries).await
    }

    /// SendMessageBatch of (body, message group, dedup id), [`SEND_BATCH_MAX`] per call.
    async fn send_batch(
        &self,
        entries: &[(String, &ConnectionId, &String)],
    ) -> Result<(), EnqueueError> {
        for chunk in entries.chunks(SEND_BATCH_MAX) {
            let mut batch = Vec::with_capacity(chunk.len());
            for (i, (body, group, dedup_id)) in chunk.iter().enumerate() {
                let entry = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .message_group_id(group.as_str())
                    .message_deduplication_id(crate::store::keys::digest(dedup_id))
                    .build()
                    .map_err(|e| EnqueueError::Send(Box::new(e)))?;
                batch.push(entry);
            }
            let out = self
                .client()?
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(batch))
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
    /// throttled or failing job is retried later instead of in a loop; `Duration::ZERO` makes it
    /// visible at once.
    pub async fn retry_after(
        &self,
        receipt_handle: &str,
        delay: Duration,
    ) -> Result<(), EnqueueError> {
        let seconds = i32::try_from(delay.as_secs().min(43_200)).unwrap_or(43_200);
        self.client()?
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

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> QueuedJob {
        SyncJob::CatchUp {
            connection_id: ConnectionId::parse("6f9619ff-8b86-d011-b42d-00c04fc964ff").unwrap(),
        }
        .into()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn a_bare_job_reads_as_a_queued_job_never_set_aside_and_a_copy_round_trips() {
        let bare = r#"{"kind":"catch_up","connection_id":"6f9619ff-8b86-d011-b42d-00c04fc964ff"}"#;
        let queued: QueuedJob = serde_json::from_str(bare).unwrap();
        assert_eq!(queued, job());
        assert_eq!(serde_json::to_string(&queued).unwrap(), bare);
        let copy = QueuedJob {
            not_before: Some(now()),
            deferrals: 3,
            ..job()
        };
        let text = serde_json::to_string(&copy).unwrap();
        assert_eq!(serde_json::from_str::<QueuedJob>(&text).unwrap(), copy);
        // Whoever reads only the job still can.
        assert_eq!(serde_json::from_str::<SyncJob>(&text).unwrap(), job().job);
    }

    #[test]
    fn failures_are_left_to_the_receive_count() {
        for count in [1, 2, 5] {
            assert_eq!(
                disposition(
                    Return::Failed(failure_backoff(count)),
                    count,
                    Some(&job()),
                    now()
                ),
                Disposition::Delay(failure_backoff(count))
            );
        }
        assert_eq!(failure_backoff(1), Duration::from_secs(30));
        assert_eq!(failure_backoff(2), Duration::from_secs(60));
        assert_eq!(failure_backoff(9), Duration::from_secs(900));
    }

    #[test]
    fn graph_trouble_delays_a_first_receive_and_resends_any_later_one() {
        let hint = Duration::from_secs(7);
        assert_eq!(
            disposition(Return::Throttled(hint), 1, Some(&job()), now()),
            Disposition::Delay(hint)
        );
        let Disposition::Resend(copy) =
            disposition(Return::Throttled(hint), 2, Some(&job()), now())
        else {
            panic!("a second receive is sent again")
        };
        assert_eq!(copy.job, job().job);
        assert_eq!(copy.deferrals, 1);
        assert_eq!(copy.not_before, Some(now() + chrono::Duration::seconds(7)));
    }

    #[test]
    fn a_job_set_aside_too_often_lets_graph_trouble_count_as_failure() {
        let worn = QueuedJob {
            deferrals: MAX_DEFERRALS,
            ..job()
        };
        assert!(matches!(
            disposition(
                Return::Throttled(Duration::from_secs(1)),
                4,
                Some(&worn),
                now()
            ),
            Disposition::Delay(_)
        ));
    }

    #[test]
    fn deferrals_wait_for_graph_then_longer_each_time_up_to_fifteen_minutes() {
        let hint = Duration::from_secs(1);
        assert_eq!(deferral_delay(hint, 0), hint);
        assert_eq!(deferral_delay(hint, 2), hint);
        assert_eq!(deferral_delay(hint, 3), Duration::from_secs(30));
        assert_eq!(deferral_delay(hint, 4), Duration::from_secs(60));
        assert_eq!(deferral_delay(hint, 40), MAX_DEFERRAL);
        assert_eq!(
            deferral_delay(Duration::from_secs(120), 0),
            Duration::from_secs(120),
            "Graph's Retry-After is honoured"
        );
    }

    #[test]
    fn a_job_not_due_waits_until_its_time_and_is_resent_rather_than_counted_twice() {
        let at = now() + chrono::Duration::seconds(40);
        let waiting = QueuedJob {
            not_before: Some(at),
            deferrals: 2,
            ..job()
        };
        assert_eq!(
            disposition(Return::NotDue(at), 1, Some(&waiting), now()),
            Disposition::Delay(Duration::from_secs(40))
        );
        assert_eq!(
            disposition(Return::NotDue(at), 3, Some(&waiting), now()),
            Disposition::Resend(waiting.clone())
        );
    }

    #[test]
    fn jobs_behind_a_stopped_one_come_back_at_once_or_follow_its_copy() {
        assert_eq!(
            disposition(Return::Behind { head_until: None }, 1, Some(&job()), now()),
            Disposition::Delay(Duration::ZERO)
        );
        assert_eq!(
            disposition(Return::Behind { head_until: None }, 2, Some(&job()), now()),
            Disposition::Resend(job())
        );
        let head = now() + chrono::Duration::seconds(5);
        let Disposition::Resend(copy) = disposition(
            Return::Behind {
                head_until: Some(head),
            },
            1,
            Some(&job()),
            now(),
        ) else {
            panic!("behind a job sent again, a job is sent again too (order kept)")
        };
        assert_eq!(copy.not_before, Some(head));
        assert_eq!(copy.deferrals, 0);
        // A message that is not a job can only wait.
        assert_eq!(
            disposition(
                Return::Behind {
                    head_until: Some(head)
                },
                3,
                None,
                now()
            ),
            Disposition::Delay(Duration::ZERO)
        );
    }
}
