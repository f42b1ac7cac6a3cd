//! Graph change-notification subscriptions: create, renew (PATCH), reauthorize. Delete lives in
//! the module root because disconnecting needs it too.
//!
//! Outlook message subscriptions without resource data live up to 10,080 minutes
//! (change-notifications-subscription-lifetime.md); Graph rejects a longer expiry with a 400
//! `ExtensionError` rather than capping it. We ask for [`MAX_LIFETIME`] (a minute of clock skew
//! under the limit), fall back to [`LEGACY_MAX_LIFETIME`] where Graph still enforces the older
//! limit, and trust the `expirationDateTime` Graph answers with.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::messages::IMMUTABLE_ID;
use super::{GraphClient, GraphError};
use crate::domain::GraphId;

/// The longest lifetime Graph documents for Outlook message subscriptions without resource data
/// (10,080 minutes), less a minute so a clock slightly ahead of Graph's is not refused.
pub const MAX_LIFETIME: chrono::Duration = chrono::Duration::minutes(10_080 - 1);
/// The limit older documentation (and a service not yet on the new one) enforces: 4,230 minutes.
pub const LEGACY_MAX_LIFETIME: chrono::Duration = chrono::Duration::minutes(4_230 - 1);

/// Whether Graph refused a subscription's expiry as too far in the future (400
/// `ExtensionError` "Subscription expiration can only be N minutes in the future").
pub fn is_expiry_too_long(e: &GraphError) -> bool {
    matches!(e, GraphError::Api { status: 400, code, .. } if code.eq_ignore_ascii_case("ExtensionError"))
}

/// What a new subscription watches and where Graph should deliver.
pub struct NewSubscription<'a> {
    /// Graph resource path, e.g. `me/mailFolders('inbox')/messages`.
    pub resource: &'a str,
    pub notification_url: &'a str,
    pub lifecycle_url: &'a str,
    /// Echoed in every notification; proves it came from Graph. Never logged.
    pub client_state: &'a SecretString,
    pub expires_at: DateTime<Utc>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    change_type: &'static str,
    notification_url: &'a str,
    lifecycle_notification_url: &'a str,
    resource: &'a str,
    expiration_date_time: String,
    client_state: &'a str,
    latest_supported_tls_version: &'static str,
}

/// A subscription as Graph returns it (only what the connector keeps).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    #[serde(default)]
    pub resource: String,
    pub expiration_date_time: DateTime<Utc>,
}

fn graph_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl GraphClient {
    /// `POST /subscriptions` for `created,updated,deleted`. Graph validates both URLs before it
    /// answers, so the webhook function must be reachable.
    pub async fn create_subscription(
        &self,
        token: &SecretString,
        new: &NewSubscription<'_>,
    ) -> Result<Subscription, GraphError> {
        let body = CreateBody {
            change_type: "created,updated,deleted",
            notification_url: new.notification_url,
            lifecycle_notification_url: new.lifecycle_url,
            resource: new.resource,
            expiration_date_time: graph_time(new.expires_at),
            client_state: new.client_state.expose_secret(),
            latest_supported_tls_version: "v1_2",
        };
        let response = self
            .http
            .post(self.url("subscriptions"))
            .bearer_auth(token.expose_secret())
            .header("Prefer", IMMUTABLE_ID)
            .json(&body)
            .send()
            .await
            .map_err(GraphError::transport)?;
        Self::decode(response).await
    }

    /// `PATCH /subscriptions/{id}` with a new expiry (this also reauthorizes it).
    pub async fn renew_subscription(
        &self,
        token: &SecretString,
        id: &GraphId,
        expires_at: DateTime<Utc>,
    ) -> Result<Subscription, GraphError> {
        let response = self
            .http
            .patch(self.url(&format!("subscriptions/{}", id.segment())))
            .bearer_auth(token.expose_secret())
            .json(&serde_json::json!({ "expirationDateTime": graph_time(expires_at) }))
            .send()
            .await
            .map_err(GraphError::transport)?;
        Self::decode(response).await
    }

    /// `POST /subscriptions/{id}/reauthorize`: resumes delivery without extending the expiry.
    pub async fn reauthorize_subscription(
        &self,
        token: &SecretString,
        id: &GraphId,
    ) -> Result<(), GraphError> {
        let response = self
            .http
            .post(self.url(&format!("subscriptions/{}/reauthorize", id.segment())))
            .bearer_auth(token.expose_secret())
            .header(reqwest::header::CONTENT_LENGTH, 0)
            .send()
            .await
            .map_err(GraphError::transport)?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(Self::error(response).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_body_uses_graph_field_names() {
        let body = CreateBody {
            change_type: "created,updated,deleted",
            notification_url: "https://x/n",
            lifecycle_notification_url: "https://x/l",
            resource: "me/mailFolders('inbox')/messages",
            expiration_date_time: graph_time(DateTime::from_timestamp(0, 0).unwrap()),
            client_state: "s",
            latest_supported_tls_version: "v1_2",
        };
        let v = serde_json::to_value(body).unwrap();
        assert_eq!(v["changeType"], "created,updated,deleted");
        assert_eq!(v["lifecycleNotificationUrl"], "https://x/l");
        assert_eq!(v["expirationDateTime"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["clientState"], "s");
    }
}
