//! Attachment uploads staged in S3 (`CONN#{id}` / `UPLOAD#{upload id}`, expiring with the object).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{from_item, keys, to_item, Store, StoreError};
use crate::domain::ConnectionId;

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

impl Store {
    /// Records a staged upload (expires with its S3 object).
    pub async fn put_upload(&self, record: &UploadRecord) -> Result<(), StoreError> {
        let item = to_item(&UploadItem {
            pk: keys::connection_pk(&record.connection_id),
            sk: keys::upload_sk(&record.upload_id),
            entity: "upload".into(),
            ttl: record.expires_at.timestamp(),
            record: record.clone(),
        })?;
        self.put_new(item, "upload exists").await
    }

    /// A connection's staged upload, unless unknown or expired.
    pub async fn get_upload(
        &self,
        id: &ConnectionId,
        upload_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UploadRecord>, StoreError> {
        let item = self
            .get_item(keys::connection_pk(id), keys::upload_sk(upload_id), false)
            .await?;
        let Some(item) = item else {
            return Ok(None);
        };
        let record = from_item::<UploadItem>(item)?.record;
        Ok((record.expires_at > now).then_some(record))
    }
}
