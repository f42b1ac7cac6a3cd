//! The token endpoint: redeeming an authorization code, refreshing, and the app's own
//! (client credentials) token in one tenant, with `client_secret_post`.
//!
//! Failures are classified by the OAuth `error` field and Microsoft's `error_codes`, never by the
//! description text (Microsoft rewrites it). Transient failures (5xx, 429, `temporarily_unavailable`,
//! timeouts, connection errors) are retried here with a bounded backoff, so callers see
//! [`TokenError::Transient`] only once the retries are spent.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::{ClientCredentials, IdentityClient, IdentityError, GRAPH_RESOURCE};
use crate::domain::TenantId;

/// Token responses are a few KiB; refuse anything huge.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// AADSTS90055 TenantThrottlingError: the tenant is being throttled; back off and retry.
const TENANT_THROTTLED: u32 = 90055;
/// AADSTS700016: the application was not found in the directory (no service principal there).
const APP_NOT_IN_TENANT: u32 = 700016;
/// AADSTS90002: the tenant does not exist.
const TENANT_NOT_FOUND: u32 = 90002;

/// The scope of an app-only token for Microsoft Graph: the resource plus `/.default`, the only
/// form the client credentials grant accepts.
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Used when a provider omits `expires_in` (RFC 6749 makes it optional): short, so that the
/// token is refreshed early rather than sent after it expired.
const DEFAULT_EXPIRES_IN: u64 = 300;

/// A successful token response.
pub struct TokenResponse {
    pub access_token: SecretString,
    /// Present when `offline_access` was granted. Microsoft rotates it on every refresh: store the
    /// new one and discard the old.
    pub refresh_token: Option<SecretString>,
    /// Present when `openid` was requested; validate it with
    /// [`IdentityClient::validate_id_token`] before trusting any claim.
    pub id_token: Option<String>,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
    /// The scopes granted, split on whitespace, with any `https://graph.microsoft.com/` prefix
    /// stripped (`Mail.Read`). When the provider omits `scope`, the scopes requested.
    pub scopes: Vec<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The id_token is a plain string (it is not a credential) but it carries personal data.
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("id_token", &self.id_token.as_ref().map(|_| "[REDACTED]"))
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Why a token request failed, classified for what the caller should do next.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The refresh token is expired, revoked or no longer usable (consent withdrawn, MFA or
    /// conditional access now requires interaction): the connection needs the user to sign in
    /// again. Only produced by [`IdentityClient::refresh`].
    #[error("the grant is no longer valid{}: {description}", codes_in_parens(.codes))]
    InvalidGrant {
        codes: Vec<u32>,
        description: String,
    },
    /// The app's credentials were rejected (wrong, expired or missing client secret): an
    /// operator must fix the configuration.
    #[error("the client credentials were rejected ({error}{}): {description}", codes_suffix(.codes))]
    InvalidClient {
        error: String,
        codes: Vec<u32>,
        description: String,
    },
    /// The identity platform is unavailable or throttling; the retries are spent. Try later.
    #[error("the identity platform is temporarily unavailable ({})", transient_reason(*.status, .error.as_deref(), .codes))]
    Transient {
        status: Option<u16>,
        error: Option<String>,
        codes: Vec<u32>,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The app is not installed in the tenant it asked an app-only token for: no service
    /// principal there (`unauthorized_client`, AADSTS700016), or no such tenant (AADSTS90002).
    /// Only produced by [`IdentityClient::app_token`].
    #[error("the app is not installed in the tenant ({error}{}): {description}", codes_suffix(.codes))]
    NotInTenant {
        error: String,
        codes: Vec<u32>,
        description: String,
    },
    /// Any other OAuth error: a malformed request, a code already redeemed (AADSTS54005), a PKCE
    /// mismatch (AADSTS501481), consent or interaction required while redeeming a code.
    #[error("the token request was rejected ({error}{}): {description}", codes_suffix(.codes))]
    Rejected {
        error: String,
        codes: Vec<u32>,
        description: String,
    },
    /// The endpoint answered something that is not an OAuth response. The body is not kept: it
    /// could contain a token.
    #[error("the token endpoint answered HTTP {status} with an unusable body: {reason}")]
    Protocol { status: u16, reason: String },
    /// Discovery failed, so the token endpoint is unknown.
    #[error("OpenID discovery failed")]
    Discovery(#[source] IdentityError),
}

impl TokenError {
    /// Whether the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transient { .. } => true,
            Self::Discovery(e) => e.is_transient(),
            _ => false,
        }
    }

    /// Whether the user must sign in again (the stored refresh token is dead).
    pub fn needs_reauth(&self) -> bool {
        matches!(self, Self::InvalidGrant { .. })
    }

    /// The AADSTS codes Microsoft returned, if any.
    pub fn codes(&self) -> &[u32] {
        match self {
            Self::InvalidGrant { codes, .. }
            | Self::InvalidClient { codes, .. }
            | Self::NotInTenant { codes, .. }
            | Self::Transient { codes, .. }
            | Self::Rejected { codes, .. } => codes,
            Self::Protocol { .. } | Self::Discovery(_) => &[],
        }
    }
}

fn codes_suffix(codes: &[u32]) -> String {
    if codes.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = codes.iter().map(|c| format!("AADSTS{c}")).collect();
        format!(", {}", list.join(", "))
    }
}

