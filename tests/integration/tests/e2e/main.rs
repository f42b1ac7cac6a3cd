//! The end-to-end suite: the stack as `make dev` runs it (every function behind its own trigger:
//! HTTP through the local API gateway, the sync queue through the event source mapping, the
//! renewal through its schedule, EventBridge into the local event sink), driven only from outside,
//! as a client app, a user's browser and Microsoft would drive it:
//!
//! - the app: the connector's HTTP API with the dev API key;
//! - the browser: the connector's start URL and its cookie, the simulator's sign-in page, then
//!   the redirects (each person's browser its own cookie jar);
//! - Microsoft: the simulator, whose notifications reach the webhook over HTTP by themselves.
//!
//! Nothing here calls a handler or writes to DynamoDB or SQS. The simulator's control API and the
//! stack's control port (events received, queue depths, a schedule fired now) are read to
//! observe, and used only for what a person or Microsoft would do (deliver mail, fire a lifecycle
//! event, move the clock, fire the schedule).
//!
//! Every answer of the connector's API (`Dev::api`, the browser's requests to the connector) is
//! checked against the published contract, openapi.yaml, and every event the sink received against
//! its schema in `schemas/events/` (`integration_tests::contract`).
//!
//! `make test` starts the stack and runs this with its settings (`BASE_URL`, `API_KEY`, `SIM_URL`,
//! `CONTROL_URL`, `RETURN_URL`); `cargo test --workspace` does not run it (`test = false`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use integration_tests::contract::{contract, header_pairs, Answer};
use serde_json::{json, Value};

const ALICE: &str = "alice@contoso.example";
const BOB: &str = "bob@contoso.example";
const CAROL: &str = "carol@contoso.example";
/// The bound within which a delivered message must be visible through the API (figures are
/// printed; this only stops a broken pipeline from hanging the suite).
const VISIBLE_WITHIN: Duration = Duration::from_secs(180);

struct Dev {
    http: reqwest::Client,
    base: String,
    key: String,
    sim: String,
    control: String,
    return_url: String,
}

/// One person's browser: its own cookies for the connector, kept as a browser keeps them for a
/// loopback origin (a secure context, so `Secure` cookies are kept over plain HTTP): by name,
/// sent back on the paths they were set for, removed by `Max-Age=0`. No automatic redirects, so
/// every hop is seen.
struct Browser {
    http: reqwest::Client,
    base: String,
    jar: std::sync::Mutex<HashMap<String, (String, String)>>,
}

impl Browser {
    fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
            base: base.to_owned(),
            jar: Default::default(),
        }
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        let mut request = self.http.get(url);
        if let Some(rest) = url.strip_prefix(&self.base) {
            let path = rest.split('?').next().unwrap_or("");
            let sent: Vec<String> = self
                .jar
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, (_, p))| path.starts_with(p.as_str()))
                .map(|(n, (v, _))| format!("{n}={v}"))
                .collect();
            if !sent.is_empty() {
                request = request.header("cookie", sent.join("; "));
            }
        }
        let response = request.send().await.unwrap();
        if let Some(rest) = url.strip_prefix(&self.base) {
            // Its pages are read by the caller (if at all): their headers and media type are
            // checked here, with a stand-in for the HTML.
            let status = response.status().as_u16();
            let body: &[u8] = if status == 302 { b"" } else { b"(page)" };
            check_answer("GET", rest, status, response.headers(), body);
        }
        if url.starts_with(&self.base) {
            for raw in response.headers().get_all("set-cookie") {
                let raw = raw.to_str().unwrap();
                let mut parts = raw.split(';').map(str::trim);
                let (name, value) = parts.next().unwrap().split_once('=').unwrap();
                let attrs: HashMap<String, String> = parts
                    .map(|a| {
                        let (k, v) = a.split_once('=').unwrap_or((a, ""));
                        (k.to_ascii_lowercase(), v.to_owned())
                    })
                    .collect();
                assert!(
                    attrs.contains_key("httponly") && attrs.contains_key("secure"),
                    "{raw}"
                );
                assert_eq!(
                    attrs.get("samesite").map(String::as_str),
                    Some("Lax"),
                    "{raw}"
                );
                let mut jar = self.jar.lock().unwrap();
                if value.is_empty() || attrs.get("max-age").map(String::as_str) == Some("0") {
                    jar.remove(name);
                } else {
                    let path = attrs.get("path").cloned().unwrap_or_else(|| "/".into());
                    jar.insert(name.to_owned(), (value.to_owned(), path));
                }
            }
        }
        response
    }

    /// Microsoft's sign-in and consent page, accepted as `login`; returns where it redirects.
    async fn sign_in(&self, page_url: &str, login: &str) -> String {
        let page = self.get(page_url).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        let flow = hidden(&html, "flow");
        let start = html.find("action=\"").unwrap() + 8;
        let action = html[start..start + html[start..].find('"').unwrap()].replace("&amp;", "&");
        let form = [
            ("flow", flow.as_str()),
            ("login", login),
            ("action", "accept"),
        ];
        let consent = self
            .http
            .post(action)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(consent.status(), 302, "the page redirects back");
        location(&consent)
    }
}

/// Checks one answer of the connector against openapi.yaml.
fn check_answer(
    method: &str,
    path: &str,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) {
    let route = contract()
        .route_of(method, path)
        .unwrap_or_else(|| panic!("{method} {path} is no operation of openapi.yaml"));
    let answer = Answer {
        status,
        headers: header_pairs(headers),
        body,
    };
    if let Err(e) = contract().check_response(&route, &answer) {
        panic!("the answer drifted from the published contract: {e}");
    }
}

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: the end-to-end suite runs inside `make test`, against `make dev`"
        )
    })
}

