use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    // DynamoDB, plus tokens (Secrets Manager), the sweep's sync jobs (SQS), the outbox
    // drain (EventBridge); no S3: the linker drops every other SDK client.
    let aws = m365_connector::aws::AwsClients::from_env()
        .await
        .with_secrets_manager()
        .with_sqs()
        .with_eventbridge();
    let connector = m365_connector::app::Connector::from_env(&aws)?;
    let connector = &connector;
    run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| async move {
            Ok::<_, Error>(subscription_renewal::handle(connector, event).await?)
        },
    ))
    .await
}
