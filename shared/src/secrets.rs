//! Secrets Manager reads behind an in-memory cache with a TTL.
//!
//! Nothing is fetched at cold start: a secret is read the first time a request needs it and then
//! served from memory until the TTL passes, so a warm container makes no Secrets Manager call per
//! request, and a rotated secret is picked up within one TTL.

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
}

struct Entry {
    value: SecretString,
    fetched_at: Instant,
}

/// A TTL cache in front of Secrets Manager.
pub struct SecretCache {
    client: aws_sdk_secretsmanager::Client,
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for SecretCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl SecretCache {
    pub fn new(client: aws_sdk_secretsmanager::Client, ttl: Duration) -> Self {
        Self {
            client,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The secret's string value, from memory when fresh.
    pub async fn get(&self, id: &str) -> Result<SecretString, SecretsError> {
        if let Some(entry) = self.entries.lock().await.get(id) {
            if entry.fetched_at.elapsed() < self.ttl {
                return Ok(entry.value.clone());
            }
        }
        let out = self
            .client
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
        let raw = self.get(id).await?;
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

    /// Forgets a cached value, e.g. after the secret proved stale.
    pub async fn invalidate(&self, id: &str) {
        self.entries.lock().await.remove(id);
    }
}
