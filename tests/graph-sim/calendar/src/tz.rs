//! Time zones as Graph names them: Windows zone ids ("W. Europe Standard Time") and IANA names
//! ("Europe/Berlin"), the `dateTimeTimeZone` complex type, and the `Prefer: outlook.timezone`
//! header.

use std::fmt;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::CalendarError;

/// One row of the Windows <-> IANA table: a Windows zone id, the IANA zone CLDR maps it to for
/// the "001" (golden) territory, and further IANA names CLDR maps to the same Windows zone (other
/// territories, legacy spellings) that translate back to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowsZone {
    /// Windows time-zone id, as Exchange spells it.
    pub windows: &'static str,
    /// The canonical IANA zone for the Windows id.
    pub iana: &'static str,
    /// Other IANA names that map to this Windows id.
    pub aliases: &'static [&'static str],
}

const fn wz(
    windows: &'static str,
    iana: &'static str,
    aliases: &'static [&'static str],
) -> WindowsZone {
    WindowsZone {
        windows,
        iana,
        aliases,
    }
}

/// The Windows <-> IANA mapping table (facts from CLDR `windowsZones`; modern IANA spellings are
/// used as the canonical name where the golden zone has been renamed, the CLDR spelling is kept as
/// an alias).
#[rustfmt::skip]
pub const WINDOWS_ZONES: &[WindowsZone] = &[
    wz("Dateline Standard Time", "Etc/GMT+12", &[]),
    wz("UTC-11", "Etc/GMT+11", &["Pacific/Pago_Pago", "Pacific/Midway"]),
    wz("Hawaiian Standard Time", "Pacific/Honolulu", &["Pacific/Johnston"]),
    wz("Alaskan Standard Time", "America/Anchorage", &["America/Juneau", "America/Nome"]),
    wz("Pacific Standard Time (Mexico)", "America/Tijuana", &["America/Santa_Isabel"]),
    wz("Pacific Standard Time", "America/Los_Angeles", &["America/Vancouver", "PST8PDT"]),
    wz("US Mountain Standard Time", "America/Phoenix", &["America/Hermosillo"]),
    wz("Mountain Standard Time (Mexico)", "America/Mazatlan", &[]),
    wz("Mountain Standard Time", "America/Denver", &["America/Edmonton", "America/Boise", "MST7MDT"]),
    wz("Central America Standard Time", "America/Guatemala", &["America/Costa_Rica", "America/El_Salvador"]),
    wz("Central Standard Time", "America/Chicago", &["America/Winnipeg", "CST6CDT"]),
    wz("Central Standard Time (Mexico)", "America/Mexico_City", &["America/Monterrey"]),
    wz("Canada Central Standard Time", "America/Regina", &[]),
    wz("SA Pacific Standard Time", "America/Bogota", &["America/Lima", "America/Panama"]),
    wz("Eastern Standard Time", "America/New_York", &["America/Toronto", "America/Detroit", "EST5EDT"]),
    wz("US Eastern Standard Time", "America/Indiana/Indianapolis", &["America/Indianapolis"]),
    wz("Venezuela Standard Time", "America/Caracas", &[]),
    wz("Atlantic Standard Time", "America/Halifax", &["Atlantic/Bermuda"]),
    wz("SA Western Standard Time", "America/La_Paz", &["America/Puerto_Rico"]),
    wz("Newfoundland Standard Time", "America/St_Johns", &[]),
    wz("E. South America Standard Time", "America/Sao_Paulo", &[]),
    wz("Argentina Standard Time", "America/Argentina/Buenos_Aires", &["America/Buenos_Aires"]),
    wz("SA Eastern Standard Time", "America/Cayenne", &["America/Fortaleza"]),
    wz("Greenland Standard Time", "America/Nuuk", &["America/Godthab"]),
    wz("UTC-02", "Etc/GMT+2", &["America/Noronha"]),
    wz("Azores Standard Time", "Atlantic/Azores", &[]),
    wz("Cape Verde Standard Time", "Atlantic/Cape_Verde", &[]),
    wz("UTC", "Etc/UTC", &[
        "UTC", "Etc/GMT", "GMT", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal",
        "Zulu"
    ]),
    wz("GMT Standard Time", "Europe/London", &["Europe/Dublin", "Europe/Lisbon", "Atlantic/Canary"]),
    wz("Greenwich Standard Time", "Atlantic/Reykjavik", &["Africa/Abidjan", "Africa/Accra", "Africa/Dakar"]),
    wz("W. Europe Standard Time", "Europe/Berlin", &[
        "Europe/Amsterdam", "Europe/Rome", "Europe/Stockholm", "Europe/Vienna", "Europe/Zurich",
        "Europe/Oslo", "Europe/Luxembourg", "Europe/Monaco", "Europe/Malta", "Europe/Andorra",
        "Europe/Gibraltar", "Europe/Vaduz", "Europe/San_Marino", "Europe/Vatican"
    ]),
    wz("Central Europe Standard Time", "Europe/Budapest", &[
        "Europe/Prague", "Europe/Belgrade", "Europe/Bratislava", "Europe/Ljubljana",
        "Europe/Podgorica", "Europe/Tirane"
    ]),
    wz("Romance Standard Time", "Europe/Paris", &["Europe/Brussels", "Europe/Copenhagen", "Europe/Madrid"]),
    wz("Central European Standard Time", "Europe/Warsaw", &[
        "Europe/Sarajevo", "Europe/Skopje", "Europe/Zagreb"
    ]),
    wz("W. Central Africa Standard Time", "Africa/Lagos", &["Africa/Algiers", "Africa/Tunis"]),
    wz("Morocco Standard Time", "Africa/Casablanca", &[]),
    wz("GTB Standard Time", "Europe/Bucharest", &["Europe/Athens", "Asia/Nicosia"]),
    wz("E. Europe Standard Time", "Europe/Chisinau", &[]),
    wz("FLE Standard Time", "Europe/Kyiv", &[
        "Europe/Kiev", "Europe/Helsinki", "Europe/Riga", "Europe/Sofia", "Europe/Tallinn",
        "Europe/Vilnius", "Europe/Mariehamn"
    ]),
    wz("Egypt Standard Time", "Africa/Cairo", &[]),
    wz("South Africa Standard Time", "Africa/Johannesburg", &["Africa/Maputo", "Africa/Harare"]),
    wz("Israel Standard Time", "Asia/Jerusalem", &["Asia/Tel_Aviv"]),
    wz("Turkey Standard Time", "Europe/Istanbul", &["Asia/Istanbul"]),
    wz("Arab Standard Time", "Asia/Riyadh", &["Asia/Kuwait", "Asia/Qatar", "Asia/Bahrain", "Asia/Aden"]),
    wz("Russian Standard Time", "Europe/Moscow", &["Europe/Simferopol"]),
    wz("E. Africa Standard Time", "Africa/Nairobi", &[
        "Africa/Addis_Ababa", "Africa/Dar_es_Salaam", "Africa/Kampala"
    ]),
    wz("Iran Standard Time", "Asia/Tehran", &[]),
    wz("Arabian Standard Time", "Asia/Dubai", &["Asia/Muscat"]),
    wz("Pakistan Standard Time", "Asia/Karachi", &[]),
    wz("India Standard Time", "Asia/Kolkata", &["Asia/Calcutta"]),
    wz("Sri Lanka Standard Time", "Asia/Colombo", &[]),
    wz("Nepal Standard Time", "Asia/Kathmandu", &["Asia/Katmandu"]),
    wz("Bangladesh Standard Time", "Asia/Dhaka", &["Asia/Dacca", "Asia/Thimphu"]),
    wz("SE Asia Standard Time", "Asia/Bangkok", &[
        "Asia/Jakarta", "Asia/Ho_Chi_Minh", "Asia/Saigon", "Asia/Phnom_Penh", "Asia/Vientiane"
    ]),
    wz("China Standard Time", "Asia/Shanghai", &["Asia/Hong_Kong", "Asia/Macau", "Asia/Chongqing", "PRC"]),
    wz("Singapore Standard Time", "Asia/Singapore", &[
        "Asia/Kuala_Lumpur", "Asia/Manila", "Asia/Brunei", "Asia/Makassar"
    ]),
    wz("Taipei Standard Time", "Asia/Taipei", &[]),
    wz("W. Australia Standard Time", "Australia/Perth", &[]),
    wz("Tokyo Standard Time", "Asia/Tokyo", &["Japan"]),
    wz("Korea Standard Time", "Asia/Seoul", &["ROK"]),
    wz("Cen. Australia Standard Time", "Australia/Adelaide", &["Australia/Broken_Hill"]),
    wz("AUS Central Standard Time", "Australia/Darwin", &[]),
    wz("E. Australia Standard Time", "Australia/Brisbane", &["Australia/Lindeman"]),
    wz("AUS Eastern Standard Time", "Australia/Sydney", &["Australia/Melbourne", "Australia/Canberra"]),
    wz("Tasmania Standard Time", "Australia/Hobart", &[]),
    wz("West Pacific Standard Time", "Pacific/Port_Moresby", &["Pacific/Guam"]),
    wz("New Zealand Standard Time", "Pacific/Auckland", &["Antarctica/McMurdo", "NZ"]),
    wz("Tonga Standard Time", "Pacific/Tongatapu", &[]),
];

