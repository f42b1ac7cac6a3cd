#!/usr/bin/env python3
"""The local stack: a moto server provisioned from template.yaml, the Graph simulator, and every
function of template.yaml behind its own trigger, as deployed.

    stack.py dev    run everything until Ctrl-C; write .local/dev.env
                    every function's binary behind a local Lambda Runtime API;
                    HttpApi events: a local API Gateway (payload 2.0) on $API_PORT, routes from
                    the template; SQS events: an event source mapping per queue;
                    Schedule events: a timer on the template's rate;
                    EventBridge: a rule on each bus into a local queue, drained to events.jsonl;
                    $CONTROL_PORT: events, queue depths, schedules fired on demand
    stack.py fire NAME [TIME]   fire a scheduled function of the running stack now
    stack.py events             follow the events the running stack received
    stack.py connect ADDRESS [USER]   play the browser through the connect flow
    stack.py admin-consent ADMIN      play a tenant admin granting consent for the tenant
    stack.py test   every check, then the end-to-end suite against `stack.py dev` over HTTP
    stack.py e2e    only the end-to-end suite (starts and stops its own `stack.py dev`), then on the
                    same stack: /docs in headless Chromium, the generated client's example, and the
                    Schemathesis conformance run of openapi.yaml
    stack.py client regenerate examples/python-client from openapi.yaml
    stack.py env    provision a moto server already running at $AWS_ENDPOINT_URL and print the env
    stack.py serve NAME  a private moto + simulator until killed; exports in .local/NAME.env

Resources are created from template.yaml itself (tables, queues, buses, buckets, secrets), and the
functions' environment is template.yaml's Globals with every !Ref resolved to the local resource,
so there is no second hand-kept copy that can drift.
"""
import base64
import collections
import hashlib
import html
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import yaml

import secret_scan

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
VENV_BIN = ROOT / ".venv" / "bin"
REGION = "us-east-1"
# A fixed API key that only the local stack accepts, so the sample events in events/ can carry it.
EVENTS_API_KEY = "local-events-key-not-for-production"
# Every API-key scope, spelled as shared/src/auth.rs's `Scope` spells them: the local keys may call
# every route (tests/integration/tests/api/scopes.rs checks that these are all of them).
ALL_SCOPES = ["connections:read", "connections:write", "mail:read", "mail:send",
              "calendar:read", "calendar:write", "admin"]


# ---------------------------------------------------------------- template.yaml
class _Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value

    def __repr__(self):
        return f"{self.tag} {self.value!r}"


class _Loader(yaml.SafeLoader):
    pass


def _construct_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return _Tag("!" + suffix, value)


_Loader.add_multi_constructor("!", _construct_tag)


def load_template(path=ROOT / "template.yaml"):
    with open(path) as f:
        return yaml.load(f, Loader=_Loader)


class Resolver:
    """Resolves !Ref / !GetAtt / !Sub against locally created resources."""

    def __init__(self, template):
        self.template = template
        self.refs = {}  # logical id -> Ref value
        self.atts = {}  # (logical id, attribute) -> value
        for name, p in (template.get("Parameters") or {}).items():
            self.refs[name] = str(p.get("Default", ""))
        self.refs["AWS::Region"] = REGION
        self.refs["AWS::URLSuffix"] = "amazonaws.com"
        self.refs["AWS::StackName"] = "local"

    def resolve(self, value):
        if isinstance(value, _Tag):
            if value.tag == "!Ref":
                return self.refs[value.value]
            if value.tag == "!GetAtt":
                name, att = value.value.split(".", 1) if isinstance(value.value, str) else value.value
                return self.atts[(name, att)]
            if value.tag == "!Sub":
                text = value.value
                for key in list(self.refs):
                    text = text.replace("${%s}" % key, str(self.refs[key]))
                for (name, att), v in self.atts.items():
                    text = text.replace("${%s.%s}" % (name, att), str(v))
                return text
            raise ValueError(f"unsupported intrinsic {value.tag}")
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value


