//! Attachment uploads: a presigned S3 PUT per file (`POST /connections/{id}/uploads`), and at send
//! time the object streamed to a Graph upload session in chunks, never whole in memory.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::request::{parse_content_type, parse_file_name, MAX_UPLOAD_SIZE};
use super::SendError;
use crate::app::Connector;
use crate::domain::ParseError;
use crate::domain::{ConnectionId, ConnectionStatus};
use crate::graph::GraphPolicy;
use crate::store::keys;
use crate::store::sends::UploadRecord;

/// Graph refuses upload sessions for attachments under 3 MB
/// (`ErrorAttachmentSizeShouldNotBeLessThanMinimumSize`); smaller staged files are attached with
/// one `POST .../attachments` each, whose base64 (4,000,000 characters at most) stays within
/// Graph's 4 MB request limit.
pub const UPLOAD_SESSION_MIN: u64 = 3_000_000;

/// How long the presigned URL works.
pub const UPLOAD_URL_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// How long a staged upload can wait to be sent (the bucket's lifecycle rule matches).
pub const UPLOAD_LIFETIME: chrono::Duration = chrono::Duration::days(1);

/// `POST /connections/{id}/uploads` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUpload {
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct UploadCreated {
    pub upload_id: String,
    pub upload_url: String,
    /// Headers the PUT must carry (they are part of the signature).
    pub upload_headers: std::collections::BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error("no such connection")]
    NotFound,
    #[error("the connection is {0}")]
    NotActive(String),
    #[error("the send-mail function has no uploads bucket")]
    NoBucket,
    #[error("the upload URL could not be signed")]
    Presign(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Unwired(#[from] crate::aws::Unwired),
}

/// Stages one attachment: records it and hands back a presigned PUT URL.
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn create_upload(
    c: &Connector,
    id: &ConnectionId,
    body: CreateUpload,
) -> Result<UploadCreated, UploadError> {
    let name = parse_file_name(&body.name, "name")?;
    let content_type = parse_content_type(&body.content_type, "content_type")?;
    if body.size == 0 || body.size > MAX_UPLOAD_SIZE {
        return Err(ParseError {
            field: "size".into(),
            reason: format!("must be 1 to {MAX_UPLOAD_SIZE} bytes"),
        }
        .into());
    }
    let bucket = c
        .config
        .uploads_bucket
        .as_deref()
        .ok_or(UploadError::NoBucket)?;
    let connection = c
        .store
        .get_connection(id)
        .await?
        .ok_or(UploadError::NotFound)?;
    if connection.status != ConnectionStatus::Active {
        return Err(UploadError::NotActive(status_name(connection.status)));
    }
    let now = Utc::now();
    let upload_id = uuid::Uuid::new_v4().to_string();
    let s3_key = keys::upload_object_key(id, &upload_id);
    let presigned = c
        .s3()?
        .put_object()
        .bucket(bucket)
        .key(&s3_key)
        .content_type(&content_type)
        .presigned(
            PresigningConfig::expires_in(UPLOAD_URL_LIFETIME)
                .map_err(|e| UploadError::Presign(Box::new(e)))?,
        )
        .await
        .map_err(|e| UploadError::Presign(Box::new(e)))?;
    c.store
        .put_upload(&UploadRecord {
            upload_id: upload_id.clone(),
            connection_id: id.clone(),
            s3_key,
            name,
            content_type,
            size: body.size,
            created_at: now,
            expires_at: now + UPLOAD_LIFETIME,
        })
        .await?;
    tracing::info!(size = body.size, "upload staged");
    Ok(UploadCreated {
        upload_id,
        upload_url: presigned.uri().to_owned(),
        upload_headers: presigned
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        expires_at: now
            + chrono::Duration::from_std(UPLOAD_URL_LIFETIME).unwrap_or(chrono::Duration::zero()),
    })
}

pub(crate) fn status_name(status: ConnectionStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{status:?}"))
}

/// Checks that the staged object exists with the declared size.
pub(crate) async fn check_object(
    c: &Connector,
    record: &UploadRecord,
    field: &str,
) -> Result<(), SendError> {
    let bucket = c
        .config
        .uploads_bucket
        .as_deref()
        .ok_or(SendError::NoBucket)?;
    let head = c
        .s3()?
        .head_object()
        .bucket(bucket)
        .key(&record.s3_key)
        .send()
        .await;
    match head {
        Ok(h) if h.content_length() == Some(record.size as i64) => Ok(()),
        Ok(h) => Err(SendError::Invalid(ParseError {
            field: field.to_owned(),
            reason: format!(
                "the uploaded file has {} bytes but {} were declared",
                h.content_length().unwrap_or(0),
                record.size
            ),
        })),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
            Err(SendError::Invalid(ParseError {
                field: field.to_owned(),
                reason: "nothing was uploaded to the upload URL yet".into(),
            }))
        }
        Err(e) => Err(SendError::S3(Box::new(e))),
    }
}

