//! Change notifications: subscriptions, the validation handshake, batching per notification
//! URL, delivery with timeouts and retries, lifecycle notifications, and notification faults.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::faults::FaultKind;
use crate::mailbox::ts;
use crate::SimRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceKind {
    Messages,
    Events,
}

#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub resource: String,
    pub kind: ResourceKind,
    /// For message subscriptions on one folder.
    pub folder_id: Option<String>,
    pub change_types: Vec<String>,
    pub notification_url: String,
    pub lifecycle_url: Option<String>,
    pub client_state: Option<String>,
    pub expiration: DateTime<Utc>,
    pub application_id: String,
    pub immutable_ids: bool,
    pub latest_tls: String,
    pub include_resource_data: bool,
    /// Set by a `reauthorizationRequired` event; change notifications pause until cleared.
    pub needs_reauth: bool,
}

impl Subscription {
    pub fn to_json(&self, base: &str) -> Value {
        json!({
            "@odata.context": format!("{base}/v1.0/$metadata#subscriptions/$entity"),
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.application_id,
            "changeType": self.change_types.join(","),
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "notificationQueryOptions": null,
            "lifecycleNotificationUrl": self.lifecycle_url,
            "expirationDateTime": expiry(self.expiration),
            "creatorId": self.user_id,
            "includeResourceData": self.include_resource_data,
            "latestSupportedTlsVersion": self.latest_tls,
            "encryptionCertificate": null,
            "encryptionCertificateId": null,
            "notificationUrlAppId": null,
            "notificationContentType": "application/json",
        })
    }
}

pub fn expiry(t: DateTime<Utc>) -> String {
    // Graph prints seven fractional digits; chrono has six, so pad one.
    t.format("%Y-%m-%dT%H:%M:%S%.6f0Z").to_string()
}

/// One change to a mailbox item, queued while the state lock is held.
#[derive(Debug, Clone)]
pub struct Change {
    pub user_id: String,
    pub kind: ResourceKind,
    pub change_type: &'static str,
    pub id: String,
    pub immutable_id: String,
    pub folder_id: Option<String>,
    pub etag: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryLogEntry {
    pub time: String,
    /// `validation`, `change` or `lifecycle`.
    pub kind: &'static str,
    pub url: String,
    pub attempt: u32,
    /// `delivered`, `failed`, `dropped`, `duplicate`, `timeout`, `simulatedFailure`, `abandoned`.
    pub outcome: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub payload: Value,
}

/// Tunables of notification delivery (`PUT /_sim/settings`).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NotifySettings {
    /// Items for one URL arriving within this window go out in one POST.
    pub batch_window_ms: u64,
    /// Graph waits this long for a 2xx (3 s in the current docs).
    pub timeout_ms: u64,
    /// Delay before retrying a failed POST (Graph: minutes; shortened for tests).
    pub retry_delay_ms: u64,
    /// Retries after the first attempt before giving up and sending `missed`.
    pub max_retries: u32,
    /// The validation handshake timeout (10 s).
    pub validation_timeout_ms: u64,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            batch_window_ms: 50,
            timeout_ms: 3000,
            retry_delay_ms: 1000,
            max_retries: 3,
            validation_timeout_ms: 10_000,
        }
    }
}

fn log(sim: &SimRef, entry: DeliveryLogEntry) {
    sim.st().deliveries.push(entry);
}

/// The validation handshake: POST `url?validationToken=...` and expect 200 text/plain echoing
/// the decoded token.
pub async fn validate(sim: &SimRef, url: &str) -> Result<(), String> {
    let token = format!(
        "Validation: Testing client application reachability for subscription Request-Id: {}",
        uuid::Uuid::new_v4()
    );
    let mut target = url::Url::parse(url).map_err(|e| e.to_string())?;
    target
        .query_pairs_mut()
        .append_pair("validationToken", &token);
    let timeout = sim.st().notify_settings.validation_timeout_ms;
    let started = std::time::Instant::now();
    let result = sim
        .http
        .post(target)
        .header("content-type", "text/plain; charset=utf-8")
        .timeout(Duration::from_millis(timeout))
        .send()
        .await;
    let (outcome, status) = match result {
        Err(e) if e.is_timeout() => (Err("timeout".to_string()), None),
        Err(e) => (Err(format!("unreachable: {e}")), None),
        Ok(resp) => {
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let body = resp.text().await.unwrap_or_default();
            let ok = status == 200 && ct.starts_with("text/plain") && body == token;
            let why = if status != 200 {
                format!("status {status}")
            } else if !ct.starts_with("text/plain") {
                format!("content type '{ct}'")
            } else if body != token {
                "body is not the decoded validation token".to_string()
            } else {
                String::new()
            };
            (if ok { Ok(()) } else { Err(why) }, Some(status))
        }
    };
    log(
        sim,
        DeliveryLogEntry {
            time: ts(sim.now()),
            kind: "validation",
            url: url.to_string(),
            attempt: 1,
            outcome: match &outcome {
                Ok(()) => "delivered".into(),
                Err(e) => e.clone(),
            },
            status,
            duration_ms: started.elapsed().as_millis() as u64,
            payload: json!({"validationToken": token}),
        },
    );
    outcome
}

