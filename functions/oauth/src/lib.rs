//! The `oauth` function: where Microsoft sends the user's browser back. Public routes (no API
//! key; the single-use state is what authenticates the callback):
//! - `GET /oauth/callback` and `POST /oauth/callback` (`response_mode=form_post`)
//! - `GET /oauth/admin-consent/callback`
//!
//! Success and Microsoft-reported errors redirect to the app's return URL; a callback that cannot
//! be tied to a pending sign-in (no, unknown, expired or replayed state) is a 400 problem, since
//! there is nowhere trustworthy to redirect to.

use lambda_http::{http::Method, Body, Request, RequestExt, Response};
use m365_connector::app::Connector;
use m365_connector::connect::{self, CallbackParams};
use m365_connector::http::{self, ApiError};

pub async fn handle(c: &Connector, request: Request) -> Response<Body> {
    http::respond(route(c, &request).await)
}

async fn route(c: &Connector, request: &Request) -> Result<Response<Body>, ApiError> {
    let path = request.uri().path().trim_end_matches('/');
    match (request.method().clone(), path) {
        (Method::GET, "/oauth/callback") => Ok(http::redirect(
            &connect::callback(c, query_params(request)).await?,
        )),
        (Method::POST, "/oauth/callback") => Ok(http::redirect(
            &connect::callback(c, form_params(request)?).await?,
        )),
        (Method::GET, "/oauth/admin-consent/callback") => Ok(http::redirect(
            &connect::admin_consent_callback(c, query_params(request)).await?,
        )),
        (_, "/oauth/callback" | "/oauth/admin-consent/callback") => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NotFound(format!("no route for {path}"))),
    }
}

fn query_params(request: &Request) -> CallbackParams {
    let q = request.query_string_parameters();
    let get = |k: &str| q.first(k).map(str::to_owned);
    CallbackParams {
        state: get("state"),
        code: get("code"),
        error: get("error"),
        error_description: get("error_description"),
        admin_consent: get("admin_consent"),
        tenant: get("tenant"),
        scope: get("scope"),
    }
}

/// `response_mode=form_post`: the same fields, form-encoded in the body.
fn form_params(request: &Request) -> Result<CallbackParams, ApiError> {
    let body = request.body().as_ref();
    if body.len() > 64 * 1024 {
        return Err(ApiError::PayloadTooLarge(
            "the callback body is too large".into(),
        ));
    }
    serde_urlencoded::from_bytes(body).map_err(|_| ApiError::BadRequest {
        detail: "the callback body is not a form".into(),
        field: None,
    })
}
