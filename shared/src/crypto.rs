//! Encryption of token material before it reaches DynamoDB.
//!
//! AES-256-GCM with a fresh random 96-bit nonce per encryption. The ciphertext names the key that
//! made it, so keys can be rotated: new writes use the keyring's current key, old records stay
//! readable while their key is still in the secret. The owning record's id is bound in as
//! associated data, so a ciphertext copied onto another record fails to decrypt.
//!
//! Layout: `0x01 | kid_len (1 byte) | kid (UTF-8) | nonce (12) | ciphertext+tag`.
//! Associated data: `kid | 0x00 | record_id`.

use std::collections::HashMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("token key secret is malformed: {0}")]
    BadKeyring(String),
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("ciphertext was made with key {0}, which is not in the keyring")]
    UnknownKey(String),
    /// Wrong record id, tampered bytes or the wrong key: GCM cannot tell which, and says nothing.
    #[error("ciphertext failed authentication")]
    Authentication,
    #[error("encryption failed")]
    Encrypt,
}

/// The secret's JSON: `{"current": "k2", "keys": {"k1": "<base64 32 bytes>", "k2": "..."}}`.
#[derive(Deserialize)]
struct KeyringSecret {
    current: String,
    keys: HashMap<String, SecretString>,
}

/// The token-encryption keys, the current one used for new ciphertexts.
pub struct Keyring {
    current: String,
    ciphers: HashMap<String, Aes256Gcm>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<_> = self.ciphers.keys().collect();
        kids.sort();
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("kids", &kids)
            .finish()
    }
}

impl Keyring {
    /// Parses the key secret's JSON.
    pub fn from_secret_json(json: &SecretString) -> Result<Self, CryptoError> {
        let parsed: KeyringSecret = serde_json::from_str(json.expose_secret())
            .map_err(|_| CryptoError::BadKeyring("not the expected JSON object".into()))?;
        let mut ciphers = HashMap::new();
        for (kid, b64) in &parsed.keys {
            if kid.is_empty() || kid.len() > 64 {
                return Err(CryptoError::BadKeyring(format!(
                    "key id {kid:?} must be 1-64 bytes"
                )));
            }
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64.expose_secret().trim())
                .map_err(|_| CryptoError::BadKeyring(format!("key {kid} is not base64")))?;
            if raw.len() != 32 {
                return Err(CryptoError::BadKeyring(format!(
                    "key {kid} is not 32 bytes"
                )));
            }
            let cipher = Aes256Gcm::new_from_slice(&raw)
                .map_err(|_| CryptoError::BadKeyring(format!("key {kid} is not 32 bytes")))?;
            ciphers.insert(kid.clone(), cipher);
        }
        if !ciphers.contains_key(&parsed.current) {
            return Err(CryptoError::BadKeyring(format!(
                "current key {} is not among the keys",
                parsed.current
            )));
        }
        Ok(Self {
            current: parsed.current,
            ciphers,
        })
    }

    /// A fresh random key, base64-encoded, for provisioning the secret.
    pub fn generate_key_b64() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    pub fn current_kid(&self) -> &str {
        &self.current
    }

    /// Encrypts `plaintext` for the record `record_id` with the current key.
    pub fn encrypt(&self, record_id: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let kid = self.current.as_str();
        let cipher = &self.ciphers[kid];
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = associated_data(kid, record_id);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut out = Vec::with_capacity(2 + kid.len() + NONCE_LEN + sealed.len());
        out.push(FORMAT_V1);
        out.push(kid.len() as u8);
        out.extend_from_slice(kid.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts a ciphertext made by [`Keyring::encrypt`] for the same `record_id`.
    pub fn decrypt(&self, record_id: &str, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (&version, rest) = ciphertext.split_first().ok_or(CryptoError::Malformed)?;
        if version != FORMAT_V1 {
            return Err(CryptoError::Malformed);
        }
        let (&kid_len, rest) = rest.split_first().ok_or(CryptoError::Malformed)?;
        let kid_len = kid_len as usize;
        // The tag alone is 16 bytes; anything shorter cannot be ours.
        if rest.len() < kid_len + NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (kid, rest) = rest.split_at(kid_len);
        let kid = std::str::from_utf8(kid).map_err(|_| CryptoError::Malformed)?;
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
        let cipher = self
            .ciphers
            .get(kid)
            .ok_or_else(|| CryptoError::UnknownKey(kid.to_owned()))?;
        let aad = associated_data(kid, record_id);
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Authentication)
    }
}

