//! The published contract agrees with what is deployed and with itself: openapi.yaml has exactly
//! template.yaml's HttpApi routes (`make dev`'s local gateway derives its routes from the same
//! template, so this covers it too), each app route names the scope the handler checks, its
//! examples match its schemas, the event schemas share the API's definitions, and the checker
//! fails on a response that drifts.

use std::collections::BTreeSet;

use integration_tests::contract::{contract, repository_root, Answer};
use serde_json::{json, Value};

/// Every `HttpApi` route of template.yaml, as a route key (`GET /connections/{id}`).
fn template_routes() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repository_root().join("template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut routes = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        for (_, event) in resource["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
        {
            if event["Type"] == "HttpApi" {
                let p = &event["Properties"];
                routes.insert(format!(
                    "{} {}",
                    p["Method"].as_str().unwrap().to_uppercase(),
                    p["Path"].as_str().unwrap()
                ));
            }
        }
    }
    routes
}

#[test]
fn the_contract_has_exactly_the_routes_of_template_yaml() {
    let deployed = template_routes();
    let published = contract().routes();

    let undocumented: Vec<_> = deployed.difference(&published).collect();
    let not_deployed: Vec<_> = published.difference(&deployed).collect();
    assert!(
        undocumented.is_empty() && not_deployed.is_empty(),
        "template.yaml routes missing from openapi.yaml: {undocumented:?}; \
         openapi.yaml operations template.yaml does not route: {not_deployed:?}"
    );
    assert!(deployed.len() >= 28, "{deployed:?}");
}

#[test]
fn each_app_route_names_the_scope_its_handler_checks() {
    let spec = contract().spec();
    let scoped: std::collections::BTreeMap<String, &str> = crate::scopes::ROUTES
        .iter()
        .map(|(_, method, path, scope)| (format!("{method} {path}"), *scope))
        .collect();
    for route in contract().routes() {
        let (method, path) = route.split_once(' ').unwrap();
        let operation = &spec["paths"][path][method.to_lowercase()];
        let security = operation["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{route}: no security requirement"));
        match scoped.get(&route) {
            Some(scope) => {
                assert_eq!(operation["x-required-scope"], *scope, "{route}");
                // `a|b`: either scope admits it, i.e. alternative security requirements.
                let alternatives: Vec<_> = scope
                    .split('|')
                    .map(|one| json!({"apiKey": [one]}))
                    .collect();
                assert_eq!(security, &alternatives, "{route}");
                for status in ["401", "403"] {
                    assert!(
                        operation["responses"][status].is_object(),
                        "{route}: an app route documents {status}"
                    );
                }
            }
            None => {
                assert!(security.is_empty(), "{route} is public: security: []");
                assert!(operation.get("x-required-scope").is_none(), "{route}");
            }
        }
    }
}

#[test]
fn the_problem_types_are_the_ones_the_connector_answers() {
    let published: BTreeSet<&str> = contract().spec()["components"]["schemas"]["ProblemType"]
        ["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let answered: BTreeSet<&str> = m365_connector::failures::ProblemType::ALL
        .iter()
        .map(|t| t.uri())
        .collect();
    assert_eq!(published, answered);
}

/// Inlines every `#/components/schemas/...` reference.
fn dereferenced(schema: &Value, spec: &Value) -> Value {
    match schema {
        Value::Object(map) => match map.get("$ref").and_then(Value::as_str) {
            Some(reference) => dereferenced(
                spec.pointer(reference.trim_start_matches('#')).unwrap(),
                spec,
            ),
            None => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), dereferenced(v, spec)))
                    .collect(),
            ),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| dereferenced(v, spec)).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_event_type_has_a_schema_sharing_the_apis_definitions() {
    let schemas = contract().event_schemas();
    let names: Vec<&str> = schemas.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "calendar_event.created",
            "calendar_event.deleted",
            "calendar_event.updated",
            "connection.connected",
            "connection.deleted",
            "connection.reauth_required",
            "connection.transferred",
            "interview.cancelled",
            "interview.rescheduled",
            "interview.response_changed",
            "message.created",
            "message.deleted",
            "message.updated",
            "scheduling_link.booked",
            "scheduling_link.cancelled",
            "scheduling_link.rescheduled",
            "tenant.policy_changed",
        ]
    );
    let spec = contract().spec();
    let api = |name: &str| {
        dereferenced(
            &json!({"$ref": format!("#/components/schemas/{name}")}),
            spec,
        )
    };
    for (event, schema) in schemas {
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{event}"
        );
        for (name, api_name) in [
            ("Connection", "Connection"),
            ("Message", "MessageSummary"),
            ("CalendarEvent", "CalendarEvent"),
        ] {
            if let Some(def) = schema["$defs"].get(name) {
                assert_eq!(
                    def,
                    &api(api_name),
                    "schemas/events/{event}.json: $defs/{name} differs from openapi.yaml's \
                     {api_name} (the event carries the same object)"
                );
            }
        }
    }
}

