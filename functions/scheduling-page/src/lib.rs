//! The `scheduling-page` function: the public page of a scheduling link. No API key: the
//! unguessable token in the URL is the credential (only its hash is stored). Routes:
//! - `GET /s/{token}[?tz=&slot=]` - the free times grouped by day in the candidate's zone; with
//!   `slot`, the form asking for name and email
//! - `POST /s/{token}` - book (form: `csrf`, `slot`, `tz`, `name`, `email`); 303 to the manage
//!   page, or 409 "this time was just taken" with fresh times
//! - `GET /s/{token}/manage[?tz=&slot=]` - the booked interview, times to move it to, cancelling
//! - `POST /s/{token}/manage` - `action=reschedule&slot=` or `action=cancel&comment=`
//!
//! A function of its own rather than routes of `scheduling`: it is public (no API key, so no
//! API-key secret and no scope), so like `oauth` it gets its own throttling and reserved
//! concurrency, and an abuse of the page cannot starve the API. Every answer is an HTML page,
//! never a problem+json document: expired and used links get a plain 410 page.

mod render;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use lambda_http::{http::StatusCode, Body, Request, Response};
use m365_connector::app::Connector;
use m365_connector::domain::EmailAddress;
use m365_connector::edge::{Edge, Routes};
use m365_connector::http::{self, ApiError};
use m365_connector::scheduling::links::{
    service, BookingRequest, LinkError, LinkStatus, LinkToken, PageLink,
};
use serde::Deserialize;
use subtle::ConstantTimeEq;

pub use render::{slot_param, SLOT_FORMAT};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Show,
    Book,
    Manage,
    Change,
}

const ROUTES: &Routes<Route> = &[
    ("GET /s/{token}", Route::Show),
    ("POST /s/{token}", Route::Book),
    ("GET /s/{token}/manage", Route::Manage),
    ("POST /s/{token}/manage", Route::Change),
];

/// Largest form accepted (name, email, comment and a few fields).
const MAX_FORM: usize = 8 * 1024;

/// Handles one API Gateway request. Never fails: every outcome is a page.
pub async fn handle(c: &Connector, request: Request) -> Response<Body> {
    handle_at(c, request, Utc::now()).await
}

/// [`handle`] at a given time (the minimum notice, the expiry and which slots are in the past
/// all depend on it); tests pin it to days the simulator's calendars describe.
pub async fn handle_at(c: &Connector, request: Request, now: DateTime<Utc>) -> Response<Body> {
    let nonce = m365_connector::identity::pkce::random_token(16);
    let edge = match Edge::public(&request, ROUTES) {
        Ok(edge) => edge,
        Err(e) => return render::fault(ApiError::from(e), &nonce),
    };
    let response = route(c, &edge, &nonce, now).await;
    tracing::info!(
        route = m365_connector::edge::route_key(&request).unwrap_or("-"),
        status = response.status().as_u16(),
        "access"
    );
    response
}

#[derive(Deserialize)]
struct BookForm {
    csrf: String,
    slot: String,
    tz: Option<String>,
    name: String,
    email: String,
}

#[derive(Deserialize)]
struct ChangeForm {
    csrf: String,
    action: String,
    slot: Option<String>,
    tz: Option<String>,
    comment: Option<String>,
}

/// The candidate's zone: the `tz` asked for if it is one (in its modern spelling), else the
/// organiser's.
fn zone(raw: Option<&str>, organiser: Tz) -> Tz {
    raw.and_then(|z| z.parse::<Tz>().ok())
        .map(m365_connector::scheduling::zones::modern)
        .unwrap_or(organiser)
}

