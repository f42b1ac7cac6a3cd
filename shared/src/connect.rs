//! Connecting a mailbox: the OAuth 2.0 authorization-code flow with PKCE and OpenID Connect,
//! tenant-wide admin consent, reading and deleting connections.
//!
//! The flow: `start` stores a single-use state (hash-keyed, 10 minutes) holding the PKCE verifier,
//! the nonce, the app user and the return URL, and hands back Microsoft's authorize URL. The
//! browser comes back to `callback`, which consumes the state with a conditional delete (so a
//! replay finds nothing), redeems the code, validates the id_token, checks the mailbox is in
//! Exchange Online, upserts the connection by tenant + user object id, stores the tokens encrypted,
//! announces the connection and queues its first sync.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::app::Connector;
use crate::connections::ConnectionView;
use crate::domain::{
    AppUserId, Capability, Connection, ConnectionId, ConnectionStatus, ParseError,
};
use crate::graph::MailboxCheck;
use crate::http::ApiError;
use crate::identity::{random_token, AuthorizeRequest, Pkce, TokenError};
use crate::queue::SyncJob;
use crate::store::StoreError;
use crate::tokens::{seal, SCOPES};

/// How long a pending sign-in may take.
pub const STATE_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);
const MAX_URL_LEN: usize = 2048;

pub const CALLBACK_PATH: &str = "/oauth/callback";
pub const ADMIN_CALLBACK_PATH: &str = "/oauth/admin-consent/callback";

/// A URL on one of the configured origins: where the browser may be sent back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnUrl(Url);

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

/// A tenant id as Microsoft issues them: a GUID.
pub fn parse_tenant(raw: &str) -> Result<String, ParseError> {
    uuid::Uuid::parse_str(raw)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| ParseError::new("tenant", "must be the tenant id (a GUID)"))
}

