//! The project's pieces agree: every function in the template has a crate and sample events. (The
//! local stack reads its routes from template.yaml itself, so there is no second list to compare.)

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template() -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(root().join("template.yaml")).unwrap()).unwrap()
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