def provision(endpoint, prefix, sim=None, public_base_url=None, return_origins=(), event_sink=False):
    """Creates every stateful resource of template.yaml on the moto server at `endpoint`.
    With `event_sink`, also a queue `LocalEventSink` that a rule on each event bus feeds with every
    event. Returns (function environment, dev API key, the resolver of local resources)."""
    template = load_template()
    resources = template["Resources"]
    r = Resolver(template)
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION)
    client = lambda service: session.client(service, endpoint_url=endpoint)

    def of_type(kind):
        return [(n, d.get("Properties") or {}) for n, d in resources.items() if d["Type"] == kind]

    ddb = client("dynamodb")
    for name, props in of_type("AWS::DynamoDB::Table"):
        table = f"{prefix}-{name}"
        args = dict(
            TableName=table,
            BillingMode=props["BillingMode"],
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
        )
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        ddb.create_table(**args)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=ttl)
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr:
            ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification=pitr)
        r.refs[name] = table
        r.atts[(name, "Arn")] = ddb.describe_table(TableName=table)["Table"]["TableArn"]

    sqs = client("sqs")
    # Dead-letter queues first: other queues' redrive policies point at them.
    queues = sorted(of_type("AWS::SQS::Queue"), key=lambda q: "RedrivePolicy" in q[1])
    for name, props in queues:
        fifo = bool(props.get("FifoQueue"))
        qname = f"{prefix}-{name}" + (".fifo" if fifo else "")
        attrs = {}
        for key in ("FifoQueue", "ContentBasedDeduplication", "VisibilityTimeout", "MessageRetentionPeriod",
                    "DelaySeconds", "ReceiveMessageWaitTimeSeconds"):
            if key in props:
                value = r.resolve(props[key])
                attrs[key] = str(value).lower() if isinstance(value, bool) else str(value)
        if "RedrivePolicy" in props:
            attrs["RedrivePolicy"] = json.dumps(r.resolve(props["RedrivePolicy"]))
        url = sqs.create_queue(QueueName=qname, Attributes=attrs)["QueueUrl"]
        r.refs[name] = url
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        r.atts[(name, "Arn")] = arn
        r.atts[(name, "QueueName")] = qname

    events = client("events")
    for name, props in of_type("AWS::Events::EventBus"):
        bus = f"{prefix}-{name}"
        arn = events.create_event_bus(Name=bus)["EventBusArn"]
        r.refs[name] = bus
        r.atts[(name, "Arn")] = arn
        r.atts[(name, "Name")] = bus
        if event_sink:
            if "LocalEventSink" not in r.refs:
                url = sqs.create_queue(QueueName=f"{prefix}-LocalEventSink")["QueueUrl"]
                r.refs["LocalEventSink"] = url
                r.atts[("LocalEventSink", "Arn")] = sqs.get_queue_attributes(
                    QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            # Every event on the bus, whatever its source.
            events.put_rule(Name="local-event-sink", EventBusName=bus,
                            EventPattern=json.dumps({"source": [{"prefix": ""}]}))
            events.put_targets(Rule="local-event-sink", EventBusName=bus,
                               Targets=[{"Id": "sink", "Arn": r.atts[("LocalEventSink", "Arn")]}])

    s3 = client("s3")
    for name, props in of_type("AWS::S3::Bucket"):
        bucket = f"{prefix}-{name}".lower()
        s3.create_bucket(Bucket=bucket)
        r.refs[name] = bucket
        r.atts[(name, "Arn")] = f"arn:aws:s3:::{bucket}"

    # Secrets: created as the template declares them, then given local values.
    sm = client("secretsmanager")
    dev_key = "m365c_" + secrets.token_urlsafe(32)
    local_values = {
        "ApiKeysSecret": json.dumps({"keys": [
            {"id": "dev", "sha256": hashlib.sha256(dev_key.encode()).hexdigest(), "scopes": ALL_SCOPES},
            {"id": "events", "sha256": hashlib.sha256(EVENTS_API_KEY.encode()).hexdigest(), "scopes": ALL_SCOPES},
        ]}),
        "TokenKeySecret": json.dumps({"current": "local-1", "keys": {
            "local-1": base64.b64encode(secrets.token_bytes(32)).decode()}}),
        "MicrosoftAppSecret": json.dumps({
            "client_id": (sim or {}).get("SIM_CLIENT_ID", ""),
            "client_secret": (sim or {}).get("SIM_CLIENT_SECRET", ""),
        }),
    }
    for name, props in of_type("AWS::SecretsManager::Secret"):
        arn = sm.create_secret(Name=f"{prefix}-{name}", SecretString=props.get("SecretString", "{}"))["ARN"]
        if name in local_values:
            sm.put_secret_value(SecretId=arn, SecretString=local_values[name])
        r.refs[name] = arn

    # Function environment: Globals, resolved locally.
    env = {k: str(r.resolve(v)) for k, v in template["Globals"]["Function"]["Environment"]["Variables"].items()}
    for name, d in resources.items():
        if d["Type"] == "AWS::Serverless::Function":
            variables = ((d.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
            resolved = {k: str(r.resolve(v)) for k, v in variables.items()}
            # Values naming resources that only exist when deployed (e.g. ${Api}) stay unset locally.
            env.update({k: v for k, v in resolved.items() if "${" not in v})
    if sim:
        env["IDENTITY_AUTHORITY"] = sim["SIM_URL"] + "/organizations/v2.0"
        env["GRAPH_BASE_URL"] = sim["SIM_URL"] + "/v1.0"
    if public_base_url:
        env["PUBLIC_BASE_URL"] = public_base_url
        env["ALLOWED_RETURN_ORIGINS"] = ",".join(
            [env.get("ALLOWED_RETURN_ORIGINS", ""), "http://localhost:3000", public_base_url, *return_origins]).strip(",")
    env.update({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    })
    return env, dev_key, r


# ---------------------------------------------------------------- template triggers
def function_specs(template):
    """Every function of template.yaml with what triggers it: the list `make dev` runs from."""
    glob = template.get("Globals", {}).get("Function", {})
    specs = []
    for name, d in template["Resources"].items():
        if d["Type"] != "AWS::Serverless::Function":
            continue
        props = d.get("Properties") or {}
        spec = {
            "logical_id": name,
            "binary": d["Metadata"]["BuildProperties"]["Binary"],
            "timeout": int(props.get("Timeout", glob.get("Timeout", 3))),
            "memory": int(props.get("MemorySize", glob.get("MemorySize", 128))),
            "http": [], "sqs": [], "schedules": [],
        }
        for event_name, event in (props.get("Events") or {}).items():
            kind, ep = event["Type"], event.get("Properties") or {}
            if kind == "HttpApi":
                spec["http"].append((ep["Method"], ep["Path"]))
            elif kind == "SQS":
                spec["sqs"].append({
                    "event": event_name,
                    "queue": ep["Queue"],  # resolved against the local resources later
                    "batch_size": int(ep.get("BatchSize", 10)),
                    "report_failures": "ReportBatchItemFailures" in (ep.get("FunctionResponseTypes") or []),
                })
            elif kind in ("Schedule", "ScheduleV2"):
                spec["schedules"].append({"event": event_name, "expression": ep.get("Schedule") or ep.get("ScheduleExpression")})
            else:
                raise ValueError(f"{name}.{event_name}: trigger type {kind} is not emulated by the local stack")
        specs.append(spec)
    return specs


def rate_seconds(expression):
    """`rate(30 minutes)` -> 1800; None for expressions the local scheduler does not run (cron)."""
    m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not m:
        return None
    unit = {"minute": 60, "hour": 3600, "day": 86400}[m.group(2).rstrip("s")]
    return int(m.group(1)) * unit


# ---------------------------------------------------------------- processes
def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port):
    """Whether a server could listen on the port now (as servers do, with SO_REUSEADDR: a closed
    connection's TIME_WAIT does not count, a listener or a live process on it does)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_http(url, timeout=60, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {timeout}s")


def tail(path, lines=30):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Processes:
    """Every process the stack started, each with a name and a log, so that one that dies is
    reported with the tail of its log instead of leaving the stack hanging."""

    def __init__(self):
        self.procs = []  # (name, Popen, log path)
        self.expected_exits = set()

    def start(self, args, name=None, log_path=None, **kw):
        # Own process group, so stopping it also stops whatever it started (cargo -> binary).
        p = subprocess.Popen(args, start_new_session=True, **kw)
        self.procs.append((name or Path(args[0]).name, p, log_path))
        return p

    def kill(self, p):
        """Stops one process on purpose (a timed-out function sandbox); not reported as a death."""
        self.expected_exits.add(p.pid)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()

    def dead(self):
        """The first process that exited without being asked to, or None."""
        for name, p, log_path in self.procs:
            if p.poll() is not None and p.pid not in self.expected_exits:
                return name, p, log_path
        return None

    def stop(self):
        for _, p, _ in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for _, p, _ in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def start_moto(procs, port, log, log_path=None):
    # moto's server, with DynamoDB's write isolation (scripts/moto_server.py says why).
    p = procs.start([sys.executable, str(ROOT / "scripts" / "moto_server.py"), "-H", "127.0.0.1", "-p", str(port)],
                    name="moto", log_path=log_path, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/moto-api/", proc=p)
    return url


def start_sim(procs, port, log, log_path=None):
    """Builds and starts the Graph simulator; returns its SIM_* settings from its first lines."""
    subprocess.run(["cargo", "build", "-q", "-p", "graph-sim"], cwd=ROOT, check=True)
    args = ["cargo", "run", "-q", "-p", "graph-sim", "--", "--port", str(port)]
    p = procs.start(args, name="graph-sim", log_path=log_path, cwd=ROOT, stdout=subprocess.PIPE,
                    stderr=log, text=True)
    sim = {}
    deadline = time.time() + 120
    while len(sim) < 3 and time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("graph-sim exited before printing its settings")
        key, sep, value = line.strip().partition("=")
        if sep and key in ("SIM_URL", "SIM_CLIENT_ID", "SIM_CLIENT_SECRET"):
            sim[key] = value
    # Keep draining its stdout into the log so the pipe never fills.
    threading.Thread(target=lambda: [log.write(l.encode()) or log.flush() for l in p.stdout], daemon=True).start()
    return sim


def write_env(path, env):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))


def read_env(path):
    return dict(line.split("=", 1) for line in Path(path).read_text().splitlines() if "=" in line)


# ---------------------------------------------------------------- Lambda, locally
class Invocation:
    def __init__(self, payload, timeout_s):
        self.id = str(uuid.uuid4())
        self.payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.deadline_ms = int((time.time() + timeout_s) * 1000)
        self.done = threading.Event()
        self.ok = False
        self.body = None
        self.sandbox = None


class LocalFunction:
    """One function as Lambda runs a `provided.al2023` function: its binary (the `bootstrap`) in
    one or more execution environments ("sandboxes"), each a process polling the documented Lambda
    Runtime API (`/2018-06-01/runtime/invocation/next`, `.../{id}/response`, `.../{id}/error`,
    `init/error`) for one invocation at a time. The deadline is the template's Timeout; an
    invocation that runs past it ends its sandbox (the process is killed and started again, as
    Lambda does). `cargo build` while the stack runs: idle sandboxes start the new binary at the
    next invocation."""

    def __init__(self, spec, env, procs, log_dir, concurrency=1, binary=None, launcher=()):
        self.spec = spec
        self.name = spec["binary"]
        self.env = env
        self.procs = procs
        self.binary = Path(binary) if binary else target_dir() / "debug" / self.name
        # Arguments before the binary (the cold-start bench starts it inside a CPU cgroup).
        self.launcher = list(launcher)
        self.log_path = log_dir / f"{self.name}.log"
        self.log = open(self.log_path, "ab")
        self.pending = collections.deque()
        self.cond = threading.Condition()
        self.waiting = {}
        self.stopping = False
        self.built = self.binary.stat().st_mtime
        self.sandboxes = [Sandbox(self) for _ in range(concurrency)]

    def next_invocation(self, sandbox):
        with self.cond:
            while not self.pending and not self.stopping and not sandbox.stale:
                self.cond.wait(timeout=1)
            if self.stopping or sandbox.stale:
                return None
            inv = self.pending.popleft()
            inv.sandbox = sandbox
            return inv

    def requeue(self, inv):
        with self.cond:
            inv.sandbox = None
            self.pending.appendleft(inv)
            self.cond.notify()

    def finish(self, request_id, ok, body):
        inv = self.waiting.pop(request_id, None)
        if inv is None:
            return
        inv.ok = ok
        try:
            inv.body = json.loads(body) if body else None
        except ValueError:
            inv.body = body.decode(errors="replace")
        inv.done.set()

    def invoke(self, payload, timeout=None):
        """Runs one invocation; returns (ok, response body or error)."""
        timeout = min(timeout or self.spec["timeout"], self.spec["timeout"])
        self.reload_if_rebuilt()
        inv = Invocation(payload, timeout)
        self.waiting[inv.id] = inv
        with self.cond:
            self.pending.append(inv)
            self.cond.notify()
        if inv.done.wait(timeout + 1):
            return inv.ok, inv.body
        self.waiting.pop(inv.id, None)
        with self.cond:
            if inv in self.pending:
                self.pending.remove(inv)
        if inv.sandbox is not None:
            print(f"[{self.name}] Task timed out after {timeout} s; its sandbox is replaced", flush=True)
            inv.sandbox.restart()
        return False, {"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after {timeout} seconds"}

    def reload_if_rebuilt(self):
        try:
            built = self.binary.stat().st_mtime
        except OSError:
            return
        if built != self.built:
            self.built = built
            print(f"[{self.name}] new build; sandboxes start it", flush=True)
            for sandbox in self.sandboxes:
                sandbox.stale = True
            with self.cond:
                self.cond.notify_all()

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        for sandbox in self.sandboxes:
            sandbox.server.shutdown()
            sandbox.server.server_close()


class RuntimeApiServer(ThreadingHTTPServer):
    """A sandbox's Runtime API. A sandbox killed (timed out, restarted, or ended by the cold-start
    bench) drops its pending `invocation/next`: that is expected, not an error to print."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class Sandbox:
    """One execution environment of a LocalFunction: a process and its own Runtime API port."""

    def __init__(self, function):
        self.function = function
        self.stale = False
        self.proc = None
        # When the process was started and when it first asked for an invocation: its init.
        self.started_at = None
        self.first_next_at = None
        self.ready = threading.Event()
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != "/2018-06-01/runtime/invocation/next":
                    return self.reply(404)
                if sandbox.first_next_at is None:
                    sandbox.first_next_at = time.perf_counter()
                    sandbox.ready.set()
                inv = function.next_invocation(sandbox)
                if inv is None:
                    if sandbox.stale and not function.stopping:
                        sandbox.restart()  # ends the process that asked; no answer needed
                        return None
                    return self.reply(503)
                try:
                    self.reply(200, inv.payload, [
                        ("Content-Type", "application/json"),
                        ("Lambda-Runtime-Aws-Request-Id", inv.id),
                        ("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms)),
                        ("Lambda-Runtime-Invoked-Function-Arn",
                         f"arn:aws:lambda:{REGION}:123456789012:function:{function.name}"),
                        ("Lambda-Runtime-Trace-Id", f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"),
                    ])
                except OSError:
                    function.requeue(inv)  # the process that asked is gone; another one gets it

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                m = re.fullmatch(r"/2018-06-01/runtime/invocation/([^/]+)/(response|error)", self.path)
                if m:
                    function.finish(m.group(1), m.group(2) == "response", body)
                    return self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
                if self.path == "/2018-06-01/runtime/init/error":
                    print(f"[{function.name}] init error: {body.decode(errors='replace')}", flush=True)
                    return self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
                return self.reply(404)

        self.server = RuntimeApiServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.start()

    def start(self):
        f = self.function
        env = dict(f.env,
                   AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{self.server.server_address[1]}",
                   AWS_LAMBDA_FUNCTION_NAME=f.name,
                   AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(f.spec["memory"]),
                   AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                   AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/local/{f.name}",
                   AWS_LAMBDA_LOG_STREAM_NAME=str(uuid.uuid4()))
        self.stale = False
        self.first_next_at = None
        self.ready.clear()
        self.started_at = time.perf_counter()
        self.proc = f.procs.start(f.launcher + [str(f.binary)], name=f.name, log_path=f.log_path, cwd=ROOT,
                                  env=env, stdout=f.log, stderr=subprocess.STDOUT)

    def restart(self):
        self.function.procs.kill(self.proc)
        self.start()


class ApiGateway:
    """The HTTP API of template.yaml, locally: every `HttpApi` event's route (from the template,
    the one list) in front of its function, with API Gateway's payload format 2.0 (`routeKey`,
    `pathParameters`, lower-cased headers, comma-joined repeated query parameters, `cookies`,
    base64 for binary bodies), its answers for no route (404 `{"message":"Not Found"}`), a body over
    Lambda's 6 MB (413), a function error (500) and its 30 s integration timeout (503). It also
    serves Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`), which
    `cargo lambda invoke` and the sample events in events/ use."""

    INTEGRATION_TIMEOUT = 30
    MAX_PAYLOAD = 6 * 1024 * 1024

    def __init__(self, port, routes, functions):
        # routes: [(method, template path, LocalFunction)]; functions: {binary: LocalFunction}
        self.routes = [(m.upper(), path, [seg for seg in path.strip("/").split("/")], fn) for m, path, fn in routes]
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, body=b"", headers=()):
                self.send_response(status)
                names = set()
                for k, v in headers:
                    names.add(k.lower())
                    self.send_header(k, v)
                if "content-type" not in names and body:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def handle_any(self):
                url = urllib.parse.urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                m = re.fullmatch(r"/2015-03-31/functions/([^/]+)/invocations", url.path)
                if m and self.command == "POST":
                    fn = functions.get(m.group(1))
                    if fn is None:
                        return self.answer(404, json.dumps({"Type": "User", "message": f"Function not found: {m.group(1)}"}).encode())
                    ok, result = fn.invoke(body or b"{}")
                    return self.answer(200, json.dumps(result).encode(), [] if ok else [("X-Amz-Function-Error", "Unhandled")])
                found = gateway.match(self.command, url.path)
                if found is None:
                    return self.answer(404, b'{"message":"Not Found"}')
                route_key, params, fn = found
                event = gateway.event(self, url, route_key, params, body)
                if len(event) > gateway.MAX_PAYLOAD:
                    return self.answer(413, b'{"message":"Request Entity Too Large"}')
                ok, result = fn.invoke(event, timeout=gateway.INTEGRATION_TIMEOUT)
                if not ok:
                    if isinstance(result, dict) and result.get("errorType") == "Sandbox.Timedout":
                        return self.answer(503, b'{"message":"Service Unavailable"}')
                    return self.answer(500, b'{"message":"Internal Server Error"}')
                status, headers, payload = gateway.response(result)
                return self.answer(status, payload, headers)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any

            def __getattr__(self, name):
                # Any other method (TRACE, ...) is routed too, as API Gateway does: no route
                # has it, so it is API Gateway's 404, never a 501 of this server.
                if name.startswith("do_"):
                    return self.handle_any
                raise AttributeError(name)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def match(self, method, path):
        """The most specific route for the request (literal segments win over `{parameters}`)."""
        segments = path.strip("/").split("/")
        best = None
        for route_method, route_path, route_segments, fn in self.routes:
            if route_method != method or len(route_segments) != len(segments):
                continue
            params, literal = {}, []
            for want, got in zip(route_segments, segments):
                if want.startswith("{") and want.endswith("}"):
                    if not got:
                        break
                    params[want[1:-1]] = urllib.parse.unquote(got)
                    literal.append(0)
                elif want == got:
                    literal.append(1)
                else:
                    break
            else:
                if best is None or literal > best[0]:
                    best = (literal, (f"{method} {route_path}", params, fn))
        return best[1] if best else None

    @staticmethod
    def event(request, url, route_key, params, body):
        headers, cookies = {}, []
        for k, v in request.headers.items():
            k = k.lower()
            if k == "cookie":
                cookies += [c.strip() for c in v.split(";") if c.strip()]
                continue
            headers[k] = f"{headers[k]},{v}" if k in headers else v
        headers.setdefault("x-forwarded-for", request.client_address[0])
        headers.setdefault("x-forwarded-proto", "http")
        query = {}
        for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True):
            query[k] = f"{query[k]},{v}" if k in query else v
        content_type = headers.get("content-type", "")
        textual = any(t in content_type for t in ("json", "text/", "xml", "x-www-form-urlencoded", "javascript"))
        try:
            text = body.decode() if body and (textual or not content_type) else None
        except UnicodeDecodeError:
            text = None
        now = time.time()
        event = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": url.path,
            "rawQueryString": url.query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "local",
                "domainName": headers.get("host", "localhost"),
                "domainPrefix": headers.get("host", "localhost").split(".")[0],
                "http": {"method": request.command, "path": url.path, "protocol": "HTTP/1.1",
                         "sourceIp": request.client_address[0], "userAgent": headers.get("user-agent", "")},
                "requestId": str(uuid.uuid4()),
                "routeKey": route_key,
                "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            },
            "isBase64Encoded": bool(body) and text is None,
        }
        if cookies:
            event["cookies"] = cookies
        if query:
            event["queryStringParameters"] = query
        if params:
            event["pathParameters"] = params
        if body:
            event["body"] = text if text is not None else base64.b64encode(body).decode()
        return json.dumps(event).encode()

    @staticmethod
    def response(result):
        """Payload format 2.0: a `statusCode` object, or any other JSON as a 200 JSON body."""
        if not (isinstance(result, dict) and "statusCode" in result):
            return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
        headers = list((result.get("headers") or {}).items())
        for k, values in (result.get("multiValueHeaders") or {}).items():
            if not any(h.lower() == k.lower() for h, _ in headers):
                headers += [(k, v) for v in values]
        headers += [("Set-Cookie", c) for c in result.get("cookies") or []]
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        return int(result["statusCode"]), headers, payload

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class EventSourceMapping(threading.Thread):
    """An SQS event source mapping as Lambda runs one: long-polls the queue, hands up to BatchSize
    records to the function as an `SqsEvent`, deletes what succeeded (with ReportBatchItemFailures:
    every record not named in `batchItemFailures`), and leaves the rest to come back after their
    visibility timeout (which the function may have changed). The queue's redrive policy moves a
    record to its dead-letter queue after maxReceiveCount receives. One poller, one invocation at a
    time: a FIFO message group is never in two batches at once."""

    def __init__(self, function, queue_url, queue_arn, batch_size, report_failures, stop):
        super().__init__(daemon=True, name=f"esm-{function.name}")
        self.function, self.queue_url, self.queue_arn = function, queue_url, queue_arn
        self.batch_size, self.report_failures, self.stop_event = batch_size, report_failures, stop
        self.sqs = aws_session().client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"])

    def run(self):
        while not self.stop_event.is_set():
            try:
                self.poll_once()
            except Exception as e:  # moto restarting, or shutting down: report and keep polling
                if not self.stop_event.is_set():
                    print(f"[esm {self.function.name}] {type(e).__name__}: {e}", flush=True)
                    time.sleep(1)

    def poll_once(self):
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=min(self.batch_size, 10), WaitTimeSeconds=1,
            AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not received:
            return
        records = [{
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {k: {"stringValue": v.get("StringValue"), "binaryValue": None,
                                      "stringListValues": [], "binaryListValues": [],
                                      "dataType": v["DataType"]}
                                  for k, v in (m.get("MessageAttributes") or {}).items()},
            "md5OfBody": m.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        } for m in received]
        ok, body = self.function.invoke({"Records": records})
        by_id = {m["MessageId"]: m for m in received}
        if not ok:
            print(f"[esm {self.function.name}] invocation failed ({len(received)} records stay on the queue): "
                  f"{(body or {}).get('errorType') if isinstance(body, dict) else body}", flush=True)
            return
        failed = set()
        if self.report_failures and isinstance(body, dict):
            for item in body.get("batchItemFailures") or []:
                failed.add(item.get("itemIdentifier"))
            if failed - set(by_id):
                # Lambda treats an empty or unknown identifier as a failure of the whole batch.
                print(f"[esm {self.function.name}] batchItemFailures names unknown records; the batch is retried", flush=True)
                return
        done = [m for mid, m in by_id.items() if mid not in failed]
        for i in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done[i:i + 10])])
        print(f"[esm {self.function.name}] batch of {len(received)}: {len(done)} done, {len(failed)} to retry", flush=True)


