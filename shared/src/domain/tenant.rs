//! A Microsoft tenant's access level: what the connector may do with the mailboxes of that
//! organisation, as its administrator set it (`crate::tenants` owns the use cases; the level lives
//! here, beside the connection model it restricts, because the store maps it too).

use serde::{Deserialize, Serialize};

use super::{Capability, ParseError};

/// The access level of a tenant. A tenant nobody set a level for is [`TenantAccess::SendAndView`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantAccess {
    /// Everything the connections' granted scopes allow.
    #[default]
    SendAndView,
    /// Mail and calendars stay readable; no connection of the tenant may send mail.
    ViewOnly,
    /// No connection of the tenant may exist: existing ones are disconnected, new ones refused.
    Off,
}

impl TenantAccess {
    pub const ALL: [TenantAccess; 3] = [Self::SendAndView, Self::ViewOnly, Self::Off];

    /// The level's name in the API, storage and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendAndView => "send_and_view",
            Self::ViewOnly => "view_only",
            Self::Off => "off",
        }
    }

    /// A level as a client writes it (exactly as [`TenantAccess::as_str`] names it).
    pub fn parse(field: &str, raw: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == raw)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
                ParseError::new(field, format!("must be one of {}", names.join(", ")))
            })
    }

    /// Whether a connection of a tenant at this level may use `capability` (when its granted
    /// scopes give it at all). `Off` permits nothing: a connection that slipped in while the
    /// tenant was being switched off can do nothing until a repeated switch-off removes it.
    pub fn permits(self, capability: Capability) -> bool {
        match self {
            Self::SendAndView => true,
            Self::ViewOnly => capability != Capability::MailSend,
            Self::Off => false,
        }
    }

    /// The capabilities granted scopes give, less what this level withholds. The granted ones
    /// stay stored on the connection untouched, so a more permissive level restores them.
    pub fn restrict(self, granted: &[Capability]) -> Vec<Capability> {
        granted
            .iter()
            .copied()
            .filter(|c| self.permits(*c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_by_their_exact_names_and_default_to_send_and_view() {
        for level in TenantAccess::ALL {
            assert_eq!(TenantAccess::parse("access", level.as_str()), Ok(level));
            assert_eq!(
                serde_json::to_value(level).unwrap(),
                serde_json::json!(level.as_str())
            );
        }
        assert_eq!(TenantAccess::default(), TenantAccess::SendAndView);
        for bad in ["", "VIEW_ONLY", "view-only", "read_only", "on"] {
            let e = TenantAccess::parse("access", bad).unwrap_err();
            assert_eq!(e.field, "access", "{bad:?}");
            assert!(
                e.reason.contains("send_and_view, view_only, off"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn view_only_withholds_sending_only_and_off_everything() {
        let granted = [
            Capability::MailRead,
            Capability::MailSend,
            Capability::Calendar,
        ];
        assert_eq!(TenantAccess::SendAndView.restrict(&granted), granted);
        assert_eq!(
            TenantAccess::ViewOnly.restrict(&granted),
            [Capability::MailRead, Capability::Calendar]
        );
        assert!(TenantAccess::Off.restrict(&granted).is_empty());
        // A level never grants what the scopes did not.
        assert_eq!(
            TenantAccess::SendAndView.restrict(&[Capability::MailRead]),
            [Capability::MailRead]
        );
    }
}
