//! Sending mail exactly once: the record of one send, from the request that queued it to its
//! outcome.
//!
//! A send is an idempotency record ([`super::idempotency`]: `CONN#{id}` /
//! `IDEM#{sha256(key)}`) with the send's own attributes: its `status` (`queued`, `sending`,
//! `sent`, `failed`), how far it got in the mailbox (`progress`: the `internetMessageId` chosen
//! before anything exists, the draft, attachments done, when `/send` was called), how many
//! workers took it (`attempts`), the outcome (`response` for a sent message, `error` for a
//! failed one: a problem document) and its times. Every send has a key: the client's
//! `Idempotency-Key` or one the connector generated; only its SHA-256 is stored (and queued).
//!
//! The API function writes the record `queued` ([`Store::queue_send`]). A worker takes it with a
//! lease (`owner`, `lease_until`, [`Store::take_send`]): one worker at a time owns a send, and a
//! worker that finds a live lease leaves the send to its holder. A worker that died (its lease ran
//! out) is succeeded by the next receive of its job, which takes the record over and resumes.
//! Every write after that is conditional on still being the owner, so a worker that lost its
//! lease can never overwrite the progress or outcome of the one that took over.
//!
//! No worker sends without a live record: a job whose record is gone (expired) is dropped. The
//! record outlives every job that can still run (README, "Sending mail exactly once").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::conditions::conditional;
use super::idempotency::{Claim, IdempotencyRecord, COMPLETED, IN_PROGRESS};
use super::{from_item, keys, n, s, Store, StoreError};
use crate::domain::ConnectionId;

pub use super::uploads::UploadRecord;

/// Where a send is, as its status resource reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendStatus {
    /// Accepted and waiting for a worker (also between attempts that never got going).
    Queued,
    /// A worker took it; it may be retried after a transient failure.
    Sending,
    /// Exchange accepted it (`response` says which message).
    Sent,
    /// Refused for good (`error` says why); nothing was sent.
    Failed,
}

impl SendStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

/// How far a send got. Only ever moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendStep {
    /// Nothing known to exist in the mailbox yet.
    Started,
    /// The draft exists (with its inline attachments); `attached` more have been added.
    DraftCreated,
    /// `/send` was (or is about to be) called: never create another draft from here on.
    Sending,
}

/// The recorded progress of a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendProgress {
    pub step: SendStep,
    /// The `internetMessageId` the draft was created with, fixed before anything is created.
    pub internet_message_id: String,
    #[serde(default)]
    pub draft_id: Option<String>,
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// Attachments added to the draft after it was created (uploads, large inline files).
    #[serde(default)]
    pub attached: u32,
    /// When `/send` was (about to be) called: a draft still in Drafts long after it was never
    /// submitted (Exchange submits asynchronously, within seconds).
    #[serde(default)]
    pub sending_since: Option<DateTime<Utc>>,
}

impl SendProgress {
    pub fn started(internet_message_id: &str) -> Self {
        Self {
            step: SendStep::Started,
            internet_message_id: internet_message_id.to_owned(),
            draft_id: None,
            conversation_id: None,
            attached: 0,
            sending_since: None,
        }
    }
}

/// One send as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SendRecord {
    pub status: SendStatus,
    /// Fingerprint of the request that queued it ([`crate::sending::fingerprint`]).
    pub request_hash: String,
    pub progress: SendProgress,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A sent message: `{id, internet_message_id, conversation_id}`.
    pub response: Option<serde_json::Value>,
    /// A failed send: the problem document.
    pub error: Option<serde_json::Value>,
}

impl SendRecord {
    /// The send an idempotency record holds; `None` for records of other operations.
    fn of(record: IdempotencyRecord) -> Option<Self> {
        let progress = record.progress?;
        let status = match (record.status, record.state.as_str()) {
            (Some(status), _) => status,
            // Written before sends were queued: done in the request, or interrupted in it.
            (None, COMPLETED) => SendStatus::Sent,
            (None, _) => SendStatus::Sending,
        };
        let created_at = record.created_at.unwrap_or_else(Utc::now);
        Some(Self {
            status,
            request_hash: record.request_hash,
            progress,
            attempts: record.attempts.unwrap_or(0),
            created_at,
            updated_at: record.updated_at.unwrap_or(created_at),
            response: record.response,
            error: record.error,
        })
    }
}

