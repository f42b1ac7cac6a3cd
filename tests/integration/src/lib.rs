//! Support for the integration tests and benchmarks: metering of AWS SDK calls, and the checker
//! of the published contract ([`contract`]).
//!
//! [`Meter`] is an AWS SDK interceptor that counts and times every operation by service and
//! operation name; [`metered_clients`] builds the connector's clients with it attached, so a
//! benchmark can print exactly how many DynamoDB, SQS, EventBridge and Secrets Manager calls a
//! handler made and how long they took. [`Meter::write_calls`] records them for
//! `scripts/cost.py`, so the cost table follows the calls the code makes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use m365_connector::aws::AwsClients;

pub mod contract;

/// Calls and total time of one (service, operation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub calls: u32,
    pub time: Duration,
    /// What the calls are billed by: DynamoDB items read or written (a transaction's twice; a
    /// Query's items read, 4 to a read unit of 4 KB), EventBridge entries; 1 for any other call.
    pub items: u32,
}

/// When the meter was last reset, and when each (service, operation) was first called since.
#[derive(Debug, Default)]
struct Firsts {
    since: Option<Instant>,
    calls: BTreeMap<(String, String), Instant>,
}

/// Counts and times AWS SDK operations. Clones share their tallies.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    tallies: Arc<Mutex<BTreeMap<(String, String), Usage>>>,
    firsts: Arc<Mutex<Firsts>>,
}

#[derive(Debug, Clone)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

/// The billing units of the request (see [`Usage::items`]), read before it is sent.
#[derive(Debug, Clone)]
struct Items(u32);

impl Storable for Items {
    type Storer = StoreReplace<Self>;
}

/// The billing units a request's input names (the output decides for a Query).
fn items_of(input: &aws_smithy_runtime_api::client::interceptors::context::Input) -> u32 {
    use aws_sdk_dynamodb::operation as ddb;
    if let Some(i) = input.downcast_ref::<ddb::batch_get_item::BatchGetItemInput>() {
        let keys = i
            .request_items()
            .map(|m| m.values().map(|k| k.keys().len()).sum());
        return keys.unwrap_or(0) as u32;
    }
    if let Some(i) = input.downcast_ref::<ddb::batch_write_item::BatchWriteItemInput>() {
        return i
            .request_items()
            .map(|m| m.values().map(Vec::len).sum())
            .unwrap_or(0) as u32;
    }
    if let Some(i) = input.downcast_ref::<ddb::transact_write_items::TransactWriteItemsInput>() {
        return 2 * i.transact_items().len() as u32;
    }
    if let Some(i) = input.downcast_ref::<ddb::transact_get_items::TransactGetItemsInput>() {
        return 2 * i.transact_items().len() as u32;
    }
    if let Some(i) =
        input.downcast_ref::<aws_sdk_eventbridge::operation::put_events::PutEventsInput>()
    {
        return i.entries().len() as u32;
    }
    1
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "Meter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        cfg.interceptor_state()
            .store_put(Items(items_of(_context.input())));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let elapsed = cfg
            .load::<Started>()
            .map(|s| s.0.elapsed())
            .unwrap_or_default();
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_owned(), m.name().to_owned()))
            .unwrap_or_else(|| ("unknown".into(), "unknown".into()));
        let query = context
            .output_or_error()
            .and_then(|o| o.ok())
            .and_then(|o| o.downcast_ref::<aws_sdk_dynamodb::operation::query::QueryOutput>());
        let items = match query {
            Some(q) => (q.count().max(1) as u32).div_ceil(4),
            None => cfg.load::<Items>().map(|i| i.0).unwrap_or(1),
        };
        let started = Instant::now() - elapsed;
        self.firsts
            .lock()
            .expect("meter lock")
            .calls
            .entry((service.clone(), operation.clone()))
            .and_modify(|first| *first = (*first).min(started))
            .or_insert(started);
        let mut tallies = self.tallies.lock().expect("meter lock");
        let usage = tallies.entry((service, operation)).or_default();
        usage.calls += 1;
        usage.time += elapsed;
        usage.items += items;
        Ok(())
    }
}

impl Meter {
    /// Forgets everything counted so far.
    pub fn reset(&self) {
        self.tallies.lock().expect("meter lock").clear();
        *self.firsts.lock().expect("meter lock") = Firsts {
            since: Some(Instant::now()),
            calls: BTreeMap::new(),
        };
    }