/// Streams the staged object to a Graph upload session, `chunk` bytes per PUT (Graph wants
/// multiples of 320 KiB under 4 MB). At most one chunk is buffered, plus the one in flight.
/// Public so the memory benchmark can drive the forwarding path alone.
pub async fn stream_to_graph(
    c: &Connector,
    record: &UploadRecord,
    upload_url: &str,
    chunk: usize,
    retry: &GraphPolicy,
) -> Result<(), SendError> {
    let object = staged_object(c, record).await?;
    let mut body = object.body;
    let mut buffer = bytes::BytesMut::with_capacity(chunk);
    let mut offset: u64 = 0;
    let total = record.size;
    loop {
        let next = body
            .try_next()
            .await
            .map_err(|e| SendError::S3(Box::new(e)))?;
        let done = next.is_none();
        if let Some(mut bytes) = next {
            while !bytes.is_empty() {
                let take = (chunk - buffer.len()).min(bytes.len());
                buffer.extend_from_slice(&bytes.split_to(take));
                if buffer.len() == chunk {
                    let part =
                        std::mem::replace(&mut buffer, bytes::BytesMut::with_capacity(chunk))
                            .freeze();
                    offset = put_range(c, upload_url, offset, total, part, retry).await?;
                }
            }
        }
        if done {
            break;
        }
    }
    if !buffer.is_empty() {
        offset = put_range(c, upload_url, offset, total, buffer.freeze(), retry).await?;
    }
    if offset != total {
        return Err(SendError::Invalid(ParseError {
            field: "attachments".into(),
            reason: format!("an uploaded file changed: {offset} bytes read, {total} declared"),
        }));
    }
    Ok(())
}

/// The staged object in the uploads bucket, as a stream.
async fn staged_object(
    c: &Connector,
    record: &UploadRecord,
) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, SendError> {
    let bucket = c
        .config
        .uploads_bucket
        .as_deref()
        .ok_or(SendError::NoBucket)?;
    c.s3()?
        .get_object()
        .bucket(bucket)
        .key(&record.s3_key)
        .send()
        .await
        .map_err(|e| SendError::S3(Box::new(e)))
}

/// Reads a staged object under [`UPLOAD_SESSION_MIN`] from S3 and encodes it for a
/// `fileAttachment`: the bytes are streamed into one buffer of the declared size, never more.
pub(crate) async fn read_small(c: &Connector, record: &UploadRecord) -> Result<String, SendError> {
    use base64::Engine as _;
    let object = staged_object(c, record).await?;
    let declared = usize::try_from(record.size.min(UPLOAD_SESSION_MIN)).unwrap_or(0);
    let mut body = object.body;
    let mut buffer = Vec::with_capacity(declared);
    while let Some(bytes) = body
        .try_next()
        .await
        .map_err(|e| SendError::S3(Box::new(e)))?
    {
        if buffer.len() + bytes.len() > declared {
            return Err(SendError::Invalid(ParseError {
                field: "attachments".into(),
                reason: "an uploaded file is larger than declared".into(),
            }));
        }
        buffer.extend_from_slice(&bytes);
    }
    if buffer.len() != declared {
        return Err(SendError::Invalid(ParseError {
            field: "attachments".into(),
            reason: format!(
                "an uploaded file changed: {} bytes read, {declared} declared",
                buffer.len()
            ),
        }));
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(&buffer))
}

async fn put_range(
    c: &Connector,
    upload_url: &str,
    offset: u64,
    total: u64,
    part: bytes::Bytes,
    retry: &GraphPolicy,
) -> Result<u64, SendError> {
    let len = part.len() as u64;
    if offset + len > total {
        return Err(SendError::Invalid(ParseError {
            field: "attachments".into(),
            reason: "an uploaded file is larger than declared".into(),
        }));
    }
    retry
        .run(|| {
            c.graph
                .upload_range(upload_url, offset, total, part.clone())
        })
        .await?;
    Ok(offset + len)
}
