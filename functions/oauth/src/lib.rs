//! The `oauth` function: the user's browser on its way to Microsoft and back. Public routes (no
//! API key; the single-use state and the browser's cookie are what authenticate them):
//! - `GET /oauth/start?state=` - the start URL `POST /connections` handed out: binds the sign-in
//!   to this browser with a cookie, once, and redirects to Microsoft
//! - `GET /oauth/callback` and `POST /oauth/callback` (`response_mode=form_post`)
//! - `GET /oauth/admin-consent/callback`
//!
//! Success and Microsoft-reported errors redirect to the app's return URL; a request that cannot
//! be tied to a pending sign-in in this browser (no, unknown, expired, replayed or foreign state)
//! is a 400 HTML page, since there is nowhere trustworthy to redirect to.

use chrono::Utc;
use lambda_http::{Body, Request, Response};
use m365_connector::app::Connector;
use m365_connector::connect::{self, browser, CallbackParams};
use m365_connector::edge::{Edge, EdgeError, Routes};
use m365_connector::http::{self, ApiError};

#[derive(Clone, Copy)]
enum Route {
    Start,
    Callback,
    FormPostCallback,
    AdminConsentCallback,
}

const ROUTES: &Routes<Route> = &[
    ("GET /oauth/start", Route::Start),
    ("GET /oauth/callback", Route::Callback),
    ("POST /oauth/callback", Route::FormPostCallback),
    (
        "GET /oauth/admin-consent/callback",
        Route::AdminConsentCallback,
    ),
];

/// Handles one API Gateway request. Never fails: every error becomes a page for the browser.
pub async fn handle(c: &Connector, request: Request) -> Response<Body> {
    route(c, &request).await.unwrap_or_else(http::page)
}

async fn route(c: &Connector, request: &Request) -> Result<Response<Body>, ApiError> {
    let edge = Edge::public(request, ROUTES)?;
    match edge.route() {
        Route::Start => {
            let state = edge.query("state").unwrap_or_default();
            let opened = browser::open(c, state, Utc::now()).await?;
            Ok(http::redirect_with_cookie(
                &opened.authorize_url,
                Some(&opened.set_cookie),
            ))
        }
        Route::Callback | Route::FormPostCallback => {
            let params = match edge.route() {
                Route::FormPostCallback => form_params(&edge)?,
                _ => query_params(&edge),
            };
            let outcome = connect::callback(c, params, edge.header("cookie")?).await?;
            Ok(http::redirect_with_cookie(
                &outcome.location,
                outcome.set_cookie.as_deref(),
            ))
        }
        Route::AdminConsentCallback => {
            let back = connect::admin_consent_callback(c, query_params(&edge)).await?;
            Ok(http::redirect(&back))
        }
    }
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
