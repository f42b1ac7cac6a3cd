//! Shared set-up: the local stack's configuration and clients, built from the environment that
//! `make test` (scripts/stack.py) exports.
//!
//! The published contract is checked here, in one place: every handler call of these tests goes
//! through [`call`], which checks the answer against `openapi.yaml` (the operation of its route
//! key, the response of its status: media type, headers, body schema), and every event
//! [`Harness::events`] drains is checked against its schema in `schemas/events/`. A test that has
//! only a body checks it with [`checked`]. The checker itself is
//! `integration_tests::contract` (shared with the end-to-end suite).

use integration_tests::Wired as _;

use chrono::Utc;
use m365_connector::aws::AwsClients;
use m365_connector::config::Config;
use m365_connector::domain::{AppUserId, Capability, Connection, ConnectionId, ConnectionStatus};
use m365_connector::store::Store;

/// The handlers as the tests call them: each answer is checked against the contract.
pub mod call {
    use lambda_http::{Body, Request, Response};
    use m365_connector::app::Connector;

    pub async fn connections(c: &Connector, request: Request) -> Response<Body> {
        let route = super::route_key_of(&request);
        super::checked_response(&route, ::connections::handle(c, request).await)
    }

    pub async fn oauth(c: &Connector, request: Request) -> Response<Body> {
        let route = super::route_key_of(&request);
        super::checked_response(&route, ::oauth::handle(c, request).await)
    }

    pub async fn send_mail(c: &Connector, request: Request) -> Response<Body> {
        let route = super::route_key_of(&request);
        super::checked_response(&route, ::send_mail::handle(c, request).await)
    }

    pub async fn scheduling(c: &Connector, request: Request) -> Response<Body> {
        let route = super::route_key_of(&request);
        super::checked_response(&route, ::scheduling::handle(c, request).await)
    }

    pub async fn graph_webhook(c: &Connector, request: Request) -> Response<Body> {
        let route = super::route_key_of(&request);
        super::checked_response(&route, ::graph_webhook::handle(c, request).await)
    }

    pub fn docs(request: Request) -> Response<Body> {
        let route = super::route_key_of(&request);
        super::checked_response(&route, ::docs::handle(request))
    }
}

/// The route the request is: its method and the template of the route key API Gateway delivered
/// it on (`$default` when none matched).
pub fn route_key_of(request: &lambda_http::Request) -> String {
    match m365_connector::edge::route_key(request).and_then(|key| key.split_once(' ')) {
        Some((_, template)) => format!("{} {template}", request.method()),
        None => "$default".to_owned(),
    }
}

/// Checks a handler's answer to a request on `route` (a route key) against openapi.yaml and
/// returns it; a drift fails the test that got it, naming the route, the status and the mismatch.
pub fn checked_response(
    route: &str,
    response: lambda_http::Response<lambda_http::Body>,
) -> lambda_http::Response<lambda_http::Body> {
    use integration_tests::contract::{contract, header_pairs, Answer};
    let answer = Answer {
        status: response.status().as_u16(),
        headers: header_pairs(response.headers()),
        body: response.body().as_ref(),
    };
    if let Err(e) = contract().check_response(route, &answer) {
        panic!("the answer drifted from the published contract: {e}");
    }
    response
}

/// Checks a JSON body that `route` answered with `status` against openapi.yaml.
pub fn checked(route: &str, status: u16, body: &serde_json::Value) {
    if let Err(e) = integration_tests::contract::contract().check_body(route, status, body) {
        panic!("the answer drifted from the published contract: {e}");
    }
}

pub struct Stack {
    pub config: Config,
    pub aws: AwsClients,
    pub store: Store,
}

/// The local stack, or a panic that says how to get one.
pub async fn stack() -> Stack {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run the integration tests through `make test`, which starts the local stack"
    );
    let config =
        Config::from_env().expect("the local stack's configuration (run through `make test`)");
    let aws = AwsClients::from_config(&m365_connector::aws::sdk_config_from_env().await);
    let store = Store::new(aws.dynamodb.clone(), &config.table_name);
    Stack { config, aws, store }
}

