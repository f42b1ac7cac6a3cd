//! The one table from failures to HTTP answers.
//!
//! Every use case returns its own typed error; this module alone decides which [`ApiError`] each
//! becomes, and with it the status, the problem `type` (a stable URI clients match on; the README
//! lists them), the `Retry-After` and whether the cause is logged as a fault. `http.rs` only renders
//! what is decided here. A new error type gets its `From` impl here, nowhere else.

use lambda_http::http::StatusCode;

use crate::app::SecretUseError;
use crate::auth::AuthError;
use crate::connect::claim::ClaimError;
use crate::connect::result::ResultCodeError;
use crate::connect::ConnectError;
use crate::connections::ConnectionsError;
use crate::domain::ParseError;
use crate::edge::EdgeError;
use crate::graph::{GraphError, MAILBOX_NOT_ENABLED};
use crate::http::{ApiError, Problem};
use crate::mail::MailError;
use crate::scheduling::links::LinkError;
use crate::scheduling::service::SchedulingError;
use crate::sending::uploads::UploadError;
use crate::sending::SendError;
use crate::store::StoreError;
use crate::tenants::TenantPolicyError;
use crate::tokens::TokenServiceError;
use crate::webhook::WebhookError;

/// Seconds a client is asked to wait when a dependency gave no hint of its own.
const DEFAULT_RETRY_AFTER_SECS: u64 = 5;

/// The problem `type`s the API answers with. Their URIs are stable: clients may match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    InvalidRequest,
    Unauthorized,
    MissingScope,
    UserNotAllowed,
    PermissionMissing,
    NotFound,
    MethodNotAllowed,
    ConnectionNotActive,
    UnsupportedMailbox,
    RequestInProgress,
    TooLarge,
    MessageTooLarge,
    MailboxFull,
    SendingBlocked,
    TenantPolicy,
    IdempotencyKeyReused,
    ResultUnusable,
    ClaimForbidden,
    MailboxConnectedElsewhere,
    LinkNotOpen,
    SlotTaken,
    RateLimited,
    Unavailable,
    Internal,
}

impl ProblemType {
    pub const ALL: [ProblemType; 24] = [
        Self::InvalidRequest,
        Self::Unauthorized,
        Self::MissingScope,
        Self::UserNotAllowed,
        Self::PermissionMissing,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::ConnectionNotActive,
        Self::UnsupportedMailbox,
        Self::RequestInProgress,
        Self::TooLarge,
        Self::MessageTooLarge,
        Self::MailboxFull,
        Self::SendingBlocked,
        Self::TenantPolicy,
        Self::IdempotencyKeyReused,
        Self::ResultUnusable,
        Self::ClaimForbidden,
        Self::MailboxConnectedElsewhere,
        Self::LinkNotOpen,
        Self::SlotTaken,
        Self::RateLimited,
        Self::Unavailable,
        Self::Internal,
    ];

