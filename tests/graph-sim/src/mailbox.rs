//! The mail model: folders, messages, attachments, and the change sequence that delta
//! queries and change notifications read.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// `{"emailAddress":{"name","address"}}` as Graph spells it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recipient {
    #[serde(rename = "emailAddress")]
    pub email_address: EmailAddress,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EmailAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub address: String,
}

impl Recipient {
    pub fn new(address: &str, name: Option<&str>) -> Recipient {
        Recipient {
            email_address: EmailAddress {
                name: Some(name.unwrap_or(address).to_string()),
                address: address.to_string(),
            },
        }
    }
    /// Fill in a missing display name (Graph always returns one).
    pub fn normalised(mut self) -> Recipient {
        if self.email_address.name.is_none() {
            let name = crate::directory::user(&self.email_address.address)
                .map(|u| u.display_name.to_string())
                .unwrap_or_else(|| self.email_address.address.clone());
            self.email_address.name = Some(name);
        }
        self
    }
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
    pub is_inline: bool,
    pub content_id: Option<String>,
    pub modified: DateTime<Utc>,
}

impl Attachment {
    pub fn to_json(&self, with_bytes: bool) -> Value {
        let mut v = json!({
            "@odata.type": "#microsoft.graph.fileAttachment",
            "@odata.mediaContentType": self.content_type,
            "id": self.id,
            "lastModifiedDateTime": ts(self.modified),
            "name": self.name,
            "contentType": self.content_type,
            "size": self.content.len() as i64,
            "isInline": self.is_inline,
            "contentId": self.content_id,
            "contentLocation": null,
        });
        if with_bytes {
            v["contentBytes"] = Value::String(STANDARD.encode(&self.content));
        }
        v
    }
}

#[derive(Debug, Clone)]
pub struct Message {
    /// The default (EWS-style) id; changes when the message moves between folders.
    pub id: String,
    /// The `Prefer: IdType="ImmutableId"` id; stable across moves.
    pub immutable_id: String,
    pub folder_id: String,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub received: DateTime<Utc>,
    pub sent: Option<DateTime<Utc>>,
    pub change_key: String,
    pub internet_message_id: String,
    pub conversation_id: String,
    pub conversation_index: String,
    pub subject: String,
    pub body_type: String,
    pub body: String,
    pub from: Option<Recipient>,
    pub sender: Option<Recipient>,
    pub to: Vec<Recipient>,
    pub cc: Vec<Recipient>,
    pub bcc: Vec<Recipient>,
    pub reply_to: Vec<Recipient>,
    pub is_read: bool,
    pub is_draft: bool,
    pub importance: String,
    pub categories: Vec<String>,
    pub flag_status: String,
    pub headers: Vec<(String, String)>,
    pub attachments: Vec<Attachment>,
    /// `PidTagDeleteAfterSubmit` (`Boolean 0x0E01`) was set: transport deletes the draft once it
    /// is sent instead of filing it in Sent Items.
    pub delete_after_submit: bool,
    /// The mailbox change sequence number of the last change.
    pub seq: u64,
}

/// A message that left a folder (deleted or moved) after sequence `seq`.
#[derive(Debug, Clone)]
pub struct Tombstone {
    pub id: String,
    pub immutable_id: String,
    pub folder_id: String,
    pub seq: u64,
}

#[derive(Debug, Clone)]
pub struct Folder {
    pub id: String,
    pub well_known: &'static str,
    pub display_name: &'static str,
}

/// One user's mailbox.
#[derive(Debug, Clone)]
pub struct Mailbox {
    pub user_id: String,
    pub address: String,
    pub root_id: String,
    pub folders: Vec<Folder>,
    pub messages: Vec<Message>,
    pub tombstones: Vec<Tombstone>,
    pub seq: u64,
    /// Immutable id -> the sequence number a move gave the message, while it is unchanged since.
    pub moved_in: std::collections::HashMap<String, u64>,
    /// Exchange's per-mailbox sending limits and blocks (`PUT /_sim/mailboxes/{address}/sending`).
    pub sending: SendingPolicy,
}

/// Exchange Online's mailbox `MaxSendSize` default: 35 MB (36,700,160 bytes).
pub const DEFAULT_MAX_SEND_SIZE: usize = 35 * 1024 * 1024;
/// The largest `MaxSendSize` an administrator can set: 150 MB.
pub const LARGEST_MAX_SEND_SIZE: usize = 150 * 1024 * 1024;

/// What Exchange lets a mailbox send.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SendingPolicy {
    /// Largest message (body plus attachment bytes) the mailbox may send.
    pub max_send_size: usize,
    /// The mailbox is over its quota: nothing can be saved or sent (`ErrorQuotaExceeded`).
    pub full: bool,
    /// Submission is refused with this code (`ErrorMessageSubmissionBlocked`, `ErrorSendAsDenied`).
    pub send_blocked: Option<String>,
}