fn associated_data(kid: &str, record_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(kid.len() + 1 + record_id.len());
    aad.extend_from_slice(kid.as_bytes());
    aad.push(0);
    aad.extend_from_slice(record_id.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring(current: &str, kids: &[(&str, &str)]) -> Keyring {
        let keys: serde_json::Map<String, serde_json::Value> = kids
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
            .collect();
        let json = serde_json::json!({"current": current, "keys": keys}).to_string();
        Keyring::from_secret_json(&SecretString::from(json)).unwrap()
    }

    fn two_keys() -> (String, String) {
        (Keyring::generate_key_b64(), Keyring::generate_key_b64())
    }

    #[test]
    fn round_trips_and_never_repeats_a_ciphertext() {
        let (k1, _) = two_keys();
        let ring = keyring("k1", &[("k1", &k1)]);
        let a = ring.encrypt("conn-1", b"refresh-token").unwrap();
        let b = ring.encrypt("conn-1", b"refresh-token").unwrap();
        assert_ne!(a, b, "a fresh nonce per encryption");
        assert!(!a.windows(13).any(|w| w == b"refresh-token"));
        assert_eq!(ring.decrypt("conn-1", &a).unwrap(), b"refresh-token");
        assert_eq!(ring.decrypt("conn-1", &b).unwrap(), b"refresh-token");
    }

    #[test]
    fn a_different_record_id_fails() {
        let (k1, _) = two_keys();
        let ring = keyring("k1", &[("k1", &k1)]);
        let ct = ring.encrypt("conn-1", b"secret").unwrap();
        assert_eq!(
            ring.decrypt("conn-2", &ct),
            Err(CryptoError::Authentication)
        );
    }

    #[test]
    fn every_flipped_bit_fails() {
        let (k1, _) = two_keys();
        let ring = keyring("k1", &[("k1", &k1)]);
        let ct = ring.encrypt("conn-1", b"secret").unwrap();
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 0x01;
            assert!(
                ring.decrypt("conn-1", &bad).is_err(),
                "byte {i} flipped was accepted"
            );
        }
        for len in 0..ct.len() {
            assert!(
                ring.decrypt("conn-1", &ct[..len]).is_err(),
                "truncated to {len} was accepted"
            );
        }
    }

    #[test]
    fn rotation_keeps_old_ciphertexts_readable_and_unknown_keys_fail() {
        let (k1, k2) = two_keys();
        let old = keyring("k1", &[("k1", &k1)]);
        let ct_old = old.encrypt("conn-1", b"v1").unwrap();

        let rotated = keyring("k2", &[("k1", &k1), ("k2", &k2)]);
        let ct_new = rotated.encrypt("conn-1", b"v2").unwrap();
        assert_eq!(rotated.current_kid(), "k2");
        assert_eq!(rotated.decrypt("conn-1", &ct_old).unwrap(), b"v1");
        assert_eq!(rotated.decrypt("conn-1", &ct_new).unwrap(), b"v2");

        assert_eq!(
            old.decrypt("conn-1", &ct_new),
            Err(CryptoError::UnknownKey("k2".into()))
        );
    }

    #[test]
    fn a_key_swapped_under_the_same_id_fails_authentication() {
        let (k1, other) = two_keys();
        let ct = keyring("k1", &[("k1", &k1)])
            .encrypt("conn-1", b"x")
            .unwrap();
        assert_eq!(
            keyring("k1", &[("k1", &other)]).decrypt("conn-1", &ct),
            Err(CryptoError::Authentication)
        );
    }

    #[test]
    fn malformed_keyrings_are_rejected() {
        let cases = [
            r#"not json"#,
            r#"{"current":"k1","keys":{}}"#,
            r#"{"current":"k1","keys":{"k1":"!!notbase64"}}"#,
            r#"{"current":"k1","keys":{"k1":"AAAA"}}"#,
        ];
        for case in cases {
            assert!(
                matches!(
                    Keyring::from_secret_json(&SecretString::from(case)),
                    Err(CryptoError::BadKeyring(_))
                ),
                "{case}"
            );
        }
    }
}
