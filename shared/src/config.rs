//! Typed configuration, read once at start-up from environment variables set by template.yaml.
//!
//! Every variable name is a constant here, so the template, the local stack and the code agree on
//! one spelling. A missing or malformed variable fails start-up with an error naming it.

use std::time::Duration;

use url::Url;

/// Name of the DynamoDB table holding every entity (single-table design).
pub const TABLE_NAME: &str = "TABLE_NAME";
/// Secret with the SHA-256 hashes of the app's API keys.
pub const API_KEYS_SECRET_ID: &str = "API_KEYS_SECRET_ID";
/// Secret with the AES-256 key(s) that encrypt tokens at rest.
pub const TOKEN_KEY_SECRET_ID: &str = "TOKEN_KEY_SECRET_ID";
/// Secret with the Microsoft app registration's client id and client secret.
pub const MS_APP_SECRET_ID: &str = "MS_APP_SECRET_ID";
/// How long a secret read from Secrets Manager stays cached in memory (seconds).
pub const SECRETS_CACHE_TTL_SECONDS: &str = "SECRETS_CACHE_TTL_SECONDS";
/// How long the API-key hashes stay cached (seconds): a removed key works at most this long.
pub const API_KEYS_CACHE_SECONDS: &str = "API_KEYS_CACHE_SECONDS";
/// OpenID authority of the Microsoft identity platform (or the simulator).
pub const IDENTITY_AUTHORITY: &str = "IDENTITY_AUTHORITY";
/// Base URL of Microsoft Graph v1.0 (or the simulator).
pub const GRAPH_BASE_URL: &str = "GRAPH_BASE_URL";
/// EventBridge bus that receives `connection.*` and `message.*` events.
pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";
/// URL of the per-mailbox sync queue (SQS FIFO).
pub const SYNC_QUEUE_URL: &str = "SYNC_QUEUE_URL";
/// Comma-separated origins (`https://app.example.com`) that `return_url`s may point at.
pub const ALLOWED_RETURN_ORIGINS: &str = "ALLOWED_RETURN_ORIGINS";
/// Public base URL of the API (custom domain); when unset, taken from the request's host.
pub const PUBLIC_BASE_URL: &str = "PUBLIC_BASE_URL";
/// S3 bucket for attachment uploads and queued sends' requests (set only on the send-mail and
/// send-worker functions, which require it at start-up through [`Config::require_uploads_bucket`]).
pub const UPLOADS_BUCKET: &str = "UPLOADS_BUCKET";
/// URL of the send queue (SQS, standard): one job per accepted send (set only on the send-mail
/// and send-worker functions, which require it through [`Config::require_send_queue`]).
pub const SEND_QUEUE_URL: &str = "SEND_QUEUE_URL";

/// URL Graph posts change notifications to; default `{PUBLIC_BASE_URL}/webhooks/graph/notifications`.
pub const GRAPH_NOTIFICATION_URL: &str = "GRAPH_NOTIFICATION_URL";
/// URL Graph posts lifecycle notifications to; default `{PUBLIC_BASE_URL}/webhooks/graph/lifecycle`.
pub const GRAPH_LIFECYCLE_URL: &str = "GRAPH_LIFECYCLE_URL";
/// How far back mail is synced, in days (default 365); older messages are not stored.
pub const SYNC_LOOKBACK_DAYS: &str = "SYNC_LOOKBACK_DAYS";
/// Days before now the calendar sync window starts (`calendarView/delta`).
pub const CALENDAR_PAST_DAYS: &str = "CALENDAR_PAST_DAYS";
/// Days after now the calendar sync window ends.
pub const CALENDAR_FUTURE_DAYS: &str = "CALENDAR_FUTURE_DAYS";
/// Messages per delta page asked of Graph (`Prefer: odata.maxpagesize`, default 99).
pub const SYNC_PAGE_SIZE: &str = "SYNC_PAGE_SIZE";

/// The CloudFormation stack's name: the `Stack` dimension of the connector's metrics (read by
/// `metrics`, not part of [`Config`]; unset locally, where it is `local`).
pub const STACK_NAME: &str = "STACK_NAME";

