//! The send and reply request bodies, parsed into types that prove their validity. Every failure
//! names the field at fault (`to[1].address`, `attachments[0].content_base64`, ...).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{EmailAddress, GraphId, ParseError};

/// Inline attachments may total this many bytes (decoded); larger files go through uploads.
pub const MAX_INLINE_TOTAL: usize = 3 * 1024 * 1024;
/// Largest attachment Graph takes (through an upload session).
pub const MAX_UPLOAD_SIZE: u64 = 150 * 1024 * 1024;
/// Largest request body of the send routes: 3 MB of inline attachments is 4 MiB of base64, plus
/// the message itself. API Gateway's own limit is 10 MB.
pub const MAX_SEND_BODY: usize = 6 * 1024 * 1024;
/// Exchange Online's recipient limit per message.
pub const MAX_RECIPIENTS: usize = 500;
/// Graph refuses a message with more custom `internetMessageHeaders` (400
/// `InvalidInternetMessageHeaderCollection`, "Maximum number of headers in one message should be
/// less than or equal to 5"; Microsoft Q&A 762243, microsoftgraph/msgraph-sdk-dotnet#2208).
const MAX_HEADERS: usize = 5;
const MAX_NAME_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub address: EmailAddress,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyType {
    Text,
    Html,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody {
    pub content_type: BodyType,
    pub content: String,
}

/// One attachment, in the order the client listed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentSpec {
    Inline {
        name: String,
        content_type: String,
        /// The client's base64, checked to decode; kept encoded since Graph wants base64.
        content_base64: String,
        size: usize,
    },
    Upload {
        upload_id: String,
        /// `attachments[i].upload_id`, for errors found when the upload is looked up.
        field: String,
    },
}

/// A validated message (new or reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub subject: Option<String>,
    pub body: Option<MessageBody>,
    pub attachments: Vec<AttachmentSpec>,
    /// Custom `X-` headers, in name order.
    pub headers: Vec<(String, String)>,
    pub save_to_sent_items: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddressIn {
    address: String,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BodyIn {
    content_type: String,
    content: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachmentIn {
    upload_id: Option<String>,
    name: Option<String>,
    content_type: Option<String>,
    content_base64: Option<String>,
}

/// The JSON body of `POST /connections/{id}/messages` and `.../reply`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    #[serde(default)]
    to: Vec<AddressIn>,
    #[serde(default)]
    cc: Vec<AddressIn>,
    #[serde(default)]
    bcc: Vec<AddressIn>,
    #[serde(default)]
    reply_to: Vec<AddressIn>,
    subject: Option<String>,
    body: Option<BodyIn>,
    #[serde(default)]
    attachments: Vec<AttachmentIn>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    save_to_sent_items: Option<bool>,
    /// Replies only.
    pub reply_all: Option<bool>,
}

/// What the request asks for (kept with a queued send's body, so the worker redoes the same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SendKind {
    New,
    Reply {
        message_id: GraphId,
        reply_all: bool,
    },
}

fn mailboxes(list: Vec<AddressIn>, field: &str) -> Result<Vec<Mailbox>, ParseError> {
    list.into_iter()
        .enumerate()
        .map(|(i, a)| {
            let address = EmailAddress::parse(&format!("{field}[{i}].address"), &a.address)?;
            if let Some(n) = &a.name {
                if n.len() > MAX_NAME_LEN || n.chars().any(char::is_control) {
                    return Err(ParseError::new(
                        format!("{field}[{i}].name"),
                        "must be at most 255 characters without control characters",
                    ));
                }
            }
            Ok(Mailbox {
                address,
                name: a.name,
            })
        })
        .collect()
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn content_type_ok(v: &str) -> bool {
    let mut parts = v.splitn(2, '/');
    matches!((parts.next(), parts.next()), (Some(a), Some(b)) if is_token(a) && !b.is_empty()
        && b.len() <= 200 && b.bytes().all(|c| c.is_ascii_graphic() || c == b' '))
}

/// Checks an attachment file name (also used by the uploads route).
pub fn parse_file_name(raw: &str, field: &str) -> Result<String, ParseError> {
    if raw.trim().is_empty()
        || raw.chars().count() > MAX_NAME_LEN
        || raw.chars().any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return Err(ParseError::new(
            field,
            "must be 1-255 characters without control characters or slashes",
        ));
    }
    Ok(raw.to_owned())
}

