//! The renewal sweep, run every 30 minutes by an EventBridge schedule (the
//! `subscription-renewal` function):
//!
//! - Renewals first: subscriptions expiring within [`RENEWAL_MARGIN`] (the sharded expiry index,
//!   never a scan; its shards read concurrently, soonest expiry first) get a `Renew` job on the
//!   mailbox's queue group. A 404 there means Graph dropped the subscription; the sync engine
//!   recreates it and catches up.
//! - Then the safety net: Graph drops notifications (slow endpoint, outage over 4 h), so every
//!   active connection also gets a periodic `Periodic` job: subscribe any folder that has no
//!   subscription (a `connected` job that ended in the dead-letter queue leaves none, and without
//!   subscriptions no notification ever comes), then catch up. Connections are spread over
//!   [`CATCH_UP_SLOTS`] runs by a hash of their id, so each is visited every 3 hours and the
//!   load is flat. The slot is the connection's gsi1 shard modulo the slots, so a run reads only
//!   its own shards (2 of [`keys::CONNECTION_SHARDS`]), never every connection.
//!
//! A subscription record whose connection is gone gets its `Renew` like any other; the sync
//! engine then drops the record, so it is not found again.
//!
//! Bounded pages: each page the store returns (up to 1 MB read) is sent at once with
//! SendMessageBatch (10 jobs a call, three calls in flight) before the next is read, so memory
//! holds one page per shard and the first renewals leave within a Query and a send. No page is
//! started within [`STOP_BEFORE_DEADLINE`] of the invocation's deadline; what is left waits for the
//! next run (a renewal has 48 runs inside its margin; a skipped catch-up, 3 hours).
//!
//! Why one invocation, not a Step Functions map or an SQS fan-out: at 100,000 connections a run is
//! about 17,000 catch-ups and 700 renewals, i.e. ~1,800 SendMessageBatch calls and ~30 Queries,
//! seconds of work within the 60 s timeout (and within the FIFO queue's throughput); a
//! Distributed Map would add a state machine, its role and a charge per state transition, an SQS
//! fan-out a second trigger and its failure path, for work that fits one invocation. The same
//! shape holds to about a million connections (a run then sends ~17,000 batches); past that the
//! next step is one invocation per shard of the slot.
//!
//! Dedup ids name the subscription's expiry or the run's slot, so a retried run enqueues nothing
//! twice.

use std::pin::pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{self, Stream, StreamExt, TryStreamExt};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::app::Connector;
use crate::domain::ConnectionId;
use crate::metrics::{self, Metric};
use crate::queue::{EnqueueError, SyncJob, SEND_BATCH_MAX};
use crate::store::{keys, StoreError, SubscriptionRecord};

/// Subscriptions expiring sooner than this are renewed (Outlook ones live up to 7 days).
pub const RENEWAL_MARGIN: chrono::Duration = chrono::Duration::hours(24);
/// How often the schedule runs.
pub const RUN_EVERY_SECONDS: i64 = 30 * 60;
/// Catch-ups are spread over this many runs (6 x 30 min = every 3 hours).
pub const CATCH_UP_SLOTS: u64 = 6;
/// No page is started closer than this to the invocation's deadline.
pub const STOP_BEFORE_DEADLINE: Duration = Duration::from_secs(10);
/// SendMessageBatch calls in flight for the whole run. A FIFO queue takes 300 calls a second per
/// action (3,000 messages in batches of 10) and the webhook shares them: at 10-20 ms a call, 3
/// in flight stay at or under that, and 17,000 jobs still leave in 6-12 s.
const SENDS_IN_FLIGHT: usize = 3;
/// Connections moved per migration Query (see [`migrate_connections`]).
const MIGRATION_PAGE: usize = 1_000;

// A slot's connections must be whole shards.
const _: () = assert!((keys::CONNECTION_SHARDS as u64).is_multiple_of(CATCH_UP_SLOTS));

#[derive(Debug, thiserror::Error)]
pub enum RenewalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
}

