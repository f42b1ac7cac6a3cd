//! The worker side of a send: one job, one attempt.
//!
//! The attempt takes the send's record with a lease (a send whose record is gone is never sent,
//! a finished one is left alone, one another worker holds is looked at again when that lease
//! runs out), redoes the request from the kept payload, checks the connection again and runs the recorded steps, reconciling with the
//! mailbox first when an earlier worker had the send. Then:
//!
//! - sent -> the record says `sent` with the message; the payload is deleted;
//! - refused for good (the failure's answer is final, [`crate::failures::ProblemType::is_retryable`]:
//!   a recipient Exchange rejects, a message over the size limit, a full mailbox, the connection
//!   needing reconnection...) -> `failed` with that problem, at once;
//! - a transient failure (throttling, an outage, an outcome not known yet) -> the lease is
//!   released and the job comes back after [`SendSettings::delay`]; after
//!   [`SendSettings::max_attempts`] attempts it ends `failed`, unless `/send` may have been
//!   accepted: then only the mailbox can tell, and the job keeps coming back until it does (or
//!   the queue's redrive policy parks it in the dead-letter queue).

use chrono::Utc;

use super::job::Job;
use super::payload;
use super::queue::SendJob;
use super::*;
use crate::http::ApiError;
use crate::store::sends::{Finish, Take};

/// What the queue should do with a job after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// Nothing more to do (sent, failed, someone else's, or no send at all): delete it.
    Done,
    /// Deliver it again after this long.
    RetryAfter(std::time::Duration),
    /// An injected crash: leave everything as a killed invocation would (the job comes back
    /// after the queue's visibility timeout, the lease runs out).
    Crashed,
}

/// Runs one attempt of the send a job names.
#[tracing::instrument(skip_all, fields(connection_id = %job.connection_id))]
pub async fn run_job(c: &Connector, settings: &SendSettings, job: &SendJob) -> JobOutcome {
    let (id, digest) = (&job.connection_id, job.send.as_str());
    let take = c
        .store
        .take_send(id, digest, Utc::now(), settings.lease)
        .await;
    let (owner, record, resumed) = match take {
        Ok(Take::Taken {
            owner,
            record,
            resumed,
        }) => (owner, record, resumed),
        Ok(Take::Missing) => {
            tracing::warn!("no live record for this send: the job is dropped, nothing is sent");
            return JobOutcome::Done;
        }
        Ok(Take::Finished) => {
            payload::delete(c, id, digest).await;
            return JobOutcome::Done;
        }
        Ok(Take::Busy { until }) => {
            // A duplicate job, or this job back while its dead worker's lease still holds.
            let left = (until - Utc::now()).to_std().unwrap_or_default();
            tracing::info!(
                lease_left_ms = left.as_millis() as u64,
                "another worker holds the send"
            );
            return JobOutcome::RetryAfter(left + std::time::Duration::from_secs(1));
        }
        Err(e) => {
            tracing::error!(error = %crate::http::chain(&e), "could not take the send");
            return JobOutcome::RetryAfter(settings.delay(1, None));
        }
    };
    if resumed {
        tracing::info!(step = ?record.progress.step, attempts = record.attempts, "resuming an interrupted send");
    }
    let attempts = record.attempts;
    let (result, progress) = attempt(c, settings, job, &owner, record.progress, resumed).await;
    let finish = |finish: Finish| {
        let owner = &owner;
        async move {
            let now = Utc::now();
            c.store
                .finish_send(id, digest, owner, &finish, now, now + IDEMPOTENCY_TTL)
                .await
        }
    };
    let failure = match result {
        Ok(sent) => {
            let response = serde_json::to_value(&sent).unwrap_or_default();
            return match finish(Finish::Sent(response)).await {
                Ok(()) => {
                    tracing::info!(attempts, "message sent");
                    payload::delete(c, id, digest).await;
                    JobOutcome::Done
                }
                // The next attempt finds the message in the mailbox and records it.
                Err(e) => {
                    tracing::error!(error = %crate::http::chain(&e), "sent, but the outcome could not be recorded");
                    JobOutcome::RetryAfter(settings.delay(attempts, None))
                }
            };
        }
        Err(SendError::Crashed(crash)) => {
            tracing::warn!(%crash, "the send crashed (injected)");
            return JobOutcome::Crashed;
        }
        Err(e) => e,
    };
    let cause = crate::http::chain(&failure);
    let maybe_sent = progress.step == SendStep::Sending;
    // An unknown outcome is known once the submission grace period is over.
    let wait_for = match (&failure, progress.sending_since) {
        (SendError::OutcomeUnknown, Some(since)) => Some(
            (since + settings.submission_grace - Utc::now())
                .to_std()
                .unwrap_or_default(),
        ),
        _ => None,
    };
    let answer = ApiError::from(failure);
    let refused = !answer.problem_type().is_retryable();
    if refused || (attempts >= settings.max_attempts && !maybe_sent) {
        let problem = serde_json::to_value(answer.problem()).unwrap_or_default();
        tracing::warn!(error = %cause, status = answer.status().as_u16(), attempts, "the send failed");
        return match finish(Finish::Failed(problem)).await {
            Ok(()) => {
                payload::delete(c, id, digest).await;
                JobOutcome::Done
            }
            Err(e) => {
                tracing::error!(error = %crate::http::chain(&e), "could not record the failure");
                JobOutcome::RetryAfter(settings.delay(attempts, None))
            }
        };
    }
    let delay = settings.delay(
        attempts,
        wait_for.or(answer
            .retry_after_secs()
            .map(std::time::Duration::from_secs)),
    );
    tracing::warn!(error = %cause, attempts, maybe_sent, retry_in_s = delay.as_secs(), "the send will be retried");
    if let Err(e) = c.store.release_send(id, digest, &owner).await {
        tracing::warn!(error = %crate::http::chain(&e), "could not release the send; its lease runs out instead");
    }
    JobOutcome::RetryAfter(delay)
}

