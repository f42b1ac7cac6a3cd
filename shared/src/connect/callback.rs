//! The browser's way back from Microsoft: the sign-in callback and the admin-consent callback.
//!
//! The sign-in callback, step by step: take the single-use state (a replay finds nothing), turn
//! an error Microsoft sent into the app's landing, redeem the code and validate the id_token,
//! identify the mailbox through Graph (object id, Exchange Online or not), upsert the connection
//! by tenant + object id with its tokens sealed, then announce it and queue its first sync.
//! Whatever Microsoft or the user ended sends the browser back to the app with `error=`; only a
//! request we cannot trust (no or unknown state) or our own failure is an error answer.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::browser::{expired_cookie, presented_binding};
use super::result::ResultCode;
use super::{capabilities, ConnectError, PendingAuth, ReturnUrl, SCOPES};
use crate::app::Connector;
use crate::domain::{AppUserId, Connection, ConnectionId, ConnectionStatus, TenantId};
use crate::graph::{MailboxCheck, Me};
use crate::identity::{IdTokenClaims, TokenError, TokenResponse};
use crate::store::StoredTokens;
use crate::tenants::{self, TenantPolicyError};
use crate::tokens::seal;

/// The query (or form_post body) Microsoft sends back to a callback.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// `cancel` when the user left one of Microsoft's pages without granting anything.
    pub error_subcode: Option<String>,
    pub admin_consent: Option<String>,
    pub tenant: Option<String>,
    pub scope: Option<String>,
}

impl CallbackParams {
    /// Rejects what can be rejected before any I/O: no state, oversized values, code + error.
    pub(super) fn check(&self) -> Result<&str, ConnectError> {
        let fields = [
            &self.state,
            &self.code,
            &self.error,
            &self.error_description,
            &self.error_subcode,
            &self.tenant,
            &self.scope,
        ];
        if fields
            .iter()
            .any(|f| f.as_ref().is_some_and(|v| v.len() > 4096))
        {
            return Err(ConnectError::Callback {
                field: "callback",
                detail: "a callback parameter is oversized",
            });
        }
        if self.code.is_some() && self.error.is_some() {
            return Err(ConnectError::Callback {
                field: "code",
                detail: "a callback cannot carry both code and error",
            });
        }
        match self.state.as_deref() {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ConnectError::Callback {
                field: "state",
                detail: "the callback has no state",
            }),
        }
    }
}

/// A sign-in that ended without a connection, as the app is told: `error` says why, `next` what
/// the app can do about it (README: "Connecting a mailbox").
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ended {
    error: String,
    next: &'static str,
}

impl Ended {
    fn new(error: &str, next: &'static str) -> Self {
        Self {
            error: error.to_owned(),
            next,
        }
    }
}

/// The next step when an administrator of the user's organization must consent first: the app
/// starts it with `POST /admin-consents`.
pub(super) const NEXT_ADMIN_CONSENT: &str = "admin_consent";
/// The next step when an administrator must assign the user to the app in Entra ID.
const NEXT_ASSIGN_USER: &str = "assign_user";
/// The next step when trying again may help (a declined consent, a passing failure).
const NEXT_RETRY: &str = "retry";
/// No next step the app can take by itself (e.g. the mailbox belongs to another app user).
const NEXT_NONE: &str = "none";

