//! Graph change and lifecycle notifications (webhooks): the validation handshake, parsing a
//! notification batch, proving each item genuine against its subscription record, and turning
//! the genuine ones into per-mailbox sync jobs.
//!
//! Notifications are hints, never data: a genuine change notification only schedules a delta
//! catch-up of its mailbox, so a dropped or duplicated item costs latency, not correctness. The
//! whole path is one BatchGetItem per 100 subscriptions of the batch (one, for any batch Graph
//! really sends) and one SendMessageBatch per 10 jobs, far inside Graph's 3-second budget. Forged or unknown items are dropped and counted,
//! and the answer is the same 202 either way, so a sender learns nothing about what we hold.
//!
//! The endpoint is public, so what a POST may cost is bounded before any I/O: an item whose
//! `subscriptionId` is not a GUID (Graph issues nothing else) is never looked up, and one POST
//! examines at most [`MAX_ITEMS`] items naming at most [`MAX_SUBSCRIPTIONS`] distinct
//! subscriptions, looked up in parallel batches of 100. Whatever lies beyond is answered 202 like
//! the rest and counted in the log (`over_limit`): refusing it would make Graph retry a genuine
//! POST for hours, and the periodic catch-up repairs any hint lost this way.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::app::Connector;
use crate::domain::{ConnectionId, SubscriptionId, TenantId};
use crate::http::{self, ApiError};
use crate::queue::{EnqueueError, LifecycleEvent, SyncJob};
use crate::store::{StoreError, SubscriptionRecord};

/// Longest `validationToken` echoed back. Graph's tokens are well under this; anything longer is
/// not Graph, and echoing it would turn the endpoint into a reflector.
pub const MAX_VALIDATION_TOKEN: usize = 1024;

/// Largest notification batch accepted. Graph batches without resource data are a few hundred
/// bytes per item; 1 MB is thousands of items, far beyond anything Graph sends in one POST.
pub const MAX_NOTIFICATION_BODY: usize = 1024 * 1024;

/// Most well-formed items one POST gets examined. Microsoft documents no maximum for a batch
/// ("Microsoft Graph may send multiple items in a single request"); a genuine change item (with
/// `resource`, `resourceData`, expiry) is 450 bytes or more and a lifecycle item 250 or more, so
/// a body within [`MAX_NOTIFICATION_BODY`] holds at most about 2,300 change or 4,000 lifecycle
/// items: no genuine POST we accept reaches this.
pub const MAX_ITEMS: usize = 4_000;

/// Most distinct subscription ids one POST gets looked up: 10 BatchGetItem calls of 100. Each
/// mailbox has two subscriptions, so this is 500 mailboxes changing within one of Graph's
/// delivery batches. Items naming further subscriptions are dropped and counted; their
/// mailboxes are caught up by the periodic catch-up.
pub const MAX_SUBSCRIPTIONS: usize = 1_000;

/// How long Graph is asked to wait before retrying a batch we could not enqueue.
pub(crate) const RETRY_AFTER_SECS: u64 = 5;

/// Graph's subscription validation: the `validationToken` query parameter, URL-decoded (by
/// lambda_http, from API Gateway's raw query string), echoed as `text/plain`. `None` when the
/// request is not a validation request.
pub fn validation_response(token: Option<&str>) -> Option<Result<Response<Body>, WebhookError>> {
    let token = token?;
    Some(if token.is_empty() {
        Err(WebhookError::InvalidToken(
            "validationToken must not be empty".into(),
        ))
    } else if token.len() > MAX_VALIDATION_TOKEN {
        Err(WebhookError::InvalidToken(format!(
            "validationToken must be at most {MAX_VALIDATION_TOKEN} bytes"
        )))
    } else {
        Ok(http::text(StatusCode::OK, token))
    })
}

/// What a notification item asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemKind {
    /// A `changeType` notification (created/updated/deleted or anything Graph adds later): the
    /// mailbox needs a delta catch-up.
    Change,
    /// A lifecycle notification.
    Lifecycle(LifecycleEvent),
}

