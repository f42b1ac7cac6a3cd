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
//! - it is nowhere but `/send` may have been called -> the outcome is not known yet (Exchange can
//!   hold a message in the Outbox): 503 with `Retry-After`, nothing is sent twice.
//!
//! Throttling (429) and outages (503) are retried under [`GraphPolicy::sending`], a bounded
//! budget honouring `Retry-After`; after that the client gets a 503 with `Retry-After` and the same key resumes.

pub mod request;
pub mod uploads;

use std::sync::Arc;

use chrono::Utc;
use secrecy::SecretString;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app::Connector;
use crate::domain::{Capability, Connection, ConnectionId, ConnectionStatus};
use crate::domain::{IdempotencyKey, ParseError};
use crate::graph::send::{
    Address, Body, DraftMessage, FileAttachment, Folder, Header, MessageRef, Recipient,
    DELETE_AFTER_SUBMIT,
};
use crate::graph::{GraphError, GraphPolicy};
use crate::store::sends::{SendProgress, SendStart, SendStep, UploadRecord};
use crate::store::StoreError;
use crate::tokens::TokenServiceError;
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
    pub hook: Option<Arc<dyn StepHook>>,
}

impl Default for SendSettings {
    fn default() -> Self {
        Self {
            lease: chrono::Duration::seconds(180),
            retry: GraphPolicy::sending(),
            chunk_size: 10 * 320 * 1024,
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
        }),
    };
    let result = job.run(kind, message).await;
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

struct Job<'a> {
    c: &'a Connector,
    settings: &'a SendSettings,
    id: &'a ConnectionId,
    key: Option<&'a str>,
    owner: Option<&'a str>,
    resumed: bool,
    progress: SendProgress,
}

impl Job<'_> {
    fn hook(&self, step: Step) -> Result<(), Crash> {
        match &self.settings.hook {
            Some(h) => h.after(step),
            None => Ok(()),
        }
    }

    async fn record(&self) -> Result<(), SendError> {
        if let (Some(key), Some(owner)) = (self.key, self.owner) {
            self.c
                .store
                .record_send_progress(
                    self.id,
                    key,
                    owner,
                    &self.progress,
                    Utc::now() + self.settings.lease,
                )
                .await?;
        }
        Ok(())
    }

    fn sent(&self, found: Option<&MessageRef>) -> Sent {
        Sent {
            id: found
                .map(|m| m.id.clone())
                .or_else(|| self.progress.draft_id.clone())
                .unwrap_or_default(),
            internet_message_id: self.progress.internet_message_id.clone(),
            conversation_id: found
                .and_then(|m| m.conversation_id.clone())
                .or_else(|| self.progress.conversation_id.clone()),
            status: "sent",
        }
    }

    async fn run(&mut self, kind: &SendKind, message: &OutgoingMessage) -> Result<Sent, SendError> {
        // Everything that can be refused is checked before anything is created.
        let mut uploads = Vec::new();
        for a in &message.attachments {
            if let AttachmentSpec::Upload { upload_id, field } = a {
                let record = self
                    .c
                    .store
                    .get_upload(self.id, upload_id, Utc::now())
                    .await?
                    .ok_or_else(|| ParseError {
                        field: field.clone(),
                        reason: "no such upload for this connection (or it expired)".into(),
                    })?;
                uploads::check_object(self.c, &record, field).await?;
                uploads.push(record);
            }
        }
        let (in_draft, extras) = plan_attachments(message, &uploads);
        let token = crate::tokens::access_token(self.c, self.id).await?;
        let retry = self.settings.retry.clone();

        // A resumed send first finds out what the mailbox holds (even with no draft recorded:
        // the crash may have fallen between Graph creating it and the record).
        if self.resumed {
            if let Some(done) = self
                .reconcile(&token, &retry, &extras, in_draft.len())
                .await?
            {
                return Ok(done);
            }
        }

        if self.progress.draft_id.is_none() {
            let draft = build_draft(message, in_draft, &self.progress.internet_message_id);
            let created = retry
                .run(|| async {
                    match kind {
                        SendKind::New => self.c.graph.create_draft(&token, &draft).await,
                        SendKind::Reply {
                            message_id,
                            reply_all,
                        } => {
                            self.c
                                .graph
                                .create_reply(&token, message_id, *reply_all, &draft)
                                .await
                        }
                    }
                })
                .await
                .map_err(|e| match (&e, kind) {
                    (GraphError::Api { status: 404, .. }, SendKind::Reply { .. }) => {
                        SendError::MessageNotFound
                    }
                    _ => SendError::Graph(e),
                })?;
            self.hook(Step::DraftCreated)?;
            self.progress.draft_id = Some(created.id);
            self.progress.conversation_id = created.conversation_id;
            self.progress.attached = 0;
            // With nothing left to attach the next step is `/send`; say so in the same write.
            self.progress.step = if extras.is_empty() {
                SendStep::Sending
            } else {
                SendStep::DraftCreated
            };
            self.record().await?;
        }
        let draft_id = self.progress.draft_id.clone().unwrap_or_default();

        let first = self.progress.attached as usize;
        for extra in extras.iter().skip(first) {
            match extra {
                Extra::Inline(file) => {
                    retry
                        .run(|| self.c.graph.add_attachment(&token, &draft_id, file))
                        .await?
                }
                Extra::Upload(record) => {
                    let url = retry
                        .run(|| {
                            self.c.graph.create_upload_session(
                                &token,
                                &draft_id,
                                &record.name,
                                &record.content_type,
                                record.size,
                            )
                        })
                        .await?;
                    uploads::stream_to_graph(
                        self.c,
                        record,
                        &url,
                        self.settings.chunk_size,
                        &retry,
                    )
                    .await?;
                }
            }
            self.hook(Step::Attached)?;
            self.progress.attached += 1;
            self.record().await?;
        }
        if self.progress.step != SendStep::Sending {
            self.progress.step = SendStep::Sending;
            self.record().await?;
        }

        match retry
            .run(|| self.c.graph.send_draft(&token, &draft_id))
            .await
        {
            Ok(()) => {}
            // A retried `/send` whose first attempt went through finds no draft to send.
            Err(GraphError::Api { status, .. }) if status == 404 || status == 400 => {
                return match self.find(&token, &retry, Folder::SentItems).await? {
                    Some(found) => Ok(self.sent(Some(&found))),
                    None => Err(SendError::OutcomeUnknown),
                };
            }
            Err(e) => return Err(e.into()),
        }
        self.hook(Step::Sent)?;
        Ok(self.sent(None))
    }

    async fn find(
        &self,
        token: &SecretString,
        retry: &GraphPolicy,
        folder: Folder,
    ) -> Result<Option<MessageRef>, SendError> {
        Ok(retry
            .run(|| {
                self.c.graph.find_by_internet_message_id(
                    token,
                    folder,
                    &self.progress.internet_message_id,
                )
            })
            .await?)
    }

    /// Where an interrupted send stands in the mailbox. `Some` when it was already sent.
    async fn reconcile(
        &mut self,
        token: &SecretString,
        retry: &GraphPolicy,
        extras: &[Extra<'_>],
        in_draft: usize,
    ) -> Result<Option<Sent>, SendError> {
        if let Some(draft) = self.find(token, retry, Folder::Drafts).await? {
            tracing::info!("the interrupted send's draft is still in Drafts; finishing it");
            if self.progress.draft_id.is_none() {
                self.progress.conversation_id = draft.conversation_id.clone();
            }
            self.progress.draft_id = Some(draft.id.clone());
            if !extras.is_empty() {
                // Count what Graph has, in case the crash fell between an attach and its record.
                let present = retry
                    .run(|| self.c.graph.attachment_count(token, &draft.id))
                    .await?;
                self.progress.attached =
                    u32::try_from(present.saturating_sub(in_draft).min(extras.len())).unwrap_or(0);
            }
            if self.progress.step == SendStep::Started {
                self.progress.step = SendStep::DraftCreated;
            }
            self.record().await?;
            return Ok(None);
        }
        if let Some(sent) = self.find(token, retry, Folder::SentItems).await? {
            tracing::info!("the interrupted send had gone out; reporting it");
            return Ok(Some(self.sent(Some(&sent))));
        }
        if self.progress.step == SendStep::Sending {
            // `/send` may have been accepted and the message not filed yet (Outbox), or it was
            // not saved to Sent Items. Sending again could duplicate it.
            return Err(SendError::OutcomeUnknown);
        }
        tracing::info!("the interrupted send's draft is gone and was never sent; starting again");
        self.progress.draft_id = None;
        self.progress.conversation_id = None;
        self.progress.attached = 0;
        self.progress.step = SendStep::Started;
        Ok(None)
    }
}

