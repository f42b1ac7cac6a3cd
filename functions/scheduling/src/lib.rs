//! The `scheduling` function: free/busy, meeting times and booking over a connected calendar.
//! Routes (template.yaml and the local router carry the same list):
//! - `POST /connections/{id}/free-busy` - free/busy of 1-100 attendees in a time zone
//! - `POST /connections/{id}/meeting-times` - ranked slots where every required attendee is free
//! - `POST /connections/{id}/events` - book (header `Idempotency-Key`); 201
//! - `PATCH /connections/{id}/events/{event_id}` - reschedule (time, attendees, subject)
//! - `DELETE /connections/{id}/events/{event_id}` - cancel for everyone (optional `comment`); 204

use chrono::Utc;
use lambda_http::{http::Method, http::StatusCode, Body, Request, Response};
use m365_connector::app::Connector;
use m365_connector::domain::{ConnectionId, IdempotencyKey};
use m365_connector::http::{self, ApiError};
use m365_connector::scheduling::request::{
    self as req, Booking, FreeBusyQuery, MeetingQuery, Reschedule,
};
use m365_connector::scheduling::service;

/// Handles one API Gateway request. Never fails: every error becomes a problem response.
pub async fn handle(c: &Connector, request: Request) -> Response<Body> {
    http::respond(route(c, &request).await)
}

async fn route(c: &Connector, request: &Request) -> Result<Response<Body>, ApiError> {
    let path = request.uri().path().trim_matches('/').to_owned();
    let segments: Vec<&str> = path.split('/').collect();
    let method = request.method().clone();
    let allowed: &[Method] = match segments.as_slice() {
        ["connections", _, "free-busy" | "meeting-times" | "events"] => &[Method::POST],
        ["connections", _, "events", _] => &[Method::PATCH, Method::DELETE],
        _ => return Err(ApiError::NotFound(format!("no route for /{path}"))),
    };
    if !allowed.contains(&method) {
        return Err(ApiError::MethodNotAllowed);
    }
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    c.authenticate(authorization).await?;
    let id = ConnectionId::parse(segments[1])?;

    match (method, segments.as_slice()) {
        (Method::POST, [_, _, "free-busy"]) => {
            let query = FreeBusyQuery::try_from(http::json_body::<req::FreeBusyBody>(request)?)?;
            let view = service::free_busy(c, &id, &query).await?;
            Ok(http::json(StatusCode::OK, &view))
        }
        (Method::POST, [_, _, "meeting-times"]) => {
            let query = MeetingQuery::try_from(http::json_body::<req::MeetingTimesBody>(request)?)?;
            let view = service::meeting_times(c, &id, &query, Utc::now()).await?;
            Ok(http::json(StatusCode::OK, &view))
        }
        (Method::POST, [_, _, "events"]) => {
            let key = IdempotencyKey::required(
                request
                    .headers()
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok()),
            )?;
            let booking = Booking::try_from(http::json_body::<req::BookingBody>(request)?)?;
            let event = service::book(c, &id, &key, &booking, Utc::now()).await?;
            Ok(http::json(StatusCode::CREATED, &event))
        }
        (Method::PATCH, [_, _, "events", event_id]) => {
            let event_id = req::event_id(event_id)?;
            let change = Reschedule::try_from(http::json_body::<req::RescheduleBody>(request)?)?;
            let event = service::reschedule(c, &id, &event_id, &change).await?;
            Ok(http::json(StatusCode::OK, &event))
        }
        (Method::DELETE, [_, _, "events", event_id]) => {
            let event_id = req::event_id(event_id)?;
            // The body is optional on DELETE: none means no message to the attendees.
            let body = if request.body().as_ref().is_empty() {
                req::CancelBody::default()
            } else {
                http::json_body(request)?
            };
            let comment = req::cancel_comment(body)?;
            service::cancel(c, &id, &event_id, comment.as_deref()).await?;
            Ok(http::empty(StatusCode::NO_CONTENT))
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}