fn codes_in_parens(codes: &[u32]) -> String {
    match codes_suffix(codes).strip_prefix(", ") {
        Some(list) => format!(" ({list})"),
        None => String::new(),
    }
}

fn transient_reason(status: Option<u16>, error: Option<&str>, codes: &[u32]) -> String {
    let mut out = match status {
        Some(s) => format!("HTTP {s}"),
        None => "no response".to_owned(),
    };
    if let Some(e) = error {
        out.push_str(", ");
        out.push_str(e);
    }
    out.push_str(&codes_suffix(codes));
    out
}

/// Which grant a request carries: `invalid_grant` means different things for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// A dead code means "start the sign-in again", not "the connection is broken".
    AuthorizationCode,
    RefreshToken,
    /// The app's own token: `unauthorized_client` says the app is not in that tenant.
    ClientCredentials,
}

impl IdentityClient {
    /// Redeems an authorization code (with its PKCE verifier) for tokens.
    ///
    /// `scopes` may be empty (the token then covers what was consented on /authorize); `scopes`
    /// of the response falls back to it when the provider omits `scope`.
    pub async fn redeem_code(
        &self,
        creds: &ClientCredentials,
        code: &str,
        redirect_uri: &str,
        verifier: &SecretString,
        scopes: &[&str],
    ) -> Result<TokenResponse, TokenError> {
        let scope = scopes.join(" ");
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.expose_secret()),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.expose_secret()),
        ];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        self.token_request(&form, Grant::AuthorizationCode, scopes)
            .await
    }

    /// Exchanges a refresh token for a new access token (and, at Microsoft, a new refresh token
    /// that replaces the old one).
    pub async fn refresh(
        &self,
        creds: &ClientCredentials,
        refresh_token: &SecretString,
        scopes: &[&str],
    ) -> Result<TokenResponse, TokenError> {
        let scope = scopes.join(" ");
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.expose_secret()),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        self.token_request(&form, Grant::RefreshToken, scopes).await
    }

    /// Asks `tenant`'s token endpoint (`{host}/{tenant}/oauth2/v2.0/token`) for an app-only
    /// Microsoft Graph token with the client credentials grant and `/.default`.
    ///
    /// Microsoft issues one whenever the app's service principal exists in the tenant, even
    /// without any application permission (the token then has no `roles`), so a token issued
    /// proves the app is installed there, and [`TokenError::NotInTenant`] that it is not. The
    /// token grants nothing this connector uses; callers only look at whether one was issued.
    pub async fn app_token(
        &self,
        creds: &ClientCredentials,
        tenant: &TenantId,
    ) -> Result<TokenResponse, TokenError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.expose_secret()),
            ("scope", GRAPH_DEFAULT_SCOPE),
        ];
        let endpoint = self.tenant_url(tenant.as_str(), &["oauth2", "v2.0", "token"]);
        self.token_request_at(
            &endpoint,
            &form,
            Grant::ClientCredentials,
            &[GRAPH_DEFAULT_SCOPE],
        )
        .await
    }

    /// A token request at the authority's discovered token endpoint.
    async fn token_request(
        &self,
        form: &[(&str, &str)],
        grant: Grant,
        requested: &[&str],
    ) -> Result<TokenResponse, TokenError> {
        let metadata = self.metadata_arc().await.map_err(TokenError::Discovery)?;
        self.token_request_at(&metadata.token_endpoint, form, grant, requested)
            .await
    }

    #[tracing::instrument(skip_all, fields(grant = ?grant))]
    async fn token_request_at(
        &self,
        endpoint: &Url,
        form: &[(&str, &str)],
        grant: Grant,
        requested: &[&str],
    ) -> Result<TokenResponse, TokenError> {
        let mut attempt = 1;
        loop {
            let result = self.token_attempt(endpoint, form, grant, requested).await;
            let Err(error @ TokenError::Transient { .. }) = result else {
                return result;
            };
            let retry_after = match &error {
                TokenError::Transient { retry_after, .. } => *retry_after,
                _ => None,
            };
            // A retried code redemption may meet AADSTS54005 if the first attempt was processed
            // but its response lost; that surfaces as `Rejected`, which is the truth.
            let Some(delay) = self.retry.delay(attempt, retry_after) else {
                return Err(error);
            };
            tracing::warn!(attempt, delay_ms = delay.as_millis() as u64, error = %error, "token request failed transiently; retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn token_attempt(
        &self,
        endpoint: &Url,
        form: &[(&str, &str)],
        grant: Grant,
        requested: &[&str],
    ) -> Result<TokenResponse, TokenError> {
        let network = |source: reqwest::Error| TokenError::Transient {
            status: None,
            error: None,
            codes: Vec::new(),
            retry_after: None,
            source: Some(source.without_url()),
        };
        // `form` sets `Content-Type: application/x-www-form-urlencoded`.
        let response = self
            .http
            .post(endpoint.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(network)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        if response
            .content_length()
            .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
        {
            return Err(TokenError::Protocol {
                status,
                reason: "response too large".into(),
            });
        }
        let body = response.bytes().await.map_err(network)?;
        if body.len() > MAX_RESPONSE_BYTES {
            return Err(TokenError::Protocol {
                status,
                reason: "response too large".into(),
            });
        }
        if (200..300).contains(&status) {
            parse_success(status, &body, requested)
        } else {
            Err(classify(status, &body, grant, retry_after))
        }
    }
}

/// `Retry-After` as delay-seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u32>,
}

/// Maps an error response to what the caller should do. Decided by status, `error` and
/// `error_codes` only.
fn classify(status: u16, body: &[u8], grant: Grant, retry_after: Option<Duration>) -> TokenError {
    let parsed: Option<OAuthErrorBody> = serde_json::from_slice(body).ok();
    let transient = |parsed: Option<OAuthErrorBody>| {
        let (error, codes) = parsed.map_or((None, Vec::new()), |b| (Some(b.error), b.error_codes));
        TokenError::Transient {
            status: Some(status),
            error,
            codes,
            retry_after,
            source: None,
        }
    };
    if status >= 500 || status == 429 || status == 408 {
        return transient(parsed);
    }
    let Some(body) = parsed else {
        return TokenError::Protocol {
            status,
            reason: "not an OAuth error response".into(),
        };
    };
    if body.error == "temporarily_unavailable" || body.error_codes.contains(&TENANT_THROTTLED) {
        return transient(Some(body));
    }
    let description = body.error_description.unwrap_or_default();
    if grant == Grant::ClientCredentials
        && (body.error == "unauthorized_client"
            || body.error == "invalid_tenant"
            || body.error_codes.contains(&APP_NOT_IN_TENANT)
            || body.error_codes.contains(&TENANT_NOT_FOUND))
    {
        return TokenError::NotInTenant {
            error: body.error,
            codes: body.error_codes,
            description,
        };
    }
    match (body.error.as_str(), grant) {
        ("invalid_client", _) => TokenError::InvalidClient {
            error: body.error,
            codes: body.error_codes,
            description,
        },
        // On refresh these all mean the stored grant cannot be used without the user: expired or
        // revoked (70008, 700082, 50173), consent withdrawn (65001), MFA or conditional access
        // (50076, 70043).
        ("invalid_grant" | "interaction_required" | "consent_required", Grant::RefreshToken) => {
            TokenError::InvalidGrant {
                codes: body.error_codes,
                description,
            }
        }
        _ => TokenError::Rejected {
            error: body.error,
            codes: body.error_codes,
            description,
        },
    }
}

#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: SecretString,
    token_type: Option<String>,
    #[serde(default, deserialize_with = "number_or_string")]
    expires_in: Option<u64>,
    scope: Option<String>,
    refresh_token: Option<SecretString>,
    id_token: Option<String>,
}

