//! The OAuth flow's records: pending states (`OAUTH#{sha256(state)}` / `META`, consumed exactly
//! once, expiring) and a tenant's admin consent (`TENANT#{tenant}` / `CONSENT`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::conditions::conditional;
use super::{dynamo, from_item, keys, n, s, to_item, Item, Store, StoreError};

/// The attribute holding the hash of the browser-binding secret of a sign-in's state.
const BINDING: &str = "binding";

#[derive(Serialize, Deserialize)]
pub(super) struct ExpiringItem<T> {
    pub(super) pk: String,
    pub(super) sk: String,
    pub(super) entity: String,
    pub(super) ttl: i64,
    pub(super) payload: T,
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

    /// Binds a pending OAuth state to one browser, once: records the hash of the secret the
    /// browser was given in a cookie. `None` when the state is unknown, expired or already bound
    /// (a start URL opened a second time).
    pub async fn bind_oauth_state<T: DeserializeOwned>(
        &self,
        state: &str,
        binding_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<T>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::oauth_state_pk(state)))
            .key(keys::SK, s(keys::META))
            .update_expression("SET #binding = :binding")
            .condition_expression(
                "attribute_exists(pk) AND #ttl > :now AND attribute_not_exists(#binding)",
            )
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_names("#binding", BINDING)
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":binding", s(binding_hash))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match conditional("UpdateItem", result)? {
            Ok(out) => out
                .attributes
                .map(|item| from_item::<ExpiringItem<T>>(item).map(|i| i.payload))
                .transpose(),
            Err(_) => Ok(None),
        }
    }

    /// Consumes a pending OAuth state exactly once: a conditional delete that only succeeds while
    /// the state exists, has not expired and, when `binding_hash` is given, is bound to that
    /// browser. `None` means unknown, expired, already used or bound to another browser.
    pub async fn take_oauth_state<T: DeserializeOwned>(
        &self,
        state: &str,
        binding_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<T>, StoreError> {
        let mut delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::oauth_state_pk(state)))
            .key(keys::SK, s(keys::META))
            .condition_expression("attribute_exists(pk) AND #ttl > :now")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":now", n(now.timestamp()))
            .return_values(ReturnValue::AllOld);
        if let Some(hash) = binding_hash {
            delete = delete
                .condition_expression(
                    "attribute_exists(pk) AND #ttl > :now AND #binding = :binding",
                )
                .expression_attribute_names("#binding", BINDING)
                .expression_attribute_values(":binding", s(hash));
        }
        match conditional("DeleteItem", delete.send().await)? {
            Ok(out) => out
                .attributes
                .map(|item| from_item::<ExpiringItem<T>>(item).map(|i| i.payload))
                .transpose(),
            Err(_) => Ok(None),
        }
    }

    /// Deletes a pending OAuth state whatever its condition: a state presented by the wrong
    /// browser is spent, so its code cannot be replayed later from the right one.
    pub async fn burn_oauth_state(&self, state: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::oauth_state_pk(state)))
            .key(keys::SK, s(keys::META))
            .send()
            .await
            .map_err(dynamo("DeleteItem"))?;
        Ok(())
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
