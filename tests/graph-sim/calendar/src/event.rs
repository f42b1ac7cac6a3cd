//! The `event` resource: its value types, the parsed `POST /me/events` body ([`NewEvent`]), the
//! parsed `PATCH` body ([`EventPatch`]) and the Graph JSON rendering.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

use crate::error::CalendarError;
use crate::ids;
use crate::json::{as_object, field, has, opt_bool, opt_i64, opt_str};
use crate::recurrence::Recurrence;
use crate::tz::{format_graph_instant, DateTimeTimeZone, GraphTimeZone};

macro_rules! graph_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in CSDL order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Graph (camelCase) spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// Parses the Graph spelling, case-insensitively.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                $(if s.eq_ignore_ascii_case($s) { return Some($name::$variant); })+
                None
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

graph_enum! {
    /// Graph `freeBusyStatus` (`event.showAs`, `scheduleItem.status`).
    FreeBusyStatus {
        /// `unknown`
        Unknown => "unknown",
        /// `free`
        Free => "free",
        /// `tentative`
        Tentative => "tentative",
        /// `busy`
        Busy => "busy",
        /// `oof` (out of office)
        Oof => "oof",
        /// `workingElsewhere`
        WorkingElsewhere => "workingElsewhere",
    }
}

impl FreeBusyStatus {
    /// The `availabilityView` digit: 0 free, 1 tentative, 2 busy, 3 oof, 4 workingElsewhere
    /// (`unknown` reads as free: it never blocks).
    pub fn digit(self) -> char {
        match self {
            FreeBusyStatus::Unknown | FreeBusyStatus::Free => '0',
            FreeBusyStatus::Tentative => '1',
            FreeBusyStatus::Busy => '2',
            FreeBusyStatus::Oof => '3',
            FreeBusyStatus::WorkingElsewhere => '4',
        }
    }

    /// Merge priority when several items overlap one interval:
    /// oof > busy > tentative > workingElsewhere > free/unknown.
    pub fn priority(self) -> u8 {
        match self {
            FreeBusyStatus::Unknown | FreeBusyStatus::Free => 0,
            FreeBusyStatus::WorkingElsewhere => 1,
            FreeBusyStatus::Tentative => 2,
            FreeBusyStatus::Busy => 3,
            FreeBusyStatus::Oof => 4,
        }
    }

    /// Whether an item with this status shows in free/busy (everything but free and unknown).
    pub fn blocks(self) -> bool {
        self.priority() > 0
    }
}

graph_enum! {
    /// Graph `attendeeType`.
    AttendeeType {
        /// `required`
        Required => "required",
        /// `optional`
        Optional => "optional",
        /// `resource`
        Resource => "resource",
    }
}

graph_enum! {
    /// Graph `responseType` (`attendee.status.response`, `event.responseStatus.response`).
    ResponseType {
        /// `none`
        None => "none",
        /// `organizer`
        Organizer => "organizer",
        /// `tentativelyAccepted`
        TentativelyAccepted => "tentativelyAccepted",
        /// `accepted`
        Accepted => "accepted",
        /// `declined`
        Declined => "declined",
        /// `notResponded`
        NotResponded => "notResponded",
    }
}

graph_enum! {
    /// Graph `onlineMeetingProviderType`.
    OnlineMeetingProvider {
        /// `unknown`
        Unknown => "unknown",
        /// `skypeForBusiness`
        SkypeForBusiness => "skypeForBusiness",
        /// `skypeForConsumer`
        SkypeForConsumer => "skypeForConsumer",
        /// `teamsForBusiness`
        TeamsForBusiness => "teamsForBusiness",
    }
}

graph_enum! {
    /// Graph `sensitivity`.
    Sensitivity {
        /// `normal`
        Normal => "normal",
        /// `personal`
        Personal => "personal",
        /// `private`
        Private => "private",
        /// `confidential`
        Confidential => "confidential",
    }
}

graph_enum! {
    /// Graph `importance`.
    Importance {
        /// `low`
        Low => "low",
        /// `normal`
        Normal => "normal",
        /// `high`
        High => "high",
    }
}

graph_enum! {
    /// Graph `bodyType`.
    BodyType {
        /// `text`
        Text => "text",
        /// `html`
        Html => "html",
    }
}

fn parse_enum<T>(
    obj: &Map<String, Value>,
    key: &str,
    what: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, CalendarError> {
    match opt_str(obj, key, what)? {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| {
            CalendarError::InvalidRequest(format!(
                "The value '{s}' of property '{what}' is not valid."
            ))
        }),
    }
}