fn table_by_windows(name: &str) -> Option<&'static WindowsZone> {
    let name = name.trim();
    WINDOWS_ZONES
        .iter()
        .find(|z| z.windows.eq_ignore_ascii_case(name))
}

/// Windows zone id -> canonical IANA name (case-insensitive on the Windows id).
///
/// `windows_to_iana("W. Europe Standard Time") == Some("Europe/Berlin")`.
pub fn windows_to_iana(windows: &str) -> Option<&'static str> {
    table_by_windows(windows).map(|z| z.iana)
}

/// IANA name (canonical or alias) -> Windows zone id.
///
/// `iana_to_windows("Asia/Calcutta") == Some("India Standard Time")`.
pub fn iana_to_windows(iana: &str) -> Option<&'static str> {
    let iana = iana.trim();
    WINDOWS_ZONES
        .iter()
        .find(|z| z.iana == iana || z.aliases.contains(&iana))
        .map(|z| z.windows)
}

/// A time zone as a Graph client named it, resolved to tz data.
///
/// `name()` is the spelling used when the zone is echoed back (Windows ids are normalised to
/// Exchange's capitalisation, IANA names are kept as given). Two values are equal when they have
/// the same name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphTimeZone {
    name: String,
    tz: Tz,
}

impl GraphTimeZone {
    /// `"UTC"`, the zone Graph answers in without `Prefer: outlook.timezone`.
    pub fn utc() -> Self {
        GraphTimeZone {
            name: "UTC".to_string(),
            tz: Tz::UTC,
        }
    }

