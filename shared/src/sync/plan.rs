//! The pure half of sync: a delta page diffed against what is stored becomes the records to write
//! and the events to publish. No I/O, so every rule is unit-tested here.
//!
//! - Unknown id -> `created` (unless received before the look-back cutoff: not stored at all).
//! - Known id with another version (etag), or coming back after removal -> `updated`.
//! - Known id, same version -> nothing (a notification duplicate or a restarted round).
//! - `@removed` of a stored, live message of this folder -> deleted flag + `deleted`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::ConnectionId;
use crate::graph::messages::{DeltaChange, GraphMessage, Recipient};
use crate::mail::view;
use crate::store::messages::{Address, MessageRecord, StoredMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

impl ChangeKind {
    /// The EventBridge `detail-type`.
    pub fn detail_type(self) -> &'static str {
        match self {
            Self::Created => "message.created",
            Self::Updated => "message.updated",
            Self::Deleted => "message.deleted",
        }
    }
}

/// One message to write, with what was stored before (to drop stale index entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedWrite {
    pub kind: ChangeKind,
    pub record: MessageRecord,
    pub previous: Option<StoredMessage>,
}

impl PlannedWrite {
    /// Stable across retries and restarts, so consumers can dedupe: a message is created once,
    /// deleted once, and updated once per version.
    pub fn event_id(&self) -> String {
        let (c, m) = (&self.record.connection_id, &self.record.id);
        match self.kind {
            ChangeKind::Created => format!("message.created:{c}:{m}"),
            ChangeKind::Deleted => format!("message.deleted:{c}:{m}"),
            ChangeKind::Updated => format!("message.updated:{c}:{m}:{}", self.record.etag),
        }
    }

    /// The event detail: metadata only, never a body.
    pub fn event_detail(&self) -> serde_json::Value {
        serde_json::json!({
            "event_id": self.event_id(),
            "connection_id": self.record.connection_id,
            "change": self.kind,
            "message": view(&self.record),
        })
    }
}

fn address(r: &Recipient) -> Option<Address> {
    let address = r.email_address.address.clone()?;
    Some(Address {
        name: r.email_address.name.clone().filter(|n| !n.is_empty()),
        address,
    })
}

/// Maps a Graph message to the stored record, bounded ([`super::bounds::fit`]).
pub fn to_record(m: &GraphMessage, connection_id: &ConnectionId, folder: &str) -> MessageRecord {
    let list =
        |v: &Option<Vec<Recipient>>| v.iter().flatten().filter_map(address).collect::<Vec<_>>();
    let mut record = MessageRecord {
        id: m.id.clone(),
        connection_id: connection_id.clone(),
        folder: folder.to_owned(),
        subject: m.subject.clone().unwrap_or_default(),
        from: m.from.as_ref().and_then(address),
        to: list(&m.to_recipients),
        cc: list(&m.cc_recipients),
        sent_at: m.sent_date_time,
        received_at: m
            .received_date_time
            .or(m.sent_date_time)
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
        conversation_id: m.conversation_id.clone(),
        internet_message_id: m.internet_message_id.clone(),
        preview: m.body_preview.clone().unwrap_or_default(),
        has_attachments: m.has_attachments.unwrap_or(false),
        is_read: m.is_read.unwrap_or(false),
        web_link: m.web_link.clone(),
        deleted: false,
        etag: m.version(),
        truncated: false,
        to_count: None,
        cc_count: None,
    };
    super::bounds::fit(&mut record);
    record
}

