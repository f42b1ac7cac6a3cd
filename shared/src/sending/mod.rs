//! Sending mail as the user, exactly once, in the background.
//!
//! A send takes two functions. The API function ([`accept`]) validates the request, records the
//! send `queued` under its idempotency key (the client's `Idempotency-Key`, or one it generates),
//! keeps the request in the uploads bucket ([`payload`]) and queues a job naming the send
//! ([`queue`]); the client gets 202 and the send's status resource ([`status`]) at once, however
//! long the send will take. The worker ([`worker::run_job`], an SQS-triggered function) does the
//! send as a sequence of recorded steps ([`job`]):
//!
//! A message is created as a draft with an `internetMessageId` the connector chose (derived from
//! the connection and the key), attachments are added, then the draft is sent. Graph's `/send`
//! acts on one draft, which can be sent only once, so the dangerous window is the crash: between
//! any two steps the send's record ([`crate::store::sends`]) says how far it got, and the next
//! worker reconciles with the mailbox before doing anything:
//!
//! - the draft is still in Drafts (found by `internetMessageId`) -> finish attaching, send it;
//! - it is in Sent Items -> it was sent: report it, send nothing;
//! - it is nowhere and `/send` was never called -> start again with a new draft;
//! - `/send` may have been called and the draft is still in Drafts -> Exchange may be submitting
//!   it (it moves the draft to Sent Items after answering 202): wait for it to leave Drafts; a
//!   draft still there [`SendSettings::submission_grace`] after `/send` was never submitted and is
//!   sent; before that the outcome is not known yet (the job is retried later);
//! - `/send` may have been called and the draft is nowhere -> it was submitted: a draft leaves
//!   Drafts only by being sent (or deleted by the user). Without a Sent Items copy
//!   (`save_to_sent_items: false`: the draft carries `PidTagDeleteAfterSubmit`) that is the
//!   normal end; with one, Exchange may still hold it in the Outbox, so the worker waits for the
//!   grace period before calling it sent.
//!
//! `/send` itself is retried only when Graph refused it (429, 503): after a lost response or an
//! outage mid-request it may have been accepted, and a second `/send` could send twice. A refusal
//! no retry changes (a recipient Exchange rejects, a message over the mailbox's size limit, a
//! full mailbox, a blocked sender: every answer but `unavailable` and `internal`) ends the send
//! `failed` with its problem at once; transient failures (throttling, outages) end the attempt,
//! and the job comes back after a backoff, at most [`SendSettings::max_attempts`] times.

mod accept;
mod draft;
mod job;
pub mod payload;
pub mod queue;
pub mod request;
pub mod status;
pub mod uploads;
pub mod worker;

use std::sync::Arc;

use chrono::Utc;
use secrecy::SecretString;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app::Connector;
use crate::domain::{Capability, Connection, ConnectionId, ConnectionStatus, TenantAccess};
use crate::domain::{IdempotencyKey, ParseError};
use crate::graph::send::{
    Address, Body, DraftMessage, FileAttachment, Folder, Header, MessageRef, Recipient,
    DELETE_AFTER_SUBMIT,
};
use crate::graph::{GraphError, GraphPolicy};
use crate::store::sends::{SendProgress, SendStep, UploadRecord};
use crate::store::StoreError;
use crate::tokens::TokenServiceError;
pub use accept::{accept, status, Accepted};
pub use queue::{SendJob, SendQueue};
pub use request::{fingerprint, SendBody, SendKind};
use request::{AttachmentSpec, BodyType, Mailbox, OutgoingMessage};
pub use status::SendStatusView;
pub use worker::{run_job, JobOutcome};

/// How long a send's record lives after it was queued, and again after it ended: the window in
/// which the same key finds the same send. Longer than any job can wait on the queue.
pub const IDEMPOTENCY_TTL: chrono::Duration = chrono::Duration::hours(24);
/// Inline attachments travel inside the draft-creation request while its base64 stays under this
/// (Graph refuses request bodies over 4 MB); beyond it each is added with its own request.
const INLINE_IN_DRAFT_LIMIT: usize = 3 * 1024 * 1024;

/// Where a test may "crash" the send (return without recording anything more, as a killed
/// Lambda would), to prove that the next worker finishes the job exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Graph created the draft; nothing recorded yet.
    DraftCreated,
    /// Graph accepted one more attachment; not recorded yet.
    Attached,
    /// Graph accepted `/send`; the response is not recorded yet.
    Sent,
}

