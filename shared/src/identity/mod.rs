//! OAuth 2.0 and OpenID Connect against the Microsoft identity platform (or any OpenID provider):
//! discovery, the authorize and admin-consent URLs, the token endpoint, and id_token validation.
//!
//! Every endpoint of the configured authority comes from its OpenID discovery document, so the same
//! code talks to `login.microsoftonline.com`, to the simulator, or to a test fixture. Endpoints of
//! one named tenant (admin consent, a tenant's discovery document, its token endpoint) are built
//! from the authority's host as Microsoft documents them: `{host}/{tenant}/...`. Discovery and the
//! signing keys are cached in memory per container; an id_token signed with a key we have not seen
//! refetches the keys once (Entra rotates them), never more per token.
//!
//! - [`pkce`]: PKCE `S256` and the random `state` / `nonce` values.
//! - [`discovery`]: the discovery document, the JWKS, and their caches; a tenant's domain resolved
//!   to its id through that tenant's discovery document.
//! - [`token`]: code redemption, refresh and the app-only (client credentials) token, with error
//!   classification and bounded retries.
//! - [`id_token`]: RS256-only id_token validation with Microsoft's multi-tenant issuer rule.
//!
//! Tokens, the client secret, authorization codes and PKCE verifiers are never logged: they are
//! [`SecretString`]s, and no error message quotes a request or response body.

pub mod discovery;
pub mod id_token;
pub mod pkce;
pub mod token;

#[cfg(test)]
mod fixture;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

pub use discovery::{IdentityError, ProviderMetadata, TenantLookupError};
pub use id_token::{IdTokenClaims, IdTokenError, CLOCK_SKEW};
pub use pkce::{random_token, s256_challenge, Pkce};
pub use token::{TokenError, TokenResponse};

/// The resource prefix of Microsoft Graph scopes (`https://graph.microsoft.com/Mail.Read`).
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com/";

/// Scopes defined by OpenID Connect itself; they never take a resource prefix.
const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Microsoft's guidance is to check for new signing keys about once a day; discovery changes
/// even less often.
const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(24 * 3600);

/// The app registration's credentials, sent as `client_secret_post` form fields.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// The parameters of one authorization-code request (auth code flow with PKCE and OIDC).
#[derive(Debug, Clone, Copy)]
pub struct AuthorizeRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    /// Sent space-separated as given; Graph scopes may omit the `https://graph.microsoft.com/`
    /// prefix on /authorize.
    pub scopes: &'a [&'a str],
    pub state: &'a str,
    pub nonce: &'a str,
    /// The PKCE `S256` challenge ([`Pkce::challenge`]).
    pub code_challenge: &'a str,
    pub login_hint: Option<&'a str>,
    /// `login`, `none`, `consent` or `select_account`.
    pub prompt: Option<&'a str>,
    /// `query` or `form_post`.
    pub response_mode: &'a str,
}

/// How the token calls retry transient failures: a bounded exponential backoff with jitter.
///
/// A `Retry-After` up to `max_retry_after` is waited out; a longer one ends the retries at once
/// (the caller gets [`TokenError::Transient`] carrying it), because a Lambda invocation should not
/// sleep for minutes and retrying earlier than asked only adds load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before attempt `attempt + 1` after attempt `attempt` (1-based) failed
    /// transiently, or `None` when no further attempt should be made.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        if retry_after.is_some_and(|ra| ra > self.max_retry_after) {
            return None;
        }
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(self.max_backoff);
        // Equal jitter: at least half the backoff, so concurrent callers spread out without any
        // of them retrying at once.
        let half = exp / 2;
        let jitter = if half.is_zero() {
            Duration::ZERO
        } else {
            let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
            Duration::from_nanos(rand::random_range(0..=nanos))
        };
        let backoff = half + jitter;
        Some(retry_after.map_or(backoff, |ra| ra.max(backoff)))
    }
}

