//! id_token validation: RS256 signatures against the provider's JWKS, and the OIDC claim checks
//! with Microsoft's multi-tenant issuer rule.
//!
//! jsonwebtoken verifies the signature; every claim is checked here against the caller's `now`,
//! because the issuer rule (a `{tenantid}` template filled with the token's own `tid`) is not
//! something a fixed issuer list can express.
//!
//! The algorithm is read from the header and must be exactly `RS256` before any key is touched:
//! that closes `alg: none` and the HMAC key-confusion attack (an HS256 token "signed" with the
//! RSA public key as the HMAC secret).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{IdentityClient, IdentityError};

/// Allowed clock difference between us and the identity platform.
pub const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// Real id_tokens are 1-3 KiB; anything far larger is not worth decoding.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The placeholder in Microsoft's multi-tenant issuer (`.../{tenantid}/v2.0`).
const TENANT_TEMPLATE: &str = "{tenantid}";

/// The claims of a validated id_token.
///
/// `tid` + `oid` identify the user; `email` and `preferred_username` are mutable and
/// user-controlled in some tenants: display them, never authorize with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenClaims {
    /// Tenant GUID (hyphenated, as issued).
    pub tid: String,
    /// The user's immutable object id in that tenant (Graph `user.id`). Microsoft only puts it in
    /// the id_token when `profile` is requested, which the connector's fixed scope list does not
    /// include, so callers take the object id from `GET /me` and check it against this when set.
    pub oid: Option<String>,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    pub nonce: String,
    pub exp: i64,
    pub iat: i64,
}

