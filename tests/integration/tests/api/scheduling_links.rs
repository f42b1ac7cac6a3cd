//! Scheduling links against moto and the Graph simulator: the API, the public page's slots in the
//! candidate's zone across both 2026 DST changes, booking exactly once under a race of 20, two
//! links sharing an interviewer at overlapping times, pools picked fairly, reschedule and cancel.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{route_of, unique, Harness, MAILBOXES};

const ALICE: &str = "alice@contoso.example";
const BOB: &str = "bob@contoso.example";
/// Berlin, like admin (and without a Teams licence, which only matters to organisers).
const FRANK: &str = "frank@contoso.example";
const ADMIN: &str = "admin@contoso.example";

/// The page's clock: the Sunday before the first week of the links' windows.
pub(crate) fn now() -> DateTime<Utc> {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

async fn connected() -> (tokio::sync::MutexGuard<'static, ()>, Harness, String) {
    let turn = MAILBOXES.lock().await;
    let h = Harness::start().await;
    let landing = h.connect(&unique("recruiter"), ALICE).await;
    assert_eq!(landing["status"], "active", "{landing:?}");
    let id = landing["connection_id"].clone();
    (turn, h, id)
}

async fn api(h: &Harness, method: &str, path: &str, payload: Option<Value>) -> (u16, Value) {
    let response =
        crate::helpers::call::scheduling(&h.connector, h.api(method, path, &[], payload)).await;
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null),
    )
}

/// Creates a link; returns its id and its page path (`/s/{token}`).
pub(crate) async fn create_link(h: &Harness, id: &str, body: Value) -> (String, String) {
    let (status, created) = api(
        h,
        "POST",
        &format!("/connections/{id}/scheduling-links"),
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let url = url::Url::parse(created["url"].as_str().unwrap()).unwrap();
    (
        created["id"].as_str().unwrap().to_owned(),
        url.path().to_owned(),
    )
}

/// A browser's request to the public page, as API Gateway delivers it (no API key).
fn page_request(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    form: Option<&[(&str, &str)]>,
    ip: &str,
) -> lambda_http::Request {
    let (template, params) = route_of(path).expect("a page route");
    let route_key = format!("{method} {template}");
    let mut event = json!({
        "version": "2.0", "routeKey": route_key, "rawPath": path,
        "rawQueryString": serde_urlencoded::to_string(query).unwrap(),
        "headers": {"host": "api.example", "accept": "text/html"},
        "requestContext": {"accountId": "123456789012", "apiId": "abc123",
            "domainName": "api.example", "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": ip, "userAgent": "integration-tests"},
            "requestId": "r", "routeKey": route_key, "stage": "$default",
            "time": "01/Mar/2026:00:00:00 +0000", "timeEpoch": 1772323200000u64},
        "pathParameters": params,
        "isBase64Encoded": false
    });
    if !query.is_empty() {
        let map: serde_json::Map<String, Value> = query
            .iter()
            .map(|(k, v)| (k.to_string(), (*v).into()))
            .collect();
        event["queryStringParameters"] = map.into();
    }
    if let Some(form) = form {
        event["headers"]["content-type"] = "application/x-www-form-urlencoded".into();
        event["body"] = serde_urlencoded::to_string(form).unwrap().into();
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) html: String,
    location: Option<String>,
    csp: Option<String>,
}

pub(crate) async fn open(
    h: &Harness,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    form: Option<&[(&str, &str)]>,
    ip: &str,
) -> Page {
    let request = page_request(method, path, query, form, ip);
    let route = crate::helpers::route_key_of(&request);
    // Every page is checked against the published contract too (status, headers, media type).
    let response = crate::helpers::checked_response(
        &route,
        scheduling_page::handle_at(&h.connector, request, now()).await,
    );
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    Page {
        status: response.status().as_u16(),
        location: header("location"),
        csp: header("content-security-policy"),
        html: String::from_utf8(response.body().as_ref().to_vec()).unwrap(),
    }
}

