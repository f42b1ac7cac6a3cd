use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    // DynamoDB, plus sync jobs (SQS) only: notifications are checked against the table, no
    // secret, no event, no S3: the linker drops every other SDK client.
    let aws = m365_connector::aws::AwsClients::from_env().await.with_sqs();
    let connector = m365_connector::app::Connector::from_env(&aws)?;
    run(service_fn(|request| async {
        Ok::<_, Error>(graph_webhook::handle(&connector, request).await)
    }))
    .await
}
