//! The DynamoDB repository over the single-table layout in [`keys`].
//!
//! Anything that must happen once is a conditional write: creating a connection (and claiming its
//! mailbox), consuming an OAuth state, replacing a token set at a known version, starting an
//! idempotent operation. A lost condition is [`StoreError::Conflict`], never a silent overwrite.

pub mod keys;
pub mod messages;
pub mod sends;
pub mod subscriptions;

pub use subscriptions::{client_state_hash, SubscriptionRecord};

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::{AppUserId, Connection, ConnectionId, PageLimit, ParseError};

pub(crate) type Item = HashMap<String, AttributeValue>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: the item exists, changed, or is gone.
    #[error("conditional write lost: {0}")]
    Conflict(&'static str),
    #[error("DynamoDB {operation} failed")]
    Dynamo {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("item does not match the expected shape")]
    Corrupt(#[source] serde_dynamo::Error),
    #[error("item attribute {0} is malformed")]
    CorruptAttribute(&'static str),
}

pub(crate) fn dynamo<E: std::error::Error + Send + Sync + 'static>(
    operation: &'static str,
) -> impl FnOnce(E) -> StoreError {
    move |e| StoreError::Dynamo {
        operation,
        source: Box::new(e),
    }
}

pub(crate) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(StoreError::Corrupt)
}

pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(StoreError::Corrupt)
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// One page of a listing and the opaque cursor for the next, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The key attributes a listing cursor may carry.
const CURSOR_ATTRIBUTES: [&str; 6] = [
    keys::PK,
    keys::SK,
    keys::GSI1_PK,
    keys::GSI1_SK,
    keys::GSI2_PK,
    keys::GSI2_SK,
];

/// Encodes DynamoDB's `LastEvaluatedKey` as an opaque, URL-safe cursor.
fn encode_cursor(key: &Item) -> Option<String> {
    let mut map = serde_json::Map::new();
    for (name, value) in key {
        map.insert(
            name.clone(),
            serde_json::Value::String(value.as_s().ok()?.clone()),
        );
    }
    Some(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::Value::Object(map).to_string()),
    )
}

/// Decodes a cursor, checking it belongs to the listing of `index_pk_name` = `index_pk`, so a
/// forged or foreign cursor is a 400, not a DynamoDB validation error.
fn decode_cursor(raw: &str, index_pk_name: &str, index_pk: &str) -> Result<Item, ParseError> {
    let bad = || ParseError::new("cursor", "is not a cursor returned by this listing");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad())?;
    let map: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if map.get(index_pk_name).map(String::as_str) != Some(index_pk)
        || map.keys().any(|k| !CURSOR_ATTRIBUTES.contains(&k.as_str()))
        || map.values().any(|v| v.len() > 1024)
    {
        return Err(bad());
    }
    Ok(map.into_iter().map(|(k, v)| (k, s(v))).collect())
}

#[derive(Serialize, Deserialize)]
struct ConnectionItem {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    gsi2pk: String,
    gsi2sk: String,
    entity: String,
    #[serde(flatten)]
    connection: Connection,
}

impl ConnectionItem {
    fn new(c: &Connection) -> Self {
        let order = keys::connection_order(&c.created_at, &c.id);
        Self {
            pk: keys::connection_pk(&c.id),
            sk: keys::META.into(),
            gsi1pk: keys::ALL_CONNECTIONS.into(),
            gsi1sk: order.clone(),
            gsi2pk: keys::user_connections_pk(&c.user_id),
            gsi2sk: order,
            entity: "connection".into(),
            connection: c.clone(),
        }
    }
}

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

#[derive(Serialize, Deserialize)]
struct ExpiringItem<T> {
    pk: String,
    sk: String,
    entity: String,
    ttl: i64,
    payload: T,
}

/// The outcome of trying to start an idempotent operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyStart {
    /// No record existed; this caller owns the operation.
    Started,
    /// Another request with the same key is still running.
    InProgress,
    /// The operation finished before; here is its recorded response.
    Completed { response: serde_json::Value },
    /// The key was used before with a different request body.
    KeyReused,
}

#[derive(Serialize, Deserialize)]
struct IdempotencyItem {
    pk: String,
    sk: String,
    entity: String,
    ttl: i64,
    request_hash: String,
    state: String,
    #[serde(default)]
    response: Option<serde_json::Value>,
}

