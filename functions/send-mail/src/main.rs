use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    let config = m365_connector::config::Config::from_env()?;
    // Uploads cannot work without the bucket: fail at start, naming the variable.
    config.require_uploads_bucket()?;
    let aws = m365_connector::aws::AwsClients::from_env().await;
    let connector = m365_connector::app::Connector::new(config, &aws);
    let settings = m365_connector::sending::SendSettings::default();
    run(service_fn(|request| async {
        Ok::<_, Error>(send_mail::handle(&connector, &settings, request).await)
    }))
    .await
}
