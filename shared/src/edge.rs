//! The HTTP edge of every API function: which route a request is, and what it carries.
//!
//! API Gateway (HTTP API, payload 2.0) has already routed the request when the function sees it:
//! the event's `routeKey` names the route as template.yaml spells it (`GET /connections/{id}`)
//! and `pathParameters` holds the values of its `{parameters}`. So a function routes on the route
//! key's template and the request's method, never on the raw path, which starts with the stage
//! name behind a named stage (`/prod/connections/...`).
//!
//! Matching route-key strings rather than a router crate (e.g. matchit): the gateway already did
//! the path matching against the same templates, so what is left is an exact comparison of a few
//! strings per function. A router would match the raw path a second time (stage prefix included,
//! so it would need stripping) and could disagree with the gateway about which route a request
//! is; it would also be one more dependency of every function for a dozen-entry table.
//!
//! Answers, as before: a template the function does not serve is a 404 problem, a template it
//! serves with another method is a 405 problem (the gateway itself never delivers either, but
//! direct invocations and tests can). A `$default` (catch-all) route key serves nothing here.
//!
//! [`Edge`] is the one extractor layer: API-key authentication and authorisation, the `{id}`
//! connection id and other path parameters, query parameters, headers, JSON and form bodies. Its
//! failures are [`EdgeError`]s; `crate::failures` decides their answers like every other error's.
//!
//! App-facing routes go through [`Edge::serve`] and nowhere else, so every one of them is, in this
//! order: resolved (404/405), authenticated (401), checked against the scope its route names (403),
//! for a key limited to some users checked against the owner of its `{id}` connection (404), and
//! written to the access log with its key id, route, status and latency.

use std::future::Future;
use std::time::Instant;

use lambda_http::http::header;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;

use crate::app::Connector;
use crate::auth::{ApiKey, AuthError, Scope};
use crate::domain::{AppUserId, ConnectionId, ParseError};
use crate::http::{self, ApiError};
use crate::store::StoreError;

