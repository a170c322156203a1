# KubeAIRunway — the two set-up commands are `make demo` and `make test` (see README.md).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
BIN := target/debug/kubeairunway
DEV_STATE ?= $(HOME)/.local/state/kubeairunway/dev
PORT ?= 3001
DEV_BIN ?= $(HOME)/.cache/kubeairunway/bin/current
# Python CLIs from PyPI, pinned, each in a virtualenv keyed by its version (scripts/pip-tool.sh).
PY_TOOLS_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kubeairunway
# NVIDIA AI Configurator (PyPI `aiconfigurator`).
AICONFIGURATOR_VERSION ?= 0.12.0
AICONFIGURATOR_BIN := $(PY_TOOLS_CACHE)/aiconfigurator-$(AICONFIGURATOR_VERSION)/bin/aiconfigurator
# schemathesis (PyPI, pinned), the API fuzzer of crates/server/tests/schemathesis.rs.
SCHEMATHESIS_VERSION ?= 4.32.5
SCHEMATHESIS_BIN := $(PY_TOOLS_CACHE)/schemathesis-$(SCHEMATHESIS_VERSION)/bin/st
NPM ?= npm
# Browser tests use Debian's Chromium; no browser is ever downloaded.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all testbin aiconfigurator schemathesis build crds manifests fmt-check lint release-deps test test-unit demo demo-down bench \
	clean-testbin web-deps web-check web-build headlamp-deps headlamp-check chromium image image-offline image-tools \
	stress stress-api stress-props stress-faults

all: build

## Build the real control-plane binaries (etcd, kube-apiserver, kube-controller-manager,
## kube-scheduler, kubectl, KWOK, helm) from the Go module proxy; cached by version.
testbin:
	scripts/build-testbin.sh >/dev/null

## NVIDIA's AI Configurator CLI (`/api/aiconfigurator`) from PyPI into a virtualenv under
## ~/.cache/kubeairunway, reused while the version stays the same.
aiconfigurator:
	AICONFIGURATOR_VERSION=$(AICONFIGURATOR_VERSION) KAIR_CACHE=$(PY_TOOLS_CACHE) scripts/aiconfigurator.sh >/dev/null

## schemathesis, which fuzzes the API from its OpenAPI document, into a virtualenv likewise.
schemathesis:
	SCHEMATHESIS_VERSION=$(SCHEMATHESIS_VERSION) KAIR_CACHE=$(PY_TOOLS_CACHE) scripts/schemathesis.sh >/dev/null

## The binary, with the web UI embedded and the local demo cluster (`kubeairunway dev`, the
## `dev` feature). Release builds and the container image leave `dev` out.
build: web-build
	$(CARGO) build --locked -p kubeairunway --features dev

## JavaScript dependencies of the web UI and the shared client (npm workspaces), installed
## exactly as locked; reinstalled only when the lock file changes.
node_modules/.package-lock.json: package-lock.json
	$(NPM) ci --no-audit --no-fund

web-deps: node_modules/.package-lock.json

## Web UI checks: the generated API client matches crates/server/openapi.json, strict types,
## lint, unit tests.
web-check: web-deps
	$(NPM) run check
	$(NPM) run typecheck
	$(NPM) run lint
	$(NPM) test

## The production UI in web/dist (embedded by the server), held to its size budget.
web-build: web-deps
	$(NPM) run build
	$(NPM) run size

## The Headlamp plugin's own install (plugins/headlamp/package-lock.json), outside the npm
## workspaces: its tooling pins React 18, MUI 5, vite 6 and vitest 3 (docs/headlamp.md). Its
## `@kubeairunway/shared` is linked from packages/shared, whose openapi-fetch the root install
## provides.
plugins/headlamp/node_modules/.package-lock.json: plugins/headlamp/package-lock.json
	cd plugins/headlamp && $(NPM) ci --no-audit --no-fund

headlamp-deps: web-deps plugins/headlamp/node_modules/.package-lock.json