/// Graph `emailAddress`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress {
    /// Display name (defaults to the address, as Exchange shows unresolved recipients).
    pub name: String,
    /// SMTP address.
    pub address: String,
}

impl EmailAddress {
    /// A recipient; an empty `name` becomes the address.
    pub fn new(address: &str, name: &str) -> Self {
        EmailAddress {
            name: if name.trim().is_empty() {
                address.to_string()
            } else {
                name.to_string()
            },
            address: address.to_string(),
        }
    }

    /// Case-insensitive address comparison.
    pub fn is(&self, address: &str) -> bool {
        self.address.eq_ignore_ascii_case(address.trim())
    }

    fn from_json(value: &Value, what: &str) -> Result<Self, CalendarError> {
        let obj = as_object(value, what)?;
        let address = opt_str(obj, "address", &format!("{what}.address"))?
            .map(str::trim)
            .unwrap_or("");
        if address.is_empty() || !address.contains('@') {
            return Err(CalendarError::InvalidRequest(format!(
                "'{what}.address' must be an SMTP address."
            )));
        }
        let name = opt_str(obj, "name", &format!("{what}.name"))?.unwrap_or("");
        Ok(EmailAddress::new(address, name))
    }

    /// `{"name", "address"}`.
    pub fn to_json(&self) -> Value {
        json!({ "name": self.name, "address": self.address })
    }
}

/// Graph `responseStatus`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseStatus {
    /// The response.
    pub response: ResponseType,
    /// When it was given (`None` renders as Graph's `0001-01-01T00:00:00Z`).
    pub time: Option<DateTime<Utc>>,
}

impl ResponseStatus {
    /// A status without a time.
    pub fn new(response: ResponseType) -> Self {
        ResponseStatus {
            response,
            time: None,
        }
    }

    /// `{"response", "time"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "response": self.response,
            "time": self.time.map(format_graph_instant)
                .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string()),
        })
    }
}

/// Graph `attendee`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attendee {
    /// `emailAddress`.
    pub email_address: EmailAddress,
    /// `type`.
    pub attendee_type: AttendeeType,
    /// `status`.
    pub status: ResponseStatus,
    /// `proposedNewTime`: the time the attendee proposed with a `tentativelyAccept` or
    /// `decline` (`proposedNewTime` parameter), as the organizer's event shows it.
    pub proposed_new_time: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Attendee {
    /// A required attendee who has not responded.
    pub fn required(address: &str, name: &str) -> Self {
        Attendee {
            email_address: EmailAddress::new(address, name),
            attendee_type: AttendeeType::Required,
            status: ResponseStatus::new(ResponseType::None),
            proposed_new_time: None,
        }
    }

    fn from_json(value: &Value, what: &str) -> Result<Self, CalendarError> {
        let obj = as_object(value, what)?;
        let email = field(obj, "emailAddress").ok_or_else(|| {
            CalendarError::InvalidRequest(format!("'{what}.emailAddress' is required."))
        })?;
        let email_address = EmailAddress::from_json(email, &format!("{what}.emailAddress"))?;
        let attendee_type = parse_enum(obj, "type", &format!("{what}.type"), AttendeeType::parse)?
            .unwrap_or(AttendeeType::Required);
        Ok(Attendee {
            email_address,
            attendee_type,
            status: ResponseStatus::new(ResponseType::None),
            proposed_new_time: None,
        })
    }

    /// `{"type", "status", "emailAddress"}`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "type": self.attendee_type,
            "status": self.status.to_json(),
            "emailAddress": self.email_address.to_json(),
        });
        if let Some((start, end)) = self.proposed_new_time {
            let utc = GraphTimeZone::utc();
            v["proposedNewTime"] = json!({
                "start": DateTimeTimeZone::from_instant(start, &utc),
                "end": DateTimeTimeZone::from_instant(end, &utc),
            });
        }
        v
    }
}

fn attendees_from_json(value: &Value) -> Result<Vec<Attendee>, CalendarError> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => {
            let mut out: Vec<Attendee> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let a = Attendee::from_json(item, &format!("attendees[{i}]"))?;
                // Exchange keeps one entry per address.
                if !out
                    .iter()
                    .any(|o| o.email_address.is(&a.email_address.address))
                {
                    out.push(a);
                }
            }
            Ok(out)
        }
        _ => Err(CalendarError::InvalidRequest(
            "Property 'attendees' must be an array.".to_string(),
        )),
    }
}

