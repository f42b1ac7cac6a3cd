//! The sync engine: runs one [`SyncJob`] for one mailbox. Notifications are hints; the delta query
//! per folder is the truth, and the diff against stored items makes every run idempotent.
//!
//! - `Connected`: subscribe Inbox and Sent Items (or renew what exists), then backfill.
//! - `CatchUp`: a delta round per folder from the stored cursor.
//! - `Lifecycle`: `reauthorizationRequired` -> renew, `subscriptionRemoved` -> recreate,
//!   `missed` -> nothing more; each then catches up.
//! - `Renew`: PATCH the expiry; a subscription Graph no longer knows is recreated and caught up.
//! - `Periodic`: subscribe any folder without a subscription, then catch up (the safety net).
//! - `Purge`: remove everything of a connection marked `deleting` ([`purge`]).
//!
//! A job whose connection is not `active` writes nothing: it is skipped at its start, and a run
//! looks again (with each page's diff) before it publishes or writes a page, so a connection
//! marked `deleting` meanwhile stops it after at most the page in hand. The purge job comes after
//! every job that was in flight, in the connection's FIFO group. A job naming a subscription whose
//! connection is gone drops that subscription's record (nothing else would).
//!
//! Order per page: publish the page's events, then write its items with the link that fetched it
//! (one BatchWriteItem per 25). A crash in between republishes with the same event ids on the next
//! run (at least once, deduplicable) instead of losing events. Every record is bounded when it is
//! made ([`bounds`]), and a message DynamoDB or EventBridge refuses even alone is quarantined
//! ([`quarantine`]), so one message never stalls its folder. A connection that is not `active`
//! is skipped; reconnecting enqueues `Connected`, which catches up.
//!
//! Graph calls follow [`GraphPolicy::background`], capped at [`MAX_CONCURRENT_GRAPH`] per mailbox:
//! a short `Retry-After` is waited out in place a few times, a longer one ends the job with
//! [`Outcome::RetryAfter`] so the queue redelivers it later. Near the deadline a run stops after
//! its current page, saves the cursor and re-enqueues a `CatchUp` for itself.

pub mod bounds;
pub mod calendar;
pub mod plan;
pub mod purge;
mod quarantine;
mod reconcile;
pub mod renewal;
mod subscriptions;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::app::Connector;
use crate::config::ConfigError;
use crate::domain::{Connection, ConnectionStatus, Folder};
use crate::events::PublishError;
use crate::graph::messages::{DeltaChange, DeltaError, DeltaNext};
use crate::graph::subscriptions::{
    is_expiry_too_long, NewSubscription, LEGACY_MAX_LIFETIME, MAX_LIFETIME,
};
use crate::graph::{GraphCause, GraphClient, GraphError, GraphPolicy};
use crate::identity::random_token;
use crate::queue::{EnqueueError, LifecycleEvent, SyncJob};
use crate::store::messages::{cursor_write, message_writes, MessageQuery};
use crate::store::{client_state_hash, StoreError, SubscriptionRecord};
use crate::tokens::{self, TokenServiceError};
use plan::{plan_page, ChangeKind, PlannedWrite};

/// Outlook allows 4 concurrent requests per app and mailbox.
pub const MAX_CONCURRENT_GRAPH: usize = 4;
/// A run stops taking new pages when less than this is left before its deadline.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(30);

/// A run removes at most this many messages per folder before checking, one `GET` each, whether
/// they are back in the folder (Exchange reports a message moved away and back between two
/// rounds as removed and never again: microsoft-graph-docs-contrib#72).
pub const MAX_REMOVAL_CHECKS: usize = 25;

/// How a run reads Graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Ask a folder's first delta round only for mail inside the look-back window
    /// (`$filter=receivedDateTime ge {cutoff}`), instead of reading the whole folder and
    /// dropping older mail here. Off only to measure the difference.
    pub delta_filter: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { delta_filter: true }
    }
}

/// How a job ended (errors aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done(Stats),
    /// Nothing to do for this connection (gone, or not `active`).
    Skipped(&'static str),
    /// Stopped near the deadline; a `CatchUp` was enqueued to continue from the saved cursors.
    Resumed(Stats),
    /// Graph throttled the mailbox: run the job again after this long.
    RetryAfter(Duration),
}