/// One notification item as Graph sent it, reduced to what the connector checks and uses.
#[derive(Debug, Clone)]
pub struct Notification {
    pub subscription_id: SubscriptionId,
    /// Compared (as a hash) against the subscription's; never logged.
    pub client_state: SecretString,
    pub tenant_id: TenantId,
    pub kind: ItemKind,
    /// SHA-256 of the item without its `clientState`: identical for Graph's retries of the same
    /// item, different for any other item. Seeds the SQS deduplication ids.
    pub fingerprint: [u8; 32],
}

/// A parsed batch: the usable items, how many items were unusable (wrong shape, missing fields,
/// ids that are not GUIDs, unknown lifecycle events) and how many well-formed items lay beyond
/// [`MAX_ITEMS`] or named a subscription beyond [`MAX_SUBSCRIPTIONS`].
#[derive(Debug, Default)]
pub struct Batch {
    pub items: Vec<Notification>,
    pub malformed: usize,
    pub over_limit: usize,
}

impl Batch {
    /// The distinct subscription ids of the items, at most [`MAX_SUBSCRIPTIONS`].
    pub fn subscription_ids(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.items
            .iter()
            .map(|i| i.subscription_id.as_str())
            .filter(|id| seen.insert(*id))
            .collect()
    }
}

#[derive(Deserialize)]
struct Envelope {
    value: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawItem {
    subscription_id: Option<String>,
    client_state: Option<String>,
    tenant_id: Option<String>,
    change_type: Option<String>,
    lifecycle_event: Option<String>,
}

/// Parses a `{"value": [...]}` notification collection (change or lifecycle items, possibly
/// mixed). A body that is too large, not JSON, or without a `value` array is rejected; single
/// items that are unusable are only counted, so one odd item does not make Graph retry the rest.
/// Items past the limits ([`MAX_ITEMS`], [`MAX_SUBSCRIPTIONS`]) are counted, not kept.
pub fn parse_batch(body: &[u8]) -> Result<Batch, WebhookError> {
    if body.len() > MAX_NOTIFICATION_BODY {
        return Err(WebhookError::TooLarge(format!(
            "the notification batch must be at most {MAX_NOTIFICATION_BODY} bytes"
        )));
    }
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
        WebhookError::Malformed(format!(
            "the body must be a Graph notification collection {{\"value\": [...]}}: {e}"
        ))
    })?;
    let mut batch = Batch::default();
    let mut subscriptions: HashSet<SubscriptionId> = HashSet::new();
    for value in envelope.value {
        let Some(head) = ItemHead::read(&value) else {
            batch.malformed += 1;
            continue;
        };
        let admitted = batch.items.len() < MAX_ITEMS
            && (subscriptions.contains(&head.subscription_id)
                || subscriptions.len() < MAX_SUBSCRIPTIONS);
        if !admitted {
            batch.over_limit += 1;
            continue;
        }
        subscriptions.insert(head.subscription_id.clone());
        batch.items.push(head.into_notification(value));
    }
    Ok(batch)
}

/// The checked fields of one item, before its fingerprint is taken.
struct ItemHead {
    subscription_id: SubscriptionId,
    client_state: String,
    tenant_id: TenantId,
    kind: ItemKind,
}

impl ItemHead {
    /// The item's fields, or `None` when it is not a usable Graph notification: a field missing,
    /// a subscription or tenant id that is not a GUID, a lifecycle event we do not know.
    fn read(value: &Value) -> Option<Self> {
        let raw = RawItem::deserialize(value).ok()?;
        let subscription_id =
            SubscriptionId::parse("subscriptionId", raw.subscription_id.as_deref()?).ok()?;
        let client_state = raw.client_state?;
        let tenant_id = TenantId::parse("tenantId", raw.tenant_id.as_deref()?).ok()?;
        let kind = match (raw.lifecycle_event.as_deref(), raw.change_type.as_deref()) {
            (Some("subscriptionRemoved"), _) => {
                ItemKind::Lifecycle(LifecycleEvent::SubscriptionRemoved)
            }
            (Some("reauthorizationRequired"), _) => {
                ItemKind::Lifecycle(LifecycleEvent::ReauthorizationRequired)
            }
            (Some("missed"), _) => ItemKind::Lifecycle(LifecycleEvent::Missed),
            // An event Graph may add later: nothing we know how to do for it.
            (Some(_), _) => return None,
            (None, Some(change)) if !change.is_empty() => ItemKind::Change,
            (None, _) => return None,
        };
        Some(Self {
            subscription_id,
            client_state,
            tenant_id,
            kind,
        })
    }

