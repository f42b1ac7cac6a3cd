//! The OAuth flow's records: pending states (`OAUTH#{sha256(state)}` / `META`, consumed exactly
//! once, expiring) and a tenant's admin consent (`TENANT#{tenant}` / `CONSENT`, with its
//! [`ConsentStatus`]).

use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::conditions::conditional;
use super::{dynamo, from_item, keys, n, s, to_item, Store, StoreError};

/// How much the connector knows about a tenant's admin consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// An admin-consent redirect came back for the tenant and Microsoft then issued the app a
    /// token in that tenant: the app is installed there (`confirmed_at` says when). Not proof
    /// of the administrator's grant itself: any user's consent installs the app too.
    Granted,
    /// An admin-consent redirect came back, but the identity platform could not be asked to
    /// confirm it (it was unavailable): recorded on Microsoft's unsigned redirect alone.
    Claimed,
}

impl ConsentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Claimed => "claimed",
        }
    }
}

/// Items written before the status existed were recorded on the redirect alone.
fn unconfirmed() -> ConsentStatus {
    ConsentStatus::Claimed
}

/// A tenant's admin consent as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantConsent {
    pub tenant_id: String,
    #[serde(default = "unconfirmed")]
    pub status: ConsentStatus,
    /// The scopes Microsoft's redirect listed (unsigned, like the rest of the redirect).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When the redirect was recorded.
    #[serde(alias = "granted_at")]
    pub recorded_at: DateTime<Utc>,
    /// When Microsoft issued the app a token in the tenant ([`ConsentStatus::Granted`] only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
struct TenantConsentItem<'a> {
    pk: String,
    sk: &'static str,
    entity: &'static str,
    #[serde(flatten)]
    consent: &'a TenantConsent,
}

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
        self.put_new(item, "OAuth state exists").await
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

    /// Records a tenant's admin consent and answers the status the tenant now has.
    ///
    /// [`ConsentStatus::Granted`] always replaces what was there. [`ConsentStatus::Claimed`]
    /// never replaces a confirmed consent (a later unconfirmable redirect does not undo an
    /// earlier confirmation): the write is conditional, and when it loses the answer is
    /// `Granted`.
    pub async fn put_tenant_consent(
        &self,
        consent: &TenantConsent,
    ) -> Result<ConsentStatus, StoreError> {
        let item = to_item(&TenantConsentItem {
            pk: keys::tenant_pk(&consent.tenant_id),
            sk: keys::CONSENT,
            entity: "tenant_consent",
            consent,
        })?;
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        match consent.status {
            ConsentStatus::Granted => {
                request.send().await.map_err(dynamo("PutItem"))?;
                Ok(ConsentStatus::Granted)
            }
            ConsentStatus::Claimed => {
                let result = request
                    .condition_expression(
                        "attribute_not_exists(pk) OR attribute_not_exists(#status) OR #status <> :granted",
                    )
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":granted", s(ConsentStatus::Granted.as_str()))
                    .send()
                    .await;
                Ok(match conditional("PutItem", result)? {
                    Ok(_) => ConsentStatus::Claimed,
                    Err(_) => ConsentStatus::Granted,
                })
            }
        }
    }

    /// The tenant's admin consent, if one was recorded.
    pub async fn tenant_consent(
        &self,
        tenant_id: &str,
    ) -> Result<Option<TenantConsent>, StoreError> {
        self.get_item(keys::tenant_pk(tenant_id), keys::CONSENT, true)
            .await?
            .map(from_item)
            .transpose()
    }
}
