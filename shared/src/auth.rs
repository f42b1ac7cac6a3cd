//! API keys of the app-facing routes: who is calling, and what that key may do.
//!
//! The client app sends `Authorization: Bearer <api key>`. Only SHA-256 hashes of the keys are
//! kept, in a Secrets Manager secret:
//! `{"keys": [{"id": "prod-2026", "sha256": "<hex>", "scopes": ["mail:read"], "user_ids": ["u1"]}]}`.
//! The presented key's hash is compared with every stored hash in constant time, and the loop does
//! not stop at a match, so timing says nothing about which key (or how much of it) was right.
//!
//! A key may do only what its `scopes` name (none when the entry has no `scopes`: least
//! privilege, so a forgotten field never grants everything); `user_ids`, when present, limits it to
//! those app users' connections. An entry that does not parse (an unknown scope, a bad hash or user
//! id) is skipped with a warning naming its id, so one typo locks out one key, not every key.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::{AppUserId, ConnectionId};
use crate::secrets::{SecretCache, SecretsError};

/// Why a request was not authenticated or not authorised. Only `Secret` is our fault.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing Authorization header")]
    Missing,
    #[error("Authorization must be `Bearer <api key>`")]
    Malformed,
    #[error("unknown API key")]
    UnknownKey,
    #[error("the API key hashes could not be read")]
    Secret(#[source] SecretsError),
    /// The key is genuine but its scopes do not include the route's.
    #[error("the API key does not have the scope {0}")]
    MissingScope(Scope),
    /// The key has neither of the two scopes that admit the route.
    #[error("the API key has neither the scope {0} nor {1}")]
    MissingEitherScope(Scope, Scope),
    /// A key limited to some users called a route for all users without naming one.
    #[error("this API key may only reach some users' connections: name one with user_id")]
    UserRequired,
    /// A key limited to some users named another user.
    #[error("this API key may not act for this user_id")]
    UserNotAllowed,
    /// A key limited to some users named a connection of another user (or none at all). Answered
    /// exactly like an unknown connection, so such a key learns nothing about other users' ids.
    #[error("no connection {0}")]
    ConnectionHidden(ConnectionId),
}

