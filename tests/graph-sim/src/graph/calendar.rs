//! Calendar routes. The calendar model lives in the `graph-sim-calendar` crate; until its API
//! is wired, these routes answer `501 notImplemented` in Graph's error shape.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;

use super::{authenticate, CAL_READ};
use crate::respond::{GraphError, GraphResult};
use crate::SimRef;

/// Per-user calendar state.
#[derive(Debug, Default)]
pub struct CalendarState {}

pub fn routes() -> Router<SimRef> {
    Router::new().route("/v1.0/me/calendar/getSchedule", post(get_schedule))
}

async fn get_schedule(State(sim): State<SimRef>, headers: HeaderMap) -> GraphResult {
    let caller = authenticate(&sim, &headers)?;
    caller.require_any(CAL_READ)?;
    caller.require_mailbox()?;
    Err(GraphError::new(
        StatusCode::NOT_IMPLEMENTED,
        "notImplemented",
        "The calendar model is not wired yet.",
    ))
}

/// Events of a user for the control API.
pub fn events_of(_sim: &SimRef, _user_id: &str) -> Vec<serde_json::Value> {
    Vec::new()
}
