//! Scheduling: free/busy across attendees, meeting times that are really free, and booking,
//! rescheduling and cancelling meetings with a Teams link.
//!
//! - [`zones`]: IANA <-> Windows zone names (CLDR windowsZones).
//! - [`custom_zone`]: Graph's rule-based `customTimeZone` (bias and DST transitions).
//! - [`request`]: request bodies and the types they parse into.
//! - [`slots`]: the pure slot computation.
//! - [`service`]: the use cases (Graph calls, connection checks, idempotent booking).
//! - [`links`]: scheduling links and the public booking page's use cases.

pub mod custom_zone;
pub mod links;
pub mod request;
pub mod service;
pub mod slots;
pub mod zones;
