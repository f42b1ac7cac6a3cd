//! Mail messages: the delta query per folder (the source of truth for sync) and one message with
//! its body (read live, never stored).
//!
//! Every call sends `Prefer: IdType="ImmutableId"` so a message keeps its id when it moves between
//! folders (a draft being sent, a user filing mail), which keeps stored ids and event ids stable.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{GraphClient, GraphError};
use crate::domain::{Folder, GraphId};

/// The `Prefer` value that makes Graph answer with immutable ids.
pub const IMMUTABLE_ID: &str = "IdType=\"ImmutableId\"";

/// Only the fields the connector stores; Graph sends less over the wire and the delta token
/// remembers the selection for the whole round.
pub const MESSAGE_FIELDS: &str = "id,subject,from,toRecipients,ccRecipients,sentDateTime,\
receivedDateTime,conversationId,internetMessageId,bodyPreview,hasAttachments,isRead,webLink,changeKey";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub email_address: EmailAddress,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    pub content_type: String,
    pub content: String,
}

/// A message as Graph returns it with [`MESSAGE_FIELDS`] selected (plus `body` when asked for).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphMessage {
    pub id: String,
    #[serde(rename = "@odata.etag", default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub change_key: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub from: Option<Recipient>,
    #[serde(default)]
    pub to_recipients: Option<Vec<Recipient>>,
    #[serde(default)]
    pub cc_recipients: Option<Vec<Recipient>>,
    #[serde(default)]
    pub sent_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub received_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub internet_message_id: Option<String>,
    #[serde(default)]
    pub body_preview: Option<String>,
    #[serde(default)]
    pub has_attachments: Option<bool>,
    #[serde(default)]
    pub is_read: Option<bool>,
    #[serde(default)]
    pub web_link: Option<String>,
    #[serde(default)]
    pub body: Option<ItemBody>,
}

impl GraphMessage {
    /// The version marker: `@odata.etag`, else `changeKey` (both change on every edit).
    pub fn version(&self) -> String {
        self.etag
            .clone()
            .or_else(|| self.change_key.clone())
            .unwrap_or_default()
    }
}

/// One entry of a delta page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaChange {
    /// The message's current state (new or changed).
    Upsert(Box<GraphMessage>),
    /// The message left the folder (deleted or moved away).
    Removed { id: String },
}

/// Where a delta round goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaNext {
    /// More pages in this round: fetch this link verbatim.
    NextLink(String),
    /// The round is done: this link starts the next round.
    DeltaLink(String),
}

