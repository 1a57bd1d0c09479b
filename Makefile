# SIMfleet: `make up` runs the whole platform locally, `make test` checks it.
# Both create the virtual environment (.venv) on first use.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PACKAGES := libs/protos libs/runtime libs/devstack services/identity services/netsim services/accounts services/inventory services/billing services/ticketing services/notifications gateway
# The services with an image, all built from the root Dockerfile (SERVICE=<name>, image simfleet/<name>).
SERVICES := identity accounts inventory netsim billing ticketing notifications gateway
PYPROJECTS := $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
LINES ?= 1000000

# The web console (web/): its npm packages from the lockfile, its build, its API types.
WEB_DEPS := web/node_modules/.installed-stamp
WEB_BUILD := web/dist/.built-stamp
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

.PHONY: up seed-scale test lint typecheck protos protos-shipped protos-check web web-api web-api-check web-test bench charts dashboards images clean

$(STAMP): constraints.txt requirements-dev.txt $(PYPROJECTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt \
		$(foreach p,$(PACKAGES),-e $(p))
	@touch $(STAMP)

$(WEB_DEPS): web/package.json web/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		echo "The web console needs Node.js 20 (20.19 or newer) and npm 10 or newer; install Node.js 20.19 or newer with its npm and run make again." >&2; exit 1; }
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' || { \
		echo "The web console needs Node.js 20.19 or newer; this is $$(node --version)." >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Built once, then again only when a file of web/ changes.
$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run --silent build
	@touch $@

## web: build the web console (web/dist), served by the gateway at /
web: $(WEB_BUILD)

## web-api: regenerate the console's API types (web/src/api/schema.d.ts) from the gateway's OpenAPI document
web-api: $(STAMP) $(WEB_DEPS)
	$(BIN)/python tools/gen_web_api.py

web-api-check: $(STAMP) $(WEB_DEPS)
	$(BIN)/python tools/gen_web_api.py --check

web-test: $(WEB_DEPS)
	cd web && npm test --silent

## up: run NATS, the services, and the gateway with the web console on http://127.0.0.1:8080 (Ctrl-C stops all)
up: $(STAMP) $(WEB_BUILD)
	$(BIN)/python -m simfleet_devstack up

## seed-scale: while `make up` runs, a customer (Scale Test LLC) with LINES lines (default 1000000) registered in netsim's HLR
seed-scale: $(STAMP)
	$(BIN)/python -m simfleet_devstack seed-scale --lines $(LINES)

## test: lint, types, contracts, unit, end-to-end and fault tests
test: $(STAMP) lint typecheck protos-check web-api-check web-test $(WEB_BUILD)
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 --dist loadscope --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd protos && ../$(BIN)/buf lint

typecheck: $(STAMP)
	$(BIN)/mypy

## protos: regenerate libs/protos from protos/
protos: $(STAMP)
	$(BIN)/python tools/gen_protos.py >/dev/null

## protos-shipped: record the protos as they are as the contract later changes must not break (buf breaking)
protos-shipped: $(STAMP)
	cd protos && ../$(BIN)/buf build --exclude-source-info -o shipped.binpb

protos-check: $(STAMP)
	$(BIN)/python tools/gen_protos.py --check

## bench: measure sign-ins, a 100,000-line bulk block, line pages, authenticated reads under wrk, rating 1,000,000 usage records and the web console in Chromium (needs wrk and chromium: apt-get install -y wrk chromium; and PostgreSQL on 127.0.0.1:5432); writes docs/BENCHMARKS.md
bench: $(STAMP)
	$(BIN)/python -m simfleet_devstack.bench --output docs/BENCHMARKS.md

## charts: render, lint and validate the Helm charts under default, dev and prod values
charts: $(STAMP)
	$(BIN)/python tools/sync_chart_assets.py --check
	$(BIN)/python tools/charts.py

## dashboards: regenerate deploy/grafana/dashboards/ and the chart's copies
dashboards: $(STAMP)
	$(BIN)/python tools/dashboards.py
	$(BIN)/python tools/sync_chart_assets.py

## images: build simfleet/<service> for every service from the one Dockerfile, and simfleet/console from
## web/Dockerfile (needs Docker with BuildKit)
images:
	for service in $(SERVICES); do \
		docker build --build-arg SERVICE=$$service -t simfleet/$$service . || exit 1; \
	done
	docker build -f web/Dockerfile -t simfleet/console .

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist tools/lighthouse/node_modules
