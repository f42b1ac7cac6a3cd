//! Sending mail exactly once: the idempotency record of a keyed send, which remembers how far the
//! send got (draft id, `internetMessageId`, attachments done) so a retry after a crash can finish
//! the job.
//!
//! The record is the one idempotency schema of [`super::idempotency`] (`CONN#{id}` /
//! `IDEM#{sha256(key)}`) with its lease filled in: one worker owns an in-progress send at a time
//! (`owner`, `lease_until`). A request finding a live lease answers 409; one finding an expired
//! lease (the owner crashed) takes the record over with a conditional write and resumes. Every
//! progress write is conditional on still being the owner, so a worker that lost its lease can
//! never overwrite the progress of the one that took over.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::conditions::conditional;
use super::idempotency::{Existing, IdempotencyRecord, IN_PROGRESS};
use super::{keys, n, s, Store, StoreError};
use crate::domain::ConnectionId;

pub use super::uploads::UploadRecord;

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
    fn started(internet_message_id: &str) -> Self {
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

/// The outcome of trying to start (or resume) a keyed send.
#[derive(Debug, Clone, PartialEq)]
pub enum SendStart {
    /// A fresh record; this caller owns the send.
    Started { owner: String },
    /// A crashed or abandoned send; this caller took it over and continues from `progress`.
    Resume {
        owner: String,
        progress: SendProgress,
    },
    /// Another request is working on it right now.
    InProgress { retry_after_secs: u64 },
    /// Done before: the recorded response.
    Completed { response: serde_json::Value },
    /// The key was used before with a different request.
    KeyReused,
}

const TAKEN_OVER: &str = "another request took the send over";

impl Store {
    /// Starts a keyed send, or resumes one whose owner's lease ran out, or reports why not.
    #[allow(clippy::too_many_arguments)]
    pub async fn begin_send(
        &self,
        id: &ConnectionId,
        key: &str,
        request_hash: &str,
        internet_message_id: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        expires_at: DateTime<Utc>,
    ) -> Result<SendStart, StoreError> {
        let owner = uuid::Uuid::new_v4().to_string();
        let lease_until = (now + lease).timestamp_millis();
        let mut record = IdempotencyRecord::start(id, key, request_hash, expires_at);
        record.lease_until = Some(lease_until);
        record.owner = Some(owner.clone());
        record.progress = Some(SendProgress::started(internet_message_id));
        let existing = match self.claim_idempotency(&record, now).await? {
            None => return Ok(SendStart::Started { owner }),
            Some(None) => {
                return Ok(SendStart::InProgress {
                    retry_after_secs: 1,
                })
            }
            Some(Some(Existing::KeyReused)) => return Ok(SendStart::KeyReused),
            Some(Some(Existing::Completed(response))) => {
                return Ok(SendStart::Completed { response })
            }
            Some(Some(Existing::InProgress(existing))) => existing,
        };
        let now_ms = now.timestamp_millis();
        let old_until = existing.lease_until.unwrap_or(0);
        if old_until > now_ms {
            let wait_ms = old_until - now_ms;
            return Ok(SendStart::InProgress {
                retry_after_secs: u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1),
            });
        }
        // The owner's lease ran out: take the send over, unless someone else just did.
        let taken = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::idempotency_sk(key)))
            .update_expression("SET lease_until = :until, #owner = :me")
            .condition_expression(
                "#state = :in_progress AND #owner = :old AND lease_until = :old_until",
            )
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":until", n(lease_until))
            .expression_attribute_values(":me", s(&owner))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":old", s(existing.owner.unwrap_or_default()))
            .expression_attribute_values(":old_until", n(old_until))
            .send()
            .await;
        Ok(match conditional("UpdateItem", taken)? {
            Ok(_) => SendStart::Resume {
                owner,
                progress: existing
                    .progress
                    .unwrap_or_else(|| SendProgress::started(internet_message_id)),
            },
            Err(_) => SendStart::InProgress {
                retry_after_secs: 1,
            },
        })
    }

    /// Records progress and renews the lease, if `owner` still holds the send.
    pub async fn record_send_progress(
        &self,
        id: &ConnectionId,
        key: &str,
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
            .key(keys::SK, s(keys::idempotency_sk(key)))
            .update_expression("SET progress = :p, lease_until = :until")
            .condition_expression("#state = :in_progress AND #owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":p", value)
            .expression_attribute_values(":until", n(lease_until.timestamp_millis()))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        conditional("UpdateItem", result)?
            .map(drop)
            .map_err(|_| StoreError::Conflict(TAKEN_OVER))
    }

    /// Records the response of a finished send, if `owner` still holds it.
    pub async fn complete_send(
        &self,
        id: &ConnectionId,
        key: &str,
        owner: &str,
        response: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.finish_idempotency(id, key, Some(owner), response)
            .await?
            .map_err(|_| StoreError::Conflict(TAKEN_OVER))
    }

    /// Gives up the lease after a failure, keeping the progress, so a retry resumes at once.
    pub async fn release_send(
        &self,
        id: &ConnectionId,
        key: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::idempotency_sk(key)))
            .update_expression("SET lease_until = :zero")
            .condition_expression("#state = :in_progress AND #owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        // Someone else owns it now (or it finished): nothing of ours to release.
        let _lost = conditional("UpdateItem", result)?;
        Ok(())
    }
}