    pub fn uri(self) -> &'static str {
        match self {
            Self::InvalidRequest => "urn:m365-connector:problem:invalid-request",
            Self::Unauthorized => "urn:m365-connector:problem:unauthorized",
            Self::MissingScope => "urn:m365-connector:problem:missing-scope",
            Self::UserNotAllowed => "urn:m365-connector:problem:user-not-allowed",
            Self::PermissionMissing => "urn:m365-connector:problem:permission-missing",
            Self::NotFound => "urn:m365-connector:problem:not-found",
            Self::MethodNotAllowed => "urn:m365-connector:problem:method-not-allowed",
            Self::ConnectionNotActive => "urn:m365-connector:problem:connection-not-active",
            Self::UnsupportedMailbox => "urn:m365-connector:problem:unsupported-mailbox",
            Self::RequestInProgress => "urn:m365-connector:problem:request-in-progress",
            Self::TooLarge => "urn:m365-connector:problem:too-large",
            Self::MessageTooLarge => "urn:m365-connector:problem:message-too-large",
            Self::MailboxFull => "urn:m365-connector:problem:mailbox-full",
            Self::SendingBlocked => "urn:m365-connector:problem:sending-blocked",
            Self::TenantPolicy => "urn:m365-connector:problem:tenant-policy",
            Self::IdempotencyKeyReused => "urn:m365-connector:problem:idempotency-key-reused",
            Self::ResultUnusable => "urn:m365-connector:problem:result-unusable",
            Self::ClaimForbidden => "urn:m365-connector:problem:claim-forbidden",
            Self::MailboxConnectedElsewhere => {
                "urn:m365-connector:problem:mailbox-connected-elsewhere"
            }
            Self::LinkNotOpen => "urn:m365-connector:problem:link-not-open",
            Self::SlotTaken => "urn:m365-connector:problem:slot-taken",
            Self::RateLimited => "urn:m365-connector:problem:rate-limited",
            Self::Unavailable => "urn:m365-connector:problem:unavailable",
            Self::Internal => "urn:m365-connector:problem:internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::MissingScope | Self::UserNotAllowed | Self::PermissionMissing => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::ConnectionNotActive | Self::UnsupportedMailbox | Self::RequestInProgress => {
                StatusCode::CONFLICT
            }
            Self::TooLarge | Self::MessageTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MailboxFull => StatusCode::INSUFFICIENT_STORAGE,
            Self::SendingBlocked | Self::TenantPolicy => StatusCode::FORBIDDEN,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::ResultUnusable => StatusCode::GONE,
            Self::ClaimForbidden => StatusCode::FORBIDDEN,
            Self::MailboxConnectedElsewhere => StatusCode::CONFLICT,
            Self::LinkNotOpen => StatusCode::GONE,
            Self::SlotTaken => StatusCode::CONFLICT,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl ProblemType {
    /// Whether the same request, made again, can get another answer: only when a dependency
    /// failed (`unavailable`), we did (`internal`, e.g. a lost race in the store) or another
    /// request held the key. Every other answer is final: the send worker ends a send `failed`
    /// with it at once.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::Unavailable | Self::Internal | Self::RequestInProgress
        )
    }
}

impl ApiError {
    pub fn problem_type(&self) -> ProblemType {
        match self {
            Self::BadRequest { .. } => ProblemType::InvalidRequest,
            Self::Unauthorized(_) => ProblemType::Unauthorized,
            Self::MissingScope(_) | Self::MissingEitherScope(..) => ProblemType::MissingScope,
            Self::UserNotAllowed(_) => ProblemType::UserNotAllowed,
            Self::Forbidden(_) => ProblemType::PermissionMissing,
            Self::NotFound(_) => ProblemType::NotFound,
            Self::MethodNotAllowed => ProblemType::MethodNotAllowed,
            Self::NotActive(_) => ProblemType::ConnectionNotActive,
            Self::UnsupportedMailbox(_) => ProblemType::UnsupportedMailbox,
            Self::InProgress { .. } => ProblemType::RequestInProgress,
            Self::PayloadTooLarge(_) => ProblemType::TooLarge,
            Self::MessageTooLarge(_) => ProblemType::MessageTooLarge,
            Self::MailboxFull(_) => ProblemType::MailboxFull,
            Self::SendingBlocked(_) => ProblemType::SendingBlocked,
            Self::TenantPolicy(_) => ProblemType::TenantPolicy,
            Self::Unprocessable(_) => ProblemType::IdempotencyKeyReused,
            Self::Gone(_) => ProblemType::ResultUnusable,
            Self::ClaimForbidden(_) => ProblemType::ClaimForbidden,
            Self::ConnectedElsewhere(_) => ProblemType::MailboxConnectedElsewhere,
            Self::LinkNotOpen(_) => ProblemType::LinkNotOpen,
            Self::SlotTaken(_) => ProblemType::SlotTaken,
            Self::RateLimited { .. } => ProblemType::RateLimited,
            Self::Unavailable { .. } => ProblemType::Unavailable,
            Self::Internal(_) => ProblemType::Internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.problem_type().status()
    }

    /// The `Retry-After` the answer carries, if any.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Unavailable {
                retry_after_secs, ..
            }
            | Self::InProgress { retry_after_secs }
            | Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The problem document sent to the client (never a cause of a 5xx).
    pub fn problem(&self) -> Problem {
        let kind = self.problem_type();
        let status = kind.status();
        let (detail, field) = match self {
            Self::BadRequest { detail, field } => (Some(detail.clone()), field.clone()),
            Self::MissingScope(scope) => (
                Some(format!(
                    "the API key does not have the scope {scope}, which this route requires"
                )),
                None,
            ),
            Self::MissingEitherScope(scope, other) => (
                Some(format!(
                    "the API key has neither the scope {scope} nor {other}; this route requires one of them"
                )),
                None,
            ),
            Self::UserNotAllowed(d) => (Some(d.clone()), Some("user_id".into())),
            Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::NotActive(d)
            | Self::UnsupportedMailbox(d)
            | Self::PayloadTooLarge(d)
            | Self::MessageTooLarge(d)
            | Self::MailboxFull(d)
            | Self::SendingBlocked(d)
            | Self::Unprocessable(d)
            | Self::TenantPolicy(d)
            | Self::Gone(d)
            | Self::ClaimForbidden(d)
            | Self::ConnectedElsewhere(d)
            | Self::LinkNotOpen(d)
            | Self::SlotTaken(d) => (Some(d.clone()), None),
            Self::RateLimited { .. } => (
                Some("too many requests; retry after the time in Retry-After".into()),
                None,
            ),
            Self::InProgress { .. } => (
                Some(
                    "a request with this Idempotency-Key is still in progress; retry later".into(),
                ),
                None,
            ),
            Self::MethodNotAllowed => (None, None),
            Self::Unavailable { .. } => (
                Some("a dependency is temporarily unavailable; retry later".into()),
                None,
            ),
            Self::Internal(_) => (None, None),
        };
        Problem {
            kind: kind.uri().into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail,
            field,
            required_scope: match self {
                Self::MissingScope(scope) | Self::MissingEitherScope(scope, _) => {
                    Some(scope.as_str().into())
                }
                _ => None,
            },
        }
    }
}