/// What one run enqueued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub renewals: usize,
    pub catch_ups: usize,
    /// False when the deadline stopped the run before it read every page.
    pub complete: bool,
}

/// The catch-up slot of a connection (stable: a hash of its id, through its gsi1 shard).
pub fn slot_of(id: &ConnectionId) -> u64 {
    u64::from(keys::connection_shard(id)) % CATCH_UP_SLOTS
}

/// The connection shards whose connections are in `slot`.
pub fn shards_of_slot(slot: u64) -> impl Iterator<Item = u8> {
    (0..keys::CONNECTION_SHARDS).filter(move |shard| u64::from(*shard) % CATCH_UP_SLOTS == slot)
}

/// The slot a run at `now` serves, and the run's number (for dedup ids).
pub fn run_slot(now: DateTime<Utc>) -> (u64, i64) {
    let run = now.timestamp().div_euclid(RUN_EVERY_SECONDS);
    (run.rem_euclid(CATCH_UP_SLOTS as i64) as u64, run)
}

/// Counts a failed renewal (`stage`: `sweep` or `renew_job`) as the `RenewalFailures` metric.
pub fn record_failure(stage: &'static str) {
    metrics::emit(&[(Metric::RenewalFailures, 1)], &[("stage", stage)]);
}

fn out_of_time(deadline: Instant) -> bool {
    Instant::now() + STOP_BEFORE_DEADLINE >= deadline
}

/// One scheduled run at `now` (the schedule event's time), to stop before `deadline`.
#[tracing::instrument(skip_all)]
pub async fn sweep(
    c: &Connector,
    now: DateTime<Utc>,
    deadline: Instant,
) -> Result<Report, RenewalError> {
    let sends = Semaphore::new(SENDS_IN_FLIGHT);
    let sends = &sends;
    let (renewals, renewed_all) = match renew_expiring(c, now, deadline, sends).await {
        Ok(done) => done,
        Err(e) => {
            record_failure("sweep");
            return Err(e);
        }
    };
    if !renewed_all {
        record_failure("sweep");
        tracing::warn!(
            renewals,
            "the deadline stopped the renewals; the next run goes on"
        );
    }
    let (slot, run) = run_slot(now);
    let (catch_ups, caught_up_all) = stream::iter(shards_of_slot(slot))
        .map(|shard| {
            enqueue_pages(
                c,
                c.store.active_connections_in_shard(shard),
                |connection_id| {
                    let dedup = format!("periodic:{connection_id}:{run}");
                    (SyncJob::Periodic { connection_id }, dedup)
                },
                deadline,
                sends,
            )
        })
        .buffer_unordered(keys::CONNECTION_SHARDS as usize)
        .try_fold((0, true), |(n, all), (m, done)| async move {
            Ok((n + m, all && done))
        })
        .await?;
    let report = Report {
        renewals,
        catch_ups,
        complete: renewed_all && caught_up_all,
    };
    tracing::info!(?report, slot, "renewal sweep enqueued");
    Ok(report)
}

/// Renew jobs for every subscription expiring within the margin: the expiry shards concurrently.
async fn renew_expiring(
    c: &Connector,
    now: DateTime<Utc>,
    deadline: Instant,
    sends: &Semaphore,
) -> Result<(usize, bool), RenewalError> {
    stream::iter(0..keys::SUBSCRIPTION_EXPIRY_SHARDS)
        .map(|shard| {
            enqueue_pages(
                c,
                c.store
                    .subscriptions_expiring_in_shard(shard, now + RENEWAL_MARGIN),
                |sub: SubscriptionRecord| {
                    let dedup = format!("renew:{}:{}", sub.id, sub.expires_at.timestamp());
                    let job = SyncJob::Renew {
                        connection_id: sub.connection_id,
                        subscription_id: sub.id,
                    };
                    (job, dedup)
                },
                deadline,
                sends,
            )
        })
        .buffer_unordered(keys::SUBSCRIPTION_EXPIRY_SHARDS as usize)
        .try_fold((0, true), |(n, all), (m, done)| async move {
            Ok((n + m, all && done))
        })
        .await
}

