# KubeAIRunway — the two set-up commands are `make demo` and `make test` (see README.md).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
BIN := target/debug/kubeairunway
DEV_STATE ?= $(HOME)/.local/state/kubeairunway/dev
PORT ?= 3001

.PHONY: all testbin build crds fmt-check lint test test-unit demo demo-down bench clean-testbin

all: build

## Build the real control-plane binaries (etcd, kube-apiserver, kube-controller-manager,
## kube-scheduler, kubectl, KWOK, helm) from the Go module proxy; cached by version.
testbin:
	scripts/build-testbin.sh >/dev/null

build:
	$(CARGO) build --locked -p kubeairunway

## Regenerate the committed CRD manifests (a test fails when they are stale).
crds:
	$(CARGO) run --locked -q -p kubeairunway -- crds --output-dir deploy/crds

fmt-check:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

## Formatting, lints, unit tests and integration tests on a real local control plane.
test: testbin fmt-check lint
	$(CARGO) test --locked --workspace

## Build everything, start the local demo cluster (simulated GPU nodes) and serve the dashboard.
demo: testbin build
	KAIR_DEV_STATE_DIR=$(DEV_STATE) $(BIN) dev up
	@echo
	@echo "  KubeAIRunway: http://127.0.0.1:$(PORT)/api/cluster/status"
	@echo "  kubectl:      eval \"\$$($(BIN) dev env --state-dir $(DEV_STATE))\" && kubectl get nodes"
	@echo "  stop:         Ctrl-C, then 'make demo-down'"
	@echo
	KUBECONFIG=$(DEV_STATE)/kubeconfig $(BIN) serve --port $(PORT)

demo-down:
	$(BIN) dev down --state-dir $(DEV_STATE)

## Benchmarks (speed and memory targets live here, never in timed tests).
bench:
	@echo "No benchmarks yet: the controller and backend benchmarks arrive with their issues (docs/benchmarks.md)."
