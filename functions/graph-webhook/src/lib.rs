//! The `graph-webhook` function: Microsoft Graph's public notification endpoints (no API key;
//! every item is proven genuine by its subscription's `clientState`). Routes (template.yaml and the
//! local router carry the same list):
//! - `POST /webhooks/graph/notifications` - change notifications (`notificationUrl`)
//! - `POST /webhooks/graph/lifecycle` - lifecycle notifications (`lifecycleNotificationUrl`)
//!
//! Both answer Graph's `?validationToken=` handshake first, before any I/O, then accept a batch
//! with 202 once its sync jobs are enqueued (shared crate, `webhook`).

use lambda_http::{http::Method, Body, Request, RequestExt, Response};
use m365_connector::app::Connector;
use m365_connector::http::{self, ApiError};
use m365_connector::webhook;

/// Handles one API Gateway request. Never fails: every error becomes a problem response.
pub async fn handle(c: &Connector, request: Request) -> Response<Body> {
    http::respond(route(c, &request).await)
}

async fn route(c: &Connector, request: &Request) -> Result<Response<Body>, ApiError> {
    match request.uri().path().trim_end_matches('/') {
        "/webhooks/graph/notifications" | "/webhooks/graph/lifecycle" => {}
        path => return Err(ApiError::NotFound(format!("no route for {path}"))),
    }
    if request.method() != Method::POST {
        return Err(ApiError::MethodNotAllowed);
    }
    let query = request.query_string_parameters();
    webhook::respond(c, query.first("validationToken"), request.body().as_ref()).await
}