/// A unique id for test data, so tests can share one table and run in parallel.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A connection as the OAuth callback would create it, for a fresh mailbox.
pub fn connection_for(user: &AppUserId) -> Connection {
    let now = Utc::now();
    Connection {
        id: ConnectionId::new_random(),
        user_id: user.clone(),
        tenant_id: uuid::Uuid::new_v4().to_string(),
        ms_user_id: uuid::Uuid::new_v4().to_string(),
        email: "alice@contoso.example".into(),
        display_name: "Alice".into(),
        status: ConnectionStatus::Active,
        capabilities: vec![
            Capability::MailRead,
            Capability::MailSend,
            Capability::Calendar,
        ],
        scopes: vec!["Mail.Read".into(), "Mail.Send".into()],
        created_at: now,
        updated_at: now,
        last_error: None,
    }
}

/// A connection is per mailbox and its tokens are the last sign-in's: two harnesses signing in
/// alice at once would each hold tokens the other's simulator does not know. Tests that sign in a
/// seeded mailbox hold this for their whole run, so they take turns across modules.
pub static MAILBOXES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A connector wired to the local stack and an in-process Graph simulator, with its own event
/// bus, sync queue and send queue so a test sees exactly the events and jobs it caused.
pub struct Harness {
    pub stack: Stack,
    pub sim: graph_sim::Simulator,
    pub connector: m365_connector::app::Connector,
    pub browser: reqwest::Client,
    events_queue: String,
    pub sync_queue: String,
    /// Its send queue; a job not deleted comes back after 2 s (a dead worker's, say).
    pub send_queue: String,
    /// The default browser's cookies for the connector (`name=value`), as set by start URLs.
    jar: std::sync::Mutex<Vec<String>>,
    /// The app user who started each sign-in (by state), so the app's claim can name them.
    started: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

pub const RETURN_URL: &str = "https://app.example.com/settings/mail";
pub const PUBLIC_BASE: &str = "http://127.0.0.1:9";

impl Harness {
    pub async fn start() -> Self {
        Self::start_inner(None).await
    }

    /// Like [`Harness::start`], with every AWS client of the connector counted by `meter`.
    pub async fn start_metered(meter: &integration_tests::Meter) -> Self {
        Self::start_inner(Some(meter)).await
    }

