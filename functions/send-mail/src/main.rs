use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    let connector = m365_connector::app::Connector::from_env().await?;
    // Uploads cannot work without the bucket: fail at start, naming the variable.
    connector.config.require_uploads_bucket()?;
    let settings = m365_connector::sending::SendSettings::default();
    run(service_fn(|request| async {
        Ok::<_, Error>(send_mail::handle(&connector, &settings, request).await)
    }))
    .await
}
