#!/usr/bin/env bash
# The tests use the system PostgreSQL 15 server and its client tools (psql, pgbench).
# They come with the machine; install them only when they are missing and we are allowed to.
set -euo pipefail
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/postgres" ]; then
  exit 0
fi
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/postgres" ] && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL server binaries not found: installing postgresql-15 from Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-client-15 >/dev/null
  exit 0
fi
echo "PostgreSQL 15 server binaries not found: install postgresql-15 (Debian/Ubuntu) and re-run" >&2
exit 1