/// Graph `itemBody`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemBody {
    /// `contentType`.
    pub content_type: BodyType,
    /// `content`.
    pub content: String,
}

impl Default for ItemBody {
    fn default() -> Self {
        ItemBody {
            content_type: BodyType::Html,
            content: String::new(),
        }
    }
}

impl ItemBody {
    fn from_json(value: &Value) -> Result<Self, CalendarError> {
        if value.is_null() {
            return Ok(ItemBody::default());
        }
        let obj = as_object(value, "body")?;
        let content_type = parse_enum(obj, "contentType", "body.contentType", BodyType::parse)?
            .unwrap_or(BodyType::Text);
        let content = opt_str(obj, "content", "body.content")?
            .unwrap_or("")
            .to_string();
        Ok(ItemBody {
            content_type,
            content,
        })
    }

    /// `bodyPreview`: the text of the body (tags stripped, whitespace collapsed), at most 255
    /// characters.
    pub fn preview(&self) -> String {
        let text = match self.content_type {
            BodyType::Text => self.content.clone(),
            BodyType::Html => strip_html(&self.content),
        };
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        collapsed.chars().take(255).collect()
    }
}

fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut skip_until: Option<&str> = None;
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        if let Some(end) = skip_until {
            match lower[i..].find(end) {
                Some(p) => {
                    i += p + end.len();
                    skip_until = None;
                    continue;
                }
                None => break,
            }
        }
        let c = html[i..].chars().next().unwrap_or(' ');
        if in_tag {
            if c == '>' {
                in_tag = false;
                out.push(' ');
            }
        } else if c == '<' {
            if lower[i..].starts_with("<head") {
                skip_until = Some("</head>");
            } else if lower[i..].starts_with("<style") {
                skip_until = Some("</style>");
            } else if lower[i..].starts_with("<!--") {
                skip_until = Some("-->");
            } else {
                in_tag = true;
            }
        } else {
            out.push(c);
        }
        i += c.len_utf8();
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Graph `location` (only `displayName` is modelled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// `displayName`.
    pub display_name: String,
}

impl Location {
    fn from_json(value: &Value, what: &str) -> Result<Option<Self>, CalendarError> {
        if value.is_null() {
            return Ok(None);
        }
        let obj = as_object(value, what)?;
        let name = opt_str(obj, "displayName", &format!("{what}.displayName"))?.unwrap_or("");
        if name.is_empty() {
            Ok(None)
        } else {
            Ok(Some(Location {
                display_name: name.to_string(),
            }))
        }
    }

    /// The Graph JSON of a location (an empty one when `None`, as Graph returns).
    pub fn to_json(location: Option<&Location>) -> Value {
        match location {
            Some(l) => json!({
                "displayName": l.display_name,
                "locationType": "default",
                "uniqueId": l.display_name,
                "uniqueIdType": "private",
            }),
            None => json!({
                "displayName": "",
                "locationType": "default",
                "uniqueIdType": "unknown",
                "address": {},
                "coordinates": {},
            }),
        }
    }
}

fn location_from_body(obj: &Map<String, Value>) -> Result<Option<Location>, CalendarError> {
    if let Some(v) = field(obj, "location") {
        if let Some(l) = Location::from_json(v, "location")? {
            return Ok(Some(l));
        }
    }
    match field(obj, "locations") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => match items.first() {
            Some(first) => Location::from_json(first, "locations[0]"),
            None => Ok(None),
        },
        Some(_) => Err(CalendarError::InvalidRequest(
            "Property 'locations' must be an array.".to_string(),
        )),
    }
}

/// Graph `onlineMeetingInfo` (generated for `teamsForBusiness` meetings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnlineMeetingInfo {
    /// `joinUrl`.
    pub join_url: String,
    /// `conferenceId`.
    pub conference_id: String,
}

impl OnlineMeetingInfo {
    /// A Teams-looking join URL and a 9-digit conference id derived from `seed` (the event id).
    pub fn teams(seed: &str) -> Self {
        let h = ids::hash(&[seed.as_bytes(), b"teams"]);
        let token = ids::base64(&ids::bytes(h, 36))
            .replace(['-', '_'], "A")
            .trim_end_matches('=')
            .to_string();
        OnlineMeetingInfo {
            join_url: format!(
                "https://teams.microsoft.com/l/meetup-join/19%3ameeting_{token}%40thread.v2/0"
            ),
            conference_id: format!("{:09}", h % 1_000_000_000),
        }
    }