const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com/organizations/v2.0";
const DEFAULT_GRAPH: &str = "https://graph.microsoft.com/v1.0";
const DEFAULT_SECRETS_TTL: u64 = 300;
/// Short, so that revoking a key takes effect within seconds; at most one GetSecretValue per
/// container every 5 s.
const DEFAULT_API_KEYS_CACHE_SECONDS: u64 = 5;
const DEFAULT_LOOKBACK_DAYS: u32 = 365;
/// 99 messages plus the page's cursor item fill exactly four 25-item BatchWriteItem calls.
const DEFAULT_PAGE_SIZE: u16 = 99;

/// Configuration shared by every function.
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub api_keys_secret_id: String,
    pub token_key_secret_id: String,
    pub ms_app_secret_id: String,
    pub secrets_cache_ttl: Duration,
    /// Cache lifetime of the API-key secret alone (revocation within seconds).
    pub api_keys_cache_ttl: Duration,
    pub identity_authority: Url,
    pub graph_base_url: Url,
    pub event_bus_name: String,
    pub sync_queue_url: String,
    /// Origins (scheme, host, port) a `return_url` may point at.
    pub allowed_return_origins: Vec<url::Origin>,
    pub public_base_url: Option<Url>,
    /// Explicit Graph notification URL (else derived from `public_base_url`).
    pub graph_notification_url: Option<Url>,
    /// Explicit Graph lifecycle-notification URL (else derived from `public_base_url`).
    pub graph_lifecycle_url: Option<Url>,
    pub sync_lookback_days: u32,
    pub sync_page_size: u16,
    /// The calendar sync window: this many days back ...
    pub calendar_past_days: u32,
    /// ... to this many days ahead of when a round starts.
    pub calendar_future_days: u32,
    /// Where attachment uploads and queued sends' requests are kept; only the send functions
    /// have one.
    pub uploads_bucket: Option<String>,
    /// The send queue; only the send functions have one.
    pub send_queue_url: Option<String>,
}

/// Why the configuration could not be read. Always names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is malformed: {reason}")]
    Malformed { name: &'static str, reason: String },
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| -> Result<String, ConfigError> {
            match lookup(name) {
                Some(v) if !v.trim().is_empty() => Ok(v),
                _ => Err(ConfigError::Missing(name)),
            }
        };
        let url = |name: &'static str, default: &str| -> Result<Url, ConfigError> {
            let raw = lookup(name).unwrap_or_else(|| default.to_owned());
            let url =
                Url::parse(raw.trim_end_matches('/')).map_err(|e| ConfigError::Malformed {
                    name,
                    reason: e.to_string(),
                })?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(ConfigError::Malformed {
                    name,
                    reason: "must be an http(s) URL".into(),
                });
            }
            Ok(url)
        };
        let ttl = match lookup(SECRETS_CACHE_TTL_SECONDS) {
            None => DEFAULT_SECRETS_TTL,
            Some(raw) => raw.parse::<u64>().map_err(|e| ConfigError::Malformed {
                name: SECRETS_CACHE_TTL_SECONDS,
                reason: e.to_string(),
            })?,
        };
        let mut origins = Vec::new();
        for raw in lookup(ALLOWED_RETURN_ORIGINS)
            .unwrap_or_default()
            .split(',')
        {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let parsed = Url::parse(raw).map_err(|e| ConfigError::Malformed {
                name: ALLOWED_RETURN_ORIGINS,
                reason: format!("{raw}: {e}"),
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ConfigError::Malformed {
                    name: ALLOWED_RETURN_ORIGINS,
                    reason: format!("{raw}: must be an http(s) origin"),
                });
            }
            origins.push(parsed.origin());
        }
        let public_base_url = match lookup(PUBLIC_BASE_URL).filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(_) => Some(url(PUBLIC_BASE_URL, "")?),
        };
        let uploads_bucket = lookup(UPLOADS_BUCKET).filter(|v| !v.trim().is_empty());
        let send_queue_url = lookup(SEND_QUEUE_URL).filter(|v| !v.trim().is_empty());
        let optional_url = |name: &'static str| -> Result<Option<Url>, ConfigError> {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(None),
                Some(_) => Ok(Some(url(name, "")?)),
            }
        };
        let number = |name: &'static str, default: u64, max: u64| -> Result<u64, ConfigError> {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(n),
                    _ => Err(ConfigError::Malformed {
                        name,
                        reason: format!("must be an integer from 1 to {max}"),
                    }),
                },
            }
        };
        let graph_notification_url = optional_url(GRAPH_NOTIFICATION_URL)?;
        let graph_lifecycle_url = optional_url(GRAPH_LIFECYCLE_URL)?;
        let sync_lookback_days =
            number(SYNC_LOOKBACK_DAYS, DEFAULT_LOOKBACK_DAYS.into(), 36_500)? as u32;
        let sync_page_size = number(SYNC_PAGE_SIZE, DEFAULT_PAGE_SIZE.into(), 1000)? as u16;
        let calendar_past_days = number(CALENDAR_PAST_DAYS, 30, 3650)? as u32;
        let calendar_future_days = number(CALENDAR_FUTURE_DAYS, 180, 3650)? as u32;
        let api_keys_cache_seconds =
            number(API_KEYS_CACHE_SECONDS, DEFAULT_API_KEYS_CACHE_SECONDS, 3600)?;
        Ok(Self {
            graph_notification_url,
            graph_lifecycle_url,
            sync_lookback_days,
            sync_page_size,
            calendar_past_days,
            calendar_future_days,
            uploads_bucket,
            send_queue_url,
            event_bus_name: required(EVENT_BUS_NAME)?,
            sync_queue_url: required(SYNC_QUEUE_URL)?,
            allowed_return_origins: origins,
            public_base_url,
            table_name: required(TABLE_NAME)?,
            api_keys_secret_id: required(API_KEYS_SECRET_ID)?,
            token_key_secret_id: required(TOKEN_KEY_SECRET_ID)?,
            ms_app_secret_id: required(MS_APP_SECRET_ID)?,
            secrets_cache_ttl: Duration::from_secs(ttl),
            api_keys_cache_ttl: Duration::from_secs(api_keys_cache_seconds),
            identity_authority: url(IDENTITY_AUTHORITY, DEFAULT_AUTHORITY)?,
            graph_base_url: url(GRAPH_BASE_URL, DEFAULT_GRAPH)?,
        })
    }
}

