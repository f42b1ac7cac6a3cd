//! OpenID discovery and the provider's signing keys (JWKS), cached in memory.
//!
//! Both documents are fetched on first use, kept for the client's TTL and shared by every clone of
//! the client. Fetches are single-flight (concurrent callers wait for one request). When a refresh
//! after the TTL fails, the previous copy keeps serving, so a short outage of the identity
//! platform does not stop sign-ins that the cached keys can still verify.
//!
//! A tenant's own discovery document (`{host}/{domain}/v2.0/.well-known/openid-configuration`)
//! names its tenant id in `issuer`: [`IdentityClient::resolve_tenant`] turns a domain into the
//! tenant id that way, through the same fetch as the authority's document. Those are not cached:
//! they are read once per admin consent.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use super::IdentityClient;
use crate::domain::{TenantDomain, TenantId};

/// Discovery and JWKS documents are small (Microsoft's are a few KiB); refuse anything huge.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// An OAuth error body is a few hundred bytes.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// RSA keys shorter than this are not used to verify anything.
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// Why discovery, the key set, or building a URL failed.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("request to {url} failed")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// A non-success answer; `error` and `codes` are its OAuth error body's `error` and
    /// `error_codes`, when it had one (Microsoft answers an unknown tenant with 400
    /// `invalid_tenant`, AADSTS90002).
    #[error("{url} answered HTTP {status}{}", oauth_error_suffix(.error.as_deref(), .codes))]
    Status {
        url: String,
        status: u16,
        error: Option<String>,
        codes: Vec<u32>,
    },
    #[error("{url} returned an unusable document: {reason}")]
    Document { url: String, reason: String },
    #[error("invalid {name}: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
}

impl IdentityError {
    /// Whether trying again later may succeed (network trouble, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Http { .. } => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Self::Document { .. } | Self::InvalidParameter { .. } => false,
        }
    }
}

fn oauth_error_suffix(error: Option<&str>, codes: &[u32]) -> String {
    let mut out = String::new();
    if let Some(e) = error {
        out.push_str(&format!(" ({e}"));
        for c in codes {
            out.push_str(&format!(", AADSTS{c}"));
        }
        out.push(')');
    }
    out
}

/// AADSTS90002 InvalidTenantName: no tenant has this id or domain.
const TENANT_NOT_FOUND: u32 = 90002;
/// AADSTS900023: the tenant segment is neither a valid DNS name nor a valid external domain.
const TENANT_NOT_A_DOMAIN: u32 = 900023;

/// Why a domain could not be resolved to its tenant id.
#[derive(Debug, thiserror::Error)]
pub enum TenantLookupError {
    /// Microsoft knows no tenant with this domain (400 `invalid_tenant`, AADSTS90002).
    #[error("no Microsoft Entra tenant has the domain {0}")]
    UnknownDomain(String),
    /// The tenant's discovery document could not be fetched, or is unusable; see
    /// [`IdentityError::is_transient`].
    #[error("the discovery document of {domain} could not be read")]
    Discovery {
        domain: String,
        #[source]
        source: IdentityError,
    },
    /// The document's `issuer` is not `{host}/{tenant id}/v2.0`.
    #[error("the discovery document of {domain} names no tenant id in its issuer")]
    Issuer { domain: String },
}

impl TenantLookupError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Discovery { source, .. } if source.is_transient())
    }
}

/// The tenant id in a v2.0 issuer, `https://login.microsoftonline.com/{tenant id}/v2.0`: the
/// last path segment must be `v2.0` and the one before it a GUID (never the `{tenantid}`
/// template of the multi-tenant documents).
fn tenant_of_issuer(issuer: &str) -> Option<TenantId> {
    let url = Url::parse(issuer).ok()?;
    let mut segments = url.path_segments()?.filter(|s| !s.is_empty()).rev();
    if !segments.next()?.eq_ignore_ascii_case("v2.0") {
        return None;
    }
    TenantId::parse("issuer", segments.next()?).ok()
}

