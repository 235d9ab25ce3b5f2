#!/usr/bin/env bash
# The score benchmarks on the portfolio `make bench-import` builds (database credo_bench: 10,000
# clients, 1,000,000 invoices), with the real binary:
#   1. `credo score --all`: every client scored, history recorded, cache refreshed (target 60 s);
#   2. cached GET /v1/clients/{id}/score under wrk -t2 -c32 on this machine, wrk included
#      (target 10,000 requests/s). Debian's wrk is installed when absent.
# Expects DATABASE_URL and REDIS_URL pointing at servers that answer (services.sh) and bin/credo.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
duration="${BENCH_WRK_DURATION:-10s}"
export DATABASE_URL="$(echo "$DATABASE_URL" | sed -E 's#/[^/?]+(\?|$)#/credo_bench\1#')"
export CREDO_REDIS_PREFIX="credo-bench-score:"
log="$root/.local/bench/serve-score.log"
mkdir -p "$(dirname "$log")"

. "$root/deploy/local/apt.sh"
command -v wrk >/dev/null || apt_install wrk

./bin/credo migrate >/dev/null 2>&1
counts="$(psql "$DATABASE_URL" -Atc "SELECT (SELECT count(*) FROM clients) || ' clients, ' || (SELECT count(*) FROM invoices) || ' invoices'")"
echo "== credo score --all ($counts)"
./bin/credo score --all 2>/dev/null

key="$(./bin/credo keys create --name bench-score --role sales --replace 2>/dev/null)"
client="$(psql "$DATABASE_URL" -Atc "SELECT client_id FROM clients ORDER BY client_id LIMIT 1")"
CREDO_HTTP_ADDR=127.0.0.1:0 ./bin/credo serve 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
addr=""
for _ in $(seq 100); do
	addr="$(sed -nE 's/.*"msg":"credo serving".*"addr":"([^"]+)".*/\1/p' "$log" | head -1)"
	[ -n "$addr" ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
	sleep 0.1
done
[ -n "$addr" ] || { echo "credo serve did not start" >&2; cat "$log" >&2; exit 1; }
url="http://$addr/v1/clients/$client/score"
curl -sf -o /dev/null -H "Authorization: Bearer $key" "$url" # fills the cache
echo "== cached GET /v1/clients/$client/score: wrk -t2 -c32 -d$duration (request log on, to a file)"
wrk -t2 -c32 -d"$duration" -H "Authorization: Bearer $key" "$url"