/// A Graph failure the caller could not absorb: throttling and outages are a 503 with Graph's own
/// `Retry-After` (or a default), anything else is our fault.
fn graph_unavailable_or_internal(g: GraphError) -> ApiError {
    if g.is_transient() {
        let retry_after_secs = match &g {
            GraphError::Api {
                retry_after: Some(after),
                ..
            } => after.as_secs().max(1),
            _ => DEFAULT_RETRY_AFTER_SECS,
        };
        return ApiError::Unavailable {
            retry_after_secs,
            source: Box::new(g),
        };
    }
    ApiError::internal(g)
}

fn unavailable(secs: u64, e: impl std::error::Error + Send + Sync + 'static) -> ApiError {
    ApiError::Unavailable {
        retry_after_secs: secs,
        source: Box::new(e),
    }
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> Self {
        Self::bad_request(e.field.clone(), e.to_string())
    }
}

impl From<SecretUseError> for ApiError {
    fn from(e: SecretUseError) -> Self {
        Self::internal(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Secret(_) => Self::internal(e),
            AuthError::MissingScope(scope) => Self::MissingScope(scope),
            AuthError::MissingEitherScope(scope, other) => Self::MissingEitherScope(scope, other),
            AuthError::UserRequired | AuthError::UserNotAllowed => {
                Self::UserNotAllowed(e.to_string())
            }
            // The same answer as an unknown connection's (`ConnectionsError::NotFound`).
            AuthError::ConnectionHidden(id) => Self::NotFound(format!("no connection {id}")),
            AuthError::Missing | AuthError::Malformed | AuthError::UnknownKey => {
                Self::Unauthorized(e.to_string())
            }
        }
    }
}

impl From<EdgeError> for ApiError {
    fn from(e: EdgeError) -> Self {
        match e {
            EdgeError::NoRoute(route) => Self::NotFound(format!("no route for {route}")),
            EdgeError::MethodNotAllowed => Self::MethodNotAllowed,
            EdgeError::Header { name, reason } => Self::bad_request(name, reason),
            EdgeError::ContentType(_) | EdgeError::Json(_) | EdgeError::Form(_) => {
                Self::BadRequest {
                    detail: e.to_string(),
                    field: None,
                }
            }
            EdgeError::TooLarge(_) => Self::PayloadTooLarge(e.to_string()),
            EdgeError::Invalid(p) => p.into(),
            EdgeError::Auth(a) => a.into(),
            EdgeError::Store(s) => s.into(),
            EdgeError::MissingPathParameter(_) => Self::internal(e),
        }
    }
}

impl From<TokenServiceError> for ApiError {
    fn from(e: TokenServiceError) -> Self {
        match e {
            TokenServiceError::ReauthRequired { reason } => {
                Self::NotActive(format!("the connection must be reconnected: {reason}"))
            }
            TokenServiceError::Transient(_) | TokenServiceError::LeaseTimeout => {
                unavailable(DEFAULT_RETRY_AFTER_SECS, e)
            }
            other => Self::internal(other),
        }
    }
}

