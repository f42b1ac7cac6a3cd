//! The Microsoft 365 (Exchange Online) mail and calendar connector.
//!
//! This crate owns the domain and every adapter; the Lambda functions under `functions/` only turn
//! events into calls to it and its results into responses.
//!
//! - [`config`]: typed configuration, read once from the environment.
//! - [`telemetry`]: tracing set up the way Lambda expects.
//! - [`http`]: the one place that builds HTTP responses and maps errors to status codes.
//! - [`auth`]: API-key authentication of the app-facing routes.
//! - [`secrets`]: Secrets Manager reads behind an in-memory TTL cache.
//! - [`crypto`]: envelope-free AES-256-GCM encryption of token material at rest.
//! - [`store`]: the single-table DynamoDB layout and its repository.
//! - [`domain`]: types that parse (ids, addresses, pagination) and the connection model.
//! - [`aws`]: AWS clients, built once per container.
//! - [`connections`]: the connection use cases.
//! - [`sync`]: the mail sync engine (subscriptions, delta rounds, message events).
//! - [`mail`]: reading synced mail (stored metadata, live bodies).
//! - [`scheduling`]: free/busy, meeting times and booking.
//! - [`webhook`]: Graph change and lifecycle notifications into per-mailbox sync jobs.

pub mod app;
pub mod auth;
pub mod aws;
pub mod config;
pub mod connect;
pub mod connections;
pub mod crypto;
pub mod domain;
pub mod events;
pub mod failures;
pub mod graph;
pub mod http;
pub mod identity;
pub mod mail;
pub mod queue;
pub mod scheduling;
pub mod secrets;
pub mod sending;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod tokens;
pub mod webhook;
