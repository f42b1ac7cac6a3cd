//! RSA signing keys for id_tokens, the JWKS document, and key rotation.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// One signing key with its published JWK.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub encoding: jsonwebtoken::EncodingKey,
    n: String,
    e: String,
}

impl SigningKey {
    pub fn generate() -> SigningKey {
        let mut rng = RandAdapter;
        let key = RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
        let der = key.to_pkcs1_der().expect("PKCS#1 encoding");
        let n_bytes = key.n().to_bytes_be();
        let e_bytes = key.e().to_bytes_be();
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(&n_bytes)[..15]);
        let n = URL_SAFE_NO_PAD.encode(&n_bytes);
        let e = URL_SAFE_NO_PAD.encode(&e_bytes);
        SigningKey {
            kid,
            encoding: jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
            n,
            e,
        }
    }

    /// The JWK as Microsoft publishes it (`issuer` carries the `{tenantid}` template).
    pub fn jwk(&self, base: &str) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": self.n,
            "e": self.e,
            "issuer": format!("{base}/{{tenantid}}/v2.0"),
        })
    }
}

/// The process-wide first key: RSA generation costs ~100 ms, so simulators started in one
/// test binary share it; rotation makes fresh keys per simulator.
pub fn initial_key() -> SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(SigningKey::generate).clone()
}

/// The published key set: the newest key signs; older ones stay published until retired.
pub struct KeySet {
    pub keys: Vec<SigningKey>,
}

impl KeySet {
    pub fn current(&self) -> &SigningKey {
        self.keys.last().expect("at least one key")
    }

    /// Add `key` as the signing key; keep at most `keep_previous` older keys in the JWKS.
    pub fn rotate(&mut self, key: SigningKey, keep_previous: usize) {
        self.keys.push(key);
        let excess = self.keys.len().saturating_sub(keep_previous + 1);
        self.keys.drain(..excess);
    }

    pub fn jwks(&self, base: &str) -> Value {
        json!({ "keys": self.keys.iter().rev().map(|k| k.jwk(base)).collect::<Vec<_>>() })
    }
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
