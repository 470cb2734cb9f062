#!/usr/bin/env bash
# ensure-debian-tools.sh PACKAGE "WHAT NEEDS IT" COMMAND...: some tests need programs that come
# with a Debian package (systemd-analyze and systemd-notify with systemd, a headless browser with
# chromium). Install the package when a command is missing and we are allowed to (root with apt);
# otherwise say which tests will be skipped, and go on.
set -uo pipefail
pkg=$1
what=$2
shift 2
have() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || return 1; done; }
have "$@" && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "$* for $what: installing $pkg" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null 2>&1; }
  have "$@" && exit 0
  echo "could not install $pkg: $what will be skipped" >&2
  exit 0
fi
echo "$* missing and not root with apt: $what will be skipped (install $pkg to run them)" >&2
exit 0
