//! One function's init, step by step, in a fresh process: the steps every `main.rs` takes before
//! its first `invocation/next` (tracing, the SDK configuration, each AWS client, the connector
//! with its reqwest client), each timed, printed as one JSON object. `make bench-cold-start` runs
//! it fresh N times beside the functions: what it does not account for of a function's init
//! (beyond the bare binary's) is the loader's work before `main`.
//!
//! Needs the function environment the bench provisions (`Config::from_env`).

use std::time::Instant;

#[tokio::main]
async fn main() {
    let mut steps = serde_json::Map::new();
    let mut last = Instant::now();
    let mut mark = |name: &str| {
        let now = Instant::now();
        steps.insert(
            name.to_owned(),
            ((now - last).as_secs_f64() * 1000.0).into(),
        );
        last = now;
    };
    m365_connector::telemetry::init();
    mark("tracing");
    let sdk = m365_connector::aws::sdk_config_from_env().await;
    mark("sdk_config");
    let aws = m365_connector::aws::AwsClients::dynamodb_only(&sdk);
    mark("dynamodb_client");
    let aws = aws.with_sqs();
    mark("sqs_client");
    let aws = aws.with_secrets_manager();
    mark("secrets_manager_client");
    let aws = aws.with_eventbridge();
    mark("eventbridge_client");
    let aws = aws.with_s3();
    mark("s3_client");
    let connector =
        m365_connector::app::Connector::from_env(&aws).expect("the bench's environment");
    mark("connector");
    std::hint::black_box(connector);
    println!("{}", serde_json::Value::Object(steps));
}
