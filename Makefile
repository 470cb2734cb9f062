# Thin wrappers over the npm scripts; every target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup matrix-servers upstream-skytools systemd-tools browser test-upstream build lint typecheck test test-faults test-matrix test-upstream-sql demo bench clean install uninstall dist

help:
	@echo "make test    install dependencies, build, lint, type-check and run every test against real PostgreSQL"
	@echo "make demo    replicate the seed scenario from PostgreSQL 13 to 17 with pgqd and londisted, show status and comparisons"
	@echo "make build   compile all packages"
	@echo "make lint    type-aware ESLint"
	@echo "make bench   performance figures as ratios against anchors (QUICK=1 for a short run)"
	@echo "make test-matrix  the seed scenario between PostgreSQL majors 10..18, upgrades and downgrades (MATRIX_PAIRS=all: every pair)"
	@echo "make test-upstream  mixed setups with the real upstream Skytools (Debian packages; part of make test)"
	@echo "make test-upstream-sql DIR='pgq pgq-node pgq-coop londiste-sql'  upstream's own SQL regression suites against our schema (checkouts you fetched)"
	@echo "make test-faults  fault injection on root -> branch -> leaf, 200 faults (FAULTS=n, FAULT_SEED=n to replay)"
	@echo "make install [PREFIX=/usr/local] [SYSCONFDIR=/etc/skytools] [DESTDIR=]  pgqd, londisted, londiste, the SQL, systemd units, example config"
	@echo "make uninstall  remove what make install wrote (the configuration stays)"
	@echo "make dist    npm tarballs of the packages in dist/ (npm install -g: docs/operations.md)"

# npm ci when node_modules is missing or older than the lock file.
node_modules/.package-lock.json: package.json package-lock.json packages/*/package.json tests/package.json tests/harness/package.json bench/package.json
	@[ -n "$(NO_TEST_SERVERS)" ] || bash scripts/ensure-system-postgres.sh
	npm ci --no-audit --no-fund
	@touch $@

setup: node_modules/.package-lock.json

# PostgreSQL 10, 11, 12, 14, 16 and 18 servers for the version matrix (tests/matrix is not a workspace)
tests/matrix/node_modules/.package-lock.json: tests/matrix/package.json tests/matrix/package-lock.json
	npm ci --prefix tests/matrix --no-audit --no-fund
	@touch $@

matrix-servers: tests/matrix/node_modules/.package-lock.json

# Debian's packages of upstream Skytools for tests/interop (skipped, with a note, where they cannot be installed)
upstream-skytools:
	@bash scripts/ensure-upstream-skytools.sh

# systemd-analyze and systemd-notify for tests/packaging and tests/operations, chromium for the status page test
# (each skipped, with a note, where it cannot be installed)
systemd-tools:
	@bash scripts/ensure-debian-tools.sh systemd "the unit verification and service notification tests" systemd-analyze systemd-notify

browser:
	@bash scripts/ensure-debian-tools.sh chromium "the status page test in headless Chromium" chromium

build: setup
	npm run build

typecheck: build
	npx tsc --build --verbose 2>&1 | tail -n 3

lint: build
	npm run lint

test: build lint matrix-servers upstream-skytools systemd-tools browser
	npm test

# only the interop tests against upstream Skytools (also part of make test)
test-upstream: build upstream-skytools
	npm test -- interop/

# every upgrade and downgrade between neighbouring majors and both extremes (18 runs, about 25 minutes);
# MATRIX_PAIRS=all for all 81 source x target pairs, or a list such as MATRIX_PAIRS=10-15,15-10
MATRIX_PAIRS ?= 10-11,11-12,12-13,13-14,14-15,15-16,16-17,17-18,18-17,17-16,16-15,15-14,14-13,13-12,12-11,11-10,10-18,18-10
test-matrix: build matrix-servers
	TEST_TIMEOUT_MS=7200000 PG_MATRIX_PAIRS=$(MATRIX_PAIRS) npm test -- replication/version-matrix

# fault injection, 200 faults in about 20 minutes (make test runs the same suite with 20 faults); FAULT_SEED=n replays a run
FAULTS ?= 200
test-faults: build
	TEST_TIMEOUT_MS=14400000 FAULTS=$(FAULTS) npm test -- faults/

# upstream's regression suites (sql/*.sql, expected/*.out of checkouts of github.com/pgq/pgq, pgq/pgq-node,
# pgq/pgq-coop, pgq/londiste-sql you fetched yourself; nothing of theirs is kept here) against our schema; PG_VERSION=15
test-upstream-sql: build
	@test -n "$(DIR)" || { echo "DIR= one or more upstream checkouts, e.g. make test-upstream-sql DIR='../pgq ../pgq-node ../londiste-sql'"; exit 2; }
	node scripts/upstream-sql.mjs $(DIR)

# PostgreSQL 13 -> 17, the seed scenario with pgqd and londisted, then status and comparisons
demo: build
	node tests/dist/demo/run-demo.js

# QUICK=1 for the short version, BENCH=name1,name2 to pick benchmarks
bench: build upstream-skytools
	QUICK=$(QUICK) BENCH=$(BENCH) node bench/dist/run.js

# make install PREFIX=/usr/local SYSCONFDIR=/etc/skytools (DESTDIR for staging, e.g. a distribution package):
# launchers on BINDIR, the built packages and their production node_modules in LIBDIR, the SQL in DATADIR/schema,
# systemd units and sysusers file, example config in SYSCONFDIR (existing files are never replaced); see docs/operations.md
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc/skytools
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib/skytools-ts
DATADIR ?= $(PREFIX)/share/skytools-ts
DOCDIR ?= $(PREFIX)/share/doc/skytools-ts
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# the node the launchers run (units have a short PATH, so it is written in full)
NODE ?= $(shell command -v node)
INSTALL_ENV = PREFIX='$(PREFIX)' SYSCONFDIR='$(SYSCONFDIR)' DESTDIR='$(DESTDIR)' BINDIR='$(BINDIR)' LIBDIR='$(LIBDIR)' DATADIR='$(DATADIR)' \
	DOCDIR='$(DOCDIR)' SYSTEMDUNITDIR='$(SYSTEMDUNITDIR)' SYSUSERSDIR='$(SYSUSERSDIR)' NODE='$(NODE)'

# installing and packing need no PostgreSQL (only the tests do): a production host gets none from here
install dist: NO_TEST_SERVERS := 1

install: build
	@$(INSTALL_ENV) node scripts/install.mjs install

uninstall:
	@$(INSTALL_ENV) node scripts/install.mjs uninstall

dist: build
	@node scripts/pack.mjs

clean:
	npm run clean --if-present
	rm -rf packages/*/dist tests/dist dist
