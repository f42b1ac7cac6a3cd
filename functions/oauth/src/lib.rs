//! The `oauth` function: where Microsoft sends the user's browser back. Public routes (no API
//! key; the single-use state is what authenticates the callback):
//! - `GET /oauth/callback` and `POST /oauth/callback` (`response_mode=form_post`)
//! - `GET /oauth/admin-consent/callback`
//!
//! Success and Microsoft-reported errors redirect to the app's return URL; a callback that cannot
//! be tied to a pending sign-in (no, unknown, expired or replayed state) is a 400 problem, since
//! there is nowhere trustworthy to redirect to.

use lambda_http::{Body, Request, Response};
use m365_connector::app::Connector;
use m365_connector::connect::{self, CallbackParams};
use m365_connector::edge::{Edge, EdgeError, Routes};
use m365_connector::http::{self, ApiError};

#[derive(Clone, Copy)]
enum Route {
    Callback,
    FormPostCallback,
    AdminConsentCallback,
}

const ROUTES: &Routes<Route> = &[
    ("GET /oauth/callback", Route::Callback),
    ("POST /oauth/callback", Route::FormPostCallback),
    (
        "GET /oauth/admin-consent/callback",
        Route::AdminConsentCallback,
    ),
];

/// Handles one API Gateway request. Never fails: every error becomes a problem response.
pub async fn handle(c: &Connector, request: Request) -> Response<Body> {
    http::respond(route(c, &request).await)
}

async fn route(c: &Connector, request: &Request) -> Result<Response<Body>, ApiError> {
    let edge = Edge::public(request, ROUTES)?;
    let back = match edge.route() {
        Route::Callback => connect::callback(c, query_params(&edge)).await?,
        Route::FormPostCallback => connect::callback(c, form_params(&edge)?).await?,
        Route::AdminConsentCallback => {
            connect::admin_consent_callback(c, query_params(&edge)).await?
        }
    };
    Ok(http::redirect(&back))
}

fn query_params(edge: &Edge<'_, Route>) -> CallbackParams {
    let get = |k: &str| edge.query(k).map(str::to_owned);
    CallbackParams {
        state: get("state"),
        code: get("code"),
        error: get("error"),
        error_description: get("error_description"),
        error_subcode: get("error_subcode"),
        admin_consent: get("admin_consent"),
        tenant: get("tenant"),
        scope: get("scope"),
    }
}

/// `response_mode=form_post`: the same fields, form-encoded in the body.
fn form_params(edge: &Edge<'_, Route>) -> Result<CallbackParams, EdgeError> {
    edge.form(64 * 1024)
}
