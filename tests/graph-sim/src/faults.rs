//! Fault injection: request faults (latency, 429, 503, per-mailbox concurrency, paging links to
//! another origin) applied by the outer middleware, and notification faults (duplicate, drop,
//! reorder, slow, failing) applied by the notification sender.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// Delay matching requests by `ms`.
    Latency,
    /// 429 `TooManyRequests` with `Retry-After: retryAfter` (default 5).
    Throttle,
    /// 503 `serviceNotAvailable`, with `Retry-After` when `retryAfter` is set.
    Unavailable,
    /// More than `limit` (default 4) concurrent requests for one mailbox -> 429 `ApplicationThrottled`.
    MailboxConcurrency,
    /// Refuse with `status` (default 400) and the Graph error `code` (default
    /// `ErrorInvalidRequest`): a refusal the client cannot foresee, such as Exchange rejecting a
    /// recipient.
    Error,
    /// Deliver each notification POST twice.
    DuplicateNotifications,
    /// Silently drop notification POSTs.
    DropNotifications,
    /// Deliver the items of a batch one per POST, in reverse order.
    ReorderNotifications,
    /// Hold notification POSTs back by `ms` before sending.
    SlowNotifications,
    /// Treat notification POSTs as failed without sending them (Graph then retries).
    FailNotifications,
    /// Answer as usual, but with `@odata.nextLink` / `@odata.deltaLink` pointing at `origin`
    /// (scheme, host and port) instead of the simulator: a paging link to another host, which a
    /// client must not follow with its bearer token.
    ForeignLink,
}

impl FaultKind {
    pub fn is_notification(self) -> bool {
        matches!(
            self,
            FaultKind::DuplicateNotifications
                | FaultKind::DropNotifications
                | FaultKind::ReorderNotifications
                | FaultKind::SlowNotifications
                | FaultKind::FailNotifications
        )
    }
}

/// The body of `POST /_sim/faults`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// Request faults: only paths starting with this (default `/v1.0`). Notification faults:
    /// only notification URLs containing this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Only this HTTP method (request faults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Fire on every Nth matching call (N, 2N, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Fire with this probability (0.0-1.0) instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Stop firing after this many hits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// `foreignLink`: the origin the links are rewritten to (e.g. `http://127.0.0.1:9`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// `error` faults: the HTTP status and the Graph error code and message to answer with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Stop firing once the simulated clock reaches this time (RFC 3339): an outage of a given
    /// length, which moving the clock (`/_sim/clock/advance`) ends early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub id: String,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Matching calls seen.
    pub calls: u64,
    /// Times it fired.
    pub hits: u64,
}

impl Fault {
    pub fn new(id: String, spec: FaultSpec) -> Fault {
        Fault {
            id,
            spec,
            calls: 0,
            hits: 0,
        }
    }

    pub fn matches_request(&self, method: &str, path: &str) -> bool {
        if self.spec.kind.is_notification() {
            return false;
        }
        let prefix = self.spec.path.as_deref().unwrap_or("/v1.0");
        path.to_ascii_lowercase()
            .starts_with(&prefix.to_ascii_lowercase())
            && self
                .spec
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }

    pub fn matches_notification(&self, url: &str) -> bool {
        self.spec.kind.is_notification()
            && self.spec.path.as_deref().is_none_or(|p| url.contains(p))
    }

    /// Count one matching call at simulated time `now` and say whether the fault fires on it.
    pub fn fire(&mut self, now: DateTime<Utc>) -> bool {
        if self.spec.count.is_some_and(|c| self.hits >= c)
            || self.spec.until.is_some_and(|u| now >= u)
        {
            return false;
        }
        self.calls += 1;
        let fires = match (self.spec.every, self.spec.rate) {
            (Some(n), _) if n > 0 => self.calls.is_multiple_of(n),
            (_, Some(r)) => rand::random::<f64>() < r,
            _ => true,
        };
        if fires {
            self.hits += 1;
        }
        fires
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: FaultKind) -> FaultSpec {
        FaultSpec {
            kind,
            path: None,
            method: None,
            every: None,
            rate: None,
            count: None,
            retry_after: None,
            ms: None,
            limit: None,
            origin: None,
            status: None,
            code: None,
            message: None,
            until: None,
        }
    }

    #[test]
    fn every_nth_fires_on_multiples_of_n_only() {
        let mut f = Fault::new(
            "f".into(),
            FaultSpec {
                every: Some(3),
                ..spec(FaultKind::Throttle)
            },
        );
        let fired: Vec<bool> = (0..6).map(|_| f.fire(Utc::now())).collect();
        assert_eq!(fired, vec![false, false, true, false, false, true]);
    }

    #[test]
    fn count_limits_the_number_of_hits() {
        let mut f = Fault::new(
            "f".into(),
            FaultSpec {
                count: Some(2),
                ..spec(FaultKind::Unavailable)
            },
        );
        let fired: Vec<bool> = (0..4).map(|_| f.fire(Utc::now())).collect();
        assert_eq!(fired, vec![true, true, false, false]);
    }

    #[test]
    fn a_fault_with_an_end_stops_firing_once_the_simulated_clock_reaches_it() {
        let start = Utc::now();
        let mut f = Fault::new(
            "f".into(),
            FaultSpec {
                until: Some(start + chrono::Duration::minutes(8)),
                ..spec(FaultKind::Unavailable)
            },
        );
        assert!(f.fire(start));
        assert!(f.fire(start + chrono::Duration::minutes(7)));
        assert!(!f.fire(start + chrono::Duration::minutes(8)));
        assert_eq!(f.hits, 2);
    }

    #[test]
    fn request_faults_match_by_path_prefix_and_method() {
        let f = Fault::new(
            "f".into(),
            FaultSpec {
                path: Some("/v1.0/me/messages".into()),
                method: Some("GET".into()),
                ..spec(FaultKind::Latency)
            },
        );
        assert!(f.matches_request("GET", "/v1.0/me/messages/abc"));
        assert!(!f.matches_request("POST", "/v1.0/me/messages"));
        assert!(!f.matches_request("GET", "/v1.0/me"));
        let n = Fault::new("n".into(), spec(FaultKind::DropNotifications));
        assert!(!n.matches_request("GET", "/v1.0/me"));
        assert!(n.matches_notification("http://127.0.0.1/hook"));
    }

    #[test]
    fn rate_zero_never_fires_and_rate_one_always_fires() {
        let mut never = Fault::new(
            "a".into(),
            FaultSpec {
                rate: Some(0.0),
                ..spec(FaultKind::Throttle)
            },
        );
        let mut always = Fault::new(
            "b".into(),
            FaultSpec {
                rate: Some(1.0),
                ..spec(FaultKind::Throttle)
            },
        );
        assert!((0..20).all(|_| !never.fire(Utc::now())));
        assert!((0..20).all(|_| always.fire(Utc::now())));
    }
}