/// The parts of the OpenID discovery document the connector uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMetadata {
    /// May contain the literal `{tenantid}` template (Microsoft's `common`/`organizations`).
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
    pub end_session_endpoint: Option<Url>,
    pub userinfo_endpoint: Option<Url>,
    pub id_token_signing_alg_values_supported: Vec<String>,
}

#[derive(Deserialize)]
struct RawMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    end_session_endpoint: Option<String>,
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
}

impl ProviderMetadata {
    /// Parses a discovery document fetched from `authority`.
    ///
    /// Endpoints must be absolute http(s) URLs, and https when the authority is https: a
    /// tampered or misconfigured document must not downgrade the token call to plain HTTP.
    pub fn parse(authority: &Url, body: &[u8]) -> Result<Self, String> {
        let raw: RawMetadata =
            serde_json::from_slice(body).map_err(|e| format!("not a discovery document ({e})"))?;
        if raw.issuer.trim().is_empty() {
            return Err("`issuer` is empty".into());
        }
        let endpoint = |name: &str, value: &str| -> Result<Url, String> {
            let url = Url::parse(value).map_err(|e| format!("`{name}` is not a URL ({e})"))?;
            let scheme_ok = match authority.scheme() {
                "https" => url.scheme() == "https",
                _ => matches!(url.scheme(), "http" | "https"),
            };
            if !scheme_ok {
                return Err(format!(
                    "`{name}` must use https like the authority, not {}",
                    url.scheme()
                ));
            }
            Ok(url)
        };
        Ok(Self {
            authorization_endpoint: endpoint(
                "authorization_endpoint",
                &raw.authorization_endpoint,
            )?,
            token_endpoint: endpoint("token_endpoint", &raw.token_endpoint)?,
            jwks_uri: endpoint("jwks_uri", &raw.jwks_uri)?,
            end_session_endpoint: raw
                .end_session_endpoint
                .as_deref()
                .map(|v| endpoint("end_session_endpoint", v))
                .transpose()?,
            userinfo_endpoint: raw
                .userinfo_endpoint
                .as_deref()
                .map(|v| endpoint("userinfo_endpoint", v))
                .transpose()?,
            issuer: raw.issuer,
            id_token_signing_alg_values_supported: raw.id_token_signing_alg_values_supported,
        })
    }
}

/// One usable signing key from the JWKS.
pub(crate) struct SigningKey {
    pub(crate) key: DecodingKey,
    /// Microsoft's per-key `issuer`, possibly templated with `{tenantid}`.
    pub(crate) issuer: Option<String>,
}

/// The usable keys of a JWKS, by `kid`.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, Arc<SigningKey>>,
}

impl KeySet {
    pub(crate) fn get(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.keys.get(kid).cloned()
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Keeps only RSA signature keys that could verify an RS256 token: `kty` RSA, `use` absent or
    /// `sig`, `alg` absent or RS256, a `kid`, and a modulus of at least 2048 bits. Anything else
    /// in the set (encryption keys, EC keys) is skipped rather than failing the whole set.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Jwks {
            keys: Vec<Jwk>,
        }
        #[derive(Deserialize)]
        struct Jwk {
            kty: Option<String>,
            #[serde(rename = "use")]
            use_: Option<String>,
            alg: Option<String>,
            kid: Option<String>,
            n: Option<String>,
            e: Option<String>,
            issuer: Option<String>,
        }
        let jwks: Jwks =
            serde_json::from_slice(body).map_err(|e| format!("not a JWKS document ({e})"))?;
        let mut keys = HashMap::new();
        for jwk in jwks.keys {
            if jwk.kty.as_deref() != Some("RSA")
                || jwk.use_.as_deref().is_some_and(|u| u != "sig")
                || jwk.alg.as_deref().is_some_and(|a| a != "RS256")
            {
                continue;
            }
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            let (Ok(n), Ok(e)) = (decode_b64url(&n), decode_b64url(&e)) else {
                continue;
            };
            if n.len() < MIN_RSA_MODULUS_BYTES || e.is_empty() {
                continue;
            }
            keys.insert(
                kid,
                Arc::new(SigningKey {
                    key: DecodingKey::from_rsa_raw_components(&n, &e),
                    issuer: jwk.issuer,
                }),
            );
        }
        Ok(Self { keys })
    }
}

