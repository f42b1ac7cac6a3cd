//! API keys with scopes and user restrictions, and their prompt revocation, through the real
//! handlers against moto and the in-process simulator. Each test writes its own API-key secret
//! to moto and points a connector at it.

use integration_tests::Wired as _;

use std::collections::BTreeSet;
use std::time::Duration;

use m365_connector::app::Connector;
use m365_connector::auth::{hash_key, Scope};
use m365_connector::domain::AppUserId;
use serde_json::{json, Value};

use crate::helpers::{body, connection_for, stack, unique, with_key, Harness, RETURN_URL};

/// The functions behind an API key, by their template.yaml logical id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Function {
    Connections,
    SendMail,
    Scheduling,
}

impl Function {
    const ALL: [(Function, &'static str); 3] = [
        (Function::Connections, "ConnectionsFunction"),
        (Function::SendMail, "SendMailFunction"),
        (Function::Scheduling, "SchedulingFunction"),
    ];
}

/// Every app-facing route and the scope it needs (README, "API keys and scopes"); `a|b`: either
/// admits it.
pub(crate) const ROUTES: &[(Function, &str, &str, &str)] = &[
    (
        Function::Connections,
        "GET",
        "/connections",
        "connections:read",
    ),
    (
        Function::Connections,
        "POST",
        "/connections",
        "connections:write",
    ),
    (
        Function::Connections,
        "GET",
        "/connections/{id}",
        "connections:read",
    ),
    (
        Function::Connections,
        "DELETE",
        "/connections/{id}",
        "connections:write",
    ),
    (
        Function::Connections,
        "GET",
        "/connections/{id}/messages",
        "mail:read",
    ),
    (
        Function::Connections,
        "GET",
        "/connections/{id}/messages/{message_id}",
        "mail:read",
    ),
    (
        Function::Connections,
        "GET",
        "/connections/{id}/calendar-events",
        "calendar:read",
    ),
    (
        Function::Connections,
        "GET",
        "/connections/{id}/calendar-events/{event_id}",
        "calendar:read",
    ),
    (Function::Connections, "POST", "/admin-consents", "admin"),
    (
        Function::Connections,
        "POST",
        "/connections/claims",
        "connections:write",
    ),
    (
        Function::Connections,
        "GET",
        "/tenants/{tenant}/policy",
        "admin",
    ),
    (
        Function::Connections,
        "PUT",
        "/tenants/{tenant}/policy",
        "admin",
    ),
    (
        Function::SendMail,
        "POST",
        "/connections/{id}/messages",
        "mail:send",
    ),
    (
        Function::SendMail,
        "POST",
        "/connections/{id}/messages/{message_id}/reply",
        "mail:send",
    ),
    (
        Function::SendMail,
        "GET",
        "/connections/{id}/sends/{key}",
        "mail:send|mail:read",
    ),
    (
        Function::SendMail,
        "POST",
        "/connections/{id}/uploads",
        "mail:send",
    ),
    (
        Function::Scheduling,
        "POST",
        "/connections/{id}/free-busy",
        "calendar:read",
    ),
    (
        Function::Scheduling,
        "POST",
        "/connections/{id}/meeting-times",
        "calendar:read",
    ),
    (
        Function::Scheduling,
        "POST",
        "/connections/{id}/events",
        "calendar:write",
    ),
    (
        Function::Scheduling,
        "PATCH",
        "/connections/{id}/events/{event_id}",
        "calendar:write",
    ),
    (
        Function::Scheduling,
        "DELETE",
        "/connections/{id}/events/{event_id}",
        "calendar:write",
    ),
    (
        Function::Scheduling,
        "POST",
        "/connections/{id}/scheduling-links",
        "calendar:write",
    ),
    (
        Function::Scheduling,
        "GET",
        "/connections/{id}/scheduling-links/{link_id}",
        "calendar:read",
    ),
    (
        Function::Scheduling,
        "PATCH",
        "/connections/{id}/scheduling-links/{link_id}",
        "calendar:write",
    ),
    (
        Function::Scheduling,
        "DELETE",
        "/connections/{id}/scheduling-links/{link_id}",
        "calendar:write",
    ),
];

/// A secret entry for `key` with `scopes` (and `user_ids`, when given).
fn entry(id: &str, key: &str, scopes: &[&str], user_ids: Option<&[&str]>) -> Value {
    let mut e = json!({"id": id, "sha256": hash_key(key), "scopes": scopes});
    if let Some(users) = user_ids {
        e["user_ids"] = json!(users);
    }
    e
}

fn all_scopes() -> Vec<&'static str> {
    Scope::ALL.iter().map(|s| s.as_str()).collect()
}

