//! Email addresses: one type and one rule for every route that takes an address.

use std::fmt;

use serde::Serialize;

use super::ParseError;

/// An email address in `local@domain` form: no spaces or control characters, a dotted domain,
/// at most 254 characters (RFC 5321's path limit). Exchange applies the full rules; this rejects
/// what is surely wrong before anything is created. The spelling is kept as given (trimmed);
/// [`EmailAddress::to_lowercase`] gives the form to compare with, since Exchange compares
/// addresses case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ParseError> {
        let raw = raw.trim();
        let bad = || {
            ParseError::new(
                field,
                format!("\"{raw}\" is not an email address (local@domain.tld)"),
            )
        };
        if raw.is_empty() || raw.len() > 254 {
            return Err(bad());
        }
        let (local, domain) = raw.rsplit_once('@').ok_or_else(bad)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:@\"".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return Err(bad());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The same address lower-cased: the form to compare, deduplicate and look up with.
    pub fn to_lowercase(&self) -> Self {
        Self(self.0.to_ascii_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_trimmed_and_keep_their_spelling() {
        let a = EmailAddress::parse("to", " Bob@Contoso.example ").unwrap();
        assert_eq!(a.as_str(), "Bob@Contoso.example");
        assert_eq!(a.to_lowercase().as_str(), "bob@contoso.example");
        for bad in [
            "",
            "bob",
            "@contoso.example",
            "bob@",
            "bob@localhost",
            "bob@contoso..example",
            "bo b@contoso.example",
            "bob@-contoso.example",
            "a@b@c.example",
        ] {
            assert_eq!(
                EmailAddress::parse("to", bad).unwrap_err().field,
                "to",
                "{bad}"
            );
        }
        assert!(EmailAddress::parse("to", &format!("{}@x.example", "a".repeat(65))).is_err());
    }
}