    fn into_notification(self, mut value: Value) -> Notification {
        // The fingerprint must not depend on the secret, and must be stable across Graph's
        // retries: serde_json's map is ordered by key, so re-serialising is canonical for
        // identical items.
        if let Some(object) = value.as_object_mut() {
            object.remove("clientState");
        }
        let fingerprint = Sha256::digest(value.to_string().as_bytes()).into();
        Notification {
            subscription_id: self.subscription_id,
            client_state: SecretString::from(self.client_state),
            tenant_id: self.tenant_id,
            kind: self.kind,
            fingerprint,
        }
    }
}

/// Why an item was dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    pub unknown_subscription: usize,
    pub wrong_client_state: usize,
    pub wrong_tenant: usize,
}

impl Dropped {
    pub fn total(&self) -> usize {
        self.unknown_subscription + self.wrong_client_state + self.wrong_tenant
    }
}

/// The sync work a batch's genuine items call for: per connection, one catch-up if any change
/// notification arrived, and one lifecycle job per (subscription, event).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Work {
    pub connections: BTreeMap<ConnectionId, ConnectionWork>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ConnectionWork {
    /// Fingerprints of the change notifications (a set: duplicates within a batch collapse).
    pub changes: BTreeSet<[u8; 32]>,
    /// Lifecycle items by (subscription, event), each with the fingerprints that asked for it.
    pub lifecycle: BTreeMap<(String, LifecycleEvent), BTreeSet<[u8; 32]>>,
}

/// Keeps the items whose subscription is known, whose `clientState` matches the stored hash (in
/// constant time) and whose tenant is the subscription's; groups them by connection.
pub fn authenticate(
    items: &[Notification],
    subscriptions: &HashMap<String, SubscriptionRecord>,
) -> (Work, Dropped) {
    let mut work = Work::default();
    let mut dropped = Dropped::default();
    for item in items {
        let Some(record) = subscriptions.get(item.subscription_id.as_str()) else {
            dropped.unknown_subscription += 1;
            continue;
        };
        if !record.client_state_matches(item.client_state.expose_secret()) {
            dropped.wrong_client_state += 1;
            continue;
        }
        if !record.tenant_matches(item.tenant_id.as_str()) {
            dropped.wrong_tenant += 1;
            continue;
        }
        let entry = work
            .connections
            .entry(record.connection_id.clone())
            .or_default();
        match item.kind {
            ItemKind::Change => {
                entry.changes.insert(item.fingerprint);
            }
            ItemKind::Lifecycle(event) => {
                entry
                    .lifecycle
                    .entry((record.id.clone(), event))
                    .or_default()
                    .insert(item.fingerprint);
            }
        }
    }
    (work, dropped)
}

/// A deduplication id from the job's kind and target and the fingerprints of the items that
/// caused it: Graph's retry of the same batch yields the same id (SQS drops it within its
/// 5-minute window), while any new notification yields a new job.
fn dedup_id(parts: &[&str], fingerprints: &BTreeSet<[u8; 32]>) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    for f in fingerprints {
        hash.update(f);
    }
    format!("webhook#{}", hex::encode(hash.finalize()))
}

impl Work {
    /// The jobs to enqueue, each with its deduplication id. Within a connection the lifecycle
    /// jobs come first (a removed subscription is recreated before the catch-up), then one
    /// catch-up.
    pub fn jobs(&self) -> Vec<(SyncJob, String)> {
        let mut jobs = Vec::new();
        for (connection_id, work) in &self.connections {
            for ((subscription_id, event), fingerprints) in &work.lifecycle {
                let event = *event;
                let id = dedup_id(
                    &[
                        "lifecycle",
                        connection_id.as_str(),
                        subscription_id,
                        &format!("{event:?}"),
                    ],
                    fingerprints,
                );
                jobs.push((
                    SyncJob::Lifecycle {
                        connection_id: connection_id.clone(),
                        subscription_id: subscription_id.clone(),
                        event,
                    },
                    id,
                ));
            }
            if !work.changes.is_empty() {
                let id = dedup_id(&["catch_up", connection_id.as_str()], &work.changes);
                jobs.push((
                    SyncJob::CatchUp {
                        connection_id: connection_id.clone(),
                    },
                    id,
                ));
            }
        }
        jobs
    }
}

