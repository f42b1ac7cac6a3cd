//! Tenant-wide admin consent: starting it for one tenant and recording it when the
//! administrator's browser comes back.

use chrono::Utc;
use url::Url;

use super::callback::NEXT_ADMIN_CONSENT;
use super::{
    join, parse_tenant, AdminConsentStarted, CallbackParams, ConnectError, PendingAuth, ReturnUrl,
    StartAdminConsent, ADMIN_CALLBACK_PATH, SCOPES, STATE_LIFETIME,
};
use crate::app::Connector;
use crate::identity::random_token;

/// Starts tenant-wide admin consent.
#[tracing::instrument(skip_all)]
pub async fn start_admin_consent(
    c: &Connector,
    body: StartAdminConsent,
    base_url: &Url,
) -> Result<AdminConsentStarted, ConnectError> {
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

/// Finishes admin consent for the tenant the state expected.
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
    if let Some(error) = params.error.as_deref() {
        let description = params.error_description.as_deref().unwrap_or("");
        // A person who is not an administrator ends on Microsoft's approval page; the way back
        // is `access_denied` + `cancel`: an administrator has to sign in instead.
        let mut landing = vec![
            ("error", error),
            ("error_description", description),
            ("tenant", tenant.as_str()),
            ("next", NEXT_ADMIN_CONSENT),
        ];
        if let Some(subcode) = params.error_subcode.as_deref() {
            landing.push(("error_subcode", subcode));
        }
        return Ok(return_url.with(&landing));
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
