//! The `send-mail` function: sending mail as the connected user. Routes (template.yaml and the
//! local router carry the same list):
//! - `POST /connections/{id}/messages` - send; 202 `{id, internet_message_id, conversation_id,
//!   status}`; optional `Idempotency-Key` header makes it exactly once
//! - `POST /connections/{id}/messages/{message_id}/reply` - reply (or `reply_all`) in the thread
//! - `POST /connections/{id}/uploads` - stage one attachment; 201 `{upload_id, upload_url,
//!   upload_headers, expires_at}`

use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use m365_connector::app::Connector;
use m365_connector::domain::ConnectionId;
use m365_connector::domain::IdempotencyKey;
use m365_connector::http::{self, ApiError};
use m365_connector::sending::request::MAX_SEND_BODY;
use m365_connector::sending::{self, uploads, SendBody, SendKind, SendSettings};

/// Handles one API Gateway request. Never fails: every error becomes a problem response.
pub async fn handle(c: &Connector, settings: &SendSettings, request: Request) -> Response<Body> {
    http::respond(route(c, settings, &request).await)
}

async fn route(
    c: &Connector,
    settings: &SendSettings,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let path = request.uri().path().trim_matches('/').to_owned();
    let segments: Vec<&str> = path.split('/').collect();
    if !matches!(
        segments.as_slice(),
        ["connections", _, "messages"]
            | ["connections", _, "messages", _, "reply"]
            | ["connections", _, "uploads"]
    ) {
        return Err(ApiError::NotFound(format!("no route for /{path}")));
    }
    if request.method() != Method::POST {
        return Err(ApiError::MethodNotAllowed);
    }
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    c.authenticate(authorization).await?;
    let id = ConnectionId::parse(segments[1])?;

    let kind = match segments.as_slice() {
        ["connections", _, "uploads"] => {
            let created = uploads::create_upload(c, &id, http::json_body(request)?).await?;
            return Ok(http::json(StatusCode::CREATED, &created));
        }
        ["connections", _, "messages"] => SendKind::New,
        [.., message_id, "reply"] => {
            if message_id.is_empty() || message_id.len() > 512 {
                return Err(ApiError::bad_request("message_id", "is not a message id"));
            }
            SendKind::Reply {
                message_id: (*message_id).to_owned(),
                reply_all: false,
            }
        }
        _ => return Err(ApiError::NotFound(format!("no route for /{path}"))),
    };
    let key = match request.headers().get("idempotency-key") {
        None => None,
        Some(v) => Some(IdempotencyKey::parse(v.to_str().unwrap_or("\u{0}"))?),
    };
    let raw: serde_json::Value = http::json_body_with_limit(request, MAX_SEND_BODY)?;
    let request_hash = sending::fingerprint(&kind, &raw);
    let body: SendBody = serde_json::from_value(raw).map_err(|e| ApiError::BadRequest {
        detail: format!("invalid JSON body: {e}"),
        field: None,
    })?;
    let kind = match kind {
        SendKind::Reply { message_id, .. } => SendKind::Reply {
            message_id,
            reply_all: body.reply_all.unwrap_or(false),
        },
        new => new,
    };
    let message = body.parse(&kind)?;
    match sending::send(
        c,
        settings,
        &id,
        &kind,
        &message,
        key.as_ref(),
        &request_hash,
    )
    .await
    {
        Ok(outcome) => {
            let mut response = http::json(StatusCode::ACCEPTED, &outcome.response);
            if outcome.replayed {
                response
                    .headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}