    /// `{"joinUrl", "conferenceId", "tollNumber"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "joinUrl": self.join_url,
            "conferenceId": self.conference_id,
            "tollNumber": null,
        })
    }
}

/// A start or end as given in a request: the instant and the zone it was expressed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZonedInstant {
    /// The instant.
    pub instant: DateTime<Utc>,
    /// The zone the client used (kept for `originalStartTimeZone` and recurrence expansion).
    pub zone: GraphTimeZone,
}

impl ZonedInstant {
    fn from_json(value: &Value, what: &str) -> Result<Self, CalendarError> {
        let dtz = DateTimeTimeZone::from_json(value, what)?;
        let (instant, zone) = dtz.resolve()?;
        Ok(ZonedInstant { instant, zone })
    }

    fn local_date(&self) -> NaiveDate {
        self.zone.to_local(self.instant).date()
    }
}

/// A validated `POST /me/events` body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// `subject`.
    pub subject: String,
    /// `body`.
    pub body: ItemBody,
    /// `start`.
    pub start: ZonedInstant,
    /// `end`.
    pub end: ZonedInstant,
    /// `showAs` (default busy).
    pub show_as: FreeBusyStatus,
    /// `sensitivity` (default normal).
    pub sensitivity: Sensitivity,
    /// `importance` (default normal).
    pub importance: Importance,
    /// `attendees` (deduplicated by address).
    pub attendees: Vec<Attendee>,
    /// `location`, or the first of `locations`.
    pub location: Option<Location>,
    /// `isOnlineMeeting`.
    pub is_online_meeting: bool,
    /// `onlineMeetingProvider` (defaults to teamsForBusiness when `isOnlineMeeting` is true).
    pub online_meeting_provider: OnlineMeetingProvider,
    /// `transactionId`.
    pub transaction_id: Option<String>,
    /// `recurrence`.
    pub recurrence: Option<Recurrence>,
    /// `allowNewTimeProposals` (default true).
    pub allow_new_time_proposals: bool,
    /// `categories`.
    pub categories: Vec<String>,
    /// `isReminderOn` (default true).
    pub is_reminder_on: bool,
    /// `reminderMinutesBeforeStart` (default 15).
    pub reminder_minutes_before_start: i64,
    /// `isAllDay`: start and end are midnights in the start zone.
    pub is_all_day: bool,
}

fn categories_from_json(value: &Value) -> Result<Vec<String>, CalendarError> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    CalendarError::InvalidRequest("'categories' must hold strings.".to_string())
                })
            })
            .collect(),
        _ => Err(CalendarError::InvalidRequest(
            "Property 'categories' must be an array.".to_string(),
        )),
    }
}

