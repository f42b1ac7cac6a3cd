//! Time zones: IANA names (what clients send and get back) and Windows zone ids (what Exchange
//! speaks in `Prefer: outlook.timezone` and `workingHours.timeZone.name`).
//!
//! The Windows <-> IANA mapping is CLDR's `windowsZones`, from the `windows-timezones` crate
//! (generated from CLDR supplemental data). CLDR keeps legacy IANA spellings as its canonical ids
//! (`Asia/Calcutta`, `Europe/Kiev`, ...), while tzdb and clients use the modern names
//! (`Asia/Kolkata`, `Europe/Kyiv`); [`RENAMED`] bridges the two in both directions, so a client
//! that sends `Asia/Kolkata` gets `India Standard Time` for Graph and sees `Asia/Kolkata` again.

use std::str::FromStr;

use chrono_tz::Tz;
use windows_timezones::WindowsTimezone;

use crate::domain::ParseError;

/// tzdb renames and links where CLDR's windowsZones uses another spelling: (what clients send,
/// CLDR's id).
const RENAMED: &[(&str, &str)] = &[
    ("UTC", "Etc/UTC"),
    ("Asia/Kolkata", "Asia/Calcutta"),
    ("Asia/Kathmandu", "Asia/Katmandu"),
    ("Asia/Yangon", "Asia/Rangoon"),
    ("Asia/Ho_Chi_Minh", "Asia/Saigon"),
    ("Europe/Kyiv", "Europe/Kiev"),
    ("America/Nuuk", "America/Godthab"),
    ("Atlantic/Faroe", "Atlantic/Faeroe"),
    ("America/Argentina/Buenos_Aires", "America/Buenos_Aires"),
    ("America/Indiana/Indianapolis", "America/Indianapolis"),
    ("Pacific/Kanton", "Pacific/Enderbury"),
    ("Pacific/Chuuk", "Pacific/Truk"),
    ("Pacific/Pohnpei", "Pacific/Ponape"),
    ("America/Atikokan", "America/Coral_Harbour"),
    ("Asia/Ulaanbaatar", "Asia/Ulan_Bator"),
];

/// The modern tzdb spelling of a zone that browsers (ICU) and CLDR still name the old way:
/// Chromium reports `Asia/Calcutta` where people and tzdb say `Asia/Kolkata`.
pub fn modern(tz: Tz) -> Tz {
    RENAMED
        .iter()
        .find(|(_, old)| *old == tz.name())
        .and_then(|(new, _)| Tz::from_str(new).ok())
        .unwrap_or(tz)
}

/// A validated IANA time zone. Windows ids and free text are rejected: the API speaks IANA only,
/// the translation to Windows happens at the Graph boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IanaZone(Tz);

impl IanaZone {
    /// Parses an IANA name (case-sensitive, as tzdb spells it) for the request field `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ParseError> {
        // "UTC" is both an IANA name and a Windows id; IANA wins.
        if let Ok(tz) = Tz::from_str(raw) {
            return Ok(Self(tz));
        }
        let hint = if WindowsTimezone::from_str(raw).is_ok() {
            "is a Windows time zone id; use an IANA name such as \"Europe/Berlin\""
        } else {
            "is not an IANA time zone name (e.g. \"Europe/Berlin\")"
        };
        Err(ParseError::new(field, format!("\"{raw}\" {hint}")))
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The Windows zone id Exchange knows this zone by, or `None` when CLDR has no mapping
    /// (then callers fall back to UTC on the wire and convert locally).
    pub fn windows_id(self) -> Option<&'static str> {
        windows_for(self.0).map(WindowsTimezone::name)
    }
}

impl From<Tz> for IanaZone {
    fn from(tz: Tz) -> Self {
        Self(tz)
    }
}

fn windows_for(tz: Tz) -> Option<WindowsTimezone> {
    if let Ok(w) = WindowsTimezone::try_from(tz) {
        return Some(w);
    }
    let legacy = RENAMED
        .iter()
        .find(|(modern, _)| *modern == tz.name())
        .map(|(_, legacy)| *legacy)?;
    WindowsTimezone::try_from(Tz::from_str(legacy).ok()?).ok()
}

/// The IANA zone for a zone name Graph sent: a Windows id (mapped through CLDR to its golden
/// zone, spelled the modern way) or an IANA name (Exchange accepts and echoes both).
pub fn zone_from_graph(name: &str) -> Option<IanaZone> {
    if let Ok(w) = WindowsTimezone::from_str(name) {
        let golden = w.tzdb_id();
        let modern = RENAMED
            .iter()
            .find(|(_, legacy)| *legacy == golden)
            .map(|(modern, _)| *modern)
            .unwrap_or(golden);
        return Tz::from_str(modern).ok().map(IanaZone);
    }
    Tz::from_str(name).ok().map(IanaZone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_parse_and_windows_ids_are_rejected_naming_the_field() {
        assert_eq!(
            IanaZone::parse("time_zone", "Europe/Berlin")
                .unwrap()
                .name(),
            "Europe/Berlin"
        );
        for bad in [
            "W. Europe Standard Time",
            "Eastern Standard Time",
            "Mars/Olympus",
            "",
            "berlin",
        ] {
            let e = IanaZone::parse("time_zone", bad).unwrap_err();
            assert_eq!(e.field, "time_zone", "{bad}");
        }
        let e = IanaZone::parse("time_zone", "W. Europe Standard Time").unwrap_err();
        assert!(e.reason.contains("Windows"), "{}", e.reason);
    }

    #[test]
    fn the_seeded_users_zones_map_to_windows_ids_and_back() {
        for (iana, windows) in [
            ("Europe/Berlin", "W. Europe Standard Time"),
            ("America/New_York", "Eastern Standard Time"),
            ("Asia/Kolkata", "India Standard Time"),
            ("Asia/Calcutta", "India Standard Time"),
            ("Europe/Kyiv", "FLE Standard Time"),
            ("Europe/Paris", "Romance Standard Time"),
            ("UTC", "UTC"),
        ] {
            let zone = IanaZone::parse("time_zone", iana).unwrap();
            assert_eq!(zone.windows_id(), Some(windows), "{iana}");
        }
        for (windows, iana) in [
            ("W. Europe Standard Time", "Europe/Berlin"),
            ("Eastern Standard Time", "America/New_York"),
            ("India Standard Time", "Asia/Kolkata"),
            ("FLE Standard Time", "Europe/Kyiv"),
            ("Pacific Standard Time", "America/Los_Angeles"),
        ] {
            assert_eq!(zone_from_graph(windows).unwrap().name(), iana, "{windows}");
        }
        assert_eq!(zone_from_graph("Asia/Tokyo").unwrap().name(), "Asia/Tokyo");
        assert!(zone_from_graph("Customized Time Zone").is_none());
    }
}

#[cfg(test)]
mod modern_tests {
    use super::*;

    #[test]
    fn a_browsers_legacy_zone_name_is_shown_in_its_modern_spelling() {
        assert_eq!(modern(chrono_tz::Asia::Calcutta), chrono_tz::Asia::Kolkata);
        assert_eq!(modern(chrono_tz::Europe::Berlin), chrono_tz::Europe::Berlin);
    }
}
