//! In-memory state of one simulator: sign-in flows, grants, mailboxes, subscriptions, faults
//! and logs. Lives behind a std `Mutex` that is never held across an `.await`.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::directory::{MailboxKind, USERS};
use crate::faults::Fault;
use crate::mailbox::Mailbox;
use crate::notify::{Change, DeliveryLogEntry, Subscription};
use crate::scopes::ScopeSet;

/// A pending /authorize request, waiting for the consent form.
#[derive(Debug, Clone)]
pub struct AuthorizeFlow {
    pub tenant_segment: String,
    pub redirect_uri: String,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub response_mode: String,
    pub code_challenge: String,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: String,
    pub tenant_id: String,
    pub scopes: ScopeSet,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub issued: DateTime<Utc>,
    pub redeemed: bool,
}

#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub client_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub scopes: ScopeSet,
    pub last_used: DateTime<Utc>,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub struct AccessGrant {
    pub user_id: String,
    pub tenant_id: String,
    pub scopes: Vec<&'static str>,
    pub expires: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct DeltaState {
    pub user_id: String,
    pub folder_id: String,
    /// Changes after this mailbox sequence number are reported.
    pub since: u64,
    /// For a `$skiptoken`: the ids still to report in this round, and the round's end.
    pub pending: Option<(Vec<String>, u64)>,
    pub select: Option<Vec<String>>,
    /// `$filter=receivedDateTime ge|gt {t}` of the initial request (`true` for `ge`), carried in
    /// every skip and delta token of the sequence.
    pub received_from: Option<(DateTime<Utc>, bool)>,
    pub immutable: bool,
    pub page_size: usize,
    pub expired: bool,
}

#[derive(Debug, Clone)]
pub struct UploadSession {
    pub user_id: String,
    pub message_id: String,
    pub name: String,
    pub content_type: String,
    pub is_inline: bool,
    pub size: usize,
    pub data: Vec<u8>,
    pub expires: DateTime<Utc>,
}

/// A credential the simulator issued (codes, tokens, upload URLs) or was handed (a subscription's
/// `clientState`), kept so that a test run can check that none of them reached a log.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedSecret {
    pub kind: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLogEntry {
    pub seq: u64,
    pub time: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub duration_ms: u64,
    pub user: Option<String>,
    pub fault: Option<String>,
}

pub struct State {
    pub flows: HashMap<String, AuthorizeFlow>,
    pub codes: HashMap<String, AuthCode>,
    pub refresh_tokens: HashMap<String, RefreshGrant>,
    pub access_tokens: HashMap<String, AccessGrant>,
    /// Graph permissions each user has consented to (user id -> scopes).
    pub user_consents: HashMap<String, BTreeSet<&'static str>>,
    /// Tenant-wide admin consent (tenant id -> scopes).
    pub admin_consents: HashMap<String, BTreeSet<&'static str>>,
    /// Tenants where the app's service principal (enterprise application) exists: created by
    /// the first consent in the tenant, an administrator's or a user's, and kept when the
    /// permission grants are removed, as in Entra.
    pub service_principals: BTreeSet<String>,
    /// User consent settings changed through the control API (tenant id -> setting); a tenant
    /// not listed has its seeded setting.
    pub user_consent: HashMap<String, crate::directory::UserConsent>,
    pub mailboxes: HashMap<String, Mailbox>,
    pub delta_tokens: HashMap<String, DeltaState>,
    pub subscriptions: Vec<Subscription>,
    pub upload_sessions: HashMap<String, UploadSession>,
    pub faults: Vec<Fault>,
    pub fault_seq: u64,
    pub requests: Vec<RequestLogEntry>,
    pub request_seq: u64,
    pub deliveries: Vec<DeliveryLogEntry>,
    /// Every credential issued or handed to the simulator, oldest first (`GET /_sim/issued-secrets`).
    pub issued_secrets: Vec<IssuedSecret>,
    /// Changes waiting to be turned into notifications once the lock is released.
    pub outbox: Vec<Change>,
    /// Notification items waiting for their URL's batch window to close.
    pub pending_notifications: HashMap<String, Vec<Value>>,
    pub notify_settings: crate::notify::NotifySettings,
    /// How long Exchange's transport takes to submit a sent draft (`PUT /_sim/settings`).
    pub submission: SubmissionSettings,
    /// `/send` and `sendMail` calls whose submission has not happened yet.
    pub pending_submissions: u64,
    /// In-flight Graph requests per mailbox (user id).
    pub inflight: HashMap<String, usize>,
    /// Calendars and working hours of the Exchange Online mailboxes.
    pub calendar: crate::graph::calendar::CalendarState,
}

impl State {
    pub fn seeded() -> State {
        let mailboxes = USERS
            .iter()
            .filter(|u| u.mailbox == MailboxKind::Online)
            .map(|u| (u.id.to_string(), Mailbox::new(u.id, u.upn)))
            .collect();
        State {
            flows: HashMap::new(),
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            user_consents: HashMap::new(),
            admin_consents: HashMap::new(),
            service_principals: BTreeSet::new(),
            user_consent: HashMap::new(),
            mailboxes,
            delta_tokens: HashMap::new(),
            subscriptions: Vec::new(),
            upload_sessions: HashMap::new(),
            faults: Vec::new(),
            fault_seq: 0,
            requests: Vec::new(),
            request_seq: 0,
            deliveries: Vec::new(),
            issued_secrets: Vec::new(),
            outbox: Vec::new(),
            pending_notifications: HashMap::new(),
            notify_settings: Default::default(),
            submission: SubmissionSettings::default(),
            pending_submissions: 0,
            inflight: HashMap::new(),
            calendar: crate::graph::calendar::CalendarState::seeded(),
        }
    }
}

impl State {
    /// Records a credential for `GET /_sim/issued-secrets`.
    pub fn remember_secret(&mut self, kind: &'static str, value: impl Into<String>) {
        self.issued_secrets.push(IssuedSecret {
            kind,
            value: value.into(),
        });
    }
}

/// Exchange sends asynchronously: `/send` answers 202 and transport moves the draft to Sent Items
/// and delivers it afterwards. This is how long afterwards (0: inside the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubmissionSettings {
    pub delay_ms: u64,
    /// The next this many accepted submissions never happen: `/send` answered 202 and the draft
    /// stays in Drafts (the case a sender's grace period exists for). Counts down to 0.
    pub lose_next: u32,
}

impl Default for SubmissionSettings {
    fn default() -> Self {
        Self {
            delay_ms: 1000,
            lose_next: 0,
        }
    }
}

/// A random opaque token (URL-safe).
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let buf: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
