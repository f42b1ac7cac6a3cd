//! Secrets Manager cache and token encryption with the key from Secrets Manager.

use integration_tests::Wired as _;

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use m365_connector::auth::{hash_key, secret_json, ApiKeyVerifier};
use m365_connector::crypto::{CryptoError, Keyring};
use m365_connector::domain::AppUserId;
use m365_connector::http::ApiError;
use m365_connector::secrets::SecretCache;
use m365_connector::store::{keys, StoredTokens};
use secrecy::ExposeSecret;

use crate::helpers::{connection_for, stack, unique};

async fn create_secret(stack: &crate::helpers::Stack, value: &str) -> String {
    stack
        .aws
        .secrets()
        .create_secret()
        .name(unique("test-secret"))
        .secret_string(value)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap()
}

async fn set_secret(stack: &crate::helpers::Stack, arn: &str, value: &str) {
    stack
        .aws
        .secrets()
        .put_secret_value()
        .secret_id(arn)
        .secret_string(value)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn cached_secrets_are_served_from_memory_until_the_ttl_passes() {
    let stack = stack().await;
    let arn = create_secret(&stack, "v1").await;
    let cache = SecretCache::new(stack.aws.secrets.clone(), Duration::from_millis(600));

    assert_eq!(cache.get(&arn).await.unwrap().expose_secret(), "v1");
    set_secret(&stack, &arn, "v2").await;
    assert_eq!(
        cache.get(&arn).await.unwrap().expose_secret(),
        "v1",
        "served from memory"
    );

    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        cache.get(&arn).await.unwrap().expose_secret(),
        "v2",
        "re-read after the TTL"
    );
}

#[tokio::test]
async fn an_unknown_secret_is_an_error_not_a_panic() {
    let stack = stack().await;
    let cache = SecretCache::new(stack.aws.secrets.clone(), Duration::from_secs(60));
    assert!(cache.get(&unique("missing")).await.is_err());
}

#[tokio::test]
async fn api_keys_are_checked_against_hashes_in_secrets_manager() {
    let stack = stack().await;
    let arn = create_secret(
        &stack,
        secret_json(&[("k1", &hash_key("good-key"))]).expose_secret(),
    )
    .await;
    let cache = SecretCache::new(stack.aws.secrets.clone(), Duration::from_secs(60));
    let verifier = ApiKeyVerifier::new(&arn);

    let key = verifier
        .authenticate(&cache, Some("Bearer good-key"))
        .await
        .unwrap();
    assert_eq!(key.id.0, "k1");
    for header in [None, Some("Bearer bad-key"), Some("good-key")] {
        let err = ApiError::from(verifier.authenticate(&cache, header).await.unwrap_err());
        assert!(
            matches!(err, ApiError::Unauthorized(_)),
            "{header:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn tokens_reach_dynamodb_only_as_ciphertext_bound_to_their_connection() {
    let stack = stack().await;
    let cache = SecretCache::new(stack.aws.secrets.clone(), Duration::from_secs(60));
    let keyring =
        Keyring::from_secret_json(&cache.get(&stack.config.token_key_secret_id).await.unwrap())
            .unwrap();
    let conn = connection_for(&AppUserId::parse(&unique("user")).unwrap());
    let plaintext = br#"{"refresh_token":"0.AAAA-very-secret-refresh-token"}"#;

    let ciphertext = keyring.encrypt(conn.id.as_str(), plaintext).unwrap();
    let tokens = StoredTokens {
        ciphertext,
        version: 1,
        access_expires_at: Utc::now(),
        lease_until: None,
    };
    stack
        .store
        .put_tokens(&conn.id, &tokens, None)
        .await
        .unwrap();

    let raw = stack
        .aws
        .dynamodb
        .get_item()
        .table_name(&stack.config.table_name)
        .key(keys::PK, AttributeValue::S(keys::connection_pk(&conn.id)))
        .key(keys::SK, AttributeValue::S(keys::TOKENS.into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(
        !format!("{raw:?}").contains("very-secret"),
        "no plaintext in the item"
    );

    let read = stack.store.get_tokens(&conn.id).await.unwrap().unwrap();
    assert_eq!(
        keyring.decrypt(conn.id.as_str(), &read.ciphertext).unwrap(),
        plaintext
    );
    let other = connection_for(&conn.user_id);
    assert_eq!(
        keyring.decrypt(other.id.as_str(), &read.ciphertext),
        Err(CryptoError::Authentication)
    );
}