    async fn start_inner(meter: Option<&integration_tests::Meter>) -> Self {
        let stack = stack().await;
        let sim = graph_sim::Simulator::start(graph_sim::SimConfig::default())
            .await
            .unwrap();
        let app_secret =
            serde_json::json!({"client_id": sim.client_id(), "client_secret": sim.client_secret()});
        let ms_app_secret_id = stack
            .aws
            .secrets()
            .create_secret()
            .name(unique("ms-app"))
            .secret_string(app_secret.to_string())
            .send()
            .await
            .unwrap()
            .arn
            .unwrap();

        // Capture EventBridge events through a rule into a queue of our own.
        let bus = unique("bus");
        stack
            .aws
            .eventbridge()
            .create_event_bus()
            .name(&bus)
            .send()
            .await
            .unwrap();
        let events_queue = stack
            .aws
            .sqs()
            .create_queue()
            .queue_name(unique("events"))
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let events_arn = queue_arn(&stack, &events_queue).await;
        let rule = unique("rule");
        stack
            .aws
            .eventbridge()
            .put_rule()
            .name(&rule)
            .event_bus_name(&bus)
            .event_pattern(r#"{"source":["m365-connector"]}"#)
            .send()
            .await
            .unwrap();
        stack
            .aws
            .eventbridge()
            .put_targets()
            .rule(&rule)
            .event_bus_name(&bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("q")
                    .arn(events_arn)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let sync_queue = stack
            .aws
            .sqs()
            .create_queue()
            .queue_name(format!("{}.fifo", unique("sync")))
            .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();

        let send_queue = stack
            .aws
            .sqs()
            .create_queue()
            .queue_name(unique("sends"))
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
                "2",
            )
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();

        let mut config = stack.config.clone();
        config.ms_app_secret_id = ms_app_secret_id;
        config.identity_authority =
            url::Url::parse(&format!("{}/organizations/v2.0", sim.base_url())).unwrap();
        config.graph_base_url = url::Url::parse(&format!("{}/v1.0", sim.base_url())).unwrap();
        config.public_base_url = Some(url::Url::parse(PUBLIC_BASE).unwrap());
        config.allowed_return_origins = vec![url::Url::parse(RETURN_URL).unwrap().origin()];
        config.event_bus_name = bus;
        config.sync_queue_url = sync_queue.clone();
        config.send_queue_url = Some(send_queue.clone());
        let clients = match meter {
            Some(meter) => integration_tests::metered_clients(
                &m365_connector::aws::sdk_config_from_env().await,
                meter,
            ),
            None => stack.aws.clone(),
        };
        let connector = m365_connector::app::Connector::new(config, &clients);
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let h = Self {
            stack,
            sim,
            connector,
            browser,
            events_queue,
            sync_queue,
            send_queue,
            jar: Default::default(),
            started: Default::default(),
        };
        // Contoso's admin allows user consent, so that its users connect by themselves (under
        // Microsoft's managed default an admin consents first; tests that need that default
        // put it back with `Harness::user_consent`).
        h.user_consent("contoso.example", "allowed").await;
        h
    }

    /// Sets a seeded tenant's user consent setting: `microsoftManaged` (Microsoft's default),
    /// `allowed` or `disabled`.
    pub async fn user_consent(&self, domain: &str, setting: &str) {
        self.control(
            reqwest::Method::PUT,
            &format!("/_sim/tenants/{domain}/user-consent"),
            Some(serde_json::json!({"userConsent": setting})),
        )
        .await;
    }

    /// Every event published so far (drains the capture queue), each checked against its
    /// schema in `schemas/events/`.
    pub async fn events(&self) -> Vec<serde_json::Value> {
        let events = drain(&self.stack, &self.events_queue).await;
        for event in &events {
            if let Err(e) = integration_tests::contract::contract().check_event(event) {
                panic!("an event drifted from its published schema: {e}");
            }
        }
        events
    }

    /// Runs the send worker over the harness's send queue as the SQS event source mapping does
    /// (receive, invoke, delete what is not reported failed; a reported job comes back after the
    /// visibility timeout the worker set, a crashed one after the queue's 2 s) until no job is left;
    /// how long it worked.
    pub async fn run_send_jobs(
        &self,
        settings: &m365_connector::sending::SendSettings,
    ) -> std::time::Duration {
        let h = self;
        let sqs = h.stack.aws.sqs();
        let started = std::time::Instant::now();
        loop {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(240),
                "send jobs still queued"
            );
            let received = sqs
                .receive_message()
                .queue_url(&h.send_queue)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap()
                .messages
                .unwrap_or_default();
            if received.is_empty() {
                if h.queued_send_jobs().await == 0 {
                    return started.elapsed();
                }
                continue;
            }
            let records = received
                .iter()
                .map(|m| {
                    let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
                    record.message_id = m.message_id.clone();
                    record.receipt_handle = m.receipt_handle.clone();
                    record.body = m.body.clone();
                    record
                })
                .collect();
            let response = send_worker::process(&h.connector, settings, records).await;
            let failed: Vec<String> = response
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect();
            for m in &received {
                if !failed.contains(m.message_id.as_ref().unwrap()) {
                    sqs.delete_message()
                        .queue_url(&h.send_queue)
                        .receipt_handle(m.receipt_handle.clone().unwrap())
                        .send()
                        .await
                        .unwrap();
                }
            }
        }
    }

    /// Jobs on the send queue, visible or not.
    pub async fn queued_send_jobs(&self) -> usize {
        let h = self;
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let attrs = h
            .stack
            .aws
            .sqs()
            .get_queue_attributes()
            .queue_url(&h.send_queue)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default();
        attrs.values().filter_map(|v| v.parse::<usize>().ok()).sum()
    }

    /// Every sync job enqueued so far (drains the queue).
    pub async fn sync_jobs(&self) -> Vec<serde_json::Value> {
        drain(&self.stack, &self.sync_queue).await
    }

