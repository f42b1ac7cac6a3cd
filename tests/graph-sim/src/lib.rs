//! A stateful simulator of the Microsoft identity platform (OAuth 2.0 / OIDC v2.0) and the
//! parts of Microsoft Graph v1.0 the connector uses, with a control API under `/_sim/` for
//! seeding, fault injection and inspection. One port serves identity paths
//! (`/{tenant}/oauth2/v2.0/...`), Graph (`/v1.0/...`) and control (`/_sim/...`).

mod control;
pub mod directory;
mod faults;
mod graph;
mod identity;
mod keys;
pub mod mailbox;
mod middleware;
mod notify;
mod respond;
pub mod scopes;
mod state;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use chrono::{DateTime, Utc};

pub use directory::{
    CONTOSO_TENANT_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FABRIKAM_TENANT_ID,
    NORTHWIND_TENANT_ID, TAILSPIN_TENANT_ID,
};

/// Configuration of one simulator instance.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Port to bind on 127.0.0.1; 0 picks an ephemeral port.
    pub port: u16,
    pub client_id: String,
    pub client_secret: String,
    /// Exact-match allow-list; empty allows any `http://127.0.0.1...` or `http://localhost...` URI.
    pub redirect_uris: Vec<String>,
    /// Base URL to publish (issuer, links) instead of `http://127.0.0.1:{port}`.
    pub public_base_url: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: 0,
            client_id: DEFAULT_CLIENT_ID.to_string(),
            client_secret: DEFAULT_CLIENT_SECRET.to_string(),
            redirect_uris: Vec::new(),
            public_base_url: None,
        }
    }
}

/// Shared state of a running simulator.
pub(crate) struct Sim {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub keys: Mutex<keys::KeySet>,
    pub state: Mutex<state::State>,
    pub http: reqwest::Client,
    clock_offset_secs: AtomicI64,
}

impl Sim {
    pub(crate) fn new(config: &SimConfig, base_url: String) -> Sim {
        Sim {
            base_url,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            redirect_uris: config.redirect_uris.clone(),
            keys: Mutex::new(keys::KeySet {
                keys: vec![keys::initial_key()],
            }),
            state: Mutex::new(state::State::seeded()),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("reqwest client"),
            clock_offset_secs: AtomicI64::new(0),
        }
    }

    /// The simulated clock: wall time plus the offset set through `/_sim/clock`.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.clock_offset_secs.load(Ordering::Relaxed))
    }

    pub fn advance_clock(&self, secs: i64) -> i64 {
        self.clock_offset_secs.fetch_add(secs, Ordering::Relaxed) + secs
    }

    pub fn st(&self) -> MutexGuard<'_, state::State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn redirect_allowed(&self, uri: &str) -> bool {
        if self.redirect_uris.is_empty() {
            match url::Url::parse(uri) {
                Ok(u) => {
                    u.scheme() == "http"
                        && matches!(u.host_str(), Some("127.0.0.1") | Some("localhost"))
                }
                Err(_) => false,
            }
        } else {
            self.redirect_uris.iter().any(|r| r == uri)
        }
    }
}

pub(crate) type SimRef = Arc<Sim>;

/// A running simulator. Dropping it without `shutdown` leaves the server task running until
/// the runtime ends.
pub struct Simulator {
    sim: SimRef,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Simulator {
    /// Bind `127.0.0.1:{port}` and serve in a tokio task.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let base = config
            .public_base_url
            .clone()
            .map(|b| b.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{addr}"));
        // The first signing key is generated once per process; do it off the runtime threads.
        tokio::task::spawn_blocking(keys::initial_key)
            .await
            .map_err(std::io::Error::other)?;
        let sim = Arc::new(Sim::new(&config, base));
        let app = app(sim.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Simulator {
            sim,
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// e.g. `http://127.0.0.1:7071`; the identity authority is `{base}/organizations/v2.0`
    /// and the Graph base `{base}/v1.0`.
    pub fn base_url(&self) -> String {
        self.sim.base_url.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn client_id(&self) -> &str {
        &self.sim.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.sim.client_secret
    }

    /// The GUID of a seeded tenant by domain (`contoso.example`, `fabrikam.example`).
    pub fn tenant_id(&self, domain: &str) -> Option<String> {
        directory::tenant(domain).map(|t| t.id.to_string())
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// The whole service: routes wrapped in the outer middleware, which runs before routing so it
/// can rewrite `/v1.0/users/{id}/...` to `/v1.0/me/...`, inject faults and log every request.
fn app(
    sim: SimRef,
) -> axum::routing::IntoMakeService<
    impl tower::Service<
            axum::extract::Request,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future = impl Send,
        > + Clone
        + Send
        + 'static,
> {
    use tower::Layer;
    let inner = Router::new()
        .merge(identity::routes())
        .merge(graph::routes())
        .merge(control::routes())
        .fallback(graph::not_found)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(sim.clone());
    let outer = axum::middleware::from_fn_with_state(sim, middleware::outer);
    axum::ServiceExt::<axum::extract::Request>::into_make_service(outer.layer(inner))
}
