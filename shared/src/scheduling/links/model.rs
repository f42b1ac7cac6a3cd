//! A scheduling link: what the recruiter asks for (`POST /connections/{id}/scheduling-links`),
//! parsed into a [`LinkSpec`] whose existence proves it is bookable, and the stored [`Link`].

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::LEASE_BUCKET_MINUTES;
use crate::domain::{ConnectionId, EmailAddress, ParseError};
use crate::scheduling::request::{addresses, minutes, TimeWindow};
use crate::scheduling::zones::IanaZone;

/// Most interviewers a link may name (required and pool members together).
pub const MAX_INTERVIEWERS: usize = 20;
/// Most leases one booking holds (one per interviewer per bucket of the slot). A reschedule
/// writes the new leases and deletes the old ones in one transaction, with the link and an
/// outbox entry: 2 x 48 + 2 stays within DynamoDB's 100 items per transaction.
pub const MAX_LEASES: usize = 48;

/// `POST /connections/{id}/scheduling-links` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    pub title: String,
    pub description: Option<String>,
    pub duration_minutes: i64,
    pub window: WindowBody,
    pub time_zone: String,
    pub required: Vec<String>,
    #[serde(default)]
    pub pools: Vec<PoolBody>,
    #[serde(default)]
    pub buffers: BuffersBody,
    pub min_notice_minutes: Option<i64>,
    pub granularity_minutes: Option<i64>,
    pub max_slots_per_day: Option<u32>,
    pub candidate: Option<CandidateBody>,
    pub online_meeting: Option<bool>,
    pub location: Option<String>,
    pub expires_at: Option<String>,
    pub single_use: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowBody {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuffersBody {
    pub before_minutes: Option<i64>,
    pub after_minutes: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolBody {
    pub members: Vec<String>,
    pub pick: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateBody {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// `PATCH /connections/{id}/scheduling-links/{link_id}` body: what may change while the link is
/// open. The interviewers and the slot rules stay; a different panel is a new link.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkPatchBody {
    pub title: Option<String>,
    pub description: Option<String>,
    pub expires_at: Option<String>,
    pub candidate: Option<CandidateBody>,
    pub location: Option<String>,
}

/// "Any `pick` of these `members`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub members: Vec<String>,
    pub pick: usize,
}

/// The candidate, as far as the link names them (to prefill the form).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// A checked link: every address parsed and lower-cased, every duration in range, the slot's
/// leases guaranteed to fit in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSpec {
    pub title: String,
    pub description: Option<String>,
    pub duration_minutes: i64,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// The organiser's zone (IANA).
    pub time_zone: String,
    pub required: Vec<String>,
    pub pools: Vec<Pool>,
    pub buffer_before_minutes: i64,
    pub buffer_after_minutes: i64,
    pub min_notice_minutes: i64,
    pub granularity_minutes: i64,
    pub max_slots_per_day: Option<u32>,
    pub candidate: Candidate,
    pub online_meeting: bool,
    pub location: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub single_use: bool,
}

fn text(field: &'static str, raw: &str, max: usize) -> Result<String, ParseError> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > max {
        return Err(ParseError::new(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(s.to_owned())
}

fn optional_text(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, ParseError> {
    raw.map(|r| text(field, r, max)).transpose()
}

fn candidate(raw: Option<CandidateBody>) -> Result<Candidate, ParseError> {
    let raw = raw.unwrap_or_default();
    Ok(Candidate {
        name: optional_text("candidate.name", raw.name.as_deref(), 200)?,
        email: raw
            .email
            .as_deref()
            .map(|e| EmailAddress::parse("candidate.email", e).map(|a| a.as_str().to_owned()))
            .transpose()?,
    })
}

fn multiple_of_bucket(field: &'static str, d: Duration) -> Result<(), ParseError> {
    if d.num_minutes() % LEASE_BUCKET_MINUTES != 0 {
        return Err(ParseError::new(
            field,
            format!("must be a multiple of {LEASE_BUCKET_MINUTES} minutes"),
        ));
    }
    Ok(())
}

impl LinkSpec {
    /// Parses a create body; `now` bounds the expiry.
    pub fn parse(b: LinkBody, now: DateTime<Utc>) -> Result<Self, ParseError> {
        let title = text("title", &b.title, 255)?;
        let description = optional_text("description", b.description.as_deref(), 2000)?;
        let window = TimeWindow::parse(&b.window.start, &b.window.end).map_err(|e| {
            // TimeWindow names `start`/`end`; here they live under `window`.
            ParseError::new(format!("window.{}", e.field), e.reason)
        })?;
        let zone = IanaZone::parse("time_zone", &b.time_zone)?;
        let duration = minutes("duration_minutes", Some(b.duration_minutes), 0, 5..=480)?;
        multiple_of_bucket("duration_minutes", duration)?;
        if duration > window.duration() {
            return Err(ParseError::new(
                "duration_minutes",
                "is longer than the window",
            ));
        }
        let granularity = minutes("granularity_minutes", b.granularity_minutes, 15, 5..=240)?;
        multiple_of_bucket("granularity_minutes", granularity)?;
        let mut seen = HashSet::new();
        let required = addresses("required", &b.required, 0, MAX_INTERVIEWERS, &mut seen)?;
        let mut pools = Vec::new();
        for (i, pool) in b.pools.iter().enumerate() {
            let field: &'static str = "pools";
            let members = addresses(field, &pool.members, 1, MAX_INTERVIEWERS, &mut seen)?;
            if pool.pick == 0 || pool.pick > members.len() {
                return Err(ParseError::new(
                    format!("pools[{i}].pick"),
                    format!("must be 1 to {} (the pool's size)", members.len()),
                ));
            }
            pools.push(Pool {
                members: members.iter().map(|m| m.as_str().to_owned()).collect(),
                pick: pool.pick,
            });
        }
        if seen.len() > MAX_INTERVIEWERS {
            return Err(ParseError::new(
                "pools",
                format!("at most {MAX_INTERVIEWERS} interviewers in all"),
            ));
        }
        let attending = required.len() + pools.iter().map(|p| p.pick).sum::<usize>();
        if attending == 0 {
            return Err(ParseError::new(
                "required",
                "name at least one interviewer (required or in a pool)",
            ));
        }
        let leases = attending * (duration.num_minutes() / LEASE_BUCKET_MINUTES) as usize;
        if leases > MAX_LEASES {
            return Err(ParseError::new(
                "duration_minutes",
                format!(
                    "{attending} interviewers for {} minutes is more than one booking can hold \
                     (interviewers x duration at most {} minutes)",
                    duration.num_minutes(),
                    MAX_LEASES as i64 * LEASE_BUCKET_MINUTES
                ),
            ));
        }
        let buffers = b.buffers;
        let offset = 0..=7 * 24 * 60;
        let expires_at = match b.expires_at.as_deref() {
            Some(raw) => crate::scheduling::request::instant("expires_at", raw)?,
            None => window.end,
        };
        if expires_at <= now {
            return Err(ParseError::new("expires_at", "must be in the future"));
        }
        // A link booked by many candidates needs a manage link per booking (the link's own
        // token is shared by all of them); until bookings carry their own tokens, refuse it
        // rather than let one candidate manage another's interview.
        if b.single_use == Some(false) {
            return Err(ParseError::new(
                "single_use",
                "multi-use links are not supported yet; create one link per candidate",
            ));
        }
        if b.max_slots_per_day == Some(0) {
            return Err(ParseError::new("max_slots_per_day", "must be at least 1"));
        }
        Ok(Self {
            title,
            description,
            duration_minutes: duration.num_minutes(),
            window_start: window.start,
            window_end: window.end,
            time_zone: zone.name().to_owned(),
            required: required.iter().map(|a| a.as_str().to_owned()).collect(),
            pools,
            buffer_before_minutes: minutes(
                "buffers.before_minutes",
                buffers.before_minutes,
                0,
                offset.clone(),
            )?
            .num_minutes(),
            buffer_after_minutes: minutes(
                "buffers.after_minutes",
                buffers.after_minutes,
                0,
                offset.clone(),
            )?
            .num_minutes(),
            min_notice_minutes: minutes("min_notice_minutes", b.min_notice_minutes, 0, offset)?
                .num_minutes(),
            granularity_minutes: granularity.num_minutes(),
            max_slots_per_day: b.max_slots_per_day,
            candidate: candidate(b.candidate)?,
            online_meeting: b.online_meeting.unwrap_or(true),
            location: optional_text("location", b.location.as_deref(), 255)?,
            expires_at,
            single_use: b.single_use.unwrap_or(true),
        })
    }

    /// Applies a patch (already checked to be allowed in the link's state).
    pub fn patch(&mut self, p: LinkPatchBody, now: DateTime<Utc>) -> Result<(), ParseError> {
        if let Some(t) = p.title {
            self.title = text("title", &t, 255)?;
        }
        if let Some(d) = p.description {
            self.description = optional_text("description", Some(&d), 2000)?;
        }
        if let Some(l) = p.location {
            self.location = optional_text("location", Some(&l), 255)?;
        }
        if let Some(c) = p.candidate {
            self.candidate = candidate(Some(c))?;
        }
        if let Some(raw) = p.expires_at {
            let at = crate::scheduling::request::instant("expires_at", &raw)?;
            if at <= now {
                return Err(ParseError::new("expires_at", "must be in the future"));
            }
            self.expires_at = at;
        }
        Ok(())
    }

    pub fn zone(&self) -> IanaZone {
        // Stored only after parsing, so it is a valid name; UTC keeps a corrupt item readable.
        IanaZone::parse("time_zone", &self.time_zone)
            .unwrap_or_else(|_| IanaZone::parse("time_zone", "UTC").expect("UTC is a zone"))
    }

    pub fn duration(&self) -> Duration {
        Duration::minutes(self.duration_minutes)
    }

    /// Every interviewer who might attend: required ones first, then pool members in order.
    pub fn interviewers(&self) -> Vec<String> {
        self.required
            .iter()
            .chain(self.pools.iter().flat_map(|p| &p.members))
            .cloned()
            .collect()
    }
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    Open,
    Booked,
    Expired,
    Cancelled,
}

/// The booked interview, on its link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRecord {
    /// Names this booking's leases and its Graph `transactionId` (a new one per reschedule).
    pub booking_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub interviewers: Vec<String>,
    pub candidate_name: String,
    pub candidate_email: String,
    /// The candidate's zone when they booked (for the confirmation and the manage page).
    pub candidate_time_zone: String,
    /// Absent until Graph created the event (a crash in between is finished on the next visit).
    pub event_id: Option<String>,
    pub join_url: Option<String>,
    pub online_meeting: Option<crate::scheduling::service::OnlineMeetingState>,
    pub booked_at: DateTime<Utc>,
}

/// A stored scheduling link. The token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub id: String,
    pub connection_id: String,
    pub token_hash: String,
    pub spec: LinkSpec,
    /// `open`, `booked` or `cancelled` as stored; `expired` is derived on read ([`Link::status`]).
    pub stored_status: LinkStatus,
    pub booking: Option<BookingRecord>,
    /// Bumped by every change: each write is conditional on the version it read.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Link {
    /// The status as the API and the page see it: an open link past its expiry is `expired`.
    pub fn status(&self, now: DateTime<Utc>) -> LinkStatus {
        match self.stored_status {
            LinkStatus::Open if now >= self.spec.expires_at => LinkStatus::Expired,
            s => s,
        }
    }

    pub fn connection(&self) -> Result<ConnectionId, ParseError> {
        ConnectionId::parse(&self.connection_id)
    }

    /// Whether `secret` is this link's (constant-time on the hashes).
    pub fn admits(&self, token: &LinkToken) -> bool {
        token.link_id == self.id
            && bool::from(
                token
                    .secret_hash()
                    .as_bytes()
                    .ct_eq(self.token_hash.as_bytes()),
            )
    }
}

/// The credential in a link's URL: `{link id}.{secret}`. The id finds the item; the secret (32
/// random bytes, base64url) proves the holder was given the link. Only the secret's SHA-256 is
/// stored, so a table read leaks no working link.
pub struct LinkToken {
    pub link_id: String,
    secret: SecretString,
}

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LinkToken({}.[REDACTED])", self.link_id)
    }
}