impl From<ConnectionsError> for ApiError {
    fn from(e: ConnectionsError) -> Self {
        match e {
            ConnectionsError::NotFound(id) => Self::NotFound(format!("no connection {id}")),
            ConnectionsError::Cursor(p) => p.into(),
            ConnectionsError::Store(s) => s.into(),
        }
    }
}

impl From<ConnectError> for ApiError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::Invalid(p) => p.into(),
            ConnectError::Callback { field, detail } => Self::bad_request(field, detail),
            ConnectError::UnknownState => Self::bad_request(
                "state",
                "unknown, expired or already used sign-in state; start again",
            ),
            ConnectError::StartUnusable | ConnectError::NotBound => Self::bad_request(
                "state",
                format!("{e}; start connecting the mailbox again from the app"),
            ),
            ConnectError::UnknownTenant => {
                Self::bad_request("tenant", "no Microsoft Entra tenant has this domain")
            }
            ConnectError::IdentityUnavailable(_) | ConnectError::GraphUnavailable(_) => {
                unavailable(DEFAULT_RETRY_AFTER_SECS, e)
            }
            // A lost race with a concurrent callback for the same mailbox: simply retry.
            ConnectError::Race(_) => unavailable(1, e),
            ConnectError::Secret(s) => s.into(),
            ConnectError::Store(s) => s.into(),
            other => Self::internal(other),
        }
    }
}

impl From<ClaimError> for ApiError {
    fn from(e: ClaimError) -> Self {
        match e {
            ClaimError::Invalid(p) => p.into(),
            ClaimError::Code(ResultCodeError::Tampered) => {
                Self::bad_request("result", e.to_string())
            }
            ClaimError::Code(ResultCodeError::Expired) | ClaimError::Gone => {
                Self::Gone(e.to_string())
            }
            ClaimError::WrongUser => Self::ClaimForbidden(e.to_string()),
            ClaimError::TenantOff(refused) => refused.into(),
            ClaimError::ConnectedElsewhere => Self::ConnectedElsewhere(e.to_string()),
            ClaimError::Race(_) => unavailable(1, e),
            ClaimError::Secret(s) => s.into(),
            // Nothing was written: the same claim can be retried.
            ClaimError::Store(StoreError::Dynamo { .. }) => {
                unavailable(DEFAULT_RETRY_AFTER_SECS, e)
            }
            ClaimError::Store(s) => s.into(),
        }
    }
}

impl From<MailError> for ApiError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Parse(p) => p.into(),
            MailError::ConnectionNotFound(id) => Self::NotFound(format!("no connection {id}")),
            MailError::MessageNotFound(id) => Self::NotFound(format!("no message {id}")),
            MailError::EventNotFound(id) => Self::NotFound(format!("no calendar event {id}")),
            MailError::Gone(id) => {
                Self::NotFound(format!("message {id} is no longer in the mailbox"))
            }
            MailError::NotActive(status) => Self::NotActive(format!(
                "the connection is {status}; reconnect it to read message bodies"
            )),
            MailError::Token(t) => t.into(),
            MailError::Store(s) => s.into(),
            MailError::Graph(g) => graph_unavailable_or_internal(g),
            other => Self::internal(other),
        }
    }
}

impl From<SchedulingError> for ApiError {
    fn from(e: SchedulingError) -> Self {
        match e {
            SchedulingError::ConnectionNotFound(_) | SchedulingError::EventNotFound(_) => {
                Self::NotFound(e.to_string())
            }
            SchedulingError::NotActive(_) => Self::NotActive(e.to_string()),
            SchedulingError::UnsupportedMailbox(_) => Self::UnsupportedMailbox(e.to_string()),
            SchedulingError::NoCalendarCapability => Self::Forbidden(e.to_string()),
            SchedulingError::KeyReused => Self::Unprocessable(e.to_string()),
            SchedulingError::Unavailable(g) => match graph_unavailable_or_internal(g) {
                Self::Internal(source) => Self::Unavailable {
                    retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
                    source,
                },
                answer => answer,
            },
            SchedulingError::Token(t) => t.into(),
            other => Self::internal(other),
        }
    }
}