fn parse_slot(raw: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(raw, SLOT_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

async fn route(
    c: &Connector,
    edge: &Edge<'_, Route>,
    nonce: &str,
    now: DateTime<Utc>,
) -> Response<Body> {
    let Some(token) = edge.param("token").ok().and_then(LinkToken::parse) else {
        return render::not_found(nonce);
    };
    let page = match service::open(c, &token).await {
        Ok(page) => page,
        Err(e) => return failure(c, None, &token, None, e, nonce, now).await,
    };
    let organiser_zone = page.link.spec.zone().tz();
    match edge.route() {
        Route::Show => {
            let tz = zone(edge.query("tz"), organiser_zone);
            let status = page.link.status(now);
            if status != LinkStatus::Open {
                return render::closed(&page, &token, status, tz, nonce);
            }
            if let Some(slot) = edge.query("slot").and_then(parse_slot) {
                return render::details_form(&page, &token, slot, tz, None, nonce);
            }
            match service::offered_slots(c, &page.link, None, now).await {
                Ok(slots) => render::slots_page(&page, &token, &slots, tz, None, nonce),
                Err(e) => failure(c, Some(&page), &token, Some(tz), e, nonce, now).await,
            }
        }
        Route::Book => {
            let form: BookForm = match edge.form(MAX_FORM) {
                Ok(f) => f,
                Err(e) => return render::fault(e.into(), nonce),
            };
            let tz = zone(form.tz.as_deref(), organiser_zone);
            if !csrf_ok(edge, &token, &form.csrf) {
                return render::forbidden(nonce);
            }
            let Some(start) = parse_slot(&form.slot) else {
                return render::fault(ApiError::bad_request("slot", "not a time"), nonce);
            };
            let name = form.name.trim();
            let email = EmailAddress::parse("email", &form.email);
            let (name, email) = match (name.is_empty() || name.chars().count() > 200, email) {
                (false, Ok(email)) => (name.to_owned(), email),
                _ => {
                    let why = "Please give your name and a valid email address.";
                    return render::details_form(&page, &token, start, tz, Some(why), nonce);
                }
            };
            let request = BookingRequest {
                start,
                name,
                email,
                time_zone: tz.name().to_owned(),
            };
            match service::book(c, &page, &request, edge.source_ip(), now).await {
                Ok(_) => http::see_other(&manage_location(&token, tz, "booked")),
                Err(e) => failure(c, Some(&page), &token, Some(tz), e, nonce, now).await,
            }
        }
        Route::Manage => {
            let tz = zone(edge.query("tz"), organiser_zone);
            let page = match service::ensure_event(c, page, now).await {
                Ok(page) => page,
                Err(e) => return failure(c, None, &token, Some(tz), e, nonce, now).await,
            };
            if page.link.booking.is_none() || page.link.stored_status != LinkStatus::Booked {
                return render::closed(&page, &token, page.link.status(now), tz, nonce);
            }
            if let Some(slot) = edge.query("slot").and_then(parse_slot) {
                return render::reschedule_form(&page, &token, slot, tz, nonce);
            }
            let own = page.link.booking.as_ref();
            match service::offered_slots(c, &page.link, own, now).await {
                Ok(slots) => {
                    render::manage_page(&page, &token, &slots, tz, edge.query("done"), nonce)
                }
                Err(e) => failure(c, Some(&page), &token, Some(tz), e, nonce, now).await,
            }
        }
        Route::Change => {
            let form: ChangeForm = match edge.form(MAX_FORM) {
                Ok(f) => f,
                Err(e) => return render::fault(e.into(), nonce),
            };
            let tz = zone(form.tz.as_deref(), organiser_zone);
            if !csrf_ok(edge, &token, &form.csrf) {
                return render::forbidden(nonce);
            }
            let result = match (
                form.action.as_str(),
                form.slot.as_deref().and_then(parse_slot),
            ) {
                ("reschedule", Some(start)) => {
                    service::reschedule(c, &page, start, edge.source_ip(), now)
                        .await
                        .map(|_| "rescheduled")
                }
                ("cancel", _) => {
                    let comment = form.comment.as_deref().unwrap_or("").trim();
                    let comment = if comment.is_empty() {
                        "The candidate cancelled the interview."
                    } else {
                        comment
                    };
                    let comment: String = comment.chars().take(1000).collect();
                    service::cancel(c, &page, &comment, now)
                        .await
                        .map(|_| "cancelled")
                }
                _ => {
                    return render::fault(ApiError::bad_request("action", "unknown action"), nonce)
                }
            };
            match result {
                Ok(done) => http::see_other(&manage_location(&token, tz, done)),
                Err(e) => failure(c, Some(&page), &token, Some(tz), e, nonce, now).await,
            }
        }
    }
}

/// The manage page's location relative to `/s/{token}` and `/s/{token}/manage` alike.
fn manage_location(token: &LinkToken, tz: Tz, done: &str) -> String {
    format!(
        "/s/{}/manage?tz={}&done={done}",
        token.expose(),
        render::query_value(tz.name())
    )
}

/// The form's CSRF token must be this link's, and a browser that says the post came from
/// another site is refused outright.
fn csrf_ok(edge: &Edge<'_, Route>, token: &LinkToken, submitted: &str) -> bool {
    let cross_site = edge
        .header("sec-fetch-site")
        .ok()
        .flatten()
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"));
    !cross_site && bool::from(token.csrf().as_bytes().ct_eq(submitted.as_bytes()))
}

/// The page for a failed step: what the candidate can do next, never an error dump.
async fn failure(
    c: &Connector,
    page: Option<&PageLink>,
    token: &LinkToken,
    tz: Option<Tz>,
    e: LinkError,
    nonce: &str,
    now: DateTime<Utc>,
) -> Response<Body> {
    match (e, page) {
        (LinkError::NotFound, _) => render::not_found(nonce),
        (LinkError::NotOpen(status), Some(page)) => {
            let tz = tz.unwrap_or(page.link.spec.zone().tz());
            render::closed(page, token, status, tz, nonce)
        }
        (e @ (LinkError::SlotTaken | LinkError::SlotNotOffered), Some(page)) => {
            let tz = tz.unwrap_or(page.link.spec.zone().tz());
            // Fresh times, read again (the one just taken is no longer among them).
            let own = page
                .link
                .booking
                .as_ref()
                .filter(|_| page.link.stored_status == LinkStatus::Booked);
            let slots = match service::offered_slots(c, &page.link, own, now).await {
                Ok(slots) => slots,
                Err(e) => return render::fault(e.into(), nonce),
            };
            let (status, notice) = match e {
                LinkError::SlotTaken => (
                    StatusCode::CONFLICT,
                    "This time was just taken. Please choose another one.",
                ),
                _ => (
                    StatusCode::BAD_REQUEST,
                    "That time is not available. Please choose one of these.",
                ),
            };
            let mut response = if own.is_some() {
                render::manage_page(page, token, &slots, tz, Some("taken"), nonce)
            } else {
                render::slots_page(page, token, &slots, tz, Some(notice), nonce)
            };
            *response.status_mut() = status;
            response
        }
        (LinkError::RateLimited, _) => render::rate_limited(nonce),
        (e, _) => render::fault(e.into(), nonce),
    }
}
