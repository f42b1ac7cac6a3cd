//! The outer middleware, run before routing: request ids, `/users/{id}` -> `/me` rewriting,
//! the 4 MB Graph body limit, request faults, per-mailbox concurrency, the request log, and
//! `innerError` in Graph error bodies.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::faults::FaultKind;
use crate::respond::{GraphError, GraphErrorBody};
use crate::state::RequestLogEntry;
use crate::SimRef;

pub const GRAPH_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Decrements the mailbox's in-flight count when the request ends, however it ends.
struct InflightGuard {
    sim: SimRef,
    user: String,
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        let mut st = self.sim.st();
        if let Some(n) = st.inflight.get_mut(&self.user) {
            *n = n.saturating_sub(1);
        }
    }
}

pub async fn outer(State(sim): State<SimRef>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let mut path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    let is_graph = path.starts_with("/v1.0/") || path == "/v1.0";
    let user = if is_graph {
        crate::graph::bearer_user(&sim, req.headers())
    } else {
        None
    };

    let mut fault_name: Option<String> = None;
    let mut _guard: Option<InflightGuard> = None;
    let resp = 'outcome: {
        if is_graph {
            // /v1.0/users/{id|upn}[/...] addresses the signed-in user's own data as /me.
            if let Some(rest) = path.strip_prefix("/v1.0/users/") {
                let (who, tail) = rest.split_once('/').map_or((rest, ""), |(a, b)| (a, b));
                let who = percent_decode(who);
                let target = crate::directory::user(&who);
                match (target, &user) {
                    (Some(t), Some(u)) if t.id == u.as_str() => {
                        let new_path = if tail.is_empty() {
                            "/v1.0/me".to_string()
                        } else {
                            format!("/v1.0/me/{tail}")
                        };
                        let pq = match &query {
                            Some(q) => format!("{new_path}?{q}"),
                            None => new_path.clone(),
                        };
                        if let Ok(uri) = pq.parse::<Uri>() {
                            *req.uri_mut() = uri;
                        }
                        path = new_path;
                    }
                    (_, None) => {}
                    (Some(_), Some(_)) => break 'outcome GraphError::access_denied().into_response(),
                    (None, Some(_)) => {
                        break 'outcome GraphError::new(
                            StatusCode::NOT_FOUND,
                            "Request_ResourceNotFound",
                            format!("Resource '{who}' does not exist or one of its queried reference-property objects are not present."),
                        )
                        .into_response()
                    }
                }
            }
        }
        if is_graph || path.starts_with("/_upload/") {
            let declared = req
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok());
            if declared.is_some_and(|n| n > GRAPH_BODY_LIMIT) {
                break 'outcome too_large();
            }
            let (parts, body) = req.into_parts();
            match axum::body::to_bytes(body, GRAPH_BODY_LIMIT).await {
                Ok(bytes) => req = Request::from_parts(parts, Body::from(bytes)),
                Err(_) => break 'outcome too_large(),
            }
        }

        // Request faults, in the order they were added.
        let mut latency_ms = 0u64;
        let mut failure: Option<GraphError> = None;
        let mut concurrency_limit: Option<usize> = None;
        let mut foreign_origin: Option<String> = None;
        {
            let now = sim.now();
            let mut st = sim.st();
            for f in st.faults.iter_mut() {
                if !f.matches_request(&method, &path) {
                    continue;
                }
                match f.spec.kind {
                    FaultKind::MailboxConcurrency => {
                        concurrency_limit = Some(f.spec.limit.unwrap_or(4));
                    }
                    kind => {
                        if !f.fire(now) {
                            continue;
                        }
                        match kind {
                            FaultKind::Latency => latency_ms += f.spec.ms.unwrap_or(1000),
                            FaultKind::ForeignLink => {
                                fault_name = Some(format!("foreignLink:{}", f.id));
                                foreign_origin = f.spec.origin.clone();
                            }
                            FaultKind::Throttle if failure.is_none() => {
                                fault_name = Some(format!("throttle:{}", f.id));
                                let mut e = GraphError::new(
                                    StatusCode::TOO_MANY_REQUESTS,
                                    "TooManyRequests",
                                    "Too many requests. Retry after the number of seconds in the Retry-After header.",
                                );
                                e.retry_after = Some(f.spec.retry_after.unwrap_or(5));
                                failure = Some(e);
                            }
                            FaultKind::Error if failure.is_none() => {
                                fault_name = Some(format!("error:{}", f.id));
                                let status = f
                                    .spec
                                    .status
                                    .and_then(|s| StatusCode::from_u16(s).ok())
                                    .unwrap_or(StatusCode::BAD_REQUEST);
                                failure = Some(GraphError::new(
                                    status,
                                    f.spec.code.as_deref().unwrap_or("ErrorInvalidRequest"),
                                    f.spec
                                        .message
                                        .clone()
                                        .unwrap_or_else(|| "The request was refused.".into()),
                                ));
                            }
                            FaultKind::Unavailable if failure.is_none() => {
                                fault_name = Some(format!("unavailable:{}", f.id));
                                let mut e = GraphError::new(
                                    StatusCode::SERVICE_UNAVAILABLE,
                                    "serviceNotAvailable",
                                    "The service is temporarily unavailable. Retry the request after a delay.",
                                );
                                e.retry_after = f.spec.retry_after;
                                failure = Some(e);
                            }
                            _ => {}
                        }
                    }
                }
            }
            if let (Some(limit), Some(u)) = (concurrency_limit, &user) {
                let n = st.inflight.entry(u.clone()).or_insert(0);
                if *n >= limit {
                    fault_name = Some("mailboxConcurrency".into());
                    let mut e = GraphError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "ApplicationThrottled",
                        "Application is over its MailboxConcurrency limit.",
                    );
                    e.retry_after = Some(1);
                    failure = Some(e);
                } else {
                    *n += 1;
                    _guard = Some(InflightGuard {
                        sim: sim.clone(),
                        user: u.clone(),
                    });
                }
            }
        }
        if latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(latency_ms)).await;
        }
        if let Some(e) = failure {
            break 'outcome e.into_response();
        }
        let resp = next.run(req).await;
        match foreign_origin {
            Some(origin) => with_foreign_links(resp, &sim.base_url, &origin).await,
            None => resp,
        }
    };
    drop(_guard);

    let mut resp = finish_graph_error(resp, &request_id, &client_request_id).await;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&client_request_id) {
        h.insert("client-request-id", v);
    }
    if is_graph {
        h.insert("cache-control", HeaderValue::from_static("no-store"));
        h.insert(
            "x-ms-ags-diagnostic",
            HeaderValue::from_static(r#"{"ServerInfo":{"DataCenter":"Simulated","Slice":"E","Ring":"5","ScaleUnit":"000","RoleInstance":"sim"}}"#),
        );
    }

    if !path.starts_with("/_sim") {
        let mut st = sim.st();
        st.request_seq += 1;
        let seq = st.request_seq;
        st.requests.push(RequestLogEntry {
            seq,
            time: crate::mailbox::ts(sim.now()),
            method,
            path,
            query,
            status: resp.status().as_u16(),
            duration_ms: started.elapsed().as_millis() as u64,
            user: user.and_then(|u| crate::directory::user_by_id(&u).map(|u| u.upn.to_string())),
            fault: fault_name,
        });
    }
    resp
}

