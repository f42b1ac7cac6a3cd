//! The mail folders the connector syncs.

use super::ParseError;

/// A synced mail folder, by its Graph well-known name (also its name in storage and events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Folder {
    Inbox,
    SentItems,
}

impl Folder {
    pub const ALL: [Folder; 2] = [Folder::Inbox, Folder::SentItems];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbox => "inbox",
            Self::SentItems => "sentitems",
        }
    }

    /// A folder name as a client writes it (any case).
    pub fn parse(field: &str, raw: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(raw))
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|f| f.as_str()).collect();
                ParseError::new(field, format!("must be one of {}", names.join(", ")))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_parse_in_any_case_and_name_themselves_as_graph_does() {
        assert_eq!(
            Folder::parse("folder", "SentItems").unwrap(),
            Folder::SentItems
        );
        assert_eq!(Folder::Inbox.as_str(), "inbox");
        assert_eq!(
            Folder::parse("folder", "drafts").unwrap_err().field,
            "folder"
        );
    }
}
