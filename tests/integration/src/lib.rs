//! Support for the integration tests and benchmarks: metering of AWS SDK calls, and the checker
//! of the published contract ([`contract`]).
//!
//! [`Meter`] is an AWS SDK interceptor that counts and times every operation by service and
//! operation name; [`metered_clients`] builds the connector's clients with it attached, so a
//! benchmark can print exactly how many DynamoDB, SQS, EventBridge and Secrets Manager calls a
//! handler made and how long they took.

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
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
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

    /// Calls made to one service (as the SDK names it, e.g. "dynamodb", "sqs").
    pub fn calls(&self, service: &str) -> u32 {
        self.by_service().get(service).map(|u| u.calls).unwrap_or(0)
    }
}

/// The connector's AWS clients with `meter` attached to each of them.
pub fn metered_clients(config: &aws_config::SdkConfig, meter: &Meter) -> AwsClients {
    AwsClients {
        dynamodb: aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(config)
                .interceptor(meter.clone())
                .build(),
        ),
        secrets: aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(config)
                .interceptor(meter.clone())
                .build(),
        ),
        sqs: aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(config)
                .interceptor(meter.clone())
                .build(),
        ),
        eventbridge: aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::config::Builder::from(config)
                .interceptor(meter.clone())
                .build(),
        ),
        s3: aws_sdk_s3::Client::from_conf(
            m365_connector::aws::s3_config(config)
                .interceptor(meter.clone())
                .build(),
        ),
    }
}
