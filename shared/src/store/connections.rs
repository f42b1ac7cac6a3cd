//! Connection records (`CONN#{id}` / `META`, listed newest first through gsi1 and per app user
//! through gsi2), the mailbox claim that keeps one connection per Microsoft mailbox, and deleting
//! everything a connection owns: marking it `deleting`, the purge's pages, its notes of what it
//! could not revoke, and the last step that removes the record.
//!
//! On gsi1 the connections are spread over [`keys::CONNECTION_SHARDS`] partitions
//! (`CONNS#{shard}`), never one: the listing of all connections reads every shard at once and
//! merges them by sort key (one Query per shard and page, each `Limit` = the page size: a page of
//! 50 costs up to 13 small Queries in parallel, about the latency of one); the periodic catch-up
//! reads only the shards of its slot. One index and no extra write per connection, where a second,
//! unsharded listing index would keep the hot partition for writes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use futures::stream::{self, Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use super::conditions::conditional;
use super::outbox::outbox_item;
use super::page::{decode_cursor, encode_cursor};
use super::{dynamo, from_item, keys, s, to_item, Item, Page, Store, StoreError};
use crate::domain::{AppUserId, Connection, ConnectionId, ConnectionStatus, PageLimit, ParseError};
use crate::outbox::OutboxEntry;

/// The attribute of a `deleting` connection's record that lists what the purge could not revoke.
const UNREVOKED: &str = "unrevoked";

/// Something of a deleted connection that could not be revoked, as `connection.deleted` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unrevoked {
    /// `subscription`, `refresh_token`.
    pub what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When it stops working by itself, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    pub why: String,
}

/// One page of a connection's items for the purge: their keys (the record itself left out), the
/// counterpart index entries the page's messages name, and where the next page starts.
#[derive(Debug, Default)]
pub struct PurgePage {
    pub items: Vec<(String, String)>,
    pub pointers: Vec<(String, String)>,
    pub next: Option<Item>,
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
            gsi1pk: keys::connection_listing_pk(&c.id),
            gsi1sk: order.clone(),
            gsi2pk: keys::user_connections_pk(&c.user_id),
            gsi2sk: order,
            entity: "connection".into(),
            connection: c.clone(),
        }
    }
}

/// A connection's record item, as stored (also written inside transactions, see `claims`; and
/// by benchmarks that fill a table directly through [`Store::write_batch`]).
pub fn connection_item(c: &Connection) -> Result<Item, StoreError> {
    to_item(&ConnectionItem::new(c))
}

/// The connection id of an item projected to its `id`.
fn connection_id_of(item: &Item) -> Result<ConnectionId, StoreError> {
    item.get("id")
        .and_then(|v| v.as_s().ok())
        .and_then(|raw| ConnectionId::parse(raw).ok())
        .ok_or(StoreError::CorruptAttribute("id"))
}

/// The item that keeps one connection per Microsoft mailbox (tenant + object id).
pub(super) fn mailbox_claim_item(c: &Connection) -> Item {
    HashMap::from([
        (
            keys::PK.to_owned(),
            s(keys::mailbox_claim_pk(&c.tenant_id, &c.ms_user_id)),
        ),
        (keys::SK.to_owned(), s(keys::META)),
        ("entity".to_owned(), s("mailbox_claim")),
        ("connection_id".to_owned(), s(c.id.as_str())),
    ])
}

