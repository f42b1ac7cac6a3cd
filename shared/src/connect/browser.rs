//! Binding a sign-in to the browser that started it.
//!
//! `POST /connections` hands the app a start URL instead of Microsoft's authorize URL. The start
//! URL works once: it gives the browser that opens it a fresh secret in a cookie, records the
//! secret's hash on the sign-in's state, and redirects to Microsoft. The callback then consumes
//! the state only together with that cookie, so a Microsoft link forwarded to somebody else and
//! completed in their browser finds no cookie and fails, and a start URL opened twice binds
//! only the first browser.
//!
//! The cookie is `HttpOnly; Secure; SameSite=Lax`: invisible to scripts, never sent over plain
//! HTTP (browsers treat `localhost` as secure), and sent on the top-level GET navigation that
//! brings the browser back from Microsoft (`response_mode=query`; a cross-site `form_post`
//! would not carry a Lax cookie, which is why the connector asks for `query`). Its path is the
//! callback's, and its name is derived from the state, so two sign-ins in one browser do not
//! overwrite each other's cookies.
//!
//! Cookie syntax is the small RFC 6265 subset needed here (one `Set-Cookie` we write, and the
//! `Cookie` header's `name=value; name=value`), written out rather than taken from a crate.

use chrono::{DateTime, Utc};
use url::Url;

use super::{ConnectError, PendingAuth, STATE_LIFETIME};
use crate::app::Connector;
use crate::identity::random_token;
use crate::store::keys::digest;

const COOKIE_PREFIX: &str = "m365c_signin_";

/// The cookie that binds the sign-in of `state` to a browser.
fn cookie_name(state: &str) -> String {
    format!("{COOKIE_PREFIX}{}", &digest(state)[..16])
}

/// Where a started sign-in sends the browser, and the cookie it sets on the way.
#[derive(Debug)]
pub struct Opened {
    pub authorize_url: Url,
    /// A complete `Set-Cookie` value.
    pub set_cookie: String,
}

/// Opens a start URL: binds the sign-in to this browser and returns Microsoft's URL.
#[tracing::instrument(skip_all)]
pub async fn open(c: &Connector, state: &str, now: DateTime<Utc>) -> Result<Opened, ConnectError> {
    if state.is_empty() || state.len() > 256 {
        return Err(ConnectError::StartUnusable);
    }
    let secret = random_token(32);
    let pending: Option<PendingAuth> = c
        .store
        .bind_oauth_state(state, &digest(&secret), now)
        .await?;
    let Some(PendingAuth::Connect {
        authorize_url,
        redirect_uri,
        ..
    }) = pending
    else {
        return Err(ConnectError::StartUnusable);
    };
    let authorize_url = Url::parse(&authorize_url).map_err(ConnectError::Corrupt)?;
    let path = Url::parse(&redirect_uri)
        .map_err(ConnectError::Corrupt)?
        .path()
        .to_owned();
    let set_cookie = format!(
        "{}={secret}; Path={path}; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        cookie_name(state),
        STATE_LIFETIME.num_seconds()
    );
    tracing::info!("sign-in bound to a browser");
    Ok(Opened {
        authorize_url,
        set_cookie,
    })
}

/// The hash of the binding secret the browser presented for `state`, from its `Cookie` header.
pub(super) fn presented_binding(cookie_header: Option<&str>, state: &str) -> Option<String> {
    let wanted = cookie_name(state);
    cookie_header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == wanted && !value.is_empty())
        .map(|(_, value)| digest(value))
}

/// A `Set-Cookie` value that removes the binding cookie once the callback used it.
pub(super) fn expired_cookie(state: &str, redirect_uri: &str) -> Option<String> {
    let path = Url::parse(redirect_uri).ok()?.path().to_owned();
    Some(format!(
        "{}=; Path={path}; Max-Age=0; HttpOnly; Secure; SameSite=Lax",
        cookie_name(state)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_is_read_from_the_cookie_named_after_the_state() {
        let name = cookie_name("state-1");
        let header = format!(
            "other=1; {name}=secret-1; {}=secret-2",
            cookie_name("state-2")
        );
        assert_eq!(
            presented_binding(Some(&header), "state-1"),
            Some(digest("secret-1"))
        );
        assert_eq!(
            presented_binding(Some(&header), "state-2"),
            Some(digest("secret-2"))
        );
        assert_eq!(presented_binding(Some(&header), "state-3"), None);
        assert_eq!(presented_binding(None, "state-1"), None);
        assert_eq!(
            presented_binding(Some(&format!("{name}=")), "state-1"),
            None
        );
    }
}