    pub async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut request = self
            .browser
            .request(method, format!("{}{path}", self.sim.base_url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(serde_json::Value::Null)
    }

    /// How many Graph subscriptions the simulator holds for the mailbox `address`.
    pub async fn sim_subscriptions_of(&self, address: &str) -> usize {
        let user = graph_sim::directory::user(address).unwrap().id;
        self.control(reqwest::Method::GET, "/_sim/subscriptions", None)
            .await["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["userId"] == user)
            .count()
    }

    /// Identity and Graph requests the simulator has seen on paths starting with `prefix`.
    pub async fn sim_requests(&self, prefix: &str) -> Vec<serde_json::Value> {
        let log = self
            .control(reqwest::Method::GET, "/_sim/requests", None)
            .await;
        let entries = log["value"].as_array().cloned().expect("the request log");
        entries
            .into_iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with(prefix)))
            .collect()
    }

    /// An app-facing API request, authenticated with the local events key.
    pub fn api(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> lambda_http::Request {
        api_request(method, path, query, body, true)
    }

    /// Submits the simulator's sign-in/consent (or admin consent) page as a browser would and
    /// returns the redirect Location it answers with.
    pub async fn consent(
        &self,
        page_url: &str,
        login: &str,
        action: &str,
        scopes: Option<&[&str]>,
    ) -> String {
        let page = self.browser.get(page_url).send().await.unwrap();
        assert_eq!(page.status(), 200, "consent page");
        let html = page.text().await.unwrap();
        let flow = hidden(&html, "flow").expect("flow field");
        let start = html.find("action=\"").unwrap() + 8;
        let action_url =
            html[start..start + html[start..].find('"').unwrap()].replace("&amp;", "&");
        let mut form: Vec<(&str, String)> = vec![
            ("flow", flow),
            ("login", login.into()),
            ("action", action.into()),
        ];
        if let Some(scopes) = scopes {
            form.push(("consent_subset", "1".into()));
            form.extend(scopes.iter().map(|s| ("scope", s.to_string())));
        }
        let response = self
            .browser
            .post(action_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&form).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "consent answers with a redirect");
        response.headers()["location"].to_str().unwrap().to_owned()
    }
}

pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

/// The query parameters of a URL.
pub fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Builds an API Gateway request as the HTTP API (payload 2.0) would deliver it: `routeKey` and
/// `pathParameters` from the template.yaml route whose path matches `path` (whatever `method` is,
/// so that a wrong method reaches the handler as a known route), `$default` when none matches.
pub fn api_request(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<serde_json::Value>,
    authenticated: bool,
) -> lambda_http::Request {
    let qs = serde_urlencoded::to_string(query).unwrap();
    let (route_key, params) = match route_of(path) {
        Some((template, params)) => (format!("{method} {template}"), Some(params)),
        None => ("$default".to_owned(), None),
    };
    let mut headers = serde_json::Map::new();
    headers.insert("host".into(), "api.example".into());
    if authenticated {
        let key =
            std::env::var("EVENTS_API_KEY").expect("EVENTS_API_KEY (run through `make test`)");
        headers.insert("authorization".into(), format!("Bearer {key}").into());
    }
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": qs,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "api.example",
            "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "integration-tests"},
            "requestId": "r", "routeKey": route_key, "stage": "$default",
            "time": "27/Nov/2026:16:40:00 +0000", "timeEpoch": 1795797600000u64
        },
        "isBase64Encoded": false
    });
    if !query.is_empty() {
        let map: serde_json::Map<String, serde_json::Value> = query
            .iter()
            .map(|(k, v)| (k.to_string(), (*v).into()))
            .collect();
        event["queryStringParameters"] = map.into();
    }
    if let Some(params) = params {
        event["pathParameters"] = serde_json::to_value(params).unwrap();
    }
    if let Some(b) = body {
        event["headers"]["content-type"] = "application/json".into();
        event["body"] = b.to_string().into();
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

/// The same request, authenticated with another API key instead.
pub fn with_key(mut request: lambda_http::Request, key: &str) -> lambda_http::Request {
    let value = format!("Bearer {key}").parse().unwrap();
    request.headers_mut().insert("authorization", value);
    request
}

/// Every HTTP API route path in template.yaml (`/connections/{id}`, ...).
fn route_templates() -> &'static [String] {
    static TEMPLATES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let text = std::fs::read_to_string(root.join("template.yaml")).unwrap();
        let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let mut paths = Vec::new();
        for (_, resource) in template["Resources"].as_mapping().unwrap() {
            let Some(events) = resource["Properties"]["Events"].as_mapping() else {
                continue;
            };
            for (_, event) in events {
                if event["Type"] == "HttpApi" {
                    paths.push(event["Properties"]["Path"].as_str().unwrap().to_owned());
                }
            }
        }
        assert!(!paths.is_empty(), "template.yaml has no HttpApi routes");
        paths
    })
}

