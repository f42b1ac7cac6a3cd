//! The `docs` function: the API contract and its documentation page (routes as in template.yaml):
//! - `GET /openapi.json` - `openapi.yaml` (the repository's contract) as JSON
//! - `GET /docs` - a static page that renders it with Redoc
//! - `GET /docs/redoc.standalone.js` - Redoc's standalone bundle, vendored (`assets/redoc`)
//!
//! Public and without I/O: everything is embedded in the binary at build time, so the page and
//! the contract a deployment serves are the ones it was built with. The YAML is converted to JSON
//! by `build.rs`, so a container does nothing at init.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use m365_connector::edge::{Edge, Routes};
use m365_connector::http::{self, ApiError};

/// The contract (the repository root's `openapi.yaml`) as JSON, converted by `build.rs`.
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));
const PAGE: &str = include_str!("../assets/docs.html");
const REDOC: &str = include_str!("../assets/redoc/redoc.standalone.js");

/// How long browsers and proxies may keep the contract and the page: a deploy shows within 5 min.
const CACHE_SHORT: &str = "public, max-age=300";
/// The renderer changes only with a deploy that vendors another version.
const CACHE_LONG: &str = "public, max-age=86400";
/// The page loads its script, the contract and Redoc's styles from this origin only; Redoc
/// injects inline styles and runs its search index in a worker started from a blob.
const PAGE_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; \
base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[derive(Clone, Copy)]
enum Route {
    OpenApi,
    Page,
    Renderer,
}

const ROUTES: &Routes<Route> = &[
    ("GET /openapi.json", Route::OpenApi),
    ("GET /docs", Route::Page),
    ("GET /docs/redoc.standalone.js", Route::Renderer),
];

/// Handles one API Gateway request. Never fails: an unknown route is a problem response.
pub fn handle(request: Request) -> Response<Body> {
    http::respond(route(&request))
}

fn route(request: &Request) -> Result<Response<Body>, ApiError> {
    let edge = Edge::public(request, ROUTES)?;
    Ok(match edge.route() {
        Route::OpenApi => file(OPENAPI_JSON, "application/json", CACHE_SHORT),
        Route::Page => {
            let mut page = file(PAGE, "text/html; charset=utf-8", CACHE_SHORT);
            page.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            );
            page
        }
        Route::Renderer => file(REDOC, "text/javascript; charset=utf-8", CACHE_LONG),
    })
}

fn file(content: &str, content_type: &'static str, cache: &'static str) -> Response<Body> {
    let mut response = http::text(StatusCode::OK, content);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Response<Body> {
        let event = serde_json::json!({
            "version": "2.0", "routeKey": format!("GET {path}"), "rawPath": path,
            "rawQueryString": "", "headers": {"host": "api.example"},
            "requestContext": {
                "accountId": "1", "apiId": "a", "domainName": "api.example",
                "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                         "sourceIp": "203.0.113.1", "userAgent": "t"},
                "requestId": "r", "routeKey": format!("GET {path}"), "stage": "$default",
                "time": "27/Nov/2026:16:40:00 +0000", "timeEpoch": 1795797600000u64
            },
            "isBase64Encoded": false
        });
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        handle(request)
    }

    #[test]
    fn the_contract_is_served_as_json_and_lists_its_own_routes() {
        let r = get("/openapi.json");
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()["cache-control"], CACHE_SHORT);
        let spec: serde_json::Value = serde_json::from_slice(r.body().as_ref()).unwrap();
        assert_eq!(spec["openapi"], "3.1.0");
        for (key, _) in ROUTES {
            let (method, path) = key.split_once(' ').unwrap();
            assert!(
                spec["paths"][path][method.to_lowercase()].is_object(),
                "{key} is not in openapi.yaml"
            );
        }
    }

    #[test]
    fn the_page_loads_the_vendored_renderer_and_the_contract_from_this_origin() {
        let page = get("/docs");
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
        let csp = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        let html = std::str::from_utf8(page.body().as_ref()).unwrap();
        assert!(html.contains(r#"spec-url="openapi.json""#), "{html}");
        assert!(html.contains(r#"src="docs/redoc.standalone.js""#), "{html}");
        assert!(!html.contains("http"), "no absolute URL, no CDN: {html}");

        let script = get("/docs/redoc.standalone.js");
        assert_eq!(script.status(), 200);
        assert_eq!(
            script.headers()["content-type"],
            "text/javascript; charset=utf-8"
        );
        assert!(script.body().len() > 500_000);
    }

    #[test]
    fn another_route_is_a_problem() {
        let r = get("/docs/other.js");
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
}