/// The repository. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) client: Client,
    pub(crate) table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates a connection and claims its mailbox (tenant + object id) in one transaction: a
    /// second connection for the same mailbox is a [`StoreError::Conflict`].
    pub async fn create_connection(&self, c: &Connection) -> Result<(), StoreError> {
        let put = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map(|p| TransactWriteItem::builder().put(p).build())
        };
        let claim: Item = HashMap::from([
            (
                keys::PK.to_owned(),
                s(keys::mailbox_claim_pk(&c.tenant_id, &c.ms_user_id)),
            ),
            (keys::SK.to_owned(), s(keys::META)),
            ("entity".to_owned(), s("mailbox_claim")),
            ("connection_id".to_owned(), s(c.id.as_str())),
        ]);
        let items = vec![
            put(to_item(&ConnectionItem::new(c))?).map_err(dynamo("TransactWriteItems"))?,
            put(claim).map_err(dynamo("TransactWriteItems"))?,
        ];
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(e) => match e.into_service_error() {
                aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(t)
                    if t.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed")) =>
                {
                    Err(StoreError::Conflict("connection or mailbox claim exists"))
                }
                other => Err(dynamo("TransactWriteItems")(other)),
            },
        }
    }

    /// Replaces a connection's record (status, scopes, ...). The connection must exist.
    pub async fn update_connection(&self, c: &Connection) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&ConnectionItem::new(c))?))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict("connection does not exist"))
            }
            Err(e) => Err(dynamo("PutItem")(e)),
        }
    }

    pub async fn get_connection(
        &self,
        id: &ConnectionId,
    ) -> Result<Option<Connection>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::META))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo("GetItem"))?;
        out.item
            .map(|i| from_item::<ConnectionItem>(i).map(|c| c.connection))
            .transpose()
    }

    /// The connection that owns a Microsoft mailbox, if any.
    pub async fn find_connection_by_mailbox(
        &self,
        tenant_id: &str,
        ms_user_id: &str,
    ) -> Result<Option<ConnectionId>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::mailbox_claim_pk(tenant_id, ms_user_id)))
            .key(keys::SK, s(keys::META))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo("GetItem"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let raw = item
            .get("connection_id")
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default();
        ConnectionId::parse(&raw)
            .map(Some)
            .map_err(|_| StoreError::CorruptAttribute("connection_id"))
    }

    /// Lists connections newest first, all of them or one app user's, a page at a time.
    pub async fn list_connections(
        &self,
        user: Option<&AppUserId>,
        limit: PageLimit,
        cursor: Option<&str>,
    ) -> Result<Result<Page<Connection>, ParseError>, StoreError> {
        let (index, pk_name, pk) = match user {
            Some(u) => (keys::GSI2, keys::GSI2_PK, keys::user_connections_pk(u)),
            None => (keys::GSI1, keys::GSI1_PK, keys::ALL_CONNECTIONS.to_owned()),
        };
        let start = match cursor.map(|c| decode_cursor(c, pk_name, &pk)).transpose() {
            Ok(start) => start,
            Err(e) => return Ok(Err(e)),
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(false)
            .limit(i32::from(limit.get()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(dynamo("Query"))?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|i| from_item::<ConnectionItem>(i).map(|c| c.connection))
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = out.last_evaluated_key.as_ref().and_then(encode_cursor);
        Ok(Ok(Page { items, next_cursor }))
    }

    /// Writes a connection's token set. `expected_version` is the version read before (None for
    /// the first write); if another writer got there first this is a [`StoreError::Conflict`].
    pub async fn put_tokens(
        &self,
        id: &ConnectionId,
        tokens: &StoredTokens,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let item = to_item(&TokensItem {
            pk: keys::connection_pk(id),
            sk: keys::TOKENS.into(),
            entity: "tokens".into(),
            tokens: tokens.clone(),
        })?;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        put = match expected_version {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(v) => put
                .condition_expression("version = :v")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict("token set changed since it was read"))
            }
            Err(e) => Err(dynamo("PutItem")(e)),
        }
    }

    pub async fn get_tokens(&self, id: &ConnectionId) -> Result<Option<StoredTokens>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::TOKENS))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo("GetItem"))?;
        out.item
            .map(|i| from_item::<TokensItem>(i).map(|t| t.tokens))
            .transpose()
    }

    /// Saves a pending OAuth state (keyed by the state's hash, never the state itself) until
    /// `expires_at`. A duplicate state is a conflict.
    pub async fn put_oauth_state<T: Serialize>(
        &self,
        state: &str,
        payload: &T,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let item = to_item(&ExpiringItem {
            pk: keys::oauth_state_pk(state),
            sk: keys::META.into(),
            entity: "oauth_state".into(),
            ttl: expires_at.timestamp(),
            payload,
        })?;
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict("OAuth state exists"))
            }
            Err(e) => Err(dynamo("PutItem")(e)),
        }
    }

    /// Consumes a pending OAuth state exactly once: a conditional delete that only succeeds while
    /// the state exists and has not expired. `None` means unknown, expired or already used.
    pub async fn take_oauth_state<T: DeserializeOwned>(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<T>, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::oauth_state_pk(state)))
            .key(keys::SK, s(keys::META))
            .condition_expression("attribute_exists(pk) AND #ttl > :now")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => match out.attributes {
                Some(item) => Ok(Some(from_item::<ExpiringItem<T>>(item)?.payload)),
                None => Ok(None),
            },
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(dynamo("DeleteItem")(e)),
        }
    }

    /// Starts an idempotent operation for (connection, key) unless one exists; the record expires
    /// at `expires_at`. `request_hash` fingerprints the request so a reused key is detected.
    pub async fn begin_idempotent(
        &self,
        id: &ConnectionId,
        key: &str,
        request_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<IdempotencyStart, StoreError> {
        let item = to_item(&IdempotencyItem {
            pk: keys::connection_pk(id),
            sk: keys::idempotency_sk(key),
            entity: "idempotency".into(),
            ttl: expires_at.timestamp(),
            request_hash: request_hash.to_owned(),
            state: "in_progress".into(),
            response: None,
        })?;
        // An expired record the TTL sweeper has not removed yet counts as absent.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #ttl <= :now")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        let existing = match result {
            Ok(_) => return Ok(IdempotencyStart::Started),
            Err(e) => match e.into_service_error() {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => c.item,
                other => return Err(dynamo("PutItem")(other)),
            },
        };
        let Some(existing) = existing else {
            return Ok(IdempotencyStart::InProgress);
        };
        let existing: IdempotencyItem = from_item(existing)?;
        Ok(if existing.request_hash != request_hash {
            IdempotencyStart::KeyReused
        } else if existing.state == "completed" {
            IdempotencyStart::Completed {
                response: existing.response.unwrap_or(serde_json::Value::Null),
            }
        } else {
            IdempotencyStart::InProgress
        })
    }

    /// Records the response of a finished idempotent operation.
    pub async fn complete_idempotent(
        &self,
        id: &ConnectionId,
        key: &str,
        response: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let response = serde_dynamo::to_attribute_value(response).map_err(StoreError::Corrupt)?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::idempotency_sk(key)))
            .update_expression("SET #state = :done, #response = :response")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#response", "response")
            .expression_attribute_values(":done", s("completed"))
            .expression_attribute_values(":response", response)
            .send()
            .await
            .map_err(dynamo("UpdateItem"))?;
        Ok(())
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
            .expression_attribute_values(
                ":until",
                AttributeValue::N(until.timestamp_millis().to_string()),
            )
            .expression_attribute_values(
                ":now",
                AttributeValue::N(now.timestamp_millis().to_string()),
            )
            .expression_attribute_values(":v", AttributeValue::N(version.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(dynamo("UpdateItem")(e)),
        }
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
            .expression_attribute_values(":v", AttributeValue::N(version.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(dynamo("UpdateItem")(e)),
        }
    }

    /// Moves an active connection to `reauth_required` with a reason. Returns true only for the
    /// caller whose write changed the status, so the event is published once.
    pub async fn mark_reauth_required(
        &self,
        id: &ConnectionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::META))
            .update_expression("SET #status = :reauth, last_error = :reason, updated_at = :now")
            .condition_expression("#status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":reauth", s("reauth_required"))
            .expression_attribute_values(":active", s("active"))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(
                ":now",
                s(now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(dynamo("UpdateItem")(e)),
        }
    }

    /// Records that a tenant's administrator granted consent for the whole organisation.
    pub async fn put_tenant_consent(
        &self,
        tenant_id: &str,
        scopes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let item: Item = HashMap::from([
            (keys::PK.to_owned(), s(keys::tenant_pk(tenant_id))),
            (keys::SK.to_owned(), s(keys::CONSENT)),
            ("entity".to_owned(), s("tenant_consent")),
            ("tenant_id".to_owned(), s(tenant_id)),
            (
                "scopes".to_owned(),
                AttributeValue::L(scopes.iter().map(|x| s(x.clone())).collect()),
            ),
            ("granted_at".to_owned(), s(now.to_rfc3339())),
        ]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(dynamo("PutItem"))?;
        Ok(())
    }

    /// When the tenant's admin consent was recorded, if it was.
    pub async fn tenant_consent(&self, tenant_id: &str) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::tenant_pk(tenant_id)))
            .key(keys::SK, s(keys::CONSENT))
            .send()
            .await
            .map_err(dynamo("GetItem"))?;
        Ok(out
            .item
            .and_then(|i| i.get("granted_at").and_then(|v| v.as_s().ok()).cloned()))
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
                .expression_attribute_values(":sub", s("SUB#"))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo("Query"))?;
            for item in out.items.unwrap_or_default() {
                if let Some(sk) = item.get(keys::GSI2_SK).and_then(|v| v.as_s().ok()) {
                    ids.push(sk.trim_start_matches("SUB#").to_owned());
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(ids);
            }
        }
    }

    /// Deletes everything stored for a connection: its items (record, tokens, cursors, messages,
    /// idempotency records), its counterpart index entries, its subscriptions' records and its
    /// mailbox claim. Safe to repeat.
    pub async fn delete_connection_data(&self, c: &Connection) -> Result<usize, StoreError> {
        let mut doomed: Vec<(String, String)> = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(keys::connection_pk(&c.id)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo("Query"))?;
            for item in out.items.unwrap_or_default() {
                let key = |n: &str| {
                    item.get(n)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default()
                };
                // Messages name their counterpart index entries; remove those too.
                if let Some(AttributeValue::L(addresses)) = item.get("counterparts") {
                    let order = key("received_order");
                    for address in addresses.iter().filter_map(|a| a.as_s().ok()) {
                        doomed.push((keys::counterpart_pk(&c.id, address), order.clone()));
                    }
                }
                doomed.push((key(keys::PK), key(keys::SK)));
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        for sub in self.connection_subscription_ids(&c.id).await? {
            doomed.push((keys::subscription_pk(&sub), keys::META.to_owned()));
        }
        doomed.push((
            keys::mailbox_claim_pk(&c.tenant_id, &c.ms_user_id),
            keys::META.to_owned(),
        ));
        // The connection record goes last, so an interrupted delete can be repeated from it.
        let meta = (keys::connection_pk(&c.id), keys::META.to_owned());
        doomed.retain(|k| *k != meta);
        doomed.push(meta);
        let count = doomed.len();
        for chunk in doomed.chunks(25) {
            self.batch_delete(chunk).await?;
        }
        Ok(count)
    }

    async fn batch_delete(&self, keys_: &[(String, String)]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        let mut requests = keys_
            .iter()
            .map(|(pk, sk)| {
                DeleteRequest::builder()
                    .key(keys::PK, s(pk.clone()))
                    .key(keys::SK, s(sk.clone()))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(dynamo("BatchWriteItem"))?;
        // DynamoDB may hand back unprocessed items under load; retry them with backoff.
        for attempt in 0..8u32 {
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(dynamo("BatchWriteItem"))?;
            requests = out
                .unprocessed_items
                .and_then(|mut m| m.remove(&self.table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
        }
        Err(StoreError::Conflict(
            "BatchWriteItem left unprocessed items after retries",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_foreign_partitions() {
        let key: Item = HashMap::from([
            ("pk".to_owned(), s("CONN#1")),
            ("sk".to_owned(), s("META")),
            ("gsi2pk".to_owned(), s("USER#u1")),
            ("gsi2sk".to_owned(), s("2026#1")),
        ]);
        let cursor = encode_cursor(&key).unwrap();
        assert_eq!(decode_cursor(&cursor, "gsi2pk", "USER#u1").unwrap(), key);
        assert_eq!(
            decode_cursor(&cursor, "gsi2pk", "USER#u2")
                .unwrap_err()
                .field,
            "cursor"
        );
        for bad in ["", "!!!", "e30", "bm90IGpzb24"] {
            assert!(decode_cursor(bad, "gsi2pk", "USER#u1").is_err(), "{bad}");
        }
    }
}
