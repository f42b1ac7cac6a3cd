//! Operational metrics as CloudWatch Embedded Metric Format (EMF) log lines: each is one JSON
//! object on stdout with an `_aws.CloudWatchMetrics` directive, from which CloudWatch Logs extracts
//! the metrics (no PutMetricData call, no extra permission; the alarms in template.yaml watch
//! them). Specification:
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>
//!
//! A small writer rather than the `metrics` facade with `metrics_cloudwatch_embedded`: that crate
//! is well kept, but it aggregates in a process-wide recorder and flushes when an invocation
//! ends, so a run that Lambda times out loses its metrics (AWS says so for EMF on Lambda) - and a
//! renewal sweep or a sync job running out of time is exactly what these metrics are for. The
//! events counted here are rare (forged items, throttling, failed refreshes and renewals; one
//! line per notification batch), so one line written at once, where it happens, costs little and
//! is never lost; there is no recorder to install in every `main`, and a test can capture the
//! lines of its own task ([`capture`]).
//!
//! Nothing but metric names, counts and fixed `&'static str` properties can go into a line: no
//! id, token, address or body can reach one.

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "M365Connector";
/// The one dimension: the stack, so that several deployments in one account stay apart.
pub const STACK_DIMENSION: &str = "Stack";

/// Every metric the connector emits (a closed set: the alarms name them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Items of a Graph notification batch (the denominator of the forged-item rate).
    NotificationItems,
    /// Items dropped as not genuine: unknown subscription, wrong clientState, wrong tenant.
    ForgedNotificationItems,
    /// Graph answers 429 (each attempt).
    GraphThrottled,
    /// Token refreshes that failed (property `reason`: `reauth_required`, `transient`,
    /// `rejected`).
    TokenRefreshFailures,
    /// Renewals that failed (property `stage`: `sweep` when the scheduled sweep could not read the
    /// expiry index or enqueue the jobs, `renew_job` when Graph refused a renewal).
    RenewalFailures,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Self::NotificationItems => "NotificationItems",
            Self::ForgedNotificationItems => "ForgedNotificationItems",
            Self::GraphThrottled => "GraphThrottled",
            Self::TokenRefreshFailures => "TokenRefreshFailures",
            Self::RenewalFailures => "RenewalFailures",
        }
    }

    /// Whether a non-zero value means trouble (the line is then a WARN).
    fn is_trouble(self) -> bool {
        !matches!(self, Self::NotificationItems)
    }
}

/// The stack dimension's value: `STACK_NAME` (set by template.yaml), else `local`.
fn stack() -> &'static str {
    static STACK: OnceLock<String> = OnceLock::new();
    STACK.get_or_init(|| {
        std::env::var(crate::config::STACK_NAME)
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "local".to_owned())
    })
}

/// One EMF document with `values` under the stack dimension, plus fixed string `properties`
/// (searchable in Logs Insights, not dimensions). It also carries `level` (WARN when a trouble
/// metric is non-zero, else INFO), which Lambda's JSON log format reads for its log-level filter,
/// and `message`.
pub fn line(values: &[(Metric, u64)], properties: &[(&'static str, &'static str)]) -> String {
    let trouble = values.iter().any(|(m, v)| m.is_trouble() && *v > 0);
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[STACK_DIMENSION]],
                "Metrics": values
                    .iter()
                    .map(|(m, _)| json!({"Name": m.name(), "Unit": "Count"}))
                    .collect::<Vec<_>>(),
            }],
        }),
    );
    root.insert(STACK_DIMENSION.into(), stack().into());
    for (name, value) in properties {
        root.insert((*name).into(), (*value).into());
    }
    for (metric, value) in values {
        root.insert(metric.name().into(), (*value).into());
    }
    root.insert("level".into(), if trouble { "WARN" } else { "INFO" }.into());
    root.insert("message".into(), "metrics".into());
    Value::Object(root).to_string()
}

tokio::task_local! {
    static CAPTURED: Arc<Mutex<Vec<String>>>;
}

/// Writes one EMF line (see [`line`]) to stdout, where Lambda sends it to CloudWatch Logs; inside
/// [`capture`], to the capture instead.
pub fn emit(values: &[(Metric, u64)], properties: &[(&'static str, &'static str)]) {
    let text = line(values, properties);
    let captured = CAPTURED.try_with(|lines| {
        lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text.clone())
    });
    if captured.is_err() {
        // The whole line under stdout's lock, so never interleaved with a log line; `println!`
        // (not a raw write) so that the test harness captures it like any test output.
        println!("{text}");
    }
}