impl NewEvent {
    /// Parses and validates a `POST /me/events` body.
    ///
    /// Errors: [`CalendarError::InvalidRequest`] (not an object, missing `start`/`end`, wrong
    /// types, bad `dateTime`, bad attendee, unsupported recurrence),
    /// [`CalendarError::InvalidTimeZone`] (unknown zone name),
    /// [`CalendarError::EndBeforeStart`] (end earlier than start).
    pub fn from_json(body: &Value) -> Result<Self, CalendarError> {
        let obj = body.as_object().ok_or_else(|| {
            CalendarError::InvalidRequest("The request body must be a JSON object.".to_string())
        })?;
        let start = ZonedInstant::from_json(
            field(obj, "start")
                .ok_or_else(|| CalendarError::InvalidRequest("'start' is required.".to_string()))?,
            "start",
        )?;
        let end = ZonedInstant::from_json(
            field(obj, "end")
                .ok_or_else(|| CalendarError::InvalidRequest("'end' is required.".to_string()))?,
            "end",
        )?;
        if end.instant < start.instant {
            return Err(CalendarError::EndBeforeStart);
        }
        let is_online_meeting =
            opt_bool(obj, "isOnlineMeeting", "isOnlineMeeting")?.unwrap_or(false);
        let provider = parse_enum(
            obj,
            "onlineMeetingProvider",
            "onlineMeetingProvider",
            OnlineMeetingProvider::parse,
        )?;
        let online_meeting_provider = match (is_online_meeting, provider) {
            (_, Some(p)) => p,
            (true, None) => OnlineMeetingProvider::TeamsForBusiness,
            (false, None) => OnlineMeetingProvider::Unknown,
        };
        let transaction_id = opt_str(obj, "transactionId", "transactionId")?
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let recurrence = match field(obj, "recurrence") {
            None | Some(Value::Null) => None,
            Some(v) => Some(Recurrence::from_json(v, &start.zone, start.local_date())?),
        };
        let is_all_day = opt_bool(obj, "isAllDay", "isAllDay")?.unwrap_or(false);
        if is_all_day {
            let midnight =
                |z: &ZonedInstant| z.zone.to_local(z.instant).time() == chrono::NaiveTime::MIN;
            if !midnight(&start) || !midnight(&end) || end.instant <= start.instant {
                return Err(CalendarError::InvalidRequest(
                    "An all-day event's start and end must be midnights, the end after the start."
                        .to_string(),
                ));
            }
        }
        Ok(NewEvent {
            is_all_day,
            subject: opt_str(obj, "subject", "subject")?
                .unwrap_or("")
                .to_string(),
            body: field(obj, "body")
                .map(ItemBody::from_json)
                .transpose()?
                .unwrap_or_default(),
            show_as: parse_enum(obj, "showAs", "showAs", FreeBusyStatus::parse)?
                .unwrap_or(FreeBusyStatus::Busy),
            sensitivity: parse_enum(obj, "sensitivity", "sensitivity", Sensitivity::parse)?
                .unwrap_or(Sensitivity::Normal),
            importance: parse_enum(obj, "importance", "importance", Importance::parse)?
                .unwrap_or(Importance::Normal),
            attendees: field(obj, "attendees")
                .map(attendees_from_json)
                .transpose()?
                .unwrap_or_default(),
            location: location_from_body(obj)?,
            is_online_meeting,
            online_meeting_provider,
            transaction_id,
            recurrence,
            allow_new_time_proposals: opt_bool(
                obj,
                "allowNewTimeProposals",
                "allowNewTimeProposals",
            )?
            .unwrap_or(true),
            categories: field(obj, "categories")
                .map(categories_from_json)
                .transpose()?
                .unwrap_or_default(),
            is_reminder_on: opt_bool(obj, "isReminderOn", "isReminderOn")?.unwrap_or(true),
            reminder_minutes_before_start: opt_i64(
                obj,
                "reminderMinutesBeforeStart",
                "reminderMinutesBeforeStart",
            )?
            .unwrap_or(15),
            start,
            end,
        })
    }
}

/// A validated `PATCH /me/events/{id}` body: `None` leaves a property unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventPatch {
    /// `subject`.
    pub subject: Option<String>,
    /// `body`.
    pub body: Option<ItemBody>,
    /// `start`.
    pub start: Option<ZonedInstant>,
    /// `end`.
    pub end: Option<ZonedInstant>,
    /// `attendees` (replaces the list; responses of attendees kept are preserved).
    pub attendees: Option<Vec<Attendee>>,
    /// `location` / `locations` (`Some(None)` clears it).
    pub location: Option<Option<Location>>,
    /// `showAs`.
    pub show_as: Option<FreeBusyStatus>,
    /// `sensitivity`.
    pub sensitivity: Option<Sensitivity>,
    /// `importance`.
    pub importance: Option<Importance>,
    /// `isOnlineMeeting`.
    pub is_online_meeting: Option<bool>,
    /// `onlineMeetingProvider`.
    pub online_meeting_provider: Option<OnlineMeetingProvider>,
    /// `categories`.
    pub categories: Option<Vec<String>>,
    /// `isReminderOn`.
    pub is_reminder_on: Option<bool>,
    /// `reminderMinutesBeforeStart`.
    pub reminder_minutes_before_start: Option<i64>,
    /// `allowNewTimeProposals`.
    pub allow_new_time_proposals: Option<bool>,
    /// `recurrence` as sent (`Some(Value::Null)` removes it); validated against the patched start
    /// when applied.
    pub recurrence: Option<Value>,
    /// `transactionId` if sent (it may only repeat the event's current value).
    pub transaction_id: Option<String>,
}