/// JWK numbers are unpadded base64url; tolerate padding some providers add.
fn decode_b64url(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('='))
}

struct Cached<T> {
    value: Arc<T>,
    fetched_at: Instant,
    /// Bumped on every successful fetch, so a caller that saw an older set knows another caller
    /// has already refetched.
    generation: u64,
}

/// The discovery and key caches shared by clones of one [`IdentityClient`].
#[derive(Default)]
pub(crate) struct Caches {
    metadata: Mutex<Option<Cached<ProviderMetadata>>>,
    keys: Mutex<Option<Cached<KeySet>>>,
}

impl IdentityClient {
    /// The provider's discovery document, from `{authority}/.well-known/openid-configuration`,
    /// cached for the client's TTL.
    pub async fn metadata(&self) -> Result<ProviderMetadata, IdentityError> {
        Ok((*self.metadata_arc().await?).clone())
    }

    pub(crate) async fn metadata_arc(&self) -> Result<Arc<ProviderMetadata>, IdentityError> {
        let mut slot = self.caches.metadata.lock().await;
        if let Some(cached) = slot.as_ref() {
            if cached.fetched_at.elapsed() < self.cache_ttl {
                return Ok(cached.value.clone());
            }
        }
        let url = self.discovery_url();
        let fetched = self.get_document(&url).await.and_then(|body| {
            ProviderMetadata::parse(&self.authority, &body).map_err(|reason| {
                IdentityError::Document {
                    url: url.to_string(),
                    reason,
                }
            })
        });
        match (fetched, slot.as_mut()) {
            (Ok(metadata), _) => {
                let value = Arc::new(metadata);
                let generation = slot.as_ref().map_or(0, |c| c.generation + 1);
                *slot = Some(Cached {
                    value: value.clone(),
                    fetched_at: Instant::now(),
                    generation,
                });
                Ok(value)
            }
            (Err(e), Some(stale)) => {
                tracing::warn!(error = %crate::http::chain(&e), "OpenID discovery refresh failed; serving the cached document");
                Ok(stale.value.clone())
            }
            (Err(e), None) => Err(e),
        }
    }

    /// The cached key set (fetched when missing or older than the TTL) and its generation.
    pub(crate) async fn key_set(
        &self,
        metadata: &ProviderMetadata,
    ) -> Result<(Arc<KeySet>, u64), IdentityError> {
        let mut slot = self.caches.keys.lock().await;
        if let Some(cached) = slot.as_ref() {
            if cached.fetched_at.elapsed() < self.cache_ttl {
                return Ok((cached.value.clone(), cached.generation));
            }
        }
        match self.fetch_keys(metadata).await {
            Ok(keys) => Ok(store_keys(&mut slot, keys)),
            Err(e) => match slot.as_ref() {
                Some(stale) => {
                    tracing::warn!(error = %crate::http::chain(&e), "JWKS refresh failed; serving the cached keys");
                    Ok((stale.value.clone(), stale.generation))
                }
                None => Err(e),
            },
        }
    }

    /// Fetches the keys again because a token names a `kid` that generation `seen` lacks. When
    /// another caller has refetched since, its result is used instead of fetching a second time.
    pub(crate) async fn refetch_keys(
        &self,
        metadata: &ProviderMetadata,
        seen: u64,
    ) -> Result<Arc<KeySet>, IdentityError> {
        let mut slot = self.caches.keys.lock().await;
        if let Some(cached) = slot.as_ref() {
            if cached.generation != seen {
                return Ok(cached.value.clone());
            }
        }
        let keys = self.fetch_keys(metadata).await?;
        Ok(store_keys(&mut slot, keys).0)
    }

