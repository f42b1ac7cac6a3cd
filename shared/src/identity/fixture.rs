//! Test fixture: an in-process OpenID provider (discovery, JWKS, token endpoint) on 127.0.0.1,
//! counting its requests so tests can prove caching, and RSA keys generated once per test binary.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use url::Url;

use super::{IdentityClient, RetryPolicy};

pub const CLIENT_ID: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
pub const TENANT: &str = "aaaabbbb-0000-cccc-1111-dddd2222eeee";

/// An RSA signing key with its public forms.
pub struct TestKey {
    pub kid: String,
    pub encoding: jsonwebtoken::EncodingKey,
    /// Base64url modulus and exponent, as in a JWK.
    pub n: String,
    pub e: String,
    pub public_pem: String,
    pub public_der: Vec<u8>,
}

impl TestKey {
    fn generate(kid: &str) -> Self {
        let key = RsaPrivateKey::new(&mut RandAdapter, 2048).expect("RSA key generation");
        let der = key.to_pkcs1_der().expect("PKCS#1 encoding");
        let public = key.to_public_key();
        Self {
            kid: kid.to_owned(),
            encoding: jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
            n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
            public_pem: public.to_public_key_pem(LineEnding::LF).expect("PEM"),
            public_der: public.to_public_key_der().expect("DER").into_vec(),
        }
    }

    /// The JWK the way Microsoft publishes it.
    pub fn jwk(&self, issuer: Option<&str>) -> Value {
        let mut jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": self.n,
            "e": self.e,
        });
        if let Some(issuer) = issuer {
            jwk["issuer"] = json!(issuer);
        }
        jwk
    }
}

/// The key the fixture publishes from the start.
pub fn key_a() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate("key-a"))
}

/// A second key: not published unless a test rotates to it.
pub fn key_b() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate("key-b"))
}

/// rsa 0.9 takes a rand_core 0.6 RNG; this bridges the workspace's rand 0.9 thread RNG.
struct RandAdapter;

impl rsa::rand_core::RngCore for RandAdapter {
    fn next_u32(&mut self) -> u32 {
        rand::random()
    }
    fn next_u64(&mut self) -> u64 {
        rand::random()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::Rng::fill(&mut rand::rng(), dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for RandAdapter {}

/// A canned token-endpoint response.
#[derive(Clone)]
pub struct Reply {
    status: u16,
    body: String,
    content_type: &'static str,
    retry_after: Option<String>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: body.to_string(),
            content_type: "application/json; charset=utf-8",
            retry_after: None,
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            body: body.to_owned(),
            content_type: "text/plain",
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, value: &str) -> Self {
        self.retry_after = Some(value.to_owned());
        self
    }

    fn into_response(self) -> Response {
        let mut response = (
            StatusCode::from_u16(self.status).expect("status"),
            [(header::CONTENT_TYPE, self.content_type)],
            self.body,
        )
            .into_response();
        if let Some(ra) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, ra.parse().expect("header value"));
        }
        response
    }
}

#[derive(Default)]
struct FixtureState {
    base: String,
    discovery_hits: AtomicUsize,
    jwks_hits: AtomicUsize,
    token_hits: AtomicUsize,
    discovery_failure: Mutex<Option<u16>>,
    jwks_failure: Mutex<Option<u16>>,
    jwks: Mutex<Value>,
    replies: Mutex<VecDeque<Reply>>,
    token_requests: Mutex<Vec<(String, HashMap<String, String>)>>,
    /// The `{tenant}` path segment of each token request.
    token_tenants: Mutex<Vec<String>>,
    /// Verified domains (a `{tenant}` with a dot) and their tenant ids; any other domain is
    /// unknown (400 `invalid_tenant`, AADSTS90002, as Microsoft answers).
    domains: Mutex<HashMap<String, String>>,
}

/// A running fixture provider.
pub struct Provider {
    /// `http://127.0.0.1:{port}`
    pub base: String,
    pub authority: Url,
    http: reqwest::Client,
    state: Arc<FixtureState>,
}