/// What a run did, for logs and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub pages: usize,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub restarted_folders: usize,
    /// Messages left out because DynamoDB or EventBridge refused them even alone.
    pub quarantined: usize,
    /// Items a purge removed.
    pub purged: usize,
}

impl Stats {
    fn add(&mut self, other: &Stats) {
        self.pages += other.pages;
        self.created += other.created;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.restarted_folders += other.restarted_folders;
        self.quarantined += other.quarantined;
        self.purged += other.purged;
    }

    fn count(&mut self, kind: ChangeKind) {
        match kind {
            ChangeKind::Created => self.created += 1,
            ChangeKind::Updated => self.updated += 1,
            ChangeKind::Deleted => self.deleted += 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("access token unavailable")]
    Token(#[source] TokenServiceError),
    #[error("Graph call failed")]
    Graph(#[source] GraphError),
    #[error("delta query failed")]
    Delta(#[source] DeltaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("publishing message events failed")]
    Publish(#[source] PublishError),
    #[error("re-enqueueing the rest of the work failed")]
    Enqueue(#[source] EnqueueError),
    #[error("subscriptions cannot be created")]
    Config(#[source] ConfigError),
    #[error("deleting staged uploads failed")]
    Uploads(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("S3 kept {count} staged uploads (first code: {code})")]
    UploadsLeft { count: usize, code: String },
}

impl SyncError {
    /// DynamoDB or EventBridge refused the content sent (see [`StoreError::is_refusal`],
    /// [`PublishError::is_refusal`]): sending the same again fails the same way.
    fn is_refusal(&self) -> bool {
        match self {
            Self::Store(e) => e.is_refusal(),
            Self::Publish(e) => e.is_refusal(),
            _ => false,
        }
    }

    /// The HTTP status of the Graph answer that ended the job, if Graph answered.
    fn graph_status(&self) -> Option<u16> {
        match self {
            Self::Graph(GraphError::Api { status, .. })
            | Self::Delta(DeltaError::Graph(GraphError::Api { status, .. })) => Some(*status),
            _ => None,
        }
    }

    /// How long to wait when the failure is Graph throttling the mailbox (what the policy hands
    /// back instead of waiting in place) or a passing Graph outage (500, 502, 504, no answer):
    /// the job waits on the queue instead of failing.
    fn throttled(&self, policy: &GraphPolicy) -> Option<Duration> {
        let graph = match self {
            Self::Graph(e) | Self::Delta(DeltaError::Graph(e)) => e,
            _ => return None,
        };
        policy
            .retry_hint(graph)
            .or_else(|| graph.is_transient().then_some(OUTAGE_RETRY))
    }
}

/// How long a job waits after a Graph outage that gave no `Retry-After`.
pub const OUTAGE_RETRY: Duration = Duration::from_secs(30);

/// Runs one job. `deadline` is when the invocation must be finished (Lambda's remaining time).
#[tracing::instrument(skip_all, fields(connection_id = %job.connection_id()))]
pub async fn run(c: &Connector, job: &SyncJob, deadline: Instant) -> Result<Outcome, SyncError> {
    run_with(c, job, deadline, RunOptions::default()).await
}

/// [`run`] with explicit [`RunOptions`].
pub async fn run_with(
    c: &Connector,
    job: &SyncJob,
    deadline: Instant,
    options: RunOptions,
) -> Result<Outcome, SyncError> {
    let id = job.connection_id();
    let Some(connection) = c.store.get_connection(id).await? else {
        if let Some(subscription) = job.subscription_id() {
            // Its connection is gone but the record stayed (a delete that stopped half-way, a
            // sync that re-created it after an older release's delete): without this the
            // renewal would find it every 30 minutes, forever.
            if c.store.delete_subscription_of(subscription, id).await? {
                tracing::info!(
                    subscription_id = subscription,
                    "orphan subscription record dropped"
                );
            }
        }
        return Ok(Outcome::Skipped("connection does not exist"));
    };
    if let SyncJob::Purge { .. } = job {
        return purge::run(c, connection, deadline).await;
    }
    if connection.status != ConnectionStatus::Active {
        return Ok(Outcome::Skipped("connection is not active"));
    }
    let token = match tokens::access_token(c, id).await {
        Ok(t) => t,
        Err(TokenServiceError::ReauthRequired { .. }) => {
            return Ok(Outcome::Skipped("connection must be reconnected"))
        }
        Err(TokenServiceError::Transient(_) | TokenServiceError::LeaseTimeout) => {
            return Ok(Outcome::RetryAfter(Duration::from_secs(5)))
        }
        Err(e) => return Err(SyncError::Token(e)),
    };
    let mut mailbox = Mailbox {
        c,
        connection,
        token,
        policy: GraphPolicy::background(deadline)
            .limited(Arc::new(Semaphore::new(MAX_CONCURRENT_GRAPH))),
        deadline,
        options,
    };
    let mut result = mailbox.run(job).await;
    if result.as_ref().err().and_then(SyncError::graph_status) == Some(401) {
        // The token was revoked before its stated expiry: once more with a new one. Every step of
        // a job is safe to repeat (the diff makes a re-run page free of duplicates).
        tracing::info!("Graph refused the access token; refreshing it and running the job again");
        mailbox.token = match tokens::access_token_after_rejection(c, id, &mailbox.token).await {
            Ok(t) => t,
            Err(TokenServiceError::ReauthRequired { .. }) => {
                return Ok(Outcome::Skipped("connection must be reconnected"))
            }
            Err(TokenServiceError::Transient(_) | TokenServiceError::LeaseTimeout) => {
                return Ok(Outcome::RetryAfter(Duration::from_secs(5)))
            }
            Err(e) => return Err(SyncError::Token(e)),
        };
        result = mailbox.run(job).await;
    }
    match result {
        Err(e) => match e.throttled(&mailbox.policy) {
            Some(delay) => {
                tracing::info!(delay_s = delay.as_secs(), "Graph throttled the mailbox");
                Ok(Outcome::RetryAfter(delay))
            }
            None => Err(e),
        },
        ok => ok,
    }
}

struct Mailbox<'a> {
    c: &'a Connector,
    connection: Connection,
    token: SecretString,
    /// [`GraphPolicy::background`] with the mailbox's concurrency cap.
    policy: GraphPolicy,
    deadline: Instant,
    options: RunOptions,
}

enum FolderEnd {
    Complete,
    OutOfTime,
    /// The connection stopped being `active` (it is being deleted): nothing more is written.
    NotLive,
}

impl Mailbox<'_> {
    /// Boxed, as is [`Self::catch_up`]: a job's future nests the SDK's and reqwest's, and unboxed
    /// the whole chain sits in its caller's frame, several times over in a debug build (one
    /// temporary per call site), which overflowed a 2 MiB test thread's stack.
    fn run<'s>(
        &'s self,
        job: &'s SyncJob,
    ) -> Pin<Box<impl Future<Output = Result<Outcome, SyncError>> + 's>> {
        Box::pin(self.run_unboxed(job))
    }

    async fn run_unboxed(&self, job: &SyncJob) -> Result<Outcome, SyncError> {
        match job {
            SyncJob::Connected { .. } => {
                self.ensure_subscriptions(true).await?;
                self.catch_up().await
            }
            SyncJob::CatchUp { .. } => self.catch_up().await,
            SyncJob::Lifecycle {
                subscription_id,
                event,
                ..
            } => {
                match event {
                    LifecycleEvent::ReauthorizationRequired => {
                        self.renew(subscription_id).await?;
                    }
                    LifecycleEvent::SubscriptionRemoved => {
                        self.c.store.delete_subscription(subscription_id).await?;
                        self.ensure_subscriptions(false).await?;
                    }
                    LifecycleEvent::Missed => {}
                }
                self.catch_up().await
            }
            SyncJob::Renew {
                subscription_id, ..
            } => {
                let renewed = self.renew(subscription_id).await.inspect_err(|e| {
                    // Throttling only delays the job; anything else is a renewal that failed.
                    if e.throttled(&self.policy).is_none() {
                        renewal::record_failure("renew_job");
                    }
                })?;
                if renewed {
                    self.catch_up().await
                } else {
                    Ok(Outcome::Done(Stats::default()))
                }
            }
            SyncJob::Periodic { .. } => {
                if self.ensure_subscriptions(false).await? {
                    tracing::info!("a folder had no subscription; subscribed");
                }
                self.catch_up().await
            }
            // Run by `purge::run` before a mailbox is set up.
            SyncJob::Purge { .. } => Ok(Outcome::Skipped("purge jobs do not sync")),
        }
    }

    /// Runs a Graph call under the mailbox's policy: the concurrency cap, short throttling
    /// waited out in place, longer throttling handed back.
    async fn graph<T, E, F, Fut>(&self, call: F) -> Result<T, E>
    where
        E: GraphCause + std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.policy.run(call).await
    }

    /// A delta round for every folder, concurrently (they share the Graph cap and deadline).
    fn catch_up(&self) -> Pin<Box<impl Future<Output = Result<Outcome, SyncError>> + '_>> {
        Box::pin(self.catch_up_unboxed())
    }

    async fn catch_up_unboxed(&self) -> Result<Outcome, SyncError> {
        let (inbox, sent, calendar) = tokio::join!(
            self.sync_folder(Folder::Inbox),
            self.sync_folder(Folder::SentItems),
            async {
                if self.syncs_calendar() {
                    self.sync_calendar().await
                } else {
                    Ok((FolderEnd::Complete, Stats::default()))
                }
            }
        );
        let ends = [inbox?, sent?, calendar?];
        let mut stats = Stats::default();
        ends.iter().for_each(|(_, s)| stats.add(s));
        if ends
            .iter()
            .any(|(end, _)| matches!(end, FolderEnd::NotLive))
        {
            tracing::info!(?stats, "the connection is being deleted; the run stopped");
            return Ok(Outcome::Skipped("connection is being deleted"));
        }
        if ends
            .iter()
            .any(|(end, _)| matches!(end, FolderEnd::OutOfTime))
        {
            let job = SyncJob::CatchUp {
                connection_id: self.connection.id.clone(),
            };
            let dedup = format!(
                "resume:{}:{}",
                self.connection.id,
                Utc::now().timestamp_millis()
            );
            self.c
                .queue
                .enqueue(&job, &dedup)
                .await
                .map_err(SyncError::Enqueue)?;
            tracing::info!(?stats, "deadline near; resumed in a new job");
            return Ok(Outcome::Resumed(stats));
        }
        tracing::info!(?stats, "caught up");
        Ok(Outcome::Done(stats))
    }

    async fn sync_folder(&self, kind: Folder) -> Result<(FolderEnd, Stats), SyncError> {
        let folder = kind.as_str();
        let id = &self.connection.id;
        let store = &self.c.store;
        let cutoff = Utc::now() - chrono::Duration::days(self.c.config.sync_lookback_days.into());
        let initial =
            GraphClient::initial_delta_link(kind, self.options.delta_filter.then_some(cutoff));
        let saved = store.get_cursor(id, folder).await?;
        let mut saved_link = saved.clone();
        let mut link = saved.unwrap_or_else(|| initial.clone());
        // Messages this run marked deleted, to check whether they are in fact back.
        let mut removed: Vec<String> = Vec::new();
        let page_size = self.c.config.sync_page_size;
        let mut stats = Stats::default();
        // Ids seen since a from-scratch restart, to find what vanished while the token was dead.
        let mut restart_seen: Option<HashSet<String>> = None;
        loop {
            let page = match self
                .graph(|| self.c.graph.delta_page(&self.token, &link, page_size))
                .await
            {
                Ok(page) => page,
                Err(DeltaError::SyncStateLost(e)) if restart_seen.is_none() => {
                    tracing::warn!(folder, error = %e, "delta token expired; resyncing the folder");
                    stats.restarted_folders += 1;
                    restart_seen = Some(HashSet::new());
                    link = initial.clone();
                    continue;
                }
                Err(e) => return Err(SyncError::Delta(e)),
            };
            stats.pages += 1;
            if let Some(seen) = restart_seen.as_mut() {
                for change in &page.changes {
                    if let DeltaChange::Upsert(m) = change {
                        seen.insert(m.id.clone());
                    }
                }
            }
            let ids: Vec<&str> = page
                .changes
                .iter()
                .map(|ch| match ch {
                    DeltaChange::Upsert(m) => m.id.as_str(),
                    DeltaChange::Removed { id } => id.as_str(),
                })
                .collect();
            // The diff's read, and whether the connection is still live (a `deleting` one gets
            // nothing more written), side by side.
            let (stored, status) = tokio::try_join!(
                async {
                    if ids.is_empty() {
                        Ok(HashMap::new())
                    } else {
                        store.get_messages(id, &ids).await
                    }
                },
                store.connection_status(id),
            )?;
            if status != Some(ConnectionStatus::Active) {
                return Ok((FolderEnd::NotLive, stats));
            }
            let planned = plan_page(id, folder, &page.changes, &stored, cutoff);
            removed.extend(
                planned
                    .iter()
                    .filter(|p| p.kind == ChangeKind::Deleted)
                    .map(|p| p.record.id.clone()),
            );
            // The link that fetched this page goes with its items: if the run dies before the
            // next page is written, the page is fetched again and diffs to nothing new.
            let cursor = (saved_link.as_deref() != Some(link.as_str())).then(|| link.clone());
            self.apply(folder, &planned, cursor.as_deref(), &mut stats)
                .await?;
            if cursor.is_some() {
                saved_link = cursor;
            }
            match page.next {
                DeltaNext::DeltaLink(delta) => {
                    if let Some(seen) = restart_seen.take() {
                        let window = self.options.delta_filter.then_some(cutoff);
                        self.sweep_vanished(folder, &seen, window, &mut stats)
                            .await?;
                    }
                    store.put_cursor(id, folder, &delta, Utc::now()).await?;
                    self.restore_returned(kind, &removed, cutoff, &mut stats)
                        .await?;
                    return Ok((FolderEnd::Complete, stats));
                }
                DeltaNext::NextLink(next) => {
                    if Instant::now() + DEADLINE_MARGIN >= self.deadline {
                        store.put_cursor(id, folder, &next, Utc::now()).await?;
                        if restart_seen.is_some() {
                            tracing::warn!(folder, "resync spans runs; vanished messages are found at the next restart");
                        }
                        return Ok((FolderEnd::OutOfTime, stats));
                    }
                    link = next;
                }
            }
        }
    }

    /// Publishes the events of planned writes, then writes them (plus the cursor, if given).
    ///
    /// When DynamoDB or EventBridge refuses the page's content (a refusal, not throttling or an
    /// outage), the messages are applied one by one and each one refused alone is quarantined:
    /// logged with its ids, counted, left out. The cursor is then saved as usual, so one message
    /// never holds its folder back. Messages applied before the refusal are applied again, and
    /// their events published again (consumers dedupe by `event_id`).
    async fn apply(
        &self,
        folder: &str,
        planned: &[PlannedWrite],
        cursor: Option<&str>,
        stats: &mut Stats,
    ) -> Result<(), SyncError> {
        let refused =
            quarantine::apply_isolating(planned, SyncError::is_refusal, |some, together| {
                self.apply_together(folder, some, cursor.filter(|_| together))
            })
            .await?;
        let Some(refused) = refused else {
            planned.iter().for_each(|p| stats.count(p.kind));
            return Ok(());
        };
        tracing::warn!(
            folder,
            messages = planned.len(),
            "the page was refused; applied its messages one by one"
        );
        for p in planned {
            match refused.iter().find(|(r, _)| std::ptr::eq(*r, p)) {
                None => stats.count(p.kind),
                Some((_, e)) => {
                    stats.quarantined += 1;
                    // Ids only: never the subject, addresses or anything else of the message.
                    let message_id: String = p.record.id.chars().take(160).collect();
                    tracing::error!(folder, %message_id, change = p.kind.detail_type(), error = %e,
                        "message quarantined: it cannot be stored or published; the folder moves on");
                }
            }
        }
        if let Some(link) = cursor {
            self.c
                .store
                .put_cursor(&self.connection.id, folder, link, Utc::now())
                .await?;
        }
        Ok(())
    }

    /// One attempt at [`Self::apply`] for `planned` as a whole: builds the writes first (an item
    /// that cannot be stored fails before its event is published), publishes, then writes.
    async fn apply_together(
        &self,
        folder: &str,
        planned: &[PlannedWrite],
        cursor: Option<&str>,
    ) -> Result<(), SyncError> {
        let mut writes = Vec::with_capacity(planned.len() + 1);
        if let Some(link) = cursor {
            writes.push(cursor_write(&self.connection.id, folder, link, Utc::now())?);
        }
        for p in planned {
            writes.extend(message_writes(
                &p.record,
                &self.connection.email,
                p.previous.as_ref(),
            )?);
        }
        if !planned.is_empty() {
            let events: Vec<(&str, serde_json::Value)> = planned
                .iter()
                .map(|p| (p.kind.detail_type(), p.event_detail()))
                .collect();
            self.c
                .events
                .publish_batch(&events)
                .await
                .map_err(SyncError::Publish)?;
        }
        if !writes.is_empty() {
            self.c.store.write_batch(writes).await?;
        }
        Ok(())
    }
}
