//! Tracing, initialised the way Lambda expects: JSON lines when the function's log format is
//! JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`), plain text otherwise; the level from `RUST_LOG`, else from
//! `AWS_LAMBDA_LOG_LEVEL` (the function's advanced logging control), else INFO.

use tracing_subscriber::EnvFilter;

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

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init() {
    let settings = LogSettings::from_lookup(|k| std::env::var(k).ok());
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // CloudWatch adds its own timestamp; Lambda's log lines carry no colour codes.
        .without_time()
        .with_ansi(false)
        .with_target(false);
    let result = if settings.json {
        builder.json().with_current_span(false).try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests, or a handler calling twice) keeps the first subscriber.
    let _ = result;
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
}
