//! The identity platform: OIDC discovery, JWKS, /authorize with a JavaScript-free sign-in and
//! consent page, /token (authorization code with PKCE, refresh with rotation, client credentials),
//! admin consent.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::directory::{self, Tenant, User, APP_NAME};
use crate::respond::{escape, html, identity_error, identity_error_page, redirect};
use crate::scopes::{describe, ScopeSet};
use crate::state::{random_token, AccessGrant, AuthCode, AuthorizeFlow, RefreshGrant};
use crate::SimRef;

pub const CODE_LIFETIME_SECS: i64 = 600;
/// How long a sign-in page stays valid.
pub const FLOW_LIFETIME_SECS: i64 = 3600;
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 3599;
pub const ID_TOKEN_LIFETIME_SECS: i64 = 3600;
pub const REFRESH_INACTIVITY_SECS: i64 = 90 * 24 * 3600;

pub fn routes() -> Router<SimRef> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(jwks))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize).post(authorize_submit),
        )
        .route("/{tenant}/oauth2/v2.0/token", axum::routing::post(token))
        .route("/{tenant}/oauth2/v2.0/logout", get(logout))
        .route(
            "/{tenant}/v2.0/adminconsent",
            get(admin_consent).post(admin_consent_submit),
        )
}

/// The `{tenant}` path segment.
#[derive(Debug, Clone, Copy)]
enum Authority {
    /// `common` or `organizations`: any seeded tenant.
    Multi,
    Tenant(&'static Tenant),
}

fn authority(seg: &str) -> Option<Authority> {
    match seg.to_ascii_lowercase().as_str() {
        "common" | "organizations" => Some(Authority::Multi),
        _ => directory::tenant(seg).map(Authority::Tenant),
    }
}

fn unknown_tenant(seg: &str) -> Response {
    identity_error(
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        &format!("Tenant '{seg}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
    )
}

async fn discovery(State(sim): State<SimRef>, Path(seg): Path<String>) -> Response {
    let Some(auth) = authority(&seg) else {
        return unknown_tenant(&seg);
    };
    let base = &sim.base_url;
    let issuer = match auth {
        Authority::Multi => format!("{base}/{{tenantid}}/v2.0"),
        Authority::Tenant(t) => format!("{base}/{}/v2.0", t.id),
    };
    let doc = json!({
        "token_endpoint": format!("{base}/{seg}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{seg}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{seg}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{seg}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{seg}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/{seg}/kerberos"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    });
    axum::Json(doc).into_response_ok()
}

trait OkJson {
    fn into_response_ok(self) -> Response;
}
impl OkJson for axum::Json<serde_json::Value> {
    fn into_response_ok(self) -> Response {
        axum::response::IntoResponse::into_response(self)
    }
}

async fn jwks(State(sim): State<SimRef>, Path(seg): Path<String>) -> Response {
    if authority(&seg).is_none() {
        return unknown_tenant(&seg);
    }
    let doc = sim
        .keys
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .jwks(&sim.base_url);
    axum::Json(doc).into_response_ok()
}

async fn logout(Query(q): Query<HashMap<String, String>>) -> Response {
    match q.get("post_logout_redirect_uri") {
        Some(uri) => redirect(uri),
        None => html(
            StatusCode::OK,
            "Sign out",
            "<p>You signed out of your account.</p>",
        ),
    }
}

/// Append `params` to `uri` as a query (or fragment).
fn with_params(uri: &str, params: &[(&str, &str)], fragment: bool) -> String {
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    if fragment {
        format!("{uri}#{encoded}")
    } else if uri.contains('?') {
        format!("{uri}&{encoded}")
    } else {
        format!("{uri}?{encoded}")
    }
}

/// Send the authorization response to the client as `response_mode` says.
fn respond_to_client(redirect_uri: &str, mode: &str, params: &[(&str, &str)]) -> Response {
    match mode {
        "form_post" => {
            let inputs: String = params
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                        escape(k),
                        escape(v)
                    )
                })
                .collect();
            html(
                StatusCode::OK,
                "Working...",
                &format!(
                    "<form method=\"POST\" name=\"hiddenform\" action=\"{}\">\n{inputs}<noscript><p>Script is disabled. Click Submit to continue.</p></noscript>\n<input type=\"submit\" value=\"Submit\">\n</form>",
                    escape(redirect_uri)
                ),
            )
        }
        "fragment" => redirect(&with_params(redirect_uri, params, true)),
        _ => redirect(&with_params(redirect_uri, params, false)),
    }
}