    /// How long after the last [`Meter::reset`] the first call of `operation` (e.g. "SendMessage")
    /// of `service` started.
    pub fn first_call(&self, service: &str, operation: &str) -> Option<Duration> {
        let firsts = self.firsts.lock().expect("meter lock");
        let since = firsts.since?;
        firsts
            .calls
            .iter()
            .filter(|((s, o), _)| s.eq_ignore_ascii_case(service) && o == operation)
            .map(|(_, at)| at.saturating_duration_since(since))
            .min()
    }

    /// (service, operation) -> usage.
    pub fn snapshot(&self) -> BTreeMap<(String, String), Usage> {
        self.tallies.lock().expect("meter lock").clone()
    }

    /// Usage summed per service.
    pub fn by_service(&self) -> BTreeMap<String, Usage> {
        let mut out: BTreeMap<String, Usage> = BTreeMap::new();
        for ((service, _), usage) in self.snapshot() {
            let total = out.entry(service).or_default();
            total.calls += usage.calls;
            total.time += usage.time;
        }
        out
    }

    /// Writes calls counted by a meter (its [`Meter::snapshot`]) as one unit of work of
    /// `scripts/cost.py` (`.local/bench/calls/<unit>.json`, which then replaces that unit's
    /// committed figures in `scripts/cost-calls.json`), with `graph_calls` made to Microsoft
    /// Graph and the identity platform.
    pub fn write_calls(
        unit: &str,
        source: &str,
        graph_calls: usize,
        snapshot: &BTreeMap<(String, String), Usage>,
    ) {
        let mut calls = serde_json::Map::new();
        for ((service, operation), usage) in snapshot {
            let ops = calls
                .entry(service.to_lowercase())
                .or_insert_with(|| serde_json::json!({}));
            ops[operation.as_str()] =
                serde_json::json!({"calls": usage.calls, "items": usage.items});
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.local/bench/calls");
        std::fs::create_dir_all(&dir).expect("create .local/bench/calls");
        let body = serde_json::json!({
            "source": source,
            "graph_calls": graph_calls,
            "calls": calls,
        });
        std::fs::write(
            dir.join(format!("{unit}.json")),
            serde_json::to_string_pretty(&body).expect("JSON"),
        )
        .expect("write the calls of a unit of work");
    }

    /// Calls made to one service (as the SDK names it, e.g. "dynamodb", "sqs").
    pub fn calls(&self, service: &str) -> u32 {
        self.by_service().get(service).map(|u| u.calls).unwrap_or(0)
    }
}

/// The connector's AWS clients with `meter` attached to each of them.
pub fn metered_clients(config: &aws_config::SdkConfig, meter: &Meter) -> AwsClients {
    AwsClients {
        sdk: config.clone(),
        dynamodb: aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(config)
                .interceptor(meter.clone())
                .build(),
        ),
        secrets: Some(aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(config)
                .interceptor(meter.clone())
                .build(),
        )),
        sqs: Some(aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(config)
                .interceptor(meter.clone())
                .build(),
        )),
        eventbridge: Some(aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::config::Builder::from(config)
                .interceptor(meter.clone())
                .build(),
        )),
        s3: Some(aws_sdk_s3::Client::from_conf(
            m365_connector::aws::s3_config(config)
                .interceptor(meter.clone())
                .build(),
        )),
    }
}

/// The optional clients of [`AwsClients`], for tests and benchmarks, whose clients are all built
/// ([`AwsClients::from_config`]): a missing one is a broken test set-up.
pub trait Wired {
    fn secrets(&self) -> &aws_sdk_secretsmanager::Client;
    fn sqs(&self) -> &aws_sdk_sqs::Client;
    fn eventbridge(&self) -> &aws_sdk_eventbridge::Client;
    fn s3(&self) -> &aws_sdk_s3::Client;
}

impl Wired for AwsClients {
    fn secrets(&self) -> &aws_sdk_secretsmanager::Client {
        self.secrets.as_ref().expect("tests build every client")
    }
    fn sqs(&self) -> &aws_sdk_sqs::Client {
        self.sqs.as_ref().expect("tests build every client")
    }
    fn eventbridge(&self) -> &aws_sdk_eventbridge::Client {
        self.eventbridge.as_ref().expect("tests build every client")
    }
    fn s3(&self) -> &aws_sdk_s3::Client {
        self.s3.as_ref().expect("tests build every client")
    }
}
