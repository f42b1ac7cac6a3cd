//! Tenant-wide admin consent end to end: `POST /admin-consents` with a tenant id or any of the
//! tenant's domains, the simulator's admin consent page, and the callback, which records consent
//! only once Microsoft confirms the app is installed in the tenant (a client credentials token).
//!
//! Consent records are shared by every test on the table, so each tenant plays one part:
//! contoso and fabrikam are consented (confirmed), northwind is the identity outage (`claimed`),
//! tailspin is never consented (forged callbacks).

use chrono::Utc;
use m365_connector::store::ConsentStatus;
use serde_json::{json, Value};

use crate::helpers::{api_request, body, location, query_of, Harness, PUBLIC_BASE, RETURN_URL};

/// `POST /admin-consents`: the status and the body.
async fn start(h: &Harness, tenant: &str) -> (u16, Value) {
    let request = h.api(
        "POST",
        "/admin-consents",
        &[],
        Some(json!({"tenant": tenant, "return_url": RETURN_URL})),
    );
    let response = crate::helpers::call::connections(&h.connector, request).await;
    let status = response.status().as_u16();
    (status, body(response).await)
}

/// Delivers a redirect (or a hand-made query) to the admin consent callback; returns the query
/// of where the browser is sent.
async fn callback(
    h: &Harness,
    params: &[(&str, &str)],
) -> std::collections::HashMap<String, String> {
    let response = crate::helpers::call::oauth(
        &h.connector,
        api_request("GET", "/oauth/admin-consent/callback", params, None, false),
    )
    .await;
    let landing = location(&response);
    assert!(landing.starts_with(RETURN_URL), "{landing}");
    query_of(&landing)
}

/// The whole flow: start with `tenant`, `admin` accepts on the simulator's page, the redirect
/// reaches the callback. Returns the landing query.
async fn consent_as(
    h: &Harness,
    tenant: &str,
    admin: &str,
) -> std::collections::HashMap<String, String> {
    let (status, started) = start(h, tenant).await;
    assert_eq!(status, 201, "{started}");
    let back = h
        .consent(
            started["consent_url"].as_str().unwrap(),
            admin,
            "accept",
            None,
        )
        .await;
    assert!(
        back.starts_with(&format!("{PUBLIC_BASE}/oauth/admin-consent/callback")),
        "{back}"
    );
    let params: Vec<(String, String)> = query_of(&back).into_iter().collect();
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    callback(h, &params).await
}

/// Client credentials token requests the simulator received for `tenant`.
async fn confirmations(h: &Harness, tenant: &str) -> usize {
    h.sim_requests(&format!("/{tenant}/oauth2/v2.0/token"))
        .await
        .len()
}

#[tokio::test]
async fn admin_consent_started_by_domain_goes_to_the_tenant_id_and_is_recorded_as_granted() {
    let h = Harness::start().await;
    let before = Utc::now();

    let (status, started) = start(&h, "Contoso.Example").await;

    assert_eq!(status, 201, "{started}");
    assert_eq!(started["tenant_id"], graph_sim::CONTOSO_TENANT_ID);
    let consent_url = url::Url::parse(started["consent_url"].as_str().unwrap()).unwrap();
    assert_eq!(
        consent_url.path(),
        format!("/{}/v2.0/adminconsent", graph_sim::CONTOSO_TENANT_ID),
        "the state and the consent URL name the tenant id, not the domain"
    );
    let back = h
        .consent(
            consent_url.as_str(),
            "admin@contoso.example",
            "accept",
            None,
        )
        .await;
    let params: Vec<(String, String)> = query_of(&back).into_iter().collect();
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let landing = callback(&h, &params).await;

    assert_eq!(landing["admin_consent"], "granted", "{landing:?}");
    assert_eq!(landing["tenant"], graph_sim::CONTOSO_TENANT_ID);
    let recorded = h
        .connector
        .store
        .tenant_consent(graph_sim::CONTOSO_TENANT_ID)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(recorded.status, ConsentStatus::Granted);
    assert!(recorded.confirmed_at.is_some_and(|at| at >= before));
    assert!(recorded.scopes.iter().any(|s| s.ends_with("Mail.Send")));
    assert_eq!(confirmations(&h, graph_sim::CONTOSO_TENANT_ID).await, 1);
}

