//! Scheduling links (`SLINK#{id}` / `META`), the leases that keep two bookings off the same
//! interviewer at the same time (`SLEASE#{sha256(address)}` / `{bucket}`), and the fixed-window
//! counters that rate-limit the public booking routes (`RATE#{scope}#{sha256(subject)}` /
//! `{window}`).
//!
//! Every change to a link is conditional on the `version` it read. Taking a slot is one
//! TransactWriteItems: the link (still `open`, still at that version) and one lease per
//! interviewer per bucket of the slot (`attribute_not_exists`). Two bookings of one link, or of
//! two links sharing an interviewer at overlapping times, therefore cannot both commit: there
//! is no check-then-act window.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, ReturnValue, TransactWriteItem};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::conditions::conditional;
use super::outbox::outbox_item;
use super::{dynamo, from_item, keys, n, s, to_item, Item, Store, StoreError};
use crate::outbox::OutboxEntry;
use crate::scheduling::links::model::Link;

/// How long a link's item outlives its expiry or its interview (for the API to still read it).
const LINK_RETENTION: Duration = Duration::days(30);
/// How long a lease outlives its slot: the fairness count looks 3.5 days back.
const LEASE_RETENTION: Duration = Duration::days(8);

#[derive(Serialize, Deserialize)]
struct LinkItem {
    pk: String,
    sk: String,
    entity: String,
    ttl: i64,
    #[serde(flatten)]
    link: Link,
}

/// One interviewer held for one bucket by one booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The interviewer (lower-cased address).
    pub address: String,
    pub bucket: DateTime<Utc>,
    pub booking_id: String,
    pub link_id: String,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct LeaseItem {
    pk: String,
    sk: String,
    entity: String,
    ttl: i64,
    #[serde(flatten)]
    lease: Lease,
}

fn lease_item(l: &Lease) -> Result<Item, StoreError> {
    to_item(&LeaseItem {
        pk: keys::lease_pk(&l.address),
        sk: keys::lease_sk(&l.bucket),
        entity: "slot_lease".into(),
        ttl: (l.slot_end + LEASE_RETENTION).timestamp(),
        lease: l.clone(),
    })
}

fn link_item(link: &Link) -> Result<Item, StoreError> {
    let until = link
        .booking
        .as_ref()
        .map_or(link.spec.expires_at, |b| b.end.max(link.spec.expires_at));
    to_item(&LinkItem {
        pk: keys::scheduling_link_pk(&link.id),
        sk: keys::META.into(),
        entity: "scheduling_link".into(),
        ttl: (until + LINK_RETENTION).timestamp(),
        link: link.clone(),
    })
}

/// Why a link transaction did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkWriteLost {
    /// The link changed since it was read (booked, rescheduled or cancelled meanwhile).
    LinkChanged,
    /// An interviewer is already held at an overlapping time by another booking.
    SlotTaken,
}

/// How a lease changes hands in a link transaction.
pub struct LeaseChanges<'a> {
    /// Taken now: must be free.
    pub take: &'a [Lease],
    /// Given up: must still belong to `previous_booking`.
    pub release: &'a [Lease],
    pub previous_booking: Option<&'a str>,
}

impl Store {
    /// Stores a new link.
    pub async fn create_link(&self, link: &Link) -> Result<(), StoreError> {
        self.put_new(link_item(link)?, "scheduling link").await
    }

    /// A link by id (strongly consistent: a booking just made must show).
    pub async fn get_link(&self, id: &str) -> Result<Option<Link>, StoreError> {
        let item = self
            .get_item(keys::scheduling_link_pk(id), keys::META, true)
            .await?;
        item.map(|i| from_item::<LinkItem>(i).map(|l| l.link))
            .transpose()
    }