/// The AADSTS code an `error_description` starts with.
fn aadsts_code(description: &str) -> Option<u32> {
    let digits: String = description
        .trim_start()
        .strip_prefix("AADSTS")?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Tells apart what Microsoft lets us tell apart: the tenant needs admin consent (AADSTS90094,
/// 90095, 65001, `consent_required`), the user is not assigned to the app (AADSTS50105), the
/// user declined (AADSTS65004). `access_denied` + `error_subcode=cancel` without a code comes
/// from the "return to the application without granting consent" link of Entra's approval pages
/// (a declined consent prompt carries AADSTS65004), so it means admin approval is missing.
fn classify(error: &str, subcode: Option<&str>, codes: &[u32]) -> Ended {
    let has = |c: u32| codes.contains(&c);
    if has(50105) {
        Ended::new("user_not_assigned", NEXT_ASSIGN_USER)
    } else if error == "consent_required" || has(90094) || has(90095) || has(65001) {
        Ended::new("admin_consent_required", NEXT_ADMIN_CONSENT)
    } else if error == "access_denied" && has(65004) {
        Ended::new("access_denied", NEXT_RETRY)
    } else if error == "access_denied" && subcode == Some("cancel") && codes.is_empty() {
        Ended::new("admin_consent_required", NEXT_ADMIN_CONSENT)
    } else {
        Ended::new(error, NEXT_RETRY)
    }
}

/// What the app reads when Microsoft's own text is missing.
fn default_description(ended: &Ended) -> &'static str {
    match ended.error.as_str() {
        "admin_consent_required" => "an administrator of the user's organization must consent to the app first (the user returned from Microsoft's approval page)",
        "user_not_assigned" => "the user is not assigned to the app in the organization's Entra ID",
        _ => "",
    }
}

/// Where the browser goes when the sign-in ended without a connection.
fn landing_error(return_url: &ReturnUrl, error: &str, description: &str) -> Url {
    landing(
        return_url,
        &Ended::new(error, NEXT_RETRY),
        description,
        None,
    )
}

fn landing(return_url: &ReturnUrl, ended: &Ended, description: &str, subcode: Option<&str>) -> Url {
    let description = if description.is_empty() {
        default_description(ended)
    } else {
        description
    };
    // `retryable`: whether starting the same connection again may succeed.
    let retryable = if ended.next == NEXT_RETRY {
        "true"
    } else {
        "false"
    };
    let mut params = vec![
        ("error", ended.error.as_str()),
        ("error_description", description),
        ("next", ended.next),
        ("retryable", retryable),
    ];
    if let Some(subcode) = subcode {
        params.push(("error_subcode", subcode));
    }
    return_url.with(&params)
}

/// What the pending state of a sign-in remembered.
struct SignIn {
    user_id: AppUserId,
    return_url: ReturnUrl,
    verifier: String,
    nonce: String,
    redirect_uri: String,
    transfer: bool,
}

/// A finished sign-in waiting for the app's claim: the mailbox as it will be connected (under
/// the id it has or will have) and its tokens, sealed to that id.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingConnection {
    /// The app user who started the sign-in: the only one who may claim it.
    pub user_id: AppUserId,
    pub transfer: bool,
    pub connection: Connection,
    pub tokens: StoredTokens,
}

/// What the callback answers: where the browser goes, and a cookie change on the way.
#[derive(Debug)]
pub struct CallbackOutcome {
    pub location: Url,
    pub set_cookie: Option<String>,
}