/// Turn queued changes into notification items and schedule their batched delivery.
/// Call after releasing the state lock.
pub fn dispatch(sim: &SimRef) {
    let mut new_urls = Vec::new();
    {
        let mut st = sim.st();
        let changes = std::mem::take(&mut st.outbox);
        if changes.is_empty() {
            return;
        }
        let now = sim.now();
        let mut items: Vec<(String, Value)> = Vec::new();
        for c in &changes {
            for s in st.subscriptions.iter() {
                if s.user_id != c.user_id
                    || s.kind != c.kind
                    || s.expiration <= now
                    || s.needs_reauth
                    || !s.change_types.iter().any(|t| t == c.change_type)
                {
                    continue;
                }
                if let (Some(want), Some(have)) = (&s.folder_id, &c.folder_id) {
                    if want != have {
                        continue;
                    }
                }
                items.push((s.notification_url.clone(), change_item(s, c)));
            }
        }
        for (url, item) in items {
            let queue = st.pending_notifications.entry(url.clone()).or_default();
            if queue.is_empty() {
                new_urls.push(url);
            }
            queue.push(item);
        }
    }
    for url in new_urls {
        let sim = sim.clone();
        tokio::spawn(async move {
            let window = sim.st().notify_settings.batch_window_ms;
            tokio::time::sleep(Duration::from_millis(window)).await;
            let items = sim
                .st()
                .pending_notifications
                .remove(&url)
                .unwrap_or_default();
            if !items.is_empty() {
                deliver(sim, url, "change", items).await;
            }
        });
    }
}

fn change_item(s: &Subscription, c: &Change) -> Value {
    let id = if s.immutable_ids {
        &c.immutable_id
    } else {
        &c.id
    };
    let (odata_type, coll) = match c.kind {
        ResourceKind::Messages => ("#Microsoft.Graph.Message", "Messages"),
        ResourceKind::Events => ("#Microsoft.Graph.Event", "Events"),
    };
    let mut resource_data = json!({
        "@odata.type": odata_type,
        "@odata.id": format!("Users/{}/{coll}/{id}", s.user_id),
        "id": id,
    });
    if let Some(etag) = &c.etag {
        resource_data["@odata.etag"] = json!(etag);
    }
    json!({
        "id": crate::state::random_token(12),
        "subscriptionId": s.id,
        "subscriptionExpirationDateTime": expiry(s.expiration),
        "changeType": c.change_type,
        "clientState": s.client_state,
        "resource": format!("Users/{}/{coll}/{id}", s.user_id),
        "tenantId": s.tenant_id,
        "resourceData": resource_data,
    })
}

/// A lifecycle notification for one subscription, sent to its lifecycle URL (if any).
pub fn lifecycle(sim: &SimRef, sub: &Subscription, event: &str) -> bool {
    let Some(url) = sub.lifecycle_url.clone() else {
        return false;
    };
    let item = json!({
        "subscriptionId": sub.id,
        "subscriptionExpirationDateTime": expiry(sub.expiration),
        "tenantId": sub.tenant_id,
        "clientState": sub.client_state,
        "lifecycleEvent": event,
    });
    let sim = sim.clone();
    tokio::spawn(async move { deliver(sim, url, "lifecycle", vec![item]).await });
    true
}