/// The attempt itself: the request again from its payload, the connection checked again, then
/// the recorded steps. Returns the progress as it stood at the end.
async fn attempt(
    c: &Connector,
    settings: &SendSettings,
    job: &SendJob,
    owner: &str,
    progress: SendProgress,
    resumed: bool,
) -> (Result<Sent, SendError>, SendProgress) {
    let id = &job.connection_id;
    let request = async {
        let payload = payload::get(c, id, &job.send)
            .await?
            .ok_or(SendError::Payload(None))?;
        let body = <SendBody as serde::Deserialize>::deserialize(&payload.body)
            .map_err(|e| SendError::Payload(Some(e)))?;
        let message = body.parse(&payload.kind)?;
        sender(c, id).await?;
        Ok::<_, SendError>((payload.kind, message))
    };
    let (kind, message) = match request.await {
        Ok(request) => request,
        Err(e) => return (Err(e), progress),
    };
    let mut job = Job {
        c,
        settings,
        id,
        digest: &job.send,
        owner,
        resumed,
        progress,
        token: None,
    };
    let mut result = job.run(&kind, &message).await;
    if let (Err(SendError::Graph(GraphError::Api { status: 401, .. })), Some(refused)) =
        (&result, job.token.clone())
    {
        // Graph refused the token before its stated expiry: a new one, then the job again as a
        // resumed one, which first finds out what the mailbox holds (the step that got the 401
        // did nothing, but the reconciliation makes that a fact, not an assumption).
        tracing::info!("Graph refused the access token; refreshing it and resuming the send");
        match crate::tokens::access_token_after_rejection(c, id, &refused).await {
            Ok(_) => {
                job.resumed = true;
                result = job.run(&kind, &message).await;
            }
            Err(e) => result = Err(e.into()),
        }
    }
    (result, job.progress)
}