/// Why a webhook request failed: a request that is not Graph's (4xx), or a genuine batch that
/// could not be handed on (worth a retry by Graph: 5xx).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("looking up the batch's subscriptions failed")]
    Lookup(#[source] StoreError),
    #[error("enqueueing the batch's sync jobs failed")]
    Enqueue(#[source] EnqueueError),
}

/// What a batch came to, for the log and for tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub items: usize,
    pub malformed: usize,
    /// Well-formed items past [`MAX_ITEMS`] or naming a subscription past [`MAX_SUBSCRIPTIONS`].
    pub over_limit: usize,
    pub dropped: Dropped,
    pub connections: usize,
    pub jobs: usize,
}

/// Authenticates a parsed batch with one batched subscription lookup (BatchGetItem calls of 100
/// ids, in parallel) and enqueues its sync jobs with one batched send per 10 jobs.
#[tracing::instrument(name = "graph_notifications", skip_all, fields(items = batch.items.len()))]
pub async fn accept(c: &Connector, batch: &Batch) -> Result<Outcome, WebhookError> {
    let mut outcome = Outcome {
        items: batch.items.len() + batch.malformed + batch.over_limit,
        malformed: batch.malformed,
        over_limit: batch.over_limit,
        ..Outcome::default()
    };
    if !batch.items.is_empty() {
        let ids = batch.subscription_ids();
        let subscriptions = c
            .store
            .get_subscriptions(&ids)
            .await
            .map_err(WebhookError::Lookup)?;
        let (work, dropped) = authenticate(&batch.items, &subscriptions);
        let jobs = work.jobs();
        if !jobs.is_empty() {
            c.queue
                .enqueue_batch(&jobs)
                .await
                .map_err(WebhookError::Enqueue)?;
        }
        outcome.dropped = dropped;
        outcome.connections = work.connections.len();
        outcome.jobs = jobs.len();
    }
    use crate::metrics::{emit, Metric};
    emit(
        &[
            (Metric::NotificationItems, outcome.items as u64),
            (
                Metric::ForgedNotificationItems,
                outcome.dropped.total() as u64,
            ),
        ],
        &[],
    );
    // Counts only: no clientState, subscription or resource ids in the log.
    if outcome.dropped.total() > 0 || outcome.malformed > 0 || outcome.over_limit > 0 {
        tracing::warn!(
            items = outcome.items,
            malformed = outcome.malformed,
            over_limit = outcome.over_limit,
            unknown_subscription = outcome.dropped.unknown_subscription,
            wrong_client_state = outcome.dropped.wrong_client_state,
            wrong_tenant = outcome.dropped.wrong_tenant,
            jobs = outcome.jobs,
            "dropped notification items that are not genuine"
        );
    } else {
        tracing::info!(
            items = outcome.items,
            connections = outcome.connections,
            jobs = outcome.jobs,
            "notifications accepted"
        );
    }
    Ok(outcome)
}