/// The client for one authority: discovery, URLs, token calls and id_token validation.
///
/// Cheap to clone: clones share the HTTP client and the discovery and key caches. Build it once
/// per container.
#[derive(Clone)]
pub struct IdentityClient {
    http: reqwest::Client,
    authority: Url,
    /// The authority without its `{tenant}/v2.0` tail, for URLs naming another tenant.
    base: Url,
    retry: RetryPolicy,
    cache_ttl: Duration,
    caches: Arc<discovery::Caches>,
}

impl fmt::Debug for IdentityClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityClient")
            .field("authority", &self.authority.as_str())
            .field("retry", &self.retry)
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

impl IdentityClient {
    /// A client for `authority`, e.g. `https://login.microsoftonline.com/organizations/v2.0`.
    /// Nothing is fetched until a call needs it.
    pub fn new(http: reqwest::Client, authority: Url) -> Self {
        let base = authority_base(&authority);
        Self {
            http,
            authority,
            base,
            retry: RetryPolicy::default(),
            cache_ttl: DEFAULT_CACHE_TTL,
            caches: Arc::new(discovery::Caches::default()),
        }
    }

    /// Replaces the retry policy of the token calls.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces how long discovery and keys stay cached (24 hours by default).
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    pub fn authority(&self) -> &Url {
        &self.authority
    }

    /// The URL that starts the authorization-code flow: `response_type=code` with a PKCE `S256`
    /// challenge and an OIDC nonce, at discovery's `authorization_endpoint`.
    pub async fn authorize_url(&self, req: &AuthorizeRequest<'_>) -> Result<Url, IdentityError> {
        if !matches!(req.response_mode, "query" | "form_post") {
            return Err(IdentityError::InvalidParameter {
                name: "response_mode",
                reason: "must be `query` or `form_post`".into(),
            });
        }
        if let Some(prompt) = req.prompt {
            if !matches!(prompt, "login" | "none" | "consent" | "select_account") {
                return Err(IdentityError::InvalidParameter {
                    name: "prompt",
                    reason: "must be one of login, none, consent, select_account".into(),
                });
            }
        }
        for (name, value) in [
            ("client_id", req.client_id),
            ("redirect_uri", req.redirect_uri),
            ("state", req.state),
            ("nonce", req.nonce),
            ("code_challenge", req.code_challenge),
        ] {
            if value.is_empty() {
                return Err(IdentityError::InvalidParameter {
                    name,
                    reason: "must not be empty".into(),
                });
            }
        }
        if req.scopes.is_empty() {
            return Err(IdentityError::InvalidParameter {
                name: "scopes",
                reason: "must not be empty".into(),
            });
        }
        let metadata = self.metadata().await?;
        let mut url = metadata.authorization_endpoint.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", req.client_id)
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", req.redirect_uri)
                .append_pair("response_mode", req.response_mode)
                .append_pair("scope", &req.scopes.join(" "))
                .append_pair("state", req.state)
                .append_pair("nonce", req.nonce)
                .append_pair("code_challenge", req.code_challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(hint) = req.login_hint {
                q.append_pair("login_hint", hint);
            }
            if let Some(prompt) = req.prompt {
                q.append_pair("prompt", prompt);
            }
        }
        Ok(url)
    }

    /// `{base}/{tenant}/{tail...}`: an endpoint of one tenant (a tenant id, a domain, or
    /// `organizations`), as Microsoft documents them all under the same host. Each part is
    /// percent-encoded, so a hostile tenant value cannot add path segments.
    pub(crate) fn tenant_url(&self, tenant: &str, tail: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(tenant).extend(tail);
        }
        url
    }

    /// The tenant-wide admin consent URL: `{base}/{tenant}/v2.0/adminconsent`.
    ///
    /// `tenant` is a tenant GUID, a verified domain or `organizations` (Microsoft's docs say never
    /// `common`); the caller validates it. Resource scopes get the Graph prefix the endpoint
    /// requires (`Mail.Read` -> `https://graph.microsoft.com/Mail.Read`); OIDC scopes and scopes
    /// already naming a resource are sent as given.
    pub fn admin_consent_url(
        &self,
        tenant: &str,
        client_id: &str,
        redirect_uri: &str,
        state: &str,
        scopes: &[&str],
    ) -> Url {
        let mut url = self.tenant_url(tenant, &["v2.0", "adminconsent"]);
        let scope = scopes
            .iter()
            .map(|s| graph_scope(s))
            .collect::<Vec<_>>()
            .join(" ");
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .append_pair("scope", &scope);
        url
    }
}