fn error_to_client(
    redirect_uri: &str,
    mode: &str,
    state: Option<&str>,
    error: &str,
    aadsts: u32,
    text: &str,
) -> Response {
    let desc = format!(
        "AADSTS{aadsts}: {text} Trace ID: {} Correlation ID: {} Timestamp: {}",
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ")
    );
    let mut params = vec![("error", error), ("error_description", desc.as_str())];
    if let Some(s) = state {
        params.push(("state", s));
    }
    respond_to_client(redirect_uri, mode, &params)
}

/// The user gave up on one of Entra's own pages ("Return to the application without granting
/// consent"): the app gets `access_denied` with `error_subcode=cancel` and no description.
fn cancel_to_client(redirect_uri: &str, mode: &str, state: Option<&str>) -> Response {
    let mut params = vec![("error", "access_denied"), ("error_subcode", "cancel")];
    if let Some(s) = state {
        params.push(("state", s));
    }
    respond_to_client(redirect_uri, mode, &params)
}

/// The tenant's user consent setting now (seeded, or changed through the control API).
fn user_consent_of(sim: &SimRef, tenant: &Tenant) -> directory::UserConsent {
    sim.st()
        .user_consent
        .get(tenant.id)
        .copied()
        .unwrap_or(tenant.user_consent)
}

/// Whether the app's enterprise application lets `user` sign in ("Assignment required?").
fn assigned(tenant: &Tenant, user: &User) -> bool {
    !tenant.assignment_required
        || tenant
            .assigned
            .iter()
            .any(|upn| upn.eq_ignore_ascii_case(user.upn))
}

fn not_assigned_text(sim: &SimRef, user: &User) -> String {
    format!("Your administrator has configured the application {APP_NAME} ('{}') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '{}' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator. Please contact your administrator to assign access to this application.", sim.client_id, user.upn)
}

/// Entra's interstitial for a user who may not consent: "Need admin approval" (AADSTS90094) or,
/// with the admin consent workflow on, "Approval required" (AADSTS90095). It is a page, not a
/// redirect: the only way back to the app is the "return without granting consent" link.
fn approval_page(action: &str, flow_id: &str, workflow: bool) -> Response {
    let (title, code, text) = if workflow {
        (
            "Approval required",
            90095,
            format!("{APP_NAME} needs permission to access resources in your organization that only an admin can grant. Please request approval from an admin to use this app. Enter a justification and select Request approval."),
        )
    } else {
        (
            "Need admin approval",
            90094,
            format!("{APP_NAME} needs permission to access resources in your organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it."),
        )
    };
    let body = format!(
        "<h1>{title}</h1>\n<p id=\"error\" data-aadsts=\"{code}\">{text}</p>\n\
<p>Have an admin account? Sign in with that account.</p>\n\
<form method=\"post\" action=\"{action}\">\n<input type=\"hidden\" name=\"flow\" value=\"{flow_id}\">\n\
<button type=\"submit\" name=\"action\" value=\"return\">Return to the application without granting consent</button>\n</form>\n\
<p>Troubleshooting details: AADSTS{code}</p>",
        title = escape(title),
        text = escape(&text),
        action = escape(action),
        flow_id = escape(flow_id),
    );
    html(StatusCode::OK, title, &body)
}

