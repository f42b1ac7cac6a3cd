//! Tenant-wide admin consent: starting it for one tenant, named by its id or any of its domains,
//! and recording it when the administrator's browser comes back.
//!
//! Microsoft's redirect (`admin_consent=True&tenant=...`) is unsigned: whoever holds a state can
//! call the callback with it, without ever visiting Microsoft. So the callback records consent
//! only for the tenant the state was made for, and only once Microsoft confirms the app is
//! installed there: a client credentials token request in that tenant succeeds exactly when the
//! app's service principal exists in it. What that proves and what it cannot: README, "Admin
//! consent".

use std::time::Duration;

use chrono::Utc;
use url::Url;

use super::callback::NEXT_ADMIN_CONSENT;
use super::{
    join, AdminConsentStarted, CallbackParams, ConnectError, PendingAuth, ReturnUrl,
    StartAdminConsent, ADMIN_CALLBACK_PATH, SCOPES, STATE_LIFETIME,
};
use crate::app::Connector;
use crate::domain::{ParseError, TenantId, TenantRef};
use crate::identity::{random_token, TenantLookupError, TokenError};
use crate::store::{ConsentStatus, TenantConsent};

/// How long to wait before asking Microsoft again when it says the app is not in the tenant.
/// The service principal that admin consent creates takes a moment to reach every replica of
/// the directory, and a token request right after the redirect can meet one that has not seen it
/// yet (o365soa/soa#135, microsoft-graph-docs-contrib#7087).
const NOT_YET_REPLICATED_DELAYS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(3),
];

/// The whole confirmation, waits included, ends within this: the oauth function has 15 seconds
/// (template.yaml), and a token endpoint that hangs must still leave time to record the consent
/// as `claimed` and redirect, rather than end in a timeout page.
const CONFIRMATION_BUDGET: Duration = Duration::from_secs(9);

/// Starts tenant-wide admin consent. A domain is resolved to its tenant id first (Microsoft's
/// discovery document for it); a tenant id is taken as given, without any I/O.
#[tracing::instrument(skip_all)]
pub async fn start_admin_consent(
    c: &Connector,
    body: StartAdminConsent,
    base_url: &Url,
) -> Result<AdminConsentStarted, ConnectError> {
    let tenant = TenantRef::parse("tenant", &body.tenant)?;
    let return_url = ReturnUrl::parse(&body.return_url, &c.config.allowed_return_origins)?;
    let tenant = resolve(c, tenant).await?;
    if tenant.is_consumers() {
        return Err(ParseError::new(
            "tenant",
            "is the tenant of personal Microsoft accounts, which has no administrator; give an organization's tenant",
        )
        .into());
    }
    let credentials = c.credentials().await?;
    let state = random_token(32);
    let scopes: Vec<&str> = SCOPES.to_vec();
    let url = c.identity.admin_consent_url(
        tenant.as_str(),
        &credentials.client_id,
        &join(base_url, ADMIN_CALLBACK_PATH),
        &state,
        &scopes,
    );
    let expires_at = Utc::now() + STATE_LIFETIME;
    let pending = PendingAuth::AdminConsent {
        tenant: tenant.as_str().to_owned(),
        return_url: return_url.0.to_string(),
    };
    c.store
        .put_oauth_state(&state, &pending, expires_at)
        .await?;
    tracing::info!(tenant = %tenant, "admin consent started");
    Ok(AdminConsentStarted {
        consent_url: url.to_string(),
        expires_at,
        tenant_id: tenant.into_string(),
    })
}

/// The tenant id of a tenant named by id or domain.
async fn resolve(c: &Connector, tenant: TenantRef) -> Result<TenantId, ConnectError> {
    match tenant {
        TenantRef::Id(id) => Ok(id),
        TenantRef::Domain(domain) => {
            c.identity
                .resolve_tenant(&domain)
                .await
                .map_err(|e| match e {
                    TenantLookupError::UnknownDomain(_) => ConnectError::UnknownTenant,
                    e if e.is_transient() => ConnectError::IdentityUnavailable(Box::new(e)),
                    e => ConnectError::TenantLookup(e),
                })
        }
    }
}

/// Finishes admin consent for the tenant the state expected. Before the state is consumed a
/// failure is an error answer; after, every outcome is a redirect to the app's return URL (a
/// failure of ours with `retryable=true`), never an error page in the administrator's browser.
#[tracing::instrument(skip_all)]
pub async fn admin_consent_callback(
    c: &Connector,
    params: CallbackParams,
) -> Result<Url, ConnectError> {
    let state = params.check()?;
    let pending: Option<PendingAuth> = c.store.take_oauth_state(state, None, Utc::now()).await?;
    let Some(PendingAuth::AdminConsent { tenant, return_url }) = pending else {
        return Err(ConnectError::UnknownState);
    };
    let return_url = ReturnUrl(Url::parse(&return_url).map_err(ConnectError::Corrupt)?);
    Ok(finish(c, &params, &tenant, &return_url).await)
}

