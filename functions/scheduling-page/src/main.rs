use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    // DynamoDB, plus tokens (Secrets Manager) for the organiser's Graph calls and the links'
    // events (EventBridge, through the outbox); no SQS, no S3: the linker drops the rest.
    let aws = m365_connector::aws::AwsClients::from_env()
        .await
        .with_secrets_manager()
        .with_eventbridge();
    let connector = m365_connector::app::Connector::from_env(&aws)?;
    run(service_fn(|request| async {
        Ok::<_, Error>(scheduling_page::handle(&connector, request).await)
    }))
    .await
}
