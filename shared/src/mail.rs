//! Reading synced mail: the stored metadata, newest first, and one message's body fetched live
//! from Graph (bodies are never stored).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::Connector;
use crate::domain::{
    Connection, ConnectionId, ConnectionStatus, EmailAddress, Folder, GraphId, PageLimit,
    ParseError,
};
use crate::graph::GraphError;
use crate::store::messages::{MessageQuery, MessageRecord};
use crate::store::{Page, StoreError};
use crate::tokens::{self, TokenServiceError};

/// Why reading mail failed; `crate::failures` decides the answers.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("no connection {0}")]
    ConnectionNotFound(ConnectionId),
    #[error("no message {0}")]
    MessageNotFound(String),
    #[error("no calendar event {0}")]
    EventNotFound(String),
    /// Synced, but Graph no longer has it.
    #[error("message {0} is no longer in the mailbox")]
    Gone(String),
    #[error("the connection is {0}")]
    NotActive(String),
    #[error(transparent)]
    Token(#[from] TokenServiceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Graph call failed")]
    Graph(#[source] GraphError),
    #[error("the message body does not serialise")]
    Encode(#[source] serde_json::Error),
}

impl crate::graph::GraphCause for MailError {
    fn graph(&self) -> Option<&GraphError> {
        match self {
            Self::Graph(e) => Some(e),
            _ => None,
        }
    }
}

/// The app-facing JSON of a stored message (the etag is internal); also the `message` of every
/// `message.*` event. `truncated` says the message was bounded (`crate::sync::bounds`): `to` and
/// `cc` may hold fewer recipients than `to_count` and `cc_count`, and text may be shortened.
pub fn view(r: &MessageRecord) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "folder": r.folder,
        "subject": r.subject,
        "from": r.from,
        "to": r.to,
        "cc": r.cc,
        "sent_at": r.sent_at,
        "received_at": r.received_at,
        "conversation_id": r.conversation_id,
        "internet_message_id": r.internet_message_id,
        "preview": r.preview,
        "has_attachments": r.has_attachments,
        "is_read": r.is_read,
        "web_link": r.web_link,
        "deleted": r.deleted,
        "truncated": r.truncated,
        "to_count": r.to_count.map_or(r.to.len(), |n| n as usize),
        "cc_count": r.cc_count.map_or(r.cc.len(), |n| n as usize),
    })
}

/// The query of `GET /connections/{id}/messages`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub folder: Option<Folder>,
    /// Lower-cased, as the counterpart index stores addresses.
    pub with: Option<EmailAddress>,
    pub since: Option<DateTime<Utc>>,
    pub limit: PageLimit,
    pub cursor: Option<String>,
}

impl ListParams {
    /// Parses the query parameters (`lookup` gives the first value of a name).
    pub fn parse<'a>(lookup: impl Fn(&str) -> Option<&'a str>) -> Result<Self, ParseError> {
        let folder = lookup("folder")
            .map(|f| Folder::parse("folder", f))
            .transpose()?;
        let with = match lookup("with") {
            None => None,
            Some(w) => {
                let address = EmailAddress::parse("with", w)?.to_lowercase();
                // `#` separates the parts of storage keys, and the address becomes one.
                if address.as_str().contains('#') {
                    return Err(ParseError::new("with", "must not contain '#'"));
                }
                Some(address)
            }
        };
        let since = lookup("since")
            .map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| ParseError::new("since", "must be an RFC 3339 date-time"))
            })
            .transpose()?;
        Ok(Self {
            folder,
            with,
            since,
            limit: PageLimit::parse(lookup("limit"))?,
            cursor: lookup("cursor").map(str::to_owned),
        })
    }
}

/// The body of `GET /connections/{id}/messages`.
#[derive(Debug, Clone, Serialize)]
pub struct MessageList {
    pub messages: Vec<serde_json::Value>,
    pub next_cursor: Option<String>,
}

async fn connection(c: &Connector, id: &ConnectionId) -> Result<Connection, MailError> {
    c.store
        .get_connection(id)
        .await?
        .ok_or_else(|| MailError::ConnectionNotFound(id.clone()))
}

/// `GET /connections/{id}/messages`: what has been synced, newest first. Works for connections in
/// any status (it reads only what is stored) but `deleting`, whose mail is being removed.
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn list(
    c: &Connector,
    id: &ConnectionId,
    params: &ListParams,
) -> Result<MessageList, MailError> {
    if connection(c, id).await?.status == ConnectionStatus::Deleting {
        return Err(MailError::NotActive("deleting".into()));
    }
    let query = MessageQuery {
        folder: params.folder.map(Folder::as_str),
        with: params.with.as_ref().map(EmailAddress::as_str),
        since: params.since,
        limit: params.limit,
        cursor: params.cursor.as_deref(),
    };
    let Page { items, next_cursor } = c.store.list_messages(id, &query).await??;
    Ok(MessageList {
        messages: items.iter().map(view).collect(),
        next_cursor,
    })
}