/// Azure AD v1 sent `expires_in` as a string; v2 sends a number. Accept both.
fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        Num(u64),
        Str(String),
    }
    match Option::<NumOrStr>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrStr::Num(n)) => Ok(Some(n)),
        Some(NumOrStr::Str(s)) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn parse_success(
    status: u16,
    body: &[u8],
    requested: &[&str],
) -> Result<TokenResponse, TokenError> {
    // serde_json's message can quote the offending value, which may be a token: keep only where
    // it failed.
    let raw: RawTokenResponse = serde_json::from_slice(body).map_err(|e| TokenError::Protocol {
        status,
        reason: format!(
            "not a token response ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ),
    })?;
    if raw.access_token.expose_secret().is_empty() {
        return Err(TokenError::Protocol {
            status,
            reason: "empty access_token".into(),
        });
    }
    if let Some(kind) = &raw.token_type {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(TokenError::Protocol {
                status,
                reason: format!("unsupported token_type {kind:?}"),
            });
        }
    }
    let scopes = match raw.scope.as_deref() {
        Some(scope) => split_scopes(scope),
        None => requested.iter().map(|s| strip_graph_prefix(s)).collect(),
    };
    Ok(TokenResponse {
        access_token: raw.access_token,
        refresh_token: raw.refresh_token.filter(|t| !t.expose_secret().is_empty()),
        id_token: raw.id_token.filter(|t| !t.is_empty()),
        expires_in: raw.expires_in.unwrap_or(DEFAULT_EXPIRES_IN),
        scopes,
    })
}