async fn authorize(
    State(sim): State<SimRef>,
    Path(seg): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(auth) = authority(&seg) else {
        return identity_error_page(90002, &format!("Tenant '{seg}' not found."));
    };
    let client_id = q.get("client_id").map(String::as_str).unwrap_or("");
    if client_id != sim.client_id {
        return identity_error_page(
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{seg}'."
            ),
        );
    }
    let redirect_uri = q.get("redirect_uri").cloned().unwrap_or_default();
    if !sim.redirect_allowed(&redirect_uri) {
        return identity_error_page(
            50011,
            &format!("The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."),
        );
    }
    let mode = q
        .get("response_mode")
        .cloned()
        .unwrap_or_else(|| "query".into());
    let state = q.get("state").map(String::as_str);
    if !matches!(mode.as_str(), "query" | "fragment" | "form_post") {
        return error_to_client(
            &redirect_uri,
            "query",
            state,
            "invalid_request",
            900144,
            "The 'response_mode' parameter is invalid.",
        );
    }
    let fail = |error: &str, code: u32, text: &str| {
        error_to_client(&redirect_uri, &mode, state, error, code, text)
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return fail(
            "unsupported_response_type",
            700054,
            "response_type must be 'code' for this application (the implicit and hybrid flows are not enabled).",
        );
    }
    let Some(raw_scope) = q.get("scope") else {
        return fail(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        );
    };
    let scopes = match ScopeSet::parse(raw_scope) {
        Ok(s) => s,
        Err(bad) => {
            return fail(
                "invalid_scope",
                70011,
                &format!("The provided value for the input parameter 'scope' is not valid. The scope '{bad}' does not exist."),
            )
        }
    };
    let Some(challenge) = q.get("code_challenge").cloned() else {
        return fail("invalid_request", 9002325, "Proof Key for Code Exchange is required: send code_challenge with code_challenge_method=S256.");
    };
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return fail(
            "invalid_request",
            501491,
            "Invalid code_challenge_method: the simulator requires S256.",
        );
    }
    if challenge.len() != 43 {
        return fail(
            "invalid_request",
            50147,
            "The size of the code_challenge parameter is not valid.",
        );
    }
    let flow = AuthorizeFlow {
        tenant_segment: seg.clone(),
        redirect_uri: redirect_uri.clone(),
        scopes,
        state: state.map(str::to_string),
        nonce: q.get("nonce").cloned(),
        response_mode: mode.clone(),
        code_challenge: challenge,
        created: sim.now(),
    };
    let login_hint = q.get("login_hint").cloned().unwrap_or_default();
    if q.get("prompt").map(String::as_str) == Some("none") {
        return silent_authorize(&sim, auth, flow, &login_hint);
    }
    let flow_id = random_token(24);
    let page = consent_page(&sim, &seg, &flow_id, &flow, &login_hint);
    sim.st().flows.insert(flow_id, flow);
    page
}

/// `prompt=none`: succeed only for a hinted user who already consented to everything asked.
fn silent_authorize(
    sim: &SimRef,
    auth: Authority,
    flow: AuthorizeFlow,
    login_hint: &str,
) -> Response {
    let fail = |error: &str, code: u32, text: &str| {
        error_to_client(
            &flow.redirect_uri,
            &flow.response_mode,
            flow.state.as_deref(),
            error,
            code,
            text,
        )
    };
    let Some(user) = directory::user(login_hint) else {
        return fail(
            "login_required",
            50058,
            "A silent sign-in request was sent but no user is signed in.",
        );
    };
    if let Authority::Tenant(t) = auth {
        if t.id != user.tenant_id {
            return fail(
                "login_required",
                50020,
                "User account does not exist in tenant.",
            );
        }
    }
    let tenant = directory::tenant(user.tenant_id).expect("seeded tenant");
    if !assigned(tenant, user) {
        return fail("access_denied", 50105, &not_assigned_text(sim, user));
    }
    let covered = {
        let st = sim.st();
        let empty = Default::default();
        let mine = st.user_consents.get(user.id).unwrap_or(&empty);
        let admin = st.admin_consents.get(user.tenant_id).unwrap_or(&empty);
        flow.scopes
            .graph()
            .iter()
            .all(|s| mine.contains(s) || admin.contains(s))
    };
    if !covered {
        return fail(
            "interaction_required",
            65001,
            &format!(
                "The user or administrator has not consented to use the application with ID '{}'.",
                sim.client_id
            ),
        );
    }
    issue_code(sim, user, flow.scopes.clone(), &flow)
}