    /// Resolves a Windows zone id (case-insensitive) or an IANA name (exact). Also accepts
    /// Exchange's `tzone://Microsoft/Utc`.
    ///
    /// Errors: [`CalendarError::InvalidTimeZone`] for anything else (including the empty string).
    pub fn parse(name: &str) -> Result<Self, CalendarError> {
        let trimmed = name.trim();
        if let Some(z) = table_by_windows(trimmed) {
            let tz = z
                .iana
                .parse::<Tz>()
                .map_err(|_| CalendarError::InvalidTimeZone(name.to_string()))?;
            return Ok(GraphTimeZone {
                name: z.windows.to_string(),
                tz,
            });
        }
        if trimmed.eq_ignore_ascii_case("tzone://Microsoft/Utc") {
            return Ok(GraphTimeZone::utc());
        }
        match trimmed.parse::<Tz>() {
            Ok(tz) if !trimmed.is_empty() => Ok(GraphTimeZone {
                name: trimmed.to_string(),
                tz,
            }),
            _ => Err(CalendarError::InvalidTimeZone(name.to_string())),
        }
    }

    /// The name to echo in `timeZone` fields.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tz database zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The IANA name of the underlying zone.
    pub fn iana_name(&self) -> &'static str {
        self.tz.name()
    }

    /// The Windows zone id (for `workingHours.timeZone.name`, `originalStartTimeZone`), when the
    /// zone is in [`WINDOWS_ZONES`].
    pub fn windows_name(&self) -> Option<&'static str> {
        table_by_windows(&self.name)
            .map(|z| z.windows)
            .or_else(|| iana_to_windows(&self.name))
            .or_else(|| iana_to_windows(self.tz.name()))
    }

    /// Whether the client spelled the zone as a Windows id.
    pub fn is_windows_name(&self) -> bool {
        table_by_windows(&self.name).is_some()
    }

    /// The local wall-clock time of an instant in this zone.
    pub fn to_local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.tz).naive_local()
    }

    /// The instant of a local wall-clock time in this zone. Ambiguous times (the repeated hour when
    /// clocks go back) take the earlier instant; times in a gap (clocks go forward) are moved
    /// forward by the gap, as Exchange does (02:30 on a spring-forward night in New York -> 03:30
    /// EDT).
    pub fn from_local(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => a.with_timezone(&Utc).min(b.with_timezone(&Utc)),
            LocalResult::None => {
                // Use the offset in force before the gap.
                let before = local - Duration::hours(24);
                let offset = match self.tz.from_local_datetime(&before) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                        t.offset().fix().local_minus_utc()
                    }
                    LocalResult::None => 0,
                };
                Utc.from_utc_datetime(&(local - Duration::seconds(i64::from(offset))))
            }
        }
    }
}