/// Splits a `scope` value and strips the Graph resource prefix:
/// `"https://graph.microsoft.com/Mail.Read openid"` -> `["Mail.Read", "openid"]`.
pub fn split_scopes(scope: &str) -> Vec<String> {
    scope.split_whitespace().map(strip_graph_prefix).collect()
}

fn strip_graph_prefix(scope: &str) -> String {
    let prefix = GRAPH_RESOURCE.len();
    match scope.get(..prefix) {
        Some(head) if head.eq_ignore_ascii_case(GRAPH_RESOURCE) && scope.len() > prefix => {
            scope[prefix..].to_owned()
        }
        _ => scope.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixture::{Provider, Reply};
    use super::*;

    fn creds() -> ClientCredentials {
        ClientCredentials {
            client_id: "client-1".into(),
            client_secret: SecretString::from("s3cret~value&x=y"),
        }
    }

    fn error_reply(status: u16, error: &str, codes: &[u32]) -> Reply {
        let code = codes.first().copied().unwrap_or(0);
        Reply::json(
            status,
            json!({
                "error": error,
                "error_description": format!("AADSTS{code}: something happened. Trace ID: x"),
                "error_codes": codes,
                "timestamp": "2025-01-01 00:00:00Z",
                "trace_id": "t",
                "correlation_id": "c",
            }),
        )
    }

    async fn refresh(provider: &Provider) -> Result<TokenResponse, TokenError> {
        provider
            .client()
            .refresh(
                &creds(),
                &SecretString::from("old-refresh-token"),
                &["Mail.Read", "offline_access"],
            )
            .await
    }

    async fn redeem(provider: &Provider) -> Result<TokenResponse, TokenError> {
        provider
            .client()
            .redeem_code(
                &creds(),
                "the-code",
                "https://connector.example/oauth/callback",
                &SecretString::from("the-verifier"),
                &["openid", "offline_access", "Mail.Read"],
            )
            .await
    }

    #[tokio::test]
    async fn redeem_code_posts_a_client_secret_post_form_and_parses_the_tokens() {
        let provider = Provider::start("organizations").await;
        provider.reply(Reply::json(
            200,
            json!({
                "token_type": "Bearer",
                "scope": "https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/Mail.Send openid email offline_access",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": "at-1",
                "refresh_token": "rt-1",
                "id_token": "a.b.c",
            }),
        ));

        let tokens = redeem(&provider).await.unwrap();

        assert_eq!(tokens.access_token.expose_secret(), "at-1");
        assert_eq!(tokens.refresh_token.unwrap().expose_secret(), "rt-1");
        assert_eq!(tokens.id_token.as_deref(), Some("a.b.c"));
        assert_eq!(tokens.expires_in, 3599);
        assert_eq!(
            tokens.scopes,
            [
                "Mail.Read",
                "Mail.Send",
                "openid",
                "email",
                "offline_access"
            ]
        );
        let requests = provider.token_requests();
        assert_eq!(requests.len(), 1);
        let (content_type, form) = &requests[0];
        assert_eq!(content_type, "application/x-www-form-urlencoded");
        assert_eq!(form["grant_type"], "authorization_code");
        assert_eq!(form["client_id"], "client-1");
        assert_eq!(form["client_secret"], "s3cret~value&x=y");
        assert_eq!(form["code"], "the-code");
        assert_eq!(
            form["redirect_uri"],
            "https://connector.example/oauth/callback"
        );
        assert_eq!(form["code_verifier"], "the-verifier");
        assert_eq!(form["scope"], "openid offline_access Mail.Read");
    }

    #[tokio::test]
    async fn refresh_posts_the_refresh_token_grant() {
        let provider = Provider::start("organizations").await;

        let tokens = refresh(&provider).await.unwrap();

        assert_eq!(tokens.access_token.expose_secret(), "fixture-access-token");
        let (_, form) = &provider.token_requests()[0];
        assert_eq!(form["grant_type"], "refresh_token");
        assert_eq!(form["refresh_token"], "old-refresh-token");
        assert_eq!(form["client_id"], "client-1");
        assert_eq!(form["client_secret"], "s3cret~value&x=y");
        assert_eq!(form["scope"], "Mail.Read offline_access");
        assert!(!form.contains_key("code"));
    }

    fn tenant() -> TenantId {
        TenantId::parse("tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap()
    }

    #[tokio::test]
    async fn app_token_posts_the_client_credentials_grant_to_the_tenants_endpoint() {
        let provider = Provider::start("organizations").await;
        provider.reply(Reply::json(
            200,
            json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "app-token"}),
        ));

        let tokens = provider
            .client()
            .app_token(&creds(), &tenant())
            .await
            .unwrap();

        assert_eq!(tokens.access_token.expose_secret(), "app-token");
        assert!(tokens.refresh_token.is_none());
        assert_eq!(tokens.scopes, [".default"]);
        assert_eq!(
            provider.token_tenants(),
            ["72f988bf-86f1-41af-91ab-2d7cd011db47"]
        );
        assert_eq!(
            provider.discovery_hits(),
            0,
            "the tenant's endpoint is not discovered"
        );
        let (_, form) = &provider.token_requests()[0];
        assert_eq!(form["grant_type"], "client_credentials");
        assert_eq!(form["client_id"], "client-1");
        assert_eq!(form["client_secret"], "s3cret~value&x=y");
        assert_eq!(form["scope"], "https://graph.microsoft.com/.default");
    }

    #[tokio::test]
    async fn app_token_for_a_tenant_without_the_app_is_not_in_tenant() {
        for (status, error, code) in [
            (400, "unauthorized_client", 700016),
            (400, "invalid_request", 90002),
        ] {
            let provider = Provider::start("organizations").await;
            provider.reply(error_reply(status, error, &[code]));

            let err = provider
                .client()
                .app_token(&creds(), &tenant())
                .await
                .unwrap_err();

            assert!(
                matches!(&err, TokenError::NotInTenant { codes, .. } if codes == &[code]),
                "{error}: {err:?}"
            );
            assert!(!err.is_transient() && !err.needs_reauth());
            assert_eq!(provider.token_hits(), 1, "never retried");
        }
    }

    #[tokio::test]
    async fn app_token_keeps_bad_credentials_and_outages_apart_from_not_in_tenant() {
        let provider = Provider::start("organizations").await;
        provider.reply(error_reply(401, "invalid_client", &[7000215]));
        let bad_secret = provider
            .client()
            .app_token(&creds(), &tenant())
            .await
            .unwrap_err();
        for _ in 0..3 {
            provider.reply(Reply::text(503, "Service Unavailable"));
        }
        let outage = provider
            .client()
            .app_token(&creds(), &tenant())
            .await
            .unwrap_err();

        assert!(
            matches!(bad_secret, TokenError::InvalidClient { .. }),
            "{bad_secret:?}"
        );
        assert!(outage.is_transient(), "{outage:?}");
    }

    #[tokio::test]
    async fn unauthorized_client_outside_client_credentials_stays_a_rejection() {
        let provider = Provider::start("organizations").await;
        provider.reply(error_reply(400, "unauthorized_client", &[700016]));

        let err = redeem(&provider).await.unwrap_err();

        assert!(matches!(err, TokenError::Rejected { .. }), "{err:?}");
    }

    #[test]
    fn scopes_are_split_on_whitespace_and_lose_the_graph_prefix() {
        assert_eq!(
            split_scopes(" https://graph.microsoft.com/User.Read\tHTTPS://GRAPH.MICROSOFT.COM/Mail.Send  openid https://graph.microsoft.com/ api://x/y "),
            ["User.Read", "Mail.Send", "openid", "https://graph.microsoft.com/", "api://x/y"]
        );
        assert!(split_scopes("").is_empty());
    }

    #[test]
    fn a_response_without_scope_reports_the_requested_scopes() {
        let body = json!({"access_token": "a", "token_type": "bearer", "expires_in": "3600"});

        let tokens = parse_success(
            200,
            body.to_string().as_bytes(),
            &["https://graph.microsoft.com/Mail.Read", "openid"],
        )
        .unwrap();

        assert_eq!(tokens.scopes, ["Mail.Read", "openid"]);
        assert_eq!(tokens.expires_in, 3600, "a string expires_in is accepted");
        assert!(tokens.refresh_token.is_none());
    }

    #[test]
    fn an_unusable_success_body_is_a_protocol_error_that_quotes_nothing() {
        let cases = [
            json!({"access_token": 12345678, "token_type": "Bearer"}).to_string(),
            json!({"token_type": "Bearer", "refresh_token": "leaky-refresh"}).to_string(),
            json!({"access_token": "leaky-access", "token_type": "mac"}).to_string(),
            json!({"access_token": "", "token_type": "Bearer"}).to_string(),
            "<html>leaky-html</html>".to_owned(),
        ];

        for body in cases {
            let err = parse_success(200, body.as_bytes(), &[]).unwrap_err();
            assert!(
                matches!(err, TokenError::Protocol { status: 200, .. }),
                "{body}: {err:?}"
            );
            let shown = format!("{err} {err:?}");
            assert!(
                !shown.contains("leaky") && !shown.contains("12345678"),
                "{shown}"
            );
            assert!(!err.is_transient() && !err.needs_reauth());
        }
    }

    #[tokio::test]
    async fn refresh_with_an_expired_or_revoked_grant_needs_reauth() {
        for code in [70008, 700082, 50173] {
            let provider = Provider::start("organizations").await;
            provider.reply(error_reply(400, "invalid_grant", &[code]));

            let err = refresh(&provider).await.unwrap_err();

            match &err {
                TokenError::InvalidGrant { codes, description } => {
                    assert_eq!(codes, &[code]);
                    assert!(description.starts_with(&format!("AADSTS{code}")));
                }
                other => panic!("{code}: expected InvalidGrant, got {other:?}"),
            }
            assert!(err.needs_reauth());
            assert!(!err.is_transient());
            assert!(err.to_string().starts_with(&format!(
                "the grant is no longer valid (AADSTS{code}): AADSTS{code}"
            )));
            assert_eq!(provider.token_hits(), 1, "never retried");
        }
    }

    #[tokio::test]
    async fn refresh_needing_interaction_or_consent_needs_reauth() {
        for (error, code) in [("interaction_required", 50076), ("consent_required", 65001)] {
            let provider = Provider::start("organizations").await;
            provider.reply(error_reply(400, error, &[code]));

            let err = refresh(&provider).await.unwrap_err();

            assert!(err.needs_reauth(), "{error}: {err:?}");
            assert_eq!(err.codes(), &[code]);
        }
    }

    #[tokio::test]
    async fn redeeming_a_reused_code_or_a_wrong_verifier_is_rejected_not_reauth() {
        for code in [54005, 501481] {
            let provider = Provider::start("organizations").await;
            provider.reply(error_reply(400, "invalid_grant", &[code]));

            let err = redeem(&provider).await.unwrap_err();

            match &err {
                TokenError::Rejected { error, codes, .. } => {
                    assert_eq!(error, "invalid_grant");
                    assert_eq!(codes, &[code]);
                }
                other => panic!("{code}: expected Rejected, got {other:?}"),
            }
            assert!(!err.needs_reauth() && !err.is_transient());
            assert_eq!(provider.token_hits(), 1);
        }
    }

    #[tokio::test]
    async fn invalid_client_is_reported_as_such() {
        let provider = Provider::start("organizations").await;
        provider.reply(error_reply(401, "invalid_client", &[7000215]));

        let err = refresh(&provider).await.unwrap_err();

        assert!(
            matches!(&err, TokenError::InvalidClient { codes, .. } if codes == &[7000215]),
            "{err:?}"
        );
        assert!(!err.needs_reauth() && !err.is_transient());
        assert!(!err.to_string().contains("s3cret"));
    }

    #[tokio::test]
    async fn invalid_request_is_rejected_without_retrying() {
        let provider = Provider::start("organizations").await;
        provider.reply(error_reply(400, "invalid_request", &[900144]));

        let err = refresh(&provider).await.unwrap_err();

        assert!(
            matches!(&err, TokenError::Rejected { error, codes, .. } if error == "invalid_request" && codes == &[900144]),
            "{err:?}"
        );
        assert!(!err.needs_reauth() && !err.is_transient());
        assert_eq!(provider.token_hits(), 1);
    }

    #[tokio::test]
    async fn temporarily_unavailable_is_retried_then_reported_transient() {
        let provider = Provider::start("organizations").await;
        for _ in 0..3 {
            provider.reply(error_reply(400, "temporarily_unavailable", &[]));
        }

        let err = refresh(&provider).await.unwrap_err();

        assert!(err.is_transient() && !err.needs_reauth(), "{err:?}");
        assert_eq!(provider.token_hits(), 3, "three attempts in all");
    }

    #[tokio::test]
    async fn http_503_is_retried_then_reported_transient() {
        let provider = Provider::start("organizations").await;
        for _ in 0..3 {
            provider.reply(Reply::text(503, "Service Unavailable").retry_after("0"));
        }

        let err = redeem(&provider).await.unwrap_err();

        assert!(
            matches!(&err, TokenError::Transient { status: Some(503), retry_after: Some(d), .. } if d.is_zero()),
            "{err:?}"
        );
        assert_eq!(provider.token_hits(), 3);
    }

    #[tokio::test]
    async fn a_transient_failure_followed_by_success_returns_the_tokens() {
        let provider = Provider::start("organizations").await;
        provider.reply(error_reply(503, "temporarily_unavailable", &[]));
        provider.reply(error_reply(429, "", &[TENANT_THROTTLED]));

        let tokens = refresh(&provider).await.unwrap();

        assert_eq!(tokens.access_token.expose_secret(), "fixture-access-token");
        assert_eq!(provider.token_hits(), 3);
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_cap_ends_the_retries_at_once() {
        let provider = Provider::start("organizations").await;
        provider.reply(Reply::text(429, "slow down").retry_after("120"));

        let err = refresh(&provider).await.unwrap_err();

        assert!(
            matches!(&err, TokenError::Transient { retry_after: Some(d), .. } if *d == Duration::from_secs(120)),
            "{err:?}"
        );
        assert_eq!(provider.token_hits(), 1);
    }

    #[tokio::test]
    async fn a_4xx_without_an_oauth_body_is_a_protocol_error() {
        let provider = Provider::start("organizations").await;
        provider.reply(Reply::text(404, "not here"));

        let err = refresh(&provider).await.unwrap_err();

        assert!(
            matches!(err, TokenError::Protocol { status: 404, .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_discovery_makes_token_calls_transient() {
        let provider = Provider::start("organizations").await;
        provider.fail_discovery(502);

        let err = refresh(&provider).await.unwrap_err();

        assert!(matches!(err, TokenError::Discovery(_)), "{err:?}");
        assert!(err.is_transient());
        assert_eq!(provider.token_hits(), 0);
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn token_response_debug_output_redacts_every_token() {
        let tokens = TokenResponse {
            access_token: SecretString::from("at-secret"),
            refresh_token: Some(SecretString::from("rt-secret")),
            id_token: Some("id-secret".into()),
            expires_in: 1,
            scopes: vec!["Mail.Read".into()],
        };

        let shown = format!("{tokens:?}");

        assert!(
            !shown.contains("at-secret")
                && !shown.contains("rt-secret")
                && !shown.contains("id-secret")
        );
        assert!(shown.contains("Mail.Read"));
    }
}