impl From<LinkError> for ApiError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::NotFound => Self::NotFound(e.to_string()),
            LinkError::NotOpen(_) | LinkError::NotBooked => Self::LinkNotOpen(e.to_string()),
            LinkError::SlotTaken => Self::SlotTaken(e.to_string()),
            LinkError::SlotNotOffered => Self::bad_request("start", e.to_string()),
            LinkError::RateLimited => Self::RateLimited {
                retry_after_secs: 60,
            },
            LinkError::Invalid(p) => p.into(),
            LinkError::Scheduling(s) => s.into(),
            LinkError::Store(s) => s.into(),
        }
    }
}

impl From<SendError> for ApiError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Invalid(i) => i.into(),
            SendError::NotFound => Self::NotFound("no such connection".into()),
            SendError::UnknownSend => Self::NotFound(
                "no send with this key for this connection (or it has expired)".into(),
            ),
            SendError::MessageNotFound => {
                Self::NotFound("the message to reply to does not exist in this mailbox".into())
            }
            SendError::NotActive(status) => Self::NotActive(format!(
                "the connection is {status}; only active connections can send mail"
            )),
            SendError::NoSendPermission => no_send_permission(),
            SendError::TenantPolicy(access) => Self::TenantPolicy(format!(
                "the tenant's access policy ({}) forbids sending mail through its connections; its administrator can set it to send_and_view",
                access.as_str()
            )),
            SendError::KeyReused => Self::Unprocessable(
                "this Idempotency-Key was already used with a different request".into(),
            ),
            SendError::UnsupportedMailbox => unsupported_mailbox_send(),
            SendError::TooLarge => too_large_send(),
            SendError::OutcomeUnknown => unavailable(30, e),
            SendError::Graph(g) => send_graph_failure(g),
            SendError::Token(t) => t.into(),
            other => Self::internal(other),
        }
    }
}

fn no_send_permission() -> ApiError {
    ApiError::Forbidden(
        "the connection was not granted Mail.Send; reconnect it and grant the permission to send mail"
            .into(),
    )
}

fn unsupported_mailbox_send() -> ApiError {
    ApiError::UnsupportedMailbox(
        "unsupported_mailbox: the mailbox is on premises or inactive; only Exchange Online mailboxes can send"
            .into(),
    )
}

/// Exchange's code for a message over the mailbox's `MaxSendSize`.
const MESSAGE_SIZE_EXCEEDED: &str = "ErrorMessageSizeExceeded";
/// Codes of a mailbox over its storage quota.
const MAILBOX_FULL: [&str; 3] = [
    "ErrorQuotaExceeded",
    "QuotaExceededException",
    "quotaLimitReached",
];
/// Codes of Exchange refusing to submit mail from this mailbox.
const SENDING_BLOCKED: [&str; 2] = ["ErrorSendAsDenied", "ErrorMessageSubmissionBlocked"];
/// Codes of a missing permission (the token lacks Mail.Send).
const ACCESS_DENIED: [&str; 3] = [
    "ErrorAccessDenied",
    "accessDenied",
    "Authorization_RequestDenied",
];

/// A 4xx of Graph that says something about the request, not about the moment: everything but
/// an expired token (401, refreshed before this), a timeout (408), a conflict with a concurrent
/// change (409) and throttling (429).
fn refuses_the_message(status: u16) -> bool {
    (400..500).contains(&status) && ![401, 408, 409, 429].contains(&status)
}

fn sending_blocked(code: &str) -> ApiError {
    ApiError::SendingBlocked(format!(
        "Exchange refused to send from this mailbox ({code}): the sender may be blocked (for example after suspected spam) or not allowed to send as this address; the mailbox's administrator can lift it"
    ))
}

fn too_large_send() -> ApiError {
    ApiError::PayloadTooLarge("Microsoft Graph refused the message as too large".into())
}