impl EventPatch {
    /// Parses a `PATCH` body. Unknown and read-only properties are ignored, as Graph does for
    /// open types; values of the wrong type are [`CalendarError::InvalidRequest`], unknown zones
    /// [`CalendarError::InvalidTimeZone`].
    pub fn from_json(body: &Value) -> Result<Self, CalendarError> {
        let obj = body.as_object().ok_or_else(|| {
            CalendarError::InvalidRequest("The request body must be a JSON object.".to_string())
        })?;
        let zoned = |key: &str| -> Result<Option<ZonedInstant>, CalendarError> {
            match field(obj, key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => ZonedInstant::from_json(v, key).map(Some),
            }
        };
        let location = if has(obj, "location") || has(obj, "locations") {
            Some(location_from_body(obj)?)
        } else {
            None
        };
        Ok(EventPatch {
            subject: opt_str(obj, "subject", "subject")?.map(str::to_string),
            body: match field(obj, "body") {
                None => None,
                Some(v) => Some(ItemBody::from_json(v)?),
            },
            start: zoned("start")?,
            end: zoned("end")?,
            attendees: field(obj, "attendees")
                .map(attendees_from_json)
                .transpose()?,
            location,
            show_as: parse_enum(obj, "showAs", "showAs", FreeBusyStatus::parse)?,
            sensitivity: parse_enum(obj, "sensitivity", "sensitivity", Sensitivity::parse)?,
            importance: parse_enum(obj, "importance", "importance", Importance::parse)?,
            is_online_meeting: opt_bool(obj, "isOnlineMeeting", "isOnlineMeeting")?,
            online_meeting_provider: parse_enum(
                obj,
                "onlineMeetingProvider",
                "onlineMeetingProvider",
                OnlineMeetingProvider::parse,
            )?,
            categories: field(obj, "categories")
                .map(categories_from_json)
                .transpose()?,
            is_reminder_on: opt_bool(obj, "isReminderOn", "isReminderOn")?,
            reminder_minutes_before_start: opt_i64(
                obj,
                "reminderMinutesBeforeStart",
                "reminderMinutesBeforeStart",
            )?,
            allow_new_time_proposals: opt_bool(
                obj,
                "allowNewTimeProposals",
                "allowNewTimeProposals",
            )?,
            recurrence: field(obj, "recurrence").cloned(),
            transaction_id: opt_str(obj, "transactionId", "transactionId")?.map(str::to_string),
        })
    }
}

/// One calendar item. Fields are public for reading; change events through
/// [`crate::Calendar`] so that `changeKey` and `lastModifiedDateTime` move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// `id`.
    pub id: String,
    /// `iCalUId`, shared by the organizer's event and the attendees' copies.
    pub ical_uid: String,
    /// `changeKey` (also the `@odata.etag` value).
    pub change_key: String,
    /// Bumped on every change; feeds `change_key`.
    pub version: u64,
    /// `createdDateTime`.
    pub created_date_time: DateTime<Utc>,
    /// `lastModifiedDateTime`.
    pub last_modified_date_time: DateTime<Utc>,
    /// `subject`.
    pub subject: String,
    /// `body`.
    pub body: ItemBody,
    /// Start instant (of the first occurrence, for a series).
    pub start: DateTime<Utc>,
    /// End instant.
    pub end: DateTime<Utc>,
    /// Zone the start was given in (`originalStartTimeZone`).
    pub start_time_zone: GraphTimeZone,
    /// Zone the end was given in (`originalEndTimeZone`).
    pub end_time_zone: GraphTimeZone,
    /// `showAs`.
    pub show_as: FreeBusyStatus,
    /// `sensitivity`.
    pub sensitivity: Sensitivity,
    /// `importance`.
    pub importance: Importance,
    /// `isCancelled`.
    pub is_cancelled: bool,
    /// `isOrganizer`.
    pub is_organizer: bool,
    /// `responseStatus` (the mailbox owner's own response).
    pub response_status: ResponseStatus,
    /// `organizer`.
    pub organizer: EmailAddress,
    /// `attendees`.
    pub attendees: Vec<Attendee>,
    /// `location`.
    pub location: Option<Location>,
    /// `isOnlineMeeting`.
    pub is_online_meeting: bool,
    /// `onlineMeetingProvider`.
    pub online_meeting_provider: OnlineMeetingProvider,
    /// `onlineMeeting`.
    pub online_meeting: Option<OnlineMeetingInfo>,
    /// `transactionId`.
    pub transaction_id: Option<String>,
    /// `recurrence` (the event is then a `seriesMaster`).
    pub recurrence: Option<Recurrence>,
    /// `allowNewTimeProposals`.
    pub allow_new_time_proposals: bool,
    /// `categories`.
    pub categories: Vec<String>,
    /// `isReminderOn`.
    pub is_reminder_on: bool,
    /// `reminderMinutesBeforeStart`.
    pub reminder_minutes_before_start: i64,
    /// `isAllDay`.
    pub is_all_day: bool,
    /// Occurrences of the series moved or cancelled on their own (Outlook's "this occurrence").
    pub exceptions: Vec<OccurrenceException>,
}