/// The offered slots of a page: (UTC start as in the link, the local time shown), in order.
pub(crate) fn slots(html: &str) -> Vec<(DateTime<Utc>, String)> {
    let mut out = Vec::new();
    for piece in html.split("slot=").skip(1) {
        let raw = &piece[..14];
        let shown_at = piece.find("\">").unwrap() + 2;
        let shown = &piece[shown_at..shown_at + 5];
        let t = chrono::NaiveDateTime::parse_from_str(raw, scheduling_page::SLOT_FORMAT)
            .unwrap()
            .and_utc();
        out.push((t, shown.to_owned()));
    }
    out
}

fn csrf(html: &str) -> String {
    crate::helpers::hidden(html, "csrf").expect("a csrf field")
}

pub(crate) fn link_body(required: &[&str], duration: i64) -> Value {
    json!({"title": "Interview: Platform engineer", "description": "Technical round with the team",
        "duration_minutes": duration, "time_zone": "Europe/Berlin",
        "window": {"start": "2026-03-02T00:00:00Z", "end": "2026-03-07T00:00:00Z"},
        "required": required, "granularity_minutes": 15, "expires_at": "2027-12-31T00:00:00Z"})
}

async fn events_of(h: &Harness, owner: &str, subject: &str) -> Vec<Value> {
    let all = h
        .control(
            Method::GET,
            &format!("/_sim/mailboxes/{owner}/events"),
            None,
        )
        .await;
    all["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"] == subject && e["isCancelled"] != true)
        .cloned()
        .collect()
}

/// Opens the form of `slot` (as a click on it does) and fills it in: the fields to post.
pub(crate) async fn fill_form(
    h: &Harness,
    path: &str,
    slot: DateTime<Utc>,
    ip: &str,
) -> Vec<(&'static str, String)> {
    let slot = scheduling_page::slot_param(slot);
    let form_page = open(
        h,
        "GET",
        path,
        &[("tz", "Asia/Kolkata"), ("slot", &slot)],
        None,
        ip,
    )
    .await;
    vec![
        ("csrf", csrf(&form_page.html)),
        ("slot", slot),
        ("tz", "Asia/Kolkata".into()),
        ("name", "Jane Candidate".into()),
        ("email", "jane@fabrikam.example".into()),
    ]
}