/// Splits attachments into those that travel in the draft-creation request and those added after.
fn plan_attachments<'a>(
    message: &OutgoingMessage,
    uploads: &'a [UploadRecord],
) -> (Vec<FileAttachment>, Vec<Extra<'a>>) {
    let mut in_draft = Vec::new();
    let mut extras = Vec::new();
    let mut encoded = 0usize;
    let mut uploads = uploads.iter();
    for a in &message.attachments {
        match a {
            AttachmentSpec::Inline {
                name,
                content_type,
                content_base64,
                ..
            } => {
                let file =
                    FileAttachment::new(name.clone(), content_type.clone(), content_base64.clone());
                // Keep the order: once one goes separately, all later ones do too.
                if extras.is_empty() && encoded + content_base64.len() <= INLINE_IN_DRAFT_LIMIT {
                    encoded += content_base64.len();
                    in_draft.push(file);
                } else {
                    extras.push(Extra::Inline(file));
                }
            }
            AttachmentSpec::Upload { .. } => {
                if let Some(record) = uploads.next() {
                    extras.push(Extra::Upload(record));
                }
            }
        }
    }
    (in_draft, extras)
}

fn recipients(list: &[Mailbox]) -> Vec<Recipient> {
    list.iter()
        .map(|m| Recipient {
            email_address: Address {
                address: m.address.as_str().to_owned(),
                name: m.name.clone(),
            },
        })
        .collect()
}

fn build_draft(
    message: &OutgoingMessage,
    attachments: Vec<FileAttachment>,
    internet_message_id: &str,
) -> DraftMessage {
    DraftMessage {
        subject: message.subject.clone(),
        body: message.body.as_ref().map(|b| Body {
            content_type: match b.content_type {
                BodyType::Text => "text".into(),
                BodyType::Html => "html".into(),
            },
            content: b.content.clone(),
        }),
        to_recipients: recipients(&message.to),
        cc_recipients: recipients(&message.cc),
        bcc_recipients: recipients(&message.bcc),
        reply_to: recipients(&message.reply_to),
        internet_message_headers: message
            .headers
            .iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        internet_message_id: internet_message_id.to_owned(),
        attachments,
        single_value_extended_properties: if message.save_to_sent_items {
            Vec::new()
        } else {
            vec![DELETE_AFTER_SUBMIT]
        },
    }
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
