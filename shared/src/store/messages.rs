//! Synced mail: message metadata, the counterpart index and the delta cursor of each folder.
//!
//! - A message item lives in its connection's partition (`CONN#{id}` / `MSG#{message id}`) and in
//!   gsi1 under `MSGS#{id}` ordered by received time, for the newest-first listing.
//! - The counterpart index answers "messages with this address" without a filter over the
//!   mailbox: gsi2 partition `WITH#{id}#{address}`. The message item itself carries the first
//!   counterpart in its gsi2 keys, so the common one-counterpart message costs one item, not two;
//!   every further counterpart is its own small item (pk = sk = the gsi2 keys) that names the
//!   message. The message's `counterparts` attribute lists those extra addresses so deleting the
//!   connection (and rewriting the message) finds them.
//! - The delta cursor (`CONN#{id}` / `CURSOR#{folder}`) is the link the next fetch starts from.
//!
//! Writes go through [`Store::write_batch`] and reads of many messages through BatchGetItem, both
//! in [`super::batch`].

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::page::{decode_cursor, encode_cursor};
use super::{
    dynamo, from_item, item_size, keys, s, to_item, Item, Page, Store, StoreError, MAX_ITEM_BYTES,
};
use crate::domain::{ConnectionId, PageLimit, ParseError};

pub use super::batch::{Write, BATCH_WRITE_MAX};

/// A sender or recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub address: String,
}

/// The stored metadata of one message (never its body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// Graph's immutable id.
    pub id: String,
    pub connection_id: ConnectionId,
    /// The folder it was synced from (`inbox`, `sentitems`).
    pub folder: String,
    pub subject: String,
    pub from: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub sent_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub conversation_id: Option<String>,
    pub internet_message_id: Option<String>,
    pub preview: String,
    pub has_attachments: bool,
    pub is_read: bool,
    pub web_link: Option<String>,
    /// Graph reported it removed from the folder (deleted or moved away).
    pub deleted: bool,
    /// Graph's version marker when it was last written; a different one means it changed.
    pub etag: String,
    /// Something was left out or shortened to keep the message within its bounds
    /// (`crate::sync::bounds`): recipients past the caps, or text past its length.
    #[serde(default)]
    pub truncated: bool,
    /// How many To recipients the message has; `to` holds at most the capped number. Absent on
    /// items written before counts were kept (their lists are complete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_count: Option<u32>,
    /// How many Cc recipients the message has (as `to_count`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc_count: Option<u32>,
}

impl MessageRecord {
    /// Sort key of the message in every time-ordered index: received time, then id.
    pub fn received_order(&self) -> String {
        keys::received_order(&self.received_at, &self.id)
    }

    /// Distinct counterpart addresses (lower-cased) from `from`, `to`, `cc` in that order, without
    /// the mailbox owner's own address.
    pub fn counterparts(&self, owner: &str) -> Vec<String> {
        let owner = owner.to_ascii_lowercase();
        let mut seen = BTreeSet::new();
        self.from
            .iter()
            .chain(&self.to)
            .chain(&self.cc)
            .map(|a| a.address.trim().to_ascii_lowercase())
            .filter(|a| !a.is_empty() && *a != owner && !a.contains('#'))
            .filter(|a| seen.insert(a.clone()))
            .collect()
    }
}

/// A stored message with the index entries it owns, as read back for diffing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub record: MessageRecord,
    /// The extra counterpart addresses that have their own index items.
    pub counterparts: Vec<String>,
    pub received_order: String,
}

#[derive(Serialize, Deserialize)]
struct MessageItem {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    entity: String,
    /// Names the extra counterpart items (see the module docs); the purge reads it.
    counterparts: Vec<String>,
    received_order: String,
    #[serde(flatten)]
    record: MessageRecord,
}

#[derive(Serialize, Deserialize)]
struct CounterpartItem {
    pk: String,
    sk: String,
    gsi2pk: String,
    gsi2sk: String,
    entity: String,
    message_id: String,
    folder: String,
}

#[derive(Serialize, Deserialize)]
struct CursorItem {
    pk: String,
    sk: String,
    entity: String,
    link: String,
    updated_at: DateTime<Utc>,
}

