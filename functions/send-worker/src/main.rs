use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    // DynamoDB, plus tokens (Secrets Manager), retries (SQS), send and reauth events
    // (EventBridge), attachments and requests (S3): the linker drops every other SDK
    // client.
    let aws = m365_connector::aws::AwsClients::from_env()
        .await
        .with_secrets_manager()
        .with_sqs()
        .with_eventbridge()
        .with_s3();
    let connector = m365_connector::app::Connector::from_env(&aws)?;
    // Attachments and queued requests live in the bucket; retries go through the queue.
    connector.config.require_uploads_bucket()?;
    connector.config.require_send_queue()?;
    let settings = m365_connector::sending::SendSettings::default();
    run(service_fn(
        |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| async {
            Ok::<_, Error>(send_worker::handle(&connector, &settings, event.payload).await)
        },
    ))
    .await
}
