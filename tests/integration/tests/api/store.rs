//! The DynamoDB repository against the moto server: round trips, conditional writes, TTL.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use m365_connector::domain::{AppUserId, PageLimit};
use m365_connector::store::{
    keys, ConsentStatus, IdempotencyStart, StoreError, StoredTokens, TenantConsent,
};

use crate::helpers::{connection_for, stack, unique};

#[tokio::test]
async fn a_created_connection_reads_back_identically_and_claims_its_mailbox() {
    let stack = stack().await;
    let user = AppUserId::parse(&unique("user")).unwrap();
    let conn = connection_for(&user);

    stack.store.create_connection(&conn).await.unwrap();

    let read = stack
        .store
        .get_connection(&conn.id)
        .await
        .unwrap()
        .expect("connection exists");
    assert_eq!(read, conn);
    let owner = stack
        .store
        .find_connection_by_mailbox(&conn.tenant_id, &conn.ms_user_id)
        .await
        .unwrap();
    assert_eq!(owner, Some(conn.id.clone()));
}

#[tokio::test]
async fn a_second_connection_for_the_same_mailbox_is_a_conflict_and_writes_nothing() {
    let stack = stack().await;
    let user = AppUserId::parse(&unique("user")).unwrap();
    let first = connection_for(&user);
    stack.store.create_connection(&first).await.unwrap();

    let mut second = connection_for(&user);
    second.tenant_id = first.tenant_id.clone();
    second.ms_user_id = first.ms_user_id.clone();
    let err = stack.store.create_connection(&second).await.unwrap_err();

    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        stack.store.get_connection(&second.id).await.unwrap(),
        None,
        "nothing half-written"
    );
}

#[tokio::test]
async fn listing_by_user_pages_newest_first() {
    let stack = stack().await;
    let user = AppUserId::parse(&unique("user")).unwrap();
    let mut created = Vec::new();
    for i in 0..3 {
        let mut c = connection_for(&user);
        c.created_at += Duration::seconds(i);
        stack.store.create_connection(&c).await.unwrap();
        created.push(c);
    }

    let limit = PageLimit::parse(Some("2")).unwrap();
    let first = stack
        .store
        .list_connections(Some(&user), limit, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.items, vec![created[2].clone(), created[1].clone()]);
    let cursor = first.next_cursor.expect("a second page");
    let second = stack
        .store
        .list_connections(Some(&user), limit, Some(&cursor))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.items, vec![created[0].clone()]);
    if let Some(cursor) = second.next_cursor {
        let third = stack
            .store
            .list_connections(Some(&user), limit, Some(&cursor))
            .await
            .unwrap()
            .unwrap();
        assert!(third.items.is_empty() && third.next_cursor.is_none());
    }

    let other = AppUserId::parse(&unique("user")).unwrap();
    let foreign = stack
        .store
        .list_connections(Some(&other), limit, Some(&cursor))
        .await
        .unwrap();
    assert_eq!(
        foreign.unwrap_err().field,
        "cursor",
        "a cursor from another listing is rejected"
    );
}

#[tokio::test]
async fn token_sets_are_replaced_only_at_the_version_read() {
    let stack = stack().await;
    let conn = connection_for(&AppUserId::parse(&unique("user")).unwrap());
    let v1 = StoredTokens {
        ciphertext: vec![1, 2, 3],
        version: 1,
        access_expires_at: Utc::now(),
        lease_until: None,
    };

    stack.store.put_tokens(&conn.id, &v1, None).await.unwrap();
    let again = stack
        .store
        .put_tokens(&conn.id, &v1, None)
        .await
        .unwrap_err();
    assert!(
        matches!(again, StoreError::Conflict(_)),
        "first write happens once"
    );

    let v2 = StoredTokens {
        ciphertext: vec![4, 5],
        version: 2,
        ..v1.clone()
    };
    stack
        .store
        .put_tokens(&conn.id, &v2, Some(1))
        .await
        .unwrap();
    let stale = StoredTokens {
        ciphertext: vec![9],
        version: 2,
        ..v1.clone()
    };
    let lost = stack
        .store
        .put_tokens(&conn.id, &stale, Some(1))
        .await
        .unwrap_err();
    assert!(
        matches!(lost, StoreError::Conflict(_)),
        "a writer holding version 1 loses"
    );

    assert_eq!(stack.store.get_tokens(&conn.id).await.unwrap(), Some(v2));
}

