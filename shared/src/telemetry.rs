//! Tracing, initialised the way Lambda expects: JSON lines when the function's log format is
//! JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`), plain text otherwise; the level from `RUST_LOG`, else from
//! `AWS_LAMBDA_LOG_LEVEL` (the function's advanced logging control), else INFO.
//!
//! Whatever level is asked for, the crates that write payloads at TRACE never log below DEBUG
//! ([`caps`]): `lambda_runtime` writes every invocation's raw event ("raw JSON event received
//! from Lambda"), with API keys (`Authorization`), OAuth codes and states (query strings) and
//! webhook `clientState` values; the AWS SDK writes every request and response body and every
//! deserialized output, such as the items DynamoDB returns. TRACE stays useful for our own crate
//! and the HTTP transport, which write no payloads (checked by the log-secret check that ends
//! `make test`, which runs the end-to-end suite at TRACE).

use tracing::level_filters::LevelFilter;
use tracing::Subscriber;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Target prefixes of the crates that write payloads at TRACE: the Lambda runtime (raw events,
/// including `lambda_runtime_api_client`) and the AWS SDK (`aws_smithy_*` request and response
/// bodies and outputs, `aws_sdk_*`, `aws_config`).
pub const PAYLOAD_LOGGING_CRATES: &[&str] = &[
    "lambda_runtime",
    "lambda_http",
    "aws_smithy",
    "aws_sdk",
    "aws_config",
];

/// The output decided from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub json: bool,
    /// An `EnvFilter` directive.
    pub filter: String,
}

impl LogSettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let json = lookup("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
        let filter = lookup("RUST_LOG")
            .filter(|v| !v.trim().is_empty())
            .or_else(|| lookup("AWS_LAMBDA_LOG_LEVEL").map(|l| l.to_ascii_lowercase()))
            .unwrap_or_else(|| "info".to_owned());
        Self { json, filter }
    }
}

/// An upper bound on top of the configured filter: [`PAYLOAD_LOGGING_CRATES`] at DEBUG at most,
/// everything else as configured. (A bound, not a level: at INFO those crates stay at INFO.)
/// Targets match by prefix, so `aws_smithy` covers `aws_smithy_runtime` and the rest.
pub fn caps() -> Targets {
    PAYLOAD_LOGGING_CRATES.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |targets, name| targets.with_target(*name, LevelFilter::DEBUG),
    )
}

/// The subscriber for `settings`, writing to `writer`.
pub fn subscriber<W>(settings: &LogSettings, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // CloudWatch adds its own timestamp; Lambda's log lines carry no colour codes.
        .without_time()
        .with_ansi(false)
        .with_target(false);
    if settings.json {
        Box::new(
            builder
                .json()
                .with_current_span(false)
                .finish()
                .with(caps()),
        )
    } else {
        Box::new(builder.finish().with(caps()))
    }
}

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init() {
    let settings = LogSettings::from_lookup(|k| std::env::var(k).ok());
    // A second init (tests, or a handler calling twice) keeps the first subscriber.
    let _ = subscriber(&settings, std::io::stdout).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> LogSettings {
        LogSettings::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_to_text_at_info() {
        assert_eq!(
            settings(&[]),
            LogSettings {
                json: false,
                filter: "info".into()
            }
        );
    }

    #[test]
    fn json_when_lambda_asks_for_it() {
        assert!(settings(&[("AWS_LAMBDA_LOG_FORMAT", "JSON")]).json);
        assert!(!settings(&[("AWS_LAMBDA_LOG_FORMAT", "Text")]).json);
    }

    #[test]
    fn level_comes_from_rust_log_then_lambda() {
        assert_eq!(
            settings(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]).filter,
            "debug"
        );
        assert_eq!(
            settings(&[
                ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
                ("RUST_LOG", "warn,m365_connector=trace")
            ])
            .filter,
            "warn,m365_connector=trace"
        );
    }

    /// What the subscriber for `settings` writes for the events `emit` produces.
    fn written(settings: &LogSettings, emit: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let writer = sink.clone();
        tracing::subscriber::with_default(subscriber(settings, move || writer.clone()), emit);
        let bytes = sink.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    /// One event of each kind the test looks for.
    fn emit_all() {
        // What lambda_runtime writes at TRACE for every invocation: the whole event, with its
        // Authorization header and query string (API keys, OAuth codes).
        tracing::trace!(
            target: "lambda_runtime::layers::api_response",
            body = "{\"headers\":{\"authorization\":\"Bearer m365c_planted\"}}",
            "raw JSON event received from Lambda"
        );
        tracing::trace!(target: "lambda_http::request", "planted lambda_http event");
        // What the AWS SDK writes at TRACE: bodies and outputs, e.g. a DynamoDB item.
        tracing::trace!(
            target: "aws_smithy_runtime::client::orchestrator",
            output = "UpdateItemOutput { attributes: {\"verifier\": S(\"planted-verifier\")} }",
            "deserialized output"
        );
        tracing::debug!(target: "lambda_runtime::runtime", "runtime debug line");
        tracing::info!(target: "lambda_runtime::runtime", "runtime info line");
        tracing::trace!(target: "m365_connector::webhook", "connector trace line");
    }

    #[test]
    fn raw_invocation_events_are_not_logged_even_at_trace() {
        for (vars, connector_at_trace) in [
            (&[("AWS_LAMBDA_LOG_LEVEL", "TRACE")][..], true),
            (&[("RUST_LOG", "trace")], true),
            (
                &[("RUST_LOG", "debug,lambda_runtime=trace,lambda_http=trace")],
                false,
            ),
            (
                &[("AWS_LAMBDA_LOG_FORMAT", "JSON"), ("RUST_LOG", "trace")],
                true,
            ),
        ] {
            let out = written(&settings(vars), emit_all);
            assert!(!out.contains("m365c_planted"), "{vars:?}: {out}");
            assert!(!out.contains("planted lambda_http"), "{vars:?}: {out}");
            assert!(!out.contains("planted-verifier"), "{vars:?}: {out}");
            assert!(out.contains("runtime debug line"), "{vars:?}: {out}");
            assert_eq!(
                out.contains("connector trace line"),
                connector_at_trace,
                "{vars:?}: {out}"
            );
        }
    }

    #[test]
    fn the_caps_bound_the_runtime_crates_and_never_raise_them() {
        let out = written(&settings(&[("AWS_LAMBDA_LOG_LEVEL", "INFO")]), emit_all);
        assert!(out.contains("runtime info line"), "{out}");
        assert!(!out.contains("runtime debug line"), "{out}");
    }
}