/// The outcome of queueing a send.
#[derive(Debug, Clone, PartialEq)]
pub enum QueueStart {
    /// A fresh record, `queued`.
    Queued(SendRecord),
    /// A send with this key exists (same fingerprint): the record as it is.
    Existing(SendRecord),
    /// The key was used before with a different request (or for another operation).
    KeyReused,
}

/// What a worker found when it tried to take a send.
#[derive(Debug, Clone, PartialEq)]
pub enum Take {
    /// The send is this worker's until it finishes, releases it or its lease runs out.
    Taken {
        owner: String,
        record: Box<SendRecord>,
        /// An earlier worker took it before (it may have created things in the mailbox).
        resumed: bool,
    },
    /// Sent or failed already.
    Finished,
    /// Another worker holds a lease until then.
    Busy { until: DateTime<Utc> },
    /// No live record (never queued, or expired): nothing may be sent for it.
    Missing,
}

/// How a send ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    /// `{id, internet_message_id, conversation_id}` of the sent message.
    Sent(serde_json::Value),
    /// The problem document.
    Failed(serde_json::Value),
}

const TAKEN_OVER: &str = "another worker took the send over";

impl Store {
    /// Writes a new send `queued`, unless a live record holds the key.
    #[allow(clippy::too_many_arguments)]
    pub async fn queue_send(
        &self,
        id: &ConnectionId,
        key_digest: &str,
        request_hash: &str,
        internet_message_id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<QueueStart, StoreError> {
        let queued = SendRecord {
            status: SendStatus::Queued,
            request_hash: request_hash.to_owned(),
            progress: SendProgress::started(internet_message_id),
            attempts: 0,
            created_at: now,
            updated_at: now,
            response: None,
            error: None,
        };
        let mut record = IdempotencyRecord::start_for(
            id,
            keys::idempotency_sk_for_digest(key_digest),
            request_hash,
            expires_at,
        );
        record.status = Some(queued.status);
        record.attempts = Some(queued.attempts);
        record.created_at = Some(now);
        record.updated_at = Some(now);
        record.progress = Some(queued.progress.clone());
        Ok(match self.claim_record(&record, now).await? {
            Claim::Claimed => QueueStart::Queued(queued),
            // The record vanished between the write and its answer: a retry sorts it out.
            Claim::Vanished => return Err(StoreError::Conflict("the send record changed; retry")),
            Claim::Existing(old) if old.request_hash != request_hash => QueueStart::KeyReused,
            Claim::Existing(old) => match SendRecord::of(*old) {
                Some(existing) => QueueStart::Existing(existing),
                None => QueueStart::KeyReused,
            },
        })
    }

    /// A send by its key's digest, unless unknown, expired or another operation's record.
    pub async fn get_send(
        &self,
        id: &ConnectionId,
        key_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SendRecord>, StoreError> {
        let item = self
            .get_item(
                keys::connection_pk(id),
                keys::idempotency_sk_for_digest(key_digest),
                true,
            )
            .await?;
        let Some(item) = item else {
            return Ok(None);
        };
        let record: IdempotencyRecord = from_item(item)?;
        if record.ttl <= now.timestamp() {
            return Ok(None);
        }
        Ok(SendRecord::of(record))
    }

    /// Takes a queued (or released, or abandoned) send for one attempt: `sending`, one attempt
    /// more, a lease until `now + lease`.
    pub async fn take_send(
        &self,
        id: &ConnectionId,
        key_digest: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Take, StoreError> {
        let owner = uuid::Uuid::new_v4().to_string();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::idempotency_sk_for_digest(key_digest)))
            .update_expression(
                "SET #owner = :me, lease_until = :until, #status = :sending, \
                 attempts = if_not_exists(attempts, :zero) + :one, updated_at = :now",
            )
            .condition_expression(
                "#state = :in_progress AND #ttl > :now_s \
                 AND (attribute_not_exists(lease_until) OR lease_until <= :now_ms)",
            )
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":me", s(&owner))
            .expression_attribute_values(":until", n((now + lease).timestamp_millis()))
            .expression_attribute_values(":sending", s(SendStatus::Sending.as_str()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":now_s", n(now.timestamp()))
            .expression_attribute_values(":now_ms", n(now.timestamp_millis()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        let old = match conditional("UpdateItem", result)? {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(_) => {
                // Why not: read it (consistently) to tell a finished send from a busy one.
                let item = self
                    .get_item(
                        keys::connection_pk(id),
                        keys::idempotency_sk_for_digest(key_digest),
                        true,
                    )
                    .await?;
                let Some(item) = item else {
                    return Ok(Take::Missing);
                };
                let record: IdempotencyRecord = from_item(item)?;
                return Ok(if record.ttl <= now.timestamp() {
                    Take::Missing
                } else if record.state == COMPLETED {
                    Take::Finished
                } else {
                    let until = record.lease_until.unwrap_or(0);
                    Take::Busy {
                        until: DateTime::from_timestamp_millis(until).unwrap_or(now),
                    }
                });
            }
        };
        let old: IdempotencyRecord = from_item(old)?;
        let resumed = old.status != Some(SendStatus::Queued);
        let mut record = SendRecord::of(old).ok_or(StoreError::CorruptAttribute("progress"))?;
        record.status = SendStatus::Sending;
        record.attempts += 1;
        record.updated_at = now;
        Ok(Take::Taken {
            owner,
            record: Box::new(record),
            resumed,
        })
    }

    /// Records progress and renews the lease, if `owner` still holds the send.
    pub async fn record_send_progress(
        &self,
        id: &ConnectionId,
        key_digest: &str,
        owner: &str,
        progress: &SendProgress,
        lease_until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let value = serde_dynamo::to_attribute_value(progress).map_err(StoreError::Corrupt)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::idempotency_sk_for_digest(key_digest)))
            .update_expression("SET progress = :p, lease_until = :until, updated_at = :now")
            .condition_expression("#state = :in_progress AND #owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":p", value)
            .expression_attribute_values(":until", n(lease_until.timestamp_millis()))
            .expression_attribute_values(":now", s(timestamp(Utc::now())))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        conditional("UpdateItem", result)?
            .map(drop)
            .map_err(|_| StoreError::Conflict(TAKEN_OVER))
    }

    /// Records how a send ended, if `owner` still holds it; the record then lives until
    /// `expires_at`, so the outcome can be read (and the key replayed) that long.
    pub async fn finish_send(
        &self,
        id: &ConnectionId,
        key_digest: &str,
        owner: &str,
        finish: &Finish,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (status, name, value) = match finish {
            Finish::Sent(v) => (SendStatus::Sent, "response", v),
            Finish::Failed(v) => (SendStatus::Failed, "error", v),
        };
        let value = serde_dynamo::to_attribute_value(value).map_err(StoreError::Corrupt)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::idempotency_sk_for_digest(key_digest)))
            .update_expression(
                "SET #state = :done, #status = :status, #outcome = :outcome, updated_at = :now, \
                 #ttl = :ttl REMOVE lease_until",
            )
            .condition_expression("#state = :in_progress AND #owner = :me")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#outcome", name)
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":done", s(COMPLETED))
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":outcome", value)
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":ttl", n(expires_at.timestamp()))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        conditional("UpdateItem", result)?
            .map(drop)
            .map_err(|_| StoreError::Conflict(TAKEN_OVER))
    }

    /// Gives up the lease after a transient failure, keeping the progress, so the job's next
    /// receive resumes at once.
    pub async fn release_send(
        &self,
        id: &ConnectionId,
        key_digest: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::idempotency_sk_for_digest(key_digest)))
            .update_expression("SET lease_until = :zero, updated_at = :now")
            .condition_expression("#state = :in_progress AND #owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":now", s(timestamp(Utc::now())))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        // Someone else owns it now (or it finished): nothing of ours to release.
        let _lost = conditional("UpdateItem", result)?;
        Ok(())
    }
}

/// Times as serde stores them (RFC 3339), so items written by updates read back like the rest.
fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