/// What a Graph refusal of a send means to the client. Exchange's own codes come first: a 403
/// is "no Mail.Send" only when Graph says access was denied.
fn send_graph_failure(g: GraphError) -> ApiError {
    match &g {
        GraphError::Api { code, .. } if code == MESSAGE_SIZE_EXCEEDED => ApiError::MessageTooLarge(
            "the message is larger than this mailbox may send (its Exchange MaxSendSize, 35 MB by default); send smaller or fewer attachments, or ask the mailbox's administrator to raise the limit"
                .into(),
        ),
        GraphError::Api { code, .. } if MAILBOX_FULL.contains(&code.as_str()) => {
            ApiError::MailboxFull(format!(
                "the mailbox is over its storage quota ({code}); nothing can be sent until the user frees space"
            ))
        }
        GraphError::Api { code, .. } if SENDING_BLOCKED.contains(&code.as_str()) => {
            sending_blocked(code)
        }
        GraphError::Api { status: 413, .. } => too_large_send(),
        GraphError::Api { code, .. } if code == MAILBOX_NOT_ENABLED => unsupported_mailbox_send(),
        GraphError::Api { status: 403, code, .. } if ACCESS_DENIED.contains(&code.as_str()) => {
            no_send_permission()
        }
        GraphError::Api { status: 403, code, .. } => sending_blocked(code),
        GraphError::Api {
            status: 400, code, ..
        } if code == "ErrorInvalidRecipients" => {
            ApiError::bad_request("to", "Microsoft Graph refused the recipients as invalid")
        }
        // Any other refusal of the message itself: no retry changes it.
        GraphError::Api { status, code, .. } if refuses_the_message(*status) => {
            ApiError::BadRequest {
                detail: format!("Microsoft Graph refused the message ({code})"),
                field: None,
            }
        }
        _ => graph_unavailable_or_internal(g),
    }
}

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Invalid(i) => i.into(),
            UploadError::NotFound => Self::NotFound("no such connection".into()),
            UploadError::NotActive(status) => Self::NotActive(format!(
                "the connection is {status}; only active connections can send mail"
            )),
            other => Self::internal(other),
        }
    }
}