/// Checks a MIME type (`type/subtype`).
pub fn parse_content_type(raw: &str, field: &str) -> Result<String, ParseError> {
    if !content_type_ok(raw) {
        return Err(ParseError::new(
            field,
            "must be a MIME type such as application/pdf",
        ));
    }
    Ok(raw.to_owned())
}

impl SendBody {
    /// Validates the body for `kind`.
    pub fn parse(self, kind: &SendKind) -> Result<OutgoingMessage, ParseError> {
        if matches!(kind, SendKind::New) && self.reply_all.is_some() {
            return Err(ParseError::new("reply_all", "only applies to replies"));
        }
        let to = mailboxes(self.to, "to")?;
        let cc = mailboxes(self.cc, "cc")?;
        let bcc = mailboxes(self.bcc, "bcc")?;
        let reply_to = mailboxes(self.reply_to, "reply_to")?;
        let recipients = to.len() + cc.len() + bcc.len();
        // A reply has its recipients from the original message; a new message needs some.
        if matches!(kind, SendKind::New) && recipients == 0 {
            return Err(ParseError::new(
                "to",
                "at least one recipient (to, cc or bcc) is required",
            ));
        }
        if recipients > MAX_RECIPIENTS {
            return Err(ParseError::new(
                "to",
                format!("at most {MAX_RECIPIENTS} recipients in all"),
            ));
        }
        if let Some(s) = &self.subject {
            if s.chars().count() > 998 || s.chars().any(|c| c.is_control() && c != '\t') {
                return Err(ParseError::new(
                    "subject",
                    "must be at most 998 characters without line breaks",
                ));
            }
        }
        let body = match self.body {
            None => None,
            Some(b) => Some(MessageBody {
                content_type: match b.content_type.as_str() {
                    "text" => BodyType::Text,
                    "html" => BodyType::Html,
                    _ => {
                        return Err(ParseError::new(
                            "body.content_type",
                            "must be \"text\" or \"html\"",
                        ))
                    }
                },
                content: b.content,
            }),
        };
        if self.headers.len() > MAX_HEADERS {
            return Err(ParseError::new(
                "headers",
                format!("at most {MAX_HEADERS} custom headers"),
            ));
        }
        let mut headers = Vec::with_capacity(self.headers.len());
        for (name, value) in self.headers {
            let field = format!("headers.{name}");
            if !(name.len() > 2 && name[..2].eq_ignore_ascii_case("x-") && is_token(&name)) {
                return Err(ParseError::new(field, "only custom X- headers may be set"));
            }
            if value.len() > 998 || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                return Err(ParseError::new(
                    field,
                    "the value must be at most 998 printable ASCII characters",
                ));
            }
            headers.push((name, value));
        }
        let mut attachments = Vec::with_capacity(self.attachments.len());
        let mut inline_total = 0usize;
        for (i, a) in self.attachments.into_iter().enumerate() {
            let field = |f: &str| format!("attachments[{i}].{f}");
            match a {
                AttachmentIn {
                    upload_id: Some(id),
                    name: None,
                    content_type: None,
                    content_base64: None,
                } => {
                    if uuid::Uuid::parse_str(&id).is_err() {
                        return Err(ParseError::new(field("upload_id"), "is not an upload id"));
                    }
                    attachments.push(AttachmentSpec::Upload {
                        upload_id: id,
                        field: field("upload_id"),
                    });
                }
                AttachmentIn {
                    upload_id: None,
                    name: Some(name),
                    content_type,
                    content_base64: Some(data),
                } => {
                    let name = parse_file_name(&name, &field("name"))?;
                    let content_type = match content_type {
                        Some(ct) => parse_content_type(&ct, &field("content_type"))?,
                        None => "application/octet-stream".to_owned(),
                    };
                    let size = base64::engine::general_purpose::STANDARD
                        .decode(data.as_bytes())
                        .map_err(|_| {
                            ParseError::new(field("content_base64"), "is not valid base64")
                        })?
                        .len();
                    inline_total += size;
                    if inline_total > MAX_INLINE_TOTAL {
                        return Err(ParseError::new(
                            field("content_base64"),
                            format!(
                                "inline attachments may total at most {MAX_INLINE_TOTAL} bytes; \
                                 send larger files through POST /connections/{{id}}/uploads"
                            ),
                        ));
                    }
                    attachments.push(AttachmentSpec::Inline {
                        name,
                        content_type,
                        content_base64: data,
                        size,
                    });
                }
                _ => {
                    return Err(ParseError::new(
                        format!("attachments[{i}]"),
                        "must be either {upload_id} or {name, content_type, content_base64}",
                    ))
                }
            }
        }
        Ok(OutgoingMessage {
            to,
            cc,
            bcc,
            reply_to,
            subject: self.subject,
            body,
            attachments,
            headers,
            save_to_sent_items: self.save_to_sent_items.unwrap_or(true),
        })
    }
}

