//! The published contract, as the tests hold the connector to it: every response a test gets is
//! checked against `openapi.yaml` (the operation of its route, the response of its status: the
//! media type, the required headers and their values, the body against its JSON Schema), and
//! every event a test sees against its schema in `schemas/events/`.
//!
//! One checker for both test binaries: the integration tests (`tests/api`, whose `helpers.rs`
//! routes every handler call through it) and the end-to-end suite (`tests/e2e`, whose `api()`
//! and browser go through it). A response or event that drifts from the contract fails the test
//! that got it, naming the route, the status and what differs.
//!
//! The schemas are JSON Schema 2020-12, as OpenAPI 3.1 writes them; `jsonschema` validates them
//! with formats checked (`uuid`, `date-time`, `uri`, `email`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

/// The `source` of every event the connector publishes.
pub const EVENT_SOURCE: &str = "m365-connector";

/// The repository root (this crate lives in `tests/integration`).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The contract and the event schemas, loaded once per test binary.
pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| Contract::load(&repository_root()))
}

pub struct Contract {
    spec: Value,
    events: BTreeMap<String, Value>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// One response as a test got it.
pub struct Answer<'a> {
    pub status: u16,
    /// Header names in any case.
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

impl Contract {
    pub fn load(root: &Path) -> Self {
        let text = std::fs::read_to_string(root.join("openapi.yaml")).expect("openapi.yaml");
        let spec: Value = serde_yaml::from_str(&text).expect("openapi.yaml is YAML");
        let mut events = BTreeMap::new();
        let dir = root.join("schemas/events");
        for entry in std::fs::read_dir(&dir).expect("schemas/events") {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                events.insert(name, schema);
            }
        }
        Self {
            spec,
            events,
            validators: Mutex::default(),
        }
    }

    pub fn spec(&self) -> &Value {
        &self.spec
    }

    /// The event schemas by event type (`connection.connected`, ...).
    pub fn event_schemas(&self) -> &BTreeMap<String, Value> {
        &self.events
    }

