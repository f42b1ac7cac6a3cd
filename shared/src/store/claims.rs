//! A sign-in's result until the app claims it (`RESULT#{sha256(result id)}` / `META`, expiring),
//! and the one transaction that turns a claimed result into a connection.

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::{DateTime, TimeZone, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::batch::Write;
use super::conditions::conditional;
use super::connections::{connection_item, mailbox_claim_item};
use super::oauth::ExpiringItem;
use super::outbox::outbox_item;
use super::tokens::{tokens_condition, tokens_item};
use super::{dynamo, from_item, keys, n, s, to_item, Item, Store, StoreError, StoredTokens};
use crate::domain::{AppUserId, Connection};
use crate::outbox::OutboxEntry;

/// Everything a claim writes at once.
pub struct Attach<'a> {
    pub result_id: &'a str,
    pub connection: &'a Connection,
    /// The owner the existing connection record must still have; `None` when it is created.
    pub previous_owner: Option<&'a AppUserId>,
    pub tokens: &'a StoredTokens,
    /// The version of the token set read before (`None`: there is none yet).
    pub previous_token_version: Option<u64>,
    pub outbox: &'a [OutboxEntry],
}

impl Store {
    /// Saves a sign-in's result until `expires_at` (DynamoDB's TTL sweeps it later; readers
    /// check the expiry themselves).
    pub async fn put_connect_result<T: Serialize>(
        &self,
        result_id: &str,
        payload: &T,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut item = to_item(&ExpiringItem {
            pk: keys::connect_result_pk(result_id),
            sk: keys::META.into(),
            entity: "connect_result".into(),
            ttl: expires_at.timestamp(),
            payload,
        })?;
        item.insert(keys::GSI1_PK.into(), s(keys::CONNECT_RESULTS));
        item.insert(
            keys::GSI1_SK.into(),
            s(keys::connect_result_expiry(&expires_at, result_id)),
        );
        self.put_new(item, "connect result exists").await
    }

    /// A saved result and when it expires (possibly already: the caller decides).
    pub async fn get_connect_result<T: DeserializeOwned>(
        &self,
        result_id: &str,
    ) -> Result<Option<(T, DateTime<Utc>)>, StoreError> {
        let Some(item) = self
            .get_item(keys::connect_result_pk(result_id), keys::META, true)
            .await?
        else {
            return Ok(None);
        };
        let item: ExpiringItem<T> = from_item(item)?;
        let expires_at = Utc
            .timestamp_opt(item.ttl, 0)
            .single()
            .ok_or(StoreError::CorruptAttribute("ttl"))?;
        Ok(Some((item.payload, expires_at)))
    }

    /// Deletes a saved result, tokens and all. Safe to repeat.
    pub async fn drop_connect_result(&self, result_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connect_result_pk(result_id)))
            .key(keys::SK, s(keys::META))
            .send()
            .await
            .map_err(dynamo("DeleteItem"))?;
        Ok(())
    }

    /// Deletes up to `limit` results that expired before `now` unclaimed; returns how many.
    pub async fn sweep_connect_results(
        &self,
        now: DateTime<Utc>,
        limit: i32,
    ) -> Result<usize, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("#pk = :pk AND #sk < :now")
            .expression_attribute_names("#pk", keys::GSI1_PK)
            .expression_attribute_names("#sk", keys::GSI1_SK)
            .expression_attribute_values(":pk", s(keys::CONNECT_RESULTS))
            .expression_attribute_values(":now", s(keys::connect_result_expiry(&now, "")))
            .limit(limit)
            .send()
            .await
            .map_err(dynamo("Query"))?;
        let doomed: Vec<Write> = out
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|item| {
                let pk = item.get(keys::PK)?.as_s().ok()?.clone();
                Some(Write::Delete {
                    pk,
                    sk: keys::META.into(),
                })
            })
            .collect();
        let count = doomed.len();
        self.write_batch(doomed).await?;
        Ok(count)
    }

    /// Consumes the result and writes the connection, its tokens, its mailbox claim (when new)
    /// and its outbox entries in one transaction: either the app owns the connection and its
    /// first sync and event are on their way, or nothing changed and the claim can be retried.
    /// A lost condition (result already used, mailbox claimed or re-owned meanwhile, tokens
    /// replaced) is a [`StoreError::Conflict`].
    pub async fn attach_connection(&self, a: Attach<'_>) -> Result<(), StoreError> {
        let op = "TransactWriteItems";
        let put = |item: Item, condition: Option<&str>| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_owned))
        };
        let wrap = |p: Put| TransactWriteItem::builder().put(p).build();
        let mut items = Vec::with_capacity(4 + a.outbox.len());
        items.push(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&self.table)
                        .key(keys::PK, s(keys::connect_result_pk(a.result_id)))
                        .key(keys::SK, s(keys::META))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .map_err(dynamo(op))?,
                )
                .build(),
        );
        let (condition, version) = tokens_condition(a.previous_token_version);
        let mut tokens = put(tokens_item(&a.connection.id, a.tokens)?, Some(condition));
        if let Some(v) = version {
            tokens = tokens.expression_attribute_values(":v", n(v));
        }
        items.push(wrap(tokens.build().map_err(dynamo(op))?));
        let record = connection_item(a.connection)?;
        match a.previous_owner {
            None => {
                items.push(wrap(
                    put(record, Some("attribute_not_exists(pk)"))
                        .build()
                        .map_err(dynamo(op))?,
                ));
                items.push(wrap(
                    put(
                        mailbox_claim_item(a.connection),
                        Some("attribute_not_exists(pk)"),
                    )
                    .build()
                    .map_err(dynamo(op))?,
                ));
            }
            Some(owner) => items.push(wrap(
                put(record, Some("attribute_exists(pk) AND user_id = :owner"))
                    .expression_attribute_values(":owner", s(owner.as_str()))
                    .build()
                    .map_err(dynamo(op))?,
            )),
        }
        for entry in a.outbox {
            items.push(wrap(
                put(outbox_item(entry)?, None).build().map_err(dynamo(op))?,
            ));
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        conditional(op, result)?.map(drop).map_err(|_| {
            StoreError::Conflict(
                "the result was used, or the mailbox or its tokens changed meanwhile",
            )
        })
    }
}
