//! The renewal sweep, run every 30 minutes by an EventBridge schedule (the
//! `subscription-renewal` function):
//!
//! - Renewal: subscriptions expiring within [`RENEWAL_MARGIN`] (found through the sharded expiry
//!   index, never a scan) get a `Renew` job on the mailbox's queue group. A 404 there means Graph
//!   dropped the subscription; the sync engine recreates it and catches up.
//! - Safety net: Graph drops notifications (slow endpoint, outage over 4 h), so every active
//!   connection also gets a periodic `Periodic` job: subscribe any folder that has no
//!   subscription (a `connected` job that ended in the dead-letter queue leaves none, and without
//!   subscriptions no notification ever comes), then catch up. Connections are spread over
//!   [`CATCH_UP_SLOTS`] runs by a hash of their id, so each is visited every 3 hours and the load
//!   is flat.
//!
//! A subscription record whose connection is gone gets its `Renew` like any other; the sync
//! engine then drops the record, so it is not found again.
//!
//! Dedup ids name the subscription's expiry or the run's slot, so a retried run enqueues nothing
//! twice.

use crate::app::Connector;
use crate::domain::{ConnectionStatus, PageLimit};
use crate::queue::{EnqueueError, SyncJob};
use crate::store::{keys, StoreError};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};

/// Subscriptions expiring sooner than this are renewed (Outlook ones live up to 7 days).
pub const RENEWAL_MARGIN: chrono::Duration = chrono::Duration::hours(24);
/// How often the schedule runs.
pub const RUN_EVERY_SECONDS: i64 = 30 * 60;
/// Catch-ups are spread over this many runs (6 x 30 min = every 3 hours).
pub const CATCH_UP_SLOTS: u64 = 6;
const IN_FLIGHT: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum RenewalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
    #[error("a stored cursor was rejected")]
    Cursor(#[source] crate::domain::ParseError),
}

/// What one run enqueued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub renewals: usize,
    pub catch_ups: usize,
}

/// The catch-up slot of a connection (stable: a hash of its id).
pub fn slot_of(connection_id: &str) -> u64 {
    u64::from_str_radix(&keys::digest(connection_id)[..12], 16).unwrap_or(0) % CATCH_UP_SLOTS
}

/// The slot a run at `now` serves, and the run's number (for dedup ids).
pub fn run_slot(now: DateTime<Utc>) -> (u64, i64) {
    let run = now.timestamp().div_euclid(RUN_EVERY_SECONDS);
    (run.rem_euclid(CATCH_UP_SLOTS as i64) as u64, run)
}

/// One scheduled run at `now` (the schedule event's time).
#[tracing::instrument(skip_all)]
pub async fn sweep(c: &Connector, now: DateTime<Utc>) -> Result<Report, RenewalError> {
    let mut jobs: Vec<(SyncJob, String)> = Vec::new();
    for sub in c
        .store
        .subscriptions_expiring_before(now + RENEWAL_MARGIN)
        .await?
    {
        let dedup = format!("renew:{}:{}", sub.id, sub.expires_at.timestamp());
        jobs.push((
            SyncJob::Renew {
                connection_id: sub.connection_id,
                subscription_id: sub.id,
            },
            dedup,
        ));
    }
    let renewals = jobs.len();

    let (slot, run) = run_slot(now);
    let limit = PageLimit::parse(Some("100")).expect("in range");
    let mut cursor: Option<String> = None;
    loop {
        let page = c
            .store
            .list_connections(None, limit, cursor.as_deref())
            .await?
            .map_err(RenewalError::Cursor)?;
        for connection in page.items {
            if connection.status == ConnectionStatus::Active
                && slot_of(connection.id.as_str()) == slot
            {
                let dedup = format!("periodic:{}:{run}", connection.id);
                jobs.push((
                    SyncJob::Periodic {
                        connection_id: connection.id,
                    },
                    dedup,
                ));
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let catch_ups = jobs.len() - renewals;

    stream::iter(jobs)
        .map(|(job, dedup)| async move { c.queue.enqueue(&job, &dedup).await })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    let report = Report {
        renewals,
        catch_ups,
    };
    tracing::info!(?report, slot, "renewal sweep enqueued");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_stable_and_cover_every_value() {
        let id = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
        assert_eq!(slot_of(id), slot_of(id));
        let slots: std::collections::HashSet<u64> = (0..200)
            .map(|i| slot_of(&format!("00000000-0000-4000-8000-{i:012}")))
            .collect();
        assert_eq!(slots.len(), CATCH_UP_SLOTS as usize);
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
