//! The `send-mail` function: the API of sending mail as the connected user (routes as in
//! template.yaml). It answers within API Gateway's 30 s whatever the message: a send is accepted
//! here and done by the `send-worker` function.
//!
//! - `POST /connections/{id}/messages` - send; 202 with the send's status resource (`{key,
//!   status: "queued", internet_message_id, ...}`) and its `Location`. `Idempotency-Key` is the
//!   send's key; without one the connector makes one (returned in both)
//! - `POST /connections/{id}/messages/{message_id}/reply` - reply (or `reply_all`) in the thread,
//!   the same way
//! - `GET /connections/{id}/sends/{key}` - the status resource: `queued`, `sending`, `sent` (with
//!   the message) or `failed` (with the problem)
//! - `POST /connections/{id}/uploads` - stage one attachment; 201 `{upload_id, upload_url,
//!   upload_headers, expires_at}`
//!
//! Every route needs the API-key scope `mail:send`; reading a send's status also takes
//! `mail:read` (`Route::scope`, `Route::or_scope`); `Edge::serve` checks it.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use m365_connector::app::Connector;
use m365_connector::auth::Scope;
use m365_connector::domain::{ConnectionId, GraphId, IdempotencyKey, ParseError};
use m365_connector::edge::{Edge, EdgeError, Routes, ScopedRoute};
use m365_connector::http::{self, ApiError};
use m365_connector::sending::request::MAX_SEND_BODY;
use m365_connector::sending::{self, uploads, SendBody, SendKind};

#[derive(Clone, Copy)]
enum Route {
    Send,
    Reply,
    Status,
    Upload,
}

impl ScopedRoute for Route {
    fn scope(self) -> Scope {
        match self {
            Route::Send | Route::Reply | Route::Status | Route::Upload => Scope::MailSend,
        }
    }

    fn or_scope(self) -> Option<Scope> {
        match self {
            // A send's outcome is mail the key may read anyway.
            Route::Status => Some(Scope::MailRead),
            Route::Send | Route::Reply | Route::Upload => None,
        }
    }
}

const ROUTES: &Routes<Route> = &[
    ("POST /connections/{id}/messages", Route::Send),
    (
        "POST /connections/{id}/messages/{message_id}/reply",
        Route::Reply,
    ),
    ("GET /connections/{id}/sends/{key}", Route::Status),
    ("POST /connections/{id}/uploads", Route::Upload),
];

/// Handles one API Gateway request. Never fails: every error becomes a problem response.
pub async fn handle(c: &Connector, request: Request) -> Response<Body> {
    Edge::serve(c, &request, ROUTES, |edge| route(c, edge)).await
}

async fn route(c: &Connector, edge: Edge<'_, Route>) -> Result<Response<Body>, ApiError> {
    let id = edge.connection_id()?;
    let kind = match edge.route() {
        Route::Upload => {
            let created = uploads::create_upload(c, &id, edge.json()?).await?;
            return Ok(http::json(StatusCode::CREATED, &created));
        }
        Route::Status => {
            let key = IdempotencyKey::parse(edge.param("key")?)
                .map_err(|e| ParseError::new("key", e.reason))?;
            let status = sending::status(c, &id, &key).await?;
            return Ok(http::json(StatusCode::OK, &status));
        }
        Route::Send => SendKind::New,
        Route::Reply => SendKind::Reply {
            message_id: GraphId::parse("message_id", edge.param("message_id")?)?,
            reply_all: false,
        },
    };
    send(c, &edge, &id, kind).await
}

/// A send or reply: the body parsed for its kind, then accepted; 202 with the status resource.
async fn send(
    c: &Connector,
    edge: &Edge<'_, Route>,
    id: &ConnectionId,
    kind: SendKind,
) -> Result<Response<Body>, ApiError> {
    let key = edge.header("Idempotency-Key")?;
    let key = key.map(IdempotencyKey::parse).transpose()?;
    let raw: serde_json::Value = edge.json_with_limit(MAX_SEND_BODY)?;
    let body = <SendBody as serde::Deserialize>::deserialize(&raw).map_err(EdgeError::Json)?;
    let kind = match kind {
        SendKind::Reply { message_id, .. } => SendKind::Reply {
            message_id,
            reply_all: body.reply_all.unwrap_or(false),
        },
        new => new,
    };
    let message = body.parse(&kind)?;
    let accepted = sending::accept(c, id, kind, raw, &message, key).await?;
    let base = edge.base_url(c.config.public_base_url.as_ref())?;
    let location = format!(
        "{}/connections/{id}/sends/{}",
        base.as_str().trim_end_matches('/'),
        path_segment(accepted.key.as_str())
    );
    let mut response = http::json(StatusCode::ACCEPTED, &accepted.status);
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, location);
    }
    if accepted.replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// `value` as one URL path segment: RFC 3986 unreserved characters as they are, every other
/// byte percent-encoded.
fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_one_path_segment() {
        assert_eq!(path_segment("order-42_a.b~c"), "order-42_a.b~c");
        assert_eq!(
            path_segment("order 42/attempt?1#x%"),
            "order%2042%2Fattempt%3F1%23x%25"
        );
    }
}
