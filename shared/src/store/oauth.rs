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