/// Runs `f` and returns, with its output, the EMF lines emitted by its task (a test hook: tests
/// share one process, so the lines of a test's own task are told apart from the others').
pub async fn capture<F: Future>(f: F) -> (F::Output, Vec<String>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let output = CAPTURED.scope(lines.clone(), f).await;
    let lines = lines.lock().unwrap_or_else(|e| e.into_inner()).clone();
    (output, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks a line against the EMF specification's document structure: a root object whose
    /// `_aws` holds a `Timestamp` (epoch milliseconds) and a `CloudWatchMetrics` array of metric
    /// directives, each with a `Namespace`, `Dimensions` (arrays of at most 30 dimension keys, each
    /// key a string member of the root) and `Metrics` (at most 100, each `Name` a member of the
    /// root holding a number, `Unit` one of CloudWatch's units).
    fn assert_valid_emf(text: &str) -> Value {
        let root: Value = serde_json::from_str(text).expect("one JSON object");
        let object = root.as_object().expect("the root is an object");
        let aws = object["_aws"].as_object().expect("_aws is an object");
        assert!(aws["Timestamp"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000_000));
        let directives = aws["CloudWatchMetrics"].as_array().expect("an array");
        assert!(!directives.is_empty());
        for directive in directives {
            assert!(directive["Namespace"]
                .as_str()
                .is_some_and(|n| !n.is_empty() && n.len() <= 1024));
            for set in directive["Dimensions"].as_array().expect("Dimensions") {
                let keys = set.as_array().expect("a dimension set");
                assert!(keys.len() <= 30);
                for key in keys {
                    let key = key.as_str().expect("a dimension key");
                    assert!(
                        object[key].is_string(),
                        "dimension {key} is a string member"
                    );
                }
            }
            let metrics = directive["Metrics"].as_array().expect("Metrics");
            assert!(!metrics.is_empty() && metrics.len() <= 100);
            for metric in metrics {
                let name = metric["Name"].as_str().expect("a metric name");
                assert!(object[name].is_number(), "metric {name} is a number member");
                assert_eq!(metric["Unit"], "Count");
            }
        }
        root
    }

    #[test]
    fn lines_are_valid_emf_with_the_stack_dimension_and_the_values() {
        let text = line(
            &[
                (Metric::NotificationItems, 12),
                (Metric::ForgedNotificationItems, 3),
            ],
            &[],
        );
        assert!(!text.contains('\n'), "one line");
        let root = assert_valid_emf(&text);
        assert_eq!(root["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(
            root["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Stack"]])
        );
        assert_eq!(root["NotificationItems"], 12);
        assert_eq!(root["ForgedNotificationItems"], 3);
        assert_eq!(root["level"], "WARN");
    }

    #[test]
    fn every_metric_makes_a_valid_line_and_quiet_ones_are_info() {
        for metric in [
            Metric::NotificationItems,
            Metric::ForgedNotificationItems,
            Metric::GraphThrottled,
            Metric::TokenRefreshFailures,
            Metric::RenewalFailures,
        ] {
            let root = assert_valid_emf(&line(&[(metric, 0)], &[("reason", "transient")]));
            assert_eq!(root["level"], "INFO");
            assert_eq!(root["reason"], "transient");
        }
    }

    #[test]
    fn a_line_holds_only_names_counts_and_fixed_properties() {
        // Whatever a caller has at hand, a line can only take these: every string in it is a
        // metric name, a dimension, a property given as `&'static str` or the envelope's own.
        let text = line(
            &[(Metric::TokenRefreshFailures, 1)],
            &[("reason", "rejected")],
        );
        let root = assert_valid_emf(&text);
        let mut strings = Vec::new();
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
                Value::Object(o) => o.iter().for_each(|(k, v)| {
                    out.push(k.clone());
                    walk(v, out)
                }),
                _ => {}
            }
        }
        walk(&root, &mut strings);
        let allowed = [
            "_aws",
            "Timestamp",
            "CloudWatchMetrics",
            "Namespace",
            NAMESPACE,
            "Dimensions",
            "Stack",
            "Metrics",
            "Name",
            "Unit",
            "Count",
            "TokenRefreshFailures",
            "reason",
            "rejected",
            "level",
            "WARN",
            "message",
            "metrics",
            stack(),
        ];
        for s in strings {
            assert!(allowed.contains(&s.as_str()), "unexpected string {s:?}");
        }
        for secret in ["eyJ", "Bearer", "client_secret", "refresh_token", "@"] {
            assert!(!text.contains(secret));
        }
    }

    #[tokio::test]
    async fn capture_collects_the_lines_of_its_own_task() {
        let ((), lines) = capture(async {
            emit(&[(Metric::GraphThrottled, 1)], &[]);
            emit(&[(Metric::RenewalFailures, 2)], &[("stage", "sweep")]);
        })
        .await;
        assert_eq!(lines.len(), 2);
        assert_eq!(assert_valid_emf(&lines[1])["RenewalFailures"], 2);
    }
}
