#!/usr/bin/env bash
# The interop tests (tests/interop) run the real upstream Skytools next to ours: Debian's
# PgQ/pgq_node/londiste extensions for the system PostgreSQL 15, upstream pgqd and the Python
# londiste. Install them when missing and we are allowed to (root with apt); otherwise say that
# the interop suite will be skipped, and go on.
set -uo pipefail
MAJOR=15
PKGS="postgresql-$MAJOR-pgq3 postgresql-$MAJOR-pgq-node postgresql-$MAJOR-londiste-sql pgqd python3-londiste"
have() {
  [ -x /usr/bin/londiste ] && [ -x /usr/bin/pgqd ] &&
    [ -f "/usr/share/postgresql/$MAJOR/extension/pgq.control" ] &&
    [ -f "/usr/share/postgresql/$MAJOR/extension/pgq_node.control" ] &&
    [ -f "/usr/share/postgresql/$MAJOR/extension/londiste.control" ]
}
have && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "upstream Skytools for the interop tests: installing $PKGS" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq $PKGS >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $PKGS >/dev/null 2>&1; }
  have && exit 0
  echo "could not install $PKGS: the interop tests will be skipped" >&2
  exit 0
fi
echo "upstream Skytools not installed and not root with apt: the interop tests will be skipped (install $PKGS to run them)" >&2
exit 0