/// Posts a filled-in form, as the page's submit button does.
pub(crate) async fn submit(
    h: &Harness,
    path: &str,
    fields: &[(&'static str, String)],
    ip: &str,
) -> Page {
    let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    open(h, "POST", path, &[], Some(&form), ip).await
}

/// Opens the form of `slot` and submits it.
pub(crate) async fn book(h: &Harness, path: &str, slot: DateTime<Utc>, ip: &str) -> Page {
    let fields = fill_form(h, path, slot, ip).await;
    submit(h, path, &fields, ip).await
}

#[tokio::test]
async fn a_link_is_created_read_and_its_page_offers_free_times_by_day_in_the_candidates_zone_safely(
) {
    let (_turn, h, id) = connected().await;
    let mut body = link_body(&[BOB], 45);
    body["title"] = json!("Interview <script>alert(1)</script>");
    body["candidate"] = json!({"name": "Jane \"JD\" Doe", "email": "jane@fabrikam.example"});
    let (link_id, path) = create_link(&h, &id, body).await;
    let (status, view) = api(
        &h,
        "GET",
        &format!("/connections/{id}/scheduling-links/{link_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "open");
    assert!(view["token_hash"].is_null(), "no credential in the view");

    let page = open(
        &h,
        "GET",
        &path,
        &[("tz", "Asia/Kolkata")],
        None,
        "198.51.100.1",
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.html.len() < 50 * 1024, "{} bytes", page.html.len());
    assert!(page.html.contains("<html lang=\"en\">"));
    assert!(page
        .html
        .contains("Interview &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.html.contains("<script>alert"));
    let csp = page.csp.unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'nonce-"),
        "{csp}"
    );
    assert!(page.html.contains("<label for=\"tz\">"));
    let offered = slots(&page.html);
    assert!(!offered.is_empty());
    for (start, shown) in &offered {
        let kolkata = (*start + Duration::minutes(330))
            .format("%H:%M")
            .to_string();
        assert_eq!(&kolkata, shown, "{start}");
    }
    // The form for a slot is prefilled from the link's candidate, escaped.
    let slot = scheduling_page::slot_param(offered[0].0);
    let form = open(
        &h,
        "GET",
        &path,
        &[("tz", "Asia/Kolkata"), ("slot", &slot)],
        None,
        "198.51.100.1",
    )
    .await;
    assert!(
        form.html.contains("value=\"Jane &quot;JD&quot; Doe\""),
        "{}",
        form.html
    );
    assert!(form.html.contains("<label for=\"email\">"));

    // A wrong token is a plain 404 page; a forged form is refused.
    let forged = format!("{}x", &path[..path.len() - 1]);
    assert_eq!(
        open(&h, "GET", &forged, &[], None, "198.51.100.1")
            .await
            .status,
        404
    );
    let bad = [
        ("csrf", "nope"),
        ("slot", slot.as_str()),
        ("name", "J"),
        ("email", "j@fabrikam.example"),
    ];
    assert_eq!(
        open(&h, "POST", &path, &[], Some(&bad), "198.51.100.1")
            .await
            .status,
        403
    );

    // PATCH while open; DELETE cancels, and the page then says so with a 410.
    let (status, patched) = api(
        &h,
        "PATCH",
        &format!("/connections/{id}/scheduling-links/{link_id}"),
        Some(json!({"title": "Interview (updated)"})),
    )
    .await;
    assert_eq!(
        (status, patched["title"].as_str()),
        (200, Some("Interview (updated)"))
    );
    let (status, _) = api(
        &h,
        "DELETE",
        &format!("/connections/{id}/scheduling-links/{link_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let gone = open(&h, "GET", &path, &[], None, "198.51.100.1").await;
    assert_eq!(gone.status, 410);
    assert!(gone.html.contains("cancelled"));
}

#[tokio::test]
async fn bad_links_are_refused_with_a_problem_naming_the_field() {
    let (_turn, h, id) = connected().await;
    let mut body = link_body(&[BOB], 45);
    body["granularity_minutes"] = json!(7);
    let (status, problem) = api(
        &h,
        "POST",
        &format!("/connections/{id}/scheduling-links"),
        Some(body),
    )
    .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (400, Some("granularity_minutes"))
    );
    let (status, _) = api(
        &h,
        "GET",
        &format!(
            "/connections/{id}/scheduling-links/{}",
            uuid::Uuid::new_v4()
        ),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn twenty_concurrent_bookings_of_one_single_use_link_create_exactly_one_event() {
    let (_turn, h, id) = connected().await;
    let mut body = link_body(&[BOB], 45);
    let subject = unique("Race interview");
    body["title"] = json!(subject);
    let (link_id, path) = create_link(&h, &id, body).await;
    let page = open(
        &h,
        "GET",
        &path,
        &[("tz", "Asia/Kolkata")],
        None,
        "198.51.100.2",
    )
    .await;
    let slot = slots(&page.html)[0].0;

    let attempts = (0..20).map(|i| {
        let (h, path) = (&h, &path);
        async move { book(h, path, slot, &format!("198.51.100.{}", 100 + i)).await }
    });
    let results = futures::future::join_all(attempts).await;
    let statuses: Vec<u16> = results.iter().map(|p| p.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [303, 409, 410].contains(s)),
        "{statuses:?}"
    );

    assert_eq!(
        events_of(&h, ALICE, &subject).await.len(),
        1,
        "exactly one event"
    );
    assert_eq!(
        events_of(&h, BOB, &subject).await.len(),
        1,
        "one invitation"
    );
    let (_, view) = api(
        &h,
        "GET",
        &format!("/connections/{id}/scheduling-links/{link_id}"),
        None,
    )
    .await;
    assert_eq!(view["status"], "booked");
    assert!(view["booking"]["event_id"].is_string(), "{view}");
    let booked: Vec<Value> = h
        .events()
        .await
        .into_iter()
        .filter(|e| {
            e["detail-type"] == "scheduling_link.booked" && e["detail"]["link_id"] == link_id
        })
        .collect();
    assert_eq!(booked.len(), 1);
    assert_eq!(booked[0]["detail"]["interviewers"], json!([BOB]));
}

#[tokio::test]
async fn two_links_sharing_an_interviewer_booked_for_overlapping_slots_at_once_let_exactly_one_succeed(
) {
    let (_turn, h, id) = connected().await;
    let subject = unique("Shared interviewer");
    let mut a = link_body(&[BOB], 60);
    a["title"] = json!(subject);
    let mut b = link_body(&[BOB, ADMIN], 30);
    b["title"] = json!(subject);
    let (_, path_a) = create_link(&h, &id, a).await;
    let (_, path_b) = create_link(&h, &id, b).await;
    let page_a = open(&h, "GET", &path_a, &[("tz", "UTC")], None, "198.51.100.3").await;
    let page_b = open(&h, "GET", &path_b, &[("tz", "UTC")], None, "198.51.100.3").await;
    let slots_b: Vec<DateTime<Utc>> = slots(&page_b.html).into_iter().map(|s| s.0).collect();
    // A one-hour slot of A and a half-hour slot of B starting 30 minutes into it.
    let (slot_a, slot_b) = slots(&page_a.html)
        .into_iter()
        .map(|s| s.0)
        .find_map(|t| {
            slots_b
                .contains(&(t + Duration::minutes(30)))
                .then_some((t, t + Duration::minutes(30)))
        })
        .expect("overlapping slots offered by both links");

    let (ra, rb) = tokio::join!(
        book(&h, &path_a, slot_a, "198.51.100.31"),
        book(&h, &path_b, slot_b, "198.51.100.32"),
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [303, 409], "exactly one wins");
    let loser = if ra.status == 409 { &ra } else { &rb };
    assert!(
        loser.html.contains("This time was just taken"),
        "{}",
        loser.html
    );
    let fresh = slots(&loser.html);
    assert!(!fresh.is_empty(), "fresh times offered");
    let (won_start, won_len) = if ra.status == 303 {
        (slot_a, 60)
    } else {
        (slot_b, 30)
    };
    for (t, _) in &fresh {
        let overlaps =
            *t < won_start + Duration::minutes(won_len) && won_start < *t + Duration::minutes(30);
        assert!(!overlaps, "the taken time is not offered again: {t}");
    }
    assert_eq!(events_of(&h, BOB, &subject).await.len(), 1);
}

#[tokio::test]
async fn a_pool_contributes_the_free_member_with_the_fewest_interviews_this_week() {
    let (_turn, h, id) = connected().await;
    let pool = |subject: &str| {
        let mut b = link_body(&[], 30);
        b["title"] = json!(subject);
        b["required"] = json!([]);
        b["pools"] = json!([{"members": [ADMIN, FRANK], "pick": 1}]);
        b
    };
    let first = unique("Pool interview");
    let (_, path) = create_link(&h, &id, pool(&first)).await;
    let page = open(&h, "GET", &path, &[("tz", "UTC")], None, "198.51.100.4").await;
    let offered = slots(&page.html);
    assert_eq!(
        book(&h, &path, offered[0].0, "198.51.100.41").await.status,
        303
    );
    let one = events_of(&h, ALICE, &first).await;
    let picked_first: Vec<String> = one[0]["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["emailAddress"]["address"]
                .as_str()
                .unwrap()
                .to_lowercase()
        })
        .filter(|a| a == ADMIN || a == FRANK)
        .collect();
    assert_eq!(picked_first.len(), 1);

    // The second booking, the same week, goes to the other member (fewer interviews).
    let second = unique("Pool interview");
    let (_, path2) = create_link(&h, &id, pool(&second)).await;
    let page2 = open(&h, "GET", &path2, &[("tz", "UTC")], None, "198.51.100.4").await;
    let later = slots(&page2.html)
        .into_iter()
        .map(|s| s.0)
        .find(|t| *t >= offered[0].0 + Duration::hours(2))
        .unwrap();
    assert_eq!(book(&h, &path2, later, "198.51.100.42").await.status, 303);
    let two = events_of(&h, ALICE, &second).await;
    let picked_second: Vec<String> = two[0]["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["emailAddress"]["address"]
                .as_str()
                .unwrap()
                .to_lowercase()
        })
        .filter(|a| a == ADMIN || a == FRANK)
        .collect();
    assert_eq!(picked_second.len(), 1);
    assert_ne!(
        picked_first, picked_second,
        "fairness spreads the interviews"
    );
}

#[tokio::test]
async fn the_candidate_reschedules_and_cancels_from_the_manage_page() {
    let (_turn, h, id) = connected().await;
    let mut body = link_body(&[BOB], 45);
    let subject = unique("Manage interview");
    body["title"] = json!(subject);
    let (link_id, path) = create_link(&h, &id, body).await;
    let page = open(
        &h,
        "GET",
        &path,
        &[("tz", "Asia/Kolkata")],
        None,
        "198.51.100.5",
    )
    .await;
    let first = slots(&page.html)[0].0;
    let booked = book(&h, &path, first, "198.51.100.51").await;
    assert_eq!(booked.status, 303);
    assert!(booked.location.as_deref().unwrap().contains("/manage?"));
    // A used link says so (410), pointing to the manage page.
    let used = open(&h, "GET", &path, &[], None, "198.51.100.5").await;
    assert_eq!(used.status, 410);

    let manage_path = format!("{path}/manage");
    let manage = open(
        &h,
        "GET",
        &manage_path,
        &[("tz", "Asia/Kolkata"), ("done", "booked")],
        None,
        "198.51.100.5",
    )
    .await;
    assert_eq!(manage.status, 200, "{}", manage.html);
    assert!(manage.html.contains("Your interview is booked"));
    let target = slots(&manage.html)
        .into_iter()
        .map(|s| s.0)
        .find(|t| *t >= first + Duration::hours(3))
        .unwrap();
    let slot = scheduling_page::slot_param(target);
    let token = csrf(&manage.html);
    let form = [
        ("csrf", token.as_str()),
        ("action", "reschedule"),
        ("slot", slot.as_str()),
        ("tz", "Asia/Kolkata"),
    ];
    let moved = open(&h, "POST", &manage_path, &[], Some(&form), "198.51.100.52").await;
    assert_eq!(moved.status, 303, "{}", moved.html);
    let events = events_of(&h, BOB, &subject).await;
    assert_eq!(events.len(), 1);
    let start = &events[0]["start"]["dateTime"].as_str().unwrap()[..16];
    assert_eq!(
        start,
        target.format("%Y-%m-%dT%H:%M").to_string(),
        "{}",
        events[0]
    );

    let form = [
        ("csrf", token.as_str()),
        ("action", "cancel"),
        ("comment", "I accepted another offer."),
        ("tz", "UTC"),
    ];
    assert_eq!(
        open(&h, "POST", &manage_path, &[], Some(&form), "198.51.100.53")
            .await
            .status,
        303
    );
    assert!(
        events_of(&h, BOB, &subject).await.is_empty(),
        "cancelled for the interviewer"
    );
    let (_, view) = api(
        &h,
        "GET",
        &format!("/connections/{id}/scheduling-links/{link_id}"),
        None,
    )
    .await;
    assert_eq!(view["status"], "cancelled");
    let kinds: Vec<String> = h
        .events()
        .await
        .into_iter()
        .filter(|e| e["detail"]["link_id"] == link_id)
        .map(|e| e["detail-type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "scheduling_link.booked",
            "scheduling_link.rescheduled",
            "scheduling_link.cancelled"
        ]
    );
}

#[tokio::test]
async fn a_window_across_both_dst_changes_shows_kolkata_times_from_berlin_and_new_york_working_hours(
) {
    let (_turn, h, id) = connected().await;
    let mut body = link_body(&[ADMIN, BOB], 45);
    body["window"] = json!({"start": "2026-03-02T00:00:00Z", "end": "2026-04-04T00:00:00Z"});
    body["granularity_minutes"] = json!(30);
    let (_, path) = create_link(&h, &id, body).await;
    let page = open(
        &h,
        "GET",
        &path,
        &[("tz", "Asia/Kolkata")],
        None,
        "198.51.100.6",
    )
    .await;
    assert_eq!(page.status, 200);
    let offered = slots(&page.html);
    // Kolkata has no DST: 05:30 ahead of UTC all year.
    for (start, shown) in &offered {
        assert_eq!(
            *shown,
            (*start + Duration::minutes(330))
                .format("%H:%M")
                .to_string()
        );
    }
    let shown_on = |day: &str| -> Vec<String> {
        offered
            .iter()
            .filter(|(t, _)| (*t + Duration::minutes(330)).format("%Y-%m-%d").to_string() == day)
            .map(|(_, s)| s.clone())
            .collect()
    };
    // Berlin 09-17 and New York 09-17 overlap, in Kolkata time:
    // before 8 March: New York 09:00 EST = 19:30 IST, Berlin 17:00 CET = 21:30 IST;
    // 8-29 March: New York 09:00 EDT = 18:30 IST, Berlin still CET, 21:30 IST;
    // from 29 March: New York 18:30 IST, Berlin 17:00 CEST = 20:30 IST.
    for (day, first, last) in [
        ("2026-03-03", "19:30", "20:30"),
        ("2026-03-10", "18:30", "20:30"),
        ("2026-03-31", "18:30", "19:30"),
    ] {
        let times = shown_on(day);
        assert_eq!(
            times.first().map(String::as_str),
            Some(first),
            "{day}: {times:?}"
        );
        assert_eq!(
            times.last().map(String::as_str),
            Some(last),
            "{day}: {times:?}"
        );
    }
    assert!(
        page.html.contains("Tuesday 3 March 2026") && page.html.contains("Tuesday 31 March 2026")
    );
    assert!(page
        .html
        .contains("The organiser's time zone is Europe/Berlin"));
}

#[tokio::test]
async fn the_page_answers_each_sample_event_as_named_with_an_html_page() {
    let h = Harness::start().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/scheduling-page");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let request =
            lambda_http::request::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let response = scheduling_page::handle(&h.connector, request).await;
        if name.contains("not-found") {
            assert_eq!(response.status(), 404, "{name}");
        }
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8",
            "{name}"
        );
        seen += 1;
    }
    assert!(seen >= 2);
}

#[tokio::test]
async fn booking_rechecks_graph_so_a_time_that_became_busy_is_refused_with_fresh_times() {
    let (_turn, h, id) = connected().await;
    let mut body = link_body(&[BOB], 45);
    let subject = unique("Recheck interview");
    body["title"] = json!(subject);
    let (_, path) = create_link(&h, &id, body).await;
    let page = open(&h, "GET", &path, &[("tz", "UTC")], None, "198.51.100.7").await;
    let slot = slots(&page.html)[0].0;
    // Bob accepts another meeting over that time after the candidate saw the page.
    let start = slot.format("%Y-%m-%dT%H:%M:%S").to_string();
    let end = (slot + Duration::minutes(30))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    h.control(
        Method::POST,
        &format!("/_sim/mailboxes/{BOB}/events"),
        Some(json!({"subject": "Something else", "showAs": "busy",
            "start": {"dateTime": start, "timeZone": "UTC"}, "end": {"dateTime": end, "timeZone": "UTC"}})),
    )
    .await;

    let refused = book(&h, &path, slot, "198.51.100.71").await;
    assert_eq!(refused.status, 409, "{}", refused.html);
    assert!(refused.html.contains("This time was just taken"));
    assert!(
        !slots(&refused.html).iter().any(|(t, _)| *t == slot),
        "not offered again"
    );
    assert!(
        events_of(&h, ALICE, &subject).await.is_empty(),
        "nothing booked"
    );
    // The link is still open for another time.
    let again = open(&h, "GET", &path, &[("tz", "UTC")], None, "198.51.100.7").await;
    assert_eq!(again.status, 200);
}

#[tokio::test]
async fn booking_attempts_past_the_per_address_limit_get_a_429_page_with_retry_after() {
    let (_turn, h, id) = connected().await;
    let (_, path) = create_link(&h, &id, link_body(&[BOB], 45)).await;
    let page = open(&h, "GET", &path, &[("tz", "UTC")], None, "198.51.100.9").await;
    // A time between two offered ones: refused as not offered, but every attempt counts.
    let off_grid = scheduling_page::slot_param(slots(&page.html)[0].0 + Duration::minutes(5));
    let form_page = open(
        &h,
        "GET",
        &path,
        &[("tz", "UTC"), ("slot", &off_grid)],
        None,
        "198.51.100.9",
    )
    .await;
    let token = csrf(&form_page.html);
    let form = [
        ("csrf", token.as_str()),
        ("slot", off_grid.as_str()),
        ("tz", "UTC"),
        ("name", "Mallory"),
        ("email", "mallory@fabrikam.example"),
    ];
    for attempt in 0..20 {
        let r = open(&h, "POST", &path, &[], Some(&form), "198.51.100.99").await;
        assert_eq!(r.status, 400, "attempt {attempt}: {}", r.html);
    }
    let limited = scheduling_page::handle_at(
        &h.connector,
        page_request("POST", &path, &[], Some(&form), "198.51.100.99"),
        now(),
    )
    .await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "60");
    // Another address is not held back.
    let other = open(&h, "POST", &path, &[], Some(&form), "198.51.100.98").await;
    assert_eq!(other.status, 400);
}

#[tokio::test]
async fn a_booking_whose_function_stopped_before_graph_answered_is_completed_once_on_the_next_visit(
) {
    use m365_connector::scheduling::links::model::BookingRecord;
    use m365_connector::store::links::{Lease, LeaseChanges};

    let (_turn, h, id) = connected().await;
    let mut body = link_body(&[BOB], 45);
    let subject = unique("Crashed booking");
    body["title"] = json!(subject);
    let (link_id, path) = create_link(&h, &id, body).await;
    let page = open(&h, "GET", &path, &[("tz", "UTC")], None, "198.51.100.10").await;
    let slot = slots(&page.html)[0].0;

    // The slot was taken (link and lease committed) and then the function died: no event yet.
    let link = h.stack.store.get_link(&link_id).await.unwrap().unwrap();
    let booking = BookingRecord {
        booking_id: uuid::Uuid::new_v4().to_string(),
        start: slot,
        end: slot + Duration::minutes(45),
        interviewers: vec![BOB.into()],
        candidate_name: "Jane Candidate".into(),
        candidate_email: "jane@fabrikam.example".into(),
        candidate_time_zone: "UTC".into(),
        event_id: None,
        join_url: None,
        online_meeting: None,
        booked_at: now() - Duration::minutes(5),
    };
    let mut taken = link.clone();
    taken.stored_status = m365_connector::scheduling::links::LinkStatus::Booked;
    taken.booking = Some(booking.clone());
    taken.version += 1;
    let leases: Vec<Lease> =
        m365_connector::scheduling::links::pools::lease_buckets(booking.start, booking.end)
            .into_iter()
            .map(|bucket| Lease {
                address: BOB.into(),
                bucket,
                booking_id: booking.booking_id.clone(),
                link_id: link_id.clone(),
                slot_start: booking.start,
                slot_end: booking.end,
            })
            .collect();
    let changes = LeaseChanges {
        take: &leases,
        release: &[],
        previous_booking: None,
    };
    h.stack
        .store
        .write_link(&taken, link.version, changes, None)
        .await
        .unwrap()
        .unwrap();
    assert!(events_of(&h, ALICE, &subject).await.is_empty());

    let manage_path = format!("{path}/manage");
    for _ in 0..2 {
        let manage = open(
            &h,
            "GET",
            &manage_path,
            &[("tz", "UTC")],
            None,
            "198.51.100.10",
        )
        .await;
        assert_eq!(manage.status, 200, "{}", manage.html);
        assert!(manage.html.contains("Your interview"));
    }
    assert_eq!(
        events_of(&h, ALICE, &subject).await.len(),
        1,
        "created once, then recorded"
    );
    let stored = h.stack.store.get_link(&link_id).await.unwrap().unwrap();
    assert!(stored.booking.unwrap().event_id.is_some());
}
