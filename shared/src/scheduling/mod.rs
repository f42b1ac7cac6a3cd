//! Scheduling: free/busy across attendees, meeting times that are really free, and booking,
//! rescheduling and cancelling meetings with a Teams link.
//!
//! - [`zones`]: IANA <-> Windows zone names (CLDR windowsZones).
//! - [`request`]: request bodies and the types they parse into.
//! - [`slots`]: the pure slot computation.
//! - [`service`]: the use cases (Graph calls, connection checks, idempotent booking).

pub mod request;
pub mod service;
pub mod slots;
pub mod zones;
