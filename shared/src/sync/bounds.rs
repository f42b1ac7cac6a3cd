//! What one synced message may cost. Its headers are written by its sender: another mail system
//! can name thousands of addresses in To and Cc (Exchange Online's limit of 500 recipients is on
//! sending, "message resource type", https://learn.microsoft.com/graph/api/resources/message),
//! and put kilobytes into display names, the subject or the Message-ID. Kept as it came, one such
//! message exceeds DynamoDB's 400 KB item limit or PutEvents' 256 KB request limit, its delta page
//! fails on every retry and the folder never syncs again. So [`fit`] bounds every record when it
//! is made from Graph's message, before it is stored or published:
//!
//! | what | bound | beyond it |
//! |---|---|---|
//! | `to`, `cc` | [`MAX_RECIPIENTS`] each | left out; `to_count` / `cc_count` keep the true numbers |
//! | a display name | [`MAX_NAME_BYTES`] | shortened |
//! | an address | [`MAX_ADDRESS_BYTES`] (RFC 5321's longest path) | left out, counted (no mailbox has it) |
//! | `subject`, `preview` | [`MAX_TEXT_BYTES`] (255 characters of any script: Exchange's subject limit, Graph's preview length) | shortened |
//! | `internet_message_id` | [`MAX_MESSAGE_ID_BYTES`] (RFC 5322's line length) | shortened |
//! | `conversation_id`, `web_link` | [`MAX_ID_BYTES`], [`MAX_LINK_BYTES`] | dropped |
//! | `etag` | [`MAX_ID_BYTES`] | replaced by its SHA-256 (still one value per version) |
//! | the whole message as JSON (the API view and the event's `message`) | [`MAX_MESSAGE_JSON_BYTES`] | recipients left out from the end until it fits |
//!
//! Anything left out or shortened sets `truncated`. The JSON budget is measured, not assumed
//! (escaping can make a short name long), and it keeps the stored item well under DynamoDB's
//! limit (the item holds the record plus the counterpart list, itself a subset of the
//! addresses) and one event well under PutEvents' limit.

use crate::store::keys;
use crate::store::messages::{Address, MessageRecord};

/// Recipients kept per list (`to`, `cc`).
pub const MAX_RECIPIENTS: usize = 100;
/// A display name's bytes (UTF-8), cut at a character boundary.
pub const MAX_NAME_BYTES: usize = 256;
/// An address's bytes: RFC 5321 4.5.3.1.3 limits a path to 256 octets including the angle
/// brackets, so no deliverable address is longer than 254.
/// https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.1.3
pub const MAX_ADDRESS_BYTES: usize = 254;
/// Subject and preview bytes: 255 characters of up to 4 bytes each fit. Exchange limits a subject
/// to 255 characters (https://learn.microsoft.com/previous-versions/office/developer/exchange-server-2010/aa565100(v=exchg.140))
/// and Graph's `bodyPreview` is "the first 255 characters of the message body"
/// (https://learn.microsoft.com/graph/api/resources/message); a longer one did not come from
/// Exchange as documented and is shortened.
pub const MAX_TEXT_BYTES: usize = 1024;
/// `internetMessageId` bytes: RFC 5322 2.1.1 limits a header line to 998 characters.
/// https://www.rfc-editor.org/rfc/rfc5322#section-2.1.1
pub const MAX_MESSAGE_ID_BYTES: usize = 998;
/// Bytes of Exchange-made identifiers (`conversationId`, the etag); real ones are far shorter.
pub const MAX_ID_BYTES: usize = 512;
/// `webLink` bytes.
pub const MAX_LINK_BYTES: usize = 2048;
/// The whole message as JSON ([`crate::mail::view`]): 128 KiB. An event carries it plus a few
/// hundred bytes, under half of PutEvents' 256 KB request limit
/// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html); the stored
/// item, the same fields unescaped plus keys and the counterpart list, stays under 400 KB
/// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html).
pub const MAX_MESSAGE_JSON_BYTES: usize = 128 * 1024;

/// `s` cut to at most `max` bytes at a character boundary; whether it was cut.
fn cut(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    true
}

/// A string over `max` bytes dropped; whether it was.
fn drop_over(v: &mut Option<String>, max: usize) -> bool {
    if v.as_ref().is_some_and(|s| s.len() > max) {
        *v = None;
        return true;
    }
    false
}

