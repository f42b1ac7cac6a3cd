use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    let connector = m365_connector::app::Connector::from_env().await?;
    // Subscriptions need their webhook URLs: fail at start-up, not on the first new mailbox.
    connector.config.graph_webhook_urls()?;
    run(service_fn(
        |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| async {
            Ok::<_, Error>(mail_sync::handle(&connector, event).await)
        },
    ))
    .await
}
