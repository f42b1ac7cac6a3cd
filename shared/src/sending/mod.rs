//! Sending mail as the user, exactly once.
//!
//! A message is created as a draft with an `internetMessageId` the connector chose (derived from
//! the connection and the `Idempotency-Key`), attachments are added, then the draft is sent.
//! Graph's `/send` acts on one draft, which can be sent only once, so the dangerous window is
//! the crash: between any two steps the idempotency record ([`crate::store::sends`]) says how far
//! the send got, and a retry with the same key reconciles with the mailbox before doing anything:
//!
//! - the draft is still in Drafts (found by `internetMessageId`) -> finish attaching, send it;
//! - it is in Sent Items -> it was sent: report it, send nothing;
//! - it is nowhere and `/send` was never called -> start again with a new draft;
//! - `/send` may have been called and the draft is still in Drafts -> Exchange may be submitting
//!   it (it moves the draft to Sent Items after answering 202): wait for it to leave Drafts; a
//!   draft still there [`SendSettings::submission_grace`] after `/send` was never submitted and is
//!   sent; before that the outcome is not known yet;
//! - it is nowhere but `/send` may have been called -> the outcome is not known yet (Exchange can
//!   hold a message in the Outbox): 503 with `Retry-After`, nothing is sent twice.
//!
//! `/send` itself is retried only when Graph refused it (429, 503): after a lost response or an
//! outage mid-request it may have been accepted, and a second `/send` could send twice.
//!
//! Throttling (429) and outages (503) are retried under [`GraphPolicy::sending`], a bounded
//! budget honouring `Retry-After`; after that the client gets a 503 with `Retry-After` and the same key resumes.

mod draft;
mod job;
pub mod request;
pub mod uploads;

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
use crate::store::sends::{SendProgress, SendStart, SendStep, UploadRecord};
use crate::store::StoreError;
use crate::tokens::TokenServiceError;
use job::Job;
pub use request::{fingerprint, SendBody, SendKind};
use request::{AttachmentSpec, BodyType, Mailbox, OutgoingMessage};

/// Idempotency records live this long.
pub const IDEMPOTENCY_TTL: chrono::Duration = chrono::Duration::hours(24);
/// Inline attachments travel inside the draft-creation request while its base64 stays under this
/// (Graph refuses request bodies over 4 MB); beyond it each is added with its own request.
const INLINE_IN_DRAFT_LIMIT: usize = 3 * 1024 * 1024;

/// Where a test may "crash" the send (return without recording anything more, as a killed
/// Lambda would), to prove that a retry finishes the job exactly once.
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

/// How the send use case behaves; `Default` is production.
#[derive(Clone)]
pub struct SendSettings {
    /// How long one request owns an in-progress keyed send; a crashed owner blocks retries (409)
    /// for at most this long. Longer than the function's timeout.
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
    /// is it sent again. Before, the outcome is unknown (503 with `Retry-After`).
    pub submission_grace: chrono::Duration,
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
            hook: None,
        }
    }
}

/// `202` body of a send.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Sent {
    pub id: String,
    pub internet_message_id: String,
    pub conversation_id: Option<String>,
    pub status: &'static str,
}

/// The outcome the HTTP layer renders.
#[derive(Debug, Clone, PartialEq)]
pub struct SendOutcome {
    pub response: serde_json::Value,
    /// The response of an earlier request with the same key.
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error("no such connection")]
    NotFound,
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
    #[error("a request with this idempotency key is in progress")]
    InProgress { retry_after_secs: u64 },
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
    #[error("the send-mail function has no uploads bucket")]
    NoBucket,
    #[error(transparent)]
    Crashed(#[from] Crash),
}

/// The `internetMessageId` of a send: fixed by (connection, key) so every retry of a keyed send
/// looks for the same message; random without a key.
fn internet_message_id(connection: &Connection, key: Option<&IdempotencyKey>) -> String {
    let unique = match key {
        Some(k) => {
            let mut h = Sha256::new();
            h.update(connection.id.as_str().as_bytes());
            h.update(b"\n");
            h.update(k.as_str().as_bytes());
            hex::encode(&h.finalize()[..20])
        }
        None => uuid::Uuid::new_v4().simple().to_string(),
    };
    let domain = connection
        .email
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
        .unwrap_or("m365-connector.invalid");
    format!("<m365c.{unique}@{domain}>")
}