/// A hook called after each step; an `Err` aborts the send on the spot.
pub trait StepHook: Send + Sync {
    fn after(&self, step: Step) -> Result<(), Crash>;
}

/// An injected crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("crash injected after {0:?}")]
pub struct Crash(pub Step);

/// How the send worker behaves; `Default` is production.
#[derive(Clone)]
pub struct SendSettings {
    /// How long one worker owns a send; a dead worker's send is resumed after at most this long.
    /// Longer than the worker's timeout, shorter than the queue's visibility timeout.
    pub lease: chrono::Duration,
    /// How Graph calls of a send are retried ([`GraphPolicy::sending`] in production).
    pub retry: GraphPolicy,
    /// Bytes per upload-session PUT: a multiple of 320 KiB under 4 MB.
    pub chunk_size: usize,
    /// How long a resumed send waits for a draft whose `/send` may have been accepted to leave
    /// Drafts (Exchange submits after answering 202), polling every `submission_poll`.
    pub submission_wait: std::time::Duration,
    pub submission_poll: std::time::Duration,
    /// A draft still in Drafts this long after `/send` was called was never submitted: only then
    /// is it sent again. A draft gone from Drafts with no copy in Sent Items this long after was
    /// submitted. Before, the outcome is unknown and the job comes back later.
    pub submission_grace: chrono::Duration,
    /// Attempts (workers taking the send) after which a transient failure ends the send
    /// `failed`, unless `/send` may have been accepted.
    pub max_attempts: u32,
    /// Wait before the job's next attempt after a transient failure: doubled each attempt, at
    /// most 15 minutes; a longer `Retry-After` wins.
    pub backoff: std::time::Duration,
    pub hook: Option<Arc<dyn StepHook>>,
}

impl Default for SendSettings {
    fn default() -> Self {
        Self {
            lease: chrono::Duration::seconds(180),
            retry: GraphPolicy::sending(),
            chunk_size: 10 * 320 * 1024,
            submission_wait: std::time::Duration::from_secs(10),
            submission_poll: std::time::Duration::from_millis(250),
            submission_grace: chrono::Duration::minutes(5),
            max_attempts: 6,
            backoff: std::time::Duration::from_secs(15),
            hook: None,
        }
    }
}

/// The longest wait between two attempts of a send.
const MAX_BACKOFF: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl SendSettings {
    /// Wait before the attempt after `attempts` attempts, or `retry_after` if that is longer.
    pub fn delay(
        &self,
        attempts: u32,
        retry_after: Option<std::time::Duration>,
    ) -> std::time::Duration {
        let exp = attempts.saturating_sub(1).min(16);
        let backoff = self.backoff.saturating_mul(1 << exp).min(MAX_BACKOFF);
        retry_after
            .map_or(backoff, |r| r.max(backoff))
            .min(MAX_BACKOFF)
    }
}

