//! The `connections` function: the app-facing HTTP API over mailbox connections. Routes
//! (template.yaml and the local router carry the same list):
//! - `GET /connections` - list, `?user_id=&limit=&cursor=`
//! - `POST /connections` - start a user's sign-in; 201 `{authorize_url, expires_at}`
//! - `GET /connections/{id}` / `DELETE /connections/{id}` (204, also when already gone)
//! - `POST /admin-consents` - start tenant-wide admin consent; 201 `{consent_url, expires_at}`
//! - `GET /connections/{id}/messages` - synced mail, newest first,
//!   `?folder=&with=&since=&limit=&cursor=`
//! - `GET /connections/{id}/messages/{message_id}` - one message with its body, read live

use lambda_http::{http::Method, http::StatusCode, Body, Request, RequestExt, Response};
use m365_connector::app::Connector;
use m365_connector::domain::{AppUserId, ConnectionId, GraphId, PageLimit};
use m365_connector::http::{self, ApiError};
use m365_connector::{connect, connections, mail};

/// Handles one API Gateway request. Never fails: every error becomes a problem response.
pub async fn handle(c: &Connector, request: Request) -> Response<Body> {
    http::respond(route(c, &request).await)
}

async fn route(c: &Connector, request: &Request) -> Result<Response<Body>, ApiError> {
    let path = request.uri().path().trim_matches('/').to_owned();
    let segments: Vec<&str> = path.split('/').collect();
    let method = request.method().clone();
    let allowed: &[Method] = match segments.as_slice() {
        ["connections"] => &[Method::GET, Method::POST],
        ["connections", _] => &[Method::GET, Method::DELETE],
        ["connections", _, "messages"] | ["connections", _, "messages", _] => &[Method::GET],
        ["admin-consents"] => &[Method::POST],
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

    match (method, segments.as_slice()) {
        (Method::GET, ["connections"]) => {
            let query = request.query_string_parameters();
            let user = query.first("user_id").map(AppUserId::parse).transpose()?;
            let limit = PageLimit::parse(query.first("limit"))?;
            let list =
                connections::list(&c.store, user.as_ref(), limit, query.first("cursor")).await?;
            Ok(http::json(StatusCode::OK, &list))
        }
        (Method::POST, ["connections"]) => {
            let started =
                connect::start(c, http::json_body(request)?, &base_url(c, request)?).await?;
            Ok(http::json(StatusCode::CREATED, &started))
        }
        (Method::GET, ["connections", id]) => Ok(http::json(
            StatusCode::OK,
            &connections::get(c, &ConnectionId::parse(id)?).await?,
        )),
        (Method::DELETE, ["connections", id]) => {
            connections::delete(c, &ConnectionId::parse(id)?).await?;
            Ok(http::empty(StatusCode::NO_CONTENT))
        }
        (Method::GET, ["connections", id, "messages"]) => {
            let id = ConnectionId::parse(id)?;
            let query = request.query_string_parameters();
            let params = mail::ListParams::parse(|name| query.first(name))?;
            Ok(http::json(
                StatusCode::OK,
                &mail::list(c, &id, &params).await?,
            ))
        }
        (Method::GET, ["connections", id, "messages", message_id]) => {
            let id = ConnectionId::parse(id)?;
            let message_id = GraphId::parse("message_id", message_id)?;
            Ok(http::json(
                StatusCode::OK,
                &mail::get(c, &id, &message_id).await?,
            ))
        }
        (Method::POST, ["admin-consents"]) => {
            let started =
                connect::start_admin_consent(c, http::json_body(request)?, &base_url(c, request)?)
                    .await?;
            Ok(http::json(StatusCode::CREATED, &started))
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// The API's public base URL: configured, else the host the request came in on.
pub fn base_url(c: &Connector, request: &Request) -> Result<url::Url, ApiError> {
    if let Some(url) = &c.config.public_base_url {
        return Ok(url.clone());
    }
    let host = request
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::bad_request("host", "the request has no Host header"))?;
    url::Url::parse(&format!("https://{host}"))
        .map_err(|_| ApiError::bad_request("host", "malformed Host header"))
}
