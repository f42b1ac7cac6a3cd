//! The request of a queued send, kept until the send is over.
//!
//! A send's body may be up to 6 MB (3 MB of inline attachments in base64, Lambda's 6 MB request
//! payload), far over DynamoDB's 400 KB item limit and SQS's 256 KiB message limit, so it goes to
//! the uploads bucket as one object, `send-{connection}/{sha256(key)}`: private (public access
//! blocked, owner-enforced), encrypted at rest (SSE-S3), expired by the bucket's one-day
//! lifecycle rule and deleted by the worker as soon as the send is sent or failed. Splitting it
//! over DynamoDB items would cost a write unit per KB (about 6,000 for a full body) and keep
//! message bodies in the table's point-in-time-recovery backups for 35 days; the connector never
//! stores message bodies in the table.

use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};

use super::{SendError, SendKind};
use crate::app::Connector;
use crate::domain::ConnectionId;
use crate::store::keys;

/// What the worker needs to redo the request: its route and its body as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub kind: SendKind,
    pub body: serde_json::Value,
}

fn bucket(c: &Connector) -> Result<&str, SendError> {
    c.config
        .uploads_bucket
        .as_deref()
        .ok_or(SendError::NoBucket)
}

/// Stores a send's request (again, for a replay: the same bytes).
pub async fn put(
    c: &Connector,
    id: &ConnectionId,
    key_digest: &str,
    payload: &Payload,
) -> Result<(), SendError> {
    let bytes = serde_json::to_vec(payload).map_err(|e| SendError::Payload(Some(e)))?;
    c.s3()?
        .put_object()
        .bucket(bucket(c)?)
        .key(keys::send_payload_object_key(id, key_digest))
        .content_type("application/json")
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| SendError::S3(Box::new(e)))?;
    Ok(())
}

/// A send's request, `None` when there is none (any more).
pub async fn get(
    c: &Connector,
    id: &ConnectionId,
    key_digest: &str,
) -> Result<Option<Payload>, SendError> {
    let object = c
        .s3()?
        .get_object()
        .bucket(bucket(c)?)
        .key(keys::send_payload_object_key(id, key_digest))
        .send()
        .await;
    let object = match object {
        Ok(o) => o,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(SendError::S3(Box::new(e))),
    };
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| SendError::S3(Box::new(e)))?
        .into_bytes();
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| SendError::Payload(Some(e)))
}

/// Deletes a finished send's request. Best effort: the lifecycle rule removes what is left.
pub async fn delete(c: &Connector, id: &ConnectionId, key_digest: &str) {
    let (Ok(bucket), Ok(s3)) = (bucket(c), c.s3()) else {
        return;
    };
    let deleted = s3
        .delete_object()
        .bucket(bucket)
        .key(keys::send_payload_object_key(id, key_digest))
        .send()
        .await;
    if let Err(e) = deleted {
        tracing::warn!(error = %crate::http::chain(&e), "could not delete a finished send's request; the bucket's lifecycle rule will");
    }
}