    async fn fetch_keys(&self, metadata: &ProviderMetadata) -> Result<KeySet, IdentityError> {
        let body = self.get_document(&metadata.jwks_uri).await?;
        let keys = KeySet::parse(&body).map_err(|reason| IdentityError::Document {
            url: metadata.jwks_uri.to_string(),
            reason,
        })?;
        tracing::debug!(keys = keys.len(), "fetched the provider's signing keys");
        Ok(keys)
    }

    /// The tenant id of the organization that verified `domain`, from that tenant's own
    /// discovery document: `GET {host}/{domain}/v2.0/.well-known/openid-configuration`, whose
    /// `issuer` is `{host}/{tenant id}/v2.0`.
    #[tracing::instrument(skip_all, fields(domain = %domain))]
    pub async fn resolve_tenant(
        &self,
        domain: &TenantDomain,
    ) -> Result<TenantId, TenantLookupError> {
        let url = self.tenant_url(
            domain.as_str(),
            &["v2.0", ".well-known", "openid-configuration"],
        );
        let body = match self.get_document(&url).await {
            Ok(body) => body,
            Err(IdentityError::Status {
                status: 400,
                error,
                codes,
                ..
            }) if error.as_deref() == Some("invalid_tenant")
                || codes.contains(&TENANT_NOT_FOUND)
                || codes.contains(&TENANT_NOT_A_DOMAIN) =>
            {
                return Err(TenantLookupError::UnknownDomain(domain.to_string()));
            }
            Err(source) => {
                return Err(TenantLookupError::Discovery {
                    domain: domain.to_string(),
                    source,
                })
            }
        };
        let issuer = ProviderMetadata::parse(&self.authority, &body)
            .map_err(|reason| TenantLookupError::Discovery {
                domain: domain.to_string(),
                source: IdentityError::Document {
                    url: url.to_string(),
                    reason,
                },
            })?
            .issuer;
        let tenant = tenant_of_issuer(&issuer).ok_or_else(|| TenantLookupError::Issuer {
            domain: domain.to_string(),
        })?;
        tracing::debug!(tenant = %tenant, "resolved the domain to its tenant");
        Ok(tenant)
    }

    fn discovery_url(&self) -> Url {
        let mut url = self.authority.clone();
        let path = format!(
            "{}/.well-known/openid-configuration",
            self.authority.path().trim_end_matches('/')
        );
        url.set_path(&path);
        url
    }

    /// GETs a small JSON document.
    async fn get_document(&self, url: &Url) -> Result<Vec<u8>, IdentityError> {
        let http_error = |source| IdentityError::Http {
            url: url.to_string(),
            source,
        };
        let response = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(http_error)?;
        let status = response.status();
        if !status.is_success() {
            // An error body is read only for its OAuth `error` and `error_codes`; a large,
            // unreadable or foreign body leaves them empty.
            #[derive(Deserialize)]
            struct OAuthError {
                error: String,
                #[serde(default)]
                error_codes: Vec<u32>,
            }
            let small = response
                .content_length()
                .is_none_or(|len| len <= MAX_ERROR_BYTES as u64);
            let body = if small {
                response.bytes().await.ok()
            } else {
                None
            };
            let parsed = body
                .filter(|b| b.len() <= MAX_ERROR_BYTES)
                .and_then(|b| serde_json::from_slice::<OAuthError>(&b).ok());
            return Err(IdentityError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                error: parsed.as_ref().map(|p| p.error.clone()),
                codes: parsed.map(|p| p.error_codes).unwrap_or_default(),
            });
        }
        let too_big = || IdentityError::Document {
            url: url.to_string(),
            reason: format!("larger than {MAX_DOCUMENT_BYTES} bytes"),
        };
        if response
            .content_length()
            .is_some_and(|len| len > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(too_big());
        }
        let body = response.bytes().await.map_err(http_error)?;
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(too_big());
        }
        Ok(body.to_vec())
    }
}

