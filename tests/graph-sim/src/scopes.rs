//! Scope parsing: Graph permissions with or without the resource prefix, plus the OIDC scopes.

pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com/";

/// Graph delegated permissions the simulator knows, canonical spelling, with consent-page text.
pub const GRAPH_PERMISSIONS: &[(&str, &str)] = &[
    ("User.Read", "Sign you in and read your profile"),
    ("User.ReadBasic.All", "Read all users' basic profiles"),
    ("Mail.ReadBasic", "Read basic properties of your mail"),
    ("Mail.Read", "Read your mail"),
    ("Mail.ReadWrite", "Read and write access to your mail"),
    ("Mail.Send", "Send mail as you"),
    ("Calendars.Read", "Read your calendars"),
    ("Calendars.ReadWrite", "Have full access to your calendars"),
    ("Calendars.Read.Shared", "Read calendars you can access"),
];

/// The app registration's static permissions (what `/.default` means).
pub const STATIC_PERMISSIONS: &[&str] = &[
    "User.Read",
    "Mail.Read",
    "Mail.ReadWrite",
    "Mail.Send",
    "Calendars.ReadWrite",
];

pub const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// One requested scope after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// An OIDC scope (`openid`, `profile`, `email`, `offline_access`).
    Oidc(&'static str),
    /// A Graph permission, canonical name plus whether it was spelled with the resource prefix.
    Graph { name: &'static str, prefixed: bool },
}

/// A parsed `scope` parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet {
    pub items: Vec<Scope>,
}

impl ScopeSet {
    /// Parse a space-separated scope string; `Err(scope)` names the first unknown one.
    pub fn parse(raw: &str) -> Result<ScopeSet, String> {
        let mut items: Vec<Scope> = Vec::new();
        for tok in raw.split_whitespace() {
            let lower = tok.to_ascii_lowercase();
            if let Some(o) = OIDC_SCOPES.iter().find(|s| **s == lower) {
                push_unique(&mut items, Scope::Oidc(o));
                continue;
            }
            let (name, prefixed) = match lower.strip_prefix(GRAPH_RESOURCE) {
                Some(rest) => (rest.to_string(), true),
                None if lower.contains("://") => return Err(tok.to_string()),
                None => (lower.clone(), false),
            };
            if name == ".default" {
                for p in STATIC_PERMISSIONS {
                    push_unique(&mut items, Scope::Graph { name: p, prefixed });
                }
                continue;
            }
            match GRAPH_PERMISSIONS
                .iter()
                .find(|(p, _)| p.eq_ignore_ascii_case(&name))
            {
                Some((p, _)) => push_unique(&mut items, Scope::Graph { name: p, prefixed }),
                None => return Err(tok.to_string()),
            }
        }
        Ok(ScopeSet { items })
    }

    pub fn graph(&self) -> Vec<&'static str> {
        self.items
            .iter()
            .filter_map(|s| match s {
                Scope::Graph { name, .. } => Some(*name),
                _ => None,
            })
            .collect()
    }

    pub fn has_oidc(&self, name: &str) -> bool {
        self.items
            .iter()
            .any(|s| matches!(s, Scope::Oidc(o) if *o == name))
    }

    /// Keep only the Graph permissions in `granted` (OIDC scopes always stay).
    pub fn restrict(&self, granted: &[&str]) -> ScopeSet {
        ScopeSet {
            items: self
                .items
                .iter()
                .filter(|s| match s {
                    Scope::Graph { name, .. } => granted.contains(name),
                    Scope::Oidc(_) => true,
                })
                .cloned()
                .collect(),
        }
    }

    /// The `scope` value of a token response: granted Graph permissions spelled as requested,
    /// then the OIDC scopes other than `offline_access` (Microsoft leaves that one out).
    pub fn response_string(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        for s in &self.items {
            if let Scope::Graph { name, prefixed } = s {
                out.push(if *prefixed {
                    format!("{GRAPH_RESOURCE}{name}")
                } else {
                    name.to_string()
                });
            }
        }
        for s in &self.items {
            if let Scope::Oidc(o) = s {
                if *o != "offline_access" {
                    out.push(o.to_string());
                }
            }
        }
        out.join(" ")
    }
}

fn push_unique(items: &mut Vec<Scope>, s: Scope) {
    let dup = items.iter().any(|e| match (e, &s) {
        (Scope::Graph { name: a, .. }, Scope::Graph { name: b, .. }) => a == b,
        (a, b) => a == b,
    });
    if !dup {
        items.push(s);
    }
}

pub fn describe(name: &str) -> &'static str {
    GRAPH_PERMISSIONS
        .iter()
        .find(|(p, _)| *p == name)
        .map(|(_, d)| *d)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_and_bare_graph_scopes_parse_to_the_same_permission() {
        let s = ScopeSet::parse(
            "openid https://graph.microsoft.com/mail.read Mail.Send offline_access",
        )
        .unwrap();
        assert_eq!(s.graph(), vec!["Mail.Read", "Mail.Send"]);
        assert_eq!(
            s.response_string(),
            "https://graph.microsoft.com/Mail.Read Mail.Send openid"
        );
    }

    #[test]
    fn unknown_scopes_and_foreign_resources_are_rejected() {
        assert_eq!(ScopeSet::parse("Files.Read").unwrap_err(), "Files.Read");
        assert!(ScopeSet::parse("https://outlook.office.com/Mail.Read").is_err());
    }

    #[test]
    fn dot_default_expands_to_the_static_permissions() {
        let s = ScopeSet::parse("https://graph.microsoft.com/.default").unwrap();
        assert_eq!(s.graph(), STATIC_PERMISSIONS.to_vec());
    }
}
