//! Behaviour tests of the simulator over HTTP, as the connector and its tests use it.

mod calendar;
mod client_credentials;
mod faults;
mod fidelity;
mod helpers;
mod identity;
mod mail;
mod sending;
mod subscriptions;
mod sync_fidelity;
