#!/usr/bin/env bash
# tests/packaging checks the systemd units with systemd-analyze verify, and tests/operations has the
# daemons talk to a notify socket through systemd-notify; both come with Debian's systemd package.
# Install it when missing and we are allowed to (root with apt); otherwise say which tests will be
# skipped, and go on.
set -uo pipefail
have() { command -v systemd-analyze >/dev/null 2>&1 && command -v systemd-notify >/dev/null 2>&1; }
have && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "systemd-analyze/systemd-notify for the packaging tests: installing systemd" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends systemd >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends systemd >/dev/null 2>&1; }
  have && exit 0
  echo "could not install systemd: the unit verification and service notification tests will be skipped" >&2
  exit 0
fi
echo "systemd-analyze/systemd-notify missing and not root with apt: the unit verification and service notification tests will be skipped (install systemd to run them)" >&2
exit 0
