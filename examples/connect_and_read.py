#!/usr/bin/env python3
"""Connect a mailbox and read its mail through the typed client generated from openapi.yaml
(examples/python-client), against a running `make dev`.

    .venv/bin/python examples/connect_and_read.py [MAILBOX] [APP_USER]

What an app does, step by step (README, "Connecting, step by step"):
1. its tenant's administrator consents for the organisation (`POST /admin-consents`, then the
   administrator's browser on Microsoft's page);
2. the app starts the user's sign-in (`POST /connections`) and sends the browser to the start
   URL; the browser signs in on Microsoft's page and comes back to the app's return URL with a
   `result`;
3. the app's return page claims the result for its logged-in user (`POST /connections/claims`);
4. mail arrives (here: Microsoft, the simulator, delivers a message) and the app reads it
   (`GET /connections/{id}/messages`, then the message with its body).

The browser's part is played with plain HTTP, as `scripts/stack.py connect` does: the connector's
cookie is kept the way a browser keeps it for a loopback origin. Settings come from the stack's
`dev.env` (`.local/dev.env`, or `$STACK_DIR/dev.env`). The client raises on any status the
contract does not document.
"""
import os
import re
import sys
import time
import urllib.parse
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "python-client"))

from m365_connector_client import AuthenticatedClient  # noqa: E402
from m365_connector_client.api.connections import claim_connection, start_admin_consent, start_connection  # noqa: E402
from m365_connector_client.api.mail import get_message, list_messages  # noqa: E402
from m365_connector_client.models import (  # noqa: E402
    AdminConsentRequest,
    AdminConsentStarted,
    ClaimRequest,
    Claimed,
    ConnectionStarted,
    ListMessagesFolder,
    Message,
    MessageList,
    StartConnection,
)


def settings():
    path = Path(os.environ.get("STACK_DIR", ROOT / ".local")) / "dev.env"
    if not path.exists():
        sys.exit(f"{path} not found: start the local stack first (`make dev`)")
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def expect(answer, kind, what):
    """The typed answer, or the problem the connector answered instead."""
    if not isinstance(answer, kind):
        sys.exit(f"{what}: {answer}")
    return answer


class Browser:
    """A person's browser: no automatic redirects (each hop is seen), the connector's cookies kept
    by name and path, Microsoft's (the simulator's) page submitted as a person would."""

    def __init__(self, base_url):
        self.base = base_url
        self.http = httpx.Client(follow_redirects=False, timeout=60)
        self.cookies = {}

    def get(self, url):
        headers = {}
        path = urllib.parse.urlsplit(url).path
        if url.startswith(self.base):
            sent = [f"{n}={v}" for n, (v, p) in self.cookies.items() if path.startswith(p)]
            if sent:
                headers["Cookie"] = "; ".join(sent)
        response = self.http.get(url, headers=headers)
        if url.startswith(self.base):
            for raw in response.headers.get_list("set-cookie"):
                pair, *attributes = [p.strip() for p in raw.split(";")]
                name, _, value = pair.partition("=")
                attrs = {a.partition("=")[0].lower(): a.partition("=")[2] for a in attributes}
                if value and attrs.get("max-age") != "0":
                    self.cookies[name] = (value, attrs.get("path", "/"))
                else:
                    self.cookies.pop(name, None)
        return response

    def sign_in(self, page_url, login):
        """Microsoft's sign-in and consent page, accepted as `login`; returns where it redirects."""
        page = self.get(page_url)
        page.raise_for_status()
        flow = re.search(r'name="flow" value="([^"]*)"', page.text).group(1).replace("&amp;", "&")
        action = re.search(r'action="([^"]*)"', page.text).group(1).replace("&amp;", "&")
        back = self.http.post(action, data={"flow": flow, "login": login, "action": "accept"})
        if back.status_code != 302:
            sys.exit(f"Microsoft's page answered {back.status_code}: {back.text[:300]}")
        return back.headers["location"]

    def follow(self, url):
        """One redirect of the connector; returns where it sends the browser."""
        answer = self.get(url)
        if answer.status_code != 302:
            sys.exit(f"{url.split('?')[0]} answered {answer.status_code}: {answer.text[:300]}")
        return answer.headers["location"]


def main():
    mailbox = sys.argv[1] if len(sys.argv) > 1 else "grace@contoso.example"
    app_user = sys.argv[2] if len(sys.argv) > 2 else "example-recruiter"
    env = settings()
    api = AuthenticatedClient(base_url=env["BASE_URL"], token=env["API_KEY"], raise_on_unexpected_status=True)

    # 1. The administrator of the mailbox's organisation consents once, for everybody in it.
    domain = mailbox.split("@")[1]
    consent = expect(start_admin_consent.sync(client=api, body=AdminConsentRequest(
        tenant=domain, return_url=env["RETURN_URL"])), AdminConsentStarted, "POST /admin-consents")
    admin = Browser(env["BASE_URL"])
    landing = admin.follow(admin.sign_in(consent.consent_url, f"admin@{domain}"))
    granted = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(landing).query))
    print(f"admin consent for {domain} (tenant {consent.tenant_id}): {granted.get('admin_consent') or granted}")

    # 2. The user's sign-in: the start URL binds this browser, Microsoft's page, the callback.
    started = expect(start_connection.sync(client=api, body=StartConnection(
        user_id=app_user, return_url=env["RETURN_URL"], login_hint=mailbox)), ConnectionStarted, "POST /connections")
    browser = Browser(env["BASE_URL"])
    back = browser.follow(browser.sign_in(browser.follow(started.start_url), mailbox))
    landed = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))
    if "result" not in landed:
        sys.exit(f"the sign-in ended without a result: {landed}")

    # 3. The app's return page claims the result for the user logged in there.
    claimed = expect(claim_connection.sync(client=api, body=ClaimRequest(result=landed["result"], user_id=app_user)),
                     Claimed, "POST /connections/claims")
    connection = claimed.connection
    print(f"connected {connection.email} for {connection.user_id}: {connection.id} "
          f"({connection.status.value}, {', '.join(c.value for c in connection.capabilities)})")

    # 4. Mail arrives (Microsoft's side: the simulator delivers it and notifies the connector) ...
    subject = f"Application {int(time.time())}"
    delivered = httpx.post(f"{env['SIM_URL']}/_sim/mailboxes/{mailbox}/messages", timeout=30, json={
        "from": {"address": "candidate@example.org", "name": "A Candidate"},
        "subject": subject, "body": "Hello, I would like to apply."})
    delivered.raise_for_status()

    # ... and the app reads it, once synced.
    deadline = time.time() + 90
    while True:
        page = expect(list_messages.sync(connection.id, client=api, folder=ListMessagesFolder.INBOX, limit=20),
                      MessageList, "GET /connections/{id}/messages")
        found = [m for m in page.messages if m.subject == subject]
        if found:
            break
        if time.time() > deadline:
            sys.exit(f"{subject!r} was not synced within 90 s")
        time.sleep(1)
    message = expect(get_message.sync(connection.id, found[0].id, client=api), Message,
                     "GET /connections/{id}/messages/{message_id}")
    sender = message.from_.address if message.from_ else "?"
    print(f"read {message.subject!r} from {sender}: {message.body.content!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
