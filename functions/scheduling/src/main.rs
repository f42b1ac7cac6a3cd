use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    // DynamoDB, plus API keys and tokens (Secrets Manager), reauth events (EventBridge); no
    // SQS, no S3: the linker drops every other SDK client.
    let aws = m365_connector::aws::AwsClients::from_env()
        .await
        .with_secrets_manager()
        .with_eventbridge();
    let connector = m365_connector::app::Connector::from_env(&aws)?;
    run(service_fn(|request| async {
        Ok::<_, Error>(scheduling::handle(&connector, request).await)
    }))
    .await
}
