#!/usr/bin/env python3
"""The local stack: a moto server provisioned from template.yaml, the Graph simulator, and the
functions under `cargo lambda watch`.

    stack.py dev    run everything until Ctrl-C; write .local/dev.env
    stack.py test   provision on free ports, run every check, stop everything, exit non-zero on failure
    stack.py env    provision a moto server already running at $AWS_ENDPOINT_URL and print the env
    stack.py serve NAME  a private moto + simulator until killed; exports in .local/NAME.env

Resources are created from template.yaml itself (tables, queues, buses, buckets, secrets), and the
functions' environment is template.yaml's Globals with every !Ref resolved to the local resource,
so there is no second hand-kept copy that can drift.
"""
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import yaml

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
VENV_BIN = ROOT / ".venv" / "bin"
REGION = "us-east-1"
# A fixed API key that only the local stack accepts, so the sample events in events/ can carry it.
EVENTS_API_KEY = "local-events-key-not-for-production"


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


def provision(endpoint, prefix, sim=None, public_base_url=None):
    """Creates every stateful resource of template.yaml on the moto server at `endpoint`.
    Returns (function environment, dev API key)."""
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
            {"id": "dev", "sha256": hashlib.sha256(dev_key.encode()).hexdigest()},
            {"id": "events", "sha256": hashlib.sha256(EVENTS_API_KEY.encode()).hexdigest()},
        ]}),
        "TokenKeySecret": json.dumps({"current": "local-1", "keys": {
            "local-1": __import__("base64").b64encode(secrets.token_bytes(32)).decode()}}),
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
            [env.get("ALLOWED_RETURN_ORIGINS", ""), "http://localhost:3000", public_base_url]).strip(",")
    env.update({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    })
    return env, dev_key


# ---------------------------------------------------------------- processes
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


