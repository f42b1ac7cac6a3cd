//! A connection's encrypted token set (`CONN#{id}` / `TOKENS`): replaced only at the version it
//! was read at, and refreshed by one caller at a time under a lease.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::conditions::conditional;
use super::{from_item, keys, n, s, to_item, Item, Store, StoreError};
use crate::domain::ConnectionId;

/// The encrypted token set of a connection and the version that guards its replacement.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredTokens {
    /// Ciphertext from [`crate::crypto::Keyring::encrypt`], bound to the connection id.
    #[serde(with = "serde_bytes_b64")]
    pub ciphertext: Vec<u8>,
    pub version: u64,
    /// When the access token inside expires (kept in clear so no decryption is needed to decide).
    pub access_expires_at: DateTime<Utc>,
    /// While set and in the future (epoch ms), one caller holds the right to refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
}

/// Binary attributes stored as DynamoDB `B` would need a custom mapping; a base64 string keeps the
/// item readable in the console and portable across SDKs.
mod serde_bytes_b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let raw = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Serialize, Deserialize)]
struct TokensItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    tokens: StoredTokens,
}

/// The item of a connection's token set (also written inside transactions, see `claims`).
pub(super) fn tokens_item(id: &ConnectionId, tokens: &StoredTokens) -> Result<Item, StoreError> {
    to_item(&TokensItem {
        pk: keys::connection_pk(id),
        sk: keys::TOKENS.into(),
        entity: "tokens".into(),
        tokens: tokens.clone(),
    })
}

/// The condition that guards replacing a token set read at `expected_version` (none: the first).
pub(super) fn tokens_condition(expected_version: Option<u64>) -> (&'static str, Option<u64>) {
    match expected_version {
        None => ("attribute_not_exists(pk)", None),
        Some(v) => ("version = :v", Some(v)),
    }
}

impl Store {
    /// Writes a connection's token set. `expected_version` is the version read before (None for
    /// the first write); if another writer got there first this is a [`StoreError::Conflict`].
    pub async fn put_tokens(
        &self,
        id: &ConnectionId,
        tokens: &StoredTokens,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let (condition, version) = tokens_condition(expected_version);
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(tokens_item(id, tokens)?))
            .condition_expression(condition);
        if let Some(v) = version {
            put = put.expression_attribute_values(":v", n(v));
        }
        conditional("PutItem", put.send().await)?
            .map(drop)
            .map_err(|_| StoreError::Conflict("token set changed since it was read"))
    }

    pub async fn get_tokens(&self, id: &ConnectionId) -> Result<Option<StoredTokens>, StoreError> {
        let item = self
            .get_item(keys::connection_pk(id), keys::TOKENS, true)
            .await?;
        item.map(|i| from_item::<TokensItem>(i).map(|t| t.tokens))
            .transpose()
    }

    /// Takes the refresh lease on a token set at `version` if nobody holds a live one.
    pub async fn acquire_token_lease(
        &self,
        id: &ConnectionId,
        version: u64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::TOKENS))
            .update_expression("SET lease_until = :until")
            .condition_expression(
                "version = :v AND (attribute_not_exists(lease_until) OR lease_until <= :now)",
            )
            .expression_attribute_values(":until", n(until.timestamp_millis()))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .expression_attribute_values(":v", n(version))
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_ok())
    }

    /// Gives up a refresh lease without writing new tokens (the refresh failed transiently).
    pub async fn release_token_lease(
        &self,
        id: &ConnectionId,
        version: u64,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::TOKENS))
            .update_expression("REMOVE lease_until")
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(version))
            .send()
            .await;
        // A version that moved on means the lease went with it: nothing left to release.
        let _lost = conditional("UpdateItem", result)?;
        Ok(())
    }
}
