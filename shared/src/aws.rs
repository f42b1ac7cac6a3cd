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

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

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

/// The SDK's HTTP client: a `reqwest` client, the stack the Graph client already uses (rustls on
/// *ring*, Mozilla's roots compiled in as `webpki-roots`). The SDK's own default would bring a
/// second crypto library (aws-lc) and, when each SDK client is built, read and parse the
/// platform's certificate files (rustls-native-certs): measured, most of a function's init
/// beyond a bare `lambda_http` binary (README, Performance). No total timeout here: S3
/// downloads stream for as long as an attachment takes; the function's timeout bounds them.
pub fn https_client() -> SharedHttpClient {
    let client = reqwest::Client::builder()
        // The SDK's default connect timeout.
        .connect_timeout(std::time::Duration::from_millis(3_100))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a TLS backend is compiled in");
    SharedHttpClient::new(ReqwestClient(client))
}

#[derive(Debug)]
struct ReqwestClient(reqwest::Client);

impl HttpClient for ReqwestClient {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ReqwestConnector(self.0.clone()))
    }
}

#[derive(Debug)]
struct ReqwestConnector(reqwest::Client);

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.0.clone();
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::user(e.into()))?;
            let (parts, body) = request.into_parts();
            // In-memory bodies go as bytes (reqwest sets their length); others stream.
            let body = match body.bytes() {
                Some(bytes) => reqwest::Body::from(bytes::Bytes::copy_from_slice(bytes)),
                None => reqwest::Body::wrap(body),
            };
            let request = reqwest::Request::try_from(http::Request::from_parts(parts, body))
                .map_err(|e| ConnectorError::user(e.into()))?;
            let response = client.execute(request).await.map_err(|e| {
                // Timeouts and connection failures are what the SDK's retries are for.
                if e.is_timeout() {
                    ConnectorError::timeout(e.into())
                } else if e.is_connect() || e.is_request() || e.is_body() {
                    ConnectorError::io(e.into())
                } else {
                    ConnectorError::other(e.into(), None)
                }
            })?;
            let response = http::Response::<reqwest::Body>::from(response)
                .map(aws_smithy_types::body::SdkBody::from_body_1_x);
            HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// S3 settings from the shared config. With an endpoint override (moto locally) buckets are
/// addressed by path, since `bucket.127.0.0.1` does not resolve; against AWS the default
/// virtual-hosted style is kept.
pub fn s3_config(config: &aws_config::SdkConfig) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some())
}