def scheduled_event(rule_name, when=None):
    """The envelope EventBridge Scheduler / a Schedule rule hands to the function."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": when or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:123456789012:rule/local-{rule_name}"],
        "detail": {},
    }


class Scheduler(threading.Thread):
    """Invokes a function on its template rate; `fire` runs it now (the control route)."""

    def __init__(self, function, schedule, stop):
        super().__init__(daemon=True, name=f"schedule-{function.name}")
        self.function, self.schedule, self.stop_event = function, schedule, stop
        self.every = rate_seconds(schedule["expression"])

    def fire(self, when=None):
        ok, body = self.function.invoke(scheduled_event(self.schedule["event"], when))
        print(f"[schedule {self.function.name}] {'ok' if ok else 'failed'}: {json.dumps(body)[:300]}", flush=True)
        return ok, body

    def run(self):
        if self.every is None:
            print(f"[schedule {self.function.name}] {self.schedule['expression']} is not run on a timer locally; "
                  f"fire it with `make fire FUNCTION={self.function.name}`", flush=True)
            return
        while not self.stop_event.wait(self.every):
            self.fire()


class EventSink(threading.Thread):
    """EventBridge, visible: a rule on each bus matches every event and targets a local queue
    (created by `provision`); this drains it into `events.jsonl`, prints one line per event and
    serves them on the control port."""

    def __init__(self, queue_url, path, stop, quiet=False):
        super().__init__(daemon=True, name="event-sink")
        self.queue_url, self.path, self.stop_event, self.quiet = queue_url, path, stop, quiet
        self.events, self.lock = [], threading.Lock()
        self.sqs = aws_session().client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"])

    def run(self):
        with open(self.path, "a") as out:
            while not self.stop_event.is_set():
                try:
                    messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                                        WaitTimeSeconds=1).get("Messages", [])
                except Exception:
                    if not self.stop_event.is_set():
                        time.sleep(1)
                    continue
                for m in messages:
                    event = json.loads(m["Body"])
                    with self.lock:
                        self.events.append(event)
                    out.write(json.dumps(event) + "\n")
                    out.flush()
                    if not self.quiet:
                        print(f"event {event.get('detail-type')} {(event.get('detail') or {}).get('event_id', '')}", flush=True)
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])

    def since(self, after):
        with self.lock:
            return self.events[after:], len(self.events)


class Control:
    """The local operator's port: events the sink received, schedules fired on demand, queue depths,
    and a landing page for the connect flow's return URL."""

    def __init__(self, port, sink, schedulers, queues):
        control = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body, content_type="application/json"):
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/events":
                    events, total = sink.since(int(query.get("after", "0") or 0))
                    return self.reply(200, {"events": events, "next": total})
                if url.path == "/queues":
                    sqs = aws_session().client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
                    out = {}
                    for name, q in queues.items():
                        attrs = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["All"])["Attributes"]
                        out[name] = {"url": q,
                                     "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
                                     "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))}
                    return self.reply(200, out)
                if url.path == "/connected":
                    rows = "".join(f"<tr><th>{html.escape(k)}</th><td><code>{html.escape(v)}</code></td></tr>"
                                   for k, v in query.items())
                    return self.reply(200, "<!doctype html><title>Back in the app</title><h1>Back in the app</h1>"
                                      f"<p>The connect flow returned:</p><table>{rows}</table>", "text/html; charset=utf-8")
                return self.reply(404, {"title": "not found"})

            def do_POST(self):
                m = re.fullmatch(r"/schedules/([^/?]+)", urllib.parse.urlsplit(self.path).path)
                if not m or m.group(1) not in schedulers:
                    return self.reply(404, {"title": "no such scheduled function", "functions": sorted(schedulers)})
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                when = (json.loads(raw) if raw else {}).get("time")
                ok, body = schedulers[m.group(1)].fire(when)
                return self.reply(200 if ok else 502, {"ok": ok, "response": body})

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def aws_session():
    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION)


