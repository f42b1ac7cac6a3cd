//! The project's pieces agree: template.yaml's HTTP routes equal the local `cargo lambda watch`
//! router in Cargo.toml, and every function in the template has a crate and sample events.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template() -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(root().join("template.yaml")).unwrap()).unwrap()
}

/// (method, path, binary) of every HttpApi event in template.yaml.
fn template_routes() -> BTreeSet<(String, String, String)> {
    let template = template();
    let mut routes = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("Binary")
            .to_owned();
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if event["Type"] == "HttpApi" {
                let p = &event["Properties"];
                routes.insert((
                    p["Method"].as_str().unwrap().to_ascii_uppercase(),
                    p["Path"].as_str().unwrap().to_owned(),
                    binary.clone(),
                ));
            }
        }
    }
    routes
}

/// (method, path, function) of every route in `[workspace.metadata.lambda.watch.router]`.
fn local_routes() -> BTreeSet<(String, String, String)> {
    let manifest: toml::Value = std::fs::read_to_string(root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("router");
    let mut routes = BTreeSet::new();
    for (path, targets) in router {
        for target in targets
            .as_array()
            .expect("routes are lists of {method, function}")
        {
            routes.insert((
                target["method"].as_str().unwrap().to_ascii_uppercase(),
                path.clone(),
                target["function"].as_str().unwrap().to_owned(),
            ));
        }
    }
    routes
}

#[test]
fn template_routes_equal_the_local_router() {
    let template = template_routes();
    assert!(!template.is_empty());
    assert_eq!(template, local_routes());
}

#[test]
fn every_template_function_has_a_crate_and_sample_events() {
    let template = template();
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap();
        let name = name.as_str().unwrap();
        assert_eq!(
            resource["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{name}"
        );
        assert!(
            root()
                .join("functions")
                .join(binary)
                .join("src/main.rs")
                .exists(),
            "{name}: functions/{binary}"
        );
        assert!(
            root()
                .join("functions")
                .join(binary)
                .join("src/lib.rs")
                .exists(),
            "{name}: lib + thin bin"
        );
        assert!(
            root().join("events").join(binary).is_dir(),
            "{name}: events/{binary}"
        );
        // One name, four spellings: functions/send-mail, send-mail, events/send-mail, SendMailFunction.
        let camel: String = binary
            .split('-')
            .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
            .collect();
        assert_eq!(name, format!("{camel}Function"));
    }
}

#[test]
fn no_policy_grants_wildcard_actions_or_resources() {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let template = template();
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        let Some(policies) = resource["Properties"]["Policies"].as_sequence() else {
            continue;
        };
        for statement in policies
            .iter()
            .flat_map(|p| p["Statement"].as_sequence().into_iter().flatten())
        {
            let rendered = serde_yaml::to_string(statement).unwrap();
            for action in statement["Action"].as_sequence().unwrap() {
                assert!(
                    !action.as_str().unwrap().contains('*'),
                    "{name:?}: {rendered}"
                );
            }
            assert!(
                !rendered.contains("'*'") && !rendered.contains("/*"),
                "{name:?}: {rendered}"
            );
        }
    }
    assert!(text.contains("PointInTimeRecoveryEnabled: true"));
}
