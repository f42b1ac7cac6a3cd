//! Sending mail exactly once: the idempotency record of a keyed send, which remembers how far the
//! send got (draft id, `internetMessageId`, attachments done) so a retry after a crash can finish
//! the job; and the records of attachment uploads staged in S3.
//!
//! The record lives at the same key as [`Store::begin_idempotent`]'s (`CONN#{id}` /
//! `IDEM#{sha256(key)}`) and adds a lease: one worker owns an in-progress send at a time
//! (`owner`, `lease_until`). A request finding a live lease answers 409; one finding an expired
//! lease (the owner crashed) takes the record over with a conditional write and resumes. Every
//! progress write is conditional on still being the owner, so a worker that lost its lease can
//! never overwrite the progress of the one that took over.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{dynamo, from_item, keys, s, to_item, Store, StoreError};
use crate::domain::ConnectionId;

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

#[derive(Serialize, Deserialize)]
struct SendItem {
    pk: String,
    sk: String,
    entity: String,
    ttl: i64,
    request_hash: String,
    state: String,
    #[serde(default)]
    response: Option<serde_json::Value>,
    /// Epoch milliseconds until which `owner` holds the send.
    #[serde(default)]
    lease_until: i64,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    progress: Option<SendProgress>,
}

/// An attachment staged in S3 through a presigned PUT, waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub upload_id: String,
    pub connection_id: ConnectionId,
    pub s3_key: String,
    pub name: String,
    pub content_type: String,
    /// The size declared when the upload was created; the object must match it.
    pub size: u64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct UploadItem {
    pk: String,
    sk: String,
    entity: String,
    ttl: i64,
    #[serde(flatten)]
    record: UploadRecord,
}

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

fn is_condition_failure<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

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
        let item = to_item(&SendItem {
            pk: keys::connection_pk(id),
            sk: keys::idempotency_sk(key),
            entity: "idempotency".into(),
            ttl: expires_at.timestamp(),
            request_hash: request_hash.to_owned(),
            state: IN_PROGRESS.into(),
            response: None,
            lease_until,
            owner: owner.clone(),
            progress: Some(SendProgress {
                step: SendStep::Started,
                internet_message_id: internet_message_id.to_owned(),
                draft_id: None,
                conversation_id: None,
                attached: 0,
            }),
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
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let existing = match result {
            Ok(_) => return Ok(SendStart::Started { owner }),
            Err(e) => match e.into_service_error() {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => c.item,
                other => return Err(dynamo("PutItem")(other)),
            },
        };
        let Some(existing) = existing else {
            return Ok(SendStart::InProgress {
                retry_after_secs: 1,
            });
        };
        let existing: SendItem = from_item(existing)?;
        if existing.request_hash != request_hash {
            return Ok(SendStart::KeyReused);
        }
        if existing.state == COMPLETED {
            return Ok(SendStart::Completed {
                response: existing.response.unwrap_or(serde_json::Value::Null),
            });
        }
        let now_ms = now.timestamp_millis();
        if existing.lease_until > now_ms {
            let wait_ms = existing.lease_until - now_ms;
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
            .expression_attribute_values(":until", AttributeValue::N(lease_until.to_string()))
            .expression_attribute_values(":me", s(&owner))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":old", s(&existing.owner))
            .expression_attribute_values(
                ":old_until",
                AttributeValue::N(existing.lease_until.to_string()),
            )
            .send()
            .await;
        match taken {
            Ok(_) => Ok(SendStart::Resume {
                owner,
                progress: existing.progress.unwrap_or(SendProgress {
                    step: SendStep::Started,
                    internet_message_id: internet_message_id.to_owned(),
                    draft_id: None,
                    conversation_id: None,
                    attached: 0,
                }),
            }),
            Err(e) if is_condition_failure(&e) => Ok(SendStart::InProgress {
                retry_after_secs: 1,
            }),
            Err(e) => Err(dynamo("UpdateItem")(e)),
        }
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
            .expression_attribute_values(
                ":until",
                AttributeValue::N(lease_until.timestamp_millis().to_string()),
            )
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => {
                Err(StoreError::Conflict("another request took the send over"))
            }
            Err(e) => Err(dynamo("UpdateItem")(e)),
        }
    }

    /// Records the response of a finished send, if `owner` still holds it.
    pub async fn complete_send(
        &self,
        id: &ConnectionId,
        key: &str,
        owner: &str,
        response: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let response = serde_dynamo::to_attribute_value(response).map_err(StoreError::Corrupt)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::idempotency_sk(key)))
            .update_expression("SET #state = :done, #response = :response REMOVE lease_until")
            .condition_expression("#state = :in_progress AND #owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#response", "response")
            .expression_attribute_values(":done", s(COMPLETED))
            .expression_attribute_values(":response", response)
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => {
                Err(StoreError::Conflict("another request took the send over"))
            }
            Err(e) => Err(dynamo("UpdateItem")(e)),
        }
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
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(dynamo("UpdateItem")(e)),
        }
    }

    /// Records a staged upload (expires with its S3 object).
    pub async fn put_upload(&self, record: &UploadRecord) -> Result<(), StoreError> {
        let item = to_item(&UploadItem {
            pk: keys::connection_pk(&record.connection_id),
            sk: keys::upload_sk(&record.upload_id),
            entity: "upload".into(),
            ttl: record.expires_at.timestamp(),
            record: record.clone(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(dynamo("PutItem"))?;
        Ok(())
    }

    /// A connection's staged upload, unless unknown or expired.
    pub async fn get_upload(
        &self,
        id: &ConnectionId,
        upload_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UploadRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection_pk(id)))
            .key(keys::SK, s(keys::upload_sk(upload_id)))
            .send()
            .await
            .map_err(dynamo("GetItem"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let record = from_item::<UploadItem>(item)?.record;
        Ok((record.expires_at > now).then_some(record))
    }
}