fn consent_page(
    sim: &SimRef,
    seg: &str,
    flow_id: &str,
    flow: &AuthorizeFlow,
    login_hint: &str,
) -> Response {
    let perms: String = flow
        .scopes
        .graph()
        .iter()
        .map(|p| {
            format!(
                "<li><label><input type=\"checkbox\" name=\"scope\" value=\"{p}\" checked> {p}: {}</label></li>\n",
                escape(describe(p))
            )
        })
        .collect();
    let body = format!(
        "<h1>Sign in and consent</h1>\n<p><strong>{app}</strong> ({client}) is requesting these permissions:</p>\n\
<form method=\"post\" action=\"{base}/{seg}/oauth2/v2.0/authorize\">\n\
<input type=\"hidden\" name=\"flow\" value=\"{flow_id}\">\n\
<input type=\"hidden\" name=\"consent_subset\" value=\"1\">\n\
<p><label>Email address <input type=\"email\" name=\"login\" value=\"{hint}\"></label></p>\n\
<ul>\n{perms}</ul>\n\
<p>Also: sign you in (openid), your email address (email), your profile (profile), and access while you are away (offline_access), as requested.</p>\n\
<button type=\"submit\" name=\"action\" value=\"accept\">Accept</button>\n\
<button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button>\n</form>",
        app = escape(APP_NAME),
        client = escape(&sim.client_id),
        base = escape(&sim.base_url),
        seg = escape(seg),
        hint = escape(login_hint),
    );
    html(StatusCode::OK, "Sign in to your account", &body)
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

async fn authorize_submit(
    State(sim): State<SimRef>,
    Path(seg): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let flow_id = first(&pairs, "flow").unwrap_or("");
    let now = sim.now();
    let Some(flow) = sim
        .st()
        .flows
        .get(flow_id)
        .cloned()
        .filter(|f| (now - f.created).num_seconds() < FLOW_LIFETIME_SECS)
    else {
        return identity_error_page(50089, "Flow token expired. Start the sign-in again.");
    };
    if !flow.tenant_segment.eq_ignore_ascii_case(&seg) {
        return identity_error_page(
            50089,
            "The sign-in form was posted to a different authority than the one that started it.",
        );
    }
    match first(&pairs, "action") {
        Some("accept") => {}
        Some("return") => {
            sim.st().flows.remove(flow_id);
            return cancel_to_client(
                &flow.redirect_uri,
                &flow.response_mode,
                flow.state.as_deref(),
            );
        }
        _ => {
            sim.st().flows.remove(flow_id);
            let desc = format!(
                "AADSTS65004: User declined to consent to access the app. Trace ID: {} Correlation ID: {} Timestamp: {}",
                uuid::Uuid::new_v4(),
                uuid::Uuid::new_v4(),
                chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ")
            );
            let mut params = vec![
                ("error", "access_denied"),
                ("error_subcode", "cancel"),
                ("error_description", desc.as_str()),
            ];
            if let Some(s) = flow.state.as_deref() {
                params.push(("state", s));
            }
            return respond_to_client(&flow.redirect_uri, &flow.response_mode, &params);
        }
    }
    let login = first(&pairs, "login").unwrap_or("").trim().to_string();
    let Some(user) = directory::user(&login).filter(|u| u.upn.eq_ignore_ascii_case(&login)) else {
        return identity_error_page(
            50034,
            &format!("The user account {login} does not exist in the directory. Go back and sign in with a seeded account."),
        );
    };
    if let Some(Authority::Tenant(t)) = authority(&seg) {
        if t.id != user.tenant_id {
            return identity_error_page(
                50020,
                &format!(
                    "User account '{}' from identity provider does not exist in tenant '{}'.",
                    user.upn, t.domain
                ),
            );
        }
    }
    let requested = flow.scopes.graph();
    let granted: Vec<&'static str> = if first(&pairs, "consent_subset").is_some() {
        let ticked: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v.as_str())
            .collect();
        requested
            .iter()
            .copied()
            .filter(|p| ticked.contains(p))
            .collect()
    } else {
        requested.clone()
    };
    let tenant = directory::tenant(user.tenant_id).expect("seeded tenant");
    if !assigned(tenant, user) {
        sim.st().flows.remove(flow_id);
        return identity_error_page(50105, &not_assigned_text(&sim, user));
    }
    let policy = user_consent_of(&sim, tenant);
    {
        let mut st = sim.st();
        let admin = st
            .admin_consents
            .get(tenant.id)
            .cloned()
            .unwrap_or_default();
        let mine = st.user_consents.get(user.id).cloned().unwrap_or_default();
        // An administrator may consent to anything; a user only to what the tenant's setting
        // allows, unless an admin (or the user, earlier) already granted it.
        let blocked = !user.is_admin
            && requested
                .iter()
                .any(|p| !admin.contains(p) && !mine.contains(p) && !policy.user_may_consent(p));
        if blocked {
            drop(st);
            let action = format!("{}/{}/oauth2/v2.0/authorize", sim.base_url, seg);
            return approval_page(&action, flow_id, tenant.admin_consent_workflow);
        }
        let newly: Vec<&'static str> = granted
            .iter()
            .copied()
            .filter(|p| !admin.contains(p))
            .collect();
        st.user_consents
            .entry(user.id.to_string())
            .or_default()
            .extend(newly);
        // A user's consent installs the app in the tenant as much as an admin's does.
        st.service_principals.insert(tenant.id.to_string());
        st.flows.remove(flow_id);
    }
    issue_code(&sim, user, flow.scopes.restrict(&granted), &flow)
}

