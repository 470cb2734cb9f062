# Thin wrappers over the npm scripts; every target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup build lint typecheck test test-faults demo bench clean

help:
	@echo "make test    install dependencies, build, lint, type-check and run every test against real PostgreSQL"
	@echo "make demo    replicate the seed scenario from PostgreSQL 13 to 17 with pgqd and londisted, show status and comparisons"
	@echo "make build   compile all packages"
	@echo "make lint    type-aware ESLint"
	@echo "make bench   performance figures as ratios against anchors (QUICK=1 for a short run)"
	@echo "make test-faults  fault injection on root -> branch -> leaf, 200 faults (FAULTS=n, FAULT_SEED=n to replay)"

# npm ci when node_modules is missing or older than the lock file.
node_modules/.package-lock.json: package.json package-lock.json packages/*/package.json tests/package.json tests/harness/package.json bench/package.json
	@bash scripts/ensure-system-postgres.sh
	npm ci --no-audit --no-fund
	@touch $@

setup: node_modules/.package-lock.json

build: setup
	npm run build

typecheck: build
	npx tsc --build --verbose 2>&1 | tail -n 3

lint: build
	npm run lint

test: build lint
	npm test

# fault injection, 200 faults in about 20 minutes (make test runs the same suite with 20 faults); FAULT_SEED=n replays a run
FAULTS ?= 200
test-faults: build
	TEST_TIMEOUT_MS=14400000 FAULTS=$(FAULTS) npm test -- faults/

# PostgreSQL 13 -> 17, the seed scenario with pgqd and londisted, then status and comparisons
demo: build
	node tests/dist/demo/run-demo.js

# QUICK=1 for the short version, BENCH=name1,name2 to pick benchmarks
bench: build
	QUICK=$(QUICK) BENCH=$(BENCH) node bench/dist/run.js

clean:
	npm run clean --if-present
	rm -rf packages/*/dist tests/dist
