use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn discovery_for_organizations_publishes_the_issuer_template_and_jwks_with_kid() {
    let t = spawn_sim().await;
    let doc: Value = t
        .http
        .get(format!(
            "{}/organizations/v2.0/.well-known/openid-configuration",
            t.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], format!("{}/{{tenantid}}/v2.0", t.base));
    let tenant: Value = t
        .http
        .get(format!(
            "{}/contoso.example/v2.0/.well-known/openid-configuration",
            t.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        tenant["issuer"],
        format!("{}/{}/v2.0", t.base, graph_sim::CONTOSO_TENANT_ID)
    );
    let jwks: Value = t
        .http
        .get(doc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
}

#[tokio::test]
async fn code_flow_issues_tokens_and_a_verifiable_id_token_with_nonce_and_tenant() {
    let t = spawn_sim().await;
    let tokens = t
        .sign_in_with(
            "alice@contoso.example",
            &format!("{ALL_SCOPES} profile"),
            None,
        )
        .await;
    assert!(tokens.refresh.is_some());
    assert!(tokens
        .scope
        .contains("https://graph.microsoft.com/Mail.Send"));
    let id = tokens.id_token.unwrap();
    let header = jsonwebtoken::decode_header(&id).unwrap();
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
        .find(|k| k["kid"] == header.kid.clone().unwrap())
        .unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[t.sim.client_id()]);
    v.set_issuer(&[format!("{}/{}/v2.0", t.base, graph_sim::CONTOSO_TENANT_ID)]);
    let claims = jsonwebtoken::decode::<Value>(&id, &key, &v).unwrap().claims;
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["tid"], graph_sim::CONTOSO_TENANT_ID);
    assert_eq!(claims["email"], "alice@contoso.example");
    assert_eq!(claims["oid"], "a11ce000-0000-4000-8000-00000000a11c");
    assert!(claims["nbf"].is_i64() && claims["iat"].is_i64() && claims["exp"].is_i64());
}

#[tokio::test]
async fn form_post_returns_a_plain_html_form_to_the_redirect_uri() {
    let t = spawn_sim().await;
    let (_, challenge) = pkce();
    let url = t.authorize_url(
        "organizations",
        ALL_SCOPES,
        &challenge,
        &[("response_mode", "form_post")],
    );
    let resp = t.consent(&url, "bob@contoso.example", "accept", None).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("action=\"{REDIRECT}\"")));
    assert!(hidden(&html, "code").is_some());
    assert_eq!(hidden(&html, "state").as_deref(), Some("st-123"));
    assert!(!html.contains("<script"));
}

#[tokio::test]
async fn cancel_redirects_with_access_denied_and_unknown_redirect_uri_shows_an_error_page() {
    let t = spawn_sim().await;
    let (_, challenge) = pkce();
    let url = t.authorize_url("organizations", ALL_SCOPES, &challenge, &[]);
    let resp = t
        .consent(&url, "alice@contoso.example", "cancel", None)
        .await;
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "st-123");

    let bad = url.replace("localhost%3A3000", "evil.example");
    let resp = t.http.get(bad).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("AADSTS50011"));
}

#[tokio::test]
async fn unknown_user_gets_an_error_page() {
    let t = spawn_sim().await;
    let (_, challenge) = pkce();
    let url = t.authorize_url("organizations", ALL_SCOPES, &challenge, &[]);
    let resp = t
        .consent(&url, "mallory@contoso.example", "accept", None)
        .await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("AADSTS50034"));
}

#[tokio::test]
async fn wrong_pkce_verifier_fails_with_501481_and_a_code_is_single_use() {
    let t = spawn_sim().await;
    let (code, verifier) = t.get_code("alice@contoso.example", ALL_SCOPES, None).await;
    let resp = t.redeem(&code, "x".repeat(43).as_str()).await;
    assert_eq!(resp.status(), 400);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(e["error_codes"][0], 501481);
    assert!(e["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS501481:"));
    for k in ["timestamp", "trace_id", "correlation_id"] {
        assert!(e[k].is_string(), "{k}");
    }
    assert_eq!(t.redeem(&code, &verifier).await.status(), 200);
    let again: Value = t.redeem(&code, &verifier).await.json().await.unwrap();
    assert_eq!(again["error_codes"][0], 54005);
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let t = spawn_sim().await;
    let (code, verifier) = t.get_code("alice@contoso.example", ALL_SCOPES, None).await;
    t.control(
        Method::POST,
        "/clock/advance",
        Some(serde_json::json!({"seconds": 601})),
    )
    .await;
    let e: Value = t.redeem(&code, &verifier).await.json().await.unwrap();
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(e["error_codes"][0], 70008);
}

