//! The one failure policy for Microsoft Graph calls: which failures are worth another attempt,
//! how `Retry-After` is honoured, the backoff, the attempt and wait budgets, the deadline and the
//! per-mailbox concurrency cap. [`GraphPolicy::run`] holds the only retry loop for Graph; call
//! sites pick a preset ([`GraphPolicy::interactive`], [`GraphPolicy::sending`],
//! [`GraphPolicy::background`], [`GraphPolicy::cleanup`]) and state only what is special to them.
//!
//! One attempt at a time:
//!
//! 1. A permit of the concurrency cap is taken, if there is one, and held for the attempt only.
//! 2. Success, or a failure that is not retryable, is returned as is.
//! 3. A retryable failure is waited out in place when attempts are left, the wait fits the longest
//!    single wait, what has been waited so far plus this wait fits the wait budget and, with a
//!    deadline, the wait ends more than the margin before it. The wait is Graph's `Retry-After`
//!    when honoured, else the backoff (doubling from a base per attempt).
//! 4. Otherwise the failure is returned unchanged, without sleeping: it still carries Graph's
//!    `Retry-After`, which [`GraphPolicy::retry_hint`] reads so the caller can say "retry after
//!    N s" (a 503 with `Retry-After`, or a later redelivery of a queued job).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::messages::DeltaError;
use super::GraphError;

/// Which failures a policy tries again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retryable {
    /// Throttling (429), passing outages (500, 502, 503, 504) and transport failures
    /// ([`GraphError::is_transient`]).
    Transient,
    /// Throttling only: 429 and 503.
    Throttling,
}

/// Exchange refusals that no retry changes, whatever status they arrive with: a message over the
/// mailbox's send size limit, a mailbox over its quota, a sender blocked from sending.
pub const NEVER_RETRIED: [&str; 5] = [
    "ErrorMessageSizeExceeded",
    "ErrorQuotaExceeded",
    "QuotaExceededException",
    "ErrorSendAsDenied",
    "ErrorMessageSubmissionBlocked",
];

impl Retryable {
    pub fn covers(self, e: &GraphError) -> bool {
        if let GraphError::Api { code, .. } = e {
            if NEVER_RETRIED.contains(&code.as_str()) {
                return false;
            }
        }
        match self {
            Self::Transient => e.is_transient(),
            Self::Throttling => matches!(
                e,
                GraphError::Api {
                    status: 429 | 503,
                    ..
                }
            ),
        }
    }
}

/// Errors a Graph call may end with, seen through their Graph cause.
pub trait GraphCause {
    fn graph(&self) -> Option<&GraphError>;
}

impl GraphCause for GraphError {
    fn graph(&self) -> Option<&GraphError> {
        Some(self)
    }
}

impl GraphCause for DeltaError {
    fn graph(&self) -> Option<&GraphError> {
        match self {
            Self::Graph(e) => Some(e),
            _ => None,
        }
    }
}

/// How one Graph call is retried. Cheap to clone.
#[derive(Debug, Clone)]
pub struct GraphPolicy {
    retryable: Retryable,
    /// Attempts in all, the first included.
    max_attempts: u32,
    /// Total time all waits of one call may add up to.
    wait_budget: Duration,
    /// Longest single wait taken in place; a longer one is handed back.
    max_wait: Duration,
    /// First wait when Graph gives no `Retry-After` (doubles per attempt); also the hint when
    /// Graph throttles without saying for how long.
    base_delay: Duration,
    /// Whether Graph's `Retry-After` sets the wait (else the backoff always does).
    honour_retry_after: bool,
    /// No wait may end later than this instant minus `margin`.
    deadline: Option<(Instant, Duration)>,
    /// A permit of this is held during each attempt.
    permits: Option<Arc<Semaphore>>,
}

impl GraphPolicy {
    /// API requests (scheduling): throttling and outages, up to 4 attempts within 8 s of waits,
    /// `Retry-After` honoured exactly, else 200 ms doubling.
    pub fn interactive() -> Self {
        Self {
            retryable: Retryable::Transient,
            max_attempts: 4,
            wait_budget: Duration::from_secs(8),
            max_wait: Duration::from_secs(8),
            base_delay: Duration::from_millis(200),
            honour_retry_after: true,
            deadline: None,
            permits: None,
        }
    }

    /// The send path: as [`Self::interactive`] with a 20 s wait budget (a send is worth more
    /// waiting than a read, and its function has the time).
    pub fn sending() -> Self {
        Self::interactive()
            .wait_budget(Duration::from_secs(20))
            .max_wait(Duration::from_secs(20))
    }