/// One occurrence of a series changed on its own: moved (an `exception`) or cancelled (gone
/// from calendar views). Keyed by the occurrence's original start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OccurrenceException {
    /// Where the series put it.
    pub original_start: DateTime<Utc>,
    /// Where it is now.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub cancelled: bool,
    /// Bumped on every change of this occurrence; part of its etag.
    pub version: u64,
}

/// One occurrence of an event inside a time window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Occurrence<'a> {
    /// The event (the series master for a recurring one).
    pub event: &'a Event,
    /// Occurrence start.
    pub start: DateTime<Utc>,
    /// Occurrence end.
    pub end: DateTime<Utc>,
    /// Where the series put it (differs from `start` for a moved occurrence); names it.
    pub original_start: DateTime<Utc>,
}

impl Occurrence<'_> {
    /// The occurrence's id: the event id for a single instance; for a series occurrence
    /// `<seriesMasterId>.<start as YYYYMMDDTHHMMSSZ>` (`.` never appears in event ids, so
    /// [`crate::Calendar::get_occurrence`] can split it).
    pub fn id(&self) -> String {
        if self.event.recurrence.is_none() {
            self.event.id.clone()
        } else {
            format!(
                "{}.{}",
                self.event.id,
                self.original_start.format("%Y%m%dT%H%M%SZ")
            )
        }
    }

    /// Graph JSON for calendarView-style listings: the event's JSON, and for a series occurrence
    /// `type: "occurrence"`, its own `id`, `seriesMasterId`, `start`/`end`, `recurrence: null`.
    pub fn to_graph_json(&self, zone: &GraphTimeZone) -> Value {
        let mut j = self.event.to_graph_json(zone);
        if self.event.recurrence.is_some() {
            j["id"] = json!(self.id());
            j["type"] = json!("occurrence");
            j["seriesMasterId"] = json!(self.event.id);
            j["occurrenceId"] = json!(self.id());
            j["recurrence"] = Value::Null;
            j["start"] = json!(DateTimeTimeZone::from_instant(self.start, zone));
            j["end"] = json!(DateTimeTimeZone::from_instant(self.end, zone));
            if let Some(x) = self
                .event
                .exceptions
                .iter()
                .find(|x| x.original_start == self.original_start)
            {
                j["type"] = json!("exception");
                j["@odata.etag"] = json!(format!("W/\"{}-x{}\"", self.event.change_key, x.version));
            }
        }
        j
    }
}

