//! The Graph draft of an outgoing message: recipients, body, headers, and which attachments
//! travel in the draft and which go through upload sessions.

use super::*;

/// Splits attachments into those that travel in the draft-creation request and those added after
/// (one request each: large inline files, staged files under Graph's upload-session minimum read
/// from S3, and upload sessions).
pub(super) fn plan_attachments<'a>(
    message: &OutgoingMessage,
    uploads: &'a [UploadRecord],
) -> (Vec<FileAttachment>, Vec<Extra<'a>>) {
    let mut in_draft = Vec::new();
    let mut extras = Vec::new();
    let mut encoded = 0usize;
    let mut uploads = uploads.iter();
    for a in &message.attachments {
        match a {
            AttachmentSpec::Inline {
                name,
                content_type,
                content_base64,
                ..
            } => {
                let file =
                    FileAttachment::new(name.clone(), content_type.clone(), content_base64.clone());
                // Keep the order: once one goes separately, all later ones do too.
                if extras.is_empty() && encoded + content_base64.len() <= INLINE_IN_DRAFT_LIMIT {
                    encoded += content_base64.len();
                    in_draft.push(file);
                } else {
                    extras.push(Extra::Inline(file));
                }
            }
            AttachmentSpec::Upload { .. } => {
                if let Some(record) = uploads.next() {
                    // Graph has no upload session for small files: they are attached inline.
                    extras.push(if record.size < uploads::UPLOAD_SESSION_MIN {
                        Extra::SmallUpload(record)
                    } else {
                        Extra::Upload(record)
                    });
                }
            }
        }
    }
    (in_draft, extras)
}

fn recipients(list: &[Mailbox]) -> Vec<Recipient> {
    list.iter()
        .map(|m| Recipient {
            email_address: Address {
                address: m.address.as_str().to_owned(),
                name: m.name.clone(),
            },
        })
        .collect()
}

pub(super) fn build_draft(
    message: &OutgoingMessage,
    attachments: Vec<FileAttachment>,
    internet_message_id: &str,
) -> DraftMessage {
    DraftMessage {
        subject: message.subject.clone(),
        body: message.body.as_ref().map(|b| Body {
            content_type: match b.content_type {
                BodyType::Text => "text".into(),
                BodyType::Html => "html".into(),
            },
            content: b.content.clone(),
        }),
        to_recipients: recipients(&message.to),
        cc_recipients: recipients(&message.cc),
        bcc_recipients: recipients(&message.bcc),
        reply_to: recipients(&message.reply_to),
        internet_message_headers: message
            .headers
            .iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        internet_message_id: internet_message_id.to_owned(),
        attachments,
        single_value_extended_properties: if message.save_to_sent_items {
            Vec::new()
        } else {
            vec![DELETE_AFTER_SUBMIT]
        },
    }
}
