#!/usr/bin/env python3
"""What the connector costs to run per 1,000 mailboxes a month, from the calls the benchmarks count
(`make cost`; prints the Markdown table that the README's Performance section carries).

    cost.py [--mailboxes N] [--json PATH]

Inputs, each stated:
- WORKLOAD below: what 1,000 mailboxes do in a month.
- Calls per unit of work (a callback, a send's accept, a webhook POST, a sync job, ...): from
  `.local/bench/calls/<unit>.json` when a benchmark run wrote it, else from the committed
  `scripts/cost-calls.json` (the figures of the README's benchmark tables; entries read from the
  code path are marked estimated). A change that adds a call shows in the next benchmark's file
  and so in this table.
- Lambda: each function's MemorySize from template.yaml; per invocation its CPU time from the
  cold-start benchmark (`.local/bench/cold-start.json`, `make bench-cold-start`) when present, and
  LATENCY_MS below for the time it waits on each call; each cold start adds its init (billed since
  2025-08-01 for every runtime).
- PRICES below: us-east-1, with their source and the date they were read.
"""
import json
import math
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CALLS = ROOT / "scripts" / "cost-calls.json"
BENCH_CALLS = ROOT / ".local" / "bench" / "calls"
COLD_START = ROOT / ".local" / "bench" / "cold-start.json"

DAYS = 30
# What one mailbox does (per day unless said otherwise).
WORKLOAD = {
    "inbound_per_day": 50,  # mails received: a Graph notification and a sync job each
    "sent_per_day": 10,  # mails sent through the API: accept, worker, and its Sent Items sync
    "bookings_per_week": 2,  # meetings booked, each after one free/busy query
    "free_busy_per_booking": 1,
    # Changes in the mailbox's calendar (invitations, answers, moves): a notification and a sync
    # job each, whose calendarView/delta round finds the change.
    "calendar_changes_per_day": 6,
    # Scheduling links sent to candidates: created through the API, the public page opened
    # (slots, then the chosen slot's form), booked once.
    "scheduling_links_per_week": 2,
    "link_page_views_per_link": 3,
    "connects_per_month": 0.05,  # sign-ins (new mailboxes, reconnects): callback + claim
    # Graph delivers one notification per POST for a quiet mailbox; busier ones are batched.
    "notifications_per_post": 1,
    # The renewal sweep (rate(30 minutes)): its renew and catch-up jobs scale with the mailboxes.
    "sweeps_per_day": 48,
    # Cold starts per function per day (sandboxes recycled or added under load).
    "cold_starts_per_function_per_day": 24,
}
# Time a function waits on each call, in ms (single-digit DynamoDB, SQS and EventBridge in-region;
# Graph and the identity platform are slower): an assumption, stated, not measured here.
LATENCY_MS = {"dynamodb": 6, "sqs": 10, "eventbridge": 12, "s3": 20, "secretsmanager": 15, "graph": 150}
# DynamoDB read units per item read: 1 = strongly consistent up to 4 KB (0.5 if eventually
# consistent); write units per item written (up to 1 KB).
RRU_PER_ITEM = 1.0
WRU_PER_ITEM = 1.0
# The API-key secret is cached API_KEYS_CACHE_SECONDS (5 s, template.yaml's default): a request
# finding it older re-reads it.
API_KEYS_CACHE_SECONDS = 5
# us-east-1 list prices, read 2026-11-30 from the AWS pricing pages (and cross-checked with
# third-party summaries of them): https://aws.amazon.com/lambda/pricing/,
# https://aws.amazon.com/dynamodb/pricing/on-demand/, https://aws.amazon.com/sqs/pricing/,
# https://aws.amazon.com/eventbridge/pricing/, https://aws.amazon.com/secrets-manager/pricing/,
# https://aws.amazon.com/api-gateway/pricing/, https://aws.amazon.com/s3/pricing/.
PRICES = {
    "lambda_gb_s": 0.0000133334,  # arm64, first 7.5 billion GB-s a month
    "lambda_request": 0.20 / 1e6,
    "dynamodb_wru": 0.625 / 1e6,  # on-demand write request unit
    "dynamodb_rru": 0.125 / 1e6,  # on-demand read request unit
    "sqs_fifo_request": 0.50 / 1e6,  # per 64 KB chunk of a request
    "eventbridge_event": 1.00 / 1e6,  # custom events, per 64 KB chunk
    "secrets_call": 0.05 / 10_000,
    "secret_month": 0.40,
    "apigw_http_request": 1.00 / 1e6,  # HTTP API, first 300 million a month
    "s3_put": 0.005 / 1000,  # PUT, COPY, POST, LIST
    "s3_get": 0.0004 / 1000,  # GET and the rest; DELETE is free
}
SECRETS = 3  # ApiKeysSecret, TokenKeySecret, MicrosoftAppSecret
# Secrets a fresh sandbox reads before its first answer (the app's token key and client secret,
# or the API keys): the webhook checks clientState hashes and the docs serve a file.
SECRETS_READ_AT_COLD_START = {"graph-webhook": 0, "docs": 0}
SQS_QUEUES = 2  # SyncQueue, SendQueue (FIFO), each polled by an event source mapping
# An SQS event source mapping keeps (at least) 5 pollers long-polling (20 s) each queue.
ESM_POLLS_PER_QUEUE_MONTH = 5 * 3 * 60 * 24 * DAYS

