"""Finds known secrets in files: the check that ends `make test`, run over every file the
end-to-end stack wrote and the suite's own output, with every secret the run used (the dev API
key, the token-encryption key, the simulator's client secret, and every code, token, upload URL
and clientState the simulator issued or was handed: `GET /_sim/issued-secrets`).

A finding names the file, the line and the kind of secret, and shows only the first characters of
the secret: the report itself must not leak what it found.
"""
import json
import urllib.parse
from pathlib import Path

# Shorter values would match by chance (and no secret of the run is this short).
MIN_LENGTH = 12
SHOWN = 4


def spellings(value):
    """The forms a secret can take in a log line: as is, URL-encoded (a query string, a form
    body), JSON-escaped (a JSON log line), and JSON-escaped inside JSON (a logged event body)."""
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value, safe="")}
    escaped = json.dumps(value)[1:-1]
    forms.add(escaped)
    forms.add(json.dumps(escaped)[1:-1])
    return {f for f in forms if len(f) >= MIN_LENGTH}


def masked(value):
    return value[:SHOWN] + "..." if len(value) > SHOWN else "..."


def scan(paths, secrets):
    """Every occurrence of a secret in `paths`: a list of (path, line number, kind, masked value).
    `secrets` is an iterable of (kind, value); values shorter than MIN_LENGTH are skipped."""
    wanted = {}
    for kind, value in secrets:
        if not value or len(value) < MIN_LENGTH:
            continue
        for form in spellings(value):
            wanted.setdefault(form, (kind, value))
    findings = []
    for path in paths:
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            continue
        for form, (kind, value) in wanted.items():
            start = 0
            while (at := text.find(form, start)) != -1:
                findings.append((str(path), text.count("\n", 0, at) + 1, kind, masked(value)))
                start = at + len(form)
    return sorted(set(findings))


def files_under(root, skip=()):
    """Every file below `root` except those named in `skip` (settings files, not logs)."""
    return sorted(p for p in Path(root).rglob("*") if p.is_file() and p.name not in skip)


def report(findings, scanned):
    """A printable verdict."""
    if not findings:
        return f"no secret of the run found in {scanned} files"
    kinds = {}
    for _, _, kind, _ in findings:
        kinds[kind] = kinds.get(kind, 0) + 1
    lines = [f"{len(findings)} secret(s) of the run found in logs ("
             + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) + "):"]
    lines += [f"  {path}:{line}: {kind} ({value})" for path, line, kind, value in findings[:50]]
    if len(findings) > 50:
        lines.append(f"  ... and {len(findings) - 50} more")
    return "\n".join(lines)
