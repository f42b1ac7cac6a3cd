"""The log-secret scanner finds a planted secret in every form a log can hold it, and nothing
else. Run by `make test` (`python -m unittest discover -s scripts`)."""
import json
import tempfile
import unittest
import urllib.parse
from pathlib import Path

import secret_scan

API_KEY = "m365c_Zk3v9Qx-planted_only_in_this_test"
TOKEN = "EwB+pl/anted=token"


class ScanTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def test_a_clean_log_has_no_finding(self):
        self.write("logs/connections.log", "INFO request served status=200\n")
        self.assertEqual(secret_scan.scan(secret_scan.files_under(self.root), [("api_key", API_KEY)]), [])

    def test_a_planted_secret_is_found_with_its_file_line_and_kind(self):
        path = self.write("logs/oauth.log", "first line\nTRACE raw event Authorization: Bearer " + API_KEY + "\n")
        findings = secret_scan.scan(secret_scan.files_under(self.root), [("api_key", API_KEY)])
        self.assertEqual(findings, [(str(path), 2, "api_key", "m365...")])

    def test_url_encoded_and_json_escaped_forms_are_found(self):
        self.write("a.log", "GET /callback?code=" + urllib.parse.quote(TOKEN, safe="") + "\n")
        self.write("b.log", json.dumps({"body": json.dumps({"token": TOKEN})}) + "\n")
        self.write("c.log", "form body token=" + urllib.parse.quote_plus(TOKEN, safe="") + "\n")
        findings = secret_scan.scan(secret_scan.files_under(self.root), [("access_token", TOKEN)])
        self.assertEqual(sorted(Path(f[0]).name for f in findings), ["a.log", "b.log", "c.log"])

    def test_the_report_never_prints_the_secret(self):
        self.write("logs/graph-webhook.log", API_KEY)
        findings = secret_scan.scan(secret_scan.files_under(self.root), [("api_key", API_KEY)])
        text = secret_scan.report(findings, 1)
        self.assertIn("api_key", text)
        self.assertNotIn(API_KEY, text)
        self.assertNotIn(API_KEY[:12], text)

    def test_settings_files_can_be_left_out_and_short_values_are_ignored(self):
        self.write("dev.env", "API_KEY=" + API_KEY)
        self.write("logs/x.log", "status 200 ok")
        files = secret_scan.files_under(self.root, skip={"dev.env"})
        self.assertEqual([p.name for p in files], ["x.log"])
        self.assertEqual(secret_scan.scan(files, [("short", "200"), ("none", "")]), [])


if __name__ == "__main__":
    unittest.main()
