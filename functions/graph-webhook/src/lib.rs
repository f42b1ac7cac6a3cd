//! The `graph-webhook` function: Microsoft Graph's public notification endpoints (no API key;
//! every item is proven genuine by its subscription's `clientState`). Routes (as in template.yaml):
//! - `POST /webhooks/graph/notifications` - change notifications (`notificationUrl`)
//! - `POST /webhooks/graph/lifecycle` - lifecycle notifications (`lifecycleNotificationUrl`)
//!
//! Both answer Graph's `?validationToken=` handshake first, before any I/O, then accept a batch
//! with 202 once its sync jobs are enqueued (shared crate, `webhook`).

use lambda_http::{Body, Request, Response};
use m365_connector::app::Connector;
use m365_connector::edge::{Edge, Routes};
use m365_connector::http::{self, ApiError};
use m365_connector::webhook;

/// Both endpoints take the same batches; the items say which kind they are.
const ROUTES: &Routes<()> = &[
    ("POST /webhooks/graph/notifications", ()),
    ("POST /webhooks/graph/lifecycle", ()),
];

/// Handles one API Gateway request. Never fails: every error becomes a problem response.
pub async fn handle(c: &Connector, request: Request) -> Response<Body> {
    http::respond(route(c, &request).await)
}

async fn route(c: &Connector, request: &Request) -> Result<Response<Body>, ApiError> {
    let edge = Edge::public(request, ROUTES)?;
    webhook::respond(c, edge.query("validationToken"), edge.body()).await
}
