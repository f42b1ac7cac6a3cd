//! PKCE (RFC 7636, `S256` only) and the random values that bind a browser round trip to the
//! request that started it (`state`, `nonce`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The fewest random bytes behind a token: 128 bits, the floor RFC 6749 section 10.10 and
/// OIDC's nonce guidance ask for. Smaller requests are raised to this.
const MIN_TOKEN_BYTES: usize = 16;

/// Random bytes behind a PKCE verifier: 32 bytes become 43 base64url characters, the shortest
/// verifier RFC 7636 allows and the length Microsoft's docs use.
const VERIFIER_BYTES: usize = 32;

/// A PKCE verifier and its `S256` challenge.
///
/// The verifier is secret until the code is redeemed (whoever holds it can redeem an intercepted
/// code), so it is a [`SecretString`]; the challenge is public and goes into the authorize URL.
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

impl Pkce {
    /// A fresh verifier from 32 bytes of the operating system-seeded CSPRNG, and its challenge.
    pub fn generate() -> Self {
        let verifier = random_token(VERIFIER_BYTES);
        let challenge = s256_challenge(&verifier);
        Self {
            verifier: SecretString::from(verifier),
            challenge,
        }
    }

    /// Rebuilds the pair from a stored verifier.
    pub fn from_verifier(verifier: SecretString) -> Self {
        let challenge = s256_challenge(verifier.expose_secret());
        Self {
            verifier,
            challenge,
        }
    }
}

/// The `S256` code challenge for `verifier`: `BASE64URL(SHA256(ASCII(verifier)))` without padding.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `bytes` random bytes (at least 16) as unpadded base64url: for `state`, `nonce` and PKCE.
///
/// `rand::rng()` is a CSPRNG seeded from the operating system, so the output is unguessable.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes.max(MIN_TOKEN_BYTES)];
    rand::rng().fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_challenge_matches_the_rfc_7636_appendix_b_vector() {
        // The challenge exactly as printed in RFC 7636 appendix B (43 characters).
        let pkce = Pkce::from_verifier(SecretString::from(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ));
        assert_eq!(
            pkce.challenge,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_verifier_is_43_unreserved_characters_and_matches_its_challenge() {
        let pkce = Pkce::generate();
        let verifier = pkce.verifier.expose_secret();
        assert_eq!(verifier.len(), 43);
        assert!(verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
        assert_eq!(pkce.challenge, s256_challenge(verifier));
        assert_eq!(pkce.challenge.len(), 43);
    }

    #[test]
    fn generated_verifiers_differ() {
        let a = Pkce::generate();
        let b = Pkce::generate();
        assert_ne!(a.verifier.expose_secret(), b.verifier.expose_secret());
    }

    #[test]
    fn random_token_never_carries_less_than_128_bits() {
        // 16 bytes -> 22 base64url characters.
        assert_eq!(random_token(0).len(), 22);
        assert_eq!(random_token(16).len(), 22);
        assert_eq!(random_token(32).len(), 43);
        let decoded = URL_SAFE_NO_PAD.decode(random_token(24)).unwrap();
        assert_eq!(decoded.len(), 24);
        assert_ne!(random_token(16), random_token(16));
    }

    #[test]
    fn pkce_debug_output_redacts_the_verifier() {
        let pkce = Pkce::from_verifier(SecretString::from("super-secret-verifier"));
        assert!(!format!("{pkce:?}").contains("super-secret-verifier"));
    }
}