impl Dev {
    fn from_env() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
            base: setting("BASE_URL"),
            key: setting("API_KEY"),
            sim: setting("SIM_URL"),
            control: setting("CONTROL_URL"),
            return_url: setting("RETURN_URL"),
        }
    }

    /// A call to the connector's API as the client app makes it.
    async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let response_method = method.clone();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        check_answer(
            response_method.as_str(),
            path,
            status,
            &headers,
            text.as_bytes(),
        );
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The simulator's control API: what a person or Microsoft does, and what the test observes.
    async fn sim(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.sim));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    async fn control_get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.control))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}");
        response.json().await.unwrap()
    }

    /// Every event the local EventBridge sink has received so far, each checked against its
    /// schema.
    async fn events(&self) -> Vec<Value> {
        let events = self.control_get("/events?after=0").await["events"]
            .as_array()
            .cloned()
            .unwrap();
        for event in &events {
            if let Err(e) = contract().check_event(event) {
                panic!("an event drifted from its published schema: {e}");
            }
        }
        events
    }

    /// `POST /connections` as the app; returns the start URL.
    async fn start_url(&self, user: &str, login: &str) -> String {
        let (status, started) = self
            .api(
                reqwest::Method::POST,
                "/connections",
                Some(json!({"user_id": user, "return_url": self.return_url, "login_hint": login})),
                &[],
            )
            .await;
        assert_eq!(status, 201, "{started}");
        assert!(
            started.get("authorize_url").is_none(),
            "only the start URL: {started}"
        );
        started["start_url"].as_str().unwrap().to_owned()
    }

    /// A browser opens a start URL, signs in as `login` and comes back to the callback; returns
    /// where the connector sends it (the app's return URL).
    async fn sign_in_through(&self, browser: &Browser, start_url: &str, login: &str) -> String {
        let opened = browser.get(start_url).await;
        assert_eq!(opened.status(), 302, "the start URL redirects to Microsoft");
        let callback = browser.sign_in(&location(&opened), login).await;
        assert!(
            callback.starts_with(&format!("{}/oauth/callback", self.base)),
            "{callback}"
        );
        let landing = browser.get(&callback).await;
        assert_eq!(landing.status(), 302, "the callback redirects to the app");
        let back = location(&landing);
        assert!(back.starts_with(&self.return_url), "{back}");
        back
    }

    /// `POST /connections/claims` as the app's server, in the session of `user`.
    async fn claim(&self, result: &str, user: &str) -> (u16, Value) {
        self.api(
            reqwest::Method::POST,
            "/connections/claims",
            Some(json!({"result": result, "user_id": user})),
            &[],
        )
        .await
    }

    /// Connects a seeded mailbox through the browser flow as the app integrates it (start URL,
    /// sign-in, the app's return page claims the result); returns the connection id.
    async fn connect(&self, user: &str, login: &str) -> String {
        let browser = Browser::new(&self.base);
        let start = self.start_url(user, login).await;
        let back = self.sign_in_through(&browser, &start, login).await;
        // The landing page the app would show.
        let shown = browser.get(&back).await;
        assert_eq!(shown.status(), 200);
        let result = query(&back)["result"].clone();
        let (status, claimed) = self.claim(&result, user).await;
        assert_eq!(status, 200, "{claimed}");
        assert_eq!(claimed["connection"]["status"], "active");
        assert_eq!(claimed["connection"]["user_id"], user);
        claimed["connection"]["id"].as_str().unwrap().to_owned()
    }

    /// Sends a tenant administrator through admin consent, as the app does with
    /// `POST /admin-consents`; the browser lands back on the app with `admin_consent=granted`.
    async fn admin_consent(&self, tenant: &str, admin: &str) {
        let (status, started) = self
            .api(
                reqwest::Method::POST,
                "/admin-consents",
                Some(json!({"tenant": tenant, "return_url": self.return_url})),
                &[],
            )
            .await;
        assert_eq!(status, 201, "{started}");
        let back = Browser::new(&self.base)
            .sign_in(started["consent_url"].as_str().unwrap(), admin)
            .await;
        assert!(
            back.starts_with(&format!("{}/oauth/admin-consent/callback", self.base)),
            "{back}"
        );
        let landing = self.http.get(&back).send().await.unwrap();
        assert_eq!(landing.status(), 302);
        let query: HashMap<String, String> = url::Url::parse(&location(&landing))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(
            query.get("admin_consent").map(String::as_str),
            Some("granted"),
            "{query:?}"
        );
    }

    /// Every synced message of a connection in a folder, through the API (all pages).
    async fn messages(&self, id: &str, folder: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/connections/{id}/messages?folder={folder}&limit=100");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", urlencode(c)));
            }
            let (status, page) = self.api(reqwest::Method::GET, &path, None, &[]).await;
            assert_eq!(status, 200, "{page}");
            out.extend(page["messages"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
    }

    /// Delivers an inbound message to a seeded mailbox; returns its internetMessageId.
    async fn deliver(&self, mailbox: &str, from: &str, subject: &str) -> String {
        let created = self
            .sim(
                reqwest::Method::POST,
                &format!("/_sim/mailboxes/{mailbox}/messages"),
                Some(json!({"from": from, "subject": subject, "body": "Hello"})),
            )
            .await;
        created["internetMessageId"].as_str().unwrap().to_owned()
    }

    /// `POST` of a send or reply as the app makes it: the status, the `Location` of the send's
    /// status resource, the body, and how long the answer took.
    async fn post_send(
        &self,
        path: &str,
        body: Value,
        key: &str,
    ) -> (u16, String, Value, Duration) {
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let took = started.elapsed();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        (
            status,
            location,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            took,
        )
    }

    /// Polls a send's status resource (its `Location`) until the send worker finished it; the
    /// final status, which must be `sent`.
    async fn until_sent(&self, location: &str) -> Value {
        let started = Instant::now();
        loop {
            let response = self
                .http
                .get(location)
                .bearer_auth(&self.key)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{location}");
            let status: Value = response.json().await.unwrap();
            match status["status"].as_str() {
                Some("sent") => return status,
                Some("queued" | "sending") => {}
                _ => panic!("{location}: {status}"),
            }
            assert!(
                started.elapsed() < VISIBLE_WITHIN,
                "{location} not sent after {VISIBLE_WITHIN:?}: {status}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits (polling) until the simulated Exchange has submitted every send it accepted: it
    /// sends asynchronously, after answering 202.
    async fn submitted(&self) {
        for _ in 0..400 {
            let settings = self.sim(reqwest::Method::GET, "/_sim/settings", None).await;
            if settings["pendingSubmissions"] == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the simulator still has submissions pending");
    }

    async fn subscriptions(&self) -> Vec<Value> {
        self.sim(reqwest::Method::GET, "/_sim/subscriptions", None)
            .await["value"]
            .as_array()
            .cloned()
            .unwrap()
    }

    async fn queue_depth(&self, queue: &str) -> (u64, u64) {
        let queues = self.control_get("/queues").await;
        (
            queues[queue]["visible"].as_u64().unwrap(),
            queues[queue]["in_flight"].as_u64().unwrap(),
        )
    }

    /// Waits until the given internet message ids are all visible in the folder; returns, per id,
    /// when it was first seen.
    async fn await_visible(
        &self,
        id: &str,
        folder: &str,
        wanted: &HashSet<String>,
    ) -> HashMap<String, Instant> {
        let mut seen = HashMap::new();
        let deadline = Instant::now() + VISIBLE_WITHIN;
        while seen.len() < wanted.len() {
            assert!(
                Instant::now() < deadline,
                "{} of {} messages visible in {folder} of {id} after {VISIBLE_WITHIN:?}",
                seen.len(),
                wanted.len()
            );
            for m in self.messages(id, folder).await {
                let imid = m["internet_message_id"].as_str().unwrap_or("").to_owned();
                if wanted.contains(&imid) {
                    seen.entry(imid).or_insert_with(Instant::now);
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        seen
    }
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].replace("&amp;", "&")
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["detail-type"] == kind).collect()
}

async fn eventually<F, Fut>(what: &str, within: Duration, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn sub_of<'a>(subs: &'a [Value], user_prefix: &str, folder: &str) -> Option<&'a Value> {
    subs.iter().find(|s| {
        s["userId"]
            .as_str()
            .is_some_and(|u| u.starts_with(user_prefix))
            && s["resource"]
                .as_str()
                .is_some_and(|r| r.to_lowercase().contains(folder))
    })
}

/// The takeover the connect flow once allowed: app user M starts "connect mailbox" and gets a
/// colleague V, signed in to Microsoft 365 in a tenant whose admin consented, to complete it.
/// Two browsers, M's and V's, each with its own cookies; the app's return page claims a result
/// for whoever is logged in where the browser lands.
async fn a_forwarded_sign_in_takes_over_no_mailbox(dev: &Dev, bob: &str) {
    let mallory = "recruiter-mallory";
    let attached_to_mallory = || async {
        let (status, list) = dev
            .api(
                reqwest::Method::GET,
                &format!("/connections?user_id={mallory}"),
                None,
                &[],
            )
            .await;
        assert_eq!(status, 200);
        list["connections"].as_array().unwrap().len()
    };
    let m_browser = Browser::new(&dev.base);

    // 1. M forwards the start URL; V (carol, not connected yet) completes it in V's browser.
    //    The result lands in V's browser, on the app under V's session: the claim names V and is
    //    refused, the result is discarded, so M cannot redeem it either.
    let v_browser = Browser::new(&dev.base);
    let start = dev.start_url(mallory, CAROL).await;
    let back = dev.sign_in_through(&v_browser, &start, CAROL).await;
    let result = query(&back)["result"].clone();
    let (status, refused) = dev.claim(&result, "recruiter-carol").await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        refused["type"],
        "urn:m365-connector:problem:claim-forbidden"
    );
    let (status, _) = dev.claim(&result, mallory).await;
    assert_eq!(status, 410, "the discarded result is gone for M too");
    // The start URL was single use: M's own browser cannot open it again.
    assert_eq!(m_browser.get(&start).await.status(), 400);

    // 2. V already has a connection under V's own app user (bob): the mailbox is not moved.
    let v_browser = Browser::new(&dev.base);
    let start = dev.start_url(mallory, BOB).await;
    let back = dev.sign_in_through(&v_browser, &start, BOB).await;
    let landed = query(&back);
    assert_eq!(
        landed.get("error").map(String::as_str),
        Some("mailbox_connected_elsewhere"),
        "{landed:?}"
    );
    assert_eq!(landed["retryable"], "false");
    assert!(!landed.contains_key("result"));

    // 3. M opens the start URL in M's browser and forwards Microsoft's link instead: V's browser
    //    comes back without the cookie and gets a page; the spent state then fails in M's
    //    browser too, so the code in V's callback URL cannot be replayed by M.
    let v_browser = Browser::new(&dev.base);
    let start = dev.start_url(mallory, CAROL).await;
    let opened = m_browser.get(&start).await;
    assert_eq!(opened.status(), 302);
    let callback = v_browser.sign_in(&location(&opened), CAROL).await;
    let refused = v_browser.get(&callback).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let replayed = m_browser.get(&callback).await;
    assert_eq!(
        replayed.status(),
        400,
        "the state was spent by the foreign browser"
    );

    assert_eq!(attached_to_mallory().await, 0, "M got no mailbox");
    let (status, owner) = dev
        .api(
            reqwest::Method::GET,
            &format!("/connections/{bob}"),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        owner["user_id"], "recruiter-bob",
        "bob's mailbox stayed with its owner"
    );
    let events = dev.events().await;
    assert!(of_type(&events, "connection.transferred").is_empty());
    assert_eq!(
        of_type(&events, "connection.connected").len(),
        2,
        "nothing new was connected"
    );
    println!("FIGURE takeover attempts refused: 3 of 3 (forwarded start URL, owned mailbox, forwarded Microsoft link)");
}

#[tokio::test]
async fn the_deployed_system_end_to_end() {
    let dev = Dev::from_env();
    let suite = Instant::now();

    // ---- contoso's admin consents for the tenant, then two mailboxes connect (browser flows)
    // Under Microsoft's managed default consent policy users cannot consent to mail and
    // calendar access themselves: the app sends an administrator through admin consent first.
    let tenant = dev.sim(reqwest::Method::GET, "/_sim/directory", None).await["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["domain"] == "contoso.example")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    dev.admin_consent(&tenant, "admin@contoso.example").await;
    let alice = dev.connect("recruiter-alice", ALICE).await;
    let bob = dev.connect("recruiter-bob", BOB).await;
    // The `connected` jobs ran through the queue: both folders and the calendar of both
    // mailboxes are subscribed, with notification URLs that are this stack's webhook.
    eventually("six subscriptions", Duration::from_secs(120), || async {
        dev.subscriptions().await.len() == 6
    })
    .await;
    for s in dev.subscriptions().await {
        assert!(
            s["notificationUrl"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{}/webhooks/graph/notifications", dev.base)),
            "{s}"
        );
    }
    let connected = of_type(&dev.events().await, "connection.connected").len();
    assert_eq!(connected, 2, "connection.connected reached the sink");
    println!(
        "connected two mailboxes and subscribed them in {:.1}s",
        suite.elapsed().as_secs_f64()
    );

    a_forwarded_sign_in_takes_over_no_mailbox(&dev, &bob).await;

    // ---- 100 inbound messages while Graph duplicates, drops and reorders notifications and throttles
    let hooks = "/webhooks/graph/notifications";
    for fault in [
        json!({"kind": "duplicateNotifications", "rate": 0.2, "path": hooks}),
        json!({"kind": "dropNotifications", "rate": 0.1, "path": hooks}),
        json!({"kind": "reorderNotifications", "path": hooks}),
        json!({"kind": "throttle", "rate": 0.1, "retryAfter": 1}),
    ] {
        dev.sim(reqwest::Method::POST, "/_sim/faults", Some(fault))
            .await;
    }
    let mut delivered: HashMap<String, (String, Instant)> = HashMap::new(); // imid -> (conn, at)
    let watcher = async {
        // Polls the API while mail arrives, so each message's latency is measured.
        let mut first_seen: HashMap<String, Instant> = HashMap::new();
        let deadline = Instant::now() + VISIBLE_WITHIN;
        loop {
            for id in [&alice, &bob] {
                for m in dev.messages(id, "inbox").await {
                    if let Some(imid) = m["internet_message_id"].as_str() {
                        first_seen
                            .entry(imid.to_owned())
                            .or_insert_with(Instant::now);
                    }
                }
            }
            if first_seen.len() >= 100 || Instant::now() > deadline {
                return first_seen;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    let traffic = async {
        let mut out = Vec::new();
        for i in 0..100 {
            let (mailbox, id) = if i % 2 == 0 {
                (ALICE, &alice)
            } else {
                (BOB, &bob)
            };
            let sender = format!("candidate{}@external{}.example", i % 7, i % 3);
            let imid = dev.deliver(mailbox, &sender, &format!("inbound {i}")).await;
            out.push((imid, id.clone(), Instant::now()));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Let Graph's notification retries run out, then lift the faults. A dropped notification
        // is repaired by the next one (or the periodic catch-up): one more message each.
        tokio::time::sleep(Duration::from_secs(3)).await;
        dev.sim(reqwest::Method::DELETE, "/_sim/faults", None).await;
        for (mailbox, id) in [(ALICE, &alice), (BOB, &bob)] {
            let imid = dev
                .deliver(mailbox, "sentinel@external.example", "sentinel")
                .await;
            out.push((imid, id.clone(), Instant::now()));
        }
        out
    };
    let (sent, mut seen) = tokio::join!(traffic, watcher);
    for (imid, id, at) in sent {
        delivered.insert(imid, (id, at));
    }
    // The watcher stopped at 100; wait for the rest (the sentinels) the same way.
    for id in [&alice, &bob] {
        let wanted: HashSet<String> = delivered
            .iter()
            .filter(|(_, (c, _))| c == id)
            .map(|(m, _)| m.clone())
            .collect();
        for (imid, at) in dev.await_visible(id, "inbox", &wanted).await {
            seen.entry(imid).or_insert(at);
        }
    }
    let mut latencies: Vec<Duration> = delivered
        .iter()
        .map(|(imid, (_, at))| seen[imid].saturating_duration_since(*at))
        .collect();
    latencies.sort();
    println!(
        "FIGURE delivery -> visible through GET /connections/{{id}}/messages, {} messages under faults: p50 {:.2}s, p90 {:.2}s, max {:.2}s",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64(),
        percentile(&latencies, 0.9).as_secs_f64(),
        latencies.last().unwrap().as_secs_f64()
    );

    // Exactly once, through the API and on the bus, against the simulator's own mailboxes.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events = dev.events().await;
    for (login, id) in [(ALICE, &alice), (BOB, &bob)] {
        let truth = dev
            .sim(
                reqwest::Method::GET,
                &format!("/_sim/mailboxes/{login}/messages?folder=inbox"),
                None,
            )
            .await;
        let truth: HashSet<String> = truth["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["internetMessageId"].as_str().unwrap().to_owned())
            .collect();
        let stored = dev.messages(id, "inbox").await;
        let stored_ids: Vec<String> = stored
            .iter()
            .map(|m| m["internet_message_id"].as_str().unwrap().to_owned())
            .collect();
        let distinct: HashSet<String> = stored_ids.iter().cloned().collect();
        assert_eq!(
            distinct.len(),
            stored_ids.len(),
            "{login}: every message once"
        );
        assert_eq!(
            distinct, truth,
            "{login}: the API shows exactly the mailbox"
        );
        let created: Vec<&Value> = of_type(&events, "message.created")
            .into_iter()
            .filter(|e| {
                e["detail"]["connection_id"] == id.as_str()
                    && e["detail"]["message"]["folder"] == "inbox"
            })
            .collect();
        let created_ids: HashSet<String> = created
            .iter()
            .map(|e| {
                e["detail"]["message"]["internet_message_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            created.len(),
            truth.len(),
            "{login}: one message.created per message"
        );
        assert_eq!(
            created_ids, truth,
            "{login}: message.created for each message"
        );
    }

    // ---- subscription lifecycle events, through the webhook and the queue
    let subs = dev.subscriptions().await;
    let alice_inbox = sub_of(&subs, "a11ce", "inbox").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob_inbox = sub_of(&subs, "b0b", "inbox").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob_sent = sub_of(&subs, "b0b", "sentitems").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (sub, event) in [
        (&alice_inbox, "subscriptionRemoved"),
        (&bob_inbox, "reauthorizationRequired"),
        (&bob_sent, "missed"),
    ] {
        dev.sim(
            reqwest::Method::POST,
            &format!("/_sim/subscriptions/{sub}/lifecycle"),
            Some(json!({"event": event})),
        )
        .await;
    }
    eventually(
        "alice's inbox subscribed again, bob's reauthorized",
        Duration::from_secs(120),
        || async {
            let subs = dev.subscriptions().await;
            let renewed = sub_of(&subs, "a11ce", "inbox")
                .is_some_and(|s| s["id"].as_str() != Some(alice_inbox.as_str()));
            let reauthorized =
                sub_of(&subs, "b0b", "inbox").is_some_and(|s| s["needsReauthorization"] == false);
            renewed && reauthorized && subs.len() == 6
        },
    )
    .await;
    let after_a = dev
        .deliver(ALICE, "after@external.example", "after lifecycle")
        .await;
    let after_b = dev
        .deliver(BOB, "after@external.example", "after lifecycle")
        .await;
    dev.await_visible(&alice, "inbox", &HashSet::from([after_a]))
        .await;
    dev.await_visible(&bob, "inbox", &HashSet::from([after_b]))
        .await;
    println!("lifecycle events handled; sync continues");

    // ---- Graph trouble far longer than five receives dead-letters nothing; nothing is lost
    let dlq_before = dev.queue_depth("SyncDeadLetterQueue").await.0;
    let fault = dev
        .sim(
            reqwest::Method::POST,
            "/_sim/faults",
            Some(json!({"kind": "unavailable", "retryAfter": 1, "path": "/v1.0/me/mailFolders"})),
        )
        .await;
    let fault_id = fault["id"].as_str().unwrap().to_owned();
    let during = dev
        .deliver(ALICE, "outage@external.example", "during the outage")
        .await;
    let outage = Instant::now();
    // Each run of the job meets 4 refusals (3 short waits in place): 40 are ten runs, twice
    // `maxReceiveCount`, which is where the job used to be dead-lettered.
    let refused = || async {
        dev.sim(reqwest::Method::GET, "/_sim/faults", None).await["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == fault_id.as_str())
            .map(|f| f["hits"].as_u64().unwrap())
            .unwrap_or(0)
    };
    eventually(
        "the outage outlasts ten runs of the job",
        Duration::from_secs(240),
        || async { refused().await >= 40 },
    )
    .await;
    assert_eq!(
        dev.queue_depth("SyncDeadLetterQueue").await.0,
        dlq_before,
        "an outage dead-letters nothing"
    );
    let refusals = refused().await;
    let lasted = outage.elapsed();
    dev.sim(
        reqwest::Method::DELETE,
        &format!("/_sim/faults/{fault_id}"),
        None,
    )
    .await;
    let back = Instant::now();
    let after_outage = dev
        .deliver(ALICE, "later@external.example", "after the outage")
        .await;
    dev.await_visible(&alice, "inbox", &HashSet::from([during, after_outage]))
        .await;
    println!(
        "FIGURE a {:.1}s Graph outage ({refusals} calls refused with 503): 0 jobs dead-lettered; its mail visible {:.1}s after Graph came back",
        lasted.as_secs_f64(),
        back.elapsed().as_secs_f64()
    );
    assert_eq!(dev.queue_depth("SyncDeadLetterQueue").await.0, dlq_before);

    // ---- send, with and without an upload, and reply: each answered 202 with its status
    // resource at once, and sent by the send worker behind the send queue's event source mapping
    let (status, location, accepted, _) = dev
        .post_send(
            &format!("/connections/{alice}/messages"),
            json!({
                "to": [{"address": BOB}],
                "subject": "Interview next week",
                "body": {"content_type": "text", "content": "Hi Bob, are you free?"}
            }),
            "e2e-send-1",
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["key"], "e2e-send-1");
    assert!(
        location.starts_with(&format!("{}/connections/{alice}/sends/", dev.base)),
        "{location}"
    );
    let sent = dev.until_sent(&location).await;
    assert_eq!(sent["internet_message_id"], accepted["internet_message_id"]);
    let upload = |name: &'static str, size: usize| {
        let dev = &dev;
        let alice = alice.clone();
        async move {
            let (status, upload) = dev
                .api(
                    reqwest::Method::POST,
                    &format!("/connections/{alice}/uploads"),
                    Some(json!({"name": name, "content_type": "application/pdf", "size": size})),
                    &[],
                )
                .await;
            assert_eq!(status, 201, "{upload}");
            let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let mut put = dev.http.put(upload["upload_url"].as_str().unwrap());
            for (k, v) in upload["upload_headers"].as_object().unwrap() {
                put = put.header(k.as_str(), v.as_str().unwrap());
            }
            let put = put.body(bytes.clone()).send().await.unwrap();
            assert!(put.status().is_success(), "upload PUT: {}", put.status());
            (upload["upload_id"].as_str().unwrap().to_owned(), bytes)
        }
    };
    let (cv_id, bytes) = upload("cv.pdf", 3 * 1024 * 1024 + 512 * 1024).await;
    let (status, location, with_cv, _) = dev
        .post_send(
            &format!("/connections/{alice}/messages"),
            json!({
                "to": [{"address": BOB}],
                "subject": "The candidate's CV",
                "body": {"content_type": "html", "content": "<p>Attached.</p>"},
                "attachments": [{"upload_id": cv_id}]
            }),
            "e2e-send-2",
        )
        .await;
    assert_eq!(status, 202, "{with_cv}");
    dev.until_sent(&location).await;
    // Exchange (and the simulator) submits after answering 202: wait for it by polling.
    dev.submitted().await;
    let bob_inbox_sim = dev
        .sim(
            reqwest::Method::GET,
            &format!("/_sim/mailboxes/{BOB}/messages?folder=inbox"),
            None,
        )
        .await;
    let by_subject = |subject: &str| {
        bob_inbox_sim["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["subject"] == subject)
            .cloned()
            .unwrap_or_else(|| panic!("{subject} in bob's inbox"))
    };
    by_subject("Interview next week");
    let cv = by_subject("The candidate's CV");
    let sha = |bytes: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bytes))
    };
    assert_eq!(cv["attachments"][0]["sha256"], sha(&bytes).as_str());
    // Bob replies to the synced copy of Alice's message.
    let interview_imid = sent["internet_message_id"].as_str().unwrap().to_owned();
    dev.await_visible(&bob, "inbox", &HashSet::from([interview_imid.clone()]))
        .await;
    let synced = dev
        .messages(&bob, "inbox")
        .await
        .into_iter()
        .find(|m| m["internet_message_id"] == interview_imid.as_str())
        .unwrap();
    let (status, location, reply, _) = dev
        .post_send(
            &format!(
                "/connections/{bob}/messages/{}/reply",
                synced["id"].as_str().unwrap()
            ),
            json!({"reply_all": false, "body": {"content_type": "text", "content": "Yes, Tuesday works."}}),
            "e2e-reply-1",
        )
        .await;
    assert_eq!(status, 202, "{reply}");
    let reply = dev.until_sent(&location).await;
    dev.submitted().await;
    let alice_inbox_sim = dev
        .sim(
            reqwest::Method::GET,
            &format!("/_sim/mailboxes/{ALICE}/messages?folder=inbox"),
            None,
        )
        .await;
    let replied = alice_inbox_sim["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["internetMessageId"] == reply["internet_message_id"])
        .expect("the reply in alice's inbox")
        .clone();
    assert_eq!(replied["conversationId"], synced["conversation_id"]);
    println!("sent, sent with an uploaded attachment, replied");

    // A send that takes longer than API Gateway waits (30 s): a 10 MiB portfolio whose four
    // upload-session PUTs take 8.5 s each. The gateway's answer is the 202, at once; the worker
    // (Timeout 150 s) sends it while the schedule steps below run.
    let (portfolio_id, portfolio) = upload("portfolio.pdf", 10 * 1024 * 1024).await;
    let slow = dev
        .sim(
            reqwest::Method::POST,
            "/_sim/faults",
            Some(json!({"kind": "latency", "path": "/_upload/", "ms": 8500})),
        )
        .await;
    let slow_sent_at = Instant::now();
    let (status, slow_location, slow_accepted, answered_in) = dev
        .post_send(
            &format!("/connections/{alice}/messages"),
            json!({
                "to": [{"address": BOB}],
                "subject": "Portfolio",
                "attachments": [{"upload_id": portfolio_id}]
            }),
            "e2e-send-slow",
        )
        .await;
    assert_eq!(status, 202, "{slow_accepted}");
    assert!(
        answered_in < Duration::from_secs(30),
        "the gateway's answer took {answered_in:?}"
    );
    println!("a send slower than the gateway's 30 s answered 202 in {answered_in:?}");

    // ---- free/busy, meeting times, book, reschedule, cancel
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(7);
    let window = json!({
        "start": format!("{day}T00:00:00+01:00"),
        "end": format!("{}T00:00:00+01:00", day + chrono::Duration::days(3)),
    });
    let (status, free_busy) = dev
        .api(
            reqwest::Method::POST,
            &format!("/connections/{alice}/free-busy"),
            Some(json!({"attendees": [BOB, CAROL], "start": window["start"], "end": window["end"], "time_zone": "Europe/Berlin"})),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{free_busy}");
    for a in free_busy["attendees"].as_array().unwrap() {
        assert_eq!(a["status"], "ok", "{a}");
    }
    let (status, times) = dev
        .api(
            reqwest::Method::POST,
            &format!("/connections/{alice}/meeting-times"),
            Some(json!({"required": [BOB], "duration_minutes": 45, "start": window["start"], "end": window["end"], "time_zone": "Europe/Berlin"})),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{times}");
    let slot = times["slots"][0].clone();
    assert!(slot["start"].is_string(), "{times}");
    let (status, booked) = dev
        .api(
            reqwest::Method::POST,
            &format!("/connections/{alice}/events"),
            Some(json!({
                "subject": "Interview: candidate",
                "start": slot["start"], "end": slot["end"], "time_zone": "Europe/Berlin",
                "attendees": [{"address": BOB, "type": "required"}]
            })),
            &[("idempotency-key", "e2e-book-1")],
        )
        .await;
    assert_eq!(status, 201, "{booked}");
    assert!(booked["join_url"].is_string(), "a Teams link: {booked}");
    let event_id = booked["id"].as_str().unwrap().to_owned();
    let bob_copy = |events: &Value| {
        events["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["iCalUId"] == booked["ical_uid"])
            .cloned()
            .expect("bob's copy of the interview")
    };
    let bob_events = dev
        .sim(
            reqwest::Method::GET,
            &format!("/_sim/mailboxes/{BOB}/events"),
            None,
        )
        .await;
    let before = bob_copy(&bob_events)["start"]["dateTime"].clone();
    // Calendar sync: the booking reaches the store; bob declines in Outlook, and the app hears it.
    let synced = || async {
        let (status, list) = dev
            .api(
                reqwest::Method::GET,
                &format!("/connections/{alice}/calendar-events/{event_id}"),
                None,
                &[],
            )
            .await;
        (status == 200).then_some(list)
    };
    eventually("the booked interview synced", VISIBLE_WITHIN, || async {
        synced()
            .await
            .is_some_and(|e| e["booked_by_connector"] == true)
    })
    .await;
    let copy_id = bob_copy(&bob_events)["id"].as_str().unwrap().to_owned();
    dev.sim(
        reqwest::Method::POST,
        &format!("/_sim/mailboxes/{BOB}/events/{copy_id}/respond"),
        Some(json!({"response": "decline"})),
    )
    .await;
    eventually("bob's decline synced", VISIBLE_WITHIN, || async {
        synced().await.is_some_and(|e| {
            e["attendees"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|a| a["address"] == BOB && a["response"] == "declined")
            })
        })
    })
    .await;
    let later = chrono::DateTime::parse_from_rfc3339(slot["start"].as_str().unwrap()).unwrap()
        + chrono::Duration::hours(1);
    let (status, moved) = dev
        .api(
            reqwest::Method::PATCH,
            &format!("/connections/{alice}/events/{event_id}"),
            Some(json!({
                "start": later.to_rfc3339(),
                "end": (later + chrono::Duration::minutes(45)).to_rfc3339(),
                "time_zone": "Europe/Berlin"
            })),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    // A move and a cancellation inside one delta round would be one removal (delta reports
    // states, not steps): the app hears of the move once it is synced.
    let moved_start = later.with_timezone(&chrono::Utc);
    eventually("the move synced", VISIBLE_WITHIN, || async {
        synced().await.is_some_and(|e| {
            e["start"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                == Some(moved_start.into())
        })
    })
    .await;
    let bob_events = dev
        .sim(
            reqwest::Method::GET,
            &format!("/_sim/mailboxes/{BOB}/events"),
            None,
        )
        .await;
    assert_ne!(bob_copy(&bob_events)["start"]["dateTime"], before, "moved");
    let (status, cancelled) = dev
        .api(
            reqwest::Method::DELETE,
            &format!("/connections/{alice}/events/{event_id}"),
            Some(json!({"comment": "The candidate withdrew."})),
            &[],
        )
        .await;
    assert_eq!(status, 204, "{cancelled}");
    let bob_events = dev
        .sim(
            reqwest::Method::GET,
            &format!("/_sim/mailboxes/{BOB}/events"),
            None,
        )
        .await;
    assert_eq!(bob_copy(&bob_events)["isCancelled"], true);
    let about_it = |events: &[Value], kind: &str| -> Vec<Value> {
        of_type(events, kind)
            .into_iter()
            .filter(|e| e["detail"]["calendar_event_id"] == event_id.as_str())
            .cloned()
            .collect()
    };
    eventually(
        "the interview's cancellation reached the sink",
        VISIBLE_WITHIN,
        || async { about_it(&dev.events().await, "interview.cancelled").len() == 1 },
    )
    .await;
    let events = dev.events().await;
    let responses = about_it(&events, "interview.response_changed");
    assert_eq!(responses.len(), 1, "{responses:?}");
    assert_eq!(responses[0]["detail"]["new_response"], "declined");
    assert_eq!(
        about_it(&events, "interview.rescheduled").len(),
        1,
        "moved once"
    );
    println!("free/busy, meeting times, booked, declined, rescheduled, cancelled: each told once");

    // ---- alice's weekly series, one occurrence moved in Outlook, while Graph duplicates, drops
    // and reorders the calendar's notifications: one event per change, nothing missed once the
    // faults lift and the next notification comes (a sentinel event, as the mail step's).
    let series_subject = format!("Weekly sync {}", uuid::Uuid::new_v4().simple());
    let d = &dev;
    // Only these faults are lifted afterwards: the slow send's is still in place.
    let calendar_faults = || async move {
        let mut ids = Vec::new();
        for fault in [
            json!({"kind": "duplicateNotifications", "rate": 0.3, "path": hooks}),
            json!({"kind": "dropNotifications", "rate": 0.2, "path": hooks}),
            json!({"kind": "reorderNotifications", "path": hooks}),
        ] {
            let added = d
                .sim(reqwest::Method::POST, "/_sim/faults", Some(fault))
                .await;
            ids.push(added["id"].as_str().unwrap().to_owned());
        }
        ids
    };
    let lift_with_sentinel = |n: u32, faults: Vec<String>| async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        for id in faults {
            d.sim(reqwest::Method::DELETE, &format!("/_sim/faults/{id}"), None)
                .await;
        }
        let at = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%dT%H:00:00");
        let sentinel = d
            .sim(
                reqwest::Method::POST,
                &format!("/_sim/mailboxes/{ALICE}/events"),
                Some(json!({"subject": format!("sentinel {n}"),
                    "start": {"dateTime": at.to_string(), "timeZone": "UTC"},
                    "end": {"dateTime": at.to_string().replace(":00:00", ":30:00"), "timeZone": "UTC"}})),
            )
            .await;
        sentinel["id"].as_str().unwrap().to_owned()
    };
    let a = alice.as_str();
    let stored_series = || async move {
        let start = (chrono::Utc::now() - chrono::Duration::days(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let end = (chrono::Utc::now() + chrono::Duration::days(30))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let (status, list) = d
            .api(
                reqwest::Method::GET,
                &format!("/connections/{a}/calendar-events?start={start}&end={end}&limit=100"),
                None,
                &[],
            )
            .await;
        assert_eq!(status, 200, "{list}");
        list["calendar_events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let stored_has = |list: &[Value], id: &str| list.iter().any(|e| e["id"] == id);
    let faults = calendar_faults().await;
    let first = (chrono::Utc::now() + chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    let series = dev
        .sim(
            reqwest::Method::POST,
            &format!("/_sim/mailboxes/{ALICE}/events"),
            Some(json!({"subject": series_subject,
                "start": {"dateTime": first.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"},
                "end": {"dateTime": (first + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"},
                "recurrence": {"pattern": {"type": "weekly", "interval": 1,
                        "daysOfWeek": [first.format("%A").to_string().to_lowercase()]},
                    "range": {"type": "numbered", "numberOfOccurrences": 3}}})),
        )
        .await;
    assert!(series["id"].is_string(), "{series}");
    let sentinel = lift_with_sentinel(1, faults).await;
    eventually(
        "the series and the sentinel synced",
        VISIBLE_WITHIN,
        || async {
            let list = stored_series().await;
            stored_has(&list, &sentinel)
                && list
                    .iter()
                    .filter(|e| e["subject"] == series_subject.as_str())
                    .count()
                    == 3
        },
    )
    .await;
    let occurrences: Vec<Value> = stored_series()
        .await
        .into_iter()
        .filter(|e| e["subject"] == series_subject.as_str())
        .collect();
    assert!(
        occurrences.iter().all(|e| e["type"] == "occurrence"),
        "{occurrences:?}"
    );
    let second = occurrences[1]["id"].as_str().unwrap().to_owned();
    let moved_to = first + chrono::Duration::days(8) + chrono::Duration::hours(5);
    let faults = calendar_faults().await;
    dev.sim(
        reqwest::Method::POST,
        &format!("/_sim/mailboxes/{ALICE}/occurrences/{second}"),
        Some(json!({"start": moved_to.to_rfc3339(),
                    "end": (moved_to + chrono::Duration::hours(1)).to_rfc3339()})),
    )
    .await;
    let sentinel = lift_with_sentinel(2, faults).await;
    let moved_start = json!(moved_to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    eventually(
        "the moved occurrence synced as an exception",
        VISIBLE_WITHIN,
        || async {
            let list = stored_series().await;
            stored_has(&list, &sentinel)
                && list.iter().any(|e| {
                    e["id"] == second.as_str()
                        && e["type"] == "exception"
                        && e["start"] == moved_start
                })
        },
    )
    .await;
    let events = dev.events().await;
    let of_series = |kind: &str| -> Vec<Value> {
        of_type(&events, kind)
            .into_iter()
            .filter(|e| e["detail"]["calendar_event"]["subject"] == series_subject.as_str())
            .cloned()
            .collect()
    };
    assert_eq!(
        of_series("calendar_event.created").len(),
        3,
        "one per occurrence"
    );
    let updated = of_series("calendar_event.updated");
    assert_eq!(
        updated.len(),
        1,
        "only the moved occurrence changed: {updated:?}"
    );
    assert_eq!(
        updated[0]["detail"]["calendar_event"]["id"],
        second.as_str()
    );
    assert_eq!(updated[0]["detail"]["calendar_event"]["type"], "exception");
    println!(
        "a weekly series and one occurrence moved in Outlook, under duplicated, dropped and reordered notifications: 3 created, 1 updated (the exception), each told once"
    );

    // The slow send, meanwhile: sent once, byte-identical, well after the gateway would have
    // given up.
    let slow_done = dev.until_sent(&slow_location).await;
    let slow_took = slow_sent_at.elapsed();
    dev.sim(
        reqwest::Method::DELETE,
        &format!("/_sim/faults/{}", slow["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert!(slow_took > Duration::from_secs(30), "{slow_took:?}");
    dev.submitted().await;
    let bob_inbox_sim = dev
        .sim(
            reqwest::Method::GET,
            &format!("/_sim/mailboxes/{BOB}/messages?folder=inbox"),
            None,
        )
        .await;
    let portfolios: Vec<&Value> = bob_inbox_sim["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["internetMessageId"] == slow_done["internet_message_id"])
        .collect();
    assert_eq!(portfolios.len(), 1, "delivered once");
    assert_eq!(
        portfolios[0]["attachments"][0]["sha256"],
        sha(&portfolio).as_str()
    );
    println!("the slow send: 202 in {answered_in:?}, sent after {slow_took:?}, delivered once");

    // ---- disconnect: 202 `deleting`, then the purge on the sync queue removes it all
    let (status, view) = dev
        .api(
            reqwest::Method::DELETE,
            &format!("/connections/{bob}"),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 202, "{view}");
    assert_eq!(view["status"], "deleting", "{view}");
    let purging = Instant::now();
    eventually(
        "bob's connection purged (GET answers 404)",
        Duration::from_secs(60),
        || async {
            let (status, view) = dev
                .api(
                    reqwest::Method::GET,
                    &format!("/connections/{bob}"),
                    None,
                    &[],
                )
                .await;
            assert!(
                status == 404 || view["status"] == "deleting",
                "{status} {view}"
            );
            status == 404
        },
    )
    .await;
    println!(
        "FIGURE DELETE -> 202, purged (GET 404) within {:.1}s",
        purging.elapsed().as_secs_f64()
    );
    let (status, _) = dev
        .api(
            reqwest::Method::DELETE,
            &format!("/connections/{bob}"),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 204, "deleting what is gone");
    let subs = dev.subscriptions().await;
    assert!(sub_of(&subs, "b0b", "inbox").is_none() && sub_of(&subs, "b0b", "sentitems").is_none());
    eventually(
        "connection.deleted reached the sink",
        Duration::from_secs(30),
        || async { of_type(&dev.events().await, "connection.deleted").len() == 1 },
    )
    .await;
    println!("disconnected bob: subscriptions gone, connection.deleted published");

    // ---- the scheduled renewal, fired now, renews what the simulator's clock is about to expire
    let clock = dev
        .sim(
            reqwest::Method::POST,
            "/_sim/clock/advance",
            Some(json!({"seconds": 150 * 3600})),
        )
        .await;
    let sim_now = chrono::DateTime::parse_from_rfc3339(clock["now"].as_str().unwrap()).unwrap();
    let expiring: Vec<(String, String)> = dev
        .subscriptions()
        .await
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["expirationDateTime"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (_, expires) in &expiring {
        let expires = chrono::DateTime::parse_from_rfc3339(expires).unwrap();
        assert!(
            expires - sim_now < chrono::Duration::hours(24),
            "about to expire"
        );
    }
    let fired = dev
        .http
        .post(format!("{}/schedules/subscription-renewal", dev.control))
        .json(&json!({"time": sim_now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}))
        .send()
        .await
        .unwrap();
    assert_eq!(fired.status(), 200);
    let fired: Value = fired.json().await.unwrap();
    assert_eq!(fired["response"]["renewals"], expiring.len(), "{fired}");
    // The renew jobs went through the sync queue to mail-sync, which PATCHed each subscription
    // (after refreshing the access token the advanced clock expired) to a later expiry. The
    // connector asks for its own clock + 10,079 minutes, so against the moved simulator clock the
    // new expiry is later than the old one, not 168 hours past the simulator's now.
    eventually(
        "every subscription renewed through the sync queue",
        Duration::from_secs(120),
        || async {
            let now: HashMap<String, String> = dev
                .subscriptions()
                .await
                .iter()
                .map(|s| {
                    (
                        s["id"].as_str().unwrap().to_owned(),
                        s["expirationDateTime"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            expiring.iter().all(|(id, before)| {
                now.get(id).is_some_and(|after| {
                    chrono::DateTime::parse_from_rfc3339(after).unwrap()
                        > chrono::DateTime::parse_from_rfc3339(before).unwrap()
                })
            })
        },
    )
    .await;
    let patches = dev
        .sim(
            reqwest::Method::GET,
            "/_sim/requests?path=/v1.0/subscriptions/&method=PATCH",
            None,
        )
        .await;
    let patched: HashSet<String> = patches["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == 200)
        .map(|r| {
            r["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    for (id, _) in &expiring {
        assert!(
            patched.contains(id),
            "subscription {id} was PATCHed: {patches}"
        );
    }
    let renewed_ids: HashSet<String> = dev
        .subscriptions()
        .await
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let expiring_ids: HashSet<String> = expiring.into_iter().map(|(id, _)| id).collect();
    assert_eq!(renewed_ids, expiring_ids, "renewed in place, not recreated");
    let after_renewal = dev
        .deliver(ALICE, "late@external.example", "after renewal")
        .await;
    dev.await_visible(&alice, "inbox", &HashSet::from([after_renewal]))
        .await;
    println!("renewal fired on demand renewed every subscription; sync continues");
    println!(
        "FIGURE end-to-end suite: {:.0}s",
        suite.elapsed().as_secs_f64()
    );
}
