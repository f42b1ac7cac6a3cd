//! The OAuth flow's records: pending states (`OAUTH#{sha256(state)}` / `META`, consumed exactly
//! once, expiring) and a tenant's admin consent (`TENANT#{tenant}` / `CONSENT`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::conditions::conditional;
use super::{dynamo, from_item, keys, n, s, to_item, Item, Store, StoreError};

#[derive(Serialize, Deserialize)]
struct ExpiringItem<T> {
    pk: String,
    sk: String,
    entity: String,
    ttl: i64,
    payload: T,
}

impl Store {
    /// Saves a pending OAuth state (keyed by the state's hash, never the state itself) until
    /// `expires_at`. A duplicate state is a conflict.
    pub async fn put_oauth_state<T: Serialize>(
        &self,
        state: &str,
        payload: &T,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let item = to_item(&ExpiringItem {
            pk: keys::oauth_state_pk(state),
            sk: keys::META.into(),
            entity: "oauth_state".into(),
            ttl: expires_at.timestamp(),
            payload,
        })?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        conditional("PutItem", result)?
            .map(drop)
            .map_err(|_| StoreError::Conflict("OAuth state exists"))
    }

    /// Consumes a pending OAuth state exactly once: a conditional delete that only succeeds while
    /// the state exists and has not expired. `None` means unknown, expired or already used.
    pub async fn take_oauth_state<T: DeserializeOwned>(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<T>, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::oauth_state_pk(state)))
            .key(keys::SK, s(keys::META))
            .condition_expression("attribute_exists(pk) AND #ttl > :now")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":now", n(now.timestamp()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match conditional("DeleteItem", result)? {
            Ok(out) => out
                .attributes
                .map(|item| from_item::<ExpiringItem<T>>(item).map(|i| i.payload))
                .transpose(),
            Err(_) => Ok(None),
        }
    }

    /// Records that a tenant's administrator granted consent for the whole organisation.
    pub async fn put_tenant_consent(
        &self,
        tenant_id: &str,
        scopes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let item: Item = HashMap::from([
            (keys::PK.to_owned(), s(keys::tenant_pk(tenant_id))),
            (keys::SK.to_owned(), s(keys::CONSENT)),
            ("entity".to_owned(), s("tenant_consent")),
            ("tenant_id".to_owned(), s(tenant_id)),
            (
                "scopes".to_owned(),
                AttributeValue::L(scopes.iter().map(|x| s(x.clone())).collect()),
            ),
            ("granted_at".to_owned(), s(now.to_rfc3339())),
        ]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(dynamo("PutItem"))?;
        Ok(())
    }

    /// When the tenant's admin consent was recorded, if it was.
    pub async fn tenant_consent(&self, tenant_id: &str) -> Result<Option<String>, StoreError> {
        let item = self
            .get_item(keys::tenant_pk(tenant_id), keys::CONSENT, false)
            .await?;
        Ok(item.and_then(|i| i.get("granted_at").and_then(|v| v.as_s().ok()).cloned()))
    }
}
