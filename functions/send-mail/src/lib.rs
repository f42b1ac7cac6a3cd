//! The `send-mail` function: sending mail as the connected user (routes as in template.yaml):
//! - `POST /connections/{id}/messages` - send; 202 `{id, internet_message_id, conversation_id,
//!   status}`; optional `Idempotency-Key` header makes it exactly once
//! - `POST /connections/{id}/messages/{message_id}/reply` - reply (or `reply_all`) in the thread
//! - `POST /connections/{id}/uploads` - stage one attachment; 201 `{upload_id, upload_url,
//!   upload_headers, expires_at}`
//!
//! Every route needs the API-key scope `mail:send` (`Route::scope`); `Edge::serve` checks it.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use m365_connector::app::Connector;
use m365_connector::auth::Scope;
use m365_connector::domain::{ConnectionId, GraphId, IdempotencyKey};
use m365_connector::edge::{Edge, Routes, ScopedRoute};
use m365_connector::http::{self, ApiError};
use m365_connector::sending::request::MAX_SEND_BODY;
use m365_connector::sending::{self, uploads, SendBody, SendKind, SendSettings};

#[derive(Clone, Copy)]
enum Route {
    Send,
    Reply,
    Upload,
}

impl ScopedRoute for Route {
    fn scope(self) -> Scope {
        match self {
            Route::Send | Route::Reply | Route::Upload => Scope::MailSend,
        }
    }
}

const ROUTES: &Routes<Route> = &[
    ("POST /connections/{id}/messages", Route::Send),
    (
        "POST /connections/{id}/messages/{message_id}/reply",
        Route::Reply,
    ),
    ("POST /connections/{id}/uploads", Route::Upload),
];

/// Handles one API Gateway request. Never fails: every error becomes a problem response.
pub async fn handle(c: &Connector, settings: &SendSettings, request: Request) -> Response<Body> {
    Edge::serve(c, &request, ROUTES, |edge| route(c, settings, edge)).await
}

async fn route(
    c: &Connector,
    settings: &SendSettings,
    edge: Edge<'_, Route>,
) -> Result<Response<Body>, ApiError> {
    let id = edge.connection_id()?;
    let kind = match edge.route() {
        Route::Upload => {
            let created = uploads::create_upload(c, &id, edge.json()?).await?;
            return Ok(http::json(StatusCode::CREATED, &created));
        }
        Route::Send => SendKind::New,
        Route::Reply => SendKind::Reply {
            message_id: GraphId::parse("message_id", edge.param("message_id")?)?,
            reply_all: false,
        },
    };
    send(c, settings, &edge, &id, kind).await
}

/// A send or reply: the body parsed for its kind, fingerprinted for idempotency, then sent.
async fn send(
    c: &Connector,
    settings: &SendSettings,
    edge: &Edge<'_, Route>,
    id: &ConnectionId,
    kind: SendKind,
) -> Result<Response<Body>, ApiError> {
    let key = edge.header("Idempotency-Key")?;
    let key = key.map(IdempotencyKey::parse).transpose()?;
    let raw: serde_json::Value = edge.json_with_limit(MAX_SEND_BODY)?;
    let request_hash = sending::fingerprint(&kind, &raw);
    let body: SendBody = Edge::<Route>::decode(raw)?;
    let kind = match kind {
        SendKind::Reply { message_id, .. } => SendKind::Reply {
            message_id,
            reply_all: body.reply_all.unwrap_or(false),
        },
        new => new,
    };
    let message = body.parse(&kind)?;
    let sent = sending::send(
        c,
        settings,
        id,
        &kind,
        &message,
        key.as_ref(),
        &request_hash,
    );
    match sent.await {
        Ok(outcome) => {
            let mut response = http::json(StatusCode::ACCEPTED, &outcome.response);
            if outcome.replayed {
                let replayed = HeaderValue::from_static("true");
                response
                    .headers_mut()
                    .insert("idempotent-replayed", replayed);
            }
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}
