use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    m365_connector::telemetry::init();
    run(service_fn(|request| async {
        Ok::<_, Error>(docs::handle(request))
    }))
    .await
}