#[tokio::test]
async fn bad_client_secret_is_invalid_client_with_401() {
    let t = spawn_sim().await;
    let resp = t
        .http
        .post(format!("{}/organizations/oauth2/v2.0/token", t.base))
        .basic_auth(t.sim.client_id(), Some("wrong"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"], "invalid_client");
    assert_eq!(e["error_codes"][0], 7000215);
}

#[tokio::test]
async fn refresh_rotates_and_revocation_fails_with_50173() {
    let t = spawn_sim().await;
    let tokens = t.sign_in("alice@contoso.example").await;
    let rt1 = tokens.refresh.unwrap();
    let r: Value = t
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &rt1)])
        .await
        .json()
        .await
        .unwrap();
    let rt2 = r["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    assert_ne!(r["access_token"].as_str().unwrap(), tokens.access);
    let r3 = t
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &rt2)])
        .await;
    assert_eq!(r3.status(), 200);

    t.control(Method::POST, "/users/alice@contoso.example/revoke", None)
        .await;
    let e: Value = t
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &rt2)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(e["error_codes"][0], 50173);
}

#[tokio::test]
async fn refresh_token_expires_after_90_days_of_inactivity() {
    let t = spawn_sim().await;
    let rt = t.sign_in("bob@contoso.example").await.refresh.unwrap();
    t.control(
        Method::POST,
        "/clock/advance",
        Some(serde_json::json!({"seconds": 91 * 24 * 3600})),
    )
    .await;
    let e: Value = t
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &rt)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["error_codes"][0], 700082);
}

#[tokio::test]
async fn fabrikam_needs_admin_consent_before_users_can_sign_in() {
    let t = spawn_sim().await;
    let (_, challenge) = pkce();
    let url = t.authorize_url("organizations", ALL_SCOPES, &challenge, &[]);
    // Entra's "Need admin approval" page, not a redirect.
    let resp = t
        .consent(&url, "erin@fabrikam.example", "accept", None)
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Need admin approval") && html.contains("AADSTS90094"));

    let mut admin =
        url::Url::parse(&format!("{}/organizations/v2.0/adminconsent", t.base)).unwrap();
    admin
        .query_pairs_mut()
        .append_pair("client_id", t.sim.client_id())
        .append_pair("scope", "https://graph.microsoft.com/.default")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "adm");
    // A non-admin cannot grant tenant-wide consent: the same page; giving up returns
    // `access_denied` + `cancel`, without a description or a tenant.
    let resp = t
        .consent(admin.as_str(), "erin@fabrikam.example", "accept", None)
        .await;
    assert_eq!(resp.status(), 200);
    let resp = t.return_from(&resp.text().await.unwrap()).await;
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["error_subcode"], "cancel");
    assert_eq!(q["state"], "adm");
    assert!(!q.contains_key("error_description") && !q.contains_key("tenant"));

    let resp = t
        .consent(admin.as_str(), "admin@fabrikam.example", "accept", None)
        .await;
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["admin_consent"], "True");
    assert_eq!(q["tenant"], graph_sim::FABRIKAM_TENANT_ID);
    assert_eq!(q["state"], "adm");

    let tokens = t.sign_in("erin@fabrikam.example").await;
    let me: Value = t
        .graph(Method::GET, "/me", &tokens.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["userPrincipalName"], "erin@fabrikam.example");
}

