//! Graph subscription records: looked up by subscription id on every webhook (one BatchGetItem
//! per 100 distinct ids of a notification batch, in parallel), listed per connection, and found
//! by expiry for renewal (the sharded gsi1 index, never a scan).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::conditions::conditional;
use super::{dynamo, from_item, keys, s, to_item, Item, Store, StoreError};
use crate::domain::ConnectionId;

/// BatchGetItem calls of one subscription lookup in flight at once. The webhook looks up at most
/// 1,000 ids per POST (`webhook::MAX_SUBSCRIPTIONS`): 10 calls, in 3 round trips, never a burst of
/// more than 400 keys at the table from one request.
pub const LOOKUP_CONCURRENCY: usize = 4;

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
            gsi1sk: keys::subscription_expiry_order(&r.expires_at, &r.id),
            gsi2pk: keys::connection_pk(&r.connection_id),
            gsi2sk: keys::subscription_of_connection_sk(&r.id),
            entity: "subscription".into(),
            record: r.clone(),
        }
    }
}

/// A subscription's item, as stored (for benchmarks that fill a table directly through
/// [`Store::write_batch`]).
pub fn subscription_item(r: &SubscriptionRecord) -> Result<Item, StoreError> {
    to_item(&SubscriptionItem::new(r))
}

impl Store {
    /// Creates or replaces a subscription record (also after a renewal moved its expiry).
    pub async fn put_subscription(&self, r: &SubscriptionRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(subscription_item(r)?))
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

    /// Deletes a subscription's record if it names `connection` (an orphan whose connection is
    /// gone); true when it did.
    pub async fn delete_subscription_of(
        &self,
        id: &str,
        connection: &ConnectionId,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::subscription_pk(id)))
            .key(keys::SK, s(keys::META))
            .condition_expression("connection_id = :connection")
            .expression_attribute_values(":connection", s(connection.as_str()))
            .send()
            .await;
        Ok(conditional("DeleteItem", result)?.is_ok())
    }

    /// The records of the given subscription ids (unknown ids are simply absent), with one
    /// BatchGetItem per 100 distinct ids, [`LOOKUP_CONCURRENCY`] at a time
    /// ([`Store::batch_get_concurrent`]).
    pub async fn get_subscriptions(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, SubscriptionRecord>, StoreError> {
        let mut distinct: Vec<&str> = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let request_keys: Vec<Item> = distinct
            .iter()
            .map(|id| {
                HashMap::from([
                    (keys::PK.to_owned(), s(keys::subscription_pk(id))),
                    (keys::SK.to_owned(), s(keys::META)),
                ])
            })
            .collect();
        let mut found = HashMap::new();
        for item in self
            .batch_get_concurrent(request_keys, LOOKUP_CONCURRENCY)
            .await?
        {
            let record = from_item::<SubscriptionItem>(item)?.record;
            found.insert(record.id.clone(), record);
        }
        Ok(found)
    }

    /// Ids of the Graph subscriptions a connection owns.
    pub async fn connection_subscription_ids(
        &self,
        id: &ConnectionId,
    ) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI2)
                .key_condition_expression("gsi2pk = :pk AND begins_with(gsi2sk, :sub)")
                .expression_attribute_values(":pk", s(keys::connection_pk(id)))
                .expression_attribute_values(":sub", s(keys::SUBSCRIPTION_OF_CONNECTION_PREFIX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo("Query"))?;
            for item in out.items.unwrap_or_default() {
                if let Some(sk) = item.get(keys::GSI2_SK).and_then(|v| v.as_s().ok()) {
                    ids.push(keys::subscription_id_of_connection_sk(sk).to_owned());
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(ids);
            }
        }
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

    /// The subscriptions of expiry shard `shard` (`0..SUBSCRIPTION_EXPIRY_SHARDS`) that expire
    /// before `deadline`, soonest first, a page (up to 1 MB read) at a time.
    pub fn subscriptions_expiring_in_shard(
        &self,
        shard: u8,
        deadline: DateTime<Utc>,
    ) -> impl Stream<Item = Result<Vec<SubscriptionRecord>, StoreError>> + '_ {
        let upper = keys::subscription_expiry_upper_bound(&deadline);
        // State: `Some(start key)` while there are pages left.
        stream::try_unfold(Some(None), move |state: Option<Option<Item>>| {
            let upper = upper.clone();
            async move {
                let Some(start) = state else {
                    return Ok(None);
                };
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::GSI1)
                    .key_condition_expression("gsi1pk = :shard AND gsi1sk < :upper")
                    .expression_attribute_values(
                        ":shard",
                        s(keys::subscription_expiry_shard_pk(shard)),
                    )
                    .expression_attribute_values(":upper", s(upper))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(dynamo("Query"))?;
                let records = page
                    .items
                    .unwrap_or_default()
                    .into_iter()
                    .map(|item| from_item::<SubscriptionItem>(item).map(|i| i.record))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some((records, page.last_evaluated_key.map(Some))))
            }
        })
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