impl Config {
    /// The uploads bucket, or the start-up error naming its variable (for functions that need it).
    pub fn require_uploads_bucket(&self) -> Result<&str, ConfigError> {
        self.uploads_bucket
            .as_deref()
            .ok_or(ConfigError::Missing(UPLOADS_BUCKET))
    }

    /// The send queue, or the start-up error naming its variable.
    pub fn require_send_queue(&self) -> Result<&str, ConfigError> {
        self.send_queue_url
            .as_deref()
            .ok_or(ConfigError::Missing(SEND_QUEUE_URL))
    }
}

impl Config {
    /// The notification and lifecycle URLs for new Graph subscriptions: configured, else derived
    /// from the public base URL. Only the functions that create subscriptions need them.
    pub fn graph_webhook_urls(&self) -> Result<(Url, Url), ConfigError> {
        let derive = |explicit: &Option<Url>, name: &'static str, path: &str| {
            if let Some(url) = explicit {
                return Ok(url.clone());
            }
            let base = self
                .public_base_url
                .as_ref()
                .ok_or(ConfigError::Missing(name))?;
            Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/'))).map_err(|e| {
                ConfigError::Malformed {
                    name: PUBLIC_BASE_URL,
                    reason: e.to_string(),
                }
            })
        };
        Ok((
            derive(
                &self.graph_notification_url,
                GRAPH_NOTIFICATION_URL,
                "/webhooks/graph/notifications",
            )?,
            derive(
                &self.graph_lifecycle_url,
                GRAPH_LIFECYCLE_URL,
                "/webhooks/graph/lifecycle",
            )?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn full() -> HashMap<&'static str, String> {
        HashMap::from([
            (TABLE_NAME, "connector".to_owned()),
            (API_KEYS_SECRET_ID, "api-keys".to_owned()),
            (TOKEN_KEY_SECRET_ID, "token-key".to_owned()),
            (MS_APP_SECRET_ID, "ms-app".to_owned()),
            (EVENT_BUS_NAME, "bus".to_owned()),
            (SYNC_QUEUE_URL, "https://sqs.example/q.fifo".to_owned()),
            (
                ALLOWED_RETURN_ORIGINS,
                "https://app.example.com, http://localhost:3000".to_owned(),
            ),
        ])
    }

    fn read(env: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn reads_a_complete_environment_with_defaults() {
        let config = read(&full()).unwrap();
        assert_eq!(config.table_name, "connector");
        assert_eq!(config.secrets_cache_ttl, Duration::from_secs(300));
        assert_eq!(config.api_keys_cache_ttl, Duration::from_secs(5));
        assert_eq!(
            config.identity_authority.as_str(),
            "https://login.microsoftonline.com/organizations/v2.0"
        );
        assert_eq!(
            config.graph_base_url.as_str(),
            "https://graph.microsoft.com/v1.0"
        );
    }

    #[test]
    fn each_missing_required_variable_is_named() {
        for name in [
            TABLE_NAME,
            API_KEYS_SECRET_ID,
            TOKEN_KEY_SECRET_ID,
            MS_APP_SECRET_ID,
        ] {
            let mut env = full();
            env.remove(name);
            assert_eq!(read(&env).unwrap_err(), ConfigError::Missing(name));
            env.insert(name, "  ".into());
            assert_eq!(
                read(&env).unwrap_err(),
                ConfigError::Missing(name),
                "blank {name}"
            );
        }
    }

    #[test]
    fn malformed_variables_are_named() {
        let cases = [
            (SECRETS_CACHE_TTL_SECONDS, "five minutes"),
            (API_KEYS_CACHE_SECONDS, "0"),
            (API_KEYS_CACHE_SECONDS, "5s"),
            (IDENTITY_AUTHORITY, "not a url"),
            (GRAPH_BASE_URL, "ftp://graph.example"),
            (ALLOWED_RETURN_ORIGINS, "https://ok.example,notaurl"),
            (ALLOWED_RETURN_ORIGINS, "javascript:alert(1)"),
            (PUBLIC_BASE_URL, "::"),
        ];
        for (name, value) in cases {
            let mut env = full();
            env.insert(name, value.into());
            match read(&env).unwrap_err() {
                ConfigError::Malformed { name: got, .. } => assert_eq!(got, name),
                other => panic!("{name}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn webhook_urls_derive_from_the_public_base_url_unless_configured() {
        let mut env = full();
        assert_eq!(
            read(&env).unwrap().graph_webhook_urls().unwrap_err(),
            ConfigError::Missing(GRAPH_NOTIFICATION_URL)
        );
        env.insert(PUBLIC_BASE_URL, "https://api.example.com/".into());
        let (n, l) = read(&env).unwrap().graph_webhook_urls().unwrap();
        assert_eq!(
            n.as_str(),
            "https://api.example.com/webhooks/graph/notifications"
        );
        assert_eq!(
            l.as_str(),
            "https://api.example.com/webhooks/graph/lifecycle"
        );
        env.insert(GRAPH_LIFECYCLE_URL, "https://hooks.example.com/l".into());
        let (_, l) = read(&env).unwrap().graph_webhook_urls().unwrap();
        assert_eq!(l.as_str(), "https://hooks.example.com/l");
    }

    #[test]
    fn sync_settings_default_and_reject_out_of_range_values() {
        let config = read(&full()).unwrap();
        assert_eq!(
            (config.sync_lookback_days, config.sync_page_size),
            (365, 99)
        );
        for (name, bad) in [
            (SYNC_LOOKBACK_DAYS, "0"),
            (SYNC_PAGE_SIZE, "5000"),
            (SYNC_PAGE_SIZE, "x"),
        ] {
            let mut env = full();
            env.insert(name, bad.into());
            assert!(matches!(read(&env), Err(ConfigError::Malformed { name: n, .. }) if n == name));
        }
    }

    #[test]
    fn error_message_names_the_variable() {
        let mut env = full();
        env.remove(TABLE_NAME);
        assert_eq!(
            read(&env).unwrap_err().to_string(),
            "environment variable TABLE_NAME is not set"
        );
    }
}
