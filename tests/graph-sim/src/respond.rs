//! Building responses: Graph errors, identity-platform errors, HTML pages, redirects.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A Graph error: `{"error":{"code","message","innerError":{...}}}`. The request id and date
/// in `innerError` are filled in by the outer middleware from the response headers.
#[derive(Debug, Clone)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> GraphError {
        GraphError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", message)
    }
    pub fn not_found() -> GraphError {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    }
    pub fn access_denied() -> GraphError {
        GraphError::new(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )
    }
    pub fn unauthenticated(message: &str) -> GraphError {
        GraphError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }
    /// What Graph answers for mailbox calls in a tenant without Exchange Online.
    pub fn organization_not_found(tenant_id: &str) -> GraphError {
        GraphError::new(
            StatusCode::UNAUTHORIZED,
            "OrganizationFromTenantGuidNotFound",
            format!("The tenant for tenant guid '{tenant_id}' does not exist."),
        )
    }
    pub fn mailbox_not_enabled() -> GraphError {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        )
    }
}

/// Marker extension: the middleware fills `innerError` of responses carrying it.
#[derive(Clone)]
pub struct GraphErrorBody;

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp.extensions_mut().insert(GraphErrorBody);
        resp
    }
}

pub type GraphResult = Result<Response, GraphError>;

pub fn json_status(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

pub fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// Identity-platform error JSON (token endpoint): `error`, `error_description` starting with
/// `AADSTSnnnnn:`, `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
pub fn identity_error(status: StatusCode, error: &str, aadsts: u32, text: &str) -> Response {
    let trace_id = uuid::Uuid::new_v4().to_string();
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now();
    let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{aadsts}: {text} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}"
        ),
        "error_codes": [aadsts],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("https://login.microsoftonline.com/error?code={aadsts}"),
    });
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{}\n</body></html>\n",
        escape(title),
        body
    );
    let mut resp = (status, page).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

/// The identity platform's error page (shown instead of a redirect when the redirect URI
/// itself cannot be trusted).
pub fn identity_error_page(aadsts: u32, text: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        "Sign in to your account",
        &format!(
            "<h1>Sorry, but we're having trouble signing you in.</h1>\n<p id=\"error\">AADSTS{aadsts}: {}</p>",
            escape(text)
        ),
    )
}

pub fn redirect(location: &str) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