    /// Every operation as a route key, `METHOD /template`, as template.yaml spells routes.
    pub fn routes(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (path, item) in self.spec["paths"].as_object().expect("paths") {
            for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
                if item.get(method).is_some() {
                    out.insert(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        out
    }

    /// The route key of a concrete request (`GET /connections/abc?x=1` -> `GET
    /// /connections/{id}`): literal segments win over `{parameters}`, as in API Gateway.
    pub fn route_of(&self, method: &str, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut best: Option<(Vec<bool>, String)> = None;
        'paths: for template in self.spec["paths"].as_object()?.keys() {
            if self.spec["paths"][template][method.to_lowercase()].is_null() {
                continue;
            }
            let wanted: Vec<&str> = template.trim_matches('/').split('/').collect();
            if wanted.len() != segments.len() {
                continue;
            }
            let mut literal = Vec::new();
            for (want, got) in wanted.iter().zip(&segments) {
                if want.starts_with('{') && want.ends_with('}') && !got.is_empty() {
                    literal.push(false);
                } else if want == got {
                    literal.push(true);
                } else {
                    continue 'paths;
                }
            }
            if best.as_ref().is_none_or(|(l, _)| literal > *l) {
                best = Some((literal, template.clone()));
            }
        }
        best.map(|(_, template)| format!("{} {template}", method.to_uppercase()))
    }

    /// Checks one response of `route` (a route key) against the contract. A route the contract
    /// does not have (a request the gateway would not deliver: `$default`, another method) must
    /// still answer an RFC 9457 problem (or, on the browser routes, a page).
    pub fn check_response(&self, route: &str, answer: &Answer<'_>) -> Result<(), String> {
        let (method, path) = route.split_once(' ').unwrap_or(("", route));
        let operation = &self.spec["paths"][path][method.to_lowercase()];
        if operation.is_null() {
            if media_type(answer) == "text/html" {
                return Ok(()); // the browser routes' page for any failure
            }
            return self
                .check_media(
                    &format!("{route} (not an operation of openapi.yaml)"),
                    answer,
                    "application/problem+json",
                    &json!({"$ref": "#/components/schemas/Problem"}),
                )
                .map_err(|e| format!("{e}\n(a route outside the contract must answer a problem)"));
        }
        let at = format!("{route} -> {}", answer.status);
        let mut response = &operation["responses"][answer.status.to_string()];
        if response.is_null() {
            let documented: Vec<&String> = operation["responses"]
                .as_object()
                .map(|r| r.keys().collect())
                .unwrap_or_default();
            return Err(format!(
                "{at}: status {} is not documented in openapi.yaml (documented: {documented:?}); body: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body[..answer.body.len().min(500)])
            ));
        }
        if let Some(reference) = response["$ref"].as_str() {
            response = self.resolve(reference);
        }
        for (name, header) in response["headers"].as_object().into_iter().flatten() {
            let header = match header["$ref"].as_str() {
                Some(reference) => self.resolve(reference),
                None => header,
            };
            let value = answer
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str());
            match value {
                None if header["required"] == true => {
                    return Err(format!("{at}: the header {name} is required"));
                }
                None => {}
                Some(raw) => {
                    let value = if matches!(header["schema"]["type"].as_str(), Some("integer")) {
                        raw.parse::<i64>().map(Value::from).map_err(|_| {
                            format!("{at}: the header {name} must be an integer, got {raw:?}")
                        })?
                    } else {
                        Value::String(raw.to_owned())
                    };
                    self.validate(&format!("{at} header {name}"), &header["schema"], &value)?;
                }
            }
        }
        let Some(content) = response["content"].as_object() else {
            return if answer.body.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{at}: the contract has no body for this response, got {} bytes",
                    answer.body.len()
                ))
            };
        };
        let media = media_type(answer);
        let Some(spec_media) = content.get(&media) else {
            return Err(format!(
                "{at}: Content-Type {media:?} is not one of {:?}",
                content.keys().collect::<Vec<_>>()
            ));
        };
        self.check_media(&at, answer, &media, &spec_media["schema"])
    }

    fn check_media(
        &self,
        at: &str,
        answer: &Answer<'_>,
        expected_media: &str,
        schema: &Value,
    ) -> Result<(), String> {
        let media = media_type(answer);
        if media != expected_media {
            return Err(format!(
                "{at}: Content-Type {media:?}, expected {expected_media:?}"
            ));
        }
        let instance = if media.ends_with("json") {
            serde_json::from_slice(answer.body).map_err(|e| {
                format!(
                    "{at}: the body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&answer.body[..answer.body.len().min(500)])
                )
            })?
        } else {
            Value::String(String::from_utf8_lossy(answer.body).into_owned())
        };
        self.validate(at, schema, &instance)
    }

    /// Checks a JSON body against the schema of (`route`, `status`) for callers that have only
    /// the body: as [`Contract::check_response`] with the contract's media type and no headers.
    pub fn check_body(&self, route: &str, status: u16, body: &Value) -> Result<(), String> {
        let (method, path) = route.split_once(' ').unwrap_or(("", route));
        let mut response =
            &self.spec["paths"][path][method.to_lowercase()]["responses"][status.to_string()];
        if response.is_null() {
            return Err(format!(
                "{route} -> {status}: not documented in openapi.yaml"
            ));
        }
        if let Some(reference) = response["$ref"].as_str() {
            response = self.resolve(reference);
        }
        let Some((_, media)) = response["content"]
            .as_object()
            .and_then(|c| c.iter().find(|(m, _)| m.ends_with("json")))
        else {
            return Err(format!(
                "{route} -> {status}: the contract has no JSON body"
            ));
        };
        self.validate(&format!("{route} -> {status}"), &media["schema"], body)
    }

    /// Checks one EventBridge event as the app's rule delivers it: `source`, and `detail`
    /// against the schema of its `detail-type`.
    pub fn check_event(&self, event: &Value) -> Result<(), String> {
        let kind = event["detail-type"].as_str().unwrap_or_default();
        if event["source"] != EVENT_SOURCE {
            return Err(format!("event {kind}: source {}", event["source"]));
        }
        let Some(schema) = self.events.get(kind) else {
            return Err(format!(
                "event {kind:?} has no schema in schemas/events/ (known: {:?})",
                self.events.keys().collect::<Vec<_>>()
            ));
        };
        let detail = match &event["detail"] {
            Value::String(s) => serde_json::from_str(s).map_err(|e| format!("{kind}: {e}"))?,
            other => other.clone(),
        };
        let validator = self.validator(&format!("event {kind}"), || schema.clone())?;
        errors(&format!("event {kind}"), &validator, &detail)
    }

    fn resolve(&self, reference: &str) -> &Value {
        let pointer = reference.trim_start_matches('#');
        self.spec
            .pointer(pointer)
            .unwrap_or_else(|| panic!("openapi.yaml: {reference} does not resolve"))
    }

    /// Validates `instance` against a schema of the contract (its `$ref`s resolve against the
    /// contract's components).
    fn validate(&self, at: &str, schema: &Value, instance: &Value) -> Result<(), String> {
        let key = format!("{at}\n{schema}");
        let validator = self.validator(&key, || {
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": self.spec["components"],
                "allOf": [schema],
            })
        })?;
        errors(at, &validator, instance)
    }

    fn validator(
        &self,
        key: &str,
        schema: impl FnOnce() -> Value,
    ) -> Result<Arc<jsonschema::Validator>, String> {
        if let Some(v) = self.validators.lock().unwrap().get(key) {
            return Ok(v.clone());
        }
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema())
            .map_err(|e| format!("{key}: the schema does not compile: {e}"))?;
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .unwrap()
            .insert(key.to_owned(), validator.clone());
        Ok(validator)
    }
}

fn media_type(answer: &Answer<'_>) -> String {
    answer
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

fn errors(at: &str, validator: &jsonschema::Validator, instance: &Value) -> Result<(), String> {
    let found: Vec<String> = validator
        .iter_errors(instance)
        .take(5)
        .map(|e| format!("  at {:?}: {e}", e.instance_path().as_str()))
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    let shown = instance.to_string();
    Err(format!(
        "{at}: does not match openapi.yaml / schemas/events:\n{}\n  the value: {}",
        found.join("\n"),
        &shown[..shown.len().min(1500)]
    ))
}

/// The headers of an `http` response, as [`Answer`] takes them.
pub fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}
