//! API-key authentication of the app-facing routes.
//!
//! The client app sends `Authorization: Bearer <api key>`. Only SHA-256 hashes of the keys are
//! kept, in a Secrets Manager secret: `{"keys": [{"id": "prod-2026", "sha256": "<hex>"}]}`. The
//! presented key's hash is compared with every stored hash in constant time, and the loop does not
//! stop at a match, so timing says nothing about which key (or how much of it) was right.

use base64::Engine as _;
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a request was not authenticated. Only `Secret` is our fault; the rest are 401s.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing Authorization header")]
    Missing,
    #[error("Authorization must be `Bearer <api key>`")]
    Malformed,
    #[error("unknown API key")]
    UnknownKey,
    #[error("the API key hashes could not be read")]
    Secret(#[source] crate::secrets::SecretsError),
}
use crate::secrets::SecretCache;

/// Longest key we bother hashing; anything longer is not one of ours.
const MAX_KEY_LEN: usize = 512;

#[derive(Deserialize)]
struct ApiKeysSecret {
    keys: Vec<StoredKey>,
}

#[derive(Deserialize)]
struct StoredKey {
    id: String,
    sha256: String,
}

/// The id of the API key that authenticated a request (safe to log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyId(pub String);

/// The SHA-256 of a key, hex-encoded: what the secret stores.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A new random API key (256 bits, base64url) and its hash.
pub fn generate_key() -> (SecretString, String) {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let key = format!(
        "m365c_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    );
    let hash = hash_key(&key);
    (SecretString::from(key), hash)
}

/// Extracts the bearer token from an `Authorization` header value.
fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
    let header = header.ok_or(AuthError::Missing)?;
    let (scheme, token) = header.split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(token.trim())
}

/// Checks API keys against the hashes in Secrets Manager.
#[derive(Debug)]
pub struct ApiKeyVerifier {
    secret_id: String,
}

impl ApiKeyVerifier {
    pub fn new(secret_id: impl Into<String>) -> Self {
        Self {
            secret_id: secret_id.into(),
        }
    }

    /// Authenticates a request from its `Authorization` header value.
    pub async fn authenticate(
        &self,
        secrets: &SecretCache,
        authorization: Option<&str>,
    ) -> Result<ApiKeyId, AuthError> {
        let presented = bearer(authorization)?;
        let stored: ApiKeysSecret = secrets
            .get_json(&self.secret_id)
            .await
            .map_err(AuthError::Secret)?;
        match_key(&stored.keys, presented).ok_or(AuthError::UnknownKey)
    }
}

fn match_key(stored: &[StoredKey], presented: &str) -> Option<ApiKeyId> {
    if presented.len() > MAX_KEY_LEN {
        return None;
    }
    let digest = Sha256::digest(presented.as_bytes());
    let mut found: Option<ApiKeyId> = None;
    for key in stored {
        let Ok(expected) = hex::decode(key.sha256.trim()) else {
            continue;
        };
        // `ct_eq` on slices of different lengths is a constant-time `false`.
        if bool::from(expected.as_slice().ct_eq(&digest[..])) && found.is_none() {
            found = Some(ApiKeyId(key.id.clone()));
        }
    }
    found
}

/// Renders the secret's JSON for a set of (id, hash) pairs; used by provisioning scripts and tests.
pub fn secret_json(keys: &[(&str, &str)]) -> SecretString {
    let keys: Vec<_> = keys
        .iter()
        .map(|(id, h)| serde_json::json!({"id": id, "sha256": h}))
        .collect();
    SecretString::from(serde_json::json!({ "keys": keys }).to_string())
}

/// Exposes a generated key for printing once (e.g. by `make dev`). Never log it.
pub fn reveal(key: &SecretString) -> &str {
    key.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(pairs: &[(&str, &str)]) -> Vec<StoredKey> {
        pairs
            .iter()
            .map(|(id, key)| StoredKey {
                id: id.to_string(),
                sha256: hash_key(key),
            })
            .collect()
    }

    #[test]
    fn a_stored_key_matches_and_names_its_id() {
        let keys = stored(&[("old", "key-one"), ("new", "key-two")]);
        assert_eq!(match_key(&keys, "key-two"), Some(ApiKeyId("new".into())));
        assert_eq!(match_key(&keys, "key-one"), Some(ApiKeyId("old".into())));
    }

    #[test]
    fn unknown_prefix_suffix_and_oversized_keys_do_not_match() {
        let keys = stored(&[("k", "key-one")]);
        for bad in [
            "key-on",
            "key-one ",
            "KEY-ONE",
            "",
            &"x".repeat(MAX_KEY_LEN + 1),
        ] {
            assert_eq!(match_key(&keys, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn malformed_stored_hashes_are_skipped() {
        let mut keys = stored(&[("good", "key-one")]);
        keys.insert(
            0,
            StoredKey {
                id: "bad".into(),
                sha256: "zz".into(),
            },
        );
        assert_eq!(match_key(&keys, "key-one"), Some(ApiKeyId("good".into())));
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer(Some("Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer(Some("bearer abc")).unwrap(), "abc");
        for bad in [
            None,
            Some("abc"),
            Some("Basic abc"),
            Some("Bearer "),
            Some("Bearer"),
        ] {
            assert!(
                matches!(bearer(bad), Err(AuthError::Missing | AuthError::Malformed)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn generated_keys_are_unique_and_hash_to_their_hash() {
        let (a, ha) = generate_key();
        let (b, _) = generate_key();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(hash_key(a.expose_secret()), ha);
        assert!(a.expose_secret().len() >= 40);
    }
}
