//! Events to the client app, on EventBridge. Every event carries a stable `event_id` in its detail
//! so consumers can deduplicate (EventBridge itself delivers at least once).

use serde::Serialize;

/// The `source` of every event the connector publishes.
pub const SOURCE: &str = "m365-connector";

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("EventBridge PutEvents failed")]
    Call(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("EventBridge rejected the event: {0}")]
    Rejected(String),
    #[error("event detail does not serialise")]
    Encode(#[source] serde_json::Error),
}

#[derive(Clone, Debug)]
pub struct EventPublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventPublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }

    /// Publishes many events, ten per PutEvents call (the API's limit), a few calls at a time.
    /// Any refused entry fails the whole call: the caller retries, and consumers dedupe by the
    /// `event_id` every detail carries.
    pub async fn publish_batch(
        &self,
        events: &[(&str, serde_json::Value)],
    ) -> Result<usize, PublishError> {
        const PER_CALL: usize = 10;
        const IN_FLIGHT: usize = 8;
        let mut calls = 0;
        let chunks: Vec<_> = events.chunks(PER_CALL).collect();
        for wave in chunks.chunks(IN_FLIGHT) {
            let mut set = tokio::task::JoinSet::new();
            for chunk in wave {
                let entries = chunk
                    .iter()
                    .map(|(detail_type, detail)| {
                        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                            .event_bus_name(&self.bus)
                            .source(SOURCE)
                            .detail_type(*detail_type)
                            .detail(detail.to_string())
                            .build()
                    })
                    .collect::<Vec<_>>();
                let client = self.client.clone();
                set.spawn(
                    async move { client.put_events().set_entries(Some(entries)).send().await },
                );
            }
            while let Some(joined) = set.join_next().await {
                calls += 1;
                let out = joined
                    .map_err(|e| PublishError::Call(Box::new(e)))?
                    .map_err(|e| PublishError::Call(Box::new(e)))?;
                if out.failed_entry_count > 0 {
                    let code = out
                        .entries()
                        .iter()
                        .find_map(|e| e.error_code().map(str::to_owned))
                        .unwrap_or_else(|| "unknown".into());
                    return Err(PublishError::Rejected(code));
                }
            }
        }
        Ok(calls)
    }

    /// Publishes one event of `detail_type` (e.g. `connection.connected`).
    pub async fn publish<T: Serialize>(
        &self,
        detail_type: &str,
        detail: &T,
    ) -> Result<(), PublishError> {
        let detail = serde_json::to_string(detail).map_err(PublishError::Encode)?;
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(SOURCE)
            .detail_type(detail_type)
            .detail(detail)
            .build();
        let out = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| PublishError::Call(Box::new(e)))?;
        if out.failed_entry_count > 0 {
            let code = out
                .entries()
                .iter()
                .find_map(|e| e.error_code().map(str::to_owned))
                .unwrap_or_else(|| "unknown".into());
            return Err(PublishError::Rejected(code));
        }
        Ok(())
    }
}