#[tokio::test]
async fn me_checks_token_and_scopes_and_dave_has_no_rest_mailbox() {
    let t = spawn_sim().await;
    let resp = t.graph(Method::GET, "/me", "garbage").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("request-id"));
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "InvalidAuthenticationToken");
    assert!(e["error"]["innerError"]["request-id"].is_string());

    let tokens = t
        .sign_in_with("alice@contoso.example", ALL_SCOPES, Some(&["Mail.Read"]))
        .await;
    assert!(!tokens.scope.contains("User.Read"));
    let resp = t
        .graph(Method::GET, "/me", &tokens.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "ErrorAccessDenied");

    let dave = t.sign_in("dave@contoso.example").await;
    let me = t
        .graph(Method::GET, "/me", &dave.access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let resp = t
        .graph(Method::GET, "/me/mailFolders/inbox/messages", &dave.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "MailboxNotEnabledForRESTAPI");

    t.control(
        Method::POST,
        "/users/alice@contoso.example/expire-access-tokens",
        None,
    )
    .await;
    let full = t.sign_in("bob@contoso.example").await;
    t.control(
        Method::POST,
        "/clock/advance",
        Some(serde_json::json!({"seconds": 3600})),
    )
    .await;
    let e: Value = t
        .graph(Method::GET, "/me", &full.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["code"], "InvalidAuthenticationToken");
}

#[tokio::test]
async fn key_rotation_publishes_the_new_key_and_signs_with_it() {
    let t = spawn_sim().await;
    let before: Value = t
        .http
        .get(format!("{}/common/discovery/v2.0/keys", t.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r: Value = t
        .control(Method::POST, "/keys/rotate", None)
        .await
        .json()
        .await
        .unwrap();
    let after: Value = t
        .http
        .get(format!("{}/common/discovery/v2.0/keys", t.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = after["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&r["kid"].as_str().unwrap()));
    assert!(
        kids.contains(&before["keys"][0]["kid"].as_str().unwrap()),
        "previous key stays published"
    );
    let id = t.sign_in("alice@contoso.example").await.id_token.unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&id).unwrap().kid.as_deref(),
        r["kid"].as_str()
    );
}

#[tokio::test]
async fn microsofts_managed_default_blocks_user_consent_to_mail_and_calendar() {
    let t = spawn_sim_as_microsoft().await;
    let (_, challenge) = pkce();
    let url = t.authorize_url("organizations", ALL_SCOPES, &challenge, &[]);
    let resp = t
        .consent(&url, "alice@contoso.example", "accept", None)
        .await;
    assert_eq!(resp.status(), 200, "an Entra page, not a redirect");
    let html = resp.text().await.unwrap();
    assert!(html.contains("Need admin approval") && html.contains("AADSTS90094"));
    let resp = t.return_from(&html).await;
    assert_eq!(resp.status(), 302);
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["error_subcode"], "cancel");
    assert_eq!(q["state"], "st-123");
    assert!(!q.contains_key("error_description"));

    // User.Read alone is low risk: the managed policy lets the user consent to it.
    let (_, challenge) = pkce();
    let url = t.authorize_url(
        "organizations",
        "openid offline_access https://graph.microsoft.com/User.Read",
        &challenge,
        &[],
    );
    let resp = t
        .consent(&url, "alice@contoso.example", "accept", None)
        .await;
    assert_eq!(resp.status(), 302);
    assert!(query_of(resp.headers()["location"].to_str().unwrap()).contains_key("code"));

    // An administrator may consent; once the tenant allows user consent, users consent.
    let (_, challenge) = pkce();
    let url = t.authorize_url("organizations", ALL_SCOPES, &challenge, &[]);
    let resp = t
        .consent(&url, "admin@contoso.example", "accept", None)
        .await;
    assert_eq!(resp.status(), 302);
    let resp = t
        .control(
            Method::PUT,
            "/tenants/contoso.example/user-consent",
            Some(serde_json::json!({"userConsent": "allowed"})),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let tokens = t.sign_in("alice@contoso.example").await;
    assert!(!tokens.access.is_empty());
}

#[tokio::test]
async fn declining_consent_carries_65004_and_the_cancel_subcode() {
    let t = spawn_sim().await;
    let (_, challenge) = pkce();
    let url = t.authorize_url("organizations", ALL_SCOPES, &challenge, &[]);
    let resp = t
        .consent(&url, "carol@contoso.example", "cancel", None)
        .await;
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["error_subcode"], "cancel");
    assert!(q["error_description"].starts_with("AADSTS65004"));
}

#[tokio::test]
async fn northwind_requires_assignment_and_runs_the_admin_consent_workflow() {
    let t = spawn_sim_as_microsoft().await;
    let (_, challenge) = pkce();
    let url = t.authorize_url("organizations", ALL_SCOPES, &challenge, &[]);
    let resp = t
        .consent(&url, "oscar@northwind.example", "accept", None)
        .await;
    assert_eq!(
        resp.status(),
        400,
        "an error page that never returns to the app"
    );
    assert!(resp.text().await.unwrap().contains("AADSTS50105"));

    let (_, challenge) = pkce();
    let url = t.authorize_url("organizations", ALL_SCOPES, &challenge, &[]);
    let resp = t
        .consent(&url, "nora@northwind.example", "accept", None)
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Approval required") && html.contains("AADSTS90095"));

    // Silently (prompt=none) the unassigned user comes back with the code in the description.
    let (_, challenge) = pkce();
    let url = t.authorize_url(
        "organizations",
        ALL_SCOPES,
        &challenge,
        &[
            ("prompt", "none"),
            ("login_hint", "oscar@northwind.example"),
        ],
    );
    let resp = t.http.get(url).send().await.unwrap();
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "access_denied");
    assert!(q["error_description"].starts_with("AADSTS50105"));
}

#[tokio::test]
async fn a_redirect_uri_mismatch_at_the_token_endpoint_is_500112() {
    let t = spawn_sim().await;
    let (code, verifier) = t.get_code("alice@contoso.example", ALL_SCOPES, None).await;
    let resp = t
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:1/elsewhere"),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(resp.status(), 400);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(e["error_codes"][0], 500112);
}

#[tokio::test]
async fn mailbox_calls_without_exchange_online_fail_as_graph_does() {
    let t = spawn_sim().await;
    let tokens = t.sign_in("tom@tailspin.example").await;
    let me: Value = t
        .graph(Method::GET, "/me", &tokens.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["userPrincipalName"], "tom@tailspin.example");
    assert!(me["mail"].is_null());
    let resp = t
        .graph(Method::GET, "/me/mailFolders/inbox", &tokens.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "OrganizationFromTenantGuidNotFound");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains(graph_sim::TAILSPIN_TENANT_ID));

    let tokens = t.sign_in("uma@contoso.example").await;
    let resp = t
        .graph(Method::GET, "/me/mailFolders/inbox", &tokens.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "MailboxNotEnabledForRESTAPI");
}