/// The message a send produced (the `response` of a sent send's record).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Sent {
    /// The message's immutable id (for `save_to_sent_items: false`, the deleted draft's).
    pub id: String,
    pub internet_message_id: String,
    pub conversation_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error("no such connection")]
    NotFound,
    #[error("no send with this key for this connection")]
    UnknownSend,
    #[error("the message to reply to does not exist")]
    MessageNotFound,
    #[error("the connection is {0}")]
    NotActive(String),
    #[error("the connection was not granted Mail.Send")]
    NoSendPermission,
    /// The connection's tenant is at a level that does not allow sending.
    #[error("the tenant's access policy ({}) forbids sending", .0.as_str())]
    TenantPolicy(TenantAccess),
    #[error("the idempotency key was used with a different request")]
    KeyReused,
    #[error("the send's outcome is not known yet")]
    OutcomeUnknown,
    #[error("the mailbox cannot be used through Microsoft Graph")]
    UnsupportedMailbox,
    #[error("Graph refused the message as too large")]
    TooLarge,
    #[error("Graph call failed")]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Token(#[from] TokenServiceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("S3 call failed")]
    S3(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the send job could not be queued")]
    Enqueue(#[source] queue::EnqueueError),
    /// The stored request of a queued send is missing or unreadable (it outlives every job).
    #[error("the queued request is gone or unreadable")]
    Payload(#[source] Option<serde_json::Error>),
    #[error("the send-mail functions have no uploads bucket")]
    NoBucket,
    #[error("the send-mail functions have no send queue")]
    NoQueue,
    #[error(transparent)]
    Unwired(#[from] crate::aws::Unwired),
    #[error(transparent)]
    Crashed(#[from] Crash),
}

/// The `internetMessageId` of a send: fixed by (connection, key), so every attempt of a send
/// looks for the same message.
fn internet_message_id(connection: &Connection, key: &IdempotencyKey) -> String {
    let mut h = Sha256::new();
    h.update(connection.id.as_str().as_bytes());
    h.update(b"\n");
    h.update(key.as_str().as_bytes());
    let unique = hex::encode(&h.finalize()[..20]);
    let domain = connection
        .email
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
        .unwrap_or("m365-connector.invalid");
    format!("<m365c.{unique}@{domain}>")
}

/// The connection, if it may send now: active, granted Mail.Send, and its tenant's level (read
/// consistently, not copied onto the connection) allows it. Checked when a send is accepted and
/// again by the worker, so a change in between is honoured before anything is created.
async fn sender(c: &Connector, id: &ConnectionId) -> Result<Connection, SendError> {
    let connection = c
        .store
        .get_connection(id)
        .await?
        .ok_or(SendError::NotFound)?;
    match connection.status {
        ConnectionStatus::Active => {}
        ConnectionStatus::UnsupportedMailbox => return Err(SendError::UnsupportedMailbox),
        other => return Err(SendError::NotActive(uploads::status_name(other))),
    }
    if !connection.capabilities.contains(&Capability::MailSend) {
        return Err(SendError::NoSendPermission);
    }
    let access = crate::tenants::access_of(&c.store, &connection.tenant_id).await?;
    if !access.permits(Capability::MailSend) {
        return Err(SendError::TenantPolicy(access));
    }
    Ok(connection)
}

/// One attachment added after the draft exists.
enum Extra<'a> {
    Inline(FileAttachment),
    /// A staged file under [`uploads::UPLOAD_SESSION_MIN`]: read from S3, `POST .../attachments`.
    SmallUpload(&'a UploadRecord),
    /// A staged file streamed to an upload session.
    Upload(&'a UploadRecord),
}
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::graph::MAILBOX_NOT_ENABLED;
    use crate::http::ApiError;

    #[tokio::test]
    async fn retries_stop_when_the_next_wait_would_exceed_the_budget() {
        let policy = GraphPolicy::sending()
            .max_attempts(10)
            .wait_budget(Duration::from_millis(50))
            .base_delay(Duration::from_millis(1));
        let mut calls = 0;
        let result: Result<(), GraphError> = policy
            .run(|| {
                calls += 1;
                async {
                    Err(GraphError::Api {
                        status: 429,
                        code: "TooManyRequests".into(),
                        retry_after: Some(Duration::from_secs(30)),
                    })
                }
            })
            .await;
        assert_eq!(calls, 1, "a 30 s Retry-After does not fit a 50 ms budget");
        let api: ApiError = SendError::Graph(result.unwrap_err()).into();
        let response = api.into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "30");
    }

    #[tokio::test]
    async fn non_transient_errors_are_not_retried() {
        let policy = GraphPolicy::sending();
        let mut calls = 0;
        let _: Result<(), GraphError> = policy
            .run(|| {
                calls += 1;
                async {
                    Err(GraphError::Api {
                        status: 413,
                        code: "RequestEntityTooLarge".into(),
                        retry_after: None,
                    })
                }
            })
            .await;
        assert_eq!(calls, 1);
    }

    #[test]
    fn graph_errors_map_to_the_documented_statuses() {
        let api = |status, code: &str| {
            let e: ApiError = SendError::Graph(GraphError::Api {
                status,
                code: code.into(),
                retry_after: None,
            })
            .into();
            e
        };
        assert_eq!(api(413, "x").status(), 413);
        let unsupported = api(404, MAILBOX_NOT_ENABLED);
        assert_eq!(unsupported.status(), 409);
        assert!(unsupported
            .problem()
            .detail
            .unwrap()
            .starts_with("unsupported_mailbox"));
        assert_eq!(api(503, "serviceNotAvailable").status(), 503);
        assert_eq!(api(403, "ErrorAccessDenied").status(), 403);
    }
}
