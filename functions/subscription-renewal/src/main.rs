use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    let config = m365_connector::config::Config::from_env()?;
    let aws = m365_connector::aws::AwsClients::from_env().await;
    let connector = m365_connector::app::Connector::new(config, &aws);
    let connector = &connector;
    run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| async move {
            let now = event.payload.time.unwrap_or_else(chrono::Utc::now);
            Ok::<_, Error>(subscription_renewal::handle(connector, now).await?)
        },
    ))
    .await
}