# ---------------------------------------------------------------- commands
def private_stack(procs, log, name):
    """moto and the simulator on free ports, provisioned as stack `name` (no public base URL):
    the environment of the functions and tests that use it."""
    endpoint = start_moto(procs, free_port(), log)
    sim = start_sim(procs, free_port(), log)
    env, _, _ = provision(endpoint, name, sim, public_base_url="http://127.0.0.1:9")
    return env, sim


def cmd_test():
    LOCAL.mkdir(exist_ok=True)
    procs = Processes()
    failures = []
    started = time.time()
    log = open(LOCAL / "test-stack.log", "wb")
    try:
        env, sim = private_stack(procs, log, "test")
        write_env(LOCAL / "test.env", env)
        run_env = dict(os.environ, **env, EVENTS_API_KEY=EVENTS_API_KEY)
        steps = [
            ("cargo fmt --check", ["cargo", "fmt", "--all", "--check"]),
            ("cargo clippy", ["cargo", "clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
            ("cargo test", ["cargo", "test", "--workspace"]),
            ("cfn-lint", [str(VENV_BIN / "cfn-lint"), "template.yaml"]),
            ("openapi.yaml is valid OpenAPI 3.1", [str(VENV_BIN / "openapi-spec-validator"), "openapi.yaml"]),
            ("log-secret scanner", [sys.executable, "-m", "unittest", "discover", "-s", "scripts",
                                    "-p", "test_*.py"]),
        ]
        for title, args in steps:
            failures += run_step(title, lambda: subprocess.run(args, cwd=ROOT, env=run_env).returncode)
        failures += run_step("the committed Python client is generated from openapi.yaml", check_client)
    finally:
        procs.stop()
        log.close()
    failures += run_step("end-to-end (make dev, driven over HTTP)", run_e2e)
    print(f"make test: {'FAILED: ' + ', '.join(failures) if failures else 'all checks passed'}"
          f" in {time.time() - started:.0f}s")
    return 1 if failures else 0


def run_step(title, fn):
    print(f"==> {title}", flush=True)
    t = time.time()
    rc = fn()
    print(f"<== {title}: {'ok' if rc == 0 else f'FAILED ({rc})'} in {time.time() - t:.0f}s", flush=True)
    return [] if rc == 0 else [title]


# Settings files the stack writes on purpose (they hold the dev key and the simulator's
# credentials); everything else it writes is output, and output must not hold a secret.
SETTINGS_FILES = {"dev.env", "functions.env", "browser-secrets.json"}


def run_e2e():
    """Starts the stack exactly as `make dev` does (this script, its own ports and folder), runs the
    end-to-end suite against it over HTTP, then stops it with Ctrl-C (SIGINT) and checks that it
    shut down cleanly and freed its ports. Last, every file the stack wrote and the suite's output
    are searched for every secret the run used (`secret_scan`); the functions log at
    $E2E_LOG_LEVEL (default TRACE, Lambda's most verbose level) so that the search sees all
    they can write."""
    state = LOCAL / "e2e"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    ports = {k: str(free_port()) for k in ("MOTO_PORT", "SIM_PORT", "API_PORT", "CONTROL_PORT")}
    level = os.environ.get("E2E_LOG_LEVEL", "TRACE")
    dev_env = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}
    dev_env.update(STACK_DIR=str(state), AWS_LAMBDA_LOG_LEVEL=level, **ports)
    out = open(state / "stack.out", "wb")
    dev = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "dev"], cwd=ROOT,
                           env=dev_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    used = []
    try:
        deadline = time.time() + 1200
        while not (state / "dev.env").exists():
            if dev.poll() is not None:
                print(f"make dev exited with {dev.returncode} before it was up:\n{tail(state / 'stack.out', 40)}")
                return 1
            if time.time() > deadline:
                print(f"make dev was not up within 20 minutes:\n{tail(state / 'stack.out', 40)}")
                return 1
            time.sleep(0.5)
        settings = read_env(state / "dev.env")
        env = dict(os.environ, **settings)
        print(f"end-to-end suite against the stack, functions logging at {level}", flush=True)
        rc = run_teed(["cargo", "test", "-p", "integration-tests", "--test", "e2e", "--",
                       "--nocapture", "--test-threads=1"], env, state / "suite.out")
        # The contract against the same stack, once the suite is done with it (the conformance run
        # last: it sends thousands of generated requests, some of them destructive).
        failed = [] if rc == 0 else ["end-to-end suite"]
        # The scheduling page in headless Chromium over WebDriver, against the same stack.
        failed += run_step("the scheduling page in headless Chromium (scripts/browser_test.py)",
                           lambda: run_teed([sys.executable, str(ROOT / "scripts" / "browser_test.py")],
                                            dict(env, STACK_DIR=str(state)), state / "browser.out"))
        failed += run_step("GET /docs in headless Chromium", lambda: check_docs_page(env, state))
        # The suite moved the simulator's clock days ahead; back to real time, as a fresh `make dev`
        # has it (tokens it issues must not be "not valid yet" for the connector).
        sim_clock_back(env["SIM_URL"])
        failed += run_step("the generated client's example (examples/connect_and_read.py)",
                           lambda: subprocess.run([sys.executable, str(ROOT / "examples" / "connect_and_read.py")],
                                                  cwd=ROOT, env=dict(env, STACK_DIR=str(state))).returncode)
        failed += run_step("Schemathesis: every operation of openapi.yaml against the stack",
                           lambda: conformance(env, state))
        rc = 1 if failed else 0
        if failed:
            print(f"failed against the stack: {', '.join(failed)}")
            print(f"--- the stack's output (tail; logs in {state}/logs):\n{tail(state / 'stack.out', 60)}")
        try:
            used = secrets_of_the_run(settings)
            # The scheduling link the browser test booked through: its URL secret too.
            browser_secrets = state / "browser-secrets.json"
            if browser_secrets.exists():
                used += [tuple(s) for s in json.loads(browser_secrets.read_text())]
        except Exception as e:  # noqa: BLE001 - a stack that died cannot be asked; say so
            print(f"could not collect the run's secrets from the stack: {e}")
            rc = rc or 1
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGINT)
        try:
            stopped = dev.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(dev.pid, signal.SIGKILL)
            stopped = "hung"
        out.close()
    busy = [f"{k}={v}" for k, v in ports.items() if not port_is_free(int(v))]
    if stopped != 0 or busy:
        print(f"make dev did not stop cleanly on Ctrl-C: exit {stopped}, ports still taken: {busy or 'none'}")
        return rc or 1
    if used:
        scan_started = time.time()
        files = secret_scan.files_under(state, skip=SETTINGS_FILES)
        findings = secret_scan.scan(files, used)
        size = sum(f.stat().st_size for f in files)
        kinds = collections.Counter(kind for kind, _ in used)
        print(f"log-secret check ({len(used)} secrets: "
              + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
              + f"; {len(files)} files, {size / 1e6:.1f} MB, {time.time() - scan_started:.1f} s): "
              + secret_scan.report(findings, len(files)), flush=True)
        if findings:
            return rc or 1
    return rc


def run_teed(args, env, path):
    """Runs `args`, its output both to this terminal and to `path`; returns its exit code."""
    with open(path, "wb") as copy:
        p = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for chunk in iter(lambda: p.stdout.read1(65536), b""):
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            copy.write(chunk)
        return p.wait()


def secrets_of_the_run(settings):
    """Every secret the end-to-end run used, as (kind, value): the dev and sample-event API keys,
    the secrets' local values as moto holds them (the token-encryption key, the app's client
    secret), and every credential the simulator issued or was handed."""
    used = [("api_key", settings["API_KEY"]), ("api_key", EVENTS_API_KEY),
            ("client_secret", settings["SIM_CLIENT_SECRET"])]
    sm = aws_session().client("secretsmanager", endpoint_url=settings["AWS_ENDPOINT_URL"])
    for page in sm.get_paginator("list_secrets").paginate():
        for entry in page["SecretList"]:
            value = json.loads(sm.get_secret_value(SecretId=entry["ARN"])["SecretString"])
            ring = value.get("keys")
            if isinstance(ring, dict):  # the token key ring; the API-key secret holds only hashes
                used += [("token_encryption_key", key) for key in ring.values()]
            if value.get("client_secret"):
                used.append(("client_secret", value["client_secret"]))
    with urllib.request.urlopen(settings["SIM_URL"] + "/_sim/issued-secrets", timeout=30) as r:
        used += [(s["kind"], s["value"]) for s in json.load(r)["value"]]
    return used