/// The writes that store `record` (and drop index entries of `previous` it no longer has).
pub fn message_writes(
    record: &MessageRecord,
    owner: &str,
    previous: Option<&StoredMessage>,
) -> Result<Vec<Write>, StoreError> {
    let order = record.received_order();
    let counterparts = record.counterparts(owner);
    let (primary, extra) = match counterparts.split_first() {
        Some((first, rest)) => (Some(first.clone()), rest.to_vec()),
        None => (None, Vec::new()),
    };
    let mut writes = Vec::with_capacity(1 + extra.len());
    let item = to_item(&MessageItem {
        pk: keys::connection_pk(&record.connection_id),
        sk: keys::message_sk(&record.id),
        gsi1pk: keys::messages_by_time_pk(&record.connection_id),
        gsi1sk: order.clone(),
        gsi2pk: primary
            .as_ref()
            .map(|a| keys::counterpart_pk(&record.connection_id, a)),
        gsi2sk: primary.as_ref().map(|_| order.clone()),
        entity: "message".into(),
        counterparts: extra.clone(),
        received_order: order.clone(),
        record: record.clone(),
    })?;
    // Records are bounded when they are made (`crate::sync::bounds`); this only stops a bug from
    // becoming a batch DynamoDB refuses.
    let size = item_size(&item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge { size });
    }
    writes.push(Write::Put(item));
    let mut kept = BTreeSet::new();
    for address in &extra {
        let pk = keys::counterpart_pk(&record.connection_id, address);
        kept.insert((pk.clone(), order.clone()));
        writes.push(Write::Put(to_item(&CounterpartItem {
            gsi2pk: pk.clone(),
            gsi2sk: order.clone(),
            pk,
            sk: order.clone(),
            entity: "message_counterpart".into(),
            message_id: record.id.clone(),
            folder: record.folder.clone(),
        })?));
    }
    if let Some(previous) = previous {
        for address in &previous.counterparts {
            let key = (
                keys::counterpart_pk(&record.connection_id, address),
                previous.received_order.clone(),
            );
            if !kept.contains(&key) {
                writes.push(Write::Delete {
                    pk: key.0,
                    sk: key.1,
                });
            }
        }
    }
    Ok(writes)
}

/// The write that saves a folder's delta cursor.
pub fn cursor_write(
    id: &ConnectionId,
    folder: &str,
    link: &str,
    now: DateTime<Utc>,
) -> Result<Write, StoreError> {
    Ok(Write::Put(to_item(&CursorItem {
        pk: keys::connection_pk(id),
        sk: keys::cursor_sk(folder),
        entity: "delta_cursor".into(),
        link: link.to_owned(),
        updated_at: now,
    })?))
}

/// What the message listing asks for.
#[derive(Debug, Clone)]
pub struct MessageQuery<'a> {
    pub folder: Option<&'a str>,
    /// Only messages with this counterpart (from/to/cc), through the counterpart index.
    pub with: Option<&'a str>,
    /// Only messages received at or after this time.
    pub since: Option<DateTime<Utc>>,
    pub limit: PageLimit,
    pub cursor: Option<&'a str>,
}

/// A listing never reads more than this many DynamoDB pages per request, so a rare folder filter
/// over a huge mailbox returns a short page with a cursor instead of running long.
const MAX_QUERY_ROUNDS: usize = 10;

impl Store {
    /// The saved delta link of a folder, if a round has started.
    pub async fn get_cursor(
        &self,
        id: &ConnectionId,
        folder: &str,
    ) -> Result<Option<String>, StoreError> {
        let item = self
            .get_item(keys::connection_pk(id), keys::cursor_sk(folder), true)
            .await?;
        item.map(|i| from_item::<CursorItem>(i).map(|c| c.link))
            .transpose()
    }

