use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    // DynamoDB, plus tokens (Secrets Manager), job retries (SQS), message events
    // (EventBridge), a purge's staged uploads (S3): the linker drops every other SDK
    // client.
    let aws = m365_connector::aws::AwsClients::from_env()
        .await
        .with_secrets_manager()
        .with_sqs()
        .with_eventbridge()
        .with_s3();
    let connector = m365_connector::app::Connector::from_env(&aws)?;
    // Subscriptions need their webhook URLs: fail at start-up, not on the first new mailbox.
    connector.config.graph_webhook_urls()?;
    run(service_fn(
        |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| async {
            Ok::<_, Error>(mail_sync::handle(&connector, event).await)
        },
    ))
    .await
}