    /// Writes `link` (whose `version` is already the next one) if the stored link is still at
    /// `expected_version`, together with lease changes and an outbox entry, all or nothing.
    pub async fn write_link(
        &self,
        link: &Link,
        expected_version: u64,
        leases: LeaseChanges<'_>,
        outbox: Option<&OutboxEntry>,
    ) -> Result<Result<(), LinkWriteLost>, StoreError> {
        let mut items = vec![TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(link_item(link)?))
                    .condition_expression("#v = :v")
                    .expression_attribute_names("#v", "version")
                    .expression_attribute_values(":v", n(expected_version))
                    .build()
                    .map_err(dynamo("TransactWriteItems"))?,
            )
            .build()];
        // A lease given up and taken again (a reschedule overlapping its old time) changes owner
        // in place: one write per item, as a transaction requires.
        let retaken: Vec<(String, String)> = leases
            .take
            .iter()
            .map(|l| (keys::lease_pk(&l.address), keys::lease_sk(&l.bucket)))
            .collect();
        for lease in leases.take {
            let key = (
                keys::lease_pk(&lease.address),
                keys::lease_sk(&lease.bucket),
            );
            let was_ours = leases
                .release
                .iter()
                .any(|r| (keys::lease_pk(&r.address), keys::lease_sk(&r.bucket)) == key);
            let mut put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(lease_item(lease)?));
            put = match (was_ours, leases.previous_booking) {
                (true, Some(previous)) => put
                    .condition_expression("booking_id = :previous")
                    .expression_attribute_values(":previous", s(previous)),
                _ => put.condition_expression("attribute_not_exists(pk)"),
            };
            items.push(
                TransactWriteItem::builder()
                    .put(put.build().map_err(dynamo("TransactWriteItems"))?)
                    .build(),
            );
        }
        for lease in leases.release {
            let key = (
                keys::lease_pk(&lease.address),
                keys::lease_sk(&lease.bucket),
            );
            if retaken.contains(&key) {
                continue;
            }
            let mut delete = Delete::builder()
                .table_name(&self.table)
                .key(keys::PK, s(key.0))
                .key(keys::SK, s(key.1));
            if let Some(previous) = leases.previous_booking {
                delete = delete
                    .condition_expression("attribute_not_exists(pk) OR booking_id = :previous")
                    .expression_attribute_values(":previous", s(previous));
            }
            items.push(
                TransactWriteItem::builder()
                    .delete(delete.build().map_err(dynamo("TransactWriteItems"))?)
                    .build(),
            );
        }
        if let Some(entry) = outbox {
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(outbox_item(entry)?))
                            .build()
                            .map_err(dynamo("TransactWriteItems"))?,
                    )
                    .build(),
            );
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Ok(())),
            Err(SdkError::ServiceError(e)) => match e.err() {
                TransactWriteItemsError::TransactionCanceledException(t) => {
                    let reasons = t.cancellation_reasons();
                    let failed = |r: &aws_sdk_dynamodb::types::CancellationReason| {
                        r.code() == Some("ConditionalCheckFailed")
                    };
                    if reasons.first().is_some_and(failed) {
                        Ok(Err(LinkWriteLost::LinkChanged))
                    } else if reasons.iter().any(failed) {
                        Ok(Err(LinkWriteLost::SlotTaken))
                    } else {
                        // A concurrent transaction on the same items (TransactionConflict) is
                        // the race lost too: the other booking is being written.
                        let conflict = reasons
                            .iter()
                            .any(|r| r.code() == Some("TransactionConflict"));
                        if conflict {
                            Ok(Err(LinkWriteLost::SlotTaken))
                        } else {
                            let r = Err(SdkError::ServiceError(e));
                            conditional::<(), _, _>("TransactWriteItems", r).map(|_| Ok(()))
                        }
                    }
                }
                _ => Err(dynamo("TransactWriteItems")(SdkError::ServiceError(e))),
            },
            Err(e) => Err(dynamo("TransactWriteItems")(e)),
        }
    }

    /// The leases held for `address` in buckets within `[from, to)`.
    pub async fn leases_of(
        &self,
        address: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Lease>, StoreError> {
        let mut out = Vec::new();
        let mut start_key: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(keys::lease_pk(address)))
                .expression_attribute_values(":from", s(keys::lease_sk(&from)))
                .expression_attribute_values(":to", s(keys::lease_sk(&to)))
                .set_exclusive_start_key(start_key.take())
                .consistent_read(true)
                .send()
                .await
                .map_err(dynamo("Query"))?;
            for item in page.items.unwrap_or_default() {
                let lease = from_item::<LeaseItem>(item)?.lease;
                if lease.bucket < to {
                    out.push(lease);
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start_key = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// Counts one hit against a fixed one-minute window of `scope` for `subject` (a link id, an
    /// IP address); `false` once `limit` hits were counted in the window.
    pub async fn rate_limit_hit(
        &self,
        scope: &str,
        subject: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let window = now.timestamp() / 60 * 60;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::rate_limit_pk(scope, subject)))
            .key(keys::SK, s(window.to_string()))
            .update_expression("ADD hits :one SET #ttl = :ttl, entity = :entity")
            .condition_expression("attribute_not_exists(hits) OR hits < :limit")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":ttl", n(window + 120))
            .expression_attribute_values(":entity", s("rate_limit"))
            .return_values(ReturnValue::None)
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_ok())
    }
}

/// Distinct bookings among `leases`, per interviewer: the fairness count.
pub fn bookings_per_interviewer(leases: &[Lease]) -> HashMap<String, usize> {
    let mut seen: HashMap<String, std::collections::HashSet<&str>> = HashMap::new();
    for l in leases {
        seen.entry(l.address.clone())
            .or_default()
            .insert(&l.booking_id);
    }
    seen.into_iter().map(|(k, v)| (k, v.len())).collect()
}
