//! Connecting a mailbox: the OAuth 2.0 authorization-code flow with PKCE and OpenID Connect, and
//! tenant-wide admin consent. (Reading and deleting connections: `crate::connections`.)
//!
//! The flow, and who proves what:
//! 1. `start` (`POST /connections`, the app's server with its API key) stores a single-use state
//!    (hash-keyed, 10 minutes) holding the PKCE verifier, the nonce, the app user, the return URL
//!    and Microsoft's authorize URL, and hands back a connector **start URL**.
//! 2. `browser::open` (`GET /oauth/start`, the user's browser) binds the state to that browser
//!    with a cookie, once, and redirects to Microsoft.
//! 3. `callback` (`GET /oauth/callback`, the same browser) consumes the state only with that
//!    cookie, redeems the code, validates the id_token, checks the mailbox is in Exchange Online
//!    and stores the outcome as a **pending result** (tokens sealed, 10 minutes), without
//!    attaching the mailbox to anybody. The browser goes back to the app with a one-time
//!    `result` code.
//! 4. `claim::claim` (`POST /connections/claims`, the app's server, in the session of whoever is
//!    logged in) attaches the mailbox to the app user only if that user is the one who started
//!    the sign-in; a mailbox already owned by another app user moves only when the sign-in asked
//!    for a transfer.
//!
//! So a sign-in link forwarded to somebody else cannot put their mailbox under the sender's app
//! user: either their browser lacks the cookie, or the result lands in their own app session,
//! whose claim names them, not the sender.

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::app::{Connector, SecretUseError};
use crate::domain::{AppUserId, Capability, ParseError};
use crate::events::PublishError;
use crate::graph::GraphError;
use crate::identity::{random_token, AuthorizeRequest, Pkce, TenantLookupError};
use crate::queue::EnqueueError;
use crate::store::StoreError;
use crate::tokens::{TokenServiceError, SCOPES};

mod admin;
pub mod browser;
mod callback;
pub mod claim;
pub mod result;
pub use admin::{admin_consent_callback, start_admin_consent};
pub use callback::{callback, CallbackParams, PendingConnection};

