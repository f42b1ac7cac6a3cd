use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    let connector = m365_connector::app::Connector::from_env().await?;
    // Uploads and accepted sends need the bucket and the queue: fail at start, naming the variable.
    connector.config.require_uploads_bucket()?;
    connector.config.require_send_queue()?;
    run(service_fn(|request| async {
        Ok::<_, Error>(send_mail::handle(&connector, request).await)
    }))
    .await
}