/// Why an id_token was rejected.
#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    #[error("the id_token is malformed: {0}")]
    Malformed(&'static str),
    #[error("the id_token uses algorithm {0:?}; only RS256 is accepted")]
    UnsupportedAlgorithm(String),
    /// No key with this `kid`, even after fetching the key set again.
    #[error("no signing key {kid:?} in the provider's key set")]
    UnknownKey { kid: String },
    #[error("the id_token signature is invalid")]
    BadSignature,
    #[error("the id_token is not meant for this client (aud)")]
    Audience,
    #[error("the id_token issuer {iss:?} is not the expected {expected:?}")]
    Issuer { iss: String, expected: String },
    /// The signing key is bound to another issuer (Microsoft's per-key `issuer`).
    #[error("the id_token issuer {iss:?} may not use this signing key (key issuer {expected:?})")]
    KeyIssuer { iss: String, expected: String },
    #[error("the id_token tid is not a tenant GUID")]
    TenantId,
    #[error("the id_token has expired")]
    Expired,
    #[error("the id_token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the id_token was issued in the future (iat)")]
    IssuedInFuture,
    #[error("the id_token nonce does not match the one sent")]
    Nonce,
    #[error("the id_token lacks the {0} claim")]
    MissingClaim(&'static str),
    /// Discovery or the key set could not be fetched.
    #[error("could not load the provider's metadata or keys")]
    Discovery(#[source] IdentityError),
}

impl IdTokenError {
    /// Whether validation failed for reasons unrelated to the token (the provider was
    /// unreachable); every other variant means the token itself is unacceptable.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Discovery(e) if e.is_transient())
    }
}

impl IdentityClient {
    /// Validates an id_token from the token endpoint and returns its claims.
    ///
    /// Checks, in order: shape and size; `alg` is exactly RS256; the JWKS key named by `kid`
    /// (refetching the keys once when it is unknown); the signature; `tid` is a GUID; `iss`
    /// equals discovery's issuer with `{tenantid}` filled by `tid`, and the key's own issuer when
    /// the JWKS gives one; `aud` is `client_id`; `exp`, `nbf` and `iat` against `now` with
    /// [`CLOCK_SKEW`]; `nonce` equals `expected_nonce`.
    pub async fn validate_id_token(
        &self,
        id_token: &str,
        client_id: &str,
        expected_nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<IdTokenClaims, IdTokenError> {
        let kid = check_header(id_token)?;
        let metadata = self.metadata_arc().await.map_err(IdTokenError::Discovery)?;
        let (keys, generation) = self
            .key_set(&metadata)
            .await
            .map_err(IdTokenError::Discovery)?;
        let key = match keys.get(&kid) {
            Some(key) => key,
            None => {
                // Entra rotates keys; one refetch picks up a new one. A kid still unknown after
                // that is refused without fetching again for this token.
                tracing::info!("id_token names an unknown signing key; refetching the key set");
                let keys = self
                    .refetch_keys(&metadata, generation)
                    .await
                    .map_err(IdTokenError::Discovery)?;
                keys.get(&kid).ok_or(IdTokenError::UnknownKey { kid })?
            }
        };
        let claims = verify_signature(id_token, &key.key)?;
        check_claims(
            claims,
            &metadata.issuer,
            key.issuer.as_deref(),
            client_id,
            expected_nonce,
            now,
        )
    }
}

/// Reads the header without trusting it: the token must be a three-part JWS whose `alg` is
/// exactly `RS256`, with a `kid` and no `crit` extensions. Returns the `kid`.
fn check_header(token: &str) -> Result<String, IdTokenError> {
    #[derive(Deserialize)]
    struct Header {
        alg: Option<serde_json::Value>,
        kid: Option<String>,
        crit: Option<serde_json::Value>,
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(IdTokenError::Malformed("longer than 16 KiB"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenError::Malformed("not three dot-separated parts"));
    };
    let header = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| IdTokenError::Malformed("header is not base64url"))?;
    let header: Header = serde_json::from_slice(&header)
        .map_err(|_| IdTokenError::Malformed("header is not a JSON object"))?;
    match header.alg {
        Some(serde_json::Value::String(alg)) if alg == "RS256" => {}
        Some(serde_json::Value::String(alg)) => {
            return Err(IdTokenError::UnsupportedAlgorithm(alg))
        }
        Some(other) => return Err(IdTokenError::UnsupportedAlgorithm(other.to_string())),
        None => return Err(IdTokenError::UnsupportedAlgorithm(String::new())),
    }
    if header.crit.is_some() {
        return Err(IdTokenError::Malformed("header has critical extensions"));
    }
    match header.kid {
        Some(kid) if !kid.is_empty() => Ok(kid),
        _ => Err(IdTokenError::Malformed("header has no kid")),
    }
}

/// Verifies the RS256 signature and returns the payload. Claim checks are done by
/// [`check_claims`], so jsonwebtoken's own time and audience checks are switched off here.
fn verify_signature(token: &str, key: &DecodingKey) -> Result<serde_json::Value, IdTokenError> {
    use jsonwebtoken::errors::ErrorKind;

    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    match jsonwebtoken::decode::<serde_json::Value>(token, key, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) => Err(match e.kind() {
            ErrorKind::InvalidSignature => IdTokenError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                IdTokenError::UnsupportedAlgorithm("RS256 with a non-RSA key".into())
            }
            ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => {
                IdTokenError::Malformed("the signing key is not a usable RSA key")
            }
            _ => IdTokenError::Malformed("payload or signature cannot be decoded"),
        }),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    aud: Option<Audience>,
    azp: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    tid: Option<String>,
    oid: Option<String>,
    nonce: Option<String>,
    email: Option<String>,
    preferred_username: Option<String>,
    name: Option<String>,
}

/// The claim checks after the signature, as a pure function of the verified payload.
fn check_claims(
    payload: serde_json::Value,
    issuer: &str,
    key_issuer: Option<&str>,
    client_id: &str,
    expected_nonce: &str,
    now: DateTime<Utc>,
) -> Result<IdTokenClaims, IdTokenError> {
    let claims: RawClaims = serde_json::from_value(payload)
        .map_err(|_| IdTokenError::Malformed("claims have unexpected types"))?;

    // Tenant and issuer first: `tid` is substituted into the expected issuer, so it must be a
    // plain GUID before it goes anywhere near a comparison.
    let tid = claims.tid.ok_or(IdTokenError::MissingClaim("tid"))?;
    if !is_guid(&tid) {
        return Err(IdTokenError::TenantId);
    }
    let iss = claims.iss.ok_or(IdTokenError::MissingClaim("iss"))?;
    let expected = issuer.replace(TENANT_TEMPLATE, &tid);
    if iss != expected {
        return Err(IdTokenError::Issuer { iss, expected });
    }
    if !issuer.contains(TENANT_TEMPLATE) && !literal_issuer_matches_tenant(issuer, &tid) {
        // A tenant-specific authority: its issuer names one tenant, and a token from it must
        // carry that tenant's id, since `tid` keys the user's data.
        return Err(IdTokenError::Issuer {
            iss,
            expected: format!("an issuer of tenant {tid}"),
        });
    }
    if let Some(key_issuer) = key_issuer {
        let expected = key_issuer.replace(TENANT_TEMPLATE, &tid);
        if iss != expected {
            return Err(IdTokenError::KeyIssuer { iss, expected });
        }
    }

    match claims.aud {
        Some(Audience::One(aud)) if aud == client_id => {}
        // OIDC Core 3.1.3.7: with several audiences, `azp` must name us as well.
        Some(Audience::Many(auds))
            if auds.iter().any(|a| a == client_id)
                && (auds.len() == 1 || claims.azp.as_deref() == Some(client_id)) => {}
        Some(_) => return Err(IdTokenError::Audience),
        None => return Err(IdTokenError::MissingClaim("aud")),
    }

    let now = now.timestamp();
    let skew = CLOCK_SKEW.num_seconds();
    let exp = claims.exp.ok_or(IdTokenError::MissingClaim("exp"))?;
    if now >= exp.saturating_add(skew) {
        return Err(IdTokenError::Expired);
    }
    if let Some(nbf) = claims.nbf {
        if now.saturating_add(skew) < nbf {
            return Err(IdTokenError::NotYetValid);
        }
    }
    let iat = claims.iat.ok_or(IdTokenError::MissingClaim("iat"))?;
    if iat > now.saturating_add(skew) {
        return Err(IdTokenError::IssuedInFuture);
    }

    let nonce = claims.nonce.ok_or(IdTokenError::MissingClaim("nonce"))?;
    if expected_nonce.is_empty() || !bool::from(nonce.as_bytes().ct_eq(expected_nonce.as_bytes())) {
        return Err(IdTokenError::Nonce);
    }

    let oid = claims.oid.filter(|o| !o.is_empty());

    Ok(IdTokenClaims {
        tid,
        oid,
        email: claims.email,
        preferred_username: claims.preferred_username,
        name: claims.name,
        nonce,
        exp,
        iat,
    })
}

/// A hyphenated GUID (`8-4-4-4-12` hex digits), the only form Microsoft issues in `tid`.
fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// For a literal issuer: when one of its path segments is a GUID (Microsoft's
/// `https://login.microsoftonline.com/{guid}/v2.0`), it must be the token's `tid`. Issuers of
/// other providers have no such segment and pass.
fn literal_issuer_matches_tenant(issuer: &str, tid: &str) -> bool {
    let Ok(url) = url::Url::parse(issuer) else {
        return true;
    };
    url.path_segments()
        .into_iter()
        .flatten()
        .filter(|seg| is_guid(seg))
        .all(|seg| seg.eq_ignore_ascii_case(tid))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{json, Value};

    use super::super::fixture::{key_a, key_b, Provider, TestKey, CLIENT_ID, TENANT};
    use super::*;

    const NONCE: &str = "nonce-abc";

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    fn claims(provider: &Provider) -> Value {
        let now = now().timestamp();
        json!({
            "ver": "2.0",
            "iss": provider.issuer_for(TENANT),
            "sub": "pairwise-sub",
            "aud": CLIENT_ID,
            "exp": now + 3600,
            "iat": now,
            "nbf": now,
            "tid": TENANT,
            "oid": "00000000-0000-0000-66f3-3332eca7ea81",
            "nonce": NONCE,
            "email": "alice@contoso.example",
            "preferred_username": "alice@contoso.example",
            "name": "Alice",
        })
    }

    fn sign(key: &TestKey, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
    }

    /// A token with an arbitrary header and a junk signature, for algorithms we never verify.
    fn forge(header: &Value, claims: &Value, signature: &str) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            signature
        )
    }

    async fn validate(provider: &Provider, token: &str) -> Result<IdTokenClaims, IdTokenError> {
        provider
            .client()
            .validate_id_token(token, CLIENT_ID, NONCE, now())
            .await
    }

    /// Signs `claims` after `edit`, validates, and returns the result.
    async fn validate_edited(edit: impl FnOnce(&mut Value)) -> Result<IdTokenClaims, IdTokenError> {
        let provider = Provider::start("organizations").await;
        let mut claims = claims(&provider);
        edit(&mut claims);
        validate(&provider, &sign(key_a(), &claims)).await
    }

    #[tokio::test]
    async fn a_valid_token_yields_its_claims() {
        let provider = Provider::start("organizations").await;

        let claims = validate(&provider, &sign(key_a(), &claims(&provider)))
            .await
            .unwrap();

        assert_eq!(claims.tid, TENANT);
        assert_eq!(
            claims.oid.as_deref(),
            Some("00000000-0000-0000-66f3-3332eca7ea81")
        );
        assert_eq!(claims.nonce, NONCE);
        assert_eq!(claims.email.as_deref(), Some("alice@contoso.example"));
        assert_eq!(
            claims.preferred_username.as_deref(),
            Some("alice@contoso.example")
        );
        assert_eq!(claims.name.as_deref(), Some("Alice"));
        assert!(claims.exp > claims.iat);
    }

    #[tokio::test]
    async fn discovery_and_keys_are_fetched_once_for_many_validations() {
        let provider = Provider::start("organizations").await;
        let client = provider.client();
        let token = sign(key_a(), &claims(&provider));

        for _ in 0..3 {
            client
                .validate_id_token(&token, CLIENT_ID, NONCE, now())
                .await
                .unwrap();
        }

        assert_eq!(provider.discovery_hits(), 1);
        assert_eq!(provider.jwks_hits(), 1);
    }

    #[tokio::test]
    async fn a_token_signed_by_another_key_under_a_known_kid_is_rejected() {
        let provider = Provider::start("organizations").await;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key_a().kid.clone());
        let token = jsonwebtoken::encode(&header, &claims(&provider), &key_b().encoding).unwrap();

        let err = validate(&provider, &token).await.unwrap_err();

        assert!(matches!(err, IdTokenError::BadSignature), "{err:?}");
    }

    #[tokio::test]
    async fn a_tampered_payload_is_rejected() {
        let provider = Provider::start("organizations").await;
        let token = sign(key_a(), &claims(&provider));
        let mut parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims(&provider);
        forged["oid"] = json!("someone-else");
        let payload = URL_SAFE_NO_PAD.encode(forged.to_string());
        parts[1] = &payload;

        let err = validate(&provider, &parts.join(".")).await.unwrap_err();

        assert!(matches!(err, IdTokenError::BadSignature), "{err:?}");
    }

    #[tokio::test]
    async fn an_unsigned_alg_none_token_is_rejected() {
        let provider = Provider::start("organizations").await;
        let claims = claims(&provider);

        for alg in ["none", "None", "NONE"] {
            let header = json!({"alg": alg, "typ": "JWT", "kid": key_a().kid});
            for signature in ["", "AAAA"] {
                let err = validate(&provider, &forge(&header, &claims, signature))
                    .await
                    .unwrap_err();
                assert!(
                    matches!(&err, IdTokenError::UnsupportedAlgorithm(a) if a == alg),
                    "{alg}: {err:?}"
                );
            }
        }
    }

    #[tokio::test]
    async fn an_hs256_token_keyed_with_the_rsa_public_key_is_rejected() {
        let provider = Provider::start("organizations").await;
        let claims = claims(&provider);
        // The classic key confusion: a verifier that picks the algorithm from the header would
        // check this HMAC with the public key bytes it holds, and accept it.
        let secrets: [&[u8]; 3] = [
            key_a().public_pem.as_bytes(),
            &key_a().public_der,
            key_a().n.as_bytes(),
        ];

        for secret in secrets {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(key_a().kid.clone());
            let token =
                jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap();

            let err = validate(&provider, &token).await.unwrap_err();

            assert!(
                matches!(&err, IdTokenError::UnsupportedAlgorithm(a) if a == "HS256"),
                "{err:?}"
            );
        }
    }

    #[tokio::test]
    async fn every_algorithm_other_than_rs256_is_rejected() {
        let provider = Provider::start("organizations").await;
        let claims = claims(&provider);

        for alg in [
            "HS256", "HS384", "HS512", "RS384", "RS512", "PS256", "ES256", "EdDSA", "rs256", "",
        ] {
            let header = json!({"alg": alg, "kid": key_a().kid});
            let err = validate(&provider, &forge(&header, &claims, "c2ln"))
                .await
                .unwrap_err();
            assert!(
                matches!(&err, IdTokenError::UnsupportedAlgorithm(a) if a == alg),
                "{alg}: {err:?}"
            );
        }
        // A PS256 signature made with the genuine RSA key is still refused: only RS256 is allowed.
        let mut header = Header::new(Algorithm::PS256);
        header.kid = Some(key_a().kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &key_a().encoding).unwrap();
        let err = validate(&provider, &token).await.unwrap_err();
        assert!(
            matches!(err, IdTokenError::UnsupportedAlgorithm(_)),
            "{err:?}"
        );
        // A header without `alg`, or with a non-string one.
        for header in [
            json!({"kid": key_a().kid}),
            json!({"alg": 256, "kid": key_a().kid}),
        ] {
            let err = validate(&provider, &forge(&header, &claims, "c2ln"))
                .await
                .unwrap_err();
            assert!(
                matches!(err, IdTokenError::UnsupportedAlgorithm(_)),
                "{err:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_token_for_another_audience_is_rejected() {
        let cases = [
            json!("another-client"),
            json!(["another-client"]),
            json!([CLIENT_ID, "another-client"]), // several audiences and no azp naming us
            json!(CLIENT_ID.to_uppercase()),
        ];
        for aud in cases {
            let err = validate_edited(|c| c["aud"] = aud.clone())
                .await
                .unwrap_err();
            assert!(matches!(err, IdTokenError::Audience), "{aud}: {err:?}");
        }
        let err = validate_edited(|c| {
            c.as_object_mut().unwrap().remove("aud");
        })
        .await
        .unwrap_err();
        assert!(matches!(err, IdTokenError::MissingClaim("aud")), "{err:?}");
    }

    #[tokio::test]
    async fn a_multi_audience_token_is_accepted_when_azp_names_this_client() {
        let claims = validate_edited(|c| {
            c["aud"] = json!([CLIENT_ID, "another"]);
            c["azp"] = json!(CLIENT_ID);
        })
        .await;

        assert!(claims.is_ok(), "{claims:?}");
    }

    #[tokio::test]
    async fn a_token_from_another_issuer_is_rejected() {
        let cases = [
            format!("https://evil.example/{TENANT}/v2.0"),
            format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
            format!("https://sts.windows.net/{TENANT}/"),
        ];
        for iss in cases {
            let err = validate_edited(|c| c["iss"] = json!(iss))
                .await
                .unwrap_err();
            assert!(
                matches!(&err, IdTokenError::Issuer { iss: got, .. } if *got == iss),
                "{iss}: {err:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_malformed_issuer_is_rejected() {
        let provider = Provider::start("organizations").await;
        let cases = [
            provider.issuer_for("{tenantid}"), // the template itself, never filled in
            format!("{}/", provider.issuer_for(TENANT)),
            provider.issuer_for(TENANT).to_uppercase(),
            format!(
                "{}/{TENANT}/v2.0",
                provider.base.replace("http://", "https://")
            ),
            "not a url".to_owned(),
            String::new(),
        ];
        for iss in cases {
            let mut claims = claims(&provider);
            claims["iss"] = json!(iss);
            let err = validate(&provider, &sign(key_a(), &claims))
                .await
                .unwrap_err();
            assert!(
                matches!(err, IdTokenError::Issuer { .. }),
                "{iss:?}: {err:?}"
            );
        }
        let err = validate_edited(|c| c["iss"] = json!(42)).await.unwrap_err();
        assert!(matches!(err, IdTokenError::Malformed(_)), "{err:?}");
        let err = validate_edited(|c| {
            c.as_object_mut().unwrap().remove("iss");
        })
        .await
        .unwrap_err();
        assert!(matches!(err, IdTokenError::MissingClaim("iss")), "{err:?}");
    }

    #[tokio::test]
    async fn an_issuer_naming_another_tenant_than_tid_is_rejected() {
        let provider = Provider::start("organizations").await;
        let other = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let mut claims = claims(&provider);
        claims["iss"] = json!(provider.issuer_for(other));

        let err = validate(&provider, &sign(key_a(), &claims))
            .await
            .unwrap_err();

        assert!(
            matches!(&err, IdTokenError::Issuer { expected, .. } if *expected == provider.issuer_for(TENANT)),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_tid_that_is_not_a_guid_is_rejected() {
        let cases = [
            json!("contoso.onmicrosoft.com"),
            json!("{tenantid}"),
            json!(""),
            json!("../../evil"),
            json!(format!("{{{TENANT}}}")),
            json!(TENANT.replace('-', "")),
            json!(format!("urn:uuid:{TENANT}")),
            json!(7),
        ];
        for tid in cases {
            let provider = Provider::start("organizations").await;
            let mut claims = claims(&provider);
            claims["tid"] = tid.clone();
            // The issuer is made to match whatever the template would become, so only the tid
            // check can catch it.
            if let Some(t) = tid.as_str() {
                claims["iss"] = json!(provider.issuer_for(t));
            }
            let err = validate(&provider, &sign(key_a(), &claims))
                .await
                .unwrap_err();
            let expected = if tid.is_string() {
                matches!(err, IdTokenError::TenantId)
            } else {
                matches!(err, IdTokenError::Malformed(_))
            };
            assert!(expected, "{tid}: {err:?}");
        }
        let err = validate_edited(|c| {
            c.as_object_mut().unwrap().remove("tid");
        })
        .await
        .unwrap_err();
        assert!(matches!(err, IdTokenError::MissingClaim("tid")), "{err:?}");
    }

    #[tokio::test]
    async fn a_key_bound_to_another_tenant_cannot_sign_for_this_one() {
        let provider = Provider::start("organizations").await;
        let other = "9188040d-6c67-4c5b-b112-36a304b66dad";
        provider.publish(&[key_a()], Some(&provider.issuer_for(other)));

        let err = validate(&provider, &sign(key_a(), &claims(&provider)))
            .await
            .unwrap_err();

        assert!(matches!(err, IdTokenError::KeyIssuer { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn a_key_bound_to_the_tokens_tenant_or_without_an_issuer_is_accepted() {
        for bound in [true, false] {
            let provider = Provider::start("organizations").await;
            let key_issuer = bound.then(|| provider.issuer_for(TENANT));
            provider.publish(&[key_a()], key_issuer.as_deref());

            let result = validate(&provider, &sign(key_a(), &claims(&provider))).await;

            assert!(result.is_ok(), "{key_issuer:?}: {result:?}");
        }
    }

    #[tokio::test]
    async fn a_tenant_specific_authority_accepts_only_its_own_literal_issuer() {
        let provider = Provider::start(TENANT).await;
        let metadata = provider.client().metadata().await.unwrap();
        assert_eq!(metadata.issuer, provider.issuer_for(TENANT));

        let ok = validate(&provider, &sign(key_a(), &claims(&provider))).await;
        assert!(ok.is_ok(), "{ok:?}");

        // A token of another tenant, even with an issuer matching its own tid.
        let other = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let mut foreign = claims(&provider);
        foreign["tid"] = json!(other);
        foreign["iss"] = json!(provider.issuer_for(other));
        let err = validate(&provider, &sign(key_a(), &foreign))
            .await
            .unwrap_err();
        assert!(matches!(err, IdTokenError::Issuer { .. }), "{err:?}");

        // The tenant's own issuer, but a tid naming another tenant.
        let mut mismatched = claims(&provider);
        mismatched["tid"] = json!(other);
        let err = validate(&provider, &sign(key_a(), &mismatched))
            .await
            .unwrap_err();
        assert!(matches!(err, IdTokenError::Issuer { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn an_expired_token_is_rejected_beyond_the_clock_skew() {
        let now = now().timestamp();
        let err = validate_edited(|c| {
            c["exp"] = json!(now - 301);
            c["iat"] = json!(now - 4000);
            c["nbf"] = json!(now - 4000);
        })
        .await
        .unwrap_err();
        assert!(matches!(err, IdTokenError::Expired), "{err:?}");

        let within_skew = validate_edited(|c| {
            c["exp"] = json!(now - 240);
            c["iat"] = json!(now - 4000);
            c["nbf"] = json!(now - 4000);
        })
        .await;
        assert!(within_skew.is_ok(), "{within_skew:?}");

        let err = validate_edited(|c| {
            c.as_object_mut().unwrap().remove("exp");
        })
        .await
        .unwrap_err();
        assert!(matches!(err, IdTokenError::MissingClaim("exp")), "{err:?}");
    }

    #[tokio::test]
    async fn a_token_not_valid_yet_is_rejected_beyond_the_clock_skew() {
        let now = now().timestamp();
        let err = validate_edited(|c| c["nbf"] = json!(now + 301))
            .await
            .unwrap_err();
        assert!(matches!(err, IdTokenError::NotYetValid), "{err:?}");

        let within_skew = validate_edited(|c| c["nbf"] = json!(now + 240)).await;
        assert!(within_skew.is_ok(), "{within_skew:?}");
    }

    #[tokio::test]
    async fn a_token_issued_in_the_future_is_rejected_beyond_the_clock_skew() {
        let now = now().timestamp();
        let err = validate_edited(|c| {
            c["iat"] = json!(now + 301);
            c.as_object_mut().unwrap().remove("nbf");
        })
        .await
        .unwrap_err();
        assert!(matches!(err, IdTokenError::IssuedInFuture), "{err:?}");

        let err = validate_edited(|c| {
            c.as_object_mut().unwrap().remove("iat");
        })
        .await
        .unwrap_err();
        assert!(matches!(err, IdTokenError::MissingClaim("iat")), "{err:?}");
    }

    #[tokio::test]
    async fn validation_uses_the_callers_clock() {
        let provider = Provider::start("organizations").await;
        let token = sign(key_a(), &claims(&provider));
        let client = provider.client();

        let later = now() + chrono::Duration::hours(2);
        let err = client
            .validate_id_token(&token, CLIENT_ID, NONCE, later)
            .await
            .unwrap_err();

        assert!(matches!(err, IdTokenError::Expired), "{err:?}");
    }

    #[tokio::test]
    async fn a_nonce_mismatch_is_rejected() {
        for nonce in [
            json!("nonce-abd"),
            json!("nonce-ab"),
            json!(""),
            json!(NONCE.to_uppercase()),
        ] {
            let err = validate_edited(|c| c["nonce"] = nonce.clone())
                .await
                .unwrap_err();
            assert!(matches!(err, IdTokenError::Nonce), "{nonce}: {err:?}");
        }
        let err = validate_edited(|c| {
            c.as_object_mut().unwrap().remove("nonce");
        })
        .await
        .unwrap_err();
        assert!(
            matches!(err, IdTokenError::MissingClaim("nonce")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_empty_expected_nonce_matches_nothing() {
        let provider = Provider::start("organizations").await;
        let mut claims = claims(&provider);
        claims["nonce"] = json!("");

        let err = provider
            .client()
            .validate_id_token(&sign(key_a(), &claims), CLIENT_ID, "", now())
            .await
            .unwrap_err();

        assert!(matches!(err, IdTokenError::Nonce), "{err:?}");
    }

    #[tokio::test]
    async fn a_token_without_oid_is_accepted_with_no_object_id() {
        let claims = validate_edited(|c| {
            c.as_object_mut().unwrap().remove("oid");
        })
        .await
        .unwrap();

        assert_eq!(claims.oid, None);
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_the_keys_once_then_fails() {
        let provider = Provider::start("organizations").await;
        let client = provider.client();
        client
            .validate_id_token(&sign(key_a(), &claims(&provider)), CLIENT_ID, NONCE, now())
            .await
            .unwrap();
        assert_eq!(provider.jwks_hits(), 1);

        let err = client
            .validate_id_token(&sign(key_b(), &claims(&provider)), CLIENT_ID, NONCE, now())
            .await
            .unwrap_err();

        assert!(
            matches!(&err, IdTokenError::UnknownKey { kid } if *kid == key_b().kid),
            "{err:?}"
        );
        assert_eq!(provider.jwks_hits(), 2, "exactly one refetch");
    }

    #[tokio::test]
    async fn an_unknown_kid_on_a_cold_cache_fetches_twice_at_most() {
        let provider = Provider::start("organizations").await;

        let err = validate(&provider, &sign(key_b(), &claims(&provider)))
            .await
            .unwrap_err();

        assert!(matches!(err, IdTokenError::UnknownKey { .. }), "{err:?}");
        assert_eq!(provider.jwks_hits(), 2);
    }

    #[tokio::test]
    async fn a_rotated_key_is_found_after_one_refetch_and_then_cached() {
        let provider = Provider::start("organizations").await;
        let client = provider.client();
        client
            .validate_id_token(&sign(key_a(), &claims(&provider)), CLIENT_ID, NONCE, now())
            .await
            .unwrap();
        let issuer = provider.issuer_for("{tenantid}");
        provider.publish(&[key_a(), key_b()], Some(&issuer));
        let rotated = sign(key_b(), &claims(&provider));

        let first = client
            .validate_id_token(&rotated, CLIENT_ID, NONCE, now())
            .await;
        let second = client
            .validate_id_token(&rotated, CLIENT_ID, NONCE, now())
            .await;

        assert!(first.is_ok(), "{first:?}");
        assert!(second.is_ok(), "{second:?}");
        assert_eq!(
            provider.jwks_hits(),
            2,
            "one refetch, then served from the cache"
        );
    }

    #[tokio::test]
    async fn concurrent_validations_with_a_new_kid_share_one_refetch() {
        let provider = Provider::start("organizations").await;
        let client = provider.client();
        client
            .validate_id_token(&sign(key_a(), &claims(&provider)), CLIENT_ID, NONCE, now())
            .await
            .unwrap();
        let issuer = provider.issuer_for("{tenantid}");
        provider.publish(&[key_a(), key_b()], Some(&issuer));
        let rotated = sign(key_b(), &claims(&provider));

        let results = futures_join(&client, &rotated, 8).await;

        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(provider.jwks_hits(), 2);
    }

    async fn futures_join(
        client: &IdentityClient,
        token: &str,
        n: usize,
    ) -> Vec<Result<IdTokenClaims, IdTokenError>> {
        let mut handles = Vec::new();
        for _ in 0..n {
            let client = client.clone();
            let token = token.to_owned();
            handles.push(tokio::spawn(async move {
                client
                    .validate_id_token(&token, CLIENT_ID, NONCE, now())
                    .await
            }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn malformed_tokens_are_rejected_before_any_network_call() {
        let provider = Provider::start("organizations").await;
        let good = sign(key_a(), &claims(&provider));
        let header_only = good.split('.').next().unwrap().to_owned();
        let cases = [
            String::new(),
            "abc".to_owned(),
            "a.b".to_owned(),
            format!("{good}.extra.parts"),
            format!("{good}.extra"),
            "!!!.e30.c2ln".to_owned(),
            format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode("not json")),
            format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode("[1,2]")),
            forge(&json!({"alg": "RS256"}), &json!({}), "c2ln"),
            forge(&json!({"alg": "RS256", "kid": ""}), &json!({}), "c2ln"),
            forge(
                &json!({"alg": "RS256", "kid": "k", "crit": ["exp"]}),
                &json!({}),
                "c2ln",
            ),
            format!("{header_only}.{}.c2ln", "A".repeat(20 * 1024)),
        ];

        for token in cases {
            let err = validate(&provider, &token).await.unwrap_err();
            assert!(
                matches!(err, IdTokenError::Malformed(_)),
                "{:?}: {err:?}",
                token.get(..40)
            );
        }
        assert_eq!(provider.discovery_hits(), 0);
        assert_eq!(provider.jwks_hits(), 0);
    }

    #[tokio::test]
    async fn a_payload_that_is_not_json_is_malformed_even_when_signed() {
        let provider = Provider::start("organizations").await;
        let good = sign(key_a(), &claims(&provider));
        let header = good.split('.').next().unwrap();
        let payload = URL_SAFE_NO_PAD.encode("not json");
        // Garbage signature: the payload is never trusted before the signature checks out.
        let err = validate(&provider, &format!("{header}.{payload}.c2ln"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, IdTokenError::BadSignature | IdTokenError::Malformed(_)),
            "{err:?}"
        );

        let err = validate_edited(|c| c["exp"] = json!("tomorrow"))
            .await
            .unwrap_err();
        assert!(matches!(err, IdTokenError::Malformed(_)), "{err:?}");
    }

    #[tokio::test]
    async fn an_unreachable_key_set_is_a_transient_discovery_error() {
        let provider = Provider::start("organizations").await;
        provider.fail_jwks(503);

        let err = validate(&provider, &sign(key_a(), &claims(&provider)))
            .await
            .unwrap_err();

        assert!(matches!(err, IdTokenError::Discovery(_)), "{err:?}");
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn cached_keys_keep_serving_when_a_refresh_after_the_ttl_fails() {
        let provider = Provider::start("organizations").await;
        let client = provider.client().with_cache_ttl(Duration::ZERO);
        let token = sign(key_a(), &claims(&provider));
        client
            .validate_id_token(&token, CLIENT_ID, NONCE, now())
            .await
            .unwrap();

        provider.fail_jwks(503);
        let again = client
            .validate_id_token(&token, CLIENT_ID, NONCE, now())
            .await;

        assert!(again.is_ok(), "{again:?}");
        assert_eq!(provider.jwks_hits(), 2);
    }

    #[test]
    fn guids_are_recognised_only_in_hyphenated_form() {
        assert!(is_guid(TENANT));
        assert!(is_guid(&TENANT.to_uppercase()));
        assert!(!is_guid(&TENANT.replace('-', "")));
        assert!(!is_guid(&format!("{{{TENANT}}}")));
        assert!(!is_guid("organizations"));
    }
}