fn issue_code(sim: &SimRef, user: &User, scopes: ScopeSet, flow: &AuthorizeFlow) -> Response {
    let code = format!("1.{}", random_token(48));
    let mut st = sim.st();
    st.remember_secret("authorization_code", &code);
    st.codes.insert(
        code.clone(),
        AuthCode {
            client_id: sim.client_id.clone(),
            redirect_uri: flow.redirect_uri.clone(),
            user_id: user.id.to_string(),
            tenant_id: user.tenant_id.to_string(),
            scopes,
            nonce: flow.nonce.clone(),
            code_challenge: flow.code_challenge.clone(),
            issued: sim.now(),
            redeemed: false,
        },
    );
    drop(st);
    let session_state = uuid::Uuid::new_v4().to_string();
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &flow.state {
        params.push(("state", s.as_str()));
    }
    params.push(("session_state", session_state.as_str()));
    respond_to_client(&flow.redirect_uri, &flow.response_mode, &params)
}

/// Client credentials from `Authorization: Basic` or the form body.
fn client_credentials(
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> (Option<String>, Option<String>) {
    if let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        if let Some(b64) = v.strip_prefix("Basic ") {
            if let Ok(decoded) = STANDARD.decode(b64.trim()) {
                let text = String::from_utf8_lossy(&decoded).to_string();
                if let Some((id, secret)) = text.split_once(':') {
                    let dec = |s: &str| {
                        url::form_urlencoded::parse(format!("x={s}").as_bytes())
                            .next()
                            .map(|(_, v)| v.into_owned())
                            .unwrap_or_default()
                    };
                    return (Some(dec(id)), Some(dec(secret)));
                }
            }
        }
    }
    (
        first(pairs, "client_id").map(str::to_string),
        first(pairs, "client_secret").map(str::to_string),
    )
}

pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn token(
    State(sim): State<SimRef>,
    Path(seg): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(auth) = authority(&seg) else {
        return unknown_tenant(&seg);
    };
    let pairs = form_pairs(&body);
    let bad = |error: &str, code: u32, text: &str| {
        identity_error(StatusCode::BAD_REQUEST, error, code, text)
    };
    let (client_id, secret) = client_credentials(&headers, &pairs);
    let Some(client_id) = client_id else {
        return bad(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    if client_id != sim.client_id {
        return bad(
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{seg}'."
            ),
        );
    }
    let Some(secret) = secret else {
        return identity_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    };
    if secret != sim.client_secret {
        return identity_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
        );
    }
    let now = sim.now();
    match first(&pairs, "grant_type") {
        Some("authorization_code") => {
            let Some(code) = first(&pairs, "code") else {
                return bad(
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'code'.",
                );
            };
            let grant = {
                let mut st = sim.st();
                let Some(c) = st.codes.get_mut(code) else {
                    return bad(
                        "invalid_grant",
                        9002313,
                        "Invalid request. Request is malformed or invalid.",
                    );
                };
                if c.client_id != client_id {
                    return bad(
                        "invalid_grant",
                        70000,
                        "The authorization code was issued to a different client.",
                    );
                }
                if c.redeemed {
                    return bad("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.");
                }
                if (now - c.issued).num_seconds() > CODE_LIFETIME_SECS {
                    return bad("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.");
                }
                if let Authority::Tenant(t) = auth {
                    if t.id != c.tenant_id {
                        return bad("invalid_grant", 700005, "Provided Authorization Code is intended to use against other tenant, thus rejected.");
                    }
                }
                if first(&pairs, "redirect_uri") != Some(c.redirect_uri.as_str()) {
                    return bad("invalid_grant", 500112, "The reply address does not match the reply address provided when requesting Authorization code.");
                }
                let Some(verifier) = first(&pairs, "code_verifier") else {
                    return bad(
                        "invalid_request",
                        900144,
                        "The request body must contain the following parameter: 'code_verifier'.",
                    );
                };
                if pkce_challenge(verifier) != c.code_challenge {
                    return bad("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.");
                }
                c.redeemed = true;
                let grant = c.clone();
                st.remember_secret("code_verifier", verifier);
                grant
            };
            issue_tokens(
                &sim,
                &grant.user_id,
                &grant.tenant_id,
                grant.scopes,
                grant.nonce.as_deref(),
            )
        }
        Some("refresh_token") => {
            let Some(rt) = first(&pairs, "refresh_token") else {
                return bad(
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'refresh_token'.",
                );
            };
            let grant = {
                let mut st = sim.st();
                let Some(g) = st.refresh_tokens.get_mut(rt) else {
                    return bad(
                        "invalid_grant",
                        9002313,
                        "Invalid request. Request is malformed or invalid.",
                    );
                };
                if g.client_id != client_id {
                    return bad(
                        "invalid_grant",
                        70000,
                        "The refresh token was issued to a different client.",
                    );
                }
                if g.revoked {
                    return bad("invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.");
                }
                if (now - g.last_used).num_seconds() > REFRESH_INACTIVITY_SECS {
                    return bad("invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was inactive for 90.00:00:00.");
                }
                g.last_used = now;
                g.clone()
            };
            let scopes = match first(&pairs, "scope") {
                None => grant.scopes.clone(),
                Some(raw) => match ScopeSet::parse(raw) {
                    Err(bad_scope) => {
                        return bad("invalid_scope", 70011, &format!("The provided value for the input parameter 'scope' is not valid. The scope '{bad_scope}' does not exist."))
                    }
                    Ok(s) => {
                        let have = grant.scopes.graph();
                        if let Some(extra) = s.graph().iter().find(|p| !have.contains(p)) {
                            return bad(
                                "invalid_grant",
                                65001,
                                &format!("The user or administrator has not consented to use the application with ID '{}' for the permission '{extra}'.", sim.client_id),
                            );
                        }
                        s
                    }
                },
            };
            issue_tokens(&sim, &grant.user_id, &grant.tenant_id, scopes, None)
        }
        Some("client_credentials") => client_credentials_grant(&sim, auth, &pairs, &client_id),
        Some(other) => bad(
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{other}'."),
        ),
        None => bad(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        ),
    }
}