    /// Saves a folder's delta link on its own (when a run ends between pages).
    pub async fn put_cursor(
        &self,
        id: &ConnectionId,
        folder: &str,
        link: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Write::Put(item) = cursor_write(id, folder, link, now)? else {
            unreachable!("cursor_write builds a put")
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(dynamo("PutItem"))?;
        Ok(())
    }

    /// Forgets a folder's delta link (the next round starts from scratch).
    pub async fn delete_cursor(&self, id: &ConnectionId, folder: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::cursor_sk(folder)))
            .send()
            .await
            .map_err(dynamo("DeleteItem"))?;
        Ok(())
    }

    /// The stored messages among `ids` (absent ids are unknown), one BatchGetItem per 100.
    pub async fn get_messages(
        &self,
        id: &ConnectionId,
        ids: &[&str],
    ) -> Result<HashMap<String, StoredMessage>, StoreError> {
        let mut distinct: Vec<&str> = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let keys_: Vec<Item> = distinct
            .iter()
            .map(|m| {
                HashMap::from([
                    (keys::PK.to_owned(), s(keys::connection_pk(id))),
                    (keys::SK.to_owned(), s(keys::message_sk(m))),
                ])
            })
            .collect();
        let mut found = HashMap::new();
        for item in self.batch_get(keys_).await? {
            let item: MessageItem = from_item(item)?;
            found.insert(
                item.record.id.clone(),
                StoredMessage {
                    record: item.record,
                    counterparts: item.counterparts,
                    received_order: item.received_order,
                },
            );
        }
        Ok(found)
    }

    /// One stored message.
    pub async fn get_message(
        &self,
        id: &ConnectionId,
        message_id: &str,
    ) -> Result<Option<MessageRecord>, StoreError> {
        let item = self
            .get_item(keys::connection_pk(id), keys::message_sk(message_id), false)
            .await?;
        item.map(|i| from_item::<MessageItem>(i).map(|m| m.record))
            .transpose()
    }

    /// Lists a connection's messages newest first, optionally only one folder, one counterpart
    /// (through the counterpart index) or those received since a time.
    pub async fn list_messages(
        &self,
        id: &ConnectionId,
        q: &MessageQuery<'_>,
    ) -> Result<Result<Page<MessageRecord>, ParseError>, StoreError> {
        let (index, pk_name, sk_name, pk) = match q.with {
            Some(address) => (
                keys::GSI2,
                keys::GSI2_PK,
                keys::GSI2_SK,
                keys::counterpart_pk(id, address),
            ),
            None => (
                keys::GSI1,
                keys::GSI1_PK,
                keys::GSI1_SK,
                keys::messages_by_time_pk(id),
            ),
        };
        let mut start = match q.cursor.map(|c| decode_cursor(c, pk_name, &pk)).transpose() {
            Ok(start) => start,
            Err(e) => return Ok(Err(e)),
        };
        let limit = usize::from(q.limit.get());
        let mut raw: Vec<Item> = Vec::new();
        let mut next_cursor = None;
        for round in 0..MAX_QUERY_ROUNDS {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .expression_attribute_names("#pk", pk_name)
                .expression_attribute_values(":pk", s(pk.clone()))
                .scan_index_forward(false)
                .limit(i32::try_from(limit - raw.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            query = match q.since {
                Some(since) => query
                    .key_condition_expression("#pk = :pk AND #sk >= :since")
                    .expression_attribute_names("#sk", sk_name)
                    .expression_attribute_values(
                        ":since",
                        s(since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    ),
                None => query.key_condition_expression("#pk = :pk"),
            };
            if let Some(folder) = q.folder {
                query = query
                    .filter_expression("#folder = :folder")
                    .expression_attribute_names("#folder", "folder")
                    .expression_attribute_values(":folder", s(folder));
            }
            let out = query.send().await.map_err(dynamo("Query"))?;
            raw.extend(out.items.unwrap_or_default());
            let more = out.last_evaluated_key;
            if raw.len() >= limit {
                // Resume after the last item returned (its keys are a valid start key).
                next_cursor = raw.last().and_then(|item| {
                    let key: Item = [keys::PK, keys::SK, pk_name, sk_name]
                        .iter()
                        .filter_map(|n| item.get(*n).map(|v| ((*n).to_owned(), v.clone())))
                        .collect();
                    more.as_ref().and(encode_cursor(&key))
                });
                break;
            }
            match more {
                None => break,
                Some(key) if round + 1 == MAX_QUERY_ROUNDS => {
                    next_cursor = encode_cursor(&key);
                }
                Some(key) => start = Some(key),
            }
        }
        let items = self.resolve_listing(id, raw).await?;
        Ok(Ok(Page { items, next_cursor }))
    }

    /// Turns listing rows (message items and counterpart items) into messages, in order.
    async fn resolve_listing(
        &self,
        id: &ConnectionId,
        raw: Vec<Item>,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        enum Row {
            Message(Box<MessageRecord>),
            Pointer(String),
        }
        let mut rows = Vec::with_capacity(raw.len());
        for item in raw {
            let entity = item.get("entity").and_then(|v| v.as_s().ok()).cloned();
            if entity.as_deref() == Some("message_counterpart") {
                rows.push(Row::Pointer(from_item::<CounterpartItem>(item)?.message_id));
            } else {
                rows.push(Row::Message(Box::new(
                    from_item::<MessageItem>(item)?.record,
                )));
            }
        }
        let pointers: Vec<&str> = rows
            .iter()
            .filter_map(|r| match r {
                Row::Pointer(m) => Some(m.as_str()),
                Row::Message(_) => None,
            })
            .collect();
        let mut resolved = if pointers.is_empty() {
            HashMap::new()
        } else {
            self.get_messages(id, &pointers).await?
        };
        Ok(rows
            .into_iter()
            .filter_map(|r| match r {
                Row::Message(m) => Some(*m),
                Row::Pointer(m) => resolved.remove(&m).map(|s| s.record),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(from: &str, to: &[&str], cc: &[&str]) -> MessageRecord {
        let a = |x: &str| Address {
            name: None,
            address: x.into(),
        };
        MessageRecord {
            id: "m1".into(),
            connection_id: ConnectionId::parse("6f9619ff-8b86-d011-b42d-00c04fc964ff").unwrap(),
            folder: "inbox".into(),
            subject: "s".into(),
            from: Some(a(from)),
            to: to.iter().map(|x| a(x)).collect(),
            cc: cc.iter().map(|x| a(x)).collect(),
            sent_at: None,
            received_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            conversation_id: None,
            internet_message_id: None,
            preview: String::new(),
            has_attachments: false,
            is_read: false,
            web_link: None,
            deleted: false,
            etag: "e1".into(),
            truncated: false,
            to_count: None,
            cc_count: None,
        }
    }

    #[test]
    fn counterparts_skip_the_owner_fold_case_and_deduplicate() {
        let r = record(
            "X@Ext.example",
            &["alice@contoso.example", "x@ext.example"],
            &["bob@contoso.example"],
        );
        assert_eq!(
            r.counterparts("Alice@Contoso.example"),
            vec!["x@ext.example", "bob@contoso.example"]
        );
    }

    #[test]
    fn a_one_counterpart_message_is_a_single_item_indexed_by_that_counterpart() {
        let r = record("x@ext.example", &["alice@contoso.example"], &[]);
        let writes = message_writes(&r, "alice@contoso.example", None).unwrap();
        assert_eq!(writes.len(), 1);
        let Write::Put(item) = &writes[0] else {
            panic!()
        };
        assert_eq!(
            item["gsi2pk"].as_s().unwrap(),
            &keys::counterpart_pk(&r.connection_id, "x@ext.example")
        );
        assert_eq!(item["gsi1sk"].as_s().unwrap(), &r.received_order());
        assert!(item["counterparts"].as_l().unwrap().is_empty());
        assert!(!item.contains_key("body"));
    }

    #[test]
    fn extra_counterparts_get_pointer_items_and_stale_ones_are_deleted() {
        let r = record(
            "x@ext.example",
            &["alice@contoso.example", "y@ext.example"],
            &[],
        );
        let previous = StoredMessage {
            record: r.clone(),
            counterparts: vec!["z@ext.example".into(), "y@ext.example".into()],
            received_order: r.received_order(),
        };
        let writes = message_writes(&r, "alice@contoso.example", Some(&previous)).unwrap();
        let keys_: Vec<_> = writes.iter().map(Write::key).collect();
        assert_eq!(keys_.len(), 3, "{keys_:?}");
        assert!(matches!(&writes[2], Write::Delete { pk, .. } if pk.ends_with("z@ext.example")));
        assert_eq!(
            keys_[1],
            (
                keys::counterpart_pk(&r.connection_id, "y@ext.example"),
                r.received_order()
            )
        );
    }

    #[test]
    fn an_item_over_dynamodbs_limit_is_refused_before_it_is_sent() {
        let mut r = record("x@ext.example", &["alice@contoso.example"], &[]);
        r.subject = "s".repeat(MAX_ITEM_BYTES);
        let e = message_writes(&r, "alice@contoso.example", None).unwrap_err();
        assert!(
            matches!(e, StoreError::ItemTooLarge { size } if size > MAX_ITEM_BYTES),
            "{e:?}"
        );
        assert!(e.is_refusal());
    }

    #[test]
    fn item_sizes_are_counted_as_dynamodb_counts_them() {
        use aws_sdk_dynamodb::types::AttributeValue as V;
        let item: Item = HashMap::from([
            ("pk".to_owned(), s("CONN#1")),                       // 2 + 6
            ("n".to_owned(), V::N("12345".into())),               // 1 + 3 + 1
            ("b".to_owned(), V::Bool(true)),                      // 1 + 1
            ("l".to_owned(), V::L(vec![s("ab"), V::Null(true)])), // 1 + 3 + (2+1) + (1+1)
            (
                "m".to_owned(),
                V::M(HashMap::from([("k".to_owned(), s("v"))])),
            ), // 1 + 3 + (1+1+1)
        ]);
        assert_eq!(item_size(&item), 8 + 5 + 2 + 9 + 7);
    }
}