fn too_large() -> Response {
    GraphError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        "The maximum request length supported is 4MB.",
    )
    .into_response()
}

/// Add `innerError` (request-id, date, client-request-id) to a Graph error body.
async fn finish_graph_error(resp: Response, request_id: &str, client_request_id: &str) -> Response {
    if resp.extensions().get::<GraphErrorBody>().is_none() {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    if let Some(err) = v.get_mut("error") {
        err["innerError"] = serde_json::json!({
            "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "request-id": request_id,
            "client-request-id": client_request_id,
        });
    }
    let mut parts = parts;
    parts.headers.remove("content-length");
    Response::from_parts(
        parts,
        Body::from(serde_json::to_vec(&v).unwrap_or_default()),
    )
}

/// The `foreignLink` fault: the answer's `@odata.nextLink` / `@odata.deltaLink` moved from the
/// simulator's origin to `origin` (same path and query), everything else unchanged.
async fn with_foreign_links(resp: Response, base_url: &str, origin: &str) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    for key in ["@odata.nextLink", "@odata.deltaLink"] {
        if let Some(link) = v.get(key).and_then(|l| l.as_str()) {
            if let Some(rest) = link.strip_prefix(base_url) {
                v[key] =
                    serde_json::Value::String(format!("{}{rest}", origin.trim_end_matches('/')));
            }
        }
    }
    parts.headers.remove("content-length");
    Response::from_parts(
        parts,
        Body::from(serde_json::to_vec(&v).unwrap_or_default()),
    )
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
