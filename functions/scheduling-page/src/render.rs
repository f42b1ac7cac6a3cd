//! The page's HTML, rendered by hand: every value from outside goes through
//! `http::escape_html`, and the one inline style and script carry the response's CSP nonce. No
//! framework and no third-party request; one response stays well under 50 KB.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lambda_http::{http::StatusCode, Body, Response};
use m365_connector::http::{self, escape_html as esc, ApiError};
use m365_connector::scheduling::links::{LinkStatus, LinkToken, OfferedSlot, PageLink};
use m365_connector::scheduling::service::OnlineMeetingState;

/// How a slot travels in a URL or a form: its start in UTC, compact.
pub const SLOT_FORMAT: &str = "%Y%m%dT%H%MZ";

pub fn slot_param(t: DateTime<Utc>) -> String {
    t.format(SLOT_FORMAT).to_string()
}

/// Zones offered in the picker (the candidate's own is added when missing). A short list keeps
/// the page small; the browser's detected zone is used whatever it is.
const ZONES: &[&str] = &[
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Halifax",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/Bogota",
    "Atlantic/Azores",
    "UTC",
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Kyiv",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Pacific/Auckland",
];

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0}\
main{max-width:44rem;margin:0 auto;padding:1rem}h1{font-size:1.5rem;margin:.5rem 0}\
h2{font-size:1.1rem;margin:1.25rem 0 .5rem}.meta{color:#3d3d3d}\
ul.slots{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}\
ul.slots a{display:inline-block;padding:.4rem .8rem;border:1px solid #0b5cad;border-radius:.3rem;\
color:#0b5cad;text-decoration:none}ul.slots a:hover,ul.slots a:focus{background:#0b5cad;color:#fff}\
a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #f0b400;outline-offset:2px}\
label{display:block;font-weight:600;margin-top:.75rem}input,select,textarea{font:inherit;padding:.35rem;\
border:1px solid #555;border-radius:.25rem}input[type=text],input[type=email],textarea{width:100%;max-width:26rem}\
button{font:inherit;margin-top:1rem;padding:.5rem 1rem;background:#0b5cad;color:#fff;border:0;\
border-radius:.3rem;cursor:pointer}.notice{background:#fff4ce;border-left:4px solid #8a6d00;padding:.5rem .75rem}\
.ok{background:#dff6dd;border-left:4px solid #107c10;padding:.5rem .75rem}.inline{display:inline}";

/// Detects the browser's zone when the URL names none, and applies a picked zone at once.
const SCRIPT: &str =
    "(function(){var u=new URL(location.href);var f=document.getElementById('tzform');\
if(!u.searchParams.get('tz')&&window.Intl){var z=Intl.DateTimeFormat().resolvedOptions().timeZone;\
if(z){u.searchParams.set('tz',z);location.replace(u.toString());return;}}\
if(f){var s=f.querySelector('select');var b=f.querySelector('button');if(b)b.hidden=true;\
s.addEventListener('change',function(){f.submit();});}})();";

/// Percent-encodes a query value.
pub fn query_value(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn document(title: &str, main: &str, nonce: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><title>{t}</title>\
<style nonce=\"{nonce}\">{STYLE}</style></head>\n<body><main>{main}</main>\
<script nonce=\"{nonce}\">{SCRIPT}</script></body></html>\n",
        t = esc(title)
    )
}

fn page(status: StatusCode, title: &str, main: &str, nonce: &str) -> Response<Body> {
    http::html(status, document(title, main, nonce), nonce)
}

fn when(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%A %-d %B %Y, %H:%M")
        .to_string()
}

fn span(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    format!(
        "{}–{} ({})",
        when(start, tz),
        end.with_timezone(&tz).format("%H:%M"),
        tz.name()
    )
}

fn header(p: &PageLink) -> String {
    let spec = &p.link.spec;
    let organiser = if p.organiser_name.is_empty() {
        esc(&p.organiser_email)
    } else {
        format!("{} ({})", esc(&p.organiser_name), esc(&p.organiser_email))
    };
    let mut out = format!(
        "<h1>{}</h1><p class=\"meta\">{} minutes · organised by {organiser}</p>",
        esc(&spec.title),
        spec.duration_minutes
    );
    if let Some(d) = &spec.description {
        out.push_str(&format!("<p>{}</p>", esc(d)));
    }
    out
}

fn zone_picker(tz: Tz, organiser: Tz) -> String {
    let mut zones: Vec<&str> = ZONES.to_vec();
    if !zones.contains(&tz.name()) {
        zones.push(tz.name());
    }
    let options: String = zones
        .iter()
        .map(|z| {
            let selected = if *z == tz.name() { " selected" } else { "" };
            format!("<option{selected}>{}</option>", esc(z))
        })
        .collect();
    format!(
        "<form method=\"get\" id=\"tzform\"><label for=\"tz\">Your time zone</label>\
<select id=\"tz\" name=\"tz\">{options}</select> <button type=\"submit\">Show times</button></form>\
<p class=\"meta\">Times are shown in <strong id=\"shown-zone\">{}</strong>. \
The organiser's time zone is {}.</p>",
        esc(tz.name()),
        esc(organiser.name())
    )
}

/// The slots grouped by day in `tz`, each a link to its booking form (or reschedule form).
fn slot_list(slots: &[OfferedSlot], tz: Tz, base: &str) -> String {
    if slots.is_empty() {
        return "<p class=\"notice\">No times are free at the moment. Please check again later \
or contact the organiser.</p>"
            .into();
    }
    let mut out = String::from("<section aria-label=\"Available times\">");
    let mut day = None;
    for s in slots {
        let local = s.start.with_timezone(&tz);
        let d = local.date_naive();
        if day != Some(d) {
            if day.is_some() {
                out.push_str("</ul>");
            }
            out.push_str(&format!(
                "<h2>{}</h2><ul class=\"slots\">",
                local.format("%A %-d %B %Y")
            ));
            day = Some(d);
        }
        out.push_str(&format!(
            "<li><a href=\"{base}?tz={}&amp;slot={}\">{}</a></li>",
            query_value(tz.name()),
            slot_param(s.start),
            local.format("%H:%M")
        ));
    }
    out.push_str("</ul></section>");
    out
}

fn link_path(token: &LinkToken, suffix: &str) -> String {
    format!("/s/{}{suffix}", token.expose())
}

pub fn slots_page(
    p: &PageLink,
    token: &LinkToken,
    slots: &[OfferedSlot],
    tz: Tz,
    notice: Option<&str>,
    nonce: &str,
) -> Response<Body> {
    let organiser = p.link.spec.zone().tz();
    let mut main = header(p);
    if let Some(n) = notice {
        main.push_str(&format!(
            "<p class=\"notice\" role=\"alert\">{}</p>",
            esc(n)
        ));
    }
    main.push_str(&zone_picker(tz, organiser));
    main.push_str(&slot_list(slots, tz, &link_path(token, "")));
    page(StatusCode::OK, &p.link.spec.title, &main, nonce)
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        esc(value)
    )
}

fn both_zones(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz, organiser: Tz) -> String {
    let mut out = format!(
        "<p id=\"chosen\"><strong>{}</strong>",
        esc(&span(start, end, tz))
    );
    if organiser != tz {
        out.push_str(&format!(
            "<br><small>{} for the organiser</small>",
            esc(&span(start, end, organiser))
        ));
    }
    out.push_str("</p>");
    out
}

pub fn details_form(
    p: &PageLink,
    token: &LinkToken,
    start: DateTime<Utc>,
    tz: Tz,
    problem: Option<&str>,
    nonce: &str,
) -> Response<Body> {
    let spec = &p.link.spec;
    let end = start + spec.duration();
    let mut main = header(p);
    main.push_str("<h2>Your details</h2>");
    main.push_str(&both_zones(start, end, tz, spec.zone().tz()));
    if let Some(why) = problem {
        main.push_str(&format!(
            "<p class=\"notice\" role=\"alert\">{}</p>",
            esc(why)
        ));
    }
    main.push_str(&format!(
        "<form method=\"post\" action=\"{action}\">{}{}{}\
<label for=\"name\">Your name</label><input type=\"text\" id=\"name\" name=\"name\" required \
autocomplete=\"name\" maxlength=\"200\" value=\"{name}\">\
<label for=\"email\">Your email</label><input type=\"email\" id=\"email\" name=\"email\" required \
autocomplete=\"email\" maxlength=\"254\" value=\"{email}\">\
<button type=\"submit\">Book this time</button></form>\
<p><a href=\"{action}?tz={tzq}\">Choose another time</a></p>",
        hidden("csrf", &token.csrf()),
        hidden("slot", &slot_param(start)),
        hidden("tz", tz.name()),
        action = link_path(token, ""),
        name = esc(spec.candidate.name.as_deref().unwrap_or("")),
        email = esc(spec.candidate.email.as_deref().unwrap_or("")),
        tzq = query_value(tz.name()),
    ));
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page(status, &spec.title, &main, nonce)
}

pub fn manage_page(
    p: &PageLink,
    token: &LinkToken,
    slots: &[OfferedSlot],
    tz: Tz,
    done: Option<&str>,
    nonce: &str,
) -> Response<Body> {
    let spec = &p.link.spec;
    let organiser = spec.zone().tz();
    let Some(b) = &p.link.booking else {
        return not_found(nonce);
    };
    let mut main = header(p);
    match done {
        Some("booked") => main.push_str("<p class=\"ok\" role=\"status\" id=\"done\">Your interview is booked. An invitation is on its way to your email.</p>"),
        Some("rescheduled") => main.push_str("<p class=\"ok\" role=\"status\" id=\"done\">Your interview was moved. An updated invitation is on its way.</p>"),
        Some("taken") => main.push_str("<p class=\"notice\" role=\"alert\">This time was just taken. Please choose another one.</p>"),
        _ => {}
    }
    main.push_str("<h2>Your interview</h2>");
    main.push_str(&both_zones(b.start, b.end, tz, organiser));
    match (&b.join_url, b.online_meeting) {
        (Some(url), _) => main.push_str(&format!(
            "<p>Join online: <a href=\"{u}\" rel=\"noreferrer\">{u}</a></p>",
            u = esc(url)
        )),
        (None, Some(OnlineMeetingState::Unavailable)) => main.push_str(
            "<p>No Teams link: the organiser cannot host online meetings; they will tell you how to join.</p>",
        ),
        _ => {}
    }
    main.push_str("<h2>Move it to another time</h2>");
    main.push_str(&zone_picker(tz, organiser));
    main.push_str(&slot_list(slots, tz, &link_path(token, "/manage")));
    main.push_str(&format!(
        "<h2>Cancel the interview</h2><form method=\"post\" action=\"{action}\">{}{}{}\
<label for=\"comment\">A message for the organiser (optional)</label>\
<textarea id=\"comment\" name=\"comment\" rows=\"3\" maxlength=\"1000\"></textarea>\
<button type=\"submit\">Cancel the interview</button></form>",
        hidden("csrf", &token.csrf()),
        hidden("action", "cancel"),
        hidden("tz", tz.name()),
        action = link_path(token, "/manage"),
    ));
    page(StatusCode::OK, &spec.title, &main, nonce)
}

pub fn reschedule_form(
    p: &PageLink,
    token: &LinkToken,
    start: DateTime<Utc>,
    tz: Tz,
    nonce: &str,
) -> Response<Body> {
    let spec = &p.link.spec;
    let mut main = header(p);
    main.push_str("<h2>Move your interview to</h2>");
    main.push_str(&both_zones(
        start,
        start + spec.duration(),
        tz,
        spec.zone().tz(),
    ));
    main.push_str(&format!(
        "<form method=\"post\" action=\"{action}\">{}{}{}{}\
<button type=\"submit\">Move the interview</button></form>\
<p><a href=\"{action}?tz={tzq}\">Keep the current time</a></p>",
        hidden("csrf", &token.csrf()),
        hidden("action", "reschedule"),
        hidden("slot", &slot_param(start)),
        hidden("tz", tz.name()),
        action = link_path(token, "/manage"),
        tzq = query_value(tz.name()),
    ));
    page(StatusCode::OK, &spec.title, &main, nonce)
}

/// A link that cannot be booked: 410 with what happened and what to do.
pub fn closed(
    p: &PageLink,
    token: &LinkToken,
    status: LinkStatus,
    tz: Tz,
    nonce: &str,
) -> Response<Body> {
    let mut main = header(p);
    let text = match status {
        LinkStatus::Booked => format!(
            "<p class=\"notice\" id=\"closed\">This link was already used to book the interview. \
<a href=\"{}?tz={}\">See or change the booking</a>.</p>",
            link_path(token, "/manage"),
            query_value(tz.name())
        ),
        LinkStatus::Expired => "<p class=\"notice\" id=\"closed\">This link has expired. Please ask the organiser for a new one.</p>".into(),
        LinkStatus::Cancelled => "<p class=\"notice\" id=\"closed\">This interview invitation was cancelled. Nothing else is needed from you.</p>".into(),
        LinkStatus::Open => "<p class=\"notice\" id=\"closed\">Nothing is booked through this link yet.</p>".into(),
    };
    main.push_str(&text);
    let code = if status == LinkStatus::Open {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::GONE
    };
    page(code, &p.link.spec.title, &main, nonce)
}

pub fn not_found(nonce: &str) -> Response<Body> {
    page(
        StatusCode::NOT_FOUND,
        "Link not found",
        "<h1>This link does not exist</h1><p>Check that you opened the whole link from your email, or ask the organiser for a new one.</p>",
        nonce,
    )
}

pub fn forbidden(nonce: &str) -> Response<Body> {
    page(
        StatusCode::FORBIDDEN,
        "Please try again",
        "<h1>Please try again</h1><p>The form expired or did not come from this page. Go back, reload the page and send it again.</p>",
        nonce,
    )
}

pub fn rate_limited(nonce: &str) -> Response<Body> {
    let mut r = page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        "<h1>Too many attempts</h1><p>Please wait a minute and try again.</p>",
        nonce,
    );
    r.headers_mut().insert(
        "retry-after",
        lambda_http::http::HeaderValue::from_static("60"),
    );
    r
}

/// Any other failure: its status as decided in `failures` (and logged there when it is a
/// fault), as a plain page without internals.
pub fn fault(e: ApiError, nonce: &str) -> Response<Body> {
    let status = e.status();
    let api = e.into_response();
    let retry = api.headers().get("retry-after").cloned();
    let (title, text) = if status.is_server_error() {
        ("Please try again shortly", "Something went wrong on our side or at Microsoft. Nothing was booked or changed. Please try again in a few minutes.")
    } else {
        (
            "This request cannot be completed",
            "Please go back to the link you were sent and try again.",
        )
    };
    let mut r = page(
        status,
        title,
        &format!("<h1>{title}</h1><p>{text}</p>"),
        nonce,
    );
    if let Some(v) = retry {
        r.headers_mut().insert("retry-after", v);
    }
    r
}
