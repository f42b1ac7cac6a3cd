//! The app's own token (client credentials grant) and finding tenants by domain: what the
//! connector uses to resolve `contoso.com` to a tenant id and to confirm an admin consent.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

/// The claims of a token signed with one of the simulator's published keys.
async fn verified_claims(t: &TestSim, token: &str) -> Value {
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let jwks: Value = t
        .http
        .get(format!("{}/organizations/discovery/v2.0/keys", t.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&["https://graph.microsoft.com"]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap()
        .claims
}

async fn admin_consents(t: &TestSim, admin: &str) {
    let mut url = url::Url::parse(&format!("{}/organizations/v2.0/adminconsent", t.base)).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", t.sim.client_id())
        .append_pair("scope", GRAPH_DEFAULT)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "adm");
    let resp = t.consent(url.as_str(), admin, "accept", None).await;
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["admin_consent"], "True");
}

#[tokio::test]
async fn an_app_not_installed_in_the_tenant_gets_700016_unauthorized_client() {
    let t = spawn_sim_as_microsoft().await;

    let resp = t
        .app_token(graph_sim::FABRIKAM_TENANT_ID, Some(GRAPH_DEFAULT))
        .await;

    assert_eq!(resp.status(), 400);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"], "unauthorized_client");
    assert_eq!(e["error_codes"][0], 700016);
    let description = e["error_description"].as_str().unwrap();
    assert!(
        description.starts_with("AADSTS700016: Application with identifier")
            && description.contains("not been installed by the administrator of the tenant"),
        "{description}"
    );
}

#[tokio::test]
async fn admin_consent_installs_the_app_and_client_credentials_then_issue_a_role_less_app_token() {
    let t = spawn_sim_as_microsoft().await;
    admin_consents(&t, "admin@fabrikam.example").await;

    let resp = t
        .app_token(graph_sim::FABRIKAM_TENANT_ID, Some(GRAPH_DEFAULT))
        .await;

    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let claims = verified_claims(&t, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["tid"], graph_sim::FABRIKAM_TENANT_ID);
    assert_eq!(claims["appid"], t.sim.client_id());
    assert!(claims["oid"].is_string() && claims["oid"] == claims["sub"]);
    assert!(
        claims.get("roles").is_none() && claims.get("scp").is_none(),
        "the app has no application permissions: {claims}"
    );
}

#[tokio::test]
async fn a_users_consent_installs_the_app_too_and_a_domain_names_the_tenant() {
    let t = spawn_sim().await;
    let before = t.app_token("contoso.example", Some(GRAPH_DEFAULT)).await;
    assert_eq!(before.status(), 400);

    t.sign_in("alice@contoso.example").await;

    for tenant in [
        graph_sim::CONTOSO_TENANT_ID,
        "contoso.example",
        "contoso.onmicrosoft.com",
    ] {
        let resp = t.app_token(tenant, Some(GRAPH_DEFAULT)).await;
        assert_eq!(resp.status(), 200, "{tenant}");
        let body: Value = resp.json().await.unwrap();
        let claims = verified_claims(&t, body["access_token"].as_str().unwrap()).await;
        assert_eq!(claims["tid"], graph_sim::CONTOSO_TENANT_ID, "{tenant}");
    }
    // Another tenant is unaffected.
    let other = t.app_token("fabrikam.example", Some(GRAPH_DEFAULT)).await;
    assert_eq!(other.status(), 400);
}