/// Finishes a user's sign-in in the browser that started it: stores the result for the app to
/// claim and sends the browser back to the app with its code. Any failure once the state is
/// consumed still sends the browser back, with `error` and `retryable`, never to an error page
/// of ours: the app can start again, and nothing half-done is left (the result is one write).
#[tracing::instrument(skip_all)]
pub async fn callback(
    c: &Connector,
    params: CallbackParams,
    cookie_header: Option<&str>,
) -> Result<CallbackOutcome, ConnectError> {
    let state = params.check()?;
    let Some(binding) = presented_binding(cookie_header, state) else {
        // Spend the state, so that the code in this URL cannot be replayed from the browser
        // that did start the sign-in (the forwarded-link attack, completed by its sender).
        c.store.burn_oauth_state(state).await?;
        tracing::warn!("sign-in callback without its browser binding; state spent");
        return Err(ConnectError::NotBound);
    };
    let pending: Option<PendingAuth> = c
        .store
        .take_oauth_state(state, Some(&binding), Utc::now())
        .await?;
    let Some(PendingAuth::Connect {
        user_id,
        return_url,
        verifier,
        nonce,
        redirect_uri,
        transfer,
        ..
    }) = pending
    else {
        c.store.burn_oauth_state(state).await?;
        return Err(ConnectError::NotBound);
    };
    let set_cookie = expired_cookie(state, &redirect_uri);
    let sign_in = SignIn {
        user_id,
        return_url: ReturnUrl(Url::parse(&return_url).map_err(ConnectError::Corrupt)?),
        verifier,
        nonce,
        redirect_uri,
        transfer,
    };
    let location = match finish(c, &sign_in, &params).await {
        Ok(location) => location,
        Err(e) => {
            tracing::error!(error = %crate::http::chain(&e), "sign-in failed after its state was consumed");
            landing(
                &sign_in.return_url,
                &Ended::new("connector_unavailable", NEXT_RETRY),
                "the connector could not finish the sign-in; start the connection again",
                None,
            )
        }
    };
    Ok(CallbackOutcome {
        location,
        set_cookie,
    })
}

/// Everything after the state: Microsoft's answer, the code, the mailbox, the pending result.
async fn finish(
    c: &Connector,
    sign_in: &SignIn,
    params: &CallbackParams,
) -> Result<Url, ConnectError> {
    if let Some(error) = params.error.as_deref() {
        let description = params.error_description.as_deref().unwrap_or("");
        let subcode = params.error_subcode.as_deref();
        let codes: Vec<u32> = aadsts_code(description).into_iter().collect();
        let ended = classify(error, subcode, &codes);
        tracing::info!(error, ended = %ended.error, "sign-in ended with an error");
        return Ok(landing(&sign_in.return_url, &ended, description, subcode));
    }
    let Some(code) = params.code.as_deref() else {
        return Ok(landing_error(
            &sign_in.return_url,
            "invalid_callback",
            "no code",
        ));
    };
    let (tokens, claims) = match redeem(c, sign_in, code).await? {
        Ok(redeemed) => redeemed,
        Err(landing) => return Ok(landing),
    };
    let (me, mailbox) = match identify(c, sign_in, &tokens, &claims).await? {
        Ok(identified) => identified,
        Err(landing) => return Ok(landing),
    };
    let now = Utc::now();
    let pending = match prepare(c, sign_in, &tokens, &claims, &me, mailbox, now).await? {
        Ok(pending) => pending,
        Err(landing) => return Ok(landing),
    };
    let result = ResultCode::new(now);
    let code = result
        .seal(&c.keyring().await?)
        .map_err(ConnectError::SealResult)?;
    c.store
        .put_connect_result(&result.id, &pending, result.expires_at)
        .await?;
    tracing::info!(status = ?pending.connection.status, "sign-in finished; result waiting for its claim");
    Ok(sign_in.return_url.with(&[
        ("result", code.as_str()),
        ("expires_at", &result.expires_at.to_rfc3339()),
    ]))
}

