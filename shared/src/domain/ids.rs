//! Identifiers and page sizes.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ParseError;

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

/// A Microsoft Entra tenant id: a GUID, lower-case hyphenated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ParseError> {
        uuid::Uuid::parse_str(raw)
            .map(|u| Self(u.hyphenated().to_string()))
            .map_err(|_| ParseError::new(field, "must be the tenant id (a GUID)"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether this is the tenant of personal Microsoft accounts, which has no administrator.
    pub fn is_consumers(&self) -> bool {
        self.0 == super::CONSUMERS_TENANT_ID
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Graph subscription id: Graph issues GUIDs; anything else is not Graph's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(String);

impl SubscriptionId {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ParseError> {
        uuid::Uuid::parse_str(raw)
            .map(|u| Self(u.hyphenated().to_string()))
            .map_err(|_| ParseError::new(field, "must be a Graph subscription id (a GUID)"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Graph id (message, event, draft, subscription): 1-512 characters of the alphabet Graph's ids
/// use (letters, digits, `-`, `_`, `=`, `+`, `.`), not made of dots alone. It goes into a URL only
/// through [`GraphId::segment`], one percent-encoded path segment, so an id can never change which
/// Graph resource a request names (`..`, `/`, `?`, `#` or `%` cannot reach the path unencoded).
/// Parsing also keeps `#`, the storage keys' separator, out of keys made from ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GraphId(String);

impl GraphId {
    pub const MAX_LEN: usize = 512;

    pub fn parse(field: &str, raw: &str) -> Result<Self, ParseError> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_=+.".contains(&b))
            // `.` and `..` are dot segments: URL parsers resolve them instead of sending them.
            && !raw.bytes().all(|b| b == b'.');
        if !ok {
            return Err(ParseError::new(
                field,
                "must be 1-512 characters of a Microsoft Graph id",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id itself, for storage keys, logs and comparisons; never for a URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as exactly one URL path segment.
    pub fn segment(&self) -> PathSegment<'_> {
        PathSegment(&self.0)
    }
}

/// Stored (e.g. in a queued send) as its plain string; read back only through [`GraphId::parse`].
impl serde::Serialize for GraphId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for GraphId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse("graph_id", &raw).map_err(serde::de::Error::custom)
    }
}

/// An id rendered as one percent-encoded URL path segment: every byte outside RFC 3986's
/// unreserved set (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`. Only [`GraphId::segment`] makes one, so
/// its id is never empty nor a dot segment; with `/`, `?`, `#` and `%` encoded, it cannot end the
/// segment, start a query or fragment, or be decoded into another path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathSegment<'a>(&'a str);

impl fmt::Display for PathSegment<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "%{b:02X}")?;
            }
        }
        Ok(())
    }
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
    fn tenant_and_subscription_ids_are_guids_and_graph_ids_url_safe() {
        assert_eq!(
            TenantId::parse("tenant", "72F988BF-86F1-41AF-91AB-2D7CD011DB47")
                .unwrap()
                .as_str(),
            "72f988bf-86f1-41af-91ab-2d7cd011db47"
        );
        for bad in ["contoso.example", "common", "", "72f988bf"] {
            assert_eq!(TenantId::parse("tenant", bad).unwrap_err().field, "tenant");
        }
        assert!(SubscriptionId::parse("subscriptionId", "not-a-guid").is_err());
        assert!(GraphId::parse("message_id", "AAMkAGI2=_-+.").is_ok());
        for bad in ["", "a/b", "a b", &"x".repeat(513)] {
            assert!(GraphId::parse("message_id", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hostile_ids_are_refused_or_stay_one_path_segment() {
        // Refused: dot segments, separators, percent-encoded forms (the `%` itself), controls.
        for bad in [
            ".", "..", "...", "a/b", "../x", "a?b", "a#b", "%2e%2e", "%2E", "a%2Fb", "a\\b",
            "a\nb", "a\u{0}b", "é",
        ] {
            assert!(GraphId::parse("event_id", bad).is_err(), "{bad:?}");
        }
        // Accepted ids render as one segment that URL parsing leaves alone.
        let base = url::Url::parse("https://graph.microsoft.com/v1.0/").unwrap();
        for good in ["AAMkAGI2TG93AAA=", "a.b", "..a", "a..", "x+y=", "-_"] {
            let id = GraphId::parse("event_id", good).unwrap();
            let url = base
                .join(&format!("me/events/{}/cancel", id.segment()))
                .unwrap();
            let segments: Vec<&str> = url.path_segments().unwrap().collect();
            assert_eq!(segments.len(), 5, "{good}: {url}");
            assert_eq!(segments[..3], ["v1.0", "me", "events"]);
            assert_eq!(segments[4], "cancel");
            let query = format!("x={}", segments[3]);
            let decoded = url::form_urlencoded::parse(query.as_bytes())
                .next()
                .unwrap()
                .1
                .into_owned();
            assert_eq!(decoded, good, "the segment decodes to the id");
        }
        assert_eq!(
            GraphId::parse("id", "AAMk+b=")
                .unwrap()
                .segment()
                .to_string(),
            "AAMk%2Bb%3D"
        );
    }

    #[test]
    fn a_segment_encodes_every_byte_outside_the_unreserved_set() {
        let raw = "a/b?c#d%e f..\\é";
        let encoded = PathSegment(raw).to_string();
        assert_eq!(encoded, "a%2Fb%3Fc%23d%25e%20f..%5C%C3%A9");
        assert!(encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
    }
}