impl Default for GraphTimeZone {
    fn default() -> Self {
        GraphTimeZone::utc()
    }
}

impl fmt::Display for GraphTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Formats a local time as Graph does in `dateTimeTimeZone.dateTime`: seven fractional digits, no
/// offset (`2019-03-15T12:00:00.0000000`).
pub fn format_graph_local(local: NaiveDateTime) -> String {
    format!(
        "{}.{:07}",
        local.format("%Y-%m-%dT%H:%M:%S"),
        local.and_utc().timestamp_subsec_nanos() / 100
    )
}

/// Formats an instant as Graph does for `Edm.DateTimeOffset` (`2019-02-28T21:17:57.5619700Z`).
pub fn format_graph_instant(instant: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        instant.format("%Y-%m-%dT%H:%M:%S"),
        instant.timestamp_subsec_nanos() / 100
    )
}

/// Graph's `dateTimeTimeZone` complex type: `{"dateTime": "...", "timeZone": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateTimeTimeZone {
    /// Local date and time, `YYYY-MM-DDTHH:MM:SS[.fffffff]`.
    pub date_time: String,
    /// Windows or IANA zone name; Graph treats a missing one as UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl DateTimeTimeZone {
    /// Renders an instant in `zone` (the zone's name is echoed in `timeZone`).
    pub fn from_instant(instant: DateTime<Utc>, zone: &GraphTimeZone) -> Self {
        DateTimeTimeZone {
            date_time: format_graph_local(zone.to_local(instant)),
            time_zone: Some(zone.name().to_string()),
        }
    }

    /// Reads a `dateTimeTimeZone` JSON object; `what` names the property in error messages.
    pub fn from_json(value: &serde_json::Value, what: &str) -> Result<Self, CalendarError> {
        let obj = value.as_object().ok_or_else(|| {
            CalendarError::InvalidRequest(format!("'{what}' must be a dateTimeTimeZone object."))
        })?;
        let get = |key: &str| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        };
        let date_time = match get("dateTime") {
            Some(serde_json::Value::String(s)) => s.clone(),
            _ => {
                return Err(CalendarError::InvalidRequest(format!(
                    "'{what}.dateTime' is required and must be a string."
                )))
            }
        };
        let time_zone = match get("timeZone") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(CalendarError::InvalidRequest(format!(
                    "'{what}.timeZone' must be a string."
                )))
            }
        };
        Ok(DateTimeTimeZone {
            date_time,
            time_zone,
        })
    }

    /// The zone this value is expressed in (UTC when `timeZone` is absent).
    pub fn zone(&self) -> Result<GraphTimeZone, CalendarError> {
        match &self.time_zone {
            None => Ok(GraphTimeZone::utc()),
            Some(name) => GraphTimeZone::parse(name),
        }
    }

    /// The instant this value denotes, with the zone it was expressed in. A `dateTime` carrying
    /// its own offset (`...Z`, `...+02:00`) is taken as that absolute instant.
    pub fn resolve(&self) -> Result<(DateTime<Utc>, GraphTimeZone), CalendarError> {
        let zone = self.zone()?;
        let s = self.date_time.trim();
        if let Ok(abs) = DateTime::parse_from_rfc3339(s) {
            return Ok((abs.with_timezone(&Utc), zone));
        }
        let local = parse_local(s).ok_or_else(|| {
            CalendarError::InvalidRequest(format!(
                "The value '{}' is not a valid dateTime.",
                self.date_time
            ))
        })?;
        Ok((zone.from_local(local), zone))
    }
}

