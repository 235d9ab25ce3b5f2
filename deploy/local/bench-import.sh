#!/usr/bin/env bash
# The import benchmark: generate a CSV of 1,000,000 invoices for 10,000 clients, import it into a
# fresh database (credo_bench, kept for the other benchmarks) with the real binary, and report
# rows per second. Expects DATABASE_URL pointing at a server that answers (services.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out=.local/bench
invoices="${BENCH_INVOICES:-1000000}"
clients="${BENCH_CLIENTS:-10000}"
admin="$(echo "$DATABASE_URL" | sed -E 's#/[^/?]+(\?|$)#/postgres\1#')"
bench_url="$(echo "$DATABASE_URL" | sed -E 's#/[^/?]+(\?|$)#/credo_bench\1#')"

if [ ! -f "$out/invoices.csv" ] || [ "$(($(wc -l <"$out/invoices.csv") - 1))" != "$invoices" ]; then
	echo "generating $invoices invoices for $clients clients in $out" >&2
	./bin/credo seed demo --out "$out" --clients "$clients" --invoices "$invoices" --seed 7 --end 2026-10-31 >&2
fi
psql "$admin" -qc "DROP DATABASE IF EXISTS credo_bench WITH (FORCE)" -c "CREATE DATABASE credo_bench" >&2
export DATABASE_URL="$bench_url"
./bin/credo migrate >/dev/null 2>&1
./bin/credo import clients --file "$out/clients.ndjson" >&2
echo "== import benchmark: $(du -h "$out/invoices.csv" | cut -f1) CSV, $invoices invoices"
./bin/credo import invoices --file "$out/invoices.csv"
echo "== the same file again (idempotent: everything unchanged)"
./bin/credo import invoices --file "$out/invoices.csv"