/// Why starting or finishing a sign-in failed; `crate::failures` decides the answers. (A sign-in
/// that Microsoft or the user ended is not an error: the browser goes back to the app with an
/// `error` parameter.)
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error("{detail}")]
    Callback {
        field: &'static str,
        detail: &'static str,
    },
    #[error("unknown, expired or already used sign-in state")]
    UnknownState,
    /// A start URL that is unknown, expired or was opened already.
    #[error("this sign-in link is unknown, expired or was already opened")]
    StartUnusable,
    /// The callback came to a browser that did not start this sign-in (or it was spent).
    #[error("this sign-in was not started in this browser, expired or was already used")]
    NotBound,
    /// Admin consent was asked for a domain no Microsoft Entra tenant has.
    #[error("no Microsoft Entra tenant has this domain")]
    UnknownTenant,
    /// A domain's tenant could not be read from its discovery document (not an outage).
    #[error("the tenant of the domain could not be determined")]
    TenantLookup(#[source] TenantLookupError),
    #[error("the identity platform is unavailable")]
    IdentityUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("Microsoft Graph is unavailable")]
    GraphUnavailable(#[source] GraphError),
    #[error("a concurrent sign-in of the same mailbox won the race")]
    Race(#[source] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretUseError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored return URL is unreadable")]
    Corrupt(#[source] url::ParseError),
    #[error("the tokens could not be sealed")]
    Seal(#[source] TokenServiceError),
    #[error("the tenant policy could not be read")]
    Policy(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the result code could not be sealed")]
    SealResult(#[source] crate::crypto::CryptoError),
    #[error("publishing the connection event failed")]
    Publish(#[source] PublishError),
    #[error("queueing the first sync failed")]
    Enqueue(#[source] EnqueueError),
}

/// How long a pending sign-in may take.
pub const STATE_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);
const MAX_URL_LEN: usize = 2048;

pub const CALLBACK_PATH: &str = "/oauth/callback";
pub const START_PATH: &str = "/oauth/start";
pub const ADMIN_CALLBACK_PATH: &str = "/oauth/admin-consent/callback";

/// A URL on one of the configured origins: where the browser may be sent back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnUrl(pub(crate) Url);

impl ReturnUrl {
    pub fn parse(raw: &str, allowed: &[url::Origin]) -> Result<Self, ParseError> {
        let field = "return_url";
        if raw.len() > MAX_URL_LEN {
            return Err(ParseError::new(
                field,
                format!("must be at most {MAX_URL_LEN} characters"),
            ));
        }
        let url = Url::parse(raw).map_err(|_| ParseError::new(field, "must be an absolute URL"))?;
        if !matches!(url.scheme(), "http" | "https")
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(ParseError::new(
                field,
                "must be an http(s) URL without credentials",
            ));
        }
        if !allowed.contains(&url.origin()) {
            return Err(ParseError::new(
                field,
                "its origin is not in the allow-list (ALLOWED_RETURN_ORIGINS)",
            ));
        }
        Ok(Self(url))
    }

    /// The return URL with `params` appended to its query.
    pub fn with(&self, params: &[(&str, &str)]) -> Url {
        let mut url = self.0.clone();
        url.query_pairs_mut().extend_pairs(params);
        url
    }
}

/// The `prompt` values Microsoft accepts.
fn parse_prompt(raw: Option<&str>) -> Result<Option<&str>, ParseError> {
    match raw {
        None => Ok(None),
        Some(p @ ("login" | "consent" | "select_account" | "none")) => Ok(Some(p)),
        Some(_) => Err(ParseError::new(
            "prompt",
            "must be one of login, consent, select_account, none",
        )),
    }
}

fn parse_login_hint(raw: Option<&str>) -> Result<Option<&str>, ParseError> {
    match raw {
        None => Ok(None),
        Some(h) if !h.is_empty() && h.len() <= 256 && !h.chars().any(char::is_control) => {
            Ok(Some(h))
        }
        Some(_) => Err(ParseError::new(
            "login_hint",
            "must be 1-256 characters without control characters",
        )),
    }
}

/// What a pending state remembers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum PendingAuth {
    Connect {
        user_id: AppUserId,
        return_url: String,
        verifier: String,
        nonce: String,
        redirect_uri: String,
        /// Microsoft's authorize URL, where the start URL sends the browser.
        authorize_url: String,
        /// Whether the app asked to move the mailbox from another app user, if it has one.
        #[serde(default)]
        transfer: bool,
    },
    AdminConsent {
        tenant: String,
        return_url: String,
    },
}

/// `POST /connections` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartConnection {
    pub user_id: String,
    pub return_url: String,
    pub login_hint: Option<String>,
    pub prompt: Option<String>,
    /// Move the mailbox to this user even if another app user has it connected (an event names
    /// both owners). Without it such a sign-in ends with `error=mailbox_connected_elsewhere`.
    #[serde(default)]
    pub transfer: bool,
}

/// The answer to `POST /connections`: the URL the app sends the user's browser to.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct AuthorizationStarted {
    /// The connector's start URL: single use, valid until `expires_at`.
    pub start_url: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /admin-consents` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartAdminConsent {
    /// The tenant id, or any domain verified in the tenant (`contoso.com`,
    /// `contoso.onmicrosoft.com`).
    pub tenant: String,
    pub return_url: String,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct AdminConsentStarted {
    pub consent_url: String,
    pub expires_at: DateTime<Utc>,
    /// The tenant id the consent is for (`tenant` resolved, when it was a domain).
    pub tenant_id: String,
}

/// Starts a user's sign-in and consent.
#[tracing::instrument(skip_all)]
pub async fn start(
    c: &Connector,
    body: StartConnection,
    base_url: &Url,
) -> Result<AuthorizationStarted, ConnectError> {
    let user_id = AppUserId::parse(&body.user_id)?;
    let return_url = ReturnUrl::parse(&body.return_url, &c.config.allowed_return_origins)?;
    // `select_account` by default: the user sees which account is being connected, even when
    // Microsoft could sign them in silently.
    let prompt = parse_prompt(body.prompt.as_deref())?.or(Some("select_account"));
    let login_hint = parse_login_hint(body.login_hint.as_deref())?;
    let credentials = c.credentials().await?;

    let state = random_token(32);
    let nonce = random_token(32);
    let pkce = Pkce::generate();
    let redirect_uri = join(base_url, CALLBACK_PATH);
    let authorize_url = c
        .identity
        .authorize_url(&AuthorizeRequest {
            client_id: &credentials.client_id,
            redirect_uri: &redirect_uri,
            scopes: &SCOPES,
            state: &state,
            nonce: &nonce,
            code_challenge: &pkce.challenge,
            login_hint,
            prompt,
            response_mode: "query",
        })
        .await
        .map_err(|e| ConnectError::IdentityUnavailable(Box::new(e)))?;
    let expires_at = Utc::now() + STATE_LIFETIME;
    let pending = PendingAuth::Connect {
        user_id,
        return_url: return_url.0.to_string(),
        verifier: pkce.verifier.expose_secret().to_owned(),
        nonce,
        redirect_uri,
        authorize_url: authorize_url.to_string(),
        transfer: body.transfer,
    };
    c.store
        .put_oauth_state(&state, &pending, expires_at)
        .await?;
    let mut start_url = Url::parse(&join(base_url, START_PATH)).map_err(ConnectError::Corrupt)?;
    start_url.query_pairs_mut().append_pair("state", &state);
    tracing::info!(transfer = body.transfer, "sign-in started");
    Ok(AuthorizationStarted {
        start_url: start_url.to_string(),
        expires_at,
    })
}

pub(crate) fn join(base: &Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// Capabilities that the granted scopes allow.
pub fn capabilities(scopes: &[String]) -> Vec<Capability> {
    let has = |name: &str| scopes.iter().any(|s| s.eq_ignore_ascii_case(name));
    let mut out = Vec::new();
    if has("Mail.Read") || has("Mail.ReadWrite") {
        out.push(Capability::MailRead);
    }
    if has("Mail.Send") {
        out.push(Capability::MailSend);
    }
    if has("Calendars.ReadWrite") {
        out.push(Capability::Calendar);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> Vec<url::Origin> {
        vec![Url::parse("https://app.example.com").unwrap().origin()]
    }

    #[test]
    fn return_urls_must_be_on_an_allowed_origin() {
        assert!(ReturnUrl::parse("https://app.example.com/settings?tab=mail", &origins()).is_ok());
        for bad in [
            "https://evil.example/",
            "https://app.example.com.evil.example/",
            "http://app.example.com/",
            "https://app.example.com:8443/",
            "https://user:pw@app.example.com/",
            "javascript:alert(1)",
            "/relative",
            "",
        ] {
            assert_eq!(
                ReturnUrl::parse(bad, &origins()).unwrap_err().field,
                "return_url",
                "{bad}"
            );
        }
        let long = format!("https://app.example.com/{}", "a".repeat(3000));
        assert!(ReturnUrl::parse(&long, &origins()).is_err());
    }

    #[test]
    fn return_url_parameters_are_appended_and_encoded() {
        let r = ReturnUrl::parse("https://app.example.com/cb?x=1", &origins()).unwrap();
        let url = r.with(&[("error", "access_denied"), ("error_description", "a&b=c")]);
        assert_eq!(
            url.as_str(),
            "https://app.example.com/cb?x=1&error=access_denied&error_description=a%26b%3Dc"
        );
    }

    #[test]
    fn capabilities_follow_granted_scopes() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            capabilities(&s(&[
                "openid",
                "Mail.Read",
                "Mail.ReadWrite",
                "Mail.Send",
                "Calendars.ReadWrite"
            ])),
            vec![
                Capability::MailRead,
                Capability::MailSend,
                Capability::Calendar
            ]
        );
        assert_eq!(
            capabilities(&s(&["mail.read", "User.Read"])),
            vec![Capability::MailRead]
        );
        assert!(capabilities(&s(&["User.Read"])).is_empty());
    }

    #[test]
    fn prompts_and_login_hints_must_be_known() {
        assert_eq!(parse_prompt(Some("consent")).unwrap(), Some("consent"));
        assert!(parse_prompt(Some("always")).is_err());
        assert!(parse_login_hint(Some(&"a".repeat(300))).is_err());
    }
}
