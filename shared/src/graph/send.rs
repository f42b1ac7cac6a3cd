//! Sending mail as the user: drafts (new, reply, reply-all), attachments (inline or through an
//! upload session), `/send`, and finding a message again by its `internetMessageId`.
//!
//! Every call sends `Prefer: IdType="ImmutableId"`, so a draft keeps its id when `/send` moves it
//! to Sent Items and the id recorded before sending still names the message afterwards.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{GraphClient, GraphError};
use crate::domain::GraphId;

const PREFER_IMMUTABLE: &str = "IdType=\"ImmutableId\"";

/// `{"emailAddress": {"address", "name"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub email_address: Address,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Body {
    /// `text` or `html`.
    pub content_type: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A `fileAttachment` sent in one request (under 3 MB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileAttachment {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub name: String,
    pub content_type: String,
    /// Base64 of the bytes.
    pub content_bytes: String,
}

impl FileAttachment {
    pub fn new(name: String, content_type: String, content_base64: String) -> Self {
        Self {
            odata_type: "#microsoft.graph.fileAttachment",
            name,
            content_type,
            content_bytes: content_base64,
        }
    }
}

/// `singleValueExtendedProperties` entry; used for PR_DELETE_AFTER_SUBMIT (`Boolean 0x0E01`),
/// which keeps a sent draft out of Sent Items (draft + `/send` has no `saveToSentItems`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtendedProperty {
    pub id: &'static str,
    pub value: &'static str,
}

pub const DELETE_AFTER_SUBMIT: ExtendedProperty = ExtendedProperty {
    id: "Boolean 0x0E01",
    value: "true",
};

/// The writable message properties of a new draft (or of a reply draft's `message`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DraftMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to_recipients: Vec<Recipient>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cc_recipients: Vec<Recipient>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bcc_recipients: Vec<Recipient>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reply_to: Vec<Recipient>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub internet_message_headers: Vec<Header>,
    /// Set by the connector (settable while the message is a draft), so the message can be
    /// found again in Drafts or Sent Items whatever happened to the request that made it.
    pub internet_message_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<FileAttachment>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub single_value_extended_properties: Vec<ExtendedProperty>,
}

/// What the connector keeps of a message it created or found.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRef {
    pub id: String,
    #[serde(default)]
    pub internet_message_id: Option<String>,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub is_draft: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadSessionBody {
    upload_url: String,
}

#[derive(Deserialize)]
struct List<T> {
    value: Vec<T>,
}

/// The folders a sent message can be looked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    Drafts,
    SentItems,
}

impl Folder {
    fn well_known(self) -> &'static str {
        match self {
            Self::Drafts => "drafts",
            Self::SentItems => "sentitems",
        }
    }
}

const REF_FIELDS: &str = "id,internetMessageId,conversationId,isDraft";

