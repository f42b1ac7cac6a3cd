//! The `scheduling` function: free/busy, meeting times and booking over a connected calendar
//! (routes as in template.yaml):
//! - `POST /connections/{id}/free-busy` - free/busy of 1-100 attendees in a time zone
//! - `POST /connections/{id}/meeting-times` - ranked slots where every required attendee is free
//! - `POST /connections/{id}/events` - book (header `Idempotency-Key`); 201
//! - `PATCH /connections/{id}/events/{event_id}` - reschedule (time, attendees, subject)
//! - `DELETE /connections/{id}/events/{event_id}` - cancel for everyone (optional `comment`); 204
//! - `POST /connections/{id}/scheduling-links` - a link the candidate books through; 201
//!   `{id, url, expires_at}` (the URL holds the link's only credential and is shown once)
//! - `GET|PATCH|DELETE /connections/{id}/scheduling-links/{link_id}` - its status and booking,
//!   a change of wording or expiry while open, cancelling it (and its interview, if booked)
//!
//! Each route names the API-key scope it needs (`Route::scope`); `Edge::serve` checks it. The
//! `{id}` connection is the only one a route reaches (attendees are addresses, read through that
//! connection's calendar), so the edge's check of `{id}` covers a key limited to some users.

use chrono::Utc;
use lambda_http::{http::StatusCode, Body, Request, Response};
use m365_connector::app::Connector;
use m365_connector::auth::Scope;
use m365_connector::domain::IdempotencyKey;
use m365_connector::edge::{Edge, Routes, ScopedRoute};
use m365_connector::http::{self, ApiError};
use m365_connector::scheduling::links::{service as links, LinkBody, LinkPatchBody, LinkSpec};
use m365_connector::scheduling::request::{
    self as req, Booking, FreeBusyQuery, MeetingQuery, Reschedule,
};
use m365_connector::scheduling::service;

#[derive(Clone, Copy)]
enum Route {
    FreeBusy,
    MeetingTimes,
    Book,
    Reschedule,
    Cancel,
    CreateLink,
    GetLink,
    PatchLink,
    DeleteLink,
}

impl ScopedRoute for Route {
    fn scope(self) -> Scope {
        match self {
            Route::FreeBusy | Route::MeetingTimes | Route::GetLink => Scope::CalendarRead,
            Route::Book
            | Route::Reschedule
            | Route::Cancel
            | Route::CreateLink
            | Route::PatchLink
            | Route::DeleteLink => Scope::CalendarWrite,
        }
    }
}

const ROUTES: &Routes<Route> = &[
    ("POST /connections/{id}/free-busy", Route::FreeBusy),
    ("POST /connections/{id}/meeting-times", Route::MeetingTimes),
    ("POST /connections/{id}/events", Route::Book),
    (
        "PATCH /connections/{id}/events/{event_id}",
        Route::Reschedule,
    ),
    ("DELETE /connections/{id}/events/{event_id}", Route::Cancel),
    ("POST /connections/{id}/scheduling-links", Route::CreateLink),
    (
        "GET /connections/{id}/scheduling-links/{link_id}",
        Route::GetLink,
    ),
    (
        "PATCH /connections/{id}/scheduling-links/{link_id}",
        Route::PatchLink,
    ),
    (
        "DELETE /connections/{id}/scheduling-links/{link_id}",
        Route::DeleteLink,
    ),
];

/// Handles one API Gateway request. Never fails: every error becomes a problem response.
pub async fn handle(c: &Connector, request: Request) -> Response<Body> {
    Edge::serve(c, &request, ROUTES, |edge| route(c, edge)).await
}

async fn route(c: &Connector, edge: Edge<'_, Route>) -> Result<Response<Body>, ApiError> {
    let id = edge.connection_id()?;
    match edge.route() {
        Route::FreeBusy => {
            let query = FreeBusyQuery::try_from(edge.json::<req::FreeBusyBody>()?)?;
            let view = service::free_busy(c, &id, &query).await?;
            Ok(http::json(StatusCode::OK, &view))
        }
        Route::MeetingTimes => {
            let query = MeetingQuery::try_from(edge.json::<req::MeetingTimesBody>()?)?;
            let view = service::meeting_times(c, &id, &query, Utc::now()).await?;
            Ok(http::json(StatusCode::OK, &view))
        }
        Route::Book => {
            let key = IdempotencyKey::required(edge.header("Idempotency-Key")?)?;
            let booking = Booking::try_from(edge.json::<req::BookingBody>()?)?;
            let event = service::book(c, &id, &key, &booking, Utc::now()).await?;
            Ok(http::json(StatusCode::CREATED, &event))
        }
        Route::Reschedule => {
            let event_id = req::event_id(edge.param("event_id")?)?;
            let change = Reschedule::try_from(edge.json::<req::RescheduleBody>()?)?;
            let event = service::reschedule(c, &id, &event_id, &change).await?;
            Ok(http::json(StatusCode::OK, &event))
        }
        Route::Cancel => {
            let event_id = req::event_id(edge.param("event_id")?)?;
            // The body is optional on DELETE: none means no message to the attendees.
            let comment = req::cancel_comment(edge.json_or_default()?)?;
            service::cancel(c, &id, &event_id, comment.as_deref()).await?;
            Ok(http::empty(StatusCode::NO_CONTENT))
        }
        Route::CreateLink => {
            let spec = LinkSpec::parse(edge.json::<LinkBody>()?, Utc::now())?;
            let base = edge.base_url(c.config.public_base_url.as_ref())?;
            let created = links::create(c, &id, spec, &base, Utc::now()).await?;
            Ok(http::json(StatusCode::CREATED, &created))
        }
        Route::GetLink => {
            let view = links::get(c, &id, edge.param("link_id")?, Utc::now()).await?;
            Ok(http::json(StatusCode::OK, &view))
        }
        Route::PatchLink => {
            let change = edge.json::<LinkPatchBody>()?;
            let view = links::patch(c, &id, edge.param("link_id")?, change, Utc::now()).await?;
            Ok(http::json(StatusCode::OK, &view))
        }
        Route::DeleteLink => {
            links::delete(c, &id, edge.param("link_id")?, Utc::now()).await?;
            Ok(http::empty(StatusCode::NO_CONTENT))
        }
    }
}