#[tokio::test]
async fn every_credential_the_simulator_issued_or_was_given_is_listed_for_log_checks() {
    let t = spawn_sim().await;
    let (code, verifier) = t.get_code("alice@contoso.example", ALL_SCOPES, None).await;
    let tokens: Value = t.redeem(&code, &verifier).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let refreshed: Value = t
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .await
        .json()
        .await
        .unwrap();
    let draft: Value = t
        .graph(Method::POST, "/me/messages", access)
        .json(&serde_json::json!({"subject": "cv"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session: Value = t
        .graph(
            Method::POST,
            &format!(
                "/me/messages/{}/attachments/createUploadSession",
                draft["id"].as_str().unwrap()
            ),
            access,
        )
        .json(&serde_json::json!({"AttachmentItem": {"attachmentType": "file", "name": "cv.pdf", "size": 4_000_000}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let listed: Value = t
        .control(Method::GET, "/issued-secrets", None)
        .await
        .json()
        .await
        .unwrap();

    let has = |kind: &str, value: &str| {
        listed["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == kind && s["value"] == value)
    };
    assert!(has("client_secret", t.sim.client_secret()), "{listed}");
    assert!(has("authorization_code", &code), "{listed}");
    assert!(has("code_verifier", &verifier), "{listed}");
    for response in [&tokens, &refreshed] {
        assert!(has(
            "access_token",
            response["access_token"].as_str().unwrap()
        ));
        assert!(has(
            "refresh_token",
            response["refresh_token"].as_str().unwrap()
        ));
        assert!(has("id_token", response["id_token"].as_str().unwrap()));
    }
    let upload_url = session["uploadUrl"].as_str().unwrap();
    assert!(has("upload_url", upload_url), "{listed}");
    let token = upload_url.rsplit('/').next().unwrap();
    assert!(has("upload_session_token", token), "{listed}");
}
