# Thin wrappers over the npm scripts; every target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup build lint typecheck test demo bench clean

help:
	@echo "make test    install dependencies, build, lint, type-check and run every test against real PostgreSQL"
	@echo "make demo    (arrives with the replication issue) replicate the seed scenario between two PostgreSQL versions"
	@echo "make build   compile all packages"
	@echo "make lint    type-aware ESLint"
	@echo "make bench   performance figures as ratios against anchors (QUICK=1 for a short run)"

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

demo:
	@echo "make demo is not available yet: it arrives with the replication issue (worker, londisted, seed scenario)." >&2
	@exit 2

# QUICK=1 for the short version, BENCH=name1,name2 to pick benchmarks
bench: build
	QUICK=$(QUICK) BENCH=$(BENCH) node bench/dist/run.js

clean:
	npm run clean --if-present
	rm -rf packages/*/dist tests/dist
