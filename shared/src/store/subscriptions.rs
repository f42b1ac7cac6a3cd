//! Graph subscription records: looked up by subscription id on every webhook (one BatchGetItem
//! per notification batch), listed per connection, and found by expiry for renewal (the sharded
//! gsi1 index, never a scan).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{dynamo, from_item, keys, s, to_item, Item, Store, StoreError};
use crate::domain::ConnectionId;

/// What the connector keeps about one Graph subscription. The `clientState` itself is never
/// stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRecord {
    pub id: String,
    pub connection_id: ConnectionId,
    /// The Entra tenant (GUID) of the connection's mailbox. A webhook item naming another tenant
    /// is dropped. Records written before this field existed read as empty, which matches no
    /// tenant: fail closed (recreate or renew such subscriptions).
    #[serde(default)]
    pub tenant_id: String,
    /// The mail folder the subscription watches (`inbox`, `sentitems`).
    pub folder: String,
    /// The Graph `resource` path it was created for.
    pub resource: String,
    /// Hex SHA-256 of the subscription's `clientState`.
    pub client_state_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// Hex SHA-256 of a `clientState`, as stored.
pub fn client_state_hash(client_state: &str) -> String {
    hex::encode(Sha256::digest(client_state.as_bytes()))
}

impl SubscriptionRecord {
    /// Whether a notification's `clientState` is this subscription's, compared in constant time.
    pub fn client_state_matches(&self, presented: &str) -> bool {
        let presented = Sha256::digest(presented.as_bytes());
        let Ok(expected) = hex::decode(&self.client_state_hash) else {
            return false;
        };
        bool::from(expected.as_slice().ct_eq(&presented[..]))
    }

    /// Whether a notification's `tenantId` is this subscription's tenant (GUIDs compare without
    /// regard to case). An unknown tenant on either side never matches.
    pub fn tenant_matches(&self, presented: &str) -> bool {
        !self.tenant_id.is_empty() && self.tenant_id.eq_ignore_ascii_case(presented)
    }
}

#[derive(Serialize, Deserialize)]
struct SubscriptionItem {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    gsi2pk: String,
    gsi2sk: String,
    entity: String,
    #[serde(flatten)]
    record: SubscriptionRecord,
}

impl SubscriptionItem {
    fn new(r: &SubscriptionRecord) -> Self {
        Self {
            pk: keys::subscription_pk(&r.id),
            sk: keys::META.into(),
            gsi1pk: keys::subscription_expiry_shard(&r.id),
            gsi1sk: format!(
                "{}#{}",
                r.expires_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                r.id
            ),
            gsi2pk: keys::connection_pk(&r.connection_id),
            gsi2sk: keys::subscription_of_connection_sk(&r.id),
            entity: "subscription".into(),
            record: r.clone(),
        }
    }
}

/// BatchGetItem takes at most 100 keys per call.
const BATCH_GET_MAX: usize = 100;

impl Store {
    /// Creates or replaces a subscription record (also after a renewal moved its expiry).
    pub async fn put_subscription(&self, r: &SubscriptionRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&SubscriptionItem::new(r))?))
            .send()
            .await
            .map_err(dynamo("PutItem"))?;
        Ok(())
    }

    pub async fn delete_subscription(&self, id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::subscription_pk(id)))
            .key(keys::SK, s(keys::META))
            .send()
            .await
            .map_err(dynamo("DeleteItem"))?;
        Ok(())
    }

    /// The records of the given subscription ids (unknown ids are simply absent), with one
    /// BatchGetItem per 100 distinct ids; unprocessed keys are retried.
    pub async fn get_subscriptions(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, SubscriptionRecord>, StoreError> {
        let mut distinct: Vec<&str> = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let mut found = HashMap::new();
        for chunk in distinct.chunks(BATCH_GET_MAX) {
            let mut request_keys: Vec<Item> = chunk
                .iter()
                .map(|id| {
                    HashMap::from([
                        (keys::PK.to_owned(), s(keys::subscription_pk(id))),
                        (keys::SK.to_owned(), s(keys::META)),
                    ])
                })
                .collect();
            for attempt in 0..8u32 {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(request_keys))
                    .build()
                    .map_err(dynamo("BatchGetItem"))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(dynamo("BatchGetItem"))?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    let record = from_item::<SubscriptionItem>(item)?.record;
                    found.insert(record.id.clone(), record);
                }
                request_keys = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if request_keys.is_empty() {
                    break;
                }
                if attempt == 7 {
                    return Err(StoreError::Conflict(
                        "BatchGetItem left unprocessed keys after retries",
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
        }
        Ok(found)
    }

    /// Subscriptions of one connection.
    pub async fn connection_subscriptions(
        &self,
        id: &ConnectionId,
    ) -> Result<Vec<SubscriptionRecord>, StoreError> {
        let ids = self.connection_subscription_ids(id).await?;
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        Ok(self.get_subscriptions(&refs).await?.into_values().collect())
    }

    /// Subscriptions expiring before `deadline`, across every expiry shard of gsi1.
    pub async fn subscriptions_expiring_before(
        &self,
        deadline: DateTime<Utc>,
    ) -> Result<Vec<SubscriptionRecord>, StoreError> {
        let upper = format!(
            "{}#",
            deadline.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let mut out = Vec::new();
        for shard in 0..keys::SUBSCRIPTION_EXPIRY_SHARDS {
            let mut start = None;
            loop {
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::GSI1)
                    .key_condition_expression("gsi1pk = :shard AND gsi1sk < :upper")
                    .expression_attribute_values(":shard", s(format!("SUBEXP#{shard}")))
                    .expression_attribute_values(":upper", AttributeValue::S(upper.clone()))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(dynamo("Query"))?;
                for item in page.items.unwrap_or_default() {
                    out.push(from_item::<SubscriptionItem>(item)?.record);
                }
                start = page.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_state_is_checked_against_its_hash() {
        let r = SubscriptionRecord {
            id: "s1".into(),
            connection_id: ConnectionId::new_random(),
            tenant_id: "84bd8158-6d4d-4958-8b9f-9d6445542f95".into(),
            folder: "inbox".into(),
            resource: "me/mailFolders('inbox')/messages".into(),
            client_state_hash: client_state_hash("secret-state"),
            expires_at: Utc::now(),
        };
        assert!(r.client_state_matches("secret-state"));
        assert!(!r.client_state_matches("secret-stat"));
        assert!(!r.client_state_matches(""));
        assert!(!r.client_state_hash.contains("secret"));
    }
}