impl Default for SendingPolicy {
    fn default() -> Self {
        Self {
            max_send_size: DEFAULT_MAX_SEND_SIZE,
            full: false,
            send_blocked: None,
        }
    }
}

pub const WELL_KNOWN: &[(&str, &str)] = &[
    ("inbox", "Inbox"),
    ("drafts", "Drafts"),
    ("sentitems", "Sent Items"),
    ("deleteditems", "Deleted Items"),
    ("archive", "Archive"),
    ("junkemail", "Junk Email"),
];

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A random Exchange-looking id (`AAMkA...`), URL-safe base64 as Graph's REST ids are.
pub fn new_item_id(prefix: &str) -> String {
    let bytes: [u8; 40] = rand::random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub fn new_change_key() -> String {
    let bytes: [u8; 18] = rand::random();
    STANDARD.encode(bytes)
}

impl Mailbox {
    pub fn new(user_id: &str, address: &str) -> Mailbox {
        Mailbox {
            user_id: user_id.to_string(),
            address: address.to_string(),
            root_id: new_item_id("AAMkAGI2"),
            folders: WELL_KNOWN
                .iter()
                .map(|(wk, name)| Folder {
                    id: new_item_id("AQMkAGI2"),
                    well_known: wk,
                    display_name: name,
                })
                .collect(),
            messages: Vec::new(),
            tombstones: Vec::new(),
            seq: 0,
            moved_in: std::collections::HashMap::new(),
            sending: SendingPolicy::default(),
        }
    }

    /// Resolve a folder id or well-known name (case-insensitive).
    pub fn folder(&self, key: &str) -> Option<&Folder> {
        self.folders
            .iter()
            .find(|f| f.id == key || f.well_known.eq_ignore_ascii_case(key))
    }

    pub fn folder_id(&self, well_known: &str) -> String {
        self.folder(well_known)
            .expect("well-known folder")
            .id
            .clone()
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn find(&self, id: &str) -> Option<usize> {
        self.messages
            .iter()
            .position(|m| m.id == id || m.immutable_id == id)
    }

    pub fn insert(&mut self, mut m: Message) -> usize {
        m.seq = self.next_seq();
        self.messages.push(m);
        self.messages.len() - 1
    }

    /// Mark message `idx` changed (new change key, modified time, sequence).
    pub fn touch(&mut self, idx: usize, now: DateTime<Utc>) {
        let seq = self.next_seq();
        let m = &mut self.messages[idx];
        m.seq = seq;
        m.modified = now;
        m.change_key = new_change_key();
    }

    pub fn remove(&mut self, idx: usize) -> Message {
        let m = self.messages.remove(idx);
        let seq = self.next_seq();
        self.tombstones.push(Tombstone {
            id: m.id.clone(),
            immutable_id: m.immutable_id.clone(),
            folder_id: m.folder_id.clone(),
            seq,
        });
        m
    }

    /// Move message `idx` to `folder_id`: the old folder sees a removal, the message gets a
    /// new default id (its immutable id stays).
    pub fn move_to(&mut self, idx: usize, folder_id: &str, now: DateTime<Utc>) -> usize {
        let mut m = self.remove(idx);
        m.folder_id = folder_id.to_string();
        m.id = new_item_id("AAMkAGI2");
        m.modified = now;
        m.change_key = new_change_key();
        let imm = m.immutable_id.clone();
        let idx = self.insert(m);
        self.moved_in.insert(imm, self.messages[idx].seq);
        idx
    }

    /// Whether message `m` came back into `folder_id` by a move after sequence `since`, having
    /// left that folder after `since` too, and is unchanged since it came back. Exchange's delta
    /// with immutable ids reports such a message as removed from the folder and not again until
    /// it changes (microsoft-graph-docs-contrib#72).
    pub fn moved_away_and_back(&self, m: &Message, folder_id: &str, since: u64) -> bool {
        self.moved_in.get(&m.immutable_id) == Some(&m.seq)
            && self.tombstones.iter().any(|t| {
                t.immutable_id == m.immutable_id && t.folder_id == folder_id && t.seq > since
            })
    }

    pub fn unread_count(&self, folder_id: &str) -> usize {
        self.messages
            .iter()
            .filter(|m| m.folder_id == folder_id && !m.is_read)
            .count()
    }

    pub fn folder_json(&self, f: &Folder) -> Value {
        let total = self.messages.iter().filter(|m| m.folder_id == f.id).count();
        let size: usize = self
            .messages
            .iter()
            .filter(|m| m.folder_id == f.id)
            .map(|m| m.body.len() + m.attachments.iter().map(|a| a.content.len()).sum::<usize>())
            .sum();
        json!({
            "id": f.id,
            "displayName": f.display_name,
            "parentFolderId": self.root_id,
            "childFolderCount": 0,
            "unreadItemCount": self.unread_count(&f.id),
            "totalItemCount": total,
            "sizeInBytes": size,
            "isHidden": false,
        })
    }
}

/// Fields a new message takes from a Graph `message` JSON body (camelCase, CSDL names).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageInput {
    pub subject: Option<String>,
    pub body: Option<BodyInput>,
    pub to_recipients: Option<Vec<Recipient>>,
    pub cc_recipients: Option<Vec<Recipient>>,
    pub bcc_recipients: Option<Vec<Recipient>>,
    pub reply_to: Option<Vec<Recipient>>,
    pub from: Option<Recipient>,
    pub importance: Option<String>,
    pub is_read: Option<bool>,
    pub categories: Option<Vec<String>>,
    pub internet_message_headers: Option<Vec<HeaderInput>>,
    /// Settable while the message is a draft (Graph: "Updatable only if isDraft is true").
    pub internet_message_id: Option<String>,
    pub attachments: Option<Vec<AttachmentInput>>,
    pub flag: Option<FlagInput>,
    pub single_value_extended_properties: Option<Vec<ExtendedPropertyInput>>,
}

/// One `singleValueExtendedProperties` entry: `{"id": "Boolean 0x0E01", "value": "true"}`.
#[derive(Debug, Deserialize)]
pub struct ExtendedPropertyInput {
    pub id: String,
    pub value: String,
}

/// `PidTagDeleteAfterSubmit`, as Graph names a MAPI property by type and tag.
const DELETE_AFTER_SUBMIT: &str = "Boolean 0x0E01";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyInput {
    pub content_type: Option<String>,
    pub content: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct HeaderInput {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagInput {
    pub flag_status: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentInput {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub name: Option<String>,
    pub content_type: Option<String>,
    pub content_bytes: Option<String>,
    pub is_inline: Option<bool>,
    pub content_id: Option<String>,
}

impl AttachmentInput {
    /// Only `fileAttachment` is supported; its `contentBytes` must be valid base64.
    pub fn into_attachment(self, now: DateTime<Utc>) -> Result<Attachment, String> {
        let t = self
            .odata_type
            .unwrap_or_else(|| "#microsoft.graph.fileAttachment".into());
        if !t.eq_ignore_ascii_case("#microsoft.graph.fileAttachment") {
            return Err(format!(
                "Attachment type {t} is not supported by the simulator."
            ));
        }
        let bytes = STANDARD
            .decode(self.content_bytes.unwrap_or_default())
            .map_err(|_| "Invalid base64 string for contentBytes.".to_string())?;
        Ok(Attachment {
            id: new_item_id("AAMkAGI2AtT"),
            name: self.name.unwrap_or_else(|| "attachment".into()),
            content_type: self
                .content_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            content: bytes,
            is_inline: self.is_inline.unwrap_or(false),
            content_id: self.content_id,
            modified: now,
        })
    }
}

pub fn normalise_body_type(t: Option<&str>) -> String {
    match t.map(|s| s.to_ascii_lowercase()) {
        Some(s) if s == "html" => "html".into(),
        _ => "text".into(),
    }
}

impl Message {
    /// A fresh message with new ids; the caller sets the folder and flags.
    pub fn from_input(
        input: MessageInput,
        folder_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Message, String> {
        let mut attachments = Vec::new();
        for a in input.attachments.unwrap_or_default() {
            attachments.push(a.into_attachment(now)?);
        }
        let body = input.body.unwrap_or(BodyInput {
            content_type: None,
            content: None,
        });
        let conversation: [u8; 16] = rand::random();
        let delete_after_submit = input
            .single_value_extended_properties
            .unwrap_or_default()
            .iter()
            .any(|p| {
                p.id.eq_ignore_ascii_case(DELETE_AFTER_SUBMIT)
                    && p.value.eq_ignore_ascii_case("true")
            });
        Ok(Message {
            id: new_item_id("AAMkAGI2"),
            immutable_id: new_item_id("AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A"),
            folder_id: folder_id.to_string(),
            created: now,
            modified: now,
            received: now,
            sent: None,
            change_key: new_change_key(),
            internet_message_id: input
                .internet_message_id
                .filter(|id| !id.trim().is_empty())
                .unwrap_or_else(|| {
                    format!("<{}@sim.contoso.example>", uuid::Uuid::new_v4().simple())
                }),
            conversation_id: format!("AAQkAGI2{}", URL_SAFE_NO_PAD.encode(conversation)),
            conversation_index: STANDARD.encode(&conversation[..16]),
            subject: input.subject.unwrap_or_default(),
            body_type: normalise_body_type(body.content_type.as_deref()),
            body: body.content.unwrap_or_default(),
            from: input.from.map(Recipient::normalised),
            sender: None,
            to: norm(input.to_recipients),
            cc: norm(input.cc_recipients),
            bcc: norm(input.bcc_recipients),
            reply_to: norm(input.reply_to),
            is_read: input.is_read.unwrap_or(true),
            is_draft: true,
            importance: input.importance.unwrap_or_else(|| "normal".into()),
            categories: input.categories.unwrap_or_default(),
            flag_status: input
                .flag
                .and_then(|f| f.flag_status)
                .unwrap_or_else(|| "notFlagged".into()),
            headers: input
                .internet_message_headers
                .unwrap_or_default()
                .into_iter()
                .map(|h| (h.name, h.value))
                .collect(),
            attachments,
            delete_after_submit,
            seq: 0,
        })
    }

    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.change_key)
    }

    pub fn preview(&self) -> String {
        let text = if self.body_type == "html" {
            strip_tags(&self.body)
        } else {
            self.body.clone()
        };
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        collapsed.chars().take(255).collect()
    }

    /// The Graph JSON of this message, with the ids the caller asked for.
    pub fn to_json(&self, immutable: bool, select: Option<&[String]>) -> Value {
        let id = if immutable {
            &self.immutable_id
        } else {
            &self.id
        };
        let recips = |r: &Vec<Recipient>| serde_json::to_value(r).unwrap_or(Value::Null);
        let mut v = json!({
            "@odata.etag": self.etag(),
            "id": id,
            "createdDateTime": ts(self.created),
            "lastModifiedDateTime": ts(self.modified),
            "changeKey": self.change_key,
            "categories": self.categories,
            "receivedDateTime": ts(self.received),
            "sentDateTime": self.sent.map(ts),
            "hasAttachments": self.attachments.iter().any(|a| !a.is_inline),
            "internetMessageId": self.internet_message_id,
            "subject": self.subject,
            "bodyPreview": self.preview(),
            "importance": self.importance,
            "parentFolderId": self.folder_id,
            "conversationId": self.conversation_id,
            "conversationIndex": self.conversation_index,
            "isDeliveryReceiptRequested": false,
            "isReadReceiptRequested": false,
            "isRead": self.is_read,
            "isDraft": self.is_draft,
            "webLink": format!(
                "https://outlook.office365.com/owa/?ItemID={}&exvsurl=1&viewmodel=ReadMessageItem",
                url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
            ),
            "inferenceClassification": "focused",
            "body": {"contentType": self.body_type, "content": self.body},
            "sender": self.sender.as_ref().or(self.from.as_ref()),
            "from": self.from,
            "toRecipients": recips(&self.to),
            "ccRecipients": recips(&self.cc),
            "bccRecipients": recips(&self.bcc),
            "replyTo": recips(&self.reply_to),
            "flag": {"flagStatus": self.flag_status},
        });
        if let Some(fields) = select {
            let obj = v.as_object().cloned().unwrap_or_default();
            let mut out = Map::new();
            for (k, val) in obj {
                let keep = k == "@odata.etag"
                    || k == "id"
                    || fields.iter().any(|f| f.eq_ignore_ascii_case(&k));
                if keep {
                    out.insert(k, val);
                }
            }
            if fields
                .iter()
                .any(|f| f.eq_ignore_ascii_case("internetMessageHeaders"))
            {
                out.insert(
                    "internetMessageHeaders".into(),
                    Value::Array(
                        self.headers
                            .iter()
                            .map(|(n, v)| json!({"name": n, "value": v}))
                            .collect(),
                    ),
                );
            }
            v = Value::Object(out);
        }
        v
    }
}

fn norm(r: Option<Vec<Recipient>>) -> Vec<Recipient> {
    r.unwrap_or_default()
        .into_iter()
        .map(Recipient::normalised)
        .collect()
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_a_message_changes_its_id_but_not_its_immutable_id_and_leaves_a_tombstone() {
        let mut mb = Mailbox::new("u", "u@contoso.example");
        let inbox = mb.folder_id("inbox");
        let archive = mb.folder_id("archive");
        let m = Message::from_input(MessageInput::default(), &inbox, Utc::now()).unwrap();
        let (old_id, imm) = (m.id.clone(), m.immutable_id.clone());
        let idx = mb.insert(m);
        let idx = mb.move_to(idx, &archive, Utc::now());
        assert_ne!(mb.messages[idx].id, old_id);
        assert_eq!(mb.messages[idx].immutable_id, imm);
        assert_eq!(mb.tombstones.len(), 1);
        assert_eq!(mb.tombstones[0].folder_id, inbox);
    }

    #[test]
    fn select_keeps_only_the_named_fields_plus_id_and_etag() {
        let m = Message::from_input(MessageInput::default(), "f", Utc::now()).unwrap();
        let v = m.to_json(false, Some(&["subject".to_string()]));
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, vec!["@odata.etag", "id", "subject"]);
    }
}
