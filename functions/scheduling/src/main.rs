use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    let config = m365_connector::config::Config::from_env()?;
    let aws = m365_connector::aws::AwsClients::from_env().await;
    let connector = m365_connector::app::Connector::new(config, &aws);
    run(service_fn(|request| async {
        Ok::<_, Error>(scheduling::handle(&connector, request).await)
    }))
    .await
}
