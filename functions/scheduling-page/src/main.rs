use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    let connector = m365_connector::app::Connector::from_env().await?;
    run(service_fn(|request| async {
        Ok::<_, Error>(scheduling_page::handle(&connector, request).await)
    }))
    .await
}