impl DeltaNext {
    pub fn link(&self) -> &str {
        match self {
            Self::NextLink(l) | Self::DeltaLink(l) => l,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaPage {
    pub changes: Vec<DeltaChange>,
    pub next: DeltaNext,
}

#[derive(Debug, thiserror::Error)]
pub enum DeltaError {
    /// The delta or skip token is no longer valid: the folder must be synced from scratch.
    #[error("the delta token expired; the folder must be resynced")]
    SyncStateLost(#[source] GraphError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("the delta page has neither a nextLink nor a deltaLink")]
    NoLink,
}

#[derive(Deserialize)]
pub(crate) struct RawPage {
    #[serde(default)]
    pub(crate) value: Vec<serde_json::Value>,
    #[serde(rename = "@odata.nextLink", default)]
    pub(crate) next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink", default)]
    pub(crate) delta_link: Option<String>,
}

/// Whether a Graph error means the delta state is gone (documented as 410 with
/// `syncStateNotFound`, also seen as `resyncRequired`).
pub fn is_sync_state_lost(e: &GraphError) -> bool {
    match e {
        GraphError::Api { status, code, .. } => {
            *status == 410
                || code.eq_ignore_ascii_case("syncStateNotFound")
                || code.eq_ignore_ascii_case("resyncRequired")
                || code.eq_ignore_ascii_case("SyncStateInvalid")
        }
        _ => false,
    }
}

fn parse_page(raw: RawPage) -> Result<DeltaPage, DeltaError> {
    let next = match (raw.next_link, raw.delta_link) {
        (Some(next), _) => DeltaNext::NextLink(next),
        (None, Some(delta)) => DeltaNext::DeltaLink(delta),
        (None, None) => return Err(DeltaError::NoLink),
    };
    let mut changes = Vec::with_capacity(raw.value.len());
    for item in raw.value {
        if item.get("@removed").is_some() {
            if let Some(id) = item.get("id").and_then(|v| v.as_str()) {
                changes.push(DeltaChange::Removed { id: id.to_owned() });
            }
            continue;
        }
        match serde_json::from_value::<GraphMessage>(item) {
            Ok(m) => changes.push(DeltaChange::Upsert(Box::new(m))),
            // One odd item (e.g. a non-message in the folder) must not stall the mailbox.
            Err(e) => tracing::warn!(error = %e, "skipping a delta item that is not a message"),
        }
    }
    Ok(DeltaPage { changes, next })
}

impl GraphClient {
    /// The first link of a fresh delta round over `folder` (its well-known name).
    /// With `received_since`, the round (and every later one: Graph keeps the filter in its
    /// tokens) covers only messages received at or after it: `$filter=receivedDateTime ge {t}`,
    /// the one filter message delta supports.
    pub fn initial_delta_link(folder: Folder, received_since: Option<DateTime<Utc>>) -> String {
        let mut link = format!(
            "me/mailFolders/{}/messages/delta?$select={MESSAGE_FIELDS}",
            folder.as_str()
        );
        if let Some(t) = received_since {
            link.push_str(&format!(
                "&$filter=receivedDateTime%20ge%20{}",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        link
    }

    /// A GET with immutable ids (`Prefer: IdType="ImmutableId"`), answered as it came.
    async fn get_immutable(
        &self,
        token: &SecretString,
        path: &str,
    ) -> Result<reqwest::Response, GraphError> {
        self.http
            .get(self.url(path))
            .bearer_auth(token.expose_secret())
            .header("Prefer", IMMUTABLE_ID)
            .send()
            .await
            .map_err(GraphError::transport)
    }

    /// `GET /me/mailFolders/{folder}?$select=id`: the folder's id (what `parentFolderId` holds).
    pub async fn folder_id(
        &self,
        token: &SecretString,
        folder: Folder,
    ) -> Result<String, GraphError> {
        #[derive(Deserialize)]
        struct Folder {
            id: String,
        }
        let response = self
            .get_immutable(
                token,
                &format!("me/mailFolders/{}?$select=id", folder.as_str()),
            )
            .await?;
        Ok(Self::decode::<Folder>(response).await?.id)
    }

    /// `GET /me/messages/{id}` with the stored fields and `parentFolderId`: where a message is
    /// now, or `None` when it no longer exists.
    pub async fn locate_message(
        &self,
        token: &SecretString,
        id: &GraphId,
    ) -> Result<Option<(GraphMessage, String)>, GraphError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Located {
            #[serde(flatten)]
            message: GraphMessage,
            #[serde(default)]
            parent_folder_id: String,
        }
        let response = self
            .get_immutable(
                token,
                &format!(
                    "me/messages/{}?$select={MESSAGE_FIELDS},parentFolderId",
                    id.segment()
                ),
            )
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let located: Located = Self::decode(response).await?;
        Ok(Some((located.message, located.parent_folder_id)))
    }

    /// Fetches one delta page. `link` is [`Self::initial_delta_link`] or a nextLink/deltaLink
    /// exactly as Graph returned it, and is only requested on the base URL's origin; the page's
    /// own link is checked the same way before it is handed back, so a link to another host is
    /// neither followed nor saved as a cursor ([`GraphError::ForeignLink`]).
    pub async fn delta_page(
        &self,
        token: &SecretString,
        link: &str,
        page_size: u16,
    ) -> Result<DeltaPage, DeltaError> {
        let url = self.follow(link)?;
        let response = self
            .http
            .get(url)
            .bearer_auth(token.expose_secret())
            .header("Prefer", format!("odata.maxpagesize={page_size}"))
            .header("Prefer", IMMUTABLE_ID)
            .send()
            .await
            .map_err(GraphError::transport)?;
        if !response.status().is_success() {
            let e = Self::error(response).await;
            return Err(if is_sync_state_lost(&e) {
                DeltaError::SyncStateLost(e)
            } else {
                DeltaError::Graph(e)
            });
        }
        let raw: RawPage = response.json().await.map_err(GraphError::decode)?;
        let page = parse_page(raw)?;
        self.follow(page.next.link())?;
        Ok(page)
    }

    /// `GET /me/messages/{id}` with the stored fields and the body.
    pub async fn get_message(
        &self,
        token: &SecretString,
        id: &GraphId,
    ) -> Result<GraphMessage, GraphError> {
        let response = self
            .http
            .get(self.url(&format!(
                "me/messages/{}?$select={MESSAGE_FIELDS},body",
                id.segment()
            )))
            .bearer_auth(token.expose_secret())
            .header("Prefer", IMMUTABLE_ID)
            .send()
            .await
            .map_err(GraphError::transport)?;
        Self::decode(response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(v: serde_json::Value) -> Result<DeltaPage, DeltaError> {
        parse_page(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn a_page_separates_upserts_from_removals_and_keeps_the_next_link_verbatim() {
        let p = page(json!({
            "value": [
                {"@odata.etag": "W/\"1\"", "id": "m1", "subject": "Hi",
                 "from": {"emailAddress": {"name": "X", "address": "x@ext.example"}},
                 "toRecipients": [{"emailAddress": {"address": "alice@contoso.example"}}],
                 "receivedDateTime": "2026-01-02T03:04:05Z", "isRead": false},
                {"@odata.type": "#microsoft.graph.message", "id": "m2", "@removed": {"reason": "deleted"}}
            ],
            "@odata.nextLink": "https://graph/x?$skiptoken=a%2Bb"
        }))
        .unwrap();
        assert_eq!(
            p.next,
            DeltaNext::NextLink("https://graph/x?$skiptoken=a%2Bb".into())
        );
        let DeltaChange::Upsert(m) = &p.changes[0] else {
            panic!("upsert")
        };
        assert_eq!(m.version(), "W/\"1\"");
        assert_eq!(
            m.from.as_ref().unwrap().email_address.address.as_deref(),
            Some("x@ext.example")
        );
        assert_eq!(p.changes[1], DeltaChange::Removed { id: "m2".into() });
    }

    #[test]
    fn the_last_page_carries_the_delta_link_and_a_page_without_links_is_an_error() {
        let p =
            page(json!({"value": [], "@odata.deltaLink": "https://g/d?$deltatoken=t"})).unwrap();
        assert_eq!(
            p.next,
            DeltaNext::DeltaLink("https://g/d?$deltatoken=t".into())
        );
        assert!(matches!(
            page(json!({"value": []})),
            Err(DeltaError::NoLink)
        ));
    }

    #[test]
    fn expired_sync_state_is_recognised_by_status_or_code() {
        let api = |status, code: &str| GraphError::Api {
            status,
            code: code.into(),
            retry_after: None,
        };
        assert!(is_sync_state_lost(&api(410, "syncStateNotFound")));
        assert!(is_sync_state_lost(&api(400, "resyncRequired")));
        assert!(!is_sync_state_lost(&api(429, "TooManyRequests")));
    }

    #[test]
    fn the_initial_link_selects_only_stored_fields() {
        let link = GraphClient::initial_delta_link(Folder::SentItems, None);
        assert!(link.starts_with("me/mailFolders/sentitems/messages/delta?$select=id,"));
        assert!(!link.contains("body,"));
        assert!(!link.contains("$filter"));
    }

    #[test]
    fn the_initial_link_can_ask_only_for_mail_received_since_the_look_back() {
        let t = DateTime::parse_from_rfc3339("2025-11-30T01:02:03.456Z")
            .unwrap()
            .with_timezone(&Utc);
        let link = GraphClient::initial_delta_link(Folder::Inbox, Some(t));
        assert!(
            link.ends_with("&$filter=receivedDateTime%20ge%202025-11-30T01:02:03Z"),
            "{link}"
        );
    }
}
