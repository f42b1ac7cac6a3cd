//! The DynamoDB repository over the single-table layout in [`keys`].
//!
//! Anything that must happen once is a conditional write: creating a connection (and claiming its
//! mailbox), consuming an OAuth state, replacing a token set at a known version, starting an
//! idempotent operation. A lost condition is [`StoreError::Conflict`], never a silent overwrite.
//!
//! One module per entity ([`connections`], [`tokens`], [`oauth`], [`tenants`], [`subscriptions`],
//! [`messages`], [`idempotency`], [`sends`], [`uploads`], [`links`]), each adding its methods to [`Store`];
//! shared plumbing in [`conditions`] (telling a lost condition apart), [`batch`] (BatchGetItem /
//! BatchWriteItem with their retries) and [`page`] (listing cursors).

pub mod batch;
pub mod calendar;
pub mod claims;
pub(crate) mod conditions;
pub mod connections;
pub mod idempotency;
pub mod keys;
pub mod links;
pub mod messages;
pub mod oauth;
pub mod outbox;
pub mod page;
pub mod sends;
pub mod subscriptions;
pub mod tenants;
pub mod tokens;
pub mod uploads;

pub use idempotency::IdempotencyStart;
pub use oauth::{ConsentStatus, TenantConsent};
pub use page::Page;
pub use subscriptions::{client_state_hash, SubscriptionRecord};
pub use tenants::TenantPolicyRecord;
pub use tokens::StoredTokens;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;

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
    /// DynamoDB refused the request's content (`ValidationException`: an item over the size
    /// limit, a key too long, ...): sending it again fails the same way.
    #[error("DynamoDB {operation} refused the request as invalid")]
    Invalid {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An item larger than DynamoDB accepts, caught before it was sent.
    #[error("an item of {size} bytes is over DynamoDB's item size limit")]
    ItemTooLarge { size: usize },
}

impl StoreError {
    /// The request's content was refused ([`Self::Invalid`], [`Self::ItemTooLarge`]) or could not
    /// be encoded: the same request never succeeds, whoever sends it and whenever.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::Invalid { .. } | Self::ItemTooLarge { .. } | Self::Corrupt(_)
        )
    }
}

/// The largest item DynamoDB stores: 400 KB, where DynamoDB's KB is 1,024 bytes
/// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// An item's size as DynamoDB counts it: the UTF-8 bytes of every attribute name and string, a
/// number at about one byte per two digits plus one, one byte for a boolean or null, three for a
/// list or map plus one per element
/// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
pub(crate) fn item_size(item: &Item) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.len().div_ceil(2) + 1,
            AttributeValue::B(b) => b.as_ref().len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(l) => 3 + l.iter().map(|e| value(e) + 1).sum::<usize>(),
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, e)| k.len() + value(e) + 1).sum::<usize>()
            }
            AttributeValue::Ss(l) | AttributeValue::Ns(l) => l.iter().map(String::len).sum(),
            AttributeValue::Bs(l) => l.iter().map(|b| b.as_ref().len()).sum(),
            // A type added to the SDK later: count it as large as its debug form.
            other => format!("{other:?}").len(),
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
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

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
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

    /// Writes an item that must not exist yet (PutItem `attribute_not_exists(pk)`): an existing
    /// one is a [`StoreError::Conflict`] saying `what` exists.
    pub(crate) async fn put_new(&self, item: Item, what: &'static str) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        conditions::conditional("PutItem", result)?
            .map(drop)
            .map_err(|_| StoreError::Conflict(what))
    }

    /// One item by its key (GetItem). `consistent` where a write just before must be seen
    /// (connections, tokens, cursors); eventually consistent reads cost half.
    pub(crate) async fn get_item(
        &self,
        pk: String,
        sk: impl Into<String>,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(dynamo("GetItem"))?;
        Ok(out.item)
    }
}
