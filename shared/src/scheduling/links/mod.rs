//! Scheduling links: the recruiter creates a link naming the interviewers (and pools of them),
//! the candidate opens it on the public page, sees times that really work for the panel and books
//! one; the interview lands in everyone's calendar with a Teams link.
//!
//! - [`model`]: the link as asked for and as stored, and its URL token.
//! - [`pools`]: which pool members attend (fairness) and which leases a slot takes (pure).
//! - [`service`]: the use cases, for the API (create, read, change, delete) and for the page
//!   (offered slots, book, reschedule, cancel).
//!
//! No double booking: a booking re-reads the panel's free/busy from Graph for its slot, then
//! takes the link and one lease per interviewer per [`LEASE_BUCKET_MINUTES`] of the slot in one
//! DynamoDB transaction (`crate::store::links`). Only then is the event created, idempotently
//! (Graph `transactionId`).

pub mod model;
pub mod pools;
pub mod service;

pub use model::{Link, LinkBody, LinkPatchBody, LinkSpec, LinkStatus, LinkToken};
pub use service::{
    BookingRequest, CreatedLink, LinkError, LinkView, OfferedSlot, PageLink, MAX_OFFERED_SLOTS,
};

/// The size of a lease bucket. Link durations and granularities are multiples of it; every
/// zone's UTC offset is a multiple of 15 minutes, so slots start and end on bucket boundaries.
pub const LEASE_BUCKET_MINUTES: i64 = 15;
