//! The one place that builds HTTP responses and maps errors to status codes.
//!
//! Client-caused failures are `application/problem+json` bodies (RFC 9457) with a useful `detail`;
//! server faults are logged with their whole cause chain and answered with an opaque 500/503 whose
//! body carries no internals.

use std::error::Error as StdError;

use lambda_http::{http::header, http::StatusCode, Body, Response};
use serde::Serialize;

/// The body of an `application/problem+json` response (RFC 9457).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// A URI reference naming the problem type; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request field at fault, when there is one (an extension member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The API-key scope the route needs, on a missing-scope problem (an extension member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_scope: Option<String>,
}

/// Every way a request can fail, as the client should see it. Which failure becomes which answer,
/// with its status, problem `type` and `Retry-After`, is decided in one place: `crate::failures`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {detail}")]
    BadRequest {
        detail: String,
        field: Option<String>,
    },
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// A permission the connection was not granted.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The API key lacks the scope the route needs.
    #[error("missing scope: {0}")]
    MissingScope(crate::auth::Scope),
    /// The API key has neither of the two scopes that admit the route.
    #[error("missing scope: {0} or {1}")]
    MissingEitherScope(crate::auth::Scope, crate::auth::Scope),
    /// The API key may not act for the user the request names (or must name one).
    #[error("user not allowed: {0}")]
    UserNotAllowed(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The connection is not active (needs reconnecting, or is being deleted).
    #[error("connection not active: {0}")]
    NotActive(String),
    /// The mailbox is not served by Exchange Online.
    #[error("unsupported mailbox: {0}")]
    UnsupportedMailbox(String),
    /// A request with the same `Idempotency-Key` is still running.
    #[error("a request with this Idempotency-Key is in progress")]
    InProgress { retry_after_secs: u64 },
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// A message larger than the mailbox may send (Exchange's `MaxSendSize`).
    #[error("message too large for the mailbox: {0}")]
    MessageTooLarge(String),
    /// The mailbox is over its storage quota.
    #[error("mailbox full: {0}")]
    MailboxFull(String),
    /// Exchange refuses to submit mail from this mailbox (blocked sender, send-as denied).
    #[error("sending blocked: {0}")]
    SendingBlocked(String),
    /// A sign-in result that was used, discarded or has expired.
    #[error("gone: {0}")]
    Gone(String),
    /// A sign-in result claimed by an app user other than the one who started the sign-in.
    #[error("claim forbidden: {0}")]
    ClaimForbidden(String),
    /// The mailbox is connected under another app user.
    #[error("mailbox connected elsewhere: {0}")]
    ConnectedElsewhere(String),
    /// The tenant's access policy (set by its administrator) forbids the action.
    #[error("forbidden by the tenant's policy: {0}")]
    TenantPolicy(String),
    /// An `Idempotency-Key` reused for a different request.
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// A scheduling link that is booked, expired or cancelled: it cannot do this any more.
    #[error("link not open: {0}")]
    LinkNotOpen(String),
    /// The time was taken by another booking (or became busy) a moment ago.
    #[error("slot taken: {0}")]
    SlotTaken(String),
    /// Too many requests from this client or for this resource; retry after the given seconds.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// A dependency is temporarily unavailable; the client may retry after the given seconds.
    #[error("service unavailable")]
    Unavailable {
        retry_after_secs: u64,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// A fault on our side. The cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

impl ApiError {
    pub fn bad_request(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            field: Some(field.into()),
        }
    }

    pub fn internal(e: impl StdError + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(e))
    }

    /// Builds the response, logging server faults with their cause chain.
    pub fn into_response(self) -> Response<Body> {
        match &self {
            Self::Internal(source) | Self::Unavailable { source, .. } => {
                tracing::error!(error = %chain(source.as_ref()), status = self.status().as_u16(), "request failed");
            }
            _ => tracing::info!(status = self.status().as_u16(), error = %self, "request rejected"),
        }
        let mut response = problem_response(&self.problem());
        if let Some(secs) = self.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        if let Self::Unauthorized(_) = &self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// Renders an error and all its sources on one line, for logs.
pub fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

fn build(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

/// A JSON body with the given status.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => build(status, "application/json", Body::Binary(bytes)),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// An `application/problem+json` body.
pub fn problem_response(problem: &Problem) -> Response<Body> {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = serde_json::to_vec(problem).unwrap_or_default();
    build(status, "application/problem+json", Body::Binary(bytes))
}

/// A plain-text body (`text/plain; charset=utf-8`, never sniffed as anything else).
pub fn text(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    let mut response = build(status, "text/plain; charset=utf-8", Body::Text(body.into()));
    response.headers_mut().insert(
        "x-content-type-options",
        header::HeaderValue::from_static("nosniff"),
    );
    response
}

/// A 302 redirect to `location`.
pub fn redirect(location: &url::Url) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::FOUND;
    match header::HeaderValue::from_str(location.as_str()) {
        Ok(v) => {
            response.headers_mut().insert(header::LOCATION, v);
            response
        }
        // A parsed Url is always a valid header value; keep the impossible case a 500, not a panic.
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// A 302 redirect that also sets (or clears) a cookie; never cached, since it carries one.
pub fn redirect_with_cookie(location: &url::Url, set_cookie: Option<&str>) -> Response<Body> {
    let mut response = redirect(location);
    if let Some(cookie) = set_cookie {
        match header::HeaderValue::from_str(cookie) {
            Ok(v) => {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            Err(e) => return ApiError::internal(e).into_response(),
        }
    }
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// What a person's browser shows when a browser route fails: the same status and problem as
/// the API would answer (decided in `crate::failures`), as a small HTML page, since a raw JSON
/// document is no answer for somebody coming back from Microsoft's sign-in.
pub fn page(error: ApiError) -> Response<Body> {
    let api = error.into_response();
    let status = api.status();
    let problem: serde_json::Value =
        serde_json::from_slice(api.body().as_ref()).unwrap_or_default();
    let field = |name: &str| problem[name].as_str().unwrap_or_default().to_owned();
    let (title, detail) = (field("title"), field("detail"));
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\n\
<body><h1>This sign-in can't be completed here</h1>\n<p>{d}</p>\n<p>Go back to the app and connect your mailbox again.</p>\n\
<p><small>{t} ({kind})</small></p></body></html>\n",
        t = escape_html(&title),
        d = escape_html(&detail),
        kind = escape_html(&field("type")),
    );
    let mut response = build(status, "text/html; charset=utf-8", Body::Text(body));
    let headers = response.headers_mut();
    headers.insert(
        "x-content-type-options",
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// Escapes text for HTML element content and quoted attribute values: the one escaping helper
/// every hand-rendered page goes through.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A server-rendered page for a person's browser. Its inline style and script run only with
/// `nonce` (Content-Security-Policy); nothing else loads, not even from this origin except form
/// posts; no framing; no `Referer` (the page's URL is its credential); never cached.
pub fn html(status: StatusCode, body: String, nonce: &str) -> Response<Body> {
    let mut response = build(status, "text/html; charset=utf-8", Body::Text(body));
    let csp = format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; \
         img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    let headers = response.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(
        "x-content-type-options",
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// A 303 to `location` (relative to the request's URL): after a form post, the browser shows
/// the result with a GET, so reloading it does not post again.
pub fn see_other(location: &str) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::SEE_OTHER;
    match header::HeaderValue::from_str(location) {
        Ok(v) => {
            response.headers_mut().insert(header::LOCATION, v);
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// An empty response with the given status (e.g. 204).
pub fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = status;
    response
}

/// Collapses a handler's result into a response: the single mapping from errors to statuses.
pub fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(ApiError::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(r: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(r.body().as_ref()).unwrap()
    }

    #[test]
    fn client_errors_are_problem_json_with_detail_and_field() {
        let r = ApiError::bad_request("user_id", "user_id must not be empty").into_response();
        assert_eq!(r.status(), 400);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let b = body_json(&r);
        assert_eq!(b["type"], "urn:m365-connector:problem:invalid-request");
        assert_eq!(b["title"], "Bad Request");
        assert_eq!(b["status"], 400);
        assert_eq!(b["detail"], "user_id must not be empty");
        assert_eq!(b["field"], "user_id");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let cause = std::io::Error::other("dynamodb at 10.0.0.1 said: secret-table-name missing");
        let r = ApiError::internal(cause).into_response();
        assert_eq!(r.status(), 500);
        let raw = String::from_utf8(r.body().as_ref().to_vec()).unwrap();
        assert!(
            !raw.contains("dynamodb") && !raw.contains("secret"),
            "{raw}"
        );
        assert_eq!(body_json(&r)["title"], "Internal Server Error");
    }

    #[test]
    fn unavailable_carries_retry_after_and_no_internals() {
        let r = ApiError::Unavailable {
            retry_after_secs: 7,
            source: Box::new(std::io::Error::other("graph throttled tenant xyz")),
        }
        .into_response();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()[header::RETRY_AFTER], "7");
        let raw = String::from_utf8(r.body().as_ref().to_vec()).unwrap();
        assert!(!raw.contains("xyz"));
    }

    #[test]
    fn unauthorized_asks_for_a_bearer_token() {
        let r = ApiError::Unauthorized("missing API key".into()).into_response();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(body_json(&r)["detail"], "missing API key");
    }

    #[test]
    fn json_text_redirect_and_empty_builders() {
        let r = json(StatusCode::CREATED, &serde_json::json!({"a": 1}));
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(body_json(&r)["a"], 1);

        let r = text(StatusCode::OK, "<&>");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.body().as_ref(), b"<&>");

        let r = redirect(&url::Url::parse("https://app.example/done?x=1").unwrap());
        assert_eq!(r.status(), 302);
        assert_eq!(
            r.headers()[header::LOCATION],
            "https://app.example/done?x=1"
        );

        assert_eq!(empty(StatusCode::NO_CONTENT).status(), 204);
    }

    #[test]
    fn cause_chain_is_rendered_for_logs() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(chain(&e), "outer: inner");
    }
}