#[tokio::test]
async fn admin_consent_started_by_the_onmicrosoft_domain_is_granted() {
    let h = Harness::start().await;

    let (status, started) = start(&h, "fabrikam.onmicrosoft.com").await;
    assert_eq!(status, 201, "{started}");
    assert_eq!(started["tenant_id"], graph_sim::FABRIKAM_TENANT_ID);
    let landing = consent_as(&h, "fabrikam.onmicrosoft.com", "admin@fabrikam.example").await;

    assert_eq!(landing["admin_consent"], "granted", "{landing:?}");
    assert_eq!(landing["tenant"], graph_sim::FABRIKAM_TENANT_ID);
}

#[tokio::test]
async fn admin_consent_started_by_tenant_id_looks_nothing_up_and_is_granted() {
    let h = Harness::start().await;
    let before = Utc::now();

    let (status, started) = start(&h, graph_sim::FABRIKAM_TENANT_ID).await;
    assert_eq!(status, 201, "{started}");
    assert!(
        h.sim_requests("/").await.is_empty(),
        "a tenant id needs no discovery: {:?}",
        h.sim_requests("/").await
    );
    let landing = consent_as(&h, graph_sim::FABRIKAM_TENANT_ID, "admin@fabrikam.example").await;

    assert_eq!(landing["admin_consent"], "granted", "{landing:?}");
    let recorded = h
        .connector
        .store
        .tenant_consent(graph_sim::FABRIKAM_TENANT_ID)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(recorded.status, ConsentStatus::Granted);
    assert!(recorded.recorded_at >= before);
}