/// Where the browser goes once the state is spent.
async fn finish(c: &Connector, params: &CallbackParams, tenant: &str, back: &ReturnUrl) -> Url {
    if let Some(error) = params.error.as_deref() {
        let description = params.error_description.as_deref().unwrap_or("");
        // A person who is not an administrator ends on Microsoft's approval page; the way back
        // is `access_denied` + `cancel`: an administrator has to sign in instead.
        let mut landing = vec![
            ("error", error),
            ("error_description", description),
            ("tenant", tenant),
            ("next", NEXT_ADMIN_CONSENT),
        ];
        if let Some(subcode) = params.error_subcode.as_deref() {
            landing.push(("error_subcode", subcode));
        }
        return back.with(&landing);
    }
    // Never trust the returned tenant alone: it must be the one this state was made for.
    let returned = params
        .tenant
        .as_deref()
        .and_then(|t| TenantId::parse("tenant", t).ok());
    let Ok(expected) = TenantId::parse("tenant", tenant) else {
        tracing::error!("the pending admin consent names no tenant id");
        return retry_later(back, tenant);
    };
    if params.admin_consent.as_deref() != Some("True") || returned.as_ref() != Some(&expected) {
        tracing::warn!("admin consent callback did not confirm consent for the expected tenant");
        return back.with(&[
            ("error", "admin_consent_failed"),
            (
                "error_description",
                "consent was not confirmed for the expected tenant",
            ),
            ("tenant", tenant),
            ("next", NEXT_ADMIN_CONSENT),
        ]);
    }
    let status = match confirm(c, &expected).await {
        Confirmation::Installed => ConsentStatus::Granted,
        // Microsoft is unavailable, so nothing can be confirmed now. The redirect is recorded
        // as `claimed` rather than dropped: it came back on a state this tenant's consent
        // started, the administrator did their part, and the record says plainly that it is
        // unconfirmed (`granted` needs Microsoft's answer; a later admin consent upgrades it).
        // Dropping it would send the administrator through Microsoft's pages again for an
        // outage of ours to see through.
        Confirmation::Unavailable => ConsentStatus::Claimed,
        Confirmation::NotInstalled => {
            tracing::warn!(tenant = %expected, "Microsoft did not confirm the app is installed in the tenant; nothing recorded");
            return back.with(&[
                ("error", "admin_consent_not_confirmed"),
                (
                    "error_description",
                    "Microsoft did not confirm that the app is installed in the tenant",
                ),
                ("tenant", tenant),
                ("next", NEXT_ADMIN_CONSENT),
            ]);
        }
        Confirmation::Failed => return retry_later(back, tenant),
    };
    let now = Utc::now();
    let consent = TenantConsent {
        tenant_id: expected.as_str().to_owned(),
        status,
        scopes: params
            .scope
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        recorded_at: now,
        confirmed_at: (status == ConsentStatus::Granted).then_some(now),
    };
    match c.store.put_tenant_consent(&consent).await {
        Ok(recorded) => {
            tracing::info!(tenant = %expected, status = recorded.as_str(), "admin consent recorded");
            back.with(&[("admin_consent", recorded.as_str()), ("tenant", tenant)])
        }
        Err(e) => {
            tracing::error!(error = %crate::http::chain(&e), "recording the admin consent failed");
            retry_later(back, tenant)
        }
    }
}

/// What Microsoft says about the app in the tenant.
enum Confirmation {
    /// It issued the app a token there: the app's service principal exists.
    Installed,
    /// The app is not in the tenant's directory (AADSTS700016), even after waiting for
    /// replication.
    NotInstalled,
    /// The identity platform is unavailable (5xx, throttling, timeouts; retries spent), or did
    /// not answer within the budget.
    Unavailable,
    /// Our own failure: the app's credentials unreadable or rejected, an unusable answer.
    Failed,
}

async fn confirm(c: &Connector, tenant: &TenantId) -> Confirmation {
    let credentials = match c.credentials().await {
        Ok(credentials) => credentials,
        Err(e) => {
            tracing::error!(error = %crate::http::chain(&e), "the app's credentials are unavailable");
            return Confirmation::Failed;
        }
    };
    let deadline = tokio::time::Instant::now() + CONFIRMATION_BUDGET;
    let mut delays = NOT_YET_REPLICATED_DELAYS.iter();
    // Once Microsoft has said "not in the tenant", an outage while asking again does not turn
    // that answer into `claimed`.
    let mut refused = false;
    let unavailable = |refused: bool| {
        if refused {
            Confirmation::NotInstalled
        } else {
            Confirmation::Unavailable
        }
    };
    loop {
        let asked = tokio::time::timeout_at(deadline, c.identity.app_token(&credentials, tenant));
        let Ok(answer) = asked.await else {
            tracing::warn!("the identity platform did not answer in time");
            return unavailable(refused);
        };
        match answer {
            Ok(_) => return Confirmation::Installed,
            Err(TokenError::NotInTenant { .. }) => {
                refused = true;
                match delays.next() {
                    Some(delay) if tokio::time::Instant::now() + *delay < deadline => {
                        tokio::time::sleep(*delay).await;
                    }
                    _ => return Confirmation::NotInstalled,
                }
            }
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %crate::http::chain(&e), "the identity platform could not confirm the admin consent");
                return unavailable(refused);
            }
            Err(e) => {
                tracing::error!(error = %crate::http::chain(&e), "confirming the admin consent failed");
                return Confirmation::Failed;
            }
        }
    }
}

/// The landing for a failure of ours after the state was spent: starting admin consent again
/// may succeed.
fn retry_later(back: &ReturnUrl, tenant: &str) -> Url {
    back.with(&[
        ("error", "server_error"),
        (
            "error_description",
            "the admin consent could not be recorded; start it again",
        ),
        ("retryable", "true"),
        ("tenant", tenant),
        ("next", NEXT_ADMIN_CONSENT),
    ])
}
