//! The `subscription-renewal` function, run every 30 minutes by an EventBridge schedule, at the
//! schedule event's time: one renewal sweep first (renew subscriptions nearing expiry, then the
//! spread periodic catch-ups, `sync::renewal`), then delivers what the outbox still holds (events
//! and first syncs whose delivery failed when they were written, `outbox::drain`), deletes
//! sign-in results nobody claimed in time (`connect::claim::sweep_expired`), and with the time
//! left moves connections written before gsi1 was sharded to their shard
//! (`renewal::migrate_connections`).

use std::time::Duration;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use lambda_runtime::LambdaEvent;
use m365_connector::app::Connector;
use m365_connector::connect::claim::sweep_expired;
use m365_connector::outbox::{self, Drained, OutboxError};
use m365_connector::store::StoreError;
use m365_connector::sync::renewal::{self, RenewalError, Report};
use serde::Serialize;
use tokio::time::Instant;

/// What one scheduled run did.
#[derive(Debug, Serialize)]
pub struct Ran {
    #[serde(flatten)]
    pub renewal: Report,
    pub outbox: Drained,
    /// Unclaimed sign-in results deleted.
    pub expired_results: usize,
    /// Connections moved from the unsharded gsi1 partition to their shard.
    pub migrated: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Renewal(#[from] RenewalError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Handles one scheduled event (at its `time`, or now if it has none), within the invocation's
/// deadline.
pub async fn handle(
    c: &Connector,
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<Ran, RunError> {
    let remaining = event
        .context
        .deadline
        .saturating_sub(epoch_ms())
        .min(15 * 60 * 1000);
    let deadline = Instant::now() + Duration::from_millis(remaining);
    run(c, event.payload.time.unwrap_or_else(Utc::now), deadline).await
}

fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// One run at `now`. Each part runs even when an earlier one failed; the run then fails, and the
/// next one does it again.
pub async fn run(c: &Connector, now: DateTime<Utc>, deadline: Instant) -> Result<Ran, RunError> {
    let renewal = renewal::sweep(c, now, deadline).await;
    let drained = outbox::drain(c, now).await;
    let expired = sweep_expired(c, now).await;
    let migrated = renewal::migrate_connections(c, deadline).await;
    Ok(Ran {
        renewal: renewal?,
        outbox: drained?,
        expired_results: expired?,
        migrated: migrated?,
    })
}
