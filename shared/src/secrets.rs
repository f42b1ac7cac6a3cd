//! Secrets Manager reads behind an in-memory cache with a TTL.
//!
//! Nothing is fetched at cold start: a secret is read the first time a request needs it and then
//! served from memory until the TTL passes, so a warm container makes no Secrets Manager call per
//! request, and a rotated secret is picked up within one TTL. A secret may have a lifetime of its
//! own ([`SecretCache::with_ttl`]): the API-key hashes are re-read within seconds, so that a
//! removed key stops working promptly, while the other secrets keep the longer default.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("reading secret {id} from Secrets Manager failed")]
    Fetch {
        id: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("secret {id} has no string value")]
    Empty { id: String },
    /// The secret's content is not the expected JSON. The serde error is not kept: it could quote
    /// parts of the secret.
    #[error("secret {id} is malformed: {what}")]
    Malformed { id: String, what: String },
    #[error(transparent)]
    Unwired(#[from] crate::aws::Unwired),
}

struct Entry {
    value: SecretString,
    fetched_at: Instant,
}

/// A TTL cache in front of Secrets Manager.
pub struct SecretCache {
    /// `None` in a function built without Secrets Manager: a read fails with
    /// [`SecretsError::Unwired`].
    client: Option<aws_sdk_secretsmanager::Client>,
    ttl: Duration,
    /// Lifetimes of particular secrets, overriding `ttl`.
    ttls: HashMap<String, Duration>,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for SecretCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretCache")
            .field("ttl", &self.ttl)
            .field("ttls", &self.ttls)
            .finish_non_exhaustive()
    }
}

impl SecretCache {
    pub fn new(client: impl Into<Option<aws_sdk_secretsmanager::Client>>, ttl: Duration) -> Self {
        Self {
            client: client.into(),
            ttl,
            ttls: HashMap::new(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Gives secret `id` its own cache lifetime instead of the default.
    pub fn with_ttl(mut self, id: impl Into<String>, ttl: Duration) -> Self {
        self.ttls.insert(id.into(), ttl);
        self
    }

    /// How long secret `id` is served from memory.
    pub fn ttl(&self, id: &str) -> Duration {
        self.ttls.get(id).copied().unwrap_or(self.ttl)
    }

    /// The secret's string value, from memory when fresh.
    pub async fn get(&self, id: &str) -> Result<SecretString, SecretsError> {
        if let Some(entry) = self.entries.lock().await.get(id) {
            if entry.fetched_at.elapsed() < self.ttl(id) {
                return Ok(entry.value.clone());
            }
        }
        let client = self
            .client
            .as_ref()
            .ok_or(crate::aws::Unwired("Secrets Manager"))?;
        let out = client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| SecretsError::Fetch {
                id: id.to_owned(),
                source: Box::new(e),
            })?;
        let value = SecretString::from(
            out.secret_string
                .ok_or_else(|| SecretsError::Empty { id: id.to_owned() })?,
        );
        self.entries.lock().await.insert(
            id.to_owned(),
            Entry {
                value: value.clone(),
                fetched_at: Instant::now(),
            },
        );
        Ok(value)
    }

    /// The secret parsed as JSON into `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, id: &str) -> Result<T, SecretsError> {
        parse_json(id, &self.get(id).await?)
    }

    /// Forgets a cached value, e.g. after the secret proved stale.
    pub async fn invalidate(&self, id: &str) {
        self.entries.lock().await.remove(id);
    }
}

/// A secret's value parsed as JSON into `T`, with an error that never quotes the value.
pub fn parse_json<T: DeserializeOwned>(id: &str, raw: &SecretString) -> Result<T, SecretsError> {
    serde_json::from_str(raw.expose_secret()).map_err(|e| SecretsError::Malformed {
        id: id.to_owned(),
        // Category and position only: serde's message may echo secret content.
        what: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_with_its_own_lifetime_keeps_it_and_the_others_the_default() {
        let cache = SecretCache::new(None, Duration::from_secs(300))
            .with_ttl("api-keys", Duration::from_secs(5));
        assert_eq!(cache.ttl("api-keys"), Duration::from_secs(5));
        assert_eq!(cache.ttl("token-key"), Duration::from_secs(300));
    }

    #[test]
    fn a_malformed_secret_is_reported_without_its_content() {
        let raw = SecretString::from(r#"{"keys": "very-secret"}"#.to_owned());
        // serde's own message here would be `invalid type: string "very-secret", ...`.
        let e = parse_json::<HashMap<String, Vec<String>>>("api-keys", &raw).unwrap_err();
        assert!(!e.to_string().contains("very-secret"), "{e}");
        assert!(e.to_string().contains("api-keys"), "{e}");
    }
}