/// Largest JSON request body accepted by the app-facing routes.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Why a request could not be taken apart.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    #[error("no route for {0}")]
    NoRoute(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The gateway's route and the handler disagree: our fault, a 500.
    #[error("the route has no path parameter {0:?} (API Gateway route and handler disagree)")]
    MissingPathParameter(String),
    #[error("{name}: {reason}")]
    Header { name: String, reason: &'static str },
    #[error("the body must be {0}")]
    ContentType(&'static str),
    #[error("the body must be at most {0} bytes")]
    TooLarge(usize),
    #[error("invalid JSON body: {0}")]
    Json(#[source] serde_json::Error),
    #[error("the body is not a form")]
    Form(#[source] serde_urlencoded::de::Error),
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Reading the connection's owner for a key limited to some users failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A function's routes: each route key (`"METHOD /template"`, as in template.yaml) with the value
/// the handler matches on (usually a small `Copy` enum, so the match is exhaustive).
pub type Routes<R> = [(&'static str, R)];

/// The route values of an app-facing function: each names the scope a key needs to call it. An
/// exhaustive `match` in `scope` means no route can be added without deciding its scope.
pub trait ScopedRoute: Copy {
    fn scope(self) -> Scope;

    /// A second scope that also admits the route (reading what another scope's routes did, such
    /// as a send's status with `mail:read`); `None` for most routes.
    fn or_scope(self) -> Option<Scope> {
        None
    }
}

/// The route key API Gateway delivered the request on (`None` for requests built without one).
pub fn route_key(request: &Request) -> Option<&str> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.route_key.as_deref(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Resolves `request` among `routes` by its route key's template and its method.
pub fn resolve<R: Copy>(request: &Request, routes: &Routes<R>) -> Result<R, EdgeError> {
    let template = route_key(request)
        .and_then(|key| key.split_once(' '))
        .map(|(_, template)| template);
    let Some(template) = template else {
        return Err(EdgeError::NoRoute(format!(
            "{} {}",
            request.method(),
            request.uri().path()
        )));
    };
    let mut known = false;
    for (key, route) in routes {
        let (method, path) = key.split_once(' ').unwrap_or(("", key));
        if path == template {
            if method == request.method().as_str() || method == "ANY" {
                return Ok(*route);
            }
            known = true;
        }
    }
    if known {
        Err(EdgeError::MethodNotAllowed)
    } else {
        Err(EdgeError::NoRoute(template.to_owned()))
    }
}

/// A request resolved to one of its function's routes.
pub struct Edge<'r, R> {
    request: &'r Request,
    route: R,
    /// The API key that was authenticated and authorised (`None` on public routes).
    key: Option<ApiKey>,
}

impl<'r, R: Copy> Edge<'r, R> {
    /// A public route (the caller is proven some other way, e.g. OAuth state, `clientState`).
    pub fn public(request: &'r Request, routes: &Routes<R>) -> Result<Self, EdgeError> {
        Ok(Self {
            request,
            route: resolve(request, routes)?,
            key: None,
        })
    }

    /// The route the request resolved to.
    pub fn route(&self) -> R {
        self.route
    }

    pub fn request(&self) -> &'r Request {
        self.request
    }
}

impl<'r, R: ScopedRoute> Edge<'r, R> {
    /// Serves an app-facing request: the edge checks (see the module comment), then `handler`,
    /// then the response, and one access-log line for it whatever the outcome.
    pub async fn serve<F, Fut>(
        c: &Connector,
        request: &'r Request,
        routes: &Routes<R>,
        handler: F,
    ) -> Response<Body>
    where
        F: FnOnce(Self) -> Fut,
        Fut: Future<Output = Result<Response<Body>, ApiError>>,
    {
        let started = Instant::now();
        let mut key_id = None;
        let result = async {
            let edge = Self::public(request, routes)?;
            let key = c.authenticate(edge.header("authorization")?).await?;
            key_id = Some(key.id.0.clone());
            handler(edge.authorize(c, key).await?).await
        }
        .await;
        let response = http::respond(result);
        // The key's id, never the key; the route's template, never the path with its ids.
        tracing::info!(
            api_key_id = key_id.as_deref().unwrap_or("-"),
            route = route_key(request).unwrap_or("-"),
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_millis() as u64,
            "access"
        );
        response
    }

    /// Lets `key` through if it has the route's scope and, when it is limited to some users, if
    /// the route's `{id}` connection belongs to one of them. Checked here, once, for every route
    /// with an `{id}`; the connection is read only for such keys (one GetItem more for them).
    async fn authorize(self, c: &Connector, key: ApiKey) -> Result<Self, EdgeError> {
        match (key.require(self.route.scope()), self.route.or_scope()) {
            (Ok(()), _) => {}
            (Err(missing), None) => return Err(missing.into()),
            (Err(_), Some(other)) => {
                if key.require(other).is_err() {
                    return Err(AuthError::MissingEitherScope(self.route.scope(), other).into());
                }
            }
        }
        if key.is_restricted() && self.has_param("id") {
            let id = self.connection_id()?;
            let owner = c.store.get_connection(&id).await?.map(|c| c.user_id);
            // An unknown connection and another user's look the same to this key.
            if !owner.is_some_and(|user| key.allows(&user)) {
                return Err(AuthError::ConnectionHidden(id).into());
            }
        }
        Ok(Self {
            key: Some(key),
            ..self
        })
    }
}

impl<'r, R> Edge<'r, R> {
    /// For a route over many users (or creating for one): the user the request names must be one
    /// the API key may reach, and a key limited to some users must name one (403 otherwise).
    pub fn require_user(&self, user: Option<&AppUserId>) -> Result<(), EdgeError> {
        match &self.key {
            Some(key) => Ok(key.require_user(user)?),
            None => Ok(()),
        }
    }

    fn has_param(&self, name: &str) -> bool {
        self.request
            .path_parameters_ref()
            .is_some_and(|p| p.first(name).is_some())
    }

    /// The `{id}` path parameter, parsed as a connection id (400 naming `connection_id`).
    pub fn connection_id(&self) -> Result<ConnectionId, EdgeError> {
        Ok(ConnectionId::parse(self.param("id")?)?)
    }

    /// A path parameter of the route. Its absence is a gateway misconfiguration: a 500.
    pub fn param(&self, name: &str) -> Result<&'r str, EdgeError> {
        self.request
            .path_parameters_ref()
            .and_then(|p| p.first(name))
            .ok_or_else(|| EdgeError::MissingPathParameter(name.to_owned()))
    }

    /// A query parameter (the first, when repeated).
    pub fn query(&self, name: &str) -> Option<&'r str> {
        self.request
            .query_string_parameters_ref()
            .and_then(|q| q.first(name))
    }

    /// A header's value; `None` when absent, a 400 naming it when it is not visible ASCII.
    pub fn header(&self, name: &str) -> Result<Option<&'r str>, EdgeError> {
        self.request
            .headers()
            .get(name)
            .map(|v| {
                v.to_str().map_err(|_| EdgeError::Header {
                    name: name.to_owned(),
                    reason: "must be printable ASCII",
                })
            })
            .transpose()
    }

    /// The raw body.
    pub fn body(&self) -> &'r [u8] {
        self.request.body().as_ref()
    }

    /// A JSON body of at most [`MAX_JSON_BODY`] bytes.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, EdgeError> {
        self.json_with_limit(MAX_JSON_BODY)
    }

    /// A JSON body (`application/json`) with the route's own size limit, of the expected shape.
    pub fn json_with_limit<T: DeserializeOwned>(&self, limit: usize) -> Result<T, EdgeError> {
        let content_type = self
            .request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let media = content_type.split(';').next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("application/json") {
            return Err(EdgeError::ContentType(
                "JSON (Content-Type: application/json)",
            ));
        }
        if self.body().len() > limit {
            return Err(EdgeError::TooLarge(limit));
        }
        serde_json::from_slice(self.body()).map_err(EdgeError::Json)
    }

    /// A JSON value already read, in the shape a route expects.
    pub fn decode<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, EdgeError> {
        serde_json::from_value(value).map_err(EdgeError::Json)
    }

    /// The client's IP address as API Gateway saw it (for per-client rate limits; never logged).
    pub fn source_ip(&self) -> Option<&'r str> {
        match self.request.request_context_ref()? {
            RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref(),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// A form-encoded body (`response_mode=form_post`) of at most `limit` bytes.
    pub fn form<T: DeserializeOwned>(&self, limit: usize) -> Result<T, EdgeError> {
        if self.body().len() > limit {
            return Err(EdgeError::TooLarge(limit));
        }
        serde_urlencoded::from_bytes(self.body()).map_err(EdgeError::Form)
    }

    /// The API's public base URL: the configured one, else the host the request came in on.
    pub fn base_url(&self, configured: Option<&url::Url>) -> Result<url::Url, EdgeError> {
        if let Some(url) = configured {
            return Ok(url.clone());
        }
        let host = self.header("host")?.ok_or(EdgeError::Header {
            name: "host".into(),
            reason: "the request has no Host header",
        })?;
        url::Url::parse(&format!("https://{host}")).map_err(|_| EdgeError::Header {
            name: "host".into(),
            reason: "malformed Host header",
        })
    }

    /// An optional JSON body: none (empty) is `T::default()`.
    pub fn json_or_default<T: DeserializeOwned + Default>(&self) -> Result<T, EdgeError> {
        if self.body().is_empty() {
            Ok(T::default())
        } else {
            self.json()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ApiError;
    use lambda_http::http::StatusCode;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum R {
        List,
        Get,
        Delete,
    }
    const ROUTES: &Routes<R> = &[
        ("GET /connections", R::List),
        ("GET /connections/{id}", R::Get),
        ("DELETE /connections/{id}", R::Delete),
    ];

    /// An HTTP API payload 2.0 event, as API Gateway sends it behind a stage named `prod`.
    fn event(method: &str, route_key: &str, raw_path: &str, params: serde_json::Value) -> Request {
        let event = serde_json::json!({
            "version": "2.0", "routeKey": route_key, "rawPath": raw_path, "rawQueryString": "x=1",
            "headers": {"host": "api.example", "idempotency-key": "k-1"},
            "queryStringParameters": {"x": "1"},
            "requestContext": {
                "accountId": "1", "apiId": "a", "domainName": "api.example",
                "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                         "sourceIp": "203.0.113.1", "userAgent": "t"},
                "requestId": "r", "routeKey": route_key, "stage": "prod",
                "time": "27/Nov/2026:16:40:00 +0000", "timeEpoch": 1795797600000u64
            },
            "pathParameters": params,
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    const ID: &str = "0b6c3f1e-4d2a-4c8e-9f7b-2a1d5e6c7b8a";

    #[test]
    fn routes_on_the_route_key_not_the_staged_path() {
        let r = event(
            "DELETE",
            "DELETE /connections/{id}",
            &format!("/prod/connections/{ID}"),
            serde_json::json!({"id": ID}),
        );
        let edge = Edge::public(&r, ROUTES).unwrap();
        assert_eq!(edge.route(), R::Delete);
        assert_eq!(edge.connection_id().unwrap().as_str(), ID);
        assert_eq!(edge.query("x"), Some("1"));
        assert_eq!(edge.header("Idempotency-Key").unwrap(), Some("k-1"));
        assert_eq!(edge.header("if-match").unwrap(), None);
    }

    #[test]
    fn unknown_templates_are_404_and_other_methods_405() {
        let r = event(
            "GET",
            "GET /elsewhere",
            "/prod/elsewhere",
            serde_json::json!({}),
        );
        let e = ApiError::from(resolve(&r, ROUTES).unwrap_err());
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert!(e.problem().detail.unwrap().contains("/elsewhere"));

        let r = event(
            "PUT",
            "PUT /connections",
            "/prod/connections",
            serde_json::json!({}),
        );
        assert_eq!(
            ApiError::from(resolve(&r, ROUTES).unwrap_err()).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );

        let r = event("GET", "$default", "/connections", serde_json::json!({}));
        assert_eq!(
            ApiError::from(resolve(&r, ROUTES).unwrap_err()).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn a_bad_id_is_a_400_and_a_missing_parameter_a_500() {
        let r = event(
            "GET",
            "GET /connections/{id}",
            "/connections/nope",
            serde_json::json!({"id": "nope"}),
        );
        let edge = Edge::public(&r, ROUTES).unwrap();
        let e = ApiError::from(edge.connection_id().unwrap_err());
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);

        let r = event(
            "GET",
            "GET /connections/{id}",
            "/connections/x",
            serde_json::json!({}),
        );
        let edge = Edge::public(&r, ROUTES).unwrap();
        assert_eq!(
            ApiError::from(edge.connection_id().unwrap_err()).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