/// `GET /connections/{id}/messages/{message_id}`: the stored metadata plus the body, read live
/// from Graph. 404 for a message that was never synced or that Graph no longer has; 409 when the
/// connection cannot reach the mailbox.
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn get(
    c: &Connector,
    id: &ConnectionId,
    message_id: &GraphId,
) -> Result<serde_json::Value, MailError> {
    let connection = connection(c, id).await?;
    let stored = c
        .store
        .get_message(id, message_id.as_str())
        .await?
        .ok_or_else(|| MailError::MessageNotFound(message_id.as_str().to_owned()))?;
    if connection.status != ConnectionStatus::Active {
        return Err(MailError::NotActive(
            serde_json::to_value(connection.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        ));
    }
    let live = tokens::with_access_token(c, id, |token| async move {
        c.graph
            .get_message(&token, message_id)
            .await
            .map_err(MailError::Graph)
    })
    .await
    .map_err(|e| match e {
        MailError::Graph(GraphError::Api { status: 404, .. }) => {
            MailError::Gone(message_id.as_str().to_owned())
        }
        other => other,
    })?;
    let mut body = view(&stored);
    body["body"] = serde_json::to_value(&live.body).map_err(MailError::Encode)?;
    // The live flags win: the stored copy may lag a notification behind.
    if let Some(is_read) = live.is_read {
        body["is_read"] = is_read.into();
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &[(&str, &str)]) -> Result<ListParams, ParseError> {
        ListParams::parse(|name| q.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
    }

    #[test]
    fn list_parameters_parse_and_default() {
        let p = parse(&[
            ("folder", "Inbox"),
            ("with", "Bob@Contoso.example"),
            ("since", "2026-01-01T00:00:00+01:00"),
        ])
        .unwrap();
        assert_eq!(p.folder.map(Folder::as_str), Some("inbox"));
        assert_eq!(
            p.with.as_ref().map(EmailAddress::as_str),
            Some("bob@contoso.example")
        );
        assert_eq!(p.since.unwrap().to_rfc3339(), "2025-12-31T23:00:00+00:00");
        assert_eq!(p.limit.get(), 50);
    }

    #[test]
    fn bad_list_parameters_name_their_field() {
        for (name, value) in [
            ("folder", "drafts"),
            ("with", "not-an-address"),
            ("with", "a#b@c.example"),
            ("since", "yesterday"),
            ("limit", "0"),
        ] {
            assert_eq!(parse(&[(name, value)]).unwrap_err().field, name, "{value}");
        }
    }

    #[test]
    fn message_ids_reject_path_and_key_separators() {
        assert!(GraphId::parse("message_id", "AAMkAGI2TG93AAA=").is_ok());
        for bad in ["", "a/b", "a#b", "a b", &"x".repeat(513)] {
            assert_eq!(
                GraphId::parse("message_id", bad).unwrap_err().field,
                "message_id"
            );
        }
    }
}

/// The query of `GET /connections/{id}/calendar-events`, parsed: a window (default: the next
/// 30 days; at most [`MAX_CALENDAR_WINDOW_DAYS`] long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarListParams {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub limit: PageLimit,
    pub cursor: Option<String>,
}

/// The longest window one listing takes (the synced window is 210 days by default).
pub const MAX_CALENDAR_WINDOW_DAYS: i64 = 400;

impl CalendarListParams {
    /// Parses the query parameters (`lookup` gives the first value of a name).
    pub fn parse<'a>(
        lookup: impl Fn(&str) -> Option<&'a str>,
        now: DateTime<Utc>,
    ) -> Result<Self, ParseError> {
        let time = |name: &'static str| {
            lookup(name)
                .map(|s| {
                    DateTime::parse_from_rfc3339(s)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| ParseError::new(name, "must be an RFC 3339 date-time"))
                })
                .transpose()
        };
        let start = time("start")?.unwrap_or(now);
        let end = time("end")?.unwrap_or(start + chrono::Duration::days(30));
        if end <= start {
            return Err(ParseError::new("end", "must be after start"));
        }
        if end - start > chrono::Duration::days(MAX_CALENDAR_WINDOW_DAYS) {
            return Err(ParseError::new(
                "end",
                format!("must be at most {MAX_CALENDAR_WINDOW_DAYS} days after start"),
            ));
        }
        Ok(Self {
            start,
            end,
            limit: PageLimit::parse(lookup("limit"))?,
            cursor: lookup("cursor").map(str::to_owned),
        })
    }
}

/// The body of `GET /connections/{id}/calendar-events`.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarEventList {
    pub calendar_events: Vec<serde_json::Value>,
    pub next_cursor: Option<String>,
}

/// `GET /connections/{id}/calendar-events`: the synced instances overlapping the window, every
/// occurrence of a series on its own, ordered by start. Deleted instances are left out.
pub async fn list_calendar_events(
    c: &Connector,
    id: &ConnectionId,
    params: &CalendarListParams,
) -> Result<CalendarEventList, MailError> {
    if connection(c, id).await?.status == ConnectionStatus::Deleting {
        return Err(MailError::NotActive("deleting".into()));
    }
    let query = crate::store::calendar::CalendarQuery {
        start: params.start,
        end: params.end,
        limit: params.limit,
        cursor: params.cursor.as_deref(),
    };
    let Page { items, next_cursor } = c.store.list_calendar_events(id, &query).await??;
    Ok(CalendarEventList {
        calendar_events: items.iter().map(crate::sync::calendar::view).collect(),
        next_cursor,
    })
}

/// `GET /connections/{id}/calendar-events/{event_id}`: one synced instance (a deleted one too,
/// flagged), from the store.
pub async fn get_calendar_event(
    c: &Connector,
    id: &ConnectionId,
    event_id: &GraphId,
) -> Result<serde_json::Value, MailError> {
    connection(c, id).await?;
    let stored = c
        .store
        .get_calendar_event(id, event_id.as_str())
        .await?
        .ok_or_else(|| MailError::EventNotFound(event_id.as_str().to_owned()))?;
    Ok(crate::sync::calendar::view(&stored))
}
