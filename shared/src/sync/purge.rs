//! Purging a connection marked `deleting` (`DELETE /connections/{id}` and a tenant switched off
//! mark it; see `crate::connections::delete`). The purge is a [`SyncJob::Purge`] in the
//! connection's FIFO message group, so it runs after every sync job that was in flight when the
//! connection was marked, and every sync job queued behind it finds the connection `deleting` (or
//! gone) and writes nothing.
//!
//! One run, each step safe to repeat:
//!
//! 1. Graph subscriptions: deleted on Graph (a 404 is fine) with the connection's token, then
//!    their records. One that cannot be deleted (no usable token, Graph refuses) is noted on the
//!    connection and named in `connection.deleted`; it expires on its own (at most 7 days) and
//!    its notifications find no record. Graph throttling or an outage hands the job back to the
//!    queue ([`Outcome::RetryAfter`]) instead of giving up.
//! 2. Staged uploads: every object under the connection's prefix in the uploads bucket.
//! 3. Items, a page at a time ([`PAGE`] items of the connection's partition, with the counterpart
//!    index entries each message names, deleted first so a message never outlives its pointers'
//!    owner): BatchWriteItem deletes, [`IN_FLIGHT`] calls at once. Near the deadline the run
//!    enqueues a `Purge` for itself and stops ([`Outcome::Resumed`]).
//! 4. Last, in one transaction: the connection record (only while it is still `deleting`: a
//!    reconnect in between wins), the mailbox claim (only while it names this connection) and the
//!    outbox entry of `connection.deleted`, which is then delivered (what EventBridge refuses the
//!    scheduled drain delivers).
//!
//! What is not revoked: the refresh token. Microsoft offers an app no way to revoke a refresh
//! token it was issued under delegated permissions (no revocation endpoint; `revokeSignInSessions`
//! needs `User.RevokeSessions.All` and ends every session of the user in every app). The connector
//! deletes its encrypted copy; the token stops working after 90 days without use, or when the user
//! or an administrator revokes the app's consent or the user's sessions.

use chrono::Utc;
use tokio::time::Instant;

use super::{Outcome, Stats, SyncError, DEADLINE_MARGIN, OUTAGE_RETRY};
use crate::app::Connector;
use crate::domain::{Connection, ConnectionStatus};
use crate::graph::{GraphError, GraphPolicy};
use crate::outbox::{self, OutboxEntry};
use crate::queue::SyncJob;
use crate::store::connections::Unrevoked;
use crate::store::keys;
use crate::tokens::{self, TokenServiceError};

/// Items of the connection's partition read per page (DynamoDB stops earlier at 1 MB).
pub const PAGE: i32 = 1_000;
/// BatchWriteItem calls in flight while deleting a page: enough to keep a partition's write
/// capacity (1,000 units per second) busy without flooding it with retries.
pub const IN_FLIGHT: usize = 4;
/// S3 DeleteObjects takes at most 1,000 keys per call.
const S3_DELETE_MAX: usize = 1_000;

/// Why the refresh token is never on the revoked side (see the module docs).
pub const REFRESH_TOKEN_NOT_REVOKED: &str = "Microsoft offers no revocation of a refresh token \
     issued to an app under delegated permissions; the connector deleted its copy, which stops \
     working after 90 days unused or when the user's sessions or the app's consent are revoked";

/// Runs one purge job for `connection` (as read at the start of the job).
#[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
pub(super) async fn run(
    c: &Connector,
    connection: Connection,
    deadline: Instant,
) -> Result<Outcome, SyncError> {
    if connection.status != ConnectionStatus::Deleting {
        return Ok(Outcome::Skipped("connection is not being deleted"));
    }
    if let Some(delay) = revoke_subscriptions(c, &connection).await? {
        return Ok(Outcome::RetryAfter(delay));
    }
    delete_uploads(c, &connection).await?;
    let mut stats = Stats::default();
    let mut start = None;
    loop {
        if Instant::now() + DEADLINE_MARGIN >= deadline {
            let job = SyncJob::Purge {
                connection_id: connection.id.clone(),
            };
            let dedup = format!("purge:{}:{}", connection.id, Utc::now().timestamp_millis());
            c.queue
                .enqueue(&job, &dedup)
                .await
                .map_err(SyncError::Enqueue)?;
            tracing::info!(?stats, "deadline near; the purge continues in a new job");
            return Ok(Outcome::Resumed(stats));
        }
        // Within a run the pages follow each other; at the end of the partition the run looks
        // once more from its start with a consistent read, which must find nothing left.
        let last_look = start.is_none();
        let page = c
            .store
            .purge_page(&connection.id, start.take(), PAGE, last_look)
            .await?;
        stats.pages += 1;
        if last_look && page.items.is_empty() && page.next.is_none() {
            break;
        }
        stats.purged += page.items.len() + page.pointers.len();
        // Pointers first: a message is deleted only once the entries it names are.
        c.store.delete_keys(page.pointers, IN_FLIGHT).await?;
        c.store.delete_keys(page.items, IN_FLIGHT).await?;
        start = page.next;
    }
    let detail = deleted_event(c, &connection).await?;
    let entry = OutboxEntry::event("connection.deleted", &detail, Utc::now());
    if !c.store.finish_purge(&connection, &entry).await? {
        tracing::info!("the connection was reconnected while it was being deleted; kept");
        return Ok(Outcome::Skipped("connection was reconnected"));
    }
    if let Err(e) = outbox::deliver(c, std::slice::from_ref(&entry)).await {
        tracing::warn!(error = %crate::http::chain(&e), "connection.deleted left in the outbox");
    }
    tracing::info!(?stats, "connection purged");
    Ok(Outcome::Done(stats))
}

