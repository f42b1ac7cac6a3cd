//! The `subscription-renewal` function, run every 30 minutes by an EventBridge schedule: one
//! renewal sweep (renew subscriptions nearing expiry, spread periodic catch-ups) at the schedule
//! event's time. The sweep itself is the shared crate's `sync::renewal`.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::Utc;
use m365_connector::app::Connector;
use m365_connector::sync::renewal::{self, RenewalError, Report};

/// Handles one scheduled event: a sweep at its `time` (now, if the event has none).
pub async fn handle(
    c: &Connector,
    event: EventBridgeEvent<serde_json::Value>,
) -> Result<Report, RenewalError> {
    renewal::sweep(c, event.time.unwrap_or_else(Utc::now)).await
}