impl Event {
    /// `@odata.etag`: `W/"<changeKey>"`.
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.change_key)
    }

    /// `webLink` (Outlook on the web deep link).
    pub fn web_link(&self) -> String {
        format!(
            "https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item",
            ids::query_escape(&self.id)
        )
    }

    /// `type`: `seriesMaster` for a recurring event, else `singleInstance`.
    pub fn event_type(&self) -> &'static str {
        if self.recurrence.is_some() {
            "seriesMaster"
        } else {
            "singleInstance"
        }
    }

    /// Duration of each occurrence.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// Whether this event involves `address` as organizer or attendee.
    pub fn involves(&self, address: &str) -> bool {
        self.organizer.is(address) || self.attendees.iter().any(|a| a.email_address.is(address))
    }

    /// Occurrences overlapping `[window_start, window_end)` (the event itself for a single
    /// instance; the expanded series, in the recurrence zone, for a series master).
    pub fn occurrences(
        &self,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
    ) -> Vec<Occurrence<'_>> {
        match &self.recurrence {
            None => {
                let overlaps = (self.start < window_end && self.end > window_start)
                    || (self.start == self.end
                        && self.start >= window_start
                        && self.start < window_end);
                if overlaps {
                    vec![Occurrence {
                        event: self,
                        start: self.start,
                        end: self.end,
                        original_start: self.start,
                    }]
                } else {
                    Vec::new()
                }
            }
            Some(r) => {
                let start_time = r.range.recurrence_time_zone.to_local(self.start).time();
                // Exceptions are found by their original time, then placed where they are now.
                r.occurrences(start_time, self.duration(), window_start, window_end)
                    .into_iter()
                    .filter_map(|(start, end)| {
                        match self.exceptions.iter().find(|x| x.original_start == start) {
                            Some(x) if x.cancelled => None,
                            Some(x) => Some(Occurrence {
                                event: self,
                                start: x.start,
                                end: x.end,
                                original_start: start,
                            }),
                            None => Some(Occurrence {
                                event: self,
                                start,
                                end,
                                original_start: start,
                            }),
                        }
                    })
                    .filter(|o| o.start < window_end && o.end > window_start)
                    .collect()
            }
        }
    }

    /// The Graph JSON of the event, with `start`/`end` rendered in `zone` (pass the
    /// `Prefer: outlook.timezone` zone, or [`GraphTimeZone::utc`]). `@odata.context` is left to
    /// the server (it names the user).
    pub fn to_graph_json(&self, zone: &GraphTimeZone) -> Value {
        let original = |z: &GraphTimeZone| z.windows_name().unwrap_or(z.name()).to_string();
        let mut m = Map::new();
        m.insert("@odata.etag".into(), json!(self.etag()));
        m.insert("id".into(), json!(self.id));
        m.insert(
            "createdDateTime".into(),
            json!(format_graph_instant(self.created_date_time)),
        );
        m.insert(
            "lastModifiedDateTime".into(),
            json!(format_graph_instant(self.last_modified_date_time)),
        );
        m.insert("changeKey".into(), json!(self.change_key));
        m.insert("categories".into(), json!(self.categories));
        m.insert("transactionId".into(), json!(self.transaction_id));
        m.insert(
            "originalStartTimeZone".into(),
            json!(original(&self.start_time_zone)),
        );
        m.insert(
            "originalEndTimeZone".into(),
            json!(original(&self.end_time_zone)),
        );
        m.insert("iCalUId".into(), json!(self.ical_uid));
        m.insert(
            "reminderMinutesBeforeStart".into(),
            json!(self.reminder_minutes_before_start),
        );
        m.insert("isReminderOn".into(), json!(self.is_reminder_on));
        m.insert("hasAttachments".into(), json!(false));
        m.insert("subject".into(), json!(self.subject));
        m.insert("bodyPreview".into(), json!(self.body.preview()));
        m.insert("importance".into(), json!(self.importance));
        m.insert("sensitivity".into(), json!(self.sensitivity));
        m.insert("isAllDay".into(), json!(self.is_all_day));
        m.insert("isCancelled".into(), json!(self.is_cancelled));
        m.insert("isOrganizer".into(), json!(self.is_organizer));
        m.insert("responseRequested".into(), json!(true));
        m.insert("seriesMasterId".into(), Value::Null);
        m.insert("showAs".into(), json!(self.show_as));
        m.insert("type".into(), json!(self.event_type()));
        m.insert("webLink".into(), json!(self.web_link()));
        m.insert("onlineMeetingUrl".into(), Value::Null);
        m.insert("isOnlineMeeting".into(), json!(self.is_online_meeting));
        m.insert(
            "onlineMeetingProvider".into(),
            json!(self.online_meeting_provider),
        );
        m.insert(
            "allowNewTimeProposals".into(),
            json!(self.allow_new_time_proposals),
        );
        m.insert("occurrenceId".into(), Value::Null);
        m.insert("isDraft".into(), json!(false));
        m.insert("hideAttendees".into(), json!(false));
        m.insert("responseStatus".into(), self.response_status.to_json());
        m.insert(
            "body".into(),
            json!({ "contentType": self.body.content_type, "content": self.body.content }),
        );
        m.insert(
            "start".into(),
            json!(DateTimeTimeZone::from_instant(self.start, zone)),
        );
        m.insert(
            "end".into(),
            json!(DateTimeTimeZone::from_instant(self.end, zone)),
        );
        m.insert("location".into(), Location::to_json(self.location.as_ref()));
        m.insert(
            "locations".into(),
            json!(self
                .location
                .iter()
                .map(|l| Location::to_json(Some(l)))
                .collect::<Vec<_>>()),
        );
        m.insert(
            "recurrence".into(),
            self.recurrence
                .as_ref()
                .map(Recurrence::to_json)
                .unwrap_or(Value::Null),
        );
        m.insert(
            "attendees".into(),
            json!(self
                .attendees
                .iter()
                .map(Attendee::to_json)
                .collect::<Vec<_>>()),
        );
        m.insert(
            "organizer".into(),
            json!({ "emailAddress": self.organizer.to_json() }),
        );
        m.insert(
            "onlineMeeting".into(),
            self.online_meeting
                .as_ref()
                .map(OnlineMeetingInfo::to_json)
                .unwrap_or(Value::Null),
        );
        Value::Object(m)
    }
}