/// The whole webhook request: validation handshake first (no I/O), else parse, authenticate,
/// enqueue, 202 with an empty body.
pub async fn respond(
    c: &Connector,
    validation_token: Option<&str>,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    if let Some(validation) = validation_response(validation_token) {
        return Ok(validation?);
    }
    let batch = parse_batch(body)?;
    accept(c, &batch).await?;
    Ok(http::empty(StatusCode::ACCEPTED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::client_state_hash;
    use serde_json::json;

    const TENANT: &str = "84bd8158-6d4d-4958-8b9f-9d6445542f95";
    // Subscription ids: Graph's are GUIDs.
    const S1: &str = "5b1f4a8e-0c2d-4e6f-8a9b-000000000001";
    const S2: &str = "5b1f4a8e-0c2d-4e6f-8a9b-000000000002";
    const UNKNOWN: &str = "5b1f4a8e-0c2d-4e6f-8a9b-0000000000ff";
    const A_INBOX: &str = "5b1f4a8e-0c2d-4e6f-8a9b-00000000a001";
    const A_SENT: &str = "5b1f4a8e-0c2d-4e6f-8a9b-00000000a002";
    const B_INBOX: &str = "5b1f4a8e-0c2d-4e6f-8a9b-00000000b001";

    fn record(id: &str, connection: &ConnectionId, state: &str) -> SubscriptionRecord {
        SubscriptionRecord {
            id: id.into(),
            connection_id: connection.clone(),
            tenant_id: TENANT.into(),
            folder: "inbox".into(),
            resource: "me/mailFolders('inbox')/messages".into(),
            client_state_hash: client_state_hash(state),
            expires_at: chrono::Utc::now(),
        }
    }

    fn change(sub: &str, state: &str, message: &str) -> Value {
        json!({
            "subscriptionId": sub, "clientState": state, "tenantId": TENANT,
            "changeType": "created", "subscriptionExpirationDateTime": "2026-03-19T22:11:09.952Z",
            "resource": format!("users/u@t/messages/{message}"),
            "resourceData": {"@odata.type": "#Microsoft.Graph.Message", "id": message},
        })
    }

    fn lifecycle(sub: &str, state: &str, event: &str) -> Value {
        json!({
            "subscriptionId": sub, "clientState": state, "tenantId": TENANT,
            "lifecycleEvent": event, "subscriptionExpirationDateTime": "2026-03-19T22:11:09.952Z",
        })
    }

    fn parse(items: Vec<Value>) -> Batch {
        parse_batch(json!({ "value": items }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_validation_token_is_echoed_as_plain_text() {
        let r = validation_response(Some("Validation: <a&b> + 100% ok"))
            .unwrap()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.body().as_ref(), b"Validation: <a&b> + 100% ok");
    }

    #[test]
    fn validation_tokens_that_are_empty_or_too_long_are_rejected_naming_the_field() {
        assert!(validation_response(None).is_none());
        for token in ["".to_owned(), "x".repeat(MAX_VALIDATION_TOKEN + 1)] {
            let e = ApiError::from(validation_response(Some(&token)).unwrap().unwrap_err());
            assert_eq!(e.status(), 400);
            assert_eq!(e.problem().field.as_deref(), Some("validationToken"));
        }
        let longest = "x".repeat(MAX_VALIDATION_TOKEN);
        assert!(validation_response(Some(&longest)).unwrap().is_ok());
    }

    #[test]
    fn malformed_bodies_are_400_and_oversized_ones_413() {
        for body in [&b"not json"[..], b"", b"{}", b"{\"value\": {}}", b"[1,2]"] {
            let e = ApiError::from(parse_batch(body).unwrap_err());
            assert_eq!(e.status(), 400, "{}", String::from_utf8_lossy(body));
        }
        let big = format!(
            "{{\"value\":[],\"pad\":\"{}\"}}",
            "x".repeat(MAX_NOTIFICATION_BODY)
        );
        assert_eq!(
            ApiError::from(parse_batch(big.as_bytes()).unwrap_err()).status(),
            413
        );
    }

    #[test]
    fn unusable_items_are_counted_not_fatal() {
        let batch = parse(vec![
            change(S1, "cs", "m1"),
            json!(42),
            json!({"clientState": "cs", "tenantId": TENANT, "changeType": "created"}),
            json!({"subscriptionId": S1, "tenantId": TENANT, "changeType": "created"}),
            json!({"subscriptionId": S1, "clientState": "cs", "changeType": "created"}),
            json!({"subscriptionId": S1, "clientState": "cs", "tenantId": TENANT}),
            json!({"subscriptionId": 7, "clientState": "cs", "tenantId": TENANT, "changeType": "created"}),
            lifecycle(S1, "cs", "somethingNew"),
            lifecycle(S1, "cs", "missed"),
        ]);
        assert_eq!(batch.items.len(), 2);
        assert_eq!(batch.malformed, 7);
        assert_eq!(batch.items[0].kind, ItemKind::Change);
        assert_eq!(
            batch.items[1].kind,
            ItemKind::Lifecycle(LifecycleEvent::Missed)
        );
    }

    #[test]
    fn subscription_and_tenant_ids_that_are_not_guids_make_an_item_malformed() {
        let mut not_a_tenant = change(S1, "cs", "m1");
        not_a_tenant["tenantId"] = json!("contoso.example");
        let batch = parse(vec![
            change("not-a-guid", "cs", "m1"),
            change("SUB#5b1f4a8e", "cs", "m1"),
            change("", "cs", "m1"),
            not_a_tenant,
            change(&S1.to_uppercase(), "cs", "m1"),
        ]);
        assert_eq!(batch.malformed, 4);
        assert_eq!(batch.items.len(), 1);
        // GUIDs are compared in Graph's spelling: lower case, hyphenated.
        assert_eq!(batch.items[0].subscription_id.as_str(), S1);
    }

    /// A GUID-shaped subscription id per `n`.
    fn guid(n: usize) -> String {
        format!("5b1f4a8e-0c2d-4e6f-8a9b-{n:012x}")
    }

    #[test]
    fn items_naming_subscriptions_past_the_limit_are_counted_not_kept() {
        let mut items: Vec<Value> = (0..MAX_SUBSCRIPTIONS + 5)
            .map(|n| change(&guid(n), "cs", "m"))
            .collect();
        // A later item of a subscription already in the batch costs no lookup: it is kept.
        items.push(change(&guid(0), "cs", "m-later"));

        let batch = parse(items);

        assert_eq!(batch.over_limit, 5);
        assert_eq!(batch.items.len(), MAX_SUBSCRIPTIONS + 1);
        assert_eq!(batch.subscription_ids().len(), MAX_SUBSCRIPTIONS);
        assert_eq!(
            batch.items.last().unwrap().subscription_id.as_str(),
            guid(0)
        );
    }

    #[test]
    fn items_past_the_item_limit_are_counted_not_kept() {
        // Minimal items: a forger's, the only ones that fit this many in a body.
        let items: Vec<Value> = (0..MAX_ITEMS + 3)
            .map(|n| json!({"subscriptionId": S1, "clientState": "c", "tenantId": TENANT, "changeType": n.to_string()}))
            .chain([json!("malformed items do not count against the limit")])
            .collect();

        let batch = parse(items);

        assert_eq!(batch.items.len(), MAX_ITEMS);
        assert_eq!(batch.over_limit, 3);
        assert_eq!(batch.malformed, 1);
    }

    #[test]
    fn a_body_of_genuine_change_items_never_reaches_the_item_limit() {
        // Change items as Graph writes them (resource, resourceData, expiry, a 43-character state).
        let item = change(
            S1,
            "a-client-state-of-43-characters-0123456789a",
            "AAMkAGI2TG93AAA=",
        );
        let per_item = item.to_string().len() + 1;
        assert!(per_item >= 300, "{per_item}");
        assert!(MAX_NOTIFICATION_BODY / per_item <= MAX_ITEMS);
    }

    #[test]
    fn the_fingerprint_ignores_client_state_and_tells_items_apart() {
        let a = parse(vec![change(S1, "one", "m1")]);
        let b = parse(vec![change(S1, "two", "m1")]);
        let c = parse(vec![change(S1, "one", "m2")]);
        assert_eq!(a.items[0].fingerprint, b.items[0].fingerprint);
        assert_ne!(a.items[0].fingerprint, c.items[0].fingerprint);
    }

    #[test]
    fn forged_unknown_and_foreign_items_are_dropped_and_counted() {
        let conn = ConnectionId::new_random();
        let mut foreign = record(S2, &conn, "cs2");
        foreign.tenant_id = "00000000-0000-0000-0000-000000000001".into();
        let subs = HashMap::from([
            (S1.to_owned(), record(S1, &conn, "cs1")),
            (S2.to_owned(), foreign),
        ]);
        let batch = parse(vec![
            change(S1, "wrong", "m1"),
            change(UNKNOWN, "cs1", "m2"),
            change(S2, "cs2", "m3"),
        ]);

        let (work, dropped) = authenticate(&batch.items, &subs);

        assert!(work.jobs().is_empty());
        assert_eq!(
            dropped,
            Dropped {
                unknown_subscription: 1,
                wrong_client_state: 1,
                wrong_tenant: 1
            }
        );
    }

    #[test]
    fn a_record_without_a_tenant_matches_no_tenant() {
        let conn = ConnectionId::new_random();
        let mut r = record(S1, &conn, "cs1");
        r.tenant_id = String::new();
        let subs = HashMap::from([(S1.to_owned(), r)]);
        let batch = parse(vec![change(S1, "cs1", "m1")]);
        let (_, dropped) = authenticate(&batch.items, &subs);
        assert_eq!(dropped.wrong_tenant, 1);
    }

    #[test]
    fn tenant_ids_compare_without_regard_to_case() {
        let conn = ConnectionId::new_random();
        let subs = HashMap::from([(S1.to_owned(), record(S1, &conn, "cs1"))]);
        let mut item = change(S1, "cs1", "m1");
        item["tenantId"] = json!(TENANT.to_uppercase());
        let (work, dropped) = authenticate(&parse(vec![item]).items, &subs);
        assert_eq!(dropped.total(), 0);
        assert_eq!(work.jobs().len(), 1);
    }

    #[test]
    fn genuine_items_become_one_catch_up_per_connection_and_one_job_per_lifecycle_event() {
        let (a, b) = (ConnectionId::new_random(), ConnectionId::new_random());
        let subs = HashMap::from([
            (A_INBOX.to_owned(), record(A_INBOX, &a, "ca1")),
            (A_SENT.to_owned(), record(A_SENT, &a, "ca2")),
            (B_INBOX.to_owned(), record(B_INBOX, &b, "cb1")),
        ]);
        let batch = parse(vec![
            change(A_INBOX, "ca1", "m1"),
            change(A_SENT, "ca2", "m2"),
            change(A_INBOX, "ca1", "m1"), // a duplicate within the batch
            lifecycle(A_INBOX, "ca1", "subscriptionRemoved"),
            lifecycle(A_INBOX, "ca1", "subscriptionRemoved"),
            lifecycle(B_INBOX, "cb1", "missed"),
        ]);

        let (work, dropped) = authenticate(&batch.items, &subs);
        let jobs: Vec<SyncJob> = work.jobs().into_iter().map(|(j, _)| j).collect();

        assert_eq!(dropped.total(), 0);
        let mut expected = vec![
            (
                a.clone(),
                vec![
                    SyncJob::Lifecycle {
                        connection_id: a.clone(),
                        subscription_id: A_INBOX.into(),
                        event: LifecycleEvent::SubscriptionRemoved,
                    },
                    SyncJob::CatchUp {
                        connection_id: a.clone(),
                    },
                ],
            ),
            (
                b.clone(),
                vec![SyncJob::Lifecycle {
                    connection_id: b.clone(),
                    subscription_id: B_INBOX.into(),
                    event: LifecycleEvent::Missed,
                }],
            ),
        ];
        expected.sort_by(|x, y| x.0.cmp(&y.0));
        let expected: Vec<SyncJob> = expected.into_iter().flat_map(|(_, j)| j).collect();
        assert_eq!(jobs, expected);
    }

    #[test]
    fn dedup_ids_repeat_for_a_retried_batch_and_differ_for_new_items() {
        let conn = ConnectionId::new_random();
        let subs = HashMap::from([(S1.to_owned(), record(S1, &conn, "cs1"))]);
        let ids = |items: Vec<Value>| -> Vec<String> {
            let (work, _) = authenticate(&parse(items).items, &subs);
            work.jobs().into_iter().map(|(_, id)| id).collect()
        };

        let first = ids(vec![change(S1, "cs1", "m1")]);
        let retry = ids(vec![change(S1, "cs1", "m1")]);
        let later = ids(vec![change(S1, "cs1", "m2")]);

        assert_eq!(first, retry);
        assert_ne!(first, later);
        assert!(first[0].len() <= 128);
    }
}