#[test]
fn the_examples_in_the_contract_match_their_schemas() {
    let spec = contract().spec();
    let mut checked = 0;
    for route in contract().routes() {
        let (method, path) = route.split_once(' ').unwrap();
        let operation = &spec["paths"][path][method.to_lowercase()];
        for (status, response) in operation["responses"].as_object().unwrap() {
            let response = match response["$ref"].as_str() {
                Some(r) => spec.pointer(r.trim_start_matches('#')).unwrap(),
                None => response,
            };
            for (media, content) in response["content"].as_object().into_iter().flatten() {
                let mut examples: Vec<&Value> = content.get("example").into_iter().collect();
                examples.extend(
                    content["examples"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(_, e)| &e["value"]),
                );
                for example in examples {
                    if media.ends_with("json") {
                        crate::helpers::checked(&route, status.parse().unwrap(), example);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} response examples");
}

/// A real answer of `GET /connections/{id}` (from the local stack), as the checker sees it.
fn connection() -> Value {
    json!({
        "id": "3f2b8c1e-6a4d-4e1f-9b7c-2d5e8f0a1b3c", "user_id": "recruiter-1",
        "tenant_id": "6f4d2c1a-3b5e-4c7d-8e9f-0a1b2c3d4e5f", "email": "alice@contoso.example",
        "display_name": "Alice Anders", "status": "active",
        "capabilities": ["mail_read", "mail_send", "calendar"], "scopes": ["Mail.Read"],
        "created_at": "2026-11-30T05:11:09.337419Z", "updated_at": "2026-11-30T05:11:09.337419Z",
        "last_error": null
    })
}

fn answer(status: u16, content_type: &str, body: &Value) -> (u16, Vec<(String, String)>, Vec<u8>) {
    (
        status,
        vec![("content-type".into(), content_type.into())],
        serde_json::to_vec(body).unwrap(),
    )
}

fn check(
    route: &str,
    (status, headers, body): &(u16, Vec<(String, String)>, Vec<u8>),
) -> Result<(), String> {
    contract().check_response(
        route,
        &Answer {
            status: *status,
            headers: headers.clone(),
            body,
        },
    )
}

#[test]
fn the_checker_fails_an_answer_that_drifts_from_the_contract() {
    let route = "GET /connections/{id}";
    assert_eq!(
        check(route, &answer(200, "application/json", &connection())),
        Ok(())
    );

    // A field renamed, one added, a status the route does not document, another media type,
    // a value outside its enum, a problem of a type the status does not have.
    let mut renamed = connection();
    let email = renamed.as_object_mut().unwrap().remove("email").unwrap();
    renamed["mail"] = email;
    let mut status = connection();
    status["status"] = "connected".into();
    let drifts = [
        (route, answer(200, "application/json", &renamed), "mail"),
        (
            route,
            answer(201, "application/json", &connection()),
            "not documented",
        ),
        (
            route,
            answer(200, "text/plain", &connection()),
            "Content-Type",
        ),
        (route, answer(200, "application/json", &status), "connected"),
        (
            route,
            answer(
                404,
                "application/problem+json",
                &json!({"type": "urn:m365-connector:problem:unavailable", "title": "Not Found", "status": 404}),
            ),
            "unavailable",
        ),
    ];
    for (route, answer, named) in drifts {
        let e = check(route, &answer).expect_err(named);
        assert!(e.contains(named), "{e}");
    }

    // A required header missing: a 401 without `WWW-Authenticate`.
    let unauthorized = json!({"type": "urn:m365-connector:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "x"});
    let e = check(
        route,
        &answer(401, "application/problem+json", &unauthorized),
    )
    .unwrap_err();
    assert!(e.contains("WWW-Authenticate"), "{e}");
}

#[tokio::test]
async fn an_unknown_route_still_answers_a_problem() {
    let stack = crate::helpers::stack().await;
    let c = m365_connector::app::Connector::new(stack.config.clone(), &stack.aws);
    let request = crate::helpers::api_request("GET", "/nowhere", &[], None, true);
    let response = crate::helpers::call::connections(&c, request).await;
    assert_eq!(response.status(), 404);
}