/// Redeems the code and validates the id_token. The inner `Err` is the app's landing when
/// Microsoft refused (the sign-in ended, nothing of ours failed).
async fn redeem(
    c: &Connector,
    sign_in: &SignIn,
    code: &str,
) -> Result<Result<(TokenResponse, IdTokenClaims), Url>, ConnectError> {
    let credentials = c.credentials().await?;
    let tokens = match c
        .identity
        .redeem_code(
            &credentials,
            code,
            &sign_in.redirect_uri,
            &SecretString::from(sign_in.verifier.clone()),
            &SCOPES,
        )
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "code redemption failed");
            // AADSTS65001 on redemption normally arrives as `invalid_grant`: the code is the truth.
            let ended = match &e {
                TokenError::Rejected {
                    error,
                    codes,
                    description,
                } => {
                    let mut codes = codes.clone();
                    codes.extend(aadsts_code(description));
                    match classify(error, None, &codes) {
                        e @ Ended {
                            next: NEXT_ADMIN_CONSENT | NEXT_ASSIGN_USER,
                            ..
                        } => e,
                        _ => Ended::new("token_exchange_failed", NEXT_RETRY),
                    }
                }
                _ => Ended::new("token_exchange_failed", NEXT_RETRY),
            };
            return Ok(Err(landing(
                &sign_in.return_url,
                &ended,
                &e.to_string(),
                None,
            )));
        }
    };
    let Some(id_token) = tokens.id_token.as_deref() else {
        return Ok(Err(landing_error(
            &sign_in.return_url,
            "invalid_id_token",
            "no id_token",
        )));
    };
    match c
        .identity
        .validate_id_token(id_token, &credentials.client_id, &sign_in.nonce, Utc::now())
        .await
    {
        Ok(claims) => Ok(Ok((tokens, claims))),
        Err(e) => {
            tracing::warn!(error = %e, "id_token rejected");
            Ok(Err(landing_error(
                &sign_in.return_url,
                "invalid_id_token",
                &e.to_string(),
            )))
        }
    }
}

/// The Graph user and whether the mailbox is in Exchange Online. The inner `Err` is the app's
/// landing when Graph's user is not the id_token's.
async fn identify(
    c: &Connector,
    sign_in: &SignIn,
    tokens: &TokenResponse,
    claims: &IdTokenClaims,
) -> Result<Result<(Me, MailboxCheck), Url>, ConnectError> {
    // The state is consumed and the code redeemed: whatever Graph answers, the browser goes
    // back to the app (a 503 here would strand the user on an error page with a dead state).
    let me = match c.graph.me(&tokens.access_token).await {
        Ok(me) => me,
        Err(e) => return Ok(Err(graph_failed(sign_in, &e))),
    };
    // The object id comes from Graph (the id_token carries `oid` only with `profile`); when the
    // token does carry one, both must agree.
    if claims.oid.as_deref().is_some_and(|oid| oid != me.id) {
        return Ok(Err(landing_error(
            &sign_in.return_url,
            "identity_mismatch",
            "Graph user differs",
        )));
    }
    let mailbox = match c.graph.check_mailbox(&tokens.access_token).await {
        Ok(mailbox) => mailbox,
        Err(e) => return Ok(Err(graph_failed(sign_in, &e))),
    };
    Ok(Ok((me, mailbox)))
}

/// The app's landing when Graph failed while identifying the mailbox: signing in again retries.
fn graph_failed(sign_in: &SignIn, e: &crate::graph::GraphError) -> Url {
    tracing::warn!(error = %e, "Graph failed while identifying the mailbox");
    landing(
        &sign_in.return_url,
        &Ended::new("graph_unavailable", NEXT_RETRY),
        "Microsoft Graph could not identify the mailbox; start the connection again",
        None,
    )
}