fn store_keys(slot: &mut Option<Cached<KeySet>>, keys: KeySet) -> (Arc<KeySet>, u64) {
    let value = Arc::new(keys);
    let generation = slot.as_ref().map_or(0, |c| c.generation + 1);
    *slot = Some(Cached {
        value: value.clone(),
        fetched_at: Instant::now(),
        generation,
    });
    (value, generation)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::super::fixture::{key_a, Provider};
    use super::*;

    #[tokio::test]
    async fn metadata_is_fetched_once_and_then_served_from_the_cache() {
        let provider = Provider::start("organizations").await;
        let client = provider.client();

        let first = client.metadata().await.unwrap();
        let second = client.clone().metadata().await.unwrap();

        assert_eq!(first, second);
        assert_eq!(provider.discovery_hits(), 1);
        assert_eq!(first.issuer, format!("{}/{{tenantid}}/v2.0", provider.base));
        assert_eq!(
            first.token_endpoint.as_str(),
            format!("{}/organizations/oauth2/v2.0/token", provider.base)
        );
        assert_eq!(
            first.jwks_uri.as_str(),
            format!("{}/organizations/discovery/v2.0/keys", provider.base)
        );
    }

    #[tokio::test]
    async fn metadata_is_refetched_after_the_ttl() {
        let provider = Provider::start("organizations").await;
        let client = provider.client().with_cache_ttl(Duration::ZERO);

        client.metadata().await.unwrap();
        client.metadata().await.unwrap();

        assert_eq!(provider.discovery_hits(), 2);
    }

    #[tokio::test]
    async fn metadata_keeps_serving_the_cached_copy_when_a_refresh_fails() {
        let provider = Provider::start("organizations").await;
        let client = provider.client().with_cache_ttl(Duration::ZERO);
        let first = client.metadata().await.unwrap();

        provider.fail_discovery(503);
        let second = client.metadata().await.unwrap();

        assert_eq!(first, second);
        assert_eq!(provider.discovery_hits(), 2);
    }

    #[tokio::test]
    async fn metadata_failure_without_a_cached_copy_is_reported_and_classified() {
        let provider = Provider::start("organizations").await;
        provider.fail_discovery(503);

        let err = provider.client().metadata().await.unwrap_err();

        assert!(matches!(err, IdentityError::Status { status: 503, .. }));
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn an_unreachable_authority_is_a_transient_http_error() {
        // Bind and drop a listener to get a port nothing listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let client = IdentityClient::new(
            reqwest::Client::new(),
            Url::parse(&format!("http://127.0.0.1:{port}/organizations/v2.0")).unwrap(),
        );

        let err = client.metadata().await.unwrap_err();

        assert!(matches!(err, IdentityError::Http { .. }), "{err:?}");
        assert!(err.is_transient());
    }

    fn domain(raw: &str) -> TenantDomain {
        match crate::domain::TenantRef::parse("tenant", raw).unwrap() {
            crate::domain::TenantRef::Domain(d) => d,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_domain_resolves_to_the_tenant_id_in_its_discovery_issuer() {
        let provider = Provider::start("organizations").await;
        provider.verify_domain("contoso.com", "72f988bf-86f1-41af-91ab-2d7cd011db47");
        let client = provider.client();

        let tenant = client.resolve_tenant(&domain("contoso.com")).await.unwrap();

        assert_eq!(tenant.as_str(), "72f988bf-86f1-41af-91ab-2d7cd011db47");
        assert_eq!(provider.discovery_hits(), 1, "only the domain's document");
    }

    #[tokio::test]
    async fn an_unknown_domain_is_told_apart_from_an_outage() {
        let provider = Provider::start("organizations").await;
        let client = provider.client();

        let unknown = client
            .resolve_tenant(&domain("nobody.example"))
            .await
            .unwrap_err();
        provider.fail_discovery(503);
        let outage = client
            .resolve_tenant(&domain("nobody.example"))
            .await
            .unwrap_err();

        assert!(
            matches!(&unknown, TenantLookupError::UnknownDomain(d) if d == "nobody.example"),
            "{unknown:?}"
        );
        assert!(!unknown.is_transient());
        assert!(outage.is_transient(), "{outage:?}");
    }

    #[tokio::test]
    async fn an_unreachable_identity_platform_makes_resolution_transient() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let client = IdentityClient::new(
            reqwest::Client::new(),
            Url::parse(&format!("http://127.0.0.1:{port}/organizations/v2.0")).unwrap(),
        );

        let err = client
            .resolve_tenant(&domain("contoso.com"))
            .await
            .unwrap_err();

        assert!(err.is_transient(), "{err:?}");
    }

    #[test]
    fn only_a_v2_issuer_naming_a_guid_gives_a_tenant() {
        let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        assert_eq!(
            tenant_of_issuer(&format!("https://login.microsoftonline.com/{tid}/v2.0"))
                .unwrap()
                .as_str(),
            tid
        );
        assert!(tenant_of_issuer(&format!("http://127.0.0.1:7071/sim/{tid}/v2.0/")).is_some());
        for bad in [
            "https://login.microsoftonline.com/{tenantid}/v2.0".to_owned(),
            format!("https://sts.windows.net/{tid}/"),
            "https://login.microsoftonline.com/contoso.com/v2.0".to_owned(),
            "https://login.microsoftonline.com/v2.0".to_owned(),
            "not a url".to_owned(),
        ] {
            assert!(tenant_of_issuer(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn discovery_endpoints_may_not_downgrade_an_https_authority() {
        let authority = Url::parse("https://login.example/organizations/v2.0").unwrap();
        let doc = |token: &str| {
            json!({
                "issuer": "https://login.example/{tenantid}/v2.0",
                "authorization_endpoint": "https://login.example/organizations/oauth2/v2.0/authorize",
                "token_endpoint": token,
                "jwks_uri": "https://login.example/organizations/discovery/v2.0/keys",
            })
            .to_string()
        };

        let ok = ProviderMetadata::parse(
            &authority,
            doc("https://login.example/organizations/oauth2/v2.0/token").as_bytes(),
        );
        let downgraded = ProviderMetadata::parse(
            &authority,
            doc("http://login.example/organizations/oauth2/v2.0/token").as_bytes(),
        );
        let relative = ProviderMetadata::parse(&authority, doc("/token").as_bytes());

        assert!(ok.is_ok());
        assert!(downgraded.unwrap_err().contains("token_endpoint"));
        assert!(relative.unwrap_err().contains("token_endpoint"));
    }

    #[test]
    fn discovery_without_an_issuer_is_rejected() {
        let authority = Url::parse("https://login.example/organizations/v2.0").unwrap();
        let body = json!({
            "authorization_endpoint": "https://login.example/a",
            "token_endpoint": "https://login.example/t",
            "jwks_uri": "https://login.example/k",
        })
        .to_string();

        assert!(ProviderMetadata::parse(&authority, body.as_bytes()).is_err());
    }

    #[test]
    fn key_set_keeps_only_rsa_signature_keys_of_at_least_2048_bits() {
        let good = key_a().jwk(Some("https://login.example/{tenantid}/v2.0"));
        let mut enc = good.clone();
        enc["use"] = json!("enc");
        enc["kid"] = json!("enc");
        let mut ec = good.clone();
        ec["kty"] = json!("EC");
        ec["kid"] = json!("ec");
        let mut ps = good.clone();
        ps["alg"] = json!("PS256");
        ps["kid"] = json!("ps");
        let mut short = good.clone();
        short["n"] = json!(URL_SAFE_NO_PAD.encode([0xffu8; 128]));
        short["kid"] = json!("short");
        let mut no_kid = good.clone();
        no_kid.as_object_mut().unwrap().remove("kid");
        let body = json!({ "keys": [good, enc, ec, ps, short, no_kid] }).to_string();

        let keys = KeySet::parse(body.as_bytes()).unwrap();

        assert_eq!(keys.len(), 1);
        let key = keys.get(&key_a().kid).unwrap();
        assert_eq!(
            key.issuer.as_deref(),
            Some("https://login.example/{tenantid}/v2.0")
        );
    }
}