/// Sends the jobs of each page of `pages` as it arrives (SendMessageBatch, each call holding a
/// permit of `sends`), until the pages end or the deadline nears. Returns how many jobs were
/// enqueued and whether every page was read.
async fn enqueue_pages<T>(
    c: &Connector,
    pages: impl Stream<Item = Result<Vec<T>, StoreError>>,
    job: impl Fn(T) -> (SyncJob, String),
    deadline: Instant,
    sends: &Semaphore,
) -> Result<(usize, bool), RenewalError> {
    let mut pages = pin!(pages);
    let mut sent = 0;
    loop {
        if out_of_time(deadline) {
            return Ok((sent, false));
        }
        let Some(page) = pages.next().await else {
            return Ok((sent, true));
        };
        let jobs: Vec<(SyncJob, String)> = page?.into_iter().map(&job).collect();
        stream::iter(jobs.chunks(SEND_BATCH_MAX))
            .map(|chunk| async move {
                let _permit = sends.acquire().await.expect("never closed");
                c.queue.enqueue_batch(chunk).await
            })
            .buffer_unordered(SENDS_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        sent += jobs.len();
    }
}

/// Moves connections still listed under the unsharded gsi1 partition (records written before
/// the shards existed) to their shards, a page of [`MIGRATION_PAGE`] at a time, until none is left
/// or the deadline nears; returns how many moved. Once done it costs one empty Query per run.
/// Until a connection is moved, listings still find it (they read the old partition too), but the
/// periodic catch-up does not.
pub async fn migrate_connections(c: &Connector, deadline: Instant) -> Result<usize, StoreError> {
    let mut moved = 0;
    while !out_of_time(deadline) {
        let page = c
            .store
            .migrate_unsharded_connections(MIGRATION_PAGE)
            .await?;
        moved += page;
        if page == 0 {
            break;
        }
    }
    if moved > 0 {
        tracing::info!(moved, "connections moved to their gsi1 shard");
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_stable_and_cover_every_value() {
        let id = ConnectionId::new_random();
        assert_eq!(slot_of(&id), slot_of(&id));
        let slots: std::collections::HashSet<u64> = (0..200)
            .map(|_| slot_of(&ConnectionId::new_random()))
            .collect();
        assert_eq!(slots.len(), CATCH_UP_SLOTS as usize);
    }

    #[test]
    fn a_slot_is_whole_shards_and_every_shard_has_one_slot() {
        let mut seen = Vec::new();
        for slot in 0..CATCH_UP_SLOTS {
            let shards: Vec<u8> = shards_of_slot(slot).collect();
            assert_eq!(
                shards.len(),
                (keys::CONNECTION_SHARDS as u64 / CATCH_UP_SLOTS) as usize
            );
            seen.extend(shards);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..keys::CONNECTION_SHARDS).collect::<Vec<_>>());
        for _ in 0..100 {
            let id = ConnectionId::new_random();
            assert!(shards_of_slot(slot_of(&id)).any(|s| s == keys::connection_shard(&id)));
        }
    }

    #[test]
    fn consecutive_runs_serve_consecutive_slots_and_repeat_every_three_hours() {
        let t = DateTime::from_timestamp(1_800 * 1_000, 0).unwrap();
        let (a, run_a) = run_slot(t);
        let (b, _) = run_slot(t + chrono::Duration::minutes(30));
        let (c, run_c) = run_slot(t + chrono::Duration::hours(3));
        assert_eq!((a + 1) % CATCH_UP_SLOTS, b);
        assert_eq!(a, c);
        assert_eq!(run_c - run_a, 6);
        // A retried run within the same half hour has the same run number (same dedup ids).
        assert_eq!(run_slot(t + chrono::Duration::minutes(29)).1, run_a);
    }
}