/// Diffs one delta page of `folder` against the stored messages it names.
pub fn plan_page(
    connection_id: &ConnectionId,
    folder: &str,
    changes: &[DeltaChange],
    stored: &HashMap<String, StoredMessage>,
    cutoff: DateTime<Utc>,
) -> Vec<PlannedWrite> {
    // Later entries for the same id see the effect of earlier ones (a page may name an id twice).
    let mut current: HashMap<String, StoredMessage> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut planned: HashMap<String, PlannedWrite> = HashMap::new();
    for change in changes {
        let id = match change {
            DeltaChange::Upsert(m) => m.id.as_str(),
            DeltaChange::Removed { id } => id.as_str(),
        };
        let before = current.get(id).or_else(|| stored.get(id)).cloned();
        let original = stored.get(id).cloned();
        let write = match change {
            DeltaChange::Upsert(m) => {
                let record = to_record(m, connection_id, folder);
                match &before {
                    None if record.received_at < cutoff => None,
                    None => Some(ChangeKind::Created),
                    Some(b)
                        if b.record.etag == record.etag
                            && !b.record.deleted
                            && b.record.folder == record.folder =>
                    {
                        None
                    }
                    Some(_) => Some(ChangeKind::Updated),
                }
                .map(|kind| (kind, record))
            }
            DeltaChange::Removed { .. } => match &before {
                // Only this folder's copy leaves; a message that moved to the other synced folder
                // stays live there.
                Some(b) if !b.record.deleted && b.record.folder == folder => {
                    let mut record = b.record.clone();
                    record.deleted = true;
                    Some((ChangeKind::Deleted, record))
                }
                _ => None,
            },
        };
        let Some((kind, record)) = write else {
            continue;
        };
        // Created-then-changed within one page is still one creation.
        let kind = match planned.get(id) {
            Some(p) if p.kind == ChangeKind::Created && kind == ChangeKind::Updated => {
                ChangeKind::Created
            }
            _ => kind,
        };
        current.insert(
            id.to_owned(),
            StoredMessage {
                received_order: record.received_order(),
                counterparts: Vec::new(),
                record: record.clone(),
            },
        );
        if !planned.contains_key(id) {
            order.push(id.to_owned());
        }
        planned.insert(
            id.to_owned(),
            PlannedWrite {
                kind,
                record,
                previous: original,
            },
        );
    }
    order
        .into_iter()
        .filter_map(|id| planned.remove(&id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::messages::EmailAddress;

    fn conn() -> ConnectionId {
        ConnectionId::parse("6f9619ff-8b86-d011-b42d-00c04fc964ff").unwrap()
    }

    fn msg(id: &str, etag: &str, days_ago: i64) -> DeltaChange {
        DeltaChange::Upsert(Box::new(GraphMessage {
            id: id.into(),
            etag: Some(etag.into()),
            change_key: None,
            subject: Some(format!("subject {id}")),
            from: Some(Recipient {
                email_address: EmailAddress {
                    name: Some("X".into()),
                    address: Some("x@ext.example".into()),
                },
            }),
            to_recipients: Some(vec![]),
            cc_recipients: None,
            sent_date_time: None,
            received_date_time: Some(Utc::now() - chrono::Duration::days(days_ago)),
            conversation_id: Some("c".into()),
            internet_message_id: Some(format!("<{id}@ext>")),
            body_preview: Some("hello".into()),
            has_attachments: Some(false),
            is_read: Some(false),
            web_link: None,
            body: None,
        }))
    }

    fn stored_from(plan: &[PlannedWrite]) -> HashMap<String, StoredMessage> {
        plan.iter()
            .map(|p| {
                (
                    p.record.id.clone(),
                    StoredMessage {
                        received_order: p.record.received_order(),
                        counterparts: vec![],
                        record: p.record.clone(),
                    },
                )
            })
            .collect()
    }

    fn cutoff() -> DateTime<Utc> {
        Utc::now() - chrono::Duration::days(365)
    }

    #[test]
    fn new_messages_are_created_and_messages_older_than_the_look_back_are_skipped() {
        let plan = plan_page(
            &conn(),
            "inbox",
            &[msg("m1", "e1", 1), msg("old", "e1", 400)],
            &HashMap::new(),
            cutoff(),
        );
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].kind, ChangeKind::Created);
        assert_eq!(
            plan[0].record.from.as_ref().unwrap().address,
            "x@ext.example"
        );
        assert_eq!(plan[0].event_id(), format!("message.created:{}:m1", conn()));
    }

    #[test]
    fn replaying_the_same_page_changes_nothing() {
        let page = [msg("m1", "e1", 1), msg("m2", "e1", 2)];
        let first = plan_page(&conn(), "inbox", &page, &HashMap::new(), cutoff());
        let again = plan_page(&conn(), "inbox", &page, &stored_from(&first), cutoff());
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn a_new_etag_is_an_update_with_a_version_specific_event_id() {
        let first = plan_page(
            &conn(),
            "inbox",
            &[msg("m1", "e1", 1)],
            &HashMap::new(),
            cutoff(),
        );
        let plan = plan_page(
            &conn(),
            "inbox",
            &[msg("m1", "e2", 1)],
            &stored_from(&first),
            cutoff(),
        );
        assert_eq!(plan[0].kind, ChangeKind::Updated);
        assert!(plan[0].event_id().ends_with(":m1:e2"));
        assert!(plan[0].previous.is_some());
    }

    #[test]
    fn removal_marks_stored_messages_deleted_once_and_ignores_unknown_ids() {
        let first = plan_page(
            &conn(),
            "inbox",
            &[msg("m1", "e1", 1)],
            &HashMap::new(),
            cutoff(),
        );
        let stored = stored_from(&first);
        let removed = [
            DeltaChange::Removed { id: "m1".into() },
            DeltaChange::Removed {
                id: "unknown".into(),
            },
        ];
        let plan = plan_page(&conn(), "inbox", &removed, &stored, cutoff());
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].kind, ChangeKind::Deleted);
        assert!(plan[0].record.deleted);
        let again = plan_page(&conn(), "inbox", &removed, &stored_from(&plan), cutoff());
        assert!(again.is_empty());
        // Another folder's removal does not delete this folder's message.
        assert!(plan_page(&conn(), "sentitems", &removed, &stored, cutoff()).is_empty());
    }

    #[test]
    fn created_and_changed_in_one_page_is_one_creation_with_the_last_state() {
        let plan = plan_page(
            &conn(),
            "inbox",
            &[msg("m1", "e1", 1), msg("m1", "e2", 1)],
            &HashMap::new(),
            cutoff(),
        );
        assert_eq!(plan.len(), 1);
        assert_eq!(
            (plan[0].kind, plan[0].record.etag.as_str()),
            (ChangeKind::Created, "e2")
        );
    }

    #[test]
    fn event_details_never_carry_a_body_or_etag() {
        let plan = plan_page(
            &conn(),
            "inbox",
            &[msg("m1", "e1", 1)],
            &HashMap::new(),
            cutoff(),
        );
        let detail = plan[0].event_detail();
        assert!(detail["message"].get("body").is_none());
        assert!(detail["message"].get("etag").is_none());
        assert_eq!(detail["message"]["preview"], "hello");
        assert_eq!(detail["change"], "created");
    }
}