impl From<TenantPolicyError> for ApiError {
    fn from(e: TenantPolicyError) -> Self {
        match e {
            TenantPolicyError::Invalid(p) => p.into(),
            TenantPolicyError::ConnectionsRefused { tenant } => Self::TenantPolicy(format!(
                "the access policy of tenant {tenant} is off: it admits no connections until its administrator sets send_and_view or view_only"
            )),
            // Another administrator's change won each time: retrying soon reads the new state.
            TenantPolicyError::Concurrent(_) => unavailable(1, e),
            TenantPolicyError::Store(s) => s.into(),
            other => Self::internal(other),
        }
    }
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::Malformed(detail) => Self::bad_request("value", detail),
            WebhookError::TooLarge(detail) => Self::PayloadTooLarge(detail),
            WebhookError::InvalidToken(detail) => Self::bad_request("validationToken", detail),
            // 503 rather than 500: the failure is a dependency's, and Graph retries any 5xx.
            other => unavailable(crate::webhook::RETRY_AFTER_SECS, other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_types_are_distinct_stable_uris_with_their_status() {
        let uris: std::collections::HashSet<&str> =
            ProblemType::ALL.iter().map(|t| t.uri()).collect();
        assert_eq!(uris.len(), ProblemType::ALL.len());
        assert!(uris
            .iter()
            .all(|u| u.starts_with("urn:m365-connector:problem:")));
        assert_eq!(ProblemType::RequestInProgress.status(), 409);
        assert_eq!(ProblemType::IdempotencyKeyReused.status(), 422);
    }

    #[test]
    fn refusals_by_a_tenant_policy_are_403s_of_their_own_type() {
        use crate::domain::TenantAccess;
        let refusals = [
            ApiError::from(SendError::TenantPolicy(TenantAccess::ViewOnly)),
            ApiError::from(TenantPolicyError::ConnectionsRefused {
                tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            }),
        ];
        for e in refusals {
            assert_eq!(e.status(), 403);
            let problem = e.problem();
            assert_eq!(problem.kind, "urn:m365-connector:problem:tenant-policy");
            assert!(problem.detail.unwrap().contains("policy"));
        }
        let bad = ApiError::from(TenantPolicyError::Invalid(ParseError::new("access", "x")));
        assert_eq!(bad.status(), 400);
        assert_eq!(bad.problem().field.as_deref(), Some("access"));
    }

    #[test]
    fn a_missing_scope_is_a_403_naming_the_scope() {
        let r = ApiError::from(EdgeError::Auth(AuthError::MissingScope(
            crate::auth::Scope::MailSend,
        )))
        .into_response();
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let b: serde_json::Value = serde_json::from_slice(r.body().as_ref()).unwrap();
        assert_eq!(b["type"], "urn:m365-connector:problem:missing-scope");
        assert_eq!(b["required_scope"], "mail:send");
        assert!(b["detail"].as_str().unwrap().contains("mail:send"), "{b}");
    }

    #[test]
    fn a_key_limited_to_some_users_gets_403_for_others_and_404_for_their_connections() {
        for e in [AuthError::UserRequired, AuthError::UserNotAllowed] {
            let a = ApiError::from(e);
            assert_eq!(a.status(), 403);
            assert_eq!(a.problem_type(), ProblemType::UserNotAllowed);
            assert_eq!(a.problem().field.as_deref(), Some("user_id"));
        }
        let id = crate::domain::ConnectionId::new_random();
        let hidden = ApiError::from(AuthError::ConnectionHidden(id.clone())).problem();
        let unknown = ApiError::from(ConnectionsError::NotFound(id)).problem();
        assert_eq!(
            hidden, unknown,
            "indistinguishable from an unknown connection"
        );
        assert_eq!(hidden.status, 404);
    }

    #[test]
    fn in_progress_is_a_409_with_retry_after() {
        let e = ApiError::InProgress {
            retry_after_secs: 9,
        };
        assert_eq!(e.status(), 409);
        assert_eq!(e.retry_after_secs(), Some(9));
        assert_eq!(
            e.problem().kind,
            "urn:m365-connector:problem:request-in-progress"
        );
        let r = e.into_response();
        assert_eq!(r.headers()["retry-after"], "9");
    }

    #[test]
    fn admin_consent_for_an_unknown_domain_is_a_400_naming_the_tenant() {
        let problem = ApiError::from(ConnectError::UnknownTenant).problem();

        assert_eq!(problem.status, 400);
        assert_eq!(problem.field.as_deref(), Some("tenant"));
        assert_eq!(
            problem.detail.as_deref(),
            Some("no Microsoft Entra tenant has this domain")
        );
    }

    #[test]
    fn graph_refusals_of_a_send_are_told_apart() {
        let api = |status: u16, code: &str, retry_after: Option<u64>| {
            send_graph_failure(GraphError::Api {
                status,
                code: code.into(),
                retry_after: retry_after.map(std::time::Duration::from_secs),
            })
        };
        assert_eq!(api(413, "x", None).status(), 413);
        assert_eq!(api(404, MAILBOX_NOT_ENABLED, None).status(), 409);
        assert_eq!(api(403, "ErrorAccessDenied", None).status(), 403);
        assert_eq!(api(400, "ErrorInvalidRecipients", None).status(), 400);
        let throttled = api(429, "TooManyRequests", Some(12));
        assert_eq!(throttled.status(), 503);
        assert_eq!(throttled.retry_after_secs(), Some(12));
        let refused = api(400, "ErrorInvalidIdType", None);
        assert_eq!(refused.status(), 400);
        assert!(refused
            .problem()
            .detail
            .unwrap()
            .contains("ErrorInvalidIdType"));
        assert_eq!(api(409, "ErrorIrresolvableConflict", None).status(), 500);
    }

    #[test]
    fn exchange_send_refusals_have_their_own_problem_types() {
        let kind = |status: u16, code: &str| {
            let e = send_graph_failure(GraphError::Api {
                status,
                code: code.into(),
                retry_after: None,
            });
            (e.status().as_u16(), e.problem_type())
        };
        assert_eq!(
            kind(413, "ErrorMessageSizeExceeded"),
            (413, ProblemType::MessageTooLarge)
        );
        assert_eq!(
            kind(400, "ErrorMessageSizeExceeded"),
            (413, ProblemType::MessageTooLarge)
        );
        assert_eq!(
            kind(403, "ErrorQuotaExceeded"),
            (507, ProblemType::MailboxFull)
        );
        assert_eq!(
            kind(507, "QuotaExceededException"),
            (507, ProblemType::MailboxFull)
        );
        assert_eq!(
            kind(403, "ErrorMessageSubmissionBlocked"),
            (403, ProblemType::SendingBlocked)
        );
        assert_eq!(
            kind(403, "ErrorSendAsDenied"),
            (403, ProblemType::SendingBlocked)
        );
        assert_eq!(
            kind(403, "SomethingElse"),
            (403, ProblemType::SendingBlocked)
        );
        assert_eq!(
            kind(403, "ErrorAccessDenied"),
            (403, ProblemType::PermissionMissing)
        );
    }
}