/// The connection this sign-in would create or update, and its sealed tokens. The inner `Err`
/// is the app's landing when the mailbox is owned by another app user and no transfer was asked.
async fn prepare(
    c: &Connector,
    sign_in: &SignIn,
    tokens: &TokenResponse,
    claims: &IdTokenClaims,
    me: &Me,
    mailbox: MailboxCheck,
    now: DateTime<Utc>,
) -> Result<Result<PendingConnection, Url>, ConnectError> {
    // The tenant's administrator may have switched the connector off for the organisation.
    let tenant = TenantId::parse("tid", &claims.tid)?;
    match tenants::admits_new_connections(&c.store, &tenant).await {
        Ok(()) => {}
        Err(TenantPolicyError::ConnectionsRefused { .. }) => {
            return Ok(Err(landing(
                &sign_in.return_url,
                &Ended::new("tenant_access_off", NEXT_NONE),
                "the app's administrator has turned off mailbox connections for this organization",
                None,
            )));
        }
        Err(TenantPolicyError::Store(e)) => return Err(e.into()),
        Err(other) => return Err(ConnectError::Policy(Box::new(other))),
    }
    let (status, last_error) = match mailbox {
        MailboxCheck::ExchangeOnline => (ConnectionStatus::Active, None),
        MailboxCheck::Unsupported { reason } => {
            (ConnectionStatus::UnsupportedMailbox, Some(reason))
        }
    };
    let existing = match c
        .store
        .find_connection_by_mailbox(&claims.tid, &me.id)
        .await?
    {
        Some(id) => c.store.get_connection(&id).await?,
        None => None,
    };
    if let Some(owner) = existing.as_ref().map(|e| &e.user_id) {
        if *owner != sign_in.user_id && !sign_in.transfer {
            tracing::warn!("sign-in of a mailbox connected under another app user; refused");
            return Ok(Err(landing(
                &sign_in.return_url,
                &Ended::new("mailbox_connected_elsewhere", NEXT_NONE),
                "this mailbox is connected under another user of the app; the app must ask for a transfer to move it",
                None,
            )));
        }
    }
    let connection = Connection {
        id: existing
            .as_ref()
            .map(|e| e.id.clone())
            .unwrap_or_else(ConnectionId::new_random),
        user_id: sign_in.user_id.clone(),
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
    // Sealed to the connection id now; the version is set when the claim writes it.
    let sealed = seal(&c.keyring().await?, &connection.id, tokens, None, 0, now)
        .map_err(ConnectError::Seal)?;
    Ok(Ok(PendingConnection {
        user_id: sign_in.user_id.clone(),
        transfer: sign_in.transfer,
        connection,
        tokens: sealed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_with_both_code_and_error_or_no_state_are_rejected() {
        let both = CallbackParams {
            state: Some("s".into()),
            code: Some("c".into()),
            error: Some("access_denied".into()),
            ..Default::default()
        };
        assert!(matches!(both.check(), Err(ConnectError::Callback { .. })));
        assert!(CallbackParams::default().check().is_err());
        let huge = CallbackParams {
            state: Some("s".repeat(5000)),
            ..Default::default()
        };
        assert!(huge.check().is_err());
    }

    fn ended(error: &str, subcode: Option<&str>, description: &str) -> Ended {
        let codes: Vec<u32> = aadsts_code(description).into_iter().collect();
        classify(error, subcode, &codes)
    }

    #[test]
    fn admin_approval_errors_are_recognised_by_code() {
        let admin = Ended::new("admin_consent_required", NEXT_ADMIN_CONSENT);
        for description in [
            "AADSTS90094: The grant requires admin permission.",
            "AADSTS90095: Approval required.",
            "AADSTS65001: The user or administrator has not consented",
        ] {
            assert_eq!(ended("access_denied", None, description), admin);
        }
        assert_eq!(ended("consent_required", None, ""), admin);
        assert_eq!(
            ended("interaction_required", None, "AADSTS65001: not consented"),
            admin
        );
        // The "return without granting consent" link of an approval page.
        assert_eq!(ended("access_denied", Some("cancel"), ""), admin);
    }

    #[test]
    fn declined_consent_and_unassigned_users_are_told_apart() {
        assert_eq!(
            ended(
                "access_denied",
                Some("cancel"),
                "AADSTS65004: User declined to consent to access the app."
            ),
            Ended::new("access_denied", NEXT_RETRY)
        );
        assert_eq!(
            ended(
                "access_denied",
                None,
                "AADSTS50105: Your administrator has configured"
            ),
            Ended::new("user_not_assigned", NEXT_ASSIGN_USER)
        );
        assert_eq!(
            ended("server_error", None, "AADSTS90033: A transient error"),
            Ended::new("server_error", NEXT_RETRY)
        );
        assert_eq!(aadsts_code("  AADSTS500112: x"), Some(500112));
        assert_eq!(aadsts_code("no code"), None);
    }
}