/// A harness whose connector reads its API keys from a secret of its own (`{"keys": entries}`),
/// cached for `ttl`. Returns the secret's ARN too.
async fn with_keys(entries: Vec<Value>, ttl: Duration) -> (Harness, String) {
    let mut h = Harness::start().await;
    let arn = h
        .stack
        .aws
        .secrets()
        .create_secret()
        .name(unique("api-keys"))
        .secret_string(json!({ "keys": entries }).to_string())
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let mut config = h.connector.config.clone();
    config.api_keys_secret_id = arn.clone();
    config.api_keys_cache_ttl = ttl;
    h.connector = Connector::new(config, &h.stack.aws);
    (h, arn)
}

/// Calls the function that serves `function`'s routes.
async fn call(
    h: &Harness,
    function: Function,
    request: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    match function {
        Function::Connections => crate::helpers::call::connections(&h.connector, request).await,
        Function::SendMail => crate::helpers::call::send_mail(&h.connector, request).await,
        Function::Scheduling => crate::helpers::call::scheduling(&h.connector, request).await,
    }
}

/// `method path` with `key`, and the status and body of the answer.
async fn request(
    h: &Harness,
    function: Function,
    key: &str,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    json_body: Option<Value>,
) -> (u16, Value) {
    let r = with_key(h.api(method, path, query, json_body), key);
    let response = call(h, function, r).await;
    (response.status().as_u16(), body(response).await)
}

/// `path` with its `{parameters}` filled in; `{id}` is `connection`.
fn concrete(template: &str, connection: &str) -> String {
    template
        .replace("{id}", connection)
        .replace("{message_id}", "AAMkAGI2TG93AAA=")
        .replace("{event_id}", "AAMkAGI2TG94AAA=")
        .replace("{link_id}", "00000000-0000-4000-8000-0000000001ac")
        .replace("{key}", "order-42")
        // A tenant nobody uses: reading its policy is harmless, and no body is ever sent.
        .replace("{tenant}", "00000000-0000-4000-8000-00000000c0de")
}

