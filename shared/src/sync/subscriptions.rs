//! A mailbox's Graph subscriptions: created for each synced folder (longest lifetime Graph
//! allows, fresh clientState whose hash alone is stored), renewed, recreated when Graph lost them.

use super::*;
use crate::store::calendar::CALENDAR;

/// The Graph resource a synced resource's subscription watches: a mail folder's messages, or
/// the mailbox's events (`me/events`: the organiser's events and the invitations alike).
pub(super) fn subscription_resource(folder: &str) -> String {
    if folder == CALENDAR {
        "me/events".to_owned()
    } else {
        format!("me/mailFolders('{folder}')/messages")
    }
}

impl Mailbox<'_> {
    /// What this mailbox syncs: the mail folders, and the calendar when the connection has the
    /// calendar capability.
    pub(super) fn synced_resources(&self) -> Vec<&'static str> {
        let mut all: Vec<&'static str> = Folder::ALL.map(Folder::as_str).to_vec();
        if self.syncs_calendar() {
            all.push(CALENDAR);
        }
        all
    }

    /// Creates the missing folder subscriptions; with `renew_existing`, also renews the others
    /// (a reconnect may follow a long pause). Returns whether any was created.
    pub(super) async fn ensure_subscriptions(
        &self,
        renew_existing: bool,
    ) -> Result<bool, SyncError> {
        let existing = self
            .c
            .store
            .connection_subscriptions(&self.connection.id)
            .await?;
        let mut created = false;
        for folder in self.synced_resources() {
            match existing.iter().find(|r| r.folder == folder) {
                Some(r) if renew_existing => created |= self.renew_record(r).await?,
                Some(_) => {}
                None => {
                    self.create_subscription(folder).await?;
                    created = true;
                }
            }
        }
        Ok(created)
    }

    pub(super) async fn create_subscription(
        &self,
        folder: &str,
    ) -> Result<SubscriptionRecord, SyncError> {
        let (notification_url, lifecycle_url) = self
            .c
            .config
            .graph_webhook_urls()
            .map_err(SyncError::Config)?;
        let client_state = SecretString::from(random_token(32));
        let resource = subscription_resource(folder);
        let mut new = NewSubscription {
            resource: &resource,
            notification_url: notification_url.as_str(),
            lifecycle_url: lifecycle_url.as_str(),
            client_state: &client_state,
            expires_at: Utc::now() + MAX_LIFETIME,
        };
        let sub = match self
            .graph(|| self.c.graph.create_subscription(&self.token, &new))
            .await
        {
            Err(e) if is_expiry_too_long(&e) => {
                tracing::info!(
                    folder,
                    "Graph refused the longest lifetime; asking for the older limit"
                );
                new.expires_at = Utc::now() + LEGACY_MAX_LIFETIME;
                self.graph(|| self.c.graph.create_subscription(&self.token, &new))
                    .await
            }
            other => other,
        }
        .map_err(SyncError::Graph)?;
        let record = SubscriptionRecord {
            id: sub.id,
            connection_id: self.connection.id.clone(),
            tenant_id: self.connection.tenant_id.clone(),
            folder: folder.to_owned(),
            resource,
            client_state_hash: client_state_hash(secrecy::ExposeSecret::expose_secret(
                &client_state,
            )),
            expires_at: sub.expiration_date_time,
        };
        self.c.store.put_subscription(&record).await?;
        tracing::info!(subscription_id = %record.id, folder, expires_at = %record.expires_at, "subscribed");
        Ok(record)
    }

    /// Renews a subscription by id. Returns true when it had to be recreated (so the caller
    /// catches up on whatever happened while it was gone).
    pub(super) async fn renew(&self, subscription_id: &str) -> Result<bool, SyncError> {
        let found = self.c.store.get_subscriptions(&[subscription_id]).await?;
        match found.get(subscription_id) {
            Some(r) if r.connection_id == self.connection.id => self.renew_record(r).await,
            // Already replaced (or never ours): make sure every folder is covered.
            _ => self.ensure_subscriptions(false).await,
        }
    }

    pub(super) async fn renew_record(&self, r: &SubscriptionRecord) -> Result<bool, SyncError> {
        let renewed = match crate::graph::graph_id(&r.id) {
            Ok(subscription) => {
                let subscription = &subscription;
                let renew = |lifetime: chrono::Duration| {
                    let expires_at = Utc::now() + lifetime;
                    self.graph(move || {
                        self.c
                            .graph
                            .renew_subscription(&self.token, subscription, expires_at)
                    })
                };
                match renew(MAX_LIFETIME).await {
                    Err(e) if is_expiry_too_long(&e) => renew(LEGACY_MAX_LIFETIME).await,
                    other => other,
                }
            }
            Err(e) => Err(e),
        };
        match renewed {
            Ok(sub) => {
                let mut renewed = r.clone();
                renewed.expires_at = sub.expiration_date_time;
                if renewed.tenant_id.is_empty() {
                    renewed.tenant_id = self.connection.tenant_id.clone();
                }
                self.c.store.put_subscription(&renewed).await?;
                tracing::info!(subscription_id = %r.id, expires_at = %renewed.expires_at, "renewed");
                Ok(false)
            }
            // Gone, or a stored id no Graph subscription can have: make a new one.
            Err(GraphError::Api { status: 404, .. } | GraphError::InvalidId(_)) => {
                tracing::info!(subscription_id = %r.id, folder = %r.folder, "subscription gone; recreating");
                self.c.store.delete_subscription(&r.id).await?;
                self.create_subscription(&r.folder).await?;
                Ok(true)
            }
            Err(e) => Err(SyncError::Graph(e)),
        }
    }
}
