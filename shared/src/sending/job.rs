//! One send as a sequence of recorded steps (draft created, attachments added, sent), so that the
//! attempt after a crash resumes where the first stopped and never sends twice.

use super::draft::{build_draft, plan_attachments};
use super::*;

/// Graph answered `/send` with a refusal: the draft was not submitted. A 500, 502 or 504 (an
/// outage while handling it) or no answer at all leaves that open.
fn refused(e: &GraphError) -> bool {
    matches!(e, GraphError::Api { status, .. } if ![500, 502, 504].contains(status))
}

/// Where a draft whose `/send` may have been accepted stands.
enum Submission {
    Submitted(MessageRef),
    StillDraft,
    Gone,
}

pub(super) struct Job<'a> {
    pub(super) c: &'a Connector,
    pub(super) settings: &'a SendSettings,
    pub(super) id: &'a ConnectionId,
    /// SHA-256 of the send's key: its record.
    pub(super) digest: &'a str,
    /// This attempt's lease on the record.
    pub(super) owner: &'a str,
    pub(super) resumed: bool,
    pub(super) progress: SendProgress,
    /// The access token of the last run, to tell the token service which one Graph refused.
    pub(super) token: Option<SecretString>,
}

impl Job<'_> {
    fn hook(&self, step: Step) -> Result<(), Crash> {
        match &self.settings.hook {
            Some(h) => h.after(step),
            None => Ok(()),
        }
    }

    async fn record(&self) -> Result<(), SendError> {
        self.c
            .store
            .record_send_progress(
                self.id,
                self.digest,
                self.owner,
                &self.progress,
                Utc::now() + self.settings.lease,
            )
            .await?;
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
        }
    }

    pub(super) async fn run(
        &mut self,
        kind: &SendKind,
        message: &OutgoingMessage,
    ) -> Result<Sent, SendError> {
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
        self.token = Some(token.clone());
        let retry = self.settings.retry.clone();

        // A resumed send first finds out what the mailbox holds (even with no draft recorded:
        // the crash may have fallen between Graph creating it and the record).
        if self.resumed {
            if let Some(done) = self
                .reconcile(
                    &token,
                    &retry,
                    &extras,
                    in_draft.len(),
                    message.save_to_sent_items,
                )
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
            if extras.is_empty() {
                self.progress.step = SendStep::Sending;
                self.progress.sending_since = Some(Utc::now());
            } else {
                self.progress.step = SendStep::DraftCreated;
            }
            self.record().await?;
        }
        let draft_id =
            crate::graph::graph_id(self.progress.draft_id.as_deref().unwrap_or_default())?;

        let first = self.progress.attached as usize;
        for extra in extras.iter().skip(first) {
            match extra {
                Extra::Inline(file) => {
                    retry
                        .run(|| self.c.graph.add_attachment(&token, &draft_id, file))
                        .await?
                }
                Extra::SmallUpload(record) => {
                    let file = FileAttachment::new(
                        record.name.clone(),
                        record.content_type.clone(),
                        uploads::read_small(self.c, record).await?,
                    );
                    retry
                        .run(|| self.c.graph.add_attachment(&token, &draft_id, &file))
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
            self.progress.sending_since = Some(Utc::now());
            self.record().await?;
        }

        // Only a refusal is retried: after a lost response or an outage mid-request Exchange may
        // have accepted the message, and a second `/send` could send it twice.
        let refusals = retry.clone().retrying(crate::graph::Retryable::Throttling);
        match refusals
            .run(|| self.c.graph.send_draft(&token, &draft_id))
            .await
        {
            Ok(()) => {}
            // Either Exchange refuses this draft (a recipient it rejects, say) or it is not a
            // draft any more because an earlier `/send` went through: the mailbox tells which.
            Err(
                e @ GraphError::Api {
                    status: 400 | 404, ..
                },
            ) => {
                if let Some(sent) = self.find(&token, &retry, Folder::SentItems).await? {
                    return Ok(self.sent(Some(&sent)));
                }
                let draft = self.find(&token, &retry, Folder::Drafts).await?;
                if draft.as_ref().is_some_and(|d| d.is_draft != Some(false)) {
                    // Still a draft, and refused: nothing was sent; no retry changes that.
                    self.progress.step = SendStep::DraftCreated;
                    self.progress.sending_since = None;
                    self.record().await?;
                    return Err(e.into());
                }
                if draft.is_none() && !message.save_to_sent_items {
                    // Gone, and no copy was to be filed: submitted and deleted after it.
                    return Ok(self.sent(None));
                }
                return match self.await_submission(&token, &retry).await? {
                    Submission::Submitted(found) => Ok(self.sent(Some(&found))),
                    _ => Err(SendError::OutcomeUnknown),
                };
            }
            // Graph answered and refused: the draft was not submitted and may be sent again.
            Err(e) if refused(&e) => {
                self.progress.step = SendStep::DraftCreated;
                self.progress.sending_since = None;
                self.record().await?;
                return Err(e.into());
            }
            // No answer, or an outage while handling it: it may have been accepted.
            Err(e) => {
                tracing::warn!(error = %crate::http::chain(&e), "the outcome of /send is unknown");
                return Err(SendError::OutcomeUnknown);
            }
        }
        self.hook(Step::Sent)?;
        Ok(self.sent(None))
    }

    /// Waits for a draft whose `/send` may have been accepted to reach Sent Items: Exchange
    /// answers 202 and submits afterwards, so the draft can linger in Drafts for a moment.
    async fn await_submission(
        &self,
        token: &SecretString,
        retry: &GraphPolicy,
    ) -> Result<Submission, SendError> {
        let deadline = tokio::time::Instant::now() + self.settings.submission_wait;
        loop {
            if let Some(sent) = self.find(token, retry, Folder::SentItems).await? {
                return Ok(Submission::Submitted(sent));
            }
            let draft = self.find(token, retry, Folder::Drafts).await?;
            if tokio::time::Instant::now() + self.settings.submission_poll > deadline {
                return Ok(match draft {
                    Some(_) => Submission::StillDraft,
                    None => Submission::Gone,
                });
            }
            tokio::time::sleep(self.settings.submission_poll).await;
        }
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
        save_to_sent_items: bool,
    ) -> Result<Option<Sent>, SendError> {
        if self.progress.step == SendStep::Sending {
            let submitted_long_ago = self
                .progress
                .sending_since
                .is_none_or(|t| Utc::now() - t >= self.settings.submission_grace);
            // `/send` may have been accepted: give Exchange's submission time to show.
            match self.await_submission(token, retry).await? {
                Submission::Submitted(sent) => {
                    tracing::info!("the interrupted send had gone out; reporting it");
                    return Ok(Some(self.sent(Some(&sent))));
                }
                // A draft leaves Drafts only by being sent (or deleted by its user). Without a
                // Sent Items copy that is the end of a send; with one, Exchange may still hold
                // the message in the Outbox for a while.
                Submission::Gone if !save_to_sent_items || submitted_long_ago => {
                    tracing::info!("the interrupted send's draft was submitted; reporting it sent");
                    return Ok(Some(self.sent(None)));
                }
                Submission::Gone => return Err(SendError::OutcomeUnknown),
                Submission::StillDraft => {
                    if !submitted_long_ago {
                        tracing::info!("the draft may still be being submitted; outcome unknown");
                        return Err(SendError::OutcomeUnknown);
                    }
                    tracing::info!("the draft was never submitted; sending it");
                    // Recorded again (with a new time) right before `/send`.
                    self.progress.step = SendStep::DraftCreated;
                }
            }
        }
        if let Some(draft) = self.find(token, retry, Folder::Drafts).await? {
            tracing::info!("the interrupted send's draft is still in Drafts; finishing it");
            if self.progress.draft_id.is_none() {
                self.progress.conversation_id = draft.conversation_id.clone();
            }
            self.progress.draft_id = Some(draft.id.clone());
            if !extras.is_empty() {
                let draft_id = crate::graph::graph_id(&draft.id)?;
                // Count what Graph has, in case the crash fell between an attach and its record.
                let present = retry
                    .run(|| self.c.graph.attachment_count(token, &draft_id))
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
