//! Integration tests of the connector against the local stack: a moto server provisioned from
//! template.yaml (AWS) and, in later suites, the Graph simulator. Run them with `make test`, which
//! starts the stack and exports its settings; run bare, the stack-backed tests fail naming what
//! is missing.

mod helpers;

mod admin_consent;
mod bench_calendar;
mod bench_connect;
mod bench_forged_webhook;
mod bench_renewal;
mod bench_scheduling;
mod bench_send_memory;
mod bench_sync;
mod calendar;
mod claims;
mod connect;
mod contract;
mod events;
mod hostile;
mod layout;
mod purge;
mod queue;
mod renewal;
mod scheduling;
mod scheduling_links;
mod scopes;
mod secrets_and_crypto;
mod send_mail;
mod store;
mod sync;
mod tenant_policy;
mod tokens;
mod webhook;
