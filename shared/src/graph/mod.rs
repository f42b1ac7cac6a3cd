//! The Microsoft Graph v1.0 client: one `reqwest::Client` (built once, with timeouts) and the base
//! URL from configuration, so the same code talks to Microsoft or to the simulator.
//!
//! Errors are matched by Graph's `error.code`, never by message text. Each area of Graph adds its
//! calls in its own file as another `impl GraphClient` block, using the helpers here.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use crate::domain::{GraphId, ParseError};

pub mod calendar;
pub mod messages;
pub mod policy;
pub mod send;
pub mod subscriptions;

pub use policy::{GraphCause, GraphPolicy, Retryable};

/// Graph's code for a mailbox hosted on premises (hybrid) or otherwise not reachable over REST.
pub const MAILBOX_NOT_ENABLED: &str = "MailboxNotEnabledForRESTAPI";
/// Graph's 401 for mailbox calls in a tenant without Exchange Online.
pub const ORGANIZATION_NOT_FOUND: &str = "OrganizationFromTenantGuidNotFound";

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Graph answered with an error body.
    #[error("Graph answered {status} {code}")]
    Api {
        status: u16,
        code: String,
        retry_after: Option<Duration>,
    },
    #[error("Graph request failed")]
    Transport(#[source] UrlFree),
    #[error("Graph response did not have the expected shape")]
    Decode(#[source] UrlFree),
    /// A `@odata.nextLink` / `@odata.deltaLink` whose scheme, host or port is not the configured
    /// Graph base URL's. It is never requested: the request would carry the bearer token.
    #[error("Graph returned a link to another origin ({origin}); it is not followed")]
    ForeignLink { origin: String },
    /// An id that cannot name a Graph resource in a URL (see [`GraphId`]).
    #[error("not a Graph id")]
    InvalidId(#[source] ParseError),
}

/// A `reqwest::Error` without the URL it was for: `reqwest` prints the URL in both `Display` and
/// `Debug`, and some Graph URLs are credentials (an upload session's `uploadUrl` carries its own
/// token) or carry state (`$skiptoken`, `$deltatoken`). Every transport or decoding error of the
/// Graph client goes through this type, so no URL reaches a log through an error's cause chain.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct UrlFree(reqwest::Error);

impl From<reqwest::Error> for UrlFree {
    fn from(e: reqwest::Error) -> Self {
        Self(e.without_url())
    }
}

impl GraphError {
    /// A failed request (connect, reset, timeout), its URL removed.
    pub(crate) fn transport(e: reqwest::Error) -> Self {
        Self::Transport(e.into())
    }

    /// A response body that did not parse, its URL removed.
    pub(crate) fn decode(e: reqwest::Error) -> Self {
        Self::Decode(e.into())
    }
}

impl GraphError {
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Throttling or a passing outage: the call may succeed later. The retry policy
    /// ([`GraphPolicy`]) decides what is done about it.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            Self::Transport(_) => true,
            Self::Decode(_) | Self::ForeignLink { .. } | Self::InvalidId(_) => false,
        }
    }
}

/// An id read from Graph or the store, checked before it names a resource in a URL.
pub fn graph_id(raw: &str) -> Result<GraphId, GraphError> {
    GraphId::parse("id", raw).map_err(GraphError::InvalidId)
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
}

/// The signed-in user, as `GET /me` returns it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub id: String,
    pub mail: Option<String>,
    pub user_principal_name: String,
    pub display_name: Option<String>,
}

/// Whether a mailbox can be served through Graph's mail and calendar APIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxCheck {
    ExchangeOnline,
    /// On premises (hybrid), unlicensed or otherwise not reachable; the reason is for people.
    Unsupported {
        reason: String,
    },
}

#[derive(Clone, Debug)]
pub struct GraphClient {
    http: reqwest::Client,
    base: Url,
}

impl GraphClient {
    pub fn new(http: reqwest::Client, base: Url) -> Self {
        Self { http, base }
    }

    /// The absolute URL of a relative Graph path (`me/...`), built from constants and
    /// [`GraphId::segment`]s only.
    pub(crate) fn url(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.base.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// The URL to fetch for a paging link: a relative path (a round's first link) under the base
    /// URL, or a `@odata.nextLink` / `@odata.deltaLink` verbatim, but only when its scheme, host
    /// and port are the configured base URL's. Anything else is [`GraphError::ForeignLink`]: the
    /// request would send the bearer token to whoever the link names.
    pub(crate) fn follow(&self, link: &str) -> Result<String, GraphError> {
        let Some((scheme, _)) = link.split_once("://") else {
            if link.contains("//") || link.contains('\\') {
                return Err(GraphError::ForeignLink {
                    origin: "(not a relative path)".into(),
                });
            }
            return Ok(self.url(link));
        };
        let foreign = |origin: String| GraphError::ForeignLink { origin };
        let parsed = Url::parse(link).map_err(|_| foreign(format!("{scheme}://(unparseable)")))?;
        if parsed.origin() != self.base.origin() {
            return Err(foreign(parsed.origin().ascii_serialization()));
        }
        Ok(link.to_owned())
    }

    async fn get<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        path: &str,
    ) -> Result<T, GraphError> {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(GraphError::transport)?;
        Self::decode(response).await
    }