/// The most specific route path matching `path` (literal segments win over `{parameters}`, as in
/// API Gateway) and its path parameters, percent-decoded.
pub fn route_of(path: &str) -> Option<(&'static str, std::collections::BTreeMap<String, String>)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut best: Option<(
        Vec<bool>,
        &'static str,
        std::collections::BTreeMap<String, String>,
    )> = None;
    'routes: for template in route_templates() {
        let wanted: Vec<&str> = template.trim_matches('/').split('/').collect();
        if wanted.len() != segments.len() {
            continue;
        }
        let (mut literal, mut params) = (Vec::new(), std::collections::BTreeMap::new());
        for (want, got) in wanted.iter().zip(&segments) {
            if let Some(name) = want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                if got.is_empty() {
                    continue 'routes;
                }
                params.insert(name.to_owned(), percent_decode(got));
                literal.push(false);
            } else if want == got {
                literal.push(true);
            } else {
                continue 'routes;
            }
        }
        if best.as_ref().is_none_or(|(l, _, _)| literal > *l) {
            best = Some((literal, template.as_str(), params));
        }
    }
    best.map(|(_, template, params)| (template, params))
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn queue_arn(stack: &Stack, url: &str) -> String {
    stack
        .aws
        .sqs()
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone()
}

async fn drain(stack: &Stack, url: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    loop {
        let received = stack
            .aws
            .sqs()
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return out;
        }
        for m in messages {
            out.push(serde_json::from_str(m.body().unwrap()).unwrap());
            stack
                .aws
                .sqs()
                .delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

// ---- the connect flow, shared by every suite that needs a connected mailbox

use serde_json::{json, Value};

pub async fn body(response: lambda_http::Response<lambda_http::Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null)
}

pub fn location(response: &lambda_http::Response<lambda_http::Body>) -> String {
    assert_eq!(response.status(), 302, "expected a redirect");
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The `name=value` part of a `Set-Cookie` value.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_owned()
}

impl Harness {
    /// POST /connections; returns the start URL.
    pub async fn start_url(&self, user: &str, login_hint: &str, transfer: bool) -> String {
        let request = self.api(
            "POST",
            "/connections",
            &[],
            Some(json!({"user_id": user, "return_url": RETURN_URL, "login_hint": login_hint, "transfer": transfer})),
        );
        let response = call::connections(&self.connector, request).await;
        assert_eq!(response.status(), 201);
        let b = body(response).await;
        assert!(b["expires_at"].is_string());
        let start = b["start_url"].as_str().unwrap().to_owned();
        let state = query_of(&start)["state"].clone();
        self.started.lock().unwrap().insert(state, user.to_owned());
        start
    }

    /// Opens a start URL in a browser: returns the connector's answer (302 to Microsoft with
    /// a cookie, or a page).
    pub async fn open_start(&self, start_url: &str) -> lambda_http::Response<lambda_http::Body> {
        assert!(
            start_url.starts_with(&format!("{PUBLIC_BASE}/oauth/start")),
            "{start_url}"
        );
        let params: Vec<(String, String)> = query_of(start_url).into_iter().collect();
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        call::oauth(
            &self.connector,
            api_request("GET", "/oauth/start", &params, None, false),
        )
        .await
    }

    /// POST /connections and the start URL opened in the default browser; returns Microsoft's
    /// authorize URL. The seeded mailboxes are shared by every test on the shared table, each
    /// with app users of its own, so this flow asks for a transfer (an earlier test may have
    /// left the mailbox connected under its user); the ownership tests start without one.
    pub async fn start_connect(&self, user: &str, login_hint: &str) -> String {
        let start = self.start_url(user, login_hint, true).await;
        self.follow_start(&start).await
    }

    /// Delivers the simulator's redirect to our callback from a browser holding `cookies`;
    /// returns the connector's answer.
    pub async fn callback_with(
        &self,
        sim_location: &str,
        cookies: Option<&str>,
    ) -> lambda_http::Response<lambda_http::Body> {
        assert!(
            sim_location.starts_with(&format!("{PUBLIC_BASE}/oauth/callback")),
            "{sim_location}"
        );
        let params: Vec<(String, String)> = query_of(sim_location).into_iter().collect();
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut request = api_request("GET", "/oauth/callback", &params, None, false);
        if let Some(cookies) = cookies {
            request
                .headers_mut()
                .insert("cookie", cookies.parse().unwrap());
        }
        call::oauth(&self.connector, request).await
    }

    /// The default browser's cookies, as its `Cookie` header.
    pub fn cookies(&self) -> String {
        self.jar.lock().unwrap().join("; ")
    }

    /// Opens a start URL in the default browser, keeping its cookie; returns where it redirects.
    pub async fn follow_start(&self, start_url: &str) -> String {
        let opened = self.open_start(start_url).await;
        let set_cookie = opened.headers()["set-cookie"].to_str().unwrap().to_owned();
        self.jar.lock().unwrap().push(cookie_pair(&set_cookie));
        location(&opened)
    }

    /// POST /connections/claims as the app, for `user`; the raw answer.
    pub async fn claim(
        &self,
        result: &str,
        user: &str,
    ) -> lambda_http::Response<lambda_http::Body> {
        let request = self.api(
            "POST",
            "/connections/claims",
            &[],
            Some(json!({"result": result, "user_id": user})),
        );
        call::connections(&self.connector, request).await
    }

    /// Delivers the simulator's redirect to our callback in the default browser, then does what
    /// the app does on its return URL: claims a `result` for the user who started the sign-in.
    /// Returns the landing URL, with the claimed `connection_id` and `status` added to it (as
    /// the app's page would show them).
    pub async fn callback(&self, sim_location: &str) -> String {
        let landing = location(
            &self
                .callback_with(sim_location, Some(&self.cookies()))
                .await,
        );
        let query = query_of(&landing);
        let Some(result) = query.get("result") else {
            return landing;
        };
        let state = query_of(sim_location)["state"].clone();
        let user = self.started.lock().unwrap()[&state].clone();
        let claimed = self.claim(result, &user).await;
        assert_eq!(claimed.status(), 200, "the claim of the sign-in's own user");
        let claimed = body(claimed).await;
        let mut url = url::Url::parse(&landing).unwrap();
        url.query_pairs_mut()
            .append_pair(
                "connection_id",
                claimed["connection"]["id"].as_str().unwrap(),
            )
            .append_pair("status", claimed["connection"]["status"].as_str().unwrap());
        url.to_string()
    }

    /// The whole browser flow for one user; returns the app's return URL query.
    pub async fn connect(
        &self,
        user: &str,
        login: &str,
    ) -> std::collections::HashMap<String, String> {
        let authorize = self.start_connect(user, login).await;
        let back = self.consent(&authorize, login, "accept", None).await;
        let landing = self.callback(&back).await;
        assert!(landing.starts_with(RETURN_URL), "{landing}");
        query_of(&landing)
    }

    pub async fn get_connection(&self, id: &str) -> Value {
        let response = call::connections(
            &self.connector,
            self.api("GET", &format!("/connections/{id}"), &[], None),
        )
        .await;
        assert_eq!(response.status(), 200);
        body(response).await
    }
}