DYNAMODB_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


def load_units():
    units = json.loads(CALLS.read_text())
    units.pop("_comment", None)
    for name in units:
        fresh = BENCH_CALLS / f"{name}.json"
        if fresh.exists():
            measured = json.loads(fresh.read_text())
            units[name] = dict(units[name], **measured, estimated=False)
    return units


def memory_sizes():
    """MemorySize of each function's binary, from template.yaml (Globals, then the function)."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)
    default = template["Globals"]["Function"].get("MemorySize", 128)
    sizes = {}
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            binary = resource["Metadata"]["BuildProperties"]["Binary"]
            sizes[binary] = int((resource.get("Properties") or {}).get("MemorySize", default))
    return sizes


def cold_start_figures():
    if not COLD_START.exists():
        return {}
    return {row["function"]: row for row in json.loads(COLD_START.read_text())["functions"]}


def monthly_units(mailboxes):
    w = WORKLOAD
    per_day = {
        "webhook_post": (w["inbound_per_day"] + w["sent_per_day"] + w["calendar_changes_per_day"])
        / w["notifications_per_post"],
        "sync_job_one_message": w["inbound_per_day"] + w["sent_per_day"],
        "sync_job_calendar_change": w["calendar_changes_per_day"],
        "send_accept": w["sent_per_day"],
        "send_worker": w["sent_per_day"],
        "free_busy": w["bookings_per_week"] * w["free_busy_per_booking"] / 7,
        "booking": w["bookings_per_week"] / 7,
        "link_create": w["scheduling_links_per_week"] / 7,
        "link_page_view": w["scheduling_links_per_week"] * w["link_page_views_per_link"] / 7,
        "link_booking": w["scheduling_links_per_week"] / 7,
        "callback": w["connects_per_month"] / DAYS,
        "claim": w["connects_per_month"] / DAYS,
    }
    counts = {unit: n * DAYS * mailboxes for unit, n in per_day.items()}
    return counts


def compute(mailboxes):
    units = load_units()
    counts = monthly_units(mailboxes)
    sweep = units["renewal_sweep_per_10000"]
    sweeps = WORKLOAD["sweeps_per_day"] * DAYS
    counts["renewal_job"] = sweeps * sweep["renew_jobs"] * mailboxes / 10_000
    counts["sync_job_nothing_new"] = sweeps * sweep["catch_up_jobs"] * mailboxes / 10_000
    # The sweep is one invocation per run whatever the mailboxes: charge it whole.
    counts["renewal_sweep_per_10000"] = sweeps * max(1.0, mailboxes / 10_000)
    sweep_scale = mailboxes / 10_000 / max(1.0, mailboxes / 10_000)

    memory = memory_sizes()
    figures = cold_start_figures()
    lines = {k: 0.0 for k in ("gb_s", "invocations", "rru", "wru", "sqs", "events", "secrets",
                              "apigw", "s3_put", "s3_get")}
    per_unit = []
    api_key_requests = 0.0
    for unit, n in counts.items():
        u = units[unit]
        scale = sweep_scale if unit == "renewal_sweep_per_10000" else 1.0
        wait_ms = u.get("graph_rounds", u.get("graph_calls", 0)) * LATENCY_MS["graph"]
        rru = wru = sqs = events = s3_put = s3_get = secrets = 0.0
        for service, ops in u["calls"].items():
            for op, c in ops.items():
                calls, items = c["calls"] * scale, c["items"] * scale
                wait_ms += calls * LATENCY_MS.get(service, 10)
                if service == "dynamodb":
                    if op.split("(")[0] in DYNAMODB_READS:
                        rru += items * RRU_PER_ITEM
                    else:
                        wru += items * WRU_PER_ITEM
                elif service == "sqs":
                    sqs += calls
                elif service == "eventbridge":
                    events += items
                elif service == "s3":
                    if op.startswith("Delete"):
                        pass
                    elif op.startswith(("Put", "List", "Copy", "Post")):
                        s3_put += calls
                    else:
                        s3_get += calls
                elif service == "secretsmanager":
                    secrets += calls
        if u.get("sqs_job"):
            sqs += 2  # the event source mapping's ReceiveMessage and DeleteMessage for the job
        function = u["lambda"]
        mb = memory.get(function, 128)
        cpu_ms = (figures.get(function) or {}).get("warm_invocation_cpu_ms_median", 5.0)
        duration_ms = math.ceil(wait_ms + cpu_ms * 1769 / mb)
        lines["gb_s"] += n * duration_ms / 1000 * mb / 1024
        lines["invocations"] += n
        lines["rru"] += n * rru
        lines["wru"] += n * wru
        lines["sqs"] += n * sqs
        lines["events"] += n * events
        lines["s3_put"] += n * s3_put
        lines["s3_get"] += n * s3_get
        lines["secrets"] += n * secrets
        if u.get("api_request"):
            lines["apigw"] += n
        if u.get("api_key"):
            api_key_requests += n
        per_unit.append((unit, n, function, duration_ms, u.get("estimated", False), u["source"]))

    # Cold starts: the init of each, billed, and its first reads of the secrets it uses.
    cold = WORKLOAD["cold_starts_per_function_per_day"] * DAYS
    for function, mb in memory.items():
        init_ms = (figures.get(function) or {}).get("init_ms_median", 20.0) * 1769 / mb
        lines["gb_s"] += cold * math.ceil(init_ms) / 1000 * mb / 1024
        lines["secrets"] += cold * SECRETS_READ_AT_COLD_START.get(function, 2)
    # The API-key secret, re-read by a request that finds the cache older than its TTL: about
    # 1 / (1 + rate x TTL) of the requests (rate per second over the month, one warm sandbox).
    rate = api_key_requests / (DAYS * 86400)
    lines["secrets"] += api_key_requests / (1 + rate * API_KEYS_CACHE_SECONDS)

    p = PRICES
    rows = [
        ("Lambda compute", f"{lines['gb_s']:,.0f} GB-s", lines["gb_s"] * p["lambda_gb_s"]),
        ("Lambda requests", f"{lines['invocations']:,.0f}", lines["invocations"] * p["lambda_request"]),
        ("DynamoDB writes (on-demand)", f"{lines['wru']:,.0f} WRU", lines["wru"] * p["dynamodb_wru"]),
        ("DynamoDB reads (on-demand)", f"{lines['rru']:,.0f} RRU", lines["rru"] * p["dynamodb_rru"]),
        ("SQS (FIFO) requests", f"{lines['sqs']:,.0f}", lines["sqs"] * p["sqs_fifo_request"]),
        ("EventBridge custom events", f"{lines['events']:,.0f}", lines["events"] * p["eventbridge_event"]),
        ("Secrets Manager API calls", f"{lines['secrets']:,.0f}", lines["secrets"] * p["secrets_call"]),
        ("API Gateway HTTP API requests", f"{lines['apigw']:,.0f}", lines["apigw"] * p["apigw_http_request"]),
        ("S3 requests (PUT / GET)", f"{lines['s3_put']:,.0f} / {lines['s3_get']:,.0f}",
         lines["s3_put"] * p["s3_put"] + lines["s3_get"] * p["s3_get"]),
    ]
    fixed = [
        ("Secrets Manager secrets", f"{SECRETS} secrets", SECRETS * p["secret_month"]),
        ("SQS event source mapping polls", f"{SQS_QUEUES * ESM_POLLS_PER_QUEUE_MONTH:,.0f}",
         SQS_QUEUES * ESM_POLLS_PER_QUEUE_MONTH * p["sqs_fifo_request"]),
    ]
    return rows, fixed, per_unit, counts


def main():
    args = sys.argv[1:]
    mailboxes = int(args[args.index("--mailboxes") + 1]) if "--mailboxes" in args else 1000
    rows, fixed, per_unit, counts = compute(mailboxes)
    total = sum(r[2] for r in rows)
    print(f"Cost per month for {mailboxes:,} mailboxes (us-east-1 list prices read 2026-11-30; "
          f"free tiers not deducted)\n")
    print("| item | quantity | USD / month |\n|---|---|---|")
    for name, quantity, usd in rows:
        print(f"| {name} | {quantity} | {usd:,.2f} |")
    print(f"| **per {mailboxes:,} mailboxes** | | **{total:,.2f}** |")
    for name, quantity, usd in fixed:
        print(f"| {name} (per stack, any number of mailboxes) | {quantity} | {usd:,.2f} |")
    print("\nWorkload per mailbox: " + ", ".join(f"{k} = {v}" for k, v in WORKLOAD.items()))
    print("\n| unit of work | per month | function | billed ms each | calls | from |\n|---|---|---|---|---|---|")
    for unit, n, function, ms, estimated, source in per_unit:
        print(f"| {unit} | {n:,.0f} | {function} | {ms} | {'estimated' if estimated else 'measured'} | {source} |")
    if "--json" in args:
        Path(args[args.index("--json") + 1]).write_text(json.dumps(
            {"mailboxes": mailboxes, "rows": rows, "fixed": fixed, "total_usd": total}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