/// What an API key may do, one scope per kind of route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    ConnectionsRead,
    ConnectionsWrite,
    MailRead,
    MailSend,
    CalendarRead,
    CalendarWrite,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Self::ConnectionsRead,
        Self::ConnectionsWrite,
        Self::MailRead,
        Self::MailSend,
        Self::CalendarRead,
        Self::CalendarWrite,
        Self::Admin,
    ];

    /// The scope as the secret and the 403 problem spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConnectionsRead => "connections:read",
            Self::ConnectionsWrite => "connections:write",
            Self::MailRead => "mail:read",
            Self::MailSend => "mail:send",
            Self::CalendarRead => "calendar:read",
            Self::CalendarWrite => "calendar:write",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope string that is none of [`Scope::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(raw: &str) -> Result<Self, UnknownScope> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| UnknownScope(raw.to_owned()))
    }
}

/// Longest key we bother hashing; anything longer is not one of ours.
const MAX_KEY_LEN: usize = 512;

#[derive(Deserialize)]
struct ApiKeysSecret {
    /// Entries are read one by one, so that a malformed one is skipped rather than failing all.
    keys: Vec<serde_json::Value>,
}

/// One entry of the secret as written there.
#[derive(Deserialize)]
struct RawEntry {
    id: String,
    sha256: String,
    #[serde(default)]
    scopes: Vec<String>,
    user_ids: Option<Vec<String>>,
}

/// One entry of the secret, parsed.
#[derive(Debug, Clone)]
struct StoredKey {
    sha256: [u8; 32],
    key: ApiKey,
}

/// The id of the API key that authenticated a request (safe to log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyId(pub String);

/// An authenticated API key: its id and what it may do (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    scopes: BTreeSet<Scope>,
    /// `None`: every user; otherwise only these app users' connections.
    user_ids: Option<BTreeSet<String>>,
}

impl ApiKey {
    /// The key's scopes, or the error naming the one the route needs.
    pub fn require(&self, scope: Scope) -> Result<(), AuthError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(AuthError::MissingScope(scope))
        }
    }

    /// Whether the key is limited to some users (and so must name one, or own the connection).
    pub fn is_restricted(&self) -> bool {
        self.user_ids.is_some()
    }

    /// Whether the key may reach `user`'s connections.
    pub fn allows(&self, user: &AppUserId) -> bool {
        self.user_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(user.as_str()))
    }

    /// A route over many users: an unrestricted key may leave `user` out; a restricted one must
    /// name one of its own users.
    pub fn require_user(&self, user: Option<&AppUserId>) -> Result<(), AuthError> {
        match user {
            None if self.is_restricted() => Err(AuthError::UserRequired),
            Some(user) if !self.allows(user) => Err(AuthError::UserNotAllowed),
            _ => Ok(()),
        }
    }
}

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

/// Parses one entry; `Err` says why it is malformed (never quoting a hash).
fn parse_entry(raw: RawEntry) -> Result<StoredKey, String> {
    let mut sha256 = [0u8; 32];
    hex::decode_to_slice(raw.sha256.trim(), &mut sha256)
        .map_err(|_| "sha256 is not 64 hex digits".to_owned())?;
    let scopes = raw
        .scopes
        .iter()
        .map(|s| s.parse::<Scope>())
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let user_ids = raw
        .user_ids
        .map(|ids| {
            ids.iter()
                .map(|u| AppUserId::parse(u).map(|u| u.as_str().to_owned()))
                .collect::<Result<_, _>>()
        })
        .transpose()
        .map_err(|e| format!("user_ids: {e}"))?;
    Ok(StoredKey {
        sha256,
        key: ApiKey {
            id: ApiKeyId(raw.id),
            scopes,
            user_ids,
        },
    })
}

/// The usable entries of the secret; each malformed one is logged by id and left out.
fn parse_keys(secret: ApiKeysSecret) -> Vec<StoredKey> {
    let mut keys = Vec::with_capacity(secret.keys.len());
    for entry in secret.keys {
        let id = entry
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or("(no id)")
            .to_owned();
        let parsed = serde_json::from_value::<RawEntry>(entry)
            // serde's message is not kept: it could quote the entry.
            .map_err(|_| "not {id, sha256, scopes?, user_ids?} with string values".to_owned())
            .and_then(parse_entry);
        match parsed {
            Ok(key) => keys.push(key),
            Err(reason) => {
                tracing::warn!(api_key_id = %id, %reason, "API key entry is malformed; the key is refused")
            }
        }
    }
    keys
}

/// Checks API keys against the hashes in Secrets Manager.
pub struct ApiKeyVerifier {
    secret_id: String,
    /// The secret value last parsed and its keys: each value is parsed (and its malformed entries
    /// reported) once per container, not on every request, while the cache re-reads it often.
    parsed: Mutex<Option<(SecretString, Arc<[StoredKey]>)>>,
}

impl fmt::Debug for ApiKeyVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyVerifier")
            .field("secret_id", &self.secret_id)
            .finish_non_exhaustive()
    }
}

impl ApiKeyVerifier {
    pub fn new(secret_id: impl Into<String>) -> Self {
        Self {
            secret_id: secret_id.into(),
            parsed: Mutex::new(None),
        }
    }

    /// Authenticates a request from its `Authorization` header value.
    pub async fn authenticate(
        &self,
        secrets: &SecretCache,
        authorization: Option<&str>,
    ) -> Result<ApiKey, AuthError> {
        let presented = bearer(authorization)?;
        let raw = secrets
            .get(&self.secret_id)
            .await
            .map_err(AuthError::Secret)?;
        let keys = self.keys(&raw).map_err(AuthError::Secret)?;
        match_key(&keys, presented).ok_or(AuthError::UnknownKey)
    }

    fn keys(&self, raw: &SecretString) -> Result<Arc<[StoredKey]>, SecretsError> {
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((value, keys)) = parsed.as_ref() {
            if value.expose_secret() == raw.expose_secret() {
                return Ok(keys.clone());
            }
        }
        let secret = crate::secrets::parse_json(&self.secret_id, raw)?;
        let keys: Arc<[StoredKey]> = parse_keys(secret).into();
        *parsed = Some((raw.clone(), keys.clone()));
        Ok(keys)
    }
}

fn match_key(stored: &[StoredKey], presented: &str) -> Option<ApiKey> {
    if presented.len() > MAX_KEY_LEN {
        return None;
    }
    let digest = Sha256::digest(presented.as_bytes());
    let mut found: Option<&ApiKey> = None;
    for entry in stored {
        // Every entry is compared, in constant time, whichever matched.
        if bool::from(entry.sha256[..].ct_eq(&digest[..])) && found.is_none() {
            found = Some(&entry.key);
        }
    }
    found.cloned()
}

/// Renders the secret's JSON for a set of (id, hash) pairs, each key with every scope and no user
/// restriction; used by provisioning scripts and tests.
pub fn secret_json(keys: &[(&str, &str)]) -> SecretString {
    let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let keys: Vec<_> = keys
        .iter()
        .map(|(id, h)| serde_json::json!({"id": id, "sha256": h, "scopes": scopes}))
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

    fn secret(entries: serde_json::Value) -> Vec<StoredKey> {
        parse_keys(serde_json::from_value(serde_json::json!({ "keys": entries })).unwrap())
    }

    fn stored(pairs: &[(&str, &str)]) -> Vec<StoredKey> {
        let entries: Vec<_> = pairs
            .iter()
            .map(|(id, key)| serde_json::json!({"id": id, "sha256": hash_key(key)}))
            .collect();
        secret(entries.into())
    }

    fn ids(keys: &[StoredKey]) -> Vec<&str> {
        keys.iter().map(|k| k.key.id.0.as_str()).collect()
    }

    #[test]
    fn a_stored_key_matches_and_names_its_id() {
        let keys = stored(&[("old", "key-one"), ("new", "key-two")]);
        assert_eq!(match_key(&keys, "key-two").unwrap().id.0, "new");
        assert_eq!(match_key(&keys, "key-one").unwrap().id.0, "old");
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
    fn every_scope_parses_from_its_own_spelling_and_nothing_else() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            assert_eq!(scope.to_string(), scope.as_str());
        }
        for bad in ["", "mail", "Mail:Read", "mail:read ", "admin:*", "*"] {
            assert_eq!(
                bad.parse::<Scope>(),
                Err(UnknownScope(bad.into())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn scopes_and_user_ids_are_read_from_each_entry() {
        let keys = secret(serde_json::json!([
            {"id": "reader", "sha256": hash_key("r"), "scopes": ["connections:read", "mail:read"]},
            {"id": "scoped-user", "sha256": hash_key("u"), "scopes": ["admin"], "user_ids": ["alice", "bob"]},
        ]));
        let reader = match_key(&keys, "r").unwrap();
        assert!(reader.require(Scope::ConnectionsRead).is_ok());
        assert!(reader.require(Scope::MailRead).is_ok());
        assert!(matches!(
            reader.require(Scope::MailSend),
            Err(AuthError::MissingScope(Scope::MailSend))
        ));
        assert!(!reader.is_restricted());

        let user = match_key(&keys, "u").unwrap();
        assert!(user.is_restricted());
        let alice = AppUserId::parse("alice").unwrap();
        let carol = AppUserId::parse("carol").unwrap();
        assert!(user.allows(&alice) && !user.allows(&carol));
        assert!(reader.allows(&carol));
    }

    #[test]
    fn an_entry_without_scopes_may_do_nothing() {
        let keys = stored(&[("bare", "key-one")]);
        let key = match_key(&keys, "key-one").unwrap();
        for scope in Scope::ALL {
            assert!(key.require(scope).is_err(), "{scope}");
        }
    }

    #[test]
    fn a_restricted_key_must_name_one_of_its_users() {
        let keys = secret(serde_json::json!([
            {"id": "all", "sha256": hash_key("a")},
            {"id": "one", "sha256": hash_key("o"), "user_ids": ["alice"]},
        ]));
        let (all, one) = (
            match_key(&keys, "a").unwrap(),
            match_key(&keys, "o").unwrap(),
        );
        let alice = AppUserId::parse("alice").unwrap();
        let bob = AppUserId::parse("bob").unwrap();
        assert!(all.require_user(None).is_ok());
        assert!(all.require_user(Some(&bob)).is_ok());
        assert!(one.require_user(Some(&alice)).is_ok());
        assert!(matches!(
            one.require_user(None),
            Err(AuthError::UserRequired)
        ));
        assert!(matches!(
            one.require_user(Some(&bob)),
            Err(AuthError::UserNotAllowed)
        ));
    }

    #[test]
    fn malformed_entries_are_skipped_and_the_others_kept() {
        let keys = secret(serde_json::json!([
            {"id": "typo", "sha256": hash_key("t"), "scopes": ["mail:read", "mail:sned"]},
            {"id": "bad-hash", "sha256": "zz"},
            {"id": "short-hash", "sha256": "abcd"},
            {"id": "bad-user", "sha256": hash_key("b"), "user_ids": ["has space"]},
            {"id": "scopes-not-a-list", "sha256": hash_key("s"), "scopes": "admin"},
            {"sha256": hash_key("n")},
            "not an object",
            {"id": "good", "sha256": hash_key("key-one"), "scopes": ["admin"]},
        ]));
        assert_eq!(ids(&keys), ["good"]);
        assert_eq!(match_key(&keys, "t"), None);
        assert_eq!(match_key(&keys, "key-one").unwrap().id.0, "good");
    }

    #[test]
    fn the_provisioning_secret_gives_every_scope() {
        let json = secret_json(&[("dev", &hash_key("k"))]);
        let parsed = parse_keys(serde_json::from_str(json.expose_secret()).unwrap());
        let key = match_key(&parsed, "k").unwrap();
        assert!(Scope::ALL.iter().all(|s| key.require(*s).is_ok()));
        assert!(!key.is_restricted());
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
