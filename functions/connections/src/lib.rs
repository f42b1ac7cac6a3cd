//! The `connections` function: the app-facing HTTP API over mailbox connections (routes as in
//! template.yaml):
//! - `GET /connections` - list, `?user_id=&limit=&cursor=`
//! - `POST /connections` - start a user's sign-in; 201 `{start_url, expires_at}`
//! - `POST /connections/claims` - claim a finished sign-in's `result` for the logged-in app user
//! - `GET /connections/{id}` / `DELETE /connections/{id}` (202 `deleting` while the purge runs,
//!   204 once gone or for an unknown id)
//! - `POST /admin-consents` - start tenant-wide admin consent; 201 `{consent_url, expires_at}`
//! - `GET /connections/{id}/messages` - synced mail, newest first,
//!   `?folder=&with=&since=&limit=&cursor=`
//! - `GET /connections/{id}/messages/{message_id}` - one message with its body, read live
//! - `GET /connections/{id}/calendar-events` - synced calendar instances overlapping a window,
//!   `?start=&end=&limit=&cursor=`
//! - `GET /connections/{id}/calendar-events/{event_id}` - one synced calendar instance
//! - `GET /tenants/{tenant}/policy` / `PUT /tenants/{tenant}/policy` `{access}` - a tenant's access
//!   level (`send_and_view`, `view_only`, `off`); `off` disconnects the tenant's connections
//!
//! Each route names the API-key scope it needs (`Route::scope`); `Edge::serve` checks it.

use lambda_http::{http::StatusCode, Body, Request, Response};
use m365_connector::app::Connector;
use m365_connector::auth::Scope;
use m365_connector::domain::{AppUserId, GraphId, PageLimit, TenantId};
use m365_connector::edge::{Edge, Routes, ScopedRoute};
use m365_connector::http::{self, ApiError};
use m365_connector::{connect, connections, mail, tenants};

#[derive(Clone, Copy)]
enum Route {
    List,
    Create,
    Get,
    Delete,
    ListMessages,
    GetMessage,
    ListCalendarEvents,
    GetCalendarEvent,
    AdminConsent,
    Claim,
    GetTenantPolicy,
    SetTenantPolicy,
}

impl ScopedRoute for Route {
    fn scope(self) -> Scope {
        match self {
            Route::List | Route::Get => Scope::ConnectionsRead,
            Route::Create | Route::Delete | Route::Claim => Scope::ConnectionsWrite,
            Route::ListMessages | Route::GetMessage => Scope::MailRead,
            Route::ListCalendarEvents | Route::GetCalendarEvent => Scope::CalendarRead,
            Route::AdminConsent | Route::GetTenantPolicy | Route::SetTenantPolicy => Scope::Admin,
        }
    }
}

const ROUTES: &Routes<Route> = &[
    ("GET /connections", Route::List),
    ("POST /connections", Route::Create),
    ("GET /connections/{id}", Route::Get),
    ("DELETE /connections/{id}", Route::Delete),
    ("GET /connections/{id}/messages", Route::ListMessages),
    (
        "GET /connections/{id}/messages/{message_id}",
        Route::GetMessage,
    ),
    (
        "GET /connections/{id}/calendar-events",
        Route::ListCalendarEvents,
    ),
    (
        "GET /connections/{id}/calendar-events/{event_id}",
        Route::GetCalendarEvent,
    ),
    ("POST /admin-consents", Route::AdminConsent),
    ("POST /connections/claims", Route::Claim),
    ("GET /tenants/{tenant}/policy", Route::GetTenantPolicy),
    ("PUT /tenants/{tenant}/policy", Route::SetTenantPolicy),
];

/// Handles one API Gateway request. Never fails: every error becomes a problem response.
pub async fn handle(c: &Connector, request: Request) -> Response<Body> {
    Edge::serve(c, &request, ROUTES, |edge| route(c, edge)).await
}

async fn route(c: &Connector, edge: Edge<'_, Route>) -> Result<Response<Body>, ApiError> {
    match edge.route() {
        Route::List => {
            let user = edge.query("user_id").map(AppUserId::parse).transpose()?;
            edge.require_user(user.as_ref())?;
            let limit = PageLimit::parse(edge.query("limit"))?;
            let list = connections::list(&c.store, user.as_ref(), limit, edge.query("cursor"));
            Ok(http::json(StatusCode::OK, &list.await?))
        }
        Route::Create => {
            let (body, base) = (
                edge.json::<connect::StartConnection>()?,
                edge.base_url(c.config.public_base_url.as_ref())?,
            );
            edge.require_user(Some(&AppUserId::parse(&body.user_id)?))?;
            let started = connect::start(c, body, &base).await?;
            Ok(http::json(StatusCode::CREATED, &started))
        }
        Route::Get => {
            let connection = connections::get(c, &edge.connection_id()?).await?;
            Ok(http::json(StatusCode::OK, &connection))
        }
        Route::Delete => match connections::delete(c, &edge.connection_id()?).await? {
            connections::Deletion::Started(view) | connections::Deletion::AlreadyDeleting(view) => {
                Ok(http::json(StatusCode::ACCEPTED, &view))
            }
            connections::Deletion::Gone => Ok(http::empty(StatusCode::NO_CONTENT)),
        },
        Route::ListMessages => {
            let params = mail::ListParams::parse(|name| edge.query(name))?;
            let page = mail::list(c, &edge.connection_id()?, &params).await?;
            Ok(http::json(StatusCode::OK, &page))
        }
        Route::GetMessage => {
            let message_id = GraphId::parse("message_id", edge.param("message_id")?)?;
            let message = mail::get(c, &edge.connection_id()?, &message_id).await?;
            Ok(http::json(StatusCode::OK, &message))
        }
        Route::ListCalendarEvents => {
            let params =
                mail::CalendarListParams::parse(|name| edge.query(name), chrono::Utc::now())?;
            let page = mail::list_calendar_events(c, &edge.connection_id()?, &params).await?;
            Ok(http::json(StatusCode::OK, &page))
        }
        Route::GetCalendarEvent => {
            let event_id = GraphId::parse("event_id", edge.param("event_id")?)?;
            let event = mail::get_calendar_event(c, &edge.connection_id()?, &event_id).await?;
            Ok(http::json(StatusCode::OK, &event))
        }
        Route::Claim => {
            let body = edge.json::<connect::claim::ClaimRequest>()?;
            edge.require_user(Some(&AppUserId::parse(&body.user_id)?))?;
            let claimed = connect::claim::claim(c, body, chrono::Utc::now()).await?;
            Ok(http::json(StatusCode::OK, &claimed))
        }
        Route::AdminConsent => {
            let (body, base) = (
                edge.json()?,
                edge.base_url(c.config.public_base_url.as_ref())?,
            );
            let started = connect::start_admin_consent(c, body, &base).await?;
            Ok(http::json(StatusCode::CREATED, &started))
        }
        Route::GetTenantPolicy => {
            let tenant = TenantId::parse("tenant", edge.param("tenant")?)?;
            let policy = tenants::get_policy(&c.store, &tenant).await?;
            Ok(http::json(StatusCode::OK, &policy))
        }
        Route::SetTenantPolicy => {
            let tenant = TenantId::parse("tenant", edge.param("tenant")?)?;
            let access = edge.json::<tenants::PolicyRequest>()?.parse()?;
            let policy = tenants::set_policy(c, &tenant, access).await?;
            Ok(http::json(StatusCode::OK, &policy))
        }
    }
}