impl Provider {
    /// Serves an authority at `{base}/{tenant}/v2.0`. `organizations` and `common` publish
    /// Microsoft's `{tenantid}` issuer template; any other tenant a literal issuer.
    pub async fn start(tenant: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(FixtureState {
            base: base.clone(),
            jwks: Mutex::new(
                json!({ "keys": [key_a().jwk(Some(&format!("{base}/{{tenantid}}/v2.0")))] }),
            ),
            ..FixtureState::default()
        });
        let app = Router::new()
            .route(
                "/{tenant}/v2.0/.well-known/openid-configuration",
                get(discovery),
            )
            .route("/{tenant}/discovery/v2.0/keys", get(jwks))
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .with_state(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fixture server");
        });
        Self {
            authority: Url::parse(&format!("{base}/{tenant}/v2.0")).expect("authority"),
            base,
            http: reqwest::Client::new(),
            state,
        }
    }

    /// A fresh client (empty caches) with near-instant retries.
    pub fn client(&self) -> IdentityClient {
        IdentityClient::new(self.http.clone(), self.authority.clone()).with_retry_policy(
            RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(5),
                max_retry_after: Duration::from_secs(5),
            },
        )
    }

    pub fn issuer_for(&self, tid: &str) -> String {
        format!("{}/{tid}/v2.0", self.base)
    }

    /// Replaces the published key set; every key gets `issuer` when given.
    pub fn publish(&self, keys: &[&TestKey], issuer: Option<&str>) {
        let keys: Vec<Value> = keys.iter().map(|k| k.jwk(issuer)).collect();
        *self.state.jwks.lock().unwrap() = json!({ "keys": keys });
    }

    /// Queues a token-endpoint response; when the queue is empty a success is served.
    pub fn reply(&self, reply: Reply) {
        self.state.replies.lock().unwrap().push_back(reply);
    }

    /// Lets `domain` resolve to tenant `tid` through its discovery document.
    pub fn verify_domain(&self, domain: &str, tid: &str) {
        self.state
            .domains
            .lock()
            .unwrap()
            .insert(domain.to_owned(), tid.to_owned());
    }

    /// The `{tenant}` path segment of each token request.
    pub fn token_tenants(&self) -> Vec<String> {
        self.state.token_tenants.lock().unwrap().clone()
    }

    pub fn fail_discovery(&self, status: u16) {
        *self.state.discovery_failure.lock().unwrap() = Some(status);
    }

    pub fn fail_jwks(&self, status: u16) {
        *self.state.jwks_failure.lock().unwrap() = Some(status);
    }

    pub fn discovery_hits(&self) -> usize {
        self.state.discovery_hits.load(Ordering::SeqCst)
    }

    pub fn jwks_hits(&self) -> usize {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }

    pub fn token_hits(&self) -> usize {
        self.state.token_hits.load(Ordering::SeqCst)
    }

    /// Each token request's `Content-Type` and form fields.
    pub fn token_requests(&self) -> Vec<(String, HashMap<String, String>)> {
        self.state.token_requests.lock().unwrap().clone()
    }
}

async fn discovery(State(st): State<Arc<FixtureState>>, Path(tenant): Path<String>) -> Response {
    st.discovery_hits.fetch_add(1, Ordering::SeqCst);
    if let Some(status) = *st.discovery_failure.lock().unwrap() {
        return StatusCode::from_u16(status)
            .expect("status")
            .into_response();
    }
    let base = &st.base;
    let known = st.domains.lock().unwrap().get(&tenant).cloned();
    let issuer = match (tenant.as_str(), known) {
        ("organizations" | "common", _) => format!("{base}/{{tenantid}}/v2.0"),
        (_, Some(tid)) => format!("{base}/{tid}/v2.0"),
        (t, None) if t.contains('.') => {
            return Reply::json(
                400,
                json!({
                    "error": "invalid_tenant",
                    "error_description": format!("AADSTS90002: Tenant '{t}' not found."),
                    "error_codes": [90002],
                }),
            )
            .into_response()
        }
        (t, None) => format!("{base}/{t}/v2.0"),
    };
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "end_session_endpoint": format!("{base}/{tenant}/oauth2/v2.0/logout"),
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    }))
    .into_response()
}

async fn jwks(State(st): State<Arc<FixtureState>>) -> Response {
    st.jwks_hits.fetch_add(1, Ordering::SeqCst);
    if let Some(status) = *st.jwks_failure.lock().unwrap() {
        return StatusCode::from_u16(status)
            .expect("status")
            .into_response();
    }
    let doc = st.jwks.lock().unwrap().clone();
    axum::Json(doc).into_response()
}

async fn token(
    State(st): State<Arc<FixtureState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    st.token_hits.fetch_add(1, Ordering::SeqCst);
    st.token_tenants.lock().unwrap().push(tenant);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    st.token_requests.lock().unwrap().push((content_type, form));
    let reply = st.replies.lock().unwrap().pop_front();
    reply
        .unwrap_or_else(|| {
            Reply::json(
                200,
                json!({
                    "token_type": "Bearer",
                    "scope": "https://graph.microsoft.com/Mail.Read openid",
                    "expires_in": 3599,
                    "access_token": "fixture-access-token",
                    "refresh_token": "fixture-refresh-token",
                }),
            )
        })
        .into_response()
}