#[tokio::test]
async fn admin_consent_for_an_unknown_domain_is_a_400_naming_the_tenant_and_stores_nothing() {
    let meter = integration_tests::Meter::default();
    let h = Harness::start_metered(&meter).await;
    meter.reset();

    let (status, problem) = start(&h, "nobody-here.example").await;

    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["field"], "tenant");
    assert_eq!(
        problem["detail"],
        "no Microsoft Entra tenant has this domain"
    );
    assert_eq!(
        meter.calls("DynamoDB"),
        0,
        "no state stored: {:?}",
        meter.snapshot()
    );
    assert_eq!(
        h.sim_requests("/nobody-here.example/v2.0/.well-known")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_tenant_that_is_neither_a_guid_nor_a_domain_is_rejected_before_any_io() {
    let meter = integration_tests::Meter::default();
    let h = Harness::start_metered(&meter).await;
    meter.reset();

    for bad in ["contoso", "common", "contoso.example/x", "10.0.0.1", ""] {
        let (status, problem) = start(&h, bad).await;

        assert_eq!(status, 400, "{bad}: {problem}");
        assert_eq!(problem["field"], "tenant", "{bad}");
    }
    assert_eq!(meter.calls("DynamoDB"), 0, "{:?}", meter.snapshot());
    assert!(h.sim_requests("/").await.is_empty());
}

#[tokio::test]
async fn admin_consent_by_domain_while_discovery_is_down_is_a_503() {
    let h = Harness::start().await;
    h.control(
        reqwest::Method::POST,
        "/_sim/faults",
        Some(json!({"kind": "unavailable", "path": "/contoso.example/v2.0"})),
    )
    .await;

    let (status, problem) = start(&h, "contoso.example").await;

    assert_eq!(status, 503, "{problem}");
}

#[tokio::test]
async fn a_forged_callback_for_a_tenant_without_the_app_records_nothing() {
    let h = Harness::start().await;
    let (status, started) = start(&h, graph_sim::TAILSPIN_TENANT_ID).await;
    assert_eq!(status, 201, "{started}");
    let state = query_of(started["consent_url"].as_str().unwrap())["state"].clone();

    // Straight to the callback, as Microsoft's redirect would look, without Microsoft's pages.
    let landing = callback(
        &h,
        &[
            ("admin_consent", "True"),
            ("tenant", graph_sim::TAILSPIN_TENANT_ID),
            ("scope", "https://graph.microsoft.com/Mail.Read"),
            ("state", &state),
        ],
    )
    .await;

    assert_eq!(
        landing["error"], "admin_consent_not_confirmed",
        "{landing:?}"
    );
    assert_eq!(landing["tenant"], graph_sim::TAILSPIN_TENANT_ID);
    assert!(!landing.contains_key("admin_consent") && !landing.contains_key("retryable"));
    assert!(h
        .connector
        .store
        .tenant_consent(graph_sim::TAILSPIN_TENANT_ID)
        .await
        .unwrap()
        .is_none());
    assert!(
        confirmations(&h, graph_sim::TAILSPIN_TENANT_ID).await >= 2,
        "Microsoft was asked again, in case the consent had not replicated yet"
    );
}

#[tokio::test]
async fn a_callback_naming_another_tenant_than_the_state_records_nothing() {
    let h = Harness::start().await;
    let (_, started) = start(&h, graph_sim::FABRIKAM_TENANT_ID).await;
    let state = query_of(started["consent_url"].as_str().unwrap())["state"].clone();

    let landing = callback(
        &h,
        &[
            ("admin_consent", "True"),
            ("tenant", graph_sim::TAILSPIN_TENANT_ID),
            ("state", &state),
        ],
    )
    .await;

    assert_eq!(landing["error"], "admin_consent_failed");
    assert!(h
        .connector
        .store
        .tenant_consent(graph_sim::TAILSPIN_TENANT_ID)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn an_identity_outage_at_the_callback_records_the_consent_as_claimed() {
    let h = Harness::start().await;
    let (status, started) = start(&h, "northwind.example").await;
    assert_eq!(status, 201, "{started}");
    let back = h
        .consent(
            started["consent_url"].as_str().unwrap(),
            "admin@northwind.example",
            "accept",
            None,
        )
        .await;
    h.control(
        reqwest::Method::POST,
        "/_sim/faults",
        Some(json!({
            "kind": "unavailable",
            "path": format!("/{}/oauth2/v2.0/token", graph_sim::NORTHWIND_TENANT_ID),
        })),
    )
    .await;
    let params: Vec<(String, String)> = query_of(&back).into_iter().collect();
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();

    let landing = callback(&h, &params).await;

    assert_eq!(landing["admin_consent"], "claimed", "{landing:?}");
    assert_eq!(landing["tenant"], graph_sim::NORTHWIND_TENANT_ID);
    let recorded = h
        .connector
        .store
        .tenant_consent(graph_sim::NORTHWIND_TENANT_ID)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(recorded.status, ConsentStatus::Claimed);
    assert!(recorded.confirmed_at.is_none());
}

#[tokio::test]
async fn a_token_endpoint_that_does_not_answer_in_time_records_the_consent_as_claimed() {
    let h = Harness::start().await;
    let (_, started) = start(&h, graph_sim::NORTHWIND_TENANT_ID).await;
    let back = h
        .consent(
            started["consent_url"].as_str().unwrap(),
            "admin@northwind.example",
            "accept",
            None,
        )
        .await;
    h.control(
        reqwest::Method::POST,
        "/_sim/faults",
        Some(json!({
            "kind": "latency",
            "ms": 60_000,
            "path": format!("/{}/oauth2/v2.0/token", graph_sim::NORTHWIND_TENANT_ID),
        })),
    )
    .await;
    let params: Vec<(String, String)> = query_of(&back).into_iter().collect();
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let began = std::time::Instant::now();

    let landing = callback(&h, &params).await;

    assert_eq!(landing["admin_consent"], "claimed", "{landing:?}");
    assert!(
        began.elapsed() < std::time::Duration::from_secs(14),
        "inside the oauth function's 15 s timeout: {:?}",
        began.elapsed()
    );
}