class Processes:
    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        # Own process group, so stopping it also stops whatever it started (cargo -> binary).
        p = subprocess.Popen(args, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def start_moto(procs, port, log):
    p = procs.start([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                    stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/moto-api/", proc=p)
    return url


def start_sim(procs, port, log):
    """Builds and starts the Graph simulator; returns its SIM_* settings from its first lines."""
    subprocess.run(["cargo", "build", "-q", "-p", "graph-sim"], cwd=ROOT, check=True)
    args = ["cargo", "run", "-q", "-p", "graph-sim", "--", "--port", str(port)]
    p = procs.start(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
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
    import threading
    threading.Thread(target=lambda: [log.write(l.encode()) for l in p.stdout], daemon=True).start()
    return sim


def write_env(path, env):
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))


# ---------------------------------------------------------------- commands
def cmd_test():
    LOCAL.mkdir(exist_ok=True)
    procs = Processes()
    failures = []
    started = time.time()
    log = open(LOCAL / "test-stack.log", "wb")
    try:
        endpoint = start_moto(procs, free_port(), log)
        sim = start_sim(procs, free_port(), log)
        env, _ = provision(endpoint, "test", sim, public_base_url="http://127.0.0.1:9")
        write_env(LOCAL / "test.env", env)
        run_env = dict(os.environ, **env, EVENTS_API_KEY=EVENTS_API_KEY)
        steps = [
            ("cargo fmt --check", ["cargo", "fmt", "--all", "--check"]),
            ("cargo clippy", ["cargo", "clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
            ("cargo test", ["cargo", "test", "--workspace"]),
            ("cfn-lint", [str(VENV_BIN / "cfn-lint"), "template.yaml"]),
        ]
        for title, args in steps:
            print(f"==> {title}", flush=True)
            t = time.time()
            rc = subprocess.run(args, cwd=ROOT, env=run_env).returncode
            print(f"<== {title}: {'ok' if rc == 0 else f'FAILED ({rc})'} in {time.time() - t:.0f}s", flush=True)
            if rc != 0:
                failures.append(title)
    finally:
        procs.stop()
        log.close()
    print(f"make test: {'FAILED: ' + ', '.join(failures) if failures else 'all checks passed'}"
          f" in {time.time() - started:.0f}s")
    return 1 if failures else 0


def cmd_dev():
    LOCAL.mkdir(exist_ok=True)
    moto_port = int(os.environ.get("MOTO_PORT", "5055"))
    sim_port = int(os.environ.get("SIM_PORT", "7071"))
    api_port = int(os.environ.get("API_PORT", "9000"))
    if len({moto_port, sim_port, api_port}) != 3:
        sys.exit("MOTO_PORT, SIM_PORT and API_PORT must differ")
    procs = Processes()
    stop = lambda *_: (_ for _ in ()).throw(KeyboardInterrupt)
    signal.signal(signal.SIGTERM, stop)
    try:
        log = open(LOCAL / "dev.log", "ab")
        endpoint = start_moto(procs, moto_port, log)
        base_url = f"http://127.0.0.1:{api_port}"
        sim = None
        if (ROOT / "tests" / "graph-sim" / "src" / "main.rs").exists():
            sim = start_sim(procs, sim_port, log)
        env, dev_key = provision(endpoint, "dev", sim, public_base_url=base_url)
        write_env(LOCAL / "functions.env", env)
        subprocess.run(["cargo", "build", "--workspace", "--bins"], cwd=ROOT, check=True)
        watch = [str(VENV_BIN / "cargo-lambda"), "lambda", "watch", "--invoke-address", "127.0.0.1",
                 "--invoke-port", str(api_port), "--env-file", str(LOCAL / "functions.env")]
        p = procs.start(watch, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                        env=dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}"))
        wait_http(base_url + "/", timeout=120, proc=p)
        dev_env = {"BASE_URL": base_url, "API_KEY": dev_key, "AWS_ENDPOINT_URL": endpoint}
        dev_env.update(sim or {})
        write_env(LOCAL / "dev.env", dev_env)
        print(f"\nLocal stack is up (logs: .local/dev.log)\n  BASE_URL={base_url}\n  API_KEY={dev_key}")
        if sim:
            print(f"  SIM_URL={sim['SIM_URL']}")
        print(f"\nTry: curl -H 'Authorization: Bearer {dev_key}' {base_url}/connections\n"
              "Settings written to .local/dev.env. Ctrl-C stops everything.", flush=True)
        while all(p.poll() is None for p in procs.procs):
            time.sleep(1)
        print("a process of the stack exited; stopping (see .local/dev.log)")
        return 1
    except KeyboardInterrupt:
        print("\nstopping")
        return 0
    finally:
        procs.stop()


def cmd_serve():
    """Starts moto + the simulator on free ports, provisions, writes `.local/<name>.env` (export
    lines, for `source`) and keeps running until killed: a private stack for iterating on tests."""
    name = sys.argv[2] if len(sys.argv) > 2 else "serve"
    LOCAL.mkdir(exist_ok=True)
    procs = Processes()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    log = open(LOCAL / f"{name}.log", "wb")
    try:
        endpoint = start_moto(procs, free_port(), log)
        sim = start_sim(procs, free_port(), log)
        env, _ = provision(endpoint, name, sim, public_base_url="http://127.0.0.1:9")
        env["EVENTS_API_KEY"] = EVENTS_API_KEY
        env.update(sim)
        (LOCAL / f"{name}.env").write_text("".join(f"export {k}='{v}'\n" for k, v in env.items()))
        print(f"stack {name} up; source .local/{name}.env", flush=True)
        while all(p.poll() is None for p in procs.procs):
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
        endpoint = start_moto(procs, free_port(), log)
        sim = start_sim(procs, free_port(), log)
        env, _ = provision(endpoint, "bench", sim, public_base_url="http://127.0.0.1:9")
        env["EVENTS_API_KEY"] = EVENTS_API_KEY
        env.update(sim)
        return subprocess.run(command, shell=True, cwd=ROOT, env=dict(os.environ, **env)).returncode
    finally:
        procs.stop()
        log.close()


def cmd_env():
    env, dev_key = provision(os.environ["AWS_ENDPOINT_URL"], os.environ.get("STACK_PREFIX", "local"))
    env["API_KEY"] = dev_key
    for k, v in env.items():
        print(f"{k}={v}")
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    handlers = {"dev": cmd_dev, "test": cmd_test, "env": cmd_env, "serve": cmd_serve, "bench": cmd_bench}
    if command not in handlers:
        sys.exit(f"usage: {sys.argv[0]} dev|test|env|serve [name]|bench 'command'")
    sys.exit(handlers[command]())
