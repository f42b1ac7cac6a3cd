use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    let config = m365_connector::config::Config::from_env()?;
    // Subscriptions need their webhook URLs: fail at start-up, not on the first new mailbox.
    config.graph_webhook_urls()?;
    let aws = m365_connector::aws::AwsClients::from_env().await;
    let connector = m365_connector::app::Connector::new(config, &aws);
    run(service_fn(
        |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| async {
            Ok::<_, Error>(mail_sync::handle(&connector, event).await)
        },
    ))
    .await
}
