# The two commands: `make dev` runs the whole stack locally, `make test` runs every check.
# Both bootstrap a git-ignored virtualenv (.venv) with the Python tools of requirements.txt
# (moto[server], cargo-lambda, cfn-lint, the API contract's validator, fuzzer and client generator);
# a change of requirements.txt reinstalls them.

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: dev test venv clean build-release lint-template bench-cold-start cost bench-send bench-scheduling bench-webhook bench-forged-webhook bench-sync bench-calendar bench-delete fire events connect admin-consent invoke bench-renewal redrive-dlq client browser

dev: $(STAMP)
	$(PY) scripts/stack.py dev

test: $(STAMP) browser
	$(PY) scripts/stack.py test

# The typed Python client in examples/python-client, regenerated from openapi.yaml (commit it;
# `make test` fails when it differs from what the contract generates).
client: $(STAMP)
	$(PY) scripts/stack.py client

# Headless Chromium and its WebDriver from Debian's packages (root, as on CI): `make test` renders
# GET /docs in it and drives the scheduling page through it (scripts/browser_test.py).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; }

# Against a running `make dev` (another terminal):
#   make admin-consent LOGIN=admin@contoso.example                    a tenant admin consents for the tenant
#   make connect LOGIN=alice@contoso.example [APP_USER=recruiter-1]   the browser's part of connecting
#   make fire FUNCTION=subscription-renewal                           a scheduled function, now
#   make events                                                       follow the events on the bus
#   make redrive-dlq                                                  dead-lettered sync jobs back to the queue
#   make invoke FUNCTION=connections EVENT=events/connections/list-success.json   one sample event
connect: $(STAMP)
	$(PY) scripts/stack.py connect $(LOGIN) $(APP_USER)

admin-consent: $(STAMP)
	$(PY) scripts/stack.py admin-consent $(LOGIN)

fire: $(STAMP)
	$(PY) scripts/stack.py fire $(FUNCTION)

events: $(STAMP)
	$(PY) scripts/stack.py events

redrive-dlq: $(STAMP)
	$(PY) scripts/stack.py redrive-dlq

API_PORT ?= 9000
invoke: $(STAMP)
	$(VENV)/bin/cargo-lambda lambda invoke --invoke-address 127.0.0.1 --invoke-port $(API_PORT) $(FUNCTION) --data-file $(EVENT)

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $(STAMP)

lint-template: $(STAMP)
	$(VENV)/bin/cfn-lint template.yaml

# The functions template.yaml deploys (their `Binary:` properties): the one list of them.
FUNCTIONS := $(shell sed -n 's/^ *Binary: *//p' template.yaml)

# Release binaries for Lambda (arm64); cargo-lambda brings zig for the cross-link. Only the
# deployed functions: the simulator and the bench's bare binary would each add an LTO link.
build-release: $(STAMP)
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/cargo-lambda lambda build --release --arm64 $(addprefix -p ,$(FUNCTIONS))

clean:
	rm -rf $(VENV) .local target target-*

# Benchmarks print figures; they run against a private local stack (moto + simulator).
bench-connect: $(STAMP)
	$(PY) scripts/stack.py bench "cargo test -p integration-tests --test api bench_one_oauth_callback -- --ignored --nocapture"

bench-send: $(STAMP)
	$(PY) scripts/stack.py bench "cargo test -p integration-tests --test api bench_send_mail -- --ignored --nocapture"

bench-scheduling: $(STAMP)
	$(PY) scripts/stack.py bench "cargo test -p integration-tests --test api bench_scheduling -- --ignored --nocapture"

# Optimised, but without the release profile's fat LTO (minutes of linking on 2 cores).
bench-webhook: $(STAMP)
	$(PY) scripts/stack.py bench "CARGO_PROFILE_BENCH_LTO=false CARGO_PROFILE_BENCH_CODEGEN_UNITS=16 cargo bench -p graph-webhook --bench webhook"

# One forged 1 MB POST to the public notification URL: DynamoDB calls and time, before and now.
bench-forged-webhook: $(STAMP)
	$(PY) scripts/stack.py bench "cargo test -p integration-tests --test api bench_forged_webhook -- --ignored --nocapture"

bench-sync: $(STAMP)
	$(PY) scripts/stack.py bench "cargo test -p integration-tests --test api bench_sync_backfill -- --ignored --nocapture"

# 2,000 calendar instances (ten daily series) backfilled through calendarView/delta.
bench-calendar: $(STAMP)
	$(PY) scripts/stack.py bench "cargo test -p integration-tests --test api bench_calendar_backfill -- --ignored --nocapture"

# 100,000 connections and 200,000 subscriptions written into a private table, then one sweep.
bench-renewal: $(STAMP)
	$(PY) scripts/stack.py bench "cargo test -p integration-tests --test api bench_renewal -- --ignored --nocapture"

bench-delete: $(STAMP)
	$(PY) scripts/stack.py bench "cargo test -p integration-tests --test api bench_delete -- --ignored --nocapture"

# Each function's release binary (this host's target) started fresh N times behind the local
# Lambda Runtime API: size, init, first invocation, peak RSS, beside a bare lambda_http binary.
# RUNS=20 by default; MEMORY=1 adds runs capped at Lambda's CPU share of 128/256/512 MB.
RUNS ?= 20
bench-cold-start: $(STAMP)
	$(PY) scripts/stack.py cold-start --runs $(RUNS) $(if $(MEMORY),--memory)

# The monthly cost per 1,000 mailboxes, from the benchmarks' call counts (README, Performance).
cost: $(STAMP)
	$(PY) scripts/cost.py

bench-send-memory: $(STAMP)
	$(PY) scripts/stack.py bench "cargo test -p integration-tests --test api bench_send_path_peak_memory -- --ignored --nocapture"