/// Microsoft Graph's application id: `{it}/.default` names the same resource as the URI.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The client credentials grant: an app-only token in one tenant, issued whenever the app's
/// service principal exists there. The app has no application permissions, so the token has no
/// `roles` (Microsoft issues such tokens: "authentication but not authorization").
fn client_credentials_grant(
    sim: &SimRef,
    auth: Authority,
    pairs: &[(String, String)],
    client_id: &str,
) -> Response {
    let bad = |error: &str, code: u32, text: &str| {
        identity_error(StatusCode::BAD_REQUEST, error, code, text)
    };
    let Authority::Tenant(tenant) = auth else {
        return bad(
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or implied by any provided credentials.",
        );
    };
    let Some(raw_scope) = first(pairs, "scope") else {
        return bad(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        );
    };
    for scope in raw_scope.split_whitespace() {
        let Some(resource) = scope.strip_suffix("/.default") else {
            return bad(
                "invalid_scope",
                1002012,
                &format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            );
        };
        let graph = resource.trim_end_matches('/');
        if !graph.eq_ignore_ascii_case("https://graph.microsoft.com")
            && !graph.eq_ignore_ascii_case(GRAPH_APP_ID)
        {
            return bad(
                "invalid_resource",
                500011,
                &format!("The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", tenant.display_name),
            );
        }
    }
    if !sim.st().service_principals.contains(tenant.id) {
        return bad(
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", tenant.display_name),
        );
    }
    let mut resp = axum::Json(json!({
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
        "ext_expires_in": ACCESS_TOKEN_LIFETIME_SECS,
        "access_token": app_token(sim, tenant),
    }))
    .into_response_ok();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store, no-cache"),
    );
    resp
}

/// An app-only access token for Microsoft Graph, shaped like Graph's (v1.0 claims): `idtyp`
/// `app`, `appid`, the service principal's `oid`, `tid`; no `roles`, no `scp`.
fn app_token(sim: &SimRef, tenant: &Tenant) -> String {
    let now = sim.now().timestamp();
    let digest = Sha256::digest(format!("{}:{}", sim.client_id, tenant.id).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    let service_principal = uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string();
    let sts = format!("https://sts.windows.net/{}/", tenant.id);
    let claims = json!({
        "aud": "https://graph.microsoft.com",
        "iss": sts,
        "idp": sts,
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TOKEN_LIFETIME_SECS,
        "app_displayname": APP_NAME,
        "appid": sim.client_id,
        "appidacr": "1",
        "idtyp": "app",
        "oid": service_principal,
        "sub": service_principal,
        "tid": tenant.id,
        "uti": random_token(16),
        "ver": "1.0",
    });
    sign(sim, &claims)
}

fn sign(sim: &SimRef, claims: &serde_json::Value) -> String {
    let key = sim
        .keys
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .current()
        .clone();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).expect("RS256 signing")
}

