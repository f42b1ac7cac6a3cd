//! Shared test helpers: start a simulator, sign a user in through the HTML forms exactly as a
//! browser would, and a webhook receiver that records what it is sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use graph_sim::{SimConfig, Simulator};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const REDIRECT: &str = "http://localhost:3000/callback";
pub const ALL_SCOPES: &str = "openid email offline_access https://graph.microsoft.com/User.Read https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/Mail.ReadWrite https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Calendars.ReadWrite";

pub struct TestSim {
    pub sim: Simulator,
    pub base: String,
    pub http: reqwest::Client,
}

/// A simulator whose contoso tenant allows user consent (its admin chose "Allow user consent
/// for apps"), so that contoso users can consent for themselves as most tests need.
pub async fn spawn_sim() -> TestSim {
    let t = spawn_sim_as_microsoft().await;
    let r = t
        .http
        .put(format!(
            "{}/_sim/tenants/contoso.example/user-consent",
            t.base
        ))
        .json(&serde_json::json!({"userConsent": "allowed"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    t
}

/// A simulator with the seeded tenants as Microsoft sets them up: Microsoft's managed default
/// consent policy in contoso.
pub async fn spawn_sim_as_microsoft() -> TestSim {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let base = sim.base_url();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestSim { sim, base, http }
}

pub struct Tokens {
    pub access: String,
    pub refresh: Option<String>,
    pub id_token: Option<String>,
    pub scope: String,
}

pub fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Pull `name="key" value="..."` out of a page (the forms are simple and predictable).
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

pub fn query_of(location: &str) -> HashMap<String, String> {
    let u = url::Url::parse(location).unwrap();
    u.query_pairs().into_owned().collect()
}

impl TestSim {
    pub fn authorize_url(
        &self,
        tenant: &str,
        scope: &str,
        challenge: &str,
        extra: &[(&str, &str)],
    ) -> String {
        let mut u =
            url::Url::parse(&format!("{}/{tenant}/oauth2/v2.0/authorize", self.base)).unwrap();
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("client_id", self.sim.client_id())
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", REDIRECT)
                .append_pair("scope", scope)
                .append_pair("state", "st-123")
                .append_pair("nonce", "n-456")
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
            for (k, v) in extra {
                q.append_pair(k, v);
            }
        }
        u.to_string()
    }

    /// GET the consent page and POST the form back; returns the simulator's response.
    pub async fn consent(
        &self,
        authorize_url: &str,
        login: &str,
        action: &str,
        scopes: Option<&[&str]>,
    ) -> reqwest::Response {
        let page = self.http.get(authorize_url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            !html.contains("<script"),
            "consent page must not need JavaScript"
        );
        let flow = hidden(&html, "flow").expect("flow field");
        let action_url = {
            let start = html.find("action=\"").unwrap() + 8;
            let end = html[start..].find('"').unwrap() + start;
            html[start..end].to_string()
        };
        let mut form: Vec<(&str, String)> = vec![
            ("flow", flow),
            ("login", login.to_string()),
            ("action", action.to_string()),
        ];
        if let Some(s) = scopes {
            form.push(("consent_subset", "1".into()));
            for p in s {
                form.push(("scope", p.to_string()));
            }
        }
        let body = serde_urlencoded::to_string(&form).unwrap();
        self.http
            .post(action_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Follows "Return to the application without granting consent" on one of Entra's pages.
    pub async fn return_from(&self, html: &str) -> reqwest::Response {
        let flow = hidden(html, "flow").expect("flow field");
        let start = html.find("action=\"").unwrap() + 8;
        let end = html[start..].find('"').unwrap() + start;
        let form = [("flow", flow.as_str()), ("action", "return")];
        self.http
            .post(&html[start..end])
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap()
    }

    pub async fn get_code(
        &self,
        login: &str,
        scope: &str,
        granted: Option<&[&str]>,
    ) -> (String, String) {
        let (verifier, challenge) = pkce();
        let url = self.authorize_url("organizations", scope, &challenge, &[]);
        let resp = self.consent(&url, login, "accept", granted).await;
        assert_eq!(
            resp.status(),
            302,
            "{}",
            resp.text().await.unwrap_or_default()
        );
        let loc = resp.headers()["location"].to_str().unwrap().to_string();
        let q = query_of(&loc);
        assert_eq!(q.get("state").map(String::as_str), Some("st-123"));
        (q.get("code").expect("code").clone(), verifier)
    }

    pub async fn redeem(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .await
    }

    pub async fn token(&self, params: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", self.sim.client_id()),
            ("client_secret", self.sim.client_secret()),
        ];
        form.extend_from_slice(params);
        self.http
            .post(format!("{}/organizations/oauth2/v2.0/token", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&form).unwrap())
            .send()
            .await
            .unwrap()
    }

    /// The app's own token in `tenant` (client credentials grant) with `scope`, if any.
    pub async fn app_token(&self, tenant: &str, scope: Option<&str>) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.sim.client_id()),
            ("client_secret", self.sim.client_secret()),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.http
            .post(format!("{}/{tenant}/oauth2/v2.0/token", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&form).unwrap())
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_in_with(&self, login: &str, scope: &str, granted: Option<&[&str]>) -> Tokens {
        let (code, verifier) = self.get_code(login, scope, granted).await;
        let resp = self.redeem(&code, &verifier).await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        Tokens {
            access: v["access_token"].as_str().unwrap().to_string(),
            refresh: v["refresh_token"].as_str().map(str::to_string),
            id_token: v["id_token"].as_str().map(str::to_string),
            scope: v["scope"].as_str().unwrap().to_string(),
        }
    }

    pub async fn sign_in(&self, login: &str) -> Tokens {
        self.sign_in_with(login, ALL_SCOPES, None).await
    }

    pub fn graph(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/v1.0{path}", self.base))
            .bearer_auth(token)
    }

    pub async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut r = self
            .http
            .request(method, format!("{}/_sim{path}", self.base));
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.unwrap()
    }

    /// Waits (polling) until Exchange's transport has done every pending submission.
    pub async fn submitted(&self) {
        for _ in 0..200 {
            let s: Value = self
                .control(reqwest::Method::GET, "/settings", None)
                .await
                .json()
                .await
                .unwrap();
            if s["pendingSubmissions"] == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("submissions still pending after 10 s");
    }
}

/// A webhook endpoint: echoes validation tokens and records every notification body.
#[derive(Clone, Default)]
pub struct Hook {
    pub received: Arc<Mutex<Vec<Value>>>,
    /// When set, validation answers with this status instead of echoing.
    pub validation_status: Arc<Mutex<Option<u16>>>,
}

pub struct HookServer {
    pub url: String,
    pub hook: Hook,
}

async fn hook_handler(
    State(hook): State<Hook>,
    Query(q): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    if let Some(token) = q.get("validationToken") {
        if let Some(code) = *hook.validation_status.lock().unwrap() {
            return StatusCode::from_u16(code).unwrap().into_response();
        }
        return ([("content-type", "text/plain")], token.clone()).into_response();
    }
    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
        hook.received.lock().unwrap().push(v);
    }
    StatusCode::ACCEPTED.into_response()
}

pub async fn spawn_hook() -> HookServer {
    let hook = Hook::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook_handler))
        .with_state(hook.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    HookServer {
        url: format!("http://{addr}/hook"),
        hook,
    }
}

impl Hook {
    /// All notification items received so far, flattened.
    pub fn items(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| b["value"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    pub fn posts(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    pub async fn wait_for_items(&self, n: usize) -> Vec<Value> {
        for _ in 0..100 {
            if self.items().len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
        self.items()
    }
}
