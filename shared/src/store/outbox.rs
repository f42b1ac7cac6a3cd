//! The outbox (`OUTBOX` / `{created}#{id}`): events and sync jobs written in the same transaction
//! as the change they announce, deleted once delivered (see `crate::outbox`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{dynamo, from_item, keys, s, to_item, Item, Store, StoreError};
use crate::outbox::OutboxEntry;

#[derive(Serialize, Deserialize)]
struct OutboxItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    entry: OutboxEntry,
}

/// An outbox entry's item, for the transaction that makes the change it announces.
pub(crate) fn outbox_item(entry: &OutboxEntry) -> Result<Item, StoreError> {
    to_item(&OutboxItem {
        pk: keys::OUTBOX.into(),
        sk: keys::outbox_sk(&entry.created_at, &entry.id),
        entity: "outbox".into(),
        entry: entry.clone(),
    })
}

impl Store {
    /// Writes one entry on its own, for a change that follows it (the change is then made only
    /// once its announcement cannot be lost; an entry whose change did not happen is harmless).
    pub async fn put_outbox_entry(&self, entry: &OutboxEntry) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(outbox_item(entry)?))
            .send()
            .await
            .map_err(dynamo("PutItem"))?;
        Ok(())
    }

    /// Up to `limit` undelivered entries created before `before`, oldest first.
    pub async fn outbox_before(
        &self,
        before: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk < :before")
            .expression_attribute_values(":pk", s(keys::OUTBOX))
            .expression_attribute_values(":before", s(keys::outbox_sk(&before, "")))
            .limit(limit)
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo("Query"))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|i| from_item::<OutboxItem>(i).map(|o| o.entry))
            .collect()
    }

    /// Removes a delivered entry (absent already: fine, a concurrent drain delivered it too).
    pub async fn delete_outbox_entry(&self, entry: &OutboxEntry) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::OUTBOX))
            .key(keys::SK, s(keys::outbox_sk(&entry.created_at, &entry.id)))
            .send()
            .await
            .map_err(dynamo("DeleteItem"))?;
        Ok(())
    }
}