#[tokio::test]
async fn removing_the_admin_consent_keeps_the_app_installed() {
    let t = spawn_sim_as_microsoft().await;
    admin_consents(&t, "admin@fabrikam.example").await;

    let reset = t
        .control(
            Method::DELETE,
            "/tenants/fabrikam.example/admin-consent",
            None,
        )
        .await;
    assert_eq!(reset.status(), 204);

    let resp = t
        .app_token(graph_sim::FABRIKAM_TENANT_ID, Some(GRAPH_DEFAULT))
        .await;
    assert_eq!(resp.status(), 200);
    let directory: Value = t
        .control(Method::GET, "/directory", None)
        .await
        .json()
        .await
        .unwrap();
    let fabrikam = directory["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == graph_sim::FABRIKAM_TENANT_ID)
        .unwrap();
    assert_eq!(fabrikam["servicePrincipal"], true);
    assert_eq!(fabrikam["adminConsentedScopes"], serde_json::json!([]));
}

#[tokio::test]
async fn client_credentials_need_a_tenant_not_common_or_organizations() {
    let t = spawn_sim().await;
    t.sign_in("alice@contoso.example").await;

    for authority in ["common", "organizations"] {
        let resp = t.app_token(authority, Some(GRAPH_DEFAULT)).await;

        assert_eq!(resp.status(), 400, "{authority}");
        let e: Value = resp.json().await.unwrap();
        assert_eq!(e["error"], "invalid_request", "{authority}");
        assert_eq!(e["error_codes"][0], 50059, "{authority}");
    }
}

#[tokio::test]
async fn client_credentials_take_only_a_resource_with_default() {
    let t = spawn_sim().await;
    t.sign_in("alice@contoso.example").await;

    let cases = [
        (None, "invalid_request", 900144),
        (
            Some("https://graph.microsoft.com/Mail.Read"),
            "invalid_scope",
            1002012,
        ),
        (Some("Mail.Read"), "invalid_scope", 1002012),
        (
            Some("https://unknown.example/.default"),
            "invalid_resource",
            500011,
        ),
    ];
    for (scope, error, code) in cases {
        let resp = t.app_token(graph_sim::CONTOSO_TENANT_ID, scope).await;

        assert_eq!(resp.status(), 400, "{scope:?}");
        let e: Value = resp.json().await.unwrap();
        assert_eq!(e["error"], error, "{scope:?}");
        assert_eq!(e["error_codes"][0], code, "{scope:?}");
    }
    let by_app_id = t
        .app_token(
            graph_sim::CONTOSO_TENANT_ID,
            Some("00000003-0000-0000-c000-000000000000/.default"),
        )
        .await;
    assert_eq!(by_app_id.status(), 200);
}

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client_before_anything_else() {
    let t = spawn_sim_as_microsoft().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", t.sim.client_id()),
        ("client_secret", "not-the-secret"),
        ("scope", GRAPH_DEFAULT),
    ];

    let resp = t
        .http
        .post(format!("{}/fabrikam.example/oauth2/v2.0/token", t.base))
        .form(&form)
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), 401);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"], "invalid_client");
    assert_eq!(e["error_codes"][0], 7000215);
}

#[tokio::test]
async fn every_seeded_tenant_is_discovered_by_each_of_its_domains() {
    let t = spawn_sim_as_microsoft().await;
    for tenant in graph_sim::directory::TENANTS {
        assert!(
            tenant.initial_domain.ends_with(".onmicrosoft.com"),
            "every tenant has an onmicrosoft.com domain: {}",
            tenant.id
        );
        for name in [tenant.id, tenant.domain, tenant.initial_domain] {
            let doc: Value = t
                .http
                .get(format!(
                    "{}/{name}/v2.0/.well-known/openid-configuration",
                    t.base
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                doc["issuer"],
                format!("{}/{}/v2.0", t.base, tenant.id),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn an_unknown_domain_is_400_invalid_tenant_with_90002() {
    let t = spawn_sim_as_microsoft().await;
    for name in ["nobody.example", "contoso.com"] {
        let resp = t
            .http
            .get(format!(
                "{}/{name}/v2.0/.well-known/openid-configuration",
                t.base
            ))
            .send()
            .await
            .unwrap();

        assert_eq!(resp.status(), 400, "{name}");
        let e: Value = resp.json().await.unwrap();
        assert_eq!(e["error"], "invalid_tenant", "{name}");
        assert_eq!(e["error_codes"][0], 90002, "{name}");
    }
}