/// One attachment added after the draft exists.
enum Extra<'a> {
    Inline(FileAttachment),
    /// A staged file under [`uploads::UPLOAD_SESSION_MIN`]: read from S3, `POST .../attachments`.
    SmallUpload(&'a UploadRecord),
    /// A staged file streamed to an upload session.
    Upload(&'a UploadRecord),
}

/// Sends (or resumes sending) one message. `key` makes it exactly-once; `request_hash` is
/// [`fingerprint`] of the request.
#[tracing::instrument(skip_all, fields(connection_id = %id, keyed = key.is_some()))]
pub async fn send(
    c: &Connector,
    settings: &SendSettings,
    id: &ConnectionId,
    kind: &SendKind,
    message: &OutgoingMessage,
    key: Option<&IdempotencyKey>,
    request_hash: &str,
) -> Result<SendOutcome, SendError> {
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
    // The tenant's level, read consistently now rather than copied onto the connection: a send
    // checked after an administrator's change is refused, and nothing below has happened yet.
    let access = crate::tenants::access_of(&c.store, &connection.tenant_id).await?;
    if !access.permits(Capability::MailSend) {
        return Err(SendError::TenantPolicy(access));
    }
    let imid = internet_message_id(&connection, key);
    let now = Utc::now();
    let (owner, progress) = match key {
        None => (None, None),
        Some(k) => match c
            .store
            .begin_send(
                id,
                k.as_str(),
                request_hash,
                &imid,
                now,
                settings.lease,
                now + IDEMPOTENCY_TTL,
            )
            .await?
        {
            SendStart::Completed { response } => {
                tracing::info!("replayed a completed send");
                return Ok(SendOutcome {
                    response,
                    replayed: true,
                });
            }
            SendStart::KeyReused => return Err(SendError::KeyReused),
            SendStart::InProgress { retry_after_secs } => {
                return Err(SendError::InProgress { retry_after_secs })
            }
            SendStart::Started { owner } => (Some(owner), None),
            SendStart::Resume { owner, progress } => {
                tracing::info!(step = ?progress.step, "resuming an interrupted send");
                (Some(owner), Some(progress))
            }
        },
    };
    let mut job = Job {
        c,
        settings,
        id,
        key: key.map(IdempotencyKey::as_str),
        owner: owner.as_deref(),
        resumed: progress.is_some(),
        progress: progress.unwrap_or(SendProgress {
            step: SendStep::Started,
            internet_message_id: imid,
            draft_id: None,
            conversation_id: None,
            attached: 0,
            sending_since: None,
        }),
        token: None,
    };
    let mut result = job.run(kind, message).await;
    if let (Err(SendError::Graph(GraphError::Api { status: 401, .. })), Some(refused)) =
        (&result, job.token.clone())
    {
        // Graph refused the token before its stated expiry: a new one, then the job again as a
        // resumed one, which first finds out what the mailbox holds (the step that got the 401
        // did nothing, but the reconciliation makes that a fact, not an assumption).
        tracing::info!("Graph refused the access token; refreshing it and resuming the send");
        crate::tokens::access_token_after_rejection(c, id, &refused).await?;
        job.resumed = true;
        result = job.run(kind, message).await;
    }
    match (&result, key, &owner) {
        // A crash leaves the record as a dead Lambda would: owned until the lease runs out.
        (Err(SendError::Crashed(_)), _, _) | (Ok(_), _, _) => {}
        (Err(e), Some(k), Some(owner)) => {
            tracing::warn!(error = %crate::http::chain(e), "send failed; releasing its record for a retry");
            if let Err(release) = c.store.release_send(id, k.as_str(), owner).await {
                tracing::error!(error = %crate::http::chain(&release), "could not release the send record");
            }
        }
        _ => {}
    }
    let sent = result?;
    let response = serde_json::to_value(&sent).unwrap_or(serde_json::Value::Null);
    if let (Some(k), Some(owner)) = (key, &owner) {
        c.store
            .complete_send(id, k.as_str(), owner, &response)
            .await?;
    }
    tracing::info!("message sent");
    Ok(SendOutcome {
        response,
        replayed: false,
    })
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