# ---------------------------------------------------------------- the published contract
CLIENT_DIR = ROOT / "examples" / "python-client"
CLIENT_PACKAGE = "m365_connector_client"


def generate_client(into):
    """Generates the typed client from openapi.yaml into `into`/m365_connector_client (the
    generator and its formatter are pinned in requirements.txt, so the output is reproducible)."""
    target = Path(into) / CLIENT_PACKAGE
    shutil.rmtree(target, ignore_errors=True)
    done = subprocess.run([str(VENV_BIN / "openapi-python-client"), "generate", "--path", str(ROOT / "openapi.yaml"),
                           "--meta", "none", "--output-path", str(target)],
                          cwd=into, env=dict(os.environ, PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}"),
                          capture_output=True, text=True)
    shutil.rmtree(target / ".ruff_cache", ignore_errors=True)
    if done.returncode != 0 or "Warning" in done.stdout:
        print(done.stdout + done.stderr)
        return 1
    return 0


def cmd_client():
    """`stack.py client`: regenerates examples/python-client from openapi.yaml."""
    rc = generate_client(CLIENT_DIR)
    if rc == 0:
        print(f"generated {CLIENT_DIR / CLIENT_PACKAGE} from openapi.yaml")
    return rc


def check_client():
    """The committed client is exactly what openapi.yaml generates now."""
    import filecmp
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        if generate_client(tmp):
            print("openapi-python-client could not generate a complete client from openapi.yaml")
            return 1
        fresh, committed = Path(tmp) / CLIENT_PACKAGE, CLIENT_DIR / CLIENT_PACKAGE

        def files(root):
            return {p.relative_to(root) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}

        differ = sorted(str(f) for f in files(fresh) ^ files(committed))
        differ += sorted(str(f) for f in files(fresh) & files(committed)
                         if not filecmp.cmp(fresh / f, committed / f, shallow=False))
    if differ:
        print(f"examples/python-client is not what openapi.yaml generates ({', '.join(differ[:10])}); "
              "run `make client` and commit the result")
        return 1
    print("examples/python-client matches openapi.yaml")
    return 0


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def check_docs_page(env, state):
    """Renders GET /docs in headless Chromium (after its scripts ran): the page's title and an
    operation of the contract must be in the DOM; the screenshot is kept in the stack's folder."""
    browser = chromium()
    if browser is None:
        print("no Chromium: `make test` installs Debian's `chromium` (make browser)")
        return 1
    url = f"{env['BASE_URL']}/docs"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--hide-scrollbars", "--virtual-time-budget=15000", "--window-size=1280,1600"]
    shot = state / "docs.png"
    shot.unlink(missing_ok=True)
    subprocess.run([browser, *flags, f"--screenshot={shot}", url], capture_output=True, timeout=120)
    dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    (state / "docs.html").write_text(dom)
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    wanted = [spec["info"]["title"], spec["paths"]["/connections"]["post"]["summary"],
              spec["paths"]["/connections/{id}/messages"]["post"]["summary"]]
    title = re.search(r"<title>([^<]*)</title>", dom)
    missing = [w for w in wanted if html.escape(w, quote=False) not in dom]
    if not title or title.group(1) != spec["info"]["title"] or missing or not shot.exists():
        print(f"/docs did not render: title {title.group(1) if title else None!r}, missing {missing}, "
              f"screenshot {'kept' if shot.exists() else 'not taken'} (DOM in {state / 'docs.html'})")
        return 1
    print(f"/docs renders: title {title.group(1)!r}, operations shown ({', '.join(wanted[1:])}); "
          f"screenshot {shot}")
    return 0


# Checks of the conformance run: no 5xx; statuses, media types, headers and bodies as documented;
# generated invalid input refused with a 4xx (whose body the schema checks make a problem).
CONFORMANCE_CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
                      "response_headers_conformance", "response_schema_conformance", "negative_data_rejection"]
ONE_CONNECTION = r"^/connections/\{id\}/"
WEBHOOKS = r"^/webhooks/"