/// POST `{"value": items}` to `url` honouring notification faults; retry failures; after the
/// last retry send `missed` to the lifecycle URL of each affected subscription.
pub fn deliver(
    sim: SimRef,
    url: String,
    kind: &'static str,
    items: Vec<Value>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move {
        let (mut drop_it, mut duplicate, mut reorder, mut delay_ms, mut fail) =
            (false, false, false, 0u64, false);
        {
            let now = sim.now();
            let mut st = sim.st();
            for f in st.faults.iter_mut() {
                if !f.matches_notification(&url) || !f.fire(now) {
                    continue;
                }
                match f.spec.kind {
                    FaultKind::DropNotifications => drop_it = true,
                    FaultKind::DuplicateNotifications => duplicate = true,
                    FaultKind::ReorderNotifications => reorder = true,
                    FaultKind::SlowNotifications => delay_ms += f.spec.ms.unwrap_or(5000),
                    FaultKind::FailNotifications => fail = true,
                    _ => {}
                }
            }
        }
        if drop_it {
            log(
                &sim,
                DeliveryLogEntry {
                    time: ts(sim.now()),
                    kind,
                    url: url.clone(),
                    attempt: 0,
                    outcome: "dropped".into(),
                    status: None,
                    duration_ms: 0,
                    payload: json!({ "value": items }),
                },
            );
            return;
        }
        if delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        }
        let batches: Vec<Vec<Value>> = if reorder && items.len() > 1 {
            items.iter().rev().map(|i| vec![i.clone()]).collect()
        } else {
            vec![items]
        };
        for batch in batches {
            let ok = post_with_retries(&sim, &url, kind, &batch, fail).await;
            if ok && duplicate {
                post_once(&sim, &url, kind, &batch, 1, "duplicate").await;
            }
            if !ok && kind == "change" {
                send_missed(&sim, &batch);
            }
        }
    })
}

async fn post_with_retries(
    sim: &SimRef,
    url: &str,
    kind: &'static str,
    batch: &[Value],
    simulated_failure: bool,
) -> bool {
    let (retries, delay) = {
        let st = sim.st();
        (
            st.notify_settings.max_retries,
            st.notify_settings.retry_delay_ms,
        )
    };
    for attempt in 1..=retries + 1 {
        if attempt > 1 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let ok = if simulated_failure {
            log(
                sim,
                DeliveryLogEntry {
                    time: ts(sim.now()),
                    kind,
                    url: url.to_string(),
                    attempt,
                    outcome: "simulatedFailure".into(),
                    status: None,
                    duration_ms: 0,
                    payload: json!({ "value": batch }),
                },
            );
            false
        } else {
            post_once(sim, url, kind, batch, attempt, "delivered").await
        };
        if ok {
            return true;
        }
    }
    log(
        sim,
        DeliveryLogEntry {
            time: ts(sim.now()),
            kind,
            url: url.to_string(),
            attempt: retries + 1,
            outcome: "abandoned".into(),
            status: None,
            duration_ms: 0,
            payload: json!({ "value": batch }),
        },
    );
    false
}

async fn post_once(
    sim: &SimRef,
    url: &str,
    kind: &'static str,
    batch: &[Value],
    attempt: u32,
    ok_outcome: &str,
) -> bool {
    let timeout = sim.st().notify_settings.timeout_ms;
    let payload = json!({ "value": batch });
    let started = std::time::Instant::now();
    let result = sim
        .http
        .post(url)
        .json(&payload)
        .timeout(Duration::from_millis(timeout))
        .send()
        .await;
    let (ok, outcome, status) = match result {
        Ok(r) if r.status().is_success() => {
            (true, ok_outcome.to_string(), Some(r.status().as_u16()))
        }
        Ok(r) => (false, "failed".to_string(), Some(r.status().as_u16())),
        Err(e) if e.is_timeout() => (false, "timeout".to_string(), None),
        Err(_) => (false, "failed".to_string(), None),
    };
    log(
        sim,
        DeliveryLogEntry {
            time: ts(sim.now()),
            kind,
            url: url.to_string(),
            attempt,
            outcome,
            status,
            duration_ms: started.elapsed().as_millis() as u64,
            payload,
        },
    );
    ok
}

fn send_missed(sim: &SimRef, batch: &[Value]) {
    let ids: BTreeMap<String, ()> = batch
        .iter()
        .filter_map(|i| i.get("subscriptionId").and_then(Value::as_str))
        .map(|s| (s.to_string(), ()))
        .collect();
    let subs: Vec<Subscription> = {
        let st = sim.st();
        st.subscriptions
            .iter()
            .filter(|s| ids.contains_key(&s.id))
            .cloned()
            .collect()
    };
    for s in subs {
        lifecycle(sim, &s, "missed");
    }
}