/// The `(function, "METHOD /path")` routes template.yaml gives the API-key functions.
fn template_routes() -> BTreeSet<(Function, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut routes = BTreeSet::new();
    for (function, logical_id) in Function::ALL {
        let events = template["Resources"][logical_id]["Properties"]["Events"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{logical_id} has no events"));
        for (_, event) in events {
            if event["Type"] == "HttpApi" {
                let p = &event["Properties"];
                let key = format!(
                    "{} {}",
                    p["Method"].as_str().unwrap().to_uppercase(),
                    p["Path"].as_str().unwrap()
                );
                routes.insert((function, key));
            }
        }
    }
    routes
}

#[test]
fn the_scope_table_covers_every_route_of_the_api_key_functions() {
    let table: BTreeSet<(Function, String)> = ROUTES
        .iter()
        .map(|(f, method, path, _)| (*f, format!("{method} {path}")))
        .collect();
    assert_eq!(
        table,
        template_routes(),
        "a route of template.yaml is missing here (add it with its scope) or gone from there"
    );
    for (_, method, path, scopes) in ROUTES {
        for scope in scopes.split('|') {
            assert!(scope.parse::<Scope>().is_ok(), "{method} {path}: {scope}");
        }
    }
}

#[tokio::test]
async fn each_route_refuses_a_key_without_its_scope_and_admits_a_key_with_only_that_scope() {
    let run = unique("run");
    // Keys without a route's scopes (all of them, for a route that takes either of two) and
    // keys with only one scope.
    let without = |scopes: &str| format!("{run}-without-{scopes}");
    let only = |s: &str| format!("{run}-only-{s}");
    let mut entries = Vec::new();
    let mut scope_sets: Vec<&str> = all_scopes();
    scope_sets.extend(
        ROUTES
            .iter()
            .map(|(_, _, _, s)| *s)
            .filter(|s| s.contains('|')),
    );
    scope_sets.sort_unstable();
    scope_sets.dedup();
    for scopes in scope_sets {
        let lacking: Vec<&str> = scopes.split('|').collect();
        let others: Vec<&str> = all_scopes()
            .into_iter()
            .filter(|s| !lacking.contains(s))
            .collect();
        entries.push(entry(
            &format!("without-{scopes}"),
            &without(scopes),
            &others,
            None,
        ));
    }
    for scope in all_scopes() {
        entries.push(entry(
            &format!("only-{scope}"),
            &only(scope),
            &[scope],
            None,
        ));
    }
    let (h, _) = with_keys(entries, Duration::from_secs(60)).await;
    // An unknown connection: a key that gets past the edge meets the handler's own answers.
    let connection = uuid::Uuid::new_v4().to_string();

    for (function, method, template, scopes) in ROUTES {
        let path = concrete(template, &connection);
        let route = format!("{method} {template}");
        let first = scopes.split('|').next().unwrap();

        let (status, problem) =
            request(&h, *function, &without(scopes), method, &path, &[], None).await;
        assert_eq!(status, 403, "{route} without {scopes}: {problem}");
        assert_eq!(
            problem["type"], "urn:m365-connector:problem:missing-scope",
            "{route}"
        );
        assert_eq!(problem["required_scope"], first, "{route}");
        for scope in scopes.split('|') {
            assert!(
                problem["detail"].as_str().unwrap().contains(scope),
                "{route}: the detail names {scope}: {problem}"
            );
            let (status, answer) =
                request(&h, *function, &only(scope), method, &path, &[], None).await;
            assert!(
                status != 401 && status != 403,
                "{route} with only {scope} is past the edge: {status} {answer}"
            );
        }
    }
}

#[tokio::test]
async fn a_key_limited_to_some_users_reaches_only_their_connections() {
    let (alice, bob) = (unique("alice"), unique("bob"));
    let (limited, everyone) = (unique("limited-key"), unique("all-users-key"));
    let (h, _) = with_keys(
        vec![
            entry("limited", &limited, &all_scopes(), Some(&[alice.as_str()])),
            entry("everyone", &everyone, &all_scopes(), None),
        ],
        Duration::from_secs(60),
    )
    .await;
    let alices = connection_for(&AppUserId::parse(&alice).unwrap());
    let bobs = connection_for(&AppUserId::parse(&bob).unwrap());
    h.stack.store.create_connection(&alices).await.unwrap();
    h.stack.store.create_connection(&bobs).await.unwrap();
    let (alice_id, bob_id) = (alices.id.to_string(), bobs.id.to_string());
    let conns = Function::Connections;

    // Listing: only the key's own users, and one must be named.
    let (status, list) = request(
        &h,
        conns,
        &limited,
        "GET",
        "/connections",
        &[("user_id", &alice)],
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["connections"][0]["id"], alice_id.as_str());
    for query in [vec![("user_id", bob.as_str())], vec![]] {
        let (status, problem) =
            request(&h, conns, &limited, "GET", "/connections", &query, None).await;
        assert_eq!(status, 403, "{query:?}: {problem}");
        assert_eq!(
            problem["type"],
            "urn:m365-connector:problem:user-not-allowed"
        );
        assert_eq!(problem["field"], "user_id");
    }

    // Its own user's connection is there; another user's is not found, like an unknown one.
    let own = request(
        &h,
        conns,
        &limited,
        "GET",
        &format!("/connections/{alice_id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(own.0, 200, "{}", own.1);
    let unknown_id = uuid::Uuid::new_v4().to_string();
    let (_, unknown) = request(
        &h,
        conns,
        &limited,
        "GET",
        &format!("/connections/{unknown_id}"),
        &[],
        None,
    )
    .await;
    for (function, method, template) in [
        (conns, "GET", "/connections/{id}"),
        (conns, "GET", "/connections/{id}/messages"),
        (conns, "GET", "/connections/{id}/messages/{message_id}"),
        (conns, "DELETE", "/connections/{id}"),
        (Function::SendMail, "POST", "/connections/{id}/messages"),
        (Function::Scheduling, "POST", "/connections/{id}/free-busy"),
    ] {
        let path = concrete(template, &bob_id);
        let (status, problem) = request(&h, function, &limited, method, &path, &[], None).await;
        assert_eq!(status, 404, "{method} {template}: {problem}");
        assert_eq!(problem["type"], unknown["type"], "{method} {template}");
        assert_eq!(
            problem["detail"].as_str().unwrap().replace(&bob_id, "ID"),
            unknown["detail"]
                .as_str()
                .unwrap()
                .replace(&unknown_id, "ID"),
            "{method} {template}: the same answer as for an unknown connection"
        );
    }
    assert!(
        h.stack
            .store
            .get_connection(&bobs.id)
            .await
            .unwrap()
            .is_some(),
        "bob's connection was not deleted"
    );
    let (status, _) = request(
        &h,
        conns,
        &everyone,
        "GET",
        &format!("/connections/{bob_id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(
        status, 200,
        "a key for every user still sees bob's connection"
    );

    // Starting a connection: only for its own users.
    let start = |user: &str| json!({"user_id": user, "return_url": RETURN_URL});
    let (status, problem) = request(
        &h,
        conns,
        &limited,
        "POST",
        "/connections",
        &[],
        Some(start(&bob)),
    )
    .await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(
        problem["type"],
        "urn:m365-connector:problem:user-not-allowed"
    );
    let (status, started) = request(
        &h,
        conns,
        &limited,
        "POST",
        "/connections",
        &[],
        Some(start(&alice)),
    )
    .await;
    assert_eq!(status, 201, "{started}");
}

#[tokio::test]
async fn a_key_removed_from_the_secret_is_refused_once_the_short_cache_lifetime_has_passed() {
    let (kept, revoked) = (unique("kept-key"), unique("revoked-key"));
    let ttl = Duration::from_secs(1);
    let (h, arn) = with_keys(
        vec![
            entry("kept", &kept, &all_scopes(), None),
            entry("revoked", &revoked, &all_scopes(), None),
        ],
        ttl,
    )
    .await;
    let list = |key: String| {
        let h = &h;
        async move {
            let query = [("user_id", "nobody")];
            request(
                h,
                Function::Connections,
                &key,
                "GET",
                "/connections",
                &query,
                None,
            )
            .await
            .0
        }
    };
    assert_eq!(list(revoked.clone()).await, 200);

    let remaining = json!({"keys": [entry("kept", &kept, &all_scopes(), None)]});
    h.stack
        .aws
        .secrets()
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(remaining.to_string())
        .send()
        .await
        .unwrap();
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;

    assert_eq!(list(revoked).await, 401, "the removed key is refused");
    assert_eq!(list(kept).await, 200, "the remaining key still works");
}

#[tokio::test]
async fn a_key_whose_entry_names_an_unknown_scope_is_refused_and_the_other_keys_still_work() {
    let (typo, good) = (unique("typo-key"), unique("good-key"));
    let (h, _) = with_keys(
        vec![
            entry(
                "typo",
                &typo,
                &["connections:read", "connections:raed"],
                None,
            ),
            entry("good", &good, &["connections:read"], None),
        ],
        Duration::from_secs(60),
    )
    .await;
    let query = [("user_id", "nobody")];
    let (status, _) = request(
        &h,
        Function::Connections,
        &typo,
        "GET",
        "/connections",
        &query,
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = request(
        &h,
        Function::Connections,
        &good,
        "GET",
        "/connections",
        &query,
        None,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_local_stack_gives_its_keys_every_scope_and_the_key_secret_a_lifetime_of_seconds() {
    let stack = stack().await;
    // From template.yaml's Globals, as scripts/stack.py provisions them.
    assert_eq!(stack.config.api_keys_cache_ttl, Duration::from_secs(5));
    assert_eq!(stack.config.secrets_cache_ttl, Duration::from_secs(300));

    let raw = stack
        .aws
        .secrets()
        .get_secret_value()
        .secret_id(&stack.config.api_keys_secret_id)
        .send()
        .await
        .unwrap();
    let secret: Value = serde_json::from_str(raw.secret_string().unwrap()).unwrap();
    let every: BTreeSet<&str> = all_scopes().into_iter().collect();
    for id in ["dev", "events"] {
        let key = secret["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id)
            .unwrap_or_else(|| panic!("no {id} key"));
        let scopes: BTreeSet<&str> = key["scopes"]
            .as_array()
            .unwrap_or_else(|| panic!("{id}: no scopes"))
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(scopes, every, "{id}");
        assert!(key.get("user_ids").is_none(), "{id}");
    }
}