fn parse_local(s: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// Extracts the zone of a `Prefer` header's `outlook.timezone` preference
/// (`outlook.timezone="Pacific Standard Time"`; several preferences may be comma-separated, as
/// may several `Prefer` headers joined). `None` when the preference is absent.
pub fn prefer_outlook_timezone(prefer: &str) -> Option<Result<GraphTimeZone, CalendarError>> {
    for pref in prefer.split(',') {
        let pref = pref.trim();
        let Some((key, value)) = pref.split_once('=') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("outlook.timezone") {
            continue;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        return Some(GraphTimeZone::parse(value));
    }
    None
}

/// A zone as Graph's `customTimeZone` describes it (the way classic Outlook and older Exchange
/// store a mailbox's zone): `bias` (minutes to add to local standard time to get UTC),
/// `standardOffset` and `daylightOffset` (the yearly transitions, Windows
/// `SYSTEMTIME`-style: `month`, `dayOccurrence` 1-5 where 5 is the last, `dayOfWeek`, `time`
/// as local wall-clock time before the change, `year` 0 = every year) and `daylightBias`.
/// The rules are derived from the tz database's transitions in `year`; a zone without DST gets
/// `month` 0 in both offsets, as Windows writes it.
pub fn custom_time_zone_json(tz: Tz, year: i32) -> serde_json::Value {
    use chrono::{Datelike, NaiveDate, Timelike};
    let offset_at = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    let start = Utc
        .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let end = Utc
        .with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    // (local wall-clock time before the change, offset before, offset after), in seconds.
    let mut changes: Vec<(NaiveDateTime, i32, i32)> = Vec::new();
    let mut t = start;
    let mut before = offset_at(t).local_minus_utc();
    while t < end {
        let next = t + Duration::minutes(15);
        let after = offset_at(next).local_minus_utc();
        if after != before {
            let local = next.naive_utc() + Duration::seconds(i64::from(before));
            changes.push((local, before, after));
            before = after;
        }
        t = next;
    }
    let rule = |local: Option<NaiveDateTime>| match local {
        None => serde_json::json!({
            "time": "00:00:00.0000000", "dayOccurrence": 0, "dayOfWeek": "sunday",
            "month": 0, "year": 0,
        }),
        Some(local) => {
            let date = local.date();
            let days_in_month = NaiveDate::from_ymd_opt(
                if date.month() == 12 {
                    date.year() + 1
                } else {
                    date.year()
                },
                if date.month() == 12 {
                    1
                } else {
                    date.month() + 1
                },
                1,
            )
            .expect("valid date")
            .pred_opt()
            .expect("valid date")
            .day();
            let occurrence = if date.day() + 7 > days_in_month {
                5
            } else {
                (date.day() - 1) / 7 + 1
            };
            serde_json::json!({
                "time": format!("{:02}:{:02}:00.0000000", local.hour(), local.minute()),
                "dayOccurrence": occurrence,
                "dayOfWeek": crate::recurrence::weekday_name(date.weekday()),
                "month": date.month(),
                "year": 0,
            })
        }
    };
    let to_daylight = changes.iter().find(|(_, b, a)| a > b);
    let to_standard = changes.iter().find(|(_, b, a)| a < b);
    let (standard, daylight, standard_rule, daylight_rule) = match (to_daylight, to_standard) {
        (Some(d), Some(s)) => (d.1, d.2, rule(Some(s.0)), rule(Some(d.0))),
        _ => {
            let only = offset_at(start).local_minus_utc();
            (only, only, rule(None), rule(None))
        }
    };
    let mut daylight_rule = daylight_rule;
    daylight_rule["daylightBias"] = serde_json::json!(-(daylight - standard) / 60);
    serde_json::json!({
        "@odata.type": "#microsoft.graph.customTimeZone",
        "bias": -standard / 60,
        "name": "Customized Time Zone",
        "standardOffset": standard_rule,
        "daylightOffset": daylight_rule,
    })
}
