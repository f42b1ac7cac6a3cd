//! How an administrator names their organization: the tenant id, or any domain verified in the
//! tenant (`contoso.com`, `contoso.onmicrosoft.com`). Microsoft's identity platform accepts both
//! wherever a `{tenant}` goes (OpenID discovery, `/adminconsent`, `/token`); this type is what
//! the connector accepts before resolving a domain to its tenant id
//! (`crate::identity::IdentityClient::resolve_tenant`).

use std::fmt;

use super::{ParseError, TenantId};

/// The tenant of personal Microsoft accounts (`consumers`): no organization, no administrator.
pub const CONSUMERS_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

const MAX_DOMAIN_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// A tenant as given: its id, or a domain still to be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantRef {
    Id(TenantId),
    Domain(TenantDomain),
}

impl TenantRef {
    /// A GUID is a tenant id; anything else must be a plausible DNS name. Nothing is looked up.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ParseError> {
        let raw = raw.trim();
        if let Ok(id) = TenantId::parse(field, raw) {
            return Ok(Self::Id(id));
        }
        TenantDomain::parse(raw)
            .map(Self::Domain)
            .map_err(|reason| {
                ParseError::new(
                    field,
                    format!(
                        "must be the tenant id (a GUID) or a domain of the organization, such as contoso.com or contoso.onmicrosoft.com ({reason})"
                    ),
                )
            })
    }
}

/// A syntactically valid DNS name, lower-cased: at least two labels of letters, digits and
/// hyphens (1-63 each, no hyphen at either end), 253 characters at most, and a top-level label
/// that is not all digits (so never an IP address). Internationalized names are accepted in their
/// `xn--` form only. Whether a tenant has verified it is for Microsoft to say.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantDomain(String);

impl TenantDomain {
    fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.is_empty() {
            return Err("it is empty");
        }
        if raw.len() > MAX_DOMAIN_LEN {
            return Err("a domain has at most 253 characters");
        }
        if !raw.is_ascii() {
            return Err("give an internationalized domain in its xn-- form");
        }
        let domain = raw.to_ascii_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err("a domain has at least two labels");
        }
        for label in &labels {
            let ok = !label.is_empty()
                && label.len() <= MAX_LABEL_LEN
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !ok {
                return Err("each label is 1-63 letters, digits or inner hyphens");
            }
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err("an IP address is not a domain");
        }
        Ok(Self(domain))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guid_is_a_tenant_id_in_any_of_its_spellings() {
        for raw in [
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
            " 72f988bf-86f1-41af-91ab-2d7cd011db47 ",
        ] {
            match TenantRef::parse("tenant", raw).unwrap() {
                TenantRef::Id(id) => {
                    assert_eq!(id.as_str(), "72f988bf-86f1-41af-91ab-2d7cd011db47")
                }
                other => panic!("{raw}: {other:?}"),
            }
        }
    }

    #[test]
    fn domains_are_accepted_lower_cased() {
        for (raw, want) in [
            ("contoso.com", "contoso.com"),
            ("Contoso.OnMicrosoft.com", "contoso.onmicrosoft.com"),
            ("mail.eu.fabrikam.co.uk", "mail.eu.fabrikam.co.uk"),
            ("xn--mller-kva.de", "xn--mller-kva.de"),
            ("3com.com", "3com.com"),
            ("a-b.example", "a-b.example"),
        ] {
            match TenantRef::parse("tenant", raw).unwrap() {
                TenantRef::Domain(d) => assert_eq!(d.as_str(), want),
                other => panic!("{raw}: {other:?}"),
            }
        }
    }

    #[test]
    fn anything_else_is_rejected_naming_the_field() {
        let long_label = format!("{}.com", "a".repeat(64));
        let long_name = format!("{}.com", ["abcdefghi"; 26].join("."));
        for bad in [
            "",
            "   ",
            "common",
            "organizations",
            "72f988bf",
            "contoso",
            "contoso.com.",
            ".contoso.com",
            "contoso..com",
            "-contoso.com",
            "contoso-.com",
            "con_toso.com",
            "contoso.com/evil",
            "contoso.com?x=1",
            "user@contoso.com",
            "contoso .com",
            "müller.de",
            "10.0.0.1",
            "https://contoso.com",
            long_label.as_str(),
            long_name.as_str(),
        ] {
            let err = TenantRef::parse("tenant", bad).unwrap_err();
            assert_eq!(err.field, "tenant", "{bad}");
        }
    }
}
