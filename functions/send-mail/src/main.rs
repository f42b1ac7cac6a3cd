use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    // DynamoDB, plus API keys and tokens (Secrets Manager), the send queue (SQS), reauth
    // events (EventBridge), uploads and queued requests (S3): the linker drops every other
    // SDK client.
    let aws = m365_connector::aws::AwsClients::from_env()
        .await
        .with_secrets_manager()
        .with_sqs()
        .with_eventbridge()
        .with_s3();
    let connector = m365_connector::app::Connector::from_env(&aws)?;
    // Uploads and accepted sends need the bucket and the queue: fail at start, naming the variable.
    connector.config.require_uploads_bucket()?;
    connector.config.require_send_queue()?;
    run(service_fn(|request| async {
        Ok::<_, Error>(send_mail::handle(&connector, request).await)
    }))
    .await
}
