//! Types that parse: each is built only through a constructor that rejects bad input, so code
//! downstream takes the type and never re-checks a `String`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A validation failure, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ParseError {
    pub field: &'static str,
    pub reason: String,
}

impl ParseError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// The connector's id for one connected mailbox (a UUID, lower-case hyphenated).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConnectionId(String);

impl ConnectionId {
    pub fn new_random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let id = uuid::Uuid::parse_str(raw)
            .map_err(|_| ParseError::new("connection_id", "must be a UUID"))?;
        Ok(Self(id.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ConnectionId {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

impl From<ConnectionId> for String {
    fn from(id: ConnectionId) -> String {
        id.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The client app's own id for its user: opaque to us, 1-128 printable ASCII characters without
/// `#` (the storage key separator).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppUserId(String);

impl AppUserId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        if raw.is_empty() {
            return Err(ParseError::new("user_id", "must not be empty"));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(ParseError::new(
                "user_id",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic() && b != b'#') {
            return Err(ParseError::new(
                "user_id",
                "must be printable ASCII without spaces or '#'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AppUserId {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

impl From<AppUserId> for String {
    fn from(id: AppUserId) -> String {
        id.0
    }
}

/// Page size for list routes: 1-100, default 50.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u16);

impl PageLimit {
    pub const DEFAULT: u16 = 50;
    pub const MAX: u16 = 100;

    pub fn parse(raw: Option<&str>) -> Result<Self, ParseError> {
        let Some(raw) = raw else {
            return Ok(Self(Self::DEFAULT));
        };
        match raw.parse::<u16>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(ParseError::new(
                "limit",
                format!("must be an integer from 1 to {}", Self::MAX),
            )),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Active,
    ReauthRequired,
    UnsupportedMailbox,
}

/// What a connection's granted scopes allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    MailRead,
    MailSend,
    Calendar,
}

/// One connected Microsoft 365 mailbox, owned by one app user. Holds no token material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub id: ConnectionId,
    pub user_id: AppUserId,
    /// Microsoft Entra tenant id (GUID).
    pub tenant_id: String,
    /// The user's object id in that tenant (`oid`).
    pub ms_user_id: String,
    pub email: String,
    pub display_name: String,
    pub status: ConnectionStatus,
    pub capabilities: Vec<Capability>,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_ids_are_uuids_normalised_to_lower_case() {
        let id = ConnectionId::parse("6F9619FF-8B86-D011-B42D-00C04FC964FF").unwrap();
        assert_eq!(id.as_str(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        for bad in ["", "abc", "6f9619ff-8b86-d011-b42d", "CONN#x"] {
            assert_eq!(
                ConnectionId::parse(bad).unwrap_err().field,
                "connection_id",
                "{bad}"
            );
        }
    }

    #[test]
    fn app_user_ids_reject_empty_long_and_separator_characters() {
        assert!(AppUserId::parse("user-42@acme").is_ok());
        for bad in ["", "a b", "a#b", "tab\t", "é", &"x".repeat(129)] {
            assert_eq!(
                AppUserId::parse(bad).unwrap_err().field,
                "user_id",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn page_limit_defaults_and_bounds() {
        assert_eq!(PageLimit::parse(None).unwrap().get(), 50);
        assert_eq!(PageLimit::parse(Some("100")).unwrap().get(), 100);
        for bad in ["0", "101", "-1", "ten", ""] {
            assert_eq!(
                PageLimit::parse(Some(bad)).unwrap_err().field,
                "limit",
                "{bad}"
            );
        }
    }

    #[test]
    fn statuses_and_capabilities_serialise_in_snake_case() {
        assert_eq!(
            serde_json::to_value(ConnectionStatus::ReauthRequired).unwrap(),
            "reauth_required"
        );
        assert_eq!(
            serde_json::to_value(ConnectionStatus::UnsupportedMailbox).unwrap(),
            "unsupported_mailbox"
        );
        assert_eq!(
            serde_json::to_value(Capability::MailSend).unwrap(),
            "mail_send"
        );
    }
}