/// The request fingerprint stored with an idempotency key: SHA-256 over the route (and the
/// message replied to) and the body's JSON with object keys sorted, so formatting and key order
/// do not matter but any change of content does.
pub fn fingerprint(kind: &SendKind, body: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    match kind {
        SendKind::New => hasher.update(b"send\n"),
        SendKind::Reply { message_id, .. } => {
            hasher.update(b"reply\n");
            hasher.update(message_id.as_str().as_bytes());
            hasher.update(b"\n");
        }
    }
    let mut canonical = String::new();
    write_canonical(body, &mut canonical);
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}

fn write_canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<OutgoingMessage, ParseError> {
        serde_json::from_value::<SendBody>(v)
            .unwrap()
            .parse(&SendKind::New)
    }

    fn to_bob() -> serde_json::Value {
        json!({"to": [{"address": "bob@contoso.example"}], "subject": "Hi"})
    }

    #[test]
    fn a_plain_message_parses_with_defaults() {
        let m = parse(to_bob()).unwrap();
        assert_eq!(m.to[0].address.as_str(), "bob@contoso.example");
        assert!(m.save_to_sent_items);
        assert!(m.attachments.is_empty());
    }

    #[test]
    fn bad_input_is_rejected_naming_the_field() {
        let big = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 2 * 1024 * 1024]);
        let cases = [
            (json!({"subject": "no recipients"}), "to"),
            (
                json!({"to": [{"address": "not-an-address"}]}),
                "to[0].address",
            ),
            (
                json!({"to": [{"address": "a@b.example"}], "cc": [{"address": "x@y"}]}),
                "cc[0].address",
            ),
            (
                json!({"to": [{"address": "a@b.example"}], "headers": {"Subject": "x"}}),
                "headers.Subject",
            ),
            (
                json!({"to": [{"address": "a@b.example"}], "headers": {"X-Ok": "line\nbreak"}}),
                "headers.X-Ok",
            ),
            (
                json!({"to": [{"address": "a@b.example"}], "body": {"content_type": "rtf", "content": ""}}),
                "body.content_type",
            ),
            (
                json!({"to": [{"address": "a@b.example"}], "attachments": [{"name": "a", "content_base64": "@@"}]}),
                "attachments[0].content_base64",
            ),
            (
                json!({"to": [{"address": "a@b.example"}], "attachments": [
                    {"name": "a", "content_base64": big}, {"name": "b", "content_base64": big}]}),
                "attachments[1].content_base64",
            ),
            (
                json!({"to": [{"address": "a@b.example"}], "attachments": [{"upload_id": "nope"}]}),
                "attachments[0].upload_id",
            ),
            (
                json!({"to": [{"address": "a@b.example"}], "attachments": [{"upload_id": "x", "name": "y"}]}),
                "attachments[0]",
            ),
            (
                json!({"to": [{"address": "a@b.example"}], "reply_all": true}),
                "reply_all",
            ),
            (
                json!({"to": [{"address": "a@b.example"}], "headers": {
                    "X-A": "1", "X-B": "2", "X-C": "3", "X-D": "4", "X-E": "5", "X-F": "6"}}),
                "headers",
            ),
        ];
        for (body, field) in cases {
            assert_eq!(parse(body.clone()).unwrap_err().field, field, "{body}");
        }
    }

    #[test]
    fn the_fingerprint_ignores_key_order_but_not_content_or_route() {
        let a = json!({"to": [{"address": "a@b.example"}], "subject": "x"});
        let b: serde_json::Value =
            serde_json::from_str(r#"{"subject":"x","to":[{"address":"a@b.example"}]}"#).unwrap();
        let c = json!({"to": [{"address": "a@b.example"}], "subject": "y"});
        assert_eq!(
            fingerprint(&SendKind::New, &a),
            fingerprint(&SendKind::New, &b)
        );
        assert_ne!(
            fingerprint(&SendKind::New, &a),
            fingerprint(&SendKind::New, &c)
        );
        let reply = SendKind::Reply {
            message_id: GraphId::parse("message_id", "m1").unwrap(),
            reply_all: false,
        };
        assert_ne!(fingerprint(&SendKind::New, &a), fingerprint(&reply, &a));
    }
}