/// Deletes the connection's Graph subscriptions and their records. `Some(delay)` when Graph or the
/// identity platform is throttling or down: the job is to run again after that long.
async fn revoke_subscriptions(
    c: &Connector,
    connection: &Connection,
) -> Result<Option<std::time::Duration>, SyncError> {
    let records = c.store.connection_subscriptions(&connection.id).await?;
    if records.is_empty() {
        return Ok(None);
    }
    let token = match tokens::access_token(c, &connection.id).await {
        Ok(token) => Some(token),
        Err(TokenServiceError::Transient(_) | TokenServiceError::LeaseTimeout) => {
            return Ok(Some(std::time::Duration::from_secs(5)))
        }
        Err(e) => {
            tracing::warn!(error = %crate::http::chain(&e), "no access token to delete the subscriptions with");
            None
        }
    };
    let policy = GraphPolicy::cleanup();
    for record in records {
        let refused = match &token {
            Some(token) => match match crate::graph::graph_id(&record.id) {
                Ok(id) => policy.run(|| c.graph.delete_subscription(token, &id)).await,
                Err(e) => Err(e),
            } {
                Ok(()) => None,
                Err(e) if e.is_transient() => {
                    tracing::info!(subscription_id = %record.id, error = %e, "Graph could not delete the subscription now; later");
                    return Ok(Some(match e {
                        GraphError::Api {
                            retry_after: Some(after),
                            ..
                        } => after,
                        _ => OUTAGE_RETRY,
                    }));
                }
                Err(e) => Some(format!("Graph refused to delete it ({e})")),
            },
            None => Some(
                "no usable access token to delete it with (the connection needed reconnecting)"
                    .to_owned(),
            ),
        };
        if let Some(why) = refused {
            tracing::warn!(subscription_id = %record.id, %why, "subscription not deleted on Graph; it expires on its own");
            c.store
                .note_unrevoked(
                    &connection.id,
                    &Unrevoked {
                        what: "subscription".into(),
                        id: Some(record.id.clone()),
                        expires_at: Some(record.expires_at),
                        why,
                    },
                )
                .await?;
        }
        c.store.delete_subscription(&record.id).await?;
    }
    Ok(None)
}

/// Deletes every staged upload object of the connection (their records go with the items).
async fn delete_uploads(c: &Connector, connection: &Connection) -> Result<(), SyncError> {
    let Some(bucket) = c.config.uploads_bucket.as_deref() else {
        tracing::warn!(
            "no uploads bucket configured: staged uploads expire with the bucket's one-day rule"
        );
        return Ok(());
    };
    let prefix = keys::upload_object_prefix(&connection.id);
    fn uploads<E: std::error::Error + Send + Sync + 'static>(e: E) -> SyncError {
        SyncError::Uploads(Box::new(e))
    }
    let s3 = c.s3().map_err(uploads)?;
    loop {
        let listed = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&prefix)
            .max_keys(S3_DELETE_MAX as i32)
            .send()
            .await
            .map_err(uploads)?;
        let keys: Vec<String> = listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let objects = keys
            .iter()
            .map(|k| {
                aws_sdk_s3::types::ObjectIdentifier::builder()
                    .key(k)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(uploads)?;
        let delete = aws_sdk_s3::types::Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(uploads)?;
        let out = s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(uploads)?;
        if let Some(first) = out.errors().first() {
            return Err(SyncError::UploadsLeft {
                count: out.errors().len(),
                code: first.code().unwrap_or("unknown").to_owned(),
            });
        }
        tracing::info!(objects = keys.len(), "staged uploads deleted");
    }
}

/// The detail of `connection.deleted`: what the app may need to know, including what could not
/// be revoked.
async fn deleted_event(
    c: &Connector,
    connection: &Connection,
) -> Result<serde_json::Value, SyncError> {
    let mut not_revoked = vec![serde_json::json!({
        "what": "refresh_token",
        "why": REFRESH_TOKEN_NOT_REVOKED,
    })];
    let mut seen = std::collections::BTreeSet::new();
    for note in c.store.unrevoked(&connection.id).await? {
        if seen.insert(note.id.clone()) {
            not_revoked.push(serde_json::to_value(&note).unwrap_or_default());
        }
    }
    Ok(serde_json::json!({
        "event_id": format!("connection.deleted:{}", connection.id),
        "connection_id": connection.id,
        "user_id": connection.user_id,
        "not_revoked": not_revoked,
    }))
}