/// What a pending state remembers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum PendingAuth {
    Connect {
        user_id: AppUserId,
        return_url: String,
        verifier: String,
        nonce: String,
        redirect_uri: String,
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
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct AuthorizationStarted {
    pub authorize_url: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /admin-consents` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartAdminConsent {
    pub tenant: String,
    pub return_url: String,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct AdminConsentStarted {
    pub consent_url: String,
    pub expires_at: DateTime<Utc>,
}

/// Starts a user's sign-in and consent.
#[tracing::instrument(skip_all)]
pub async fn start(
    c: &Connector,
    body: StartConnection,
    base_url: &Url,
) -> Result<AuthorizationStarted, ApiError> {
    let user_id = AppUserId::parse(&body.user_id)?;
    let return_url = ReturnUrl::parse(&body.return_url, &c.config.allowed_return_origins)?;
    let prompt = parse_prompt(body.prompt.as_deref())?;
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
        .map_err(|e| ApiError::Unavailable {
            retry_after_secs: 5,
            source: Box::new(e),
        })?;
    let expires_at = Utc::now() + STATE_LIFETIME;
    let pending = PendingAuth::Connect {
        user_id,
        return_url: return_url.0.to_string(),
        verifier: pkce.verifier.expose_secret().to_owned(),
        nonce,
        redirect_uri,
    };
    c.store
        .put_oauth_state(&state, &pending, expires_at)
        .await?;
    tracing::info!("sign-in started");
    Ok(AuthorizationStarted {
        authorize_url: authorize_url.to_string(),
        expires_at,
    })
}

/// Starts tenant-wide admin consent.
#[tracing::instrument(skip_all)]
pub async fn start_admin_consent(
    c: &Connector,
    body: StartAdminConsent,
    base_url: &Url,
) -> Result<AdminConsentStarted, ApiError> {
    let tenant = parse_tenant(&body.tenant)?;
    let return_url = ReturnUrl::parse(&body.return_url, &c.config.allowed_return_origins)?;
    let credentials = c.credentials().await?;
    let state = random_token(32);
    let scopes: Vec<&str> = SCOPES.to_vec();
    let url = c.identity.admin_consent_url(
        &tenant,
        &credentials.client_id,
        &join(base_url, ADMIN_CALLBACK_PATH),
        &state,
        &scopes,
    );
    let expires_at = Utc::now() + STATE_LIFETIME;
    let pending = PendingAuth::AdminConsent {
        tenant,
        return_url: return_url.0.to_string(),
    };
    c.store
        .put_oauth_state(&state, &pending, expires_at)
        .await?;
    Ok(AdminConsentStarted {
        consent_url: url.to_string(),
        expires_at,
    })
}

fn join(base: &Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// The query (or form_post body) Microsoft sends back to a callback.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub admin_consent: Option<String>,
    pub tenant: Option<String>,
    pub scope: Option<String>,
}

impl CallbackParams {
    /// Rejects what can be rejected before any I/O: no state, oversized values, code + error.
    fn check(&self) -> Result<&str, ApiError> {
        let fields = [
            &self.state,
            &self.code,
            &self.error,
            &self.error_description,
            &self.tenant,
            &self.scope,
        ];
        if fields
            .iter()
            .any(|f| f.as_ref().is_some_and(|v| v.len() > 4096))
        {
            return Err(ApiError::bad_request(
                "callback",
                "a callback parameter is oversized",
            ));
        }
        if self.code.is_some() && self.error.is_some() {
            return Err(ApiError::bad_request(
                "code",
                "a callback cannot carry both code and error",
            ));
        }
        match self.state.as_deref() {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ApiError::bad_request("state", "the callback has no state")),
        }
    }
}

fn unknown_state() -> ApiError {
    ApiError::bad_request(
        "state",
        "unknown, expired or already used sign-in state; start again",
    )
}

/// Microsoft's way of saying the tenant only allows admins to consent.
fn needs_admin_consent(error: &str, description: Option<&str>) -> bool {
    let d = description.unwrap_or_default();
    error == "consent_required" || d.starts_with("AADSTS90094") || d.starts_with("AADSTS65001")
}

/// Finishes a user's sign-in and returns where to send the browser.
#[tracing::instrument(skip_all)]
pub async fn callback(c: &Connector, params: CallbackParams) -> Result<Url, ApiError> {
    let state = params.check()?;
    let pending: Option<PendingAuth> = c.store.take_oauth_state(state, Utc::now()).await?;
    let Some(PendingAuth::Connect {
        user_id,
        return_url,
        verifier,
        nonce,
        redirect_uri,
    }) = pending
    else {
        return Err(unknown_state());
    };
    let return_url = ReturnUrl(Url::parse(&return_url).map_err(ApiError::internal)?);

    if let Some(error) = params.error.as_deref() {
        let description = params.error_description.as_deref();
        let error = if needs_admin_consent(error, description) {
            "admin_consent_required"
        } else {
            error
        };
        tracing::info!(error, "sign-in ended with an error");
        return Ok(return_url.with(&[
            ("error", error),
            ("error_description", description.unwrap_or("")),
        ]));
    }
    let Some(code) = params.code.as_deref() else {
        return Ok(return_url.with(&[
            ("error", "invalid_callback"),
            ("error_description", "no code"),
        ]));
    };

    let credentials = c.credentials().await?;
    let tokens = match c
        .identity
        .redeem_code(
            &credentials,
            code,
            &redirect_uri,
            &SecretString::from(verifier),
            &SCOPES,
        )
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "code redemption failed");
            let error = match &e {
                TokenError::Rejected { error, .. } if error == "consent_required" => {
                    "admin_consent_required"
                }
                _ => "token_exchange_failed",
            };
            return Ok(return_url.with(&[("error", error), ("error_description", &e.to_string())]));
        }
    };
    let Some(id_token) = tokens.id_token.as_deref() else {
        return Ok(return_url.with(&[
            ("error", "invalid_id_token"),
            ("error_description", "no id_token"),
        ]));
    };
    let claims = match c
        .identity
        .validate_id_token(id_token, &credentials.client_id, &nonce, Utc::now())
        .await
    {
        Ok(claims) => claims,
        Err(e) => {
            tracing::warn!(error = %e, "id_token rejected");
            return Ok(return_url.with(&[
                ("error", "invalid_id_token"),
                ("error_description", &e.to_string()),
            ]));
        }
    };

    let me = c
        .graph
        .me(&tokens.access_token)
        .await
        .map_err(graph_unavailable)?;
    // The object id comes from Graph (the id_token carries `oid` only with `profile`); when the
    // token does carry one, both must agree.
    if claims.oid.as_deref().is_some_and(|oid| oid != me.id) {
        return Ok(return_url.with(&[
            ("error", "identity_mismatch"),
            ("error_description", "Graph user differs"),
        ]));
    }
    let (status, last_error) = match c
        .graph
        .check_mailbox(&tokens.access_token)
        .await
        .map_err(graph_unavailable)?
    {
        MailboxCheck::ExchangeOnline => (ConnectionStatus::Active, None),
        MailboxCheck::Unsupported { reason } => {
            (ConnectionStatus::UnsupportedMailbox, Some(reason))
        }
    };

    let now = Utc::now();
    let existing = match c
        .store
        .find_connection_by_mailbox(&claims.tid, &me.id)
        .await?
    {
        Some(id) => c.store.get_connection(&id).await?,
        None => None,
    };
    let connection = Connection {
        id: existing
            .as_ref()
            .map(|e| e.id.clone())
            .unwrap_or_else(ConnectionId::new_random),
        user_id,
        tenant_id: claims.tid.clone(),
        ms_user_id: me.id.clone(),
        email: me
            .mail
            .clone()
            .or(claims.email.clone())
            .unwrap_or_else(|| me.user_principal_name.clone()),
        display_name: me
            .display_name
            .clone()
            .or(claims.name.clone())
            .unwrap_or_default(),
        status,
        capabilities: capabilities(&tokens.scopes),
        scopes: tokens.scopes.clone(),
        created_at: existing.as_ref().map(|e| e.created_at).unwrap_or(now),
        updated_at: now,
        last_error,
    };

    // Tokens first: a connection record never exists without its tokens.
    let keyring = c.keyring().await?;
    let previous = c.store.get_tokens(&connection.id).await?;
    let version = previous.as_ref().map(|p| p.version);
    let sealed = seal(
        &keyring,
        &connection.id,
        &tokens,
        None,
        version.unwrap_or(0) + 1,
        now,
    )
    .map_err(ApiError::internal)?;
    c.store
        .put_tokens(&connection.id, &sealed, version)
        .await
        .map_err(conflict_as_retry)?;
    if existing.is_some() {
        c.store.update_connection(&connection).await?;
    } else {
        c.store
            .create_connection(&connection)
            .await
            .map_err(conflict_as_retry)?;
    }

    let detail = serde_json::json!({
        "event_id": format!("connection.connected:{}:{}", connection.id, now.timestamp_millis()),
        "connection": ConnectionView::from(connection.clone()),
        "reconnected": existing.is_some(),
    });
    c.events
        .publish("connection.connected", &detail)
        .await
        .map_err(ApiError::internal)?;
    if connection.status == ConnectionStatus::Active {
        let job = SyncJob::Connected {
            connection_id: connection.id.clone(),
        };
        let dedup = format!("connected:{}:{}", connection.id, now.timestamp_millis());
        c.queue
            .enqueue(&job, &dedup)
            .await
            .map_err(ApiError::internal)?;
    }
    tracing::info!(connection_id = %connection.id, status = ?connection.status, reconnected = existing.is_some(), "connected");
    let status = serde_json::to_value(connection.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    Ok(return_url.with(&[
        ("connection_id", connection.id.as_str()),
        ("status", status.as_deref().unwrap_or("")),
    ]))
}

/// Finishes admin consent for the tenant the state expected.
#[tracing::instrument(skip_all)]
pub async fn admin_consent_callback(
    c: &Connector,
    params: CallbackParams,
) -> Result<Url, ApiError> {
    let state = params.check()?;
    let pending: Option<PendingAuth> = c.store.take_oauth_state(state, Utc::now()).await?;
    let Some(PendingAuth::AdminConsent { tenant, return_url }) = pending else {
        return Err(unknown_state());
    };
    let return_url = ReturnUrl(Url::parse(&return_url).map_err(ApiError::internal)?);
    if let Some(error) = params.error.as_deref() {
        let description = params.error_description.as_deref().unwrap_or("");
        return Ok(return_url.with(&[
            ("error", error),
            ("error_description", description),
            ("tenant", &tenant),
        ]));
    }
    // Never trust the returned tenant alone: it must be the one this state was made for.
    let returned = params
        .tenant
        .as_deref()
        .map(parse_tenant)
        .transpose()
        .ok()
        .flatten();
    if params.admin_consent.as_deref() != Some("True")
        || returned.as_deref() != Some(tenant.as_str())
    {
        tracing::warn!("admin consent callback did not confirm consent for the expected tenant");
        return Ok(return_url.with(&[
            ("error", "admin_consent_failed"),
            (
                "error_description",
                "consent was not confirmed for the expected tenant",
            ),
            ("tenant", &tenant),
        ]));
    }
    let scopes: Vec<String> = params
        .scope
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    c.store
        .put_tenant_consent(&tenant, &scopes, Utc::now())
        .await?;
    tracing::info!(tenant = %tenant, "admin consent recorded");
    Ok(return_url.with(&[("admin_consent", "granted"), ("tenant", &tenant)]))
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

fn graph_unavailable(e: crate::graph::GraphError) -> ApiError {
    ApiError::Unavailable {
        retry_after_secs: 5,
        source: Box::new(e),
    }
}

/// A lost race with a concurrent callback for the same mailbox: the client may simply retry.
fn conflict_as_retry(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::Unavailable {
            retry_after_secs: 1,
            source: Box::new(e),
        },
        other => ApiError::internal(other),
    }
}

/// `GET /connections/{id}`.
pub async fn get(c: &Connector, id: &ConnectionId) -> Result<ConnectionView, ApiError> {
    c.store
        .get_connection(id)
        .await?
        .map(Into::into)
        .ok_or_else(|| ApiError::NotFound(format!("no connection {id}")))
}

/// `DELETE /connections/{id}`: removes the Graph subscriptions (best effort, retried), then every
/// stored item, then announces it. Deleting a connection that does not exist is also a success,
/// so a client may retry freely.
#[tracing::instrument(skip_all, fields(connection_id = %id))]
pub async fn delete(c: &Connector, id: &ConnectionId) -> Result<bool, ApiError> {
    let Some(connection) = c.store.get_connection(id).await? else {
        return Ok(false);
    };
    let subscriptions = c.store.connection_subscription_ids(id).await?;
    if !subscriptions.is_empty() {
        match crate::tokens::access_token(c, id).await {
            Ok(token) => {
                let policy = crate::graph::GraphPolicy::cleanup();
                for sub in &subscriptions {
                    if let Err(e) = policy
                        .run(|| c.graph.delete_subscription(&token, sub))
                        .await
                    {
                        // It expires on its own within three days; notifications for it
                        // will find no subscription record and be dropped.
                        tracing::warn!(subscription_id = %sub, error = %e, "could not delete subscription");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "no token to delete subscriptions with; they will expire")
            }
        }
    }
    let removed = c.store.delete_connection_data(&connection).await?;
    let detail = serde_json::json!({
        "event_id": format!("connection.deleted:{id}"),
        "connection_id": id,
        "user_id": connection.user_id,
    });
    c.events
        .publish("connection.deleted", &detail)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(items = removed, "connection deleted");
    Ok(true)
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
    fn tenants_must_be_guids_and_prompts_known() {
        assert!(parse_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47").is_ok());
        for bad in ["contoso.example", "common", "", "72f988bf"] {
            assert_eq!(parse_tenant(bad).unwrap_err().field, "tenant");
        }
        assert_eq!(parse_prompt(Some("consent")).unwrap(), Some("consent"));
        assert!(parse_prompt(Some("always")).is_err());
        assert!(parse_login_hint(Some(&"a".repeat(300))).is_err());
    }

    #[test]
    fn callbacks_with_both_code_and_error_or_no_state_are_rejected() {
        let both = CallbackParams {
            state: Some("s".into()),
            code: Some("c".into()),
            error: Some("access_denied".into()),
            ..Default::default()
        };
        assert!(matches!(both.check(), Err(ApiError::BadRequest { .. })));
        assert!(CallbackParams::default().check().is_err());
        let huge = CallbackParams {
            state: Some("s".repeat(5000)),
            ..Default::default()
        };
        assert!(huge.check().is_err());
    }

    #[test]
    fn admin_approval_errors_are_recognised_by_code() {
        assert!(needs_admin_consent(
            "access_denied",
            Some("AADSTS90094: The grant requires admin permission.")
        ));
        assert!(needs_admin_consent("consent_required", None));
        assert!(!needs_admin_consent(
            "access_denied",
            Some("AADSTS65004: User declined to consent")
        ));
    }
}
