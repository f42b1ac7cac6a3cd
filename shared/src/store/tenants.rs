//! A tenant's access policy (`TENANT#{tenant}` / `POLICY`), beside its admin consent in the same
//! partition. One small item per tenant that has ever had a level set; a tenant without one is at
//! the default level. Changes are conditional on the version read, so two administrators changing
//! one tenant at once cannot lose a change or its event.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::conditions::conditional;
use super::{from_item, keys, n, s, to_item, Store, StoreError};
use crate::domain::TenantAccess;

/// A tenant's stored policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantPolicyRecord {
    pub tenant_id: String,
    pub access: TenantAccess,
    /// The level before the change that wrote this record: the event's old level.
    pub previous: TenantAccess,
    /// 1 for the first record of a tenant, one more for every change.
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    /// Whether `tenant.policy_changed` for this version was published. Written `false` with the
    /// change and set once the event is out, so a repeated request announces a change whose
    /// first request failed before announcing it.
    pub announced: bool,
}

#[derive(Serialize, Deserialize)]
struct PolicyItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    record: TenantPolicyRecord,
}

impl Store {
    /// A tenant's policy, read consistently: a send checked after a change must see it.
    pub async fn tenant_policy(
        &self,
        tenant_id: &str,
    ) -> Result<Option<TenantPolicyRecord>, StoreError> {
        let item = self
            .get_item(keys::tenant_pk(tenant_id), keys::POLICY, true)
            .await?;
        item.map(|i| from_item::<PolicyItem>(i).map(|p| p.record))
            .transpose()
    }

    /// The levels of several tenants in one BatchGetItem per 100 (eventually consistent: for
    /// listings). Tenants without a policy are absent from the answer.
    pub async fn tenant_accesses(
        &self,
        tenant_ids: &[&str],
    ) -> Result<HashMap<String, TenantAccess>, StoreError> {
        let wanted = tenant_ids
            .iter()
            .map(|t| {
                HashMap::from([
                    (keys::PK.to_owned(), s(keys::tenant_pk(t))),
                    (keys::SK.to_owned(), s(keys::POLICY)),
                ])
            })
            .collect();
        self.batch_get(wanted)
            .await?
            .into_iter()
            .map(|item| {
                from_item::<PolicyItem>(item).map(|p| (p.record.tenant_id, p.record.access))
            })
            .collect()
    }

    /// Writes a tenant's policy if it is still at version `replaces` (`None`: the tenant has no
    /// policy yet). Someone else's change in between is a [`StoreError::Conflict`].
    pub async fn put_tenant_policy(
        &self,
        record: &TenantPolicyRecord,
        replaces: Option<u64>,
    ) -> Result<(), StoreError> {
        let item = to_item(&PolicyItem {
            pk: keys::tenant_pk(&record.tenant_id),
            sk: keys::POLICY.into(),
            entity: "tenant_policy".into(),
            record: record.clone(),
        })?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let put = match replaces {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(version) => put
                .condition_expression("version = :version")
                .expression_attribute_values(":version", n(version)),
        };
        conditional("PutItem", put.send().await)?
            .map(drop)
            .map_err(|_| StoreError::Conflict("the tenant's policy changed since it was read"))
    }

    /// Records that version `version`'s change was announced. Nothing happens when a newer change
    /// replaced it meanwhile: that one announces itself.
    pub async fn mark_tenant_policy_announced(
        &self,
        tenant_id: &str,
        version: u64,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::tenant_pk(tenant_id)))
            .key(keys::SK, s(keys::POLICY))
            .update_expression("SET announced = :yes")
            .condition_expression("version = :version")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":version", n(version))
            .send()
            .await;
        if conditional("UpdateItem", result)?.is_err() {
            tracing::debug!(
                tenant = tenant_id,
                version,
                "a newer policy change replaced this one"
            );
        }
        Ok(())
    }
}
