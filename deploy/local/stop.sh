#!/usr/bin/env bash
# Stops the private Postgres and Redis that services.sh may have started under .local/.
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
data="$root/.local/pg"
if [ -f "$data/postmaster.pid" ]; then
	bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r | head -1)"
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin/pg_ctl" -D "$data" stop; else "$bin/pg_ctl" -D "$data" stop; fi
fi
redis-cli -p 56379 shutdown nosave 2>/dev/null || true
