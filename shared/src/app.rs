//! The connector's dependencies, built once per container and borrowed by every request.

use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::ApiKeyVerifier;
use crate::aws::{AwsClients, Unwired};
use crate::config::Config;
use crate::crypto::{CryptoError, Keyring};
use crate::events::EventPublisher;
use crate::graph::GraphClient;
use crate::identity::{ClientCredentials, IdentityClient};
use crate::queue::SyncQueue;
use crate::secrets::{SecretCache, SecretsError};
use crate::sending::SendQueue;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum SecretUseError {
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Keyring(#[from] CryptoError),
    #[error("the Microsoft app secret has no client id or secret; see README, Deploy")]
    AppNotConfigured,
}

#[derive(Deserialize)]
struct AppSecret {
    client_id: String,
    client_secret: SecretString,
}

/// Everything a use case may need, over the AWS clients its function was built with (see
/// `crate::aws`). Building it does no network I/O.
pub struct Connector {
    pub config: Config,
    pub store: Store,
    pub secrets: SecretCache,
    pub api_keys: ApiKeyVerifier,
    pub identity: IdentityClient,
    pub graph: GraphClient,
    pub events: EventPublisher,
    pub queue: SyncQueue,
    /// Attachment uploads and queued sends' requests (the bucket is `config.uploads_bucket`);
    /// only in the functions built with S3 (see [`Connector::s3`]).
    pub s3: Option<aws_sdk_s3::Client>,
    /// The send queue (`config.send_queue_url`; the send functions only).
    pub send_queue: Option<SendQueue>,
}

impl Connector {
    pub fn new(config: Config, aws: &AwsClients) -> Self {
        let http = crate::graph::http_client();
        Self {
            store: Store::new(aws.dynamodb.clone(), &config.table_name),
            secrets: SecretCache::new(aws.secrets.clone(), config.secrets_cache_ttl)
                .with_ttl(&config.api_keys_secret_id, config.api_keys_cache_ttl),
            api_keys: ApiKeyVerifier::new(&config.api_keys_secret_id),
            identity: IdentityClient::new(http.clone(), config.identity_authority.clone()),
            graph: GraphClient::new(http, config.graph_base_url.clone()),
            events: EventPublisher::new(aws.eventbridge.clone(), &config.event_bus_name),
            queue: SyncQueue::new(aws.sqs.clone(), &config.sync_queue_url),
            s3: aws.s3.clone(),
            send_queue: aws
                .sqs
                .clone()
                .zip(config.send_queue_url.as_ref())
                .map(|(sqs, url)| SendQueue::new(sqs, url)),
            config,
        }
    }

    /// Reads the configuration from the environment and builds everything else over the
    /// function's clients: the one way every function's `main` gets its `Connector`. No network
    /// I/O.
    pub fn from_env(aws: &AwsClients) -> Result<Self, crate::config::ConfigError> {
        Ok(Self::new(Config::from_env()?, aws))
    }

    /// The S3 client, if this function was built with it.
    pub fn s3(&self) -> Result<&aws_sdk_s3::Client, Unwired> {
        self.s3.as_ref().ok_or(Unwired("S3"))
    }

    /// The token-encryption keyring (from the cached secret).
    pub async fn keyring(&self) -> Result<Keyring, SecretUseError> {
        let raw = self.secrets.get(&self.config.token_key_secret_id).await?;
        Ok(Keyring::from_secret_json(&raw)?)
    }

    /// The Entra app's client id and secret (from the cached secret).
    pub async fn credentials(&self) -> Result<ClientCredentials, SecretUseError> {
        let app: AppSecret = self.secrets.get_json(&self.config.ms_app_secret_id).await?;
        if app.client_id.is_empty() {
            return Err(SecretUseError::AppNotConfigured);
        }
        Ok(ClientCredentials {
            client_id: app.client_id,
            client_secret: app.client_secret,
        })
    }

    /// Authenticates an app-facing request by its `Authorization` header: the key's id and what
    /// it may do.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
    ) -> Result<crate::auth::ApiKey, crate::auth::AuthError> {
        self.api_keys
            .authenticate(&self.secrets, authorization)
            .await
    }
}