    pub(crate) async fn decode<T: DeserializeOwned>(
        response: reqwest::Response,
    ) -> Result<T, GraphError> {
        let status = response.status();
        if status.is_success() {
            return response.json().await.map_err(GraphError::decode);
        }
        Err(Self::error(response).await)
    }

    pub(crate) async fn error(response: reqwest::Response) -> GraphError {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let code = match response.json::<ErrorEnvelope>().await {
            Ok(e) => e.error.code,
            Err(_) => format!("http_{status}"),
        };
        GraphError::Api {
            status,
            code,
            retry_after,
        }
    }

    /// `GET /me`.
    pub async fn me(&self, token: &SecretString) -> Result<Me, GraphError> {
        self.get(token, "me?$select=id,mail,userPrincipalName,displayName")
            .await
    }

    /// Probes the mailbox with the cheapest mail call there is. Directory calls such as `/me`
    /// succeed for on-premises users; only a mailbox call tells Exchange Online apart.
    pub async fn check_mailbox(&self, token: &SecretString) -> Result<MailboxCheck, GraphError> {
        match self.get::<serde_json::Value>(token, "me/mailFolders/inbox?$select=id").await {
            Ok(_) => Ok(MailboxCheck::ExchangeOnline),
            // Graph gives the same answer for a mailbox on premises (hybrid), an inactive or
            // soft-deleted one, and a user without an Exchange Online licence.
            Err(GraphError::Api { code, .. }) if code == MAILBOX_NOT_ENABLED => Ok(MailboxCheck::Unsupported {
                reason: "the user has no Exchange Online mailbox: no Exchange Online licence, or the mailbox is \
                         on premises (Exchange hybrid), inactive or soft-deleted; only Exchange Online mailboxes \
                         are supported"
                    .into(),
            }),
            // The tenant exists in Entra ID but has no Exchange Online (Entra used for sign-in only).
            Err(GraphError::Api { status: 401, code, .. }) if code == ORGANIZATION_NOT_FOUND => {
                Ok(MailboxCheck::Unsupported {
                    reason: "the organization has no Exchange Online: Microsoft Graph knows no mailboxes for this \
                             tenant"
                        .into(),
                })
            }
            Err(GraphError::Api { status: 404, code, .. })
                if code == "ResourceNotFound" || code == "ErrorMailboxNotFound" || code == "MailboxNotFound" =>
            {
                Ok(MailboxCheck::Unsupported {
                    reason: "the user has no Exchange Online mailbox (no licence?)".into(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// `DELETE /subscriptions/{id}`; a subscription that is already gone counts as deleted.
    pub async fn delete_subscription(
        &self,
        token: &SecretString,
        id: &GraphId,
    ) -> Result<(), GraphError> {
        let response = self
            .http
            .delete(self.url(&format!("subscriptions/{}", id.segment())))
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(GraphError::transport)?;
        if response.status().is_success() || response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(Self::error(response).await)
    }
}

/// The one `reqwest::Client` of a container: rustls, bounded timeouts, no redirects followed
/// (Graph and the identity platform never redirect API calls; a redirect would leak the token).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("m365-connector/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a TLS backend is compiled in")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> GraphClient {
        GraphClient::new(http_client(), Url::parse(base).unwrap())
    }

    #[test]
    fn links_are_followed_only_on_the_base_urls_scheme_host_and_port() {
        let g = client("https://graph.microsoft.com/v1.0");
        let own =
            "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages/delta?$skiptoken=a%2Bb";
        assert_eq!(g.follow(own).unwrap(), own, "verbatim");
        assert_eq!(
            g.follow("https://GRAPH.microsoft.com:443/v1.0/x").unwrap(),
            "https://GRAPH.microsoft.com:443/v1.0/x",
            "the same origin, spelled differently"
        );
        assert_eq!(
            g.follow("me/mailFolders/inbox/messages/delta").unwrap(),
            "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages/delta"
        );
        for foreign in [
            "http://graph.microsoft.com/v1.0/x",
            "https://graph.microsoft.com:8443/v1.0/x",
            "https://graph.microsoft.com.evil.example/v1.0/x",
            "https://evil.example/v1.0/x?$deltatoken=t",
            "https://graph.microsoft.com@evil.example/v1.0/x",
            "https://evil.example\\@graph.microsoft.com/v1.0/x",
            "HTTPS://evil.example/",
            "ftp://graph.microsoft.com/x",
            "//evil.example/v1.0/x",
            "https://",
        ] {
            let e = g.follow(foreign).unwrap_err();
            assert!(
                matches!(e, GraphError::ForeignLink { .. }),
                "{foreign}: {e:?}"
            );
            assert!(!e.is_transient(), "never retried");
        }
    }

    #[test]
    fn a_local_base_url_differs_from_another_port_on_the_same_host() {
        let g = client("http://127.0.0.1:7071/v1.0");
        assert!(g.follow("http://127.0.0.1:7071/v1.0/me").is_ok());
        assert!(g.follow("http://127.0.0.1:7072/v1.0/me").is_err());
        assert!(g.follow("http://localhost:7071/v1.0/me").is_err());
    }

    #[test]
    fn ids_from_graph_or_the_store_are_checked_before_they_name_a_resource() {
        assert!(graph_id("AAMkAGI2TG93AAA=").is_ok());
        for bad in ["..", "a/b", "", "a#b"] {
            assert!(
                matches!(graph_id(bad), Err(GraphError::InvalidId(_))),
                "{bad}"
            );
        }
    }
}
