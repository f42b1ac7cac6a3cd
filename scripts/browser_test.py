#!/usr/bin/env python3
"""The scheduling page in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`, installed by `make browser`) driven over WebDriver with Selenium, against a
running local stack (`stack.py dev`; its settings in $STACK_DIR/dev.env).

A recruiter's app creates a link through the API; the candidate's browser (in Asia/Kolkata, as
the browser reports it) opens it, switches the time zone, picks a time, fills the form and books;
the event and the invitation must then exist in the simulator's calendars; from the manage page
the candidate moves the interview. Each step is saved as a screenshot in .local/artifacts/browser/.
Exit code 0 when every check held.
"""
import datetime
import json
import os
import shutil
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

import stack

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".local" / "artifacts" / "browser"
ORGANISER = "alice@contoso.example"
INTERVIEWER = "bob@contoso.example"
ADMIN = "admin@contoso.example"
# Where the test leaves the secrets it handled for `stack.py e2e`'s log-secret check.
SECRETS_FILE = "browser-secrets.json"


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"  ok: {what}", flush=True)


def connect_organiser(browser):
    """The tenant's admin consents, then the recruiter connects their mailbox (as `make connect`)."""
    env = browser.env
    consent = browser.api_post("/admin-consents", {"tenant": "contoso.example", "return_url": env["RETURN_URL"]})
    browser.sign_in(consent["consent_url"], ADMIN)
    user = f"recruiter-{uuid.uuid4().hex[:8]}"
    started = browser.api_post("/connections", {"user_id": user, "return_url": env["RETURN_URL"],
                                                "login_hint": ORGANISER, "transfer": True})
    opened = browser.call(started["start_url"])
    landed = browser.sign_in(opened.headers["Location"], ORGANISER)
    claimed = browser.api_post("/connections/claims", {"result": landed["result"], "user_id": user}, expect=200)
    return claimed["connection"]["id"]