fn issue_tokens(
    sim: &SimRef,
    user_id: &str,
    tenant_id: &str,
    scopes: ScopeSet,
    nonce: Option<&str>,
) -> Response {
    let now = sim.now();
    let user = directory::user_by_id(user_id).expect("seeded user");
    let access = format!("EwB{}", random_token(96));
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scopes.response_string(),
        "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
        "ext_expires_in": ACCESS_TOKEN_LIFETIME_SECS,
        "access_token": access,
    });
    {
        let mut st = sim.st();
        st.remember_secret("access_token", &access);
        st.access_tokens.insert(
            access,
            AccessGrant {
                user_id: user_id.to_string(),
                tenant_id: tenant_id.to_string(),
                scopes: scopes.graph(),
                expires: now + chrono::Duration::seconds(ACCESS_TOKEN_LIFETIME_SECS),
            },
        );
        if scopes.has_oidc("offline_access") {
            let rt = format!("1.A{}", random_token(120));
            st.remember_secret("refresh_token", &rt);
            st.refresh_tokens.insert(
                rt.clone(),
                RefreshGrant {
                    client_id: sim.client_id.clone(),
                    user_id: user_id.to_string(),
                    tenant_id: tenant_id.to_string(),
                    scopes: scopes.clone(),
                    last_used: now,
                    revoked: false,
                },
            );
            body["refresh_token"] = json!(rt);
        }
    }
    if scopes.has_oidc("openid") {
        let token = id_token(sim, user, &scopes, nonce);
        sim.st().remember_secret("id_token", &token);
        body["id_token"] = json!(token);
    }
    let mut resp = axum::Json(body).into_response_ok();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store, no-cache"),
    );
    resp
}

fn id_token(sim: &SimRef, user: &User, scopes: &ScopeSet, nonce: Option<&str>) -> String {
    let now = sim.now().timestamp();
    let sub = URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("{}:{}", sim.client_id, user.id).as_bytes(),
    ));
    let mut claims = json!({
        "aud": sim.client_id,
        "iss": format!("{}/{}/v2.0", sim.base_url, user.tenant_id),
        "iat": now,
        "nbf": now,
        "exp": now + ID_TOKEN_LIFETIME_SECS,
        "sub": sub,
        "tid": user.tenant_id,
        "ver": "2.0",
        "uti": random_token(16),
    });
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    if scopes.has_oidc("email") {
        claims["email"] = json!(user.upn);
    }
    if scopes.has_oidc("profile") {
        claims["oid"] = json!(user.id);
        claims["name"] = json!(user.display_name);
        claims["preferred_username"] = json!(user.upn);
    }
    sign(sim, &claims)
}

async fn admin_consent(
    State(sim): State<SimRef>,
    Path(seg): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if seg.eq_ignore_ascii_case("common") {
        return identity_error_page(50194, "The admin consent endpoint does not support the 'common' authority; use 'organizations' or a tenant.");
    }
    if authority(&seg).is_none() {
        return identity_error_page(90002, &format!("Tenant '{seg}' not found."));
    }
    let client_id = q.get("client_id").map(String::as_str).unwrap_or("");
    if client_id != sim.client_id {
        return identity_error_page(
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{seg}'."
            ),
        );
    }
    let redirect_uri = q.get("redirect_uri").cloned().unwrap_or_default();
    if !sim.redirect_allowed(&redirect_uri) {
        return identity_error_page(
            50011,
            &format!("The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."),
        );
    }
    let state = q.get("state").cloned();
    let raw = q.get("scope").cloned().unwrap_or_default();
    let scopes = match ScopeSet::parse(&raw) {
        Ok(s) if !s.graph().is_empty() => s,
        _ => {
            let mut p = vec![
                ("admin_consent", "True"),
                ("error", "invalid_request"),
                (
                    "error_description",
                    "AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
                ),
            ];
            if let Some(s) = &state {
                p.push(("state", s));
            }
            return redirect(&with_params(&redirect_uri, &p, false));
        }
    };
    let flow_id = random_token(24);
    let perms: String = scopes
        .graph()
        .iter()
        .map(|p| format!("<li>{p}: {}</li>\n", escape(describe(p))))
        .collect();
    let page = html(
        StatusCode::OK,
        "Permissions requested - Accept for your organization",
        &format!(
            "<h1>Permissions requested</h1>\n<p><strong>{app}</strong> wants these permissions for everyone in your organization:</p>\n<ul>\n{perms}</ul>\n\
<form method=\"post\" action=\"{base}/{seg}/v2.0/adminconsent\">\n<input type=\"hidden\" name=\"flow\" value=\"{flow_id}\">\n\
<p><label>Administrator email <input type=\"email\" name=\"login\" value=\"{hint}\"></label></p>\n\
<button type=\"submit\" name=\"action\" value=\"accept\">Accept</button>\n<button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button>\n</form>",
            app = escape(APP_NAME),
            base = escape(&sim.base_url),
            seg = escape(&seg),
            hint = escape(q.get("login_hint").map(String::as_str).unwrap_or("")),
        ),
    );
    sim.st().flows.insert(
        flow_id,
        AuthorizeFlow {
            tenant_segment: seg,
            redirect_uri,
            scopes,
            state,
            nonce: None,
            response_mode: "query".into(),
            code_challenge: String::new(),
            created: sim.now(),
        },
    );
    page
}

