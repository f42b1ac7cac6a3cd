//! The Microsoft 365 (Exchange Online) mail and calendar connector.
//!
//! This crate owns the domain and every adapter; the Lambda functions under `functions/` only turn
//! events into calls to it and its results into responses.
//!
//! - [`app`]: the `Connector`, every dependency built once per container and borrowed per request.
//! - [`auth`]: API-key authentication of the app-facing routes.
//! - [`aws`]: AWS clients, built once per container.
//! - [`config`]: typed configuration, read once from the environment.
//! - [`connect`]: connecting a mailbox (OAuth sign-in with PKCE, admin consent), reading, deleting.
//! - [`connections`]: listing connections.
//! - [`crypto`]: envelope-free AES-256-GCM encryption of token material at rest.
//! - [`domain`]: types that parse (ids, addresses, pagination) and the connection model.
//! - [`edge`]: the HTTP edge of the API functions: routing on API Gateway's route key, extractors.
//! - [`events`]: events to the client app on EventBridge, with stable ids for deduplication.
//! - [`graph`]: the Microsoft Graph v1.0 client (mail, calendar, sending, subscriptions).
//! - [`http`]: the one place that builds HTTP responses and maps errors to status codes.
//! - [`identity`]: OAuth 2.0 / OpenID Connect against the Microsoft identity platform.
//! - [`mail`]: reading synced mail (stored metadata, live bodies).
//! - [`metrics`]: operational metrics as CloudWatch Embedded Metric Format log lines.
//! - [`queue`]: the per-mailbox sync queue (SQS FIFO, one message group per connection).
//! - [`scheduling`]: free/busy, meeting times and booking.
//! - [`secrets`]: Secrets Manager reads behind an in-memory TTL cache.
//! - [`sending`]: sending mail as the user, exactly once, with attachments.
//! - [`store`]: the single-table DynamoDB layout and its repository.
//! - [`sync`]: the mail sync engine (subscriptions, delta rounds, events) and the renewal sweep.
//! - [`telemetry`]: tracing set up the way Lambda expects.
//! - [`tenants`]: a tenant's access policy (`send_and_view`, `view_only`, `off`).
//! - [`tokens`]: a valid access token for a connection, refreshed when needed.
//! - [`webhook`]: Graph change and lifecycle notifications into per-mailbox sync jobs.

pub mod app;
pub mod auth;
pub mod aws;
pub mod config;
pub mod connect;
pub mod connections;
pub mod crypto;
pub mod domain;
pub mod edge;
pub mod events;
pub mod failures;
pub mod graph;
pub mod http;
pub mod identity;
pub mod mail;
pub mod metrics;
pub mod outbox;
pub mod queue;
pub mod scheduling;
pub mod secrets;
pub mod sending;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod tenants;
pub mod tokens;
pub mod webhook;