def sim_clock_back(sim_url):
    """Puts the simulator's clock back to real time (its offset undone)."""
    def advance(seconds):
        request = urllib.request.Request(f"{sim_url}/_sim/clock/advance", data=json.dumps({"seconds": seconds}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["offsetSeconds"]
    advance(-advance(0))


def conformance(env, state):
    """Schemathesis against the running stack: every operation of openapi.yaml, valid and invalid
    inputs (examples, boundary values, fuzzing), a bounded number of cases, with the dev API key,
    in four passes (tests/conformance/schemathesis.toml has what they share):
    1. every operation except those under one connection and the webhooks, generated input;
    2. the operations under one connection with generated ids: invalid input must be refused (the
       body is checked before the connection is looked up);
    3. the same on the example's real connection, valid input only, so that sends, bookings and
       free/busy reach Graph (the simulator) and must answer as documented, never a 5xx;
    4. the Graph webhooks, without "invalid input is refused": the validation handshake is
       answered from `validationToken` before the body is read, as Graph expects;
    5. stateful, on the example's connection: sequences that follow openapi.yaml's links (book an
       event, then move or cancel it; create a scheduling link, then read, change or cancel it;
       send, then read the send's status), each response checked as in the other passes.
    GET and DELETE of /connections/{id} itself get generated ids, so the example's connection
    stays. The OAuth routes are fuzzed with generated states (their success path needs Microsoft's
    redirect and the browser's binding cookie: the end-to-end suite and the example cover it)."""
    report = state / "schemathesis"
    shutil.rmtree(report, ignore_errors=True)
    report.mkdir(parents=True)
    request = urllib.request.Request(f"{env['BASE_URL']}/connections?user_id=example-recruiter",
                                     headers={"Authorization": f"Bearer {env['API_KEY']}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        connections = json.loads(response.read())["connections"]
    if not connections:
        print("no connection of example-recruiter (the example connects it first)")
        return 1
    base_config = (ROOT / "tests" / "conformance" / "schemathesis.toml").read_text()
    real = report / "real-connection.toml"
    real.write_text(base_config + "\n# This run: the routes under one connection on the example's connection.\n"
                    f"[[operations]]\ninclude-path-regex = '{ONE_CONNECTION}'\n"
                    f"parameters = {{ \"path.id\" = \"{connections[0]['id']}\" }}\n")
    shared = report / "shared.toml"
    shared.write_text(base_config)
    without_negative = [c for c in CONFORMANCE_CHECKS if c != "negative_data_rejection"]
    passes = [
        ("every operation but those under one connection and the webhooks",
         shared, ["--exclude-path-regex", f"{ONE_CONNECTION}|{WEBHOOKS}"], CONFORMANCE_CHECKS),
        ("under one connection, generated ids", shared, ["--include-path-regex", ONE_CONNECTION], CONFORMANCE_CHECKS),
        ("under one connection, the example's connection, valid input",
         real, ["--include-path-regex", ONE_CONNECTION, "--mode", "positive"], without_negative),
        ("the Graph webhooks", shared, ["--include-path-regex", WEBHOOKS], without_negative),
        # Stateful: the contract's links chained on the example's connection (a booked event moved
        # and cancelled, a scheduling link read, changed and cancelled, a send's status read).
        ("under one connection, following the links (stateful)", real,
         ["--include-path-regex", ONE_CONNECTION, "--mode", "positive", "--phases", "stateful"], without_negative),
    ]
    started, failed, summary = time.time(), 0, []
    for n, (title, config, selection, checks) in enumerate(passes, 1):
        args = [str(VENV_BIN / "schemathesis"), "--config-file", str(config), "run", str(ROOT / "openapi.yaml"),
                "--url", env["BASE_URL"], "--header", f"Authorization: Bearer {env['API_KEY']}",
                "--checks", ",".join(checks),
                *(selection if "--phases" in selection else [*selection, "--phases", "examples,coverage,fuzzing"]),
                "--max-examples", os.environ.get("CONFORMANCE_EXAMPLES", "12"),
                "--seed", os.environ.get("CONFORMANCE_SEED", "20261130"),
                # One worker: Python 3.11 can fail parsing in two threads at once (an AST
                # "recursion depth mismatch" inside Hypothesis), which a pass once hit.
                "--workers", "1", "--max-redirects", "0", "--request-timeout", "35",
                "--generation-database", "none", "--no-color", "--output-truncate", "true",
                "--suppress-health-check", "too_slow,filter_too_much,data_too_large",
                "--report", "junit", "--report-junit-path", str(report / f"junit-{n}.xml")]
        done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
        output = done.stdout + done.stderr
        (report / f"output-{n}.txt").write_text(output)
        operations = re.search(r"Tested: (\d+)", output)
        cases = re.search(r"Test cases:\s*\n\s*(.+)", output)
        line = (f"  {n}. {title}: {operations.group(1) if operations else '?'} operations, "
                f"{cases.group(1).strip() if cases else '?'}")
        summary.append(line)
        print(line, flush=True)
        if done.returncode != 0:
            failed += 1
            print(output[output.find("=== FAILURES"):][:12000] if "=== FAILURES" in output else output[-6000:])
    print("Schemathesis conformance report:\n" + "\n".join(summary) +
          f"\n  {time.time() - started:.0f}s; {'all passes clean' if not failed else f'{failed} pass(es) failed'}; "
          f"output and JUnit reports in {report}/")
    return 1 if failed else 0


def cmd_dev():
    stack_dir = Path(os.environ.get("STACK_DIR", LOCAL))
    stack_dir.mkdir(parents=True, exist_ok=True)
    (stack_dir / "dev.env").unlink(missing_ok=True)
    logs = stack_dir / "logs"
    logs.mkdir(exist_ok=True)
    ports = {k: int(os.environ.get(k, d)) for k, d in
             (("MOTO_PORT", 5055), ("SIM_PORT", 7071), ("API_PORT", 9000), ("CONTROL_PORT", 9001))}
    if len(set(ports.values())) != len(ports):
        sys.exit("MOTO_PORT, SIM_PORT, API_PORT and CONTROL_PORT must differ")
    taken = [f"{k}={v}" for k, v in ports.items() if not port_is_free(v)]
    if taken:
        sys.exit(f"ports in use: {', '.join(taken)} (another `make dev`?); set other ports or stop it")
    procs = Processes()
    stop = threading.Event()
    functions, control, gateway = [], None, None
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    # Ctrl-C stops the stack even when started from a shell that ignores SIGINT in the background.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        def logfile(name):
            return open(logs / f"{name}.log", "wb"), logs / f"{name}.log"

        moto_log, moto_path = logfile("moto")
        endpoint = start_moto(procs, ports["MOTO_PORT"], moto_log, moto_path)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        sim_log, sim_path = logfile("graph-sim")
        sim = start_sim(procs, ports["SIM_PORT"], sim_log, sim_path)
        base_url = f"http://127.0.0.1:{ports['API_PORT']}"
        control_url = f"http://127.0.0.1:{ports['CONTROL_PORT']}"
        env, dev_key, r = provision(endpoint, "dev", sim, public_base_url=base_url,
                                    return_origins=[control_url], event_sink=True)
        write_env(stack_dir / "functions.env", env)
        print("building the functions (cargo build --workspace --bins)", flush=True)
        subprocess.run(["cargo", "build", "--workspace", "--bins"], cwd=ROOT, check=True)

        template = load_template()
        specs = function_specs(template)
        # Every function in its sandboxes behind the local Lambda Runtime API. HTTP functions get
        # two (API Gateway invokes concurrently; the webhook takes Graph's bursts), the queue and
        # schedule consumers one.
        schedulers, queues, by_binary, routes = {}, {}, {}, []
        for name, d in template["Resources"].items():
            if d["Type"] == "AWS::SQS::Queue":
                queues[name] = r.refs[name]
        arn_to_url = {r.atts[(n, "Arn")]: r.refs[n] for n in queues}
        for spec in specs:
            function = LocalFunction(spec, dict(os.environ, **env), procs, logs,
                                     concurrency=2 if spec["http"] else 1)
            functions.append(function)
            by_binary[function.name] = function
            routes += [(method, path, function) for method, path in spec["http"]]
            for source in spec["sqs"]:
                arn = r.resolve(source["queue"])
                EventSourceMapping(function, arn_to_url[arn], arn, source["batch_size"],
                                   source["report_failures"], stop).start()
            for schedule in spec["schedules"]:
                scheduler = Scheduler(function, schedule, stop)
                schedulers[function.name] = scheduler
                scheduler.start()
        gateway = ApiGateway(ports["API_PORT"], routes, by_binary)
        sink = EventSink(r.refs["LocalEventSink"], stack_dir / "events.jsonl", stop)
        sink.start()
        control = Control(ports["CONTROL_PORT"], sink, schedulers, queues)

        summary = []
        for spec in specs:
            triggers = [f"{m} {p}" for m, p in spec["http"]][:2] + (["..."] if len(spec["http"]) > 2 else [])
            triggers += [f"SQS {s['queue'].value.split('.')[0]} (batch {s['batch_size']})" for s in spec["sqs"]]
            triggers += [s["expression"] for s in spec["schedules"]]
            summary.append(f"  {spec['binary']:<22} {', '.join(triggers)}")
        dev_env = {"BASE_URL": base_url, "API_KEY": dev_key, "CONTROL_URL": control_url,
                   "RETURN_URL": f"{control_url}/connected", "AWS_ENDPOINT_URL": endpoint, **sim}
        write_env(stack_dir / "dev.env", dev_env)
        print("\nLocal stack is up. Functions and their triggers:\n" + "\n".join(summary) +
              f"\n\n  BASE_URL={base_url}\n  API_KEY in {stack_dir}/dev.env (a secret: never printed)\n"
              f"  SIM_URL={sim['SIM_URL']}\n"
              f"  CONTROL_URL={control_url}  (events: GET /events; fire a schedule: POST /schedules/NAME)\n"
              f"\nSettings in {stack_dir}/dev.env, logs in {logs}/, events in {stack_dir}/events.jsonl."
              "\nCtrl-C stops everything.\n", flush=True)
        while True:
            dead = procs.dead()
            if dead:
                name, p, log_path = dead
                print(f"\n{name} exited with {p.returncode}; the stack stops. Last lines of {log_path}:\n"
                      f"{tail(log_path) if log_path else '(no log)'}", flush=True)
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
        return 0
    finally:
        stop.set()
        for f in functions:
            f.stop()
        for server in (control, gateway):
            if server:
                server.stop()
        procs.stop()


def cmd_fire():
    """Fires a scheduled function of a running `make dev` now: `stack.py fire NAME [TIME]`."""
    if len(sys.argv) < 3:
        sys.exit("usage: stack.py fire FUNCTION [ISO-8601 time]")
    env = read_env(Path(os.environ.get("STACK_DIR", LOCAL)) / "dev.env")
    body = json.dumps({"time": sys.argv[3]} if len(sys.argv) > 3 else {}).encode()
    request = urllib.request.Request(f"{env['CONTROL_URL']}/schedules/{sys.argv[2]}", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            print(response.read().decode())
            return 0
    except urllib.error.HTTPError as e:
        print(e.read().decode())
        return 1


def redrive(sqs, source, destination):
    """Moves every message of `source` (a dead-letter queue) to `destination`, oldest first, each
    with its message group and a deduplication id of its own, deleting it from `source` once sent.
    A message arrives with a fresh receive count. Returns how many moved."""
    moved = 0
    while True:
        messages = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                       AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return moved
        for m in messages:
            args = dict(QueueUrl=destination, MessageBody=m["Body"])
            group = m.get("Attributes", {}).get("MessageGroupId")
            if group:
                args.update(MessageGroupId=group, MessageDeduplicationId=f"redrive-{m['MessageId']}")
            if m.get("MessageAttributes"):
                args["MessageAttributes"] = m["MessageAttributes"]
            sqs.send_message(**args)
            sqs.delete_message(QueueUrl=source, ReceiptHandle=m["ReceiptHandle"])
            moved += 1


def cmd_redrive_dlq():
    """Moves the dead-lettered sync jobs back to the sync queue: `stack.py redrive-dlq` against the
    running `make dev`, or `stack.py redrive-dlq --from DLQ_URL --to QUEUE_URL` against the moto
    server at AWS_ENDPOINT_URL. moto has no StartMessageMoveTask, so this is a receive/send/delete
    loop; on AWS use `aws sqs start-message-move-task` (README, "Mail sync")."""
    opts = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    if "--from" in opts or "--to" in opts:
        if not ("--from" in opts and "--to" in opts and os.environ.get("AWS_ENDPOINT_URL")):
            sys.exit("usage: stack.py redrive-dlq [--from DLQ_URL --to QUEUE_URL] (with AWS_ENDPOINT_URL)")
        source, destination, endpoint = opts["--from"], opts["--to"], os.environ["AWS_ENDPOINT_URL"]
    else:
        env = read_env(Path(os.environ.get("STACK_DIR", LOCAL)) / "dev.env")
        with urllib.request.urlopen(f"{env['CONTROL_URL']}/queues", timeout=30) as response:
            queues = json.load(response)
        source, destination = queues["SyncDeadLetterQueue"]["url"], queues["SyncQueue"]["url"]
        endpoint = env["AWS_ENDPOINT_URL"]
    moved = redrive(aws_session().client("sqs", endpoint_url=endpoint), source, destination)
    print(f"moved {moved} dead-lettered job(s) from {source} to {destination}")
    return 0


def cmd_events():
    """Follows the events the running `make dev` received, one JSON line each."""
    path = Path(os.environ.get("STACK_DIR", LOCAL)) / "events.jsonl"
    path.touch()
    with open(path) as f:
        try:
            while True:
                line = f.readline()
                if not line:
                    time.sleep(0.3)
                    continue
                e = json.loads(line)
                print(f"{e.get('time')} {e.get('detail-type'):<28} {json.dumps(e.get('detail'))}", flush=True)
        except KeyboardInterrupt:
            return 0


class Browser:
    """The user's browser against a running `make dev`: no automatic redirects, so each hop of
    the OAuth flow is seen, and the simulator's pages are submitted as a person would. It keeps
    the connector's cookies as a browser does for `localhost` (a secure context, so `Secure`
    cookies are kept over plain HTTP): by name, sent back on the paths they were set for."""

    def __init__(self):
        self.env = read_env(Path(os.environ.get("STACK_DIR", LOCAL)) / "dev.env")
        self.cookies = {}

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args):
                return None

        self.opener = urllib.request.build_opener(NoRedirect)

    def call(self, url, data=None, headers=None, method=None):
        headers = dict(headers or {})
        split = urllib.parse.urlsplit(url)
        if url.startswith(self.env["BASE_URL"]):
            sent = [f"{n}={v}" for n, (v, path) in self.cookies.items() if split.path.startswith(path)]
            if sent:
                headers["Cookie"] = "; ".join(sent)
        try:
            response = self.opener.open(urllib.request.Request(url, data=data, headers=headers, method=method),
                                        timeout=60)
        except urllib.error.HTTPError as e:
            response = e
        if url.startswith(self.env["BASE_URL"]):
            for raw in response.headers.get_all("Set-Cookie") or []:
                pair, *attributes = [p.strip() for p in raw.split(";")]
                name, _, value = pair.partition("=")
                attrs = {a.partition("=")[0].lower(): a.partition("=")[2] for a in attributes}
                if value and attrs.get("max-age") != "0":
                    self.cookies[name] = (value, attrs.get("path", "/"))
                else:
                    self.cookies.pop(name, None)
        return response

    def api_post(self, path, body, expect=201):
        r = self.call(f"{self.env['BASE_URL']}{path}", json.dumps(body).encode(),
                      {"Authorization": f"Bearer {self.env['API_KEY']}", "Content-Type": "application/json"}, "POST")
        answer = json.loads(r.read())
        if r.status != expect:
            sys.exit(f"POST {path}: {r.status} {answer}")
        return answer

    def submit(self, page, fields):
        flow = re.search(r'name="flow" value="([^"]*)"', page).group(1).replace("&amp;", "&")
        action = re.search(r'action="([^"]*)"', page).group(1).replace("&amp;", "&")
        form = urllib.parse.urlencode({"flow": flow, **fields}).encode()
        return self.call(action, form, {"Content-Type": "application/x-www-form-urlencoded"}, "POST")

    def sign_in(self, url, login):
        """Microsoft's sign-in and consent page, accepted; then the redirects back to the app.
        Prints where the browser lands and its query as NAME=value lines."""
        back = self.submit(self.call(url).read().decode(), {"login": login, "action": "accept"})
        if back.status == 200:
            # One of Entra's approval pages ("Need admin approval": the tenant's consent setting
            # blocks the user; an admin consents first: `make admin-consent`). The user returns
            # to the app without granting consent.
            page = back.read().decode()
            print(f"Microsoft shows: {re.search(r'<h1>([^<]*)</h1>', page).group(1)}")
            back = self.submit(page, {"action": "return"})
        landing = self.call(back.headers["Location"])
        where = landing.headers.get("Location")
        if landing.status != 302 or not where:
            sys.exit(f"the callback answered {landing.status}: {landing.read().decode()}")
        print(f"the browser lands on {where}")
        landed = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(where).query))
        for k, v in landed.items():
            print(f"{k.upper()}={v}")
        return landed


def cmd_connect():
    """Plays the user's browser through the connect flow of a running `make dev`:
    `stack.py connect ADDRESS [APP_USER]`. Prints the page the browser lands on."""
    if len(sys.argv) < 3:
        sys.exit("usage: stack.py connect ADDRESS [APP_USER]")
    login = sys.argv[2]
    user = sys.argv[3] if len(sys.argv) > 3 else login.split("@")[0]
    browser = Browser()
    started = browser.api_post("/connections", {"user_id": user, "return_url": browser.env["RETURN_URL"],
                                                "login_hint": login})
    # The start URL sets the browser's binding cookie and sends it on to Microsoft.
    opened = browser.call(started["start_url"])
    if opened.status != 302:
        sys.exit(f"the start URL answered {opened.status}: {opened.read().decode()}")
    landed = browser.sign_in(opened.headers["Location"], login)
    if "result" not in landed:
        return 1
    # What the app's return page does, server-side, in the session of the logged-in user.
    claimed = browser.api_post("/connections/claims", {"result": landed["result"], "user_id": user}, expect=200)
    connection = claimed["connection"]
    print(f"the app claimed the result for its user {user}:")
    print(f"CONNECTION_ID={connection['id']}")
    print(f"STATUS={connection['status']}")
    return 0


def cmd_admin_consent():
    """Plays a tenant administrator granting consent for the whole tenant, as the app starts it
    with `POST /admin-consents`, naming the tenant by the administrator's own domain:
    `stack.py admin-consent ADMIN_ADDRESS`."""
    if len(sys.argv) < 3:
        sys.exit("usage: stack.py admin-consent ADMIN_ADDRESS")
    login = sys.argv[2]
    browser = Browser()
    domain = login.split("@")[-1]
    started = browser.api_post("/admin-consents", {"tenant": domain, "return_url": browser.env["RETURN_URL"]})
    browser.sign_in(started["consent_url"], login)
    return 0


def cmd_serve():
    """Starts moto + the simulator on free ports, provisions, writes `.local/<name>.env` (export
    lines, for `source`) and keeps running until killed: a private stack for iterating on tests."""
    name = sys.argv[2] if len(sys.argv) > 2 else "serve"
    LOCAL.mkdir(exist_ok=True)
    procs = Processes()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    log = open(LOCAL / f"{name}.log", "wb")
    try:
        env, sim = private_stack(procs, log, name)
        env["EVENTS_API_KEY"] = EVENTS_API_KEY
        env.update(sim)
        (LOCAL / f"{name}.env").write_text("".join(f"export {k}='{v}'\n" for k, v in env.items()))
        print(f"stack {name} up; source .local/{name}.env", flush=True)
        while not procs.dead():
            time.sleep(1)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        procs.stop()
        log.close()


def cmd_bench():
    """Runs one benchmark command against a private stack that lives only for it."""
    command = sys.argv[2]
    LOCAL.mkdir(exist_ok=True)
    procs = Processes()
    log = open(LOCAL / "bench-stack.log", "wb")
    try:
        env, sim = private_stack(procs, log, "bench")
        env["EVENTS_API_KEY"] = EVENTS_API_KEY
        env.update(sim)
        return subprocess.run(command, shell=True, cwd=ROOT, env=dict(os.environ, **env)).returncode
    finally:
        procs.stop()
        log.close()

# ---------------------------------------------------------------- cold starts
# Each function's first invocation after a cold start: a representative event of events/, one
# that authenticates, reads the table and answers (against the private local stack).
COLD_START_EVENTS = {
    "connections": "events/connections/list-success.json",
    "oauth": "events/oauth/callback-bad-unknown-state.json",
    "send-mail": "events/send-mail/send-unknown-not-found.json",
    "send-worker": "events/send-worker/job-unknown-send.json",
    "scheduling": "events/scheduling/free-busy-unknown-not-found.json",
    "graph-webhook": "events/graph-webhook/notifications-success.json",
    "mail-sync": "events/mail-sync/jobs-batch.json",
    "subscription-renewal": "events/subscription-renewal/schedule.json",
    "scheduling-page": "events/scheduling-page/show-unknown-link-not-found.json",
    "docs": "events/docs/openapi-success.json",
}
# The floor: a lambda_http hello world built with the same profile (tests/bare-lambda).
BARE = "bare-lambda"
# Each init step timed in a fresh process (tests/init-steps): where the time beyond BARE goes.
STEPS = "init-steps"
# The step of each client a function's main.rs can name (`.with_sqs()`, ...).
CLIENT_STEPS = {"sqs": "sqs_client", "secrets_manager": "secrets_manager_client",
                "eventbridge": "eventbridge_client", "s3": "s3_client"}
BARE_EVENT = "events/connections/list-success.json"
# Lambda gives a function one vCPU at 1,769 MB and a share in proportion below it
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
LAMBDA_MB_PER_VCPU = 1769
CGROUP_CPU = Path("/sys/fs/cgroup/cpu")


def percentile(values, q):
    """The q-th percentile (0-100) by linear interpolation between the closest ranks."""
    v = sorted(values)
    if not v:
        return None
    k = (len(v) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def proc_status(pid, field):
    """A `/proc/<pid>/status` figure in kB (VmHWM: the peak resident set so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def proc_cpu_ms(pid):
    """CPU time the process's threads have used, in ms (schedstat's nanoseconds: /proc/<pid>/stat
    counts in 10 ms ticks, coarser than one invocation)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended meanwhile
    return total / 1e6


def cpu_share_cgroup(memory_mb):
    """A cgroup (v1 `cpu`) that caps its processes at Lambda's vCPU share for `memory_mb`, and the
    launcher that starts a binary inside it; None where cgroups cannot be written (say so)."""
    path = CGROUP_CPU / f"m365-cold-start-{memory_mb}"
    try:
        path.mkdir(exist_ok=True)
        # A 20 ms period (the default is 100 ms; the kernel allows quotas from 1 ms, so 128 MB
        # needs >= 14 ms) spreads the throttling finely, so a 5 ms init
        # is not stopped for most of 100 ms at once by a quota used up in the same period.
        period = 20_000
        (path / "cpu.cfs_quota_us").write_text("-1")
        (path / "cpu.cfs_period_us").write_text(str(period))
        (path / "cpu.cfs_quota_us").write_text(str(max(1000, period * memory_mb // LAMBDA_MB_PER_VCPU)))
    except OSError:
        return None
    # The shell moves itself into the cgroup, then becomes the binary: init runs capped too.
    return ["sh", "-c", f'echo $$ > {path}/cgroup.procs && exec "$0"']


def cold_start_once(spec, env, binary, procs, logs, payload, warm_runs=1, launcher=()):
    """Starts `binary` as a fresh sandbox, waits for its first `invocation/next` (init), invokes it
    with `payload` (first invocation), then `warm_runs` times again; returns the figures."""
    function = LocalFunction(spec, env, procs, logs, binary=binary, launcher=launcher)
    sandbox = function.sandboxes[0]
    try:
        if not sandbox.ready.wait(60):
            raise RuntimeError(f"{spec['binary']} did not ask for an invocation within 60 s; see {function.log_path}")
        init_ms = (sandbox.first_next_at - sandbox.started_at) * 1000
        pid = sandbox.proc.pid
        cpu_at_ready = proc_cpu_ms(pid)
        t = time.perf_counter()
        ok, body = function.invoke(payload)
        first_ms = (time.perf_counter() - t) * 1000
        if not ok:
            raise RuntimeError(f"{spec['binary']}: the first invocation failed: {body}")
        cpu_after_first = proc_cpu_ms(pid)
        warm = []
        for _ in range(warm_runs):
            t = time.perf_counter()
            ok, body = function.invoke(payload)
            warm.append((time.perf_counter() - t) * 1000)
            if not ok:
                raise RuntimeError(f"{spec['binary']}: a warm invocation failed: {body}")
        return {
            "init_ms": init_ms,
            "first_ms": first_ms,
            "warm_ms": warm,
            "init_cpu_ms": cpu_at_ready,
            "first_cpu_ms": cpu_after_first - cpu_at_ready,
            "warm_cpu_ms": (proc_cpu_ms(pid) - cpu_after_first) / max(1, warm_runs),
            "peak_rss_kb": proc_status(pid, "VmHWM"),
        }
    finally:
        function.stop()
        if sandbox.proc is not None:
            procs.kill(sandbox.proc)
        function.log.close()


def relative_relocations(path):
    """Entries of an ELF64 binary's `.rela.dyn` (on x86_64 and arm64 Rust binaries almost all
    R_*_RELATIVE): what the loader applies at exec before `main`."""
    import struct
    data = Path(path).read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_at = sections[shstrndx][4]
    for name, kind, _, _, _, size, _, _, _, entsize in sections:
        end = data.index(b"\0", names_at + name)
        if data[names_at + name:end] == b".rela.dyn" and entsize:
            return size // entsize
    return 0


def init_steps_of(function, step_ms):
    """The init steps `function`'s main.rs takes, with their times: the bare binary none; a
    function that builds AWS clients tracing, the SDK configuration, DynamoDB, the clients it
    names and the connector."""
    if function == BARE:
        return {}
    main = (ROOT / "functions" / function / "src" / "main.rs").read_text()
    if "AwsClients::from_env" not in main:
        return {"tracing": step_ms["tracing"]} if "telemetry::init" in main else {}
    named = ["tracing", "sdk_config", "dynamodb_client", "connector"]
    named += [step for client, step in CLIENT_STEPS.items() if f".with_{client}()" in main]
    return {k: step_ms[k] for k in named}


def cmd_cold_start():
    """`make bench-cold-start`: each function's release binary started fresh N times behind the
    local Runtime API (LocalFunction, as `make dev` runs them), against a private local stack.

        stack.py cold-start [--runs N] [--bin-dir DIR] [--no-build] [--memory] [--json PATH]

    Prints per function: binary size, init (exec to the first `invocation/next`: median, p90), its
    ratio to the bare lambda_http binary's median, the first invocation, a warm one, peak RSS.
    `--memory` adds, per function, a sandbox capped at Lambda's CPU share of 128, 256 and 512 MB
    (a cgroup CPU quota). Figures go to .local/bench/cold-start.json for scripts/cost.py."""
    args = sys.argv[2:]

    def option(name, default):
        return args[args.index(name) + 1] if name in args else default

    runs = int(option("--runs", 20))
    out_path = Path(option("--json", LOCAL / "bench" / "cold-start.json"))
    template = load_template()
    specs = {spec["binary"]: spec for spec in function_specs(template)}
    names = sorted(specs)
    missing = [n for n in names if n not in COLD_START_EVENTS]
    if missing:
        sys.exit(f"no cold-start event for {', '.join(missing)}: add one to COLD_START_EVENTS")
    bin_dir = Path(option("--bin-dir", target_dir() / "release"))
    if "--no-build" not in args and "--bin-dir" not in args:
        build = ["cargo", "build", "--release", *[a for n in names + [BARE, STEPS] for a in ("-p", n)]]
        print("building release binaries for this host:", " ".join(build), flush=True)
        subprocess.run(build, cwd=ROOT, check=True)
    specs[BARE] = {"binary": BARE, "timeout": 10, "memory": 128, "http": [], "sqs": [], "schedules": []}
    events = dict(COLD_START_EVENTS, **{BARE: BARE_EVENT})
    payloads = {n: json.loads((ROOT / events[n]).read_text()) for n in events}

    LOCAL.mkdir(exist_ok=True)
    logs = LOCAL / "bench" / "cold-start-logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs = Processes()
    log = open(LOCAL / "bench-stack.log", "wb")
    try:
        env, sim = private_stack(procs, log, "coldstart")
        env = dict(os.environ, **env)
        order = [BARE] + names
        results = {n: [] for n in order}
        # Rounds, each starting every binary once in a fresh order: the load of whatever else
        # runs on the machine falls on every function alike.
        rng = __import__("random").Random(16)
        for r in range(runs):
            for name in rng.sample(order, len(order)):
                results[name].append(cold_start_once(specs[name], env, bin_dir / name, procs, logs, payloads[name]))
            print(f"round {r + 1}/{runs}", end="\r", file=sys.stderr, flush=True)
        memory = {}
        if "--memory" in args:
            for mb in (128, 256, 512):
                launcher = cpu_share_cgroup(mb)
                if launcher is None:
                    print(f"cgroup {CGROUP_CPU} is not writable: no CPU-share figures", flush=True)
                    break
                for name in order:
                    memory.setdefault(name, {})[mb] = [
                        cold_start_once(specs[name], env, bin_dir / name, procs, logs, payloads[name],
                                        warm_runs=10, launcher=launcher) for _ in range(3)]
                (CGROUP_CPU / f"m365-cold-start-{mb}").rmdir()
        steps = [json.loads(subprocess.run([str(bin_dir / STEPS)], env=env, check=True,
                                           capture_output=True, text=True).stdout.splitlines()[-1])
                 for _ in range(runs)]
    finally:
        procs.stop()
        log.close()

    def med(name, key, rows=None):
        return statistics.median(x[key] for x in (rows or results[name]))

    bare_init = med(BARE, "init_ms")
    arm64 = target_dir() / "lambda"
    table = []
    for name in order:
        rows = results[name]
        inits = [x["init_ms"] for x in rows]
        warm = [w for x in rows for w in x["warm_ms"]]
        table.append({
            "function": name,
            "size_bytes": (bin_dir / name).stat().st_size,
            "arm64_size_bytes": (arm64 / name / "bootstrap").stat().st_size if (arm64 / name / "bootstrap").exists() else None,
            "init_ms_median": statistics.median(inits),
            "init_ms_p90": percentile(inits, 90),
            "init_ratio_to_bare": statistics.median(inits) / bare_init,
            "first_invocation_ms_median": med(name, "first_ms"),
            "warm_invocation_ms_median": statistics.median(warm),
            "init_cpu_ms_median": med(name, "init_cpu_ms"),
            "first_invocation_cpu_ms_median": med(name, "first_cpu_ms"),
            "warm_invocation_cpu_ms_median": med(name, "warm_cpu_ms"),
            "peak_rss_mb_max": max(x["peak_rss_kb"] for x in rows) / 1024,
            "memory": {str(mb): {
                "init_ms_median": med(name, "init_ms", m),
                "first_invocation_ms_median": med(name, "first_ms", m),
                "warm_invocation_ms_median": statistics.median(w for x in m for w in x["warm_ms"]),
                "warm_per_second": 1000 / statistics.median(w for x in m for w in x["warm_ms"]),
                "peak_rss_mb_max": max(x["peak_rss_kb"] for x in m) / 1024,
            } for mb, m in memory.get(name, {}).items()},
        })
    step_ms = {k: statistics.median(x[k] for x in steps) for k in steps[0]}
    for row in table:
        row["relative_relocations"] = relative_relocations(bin_dir / row["function"])
        row["init_steps_ms"] = init_steps_of(row["function"], step_ms)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d"), "runs": runs, "host": os.uname().machine,
        "binaries": str(bin_dir), "init_steps_ms": step_ms, "functions": table}, indent=2) + "\n")

    print(f"\nCold starts, {runs} fresh processes each, release binaries for {os.uname().machine} "
          f"in {bin_dir} ({time.strftime('%Y-%m-%d')})\n")
    head = (f"{'function':<22}{'size MB':>8}{'arm64 MB':>9}{'init p50':>9}{'p90':>7}{'x bare':>7}"
            f"{'1st inv':>8}{'warm':>7}{'RSS MB':>7}")
    print(head + "\n" + "-" * len(head))
    for row in table:
        arm = f"{row['arm64_size_bytes'] / 1e6:.1f}" if row["arm64_size_bytes"] else "-"
        print(f"{row['function']:<22}{row['size_bytes'] / 1e6:>8.1f}{arm:>9}{row['init_ms_median']:>8.1f}m"
              f"{row['init_ms_p90']:>6.1f}m{row['init_ratio_to_bare']:>7.2f}{row['first_invocation_ms_median']:>7.1f}m"
              f"{row['warm_invocation_ms_median']:>6.1f}m{row['peak_rss_mb_max']:>7.1f}")
    print("\ntimes in ms (m); init: exec to the first invocation/next; x bare: init median / the bare "
          "lambda_http binary's; 1st inv / warm: event in to response out through the Runtime API "
          "(medians); RSS: peak (VmHWM) after the first and a warm invocation")
    print(f"\nWhere init goes beyond the bare binary ({STEPS}: each step of a function's main timed "
          f"in {runs} fresh processes, medians: "
          + ", ".join(f"{k} {v:.2f}" for k, v in step_ms.items()) + " ms)\n")
    head = f"{'function':<22}{'beyond bare':>12}{'its steps':>10}{'the rest':>9}{'relative relocs':>16}"
    print(head + "\n" + "-" * len(head))
    for row in table:
        beyond = row["init_ms_median"] - bare_init
        mine = sum(row["init_steps_ms"].values())
        print(f"{row['function']:<22}{beyond:>11.2f}m{mine:>9.2f}m{beyond - mine:>8.2f}m"
              f"{row['relative_relocations']:>16,}")
    print("\nits steps: the steps its main.rs takes (tracing, the SDK configuration, its clients, the "
          "connector); the rest: mostly the loader before main (a PIE binary's relative relocations "
          "are applied at exec, and the pages they write are copied)")
    if memory:
        print("\nAt Lambda's CPU share (cgroup quota = MB / 1,769 of one core), 3 sandboxes x 10 warm invocations:\n")
        print(f"{'function':<22}" + "".join(f"{f'{mb} MB init':>13}{'1st':>8}{'warm':>8}{'/s':>6}" for mb in (128, 256, 512)))
        for row in table:
            cells = "".join(f"{m['init_ms_median']:>12.1f}m{m['first_invocation_ms_median']:>7.1f}m"
                            f"{m['warm_invocation_ms_median']:>7.1f}m{m['warm_per_second']:>6.1f}"
                            for m in row["memory"].values())
            print(f"{row['function']:<22}{cells}")
    print(f"\nfigures in {out_path}")
    return 0


def cmd_env():
    env, dev_key, _ = provision(os.environ["AWS_ENDPOINT_URL"], os.environ.get("STACK_PREFIX", "local"))
    env["API_KEY"] = dev_key
    for k, v in env.items():
        print(f"{k}={v}")
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    handlers = {"dev": cmd_dev, "test": cmd_test, "env": cmd_env, "serve": cmd_serve, "bench": cmd_bench,
                "fire": cmd_fire, "events": cmd_events, "connect": cmd_connect, "e2e": run_e2e,
                "admin-consent": cmd_admin_consent, "redrive-dlq": cmd_redrive_dlq, "client": cmd_client,
                "cold-start": cmd_cold_start}
    if command not in handlers:
        sys.exit(f"usage: {sys.argv[0]} dev|test|env|serve [name]|bench 'command'|fire NAME [TIME]|events|connect ADDRESS [USER]|admin-consent ADMIN|redrive-dlq [--from URL --to URL]|e2e|client|cold-start [--runs N] [--memory]")
    sys.exit(handlers[command]())