impl LinkToken {
    pub fn generate(link_id: &str) -> Self {
        Self {
            link_id: link_id.to_owned(),
            secret: SecretString::from(crate::identity::pkce::random_token(32)),
        }
    }

    /// Parses a token from a URL; anything malformed is simply not a link.
    pub fn parse(raw: &str) -> Option<Self> {
        let (id, secret) = raw.split_once('.')?;
        let id_ok = uuid::Uuid::parse_str(id).is_ok();
        let secret_ok = (40..=64).contains(&secret.len())
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (id_ok && secret_ok).then(|| Self {
            link_id: id.to_owned(),
            secret: SecretString::from(secret.to_owned()),
        })
    }

    pub fn secret_hash(&self) -> String {
        crate::store::keys::digest(self.secret.expose_secret())
    }

    /// The token as it goes into the URL (never into a log).
    pub fn expose(&self) -> String {
        format!("{}.{}", self.link_id, self.secret.expose_secret())
    }

    /// The form's CSRF token: bound to this link's secret, so a page of another link (or a
    /// site without the link) cannot forge it. The secret itself is what authorises booking, so
    /// this only stops a third-party page from submitting the candidate's browser's form.
    pub fn csrf(&self) -> String {
        crate::store::keys::digest(&format!("csrf\n{}", self.secret.expose_secret()))[..32]
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: serde_json::Value) -> LinkBody {
        serde_json::from_value(v).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-03-01T00:00:00Z".parse().unwrap()
    }