impl GraphClient {
    fn post_json(
        &self,
        token: &SecretString,
        path: &str,
        body: &impl Serialize,
    ) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .bearer_auth(token.expose_secret())
            .header("Prefer", PREFER_IMMUTABLE)
            .json(body)
    }

    /// `POST /me/messages`: a new draft in Drafts.
    pub async fn create_draft(
        &self,
        token: &SecretString,
        message: &DraftMessage,
    ) -> Result<MessageRef, GraphError> {
        let response = self
            .post_json(token, "me/messages", message)
            .send()
            .await
            .map_err(GraphError::transport)?;
        Self::decode(response).await
    }

    /// `POST /me/messages/{id}/createReply` (or `createReplyAll`): a reply draft in the thread.
    pub async fn create_reply(
        &self,
        token: &SecretString,
        message_id: &GraphId,
        reply_all: bool,
        message: &DraftMessage,
    ) -> Result<MessageRef, GraphError> {
        let action = if reply_all {
            "createReplyAll"
        } else {
            "createReply"
        };
        let response = self
            .post_json(
                token,
                &format!("me/messages/{}/{action}", message_id.segment()),
                &serde_json::json!({ "message": message }),
            )
            .send()
            .await
            .map_err(GraphError::transport)?;
        Self::decode(response).await
    }

    /// `POST /me/messages/{id}/attachments` with one file under 3 MB.
    pub async fn add_attachment(
        &self,
        token: &SecretString,
        draft_id: &GraphId,
        attachment: &FileAttachment,
    ) -> Result<(), GraphError> {
        let response = self
            .post_json(
                token,
                &format!("me/messages/{}/attachments", draft_id.segment()),
                attachment,
            )
            .send()
            .await
            .map_err(GraphError::transport)?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(Self::error(response).await)
    }

    /// How many attachments a draft has (to resume attaching after a crash).
    pub async fn attachment_count(
        &self,
        token: &SecretString,
        draft_id: &GraphId,
    ) -> Result<usize, GraphError> {
        #[derive(Deserialize)]
        struct Id {
            #[allow(dead_code)]
            id: String,
        }
        let response = self
            .http
            .get(self.url(&format!(
                "me/messages/{}/attachments?$select=id,name,size",
                draft_id.segment()
            )))
            .bearer_auth(token.expose_secret())
            .header("Prefer", PREFER_IMMUTABLE)
            .send()
            .await
            .map_err(GraphError::transport)?;
        Ok(Self::decode::<List<Id>>(response).await?.value.len())
    }

    /// `POST /me/messages/{id}/attachments/createUploadSession`; returns the pre-authenticated
    /// upload URL.
    pub async fn create_upload_session(
        &self,
        token: &SecretString,
        draft_id: &GraphId,
        name: &str,
        content_type: &str,
        size: u64,
    ) -> Result<String, GraphError> {
        let body = serde_json::json!({"AttachmentItem": {
            "attachmentType": "file", "name": name, "contentType": content_type, "size": size,
        }});
        let response = self
            .post_json(
                token,
                &format!(
                    "me/messages/{}/attachments/createUploadSession",
                    draft_id.segment()
                ),
                &body,
            )
            .send()
            .await
            .map_err(GraphError::transport)?;
        Ok(Self::decode::<UploadSessionBody>(response)
            .await?
            .upload_url)
    }

    /// One `PUT` of bytes `start..start+len` of `total` to an upload session. The URL is
    /// pre-authenticated: sending the bearer token there would be both wrong and a leak.
    pub async fn upload_range(
        &self,
        upload_url: &str,
        start: u64,
        total: u64,
        bytes: bytes::Bytes,
    ) -> Result<(), GraphError> {
        let len = bytes.len() as u64;
        let response = self
            .http
            .put(upload_url)
            .header(
                "Content-Range",
                format!("bytes {start}-{}/{total}", start + len - 1),
            )
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", len)
            .body(bytes)
            .send()
            .await
            .map_err(GraphError::transport)?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(Self::error(response).await)
    }

    /// `POST /me/messages/{id}/send` (202, no body).
    pub async fn send_draft(
        &self,
        token: &SecretString,
        draft_id: &GraphId,
    ) -> Result<(), GraphError> {
        let response = self
            .http
            .post(self.url(&format!("me/messages/{}/send", draft_id.segment())))
            .bearer_auth(token.expose_secret())
            .header("Prefer", PREFER_IMMUTABLE)
            .header("Content-Length", "0")
            .send()
            .await
            .map_err(GraphError::transport)?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(Self::error(response).await)
    }

    /// The message in `folder` whose `internetMessageId` is `internet_message_id`, if any.
    pub async fn find_by_internet_message_id(
        &self,
        token: &SecretString,
        folder: Folder,
        internet_message_id: &str,
    ) -> Result<Option<MessageRef>, GraphError> {
        let filter = format!(
            "internetMessageId eq '{}'",
            internet_message_id.replace('\'', "''")
        );
        let url = reqwest::Url::parse_with_params(
            &self.url(&format!("me/mailFolders/{}/messages", folder.well_known())),
            &[("$filter", filter.as_str()), ("$select", REF_FIELDS)],
        )
        .map_err(|_| GraphError::Api {
            status: 0,
            code: "invalid_url".into(),
            retry_after: None,
        })?;
        let response = self
            .http
            .get(url)
            .bearer_auth(token.expose_secret())
            .header("Prefer", PREFER_IMMUTABLE)
            .send()
            .await
            .map_err(GraphError::transport)?;
        let list: List<MessageRef> = Self::decode(response).await?;
        // Never trust that the filter was applied: match the id ourselves.
        Ok(list
            .value
            .into_iter()
            .find(|m| m.internet_message_id.as_deref() == Some(internet_message_id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_serialises_with_graph_names_and_omits_empty_lists() {
        let draft = DraftMessage {
            subject: Some("Hi".into()),
            to_recipients: vec![Recipient {
                email_address: Address {
                    address: "bob@contoso.example".into(),
                    name: None,
                },
            }],
            internet_message_id: "<x@y>".into(),
            single_value_extended_properties: vec![DELETE_AFTER_SUBMIT],
            ..Default::default()
        };
        let v = serde_json::to_value(&draft).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "subject": "Hi",
                "toRecipients": [{"emailAddress": {"address": "bob@contoso.example"}}],
                "internetMessageId": "<x@y>",
                "singleValueExtendedProperties": [{"id": "Boolean 0x0E01", "value": "true"}],
            })
        );
    }

    /// Every message of an error and of its causes, `Display` and `Debug`.
    fn whole_chain(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = format!("{e} {e:?}");
        let mut source = e.source();
        while let Some(s) = source {
            out.push_str(&format!(" | {s} {s:?}"));
            source = s.source();
        }
        out
    }

    #[tokio::test]
    async fn an_upload_session_url_never_reaches_the_error_of_a_failed_upload() {
        // A port nothing listens on: the PUT fails in transport, as a reset or timeout would.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let upload_url =
            format!("http://127.0.0.1:{port}/_upload/tempauth=secret-upload-token-4711");
        let graph = GraphClient::new(
            reqwest::Client::new(),
            url::Url::parse(&format!("http://127.0.0.1:{port}/v1.0")).unwrap(),
        );

        let error = graph
            .upload_range(&upload_url, 0, 4, bytes::Bytes::from_static(b"data"))
            .await
            .unwrap_err();

        let chain = whole_chain(&error);
        assert!(matches!(error, GraphError::Transport(_)), "{chain}");
        assert!(!chain.contains("secret-upload-token"), "{chain}");
        assert!(!chain.contains("/_upload/"), "{chain}");
    }
}