    /// The sync engine: throttling only (429, 503); a `Retry-After` up to 5 s is waited out in
    /// place at most 3 times and never within 30 s of `deadline`; a longer one (or none: 10 s
    /// assumed) is handed back so the job runs again later.
    pub fn background(deadline: Instant) -> Self {
        Self {
            retryable: Retryable::Throttling,
            max_attempts: 4,
            wait_budget: Duration::from_secs(15),
            max_wait: Duration::from_secs(5),
            base_delay: Duration::from_secs(10),
            honour_retry_after: true,
            deadline: Some((deadline, Duration::from_secs(30))),
            permits: None,
        }
    }

    /// Best-effort cleanup (deleting subscriptions): throttling and outages, up to 4 attempts
    /// 400 ms, 800 ms and 1.6 s apart, whatever `Retry-After` says (the caller gives up quietly).
    pub fn cleanup() -> Self {
        Self {
            retryable: Retryable::Transient,
            max_attempts: 4,
            wait_budget: Duration::from_millis(2800),
            max_wait: Duration::from_millis(1600),
            base_delay: Duration::from_millis(400),
            honour_retry_after: false,
            deadline: None,
            permits: None,
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Total time the waits of one call may add up to.
    pub fn wait_budget(mut self, budget: Duration) -> Self {
        self.wait_budget = budget;
        self
    }

    /// Longest single wait taken in place.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// First backoff when Graph gives no `Retry-After`; doubles per attempt.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// No wait ends later than `margin` before `deadline`.
    pub fn deadline(mut self, deadline: Instant, margin: Duration) -> Self {
        self.deadline = Some((deadline, margin));
        self
    }

    /// Holds a permit of `permits` during each attempt (a per-mailbox concurrency cap).
    pub fn limited(mut self, permits: Arc<Semaphore>) -> Self {
        self.permits = Some(permits);
        self
    }

    /// Retries only what `retryable` covers.
    pub fn retrying(mut self, retryable: Retryable) -> Self {
        self.retryable = retryable;
        self
    }

    pub fn retryable(&self) -> Retryable {
        self.retryable
    }

    /// How long the caller should wait before trying again after `e` ended a call: Graph's
    /// `Retry-After`, or the base delay when Graph did not say. `None` when `e` is not a failure
    /// this policy retries.
    pub fn retry_hint(&self, e: &GraphError) -> Option<Duration> {
        if !self.retryable.covers(e) {
            return None;
        }
        match e {
            GraphError::Api {
                retry_after: Some(after),
                ..
            } if self.honour_retry_after => Some(*after),
            _ => Some(self.base_delay),
        }
    }

    /// The wait before attempt `attempt + 1` after attempt `attempt` (1-based) failed with `e`,
    /// having waited `waited` so far; `None` when the failure is to be returned.
    fn wait_after(&self, e: &GraphError, attempt: u32, waited: Duration) -> Option<Duration> {
        if !self.retryable.covers(e) || attempt >= self.max_attempts {
            return None;
        }
        let wait = match e {
            GraphError::Api {
                retry_after: Some(after),
                ..
            } if self.honour_retry_after => *after,
            _ => self
                .base_delay
                .saturating_mul(1u32 << (attempt - 1).min(16)),
        };
        if wait > self.max_wait || waited.saturating_add(wait) > self.wait_budget {
            return None;
        }
        if let Some((deadline, margin)) = self.deadline {
            if Instant::now() + wait + margin >= deadline {
                return None;
            }
        }
        Some(wait)
    }

    /// Runs `call` under this policy. This is the only retry loop for Graph, so every 429 Graph
    /// answers passes here and is counted (the `GraphThrottled` metric).
    pub async fn run<T, E, F, Fut>(&self, mut call: F) -> Result<T, E>
    where
        E: GraphCause + std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut waited = Duration::ZERO;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let result = {
                let _permit = match &self.permits {
                    Some(p) => Some(p.acquire().await.expect("never closed")),
                    None => None,
                };
                call().await
            };
            let error = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if let Some(GraphError::Api { status: 429, .. }) = error.graph() {
                crate::metrics::emit(&[(crate::metrics::Metric::GraphThrottled, 1)], &[]);
            }
            let Some(wait) = error
                .graph()
                .and_then(|g| self.wait_after(g, attempt, waited))
            else {
                return Err(error);
            };
            tracing::info!(attempt, wait_ms = wait.as_millis() as u64, error = %error, "Graph call failed transiently; retrying");
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn api(status: u16, retry_after: Option<Duration>) -> GraphError {
        GraphError::Api {
            status,
            code: format!("http_{status}"),
            retry_after,
        }
    }

    /// A `reqwest::Error` in the transport variant, without touching the network.
    fn transport() -> GraphError {
        let e = reqwest::Client::new()
            .get("not a url")
            .build()
            .expect_err("an unparsable URL cannot be built");
        GraphError::transport(e)
    }

    /// Runs `policy` over a call that fails with `errors` in turn (then succeeds); returns the
    /// result and the number of calls.
    async fn drive(
        policy: &GraphPolicy,
        errors: Vec<GraphError>,
    ) -> (Result<(), GraphError>, usize) {
        let calls = AtomicUsize::new(0);
        let errors = std::sync::Mutex::new(errors.into_iter());
        let result = policy
            .run(|| {
                calls.fetch_add(1, Ordering::SeqCst);
                let next = errors.lock().unwrap().next();
                async move {
                    match next {
                        Some(e) => Err(e),
                        None => Ok(()),
                    }
                }
            })
            .await;
        (result, calls.load(Ordering::SeqCst))
    }

    fn fast(policy: GraphPolicy) -> GraphPolicy {
        policy.base_delay(Duration::from_millis(1))
    }

    #[test]
    fn transient_means_throttling_outages_and_transport() {
        for status in [429, 500, 502, 503, 504] {
            assert!(Retryable::Transient.covers(&api(status, None)), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 410, 413, 501] {
            assert!(!Retryable::Transient.covers(&api(status, None)), "{status}");
        }
        assert!(Retryable::Transient.covers(&transport()));
        for status in [429, 503] {
            assert!(Retryable::Throttling.covers(&api(status, None)));
        }
        for status in [500, 502, 504, 404] {
            assert!(!Retryable::Throttling.covers(&api(status, None)));
        }
        assert!(!Retryable::Throttling.covers(&transport()));
    }

    #[tokio::test]
    async fn exchange_send_refusals_are_never_retried_whatever_their_status() {
        for code in NEVER_RETRIED {
            for status in [403, 413, 500, 503, 507] {
                let e = GraphError::Api {
                    status,
                    code: code.into(),
                    retry_after: None,
                };
                let (result, calls) = drive(&fast(GraphPolicy::sending()), vec![e]).await;
                assert_eq!(calls, 1, "{code} {status}");
                assert!(result.is_err());
            }
        }
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_success() {
        let policy = fast(GraphPolicy::interactive());
        let (result, calls) =
            drive(&policy, vec![api(503, None), transport(), api(429, None)]).await;
        assert!(result.is_ok());
        assert_eq!(calls, 4);
    }

    #[tokio::test]
    async fn attempts_are_bounded_and_the_last_error_is_returned() {
        let policy = fast(GraphPolicy::interactive());
        let errors = (0..10).map(|i| api(500 + (i % 2) * 2, None)).collect();
        let (result, calls) = drive(&policy, errors).await;
        assert_eq!(calls, 4);
        assert!(matches!(result, Err(GraphError::Api { status: 502, .. })));
    }

    #[tokio::test]
    async fn non_transient_errors_are_returned_at_once() {
        for status in [400, 403, 404, 413] {
            let (result, calls) = drive(&GraphPolicy::interactive(), vec![api(status, None)]).await;
            assert_eq!(calls, 1);
            assert!(matches!(result, Err(GraphError::Api { status: s, .. }) if s == status));
        }
    }

    #[tokio::test]
    async fn a_short_retry_after_is_waited_out_in_place() {
        let policy = GraphPolicy::interactive();
        let started = Instant::now();
        let (result, calls) =
            drive(&policy, vec![api(429, Some(Duration::from_millis(300)))]).await;
        assert!(result.is_ok());
        assert_eq!(calls, 2);
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_budget_is_handed_back_without_sleeping() {
        let policy = GraphPolicy::interactive();
        let started = Instant::now();
        let (result, calls) = drive(&policy, vec![api(429, Some(Duration::from_secs(30)))]).await;
        assert_eq!(calls, 1);
        assert!(started.elapsed() < Duration::from_secs(1));
        let e = result.unwrap_err();
        assert!(
            matches!(e, GraphError::Api { retry_after: Some(d), .. } if d == Duration::from_secs(30))
        );
        assert_eq!(policy.retry_hint(&e), Some(Duration::from_secs(30)));
    }

    #[tokio::test]
    async fn waits_stop_when_the_next_would_exceed_the_budget() {
        let policy = GraphPolicy::interactive()
            .max_attempts(10)
            .wait_budget(Duration::from_millis(250))
            .max_wait(Duration::from_secs(1));
        let after = Some(Duration::from_millis(100));
        let (result, calls) = drive(&policy, (0..10).map(|_| api(503, after)).collect()).await;
        assert!(result.is_err());
        // 100 + 100 fit in 250 ms; a third 100 would not.
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    async fn backoff_doubles_from_the_base_without_retry_after() {
        let policy = GraphPolicy::interactive()
            .max_attempts(10)
            .base_delay(Duration::from_millis(10))
            .wait_budget(Duration::from_millis(75));
        let (_, calls) = drive(&policy, (0..10).map(|_| api(500, None)).collect()).await;
        // 10 + 20 + 40 = 70 ms fit in 75 ms; 80 more would not.
        assert_eq!(calls, 4);
    }

    #[tokio::test]
    async fn background_waits_out_short_throttling_at_most_three_times() {
        let policy = GraphPolicy::background(Instant::now() + Duration::from_secs(600));
        let short = Some(Duration::from_millis(5));
        let (result, calls) = drive(&policy, (0..10).map(|_| api(429, short)).collect()).await;
        assert_eq!(calls, 4);
        assert!(result.is_err());
    }

    #[tokio::test]
    async fn background_hands_back_long_or_unstated_throttling_and_ignores_outages() {
        let policy = GraphPolicy::background(Instant::now() + Duration::from_secs(600));
        let (result, calls) = drive(&policy, vec![api(503, Some(Duration::from_secs(6)))]).await;
        assert_eq!(calls, 1);
        assert_eq!(
            policy.retry_hint(&result.unwrap_err()),
            Some(Duration::from_secs(6))
        );

        let (result, calls) = drive(&policy, vec![api(429, None)]).await;
        assert_eq!(calls, 1);
        assert_eq!(
            policy.retry_hint(&result.unwrap_err()),
            Some(Duration::from_secs(10))
        );

        for e in [api(500, None), api(504, None), transport()] {
            let (result, calls) = drive(&policy, vec![e]).await;
            assert_eq!(calls, 1);
            assert_eq!(policy.retry_hint(&result.unwrap_err()), None);
        }
    }

    #[tokio::test]
    async fn no_wait_runs_into_the_deadline_margin() {
        let deadline = Instant::now() + Duration::from_secs(32);
        let policy = GraphPolicy::background(deadline);
        // 3 s + the 30 s margin end after the deadline: handed back.
        let (_, calls) = drive(&policy, vec![api(429, Some(Duration::from_secs(3)))]).await;
        assert_eq!(calls, 1);
        // 1 s + 30 s still end before it: waited out.
        let policy = GraphPolicy::interactive().deadline(
            Instant::now() + Duration::from_millis(500),
            Duration::from_millis(300),
        );
        let (_, calls) = drive(&policy, vec![api(429, Some(Duration::from_millis(100)))]).await;
        assert_eq!(calls, 2);
        let (_, calls) = drive(&policy, vec![api(429, Some(Duration::from_millis(250)))]).await;
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn cleanup_ignores_retry_after_and_backs_off() {
        let policy = GraphPolicy::cleanup().base_delay(Duration::from_millis(1));
        let (result, calls) = drive(
            &policy,
            (0..10)
                .map(|_| api(429, Some(Duration::from_secs(60))))
                .collect(),
        )
        .await;
        assert_eq!(calls, 4);
        assert!(result.is_err());
    }

    #[tokio::test]
    async fn a_permit_is_held_during_each_attempt_only() {
        let permits = Arc::new(Semaphore::new(1));
        let policy = fast(GraphPolicy::interactive()).limited(permits.clone());
        let seen = AtomicUsize::new(usize::MAX);
        let calls = AtomicUsize::new(0);
        let result: Result<(), GraphError> = policy
            .run(|| {
                seen.store(permits.available_permits(), Ordering::SeqCst);
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        Err(api(503, None))
                    } else {
                        Ok(())
                    }
                }
            })
            .await;
        assert!(result.is_ok());
        assert_eq!(
            seen.load(Ordering::SeqCst),
            0,
            "the call runs holding the permit"
        );
        assert_eq!(permits.available_permits(), 1, "and gives it back");
    }

    #[tokio::test]
    async fn delta_errors_are_seen_through_their_graph_cause() {
        let policy = fast(GraphPolicy::background(
            Instant::now() + Duration::from_secs(600),
        ));
        let calls = AtomicUsize::new(0);
        let result: Result<(), DeltaError> = policy
            .run(|| {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    match n {
                        0 => Err(DeltaError::Graph(api(429, Some(Duration::from_millis(1))))),
                        _ => Err(DeltaError::NoLink),
                    }
                }
            })
            .await;
        assert!(matches!(result, Err(DeltaError::NoLink)));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