#[tokio::test]
async fn an_oauth_state_is_consumed_once_and_carries_a_ttl() {
    let stack = stack().await;
    let state = unique("state");
    let expires = Utc::now() + Duration::minutes(10);
    stack
        .store
        .put_oauth_state(&state, &serde_json::json!({"user_id": "u1"}), expires)
        .await
        .unwrap();

    let raw = stack
        .aws
        .dynamodb
        .get_item()
        .table_name(&stack.config.table_name)
        .key(keys::PK, AttributeValue::S(keys::oauth_state_pk(&state)))
        .key(keys::SK, AttributeValue::S(keys::META.into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("state stored");
    assert_eq!(
        raw[keys::TTL],
        AttributeValue::N(expires.timestamp().to_string())
    );
    assert!(
        !format!("{raw:?}").contains(&state),
        "the state itself is never stored"
    );

    let taken: Option<serde_json::Value> = stack
        .store
        .take_oauth_state(&state, None, Utc::now())
        .await
        .unwrap();
    assert_eq!(taken, Some(serde_json::json!({"user_id": "u1"})));
    let replay: Option<serde_json::Value> = stack
        .store
        .take_oauth_state(&state, None, Utc::now())
        .await
        .unwrap();
    assert_eq!(replay, None, "a replayed state is rejected");
}

#[tokio::test]
async fn an_expired_or_unknown_oauth_state_is_rejected() {
    let stack = stack().await;
    let state = unique("state");
    let expires = Utc::now() + Duration::minutes(10);
    stack
        .store
        .put_oauth_state(&state, &1u8, expires)
        .await
        .unwrap();

    let late: Option<u8> = stack
        .store
        .take_oauth_state(&state, None, expires + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(late, None);
    let unknown: Option<u8> = stack
        .store
        .take_oauth_state(&unique("state"), None, Utc::now())
        .await
        .unwrap();
    assert_eq!(unknown, None);
}

fn consent(tenant: &str, status: ConsentStatus) -> TenantConsent {
    let now = Utc::now();
    TenantConsent {
        tenant_id: tenant.to_owned(),
        status,
        scopes: vec!["Mail.Read".into()],
        recorded_at: now,
        confirmed_at: (status == ConsentStatus::Granted).then_some(now),
    }
}

#[tokio::test]
async fn a_claimed_tenant_consent_never_replaces_a_granted_one() {
    let stack = stack().await;
    let tenant = uuid::Uuid::new_v4().to_string();

    let first = stack
        .store
        .put_tenant_consent(&consent(&tenant, ConsentStatus::Claimed))
        .await
        .unwrap();
    let confirmed = stack
        .store
        .put_tenant_consent(&consent(&tenant, ConsentStatus::Granted))
        .await
        .unwrap();
    let later = stack
        .store
        .put_tenant_consent(&consent(&tenant, ConsentStatus::Claimed))
        .await
        .unwrap();

    assert_eq!(first, ConsentStatus::Claimed);
    assert_eq!(confirmed, ConsentStatus::Granted);
    assert_eq!(later, ConsentStatus::Granted, "the confirmation stands");
    let stored = stack.store.tenant_consent(&tenant).await.unwrap().unwrap();
    assert_eq!(stored.status, ConsentStatus::Granted);
    assert!(stored.confirmed_at.is_some());
    assert_eq!(stored.scopes, ["Mail.Read"]);
}

#[tokio::test]
async fn a_tenant_consent_recorded_before_statuses_existed_reads_as_claimed() {
    let stack = stack().await;
    let tenant = uuid::Uuid::new_v4().to_string();
    stack
        .aws
        .dynamodb
        .put_item()
        .table_name(stack.store.table())
        .item(keys::PK, AttributeValue::S(keys::tenant_pk(&tenant)))
        .item(keys::SK, AttributeValue::S(keys::CONSENT.into()))
        .item("entity", AttributeValue::S("tenant_consent".into()))
        .item("tenant_id", AttributeValue::S(tenant.clone()))
        .item("scopes", AttributeValue::L(vec![]))
        .item(
            "granted_at",
            AttributeValue::S("2025-01-02T03:04:05+00:00".into()),
        )
        .send()
        .await
        .unwrap();

    let stored = stack.store.tenant_consent(&tenant).await.unwrap().unwrap();

    assert_eq!(stored.status, ConsentStatus::Claimed);
    assert!(stored.confirmed_at.is_none());
    assert_eq!(stored.recorded_at.to_rfc3339(), "2025-01-02T03:04:05+00:00");
}

#[tokio::test]
async fn idempotency_records_start_once_and_replay_their_response() {
    let stack = stack().await;
    let conn = connection_for(&AppUserId::parse(&unique("user")).unwrap());
    let key = unique("key");
    let now = Utc::now();
    let expires = now + Duration::hours(24);

    let first = stack
        .store
        .begin_idempotent(&conn.id, &key, "hash-a", expires, now)
        .await
        .unwrap();
    assert_eq!(first, IdempotencyStart::Started);
    let concurrent = stack
        .store
        .begin_idempotent(&conn.id, &key, "hash-a", expires, now)
        .await
        .unwrap();
    assert_eq!(concurrent, IdempotencyStart::InProgress);
    let reused = stack
        .store
        .begin_idempotent(&conn.id, &key, "hash-b", expires, now)
        .await
        .unwrap();
    assert_eq!(reused, IdempotencyStart::KeyReused);

    let response = serde_json::json!({"id": "m1", "status": "sent"});
    stack
        .store
        .complete_idempotent(&conn.id, &key, &response)
        .await
        .unwrap();
    let replay = stack
        .store
        .begin_idempotent(&conn.id, &key, "hash-a", expires, now)
        .await
        .unwrap();
    assert_eq!(replay, IdempotencyStart::Completed { response });

    let after_expiry = stack
        .store
        .begin_idempotent(
            &conn.id,
            &key,
            "hash-a",
            expires + Duration::hours(24),
            expires + Duration::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(
        after_expiry,
        IdempotencyStart::Started,
        "an expired record no longer binds the key"
    );
}