/// An address bounded: `None` when it is too long to be anyone's.
fn bound_address(mut a: Address, truncated: &mut bool) -> Option<Address> {
    if a.address.len() > MAX_ADDRESS_BYTES {
        *truncated = true;
        return None;
    }
    if let Some(name) = a.name.as_mut() {
        *truncated |= cut(name, MAX_NAME_BYTES);
    }
    Some(a)
}

fn bound_list(list: &mut Vec<Address>, truncated: &mut bool) {
    let all = std::mem::take(list);
    if all.len() > MAX_RECIPIENTS {
        *truncated = true;
    }
    *list = all
        .into_iter()
        .filter_map(|a| bound_address(a, truncated))
        .take(MAX_RECIPIENTS)
        .collect();
}

fn json_len<T: serde::Serialize>(v: &T) -> usize {
    serde_json::to_vec(v).map_or(0, |b| b.len())
}

/// Bounds `record` in place (see the module docs). Idempotent: a bounded record is unchanged.
pub fn fit(record: &mut MessageRecord) {
    let count = |n: usize| Some(u32::try_from(n).unwrap_or(u32::MAX));
    if record.to_count.is_none() {
        record.to_count = count(record.to.len());
    }
    if record.cc_count.is_none() {
        record.cc_count = count(record.cc.len());
    }
    let mut truncated = record.truncated;
    bound_list(&mut record.to, &mut truncated);
    bound_list(&mut record.cc, &mut truncated);
    record.from = record
        .from
        .take()
        .and_then(|a| bound_address(a, &mut truncated));
    truncated |= cut(&mut record.subject, MAX_TEXT_BYTES);
    truncated |= cut(&mut record.preview, MAX_TEXT_BYTES);
    if let Some(id) = record.internet_message_id.as_mut() {
        truncated |= cut(id, MAX_MESSAGE_ID_BYTES);
    }
    truncated |= drop_over(&mut record.conversation_id, MAX_ID_BYTES);
    truncated |= drop_over(&mut record.web_link, MAX_LINK_BYTES);
    if record.etag.len() > MAX_ID_BYTES {
        record.etag = format!("sha256:{}", keys::digest(&record.etag));
    }
    // The measured budget: recipients go from the end, Cc before To, until the JSON fits.
    let mut size = json_len(&crate::mail::view(record));
    while size > MAX_MESSAGE_JSON_BYTES {
        let list = if record.cc.is_empty() {
            &mut record.to
        } else {
            &mut record.cc
        };
        let Some(last) = list.pop() else { break };
        // The element and its separating comma.
        size -= json_len(&last) + usize::from(!list.is_empty());
        truncated = true;
    }
    record.truncated = truncated;
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::domain::ConnectionId;
    use crate::store::item_size;
    use crate::store::messages::{message_writes, Write};

    fn address(i: usize, name: &str) -> Address {
        Address {
            name: Some(name.to_owned()),
            address: format!("r{i}@crowd.example"),
        }
    }

    fn record(to: usize, cc: usize, name: &str) -> MessageRecord {
        MessageRecord {
            id: "AAMkAGI2TG93AAA=".into(),
            connection_id: ConnectionId::parse("6f9619ff-8b86-d011-b42d-00c04fc964ff").unwrap(),
            folder: "inbox".into(),
            subject: "Interview".into(),
            from: Some(address(0, "Sender")),
            to: (0..to).map(|i| address(i, name)).collect(),
            cc: (0..cc).map(|i| address(i + to, name)).collect(),
            sent_at: None,
            received_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            conversation_id: Some("AAQkAGI2".into()),
            internet_message_id: Some("<a@b>".into()),
            preview: "hello".into(),
            has_attachments: false,
            is_read: false,
            web_link: None,
            deleted: false,
            etag: "W/\"1\"".into(),
            truncated: false,
            to_count: None,
            cc_count: None,
        }
    }

    #[test]
    fn an_ordinary_message_is_left_as_it_is() {
        let mut r = record(3, 1, "Bob");
        let before = r.clone();
        fit(&mut r);
        assert!(!r.truncated);
        assert_eq!((r.to_count, r.cc_count), (Some(3), Some(1)));
        assert_eq!(
            (r.to, r.cc, r.subject),
            (before.to, before.cc, before.subject)
        );
    }

    #[test]
    fn recipients_past_the_cap_are_left_out_and_counted() {
        let mut r = record(4000, 1000, "n");
        fit(&mut r);
        assert!(r.truncated);
        assert_eq!((r.to_count, r.cc_count), (Some(4000), Some(1000)));
        assert_eq!((r.to.len(), r.cc.len()), (MAX_RECIPIENTS, MAX_RECIPIENTS));
        assert_eq!(
            r.to[0].address, "r0@crowd.example",
            "the first ones are kept"
        );
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary_and_impossible_addresses_are_dropped() {
        let mut r = record(2, 0, &"é".repeat(200));
        r.subject = "€".repeat(30 * 1024);
        r.preview = "p".repeat(5000);
        r.internet_message_id = Some(format!("<{}@x>", "i".repeat(5000)));
        r.web_link = Some("https://outlook.office365.com/".to_owned() + &"w".repeat(5000));
        r.conversation_id = Some("c".repeat(600));
        r.etag = "e".repeat(600);
        r.to[1].address = format!("{}@crowd.example", "a".repeat(300));
        fit(&mut r);
        assert!(r.truncated);
        assert!(r.subject.len() <= MAX_TEXT_BYTES && r.subject.chars().all(|c| c == '€'));
        assert_eq!(r.subject.chars().count(), MAX_TEXT_BYTES / 3);
        assert_eq!(r.preview.len(), MAX_TEXT_BYTES);
        assert_eq!(r.to[0].name.as_ref().unwrap().len(), MAX_NAME_BYTES);
        assert_eq!(r.to.len(), 1, "an address no mailbox can have is left out");
        assert_eq!(r.to_count, Some(2));
        assert_eq!(r.internet_message_id.unwrap().len(), MAX_MESSAGE_ID_BYTES);
        assert_eq!((r.web_link, r.conversation_id), (None, None));
        assert!(r.etag.starts_with("sha256:") && r.etag.len() < MAX_ID_BYTES);
    }

    #[test]
    fn fitting_twice_changes_nothing() {
        let mut r = record(500, 500, &"\"".repeat(300));
        fit(&mut r);
        let once = r.clone();
        fit(&mut r);
        assert_eq!(r, once);
    }

    #[test]
    fn escaping_cannot_push_a_message_past_its_json_budget() {
        // Control characters escape to six bytes each: 200 names of 256 bytes would be 300 KB.
        let mut r = record(100, 100, &"\u{1}".repeat(256));
        fit(&mut r);
        assert!(r.truncated);
        let json = serde_json::to_vec(&crate::mail::view(&r)).unwrap().len();
        assert!(json <= MAX_MESSAGE_JSON_BYTES, "{json}");
        assert!(
            json > MAX_MESSAGE_JSON_BYTES - 2048,
            "only what does not fit is left out"
        );
        assert_eq!((r.to_count, r.cc_count), (Some(100), Some(100)));
        // About 80 such recipients fit: every Cc goes before the first To.
        assert!(
            r.cc.is_empty() && (50..100).contains(&r.to.len()),
            "{}",
            r.to.len()
        );
    }

    #[test]
    fn the_largest_bounded_message_fits_one_dynamodb_item_and_one_event() {
        // Every field at its bound, names of 4-byte characters, every recipient a counterpart.
        let mut r = record(100, 100, &"😀".repeat(64));
        for (i, a) in r.to.iter_mut().chain(r.cc.iter_mut()).enumerate() {
            a.address = format!("{i:03}{}@x.example", "a".repeat(MAX_ADDRESS_BYTES - 13));
        }
        r.subject = "😀".repeat(256);
        r.preview = "😀".repeat(256);
        r.internet_message_id = Some("i".repeat(MAX_MESSAGE_ID_BYTES));
        r.web_link = Some("w".repeat(MAX_LINK_BYTES));
        r.conversation_id = Some("c".repeat(MAX_ID_BYTES));
        r.id = "m".repeat(MAX_ID_BYTES);
        fit(&mut r);
        let writes = message_writes(&r, "owner@contoso.example", None).unwrap();
        let Write::Put(item) = &writes[0] else {
            panic!()
        };
        let size = item_size(item);
        assert!(size < 400 * 1024 / 2, "message item of {size} bytes");
        let detail = serde_json::json!({
            "event_id": format!("message.updated:{}:{}:{}", r.connection_id, r.id, r.etag),
            "connection_id": r.connection_id, "change": "updated", "message": crate::mail::view(&r),
        });
        let event = serde_json::to_vec(&detail).unwrap().len();
        assert!(event < 256 * 1024 / 2, "event of {event} bytes");
    }
}
