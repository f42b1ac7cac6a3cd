//! Idempotency records: one schema for every idempotent operation, at `CONN#{id}` /
//! `IDEM#{sha256(operation key)}`, expiring with `ttl`.
//!
//! A record starts `in_progress` with the request's fingerprint (`request_hash`) and ends
//! `completed` with the response to replay. A second request with the same key gets that response,
//! or [`IdempotencyStart::KeyReused`] when its fingerprint differs. An expired record the TTL
//! sweeper has not removed yet counts as absent.
//!
//! Bookings use the record as is ([`Store::begin_idempotent`], [`Store::complete_idempotent`]);
//! sends ([`super::sends`]) also fill the lease fields (`owner`, `lease_until`), `progress`, their
//! `status`, `attempts`, `error` and times, so one worker at a time owns a send, a successor can
//! resume it and the client can read where it stands.

use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::conditions::{conditional, ConditionLost};
use super::sends::{SendProgress, SendStatus};
use super::{from_item, keys, n, s, to_item, Store, StoreError};
use crate::domain::ConnectionId;

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

pub(super) const IN_PROGRESS: &str = "in_progress";
pub(super) const COMPLETED: &str = "completed";

/// The one idempotency record schema.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct IdempotencyRecord {
    pk: String,
    sk: String,
    entity: String,
    pub ttl: i64,
    pub request_hash: String,
    pub state: String,
    #[serde(default)]
    pub response: Option<serde_json::Value>,
    /// Epoch milliseconds until which `owner` holds the operation (leased operations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// How far a send got (sends only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<SendProgress>,
    /// Where a send stands (sends only; records written before sends were queued have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SendStatus>,
    /// How many workers took the send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// A failed send's problem document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

impl IdempotencyRecord {
    /// A fresh in-progress record for `key` that expires at `expires_at`.
    pub fn start(
        id: &ConnectionId,
        key: &str,
        request_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Self::start_for(id, keys::idempotency_sk(key), request_hash, expires_at)
    }

    /// The same, at sort key `sk` (a send's, built from its key's digest).
    pub fn start_for(
        id: &ConnectionId,
        sk: String,
        request_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            pk: keys::connection_pk(id),
            sk,
            entity: "idempotency".into(),
            ttl: expires_at.timestamp(),
            request_hash: request_hash.to_owned(),
            state: IN_PROGRESS.into(),
            response: None,
            lease_until: None,
            owner: None,
            progress: None,
            status: None,
            attempts: None,
            created_at: None,
            updated_at: None,
            error: None,
        }
    }
}

/// What writing a fresh record found.
pub(super) enum Claim {
    /// The record is written: this caller owns the operation.
    Claimed,
    /// A live record held the key but was gone by the time it was read back.
    Vanished,
    /// A live record holds the key: as it is.
    Existing(Box<IdempotencyRecord>),
}

/// What an existing record says about a new request with the same key.
pub(super) enum Existing {
    /// Another request body used this key.
    KeyReused,
    /// Finished: replay this response.
    Completed(serde_json::Value),
    /// Still running (or abandoned).
    InProgress,
}

impl Existing {
    fn of(record: IdempotencyRecord, request_hash: &str) -> Self {
        if record.request_hash != request_hash {
            Self::KeyReused
        } else if record.state == COMPLETED {
            Self::Completed(record.response.unwrap_or(serde_json::Value::Null))
        } else {
            Self::InProgress
        }
    }
}

impl Store {
    /// Writes `record` unless a live record holds its key, which is then returned as it is.
    pub(super) async fn claim_record(
        &self,
        record: &IdempotencyRecord,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record)?))
            .condition_expression("attribute_not_exists(pk) OR #ttl <= :now")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":now", n(now.timestamp()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        Ok(match conditional("PutItem", result)? {
            Ok(_) => Claim::Claimed,
            Err(ConditionLost { old: None }) => Claim::Vanished,
            Err(ConditionLost { old: Some(item) }) => Claim::Existing(Box::new(from_item(item)?)),
        })
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
        let record = IdempotencyRecord::start(id, key, request_hash, expires_at);
        let existing = match self.claim_record(&record, now).await? {
            Claim::Claimed => return Ok(IdempotencyStart::Started),
            Claim::Vanished => return Ok(IdempotencyStart::InProgress),
            Claim::Existing(old) => Existing::of(*old, request_hash),
        };
        Ok(match existing {
            Existing::KeyReused => IdempotencyStart::KeyReused,
            Existing::Completed(response) => IdempotencyStart::Completed { response },
            Existing::InProgress => IdempotencyStart::InProgress,
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
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::idempotency_sk(key)))
            .update_expression("SET #state = :done, #response = :response")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#response", "response")
            .expression_attribute_values(":done", s(COMPLETED))
            .expression_attribute_values(":response", response)
            .send()
            .await;
        conditional("UpdateItem", result)?
            .map(drop)
            .map_err(|_| StoreError::Conflict("idempotency record is gone"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_record_has_no_lease_attributes() {
        let id = ConnectionId::new_random();
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let item = to_item(&IdempotencyRecord::start(&id, "k", "h", at)).unwrap();
        let mut names: Vec<_> = item.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "entity",
                "pk",
                "request_hash",
                "response",
                "sk",
                "state",
                "ttl"
            ]
        );
    }

    #[test]
    fn an_existing_record_is_judged_by_fingerprint_then_state() {
        let id = ConnectionId::new_random();
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let record = || IdempotencyRecord::start(&id, "k", "h", at);
        assert!(matches!(
            Existing::of(record(), "other"),
            Existing::KeyReused
        ));
        assert!(matches!(Existing::of(record(), "h"), Existing::InProgress));
        let mut done = record();
        done.state = COMPLETED.into();
        done.response = Some(serde_json::json!({"id": 1}));
        assert!(
            matches!(Existing::of(done, "h"), Existing::Completed(r) if r == serde_json::json!({"id": 1}))
        );
    }
}