/// `Mail.Read` -> `https://graph.microsoft.com/Mail.Read`; OIDC scopes and full resource URIs
/// unchanged.
fn graph_scope(scope: &str) -> String {
    let lower = scope.to_ascii_lowercase();
    if OIDC_SCOPES.contains(&lower.as_str()) || scope.contains("://") {
        scope.to_owned()
    } else {
        format!("{GRAPH_RESOURCE}{scope}")
    }
}

/// The authority without its trailing `{tenant}/v2.0` (or `{tenant}` for a v1-shaped URL):
/// `https://login.microsoftonline.com/organizations/v2.0` -> `https://login.microsoftonline.com/`.
/// A path prefix before the tenant (a simulator mounted under a path) is kept.
fn authority_base(authority: &Url) -> Url {
    let mut segments: Vec<&str> = authority
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if segments
        .last()
        .is_some_and(|s| s.eq_ignore_ascii_case("v2.0"))
    {
        segments.pop();
    }
    segments.pop();
    let mut base = authority.clone();
    base.set_query(None);
    base.set_fragment(None);
    base.set_path(&segments.join("/"));
    base
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::fixture::Provider;
    use super::*;

    fn query(url: &Url) -> HashMap<String, String> {
        url.query_pairs().into_owned().collect()
    }

    fn request<'a>(scopes: &'a [&'a str]) -> AuthorizeRequest<'a> {
        AuthorizeRequest {
            client_id: "client-1",
            redirect_uri: "https://connector.example/oauth/callback",
            scopes,
            state: "state-123",
            nonce: "nonce-456",
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            login_hint: Some("alice@contoso.example"),
            prompt: Some("consent"),
            response_mode: "form_post",
        }
    }

    #[tokio::test]
    async fn authorize_url_uses_the_discovered_endpoint_and_carries_every_parameter() {
        let provider = Provider::start("organizations").await;
        let client = provider.client();
        let scopes = ["openid", "email", "offline_access", "Mail.Read"];

        let url = client.authorize_url(&request(&scopes)).await.unwrap();

        assert_eq!(
            url.as_str().split('?').next().unwrap(),
            format!("{}/organizations/oauth2/v2.0/authorize", provider.base)
        );
        let q = query(&url);
        assert_eq!(q["client_id"], "client-1");
        assert_eq!(q["response_type"], "code");
        assert_eq!(
            q["redirect_uri"],
            "https://connector.example/oauth/callback"
        );
        assert_eq!(q["response_mode"], "form_post");
        assert_eq!(q["scope"], "openid email offline_access Mail.Read");
        assert_eq!(q["state"], "state-123");
        assert_eq!(q["nonce"], "nonce-456");
        assert_eq!(
            q["code_challenge"],
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["login_hint"], "alice@contoso.example");
        assert_eq!(q["prompt"], "consent");
    }

    #[tokio::test]
    async fn authorize_url_omits_login_hint_and_prompt_when_absent() {
        let provider = Provider::start("organizations").await;
        let scopes = ["openid"];
        let req = AuthorizeRequest {
            login_hint: None,
            prompt: None,
            response_mode: "query",
            ..request(&scopes)
        };

        let url = provider.client().authorize_url(&req).await.unwrap();

        let q = query(&url);
        assert!(!q.contains_key("login_hint"));
        assert!(!q.contains_key("prompt"));
        assert_eq!(q["response_mode"], "query");
    }

    #[tokio::test]
    async fn authorize_url_rejects_bad_parameters_without_any_network_call() {
        let provider = Provider::start("organizations").await;
        let client = provider.client();
        let scopes = ["openid"];
        let none: [&str; 0] = [];
        let cases = [
            (
                "response_mode",
                AuthorizeRequest {
                    response_mode: "fragment",
                    ..request(&scopes)
                },
            ),
            (
                "prompt",
                AuthorizeRequest {
                    prompt: Some("admin"),
                    ..request(&scopes)
                },
            ),
            (
                "state",
                AuthorizeRequest {
                    state: "",
                    ..request(&scopes)
                },
            ),
            ("scopes", request(&none)),
        ];

        for (field, req) in cases {
            match client.authorize_url(&req).await {
                Err(IdentityError::InvalidParameter { name, .. }) => assert_eq!(name, field),
                other => panic!("{field}: expected InvalidParameter, got {other:?}"),
            }
        }
        assert_eq!(provider.discovery_hits(), 0);
    }

    #[test]
    fn admin_consent_url_targets_the_tenant_and_prefixes_graph_scopes() {
        let client = IdentityClient::new(
            reqwest::Client::new(),
            Url::parse("https://login.microsoftonline.com/organizations/v2.0").unwrap(),
        );

        let url = client.admin_consent_url(
            "contoso.onmicrosoft.com",
            "client-1",
            "https://connector.example/oauth/admin-consent/callback",
            "state-1",
            &[
                "openid",
                "Mail.Read",
                "Calendars.ReadWrite",
                "api://other/x",
            ],
        );

        assert_eq!(
            url.as_str().split('?').next().unwrap(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/adminconsent"
        );
        let q = query(&url);
        assert_eq!(q["client_id"], "client-1");
        assert_eq!(
            q["redirect_uri"],
            "https://connector.example/oauth/admin-consent/callback"
        );
        assert_eq!(q["state"], "state-1");
        assert_eq!(
            q["scope"],
            "openid https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/Calendars.ReadWrite api://other/x"
        );
    }

    #[test]
    fn admin_consent_url_keeps_a_path_prefix_and_encodes_the_tenant() {
        let client = IdentityClient::new(
            reqwest::Client::new(),
            Url::parse("http://127.0.0.1:7071/sim/organizations/v2.0/").unwrap(),
        );

        let url =
            client.admin_consent_url("a/../b", "c", "http://localhost/cb", "s", &["User.Read"]);

        assert_eq!(
            url.as_str().split('?').next().unwrap(),
            "http://127.0.0.1:7071/sim/a%2F..%2Fb/v2.0/adminconsent"
        );
    }

    #[test]
    fn retry_delay_grows_exponentially_within_its_bounds() {
        let policy = RetryPolicy::default();

        let first = policy.delay(1, None).unwrap();
        let second = policy.delay(2, None).unwrap();

        assert!((Duration::from_millis(100)..=Duration::from_millis(200)).contains(&first));
        assert!((Duration::from_millis(200)..=Duration::from_millis(400)).contains(&second));
        assert_eq!(policy.delay(3, None), None, "three attempts in all");
        let long = RetryPolicy {
            max_attempts: 10,
            ..policy
        };
        assert!(long.delay(9, None).unwrap() <= Duration::from_secs(2));
    }

    #[test]
    fn retry_delay_honours_retry_after_up_to_the_cap() {
        let policy = RetryPolicy::default();

        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3))),
            Some(Duration::from_secs(3))
        );
        assert_eq!(policy.delay(1, Some(Duration::from_secs(6))), None);
        let short = policy.delay(1, Some(Duration::ZERO)).unwrap();
        assert!(
            short >= Duration::from_millis(100),
            "never below the backoff"
        );
    }
}
