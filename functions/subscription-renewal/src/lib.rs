//! The `subscription-renewal` function, run every 30 minutes by an EventBridge schedule, at the
//! schedule event's time: delivers what the outbox still holds (events and first syncs whose
//! delivery failed when they were written, `outbox::drain`), deletes sign-in results nobody
//! claimed in time (`connect::claim::sweep_expired`), then one renewal sweep (renew
//! subscriptions nearing expiry, spread periodic catch-ups, `sync::renewal`).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::Utc;
use m365_connector::app::Connector;
use m365_connector::connect::claim::sweep_expired;
use m365_connector::outbox::{self, Drained, OutboxError};
use m365_connector::store::StoreError;
use m365_connector::sync::renewal::{self, RenewalError, Report};
use serde::Serialize;

/// What one scheduled run did.
#[derive(Debug, Serialize)]
pub struct Ran {
    #[serde(flatten)]
    pub renewal: Report,
    pub outbox: Drained,
    /// Unclaimed sign-in results deleted.
    pub expired_results: usize,
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

/// Handles one scheduled event (at its `time`, or now if it has none). Each part runs even when
/// an earlier one failed; the run then fails, and the next one does it again.
pub async fn handle(
    c: &Connector,
    event: EventBridgeEvent<serde_json::Value>,
) -> Result<Ran, RunError> {
    let now = event.time.unwrap_or_else(Utc::now);
    let drained = outbox::drain(c, now).await;
    let expired = sweep_expired(c, now).await;
    let renewal = renewal::sweep(c, now).await?;
    Ok(Ran {
        renewal,
        outbox: drained?,
        expired_results: expired?,
    })
}
