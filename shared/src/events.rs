//! Events to the client app, on EventBridge. Every event carries a stable `event_id` in its detail
//! so consumers can deduplicate (EventBridge itself delivers at least once).
//!
//! PutEvents takes at most [`MAX_ENTRIES_PER_CALL`] entries per request, and their total size
//! (the UTF-8 bytes of source, detail-type and detail) must stay under 256 KB
//! (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html). Entries are
//! therefore packed by measured size, in order ([`pack`]), and an entry too large to go even
//! alone is sent reduced ([`reduce_oversized`]) instead of failing every retry of its batch.

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use serde::Serialize;

/// The `source` of every event the connector publishes.
pub const SOURCE: &str = "m365-connector";

/// PutEvents' limit on entries per request.
pub const MAX_ENTRIES_PER_CALL: usize = 10;
/// The entry bytes one request carries at most: PutEvents requires less than 256 KB (262,144
/// bytes); 1 KiB is kept clear.
pub const MAX_CALL_BYTES: usize = 256 * 1024 - 1024;
/// Calls in flight at once for one batch.
const IN_FLIGHT: usize = 8;
/// A member of an oversized detail is kept in its reduced form only up to this size.
const MAX_KEPT_MEMBER_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("EventBridge PutEvents failed")]
    Call {
        /// The service's error code, when it answered with one.
        code: Option<String>,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("EventBridge rejected the event: {0}")]
    Rejected(String),
    #[error("event detail does not serialise")]
    Encode(#[source] serde_json::Error),
    #[error(transparent)]
    Unwired(#[from] crate::aws::Unwired),
}

impl PublishError {
    /// EventBridge refused what was sent (an entry's content or the request's shape), not the
    /// caller or the moment: sending the same again fails the same way. Throttling, outages,
    /// missing permissions and network failures are not.
    pub fn is_refusal(&self) -> bool {
        const REFUSALS: [&str; 3] = ["MalformedDetail", "InvalidArgument", "ValidationException"];
        match self {
            Self::Call { code, .. } => code.as_deref().is_some_and(|c| REFUSALS.contains(&c)),
            Self::Rejected(code) => REFUSALS.contains(&code.as_str()),
            Self::Encode(_) => true,
            Self::Unwired(_) => false,
        }
    }
}

/// The size PutEvents counts for an entry of this connector (no time, no resources).
pub fn entry_size(detail_type: &str, detail: &str) -> usize {
    SOURCE.len() + detail_type.len() + detail.len()
}

/// Splits entries of the given sizes, in their order, into consecutive requests of at most
/// [`MAX_ENTRIES_PER_CALL`] entries and [`MAX_CALL_BYTES`] bytes (an entry over the limit alone,
/// which [`EventPublisher`] never sends, gets a request of its own).
pub fn pack(sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut calls = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, size) in sizes.iter().enumerate() {
        if i > start && (i - start == MAX_ENTRIES_PER_CALL || bytes + size > MAX_CALL_BYTES) {
            calls.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < sizes.len() {
        calls.push(start..sizes.len());
    }
    calls
}

/// A detail too large to publish even alone, reduced to its small top-level members (the
/// `event_id`, ids, the change) with `"truncated": true`, within `budget` bytes. The consumer
/// still learns what happened and to what, and reads the rest through the API.
pub fn reduce_oversized(detail: &serde_json::Value, budget: usize) -> serde_json::Value {
    let mut reduced = serde_json::Map::new();
    reduced.insert("truncated".into(), true.into());
    let mut size = serde_json::to_vec(&reduced).map_or(0, |b| b.len());
    if let Some(members) = detail.as_object() {
        for (name, value) in members {
            let member = name.len() + serde_json::to_vec(value).map_or(usize::MAX, |b| b.len());
            // The member plus its quotes, colon and comma.
            let cost = member.saturating_add(4);
            if member <= MAX_KEPT_MEMBER_BYTES && size + cost <= budget {
                reduced.insert(name.clone(), value.clone());
                size += cost;
            }
        }
    }
    serde_json::Value::Object(reduced)
}

/// One entry as it is sent: its detail serialised, reduced when it would not fit alone.
fn prepare(detail_type: &str, detail: &serde_json::Value) -> String {
    let full = detail.to_string();
    let size = entry_size(detail_type, &full);
    if size <= MAX_CALL_BYTES {
        return full;
    }
    let budget = MAX_CALL_BYTES - entry_size(detail_type, "");
    let reduced = reduce_oversized(detail, budget);
    tracing::warn!(
        detail_type,
        event_id = reduced
            .get("event_id")
            .and_then(|v| v.as_str())
            .unwrap_or("-"),
        size,
        "event too large for PutEvents; published reduced"
    );
    reduced.to_string()
}

#[derive(Clone, Debug)]
pub struct EventPublisher {
    /// `None` in a function built without EventBridge: a publish fails with
    /// [`PublishError::Unwired`].
    client: Option<aws_sdk_eventbridge::Client>,
    bus: String,
}

impl EventPublisher {
    pub fn new(
        client: impl Into<Option<aws_sdk_eventbridge::Client>>,
        bus: impl Into<String>,
    ) -> Self {
        Self {
            client: client.into(),
            bus: bus.into(),
        }
    }

    /// Publishes many events in order, packed into PutEvents requests by size ([`pack`]), a few
    /// requests at a time. Any refused entry fails the whole call: the caller retries, and
    /// consumers dedupe by the `event_id` every detail carries. Returns the requests made.
    pub async fn publish_batch(
        &self,
        events: &[(&str, serde_json::Value)],
    ) -> Result<usize, PublishError> {
        let entries: Vec<(&str, String)> = events
            .iter()
            .map(|(detail_type, detail)| (*detail_type, prepare(detail_type, detail)))
            .collect();
        let sizes: Vec<usize> = entries.iter().map(|(t, d)| entry_size(t, d)).collect();
        let calls = pack(&sizes);
        let client = self
            .client
            .as_ref()
            .ok_or(crate::aws::Unwired("EventBridge"))?;
        for wave in calls.chunks(IN_FLIGHT) {
            let mut set = tokio::task::JoinSet::new();
            for call in wave {
                let request = entries[call.clone()]
                    .iter()
                    .map(|(detail_type, detail)| {
                        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                            .event_bus_name(&self.bus)
                            .source(SOURCE)
                            .detail_type(*detail_type)
                            .detail(detail)
                            .build()
                    })
                    .collect::<Vec<_>>();
                let client = client.clone();
                set.spawn(
                    async move { client.put_events().set_entries(Some(request)).send().await },
                );
            }
            while let Some(joined) = set.join_next().await {
                let out = joined
                    .map_err(|e| PublishError::Call {
                        code: None,
                        source: Box::new(e),
                    })?
                    .map_err(|e| PublishError::Call {
                        code: e.code().map(str::to_owned),
                        source: Box::new(e),
                    })?;
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
        Ok(calls.len())
    }

    /// Publishes one event of `detail_type` (e.g. `connection.connected`).
    pub async fn publish<T: Serialize>(
        &self,
        detail_type: &str,
        detail: &T,
    ) -> Result<(), PublishError> {
        let detail = serde_json::to_value(detail).map_err(PublishError::Encode)?;
        self.publish_batch(&[(detail_type, detail)]).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: usize = 1024;

    #[test]
    fn small_events_go_ten_to_a_request() {
        assert_eq!(pack(&[300; 25]), vec![0..10, 10..20, 20..25]);
        assert_eq!(pack(&[]), Vec::<std::ops::Range<usize>>::new());
        assert_eq!(pack(&[5]), vec![0..1]);
    }

    #[test]
    fn large_events_are_packed_by_size_under_the_request_limit_in_order() {
        // Ten 30 KB events were one 300 KB request, over PutEvents' limit: now 8 and 2.
        assert_eq!(pack(&[30 * KB; 10]), vec![0..8, 8..10]);
        let sizes = [100 * KB, 100 * KB, 60 * KB, 1, 1, 200 * KB, 5 * KB];
        let calls = pack(&sizes);
        assert_eq!(calls, vec![0..2, 2..5, 5..7]);
        for call in &calls {
            let bytes: usize = sizes[call.clone()].iter().sum();
            assert!(bytes <= MAX_CALL_BYTES && call.len() <= MAX_ENTRIES_PER_CALL);
        }
        // Exactly at the limit still fits; one byte more starts a new request.
        let half = MAX_CALL_BYTES / 2;
        assert_eq!(pack(&[half, MAX_CALL_BYTES - half]), vec![0..2]);
        assert_eq!(pack(&[half, MAX_CALL_BYTES - half + 1]), vec![0..1, 1..2]);
    }

    #[test]
    fn an_entry_over_the_limit_alone_gets_its_own_request() {
        assert_eq!(pack(&[1, 300 * KB, 1]), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn an_event_too_large_to_send_alone_is_reduced_to_what_identifies_it() {
        let detail = serde_json::json!({
            "event_id": "message.created:c:m",
            "connection_id": "c",
            "change": "created",
            "message": {"id": "m", "subject": "s".repeat(300 * KB)},
        });
        let sent = prepare("message.created", &detail);
        assert!(entry_size("message.created", &sent) <= MAX_CALL_BYTES);
        let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"event_id": "message.created:c:m", "connection_id": "c",
                               "change": "created", "truncated": true})
        );
        // Within any budget, however small.
        let tiny = reduce_oversized(&detail, 40);
        assert!(serde_json::to_vec(&tiny).unwrap().len() <= 40, "{tiny}");
        assert_eq!(tiny["truncated"], true);
    }

    #[test]
    fn an_event_that_fits_is_sent_unchanged() {
        let detail =
            serde_json::json!({"event_id": "x", "message": {"subject": "s".repeat(100 * KB)}});
        assert_eq!(prepare("message.created", &detail), detail.to_string());
    }

    #[test]
    fn only_refusals_of_the_content_count_as_refusals() {
        let call = |code: Option<&str>| PublishError::Call {
            code: code.map(str::to_owned),
            source: "x".into(),
        };
        assert!(call(Some("ValidationException")).is_refusal());
        assert!(PublishError::Rejected("MalformedDetail".into()).is_refusal());
        assert!(!call(Some("ThrottlingException")).is_refusal());
        assert!(!call(Some("AccessDeniedException")).is_refusal());
        assert!(!call(None).is_refusal());
        assert!(!PublishError::Rejected("InternalFailure".into()).is_refusal());
    }
}
