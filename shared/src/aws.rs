//! AWS clients, built once per container from one shared `SdkConfig` and reused across
//! invocations. Endpoints come from the standard `AWS_ENDPOINT_URL` (the local moto server in
//! development and tests), so no code path knows whether it is talking to AWS or to moto.

/// Every AWS client the connector uses. Cheap to clone (the SDK clients are `Arc`s inside).
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub eventbridge: aws_sdk_eventbridge::Client,
    pub s3: aws_sdk_s3::Client,
}

impl AwsClients {
    /// Loads region, credentials and endpoint from the environment. Does no network I/O.
    pub async fn from_env() -> Self {
        let config = aws_config::load_from_env().await;
        Self::from_config(&config)
    }

    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            eventbridge: aws_sdk_eventbridge::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3_config(config).build()),
        }
    }
}

/// S3 settings from the shared config. With an endpoint override (moto locally) buckets are
/// addressed by path, since `bucket.127.0.0.1` does not resolve; against AWS the default
/// virtual-hosted style is kept.
pub fn s3_config(config: &aws_config::SdkConfig) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some())
}