    fn valid() -> serde_json::Value {
        serde_json::json!({"title": "Interview", "duration_minutes": 45,
            "window": {"start": "2026-03-02T00:00:00Z", "end": "2026-03-31T00:00:00Z"},
            "time_zone": "Europe/Berlin", "required": ["Bob@Contoso.example"],
            "pools": [{"members": ["carol@contoso.example", "dave@contoso.example"], "pick": 1}]})
    }

    #[test]
    fn a_valid_link_parses_with_lower_cased_interviewers_and_the_documented_defaults() {
        let spec = LinkSpec::parse(body(valid()), now()).unwrap();
        assert_eq!(spec.required, vec!["bob@contoso.example"]);
        assert_eq!(spec.granularity_minutes, 15);
        assert!(spec.online_meeting && spec.single_use);
        assert_eq!(spec.expires_at, spec.window_end);
        assert_eq!(spec.interviewers().len(), 3);
    }

    #[test]
    fn bad_links_are_refused_naming_the_field() {
        let cases: Vec<(&str, serde_json::Value, &str)> = vec![
            ("title", serde_json::json!(""), "title"),
            (
                "duration_minutes",
                serde_json::json!(47),
                "duration_minutes",
            ),
            (
                "granularity_minutes",
                serde_json::json!(7),
                "granularity_minutes",
            ),
            (
                "time_zone",
                serde_json::json!("W. Europe Standard Time"),
                "time_zone",
            ),
            (
                "required",
                serde_json::json!(["not-an-address"]),
                "required",
            ),
            (
                "required",
                serde_json::json!(["carol@contoso.example"]),
                "pools",
            ),
            (
                "pools",
                serde_json::json!([{"members": ["x@contoso.example"], "pick": 2}]),
                "pools[0].pick",
            ),
            (
                "expires_at",
                serde_json::json!("2025-01-01T00:00:00Z"),
                "expires_at",
            ),
            (
                "window",
                serde_json::json!({"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}),
                "window.end",
            ),
        ];
        for (key, value, field) in cases {
            let mut b = valid();
            b[key] = value;
            let e = LinkSpec::parse(body(b), now()).unwrap_err();
            assert_eq!(e.field, field, "{key}: {e:?}");
        }
    }

    #[test]
    fn a_panel_too_large_for_one_transaction_is_refused() {
        let mut b = valid();
        b["duration_minutes"] = serde_json::json!(480);
        let e = LinkSpec::parse(body(b), now()).unwrap_err();
        assert_eq!(e.field, "duration_minutes");
    }

    #[test]
    fn a_token_admits_only_its_link_and_never_prints_its_secret() {
        let id = uuid::Uuid::new_v4().to_string();
        let token = LinkToken::generate(&id);
        let parsed = LinkToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed.secret_hash(), token.secret_hash());
        assert!(!format!("{token:?}").contains(&token.expose()[id.len() + 1..]));
        let other = LinkToken::generate(&id);
        assert_ne!(other.secret_hash(), token.secret_hash());
        assert!(LinkToken::parse("nope").is_none());
        assert!(LinkToken::parse(&format!("{id}.short")).is_none());
        assert_ne!(token.csrf(), other.csrf());
    }
}