async fn admin_consent_submit(
    State(sim): State<SimRef>,
    Path(seg): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let flow_id = first(&pairs, "flow").unwrap_or("");
    let now = sim.now();
    let Some(flow) = sim
        .st()
        .flows
        .get(flow_id)
        .cloned()
        .filter(|f| (now - f.created).num_seconds() < FLOW_LIFETIME_SECS)
    else {
        return identity_error_page(50089, "Flow token expired. Start the admin consent again.");
    };
    let callback = |extra: &[(&str, &str)]| {
        let mut p: Vec<(&str, &str)> = vec![("admin_consent", "True")];
        p.extend_from_slice(extra);
        if let Some(s) = &flow.state {
            p.push(("state", s.as_str()));
        }
        redirect(&with_params(&flow.redirect_uri, &p, false))
    };
    if first(&pairs, "action") == Some("return") {
        sim.st().flows.remove(flow_id);
        let mut p = vec![("error", "access_denied"), ("error_subcode", "cancel")];
        if let Some(s) = &flow.state {
            p.push(("state", s.as_str()));
        }
        return redirect(&with_params(&flow.redirect_uri, &p, false));
    }
    if first(&pairs, "action") != Some("accept") {
        sim.st().flows.remove(flow_id);
        return callback(&[
            ("error", "access_denied"),
            (
                "error_description",
                "AADSTS65004: User declined to consent to access the app.",
            ),
        ]);
    }
    let login = first(&pairs, "login").unwrap_or("").trim().to_string();
    let Some(user) = directory::user(&login).filter(|u| u.upn.eq_ignore_ascii_case(&login)) else {
        return identity_error_page(
            50034,
            &format!("The user account {login} does not exist in the directory."),
        );
    };
    if let Some(Authority::Tenant(t)) = authority(&seg) {
        if t.id != user.tenant_id {
            return identity_error_page(
                50020,
                &format!(
                    "User account '{}' does not exist in tenant '{}'.",
                    user.upn, t.domain
                ),
            );
        }
    }
    if !user.is_admin {
        // Entra's "Need admin approval" page; the way back is `access_denied` + `cancel`.
        let action = format!("{}/{}/v2.0/adminconsent", sim.base_url, seg);
        let tenant = directory::tenant(user.tenant_id).expect("seeded tenant");
        return approval_page(&action, flow_id, tenant.admin_consent_workflow);
    }
    let granted = flow.scopes.graph();
    {
        let mut st = sim.st();
        st.admin_consents
            .entry(user.tenant_id.to_string())
            .or_default()
            .extend(granted.iter().copied());
        st.service_principals.insert(user.tenant_id.to_string());
        st.flows.remove(flow_id);
    }
    let scope = flow.scopes.response_string();
    callback(&[("tenant", user.tenant_id), ("scope", scope.as_str())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_is_unpadded_base64url_of_sha256() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mJ0kNzj7gm3iwEw1Njmo0kmbTXGeMk"),
            "2s-9SZYgcmvmwbjnivciGPsFv5ghUZY4uhEMlU7u-D0"
        );
    }

    #[test]
    fn params_are_appended_to_an_existing_query() {
        assert_eq!(
            with_params("http://localhost/cb?x=1", &[("code", "a b")], false),
            "http://localhost/cb?x=1&code=a+b"
        );
    }
}
