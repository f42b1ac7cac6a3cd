//! Benchmark (prints figures, asserts no times): what one OAuth callback costs, and the app's
//! claim of its result that follows it. Run with
//! `make bench-connect` (`cargo test -p integration-tests --test api bench_ -- --ignored --nocapture`
//! against the local stack).
//!
//! Identity-platform and Graph calls are counted and timed from the simulator's request log
//! (server-side duration); AWS calls are counted and timed client-side by the SDK interceptor.

use std::time::{Duration, Instant};

use crate::helpers::{location, query_of, Harness, MAILBOXES, RETURN_URL};

const RUNS: usize = 20;

/// (dependency, calls, time) rows of one run.
type Rows = Vec<(String, u32, Duration)>;

#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_one_oauth_callback() {
    let meter = integration_tests::Meter::default();
    let _turn = MAILBOXES.lock().await;
    let h = Harness::start_metered(&meter).await;
    let logins = [
        "alice@contoso.example",
        "bob@contoso.example",
        "carol@contoso.example",
    ];

    let mut runs: Vec<(Duration, Rows)> = Vec::new();
    let mut claims: Vec<(Duration, Rows)> = Vec::new();
    for run in 0..RUNS + 1 {
        let login = logins[run % logins.len()];
        let authorize = h.start_connect(&format!("bench-user-{run}"), login).await;
        let back = h.consent(&authorize, login, "accept", None).await;
        let params: Vec<(String, String)> = query_of(&back).into_iter().collect();
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut request =
            crate::helpers::api_request("GET", "/oauth/callback", &params, None, false);
        request
            .headers_mut()
            .insert("cookie", h.cookies().parse().unwrap());

        meter.reset();
        let seq_before = last_seq(&h).await;
        let started = Instant::now();
        let response = oauth::handle(&h.connector, request).await;
        let elapsed = started.elapsed();
        let landing = location(&response);
        assert!(landing.starts_with(RETURN_URL));
        let aws_rows = |meter: &integration_tests::Meter| -> Rows {
            meter
                .by_service()
                .into_iter()
                .map(|(service, usage)| (service, usage.calls, usage.time))
                .collect()
        };
        let callback_aws = aws_rows(&meter);
        let callback_meter = meter.snapshot();

        // The app's claim of the result, on its return page.
        let result = query_of(&landing)["result"].clone();
        meter.reset();
        let started = Instant::now();
        let claimed = h.claim(&result, &format!("bench-user-{run}")).await;
        let claim_elapsed = started.elapsed();
        assert_eq!(claimed.status(), 200);
        if run > 0 {
            claims.push((claim_elapsed, aws_rows(&meter)));
            let unit = "make bench-connect, the app's claim";
            integration_tests::Meter::write_calls("claim", unit, 0, &meter.snapshot());
        }

        let mut rows: Rows = callback_aws;
        let log = h
            .control(
                reqwest::Method::GET,
                &format!("/_sim/requests?since={seq_before}"),
                None,
            )
            .await;
        let mut identity = (0u32, Duration::ZERO);
        let mut graph = (0u32, Duration::ZERO);
        for r in log["value"].as_array().unwrap() {
            let path = r["path"].as_str().unwrap_or_default();
            let took =
                Duration::from_micros((r["durationMs"].as_f64().unwrap_or(0.0) * 1000.0) as u64);
            let slot = if path.starts_with("/v1.0") {
                &mut graph
            } else if path.starts_with("/_sim") {
                continue;
            } else {
                &mut identity
            };
            slot.0 += 1;
            slot.1 += took;
        }
        rows.push(("identity platform".into(), identity.0, identity.1));
        rows.push(("graph".into(), graph.0, graph.1));
        if run > 0 {
            let unit = "make bench-connect, warm callback";
            let graph_calls = (identity.0 + graph.0) as usize;
            integration_tests::Meter::write_calls("callback", unit, graph_calls, &callback_meter);
        }
        // The first run fills the caches (discovery, JWKS, secrets): report it apart.
        if run == 0 {
            println!("\ncold callback (discovery, JWKS and secrets fetched): {elapsed:?}");
            print_rows(&rows);
            continue;
        }
        runs.push((elapsed, rows));
    }
    runs.sort_by_key(|(elapsed, _)| *elapsed);
    let (median, rows) = &runs[RUNS / 2];
    println!(
        "\nwarm callback, {RUNS} runs: median {median:?}, min {:?}, max {:?}",
        runs[0].0,
        runs[RUNS - 1].0
    );
    println!("calls and time of the median run:");
    print_rows(rows);
    let accounted: Duration = rows.iter().map(|(_, _, t)| *t).sum();
    println!(
        "  {:<20} {:>5} {:>12?}",
        "other (CPU, crypto)",
        "",
        median.saturating_sub(accounted)
    );

    claims.sort_by_key(|(elapsed, _)| *elapsed);
    let (median, rows) = &claims[claims.len() / 2];
    println!(
        "\nthe app's claim of the result, {} runs: median {median:?}, min {:?}, max {:?}",
        claims.len(),
        claims[0].0,
        claims[claims.len() - 1].0
    );
    println!("calls and time of the median claim:");
    print_rows(rows);
}

async fn last_seq(h: &Harness) -> u64 {
    let log = h
        .control(reqwest::Method::GET, "/_sim/requests", None)
        .await;
    log["value"]
        .as_array()
        .and_then(|v| v.iter().filter_map(|r| r["seq"].as_u64()).max())
        .unwrap_or(0)
}

fn print_rows(rows: &[(String, u32, Duration)]) {
    println!("  {:<20} {:>5} {:>12}", "dependency", "calls", "time");
    for (name, calls, time) in rows {
        println!("  {name:<20} {calls:>5} {:>12?}", time);
    }
}