## Budget of the plugin's bundle (dist/main.js; Headlamp supplies React, MUI and its components).
HEADLAMP_BUDGET ?= 100000

## Headlamp plugin checks with its own tooling: types (`headlamp-plugin tsc`, strict), lint,
## the production build, held to its size budget. Its tests run against the real backend in
## crates/cli/tests/headlamp.rs (`cargo test`).
headlamp-check: headlamp-deps
	cd plugins/headlamp && npx --no-install headlamp-plugin tsc
	cd plugins/headlamp && npx --no-install headlamp-plugin lint
	cd plugins/headlamp && npx --no-install headlamp-plugin build
	@size=$$(wc -c < plugins/headlamp/dist/main.js); \
	  echo "plugins/headlamp/dist/main.js: $$size bytes (budget $(HEADLAMP_BUDGET))"; \
	  test "$$size" -le $(HEADLAMP_BUDGET) || { echo "error: the Headlamp plugin is over its size budget"; exit 1; }

## Headless Chromium for the browser tests: Debian's package.
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

## Regenerate the committed CRD manifests, the Helm chart's copy of them and the plain manifests
## rendered from the chart (tests fail when any is stale).
crds:
	$(CARGO) run --locked -q -p kubeairunway -- crds --output-dir deploy/crds
	cp deploy/crds/*.kubeairunway.ai.yaml deploy/helm/kubeairunway/crds/
	$(MAKE) manifests

## deploy/manifests/kubeairunway.yaml from the Helm chart, with the pinned helm.
manifests: testbin
	HELM=$(DEV_BIN)/helm scripts/render-manifests.sh

## buildah (image builds) and runc (the image test runs the image with it): Debian's packages.
image-tools:
	@command -v buildah >/dev/null && command -v runc >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq buildah runc; }

IMAGE ?= kubeairunway:$(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

## The container image from the Dockerfile, every stage (needs a container registry for the
## base images): buildah, else podman, else docker.
image:
	scripts/image.sh build $(IMAGE)

## The image on a machine without a container registry (this CI): the builder stages' commands
## run on the host (web UI, release binary, pinned helm), the Dockerfile's runtime stage runs
## in buildah on a base assembled from Debian's files; prints the size (docs/install.md).
image-offline: testbin web-build image-tools
	$(CARGO) build --locked --release -p kubeairunway
	scripts/image.sh offline target/release/kubeairunway $(DEV_BIN)/helm $(IMAGE)-offline

fmt-check:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --locked --workspace --all-targets --all-features -- -D warnings

## The shipped binary links no test harness: without the `dev` feature, `kubeairunway` does not
## depend on kubeairunway-testenv (simulated operators, local HuggingFace Hub, chart repository).
release-deps:
	@if $(CARGO) tree --locked -p kubeairunway -e normal,build --prefix none | grep -q '^kubeairunway-testenv '; then \
	  echo "error: the release binary depends on kubeairunway-testenv"; exit 1; fi
	@$(CARGO) tree --locked -p kubeairunway -e normal,build --features dev --prefix none | grep -q '^kubeairunway-testenv ' \
	  || { echo "error: the dev feature no longer brings the demo cluster"; exit 1; }
	@echo "release binary: no test harness linked"

## Formatting, lints, unit tests, web UI and Headlamp plugin checks, and integration and browser tests on a real
## local control plane, the Helm chart (lint, template, install) and the container image
## (built with buildah, run with runc), and the real AI Configurator CLI through the API.
test: testbin aiconfigurator schemathesis fmt-check release-deps web-check web-build headlamp-check chromium image-tools lint
	AICONFIGURATOR_PATH=$(AICONFIGURATOR_BIN) SCHEMATHESIS_PATH=$(SCHEMATHESIS_BIN) $(CARGO) test --locked --workspace --all-features

## Build everything, start the local demo cluster (simulated GPU nodes, simulated KAITO/Dynamo/
## KubeRay operators, the controller), deploy one model per provider, and serve the dashboard
## (with the pinned, locally built helm for Settings → Runtimes, and AI Configurator on the
## deploy page once `make aiconfigurator` has installed it).
demo: testbin build
	KAIR_DEV_STATE_DIR=$(DEV_STATE) $(BIN) dev up --controller
	KUBECONFIG=$(DEV_STATE)/kubeconfig $(DEV_BIN)/kubectl apply -f docs/examples/demo/
	@echo
	@echo "  KubeAIRunway: http://127.0.0.1:$(PORT)/"
	@echo "  deployments:  KUBECONFIG=$(DEV_STATE)/kubeconfig $(DEV_BIN)/kubectl get md   (one per provider, reaching Running)"
	@echo "  kubectl:      eval \"\$$($(BIN) dev env --state-dir $(DEV_STATE))\" && kubectl get nodes"
	@echo "  stop:         Ctrl-C, then 'make demo-down'"
	@echo
	KUBECONFIG=$(DEV_STATE)/kubeconfig HELM_PATH=$(DEV_BIN)/helm AICONFIGURATOR_PATH=$(AICONFIGURATOR_BIN) $(BIN) serve --port $(PORT)

demo-down:
	$(BIN) dev down --state-dir $(DEV_STATE)

## Long forms of the reliability suites (docs/reliability.md); `make test` runs their short forms.
stress: stress-api stress-props stress-faults

## Generated API requests from the OpenAPI document (schemathesis), at least 10,000 of them.
stress-api: testbin schemathesis
	SCHEMATHESIS_PATH=$(SCHEMATHESIS_BIN) SCHEMATHESIS_EXAMPLES=100 \
	  $(CARGO) test --locked -p kubeairunway-server --all-features --test schemathesis -- --nocapture

## Properties of the parsers and rules, at least 10^5 cases each (debug build: already warm, and
## the properties are cheap enough that a release build would cost more than it saves). The
## POST /api/deployments property costs a server-side dry run per case: STRESS_DRY_RUN_CASES of
## them (docs/reliability.md has the figures).
STRESS_DRY_RUN_CASES ?= 100000
stress-props: testbin
	PROPTEST_CASES=100000 $(CARGO) test --locked -p kubeairunway-core --all-features --test props -- --nocapture
	PROPTEST_CASES=100000 $(CARGO) test --locked -p kubeairunway-server --all-features --lib -- ::props::
	PROPTEST_CASES=$(STRESS_DRY_RUN_CASES) $(CARGO) test --locked -p kubeairunway-server --all-features --test deployment_props -- --nocapture

## Fault injection, repeated: the real controller SIGKILLed mid-reconcile in FAULT_ROUNDS rounds of
## 200 deployments (with leader election beside it), then the API-server and etcd outages of
## `serve` OUTAGE_ROUNDS times (the tests of `make test` run each once).
FAULT_ROUNDS ?= 5
OUTAGE_ROUNDS ?= 3
stress-faults: testbin
	FAULT_ROUNDS=$(FAULT_ROUNDS) $(CARGO) test --locked -p kubeairunway --all-features --test faults -- --nocapture
	for round in $$(seq $(OUTAGE_ROUNDS)); do \
	  $(CARGO) test --locked -p kubeairunway-server --all-features --test outage -- --nocapture; \
	done

## Benchmarks (speed and memory targets live here, never in timed tests); see docs/benchmarks.md.
## The backend benchmark drives `kubeairunway serve` with `oha` (pinned; built once into
## ~/.cache/kubeairunway/bin by scripts/load-generator.sh).
bench: testbin
	$(CARGO) build --locked --release -p kubeairunway
	KAIR_BIN=$(CURDIR)/target/release/kubeairunway $(CARGO) bench --locked -p kubeairunway-controller --bench scale
	scripts/load-generator.sh >/dev/null
	KAIR_BIN=$(CURDIR)/target/release/kubeairunway $(CARGO) bench --locked -p kubeairunway-server --bench api
