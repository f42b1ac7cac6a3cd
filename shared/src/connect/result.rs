//! The `result` code a finished sign-in hands the app, to claim the connection with.
//!
//! The code is the result's random id and expiry, encrypted and authenticated (AES-256-GCM) with
//! the token keyring under a purpose of its own, so it cannot be forged, altered or read, and a
//! rotated key keeps opening codes issued before the rotation. A tampered or expired code is
//! refused before any lookup; the id then finds the stored result, which a claim consumes, so a
//! replayed code finds nothing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto::{CryptoError, Keyring};
use crate::identity::random_token;

/// How long an app has to claim a result.
pub const RESULT_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

/// The associated data that keeps these ciphertexts apart from the token sets'.
const PURPOSE: &str = "connect-result/v1";
const MAX_CODE_LEN: usize = 512;

/// Why a presented code cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResultCodeError {
    #[error("the result was not issued by this connector or was altered")]
    Tampered,
    #[error("the result expired; connect the mailbox again")]
    Expired,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    id: String,
    exp: i64,
}

/// An issued result: its id (the storage key) and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultCode {
    pub id: String,
    pub expires_at: DateTime<Utc>,
}

impl ResultCode {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            id: random_token(32),
            expires_at: now + RESULT_LIFETIME,
        }
    }

    /// The code as the app receives it.
    pub fn seal(&self, keyring: &Keyring) -> Result<String, CryptoError> {
        let plain = serde_json::to_vec(&Sealed {
            id: self.id.clone(),
            exp: self.expires_at.timestamp(),
        })
        .map_err(|_| CryptoError::Encrypt)?;
        Ok(URL_SAFE_NO_PAD.encode(keyring.encrypt(PURPOSE, &plain)?))
    }

    /// Opens a presented code; refuses altered, foreign and expired ones.
    pub fn open(
        keyring: &Keyring,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, ResultCodeError> {
        if code.len() > MAX_CODE_LEN {
            return Err(ResultCodeError::Tampered);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(code.trim())
            .map_err(|_| ResultCodeError::Tampered)?;
        let plain = keyring
            .decrypt(PURPOSE, &raw)
            .map_err(|_| ResultCodeError::Tampered)?;
        let sealed: Sealed =
            serde_json::from_slice(&plain).map_err(|_| ResultCodeError::Tampered)?;
        let expires_at = Utc
            .timestamp_opt(sealed.exp, 0)
            .single()
            .ok_or(ResultCodeError::Tampered)?;
        if expires_at <= now {
            return Err(ResultCodeError::Expired);
        }
        Ok(Self {
            id: sealed.id,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn keyring(key: &str) -> Keyring {
        let json = serde_json::json!({"current": "k1", "keys": {"k1": key}}).to_string();
        Keyring::from_secret_json(&SecretString::from(json)).unwrap()
    }

    #[test]
    fn a_sealed_code_opens_until_it_expires_and_only_with_its_keyring() {
        let ring = keyring(&Keyring::generate_key_b64());
        let now = Utc::now();
        let result = ResultCode::new(now);
        let code = result.seal(&ring).unwrap();
        assert_eq!(
            ResultCode::open(&ring, &code, now).unwrap(),
            ResultCode {
                id: result.id.clone(),
                expires_at: Utc.timestamp_opt(result.expires_at.timestamp(), 0).unwrap()
            }
        );
        assert_eq!(
            ResultCode::open(
                &ring,
                &code,
                now + RESULT_LIFETIME + chrono::Duration::seconds(1)
            ),
            Err(ResultCodeError::Expired)
        );
        let other = keyring(&Keyring::generate_key_b64());
        assert_eq!(
            ResultCode::open(&other, &code, now),
            Err(ResultCodeError::Tampered)
        );
    }

    #[test]
    fn an_altered_code_is_refused() {
        let ring = keyring(&Keyring::generate_key_b64());
        let now = Utc::now();
        let code = ResultCode::new(now).seal(&ring).unwrap();
        let mut bytes = code.into_bytes();
        let last = bytes.len() - 5;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        assert_eq!(
            ResultCode::open(&ring, &altered, now),
            Err(ResultCodeError::Tampered)
        );
        for junk in ["", "not base64!", &"A".repeat(600)] {
            assert_eq!(
                ResultCode::open(&ring, junk, now),
                Err(ResultCodeError::Tampered)
            );
        }
    }
}
