//! The API side of a send: accepting it (validated, recorded `queued`, its request kept, its job
//! queued) and reading its status.

use chrono::Utc;

use super::payload::{self, Payload};
use super::queue::SendJob;
use super::status::SendStatusView;
use super::*;
use crate::store::keys;
use crate::store::sends::{QueueStart, SendRecord, SendStatus};

/// A send the API accepted: its status resource, and whether an earlier request with the same
/// key had accepted it.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub key: IdempotencyKey,
    pub status: SendStatusView,
    pub replayed: bool,
}

/// Accepts a send (or a reply): checks everything that can be refused now, records it `queued`
/// and queues its job. `raw` is the request body as received (kept for the worker), `message`
/// the same body parsed; without a `key` the connector makes one (returned in the answer).
#[tracing::instrument(skip_all, fields(connection_id = %id, keyed = key.is_some()))]
pub async fn accept(
    c: &Connector,
    id: &ConnectionId,
    kind: SendKind,
    raw: serde_json::Value,
    message: &OutgoingMessage,
    key: Option<IdempotencyKey>,
) -> Result<Accepted, SendError> {
    let request_hash = fingerprint(&kind, &raw);
    let now = Utc::now();
    let key = match key {
        Some(key) => {
            let digest = keys::digest(key.as_str());
            if let Some(existing) = c.store.get_send(id, &digest, now).await? {
                return replay(c, id, key, kind, raw, existing, &request_hash).await;
            }
            key
        }
        None => IdempotencyKey::generate(),
    };
    let connection = sender(c, id).await?;
    check_uploads(c, id, message).await?;
    let digest = keys::digest(key.as_str());
    let imid = internet_message_id(&connection, &key);
    let queued = c
        .store
        .queue_send(
            id,
            &digest,
            &request_hash,
            &imid,
            now,
            now + IDEMPOTENCY_TTL,
        )
        .await?;
    match queued {
        QueueStart::KeyReused => Err(SendError::KeyReused),
        // A concurrent request with the same key got there first.
        QueueStart::Existing(existing) => {
            replay(c, id, key, kind, raw, existing, &request_hash).await
        }
        QueueStart::Queued(record) => {
            dispatch(c, id, &digest, kind, raw).await?;
            tracing::info!("send queued");
            Ok(Accepted {
                status: SendStatusView::of(&key, &record),
                key,
                replayed: false,
            })
        }
    }
}

/// A request with the key of an existing send: that send's status. A send still `queued` may be
/// one whose accepting request stopped between its record and its job: its request is kept and
/// its job queued again (a second job is harmless: one worker at a time takes a send, and a
/// finished one is not sent again).
async fn replay(
    c: &Connector,
    id: &ConnectionId,
    key: IdempotencyKey,
    kind: SendKind,
    raw: serde_json::Value,
    existing: SendRecord,
    request_hash: &str,
) -> Result<Accepted, SendError> {
    if existing.request_hash != request_hash {
        return Err(SendError::KeyReused);
    }
    if existing.status == SendStatus::Queued {
        dispatch(c, id, &keys::digest(key.as_str()), kind, raw).await?;
    }
    tracing::info!(status = ?existing.status, "replayed a send's status");
    Ok(Accepted {
        status: SendStatusView::of(&key, &existing),
        key,
        replayed: true,
    })
}

/// Keeps the request for the worker, then queues the job naming the send.
async fn dispatch(
    c: &Connector,
    id: &ConnectionId,
    digest: &str,
    kind: SendKind,
    body: serde_json::Value,
) -> Result<(), SendError> {
    payload::put(c, id, digest, &Payload { kind, body }).await?;
    let queue = c.send_queue.as_ref().ok_or(SendError::NoQueue)?;
    queue
        .enqueue(&SendJob {
            connection_id: id.clone(),
            send: digest.to_owned(),
        })
        .await
        .map_err(SendError::Enqueue)
}

/// Every staged upload the message names exists for this connection, with its declared size
/// (the worker checks again before attaching).
async fn check_uploads(
    c: &Connector,
    id: &ConnectionId,
    message: &OutgoingMessage,
) -> Result<(), SendError> {
    for a in &message.attachments {
        if let AttachmentSpec::Upload { upload_id, field } = a {
            let record = c
                .store
                .get_upload(id, upload_id, Utc::now())
                .await?
                .ok_or_else(|| ParseError {
                    field: field.clone(),
                    reason: "no such upload for this connection (or it expired)".into(),
                })?;
            uploads::check_object(c, &record, field).await?;
        }
    }
    Ok(())
}

/// The status resource of a connection's send.
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn status(
    c: &Connector,
    id: &ConnectionId,
    key: &IdempotencyKey,
) -> Result<SendStatusView, SendError> {
    let record = c
        .store
        .get_send(id, &keys::digest(key.as_str()), Utc::now())
        .await?
        .ok_or(SendError::UnknownSend)?;
    Ok(SendStatusView::of(key, &record))
}
