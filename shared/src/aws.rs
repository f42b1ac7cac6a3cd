//! AWS clients, built once per container from one shared `SdkConfig` and reused across
//! invocations. Endpoints come from the standard `AWS_ENDPOINT_URL` (the local moto server in
//! development and tests), so no code path knows whether it is talking to AWS or to moto.
//!
//! Each function names the clients it calls in its `main.rs` (`AwsClients::from_env().await
//! .with_sqs()...`). A client that no function's `main` builds is never referenced from that
//! binary, so the linker drops its SDK crate: building a client pulls in its whole configuration
//! stack (endpoint rules, retry classifiers, interceptors; for S3 a large share of the binary),
//! and every megabyte is paid again at each cold start. DynamoDB is the exception: every function
//! reads the table. A path that calls a client its function was built without fails with
//! [`Unwired`] (a bug in that `main.rs`, caught by the end-to-end suite, which runs the binaries).

/// Every AWS client the connector may use. Cheap to clone (the SDK clients are `Arc`s inside).
#[derive(Clone, Debug)]
pub struct AwsClients {
    /// The configuration the clients are built from (region, credentials, endpoint, HTTP client).
    pub sdk: aws_config::SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub secrets: Option<aws_sdk_secretsmanager::Client>,
    pub sqs: Option<aws_sdk_sqs::Client>,
    pub eventbridge: Option<aws_sdk_eventbridge::Client>,
    pub s3: Option<aws_sdk_s3::Client>,
}

/// A client was used that this function's `main.rs` did not build.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("this function is built without the {0} client; name it in its main.rs")]
pub struct Unwired(pub &'static str);

impl AwsClients {
    /// Region, credentials and endpoint from the environment, and the DynamoDB client; name the
    /// others with the `with_*` methods. Does no network I/O.
    pub async fn from_env() -> Self {
        Self::dynamodb_only(&sdk_config_from_env().await)
    }

    /// DynamoDB only, from a loaded configuration.
    pub fn dynamodb_only(config: &aws_config::SdkConfig) -> Self {
        Self {
            sdk: config.clone(),
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            secrets: None,
            sqs: None,
            eventbridge: None,
            s3: None,
        }
    }

    /// Every client: for tests and benchmarks, which drive every path in one process.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self::dynamodb_only(config)
            .with_secrets_manager()
            .with_sqs()
            .with_eventbridge()
            .with_s3()
    }

    pub fn with_secrets_manager(mut self) -> Self {
        self.secrets = Some(aws_sdk_secretsmanager::Client::new(&self.sdk));
        self
    }

    pub fn with_sqs(mut self) -> Self {
        self.sqs = Some(aws_sdk_sqs::Client::new(&self.sdk));
        self
    }

    pub fn with_eventbridge(mut self) -> Self {
        self.eventbridge = Some(aws_sdk_eventbridge::Client::new(&self.sdk));
        self
    }

    pub fn with_s3(mut self) -> Self {
        self.s3 = Some(aws_sdk_s3::Client::from_conf(s3_config(&self.sdk).build()));
        self
    }
}

/// Region, credentials and endpoint from the environment, with [`https_client`]: the one way to
/// load the SDK configuration (tests and benchmarks too). Does no network I/O.
pub async fn sdk_config_from_env() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await
}

/// The SDK's HTTP client, on the same TLS stack as the Graph client (rustls with *ring*): the
/// SDK's default would bring a second crypto library (aws-lc) into every binary, about a
/// megabyte and the slowest crate of the build. Roots are the platform's, as the default's.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// S3 settings from the shared config. With an endpoint override (moto locally) buckets are
/// addressed by path, since `bucket.127.0.0.1` does not resolve; against AWS the default
/// virtual-hosted style is kept.
pub fn s3_config(config: &aws_config::SdkConfig) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some())
}