impl Store {
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
        let items = vec![
            put(connection_item(c)?).map_err(dynamo("TransactWriteItems"))?,
            put(mailbox_claim_item(c)).map_err(dynamo("TransactWriteItems"))?,
        ];
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        conditional("TransactWriteItems", result)?
            .map(drop)
            .map_err(|_| StoreError::Conflict("connection or mailbox claim exists"))
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
        conditional("PutItem", result)?
            .map(drop)
            .map_err(|_| StoreError::Conflict("connection does not exist"))
    }

    pub async fn get_connection(
        &self,
        id: &ConnectionId,
    ) -> Result<Option<Connection>, StoreError> {
        let item = self
            .get_item(keys::connection_pk(id), keys::META, true)
            .await?;
        item.map(|i| from_item::<ConnectionItem>(i).map(|c| c.connection))
            .transpose()
    }

    /// The connection that owns a Microsoft mailbox, if any.
    pub async fn find_connection_by_mailbox(
        &self,
        tenant_id: &str,
        ms_user_id: &str,
    ) -> Result<Option<ConnectionId>, StoreError> {
        let item = self
            .get_item(
                keys::mailbox_claim_pk(tenant_id, ms_user_id),
                keys::META,
                true,
            )
            .await?;
        let Some(item) = item else {
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
        let Some(user) = user else {
            return self.list_all_connections(limit, cursor).await;
        };
        let pk = keys::user_connections_pk(user);
        let start = match cursor
            .map(|c| decode_cursor(c, keys::GSI2_PK, &pk))
            .transpose()
        {
            Ok(start) => start,
            Err(e) => return Ok(Err(e)),
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI2)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", keys::GSI2_PK)
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

    /// Every connection, newest first: the newest `limit` of each gsi1 shard after the cursor,
    /// read concurrently, merged by sort key. The cursor carries the sort key of the page's last
    /// connection (cursors of the unsharded listing carry it too, so they keep working).
    async fn list_all_connections(
        &self,
        limit: PageLimit,
        cursor: Option<&str>,
    ) -> Result<Result<Page<Connection>, ParseError>, StoreError> {
        let after = match cursor
            .map(|c| decode_cursor(c, keys::GSI1_PK, keys::UNSHARDED_CONNECTIONS))
            .transpose()
        {
            Ok(key) => key.map(|k| k.get(keys::GSI1_SK).and_then(|v| v.as_s().ok()).cloned()),
            Err(e) => return Ok(Err(e)),
        };
        let after = match after {
            Some(None) => {
                return Ok(Err(ParseError::new(
                    "cursor",
                    "is not a cursor returned by this listing",
                )))
            }
            Some(Some(sk)) => Some(sk),
            None => None,
        };
        let queries = keys::connection_listing_partitions().map(|pk| {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .expression_attribute_names("#pk", keys::GSI1_PK)
                .expression_attribute_values(":pk", s(pk))
                .scan_index_forward(false)
                .limit(i32::from(limit.get()));
            query = match &after {
                Some(sk) => query
                    .key_condition_expression("#pk = :pk AND #sk < :after")
                    .expression_attribute_names("#sk", keys::GSI1_SK)
                    .expression_attribute_values(":after", s(sk.clone())),
                None => query.key_condition_expression("#pk = :pk"),
            };
            query.send()
        });
        let pages = futures::future::try_join_all(queries)
            .await
            .map_err(dynamo("Query"))?;
        let mut more = false;
        let mut merged = Vec::new();
        for page in pages {
            more |= page.last_evaluated_key.is_some();
            for item in page.items.unwrap_or_default() {
                merged.push(from_item::<ConnectionItem>(item)?);
            }
        }
        merged.sort_by(|a, b| b.gsi1sk.cmp(&a.gsi1sk));
        // A connection moved to its shard between two of the queries is seen twice.
        merged.dedup_by(|a, b| a.gsi1sk == b.gsi1sk);
        let limit = usize::from(limit.get());
        more |= merged.len() > limit;
        merged.truncate(limit);
        let next_cursor = merged.last().filter(|_| more).and_then(|last| {
            encode_cursor(&HashMap::from([
                (keys::GSI1_PK.to_owned(), s(keys::UNSHARDED_CONNECTIONS)),
                (keys::GSI1_SK.to_owned(), s(last.gsi1sk.clone())),
            ]))
        });
        let items = merged.into_iter().map(|i| i.connection).collect();
        Ok(Ok(Page { items, next_cursor }))
    }

    /// The ids of the active connections of gsi1 shard `shard`, a page (up to 1 MB read) at a
    /// time: the periodic catch-up reads a slot's shards with it. Only `id` comes back; the
    /// status is filtered by DynamoDB (after the read, so it does not lower the cost).
    pub fn active_connections_in_shard(
        &self,
        shard: u8,
    ) -> impl Stream<Item = Result<Vec<ConnectionId>, StoreError>> + '_ {
        // State: `Some(start key)` while there are pages left.
        stream::try_unfold(Some(None), move |state: Option<Option<Item>>| async move {
            let Some(start) = state else {
                return Ok(None);
            };
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("#pk = :pk")
                .filter_expression("#status = :active")
                .projection_expression("#id")
                .expression_attribute_names("#pk", keys::GSI1_PK)
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#id", "id")
                .expression_attribute_values(":pk", s(keys::connections_shard_pk(shard)))
                .expression_attribute_values(":active", s("active"))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo("Query"))?;
            let ids = out
                .items
                .unwrap_or_default()
                .iter()
                .map(connection_id_of)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some((ids, out.last_evaluated_key.map(Some))))
        })
    }

    /// Moves up to `max` connections still listed under the unsharded gsi1 partition (written
    /// before the shards existed) to their shard: a Query of the old partition, then one
    /// UpdateItem per connection that sets only `gsi1pk`, on condition that it is still the old
    /// one (a concurrent rewrite of the record has moved it already). Returns how many it moved;
    /// 0 once the old partition is empty, which then costs one empty Query.
    pub async fn migrate_unsharded_connections(&self, max: usize) -> Result<usize, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("#pk = :pk")
            .projection_expression("#id")
            .expression_attribute_names("#pk", keys::GSI1_PK)
            .expression_attribute_names("#id", "id")
            .expression_attribute_values(":pk", s(keys::UNSHARDED_CONNECTIONS))
            .limit(i32::try_from(max).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(dynamo("Query"))?;
        let ids = out
            .items
            .unwrap_or_default()
            .iter()
            .map(connection_id_of)
            .collect::<Result<Vec<_>, _>>()?;
        let moved = stream::iter(ids)
            .map(|id| async move {
                let result = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key(keys::PK, s(keys::connection_pk(&id)))
                    .key(keys::SK, s(keys::META))
                    .update_expression("SET #pk = :shard")
                    .condition_expression("#pk = :unsharded")
                    .expression_attribute_names("#pk", keys::GSI1_PK)
                    .expression_attribute_values(":shard", s(keys::connection_listing_pk(&id)))
                    .expression_attribute_values(":unsharded", s(keys::UNSHARDED_CONNECTIONS))
                    .send()
                    .await;
                Ok::<_, StoreError>(match conditional("UpdateItem", result)? {
                    Ok(_) => 1,
                    Err(_) => 0,
                })
            })
            .buffer_unordered(16)
            .try_fold(0, |total, moved| async move { Ok(total + moved) })
            .await?;
        Ok(moved)
    }

    /// The ids of every connection of a Microsoft tenant.
    ///
    /// There is no tenant index: this queries every connection partition of gsi1 (the shards and,
    /// until it is migrated, the unsharded one) with a filter on `tenant_id`. DynamoDB applies the
    /// filter after reading, so the cost is that of reading every connection record (about one
    /// read unit per 8 KB, 1 MB per page: 100,000 connections of ~1 KB are ~100 pages and ~12,500
    /// read units), whatever the tenant's share. Only switching a tenant off needs it, an
    /// administrator's rare action; a per-tenant index would cost a write on every connection
    /// change and a template change for it. The projection keeps the answer small, not the read.
    pub async fn tenant_connection_ids(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let mut ids = Vec::new();
        for pk in keys::connection_listing_partitions() {
            let mut start = None;
            loop {
                let out = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::GSI1)
                    .key_condition_expression("#pk = :pk")
                    .filter_expression("tenant_id = :tenant")
                    .projection_expression("#id")
                    .expression_attribute_names("#pk", keys::GSI1_PK)
                    .expression_attribute_names("#id", "id")
                    .expression_attribute_values(":pk", s(pk.clone()))
                    .expression_attribute_values(":tenant", s(tenant_id))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(dynamo("Query"))?;
                for item in out.items.unwrap_or_default() {
                    ids.push(connection_id_of(&item)?);
                }
                start = out.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
        }
        Ok(ids)
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
        Ok(conditional("UpdateItem", result)?.is_ok())
    }

    /// Marks a connection `deleting` (a conditional UpdateItem). Repeating it is harmless
    /// (`deleting_since` keeps the first time). False when the connection does not exist.
    pub async fn mark_deleting(
        &self,
        id: &ConnectionId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::META))
            .update_expression(
                "SET #status = :deleting, updated_at = :now, \
                 deleting_since = if_not_exists(deleting_since, :now)",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":deleting", s("deleting"))
            .expression_attribute_values(
                ":now",
                s(now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            )
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_ok())
    }

    /// A connection's status, read consistently (the sync engine asks before each page).
    pub async fn connection_status(
        &self,
        id: &ConnectionId,
    ) -> Result<Option<ConnectionStatus>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::META))
            .projection_expression("#status")
            .expression_attribute_names("#status", "status")
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo("GetItem"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let raw = item
            .get("status")
            .and_then(|v| v.as_s().ok())
            .ok_or(StoreError::CorruptAttribute("status"))?;
        serde_json::from_value(serde_json::Value::String(raw.clone()))
            .map(Some)
            .map_err(|_| StoreError::CorruptAttribute("status"))
    }

    /// Up to `limit` items of the connection's partition from `start` (the connection record
    /// itself is left out of the keys returned), with the counterpart entries their messages name.
    pub async fn purge_page(
        &self,
        id: &ConnectionId,
        start: Option<Item>,
        limit: i32,
        consistent: bool,
    ) -> Result<PurgePage, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::connection_pk(id)))
            .projection_expression("pk, sk, counterparts, received_order")
            .limit(limit)
            .consistent_read(consistent)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(dynamo("Query"))?;
        let mut page = PurgePage {
            next: out.last_evaluated_key,
            ..PurgePage::default()
        };
        for item in out.items.unwrap_or_default() {
            let key = |n: &str| {
                item.get(n)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            // Messages name their counterpart index entries (see `messages`).
            if let Some(AttributeValue::L(addresses)) = item.get("counterparts") {
                let order = key("received_order");
                for address in addresses.iter().filter_map(|a| a.as_s().ok()) {
                    page.pointers
                        .push((keys::counterpart_pk(id, address), order.clone()));
                }
            }
            let sk = key(keys::SK);
            if sk != keys::META {
                page.items.push((key(keys::PK), sk));
            }
        }
        Ok(page)
    }

    /// Notes on a `deleting` connection something the purge could not revoke (it goes into
    /// `connection.deleted`). Nothing is noted once the connection is no longer `deleting`.
    pub async fn note_unrevoked(
        &self,
        id: &ConnectionId,
        note: &Unrevoked,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::META))
            .update_expression("SET #notes = list_append(if_not_exists(#notes, :empty), :note)")
            .condition_expression("#status = :deleting")
            .expression_attribute_names("#notes", UNREVOKED)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(
                ":note",
                AttributeValue::L(vec![AttributeValue::M(to_item(note)?)]),
            )
            .expression_attribute_values(":deleting", s("deleting"))
            .send()
            .await;
        // A lost condition: the connection is gone or was reconnected; nothing to note.
        let _ = conditional("UpdateItem", result)?;
        Ok(())
    }

    /// What the purge noted it could not revoke (see [`Store::note_unrevoked`]).
    pub async fn unrevoked(&self, id: &ConnectionId) -> Result<Vec<Unrevoked>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::META))
            .projection_expression("#notes")
            .expression_attribute_names("#notes", UNREVOKED)
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo("GetItem"))?;
        let Some(AttributeValue::L(notes)) = out.item.and_then(|mut i| i.remove(UNREVOKED)) else {
            return Ok(Vec::new());
        };
        notes
            .into_iter()
            .map(|n| match n {
                AttributeValue::M(m) => from_item(m),
                _ => Err(StoreError::CorruptAttribute(UNREVOKED)),
            })
            .collect()
    }

    /// The purge's last step, in one transaction: the connection record (only while it is still
    /// `deleting`: a reconnect meanwhile keeps it), its mailbox claim (only while it names this
    /// connection) and `announcement` into the outbox. False when the connection was not
    /// `deleting` any more.
    pub async fn finish_purge(
        &self,
        c: &Connection,
        announcement: &OutboxEntry,
    ) -> Result<bool, StoreError> {
        let record = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(&c.id)))
            .key(keys::SK, s(keys::META))
            .condition_expression("#status = :deleting")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":deleting", s("deleting"))
            .build()
            .map_err(dynamo("TransactWriteItems"))?;
        let claim = Delete::builder()
            .table_name(&self.table)
            .key(
                keys::PK,
                s(keys::mailbox_claim_pk(&c.tenant_id, &c.ms_user_id)),
            )
            .key(keys::SK, s(keys::META))
            .condition_expression("attribute_not_exists(pk) OR connection_id = :id")
            .expression_attribute_values(":id", s(c.id.as_str()))
            .build()
            .map_err(dynamo("TransactWriteItems"))?;
        let outbox = Put::builder()
            .table_name(&self.table)
            .set_item(Some(outbox_item(announcement)?))
            .build()
            .map_err(dynamo("TransactWriteItems"))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(record).build())
            .transact_items(TransactWriteItem::builder().delete(claim).build())
            .transact_items(TransactWriteItem::builder().put(outbox).build())
            .send()
            .await;
        Ok(conditional("TransactWriteItems", result)?.is_ok())
    }
}