def reset_sim_clock(env):
    """Puts the simulator's clock back to real time: the end-to-end suite before this test moves
    it days ahead (renewals), and its id tokens would then not be valid yet for the connector."""
    with urllib.request.urlopen(f"{env['SIM_URL']}/_sim/clock", timeout=30) as r:
        sim_now = datetime.datetime.fromisoformat(json.load(r)["now"].replace("Z", "+00:00"))
    ahead = round((sim_now - datetime.datetime.now(datetime.timezone.utc)).total_seconds())
    if abs(ahead) > 1:
        body = json.dumps({"seconds": -ahead}).encode()
        request = urllib.request.Request(f"{env['SIM_URL']}/_sim/clock/advance", data=body,
                                         headers={"Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(request, timeout=30).close()
        print(f"the simulator's clock was {ahead} s ahead; put back", flush=True)


def sim_events(env, mailbox, subject):
    with urllib.request.urlopen(f"{env['SIM_URL']}/_sim/mailboxes/{mailbox}/events", timeout=30) as r:
        events = json.load(r)["value"]
    return [e for e in events if e.get("subject") == subject and not e.get("isCancelled")]


def next_week():
    today = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today + datetime.timedelta(days=7 - today.weekday())
    return monday, monday + datetime.timedelta(days=5)


def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1000,1300", "--lang=en-GB"):
        options.add_argument(arg)
    # The candidate's machine is in India: the page must detect that zone by itself.
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver",
                      env=dict(os.environ, TZ="Asia/Kolkata"))
    return webdriver.Chrome(service=service, options=options)


def main():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    started = time.time()
    browser = stack.Browser()
    env = browser.env
    reset_sim_clock(env)
    connection = connect_organiser(browser)
    subject = f"Interview {uuid.uuid4().hex[:6]}: Platform engineer"
    start, end = next_week()
    link = browser.api_post(f"/connections/{connection}/scheduling-links", {
        "title": subject, "description": "Technical round with the team.", "duration_minutes": 45,
        "window": {"start": start.isoformat(), "end": end.isoformat()}, "time_zone": "Europe/Berlin",
        "required": [INTERVIEWER], "granularity_minutes": 30,
        "candidate": {"name": "Jane Candidate"}})
    print(f"link {link['id']} created", flush=True)
    # The link's secret, for the end-to-end run's log check (it must appear in no log).
    token = urllib.parse.urlsplit(link["url"]).path.split("/s/", 1)[1]
    stack_dir = Path(os.environ.get("STACK_DIR", stack.LOCAL))
    (stack_dir / SECRETS_FILE).write_text(json.dumps([["scheduling_link_token", token]]))

    d = driver()
    wait = WebDriverWait(d, 20)
    try:
        # 1. Open the link: the script detects the browser's zone and keeps it in the URL.
        d.get(link["url"])
        wait.until(lambda d: "tz=" in d.current_url)
        shown = d.find_element(By.ID, "shown-zone").text
        check(shown == "Asia/Kolkata", f"times shown in the detected zone (shown: {shown})")
        check(d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "the page declares its language")
        d.save_screenshot(str(ARTIFACTS / "1-slots-asia-kolkata.png"))

        # 2. Switch the zone from the list (applied at once; the choice lands in the URL).
        Select(d.find_element(By.ID, "tz")).select_by_visible_text("America/New_York")
        wait.until(lambda d: "America%2FNew_York" in d.current_url)
        check(d.find_element(By.ID, "shown-zone").text == "America/New_York", "switched to New York")
        d.save_screenshot(str(ARTIFACTS / "2-slots-new-york.png"))

        # 3. Pick the first time (keyboard: focus it and press Enter).
        first = d.find_element(By.CSS_SELECTOR, "ul.slots a")
        chosen = first.text
        first.send_keys("\n")
        wait.until(lambda d: d.find_elements(By.ID, "email"))
        check(d.find_element(By.ID, "name").get_attribute("value") == "Jane Candidate", "the name is prefilled")
        check(chosen in d.find_element(By.ID, "chosen").text, f"the form names the chosen time {chosen}")

        # 4. Fill the form and book.
        d.find_element(By.ID, "email").send_keys("jane.candidate@fabrikam.example")
        d.save_screenshot(str(ARTIFACTS / "3-details-form.png"))
        d.find_element(By.CSS_SELECTOR, "form[method=post] button[type=submit]").click()
        wait.until(lambda d: "/manage" in d.current_url)
        check("Your interview is booked" in d.find_element(By.ID, "done").text, "the confirmation is shown")
        d.save_screenshot(str(ARTIFACTS / "4-booked.png"))

        organiser = sim_events(env, ORGANISER, subject)
        check(len(organiser) == 1, "one event in the organiser's calendar")
        addresses = {a["emailAddress"]["address"].lower() for a in organiser[0]["attendees"]}
        check({INTERVIEWER, "jane.candidate@fabrikam.example"} <= addresses, "interviewer and candidate invited")
        check(len(sim_events(env, INTERVIEWER, subject)) == 1, "the invitation is in the interviewer's calendar")
        before = organiser[0]["start"]["dateTime"]

        # 5. Reschedule from the manage page.
        later = d.find_elements(By.CSS_SELECTOR, "ul.slots a")[-1]
        later.click()
        wait.until(lambda d: "slot=" in d.current_url)
        d.find_element(By.CSS_SELECTOR, "form[method=post] button[type=submit]").click()
        wait.until(lambda d: "done=rescheduled" in d.current_url)
        check("was moved" in d.find_element(By.ID, "done").text, "the move is confirmed")
        d.save_screenshot(str(ARTIFACTS / "5-rescheduled.png"))
        moved = sim_events(env, INTERVIEWER, subject)
        check(len(moved) == 1 and moved[0]["start"]["dateTime"] != before, "the interviewer's copy moved")
    except Exception:
        d.save_screenshot(str(ARTIFACTS / "failure.png"))
        print(f"page at failure:\n{d.page_source.replace(token, '[token]')[:3000]}")
        raise
    finally:
        d.quit()
    print(f"browser test passed in {time.time() - started:.0f}s; screenshots in {ARTIFACTS}", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"browser test FAILED: {e}", flush=True)
        sys.exit(1)
